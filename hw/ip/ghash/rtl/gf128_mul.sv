// SPDX-License-Identifier: Apache-2.0
//
// GF(2^128) multiplier in GCM bit order, fixed latency of `Stages` cycles, one product per cycle.
//
// Bit order: as the GCM hex dumps (first byte of the block in bits [127:120]); p_o = a_i * b_i in
// the field of SP 800-38D (R = 0xE1 || 0^120), checked against Algorithm 1 of SP 800-38D.
// Datapath (ghash_pkg): 16 carry-less 32x32 limb products, overlap-added into the 255-bit
// reflected product, then the closed-form reduction by x^128 + x^7 + x^2 + x + 1.
//   Stages = 1: product and reduction in one cycle, output registered.
//   Stages = 2: the unreduced 255-bit product is registered; the reduction is the second stage.
// No back-pressure: valid_o follows valid_i `Stages` cycles later. Typical uses: computing the
// powers H^2..H^n of an SA's hash key on the card, or any one-multiply-per-cycle datapath.
`default_nettype none

module gf128_mul #(
  parameter int unsigned Stages = 1   // pipeline registers: 1 (product+reduce) or 2 (product | reduce)
) (
  input  logic         clk_i,
  input  logic         rst_i,         // synchronous, active high; clears the valid pipeline only

  input  logic         valid_i,
  input  logic [127:0] a_i,
  input  logic [127:0] b_i,

  output logic         valid_o,
  output logic [127:0] p_o            // a_i * b_i, valid with valid_o
);

  if (Stages != 1 && Stages != 2) begin : gen_bad_stages
    $error("gf128_mul: Stages must be 1 or 2 (instance %m)");
  end

  logic [127:0] p_q;
  logic         valid_q;

  if (Stages == 1) begin : gen_one_stage
    logic [127:0] p_d;
    always_comb begin
      p_d = ghash_pkg::gf128_mul(a_i, b_i);
    end
    always_ff @(posedge clk_i) begin
      if (rst_i) begin
        valid_q <= 1'b0;
      end else begin
        valid_q <= valid_i;
      end
      p_q <= p_d;
    end
  end else begin : gen_two_stages
    logic [ghash_pkg::ProdW-1:0] prod_d, prod_q;
    logic                        valid_q1;
    logic [127:0]                p_d;
    always_comb begin
      prod_d = ghash_pkg::clmul128(a_i, b_i);
      p_d    = ghash_pkg::gf128_reduce(prod_q);
    end
    always_ff @(posedge clk_i) begin
      if (rst_i) begin
        valid_q1 <= 1'b0;
        valid_q  <= 1'b0;
      end else begin
        valid_q1 <= valid_i;
        valid_q  <= valid_q1;
      end
      prod_q <= prod_d;
      p_q    <= p_d;
    end
  end

  assign valid_o = valid_q;
  assign p_o     = p_q;

endmodule

`default_nettype wire
