// SPDX-License-Identifier: Apache-2.0
//
// Second half of the 32-bit LUT adder: see sha2_add32_pre.sv.
`default_nettype none

module sha2_add32_post (
  input  logic [sha2_pkg::AddPreBits-1:0] pre_i,
  output logic [31:0]                     s_o
);

  localparam int unsigned NumGroups = 11;

  logic [NumGroups-2:0] gg;       // group generate, groups 0..9
  logic [NumGroups-2:1] gp;       // group propagate, groups 1..9
  logic [31:0]          s0, s1;   // group-local sums for carry-in 0 / 1
  logic [NumGroups-1:0] cin;      // carry into group k

  assign {gg, gp, s1, s0} = pre_i;

  always_comb begin
    logic c3, gb1, pb1, gb2, pb2, g43, p43, g76, p76, g98, p98;
    // Level 2: spans of groups.
    cin[0] = 1'b0;
    cin[1] = gg[0];
    cin[2] = gg[1] | (gp[1] & gg[0]);
    c3     = gg[2] | (gp[2] & gg[1]) | (gp[2] & gp[1] & gg[0]);
    g43    = gg[4] | (gp[4] & gg[3]);
    p43    = gp[4] & gp[3];
    gb1    = gg[5] | (gp[5] & gg[4]) | (gp[5] & gp[4] & gg[3]);
    pb1    = gp[5] & gp[4] & gp[3];
    g76    = gg[7] | (gp[7] & gg[6]);
    p76    = gp[7] & gp[6];
    gb2    = gg[8] | (gp[8] & gg[7]) | (gp[8] & gp[7] & gg[6]);
    pb2    = gp[8] & gp[7] & gp[6];
    g98    = gg[9] | (gp[9] & gg[8]);
    p98    = gp[9] & gp[8];
    // Level 3: carries.
    cin[3] = c3;
    cin[4] = gg[3] | (gp[3] & c3);
    cin[5] = g43 | (p43 & c3);
    cin[6] = gb1 | (pb1 & c3);
    cin[7] = gg[6] | (gp[6] & gb1) | (gp[6] & pb1 & c3);
    cin[8] = g76 | (p76 & gb1) | (p76 & pb1 & c3);
    cin[9] = gb2 | (pb2 & gb1) | (pb2 & pb1 & c3);
    // Level 4 together with the sum select of group 10.
    cin[10] = g98 | (p98 & cin[8]);
  end

  always_comb begin
    for (int unsigned j = 0; j < 32; j++) begin
      s_o[j] = cin[j / 3] ? s1[j] : s0[j];
    end
  end

endmodule
