// SPDX-License-Identifier: Apache-2.0
//
// Inbound ESP anti-replay window for NumSa SAs: CHECK before decryption, UPDATE after the ICV
// verified (RFC 4303 §3.4.3), ESN inference (RFC 4303 Appendix A2), RFC 6479 bucket bitmap.
//
// Reference: the software window host/sa/replay_window.{h,cc} (sa::ReplayWindow). Every verdict
// and inferred sequence number equals what that model returns for the same sequence of
// operations (the bench checks this), i.e. the pipeline is sequentially consistent: each
// operation sees the effect of every operation accepted before it, whatever the SA.
//
// State per SA (doc/theory_of_operation.md §2):
//   state RAM, one word per SA: top (highest authenticated number), left (lowest number not too
//     old), farb (first bucket number that is too far ahead to keep any ring bucket), the top
//     bucket tb (64 bits, held here, not in the ring), one valid bit per ring slot, window, ESN.
//   ring RAM, NB = WindowBits/64 words per SA: ring slot s holds bucket B (bits of B*64..B*64+63)
//     for the one B in [T-NB, T-1] with B mod NB = s (T = top bucket), if its valid bit is set.
//   The window spans at most NB+1 buckets: the top bucket in the state word plus NB in the ring,
//   so WindowBits bits of window cost exactly WindowBits bits of ring. Sliding the window writes
//   the old top bucket into its ring slot and clears valid bits: one word per RAM per operation.
//
// Pipeline (one operation per cycle, any SA mix; latency 8 cycles to the output FIFO):
//   S0 input register, RAM read address   S1 RAM data (latch)   S2 "P": RAM output register +
//   forwarding from W/H1/H2 + comparisons  S3 "E": read-modify-write of the state, forwarding
//   from the immediately previous operation  S4 "W": RAM write; CHECK: ESN inference part 1
//   S5 inference part 2  S6 CHECK comparisons  S7 verdict, into the output FIFO.
// Hazards: an operation's RAM read misses the writes of the four operations ahead of it. Three
// of them are taken from the W stage and two history registers in S2; the fourth (the previous
// operation, in S3 while this one is in S2) is resolved in S3 with comparisons precomputed in S2
// for both outcomes (it moved the top to its own number, or it did not). INIT is the exception:
// it blocks the input until it has been written (5 cycles), so the window size never changes
// while operations of that SA are in flight.
`default_nettype none

module esp_replay #(
  parameter int unsigned NumSa        = 4096,  // SAs (state RAM depth); >= 2
  parameter int unsigned WindowBits   = 1024,  // largest window per SA; power of two >= 128
  parameter int unsigned TagW         = 16,    // request tag width, returned with the result
  parameter int unsigned OutFifoDepth = 16,    // result FIFO entries; power of two, >= 16 for 1/cycle
  localparam int unsigned SaW   = $clog2(NumSa),
  localparam int unsigned WinW  = $clog2(WindowBits) + 1  // window size 0..WindowBits
) (
  input  logic             clk_i,
  input  logic             rst_i,           // synchronous, active high

  // Requests
  input  logic             in_valid_i,
  output logic             in_ready_o,      // from registers only
  input  logic [1:0]       in_op_i,         // esp_replay_pkg::op_e
  input  logic [SaW-1:0]   in_sa_i,
  input  logic [63:0]      in_seq_i,        // CHECK: [31:0] from the packet; UPDATE: inferred
                                            // 64-bit number; INIT: the new top (0 for a new SA)
  input  logic [WinW-1:0]  in_window_i,     // INIT only: window size 0..WindowBits, 0 = no check
  input  logic             in_esn_i,        // INIT only: extended sequence numbers
  input  logic [TagW-1:0]  in_tag_i,

  // Results, in request order
  output logic             out_valid_o,
  input  logic             out_ready_i,
  output logic [1:0]       out_op_o,        // the request's op
  output logic [1:0]       out_verdict_o,   // esp_replay_pkg::verdict_e (VerdictOk for INIT/READ)
  output logic [63:0]      out_seq_o,       // CHECK: inferred number; UPDATE/INIT: in_seq_i;
                                            // READ: the SA's top
  output logic [TagW-1:0]  out_tag_o
);

  localparam int unsigned NB     = WindowBits / 64;  // ring slots (buckets) per SA
  localparam int unsigned SlotW  = $clog2(NB);
  localparam int unsigned FarbW  = 59;               // bucket number + NB + 1 without overflow
  localparam int unsigned NBPlus1 = NB + 1;
  // State word layout
  localparam int unsigned OTop   = 0;
  localparam int unsigned OLeft  = OTop + 64;
  localparam int unsigned OFarb  = OLeft + 64;
  localparam int unsigned OTb    = OFarb + FarbW;
  localparam int unsigned OValid = OTb + 64;
  localparam int unsigned OW     = OValid + NB;
  localparam int unsigned OEsn   = OW + WinW;
  localparam int unsigned StW    = OEsn + 1;
  localparam int unsigned FifoW  = 2 + 2 + 64 + TagW;
  localparam int unsigned CreditW = $clog2(OutFifoDepth) + 1;
  localparam int unsigned InitWaitCycles = 4;        // input blocked after an INIT is accepted

  if (NumSa < 2) begin : gen_bad_numsa
    $error("esp_replay: NumSa must be at least 2 (%m)");
  end
  if (WindowBits < 128 || (WindowBits & (WindowBits - 1)) != 0) begin : gen_bad_window
    $error("esp_replay: WindowBits must be a power of two >= 128 (%m)");
  end
  if (OutFifoDepth < 2 || (OutFifoDepth & (OutFifoDepth - 1)) != 0) begin : gen_bad_fifo
    $error("esp_replay: OutFifoDepth must be a power of two >= 2 (%m)");
  end

  // -----------------------------------------------------------------------------------------------
  // RAMs (inferred; no reset: an SA must be INITed before use)
  // -----------------------------------------------------------------------------------------------
  logic [StW-1:0] st_mem [NumSa];
  logic [63:0]    rg_mem [NumSa * NB];

  // -----------------------------------------------------------------------------------------------
  // Pipeline registers
  // -----------------------------------------------------------------------------------------------
  // S0
  logic             s0_v_q;
  logic [1:0]       s0_op_q;
  logic [SaW-1:0]   s0_sa_q;
  logic [63:0]      s0_seq_q;
  logic [WinW-1:0]  s0_win_q;
  logic             s0_esn_q;
  logic [TagW-1:0]  s0_tag_q;
  // S1
  logic             s1_v_q;
  logic [1:0]       s1_op_q;
  logic [SaW-1:0]   s1_sa_q;
  logic [63:0]      s1_seq_q;
  logic [WinW-1:0]  s1_win_q;
  logic             s1_esn_q;
  logic [TagW-1:0]  s1_tag_q;
  logic [FarbW-1:0] s1_farbadv_q;
  logic [StW-1:0]   st_rd_q;
  logic [63:0]      rg_rd_q;
  // S2 (P)
  logic             s2_v_q;
  logic [1:0]       s2_op_q;
  logic [SaW-1:0]   s2_sa_q;
  logic [63:0]      s2_seq_q;
  logic [WinW-1:0]  s2_win_q;
  logic             s2_esn_q;
  logic [TagW-1:0]  s2_tag_q;
  logic [FarbW-1:0] s2_farbadv_q;
  logic             s2_mw_q, s2_mh1_q, s2_mh2_q;  // SA written by the op now in W / H1 / H2
  logic             s2_sp_q;                      // previous op: an UPDATE of this SA
  logic [StW-1:0]   st_rd2_q;
  logic [63:0]      rg_rd2_q;
  // S3 (E)
  logic             s3_v_q;
  logic [1:0]       s3_op_q;
  logic [SaW-1:0]   s3_sa_q;
  logic [63:0]      s3_seq_q;
  logic [WinW-1:0]  s3_win_q;
  logic             s3_esn_q;
  logic [TagW-1:0]  s3_tag_q;
  logic [FarbW-1:0] s3_farbadv_q;
  logic [63:0]      s3_leftadv_q;                 // left if this op becomes the top
  logic             s3_sp_q;
  logic [StW-1:0]   s3_pst_q;                     // state as of the op before the previous one
  logic [63:0]      s3_pring_q;                   // ring word of this op's slot, same age
  logic             s3_gt_a_q, s3_old_a_q, s3_sb_a_q, s3_far_a_q;   // vs s3_pst_q's top
  logic             s3_gt_b_q, s3_old_b_q, s3_sb_b_q, s3_far_b_q;   // vs the previous op's number
  logic [NB-1:0]    s3_inv_a_q, s3_inv_b_q;       // ring slots skipped by an advance
  logic [SlotW-1:0] s3_spill_a_q, s3_spill_b_q;   // ring slot of the current top bucket
  logic             s3_eq_prev_q, s3_zero_q, s3_wnz_q, s3_tbit_q, s3_rbit_q;
  logic [63:0]      s3_onehot_q;
  // S4 (W): the new state of an UPDATE/INIT, or the snapshot a CHECK/READ saw
  logic             s4_v_q;
  logic [1:0]       s4_op_q;
  logic [SaW-1:0]   s4_sa_q;
  logic [63:0]      s4_seq_q;
  logic [TagW-1:0]  s4_tag_q;
  logic [1:0]       s4_verdict_q;
  logic             s4_adv_q;                     // UPDATE that moved the top
  logic [StW-1:0]   s4_st_q;
  logic             s4_rwe_q;
  logic [SlotW-1:0] s4_rslot_q;
  logic [63:0]      s4_rdata_q;                   // ring write data, or a CHECK's ring word
  // History of the last two writes (they are not yet in what S2 reads from the RAMs)
  logic             h1_v_q;                       // (H2's SA match is made from H1 in S1)
  logic [SaW-1:0]   h1_sa_q;
  logic [StW-1:0]   h1_st_q, h2_st_q;
  logic             h1_rwe_q, h2_rwe_q;
  logic [SlotW-1:0] h1_rslot_q, h2_rslot_q;
  logic [63:0]      h1_rdata_q, h2_rdata_q;
  // S5..S7 (CHECK arithmetic; the other ops ride along)
  logic             s5_v_q, s6_v_q, s7_v_q;
  logic [1:0]       s5_op_q, s6_op_q, s7_op_q;
  logic [TagW-1:0]  s5_tag_q, s6_tag_q, s7_tag_q;
  logic [1:0]       s5_verdict_q, s6_verdict_q, s7_verdict_q;
  logic [63:0]      s5_seq_q, s6_seq_q, s7_seq_q;
  logic [63:0]      s5_top_q, s6_top_q;
  logic [63:0]      s5_left_q, s6_left_q;
  logic             s5_wnz_q, s6_wnz_q, s7_wnz_q;
  logic             s5_esn_q;
  logic             s5_tbit_q, s6_tbit_q, s7_tbit_q;
  logic             s5_rbit_q, s6_rbit_q, s7_rbit_q;
  logic [31:0]      s5_tlw_q, s5_thp1_q, s5_thm1_q;
  logic             s5_casea_q, s5_thmax_q, s5_thnz_q;
  logic             s7_gt_q, s7_old_q, s7_sb_q, s7_zero_q;

  // Control
  logic [CreditW-1:0] credit_d, credit_q;
  logic [2:0]         init_wait_d, init_wait_q;
  logic               accept;
  logic               fifo_push, fifo_pop, fifo_in_ready;
  logic [FifoW-1:0]   fifo_in, fifo_out;

  // -----------------------------------------------------------------------------------------------
  // Input, credits, INIT blocking
  // -----------------------------------------------------------------------------------------------
  assign in_ready_o = (credit_q != '0) && (init_wait_q == '0);
  assign accept     = in_valid_i && in_ready_o;

  always_comb begin
    credit_d    = credit_q - CreditW'(accept) + CreditW'(fifo_pop);
    init_wait_d = init_wait_q;
    if (accept && in_op_i == esp_replay_pkg::OpInit) begin
      init_wait_d = 3'(InitWaitCycles);
    end else if (init_wait_q != '0) begin
      init_wait_d = init_wait_q - 3'd1;
    end
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      credit_q    <= CreditW'(OutFifoDepth);
      init_wait_q <= '0;
    end else begin
      credit_q    <= credit_d;
      init_wait_q <= init_wait_d;
    end
  end

  // -----------------------------------------------------------------------------------------------
  // S0 -> S1: RAM read, state-independent precomputation
  // -----------------------------------------------------------------------------------------------
  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      s0_v_q <= 1'b0;
      s1_v_q <= 1'b0;
    end else begin
      s0_v_q <= accept;
      s1_v_q <= s0_v_q;
    end
  end

  always_ff @(posedge clk_i) begin
    s0_op_q  <= in_op_i;
    s0_sa_q  <= in_sa_i;
    s0_seq_q <= in_seq_i;
    s0_win_q <= in_window_i;
    s0_esn_q <= in_esn_i;
    s0_tag_q <= in_tag_i;

    s1_op_q  <= s0_op_q;
    s1_sa_q  <= s0_sa_q;
    s1_seq_q <= s0_seq_q;
    s1_win_q <= s0_win_q;
    s1_esn_q <= s0_esn_q;
    s1_tag_q <= s0_tag_q;
    // Bucket number from which an advance to this op's number keeps no ring bucket.
    s1_farbadv_q <= {1'b0, s0_seq_q[63:6]} + FarbW'(NBPlus1);
  end

  // Read ports: read-first with respect to the S4 write in the same cycle (two always_ff blocks).
  always_ff @(posedge clk_i) begin
    st_rd_q  <= st_mem[s0_sa_q];
    rg_rd_q  <= rg_mem[{s0_sa_q, s0_seq_q[6 +: SlotW]}];
    st_rd2_q <= st_rd_q;   // RAM output register
    rg_rd2_q <= rg_rd_q;
  end

  // S1: which later stages will hold a write of this SA when this op is in S2 (precomputed here
  // so S2 only muxes). W in S2's cycle = S3 now, H1 = S4 now, H2 = H1 now; the previous op is the
  // one in S2 now.
  logic s1_mw, s1_mh1, s1_mh2, s1_sp;
  always_comb begin
    s1_mw  = s3_v_q && (s3_op_q == esp_replay_pkg::OpUpdate || s3_op_q == esp_replay_pkg::OpInit) &&
             s3_sa_q == s1_sa_q;
    s1_mh1 = s4_v_q && (s4_op_q == esp_replay_pkg::OpUpdate || s4_op_q == esp_replay_pkg::OpInit) &&
             s4_sa_q == s1_sa_q;
    s1_mh2 = h1_v_q && h1_sa_q == s1_sa_q;
    s1_sp  = s2_v_q && s2_op_q == esp_replay_pkg::OpUpdate && s2_sa_q == s1_sa_q;
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      s2_v_q <= 1'b0;
    end else begin
      s2_v_q <= s1_v_q;
    end
  end

  always_ff @(posedge clk_i) begin
    s2_op_q      <= s1_op_q;
    s2_sa_q      <= s1_sa_q;
    s2_seq_q     <= s1_seq_q;
    s2_win_q     <= s1_win_q;
    s2_esn_q     <= s1_esn_q;
    s2_tag_q     <= s1_tag_q;
    s2_farbadv_q <= s1_farbadv_q;
    s2_mw_q      <= s1_mw;
    s2_mh1_q     <= s1_mh1;
    s2_mh2_q     <= s1_mh2;
    s2_sp_q      <= s1_sp;
  end

  // -----------------------------------------------------------------------------------------------
  // S2 (P): forwarding and the comparisons for both outcomes of the previous op
  // -----------------------------------------------------------------------------------------------
  logic [StW-1:0]   p_st;
  logic [63:0]      p_ring;
  logic [SlotW-1:0] p_slot;
  logic [63:0]      p_top, p_left;
  logic [FarbW-1:0] p_farb;
  logic [63:0]      p_tb;
  logic [NB-1:0]    p_valid;
  logic [WinW-1:0]  p_w, p_wself;
  logic [63:0]      p_leftadv;
  logic [NB-1:0]    p_inv_a, p_inv_b;

  // Ring slots strictly between the old top bucket's slot t and the new one n (cyclic), i.e. the
  // buckets an advance passes over; n == t means an advance by exactly NB buckets (all but t).
  function automatic logic [NB-1:0] skipped_slots(input logic [SlotW-1:0] t,
                                                  input logic [SlotW-1:0] n);
    logic [SlotW-1:0] off, lim;
    logic [NB-1:0]    m;
    lim = n - t;
    for (int unsigned i = 0; i < NB; i++) begin
      off  = SlotW'(i) - t;
      m[i] = (off != '0) && (lim == '0 || off < lim);
    end
    skipped_slots = m;
  endfunction

  always_comb begin
    p_slot = s2_seq_q[6 +: SlotW];
    // Youngest write of this SA first; the RAM holds everything older.
    if (s2_mw_q) begin
      p_st = s4_st_q;
    end else if (s2_mh1_q) begin
      p_st = h1_st_q;
    end else if (s2_mh2_q) begin
      p_st = h2_st_q;
    end else begin
      p_st = st_rd2_q;
    end
    // The ring word: youngest write of this SA *and slot*.
    if (s2_mw_q && s4_rwe_q && s4_rslot_q == p_slot) begin
      p_ring = s4_rdata_q;
    end else if (s2_mh1_q && h1_rwe_q && h1_rslot_q == p_slot) begin
      p_ring = h1_rdata_q;
    end else if (s2_mh2_q && h2_rwe_q && h2_rslot_q == p_slot) begin
      p_ring = h2_rdata_q;
    end else begin
      p_ring = rg_rd2_q;
    end
    p_top   = p_st[OTop +: 64];
    p_left  = p_st[OLeft +: 64];
    p_farb  = p_st[OFarb +: FarbW];
    p_tb    = p_st[OTb +: 64];
    p_valid = p_st[OValid +: NB];
    // The window size only changes by INIT, which drains the pipeline: the RAM word is current.
    p_w     = st_rd2_q[OW +: WinW];
    p_wself = (s2_op_q == esp_replay_pkg::OpInit) ? s2_win_q : p_w;
    // RFC 4303 §3.4.3: too old when top - seq >= window, i.e. seq < top - window + 1.
    if (p_wself == '0 || s2_seq_q < 64'(p_wself)) begin
      p_leftadv = '0;
    end else begin
      p_leftadv = s2_seq_q - 64'(p_wself) + 64'd1;
    end
    p_inv_a = skipped_slots(p_top[6 +: SlotW], p_slot);
    p_inv_b = skipped_slots(s3_seq_q[6 +: SlotW], p_slot);
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      s3_v_q <= 1'b0;
    end else begin
      s3_v_q <= s2_v_q;
    end
  end

  always_ff @(posedge clk_i) begin
    s3_op_q      <= s2_op_q;
    s3_sa_q      <= s2_sa_q;
    s3_seq_q     <= s2_seq_q;
    s3_win_q     <= s2_win_q;
    s3_esn_q     <= s2_esn_q;
    s3_tag_q     <= s2_tag_q;
    s3_farbadv_q <= s2_farbadv_q;
    s3_leftadv_q <= p_leftadv;
    s3_sp_q      <= s2_sp_q;
    s3_pst_q     <= p_st;
    s3_pring_q   <= p_ring;
    // (a) the previous op did not move this SA's top: compare with the forwarded state.
    s3_gt_a_q    <= s2_seq_q > p_top;
    s3_old_a_q   <= s2_seq_q < p_left;
    s3_sb_a_q    <= s2_seq_q[63:6] == p_top[63:6];
    s3_far_a_q   <= {1'b0, s2_seq_q[63:6]} >= p_farb;
    s3_inv_a_q   <= p_inv_a;
    s3_spill_a_q <= p_top[6 +: SlotW];
    // (b) the previous op (now in S3) is an UPDATE of this SA that moves the top to its number.
    s3_gt_b_q    <= s2_seq_q > s3_seq_q;
    s3_old_b_q   <= s2_seq_q < s3_leftadv_q;
    s3_sb_b_q    <= s2_seq_q[63:6] == s3_seq_q[63:6];
    s3_far_b_q   <= {1'b0, s2_seq_q[63:6]} >= s3_farbadv_q;
    s3_inv_b_q   <= p_inv_b;
    s3_spill_b_q <= s3_seq_q[6 +: SlotW];
    s3_eq_prev_q <= s2_seq_q == s3_seq_q;
    s3_zero_q    <= s2_seq_q == '0;
    s3_wnz_q     <= p_w != '0;
    // Seen in the state without the previous op (the previous op's own number is added in S3).
    s3_tbit_q    <= p_tb[s2_seq_q[5:0]];
    s3_rbit_q    <= p_valid[p_slot] && p_ring[s2_seq_q[5:0]];
    s3_onehot_q  <= 64'd1 << s2_seq_q[5:0];
  end

  // -----------------------------------------------------------------------------------------------
  // S3 (E): the read-modify-write
  // -----------------------------------------------------------------------------------------------
  logic [StW-1:0]   e_st_in, e_st;
  logic [63:0]      e_ring_in;
  logic [SlotW-1:0] e_slot;
  logic             e_sel_b, e_gt, e_old, e_sb, e_far, e_seen, e_newb, e_rset;
  logic [NB-1:0]    e_inv, e_valid_in, e_valid;
  logic [SlotW-1:0] e_spill;
  logic [63:0]      e_tb_in, e_tb;
  logic [1:0]       e_verdict;
  logic             e_upd, e_init, e_adv, e_rwe;
  logic [SlotW-1:0] e_rslot;
  logic [63:0]      e_rdata;

  always_comb begin
    e_slot     = s3_seq_q[6 +: SlotW];
    e_upd      = s3_op_q == esp_replay_pkg::OpUpdate;
    e_init     = s3_op_q == esp_replay_pkg::OpInit;
    // The state as of the previous op: its result (in S4) if it updated this SA.
    e_st_in    = s3_sp_q ? s4_st_q : s3_pst_q;
    e_ring_in  = (s3_sp_q && s4_rwe_q && s4_rslot_q == e_slot) ? s4_rdata_q : s3_pring_q;
    e_tb_in    = e_st_in[OTb +: 64];
    e_valid_in = e_st_in[OValid +: NB];
    // Pick the comparisons made against the right top.
    e_sel_b    = s3_sp_q && s4_adv_q;
    e_gt       = e_sel_b ? s3_gt_b_q : s3_gt_a_q;
    e_old      = e_sel_b ? s3_old_b_q : s3_old_a_q;
    e_sb       = e_sel_b ? s3_sb_b_q : s3_sb_a_q;
    e_far      = e_sel_b ? s3_far_b_q : s3_far_a_q;
    e_inv      = e_sel_b ? s3_inv_b_q : s3_inv_a_q;
    e_spill    = e_sel_b ? s3_spill_b_q : s3_spill_a_q;
    // Seen = seen before the previous op (numbers left of the window are caught by e_old, and
    // the window only moves right), or it is the previous op's number (if that op was refused,
    // this one gets the same or a stronger verdict anyway).
    e_seen     = s3_wnz_q && ((!s3_gt_a_q && (s3_sb_a_q ? s3_tbit_q : s3_rbit_q)) ||
                              (s3_sp_q && s3_eq_prev_q));
    if (s3_zero_q) begin
      e_verdict = esp_replay_pkg::VerdictZero;
    end else if (e_gt) begin
      e_verdict = esp_replay_pkg::VerdictOk;
    end else if (e_old) begin
      e_verdict = esp_replay_pkg::VerdictTooOld;
    end else if (e_seen) begin
      e_verdict = esp_replay_pkg::VerdictReplay;
    end else begin
      e_verdict = esp_replay_pkg::VerdictOk;
    end

    // New state of an UPDATE. A number above the top is always accepted, so "advance" needs no
    // verdict. Setting a bit that is already set (replay) or left of the window (too old, but
    // inside the top bucket) is harmless: such bits are never consulted, so those writes need no
    // gating either. Only the ring write of an old-bucket number is gated: a too-old number's
    // slot may hold a newer bucket.
    e_newb  = e_gt && !e_sb;                       // advance into a new top bucket
    e_rset  = !e_gt && !e_sb && !e_old && !s3_zero_q;
    e_adv   = e_upd && e_gt;
    e_st    = e_st_in;
    e_tb    = e_newb ? s3_onehot_q : (e_tb_in | (e_sb ? s3_onehot_q : 64'd0));
    e_valid = e_valid_in;
    e_rwe   = 1'b0;
    e_rslot = e_slot;
    e_rdata = e_ring_in;                           // a CHECK's snapshot of its ring word
    if (e_upd && e_newb) begin
      // Spill the old top bucket into its ring slot, forget the buckets passed over.
      e_valid = e_far ? '0 : ((e_valid_in & ~e_inv) | (NB'(1) << e_spill));
      e_rwe   = !e_far;
      e_rslot = e_spill;
      e_rdata = e_tb_in;
    end else if (e_upd && e_rset) begin
      e_valid = e_valid_in | (NB'(1) << e_slot);
      e_rwe   = 1'b1;
      e_rdata = (e_valid_in[e_slot] ? e_ring_in : 64'd0) | s3_onehot_q;
    end
    if (e_init) begin
      e_st[OTop +: 64]      = s3_seq_q;
      e_st[OLeft +: 64]     = s3_leftadv_q;
      e_st[OFarb +: FarbW]  = s3_farbadv_q;
      e_st[OTb +: 64]       = '0;
      e_st[OValid +: NB]    = '0;
      e_st[OW +: WinW]      = s3_win_q;
      e_st[OEsn]            = s3_esn_q;
      e_rwe                 = 1'b0;
      e_verdict             = esp_replay_pkg::VerdictOk;
    end else if (e_upd) begin
      if (e_adv) begin
        e_st[OTop +: 64]     = s3_seq_q;
        e_st[OLeft +: 64]    = s3_leftadv_q;
        e_st[OFarb +: FarbW] = s3_farbadv_q;
      end
      e_st[OTb +: 64]    = e_tb;
      e_st[OValid +: NB] = e_valid;
    end else begin
      e_rwe     = 1'b0;                            // CHECK/READ: snapshot only
      e_verdict = esp_replay_pkg::VerdictOk;       // CHECK's verdict is made in S5..S7
    end
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      s4_v_q <= 1'b0;
      h1_v_q <= 1'b0;
    end else begin
      s4_v_q <= s3_v_q;
      h1_v_q <= s4_v_q && (s4_op_q == esp_replay_pkg::OpUpdate || s4_op_q == esp_replay_pkg::OpInit);
    end
  end

  always_ff @(posedge clk_i) begin
    s4_op_q      <= s3_op_q;
    s4_sa_q      <= s3_sa_q;
    s4_seq_q     <= s3_seq_q;
    s4_tag_q     <= s3_tag_q;
    s4_verdict_q <= e_verdict;
    s4_adv_q     <= s3_v_q && e_adv;
    s4_st_q      <= e_st;
    s4_rwe_q     <= s3_v_q && e_rwe;
    s4_rslot_q   <= e_rslot;
    s4_rdata_q   <= e_rdata;
    h1_sa_q      <= s4_sa_q;
    h1_st_q      <= s4_st_q;
    h1_rwe_q     <= s4_rwe_q;
    h1_rslot_q   <= s4_rslot_q;
    h1_rdata_q   <= s4_rdata_q;
    h2_st_q      <= h1_st_q;
    h2_rwe_q     <= h1_rwe_q;
    h2_rslot_q   <= h1_rslot_q;
    h2_rdata_q   <= h1_rdata_q;
  end

  // S4 (W): RAM writes.
  always_ff @(posedge clk_i) begin
    if (s4_v_q && (s4_op_q == esp_replay_pkg::OpUpdate || s4_op_q == esp_replay_pkg::OpInit)) begin
      st_mem[s4_sa_q] <= s4_st_q;
    end
  end
  always_ff @(posedge clk_i) begin
    if (s4_rwe_q) begin
      rg_mem[{s4_sa_q, s4_rslot_q}] <= s4_rdata_q;
    end
  end

  // -----------------------------------------------------------------------------------------------
  // S4..S7: CHECK — ESN inference (RFC 4303 A2.1, as sa::ReplayWindow::InferSeqAt) and the test
  // -----------------------------------------------------------------------------------------------
  logic [63:0]      w_top;
  logic [WinW-1:0]  w_w;
  logic [31:0]      w_wi;
  logic [SlotW-1:0] w_slot;

  always_comb begin
    w_top  = s4_st_q[OTop +: 64];
    w_w    = s4_st_q[OW +: WinW];
    // With no window, choose the subspace that puts the number closest to the top (2^31).
    w_wi   = (w_w != '0) ? 32'(w_w) : 32'h8000_0000;
    w_slot = s4_seq_q[6 +: SlotW];
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      s5_v_q <= 1'b0;
      s6_v_q <= 1'b0;
      s7_v_q <= 1'b0;
    end else begin
      s5_v_q <= s4_v_q;
      s6_v_q <= s5_v_q;
      s7_v_q <= s6_v_q;
    end
  end

  // S4 -> S5
  always_ff @(posedge clk_i) begin
    s5_op_q      <= s4_op_q;
    s5_tag_q     <= s4_tag_q;
    s5_verdict_q <= s4_verdict_q;
    s5_seq_q     <= s4_seq_q;
    s5_top_q     <= w_top;
    s5_left_q    <= s4_st_q[OLeft +: 64];
    s5_wnz_q     <= w_w != '0;
    s5_esn_q     <= s4_st_q[OEsn];
    s5_tbit_q    <= s4_st_q[OTb + 32'(s4_seq_q[5:0])];
    s5_rbit_q    <= s4_st_q[OValid + 32'(w_slot)] && s4_rdata_q[s4_seq_q[5:0]];
    s5_tlw_q     <= w_top[31:0] - w_wi + 32'd1;    // left edge low half, mod 2^32
    s5_casea_q   <= w_top[31:0] >= w_wi - 32'd1;   // window within one 2^32 subspace
    s5_thp1_q    <= w_top[63:32] + 32'd1;
    s5_thm1_q    <= w_top[63:32] - 32'd1;
    s5_thmax_q   <= w_top[63:32] == 32'hffff_ffff;
    s5_thnz_q    <= w_top[63:32] != 32'd0;
  end

  // S5 -> S6: the high half
  logic [31:0] i_hi;
  logic        i_ge;
  always_comb begin
    i_ge = s5_seq_q[31:0] >= s5_tlw_q;
    if (!s5_esn_q) begin
      i_hi = 32'd0;
    end else if (s5_casea_q) begin
      // Case A: seq above the left edge is in the top's subspace, else the next one (which the
      // 64-bit counter cannot wrap into).
      i_hi = (i_ge || s5_thmax_q) ? s5_top_q[63:32] : s5_thp1_q;
    end else begin
      // Case B: the window spans two subspaces.
      i_hi = (i_ge && s5_thnz_q) ? s5_thm1_q : s5_top_q[63:32];
    end
  end

  always_ff @(posedge clk_i) begin
    s6_op_q      <= s5_op_q;
    s6_tag_q     <= s5_tag_q;
    s6_verdict_q <= s5_verdict_q;
    s6_seq_q     <= (s5_op_q == esp_replay_pkg::OpCheck) ? {i_hi, s5_seq_q[31:0]} :
                    (s5_op_q == esp_replay_pkg::OpRead) ? s5_top_q : s5_seq_q;
    s6_top_q     <= s5_top_q;
    s6_left_q    <= s5_left_q;
    s6_wnz_q     <= s5_wnz_q;
    s6_tbit_q    <= s5_tbit_q;
    s6_rbit_q    <= s5_rbit_q;
  end

  // S6 -> S7: the same tests as S2 makes for UPDATE, on the inferred number.
  always_ff @(posedge clk_i) begin
    s7_op_q      <= s6_op_q;
    s7_tag_q     <= s6_tag_q;
    s7_verdict_q <= s6_verdict_q;
    s7_seq_q     <= s6_seq_q;
    s7_wnz_q     <= s6_wnz_q;
    s7_tbit_q    <= s6_tbit_q;
    s7_rbit_q    <= s6_rbit_q;
    s7_gt_q      <= s6_seq_q > s6_top_q;
    s7_old_q     <= s6_seq_q < s6_left_q;
    s7_sb_q      <= s6_seq_q[63:6] == s6_top_q[63:6];
    s7_zero_q    <= s6_seq_q == '0;
  end

  logic [1:0] o_verdict;
  always_comb begin
    o_verdict = s7_verdict_q;
    if (s7_op_q == esp_replay_pkg::OpCheck) begin
      if (s7_zero_q) begin
        o_verdict = esp_replay_pkg::VerdictZero;
      end else if (!s7_wnz_q || s7_gt_q) begin
        o_verdict = esp_replay_pkg::VerdictOk;
      end else if (s7_old_q) begin
        o_verdict = esp_replay_pkg::VerdictTooOld;
      end else if (s7_sb_q ? s7_tbit_q : s7_rbit_q) begin
        o_verdict = esp_replay_pkg::VerdictReplay;
      end else begin
        o_verdict = esp_replay_pkg::VerdictOk;
      end
    end
  end

  // -----------------------------------------------------------------------------------------------
  // Result FIFO (credits: never full on a push, so the pipeline never stalls)
  // -----------------------------------------------------------------------------------------------
  assign fifo_push = s7_v_q;
  assign fifo_in   = {s7_op_q, o_verdict, s7_seq_q, s7_tag_q};

  fifo_sync #(
    .Width (FifoW),
    .Depth (OutFifoDepth)
  ) u_out_fifo (
    .clk_i,
    .rst_i,
    .in_data_i   (fifo_in),
    .in_valid_i  (fifo_push),
    .in_ready_o  (fifo_in_ready),
    .out_data_o  (fifo_out),
    .out_valid_o (out_valid_o),
    .out_ready_i (out_ready_i)
  );

  assign fifo_pop = out_valid_o && out_ready_i;
  assign {out_op_o, out_verdict_o, out_seq_o, out_tag_o} = fifo_out;

  // -----------------------------------------------------------------------------------------------
  // Assertions
  // -----------------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (!rst_i) begin
      assert (!fifo_push || fifo_in_ready)
        else $error("esp_replay: result FIFO overflow (credit accounting) (%m)");
      assert (credit_q <= CreditW'(OutFifoDepth))
        else $error("esp_replay: more credits than FIFO entries (%m)");
      assert (!(accept && in_op_i == esp_replay_pkg::OpInit) || 32'(in_window_i) <= WindowBits)
        else $error("esp_replay: INIT window %0d above WindowBits (%m)", in_window_i);
      assert (32'(in_sa_i) < NumSa || !accept)
        else $error("esp_replay: SA index %0d out of range (%m)", in_sa_i);
      // One INIT in flight blocks the input until it has been written.
      assert (!(s1_v_q && s2_v_q && s2_op_q == esp_replay_pkg::OpInit))
        else $error("esp_replay: op accepted behind an INIT in flight (%m)");
    end
  end
`endif

endmodule
