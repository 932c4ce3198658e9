// SPDX-License-Identifier: Apache-2.0
//
// Byte-order converter between the card's packet streams (AXI order: byte k at [8k +: 8]) and the
// aes_gcm_core lane layout (byte j of lane l at [l*128 + 127 - 8j -: 8], i.e. byte 0 at the top of
// lane 0). The map reverses the bytes inside each 16-byte lane; it is its own inverse, so one module
// serves both directions (esp_inbound uses it on the core's input and on its output).
`default_nettype none

module esp_in_conv #(
  parameter int unsigned Lanes = 4  // 128-bit lanes: 1, 2 or 4
) (
  input  logic [Lanes*128-1:0] in_i,
  output logic [Lanes*128-1:0] out_o
);

  for (genvar l = 0; l < Lanes; l++) begin : gen_lane
    for (genvar j = 0; j < 16; j++) begin : gen_byte
      assign out_o[l*128 + 127 - 8*j -: 8] = in_i[8*(l*16 + j) +: 8];
    end
  end

endmodule
