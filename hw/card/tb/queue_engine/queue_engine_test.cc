// Verilated bench for queue_engine (hw/card/rtl/queue_engine.sv) inside queue_engine_tb.sv:
// card_ctrl's real register block in front, the sim/ Harness behind (registers over AXI4-Lite,
// host memory through Axi4MemorySlave with random latency and back-pressure, error injection).
// The bench plays the host driver (rings in HostMemory, doorbells, CQ_CONS, phase polling, all
// through driver/include/ipsec_accel/card_regs.h) and the ESP engine (takes descriptors with
// random back-pressure, returns completions per ring in order after random delays) and injects SA
// events. Parameters of the Verilated top: 3 ring pairs, MaxRingLog2 8, FetchBurst 4, 10 MHz
// (so IRQ_MOD.TIME_US counts 10 cycles per microsecond).
//
// Engine-side ports are driven from the predicate of Harness::RunUntil, which runs before every
// cycle: inputs are set, the model is evaluated with the clock still high (no edge) so the
// combinational READYs reflect them, and a handshake seen then is the one the rising edge takes.
// Before every register access the engine side is quiesced (no valid, no ready), so nothing moves
// while the AXI4-Lite master steps the clock on its own.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "Vqueue_engine_tb.h"
#include "ipsec_accel/card_regs.h"
#include "sim/harness.h"

namespace ipsec::hw::card {
namespace {

namespace reg = ::ipsec::card::reg;
namespace field = ::ipsec::card::field;
using ::ipsec::card::Cpl;
using ::ipsec::card::CplStatus;
using ::ipsec::card::Dir;
using ::ipsec::card::Event;
using ::ipsec::card::EventType;
using ::ipsec::card::ExpectedPhase;
using ::ipsec::card::QueueError;
using ::ipsec::card::ReqDesc;
using ::ipsec::card::RingSlot;
using ::ipsec::sim::AxiDir;
using ::ipsec::sim::AxiResp;
using ::ipsec::sim::DmaRegion;
using ::ipsec::sim::ErrorRule;
using ::ipsec::sim::Harness;
using ::ipsec::sim::HarnessOptions;

constexpr uint32_t kRings = 3;
constexpr uint32_t kMaxLog2 = 8;
constexpr uint32_t kCyclesPerUs = 10;

using Top = Vqueue_engine_tb;

template <size_t N, typename W>
std::array<std::byte, N> FromWide(const W& w) {
  std::array<std::byte, N> b{};
  for (size_t i = 0; i < N; ++i) b[i] = static_cast<std::byte>((w[i / 4] >> (8 * (i % 4))) & 0xff);
  return b;
}
template <size_t N, typename W>
void ToWide(const std::array<std::byte, N>& b, W& w) {
  for (size_t i = 0; i < N / 4; ++i) {
    w[i] = 0;
    for (size_t k = 0; k < 4; ++k) w[i] |= static_cast<uint32_t>(b[4 * i + k]) << (8 * k);
  }
}

struct HostRing {
  DmaRegion rq_mem, cq_mem;
  uint64_t rq_base = 0, cq_base = 0;
  uint32_t rq_log2 = 4, cq_log2 = 4;
  uint16_t prod = 0;     // host's request producer
  uint16_t cq_cons = 0;  // host's completion consumer
  std::map<uint16_t, ReqDesc> posted;  // free-running index -> descriptor, until completed
  uint64_t completed = 0;
};

struct Handed {
  uint32_t ring;
  uint16_t index;
  ReqDesc desc;
  uint64_t ready_cycle;
};

class Bench {
 public:
  explicit Bench(uint64_t seed, bool random_timing = true) : rng_(seed) {
    HarnessOptions o;
    o.slave.seed = seed;
    if (random_timing) {
      o.slave.read_latency_cycles = 12;
      o.slave.write_latency_cycles = 6;
      o.slave.latency_jitter_cycles = 10;
      o.slave.ar_stall = 0.2;
      o.slave.aw_stall = 0.2;
      o.slave.w_stall = 0.2;
      o.slave.r_idle = 0.2;
      o.slave.b_idle = 0.2;
    }
    h_ = std::make_unique<Harness<Top>>(o);
    Quiesce();
    EXPECT_TRUE(WaitReg(reg::kCtrlStatus, field::kCtrlStatusReady.Mask(), field::kCtrlStatusReady.Mask()));
    W(reg::kCtrlIrqMask, 0x1f);
    W(reg::kCtrlCtrl, field::kCtrlCtrlEnable.Mask());
  }

  Harness<Top>& h() { return *h_; }
  Top& m() { return h_->model(); }
  HostRing& ring(uint32_t r) { return rings_[r]; }

  // ---- Registers (engine side paused) ----
  void W(uint32_t addr, uint32_t v) {
    Quiesce();
    ASSERT_TRUE(h_->lite().Write32(addr, v).ok()) << std::hex << addr;
  }
  uint32_t R(uint32_t addr) {
    Quiesce();
    auto v = h_->lite().Read32(addr);
    EXPECT_TRUE(v.ok()) << std::hex << addr;
    return v.ok() ? *v : 0xdeadbeef;
  }
  uint32_t RR(uint32_t r, uint32_t off) { return R(reg::Ring(r, off)); }
  void WR(uint32_t r, uint32_t off, uint32_t v) { W(reg::Ring(r, off), v); }
  bool WaitReg(uint32_t addr, uint32_t mask, uint32_t want, int tries = 2000) {
    for (int i = 0; i < tries; ++i) {
      if ((R(addr) & mask) == want) return true;
      Run(20);
    }
    return false;
  }

