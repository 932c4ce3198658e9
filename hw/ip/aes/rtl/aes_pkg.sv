// SPDX-License-Identifier: Apache-2.0
//
// AES package: constants and pure functions shared by the AES encryption pipeline.
//
// Byte order (FIPS-197 section 3.4): a 128-bit block or round key is a flat vector whose byte k
// (in_k, k = 0..15) sits at bits [127-8k -: 8], i.e. byte 0 is the most significant byte, so a
// hex dump of the vector reads exactly like the FIPS-197 test vectors. State entry s[r,c] is
// byte r + 4c (column-major), so column c is bits [127-32c -: 32] and row 0 is its top byte.
// Key-schedule word w_i of a round key (i = 0..3) is bits [127-32i -: 32].
//
// Written for the Yosys 0.23 subset (see /work/shared/hw-tool-notes.md): flat vectors with
// [k*W +: W] slices, no packed multi-dimensional arrays, no `return`, referenced by scoped name
// (aes_pkg::name) rather than imported.
`default_nettype none

package aes_pkg;

  // Number of pipeline round stages: AES-256 has 14 rounds, AES-128 has 10 and its result is
  // carried beside rounds 11..14 in a delay line so both key lengths have the same latency.
  localparam int unsigned NumRounds256 = 14;
  localparam int unsigned NumRounds128 = 10;

  // Multiply by x in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1 (FIPS-197 section 4.2.1).
  function automatic logic [7:0] aes_xtime(logic [7:0] b);
    aes_xtime = {b[6:0], 1'b0} ^ (b[7] ? 8'h1b : 8'h00);
  endfunction

  // Round constant Rcon[i] = x^(i-1) (FIPS-197 section 5.2), for i >= 1. Indices above 10 are
  // never needed by a correct key schedule; the pipeline still computes them for AES-128 beats
  // in stages whose output it discards.
  function automatic logic [7:0] aes_rcon(int unsigned i);
    logic [7:0] r;
    r = 8'h01;
    for (int unsigned k = 1; k < 16; k++) begin
      if (k < i) begin
        r = aes_xtime(r);
      end
    end
    aes_rcon = r;
  endfunction

  // ShiftRows (FIPS-197 section 5.1.2): s'[r,c] = s[r, (c + r) mod 4].
  function automatic logic [127:0] aes_shift_rows(logic [127:0] s);
    logic [127:0] o;
    o = '0;
    for (int unsigned c = 0; c < 4; c++) begin
      for (int unsigned r = 0; r < 4; r++) begin
        o[(15 - (r + 4 * c)) * 8 +: 8] = s[(15 - (r + 4 * ((c + r) % 4))) * 8 +: 8];
      end
    end
    aes_shift_rows = o;
  endfunction

  // MixColumns of one column (FIPS-197 section 5.1.3); row 0 is the top byte.
  function automatic logic [31:0] aes_mix_column(logic [31:0] col);
    logic [7:0] a0, a1, a2, a3;
    a0 = col[31:24];
    a1 = col[23:16];
    a2 = col[15:8];
    a3 = col[7:0];
    aes_mix_column = {aes_xtime(a0 ^ a1) ^ a1 ^ a2 ^ a3,
                      aes_xtime(a1 ^ a2) ^ a2 ^ a3 ^ a0,
                      aes_xtime(a2 ^ a3) ^ a3 ^ a0 ^ a1,
                      aes_xtime(a3 ^ a0) ^ a0 ^ a1 ^ a2};
  endfunction

  // MixColumns of the whole state.
  function automatic logic [127:0] aes_mix_columns(logic [127:0] s);
    logic [127:0] o;
    for (int unsigned c = 0; c < 4; c++) begin
      o[c * 32 +: 32] = aes_mix_column(s[c * 32 +: 32]);
    end
    aes_mix_columns = o;
  endfunction

  // RotWord (FIPS-197 section 5.2): [a0,a1,a2,a3] -> [a1,a2,a3,a0], a0 is the top byte.
  function automatic logic [31:0] aes_rot_word(logic [31:0] w);
    aes_rot_word = {w[23:0], w[31:24]};
  endfunction

endpackage
