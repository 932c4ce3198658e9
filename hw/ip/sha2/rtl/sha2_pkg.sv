// SPDX-License-Identifier: Apache-2.0
//
// SHA-256 constants and round functions shared by the SHA-256 compression core and the HMAC
// engine (FIPS 180-4 §4.1.2, §4.2.2, §5.3.3).
//
// Bit order: vectors are big-endian as in FIPS 180-4 so hex dumps compare directly with the
// published examples. A 256-bit chaining value holds H0 in [255:224] ... H7 in [31:0]; a 512-bit
// message block holds W0 (message bytes 0..3, byte 0 in [511:504]) in [511:480] ... W15 in [31:0].
// Only the Yosys 0.23 subset is used: flat vectors with [k*W +: W] slices, functions without
// `return`, and users refer to items by scoped name (sha2_pkg::Name).
package sha2_pkg;

  localparam int unsigned WordBits   = 32;
  localparam int unsigned StateBits  = 256;
  localparam int unsigned Rounds     = 64;
  // Width of the intermediate form of sha2_add32_pre/_post: group generate of groups 0..9,
  // propagate of groups 1..9, and the two conditional sums.
  localparam int unsigned AddPreBits = 10 + 9 + 2 * 32;

  // FIPS 180-4 §4.2.2: K[t] (first 32 bits of the fractional parts of the cube roots of the first
  // 64 primes) sits at [t*32 +: 32], so K[0] = 32'h428a2f98 is in [31:0].
  localparam logic [Rounds*WordBits-1:0] K = {
    32'hc67178f2, 32'hbef9a3f7, 32'ha4506ceb, 32'h90befffa,
    32'h8cc70208, 32'h84c87814, 32'h78a5636f, 32'h748f82ee,
    32'h682e6ff3, 32'h5b9cca4f, 32'h4ed8aa4a, 32'h391c0cb3,
    32'h34b0bcb5, 32'h2748774c, 32'h1e376c08, 32'h19a4c116,
    32'h106aa070, 32'hf40e3585, 32'hd6990624, 32'hd192e819,
    32'hc76c51a3, 32'hc24b8b70, 32'ha81a664b, 32'ha2bfe8a1,
    32'h92722c85, 32'h81c2c92e, 32'h766a0abb, 32'h650a7354,
    32'h53380d13, 32'h4d2c6dfc, 32'h2e1b2138, 32'h27b70a85,
    32'h14292967, 32'h06ca6351, 32'hd5a79147, 32'hc6e00bf3,
    32'hbf597fc7, 32'hb00327c8, 32'ha831c66d, 32'h983e5152,
    32'h76f988da, 32'h5cb0a9dc, 32'h4a7484aa, 32'h2de92c6f,
    32'h240ca1cc, 32'h0fc19dc6, 32'hefbe4786, 32'he49b69c1,
    32'hc19bf174, 32'h9bdc06a7, 32'h80deb1fe, 32'h72be5d74,
    32'h550c7dc3, 32'h243185be, 32'h12835b01, 32'hd807aa98,
    32'hab1c5ed5, 32'h923f82a4, 32'h59f111f1, 32'h3956c25b,
    32'he9b5dba5, 32'hb5c0fbcf, 32'h71374491, 32'h428a2f98
  };

  // FIPS 180-4 §5.3.3: initial hash value H(0), H0 in [255:224].
  localparam logic [StateBits-1:0] H0 = {
    32'h6a09e667, 32'hbb67ae85, 32'h3c6ef372, 32'ha54ff53a,
    32'h510e527f, 32'h9b05688c, 32'h1f83d9ab, 32'h5be0cd19
  };

  // Rotate right by a constant (1..31): pure wiring.
  function automatic logic [31:0] rotr(input logic [31:0] x, input int unsigned n);
    rotr = (x >> n) | (x << (32 - n));
  endfunction

  // FIPS 180-4 §4.1.2 (4.4)-(4.7).
  function automatic logic [31:0] big_sigma0(input logic [31:0] x);
    big_sigma0 = rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22);
  endfunction

  function automatic logic [31:0] big_sigma1(input logic [31:0] x);
    big_sigma1 = rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25);
  endfunction

  function automatic logic [31:0] small_sigma0(input logic [31:0] x);
    small_sigma0 = rotr(x, 7) ^ rotr(x, 18) ^ (x >> 3);
  endfunction

  function automatic logic [31:0] small_sigma1(input logic [31:0] x);
    small_sigma1 = rotr(x, 17) ^ rotr(x, 19) ^ (x >> 10);
  endfunction

  // FIPS 180-4 §4.1.2 (4.2), (4.3).
  function automatic logic [31:0] ch(input logic [31:0] x, input logic [31:0] y,
                                     input logic [31:0] z);
    ch = (x & y) ^ (~x & z);
  endfunction

  function automatic logic [31:0] maj(input logic [31:0] x, input logic [31:0] y,
                                      input logic [31:0] z);
    maj = (x & y) ^ (x & z) ^ (y & z);
  endfunction

  // Word i (0 = a/H0) of a 256-bit state vector.
  function automatic logic [31:0] state_word(input logic [StateBits-1:0] s, input int unsigned i);
    state_word = s[StateBits-WordBits*(i+1) +: WordBits];
  endfunction

  // Carry-save helpers on 32-bit rows (the value of a row set is the sum of its rows mod 2^32).
  // Every output bit of maj3/cnt*_* depends on one column (bit i of each input) only, so each
  // maps to one 6-input LUT; the caller shifts the higher-weight outputs.
  function automatic logic [31:0] maj3(input logic [31:0] x, input logic [31:0] y,
                                       input logic [31:0] z);
    maj3 = (x & y) | (x & z) | (y & z);
  endfunction

  // 3:2 compressor: {sum row, carry row (already shifted)}.
  function automatic logic [63:0] csa3(input logic [31:0] x, input logic [31:0] y,
                                       input logic [31:0] z);
    csa3 = {x ^ y ^ z, maj3(x, y, z) << 1};
  endfunction

  // K[t] for a round number computed at run time (a 64-entry ROM).
  function automatic logic [31:0] k_word(input logic [5:0] t);
    k_word = K[t*WordBits +: WordBits];
  endfunction

endpackage
