// Bench of the DMA blocks (hw/card/doc/dma.md): dma_tb_top = two dma_rd + two dma_wr behind
// axi_rd_mux / axi_wr_mux, served by the sim Harness (HostMemory + Axi4MemorySlave).
//
// Reference model: HostMemory itself. Reads are compared byte for byte with the memory they name;
// writes are applied to a shadow copy of each buffer in command order and the whole buffer
// (including every byte around the written ranges: the guard bytes) is compared at the end.
// Injected errors (Axi4MemorySlave::AddErrorRule on an address range) must be reported on exactly
// the commands whose bursts overlap the range: a burst covers the 64-byte lines of its command, so
// a command fails iff [addr & ~63, roundup64(addr + len)) overlaps the rule's range.
//
// Each top-level port the test drives goes through a skid buffer in dma_tb_top, so ready and
// valid as read after a clock edge are flops: the test samples them, sets its inputs, steps one
// cycle, and a transfer happened when both were high (see Tick()).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "Vdma_tb_top_dflt.h"
#include "Vdma_tb_top_x.h"
#include "sim/harness.h"

namespace ipsec::sim {
namespace {

constexpr int kEngines = 2;

// Port bindings of one engine of dma_tb_top (Verilator member types by width).
struct RdPins {
  QData* cmd_addr;
  SData* cmd_len;
  CData* cmd_valid;
  CData* cmd_ready;
  VlWide<16>* data;
  CData* bytes;
  CData* last;
  CData* err;
  CData* valid;
  CData* ready;
};
struct WrPins {
  QData* cmd_addr;
  SData* cmd_len;
  CData* cmd_valid;
  CData* cmd_ready;
  VlWide<16>* data;
  CData* bytes;
  CData* last;
  CData* valid;
  CData* ready;
  CData* done_err;
  CData* done_valid;
  CData* done_ready;
};
#define DMA_RD_PINS(m, k)                                                                                    \
  RdPins {                                                                                                   \
    &m.rd##k##_cmd_addr, &m.rd##k##_cmd_len, &m.rd##k##_cmd_valid, &m.rd##k##_cmd_ready, &m.rd##k##_data, \
        &m.rd##k##_bytes, &m.rd##k##_last, &m.rd##k##_err, &m.rd##k##_valid, &m.rd##k##_ready              \
  }
#define DMA_WR_PINS(m, k)                                                                                    \
  WrPins {                                                                                                   \
    &m.wr##k##_cmd_addr, &m.wr##k##_cmd_len, &m.wr##k##_cmd_valid, &m.wr##k##_cmd_ready, &m.wr##k##_data, \
        &m.wr##k##_bytes, &m.wr##k##_last, &m.wr##k##_valid, &m.wr##k##_ready, &m.wr##k##_done_err,       \
        &m.wr##k##_done_valid, &m.wr##k##_done_ready                                                        \
  }

// Whether a command's bursts overlap [lo, hi): bursts cover whole 64-byte lines.
bool LinesOverlap(uint64_t addr, uint32_t len, uint64_t lo, uint64_t hi) {
  const uint64_t a = addr & ~uint64_t{63};
  const uint64_t b = (addr + len + 63) & ~uint64_t{63};
  return a < hi && lo < b;
}

struct ReadCmd {
  uint64_t addr = 0;
  uint32_t len = 0;
  bool expect_err = false;
  std::vector<std::byte> expect;  // memory content at [addr, addr+len) (unchecked if expect_err)
};

struct WriteCmd {
  uint64_t addr = 0;
  std::vector<std::byte> data;
  bool expect_err = false;
};

// Random traffic shaping of the test side of one engine.
struct Shaping {
  double cmd_idle = 0.0;    // P(no command offered in a cycle where one could be)
  double out_stall = 0.0;   // P(read stream / done not accepted in a cycle)
  double in_idle = 0.0;     // P(no write stream beat offered in a cycle where one could be)
  double done_stall = -1.0; // P(wr_done not accepted in a cycle); negative: out_stall
};

struct ReadEngine {
  RdPins pins;
  Shaping shape;
  std::vector<ReadCmd> cmds;
  size_t issued = 0, done = 0;
  bool cmd_valid = false;
  std::vector<std::byte> got;  // bytes of the command being received
  uint32_t beats = 0;
  uint64_t out_beats = 0, first_beat_cycle = 0, last_beat_cycle = 0;
  uint64_t err_seen = 0;
  bool Finished() const { return done == cmds.size(); }
};

struct WriteEngine {
  WrPins pins;
  Shaping shape;
  std::vector<WriteCmd> cmds;
  size_t issued = 0, streamed = 0, done = 0;
  uint32_t beat = 0;  // next beat of cmds[streamed]
  bool cmd_valid = false, in_valid = false;
  uint64_t in_beats = 0, first_beat_cycle = 0, last_beat_cycle = 0;
  uint64_t err_seen = 0;
  bool Finished() const { return done == cmds.size(); }
};

template <class Top>
class DmaBench {
 public:
  using H = Harness<Top>;

