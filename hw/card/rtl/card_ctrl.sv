// SPDX-License-Identifier: Apache-2.0
//
// The card's control plane: the register block (card_regs) joined to the SA table (sa_table).
// Toward the host: the AXI4-Lite BAR. Toward the future datapath: the SA lookup port (parameters
// and keys), the counter-update and sequence-allocation ports, the SA event stream and the
// datapath reset. Toward the future DMA engine: the ring-pair and event-ring registers.
//
// Reset: power-on (rst_i) or CTRL.SOFT_RESET resets sa_table, whose wipe walk zeroes every slot
// (keys included); dp_rst_o stays high from the reset until the walk is done, so the datapath
// restarts with the table. hw/card/doc/theory_of_operation.md has the whole picture.
`default_nettype none

module card_ctrl #(
  parameter int unsigned NumSa             = ipsec_card_pkg::SaCountDefault,
  parameter int unsigned RingPairs         = ipsec_card_pkg::RingPairsDefault,
  parameter int unsigned MaxRingLog2       = ipsec_card_pkg::MaxRingLog2Default,
  parameter int unsigned FetchBurst        = ipsec_card_pkg::FetchBurstDefault,
  parameter int unsigned MaxReplayWindow   = ipsec_card_pkg::MaxReplayWindowDefault,
  parameter int unsigned AesLanes          = ipsec_card_pkg::AesLanesDefault,
  parameter int unsigned DatapathBytesLog2 = ipsec_card_pkg::DatapathBytesLog2Default,
  parameter int unsigned MaxPktBytes       = ipsec_card_pkg::MaxPktBytesDefault,
  parameter int unsigned MinHeadroom       = ipsec_card_pkg::MinHeadroomDefault,
  parameter int unsigned MinTailroom       = ipsec_card_pkg::MinTailroomDefault,
  parameter int unsigned Suites            = ipsec_card_pkg::SuitesDefault,
  parameter int unsigned Features          = ipsec_card_pkg::FeaturesDefault,
  parameter int unsigned BuildId           = ipsec_card_pkg::BuildIdDefault,
  parameter int unsigned BuildDate         = ipsec_card_pkg::BuildDateDefault
) (
  input  logic                     clk_i,
  input  logic                     rst_i,

  // AXI4-Lite slave (the BAR)
  input  logic [15:0]              s_axil_awaddr_i,
  input  logic                     s_axil_awvalid_i,
  output logic                     s_axil_awready_o,
  input  logic [31:0]              s_axil_wdata_i,
  input  logic [3:0]               s_axil_wstrb_i,
  input  logic                     s_axil_wvalid_i,
  output logic                     s_axil_wready_o,
  output logic [1:0]               s_axil_bresp_o,
  output logic                     s_axil_bvalid_o,
  input  logic                     s_axil_bready_i,
  input  logic [15:0]              s_axil_araddr_i,
  input  logic                     s_axil_arvalid_i,
  output logic                     s_axil_arready_o,
  output logic [31:0]              s_axil_rdata_o,
  output logic [1:0]               s_axil_rresp_o,
  output logic                     s_axil_rvalid_o,
  input  logic                     s_axil_rready_i,

  // Global
  output logic                     dp_rst_o,          // datapath reset (power-on, soft, wipe)
  output logic                     enable_o,
  input  logic                     enabled_i,
  input  logic                     fatal_i,
  input  logic                     event_written_i,
  input  logic                     events_lost_i,
  input  logic                     unmatched_inc_i,
  output logic                     irq_o,

  // SA lookup (see sa_table)
  input  logic                     lk_valid_i,
  output logic                     lk_ready_o,
  input  logic [23:0]              lk_index_i,
  output logic                     lk_rsp_valid_o,
  output logic [23:0]              lk_rsp_index_o,
  output logic                     lk_rsp_sa_valid_o,
  output logic                     lk_rsp_hard_expired_o,
  output logic [767:0]             lk_rsp_params_o,
  output logic [255:0]             lk_rsp_key_o,
  output logic [31:0]              lk_rsp_salt_o,
  output logic [511:0]             lk_rsp_hpow_o,     // GHASH key powers (sa_prep)

  // esp_replay INIT for installed / deleted slots (sa_prep)
  output logic                     ri_valid_o,
  input  logic                     ri_ready_i,
  output logic [$clog2(NumSa)-1:0] ri_sa_o,
  output logic [$clog2(MaxReplayWindow):0] ri_window_o,
  output logic                     ri_esn_o,

  // Counter updates
  input  logic                     cnt_valid_i,
  output logic                     cnt_ready_o,
  input  logic [23:0]              cnt_index_i,
  input  logic [1:0]               cnt_kind_i,
  input  logic [15:0]              cnt_bytes_i,
  input  logic [63:0]              cnt_seq_i,

  // Sequence allocation
  input  logic                     seq_valid_i,
  output logic                     seq_ready_o,
  input  logic [23:0]              seq_index_i,
  output logic                     seq_rsp_valid_o,
  output logic [23:0]              seq_rsp_index_o,
  output logic                     seq_rsp_ok_o,
  output logic                     seq_rsp_exhausted_o,
  output logic [63:0]              seq_rsp_seq_o,

  // SA events
  output logic                     ev_valid_o,
  input  logic                     ev_ready_i,
  output logic [7:0]               ev_kind_o,
  output logic [23:0]              ev_sa_index_o,
  output logic                     ev_dir_o,
  output logic [63:0]              ev_info_o,

  // Event ring registers
  output logic [63:0]              evq_base_o,
  output logic [4:0]               evq_size_log2_o,
  output logic                     evq_enable_o,
  output logic                     evq_irq_enable_o,
  output logic [15:0]              evq_cons_o,
  input  logic [15:0]              evq_prod_i,
  input  logic [31:0]              evq_lost_i,

  // Ring-pair registers
  output logic [RingPairs-1:0]     ring_enable_o,
  output logic [RingPairs-1:0]     ring_irq_enable_o,
  output logic [RingPairs*5-1:0]   ring_rq_size_log2_o,
  output logic [RingPairs*5-1:0]   ring_cq_size_log2_o,
  output logic [RingPairs*64-1:0]  ring_rq_base_o,
  output logic [RingPairs*64-1:0]  ring_cq_base_o,
  output logic [RingPairs*16-1:0]  ring_rq_prod_o,
  output logic [RingPairs-1:0]     ring_doorbell_o,
  output logic [RingPairs*16-1:0]  ring_cq_cons_o,
  output logic [RingPairs-1:0]     ring_arm_o,
  output logic [RingPairs*16-1:0]  ring_irq_mod_count_o,
  output logic [RingPairs*16-1:0]  ring_irq_mod_time_us_o,
  input  logic [RingPairs*16-1:0]  ring_rq_cons_i,
  input  logic [RingPairs*16-1:0]  ring_cq_prod_i,
  input  logic [RingPairs-1:0]     ring_active_i,
  input  logic [RingPairs-1:0]     ring_busy_i,
  input  logic [RingPairs-1:0]     ring_error_i,
  input  logic [RingPairs*8-1:0]   ring_error_code_i
);

  logic         soft_rst, table_rst, wiping, tbl_wiping, prep_wiping;
  logic         cmd_valid, cmd_done, cmd_slot_valid, rd_params_valid, rd_cnt_valid;
  logic         tbl_cmd_valid, tbl_done, tbl_slot_valid, lk_hold, tbl_lk_ready;
  logic [7:0]   tbl_result;
  logic [3:0]   cmd_op;
  logic [23:0]  cmd_index;
  logic [767:0] cmd_params, rd_params;
  logic [255:0] cmd_key;
  logic [31:0]  cmd_salt;
  logic [7:0]   cmd_result;
  logic [383:0] rd_cnt;
  logic [2:0]   rd_state;

  assign table_rst = rst_i || soft_rst;
  assign wiping    = tbl_wiping || prep_wiping;
  assign dp_rst_o  = table_rst || wiping;

  card_regs #(
    .NumSa(NumSa), .RingPairs(RingPairs), .MaxRingLog2(MaxRingLog2), .FetchBurst(FetchBurst),
    .MaxReplayWindow(MaxReplayWindow), .AesLanes(AesLanes), .DatapathBytesLog2(DatapathBytesLog2),
    .MaxPktBytes(MaxPktBytes), .MinHeadroom(MinHeadroom), .MinTailroom(MinTailroom),
    .Suites(Suites), .Features(Features), .BuildId(BuildId), .BuildDate(BuildDate)
  ) u_regs (
    .clk_i, .rst_i,
    .s_axil_awaddr_i, .s_axil_awvalid_i, .s_axil_awready_o,
    .s_axil_wdata_i, .s_axil_wstrb_i, .s_axil_wvalid_i, .s_axil_wready_o,
    .s_axil_bresp_o, .s_axil_bvalid_o, .s_axil_bready_i,
    .s_axil_araddr_i, .s_axil_arvalid_i, .s_axil_arready_o,
    .s_axil_rdata_o, .s_axil_rresp_o, .s_axil_rvalid_o, .s_axil_rready_i,
    .soft_rst_o           (soft_rst),
    .enable_o, .enabled_i,
    .table_busy_i         (wiping),
    .fatal_i, .event_written_i, .events_lost_i, .unmatched_inc_i, .irq_o,
    .sa_cmd_valid_o       (cmd_valid),
    .sa_cmd_op_o          (cmd_op),
    .sa_cmd_index_o       (cmd_index),
    .sa_params_o          (cmd_params),
    .sa_key_o             (cmd_key),
    .sa_salt_o            (cmd_salt),
    .sa_cmd_done_i        (cmd_done),
    .sa_cmd_result_i      (cmd_result),
    .sa_cmd_slot_valid_i  (cmd_slot_valid),
    .sa_rd_params_valid_i (rd_params_valid),
    .sa_rd_params_i       (rd_params),
    .sa_rd_cnt_valid_i    (rd_cnt_valid),
    .sa_rd_cnt_i          (rd_cnt),
    .sa_rd_state_i        (rd_state),
    .evq_base_o, .evq_size_log2_o, .evq_enable_o, .evq_irq_enable_o, .evq_cons_o,
    .evq_prod_i, .evq_lost_i,
    .ring_enable_o, .ring_irq_enable_o, .ring_rq_size_log2_o, .ring_cq_size_log2_o,
    .ring_rq_base_o, .ring_cq_base_o, .ring_rq_prod_o, .ring_doorbell_o, .ring_cq_cons_o,
    .ring_arm_o, .ring_irq_mod_count_o, .ring_irq_mod_time_us_o, .ring_rq_cons_i,
    .ring_cq_prod_i, .ring_active_i, .ring_busy_i, .ring_error_i, .ring_error_code_i
  );

  sa_table #(
    .NumSa(NumSa), .Suites(Suites), .Features(Features), .MaxReplayWindow(MaxReplayWindow)
  ) u_table (
    .clk_i,
    .rst_i                (table_rst),
    .wiping_o             (tbl_wiping),
    .cmd_valid_i          (tbl_cmd_valid),
    .cmd_op_i             (cmd_op),
    .cmd_index_i          (cmd_index),
    .cmd_params_i         (cmd_params),
    .cmd_key_i            (cmd_key),
    .cmd_salt_i           (cmd_salt),
    .cmd_done_o           (tbl_done),
    .cmd_result_o         (tbl_result),
    .cmd_slot_valid_o     (tbl_slot_valid),
    .rd_params_valid_o    (rd_params_valid),
    .rd_params_o          (rd_params),
    .rd_cnt_valid_o       (rd_cnt_valid),
    .rd_cnt_o             (rd_cnt),
    .rd_state_o           (rd_state),
    .lk_valid_i           (lk_valid_i && !lk_hold),
    .lk_ready_o           (tbl_lk_ready),
    .lk_index_i, .lk_rsp_valid_o, .lk_rsp_index_o, .lk_rsp_sa_valid_o,
    .lk_rsp_hard_expired_o, .lk_rsp_params_o, .lk_rsp_key_o, .lk_rsp_salt_o,
    .cnt_valid_i, .cnt_ready_o, .cnt_index_i, .cnt_kind_i, .cnt_bytes_i, .cnt_seq_i,
    .seq_valid_i, .seq_ready_o, .seq_index_i, .seq_rsp_valid_o, .seq_rsp_index_o, .seq_rsp_ok_o,
    .seq_rsp_exhausted_o, .seq_rsp_seq_o,
    .ev_valid_o, .ev_ready_i, .ev_kind_o, .ev_sa_index_o, .ev_dir_o, .ev_info_o
  );

  assign lk_ready_o = tbl_lk_ready && !lk_hold;

  sa_prep #(.NumSa(NumSa), .MaxReplayWindow(MaxReplayWindow)) u_prep (
    .clk_i,
    .rst_i            (table_rst),
    .wiping_o         (prep_wiping),
    .cmd_valid_i      (cmd_valid),
    .cmd_op_i         (cmd_op),
    .cmd_index_i      (cmd_index),
    .cmd_params_i     (cmd_params),
    .cmd_key_i        (cmd_key),
    .tbl_cmd_valid_o  (tbl_cmd_valid),
    .tbl_done_i       (tbl_done),
    .tbl_result_i     (tbl_result),
    .tbl_slot_valid_i (tbl_slot_valid),
    .done_o           (cmd_done),
    .result_o         (cmd_result),
    .slot_valid_o     (cmd_slot_valid),
    .lk_hold_o        (lk_hold),
    .lk_fire_i        (lk_valid_i && lk_ready_o),
    .lk_index_i,
    .lk_hpow_o        (lk_rsp_hpow_o),
    .ri_valid_o, .ri_ready_i, .ri_sa_o, .ri_window_o, .ri_esn_o
  );

endmodule
