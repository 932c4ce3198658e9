// SPDX-License-Identifier: Apache-2.0
//
// Bench top for the DMA blocks (hw/card/doc/dma.md): two dma_rd and two dma_wr behind
// axi_rd_mux / axi_wr_mux on one m_axi_gmem master, with the Vitis RTL kernel ports
// (ap_clk, ap_rst_n, s_axi_control_*, m_axi_gmem_*, interrupt) so that ipsec::sim::Harness,
// HostMemory and Axi4MemorySlave serve the memory side. The engines' command and stream ports are
// top-level ports the GoogleTest bench drives.
//
// Every port the test drives or samples passes through a skid_buffer, so each handshake signal the
// test sees (cmd ready, output valid/payload) is a flop: the test reads them after a clock edge,
// sets its inputs and steps one cycle, and a transfer happened exactly when both sides were high.
// Engine 0 uses MaxBurst0/Outstanding0 (64, 8: 4 KiB bursts, enough in flight to cover ~100
// cycles of latency at full rate), engine 1 the small MaxBurst1/Outstanding1 (8, 2), so one model
// exercises both splitting regimes.
// s_axi_control is a dummy register slave: writes are acknowledged and dropped, reads return
// "DMA1". interrupt is a sticky "fault seen" flag: any dma_rd/dma_wr/mux fault_o since reset
// (a response nothing was waiting for).
`default_nettype none

module dma_tb_top #(
  parameter int unsigned MaxBurst0    = 64,
  parameter int unsigned Outstanding0 = 8,
  parameter int unsigned MaxBurst1    = 8,
  parameter int unsigned Outstanding1 = 2,
  localparam int unsigned SIdW = 2,          // each engine's own ID width
  localparam int unsigned MIdW = SIdW + 1    // after the 2:1 muxes
) (
  input  logic            ap_clk,
  input  logic            ap_rst_n,          // synchronous, active low
  output logic            interrupt,

  input  logic [11:0]     s_axi_control_awaddr,
  input  logic            s_axi_control_awvalid,
  output logic            s_axi_control_awready,
  input  logic [31:0]     s_axi_control_wdata,
  input  logic [3:0]      s_axi_control_wstrb,
  input  logic            s_axi_control_wvalid,
  output logic            s_axi_control_wready,
  output logic [1:0]      s_axi_control_bresp,
  output logic            s_axi_control_bvalid,
  input  logic            s_axi_control_bready,
  input  logic [11:0]     s_axi_control_araddr,
  input  logic            s_axi_control_arvalid,
  output logic            s_axi_control_arready,
  output logic [31:0]     s_axi_control_rdata,
  output logic [1:0]      s_axi_control_rresp,
  output logic            s_axi_control_rvalid,
  input  logic            s_axi_control_rready,

  output logic [MIdW-1:0] m_axi_gmem_awid,
  output logic [63:0]     m_axi_gmem_awaddr,
  output logic [7:0]      m_axi_gmem_awlen,
  output logic [2:0]      m_axi_gmem_awsize,
  output logic [1:0]      m_axi_gmem_awburst,
  output logic            m_axi_gmem_awvalid,
  input  logic            m_axi_gmem_awready,
  output logic [511:0]    m_axi_gmem_wdata,
  output logic [63:0]     m_axi_gmem_wstrb,
  output logic            m_axi_gmem_wlast,
  output logic            m_axi_gmem_wvalid,
  input  logic            m_axi_gmem_wready,
  input  logic [MIdW-1:0] m_axi_gmem_bid,
  input  logic [1:0]      m_axi_gmem_bresp,
  input  logic            m_axi_gmem_bvalid,
  output logic            m_axi_gmem_bready,
  output logic [MIdW-1:0] m_axi_gmem_arid,
  output logic [63:0]     m_axi_gmem_araddr,
  output logic [7:0]      m_axi_gmem_arlen,
  output logic [2:0]      m_axi_gmem_arsize,
  output logic [1:0]      m_axi_gmem_arburst,
  output logic            m_axi_gmem_arvalid,
  input  logic            m_axi_gmem_arready,
  input  logic [MIdW-1:0] m_axi_gmem_rid,
  input  logic [511:0]    m_axi_gmem_rdata,
  input  logic [1:0]      m_axi_gmem_rresp,
  input  logic            m_axi_gmem_rlast,
  input  logic            m_axi_gmem_rvalid,
  output logic            m_axi_gmem_rready,
  // Read engine 0: command in, packet stream out
  input  logic [63:0]     rd0_cmd_addr,
  input  logic [15:0]     rd0_cmd_len,
  input  logic            rd0_cmd_valid,
  output logic            rd0_cmd_ready,
  output logic [511:0]    rd0_data,
  output logic [6:0]      rd0_bytes,
  output logic            rd0_last,
  output logic            rd0_err,
  output logic            rd0_valid,
  input  logic            rd0_ready,

  // Write engine 0: command and packet stream in, done out
  input  logic [63:0]     wr0_cmd_addr,
  input  logic [15:0]     wr0_cmd_len,
  input  logic            wr0_cmd_valid,
  output logic            wr0_cmd_ready,
  input  logic [511:0]    wr0_data,
  input  logic [6:0]      wr0_bytes,
  input  logic            wr0_last,
  input  logic            wr0_valid,
  output logic            wr0_ready,
  output logic            wr0_done_err,
  output logic            wr0_done_valid,
  input  logic            wr0_done_ready,

  // Read engine 1: command in, packet stream out
  input  logic [63:0]     rd1_cmd_addr,
  input  logic [15:0]     rd1_cmd_len,
  input  logic            rd1_cmd_valid,
  output logic            rd1_cmd_ready,
  output logic [511:0]    rd1_data,
  output logic [6:0]      rd1_bytes,
  output logic            rd1_last,
  output logic            rd1_err,
  output logic            rd1_valid,
  input  logic            rd1_ready,

  // Write engine 1: command and packet stream in, done out
  input  logic [63:0]     wr1_cmd_addr,
  input  logic [15:0]     wr1_cmd_len,
  input  logic            wr1_cmd_valid,
  output logic            wr1_cmd_ready,
  input  logic [511:0]    wr1_data,
  input  logic [6:0]      wr1_bytes,
  input  logic            wr1_last,
  input  logic            wr1_valid,
  output logic            wr1_ready,
  output logic            wr1_done_err,
  output logic            wr1_done_valid,
  input  logic            wr1_done_ready
);

  logic rst;
  assign rst       = !ap_rst_n;
  logic [5:0] faults;
  logic       fault_seen_q;
  always_ff @(posedge ap_clk) begin
    if (rst) fault_seen_q <= 1'b0;
    else     fault_seen_q <= fault_seen_q || (|faults);
  end
  assign interrupt = fault_seen_q;

  // ---------------------------------------------------------------------------------------------
  // Dummy register slave: one write and one read at a time, OKAY, reads "DMA1"
  // ---------------------------------------------------------------------------------------------
  logic lite_b_q, lite_r_q;
  assign s_axi_control_awready = s_axi_control_awvalid && s_axi_control_wvalid && !lite_b_q;
  assign s_axi_control_wready  = s_axi_control_awready;
  assign s_axi_control_bresp   = 2'b00;
  assign s_axi_control_bvalid  = lite_b_q;
  assign s_axi_control_arready = !lite_r_q;
  assign s_axi_control_rdata   = 32'h444D4131;
  assign s_axi_control_rresp   = 2'b00;
  assign s_axi_control_rvalid  = lite_r_q;
  always_ff @(posedge ap_clk) begin
    if (rst) begin
      lite_b_q <= 1'b0;
      lite_r_q <= 1'b0;
    end else begin
      lite_b_q <= s_axi_control_awready || (lite_b_q && !s_axi_control_bready);
      lite_r_q <= (s_axi_control_arvalid && !lite_r_q) || (lite_r_q && !s_axi_control_rready);
    end
  end
  logic unused_lite;
  assign unused_lite = ^{s_axi_control_awaddr, s_axi_control_wdata, s_axi_control_wstrb,
                         s_axi_control_araddr};

  // ---------------------------------------------------------------------------------------------
  // Engines, each between skid buffers on its test-facing ports
  // ---------------------------------------------------------------------------------------------
  logic [2*SIdW-1:0] ar_id, aw_id;
  logic [2*64-1:0]   ar_addr, aw_addr;
  logic [2*8-1:0]    ar_len, aw_len;
  logic [2*3-1:0]    ar_size, aw_size;
  logic [2*2-1:0]    ar_burst, aw_burst;
  logic [1:0]        ar_valid, ar_ready, aw_valid, aw_ready;
  logic [SIdW-1:0]   r_id, b_id;
  logic [511:0]      r_data;
  logic [1:0]        r_resp, b_resp;
  logic              r_last;
  logic [1:0]        r_valid, r_ready, b_valid, b_ready;
  logic [2*512-1:0]  w_data;
  logic [2*64-1:0]   w_strb;
  logic [1:0]        w_last, w_valid, w_ready;

  // Engine 0
  logic [79:0]  rd0_c_data, wr0_c_data;
  logic         rd0_c_valid, rd0_c_ready, wr0_c_valid, wr0_c_ready;
  logic [520:0] rd0_o_data;
  logic         rd0_o_valid, rd0_o_ready;
  logic [519:0] wr0_i_data;
  logic         wr0_i_valid, wr0_i_ready;
  logic         wr0_d_err, wr0_d_valid, wr0_d_ready;

  skid_buffer #(.Width(80)) u_rd0_cmd (
    .clk_i(ap_clk), .rst_i(rst),
    .in_data_i({rd0_cmd_addr, rd0_cmd_len}), .in_valid_i(rd0_cmd_valid), .in_ready_o(rd0_cmd_ready),
    .out_data_o(rd0_c_data), .out_valid_o(rd0_c_valid), .out_ready_i(rd0_c_ready));
  skid_buffer #(.Width(521)) u_rd0_out (
    .clk_i(ap_clk), .rst_i(rst),
    .in_data_i(rd0_o_data), .in_valid_i(rd0_o_valid), .in_ready_o(rd0_o_ready),
    .out_data_o({rd0_data, rd0_bytes, rd0_last, rd0_err}), .out_valid_o(rd0_valid),
    .out_ready_i(rd0_ready));
  skid_buffer #(.Width(80)) u_wr0_cmd (
    .clk_i(ap_clk), .rst_i(rst),
    .in_data_i({wr0_cmd_addr, wr0_cmd_len}), .in_valid_i(wr0_cmd_valid), .in_ready_o(wr0_cmd_ready),
    .out_data_o(wr0_c_data), .out_valid_o(wr0_c_valid), .out_ready_i(wr0_c_ready));
  skid_buffer #(.Width(520)) u_wr0_in (
    .clk_i(ap_clk), .rst_i(rst),
    .in_data_i({wr0_data, wr0_bytes, wr0_last}), .in_valid_i(wr0_valid), .in_ready_o(wr0_ready),
    .out_data_o(wr0_i_data), .out_valid_o(wr0_i_valid), .out_ready_i(wr0_i_ready));
  skid_buffer #(.Width(1)) u_wr0_done (
    .clk_i(ap_clk), .rst_i(rst),
    .in_data_i(wr0_d_err), .in_valid_i(wr0_d_valid), .in_ready_o(wr0_d_ready),
    .out_data_o(wr0_done_err), .out_valid_o(wr0_done_valid), .out_ready_i(wr0_done_ready));

  dma_rd #(.MaxBurst(MaxBurst0), .Outstanding(Outstanding0), .IdW(SIdW), .IdValue(1)) u_rd0 (
    .clk_i(ap_clk), .rst_i(rst),
    .rd_cmd_addr_i(rd0_c_data[79:16]), .rd_cmd_len_i(rd0_c_data[15:0]),
    .rd_cmd_valid_i(rd0_c_valid), .rd_cmd_ready_o(rd0_c_ready),
    .out_data_o(rd0_o_data[520:9]), .out_bytes_o(rd0_o_data[8:2]), .out_last_o(rd0_o_data[1]),
    .out_err_o(rd0_o_data[0]), .out_valid_o(rd0_o_valid), .out_ready_i(rd0_o_ready),
    .m_axi_arid_o(ar_id[0*SIdW +: SIdW]), .m_axi_araddr_o(ar_addr[0*64 +: 64]),
    .m_axi_arlen_o(ar_len[0*8 +: 8]), .m_axi_arsize_o(ar_size[0*3 +: 3]),
    .m_axi_arburst_o(ar_burst[0*2 +: 2]), .m_axi_arvalid_o(ar_valid[0]),
    .m_axi_arready_i(ar_ready[0]),
    .m_axi_rid_i(r_id), .m_axi_rdata_i(r_data), .m_axi_rresp_i(r_resp), .m_axi_rlast_i(r_last),
    .m_axi_rvalid_i(r_valid[0]), .m_axi_rready_o(r_ready[0]),
    .fault_o(faults[0]));

  dma_wr #(.MaxBurst(MaxBurst0), .Outstanding(Outstanding0), .IdW(SIdW), .IdValue(1)) u_wr0 (
    .clk_i(ap_clk), .rst_i(rst),
    .wr_cmd_addr_i(wr0_c_data[79:16]), .wr_cmd_len_i(wr0_c_data[15:0]),
    .wr_cmd_valid_i(wr0_c_valid), .wr_cmd_ready_o(wr0_c_ready),
    .in_data_i(wr0_i_data[519:8]), .in_bytes_i(wr0_i_data[7:1]), .in_last_i(wr0_i_data[0]),
    .in_valid_i(wr0_i_valid), .in_ready_o(wr0_i_ready),
    .wr_done_err_o(wr0_d_err), .wr_done_valid_o(wr0_d_valid), .wr_done_ready_i(wr0_d_ready),
    .m_axi_awid_o(aw_id[0*SIdW +: SIdW]), .m_axi_awaddr_o(aw_addr[0*64 +: 64]),
    .m_axi_awlen_o(aw_len[0*8 +: 8]), .m_axi_awsize_o(aw_size[0*3 +: 3]),
    .m_axi_awburst_o(aw_burst[0*2 +: 2]), .m_axi_awvalid_o(aw_valid[0]),
    .m_axi_awready_i(aw_ready[0]),
    .m_axi_wdata_o(w_data[0*512 +: 512]), .m_axi_wstrb_o(w_strb[0*64 +: 64]),
    .m_axi_wlast_o(w_last[0]), .m_axi_wvalid_o(w_valid[0]), .m_axi_wready_i(w_ready[0]),
    .m_axi_bid_i(b_id), .m_axi_bresp_i(b_resp), .m_axi_bvalid_i(b_valid[0]),
    .m_axi_bready_o(b_ready[0]),
    .fault_o(faults[2]));

  // Engine 1
  logic [79:0]  rd1_c_data, wr1_c_data;
  logic         rd1_c_valid, rd1_c_ready, wr1_c_valid, wr1_c_ready;
  logic [520:0] rd1_o_data;
  logic         rd1_o_valid, rd1_o_ready;
  logic [519:0] wr1_i_data;
  logic         wr1_i_valid, wr1_i_ready;
  logic         wr1_d_err, wr1_d_valid, wr1_d_ready;

  skid_buffer #(.Width(80)) u_rd1_cmd (
    .clk_i(ap_clk), .rst_i(rst),
    .in_data_i({rd1_cmd_addr, rd1_cmd_len}), .in_valid_i(rd1_cmd_valid), .in_ready_o(rd1_cmd_ready),
    .out_data_o(rd1_c_data), .out_valid_o(rd1_c_valid), .out_ready_i(rd1_c_ready));
  skid_buffer #(.Width(521)) u_rd1_out (
    .clk_i(ap_clk), .rst_i(rst),
    .in_data_i(rd1_o_data), .in_valid_i(rd1_o_valid), .in_ready_o(rd1_o_ready),
    .out_data_o({rd1_data, rd1_bytes, rd1_last, rd1_err}), .out_valid_o(rd1_valid),
    .out_ready_i(rd1_ready));
  skid_buffer #(.Width(80)) u_wr1_cmd (
    .clk_i(ap_clk), .rst_i(rst),
    .in_data_i({wr1_cmd_addr, wr1_cmd_len}), .in_valid_i(wr1_cmd_valid), .in_ready_o(wr1_cmd_ready),
    .out_data_o(wr1_c_data), .out_valid_o(wr1_c_valid), .out_ready_i(wr1_c_ready));
  skid_buffer #(.Width(520)) u_wr1_in (
    .clk_i(ap_clk), .rst_i(rst),
    .in_data_i({wr1_data, wr1_bytes, wr1_last}), .in_valid_i(wr1_valid), .in_ready_o(wr1_ready),
    .out_data_o(wr1_i_data), .out_valid_o(wr1_i_valid), .out_ready_i(wr1_i_ready));
  skid_buffer #(.Width(1)) u_wr1_done (
    .clk_i(ap_clk), .rst_i(rst),
    .in_data_i(wr1_d_err), .in_valid_i(wr1_d_valid), .in_ready_o(wr1_d_ready),
    .out_data_o(wr1_done_err), .out_valid_o(wr1_done_valid), .out_ready_i(wr1_done_ready));

  dma_rd #(.MaxBurst(MaxBurst1), .Outstanding(Outstanding1), .IdW(SIdW), .IdValue(2)) u_rd1 (
    .clk_i(ap_clk), .rst_i(rst),
    .rd_cmd_addr_i(rd1_c_data[79:16]), .rd_cmd_len_i(rd1_c_data[15:0]),
    .rd_cmd_valid_i(rd1_c_valid), .rd_cmd_ready_o(rd1_c_ready),
    .out_data_o(rd1_o_data[520:9]), .out_bytes_o(rd1_o_data[8:2]), .out_last_o(rd1_o_data[1]),
    .out_err_o(rd1_o_data[0]), .out_valid_o(rd1_o_valid), .out_ready_i(rd1_o_ready),
    .m_axi_arid_o(ar_id[1*SIdW +: SIdW]), .m_axi_araddr_o(ar_addr[1*64 +: 64]),
    .m_axi_arlen_o(ar_len[1*8 +: 8]), .m_axi_arsize_o(ar_size[1*3 +: 3]),
    .m_axi_arburst_o(ar_burst[1*2 +: 2]), .m_axi_arvalid_o(ar_valid[1]),
    .m_axi_arready_i(ar_ready[1]),
    .m_axi_rid_i(r_id), .m_axi_rdata_i(r_data), .m_axi_rresp_i(r_resp), .m_axi_rlast_i(r_last),
    .m_axi_rvalid_i(r_valid[1]), .m_axi_rready_o(r_ready[1]),
    .fault_o(faults[3]));

  dma_wr #(.MaxBurst(MaxBurst1), .Outstanding(Outstanding1), .IdW(SIdW), .IdValue(2)) u_wr1 (
    .clk_i(ap_clk), .rst_i(rst),
    .wr_cmd_addr_i(wr1_c_data[79:16]), .wr_cmd_len_i(wr1_c_data[15:0]),
    .wr_cmd_valid_i(wr1_c_valid), .wr_cmd_ready_o(wr1_c_ready),
    .in_data_i(wr1_i_data[519:8]), .in_bytes_i(wr1_i_data[7:1]), .in_last_i(wr1_i_data[0]),
    .in_valid_i(wr1_i_valid), .in_ready_o(wr1_i_ready),
    .wr_done_err_o(wr1_d_err), .wr_done_valid_o(wr1_d_valid), .wr_done_ready_i(wr1_d_ready),
    .m_axi_awid_o(aw_id[1*SIdW +: SIdW]), .m_axi_awaddr_o(aw_addr[1*64 +: 64]),
    .m_axi_awlen_o(aw_len[1*8 +: 8]), .m_axi_awsize_o(aw_size[1*3 +: 3]),
    .m_axi_awburst_o(aw_burst[1*2 +: 2]), .m_axi_awvalid_o(aw_valid[1]),
    .m_axi_awready_i(aw_ready[1]),
    .m_axi_wdata_o(w_data[1*512 +: 512]), .m_axi_wstrb_o(w_strb[1*64 +: 64]),
    .m_axi_wlast_o(w_last[1]), .m_axi_wvalid_o(w_valid[1]), .m_axi_wready_i(w_ready[1]),
    .m_axi_bid_i(b_id), .m_axi_bresp_i(b_resp), .m_axi_bvalid_i(b_valid[1]),
    .m_axi_bready_o(b_ready[1]),
    .fault_o(faults[1]));

  // ---------------------------------------------------------------------------------------------
  // Muxes onto m_axi_gmem
  // ---------------------------------------------------------------------------------------------
  axi_rd_mux #(.N(2), .SIdW(SIdW)) u_rd_mux (
    .clk_i(ap_clk), .rst_i(rst),
    .s_arid_i(ar_id), .s_araddr_i(ar_addr), .s_arlen_i(ar_len), .s_arsize_i(ar_size),
    .s_arburst_i(ar_burst), .s_arvalid_i(ar_valid), .s_arready_o(ar_ready),
    .s_rid_o(r_id), .s_rdata_o(r_data), .s_rresp_o(r_resp), .s_rlast_o(r_last),
    .s_rvalid_o(r_valid), .s_rready_i(r_ready),
    .m_arid_o(m_axi_gmem_arid), .m_araddr_o(m_axi_gmem_araddr), .m_arlen_o(m_axi_gmem_arlen),
    .m_arsize_o(m_axi_gmem_arsize), .m_arburst_o(m_axi_gmem_arburst),
    .m_arvalid_o(m_axi_gmem_arvalid), .m_arready_i(m_axi_gmem_arready),
    .m_rid_i(m_axi_gmem_rid), .m_rdata_i(m_axi_gmem_rdata), .m_rresp_i(m_axi_gmem_rresp),
    .m_rlast_i(m_axi_gmem_rlast), .m_rvalid_i(m_axi_gmem_rvalid), .m_rready_o(m_axi_gmem_rready),
    .fault_o(faults[4]));

  axi_wr_mux #(.N(2), .SIdW(SIdW)) u_wr_mux (
    .clk_i(ap_clk), .rst_i(rst),
    .s_awid_i(aw_id), .s_awaddr_i(aw_addr), .s_awlen_i(aw_len), .s_awsize_i(aw_size),
    .s_awburst_i(aw_burst), .s_awvalid_i(aw_valid), .s_awready_o(aw_ready),
    .s_wdata_i(w_data), .s_wstrb_i(w_strb), .s_wlast_i(w_last), .s_wvalid_i(w_valid),
    .s_wready_o(w_ready),
    .s_bid_o(b_id), .s_bresp_o(b_resp), .s_bvalid_o(b_valid), .s_bready_i(b_ready),
    .m_awid_o(m_axi_gmem_awid), .m_awaddr_o(m_axi_gmem_awaddr), .m_awlen_o(m_axi_gmem_awlen),
    .m_awsize_o(m_axi_gmem_awsize), .m_awburst_o(m_axi_gmem_awburst),
    .m_awvalid_o(m_axi_gmem_awvalid), .m_awready_i(m_axi_gmem_awready),
    .m_wdata_o(m_axi_gmem_wdata), .m_wstrb_o(m_axi_gmem_wstrb), .m_wlast_o(m_axi_gmem_wlast),
    .m_wvalid_o(m_axi_gmem_wvalid), .m_wready_i(m_axi_gmem_wready),
    .m_bid_i(m_axi_gmem_bid), .m_bresp_i(m_axi_gmem_bresp), .m_bvalid_i(m_axi_gmem_bvalid),
    .m_bready_o(m_axi_gmem_bready),
    .fault_o(faults[5]));

endmodule