  explicit DmaBench(const HarnessOptions& opt, uint64_t seed) : h_(opt), rng_(seed) {
    Top& m = h_.model();
    rd_[0].pins = DMA_RD_PINS(m, 0);
    rd_[1].pins = DMA_RD_PINS(m, 1);
    wr_[0].pins = DMA_WR_PINS(m, 0);
    wr_[1].pins = DMA_WR_PINS(m, 1);
  }

  H& h() { return h_; }
  ReadEngine& rd(int k) { return rd_[k]; }
  WriteEngine& wr(int k) { return wr_[k]; }
  std::mt19937_64& rng() { return rng_; }
  uint64_t rnd() { return rng_(); }
  int failures() const { return failures_; }

  bool Chance(double p) { return p > 0.0 && std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < p; }

  // A buffer of `bytes` filled with random data, and its content.
  DmaRegion RandomRegion(uint64_t bytes, std::vector<std::byte>* content = nullptr) {
    DmaRegion r = h_.memory().Alloc(bytes).value();
    std::vector<std::byte> v(bytes);
    for (auto& b : v) b = static_cast<std::byte>(rng_());
    EXPECT_TRUE(h_.memory().Write(r.iova, v).ok());
    if (content) *content = std::move(v);
    return r;
  }

  void AddRead(int k, uint64_t addr, uint32_t len, bool expect_err = false) {
    ReadCmd c;
    c.addr = addr;
    c.len = len;
    c.expect_err = expect_err;
    c.expect.resize(len);
    EXPECT_TRUE(h_.memory().Read(addr, c.expect).ok());
    rd_[k].cmds.push_back(std::move(c));
  }
  void AddWrite(int k, uint64_t addr, std::vector<std::byte> data, bool expect_err = false) {
    wr_[k].cmds.push_back({addr, std::move(data), expect_err});
  }
  std::vector<std::byte> RandomBytes(uint32_t n) {
    std::vector<std::byte> v(n);
    for (auto& b : v) b = static_cast<std::byte>(rng_());
    return v;
  }

  bool AllFinished() const {
    for (int k = 0; k < kEngines; ++k)
      if (!rd_[k].Finished() || !wr_[k].Finished()) return false;
    return true;
  }

  // Runs until every queued command has completed; false on timeout.
  bool Run(uint64_t max_cycles) {
    const uint64_t start = h_.cycle();
    while (!AllFinished()) {
      if (h_.cycle() - start > max_cycles || failures_ > 20) return false;
      Tick();
    }
    return true;
  }

  // One clock cycle: sample the flops, drive inputs, step, account the handshakes.
  void Tick() {
    struct RdSample {
      bool cmd_ready, valid, ready;
    } rs[kEngines];
    struct WrSample {
      bool cmd_ready, in_ready, done_valid, done_ready;
    } ws[kEngines];
    for (int k = 0; k < kEngines; ++k) {
      ReadEngine& e = rd_[k];
      rs[k].cmd_ready = *e.pins.cmd_ready != 0;
      rs[k].valid = *e.pins.valid != 0;
      if (!e.cmd_valid && e.issued < e.cmds.size() && !Chance(e.shape.cmd_idle)) {
        e.cmd_valid = true;
        *e.pins.cmd_addr = e.cmds[e.issued].addr;
        *e.pins.cmd_len = static_cast<SData>(e.cmds[e.issued].len);
      }
      *e.pins.cmd_valid = e.cmd_valid;
      rs[k].ready = !Chance(e.shape.out_stall);
      *e.pins.ready = rs[k].ready;
      if (rs[k].valid && rs[k].ready) TakeReadBeat(k);

      WriteEngine& w = wr_[k];
      ws[k].cmd_ready = *w.pins.cmd_ready != 0;
      ws[k].in_ready = *w.pins.ready != 0;
      ws[k].done_valid = *w.pins.done_valid != 0;
      if (!w.cmd_valid && w.issued < w.cmds.size() && !Chance(w.shape.cmd_idle)) {
        w.cmd_valid = true;
        *w.pins.cmd_addr = w.cmds[w.issued].addr;
        *w.pins.cmd_len = static_cast<SData>(w.cmds[w.issued].data.size());
      }
      *w.pins.cmd_valid = w.cmd_valid;
      if (!w.in_valid && w.streamed < w.cmds.size() && !Chance(w.shape.in_idle)) {
        w.in_valid = true;
        const auto& d = w.cmds[w.streamed].data;
        const size_t off = size_t{w.beat} * 64;
        const size_t n = std::min<size_t>(64, d.size() - off);
        std::array<std::byte, 64> beat;
        for (auto& b : beat) b = static_cast<std::byte>(rng_());  // bytes above `bytes`: junk
        std::memcpy(beat.data(), d.data() + off, n);
        for (int i = 0; i < 16; ++i) std::memcpy(&(*w.pins.data)[i], beat.data() + 4 * i, 4);
        *w.pins.bytes = static_cast<CData>(n);
        *w.pins.last = off + n == d.size();
      }
      *w.pins.valid = w.in_valid;
      ws[k].done_ready = !Chance(w.shape.done_stall >= 0.0 ? w.shape.done_stall : w.shape.out_stall);
      *w.pins.done_ready = ws[k].done_ready;
      if (ws[k].done_valid && ws[k].done_ready) TakeDone(k);
    }
    h_.Step(1);
    const uint64_t c = h_.cycle();
    for (int k = 0; k < kEngines; ++k) {
      ReadEngine& e = rd_[k];
      if (e.cmd_valid && rs[k].cmd_ready) {
        e.cmd_valid = false;
        ++e.issued;
      }
      if (rs[k].valid && rs[k].ready) {
        if (e.out_beats++ == 0) e.first_beat_cycle = c;
        e.last_beat_cycle = c;
      }
      WriteEngine& w = wr_[k];
      if (w.cmd_valid && ws[k].cmd_ready) {
        w.cmd_valid = false;
        ++w.issued;
      }
      if (w.in_valid && ws[k].in_ready) {
        w.in_valid = false;
        if (w.in_beats++ == 0) w.first_beat_cycle = c;
        w.last_beat_cycle = c;
        if ((++w.beat) * 64u >= w.cmds[w.streamed].data.size()) {
          w.beat = 0;
          ++w.streamed;
        }
      }
    }
  }

