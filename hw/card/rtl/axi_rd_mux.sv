// SPDX-License-Identifier: Apache-2.0
//
// AXI4 read-channel multiplexer: N masters onto one (hw/card/doc/dma.md).
//
// AR: round-robin among the masters with ARVALID, into a register slice (the AR outputs are
// flops). The outgoing ARID is {master index, the master's own ARID}, so the slave's responses
// carry the index in their top bits. R is routed by those bits with no storage: RVALID goes to
// the master named by RID, RREADY comes from it (combinational, ready follows valid, no loop).
// Different masters' bursts may come back in any order (different IDs); each master's own ID is
// untouched below the index, so its ordering rules are unchanged. Flat vectors, master i at
// [i*W +: W], for the Yosys 0.23 subset.
`default_nettype none

module axi_rd_mux #(
  parameter int unsigned N     = 2,    // masters, >= 2
  parameter int unsigned SIdW  = 1,    // each master's ARID width
  localparam int unsigned IdxW = $clog2(N),
  localparam int unsigned MIdW = SIdW + IdxW  // outgoing ARID width
) (
  input  logic              clk_i,
  input  logic              rst_i,     // synchronous, active high

  // Masters (slave side of the mux)
  input  logic [N*SIdW-1:0] s_arid_i,
  input  logic [N*64-1:0]   s_araddr_i,
  input  logic [N*8-1:0]    s_arlen_i,
  input  logic [N*3-1:0]    s_arsize_i,
  input  logic [N*2-1:0]    s_arburst_i,
  input  logic [N-1:0]      s_arvalid_i,
  output logic [N-1:0]      s_arready_o,
  output logic [SIdW-1:0]   s_rid_o,   // shared by all masters
  output logic [511:0]      s_rdata_o,
  output logic [1:0]        s_rresp_o,
  output logic              s_rlast_o,
  output logic [N-1:0]      s_rvalid_o,
  input  logic [N-1:0]      s_rready_i,

  // Toward the slave
  output logic [MIdW-1:0]   m_arid_o,
  output logic [63:0]       m_araddr_o,
  output logic [7:0]        m_arlen_o,
  output logic [2:0]        m_arsize_o,
  output logic [1:0]        m_arburst_o,
  output logic              m_arvalid_o,
  input  logic              m_arready_i,
  input  logic [MIdW-1:0]   m_rid_i,
  input  logic [511:0]      m_rdata_i,
  input  logic [1:0]        m_rresp_i,
  input  logic              m_rlast_i,
  input  logic              m_rvalid_i,
  output logic              m_rready_o,

  // An R beat whose ID names no master was drained: one-cycle pulse (CTRL_STATUS.FATAL).
  output logic              fault_o
);

  if (N < 2) begin : gen_bad_n
    $fatal(1, "axi_rd_mux: N must be at least 2");
  end

  // ---------------------------------------------------------------------------------------------
  // AR: round-robin into a register slice
  // ---------------------------------------------------------------------------------------------
  logic [IdxW-1:0] last_d, last_q;   // master granted last
  logic [IdxW-1:0] sel;
  logic            found, slot_free, grant;
  int unsigned     idx;               // arbiter loop variable
  logic            ar_valid_d, ar_valid_q;
  logic [MIdW-1:0] ar_id_d, ar_id_q;
  logic [63:0]     ar_addr_d, ar_addr_q;
  logic [7:0]      ar_len_d, ar_len_q;
  logic [2:0]      ar_size_d, ar_size_q;
  logic [1:0]      ar_burst_d, ar_burst_q;

  // The first requesting master after the last one granted.
  always_comb begin
    sel   = last_q;
    idx   = 0;
    found = 1'b0;
    for (int o = 1; o <= N; o++) begin
      idx = 32'(last_q) + o;
      if (idx >= N) idx = idx - N;
      if (!found && s_arvalid_i[idx]) begin
        sel   = IdxW'(idx);
        found = 1'b1;
      end
    end
  end

  assign slot_free = !ar_valid_q || m_arready_i;
  assign grant     = found && slot_free;

  always_comb begin
    s_arready_o = '0;
    if (grant) s_arready_o[sel] = 1'b1;
    last_d     = grant ? sel : last_q;
    ar_valid_d = grant || (ar_valid_q && !m_arready_i);
    ar_id_d    = ar_id_q;
    ar_addr_d  = ar_addr_q;
    ar_len_d   = ar_len_q;
    ar_size_d  = ar_size_q;
    ar_burst_d = ar_burst_q;
    if (grant) begin
      ar_id_d    = {sel, s_arid_i[sel*SIdW +: SIdW]};
      ar_addr_d  = s_araddr_i[sel*64 +: 64];
      ar_len_d   = s_arlen_i[sel*8 +: 8];
      ar_size_d  = s_arsize_i[sel*3 +: 3];
      ar_burst_d = s_arburst_i[sel*2 +: 2];
    end
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      last_q     <= IdxW'(N - 1);
      ar_valid_q <= 1'b0;
    end else begin
      last_q     <= last_d;
      ar_valid_q <= ar_valid_d;
    end
  end
  always_ff @(posedge clk_i) begin
    ar_id_q    <= ar_id_d;
    ar_addr_q  <= ar_addr_d;
    ar_len_q   <= ar_len_d;
    ar_size_q  <= ar_size_d;
    ar_burst_q <= ar_burst_d;
  end

  assign m_arid_o    = ar_id_q;
  assign m_araddr_o  = ar_addr_q;
  assign m_arlen_o   = ar_len_q;
  assign m_arsize_o  = ar_size_q;
  assign m_arburst_o = ar_burst_q;
  assign m_arvalid_o = ar_valid_q;

  // ---------------------------------------------------------------------------------------------
  // R: routed by the index in RID's top bits
  // ---------------------------------------------------------------------------------------------
  logic [IdxW-1:0] r_sel;
  assign r_sel     = m_rid_i[MIdW-1 -: IdxW];
  assign s_rid_o   = m_rid_i[SIdW-1:0];
  assign s_rdata_o = m_rdata_i;
  assign s_rresp_o = m_rresp_i;
  assign s_rlast_o = m_rlast_i;

  always_comb begin
    s_rvalid_o = '0;
    s_rvalid_o[r_sel] = m_rvalid_i;
  end
  // An index beyond N-1 (N not a power of two) names no master: its beats are drained.
  assign m_rready_o = (32'(r_sel) < N) ? s_rready_i[r_sel] : 1'b1;
  assign fault_o    = m_rvalid_i && !(32'(r_sel) < N);

endmodule