  // ---- Host rings ----
  // Places the request ring at the end of its page-aligned allocation, so that a fetch burst that
  // ran past the ring's end would hit the guard page (DECERR) instead of passing unnoticed.
  void SetupRing(uint32_t r, uint32_t rq_log2, uint32_t cq_log2, bool irq_enable = false, uint32_t irq_mod = 0,
                 uint64_t rq_misalign = 0) {
    HostRing& hr = rings_[r];
    hr = HostRing{};
    hr.rq_log2 = rq_log2;
    hr.cq_log2 = cq_log2;
    const uint64_t rq_bytes = 32ull << rq_log2, cq_bytes = 32ull << cq_log2;
    const uint64_t rq_alloc = (rq_bytes + 4095) & ~4095ull;
    hr.rq_mem = h_->memory().Alloc(rq_alloc).value();
    hr.cq_mem = h_->memory().Alloc(cq_bytes).value();
    hr.rq_base = hr.rq_mem.iova + rq_alloc - rq_bytes + rq_misalign;
    hr.cq_base = hr.cq_mem.iova;
    auto cq = h_->memory().Map(hr.cq_base, cq_bytes).value();
    std::memset(cq.data(), 0, cq.size());
    WR(r, reg::kRingCtrl, 0);
    WR(r, reg::kRingRqBaseLo, static_cast<uint32_t>(hr.rq_base));
    WR(r, reg::kRingRqBaseHi, static_cast<uint32_t>(hr.rq_base >> 32));
    WR(r, reg::kRingCqBaseLo, static_cast<uint32_t>(hr.cq_base));
    WR(r, reg::kRingCqBaseHi, static_cast<uint32_t>(hr.cq_base >> 32));
    WR(r, reg::kRingIrqMod, irq_mod);
    Enable(r, irq_enable);
  }
  void Enable(uint32_t r, bool irq_enable = false) {
    HostRing& hr = rings_[r];
    uint32_t ctrl = field::kRingCtrlRqSizeLog2.Put(0, hr.rq_log2);
    ctrl = field::kRingCtrlCqSizeLog2.Put(ctrl, hr.cq_log2);
    ctrl = field::kRingCtrlIrqEnable.Put(ctrl, irq_enable ? 1 : 0);
    WR(r, reg::kRingCtrl, ctrl);  // sizes first, while disabled
    WR(r, reg::kRingCtrl, field::kRingCtrlEnable.Put(ctrl, 1));
  }
  // Disable, wait !BUSY, rezero the completion ring and re-enable (the contract's recovery).
  void Recover(uint32_t r) {
    HostRing& hr = rings_[r];
    const uint32_t ctrl = RR(r, reg::kRingCtrl);
    WR(r, reg::kRingCtrl, field::kRingCtrlEnable.Put(ctrl, 0));
    for (int i = 0; i < 2000 && (RR(r, reg::kRingStatus) & field::kRingStatusBusy.Mask()) != 0; ++i) Run(20);
    EXPECT_EQ(RR(r, reg::kRingStatus) & field::kRingStatusBusy.Mask(), 0u);
    EXPECT_EQ(RR(r, reg::kRingStatus) & field::kRingStatusError.Mask(), 0u) << "ERROR clears on ENABLE 1 to 0";
    // Requests the engine still holds for this ring complete into the old pass; drop them.
    auto cq = h_->memory().Map(hr.cq_base, 32ull << hr.cq_log2).value();
    std::memset(cq.data(), 0, cq.size());
    hr.prod = hr.cq_cons = 0;
    hr.posted.clear();
    WR(r, reg::kRingCtrl, field::kRingCtrlEnable.Put(ctrl, 1));
  }

  ReqDesc MakeDesc(uint32_t r, uint16_t index, bool irq = false) {
    ReqDesc d;
    d.buf_addr = rng_();
    d.buf_len = static_cast<uint16_t>(rng_());
    d.pkt_offset = static_cast<uint16_t>(rng_());
    d.pkt_len = static_cast<uint16_t>(rng_());
    d.dir = (rng_() & 1) ? Dir::kInbound : Dir::kOutbound;
    d.sa_valid = (rng_() & 1) != 0;
    d.irq = irq;
    d.sa_index = static_cast<uint32_t>(rng_() & 0xffffff);
    d.user_data = (uint64_t{r} << 56) | (uint64_t{serial_++} << 16) | index;
    return d;
  }
  // Writes n descriptors and rings the doorbell once.
  void Post(uint32_t r, uint32_t n, bool irq = false) {
    HostRing& hr = rings_[r];
    for (uint32_t k = 0; k < n; ++k) {
      const uint16_t idx = hr.prod;
      ReqDesc d = MakeDesc(r, idx, irq);
      const uint64_t a = hr.rq_base + 32ull * RingSlot(idx, hr.rq_log2);
      auto s = h_->memory().Map(a, 32).value();
      const auto b = d.Encode();
      std::memcpy(s.data(), b.data(), 32);
      hr.posted[idx] = d;
      hr.prod = static_cast<uint16_t>(idx + 1);
    }
    WR(r, reg::kRingRqProd, hr.prod);
  }
  // Room the host may post into: at most one ring's worth beyond the last consumed completion.
  uint32_t Room(uint32_t r) const {
    const HostRing& hr = rings_[r];
    return (1u << hr.rq_log2) - ::ipsec::card::RingDistance(hr.prod, hr.cq_cons);
  }
  // Reads new completions by the phase rule and checks each; returns how many.
  uint32_t Poll(uint32_t r, uint32_t max = 0xffffffff) {
    HostRing& hr = rings_[r];
    uint32_t n = 0;
    while (n < max) {
      const uint64_t a = hr.cq_base + 32ull * RingSlot(hr.cq_cons, hr.cq_log2);
      auto s = h_->memory().Map(a, 32).value();
      std::array<std::byte, 32> b;
      std::memcpy(b.data(), s.data(), 32);
      const Cpl c = Cpl::Decode(b);
      if (c.phase != ExpectedPhase(hr.cq_cons, hr.cq_log2)) break;
      auto it = hr.posted.find(hr.cq_cons);
      EXPECT_NE(it, hr.posted.end()) << "ring " << r << " completion for unposted index " << hr.cq_cons;
      if (it != hr.posted.end()) {
        EXPECT_EQ(c.desc_index, hr.cq_cons) << "ring " << r;
        EXPECT_EQ(c.user_data, it->second.user_data) << "ring " << r << " index " << hr.cq_cons;
        EXPECT_EQ(c.seq, ExpectedSeq(it->second));
        EXPECT_EQ(c.dir, it->second.dir);
        hr.posted.erase(it);
      }
      hr.cq_cons = static_cast<uint16_t>(hr.cq_cons + 1);
      ++hr.completed;
      ++n;
    }
    return n;
  }
  void ReleaseCq(uint32_t r, bool arm = false) {
    WR(r, reg::kRingCqCons, rings_[r].cq_cons | (arm ? field::kRingCqConsArm.Mask() : 0u));
  }
  static uint64_t ExpectedSeq(const ReqDesc& d) { return d.buf_addr ^ 0x5a5a5a5a5a5a5a5aull; }

