// SPDX-License-Identifier: Apache-2.0
//
// DMA read engine: {addr, len} commands in, AXI4 read bursts out, one realigned packet stream of
// exactly len bytes per command back (hw/card/doc/engine.md, "dma_rd / dma_wr"; doc/dma.md).
//
// Three parts, decoupled by FIFOs so that a command's bursts go out while earlier commands drain:
//   * burst generator: splits the 64-byte beats covering [addr, addr+len) into INCR bursts of
//     ARSIZE 6 that never cross 4 KiB and have at most MaxBurst beats; one AR per cycle at most.
//   * R FIFO (FifoBeats deep): every R beat goes in, with its error bit. A burst is issued only
//     when the beats already reserved (in flight + in the FIFO) leave room for a MaxBurst burst;
//     it then reserves its own beats. The FIFO can never be full when a beat arrives, so RREADY
//     stays high (credit counting). A command register, register slices after the FIFOs and the
//     next line number kept in a register keep the paths short (doc/dma.md, Synthesis).
//   * realigner: for the command at the head of the command FIFO, a funnel shifter over two
//     consecutive beats ({next, prev} >> 8*addr[5:0]) makes output beat k from input beats k and
//     k+1; the last output beat carries bytes = len mod 64 (64 for a full beat) and err, the OR of
//     the error bits of every beat the command read, so the beat count never depends on errors.
// Responses are expected in order (one ID, AXI4 keeps same-ID reads in order).
`default_nettype none

module dma_rd #(
  parameter int unsigned AddrW       = 64,  // AXI address bits (the port carries 64)
  parameter int unsigned DataW       = 512, // data bits; fixed at 512 (64-byte beats, ARSIZE 6)
  parameter int unsigned MaxBurst    = 64,  // beats per burst, 1..64 (64 = 4 KiB)
  parameter int unsigned Outstanding = 4,   // AR bursts in flight (issued, RLAST not yet seen)
  parameter int unsigned IdW         = 1,   // ARID width
  parameter int unsigned IdValue     = 0,   // the ARID this engine uses
  parameter int unsigned CmdDepth    = 8,   // commands accepted ahead of the realigner (pow2)
  // R FIFO entries: room for every beat of Outstanding full bursts (a power of two, at least 2)
  localparam int unsigned FifoBeats  = (Outstanding * MaxBurst < 2) ? 2 :
                                       (1 << $clog2(Outstanding * MaxBurst)),
  localparam int unsigned CredW      = $clog2(FifoBeats + 1),
  localparam int unsigned BurstCntW  = $clog2(Outstanding + 1)
) (
  input  logic             clk_i,
  input  logic             rst_i,             // synchronous, active high

  // Command: read len (>= 1) bytes starting at addr
  input  logic [63:0]      rd_cmd_addr_i,
  input  logic [15:0]      rd_cmd_len_i,
  input  logic             rd_cmd_valid_i,
  output logic             rd_cmd_ready_o,

  // Packet stream out (byte 0 = the byte at addr); err only meaningful on the last beat
  output logic [511:0]     out_data_o,
  output logic [6:0]       out_bytes_o,
  output logic             out_last_o,
  output logic             out_err_o,
  output logic             out_valid_o,
  input  logic             out_ready_i,

  // AXI4 read master
  output logic [IdW-1:0]   m_axi_arid_o,
  output logic [63:0]      m_axi_araddr_o,
  output logic [7:0]       m_axi_arlen_o,
  output logic [2:0]       m_axi_arsize_o,
  output logic [1:0]       m_axi_arburst_o,
  output logic             m_axi_arvalid_o,
  input  logic             m_axi_arready_i,
  input  logic [IdW-1:0]   m_axi_rid_i,
  input  logic [511:0]     m_axi_rdata_i,
  input  logic [1:0]       m_axi_rresp_i,
  input  logic             m_axi_rlast_i,
  input  logic             m_axi_rvalid_i,
  output logic             m_axi_rready_o,

  // An R beat arrived while no burst was outstanding (a broken interconnect or host): it is
  // dropped and this pulses for one cycle; the card raises CTRL_STATUS.FATAL.
  output logic             fault_o
);

  if (DataW != 512) begin : gen_bad_dataw
    $fatal(1, "dma_rd: DataW must be 512");
  end
  if (AddrW < 13 || AddrW > 64) begin : gen_bad_addrw
    $fatal(1, "dma_rd: AddrW must be 13..64");
  end
  if (MaxBurst < 1 || MaxBurst > 64) begin : gen_bad_burst
    $fatal(1, "dma_rd: MaxBurst must be 1..64 (a burst never crosses 4 KiB)");
  end
  if (Outstanding < 1) begin : gen_bad_outstanding
    $fatal(1, "dma_rd: Outstanding must be at least 1");
  end

  // Command FIFO payload for the realigner: offset in the first beat, output beats - 1, whether
  // there is one more input beat than output beats, bytes in the last output beat.
  localparam int unsigned CqW = 6 + 11 + 1 + 7;

  // ---------------------------------------------------------------------------------------------
  // Command accept and burst generator
  // ---------------------------------------------------------------------------------------------
  logic                 gen_busy_d, gen_busy_q;
  logic [AddrW-7:0]     gen_beat_d, gen_beat_q;     // beat address (addr >> 6) of the next burst
  logic [10:0]          gen_left_d, gen_left_q;
  logic [AddrW-13:0]    gen_pinc_d, gen_pinc_q;     // the 4 KiB line number of gen_beat_q, + 1     // beats still to request
  logic                 ar_valid_d, ar_valid_q;
  logic [AddrW-7:0]     ar_beat_d, ar_beat_q;
  logic [7:0]           ar_len_d, ar_len_q;
  logic [CredW-1:0]     credits_d, credits_q;       // beats reserved: in flight + in the R FIFO
  logic [BurstCntW-1:0] bursts_d, bursts_q;         // bursts issued without RLAST

  logic                 cmd_fire;
  logic [10:0]          cmd_nin, cmd_nout;
  logic [6:0]           cmd_lastb;
  logic                 cq_in_ready, cq_valid, cq_pop, cf_valid, cf_pop;
  logic [CqW-1:0]       cq_in, cf_out, cq_out;

  logic [6:0]           to_4k, cap, burst_beats;
  logic                 reach_line;      // this burst ends at a 4 KiB line
  logic                 issue;

  logic                 r_fire, r_stray, rf_push_ready, rf_valid, rf_pop, rf_err;
  logic [511:0]         rf_data;

  // Command register: cuts the path from the ports into the beat arithmetic. The low six bits of
  // offset + len are summed on the way in, so the beat counts below are one short add each:
  // beats = len[15:6] + (0, 1 or 2 by offset + len[5:0]).
  logic             c1_valid_d, c1_valid_q;
  logic [AddrW-1:0] c1_addr_d, c1_addr_q;
  logic [15:0]      c1_len_d, c1_len_q;
  logic [6:0]       c1_low_d, c1_low_q;    // addr[5:0] + len[5:0]

  assign cmd_fire       = c1_valid_q && !gen_busy_q && cq_in_ready;
  assign rd_cmd_ready_o = !c1_valid_q || cmd_fire;
  assign cmd_nin        = {1'b0, c1_len_q[15:6]} +
                          ((c1_low_q == 7'd0) ? 11'd0 : (c1_low_q <= 7'd64) ? 11'd1 : 11'd2);
  assign cmd_nout       = {1'b0, c1_len_q[15:6]} + 11'(c1_len_q[5:0] != 6'd0);
  assign cmd_lastb      = (c1_len_q[5:0] == 6'd0) ? 7'd64 : {1'b0, c1_len_q[5:0]};
  assign cq_in          = {c1_addr_q[5:0], cmd_nout - 11'd1, cmd_nin != cmd_nout, cmd_lastb};

  always_comb begin
    c1_valid_d = rd_cmd_ready_o ? rd_cmd_valid_i : c1_valid_q;
    c1_addr_d  = rd_cmd_ready_o ? rd_cmd_addr_i[AddrW-1:0] : c1_addr_q;
    c1_len_d   = rd_cmd_ready_o ? rd_cmd_len_i : c1_len_q;
    c1_low_d   = rd_cmd_ready_o ? 7'(rd_cmd_addr_i[5:0]) + 7'(rd_cmd_len_i[5:0]) : c1_low_q;
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

  // Largest burst from here: the rest of the command, MaxBurst, and the beats to the 4 KiB line.
  assign to_4k       = 7'd64 - {1'b0, gen_beat_q[5:0]};
  assign cap         = (to_4k < 7'(MaxBurst)) ? to_4k : 7'(MaxBurst);
  assign burst_beats = (gen_left_q < 11'(cap)) ? gen_left_q[6:0] : cap;
  assign reach_line  = (to_4k <= 7'(MaxBurst)) && (gen_left_q >= 11'(to_4k));
  assign issue = gen_busy_q && (!ar_valid_q || m_axi_arready_i) &&
                 (32'(bursts_q) < Outstanding) &&
                 (32'(credits_q) <= FifoBeats - MaxBurst);  // room for any burst: a constant
                                                            // compare, off the burst-size path

  always_comb begin
    gen_busy_d = gen_busy_q;
    gen_beat_d = gen_beat_q;
    gen_left_d = gen_left_q;
    gen_pinc_d = gen_pinc_q;
    ar_valid_d = ar_valid_q && !m_axi_arready_i;
    ar_beat_d  = ar_beat_q;
    ar_len_d   = ar_len_q;
    if (cmd_fire) begin
      gen_busy_d = 1'b1;
      gen_beat_d = c1_addr_q[AddrW-1:6];
      gen_pinc_d = c1_addr_q[AddrW-1:12] + (AddrW - 12)'(1);
      gen_left_d = cmd_nin;
    end else if (issue) begin
      ar_valid_d = 1'b1;
      ar_beat_d  = gen_beat_q;
      ar_len_d   = 8'(burst_beats - 7'd1);
      // A burst ends inside its 4 KiB line or exactly at its end: the line number only
      // increments, and only when the burst reaches the end (no wide adder after the min).
      gen_beat_d = {reach_line ? gen_pinc_q : gen_beat_q[AddrW-7:6],
                    gen_beat_q[5:0] + burst_beats[5:0]};
      gen_pinc_d = reach_line ? gen_pinc_q + (AddrW - 12)'(1) : gen_pinc_q;
      // left - min(left, cap), with the subtraction beside the comparison, not after it
      gen_left_d = (gen_left_q <= 11'(cap)) ? 11'd0 : gen_left_q - 11'(cap);
      gen_busy_d = !(gen_left_q <= 11'(cap));
    end
    credits_d = credits_q + (issue ? CredW'(burst_beats) : CredW'(0)) -
                CredW'(fq_valid && fq_pop);
    bursts_d  = bursts_q + BurstCntW'(issue) - BurstCntW'(r_fire && m_axi_rlast_i && !r_stray);
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      gen_busy_q <= 1'b0;
      ar_valid_q <= 1'b0;
      credits_q  <= '0;
      bursts_q   <= '0;
    end else begin
      gen_busy_q <= gen_busy_d;
      ar_valid_q <= ar_valid_d;
      credits_q  <= credits_d;
      bursts_q   <= bursts_d;
    end
  end
  always_ff @(posedge clk_i) begin
    gen_beat_q <= gen_beat_d;
    gen_left_q <= gen_left_d;
    gen_pinc_q <= gen_pinc_d;
    ar_beat_q  <= ar_beat_d;
    ar_len_q   <= ar_len_d;
  end

  assign m_axi_arid_o    = IdW'(IdValue);
  assign m_axi_araddr_o  = 64'({ar_beat_q, 6'd0});
  assign m_axi_arlen_o   = ar_len_q;
  assign m_axi_arsize_o  = 3'd6;
  assign m_axi_arburst_o = 2'b01;  // INCR
  assign m_axi_arvalid_o = ar_valid_q;

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

  // The realigner decodes its command from flops (the FIFO's RAM read stays out of its paths).
  skid_buffer #(.Width(CqW)) u_cmd_slice (
    .clk_i       (clk_i),
    .rst_i       (rst_i),
    .in_data_i   (cf_out),
    .in_valid_i  (cf_valid),
    .in_ready_o  (cf_pop),
    .out_data_o  (cq_out),
    .out_valid_o (cq_valid),
    .out_ready_i (cq_pop)
  );

  // ---------------------------------------------------------------------------------------------
  // R FIFO: never full when a beat arrives (credits), so RREADY is its (registered) not-full flag
  // ---------------------------------------------------------------------------------------------
  // A beat with no burst outstanding (bursts_q counts from the AR's issue, before its handshake,
  // so a real beat always finds it above zero) is taken and dropped, never pushed.
  assign m_axi_rready_o = rf_push_ready;
  assign r_fire         = m_axi_rvalid_i && rf_push_ready;
  assign r_stray        = bursts_q == '0;
  assign fault_o        = r_fire && r_stray;

  // The FIFO's RAM read feeds a register slice, so the funnel shifter starts at flops. Credits
  // return when a beat leaves the FIFO (the slice's two entries are beyond the credit count).
  logic         fq_valid, fq_pop, fq_err;
  logic [511:0] fq_data;

  fifo_sync #(.Width(513), .Depth(FifoBeats)) u_r_fifo (
    .clk_i       (clk_i),
    .rst_i       (rst_i),
    .in_data_i   ({m_axi_rresp_i != 2'b00, m_axi_rdata_i}),
    .in_valid_i  (m_axi_rvalid_i && !r_stray),
    .in_ready_o  (rf_push_ready),
    .out_data_o  ({fq_err, fq_data}),
    .out_valid_o (fq_valid),
    .out_ready_i (fq_pop)
  );

  skid_buffer #(.Width(513)) u_r_slice (
    .clk_i       (clk_i),
    .rst_i       (rst_i),
    .in_data_i   ({fq_err, fq_data}),
    .in_valid_i  (fq_valid),
    .in_ready_o  (fq_pop),
    .out_data_o  ({rf_err, rf_data}),
    .out_valid_o (rf_valid),
    .out_ready_i (rf_pop)
  );

  // ---------------------------------------------------------------------------------------------
  // Realigner
  // ---------------------------------------------------------------------------------------------
  logic [5:0]    c_off;
  logic [10:0]   c_nout_m1;
  logic          c_extra;               // one more input beat than output beats
  logic [6:0]    c_lastb;
  logic [10:0]   k_d, k_q;              // output beats of the current command already sent
  logic          have_d, have_q;        // prev_q holds input beat k of the current command
  logic [511:0]  prev_d, prev_q;
  logic          err_d, err_q;          // error bits of the beats consumed so far
  logic          out_free, need_next, last_out, emit, load;
  logic          o_valid_d, o_valid_q, o_last_d, o_last_q, o_err_d, o_err_q;
  logic [6:0]    o_bytes_d, o_bytes_q;
  logic [511:0]  o_data_d, o_data_q;
  logic [511:0]  funnel;               // {next, prev} >> 8*offset

  assign {c_off, c_nout_m1, c_extra, c_lastb} = cq_out;
  assign out_free  = !o_valid_q || out_ready_i;
  assign last_out  = k_q == c_nout_m1;
  assign need_next = !last_out || c_extra;       // input beat k+1 exists
  assign emit      = cq_valid && have_q && out_free && (!need_next || rf_valid);
  // The first beat of a command goes to prev_q with no output; it may share the cycle with the
  // previous command's last output when that one took no new beat.
  assign load      = rf_valid && (!have_q || (emit && last_out && !need_next));
  assign rf_pop    = load || (emit && need_next);
  assign cq_pop    = emit && last_out;
  assign funnel    = 512'({rf_data, prev_q} >> {c_off, 3'b000});

  always_comb begin
    k_d       = k_q;
    have_d    = have_q;
    prev_d    = prev_q;
    err_d     = err_q;
    o_valid_d = o_valid_q && !out_ready_i;
    o_data_d  = o_data_q;
    o_bytes_d = o_bytes_q;
    o_last_d  = o_last_q;
    o_err_d   = o_err_q;
    if (emit) begin
      o_valid_d = 1'b1;
      o_data_d  = funnel;
      o_last_d  = last_out;
      o_bytes_d = last_out ? c_lastb : 7'd64;
      o_err_d   = last_out && (err_q || (need_next && rf_err));
      if (need_next) begin
        prev_d = rf_data;
        err_d  = err_q || rf_err;
      end
      if (last_out) begin
        k_d    = '0;
        have_d = 1'b0;
        err_d  = 1'b0;
      end else begin
        k_d = k_q + 11'd1;
      end
    end
    if (load) begin
      prev_d = rf_data;
      have_d = 1'b1;
      err_d  = rf_err;
    end
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      k_q       <= '0;
      have_q    <= 1'b0;
      err_q     <= 1'b0;
      o_valid_q <= 1'b0;
    end else begin
      k_q       <= k_d;
      have_q    <= have_d;
      err_q     <= err_d;
      o_valid_q <= o_valid_d;
    end
  end
  always_ff @(posedge clk_i) begin
    prev_q    <= prev_d;
    o_data_q  <= o_data_d;
    o_bytes_q <= o_bytes_d;
    o_last_q  <= o_last_d;
    o_err_q   <= o_err_d;
  end

  assign out_data_o  = o_data_q;
  assign out_bytes_o = o_bytes_q;
  assign out_last_o  = o_last_q;
  assign out_err_o   = o_err_q;
  assign out_valid_o = o_valid_q;

  // The ID is fixed (one ID, in-order responses); nothing to check it against.
  logic unused_rid;
  assign unused_rid = ^m_axi_rid_i;

  // ---------------------------------------------------------------------------------------------
  // Assertions
  // ---------------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (!rst_i) begin
      assert (!(m_axi_rvalid_i && !rf_push_ready && !r_stray))
        else $error("dma_rd: R beat refused: the credit count let the R FIFO fill (%m)");
      assert (!(rd_cmd_valid_i && rd_cmd_ready_o && rd_cmd_len_i == 16'd0))
        else $error("dma_rd: command with len 0 (%m)");
      assert (32'(credits_q) <= FifoBeats) else $error("dma_rd: credits overflow (%m)");
      assert (!(load && !have_q && !cq_valid)) else $error("dma_rd: R beat with no command (%m)");
    end
  end
`endif

endmodule
