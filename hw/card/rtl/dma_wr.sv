// SPDX-License-Identifier: Apache-2.0
//
// DMA write engine: {addr, len} commands, then len bytes of packet stream each, out as AXI4 write
// bursts; one wr_done {err} per command after its last B response (hw/card/doc/engine.md,
// "dma_rd / dma_wr"; doc/dma.md).
//
// Three parts:
//   * burst generator: splits the 64-byte beats covering [addr, addr+len) into INCR bursts of
//     AWSIZE 6 that never cross 4 KiB and have at most MaxBurst beats (greedy, one AW per cycle at
//     most, at most Outstanding bursts without B). Each AW pushes "last burst of its command" into
//     the burst FIFO that the B side pops.
//   * W realigner: for the command at the head of the command FIFO, output beat j is
//     ({in beat j, in beat j-1} << 8*addr[5:0])[1023:512]; strobes cover exactly [addr, addr+len)
//     (lanes >= addr[5:0] on the first beat, < (addr+len) mod 64 on the last). A command spans one
//     more W beat than input beats when the bytes spill into an extra line; that beat takes no
//     input. WLAST is recomputed with the generator's greedy rule (MaxBurst beats, or the beat
//     before a 4 KiB line, or the command's last beat), so W follows the AW bursts exactly. The
//     next command starts on the cycle after the previous one's last beat: one W beat per cycle.
//   * B side: B responses come back in order (one ID); their errors are ORed per command and the
//     command's last burst produces wr_done.
// The input stream's `bytes`/`last` are not needed (len says where the command ends); an assertion
// checks that `last` comes on the command's last input beat.
`default_nettype none

module dma_wr #(
  parameter int unsigned AddrW       = 64,  // AXI address bits (the port carries 64)
  parameter int unsigned DataW       = 512, // data bits; fixed at 512 (64-byte beats, AWSIZE 6)
  parameter int unsigned MaxBurst    = 64,  // beats per burst, 1..64 (64 = 4 KiB)
  parameter int unsigned Outstanding = 4,   // AW bursts issued without their B response
  parameter int unsigned IdW         = 1,   // AWID width
  parameter int unsigned IdValue     = 0,   // the AWID this engine uses
  parameter int unsigned CmdDepth    = 8,   // commands accepted ahead of the W realigner (pow2)
  localparam int unsigned BqDepth    = (Outstanding < 2) ? 2 : (1 << $clog2(Outstanding)),
  localparam int unsigned BurstCntW  = $clog2(Outstanding + 1)
) (
  input  logic             clk_i,
  input  logic             rst_i,             // synchronous, active high

  // Command: write len (>= 1) bytes at addr; the bytes follow on the packet stream
  input  logic [63:0]      wr_cmd_addr_i,
  input  logic [15:0]      wr_cmd_len_i,
  input  logic             wr_cmd_valid_i,
  output logic             wr_cmd_ready_o,

  // Packet stream in (byte 0 goes to addr)
  input  logic [511:0]     in_data_i,
  input  logic [6:0]       in_bytes_i,
  input  logic             in_last_i,
  input  logic             in_valid_i,
  output logic             in_ready_o,

  // One per command, in command order, after its last B response
  output logic             wr_done_err_o,
  output logic             wr_done_valid_o,
  input  logic             wr_done_ready_i,

  // AXI4 write master
  output logic [IdW-1:0]   m_axi_awid_o,
  output logic [63:0]      m_axi_awaddr_o,
  output logic [7:0]       m_axi_awlen_o,
  output logic [2:0]       m_axi_awsize_o,
  output logic [1:0]       m_axi_awburst_o,
  output logic             m_axi_awvalid_o,
  input  logic             m_axi_awready_i,
  output logic [511:0]     m_axi_wdata_o,
  output logic [63:0]      m_axi_wstrb_o,
  output logic             m_axi_wlast_o,
  output logic             m_axi_wvalid_o,
  input  logic             m_axi_wready_i,
  input  logic [IdW-1:0]   m_axi_bid_i,
  input  logic [1:0]       m_axi_bresp_i,
  input  logic             m_axi_bvalid_i,
  output logic             m_axi_bready_o,

  // A B response arrived with no burst waiting for it (a broken interconnect or host): it is
  // taken and dropped and this pulses for one cycle; the card raises CTRL_STATUS.FATAL.
  output logic             fault_o
);

  if (DataW != 512) begin : gen_bad_dataw
    $fatal(1, "dma_wr: DataW must be 512");
  end
  if (AddrW < 13 || AddrW > 64) begin : gen_bad_addrw
    $fatal(1, "dma_wr: AddrW must be 13..64");
  end
  if (MaxBurst < 1 || MaxBurst > 64) begin : gen_bad_burst
    $fatal(1, "dma_wr: MaxBurst must be 1..64 (a burst never crosses 4 KiB)");
  end
  if (Outstanding < 1) begin : gen_bad_outstanding
    $fatal(1, "dma_wr: Outstanding must be at least 1");
  end

  // Command FIFO payload for the W realigner: offset, W beats - 1, whether there is one more W
  // beat than input beats, lanes in the last W beat (1..64), the first beat's position in its
  // 4 KiB line. The strobe masks are decoded between the FIFO and the register slice after it.
  localparam int unsigned CqW = 6 + 11 + 1 + 7 + 6;

  // ---------------------------------------------------------------------------------------------
  // Command accept and burst generator
  // ---------------------------------------------------------------------------------------------
  logic                 gen_busy_d, gen_busy_q;
  logic [AddrW-7:0]     gen_beat_d, gen_beat_q;
  logic [10:0]          gen_left_d, gen_left_q;
  logic [AddrW-13:0]    gen_pinc_d, gen_pinc_q;     // the 4 KiB line number of gen_beat_q, + 1
  logic                 aw_valid_d, aw_valid_q;
  logic [AddrW-7:0]     aw_beat_d, aw_beat_q;
  logic [7:0]           aw_len_d, aw_len_q;
  logic [BurstCntW-1:0] bursts_d, bursts_q;   // AW issued, B not yet received

  logic                 cmd_fire;
  logic [10:0]          cmd_nin, cmd_nw;
  logic [6:0]           cmd_endl;
  logic                 cq_in_ready, cq_valid, cq_pop, cf_valid, cf_pop;
  logic [CqW-1:0]       cq_in, cf_out;
  logic [CqW+120:0]     cq_out;          // the payload without the end lane, plus the masks

  logic [6:0]           to_4k, cap, burst_beats;
  logic                 reach_line;      // this burst ends at a 4 KiB line
  logic                 issue, issue_last;
  logic                 bq_in_ready, bq_valid, bq_last, bq_pop;
  logic                 b_fire;

  // Command register with a bypass: a command goes straight from the port to the generator and
  // the command FIFO when the register is empty and they can take it (so a packet's next command
  // reaches the W realigner and its AW the write mux a cycle sooner: no bubble between one
  // command's last W beat and the next one's first); otherwise it waits in the register. The low
  // six bits of offset + len are summed on the way in, so the beat counts below are one short
  // add each: W beats = len[15:6] + (0, 1 or 2 by offset + len[5:0]).
  logic             c1_valid_d, c1_valid_q;
  logic [AddrW-1:0] c1_addr_d, c1_addr_q;
  logic [15:0]      c1_len_d, c1_len_q;
  logic [6:0]       c1_low_d, c1_low_q;    // addr[5:0] + len[5:0]
  logic             cmd_accept, cmd_can_fire;
  logic [AddrW-1:0] cs_addr;               // the command the generator sees: register or port
  logic [15:0]      cs_len;
  logic [6:0]       cs_low;

  // A command is accepted only while its wr_done has a reserved place (open_q counts commands
  // accepted and not yet reported), so BREADY never waits for the consumer of wr_done: the B
  // channel is shared with the card's other masters, and holding a B response there would stall
  // theirs behind it (head-of-line blocking, a deadlock when the consumer waits on them).
  localparam int unsigned DoneDepth = 16;
  logic [$clog2(DoneDepth):0] open_q;
  logic                       open_ok;
  assign open_ok        = open_q < ($clog2(DoneDepth) + 1)'(DoneDepth);
  assign cmd_can_fire   = !gen_busy_q && cq_in_ready;
  // Ready does not look at valid: with the register full, a new command is taken only in the
  // cycle the held one leaves.
  assign wr_cmd_ready_o = open_ok && (!c1_valid_q || cmd_can_fire);
  assign cmd_accept     = wr_cmd_valid_i && wr_cmd_ready_o;
  assign cmd_fire       = cmd_can_fire && (c1_valid_q || cmd_accept);
  assign cs_addr        = c1_valid_q ? c1_addr_q : wr_cmd_addr_i[AddrW-1:0];
  assign cs_len         = c1_valid_q ? c1_len_q : wr_cmd_len_i;
  assign cs_low         = c1_valid_q ? c1_low_q : 7'(wr_cmd_addr_i[5:0]) + 7'(wr_cmd_len_i[5:0]);
  assign cmd_nw         = {1'b0, cs_len[15:6]} +
                          ((cs_low == 7'd0) ? 11'd0 : (cs_low <= 7'd64) ? 11'd1 : 11'd2);
  assign cmd_nin        = {1'b0, cs_len[15:6]} + 11'(cs_len[5:0] != 6'd0);
  assign cmd_endl       = (cs_low[5:0] == 6'd0) ? 7'd64 : {1'b0, cs_low[5:0]};
  assign cq_in          = {cs_addr[5:0], cmd_nw - 11'd1, cmd_nw != cmd_nin, cmd_endl,
                           cs_addr[11:6]};

  // The register holds a command accepted in a cycle it could not go on (or one accepted while
  // the held one leaves); it empties when its command goes to the generator (cmd_fire), whether
  // or not a new one is accepted then: with every wr_done place taken (!open_ok) the port is not
  // ready, yet the held command still leaves, once.
  always_comb begin
    if (c1_valid_q) c1_valid_d = cmd_fire ? cmd_accept : 1'b1;
    else            c1_valid_d = cmd_accept && !cmd_fire;
    c1_addr_d  = cmd_accept ? wr_cmd_addr_i[AddrW-1:0] : c1_addr_q;
    c1_len_d   = cmd_accept ? wr_cmd_len_i : c1_len_q;
    c1_low_d   = cmd_accept ? 7'(wr_cmd_addr_i[5:0]) + 7'(wr_cmd_len_i[5:0]) : c1_low_q;
  end
  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      c1_valid_q <= 1'b0;
    end else begin
      c1_valid_q <= c1_valid_d;
    end
  end
  always_ff @(posedge clk_i) begin
    c1_addr_q <= c1_addr_d;
    c1_len_q  <= c1_len_d;
    c1_low_q  <= c1_low_d;
  end

  assign to_4k       = 7'd64 - {1'b0, gen_beat_q[5:0]};
  assign cap         = (to_4k < 7'(MaxBurst)) ? to_4k : 7'(MaxBurst);
  assign burst_beats = (gen_left_q < 11'(cap)) ? gen_left_q[6:0] : cap;
  assign reach_line  = (to_4k <= 7'(MaxBurst)) && (gen_left_q >= 11'(to_4k));
  assign issue_last  = (gen_left_q <= 11'(cap));
  assign issue = gen_busy_q && (!aw_valid_q || m_axi_awready_i) &&
                 (32'(bursts_q) < Outstanding) && bq_in_ready;

  always_comb begin
    gen_busy_d = gen_busy_q;
    gen_beat_d = gen_beat_q;
    gen_left_d = gen_left_q;
    gen_pinc_d = gen_pinc_q;
    aw_valid_d = aw_valid_q && !m_axi_awready_i;
    aw_beat_d  = aw_beat_q;
    aw_len_d   = aw_len_q;
    if (cmd_fire) begin
      gen_busy_d = 1'b1;
      gen_beat_d = cs_addr[AddrW-1:6];
      gen_pinc_d = cs_addr[AddrW-1:12] + (AddrW - 12)'(1);
      gen_left_d = cmd_nw;
    end else if (issue) begin
      aw_valid_d = 1'b1;
      aw_beat_d  = gen_beat_q;
      aw_len_d   = 8'(burst_beats - 7'd1);
      // A burst ends inside its 4 KiB line or exactly at its end: the line number only
      // increments, and only when the burst reaches the end (no wide adder after the min).
      gen_beat_d = {reach_line ? gen_pinc_q : gen_beat_q[AddrW-7:6],
                    gen_beat_q[5:0] + burst_beats[5:0]};
      gen_pinc_d = reach_line ? gen_pinc_q + (AddrW - 12)'(1) : gen_pinc_q;
      // left - min(left, cap), with the subtraction beside the comparison, not after it
      gen_left_d = (gen_left_q <= 11'(cap)) ? 11'd0 : gen_left_q - 11'(cap);
      gen_busy_d = !issue_last;
    end
    bursts_d = bursts_q + BurstCntW'(issue) - BurstCntW'(b_fire);
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      gen_busy_q <= 1'b0;
      aw_valid_q <= 1'b0;
      bursts_q   <= '0;
    end else begin
      gen_busy_q <= gen_busy_d;
      aw_valid_q <= aw_valid_d;
      bursts_q   <= bursts_d;
    end
  end
  always_ff @(posedge clk_i) begin
    gen_beat_q <= gen_beat_d;
    gen_left_q <= gen_left_d;
    gen_pinc_q <= gen_pinc_d;
    aw_beat_q  <= aw_beat_d;
    aw_len_q   <= aw_len_d;
  end

  assign m_axi_awid_o    = IdW'(IdValue);
  assign m_axi_awaddr_o  = 64'({aw_beat_q, 6'd0});
  assign m_axi_awlen_o   = aw_len_q;
  assign m_axi_awsize_o  = 3'd6;
  assign m_axi_awburst_o = 2'b01;  // INCR
  assign m_axi_awvalid_o = aw_valid_q;

  fifo_sync #(.Width(CqW), .Depth(CmdDepth)) u_cmd_fifo (
    .clk_i       (clk_i),
    .rst_i       (rst_i),
    .in_data_i   (cq_in),
    .in_valid_i  (cmd_fire),
    .in_ready_o  (cq_in_ready),
    .out_data_o  (cf_out),
    .out_valid_o (cf_valid),
    .out_ready_i (cf_pop)
  );

  // Strobe masks of the first beat (lanes >= offset) and the last (lanes < end), decoded on the
  // way into a register slice, so the W realigner decodes its command from flops.
  // One comparison with a constant per lane (no shifter, no subtraction).
  logic [63:0] cf_first_mask, cf_last_mask;
  always_comb begin
    for (int b = 0; b < 64; b++) begin
      cf_first_mask[b] = cf_out[CqW-1 -: 6] <= 6'(b);  // lane >= offset
      cf_last_mask[b]  = cf_out[12:6] > 7'(b);          // lane < end (1..64)
    end
  end

  skid_buffer #(.Width(CqW + 121)) u_cmd_slice (
    .clk_i       (clk_i),
    .rst_i       (rst_i),
    .in_data_i   ({cf_out[CqW-1:13], cf_out[5:0], cf_first_mask, cf_last_mask}),
    .in_valid_i  (cf_valid),
    .in_ready_o  (cf_pop),
    .out_data_o  (cq_out),
    .out_valid_o (cq_valid),
    .out_ready_i (cq_pop)
  );

  // ---------------------------------------------------------------------------------------------
  // W realigner
  // ---------------------------------------------------------------------------------------------
  logic [5:0]    c_off, c_line;
  logic [10:0]   c_nw_m1;
  logic          c_extra;                // one more W beat than input beats
  logic [63:0]   c_first_mask, c_last_mask;
  logic [10:0]   j_d, j_q;               // W beats of the current command already sent
  logic [5:0]    line_d, line_q;         // position of the next W beat in its 4 KiB line
  logic [6:0]    bc_d, bc_q;             // beats of the current burst already sent
  logic          first_d, first_q;       // the next W beat is its command's first (j == 0)
  logic          l63_d, l63_q;           // line_q == 63 (precomputed)
  logic          bce_d, bce_q;           // bc_q + 1 == MaxBurst (precomputed)
  logic [5:0]    line_n;
  logic [6:0]    bc_n;
  logic [511:0]  prev_d, prev_q;         // input beat j-1
  logic [5:0]    line;
  logic [6:0]    bc;
  logic          first, need_in, last_w, w_free, emit, wlast;
  logic [511:0]  funnel;                // {in, prev} << 8*offset, upper half
  logic [63:0]   strb_lo, strb_hi;
  logic          w_valid_d, w_valid_q, w_last_d, w_last_q;
  logic [511:0]  w_data_d, w_data_q;
  logic [63:0]   w_strb_d, w_strb_q;

  // Input register slice: the funnel shifter starts at flops, not at the ports.
  logic         s_valid, s_ready, s_last;
  logic [511:0] s_data;

  skid_buffer #(.Width(513)) u_in_slice (
    .clk_i       (clk_i),
    .rst_i       (rst_i),
    .in_data_i   ({in_last_i, in_data_i}),
    .in_valid_i  (in_valid_i),
    .in_ready_o  (in_ready_o),
    .out_data_o  ({s_last, s_data}),
    .out_valid_o (s_valid),
    .out_ready_i (s_ready)
  );

  assign {c_off, c_nw_m1, c_extra, c_line, c_first_mask, c_last_mask} = cq_out;
  assign first      = first_q;
  assign line       = first ? c_line : line_q;
  assign bc         = first ? 7'd0 : bc_q;
  assign last_w     = j_q == c_nw_m1;
  assign need_in    = !last_w || !c_extra;
  assign w_free     = !w_valid_q || m_axi_wready_i;
  assign emit       = cq_valid && w_free && (!need_in || s_valid);
  assign s_ready    = cq_valid && w_free && need_in;
  assign cq_pop     = emit && last_w;
  // Burst end: the command's last beat, the beat before a 4 KiB line, or the MaxBurst-th beat;
  // the last two from flags prepared the cycle before.
  assign wlast      = last_w || (first ? (c_line == 6'd63) : l63_q) ||
                      (first ? (MaxBurst == 1) : bce_q);
  assign line_n     = line + 6'd1;
  assign bc_n       = wlast ? 7'd0 : bc + 7'd1;
  assign funnel     = 512'({s_data, prev_q} >> {7'd64 - {1'b0, c_off}, 3'b000});
  assign strb_lo    = first ? c_first_mask : {64{1'b1}};
  assign strb_hi    = last_w ? c_last_mask : {64{1'b1}};

  always_comb begin
    j_d       = j_q;
    line_d    = line_q;
    bc_d      = bc_q;
    first_d   = first_q;
    l63_d     = l63_q;
    bce_d     = bce_q;
    prev_d    = prev_q;
    w_valid_d = w_valid_q && !m_axi_wready_i;
    w_data_d  = w_data_q;
    w_strb_d  = w_strb_q;
    w_last_d  = w_last_q;
    if (emit) begin
      w_valid_d = 1'b1;
      w_data_d  = funnel;
      w_strb_d  = strb_lo & strb_hi;
      w_last_d  = wlast;
      prev_d    = s_data;
      line_d    = line_n;
      bc_d      = bc_n;
      first_d   = last_w;
      l63_d     = line_n == 6'd63;
      bce_d     = (bc_n + 7'd1) == 7'(MaxBurst);
      j_d       = last_w ? 11'd0 : j_q + 11'd1;
    end
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      j_q       <= '0;
      first_q   <= 1'b1;
      w_valid_q <= 1'b0;
    end else begin
      j_q       <= j_d;
      first_q   <= first_d;
      w_valid_q <= w_valid_d;
    end
  end
  always_ff @(posedge clk_i) begin
    line_q   <= line_d;
    bc_q     <= bc_d;
    l63_q    <= l63_d;
    bce_q    <= bce_d;
    prev_q   <= prev_d;
    w_data_q <= w_data_d;
    w_strb_q <= w_strb_d;
    w_last_q <= w_last_d;
  end

  assign m_axi_wdata_o  = w_data_q;
  assign m_axi_wstrb_o  = w_strb_q;
  assign m_axi_wlast_o  = w_last_q;
  assign m_axi_wvalid_o = w_valid_q;

  // ---------------------------------------------------------------------------------------------
  // B side: per-burst "last of command" flags in AW order; wr_done after a command's last B
  // ---------------------------------------------------------------------------------------------
  logic berr_d, berr_q, done_push, done_err_in, done_in_ready;

  fifo_sync #(.Width(1), .Depth(BqDepth)) u_burst_fifo (
    .clk_i       (clk_i),
    .rst_i       (rst_i),
    .in_data_i   (issue_last),
    .in_valid_i  (issue),
    .in_ready_o  (bq_in_ready),
    .out_data_o  (bq_last),
    .out_valid_o (bq_valid),
    .out_ready_i (bq_pop)
  );

  // BREADY is always high: a response with a burst waiting is that burst's (the burst FIFO is
  // pushed when the AW is issued, before its handshake), one without is a stray, dropped and
  // reported rather than left to block the shared B channel.
  assign m_axi_bready_o = 1'b1;
  assign b_fire         = m_axi_bvalid_i && bq_valid;
  assign fault_o        = m_axi_bvalid_i && !bq_valid;
  assign bq_pop         = b_fire;
  assign done_push      = b_fire && bq_last;
  assign done_err_in    = berr_q || (m_axi_bresp_i != 2'b00);

  always_comb begin
    berr_d = berr_q;
    if (b_fire) berr_d = bq_last ? 1'b0 : (berr_q || (m_axi_bresp_i != 2'b00));
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      berr_q <= 1'b0;
      open_q <= '0;
    end else begin
      berr_q <= berr_d;
      open_q <= open_q + ($clog2(DoneDepth) + 1)'(wr_cmd_valid_i && wr_cmd_ready_o)
                       - ($clog2(DoneDepth) + 1)'(wr_done_valid_o && wr_done_ready_i);
    end
  end

  fifo_sync #(.Width(1), .Depth(DoneDepth)) u_done_fifo (
    .clk_i       (clk_i),
    .rst_i       (rst_i),
    .in_data_i   (done_err_in),
    .in_valid_i  (done_push),
    .in_ready_o  (done_in_ready),
    .out_data_o  (wr_done_err_o),
    .out_valid_o (wr_done_valid_o),
    .out_ready_i (wr_done_ready_i)
  );
`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (!rst_i) assert (!(done_push && !done_in_ready)) else $error("dma_wr: wr_done without room");
  end