  // The written buffer must equal the shadow: every command without an expected error applied in
  // order; bytes of commands with an expected error are not checked (until rewritten).
  void CheckWrites(int k, const DmaRegion& r, std::vector<std::byte> shadow) {
    std::vector<bool> check(shadow.size(), true);
    for (const WriteCmd& c : wr_[k].cmds) {
      if (c.addr < r.iova || c.addr + c.data.size() > r.iova + r.bytes) continue;  // other buffer
      const size_t off = c.addr - r.iova;
      for (size_t i = 0; i < c.data.size(); ++i) {
        if (!c.expect_err) shadow[off + i] = c.data[i];
        check[off + i] = !c.expect_err;
      }
    }
    std::vector<std::byte> got(r.bytes);
    ASSERT_TRUE(h_.memory().Read(r.iova, got).ok());
    size_t bad = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      if (check[i] && got[i] != shadow[i]) {
        if (bad++ < 8)
          ADD_FAILURE() << "wr" << k << ": byte +" << i << " is " << int(got[i]) << ", expected " << int(shadow[i]);
      }
    }
    EXPECT_EQ(bad, 0u) << "wr" << k << ": bytes differing from the shadow";
  }

 private:
  void Fail(const std::string& what) {
    if (failures_++ < 10) ADD_FAILURE() << "cycle " << h_.cycle() << ": " << what;
  }

  void TakeReadBeat(int k) {
    ReadEngine& e = rd_[k];
    if (e.done >= e.issued) return Fail("rd" + std::to_string(k) + ": output beat with no command");
    const ReadCmd& c = e.cmds[e.done];
    std::array<std::byte, 64> beat;
    for (int i = 0; i < 16; ++i) std::memcpy(beat.data() + 4 * i, &(*e.pins.data)[i], 4);
    const unsigned bytes = *e.pins.bytes;
    const bool last = *e.pins.last != 0;
    const uint32_t before = static_cast<uint32_t>(e.got.size());
    const uint32_t expect_bytes = std::min<uint32_t>(64, c.len - std::min(c.len, before));
    const std::string id = "rd" + std::to_string(k) + " cmd " + std::to_string(e.done) + " (addr+" +
                           std::to_string(c.addr % 4096) + " len " + std::to_string(c.len) + ") beat " +
                           std::to_string(e.beats);
    const bool expect_last = before + 64 >= c.len;
    if (last != expect_last) Fail(id + ": last " + std::to_string(last));
    if (last && bytes != expect_bytes) Fail(id + ": bytes " + std::to_string(bytes));
    if (!last && bytes != 64) Fail(id + ": bytes " + std::to_string(bytes) + " on a middle beat");
    e.got.insert(e.got.end(), beat.begin(), beat.begin() + std::min<uint32_t>(64, expect_bytes));
    ++e.beats;
    if (!last) {
      if (*e.pins.err) Fail(id + ": err on a middle beat");
      return;
    }
    const bool err = *e.pins.err != 0;
    if (err) ++e.err_seen;
    if (err != c.expect_err) Fail(id + ": err " + std::to_string(err) + ", expected " + std::to_string(c.expect_err));
    if (!c.expect_err && e.got != c.expect) {
      size_t i = 0;
      while (i < c.len && e.got[i] == c.expect[i]) ++i;
      Fail(id + ": data differs from byte " + std::to_string(i));
    }
    e.got.clear();
    e.beats = 0;
    ++e.done;
  }

