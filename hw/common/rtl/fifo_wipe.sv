// SPDX-License-Identifier: Apache-2.0
//
// Small synchronous FIFO for secrets (keys, hash-key powers, tag masks): storage in flops, shifted
// towards the head, so that an entry is zero as soon as it is popped and every unused entry is
// zero. Use it where fifo_sync's RAM would keep a popped key until it happens to be overwritten.
//
// Entry 0 is the head and drives out_data_o directly from a flop (no read multiplexer). A pop
// shifts every entry one place towards the head and shifts zero into the last one; a push writes
// the first free entry (after the shift when both happen). Each flop therefore has a 2:1 data
// multiplexer (input or neighbour) and an enable: one LUT level, whatever the depth. Reset and
// wipe_i zero every entry and empty the FIFO. Cost: Depth x Width flops (against distributed RAM
// for fifo_sync): keep Depth small.
//
// in_ready_o and out_valid_o are flops (set from the occupancy and this cycle's handshakes, as in
// fifo_sync); the occupancy is one-hot (Depth + 1 flops), so a pop reaches the storage flops
// through two LUT levels at most. out_data_o is zero while the FIFO is empty.
`default_nettype none

module fifo_wipe #(
  parameter int unsigned Width = 32,  // payload bits
  parameter int unsigned Depth = 4    // entries, >= 2
) (
  input  logic             clk_i,
  input  logic             rst_i,        // synchronous, active high: empties and zeroes
  input  logic             wipe_i,       // same as rst_i for the storage (drops the contents)

  input  logic [Width-1:0] in_data_i,
  input  logic             in_valid_i,
  output logic             in_ready_o,   // not full

  output logic [Width-1:0] out_data_o,   // head entry; zero when empty
  output logic             out_valid_o,  // not empty
  input  logic             out_ready_i
);

  if (Depth < 2) begin : gen_bad_depth
    $fatal(1, "fifo_wipe: Depth must be at least 2");
  end
  if (Width < 1) begin : gen_bad_width
    $fatal(1, "fifo_wipe: Width must be at least 1");
  end

  // Occupancy as a one-hot vector: occ_q[k] = the FIFO holds k entries. Every decode below is
  // then a few flops wide, so the write select and the flags are one LUT after push/pop and
  // the entry update (select + 2:1 data multiplexer) fits in one more: no count comparison or
  // adder sits between a pop and the storage flops.
  logic [Depth*Width-1:0] mem_d, mem_q;
  logic [Depth:0]         occ_d, occ_q;
  logic                   not_full_q, not_empty_q, not_full_d, not_empty_d;
  logic                   push, pop, clear;
  logic [Depth-1:0]       wsel;              // entry written by a push (after a shift)

  assign in_ready_o  = not_full_q;
  assign out_valid_o = not_empty_q;
  assign out_data_o  = mem_q[0 +: Width];
  assign push        = in_valid_i && not_full_q;
  assign pop         = not_empty_q && out_ready_i;
  assign clear       = rst_i || wipe_i;

  always_comb begin
    for (int unsigned i = 0; i < Depth; i++) begin
      // A push writes entry count (count - 1 when a pop shifts in the same cycle).
      wsel[i] = push && (pop ? occ_q[i+1] : occ_q[i]);
      if (wsel[i]) begin
        mem_d[i*Width +: Width] = in_data_i;
      end else if (pop) begin
        mem_d[i*Width +: Width] = (i + 1 < Depth) ? mem_q[(i+1)*Width +: Width] : '0;
      end else begin
        mem_d[i*Width +: Width] = mem_q[i*Width +: Width];
      end
    end
    if (push && !pop) begin
      occ_d = {occ_q[Depth-1:0], 1'b0};
    end else if (pop && !push) begin
      occ_d = {1'b0, occ_q[Depth:1]};
    end else begin
      occ_d = occ_q;
    end
    not_empty_d = push || !(occ_q[0] || (occ_q[1] && pop));
    not_full_d  = !((occ_q[Depth] && !pop) || (occ_q[Depth-1] && push && !pop));
  end

  always_ff @(posedge clk_i) begin
    if (clear) begin
      occ_q       <= (Depth + 1)'(1);
      not_full_q  <= 1'b1;
      not_empty_q <= 1'b0;
    end else begin
      occ_q       <= occ_d;
      not_full_q  <= not_full_d;
      not_empty_q <= not_empty_d;
    end
  end

  for (genvar i = 0; i < Depth; i++) begin : gen_entry
    always_ff @(posedge clk_i) begin
      if (clear) begin
        mem_q[i*Width +: Width] <= '0;
      end else begin
        mem_q[i*Width +: Width] <= mem_d[i*Width +: Width];
      end
    end
  end

`ifndef SYNTHESIS
  // Flags agree with the occupancy, which is one-hot; entries past the count are zero (nothing
  // popped lingers). Entry i is free iff the count is at most i.
  logic stale, free;
  always_comb begin
    stale = 1'b0;
    free  = 1'b0;
    for (int unsigned i = 0; i < Depth; i++) begin
      free = free || occ_q[i];
      if (free && mem_q[i*Width +: Width] != '0) stale = 1'b1;
    end
  end
  always_ff @(posedge clk_i) begin
    if (!clear) begin
      assert ($onehot(occ_q) && not_empty_q == !occ_q[0] && not_full_q == !occ_q[Depth])
        else $error("fifo_wipe: flags and occupancy disagree (%m)");
      assert (!stale) else $error("fifo_wipe: a free entry is not zero (%m)");
    end
  end
`endif

endmodule

`default_nettype wire