  // ---- Event ring ----
  void SetupEvq(uint32_t log2, bool irq_enable = true) {
    evq_log2_ = log2;
    evq_mem_ = h_->memory().Alloc(16ull << log2).value();
    auto s = h_->memory().Map(evq_mem_.iova, 16ull << log2).value();
    std::memset(s.data(), 0, s.size());
    evq_cons_ = 0;
    W(reg::kEvqCtrl, 0);
    W(reg::kEvqBaseLo, static_cast<uint32_t>(evq_mem_.iova));
    W(reg::kEvqBaseHi, static_cast<uint32_t>(evq_mem_.iova >> 32));
    uint32_t c = field::kEvqCtrlSizeLog2.Put(0, log2);
    c = field::kEvqCtrlEnable.Put(c, 1);
    c = field::kEvqCtrlIrqEnable.Put(c, irq_enable ? 1 : 0);
    W(reg::kEvqCtrl, c);
  }
  std::vector<Event> PollEvents(uint32_t max = 0xffffffff) {
    std::vector<Event> out;
    while (out.size() < max) {
      const uint64_t a = evq_mem_.iova + 16ull * RingSlot(evq_cons_, evq_log2_);
      auto s = h_->memory().Map(a, 16).value();
      std::array<std::byte, 16> b;
      std::memcpy(b.data(), s.data(), 16);
      const Event e = Event::Decode(b);
      if (e.phase != ExpectedPhase(evq_cons_, evq_log2_)) break;
      out.push_back(e);
      evq_cons_ = static_cast<uint16_t>(evq_cons_ + 1);
    }
    return out;
  }
  void ReleaseEvq() { W(reg::kEvqCons, evq_cons_); }
  void InjectEvent(EventType kind, uint32_t sa, Dir dir, uint64_t info) {
    Event e;
    e.kind = kind;
    e.sa_index = sa;
    e.dir = dir;
    e.info = info;
    ev_queue_.push_back(e);
  }
  size_t ev_backlog() const { return ev_queue_.size(); }

  // ---- Engine model ----
  void set_engine(bool on) { engine_on_ = on; }
  void set_delays(double desc_ready_p, uint32_t max_delay) {
    desc_ready_p_ = desc_ready_p;
    max_delay_ = max_delay;
  }
  size_t in_engine(uint32_t r) const { return engine_[r].size(); }
  const std::vector<Handed>& handed() const { return handed_; }
  uint64_t handed_count(uint32_t r) const { return handed_per_ring_[r]; }

  // Runs n cycles with the engine side active. (Harness::RunUntil asks its predicate once more
  // after the last cycle; Drive() must run exactly once per cycle, hence the counters.)
  void Run(uint64_t n) {
    uint64_t k = 0;
    (void)h_->RunUntil(
        [&] {
          if (k == n) return true;
          ++k;
          Drive();
          return false;
        },
        n + 1);
  }
  // Runs until done() (which may read registers) or `max` engine cycles; false on timeout.
  bool RunUntil(const std::function<bool()>& done, uint64_t max) {
    uint64_t k = 0;
    bool ok = false;
    (void)h_->RunUntil(
        [&] {
          if (done()) {
            ok = true;
            return true;
          }
          if (k == max) return true;
          ++k;
          Drive();
          return false;
        },
        ~uint64_t{0});
    return ok;
  }
  uint16_t IrqCount(uint32_t r) { return static_cast<uint16_t>(m().irq_count_o >> (16 * r)); }

 private:
  void Quiesce() {
    m().desc_ready = 0;
    m().cpl_valid = 0;
    m().ev_valid = 0;
    m().eval();
  }

