// Verilated bench for esp_outbound (hw/card/doc/esp_outbound.md). The C++ side plays everything
// around the engine: host memory (one byte array per buffer; rd_cmd served with random latency,
// gaps and back-pressure; wr_cmd/wr data taken with back-pressure; wr_done after a random delay),
// the SA table (random SAs, lookups answered in order after a random latency), the sequence
// allocator (sa_table semantics) and the counter and completion sinks. Every completion, every
// counter update and every byte of every buffer is compared with host/esp EspSa run on a copy of
// the buffer (the software card's reference, driver/soft/soft_card.cc mapping to statuses).
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "Vesp_outbound_l1.h"
#ifdef ESP_OUTBOUND_L4
#include "Vesp_outbound_l2.h"
#include "Vesp_outbound_l4.h"
#endif
#include "driver/sa_params.h"
#include "host/common/packet_buf.h"
#include "host/common/secure_bytes.h"
#include "host/esp/esp_sa.h"
#include "hw/ip/ghash/tb/ghash_ref.h"
#include "ipsec_accel/card_regs.h"
#include "verilated.h"

namespace ipsec::hw::esp_outbound_tb {
namespace {

constexpr uint32_t kNumSa = 16;  // IdxW = 4 in the bench variants
constexpr uint32_t kNoSa = 0xFFFFFF;

template <size_t N>
void PutBytes(VlWide<N>& w, const uint8_t* b, size_t n) {
  for (size_t i = 0; i < N; ++i) w[i] = 0;
  for (size_t k = 0; k < n && k < 4 * N; ++k) w[k / 4] |= uint32_t{b[k]} << (8 * (k % 4));
}
template <size_t N>
void GetBytes(const VlWide<N>& w, uint8_t* b, size_t n) {
  for (size_t k = 0; k < n; ++k) b[k] = static_cast<uint8_t>(w[k / 4] >> (8 * (k % 4)));
}

ghash::Block AesZero(const std::vector<uint8_t>& key) {
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  ghash::Block in{}, out{};
  int n = 0;
  EVP_EncryptInit_ex(c, key.size() == 32 ? EVP_aes_256_ecb() : EVP_aes_128_ecb(), nullptr, key.data(), nullptr);
  EVP_CIPHER_CTX_set_padding(c, 0);
  EVP_EncryptUpdate(c, out.data(), &n, in.data(), 16);
  EVP_CIPHER_CTX_free(c);
  return out;
}

// The RTL's IPv6 insertion-point walk (host/common/ip.cc Ipv6InsertionPoint) works on the
// 128-byte peek: a chain that needs a byte beyond it, or an insertion point beyond it, is refused
// as malformed (esp_outbound.md, "Deviations"). True when that limit, not the packet, fails it.
bool BeyondPeek(const std::vector<uint8_t>& p) {
  constexpr size_t kPeek = 128;
  size_t off = 40;
  uint8_t nh = p[6];
  for (int guard = 0; guard < 16; ++guard) {
    bool before = false;
    size_t len = 0;
    if (nh == 0 || nh == 43 || nh == 60) {
      if (off + 2 > p.size()) return false;
      if (off + 2 > kPeek) return true;
      len = (size_t{p[off + 1]} + 1) * 8;
      before = nh == 60 ? p[off] == 43 : true;
    } else if (nh == 44) {
      return false;
    }
    if (!before) return off > kPeek;
    if (off + len > p.size()) return false;
    nh = p[off];
    off += len;
  }
  return false;
}

struct BenchSa {
  bool valid = false;
  card::SaParams params;
  std::vector<uint8_t> key;  // 32 bytes (AES-128 uses the first 16)
  std::array<uint8_t, 4> salt{};
  std::vector<ghash::Block> hpow;
  bool hard_expired = false;
  std::unique_ptr<esp::EspSa> ref;
  // sa_table's sequence allocator
  uint64_t next_seq = 1, max_seq = 0xffffffffULL;
  bool exhausted = false;
};

struct CntRec {
  uint32_t index;
  uint32_t kind;
  uint32_t bytes;
  uint64_t seq;
};

struct Job {
  uint64_t id = 0;
  uint8_t ring = 0;
  uint16_t index = 0;
  card::ReqDesc desc;
  std::vector<uint8_t> mem, expect;
  card::Cpl cpl;
  std::optional<CntRec> cnt;
  // the responses the SA table gives this job
  bool seq_ok = false, seq_exh = false;
  uint64_t seq = 0;
  int writes = 0, pending_writes = 0;
  // DMA errors injected while it runs: on the peek (its first read), on the body read, on a
  // wr_done. The outcome then changes as the RTL defines it (esp_outbound.md, "DMA errors").
  std::vector<uint8_t> orig;
  int reads = 0;
  bool peek_err = false, body_err = false, wr_err = false;
  bool sa_known = false;
};

// The completion and counter update expected once the injected DMA errors are known.
card::Cpl ExpectedCpl(const Job& j) {
  card::Cpl c = j.cpl;
  const bool ok = c.status == card::CplStatus::kOk;
  if (j.peek_err || (ok && (j.body_err || j.wr_err))) {
    c.status = (j.peek_err || j.body_err) ? card::CplStatus::kDmaReadError : card::CplStatus::kDmaWriteError;
    c.seq = 0;
    c.out_offset = c.out_len = 0;
  }
  return c;
}
std::optional<CntRec> ExpectedCnt(const Job& j) {
  if (!j.cnt) return std::nullopt;
  CntRec r = *j.cnt;
  if (ExpectedCpl(j).status != card::CplStatus::kOk) r = CntRec{r.index, 3, 0, 0};
  return r;
}

struct Options {
  double p_ready = 0.7;     // each ready input, per cycle
  double p_idle = 0.2;      // an input stream (job, rd data) idles in a cycle
  int rd_lat = 12;          // read latency 0..rd_lat
  int rsp_lat = 6;          // lookup / sequence latency 1..rsp_lat
  int done_lat = 10;        // wr_done delay 0..done_lat
  bool stress_sa = true;    // inbound, hard-expired, empty SAs and near-exhausted sequences
  double p_rd_err = 0.0;    // a read command ends with rd_err
  double p_wr_err = 0.0;    // a wr_done reports an error
  int mode = 0;             // 0 random traffic; 1 throughput (1500-byte tunnel IPv4)
  int rd_fix_lat = 0;       // throughput mode: every read's data starts this many cycles after its command
};

template <typename M>
class Bench {
 public:
  Bench(uint64_t seed, Options o, uint32_t max_pkt) : rng_(seed), o_(o), max_pkt_(max_pkt) {
    ctx_ = std::make_unique<VerilatedContext>();
    dut_ = std::make_unique<M>(ctx_.get());
    dut_->clk_i = 0;
    dut_->rst_i = 1;
    ClearInputs();
    for (int i = 0; i < 4; ++i) Clock();
    dut_->rst_i = 0;
    MakeSas();
  }
  ~Bench() { dut_->final(); }

