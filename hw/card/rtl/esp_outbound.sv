// SPDX-License-Identifier: Apache-2.0
//
// Outbound ESP engine (hw/card/doc/engine.md, hw/card/doc/esp_outbound.md): one plaintext IP
// packet per job, encapsulated in place (RFC 4303 tunnel or transport, RFC 3948 UDP, RFC 4106
// AES-GCM with the 64-bit sequence number as IV), byte for byte as host/esp/esp_sa.cc does it.
//
// Pipeline (each arrow a FIFO, so that a job's peek, SA lookup and sequence number overlap the
// previous jobs' text in the AES-GCM core):
//   job ─► front (issue peek rd_cmd, lk_req, seq_req; up to PeekAhead jobs ahead of decide, so
//          the peeks of several jobs are in flight over the read latency)
//        ─► decide (peek + SA + seq → status, head bytes, AES context; no write before this)
//             ├─► brq (body rd_cmd) ─► rd arbiter ◄─ front's peeks     (rd tags route rd data)
//             ├─► ctxq ─► aes_gcm_core ctx   cq ─► composer: rd body + trailer ─► aes_gcm_core in
//             └─► wq ─► writer: AES out → body beats (ciphertext+ICV, in place) then the head
//                      (outer IP/UDP/ESP/IV or moved IP header + UDP/ESP/IV) ─► cfq ─► completion
//                      (waits for wr_done, sends cnt then cpl)
//
// Byte orders: packet streams in AXI order (byte k at [8k +: 8]); aes_gcm_core lanes carry byte 0
// at the top of each 16-byte lane, so the composer and the writer reverse bytes within lanes. Key,
// salt in sa_table order (byte k at [8k +: 8]); H powers in aes_gcm_core order.
//
// Deviation from the software path (documented in esp_outbound.md): the peek is 128 bytes, so a
// transport IPv6 packet whose insertion point (after its extension headers) lies beyond byte 128
// completes with `malformed`; the software path would accept it.
//
// Yosys 0.23 subset: flat vectors, no packed multi-dimensional arrays, no `return`.
`default_nettype none

module esp_outbound #(
  parameter int unsigned Lanes       = 4,     // AES blocks per cycle of the AES-GCM core: 1, 2, 4
  parameter int unsigned IdxW        = 12,    // SA index bits: log2 of the SA table slots
  parameter int unsigned MaxPktBytes = 9216,  // largest input or output packet, bytes
  // Jobs accepted ahead of the decision stage (their peek reads, lookups and sequence requests in
  // flight): a power of two, 2..16. Covers the host read latency (esp_outbound.md, Throughput);
  // more helps small packets, each step costs PeekAhead lookup entries of flops (fifo_wipe).
  parameter int unsigned PeekAhead   = 8,
  localparam int unsigned LaneBytes  = Lanes * 16,
  localparam int unsigned DataW      = Lanes * 128,
  localparam int unsigned NbW        = $clog2(LaneBytes + 1)
) (
  input  logic         clk_i,
  input  logic         rst_i,                  // synchronous, active high

  // Jobs from esp_engine (descriptor already checked)
  input  logic         job_valid_i,
  output logic         job_ready_o,
  input  logic [4:0]   job_ring_i,
  input  logic [15:0]  job_index_i,            // descriptor index (completion DESC_INDEX)
  input  logic [255:0] job_desc_i,             // ipsec_card_pkg::req_desc_t

  // Reads of the buffer (to dma_rd)
  output logic         rd_cmd_valid_o,
  input  logic         rd_cmd_ready_i,
  output logic [63:0]  rd_cmd_addr_o,
  output logic [15:0]  rd_cmd_len_o,
  input  logic         rd_valid_i,
  output logic         rd_ready_o,
  input  logic [511:0] rd_data_i,
  input  logic [6:0]   rd_bytes_i,
  input  logic         rd_last_i,
  input  logic         rd_err_i,               // with rd_last_i

  // Writes into the buffer (to dma_wr)
  output logic         wr_cmd_valid_o,
  input  logic         wr_cmd_ready_i,
  output logic [63:0]  wr_cmd_addr_o,
  output logic [15:0]  wr_cmd_len_o,
  output logic         wr_valid_o,
  input  logic         wr_ready_i,
  output logic [511:0] wr_data_o,
  output logic [6:0]   wr_bytes_o,
  output logic         wr_last_o,
  input  logic         wr_done_valid_i,
  output logic         wr_done_ready_o,
  input  logic         wr_done_err_i,

  // SA lookup (sa_table); responses in order. lk_rsp_ready_o is high whenever a response is due
  // (room is reserved per request), so a source without back-pressure may ignore it.
  output logic         lk_req_valid_o,
  input  logic         lk_req_ready_i,
  output logic [23:0]  lk_req_index_o,
  input  logic         lk_rsp_valid_i,
  output logic         lk_rsp_ready_o,
  input  logic         lk_rsp_sa_valid_i,
  input  logic         lk_rsp_hard_expired_i,
  input  logic [767:0] lk_rsp_params_i,        // ipsec_card_pkg::sa_params_t
  input  logic [255:0] lk_rsp_key_i,
  input  logic [31:0]  lk_rsp_salt_i,
  input  logic [511:0] lk_rsp_hpow_i,          // H^(k+1) at [k*128 +: 128]; Lanes < 4: low part

  // Sequence numbers (sa_table allocator); responses in order, seq_rsp_ready_o as lk_rsp_ready_o
  output logic         seq_req_valid_o,
  input  logic         seq_req_ready_i,
  output logic [23:0]  seq_req_index_o,
  input  logic         seq_rsp_valid_i,
  output logic         seq_rsp_ready_o,
  input  logic         seq_rsp_ok_i,
  input  logic         seq_rsp_exhausted_i,
  input  logic [63:0]  seq_rsp_seq_i,

  // Per-SA counters (sa_table counter port)
  output logic         cnt_valid_o,
  input  logic         cnt_ready_i,
  output logic [23:0]  cnt_index_o,
  output logic [1:0]   cnt_kind_o,             // 0 ok, 3 other drop
  output logic [15:0]  cnt_bytes_o,            // inner bytes (ok)
  output logic [63:0]  cnt_seq_o,

  // Completions, in job order, after every write of the job is done
  output logic         cpl_valid_o,
  input  logic         cpl_ready_i,
  output logic [4:0]   cpl_ring_o,
  output logic [255:0] cpl_rec_o,              // ipsec_card_pkg::cpl_t, PHASE = 0
  output logic         cpl_irq_o
);

  if (Lanes != 1 && Lanes != 2 && Lanes != 4) begin : gen_bad_lanes
    $error("esp_outbound: Lanes must be 1, 2 or 4 (instance %m)");
  end
  if (IdxW < 1 || IdxW > 24) begin : gen_bad_idxw
    $error("esp_outbound: IdxW must be 1..24 (instance %m)");
  end
  if (MaxPktBytes < 64 || MaxPktBytes > 65535) begin : gen_bad_maxpkt
    $error("esp_outbound: MaxPktBytes must be 64..65535 (instance %m)");
  end
  if (PeekAhead < 2 || PeekAhead > 16 || (PeekAhead & (PeekAhead - 1)) != 0) begin : gen_bad_ahead
    $error("esp_outbound: PeekAhead must be a power of two, 2..16 (instance %m)");
  end

  localparam int unsigned FrW  = $clog2(PeekAhead + 1);   // jobs between acceptance and decide
  // Jobs past decide (brq, cq, wq, cfq): room for the jobs whose body reads run ahead of the
  // writer over the read latency (the context queue ctxq sets how far; see esp_outbound.md).
  localparam int unsigned Post = 8;
  // Read commands in flight (tag FIFO): PeekAhead peeks plus the body reads of decided jobs.
  localparam int unsigned TagD = (PeekAhead < 8) ? 16 : 2 * PeekAhead;

  localparam int unsigned PeekBytes = 128;
  localparam int unsigned HeadBytes = 192;            // 3 beats: moved header <= 128 + 24
  localparam int unsigned HeadW     = HeadBytes * 8;

  // Status codes (ipsec_card_pkg::cpl_status_e)
  localparam logic [7:0] StOk        = 8'd0;
  localparam logic [7:0] StMalformed = 8'd4;
  localparam logic [7:0] StNoRoom    = 8'd7;
  localparam logic [7:0] StSeqOvf    = 8'd8;
  localparam logic [7:0] StHardLife  = 8'd9;
  localparam logic [7:0] StWrongDir  = 8'd12;
  localparam logic [7:0] StBadSa     = 8'd64;
  localparam logic [7:0] StTooBig    = 8'd66;
  localparam logic [7:0] StRdErr     = 8'd67;
  localparam logic [7:0] StWrErr     = 8'd68;

  // One's-complement fold of a 32-bit sum to 16 bits (RFC 1071), not inverted.
  function automatic logic [15:0] csum_fold(input logic [31:0] s);
    logic [31:0] t;
    t = {16'd0, s[15:0]} + {16'd0, s[31:16]};
    t = {16'd0, t[15:0]} + {16'd0, t[31:16]};
    csum_fold = t[15:0];
  endfunction

  // =============================================================================================
  // Front: accept a job, issue its peek, lookup and sequence requests. At most PeekAhead jobs
  // between acceptance and decide, which sizes the job, peek, lookup and sequence FIFOs (no
  // back-pressure on the responses). The peeks of those jobs are all in flight at once: the read
  // stream returns them in order, between the body reads decide issues meanwhile.
  // =============================================================================================
  ipsec_card_pkg::req_desc_t jd;
  assign jd = job_desc_i;

  logic [FrW-1:0] fr_cnt_q, fr_cnt_d;
  logic        is_rd_q, is_lk_q, is_seq_q;
  logic        is_rd_d, is_lk_d, is_seq_d;
  logic [63:0] is_addr_q;
  logic [15:0] is_len_q;
  logic [23:0] is_sa_q;
  logic        job_fire, dec_take;
  logic        jq_in_ready, jq_out_valid;
  logic [276:0] jq_out_data;
  logic        peek_load;  // the rd arbiter takes the pending peek

  assign job_ready_o = !is_rd_q && !is_lk_q && !is_seq_q && fr_cnt_q != FrW'(PeekAhead) && jq_in_ready;
  assign job_fire    = job_valid_i && job_ready_o;

  assign lk_req_valid_o  = is_lk_q;
  assign lk_req_index_o  = is_sa_q;
  assign seq_req_valid_o = is_seq_q;
  assign seq_req_index_o = is_sa_q;

  always_comb begin
    fr_cnt_d = fr_cnt_q + FrW'(job_fire) - FrW'(dec_take);
    is_rd_d  = job_fire ? 1'b1 : (is_rd_q && !peek_load);
    is_lk_d  = job_fire ? 1'b1 : (is_lk_q && !lk_req_ready_i);
    is_seq_d = job_fire ? 1'b1 : (is_seq_q && !seq_req_ready_i);
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      fr_cnt_q <= '0;
      is_rd_q  <= 1'b0;
      is_lk_q  <= 1'b0;
      is_seq_q <= 1'b0;
    end else begin
      fr_cnt_q <= fr_cnt_d;
      is_rd_q  <= is_rd_d;
      is_lk_q  <= is_lk_d;
      is_seq_q <= is_seq_d;
    end
  end

  always_ff @(posedge clk_i) begin
    if (job_fire) begin
      is_addr_q <= jd.buf_addr + 64'(jd.pkt_offset);
      is_len_q  <= (jd.pkt_len > 16'(PeekBytes)) ? 16'(PeekBytes) : jd.pkt_len;
      is_sa_q   <= jd.sa_index;
    end
  end

  fifo_sync #(.Width(277), .Depth(PeekAhead)) u_jq (
    .clk_i, .rst_i,
    .in_data_i  ({job_ring_i, job_index_i, job_desc_i}),
    .in_valid_i (job_fire),
    .in_ready_o (jq_in_ready),
    .out_data_o (jq_out_data),
    .out_valid_o(jq_out_valid),
    .out_ready_i(dec_take)
  );

  // Lookup and sequence responses
  localparam int unsigned LkW = 2 + 768 + 256 + 32 + 512;
  logic           lkq_out_valid, seqq_out_valid, lkq_in_ready, seqq_in_ready;
  logic [LkW-1:0] lkq_out_data;
  logic [65:0]    seqq_out_data;

  assign lk_rsp_ready_o  = lkq_in_ready;
  assign seq_rsp_ready_o = seqq_in_ready;

  // Keys and H powers: a flop FIFO that zeroes an entry as it is popped (fifo_wipe).
  fifo_wipe #(.Width(LkW), .Depth(PeekAhead)) u_lkq (
    .clk_i, .rst_i,
    .wipe_i     (1'b0),
    .in_data_i  ({lk_rsp_sa_valid_i, lk_rsp_hard_expired_i, lk_rsp_params_i, lk_rsp_key_i,
                  lk_rsp_salt_i, lk_rsp_hpow_i}),
    .in_valid_i (lk_rsp_valid_i),
    .in_ready_o (lkq_in_ready),
    .out_data_o (lkq_out_data),
    .out_valid_o(lkq_out_valid),
    .out_ready_i(dec_take)
  );

  fifo_sync #(.Width(66), .Depth(PeekAhead)) u_seqq (
    .clk_i, .rst_i,
    .in_data_i  ({seq_rsp_ok_i, seq_rsp_exhausted_i, seq_rsp_seq_i}),
    .in_valid_i (seq_rsp_valid_i),
    .in_ready_o (seqq_in_ready),
    .out_data_o (seqq_out_data),
    .out_valid_o(seqq_out_valid),
    .out_ready_i(dec_take)
  );

  // =============================================================================================
  // Read arbiter: body reads (from decide) before peeks; a tag per command routes its data.
  // =============================================================================================
  logic        brq_out_valid, brq_in_ready, brq_in_valid, brq_pop;
  logic [79:0] brq_out_data, brq_in_data;
  logic        rc_valid_q, rc_valid_d, rc_load;
  logic [63:0] rc_addr_q;
  logic [15:0] rc_len_q;
  logic        tq_in_ready, tq_out_valid, tq_out_data, tq_pop;

  fifo_sync #(.Width(80), .Depth(Post)) u_brq (
    .clk_i, .rst_i,
    .in_data_i  (brq_in_data),
    .in_valid_i (brq_in_valid),
    .in_ready_o (brq_in_ready),
    .out_data_o (brq_out_data),
    .out_valid_o(brq_out_valid),
    .out_ready_i(brq_pop)
  );

  assign rc_load   = (!rc_valid_q || rd_cmd_ready_i) && tq_in_ready && (brq_out_valid || is_rd_q);
  assign brq_pop   = rc_load && brq_out_valid;
  assign peek_load = rc_load && !brq_out_valid;
  assign rc_valid_d = rc_load ? 1'b1 : (rc_valid_q && !rd_cmd_ready_i);

  assign rd_cmd_valid_o = rc_valid_q;
  assign rd_cmd_addr_o  = rc_addr_q;
  assign rd_cmd_len_o   = rc_len_q;

  always_ff @(posedge clk_i) begin
    if (rst_i) rc_valid_q <= 1'b0;
    else       rc_valid_q <= rc_valid_d;
  end
  always_ff @(posedge clk_i) begin
    if (rc_load) begin
      rc_addr_q <= brq_out_valid ? brq_out_data[79:16] : is_addr_q;
      rc_len_q  <= brq_out_valid ? brq_out_data[15:0] : is_len_q;
    end
  end

  // Tag: 1 = body read. Pushed when the command is loaded, popped with its last data beat.
  fifo_sync #(.Width(1), .Depth(TagD)) u_tq (
    .clk_i, .rst_i,
    .in_data_i  (brq_out_valid),
    .in_valid_i (rc_load),
    .in_ready_o (tq_in_ready),
    .out_data_o (tq_out_data),
    .out_valid_o(tq_out_valid),
    .out_ready_i(tq_pop)
  );

  logic         pq_in_ready, pq_out_valid, pq_pop;
  logic [513:0] pq_out_data;
  logic         body_valid, body_pop;

  assign body_valid = rd_valid_i && tq_out_valid && tq_out_data;
  assign rd_ready_o = tq_out_valid && (tq_out_data ? body_pop : pq_in_ready);
  assign tq_pop     = rd_valid_i && rd_ready_o && rd_last_i;

  // Peek beats: PeekAhead peeks of at most two beats each.
  fifo_sync #(.Width(514), .Depth(2 * PeekAhead)) u_pq (
    .clk_i, .rst_i,
    .in_data_i  ({rd_last_i, rd_err_i && rd_last_i, rd_data_i}),
    .in_valid_i (rd_valid_i && tq_out_valid && !tq_out_data),
    .in_ready_o (pq_in_ready),
    .out_data_o (pq_out_data),
    .out_valid_o(pq_out_valid),
    .out_ready_i(pq_pop)
  );

  // =============================================================================================
  // Decide: everything that can refuse a packet, from the peek and the SA, before any write.
  // =============================================================================================
  typedef enum logic [2:0] {DIdle, DPeek, DParse, DWalk, DCalc, DEmit} dstate_e;
  logic ctx_ready, ctxq_in_ready, cq_in_ready, wq_in_ready, emit_go;
  dstate_e ds_q, ds_d;

  ipsec_card_pkg::req_desc_t d_q;
  ipsec_card_pkg::sa_params_t p_q;
  logic [4:0]    d_ring_q;
  logic [15:0]   d_index_q;
  logic [1023:0] peek_q;
  logic          peek_err_q;
  logic          sa_valid_q, hard_q;
  logic [255:0]  key_q;
  logic [31:0]   salt_q;
  logic [511:0]  hpow_q;
  logic          sq_ok_q;
  logic [63:0]   seq_q;

  // IPv6 extension-header walk (host/common/ip.cc Ipv6InsertionPoint), one header per cycle
  logic [17:0] w_off_q, w_off_d;
  logic [6:0]  w_nhoff_q, w_nhoff_d;
  logic [7:0]  w_nh_q, w_nh_d;
  logic [3:0]  w_iter_q, w_iter_d;
  logic        w_done, w_fail;

  assign dec_take = ds_q == DIdle && jq_out_valid && lkq_out_valid && seqq_out_valid && pq_out_valid;
  assign pq_pop   = dec_take || (ds_q == DPeek && pq_out_valid);

  always_ff @(posedge clk_i) begin
    if (dec_take) begin
      {d_ring_q, d_index_q} <= jq_out_data[276:256];
      d_q        <= jq_out_data[255:0];
      {sa_valid_q, hard_q} <= lkq_out_data[LkW-1 -: 2];
      p_q        <= lkq_out_data[LkW-3 -: 768];
      sq_ok_q    <= seqq_out_data[65];
      seq_q      <= seqq_out_data[63:0];
      peek_q[511:0] <= pq_out_data[511:0];
      peek_err_q <= pq_out_data[512];
    end else if (ds_q == DPeek && pq_out_valid) begin
      peek_q[1023:512] <= pq_out_data[511:0];
      peek_err_q <= peek_err_q | pq_out_data[512];
    end
  end

  // Key material stays only while its job is in the decision stage: loaded with the job, zeroed
  // when the job leaves (the AES core has taken its context by then).
  always_ff @(posedge clk_i) begin
    if (rst_i || emit_go) begin
      key_q  <= '0;
      salt_q <= '0;
      hpow_q <= '0;
    end else if (dec_take) begin
      key_q  <= lkq_out_data[544 +: 256];
      salt_q <= lkq_out_data[512 +: 32];
      hpow_q <= lkq_out_data[511:0];
    end
  end

  // Peek bytes
  logic [7:0] pb0, pb1, pb6, pb7, pb9;
  assign pb0 = peek_q[7:0];
  assign pb1 = peek_q[15:8];
  assign pb6 = peek_q[55:48];
  assign pb7 = peek_q[63:56];
  assign pb9 = peek_q[79:72];

  logic [3:0]  ver;
  logic [15:0] plen;
  assign ver  = pb0[7:4];
  assign plen = d_q.pkt_len;

  // Walk step
  logic [7:0]  wb_nh, wb_len;     // bytes at w_off (next header of the header) and w_off + 1
  logic [17:0] w_hlen;
  logic        w_is_ext, w_before, w_ok2;
  always_comb begin
    wb_nh  = peek_q[{w_off_q[6:0], 3'b000} +: 8];
    wb_len = peek_q[{w_off_q[6:0] + 7'd1, 3'b000} +: 8];
    w_hlen = {7'd0, wb_len, 3'b000} + 18'd8;
    w_is_ext = w_nh_q == 8'd0 || w_nh_q == 8'd43 || w_nh_q == 8'd60;
    // The two bytes of the header must be in the packet and (deviation) in the peek.
    w_ok2  = w_off_q + 18'd2 <= 18'(plen) && w_off_q + 18'd2 <= 18'(PeekBytes);
    w_before = 1'b0;
    w_fail   = 1'b0;
    w_done   = 1'b0;
    w_off_d   = w_off_q;
    w_nhoff_d = w_nhoff_q;
    w_nh_d    = w_nh_q;
    w_iter_d  = w_iter_q;
    if (w_is_ext) begin
      if (!w_ok2) begin
        w_fail = 1'b1;
      end else if (w_nh_q == 8'd60) begin
        if (w_off_q + w_hlen > 18'(plen)) w_fail = 1'b1;
        w_before = wb_nh == 8'd43;
      end else begin
        w_before = 1'b1;
      end
    end else if (w_nh_q == 8'd44) begin
      w_fail = 1'b1;  // RFC 4301 §4.1: fragments are refused
    end
    if (!w_fail) begin
      if (!w_before) begin
        w_done = 1'b1;
        if (w_off_q > 18'(PeekBytes)) w_fail = 1'b1;   // deviation: moved header beyond the peek
      end else if (w_off_q + w_hlen > 18'(plen) || w_iter_q == 4'd15) begin
        w_fail = 1'b1;
      end else begin
        w_nhoff_d = w_off_q[6:0];
        w_nh_d    = wb_nh;
        w_off_d   = w_off_q + w_hlen;
        w_iter_d  = w_iter_q + 4'd1;
      end
    end
  end

  logic w_bad_q;  // walk failed
  always_ff @(posedge clk_i) begin
    if (ds_q == DParse) begin
      w_off_q   <= 18'd40;
      w_nhoff_q <= 7'd6;
      w_nh_q    <= pb6;
      w_iter_q  <= 4'd0;
      w_bad_q   <= 1'b0;
    end else if (ds_q == DWalk) begin
      w_off_q   <= w_off_d;
      w_nhoff_q <= w_nhoff_d;
      w_nh_q    <= w_nh_d;
      w_iter_q  <= w_iter_d;
      w_bad_q   <= w_fail;
    end
  end

  // ---- Calculation (DCalc, combinational from the registers above) ----
  // Tunnel addresses as plain vectors: Yosys 0.23 mis-sizes indexed part-selects of struct members.
  logic [127:0] t_src, t_dst;
  assign t_src = p_q.tunnel_src;
  assign t_dst = p_q.tunnel_dst;
  logic        tunnel, outer_v6, udp, parse_ok, frag4, mal, no_room, too_big, idx_ok;
  logic [15:0] ihl, tot4, pre, payload_len, padded, esp_len, hpos, head_len, tail_len;
  logic [1:0]  pad;
  logic [6:0]  nh_off;
  logic [7:0]  nh, proto, tos_in, tos_o, dscp6;
  logic [17:0] new_total;
  logic        df;
  logic [7:0]  status;
  logic [HeadW-1:0] hb, hb_base, ext_vec;
  logic [191:0] ext;
  logic [15:0] udp_len, ip4_id, ip4_frag, ip_len_field;
  logic [31:0] sum4, sum6;
  logic [15:0] csum4;
  logic [15:0] out_offset;
  logic [95:0] aad;          // AXI order, byte 0 at [7:0]
  logic [3:0]  aad_len;

  always_comb begin
    tunnel   = p_q.mode == ipsec_card_pkg::SaModeTunnel;
    udp      = p_q.udp_encap;
    idx_ok   = (d_q.sa_index >> IdxW) == 24'd0;
    ihl      = {10'd0, pb0[3:0], 2'b00};
    tot4     = {peek_q[23:16], peek_q[31:24]};
    // host/common/ip.h ParseIp, allow_trailing = false: the length field equals PKT_LEN.
    parse_ok = 1'b0;
    if (ver == 4'd4) begin
      parse_ok = plen >= 16'd20 && ihl >= 16'd20 && tot4 >= ihl && tot4 == plen;
    end else if (ver == 4'd6) begin
      parse_ok = plen >= 16'd40 && 17'd40 + {1'b0, peek_q[39:32], peek_q[47:40]} == {1'b0, plen};
    end
    tos_in = (ver == 4'd4) ? pb1 : {pb0[3:0], pb1[7:4]};
    frag4  = {pb6[5:0], pb7} != 14'd0;

    // Where ESP goes, and the next header it announces
    if (tunnel) begin
      outer_v6 = p_q.outer_v6;
      pre      = outer_v6 ? 16'd40 : 16'd20;
      nh_off   = 7'd0;
      nh       = (ver == 4'd4) ? 8'd4 : 8'd41;
      payload_len = plen;
    end else begin
      outer_v6 = ver == 4'd6;
      pre      = (ver == 4'd4) ? ihl : w_off_q[15:0];
      nh_off   = (ver == 4'd4) ? 7'd9 : w_nhoff_q;
      nh       = (ver == 4'd4) ? pb9 : w_nh_q;
      payload_len = plen - pre;
    end
    mal = !parse_ok;
    if (!tunnel) begin
      if (ver == 4'd4 && frag4) mal = 1'b1;
      if (ver == 4'd6 && w_bad_q) mal = 1'b1;
      if (nh == 8'd59) mal = 1'b1;   // RFC 4303 §2.6: dummy packets are refused
    end
    padded  = (payload_len + 16'd5) & 16'hfffc;
    pad     = 2'(padded - payload_len - 16'd2);
    esp_len = padded + 16'd32;
    udp_len = esp_len + 16'd8;
    new_total = 18'(pre) + (udp ? 18'd8 : 18'd0) + 18'(esp_len);
    if (new_total > (outer_v6 ? 18'd65575 : 18'd65535)) mal = 1'b1;
    hpos     = pre;                                  // ESP (or UDP) position in the head
    head_len = (tunnel ? pre : 16'd0) + (udp ? 16'd24 : 16'd16);   // prepended bytes
    tail_len = 16'(pad) + 16'd18;
    no_room  = d_q.pkt_offset < head_len ||
               d_q.buf_len - d_q.pkt_offset - plen < tail_len;
    too_big  = new_total > 18'(MaxPktBytes);
    out_offset = d_q.pkt_offset - head_len;

    if (peek_err_q)                                        status = StRdErr;
    else if (!sa_valid_q || !idx_ok)                       status = StBadSa;
    else if (p_q.dir != ipsec_card_pkg::DirOutbound)       status = StWrongDir;
    else if (!sq_ok_q)                                     status = StSeqOvf;
    else if (hard_q)                                       status = StHardLife;
    else if (mal)                                          status = StMalformed;
    else if (no_room)                                      status = StNoRoom;
    else if (too_big)                                      status = StTooBig;
    else                                                   status = StOk;

    // ---- Head bytes ----
    proto   = udp ? 8'd17 : 8'd50;
    dscp6   = {2'b00, p_q.dscp_set ? p_q.dscp : tos_in[7:2]};
    tos_o   = {dscp6[5:0], p_q.ecn_compat ? 2'b00 : tos_in[1:0]};   // RFC 6040 §4.1
    unique case (p_q.df_mode)
      ipsec_card_pkg::DfModeSet:  df = 1'b1;
      ipsec_card_pkg::DfModeCopy: df = ver == 4'd4 && pb6[6];
      default:                    df = 1'b0;
    endcase
    ip4_id   = seq_q[15:0];                  // RFC 6864 §4: low 16 bits of the sequence number
    ip4_frag = df ? 16'h4000 : 16'h0000;
    ip_len_field = outer_v6 ? 16'(new_total - 18'd40) : new_total[15:0];

    hb_base = '0;
    sum4    = 32'd0;
    if (tunnel) begin
      if (!outer_v6) begin
        sum4 = {16'd0, 8'h45, tos_o} + {16'd0, new_total[15:0]} + {16'd0, ip4_id} + {16'd0, ip4_frag} +
               {16'd0, p_q.ttl, proto} +
               {16'd0, p_q.tunnel_src[7:0], p_q.tunnel_src[15:8]} +
               {16'd0, p_q.tunnel_src[23:16], p_q.tunnel_src[31:24]} +
               {16'd0, p_q.tunnel_dst[7:0], p_q.tunnel_dst[15:8]} +
               {16'd0, p_q.tunnel_dst[23:16], p_q.tunnel_dst[31:24]};
        csum4 = ~csum_fold(sum4);
        hb_base[159:0] = {p_q.tunnel_dst[31:0], p_q.tunnel_src[31:0], csum4[7:0], csum4[15:8],
                          proto, p_q.ttl, ip4_frag[7:0], ip4_frag[15:8], ip4_id[7:0], ip4_id[15:8],
                          new_total[7:0], new_total[15:8], tos_o, 8'h45};
      end else begin
        csum4 = 16'd0;
        hb_base[319:0] = {p_q.tunnel_dst, p_q.tunnel_src, p_q.ttl, proto,
                          ip_len_field[7:0], ip_len_field[15:8], 8'd0, 8'd0,
                          tos_o[3:0], 4'd0, 4'h6, tos_o[7:4]};
      end
    end else begin
      // The IP header (and IPv6 extension headers before the insertion point) moves down.
      for (int i = 0; i < PeekBytes; i++) begin
        if (16'(i) < pre) hb_base[8*i +: 8] = peek_q[8*i +: 8];
      end
      hb_base[{1'b0, nh_off, 3'b000} +: 8] = proto;
      if (ver == 4'd4) begin
        hb_base[31:16] = {new_total[7:0], new_total[15:8]};
        hb_base[95:80] = 16'd0;
        for (int i = 0; i < 30; i++) begin
          if (16'(2 * i) < ihl) sum4 = sum4 + {16'd0, hb_base[16*i +: 8], hb_base[16*i+8 +: 8]};
        end
        csum4 = ~csum_fold(sum4);
        hb_base[95:80] = {csum4[7:0], csum4[15:8]};
      end else begin
        csum4 = 16'd0;
        hb_base[47:32] = {ip_len_field[7:0], ip_len_field[15:8]};
      end
    end
    // UDP (RFC 3948), ESP header, IV = the 64-bit sequence number (RFC 4106 §3.1)
    ext = {seq_q[7:0], seq_q[15:8], seq_q[23:16], seq_q[31:24],
           seq_q[39:32], seq_q[47:40], seq_q[55:48], seq_q[63:56],
           seq_q[7:0], seq_q[15:8], seq_q[23:16], seq_q[31:24],
           p_q.spi[7:0], p_q.spi[15:8], p_q.spi[23:16], p_q.spi[31:24],
           8'd0, 8'd0, udp_len[7:0], udp_len[15:8],
           p_q.udp_dst_port[7:0], p_q.udp_dst_port[15:8],
           p_q.udp_src_port[7:0], p_q.udp_src_port[15:8]};
    ext_vec = '0;
    ext_vec[191:0] = udp ? ext : {64'd0, ext[191:64]};
    hb = hb_base | (ext_vec << {hpos[7:0], 3'b000});

    // IPv6 UDP checksum seed (RFC 8200 §8.1): pseudo header, UDP header, ESP header and IV; the
    // writer adds the ciphertext and ICV as they stream.
    sum6 = 32'd17 + {16'd0, udp_len} + {16'd0, udp_len} + {16'd0, p_q.udp_src_port} +
           {16'd0, p_q.udp_dst_port} + {16'd0, p_q.spi[31:16]} + {16'd0, p_q.spi[15:0]} +
           {16'd0, seq_q[31:16]} + {16'd0, seq_q[15:0]} +
           {16'd0, seq_q[63:48]} + {16'd0, seq_q[47:32]} + {16'd0, seq_q[31:16]} + {16'd0, seq_q[15:0]};
    for (int i = 0; i < 8; i++) begin
      sum6 = sum6 + (tunnel ? {16'd0, t_src[16*i +: 8], t_src[16*i+8 +: 8]} +
                              {16'd0, t_dst[16*i +: 8], t_dst[16*i+8 +: 8]}
                            : {16'd0, peek_q[64+16*i +: 8], peek_q[64+16*i+8 +: 8]} +
                              {16'd0, peek_q[192+16*i +: 8], peek_q[192+16*i+8 +: 8]});
    end

    // AAD (RFC 4106 §5): SPI || [seq high] || seq low
    if (p_q.esn) begin
      aad = {seq_q[7:0], seq_q[15:8], seq_q[23:16], seq_q[31:24],
             seq_q[39:32], seq_q[47:40], seq_q[55:48], seq_q[63:56],
             p_q.spi[7:0], p_q.spi[15:8], p_q.spi[23:16], p_q.spi[31:24]};
      aad_len = 4'd12;
    end else begin
      aad = {32'd0, seq_q[7:0], seq_q[15:8], seq_q[23:16], seq_q[31:24],
             p_q.spi[7:0], p_q.spi[15:8], p_q.spi[23:16], p_q.spi[31:24]};
      aad_len = 4'd8;
    end
  end

  // ---- Decide outputs, registered in DCalc, offered in DEmit ----
  // Writer entry: {ok, body_addr, body_len, head_addr, head_len, csum_en, csum_pos, csum_seed,
  //                cnt_en, cnt_kind, cnt_bytes, ring, irq, cpl record, hb}
  localparam int unsigned WqW = 1 + 64 + 16 + 64 + 8 + 1 + 8 + 32 + 1 + 2 + 16 + 5 + 1 + 256 + HeadW;
  // Composer entry: {payload_len, padded, pad, nh, aad, aad_len}
  localparam int unsigned CqW = 16 + 16 + 2 + 8 + 96 + 4;

  logic           o_ok_q, o_body_q;
  logic [WqW-1:0] o_wq_q, o_wq_d;
  logic [CqW-1:0] o_cq_q, o_cq_d;
  logic [79:0]    o_br_q, o_br_d;
  logic [255:0]   o_key_q, o_key_d;
  logic [127:0]   o_j0_q, o_j0_d;
  logic           o_key256_q;
  logic [15:0]    o_text_len_q;
  logic [3:0]     o_aad_len_q;

  logic [255:0] rec;  // cpl_t as a vector (Yosys 0.23 reads no casts to package types)
  logic        ok_now, cnt_en_now;
  logic [63:0] buf_ptr;
  always_comb begin
    ok_now     = status == StOk;
    cnt_en_now = sa_valid_q && idx_ok;
    buf_ptr    = d_q.buf_addr;
    rec = '0;
    rec[63:0]    = d_q.user_data;
    rec[127:64]  = ok_now ? seq_q : 64'd0;
    rec[159:128] = (sa_valid_q && idx_ok) ? p_q.spi : 32'd0;
    rec[183:160] = (sa_valid_q && idx_ok) ? d_q.sa_index : 24'hffffff;
    rec[207:192] = ok_now ? out_offset : 16'd0;
    rec[223:208] = ok_now ? new_total[15:0] : 16'd0;
    rec[239:224] = d_index_q;
    rec[247:240] = status;
    rec[248]     = 1'b0;  // DIR outbound
    o_wq_d = {ok_now,
              buf_ptr + 64'(d_q.pkt_offset) + (tunnel ? 64'd0 : 64'(pre)),   // body address
              padded + 16'd16,                                                // body length
              buf_ptr + 64'(out_offset),                                      // head address
              8'(new_total[15:0] - padded - 16'd16),                          // head length
              udp && outer_v6, 8'(hpos + 16'd6), sum6,
              cnt_en_now, ok_now ? 2'd0 : 2'd3, plen,
              d_ring_q, d_q.irq, rec, hb};
    o_cq_d = {payload_len, padded, pad, nh, aad, aad_len};
    o_br_d = {buf_ptr + 64'(d_q.pkt_offset) + (tunnel ? 64'd0 : 64'(pre)), payload_len};
    for (int k = 0; k < 32; k++) o_key_d[255 - 8*k -: 8] = key_q[8*k +: 8];
    o_j0_d = {salt_q[7:0], salt_q[15:8], salt_q[23:16], salt_q[31:24],
              seq_q[63:56], seq_q[55:48], seq_q[47:40], seq_q[39:32],
              seq_q[31:24], seq_q[23:16], seq_q[15:8], seq_q[7:0], 32'd1};
  end

  always_ff @(posedge clk_i) begin
    if (rst_i || emit_go) begin
      o_key_q <= '0;
      o_j0_q  <= '0;
    end else if (ds_q == DCalc) begin
      o_key_q <= o_key_d;
      o_j0_q  <= o_j0_d;
    end
  end

  always_ff @(posedge clk_i) begin
    if (ds_q == DCalc) begin
      o_ok_q       <= ok_now;
      o_body_q     <= ok_now && payload_len != 16'd0;
      o_wq_q       <= o_wq_d;
      o_cq_q       <= o_cq_d;
      o_br_q       <= o_br_d;
      o_key256_q   <= p_q.suite == ipsec_card_pkg::SuiteAesGcm256;
      o_text_len_q <= padded;
      o_aad_len_q  <= aad_len;
    end
  end

  assign emit_go = ds_q == DEmit && wq_in_ready &&
                   (!o_ok_q || (ctxq_in_ready && cq_in_ready && (!o_body_q || brq_in_ready)));
  assign brq_in_valid = emit_go && o_body_q;
  assign brq_in_data  = o_br_q;

  always_comb begin
    ds_d = ds_q;
    unique case (ds_q)
      DIdle:  if (dec_take) ds_d = pq_out_data[513] ? DParse : DPeek;
      DPeek:  if (pq_out_valid) ds_d = DParse;
      DParse: ds_d = (p_q.mode == ipsec_card_pkg::SaModeTransport && ver == 4'd6) ? DWalk : DCalc;
      DWalk:  if (w_done || w_fail) ds_d = DCalc;
      DCalc:  ds_d = DEmit;
      DEmit:  if (emit_go) ds_d = DIdle;
      default: ds_d = DIdle;
    endcase
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) ds_q <= DIdle;
    else       ds_q <= ds_d;
  end

  // =============================================================================================
  // AES-GCM core
  // =============================================================================================
  logic             aes_in_valid, aes_in_ready, aes_out_valid, aes_out_ready, aes_out_tag;
  logic             aes_out_tag_ok;
  logic [DataW-1:0] aes_in_data, aes_out_data;
  logic [NbW-1:0]   aes_in_bytes, aes_out_bytes;

  // Context queue: the decision issues a job's body read and its context together, but the core
  // holds only two contexts ahead of its current packet, which would keep the body read too close
  // to the text for the host read latency. CtxDepth more contexts wait here, in a fifo_wipe (an
  // entry is zero once the core has taken it), so key material still lives only between the
  // decision and the core.
  localparam int unsigned CtxDepth = 4;
  localparam int unsigned CtxW = 256 + 1 + DataW + 128 + 4 + 16;
  logic            ctxq_valid;
  logic [CtxW-1:0] ctxq_out;
  logic [255:0]    x_key;
  logic            x_key256;
  logic [DataW-1:0] x_hpow;
  logic [127:0]    x_j0;
  logic [3:0]      x_aad_len;
  logic [15:0]     x_text_len;

  fifo_wipe #(.Width(CtxW), .Depth(CtxDepth)) u_ctxq (
    .clk_i, .rst_i,
    .wipe_i     (1'b0),
    .in_data_i  ({o_key_q, o_key256_q, hpow_q[DataW-1:0], o_j0_q, o_aad_len_q, o_text_len_q}),
    .in_valid_i (emit_go && o_ok_q),
    .in_ready_o (ctxq_in_ready),
    .out_data_o (ctxq_out),
    .out_valid_o(ctxq_valid),
    .out_ready_i(ctx_ready)
  );
  assign {x_key, x_key256, x_hpow, x_j0, x_aad_len, x_text_len} = ctxq_out;

  aes_gcm_core #(.Lanes(Lanes), .LenW(16)) u_aes (
    .clk_i, .rst_i,
    .ctx_valid_i   (ctxq_valid),
    .ctx_ready_o   (ctx_ready),
    .ctx_key_i     (x_key),
    .ctx_key256_i  (x_key256),
    .ctx_hpow_i    (x_hpow),
    .ctx_j0_i      (x_j0),
    .ctx_decrypt_i (1'b0),
    .ctx_aad_len_i ({12'd0, x_aad_len}),
    .ctx_text_len_i(x_text_len),
    .ctx_tag_i     (128'd0),
    .in_valid_i    (aes_in_valid),
    .in_ready_o    (aes_in_ready),
    .in_data_i     (aes_in_data),
    .in_bytes_i    (aes_in_bytes),
    .out_valid_o   (aes_out_valid),
    .out_ready_i   (aes_out_ready),
    .out_data_o    (aes_out_data),
    .out_bytes_o   (aes_out_bytes),
    .out_tag_o     (aes_out_tag),
    .out_tag_ok_o  (aes_out_tag_ok)
  );

  // =============================================================================================
  // Composer: AAD beat, then the body read's bytes followed by the ESP trailer (padding 1, 2, 3,
  // pad length, next header; RFC 4303 §2.4-2.6) as AES beats.
  // =============================================================================================
  logic           cq_out_valid, cq_pop;
  logic [CqW-1:0] cq_out_data;
  logic [15:0]    c_plen, c_padded;
  logic [1:0]     c_pad;
  logic [7:0]     c_nh;
  logic [95:0]    c_aad;
  logic [3:0]     c_aad_len;
  logic           c_text_q;      // 0: AAD beat next
  logic [15:0]    c_pos_q;       // text byte of the next AES beat
  logic           c_err_q;
  logic           eq_in_ready, eq_out_valid, eq_out_data, eq_pop;

  fifo_sync #(.Width(CqW), .Depth(Post)) u_cq (
    .clk_i, .rst_i,
    .in_data_i  (o_cq_q),
    .in_valid_i (emit_go && o_ok_q),
    .in_ready_o (cq_in_ready),
    .out_data_o (cq_out_data),
    .out_valid_o(cq_out_valid),
    .out_ready_i(cq_pop)
  );
  assign {c_plen, c_padded, c_pad, c_nh, c_aad, c_aad_len} = cq_out_data;

  logic [15:0] c_rem_full;
  logic [6:0]  c_rem;        // payload bytes left in this beat, clipped to 64
  logic [15:0] c_over_full;
  logic [6:0]  c_over;
  logic        c_need_rd, c_fire, c_final, c_rd_done;
  logic [7:0]  c_byte;
  logic [6:0]  c_ti;
  logic [5:0]  c_src;
  always_comb begin
    c_rem_full = (c_pos_q < c_plen) ? c_plen - c_pos_q : 16'd0;
    c_rem      = (c_rem_full > 16'd64) ? 7'd64 : c_rem_full[6:0];
    // Trailer bytes already sent in earlier beats (the beat starts inside the trailer)
    c_over_full = (c_pos_q > c_plen) ? c_pos_q - c_plen : 16'd0;
    c_over      = c_over_full[6:0];
    c_need_rd  = c_text_q && c_rem != 7'd0;
    aes_in_valid = cq_out_valid && eq_in_ready && (!c_need_rd || body_valid);
    aes_in_data  = '0;
    aes_in_bytes = '0;
    c_src  = 6'd0;
    c_ti   = 7'd0;
    c_byte = 8'd0;
    if (!c_text_q) begin
      for (int b = 0; b < 12; b++) aes_in_data[127 - 8*b -: 8] = c_aad[8*b +: 8];
      aes_in_bytes = NbW'(c_aad_len);
    end else begin
      for (int b = 0; b < LaneBytes; b++) begin
        c_src = c_pos_q[5:0] + 6'(b);
        c_ti  = 7'(b) - c_rem + c_over;   // trailer byte index
        if (7'(b) < c_rem)                c_byte = rd_data_i[{c_src, 3'b000} +: 8];
        else if (c_ti < 7'(c_pad))        c_byte = 8'(c_ti) + 8'd1;
        else if (c_ti == 7'(c_pad))       c_byte = 8'(c_pad);
        else                              c_byte = c_nh;
        aes_in_data[(b / 16) * 128 + 127 - 8 * (b % 16) -: 8] = c_byte;
      end
      aes_in_bytes = (c_padded - c_pos_q >= 16'(LaneBytes)) ? NbW'(LaneBytes)
                                                            : NbW'(c_padded - c_pos_q);
    end
    c_fire    = aes_in_valid && aes_in_ready;
    c_final   = c_text_q && c_pos_q + 16'(LaneBytes) >= c_padded;
    // The bus beat is used up after its last AES beat or the payload's last byte.
    c_rd_done = c_need_rd && (c_pos_q[5:0] == 6'(64 - LaneBytes) ||
                              c_pos_q + 16'(LaneBytes) >= c_plen);
    body_pop  = c_fire && c_rd_done;
    cq_pop    = c_fire && c_final;
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      c_text_q <= 1'b0;
      c_pos_q  <= 16'd0;
      c_err_q  <= 1'b0;
    end else if (c_fire) begin
      if (!c_text_q) begin
        c_text_q <= 1'b1;
        c_pos_q  <= 16'd0;
      end else if (c_final) begin
        c_text_q <= 1'b0;
        c_err_q  <= 1'b0;
      end else begin
        c_pos_q  <= c_pos_q + 16'(LaneBytes);
        if (body_pop && rd_last_i && rd_err_i) c_err_q <= 1'b1;
      end
    end
  end

  // Body read error flag per ok job, to the completion.
  fifo_sync #(.Width(1), .Depth(2 * Post)) u_eq (
    .clk_i, .rst_i,
    .in_data_i  (c_err_q || (body_pop && rd_last_i && rd_err_i)),
    .in_valid_i (cq_pop),
    .in_ready_o (eq_in_ready),
    .out_data_o (eq_out_data),
    .out_valid_o(eq_out_valid),
    .out_ready_i(eq_pop)
  );

  // =============================================================================================
  // Writer: AES output → 64-byte body beats (ICV appended at the 4-byte aligned end of the text),
  // then the head. The IPv6 UDP checksum adds up the body beats as they leave.
  // =============================================================================================
  logic           wq_out_valid, wq_pop;
  logic [WqW-1:0] wq_out_data;

  fifo_sync #(.Width(WqW), .Depth(Post)) u_wq (
    .clk_i, .rst_i,
    .in_data_i  (o_wq_q),
    .in_valid_i (emit_go),
    .in_ready_o (wq_in_ready),
    .out_data_o (wq_out_data),
    .out_valid_o(wq_out_valid),
    .out_ready_i(wq_pop)
  );

  logic        wh_ok, wh_csum_en, wh_cnt_en, wh_irq;
  logic [63:0] wh_body_addr, wh_head_addr;
  logic [15:0] wh_body_len, wh_cnt_bytes;
  logic [7:0]  wh_head_len, wh_csum_pos;
  logic [31:0] wh_csum_seed;
  logic [1:0]  wh_cnt_kind;
  logic [4:0]  wh_ring;
  logic [255:0] wh_rec;
  logic [HeadW-1:0] wh_hb;
  assign {wh_ok, wh_body_addr, wh_body_len, wh_head_addr, wh_head_len, wh_csum_en, wh_csum_pos,
          wh_csum_seed, wh_cnt_en, wh_cnt_kind, wh_cnt_bytes, wh_ring, wh_irq, wh_rec, wh_hb} = wq_out_data;

  // Accumulator: two bus beats, fill in bytes, fin once the tag is in.
  logic [1023:0] acc_q, acc_d;
  logic [7:0]    fill_q, fill_d, base_fill;
  logic          fin_q, fin_d;
  logic [1023:0] base_acc, ins;
  logic [511:0]  aes_axi;

  typedef enum logic [1:0] {WIdle, WBody, WHead} wstate_e;
  wstate_e ws_q, ws_d;
  logic [1:0]  wc_step_q, wc_step_d;     // 0 body cmd, 1 head cmd, 2 both issued
  logic [1:0]  hbeat_q, hbeat_d;
  logic [31:0] csum_acc_q, csum_acc_d;
  logic        sk_in_valid, sk_in_ready, emit, body_emit, body_last;
  logic [511:0] sk_data;
  logic [6:0]  sk_bytes;
  logic        sk_last;
  logic        cfq_in_ready, cfq_push;
  logic [7:0]  hb_rem;
  logic [15:0] csum_final;
  logic [HeadW-1:0] hb_c;
  logic [31:0] beat_sum;
  logic        w_body;     // the head job's body may stream
  logic        wh_done_q;  // last head beat sent, waiting for the commands / completion room
  logic        wr_fin;     // the ok job leaves the writer
  logic        nok_push;   // a refused job passes straight to the completion

  always_comb begin
    // AES lanes → AXI byte order
    aes_axi = '0;
    for (int b = 0; b < LaneBytes; b++) begin
      aes_axi[8*b +: 8] = aes_out_data[(b / 16) * 128 + 127 - 8 * (b % 16) -: 8];
    end
    // The body streams in WBody, and already in WIdle when an ok job is at the head of wq (no
    // idle cycle between one job's head and the next job's body).
    w_body    = ws_q == WBody || (ws_q == WIdle && wq_out_valid && wh_ok);
    body_emit = w_body && (fill_q >= 8'd64 || (fin_q && fill_q != 8'd0));
    body_last = fin_q && fill_q <= 8'd64;
    hb_rem    = wh_head_len - {hbeat_q, 6'd0};
    sk_in_valid = body_emit || (ws_q == WHead && !wh_done_q);
    emit      = sk_in_valid && sk_in_ready;

    // IPv6 UDP checksum over the whole UDP datagram
    csum_final = ~csum_fold(wh_csum_seed + csum_acc_q);
    if (csum_final == 16'd0) csum_final = 16'hffff;
    hb_c = wh_hb;
    if (wh_csum_en) begin
      for (int i = 0; i < HeadBytes - 1; i++) begin
        if (8'(i) == wh_csum_pos) hb_c[8*i +: 16] = {csum_final[7:0], csum_final[15:8]};
      end
    end

    if (ws_q == WHead) begin
      sk_data  = hb_c[{hbeat_q, 9'd0} +: 512];
      sk_bytes = (hb_rem > 8'd64) ? 7'd64 : hb_rem[6:0];
      sk_last  = hb_rem <= 8'd64;
    end else begin
      sk_data  = acc_q[511:0];
      sk_bytes = (fill_q >= 8'd64) ? 7'd64 : fill_q[6:0];
      sk_last  = body_last;
    end

    // Sum of the body beat's 16-bit words (body byte 0 is at an even offset of the datagram)
    beat_sum = 32'd0;
    for (int i = 0; i < 32; i++) begin
      if (7'(2 * i) < sk_bytes) beat_sum = beat_sum + {16'd0, acc_q[16*i +: 8], acc_q[16*i+8 +: 8]};
    end
    csum_acc_d = csum_acc_q;   // cleared when the job leaves (always_ff)
    if (body_emit && emit) csum_acc_d = {16'd0, csum_fold(csum_acc_q)} + beat_sum;

    // Accumulator
    base_acc  = acc_q;
    base_fill = fill_q;
    fin_d     = fin_q;
    if (body_emit && emit) begin
      base_acc  = {512'd0, acc_q[1023:512]};
      base_fill = (fill_q >= 8'd64) ? fill_q - 8'd64 : 8'd0;
      if (body_last) fin_d = 1'b0;
    end
    // A packet's first beat may enter in the cycle its predecessor's last body beat leaves.
    aes_out_ready = (!fin_q || (body_emit && emit && body_last)) && base_fill < 8'd64;
    acc_d  = base_acc;
    fill_d = base_fill;
    ins    = aes_out_tag ? {896'd0, aes_axi[127:0]} : {512'd0, aes_axi};
    if (aes_out_valid && aes_out_ready) begin
      acc_d = base_acc | (ins << {base_fill[5:0], 3'b000});
      if (aes_out_tag) begin
        fill_d = base_fill + 8'd16;
        fin_d  = 1'b1;
      end else begin
        fill_d = base_fill + 8'(aes_out_bytes);
      end
    end
  end

  // In WHead the job leaves once its last head beat went out, both commands were issued and the
  // completion FIFO has room.
  assign wr_fin = ws_q == WHead && (wh_done_q || (emit && sk_last)) && cfq_in_ready &&
                  wc_step_q == 2'd2;
  assign nok_push = ws_q == WIdle && wq_out_valid && !wh_ok && cfq_in_ready;
  assign wq_pop   = wr_fin || nok_push;
  assign cfq_push = wr_fin || nok_push;

  always_comb begin
    ws_d      = ws_q;
    wc_step_d = wc_step_q;
    hbeat_d   = hbeat_q;
    wr_cmd_valid_o = (w_body || ws_q == WHead) && wc_step_q != 2'd2;
    wr_cmd_addr_o  = (wc_step_q == 2'd0) ? wh_body_addr : wh_head_addr;
    wr_cmd_len_o   = (wc_step_q == 2'd0) ? wh_body_len : {8'd0, wh_head_len};
    if (wr_cmd_valid_o && wr_cmd_ready_i) wc_step_d = wc_step_q + 2'd1;
    if (wr_fin) begin
      wc_step_d = 2'd0;
      hbeat_d   = 2'd0;
    end
    unique case (ws_q)
      WIdle: if (wq_out_valid && wh_ok) ws_d = (emit && body_last) ? WHead : WBody;
      WBody: if (emit && body_last) ws_d = WHead;
      WHead: begin
        if (emit && !sk_last) hbeat_d = hbeat_q + 2'd1;
        if (wr_fin) ws_d = WIdle;
      end
      default: ws_d = WIdle;
    endcase
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      ws_q       <= WIdle;
      wc_step_q  <= 2'd0;
      hbeat_q    <= 2'd0;
      acc_q      <= '0;
      fill_q     <= 8'd0;
      fin_q      <= 1'b0;
      csum_acc_q <= 32'd0;
      wh_done_q  <= 1'b0;
    end else begin
      ws_q       <= ws_d;
      wc_step_q  <= wc_step_d;
      hbeat_q    <= hbeat_d;
      acc_q      <= acc_d;
      fill_q     <= fill_d;
      fin_q      <= fin_d;
      csum_acc_q <= wr_fin ? 32'd0 : csum_acc_d;
      if (wr_fin)                                 wh_done_q <= 1'b0;
      else if (ws_q == WHead && emit && sk_last)  wh_done_q <= 1'b1;
    end
  end

  // Output register slice toward dma_wr
  skid_buffer #(.Width(512 + 7 + 1)) u_wr_skid (
    .clk_i, .rst_i,
    .in_data_i  ({sk_last, sk_bytes, sk_data}),
    .in_valid_i (sk_in_valid),
    .in_ready_o (sk_in_ready),
    .out_data_o ({wr_last_o, wr_bytes_o, wr_data_o}),
    .out_valid_o(wr_valid_o),
    .out_ready_i(wr_ready_i)
  );

  // =============================================================================================
  // Completion: in job order, after the job's wr_done responses (two per ok job).
  // =============================================================================================
  localparam int unsigned CfW = 1 + 1 + 2 + 16 + 5 + 1 + 256;
  logic           cfq_out_valid, cfq_pop;
  logic [CfW-1:0] cfq_out_data;

  fifo_sync #(.Width(CfW), .Depth(Post)) u_cfq (
    .clk_i, .rst_i,
    .in_data_i  ({wh_ok, wh_cnt_en, wh_cnt_kind, wh_cnt_bytes, wh_ring, wh_irq, wh_rec}),
    .in_valid_i (cfq_push),
    .in_ready_o (cfq_in_ready),
    .out_data_o (cfq_out_data),
    .out_valid_o(cfq_out_valid),
    .out_ready_i(cfq_pop)
  );

  logic        cf_ok, cf_cnt_en, cf_irq;
  logic [1:0]  cf_kind;
  logic [15:0] cf_bytes;
  logic [4:0]  cf_ring;
  logic [255:0] cf_rec, cf_out;
  assign {cf_ok, cf_cnt_en, cf_kind, cf_bytes, cf_ring, cf_irq, cf_rec} = cfq_out_data;

  logic [1:0] k_dones_q, k_dones_d;   // wr_done responses received for the head job
  logic       k_werr_q, k_werr_d, k_cnt_done_q, k_cnt_done_d, k_cpl_done_q, k_cpl_done_d;
  logic       k_ready, k_bad;

  // Valid toward the counter port on its own: the card's counter arbiter makes its ready from
  // this valid, and a shared always_comb block would look like a loop to Verilator.
  assign k_ready     = cfq_out_valid && (!cf_ok || (k_dones_q == 2'd2 && eq_out_valid));
  assign cnt_valid_o = k_ready && cf_cnt_en && !k_cnt_done_q;
  // The counter update goes first (or in the same cycle): a host that sees the completion and
  // then reads the counters finds the packet counted, as with the software card.
  assign cpl_valid_o = k_ready && !k_cpl_done_q &&
                       (!cf_cnt_en || k_cnt_done_q || (cnt_valid_o && cnt_ready_i));

  always_comb begin
    wr_done_ready_o = cfq_out_valid && cf_ok && k_dones_q != 2'd2;
    k_dones_d = k_dones_q;
    k_werr_d  = k_werr_q;
    if (wr_done_valid_i && wr_done_ready_o) begin
      k_dones_d = k_dones_q + 2'd1;
      k_werr_d  = k_werr_q | wr_done_err_i;
    end
    // DMA errors on an ok job: no output, counted as an other drop.
    k_bad  = cf_ok && (eq_out_data || k_werr_q);
    cf_out = cf_rec;
    if (k_bad) begin
      cf_out[247:240] = eq_out_data ? StRdErr : StWrErr;
      cf_out[127:64]  = 64'd0;
      cf_out[223:192] = 32'd0;
    end
    cnt_index_o = cf_rec[183:160];
    cnt_kind_o  = k_bad ? 2'd3 : cf_kind;
    cnt_bytes_o = (k_bad || cf_kind != 2'd0) ? 16'd0 : cf_bytes;
    cnt_seq_o   = k_bad ? 64'd0 : cf_rec[127:64];
    cpl_ring_o  = cf_ring;
    cpl_rec_o   = cf_out;
    cpl_irq_o   = cf_irq;
    k_cnt_done_d = k_cnt_done_q || (cnt_valid_o && cnt_ready_i);
    k_cpl_done_d = k_cpl_done_q || (cpl_valid_o && cpl_ready_i);
    cfq_pop = k_ready && (k_cnt_done_d || !cf_cnt_en) && k_cpl_done_d;
    eq_pop  = cfq_pop && cf_ok;
    if (cfq_pop) begin
      k_dones_d    = 2'd0;
      k_werr_d     = 1'b0;
      k_cnt_done_d = 1'b0;
      k_cpl_done_d = 1'b0;
    end
  end

  always_ff @(posedge clk_i) begin
    if (rst_i) begin
      k_dones_q    <= 2'd0;
      k_werr_q     <= 1'b0;
      k_cnt_done_q <= 1'b0;
      k_cpl_done_q <= 1'b0;
    end else begin
      k_dones_q    <= k_dones_d;
      k_werr_q     <= k_werr_d;
      k_cnt_done_q <= k_cnt_done_d;
      k_cpl_done_q <= k_cpl_done_d;
    end
  end

  // =============================================================================================
  // Assertions (Verilator --assert)
  // =============================================================================================
`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (!rst_i) begin
      if (lk_rsp_valid_i) assert (lkq_in_ready) else $error("esp_outbound: lookup FIFO overflow");
      if (seq_rsp_valid_i) assert (seqq_in_ready) else $error("esp_outbound: sequence FIFO overflow");
      if (rd_valid_i) assert (tq_out_valid) else $error("esp_outbound: read data without a command");
      if (aes_out_valid && aes_out_ready && !aes_out_tag)
        assert (!fin_q || (body_emit && emit && body_last)) else $error("esp_outbound: text after tag");
    end
  end
`endif

  // Unused: aes_out_tag_ok (encrypt only), seq_rsp_exhausted_i (!ok on a valid outbound SA is
  // always exhaustion), rd_bytes_i (lengths come from the commands), upper H powers at Lanes < 4.
  logic unused;
  assign unused = ^{aes_out_tag_ok, jd, d_q, p_q, seq_rsp_exhausted_i, rd_bytes_i, hpow_q, seqq_out_data[64],
                    dscp6[7:6], c_over_full[15:7], pq_out_data[513], csum4};

endmodule
