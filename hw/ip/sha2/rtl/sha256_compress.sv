// SPDX-License-Identifier: Apache-2.0
//
// SHA-256 compression function (FIPS 180-4 §6.2.2), iterative: RoundsPerCycle rounds per clock,
// 64 / RoundsPerCycle round cycles plus one feed-forward cycle per block.
//
// A block stream in, one digest out per message. Each block says whether it starts a chain from
// in_state_i (in_init_i = 1: H(0) for plain SHA-256, or an HMAC ipad/opad state) or continues from
// the core's own result of the previous block (in_init_i = 0), and whether the digest is wanted
// (in_last_i = 1). Only last blocks produce an output beat; in_user_i rides along to out_user_o.
// The next block is loaded in the feed-forward cycle of the previous one, so a stream of blocks
// runs at one block every 64 / RoundsPerCycle + 1 cycles.
//
// Timing: the h + K[t] + W[t] part of T1 is precomputed one cycle ahead (hkw_q) from registers
// only, so the round path is one 5-operand addition (a) and one 4-operand addition (e).
//
// Key hygiene: for HMAC the chaining input is an ipad/opad state. The working variables a..h
// hold (result - input) after the last round, from which the input state could be recovered, so
// they and hkw_q are zeroed in the feed-forward cycle unless a new block overwrites them.
// The datapath carries no reset, control state does; rst_i also zeroes a..h, H and hkw_q so an
// engine disable leaves no key-derived state behind.
//
// Vector layout (big-endian, see sha2_pkg): H0 / a in [255:224], W0 in [511:480].
`default_nettype none

module sha256_compress #(
  parameter int unsigned RoundsPerCycle = 1,  // SHA-256 rounds per clock: 1 or 2
  parameter int unsigned UserBits       = 1,  // sideband bits carried from a last block to its digest
  localparam int unsigned CyclesPerBlock = 64 / RoundsPerCycle
) (
  input  logic                 clk_i,
  input  logic                 rst_i,           // synchronous, active high

  // Blocks in
  input  logic [511:0]         in_block_i,      // W0 in [511:480]
  input  logic                 in_init_i,       // 1: chain from in_state_i; 0: from previous block
  input  logic [255:0]         in_state_i,      // chaining input when in_init_i
  input  logic                 in_last_i,       // emit the digest after this block
  input  logic [UserBits-1:0]  in_user_i,       // returned with the digest of a last block
  input  logic                 in_valid_i,
  output logic                 in_ready_o,

  // Digests out (one per last block)
  output logic [255:0]         out_digest_o,    // H0 in [255:224]
  output logic [UserBits-1:0]  out_user_o,
  output logic                 out_valid_o,
  input  logic                 out_ready_i
);

  localparam int unsigned W = 32;

  if (RoundsPerCycle != 1 && RoundsPerCycle != 2) begin : gen_param_check
    $error("%m: RoundsPerCycle must be 1 or 2 (the schedule update would chain otherwise)");
  end

  // ---------------------------------------------------------------------------------------------
  // Registers
  // ---------------------------------------------------------------------------------------------
  // Control (reset)
  logic                busy_q, busy_d;    // round cycles running
  logic                ff_q, ff_d;        // feed-forward cycle pending
  logic [5:0]          rnd_q, rnd_d;      // round cycle 0 .. CyclesPerBlock-1
  logic                out_valid_q, out_valid_d;
  // Datapath (no reset)
  logic                last_q, last_d;
  logic [UserBits-1:0] user_q, user_d;
  logic [255:0]        v_q, v_d;          // working variables a..h, a in [255:224]
  logic [255:0]        h_q, h_d;          // chaining value H(i-1) during the rounds
  logic [511:0]        w_q, w_d;          // schedule window W[t..t+15], W[t] in [511:480]
  logic [RoundsPerCycle*W-1:0] hkw_q, hkw_d;  // h + K + W for each round of this cycle
  logic [255:0]        out_digest_q, out_digest_d;
  logic [UserBits-1:0] out_user_q, out_user_d;

  // ---------------------------------------------------------------------------------------------
  // Combinational datapath
  // ---------------------------------------------------------------------------------------------
  logic [255:0] chain;       // H(i) = H(i-1) + a..h; equals h_q when idle (a..h wiped to zero)
  logic [255:0] base;        // chaining input of the block being loaded
  logic [255:0] v_rounds;    // a..h after this cycle's rounds
  logic [511:0] w_next;      // schedule window shifted by RoundsPerCycle words
  logic         ff_stall;    // last block done but the output register is still full
  logic         in_fire;

  always_comb begin
    for (int unsigned i = 0; i < 8; i++) begin
      chain[255-W*i -: W] = h_q[255-W*i -: W] + v_q[255-W*i -: W];
    end
    base = in_init_i ? in_state_i : chain;
  end

  // Rounds: FIPS 180-4 §6.2.2 step 3, with h + K[t] + W[t] taken from hkw_q.
  always_comb begin
    logic [31:0] a, b, c, d, e, f, g, t1, t2;
    a = v_q[255 -: W];
    b = v_q[223 -: W];
    c = v_q[191 -: W];
    d = v_q[159 -: W];
    e = v_q[127 -: W];
    f = v_q[95 -: W];
    g = v_q[63 -: W];
    for (int unsigned j = 0; j < RoundsPerCycle; j++) begin
      t1 = hkw_q[j*W +: W] + sha2_pkg::big_sigma1(e) + sha2_pkg::ch(e, f, g);
      t2 = sha2_pkg::big_sigma0(a) + sha2_pkg::maj(a, b, c);
      g  = f;
      f  = e;
      e  = d + t1;
      d  = c;
      c  = b;
      b  = a;
      a  = t1 + t2;
    end
    v_rounds = {a, b, c, d, e, f, g, (RoundsPerCycle == 1) ? v_q[63 -: W] : v_q[95 -: W]};
  end

  // Message schedule: FIPS 180-4 §6.2.2 step 1; W[t+16+j] only needs W[t+j .. t+14+j], all in
  // the window for j < 2, so the two new words do not chain.
  always_comb begin
    w_next = w_q << (RoundsPerCycle * W);
    for (int unsigned j = 0; j < RoundsPerCycle; j++) begin
      w_next[(RoundsPerCycle-1-j)*W +: W] =
          sha2_pkg::small_sigma1(w_q[511-W*(14+j) -: W]) + w_q[511-W*(9+j) -: W] +
          sha2_pkg::small_sigma0(w_q[511-W*(1+j) -: W]) + w_q[511-W*j -: W];
    end
  end

  assign ff_stall   = ff_q && last_q && out_valid_q;
  assign in_ready_o = (!busy_q && !ff_q) || (ff_q && !ff_stall);
  assign in_fire    = in_valid_i && in_ready_o;

  always_comb begin
    busy_d       = busy_q;
    ff_d         = ff_q;
    rnd_d        = rnd_q;
    last_d       = last_q;
    user_d       = user_q;
    v_d          = v_q;
    h_d          = h_q;
    w_d          = w_q;
    hkw_d        = hkw_q;
    out_valid_d  = out_valid_q;
    out_digest_d = out_digest_q;
    out_user_d   = out_user_q;

    if (out_valid_q && out_ready_i) begin
      out_valid_d = 1'b0;
    end

    if (busy_q) begin
      v_d   = v_rounds;
      w_d   = w_next;
      rnd_d = rnd_q + 6'd1;
      // Next cycle's round j uses h = the register (7 - RoundsPerCycle - j) of this cycle.
      for (int unsigned j = 0; j < RoundsPerCycle; j++) begin
        hkw_d[j*W +: W] = v_q[255-W*(7-RoundsPerCycle-j) -: W] +
                          sha2_pkg::k_word(6'((rnd_q + 6'd1) * 6'(RoundsPerCycle) + 6'(j))) +
                          w_q[511-W*(RoundsPerCycle+j) -: W];
      end
      if (rnd_q == 6'(CyclesPerBlock - 1)) begin
        busy_d = 1'b0;
        ff_d   = 1'b1;
      end
    end

    if (ff_q && !ff_stall) begin
      // Feed-forward: H(i) = H(i-1) + a..h. Wipe a..h (see header) unless a block loads now.
      h_d   = chain;
      v_d   = '0;
      hkw_d = '0;
      ff_d  = 1'b0;
      if (last_q) begin
        out_valid_d  = 1'b1;
        out_digest_d = chain;
        out_user_d   = user_q;
      end
    end

    if (in_fire) begin
      v_d    = base;
      h_d    = base;
      w_d    = in_block_i;
      rnd_d  = 6'd0;
      busy_d = 1'b1;
      ff_d   = 1'b0;
      last_d = in_last_i;
      user_d = in_user_i;
      for (int unsigned j = 0; j < RoundsPerCycle; j++) begin
        hkw_d[j*W +: W] = base[255-W*(7-j) -: W] + sha2_pkg::k_word(6'(j)) +
                          in_block_i[511-W*j -: W];
      end
    end

    // Reset doubles as the key wipe of an engine disable: everything that can hold a chaining
    // input (ipad/opad state) or values it can be recovered from is zeroed.
    if (rst_i) begin
      v_d   = '0;
      h_d   = '0;
      hkw_d = '0;
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Registers
  // ---------------------------------------------------------------------------------------------
  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      busy_q      <= 1'b0;
      ff_q        <= 1'b0;
      rnd_q       <= 6'd0;
      out_valid_q <= 1'b0;
    end else begin
      busy_q      <= busy_d;
      ff_q        <= ff_d;
      rnd_q       <= rnd_d;
      out_valid_q <= out_valid_d;
    end
  end

  always_ff @(posedge clk_i) begin
    last_q       <= last_d;
    user_q       <= user_d;
    v_q          <= v_d;
    h_q          <= h_d;
    w_q          <= w_d;
    hkw_q        <= hkw_d;
    out_digest_q <= out_digest_d;
    out_user_q   <= out_user_d;
  end

  assign out_valid_o  = out_valid_q;
  assign out_digest_o = out_digest_q;
  assign out_user_o   = out_user_q;

  // ---------------------------------------------------------------------------------------------
  // Assertions
  // ---------------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  // Output payload stable while stalled.
  a_out_stable: assert property (@(posedge clk_i) disable iff (rst_i)
      out_valid_o && !out_ready_i |=> out_valid_o && $stable(out_digest_o) && $stable(out_user_o));
  // Never busy rounds and feed-forward at once.
  a_busy_ff_onehot: assert property (@(posedge clk_i) disable iff (rst_i) !(busy_q && ff_q));
  // Feed-forward follows exactly the last round cycle.
  a_ff_after_rounds: assert property (@(posedge clk_i) disable iff (rst_i)
      busy_q && rnd_q == 6'(CyclesPerBlock - 1) |=> ff_q);
  // Key hygiene: an idle core holds no working variables (nor hkw) from the last block.
  a_idle_wiped: assert property (@(posedge clk_i) disable iff (rst_i)
      !busy_q && !ff_q |-> v_q == '0 && hkw_q == '0);
`endif

endmodule