  void TakeDone(int k) {
    WriteEngine& w = wr_[k];
    if (w.done >= w.issued) return Fail("wr" + std::to_string(k) + ": wr_done with no command");
    const WriteCmd& c = w.cmds[w.done];
    const bool err = *w.pins.done_err != 0;
    if (err) ++w.err_seen;
    if (err != c.expect_err)
      Fail("wr" + std::to_string(k) + " cmd " + std::to_string(w.done) + " (addr+" + std::to_string(c.addr % 4096) +
           " len " + std::to_string(c.data.size()) + "): err " + std::to_string(err));
    ++w.done;
  }

  H h_;
  std::mt19937_64 rng_;
  ReadEngine rd_[kEngines];
  WriteEngine wr_[kEngines];
  int failures_ = 0;
};

uint32_t RandomLen(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0:
      return 1 + rng() % 200;  // short: one or a few beats, every end lane
    case 1:
      return 1400 + rng() % 200;  // packet sized
    default:
      return 1 + rng() % 9216;  // up to a jumbo frame
  }
}

HarnessOptions RandomSlave(uint64_t seed, bool stalls) {
  std::mt19937_64 rng(seed * 7919 + 1);
  HarnessOptions opt;
  opt.slave.seed = seed;
  opt.slave.read_latency_cycles = 2 + static_cast<uint32_t>(rng() % 60);
  opt.slave.write_latency_cycles = 1 + static_cast<uint32_t>(rng() % 30);
  opt.slave.latency_jitter_cycles = static_cast<uint32_t>(rng() % 20);
  if (stalls) {
    opt.slave.ar_stall = 0.3;
    opt.slave.aw_stall = 0.3;
    opt.slave.w_stall = 0.3;
    opt.slave.r_idle = 0.3;
    opt.slave.b_idle = 0.3;
  }
  opt.slave.reorder_by_id = (seed % 2) == 0;
  return opt;
}

Shaping RandomShaping(uint64_t seed) {
  switch (seed % 3) {
    case 0:
      return {0.0, 0.0, 0.0};
    case 1:
      return {0.3, 0.3, 0.3};
    default:
      return {0.6, 0.7, 0.5};
  }
}

// The card's settings (engine 0: MaxBurst 64, Outstanding 8; engine 1: 8, 2).
using Bench = DmaBench<Vdma_tb_top_dflt>;
// The extremes: engine 0 MaxBurst 16, Outstanding 1; engine 1 MaxBurst 1, Outstanding 1.
using BenchX = DmaBench<Vdma_tb_top_x>;

class DmaTest : public ::testing::Test {
 protected:
  template <class B>
  static void ExpectClean(B& b, bool errors_expected = false) {
    EXPECT_EQ(b.h().violation_count(), 0u) << b.h().ViolationReport();
    if (!errors_expected) {
      EXPECT_EQ(b.h().slave().stats().slverr + b.h().slave().stats().decerr, 0u);
      EXPECT_EQ(b.h().slave().stats().protocol_errors, 0u);
    }
  }
};

constexpr uint64_t kBufBytes = 64 * 1024;

// Random reads on both engines (engine 0: 64-beat bursts, 8 outstanding; engine 1: 8-beat bursts,
// 2 outstanding), compared byte for byte, under random latency, AXI stalls and stream
// back-pressure.
TEST_F(DmaTest, RandomReadsMatchMemory) {
  uint64_t total = 0;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    Bench b(RandomSlave(seed, seed >= 3), seed);
    const DmaRegion r = b.RandomRegion(kBufBytes);
    for (int k = 0; k < kEngines; ++k) {
      b.rd(k).shape = RandomShaping(seed + k);
      for (int i = 0; i < 1000; ++i) {
        const uint32_t len = RandomLen(b.rng());
        b.AddRead(k, r.iova + b.rnd() % (kBufBytes - len + 1), len);
      }
    }
    ASSERT_TRUE(b.Run(5'000'000)) << "seed " << seed << ": timeout";
    EXPECT_EQ(b.failures(), 0) << "seed " << seed;
    ExpectClean(b);
    total += b.rd(0).done + b.rd(1).done;
  }
  std::printf("[ dma ] %llu random reads checked\n", static_cast<unsigned long long>(total));
}

