// SPDX-License-Identifier: Apache-2.0
//
// Synchronous FIFO for a valid/ready stream, storage in an inferred RAM.
//
// Depth is a power of two. The RAM has a synchronous write and an asynchronous read, which
// Xilinx maps to distributed RAM (RAM32M/RAM64M: one LUT level on the read path, read port
// addressed by a register). The head entry is visible on out_data_o while out_valid_o is high
// (first-word fall-through); put a skid_buffer after it when the consumer needs a registered
// output. in_ready_o and out_valid_o are flops, updated from an occupancy counter with two
// LUT levels, so neither handshake has a pointer comparison in its path. Only pointers, the
// counter and the flags are reset.
`default_nettype none

module fifo_sync #(
  parameter int unsigned Width = 32,  // payload bits
  parameter int unsigned Depth = 32,  // entries, a power of two >= 2
  localparam int unsigned PtrW = $clog2(Depth)
) (
  input  logic             clk_i,
  input  logic             rst_i,        // synchronous, active high

  input  logic [Width-1:0] in_data_i,
  input  logic             in_valid_i,
  output logic             in_ready_o,   // not full

  output logic [Width-1:0] out_data_o,
  output logic             out_valid_o,  // not empty
  input  logic             out_ready_i
);

  if (Depth < 2 || (Depth & (Depth - 1)) != 0) begin : gen_bad_depth
    $fatal(1, "fifo_sync: Depth must be a power of two >= 2");
  end
  if (Width < 1) begin : gen_bad_width
    $fatal(1, "fifo_sync: Width must be at least 1");
  end

  logic [Width-1:0] mem_q [Depth];
  logic [PtrW-1:0]  wr_ptr_d, wr_ptr_q;
  logic [PtrW-1:0]  rd_ptr_d, rd_ptr_q;
  logic [PtrW:0]    count_d, count_q;        // entries held, 0..Depth
  logic             not_full_d, not_full_q;
  logic             not_empty_d, not_empty_q;
  logic             push, pop;

  assign in_ready_o  = not_full_q;
  assign out_valid_o = not_empty_q;
  assign out_data_o  = mem_q[rd_ptr_q];
  assign push        = in_valid_i && not_full_q;
  assign pop         = not_empty_q && out_ready_i;

  always_comb begin
    wr_ptr_d    = wr_ptr_q + PtrW'(push);
    rd_ptr_d    = rd_ptr_q + PtrW'(pop);
    count_d     = count_q + (PtrW + 1)'(push) - (PtrW + 1)'(pop);
    // Flags from the current count and this cycle's handshakes, not from count_d.
    not_empty_d = push || (count_q > (PtrW + 1)'(1)) || (count_q == (PtrW + 1)'(1) && !pop);
    not_full_d  = !((count_q == (PtrW + 1)'(Depth) && !pop) ||
                    (count_q == (PtrW + 1)'(Depth - 1) && push && !pop));
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      wr_ptr_q    <= '0;
      rd_ptr_q    <= '0;
      count_q     <= '0;
      not_full_q  <= 1'b1;
      not_empty_q <= 1'b0;
    end else begin
      wr_ptr_q    <= wr_ptr_d;
      rd_ptr_q    <= rd_ptr_d;
      count_q     <= count_d;
      not_full_q  <= not_full_d;
      not_empty_q <= not_empty_d;
    end
  end

  // RAM write port: the one place a clocked block holds an enable, so the RAM is inferred.
  always_ff @(posedge clk_i) begin
    if (push) begin
      mem_q[wr_ptr_q] <= in_data_i;
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Assertions
  // ---------------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  // The flags agree with the counter, and the counter with the pointers.
  always_ff @(posedge clk_i) begin
    if (!rst_i) begin
      assert (count_q <= (PtrW + 1)'(Depth) && not_empty_q == (count_q != '0) &&
              not_full_q == (count_q != (PtrW + 1)'(Depth)) &&
              PtrW'(count_q) == PtrW'(wr_ptr_q - rd_ptr_q))
        else $error("fifo_sync: flags, counter and pointers disagree (%m)");
    end
  end
`endif

endmodule
