// Verilated bench for esp_replay, differential against the software window sa::ReplayWindow
// (host/sa/replay_window.h): every CHECK verdict and inferred sequence number, every UPDATE
// verdict and every READ must equal what the model returns for the same operations in the same
// order. Variants: s8w128 (NumSa=8, WindowBits=128), s16w1024 (NumSa=16, WindowBits=1024),
// s4w256f4 (NumSa=4, WindowBits=256, OutFifoDepth=4).
//
// ESP_REPLAY_SEED=<n> overrides the seeds, ESP_REPLAY_OPS=<n> the random operation count.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "Vesp_replay_s16w1024.h"
#include "Vesp_replay_s4w256f4.h"
#include "Vesp_replay_s8w128.h"
#include "host/sa/replay_window.h"
#include "verilated.h"

namespace ipsec::hw::esp_replay {
namespace {

using sa::ReplayVerdict;
using sa::ReplayWindow;

// esp_replay_pkg::op_e and verdict_e (the verdict codes are sa::ReplayVerdict's).
enum Op : uint8_t { kCheck = 0, kUpdate = 1, kInit = 2, kRead = 3 };
const char* OpName(uint8_t op) {
  static const char* const kNames[] = {"CHECK", "UPDATE", "INIT", "READ"};
  return op < 4 ? kNames[op] : "?";
}

constexpr uint64_t k2p32 = uint64_t{1} << 32;

struct S8W128 {
  using Model = Vesp_replay_s8w128;
  static constexpr uint32_t kNumSa = 8, kWindowBits = 128, kFifo = 16;
};
struct S16W1024 {
  using Model = Vesp_replay_s16w1024;
  static constexpr uint32_t kNumSa = 16, kWindowBits = 1024, kFifo = 16;
};
struct S4W256F4 {
  using Model = Vesp_replay_s4w256f4;
  static constexpr uint32_t kNumSa = 4, kWindowBits = 256, kFifo = 4;
};

uint64_t SeedFromEnv(uint64_t dflt) {
  const char* s = std::getenv("ESP_REPLAY_SEED");
  return s != nullptr ? std::strtoull(s, nullptr, 0) : dflt;
}
size_t OpsFromEnv(size_t dflt) {
  const char* s = std::getenv("ESP_REPLAY_OPS");
  return s != nullptr ? std::strtoull(s, nullptr, 0) : dflt;
}

struct Req {
  uint8_t op;
  uint32_t sa;
  uint64_t seq;  // CHECK: the packet's 32 bits (ESN) or number; UPDATE: 64-bit; INIT: top
  uint32_t window = 0;
  bool esn = false;
};
struct Expect {
  Req req;
  uint8_t verdict;
  uint64_t seq;
  uint16_t tag;
};

template <typename Cfg>
class EspReplayTest : public ::testing::Test {
 public:  // the traffic model drives the bench through Driver
  using Model = typename Cfg::Model;

  EspReplayTest() : ctx_(std::make_unique<VerilatedContext>()), dut_(std::make_unique<Model>(ctx_.get())) {
    sw_.resize(Cfg::kNumSa);
    dut_->clk_i = 0;
    dut_->rst_i = 1;
    dut_->in_valid_i = 0;
    dut_->out_ready_i = 0;
    for (int i = 0; i < 3; ++i) Tick();
    dut_->rst_i = 0;
  }
  ~EspReplayTest() override { dut_->final(); }

  void Tick() {
    dut_->clk_i = 1;
    dut_->eval();
    dut_->clk_i = 0;
    dut_->eval();
    ++cycles_;
  }