// Random writes on both engines, each into its own buffer (overlapping commands within an engine
// land in order), compared with a shadow copy over the whole buffer: nothing outside each
// [addr, addr+len) changes.
TEST_F(DmaTest, RandomWritesExactWithGuardBytes) {
  uint64_t total = 0;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    Bench b(RandomSlave(seed + 10, seed >= 3), seed + 10);
    std::vector<std::byte> before[kEngines];
    DmaRegion r[kEngines];
    for (int k = 0; k < kEngines; ++k) {
      r[k] = b.RandomRegion(kBufBytes, &before[k]);
      b.wr(k).shape = RandomShaping(seed + k);
      for (int i = 0; i < 1000; ++i) {
        const uint32_t len = RandomLen(b.rng());
        b.AddWrite(k, r[k].iova + b.rnd() % (kBufBytes - len + 1), b.RandomBytes(len));
      }
    }
    ASSERT_TRUE(b.Run(5'000'000)) << "seed " << seed << ": timeout";
    EXPECT_EQ(b.failures(), 0) << "seed " << seed;
    for (int k = 0; k < kEngines; ++k) b.CheckWrites(k, r[k], before[k]);
    ExpectClean(b);
    total += b.wr(0).done + b.wr(1).done;
  }
  std::printf("[ dma ] %llu random writes checked\n", static_cast<unsigned long long>(total));
}

// wr_done taken rarely while commands and data come as fast as they can: every wr_done place of
// dma_wr fills up (16 open commands) with the next command waiting in its command register, so
// the port holds back commands for long stretches. Each command is still written exactly once
// (dma_wr used to push the held command to its generator again every time it fired in that
// state: duplicate AW bursts and a stream whose `last` no longer matched its command).
TEST_F(DmaTest, WritesWhileWrDoneIsHeldBack) {
  for (uint64_t seed = 31; seed <= 32; ++seed) {
    Bench b(RandomSlave(seed, seed == 32), seed);
    std::vector<std::byte> before[kEngines];
    DmaRegion r[kEngines];
    for (int k = 0; k < kEngines; ++k) {
      r[k] = b.RandomRegion(kBufBytes, &before[k]);
      b.wr(k).shape = Shaping{};
      b.wr(k).shape.done_stall = 0.95;
      for (int i = 0; i < 400; ++i) {
        const uint32_t len = (i % 3 == 0) ? RandomLen(b.rng()) : 1 + b.rnd() % 100;
        b.AddWrite(k, r[k].iova + b.rnd() % (kBufBytes - len + 1), b.RandomBytes(len));
      }
    }
    ASSERT_TRUE(b.Run(5'000'000)) << "seed " << seed << ": timeout";
    EXPECT_EQ(b.failures(), 0) << "seed " << seed;
    for (int k = 0; k < kEngines; ++k) {
      EXPECT_EQ(b.wr(k).done, b.wr(k).cmds.size()) << "seed " << seed << " engine " << k;
      b.CheckWrites(k, r[k], before[k]);
    }
    ExpectClean(b);
  }
}

// All four engines at once through both muxes, responses reordered between IDs.
TEST_F(DmaTest, ReadsAndWritesConcurrently) {
  uint64_t total = 0;
  for (uint64_t seed = 21; seed <= 23; ++seed) {
    HarnessOptions opt = RandomSlave(seed, seed != 21);
    opt.slave.reorder_by_id = true;
    Bench b(opt, seed);
    const DmaRegion src = b.RandomRegion(kBufBytes);
    std::vector<std::byte> before[kEngines];
    DmaRegion r[kEngines];
    for (int k = 0; k < kEngines; ++k) {
      r[k] = b.RandomRegion(kBufBytes, &before[k]);
      b.rd(k).shape = RandomShaping(seed + k);
      b.wr(k).shape = RandomShaping(seed + k + 1);
      for (int i = 0; i < 300; ++i) {
        uint32_t len = RandomLen(b.rng());
        b.AddRead(k, src.iova + b.rnd() % (kBufBytes - len + 1), len);
        len = RandomLen(b.rng());
        b.AddWrite(k, r[k].iova + b.rnd() % (kBufBytes - len + 1), b.RandomBytes(len));
      }
    }
    ASSERT_TRUE(b.Run(5'000'000)) << "seed " << seed << ": timeout";
    EXPECT_EQ(b.failures(), 0) << "seed " << seed;
    for (int k = 0; k < kEngines; ++k) b.CheckWrites(k, r[k], before[k]);
    ExpectClean(b);
    total += b.rd(0).done + b.rd(1).done + b.wr(0).done + b.wr(1).done;
  }
  std::printf("[ dma ] %llu concurrent commands checked\n", static_cast<unsigned long long>(total));
}

// Every start lane just below a 4 KiB line, with lengths that end before, on and after it and
// cross the next one too; the slave flags any burst crossing 4 KiB as a protocol violation.
TEST_F(DmaTest, Crosses4KiBLines) {
  HarnessOptions opt;
  opt.slave.read_latency_cycles = 10;
  Bench b(opt, 5);
  const DmaRegion src = b.RandomRegion(5 * 4096);
  std::vector<std::byte> before[kEngines];
  DmaRegion r[kEngines];
  const uint32_t lens[] = {1, 2, 63, 64, 65, 127, 128, 129, 4095, 4096, 4097, 8191, 8192, 8193};
  for (int k = 0; k < kEngines; ++k) r[k] = b.RandomRegion(5 * 4096, &before[k]);
  for (uint32_t back = 1; back <= 130; back += (back < 66 ? 1 : 7)) {
    for (uint32_t len : lens) {
      for (int k = 0; k < kEngines; ++k) {
        const uint64_t off = 4096 - back;
        b.AddRead(k, src.iova + off, len);
        b.AddWrite(k, r[k].iova + off + (k ? 4096 : 0), b.RandomBytes(len));
      }
    }
  }
  ASSERT_TRUE(b.Run(10'000'000)) << "timeout";
  EXPECT_EQ(b.failures(), 0);
  for (int k = 0; k < kEngines; ++k) b.CheckWrites(k, r[k], before[k]);
  ExpectClean(b);
  std::printf("[ dma ] %zu reads and %zu writes at 4 KiB lines\n", b.rd(0).cmds.size() * 2, b.wr(0).cmds.size() * 2);
}

