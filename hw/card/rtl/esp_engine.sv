// SPDX-License-Identifier: Apache-2.0
//
// The ESP engine of the card (hw/card/doc/engine.md): takes descriptors from queue_engine, checks
// them, dispatches each to the outbound or the inbound engine, and returns one completion per
// descriptor in descriptor order. Around the two engines it owns what they share:
//   - per direction a dma_rd and a dma_wr (AXI4 masters 0 = outbound, 1 = inbound, flattened for
//     axi_rd_mux / axi_wr_mux in the top);
//   - the SA table's ports: the lookup port (round-robin between the engines; the answer, with
//     sa_prep's GHASH key powers, routed back through a per-engine FIFO whose room is reserved by
//     a credit before the request is issued, since the table's answer cannot wait), the counter
//     port (round-robin) and the sequence allocator (outbound only, credits likewise);
//   - esp_replay, whose input takes sa_prep's INITs first and the inbound engine's CHECK/UPDATE
//     otherwise; INIT results are dropped, the others go back to the inbound engine in order.
// Descriptors that fail the checks done here (reserved bits, PKT_OFFSET + PKT_LEN > BUF_LEN, an
// outbound descriptor without SA_VALID: bad_descriptor; PKT_LEN > MaxPktBytes: too_big) never
// reach an engine; their completions wait in a FIFO for their turn. The order FIFO remembers who
// owns each descriptor, so completions leave in descriptor order whichever engine is faster.
// unmatched_inc_o pulses for every engine completion that names no SA (SA_INDEX = 0xFFFFFF) other
// than a DMA read error: bad SA index, bad SPI, not ESP, unparseable (the software model's rule).
`default_nettype none

module esp_engine #(
  parameter int unsigned NumSa           = 4096,
  parameter int unsigned Lanes           = 4,
  parameter int unsigned MaxPktBytes     = 9216,
  parameter int unsigned MaxReplayWindow = 1024,
  parameter int unsigned MaxBurst        = 64,
  localparam int unsigned IdxW           = $clog2(NumSa),
  localparam int unsigned WinW           = $clog2(MaxReplayWindow) + 1
) (
  input  logic             clk_i,
  input  logic             rst_i,

  // Descriptors (queue_engine)
  input  logic             desc_valid_i,
  output logic             desc_ready_o,
  input  logic [4:0]       desc_ring_i,
  input  logic [15:0]      desc_index_i,
  input  logic [255:0]     desc_i,
  // Completions (queue_engine)
  output logic             cpl_valid_o,
  input  logic             cpl_ready_i,
  output logic [4:0]       cpl_ring_o,
  output logic [255:0]     cpl_rec_o,
  output logic             cpl_irq_o,
  output logic             unmatched_inc_o,

  // SA table (card_ctrl)
  output logic             lk_valid_o,
  input  logic             lk_ready_i,
  output logic [23:0]      lk_index_o,
  input  logic             lk_rsp_valid_i,
  input  logic             lk_rsp_sa_valid_i,
  input  logic             lk_rsp_hard_expired_i,
  input  logic [767:0]     lk_rsp_params_i,
  input  logic [255:0]     lk_rsp_key_i,
  input  logic [31:0]      lk_rsp_salt_i,
  input  logic [511:0]     lk_rsp_hpow_i,
  output logic             cnt_valid_o,
  input  logic             cnt_ready_i,
  output logic [23:0]      cnt_index_o,
  output logic [1:0]       cnt_kind_o,
  output logic [15:0]      cnt_bytes_o,
  output logic [63:0]      cnt_seq_o,
  output logic             seq_valid_o,
  input  logic             seq_ready_i,
  output logic [23:0]      seq_index_o,
  input  logic             seq_rsp_valid_i,
  input  logic             seq_rsp_ok_i,
  input  logic             seq_rsp_exhausted_i,
  input  logic [63:0]      seq_rsp_seq_i,
  input  logic             ri_valid_i,
  output logic             ri_ready_o,
  input  logic [IdxW-1:0]  ri_sa_i,
  input  logic [WinW-1:0]  ri_window_i,
  input  logic             ri_esn_i,

  // AXI4 masters toward host memory: [0] outbound, [1] inbound (1-bit IDs)
  output logic [1:0]       m_arid_o,
  output logic [127:0]     m_araddr_o,
  output logic [15:0]      m_arlen_o,
  output logic [5:0]       m_arsize_o,
  output logic [3:0]       m_arburst_o,
  output logic [1:0]       m_arvalid_o,
  input  logic [1:0]       m_arready_i,
  input  logic             m_rid_i,
  input  logic [511:0]     m_rdata_i,
  input  logic [1:0]       m_rresp_i,
  input  logic             m_rlast_i,
  input  logic [1:0]       m_rvalid_i,
  output logic [1:0]       m_rready_o,
  output logic [1:0]       m_awid_o,
  output logic [127:0]     m_awaddr_o,
  output logic [15:0]      m_awlen_o,
  output logic [5:0]       m_awsize_o,
  output logic [3:0]       m_awburst_o,
  output logic [1:0]       m_awvalid_o,
  input  logic [1:0]       m_awready_i,
  output logic [1023:0]    m_wdata_o,
  output logic [127:0]     m_wstrb_o,
  output logic [1:0]       m_wlast_o,
  output logic [1:0]       m_wvalid_o,
  input  logic [1:0]       m_wready_i,
  input  logic             m_bid_i,
  input  logic [1:0]       m_bresp_i,
  input  logic [1:0]       m_bvalid_i,
  output logic [1:0]       m_bready_o,

  // A DMA engine drained a response with nothing outstanding (dma_rd/dma_wr fault_o): one-cycle
  // pulse toward CTRL_STATUS.FATAL.
  output logic             fault_o
);

  localparam int unsigned OrderDepth = 64;  // descriptors inside the engine
  localparam int unsigned ImmDepth   = 8;
  localparam int unsigned LkDepth    = 4;   // lookup answers buffered per engine
  localparam int unsigned SeqDepth   = 4;
  localparam int unsigned LkW        = 2 + 768 + 256 + 32 + 512;
  localparam int unsigned CplW       = 5 + 256 + 1;
  localparam logic [1:0]  SrcImm = 2'd0, SrcOut = 2'd1, SrcIn = 2'd2;

  ipsec_card_pkg::req_desc_t d;
  assign d = desc_i;

  // ---------------------------------------------------------------------------------------------
  // Descriptor checks and dispatch
  // ---------------------------------------------------------------------------------------------
  logic        bad_desc, too_big, to_imm, to_out, to_in;
  logic        ord_in_ready, imm_in_ready, out_job_ready, in_job_ready;
  logic        disp_ready, disp_fire;
  ipsec_card_pkg::cpl_status_e imm_status;
  ipsec_card_pkg::cpl_t imm_cpl;

  // Reserved bits of the descriptor: every bit outside the named fields.
  localparam logic [255:0] DescUsed = {64'hffff_ffff_ffff_ffff,            // user_data   [255:192]
                                       64'h0000_0000_00ff_ffff,            // sa_index    [151:128]
                                       64'h0007_ffff_ffff_ffff,            // dir/sa_valid/irq, lens
                                       64'hffff_ffff_ffff_ffff};           // buf_addr    [63:0]

  always_comb begin
    bad_desc = (desc_i & ~DescUsed) != '0 ||
               (17'(d.pkt_offset) + 17'(d.pkt_len)) > 17'(d.buf_len) ||
               (d.dir == 1'b0 && !d.sa_valid);
    too_big  = 32'(d.pkt_len) > MaxPktBytes;
    to_imm   = bad_desc || too_big;
    to_out   = !to_imm && d.dir == 1'b0;
    to_in    = !to_imm && d.dir == 1'b1;
    imm_status = bad_desc ? ipsec_card_pkg::CplStatusBadDescriptor : ipsec_card_pkg::CplStatusTooBig;
    imm_cpl = '0;
    imm_cpl.user_data  = d.user_data;
    imm_cpl.sa_index   = 24'hffffff;
    imm_cpl.desc_index = desc_index_i;
    imm_cpl.status     = imm_status;
    imm_cpl.dir        = d.dir;
    disp_ready = ord_in_ready && (to_imm ? imm_in_ready : to_out ? out_job_ready : in_job_ready);
  end
  assign desc_ready_o = disp_ready;
  assign disp_fire    = desc_valid_i && disp_ready;

  logic [1:0]      ord_src;
  logic            ord_valid, ord_pop;
  logic [CplW-1:0] imm_out;
  logic            imm_valid, imm_pop;

  fifo_sync #(.Width(2), .Depth(OrderDepth)) u_order (
    .clk_i, .rst_i,
    .in_data_i  (to_imm ? SrcImm : to_out ? SrcOut : SrcIn),
    .in_valid_i (disp_fire),
    .in_ready_o (ord_in_ready),
    .out_data_o (ord_src),
    .out_valid_o(ord_valid),
    .out_ready_i(ord_pop)
  );
  fifo_sync #(.Width(CplW), .Depth(ImmDepth)) u_imm (
    .clk_i, .rst_i,
    .in_data_i  ({desc_ring_i, imm_cpl, d.irq}),
    .in_valid_i (desc_valid_i && ord_in_ready && to_imm),
    .in_ready_o (imm_in_ready),
    .out_data_o (imm_out),
    .out_valid_o(imm_valid),
    .out_ready_i(imm_pop)
  );

  // ---------------------------------------------------------------------------------------------
  // Engines
  // ---------------------------------------------------------------------------------------------
  // Per-engine port bundles: index 0 outbound, 1 inbound.
  logic [1:0]        e_rdc_valid, e_rdc_ready, e_rd_valid, e_rd_ready, e_rd_last, e_rd_err;
  logic [127:0]      e_rdc_addr;
  logic [31:0]       e_rdc_len;
  logic [1023:0]     e_rd_data;
  logic [13:0]       e_rd_bytes;
  logic [1:0]        e_wrc_valid, e_wrc_ready, e_wr_valid, e_wr_ready, e_wr_last;
  logic [127:0]      e_wrc_addr;
  logic [31:0]       e_wrc_len;
  logic [1023:0]     e_wr_data;
  logic [13:0]       e_wr_bytes;
  logic [1:0]        e_wd_valid, e_wd_ready, e_wd_err;
  logic [1:0]        e_lk_valid, e_lk_ready;
  logic [47:0]       e_lk_index;
  logic [1:0]        e_lkr_valid, e_lkr_ready;
  logic [2*LkW-1:0]  e_lkr_data;
  logic              o_cnt_valid, o_cnt_ready, i_cnt_valid, i_cnt_ready;  // scalars: no false loops
  logic [47:0]       e_cnt_index;
  logic [3:0]        e_cnt_kind;
  logic [31:0]       e_cnt_bytes;
  logic [127:0]      e_cnt_seq;
  logic              o_cpl_valid, o_cpl_ready, i_cpl_valid, i_cpl_ready;
  logic [1:0]        e_cpl_irq;
  logic [9:0]        e_cpl_ring;
  logic [511:0]      e_cpl_rec;
  logic              o_seq_valid, o_seq_ready, o_seqr_valid, o_seqr_ready;
  logic [23:0]       o_seq_index;
  logic [65:0]       o_seqr_data;
  logic              i_rp_valid, i_rp_ready, i_rpr_valid, i_rpr_ready;
  logic [1:0]        i_rp_op, i_rpr_verdict;
  logic [IdxW-1:0]   i_rp_sa;
  logic [63:0]       i_rp_seq, i_rpr_seq;

  esp_outbound #(.Lanes(Lanes), .IdxW(IdxW), .MaxPktBytes(MaxPktBytes)) u_out (
    .clk_i, .rst_i,
    .job_valid_i      (desc_valid_i && ord_in_ready && to_out),
    .job_ready_o      (out_job_ready),
    .job_ring_i       (desc_ring_i),
    .job_index_i      (desc_index_i),
    .job_desc_i       (desc_i),
    .rd_cmd_valid_o   (e_rdc_valid[0]),
    .rd_cmd_ready_i   (e_rdc_ready[0]),
    .rd_cmd_addr_o    (e_rdc_addr[0 +: 64]),
    .rd_cmd_len_o     (e_rdc_len[0 +: 16]),
    .rd_valid_i       (e_rd_valid[0]),
    .rd_ready_o       (e_rd_ready[0]),
    .rd_data_i        (e_rd_data[0 +: 512]),
    .rd_bytes_i       (e_rd_bytes[0 +: 7]),
    .rd_last_i        (e_rd_last[0]),
    .rd_err_i         (e_rd_err[0]),
    .wr_cmd_valid_o   (e_wrc_valid[0]),
    .wr_cmd_ready_i   (e_wrc_ready[0]),
    .wr_cmd_addr_o    (e_wrc_addr[0 +: 64]),
    .wr_cmd_len_o     (e_wrc_len[0 +: 16]),
    .wr_valid_o       (e_wr_valid[0]),
    .wr_ready_i       (e_wr_ready[0]),
    .wr_data_o        (e_wr_data[0 +: 512]),
    .wr_bytes_o       (e_wr_bytes[0 +: 7]),
    .wr_last_o        (e_wr_last[0]),
    .wr_done_valid_i  (e_wd_valid[0]),
    .wr_done_ready_o  (e_wd_ready[0]),
    .wr_done_err_i    (e_wd_err[0]),
    .lk_req_valid_o   (e_lk_valid[0]),
    .lk_req_ready_i   (e_lk_ready[0]),
    .lk_req_index_o   (e_lk_index[0 +: 24]),
    .lk_rsp_valid_i   (e_lkr_valid[0]),
    .lk_rsp_ready_o   (e_lkr_ready[0]),
    .lk_rsp_sa_valid_i     (e_lkr_data[0 * LkW + LkW - 1]),
    .lk_rsp_hard_expired_i (e_lkr_data[0 * LkW + LkW - 2]),
    .lk_rsp_params_i  (e_lkr_data[0 * LkW + 800 +: 768]),
    .lk_rsp_key_i     (e_lkr_data[0 * LkW + 544 +: 256]),
    .lk_rsp_salt_i    (e_lkr_data[0 * LkW + 512 +: 32]),
    .lk_rsp_hpow_i    (e_lkr_data[0 * LkW + 0 +: 512]),
    .seq_req_valid_o  (o_seq_valid),
    .seq_req_ready_i  (o_seq_ready),
    .seq_req_index_o  (o_seq_index),
    .seq_rsp_valid_i  (o_seqr_valid),
    .seq_rsp_ready_o  (o_seqr_ready),
    .seq_rsp_ok_i        (o_seqr_data[65]),
    .seq_rsp_exhausted_i (o_seqr_data[64]),
    .seq_rsp_seq_i       (o_seqr_data[63:0]),
    .cnt_valid_o      (o_cnt_valid),
    .cnt_ready_i      (o_cnt_ready),
    .cnt_index_o      (e_cnt_index[0 +: 24]),
    .cnt_kind_o       (e_cnt_kind[0 +: 2]),
    .cnt_bytes_o      (e_cnt_bytes[0 +: 16]),
    .cnt_seq_o        (e_cnt_seq[0 +: 64]),
    .cpl_valid_o      (o_cpl_valid),
    .cpl_ready_i      (o_cpl_ready),
    .cpl_ring_o       (e_cpl_ring[0 +: 5]),
    .cpl_rec_o        (e_cpl_rec[0 +: 256]),
    .cpl_irq_o        (e_cpl_irq[0])
  );

  esp_inbound #(.Lanes(Lanes), .IdxW(IdxW), .MaxPktBytes(MaxPktBytes)) u_in (
    .clk_i, .rst_i,
    .job_valid_i      (desc_valid_i && ord_in_ready && to_in),
    .job_ready_o      (in_job_ready),
    .job_ring_i       (desc_ring_i),
    .job_index_i      (desc_index_i),
    .job_desc_i       (desc_i),
    .rd_cmd_valid_o   (e_rdc_valid[1]),
    .rd_cmd_ready_i   (e_rdc_ready[1]),
    .rd_cmd_addr_o    (e_rdc_addr[64 +: 64]),
    .rd_cmd_len_o     (e_rdc_len[16 +: 16]),
    .rd_valid_i       (e_rd_valid[1]),
    .rd_ready_o       (e_rd_ready[1]),
    .rd_data_i        (e_rd_data[512 +: 512]),
    .rd_bytes_i       (e_rd_bytes[7 +: 7]),
    .rd_last_i        (e_rd_last[1]),
    .rd_err_i         (e_rd_err[1]),
    .wr_cmd_valid_o   (e_wrc_valid[1]),
    .wr_cmd_ready_i   (e_wrc_ready[1]),
    .wr_cmd_addr_o    (e_wrc_addr[64 +: 64]),
    .wr_cmd_len_o     (e_wrc_len[16 +: 16]),
    .wr_valid_o       (e_wr_valid[1]),
    .wr_ready_i       (e_wr_ready[1]),
    .wr_data_o        (e_wr_data[512 +: 512]),
    .wr_bytes_o       (e_wr_bytes[7 +: 7]),
    .wr_last_o        (e_wr_last[1]),
    .wr_done_valid_i  (e_wd_valid[1]),
    .wr_done_ready_o  (e_wd_ready[1]),
    .wr_done_err_i    (e_wd_err[1]),
    .lk_req_valid_o   (e_lk_valid[1]),
    .lk_req_ready_i   (e_lk_ready[1]),
    .lk_req_index_o   (e_lk_index[24 +: 24]),
    .lk_rsp_valid_i   (e_lkr_valid[1]),
    .lk_rsp_ready_o   (e_lkr_ready[1]),
    .lk_rsp_sa_valid_i     (e_lkr_data[1 * LkW + LkW - 1]),
    .lk_rsp_hard_expired_i (e_lkr_data[1 * LkW + LkW - 2]),
    .lk_rsp_params_i  (e_lkr_data[1 * LkW + 800 +: 768]),
    .lk_rsp_key_i     (e_lkr_data[1 * LkW + 544 +: 256]),
    .lk_rsp_salt_i    (e_lkr_data[1 * LkW + 512 +: 32]),
    .lk_rsp_hpow_i    (e_lkr_data[1 * LkW + 0 +: 512]),
    .rp_req_valid_o   (i_rp_valid),
    .rp_req_ready_i   (i_rp_ready),
    .rp_req_op_o      (i_rp_op),
    .rp_req_sa_o      (i_rp_sa),
    .rp_req_seq_o     (i_rp_seq),
    .rp_rsp_valid_i   (i_rpr_valid),
    .rp_rsp_ready_o   (i_rpr_ready),
    .rp_rsp_verdict_i (i_rpr_verdict),
    .rp_rsp_seq_i     (i_rpr_seq),
    .cnt_valid_o      (i_cnt_valid),
    .cnt_ready_i      (i_cnt_ready),
    .cnt_index_o      (e_cnt_index[24 +: 24]),
    .cnt_kind_o       (e_cnt_kind[2 +: 2]),
    .cnt_bytes_o      (e_cnt_bytes[16 +: 16]),
    .cnt_seq_o        (e_cnt_seq[64 +: 64]),
    .cpl_valid_o      (i_cpl_valid),
    .cpl_ready_i      (i_cpl_ready),
    .cpl_ring_o       (e_cpl_ring[5 +: 5]),
    .cpl_rec_o        (e_cpl_rec[256 +: 256]),
    .cpl_irq_o        (e_cpl_irq[1])
  );

  // ---------------------------------------------------------------------------------------------
  // DMA per engine
  // ---------------------------------------------------------------------------------------------
  logic [1:0] rd_fault, wr_fault;
  assign fault_o = |{rd_fault, wr_fault};

  for (genvar e = 0; e < 2; e++) begin : gen_dma
    // 8 bursts in flight keep a 1500-byte read at ~0.98 beats/cycle behind 64 cycles of latency
    // (hw/card/doc/dma.md); 4 would give ~0.80.
    dma_rd #(.MaxBurst(MaxBurst), .Outstanding(8), .IdW(1), .IdValue(0)) u_rd (
      .clk_i, .rst_i,
      .rd_cmd_addr_i  (e_rdc_addr[e * 64 +: 64]),
      .rd_cmd_len_i   (e_rdc_len[e * 16 +: 16]),
      .rd_cmd_valid_i (e_rdc_valid[e]),
      .rd_cmd_ready_o (e_rdc_ready[e]),
      .out_data_o     (e_rd_data[e * 512 +: 512]),
      .out_bytes_o    (e_rd_bytes[e * 7 +: 7]),
      .out_last_o     (e_rd_last[e]),
      .out_err_o      (e_rd_err[e]),
      .out_valid_o    (e_rd_valid[e]),
      .out_ready_i    (e_rd_ready[e]),
      .m_axi_arid_o   (m_arid_o[e]),
      .m_axi_araddr_o (m_araddr_o[e * 64 +: 64]),
      .m_axi_arlen_o  (m_arlen_o[e * 8 +: 8]),
      .m_axi_arsize_o (m_arsize_o[e * 3 +: 3]),
      .m_axi_arburst_o(m_arburst_o[e * 2 +: 2]),
      .m_axi_arvalid_o(m_arvalid_o[e]),
      .m_axi_arready_i(m_arready_i[e]),
      .m_axi_rid_i    (m_rid_i),
      .m_axi_rdata_i  (m_rdata_i),
      .m_axi_rresp_i  (m_rresp_i),
      .m_axi_rlast_i  (m_rlast_i),
      .m_axi_rvalid_i (m_rvalid_i[e]),
      .m_axi_rready_o (m_rready_o[e]),
      .fault_o        (rd_fault[e])
    );
    dma_wr #(.MaxBurst(MaxBurst), .Outstanding(8), .IdW(1), .IdValue(0)) u_wr (
      .clk_i, .rst_i,
      .wr_cmd_addr_i  (e_wrc_addr[e * 64 +: 64]),
      .wr_cmd_len_i   (e_wrc_len[e * 16 +: 16]),
      .wr_cmd_valid_i (e_wrc_valid[e]),
      .wr_cmd_ready_o (e_wrc_ready[e]),
      .in_data_i      (e_wr_data[e * 512 +: 512]),
      .in_bytes_i     (e_wr_bytes[e * 7 +: 7]),
      .in_last_i      (e_wr_last[e]),
      .in_valid_i     (e_wr_valid[e]),
      .in_ready_o     (e_wr_ready[e]),
      .wr_done_err_o  (e_wd_err[e]),
      .wr_done_valid_o(e_wd_valid[e]),
      .wr_done_ready_i(e_wd_ready[e]),
      .m_axi_awid_o   (m_awid_o[e]),
      .m_axi_awaddr_o (m_awaddr_o[e * 64 +: 64]),
      .m_axi_awlen_o  (m_awlen_o[e * 8 +: 8]),
      .m_axi_awsize_o (m_awsize_o[e * 3 +: 3]),
      .m_axi_awburst_o(m_awburst_o[e * 2 +: 2]),
      .m_axi_awvalid_o(m_awvalid_o[e]),
      .m_axi_awready_i(m_awready_i[e]),
      .m_axi_wdata_o  (m_wdata_o[e * 512 +: 512]),
      .m_axi_wstrb_o  (m_wstrb_o[e * 64 +: 64]),
      .m_axi_wlast_o  (m_wlast_o[e]),
      .m_axi_wvalid_o (m_wvalid_o[e]),
      .m_axi_wready_i (m_wready_i[e]),
      .m_axi_bid_i    (m_bid_i),
      .m_axi_bresp_i  (m_bresp_i),
      .m_axi_bvalid_i (m_bvalid_i[e]),
      .m_axi_bready_o (m_bready_o[e]),
      .fault_o        (wr_fault[e])
    );
  end

  // ---------------------------------------------------------------------------------------------
  // SA lookups: round-robin, answers routed by a FIFO of grants into per-engine answer FIFOs
  // ---------------------------------------------------------------------------------------------
  logic [1:0]              lk_credit_ok;
  logic [$clog2(LkDepth):0] lk_credit_q [2];
  logic                    lk_pri_q;      // engine preferred next
  logic                    lk_gnt;        // engine granted this cycle
  logic                    lk_fire;
  logic [1:0]              lk_eligible;
  logic                    lk_owner_q, lk_owner_v_q;   // the table answers 1 cycle later

  for (genvar e = 0; e < 2; e++) begin : gen_lk_credit
    assign lk_credit_ok[e] = lk_credit_q[e] != '0;
    assign lk_eligible[e]  = e_lk_valid[e] && lk_credit_ok[e];
  end
  always_comb begin
    lk_gnt = lk_pri_q;
    if (!lk_eligible[lk_pri_q]) lk_gnt = !lk_pri_q;
  end
  assign lk_valid_o = |lk_eligible;
  assign lk_index_o = e_lk_index[lk_gnt * 24 +: 24];
  assign lk_fire    = lk_valid_o && lk_ready_i;
  assign e_lk_ready = lk_fire ? (lk_gnt ? 2'b10 : 2'b01) : 2'b00;

  logic [1:0] lkr_push, lkr_in_ready, lkr_pop;
  for (genvar e = 0; e < 2; e++) begin : gen_lkr
    assign lkr_push[e] = lk_rsp_valid_i && lk_owner_v_q && lk_owner_q == e[0];
    fifo_sync #(.Width(LkW), .Depth(LkDepth)) u_lkr (
      .clk_i, .rst_i,
      .in_data_i  ({lk_rsp_sa_valid_i, lk_rsp_hard_expired_i, lk_rsp_params_i, lk_rsp_key_i,
                    lk_rsp_salt_i, lk_rsp_hpow_i}),
      .in_valid_i (lkr_push[e]),
      .in_ready_o (lkr_in_ready[e]),
      .out_data_o (e_lkr_data[e * LkW +: LkW]),
      .out_valid_o(e_lkr_valid[e]),
      .out_ready_i(e_lkr_ready[e])
    );
    assign lkr_pop[e] = e_lkr_valid[e] && e_lkr_ready[e];
    always_ff @(posedge clk_i) begin
      if (rst_i) begin
        lk_credit_q[e] <= ($clog2(LkDepth) + 1)'(LkDepth);
      end else begin
        lk_credit_q[e] <= lk_credit_q[e] - (($clog2(LkDepth) + 1)'(e_lk_ready[e]))
                                         + (($clog2(LkDepth) + 1)'(lkr_pop[e]));
      end
    end
  end
  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      lk_pri_q     <= 1'b0;
      lk_owner_v_q <= 1'b0;
      lk_owner_q   <= 1'b0;
    end else begin
      lk_owner_v_q <= lk_fire;
      lk_owner_q   <= lk_gnt;
      if (lk_fire) lk_pri_q <= !lk_gnt;
    end
  end

  // Credits reserve room before a request is issued, so the table's answers always fit.
`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (!rst_i) begin
      assert (!(lkr_push[0] && !lkr_in_ready[0]) && !(lkr_push[1] && !lkr_in_ready[1]))
        else $error("esp_engine: lookup answer without room");
      assert (!(seq_rsp_valid_i && !seqr_in_ready)) else $error("esp_engine: sequence answer without room");
    end
  end
