// SPDX-License-Identifier: Apache-2.0
//
// Bench top for esp_inbound: the engine plus the esp_replay it shares on the card, with the
// records as flat vectors for the C++ bench and an INIT port that stands in for sa_prep
// (it has priority; its results are dropped here, tagged 1).
`default_nettype none

module esp_inbound_tb #(
  parameter int unsigned Lanes       = 1,
  parameter int unsigned IdxW        = 6,
  parameter int unsigned MaxPktBytes = 9216
) (
  input  logic           clk_i,
  input  logic           rst_i,

  input  logic           job_valid_i,
  output logic           job_ready_o,
  input  logic [4:0]     job_ring_i,
  input  logic [15:0]    job_index_i,
  input  logic [255:0]   job_desc_i,

  output logic           rd_cmd_valid_o,
  input  logic           rd_cmd_ready_i,
  output logic [63:0]    rd_cmd_addr_o,
  output logic [15:0]    rd_cmd_len_o,
  input  logic           rd_valid_i,
  output logic           rd_ready_o,
  input  logic [511:0]   rd_data_i,
  input  logic [6:0]     rd_bytes_i,
  input  logic           rd_last_i,
  input  logic           rd_err_i,

  output logic           wr_cmd_valid_o,
  input  logic           wr_cmd_ready_i,
  output logic [63:0]    wr_cmd_addr_o,
  output logic [15:0]    wr_cmd_len_o,
  output logic           wr_valid_o,
  input  logic           wr_ready_i,
  output logic [511:0]   wr_data_o,
  output logic [6:0]     wr_bytes_o,
  output logic           wr_last_o,
  input  logic           wr_done_valid_i,
  output logic           wr_done_ready_o,
  input  logic           wr_done_err_i,

  output logic           lk_req_valid_o,
  input  logic           lk_req_ready_i,
  output logic [23:0]    lk_req_index_o,
  input  logic           lk_rsp_valid_i,
  output logic           lk_rsp_ready_o,
  input  logic           lk_rsp_sa_valid_i,
  input  logic           lk_rsp_hard_expired_i,
  input  logic [767:0]   lk_rsp_params_i,
  input  logic [255:0]   lk_rsp_key_i,
  input  logic [31:0]    lk_rsp_salt_i,
  input  logic [511:0]   lk_rsp_hpow_i,

  output logic           cnt_valid_o,
  input  logic           cnt_ready_i,
  output logic [23:0]    cnt_index_o,
  output logic [1:0]     cnt_kind_o,
  output logic [15:0]    cnt_bytes_o,
  output logic [63:0]    cnt_seq_o,

  output logic           cpl_valid_o,
  input  logic           cpl_ready_i,
  output logic [4:0]     cpl_ring_o,
  output logic [255:0]   cpl_rec_o,
  output logic           cpl_irq_o,

  // Replay window INIT (sa_prep's role)
  input  logic           init_valid_i,
  output logic           init_ready_o,
  input  logic [IdxW-1:0] init_sa_i,
  input  logic [63:0]    init_seq_i,
  input  logic [10:0]    init_window_i,
  input  logic           init_esn_i
);

  logic            rp_req_valid, rp_req_ready, rp_rsp_valid, rp_rsp_ready;
  logic [1:0]      rp_req_op, rp_rsp_verdict;
  logic [IdxW-1:0] rp_req_sa;
  logic [63:0]     rp_req_seq, rp_rsp_seq;
  ipsec_card_pkg::cpl_t cpl_rec;

  esp_inbound #(.Lanes(Lanes), .IdxW(IdxW), .MaxPktBytes(MaxPktBytes)) u_dut (
    .clk_i, .rst_i,
    .job_valid_i, .job_ready_o, .job_ring_i, .job_index_i,
    .job_desc_i            (ipsec_card_pkg::req_desc_t'(job_desc_i)),
    .rd_cmd_valid_o, .rd_cmd_ready_i, .rd_cmd_addr_o, .rd_cmd_len_o,
    .rd_valid_i, .rd_ready_o, .rd_data_i, .rd_bytes_i, .rd_last_i, .rd_err_i,
    .wr_cmd_valid_o, .wr_cmd_ready_i, .wr_cmd_addr_o, .wr_cmd_len_o,
    .wr_valid_o, .wr_ready_i, .wr_data_o, .wr_bytes_o, .wr_last_o,
    .wr_done_valid_i, .wr_done_ready_o, .wr_done_err_i,
    .lk_req_valid_o, .lk_req_ready_i, .lk_req_index_o,
    .lk_rsp_valid_i, .lk_rsp_ready_o, .lk_rsp_sa_valid_i, .lk_rsp_hard_expired_i,
    .lk_rsp_params_i       (ipsec_card_pkg::sa_params_t'(lk_rsp_params_i)),
    .lk_rsp_key_i, .lk_rsp_salt_i, .lk_rsp_hpow_i,
    .cnt_valid_o, .cnt_ready_i, .cnt_index_o, .cnt_kind_o, .cnt_bytes_o, .cnt_seq_o,
    .rp_req_valid_o        (rp_req_valid),
    .rp_req_ready_i        (rp_req_ready),
    .rp_req_op_o           (rp_req_op),
    .rp_req_sa_o           (rp_req_sa),
    .rp_req_seq_o          (rp_req_seq),
    .rp_rsp_valid_i        (rp_rsp_valid),
    .rp_rsp_ready_o        (rp_rsp_ready),
    .rp_rsp_verdict_i      (rp_rsp_verdict),
    .rp_rsp_seq_i          (rp_rsp_seq),
    .cpl_valid_o, .cpl_ready_i, .cpl_ring_o,
    .cpl_rec_o             (cpl_rec),
    .cpl_irq_o
  );
  assign cpl_rec_o = cpl_rec;

  logic        rpl_in_ready, rpl_out_valid, rpl_out_ready;
  logic [1:0]  rpl_out_op, rpl_out_verdict;
  logic [63:0] rpl_out_seq;
  logic        rpl_out_tag;

  assign init_ready_o = rpl_in_ready;
  assign rp_req_ready = rpl_in_ready && !init_valid_i;

  esp_replay #(.NumSa(1 << IdxW), .WindowBits(1024), .TagW(1)) u_replay (
    .clk_i, .rst_i,
    .in_valid_i    (init_valid_i || rp_req_valid),
    .in_ready_o    (rpl_in_ready),
    .in_op_i       (init_valid_i ? esp_replay_pkg::OpInit : rp_req_op),
    .in_sa_i       (init_valid_i ? init_sa_i : rp_req_sa),
    .in_seq_i      (init_valid_i ? init_seq_i : rp_req_seq),
    .in_window_i   (init_window_i),
    .in_esn_i      (init_esn_i),
    .in_tag_i      (init_valid_i),
    .out_valid_o   (rpl_out_valid),
    .out_ready_i   (rpl_out_ready),
    .out_op_o      (rpl_out_op),
    .out_verdict_o (rpl_out_verdict),
    .out_seq_o     (rpl_out_seq),
    .out_tag_o     (rpl_out_tag)
  );
  assign rp_rsp_valid   = rpl_out_valid && !rpl_out_tag;
  assign rpl_out_ready  = rpl_out_tag || rp_rsp_ready;
  assign rp_rsp_verdict = rpl_out_verdict;
  assign rp_rsp_seq     = rpl_out_seq;

  logic unused_tb;
  assign unused_tb = ^rpl_out_op;

endmodule