// A read error (SLVERR or DECERR from an ErrorRule on one 64-byte line) is reported on the last
// beat of exactly the commands that read that line; every beat count stays the same and later
// commands' data and flags are unaffected.
TEST_F(DmaTest, ReadErrorsReportedOnTheRightCommand) {
  for (uint64_t seed = 31; seed <= 33; ++seed) {
    Bench b(RandomSlave(seed, seed == 33), seed);
    const DmaRegion r = b.RandomRegion(kBufBytes);
    // Two bad lines, one answering SLVERR forever, one DECERR forever.
    const uint64_t bad[2] = {r.iova + 64 * (b.rnd() % 1024), r.iova + 64 * (b.rnd() % 1024)};
    for (int i = 0; i < 2; ++i) {
      ErrorRule rule;
      rule.match = ErrorRule::Match::kAddressRange;
      rule.dir = AxiDir::kRead;
      rule.lo = bad[i];
      rule.hi = bad[i] + 64;
      rule.resp = i ? AxiResp::kDecErr : AxiResp::kSlvErr;
      rule.times = 0;
      b.h().slave().AddErrorRule(rule);
    }
    uint64_t expected_errors = 0;
    for (int k = 0; k < kEngines; ++k) {
      b.rd(k).shape = RandomShaping(seed + k);
      for (int i = 0; i < 300; ++i) {
        const uint32_t len = RandomLen(b.rng());
        // Half the commands aimed near a bad line, so many hit it and many just miss it.
        uint64_t addr;
        if (b.rnd() % 2) {
          const uint64_t near = bad[b.rnd() % 2] - r.iova;
          const int64_t lo = std::max<int64_t>(0, static_cast<int64_t>(near) - len - 64);
          const int64_t hi = std::min<int64_t>(kBufBytes - len, near + 128);
          addr = r.iova + lo + b.rnd() % (hi - lo + 1);
        } else {
          addr = r.iova + b.rnd() % (kBufBytes - len + 1);
        }
        const bool err = LinesOverlap(addr, len, bad[0], bad[0] + 64) || LinesOverlap(addr, len, bad[1], bad[1] + 64);
        expected_errors += err;
        b.AddRead(k, addr, len, err);
      }
    }
    ASSERT_TRUE(b.Run(5'000'000)) << "seed " << seed << ": timeout";
    EXPECT_EQ(b.failures(), 0) << "seed " << seed;
    EXPECT_EQ(b.rd(0).err_seen + b.rd(1).err_seen, expected_errors);
    EXPECT_GT(expected_errors, 50u);
    ExpectClean(b, true);
    std::printf("[ dma ] seed %llu: %llu of 600 reads hit an injected error, all flagged\n",
                static_cast<unsigned long long>(seed), static_cast<unsigned long long>(expected_errors));
  }
}

// A write error (an ErrorRule on a 64-byte line: the burst is not written and its B is SLVERR or
// DECERR) gives wr_done.err = 1 on exactly the commands that wrote that line; other commands
// complete with err = 0 and their bytes land.
TEST_F(DmaTest, WriteErrorsReportedOnTheRightCommand) {
  for (uint64_t seed = 41; seed <= 43; ++seed) {
    Bench b(RandomSlave(seed, seed == 43), seed);
    std::vector<std::byte> before[kEngines];
    DmaRegion r[kEngines];
    uint64_t expected_errors = 0;
    for (int k = 0; k < kEngines; ++k) {
      r[k] = b.RandomRegion(kBufBytes, &before[k]);
      const uint64_t bad = r[k].iova + 64 * (b.rnd() % 1024);
      ErrorRule rule;
      rule.match = ErrorRule::Match::kAddressRange;
      rule.dir = AxiDir::kWrite;
      rule.lo = bad;
      rule.hi = bad + 64;
      rule.resp = k ? AxiResp::kDecErr : AxiResp::kSlvErr;
      rule.times = 0;
      b.h().slave().AddErrorRule(rule);
      b.wr(k).shape = RandomShaping(seed + k);
      for (int i = 0; i < 300; ++i) {
        const uint32_t len = RandomLen(b.rng());
        uint64_t addr;
        if (b.rnd() % 2) {
          const uint64_t near = bad - r[k].iova;
          const int64_t lo = std::max<int64_t>(0, static_cast<int64_t>(near) - len - 64);
          const int64_t hi = std::min<int64_t>(kBufBytes - len, near + 128);
          addr = r[k].iova + lo + b.rnd() % (hi - lo + 1);
        } else {
          addr = r[k].iova + b.rnd() % (kBufBytes - len + 1);
        }
        const bool err = LinesOverlap(addr, len, bad, bad + 64);
        expected_errors += err;
        b.AddWrite(k, addr, b.RandomBytes(len), err);
      }
    }
    ASSERT_TRUE(b.Run(5'000'000)) << "seed " << seed << ": timeout";
    EXPECT_EQ(b.failures(), 0) << "seed " << seed;
    EXPECT_EQ(b.wr(0).err_seen + b.wr(1).err_seen, expected_errors);
    EXPECT_GT(expected_errors, 50u);
    for (int k = 0; k < kEngines; ++k) b.CheckWrites(k, r[k], before[k]);
    ExpectClean(b, true);
    std::printf("[ dma ] seed %llu: %llu of 600 writes hit an injected error, all flagged\n",
                static_cast<unsigned long long>(seed), static_cast<unsigned long long>(expected_errors));
  }
}

