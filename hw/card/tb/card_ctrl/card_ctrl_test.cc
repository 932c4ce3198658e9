// Verilated bench for card_ctrl (card_regs + sa_table), two parameter sets: the contract defaults
// (dflt) and a small table with other capabilities (small: 16 slots, 3 ring pairs, no ESN, only
// AES-GCM-128, stamped build id/date). The host side of every check is the generated C++ header
// driver/include/ipsec_accel/card_regs.h (offsets, fields, the sa_params codec), so the bench
// proves that the RTL and the driver read the same contract (docs/device-interface.md).
//
// The AXI4-Lite master below is deliberately small and local to this test (a reusable one is
// being built under sim/): AW and W are offered independently after random delays, and B/R
// ready are random, so every test runs under random bus timing. Datapath ports (lookup,
// counter updates, sequence allocation, events) are driven from queues in the same cycle loop,
// with random idle cycles and random event back-pressure.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <type_traits>
#include <vector>

#include <openssl/evp.h>

#include "Vcard_ctrl_dflt.h"
#include "Vcard_ctrl_small.h"
#include "ipsec_accel/card_regs.h"
#include "verilated.h"

namespace ipsec::hw::card {
namespace {

namespace reg = ::ipsec::card::reg;
namespace field = ::ipsec::card::field;
using ::ipsec::card::Dir;
using ::ipsec::card::SaCmd;
using ::ipsec::card::SaMode;
using ::ipsec::card::SaParams;
using ::ipsec::card::SaResult;
using ::ipsec::card::Suite;
using ::ipsec::card::DfMode;

// Module parameters of each variant (CMakeLists.txt passes the same values).
struct Caps {
  uint32_t num_sa, ring_pairs, max_ring_log2, fetch_burst, max_replay, aes_lanes, dp_log2, max_pkt,
      headroom, tailroom, suites, features, build_id, build_date;
  bool Feature(::ipsec::card::Field f) const { return f.Get(features) != 0; }
};
struct DfltCfg {
  using Model = Vcard_ctrl_dflt;
  static constexpr Caps kCaps = {::ipsec::card::kDefaultSaCount,      ::ipsec::card::kDefaultRingPairs,
                                 ::ipsec::card::kDefaultMaxRingLog2,  ::ipsec::card::kDefaultFetchBurst,
                                 ::ipsec::card::kDefaultMaxReplayWindow, ::ipsec::card::kDefaultAesLanes,
                                 ::ipsec::card::kDefaultDatapathBytesLog2, ::ipsec::card::kDefaultMaxPktBytes,
                                 ::ipsec::card::kDefaultMinHeadroom,  ::ipsec::card::kDefaultMinTailroom,
                                 ::ipsec::card::kDefaultSuites,       ::ipsec::card::kDefaultFeatures,
                                 ::ipsec::card::kDefaultBuildId,      ::ipsec::card::kDefaultBuildDate};
  static constexpr bool kDefaults = true;
};
struct SmallCfg {
  using Model = Vcard_ctrl_small;
  static constexpr Caps kCaps = {16, 3, 10, 4, 2048, 2, 6, 1500, 80, 40, 2, 959, 0x1234abcd, 1700000000};
  static constexpr bool kDefaults = false;
};

// Bit access to Verilator ports of any width.
template <std::size_t N>
uint64_t Bits(const VlWide<N>& w, unsigned lsb, unsigned width) {
  uint64_t v = 0;
  for (unsigned i = 0; i < width; ++i) {
    unsigned b = lsb + i;
    if ((w[b / 32] >> (b % 32)) & 1u) v |= uint64_t{1} << i;
  }
  return v;
}
template <typename T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
uint64_t Bits(T v, unsigned lsb, unsigned width) {
  uint64_t x = static_cast<uint64_t>(v) >> lsb;
  return width >= 64 ? x : x & ((uint64_t{1} << width) - 1);
}
template <std::size_t N>
void SetBits(VlWide<N>& w, unsigned lsb, unsigned width, uint64_t v) {
  for (unsigned i = 0; i < width; ++i) {
    unsigned b = lsb + i;
    if ((v >> i) & 1u) w[b / 32] |= 1u << (b % 32);
    else w[b / 32] &= ~(1u << (b % 32));
  }
}
template <typename T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
void SetBits(T& t, unsigned lsb, unsigned width, uint64_t v) {
  uint64_t mask = (width >= 64 ? ~uint64_t{0} : ((uint64_t{1} << width) - 1)) << lsb;
  t = static_cast<T>((static_cast<uint64_t>(t) & ~mask) | ((v << lsb) & mask));
}

// GHASH key powers H, H^2, H^3, H^4 with H = AES_K(0^128), as sa_prep must compute them:
// OpenSSL for the AES (SP 800-38D's H) and SP 800-38D Algorithm 1 for the products.
using Block = std::array<uint8_t, 16>;
Block GfMul(const Block& x, const Block& y) {
  Block z{}, v = y;
  for (int i = 0; i < 128; ++i) {
    if ((x[i / 8] >> (7 - i % 8)) & 1) {
      for (int k = 0; k < 16; ++k) z[k] ^= v[k];
    }
    const bool lsb = v[15] & 1;
    for (int k = 15; k > 0; --k) v[k] = static_cast<uint8_t>((v[k] >> 1) | (v[k - 1] << 7));
    v[0] >>= 1;
    if (lsb) v[0] ^= 0xe1;
  }
  return z;
}
std::array<uint8_t, 64> HPowers(const std::array<uint8_t, 32>& key, bool aes256) {
  Block h{}, zero{};
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  int len = 0;
  EVP_EncryptInit_ex(c, aes256 ? EVP_aes_256_ecb() : EVP_aes_128_ecb(), nullptr, key.data(), nullptr);
  EVP_CIPHER_CTX_set_padding(c, 0);
  EVP_EncryptUpdate(c, h.data(), &len, zero.data(), 16);
  EVP_CIPHER_CTX_free(c);
  std::array<uint8_t, 64> out{};
  Block p = h;
  for (int k = 0; k < 4; ++k) {
    std::copy(p.begin(), p.end(), out.begin() + 16 * k);
    p = GfMul(p, h);
  }
  return out;
}

struct LkRsp {
  uint32_t index;
  bool sa_valid, hard_expired;
  SaParams::Bytes params;
  std::array<uint8_t, 32> key;
  std::array<uint8_t, 4> salt;
  std::array<uint8_t, 64> hpow;  // H^(k+1) in bytes [16k, 16k+16), FIPS byte order
};
struct ReplayInit {
  uint32_t sa, window;
  bool esn;
};
struct SeqRsp {
  uint32_t index;
  bool ok, exhausted;
  uint64_t seq;
};
struct Event {
  uint8_t kind;
  uint32_t index;
  bool dir;
  uint64_t info;
  friend bool operator==(const Event&, const Event&) = default;
};
struct CntUpd {
  uint32_t index;
  uint8_t kind;  // 0 ok, 1 auth, 2 replay, 3 other
  uint16_t bytes;
  uint64_t seq;
};
struct Counters {
  uint64_t packets, bytes, auth, replay, other, seq;
  uint32_t state;
};

template <typename Cfg>
class Bench {
 public:
  using M = typename Cfg::Model;
  static constexpr Caps kCaps = Cfg::kCaps;

  explicit Bench(uint32_t seed) : rng_(seed), ctx_(std::make_unique<VerilatedContext>()) {
    m_ = std::make_unique<M>(ctx_.get());
    m_->clk_i = 0;
    m_->rst_i = 1;
    for (int i = 0; i < 4; ++i) Step();
    m_->rst_i = 0;
    WaitReady();
  }

  M& m() { return *m_; }
  std::mt19937_64& rng() { return rng_; }
  bool Chance(int pct) { return static_cast<int>(rng_() % 100) < pct; }