  // Runs `n` jobs to completion; returns the cycles from the first job to the last completion.
  uint64_t Run(int n) {
    jobs_total_ = n;
    uint64_t start = cycle_;
    const uint64_t limit = cycle_ + 4000ull * static_cast<uint64_t>(n) + 100000;
    while (cpl_count_ < n && cycle_ < limit && !::testing::Test::HasFailure()) Step();
    EXPECT_EQ(cpl_count_, n) << "timeout at cycle " << cycle_;
    EXPECT_TRUE(cnt_expect_.empty()) << cnt_expect_.size() << " counter updates missing";
    return cycle_ - start;
  }

  std::map<int, int> status_hist;
  int dma_err_cpls = 0;
  int deviations = 0;  // transport IPv6 packets refused because of the 128-byte peek
  std::map<std::string, int> coverage;  // ok packets per kind
  std::vector<uint64_t> cpl_cycles;

 private:
  double U() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  uint32_t R(uint32_t lo, uint32_t hi) { return std::uniform_int_distribution<uint32_t>(lo, hi)(rng_); }
  bool P(double p) { return U() < p; }

  void ClearInputs() {
    dut_->job_valid_i = 0;
    dut_->rd_cmd_ready_i = 0;
    dut_->rd_valid_i = 0;
    dut_->rd_last_i = 0;
    dut_->rd_err_i = 0;
    dut_->rd_bytes_i = 0;
    dut_->wr_cmd_ready_i = 0;
    dut_->wr_ready_i = 0;
    dut_->wr_done_valid_i = 0;
    dut_->wr_done_err_i = 0;
    dut_->lk_req_ready_i = 0;
    dut_->lk_rsp_valid_i = 0;
    dut_->seq_req_ready_i = 0;
    dut_->seq_rsp_valid_i = 0;
    dut_->cnt_ready_i = 0;
    dut_->cpl_ready_i = 0;
  }

  void Clock() {
    dut_->clk_i = 0;
    dut_->eval();
    dut_->clk_i = 1;
    dut_->eval();
    ++cycle_;
  }

  // ---- SAs ----
  void MakeSas() {
    for (uint32_t i = 0; i < kNumSa; ++i) {
      BenchSa& s = sas_[i];
      s = BenchSa{};
      if (o_.mode == 1) {
        if (i == 0) MakeSa(s, /*throughput=*/true);
        continue;
      }
      if (o_.stress_sa && P(0.1)) continue;  // empty slot
      MakeSa(s, false);
    }
  }

