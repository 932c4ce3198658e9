// SPDX-License-Identifier: Apache-2.0
//
// GHASH package: GF(2^128) arithmetic in GCM bit order, shared by gf128_mul and ghash_core.
//
// Bit order: a 128-bit block holds the GCM byte string with its first byte in bits [127:120],
// so hex dumps compare directly with the published GCM test vectors. In SP 800-38D the block's
// bit 0 (the MSB of byte 0) is the coefficient of x^0, so here vector bit [127-d] holds the
// coefficient of x^d: the polynomial is stored bit-reflected. No bit reversal is needed anywhere:
//   * the plain integer carry-less product C = A (x) B (bit j = weight z^j) of two reflected
//     operands is the reflected 255-bit product: C[254-d] = coefficient of x^d;
//   * multiplying a reflected 128-bit vector by x is a right shift; the bit shifted out at the
//     bottom (v << 127) is the overflow coefficient of x^128, again reflected.
// Reduction modulo P(x) = x^128 + x^7 + x^2 + x + 1 is closed-form (gf128_reduce).
//
// Coding for both tools: flat vectors with [k*W +: W] slices, functions without `return`
// (Yosys 0.23), and the 128x128 product built from 16 carry-less 32x32 limb products so that
// the simulator works on 64-bit words instead of 255-bit vectors (shared/hw-tool-notes.md: about
// 5x faster in Verilator than 128 conditional XORs over a 255-bit vector).
`default_nettype none

package ghash_pkg;

  localparam int unsigned BlockW = 128;             // one GCM block
  localparam int unsigned ProdW  = 2 * BlockW - 1;  // unreduced carry-less product
  localparam int unsigned LimbW  = 32;              // limb width of the schoolbook product
  localparam int unsigned NLimbs = BlockW / LimbW;  // 4 limbs per operand
  localparam int unsigned LimbProdW = 2 * LimbW - 1;  // 63-bit limb product
  localparam int unsigned NDiags = 2 * NLimbs - 1;  // 7 diagonals i+j = 0..6

  // Carry-less 32x32 -> 63-bit product.
  function automatic logic [LimbProdW-1:0] clmul32(input logic [LimbW-1:0] a,
                                                   input logic [LimbW-1:0] b);
    logic [LimbProdW-1:0] r;
    r = '0;
    for (int unsigned i = 0; i < LimbW; i++) begin
      r = r ^ ({LimbProdW{b[i]}} & ({{(LimbW - 1) {1'b0}}, a} << i));
    end
    clmul32 = r;
  endfunction

  // Sums of the limb products along each diagonal: diag s = XOR over i+j=s of a_i (x) b_j,
  // at bit offset s*LimbW of the full product. Seven 63-bit vectors, flat.
  function automatic logic [NDiags*LimbProdW-1:0] clmul128_diags(input logic [BlockW-1:0] a,
                                                                 input logic [BlockW-1:0] b);
    logic [NDiags*LimbProdW-1:0] d;
    d = '0;
    for (int unsigned i = 0; i < NLimbs; i++) begin
      for (int unsigned j = 0; j < NLimbs; j++) begin
        d[(i+j)*LimbProdW +: LimbProdW] = d[(i+j)*LimbProdW +: LimbProdW]
            ^ clmul32(a[i*LimbW +: LimbW], b[j*LimbW +: LimbW]);
      end
    end
    clmul128_diags = d;
  endfunction

  // Overlap-add of the diagonals into the 255-bit product.
  function automatic logic [ProdW-1:0] diags_to_prod(input logic [NDiags*LimbProdW-1:0] d);
    logic [ProdW-1:0] p;
    p = '0;
    for (int unsigned s = 0; s < NDiags; s++) begin
      p[s*LimbW +: LimbProdW] = p[s*LimbW +: LimbProdW] ^ d[s*LimbProdW +: LimbProdW];
    end
    diags_to_prod = p;
  endfunction

  // Unreduced carry-less product of two reflected blocks (255 bits, reflected).
  function automatic logic [ProdW-1:0] clmul128(input logic [BlockW-1:0] a,
                                                input logic [BlockW-1:0] b);
    clmul128 = diags_to_prod(clmul128_diags(a, b));
  endfunction

  // Closed-form reduction of a reflected 255-bit product modulo x^128 + x^7 + x^2 + x + 1.
  //   low  (x^0..x^127)   = p[254:127]
  //   high (x^128..x^254) = {p[126:0], 1'b0} as a reflected block h; h*x^128 = h*(1+x+x^2+x^7).
  // h*x^k is h >> k with overflow h << (128-k); the overflow (degree <= 6 above x^128) is folded
  // once more, which cannot overflow again (degree <= 13).
  function automatic logic [BlockW-1:0] gf128_reduce(input logic [ProdW-1:0] p);
    logic [BlockW-1:0] lo, hi, in_range, ovf, fold;
    lo       = p[ProdW-1 -: BlockW];
    hi       = {p[BlockW-2:0], 1'b0};
    in_range = hi ^ (hi >> 1) ^ (hi >> 2) ^ (hi >> 7);
    ovf      = (hi << 127) ^ (hi << 126) ^ (hi << 121);
    fold     = ovf ^ (ovf >> 1) ^ (ovf >> 2) ^ (ovf >> 7);
    gf128_reduce = lo ^ in_range ^ fold;
  endfunction

  // Full GF(2^128) product in GCM bit order: a * b.
  function automatic logic [BlockW-1:0] gf128_mul(input logic [BlockW-1:0] a,
                                                  input logic [BlockW-1:0] b);
    gf128_mul = gf128_reduce(clmul128(a, b));
  endfunction

endpackage
