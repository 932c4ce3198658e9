// SPDX-License-Identifier: Apache-2.0
//
// Fully unrolled, pipelined AES encryption (FIPS-197), AES-128 and AES-256 chosen per beat,
// Lanes blocks per beat under one key, one beat per cycle, round keys expanded beside the data.
//
// ================================ Interface contract ============================================
// Beat:      in_valid_i/in_ready_o handshake (a beat moves when both are high). A beat carries
//            Lanes independent 128-bit blocks encrypted under ONE key (ECB per lane; CTR/GCM
//            callers pass counter blocks), the key itself, its length and UserW sideband bits.
// Key:       in_key_i[255:0]. Key byte k (FIPS-197 key[k]) is bits [255-8k -: 8]: a hex dump
//            of in_key_i reads like the FIPS-197 key. AES-256 (in_key256_i = 1) uses all 32
//            bytes; AES-128 (in_key256_i = 0) uses the UPPER half, in_key_i[255:128], and
//            ignores in_key_i[127:0]. Keys may change on every beat with no idle cycle.
// Block:     lane l (0 .. Lanes-1) is in_block_i[l*128 +: 128]: lane 0 in the LOW bits. Inside
//            a lane, byte k of the FIPS-197 input (in[k]) is bits [l*128 + 127 - 8k -: 8], i.e.
//            byte 0 is the most significant byte, so each lane's hex dump reads like FIPS-197.
//            out_block_o uses the same lane and byte order for the ciphertext.
// Sideband:  in_user_i is returned unchanged on out_user_o with its beat.
// Order:     beats leave in the order they entered, whatever their key lengths (the pipeline
//            has the same depth for AES-128 and AES-256).
// Latency:   18 cycles, for AES-128 and AES-256 alike: a beat accepted in cycle t is offered
//            on the output in cycle t+18 if the output has not been stalled (P0, stages 0..14,
//            FIFO write, output register).
// Rate:      one beat per cycle sustained (Lanes*128 bits/cycle) while out_ready_i is high.
//            in_ready_o is a register output that does not depend on in_valid_i or,
//            combinationally, on out_ready_i: it drops only when the 32-entry output FIFO
//            could otherwise overflow (at most 32+2 beats accepted but not yet delivered).
// Outputs:   out_valid_o/out_block_o/out_user_o come from a register slice (skid_buffer).
// Reset:     rst_i (synchronous, active high) drops all beats in flight; in_ready_o is low
//            during reset and rises the cycle after. Key material is never readable at any
//            port; see doc/theory_of_operation.md for how key registers are flushed.
// ================================================================================================
//
// Pipeline (details and diagram in doc/theory_of_operation.md):
//   P0      input register (block, key, length, user, valid); the key is loaded as zero on
//           cycles without an input handshake, so key material drains out of the pipeline.
//   stage 0 AddRoundKey(rk_0) on the data; key step 0 (AES-128: rk_1 from the key)
//   stage j round j (j = 1..14) with rk_j read from a register; key step j computes rk_{j+1}
//   stage 10 also computes the AES-128 final round into a 4-deep delay line
//   stage 14 final round; selects the AES-256 result or the delayed AES-128 result
//   fifo    32-entry output FIFO (distributed RAM), credit-controlled; no stall in the pipeline
//   skid    output register slice
`default_nettype none

module aes_enc_pipe #(
  parameter int unsigned Lanes = 1,  // 128-bit blocks per beat, all under the beat's key: 1, 2, 4
  parameter int unsigned UserW = 1,  // sideband bits carried unchanged with each beat, >= 1
  localparam int unsigned DataW = Lanes * 128
) (
  input  logic             clk_i,
  input  logic             rst_i,        // synchronous, active high

  // Plaintext beats in
  input  logic             in_valid_i,
  output logic             in_ready_o,
  input  logic [255:0]     in_key_i,     // AES-128 key in [255:128]; byte 0 at the top
  input  logic             in_key256_i,  // 1: AES-256 (14 rounds), 0: AES-128 (10 rounds)
  input  logic [DataW-1:0] in_block_i,   // lane l at [l*128 +: 128]; byte 0 at the lane's top
  input  logic [UserW-1:0] in_user_i,

  // Ciphertext beats out
  output logic             out_valid_o,
  input  logic             out_ready_i,
  output logic [DataW-1:0] out_block_o,
  output logic [UserW-1:0] out_user_o
);

  if (!(Lanes == 1 || Lanes == 2 || Lanes == 4)) begin : gen_bad_lanes
    $fatal(1, "aes_enc_pipe: Lanes must be 1, 2 or 4");
  end
  if (UserW < 1) begin : gen_bad_userw
    $fatal(1, "aes_enc_pipe: UserW must be at least 1; tie an unused bit to 0");
  end

  // Rounds in the pipeline: AES-256 has 14; AES-128 uses rounds 1..10 and the delay line.
  localparam int unsigned NumRounds = aes_pkg::NumRounds256;
  localparam int unsigned Last128 = aes_pkg::NumRounds128;
  localparam int unsigned DlyStages = NumRounds - Last128;    // AES-128 delay line depth: 4
  // Control register sets: P0 (input) and one after each of stages 0..14.
  localparam int unsigned NumCtl = NumRounds + 2;
  // Output FIFO entries. Must exceed the credit loop (a beat holds a credit for 18 cycles) for
  // full rate; 32 is the natural depth of a distributed-RAM LUT on UltraScale+.
  localparam int unsigned FifoDepth = 32;
  localparam int unsigned CntW = $clog2(FifoDepth + 1);
  localparam int unsigned FifoW = UserW + DataW;

  // -----------------------------------------------------------------------------------------------
  // Credits: in_ready_o is high while the FIFO has room for every beat already accepted.
  // -----------------------------------------------------------------------------------------------
  logic            in_fire;
  logic            fifo_pop;
  logic [CntW-1:0] credit_used_d, credit_used_q;  // beats accepted and not yet out of the FIFO
  logic            in_ready_d, in_ready_q;

  assign in_ready_o = in_ready_q;
  assign in_fire    = in_valid_i && in_ready_q;

  always_comb begin
    credit_used_d = credit_used_q + CntW'(in_fire) - CntW'(fifo_pop);
    // credit_used_d < FifoDepth, written from the current count (two LUT levels, no adder).
    in_ready_d    = !((credit_used_q == CntW'(FifoDepth) && !fifo_pop) ||
                      (credit_used_q == CntW'(FifoDepth - 1) && in_fire && !fifo_pop));
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      credit_used_q <= '0;
      in_ready_q    <= 1'b0;
    end else begin
      credit_used_q <= credit_used_d;
      in_ready_q    <= in_ready_d;
    end
  end

  // -----------------------------------------------------------------------------------------------
  // Control pipeline: valid (reset), key length and sideband (not reset). Index i is register
  // set P_i; P_{j+1} sits after stage j.
  // -----------------------------------------------------------------------------------------------
  logic [NumCtl-1:0]       valid_d, valid_q;
  logic [NumCtl-2:0]       key256_d, key256_q;  // last used by stage 14, so no P15 copy
  logic [NumCtl*UserW-1:0] user_d, user_q;

  always_comb begin
    valid_d  = {valid_q[NumCtl-2:0], in_fire};
    key256_d = {key256_q[NumCtl-3:0], in_key256_i};
    user_d   = {user_q[(NumCtl-1)*UserW-1:0], in_user_i};
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      valid_q <= '0;
    end else begin
      valid_q <= valid_d;
    end
  end

  always_ff @(posedge clk_i) begin
    key256_q <= key256_d;
    user_q   <= user_d;
  end

  // -----------------------------------------------------------------------------------------------
  // P0: input register. The key loads as zero without a handshake so that key material flushes.
  // -----------------------------------------------------------------------------------------------
  logic [DataW-1:0] in_block_q;
  logic [255:0]     in_key_d, in_key_q;

  assign in_key_d = in_fire ? in_key_i : 256'h0;

  always_ff @(posedge clk_i) begin
    in_block_q <= in_block_i;
    in_key_q   <= in_key_d;
  end

  // -----------------------------------------------------------------------------------------------
  // Data and key pipelines. state slice j holds s_j (after round j; s_0 after the whitening).
  // Key window slice j holds {a, b} after stage j (see aes_key_expand): b = rk_{j+1}.
  // -----------------------------------------------------------------------------------------------
  logic [(NumRounds+1)*DataW-1:0] state_d, state_q;
  logic [(NumRounds-1)*128-1:0]   key_a_d, key_a_q;  // window 13's `a` is never read
  logic [NumRounds*128-1:0]       key_b_d, key_b_q;
  logic [DlyStages*DataW-1:0]     dly_d, dly_q;  // AES-128 results after rounds 10..13

  // Stage 0: AddRoundKey(rk_0 = in_key[255:128]) on every lane, and key step 0.
  for (genvar l = 0; l < Lanes; l++) begin : gen_whiten
    assign state_d[l * 128 +: 128] = in_block_q[l * 128 +: 128] ^ in_key_q[255:128];
  end

  aes_key_expand #(
    .Step(0)
  ) u_key_step0 (
    .key256_i(key256_q[0]),
    .a_i     (in_key_q[255:128]),
    .b_i     (in_key_q[127:0]),
    .a_o     (key_a_d[0 +: 128]),
    .b_o     (key_b_d[0 +: 128])
  );

  // Stages 1..14: round j reads s_{j-1} and rk_j = b of key window j-1.
  for (genvar j = 1; j <= NumRounds; j++) begin : gen_stage
    logic [127:0] rk;
    assign rk = key_b_q[(j - 1) * 128 +: 128];

    if (j < NumRounds - 1) begin : gen_key_step
      aes_key_expand #(
        .Step(j)
      ) u_key_step (
        .key256_i(key256_q[j]),
        .a_i     (key_a_q[(j - 1) * 128 +: 128]),
        .b_i     (key_b_q[(j - 1) * 128 +: 128]),
        .a_o     (key_a_d[j * 128 +: 128]),
        .b_o     (key_b_d[j * 128 +: 128])
      );
    end else if (j == NumRounds - 1) begin : gen_key_step_last
      // Produces rk_14 for round 14; nothing reads a window after it.
      logic [127:0] unused_key_a;
      aes_key_expand #(
        .Step(j)
      ) u_key_step (
        .key256_i(key256_q[j]),
        .a_i     (key_a_q[(j - 1) * 128 +: 128]),
        .b_i     (key_b_q[(j - 1) * 128 +: 128]),
        .a_o     (unused_key_a),
        .b_o     (key_b_d[j * 128 +: 128])
      );
    end

    for (genvar l = 0; l < Lanes; l++) begin : gen_lane
      logic [127:0] state_in;
      assign state_in = state_q[((j - 1) * Lanes + l) * 128 +: 128];

      if (j < NumRounds && j != Last128) begin : gen_mid
        logic [127:0] unused_last;  // final-round flavour not needed here
        aes_round u_round (
          .state_i(state_in),
          .rk_i   (rk),
          .full_o (state_d[(j * Lanes + l) * 128 +: 128]),
          .last_o (unused_last)
        );
      end else if (j == Last128) begin : gen_last128
        // Round 10: full round for AES-256, final round of AES-128 into the delay line.
        aes_round u_round (
          .state_i(state_in),
          .rk_i   (rk),
          .full_o (state_d[(j * Lanes + l) * 128 +: 128]),
          .last_o (dly_d[l * 128 +: 128])
        );
      end else begin : gen_last256
        // Round 14: AES-256 final round, or the AES-128 result from the delay line.
        logic [127:0] unused_full;  // no MixColumns in the final round
        logic [127:0] last;
        aes_round u_round (
          .state_i(state_in),
          .rk_i   (rk),
          .full_o (unused_full),
          .last_o (last)
        );
        assign state_d[(j * Lanes + l) * 128 +: 128] =
            key256_q[j] ? last : dly_q[((DlyStages - 1) * Lanes + l) * 128 +: 128];
      end
    end
  end

  // AES-128 delay line shifts once per cycle beside rounds 11..14.
  assign dly_d[DataW +: (DlyStages - 1) * DataW] = dly_q[0 +: (DlyStages - 1) * DataW];

  always_ff @(posedge clk_i) begin
    state_q <= state_d;
    dly_q   <= dly_d;
  end

  // Key wiping: a key window register is zero unless its stage holds a valid beat (the clear is
  // the flop's synchronous reset pin, no LUT), so no round key outlives its beat; the P0 key
  // register loads zero without a handshake (above).
  for (genvar j = 0; j < NumRounds; j++) begin : gen_key_wipe
    always_ff @(posedge clk_i) begin
      if (!valid_q[j]) begin
        key_b_q[j * 128 +: 128] <= '0;
      end else begin
        key_b_q[j * 128 +: 128] <= key_b_d[j * 128 +: 128];
      end
    end
    if (j < NumRounds - 1) begin : gen_a
      always_ff @(posedge clk_i) begin
        if (!valid_q[j]) begin
          key_a_q[j * 128 +: 128] <= '0;
        end else begin
          key_a_q[j * 128 +: 128] <= key_a_d[j * 128 +: 128];
        end
      end
    end
  end

  // -----------------------------------------------------------------------------------------------
  // Output FIFO (never refuses a push: credits) and output register slice.
  // -----------------------------------------------------------------------------------------------
  logic             fifo_in_ready;
  logic [FifoW-1:0] fifo_out_data;
  logic             fifo_out_valid;
  logic             skid_in_ready;

  assign fifo_pop = fifo_out_valid && skid_in_ready;

  fifo_sync #(
    .Width(FifoW),
    .Depth(FifoDepth)
  ) u_out_fifo (
    .clk_i,
    .rst_i,
    .in_data_i  ({user_q[(NumCtl-1)*UserW +: UserW], state_q[NumRounds * DataW +: DataW]}),
    .in_valid_i (valid_q[NumCtl-1]),
    .in_ready_o (fifo_in_ready),
    .out_data_o (fifo_out_data),
    .out_valid_o(fifo_out_valid),
    .out_ready_i(skid_in_ready)
  );

  skid_buffer #(
    .Width(FifoW)
  ) u_out_slice (
    .clk_i,
    .rst_i,
    .in_data_i  (fifo_out_data),
    .in_valid_i (fifo_out_valid),
    .in_ready_o (skid_in_ready),
    .out_data_o ({out_user_o, out_block_o}),
    .out_valid_o,
    .out_ready_i
  );

  // -----------------------------------------------------------------------------------------------
  // Assertions
  // -----------------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  logic             past_in_stall_q;
  logic [255:0]     past_in_key_q;
  logic [DataW-1:0] past_in_block_q;
  logic [UserW-1:0] past_in_user_q;
  logic             past_in_key256_q;

  always_ff @(posedge clk_i) begin
    past_in_stall_q  <= !rst_i && in_valid_i && !in_ready_o;
    past_in_key_q    <= in_key_i;
    past_in_block_q  <= in_block_i;
    past_in_user_q   <= in_user_i;
    past_in_key256_q <= in_key256_i;
  end

  always_ff @(posedge clk_i) begin
    if (!rst_i) begin
      // Source protocol: a beat offered stays offered, unchanged, until accepted.
      if (past_in_stall_q) begin
        assert (in_valid_i && in_key_i == past_in_key_q && in_block_i == past_in_block_q &&
                in_user_i == past_in_user_q && in_key256_i == past_in_key256_q)
          else $error("aes_enc_pipe: input beat changed or withdrawn while stalled (%m)");
      end
      // Credits: the FIFO has room for every beat leaving the pipeline.
      assert (!valid_q[NumCtl-1] || fifo_in_ready)
        else $error("aes_enc_pipe: output FIFO overflow (%m)");
      assert (credit_used_q <= CntW'(FifoDepth))
        else $error("aes_enc_pipe: credit counter above FIFO depth (%m)");
    end
  end
`endif

endmodule
