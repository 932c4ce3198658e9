// Axi4MemorySlave driven by a scripted C++ AXI4 master (no RTL): burst addressing (INCR, narrow
// and unaligned, per the AXI4 spec's byte-lane equations, AMBA AXI IHI 0022 A3.4.2), latency,
// outstanding limits, reordering by ID, error injection, unmapped accesses, and the protocol
// checks, which need a master that misbehaves on purpose.
#include "sim/axi4_memory_slave.h"

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <map>
#include <random>
#include <vector>

namespace ipsec::sim {
namespace {

struct Req {
  uint32_t id = 0;
  uint64_t addr = 0;
  uint8_t len = 0;   // AxLEN
  uint8_t size = 6;  // AxSIZE
  uint8_t burst = 1;
};

struct RBeat {
  uint32_t id;
  AxiBeat data;
  AxiResp resp;
  bool last;
  uint64_t cycle;
};

// AXI4 A3.4.2: the byte lanes of beat n (0-based) of an INCR burst on a 64-byte bus.
void SpecLanes(const Req& r, unsigned n, uint64_t* addr_n, unsigned* lo, unsigned* hi) {
  const uint64_t nbytes = 1ull << r.size;
  const uint64_t aligned = (r.addr / nbytes) * nbytes;
  if (n == 0) {
    *addr_n = r.addr;
    *lo = static_cast<unsigned>(r.addr - (r.addr / 64) * 64);
    *hi = static_cast<unsigned>(aligned + (nbytes - 1) - (r.addr / 64) * 64);
  } else {
    *addr_n = aligned + n * nbytes;
    *lo = static_cast<unsigned>(*addr_n - (*addr_n / 64) * 64);
    *hi = *lo + static_cast<unsigned>(nbytes) - 1;
  }
}

// A well-behaved master unless told otherwise: one AR and one AW channel register each, W beats
// in AW order, always ready for R and B.
class TestMaster {
 public:
  std::deque<Req> ar, aw;
  std::deque<std::pair<std::vector<std::byte>, uint64_t>> w;  // beat data (64 bytes), strobes
  std::deque<bool> wlast;
  std::vector<RBeat> r;
  std::vector<std::pair<uint32_t, AxiResp>> b;
  std::map<uint64_t, uint64_t> ar_cycle;  // AR handshake cycle by request index
  uint64_t ar_issued = 0;
  // Misbehaviour hooks: called on the outputs before they are sampled.
  std::function<void(uint64_t, Axi4MasterOut&)> tamper;

  void QueueWrite(const Req& req, const std::vector<std::byte>& mem_image, uint64_t base, bool last_early = false) {
    aw.push_back(req);
    for (unsigned n = 0; n <= req.len; ++n) {
      uint64_t an = 0;
      unsigned lo = 0, hi = 0;
      SpecLanes(req, n, &an, &lo, &hi);
      std::vector<std::byte> beat(64, std::byte{0});
      uint64_t strb = 0;
      const uint64_t line = an & ~63ull;
      for (unsigned j = lo; j <= hi; ++j) {
        beat[j] = mem_image[line + j - base];
        strb |= 1ull << j;
      }
      w.push_back({beat, strb});
      wlast.push_back(last_early ? n + 1 == req.len : n == req.len);
    }
  }

  Axi4MasterOut Outputs(uint64_t cycle) {
    Axi4MasterOut o;
    if (!ar.empty()) {
      o.arvalid = true;
      o.araddr = ar.front().addr;
      o.arid = ar.front().id;
      o.arlen = ar.front().len;
      o.arsize = ar.front().size;
      o.arburst = ar.front().burst;
    }
    if (!aw.empty()) {
      o.awvalid = true;
      o.awaddr = aw.front().addr;
      o.awid = aw.front().id;
      o.awlen = aw.front().len;
      o.awsize = aw.front().size;
      o.awburst = aw.front().burst;
    }
    if (!w.empty()) {
      o.wvalid = true;
      std::copy(w.front().first.begin(), w.front().first.end(), o.wdata.begin());
      o.wstrb = w.front().second;
      o.wlast = wlast.front();
    }
    o.rready = true;
    o.bready = true;
    if (tamper) tamper(cycle, o);
    return o;
  }

