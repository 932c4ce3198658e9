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
// Contexts and ordering. Each context c owns a 64-byte block assembly buffer and the message's
// istate/ostate/id, and one of the two slots of a sha256_compress core (context c: core c / 2,
// slot c % 2; the core runs two messages interleaved, each at one round per two cycles, which is
// what keeps its logic depth at five LUT levels). The input is one stream whose beats name
// their context (in_ctx_i); beats of different contexts may interleave beat by beat, beats of
// one context are one message after another. The producer picks a context whose ctx_free_o bit
// is set for a new message and should only present beats for contexts whose ctx_ready_o bit is
// set (in_ready_o is ctx_ready_o[in_ctx_i], so a beat for a stalled context blocks the stream).
// MACs leave through one output register with a round-robin choice among contexts: MACs of one
// context leave in input order, across contexts in completion order; out_ctx_o and out_id_o (the
// in_id_i of the message's first beat) identify them.
//
// One message cannot go faster than one block per 130 cycles (64 rounds of two cycles, plus two):
// SHA-256 is a Merkle-Damgard chain, block i+1 starts from the digest of block i, and each round
// depends on the previous one (a, e). Throughput comes from several messages in flight.
//
// Beat format: byte 0 of the message beat in in_data_i[7:0] (AXI-Stream lane order); in_bytes_i
// valid bytes from lane 0 up. Every beat but the last of a message is full; the last carries
// 0..BeatBytes bytes (0 for an empty message). MAC byte 0 is in out_mac_o[255:248] (big-endian,
// as printed in RFC 4231).
//
// Key wiping: istate is zeroed when the message's first block enters the core, ostate when the
// outer block does; the core zeroes a slot's working variables after every block, so
// when a context goes back to free no ipad/opad state or anything it can be recovered from is
// left. rst_i also zeroes them (engine disable).
`default_nettype none

module hmac_sha256_engine #(
  parameter int unsigned Contexts       = 4,   // messages in flight (2 per core), 1..64
  parameter int unsigned BeatBytes      = 8,   // input beat width in bytes: 8 or 16
  parameter int unsigned IdBits         = 8,   // width of the per-message tag in_id_i/out_id_o
  parameter int unsigned LenBits        = 16,  // length counter width: messages up to 2^LenBits-65 B
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
  localparam int unsigned RemBits       = $clog2(BeatBytes);
  localparam int unsigned BeatCntBits   = LenBits - RemBits;  // {beats, rem}: LenBits bits
  localparam int unsigned IpadBeats     = 64 / BeatBytes;
  localparam int unsigned IdxBits       = $clog2(BeatsPerBlock);
  localparam int unsigned UserBits      = IdBits + 1;  // {outer block, id}
  // RFC 2104 outer hash input = 64-byte opad block + 32-byte inner digest = 768 bits.
  localparam logic [63:0] OuterBitLen   = 64'd768;
  // Two contexts per core; with an odd Contexts the last core's slot 1 stays unused.
  localparam int unsigned Cores         = (Contexts + 1) / 2;
  localparam int unsigned Slots         = 2 * Cores;

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

  // Per-slot block and digest streams between the contexts and the cores (Slots >= Contexts;
  // a missing context's entries are tied off below).
  logic [Slots-1:0]           sl_blk_valid;     // context -> core: block waiting
  logic [Slots*512-1:0]       sl_blk;
  logic [Slots-1:0]           sl_init;
  logic [Slots*256-1:0]       sl_state;
  logic [Slots-1:0]           sl_last;
  logic [Slots*UserBits-1:0]  sl_user;
  logic [Slots-1:0]           sl_blk_take;      // core -> context: block taken
  logic [Slots*256-1:0]       sl_digest;        // core -> context
  logic [Slots*UserBits-1:0]  sl_dig_user;
  logic [Slots-1:0]           sl_dig_valid;
  logic [Slots-1:0]           sl_dig_ready;     // context -> core

  assign in_ready_o = (32'(in_ctx_i) < Contexts) ? ctx_ready_o[in_ctx_i] : 1'b0;

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
    // Message length so far, ipad block included, as full beats and the bytes of a short last
    // beat: the length field is {bcnt, rem} * 8, a concatenation, so no adder sits between the
    // input port and the block buffer.
    logic [BeatCntBits-1:0] bcnt_q, bcnt_d;       // full beats (ipad block = IpadBeats)
    logic [RemBits-1:0]     rem_q, rem_d;         // bytes of a short last beat, else 0
    logic [IdBits-1:0]   id_q, id_d;
    logic [255:0]        istate_q, istate_d;
    logic [255:0]        ostate_q, ostate_d;
    logic [255:0]        mac_q, mac_d;
    logic [IdBits-1:0]   mac_id_q, mac_id_d;

    // Core slot
    logic                core_in_valid;
    logic [255:0]        core_digest;
    logic [UserBits-1:0] core_out_user;
    logic                core_out_valid, core_out_ready;
    logic                core_out_outer;

    logic                beat_fire;                // an input beat for this context moves
    logic                lane_rdy;

    assign lane_rdy       = (state_q == StIdle || state_q == StMsg) && !blk_full_q;
    assign ctx_ready_o[c] = lane_rdy;
    assign ctx_free_o[c]  = (state_q == StIdle) && !blk_full_q;
    // Decoded directly (not through the in_ready_o select) to keep the path short.
    assign beat_fire      = in_valid_i && (32'(in_ctx_i) == c) && lane_rdy;

    assign core_in_valid  = blk_full_q;
    assign core_out_outer = core_out_user[UserBits-1];
    assign core_out_ready = core_out_outer ? !mac_valid_q : (state_q == StWaitInner);

    assign sl_blk_valid[c]                   = core_in_valid;
    assign sl_blk[c*512 +: 512]              = blk_q;
    assign sl_init[c]                        = first_q || blk_outer_q;
    assign sl_state[c*256 +: 256]            = blk_outer_q ? ostate_q : istate_q;
    assign sl_last[c]                        = blk_last_q;
    assign sl_user[c*UserBits +: UserBits]   = {blk_outer_q, id_q};
    assign core_digest                       = sl_digest[c*256 +: 256];
    assign core_out_user                     = sl_dig_user[c*UserBits +: UserBits];
    assign core_out_valid                    = sl_dig_valid[c];
    assign sl_dig_ready[c]                   = core_out_ready;

    // -------------------------------------------------------------------------------------------
    // Beat writer: message beats and padding beats share one byte layout.
    //   byte k <  n              : message byte k
    //   byte k == n and put80    : 0x80 (FIPS 180-4 §5.1.1)
    //   last 8 bytes if put_len  : message bit length incl. the ipad block, big-endian
    // -------------------------------------------------------------------------------------------
    logic                wr_en;
    logic                wr_put80;
    logic                wr_put_len;
    logic                wr_full;                  // a message beat with BeatBytes bytes
    logic                pad_en;                   // a padding beat is written this cycle
    logic                m_put80, m_put_len, p_put80, p_put_len;
    logic [BeatBits-1:0] m_beat, p_beat;           // formatted message / padding beat
    logic [BeatBits-1:0] wr_beat;                  // formatted, byte 0 in the top byte
    logic                at_last_slot;

    assign at_last_slot = (fill_q == IdxBits'(BeatsPerBlock - 1));
    assign pad_en       = state_q == StPad && !blk_full_q;
    assign wr_en        = beat_fire || pad_en;
    assign wr_full      = beat_fire && 32'(in_bytes_i) == BeatBytes;

    // The two formats are built side by side, the message one from the ports and the padding
    // one from registers only, and beat_fire picks one: this keeps the input-to-buffer path at
    // a few LUT levels. The length goes out either with a short last message beat (its bytes
    // are the remainder) or with a padding beat (the remainder was stored); a full last beat
    // never carries it.
    assign m_put80   = in_last_i && 32'(in_bytes_i) < BeatBytes;
    assign m_put_len = in_last_i && at_last_slot && 32'(in_bytes_i) + 9 <= BeatBytes;
    assign p_put80   = need80_q;
    // With 8-byte beats a 0x80 at byte 0 of the last slot leaves no room for the length.
    assign p_put_len = at_last_slot && (!need80_q || BeatBytes > 8);
    assign wr_put80   = beat_fire ? m_put80 : (pad_en && p_put80);
    assign wr_put_len = beat_fire ? m_put_len : (pad_en && p_put_len);

    always_comb begin
      logic [63:0] m_len, p_len;
      m_len = 64'({bcnt_q, in_bytes_i[RemBits-1:0], 3'b000});
      p_len = 64'({bcnt_q, rem_q, 3'b000});
      for (int unsigned k = 0; k < BeatBytes; k++) begin
        logic [7:0] mb, pb;
        mb = 8'h00;
        if (k < 32'(in_bytes_i)) begin
          mb = in_data_i[8*k +: 8];
        end else if (k == 32'(in_bytes_i) && m_put80) begin
          mb = 8'h80;
        end
        if (m_put_len && k + 8 >= BeatBytes) begin
          mb = m_len[8*(BeatBytes-1-k) +: 8];
        end
        pb = (k == 0 && p_put80) ? 8'h80 : 8'h00;
        if (p_put_len && k + 8 >= BeatBytes) begin
          pb = p_len[8*(BeatBytes-1-k) +: 8];
        end
        m_beat[BeatBits-1-8*k -: 8] = mb;
        p_beat[BeatBits-1-8*k -: 8] = pb;
      end
    end

    assign wr_beat = beat_fire ? m_beat : p_beat;

    // -------------------------------------------------------------------------------------------
    // Context FSM
    // -------------------------------------------------------------------------------------------
    // Beat counter increment with the carries taken from the register alone, so the late
    // wr_full only meets them in the last LUT.
    logic [BeatCntBits-1:0] bcnt_inc;
    always_comb begin
      logic [BeatCntBits-1:0] below;  // the bits below bit i (a balanced AND, not a ripple)
      for (int unsigned i = 0; i < BeatCntBits; i++) begin
        below       = BeatCntBits'((64'd1 << i) - 64'd1);
        bcnt_inc[i] = bcnt_q[i] ^ (&(bcnt_q | ~below));
      end
    end

    // Next state, one case per state: message beats only arrive in StIdle/StMsg (ctx_ready_o),
    // padding beats only in StPad, the inner digest only in StWaitInner, the outer block only
    // leaves in StOuter.
    always_comb begin
      state_d = state_q;
      unique case (state_q)
        StIdle, StMsg: begin
          if (beat_fire) begin
            state_d = m_put_len ? StWaitInner : in_last_i ? StPad : StMsg;
          end
        end
        StPad:       if (pad_en && p_put_len) state_d = StWaitInner;
        StWaitInner: if (core_out_fire && !core_out_outer) state_d = StOuter;
        StOuter:     if (core_in_fire) state_d = StIdle;
        default:     state_d = StIdle;
      endcase
    end

    logic core_in_fire, core_out_fire;
    assign core_in_fire  = sl_blk_take[c];
    assign core_out_fire = core_out_valid && core_out_ready;

    always_comb begin
      blk_full_d  = blk_full_q;
      fill_d      = fill_q;
      mac_valid_d = mac_valid_q;
      blk_d       = blk_q;
      first_d     = first_q;
      blk_last_d  = blk_last_q;
      blk_outer_d = blk_outer_q;
      need80_d    = need80_q;
      bcnt_d      = bcnt_q;
      rem_d       = rem_q;
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
        end else if (first_q) begin
          istate_d = '0;
        end
      end

      if (beat_fire && state_q == StIdle) begin
        id_d     = in_id_i;
        istate_d = in_istate_i;
        ostate_d = in_ostate_i;
        first_d  = 1'b1;
      end

      if (wr_en) begin
        for (int unsigned i = 0; i < BeatsPerBlock; i++) begin
          if (fill_q == IdxBits'(i)) begin
            blk_d[511-BeatBits*i -: BeatBits] = wr_beat;
          end
        end
        if (wr_full) begin
          bcnt_d = bcnt_inc;
          rem_d  = '0;
        end else if (beat_fire) begin
          rem_d  = in_bytes_i[RemBits-1:0];
        end
        need80_d = 1'b0;
        if (at_last_slot) begin
          blk_full_d = 1'b1;
          fill_d     = '0;
        end else begin
          fill_d = fill_q + IdxBits'(1);
        end
        if (wr_put_len) begin
          blk_last_d = 1'b1;
          bcnt_d     = BeatCntBits'(IpadBeats);  // ready for the next message
          rem_d      = '0;
        end else if (beat_fire && in_last_i) begin
          need80_d = !wr_put80;
        end
      end

      // Inner digest back: build the outer block (digest || 0x80 || 0 || 768) from ostate.
      if (core_out_fire && !core_out_outer) begin
        blk_d       = {core_digest, 8'h80, 184'd0, OuterBitLen};
        blk_full_d  = 1'b1;
        blk_last_d  = 1'b1;
        blk_outer_d = 1'b1;
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
        bcnt_q      <= BeatCntBits'(IpadBeats);
        rem_q       <= '0;
      end else begin
        state_q     <= state_d;
        blk_full_q  <= blk_full_d;
        fill_q      <= fill_d;
        mac_valid_q <= mac_valid_d;
        bcnt_q      <= bcnt_d;
        rem_q       <= rem_d;
      end
    end

    always_ff @(posedge clk_i) begin
      blk_q       <= blk_d;
      first_q     <= first_d;
      blk_last_q  <= blk_last_d;
      blk_outer_q <= blk_outer_d;
      need80_q    <= need80_d;
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
        wr_full |-> bcnt_q != '1);
    // A message starts from the ipad block's length.
    a_len_start: assert property (@(posedge clk_i) disable iff (rst_i)
        state_q == StIdle |-> bcnt_q == BeatCntBits'(IpadBeats) && rem_q == '0);
    // Keys are gone once the context is free.
    a_free_wiped: assert property (@(posedge clk_i) disable iff (rst_i)
        state_q == StIdle && !blk_full_q |-> istate_q == '0 && ostate_q == '0);
`endif
  end

  // Slot 1 of the last core when Contexts is odd: never a block, digests (none) always taken.
  for (genvar c = Contexts; c < Slots; c++) begin : gen_unused_slot
    assign sl_blk_valid[c]                 = 1'b0;
    assign sl_blk[c*512 +: 512]            = '0;
    assign sl_init[c]                      = 1'b0;
    assign sl_state[c*256 +: 256]          = '0;
    assign sl_last[c]                      = 1'b0;
    assign sl_user[c*UserBits +: UserBits] = '0;
    assign sl_dig_ready[c]                 = 1'b1;
