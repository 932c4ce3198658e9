// SPDX-License-Identifier: Apache-2.0
//
// SHA-256 compression function (FIPS 180-4 §6.2.2) for two interleaved chains ("slots"): each
// round is split over two clock cycles and the two slots take turns, so the core completes one
// round per clock in aggregate while no clock cycle holds more than about five 6-LUT levels of
// logic (the 300 MHz budget for UltraScale+; see doc/theory_of_operation.md).
//
// Pipeline (a C-slow ring: every register alternates between the two slots):
//   stage 1 (slot in "S" registers, round t): Sigma0/Maj and Sigma1/Ch of a..g plus the
//           precomputed h + K[t] + W[t] (and d + h + K[t] + W[t]) in carry-save form are
//           compressed to two rows each for a[t+1] and e[t+1], the schedule's W[t+16] likewise,
//           and the first level of the carry-propagate adders (sha2_add32_pre) follows.
//   stage 2 (slot in "P" registers): the rest of the three adders (sha2_add32_post, three LUT
//           levels) and the next-state selects; off the round loop, h + K + W of round t+1 in
//           carry-save form.
// Feed-forward H(i) = H(i-1) + a..h costs no extra round: H0 and H4 are added into round 63 (the
// final a and e are used by nothing else), and H1..H3, H5..H7 are added by two small pipelined
// adders while rounds 61..63 run, as the final b, c, d (= a63, a62, a61) and f, g, h appear.
//
// Slots. Each slot has its own block input (valid/ready) and digest output. Slot s can load a
// block only every other cycle (when it passes from stage 2 to stage 1) and only when idle, so
// in_ready_o[s] is high at most every other cycle; it depends on registers only. A block takes
// 128 cycles of rounds; its slot can load the next block 2 cycles after the last round, so each
// slot runs one block per 130 cycles and the core one block per 65 cycles. Each block either
// starts a chain from in_state_i (in_init_i = 1: H(0) for plain SHA-256, or an HMAC ipad/opad
// state) or continues from the slot's previous result (in_init_i = 0); in_last_i blocks produce
// a digest. A slot's digest is held in its chaining register h_q and shown on out_digest_o[slot]
// with out_valid_o[slot] until out_ready_i[slot]; the slot takes no new block meanwhile.
//
// Key hygiene: for HMAC the chaining input is an ipad/opad state. Working variables, the carry-
// save rows and the feed-forward operands of a slot are zero whenever the slot is idle (checked by
// assertions); rst_i zeroes them and the chaining registers.
//
// Vector layout (big-endian, see sha2_pkg): H0 / a in [255:224], W0 in [511:480].
`default_nettype none

module sha256_compress #(
  parameter int unsigned UserBits = 1,  // sideband carried from a last block to its digest
  localparam int unsigned Slots   = 2
) (
  input  logic                      clk_i,
  input  logic                      rst_i,          // synchronous, active high

  // Blocks in, one port per slot
  input  logic [Slots*512-1:0]      in_block_i,     // slot s at [s*512 +: 512], W0 on top
  input  logic [Slots-1:0]          in_init_i,      // 1: chain from in_state_i; 0: from previous
  input  logic [Slots*256-1:0]      in_state_i,     // chaining input when in_init_i
  input  logic [Slots-1:0]          in_last_i,      // emit the digest after this block
  input  logic [Slots*UserBits-1:0] in_user_i,      // returned with the digest of a last block
  input  logic [Slots-1:0]          in_valid_i,
  output logic [Slots-1:0]          in_ready_o,

  // Digests out, one port per slot
  output logic [Slots*256-1:0]      out_digest_o,   // slot s at [s*256 +: 256], H0 on top
  output logic [Slots*UserBits-1:0] out_user_o,
  output logic [Slots-1:0]          out_valid_o,
  input  logic [Slots-1:0]          out_ready_i
);

  localparam int unsigned W = 32;
  // The half-added form (sha2_add32_pre) of 0 + 0: not all zeros, the carry-in-1 sum of each
  // 3-bit group is 1.
  localparam logic [sha2_pkg::AddPreBits-1:0] PreZero = {19'd0, 32'h49249249, 32'd0};

  // ---------------------------------------------------------------------------------------------
  // Registers. "S" = the slot in stage 1 this cycle (slot !phase_q), "P" = the slot in stage 2
  // (slot phase_q). Every cycle P takes stage 1's result and S takes stage 2's.
  // ---------------------------------------------------------------------------------------------
  // Control (reset)
  logic              phase_q;                      // slot in stage 2
  logic              busy_s_q, busy_p_q;           // slot has a block in its rounds
  logic [5:0]        rnd_s_q, rnd_p_q;             // round number in stage 1 / stage 2
  logic              inj_p_q;                      // P: stage 2 precomputes round 63
  logic [Slots-1:0]  out_valid_q;
  // Datapath (no reset; rst_i zeroes it through the load/run/idle selects)
  logic [W-1:0]      sa_q, sb_q, sc_q, se_q, sf_q, sg_q;          // a, b, c, e, f, g of round t
  logic [W-1:0]      hkw_s_q, hkw_c_q;             // h + K[t] + W[t], two rows
  logic [W-1:0]      dhkw_s_q, dhkw_c_q;           // d + h + K[t] + W[t], two rows
  logic [511:0]      ws_q;                         // W[t..t+15], W[t] in [511:480]
  logic [sha2_pkg::AddPreBits-1:0] pa_q, pe_q, pw_q;  // a[t+1], e[t+1], W[t+16] half-added
  logic              run_p_q;                      // P slot continues with round t+1
  logic              done_p_q;                     // P slot is in round 63
  logic              ff_s_q, ff_p_q;               // slot is in round 61..63 (feed-forward)
  logic [W-1:0]      pb_q, pc_q, pd_q, pf_q, pg_q, ph_q;  // b..d, f..h of round t+1
  logic [479:0]      wp_q;                         // W[t+1..t+15]
  logic [sha2_pkg::AddPreBits-1:0] ffa_q, ffe_q;    // feed-forward sums, half-added
  logic [Slots*256-1:0]      h_q;                  // per slot: H(i-1), then H(i) / the digest
  logic [Slots-1:0]          last_q;
  logic [Slots*UserBits-1:0] user_q;

  // ---------------------------------------------------------------------------------------------
  // Stage 1: round t of the S slot, to carry-save rows.
  // ---------------------------------------------------------------------------------------------
  logic [W-1:0] st1_a_s, st1_a_c, st1_e_s, st1_e_c, st1_w_s, st1_w_c;
  logic [sha2_pkg::AddPreBits-1:0] st1_a_pre, st1_e_pre, st1_w_pre;

  always_comb begin
    logic [W-1:0] xs, xc, ys, yc;            // Sigma0 + Maj and Sigma1 + Ch as sum/carry bits
    logic [W-1:0] s1, c1, s2, c2, r0, r1, r2, k;
    logic [63:0]  fa;
    // Per column: both 2-bit sums are 6-input functions (one LUT per bit).
    xs = sha2_pkg::big_sigma0(sa_q) ^ sha2_pkg::maj(sa_q, sb_q, sc_q);
    xc = sha2_pkg::big_sigma0(sa_q) & sha2_pkg::maj(sa_q, sb_q, sc_q);
    ys = sha2_pkg::big_sigma1(se_q) ^ sha2_pkg::ch(se_q, sf_q, sg_q);
    yc = sha2_pkg::big_sigma1(se_q) & sha2_pkg::ch(se_q, sf_q, sg_q);

    // a[t+1] = X + Y + hkw: six bits per column -> 6:3 counter -> 3:2 compressor.
    s1 = xs ^ (xc << 1) ^ ys;
    c1 = sha2_pkg::maj3(xs, xc << 1, ys);
    s2 = (yc << 1) ^ hkw_s_q ^ hkw_c_q;
    c2 = sha2_pkg::maj3(yc << 1, hkw_s_q, hkw_c_q);
    r0 = s1 ^ s2;
    k  = s1 & s2;
    r1 = c1 ^ c2 ^ k;
    r2 = sha2_pkg::maj3(c1, c2, k);
    fa = sha2_pkg::csa3(r0, r1 << 1, r2 << 2);
    st1_a_s = fa[63:32];
    st1_a_c = fa[31:0];

    // e[t+1] = Y + dhkw: four bits per column -> 4:3 counter -> 3:2 compressor.
    s1 = ys ^ (yc << 1) ^ dhkw_s_q;
    c1 = sha2_pkg::maj3(ys, yc << 1, dhkw_s_q);
    r0 = s1 ^ dhkw_c_q;
    k  = s1 & dhkw_c_q;
    r1 = c1 ^ k;
    r2 = c1 & k;
    fa = sha2_pkg::csa3(r0, r1 << 1, r2 << 2);
    st1_e_s = fa[63:32];
    st1_e_c = fa[31:0];

    // W[t+16] = sigma1(W[t+14]) + W[t+9] + sigma0(W[t+1]) + W[t] (FIPS 180-4 §6.2.2 step 1).
    xs = sha2_pkg::small_sigma1(ws_q[511-W*14 -: W]) ^ ws_q[511-W*9 -: W];
    xc = sha2_pkg::small_sigma1(ws_q[511-W*14 -: W]) & ws_q[511-W*9 -: W];
    ys = sha2_pkg::small_sigma0(ws_q[511-W*1 -: W]) ^ ws_q[511 -: W];
    yc = sha2_pkg::small_sigma0(ws_q[511-W*1 -: W]) & ws_q[511 -: W];
    s1 = xs ^ (xc << 1) ^ ys;
    c1 = sha2_pkg::maj3(xs, xc << 1, ys);
    r0 = s1 ^ (yc << 1);
    k  = s1 & (yc << 1);
    r1 = c1 ^ k;
    r2 = c1 & k;
    fa = sha2_pkg::csa3(r0, r1 << 1, r2 << 2);
    st1_w_s = fa[63:32];
    st1_w_c = fa[31:0];
  end

  sha2_add32_pre u_pre_a (.x_i(st1_a_s), .y_i(st1_a_c), .pre_o(st1_a_pre));
  sha2_add32_pre u_pre_e (.x_i(st1_e_s), .y_i(st1_e_c), .pre_o(st1_e_pre));
  sha2_add32_pre u_pre_w (.x_i(st1_w_s), .y_i(st1_w_c), .pre_o(st1_w_pre));

  // Feed-forward operands of the S slot: in rounds 61, 62, 63 its a and e are the final d/h, c/g
  // and b/f; they meet H3/H7, H2/H6, H1/H5 of its chaining value (rnd_s_q[1:0] = 1, 2, 3 selects
  // word 4 - rnd_s_q[1:0]). Zero otherwise.
  logic [255:0] h_p, h_s;        // chaining registers of the P and S slots
  logic [W-1:0] ffa_y, ffe_y;
  logic [sha2_pkg::AddPreBits-1:0] st1_ffa_pre, st1_ffe_pre;

  assign h_p = phase_q ? h_q[511:256] : h_q[255:0];
  assign h_s = phase_q ? h_q[255:0] : h_q[511:256];

  always_comb begin
    ffa_y = '0;
    ffe_y = '0;
    for (int unsigned k = 1; k < 4; k++) begin
      if (rnd_s_q[1:0] == 2'(4 - k)) begin
        ffa_y = sha2_pkg::state_word(h_s, k);
        ffe_y = sha2_pkg::state_word(h_s, k + 4);
      end
    end
  end

  sha2_add32_pre u_pre_fa (.x_i(sa_q), .y_i(ffa_y), .pre_o(st1_ffa_pre));
  sha2_add32_pre u_pre_fe (.x_i(se_q), .y_i(ffe_y), .pre_o(st1_ffe_pre));

  // ---------------------------------------------------------------------------------------------
  // Stage 2: the carry-propagate adders of the P slot finish, and h + K + W of its next round.
  // ---------------------------------------------------------------------------------------------
  logic [W-1:0] a_new, e_new, w_new, ffa_sum, ffe_sum;

  sha2_add32_post u_post_a  (.pre_i(pa_q),  .s_o(a_new));
  sha2_add32_post u_post_e  (.pre_i(pe_q),  .s_o(e_new));
  sha2_add32_post u_post_w  (.pre_i(pw_q),  .s_o(w_new));
  sha2_add32_post u_post_fa (.pre_i(ffa_q), .s_o(ffa_sum));
  sha2_add32_post u_post_fe (.pre_i(ffe_q), .s_o(ffe_sum));

  // Round t+1 of the P slot: h = P.h, d = P.d, W[t+1] on top of wp_q; in round 63 the feed-
  // forward words H0 (into a) and H4 (into e) ride along.
  logic [W-1:0] nxt_hkw_s, nxt_hkw_c, nxt_dhkw_s, nxt_dhkw_c;
  always_comb begin
    logic [W-1:0] kw, h0, h4, s1, c1, c2, r0, r1, r2, k;
    logic [63:0]  fa;
    kw = sha2_pkg::k_word(rnd_p_q + 6'd1);
    h0 = inj_p_q ? sha2_pkg::state_word(h_p, 0) : '0;
    h4 = inj_p_q ? sha2_pkg::state_word(h_p, 4) : '0;
    // hkw: h + K + W + H0 (4:3 counter, 3:2 compressor).
    s1 = ph_q ^ kw ^ wp_q[479 -: W];
    c1 = sha2_pkg::maj3(ph_q, kw, wp_q[479 -: W]);
    r0 = s1 ^ h0;
    k  = s1 & h0;
    r1 = c1 ^ k;
    r2 = c1 & k;
    fa = sha2_pkg::csa3(r0, r1 << 1, r2 << 2);
    nxt_hkw_s = fa[63:32];
    nxt_hkw_c = fa[31:0];
    // dhkw: d + h + K + W + H4 (5:3 counter, 3:2 compressor).
    r0 = s1 ^ pd_q ^ h4;
    c2 = sha2_pkg::maj3(s1, pd_q, h4);
    r1 = c1 ^ c2;
    r2 = c1 & c2;
    fa = sha2_pkg::csa3(r0, r1 << 1, r2 << 2);
    nxt_dhkw_s = fa[63:32];
    nxt_dhkw_c = fa[31:0];
  end

  // Loading a block into the P slot (the slot's own input port): a..h = base, hkw/dhkw of round 0.
  logic                in_fire;
  logic                ld_ready;
  logic [511:0]        ld_block;
  logic                ld_init, ld_last;
  logic [UserBits-1:0] ld_user;
  logic [255:0]        base;
  logic [W-1:0]        ld_hkw_s, ld_hkw_c, ld_dhkw_s, ld_dhkw_c;

  assign ld_ready   = !busy_p_q && !out_valid_q[phase_q];
  assign in_ready_o = phase_q ? {ld_ready, 1'b0} : {1'b0, ld_ready};
  assign in_fire    = (phase_q ? in_valid_i[1] : in_valid_i[0]) && ld_ready && !rst_i;
  assign ld_block   = phase_q ? in_block_i[1023:512] : in_block_i[511:0];
  assign ld_init    = phase_q ? in_init_i[1] : in_init_i[0];
  assign ld_last    = phase_q ? in_last_i[1] : in_last_i[0];
  assign ld_user    = phase_q ? in_user_i[UserBits +: UserBits] : in_user_i[0 +: UserBits];

  always_comb begin
    logic [W-1:0] bh, bd, w0, k0, s1, c1, r0, r1, r2, k;
    logic [63:0]  fa;
    base = ld_init ? (phase_q ? in_state_i[511:256] : in_state_i[255:0]) : h_p;
    bh = sha2_pkg::state_word(base, 7);
    bd = sha2_pkg::state_word(base, 3);
    w0 = ld_block[511 -: W];
    k0 = sha2_pkg::k_word(6'd0);
    fa = sha2_pkg::csa3(bh, k0, w0);
    ld_hkw_s = fa[63:32];
    ld_hkw_c = fa[31:0];
    s1 = bh ^ k0 ^ w0;
    c1 = sha2_pkg::maj3(bh, k0, w0);
    r0 = s1 ^ bd;
    k  = s1 & bd;
    r1 = c1 ^ k;
    r2 = c1 & k;
    fa = sha2_pkg::csa3(r0, r1 << 1, r2 << 2);
    ld_dhkw_s = fa[63:32];
    ld_dhkw_c = fa[31:0];
  end

  // ---------------------------------------------------------------------------------------------
  // Control: the per-slot round state travels with the slot (S -> P -> S). Everything stage 2
  // selects on is decoded one cycle ahead into a register.
  // ---------------------------------------------------------------------------------------------
  logic p_run, p_done;

  assign p_run  = run_p_q && !rst_i;
  assign p_done = done_p_q && !rst_i;

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      phase_q  <= 1'b0;
      busy_s_q <= 1'b0;
      busy_p_q <= 1'b0;
      rnd_s_q  <= 6'd0;
      rnd_p_q  <= 6'd0;
      inj_p_q  <= 1'b0;
      run_p_q  <= 1'b0;
      done_p_q <= 1'b0;
      ff_s_q   <= 1'b0;
      ff_p_q   <= 1'b0;
    end else begin
      phase_q  <= !phase_q;
      busy_p_q <= busy_s_q;
      rnd_p_q  <= rnd_s_q;
      inj_p_q  <= busy_s_q && rnd_s_q == 6'd62;
      run_p_q  <= busy_s_q && rnd_s_q != 6'd63;
      done_p_q <= busy_s_q && rnd_s_q == 6'd63;
      ff_p_q   <= ff_s_q;
      busy_s_q <= in_fire || p_run;
      rnd_s_q  <= in_fire ? 6'd0 : rnd_p_q + 6'd1;
      ff_s_q   <= !in_fire && p_run && rnd_p_q >= 6'd60;
    end
  end

  // S registers <- stage 2 of the P slot (or a new block, or zero when idle).
  always_ff @(posedge clk_i) begin
    if (in_fire) begin
      sa_q     <= sha2_pkg::state_word(base, 0);
      sb_q     <= sha2_pkg::state_word(base, 1);
      sc_q     <= sha2_pkg::state_word(base, 2);
      se_q     <= sha2_pkg::state_word(base, 4);
      sf_q     <= sha2_pkg::state_word(base, 5);
      sg_q     <= sha2_pkg::state_word(base, 6);
      hkw_s_q  <= ld_hkw_s;
      hkw_c_q  <= ld_hkw_c;
      dhkw_s_q <= ld_dhkw_s;
      dhkw_c_q <= ld_dhkw_c;
      ws_q     <= ld_block;
    end else if (p_run) begin
      sa_q     <= a_new;
      sb_q     <= pb_q;
      sc_q     <= pc_q;
      se_q     <= e_new;
      sf_q     <= pf_q;
      sg_q     <= pg_q;
      hkw_s_q  <= nxt_hkw_s;
      hkw_c_q  <= nxt_hkw_c;
      dhkw_s_q <= nxt_dhkw_s;
      dhkw_c_q <= nxt_dhkw_c;
      ws_q     <= {wp_q, w_new};
    end else begin
      sa_q     <= '0;
      sb_q     <= '0;
      sc_q     <= '0;
      se_q     <= '0;
      sf_q     <= '0;
      sg_q     <= '0;
      hkw_s_q  <= '0;
      hkw_c_q  <= '0;
      dhkw_s_q <= '0;
      dhkw_c_q <= '0;
      ws_q     <= {wp_q, w_new};  // message-derived only; not worth a wipe
    end
  end

  // P registers <- stage 1 of the S slot. An idle S slot holds zeros, which stage 1 maps to
  // zero rows (Sigma, Maj, Ch of 0 are 0) and the half-added form of 0 + 0, so the P side of an
  // idle slot holds nothing of the last block without a select; rst_i clears it explicitly.
  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      pa_q <= PreZero;
      pe_q <= PreZero;
      pb_q <= '0;
      pc_q <= '0;
      pd_q <= '0;
      pf_q <= '0;
      pg_q <= '0;
      ph_q <= '0;
    end else begin
      pa_q <= st1_a_pre;
      pe_q <= st1_e_pre;
      pb_q <= sa_q;
      pc_q <= sb_q;
      pd_q <= sc_q;
      pf_q <= se_q;
      pg_q <= sf_q;
      ph_q <= sg_q;
    end
    wp_q <= ws_q[479:0];
    pw_q <= st1_w_pre;
  end

  // Feed-forward operands, half-added; zero outside rounds 61..63 (they hold H(i-1) words).
  always_ff @(posedge clk_i) begin
    if (ff_s_q && !rst_i) begin
      ffa_q <= st1_ffa_pre;
      ffe_q <= st1_ffe_pre;
    end else begin
      ffa_q <= '0;
      ffe_q <= '0;
    end
  end

  // Per-slot chaining value, sideband and digest valid.
  always_ff @(posedge clk_i) begin
    for (int unsigned s = 0; s < Slots; s++) begin
      if (rst_i) begin
        h_q[s*256 +: 256] <= '0;
        out_valid_q[s]    <= 1'b0;
      end else begin
        if (out_valid_q[s] && out_ready_i[s]) begin
          out_valid_q[s] <= 1'b0;
        end
        if (32'(phase_q) == s) begin
          if (in_fire) begin
            last_q[s]                      <= ld_last;
            user_q[s*UserBits +: UserBits] <= ld_user;
            if (ld_init) begin
              h_q[s*256 +: 256] <= in_state_i[s*256 +: 256];
            end
          end
          // Rounds 61, 62, 63 write H3/H7, H2/H6, H1/H5 from the feed-forward adders ...
          for (int unsigned k = 1; k < 4; k++) begin
            if (ff_p_q && rnd_p_q[1:0] == 2'(4 - k)) begin
              h_q[s*256 + 256 - W*(k+1) +: W] <= ffa_sum;
              h_q[s*256 + 256 - W*(k+5) +: W] <= ffe_sum;
            end
          end
          // ... and round 63 H0/H4 from the round adders (H0/H4 were added into round 63).
          if (p_done) begin
            h_q[s*256 + 224 +: W] <= a_new;
            h_q[s*256 + 96 +: W]  <= e_new;
            out_valid_q[s]        <= last_q[s];
          end
        end
      end
    end
  end

  assign out_digest_o = h_q;
  assign out_user_o   = user_q;
  assign out_valid_o  = out_valid_q;

  // ---------------------------------------------------------------------------------------------
  // Assertions
  // ---------------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  for (genvar s = 0; s < Slots; s++) begin : gen_assert
    // A digest stays put until taken.
    a_out_stable: assert property (@(posedge clk_i) disable iff (rst_i)
        out_valid_o[s] && !out_ready_i[s] |=> out_valid_o[s] &&
        $stable(out_digest_o[s*256 +: 256]) && $stable(out_user_o[s*UserBits +: UserBits]));
  end
  // Key hygiene: an idle slot holds no working variables, rows or feed-forward operands.
  a_idle_wiped_s: assert property (@(posedge clk_i) disable iff (rst_i)
      !busy_s_q |-> {sa_q, sb_q, sc_q, se_q, sf_q, sg_q, hkw_s_q, hkw_c_q, dhkw_s_q,
                     dhkw_c_q} == '0);
  a_idle_wiped_p: assert property (@(posedge clk_i) disable iff (rst_i)
      !busy_p_q |-> pa_q == PreZero && pe_q == PreZero &&
                    {pb_q, pc_q, pd_q, pf_q, pg_q, ph_q} == '0);
  a_ff_wiped: assert property (@(posedge clk_i) disable iff (rst_i)
      !ff_p_q |-> {ffa_q, ffe_q} == '0);
  // The decoded controls agree with the round state they were decoded from.
  a_ctl_decode: assert property (@(posedge clk_i) disable iff (rst_i)
      run_p_q == (busy_p_q && rnd_p_q != 6'd63) && done_p_q == (busy_p_q && rnd_p_q == 6'd63) &&
      ff_p_q == (busy_p_q && rnd_p_q >= 6'd61) && inj_p_q == (busy_p_q && rnd_p_q == 6'd62));
  // The ring keeps its rhythm: P follows S, rounds advance by one per slot turn.
  a_round_step: assert property (@(posedge clk_i) disable iff (rst_i)
      busy_s_q |=> busy_p_q && rnd_p_q == $past(rnd_s_q));
`endif

endmodule
