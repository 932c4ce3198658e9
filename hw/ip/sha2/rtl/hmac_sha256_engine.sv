// SPDX-License-Identifier: Apache-2.0
//
// HMAC-SHA-256 engine (RFC 2104, FIPS 198-1) with Contexts independent message contexts, for
// ESP HMAC-SHA-256-128 (RFC 4868: the user keeps mac_o[255:128]).
//
// Keys never enter as raw HMAC keys. Per message the user supplies the two chaining states that
// software computed at SA install:
//   istate = SHA-256 compression of H(0) with (K ^ ipad), ostate = the same with (K ^ opad)
// and the message bytes. The engine pads the inner message itself; its length field counts the
// 64-byte ipad block already absorbed into istate (RFC 2104 inner hash = H(K^ipad || m)). It then
// hashes the outer block (inner digest || padding, length 96 bytes) from ostate.
//
// Contexts and ordering. Each context c owns one sha256_compress core, a 64-byte block assembly
// buffer and the message's istate/ostate/id. The input is one stream whose beats name their
// context (in_ctx_i); beats of different contexts may interleave beat by beat, beats of one
// context are one message after another. The producer picks a context whose ctx_free_o bit is set
// for a new message and should only present beats for contexts whose ctx_ready_o bit is set
// (in_ready_o is ctx_ready_o[in_ctx_i], so a beat for a stalled context blocks the stream).
// MACs leave through one output register with a round-robin choice among contexts: MACs of one
// context leave in input order, across contexts in completion order; out_ctx_o and out_id_o (the
// in_id_i of the message's first beat) identify them.
//
// One message cannot go faster than one block per 64 / RoundsPerCycle + 1 cycles: SHA-256 is a
// Merkle-Damgard chain, block i+1 starts from the digest of block i, and each round depends on
// the previous one (a, e). Throughput comes from several messages in flight on several cores.
//
// Beat format: byte 0 of the message beat in in_data_i[7:0] (AXI-Stream lane order); in_bytes_i
// valid bytes from lane 0 up. Every beat but the last of a message is full; the last carries
// 0..BeatBytes bytes (0 for an empty message). MAC byte 0 is in out_mac_o[255:248] (big-endian,
// as printed in RFC 4231).
//
// Key wiping: istate is zeroed when the message's first block enters the core, ostate when the
// outer block does; the core zeroes its working variables after every block (sha256_compress), so
// when a context goes back to free no ipad/opad state or anything it can be recovered from is
// left. rst_i also zeroes them (engine disable).
`default_nettype none

module hmac_sha256_engine #(
  parameter int unsigned Contexts       = 4,   // messages in flight = compression cores, 1..64
  parameter int unsigned BeatBytes      = 8,   // input beat width in bytes: 8 or 16
  parameter int unsigned IdBits         = 8,   // width of the per-message tag in_id_i/out_id_o
  parameter int unsigned RoundsPerCycle = 1,   // SHA-256 rounds per clock in each core: 1 or 2
  parameter int unsigned LenBits        = 32,  // message byte counter width (max 2^LenBits-65 B)
  localparam int unsigned CtxBits       = (Contexts > 1) ? $clog2(Contexts) : 1,
  localparam int unsigned CntBits       = $clog2(BeatBytes + 1),
  localparam int unsigned BeatBits      = BeatBytes * 8
) (
  input  logic                 clk_i,
  input  logic                 rst_i,          // synchronous, active high; also wipes key state

  // Message beats in
  input  logic [CtxBits-1:0]   in_ctx_i,       // context of this beat
  input  logic [IdBits-1:0]    in_id_i,        // message tag, sampled on the first beat
  input  logic [255:0]         in_istate_i,    // inner chaining state, sampled on the first beat
  input  logic [255:0]         in_ostate_i,    // outer chaining state, sampled on the first beat
  input  logic [BeatBits-1:0]  in_data_i,      // message byte 0 of the beat in [7:0]
  input  logic [CntBits-1:0]   in_bytes_i,     // valid bytes, BeatBytes unless in_last_i
  input  logic                 in_last_i,
  input  logic                 in_valid_i,
  output logic                 in_ready_o,

  // Context status for the producer's scheduler
  output logic [Contexts-1:0]  ctx_free_o,     // can start a new message
  output logic [Contexts-1:0]  ctx_ready_o,    // would accept a beat this cycle

  // MACs out
  output logic [255:0]         out_mac_o,      // MAC byte 0 in [255:248]
  output logic [IdBits-1:0]    out_id_o,
  output logic [CtxBits-1:0]   out_ctx_o,
  output logic                 out_valid_o,
  input  logic                 out_ready_i
);

  localparam int unsigned BeatsPerBlock = 64 / BeatBytes;
  localparam int unsigned IdxBits       = $clog2(BeatsPerBlock);
  localparam int unsigned UserBits      = IdBits + 1;  // {outer block, id}
  // RFC 2104 outer hash input = 64-byte opad block + 32-byte inner digest = 768 bits.
  localparam logic [63:0] OuterBitLen   = 64'd768;

  if (Contexts < 1 || Contexts > 64) begin : gen_ctx_check
    $error("%m: Contexts must be 1..64");
  end
  if (BeatBytes != 8 && BeatBytes != 16) begin : gen_beat_check
    $error("%m: BeatBytes must be 8 or 16");
  end
  if (LenBits < 8 || LenBits > 58) begin : gen_len_check
    $error("%m: LenBits must be 8..58 (the bit length must fit the 64-bit length field)");
  end

  typedef enum logic [2:0] {
    StIdle,       // free: the next beat for this context starts a message
    StMsg,        // taking message beats
    StPad,        // writing padding beats after the last message byte
    StWaitInner,  // final inner block handed (or about to be): wait for the inner digest
    StOuter       // outer block built, waiting for the core
  } ctx_state_e;

  // Per-context signals gathered for the output arbiter.
  logic [Contexts-1:0]        lane_mac_valid;
  logic [Contexts*256-1:0]    lane_mac;
  logic [Contexts*IdBits-1:0] lane_mac_id;
  logic [Contexts-1:0]        lane_mac_take;

  logic in_fire;
  assign in_ready_o = (32'(in_ctx_i) < Contexts) ? ctx_ready_o[in_ctx_i] : 1'b0;
  assign in_fire    = in_valid_i && in_ready_o;

  for (genvar c = 0; c < Contexts; c++) begin : gen_ctx
    // -------------------------------------------------------------------------------------------
    // Context registers
    // -------------------------------------------------------------------------------------------
    ctx_state_e          state_q, state_d;
    logic                blk_full_q, blk_full_d;   // blk_q waits for the core
    logic [IdxBits-1:0]  fill_q, fill_d;           // next beat slot of blk_q
    logic                mac_valid_q, mac_valid_d;
    // Datapath (no reset; key registers are wiped explicitly)
    logic [511:0]        blk_q, blk_d;             // block being assembled, byte 0 in [511:504]
    logic                first_q, first_d;         // blk_q is the message's first block
    logic                blk_last_q, blk_last_d;   // blk_q holds the length field
    logic                blk_outer_q, blk_outer_d; // blk_q is the outer block
    logic                need80_q, need80_d;       // the 0x80 pad byte is still to be written
    logic [LenBits-1:0]  len_q, len_d;             // message bytes so far
    logic [IdBits-1:0]   id_q, id_d;
    logic [255:0]        istate_q, istate_d;
    logic [255:0]        ostate_q, ostate_d;
    logic [255:0]        mac_q, mac_d;
    logic [IdBits-1:0]   mac_id_q, mac_id_d;

    // Core
    logic                core_in_valid, core_in_ready;
    logic [255:0]        core_digest;
    logic [UserBits-1:0] core_out_user;
    logic                core_out_valid, core_out_ready;
    logic                core_out_outer;

    logic                beat_fire;                // an input beat for this context moves
    logic                lane_rdy;

    assign lane_rdy       = (state_q == StIdle || state_q == StMsg) && !blk_full_q;
    assign ctx_ready_o[c] = lane_rdy;
    assign ctx_free_o[c]  = (state_q == StIdle) && !blk_full_q;
    assign beat_fire      = in_fire && (32'(in_ctx_i) == c);

    assign core_in_valid  = blk_full_q;
    assign core_out_outer = core_out_user[UserBits-1];
    assign core_out_ready = core_out_outer ? !mac_valid_q : (state_q == StWaitInner);

    sha256_compress #(
      .RoundsPerCycle (RoundsPerCycle),
      .UserBits       (UserBits)
    ) u_core (
      .clk_i        (clk_i),
      .rst_i        (rst_i),
      .in_block_i   (blk_q),
      .in_init_i    (first_q || blk_outer_q),
      .in_state_i   (blk_outer_q ? ostate_q : istate_q),
      .in_last_i    (blk_last_q),
      .in_user_i    ({blk_outer_q, id_q}),
      .in_valid_i   (core_in_valid),
      .in_ready_o   (core_in_ready),
      .out_digest_o (core_digest),
      .out_user_o   (core_out_user),
      .out_valid_o  (core_out_valid),
      .out_ready_i  (core_out_ready)
    );

    // -------------------------------------------------------------------------------------------
    // Beat writer: message beats and padding beats go through the same formatter.
    //   byte k <  n              : message byte k
    //   byte k == n and put80    : 0x80 (FIPS 180-4 §5.1.1)
    //   last 8 bytes if put_len  : message bit length incl. the ipad block, big-endian
    // -------------------------------------------------------------------------------------------
    logic                wr_en;
    logic [BeatBits-1:0] wr_data;
    logic [CntBits-1:0]  wr_n;
    logic                wr_put80;
    logic                wr_put_len;
    logic [LenBits-1:0]  len_cur;                  // message bytes including this beat
    logic [63:0]         bit_len;
    logic [BeatBits-1:0] wr_beat;                  // formatted, byte 0 in the top byte
    logic                at_last_slot;

    assign at_last_slot = (fill_q == IdxBits'(BeatsPerBlock - 1));
    assign len_cur      = ((state_q == StIdle) ? '0 : len_q) + LenBits'(wr_n);
    assign bit_len      = 64'({len_cur + LenBits'(64), 3'b000});

    always_comb begin
      wr_en      = 1'b0;
      wr_data    = in_data_i;
      wr_n       = in_bytes_i;
      wr_put80   = 1'b0;
      wr_put_len = 1'b0;
      if (beat_fire) begin
        wr_en    = 1'b1;
        if (in_last_i) begin
          wr_put80   = (32'(in_bytes_i) < BeatBytes);
          wr_put_len = at_last_slot && (32'(in_bytes_i) + 9 <= BeatBytes);
        end
      end else if (state_q == StPad && !blk_full_q) begin
        wr_en      = 1'b1;
        wr_data    = '0;
        wr_n       = '0;
        wr_put80   = need80_q;
        // With 8-byte beats a 0x80 at byte 0 of the last slot leaves no room for the length.
        wr_put_len = at_last_slot && (!need80_q || BeatBytes > 8);
      end
    end

    always_comb begin
      for (int unsigned k = 0; k < BeatBytes; k++) begin
        logic [7:0] byte_v;
        byte_v = 8'h00;
        if (k < 32'(wr_n)) begin
          byte_v = wr_data[8*k +: 8];
        end else if (k == 32'(wr_n) && wr_put80) begin
          byte_v = 8'h80;
        end
        if (wr_put_len && k + 8 >= BeatBytes) begin
          byte_v = bit_len[8*(BeatBytes-1-k) +: 8];
        end
        wr_beat[BeatBits-1-8*k -: 8] = byte_v;
      end
    end

    // -------------------------------------------------------------------------------------------
    // Context FSM
    // -------------------------------------------------------------------------------------------
    logic core_in_fire, core_out_fire;
    assign core_in_fire  = core_in_valid && core_in_ready;
    assign core_out_fire = core_out_valid && core_out_ready;

    always_comb begin
      state_d     = state_q;
      blk_full_d  = blk_full_q;
      fill_d      = fill_q;
      mac_valid_d = mac_valid_q;
      blk_d       = blk_q;
      first_d     = first_q;
      blk_last_d  = blk_last_q;
      blk_outer_d = blk_outer_q;
      need80_d    = need80_q;
      len_d       = len_q;
      id_d        = id_q;
      istate_d    = istate_q;
      ostate_d    = ostate_q;
      mac_d       = mac_q;
      mac_id_d    = mac_id_q;

      // Block handed to the core: free the buffer, wipe the chaining input it consumed.
      if (core_in_fire) begin
        blk_full_d  = 1'b0;
        fill_d      = '0;
        first_d     = 1'b0;
        blk_last_d  = 1'b0;
        blk_outer_d = 1'b0;
        if (blk_outer_q) begin
          ostate_d = '0;
          state_d  = StIdle;
        end else if (first_q) begin
          istate_d = '0;
        end
      end

      if (beat_fire && state_q == StIdle) begin
        id_d     = in_id_i;
        istate_d = in_istate_i;
        ostate_d = in_ostate_i;
        first_d  = 1'b1;
        state_d  = StMsg;
      end

      if (wr_en) begin
        for (int unsigned i = 0; i < BeatsPerBlock; i++) begin
          if (fill_q == IdxBits'(i)) begin
            blk_d[511-BeatBits*i -: BeatBits] = wr_beat;
          end
        end
        len_d    = len_cur;
        need80_d = 1'b0;
        if (at_last_slot) begin
          blk_full_d = 1'b1;
          fill_d     = '0;
        end else begin
          fill_d = fill_q + IdxBits'(1);
        end
        if (wr_put_len) begin
          blk_last_d = 1'b1;
          state_d    = StWaitInner;
        end else if (beat_fire && in_last_i) begin
          need80_d = !wr_put80;
          state_d  = StPad;
        end
      end

      // Inner digest back: build the outer block (digest || 0x80 || 0 || 768) from ostate.
      if (core_out_fire && !core_out_outer) begin
        blk_d       = {core_digest, 8'h80, 184'd0, OuterBitLen};
        blk_full_d  = 1'b1;
        blk_last_d  = 1'b1;
        blk_outer_d = 1'b1;
        state_d     = StOuter;
      end

      if (core_out_fire && core_out_outer) begin
        mac_valid_d = 1'b1;
        mac_d       = core_digest;
        mac_id_d    = core_out_user[IdBits-1:0];
      end
      if (lane_mac_take[c]) begin
        mac_valid_d = 1'b0;
      end

      if (rst_i) begin
        istate_d = '0;
        ostate_d = '0;
      end
    end

    always_ff @(posedge clk_i) begin
      if (rst_i) begin
        state_q     <= StIdle;
        blk_full_q  <= 1'b0;
        fill_q      <= '0;
        mac_valid_q <= 1'b0;
      end else begin
        state_q     <= state_d;
        blk_full_q  <= blk_full_d;
        fill_q      <= fill_d;
        mac_valid_q <= mac_valid_d;
      end
    end

    always_ff @(posedge clk_i) begin
      blk_q       <= blk_d;
      first_q     <= first_d;
      blk_last_q  <= blk_last_d;
      blk_outer_q <= blk_outer_d;
      need80_q    <= need80_d;
      len_q       <= len_d;
      id_q        <= id_d;
      istate_q    <= istate_d;
      ostate_q    <= ostate_d;
      mac_q       <= mac_d;
      mac_id_q    <= mac_id_d;
    end

    assign lane_mac_valid[c]               = mac_valid_q;
    assign lane_mac[c*256 +: 256]          = mac_q;
    assign lane_mac_id[c*IdBits +: IdBits] = mac_id_q;

`ifndef SYNTHESIS
    // A beat is only written into a free buffer slot.
    a_wr_not_full: assert property (@(posedge clk_i) disable iff (rst_i) wr_en |-> !blk_full_q);
    // The inner digest only comes back while the context waits for it.
    a_inner_when_waiting: assert property (@(posedge clk_i) disable iff (rst_i)
        core_out_valid && !core_out_outer |-> state_q == StWaitInner);
    // Message length stays within the counter (no wrap of the bit length).
    a_len_no_wrap: assert property (@(posedge clk_i) disable iff (rst_i)
        wr_en |-> len_cur >= ((state_q == StIdle) ? '0 : len_q));
    // Keys are gone once the context is free.
    a_free_wiped: assert property (@(posedge clk_i) disable iff (rst_i)
        state_q == StIdle && !blk_full_q |-> istate_q == '0 && ostate_q == '0);
`endif
  end

  // ---------------------------------------------------------------------------------------------
  // MAC output: round-robin over contexts into one output register.
  // ---------------------------------------------------------------------------------------------
  logic                 out_valid_q, out_valid_d;
  logic [255:0]         out_mac_q, out_mac_d;
  logic [IdBits-1:0]    out_id_q, out_id_d;
  logic [CtxBits-1:0]   out_ctx_q, out_ctx_d;
  logic [CtxBits-1:0]   rr_q, rr_d;                // context with the highest priority

  always_comb begin
    logic             found;
    logic [CtxBits:0] sel;
    out_valid_d   = out_valid_q;
    out_mac_d     = out_mac_q;
    out_id_d      = out_id_q;
    out_ctx_d     = out_ctx_q;
    rr_d          = rr_q;
    lane_mac_take = '0;
    found         = 1'b0;
    sel           = '0;

    if (out_valid_q && out_ready_i) begin
      out_valid_d = 1'b0;
    end
    if (!out_valid_q || out_ready_i) begin
      for (int unsigned k = 0; k < 2 * Contexts; k++) begin
        if (!found && k >= 32'(rr_q) && lane_mac_valid[k % Contexts]) begin
          found = 1'b1;
          sel   = (CtxBits+1)'(k % Contexts);
        end
      end
      if (found) begin
        lane_mac_take[sel[CtxBits-1:0]] = 1'b1;
        out_valid_d = 1'b1;
        out_mac_d   = lane_mac[sel[CtxBits-1:0]*256 +: 256];
        out_id_d    = lane_mac_id[sel[CtxBits-1:0]*IdBits +: IdBits];
        out_ctx_d   = sel[CtxBits-1:0];
        rr_d        = (32'(sel) == Contexts - 1) ? '0 : sel[CtxBits-1:0] + CtxBits'(1);
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      out_valid_q <= 1'b0;
      rr_q        <= '0;
    end else begin
      out_valid_q <= out_valid_d;
      rr_q        <= rr_d;
    end
  end

  always_ff @(posedge clk_i) begin
    out_mac_q <= out_mac_d;
    out_id_q  <= out_id_d;
    out_ctx_q <= out_ctx_d;
  end

  assign out_valid_o = out_valid_q;
  assign out_mac_o   = out_mac_q;
  assign out_id_o    = out_id_q;
  assign out_ctx_o   = out_ctx_q;

  // ---------------------------------------------------------------------------------------------
  // Assertions
  // ---------------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  // Output handshake: payload stable while stalled.
  a_out_stable: assert property (@(posedge clk_i) disable iff (rst_i)
      out_valid_o && !out_ready_i |=> out_valid_o && $stable(out_mac_o) && $stable(out_id_o) &&
      $stable(out_ctx_o));
  // Input rules the producer must keep: valid context, no short beat before the last, byte count
  // within the beat.
  a_in_ctx_legal: assert property (@(posedge clk_i) disable iff (rst_i)
      in_valid_i |-> 32'(in_ctx_i) < Contexts);
  a_in_full_beats: assert property (@(posedge clk_i) disable iff (rst_i)
      in_valid_i && !in_last_i |-> 32'(in_bytes_i) == BeatBytes);
  a_in_bytes_range: assert property (@(posedge clk_i) disable iff (rst_i)
      in_valid_i |-> 32'(in_bytes_i) <= BeatBytes);
  // At most one MAC taken per cycle (the round-robin select is one-hot).
  a_take_onehot: assert property (@(posedge clk_i) disable iff (rst_i) $onehot0(lane_mac_take));
`endif

endmodule