`ifndef SYNTHESIS
    // The unused slot never takes a block nor shows a digest.
    a_unused_slot_idle: assert property (@(posedge clk_i) disable iff (rst_i)
        !sl_blk_take[c] && !sl_dig_valid[c]);
`endif
  end

  // ---------------------------------------------------------------------------------------------
  // Compression cores: core k serves contexts 2k (slot 0) and 2k+1 (slot 1).
  // ---------------------------------------------------------------------------------------------
  for (genvar k = 0; k < Cores; k++) begin : gen_core
    logic [1:0] core_in_ready;

    sha256_compress #(
      .UserBits (UserBits)
    ) u_core (
      .clk_i        (clk_i),
      .rst_i        (rst_i),
      .in_block_i   (sl_blk[2*k*512 +: 1024]),
      .in_init_i    (sl_init[2*k +: 2]),
      .in_state_i   (sl_state[2*k*256 +: 512]),
      .in_last_i    (sl_last[2*k +: 2]),
      .in_user_i    (sl_user[2*k*UserBits +: 2*UserBits]),
      .in_valid_i   (sl_blk_valid[2*k +: 2]),
      .in_ready_o   (core_in_ready),
      .out_digest_o (sl_digest[2*k*256 +: 512]),
      .out_user_o   (sl_dig_user[2*k*UserBits +: 2*UserBits]),
      .out_valid_o  (sl_dig_valid[2*k +: 2]),
      .out_ready_i  (sl_dig_ready[2*k +: 2])
    );

    assign sl_blk_take[2*k +: 2] = sl_blk_valid[2*k +: 2] & core_in_ready;
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
