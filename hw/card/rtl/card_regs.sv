// SPDX-License-Identifier: Apache-2.0
//
// The card's register block: an AXI4-Lite slave (32-bit data, 16-bit byte address = the 64 KiB
// BAR) implementing the map of docs/device-interface.md with the offsets and fields of the
// generated ipsec_card_pkg: the ID block, CTRL, the event ring registers (EVQ), the SA programming
// window and the QUEUES block with RingPairs ring-pair register sets.
//
// Bus: AW and W are accepted independently (one of each may be held), the write happens when both
// are held and the B channel is free; one read is outstanding at a time. Every response is OKAY:
// unmapped addresses and reserved bits read 0 and writes to them are ignored, as the contract asks
// of reserved space. Byte strobes apply to RW registers; for W1C/W1S/WO/doorbell registers the
// strobed bytes of WDATA count, the others as 0.
//
// SA window: SA_CMD starts a command in sa_table with the staging registers (SA_INDEX, PARAM_*,
// KEY_*, SALT) as its operands; writes to the staging registers are ignored while BUSY, so they
// stay stable for sa_table. When the command finishes (whatever its result) KEY_* and SALT are
// zeroed. KEY_* and SALT always read 0: there is no read path from the key staging flops to the
// bus. A command written while BUSY (or during reset) is ignored and sets RESULT to busy.
//
// Soft reset (CTRL.SOFT_RESET): a one-cycle pulse (soft_rst_o) that returns every register here
// except the ID block, SCRATCH and the bus handshake state to its reset value; the owner of this
// block resets the datapath and sa_table with it, and sa_table's wipe walk is RESET_BUSY.
// Queue and event-ring registers are plain registers exported to the DMA engine.
`default_nettype none

module card_regs #(
  parameter int unsigned NumSa             = ipsec_card_pkg::SaCountDefault,           // ID_CAP_SA
  parameter int unsigned RingPairs         = ipsec_card_pkg::RingPairsDefault,         // 1 .. 32
  parameter int unsigned MaxRingLog2       = ipsec_card_pkg::MaxRingLog2Default,       // 4 .. 15
  parameter int unsigned FetchBurst        = ipsec_card_pkg::FetchBurstDefault,        // 1 .. 64
  parameter int unsigned MaxReplayWindow   = ipsec_card_pkg::MaxReplayWindowDefault,   // packets
  parameter int unsigned AesLanes          = ipsec_card_pkg::AesLanesDefault,          // 1 .. 4
  parameter int unsigned DatapathBytesLog2 = ipsec_card_pkg::DatapathBytesLog2Default,
  parameter int unsigned MaxPktBytes       = ipsec_card_pkg::MaxPktBytesDefault,       // bytes
  parameter int unsigned MinHeadroom       = ipsec_card_pkg::MinHeadroomDefault,       // bytes
  parameter int unsigned MinTailroom       = ipsec_card_pkg::MinTailroomDefault,       // bytes
  parameter int unsigned Suites            = ipsec_card_pkg::SuitesDefault,            // bitmap
  parameter int unsigned Features          = ipsec_card_pkg::FeaturesDefault,          // ID_FEATURES
  parameter int unsigned BuildId           = ipsec_card_pkg::BuildIdDefault,           // git hash
  parameter int unsigned BuildDate         = ipsec_card_pkg::BuildDateDefault          // Unix time
) (
  input  logic                     clk_i,
  input  logic                     rst_i,             // synchronous, active high (power-on)

  // AXI4-Lite slave
  input  logic [15:0]              s_axil_awaddr_i,
  input  logic                     s_axil_awvalid_i,
  output logic                     s_axil_awready_o,
  input  logic [31:0]              s_axil_wdata_i,
  input  logic [3:0]               s_axil_wstrb_i,
  input  logic                     s_axil_wvalid_i,
  output logic                     s_axil_wready_o,
  output logic [1:0]               s_axil_bresp_o,
  output logic                     s_axil_bvalid_o,
  input  logic                     s_axil_bready_i,
  input  logic [15:0]              s_axil_araddr_i,
  input  logic                     s_axil_arvalid_i,
  output logic                     s_axil_arready_o,
  output logic [31:0]              s_axil_rdata_o,
  output logic [1:0]               s_axil_rresp_o,
  output logic                     s_axil_rvalid_o,
  input  logic                     s_axil_rready_i,

  // Global control
  output logic                     soft_rst_o,        // one-cycle pulse: CTRL.SOFT_RESET written
  output logic                     enable_o,          // CTRL.ENABLE
  input  logic                     enabled_i,         // the engine has applied ENABLE (STATUS)
  input  logic                     table_busy_i,      // sa_table wipe walk (RESET_BUSY)
  input  logic                     fatal_i,           // pulse: internal fault (sticky STATUS.FATAL)
  input  logic                     event_written_i,   // pulse: an event record was written
  input  logic                     events_lost_i,     // pulse: an event was dropped
  input  logic                     unmatched_inc_i,   // pulse: a packet dropped before SA lookup
  output logic                     irq_o,             // global interrupt: IRQ_STATUS & IRQ_MASK

  // SA commands toward sa_table
  output logic                     sa_cmd_valid_o,    // one-cycle start
  output logic [3:0]               sa_cmd_op_o,
  output logic [23:0]              sa_cmd_index_o,
  output logic [767:0]             sa_params_o,       // SA_PARAM_0..23 (record sa_params)
  output logic [255:0]             sa_key_o,          // SA_KEY_0..7, KEY_0 in [31:0]
  output logic [31:0]              sa_salt_o,
  input  logic                     sa_cmd_done_i,
  input  logic [7:0]               sa_cmd_result_i,
  input  logic                     sa_cmd_slot_valid_i,
  input  logic                     sa_rd_params_valid_i,
  input  logic [767:0]             sa_rd_params_i,
  input  logic                     sa_rd_cnt_valid_i,
  input  logic [383:0]             sa_rd_cnt_i,       // packets, bytes, auth, replay, other, seq
  input  logic [2:0]               sa_rd_state_i,

  // Event ring (EVQ) toward the event writer
  output logic [63:0]              evq_base_o,
  output logic [4:0]               evq_size_log2_o,
  output logic                     evq_enable_o,
  output logic                     evq_irq_enable_o,
  output logic [15:0]              evq_cons_o,
  input  logic [15:0]              evq_prod_i,
  input  logic [31:0]              evq_lost_i,

  // Ring pairs toward the DMA engine; ring r in bits [r*W +: W]
  output logic [RingPairs-1:0]     ring_enable_o,
  output logic [RingPairs-1:0]     ring_irq_enable_o,
  output logic [RingPairs*5-1:0]   ring_rq_size_log2_o,
  output logic [RingPairs*5-1:0]   ring_cq_size_log2_o,
  output logic [RingPairs*64-1:0]  ring_rq_base_o,
  output logic [RingPairs*64-1:0]  ring_cq_base_o,
  output logic [RingPairs*16-1:0]  ring_rq_prod_o,
  output logic [RingPairs-1:0]     ring_doorbell_o,   // pulse: RQ_PROD written (already updated)
  output logic [RingPairs*16-1:0]  ring_cq_cons_o,
  output logic [RingPairs-1:0]     ring_arm_o,        // pulse: CQ_CONS written with ARM = 1
  output logic [RingPairs*16-1:0]  ring_irq_mod_count_o,
  output logic [RingPairs*16-1:0]  ring_irq_mod_time_us_o,
  input  logic [RingPairs*16-1:0]  ring_rq_cons_i,
  input  logic [RingPairs*16-1:0]  ring_cq_prod_i,
  input  logic [RingPairs-1:0]     ring_active_i,
  input  logic [RingPairs-1:0]     ring_busy_i,
  input  logic [RingPairs-1:0]     ring_error_i,      // also CTRL_QUEUE_ERROR
  input  logic [RingPairs*8-1:0]   ring_error_code_i
);

  if (RingPairs < 1 || RingPairs > ipsec_card_pkg::RingMaxCount) begin : gen_bad_rings
    $error("%m: RingPairs must be 1 .. 32 (CTRL_QUEUE_ERROR has 32 bits)");
  end
  if (NumSa < 2 || NumSa > (1 << 24) || (NumSa & (NumSa - 1)) != 0) begin : gen_bad_numsa
    $error("%m: NumSa must be a power of two up to 2^24");
  end
  if (MaxRingLog2 < 4 || MaxRingLog2 > 15 || FetchBurst < 1 || FetchBurst > 64 || AesLanes < 1 ||
      AesLanes > 4 || MaxPktBytes > 65535 || MinHeadroom > 255 || MinTailroom > 255) begin : gen_bad_caps
    $error("%m: a capability parameter is outside the range of docs/device-interface.md");
  end

  ////////////////////////////////////////////////////////
  // ID block constants                                 //
  ////////////////////////////////////////////////////////
  localparam logic [31:0] LayoutVersion = (32'(ipsec_card_pkg::LayoutVersionMajor) << 16) |
                                          32'(ipsec_card_pkg::LayoutVersionMinor);
  localparam logic [31:0] CapEngine =
      (32'(AesLanes) << ipsec_card_pkg::IdCapEngineAesLanesLsb) |
      (32'(DatapathBytesLog2) << ipsec_card_pkg::IdCapEngineDatapathBytesLog2Lsb);
  localparam logic [31:0] CapQueues =
      (32'(RingPairs) << ipsec_card_pkg::IdCapQueuesRingPairsLsb) |
      (32'd1 << ipsec_card_pkg::IdCapQueuesEventRingsLsb) |
      (32'(MaxRingLog2) << ipsec_card_pkg::IdCapQueuesMaxRingLog2Lsb) |
      (32'(FetchBurst) << ipsec_card_pkg::IdCapQueuesFetchBurstLsb);
  localparam logic [31:0] CapPacket =
      (32'(MaxPktBytes) << ipsec_card_pkg::IdCapPacketMaxPktBytesLsb) |
      (32'(MinHeadroom) << ipsec_card_pkg::IdCapPacketMinHeadroomLsb) |
      (32'(MinTailroom) << ipsec_card_pkg::IdCapPacketMinTailroomLsb);
  localparam logic [31:0] CapRecords =
      (32'(ipsec_card_pkg::ReqDescBytes) << ipsec_card_pkg::IdCapRecordsReqDescBytesLsb) |
      (32'(ipsec_card_pkg::CplBytes) << ipsec_card_pkg::IdCapRecordsCplBytesLsb) |
      (32'(ipsec_card_pkg::EventBytes) << ipsec_card_pkg::IdCapRecordsEventBytesLsb) |
      (32'(ipsec_card_pkg::SaParamsBytes) << ipsec_card_pkg::IdCapRecordsSaParamBytesLsb);
  localparam logic [15:0] RingEnd = 16'(32'(ipsec_card_pkg::RingBase) +
                                        RingPairs * ipsec_card_pkg::RingStride);
  localparam logic [15:0] SaKeyEnd = 16'(32'(ipsec_card_pkg::SaKeyOffset) +
                                         ipsec_card_pkg::SaKeyCount * ipsec_card_pkg::SaKeyStride);
  localparam logic [15:0] SaParamEnd = 16'(32'(ipsec_card_pkg::SaParamOffset) +
                                           ipsec_card_pkg::SaParamCount * ipsec_card_pkg::SaParamStride);

  ////////////////////////////////////////////////////////
  // AXI4-Lite handshakes                               //
  ////////////////////////////////////////////////////////
  logic        aw_held_q, w_held_q, bvalid_q, rvalid_q;
  logic [15:0] awaddr_q;
  logic [31:0] wdata_q, rdata_q, rdata_d;
  logic [3:0]  wstrb_q;
  logic        aw_fire, w_fire, wr_fire, ar_fire;

  assign s_axil_awready_o = !aw_held_q;
  assign s_axil_wready_o  = !w_held_q;
  assign s_axil_bvalid_o  = bvalid_q;
  assign s_axil_bresp_o   = 2'b00;  // OKAY
  assign s_axil_arready_o = !rvalid_q;
  assign s_axil_rvalid_o  = rvalid_q;
  assign s_axil_rdata_o   = rdata_q;
  assign s_axil_rresp_o   = 2'b00;

  assign aw_fire = s_axil_awvalid_i && s_axil_awready_o;
  assign w_fire  = s_axil_wvalid_i && s_axil_wready_o;
  assign wr_fire = aw_held_q && w_held_q && !bvalid_q;
  assign ar_fire = s_axil_arvalid_i && s_axil_arready_o;

  // The handshake state survives a soft reset: the write that requests it still gets its B.
  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      aw_held_q <= 1'b0;
      w_held_q  <= 1'b0;
      bvalid_q  <= 1'b0;
      rvalid_q  <= 1'b0;
    end else begin
      if (aw_fire) aw_held_q <= 1'b1;
      else if (wr_fire) aw_held_q <= 1'b0;
      if (w_fire) w_held_q <= 1'b1;
      else if (wr_fire) w_held_q <= 1'b0;
      if (wr_fire) bvalid_q <= 1'b1;
      else if (s_axil_bready_i) bvalid_q <= 1'b0;
      if (ar_fire) rvalid_q <= 1'b1;
      else if (s_axil_rready_i) rvalid_q <= 1'b0;
    end
  end
  always_ff @(posedge clk_i) begin
    if (aw_fire) awaddr_q <= {s_axil_awaddr_i[15:2], 2'b00};
    if (w_fire) begin
      wdata_q <= s_axil_wdata_i;
      wstrb_q <= s_axil_wstrb_i;
    end
    if (ar_fire) rdata_q <= rdata_d;
  end

  ////////////////////////////////////////////////////////
  // Registers                                          //
  ////////////////////////////////////////////////////////
  logic        clr;                 // power-on reset or soft reset
  logic        soft_rst_d, soft_rst_q;
  logic        enable_d, enable_q;
  logic        fatal_d, fatal_q;
  logic [4:0]  irq_status_d, irq_status_q;
  logic [4:0]  irq_mask_d, irq_mask_q;
  logic [31:0] scratch_d, scratch_q;
  logic [63:0] unmatched_d, unmatched_q;
  logic [31:0] unmatched_hi_d, unmatched_hi_q;
  logic [RingPairs-1:0] qerr_prev_q;

  logic [63:0] evq_base_d, evq_base_q;
  logic [4:0]  evq_size_d, evq_size_q;
  logic        evq_en_d, evq_en_q, evq_irq_en_d, evq_irq_en_q;
  logic [15:0] evq_cons_d, evq_cons_q;

  logic [23:0]  sa_index_d, sa_index_q;
  logic         sa_busy_d, sa_busy_q, sa_valid_d, sa_valid_q;
  logic [7:0]   sa_result_d, sa_result_q;
  logic [2:0]   sa_state_d, sa_state_q;
  logic [383:0] sa_cnt_d, sa_cnt_q;
  logic [31:0]  sa_salt_d, sa_salt_q;
  logic [255:0] sa_key_d, sa_key_q;
  logic [767:0] sa_param_d, sa_param_q;
  logic         sa_start_d, sa_start_q;
  logic [3:0]   sa_op_d, sa_op_q;

  logic [RingPairs-1:0]    r_en_d, r_en_q, r_irq_en_d, r_irq_en_q;
  logic [RingPairs*5-1:0]  r_rq_size_d, r_rq_size_q, r_cq_size_d, r_cq_size_q;
  logic [RingPairs*64-1:0] r_rq_base_d, r_rq_base_q, r_cq_base_d, r_cq_base_q;
  logic [RingPairs*16-1:0] r_rq_prod_d, r_rq_prod_q, r_cq_cons_d, r_cq_cons_q;
  logic [RingPairs*32-1:0] r_irq_mod_d, r_irq_mod_q;
  logic [RingPairs-1:0]    r_doorbell_d, r_doorbell_q, r_arm_d, r_arm_q;

  logic        reset_busy;
  assign clr        = rst_i || soft_rst_q;
  assign reset_busy = soft_rst_q || table_busy_i;

  // Write decode
  logic [31:0] wmask, wbits;       // strobed bytes; WDATA restricted to them
  logic [15:0] waddr;
  logic        w_ring_hit;
  logic [10:0] w_ring_rel;
  logic [4:0]  w_ring;
  logic [5:0]  w_ring_off;
  assign wmask = {{8{wstrb_q[3]}}, {8{wstrb_q[2]}}, {8{wstrb_q[1]}}, {8{wstrb_q[0]}}};
  assign wbits = wdata_q & wmask;
  assign waddr = awaddr_q;
  assign w_ring_hit = waddr >= ipsec_card_pkg::RingBase && waddr < RingEnd;
  assign w_ring_rel = 11'(waddr - ipsec_card_pkg::RingBase);
  assign w_ring     = w_ring_rel[10:6];
  assign w_ring_off = w_ring_rel[5:0];

  // RW merge under the strobes
  function automatic logic [31:0] merge(input logic [31:0] old, input logic [31:0] data,
                                        input logic [31:0] mask);
    merge = (old & ~mask) | (data & mask);
  endfunction

  logic [31:0] v_ctrl, v_evq, v_ring;
  logic [4:0]  irq_set;
  always_comb begin
    v_ctrl         = '0;
    v_evq          = '0;
    v_ring         = '0;
    soft_rst_d     = 1'b0;
    enable_d       = enable_q;
    fatal_d        = fatal_q || fatal_i;
    irq_status_d   = irq_status_q;
    irq_mask_d     = irq_mask_q;
    scratch_d      = scratch_q;
    unmatched_d    = unmatched_q + 64'(unmatched_inc_i);
    unmatched_hi_d = unmatched_hi_q;
    evq_base_d     = evq_base_q;
    evq_size_d     = evq_size_q;
    evq_en_d       = evq_en_q;
    evq_irq_en_d   = evq_irq_en_q;
    evq_cons_d     = evq_cons_q;
    sa_index_d     = sa_index_q;
    sa_busy_d      = sa_busy_q;
    sa_valid_d     = sa_valid_q;
    sa_result_d    = sa_result_q;
    sa_state_d     = sa_state_q;
    sa_cnt_d       = sa_cnt_q;
    sa_salt_d      = sa_salt_q;
    sa_key_d       = sa_key_q;
    sa_param_d     = sa_param_q;
    sa_start_d     = 1'b0;
    sa_op_d        = sa_op_q;
    r_en_d         = r_en_q;
    r_irq_en_d     = r_irq_en_q;
    r_rq_size_d    = r_rq_size_q;
    r_cq_size_d    = r_cq_size_q;
    r_rq_base_d    = r_rq_base_q;
    r_cq_base_d    = r_cq_base_q;
    r_rq_prod_d    = r_rq_prod_q;
    r_cq_cons_d    = r_cq_cons_q;
    r_irq_mod_d    = r_irq_mod_q;
    r_doorbell_d   = '0;
    r_arm_d        = '0;

    // Reading UNMATCHED_LO latches the high half (one consistent 64-bit value).
    if (ar_fire && {s_axil_araddr_i[15:2], 2'b00} == ipsec_card_pkg::CtrlUnmatchedLoOffset) begin
      unmatched_hi_d = unmatched_q[63:32];
    end

    // Interrupt causes; a cause in the same cycle as its W1C wins.
    if (wr_fire && waddr == ipsec_card_pkg::CtrlIrqStatusOffset) begin
      irq_status_d = irq_status_q & ~wbits[4:0];
    end
    irq_set = '0;
    irq_set[ipsec_card_pkg::CtrlIrqStatusEventLsb]      = event_written_i;
    irq_set[ipsec_card_pkg::CtrlIrqStatusQueueErrorLsb] = |(ring_error_i & ~qerr_prev_q);
    irq_set[ipsec_card_pkg::CtrlIrqStatusFatalLsb]      = fatal_i;
    irq_set[ipsec_card_pkg::CtrlIrqStatusSaCmdDoneLsb]  = sa_cmd_done_i;
    irq_set[ipsec_card_pkg::CtrlIrqStatusEventsLostLsb] = events_lost_i;
    irq_status_d = irq_status_d | irq_set;

    // SA command completion: load what it read, and wipe the key staging (every command).
    if (sa_cmd_done_i) begin
      sa_busy_d   = 1'b0;
      sa_result_d = sa_cmd_result_i;
      sa_valid_d  = sa_cmd_slot_valid_i;
      sa_key_d    = '0;
      sa_salt_d   = '0;
      if (sa_rd_params_valid_i) sa_param_d = sa_rd_params_i;
      if (sa_rd_cnt_valid_i) begin
        sa_cnt_d   = sa_rd_cnt_i;
        sa_state_d = sa_rd_state_i;
      end
    end

    if (wr_fire) begin
      unique case (waddr)
        ipsec_card_pkg::CtrlCtrlOffset: begin
          v_ctrl   = merge({31'd0, enable_q}, wdata_q, wmask);
          enable_d = v_ctrl[ipsec_card_pkg::CtrlCtrlEnableLsb];
          if (wbits[ipsec_card_pkg::CtrlCtrlSoftResetLsb]) soft_rst_d = 1'b1;
        end
        ipsec_card_pkg::CtrlIrqMaskOffset: irq_mask_d = 5'(merge({27'd0, irq_mask_q}, wdata_q, wmask));
        ipsec_card_pkg::CtrlScratchOffset: scratch_d = merge(scratch_q, wdata_q, wmask);
        ipsec_card_pkg::EvqBaseLoOffset:
          if (!evq_en_q) evq_base_d[31:0] = merge(evq_base_q[31:0], wdata_q, wmask);
        ipsec_card_pkg::EvqBaseHiOffset:
          if (!evq_en_q) evq_base_d[63:32] = merge(evq_base_q[63:32], wdata_q, wmask);
        ipsec_card_pkg::EvqCtrlOffset: begin
          v_evq        = merge({22'd0, evq_irq_en_q, evq_en_q, 3'd0, evq_size_q}, wdata_q, wmask);
          evq_en_d     = v_evq[ipsec_card_pkg::EvqCtrlEnableLsb];
          evq_irq_en_d = v_evq[ipsec_card_pkg::EvqCtrlIrqEnableLsb];
          if (!evq_en_q) evq_size_d = v_evq[4:0];
          if (!evq_en_q && evq_en_d) evq_cons_d = '0;  // 0 to 1: indices restart at 0
        end
        ipsec_card_pkg::EvqConsOffset: evq_cons_d = 16'(merge({16'd0, evq_cons_q}, wdata_q, wmask));
        ipsec_card_pkg::SaIndexOffset:
          if (!sa_busy_q) sa_index_d = 24'(merge({8'd0, sa_index_q}, wdata_q, wmask));
        ipsec_card_pkg::SaCmdOffset: begin
          if (sa_busy_q || reset_busy) begin
            sa_result_d = ipsec_card_pkg::SaResultBusy;  // ignored
          end else begin
            sa_busy_d  = 1'b1;
            sa_start_d = 1'b1;
            sa_op_d    = wbits[ipsec_card_pkg::SaCmdOpLsb +: 4];
          end
        end
        ipsec_card_pkg::SaSaltOffset:
          if (!sa_busy_q) sa_salt_d = merge(sa_salt_q, wdata_q, wmask);
        default: ;
      endcase
      if (!sa_busy_q && waddr >= ipsec_card_pkg::SaKeyOffset && waddr < SaKeyEnd) begin
        for (int unsigned k = 0; k < ipsec_card_pkg::SaKeyCount; k++) begin
          if (waddr[4:2] == 3'(k)) sa_key_d[k*32 +: 32] = merge(sa_key_q[k*32 +: 32], wdata_q, wmask);
        end
      end
      if (!sa_busy_q && waddr >= ipsec_card_pkg::SaParamOffset && waddr < SaParamEnd) begin
        for (int unsigned k = 0; k < ipsec_card_pkg::SaParamCount; k++) begin
          if (waddr - ipsec_card_pkg::SaParamOffset == 16'(4 * k)) begin
            sa_param_d[k*32 +: 32] = merge(sa_param_q[k*32 +: 32], wdata_q, wmask);
          end
        end
      end
      if (w_ring_hit) begin
        for (int unsigned r = 0; r < RingPairs; r++) begin
          if (w_ring == 5'(r)) begin
            unique case (w_ring_off)
              6'(ipsec_card_pkg::RingCtrlOffset): begin
                v_ring = merge({11'd0, r_cq_size_q[r*5 +: 5], 3'd0, r_rq_size_q[r*5 +: 5], 6'd0,
                           r_irq_en_q[r], r_en_q[r]}, wdata_q, wmask);
                r_en_d[r]     = v_ring[ipsec_card_pkg::RingCtrlEnableLsb];
                r_irq_en_d[r] = v_ring[ipsec_card_pkg::RingCtrlIrqEnableLsb];
                // Sizes only while disabled (the engine uses them while enabled).
                if (!r_en_q[r]) begin
                  r_rq_size_d[r*5 +: 5] = v_ring[ipsec_card_pkg::RingCtrlRqSizeLog2Lsb +: 5];
                  r_cq_size_d[r*5 +: 5] = v_ring[ipsec_card_pkg::RingCtrlCqSizeLog2Lsb +: 5];
                end
                if (!r_en_q[r] && r_en_d[r]) begin  // 0 to 1: the host's indices restart at 0
                  r_rq_prod_d[r*16 +: 16] = '0;
                  r_cq_cons_d[r*16 +: 16] = '0;
                end
              end
              6'(ipsec_card_pkg::RingRqBaseLoOffset):
                if (!r_en_q[r]) r_rq_base_d[r*64 +: 32] = merge(r_rq_base_q[r*64 +: 32], wdata_q, wmask);
              6'(ipsec_card_pkg::RingRqBaseHiOffset):
                if (!r_en_q[r]) r_rq_base_d[r*64+32 +: 32] = merge(r_rq_base_q[r*64+32 +: 32], wdata_q, wmask);
              6'(ipsec_card_pkg::RingCqBaseLoOffset):
                if (!r_en_q[r]) r_cq_base_d[r*64 +: 32] = merge(r_cq_base_q[r*64 +: 32], wdata_q, wmask);
              6'(ipsec_card_pkg::RingCqBaseHiOffset):
                if (!r_en_q[r]) r_cq_base_d[r*64+32 +: 32] = merge(r_cq_base_q[r*64+32 +: 32], wdata_q, wmask);
              6'(ipsec_card_pkg::RingRqProdOffset): begin
                r_rq_prod_d[r*16 +: 16] = 16'(merge({16'd0, r_rq_prod_q[r*16 +: 16]}, wdata_q, wmask));
                r_doorbell_d[r] = 1'b1;
              end
              6'(ipsec_card_pkg::RingCqConsOffset): begin
                r_cq_cons_d[r*16 +: 16] = 16'(merge({16'd0, r_cq_cons_q[r*16 +: 16]}, wdata_q, wmask));
                r_arm_d[r] = wbits[ipsec_card_pkg::RingCqConsArmLsb];
              end
              6'(ipsec_card_pkg::RingIrqModOffset):
                if (!r_en_q[r]) r_irq_mod_d[r*32 +: 32] = merge(r_irq_mod_q[r*32 +: 32], wdata_q, wmask);
              default: ;
            endcase
          end
        end
      end
    end
  end

  // Registers cleared by power-on and soft reset
  always_ff @(posedge clk_i) begin
    if (clr) begin
      enable_q       <= 1'b0;
      fatal_q        <= 1'b0;
      irq_status_q   <= '0;
      irq_mask_q     <= '0;
      unmatched_q    <= '0;
      unmatched_hi_q <= '0;
      qerr_prev_q    <= '0;
      evq_base_q     <= '0;
      evq_size_q     <= '0;
      evq_en_q       <= 1'b0;
      evq_irq_en_q   <= 1'b0;
      evq_cons_q     <= '0;
      sa_index_q     <= '0;
      sa_busy_q      <= 1'b0;
      sa_valid_q     <= 1'b0;
      sa_result_q    <= '0;
      sa_state_q     <= '0;
      sa_cnt_q       <= '0;
      sa_salt_q      <= '0;
      sa_key_q       <= '0;
      sa_param_q     <= '0;
      sa_start_q     <= 1'b0;
      sa_op_q        <= '0;
      r_en_q         <= '0;
      r_irq_en_q     <= '0;
      r_rq_size_q    <= '0;
      r_cq_size_q    <= '0;
      r_rq_base_q    <= '0;
      r_cq_base_q    <= '0;
      r_rq_prod_q    <= '0;
      r_cq_cons_q    <= '0;
      r_irq_mod_q    <= '0;
      r_doorbell_q   <= '0;
      r_arm_q        <= '0;
    end else begin
      enable_q       <= enable_d;
      fatal_q        <= fatal_d;
      irq_status_q   <= irq_status_d;
      irq_mask_q     <= irq_mask_d;
      unmatched_q    <= unmatched_d;
      unmatched_hi_q <= unmatched_hi_d;
      qerr_prev_q    <= ring_error_i;
      evq_base_q     <= evq_base_d;
      evq_size_q     <= evq_size_d;
      evq_en_q       <= evq_en_d;
      evq_irq_en_q   <= evq_irq_en_d;
      evq_cons_q     <= evq_cons_d;
      sa_index_q     <= sa_index_d;
      sa_busy_q      <= sa_busy_d;
      sa_valid_q     <= sa_valid_d;
      sa_result_q    <= sa_result_d;
      sa_state_q     <= sa_state_d;
      sa_cnt_q       <= sa_cnt_d;
      sa_salt_q      <= sa_salt_d;
      sa_key_q       <= sa_key_d;
      sa_param_q     <= sa_param_d;
      sa_start_q     <= sa_start_d;
      sa_op_q        <= sa_op_d;
      r_en_q         <= r_en_d;
      r_irq_en_q     <= r_irq_en_d;
      r_rq_size_q    <= r_rq_size_d;
      r_cq_size_q    <= r_cq_size_d;
      r_rq_base_q    <= r_rq_base_d;
      r_cq_base_q    <= r_cq_base_d;
      r_rq_prod_q    <= r_rq_prod_d;
      r_cq_cons_q    <= r_cq_cons_d;
      r_irq_mod_q    <= r_irq_mod_d;
      r_doorbell_q   <= r_doorbell_d;
      r_arm_q        <= r_arm_d;
    end
  end
  // Power-on only: SCRATCH survives a soft reset, and the soft-reset pulse itself.
  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      scratch_q  <= '0;
      soft_rst_q <= 1'b0;
    end else begin
      scratch_q  <= scratch_d;
      soft_rst_q <= soft_rst_d;
    end
  end

  ////////////////////////////////////////////////////////
  // Read multiplexer                                   //
  ////////////////////////////////////////////////////////
  logic [15:0] raddr;
  logic [10:0] r_ring_rel;
  logic        r_ring_hit;
  logic [4:0]  r_ring;
  logic [5:0]  r_ring_off;
  assign raddr      = {s_axil_araddr_i[15:2], 2'b00};
  assign r_ring_hit = raddr >= ipsec_card_pkg::RingBase && raddr < RingEnd;
  assign r_ring_rel = 11'(raddr - ipsec_card_pkg::RingBase);
  assign r_ring     = r_ring_rel[10:6];
  assign r_ring_off = r_ring_rel[5:0];

  logic [31:0] ctrl_status, queue_error;
  always_comb begin
    ctrl_status = '0;
    ctrl_status[ipsec_card_pkg::CtrlStatusReadyLsb]     = !reset_busy;
    ctrl_status[ipsec_card_pkg::CtrlStatusResetBusyLsb] = reset_busy;
    ctrl_status[ipsec_card_pkg::CtrlStatusEnabledLsb]   = enabled_i;
    ctrl_status[ipsec_card_pkg::CtrlStatusFatalLsb]     = fatal_q;
    queue_error = 32'(ring_error_i);
  end

  always_comb begin
    rdata_d = '0;
    unique case (raddr)
      ipsec_card_pkg::IdTypeOffset:          rdata_d = ipsec_card_pkg::IdTypeReset;
      ipsec_card_pkg::IdVersionOffset:       rdata_d = LayoutVersion;
      ipsec_card_pkg::IdNextOffset:          rdata_d = 32'(ipsec_card_pkg::CtrlBase);
      ipsec_card_pkg::IdBuildIdOffset:       rdata_d = BuildId;
      ipsec_card_pkg::IdBuildDateOffset:     rdata_d = BuildDate;
      ipsec_card_pkg::IdFeaturesOffset:      rdata_d = Features;
      ipsec_card_pkg::IdSuitesOffset:        rdata_d = Suites;
      ipsec_card_pkg::IdCapEngineOffset:     rdata_d = CapEngine;
      ipsec_card_pkg::IdCapSaOffset:         rdata_d = NumSa;
      ipsec_card_pkg::IdCapReplayOffset:     rdata_d = MaxReplayWindow;
      ipsec_card_pkg::IdCapQueuesOffset:     rdata_d = CapQueues;
      ipsec_card_pkg::IdCapPacketOffset:     rdata_d = CapPacket;
      ipsec_card_pkg::IdCapRecordsOffset:    rdata_d = CapRecords;

      ipsec_card_pkg::CtrlTypeOffset:        rdata_d = ipsec_card_pkg::CtrlTypeReset;
      ipsec_card_pkg::CtrlVersionOffset:     rdata_d = ipsec_card_pkg::CtrlVersionReset;
      ipsec_card_pkg::CtrlNextOffset:        rdata_d = 32'(ipsec_card_pkg::EvqBase);
      ipsec_card_pkg::CtrlCtrlOffset:        rdata_d = {30'd0, reset_busy, enable_q};
      ipsec_card_pkg::CtrlStatusOffset:      rdata_d = ctrl_status;
      ipsec_card_pkg::CtrlIrqStatusOffset:   rdata_d = {27'd0, irq_status_q};
      ipsec_card_pkg::CtrlIrqMaskOffset:     rdata_d = {27'd0, irq_mask_q};
      ipsec_card_pkg::CtrlQueueErrorOffset:  rdata_d = queue_error;
      ipsec_card_pkg::CtrlScratchOffset:     rdata_d = scratch_q;
      ipsec_card_pkg::CtrlUnmatchedLoOffset: rdata_d = unmatched_q[31:0];
      ipsec_card_pkg::CtrlUnmatchedHiOffset: rdata_d = unmatched_hi_q;

      ipsec_card_pkg::EvqTypeOffset:         rdata_d = ipsec_card_pkg::EvqTypeReset;
      ipsec_card_pkg::EvqVersionOffset:      rdata_d = ipsec_card_pkg::EvqVersionReset;
      ipsec_card_pkg::EvqNextOffset:         rdata_d = 32'(ipsec_card_pkg::SaBase);
      ipsec_card_pkg::EvqBaseLoOffset:       rdata_d = evq_base_q[31:0];
      ipsec_card_pkg::EvqBaseHiOffset:       rdata_d = evq_base_q[63:32];
      ipsec_card_pkg::EvqCtrlOffset:         rdata_d = {22'd0, evq_irq_en_q, evq_en_q, 3'd0, evq_size_q};
      ipsec_card_pkg::EvqConsOffset:         rdata_d = {16'd0, evq_cons_q};
      ipsec_card_pkg::EvqProdOffset:         rdata_d = {16'd0, evq_prod_i};
      ipsec_card_pkg::EvqLostOffset:         rdata_d = evq_lost_i;

      ipsec_card_pkg::SaTypeOffset:          rdata_d = ipsec_card_pkg::SaTypeReset;
      ipsec_card_pkg::SaVersionOffset:       rdata_d = ipsec_card_pkg::SaVersionReset;
      ipsec_card_pkg::SaNextOffset:          rdata_d = 32'(ipsec_card_pkg::QueuesBase);
      ipsec_card_pkg::SaIndexOffset:         rdata_d = {8'd0, sa_index_q};
      ipsec_card_pkg::SaStatusOffset:        rdata_d = {16'd0, sa_result_q, 6'd0, sa_valid_q, sa_busy_q};
      ipsec_card_pkg::SaStateOffset:         rdata_d = {29'd0, sa_state_q};
      ipsec_card_pkg::SaCntPacketsLoOffset:  rdata_d = sa_cnt_q[0*32 +: 32];
      ipsec_card_pkg::SaCntPacketsHiOffset:  rdata_d = sa_cnt_q[1*32 +: 32];
      ipsec_card_pkg::SaCntBytesLoOffset:    rdata_d = sa_cnt_q[2*32 +: 32];
      ipsec_card_pkg::SaCntBytesHiOffset:    rdata_d = sa_cnt_q[3*32 +: 32];
      ipsec_card_pkg::SaCntAuthFailLoOffset: rdata_d = sa_cnt_q[4*32 +: 32];
      ipsec_card_pkg::SaCntAuthFailHiOffset: rdata_d = sa_cnt_q[5*32 +: 32];
      ipsec_card_pkg::SaCntReplayLoOffset:   rdata_d = sa_cnt_q[6*32 +: 32];
      ipsec_card_pkg::SaCntReplayHiOffset:   rdata_d = sa_cnt_q[7*32 +: 32];
      ipsec_card_pkg::SaCntOtherLoOffset:    rdata_d = sa_cnt_q[8*32 +: 32];
      ipsec_card_pkg::SaCntOtherHiOffset:    rdata_d = sa_cnt_q[9*32 +: 32];
      ipsec_card_pkg::SaSeqLoOffset:         rdata_d = sa_cnt_q[10*32 +: 32];
      ipsec_card_pkg::SaSeqHiOffset:         rdata_d = sa_cnt_q[11*32 +: 32];
      // SA_CMD, SA_SALT and SA_KEY_* are write-only: they fall through to 0.

      ipsec_card_pkg::QueuesTypeOffset:       rdata_d = ipsec_card_pkg::QueuesTypeReset;
      ipsec_card_pkg::QueuesVersionOffset:    rdata_d = ipsec_card_pkg::QueuesVersionReset;
      ipsec_card_pkg::QueuesNextOffset:       rdata_d = 32'd0;
      ipsec_card_pkg::QueuesRingCountOffset:  rdata_d = RingPairs;
      ipsec_card_pkg::QueuesRingStrideOffset: rdata_d = ipsec_card_pkg::RingStride;
      ipsec_card_pkg::QueuesRingOffsetOffset: rdata_d = 32'(ipsec_card_pkg::RingBase) - 32'(ipsec_card_pkg::QueuesBase);
      default: ;
    endcase
    if (raddr >= ipsec_card_pkg::SaParamOffset && raddr < SaParamEnd) begin
      for (int unsigned k = 0; k < ipsec_card_pkg::SaParamCount; k++) begin
        if (raddr - ipsec_card_pkg::SaParamOffset == 16'(4 * k)) rdata_d = sa_param_q[k*32 +: 32];
      end
    end
    if (r_ring_hit) begin
      for (int unsigned r = 0; r < RingPairs; r++) begin
        if (r_ring == 5'(r)) begin
          unique case (r_ring_off)
            6'(ipsec_card_pkg::RingCtrlOffset):
              rdata_d = {11'd0, r_cq_size_q[r*5 +: 5], 3'd0, r_rq_size_q[r*5 +: 5], 6'd0, r_irq_en_q[r],
                         r_en_q[r]};
            6'(ipsec_card_pkg::RingStatusOffset):
              rdata_d = {16'd0, ring_error_code_i[r*8 +: 8], 5'd0, ring_busy_i[r], ring_error_i[r],
                         ring_active_i[r]};
            6'(ipsec_card_pkg::RingRqBaseLoOffset): rdata_d = r_rq_base_q[r*64 +: 32];
            6'(ipsec_card_pkg::RingRqBaseHiOffset): rdata_d = r_rq_base_q[r*64+32 +: 32];
            6'(ipsec_card_pkg::RingCqBaseLoOffset): rdata_d = r_cq_base_q[r*64 +: 32];
            6'(ipsec_card_pkg::RingCqBaseHiOffset): rdata_d = r_cq_base_q[r*64+32 +: 32];
            6'(ipsec_card_pkg::RingRqProdOffset):   rdata_d = {16'd0, r_rq_prod_q[r*16 +: 16]};
            6'(ipsec_card_pkg::RingRqConsOffset):   rdata_d = {16'd0, ring_rq_cons_i[r*16 +: 16]};
            6'(ipsec_card_pkg::RingCqConsOffset):   rdata_d = {16'd0, r_cq_cons_q[r*16 +: 16]};  // ARM reads 0
            6'(ipsec_card_pkg::RingCqProdOffset):   rdata_d = {16'd0, ring_cq_prod_i[r*16 +: 16]};
            6'(ipsec_card_pkg::RingIrqModOffset):   rdata_d = r_irq_mod_q[r*32 +: 32];
            default: ;
          endcase
        end
      end
    end
  end

  ////////////////////////////////////////////////////////
  // Outputs                                            //
  ////////////////////////////////////////////////////////
  assign soft_rst_o       = soft_rst_q;
  assign enable_o         = enable_q;
  assign irq_o            = |(irq_status_q & irq_mask_q);
  assign sa_cmd_valid_o   = sa_start_q;
  assign sa_cmd_op_o      = sa_op_q;
  assign sa_cmd_index_o   = sa_index_q;
  assign sa_params_o      = sa_param_q;
  assign sa_key_o         = sa_key_q;
  assign sa_salt_o        = sa_salt_q;

  assign evq_base_o       = evq_base_q;
  assign evq_size_log2_o  = evq_size_q;
  assign evq_enable_o     = evq_en_q;
  assign evq_irq_enable_o = evq_irq_en_q;
  assign evq_cons_o       = evq_cons_q;

  assign ring_enable_o          = r_en_q;
  assign ring_irq_enable_o      = r_irq_en_q;
  assign ring_rq_size_log2_o    = r_rq_size_q;
  assign ring_cq_size_log2_o    = r_cq_size_q;
  assign ring_rq_base_o         = r_rq_base_q;
  assign ring_cq_base_o         = r_cq_base_q;
  assign ring_rq_prod_o         = r_rq_prod_q;
  assign ring_doorbell_o        = r_doorbell_q;
  assign ring_cq_cons_o         = r_cq_cons_q;
  assign ring_arm_o             = r_arm_q;
  for (genvar r = 0; r < RingPairs; r++) begin : gen_irq_mod
    assign ring_irq_mod_count_o[r*16 +: 16]   = r_irq_mod_q[r*32 +: 16];
    assign ring_irq_mod_time_us_o[r*16 +: 16] = r_irq_mod_q[r*32+16 +: 16];
  end

endmodule