  void MakeSa(BenchSa& s, bool throughput) {
    for (;;) {
      sa::SaConfig c;
      c.spi = static_cast<uint32_t>(rng_()) | 0x100;
      c.direction = (!throughput && o_.stress_sa && P(0.08)) ? sa::Direction::kInbound : sa::Direction::kOutbound;
      c.mode = (throughput || P(0.6)) ? sa::Mode::kTunnel : sa::Mode::kTransport;
      c.suite = P(0.5) ? sa::Suite::kAesGcm128 : sa::Suite::kAesGcm256;
      if (c.mode == sa::Mode::kTunnel) {
        const bool v6 = !throughput && P(0.5);
        sa::IpAddress a{v6, {}}, b{v6, {}};
        for (size_t k = 0; k < (v6 ? 16u : 4u); ++k) {
          a.bytes[k] = static_cast<uint8_t>(rng_());
          b.bytes[k] = static_cast<uint8_t>(rng_());
        }
        a.bytes[0] |= 1;
        b.bytes[0] |= 1;
        c.tunnel_src = a;
        c.tunnel_dst = b;
      }
      if (!throughput && P(0.4)) c.udp_encap = sa::UdpEncap{static_cast<uint16_t>(rng_()), static_cast<uint16_t>(rng_())};
      c.esn = !throughput && P(0.5);
      c.initial_seq = 1 + R(0, 1000);
      if (!throughput && o_.stress_sa) {
        const uint32_t pick = R(0, 9);
        if (pick < 2) c.initial_seq = c.esn ? 0xfffffff0ULL + R(0, 31) : 0xffffffffULL - R(0, 6);
        if (pick == 2 && c.esn) c.initial_seq = ~0ULL - R(0, 4);
        if (pick == 3) c.initial_seq = 0x12345678ULL * R(1, 7) + (c.esn ? (uint64_t{R(1, 9)} << 32) : 0);
      }
      c.dscp_mode = P(0.5) ? sa::DscpMode::kSet : sa::DscpMode::kCopy;
      c.dscp = static_cast<uint8_t>(R(0, 63));
      c.ecn_mode = P(0.5) ? sa::EcnMode::kCompat : sa::EcnMode::kNormal;
      const uint32_t df = R(0, 2);
      c.df_mode = df == 0 ? sa::DfMode::kCopy : df == 1 ? sa::DfMode::kSet : sa::DfMode::kClear;
      c.ttl = static_cast<uint8_t>(R(1, 255));
      auto p = driver::ToSaParams(c);
      if (!p.ok()) continue;
      s.params = *p;
      s.valid = true;
      s.key.assign(32, 0);
      const size_t klen = c.suite == sa::Suite::kAesGcm256 ? 32 : 16;
      for (size_t k = 0; k < klen; ++k) s.key[k] = static_cast<uint8_t>(rng_());
      for (auto& b : s.salt) b = static_cast<uint8_t>(rng_());
      const std::vector<uint8_t> k(s.key.begin(), s.key.begin() + klen);
      s.hpow = ghash::HPowers(AesZero(k), 4);
      s.hard_expired = !throughput && o_.stress_sa && P(0.07);
      s.next_seq = c.initial_seq;
      s.max_seq = c.esn ? ~0ULL : 0xffffffffULL;
      if (c.direction == sa::Direction::kOutbound) {
        std::vector<std::byte> km(klen + 4);
        for (size_t i = 0; i < klen; ++i) km[i] = std::byte{k[i]};
        for (size_t i = 0; i < 4; ++i) km[klen + i] = std::byte{s.salt[i]};
        sa::KeyMaterial keys;
        keys.enc_key = SecureBytes(std::span<const std::byte>(km));
        auto ref = esp::EspSa::Create(c, std::move(keys), crypto::Provider::kOpenSsl, nullptr);
        if (!ref.ok()) continue;
        s.ref = std::move(*ref);
      }
      return;
    }
  }

  // ---- Packets ----
  std::vector<uint8_t> Ipv4(uint32_t len, bool transport, int* kind) {
    uint32_t ihl = P(0.8) ? 5 : R(5, 15);
    if (len < ihl * 4) ihl = std::max<uint32_t>(5, len / 4);
    std::vector<uint8_t> p(len);
    for (auto& b : p) b = static_cast<uint8_t>(rng_());
    if (len < 20) return p;
    p[0] = static_cast<uint8_t>(0x40 | ihl);
    p[2] = static_cast<uint8_t>(len >> 8);
    p[3] = static_cast<uint8_t>(len);
    p[6] &= 0x40;  // DF random, no fragment
    p[7] = 0;
    p[9] = static_cast<uint8_t>(std::array<int, 5>{6, 17, 1, 47, 132}[R(0, 4)]);
    if (transport && P(0.03)) p[9] = 59;
    if (transport && P(0.03)) p[7] = 1;  // fragment offset: refused
    if (o_.mode == 1) return p;  // throughput: well-formed packets only
    if (P(0.03)) {  // total length disagrees with PKT_LEN
      const uint16_t t = static_cast<uint16_t>(len + (P(0.5) ? 1 : -1));
      p[2] = static_cast<uint8_t>(t >> 8);
      p[3] = static_cast<uint8_t>(t);
    }
    if (P(0.02)) p[0] = static_cast<uint8_t>(R(0, 0x3f) | (P(0.5) ? 0x70 : 0));  // not IPv4/6
    *kind = 4;
    return p;
  }

  std::vector<uint8_t> Ipv6(uint32_t len, bool transport, int* kind) {
    std::vector<uint8_t> p(len);
    for (auto& b : p) b = static_cast<uint8_t>(rng_());
    if (len < 40) {
      p[0] = static_cast<uint8_t>(0x60 | (p[0] & 0xf));
      return p;
    }
    p[0] = static_cast<uint8_t>(0x60 | (p[0] & 0xf));
    const uint16_t pl = static_cast<uint16_t>(len - 40);
    p[4] = static_cast<uint8_t>(pl >> 8);
    p[5] = static_cast<uint8_t>(pl);
    std::vector<uint8_t> chain;
    // At most 88 bytes of chain, so the insertion point stays within the 128-byte peek; now and
    // then (transport) a longer one, beyond the peek: the documented deviation.
    size_t budget = (transport && P(0.05)) ? 400 : 88;
    if (transport || P(0.3)) {
      const int n = static_cast<int>(R(0, budget > 88 ? 8 : 4));
      for (int i = 0; i < n; ++i) {
        static constexpr uint8_t kExt[] = {0, 43, 60, 60, 43, 44};
        chain.push_back(kExt[R(0, P(0.05) ? 5 : 4)]);
      }
    }
    const uint8_t last = P(0.03) ? 59 : static_cast<uint8_t>(std::array<int, 4>{6, 17, 58, 47}[R(0, 3)]);
    size_t off = 40;
    uint8_t* nh = &p[6];
    for (uint8_t h : chain) {
      uint32_t units = budget > 88 ? R(0, 12) : R(0, 3);
      if ((units + 1) * 8 > budget) break;
      if (off + 8 * (units + 1) > len) {
        if (P(0.5)) break;  // else: a header running past the packet (malformed)
      }
      *nh = h;
      if (off + 2 > len) break;
      p[off + 1] = static_cast<uint8_t>(units);
      nh = &p[off];
      off += 8 * (units + 1);
      budget -= 8 * (units + 1);
      if (off >= len) break;
    }
    *nh = last;
    if (P(0.03)) {
      const uint16_t t = static_cast<uint16_t>(pl + (P(0.5) ? 1 : -1));
      p[4] = static_cast<uint8_t>(t >> 8);
      p[5] = static_cast<uint8_t>(t);
    }
    *kind = 6;
    return p;
  }

