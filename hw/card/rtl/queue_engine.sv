// SPDX-License-Identifier: Apache-2.0
//
// The card's DMA queue manager (after Corundum's queue managers and desc_fetch): fetches request
// descriptors from the host's request rings, hands them to the ESP engine one at a time, writes
// the engine's completions into the completion rings and SA/queue events into the event ring,
// checks ring configuration and doorbells, and moderates the per-ring interrupts.
// docs/device-interface.md (Queues, Events and interrupts, Errors and recovery) is the contract;
// hw/card/doc/queue_engine.md explains the structure and the ordering argument.
//
// DMA: one AXI4 read channel set (descriptor fetch) and one write channel set (completions and
// events), 64-bit addresses, 512-bit data, INCR bursts. Fetch: one burst outstanding, up to
// FetchBurst contiguous 32-byte descriptors (2 per beat) that never wrap the ring and never cross
// 4 KiB. Writes: one single-beat write outstanding (AWSIZE 5 for a 32-byte completion, 4 for a
// 16-byte event, strobes only on the record), so every record is visible before the next one is
// issued: completions become visible in ring order.
//
// Index bookkeeping per ring: rq_cons counts descriptors fetched (advanced when their R beat
// arrives), done counts completions retired (written, or dropped on a dead completion ring),
// cq_prod counts completions written. The completion-space rule is rq_cons - cq_cons <= CQ size:
// every fetched descriptor will take one completion slot, so a descriptor is fetched only when
// its slot is already free, and no completion ever waits for space.
//
// Interrupts: irq_o[r] is a one-cycle pulse per interrupt of ring pair r (vector r).
//
// Reset: rst_i (synchronous, active high) returns every ring to disabled and the AXI FSMs to
// idle; it must only be raised with no DMA outstanding or together with a reset of the
// interconnect (see queue_engine.md, Open points).
`default_nettype none

module queue_engine #(
  parameter int unsigned RingPairs   = ipsec_card_pkg::RingPairsDefault,    // 1 .. 32
  parameter int unsigned MaxRingLog2 = ipsec_card_pkg::MaxRingLog2Default,  // 4 .. 15
  parameter int unsigned FetchBurst  = ipsec_card_pkg::FetchBurstDefault,   // descriptors, 1 .. 64
  parameter int unsigned IdW         = 4,    // AXI ID width (IDs are always 0)
  parameter int unsigned ClkMHz      = 250,  // clk_i frequency, for IRQ_MOD.TIME_US
  localparam int unsigned RIdxW      = RingPairs > 1 ? $clog2(RingPairs) : 1
) (
  input  logic                     clk_i,
  input  logic                     rst_i,               // synchronous, active high

  // Global enable (CTRL.ENABLE) and its status
  input  logic                     enable_i,
  output logic                     enabled_o,

  // Ring-pair registers from card_ctrl
  input  logic [RingPairs-1:0]     ring_enable_i,
  input  logic [RingPairs-1:0]     ring_irq_enable_i,
  input  logic [RingPairs*5-1:0]   ring_rq_size_log2_i,
  input  logic [RingPairs*5-1:0]   ring_cq_size_log2_i,
  input  logic [RingPairs*64-1:0]  ring_rq_base_i,
  input  logic [RingPairs*64-1:0]  ring_cq_base_i,
  input  logic [RingPairs*16-1:0]  ring_rq_prod_i,
  input  logic [RingPairs-1:0]     ring_doorbell_i,     // pulse: RQ_PROD written
  input  logic [RingPairs*16-1:0]  ring_cq_cons_i,
  input  logic [RingPairs-1:0]     ring_arm_i,          // pulse: CQ_CONS written with ARM
  input  logic [RingPairs*16-1:0]  ring_irq_mod_count_i,
  input  logic [RingPairs*16-1:0]  ring_irq_mod_time_us_i,
  output logic [RingPairs*16-1:0]  ring_rq_cons_o,
  output logic [RingPairs*16-1:0]  ring_cq_prod_o,
  output logic [RingPairs-1:0]     ring_active_o,
  output logic [RingPairs-1:0]     ring_busy_o,
  output logic [RingPairs-1:0]     ring_error_o,
  output logic [RingPairs*8-1:0]   ring_error_code_o,

  // Event-ring registers from card_ctrl
  input  logic [63:0]              evq_base_i,
  input  logic [4:0]               evq_size_log2_i,
  input  logic                     evq_enable_i,
  input  logic                     evq_irq_enable_i,
  input  logic [15:0]              evq_cons_i,
  output logic [15:0]              evq_prod_o,
  output logic [31:0]              evq_lost_o,
  output logic                     event_written_o,     // pulse per event written (IRQ_ENABLE)
  output logic                     events_lost_o,       // pulse per event dropped

  // Per-ring interrupt vectors: one-cycle pulses
  output logic [RingPairs-1:0]     irq_o,

  // Descriptors to the ESP engine, in ring order per ring
  output logic                     desc_valid_o,
  input  logic                     desc_ready_i,
  output logic [4:0]               desc_ring_o,
  output logic [15:0]              desc_index_o,        // free-running descriptor index
  output ipsec_card_pkg::req_desc_t desc_o,

  // Completions from the ESP engine, per ring in descriptor order
  input  logic                     cpl_valid_i,
  output logic                     cpl_ready_o,
  input  logic [4:0]               cpl_ring_i,
  input  ipsec_card_pkg::cpl_t     cpl_rec_i,           // PHASE 0; the engine fills the rest
  input  logic                     cpl_irq_i,           // the descriptor's IRQ bit

  // SA events from sa_table
  input  logic                     ev_valid_i,
  output logic                     ev_ready_o,
  input  logic [7:0]               ev_kind_i,
  input  logic [23:0]              ev_sa_index_i,
  input  logic                     ev_dir_i,
  input  logic [63:0]              ev_info_i,

  // AXI4 master, read channels (descriptor fetch)
  output logic [IdW-1:0]           m_axi_arid_o,
  output logic [63:0]              m_axi_araddr_o,
  output logic [7:0]               m_axi_arlen_o,
  output logic [2:0]               m_axi_arsize_o,
  output logic [1:0]               m_axi_arburst_o,
  output logic                     m_axi_arvalid_o,
  input  logic                     m_axi_arready_i,
  input  logic [IdW-1:0]           m_axi_rid_i,
  input  logic [511:0]             m_axi_rdata_i,
  input  logic [1:0]               m_axi_rresp_i,
  input  logic                     m_axi_rlast_i,
  input  logic                     m_axi_rvalid_i,
  output logic                     m_axi_rready_o,

  // AXI4 master, write channels (completions and events)
  output logic [IdW-1:0]           m_axi_awid_o,
  output logic [63:0]              m_axi_awaddr_o,
  output logic [7:0]               m_axi_awlen_o,
  output logic [2:0]               m_axi_awsize_o,
  output logic [1:0]               m_axi_awburst_o,
  output logic                     m_axi_awvalid_o,
  input  logic                     m_axi_awready_i,
  output logic [511:0]             m_axi_wdata_o,
  output logic [63:0]              m_axi_wstrb_o,
  output logic                     m_axi_wlast_o,
  output logic                     m_axi_wvalid_o,
  input  logic                     m_axi_wready_i,
  input  logic [IdW-1:0]           m_axi_bid_i,
  input  logic [1:0]               m_axi_bresp_i,
  input  logic                     m_axi_bvalid_i,
  output logic                     m_axi_bready_o,

  // A response with nothing outstanding (R outside a descriptor fetch, B outside a write's
  // response wait; a broken interconnect or host): taken, dropped, one-cycle pulse
  // (CTRL_STATUS.FATAL).
  output logic                     fault_o
);

  localparam int unsigned R = RingPairs;
  localparam int unsigned TickW = ClkMHz > 1 ? $clog2(ClkMHz) : 1;
  // Event record fields (record bit b = vector bit b)
  localparam int unsigned EvInfo  = ipsec_card_pkg::EventInfoLsb;
  localparam int unsigned EvSa    = ipsec_card_pkg::EventSaIndexLsb;
  localparam int unsigned EvRing  = ipsec_card_pkg::EventRingLsb;
  localparam int unsigned EvKind  = ipsec_card_pkg::EventKindLsb;
  localparam int unsigned EvCode  = ipsec_card_pkg::EventCodeLsb;
  localparam int unsigned EvDir   = ipsec_card_pkg::EventDirLsb;
  localparam int unsigned EvPhase = ipsec_card_pkg::EventPhaseLsb;

  // Elaboration-time checks (Corundum desc_fetch style)
  if (RingPairs < 1 || RingPairs > 32) begin : gen_bad_rings
    $error("%m: RingPairs must be 1 .. 32");
  end
  if (MaxRingLog2 < 4 || MaxRingLog2 > 15) begin : gen_bad_log2
    $error("%m: MaxRingLog2 must be 4 .. 15");
  end
  if (FetchBurst < 1 || FetchBurst > 64) begin : gen_bad_burst
    $error("%m: FetchBurst must be 1 .. 64");
  end
  if (ClkMHz < 1) begin : gen_bad_clk
    $error("%m: ClkMHz must be at least 1");
  end

  //////////////////////////////////////////////////////////////////////////////////////////////
  // State
  //////////////////////////////////////////////////////////////////////////////////////////////

  typedef enum logic [1:0] {StFIdle, StFCalc, StFAddr, StFData} fetch_st_e;
  typedef enum logic [1:0] {StWIdle, StWSend, StWResp} write_st_e;
  typedef enum logic [1:0] {WkCpl, WkEvent, WkLost} write_kind_e;

  // Per ring
  logic [R-1:0]      en_q, en_d;            // ring_enable_i of the last cycle (edge detection)
  logic [R-1:0]      err_q, err_d;
  logic [R*8-1:0]    code_q, code_d;
  logic [R-1:0]      dead_q, dead_d;        // completion ring failed: drop its completions
  logic [R-1:0]      qe_pend_q, qe_pend_d;  // queue_error event to post
  logic [R*64-1:0]   qe_info_q, qe_info_d;
  logic [R*16-1:0]   rq_prod_q, rq_prod_d;  // last accepted doorbell
  logic [R*16-1:0]   rq_cons_q, rq_cons_d;  // descriptors fetched
  logic [R*16-1:0]   cq_prod_q, cq_prod_d;  // completions written
  logic [R*16-1:0]   done_q, done_d;        // completions retired (written or dropped)
  logic [R-1:0]      armed_q, armed_d;
  logic [R-1:0]      force_q, force_d;      // a completion with the IRQ bit since the last report
  logic [R-1:0]      run_q, run_d;          // moderation timer running
  logic [R*16-1:0]   mcnt_q, mcnt_d;        // completions since arming / the last interrupt
  logic [R*16-1:0]   mtmr_q, mtmr_d;        // microseconds since the first of them
  logic [R-1:0]      irq_q, irq_d;

  // Global
  logic              enable_q;
  logic [TickW-1:0]  tick_cnt_q, tick_cnt_d;
  logic              us_tick;

  // Fetch
  fetch_st_e         f_st_q, f_st_d;
  logic [RIdxW-1:0]  rr_q, rr_d;            // last ring served
  logic [RIdxW-1:0]  f_ring_q, f_ring_d;
  logic              f_first_q, f_first_d;  // next R beat is the burst's first
  logic              f_odd_q, f_odd_d;      // the first descriptor is in the upper half
  logic [6:0]        f_left_q, f_left_d;    // descriptors still to arrive
  logic              f_bad_q, f_bad_d;      // an R error was seen: drop the rest of the burst
  logic [63:0]       f_addr_q, f_addr_d;    // address of the next R beat (64-byte aligned)
  logic [7:0]        ar_len_q, ar_len_d;

  // Descriptor beat buffer (one R beat, handed out half by half)
  logic              rb_lo_q, rb_lo_d, rb_hi_q, rb_hi_d;
  logic [511:0]      rb_data_q, rb_data_d;
  logic [RIdxW-1:0]  rb_ring_q, rb_ring_d;
  logic [15:0]       rb_idx_q, rb_idx_d;

  // Write
  write_st_e         w_st_q, w_st_d;
  write_kind_e       w_kind_q, w_kind_d;
  logic              w_aw_done_q, w_aw_done_d, w_w_done_q, w_w_done_d;
  logic [63:0]       w_addr_q, w_addr_d;
  logic [2:0]        w_size_q, w_size_d;
  logic [511:0]      w_data_q, w_data_d;
  logic [63:0]       w_strb_q, w_strb_d;
  logic [RIdxW-1:0]  w_ring_q, w_ring_d;
  logic              w_irq_q, w_irq_d;
  logic [31:0]       w_lost_q, w_lost_d;    // events_lost count carried by this write
  logic              w_pri_q, w_pri_d;      // 1: completions before events next time

  // Event ring
  logic              evq_en_q;
  logic [15:0]       evq_prod_q, evq_prod_d;
  logic [31:0]       evq_lost_q, evq_lost_d;
  logic [31:0]       lost_pend_q, lost_pend_d;
  logic              ev_written_q, ev_written_d, ev_lost_q, ev_lost_d;

  //////////////////////////////////////////////////////////////////////////////////////////////
  // Helpers
  //////////////////////////////////////////////////////////////////////////////////////////////

  // 2^log2 as a 17-bit count (log2 <= 15 for any accepted configuration).
  function automatic logic [16:0] pow2(input logic [4:0] log2);
    pow2 = 17'd1 << log2;
  endfunction

  logic        evq_size_ok, evq_room;
  logic [15:0] evq_fill;
  assign evq_size_ok = evq_size_log2_i >= 5'd4 && evq_size_log2_i <= 5'(MaxRingLog2);
  assign evq_fill    = 16'(evq_prod_q - evq_cons_i);
  assign evq_room    = evq_size_ok && {1'b0, evq_fill} < pow2(evq_size_log2_i);

  assign us_tick = tick_cnt_q == TickW'(ClkMHz - 1);

  // Per-ring fetch eligibility
  logic [R-1:0] elig;
  logic [15:0]  pend, inuse;
  always_comb begin
    pend  = '0;
    inuse = '0;
    for (int unsigned r = 0; r < R; r++) begin
      pend  = 16'(rq_prod_q[r*16 +: 16] - rq_cons_q[r*16 +: 16]);
      inuse = 16'(rq_cons_q[r*16 +: 16] - ring_cq_cons_i[r*16 +: 16]);
      elig[r] = enable_q && en_q[r] && ring_enable_i[r] && !err_q[r] && pend != 16'd0 &&
                {1'b0, inuse} < pow2(ring_cq_size_log2_i[r*5 +: 5]);
    end
  end

  //////////////////////////////////////////////////////////////////////////////////////////////
  // Next state
  //////////////////////////////////////////////////////////////////////////////////////////////

  // Fetch-burst computation for f_ring_q (StFCalc)
  logic [4:0]   c_rq_log2;
  logic [16:0]  c_rq_size, c_avail, c_space, c_to_end, c_to_4k, c_n;
  logic [15:0]  c_cons, c_slot;
  logic [63:0]  c_addr;
  always_comb begin
    c_rq_log2 = ring_rq_size_log2_i[f_ring_q*5 +: 5];
    c_rq_size = pow2(c_rq_log2);
    c_cons    = rq_cons_q[f_ring_q*16 +: 16];
    c_slot    = c_cons & 16'(c_rq_size - 17'd1);
    c_avail   = {1'b0, 16'(rq_prod_q[f_ring_q*16 +: 16] - c_cons)};
    c_space   = pow2(ring_cq_size_log2_i[f_ring_q*5 +: 5]) -
                {1'b0, 16'(c_cons - ring_cq_cons_i[f_ring_q*16 +: 16])};
    c_to_end  = c_rq_size - {1'b0, c_slot};
    c_addr    = ring_rq_base_i[f_ring_q*64 +: 64] + {43'd0, c_slot, 5'd0};
    c_to_4k   = 17'(17'h1000 - {5'd0, c_addr[11:0]}) >> 5;
    c_n       = 17'(FetchBurst);
    if (c_avail < c_n) c_n = c_avail;
    if (c_space < c_n) c_n = c_space;
    if (c_to_end < c_n) c_n = c_to_end;
    if (c_to_4k < c_n) c_n = c_to_4k;
  end

  // Descriptor output
  assign desc_valid_o = rb_lo_q || rb_hi_q;
  assign desc_ring_o  = 5'(rb_ring_q);
  assign desc_index_o = rb_idx_q;
  assign desc_o       = rb_lo_q ? rb_data_q[255:0] : rb_data_q[511:256];

  // Write-side selection (StWIdle)
  logic             any_qe;
  logic [RIdxW-1:0] qe_ring;
  always_comb begin
    any_qe  = 1'b0;
    qe_ring = '0;
    for (int r = R - 1; r >= 0; r--) begin
      if (qe_pend_q[r]) begin
        any_qe  = 1'b1;
        qe_ring = RIdxW'(r);
      end
    end
  end

  logic w_flush, w_take_qe, w_take_ev, w_take_cpl;
  logic cpl_ring_ok;
  assign cpl_ring_ok = 32'(cpl_ring_i) < R;
  always_comb begin
    w_flush = 1'b0;
    w_take_qe = 1'b0;
    w_take_ev = 1'b0;
    w_take_cpl = 1'b0;
    if (w_st_q == StWIdle) begin
      if (lost_pend_q != 32'd0 && evq_enable_i && evq_room) begin
        w_flush = 1'b1;
      end else if (cpl_valid_i && (w_pri_q || (!any_qe && !ev_valid_i))) begin
        w_take_cpl = 1'b1;
      end else if (any_qe) begin
        w_take_qe = 1'b1;
      end else if (ev_valid_i) begin
        w_take_ev = 1'b1;
      end
    end
  end
  assign cpl_ready_o = w_take_cpl;
  assign ev_ready_o  = w_take_ev;

  // Scratch variables of the next-state block
  logic                  ev_post, ev_drop;
  logic [127:0]          ev;    // record event
  ipsec_card_pkg::cpl_t  cpl;
  logic [63:0]           a;
  logic [15:0]           slot;
  logic [RIdxW-1:0]      cr;
  logic                  lo_v, hi_v;
  logic [1:0]            nbeat;
  logic [RIdxW-1:0]      rot;
  logic [4:0]            rql, cql;
  logic [15:0]           cnt_thr;

  always_comb begin
    en_d = ring_enable_i;
    err_d = err_q;
    code_d = code_q;
    dead_d = dead_q;
    qe_pend_d = qe_pend_q;
    qe_info_d = qe_info_q;
    rq_prod_d = rq_prod_q;
    rq_cons_d = rq_cons_q;
    cq_prod_d = cq_prod_q;
    done_d = done_q;
    armed_d = armed_q;
    force_d = force_q;
    run_d = run_q;
    mcnt_d = mcnt_q;
    mtmr_d = mtmr_q;
    irq_d = '0;
    tick_cnt_d = us_tick ? '0 : TickW'(tick_cnt_q + 1'b1);

    f_st_d = f_st_q;
    rr_d = rr_q;
    f_ring_d = f_ring_q;
    f_first_d = f_first_q;
    f_odd_d = f_odd_q;
    f_left_d = f_left_q;
    f_bad_d = f_bad_q;
    f_addr_d = f_addr_q;
    ar_len_d = ar_len_q;
    rb_lo_d = rb_lo_q;
    rb_hi_d = rb_hi_q;
    rb_data_d = rb_data_q;
    rb_ring_d = rb_ring_q;
    rb_idx_d = rb_idx_q;

    w_st_d = w_st_q;
    w_kind_d = w_kind_q;
    w_aw_done_d = w_aw_done_q;
    w_w_done_d = w_w_done_q;
    w_addr_d = w_addr_q;
    w_size_d = w_size_q;
    w_data_d = w_data_q;
    w_strb_d = w_strb_q;
    w_ring_d = w_ring_q;
    w_irq_d = w_irq_q;
    w_lost_d = w_lost_q;
    w_pri_d = w_pri_q;

    evq_prod_d = evq_prod_q;
    evq_lost_d = evq_lost_q;
    lost_pend_d = lost_pend_q;
    ev_written_d = 1'b0;
    ev_lost_d = 1'b0;

    ev = '0;
    cpl = '0;
    a = '0;
    slot = '0;
    cr = '0;
    lo_v = 1'b0;
    hi_v = 1'b0;
    nbeat = '0;
    rot = '0;
    rql = '0;
    cql = '0;
    cnt_thr = '0;
    ev_post = 1'b0;
    ev_drop = 1'b0;

    // ---- Descriptor handout ----
    if (desc_valid_o && desc_ready_i) begin
      if (rb_lo_q) rb_lo_d = 1'b0;
      else         rb_hi_d = 1'b0;
      rb_idx_d = 16'(rb_idx_q + 16'd1);
    end

    // ---- Fetch FSM ----
    unique case (f_st_q)
      StFIdle: begin
        // Round robin: the first eligible ring after the last one served.
        for (int unsigned i = 0; i < R; i++) begin
          rot = RIdxW'((32'(rr_q) + 1 + i) % R);
          if (f_st_d == StFIdle && elig[rot]) begin
            f_st_d = StFCalc;
            f_ring_d = rot;
            rr_d = rot;
          end
        end
      end
      StFCalc: begin
        // The ring may have been disabled or stopped in the meantime.
        if (!elig[f_ring_q] || c_n == 17'd0) begin
          f_st_d = StFIdle;
        end else begin
          f_st_d = StFAddr;
          f_first_d = 1'b1;
          f_odd_d = c_addr[5];
          f_left_d = 7'(c_n);
          f_bad_d = 1'b0;
          f_addr_d = {c_addr[63:6], 6'd0};
          ar_len_d = 8'((c_n + {16'd0, c_addr[5]} + 17'd1) / 17'd2 - 17'd1);
        end
      end
      StFAddr: begin
        if (m_axi_arready_i) f_st_d = StFData;
      end
      StFData: begin
        if (m_axi_rvalid_i && m_axi_rready_o) begin
          lo_v = !(f_first_q && f_odd_q) && f_left_q != 7'd0;
          hi_v = f_left_q > (lo_v ? 7'd1 : 7'd0);
          nbeat = {1'b0, lo_v} + {1'b0, hi_v};
          f_left_d = f_left_q - {5'd0, nbeat};
          f_first_d = 1'b0;
          f_addr_d = f_addr_q + 64'd64;
          if (m_axi_rresp_i[1] || f_bad_q) begin
            // desc_fetch: the descriptors of this beat and the rest of the burst are dropped;
            // the ring stops at the first of them (RQ_CONS names it).
            if (!f_bad_q && !err_q[f_ring_q] && nbeat != 2'd0) begin
              err_d[f_ring_q] = 1'b1;
              code_d[f_ring_q*8 +: 8] = ipsec_card_pkg::QueueErrorDescFetch;
              qe_pend_d[f_ring_q] = 1'b1;
              qe_info_d[f_ring_q*64 +: 64] = f_addr_q + (lo_v ? 64'd0 : 64'd32);
            end
            f_bad_d = 1'b1;
          end else if (nbeat != 2'd0) begin
            rb_lo_d = lo_v;
            rb_hi_d = hi_v;
            rb_data_d = m_axi_rdata_i;
            rb_ring_d = f_ring_q;
            rb_idx_d = rq_cons_q[f_ring_q*16 +: 16];
            rq_cons_d[f_ring_q*16 +: 16] = 16'(rq_cons_q[f_ring_q*16 +: 16] + {14'd0, nbeat});
          end
          if (m_axi_rlast_i) f_st_d = StFIdle;
        end
      end
      default: f_st_d = StFIdle;
    endcase

    // ---- Write FSM ----
    unique case (w_st_q)
      StWIdle: begin
        if (w_flush) begin
          ev[EvKind +: 8] = ipsec_card_pkg::EventTypeEventsLost;
          ev[EvInfo +: 64] = {32'd0, lost_pend_q};
          ev[EvSa +: 24] = 24'hffffff;
          ev[EvRing +: 8] = 8'hff;
          w_kind_d = WkLost;
          w_lost_d = lost_pend_q;
          ev_post = 1'b1;
        end else if (w_take_cpl) begin
          w_pri_d = 1'b0;
          cr = RIdxW'(cpl_ring_i);
          if (!cpl_ring_ok) begin
            // Not a ring of this card: nothing to write (the engine never does this).
          end else if (dead_q[cr]) begin
            done_d[cr*16 +: 16] = 16'(done_q[cr*16 +: 16] + 16'd1);
          end else begin
            slot = cq_prod_q[cr*16 +: 16] & 16'(pow2(ring_cq_size_log2_i[cr*5 +: 5]) - 17'd1);
            a = ring_cq_base_i[cr*64 +: 64] + {43'd0, slot, 5'd0};
            cpl = cpl_rec_i;
            cpl.phase = ipsec_card_pkg::ring_phase(cq_prod_q[cr*16 +: 16],
                                                   4'(ring_cq_size_log2_i[cr*5 +: 5]));
            w_st_d = StWSend;
            w_kind_d = WkCpl;
            w_ring_d = cr;
            w_irq_d = cpl_irq_i;
            w_addr_d = a;
            w_size_d = 3'd5;
            w_data_d = {cpl, cpl};
            w_strb_d = a[5] ? {32'hffffffff, 32'd0} : {32'd0, 32'hffffffff};
            w_aw_done_d = 1'b0;
            w_w_done_d = 1'b0;
          end
        end else if (w_take_qe) begin
          w_pri_d = 1'b1;
          qe_pend_d[qe_ring] = 1'b0;
          ev[EvKind +: 8] = ipsec_card_pkg::EventTypeQueueError;
          ev[EvInfo +: 64] = qe_info_q[qe_ring*64 +: 64];
          ev[EvSa +: 24] = 24'hffffff;
          ev[EvRing +: 8] = 8'(qe_ring);
          ev[EvCode +: 8] = code_q[qe_ring*8 +: 8];
          w_kind_d = WkEvent;
          if (!evq_enable_i) ev_drop = 1'b0;  // no event ring: not recorded, not counted
          else if (!evq_room || lost_pend_q != 32'd0) ev_drop = 1'b1;
          else ev_post = 1'b1;
        end else if (w_take_ev) begin
          w_pri_d = 1'b1;
          ev[EvKind +: 8] = ev_kind_i;
          ev[EvInfo +: 64] = ev_info_i;
          ev[EvSa +: 24] = ev_sa_index_i;
          ev[EvRing +: 8] = 8'hff;
          ev[EvDir] = ev_dir_i;
          w_kind_d = WkEvent;
          if (!evq_enable_i) ev_drop = 1'b0;
          else if (!evq_room || lost_pend_q != 32'd0) ev_drop = 1'b1;
          else ev_post = 1'b1;
        end
        if (ev_post) begin
          slot = evq_prod_q & 16'(pow2(evq_size_log2_i) - 17'd1);
          a = evq_base_i + {44'd0, slot, 4'd0};
          ev[EvPhase] = ipsec_card_pkg::ring_phase(evq_prod_q, 4'(evq_size_log2_i));
          w_st_d = StWSend;
          w_addr_d = a;
          w_size_d = 3'd4;
          w_data_d = {ev, ev, ev, ev};
          w_strb_d = 64'(64'hffff << {a[5:4], 4'd0});
          w_aw_done_d = 1'b0;
          w_w_done_d = 1'b0;
        end
      end
      StWSend: begin
        if (m_axi_awvalid_o && m_axi_awready_i) w_aw_done_d = 1'b1;
        if (m_axi_wvalid_o && m_axi_wready_i) w_w_done_d = 1'b1;
        if (w_aw_done_d && w_w_done_d) w_st_d = StWResp;
      end
      StWResp: begin
        if (m_axi_bvalid_i) begin
          w_st_d = StWIdle;
          unique case (w_kind_q)
            WkCpl: begin
              done_d[w_ring_q*16 +: 16] = 16'(done_q[w_ring_q*16 +: 16] + 16'd1);
              if (m_axi_bresp_i[1]) begin
                // cpl_write: the completion ring is unusable until re-enabled.
                dead_d[w_ring_q] = 1'b1;
                if (!err_q[w_ring_q]) begin
                  err_d[w_ring_q] = 1'b1;
                  code_d[w_ring_q*8 +: 8] = ipsec_card_pkg::QueueErrorCplWrite;
                  qe_pend_d[w_ring_q] = 1'b1;
                  qe_info_d[w_ring_q*64 +: 64] = w_addr_q;
                end
              end else begin
                cq_prod_d[w_ring_q*16 +: 16] = 16'(cq_prod_q[w_ring_q*16 +: 16] + 16'd1);
                if (mcnt_q[w_ring_q*16 +: 16] != 16'hffff) begin
                  mcnt_d[w_ring_q*16 +: 16] = 16'(mcnt_q[w_ring_q*16 +: 16] + 16'd1);
                end
                run_d[w_ring_q] = 1'b1;
                if (w_irq_q) force_d[w_ring_q] = 1'b1;
              end
            end
            default: begin  // WkEvent, WkLost
              if (m_axi_bresp_i[1]) begin
                // The record did not land: the slot is reused, the event counts as lost.
                ev_drop = w_kind_q == WkEvent;
              end else begin
                evq_prod_d = 16'(evq_prod_q + 16'd1);
                ev_written_d = evq_irq_enable_i;
                if (w_kind_q == WkLost) lost_pend_d = lost_pend_q - w_lost_q;
              end
            end
          endcase
        end
      end
      default: w_st_d = StWIdle;
    endcase

    if (ev_drop) begin
      if (evq_lost_q != 32'hffffffff) evq_lost_d = evq_lost_q + 32'd1;
      if (lost_pend_d != 32'hffffffff) lost_pend_d = lost_pend_d + 32'd1;
      ev_lost_d = 1'b1;
    end

    // ---- Per-ring control: enable edges, doorbells, moderation ----
    for (int unsigned r = 0; r < R; r++) begin
      rql = ring_rq_size_log2_i[r*5 +: 5];
      cql = ring_cq_size_log2_i[r*5 +: 5];

      // Moderation timer
      if (run_q[r] && us_tick && mtmr_q[r*16 +: 16] != 16'hffff) begin
        mtmr_d[r*16 +: 16] = 16'(mtmr_q[r*16 +: 16] + 16'd1);
      end
      // Fire: armed, enabled, and COUNT reached, TIME_US passed, or an IRQ descriptor.
      cnt_thr = ring_irq_mod_count_i[r*16 +: 16] == 16'd0 ? 16'd1 : ring_irq_mod_count_i[r*16 +: 16];
      if (armed_q[r] && ring_irq_enable_i[r] && en_q[r] &&
          (force_q[r] || mcnt_q[r*16 +: 16] >= cnt_thr ||
           (run_q[r] && ring_irq_mod_time_us_i[r*16 +: 16] != 16'd0 &&
            mtmr_q[r*16 +: 16] >= ring_irq_mod_time_us_i[r*16 +: 16]))) begin
        irq_d[r] = 1'b1;
        armed_d[r] = 1'b0;
        force_d[r] = 1'b0;
        run_d[r] = 1'b0;
        mcnt_d[r*16 +: 16] = '0;
        mtmr_d[r*16 +: 16] = '0;
      end
      // Arming starts a new moderation window.
      if (ring_arm_i[r]) begin
        armed_d[r] = 1'b1;
        force_d[r] = 1'b0;
        run_d[r] = 1'b0;
        mcnt_d[r*16 +: 16] = '0;
        mtmr_d[r*16 +: 16] = '0;
      end

      // Doorbell: RQ_PROD more than the ring size ahead of RQ_CONS is bad_doorbell.
      if (ring_doorbell_i[r] && en_q[r] && ring_enable_i[r] && !err_q[r]) begin
        if ({1'b0, 16'(ring_rq_prod_i[r*16 +: 16] - rq_cons_q[r*16 +: 16])} > pow2(rql)) begin
          err_d[r] = 1'b1;
          code_d[r*8 +: 8] = ipsec_card_pkg::QueueErrorBadDoorbell;
          qe_pend_d[r] = 1'b1;
          qe_info_d[r*64 +: 64] = '0;
        end else begin
          rq_prod_d[r*16 +: 16] = ring_rq_prod_i[r*16 +: 16];
        end
      end

      // ENABLE 1 to 0: ERROR clears; fetched requests still complete.
      if (en_q[r] && !ring_enable_i[r]) begin
        err_d[r] = 1'b0;
        code_d[r*8 +: 8] = '0;
        armed_d[r] = 1'b0;
      end
      // ENABLE 0 to 1: indices restart at 0, then the configuration is checked.
      if (!en_q[r] && ring_enable_i[r]) begin
        rq_prod_d[r*16 +: 16] = '0;
        rq_cons_d[r*16 +: 16] = '0;
        cq_prod_d[r*16 +: 16] = '0;
        done_d[r*16 +: 16] = '0;
        dead_d[r] = 1'b0;
        armed_d[r] = 1'b0;
        force_d[r] = 1'b0;
        run_d[r] = 1'b0;
        mcnt_d[r*16 +: 16] = '0;
        mtmr_d[r*16 +: 16] = '0;
        if (rql < 5'd4 || rql > 5'(MaxRingLog2) || cql < rql || cql > 5'(MaxRingLog2) ||
            ring_rq_base_i[r*64 +: 6] != 6'd0 || ring_cq_base_i[r*64 +: 6] != 6'd0) begin
          err_d[r] = 1'b1;
          code_d[r*8 +: 8] = ipsec_card_pkg::QueueErrorBadConfig;
          qe_pend_d[r] = 1'b1;
          qe_info_d[r*64 +: 64] = '0;
        end else begin
          err_d[r] = 1'b0;
          code_d[r*8 +: 8] = '0;
        end
      end
    end

    // Event ring ENABLE 0 to 1: PROD and LOST restart at 0 (card_regs clears CONS).
    if (!evq_en_q && evq_enable_i) begin
      evq_prod_d = '0;
      evq_lost_d = '0;
      lost_pend_d = '0;
    end
  end

  //////////////////////////////////////////////////////////////////////////////////////////////
  // Registers
  //////////////////////////////////////////////////////////////////////////////////////////////

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      en_q        <= '0;
      err_q       <= '0;
      code_q      <= '0;
      dead_q      <= '0;
      qe_pend_q   <= '0;
      rq_prod_q   <= '0;
      rq_cons_q   <= '0;
      cq_prod_q   <= '0;
      done_q      <= '0;
      armed_q     <= '0;
      force_q     <= '0;
      run_q       <= '0;
      mcnt_q      <= '0;
      mtmr_q      <= '0;
      irq_q       <= '0;
      enable_q    <= 1'b0;
      tick_cnt_q  <= '0;
      f_st_q      <= StFIdle;
      rr_q        <= RIdxW'(R - 1);
      rb_lo_q     <= 1'b0;
      rb_hi_q     <= 1'b0;
      w_st_q      <= StWIdle;
      w_pri_q     <= 1'b0;
      evq_en_q    <= 1'b0;
      evq_prod_q  <= '0;
      evq_lost_q  <= '0;
      lost_pend_q <= '0;
      ev_written_q <= 1'b0;
      ev_lost_q   <= 1'b0;
    end else begin
      en_q        <= en_d;
      err_q       <= err_d;
      code_q      <= code_d;
      dead_q      <= dead_d;
      qe_pend_q   <= qe_pend_d;
      rq_prod_q   <= rq_prod_d;
      rq_cons_q   <= rq_cons_d;
      cq_prod_q   <= cq_prod_d;
      done_q      <= done_d;
      armed_q     <= armed_d;
      force_q     <= force_d;
      run_q       <= run_d;
      mcnt_q      <= mcnt_d;
      mtmr_q      <= mtmr_d;
      irq_q       <= irq_d;
      enable_q    <= enable_i;
      tick_cnt_q  <= tick_cnt_d;
      f_st_q      <= f_st_d;
      rr_q        <= rr_d;
      rb_lo_q     <= rb_lo_d;
      rb_hi_q     <= rb_hi_d;
      w_st_q      <= w_st_d;
      w_pri_q     <= w_pri_d;
      evq_en_q    <= evq_enable_i;
      evq_prod_q  <= evq_prod_d;
      evq_lost_q  <= evq_lost_d;
      lost_pend_q <= lost_pend_d;
      ev_written_q <= ev_written_d;
      ev_lost_q   <= ev_lost_d;
    end
  end

  // Payload registers: no reset (qualified by the state above)
  always_ff @(posedge clk_i) begin
    qe_info_q   <= qe_info_d;
    f_ring_q    <= f_ring_d;
    f_first_q   <= f_first_d;
    f_odd_q     <= f_odd_d;
    f_left_q    <= f_left_d;
    f_bad_q     <= f_bad_d;
    f_addr_q    <= f_addr_d;
    ar_len_q    <= ar_len_d;
    rb_data_q   <= rb_data_d;
    rb_ring_q   <= rb_ring_d;
    rb_idx_q    <= rb_idx_d;
    w_kind_q    <= w_kind_d;
    w_aw_done_q <= w_aw_done_d;
    w_w_done_q  <= w_w_done_d;
    w_addr_q    <= w_addr_d;
    w_size_q    <= w_size_d;
    w_data_q    <= w_data_d;
    w_strb_q    <= w_strb_d;
    w_ring_q    <= w_ring_d;
    w_irq_q     <= w_irq_d;
    w_lost_q    <= w_lost_d;
  end

  //////////////////////////////////////////////////////////////////////////////////////////////
  // Outputs
  //////////////////////////////////////////////////////////////////////////////////////////////

  assign enabled_o = enable_q;

  always_comb begin
    for (int unsigned r = 0; r < R; r++) begin
      ring_busy_o[r] = rq_cons_q[r*16 +: 16] != done_q[r*16 +: 16] ||
                       (f_st_q != StFIdle && 32'(f_ring_q) == r);
    end
  end
  assign ring_rq_cons_o    = rq_cons_q;
  assign ring_cq_prod_o    = cq_prod_q;
  assign ring_active_o     = en_q & ~err_q;
  assign ring_error_o      = err_q;
  assign ring_error_code_o = code_q;
  assign irq_o             = irq_q;

  assign evq_prod_o      = evq_prod_q;
  assign evq_lost_o      = evq_lost_q;
  assign event_written_o = ev_written_q;
  assign events_lost_o   = ev_lost_q;

  assign m_axi_arid_o    = '0;
  assign m_axi_araddr_o  = f_addr_q;
  assign m_axi_arlen_o   = ar_len_q;
  assign m_axi_arsize_o  = 3'd6;
  assign m_axi_arburst_o = 2'b01;  // INCR
  assign m_axi_arvalid_o = f_st_q == StFAddr;
  // Outside StFData no read is outstanding: a beat there is a stray, drained and reported.
  assign m_axi_rready_o  = f_st_q == StFData ? !rb_lo_q && !rb_hi_q : 1'b1;

  assign m_axi_awid_o    = '0;
  assign m_axi_awaddr_o  = w_addr_q;
  assign m_axi_awlen_o   = 8'd0;
  assign m_axi_awsize_o  = w_size_q;
  assign m_axi_awburst_o = 2'b01;  // INCR
  assign m_axi_awvalid_o = w_st_q == StWSend && !w_aw_done_q;
  assign m_axi_wdata_o   = w_data_q;
  assign m_axi_wstrb_o   = w_strb_q;
  assign m_axi_wlast_o   = 1'b1;
  assign m_axi_wvalid_o  = w_st_q == StWSend && !w_w_done_q;
  // Likewise B outside StWResp (the one write in flight has not finished its W, or none is).
  assign m_axi_bready_o  = 1'b1;
  assign fault_o         = (m_axi_rvalid_i && f_st_q != StFData) || (m_axi_bvalid_i && w_st_q != StWResp);

  //////////////////////////////////////////////////////////////////////////////////////////////
  // Assertions
  //////////////////////////////////////////////////////////////////////////////////////////////
`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (!rst_i) begin
      // One write outstanding, single-beat bursts, strobes only inside the record.
      assert (!(m_axi_wvalid_o && m_axi_wstrb_o == 64'd0));
      // Completions arrive per ring in descriptor order.
      if (cpl_valid_i && cpl_ready_o && cpl_ring_ok) begin
        assert (cpl_rec_i.desc_index == done_q[RIdxW'(cpl_ring_i)*16 +: 16])
          else $error("%m: completion out of order on ring %0d", cpl_ring_i);
      end
    end
  end
`endif

endmodule