// Steady state: back-to-back 1500-byte commands at random alignments on engine 0 (64-beat bursts,
// 8 outstanding), 64 cycles of read latency, no stalls: the stream must move >= 0.9 beats/cycle.
TEST_F(DmaTest, SteadyStateThroughputAt1500Bytes) {
  constexpr int kCmds = 1000;
  double rd_rate = 0, wr_rate = 0, wr_axi_rate = 0, both_rd = 0, both_wr = 0;
  {
    HarnessOptions opt;
    opt.slave.read_latency_cycles = 64;
    Bench b(opt, 51);
    const DmaRegion r = b.RandomRegion(kBufBytes);
    for (int i = 0; i < kCmds; ++i) b.AddRead(0, r.iova + b.rnd() % (kBufBytes - 1500), 1500);
    ASSERT_TRUE(b.Run(1'000'000));
    EXPECT_EQ(b.failures(), 0);
    const ReadEngine& e = b.rd(0);
    rd_rate = double(e.out_beats) / double(e.last_beat_cycle - e.first_beat_cycle + 1);
    ExpectClean(b);
  }
  {
    HarnessOptions opt;
    opt.slave.write_latency_cycles = 32;
    Bench b(opt, 52);
    std::vector<std::byte> before;
    const DmaRegion r = b.RandomRegion(kBufBytes, &before);
    for (int i = 0; i < kCmds; ++i) b.AddWrite(0, r.iova + b.rnd() % (kBufBytes - 1500), b.RandomBytes(1500));
    ASSERT_TRUE(b.Run(1'000'000));
    EXPECT_EQ(b.failures(), 0);
    const WriteEngine& w = b.wr(0);
    const double cycles = double(w.last_beat_cycle - w.first_beat_cycle + 1);
    wr_rate = double(w.in_beats) / cycles;
    wr_axi_rate = double(b.h().slave().stats().write_beats) / cycles;
    b.CheckWrites(0, r, before);
    ExpectClean(b);
  }
  {
    // Engine 0 reading and writing at once (independent AXI channels).
    HarnessOptions opt;
    opt.slave.read_latency_cycles = 64;
    opt.slave.write_latency_cycles = 32;
    Bench b(opt, 53);
    const DmaRegion src = b.RandomRegion(kBufBytes);
    std::vector<std::byte> before;
    const DmaRegion r = b.RandomRegion(kBufBytes, &before);
    for (int i = 0; i < kCmds; ++i) {
      b.AddRead(0, src.iova + b.rnd() % (kBufBytes - 1500), 1500);
      b.AddWrite(0, r.iova + b.rnd() % (kBufBytes - 1500), b.RandomBytes(1500));
    }
    ASSERT_TRUE(b.Run(1'000'000));
    EXPECT_EQ(b.failures(), 0);
    both_rd = double(b.rd(0).out_beats) / double(b.rd(0).last_beat_cycle - b.rd(0).first_beat_cycle + 1);
    both_wr = double(b.wr(0).in_beats) / double(b.wr(0).last_beat_cycle - b.wr(0).first_beat_cycle + 1);
    b.CheckWrites(0, r, before);
    ExpectClean(b);
  }
  std::printf("[ dma ] 1500-byte steady state, read latency 64, write latency 32, MaxBurst 64, 8 outstanding:\n"
              "[ dma ]   read stream  %.3f beats/cycle\n"
              "[ dma ]   write stream %.3f beats/cycle (AXI W %.3f beats/cycle)\n"
              "[ dma ]   read + write at once: %.3f / %.3f beats/cycle\n",
              rd_rate, wr_rate, wr_axi_rate, both_rd, both_wr);
  EXPECT_GE(rd_rate, 0.9);
  EXPECT_GE(wr_rate, 0.9);
  EXPECT_GE(both_rd, 0.9);
  EXPECT_GE(both_wr, 0.9);
}