  // One clock cycle: drive inputs, settle, sample handshakes, rising edge.
  void Step() {
    M& m = *m_;
    m.s_axil_awvalid_i = wr_.active && !wr_.aw_done && wr_.aw_delay <= 0;
    m.s_axil_awaddr_i = wr_.addr;
    m.s_axil_wvalid_i = wr_.active && !wr_.w_done && wr_.w_delay <= 0;
    m.s_axil_wdata_i = wr_.data;
    m.s_axil_wstrb_i = wr_.strb;
    m.s_axil_bready_i = Chance(ready_pct);
    m.s_axil_arvalid_i = rd_.active && !rd_.ar_done && rd_.ar_delay <= 0;
    m.s_axil_araddr_i = rd_.addr;
    m.s_axil_rready_i = Chance(ready_pct);

    m.cnt_valid_i = !cnt_q.empty() && Chance(dp_pct);
    if (!cnt_q.empty()) {
      m.cnt_index_i = cnt_q.front().index;
      m.cnt_kind_i = cnt_q.front().kind;
      m.cnt_bytes_i = cnt_q.front().bytes;
      m.cnt_seq_i = cnt_q.front().seq;
    }
    m.seq_valid_i = !seq_q.empty() && Chance(dp_pct);
    if (!seq_q.empty()) m.seq_index_i = seq_q.front();
    m.lk_valid_i = !lk_q.empty() && Chance(dp_pct);
    if (!lk_q.empty()) m.lk_index_i = lk_q.front();
    m.ev_ready_i = Chance(ev_ready_pct);
    m.ri_ready_i = Chance(dp_pct);

    m.clk_i = 0;
    m.eval();

    const bool aw = m.s_axil_awvalid_i && m.s_axil_awready_o;
    const bool w = m.s_axil_wvalid_i && m.s_axil_wready_o;
    const bool b = m.s_axil_bvalid_o && m.s_axil_bready_i;
    const bool ar = m.s_axil_arvalid_i && m.s_axil_arready_o;
    const bool r = m.s_axil_rvalid_o && m.s_axil_rready_i;
    if (m.s_axil_bvalid_o && !(wr_.active && wr_.aw_done && wr_.w_done)) ADD_FAILURE() << "BVALID without a write";
    if (m.s_axil_rvalid_o && !(rd_.active && rd_.ar_done)) ADD_FAILURE() << "RVALID without a read";
    if (b) EXPECT_EQ(m.s_axil_bresp_o, 0);
    if (r) {
      EXPECT_EQ(m.s_axil_rresp_o, 0);
      rd_.data = m.s_axil_rdata_o;
    }
    const bool cnt_fire = m.cnt_valid_i && m.cnt_ready_o;
    const bool seq_fire = m.seq_valid_i && m.seq_ready_o;
    const bool lk_fire = m.lk_valid_i && m.lk_ready_o;
    if (m.lk_rsp_valid_o) lk_rsp.push_back(SampleLookup());
    if (m.ri_valid_o && m.ri_ready_i) {
      inits.push_back({static_cast<uint32_t>(m.ri_sa_o), static_cast<uint32_t>(m.ri_window_o), m.ri_esn_o != 0});
    }
    if (m.seq_rsp_valid_o) {
      seq_rsp.push_back({static_cast<uint32_t>(m.seq_rsp_index_o), m.seq_rsp_ok_o != 0,
                         m.seq_rsp_exhausted_o != 0, static_cast<uint64_t>(m.seq_rsp_seq_o)});
    }
    if (m.ev_valid_o && m.ev_ready_i) {
      events.push_back({static_cast<uint8_t>(m.ev_kind_o), static_cast<uint32_t>(m.ev_sa_index_o),
                        m.ev_dir_o != 0, static_cast<uint64_t>(m.ev_info_o)});
    }
    for (uint32_t ring = 0; ring < kCaps.ring_pairs; ++ring) {
      if (Bits(m.ring_doorbell_o, ring, 1)) doorbells.push_back({ring, Bits(m.ring_rq_prod_o, ring * 16, 16)});
      if (Bits(m.ring_arm_o, ring, 1)) arms.push_back(ring);
    }
    if (m.dp_rst_o) ++dp_rst_cycles;

    m.clk_i = 1;
    m.eval();
    ++cycle;

    if (aw) wr_.aw_done = true;
    if (w) wr_.w_done = true;
    if (b) wr_.active = false;
    if (ar) rd_.ar_done = true;
    if (r) rd_.active = false;
    --wr_.aw_delay;
    --wr_.w_delay;
    --rd_.ar_delay;
    if (cnt_fire) cnt_q.pop_front();
    if (seq_fire) seq_q.pop_front();
    if (lk_fire) lk_q.pop_front();
    // Pulse inputs last one cycle.
    m.fatal_i = 0;
    m.event_written_i = 0;
    m.events_lost_i = 0;
    m.unmatched_inc_i = 0;
  }
  void Run(int n) {
    for (int i = 0; i < n; ++i) Step();
  }
  void Drain() {
    for (int i = 0; i < 100000 && !(cnt_q.empty() && seq_q.empty() && lk_q.empty()); ++i) Step();
    Run(8);
    for (int i = 0; i < 1000 && m_->ev_valid_o; ++i) Step();
  }

  int Delay() { return static_cast<int>(rng_() % (max_delay + 1)); }

  void Write(uint32_t addr, uint32_t data, uint8_t strb = 0xf) {
    wr_ = {true, addr, data, strb, Delay(), Delay(), false, false};
    for (int i = 0; i < 1000 && wr_.active; ++i) Step();
    ASSERT_FALSE(wr_.active) << "write to 0x" << std::hex << addr << " timed out";
  }
  uint32_t Read(uint32_t addr) {
    rd_ = {true, addr, Delay(), false, 0};
    for (int i = 0; i < 1000 && rd_.active; ++i) Step();
    EXPECT_FALSE(rd_.active) << "read of 0x" << std::hex << addr << " timed out";
    return rd_.data;
  }

  void WaitReady() {
    for (int i = 0; i < 4 * static_cast<int>(kCaps.num_sa) + 1000; ++i) {
      if (field::kCtrlStatusReady.Get(Read(reg::kCtrlStatus))) return;
    }
    ADD_FAILURE() << "CTRL_STATUS.READY never came";
  }

  // SA window
  void StageParams(const SaParams& p) { StageParamBytes(p.Encode()); }
  void StageParamBytes(const SaParams::Bytes& b) {
    for (uint32_t k = 0; k < reg::kSaParamCount; ++k) {
      uint32_t v = 0;
      for (int j = 0; j < 4; ++j) v |= std::to_integer<uint32_t>(b[4 * k + j]) << (8 * j);
      Write(reg::kSaParam + 4 * k, v);
    }
  }
  void StageKey(const std::array<uint8_t, 32>& key, const std::array<uint8_t, 4>& salt) {
    for (uint32_t k = 0; k < reg::kSaKeyCount; ++k) {
      uint32_t v = 0;
      for (int j = 0; j < 4; ++j) v |= uint32_t{key[4 * k + j]} << (8 * j);
      Write(reg::kSaKey + 4 * k, v);
    }
    uint32_t s = 0;
    for (int j = 0; j < 4; ++j) s |= uint32_t{salt[j]} << (8 * j);
    Write(reg::kSaSalt, s);
  }
  // Runs a command on SA_INDEX = index; returns SA_STATUS after BUSY dropped.
  uint32_t Command(SaCmd op, uint32_t index) {
    Write(reg::kSaIndex, index);
    Write(reg::kSaCmd, field::kSaCmdOp.Put(0, static_cast<uint32_t>(op)));
    for (int i = 0; i < 1000; ++i) {
      uint32_t st = Read(reg::kSaStatus);
      if (!field::kSaStatusBusy.Get(st)) return st;
    }
    ADD_FAILURE() << "SA command never finished";
    return 0;
  }
  static SaResult Result(uint32_t st) { return static_cast<SaResult>(field::kSaStatusResult.Get(st)); }
  uint32_t Install(uint32_t index, const SaParams& p, const std::array<uint8_t, 32>& key,
                   const std::array<uint8_t, 4>& salt) {
    StageParams(p);
    StageKey(key, salt);
    return Command(SaCmd::kWrite, index);
  }
  SaParams::Bytes ReadParamRegs() {
    SaParams::Bytes b{};
    for (uint32_t k = 0; k < reg::kSaParamCount; ++k) {
      uint32_t v = Read(reg::kSaParam + 4 * k);
      for (int j = 0; j < 4; ++j) b[4 * k + j] = std::byte(static_cast<uint8_t>(v >> (8 * j)));
    }
    return b;
  }
  uint64_t Read64(uint32_t lo) { return Read(lo) | (uint64_t{Read(lo + 4)} << 32); }
  Counters ReadCounters(uint32_t index) {
    uint32_t st = Command(SaCmd::kReadCounters, index);
    EXPECT_EQ(Result(st), SaResult::kOk);
    return {Read64(reg::kSaCntPacketsLo), Read64(reg::kSaCntBytesLo), Read64(reg::kSaCntAuthFailLo),
            Read64(reg::kSaCntReplayLo),  Read64(reg::kSaCntOtherLo), Read64(reg::kSaSeqLo),
            Read(reg::kSaState)};
  }
  bool KeyRegistersReadZero() {
    bool zero = Read(reg::kSaSalt) == 0 && Read(reg::kSaCmd) == 0;
    for (uint32_t k = 0; k < reg::kSaKeyCount; ++k) zero = zero && Read(reg::kSaKey + 4 * k) == 0;
    return zero;
  }