  void Update(uint64_t cycle, const Axi4MasterOut& o, const Axi4SlaveOut& s) {
    if (o.arvalid && s.arready && !ar.empty()) {
      ar.pop_front();
      ar_cycle[ar_issued++] = cycle;
    }
    if (o.awvalid && s.awready && !aw.empty()) aw.pop_front();
    if (o.wvalid && s.wready && !w.empty()) {
      w.pop_front();
      wlast.pop_front();
    }
    if (s.rvalid && o.rready) r.push_back({s.rid, s.rdata, static_cast<AxiResp>(s.rresp), s.rlast, cycle});
    if (s.bvalid && o.bready) b.push_back({s.bid, static_cast<AxiResp>(s.bresp)});
  }
};

class Axi4MemorySlaveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    region_ = mem_.Alloc(kBytes).value();
    image_.resize(kBytes);
    std::mt19937_64 rng(42);
    for (auto& b : image_) b = static_cast<std::byte>(rng());
    ASSERT_TRUE(mem_.Write(region_.iova, image_).ok());
  }

  // Runs until the master has nothing left and the slave is idle, or `max` cycles.
  void Run(Axi4MemorySlave& slave, TestMaster& m, uint64_t max = 100000) {
    for (uint64_t i = 0; i < max; ++i) {
      const Axi4SlaveOut s = slave.Drive(cycle_);
      const Axi4MasterOut o = m.Outputs(cycle_);
      slave.Sample(cycle_, o);
      m.Update(cycle_, o, s);
      ++cycle_;
      if (m.ar.empty() && m.aw.empty() && m.w.empty() && slave.Idle()) return;
    }
    ADD_FAILURE() << "bench did not drain";
  }

  // Checks the R beats of `reqs` (in order, one ID) against the memory image.
  void ExpectReadData(const std::vector<Req>& reqs, const std::vector<RBeat>& beats) {
    size_t k = 0;
    for (const Req& req : reqs) {
      for (unsigned n = 0; n <= req.len; ++n, ++k) {
        ASSERT_LT(k, beats.size());
        uint64_t an = 0;
        unsigned lo = 0, hi = 0;
        SpecLanes(req, n, &an, &lo, &hi);
        const uint64_t line = an & ~63ull;
        for (unsigned j = lo; j <= hi; ++j) {
          ASSERT_EQ(beats[k].data[j], image_[line + j - region_.iova]) << "beat " << n << " lane " << j;
        }
        EXPECT_EQ(beats[k].last, n == req.len);
        EXPECT_EQ(beats[k].resp, AxiResp::kOkay);
      }
    }
    EXPECT_EQ(k, beats.size());
  }

  static constexpr uint64_t kBytes = 64 * 1024;
  HostMemory mem_;
  DmaRegion region_;
  std::vector<std::byte> image_;
  uint64_t cycle_ = 0;
};

TEST_F(Axi4MemorySlaveTest, ReadsFullNarrowAndUnalignedBurstsByteExact) {
  Axi4SlaveConfig cfg;
  cfg.ar_stall = 0.3;
  cfg.r_idle = 0.3;
  cfg.latency_jitter_cycles = 5;
  Axi4MemorySlave slave(mem_, cfg);
  TestMaster m;
  const uint64_t a = region_.iova;
  std::vector<Req> reqs = {
      {0, a, 0, 6},          {0, a + 64, 15, 6},     {0, a + 0x1005, 3, 6},  // unaligned start, full width
      {0, a + 0x2006, 3, 2}, {0, a + 0x203F, 7, 0},                          // narrow: 4-byte and 1-byte beats
      {0, a + 0x3010, 5, 4}, {0, a + 0x4000, 63, 6},                         // 16-byte beats; 64 x 64 = 4 KiB
  };
  for (const Req& r : reqs) m.ar.push_back(r);
  Run(slave, m);
  ExpectReadData(reqs, m.r);
  EXPECT_EQ(slave.violation_count(), 0u);
  EXPECT_EQ(slave.stats().read_bursts, reqs.size());
  EXPECT_EQ(slave.stats().read_beats, m.r.size());
  EXPECT_GT(slave.stats().ar_stall_cycles, 0u);
  EXPECT_EQ(slave.stats().bytes_read, 64u + 1024 + (59 + 3 * 64) + (2 + 3 * 4) + 8 + 6 * 16 + 4096);
}

