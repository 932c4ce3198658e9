// SPDX-License-Identifier: Apache-2.0
//
// SA preparation: what the datapath needs per SA beyond what sa_table stores, made when the SA is
// installed and wiped when it is deleted or the card resets.
//
//   - the GHASH key powers H, H^2, H^3, H^4 (H = AES_K(0^128)) in a RAM read beside sa_table's
//     lookup port, so aes_gcm_core gets them with the SA's key (hw/card/doc/engine.md);
//   - the anti-replay state: an INIT of esp_replay with the SA's window and ESN flag (window 0 for
//     outbound SAs and deleted slots), so a reinstalled slot never inherits an old window.
//
// It sits between card_regs and sa_table on the command path (card_ctrl):
//   write:  compute H with an iterative AES (2 cycles a round: round key, then round) and H^2..H^4
//           with a bit-serial GF(2^128) multiplier (128 cycles each), about 430 cycles, while the
//           old SA in the slot still serves traffic; then forward the command to sa_table; when
//           it reports ok, write the powers and issue the INIT; then report done to card_regs.
//   delete: forward; on ok, write zeros to the powers and INIT with window 0; done.
//   other:  forwarded; sa_table's done, result and read-back data pass straight through.
// From sa_table's done until our done (a few cycles) lk_hold_o holds the datapath's lookup port,
// so a lookup sees either the old slot (key, powers, window) or the new one, never a mix; every
// lookup after done_o reads the new powers, and every replay CHECK issued after it is ordered
// after the INIT (the INIT is accepted before done_o).
//
// Keys: the staged key stays in card_regs until done_o (card_regs wipes it then). The AES state,
// round keys and powers held here are cleared when the command ends; the RAM holds powers only
// for valid slots (delete writes zeros, reset walks every slot to zero).
`default_nettype none

module sa_prep #(
  parameter int unsigned NumSa           = 4096,
  parameter int unsigned MaxReplayWindow = 1024,
  localparam int unsigned IdxW           = $clog2(NumSa),
  localparam int unsigned WinW           = $clog2(MaxReplayWindow) + 1
) (
  input  logic             clk_i,
  input  logic             rst_i,            // power-on or soft reset: starts the wipe walk
  output logic             wiping_o,

  // From card_regs (staging inputs stable from cmd_valid_i to done_o)
  input  logic             cmd_valid_i,
  input  logic [3:0]       cmd_op_i,
  input  logic [23:0]      cmd_index_i,
  input  logic [767:0]     cmd_params_i,
  input  logic [255:0]     cmd_key_i,        // key byte k at [8k +: 8]
  // To / from sa_table
  output logic             tbl_cmd_valid_o,
  input  logic             tbl_done_i,
  input  logic [7:0]       tbl_result_i,
  input  logic             tbl_slot_valid_i,
  // To card_regs
  output logic             done_o,
  output logic [7:0]       result_o,
  output logic             slot_valid_o,

  // Datapath lookup: hold, and the powers 1 cycle after a lookup handshake
  output logic             lk_hold_o,
  input  logic             lk_fire_i,
  input  logic [23:0]      lk_index_i,
  output logic [511:0]     lk_hpow_o,        // H^(k+1) at [k*128 +: 128], byte 0 at the top

  // esp_replay INIT
  output logic             ri_valid_o,
  input  logic             ri_ready_i,
  output logic [IdxW-1:0]  ri_sa_o,
  output logic [WinW-1:0]  ri_window_o,
  output logic             ri_esn_o
);

  localparam logic [3:0] OpWrite  = 4'(ipsec_card_pkg::SaCmdWrite);
  localparam logic [3:0] OpDelete = 4'(ipsec_card_pkg::SaCmdDelete);

  typedef enum logic [3:0] {
    StIdle, StRk, StRound, StMul, StFwd, StWaitTbl, StPass, StWrite, StInit, StDone
  } state_e;

  ipsec_card_pkg::sa_params_t p;
  assign p = cmd_params_i;

  state_e          st_q;
  logic            op_write_q;
  logic            k256_q;
  logic [3:0]      rnd_q;           // AES round 1..14
  logic [127:0]    s_q;             // AES state
  logic [127:0]    ka_q, kb_q;      // key schedule window: round keys r-2, r-1
  logic [127:0]    rk_q;            // round key r
  logic [1:0]      mi_q;            // multiplication: 0 -> H^2, 1 -> H^3, 2 -> H^4
  logic [6:0]      bit_q;
  logic [127:0]    z_q, v_q, x_q;   // Z, V, and the multiplier operand (shifted left)
  logic [511:0]    hp_q;
  logic [7:0]      res_q;
  logic            slotv_q;
  logic [IdxW:0]   wipe_q;          // wipe walk position; MSB set = done

  // ---------------------------------------------------------------------------------------------
  // Key in FIPS order (byte 0 at the top), round-key expansion and one AES round
  // ---------------------------------------------------------------------------------------------
  logic [255:0] key_be;
  for (genvar k = 0; k < 32; k++) begin : gen_key_be
    assign key_be[255 - 8 * k -: 8] = cmd_key_i[8 * k +: 8];
  end

  logic [31:0]  ks_src, ks_sub, ks_t;
  logic [127:0] ks_base, ks_new;
  logic [7:0]   rcon;
  logic [127:0] rnd_full, rnd_last;

  assign ks_src = kb_q[31:0];
  for (genvar k = 0; k < 4; k++) begin : gen_ks_sbox
    aes_sbox u_sbox (.data_i(ks_src[8 * k +: 8]), .data_o(ks_sub[8 * k +: 8]));
  end

  always_comb begin
    // Rcon index: the round for AES-128, round/2 for AES-256 (even rounds only use it).
    rcon = aes_pkg::aes_rcon(k256_q ? 32'(rnd_q[3:1]) : 32'(rnd_q));
    if (k256_q && rnd_q[0]) begin
      ks_t = ks_sub;                                         // i mod 8 = 4: SubWord only
    end else begin
      ks_t = aes_pkg::aes_rot_word(ks_sub) ^ {rcon, 24'h0};  // RotWord(SubWord) = SubWord(RotWord)
    end
    ks_base = k256_q ? ka_q : kb_q;
    ks_new[127:96] = ks_base[127:96] ^ ks_t;
    ks_new[95:64]  = ks_base[95:64]  ^ ks_new[127:96];
    ks_new[63:32]  = ks_base[63:32]  ^ ks_new[95:64];
    ks_new[31:0]   = ks_base[31:0]   ^ ks_new[63:32];
  end

  aes_round u_round (.state_i(s_q), .rk_i(rk_q), .full_o(rnd_full), .last_o(rnd_last));

  logic [127:0] z_n;
  assign z_n = x_q[127] ? z_q ^ v_q : z_q;

  logic last_round;
  assign last_round = rnd_q == (k256_q ? 4'd14 : 4'd10);

  // ---------------------------------------------------------------------------------------------
  // Power RAM
  // ---------------------------------------------------------------------------------------------
  logic [511:0]    hp_mem [NumSa];
  logic            hp_we;
  logic [IdxW-1:0] hp_waddr;
  logic [511:0]    hp_wdata;
  logic [511:0]    hp_rdata_q;

  always_ff @(posedge clk_i) begin
    if (hp_we) hp_mem[hp_waddr] <= hp_wdata;
    if (lk_fire_i) hp_rdata_q <= hp_mem[lk_index_i[IdxW-1:0]];
  end
  assign lk_hpow_o = hp_rdata_q;

  always_comb begin
    hp_we    = 1'b0;
    hp_waddr = cmd_index_i[IdxW-1:0];
    hp_wdata = op_write_q ? hp_q : '0;
    if (!wipe_q[IdxW]) begin
      hp_we    = 1'b1;
      hp_waddr = wipe_q[IdxW-1:0];
      hp_wdata = '0;
    end else if (st_q == StWrite) begin
      hp_we = 1'b1;
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Sequencer
  // ---------------------------------------------------------------------------------------------
  logic pass_op, tbl_ok;
  assign pass_op = cmd_op_i != OpWrite && cmd_op_i != OpDelete;
  assign tbl_ok  = tbl_result_i == 8'(ipsec_card_pkg::SaResultOk);

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      st_q    <= StIdle;
      wipe_q  <= '0;
      s_q     <= '0;
      ka_q    <= '0;
      kb_q    <= '0;
      rk_q    <= '0;
      z_q     <= '0;
      v_q     <= '0;
      x_q     <= '0;
      hp_q    <= '0;
      res_q   <= '0;
      slotv_q <= 1'b0;
      rnd_q   <= '0;
      mi_q    <= '0;
      bit_q   <= '0;
      op_write_q <= 1'b0;
      k256_q  <= 1'b0;
    end else begin
      if (!wipe_q[IdxW]) wipe_q <= wipe_q + 1'b1;
      unique case (st_q)
        StIdle: if (cmd_valid_i && wipe_q[IdxW]) begin
          op_write_q <= cmd_op_i == OpWrite;
          k256_q     <= p.suite == 8'(ipsec_card_pkg::SuiteAesGcm256);
          if (cmd_op_i == OpWrite) begin
            s_q   <= key_be[255:128];                   // 0^128 ^ round key 0
            ka_q  <= key_be[255:128];
            kb_q  <= p.suite == 8'(ipsec_card_pkg::SuiteAesGcm256) ? key_be[127:0]
                                                                      : key_be[255:128];
            rnd_q <= 4'd1;
            st_q  <= StRk;
          end else begin
            st_q <= pass_op ? StPass : StFwd;
          end
        end
        StRk: begin                                      // round key for round rnd_q
          if (k256_q && rnd_q == 4'd1) begin
            rk_q <= kb_q;                                // AES-256 round 1 uses key bytes 16..31
          end else begin
            rk_q <= ks_new;
            ka_q <= kb_q;
            kb_q <= ks_new;
          end
          st_q <= StRound;
        end
        StRound: begin
          s_q <= last_round ? rnd_last : rnd_full;
          if (last_round) begin
            hp_q  <= {384'h0, rnd_last};
            x_q   <= rnd_last;                           // H * H first
            v_q   <= rnd_last;
            z_q   <= '0;
            bit_q <= '0;
            mi_q  <= '0;
            st_q  <= StMul;
          end else begin
            rnd_q <= rnd_q + 1'b1;
            st_q  <= StRk;
          end
        end
        StMul: begin                                     // SP 800-38D Algorithm 1, a bit a cycle
          x_q <= {x_q[126:0], 1'b0};
          v_q <= v_q[0] ? ({1'b0, v_q[127:1]} ^ {8'he1, 120'h0}) : {1'b0, v_q[127:1]};
          z_q <= z_n;
          bit_q <= bit_q + 1'b1;
          if (bit_q == 7'd127) begin
            hp_q[(32'(mi_q) + 1) * 128 +: 128] <= z_n;
            x_q   <= z_n;                                // next power: H^(k+1) * H
            v_q   <= hp_q[127:0];
            z_q   <= '0;
            mi_q  <= mi_q + 1'b1;
            if (mi_q == 2'd2) begin
              st_q <= StFwd;
              s_q  <= '0;
              ka_q <= '0;
              kb_q <= '0;
              rk_q <= '0;
              x_q  <= '0;
              v_q  <= '0;
              z_q  <= '0;
            end
          end
        end
        StFwd: st_q <= StWaitTbl;
        StWaitTbl: if (tbl_done_i) begin
          res_q   <= tbl_result_i;
          slotv_q <= tbl_slot_valid_i;
          st_q    <= tbl_ok ? StWrite : StDone;
        end
        StPass: if (tbl_done_i) st_q <= StIdle;
        StWrite: begin
          hp_q <= '0;
          st_q <= StInit;
        end
        StInit: if (ri_ready_i) st_q <= StDone;
        StDone: st_q <= StIdle;
        default: st_q <= StIdle;
      endcase
    end
  end

  assign wiping_o        = !wipe_q[IdxW];
  assign tbl_cmd_valid_o = st_q == StFwd || (st_q == StIdle && cmd_valid_i && wipe_q[IdxW] && pass_op);
  // Held from sa_table's done of a successful write/delete until our done.
  assign lk_hold_o = (st_q == StWaitTbl && tbl_done_i && tbl_ok) ||
                     st_q == StWrite || st_q == StInit || st_q == StDone;

  assign done_o       = (st_q == StPass && tbl_done_i) || st_q == StDone;
  assign result_o     = st_q == StPass ? tbl_result_i : res_q;
  assign slot_valid_o = st_q == StPass ? tbl_slot_valid_i : slotv_q;

  assign ri_valid_o  = st_q == StInit;
  assign ri_sa_o     = cmd_index_i[IdxW-1:0];
  assign ri_window_o = (op_write_q && p.dir == 1'b1) ? WinW'(p.replay_window) : '0;
  assign ri_esn_o    = op_write_q && p.esn;

endmodule
