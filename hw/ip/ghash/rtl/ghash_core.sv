// SPDX-License-Identifier: Apache-2.0
//
// GHASH for the AES-GCM engine: folds up to `Lanes` 128-bit blocks per cycle into the GHASH
// value of a packet, using the precomputed powers H^1..H^Lanes of the packet's hash key.
//
// Bit order: block bit 0 of SP 800-38D (the MSB of the block's first byte) is bit [127] here,
// i.e. a block's first byte is in bits [127:120], so hex dumps compare directly with the GCM
// test vectors. Internally the polynomial is stored bit-reflected (see ghash_pkg).
//
// Interface contract
//   Input beats (valid/ready; a beat moves when in_valid_i && in_ready_o):
//     in_start_i   first beat of a packet. in_hpow_i and in_user_i are sampled on this beat only
//                  (the packet's context); in_blocks_i/in_count_i of the start beat are also used.
//     in_hpow_i    H^(k+1) in bits [k*128 +: 128], k = 0..Lanes-1 (H^1 = H = E_K(0^128) at [127:0]).
//                  Computed per SA when it is installed; ghash_core never computes powers.
//     in_blocks_i  block k of the beat in bits [k*128 +: 128]; block 0 comes first in GHASH order.
//     in_count_i   number of valid blocks in this beat, 1..Lanes (blocks k >= count are ignored).
//                  Any beat may be short, not only the last, so AAD and text need not share beats.
//     in_last_i    last beat of the packet. A packet may be a single beat (start and last).
//     in_user_i    packet id, returned with the tag.
//   The GHASH input is exactly the block sequence the user sends: the zero-padded AAD blocks,
//   the zero-padded ciphertext blocks, then the length block len(A)||len(C) (64-bit bit counts,
//   big-endian) built by the user. Zero-length AAD or text simply contributes no blocks; every
//   packet therefore has at least one block (the length block).
//   Rules (checked by assertions): start is set on the first beat after reset or after a last
//   beat and on no other beat; 1 <= count <= Lanes. Payload stays stable while valid && !ready.
//   in_ready_o and out_valid_o are flops (no combinational path from any input).
//   Output (valid/ready): out_tag_o = GHASH(H, A, C) (before the xor with E_K(J0)), out_user_o
//   the packet's in_user_i. Tags leave in packet order.
//
// Datapath (details and measurements in ../doc/theory_of_operation.md). For a beat of c blocks
//   X_new = (X ^ B0)*H^c ^ B1*H^(c-1) ^ ... ^ B(c-1)*H
//         = X*H^c ^ S,   S = B0*H^c ^ ... ^ B(c-1)*H,
// and X = 0 before the first beat. S does not depend on X, so it is computed in a feed-forward
// pipeline (Lanes carry-less products, XORed unreduced, one shared reduction), and the only
// feedback loop is one multiply X*Hl ^ S. Hl = H^c, or 0 on a start beat, which clears X without
// a mux in the loop. Stages:
//   a  (accept)  operand select: lane k gets (B_k, H^(c-k)) or (B_k, 0); Hl; context capture
//   b1, b        lane products and reduction: one stage (MulStages=1) or two (MulStages=2)
//   x  (loop)    X <= X*Hl ^ S on every valid beat
//   fifo         the cycle after a last beat, X (the tag) is written to the tag FIFO
// One beat is accepted per cycle whatever the packet boundaries: the next packet's start beat
// may follow the previous last beat directly (zero idle cycles), because each beat carries its
// own operands down the pipeline. Tag FIFO credits: in_ready_o is low only when every FIFO
// entry is taken by a tag in flight or waiting, i.e. under output back-pressure.
// Key wiping: no H power, H-derived product, accumulator or tag stays in a register once its
// packet no longer needs it (zero outside their beat / after the copy; the tag FIFO is in flops
// and zeroes a popped entry). See ../doc/theory_of_operation.md section 7.
`default_nettype none

module ghash_core #(
  parameter int unsigned Lanes        = 4,  // blocks per beat: 1, 2 or 4
  parameter int unsigned MulStages    = 2,  // lane-product pipeline: 2 (sum | reduce, <= 5 LUT
                                            // levels) or 1 (one stage: 6 levels at Lanes=4)
  parameter int unsigned UserW        = 8,  // packet id width (returned with the tag)
  parameter int unsigned TagFifoDepth = 8,  // output tag FIFO entries; power of 2, >= 2
  localparam int unsigned CountW = $clog2(Lanes + 1),
  localparam int unsigned DataW  = Lanes * 128
) (
  input  logic              clk_i,
  input  logic              rst_i,          // synchronous, active high

  // Beats in: {start (with H powers and id), blocks, count, last}
  input  logic              in_valid_i,
  output logic              in_ready_o,
  input  logic              in_start_i,
  input  logic [DataW-1:0]  in_hpow_i,      // H^(k+1) at [k*128 +: 128]; start beat only
  input  logic [UserW-1:0]  in_user_i,      // packet id; start beat only
  input  logic [DataW-1:0]  in_blocks_i,    // block k at [k*128 +: 128]
  input  logic [CountW-1:0] in_count_i,     // 1..Lanes valid blocks
  input  logic              in_last_i,

  // Tag out: GHASH(H, A, C)
  output logic              out_valid_o,
  input  logic              out_ready_i,
  output logic [127:0]      out_tag_o,
  output logic [UserW-1:0]  out_user_o
);

  localparam int unsigned BW      = ghash_pkg::BlockW;
  localparam int unsigned DiagW   = ghash_pkg::NDiags * ghash_pkg::LimbProdW;
  localparam int unsigned PtrW    = (TagFifoDepth > 1) ? $clog2(TagFifoDepth) : 1;
  localparam int unsigned CreditW = $clog2(TagFifoDepth + 1);
  localparam int unsigned EntryW  = BW + UserW;

  if (Lanes != 1 && Lanes != 2 && Lanes != 4) begin : gen_bad_lanes
    $error("ghash_core: Lanes must be 1, 2 or 4 (instance %m)");
  end
  if (MulStages != 1 && MulStages != 2) begin : gen_bad_stages
    $error("ghash_core: MulStages must be 1 or 2 (instance %m)");
  end
  if (TagFifoDepth < 2 || (TagFifoDepth & (TagFifoDepth - 1)) != 0) begin : gen_bad_fifo
    $error("ghash_core: TagFifoDepth must be a power of 2 >= 2 (instance %m)");
  end
  if (UserW < 1) begin : gen_bad_user
    $error("ghash_core: UserW must be >= 1 (instance %m)");
  end

  // ---------------------------------------------------------------------------------------------
  // Stage a: accept and operand select
  // ---------------------------------------------------------------------------------------------
  logic              accept;
  logic [DataW-1:0]  hctx_d, hctx_q;        // H powers of the current packet
  logic [UserW-1:0]  uctx_d, uctx_q;        // id of the current packet
  logic [DataW-1:0]  hsrc;                  // H powers for this beat
  logic [DataW-1:0]  opb_d, opb_q;          // per-lane multiplier operand H^(c-k) or 0
  logic [DataW-1:0]  opa_q;                 // per-lane block
  logic [BW-1:0]     hl_d, hl_a_q;          // loop operand: H^c, or 0 on a start beat
  logic              v_a_q, last_a_q;
  logic [UserW-1:0]  user_a_q;

  assign accept = in_valid_i && in_ready_o;

  always_comb begin
    hsrc   = in_start_i ? in_hpow_i : hctx_q;
    // Key wiping: the packet's H powers are dropped with its last beat.
    hctx_d = in_last_i ? '0 : hsrc;
    uctx_d = in_start_i ? in_user_i : uctx_q;
    opb_d  = '0;
    hl_d   = '0;
    for (int unsigned c = 1; c <= Lanes; c++) begin
      if (in_count_i == CountW'(c)) begin
        for (int unsigned k = 0; k < c; k++) begin
          opb_d[k*BW +: BW] = hsrc[(c-k-1)*BW +: BW];
        end
        if (!in_start_i) begin
          hl_d = hsrc[(c-1)*BW +: BW];
        end
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      v_a_q  <= 1'b0;
      hctx_q <= '0;
    end else begin
      v_a_q <= accept;
      if (accept) begin
        hctx_q <= hctx_d;
      end
    end
    if (accept) begin
      uctx_q   <= uctx_d;
      opa_q    <= in_blocks_i;
      last_a_q <= in_last_i;
      user_a_q <= uctx_d;
    end
    // Key wiping: H-power operands exist only in the cycle after their beat (FDRE reset pin).
    if (!accept) begin
      opb_q  <= '0;
      hl_a_q <= '0;
    end else begin
      opb_q  <= opb_d;
      hl_a_q <= hl_d;
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Stage b: S = sum over lanes of B_k * H^(c-k); XOR unreduced, reduce once
  // ---------------------------------------------------------------------------------------------
  logic [DiagW-1:0]        diag_sum;
  logic [BW-1:0]           s_b_q, hl_b_q;
  logic                    v_b_q, last_b_q;
  logic [UserW-1:0]        user_b_q;

  always_comb begin
    diag_sum = '0;
    for (int unsigned k = 0; k < Lanes; k++) begin
      diag_sum = diag_sum ^ ghash_pkg::clmul128_diags(opa_q[k*BW +: BW], opb_q[k*BW +: BW]);
    end
  end

  if (MulStages == 1) begin : gen_lane_one_stage
    always_ff @(posedge clk_i) begin
      if (rst_i) begin
        v_b_q <= 1'b0;
      end else begin
        v_b_q <= v_a_q;
      end
      if (v_a_q) begin
        last_b_q <= last_a_q;
        user_b_q <= user_a_q;
      end
      // Key wiping: products of H powers are zero outside their beat's cycle.
      if (!v_a_q) begin
        s_b_q  <= '0;
        hl_b_q <= '0;
      end else begin
        s_b_q  <= ghash_pkg::gf128_reduce(ghash_pkg::diags_to_prod(diag_sum));
        hl_b_q <= hl_a_q;
      end
    end
  end else begin : gen_lane_two_stages
    logic [ghash_pkg::ProdW-1:0] prod_b1_q;
    logic [BW-1:0]               hl_b1_q;
    logic                        v_b1_q, last_b1_q;
    logic [UserW-1:0]            user_b1_q;
    always_ff @(posedge clk_i) begin
      if (rst_i) begin
        v_b1_q <= 1'b0;
        v_b_q  <= 1'b0;
      end else begin
        v_b1_q <= v_a_q;
        v_b_q  <= v_b1_q;
      end
      if (v_a_q) begin
        last_b1_q <= last_a_q;
        user_b1_q <= user_a_q;
      end
      if (v_b1_q) begin
        last_b_q <= last_b1_q;
        user_b_q <= user_b1_q;
      end
      // Key wiping: products of H powers are zero outside their beat's cycle.
      if (!v_a_q) begin
        prod_b1_q <= '0;
        hl_b1_q   <= '0;
      end else begin
        prod_b1_q <= ghash_pkg::diags_to_prod(diag_sum);
        hl_b1_q   <= hl_a_q;
      end
      if (!v_b1_q) begin
        s_b_q  <= '0;
        hl_b_q <= '0;
      end else begin
        s_b_q  <= ghash_pkg::gf128_reduce(prod_b1_q);
        hl_b_q <= hl_b1_q;
      end
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Stage x: the feedback loop X <= X*Hl ^ S (Hl = 0 starts a packet)
  // ---------------------------------------------------------------------------------------------
  logic [BW-1:0]    x_d, x_q;
  logic             done_q;                 // x_q holds a finished tag
  logic [UserW-1:0] user_x_q;

  always_comb begin
    x_d = ghash_pkg::gf128_mul(x_q, hl_b_q) ^ s_b_q;
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      done_q <= 1'b0;
    end else begin
      done_q <= v_b_q && last_b_q;
    end
    if (v_b_q) begin
      user_x_q <= user_b_q;
    end
    // The accumulator is cleared the cycle after it is copied into the tag FIFO (key wiping).
    if (rst_i) begin
      x_q <= '0;
    end else if (v_b_q) begin
      x_q <= x_d;
    end else if (done_q) begin
      x_q <= '0;
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Tag FIFO and credits
  // ---------------------------------------------------------------------------------------------
  logic [TagFifoDepth*EntryW-1:0] fifo_mem_q;  // flops: a popped tag is zeroed (key wiping)
  logic [PtrW-1:0]    wr_ptr_d, wr_ptr_q, rd_ptr_d, rd_ptr_q;
  logic [CreditW-1:0] fill_d, fill_q;       // entries written, not yet read
  logic [CreditW-1:0] credit_d, credit_q;   // entries neither written, read nor promised
  logic               in_ready_d, in_ready_q;      // credit_q != 0, as a flop
  logic               out_valid_d, out_valid_q;    // fill_q != 0, as a flop
  logic               pop, take;

  assign pop  = out_valid_q && out_ready_i;
  assign take = accept && in_last_i;        // a packet's last beat promises a FIFO entry

  always_comb begin
    wr_ptr_d = wr_ptr_q;
    rd_ptr_d = rd_ptr_q;
    fill_d   = fill_q;
    credit_d = credit_q;
    if (done_q) begin
      wr_ptr_d = wr_ptr_q + PtrW'(1);
    end
    if (pop) begin
      rd_ptr_d = rd_ptr_q + PtrW'(1);
    end
    fill_d   = fill_q + CreditW'(done_q) - CreditW'(pop);
    credit_d = credit_q - CreditW'(take) + CreditW'(pop);
    // The flags come from the current counts and this cycle's handshakes, not from the adders,
    // so in_ready_o and out_valid_o are flops a few LUT levels after the handshakes.
    in_ready_d  = !((credit_q == '0 && !pop) || (credit_q == CreditW'(1) && take && !pop));
    out_valid_d = done_q || fill_q > CreditW'(1) || (fill_q == CreditW'(1) && !pop);
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      wr_ptr_q <= '0;
      rd_ptr_q <= '0;
      fill_q   <= '0;
      credit_q <= CreditW'(TagFifoDepth);
      in_ready_q  <= 1'b1;   // credit_q is reset to TagFifoDepth >= 2
      out_valid_q <= 1'b0;
    end else begin
      wr_ptr_q <= wr_ptr_d;
      rd_ptr_q <= rd_ptr_d;
      fill_q   <= fill_d;
      credit_q <= credit_d;
      in_ready_q  <= in_ready_d;
      out_valid_q <= out_valid_d;
    end
    for (int unsigned e = 0; e < TagFifoDepth; e++) begin
      if (rst_i || (pop && rd_ptr_q == PtrW'(e))) begin
        fifo_mem_q[e*EntryW +: EntryW] <= '0;
      end else if (done_q && wr_ptr_q == PtrW'(e)) begin
        fifo_mem_q[e*EntryW +: EntryW] <= {user_x_q, x_q};
      end
    end
  end

  assign in_ready_o  = in_ready_q;
  assign out_valid_o = out_valid_q;
  assign {out_user_o, out_tag_o} = fifo_mem_q[rd_ptr_q*EntryW +: EntryW];

  // ---------------------------------------------------------------------------------------------
  // Assertions (Verilator --assert; Yosys defines SYNTHESIS)
  // ---------------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  logic              in_pkt_q;              // inside a packet: a start beat was taken, no last yet
  logic              in_stall_q;            // last cycle had in_valid_i && !in_ready_o
  logic              out_stall_q;           // last cycle had out_valid_o && !out_ready_i
  logic [EntryW-1:0] out_prev_q;
  logic [DataW-1:0]  in_blocks_prev_q;

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      in_pkt_q    <= 1'b0;
      in_stall_q  <= 1'b0;
      out_stall_q <= 1'b0;
    end else begin
      if (accept) begin
        in_pkt_q <= !in_last_i;
      end
      in_stall_q  <= in_valid_i && !in_ready_o;
      out_stall_q <= out_valid_o && !out_ready_i;
    end
    out_prev_q       <= {out_user_o, out_tag_o};
    in_blocks_prev_q <= in_blocks_i;
  end

  // Bit n set iff count n is legal (1..Lanes); a lookup, as comparisons are constant at Lanes=1.
  localparam int unsigned NCountVals = 1 << CountW;
  localparam logic [NCountVals-1:0] LegalCount = NCountVals'((32'd1 << (Lanes + 1)) - 32'd2);

  always_ff @(posedge clk_i) begin
    if (!rst_i) begin
      if (in_valid_i) begin
        assert (LegalCount[in_count_i])
          else $error("ghash_core: in_count_i %0d outside 1..%0d", in_count_i, Lanes);
        assert (in_start_i == !in_pkt_q)
          else $error("ghash_core: in_start_i=%0d but inside-packet=%0d", in_start_i, in_pkt_q);
      end
      if (in_stall_q) begin
        assert (in_valid_i && in_blocks_i == in_blocks_prev_q)
          else $error("ghash_core: input beat dropped or changed while stalled");
      end
      if (out_stall_q) begin
        assert (out_valid_o && {out_user_o, out_tag_o} == out_prev_q)
          else $error("ghash_core: tag dropped or changed while stalled");
      end
      assert (!(done_q && fill_q == CreditW'(TagFifoDepth)))
        else $error("ghash_core: tag FIFO overflow");
      assert (32'(credit_q) + 32'(fill_q) <= TagFifoDepth)
        else $error("ghash_core: credits and FIFO fill exceed the depth");
      assert (in_ready_q == (credit_q != '0) && out_valid_q == (fill_q != '0))
        else $error("ghash_core: ready/valid flags disagree with the counts");
    end
  end
`endif

endmodule

`default_nettype wire
