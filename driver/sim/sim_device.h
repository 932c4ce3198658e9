// SimDevice<Model>: the `sim` Device backend, the real driver on the card's RTL in Verilator.
//
// It binds the Device seam (driver/device.h) to a sim::Harness over a Verilated card top with the
// Vitis kernel ports (sim/README.md):
//   - registers: blocking AXI4-Lite reads and writes through sim::AxiLiteMaster (each one clocks
//     the model until the card answers); WriteBatch pipelines the staging sequences;
//   - DMA memory: sim::HostMemory allocations; the host pointer is the harness's own view of the
//     bytes the card reads and writes through sim::Axi4MemorySlave, so syncs are no-ops (the
//     memory is coherent, like PCIe with snooping);
//   - interrupts: the kernel's one level-sensitive `interrupt` line. WaitIrq clocks the model
//     until the line is high or the timeout's worth of cycles passed (timeout x clock MHz, so a
//     timeout means the same simulated time as on hardware) and reports every vector, because
//     one line cannot say which ring asked: the driver polls all of its rings, as it would with
//     a shared legacy interrupt;
//   - Step(n) clocks n cycles: the driver calls it while it polls, so the card progresses.
//
// Options (SimDeviceOptions, from the spec string "sim:<args>" by ParseSimDeviceOptions):
// read/write latency, jitter and stall probabilities of host memory, a random seed, injected
// DMA errors stay available through harness() for tests.
//
// Thread safety: every call takes one lock; the model is clocked by whichever thread calls.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "driver/device.h"
#include "sim/harness.h"

namespace ipsec::driver {

struct SimDeviceOptions {
  sim::HarnessOptions harness;
  uint32_t clock_mhz = 250;  // simulated time for WaitIrq timeouts
};

// "latency=100,jitter=20,stall=0.1,seed=7,fst=/tmp/card.fst,fst_first=0,fst_last=100000,mhz=300"
// (any subset, any order). latency: host memory read latency in cycles (writes get a quarter);
// stall: probability of AR/AW/W stalls and R/B idle cycles.
StatusOr<SimDeviceOptions> ParseSimDeviceOptions(std::string_view args);

template <sim::VitisKernelModel Model>
class SimDevice final : public Device {
 public:
  explicit SimDevice(SimDeviceOptions options = {})
      : options_(std::move(options)), harness_(std::make_unique<sim::Harness<Model>>(options_.harness)) {}

  std::string_view backend() const override { return "sim"; }

  StatusOr<uint32_t> Read32(uint32_t offset) override {
    std::lock_guard lock(mu_);
    return harness_->lite().Read32(offset);
  }
  Status Write32(uint32_t offset, uint32_t value) override {
    std::lock_guard lock(mu_);
    return harness_->lite().Write32(offset, value);
  }
  Status WriteBatch(std::span<const RegWrite> writes) override {
    std::lock_guard lock(mu_);
    // The AXI-Lite agent has its own RegWrite type with the same two fields.
    std::vector<sim::RegWrite> w;
    w.reserve(writes.size());
    for (const RegWrite& r : writes) w.push_back({r.offset, r.value, 0xF});
    return harness_->lite().WriteBatch(w);
  }

  StatusOr<uint64_t> WaitIrq(std::chrono::microseconds timeout) override {
    std::lock_guard lock(mu_);
    const uint64_t budget = std::max<uint64_t>(1, static_cast<uint64_t>(timeout.count()) * options_.clock_mhz);
    for (uint64_t i = 0; i < budget; ++i) {
      if (harness_->interrupt()) return kAllVectors;
      harness_->Step(1);
    }
    return harness_->interrupt() ? kAllVectors : 0;
  }

  bool simulated() const override { return true; }
  void Step(uint64_t cycles) override {
    std::lock_guard lock(mu_);
    harness_->Step(cycles);
  }

  // For tests and benchmarks: the harness (memory model, error injection, traces, speed).
  sim::Harness<Model>& harness() { return *harness_; }

 protected:
  StatusOr<DmaRegion> MapDma(size_t bytes, size_t align) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(sim::DmaRegion r, harness_->memory().Alloc(bytes, align));
    auto view = harness_->memory().Map(r.iova, bytes);
    if (!view.ok()) {
      (void)harness_->memory().Free(r.iova);
      return view.status();
    }
    std::memset(view->data(), 0, bytes);  // the seam promises zeroed buffers
    return DmaRegion{r.iova, view->data(), bytes, r.iova};
  }
  void UnmapDma(const DmaRegion& region) override {
    std::lock_guard lock(mu_);
    (void)harness_->memory().Free(region.iova);
  }

 private:
  static constexpr uint64_t kAllVectors = kGlobalIrqBit | 0xffffffffULL;
  SimDeviceOptions options_;
  std::mutex mu_;
  std::unique_ptr<sim::Harness<Model>> harness_;
};

}  // namespace ipsec::driver