  // Queues one request and computes its expected result from the software model, in request
  // order (the engine must be sequentially consistent).
  Expect Push(const Req& r) {
    Expect e{r, 0, 0, static_cast<uint16_t>(next_tag_++)};
    std::optional<ReplayWindow>& w = sw_[r.sa];
    switch (r.op) {
      case kInit:
        w.emplace(r.window, r.esn);
        if (r.seq != 0) w->Reset(r.seq);
        e.seq = r.seq;
        break;
      case kCheck: {
        EXPECT_TRUE(w.has_value()) << "bench bug: SA not initialised";
        e.seq = w->InferSeq(static_cast<uint32_t>(r.seq));
        e.verdict = static_cast<uint8_t>(w->Check(e.seq));
        break;
      }
      case kUpdate:
        e.verdict = static_cast<uint8_t>(w->Update(r.seq));
        e.seq = r.seq;
        break;
      case kRead:
        e.seq = w->top();
        break;
    }
    ++verdicts_[r.op][e.verdict];
    todo_.push_back(e);
    return e;
  }

  // Drives every queued request through the model: random idle cycles on the input (idle_prob),
  // random back-pressure on the output (ready_prob), plus occasional long stalls.
  void Run(double idle_prob, double ready_prob, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::bernoulli_distribution idle(idle_prob), ready(ready_prob), stall(ready_prob < 1.0 ? 0.002 : 0.0);
    std::deque<Expect> pending;  // accepted, result not yet seen
    size_t next = 0;
    bool presenting = false;
    int stall_left = 0;
    uint64_t guard = 0;
    while (next < todo_.size() || !pending.empty()) {
      if (!presenting && next < todo_.size() && !idle(rng)) presenting = true;
      dut_->in_valid_i = presenting;
      if (presenting) {
        const Req& r = todo_[next].req;
        dut_->in_op_i = r.op;
        dut_->in_sa_i = r.sa;
        dut_->in_seq_i = r.seq;
        dut_->in_window_i = r.window;
        dut_->in_esn_i = r.esn;
        dut_->in_tag_i = todo_[next].tag;
      } else {
        // Junk on the payload while not valid.
        dut_->in_op_i = rng() & 3;
        dut_->in_seq_i = rng();
        dut_->in_tag_i = rng() & 0xffff;
      }
      if (stall_left > 0) {
        --stall_left;
        dut_->out_ready_i = 0;
      } else if (stall(rng)) {
        stall_left = 20 + static_cast<int>(rng() % 200);
        dut_->out_ready_i = 0;
      } else {
        dut_->out_ready_i = ready(rng);
      }
      dut_->eval();
      const bool fire_in = presenting && dut_->in_ready_o;
      if (presenting && !dut_->in_ready_o) ++in_stall_cycles_;
      if (presenting && !dut_->in_ready_o && todo_[next].req.op != kInit && dut_->out_ready_i &&
          (next == 0 || todo_[next - 1].req.op != kInit)) {
        ++unexpected_stalls_;
      }
      const bool fire_out = dut_->out_valid_o && dut_->out_ready_i;
      uint8_t o_op = dut_->out_op_o, o_verdict = dut_->out_verdict_o;
      uint64_t o_seq = dut_->out_seq_o;
      uint16_t o_tag = static_cast<uint16_t>(dut_->out_tag_o);
      Tick();
      if (fire_in) {
        pending.push_back(todo_[next]);
        ++next;
        presenting = false;
        ++ops_;
      }
      if (fire_out) {
        ASSERT_FALSE(pending.empty()) << "result without a request at cycle " << cycles_;
        const Expect& e = pending.front();
        ASSERT_EQ(o_tag, e.tag) << "results out of order";
        ASSERT_EQ(o_op, e.req.op) << "tag " << e.tag;
        ASSERT_EQ(o_seq, e.seq) << Describe(e) << " (inferred/echoed sequence number)";
        ASSERT_EQ(o_verdict, e.verdict) << Describe(e) << " (verdict)";
        pending.pop_front();
        ++checked_;
      }
      ASSERT_FALSE(ctx_->gotFinish()) << "RTL assertion failed";
      ASSERT_LT(++guard, 100 * todo_.size() + 100000) << "hang";
    }
    todo_.clear();
  }

