// SPDX-License-Identifier: Apache-2.0
//
// The card's on-chip SA table: per slot the parameter record (record sa_params), the key material
// (AES key up to 256 bits and the 4-byte salt), the valid bit, the counters and lifetime state,
// and the outbound sequence number (docs/device-interface.md, "SA lifecycle").
//
// Storage is five simple dual-port memories of NumSa words, each with exactly one write port and
// one read port per cycle, so that they map to BRAM/URAM (hw/card/doc/theory_of_operation.md):
//   pm   {valid, sa_params}                 read: datapath lookup, or read_params (command)
//   km   {salt, key}                        read: datapath lookup only; never toward card_regs
//   hm   hard_expired                       read: datapath lookup
//   cm   counters, limits, lifetime flags   read-modify-write by the counter pipeline; command read
//   sm   next sequence, ESN, exhausted      read-modify-write by the sequence allocator; command read
// Every memory has a 1-cycle read latency. The two read-modify-write pipelines forward the word
// they wrote on the previous cycle (read-during-write of the same address returns old data), so
// updates of one slot may arrive back to back.
//
// Commands (from card_regs) drain both pipelines first and hold them and the lookup port while
// they run, so a command never shares a memory port with the datapath in the same cycle. Reset
// (power-on or soft) walks every slot and writes zeros to all five memories: key storage has no
// reset of its own and is wiped explicitly, here and by delete.
//
// Byte order: key bit 8k+j is bit j of key byte k (the SA_KEY_* registers concatenated, KEY_0 in
// bits [31:0]); salt likewise; the parameter record is record bit b at bit b (SA_PARAM_k is bits
// [32k+31:32k]). The crypto datapath reorders bytes for its AES core as it needs.
`default_nettype none

module sa_table #(
  parameter int unsigned NumSa           = 4096,  // slots; a power of two (contract: >= 4096)
  parameter int unsigned Suites          = ipsec_card_pkg::SuitesDefault,    // ID_SUITES bitmap
  parameter int unsigned Features        = ipsec_card_pkg::FeaturesDefault,  // ID_FEATURES bits
  parameter int unsigned MaxReplayWindow = ipsec_card_pkg::MaxReplayWindowDefault,  // packets
  localparam int unsigned IdxW           = $clog2(NumSa)
) (
  input  logic         clk_i,
  input  logic         rst_i,                  // synchronous, active high; starts the wipe walk
  output logic         wiping_o,               // the reset walk is running

  // Commands from card_regs. The staging inputs must stay stable from cmd_valid_i to cmd_done_o.
  input  logic         cmd_valid_i,            // one-cycle start (ignored unless idle)
  input  logic [3:0]   cmd_op_i,               // enum sa_cmd
  input  logic [23:0]  cmd_index_i,
  input  logic [767:0] cmd_params_i,           // record sa_params
  input  logic [255:0] cmd_key_i,
  input  logic [31:0]  cmd_salt_i,
  output logic         cmd_done_o,             // one-cycle pulse
  output logic [7:0]   cmd_result_o,           // enum sa_result, with cmd_done_o
  output logic         cmd_slot_valid_o,       // slot holds a valid SA after the command
  output logic         rd_params_valid_o,      // with cmd_done_o: rd_params_o is the slot's record
  output logic [767:0] rd_params_o,
  output logic         rd_cnt_valid_o,         // with cmd_done_o: the counter snapshot
  output logic [383:0] rd_cnt_o,               // packets, bytes, auth, replay, other, seq (64 each)
  output logic [2:0]   rd_state_o,             // SA_STATE: seq_exhausted, hard, soft

  // Datapath lookup: parameters and keys of one slot, 1 cycle after the handshake.
  input  logic         lk_valid_i,
  output logic         lk_ready_o,
  input  logic [23:0]  lk_index_i,
  output logic         lk_rsp_valid_o,
  output logic [23:0]  lk_rsp_index_o,
  output logic         lk_rsp_sa_valid_o,      // 0: index beyond the table or an empty slot
  output logic         lk_rsp_hard_expired_o,  // hard lifetime crossed: refuse packets
  output logic [767:0] lk_rsp_params_o,
  output logic [255:0] lk_rsp_key_o,
  output logic [31:0]  lk_rsp_salt_o,

  // Counter updates: one result per cycle from the datapath (outbound or inbound).
  input  logic         cnt_valid_i,
  output logic         cnt_ready_o,
  input  logic [23:0]  cnt_index_i,
  input  logic [1:0]   cnt_kind_i,             // 0 ok, 1 auth_failed, 2 replay, 3 other drop
  input  logic [15:0]  cnt_bytes_i,            // inner bytes (kind ok)
  input  logic [63:0]  cnt_seq_i,              // inbound ok: the authenticated sequence number

  // Outbound sequence numbers: one allocation per cycle, answer 2 cycles after the handshake.
  input  logic         seq_valid_i,
  output logic         seq_ready_o,
  input  logic [23:0]  seq_index_i,
  output logic         seq_rsp_valid_o,        // one-cycle pulse, no back-pressure
  output logic [23:0]  seq_rsp_index_o,
  output logic         seq_rsp_ok_o,           // seq_rsp_seq_o is this packet's number
  output logic         seq_rsp_exhausted_o,    // !ok: sequence space used up (else: no outbound SA)
  output logic [63:0]  seq_rsp_seq_o,

  // SA events toward the event ring
  output logic         ev_valid_o,
  input  logic         ev_ready_i,
  output logic [7:0]   ev_kind_o,              // enum event_type
  output logic [23:0]  ev_sa_index_o,
  output logic         ev_dir_o,
  output logic [63:0]  ev_info_o
);

  if (NumSa < 2 || NumSa > (1 << 24) || (NumSa & (NumSa - 1)) != 0) begin : gen_bad_numsa
    $error("%m: NumSa must be a power of two in 2 .. 2^24");
  end

  ////////////////////////////////////////////////////////
  // Word layouts                                       //
  ////////////////////////////////////////////////////////
  localparam int unsigned PmW = 769;              // {valid, params}
  localparam int unsigned KmW = 288;              // {salt, key}
  // cm: packets [63:0], bytes, auth, replay, other, hi_seq [383:320], soft_bytes [447:384],
  //     hard_bytes, soft_packets, hard_packets [639:576], soft_fired 640, hard_fired 641, dir 642,
  //     valid 643
  localparam int unsigned CmW = 644;
  // sm: next [63:0], esn 64, exhausted 65, valid (outbound SA) 66
  localparam int unsigned SmW = 67;

  // Event FIFO: kind (2: soft 1, hard 2, overflow 3), dir, index, info.
  localparam int unsigned EvW = 2 + 1 + IdxW + 64;
  localparam int unsigned EvDepth = 8;
  localparam int unsigned EvCntW = 4;

  ipsec_card_pkg::sa_params_t p;
  assign p = cmd_params_i;

  ////////////////////////////////////////////////////////
  // Memories                                           //
  ////////////////////////////////////////////////////////
  logic [PmW-1:0] pm_mem [0:NumSa-1];
  logic [KmW-1:0] km_mem [0:NumSa-1];
  logic           hm_mem [0:NumSa-1];
  logic [CmW-1:0] cm_mem [0:NumSa-1];
  logic [SmW-1:0] sm_mem [0:NumSa-1];

  logic            pm_we, km_we, hm_we, cm_we, sm_we;
  logic [IdxW-1:0] pm_waddr, km_waddr, hm_waddr, cm_waddr, sm_waddr;
  logic [PmW-1:0]  pm_wdata;
  logic [KmW-1:0]  km_wdata;
  logic            hm_wdata;
  logic [CmW-1:0]  cm_wdata;
  logic [SmW-1:0]  sm_wdata;
  logic [IdxW-1:0] lk_raddr, pm_raddr, cm_raddr, sm_raddr;
  logic [PmW-1:0]  pm_rdata_q;
  logic [KmW-1:0]  km_rdata_q;
  logic            hm_rdata_q;
  logic [CmW-1:0]  cm_rdata_q;
  logic [SmW-1:0]  sm_rdata_q;

  always_ff @(posedge clk_i) begin
    if (pm_we) pm_mem[pm_waddr] <= pm_wdata;
    pm_rdata_q <= pm_mem[pm_raddr];
  end
  always_ff @(posedge clk_i) begin
    if (km_we) km_mem[km_waddr] <= km_wdata;
    km_rdata_q <= km_mem[lk_raddr];
  end
  always_ff @(posedge clk_i) begin
    if (hm_we) hm_mem[hm_waddr] <= hm_wdata;
    hm_rdata_q <= hm_mem[lk_raddr];
  end
  always_ff @(posedge clk_i) begin
    if (cm_we) cm_mem[cm_waddr] <= cm_wdata;
    cm_rdata_q <= cm_mem[cm_raddr];
  end
  always_ff @(posedge clk_i) begin
    if (sm_we) sm_mem[sm_waddr] <= sm_wdata;
    sm_rdata_q <= sm_mem[sm_raddr];
  end

  ////////////////////////////////////////////////////////
  // Command FSM and the reset wipe walk                //
  ////////////////////////////////////////////////////////
  typedef enum logic [2:0] {
    StWipe,   // writing zeros to slot wipe_idx_q of every memory
    StIdle,
    StDrain,  // pipelines held; waiting for the last update to be written
    StRead,   // reading the slot (pm, cm, sm)
    StDone    // read data available: answer, and write for write/delete
  } state_e;

  state_e          state_d, state_q;
  logic [IdxW-1:0] wipe_idx_d, wipe_idx_q;
  logic [3:0]      op_d, op_q;
  logic [IdxW-1:0] idx_d, idx_q;
  logic [7:0]      result_d, result_q;
  logic            hold;              // pipelines and lookup port belong to the command FSM

  // Pipeline occupancy (declared here for the drain condition)
  logic            c1_valid_q, s1_valid_q;

  // Validation of the staged record for write (combinational; registered at the start)
  logic            in_range, bad_params, unsupported;
  logic [7:0]      check_result;
  logic            limits_set;

  always_comb begin
    in_range = (cmd_index_i >> IdxW) == 24'd0;
    limits_set = (p.soft_bytes != 64'd0) || (p.hard_bytes != 64'd0) || (p.soft_packets != 64'd0) ||
                 (p.hard_packets != 64'd0);
    bad_params = 1'b0;
    if (p.rsvd_43 != '0 || p.rsvd_70 != '0 || p.rsvd_160 != '0) bad_params = 1'b1;
    if (p.df_mode == 2'd3) bad_params = 1'b1;
    if (p.suite == ipsec_card_pkg::SuiteNone) bad_params = 1'b1;
    if (p.soft_bytes != 64'd0 && p.hard_bytes != 64'd0 && p.soft_bytes > p.hard_bytes) bad_params = 1'b1;
    if (p.soft_packets != 64'd0 && p.hard_packets != 64'd0 && p.soft_packets > p.hard_packets) begin
      bad_params = 1'b1;
    end
    if (p.mode == ipsec_card_pkg::SaModeTunnel && (p.tunnel_src == '0 || p.tunnel_dst == '0)) begin
      bad_params = 1'b1;
    end
    if (p.dir == ipsec_card_pkg::DirOutbound) begin
      // RFC 4303 section 3.3.3: sequence numbers start at 1; beyond 2^32-1 only with ESN.
      if (p.initial_seq == 64'd0) bad_params = 1'b1;
      if (!p.esn && p.initial_seq[63:32] != 32'd0) bad_params = 1'b1;
    end else begin
      if (p.replay_window != 32'd0 &&
          (p.replay_window < 32'd64 || p.replay_window > 32'(MaxReplayWindow))) begin
        bad_params = 1'b1;
      end
      // Inbound lookup is by slot = SPI mod CAP_SA.
      if (p.spi[IdxW-1:0] != cmd_index_i[IdxW-1:0]) bad_params = 1'b1;
    end

    unsupported = 1'b0;
    if (p.suite > 8'd31) unsupported = 1'b1;
    else if (((Suites >> p.suite[4:0]) & 1) == 0) unsupported = 1'b1;
    if (p.dir == ipsec_card_pkg::DirOutbound && !Features[0]) unsupported = 1'b1;
    if (p.dir == ipsec_card_pkg::DirInbound && !Features[1]) unsupported = 1'b1;
    if (p.mode == ipsec_card_pkg::SaModeTunnel && !p.outer_v6 && !Features[2]) unsupported = 1'b1;
    if (p.mode == ipsec_card_pkg::SaModeTunnel && p.outer_v6 && !Features[3]) unsupported = 1'b1;
    if (p.mode == ipsec_card_pkg::SaModeTransport && !Features[4]) unsupported = 1'b1;
    if (p.udp_encap && !Features[5]) unsupported = 1'b1;
    if (p.esn && !Features[6]) unsupported = 1'b1;
    if (limits_set && !Features[7]) unsupported = 1'b1;
    if ((p.dscp_set || p.ecn_compat || p.dec_inner_ttl || p.df_mode != ipsec_card_pkg::DfModeCopy) &&
        !Features[9]) begin
      unsupported = 1'b1;
    end

    check_result = ipsec_card_pkg::SaResultOk;
    if (cmd_op_i > 4'(ipsec_card_pkg::SaCmdReadParams)) begin
      check_result = ipsec_card_pkg::SaResultBadParams;  // unknown command
    end else if (cmd_op_i != 4'(ipsec_card_pkg::SaCmdNop) && !in_range) begin
      check_result = ipsec_card_pkg::SaResultBadIndex;
    end else if (cmd_op_i == 4'(ipsec_card_pkg::SaCmdWrite)) begin
      if (bad_params) check_result = ipsec_card_pkg::SaResultBadParams;
      else if (unsupported) check_result = ipsec_card_pkg::SaResultUnsupported;
    end
  end

  // Words written by an install, from the staging inputs.
  logic [PmW-1:0] pm_install;
  logic [KmW-1:0] km_install;
  logic [CmW-1:0] cm_install;
  logic [SmW-1:0] sm_install;
  always_comb begin
    pm_install = {1'b1, cmd_params_i};
    km_install = {cmd_salt_i, cmd_key_i};
    cm_install = '0;
    cm_install[447:384] = p.soft_bytes;
    cm_install[511:448] = p.hard_bytes;
    cm_install[575:512] = p.soft_packets;
    cm_install[639:576] = p.hard_packets;
    cm_install[642]     = p.dir;
    cm_install[643]     = 1'b1;
    sm_install = '0;
    sm_install[63:0] = p.initial_seq;
    sm_install[64]   = p.esn;
    sm_install[66]   = (p.dir == ipsec_card_pkg::DirOutbound);
  end

  logic cmd_write_ok, cmd_wipe_slot;
  assign cmd_write_ok  = state_q == StDone && op_q == 4'(ipsec_card_pkg::SaCmdWrite) &&
                         result_q == ipsec_card_pkg::SaResultOk;
  assign cmd_wipe_slot = state_q == StDone && op_q == 4'(ipsec_card_pkg::SaCmdDelete) &&
                         result_q == ipsec_card_pkg::SaResultOk;

  always_comb begin
    state_d    = state_q;
    wipe_idx_d = wipe_idx_q;
    op_d       = op_q;
    idx_d      = idx_q;
    result_d   = result_q;
    unique case (state_q)
      StWipe: begin
        wipe_idx_d = wipe_idx_q + IdxW'(1);
        if (wipe_idx_q == IdxW'(NumSa - 1)) state_d = StIdle;
      end
      StIdle: begin
        if (cmd_valid_i) begin
          op_d     = cmd_op_i;
          idx_d    = cmd_index_i[IdxW-1:0];
          result_d = check_result;
          state_d  = StDrain;
        end
      end
      StDrain: if (!c1_valid_q && !s1_valid_q) state_d = StRead;
      StRead:  state_d = StDone;
      StDone:  state_d = StIdle;
      default: state_d = StWipe;
    endcase
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      state_q    <= StWipe;
      wipe_idx_q <= '0;
      op_q       <= '0;
      idx_q      <= '0;
      result_q   <= '0;
    end else begin
      state_q    <= state_d;
      wipe_idx_q <= wipe_idx_d;
      op_q       <= op_d;
      idx_q      <= idx_d;
      result_q   <= result_d;
    end
  end

  assign wiping_o   = state_q == StWipe;
  assign hold       = state_q != StIdle;

  // Answers (valid with cmd_done_o, from the words read in StRead)
  logic slot_valid_now;
  assign slot_valid_now = pm_rdata_q[768];
  always_comb begin
    cmd_done_o        = state_q == StDone;
    cmd_result_o      = result_q;
    cmd_slot_valid_o  = 1'b0;
    rd_params_valid_o = 1'b0;
    rd_cnt_valid_o    = 1'b0;
    if (result_q == ipsec_card_pkg::SaResultOk) begin
      unique case (op_q)
        4'(ipsec_card_pkg::SaCmdWrite):  cmd_slot_valid_o = 1'b1;
        4'(ipsec_card_pkg::SaCmdDelete): cmd_slot_valid_o = 1'b0;
        4'(ipsec_card_pkg::SaCmdReadParams): begin
          cmd_slot_valid_o  = slot_valid_now;
          rd_params_valid_o = slot_valid_now;
          if (!slot_valid_now) cmd_result_o = ipsec_card_pkg::SaResultNotValid;
        end
        4'(ipsec_card_pkg::SaCmdReadCounters): begin
          cmd_slot_valid_o = slot_valid_now;
          rd_cnt_valid_o   = 1'b1;
        end
        default: cmd_slot_valid_o = slot_valid_now;  // nop
      endcase
    end else if (result_q != ipsec_card_pkg::SaResultBadIndex) begin
      cmd_slot_valid_o = slot_valid_now;             // a refused write leaves the slot as it was
    end
    // read_params never returns keys: only pm is read; km has no path to these outputs.
    rd_params_o = pm_rdata_q[767:0];
    rd_cnt_o    = cm_rdata_q[383:0];
    if (!cm_rdata_q[642]) begin
      rd_cnt_o[383:320] = sm_rdata_q[63:0];            // outbound: the next sequence number
    end
    rd_state_o = {sm_rdata_q[65], cm_rdata_q[641], cm_rdata_q[640]};
  end

  ////////////////////////////////////////////////////////
  // Datapath lookup                                    //
  ////////////////////////////////////////////////////////
  logic            lk_fire, lk_in_range;
  logic            lk_rsp_valid_q, lk_rsp_in_range_q;
  logic [23:0]     lk_rsp_index_q;
  assign lk_ready_o  = !hold;
  assign lk_fire     = lk_valid_i && lk_ready_o;
  assign lk_in_range = (lk_index_i >> IdxW) == 24'd0;
  assign lk_raddr    = lk_index_i[IdxW-1:0];

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      lk_rsp_valid_q <= 1'b0;
    end else begin
      lk_rsp_valid_q <= lk_fire;
    end
  end
  always_ff @(posedge clk_i) begin
    if (lk_fire) begin
      lk_rsp_index_q    <= lk_index_i;
      lk_rsp_in_range_q <= lk_in_range;
    end
  end

  assign lk_rsp_valid_o        = lk_rsp_valid_q;
  assign lk_rsp_index_o        = lk_rsp_index_q;
  assign lk_rsp_sa_valid_o     = lk_rsp_in_range_q && pm_rdata_q[768];
  assign lk_rsp_hard_expired_o = hm_rdata_q;
  assign lk_rsp_params_o       = pm_rdata_q[767:0];
  // Keys leave only for a valid slot (a deleted slot's words are zero anyway).
  assign lk_rsp_key_o          = lk_rsp_sa_valid_o ? km_rdata_q[255:0] : 256'd0;
  assign lk_rsp_salt_o         = lk_rsp_sa_valid_o ? km_rdata_q[287:256] : 32'd0;

  ////////////////////////////////////////////////////////
  // Event FIFO (flops; up to three pushes per cycle)    //
  ////////////////////////////////////////////////////////
  logic [EvDepth*EvW-1:0] ev_mem_d, ev_mem_q;
  logic [2:0]             ev_wptr_q, ev_rptr_q, ev_wptr_d, ev_rptr_d;
  logic [EvCntW-1:0]      ev_count_q, ev_count_d;
  logic                   ev_room;       // room for everything two pipeline stages can push
  logic [2:0]             ev_push;       // soft, hard (counter pipeline), overflow (sequence)
  logic [3*EvW-1:0]       ev_data;       // push k in [k*EvW +: EvW]
  logic                   ev_pop;

  // Each pipeline holds one update in flight: admitting a new one needs room for the pushes of
  // this cycle and the next (at most 3 each).
  assign ev_room = ev_count_q <= EvCntW'(EvDepth - 6);
  assign ev_pop  = ev_valid_o && ev_ready_i;

  logic [2:0] wp;
  always_comb begin
    ev_mem_d = ev_mem_q;
    wp = ev_wptr_q;
    for (int unsigned k = 0; k < 3; k++) begin
      if (ev_push[k]) begin
        for (int unsigned j = 0; j < EvDepth; j++) begin
          if (wp == 3'(j)) ev_mem_d[j*EvW +: EvW] = ev_data[k*EvW +: EvW];
        end
        wp = wp + 3'd1;
      end
    end
    ev_wptr_d  = wp;
    ev_rptr_d  = ev_rptr_q + 3'(ev_pop);
    ev_count_d = ev_count_q + EvCntW'(ev_push[0]) + EvCntW'(ev_push[1]) + EvCntW'(ev_push[2]) -
                 EvCntW'(ev_pop);
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      ev_wptr_q  <= '0;
      ev_rptr_q  <= '0;
      ev_count_q <= '0;
    end else begin
      ev_wptr_q  <= ev_wptr_d;
      ev_rptr_q  <= ev_rptr_d;
      ev_count_q <= ev_count_d;
    end
  end
  always_ff @(posedge clk_i) begin
    ev_mem_q <= ev_mem_d;
  end

  logic [EvW-1:0] ev_head;
  always_comb begin
    ev_head = '0;
    for (int unsigned j = 0; j < EvDepth; j++) begin
      if (ev_rptr_q == 3'(j)) ev_head = ev_mem_q[j*EvW +: EvW];
    end
  end
  assign ev_valid_o    = ev_count_q != '0;
  assign ev_info_o     = ev_head[63:0];
  assign ev_sa_index_o = 24'(ev_head[64 +: IdxW]);
  assign ev_dir_o      = ev_head[64 + IdxW];
  assign ev_kind_o     = 8'(ev_head[EvW-1 -: 2]);

  ////////////////////////////////////////////////////////
  // Counter pipeline: read (c0), add, compare, write (c1)
  ////////////////////////////////////////////////////////
  logic            cnt_fire;
  logic [IdxW-1:0] c1_idx_q;
  logic [1:0]      c1_kind_q;
  logic [15:0]     c1_bytes_q;
  logic [63:0]     c1_seq_q;
  logic            cfw_valid_q;           // cfw_*: the word written last cycle (forwarding)
  logic [IdxW-1:0] cfw_idx_q;
  logic [CmW-1:0]  cfw_data_q;
  logic [CmW-1:0]  c_old, c_new;
  logic            c_soft_fire, c_hard_fire;

  assign cnt_ready_o = !hold && ev_room;
  assign cnt_fire    = cnt_valid_i && cnt_ready_o;

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      c1_valid_q  <= 1'b0;
      cfw_valid_q <= 1'b0;
    end else begin
      // An update for a slot beyond the table is dropped here.
      c1_valid_q  <= cnt_fire && (cnt_index_i >> IdxW) == 24'd0;
      cfw_valid_q <= c1_valid_q;
    end
  end
  always_ff @(posedge clk_i) begin
    if (cnt_fire) begin
      c1_idx_q   <= cnt_index_i[IdxW-1:0];
      c1_kind_q  <= cnt_kind_i;
      c1_bytes_q <= cnt_bytes_i;
      c1_seq_q   <= cnt_seq_i;
    end
    cfw_idx_q  <= c1_idx_q;
    cfw_data_q <= c_new;
  end

  logic [63:0] pk, by;
  always_comb begin
    c_old = (cfw_valid_q && cfw_idx_q == c1_idx_q) ? cfw_data_q : cm_rdata_q;
    c_new = c_old;
    c_soft_fire = 1'b0;
    c_hard_fire = 1'b0;
    pk = c_old[63:0] + 64'd1;
    by = c_old[127:64] + 64'(c1_bytes_q);
    if (c_old[643]) begin  // updates of an empty slot (deleted under the datapath) are dropped
      unique case (c1_kind_q)
        2'd0: begin
          c_new[63:0]   = pk;
          c_new[127:64] = by;
          // Inbound: the highest authenticated sequence number.
          if (c_old[642] && c1_seq_q > c_old[383:320]) c_new[383:320] = c1_seq_q;
          // Lifetimes (as sa::LifetimeTracker): each limit fires once, when reached.
          c_soft_fire = !c_old[640] &&
                        ((c_old[447:384] != 64'd0 && by >= c_old[447:384]) ||
                         (c_old[575:512] != 64'd0 && pk >= c_old[575:512]));
          c_hard_fire = !c_old[641] &&
                        ((c_old[511:448] != 64'd0 && by >= c_old[511:448]) ||
                         (c_old[639:576] != 64'd0 && pk >= c_old[639:576]));
          if (c_soft_fire) c_new[640] = 1'b1;
          if (c_hard_fire) c_new[641] = 1'b1;
        end
        2'd1:    c_new[191:128] = c_old[191:128] + 64'd1;
        2'd2:    c_new[255:192] = c_old[255:192] + 64'd1;
        default: c_new[319:256] = c_old[319:256] + 64'd1;
      endcase
    end
    if (!c1_valid_q) begin
      c_soft_fire = 1'b0;
      c_hard_fire = 1'b0;
    end
  end

  ////////////////////////////////////////////////////////
  // Sequence allocator: read (s0), allocate, write (s1) //
  ////////////////////////////////////////////////////////
  logic            seq_fire;
  logic [23:0]     s1_index_q;
  logic            sfw_valid_q;
  logic [IdxW-1:0] sfw_idx_q;
  logic [SmW-1:0]  sfw_data_q;
  logic [SmW-1:0]  s_old, s_new;
  logic            s_ok, s_last, s_in_range;
  logic            srsp_valid_q, srsp_ok_q, srsp_exh_q;
  logic [23:0]     srsp_index_q;
  logic [63:0]     srsp_seq_q;

  assign seq_ready_o = !hold && ev_room;
  assign seq_fire    = seq_valid_i && seq_ready_o;
  assign s_in_range  = (s1_index_q >> IdxW) == 24'd0;

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      s1_valid_q   <= 1'b0;
      sfw_valid_q  <= 1'b0;
      srsp_valid_q <= 1'b0;
    end else begin
      s1_valid_q   <= seq_fire;
      sfw_valid_q  <= s1_valid_q && s_in_range;
      srsp_valid_q <= s1_valid_q;
    end
  end
  always_ff @(posedge clk_i) begin
    if (seq_fire) s1_index_q <= seq_index_i;
    sfw_idx_q    <= s1_index_q[IdxW-1:0];
    sfw_data_q   <= s_new;
    srsp_index_q <= s1_index_q;
    srsp_ok_q    <= s_ok;
    srsp_exh_q   <= s_in_range && s_old[66] && s_old[65];
    srsp_seq_q   <= s_ok ? s_old[63:0] : 64'd0;
  end

  always_comb begin
    s_old = (sfw_valid_q && sfw_idx_q == s1_index_q[IdxW-1:0]) ? sfw_data_q : sm_rdata_q;
    s_new = s_old;
    // RFC 4303 section 3.3.3: the last number is 2^32-1 (2^64-1 with ESN); then the SA stops.
    s_last = s_old[64] ? (s_old[63:0] == '1) : (s_old[31:0] == '1);
    s_ok = s1_valid_q && s_in_range && s_old[66] && !s_old[65];
    if (s_ok) begin
      s_new[63:0] = s_old[63:0] + 64'd1;
      if (s_last) s_new[65] = 1'b1;
    end
  end

  assign seq_rsp_valid_o     = srsp_valid_q;
  assign seq_rsp_index_o     = srsp_index_q;
  assign seq_rsp_ok_o        = srsp_ok_q;
  assign seq_rsp_exhausted_o = srsp_exh_q;
  assign seq_rsp_seq_o       = srsp_seq_q;

  // Events of this cycle
  always_comb begin
    ev_push[0] = c_soft_fire;
    ev_push[1] = c_hard_fire;
    ev_push[2] = s_ok && s_last;
    ev_data[0*EvW +: EvW] = {2'd1, c_old[642], c1_idx_q, c_new[127:64]};
    ev_data[1*EvW +: EvW] = {2'd2, c_old[642], c1_idx_q, c_new[127:64]};
    ev_data[2*EvW +: EvW] = {2'd3, 1'b0, s1_index_q[IdxW-1:0], s_old[63:0]};
  end

  ////////////////////////////////////////////////////////
  // Memory port multiplexers                           //
  ////////////////////////////////////////////////////////
  // Write ports: the wipe walk, a command in StDone, or a pipeline. hold keeps them exclusive.
  always_comb begin
    pm_we = 1'b0; km_we = 1'b0; hm_we = 1'b0; cm_we = 1'b0; sm_we = 1'b0;
    pm_waddr = idx_q; km_waddr = idx_q; hm_waddr = idx_q; cm_waddr = idx_q; sm_waddr = idx_q;
    pm_wdata = '0; km_wdata = '0; hm_wdata = 1'b0; cm_wdata = '0; sm_wdata = '0;
    if (state_q == StWipe) begin
      {pm_we, km_we, hm_we, cm_we, sm_we} = '1;
      pm_waddr = wipe_idx_q; km_waddr = wipe_idx_q; hm_waddr = wipe_idx_q;
      cm_waddr = wipe_idx_q; sm_waddr = wipe_idx_q;
    end else if (cmd_write_ok) begin
      {pm_we, km_we, hm_we, cm_we, sm_we} = '1;
      pm_wdata = pm_install;
      km_wdata = km_install;
      cm_wdata = cm_install;
      sm_wdata = sm_install;
    end else if (cmd_wipe_slot) begin
      {pm_we, km_we, hm_we, cm_we, sm_we} = '1;  // zeros: invalid, key wiped, counters cleared
    end else begin
      cm_we    = c1_valid_q;
      cm_waddr = c1_idx_q;
      cm_wdata = c_new;
      hm_we    = c1_valid_q && c_hard_fire;
      hm_waddr = c1_idx_q;
      hm_wdata = 1'b1;
      sm_we    = s1_valid_q && s_in_range;
      sm_waddr = s1_index_q[IdxW-1:0];
      sm_wdata = s_new;
    end
  end

  // Read ports: the command reads in StRead (pipelines and lookup are held then).
  always_comb begin
    pm_raddr = (state_q == StRead) ? idx_q : lk_raddr;
    cm_raddr = (state_q == StRead) ? idx_q : cnt_index_i[IdxW-1:0];
    sm_raddr = (state_q == StRead) ? idx_q : seq_index_i[IdxW-1:0];
  end

  ////////////////////////////////////////////////////////
  // Assertions                                         //
  ////////////////////////////////////////////////////////
`ifndef SYNTHESIS
  // The event FIFO never overflows (ev_room admits only what fits).
  always_ff @(posedge clk_i) begin
    if (!rst_i) begin
      assert (32'(ev_count_q) + 32'(ev_push[0]) + 32'(ev_push[1]) + 32'(ev_push[2]) <= EvDepth)
        else $error("%m: event FIFO overflow");
      // A command never shares a memory write port with a pipeline.
      assert (!(hold && state_q != StDrain && (c1_valid_q || s1_valid_q)))
        else $error("%m: pipeline active while a command owns the memories");
    end
  end
`endif

endmodule
