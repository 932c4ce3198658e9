// SPDX-License-Identifier: Apache-2.0
//
// ipsec_card_top: the whole card as a Vitis RTL kernel (docs/device-interface.md is its contract,
// hw/card/doc/engine.md its structure). Ports: ap_clk, ap_rst_n (synchronous, active low),
// s_axi_control (AXI4-Lite, the 64 KiB register BAR), m_axi_gmem (AXI4, 512-bit, toward host
// memory) and one level-sensitive interrupt. bitstreams/ packages it (package_xo, v++ link).
//
//   card_ctrl     register block, SA table, sa_prep (GHASH key powers, replay INITs)
//   queue_engine  ring pairs: descriptor fetch, completions with phase bits, event ring, IRQs
//   esp_engine    descriptor checks, esp_outbound, esp_inbound, esp_replay, DMA per direction
//   axi_rd_mux / axi_wr_mux   three masters onto m_axi_gmem: 0 queues, 1 outbound, 2 inbound
//
// Reset: ap_rst_n resets everything; card_ctrl's dp_rst_o (power-on, soft reset, and the SA
// table wipe) holds queue_engine, esp_engine and the muxes in reset, so a soft reset abandons the
// work in flight as the contract says. (A soft reset with AXI bursts outstanding relies on the
// host memory side answering them after the reset: the interconnect of a real shell does.)
`default_nettype none

module ipsec_card_top #(
  parameter int unsigned NumSa             = ipsec_card_pkg::SaCountDefault,
  parameter int unsigned RingPairs         = ipsec_card_pkg::RingPairsDefault,
  parameter int unsigned MaxRingLog2       = ipsec_card_pkg::MaxRingLog2Default,
  parameter int unsigned FetchBurst        = ipsec_card_pkg::FetchBurstDefault,
  parameter int unsigned MaxReplayWindow   = ipsec_card_pkg::MaxReplayWindowDefault,
  parameter int unsigned AesLanes          = ipsec_card_pkg::AesLanesDefault,
  parameter int unsigned MaxPktBytes       = ipsec_card_pkg::MaxPktBytesDefault,
  parameter int unsigned ClkMHz            = 250,
  parameter int unsigned BuildId           = ipsec_card_pkg::BuildIdDefault,
  parameter int unsigned BuildDate         = ipsec_card_pkg::BuildDateDefault,
  localparam int unsigned IdW              = 3   // 1-bit master IDs + 2 bits of mux index
) (
  input  logic               ap_clk,
  input  logic               ap_rst_n,        // synchronous, active low (Vitis kernel)
  output logic               interrupt,

  // AXI4-Lite registers
  input  logic [15:0]        s_axi_control_awaddr,
  input  logic               s_axi_control_awvalid,
  output logic               s_axi_control_awready,
  input  logic [31:0]        s_axi_control_wdata,
  input  logic [3:0]         s_axi_control_wstrb,
  input  logic               s_axi_control_wvalid,
  output logic               s_axi_control_wready,
  output logic [1:0]         s_axi_control_bresp,
  output logic               s_axi_control_bvalid,
  input  logic               s_axi_control_bready,
  input  logic [15:0]        s_axi_control_araddr,
  input  logic               s_axi_control_arvalid,
  output logic               s_axi_control_arready,
  output logic [31:0]        s_axi_control_rdata,
  output logic [1:0]         s_axi_control_rresp,
  output logic               s_axi_control_rvalid,
  input  logic               s_axi_control_rready,

  // AXI4 master toward host memory
  output logic [IdW-1:0] m_axi_gmem_awid,
  output logic [63:0]        m_axi_gmem_awaddr,
  output logic [7:0]         m_axi_gmem_awlen,
  output logic [2:0]         m_axi_gmem_awsize,
  output logic [1:0]         m_axi_gmem_awburst,
  output logic               m_axi_gmem_awvalid,
  input  logic               m_axi_gmem_awready,
  output logic [511:0]       m_axi_gmem_wdata,
  output logic [63:0]        m_axi_gmem_wstrb,
  output logic               m_axi_gmem_wlast,
  output logic               m_axi_gmem_wvalid,
  input  logic               m_axi_gmem_wready,
  input  logic [IdW-1:0] m_axi_gmem_bid,
  input  logic [1:0]         m_axi_gmem_bresp,
  input  logic               m_axi_gmem_bvalid,
  output logic               m_axi_gmem_bready,
  output logic [IdW-1:0] m_axi_gmem_arid,
  output logic [63:0]        m_axi_gmem_araddr,
  output logic [7:0]         m_axi_gmem_arlen,
  output logic [2:0]         m_axi_gmem_arsize,
  output logic [1:0]         m_axi_gmem_arburst,
  output logic               m_axi_gmem_arvalid,
  input  logic               m_axi_gmem_arready,
  input  logic [IdW-1:0] m_axi_gmem_rid,
  input  logic [511:0]       m_axi_gmem_rdata,
  input  logic [1:0]         m_axi_gmem_rresp,
  input  logic               m_axi_gmem_rlast,
  input  logic               m_axi_gmem_rvalid,
  output logic               m_axi_gmem_rready
);

  logic rst, dp_rst;
  assign rst = !ap_rst_n;

  localparam int unsigned IdxW = $clog2(NumSa);
  localparam int unsigned WinW = $clog2(MaxReplayWindow) + 1;

  // card_ctrl <-> queue_engine
  logic                    enable, enabled, event_written, events_lost, unmatched_inc, ctrl_irq;
  logic                    eng_fault, q_fault, rd_mux_fault, wr_mux_fault, fatal_q;
  logic [63:0]             evq_base;
  logic [4:0]              evq_size_log2;
  logic                    evq_enable, evq_irq_enable;
  logic [15:0]             evq_cons, evq_prod;
  logic [31:0]             evq_lost;
  logic [RingPairs-1:0]    ring_enable, ring_irq_enable, ring_doorbell, ring_arm;
  logic [RingPairs-1:0]    ring_active, ring_busy, ring_error, ring_irq;
  logic [RingPairs*5-1:0]  ring_rq_size_log2, ring_cq_size_log2;
  logic [RingPairs*64-1:0] ring_rq_base, ring_cq_base;
  logic [RingPairs*16-1:0] ring_rq_prod, ring_cq_cons, ring_irq_mod_count, ring_irq_mod_time_us;
  logic [RingPairs*16-1:0] ring_rq_cons, ring_cq_prod;
  logic [RingPairs*8-1:0]  ring_error_code;
  // SA events
  logic                    ev_valid, ev_ready, ev_dir;
  logic [7:0]              ev_kind;
  logic [23:0]             ev_sa_index;
  logic [63:0]             ev_info;
  // card_ctrl <-> esp_engine
  logic                    lk_valid, lk_ready, lk_rsp_valid, lk_rsp_sa_valid, lk_rsp_hard_expired;
  logic [23:0]             lk_index, lk_rsp_index;
  logic [767:0]            lk_rsp_params;
  logic [255:0]            lk_rsp_key;
  logic [31:0]             lk_rsp_salt;
  logic [511:0]            lk_rsp_hpow;
  logic                    cnt_valid, cnt_ready;
  logic [23:0]             cnt_index;
  logic [1:0]              cnt_kind;
  logic [15:0]             cnt_bytes;
  logic [63:0]             cnt_seq;
  logic                    seq_valid, seq_ready, seq_rsp_valid, seq_rsp_ok, seq_rsp_exhausted;
  logic [23:0]             seq_index, seq_rsp_index;
  logic [63:0]             seq_rsp_seq;
  logic                    ri_valid, ri_ready, ri_esn;
  logic [IdxW-1:0]         ri_sa;
  logic [WinW-1:0]         ri_window;
  // queue_engine <-> esp_engine
  logic                    desc_valid, desc_ready, cpl_valid, cpl_ready, cpl_irq;
  logic [4:0]              desc_ring, cpl_ring;
  logic [15:0]             desc_index;
  logic [255:0]            desc, cpl_rec;

  card_ctrl #(
    .NumSa(NumSa), .RingPairs(RingPairs), .MaxRingLog2(MaxRingLog2), .FetchBurst(FetchBurst),
    .MaxReplayWindow(MaxReplayWindow), .AesLanes(AesLanes), .MaxPktBytes(MaxPktBytes),
    .BuildId(BuildId), .BuildDate(BuildDate)
  ) u_ctrl (
    .clk_i (ap_clk), .rst_i (rst),
    .s_axil_awaddr_i  (s_axi_control_awaddr),
    .s_axil_awvalid_i (s_axi_control_awvalid),
    .s_axil_awready_o (s_axi_control_awready),
    .s_axil_wdata_i   (s_axi_control_wdata),
    .s_axil_wstrb_i   (s_axi_control_wstrb),
    .s_axil_wvalid_i  (s_axi_control_wvalid),
    .s_axil_wready_o  (s_axi_control_wready),
    .s_axil_bresp_o   (s_axi_control_bresp),
    .s_axil_bvalid_o  (s_axi_control_bvalid),
    .s_axil_bready_i  (s_axi_control_bready),
    .s_axil_araddr_i  (s_axi_control_araddr),
    .s_axil_arvalid_i (s_axi_control_arvalid),
    .s_axil_arready_o (s_axi_control_arready),
    .s_axil_rdata_o   (s_axi_control_rdata),
    .s_axil_rresp_o   (s_axi_control_rresp),
    .s_axil_rvalid_o  (s_axi_control_rvalid),
    .s_axil_rready_i  (s_axi_control_rready),
    .dp_rst_o (dp_rst), .enable_o (enable), .enabled_i (enabled), .fatal_i (fatal_q),
    .event_written_i (event_written), .events_lost_i (events_lost),
    .unmatched_inc_i (unmatched_inc), .irq_o (ctrl_irq),
    .lk_valid_i (lk_valid), .lk_ready_o (lk_ready), .lk_index_i (lk_index),
    .lk_rsp_valid_o (lk_rsp_valid), .lk_rsp_index_o (lk_rsp_index),
    .lk_rsp_sa_valid_o (lk_rsp_sa_valid), .lk_rsp_hard_expired_o (lk_rsp_hard_expired),
    .lk_rsp_params_o (lk_rsp_params), .lk_rsp_key_o (lk_rsp_key), .lk_rsp_salt_o (lk_rsp_salt),
    .lk_rsp_hpow_o (lk_rsp_hpow),
    .ri_valid_o (ri_valid), .ri_ready_i (ri_ready), .ri_sa_o (ri_sa), .ri_window_o (ri_window),
    .ri_esn_o (ri_esn),
    .cnt_valid_i (cnt_valid), .cnt_ready_o (cnt_ready), .cnt_index_i (cnt_index),
    .cnt_kind_i (cnt_kind), .cnt_bytes_i (cnt_bytes), .cnt_seq_i (cnt_seq),
    .seq_valid_i (seq_valid), .seq_ready_o (seq_ready), .seq_index_i (seq_index),
    .seq_rsp_valid_o (seq_rsp_valid), .seq_rsp_index_o (seq_rsp_index),
    .seq_rsp_ok_o (seq_rsp_ok), .seq_rsp_exhausted_o (seq_rsp_exhausted),
    .seq_rsp_seq_o (seq_rsp_seq),
    .ev_valid_o (ev_valid), .ev_ready_i (ev_ready), .ev_kind_o (ev_kind),
    .ev_sa_index_o (ev_sa_index), .ev_dir_o (ev_dir), .ev_info_o (ev_info),
    .evq_base_o (evq_base), .evq_size_log2_o (evq_size_log2), .evq_enable_o (evq_enable),
    .evq_irq_enable_o (evq_irq_enable), .evq_cons_o (evq_cons), .evq_prod_i (evq_prod),
    .evq_lost_i (evq_lost),
    .ring_enable_o (ring_enable), .ring_irq_enable_o (ring_irq_enable),
    .ring_rq_size_log2_o (ring_rq_size_log2), .ring_cq_size_log2_o (ring_cq_size_log2),
    .ring_rq_base_o (ring_rq_base), .ring_cq_base_o (ring_cq_base),
    .ring_rq_prod_o (ring_rq_prod), .ring_doorbell_o (ring_doorbell),
    .ring_cq_cons_o (ring_cq_cons), .ring_arm_o (ring_arm),
    .ring_irq_mod_count_o (ring_irq_mod_count), .ring_irq_mod_time_us_o (ring_irq_mod_time_us),
    .ring_rq_cons_i (ring_rq_cons), .ring_cq_prod_i (ring_cq_prod),
    .ring_active_i (ring_active), .ring_busy_i (ring_busy), .ring_error_i (ring_error),
    .ring_error_code_i (ring_error_code)
  );

  // AXI masters before the muxes: [0] queue_engine, [1] outbound, [2] inbound
  logic [2:0]    s_arid, s_arvalid, s_arready, s_rvalid, s_rready;
  logic [191:0]  s_araddr;
  logic [23:0]   s_arlen;
  logic [8:0]    s_arsize;
  logic [5:0]    s_arburst;
  logic          s_rid, s_rlast;
  logic [511:0]  s_rdata;
  logic [1:0]    s_rresp;
  logic [2:0]    s_awid, s_awvalid, s_awready, s_wlast, s_wvalid, s_wready, s_bvalid, s_bready;
  logic [191:0]  s_awaddr;
  logic [23:0]   s_awlen;
  logic [8:0]    s_awsize;
  logic [5:0]    s_awburst;
  logic [1535:0] s_wdata;
  logic [191:0]  s_wstrb;
  logic          s_bid;
  logic [1:0]    s_bresp;

  // Descriptor read data reaches queue_engine through a FIFO that holds a whole fetch burst: the
  // engine fetches one burst at a time and hands descriptors out only as fast as esp_engine takes
  // them, and R is one channel shared with the packet reads (in order behind a shell's
  // interconnect), so a burst left on the channel would block the packet data the engines need
  // to free up (head-of-line blocking). The FIFO always has room for the burst in flight.
  localparam int unsigned QrDepth = 1 << $clog2(FetchBurst / 2 + 2);
  logic          q_rid, q_rlast, q_rvalid, q_rready;
  logic [511:0]  q_rdata;
  logic [1:0]    q_rresp;
  fifo_sync #(.Width(1 + 512 + 2 + 1), .Depth(QrDepth)) u_qr_fifo (
    .clk_i (ap_clk), .rst_i (dp_rst),
    .in_data_i  ({s_rid, s_rdata, s_rresp, s_rlast}),
    .in_valid_i (s_rvalid[0]),
    .in_ready_o (s_rready[0]),
    .out_data_o ({q_rid, q_rdata, q_rresp, q_rlast}),
    .out_valid_o(q_rvalid),
    .out_ready_i(q_rready)
  );

  queue_engine #(
    .RingPairs(RingPairs), .MaxRingLog2(MaxRingLog2), .FetchBurst(FetchBurst), .IdW(1),
    .ClkMHz(ClkMHz)
  ) u_queues (
    .clk_i (ap_clk), .rst_i (dp_rst),
    .enable_i (enable), .enabled_o (enabled),
    .ring_enable_i (ring_enable), .ring_irq_enable_i (ring_irq_enable),
    .ring_rq_size_log2_i (ring_rq_size_log2), .ring_cq_size_log2_i (ring_cq_size_log2),
    .ring_rq_base_i (ring_rq_base), .ring_cq_base_i (ring_cq_base),
    .ring_rq_prod_i (ring_rq_prod), .ring_doorbell_i (ring_doorbell),
    .ring_cq_cons_i (ring_cq_cons), .ring_arm_i (ring_arm),
    .ring_irq_mod_count_i (ring_irq_mod_count), .ring_irq_mod_time_us_i (ring_irq_mod_time_us),
    .ring_rq_cons_o (ring_rq_cons), .ring_cq_prod_o (ring_cq_prod),
    .ring_active_o (ring_active), .ring_busy_o (ring_busy), .ring_error_o (ring_error),
    .ring_error_code_o (ring_error_code),
    .evq_base_i (evq_base), .evq_size_log2_i (evq_size_log2), .evq_enable_i (evq_enable),
    .evq_irq_enable_i (evq_irq_enable), .evq_cons_i (evq_cons), .evq_prod_o (evq_prod),
    .evq_lost_o (evq_lost), .event_written_o (event_written), .events_lost_o (events_lost),
    .irq_o (ring_irq),
    .desc_valid_o (desc_valid), .desc_ready_i (desc_ready), .desc_ring_o (desc_ring),
    .desc_index_o (desc_index), .desc_o (desc),
    .cpl_valid_i (cpl_valid), .cpl_ready_o (cpl_ready), .cpl_ring_i (cpl_ring),
    .cpl_rec_i (cpl_rec), .cpl_irq_i (cpl_irq),
    .ev_valid_i (ev_valid), .ev_ready_o (ev_ready), .ev_kind_i (ev_kind),
    .ev_sa_index_i (ev_sa_index), .ev_dir_i (ev_dir), .ev_info_i (ev_info),
    .m_axi_arid_o (s_arid[0]), .m_axi_araddr_o (s_araddr[0 +: 64]), .m_axi_arlen_o (s_arlen[0 +: 8]),
    .m_axi_arsize_o (s_arsize[0 +: 3]), .m_axi_arburst_o (s_arburst[0 +: 2]),
    .m_axi_arvalid_o (s_arvalid[0]), .m_axi_arready_i (s_arready[0]),
    .m_axi_rid_i (q_rid), .m_axi_rdata_i (q_rdata), .m_axi_rresp_i (q_rresp),
    .m_axi_rlast_i (q_rlast), .m_axi_rvalid_i (q_rvalid), .m_axi_rready_o (q_rready),
    .m_axi_awid_o (s_awid[0]), .m_axi_awaddr_o (s_awaddr[0 +: 64]), .m_axi_awlen_o (s_awlen[0 +: 8]),
    .m_axi_awsize_o (s_awsize[0 +: 3]), .m_axi_awburst_o (s_awburst[0 +: 2]),
    .m_axi_awvalid_o (s_awvalid[0]), .m_axi_awready_i (s_awready[0]),
    .m_axi_wdata_o (s_wdata[0 +: 512]), .m_axi_wstrb_o (s_wstrb[0 +: 64]),
    .m_axi_wlast_o (s_wlast[0]), .m_axi_wvalid_o (s_wvalid[0]), .m_axi_wready_i (s_wready[0]),
    .m_axi_bid_i (s_bid), .m_axi_bresp_i (s_bresp), .m_axi_bvalid_i (s_bvalid[0]),
    .m_axi_bready_o (s_bready[0]),
    .fault_o        (q_fault)
  );

  esp_engine #(
    .NumSa(NumSa), .Lanes(AesLanes), .MaxPktBytes(MaxPktBytes), .MaxReplayWindow(MaxReplayWindow)
  ) u_engine (
    .clk_i (ap_clk), .rst_i (dp_rst),
    .desc_valid_i (desc_valid), .desc_ready_o (desc_ready), .desc_ring_i (desc_ring),
    .desc_index_i (desc_index), .desc_i (desc),
    .cpl_valid_o (cpl_valid), .cpl_ready_i (cpl_ready), .cpl_ring_o (cpl_ring),
    .cpl_rec_o (cpl_rec), .cpl_irq_o (cpl_irq), .unmatched_inc_o (unmatched_inc),
    .lk_valid_o (lk_valid), .lk_ready_i (lk_ready), .lk_index_o (lk_index),
    .lk_rsp_valid_i (lk_rsp_valid), .lk_rsp_sa_valid_i (lk_rsp_sa_valid),
    .lk_rsp_hard_expired_i (lk_rsp_hard_expired), .lk_rsp_params_i (lk_rsp_params),
    .lk_rsp_key_i (lk_rsp_key), .lk_rsp_salt_i (lk_rsp_salt), .lk_rsp_hpow_i (lk_rsp_hpow),
    .cnt_valid_o (cnt_valid), .cnt_ready_i (cnt_ready), .cnt_index_o (cnt_index),
    .cnt_kind_o (cnt_kind), .cnt_bytes_o (cnt_bytes), .cnt_seq_o (cnt_seq),
    .seq_valid_o (seq_valid), .seq_ready_i (seq_ready), .seq_index_o (seq_index),
    .seq_rsp_valid_i (seq_rsp_valid), .seq_rsp_ok_i (seq_rsp_ok),
    .seq_rsp_exhausted_i (seq_rsp_exhausted), .seq_rsp_seq_i (seq_rsp_seq),
    .ri_valid_i (ri_valid), .ri_ready_o (ri_ready), .ri_sa_i (ri_sa), .ri_window_i (ri_window),
    .ri_esn_i (ri_esn),
    .m_arid_o (s_arid[2:1]), .m_araddr_o (s_araddr[64 +: 128]), .m_arlen_o (s_arlen[8 +: 16]),
    .m_arsize_o (s_arsize[3 +: 6]), .m_arburst_o (s_arburst[2 +: 4]),
    .m_arvalid_o (s_arvalid[2:1]), .m_arready_i (s_arready[2:1]),
    .m_rid_i (s_rid), .m_rdata_i (s_rdata), .m_rresp_i (s_rresp), .m_rlast_i (s_rlast),
    .m_rvalid_i (s_rvalid[2:1]), .m_rready_o (s_rready[2:1]),
    .m_awid_o (s_awid[2:1]), .m_awaddr_o (s_awaddr[64 +: 128]), .m_awlen_o (s_awlen[8 +: 16]),
    .m_awsize_o (s_awsize[3 +: 6]), .m_awburst_o (s_awburst[2 +: 4]),
    .m_awvalid_o (s_awvalid[2:1]), .m_awready_i (s_awready[2:1]),
    .m_wdata_o (s_wdata[512 +: 1024]), .m_wstrb_o (s_wstrb[64 +: 128]),
    .m_wlast_o (s_wlast[2:1]), .m_wvalid_o (s_wvalid[2:1]), .m_wready_i (s_wready[2:1]),
    .m_bid_i (s_bid), .m_bresp_i (s_bresp), .m_bvalid_i (s_bvalid[2:1]),
    .m_bready_o (s_bready[2:1]),
    .fault_o (eng_fault)
  );

  axi_rd_mux #(.N(3), .SIdW(1)) u_rd_mux (
    .clk_i (ap_clk), .rst_i (dp_rst),
    .s_arid_i (s_arid), .s_araddr_i (s_araddr), .s_arlen_i (s_arlen), .s_arsize_i (s_arsize),
    .s_arburst_i (s_arburst), .s_arvalid_i (s_arvalid), .s_arready_o (s_arready),
    .s_rid_o (s_rid), .s_rdata_o (s_rdata), .s_rresp_o (s_rresp), .s_rlast_o (s_rlast),
    .s_rvalid_o (s_rvalid), .s_rready_i (s_rready),
    .m_arid_o (m_axi_gmem_arid), .m_araddr_o (m_axi_gmem_araddr), .m_arlen_o (m_axi_gmem_arlen),
    .m_arsize_o (m_axi_gmem_arsize), .m_arburst_o (m_axi_gmem_arburst),
    .m_arvalid_o (m_axi_gmem_arvalid), .m_arready_i (m_axi_gmem_arready),
    .m_rid_i (m_axi_gmem_rid), .m_rdata_i (m_axi_gmem_rdata), .m_rresp_i (m_axi_gmem_rresp),
    .m_rlast_i (m_axi_gmem_rlast), .m_rvalid_i (m_axi_gmem_rvalid), .m_rready_o (m_axi_gmem_rready),
    .fault_o (rd_mux_fault)
  );
  axi_wr_mux #(.N(3), .SIdW(1)) u_wr_mux (
    .clk_i (ap_clk), .rst_i (dp_rst),
    .s_awid_i (s_awid), .s_awaddr_i (s_awaddr), .s_awlen_i (s_awlen), .s_awsize_i (s_awsize),
    .s_awburst_i (s_awburst), .s_awvalid_i (s_awvalid), .s_awready_o (s_awready),
    .s_wdata_i (s_wdata), .s_wstrb_i (s_wstrb), .s_wlast_i (s_wlast), .s_wvalid_i (s_wvalid),
    .s_wready_o (s_wready),
    .s_bid_o (s_bid), .s_bresp_o (s_bresp), .s_bvalid_o (s_bvalid), .s_bready_i (s_bready),
    .m_awid_o (m_axi_gmem_awid), .m_awaddr_o (m_axi_gmem_awaddr), .m_awlen_o (m_axi_gmem_awlen),
    .m_awsize_o (m_axi_gmem_awsize), .m_awburst_o (m_axi_gmem_awburst),
    .m_awvalid_o (m_axi_gmem_awvalid), .m_awready_i (m_axi_gmem_awready),
    .m_wdata_o (m_axi_gmem_wdata), .m_wstrb_o (m_axi_gmem_wstrb), .m_wlast_o (m_axi_gmem_wlast),
    .m_wvalid_o (m_axi_gmem_wvalid), .m_wready_i (m_axi_gmem_wready),
    .m_bid_i (m_axi_gmem_bid), .m_bresp_i (m_axi_gmem_bresp), .m_bvalid_i (m_axi_gmem_bvalid),
    .m_bready_o (m_axi_gmem_bready),
    .fault_o (wr_mux_fault)
  );

  // Internal faults (docs/device-interface.md, "Errors"): a response on the host-memory port
  // that nothing was waiting for, drained by the mux (ID of no master), the queue engine or a
  // DMA engine. The host side broke the AXI contract, so the card's view of its memory traffic can
  // no longer be trusted: CTRL_STATUS.FATAL (sticky until a soft reset) and IRQ_STATUS.FATAL.
  always_ff @(posedge ap_clk) begin
    if (dp_rst) fatal_q <= 1'b0;
    else        fatal_q <= eng_fault || q_fault || rd_mux_fault || wr_mux_fault;
  end

  assign interrupt = ctrl_irq || (|ring_irq);

endmodule
