// SPDX-License-Identifier: Apache-2.0
//
// AXI4 write-channel multiplexer: N masters onto one (hw/card/doc/dma.md).
//
// AW: round-robin among the masters with AWVALID, into a register slice; the outgoing AWID is
// {master index, the master's own AWID}. Each granted AW also pushes its master's index into the
// W-order FIFO, so W beats go out strictly in AW order: the FIFO's head master owns the W channel
// until its WLAST, and no other master's beat can slip in (the W channel is locked to one master
// per burst, in grant order). AW may run up to WOrderDepth bursts ahead of W, so the slave holds
// the next burst's address before the current one's data ends (no gap between bursts).
// W is a multiplexer selected by the FIFO head (a flop), B is routed by BID's top bits; neither
// holds storage and both only pass ready back toward valid (no combinational loop).
// Caveat (as for any AXI write interconnect that issues AW ahead of data): a master that wins AW
// and then withholds its W data blocks the other masters' W until it delivers.
`default_nettype none

module axi_wr_mux #(
  parameter int unsigned N           = 2,  // masters, >= 2
  parameter int unsigned SIdW        = 1,  // each master's AWID width
  parameter int unsigned WOrderDepth = 8,  // AW bursts granted ahead of their W data (pow2)
  localparam int unsigned IdxW = $clog2(N),
  localparam int unsigned MIdW = SIdW + IdxW  // outgoing AWID width
) (
  input  logic              clk_i,
  input  logic              rst_i,     // synchronous, active high

  // Masters (slave side of the mux)
  input  logic [N*SIdW-1:0] s_awid_i,
  input  logic [N*64-1:0]   s_awaddr_i,
  input  logic [N*8-1:0]    s_awlen_i,
  input  logic [N*3-1:0]    s_awsize_i,
  input  logic [N*2-1:0]    s_awburst_i,
  input  logic [N-1:0]      s_awvalid_i,
  output logic [N-1:0]      s_awready_o,
  input  logic [N*512-1:0]  s_wdata_i,
  input  logic [N*64-1:0]   s_wstrb_i,
  input  logic [N-1:0]      s_wlast_i,
  input  logic [N-1:0]      s_wvalid_i,
  output logic [N-1:0]      s_wready_o,
  output logic [SIdW-1:0]   s_bid_o,   // shared by all masters
  output logic [1:0]        s_bresp_o,
  output logic [N-1:0]      s_bvalid_o,
  input  logic [N-1:0]      s_bready_i,

  // Toward the slave
  output logic [MIdW-1:0]   m_awid_o,
  output logic [63:0]       m_awaddr_o,
  output logic [7:0]        m_awlen_o,
  output logic [2:0]        m_awsize_o,
  output logic [1:0]        m_awburst_o,
  output logic              m_awvalid_o,
  input  logic              m_awready_i,
  output logic [511:0]      m_wdata_o,
  output logic [63:0]       m_wstrb_o,
  output logic              m_wlast_o,
  output logic              m_wvalid_o,
  input  logic              m_wready_i,
  input  logic [MIdW-1:0]   m_bid_i,
  input  logic [1:0]        m_bresp_i,
  input  logic              m_bvalid_i,
  output logic              m_bready_o,

  // A B response whose ID names no master was drained: one-cycle pulse (CTRL_STATUS.FATAL).
  output logic              fault_o
);

  if (N < 2) begin : gen_bad_n
    $fatal(1, "axi_wr_mux: N must be at least 2");
  end

  // ---------------------------------------------------------------------------------------------
  // AW: round-robin into a register slice; each grant queues its master for W
  // ---------------------------------------------------------------------------------------------
  logic [IdxW-1:0] last_d, last_q;
  logic [IdxW-1:0] sel;
  logic            found, slot_free, grant;
  int unsigned     idx;               // arbiter loop variable
  logic            wo_in_ready, wo_valid, w_pop;
  logic [IdxW-1:0] wo_sel;
  logic            aw_valid_d, aw_valid_q;
  logic [MIdW-1:0] aw_id_d, aw_id_q;
  logic [63:0]     aw_addr_d, aw_addr_q;
  logic [7:0]      aw_len_d, aw_len_q;
  logic [2:0]      aw_size_d, aw_size_q;
  logic [1:0]      aw_burst_d, aw_burst_q;

  always_comb begin
    sel   = last_q;
    idx   = 0;
    found = 1'b0;
    for (int o = 1; o <= N; o++) begin
      idx = 32'(last_q) + o;
      if (idx >= N) idx = idx - N;
      if (!found && s_awvalid_i[idx]) begin
        sel   = IdxW'(idx);
        found = 1'b1;
      end
    end
  end

  assign slot_free = !aw_valid_q || m_awready_i;
  assign grant     = found && slot_free && wo_in_ready;

  always_comb begin
    s_awready_o = '0;
    if (grant) s_awready_o[sel] = 1'b1;
    last_d     = grant ? sel : last_q;
    aw_valid_d = grant || (aw_valid_q && !m_awready_i);
    aw_id_d    = aw_id_q;
    aw_addr_d  = aw_addr_q;
    aw_len_d   = aw_len_q;
    aw_size_d  = aw_size_q;
    aw_burst_d = aw_burst_q;
    if (grant) begin
      aw_id_d    = {sel, s_awid_i[sel*SIdW +: SIdW]};
      aw_addr_d  = s_awaddr_i[sel*64 +: 64];
      aw_len_d   = s_awlen_i[sel*8 +: 8];
      aw_size_d  = s_awsize_i[sel*3 +: 3];
      aw_burst_d = s_awburst_i[sel*2 +: 2];
    end
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      last_q     <= IdxW'(N - 1);
      aw_valid_q <= 1'b0;
    end else begin
      last_q     <= last_d;
      aw_valid_q <= aw_valid_d;
    end
  end
  always_ff @(posedge clk_i) begin
    aw_id_q    <= aw_id_d;
    aw_addr_q  <= aw_addr_d;
    aw_len_q   <= aw_len_d;
    aw_size_q  <= aw_size_d;
    aw_burst_q <= aw_burst_d;
  end

  assign m_awid_o    = aw_id_q;
  assign m_awaddr_o  = aw_addr_q;
  assign m_awlen_o   = aw_len_q;
  assign m_awsize_o  = aw_size_q;
  assign m_awburst_o = aw_burst_q;
  assign m_awvalid_o = aw_valid_q;

  // ---------------------------------------------------------------------------------------------
  // W: the W-order FIFO's head master until its WLAST
  // ---------------------------------------------------------------------------------------------
  fifo_sync #(.Width(IdxW), .Depth(WOrderDepth)) u_w_order (
    .clk_i       (clk_i),
    .rst_i       (rst_i),
    .in_data_i   (sel),
    .in_valid_i  (grant),
    .in_ready_o  (wo_in_ready),
    .out_data_o  (wo_sel),
    .out_valid_o (wo_valid),
    .out_ready_i (w_pop)
  );

  assign m_wdata_o  = s_wdata_i[wo_sel*512 +: 512];
  assign m_wstrb_o  = s_wstrb_i[wo_sel*64 +: 64];
  assign m_wlast_o  = s_wlast_i[wo_sel];
  assign m_wvalid_o = wo_valid && s_wvalid_i[wo_sel];
  assign w_pop      = m_wvalid_o && m_wready_i && m_wlast_o;

  always_comb begin
    s_wready_o = '0;
    s_wready_o[wo_sel] = wo_valid && m_wready_i;
  end

  // ---------------------------------------------------------------------------------------------
  // B: routed by the index in BID's top bits
  // ---------------------------------------------------------------------------------------------
  logic [IdxW-1:0] b_sel;
  assign b_sel     = m_bid_i[MIdW-1 -: IdxW];
  assign s_bid_o   = m_bid_i[SIdW-1:0];
  assign s_bresp_o = m_bresp_i;

  always_comb begin
    s_bvalid_o = '0;
    s_bvalid_o[b_sel] = m_bvalid_i;
  end
  // An index beyond N-1 (N not a power of two) names no master: its responses are drained.
  assign m_bready_o = (32'(b_sel) < N) ? s_bready_i[b_sel] : 1'b1;
  assign fault_o    = m_bvalid_i && !(32'(b_sel) < N);

endmodule