  // One cycle of the ESP engine and the SA event source (see the file comment).
  void Drive() {
    Top& t = m();
    const uint64_t now = h_->cycle();
    const bool take = engine_on_ && std::bernoulli_distribution(desc_ready_p_)(rng_);
    t.desc_ready = take ? 1 : 0;
    // Offer a completion: the oldest of a random ring whose delay has passed.
    if (!offer_ && engine_on_) {
      const uint32_t start = static_cast<uint32_t>(rng_() % kRings);
      for (uint32_t i = 0; i < kRings && !offer_; ++i) {
        const uint32_t r = (start + i) % kRings;
        if (!engine_[r].empty() && engine_[r].front().ready_cycle <= now) offer_ = r;
      }
    }
    if (offer_) {
      const Handed& hd = engine_[*offer_].front();
      Cpl c;
      c.user_data = hd.desc.user_data;
      c.seq = ExpectedSeq(hd.desc);
      c.spi = 0x1000 + hd.index;
      c.sa_index = hd.desc.sa_index;
      c.desc_index = hd.index;
      c.status = CplStatus::kOk;
      c.dir = hd.desc.dir;
      c.out_offset = hd.desc.pkt_offset;
      c.out_len = hd.desc.pkt_len;
      ToWide(c.Encode(), t.cpl_rec);
      t.cpl_ring = *offer_;
      t.cpl_irq = hd.desc.irq ? 1 : 0;
      t.cpl_valid = 1;
    } else {
      t.cpl_valid = 0;
    }
    if (!ev_queue_.empty()) {
      const Event& e = ev_queue_.front();
      t.ev_valid = 1;
      t.ev_kind = static_cast<uint8_t>(e.kind);
      t.ev_sa_index = e.sa_index;
      t.ev_dir = e.dir == Dir::kInbound ? 1 : 0;
      t.ev_info = e.info;
    } else {
      t.ev_valid = 0;
    }
    t.eval();  // clock still high: no edge, READYs settle on these inputs
    if (t.desc_valid && t.desc_ready) {
      Handed hd;
      hd.ring = t.desc_ring;
      hd.index = t.desc_index;
      hd.desc = ReqDesc::Decode(FromWide<32>(t.desc_data));
      hd.ready_cycle = now + 1 + (max_delay_ ? rng_() % max_delay_ : 0);
      EXPECT_LT(hd.ring, kRings);
      if (hd.ring < kRings) {
        const HostRing& hr = rings_[hd.ring];
        auto it = hr.posted.find(hd.index);
        EXPECT_NE(it, hr.posted.end()) << "ring " << hd.ring << " fetched unposted index " << hd.index;
        if (it != hr.posted.end()) EXPECT_EQ(hd.desc, it->second) << "ring " << hd.ring << " index " << hd.index;
        EXPECT_EQ(hd.index, next_handed_[hd.ring]) << "descriptors in ring order";
        next_handed_[hd.ring] = static_cast<uint16_t>(hd.index + 1);
        ++handed_per_ring_[hd.ring];
        engine_[hd.ring].push_back(hd);
        if (handed_.size() < 100000) handed_.push_back(hd);
      }
    }
    if (t.cpl_valid && t.cpl_ready) {
      engine_[*offer_].pop_front();
      offer_.reset();
    }
    if (t.ev_valid && t.ev_ready) ev_queue_.pop_front();
  }

 public:
  // A ring re-enabled restarts its descriptor indices at 0.
  void ResetHandedIndex(uint32_t r) { next_handed_[r] = 0; }

 private:
  std::mt19937_64 rng_;
  std::unique_ptr<Harness<Top>> h_;
  std::array<HostRing, kRings> rings_;
  std::array<std::deque<Handed>, kRings> engine_;
  std::array<uint16_t, kRings> next_handed_{};
  std::array<uint64_t, kRings> handed_per_ring_{};
  std::optional<uint32_t> offer_;
  std::vector<Handed> handed_;
  std::deque<Event> ev_queue_;
  bool engine_on_ = true;
  double desc_ready_p_ = 0.7;
  uint32_t max_delay_ = 24;
  uint64_t serial_ = 0;
  DmaRegion evq_mem_;
  uint32_t evq_log2_ = 4;
  uint16_t evq_cons_ = 0;
};

uint32_t Status(Bench& b, uint32_t r) { return b.RR(r, reg::kRingStatus); }
QueueError Code(uint32_t status) { return static_cast<QueueError>(field::kRingStatusErrorCode.Get(status)); }

// Drives random traffic on the given rings until each has completed `per_ring` requests.
void Traffic(Bench& b, const std::vector<uint32_t>& rings, uint64_t per_ring, std::mt19937_64& rng,
             uint64_t max_rounds = 20000) {
  for (uint64_t round = 0; round < max_rounds; ++round) {
    bool all = true;
    for (uint32_t r : rings) {
      HostRing& hr = b.ring(r);
      b.Poll(r);
      if (rng() % 3 == 0) b.ReleaseCq(r);
      const uint64_t posted_total = hr.completed + hr.posted.size();
      if (posted_total < per_ring && b.Room(r) > 0 && rng() % 2 == 0) {
        const uint32_t n = std::min<uint64_t>({1 + rng() % (1u << hr.rq_log2), b.Room(r), per_ring - posted_total});
        b.Post(r, n);
      }
      if (hr.completed < per_ring) all = false;
    }
    if (all) return;
    b.Run(20 + rng() % 60);
  }
  ADD_FAILURE() << "traffic did not finish";
}

TEST(QueueEngineTest, RandomTrafficWrapsRingsAcrossManyPasses) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(seed);
    std::mt19937_64 rng(seed * 77 + 1);
    Bench b(seed);
    b.SetupRing(0, 4, 4);
    b.SetupRing(1, 4, 5);
    b.SetupRing(2, 5, 6);
    // 16-entry rings go round 25 times: the phase flips and the 16-bit index keeps counting.
    Traffic(b, {0, 1, 2}, 400, rng);
    for (uint32_t r = 0; r < kRings; ++r) {
      b.Run(200);
      b.Poll(r);
      b.ReleaseCq(r);
      EXPECT_EQ(b.ring(r).completed, 400u);
      EXPECT_EQ(b.handed_count(r), 400u);
      EXPECT_EQ(b.RR(r, reg::kRingRqCons), 400u);
      EXPECT_EQ(b.RR(r, reg::kRingCqProd), 400u);
      const uint32_t st = Status(b, r);
      EXPECT_EQ(st & 7u, field::kRingStatusActive.Mask()) << "active, not busy, no error";
    }
    EXPECT_EQ(b.h().slave().stats().decerr + b.h().slave().stats().slverr, 0u) << "no burst past a ring's end";
    EXPECT_EQ(b.h().violation_count(), 0u) << b.h().ViolationReport();
    // At most FetchBurst (4) descriptors per read: 1200 descriptors need at least 300 bursts.
    EXPECT_GE(b.h().slave().stats().read_bursts, 300u);
    std::printf("seed %llu: %llu cycles, %llu read bursts, %llu write bursts\n",
                static_cast<unsigned long long>(seed), static_cast<unsigned long long>(b.h().cycle()),
                static_cast<unsigned long long>(b.h().slave().stats().read_bursts),
                static_cast<unsigned long long>(b.h().slave().stats().write_bursts));
  }
}