  std::unique_ptr<Job> MakeJob() {
    auto j = std::make_unique<Job>();
    j->id = next_id_++;
    j->ring = static_cast<uint8_t>(R(0, 31));
    j->index = static_cast<uint16_t>(rng_());
    uint32_t sa_index = R(0, kNumSa - 1);
    if (o_.mode == 1) sa_index = 0;
    else if (o_.stress_sa && P(0.03)) sa_index = R(kNumSa, kNoSa);
    const BenchSa* s = sa_index < kNumSa ? &sas_[sa_index] : nullptr;
    const bool sa_known = s != nullptr && s->valid;
    const bool transport = sa_known && s->params.mode == card::SaMode::kTransport;

    // Inner packet
    uint32_t len;
    if (o_.mode == 1) {
      len = 1500;
    } else {
      const uint32_t pick = R(0, 9);
      len = pick < 4 ? R(20, 200) : pick < 8 ? R(200, 1500) : R(1500, max_pkt_);
      if (P(0.01)) len = R(1, 39);
    }
    int kind = 0;
    const bool v6 = o_.mode != 1 && P(0.5);
    // Transport with nothing behind the IP header: the text is the ESP trailer alone (no body read)
    if (transport && P(0.02)) len = v6 ? 40 : 20;
    std::vector<uint8_t> pkt = v6 ? Ipv6(len, transport, &kind) : Ipv4(len, transport, &kind);

    // Buffer around it
    uint32_t head = P(0.85) || o_.mode == 1 ? R(64, 100) : R(0, 63);
    uint32_t tail = P(0.85) || o_.mode == 1 ? R(32, 64) : R(0, 31);
    const uint32_t buf_len = head + len + tail;
    j->mem.resize(buf_len);
    for (auto& b : j->mem) b = static_cast<uint8_t>(rng_());
    std::copy(pkt.begin(), pkt.end(), j->mem.begin() + head);
    j->orig = j->mem;

    card::ReqDesc& d = j->desc;
    d.buf_addr = ((j->id + 1) << 20) + R(0, 200);
    d.buf_len = static_cast<uint16_t>(buf_len);
    d.pkt_offset = static_cast<uint16_t>(head);
    d.pkt_len = static_cast<uint16_t>(len);
    d.dir = card::Dir::kOutbound;
    d.sa_valid = true;
    d.irq = P(0.3);
    d.sa_index = sa_index;
    d.user_data = rng_();

    // Sequence allocation (sa_table): only for a valid outbound SA
    if (sa_known && s->params.dir == card::Dir::kOutbound) {
      BenchSa& ms = sas_[sa_index];
      if (ms.exhausted) {
        j->seq_exh = true;
      } else {
        j->seq_ok = true;
        j->seq = ms.next_seq;
        if (ms.next_seq == ms.max_seq) ms.exhausted = true;
        else ++ms.next_seq;
      }
    }

    // Expected outcome
    card::Cpl& c = j->cpl;
    c.user_data = d.user_data;
    c.sa_index = sa_known ? sa_index : kNoSa;
    c.spi = sa_known ? s->params.spi : 0;
    c.desc_index = j->index;
    c.dir = card::Dir::kOutbound;
    j->expect = j->mem;
    card::CplStatus st;
    if (!sa_known) {
      st = card::CplStatus::kBadSaIndex;
    } else if (s->params.dir != card::Dir::kOutbound) {
      st = card::CplStatus::kWrongDirection;
    } else if (!j->seq_ok) {
      st = card::CplStatus::kSeqOverflow;
    } else if (s->hard_expired) {
      st = card::CplStatus::kHardLifetime;
    } else {
      std::vector<uint8_t> copy = j->mem;
      PacketBuf pb{reinterpret_cast<std::byte*>(copy.data()), buf_len, head, len};
      EXPECT_TRUE(s->ref->RestoreState(j->seq, 0).ok());
      PacketBuf* pp[1] = {&pb};
      sa::DropReason r[1];
      s->ref->ProcessOutbound(pp, r);
      st = static_cast<card::CplStatus>(r[0]);
      if (transport && len >= 40 && (pkt[0] >> 4) == 6 && st != card::CplStatus::kMalformed && BeyondPeek(pkt)) {
        ++deviations;  // the card refuses what EspSa accepts (or refuses later, as no_room)
        st = card::CplStatus::kMalformed;
        r[0] = sa::DropReason::kMalformed;
      }
      if (r[0] == sa::DropReason::kOk) {
        if (pb.length > max_pkt_) {
          st = card::CplStatus::kTooBig;  // decided before any write: buffer untouched
        } else {
          const card::SaParams& sp = s->params;
          std::string k = sp.mode == card::SaMode::kTunnel
                              ? std::string("tunnel ") + (sp.outer_v6 ? "v6" : "v4") + "-in-v" + std::to_string(pkt[0] >> 4)
                              : std::string("transport v") + std::to_string(pkt[0] >> 4);
          if (sp.mode == card::SaMode::kTransport && (pkt[0] >> 4) == 6 && pkt[6] != 6 && pkt[6] != 17 &&
              pkt[6] != 58 && pkt[6] != 47) {
            k += "+ext";
          }
          ++coverage[k];
          if (sp.udp_encap) ++coverage[std::string("udp over v") + ((sp.mode == card::SaMode::kTunnel ? sp.outer_v6 : (pkt[0] >> 4) == 6) ? "6" : "4")];
          if (sp.esn) ++coverage["esn"];
          if (sp.esn && (j->seq >> 32) != 0) ++coverage["esn high half nonzero"];
          ++coverage[sp.suite == card::Suite::kAesGcm256 ? "aes-256" : "aes-128"];
          j->expect = copy;
          c.seq = j->seq;
          c.out_offset = static_cast<uint16_t>(pb.offset);
          c.out_len = static_cast<uint16_t>(pb.length);
        }
      }
    }
    c.status = st;
    if (sa_known) {
      const bool ok = st == card::CplStatus::kOk;
      j->cnt = CntRec{sa_index, ok ? 0u : 3u, ok ? len : 0u, ok ? j->seq : 0};
    }
    ++status_hist[static_cast<int>(st)];
    return j;
  }

