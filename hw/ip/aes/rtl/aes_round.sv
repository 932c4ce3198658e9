// SPDX-License-Identifier: Apache-2.0
//
// One AES encryption round on one 128-bit block (FIPS-197 section 5.1), combinational.
//
// Both round flavours share the 16 S-boxes:
//   full_o = AddRoundKey(MixColumns(ShiftRows(SubBytes(state_i))), rk_i)   rounds 1..Nr-1
//   last_o = AddRoundKey(ShiftRows(SubBytes(state_i)), rk_i)               round Nr
// A caller that needs only one of them leaves the other unconnected; synthesis removes it.
// Depth: S-box (2 LUT levels) + MixColumns/AddRoundKey XOR (1-2 levels).
// Byte order as in aes_pkg: byte 0 of the block is bits [127:120].
`default_nettype none

module aes_round (
  input  logic [127:0] state_i,  // state after the previous AddRoundKey
  input  logic [127:0] rk_i,     // this round's key
  output logic [127:0] full_o,   // full round result
  output logic [127:0] last_o    // final round result (no MixColumns)
);

  logic [127:0] sub_bytes;
  logic [127:0] shifted;

  for (genvar b = 0; b < 16; b++) begin : gen_sbox
    aes_sbox u_sbox (
      .data_i(state_i[b * 8 +: 8]),
      .data_o(sub_bytes[b * 8 +: 8])
    );
  end

  always_comb begin
    shifted = aes_pkg::aes_shift_rows(sub_bytes);
    full_o  = aes_pkg::aes_mix_columns(shifted) ^ rk_i;
    last_o  = shifted ^ rk_i;
  end

endmodule
