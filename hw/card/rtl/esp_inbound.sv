// SPDX-License-Identifier: Apache-2.0
//
// Inbound ESP engine (hw/card/doc/engine.md, doc/esp_inbound.md): one packet per job, from the
// descriptor to the completion record, byte-exact with the software model (driver/soft/soft_card.cc
// over host/esp/esp_sa.cc DecapPrepare/DecapFinish).
//
// Stages, each an FSM, decoupled by FIFOs so that the next packets' peek, parse, lookup and replay
// CHECK overlap the current packet's text in the AES-GCM core:
//   PF front: accepts up to PeekAhead jobs ahead of P and issues their peek reads (first
//      min(PKT_LEN,128) bytes) at once, so several peeks are in flight over the read latency; the
//      peek beats wait in the pk FIFO (room reserved per job)
//   P  outer IPv4/IPv6 (+extension headers) / UDP / ESP parse of the peek, SA lookup, every check
//      that needs no decryption                                  -> pc FIFO
//   C  replay CHECK (esp_replay via rp_req/rp_rsp), ESN hazard check against packets in flight,
//      dispatch: core context, body read, write command, finish info, completion slot
//   B  body read [ESP+16, end): AAD beat, then the text to the core; the last 16 bytes are the ICV
//   M  on the core output: plaintext to the writer (in place), per-packet summary (first 64 bytes,
//      one's-complement sum, padding check over the last 257 bytes, tag)
//   F  ICV compare (constant time: one 128-bit comparison), replay UPDATE, padding / next header /
//      inner packet checks, ECN / TTL / checksum rewrites, transport header move: a "head" write
//   W  writer: text writes and head writes (a head only after its own text's command)
//   CP completion and counter, in job order, after every write of the job is done.
//
// Decisions before writes: every outcome that leaves the buffer untouched is decided in P and C.
// Peek limit (a deviation from the software model, documented): a header byte the parse needs
// beyond the 128-byte peek (only possible with PKT_LEN > 128 and more than 112 bytes of headers in
// front of the ESP payload) makes the packet malformed.
//
// Yosys 0.23 subset: flat vectors, no packed multi-dimensional arrays, no `return`.
`default_nettype none

module esp_inbound #(
  parameter int unsigned Lanes       = 4,     // AES blocks per cycle of the aes_gcm_core: 1, 2 or 4
  parameter int unsigned IdxW        = 12,    // SA index bits (table of 2^IdxW slots)
  parameter int unsigned MaxPktBytes = 9216,  // largest PKT_LEN (checked by esp_engine; asserted)
  // Jobs accepted ahead of P with their peek reads in flight: a power of two, 2..16. Covers the
  // host read latency (see esp_inbound.md, Throughput); more helps small packets.
  parameter int unsigned PeekAhead   = 8,
  localparam int unsigned LB    = Lanes * 16,
  localparam int unsigned DataW = Lanes * 128,
  localparam int unsigned NbW   = $clog2(LB + 1)
) (
  input  logic                      clk_i,
  input  logic                      rst_i,              // synchronous, active high

  // Jobs from esp_engine
  input  logic                      job_valid_i,
  output logic                      job_ready_o,
  input  logic [4:0]                job_ring_i,
  input  logic [15:0]               job_index_i,
  input  ipsec_card_pkg::req_desc_t job_desc_i,

  // Reads (own dma_rd)
  output logic                      rd_cmd_valid_o,
  input  logic                      rd_cmd_ready_i,
  output logic [63:0]               rd_cmd_addr_o,
  output logic [15:0]               rd_cmd_len_o,
  input  logic                      rd_valid_i,
  output logic                      rd_ready_o,
  input  logic [511:0]              rd_data_i,
  input  logic [6:0]                rd_bytes_i,
  input  logic                      rd_last_i,
  input  logic                      rd_err_i,

  // Writes (own dma_wr)
  output logic                      wr_cmd_valid_o,
  input  logic                      wr_cmd_ready_i,
  output logic [63:0]               wr_cmd_addr_o,
  output logic [15:0]               wr_cmd_len_o,
  output logic                      wr_valid_o,
  input  logic                      wr_ready_i,
  output logic [511:0]              wr_data_o,
  output logic [6:0]                wr_bytes_o,
  output logic                      wr_last_o,
  input  logic                      wr_done_valid_i,
  output logic                      wr_done_ready_o,
  input  logic                      wr_done_err_i,

  // SA lookup (sa_table)
  output logic                      lk_req_valid_o,
  input  logic                      lk_req_ready_i,
  output logic [23:0]               lk_req_index_o,
  input  logic                      lk_rsp_valid_i,
  output logic                      lk_rsp_ready_o,
  input  logic                      lk_rsp_sa_valid_i,
  input  logic                      lk_rsp_hard_expired_i,
  input  ipsec_card_pkg::sa_params_t lk_rsp_params_i,
  input  logic [255:0]              lk_rsp_key_i,       // key byte k at [8k +: 8]
  input  logic [31:0]               lk_rsp_salt_i,      // salt byte k at [8k +: 8]
  input  logic [511:0]              lk_rsp_hpow_i,      // H^(k+1) at [k*128 +: 128]

  // Counters (sa_table counter port)
  output logic                      cnt_valid_o,
  input  logic                      cnt_ready_i,
  output logic [23:0]               cnt_index_o,
  output logic [1:0]                cnt_kind_o,         // 0 ok, 1 auth_failed, 2 replay, 3 other
  output logic [15:0]               cnt_bytes_o,
  output logic [63:0]               cnt_seq_o,

  // Anti-replay (shared esp_replay)
  output logic                      rp_req_valid_o,
  input  logic                      rp_req_ready_i,
  output logic [1:0]                rp_req_op_o,        // esp_replay_pkg::op_e
  output logic [IdxW-1:0]           rp_req_sa_o,
  output logic [63:0]               rp_req_seq_o,
  input  logic                      rp_rsp_valid_i,
  output logic                      rp_rsp_ready_o,
  input  logic [1:0]                rp_rsp_verdict_i,   // esp_replay_pkg::verdict_e
  input  logic [63:0]               rp_rsp_seq_i,

  // Completions, in job order
  output logic                      cpl_valid_o,
  input  logic                      cpl_ready_i,
  output logic [4:0]                cpl_ring_o,
  output ipsec_card_pkg::cpl_t      cpl_rec_o,
  output logic                      cpl_irq_o
);

  if (Lanes != 1 && Lanes != 2 && Lanes != 4) begin : gen_bad_lanes
    $error("esp_inbound: Lanes must be 1, 2 or 4 (%m)");
  end
  if (IdxW < 1 || IdxW > 24) begin : gen_bad_idxw
    $error("esp_inbound: IdxW must be 1..24 (%m)");
  end
  if (MaxPktBytes < 128 || MaxPktBytes > 65535) begin : gen_bad_maxpkt
    $error("esp_inbound: MaxPktBytes must be 128..65535 (%m)");
  end

  // Status codes (ipsec_card_pkg::cpl_status_e values)
  localparam logic [7:0] StOk = 8'd0, StBadSpi = 8'd1, StReplay = 8'd2, StAuth = 8'd3,
                         StMalformed = 8'd4, StBadPad = 8'd5, StBadInner = 8'd6,
                         StHardLife = 8'd9, StTunnel = 8'd10, StTtl = 8'd11, StWrongDir = 8'd12,
                         StEcnDrop = 8'd13, StDummy = 8'd14, StNotEsp = 8'd15,
                         StBadSaIndex = 8'd64, StDmaRd = 8'd67, StDmaWr = 8'd68;
  localparam logic [1:0] KindOk = 2'd0, KindAuth = 2'd1, KindReplay = 2'd2, KindOther = 2'd3;
  // Body packets in flight (dispatch .. completion): was 8, 16 as margin for the host read latency
  // of the body reads (esp_inbound.md, Throughput).
  localparam int unsigned Slots = 16;
  localparam int unsigned SlW  = 4;           // slot index bits
  localparam int unsigned BidW = 8;           // body id width (wraps; slot = bid[SlW-1:0])
  localparam int unsigned HeadBytes = 192;    // head write buffer (transport: <= 112 + 18 bytes)
  localparam int unsigned TailBytes = 320;    // last text bytes kept: pad (255) + 2 + a beat
  localparam logic [23:0] NoSa = 24'hffffff;

  // ---------------------------------------------------------------------------------------------
  // Small helpers
  // ---------------------------------------------------------------------------------------------
  function automatic logic [7:0] pkb(input logic [1023:0] v, input logic [6:0] k);
    pkb = v[{k, 3'b000} +: 8];
  endfunction
  function automatic logic [15:0] fold17(input logic [31:0] s);
    logic [31:0] t;
    t = {16'd0, s[15:0]} + {16'd0, s[31:16]};
    t = {16'd0, t[15:0]} + {16'd0, t[31:16]};
    fold17 = t[15:0];
  endfunction
  // RFC 4303 Appendix A2 inference, as sa::ReplayWindow::InferSeqAt.
  function automatic logic [63:0] infer_at(input logic [63:0] top, input logic [31:0] sl,
                                           input logic [31:0] window);
    logic [31:0] w, tl, th, sh, left;
    w  = window != 32'd0 ? window : 32'h8000_0000;
    tl = top[31:0];
    th = top[63:32];
    left = tl - w + 32'd1;
    if (tl >= w - 32'd1) begin
      sh = (sl >= left) ? th : th + 32'd1;
      if (sh == 32'd0 && th != 32'd0) sh = th;
    end else begin
      sh = (sl >= left && th != 32'd0) ? th - 32'd1 : th;
    end
    infer_at = {sh, sl};
  endfunction

  // ---------------------------------------------------------------------------------------------
  // Read-command arbiter (P peeks, B bodies) and the owner FIFO that routes the returned data
  // ---------------------------------------------------------------------------------------------
  logic        p_rd_req, b_rd_req, rd_sel_b, rd_lock_q, rd_lock_b_q;
  logic [63:0] p_rd_addr, b_rd_addr;
  logic [15:0] p_rd_len, b_rd_len;
  logic        rdo_in_ready, rdo_valid, rdo_owner, rdo_pop;
  logic        rd_cmd_fire;
  // Read commands in flight: up to PeekAhead peeks plus the body reads (at most Slots).
  localparam int unsigned RdoD = 32;

  assign rd_sel_b       = rd_lock_q ? rd_lock_b_q : !p_rd_req;
  assign rd_cmd_valid_o = (rd_sel_b ? b_rd_req : p_rd_req) && rdo_in_ready;
  assign rd_cmd_addr_o  = rd_sel_b ? b_rd_addr : p_rd_addr;
  assign rd_cmd_len_o   = rd_sel_b ? b_rd_len : p_rd_len;
  assign rd_cmd_fire    = rd_cmd_valid_o && rd_cmd_ready_i;

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      rd_lock_q <= 1'b0;
      rd_lock_b_q <= 1'b0;
    end else begin
      rd_lock_q <= rd_cmd_valid_o && !rd_cmd_ready_i;
      rd_lock_b_q <= rd_sel_b;
    end
  end

  fifo_sync #(.Width(1), .Depth(RdoD)) u_rdo (
    .clk_i, .rst_i,
    .in_data_i(rd_sel_b), .in_valid_i(rd_cmd_fire), .in_ready_o(rdo_in_ready),
    .out_data_o(rdo_owner), .out_valid_o(rdo_valid), .out_ready_i(rdo_pop)
  );

  logic p_rd_take, b_rd_take;
  assign rd_ready_o = rdo_valid && (rdo_owner ? b_rd_take : p_rd_take);
  assign rdo_pop    = rd_valid_i && rd_ready_o && rd_last_i;

  // ---------------------------------------------------------------------------------------------
  // Replay-request arbiter (C CHECKs, F UPDATEs / re-CHECKs) and the owner FIFO for the results
  // ---------------------------------------------------------------------------------------------
  logic              c_rp_req, f_rp_req, rp_sel_f, rp_lock_q, rp_lock_f_q;
  logic [1:0]        c_rp_op, f_rp_op;
  logic [IdxW-1:0]   c_rp_sa, f_rp_sa;
  logic [63:0]       c_rp_seq, f_rp_seq;
  logic              rpo_in_ready, rpo_valid, rpo_owner, rp_rsp_fire;
  logic              c_rp_wait, f_rp_wait;

  assign rp_sel_f       = rp_lock_q ? rp_lock_f_q : f_rp_req;
  assign rp_req_valid_o = (rp_sel_f ? f_rp_req : c_rp_req) && rpo_in_ready;
  assign rp_req_op_o    = rp_sel_f ? f_rp_op : c_rp_op;
  assign rp_req_sa_o    = rp_sel_f ? f_rp_sa : c_rp_sa;
  assign rp_req_seq_o   = rp_sel_f ? f_rp_seq : c_rp_seq;

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      rp_lock_q <= 1'b0;
      rp_lock_f_q <= 1'b0;
    end else begin
      rp_lock_q <= rp_req_valid_o && !rp_req_ready_i;
      rp_lock_f_q <= rp_sel_f;
    end
  end

  fifo_sync #(.Width(1), .Depth(4)) u_rpo (
    .clk_i, .rst_i,
    .in_data_i(rp_sel_f), .in_valid_i(rp_req_valid_o && rp_req_ready_i),
    .in_ready_o(rpo_in_ready),
    .out_data_o(rpo_owner), .out_valid_o(rpo_valid), .out_ready_i(rp_rsp_fire)
  );
  assign rp_rsp_ready_o = rpo_valid && (rpo_owner ? f_rp_wait : c_rp_wait);
  assign rp_rsp_fire    = rp_rsp_valid_i && rp_rsp_ready_o;

  // ---------------------------------------------------------------------------------------------
  // PF: front. A job is accepted while fewer than PeekAhead jobs are between acceptance and the end
  // of P's peek (f_cnt), its peek command goes out the next cycle(s), and the job waits in pj for
  // P. The peek beats land in pk, which has room for two beats of every counted job, so peek data
  // is never refused (the body data behind it in the one read stream never waits for P).
  // ---------------------------------------------------------------------------------------------
  localparam int unsigned FcW = $clog2(PeekAhead + 1);
  logic [FcW-1:0] f_cnt_q;
  logic           f_cmd_q;            // the accepted job's peek command is pending
  logic [63:0]    f_addr_q;
  logic [15:0]    f_len_q;
  logic           job_fire, pj_in_ready, pj_valid, pj_pop;
  logic [276:0]   pj_out;
  logic           pk_in_ready, pk_valid, pk_pop, pk_last, pk_err;
  logic [511:0]   pk_data;
  logic           f_done;             // P took a job's last peek beat

  if (PeekAhead < 2 || PeekAhead > 16 || (PeekAhead & (PeekAhead - 1)) != 0) begin : gen_bad_ahead
    $error("esp_inbound: PeekAhead must be a power of two, 2..16 (instance %m)");
  end

  assign job_ready_o = !f_cmd_q && f_cnt_q != FcW'(PeekAhead) && pj_in_ready;
  assign job_fire    = job_valid_i && job_ready_o;
  assign p_rd_req    = f_cmd_q;
  assign p_rd_addr   = f_addr_q;
  assign p_rd_len    = f_len_q;
  assign p_rd_take   = pk_in_ready;
  assign f_done      = pk_pop && pk_last;

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      f_cnt_q <= '0;
      f_cmd_q <= 1'b0;
    end else begin
      f_cnt_q <= f_cnt_q + FcW'(job_fire) - FcW'(f_done);
      if (job_fire) f_cmd_q <= 1'b1;
      else if (rd_cmd_fire && !rd_sel_b) f_cmd_q <= 1'b0;
    end
  end

  always_ff @(posedge clk_i) begin
    if (job_fire) begin
      f_addr_q <= job_desc_i.buf_addr + {48'd0, job_desc_i.pkt_offset};
      f_len_q  <= (job_desc_i.pkt_len > 16'd128) ? 16'd128 : job_desc_i.pkt_len;
    end
  end

  fifo_sync #(.Width(277), .Depth(PeekAhead)) u_pj (
    .clk_i, .rst_i,
    .in_data_i({job_ring_i, job_index_i, job_desc_i}), .in_valid_i(job_fire), .in_ready_o(pj_in_ready),
    .out_data_o(pj_out), .out_valid_o(pj_valid), .out_ready_i(pj_pop)
  );

  fifo_sync #(.Width(514), .Depth(2 * PeekAhead)) u_pk (
    .clk_i, .rst_i,
    .in_data_i({rd_last_i, rd_err_i, rd_data_i}),
    .in_valid_i(rd_valid_i && rdo_valid && !rdo_owner), .in_ready_o(pk_in_ready),
    .out_data_o({pk_last, pk_err, pk_data}), .out_valid_o(pk_valid), .out_ready_i(pk_pop)
  );

  // ---------------------------------------------------------------------------------------------
  // P: parse, lookup, pre-decryption checks
  // ---------------------------------------------------------------------------------------------
  localparam logic [3:0] PsIdle = 4'd0, PsPeek = 4'd2, PsIp = 4'd3, PsExt = 4'd4,
                         PsL4 = 4'd5, PsLk = 4'd6, PsLkw = 4'd7, PsDec = 4'd8, PsPush = 4'd9;

  logic [3:0]                p_st_q;
  ipsec_card_pkg::req_desc_t p_desc_q;
  logic [4:0]                p_ring_q;
  logic [15:0]               p_index_q;
  logic [1023:0]             pk_q;
  logic                      p_beat_q, p_rderr_q, p_v6_q, p_udp_q;
  logic [16:0]               p_total_q, p_off_q, p_nhoff_q, p_pre_q, p_esp_q;
  logic [7:0]                p_nh_q, p_status_q;
  logic [4:0]                p_guard_q;
  logic [15:0]               p_udpdst_q;
  logic [31:0]               p_spi_q, p_seqlo_q;
  logic [23:0]               p_lkidx_q;
  logic                      lk_valid_q, lk_hard_q;
  ipsec_card_pkg::sa_params_t lk_params_q;
  logic [255:0]              lk_key_q;
  logic [31:0]               lk_salt_q;
  logic [DataW-1:0]          lk_hpow_q;

  logic [16:0] p_len;          // PKT_LEN (the peek is min(PKT_LEN, 128) bytes, issued by PF)
  assign p_len  = {1'b0, p_desc_q.pkt_len};
  // A parse access up to (not including) byte x that is beyond the peek (deviation, see top).
  function automatic logic beyond_peek(input logic [16:0] len, input logic [16:0] x);
    beyond_peek = len > 17'd128 && x > 17'd128;
  endfunction

  function automatic logic [15:0] pk16(input logic [1023:0] v, input logic [16:0] o);
    pk16 = {pkb(v, o[6:0]), pkb(v, o[6:0] + 7'd1)};
  endfunction
  function automatic logic [31:0] pk32(input logic [1023:0] v, input logic [16:0] o);
    pk32 = {pkb(v, o[6:0]), pkb(v, o[6:0] + 7'd1), pkb(v, o[6:0] + 7'd2), pkb(v, o[6:0] + 7'd3)};
  endfunction

  // pc FIFO (P -> C) payload
  localparam int unsigned PcW = 5 + 16 + 64 + 1 + 1 + 8 + 1 + 2 + 32 + 24      // job, decision
                              + 64 + 16 + 16 + 8 + 8 + 1 + 32                 // packet
                              + 256 + 1 + DataW + 128 + 1 + 32 + 1 + 1 + 1 + 1  // SA
                              + 1024;                                         // peek
  logic [PcW-1:0] pc_in, pc_out;
  logic           pc_in_valid, pc_in_ready, pc_valid, pc_pop;

  // Decision values computed in PsDec
  logic [7:0]   d_status;
  logic         d_drop, d_hassa;
  logic [1:0]   d_kind;
  logic [23:0]  d_idx;
  logic [16:0]  d_esplen;
  logic [15:0]  d_textlen, d_textoff;
  logic [255:0] d_key;
  logic [127:0] d_j0;
  logic         d_match;

  always_comb begin
    d_match  = lk_valid_q && lk_params_q.spi == p_spi_q &&
               (!p_udp_q || (lk_params_q.udp_encap && lk_params_q.udp_dst_port == p_udpdst_q));
    d_esplen = p_total_q - p_esp_q;
    d_textlen = 16'(d_esplen - 17'd32);
    d_textoff = 16'({1'b0, p_desc_q.pkt_offset} + p_esp_q + 17'd16);
    d_status = StOk;
    d_drop   = 1'b0;
    d_hassa  = 1'b0;
    d_kind   = KindOther;
    d_idx    = NoSa;
    if (p_desc_q.sa_valid && !lk_valid_q) begin
      d_status = StBadSaIndex;
      d_drop = 1'b1;
    end else if (!d_match) begin
      d_status = (p_udp_q && p_udpdst_q != 16'd4500 && !p_desc_q.sa_valid) ? StNotEsp : StBadSpi;
      d_drop = 1'b1;
    end else begin
      d_idx = p_lkidx_q;
      d_hassa = 1'b1;
      d_drop = 1'b1;
      if (lk_params_q.dir != ipsec_card_pkg::DirInbound) begin
        d_status = StWrongDir;
      end else if (lk_hard_q) begin
        d_status = StHardLife;
      end else if (lk_params_q.udp_encap && !p_udp_q) begin
        d_status = StNotEsp;            // ESP not in UDP for a UDP-encapsulated SA
      end else if (lk_params_q.mode == ipsec_card_pkg::SaModeTunnel && lk_params_q.verify_tunnel &&
                   (lk_params_q.outer_v6 != p_v6_q ||
                    (p_v6_q ? (pk_q[8*8 +: 128] != lk_params_q.tunnel_src ||
                               pk_q[24*8 +: 128] != lk_params_q.tunnel_dst)
                            : (pk_q[12*8 +: 32] != lk_params_q.tunnel_src[31:0] ||
                               pk_q[16*8 +: 32] != lk_params_q.tunnel_dst[31:0])))) begin
        d_status = StTunnel;
      end else if (d_esplen < 17'd34 || d_esplen[1:0] != 2'd0) begin
        d_status = StMalformed;         // too short, or text not 4-byte aligned (esp_len = text + 32)
      end else if (beyond_peek(p_len, p_esp_q + 17'd16)) begin
        d_status = StMalformed;         // IV beyond the peek (deviation)
      end else begin
        d_drop = 1'b0;
        d_kind = KindOk;
      end
    end
    for (int k = 0; k < 32; k++) d_key[255 - 8*k -: 8] = lk_key_q[8*k +: 8];
    for (int k = 0; k < 4; k++) d_j0[127 - 8*k -: 8] = lk_salt_q[8*k +: 8];
    for (int k = 0; k < 8; k++) d_j0[95 - 8*k -: 8] = pkb(pk_q, 7'(p_esp_q + 17'(8 + k)));
    d_j0[31:0] = 32'd1;
  end

  // Decision registers of PsDec (held for PsPush)
  logic [7:0]   q_status;
  logic         q_drop, q_hassa;
  logic [1:0]   q_kind;
  logic [23:0]  q_idx;
  logic [15:0]  q_textlen, q_textoff;
  logic [255:0] q_key;
  logic [127:0] q_j0;

  assign pj_pop         = p_st_q == PsIdle && pj_valid;
  assign pk_pop         = p_st_q == PsPeek && pk_valid;
  assign lk_req_valid_o = p_st_q == PsLk;
  assign lk_req_index_o = p_desc_q.sa_valid ? p_desc_q.sa_index
                                             : 24'(pk32(pk_q, p_esp_q) & ((32'd1 << IdxW) - 32'd1));
  assign lk_rsp_ready_o = p_st_q == PsLkw;
  assign pc_in_valid    = p_st_q == PsPush;

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      p_st_q <= PsIdle;
    end else begin
      unique case (p_st_q)
        PsIdle: if (pj_valid) begin
          p_ring_q  <= pj_out[276:272];
          p_index_q <= pj_out[271:256];
          p_desc_q  <= pj_out[255:0];
          p_beat_q  <= 1'b0;
          p_rderr_q <= 1'b0;
          p_st_q    <= PsPeek;
        end
        PsPeek: if (pk_valid) begin
          if (p_beat_q) pk_q[1023:512] <= pk_data;
          else pk_q[511:0] <= pk_data;
          p_beat_q  <= 1'b1;
          p_rderr_q <= p_rderr_q | pk_err;
          if (pk_last) p_st_q <= PsIp;
        end
        PsIp: begin
          // Every early exit keeps SPI 0 and no SA, as LocateEsp failing in soft_card does.
          p_spi_q    <= 32'd0;
          p_seqlo_q  <= 32'd0;
          p_status_q <= StMalformed;
          p_udp_q    <= 1'b0;
          p_guard_q  <= 5'd0;
          if (p_rderr_q) begin
            p_status_q <= StDmaRd;
            p_st_q <= PsPush;
          end else if (pk_q[7:4] == 4'd4) begin
            if (p_len < 17'd20 || {11'd0, pk_q[3:0], 2'b00} < 17'd20 ||
                {1'b0, pk16(pk_q, 17'd2)} < {11'd0, pk_q[3:0], 2'b00} ||
                {1'b0, pk16(pk_q, 17'd2)} > p_len || (pk16(pk_q, 17'd6) & 16'h3fff) != 16'd0) begin
              p_st_q <= PsPush;                       // not IPv4, or a fragment
            end else begin
              p_v6_q    <= 1'b0;
              p_total_q <= {1'b0, pk16(pk_q, 17'd2)};
              p_off_q   <= {11'd0, pk_q[3:0], 2'b00};
              p_nhoff_q <= 17'd9;
              p_nh_q    <= pkb(pk_q, 7'd9);
              p_st_q    <= PsL4;
            end
          end else if (pk_q[7:4] == 4'd6) begin
            if (p_len < 17'd40 || 17'd40 + {1'b0, pk16(pk_q, 17'd4)} > p_len) begin
              p_st_q <= PsPush;
            end else begin
              p_v6_q    <= 1'b1;
              p_total_q <= 17'd40 + {1'b0, pk16(pk_q, 17'd4)};
              p_off_q   <= 17'd40;
              p_nhoff_q <= 17'd6;
              p_nh_q    <= pkb(pk_q, 7'd6);
              p_st_q    <= PsExt;
            end
          end else begin
            p_st_q <= PsPush;
          end
        end
        PsExt: begin
          // IPv6 extension headers as esp_packet.cc Ipv6Upper: HBH, Routing, DstOpts skipped (at
          // most 16), a Fragment header is malformed (no reassembly).
          if (p_nh_q == 8'd0 || p_nh_q == 8'd43 || p_nh_q == 8'd60) begin
            if (p_guard_q == 5'd16 || p_off_q + 17'd2 > p_total_q ||
                beyond_peek(p_len, p_off_q + 17'd2) ||
                p_off_q + {6'd0, pkb(pk_q, 7'(p_off_q + 17'd1)), 3'b000} + 17'd8 > p_total_q) begin
              p_st_q <= PsPush;
            end else begin
              p_nhoff_q <= p_off_q;
              p_nh_q    <= pkb(pk_q, 7'(p_off_q));
              p_off_q   <= p_off_q + {6'd0, pkb(pk_q, 7'(p_off_q + 17'd1)), 3'b000} + 17'd8;
              p_guard_q <= p_guard_q + 5'd1;
            end
          end else if (p_nh_q == 8'd44) begin
            p_st_q <= PsPush;
          end else begin
            p_st_q <= PsL4;
          end
        end
        PsL4: begin
          p_pre_q <= p_off_q;
          if (p_nh_q == 8'd50) begin
            if (p_off_q + 17'd8 > p_total_q || beyond_peek(p_len, p_off_q + 17'd8)) begin
              p_st_q <= PsPush;
            end else begin
              p_esp_q <= p_off_q;
              p_st_q  <= PsLk;
            end
          end else if (p_nh_q == 8'd17) begin
            // RFC 3948: UDP to any port; the SA decides later whether the port is its own.
            if (p_off_q + 17'd8 > p_total_q || beyond_peek(p_len, p_off_q + 17'd16) ||
                {1'b0, pk16(pk_q, p_off_q + 17'd4)} != p_total_q - p_off_q) begin
              p_st_q <= PsPush;
            end else if (p_total_q - p_off_q == 17'd9) begin
              if (pkb(pk_q, 7'(p_off_q + 17'd8)) == 8'hff) p_status_q <= StNotEsp;  // keepalive
              p_st_q <= PsPush;
            end else if (p_total_q - p_off_q >= 17'd12 && pk32(pk_q, p_off_q + 17'd8) == 32'd0) begin
              p_status_q <= StNotEsp;                 // IKE (non-ESP marker)
              p_st_q <= PsPush;
            end else if (p_total_q - p_off_q >= 17'd16) begin
              p_udp_q    <= 1'b1;
              p_udpdst_q <= pk16(pk_q, p_off_q + 17'd2);
              p_esp_q    <= p_off_q + 17'd8;
              p_st_q     <= PsLk;
            end else begin
              p_st_q <= PsPush;                       // too short for ESP
            end
          end else begin
            p_status_q <= StNotEsp;
            p_st_q <= PsPush;
          end
        end
        PsLk: begin
          p_spi_q   <= pk32(pk_q, p_esp_q);
          p_seqlo_q <= pk32(pk_q, p_esp_q + 17'd4);
          p_lkidx_q <= p_desc_q.sa_valid ? p_desc_q.sa_index : 24'(pk32(pk_q, p_esp_q) & ((32'd1 << IdxW) - 32'd1));
          if (lk_req_ready_i) p_st_q <= PsLkw;
        end
        PsLkw: if (lk_rsp_valid_i) begin
          lk_valid_q  <= lk_rsp_sa_valid_i;
          lk_hard_q   <= lk_rsp_hard_expired_i;
          lk_params_q <= lk_rsp_params_i;
          lk_key_q    <= lk_rsp_key_i;
          lk_salt_q   <= lk_rsp_salt_i;
          lk_hpow_q   <= lk_rsp_hpow_i[DataW-1:0];
          p_st_q      <= PsDec;
        end
        PsDec: begin
          q_status  <= d_status;
          q_drop    <= d_drop;
          q_hassa   <= d_hassa;
          q_kind    <= d_kind;
          q_idx     <= d_idx;
          q_textlen <= d_textlen;
          q_textoff <= d_textoff;
          q_key     <= d_key;
          q_j0      <= d_j0;
          p_st_q    <= PsPush;
        end
        PsPush: if (pc_in_ready) p_st_q <= PsIdle;
        default: p_st_q <= PsIdle;
      endcase
    end
  end

  // Early exits (from PsIp/PsExt/PsL4) go to PsPush with p_* decision registers; PsDec exits with
  // q_*. p_came_dec tells them apart.
  logic p_came_dec_q;
  always_ff @(posedge clk_i) begin
    if (rst_i) p_came_dec_q <= 1'b0;
    else if (p_st_q == PsDec) p_came_dec_q <= 1'b1;
    else if (p_st_q == PsIdle) p_came_dec_q <= 1'b0;
  end

  // The SPI of an early exit is 0 (not located); after the lookup it is the packet's.
  logic [7:0]  x_status;
  logic        x_drop, x_hassa;
  logic [1:0]  x_kind;
  logic [23:0] x_idx;
  logic [31:0] x_spi;
  assign x_status = p_came_dec_q ? q_status : p_status_q;
  assign x_drop   = p_came_dec_q ? q_drop : 1'b1;
  assign x_hassa  = p_came_dec_q ? q_hassa : 1'b0;
  assign x_kind   = p_came_dec_q ? q_kind : KindOther;
  assign x_idx    = p_came_dec_q ? q_idx : NoSa;
  assign x_spi    = p_came_dec_q ? p_spi_q : 32'd0;

  assign pc_in = {p_ring_q, p_index_q, p_desc_q.user_data, p_desc_q.irq, x_drop, x_status, x_hassa,
                  x_kind, x_spi, x_idx,
                  p_desc_q.buf_addr, q_textoff, q_textlen, p_pre_q[7:0], p_nhoff_q[7:0], p_v6_q,
                  p_seqlo_q,
                  q_key, lk_params_q.suite == ipsec_card_pkg::SuiteAesGcm256, lk_hpow_q, q_j0,
                  lk_params_q.esn, lk_params_q.replay_window,
                  lk_params_q.mode == ipsec_card_pkg::SaModeTransport, lk_params_q.udp_encap,
                  lk_params_q.ecn_compat, lk_params_q.dec_inner_ttl,
                  pk_q};

  fifo_sync #(.Width(PcW), .Depth(2)) u_pc (
    .clk_i, .rst_i,
    .in_data_i(pc_in), .in_valid_i(pc_in_valid), .in_ready_o(pc_in_ready),
    .out_data_o(pc_out), .out_valid_o(pc_valid), .out_ready_i(pc_pop)
  );

  // ---------------------------------------------------------------------------------------------
  // C: replay CHECK, ESN hazard, dispatch
  // ---------------------------------------------------------------------------------------------
  logic [4:0]        c_ring;
  logic [15:0]       c_index;
  logic [63:0]       c_user;
  logic              c_irq, c_drop, c_hassa;
  logic [7:0]        c_status;
  logic [1:0]        c_kind;
  logic [31:0]       c_spi;
  logic [23:0]       c_idx;
  logic [63:0]       c_bufaddr;
  logic [15:0]       c_textoff, c_textlen;
  logic [7:0]        c_pre, c_nhoff;
  logic              c_v6;
  logic [31:0]       c_seqlo;
  logic [255:0]      c_key;
  logic              c_k256;
  logic [DataW-1:0]  c_hpow;
  logic [127:0]      c_j0;
  logic              c_esn;
  logic [31:0]       c_window;
  logic              c_transport, c_udpenc, c_ecnc, c_decttl;
  logic [1023:0]     c_peek;
  assign {c_ring, c_index, c_user, c_irq, c_drop, c_status, c_hassa, c_kind, c_spi, c_idx,
          c_bufaddr, c_textoff, c_textlen, c_pre, c_nhoff, c_v6, c_seqlo,
          c_key, c_k256, c_hpow, c_j0, c_esn, c_window, c_transport, c_udpenc, c_ecnc, c_decttl,
          c_peek} = pc_out;

  localparam logic [2:0] CsIdle = 3'd0, CsChk = 3'd1, CsWait = 3'd2, CsRep = 3'd3, CsHold = 3'd4,
                         CsDisp = 3'd5;
  logic [2:0]     c_st_q;
  logic [63:0]    c_seq_q;
  logic           c_spec_q;
  logic [BidW-1:0] c_bid_q;

  // In-flight table, slot = bid[SlW-1:0]: live from dispatch to completion, upd from dispatch to the
  // end of F (the UPDATE, or the decision not to update).
  logic            inf_live_q [Slots];
  logic            inf_upd_q  [Slots];
  logic [IdxW-1:0] inf_sa_q   [Slots];
  logic [63:0]     inf_seq_q  [Slots];

  logic        h_any, h_anyupd;
  logic [63:0] h_max;
  always_comb begin
    h_any = 1'b0;
    h_anyupd = 1'b0;
    h_max = 64'd0;
    for (int s = 0; s < Slots; s++) begin
      if (inf_upd_q[s]) h_anyupd = 1'b1;
      if (inf_upd_q[s] && inf_sa_q[s] == c_idx[IdxW-1:0]) begin
        h_any = 1'b1;
        if (inf_seq_q[s] > h_max) h_max = inf_seq_q[s];
      end
    end
  end

  // Job FIFO (to CP), in job order
  localparam int unsigned JqW = 5 + 16 + 64 + 1 + 8 + 1 + 2 + 32 + 24 + 1 + BidW;
  logic [JqW-1:0] jq_in, jq_out;
  logic           jq_in_valid, jq_in_ready, jq_valid, jq_pop;
  logic [7:0]     c_jstatus;
  logic [1:0]     c_jkind;
  logic           c_jbody;

  // Dispatch FIFOs
  logic core_ctx_valid, core_ctx_ready, ctxq_in_ready;
  localparam int unsigned BqW = 64 + 16 + 16 + 128 + 1;
  logic [BqW-1:0] bq_in, bq_out;
  logic bq_in_ready, bq_valid, bq_pop;
  logic [15:0] pki_out;
  logic pki_in_ready, pki_valid, pki_pop;
  localparam int unsigned WcW = 64 + 16 + BidW;
  logic [WcW-1:0] wc_in, wc_out;
  logic wc_in_ready, wc_valid, wc_pop;
  localparam int unsigned FqW = BidW + 24 + 64 + 32 + 1 + 16 + 16 + 64 + 8 + 8 + 1 + 1 + 1 + 1 + 1
                              + 1024;
  logic [FqW-1:0] fq_in, fq_out;
  logic fq_in_ready, fq_valid, fq_pop;

  logic c_disp_ok, c_disp;
  assign c_disp_ok = ctxq_in_ready && bq_in_ready && pki_in_ready && wc_in_ready && fq_in_ready &&
                     jq_in_ready && !inf_live_q[c_bid_q[SlW-1:0]];
  assign c_disp = c_st_q == CsDisp && c_disp_ok;

  assign c_rp_req  = c_st_q == CsChk;
  assign c_rp_op   = esp_replay_pkg::OpCheck;
  assign c_rp_sa   = c_idx[IdxW-1:0];
  assign c_rp_seq  = {32'd0, c_seqlo};
  assign c_rp_wait = c_st_q == CsWait;

  always_comb begin
    c_jstatus = c_status;
    c_jkind   = c_kind;
    c_jbody   = 1'b0;
    if (c_st_q == CsRep) begin
      c_jstatus = StReplay;
      c_jkind   = KindReplay;
    end else if (c_st_q == CsDisp) begin
      c_jbody = 1'b1;
    end
  end
  assign jq_in = {c_ring, c_index, c_user, c_irq, c_jstatus, c_hassa, c_jkind, c_spi, c_idx,
                  c_jbody, c_bid_q};
  assign jq_in_valid = (c_st_q == CsIdle && pc_valid && c_drop) || c_st_q == CsRep || c_disp;
  assign pc_pop = (c_st_q == CsIdle && pc_valid && c_drop && jq_in_ready) ||
                  (c_st_q == CsRep && jq_in_ready) || c_disp;

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      c_st_q  <= CsIdle;
      c_bid_q <= '0;
    end else begin
      unique case (c_st_q)
        CsIdle: if (pc_valid && !c_drop) c_st_q <= CsChk;
        CsChk:  if (rp_req_valid_o && rp_req_ready_i && !rp_sel_f) c_st_q <= CsWait;
        CsWait: if (rp_rsp_fire && !rpo_owner) begin
          if (rp_rsp_verdict_i != esp_replay_pkg::VerdictOk) begin
            c_st_q <= CsRep;
          end else if (c_esn && h_any && infer_at(h_max, c_seqlo, c_window) != rp_rsp_seq_i) begin
            // RFC 4303 A2: packets in flight may move the top far enough to change the inferred
            // high half; decide again once they are done (as EspSa's chunk split).
            c_st_q <= CsHold;
          end else begin
            c_seq_q  <= rp_rsp_seq_i;
            c_spec_q <= h_any;
            c_st_q   <= CsDisp;
          end
        end
        CsRep:  if (jq_in_ready) c_st_q <= CsIdle;
        CsHold: if (!h_anyupd) c_st_q <= CsChk;
        CsDisp: if (c_disp_ok) begin
          c_bid_q <= c_bid_q + 1'b1;
          c_st_q  <= CsIdle;
        end
        default: c_st_q <= CsIdle;
      endcase
    end
  end

  // AAD: SPI || seq low, or SPI || seq high || seq low with ESN (RFC 4106 section 5)
  logic [127:0] c_aad;
  assign c_aad = c_esn ? {c_spi, c_seq_q[63:32], c_seqlo, 32'd0} : {c_spi, c_seqlo, 64'd0};
  assign bq_in = {c_bufaddr + {48'd0, c_textoff}, c_textlen + 16'd16, c_textlen, c_aad, c_esn};
  assign wc_in = {c_bufaddr + {48'd0, c_textoff}, c_textlen, c_bid_q};
  assign fq_in = {c_bid_q, c_idx, c_seq_q, c_seqlo, c_spec_q, c_textlen, c_textoff, c_bufaddr,
                  c_pre, c_nhoff, c_v6, c_transport, c_udpenc, c_ecnc, c_decttl, c_peek};

  fifo_sync #(.Width(JqW), .Depth(2 * Slots)) u_jq (
    .clk_i, .rst_i,
    .in_data_i(jq_in), .in_valid_i(jq_in_valid), .in_ready_o(jq_in_ready),
    .out_data_o(jq_out), .out_valid_o(jq_valid), .out_ready_i(jq_pop)
  );
  fifo_sync #(.Width(BqW), .Depth(Slots)) u_bq (
    .clk_i, .rst_i,
    .in_data_i(bq_in), .in_valid_i(c_disp), .in_ready_o(bq_in_ready),
    .out_data_o(bq_out), .out_valid_o(bq_valid), .out_ready_i(bq_pop)
  );
  fifo_sync #(.Width(16), .Depth(Slots)) u_pki (
    .clk_i, .rst_i,
    .in_data_i(c_textlen), .in_valid_i(c_disp), .in_ready_o(pki_in_ready),
    .out_data_o(pki_out), .out_valid_o(pki_valid), .out_ready_i(pki_pop)
  );
  fifo_sync #(.Width(WcW), .Depth(Slots)) u_wc (
    .clk_i, .rst_i,
    .in_data_i(wc_in), .in_valid_i(c_disp), .in_ready_o(wc_in_ready),
    .out_data_o(wc_out), .out_valid_o(wc_valid), .out_ready_i(wc_pop)
  );
  fifo_sync #(.Width(FqW), .Depth(Slots)) u_fq (
    .clk_i, .rst_i,
    .in_data_i(fq_in), .in_valid_i(c_disp), .in_ready_o(fq_in_ready),
    .out_data_o(fq_out), .out_valid_o(fq_valid), .out_ready_i(fq_pop)
  );

  // ---------------------------------------------------------------------------------------------
  // The AES-GCM core
  // ---------------------------------------------------------------------------------------------
  logic             core_in_valid, core_in_ready;
  logic [DataW-1:0] core_in_data;
  logic [NbW-1:0]   core_in_bytes;
  logic             core_out_valid, core_out_ready, core_out_tag, core_out_tag_ok;
  logic [DataW-1:0] core_out_data;
  logic [NbW-1:0]   core_out_bytes;

  // Context queue: dispatch issues the body read and the context together, but the core holds
  // only two contexts ahead of its current packet, which would keep the body read too close to
  // the text for the host read latency. CtxDepth more contexts wait here (a fifo_wipe: an entry is
  // zero once the core has taken it).
  localparam int unsigned CtxDepth = 4;
  localparam int unsigned CtxW = 256 + 1 + DataW + 128 + 1 + 16;
  logic [CtxW-1:0] ctxq_out;
  logic [255:0]    x_key;
  logic            x_k256, x_esn;
  logic [DataW-1:0] x_hpow;
  logic [127:0]    x_j0;
  logic [15:0]     x_textlen;

  fifo_wipe #(.Width(CtxW), .Depth(CtxDepth)) u_ctxq (
    .clk_i, .rst_i,
    .wipe_i     (1'b0),
    .in_data_i  ({c_key, c_k256, c_hpow, c_j0, c_esn, c_textlen}),
    .in_valid_i (c_disp),
    .in_ready_o (ctxq_in_ready),
    .out_data_o (ctxq_out),
    .out_valid_o(core_ctx_valid),
    .out_ready_i(core_ctx_ready)
  );
  assign {x_key, x_k256, x_hpow, x_j0, x_esn, x_textlen} = ctxq_out;

  aes_gcm_core #(.Lanes(Lanes), .LenW(16)) u_core (
    .clk_i, .rst_i,
    .ctx_valid_i    (core_ctx_valid),
    .ctx_ready_o    (core_ctx_ready),
    .ctx_key_i      (x_key),
    .ctx_key256_i   (x_k256),
    .ctx_hpow_i     (x_hpow),
    .ctx_j0_i       (x_j0),
    .ctx_decrypt_i  (1'b1),
    .ctx_aad_len_i  (x_esn ? 16'd12 : 16'd8),
    .ctx_text_len_i (x_textlen),
    .ctx_tag_i      (128'd0),       // the ICV arrives after the text: compared in F
    .in_valid_i     (core_in_valid),
    .in_ready_o     (core_in_ready),
    .in_data_i      (core_in_data),
    .in_bytes_i     (core_in_bytes),
    .out_valid_o    (core_out_valid),
    .out_ready_i    (core_out_ready),
    .out_data_o     (core_out_data),
    .out_bytes_o    (core_out_bytes),
    .out_tag_o      (core_out_tag),
    .out_tag_ok_o   (core_out_tag_ok)
  );

  // ---------------------------------------------------------------------------------------------
  // B: body read command (B1) and body data to the core (B2)
  // ---------------------------------------------------------------------------------------------
  localparam int unsigned Bq2W = 16 + 128 + 1;
  logic [Bq2W-1:0] bq2_in, bq2_out;
  logic bq2_in_ready, bq2_valid, bq2_pop;
  logic [63:0]  b1_addr;
  logic [15:0]  b1_rdlen, b1_textlen;
  logic [127:0] b1_aad;
  logic         b1_esn;
  assign {b1_addr, b1_rdlen, b1_textlen, b1_aad, b1_esn} = bq_out;
  assign b_rd_req  = bq_valid && bq2_in_ready;
  assign b_rd_addr = b1_addr;
  assign b_rd_len  = b1_rdlen;
  assign bq_pop    = rd_cmd_fire && rd_sel_b;
  assign bq2_in    = {b1_textlen, b1_aad, b1_esn};

  fifo_sync #(.Width(Bq2W), .Depth(Slots)) u_bq2 (
    .clk_i, .rst_i,
    .in_data_i(bq2_in), .in_valid_i(bq_pop), .in_ready_o(bq2_in_ready),
    .out_data_o(bq2_out), .out_valid_o(bq2_valid), .out_ready_i(bq2_pop)
  );

  logic [15:0]  b2_textlen;
  logic [127:0] b2_aad;
  logic         b2_esn;
  assign {b2_textlen, b2_aad, b2_esn} = bq2_out;

  logic         b_aad_q, b_err_q;
  logic [16:0]  b_off_q;
  logic [1:0]   b_sb_q;
  logic [127:0] b_icv_q, b_icv_n;
  logic [16:0]  b_tb;           // text bytes in this read beat
  logic [2:0]   b_nsub;         // core beats in this read beat
  logic [1:0]   b_lastsub;
  logic [6:0]   b_suboff;
  logic [16:0]  b_subbytes;
  logic         b_body, b_can_finish, b_data_valid, b_beat_done;
  logic [DataW-1:0] b_sub_axi, b_sub_core;
  logic         icvq_in_ready, icvq_valid, icvq_pop, f_icv_pop;
  logic [128:0] icvq_out;

  assign b_body = rd_valid_i && rdo_valid && rdo_owner && bq2_valid && b_aad_q;
  always_comb begin
    b_tb = 17'd0;
    if ({1'b0, b2_textlen} > b_off_q) begin
      b_tb = {1'b0, b2_textlen} - b_off_q;
      if (b_tb > 17'd64) b_tb = 17'd64;
    end
    b_nsub     = 3'((b_tb + 17'(LB - 1)) / 17'(LB));
    b_lastsub  = 2'(b_nsub - 3'd1);
    b_suboff   = 7'(b_sb_q) * 7'(LB);
    b_subbytes = b_tb - {10'd0, b_suboff};
    if (b_subbytes > 17'(LB)) b_subbytes = 17'(LB);
    b_sub_axi  = rd_data_i[{b_suboff[5:0], 3'b000} +: DataW];
    // ICV: stream bytes [text_len, text_len + 16)
    b_icv_n = b_icv_q;
    for (int t = 0; t < 16; t++) begin
      if ({1'b0, b2_textlen} + 17'(t) >= b_off_q && {1'b0, b2_textlen} + 17'(t) < b_off_q + 17'd64)
        b_icv_n[127 - 8*t -: 8] =
            rd_data_i[{6'(({1'b0, b2_textlen} + 17'(t) - b_off_q) & 17'h3f), 3'b000} +: 8];
    end
  end
  assign b_can_finish = !rd_last_i || icvq_in_ready;
  assign b_data_valid = b_body && b_nsub != 3'd0 && (b_sb_q != b_lastsub || b_can_finish);
  assign core_in_valid = bq2_valid && (!b_aad_q || b_data_valid);

  esp_in_conv #(.Lanes(Lanes)) u_conv_in (.in_i(b_sub_axi), .out_o(b_sub_core));

  assign core_in_data  = !b_aad_q ? {{(DataW - 128){1'b0}}, b2_aad} : b_sub_core;
  assign core_in_bytes = !b_aad_q ? (b2_esn ? NbW'(12) : NbW'(8)) : NbW'(b_subbytes);
  assign b_beat_done   = b_body && ((b_nsub == 3'd0 && b_can_finish) ||
                                    (b_data_valid && core_in_ready && b_sb_q == b_lastsub));
  assign b_rd_take     = b_beat_done;
  assign bq2_pop       = b_beat_done && rd_last_i;
  assign icvq_pop      = f_icv_pop;
  fifo_sync #(.Width(129), .Depth(Slots)) u_icvq (
    .clk_i, .rst_i,
    .in_data_i({b_icv_n, b_err_q | rd_err_i}), .in_valid_i(bq2_pop), .in_ready_o(icvq_in_ready),
    .out_data_o(icvq_out), .out_valid_o(icvq_valid), .out_ready_i(icvq_pop)
  );

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      b_aad_q <= 1'b0;
      b_off_q <= '0;
      b_sb_q  <= '0;
      b_err_q <= 1'b0;
      b_icv_q <= '0;
    end else begin
      if (!b_aad_q && core_in_valid && core_in_ready) b_aad_q <= 1'b1;
      if (b_beat_done) begin
        b_sb_q  <= '0;
        b_icv_q <= b_icv_n;
        b_err_q <= b_err_q | rd_err_i;
        b_off_q <= b_off_q + 17'd64;
        if (rd_last_i) begin
          b_aad_q <= 1'b0;
          b_off_q <= '0;
          b_err_q <= 1'b0;
          b_icv_q <= '0;
        end
      end else if (b_data_valid && core_in_ready) begin
        b_sb_q <= b_sb_q + 2'd1;
      end
    end
  end

  // ---------------------------------------------------------------------------------------------
  // M: core output -> plaintext beats for the writer, per-packet summary for F
  // ---------------------------------------------------------------------------------------------
  localparam int unsigned MqW = 128 + 8 + 8 + 1 + 16 + 512;
  logic [MqW-1:0] mq_in, mq_out;
  logic mq_in_ready, mq_valid, mq_pop;
  logic [512 + 7 + 1 - 1:0] wd_in, wd_out;
  logic wd_in_ready, wd_valid, wd_pop;

  logic [DataW-1:0] m_sbd;        // text beat in AXI byte order
  esp_in_conv #(.Lanes(Lanes)) u_conv_out (.in_i(core_out_data), .out_o(m_sbd));

  logic [16:0]          m_cnt_q;      // text bytes so far
  logic [31:0]          m_sum_q;      // one's-complement sum of the text (partly folded)
  logic [511:0]         m_f64_q;      // first 64 text bytes
  logic [TailBytes*8-1:0] m_tail_q;   // last text bytes, newest at [7:0] (see doc)
  logic [NbW-1:0]       m_lastnb_q;
  logic [511:0]         w_acc_q;
  logic [6:0]           w_accn_q;

  logic m_text, m_tag, m_last;
  // Byte reversal of a sub-beat: stream byte j lands at tail index LB-1-j.
  logic [DataW-1:0] m_rev;
  always_comb begin
    for (int j = 0; j < LB; j++) m_rev[8*(LB - 1 - j) +: 8] = m_sbd[8*j +: 8];
  end
  logic [NbW-1:0] m_nb;
  logic [31:0] m_bsum;
  assign m_nb   = core_out_bytes;
  assign m_text = core_out_valid && core_out_ready && !core_out_tag;
  assign m_tag  = core_out_valid && core_out_ready && core_out_tag;
  assign m_last = m_cnt_q + 17'(m_nb) == {1'b0, pki_out};
  assign core_out_ready = core_out_tag ? mq_in_ready : (wd_in_ready && pki_valid);
  assign pki_pop = m_text && m_last;

  always_comb begin
    m_bsum = 32'd0;
    for (int k = 0; k < LB / 2; k++) m_bsum = m_bsum + {16'd0, m_sbd[16*k +: 8], m_sbd[16*k + 8 +: 8]};
  end

  // Writer beat assembly: sub-beats of LB bytes into 64-byte beats
  logic [511:0] w_acc_n;
  always_comb begin
    w_acc_n = w_acc_q;
    w_acc_n[{w_accn_q[5:0], 3'b000} +: DataW] = m_sbd;
  end
  assign wd_in = {w_acc_n, w_accn_q + 7'(m_nb), m_last};

  // Summary at the tag beat: U = the text's last bytes, U byte d-1 = text byte (len - d).
  logic [TailBytes*8-1:0] m_u;
  logic [7:0]  m_pad, m_nh;
  logic        m_padok;
  logic [31:0] m_tsum;
  logic [15:0] m_psum;
  logic [16:0] m_tmp;
  always_comb begin
    m_u   = m_tail_q >> {(7'(LB) - 7'(m_lastnb_q)), 3'b000};
    m_nh  = m_u[7:0];
    m_pad = m_u[15:8];
    m_padok = {9'd0, m_pad} + 17'd2 <= m_cnt_q;
    m_tsum = 32'd0;
    for (int k = 0; k < 255; k++) begin
      if (8'(k) < m_pad && m_u[8*(k + 2) +: 8] != m_pad - 8'(k)) m_padok = 1'b0;
    end
    for (int k = 0; k < 257; k++) begin
      if (9'(k) < {1'b0, m_pad} + 9'd2)
        m_tsum = m_tsum + ((k % 2) == 1 ? {16'd0, m_u[8*k +: 8], 8'd0} : {24'd0, m_u[8*k +: 8]});
    end
    // payload sum = text sum - tail sum (one's complement)
    m_tmp  = {1'b0, fold17(m_sum_q)} + {1'b0, ~fold17(m_tsum)};
    m_psum = fold17({15'd0, m_tmp});
  end
  assign mq_in = {core_out_data[127:0], m_pad, m_nh, m_padok, m_psum, m_f64_q};

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      m_cnt_q  <= '0;
      m_sum_q  <= '0;
      w_accn_q <= '0;
    end else begin
      if (m_text) begin
        m_cnt_q <= m_cnt_q + 17'(m_nb);
        m_sum_q <= {16'd0, fold17(m_sum_q)} + m_bsum;
        if (m_cnt_q < 17'd64) m_f64_q[{m_cnt_q[5:0], 3'b000} +: DataW] <= m_sbd;
        m_tail_q <= {m_tail_q[TailBytes*8-1-DataW:0], m_rev};
        m_lastnb_q <= m_nb;
        if (m_last || w_accn_q + 7'(m_nb) == 7'd64) begin
          w_accn_q <= '0;
        end else begin
          w_accn_q <= w_accn_q + 7'(m_nb);
          w_acc_q  <= w_acc_n;
        end
      end
      if (m_tag) begin
        m_cnt_q <= '0;
        m_sum_q <= '0;
      end
    end
  end


  fifo_sync #(.Width(MqW), .Depth(Slots)) u_mq (
    .clk_i, .rst_i,
    .in_data_i(mq_in), .in_valid_i(m_tag), .in_ready_o(mq_in_ready),
    .out_data_o(mq_out), .out_valid_o(mq_valid), .out_ready_i(mq_pop)
  );
  fifo_sync #(.Width(520), .Depth(8)) u_wd (
    .clk_i, .rst_i,
    .in_data_i(wd_in), .in_valid_i(m_text && (m_last || w_accn_q + 7'(m_nb) == 7'd64)),
    .in_ready_o(wd_in_ready),
    .out_data_o(wd_out), .out_valid_o(wd_valid), .out_ready_i(wd_pop)
  );

  // ---------------------------------------------------------------------------------------------
  // F: ICV, UPDATE, padding and inner checks, head construction
  // ---------------------------------------------------------------------------------------------
  logic [BidW-1:0] f_bid;
  logic [23:0]     f_idx;
  logic [63:0]     f_seq;
  logic [31:0]     f_seqlo;
  logic            f_spec;
  logic [15:0]     f_textlen, f_textoff;
  logic [63:0]     f_bufaddr;
  logic [7:0]      f_pre, f_nhoff;
  logic            f_v6, f_transport, f_udpenc, f_ecnc, f_decttl;
  logic [1023:0]   f_peek;
  assign {f_bid, f_idx, f_seq, f_seqlo, f_spec, f_textlen, f_textoff, f_bufaddr, f_pre, f_nhoff,
          f_v6, f_transport, f_udpenc, f_ecnc, f_decttl, f_peek} = fq_out;
  logic [127:0] f_tag, f_icv;
  logic [7:0]   f_pad, f_nh;
  logic         f_padok, f_rderr;
  logic [15:0]  f_psum;
  logic [511:0] f_f64;
  assign {f_tag, f_pad, f_nh, f_padok, f_psum, f_f64} = mq_out;
  assign {f_icv, f_rderr} = icvq_out;

  localparam logic [2:0] FsIdle = 3'd0, FsRchk = 3'd1, FsRchkW = 3'd2, FsUpd = 3'd3, FsUpdW = 3'd4,
                         FsChk = 3'd5, FsSum = 3'd6, FsRes = 3'd7;
  logic [2:0]   f_st_q;
  logic [7:0]   f_status_q, f_outnh_q;
  logic [1:0]   f_kind_q;
  logic [HeadBytes*8-1:0] hb_q;
  logic [7:0]   f_hlen_q;
  logic         f_hneed_q, f_v4sum_q, f_l4_q;
  logic [7:0]   f_sumlen_q, f_csumpos_q;
  logic [15:0]  f_outoff_q, f_outlen_q, f_field_q, f_plen_q;

  // FsChk combinational
  logic [15:0]  k_plen;
  logic [7:0]   k_status;
  logic [HeadBytes*8-1:0] k_hb;
  logic [7:0]   k_hlen, k_sumlen, k_csumpos;
  logic         k_hneed, k_v4sum, k_l4;
  logic [15:0]  k_outoff, k_outlen, k_field, k_tot, k_ihl;
  logic [1:0]   k_oecn, k_iecn;
  logic         k_iv4, k_ecnset;
  logic [1:0]   k_newecn;
  logic [7:0]   k_ttl;
  logic [31:0]  k_hs;
  logic [7:0]   k_csumoff;
  always_comb begin
    k_plen   = f_textlen - 16'd2 - {8'd0, f_pad};
    k_status = StOk;
    k_hb     = '0;
    k_hlen   = 8'd0;
    k_hneed  = 1'b0;
    k_v4sum  = 1'b0;
    k_l4     = 1'b0;
    k_sumlen = 8'd0;
    k_csumpos = 8'd0;
    k_outoff = f_textoff;
    k_outlen = 16'd0;
    k_field  = 16'd0;
    k_iv4    = f_f64[7:4] == 4'd4;
    k_ihl    = {10'd0, f_f64[3:0], 2'b00};
    k_tot    = k_iv4 ? {f_f64[23:16], f_f64[31:24]} : 16'd40 + {f_f64[39:32], f_f64[47:40]};
    k_oecn   = f_v6 ? f_peek[13:12] : f_peek[9:8];
    k_iecn   = k_iv4 ? f_f64[9:8] : f_f64[13:12];
    k_ecnset = 1'b0;
    k_newecn = k_iecn;
    k_ttl    = k_iv4 ? f_f64[71:64] : f_f64[63:56];
    k_csumoff = f_nh == 8'd6 ? 8'd16 : 8'd6;
    k_hs = 32'd0;
    for (int i = 0; i < 30; i++) begin
      if (16'(2 * i) < k_ihl) k_hs = k_hs + {16'd0, f_f64[16*i +: 8], f_f64[16*i + 8 +: 8]};
    end
    if (!f_padok) begin
      k_status = StBadPad;
    end else if (f_nh == 8'd59) begin
      k_status = StDummy;
    end else if (!f_transport) begin
      // Tunnel: the payload is an IPv4/IPv6 packet matching the next header (TFC padding may
      // follow it); RFC 6040 decapsulation; optional TTL decrement.
      if (f_nh != 8'd4 && f_nh != 8'd41) begin
        k_status = StBadInner;
      end else if (f_f64[7:4] != (f_nh == 8'd4 ? 4'd4 : 4'd6)) begin
        k_status = StBadInner;
      end else if (k_iv4 && (k_plen < 16'd20 || k_ihl < 16'd20 || k_tot < k_ihl || k_tot > k_plen ||
                             fold17(k_hs) != 16'hffff)) begin
        k_status = StBadInner;
      end else if (!k_iv4 && (k_plen < 16'd40 || k_tot > k_plen)) begin
        k_status = StBadInner;
      end else begin
        if (!f_ecnc) begin
          if (k_oecn == 2'd3) begin
            if (k_iecn == 2'd0) k_status = StEcnDrop;
            else if (k_iecn != 2'd3) begin
              k_ecnset = 1'b1;
              k_newecn = 2'd3;
            end
          end else if (k_oecn == 2'd1 && k_iecn == 2'd2) begin
            k_ecnset = 1'b1;
            k_newecn = 2'd1;
          end
        end
        if (k_status == StOk && f_decttl && k_ttl <= 8'd1) k_status = StTtl;
        k_hb[511:0] = f_f64;
        if (k_ecnset) begin
          if (k_iv4) k_hb[9:8] = k_newecn;
          else k_hb[13:12] = k_newecn;
        end
        if (f_decttl) begin
          if (k_iv4) k_hb[71:64] = k_ttl - 8'd1;
          else k_hb[63:56] = k_ttl - 8'd1;
        end
        k_hneed  = k_ecnset || f_decttl;
        k_v4sum  = k_iv4 && k_hneed;
        if (k_v4sum) k_hb[95:80] = 16'd0;
        k_sumlen = 8'(k_ihl);
        k_hlen   = k_iv4 ? 8'(k_ihl) : 8'd8;
        k_outoff = f_textoff;
        k_outlen = k_tot;
      end
    end else begin
      // Transport: the IP header(s) move up to meet the payload.
      k_hb[1023:0] = f_peek;
      for (int i = 0; i < 128; i++) if (8'(i) >= f_pre) k_hb[8*i +: 8] = 8'd0;
      k_hb[{1'b0, f_nhoff[6:0], 3'b000} +: 8] = f_nh;
      if (!f_v6) begin
        k_hb[23:16] = 8'(({8'd0, f_pre} + k_plen) >> 8);
        k_hb[31:24] = 8'({8'd0, f_pre} + k_plen);
        k_hb[95:80] = 16'd0;
        k_v4sum = 1'b1;
        k_sumlen = f_pre;
      end else begin
        k_hb[39:32] = 8'(({8'd0, f_pre} + k_plen - 16'd40) >> 8);
        k_hb[47:40] = 8'({8'd0, f_pre} + k_plen - 16'd40);
      end
      k_l4 = f_udpenc && (f_nh == 8'd6 || f_nh == 8'd17) && k_plen >= {8'd0, k_csumoff} + 16'd2 &&
             !(f_nh == 8'd17 && !f_v6 && f_f64[55:48] == 8'd0 && f_f64[63:56] == 8'd0);
      k_field = {f_f64[{k_csumoff[5:0], 3'b000} +: 8], f_f64[{k_csumoff[5:0] + 6'd1, 3'b000} +: 8]};
      if (k_l4) begin
        for (int i = 0; i < 18; i++) begin
          if (8'(i) < k_csumoff + 8'd2)
            k_hb[{f_pre + 8'(i), 3'b000} +: 8] = f_f64[8*i +: 8];
        end
        k_hb[{f_pre + k_csumoff, 3'b000} +: 16] = 16'd0;
      end
      k_csumpos = f_pre + k_csumoff;
      k_hneed  = 1'b1;
      k_hlen   = f_pre + (k_l4 ? k_csumoff + 8'd2 : 8'd0);
      k_outoff = f_textoff - {8'd0, f_pre};
      k_outlen = {8'd0, f_pre} + k_plen;
    end
  end

  // FsSum combinational: IPv4 header checksum and the L4 checksum over hb_q
  logic [31:0] s_hs, s_ps;
  logic [15:0] s_hc, s_x, s_lc;
  logic [16:0] s_t1;
  always_comb begin
    s_hs = 32'd0;
    for (int i = 0; i < 30; i++) begin
      if (8'(2 * i) < f_sumlen_q) s_hs = s_hs + {16'd0, hb_q[16*i +: 8], hb_q[16*i + 8 +: 8]};
    end
    s_hc = ~fold17(s_hs);
    s_ps = 32'd0;
    if (f_v6) begin
      for (int i = 4; i < 20; i++) s_ps = s_ps + {16'd0, hb_q[16*i +: 8], hb_q[16*i + 8 +: 8]};
    end else begin
      for (int i = 6; i < 10; i++) s_ps = s_ps + {16'd0, hb_q[16*i +: 8], hb_q[16*i + 8 +: 8]};
    end
    s_ps = s_ps + {24'd0, f_nh} + {16'd0, f_plen_q} + {16'd0, f_psum};
    s_t1 = {1'b0, fold17(s_ps)} + {1'b0, ~f_field_q};
    s_x  = fold17({15'd0, s_t1});
    if (s_x == 16'd0) s_x = 16'hffff;            // the model's sum is never zero
    s_lc = ~s_x;
    if (s_lc == 16'd0 && f_nh == 8'd17) s_lc = 16'hffff;
  end

  localparam int unsigned RqW = 8 + 2 + 64 + 8 + 16 + 16 + 2;
  logic [RqW-1:0] rq_in, rq_out;
  logic rq_in_ready, rq_valid, rq_pop;
  localparam int unsigned HqW = BidW + 64 + 8 + HeadBytes * 8;
  logic [HqW-1:0] hq_in, hq_out;
  logic hq_in_ready, hq_valid, hq_pop;
  logic f_ok;
  assign f_ok = f_status_q == StOk;

  assign f_rp_req  = f_st_q == FsRchk || f_st_q == FsUpd;
  assign f_rp_op   = f_st_q == FsUpd ? esp_replay_pkg::OpUpdate : esp_replay_pkg::OpCheck;
  assign f_rp_sa   = f_idx[IdxW-1:0];
  assign f_rp_seq  = f_st_q == FsUpd ? f_seq : {32'd0, f_seqlo};
  assign f_rp_wait = f_st_q == FsRchkW || f_st_q == FsUpdW;

  assign rq_in = {f_status_q, f_kind_q, f_ok ? f_seq : 64'd0, f_ok ? f_outnh_q : 8'd0,
                  f_ok ? f_outoff_q : 16'd0, f_ok ? f_outlen_q : 16'd0,
                  2'd1 + {1'b0, f_ok && f_hneed_q}};
  assign hq_in = {f_bid, f_bufaddr + {48'd0, f_outoff_q}, f_hlen_q, hb_q};
  logic f_res;
  assign f_res = f_st_q == FsRes && rq_in_ready && hq_in_ready;
  assign fq_pop = f_res;
  assign mq_pop = f_res;
  assign f_icv_pop = f_res;

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      f_st_q <= FsIdle;
    end else begin
      unique case (f_st_q)
        FsIdle: if (fq_valid && mq_valid && icvq_valid) begin
          f_hneed_q <= 1'b0;
          f_kind_q  <= KindOther;
          if (f_rderr) begin
            f_status_q <= StDmaRd;
            f_st_q <= FsRes;
          end else if (f_tag != f_icv) begin
            // Constant time: one 128-bit comparison. A packet that overlapped an earlier one of
            // its SA asks the window again, since the model would have refused it as a replay.
            f_status_q <= StAuth;
            f_kind_q   <= KindAuth;
            f_st_q <= f_spec ? FsRchk : FsRes;
          end else begin
            f_st_q <= FsUpd;
          end
        end
        FsRchk: if (rp_req_valid_o && rp_req_ready_i && rp_sel_f) f_st_q <= FsRchkW;
        FsRchkW: if (rp_rsp_fire && rpo_owner) begin
          if (rp_rsp_verdict_i != esp_replay_pkg::VerdictOk) begin
            f_status_q <= StReplay;
            f_kind_q   <= KindReplay;
          end
          f_st_q <= FsRes;
        end
        FsUpd: if (rp_req_valid_o && rp_req_ready_i && rp_sel_f) f_st_q <= FsUpdW;
        FsUpdW: if (rp_rsp_fire && rpo_owner) begin
          if (rp_rsp_verdict_i != esp_replay_pkg::VerdictOk) begin
            f_status_q <= StReplay;
            f_kind_q   <= KindReplay;
            f_st_q <= FsRes;
          end else begin
            f_st_q <= FsChk;
          end
        end
        FsChk: begin
          f_status_q  <= k_status;
          f_kind_q    <= k_status == StOk ? KindOk : KindOther;
          hb_q        <= k_hb;
          f_hlen_q    <= k_hlen;
          f_hneed_q   <= k_hneed;
          f_v4sum_q   <= k_v4sum;
          f_l4_q      <= k_l4;
          f_sumlen_q  <= k_sumlen;
          f_csumpos_q <= k_csumpos;
          f_outoff_q  <= k_outoff;
          f_outlen_q  <= k_outlen;
          f_outnh_q   <= f_nh;
          f_field_q   <= k_field;
          f_plen_q    <= k_plen;
          f_st_q      <= FsSum;
        end
        FsSum: begin
          if (f_v4sum_q) hb_q[95:80] <= {s_hc[7:0], s_hc[15:8]};
          if (f_l4_q) hb_q[{f_csumpos_q, 3'b000} +: 16] <= {s_lc[7:0], s_lc[15:8]};
          f_st_q <= FsRes;
        end
        FsRes: if (rq_in_ready && hq_in_ready) f_st_q <= FsIdle;
        default: f_st_q <= FsIdle;
      endcase
    end
  end

  fifo_sync #(.Width(RqW), .Depth(Slots)) u_rq (
    .clk_i, .rst_i,
    .in_data_i(rq_in), .in_valid_i(f_res), .in_ready_o(rq_in_ready),
    .out_data_o(rq_out), .out_valid_o(rq_valid), .out_ready_i(rq_pop)
  );
  fifo_sync #(.Width(HqW), .Depth(2)) u_hq (
    .clk_i, .rst_i,
    .in_data_i(hq_in), .in_valid_i(f_res && f_ok && f_hneed_q), .in_ready_o(hq_in_ready),
    .out_data_o(hq_out), .out_valid_o(hq_valid), .out_ready_i(hq_pop)
  );

  // ---------------------------------------------------------------------------------------------
  // W: writer (text writes in body order; a head write once its own text's command went out)
  // ---------------------------------------------------------------------------------------------
  logic [BidW-1:0] h_bid;
  logic [63:0]     h_addr;
  logic [7:0]      h_len;
  logic [HeadBytes*8-1:0] h_data;
  assign {h_bid, h_addr, h_len, h_data} = hq_out;
  logic [63:0]     t_addr;
  logic [15:0]     t_len;
  logic [BidW-1:0] t_bid;
  assign {t_addr, t_len, t_bid} = wc_out;

  logic            w_act_q, w_head_q, w_cmddone_q, w_datdone_q;
  logic [1:0]      w_hbeat_q;
  logic [BidW-1:0] w_txtcnt_q;
  logic            w_head_ok, w_head, w_act, w_cmd_fire, w_dat_fire, w_last_fire;
  logic            w_cmd_now, w_dat_now;
  logic            wt_in_ready, wt_valid;
  logic [BidW-1:0] wt_out, w_bid;
  logic [BidW-1:0] w_hdiff;

  // A head is eligible once its own text's command went out (texts go in body order).
  assign w_hdiff   = w_txtcnt_q - h_bid;
  assign w_head_ok = hq_valid && w_hdiff != '0 && !w_hdiff[BidW-1];
  assign w_head    = w_act_q ? w_head_q : w_head_ok;
  assign w_act     = w_act_q || w_head_ok || (wc_valid && wd_valid);
  assign w_bid     = w_head ? h_bid : t_bid;

  // Command and data channels are independent: the command may go with the first beat.
  assign wr_cmd_valid_o = w_act && !w_cmddone_q && wt_in_ready;
  assign wr_cmd_addr_o  = w_head ? h_addr : t_addr;
  assign wr_cmd_len_o   = w_head ? {8'd0, h_len} : t_len;
  assign w_cmd_fire     = wr_cmd_valid_o && wr_cmd_ready_i;

  logic [7:0] w_hrem;
  assign w_hrem = h_len - {w_hbeat_q, 6'd0};
  assign wr_valid_o  = w_act && !w_datdone_q && (w_head || wd_valid);
  assign wr_data_o   = w_head ? h_data[{w_hbeat_q, 9'd0} +: 512] : wd_out[519:8];
  assign wr_bytes_o  = w_head ? (w_hrem > 8'd64 ? 7'd64 : 7'(w_hrem)) : wd_out[7:1];
  assign wr_last_o   = w_head ? w_hrem <= 8'd64 : wd_out[0];
  assign w_dat_fire  = wr_valid_o && wr_ready_i;
  assign w_last_fire = w_dat_fire && wr_last_o;
  assign w_cmd_now   = w_cmddone_q || w_cmd_fire;
  assign w_dat_now   = w_datdone_q || w_last_fire;
  assign wd_pop = w_dat_fire && !w_head;
  assign hq_pop = w_act && w_head && w_cmd_now && w_dat_now;   // the command needs the entry too
  assign wc_pop = w_cmd_fire && !w_head;

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      w_act_q     <= 1'b0;
      w_head_q    <= 1'b0;
      w_cmddone_q <= 1'b0;
      w_datdone_q <= 1'b0;
      w_hbeat_q   <= '0;
      w_txtcnt_q  <= '0;
    end else begin
      if (w_cmd_fire && !w_head) w_txtcnt_q <= w_txtcnt_q + 1'b1;
      if (w_act) begin
        if (w_cmd_now && w_dat_now) begin
          w_act_q     <= 1'b0;
          w_cmddone_q <= 1'b0;
          w_datdone_q <= 1'b0;
          w_hbeat_q   <= '0;
        end else begin
          w_act_q     <= 1'b1;
          w_head_q    <= w_head;
          w_cmddone_q <= w_cmd_now;
          w_datdone_q <= w_dat_now;
          if (w_dat_fire && w_head) w_hbeat_q <= w_hbeat_q + 2'd1;
        end
      end
    end
  end

  fifo_sync #(.Width(BidW), .Depth(2 * Slots)) u_wt (
    .clk_i, .rst_i,
    .in_data_i(w_bid), .in_valid_i(w_cmd_fire), .in_ready_o(wt_in_ready),
    .out_data_o(wt_out), .out_valid_o(wt_valid), .out_ready_i(wr_done_valid_i)
  );
  assign wr_done_ready_o = wt_valid;

  // Per-slot write accounting: commands issued, done, error
  logic [1:0] wi_q [Slots];
  logic [1:0] wdn_q [Slots];
  logic       werr_q [Slots];

  // ---------------------------------------------------------------------------------------------
  // CP: completion and counter, in job order
  // ---------------------------------------------------------------------------------------------
  logic [4:0]  j_ring;
  logic [15:0] j_index;
  logic [63:0] j_user;
  logic        j_irq, j_hassa, j_body;
  logic [7:0]  j_status;
  logic [1:0]  j_kind;
  logic [31:0] j_spi;
  logic [23:0] j_idx;
  logic [BidW-1:0] j_bid;
  assign {j_ring, j_index, j_user, j_irq, j_status, j_hassa, j_kind, j_spi, j_idx, j_body, j_bid} =
      jq_out;
  logic [7:0]  r_status, r_nh;
  logic [1:0]  r_kind, r_nwr;
  logic [63:0] r_seq;
  logic [15:0] r_outoff, r_outlen;
  assign {r_status, r_kind, r_seq, r_nh, r_outoff, r_outlen, r_nwr} = rq_out;

  localparam logic [1:0] CpIdle = 2'd0, CpCnt = 2'd1, CpCpl = 2'd2;
  logic [1:0] cp_st_q;
  logic       cp_go;
  logic [SlW-1:0] j_slot;
  assign j_slot = j_bid[SlW-1:0];
  assign cp_go = cp_st_q == CpIdle && jq_valid &&
                 (!j_body || (rq_valid && wi_q[j_slot] == r_nwr && wdn_q[j_slot] == r_nwr));
  assign jq_pop = cp_go;
  assign rq_pop = cp_go && j_body;

  // Completion fields (the record is assembled as a vector: Yosys 0.23 cannot cast to the
  // package's enum type, and Verilator refuses an implicit conversion to it)
  logic [4:0]  cp_ring_q;
  logic        cp_irq_q;
  logic [1:0]  cp_kind_q;
  logic [63:0] cp_seq_q, cp_user_q;
  logic [15:0] cp_bytes_q, cp_index_q, cp_outoff_q;
  logic [23:0] cp_idx_q;
  logic [31:0] cp_spi_q;
  logic [7:0]  cp_status_q, cp_nh_q;

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      cp_st_q <= CpIdle;
    end else begin
      unique case (cp_st_q)
        CpIdle: if (cp_go) begin
          cp_ring_q   <= j_ring;
          cp_irq_q    <= j_irq;
          cp_idx_q    <= j_idx;
          cp_index_q  <= j_index;
          cp_spi_q    <= j_spi;
          cp_user_q   <= j_user;
          cp_kind_q   <= j_kind;
          cp_status_q <= j_status;
          cp_seq_q    <= 64'd0;
          cp_bytes_q  <= 16'd0;
          cp_outoff_q <= 16'd0;
          cp_nh_q     <= 8'd0;
          if (j_body) begin
            if (werr_q[j_slot]) begin
              cp_status_q <= StDmaWr;
              cp_kind_q   <= KindOther;
            end else begin
              cp_status_q <= r_status;
              cp_kind_q   <= r_kind;
              cp_seq_q    <= r_seq;
              cp_nh_q     <= r_nh;
              cp_outoff_q <= r_outoff;
              cp_bytes_q  <= r_outlen;
            end
          end
          cp_st_q <= j_hassa ? CpCnt : CpCpl;
        end
        CpCnt: if (cnt_ready_i) cp_st_q <= CpCpl;
        CpCpl: if (cpl_ready_i) cp_st_q <= CpIdle;
        default: cp_st_q <= CpIdle;
      endcase
    end
  end

  assign cnt_valid_o = cp_st_q == CpCnt;
  assign cnt_index_o = cp_idx_q;
  assign cnt_kind_o  = cp_kind_q;
  assign cnt_bytes_o = cp_kind_q == KindOk ? cp_bytes_q : 16'd0;
  assign cnt_seq_o   = cp_kind_q == KindOk ? cp_seq_q : 64'd0;
  assign cpl_valid_o = cp_st_q == CpCpl;
  assign cpl_ring_o  = cp_ring_q;
  // cpl_t: phase, reserved, dir (inbound), status, desc_index, out_len, out_offset, next_header,
  // sa_index, spi, seq, user_data (PHASE is the queue engine's)
  assign cpl_rec_o   = {1'b0, 6'd0, 1'b1, cp_status_q, cp_index_q, cp_bytes_q, cp_outoff_q, cp_nh_q,
                        cp_idx_q, cp_spi_q, cp_seq_q, cp_user_q};
  assign cpl_irq_o   = cp_irq_q;

  // In-flight table and write accounting updates
  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      for (int s = 0; s < Slots; s++) begin
        inf_live_q[s] <= 1'b0;
        inf_upd_q[s]  <= 1'b0;
        wi_q[s]       <= 2'd0;
        wdn_q[s]      <= 2'd0;
        werr_q[s]     <= 1'b0;
      end
    end else begin
      if (c_disp) begin
        inf_live_q[c_bid_q[SlW-1:0]] <= 1'b1;
        inf_upd_q[c_bid_q[SlW-1:0]]  <= 1'b1;
        inf_sa_q[c_bid_q[SlW-1:0]]   <= c_idx[IdxW-1:0];
        inf_seq_q[c_bid_q[SlW-1:0]]  <= c_seq_q;
      end
      if (f_res) inf_upd_q[f_bid[SlW-1:0]] <= 1'b0;
      if (w_cmd_fire) wi_q[w_bid[SlW-1:0]] <= wi_q[w_bid[SlW-1:0]] + 2'd1;
      if (wr_done_valid_i && wt_valid) begin
        wdn_q[wt_out[SlW-1:0]] <= wdn_q[wt_out[SlW-1:0]] + 2'd1;
        if (wr_done_err_i) werr_q[wt_out[SlW-1:0]] <= 1'b1;
      end
      if (cp_go && j_body) begin
        inf_live_q[j_slot] <= 1'b0;
        wi_q[j_slot]  <= 2'd0;
        wdn_q[j_slot] <= 2'd0;
        werr_q[j_slot] <= 1'b0;
      end
    end
  end

  // ---------------------------------------------------------------------------------------------
  // Assertions
  // ---------------------------------------------------------------------------------------------
`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (!rst_i) begin
      if (job_valid_i && job_ready_o)
        assert (job_desc_i.pkt_len != 16'd0 && 32'(job_desc_i.pkt_len) <= MaxPktBytes)
          else $error("esp_inbound: PKT_LEN outside 1..MaxPktBytes");
      if (rd_valid_i) assert (rdo_valid) else $error("esp_inbound: read data without a command");
      if (wr_done_valid_i) assert (wt_valid) else $error("esp_inbound: wr_done without a write");
    end
  end
`endif

endmodule