`endif

  // ---------------------------------------------------------------------------------------------
  // Sequence numbers (outbound only): the table answers 2 cycles later without back-pressure
  // ---------------------------------------------------------------------------------------------
  logic [$clog2(SeqDepth):0] seq_credit_q;
  logic                      seq_fire, seqr_in_ready;
  assign seq_valid_o = o_seq_valid && seq_credit_q != '0;
  assign seq_index_o = o_seq_index;
  assign seq_fire    = seq_valid_o && seq_ready_i;
  assign o_seq_ready = seq_fire;
  fifo_sync #(.Width(66), .Depth(SeqDepth)) u_seqr (
    .clk_i, .rst_i,
    .in_data_i  ({seq_rsp_ok_i, seq_rsp_exhausted_i, seq_rsp_seq_i}),
    .in_valid_i (seq_rsp_valid_i),
    .in_ready_o (seqr_in_ready),
    .out_data_o (o_seqr_data),
    .out_valid_o(o_seqr_valid),
    .out_ready_i(o_seqr_ready)
  );
  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      seq_credit_q <= ($clog2(SeqDepth) + 1)'(SeqDepth);
    end else begin
      seq_credit_q <= seq_credit_q - (($clog2(SeqDepth) + 1)'(seq_fire))
                                   + (($clog2(SeqDepth) + 1)'(o_seqr_valid && o_seqr_ready));
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Counter updates: round-robin
  // ---------------------------------------------------------------------------------------------
  logic cnt_pri_q, cnt_gnt;
  always_comb begin
    cnt_gnt = cnt_pri_q;
    if (!(cnt_pri_q ? i_cnt_valid : o_cnt_valid)) cnt_gnt = !cnt_pri_q;
  end
  assign cnt_valid_o = o_cnt_valid || i_cnt_valid;
  assign cnt_index_o = e_cnt_index[cnt_gnt * 24 +: 24];
  assign cnt_kind_o  = e_cnt_kind[cnt_gnt * 2 +: 2];
  assign cnt_bytes_o = e_cnt_bytes[cnt_gnt * 16 +: 16];
  assign cnt_seq_o   = e_cnt_seq[cnt_gnt * 64 +: 64];
  assign o_cnt_ready = cnt_ready_i && !cnt_gnt;
  assign i_cnt_ready = cnt_ready_i && cnt_gnt;
  always_ff @(posedge clk_i) begin
    if (rst_i) cnt_pri_q <= 1'b0;
    else if (cnt_valid_o && cnt_ready_i) cnt_pri_q <= !cnt_gnt;
  end

  // ---------------------------------------------------------------------------------------------
  // Anti-replay: INITs first, then the inbound engine
  // ---------------------------------------------------------------------------------------------
  logic        rp_in_valid, rp_in_ready, rp_out_valid, rp_out_ready;
  logic [1:0]  rp_out_op, rp_out_verdict;
  logic [63:0] rp_out_seq;
  logic        rp_out_tag;

  assign rp_in_valid = ri_valid_i || i_rp_valid;
  assign ri_ready_o  = rp_in_ready;
  assign i_rp_ready  = rp_in_ready && !ri_valid_i;

  esp_replay #(.NumSa(NumSa), .WindowBits(MaxReplayWindow), .TagW(1)) u_replay (
    .clk_i, .rst_i,
    .in_valid_i   (rp_in_valid),
    .in_ready_o   (rp_in_ready),
    .in_op_i      (ri_valid_i ? esp_replay_pkg::OpInit : i_rp_op),
    .in_sa_i      (ri_valid_i ? ri_sa_i : i_rp_sa),
    .in_seq_i     (ri_valid_i ? 64'd0 : i_rp_seq),
    .in_window_i  (ri_window_i),
    .in_esn_i     (ri_esn_i),
    .in_tag_i     (ri_valid_i),
    .out_valid_o  (rp_out_valid),
    .out_ready_i  (rp_out_ready),
    .out_op_o     (rp_out_op),
    .out_verdict_o(rp_out_verdict),
    .out_seq_o    (rp_out_seq),
    .out_tag_o    (rp_out_tag)
  );
  assign i_rpr_valid   = rp_out_valid && !rp_out_tag;
  assign i_rpr_verdict = rp_out_verdict;
  assign i_rpr_seq     = rp_out_seq;
  assign rp_out_ready  = rp_out_tag || i_rpr_ready;

  // ---------------------------------------------------------------------------------------------
  // Completions in descriptor order
  // ---------------------------------------------------------------------------------------------
  ipsec_card_pkg::cpl_t sel_cpl;
  logic                 sel_valid, sel_from_engine;
  always_comb begin
    sel_valid       = 1'b0;
    sel_from_engine = 1'b0;
    cpl_ring_o      = imm_out[CplW-1 -: 5];
    cpl_rec_o       = imm_out[256:1];
    cpl_irq_o       = imm_out[0];
    if (ord_valid) begin
      unique case (ord_src)
        SrcOut: begin
          sel_valid = o_cpl_valid;
          cpl_ring_o = e_cpl_ring[0 +: 5];
          cpl_rec_o  = e_cpl_rec[0 +: 256];
          cpl_irq_o  = e_cpl_irq[0];
          sel_from_engine = 1'b1;
        end
        SrcIn: begin
          sel_valid = i_cpl_valid;
          cpl_ring_o = e_cpl_ring[5 +: 5];
          cpl_rec_o  = e_cpl_rec[256 +: 256];
          cpl_irq_o  = e_cpl_irq[1];
          sel_from_engine = 1'b1;
        end
        default: sel_valid = imm_valid;
      endcase
    end
  end
  assign sel_cpl     = cpl_rec_o;
  assign cpl_valid_o = sel_valid;
  assign ord_pop     = sel_valid && cpl_ready_i;
  assign imm_pop     = ord_pop && ord_src == SrcImm;
  // Ready toward an engine does not depend on its own valid (only on the order FIFO and on the
  // queue engine), so there is no combinational loop through the engines.
  assign o_cpl_ready = ord_valid && ord_src == SrcOut && cpl_ready_i;
  assign i_cpl_ready = ord_valid && ord_src == SrcIn && cpl_ready_i;
  assign unmatched_inc_o = ord_pop && sel_from_engine && sel_cpl.sa_index == 24'hffffff &&
                           sel_cpl.status != ipsec_card_pkg::CplStatusDmaReadError;

endmodule