// The extreme parameter set (one burst in flight; single-beat bursts on engine 1, so every W beat
// carries WLAST): random reads and writes on all four engines at once, with stalls.
TEST_F(DmaTest, ExtremeParametersRandomTraffic) {
  uint64_t total = 0;
  for (uint64_t seed = 61; seed <= 62; ++seed) {
    HarnessOptions opt = RandomSlave(seed, seed == 62);
    opt.slave.reorder_by_id = true;
    BenchX b(opt, seed);
    const DmaRegion src = b.RandomRegion(kBufBytes);
    std::vector<std::byte> before[kEngines];
    DmaRegion r[kEngines];
    for (int k = 0; k < kEngines; ++k) {
      r[k] = b.RandomRegion(kBufBytes, &before[k]);
      b.rd(k).shape = RandomShaping(seed + k);
      b.wr(k).shape = RandomShaping(seed + k + 1);
      for (int i = 0; i < 250; ++i) {
        uint32_t len = RandomLen(b.rng());
        b.AddRead(k, src.iova + b.rnd() % (kBufBytes - len + 1), len);
        len = RandomLen(b.rng());
        b.AddWrite(k, r[k].iova + b.rnd() % (kBufBytes - len + 1), b.RandomBytes(len));
      }
    }
    ASSERT_TRUE(b.Run(10'000'000)) << "seed " << seed << ": timeout";
    EXPECT_EQ(b.failures(), 0) << "seed " << seed;
    for (int k = 0; k < kEngines; ++k) b.CheckWrites(k, r[k], before[k]);
    ExpectClean(b);
    EXPECT_EQ(b.h().slave().stats().max_reads_in_flight <= 2, true);
    total += b.rd(0).done + b.rd(1).done + b.wr(0).done + b.wr(1).done;
  }
  std::printf("[ dma ] %llu commands checked with MaxBurst 16/1, Outstanding 1\n", static_cast<unsigned long long>(total));
}

// A response nothing asked for (a broken interconnect or host) is drained, never taken for
// data or for another burst's response: the engine it is routed to reports it (fault_o; this
// bench's interrupt is a sticky "fault seen" flag) and the traffic before and after stays exact.
TEST_F(DmaTest, StrayResponsesAreDrainedAndReported) {
  constexpr uint32_t kSIdW = 2;  // dma_tb_top's SIdW: the mux puts the engine's index above it
  struct Case {
    AxiDir dir;
    uint32_t id;
    const char* name;
  };
  for (const Case& c : {Case{AxiDir::kWrite, 0u << kSIdW, "B to engine 0"}, Case{AxiDir::kWrite, 1u << kSIdW, "B to engine 1"},
                        Case{AxiDir::kRead, 0u << kSIdW, "R to engine 0"}, Case{AxiDir::kRead, 1u << kSIdW, "R to engine 1"}}) {
    SCOPED_TRACE(c.name);
    Bench b(HarnessOptions{}, 41);
    const DmaRegion src = b.RandomRegion(8192);
    std::vector<std::byte> before[kEngines];
    DmaRegion r[kEngines];
    for (int k = 0; k < kEngines; ++k) r[k] = b.RandomRegion(8192, &before[k]);
    auto traffic = [&](uint32_t salt) {
      for (uint32_t i = 0; i < 20; ++i) {
        for (int k = 0; k < kEngines; ++k) {
          const uint32_t off = (i * 397 + salt) % 4000, len = 1 + (i * 131 + salt) % 3000;
          b.AddRead(k, src.iova + off, len);
          b.AddWrite(k, r[k].iova + off, b.RandomBytes(len));
        }
      }
      ASSERT_TRUE(b.Run(1'000'000)) << "timeout";
    };
    traffic(0);
    EXPECT_FALSE(b.h().interrupt());
    b.h().slave().InjectStrayResponse(c.dir, c.id);
    for (int i = 0; i < 200; ++i) b.Tick();
    EXPECT_TRUE(b.h().interrupt()) << "not reported";
    traffic(7);
    EXPECT_EQ(b.failures(), 0);
    for (int k = 0; k < kEngines; ++k) b.CheckWrites(k, r[k], before[k]);
    EXPECT_TRUE(b.h().slave().Idle()) << "the stray response was not taken";
  }
}

// The dummy register slave answers, so the Harness's register master works with this top.
TEST_F(DmaTest, ControlSlaveAnswers) {
  Bench b(HarnessOptions{}, 1);
  EXPECT_EQ(b.h().lite().Read32(0).value(), 0x444D4131u);
  EXPECT_TRUE(b.h().lite().Write32(4, 1).ok());
  EXPECT_FALSE(b.h().interrupt());
}

}  // namespace
}  // namespace ipsec::sim