  std::string Describe(const Expect& e) const {
    char buf[200];
    std::snprintf(buf, sizeof(buf), "op #%llu %s sa %u seq 0x%llx (expected verdict %u seq 0x%llx)",
                  static_cast<unsigned long long>(checked_), OpName(e.req.op), e.req.sa,
                  static_cast<unsigned long long>(e.req.seq), e.verdict,
                  static_cast<unsigned long long>(e.seq));
    return buf;
  }

  void Init(uint32_t sa, uint32_t window, bool esn, uint64_t top = 0) { Push({kInit, sa, top, window, esn}); }
  // CHECK of a packet carrying the low 32 bits of `seq` (ESN) or `seq` itself.
  Expect Check(uint32_t sa, uint64_t seq) { return Push({kCheck, sa, seq & 0xffffffffu}); }
  Expect Update(uint32_t sa, uint64_t seq) { return Push({kUpdate, sa, seq}); }
  Expect Read(uint32_t sa) { return Push({kRead, sa, 0}); }

  const ReplayWindow& Sw(uint32_t sa) const { return *sw_[sa]; }

  void PrintStats(const char* what) const {
    std::printf("%s: %llu ops in %llu cycles; CHECK ok/replay/old/zero %llu/%llu/%llu/%llu, "
                "UPDATE %llu/%llu/%llu/%llu\n",
                what, static_cast<unsigned long long>(ops_), static_cast<unsigned long long>(cycles_),
                U(verdicts_[kCheck][0]), U(verdicts_[kCheck][1]), U(verdicts_[kCheck][2]),
                U(verdicts_[kCheck][3]), U(verdicts_[kUpdate][0]), U(verdicts_[kUpdate][1]),
                U(verdicts_[kUpdate][2]), U(verdicts_[kUpdate][3]));
  }
  static unsigned long long U(uint64_t v) { return static_cast<unsigned long long>(v); }

  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Model> dut_;
  std::vector<std::optional<ReplayWindow>> sw_;
  std::vector<Expect> todo_;
  uint32_t next_tag_ = 0;
  uint64_t cycles_ = 0, ops_ = 0, checked_ = 0, in_stall_cycles_ = 0, unexpected_stalls_ = 0;
  uint64_t verdicts_[4][4] = {};
};

using Configs = ::testing::Types<S8W128, S16W1024, S4W256F4>;
TYPED_TEST_SUITE(EspReplayTest, Configs);

// ---- Traffic model -------------------------------------------------------------------------------
// A sender per SA with a counter; packets arrive reordered (inside and beyond the window),
// duplicated, with bucket-sized and larger jumps, and zero. Each packet is CHECKed; later, in
// random order and interleaved with other SAs, it is UPDATEd (with the number CHECK inferred) or
// dropped (ICV failure). INIT (rekey/restore) and READ are sprinkled in.
struct Flow {
  uint32_t window = 0;
  bool esn = false;
  uint64_t next = 0;                 // highest number sent
  std::vector<uint64_t> recent;      // numbers sent, for duplicates
  std::vector<uint64_t> in_flight;   // CHECKed, awaiting UPDATE (inferred numbers)
};

template <typename T>
class Traffic {
 public:
  Traffic(T* t, uint64_t seed, uint32_t num_sa) : t_(t), rng_(seed), flows_(num_sa) {}

  uint32_t RandomWindow() {
    const uint32_t wb = T::kWindowBitsForTraffic;
    switch (rng_() % 6) {
      case 0: return 0;
      case 1: return 32;
      case 2: return 64;
      case 3: return wb;
      default: return 1 + static_cast<uint32_t>(rng_() % wb);
    }
  }
  uint64_t RandomTop(bool esn) {
    if (!esn) {
      switch (rng_() % 4) {
        case 0: return 0;
        case 1: return 1 + rng_() % 5000;
        default: return rng_() % (k2p32 - (1u << 24));
      }
    }
    switch (rng_() % 6) {
      case 0: return 0;
      case 1: return k2p32 - 1 - rng_() % 3000;                    // about to cross 2^32
      case 2: return 5 * k2p32 - 1 - rng_() % 3000;                // crossing a later subspace
      case 3: return k2p32 * (rng_() % 1000) + rng_() % 100;        // just after a crossing
      case 4: return 0xffffffff00000000ull + rng_() % 100000;       // high half at its maximum
      default: return rng_() >> 2;
    }
  }