TEST(QueueEngineTest, FetchBurstsNeverWrapOrCross4KiB) {
  // A 256-entry ring (8 KiB) whose base is 64-byte aligned but not page aligned: bursts must
  // split at the 4 KiB line and at the ring's end, or the slave reports a protocol violation
  // (4 KiB) or DECERR (guard page past the end).
  Bench b(5);
  std::mt19937_64 rng(5);
  HostRing& hr = b.ring(0);
  hr = HostRing{};
  hr.rq_log2 = 8;
  hr.cq_log2 = 8;
  hr.rq_mem = b.h().memory().Alloc(3 * 4096).value();
  hr.cq_mem = b.h().memory().Alloc(32 * 256).value();
  // 64 bytes short of the guard page, so not page aligned: the ring straddles two 4 KiB lines.
  hr.rq_base = hr.rq_mem.iova + 3 * 4096 - 32 * 256 - 64;
  hr.cq_base = hr.cq_mem.iova;
  {
    auto cq = b.h().memory().Map(hr.cq_base, 32 * 256).value();
    std::memset(cq.data(), 0, cq.size());
  }
  b.WR(0, reg::kRingRqBaseLo, static_cast<uint32_t>(hr.rq_base));
  b.WR(0, reg::kRingRqBaseHi, static_cast<uint32_t>(hr.rq_base >> 32));
  b.WR(0, reg::kRingCqBaseLo, static_cast<uint32_t>(hr.cq_base));
  b.WR(0, reg::kRingCqBaseHi, static_cast<uint32_t>(hr.cq_base >> 32));
  b.Enable(0);
  // Odd-sized doorbells so bursts start on odd descriptors too.
  Traffic(b, {0}, 1000, rng);
  EXPECT_EQ(b.h().violation_count(), 0u) << b.h().ViolationReport();
  EXPECT_EQ(b.h().slave().stats().decerr + b.h().slave().stats().slverr, 0u);
  EXPECT_EQ(Status(b, 0) & 7u, 1u);
}

TEST(QueueEngineTest, CompletionRingFullStallsUntilCqConsReleases) {
  Bench b(3);
  b.SetupRing(0, 4, 4);
  b.SetupRing(1, 4, 4);
  b.Post(0, 16);
  ASSERT_TRUE(b.RunUntil([&] { return b.RR(0, reg::kRingCqProd) == 16; }, 20000));
  // The host consumes nothing but posts 16 more: the card may fetch none of them.
  b.Post(0, 16);
  b.Post(1, 10);  // the other ring is unaffected
  b.Run(3000);
  EXPECT_EQ(b.RR(0, reg::kRingRqCons), 16u);
  EXPECT_EQ(b.RR(0, reg::kRingCqProd), 16u);
  EXPECT_EQ(b.handed_count(0), 16u);
  EXPECT_EQ(b.RR(1, reg::kRingCqProd), 10u);
  EXPECT_EQ(b.Poll(0, 16), 16u) << "the first pass is intact";
  EXPECT_EQ(b.Poll(0), 0u);
  // Release half: exactly 8 more.
  b.WR(0, reg::kRingCqCons, 8);
  b.Run(3000);
  EXPECT_EQ(b.RR(0, reg::kRingRqCons), 24u);
  EXPECT_EQ(b.RR(0, reg::kRingCqProd), 24u);
  EXPECT_EQ(b.Poll(0), 8u);
  b.ReleaseCq(0);
  ASSERT_TRUE(b.RunUntil([&] { return b.RR(0, reg::kRingCqProd) == 32; }, 20000));
  EXPECT_EQ(b.Poll(0), 8u);
  EXPECT_EQ(b.Poll(1), 10u);
  EXPECT_EQ(b.h().violation_count(), 0u) << b.h().ViolationReport();
}

