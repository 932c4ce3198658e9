// SPDX-License-Identifier: Apache-2.0
//
// Test top for queue_engine: card_ctrl (the real register block and SA table) joined to the
// queue engine, with the Vitis kernel ports the sim/ Harness binds to (ap_clk, ap_rst_n,
// interrupt, s_axi_control_*, m_axi_gmem_*). The engine's read and write channel sets are
// already separate, so m_axi_gmem carries reads from its read port and writes from its write
// port without an arbiter. The ESP-engine side (desc out, cpl in) and the SA event stream are
// extra top ports that the GoogleTest bench drives directly; card_ctrl's own SA events are not
// used (the bench makes no counter updates, so sa_table raises none).
//
// interrupt = card_ctrl's global irq_o OR any ring vector pulse. irq_count_o counts the pulses of
// each ring vector (16 bits per ring) so the bench sees every one.
`default_nettype none

module queue_engine_tb #(
  parameter int unsigned RingPairs   = 3,
  parameter int unsigned MaxRingLog2 = 8,
  parameter int unsigned FetchBurst  = 4,
  parameter int unsigned ClkMHz      = 10,   // short microseconds keep the moderation tests fast
  parameter int unsigned NumSa       = 16,
  parameter int unsigned IdW         = 4
) (
  input  logic                    ap_clk,
  input  logic                    ap_rst_n,
  output logic                    interrupt,

  input  logic [15:0]             s_axi_control_awaddr,
  input  logic                    s_axi_control_awvalid,
  output logic                    s_axi_control_awready,
  input  logic [31:0]             s_axi_control_wdata,
  input  logic [3:0]              s_axi_control_wstrb,
  input  logic                    s_axi_control_wvalid,
  output logic                    s_axi_control_wready,
  output logic [1:0]              s_axi_control_bresp,
  output logic                    s_axi_control_bvalid,
  input  logic                    s_axi_control_bready,
  input  logic [15:0]             s_axi_control_araddr,
  input  logic                    s_axi_control_arvalid,
  output logic                    s_axi_control_arready,
  output logic [31:0]             s_axi_control_rdata,
  output logic [1:0]              s_axi_control_rresp,
  output logic                    s_axi_control_rvalid,
  input  logic                    s_axi_control_rready,

  output logic [IdW-1:0]          m_axi_gmem_awid,
  output logic [63:0]             m_axi_gmem_awaddr,
  output logic [7:0]              m_axi_gmem_awlen,
  output logic [2:0]              m_axi_gmem_awsize,
  output logic [1:0]              m_axi_gmem_awburst,
  output logic                    m_axi_gmem_awvalid,
  input  logic                    m_axi_gmem_awready,
  output logic [511:0]            m_axi_gmem_wdata,
  output logic [63:0]             m_axi_gmem_wstrb,
  output logic                    m_axi_gmem_wlast,
  output logic                    m_axi_gmem_wvalid,
  input  logic                    m_axi_gmem_wready,
  input  logic [IdW-1:0]          m_axi_gmem_bid,
  input  logic [1:0]              m_axi_gmem_bresp,
  input  logic                    m_axi_gmem_bvalid,
  output logic                    m_axi_gmem_bready,
  output logic [IdW-1:0]          m_axi_gmem_arid,
  output logic [63:0]             m_axi_gmem_araddr,
  output logic [7:0]              m_axi_gmem_arlen,
  output logic [2:0]              m_axi_gmem_arsize,
  output logic [1:0]              m_axi_gmem_arburst,
  output logic                    m_axi_gmem_arvalid,
  input  logic                    m_axi_gmem_arready,
  input  logic [IdW-1:0]          m_axi_gmem_rid,
  input  logic [511:0]            m_axi_gmem_rdata,
  input  logic [1:0]              m_axi_gmem_rresp,
  input  logic                    m_axi_gmem_rlast,
  input  logic                    m_axi_gmem_rvalid,
  output logic                    m_axi_gmem_rready,

  // ESP-engine side, driven by the bench
  output logic                    desc_valid,
  input  logic                    desc_ready,
  output logic [4:0]              desc_ring,
  output logic [15:0]             desc_index,
  output logic [255:0]            desc_data,
  input  logic                    cpl_valid,
  output logic                    cpl_ready,
  input  logic [4:0]              cpl_ring,
  input  logic [255:0]            cpl_rec,
  input  logic                    cpl_irq,
  input  logic                    ev_valid,
  output logic                    ev_ready,
  input  logic [7:0]              ev_kind,
  input  logic [23:0]             ev_sa_index,
  input  logic                    ev_dir,
  input  logic [63:0]             ev_info,

  output logic [RingPairs-1:0]    ring_irq,
  output logic [RingPairs*16-1:0] irq_count_o
);

  logic rst, dp_rst, enable, enabled, event_written, events_lost, ctrl_irq;
  logic [63:0] evq_base;
  logic [4:0]  evq_size_log2;
  logic        evq_enable, evq_irq_enable;
  logic [15:0] evq_cons, evq_prod;
  logic [31:0] evq_lost;
  logic [RingPairs-1:0]    ring_enable, ring_irq_enable, ring_doorbell, ring_arm;
  logic [RingPairs*5-1:0]  ring_rq_size_log2, ring_cq_size_log2;
  logic [RingPairs*64-1:0] ring_rq_base, ring_cq_base;
  logic [RingPairs*16-1:0] ring_rq_prod, ring_cq_cons, ring_irq_mod_count, ring_irq_mod_time_us;
  logic [RingPairs*16-1:0] ring_rq_cons, ring_cq_prod;
  logic [RingPairs-1:0]    ring_active, ring_busy, ring_error;
  logic [RingPairs*8-1:0]  ring_error_code;
  ipsec_card_pkg::req_desc_t desc;

  /* verilator lint_off PINCONNECTEMPTY */
  card_ctrl #(
    .NumSa(NumSa), .RingPairs(RingPairs), .MaxRingLog2(MaxRingLog2), .FetchBurst(FetchBurst)
  ) u_ctrl (
    .clk_i(ap_clk), .rst_i(rst),
    .s_axil_awaddr_i(s_axi_control_awaddr), .s_axil_awvalid_i(s_axi_control_awvalid),
    .s_axil_awready_o(s_axi_control_awready), .s_axil_wdata_i(s_axi_control_wdata),
    .s_axil_wstrb_i(s_axi_control_wstrb), .s_axil_wvalid_i(s_axi_control_wvalid),
    .s_axil_wready_o(s_axi_control_wready), .s_axil_bresp_o(s_axi_control_bresp),
    .s_axil_bvalid_o(s_axi_control_bvalid), .s_axil_bready_i(s_axi_control_bready),
    .s_axil_araddr_i(s_axi_control_araddr), .s_axil_arvalid_i(s_axi_control_arvalid),
    .s_axil_arready_o(s_axi_control_arready), .s_axil_rdata_o(s_axi_control_rdata),
    .s_axil_rresp_o(s_axi_control_rresp), .s_axil_rvalid_o(s_axi_control_rvalid),
    .s_axil_rready_i(s_axi_control_rready),
    .dp_rst_o(dp_rst), .enable_o(enable), .enabled_i(enabled), .fatal_i(1'b0),
    .event_written_i(event_written), .events_lost_i(events_lost), .unmatched_inc_i(1'b0),
    .irq_o(ctrl_irq),
    .lk_valid_i(1'b0), .lk_ready_o(), .lk_index_i(24'd0), .lk_rsp_valid_o(), .lk_rsp_index_o(),
    .lk_rsp_sa_valid_o(), .lk_rsp_hard_expired_o(), .lk_rsp_params_o(), .lk_rsp_key_o(),
    .lk_rsp_salt_o(),
    .cnt_valid_i(1'b0), .cnt_ready_o(), .cnt_index_i(24'd0), .cnt_kind_i(2'd0),
    .cnt_bytes_i(16'd0), .cnt_seq_i(64'd0),
    .seq_valid_i(1'b0), .seq_ready_o(), .seq_index_i(24'd0), .seq_rsp_valid_o(),
    .seq_rsp_index_o(), .seq_rsp_ok_o(), .seq_rsp_exhausted_o(), .seq_rsp_seq_o(),
    .ev_valid_o(), .ev_ready_i(1'b1), .ev_kind_o(), .ev_sa_index_o(), .ev_dir_o(), .ev_info_o(),
    .evq_base_o(evq_base), .evq_size_log2_o(evq_size_log2), .evq_enable_o(evq_enable),
    .evq_irq_enable_o(evq_irq_enable), .evq_cons_o(evq_cons), .evq_prod_i(evq_prod),
    .evq_lost_i(evq_lost),
    .ring_enable_o(ring_enable), .ring_irq_enable_o(ring_irq_enable),
    .ring_rq_size_log2_o(ring_rq_size_log2), .ring_cq_size_log2_o(ring_cq_size_log2),
    .ring_rq_base_o(ring_rq_base), .ring_cq_base_o(ring_cq_base), .ring_rq_prod_o(ring_rq_prod),
    .ring_doorbell_o(ring_doorbell), .ring_cq_cons_o(ring_cq_cons), .ring_arm_o(ring_arm),
    .ring_irq_mod_count_o(ring_irq_mod_count), .ring_irq_mod_time_us_o(ring_irq_mod_time_us),
    .ring_rq_cons_i(ring_rq_cons), .ring_cq_prod_i(ring_cq_prod), .ring_active_i(ring_active),
    .ring_busy_i(ring_busy), .ring_error_i(ring_error), .ring_error_code_i(ring_error_code)
  );
  /* verilator lint_on PINCONNECTEMPTY */

  assign rst = !ap_rst_n;

  queue_engine #(
    .RingPairs(RingPairs), .MaxRingLog2(MaxRingLog2), .FetchBurst(FetchBurst), .IdW(IdW),
    .ClkMHz(ClkMHz)
  ) u_qe (
    .clk_i(ap_clk), .rst_i(dp_rst),
    .enable_i(enable), .enabled_o(enabled),
    .ring_enable_i(ring_enable), .ring_irq_enable_i(ring_irq_enable),
    .ring_rq_size_log2_i(ring_rq_size_log2), .ring_cq_size_log2_i(ring_cq_size_log2),
    .ring_rq_base_i(ring_rq_base), .ring_cq_base_i(ring_cq_base),
    .ring_rq_prod_i(ring_rq_prod), .ring_doorbell_i(ring_doorbell),
    .ring_cq_cons_i(ring_cq_cons), .ring_arm_i(ring_arm),
    .ring_irq_mod_count_i(ring_irq_mod_count), .ring_irq_mod_time_us_i(ring_irq_mod_time_us),
    .ring_rq_cons_o(ring_rq_cons), .ring_cq_prod_o(ring_cq_prod), .ring_active_o(ring_active),
    .ring_busy_o(ring_busy), .ring_error_o(ring_error), .ring_error_code_o(ring_error_code),
    .evq_base_i(evq_base), .evq_size_log2_i(evq_size_log2), .evq_enable_i(evq_enable),
    .evq_irq_enable_i(evq_irq_enable), .evq_cons_i(evq_cons), .evq_prod_o(evq_prod),
    .evq_lost_o(evq_lost), .event_written_o(event_written), .events_lost_o(events_lost),
    .irq_o(ring_irq),
    .desc_valid_o(desc_valid), .desc_ready_i(desc_ready), .desc_ring_o(desc_ring),
    .desc_index_o(desc_index), .desc_o(desc),
    .cpl_valid_i(cpl_valid), .cpl_ready_o(cpl_ready), .cpl_ring_i(cpl_ring), .cpl_rec_i(cpl_rec),
    .cpl_irq_i(cpl_irq),
    .ev_valid_i(ev_valid), .ev_ready_o(ev_ready), .ev_kind_i(ev_kind),
    .ev_sa_index_i(ev_sa_index), .ev_dir_i(ev_dir), .ev_info_i(ev_info),
    .m_axi_arid_o(m_axi_gmem_arid), .m_axi_araddr_o(m_axi_gmem_araddr),
    .m_axi_arlen_o(m_axi_gmem_arlen), .m_axi_arsize_o(m_axi_gmem_arsize),
    .m_axi_arburst_o(m_axi_gmem_arburst), .m_axi_arvalid_o(m_axi_gmem_arvalid),
    .m_axi_arready_i(m_axi_gmem_arready), .m_axi_rid_i(m_axi_gmem_rid),
    .m_axi_rdata_i(m_axi_gmem_rdata), .m_axi_rresp_i(m_axi_gmem_rresp),
    .m_axi_rlast_i(m_axi_gmem_rlast), .m_axi_rvalid_i(m_axi_gmem_rvalid),
    .m_axi_rready_o(m_axi_gmem_rready),
    .m_axi_awid_o(m_axi_gmem_awid), .m_axi_awaddr_o(m_axi_gmem_awaddr),
    .m_axi_awlen_o(m_axi_gmem_awlen), .m_axi_awsize_o(m_axi_gmem_awsize),
    .m_axi_awburst_o(m_axi_gmem_awburst), .m_axi_awvalid_o(m_axi_gmem_awvalid),
    .m_axi_awready_i(m_axi_gmem_awready), .m_axi_wdata_o(m_axi_gmem_wdata),
    .m_axi_wstrb_o(m_axi_gmem_wstrb), .m_axi_wlast_o(m_axi_gmem_wlast),
    .m_axi_wvalid_o(m_axi_gmem_wvalid), .m_axi_wready_i(m_axi_gmem_wready),
    .m_axi_bid_i(m_axi_gmem_bid), .m_axi_bresp_i(m_axi_gmem_bresp),
    .m_axi_bvalid_i(m_axi_gmem_bvalid), .m_axi_bready_o(m_axi_gmem_bready),
    .fault_o()
  );

  assign desc_data = desc;
  assign interrupt = ctrl_irq || |ring_irq;

  logic [RingPairs*16-1:0] irq_count_q;
  always_ff @(posedge ap_clk) begin
    for (int unsigned r = 0; r < RingPairs; r++) begin
      if (rst) irq_count_q[r*16 +: 16] <= '0;
      else if (ring_irq[r]) irq_count_q[r*16 +: 16] <= irq_count_q[r*16 +: 16] + 16'd1;
    end
  end
  assign irq_count_o = irq_count_q;

endmodule
