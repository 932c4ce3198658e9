// SPDX-License-Identifier: Apache-2.0
//
// 32-bit carry-propagate adder (sum mod 2^32) built for 6-input LUTs without carry chains, split
// in two halves so a pipeline register can sit between them:
//
//   sha2_add32_pre  (1 LUT level): per 3-bit group (6 inputs) the group generate/propagate and
//                   the group's sum bits for a carry-in of 0 and of 1 (conditional sum)
//   sha2_add32_post (3 LUT levels): spans of up to 3 groups (5 inputs each), every group carry-in
//                   from the spans (at most 5 inputs each), then sum = carry-in ? sum1 : sum0
//                   (group 10 folds its last prefix step into the select)
//
// Back to back that is four LUT levels in the generic Yosys/ABC 6-LUT mapping, where a
// behavioural `x + y` takes six. The prefix is written out so that each carry is one small
// function of the level below; a generic prefix leaves ABC an AIG it maps two levels deeper.
// Groups 0..9 are bits 3k..3k+2, group 10 is bits 30..31. The intermediate form is
// sha2_pkg::AddPreBits wide: {group generate[9:0], group propagate[9:1], sum1, sum0} (there is
// no carry-in, so group 0's propagate is not needed, and no carry-out, so group 10's generate
// and propagate are not either).
`default_nettype none

module sha2_add32_pre (
  input  logic [31:0]                     x_i,
  input  logic [31:0]                     y_i,
  output logic [sha2_pkg::AddPreBits-1:0] pre_o
);

  localparam int unsigned NumGroups = 11;

  logic [NumGroups-1:0] gg, gp;   // group generate / propagate
  logic [31:0]          s0, s1;   // group-local sums for carry-in 0 / 1

  always_comb begin
    logic [31:0] g, p;
    logic        c0, c1;
    g = x_i & y_i;
    p = x_i ^ y_i;
    for (int unsigned k = 0; k < NumGroups; k++) begin
      c0    = 1'b0;
      c1    = 1'b1;
      gg[k] = 1'b0;
      gp[k] = 1'b1;
      for (int unsigned j = 3 * k; j < 3 * k + 3 && j < 32; j++) begin
        s0[j] = p[j] ^ c0;
        s1[j] = p[j] ^ c1;
        c0    = g[j] | (p[j] & c0);
        c1    = g[j] | (p[j] & c1);
        gg[k] = g[j] | (p[j] & gg[k]);
        gp[k] = gp[k] & p[j];
      end
    end
  end

  assign pre_o = {gg[9:0], gp[9:1], s1, s0};

endmodule