  Job* JobAt(uint64_t addr) {
    const uint64_t id = (addr >> 20) - 1;
    auto it = jobs_.find(id);
    return it == jobs_.end() ? nullptr : it->second.get();
  }

  bool InBuffer(const Job* j, uint64_t addr, uint32_t len) {
    return j != nullptr && addr >= j->desc.buf_addr && addr + len <= j->desc.buf_addr + j->desc.buf_len;
  }

  // ---- One cycle ----
  struct Rd {
    uint64_t addr;
    uint32_t len, sent = 0;
    uint64_t ready_at;
    bool err = false;
  };
  struct Wr {
    uint64_t addr;
    uint32_t len, got = 0;
  };
  struct Rsp {
    uint64_t due;
    uint64_t job;
    bool err = false;
  };

  void Step() {
    M& t = *dut_;
    // Drive this cycle's inputs
    if (!job_offer_ && jobs_made_ < jobs_total_ && jobs_.size() < 64 && !P(o_.p_idle * (o_.mode == 1 ? 0 : 1))) {
      auto j = MakeJob();
      job_offer_ = j->id;
      job_order_.push_back(j->id);
      lk_order_.push_back(j->id);
      seq_order_.push_back(j->id);
      if (j->cnt) cnt_expect_.push_back(j->id);
      jobs_[j->id] = std::move(j);
      ++jobs_made_;
    }
    t.job_valid_i = job_offer_.has_value();
    if (job_offer_) {
      Job* j = jobs_[*job_offer_].get();
      const auto b = j->desc.Encode();
      PutBytes(t.job_desc_i, reinterpret_cast<const uint8_t*>(b.data()), 32);
      t.job_ring_i = j->ring;
      t.job_index_i = j->index;
    }
    const bool busy = o_.mode != 1;
    t.rd_cmd_ready_i = !busy || P(o_.p_ready);
    t.wr_cmd_ready_i = !busy || P(o_.p_ready);
    t.lk_req_ready_i = !busy || P(o_.p_ready);
    t.seq_req_ready_i = !busy || P(o_.p_ready);
    t.cnt_ready_i = !busy || P(o_.p_ready);
    t.cpl_ready_i = !busy || P(o_.p_ready);
    t.wr_ready_i = !wrs_.empty() && wrs_.front().got < wrs_.front().len && (!busy || P(o_.p_ready));
    // Read data: the head command's next beat (latched while offered)
    t.rd_valid_i = 0;
    if (!rds_.empty() && cycle_ >= rds_.front().ready_at && (rd_hold_ || !busy || !P(o_.p_idle))) {
      Rd& r = rds_.front();
      const uint32_t n = std::min<uint32_t>(64, r.len - r.sent);
      if (!rd_hold_) {
        Job* j = JobAt(r.addr);
        std::array<uint8_t, 64> beat{};
        for (uint32_t k = 0; k < n; ++k) beat[k] = j->mem[r.addr - j->desc.buf_addr + r.sent + k];
        PutBytes(t.rd_data_i, beat.data(), 64);
        rd_hold_ = true;
      }
      t.rd_valid_i = 1;
      t.rd_bytes_i = static_cast<uint8_t>(n);
      t.rd_last_i = r.sent + n == r.len;
      t.rd_err_i = r.err && r.sent + n == r.len;
    }
    // Lookup / sequence responses (one-cycle pulses, in order)
    t.lk_rsp_valid_i = 0;
    if (!lk_rsp_.empty() && cycle_ >= lk_rsp_.front().due) {
      Job* j = jobs_[lk_rsp_.front().job].get();
      const uint32_t idx = j->desc.sa_index;
      const BenchSa* s = idx < kNumSa ? &sas_[idx] : nullptr;
      t.lk_rsp_valid_i = 1;
      t.lk_rsp_sa_valid_i = s != nullptr && s->valid;
      t.lk_rsp_hard_expired_i = s != nullptr && s->valid && s->hard_expired;
      if (s != nullptr && s->valid) {
        const auto pb = s->params.Encode();
        PutBytes(t.lk_rsp_params_i, reinterpret_cast<const uint8_t*>(pb.data()), 96);
        PutBytes(t.lk_rsp_key_i, s->key.data(), 32);
        t.lk_rsp_salt_i = uint32_t{s->salt[0]} | uint32_t{s->salt[1]} << 8 | uint32_t{s->salt[2]} << 16 |
                          uint32_t{s->salt[3]} << 24;
        for (int l = 0; l < 4; ++l) ghash::PutBlock(t.lk_rsp_hpow_i, l, s->hpow[l]);
      } else {
        std::array<uint8_t, 96> junk{};
        for (auto& b : junk) b = static_cast<uint8_t>(rng_());
        PutBytes(t.lk_rsp_params_i, junk.data(), 96);
      }
      lk_rsp_.pop_front();
    }
    t.seq_rsp_valid_i = 0;
    if (!seq_rsp_.empty() && cycle_ >= seq_rsp_.front().due) {
      Job* j = jobs_[seq_rsp_.front().job].get();
      t.seq_rsp_valid_i = 1;
      t.seq_rsp_ok_i = j->seq_ok;
      t.seq_rsp_exhausted_i = j->seq_exh;
      t.seq_rsp_seq_i = j->seq_ok ? j->seq : rng_();
      seq_rsp_.pop_front();
    }
    t.wr_done_valid_i = 0;
    if (!dones_.empty() && cycle_ >= dones_.front().due) {
      t.wr_done_valid_i = 1;
      t.wr_done_err_i = dones_.front().err;
    }

    // Settle and sample the handshakes
    t.clk_i = 0;
    t.eval();
    const bool job_f = t.job_valid_i && t.job_ready_o;
    const bool rdc_f = t.rd_cmd_valid_o && t.rd_cmd_ready_i;
    const bool rd_f = t.rd_valid_i && t.rd_ready_o;
    const bool wrc_f = t.wr_cmd_valid_o && t.wr_cmd_ready_i;
    const bool wr_f = t.wr_valid_o && t.wr_ready_i;
    const bool done_f = t.wr_done_valid_i && t.wr_done_ready_o;
    const bool lk_f = t.lk_req_valid_o && t.lk_req_ready_i;
    const bool seq_f = t.seq_req_valid_o && t.seq_req_ready_i;
    const bool cnt_f = t.cnt_valid_o && t.cnt_ready_i;
    const bool cpl_f = t.cpl_valid_o && t.cpl_ready_i;
    const uint64_t rdc_addr = t.rd_cmd_addr_o, wrc_addr = t.wr_cmd_addr_o;
    const uint32_t rdc_len = t.rd_cmd_len_o, wrc_len = t.wr_cmd_len_o;
    const uint32_t lk_idx = t.lk_req_index_o, seq_idx = t.seq_req_index_o;
    std::array<uint8_t, 64> wbeat{};
    GetBytes(t.wr_data_o, wbeat.data(), 64);
    const uint32_t wbytes = t.wr_bytes_o;
    const bool wlast = t.wr_last_o;
    const CntRec cnt{t.cnt_index_o, t.cnt_kind_o, t.cnt_bytes_o, t.cnt_seq_o};
    std::array<uint8_t, 32> rec{};
    GetBytes(t.cpl_rec_o, rec.data(), 32);
    const uint32_t cpl_ring = t.cpl_ring_o;
    const bool cpl_irq = t.cpl_irq_o;
    const bool lk_rdy = t.lk_rsp_ready_o, seq_rdy = t.seq_rsp_ready_o;
    t.clk_i = 1;
    t.eval();
    ++cycle_;
    ASSERT_FALSE(ctx_->gotFinish()) << "RTL assertion at cycle " << cycle_;
    ASSERT_TRUE(!t.lk_rsp_valid_i || lk_rdy) << "lookup response while not ready";
    ASSERT_TRUE(!t.seq_rsp_valid_i || seq_rdy) << "sequence response while not ready";

    // Bookkeeping
    if (job_f) job_offer_.reset();
    if (rdc_f) {
      Job* j = JobAt(rdc_addr);
      ASSERT_TRUE(InBuffer(j, rdc_addr, rdc_len) && rdc_len >= 1)
          << "read outside a buffer: " << std::hex << rdc_addr << " len " << std::dec << rdc_len;
      const bool err = P(o_.p_rd_err);
      if (err) (j->reads == 0 ? j->peek_err : j->body_err) = true;
      ++j->reads;
      rds_.push_back(Rd{rdc_addr, rdc_len, 0, cycle_ + (busy ? R(0, o_.rd_lat) : o_.rd_fix_lat), err});
    }
    if (rd_f) {
      Rd& r = rds_.front();
      r.sent += std::min<uint32_t>(64, r.len - r.sent);
      rd_hold_ = false;
      if (r.sent == r.len) rds_.pop_front();
    }
    if (lk_f) {
      ASSERT_FALSE(lk_order_.empty());
      const uint64_t id = lk_order_.front();
      lk_order_.pop_front();
      ASSERT_EQ(lk_idx, jobs_[id]->desc.sa_index) << "lookup out of order";
      const uint64_t due = std::max(cycle_ + (busy ? R(1, o_.rsp_lat) : 1), lk_last_ + 1);
      lk_last_ = due;
      lk_rsp_.push_back(Rsp{due, id});
    }
    if (seq_f) {
      ASSERT_FALSE(seq_order_.empty());
      const uint64_t id = seq_order_.front();
      seq_order_.pop_front();
      ASSERT_EQ(seq_idx, jobs_[id]->desc.sa_index) << "sequence request out of order";
      const uint64_t due = std::max(cycle_ + (busy ? R(1, o_.rsp_lat) : 1), seq_last_ + 1);
      seq_last_ = due;
      seq_rsp_.push_back(Rsp{due, id});
    }
    if (wrc_f) {
      Job* j = JobAt(wrc_addr);
      ASSERT_TRUE(InBuffer(j, wrc_addr, wrc_len) && wrc_len >= 1)
          << "write outside a buffer: " << std::hex << wrc_addr << " len " << std::dec << wrc_len;
      ++j->writes;
      ++j->pending_writes;
      wrs_.push_back(Wr{wrc_addr, wrc_len});
    }
    if (wr_f) {
      ASSERT_FALSE(wrs_.empty());
      Wr& w = wrs_.front();
      const uint32_t n = std::min<uint32_t>(64, w.len - w.got);
      ASSERT_EQ(wbytes, n) << "write beat bytes";
      ASSERT_EQ(wlast, w.got + n == w.len) << "write last";
      Job* j = JobAt(w.addr);
      for (uint32_t k = 0; k < n; ++k) j->mem[w.addr - j->desc.buf_addr + w.got + k] = wbeat[k];
      w.got += n;
      if (w.got == w.len) {
        const uint64_t due = std::max(cycle_ + (busy ? R(0, o_.done_lat) : 0), done_last_);
        done_last_ = due;
        const bool err = P(o_.p_wr_err);
        if (err) j->wr_err = true;
        dones_.push_back(Rsp{due, (w.addr >> 20) - 1, err});
        wrs_.pop_front();
      }
    }
    if (done_f) {
      Job* j = jobs_[dones_.front().job].get();
      --j->pending_writes;
      dones_.pop_front();
    }
    // EO_TRACE=1: one line per job, counter and completion handshake (debugging aid)
    if (std::getenv("EO_TRACE") != nullptr && (cnt_f || cpl_f || job_f))
      std::printf("cyc %llu job %d cnt %d seq %llu cpl %d\n", (unsigned long long)cycle_, job_f, cnt_f,
                  (unsigned long long)cnt.seq, cpl_f);
    if (cnt_f) {
      ASSERT_FALSE(cnt_expect_.empty()) << "unexpected counter update";
      const CntRec e = *ExpectedCnt(*jobs_[cnt_expect_.front()]);
      EXPECT_EQ(cnt.index, e.index);
      EXPECT_EQ(cnt.kind, e.kind);
      EXPECT_EQ(cnt.bytes, e.bytes);
      EXPECT_EQ(cnt.seq, e.seq);
      cnt_expect_.pop_front();
    }
    if (cpl_f) {
      ASSERT_FALSE(job_order_.empty());
      const uint64_t id = job_order_.front();
      job_order_.pop_front();
      Job* j = jobs_[id].get();
      const card::Cpl wc = ExpectedCpl(*j);
      const auto want = wc.Encode();
      const card::Cpl got = card::Cpl::Decode(std::span<const std::byte, 32>(
          reinterpret_cast<const std::byte*>(rec.data()), 32));
      EXPECT_EQ(std::memcmp(want.data(), rec.data(), 32), 0)
          << "job " << id << ": completion status " << static_cast<int>(got.status) << " want "
          << static_cast<int>(wc.status) << ", seq " << got.seq << "/" << wc.seq << ", spi " << got.spi << "/"
          << wc.spi << ", sa " << got.sa_index << "/" << wc.sa_index << ", out " << got.out_offset << "+"
          << got.out_len << " want " << wc.out_offset << "+" << wc.out_len;
      EXPECT_EQ(cpl_ring, j->ring);
      EXPECT_EQ(cpl_irq, j->desc.irq);
      EXPECT_EQ(j->pending_writes, 0) << "completion before the writes were done";
      const bool reached_writes = j->cpl.status == card::CplStatus::kOk && !j->peek_err;
      EXPECT_EQ(j->writes, reached_writes ? 2 : 0);
      if (wc.status == card::CplStatus::kDmaReadError || wc.status == card::CplStatus::kDmaWriteError) {
        ++dma_err_cpls;
        if (j->peek_err && j->mem != j->orig) ADD_FAILURE() << "job " << id << ": peek error but buffer written";
      } else if (j->mem != j->expect) {
        size_t first = 0;
        while (j->mem[first] == j->expect[first]) ++first;
        ADD_FAILURE() << "job " << id << " status " << static_cast<int>(j->cpl.status) << ": buffer differs at "
                      << first << " (pkt_offset " << j->desc.pkt_offset << ", pkt_len " << j->desc.pkt_len
                      << ", out " << j->cpl.out_offset << "+" << j->cpl.out_len << ")";
      }
      ++cpl_count_;
      cpl_cycles.push_back(cycle_);
      jobs_.erase(id);
    }
  }