TEST_F(Axi4MemorySlaveTest, WritesHonourStrobesAndLanes) {
  Axi4SlaveConfig cfg;
  cfg.aw_stall = 0.2;
  cfg.w_stall = 0.4;
  cfg.b_idle = 0.3;
  Axi4MemorySlave slave(mem_, cfg);
  TestMaster m;
  // Source image for the writes: the inverse of memory, so every written byte changes.
  std::vector<std::byte> src(image_.size());
  for (size_t i = 0; i < src.size(); ++i) src[i] = ~image_[i];
  const uint64_t a = region_.iova;
  const std::vector<Req> reqs = {
      {1, a + 0x100, 3, 6}, {2, a + 0x1003, 1, 6}, {3, a + 0x2002, 5, 1}, {4, a + 0x3F00, 3, 6}};
  std::vector<bool> written(image_.size(), false);
  for (const Req& r : reqs) {
    m.QueueWrite(r, src, a);
    for (unsigned n = 0; n <= r.len; ++n) {
      uint64_t an = 0;
      unsigned lo = 0, hi = 0;
      SpecLanes(r, n, &an, &lo, &hi);
      for (unsigned j = lo; j <= hi; ++j) written[(an & ~63ull) + j - a] = true;
    }
  }
  // Drop one strobe in the middle of the first beat: that byte must stay as it was.
  m.w.front().second &= ~(1ull << 5);
  written[0x105] = false;
  Run(slave, m);
  std::vector<std::byte> after(image_.size());
  ASSERT_TRUE(mem_.Read(a, after).ok());
  for (size_t i = 0; i < after.size(); ++i) {
    ASSERT_EQ(after[i], written[i] ? src[i] : image_[i]) << "offset " << i;
  }
  ASSERT_EQ(m.b.size(), reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i) EXPECT_EQ(m.b[i].first, reqs[i].id);  // in order by default
  EXPECT_EQ(slave.violation_count(), 0u) << slave.violations().front().what;
  EXPECT_EQ(slave.stats().bytes_written, static_cast<uint64_t>(std::count(written.begin(), written.end(), true)));
}

TEST_F(Axi4MemorySlaveTest, FirstReadBeatWaitsForTheLatency) {
  Axi4SlaveConfig cfg;
  cfg.read_latency_cycles = 37;
  Axi4MemorySlave slave(mem_, cfg);
  TestMaster m;
  m.ar.push_back({0, region_.iova, 1, 6});
  Run(slave, m);
  ASSERT_EQ(m.r.size(), 2u);
  EXPECT_GE(m.r[0].cycle, m.ar_cycle[0] + 37);
  EXPECT_LE(m.r[0].cycle, m.ar_cycle[0] + 38);
}

TEST_F(Axi4MemorySlaveTest, RespectsTheOutstandingLimit) {
  Axi4SlaveConfig cfg;
  cfg.read_latency_cycles = 20;
  cfg.max_outstanding_reads = 3;
  Axi4MemorySlave slave(mem_, cfg);
  TestMaster m;
  for (int i = 0; i < 10; ++i) m.ar.push_back({0, region_.iova + 64u * static_cast<uint64_t>(i), 0, 6});
  Run(slave, m);
  EXPECT_EQ(slave.stats().max_reads_in_flight, 3u);
  EXPECT_EQ(m.r.size(), 10u);
}

