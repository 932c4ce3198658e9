// The sim Harness around a Verilated synthetic device (sim/test_rtl/sim_test_dev.sv): registers
// over AXI4-Lite, a DMA copy checked byte for byte against memcpy over many sizes and alignments
// with random latency and back-pressure, injected and unmapped-address errors as the device and
// the memory slave see them, the register timeout of a card held in reset, and an FST window.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "Vsim_test_dev.h"
#include "sim/harness.h"

namespace ipsec::sim {
namespace {

using Dev = Harness<Vsim_test_dev>;

// sim_test_dev register map (see the RTL header).
constexpr uint64_t kRegId = 0x00, kRegScratch = 0x04, kRegCtrl = 0x08, kRegStatus = 0x0C, kRegSrcLo = 0x10,
                   kRegSrcHi = 0x14, kRegDstLo = 0x18, kRegDstHi = 0x1C, kRegLen = 0x20, kRegBurstMax = 0x24;
constexpr uint32_t kIdValue = 0x53494D31;
constexpr uint32_t kStatusBusy = 1, kStatusDone = 2, kStatusError = 4;

uint32_t Lo(uint64_t v) {
  return static_cast<uint32_t>(v);
}
uint32_t Hi(uint64_t v) {
  return static_cast<uint32_t>(v >> 32);
}

class SimTestDevTest : public ::testing::Test {
 protected:
  // Programs and starts a copy, waits for the interrupt, returns STATUS and clears DONE/ERROR.
  static StatusOr<uint32_t> Copy(Dev& h, uint64_t src, uint64_t dst, uint32_t len, uint32_t burst_max = 16) {
    const RegWrite setup[] = {{kRegSrcLo, Lo(src)}, {kRegSrcHi, Hi(src)}, {kRegDstLo, Lo(dst)},
                              {kRegDstHi, Hi(dst)}, {kRegLen, len},       {kRegBurstMax, burst_max},
                              {kRegCtrl, 1}};
    RETURN_IF_ERROR(h.lite().WriteBatch(setup));
    auto waited = h.WaitForInterrupt(2'000'000);
    if (!waited.ok()) return waited.status();
    ASSIGN_OR_RETURN(uint32_t status, h.lite().Read32(kRegStatus));
    RETURN_IF_ERROR(h.lite().Write32(kRegStatus, kStatusDone | kStatusError));
    return status;
  }