TEST(QueueEngineTest, GlobalEnableOffStopsFetching) {
  Bench b(4);
  b.SetupRing(0, 4, 4);
  b.W(reg::kCtrlCtrl, 0);
  b.Run(10);
  EXPECT_EQ(b.R(reg::kCtrlStatus) & field::kCtrlStatusEnabled.Mask(), 0u);
  b.Post(0, 8);
  b.Run(2000);
  EXPECT_EQ(b.handed_count(0), 0u);
  EXPECT_EQ(b.RR(0, reg::kRingRqCons), 0u);
  b.W(reg::kCtrlCtrl, field::kCtrlCtrlEnable.Mask());
  ASSERT_TRUE(b.RunUntil([&] { return b.RR(0, reg::kRingCqProd) == 8; }, 20000));
  EXPECT_NE(b.R(reg::kCtrlStatus) & field::kCtrlStatusEnabled.Mask(), 0u);
  EXPECT_EQ(b.Poll(0), 8u);
  // Off again with requests inside the engine: fetching stops, those still complete.
  b.set_engine(false);
  b.ReleaseCq(0);
  b.Post(0, 8);
  b.Run(1500);
  const uint64_t fetched = b.handed_count(0);
  b.W(reg::kCtrlCtrl, 0);
  b.set_engine(true);
  b.Run(3000);
  EXPECT_LT(b.RR(0, reg::kRingRqCons), 16u) << "fetching stopped";
  EXPECT_EQ(b.RR(0, reg::kRingCqProd), b.RR(0, reg::kRingRqCons));
  EXPECT_GE(b.handed_count(0), fetched);
  EXPECT_EQ(b.RR(0, reg::kRingStatus) & field::kRingStatusBusy.Mask(), 0u);
}

// Checks that the next event is a queue_error for ring r with `code` and INFO `info`.
void ExpectQueueError(const Event& e, uint32_t r, QueueError code, uint64_t info) {
  EXPECT_EQ(e.kind, EventType::kQueueError);
  EXPECT_EQ(e.ring, r);
  EXPECT_EQ(e.code, static_cast<uint8_t>(code));
  EXPECT_EQ(e.sa_index, 0xffffffu);
  EXPECT_EQ(e.info, info);
}

TEST(QueueEngineTest, BadConfigStopsOnlyThatRing) {
  Bench b(6);
  b.SetupEvq(4);
  b.SetupRing(0, 4, 4);
  b.SetupRing(1, 5, 4);  // CQ smaller than RQ
  b.Run(20);
  uint32_t st = Status(b, 1);
  EXPECT_EQ(st & 3u, 2u) << "error, not active";
  EXPECT_EQ(Code(st), QueueError::kBadConfig);
  EXPECT_EQ(b.R(reg::kCtrlQueueError), 2u);
  EXPECT_NE(b.R(reg::kCtrlIrqStatus) & field::kCtrlIrqStatusQueueError.Mask(), 0u);
  b.Run(200);
  auto ev = b.PollEvents();
  ASSERT_EQ(ev.size(), 1u);
  ExpectQueueError(ev[0], 1, QueueError::kBadConfig, 0);
  // Size beyond MaxRingLog2, and a misaligned base, on ring 2.
  b.SetupRing(2, kMaxLog2 + 1, kMaxLog2 + 1);
  b.Run(200);
  EXPECT_EQ(Code(Status(b, 2)), QueueError::kBadConfig);
  b.SetupRing(2, 4, 4, false, 0, /*rq_misalign=*/32);
  b.Run(200);
  EXPECT_EQ(Code(Status(b, 2)), QueueError::kBadConfig);
  ev = b.PollEvents();
  ASSERT_EQ(ev.size(), 2u);
  ExpectQueueError(ev[0], 2, QueueError::kBadConfig, 0);
  ExpectQueueError(ev[1], 2, QueueError::kBadConfig, 0);
  // Ring 0 goes on; doorbells on the broken ring are ignored.
  b.Post(1, 4);
  b.Post(0, 12);
  ASSERT_TRUE(b.RunUntil([&] { return b.RR(0, reg::kRingCqProd) == 12; }, 20000));
  EXPECT_EQ(b.Poll(0), 12u);
  EXPECT_EQ(b.handed_count(1), 0u);
  // Recovery: fix the size, disable, re-enable.
  b.SetupRing(1, 4, 4);
  b.Run(20);
  EXPECT_EQ(Status(b, 1) & 3u, 1u);
  b.Post(1, 5);
  ASSERT_TRUE(b.RunUntil([&] { return b.RR(1, reg::kRingCqProd) == 5; }, 20000));
  EXPECT_EQ(b.Poll(1), 5u);
  EXPECT_EQ(b.h().violation_count(), 0u) << b.h().ViolationReport();
}

TEST(QueueEngineTest, BadDoorbellStopsOnlyThatRing) {
  Bench b(7);
  b.SetupEvq(4);
  b.SetupRing(0, 4, 4);
  b.SetupRing(1, 4, 4);
  b.Post(1, 3);
  ASSERT_TRUE(b.RunUntil([&] { return b.RR(1, reg::kRingCqProd) == 3; }, 20000));
  b.WR(1, reg::kRingRqProd, 3 + 17);  // 17 ahead of RQ_CONS on a 16-entry ring
  b.Run(50);
  const uint32_t st = Status(b, 1);
  EXPECT_EQ(st & 3u, 2u);
  EXPECT_EQ(Code(st), QueueError::kBadDoorbell);
  EXPECT_EQ(b.RR(1, reg::kRingRqCons), 3u);
  b.Run(200);
  auto ev = b.PollEvents();
  ASSERT_EQ(ev.size(), 1u);
  ExpectQueueError(ev[0], 1, QueueError::kBadDoorbell, 0);
  b.Post(0, 9);
  ASSERT_TRUE(b.RunUntil([&] { return b.RR(0, reg::kRingCqProd) == 9; }, 20000));
  EXPECT_EQ(b.Poll(0), 9u);
  EXPECT_EQ(b.handed_count(1), 3u);
  // Exactly a ring's worth ahead is fine after recovery.
  b.Poll(1);
  b.Recover(1);
  b.ResetHandedIndex(1);
  b.Post(1, 16);
  ASSERT_TRUE(b.RunUntil([&] { return b.RR(1, reg::kRingCqProd) == 16; }, 20000));
  EXPECT_EQ(Status(b, 1) & 3u, 1u);
  EXPECT_EQ(b.Poll(1), 16u);
}