TEST_F(Axi4MemorySlaveTest, ReordersResponsesAcrossIdsButNeverWithinOne) {
  Axi4SlaveConfig cfg;
  cfg.reorder_by_id = true;
  cfg.read_latency_cycles = 4;
  cfg.latency_jitter_cycles = 30;
  cfg.seed = 9;
  Axi4MemorySlave slave(mem_, cfg);
  TestMaster m;
  std::map<uint32_t, std::vector<uint64_t>> issued;  // addresses per ID, in issue order
  for (int i = 0; i < 40; ++i) {
    const uint32_t id = static_cast<uint32_t>(i % 4);
    const uint64_t addr = region_.iova + 256u * static_cast<uint64_t>(i);
    m.ar.push_back({id, addr, 1, 6});
    issued[id].push_back(addr);
  }
  Run(slave, m);
  EXPECT_GT(slave.stats().reordered, 0u);
  // Per ID, bursts come back whole and in issue order: identify each by its first data byte.
  std::map<uint32_t, size_t> next;
  for (size_t k = 0; k < m.r.size(); k += 2) {
    const uint32_t id = m.r[k].id;
    ASSERT_EQ(m.r[k + 1].id, id) << "bursts are not interleaved";
    ASSERT_TRUE(m.r[k + 1].last);
    const uint64_t addr = issued[id][next[id]++];
    EXPECT_EQ(m.r[k].data[0], image_[addr - region_.iova]);
  }
}

TEST_F(Axi4MemorySlaveTest, UnmappedBurstAnswersDecerrAndIsLogged) {
  Axi4MemorySlave slave(mem_);
  TestMaster m;
  const uint64_t past_end = region_.iova + kBytes;  // the guard page
  m.ar.push_back({5, past_end + 64, 1, 6});         // inside the guard page
  std::vector<std::byte> src(kBytes + 128);
  m.QueueWrite({6, past_end, 0, 6}, src, region_.iova);
  Run(slave, m);
  ASSERT_EQ(m.r.size(), 2u);
  EXPECT_EQ(m.r[0].resp, AxiResp::kDecErr);
  EXPECT_EQ(m.r[1].resp, AxiResp::kDecErr);
  EXPECT_EQ(m.r[0].data[0], std::byte{0}) << "error beats carry no memory contents";
  ASSERT_EQ(m.b.size(), 1u);
  EXPECT_EQ(m.b[0].second, AxiResp::kDecErr);
  EXPECT_EQ(slave.stats().decerr, 2u);
  EXPECT_EQ(slave.stats().unmapped, 2u);
  ASSERT_EQ(slave.dma_errors().size(), 2u);
  EXPECT_EQ(slave.dma_errors()[0].cause, DmaErrorCause::kUnmapped);
  EXPECT_EQ(slave.dma_errors()[0].addr, past_end + 64);
  EXPECT_EQ(slave.dma_errors()[1].dir, AxiDir::kWrite);
  EXPECT_EQ(slave.violation_count(), 0u) << "a bad address is a DMA error, not a protocol violation";
}

