// SPDX-License-Identifier: Apache-2.0
//
// AES-GCM streaming core (SP 800-38D, RFC 4106 ESP use): CTR encryption/decryption with
// aes_enc_pipe and the tag with ghash_core, one packet at a time per stage.
//
// ================================ Interface contract ============================================
// Context (ctx_valid_i/ctx_ready_o), one beat per packet, before its data:
//   ctx_key_i      AES key, byte 0 at [255:248]; AES-128 uses [255:128] (aes_enc_pipe rules)
//   ctx_key256_i   1: AES-256, 0: AES-128
//   ctx_hpow_i     H^(k+1) at [k*128 +: 128], H = E_K(0^128) (precomputed per SA)
//   ctx_j0_i       J0 = salt(4) || IV(8) || 0x00000001, byte 0 at [127:120]
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
// ================================================================================================
//
// Structure (doc/theory_of_operation.md): the input FSM sends, per packet, one J0 beat, the AAD
// beats and the text beats (counter blocks J0+1+i) into aes_enc_pipe; the AAD/text data ride
// along as the pipe's sideband, so everything leaves the pipe in order. The output FSM keeps
// E_K(J0), feeds AAD and ciphertext to ghash_core, adds the length block, waits for the GHASH
// value and emits the tag beat. The context reaches the output FSM through a 2-entry FIFO.
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
  // aes_enc_pipe sideband: {kind, last, bytes, data}
  localparam int unsigned AesUserW = 2 + 1 + NbW + DataW;
  // Context handed to the output FSM: {hpow, decrypt, aad_len, text_len, tag}
  localparam int unsigned CtxW = DataW + 1 + 2 * LenW + 128;
  localparam int unsigned OutW = 2 + NbW + DataW;

  localparam logic [1:0] KindJ0   = 2'd0;
  localparam logic [1:0] KindAad  = 2'd1;
  localparam logic [1:0] KindText = 2'd2;

  typedef enum logic [1:0] {StCtx, StJ0, StAad, StText} in_state_e;
  typedef enum logic [1:0] {StData, StLen, StTag} out_state_e;

  // ---------------------------------------------------------------------------------------------
  // Input FSM
  // ---------------------------------------------------------------------------------------------
  in_state_e        in_state_d, in_state_q;
  logic [255:0]     key_d, key_q;
  logic             key256_d, key256_q;
  logic [127:0]     j0_d, j0_q;
  logic [LenW-1:0]  aad_rem_d, aad_rem_q, text_rem_d, text_rem_q;
  logic [31:0]      ctr_d, ctr_q;

  logic             aes_in_valid, aes_in_ready;
  logic [DataW-1:0] aes_in_block;
  logic [AesUserW-1:0] aes_in_user;
  logic             cf_in_ready, cf_out_valid, cf_out_ready;
  logic [CtxW-1:0]  cf_in_data, cf_out_data;
  logic             ctx_fire, in_fire;
  logic [LenW-1:0]  cur_rem;
  logic [NbW-1:0]   beat_bytes;
  logic             beat_final;   // last beat of the AAD or of the text

  assign ctx_ready_o = (in_state_q == StCtx) && cf_in_ready;
  assign ctx_fire    = ctx_valid_i && ctx_ready_o;
  assign in_ready_o  = (in_state_q == StAad || in_state_q == StText) && aes_in_ready;
  assign in_fire     = in_valid_i && in_ready_o;
  assign cf_in_data  = {ctx_hpow_i, ctx_decrypt_i, ctx_aad_len_i, ctx_text_len_i, ctx_tag_i};

  assign cur_rem    = (in_state_q == StAad) ? aad_rem_q : text_rem_q;
  assign beat_final = cur_rem <= LenW'(LaneBytes);
  assign beat_bytes = beat_final ? NbW'(cur_rem) : NbW'(LaneBytes);

  always_comb begin
    in_state_d   = in_state_q;
    key_d        = key_q;
    key256_d     = key256_q;
    j0_d         = j0_q;
    aad_rem_d    = aad_rem_q;
    text_rem_d   = text_rem_q;
    ctr_d        = ctr_q;
    aes_in_valid = 1'b0;
    aes_in_block = {Lanes{j0_q}};
    aes_in_user  = {KindJ0, 1'b0, NbW'(0), {DataW{1'b0}}};
    unique case (in_state_q)
      StCtx: begin
        if (ctx_fire) begin
          key_d      = ctx_key_i;
          key256_d   = ctx_key256_i;
          j0_d       = ctx_j0_i;
          aad_rem_d  = ctx_aad_len_i;
          text_rem_d = ctx_text_len_i;
          ctr_d      = ctx_j0_i[31:0] + 32'd1;
          in_state_d = StJ0;
        end
      end
      StJ0: begin
        aes_in_valid = 1'b1;
        aes_in_user  = {KindJ0, (aad_rem_q == '0 && text_rem_q == '0), NbW'(0), {DataW{1'b0}}};
        if (aes_in_ready) begin
          in_state_d = (aad_rem_q != '0) ? StAad : (text_rem_q != '0) ? StText : StCtx;
        end
      end
      StAad: begin
        aes_in_valid = in_valid_i;
        aes_in_user  = {KindAad, beat_final && text_rem_q == '0, beat_bytes, in_data_i};
        if (in_fire) begin
          aad_rem_d = aad_rem_q - LenW'(beat_bytes);
          if (beat_final) in_state_d = (text_rem_q != '0) ? StText : StCtx;
        end
      end
      StText: begin
        aes_in_valid = in_valid_i;
        for (int unsigned l = 0; l < Lanes; l++) begin
          aes_in_block[l*128 +: 128] = {j0_q[127:32], ctr_q + 32'(l)};
        end
        aes_in_user = {KindText, beat_final, beat_bytes, in_data_i};
        if (in_fire) begin
          text_rem_d = text_rem_q - LenW'(beat_bytes);
          ctr_d      = ctr_q + 32'(Lanes);
          if (beat_final) in_state_d = StCtx;
        end
      end
      default: in_state_d = StCtx;
    endcase
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      in_state_q <= StCtx;
    end else begin
      in_state_q <= in_state_d;
    end
  end

  // Context registers: datapath, no reset (the key is overwritten by the next context).
  always_ff @(posedge clk_i) begin
    key_q      <= key_d;
    key256_q   <= key256_d;
    j0_q       <= j0_d;
    aad_rem_q  <= aad_rem_d;
    text_rem_q <= text_rem_d;
    ctr_q      <= ctr_d;
  end

  fifo_sync #(.Width(CtxW), .Depth(2)) u_ctx_fifo (
    .clk_i,
    .rst_i,
    .in_data_i   (cf_in_data),
    .in_valid_i  (ctx_fire),
    .in_ready_o  (cf_in_ready),
    .out_data_o  (cf_out_data),
    .out_valid_o (cf_out_valid),
    .out_ready_i (cf_out_ready)
  );

  // ---------------------------------------------------------------------------------------------
  // AES pipeline
  // ---------------------------------------------------------------------------------------------
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
  // Output FSM
  // ---------------------------------------------------------------------------------------------
  logic [1:0]       o_kind;
  logic             o_last;
  logic [NbW-1:0]   o_bytes;
  logic [DataW-1:0] o_data;
  assign {o_kind, o_last, o_bytes, o_data} = aes_out_user;

  logic [DataW-1:0] c_hpow;
  logic             c_decrypt;
  logic [LenW-1:0]  c_aad_len, c_text_len;
  logic [127:0]     c_tag;
  assign {c_hpow, c_decrypt, c_aad_len, c_text_len, c_tag} = cf_out_data;

  out_state_e       out_state_d, out_state_q;
  logic             gh_started_d, gh_started_q;
  logic [127:0]     ej0_d, ej0_q;

  logic [DataW-1:0] byte_mask, in_masked, res_masked;
  logic [CountW-1:0] o_blocks;

  logic             gh_in_valid, gh_in_ready, gh_in_start, gh_in_last;
  logic [DataW-1:0] gh_in_blocks;
  logic [CountW-1:0] gh_in_count;
  logic             gh_out_valid, gh_out_ready;
  logic [127:0]     gh_out_tag, tag;
  logic             unused_gh_user;

  logic             sk_in_valid, sk_in_ready;
  logic [OutW-1:0]  sk_in_data, sk_out_data;

  always_comb begin
    for (int unsigned j = 0; j < LaneBytes; j++) begin
      byte_mask[(j/16)*128 + 127 - 8*(j%16) -: 8] = (32'(j) < 32'(o_bytes)) ? 8'hff : 8'h00;
    end
  end
  assign in_masked  = o_data & byte_mask;
  assign res_masked = (o_data ^ aes_out_block) & byte_mask;
  assign o_blocks   = CountW'((32'(o_bytes) + 32'd15) >> 4);
  assign tag        = gh_out_tag ^ ej0_q;

  always_comb begin
    out_state_d   = out_state_q;
    gh_started_d  = gh_started_q;
    ej0_d         = ej0_q;
    aes_out_ready = 1'b0;
    cf_out_ready  = 1'b0;
    gh_in_valid   = 1'b0;
    gh_in_start   = !gh_started_q;
    gh_in_last    = 1'b0;
    gh_in_blocks  = in_masked;
    gh_in_count   = o_blocks;
    gh_out_ready  = 1'b0;
    sk_in_valid   = 1'b0;
    sk_in_data    = {1'b0, 1'b0, o_bytes, res_masked};
    unique case (out_state_q)
      StData: begin
        if (aes_out_valid) begin
          unique case (o_kind)
            KindJ0: begin
              aes_out_ready = 1'b1;
              ej0_d         = aes_out_block[127:0];
              gh_started_d  = 1'b0;
              if (o_last) out_state_d = StLen;
            end
            KindAad: begin
              gh_in_valid   = 1'b1;
              aes_out_ready = gh_in_ready;
              if (gh_in_ready) begin
                gh_started_d = 1'b1;
                if (o_last) out_state_d = StLen;
              end
            end
            default: begin  // KindText
              gh_in_valid   = sk_in_ready;
              gh_in_blocks  = c_decrypt ? in_masked : res_masked;
              sk_in_valid   = gh_in_ready;
              aes_out_ready = gh_in_ready && sk_in_ready;
              if (gh_in_ready && sk_in_ready) begin
                gh_started_d = 1'b1;
                if (o_last) out_state_d = StLen;
              end
            end
          endcase
        end
      end
      StLen: begin
        gh_in_valid  = 1'b1;
        gh_in_last   = 1'b1;
        gh_in_count  = CountW'(1);
        gh_in_blocks = '0;
        gh_in_blocks[127:0] = {{(61 - LenW){1'b0}}, c_aad_len, 3'b000,
                               {(61 - LenW){1'b0}}, c_text_len, 3'b000};
        if (gh_in_ready) out_state_d = StTag;
      end
      StTag: begin
        sk_in_valid  = gh_out_valid;
        sk_in_data   = {1'b1, c_decrypt && (tag == c_tag), NbW'(16),
                        {(DataW - 128){1'b0}}, tag};
        gh_out_ready = sk_in_ready;
        if (gh_out_valid && sk_in_ready) begin
          cf_out_ready = 1'b1;
          out_state_d  = StData;
        end
      end
      default: out_state_d = StData;
    endcase
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      out_state_q  <= StData;
      gh_started_q <= 1'b0;
    end else begin
      out_state_q  <= out_state_d;
      gh_started_q <= gh_started_d;
    end
  end

  always_ff @(posedge clk_i) begin
    ej0_q <= ej0_d;
  end

  ghash_core #(.Lanes(Lanes), .UserW(1)) u_ghash (
    .clk_i,
    .rst_i,
    .in_valid_i  (gh_in_valid),
    .in_ready_o  (gh_in_ready),
    .in_start_i  (gh_in_start),
    .in_hpow_i   (c_hpow),
    .in_user_i   (1'b0),
    .in_blocks_i (gh_in_blocks),
    .in_count_i  (gh_in_count),
    .in_last_i   (gh_in_last),
    .out_valid_o (gh_out_valid),
    .out_ready_i (gh_out_ready),
    .out_tag_o   (gh_out_tag),
    .out_user_o  (unused_gh_user)
  );

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
  // Assertions (Verilator --assert; Yosys defines SYNTHESIS)
  // ---------------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (!rst_i) begin
      if (in_fire) begin
        assert (in_bytes_i == beat_bytes)
          else $error("aes_gcm_core: in_bytes_i %0d, expected %0d", in_bytes_i, beat_bytes);
      end
      if (out_state_q == StData && aes_out_valid) begin
        assert (cf_out_valid) else $error("aes_gcm_core: AES beat without a context");
      end
      if (ctx_fire) begin
        assert (32'(ctx_aad_len_i) + 32'(ctx_text_len_i) < (32'd1 << LenW))
          else $error("aes_gcm_core: packet longer than LenW allows");
      end
    end
  end
`endif

endmodule