TEST(QueueEngineTest, DescriptorFetchErrorStopsOnlyThatRingAndRecovers) {
  Bench b(8);
  std::mt19937_64 rng(8);
  b.SetupEvq(4);
  b.SetupRing(0, 4, 4);
  b.SetupRing(1, 4, 4);
  HostRing& h1 = b.ring(1);
  b.Post(1, 6);
  ASSERT_TRUE(b.RunUntil([&] { return b.RR(1, reg::kRingCqProd) == 6; }, 20000));
  EXPECT_EQ(b.Poll(1), 6u);
  b.ReleaseCq(1);
  // Every read of slots 6.. fails (SLVERR) once.
  const uint64_t bad = h1.rq_base + 6 * 32;
  ErrorRule rule;
  rule.match = ErrorRule::Match::kAddressRange;
  rule.dir = AxiDir::kRead;
  rule.lo = bad;
  rule.hi = h1.rq_base + 16 * 32;
  rule.resp = AxiResp::kSlvErr;
  rule.times = 1;
  b.h().slave().AddErrorRule(rule);
  b.Post(1, 4);
  b.Post(0, 8);
  b.Run(2000);
  const uint32_t st = Status(b, 1);
  EXPECT_EQ(st & 3u, 2u);
  EXPECT_EQ(Code(st), QueueError::kDescFetch);
  EXPECT_EQ(b.RR(1, reg::kRingRqCons), 6u) << "RQ_CONS names the descriptor that failed";
  EXPECT_EQ(b.handed_count(1), 6u);
  auto ev = b.PollEvents();
  ASSERT_EQ(ev.size(), 1u);
  ExpectQueueError(ev[0], 1, QueueError::kDescFetch, bad);
  // The other ring runs on.
  ASSERT_TRUE(b.RunUntil([&] { return b.RR(0, reg::kRingCqProd) == 8; }, 20000));
  EXPECT_EQ(b.Poll(0), 8u);
  // Recovery, then traffic across several passes.
  b.Recover(1);
  b.ResetHandedIndex(1);
  b.h().slave().ClearErrorRules();
  Traffic(b, {0, 1}, 100, rng);
  EXPECT_EQ(Status(b, 1) & 3u, 1u);
  EXPECT_EQ(b.h().violation_count(), 0u) << b.h().ViolationReport();
}

TEST(QueueEngineTest, CompletionWriteErrorStopsOnlyThatRingAndRecovers) {
  Bench b(9);
  std::mt19937_64 rng(9);
  b.SetupEvq(4);
  b.SetupRing(0, 4, 4);
  b.SetupRing(2, 4, 4);
  HostRing& h2 = b.ring(2);
  // Completion slot 3 fails forever until cleared.
  const uint64_t bad = h2.cq_base + 3 * 32;
  ErrorRule rule;
  rule.dir = AxiDir::kWrite;
  rule.lo = bad;
  rule.hi = bad + 32;
  rule.resp = AxiResp::kDecErr;
  rule.times = 0;
  b.h().slave().AddErrorRule(rule);
  b.Post(2, 10);
  b.Post(0, 10);
  ASSERT_TRUE(b.RunUntil([&] { return (b.RR(2, reg::kRingStatus) & 7u) == 2u; }, 40000)) << "error, not busy";
  EXPECT_EQ(Code(Status(b, 2)), QueueError::kCplWrite);
  EXPECT_EQ(b.RR(2, reg::kRingCqProd), 3u);
  EXPECT_EQ(b.Poll(2), 3u);
  b.Run(300);
  auto ev = b.PollEvents();
  ASSERT_EQ(ev.size(), 1u);
  ExpectQueueError(ev[0], 2, QueueError::kCplWrite, bad);
  ASSERT_TRUE(b.RunUntil([&] { return b.RR(0, reg::kRingCqProd) == 10; }, 20000));
  EXPECT_EQ(b.Poll(0), 10u);
  b.h().slave().ClearErrorRules();
  b.Recover(2);
  b.ResetHandedIndex(2);
  Traffic(b, {0, 2}, 60, rng);
  EXPECT_EQ(Status(b, 2) & 3u, 1u);
  EXPECT_EQ(b.h().violation_count(), 0u) << b.h().ViolationReport();
}