  LkRsp Lookup(uint32_t index) {
    size_t n = lk_rsp.size();
    lk_q.push_back(index);
    for (int i = 0; i < 1000 && lk_rsp.size() == n; ++i) Step();
    EXPECT_GT(lk_rsp.size(), n);
    return lk_rsp.back();
  }
  SeqRsp AllocSeq(uint32_t index) {
    size_t n = seq_rsp.size();
    seq_q.push_back(index);
    for (int i = 0; i < 1000 && seq_rsp.size() == n; ++i) Step();
    EXPECT_GT(seq_rsp.size(), n);
    return seq_rsp.back();
  }

  // Random valid SA for slot `index` under this variant's capabilities.
  SaParams RandomParams(uint32_t index, Dir dir) {
    SaParams p;
    p.dir = dir;
    p.spi = static_cast<uint32_t>(rng_()) | 0x100u;
    if (dir == Dir::kInbound) p.spi = (p.spi & ~(kCaps.num_sa - 1)) | index;
    p.mode = Chance(50) ? SaMode::kTunnel : SaMode::kTransport;
    p.outer_v6 = Chance(50);
    p.udp_encap = Chance(50);
    p.esn = kCaps.Feature(field::kIdFeaturesEsn) && Chance(50);
    p.verify_tunnel = Chance(50);
    p.dscp_set = Chance(50);
    p.ecn_compat = Chance(50);
    p.df_mode = static_cast<DfMode>(rng_() % 3);
    p.dec_inner_ttl = Chance(50);
    std::vector<Suite> suites;
    for (uint32_t s = 1; s < 32; ++s) {
      if ((kCaps.suites >> s) & 1u) suites.push_back(static_cast<Suite>(s));
    }
    p.suite = suites[rng_() % suites.size()];
    p.ttl = static_cast<uint8_t>(1 + rng_() % 255);
    p.dscp = static_cast<uint8_t>(rng_() % 64);
    p.replay_window = (dir == Dir::kInbound && Chance(75)) ? 64 + rng_() % (kCaps.max_replay - 63) : 0;
    p.udp_src_port = static_cast<uint16_t>(rng_());
    p.udp_dst_port = static_cast<uint16_t>(rng_());
    p.initial_seq = p.esn ? 1 + (rng_() >> 1) : 1 + rng_() % 0xfffffff0u;
    p.soft_bytes = Chance(25) ? 0 : rng_() >> 8;
    p.hard_bytes = Chance(25) ? 0 : p.soft_bytes + (rng_() >> 9);
    p.soft_packets = Chance(25) ? 0 : rng_() >> 8;
    p.hard_packets = Chance(25) ? 0 : p.soft_packets + (rng_() >> 9);
    for (auto& b : p.tunnel_src) b = static_cast<uint8_t>(rng_());
    for (auto& b : p.tunnel_dst) b = static_cast<uint8_t>(rng_());
    p.tunnel_src[0] |= 1;
    p.tunnel_dst[0] |= 1;
    return p;
  }
  std::array<uint8_t, 32> RandomKey() {
    std::array<uint8_t, 32> k;
    for (auto& b : k) b = static_cast<uint8_t>(rng_() | 1);  // never all zero
    return k;
  }
  std::array<uint8_t, 4> RandomSalt() {
    std::array<uint8_t, 4> s;
    for (auto& b : s) b = static_cast<uint8_t>(rng_() | 1);
    return s;
  }

  // Knobs
  int max_delay = 3;     // AW/W/AR valid delays, cycles
  int ready_pct = 60;    // BREADY/RREADY per cycle
  int dp_pct = 70;       // datapath valid per cycle when work is queued
  int ev_ready_pct = 50;

  // Datapath work and observations
  std::deque<CntUpd> cnt_q;
  std::deque<uint32_t> seq_q, lk_q;
  std::vector<LkRsp> lk_rsp;
  std::vector<SeqRsp> seq_rsp;
  std::vector<Event> events;
  std::vector<ReplayInit> inits;
  std::vector<std::pair<uint32_t, uint64_t>> doorbells;
  std::vector<uint32_t> arms;
  uint64_t dp_rst_cycles = 0;
  uint64_t cycle = 0;

 private:
  LkRsp SampleLookup() {
    M& m = *m_;
    LkRsp r{};
    r.index = m.lk_rsp_index_o;
    r.sa_valid = m.lk_rsp_sa_valid_o;
    r.hard_expired = m.lk_rsp_hard_expired_o;
    for (unsigned i = 0; i < 96; ++i) r.params[i] = std::byte(static_cast<uint8_t>(Bits(m.lk_rsp_params_o, 8 * i, 8)));
    for (unsigned i = 0; i < 32; ++i) r.key[i] = static_cast<uint8_t>(Bits(m.lk_rsp_key_o, 8 * i, 8));
    for (unsigned i = 0; i < 4; ++i) r.salt[i] = static_cast<uint8_t>(Bits(m.lk_rsp_salt_o, 8 * i, 8));
    // hpow: H^(k+1) at [k*128 +: 128] with byte 0 of each at the top.
    for (unsigned k = 0; k < 4; ++k) {
      for (unsigned j = 0; j < 16; ++j) {
        r.hpow[16 * k + j] = static_cast<uint8_t>(Bits(m.lk_rsp_hpow_o, k * 128 + 120 - 8 * j, 8));
      }
    }
    return r;
  }

