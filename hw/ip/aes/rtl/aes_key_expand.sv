// SPDX-License-Identifier: Apache-2.0
//
// One step of the on-the-fly AES key expansion (FIPS-197 section 5.2), combinational, for a
// key length chosen per beat (AES-128 or AES-256).
//
// The expansion state of a beat is a window of two round keys {a, b} (128 bits each, byte
// order as in aes_pkg: word w_i of a round key is bits [127-32i -: 32]). After pipeline stage j
// (j = 0..13) the window holds:
//   AES-256: a = rk_j,     b = rk_{j+1}
//   AES-128: a = rk_{j+1}, b = rk_{j+1}
// so `b` is always the key of data round j+1, read straight from a register. Step j (j >= 1)
// computes new = rk_{j+1} from the window after stage j-1, using `a` as the XOR base and the
// last word of `b`:
//   new.w0 = a.w0 ^ T(b.w3), new.w1 = a.w1 ^ new.w0, new.w2 = a.w2 ^ new.w1, new.w3 = ...
// where T is SubWord(RotWord(w)) ^ Rcon (AES-128, and AES-256 when j+1 is even) or SubWord(w)
// (AES-256, j+1 odd). Holding a = b for AES-128 lets both lengths use `a` as the XOR base, so
// the only key-length muxes sit after the S-boxes (3 LUT levels), not in front of them.
//
// Step 0 is special: its input is the raw key {key[255:128], key[127:0]}; AES-256 passes it
// through and AES-128 expands rk_1 from the upper half.
`default_nettype none

module aes_key_expand #(
  parameter int unsigned Step = 1  // pipeline stage j this step feeds, 0..13
) (
  input  logic         key256_i,  // 1: AES-256 beat, 0: AES-128 beat
  input  logic [127:0] a_i,       // window after stage j-1 (raw key upper half for Step 0)
  input  logic [127:0] b_i,       // window after stage j-1 (raw key lower half for Step 0)
  output logic [127:0] a_o,       // window after stage j
  output logic [127:0] b_o
);

  if (Step > 13) begin : gen_bad_step
    $fatal(1, "aes_key_expand: Step must be 0..13");
  end

  // Index of the round key produced by this step, and its Rcon per key length.
  localparam int unsigned NewIdx = (Step == 0) ? 1 : Step + 1;
  localparam logic [7:0] Rcon128 = aes_pkg::aes_rcon(NewIdx);
  localparam logic [7:0] Rcon256 = aes_pkg::aes_rcon(NewIdx / 2);
  localparam bit RotIn256 = (NewIdx % 2) == 0;

  logic [31:0]  src_w3;
  logic [31:0]  sub_w3;
  logic [31:0]  t128, t256, t;
  logic [127:0] new_rk;

  // Step 0 expands from the key's upper half only; later steps from the newest round key.
  assign src_w3 = (Step == 0) ? a_i[31:0] : b_i[31:0];

  for (genvar k = 0; k < 4; k++) begin : gen_sbox
    aes_sbox u_sbox (
      .data_i(src_w3[k * 8 +: 8]),
      .data_o(sub_w3[k * 8 +: 8])
    );
  end

  always_comb begin
    // SubWord is bytewise, so SubWord(RotWord(w)) = RotWord(SubWord(w)): one set of S-boxes.
    t128 = aes_pkg::aes_rot_word(sub_w3) ^ {Rcon128, 24'h000000};
    t256 = RotIn256 ? (aes_pkg::aes_rot_word(sub_w3) ^ {Rcon256, 24'h000000}) : sub_w3;
    t    = key256_i ? t256 : t128;

    new_rk[127:96] = a_i[127:96] ^ t;
    new_rk[95:64]  = a_i[95:64] ^ new_rk[127:96];
    new_rk[63:32]  = a_i[63:32] ^ new_rk[95:64];
    new_rk[31:0]   = a_i[31:0] ^ new_rk[63:32];

    if (Step == 0) begin
      a_o = key256_i ? a_i : new_rk;
      b_o = key256_i ? b_i : new_rk;
    end else begin
      a_o = key256_i ? b_i : new_rk;
      b_o = new_rk;
    end
  end

endmodule