  void InitSa(uint32_t sa, std::optional<uint32_t> window = {}, std::optional<bool> esn = {},
              std::optional<uint64_t> top = {}) {
    Flow& f = flows_[sa];
    f = Flow{};
    f.esn = esn.value_or(rng_() % 2 == 0);
    f.window = window.value_or(RandomWindow());
    f.next = top.value_or(RandomTop(f.esn));
    t_->Init(sa, f.window, f.esn, f.next);
  }

  // A number the sender might have sent (or an attacker might replay).
  uint64_t PickSeq(Flow& f) {
    const uint64_t span = f.window + f.window / 2 + 3;
    const uint32_t r = rng_() % 100;
    uint64_t s;
    if (r < 45) {
      f.next += 1 + (rng_() % 4 == 0 ? rng_() % 5 : 0);
      s = f.next;
    } else if (r < 65) {
      s = f.next - std::min<uint64_t>(f.next, rng_() % span);
    } else if (r < 74 && !f.recent.empty()) {
      s = f.recent[rng_() % f.recent.size()];
    } else if (r < 80) {
      // Bucket-sized jumps: k*64 +- a little, k up to twice the ring.
      const uint64_t k = 1 + rng_() % (2 * T::kWindowBitsForTraffic / 64 + 2);
      f.next += k * 64 + (rng_() % 3) - 1;
      s = f.next;
    } else if (r < 83) {
      f.next += rng_() % (1u << 20);
      s = f.next;
    } else if (r < 85) {
      s = 0;
    } else if (r < 90) {
      s = f.next - std::min<uint64_t>(f.next, rng_() % (1u << 16));
    } else {
      s = f.next - std::min<uint64_t>(f.next, rng_() % 80);
    }
    f.recent.push_back(s);
    if (f.recent.size() > 64) f.recent.erase(f.recent.begin());
    return s;
  }

  // One step on SA `sa`.
  void Step(uint32_t sa) {
    Flow& f = flows_[sa];
    const bool out_of_range = f.esn ? f.next > ~uint64_t{0} - (uint64_t{1} << 22)
                                    : f.next > k2p32 - 1 - (uint64_t{1} << 22);
    const uint32_t r = rng_() % 1000;
    if (out_of_range || r < 2) {
      InitSa(sa);
      return;
    }
    if (r < 6) {
      t_->Read(sa);
      return;
    }
    if (!f.in_flight.empty() && (r % 2 == 0 || f.in_flight.size() > 8)) {
      const size_t i = rng_() % f.in_flight.size();
      const uint64_t s = f.in_flight[i];
      f.in_flight.erase(f.in_flight.begin() + static_cast<ptrdiff_t>(i));
      if (rng_() % 10 != 0) t_->Update(sa, s);  // else: the ICV failed, no UPDATE
      return;
    }
    if (r < 20) {
      // An UPDATE with no CHECK before it (the engine could skip CHECK); any 64-bit number.
      t_->Update(sa, f.esn ? PickSeq(f) : (PickSeq(f) & 0xffffffffu));
      return;
    }
    const uint64_t s = PickSeq(f);
    const Expect e = t_->Check(sa, s);
    if (e.verdict == static_cast<uint8_t>(ReplayVerdict::kOk) || rng_() % 4 == 0) f.in_flight.push_back(e.seq);
  }

  std::mt19937_64& rng() { return rng_; }

