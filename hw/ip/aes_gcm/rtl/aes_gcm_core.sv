// SPDX-License-Identifier: Apache-2.0
//
// AES-GCM streaming core (SP 800-38D, RFC 4106 ESP use): CTR encryption/decryption with
// aes_enc_pipe and the tag with ghash_core plus a tag-finalisation pipeline, at line rate:
// packets follow each other with no idle input cycle (one when a packet has no AAD).
//
// ================================ Interface contract ============================================
// Context (ctx_valid_i/ctx_ready_o), one beat per packet, before its data (it may be taken
// several packets ahead; it is queued):
//   ctx_key_i      AES key, byte 0 at [255:248]; AES-128 uses [255:128] (aes_enc_pipe rules)
//   ctx_key256_i   1: AES-256, 0: AES-128
//   ctx_hpow_i     H^(k+1) at [k*128 +: 128], H = E_K(0^128) (precomputed per SA)
//   ctx_j0_i       J0 = salt(4) || IV(8) || 0x00000001, byte 0 at [127:120]; the low word must
//                  be 1 (96-bit IV, checked by an assertion): the text counters start from 2
//   ctx_decrypt_i  1: input text is ciphertext, output plaintext; 0: encrypt
//   ctx_aad_len_i  AAD length in bytes; ctx_text_len_i text length in bytes (any value, 0 ok)
//   ctx_tag_i      expected tag (decrypt only), byte 0 at [127:120]
// Data in (in_valid_i/in_ready_o): ceil(aad_len/LaneBytes) AAD beats, then
//   ceil(text_len/LaneBytes) text beats (AAD and text never share a beat). Packet byte j of a
//   beat is in lane j/16 (lane l at [l*128 +: 128]) at bits [l*128 + 127 - 8*(j%16) -: 8], i.e.
//   byte 0 at the top of lane 0. in_bytes_i = valid bytes of the beat (LaneBytes except on the
//   last AAD / last text beat); bytes beyond it are ignored. Checked by an assertion.
// Data out (out_valid_o/out_ready_i): the text beats in the same layout (ciphertext when
//   encrypting, plaintext when decrypting; bytes beyond out_bytes_o are zero), then one tag
//   beat: out_tag_o = 1, tag E_K(J0) ^ GHASH(H, A, C) in out_data_o[127:0] (upper lanes zero),
//   out_bytes_o = 16, out_tag_ok_o = decrypt && tag == ctx_tag_i. out_tag_o marks the last beat
//   of a packet. The tag is released for all packets; a consumer drops plaintext on !tag_ok.
// Handshakes: valid never waits for ready; ctx_ready_o and in_ready_o come from registers and
//   state only (no combinational path from the valid inputs or from out_ready_i).
// Rate: one input beat per cycle across packet boundaries. A packet with AAD costs exactly its
//   data beats; a packet without AAD costs one more cycle (its E_K(J0) beat). The output carries
//   one beat per cycle (text beats + 1 tag beat per packet).
// Keys: no key, round key, H power or E_K(J0) stays in the core once its packet no longer needs
//   it (doc/theory_of_operation.md, "Key wiping"); the test reads dbg_key_residue.
// ================================================================================================
//
// Structure (doc/theory_of_operation.md):
//   ctx ─┬─► inq (key, J0, lengths; flops, wiped) ─► input stage ─► aes_enc_pipe ─► post stage
//        └─► postq (H powers, lengths, expected tag; flops, wiped) ────────────────────┘  │
//   post stage: E_K(J0) from lane 0 of a packet's first beat → finq; AAD / ciphertext blocks →
//     ghash_core (GHASH without the length block, X'); text beats → text FIFO.
//   fin pipeline: tag = (X' ^ len(A)||len(C)) * H ^ E_K(J0), compared with the expected tag.
//   merger: text beats from the text FIFO, then the packet's tag from the tag FIFO.
// Every stage carries its packet's state with the beat, so several packets are in flight.
`default_nettype none

module aes_gcm_core #(
  parameter int unsigned Lanes = 1,   // 128-bit blocks per beat: 1, 2 or 4
  parameter int unsigned LenW  = 16,  // width of the AAD and text byte lengths, 8..29
  localparam int unsigned DataW     = Lanes * 128,
  localparam int unsigned LaneBytes = Lanes * 16,
  localparam int unsigned NbW       = $clog2(LaneBytes + 1)
) (
  input  logic             clk_i,
  input  logic             rst_i,          // synchronous, active high

  // Packet context
  input  logic             ctx_valid_i,
  output logic             ctx_ready_o,
  input  logic [255:0]     ctx_key_i,
  input  logic             ctx_key256_i,
  input  logic [DataW-1:0] ctx_hpow_i,
  input  logic [127:0]     ctx_j0_i,
  input  logic             ctx_decrypt_i,
  input  logic [LenW-1:0]  ctx_aad_len_i,
  input  logic [LenW-1:0]  ctx_text_len_i,
  input  logic [127:0]     ctx_tag_i,

  // AAD, then text beats
  input  logic             in_valid_i,
  output logic             in_ready_o,
  input  logic [DataW-1:0] in_data_i,
  input  logic [NbW-1:0]   in_bytes_i,

  // Text beats, then the tag beat
  output logic             out_valid_o,
  input  logic             out_ready_i,
  output logic [DataW-1:0] out_data_o,
  output logic [NbW-1:0]   out_bytes_o,
  output logic             out_tag_o,
  output logic             out_tag_ok_o
);

  if (Lanes != 1 && Lanes != 2 && Lanes != 4) begin : gen_bad_lanes
    $error("aes_gcm_core: Lanes must be 1, 2 or 4 (instance %m)");
  end
  if (LenW < 8 || LenW > 29) begin : gen_bad_lenw
    $error("aes_gcm_core: LenW must be 8..29 (instance %m)");
  end

  localparam int unsigned CountW = $clog2(Lanes + 1);
  // Beat kinds in the AES sideband. Flush beats (zero key, zero block) are sent while the input
  // is idle to overwrite the AES output FIFO (RAM) after traffic stops; the post stage drops them.
  localparam logic [1:0] KindFlush = 2'd0;
  localparam logic [1:0] KindAad   = 2'd1;
  localparam logic [1:0] KindText  = 2'd2;
  localparam logic [1:0] KindJ0    = 2'd3;   // E_K(J0) only (packet without AAD)
  // AES sideband {kind, first, last, decrypt, bytes, data}
  localparam int unsigned AesUserW = 2 + 3 + NbW + DataW;
  // Input queue {key, key256, j0, decrypt, aad_len, text_len, aad_zero, aad_fin, text_zero,
  // text_fin}; *_fin: the length fits one beat.
  localparam int unsigned InqW = 256 + 1 + 128 + 1 + 2 * LenW + 4;
  // Post queue {hpow, aad_len, text_len, tag}
  localparam int unsigned PostqW = DataW + 2 * LenW + 128;
  // Finalisation queue {h, ej0, exp_tag, decrypt, aad_len, text_len}
  localparam int unsigned FinqW = 3 * 128 + 1 + 2 * LenW;
  // Text FIFO {tag_only, end, bytes, data}; output slice {tag, tag_ok, bytes, data}
  localparam int unsigned TextW = 2 + NbW + DataW;
  localparam int unsigned OutW  = 2 + NbW + DataW;
  // Depths. postq covers the packets between their context and their first beat leaving the AES
  // pipe (~20 cycles: 10 two-beat packets); the text FIFO holds the text while its tag is being
  // finalised (~12 cycles) plus slack; finq and the tag FIFO cover the GHASH and fin pipelines.
  localparam int unsigned InqDepth   = 2;
  localparam int unsigned PostqDepth = 16;
  localparam int unsigned FinqDepth  = 8;
  localparam int unsigned TextDepth  = 32;
  localparam int unsigned TagDepth   = 8;
  localparam int unsigned TagCntW    = $clog2(TagDepth + 1);
  // Flush beats after the last real beat: AES output FIFO (32) + its output slice (2).
  localparam int unsigned FlushBeats = 34;
  localparam int unsigned FlushCntW  = $clog2(FlushBeats + 1);

  // ---------------------------------------------------------------------------------------------
  // Context queues
  // ---------------------------------------------------------------------------------------------
  logic              ctx_fire;
  logic              inq_in_ready, inq_out_valid, inq_out_ready;
  logic [InqW-1:0]   inq_in_data, inq_out_data;
  logic              postq_in_ready, postq_out_valid, postq_out_ready;
  logic [PostqW-1:0] postq_in_data, postq_out_data;

  assign ctx_ready_o = inq_in_ready && postq_in_ready;
  assign ctx_fire    = ctx_valid_i && ctx_ready_o;
  assign inq_in_data = {ctx_key_i, ctx_key256_i, ctx_j0_i, ctx_decrypt_i,
                        ctx_aad_len_i, ctx_text_len_i,
                        ctx_aad_len_i == '0, ctx_aad_len_i <= LenW'(LaneBytes),
                        ctx_text_len_i == '0, ctx_text_len_i <= LenW'(LaneBytes)};
  assign postq_in_data = {ctx_hpow_i, ctx_aad_len_i, ctx_text_len_i, ctx_tag_i};

  fifo_wipe #(.Width(InqW), .Depth(InqDepth)) u_inq (
    .clk_i,
    .rst_i,
    .wipe_i      (1'b0),
    .in_data_i   (inq_in_data),
    .in_valid_i  (ctx_fire),
    .in_ready_o  (inq_in_ready),
    .out_data_o  (inq_out_data),
    .out_valid_o (inq_out_valid),
    .out_ready_i (inq_out_ready)
  );

  fifo_wipe #(.Width(PostqW), .Depth(PostqDepth)) u_postq (
    .clk_i,
    .rst_i,
    .wipe_i      (1'b0),
    .in_data_i   (postq_in_data),
    .in_valid_i  (ctx_fire),
    .in_ready_o  (postq_in_ready),
    .out_data_o  (postq_out_data),
    .out_valid_o (postq_out_valid),
    .out_ready_i (postq_out_ready)
  );

  // ---------------------------------------------------------------------------------------------
  // Input stage: the current packet's registers, loaded from the input queue head in the cycle
  // its predecessor's last beat goes into the AES pipe (no gap), cleared when it is done.
  // ---------------------------------------------------------------------------------------------
  logic [255:0]      h_key;
  logic              h_key256, h_dec, h_aad_zero, h_aad_fin, h_text_zero, h_text_fin;
  logic [127:0]      h_j0;
  logic [LenW-1:0]   h_aad_len, h_text_len;
  assign {h_key, h_key256, h_j0, h_dec, h_aad_len, h_text_len,
          h_aad_zero, h_aad_fin, h_text_zero, h_text_fin} = inq_out_data;

  logic              cur_valid_d, cur_valid_q;
  logic              ph_aad_d, ph_aad_q, ph_j0_d, ph_j0_q, ph_text_d, ph_text_q;  // one-hot phase
  logic              first_d, first_q;
  logic [255:0]      key_d, key_q;
  logic              key256_d, key256_q, dec_d, dec_q;
  logic [127:0]      j0_d, j0_q;
  logic [LenW-1:0]   aad_rem_d, aad_rem_q, text_rem_d, text_rem_q;
  logic              aad_fin_d, aad_fin_q, text_fin_d, text_fin_q, text_zero_d, text_zero_q;
  logic [FlushCntW-1:0] flush_cnt_d, flush_cnt_q;

  logic              aes_in_valid, aes_in_ready;
  logic [DataW-1:0]  aes_in_block;
  logic [AesUserW-1:0] aes_in_user;
  logic              beat_go, real_go, flush_go, in_fire, load;
  logic              part_fin, beat_last;
  logic [NbW-1:0]    rem;        // remaining bytes, meaningful on a part's final beat
  logic [NbW-1:0]    beat_bytes;
  logic [1:0]        beat_kind;

  assign in_ready_o   = cur_valid_q && !ph_j0_q && aes_in_ready;
  assign in_fire      = in_valid_i && in_ready_o;
  // Flush beats only go when the pipe takes them, so the AES input never changes while stalled.
  assign flush_go     = !cur_valid_q && flush_cnt_q != FlushCntW'(FlushBeats) && aes_in_ready;
  assign aes_in_valid = cur_valid_q ? (ph_j0_q || in_valid_i) : flush_go;
  assign beat_go      = aes_in_valid && aes_in_ready;
  assign real_go      = beat_go && cur_valid_q;

  assign part_fin   = ph_aad_q ? aad_fin_q : text_fin_q;
  assign rem        = ph_aad_q ? aad_rem_q[NbW-1:0] : text_rem_q[NbW-1:0];
  assign beat_bytes = (ph_j0_q || !cur_valid_q) ? NbW'(0) : part_fin ? rem : NbW'(LaneBytes);
  assign beat_last  = ph_text_q ? text_fin_q : (text_zero_q && (ph_j0_q || aad_fin_q));
  assign beat_kind  = !cur_valid_q ? KindFlush : ph_aad_q ? KindAad : ph_j0_q ? KindJ0 : KindText;
  assign load          = !cur_valid_q || (real_go && beat_last);
  assign inq_out_ready = load;

  always_comb begin
    cur_valid_d = cur_valid_q;
    ph_aad_d    = ph_aad_q;
    ph_j0_d     = ph_j0_q;
    ph_text_d   = ph_text_q;
    first_d     = first_q;
    key_d       = key_q;
    key256_d    = key256_q;
    dec_d       = dec_q;
    j0_d        = j0_q;
    aad_rem_d   = aad_rem_q;
    text_rem_d  = text_rem_q;
    aad_fin_d   = aad_fin_q;
    text_fin_d  = text_fin_q;
    text_zero_d = text_zero_q;
    flush_cnt_d = flush_cnt_q;
    if (real_go) begin
      first_d     = 1'b0;
      flush_cnt_d = '0;
      if (ph_aad_q) begin
        aad_rem_d = aad_rem_q - LenW'(LaneBytes);
        aad_fin_d = aad_rem_q <= LenW'(2 * LaneBytes);
        if (aad_fin_q) begin
          ph_aad_d  = 1'b0;
          ph_text_d = 1'b1;
        end
      end
      if (ph_j0_q) begin
        ph_j0_d   = 1'b0;
        ph_text_d = 1'b1;
      end
      if (ph_text_q) begin
        text_rem_d = text_rem_q - LenW'(LaneBytes);
        text_fin_d = text_rem_q <= LenW'(2 * LaneBytes);
      end
      if (beat_last) begin
        // Packet done: clear its registers (key wiping); a successor may load below.
        cur_valid_d = 1'b0;
        ph_aad_d    = 1'b0;
        ph_j0_d     = 1'b0;
        ph_text_d   = 1'b0;
        key_d       = '0;
        key256_d    = 1'b0;
        dec_d       = 1'b0;
        j0_d        = '0;
        aad_rem_d   = '0;
        text_rem_d  = '0;
      end
    end else if (flush_go) begin
      flush_cnt_d = flush_cnt_q + FlushCntW'(1);
    end
    if (load && inq_out_valid) begin
      cur_valid_d = 1'b1;
      ph_aad_d    = !h_aad_zero;
      ph_j0_d     = h_aad_zero;
      ph_text_d   = 1'b0;
      first_d     = 1'b1;
      key_d       = h_key;
      key256_d    = h_key256;
      dec_d       = h_dec;
      j0_d        = h_j0;
      aad_rem_d   = h_aad_len;
      text_rem_d  = h_text_len;
      aad_fin_d   = h_aad_fin;
      text_fin_d  = h_text_fin;
      text_zero_d = h_text_zero;
    end
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      cur_valid_q <= 1'b0;
      ph_aad_q    <= 1'b0;
      ph_j0_q     <= 1'b0;
      ph_text_q   <= 1'b0;
      first_q     <= 1'b0;
      key_q       <= '0;
      key256_q    <= 1'b0;
      dec_q       <= 1'b0;
      j0_q        <= '0;
      aad_rem_q   <= '0;
      text_rem_q  <= '0;
      flush_cnt_q <= '0;
    end else begin
      cur_valid_q <= cur_valid_d;
      ph_aad_q    <= ph_aad_d;
      ph_j0_q     <= ph_j0_d;
      ph_text_q   <= ph_text_d;
      first_q     <= first_d;
      key_q       <= key_d;
      key256_q    <= key256_d;
      dec_q       <= dec_d;
      j0_q        <= j0_d;
      aad_rem_q   <= aad_rem_d;
      text_rem_q  <= text_rem_d;
      flush_cnt_q <= flush_cnt_d;
    end
  end

  // Flags: datapath, no reset.
  always_ff @(posedge clk_i) begin
    aad_fin_q   <= aad_fin_d;
    text_fin_q  <= text_fin_d;
    text_zero_q <= text_zero_d;
  end

  // Text counters. J0 = IV || 0^31 || 1 (96-bit IV, asserted), so block l of text beat n
  // (n = 0, 1, ...) has the counter inc32^(1 + n*Lanes + l)(J0) = 2 + n*Lanes + l (mod 2^32)
  //   = {n + (2 + l) / Lanes, (2 + l) % Lanes}  (upper CtrW = 32 - log2(Lanes) bits, low bits):
  // the low bits are constant per lane and the upper part is n + k, k in {0, 1} (Lanes=4), {1}
  // (Lanes=2), {2} (Lanes=1). These NCtr values count up by one per text beat (mod 2^CtrW, the
  // wrap of inc32) in 8-bit slices with a registered all-ones flag per slice: a slice steps when
  // the step enable and the flags of all lower slices are set. No next-state bit depends on more
  // than its own slice, at most three flags, the enable and the load (no 32-bit carry chain, no
  // adder on the context path: the two 32-bit adders these replace were the 7-level cones of the
  // whole core). The values are public (not key material): reloaded per packet, not wiped.
  localparam int unsigned LgLanes = $clog2(Lanes);
  localparam int unsigned CtrW    = 32 - LgLanes;
  localparam int unsigned CtrBase = 2 / Lanes;               // k of counter 0: 2, 1 or 0
  localparam int unsigned NCtr    = (Lanes == 4) ? 2 : 1;
  localparam int unsigned NSl     = (CtrW + 7) / 8;          // 8-bit slices (the top one 6..8)
  logic [NCtr*CtrW-1:0] uc_d, uc_q;
  logic [NCtr*NSl-1:0]  ucf_d, ucf_q;    // slice s of counter c is all ones
  logic                 ctr_step, ctr_load, uc_cin, uc_run, uc_fe;
  assign ctr_step = real_go && ph_text_q;
  assign ctr_load = load && inq_out_valid;

  always_comb begin
    uc_d   = uc_q;
    ucf_d  = ucf_q;
    uc_cin = 1'b0;
    uc_run = 1'b0;
    uc_fe  = 1'b0;
    for (int unsigned c = 0; c < NCtr; c++) begin
      uc_cin = ctr_step;                                     // carry into slice s
      for (int unsigned s = 0; s < NSl; s++) begin
        uc_run = uc_cin;                                     // carry into bit i
        uc_fe  = 1'b1;                                       // slice = all ones but bit 0
        for (int unsigned i = 8 * s; i < 8 * s + 8 && i < CtrW; i++) begin
          uc_d[c*CtrW + i] = uc_q[c*CtrW + i] ^ uc_run;
          uc_run = uc_run && uc_q[c*CtrW + i];
          uc_fe  = uc_fe && (uc_q[c*CtrW + i] == (i != 8 * s));
        end
        if (uc_cin) begin
          ucf_d[c*NSl + s] = uc_fe;                          // all ones after this step
        end
        uc_cin = uc_cin && ucf_q[c*NSl + s];
      end
      if (ctr_load) begin
        uc_d[c*CtrW +: CtrW] = CtrW'(CtrBase + c);
        ucf_d[c*NSl +: NSl]  = '0;                           // 0..2: no slice is all ones
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      for (int unsigned c = 0; c < NCtr; c++) begin
        uc_q[c*CtrW +: CtrW] <= CtrW'(CtrBase + c);
      end
      ucf_q <= '0;
    end else begin
      uc_q  <= uc_d;
      ucf_q <= ucf_d;
    end
  end

  // AES beat: lane 0 carries J0 on AAD and J0 beats (the first AAD beat's AES result is E_K(J0);
  // later AAD beats' results are unused), counter blocks J0[127:32] || counter on text beats.
  // All zero on flush beats (the current-packet registers are clear).
  always_comb begin
    aes_in_block = {Lanes{j0_q}};
    if (ph_text_q) begin
      for (int unsigned l = 0; l < Lanes; l++) begin
        aes_in_block[l*128 +: 128] = {j0_q[127:32],
            (32'(uc_q[((2 + l) / Lanes - CtrBase) * CtrW +: CtrW]) << LgLanes)
            | 32'((2 + l) % Lanes)};
      end
    end
    aes_in_user = {beat_kind, first_q, cur_valid_q && beat_last, dec_q, beat_bytes,
                   (ph_aad_q || ph_text_q) ? in_data_i : {DataW{1'b0}}};
  end

  logic                aes_out_valid, aes_out_ready;
  logic [DataW-1:0]    aes_out_block;
  logic [AesUserW-1:0] aes_out_user;

  aes_enc_pipe #(.Lanes(Lanes), .UserW(AesUserW)) u_aes (
    .clk_i,
    .rst_i,
    .in_valid_i  (aes_in_valid),
    .in_ready_o  (aes_in_ready),
    .in_key_i    (key_q),
    .in_key256_i (key256_q),
    .in_block_i  (aes_in_block),
    .in_user_i   (aes_in_user),
    .out_valid_o (aes_out_valid),
    .out_ready_i (aes_out_ready),
    .out_block_o (aes_out_block),
    .out_user_o  (aes_out_user)
  );

  // ---------------------------------------------------------------------------------------------
  // Post stage: one AES beat per cycle to GHASH, the text FIFO and (first beat) the fin queue.
  // ---------------------------------------------------------------------------------------------
  logic [1:0]        o_kind;
  logic              o_first, o_last, o_dec, o_flush, o_text;
  logic [NbW-1:0]    o_bytes;
  logic [DataW-1:0]  o_data;
  assign {o_kind, o_first, o_last, o_dec, o_bytes, o_data} = aes_out_user;
  assign o_flush = o_kind == KindFlush;
  assign o_text  = o_kind == KindText;

  logic [DataW-1:0]  p_hpow;
  logic [LenW-1:0]   p_aad_len, p_text_len;
  logic [127:0]      p_tag;
  assign {p_hpow, p_aad_len, p_text_len, p_tag} = postq_out_data;

  logic [DataW-1:0]  byte_mask, in_masked, res_masked;
  logic [CountW-1:0] o_blocks;
  logic              post_ok, post_go, post_first_go;
  logic              gh_in_valid, gh_in_ready;
  logic [DataW-1:0]  gh_in_blocks;
  logic [CountW-1:0] gh_in_count;
  logic              gh_out_valid, gh_out_ready;
  logic [127:0]      gh_out_x;
  logic              unused_gh_user;
  logic              tf_in_valid, tf_in_ready, tf_out_valid, tf_out_ready;
  logic [TextW-1:0]  tf_in_data, tf_out_data;
  logic              th_valid, th_ready;     // text FIFO head slice (flops) into the merger
  logic [TextW-1:0]  th_data;
  logic              fq_in_ready, fq_out_valid, fq_out_ready;
  logic [FinqW-1:0]  fq_in_data, fq_out_data;

  always_comb begin
    for (int unsigned j = 0; j < LaneBytes; j++) begin
      byte_mask[(j/16)*128 + 127 - 8*(j%16) -: 8] = (32'(j) < 32'(o_bytes)) ? 8'hff : 8'h00;
    end
  end
  assign in_masked  = o_data & byte_mask;
  assign res_masked = (o_data ^ aes_out_block) & byte_mask;
  assign o_blocks   = CountW'((32'(o_bytes) + 32'd15) >> 4);

  // The downstream readies are flops; flush beats are dropped whatever they say.
  assign post_ok       = gh_in_ready && tf_in_ready && fq_in_ready;
  assign aes_out_ready = post_ok || o_flush;
  assign post_go       = aes_out_valid && !o_flush && post_ok;
  // A packet's first beat moves (o_first is never set on a flush beat: first_q is clear while
  // no packet is current). Written without o_flush so that the postq pop and the finq push are
  // one LUT of flops (valid, first, the three readies).
  assign post_first_go = aes_out_valid && o_first && post_ok;

  // GHASH over the AAD and ciphertext blocks only (the length block is added in the fin
  // pipeline). A J0 beat (packet without AAD) sends one zero block, which leaves GHASH at zero:
  // every packet thus has a start beat, even one without AAD and text.
  assign gh_in_valid  = aes_out_valid && !o_flush && tf_in_ready && fq_in_ready;
  assign gh_in_blocks = (o_text && !o_dec) ? res_masked : in_masked;
  assign gh_in_count  = (o_kind == KindJ0) ? CountW'(1) : o_blocks;

  ghash_core #(.Lanes(Lanes), .UserW(1)) u_ghash (
    .clk_i,
    .rst_i,
    .in_valid_i  (gh_in_valid),
    .in_ready_o  (gh_in_ready),
    .in_start_i  (o_first),
    .in_hpow_i   (p_hpow),
    .in_user_i   (1'b0),
    .in_blocks_i (gh_in_blocks),
    .in_count_i  (gh_in_count),
    .in_last_i   (o_last),
    .out_valid_o (gh_out_valid),
    .out_ready_i (gh_out_ready),
    .out_tag_o   (gh_out_x),
    .out_user_o  (unused_gh_user)
  );

  // The packet's context leaves postq with its first beat; what the tag needs goes to finq
  // together with E_K(J0) (lane 0 of that beat).
  assign postq_out_ready = post_first_go;
  assign fq_in_data      = {p_hpow[127:0], aes_out_block[127:0], p_tag, o_dec, p_aad_len, p_text_len};

  fifo_wipe #(.Width(FinqW), .Depth(FinqDepth)) u_finq (
    .clk_i,
    .rst_i,
    .wipe_i      (1'b0),
    .in_data_i   (fq_in_data),
    .in_valid_i  (post_first_go),
    .in_ready_o  (fq_in_ready),
    .out_data_o  (fq_out_data),
    .out_valid_o (fq_out_valid),
    .out_ready_i (fq_out_ready)
  );

  // Text beats, and a tag-only marker for the last beat of a packet without text.
  assign tf_in_valid = post_go && (o_text || o_last);
  assign tf_in_data  = {!o_text, o_last, o_text ? o_bytes : NbW'(0),
                        o_text ? res_masked : {DataW{1'b0}}};

  fifo_sync #(.Width(TextW), .Depth(TextDepth)) u_text_fifo (
    .clk_i,
    .rst_i,
    .in_data_i   (tf_in_data),
    .in_valid_i  (tf_in_valid),
    .in_ready_o  (tf_in_ready),
    .out_data_o  (tf_out_data),
    .out_valid_o (tf_out_valid),
    .out_ready_i (tf_out_ready)
  );

  // Register slice on the text FIFO's read side: the merger decides from flops (the head beat's
  // tag_only / end flags), not from the LUTRAM read, so the read, the merger's select and the
  // FIFO pop are never in one cycle (the read mux alone is 3 levels in the generic mapping).
  skid_buffer #(.Width(TextW)) u_text_head (
    .clk_i,
    .rst_i,
    .in_data_i   (tf_out_data),
    .in_valid_i  (tf_out_valid),
    .in_ready_o  (tf_out_ready),
    .out_data_o  (th_data),
    .out_valid_o (th_valid),
    .out_ready_i (th_ready)
  );

  // ---------------------------------------------------------------------------------------------
  // Finalisation pipeline: tag = (X' ^ L) * H ^ E_K(J0), one packet per cycle, 4 stages, no
  // stall (credits on the tag FIFO). Each stage register is zero unless it holds a packet.
  //   f0  register X' ^ L, H, E_K(J0), expected tag, decrypt
  //   fp  the 16 32x32-bit carry-less limb products of (X' ^ L) and H (each bit an xor of up
  //       to 32 ands: 3 LUT levels)
  //   f1  their sum, the unreduced 255-bit product (each bit an xor of up to 8 limb-product bits)
  //       (one 128x128 product in a single stage mapped to 7 levels in the whole core)
  //   f2  reduction, xor E_K(J0) -> tag, and tag ^ expected tag; the match (a NOR of that) is
  //       on the tag FIFO's write port
  // ---------------------------------------------------------------------------------------------
  logic [127:0]      fq_h, fq_ej0, fq_exp;
  logic              fq_dec;
  logic [LenW-1:0]   fq_aad_len, fq_text_len;
  logic [127:0]      len_block;
  assign {fq_h, fq_ej0, fq_exp, fq_dec, fq_aad_len, fq_text_len} = fq_out_data;
  assign len_block = {{(61 - LenW){1'b0}}, fq_aad_len, 3'b000, {(61 - LenW){1'b0}}, fq_text_len, 3'b000};

  logic [TagCntW-1:0] fin_credit_d, fin_credit_q;
  logic               fin_go, tq_in_ready, tq_out_valid, tq_out_ready;
  logic [128:0]       tq_in_data, tq_out_data;

  assign gh_out_ready = fq_out_valid && fin_credit_q != '0;
  assign fq_out_ready = gh_out_valid && fin_credit_q != '0;
  assign fin_go       = gh_out_valid && fq_out_valid && fin_credit_q != '0;

  localparam int unsigned NLimbs    = ghash_pkg::NLimbs;
  localparam int unsigned LimbW     = ghash_pkg::LimbW;
  localparam int unsigned LimbProdW = ghash_pkg::LimbProdW;
  localparam int unsigned PpW       = NLimbs * NLimbs * LimbProdW;

  logic                        f0_v_q, fp_v_q, f1_v_q, f2_v_q;
  logic [127:0]                f0_xl_q, f0_h_q, f0_ej0_q, f0_exp_q, fp_ej0_q, fp_exp_q;
  logic [127:0]                f1_ej0_q, f1_exp_q, f2_tag_q, f2_diff_q;
  logic                        f0_dec_q, fp_dec_q, f1_dec_q, f2_dec_q;
  logic [PpW-1:0]              fp_pp_d, fp_pp_q;    // limb product (i, j) at [(i*NLimbs+j)*LimbProdW]
  logic [ghash_pkg::NDiags*LimbProdW-1:0] fp_diags;
  logic [ghash_pkg::ProdW-1:0] f1_prod_q;

  always_comb begin
    fp_diags = '0;
    for (int unsigned i = 0; i < NLimbs; i++) begin
      for (int unsigned j = 0; j < NLimbs; j++) begin
        fp_pp_d[(i*NLimbs+j)*LimbProdW +: LimbProdW] =
            ghash_pkg::clmul32(f0_xl_q[i*LimbW +: LimbW], f0_h_q[j*LimbW +: LimbW]);
        fp_diags[(i+j)*LimbProdW +: LimbProdW] = fp_diags[(i+j)*LimbProdW +: LimbProdW]
            ^ fp_pp_q[(i*NLimbs+j)*LimbProdW +: LimbProdW];
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      f0_v_q <= 1'b0;
      fp_v_q <= 1'b0;
      f1_v_q <= 1'b0;
      f2_v_q <= 1'b0;
    end else begin
      f0_v_q <= fin_go;
      fp_v_q <= f0_v_q;
      f1_v_q <= fp_v_q;
      f2_v_q <= f1_v_q;
    end
    if (rst_i || !fin_go) begin
      f0_xl_q  <= '0;
      f0_h_q   <= '0;
      f0_ej0_q <= '0;
      f0_exp_q <= '0;
      f0_dec_q <= 1'b0;
    end else begin
      f0_xl_q  <= gh_out_x ^ len_block;
      f0_h_q   <= fq_h;
      f0_ej0_q <= fq_ej0;
      f0_exp_q <= fq_exp;
      f0_dec_q <= fq_dec;
    end
    if (rst_i || !f0_v_q) begin
      fp_pp_q  <= '0;
      fp_ej0_q <= '0;
      fp_exp_q <= '0;
      fp_dec_q <= 1'b0;
    end else begin
      fp_pp_q  <= fp_pp_d;
      fp_ej0_q <= f0_ej0_q;
      fp_exp_q <= f0_exp_q;
      fp_dec_q <= f0_dec_q;
    end
    if (rst_i || !fp_v_q) begin
      f1_prod_q <= '0;
      f1_ej0_q  <= '0;
      f1_exp_q  <= '0;
      f1_dec_q  <= 1'b0;
    end else begin
      f1_prod_q <= ghash_pkg::diags_to_prod(fp_diags);
      f1_ej0_q  <= fp_ej0_q;
      f1_exp_q  <= fp_exp_q;
      f1_dec_q  <= fp_dec_q;
    end
    if (rst_i || !f1_v_q) begin
      f2_tag_q  <= '0;
      f2_diff_q <= '0;
      f2_dec_q <= 1'b0;
    end else begin
      f2_tag_q  <= ghash_pkg::gf128_reduce(f1_prod_q) ^ f1_ej0_q;
      // tag ^ expected tag, so that the match on the tag FIFO's write port is a 128-input NOR
      // (3 LUT levels) rather than an equality after a register (xor + and tree).
      f2_diff_q <= ghash_pkg::gf128_reduce(f1_prod_q) ^ f1_ej0_q ^ f1_exp_q;
      f2_dec_q <= f1_dec_q;
    end
  end

  assign tq_in_data   = {f2_dec_q && (f2_diff_q == '0), f2_tag_q};
  assign fin_credit_d = fin_credit_q - TagCntW'(fin_go) + TagCntW'(tq_out_valid && tq_out_ready);

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      fin_credit_q <= TagCntW'(TagDepth);
    end else begin
      fin_credit_q <= fin_credit_d;
    end
  end

  fifo_sync #(.Width(129), .Depth(TagDepth)) u_tag_fifo (
    .clk_i,
    .rst_i,
    .in_data_i   (tq_in_data),
    .in_valid_i  (f2_v_q),
    .in_ready_o  (tq_in_ready),
    .out_data_o  (tq_out_data),
    .out_valid_o (tq_out_valid),
    .out_ready_i (tq_out_ready)
  );

  // ---------------------------------------------------------------------------------------------
  // Output merger: a packet's text beats, then its tag beat (waits for the tag if needed).
  // ---------------------------------------------------------------------------------------------
  logic              t_tag_only, t_end;
  logic [NbW-1:0]    t_bytes;
  logic [DataW-1:0]  t_data;
  logic              tag_phase_d, tag_phase_q, want_tag;
  logic              sk_in_valid, sk_in_ready;
  logic [OutW-1:0]   sk_in_data, sk_out_data;
  assign {t_tag_only, t_end, t_bytes, t_data} = th_data;

  assign want_tag = tag_phase_q || (th_valid && t_tag_only);

  always_comb begin
    tag_phase_d  = tag_phase_q;
    th_ready     = 1'b0;
    tq_out_ready = 1'b0;
    if (want_tag) begin
      sk_in_valid = tq_out_valid;
      sk_in_data  = {1'b1, tq_out_data[128], NbW'(16), {(DataW - 128){1'b0}}, tq_out_data[127:0]};
      if (tq_out_valid && sk_in_ready) begin
        tq_out_ready = 1'b1;
        th_ready     = !tag_phase_q;  // pop the tag-only marker
        tag_phase_d  = 1'b0;
      end
    end else begin
      sk_in_valid = th_valid;
      sk_in_data  = {1'b0, 1'b0, t_bytes, t_data};
      if (th_valid && sk_in_ready) begin
        th_ready    = 1'b1;
        tag_phase_d = t_end;
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      tag_phase_q <= 1'b0;
    end else begin
      tag_phase_q <= tag_phase_d;
    end
  end

  skid_buffer #(.Width(OutW)) u_out_slice (
    .clk_i,
    .rst_i,
    .in_data_i   (sk_in_data),
    .in_valid_i  (sk_in_valid),
    .in_ready_o  (sk_in_ready),
    .out_data_o  (sk_out_data),
    .out_valid_o (out_valid_o),
    .out_ready_i (out_ready_i)
  );
  assign {out_tag_o, out_tag_ok_o, out_bytes_o, out_data_o} = sk_out_data;

  // ---------------------------------------------------------------------------------------------
  // Verification only (Verilator --assert; Yosys defines SYNTHESIS)
  // ---------------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  // Key residue, read by the bench through Verilator's public access: bit set while a register
  // group holds key material (AES key, round keys, H powers, E_K(J0), GHASH state). All zero once
  // the core has been idle for ~40 cycles. The AES output FIFO and slice must hold only flush
  // beats by then: E_K'(0) under the all-zero AES-128 key in every lane, zero sideband.
  localparam logic [127:0] FlushBlock = 128'h66e94bd4ef8a2c3b884cfa59ca342b2e;
  logic [7:0] dbg_key_residue /*verilator public_flat_rd*/;
  logic       aes_ram_dirty;
  always_comb begin
    aes_ram_dirty = 1'b0;
    for (int unsigned e = 0; e < 32; e++) begin
      if (u_aes.u_out_fifo.mem_q[e] != {{AesUserW{1'b0}}, {Lanes{FlushBlock}}}) aes_ram_dirty = 1'b1;
    end
    if (u_aes.u_out_slice.out_data_q != {{AesUserW{1'b0}}, {Lanes{FlushBlock}}}) aes_ram_dirty = 1'b1;
    if (u_aes.u_out_slice.skid_data_q != '0) aes_ram_dirty = 1'b1;
  end
  assign dbg_key_residue = {
    aes_ram_dirty,
    |{f0_xl_q, f0_h_q, f0_ej0_q, fp_pp_q, fp_ej0_q, f1_prod_q, f1_ej0_q, f2_tag_q, f2_diff_q},
    |u_finq.mem_q,
    |{u_ghash.hctx_q, u_ghash.opb_q, u_ghash.hl_a_q, u_ghash.gen_lane_two_stages.prod_b1_q,
      u_ghash.gen_lane_two_stages.hl_b1_q, u_ghash.s_b_q, u_ghash.hl_b_q, u_ghash.x_q,
      u_ghash.fifo_mem_q},
    |u_postq.mem_q,
    |{u_aes.in_key_q, u_aes.key_a_q, u_aes.key_b_q},
    |u_inq.mem_q,
    |key_q};

  always_ff @(posedge clk_i) begin
    if (!rst_i) begin
      if (in_fire) begin
        assert (in_bytes_i == beat_bytes)
          else $error("aes_gcm_core: in_bytes_i %0d, expected %0d", in_bytes_i, beat_bytes);
      end
      if (post_first_go) begin
        assert (postq_out_valid) else $error("aes_gcm_core: first AES beat without a context");
      end
      if (aes_out_valid) begin
        assert (!(o_first && o_flush)) else $error("aes_gcm_core: flush beat marked first");
      end
      if (f2_v_q) begin
        assert (tq_in_ready) else $error("aes_gcm_core: tag FIFO overflow");
      end
      if (ctx_fire) begin
        assert (ctx_j0_i[31:0] == 32'd1)
          else $error("aes_gcm_core: J0 must end in 0x00000001 (96-bit IV)");
        assert (32'(ctx_aad_len_i) + 32'(ctx_text_len_i) < (32'd1 << LenW))
          else $error("aes_gcm_core: packet longer than LenW allows");
      end
    end
  end
`endif

endmodule

`default_nettype wire