  struct WrOp {
    bool active = false;
    uint32_t addr = 0, data = 0;
    uint8_t strb = 0xf;
    int aw_delay = 0, w_delay = 0;
    bool aw_done = false, w_done = false;
  } wr_;
  struct RdOp {
    bool active = false;
    uint32_t addr = 0;
    int ar_delay = 0;
    bool ar_done = false;
    uint32_t data = 0;
  } rd_;
  std::mt19937_64 rng_;
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<M> m_;
};

template <typename Cfg>
class CardCtrlTest : public ::testing::Test {
 protected:
  static constexpr Caps kCaps = Cfg::kCaps;
  CardCtrlTest() : b_(std::make_unique<Bench<Cfg>>(0xC0FFEE + kCaps.num_sa)) {}
  Bench<Cfg>& b() { return *b_; }
  std::unique_ptr<Bench<Cfg>> b_;
};
using Configs = ::testing::Types<DfltCfg, SmallCfg>;
TYPED_TEST_SUITE(CardCtrlTest, Configs);

constexpr uint32_t kRingReg(uint32_t ring, uint32_t off) { return reg::kRingBase + ring * reg::kRingStride + off; }

TYPED_TEST(CardCtrlTest, IdBlockMatchesHeaderAndParameters) {
  auto& b = this->b();
  const Caps& c = this->kCaps;
  EXPECT_EQ(b.Read(reg::kIdType), reg::kIdBlockType);
  EXPECT_EQ(b.Read(reg::kIdVersion), (::ipsec::card::kLayoutVersionMajor << 16) | ::ipsec::card::kLayoutVersionMinor);
  EXPECT_EQ(b.Read(reg::kIdBuildId), c.build_id);
  EXPECT_EQ(b.Read(reg::kIdBuildDate), c.build_date);
  EXPECT_EQ(b.Read(reg::kIdFeatures), c.features);
  EXPECT_EQ(b.Read(reg::kIdSuites), c.suites);
  uint32_t eng = b.Read(reg::kIdCapEngine);
  EXPECT_EQ(field::kIdCapEngineAesLanes.Get(eng), c.aes_lanes);
  EXPECT_EQ(field::kIdCapEngineDatapathBytesLog2.Get(eng), c.dp_log2);
  EXPECT_EQ(b.Read(reg::kIdCapSa), c.num_sa);
  EXPECT_EQ(b.Read(reg::kIdCapReplay), c.max_replay);
  uint32_t q = b.Read(reg::kIdCapQueues);
  EXPECT_EQ(field::kIdCapQueuesRingPairs.Get(q), c.ring_pairs);
  EXPECT_EQ(field::kIdCapQueuesEventRings.Get(q), 1u);
  EXPECT_EQ(field::kIdCapQueuesMaxRingLog2.Get(q), c.max_ring_log2);
  EXPECT_EQ(field::kIdCapQueuesFetchBurst.Get(q), c.fetch_burst);
  uint32_t pk = b.Read(reg::kIdCapPacket);
  EXPECT_EQ(field::kIdCapPacketMaxPktBytes.Get(pk), c.max_pkt);
  EXPECT_EQ(field::kIdCapPacketMinHeadroom.Get(pk), c.headroom);
  EXPECT_EQ(field::kIdCapPacketMinTailroom.Get(pk), c.tailroom);
  uint32_t rec = b.Read(reg::kIdCapRecords);
  EXPECT_EQ(field::kIdCapRecordsReqDescBytes.Get(rec), ::ipsec::card::ReqDesc::kBytes);
  EXPECT_EQ(field::kIdCapRecordsCplBytes.Get(rec), ::ipsec::card::Cpl::kBytes);
  EXPECT_EQ(field::kIdCapRecordsEventBytes.Get(rec), ::ipsec::card::Event::kBytes);
  EXPECT_EQ(field::kIdCapRecordsSaParamBytes.Get(rec), SaParams::kBytes);
  EXPECT_EQ(b.Read(reg::kQueuesRingCount), c.ring_pairs);
  EXPECT_EQ(b.Read(reg::kQueuesRingStride), reg::kRingStride);
  EXPECT_EQ(b.Read(reg::kQueuesRingOffset), reg::kRingBase - reg::kQueuesBase);
}

TYPED_TEST(CardCtrlTest, BlockListWalksFromIdToQueues) {
  auto& b = this->b();
  const std::map<uint32_t, std::pair<uint32_t, uint32_t>> expect = {
      {reg::kIdBase, {reg::kIdBlockType, reg::kIdBlockVersion}},
      {reg::kCtrlBase, {reg::kCtrlBlockType, reg::kCtrlBlockVersion}},
      {reg::kEvqBase, {reg::kEvqBlockType, reg::kEvqBlockVersion}},
      {reg::kSaBase, {reg::kSaBlockType, reg::kSaBlockVersion}},
      {reg::kQueuesBase, {reg::kQueuesBlockType, reg::kQueuesBlockVersion}}};
  std::vector<uint32_t> seen;
  uint32_t off = 0;
  do {
    ASSERT_LT(seen.size(), 8u) << "block list loops";
    ASSERT_LT(off, ::ipsec::card::kBarBytes);
    seen.push_back(off);
    ASSERT_TRUE(expect.count(off)) << "unexpected block at 0x" << std::hex << off;
    EXPECT_EQ(b.Read(off), expect.at(off).first);
    EXPECT_EQ(b.Read(off + 4), expect.at(off).second);
    off = b.Read(off + 8);
  } while (off != 0);
  EXPECT_EQ(seen.size(), expect.size());
}

TYPED_TEST(CardCtrlTest, RegistersStartAtHeaderResetValues) {
  auto& b = this->b();
  const Caps& c = this->kCaps;
  for (const auto& r : ::ipsec::card::kRegisters) {
    const bool param_dependent = r.offset < reg::kCtrlBase || r.offset == reg::kQueuesRingCount;
    if (param_dependent && !TypeParam::kDefaults) continue;  // checked against Caps above
    if (r.offset == reg::kCtrlStatus) continue;              // reset value shows RESET_BUSY
    const bool ring = r.offset >= reg::kRingBase;
    const uint32_t count = ring ? c.ring_pairs : r.count;
    for (uint32_t i = 0; i < count; ++i) {
      const uint32_t addr = ring ? r.offset + i * reg::kRingStride : r.offset + i * r.stride;
      EXPECT_EQ(b.Read(addr), r.reset) << r.name << "[" << i << "]";
    }
  }
  const uint32_t st = b.Read(reg::kCtrlStatus);
  EXPECT_EQ(field::kCtrlStatusReady.Get(st), 1u);
  EXPECT_EQ(field::kCtrlStatusResetBusy.Get(st), 0u);
}

TYPED_TEST(CardCtrlTest, UnmappedAddressesReadZeroAndIgnoreWrites) {
  auto& b = this->b();
  const Caps& c = this->kCaps;
  b.Write(reg::kCtrlScratch, 0x5a5aa5a5);
  std::vector<uint32_t> holes = {0x0034, 0x00fc, 0x012c, 0x01fc, 0x0224, 0x03fc, 0x041c,
                                 0x0454, 0x045c, 0x04e0, 0x0ffc, 0x1018, 0x103c, 0x2000, 0xfffc};
  holes.push_back(kRingReg(c.ring_pairs, 0));        // first ring pair beyond RING_PAIRS
  holes.push_back(kRingReg(c.ring_pairs - 1, 0x2c));  // beyond the last register of a ring
  holes.push_back(kRingReg(c.ring_pairs - 1, 0x3c));
  for (int i = 0; i < 16; ++i) holes.push_back(0x2000 + (b.rng()() % 0xe000 & ~3u));
  for (uint32_t a : holes) {
    b.Write(a, 0xffffffff);
    EXPECT_EQ(b.Read(a), 0u) << std::hex << a;
  }
  EXPECT_EQ(b.Read(reg::kCtrlScratch), 0x5a5aa5a5u);
  EXPECT_EQ(b.Read(reg::kCtrlIrqMask), 0u);
  EXPECT_EQ(b.Read(reg::kSaIndex), 0u);
  // Read-only registers ignore writes too.
  b.Write(reg::kIdType, 0);
  b.Write(reg::kCtrlStatus, 0xffffffff);
  b.Write(reg::kSaStatus, 0xffffffff);
  EXPECT_EQ(b.Read(reg::kIdType), reg::kIdBlockType);
  EXPECT_EQ(b.Read(reg::kSaStatus), 0u);
}

TYPED_TEST(CardCtrlTest, ScratchIsReadWriteWithByteStrobes) {
  auto& b = this->b();
  uint32_t model = 0;
  for (int i = 0; i < 40; ++i) {
    uint32_t v = static_cast<uint32_t>(b.rng()());
    uint8_t strb = (i < 10) ? 0xf : static_cast<uint8_t>(b.rng()() & 0xf);
    b.Write(reg::kCtrlScratch, v, strb);
    for (int j = 0; j < 4; ++j) {
      if ((strb >> j) & 1) model = (model & ~(0xffu << (8 * j))) | (v & (0xffu << (8 * j)));
    }
    EXPECT_EQ(b.Read(reg::kCtrlScratch), model);
  }
}

TYPED_TEST(CardCtrlTest, RandomBusTimingKeepsEveryAccessInOrder) {
  auto& b = this->b();
  // Heavy back-pressure and long valid delays over RW registers with a software model.
  b.max_delay = 6;
  b.ready_pct = 25;
  std::map<uint32_t, uint32_t> model;
  std::vector<std::pair<uint32_t, uint32_t>> rw = {{reg::kCtrlScratch, 0xffffffff}, {reg::kEvqBaseLo, 0xffffffff},
                                                   {reg::kEvqBaseHi, 0xffffffff},   {reg::kSaIndex, 0x00ffffff}};
  for (uint32_t k = 0; k < reg::kSaParamCount; ++k) rw.push_back({reg::kSaParam + 4 * k, 0xffffffff});
  rw.push_back({kRingReg(0, reg::kRingIrqMod), 0xffffffff});
  rw.push_back({kRingReg(this->kCaps.ring_pairs - 1, reg::kRingCqBaseHi), 0xffffffff});
  for (auto [a, m] : rw) model[a] = 0;
  for (int i = 0; i < 300; ++i) {
    auto [a, mask] = rw[b.rng()() % rw.size()];
    if (b.Chance(50)) {
      uint32_t v = static_cast<uint32_t>(b.rng()());
      b.Write(a, v);
      model[a] = v & mask;
    } else {
      EXPECT_EQ(b.Read(a), model[a]) << std::hex << a;
    }
  }
}

TYPED_TEST(CardCtrlTest, IrqStatusIsWriteOneToClearAndMaskGatesIrq) {
  auto& b = this->b();
  auto& m = b.m();
  EXPECT_EQ(b.Read(reg::kCtrlIrqStatus), 0u);
  m.event_written_i = 1;
  b.Step();
  m.fatal_i = 1;
  b.Step();
  m.events_lost_i = 1;
  b.Step();
  b.Command(SaCmd::kNop, 0);
  uint32_t expect = field::kCtrlIrqStatusEvent.Mask() | field::kCtrlIrqStatusFatal.Mask() |
                    field::kCtrlIrqStatusEventsLost.Mask() | field::kCtrlIrqStatusSaCmdDone.Mask();
  EXPECT_EQ(b.Read(reg::kCtrlIrqStatus), expect);
  EXPECT_EQ(field::kCtrlStatusFatal.Get(b.Read(reg::kCtrlStatus)), 1u);  // sticky
  EXPECT_FALSE(m.irq_o);
  b.Write(reg::kCtrlIrqMask, field::kCtrlIrqStatusFatal.Mask());
  b.Run(2);
  EXPECT_TRUE(m.irq_o);
  // A ring pair entering the error state raises QUEUE_ERROR once; CTRL_QUEUE_ERROR mirrors it.
  SetBits(m.ring_error_i, this->kCaps.ring_pairs - 1, 1, 1);
  b.Run(2);
  EXPECT_EQ(b.Read(reg::kCtrlQueueError), 1u << (this->kCaps.ring_pairs - 1));
  expect |= field::kCtrlIrqStatusQueueError.Mask();
  EXPECT_EQ(b.Read(reg::kCtrlIrqStatus), expect);
  // W1C clears only the bits written as 1.
  b.Write(reg::kCtrlIrqStatus, field::kCtrlIrqStatusFatal.Mask() | field::kCtrlIrqStatusEvent.Mask());
  expect &= ~(field::kCtrlIrqStatusFatal.Mask() | field::kCtrlIrqStatusEvent.Mask());
  EXPECT_EQ(b.Read(reg::kCtrlIrqStatus), expect);
  b.Run(2);
  EXPECT_FALSE(m.irq_o);
  b.Write(reg::kCtrlIrqMask, 0xffffffff);
  EXPECT_EQ(b.Read(reg::kCtrlIrqMask), 0x1fu);  // reserved bits read 0
  b.Run(2);
  EXPECT_TRUE(m.irq_o);
  b.Write(reg::kCtrlIrqStatus, 0xffffffff);
  EXPECT_EQ(b.Read(reg::kCtrlIrqStatus), 0u);  // the error level stays, no new edge
  b.Run(2);
  EXPECT_FALSE(m.irq_o);
  EXPECT_EQ(field::kCtrlStatusFatal.Get(b.Read(reg::kCtrlStatus)), 1u);  // only reset clears FATAL
}

TYPED_TEST(CardCtrlTest, SoftResetClearsRegistersAndWipesTable) {
  auto& b = this->b();
  auto& m = b.m();
  const uint32_t slot = 3;
  auto key = b.RandomKey();
  auto salt = b.RandomSalt();
  ASSERT_EQ(Bench<TypeParam>::Result(b.Install(slot, b.RandomParams(slot, Dir::kOutbound), key, salt)), SaResult::kOk);
  EXPECT_TRUE(b.Lookup(slot).sa_valid);
  b.Write(reg::kCtrlScratch, 0x12345678);
  b.Write(reg::kCtrlCtrl, field::kCtrlCtrlEnable.Mask());
  EXPECT_TRUE(m.enable_o);
  b.Write(reg::kCtrlIrqMask, 0x1f);
  b.Write(reg::kEvqBaseLo, 0x1000);
  b.Write(kRingReg(0, reg::kRingRqBaseLo), 0x4000);
  b.Write(kRingReg(0, reg::kRingCtrl), field::kRingCtrlEnable.Mask());
  b.StageKey(b.RandomKey(), b.RandomSalt());
  m.fatal_i = 1;
  b.Step();
  b.dp_rst_cycles = 0;
  b.Write(reg::kCtrlCtrl, field::kCtrlCtrlSoftReset.Mask() | field::kCtrlCtrlEnable.Mask());
  if (TypeParam::kDefaults) {  // 4096-cycle wipe: SOFT_RESET and RESET_BUSY read 1 meanwhile
    EXPECT_EQ(field::kCtrlCtrlSoftReset.Get(b.Read(reg::kCtrlCtrl)), 1u);
    uint32_t st = b.Read(reg::kCtrlStatus);
    EXPECT_EQ(field::kCtrlStatusResetBusy.Get(st), 1u);
    EXPECT_EQ(field::kCtrlStatusReady.Get(st), 0u);
  }
  b.WaitReady();
  EXPECT_GE(b.dp_rst_cycles, this->kCaps.num_sa);  // the datapath is held through the wipe
  EXPECT_EQ(b.Read(reg::kCtrlCtrl), 0u);
  EXPECT_FALSE(m.enable_o);
  EXPECT_EQ(b.Read(reg::kCtrlStatus), field::kCtrlStatusReady.Mask());
  EXPECT_EQ(b.Read(reg::kCtrlScratch), 0x12345678u);  // survives a soft reset
  EXPECT_EQ(b.Read(reg::kCtrlIrqMask), 0u);
  EXPECT_EQ(b.Read(reg::kCtrlIrqStatus), 0u);
  EXPECT_EQ(b.Read(reg::kEvqBaseLo), 0u);
  EXPECT_EQ(b.Read(kRingReg(0, reg::kRingRqBaseLo)), 0u);
  EXPECT_EQ(b.Read(kRingReg(0, reg::kRingCtrl)), 0u);
  EXPECT_EQ(Bits(m.ring_enable_o, 0, 1), 0u);
  // The slot is gone, key included; the staged key was wiped too (a write now installs zeros).
  LkRsp r = b.Lookup(slot);
  EXPECT_FALSE(r.sa_valid);
  EXPECT_EQ(r.key, (std::array<uint8_t, 32>{}));
  EXPECT_EQ(r.hpow, (std::array<uint8_t, 64>{})) << "GHASH key powers survive the reset wipe";
  EXPECT_EQ(Bench<TypeParam>::Result(b.Command(SaCmd::kReadParams, slot)), SaResult::kNotValid);
  EXPECT_EQ(b.ReadCounters(slot).seq, 0u);
}

TYPED_TEST(CardCtrlTest, InstallReadParamsAndKeysAreWriteOnly) {
  auto& b = this->b();
  const uint32_t n = this->kCaps.num_sa;
  std::map<uint32_t, std::tuple<SaParams, std::array<uint8_t, 32>, std::array<uint8_t, 4>>> installed;
  for (int i = 0; i < 12; ++i) {
    const uint32_t slot = (i == 0) ? n - 1 : static_cast<uint32_t>(b.rng()() % n);
    const Dir dir = b.Chance(50) ? Dir::kInbound : Dir::kOutbound;
    SaParams p = b.RandomParams(slot, dir);
    auto key = b.RandomKey();
    auto salt = b.RandomSalt();
    b.StageParams(p);
    b.StageKey(key, salt);
    EXPECT_TRUE(b.KeyRegistersReadZero()) << "staged key readable";
    uint32_t st = b.Command(SaCmd::kWrite, slot);
    ASSERT_EQ(Bench<TypeParam>::Result(st), SaResult::kOk);
    EXPECT_EQ(field::kSaStatusValid.Get(st), 1u);
    EXPECT_TRUE(b.KeyRegistersReadZero());
    // sa_prep initialised the slot's replay window (inbound) or cleared it (outbound).
    ASSERT_FALSE(b.inits.empty());
    EXPECT_EQ(b.inits.back().sa, slot);
    EXPECT_EQ(b.inits.back().window, dir == Dir::kInbound ? p.replay_window : 0u);
    EXPECT_EQ(b.inits.back().esn, p.esn);
    installed[slot] = {p, key, salt};
  }
  for (auto& [slot, v] : installed) {
    auto& [p, key, salt] = v;
    // READ_PARAMS overwrites the staging registers with the slot's record, never with keys.
    b.StageParams(SaParams{});
    uint32_t st = b.Command(SaCmd::kReadParams, slot);
    ASSERT_EQ(Bench<TypeParam>::Result(st), SaResult::kOk);
    EXPECT_EQ(field::kSaStatusValid.Get(st), 1u);
    SaParams::Bytes got = b.ReadParamRegs();
    EXPECT_EQ(SaParams::Decode(got), p) << "slot " << slot;
    EXPECT_EQ(got, p.Encode());
    EXPECT_TRUE(b.KeyRegistersReadZero());
    // The datapath port returns the exact key, salt and record.
    LkRsp r = b.Lookup(slot);
    EXPECT_TRUE(r.sa_valid);
    EXPECT_FALSE(r.hard_expired);
    EXPECT_EQ(r.index, slot);
    EXPECT_EQ(r.key, key);
    EXPECT_EQ(r.salt, salt);
    EXPECT_EQ(r.params, p.Encode());
    // sa_prep: the GHASH key powers of this key (OpenSSL + SP 800-38D Algorithm 1).
    EXPECT_EQ(r.hpow, HPowers(key, p.suite == Suite::kAesGcm256)) << "slot " << slot;
  }
  // A slot beyond the table is refused on both sides.
  EXPECT_FALSE(b.Lookup(n).sa_valid);
  EXPECT_EQ(b.Lookup(n).key, (std::array<uint8_t, 32>{}));
}

TYPED_TEST(CardCtrlTest, DeleteWipesKeyMaterialAndInvalidates) {
  auto& b = this->b();
  const uint32_t slot = 5;
  auto key = b.RandomKey();
  auto salt = b.RandomSalt();
  ASSERT_EQ(Bench<TypeParam>::Result(b.Install(slot, b.RandomParams(slot, Dir::kOutbound), key, salt)), SaResult::kOk);
  ASSERT_EQ(b.Lookup(slot).key, key);
  b.cnt_q.push_back({slot, 0, 100, 0});
  b.Drain();
  uint32_t st = b.Command(SaCmd::kDelete, slot);
  EXPECT_EQ(Bench<TypeParam>::Result(st), SaResult::kOk);
  EXPECT_EQ(field::kSaStatusValid.Get(st), 0u);
  LkRsp r = b.Lookup(slot);
  EXPECT_FALSE(r.sa_valid);
  EXPECT_EQ(r.key, (std::array<uint8_t, 32>{}));
  EXPECT_EQ(r.salt, (std::array<uint8_t, 4>{}));
  EXPECT_EQ(r.params, SaParams::Bytes{});
  EXPECT_EQ(r.hpow, (std::array<uint8_t, 64>{})) << "GHASH key powers survive delete";
  ASSERT_FALSE(b.inits.empty());
  EXPECT_EQ(b.inits.back().sa, slot);
  EXPECT_EQ(b.inits.back().window, 0u) << "delete leaves a replay window behind";
  EXPECT_EQ(Bench<TypeParam>::Result(b.Command(SaCmd::kReadParams, slot)), SaResult::kNotValid);
  Counters c = b.ReadCounters(slot);
  EXPECT_EQ(c.packets, 0u);
  EXPECT_EQ(c.bytes, 0u);
  // Idempotent.
  EXPECT_EQ(Bench<TypeParam>::Result(b.Command(SaCmd::kDelete, slot)), SaResult::kOk);
  // No sequence numbers for a deleted slot.
  SeqRsp s = b.AllocSeq(slot);
  EXPECT_FALSE(s.ok);
  EXPECT_FALSE(s.exhausted);
}

TYPED_TEST(CardCtrlTest, RefusedCommandsReportTheirResultAndStillWipeStagedKeys) {
  auto& b = this->b();
  const Caps& c = this->kCaps;
  using B = Bench<TypeParam>;
  const uint32_t slot = 2;
  SaParams good = b.RandomParams(slot, Dir::kOutbound);
  good.esn = false;
  good.initial_seq = 7;
  // bad_index
  b.StageParams(good);
  b.StageKey(b.RandomKey(), b.RandomSalt());
  EXPECT_EQ(B::Result(b.Command(SaCmd::kWrite, c.num_sa)), SaResult::kBadIndex);
  EXPECT_EQ(B::Result(b.Command(SaCmd::kReadCounters, 0xffffff)), SaResult::kBadIndex);
  // The refused write wiped the staged key: a write now installs an all-zero key.
  EXPECT_EQ(B::Result(b.Command(SaCmd::kWrite, slot)), SaResult::kOk);
  EXPECT_EQ(b.Lookup(slot).key, (std::array<uint8_t, 32>{}));
  EXPECT_EQ(b.Lookup(slot).salt, (std::array<uint8_t, 4>{}));

  auto expect_result = [&](const SaParams& p, SaResult want, const char* what) {
    b.StageParams(p);
    b.StageKey(b.RandomKey(), b.RandomSalt());
    uint32_t st = b.Command(SaCmd::kWrite, 9);
    EXPECT_EQ(B::Result(st), want) << what;
    EXPECT_EQ(field::kSaStatusValid.Get(st), 0u) << what;
    EXPECT_FALSE(b.Lookup(9).sa_valid) << what;
  };
  SaParams p = b.RandomParams(9, Dir::kInbound);
  p.spi += 1;  // slot != SPI mod CAP_SA
  expect_result(p, SaResult::kBadParams, "inbound SPI in the wrong slot");
  p = b.RandomParams(9, Dir::kInbound);
  p.replay_window = c.max_replay + 1;
  expect_result(p, SaResult::kBadParams, "replay window too large");
  p = b.RandomParams(9, Dir::kOutbound);
  p.initial_seq = 0;
  expect_result(p, SaResult::kBadParams, "initial sequence 0");
  p = b.RandomParams(9, Dir::kOutbound);
  p.suite = Suite::kNone;
  expect_result(p, SaResult::kBadParams, "suite none");
  p = b.RandomParams(9, Dir::kOutbound);
  p.mode = SaMode::kTunnel;
  p.tunnel_dst = {};
  expect_result(p, SaResult::kBadParams, "tunnel without a destination");
  p = b.RandomParams(9, Dir::kOutbound);
  p.soft_packets = 10;
  p.hard_packets = 5;
  expect_result(p, SaResult::kBadParams, "soft above hard");
  SaParams::Bytes raw = b.RandomParams(9, Dir::kOutbound).Encode();
  raw[9] = std::byte{0x80};  // reserved
  b.StageParamBytes(raw);
  EXPECT_EQ(B::Result(b.Command(SaCmd::kWrite, 9)), SaResult::kBadParams);
  p = b.RandomParams(9, Dir::kOutbound);
  p.suite = Suite::kChacha20Poly1305;  // not in SUITES
  expect_result(p, SaResult::kUnsupported, "suite not implemented");
  if (!c.Feature(field::kIdFeaturesEsn)) {
    p = b.RandomParams(9, Dir::kOutbound);
    p.esn = true;
    expect_result(p, SaResult::kUnsupported, "ESN without the feature");
  }
  // Unknown command value.
  b.Write(reg::kSaCmd, 0xf);
  for (int i = 0; i < 100 && field::kSaStatusBusy.Get(b.Read(reg::kSaStatus)); ++i) {
  }
  EXPECT_EQ(B::Result(b.Read(reg::kSaStatus)), SaResult::kBadParams);
}

TYPED_TEST(CardCtrlTest, CountersFollowDatapathUpdates) {
  auto& b = this->b();
  using B = Bench<TypeParam>;
  const std::vector<uint32_t> slots = {1, 4, 7};
  struct Model {
    uint64_t c[5] = {};
    uint64_t hi_seq = 0;
    Dir dir;
  };
  std::map<uint32_t, Model> model;
  for (uint32_t s : slots) {
    Dir dir = s == 4 ? Dir::kInbound : Dir::kOutbound;
    SaParams p = b.RandomParams(s, dir);
    p.soft_bytes = p.hard_bytes = p.soft_packets = p.hard_packets = 0;
    ASSERT_EQ(B::Result(b.Install(s, p, b.RandomKey(), b.RandomSalt())), SaResult::kOk);
    model[s].dir = dir;
  }
  for (int round = 0; round < 3; ++round) {
    b.dp_pct = round == 0 ? 100 : 50;  // round 0: back to back, same slot repeatedly
    for (int i = 0; i < 400; ++i) {
      uint32_t s = (round == 0 && i % 8 < 6) ? slots[0] : slots[b.rng()() % slots.size()];
      CntUpd u{s, static_cast<uint8_t>(b.rng()() % 4), static_cast<uint16_t>(b.rng()()), b.rng()() >> 20};
      b.cnt_q.push_back(u);
      Model& mm = model[s];
      if (u.kind == 0) {
        mm.c[0] += 1;
        mm.c[1] += u.bytes;
        if (mm.dir == Dir::kInbound) mm.hi_seq = std::max(mm.hi_seq, u.seq);
      } else {
        mm.c[u.kind + 1] += 1;
      }
    }
    b.Drain();
    for (uint32_t s : slots) {
      Counters c = b.ReadCounters(s);
      const Model& mm = model[s];
      EXPECT_EQ(c.packets, mm.c[0]) << s;
      EXPECT_EQ(c.bytes, mm.c[1]) << s;
      EXPECT_EQ(c.auth, mm.c[2]) << s;
      EXPECT_EQ(c.replay, mm.c[3]) << s;
      EXPECT_EQ(c.other, mm.c[4]) << s;
      if (mm.dir == Dir::kInbound) EXPECT_EQ(c.seq, mm.hi_seq) << s;
      EXPECT_EQ(c.state, 0u);
    }
  }
  EXPECT_TRUE(b.events.empty());
}

TYPED_TEST(CardCtrlTest, ReadCountersIsOneConsistentSnapshotUnderTraffic) {
  auto& b = this->b();
  using B = Bench<TypeParam>;
  const uint32_t slot = 6;
  SaParams p = b.RandomParams(slot, Dir::kOutbound);
  p.soft_bytes = p.hard_bytes = p.soft_packets = p.hard_packets = 0;
  ASSERT_EQ(B::Result(b.Install(slot, p, b.RandomKey(), b.RandomSalt())), SaResult::kOk);
  b.dp_pct = 100;
  for (int i = 0; i < 3000; ++i) b.cnt_q.push_back({slot, 0, 100, 0});
  uint64_t last = 0;
  for (int i = 0; i < 10 && !b.cnt_q.empty(); ++i) {
    Counters c = b.ReadCounters(slot);
    EXPECT_EQ(c.bytes, 100 * c.packets);  // packets and bytes from the same instant
    EXPECT_GE(c.packets, last);
    last = c.packets;
  }
  EXPECT_GT(last, 0u);
  b.Drain();
  EXPECT_EQ(b.ReadCounters(slot).packets, 3000u);
}

TYPED_TEST(CardCtrlTest, LifetimeEventsFireOnceAtTheirThresholds) {
  auto& b = this->b();
  using B = Bench<TypeParam>;
  // Slot 1: packet limits soft 5, hard 8 (exact). Slot 2 (inbound): byte limits soft 1000,
  // hard 1500, crossed by at most one packet.
  SaParams p1 = b.RandomParams(1, Dir::kOutbound);
  p1.soft_bytes = p1.hard_bytes = 0;
  p1.soft_packets = 5;
  p1.hard_packets = 8;
  SaParams p2 = b.RandomParams(2, Dir::kInbound);
  p2.soft_packets = p2.hard_packets = 0;
  p2.soft_bytes = 1000;
  p2.hard_bytes = 1500;
  ASSERT_EQ(B::Result(b.Install(1, p1, b.RandomKey(), b.RandomSalt())), SaResult::kOk);
  ASSERT_EQ(B::Result(b.Install(2, p2, b.RandomKey(), b.RandomSalt())), SaResult::kOk);
  b.ev_ready_pct = 20;
  std::vector<Event> expect;
  uint64_t bytes1 = 0, bytes2 = 0;
  for (int i = 1; i <= 12; ++i) {
    uint16_t len = 60 + i;
    b.cnt_q.push_back({1, 0, len, 0});
    b.cnt_q.push_back({1, 3, 0, 0});  // drops never count toward lifetimes
    bytes1 += len;
    if (i == 5) expect.push_back({1, 1, false, bytes1});
    if (i == 8) expect.push_back({2, 1, false, bytes1});
  }
  bool soft = false, hard = false;
  for (int i = 0; i < 8; ++i) {
    uint16_t len = 300;
    b.cnt_q.push_back({2, 0, len, static_cast<uint64_t>(i + 1)});
    bytes2 += len;
    if (!soft && bytes2 >= 1000) {
      soft = true;
      expect.push_back({1, 2, true, bytes2});
    }
    if (!hard && bytes2 >= 1500) {
      hard = true;
      expect.push_back({2, 2, true, bytes2});
    }
  }
  b.Drain();
  // Order across slots depends on the interleaving; per slot it is soft, then hard.
  auto sorted = [](std::vector<Event> v) {
    std::stable_sort(v.begin(), v.end(), [](const Event& a, const Event& c) { return a.index < c.index; });
    return v;
  };
  EXPECT_EQ(sorted(b.events), sorted(expect));
  EXPECT_TRUE(b.Lookup(1).hard_expired);
  EXPECT_TRUE(b.Lookup(2).hard_expired);
  Counters c1 = b.ReadCounters(1);
  EXPECT_EQ(c1.state, field::kSaStateSoftExpired.Mask() | field::kSaStateHardExpired.Mask());
  EXPECT_EQ(c1.packets, 12u);
  EXPECT_EQ(c1.other, 12u);
  // Re-installing the slot starts its lifetime over.
  ASSERT_EQ(B::Result(b.Install(1, p1, b.RandomKey(), b.RandomSalt())), SaResult::kOk);
  EXPECT_FALSE(b.Lookup(1).hard_expired);
  EXPECT_EQ(b.ReadCounters(1).state, 0u);
}

TYPED_TEST(CardCtrlTest, SequenceNumbersAreMonotonicAndStopAtOverflow) {
  auto& b = this->b();
  using B = Bench<TypeParam>;
  const Caps& c = this->kCaps;
  auto install_out = [&](uint32_t slot, uint64_t initial, bool esn) {
    SaParams p = b.RandomParams(slot, Dir::kOutbound);
    p.esn = esn;
    p.initial_seq = initial;
    ASSERT_EQ(B::Result(b.Install(slot, p, b.RandomKey(), b.RandomSalt())), SaResult::kOk);
  };
  install_out(1, 1, false);
  install_out(2, 0xfffffffdull, false);
  // Back-to-back allocations on two slots.
  b.dp_pct = 100;
  for (int i = 0; i < 40; ++i) b.seq_q.push_back(i % 3 == 2 ? 2 : 1);
  b.Drain();
  uint64_t next1 = 1, next2 = 0xfffffffdull;
  for (const SeqRsp& r : b.seq_rsp) {
    if (r.index == 1) {
      EXPECT_TRUE(r.ok);
      EXPECT_EQ(r.seq, next1++);
    } else {
      if (next2 <= 0xffffffffull) {
        EXPECT_TRUE(r.ok);
        EXPECT_EQ(r.seq, next2++);
      } else {
        EXPECT_FALSE(r.ok);  // RFC 4303 section 3.3.3: no cycling
        EXPECT_TRUE(r.exhausted);
      }
    }
  }
  ASSERT_EQ(b.events.size(), 1u);
  EXPECT_EQ(b.events[0], (Event{3, 2, false, 0xffffffffull}));
  Counters c2 = b.ReadCounters(2);
  EXPECT_EQ(c2.state, field::kSaStateSeqExhausted.Mask());
  Counters c1 = b.ReadCounters(1);
  EXPECT_EQ(c1.seq, next1);  // outbound SA_SEQ: the next number
  EXPECT_EQ(c1.state, 0u);
  // Inbound SAs get no sequence numbers.
  SaParams in = b.RandomParams(3, Dir::kInbound);
  ASSERT_EQ(B::Result(b.Install(3, in, b.RandomKey(), b.RandomSalt())), SaResult::kOk);
  SeqRsp r = b.AllocSeq(3);
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.exhausted);
  if (c.Feature(field::kIdFeaturesEsn)) {
    // ESN: 2^32 is just another number; the space ends at 2^64-1.
    install_out(4, 0xfffffffeull, true);
    EXPECT_EQ(b.AllocSeq(4).seq, 0xfffffffeull);
    EXPECT_EQ(b.AllocSeq(4).seq, 0xffffffffull);
    EXPECT_EQ(b.AllocSeq(4).seq, 0x100000000ull);
    install_out(5, 0xfffffffffffffffeull, true);
    b.events.clear();
    EXPECT_EQ(b.AllocSeq(5).seq, 0xfffffffffffffffeull);
    SeqRsp last = b.AllocSeq(5);
    EXPECT_TRUE(last.ok);
    EXPECT_EQ(last.seq, 0xffffffffffffffffull);
    SeqRsp after = b.AllocSeq(5);
    EXPECT_FALSE(after.ok);
    EXPECT_TRUE(after.exhausted);
    b.Drain();
    ASSERT_EQ(b.events.size(), 1u);
    EXPECT_EQ(b.events[0], (Event{3, 5, false, 0xffffffffffffffffull}));
  } else {
    SaParams p = b.RandomParams(4, Dir::kOutbound);
    p.esn = false;
    p.initial_seq = 0x100000000ull;  // needs ESN
    b.StageParams(p);
    EXPECT_EQ(B::Result(b.Command(SaCmd::kWrite, 4)), SaResult::kBadParams);
  }
}

TYPED_TEST(CardCtrlTest, RingRegistersDrivePortsDoorbellsAndArm) {
  auto& b = this->b();
  auto& m = b.m();
  const uint32_t rings = this->kCaps.ring_pairs;
  for (uint32_t r = 0; r < rings; ++r) {
    const uint64_t rq = (b.rng()() & ~uint64_t{63}), cq = (b.rng()() & ~uint64_t{63});
    b.Write(kRingReg(r, reg::kRingRqBaseLo), static_cast<uint32_t>(rq));
    b.Write(kRingReg(r, reg::kRingRqBaseHi), static_cast<uint32_t>(rq >> 32));
    b.Write(kRingReg(r, reg::kRingCqBaseLo), static_cast<uint32_t>(cq));
    b.Write(kRingReg(r, reg::kRingCqBaseHi), static_cast<uint32_t>(cq >> 32));
    b.Write(kRingReg(r, reg::kRingIrqMod), (25u << 16) | 7u);
    b.Write(kRingReg(r, reg::kRingRqProd), 0x55);
    b.Write(kRingReg(r, reg::kRingCqCons), 0x66);
    uint32_t ctrl = field::kRingCtrlRqSizeLog2.Put(0, 8 + r % 3);
    ctrl = field::kRingCtrlCqSizeLog2.Put(ctrl, 9 + r % 3);
    b.Write(kRingReg(r, reg::kRingCtrl), ctrl | field::kRingCtrlIrqEnable.Mask() | field::kRingCtrlEnable.Mask());
    b.Run(2);
    EXPECT_EQ(b.Read(kRingReg(r, reg::kRingCtrl)), ctrl | 3u);
    EXPECT_EQ(Bits(m.ring_enable_o, r, 1), 1u);
    EXPECT_EQ(Bits(m.ring_irq_enable_o, r, 1), 1u);
    EXPECT_EQ(Bits(m.ring_rq_size_log2_o, 5 * r, 5), 8 + r % 3);
    EXPECT_EQ(Bits(m.ring_cq_size_log2_o, 5 * r, 5), 9 + r % 3);
    EXPECT_EQ(Bits(m.ring_rq_base_o, 64 * r, 64), rq);
    EXPECT_EQ(Bits(m.ring_cq_base_o, 64 * r, 64), cq);
    EXPECT_EQ(Bits(m.ring_irq_mod_count_o, 16 * r, 16), 7u);
    EXPECT_EQ(Bits(m.ring_irq_mod_time_us_o, 16 * r, 16), 25u);
    // The 0 to 1 edge of ENABLE zeroed the host's indices.
    EXPECT_EQ(b.Read(kRingReg(r, reg::kRingRqProd)), 0u);
    EXPECT_EQ(b.Read(kRingReg(r, reg::kRingCqCons)), 0u);
    // Bases, sizes and IRQ_MOD are frozen while enabled.
    b.Write(kRingReg(r, reg::kRingRqBaseLo), 0xdead0000);
    b.Write(kRingReg(r, reg::kRingIrqMod), 0);
    b.Write(kRingReg(r, reg::kRingCtrl), field::kRingCtrlEnable.Mask());
    EXPECT_EQ(b.Read(kRingReg(r, reg::kRingRqBaseLo)), static_cast<uint32_t>(rq));
    EXPECT_EQ(b.Read(kRingReg(r, reg::kRingIrqMod)), (25u << 16) | 7u);
    EXPECT_EQ(b.Read(kRingReg(r, reg::kRingCtrl)), ctrl | 1u);
    // Doorbell: one pulse per RQ_PROD write, with the new index already on the port.
    b.doorbells.clear();
    b.Write(kRingReg(r, reg::kRingRqProd), 0x1234);
    b.Write(kRingReg(r, reg::kRingRqProd), 0xfff0);
    b.Run(2);
    ASSERT_EQ(b.doorbells.size(), 2u);
    EXPECT_EQ(b.doorbells[0], (std::pair<uint32_t, uint64_t>{r, 0x1234}));
    EXPECT_EQ(b.doorbells[1], (std::pair<uint32_t, uint64_t>{r, 0xfff0}));
    // CQ_CONS: ARM is a write-only pulse.
    b.arms.clear();
    b.Write(kRingReg(r, reg::kRingCqCons), 0x77);
    b.Write(kRingReg(r, reg::kRingCqCons), field::kRingCqConsArm.Mask() | 0x78);
    b.Run(2);
    EXPECT_EQ(b.arms, std::vector<uint32_t>{r});
    EXPECT_EQ(b.Read(kRingReg(r, reg::kRingCqCons)), 0x78u);
    EXPECT_EQ(Bits(m.ring_cq_cons_o, 16 * r, 16), 0x78u);
    // Engine-owned values read back through the ring's registers.
    SetBits(m.ring_rq_cons_i, 16 * r, 16, 0x1000 + r);
    SetBits(m.ring_cq_prod_i, 16 * r, 16, 0x2000 + r);
    SetBits(m.ring_active_i, r, 1, 1);
    SetBits(m.ring_busy_i, r, 1, 1);
    SetBits(m.ring_error_code_i, 8 * r, 8, 3);
    EXPECT_EQ(b.Read(kRingReg(r, reg::kRingRqCons)), 0x1000 + r);
    EXPECT_EQ(b.Read(kRingReg(r, reg::kRingCqProd)), 0x2000 + r);
    uint32_t st = b.Read(kRingReg(r, reg::kRingStatus));
    EXPECT_EQ(field::kRingStatusActive.Get(st), 1u);
    EXPECT_EQ(field::kRingStatusBusy.Get(st), 1u);
    EXPECT_EQ(field::kRingStatusError.Get(st), 0u);
    EXPECT_EQ(field::kRingStatusErrorCode.Get(st), 3u);
  }
  // Ring pairs do not alias: each kept its own values.
  for (uint32_t r = 0; r < rings; ++r) EXPECT_EQ(b.Read(kRingReg(r, reg::kRingRqProd)), 0xfff0u);
}

TYPED_TEST(CardCtrlTest, EventRingRegisters) {
  auto& b = this->b();
  auto& m = b.m();
  b.Write(reg::kEvqBaseLo, 0xabcd0040);
  b.Write(reg::kEvqBaseHi, 0x00000012);
  b.Write(reg::kEvqCons, 0x33);
  b.Write(reg::kEvqCtrl, field::kEvqCtrlSizeLog2.Put(0, 6) | field::kEvqCtrlEnable.Mask() | field::kEvqCtrlIrqEnable.Mask());
  b.Run(2);
  EXPECT_EQ(m.evq_base_o, 0x12abcd0040ull);
  EXPECT_EQ(m.evq_size_log2_o, 6u);
  EXPECT_TRUE(m.evq_enable_o);
  EXPECT_TRUE(m.evq_irq_enable_o);
  EXPECT_EQ(b.Read(reg::kEvqCons), 0u);  // the enable edge restarts the index
  b.Write(reg::kEvqCons, 0x44);
  b.Run(2);
  EXPECT_EQ(m.evq_cons_o, 0x44u);
  b.Write(reg::kEvqBaseLo, 0);  // frozen while enabled
  EXPECT_EQ(b.Read(reg::kEvqBaseLo), 0xabcd0040u);
  m.evq_prod_i = 0x99;
  m.evq_lost_i = 17;
  EXPECT_EQ(b.Read(reg::kEvqProd), 0x99u);
  EXPECT_EQ(b.Read(reg::kEvqLost), 17u);
}

TYPED_TEST(CardCtrlTest, UnmatchedCounterLatchesHighHalfOnLowRead) {
  auto& b = this->b();
  auto& m = b.m();
  for (int i = 0; i < 37; ++i) {
    m.unmatched_inc_i = 1;
    b.Step();
    b.Step();
  }
  EXPECT_EQ(b.Read(reg::kCtrlUnmatchedLo), 37u);
  EXPECT_EQ(b.Read(reg::kCtrlUnmatchedHi), 0u);
}

}  // namespace
}  // namespace ipsec::hw::card