TEST_F(Axi4MemorySlaveTest, InjectsErrorsByIndexAndByAddressRange) {
  Axi4MemorySlave slave(mem_);
  slave.AddErrorRule({ErrorRule::Match::kNth, AxiDir::kRead, false, 0, 0, 2, AxiResp::kSlvErr, 1});
  slave.AddErrorRule({ErrorRule::Match::kAddressRange, AxiDir::kWrite, false, region_.iova + 0x800,
                      region_.iova + 0x801, 0, AxiResp::kDecErr, 0});
  TestMaster m;
  for (int i = 0; i < 5; ++i) m.ar.push_back({0, region_.iova + 64u * static_cast<uint64_t>(i), 0, 6});
  std::vector<std::byte> src(kBytes, std::byte{0xEE});
  m.QueueWrite({0, region_.iova + 0x7C0, 1, 6}, src, region_.iova);  // covers 0x800
  m.QueueWrite({0, region_.iova + 0x900, 0, 6}, src, region_.iova);  // does not
  m.QueueWrite({0, region_.iova + 0x800, 0, 6}, src, region_.iova);  // rule fires again (times 0)
  Run(slave, m);
  ASSERT_EQ(m.r.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(m.r[i].resp, i == 2 ? AxiResp::kSlvErr : AxiResp::kOkay) << i;
  ASSERT_EQ(m.b.size(), 3u);
  EXPECT_EQ(m.b[0].second, AxiResp::kDecErr);
  EXPECT_EQ(m.b[1].second, AxiResp::kOkay);
  EXPECT_EQ(m.b[2].second, AxiResp::kDecErr);
  EXPECT_EQ(slave.stats().injected, 3u);
  EXPECT_EQ(*mem_.Translate(region_.iova + 0x800, 1), image_[0x800]) << "a failed write stores nothing";
  EXPECT_EQ(*mem_.Translate(region_.iova + 0x900, 1), std::byte{0xEE});
}

TEST_F(Axi4MemorySlaveTest, FlagsABurstCrossingFourKiB) {
  Axi4MemorySlave slave(mem_);
  TestMaster m;
  m.ar.push_back({0, region_.iova + 0x0FC0, 1, 6});  // 0xFC0..0x103F
  Run(slave, m);
  ASSERT_EQ(slave.violation_count(), 1u);
  EXPECT_NE(slave.violations()[0].what.find("4 KiB"), std::string::npos);
  EXPECT_EQ(m.r[0].resp, AxiResp::kSlvErr);
  EXPECT_EQ(slave.stats().protocol_errors, 1u);
}

TEST_F(Axi4MemorySlaveTest, FlagsNonIncrBursts) {
  Axi4MemorySlave slave(mem_);
  TestMaster m;
  m.ar.push_back({0, region_.iova, 3, 6, 2});  // WRAP
  Run(slave, m);
  EXPECT_EQ(slave.violation_count(), 1u);
}

TEST_F(Axi4MemorySlaveTest, FlagsValidDroppedAndPayloadChangedBeforeReady) {
  Axi4SlaveConfig cfg;
  cfg.max_outstanding_reads = 0;  // ARREADY never rises, so the master must hold ARVALID
  Axi4MemorySlave slave(mem_, cfg);
  TestMaster m;
  m.ar.push_back({0, region_.iova, 0, 6});
  m.tamper = [](uint64_t c, Axi4MasterOut& o) {
    if (c == 3) o.arvalid = false;  // dropped
    if (c == 6) o.araddr += 64;     // changed
  };
  for (int i = 0; i < 10; ++i) {
    slave.Drive(cycle_);
    const Axi4MasterOut o = m.Outputs(cycle_);
    slave.Sample(cycle_, o);
    ++cycle_;
  }
  ASSERT_EQ(slave.violation_count(), 3u);  // dropped (3), changed (6), changed back (7)
  EXPECT_NE(slave.violations()[0].what.find("ARVALID dropped"), std::string::npos);
  EXPECT_NE(slave.violations()[1].what.find("payload changed"), std::string::npos);
}

TEST_F(Axi4MemorySlaveTest, FlagsWlastOnTheWrongBeatAndStrayStrobes) {
  Axi4MemorySlave slave(mem_);
  TestMaster m;
  std::vector<std::byte> src(kBytes);
  m.QueueWrite({0, region_.iova, 3, 6}, src, region_.iova, /*last_early=*/true);
  m.QueueWrite({0, region_.iova + 0x1004, 0, 2}, src, region_.iova);  // 4-byte beat: lanes 4..7
  m.w.back().second |= 1ull << 8;                                     // a strobe outside them
  Run(slave, m);
  // WLAST early on beat 3 and missing on beat 4, then the stray strobe.
  ASSERT_EQ(slave.violation_count(), 3u);
  EXPECT_NE(slave.violations()[0].what.find("WLAST 1 on beat 3"), std::string::npos);
  EXPECT_NE(slave.violations()[1].what.find("WLAST 0 on beat 4"), std::string::npos);
  EXPECT_NE(slave.violations()[2].what.find("WSTRB"), std::string::npos);
}

}  // namespace
}  // namespace ipsec::sim
