// SPDX-License-Identifier: Apache-2.0
//
// Skid buffer (full register slice) for a valid/ready stream.
//
// Cuts every combinational path between the two sides: out_valid_o/out_data_o come from a
// register and in_ready_o is a register output (it depends on the skid register only, not on
// out_ready_i). Full throughput: one beat per cycle in steady state. Two entries of storage:
// the output register and the skid register, which catches the beat accepted in the cycle the
// consumer stalls. Only valid bits are reset; data registers are not (datapath). The skid register
// is zeroed when its beat moves on, so a parked beat does not stay in it (secrets in the data).
`default_nettype none

module skid_buffer #(
  parameter int unsigned Width = 32  // payload bits
) (
  input  logic             clk_i,
  input  logic             rst_i,        // synchronous, active high

  input  logic [Width-1:0] in_data_i,
  input  logic             in_valid_i,
  output logic             in_ready_o,

  output logic [Width-1:0] out_data_o,
  output logic             out_valid_o,
  input  logic             out_ready_i
);

  if (Width < 1) begin : gen_bad_width
    $fatal(1, "skid_buffer: Width must be at least 1");
  end

  logic             out_valid_d, out_valid_q;
  logic [Width-1:0] out_data_d, out_data_q;
  logic             skid_valid_d, skid_valid_q;
  logic [Width-1:0] skid_data_d, skid_data_q;

  assign in_ready_o  = !skid_valid_q;
  assign out_valid_o = out_valid_q;
  assign out_data_o  = out_data_q;

  always_comb begin
    out_valid_d  = out_valid_q;
    out_data_d   = out_data_q;
    skid_valid_d = skid_valid_q;
    skid_data_d  = skid_data_q;
    if (!out_valid_q || out_ready_i) begin
      // Output register empties this cycle: refill it, from the skid register first.
      if (skid_valid_q) begin
        out_valid_d  = 1'b1;
        out_data_d   = skid_data_q;
        skid_valid_d = 1'b0;
        skid_data_d  = '0;  // nothing lingers in the skid register (key wiping upstream)
      end else begin
        out_valid_d = in_valid_i;
        out_data_d  = in_data_i;
      end
    end else if (in_valid_i && !skid_valid_q) begin
      // Output stalled: park the beat accepted this cycle.
      skid_valid_d = 1'b1;
      skid_data_d  = in_data_i;
    end
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      out_valid_q  <= 1'b0;
      skid_valid_q <= 1'b0;
    end else begin
      out_valid_q  <= out_valid_d;
      skid_valid_q <= skid_valid_d;
    end
  end

  always_ff @(posedge clk_i) begin
    out_data_q  <= out_data_d;
    skid_data_q <= skid_data_d;
  end

  // ---------------------------------------------------------------------------------------------
  // Assertions
  // ---------------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  // A beat offered at the output stays, unchanged, until taken.
  logic             past_stall_q;
  logic [Width-1:0] past_data_q;
  always_ff @(posedge clk_i) begin
    past_stall_q <= !rst_i && out_valid_o && !out_ready_i;
    past_data_q  <= out_data_o;
  end
  always_ff @(posedge clk_i) begin
    if (!rst_i && past_stall_q) begin
      assert (out_valid_o && out_data_o == past_data_q)
        else $error("skid_buffer: output changed while stalled (%m)");
    end
  end
`endif

endmodule