  static std::vector<std::byte> Random(std::mt19937_64& rng, size_t n) {
    std::vector<std::byte> v(n);
    for (auto& b : v) b = static_cast<std::byte>(rng());
    return v;
  }
};

TEST_F(SimTestDevTest, RegistersReadAndWrite) {
  Dev h;
  EXPECT_EQ(h.lite().Read32(kRegId).value(), kIdValue);
  ASSERT_TRUE(h.lite().Write32(kRegScratch, 0xDEADBEEF).ok());
  EXPECT_EQ(h.lite().Read32(kRegScratch).value(), 0xDEADBEEFu);
  ASSERT_TRUE(h.lite().Write32(kRegScratch, 0x00112233, 0b0101).ok());  // bytes 0 and 2 only
  EXPECT_EQ(h.lite().Read32(kRegScratch).value(), 0xDE11BE33u);
  ASSERT_TRUE(h.lite().Write32(kRegId, 0).ok()) << "read-only: the write is ignored";
  EXPECT_EQ(h.lite().Read32(kRegId).value(), kIdValue);
  const RegWrite batch[] = {{kRegSrcLo, 0x1000}, {kRegSrcHi, 0x10}, {kRegLen, 77}, {kRegBurstMax, 999}};
  ASSERT_TRUE(h.lite().WriteBatch(batch).ok());
  EXPECT_EQ(h.lite().Read32(kRegSrcLo).value(), 0x1000u);
  EXPECT_EQ(h.lite().Read32(kRegSrcHi).value(), 0x10u);
  EXPECT_EQ(h.lite().Read32(kRegLen).value(), 77u);
  EXPECT_EQ(h.lite().Read32(kRegBurstMax).value(), 256u);
  EXPECT_EQ(h.lite().Read32(kRegStatus).value(), 0u);
  EXPECT_FALSE(h.interrupt());
  // Unmapped offsets answer SLVERR: reported as an error, not as data.
  auto bad = h.lite().Read32(0x100);
  EXPECT_EQ(bad.status().code(), StatusCode::kInternal);
  EXPECT_NE(bad.status().message().find("SLVERR"), std::string::npos);
  EXPECT_EQ(h.lite().Write32(0x104, 1).code(), StatusCode::kInternal);
  EXPECT_EQ(h.lite().stats().error_responses, 2u);
  EXPECT_EQ(h.violation_count(), 0u) << h.ViolationReport();
}

TEST_F(SimTestDevTest, CopiesManySizesAndAlignmentsByteExact) {
  const uint32_t sizes[] = {1, 2, 3, 63, 64, 65, 127, 128, 129, 1000, 4095, 4096, 4097, 9000};
  for (uint64_t seed : {1, 2, 3}) {
    std::mt19937_64 rng(seed);
    HarnessOptions opt;
    opt.slave.seed = seed;
    opt.slave.read_latency_cycles = static_cast<uint32_t>(rng() % 40);
    opt.slave.write_latency_cycles = static_cast<uint32_t>(rng() % 20);
    opt.slave.latency_jitter_cycles = static_cast<uint32_t>(rng() % 10);
    opt.slave.ar_stall = seed == 1 ? 0.0 : 0.3;
    opt.slave.aw_stall = seed == 1 ? 0.0 : 0.3;
    opt.slave.w_stall = seed == 1 ? 0.0 : 0.4;
    opt.slave.r_idle = seed == 1 ? 0.0 : 0.3;
    opt.slave.b_idle = seed == 1 ? 0.0 : 0.2;
    opt.lite.ready_stall = seed == 3 ? 0.5 : 0.0;
    Dev h(opt);
    const uint64_t kBuf = 3 * 4096 + 4096;  // room for the largest copy at any offset
    const DmaRegion src = h.memory().Alloc(kBuf).value();
    const DmaRegion dst = h.memory().Alloc(kBuf).value();
    const uint32_t bursts[] = {1, 2, 16, 64, 256};
    for (uint32_t len : sizes) {
      for (int rep = 0; rep < 2; ++rep) {
        // Offsets anywhere in the first 4 KiB, so copies start and end at every lane and cross
        // 4 KiB boundaries at odd places.
        const uint64_t so = rng() % 4096, dof = rng() % 4096;
        const uint32_t burst = bursts[rng() % 5];
        const auto data = Random(rng, kBuf);
        const auto before = Random(rng, kBuf);
        ASSERT_TRUE(h.memory().Write(src.iova, data).ok());
        ASSERT_TRUE(h.memory().Write(dst.iova, before).ok());
        auto status = Copy(h, src.iova + so, dst.iova + dof, len, burst);
        ASSERT_TRUE(status.ok()) << status.status().ToString();
        ASSERT_EQ(*status, kStatusDone) << "seed " << seed << " len " << len;
        auto expect = before;
        std::memcpy(expect.data() + dof, data.data() + so, len);  // the reference model
        std::vector<std::byte> got(kBuf);
        ASSERT_TRUE(h.memory().Read(dst.iova, got).ok());
        ASSERT_EQ(got, expect) << "seed " << seed << " len " << len << " src+" << so << " dst+" << dof << " burst "
                               << burst;
      }
    }
    EXPECT_EQ(h.violation_count(), 0u) << h.ViolationReport();
    EXPECT_EQ(h.slave().stats().slverr + h.slave().stats().decerr, 0u);
    if (seed != 1) {
      EXPECT_GT(h.slave().stats().w_stall_cycles, 0u);
      EXPECT_GT(h.slave().stats().ar_stall_cycles, 0u);
    }
    EXPECT_EQ(h.interrupt_rises(), std::size(sizes) * 2);
  }
}

TEST_F(SimTestDevTest, KeepsSeveralReadsOutstanding) {
  HarnessOptions opt;
  opt.slave.read_latency_cycles = 60;
  Dev h(opt);
  const DmaRegion src = h.memory().Alloc(8192).value();
  const DmaRegion dst = h.memory().Alloc(8192).value();
  auto status = Copy(h, src.iova, dst.iova, 8192, 4);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(*status, kStatusDone);
  EXPECT_EQ(h.slave().stats().max_reads_in_flight, 4u) << "the device keeps up to 4 read bursts in flight";
  EXPECT_EQ(h.slave().stats().read_bursts, 8192u / 64 / 4);
  EXPECT_EQ(h.slave().stats().bytes_read, 8192u);
  EXPECT_EQ(h.slave().stats().bytes_written, 8192u);
}

TEST_F(SimTestDevTest, InjectedSlverrReachesTheDeviceStatus) {
  Dev h;
  const DmaRegion src = h.memory().Alloc(4096).value();
  const DmaRegion dst = h.memory().Alloc(4096).value();
  h.slave().AddErrorRule({ErrorRule::Match::kNth, AxiDir::kRead, false, 0, 0, 1, AxiResp::kSlvErr, 1});
  auto status = Copy(h, src.iova, dst.iova, 4096, 16);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(*status, kStatusDone | kStatusError | (2u << 4)) << "ERROR with the SLVERR code";
  EXPECT_EQ(h.slave().stats().slverr, 1u);
  EXPECT_EQ(h.slave().stats().injected, 1u);
  ASSERT_EQ(h.slave().dma_errors().size(), 1u);
  EXPECT_EQ(h.slave().dma_errors()[0].addr, src.iova + 16 * 64) << "the second burst";
  EXPECT_EQ(h.lite().Read32(kRegStatus).value(), 0u) << "W1C cleared DONE and ERROR";
  EXPECT_FALSE(h.interrupt());

  // A write-side DECERR by address range; the next copy, without rules, is clean again.
  h.slave().AddErrorRule({ErrorRule::Match::kAddressRange, AxiDir::kWrite, false, dst.iova + 2048, dst.iova + 2049, 0,
                          AxiResp::kDecErr, 1});
  status = Copy(h, src.iova, dst.iova, 4096, 16);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(*status, kStatusDone | kStatusError | (3u << 4));
  status = Copy(h, src.iova, dst.iova, 4096, 16);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(*status, kStatusDone);
  EXPECT_EQ(h.violation_count(), 0u) << h.ViolationReport();
}

TEST_F(SimTestDevTest, OutOfRangeAddressIsReported) {
  Dev h;
  const DmaRegion src = h.memory().Alloc(4096).value();
  const uint64_t unmapped = h.memory().config().arena_base + (1ull << 34);
  auto status = Copy(h, src.iova, unmapped, 256);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(*status, kStatusDone | kStatusError | (3u << 4)) << "DECERR";
  EXPECT_EQ(h.slave().stats().unmapped, 1u);
  ASSERT_FALSE(h.slave().dma_errors().empty());
  EXPECT_EQ(h.slave().dma_errors()[0].cause, DmaErrorCause::kUnmapped);
  EXPECT_EQ(h.slave().dma_errors()[0].dir, AxiDir::kWrite);
  EXPECT_EQ(h.slave().dma_errors()[0].addr, unmapped);
  // Running off the end of a buffer into its guard page.
  status = Copy(h, src.iova + 4000, src.iova, 200);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(*status & kStatusError, kStatusError);
  EXPECT_EQ(h.slave().dma_errors().back().dir, AxiDir::kRead);
  EXPECT_EQ(h.violation_count(), 0u) << h.ViolationReport();
}

TEST_F(SimTestDevTest, RegisterAccessTimesOutWhileHeldInReset) {
  HarnessOptions opt;
  opt.lite.timeout_cycles = 500;
  Dev h(opt);
  h.SetReset(true);
  const uint64_t start = h.cycle();
  auto r = h.lite().Read32(kRegId);
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_EQ(h.cycle() - start, 500u);
  EXPECT_EQ(h.lite().Write32(kRegScratch, 1).code(), StatusCode::kUnavailable);
  EXPECT_EQ(h.lite().stats().timeouts, 2u);
  h.SetReset(false);
  h.Reset();
  EXPECT_EQ(h.lite().Read32(kRegId).value(), kIdValue) << "a reset card answers again";
}

TEST_F(SimTestDevTest, RunUntilReportsAConditionThatNeverHolds) {
  Dev h;
  auto r = h.RunUntil([] { return false; }, 100);
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(h.WaitForInterrupt(50).status().code(), StatusCode::kUnavailable) << "no copy, no interrupt";
}

TEST_F(SimTestDevTest, DumpsAnFstWindow) {
  if constexpr (!Dev::kTraceSupported) {
    Dev h;
    EXPECT_EQ(h.TraceWindow("x.fst", 0, 1).code(), StatusCode::kFailedPrecondition);
    GTEST_SKIP() << "model built without --trace-fst (IPSEC_SIM_TRACE=OFF)";
  } else {
    const std::string path =
        (std::filesystem::temp_directory_path() / ("sim_test_dev_" + std::to_string(::getpid()) + ".fst")).string();
    std::filesystem::remove(path);
    {
      HarnessOptions opt;
      opt.trace_from_environment = false;
      Dev h(opt);
      ASSERT_TRUE(h.TraceWindow(path, 50, 400).ok());
      EXPECT_EQ(h.TraceWindow(path, 0, 1).code(), StatusCode::kFailedPrecondition) << "one window";
      const DmaRegion src = h.memory().Alloc(4096).value();
      const DmaRegion dst = h.memory().Alloc(4096).value();
      ASSERT_TRUE(Copy(h, src.iova, dst.iova, 1024).ok());
      h.Step(400);
      EXPECT_FALSE(h.tracing()) << "the window closed after cycle 400";
    }
    ASSERT_TRUE(std::filesystem::exists(path));
    EXPECT_GT(std::filesystem::file_size(path), 1000u);
    std::filesystem::remove(path);
  }
}

// Not a pass/fail test: prints the simulated cycle rate of this small device (512-bit datapath)
// with and without back-pressure, for sim/README.md.
TEST_F(SimTestDevTest, ReportsSimulationSpeed) {
  for (double stall : {0.0, 0.3}) {
    HarnessOptions opt;
    opt.trace_from_environment = false;
    opt.slave.ar_stall = opt.slave.aw_stall = opt.slave.w_stall = opt.slave.r_idle = stall;
    Dev h(opt);
    const DmaRegion src = h.memory().Alloc(1 << 20).value();
    const DmaRegion dst = h.memory().Alloc(1 << 20).value();
    const SimSpeed before = h.speed();
    auto status = Copy(h, src.iova, dst.iova + 5, (1 << 20) - 5, 64);
    ASSERT_TRUE(status.ok());
    EXPECT_EQ(*status, kStatusDone);
    const double cycles = static_cast<double>(h.speed().cycles - before.cycles);
    const double secs = h.speed().seconds - before.seconds;
    std::printf("sim_test_dev: stall %.1f: 1 MiB copy in %.0f cycles, %.2f M cycles/s, %.1f MB/s of DMA\n", stall,
                cycles, cycles / secs / 1e6, 2.0 * (1 << 20) / secs / 1e6);
    RecordProperty("cycles_per_second_stall_" + std::to_string(static_cast<int>(stall * 10)),
                   std::to_string(static_cast<long long>(cycles / secs)));
    EXPECT_GT(cycles / secs, 1e4);
  }
}

}  // namespace
}  // namespace ipsec::sim