TEST(QueueEngineTest, EventsWrapThenOverflowCountsLostAndReportsThem) {
  Bench b(10);
  b.SetupEvq(4);
  uint64_t info = 100;
  // 3 passes through a 16-entry ring, consumed as they come.
  std::vector<Event> got;
  for (int k = 0; k < 48; ++k) {
    b.InjectEvent(static_cast<EventType>(1 + k % 3), 0x10 + k, k % 2 ? Dir::kInbound : Dir::kOutbound, info++);
    if (k % 5 == 4) {
      ASSERT_TRUE(b.RunUntil([&] { return b.ev_backlog() == 0; }, 5000));
      b.Run(100);
      for (auto& e : b.PollEvents()) got.push_back(e);
      b.ReleaseEvq();
    }
  }
  ASSERT_TRUE(b.RunUntil([&] { return b.ev_backlog() == 0; }, 5000));
  b.Run(100);
  for (auto& e : b.PollEvents()) got.push_back(e);
  b.ReleaseEvq();
  ASSERT_EQ(got.size(), 48u);
  for (int k = 0; k < 48; ++k) {
    EXPECT_EQ(got[k].kind, static_cast<EventType>(1 + k % 3));
    EXPECT_EQ(got[k].sa_index, 0x10u + k);
    EXPECT_EQ(got[k].ring, 0xff);
    EXPECT_EQ(got[k].dir, k % 2 ? Dir::kInbound : Dir::kOutbound);
    EXPECT_EQ(got[k].info, 100u + k);
  }
  EXPECT_EQ(b.R(reg::kEvqProd), 48u);
  EXPECT_NE(b.R(reg::kCtrlIrqStatus) & field::kCtrlIrqStatusEvent.Mask(), 0u);
  b.W(reg::kCtrlIrqStatus, 0x1f);
  // Fill the ring (16) and drop 5 more.
  for (int k = 0; k < 21; ++k) b.InjectEvent(EventType::kSoftLifetime, k, Dir::kOutbound, 1000 + k);
  ASSERT_TRUE(b.RunUntil([&] { return b.ev_backlog() == 0; }, 5000));
  b.Run(200);
  EXPECT_EQ(b.R(reg::kEvqLost), 5u);
  EXPECT_NE(b.R(reg::kCtrlIrqStatus) & field::kCtrlIrqStatusEventsLost.Mask(), 0u);
  auto ev = b.PollEvents();
  ASSERT_EQ(ev.size(), 16u);
  for (int k = 0; k < 16; ++k) EXPECT_EQ(ev[k].info, 1000u + k);
  // Room again: one events_lost event with the count comes first, then new events.
  b.ReleaseEvq();
  b.InjectEvent(EventType::kHardLifetime, 7, Dir::kInbound, 4242);
  ASSERT_TRUE(b.RunUntil([&] { return b.ev_backlog() == 0; }, 5000));
  b.Run(200);
  ev = b.PollEvents();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].kind, EventType::kEventsLost);
  EXPECT_EQ(ev[0].info, 5u);
  EXPECT_EQ(ev[0].ring, 0xff);
  EXPECT_EQ(ev[0].sa_index, 0xffffffu);
  EXPECT_EQ(ev[1].kind, EventType::kHardLifetime);
  EXPECT_EQ(ev[1].info, 4242u);
  EXPECT_EQ(b.R(reg::kEvqLost), 5u) << "EVQ_LOST is cumulative";
  EXPECT_EQ(b.h().violation_count(), 0u) << b.h().ViolationReport();
}

TEST(QueueEngineTest, InterruptModerationCountTimeArmAndIrqBit) {
  Bench b(11, /*random_timing=*/false);
  b.set_delays(1.0, 0);
  // COUNT 4, no timer.
  b.SetupRing(0, 4, 4, /*irq_enable=*/true, field::kRingIrqModCount.Put(0, 4));
  b.ReleaseCq(0, /*arm=*/true);
  b.Post(0, 3);
  ASSERT_TRUE(b.RunUntil([&] { return b.RR(0, reg::kRingCqProd) == 3; }, 5000));
  b.Run(100);
  EXPECT_EQ(b.IrqCount(0), 0u) << "3 of 4";
  b.Post(0, 1);
  ASSERT_TRUE(b.RunUntil([&] { return b.IrqCount(0) == 1; }, 5000));
  b.Post(0, 8);
  b.Run(1000);
  EXPECT_EQ(b.IrqCount(0), 1u) << "disarmed after one interrupt";
  b.Poll(0);
  b.ReleaseCq(0, true);  // arm: 8 completions were before arming, the window restarts
  b.Run(500);
  EXPECT_EQ(b.IrqCount(0), 0u + 1u);
  b.Post(0, 4);
  ASSERT_TRUE(b.RunUntil([&] { return b.IrqCount(0) == 2; }, 5000));

  // TIME_US 5 with a large COUNT: one completion, then about 5 us (50 cycles) later.
  b.SetupRing(1, 4, 4, true, field::kRingIrqModTimeUs.Put(field::kRingIrqModCount.Put(0, 100), 5));
  b.ReleaseCq(1, true);
  b.Post(1, 1);
  ASSERT_TRUE(b.RunUntil([&] { return b.RR(1, reg::kRingCqProd) == 1; }, 5000));
  const uint64_t t0 = b.h().cycle();
  ASSERT_TRUE(b.RunUntil([&] { return b.IrqCount(1) == 1; }, 5000));
  const uint64_t dt = b.h().cycle() - t0;
  EXPECT_GE(dt, 2 * kCyclesPerUs);  // the register read that saw CQ_PROD took some of the 5 us
  EXPECT_LE(dt, 7 * kCyclesPerUs);

  // The descriptor IRQ bit forces an interrupt despite COUNT 100 and no timer.
  b.SetupRing(2, 4, 4, true, field::kRingIrqModCount.Put(0, 100));
  b.Post(2, 2, /*irq=*/true);
  ASSERT_TRUE(b.RunUntil([&] { return b.RR(2, reg::kRingCqProd) == 2; }, 5000));
  b.Run(200);
  EXPECT_EQ(b.IrqCount(2), 0u) << "not armed";
  b.Poll(2);
  b.ReleaseCq(2, true);
  b.Post(2, 1, true);
  ASSERT_TRUE(b.RunUntil([&] { return b.IrqCount(2) == 1; }, 5000));
  // IRQ_ENABLE off: armed, but no interrupt.
  b.Poll(2);
  b.Recover(2);
  b.ResetHandedIndex(2);
  b.WR(2, reg::kRingCtrl, b.RR(2, reg::kRingCtrl) & ~field::kRingCtrlIrqEnable.Mask());
  b.ReleaseCq(2, true);
  b.Post(2, 3, true);
  ASSERT_TRUE(b.RunUntil([&] { return b.RR(2, reg::kRingCqProd) == 3; }, 5000));
  b.Run(200);
  EXPECT_EQ(b.IrqCount(2), 1u);
  EXPECT_EQ(b.h().violation_count(), 0u) << b.h().ViolationReport();
}

}  // namespace
}  // namespace ipsec::hw::card