`endif

  // One ID, in-order responses: BID carries nothing to check. The stream's bytes field is implied
  // by len (the command says where it ends).
  logic unused_in;
  assign unused_in = ^{m_axi_bid_i, in_bytes_i};

  // ---------------------------------------------------------------------------------------------
  // Assertions
  // ---------------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  // Each accepted command goes to the generator exactly once: c1_held_q counts commands accepted
  // and not yet passed on (0 or 1); a command fires only if one is held or arriving.
  logic [1:0] c1_held_q;
  always_ff @(posedge clk_i) begin
    if (rst_i) c1_held_q <= 2'd0;
    else       c1_held_q <= c1_held_q + 2'(cmd_accept) - 2'(cmd_fire);
  end
  always_ff @(posedge clk_i) begin
    if (!rst_i) begin
      assert (!(cmd_fire && c1_held_q == 2'd0 && !cmd_accept) && c1_held_q <= 2'd1 &&
              c1_valid_q == (c1_held_q == 2'd1))
        else $error("dma_wr: a command went to the burst generator twice or was lost (%m)");
      assert (!(s_valid && s_ready && (s_last != (last_w || (j_q == c_nw_m1 - 11'd1 && c_extra)))))
        else $error("dma_wr: input stream's last does not match the command's len (%m)");
      assert (!(wr_cmd_valid_i && wr_cmd_ready_o && wr_cmd_len_i == 16'd0))
        else $error("dma_wr: command with len 0 (%m)");
    end
  end
`endif

endmodule