  std::mt19937_64 rng_;
  Options o_;
  uint32_t max_pkt_;
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<M> dut_;
  uint64_t cycle_ = 0;
  std::array<BenchSa, kNumSa> sas_;
  std::map<uint64_t, std::unique_ptr<Job>> jobs_;
  uint64_t next_id_ = 0;
  int jobs_total_ = 0, jobs_made_ = 0, cpl_count_ = 0;
  std::optional<uint64_t> job_offer_;
  std::deque<uint64_t> job_order_, lk_order_, seq_order_;
  std::deque<uint64_t> cnt_expect_;  // jobs that owe a counter update, in order
  std::deque<Rd> rds_;
  bool rd_hold_ = false;
  std::deque<Wr> wrs_;
  std::deque<Rsp> lk_rsp_, seq_rsp_, dones_;
  uint64_t lk_last_ = 0, seq_last_ = 0, done_last_ = 0;
};

std::string Hist(const std::map<int, int>& h) {
  std::string s;
  for (auto [k, v] : h) s += " " + std::to_string(k) + ":" + std::to_string(v);
  return s;
}

template <typename M>
std::map<std::string, int> RandomTraffic(uint64_t seed, int n, Options o, uint32_t max_pkt) {
  Bench<M> b(seed, o, max_pkt);
  b.Run(n);
  std::printf("seed %llu, %d packets, status histogram before DMA errors (status:count):%s; %d DMA-error "
              "completions; %d refused for the 128-byte peek\n",
              static_cast<unsigned long long>(seed), n, Hist(b.status_hist).c_str(), b.dma_err_cpls, b.deviations);
  return b.coverage;
}

// Every kind of ok packet the engine builds has been seen (union over the seeds).
void CheckCoverage(const std::map<std::string, int>& cov) {
  for (const char* k : {"tunnel v4-in-v4", "tunnel v4-in-v6", "tunnel v6-in-v4", "tunnel v6-in-v6", "transport v4",
                        "transport v6", "transport v6+ext", "udp over v4", "udp over v6", "esn",
                        "esn high half nonzero", "aes-128", "aes-256"}) {
    EXPECT_GT(cov.count(k) ? cov.at(k) : 0, 0) << "no ok packet of kind " << k;
  }
  std::string s;
  for (auto& [k, v] : cov) s += " [" + k + "]:" + std::to_string(v);
  std::printf("ok packets by kind:%s\n", s.c_str());
}

// Steady-state inner bytes per clock for back-to-back 1500-byte tunnel packets, against the bare
// aes_gcm_core's rate (one beat per cycle: the AAD beat plus ceil(1504 / LaneBytes) text beats).
// `rd_lat`: cycles from each read command to its first data beat (the whole card sees about 64:
// host memory plus the AXI path); ESP_RD_LAT overrides it for a sweep.
template <typename M>
double Throughput(int lanes, uint32_t max_pkt, int rd_lat) {
  if (const char* e = std::getenv("ESP_RD_LAT")) rd_lat = std::atoi(e);
  Options o;
  o.mode = 1;
  o.stress_sa = false;
  o.rd_fix_lat = rd_lat;
  Bench<M> b(7, o, max_pkt);
  const int n = 150, skip = 50;  // steady state: after the pipeline has filled
  b.Run(n);
  const auto& c = b.cpl_cycles;
  const double cycles = static_cast<double>(c[n - 1] - c[skip - 1]);
  const double engine = 1500.0 * (n - skip) / cycles;
  const int lane_bytes = 16 * lanes;
  const double core = 1500.0 / (1 + (1504 + lane_bytes - 1) / lane_bytes);
  std::printf("Lanes=%d, 1500-byte packets, read latency %d: engine %.2f B/clk (%.1f cycles per packet), "
              "bare core %.2f B/clk: %.1f %%\n",
              lanes, rd_lat, engine, cycles / (n - skip), core, 100.0 * engine / core);
  return engine / core;
}

TEST(EspOutboundTest, RandomTrafficL1) {
  Options o;
  std::map<std::string, int> cov;
  for (uint64_t seed : {1, 11, 12, 13, 14}) {
    for (auto& [k, v] : RandomTraffic<Vesp_outbound_l1>(seed, 1500, o, 2000)) cov[k] += v;
  }
  CheckCoverage(cov);
}

// DMA errors: a failed peek refuses the packet before any write (dma_read_error, buffer
// untouched); a failed body read or write completes with dma_read_error / dma_write_error.
TEST(EspOutboundTest, DmaErrorsL1) {
  Options o;
  o.p_rd_err = 0.05;
  o.p_wr_err = 0.05;
  RandomTraffic<Vesp_outbound_l1>(21, 1500, o, 2000);
}

TEST(EspOutboundTest, RandomTrafficFastHandshakesL1) {
  Options o;
  o.p_ready = 0.95;
  o.p_idle = 0.02;
  o.rd_lat = 2;
  o.rsp_lat = 2;
  o.done_lat = 2;
  RandomTraffic<Vesp_outbound_l1>(2, 1500, o, 2000);
}

TEST(EspOutboundTest, SlowHandshakesL1) {
  Options o;
  o.p_ready = 0.3;
  o.p_idle = 0.5;
  o.rd_lat = 40;
  o.rsp_lat = 20;
  o.done_lat = 40;
  RandomTraffic<Vesp_outbound_l1>(3, 400, o, 2000);
}

TEST(EspOutboundTest, ThroughputL1) {
  EXPECT_GE(Throughput<Vesp_outbound_l1>(1, 2000, 0), 0.9);
  EXPECT_GE(Throughput<Vesp_outbound_l1>(1, 2000, 64), 0.9);
}

#ifdef ESP_OUTBOUND_L4
TEST(EspOutboundTest, RandomTrafficL2) {
  Options o;
  RandomTraffic<Vesp_outbound_l2>(5, 1000, o, 4000);
}
TEST(EspOutboundTest, ThroughputL2) {
  EXPECT_GE(Throughput<Vesp_outbound_l2>(2, 4000, 0), 0.9);
  EXPECT_GE(Throughput<Vesp_outbound_l2>(2, 4000, 64), 0.9);
}
TEST(EspOutboundTest, RandomTrafficL4) {
  Options o;
  RandomTraffic<Vesp_outbound_l4>(4, 1500, o, 9216);
}
TEST(EspOutboundTest, ThroughputL4) {
  EXPECT_GE(Throughput<Vesp_outbound_l4>(4, 9216, 0), 0.9);
  EXPECT_GE(Throughput<Vesp_outbound_l4>(4, 9216, 64), 0.9);
}
#endif

}  // namespace
}  // namespace ipsec::hw::esp_outbound_tb