 private:
  T* t_;
  std::mt19937_64 rng_;
  std::vector<Flow> flows_;
};

// Adapter giving Traffic the bench's entry points.
template <typename Fixture, typename Cfg>
struct Driver {
  static constexpr uint32_t kWindowBitsForTraffic = Cfg::kWindowBits;
  Fixture* f;
  void Init(uint32_t sa, uint32_t w, bool esn, uint64_t top) { f->Init(sa, w, esn, top); }
  Expect Check(uint32_t sa, uint64_t s) { return f->Check(sa, s); }
  void Update(uint32_t sa, uint64_t s) { f->Update(sa, s); }
  void Read(uint32_t sa) { f->Read(sa); }
};

// ---- Tests ---------------------------------------------------------------------------------------

// The main differential test: every SA active, interleaved, with random SA choice and bursts on
// one SA (back-to-back same-SA operations), random input idle and output back-pressure.
TYPED_TEST(EspReplayTest, MatchesSoftwareWindowOnRandomTraffic) {
  using Cfg = TypeParam;
  const size_t kOps = OpsFromEnv(150000);
  Driver<TestFixture, Cfg> d{this};
  Traffic<Driver<TestFixture, Cfg>> tr(&d, SeedFromEnv(0x7265706c6179ull + Cfg::kWindowBits), Cfg::kNumSa);
  for (uint32_t sa = 0; sa < Cfg::kNumSa; ++sa) tr.InitSa(sa);
  const auto t0 = std::chrono::steady_clock::now();
  int round = 0;
  while (this->next_tag_ < kOps) {
    // Alternate phases: uniform SA choice, and bursts on one or two SAs.
    const size_t chunk = 5000;
    for (size_t i = 0; i < chunk; ++i) {
      uint32_t sa;
      if (round % 3 == 0) {
        sa = static_cast<uint32_t>(tr.rng()() % Cfg::kNumSa);
      } else if (round % 3 == 1) {
        sa = static_cast<uint32_t>((i / (1 + tr.rng()() % 16)) % 2);  // two SAs, runs of 1..16
      } else {
        sa = 1;  // one SA, every op back to back
      }
      tr.Step(sa);
    }
    const double idle = round % 4 == 0 ? 0.0 : 0.25;
    const double ready = round % 4 == 1 ? 1.0 : 0.7;
    this->Run(idle, ready, 1000 + round);
    if (this->HasFatalFailure()) return;
    ++round;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  this->PrintStats("random traffic");
  std::printf("  %.2f s incl. model, %.2f M cycles/s\n", s, this->cycles_ / s / 1e6);
  // Every verdict kind was exercised.
  for (int v = 0; v < 4; ++v) {
    EXPECT_GT(this->verdicts_[kCheck][v], 0u) << "CHECK verdict " << v << " never seen";
    EXPECT_GT(this->verdicts_[kUpdate][v], 0u) << "UPDATE verdict " << v << " never seen";
  }
}

// Back-to-back operations on one SA with no idle and no back-pressure: every pattern that makes
// an operation depend on the one just before it (same bucket, next bucket, exactly one ring
// apart, beyond the ring, duplicates, moves backwards), for every window size. Also checks the
// input never stalls (1 operation per cycle) except behind INIT.
TYPED_TEST(EspReplayTest, BackToBackSameSaAtOneOpPerCycle) {
  using Cfg = TypeParam;
  const uint64_t ring = Cfg::kWindowBits;  // bits held in the ring
  const std::vector<uint64_t> steps = {1, 2, 63, 64, 65, 127, 128, ring - 64, ring - 1, ring,
                                       ring + 1, ring + 63, ring + 64, ring + 65, 2 * ring, 1u << 20};
  for (uint32_t window : {0u, 1u, 32u, 64u, 100u, Cfg::kWindowBits - 1, Cfg::kWindowBits}) {
    for (bool esn : {false, true}) {
      const uint64_t top0 = esn ? k2p32 - 3 * ring : 1000;
      this->Init(0, window, esn, top0);
      this->Init(1, window, esn, top0);
      uint64_t s = top0;
      for (uint64_t step : steps) {
        // Forward by `step`, then the numbers just passed, duplicates, and old ones, all on SA 0,
        // UPDATE then CHECK, each right behind the other.
        s += step;
        this->Update(0, s);
        this->Update(0, s);
        this->Check(0, s);
        this->Update(0, s - 1);
        this->Check(0, s - 1);
        this->Update(0, s - step / 2);
        this->Update(0, s - window);
        this->Update(0, s - window + 1);
        this->Check(0, s - window + 1);
        this->Update(0, s + 1);
        this->Update(0, s - ring - 1);
        this->Check(0, s + 2);
        this->Update(0, s + 2);
        this->Check(0, s + 2);
        // Alternating SAs: the previous op is another SA, the one before is this one.
        this->Update(1, s);
        this->Update(0, s + 3);
        this->Update(1, s + 5);
        this->Check(0, s + 3);
        this->Update(1, s + 4);
        this->Read(0);
        s += 3;
      }
    }
  }
  this->Run(0.0, 1.0, 3);
  // Credits: a 16-entry result FIFO sustains one op per cycle; a 4-entry one cannot.
  if (Cfg::kFifo >= 16) {
    EXPECT_EQ(this->unexpected_stalls_, 0u) << "input stalled outside INIT";
    // The only stalls are the 4 cycles behind each of the 28 INITs.
    EXPECT_LE(this->in_stall_cycles_, 28u * 4u);
  }
  this->PrintStats("back to back");
}

// RFC 4303 Appendix A2: the high half is inferred across the 2^32 boundary, in both directions
// (late packets from before the wrap after the top crossed it), for several window sizes.
TYPED_TEST(EspReplayTest, InfersEsnAcrossTheTwoToThe32Boundary) {
  using Cfg = TypeParam;
  Driver<TestFixture, Cfg> d{this};
  Traffic<Driver<TestFixture, Cfg>> tr(&d, SeedFromEnv(0x65736eull), Cfg::kNumSa);
  uint32_t sa = 0;
  for (uint32_t window : {0u, 32u, 64u, Cfg::kWindowBits}) {
    for (uint64_t top : {uint64_t{k2p32 - 2 * Cfg::kWindowBits}, uint64_t{7 * k2p32 - 100}, uint64_t{0xffffffff00000000ull - 50}}) {
      tr.InitSa(sa, window, true, top);
      for (int i = 0; i < 3000; ++i) tr.Step(sa);
      sa = (sa + 1) % Cfg::kNumSa;
    }
  }
  // Directed: the top just past 2^32, packets from before it.
  this->Init(0, 64, true, k2p32 + 5);
  const Expect e1 = this->Check(0, k2p32 - 10);  // low half 0xfffffff6: previous subspace
  EXPECT_EQ(e1.seq, k2p32 - 10);
  EXPECT_EQ(e1.verdict, static_cast<uint8_t>(ReplayVerdict::kOk));
  this->Update(0, e1.seq);
  EXPECT_EQ(this->Check(0, k2p32 - 10).verdict, static_cast<uint8_t>(ReplayVerdict::kReplayed));
  // Below the window's left edge: A2 takes it as the next subspace (the ICV then fails).
  const Expect e2 = this->Check(0, k2p32 - 100);
  EXPECT_EQ(e2.seq, 2 * k2p32 - 100);
  EXPECT_EQ(e2.verdict, static_cast<uint8_t>(ReplayVerdict::kOk));
  // An UPDATE with the full number is too old.
  EXPECT_EQ(this->Update(0, k2p32 - 100).verdict, static_cast<uint8_t>(ReplayVerdict::kTooOld));
  this->Run(0.1, 0.8, 5);
  this->PrintStats("ESN wrap");
}

// Window 0 turns the check off (only zero is refused) but the top still moves; the sizes 32,
// 64 and WindowBits on one SA each, with the same traffic.
TYPED_TEST(EspReplayTest, HonoursEachWindowSize) {
  using Cfg = TypeParam;
  Driver<TestFixture, Cfg> d{this};
  Traffic<Driver<TestFixture, Cfg>> tr(&d, SeedFromEnv(0x77696eull), Cfg::kNumSa);
  const std::vector<uint32_t> windows = {0u, 32u, 64u, Cfg::kWindowBits};
  for (uint32_t i = 0; i < windows.size() && i < Cfg::kNumSa; ++i) tr.InitSa(i, windows[i], i % 2 == 1);
  for (int i = 0; i < 20000; ++i) tr.Step(static_cast<uint32_t>(i % std::min<size_t>(windows.size(), Cfg::kNumSa)));
  this->Run(0.2, 0.8, 9);
  this->PrintStats("window sizes");
}

// INIT sets the top (state restore after a card reset) and empties the bitmap; READ returns the
// top for the host to save.
TYPED_TEST(EspReplayTest, InitRestoresTopAndReadReturnsIt) {
  this->Init(2, 64, true, 0x123456789ull);
  EXPECT_EQ(this->Read(2).seq, 0x123456789ull);
  this->Update(2, 0x12345678aull);
  EXPECT_EQ(this->Read(2).seq, 0x12345678aull);
  this->Update(2, 0x123456780ull);
  EXPECT_EQ(this->Check(2, 0x123456780ull).verdict, static_cast<uint8_t>(ReplayVerdict::kReplayed));
  this->Init(2, 64, true, 0x12345678aull);  // restore: same top, empty bitmap
  EXPECT_EQ(this->Check(2, 0x123456780ull).verdict, static_cast<uint8_t>(ReplayVerdict::kOk));
  EXPECT_EQ(this->Read(2).seq, 0x12345678aull);
  this->Init(2, 0, false, 0);  // delete/reinstall
  EXPECT_EQ(this->Read(2).seq, 0u);
  EXPECT_EQ(this->Check(2, 0).verdict, static_cast<uint8_t>(ReplayVerdict::kZero));
  EXPECT_EQ(this->Update(2, 0).verdict, static_cast<uint8_t>(ReplayVerdict::kZero));
  EXPECT_EQ(this->Update(2, 5).verdict, static_cast<uint8_t>(ReplayVerdict::kOk));
  EXPECT_EQ(this->Update(2, 5).verdict, static_cast<uint8_t>(ReplayVerdict::kOk));  // window 0
  this->Run(0.0, 1.0, 11);
}

// Throughput with the output always ready: one operation per cycle across SAs and on one SA.
TYPED_TEST(EspReplayTest, SustainsOneOperationPerCycle) {
  using Cfg = TypeParam;
  for (uint32_t sa = 0; sa < Cfg::kNumSa; ++sa) this->Init(sa, Cfg::kWindowBits, true, k2p32 - 500);
  this->Run(0.0, 1.0, 1);
  std::mt19937_64 rng(17);
  const int kOps = 20000;
  std::vector<uint64_t> top(Cfg::kNumSa, k2p32 - 500);
  for (int i = 0; i < kOps; ++i) {
    const uint32_t sa = i < kOps / 2 ? static_cast<uint32_t>(rng() % Cfg::kNumSa) : 0u;
    top[sa] += 1 + rng() % 3;
    const uint64_t s = top[sa] - rng() % 40;
    if (i % 2 == 0) {
      this->Check(sa, s);
    } else {
      this->Update(sa, s);
    }
  }
  const uint64_t c0 = this->cycles_, stalls0 = this->in_stall_cycles_;
  this->Run(0.0, 1.0, 2);
  const double per_cycle = static_cast<double>(kOps) / static_cast<double>(this->cycles_ - c0);
  std::printf("throughput: %d ops in %llu cycles = %.3f ops/cycle (result FIFO %u)\n", kOps,
              static_cast<unsigned long long>(this->cycles_ - c0), per_cycle, Cfg::kFifo);
  if (Cfg::kFifo >= 16) {
    EXPECT_EQ(this->in_stall_cycles_ - stalls0, 0u);
    EXPECT_GT(per_cycle, 0.99);
  }
}

}  // namespace
}  // namespace ipsec::hw::esp_replay
