// Harness<Model>: owns a Verilated card model and stands in for the host side of PCIe around it:
// it clocks ap_clk, drives ap_rst_n, runs the host-memory AXI4 slave (m_axi_gmem) and the
// register AXI4-Lite master (s_axi_control) every cycle, watches the interrupt line, dumps an FST
// window on request and measures simulation speed.
//
// Model is any Verilated class with the Vitis RTL kernel ports (sim/verilated_ports.h). The
// harness is a header-only template; the agents it runs are plain C++ (libipsec_sim).
//
// One clock cycle (StepOne): the agents' outputs go onto the model's inputs, the model is
// evaluated with ap_clk low, the agents sample the card's outputs (handshakes are decided here),
// then ap_clk rises and the model is evaluated again. Trace time is 2 units per cycle: the low
// phase of cycle c at 2c, the rising edge at 2c+1.
//
// Reset: ap_rst_n is low for reset_cycles at construction (Reset()) and whenever SetReset(true)
// holds it; the memory slave drops its transactions and answers nothing while reset is held. The
// register master keeps driving, so a register access to a card held in reset times out
// (Unavailable), as it would on a real card.
//
// Tracing: available when the model was Verilated with --trace-fst (CMake option IPSEC_SIM_TRACE);
// one window per harness, set by Options, by TraceWindow(), or by the environment variable
// IPSEC_SIM_FST=path[:first_cycle[:last_cycle]] (for a failing test, without recompiling).
//
// Thread safety: none. One harness per thread; the Verilated model is single-threaded.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "host/common/status.h"
#include "sim/axi4_memory_slave.h"
#include "sim/axi_lite_master.h"
#include "sim/cycle_runner.h"
#include "sim/host_memory.h"
#include "sim/verilated_ports.h"
#include "verilated.h"
#include "verilated_fst_c.h"

namespace ipsec::sim {

struct HarnessOptions {
  HostMemoryConfig memory;
  Axi4SlaveConfig slave;
  AxiLiteConfig lite;
  uint32_t reset_cycles = 8;
  // FST window [trace_first_cycle, trace_last_cycle]; empty path: none (unless IPSEC_SIM_FST).
  std::string trace_path;
  uint64_t trace_first_cycle = 0;
  uint64_t trace_last_cycle = std::numeric_limits<uint64_t>::max();
  bool trace_from_environment = true;
};

// Simulation speed over the cycles run by Step/RunUntil (and the blocking register calls).
struct SimSpeed {
  uint64_t cycles = 0;
  double seconds = 0.0;
  double cycles_per_second() const { return seconds > 0.0 ? static_cast<double>(cycles) / seconds : 0.0; }
};

template <VitisKernelModel Model>
class Harness final : public CycleRunner {
 public:
  // Whether Model was Verilated with --trace-fst.
  static constexpr bool kTraceSupported = requires(Model & m, VerilatedFstC* t) { m.trace(t, 0); };

  explicit Harness(HarnessOptions options = {})
      : options_(std::move(options)),
        memory_(options_.memory),
        slave_(memory_, options_.slave),
        lite_(*this, options_.lite),
        context_(std::make_unique<VerilatedContext>()) {
    if constexpr (kTraceSupported) context_->traceEverOn(true);
    model_ = std::make_unique<Model>(context_.get(), "TOP");
    if (options_.trace_path.empty() && options_.trace_from_environment) TraceFromEnvironment();
    if (!options_.trace_path.empty()) {
      Status s = TraceWindow(options_.trace_path, options_.trace_first_cycle, options_.trace_last_cycle);
      if (!s.ok()) std::fprintf(stderr, "ipsec_sim: %s\n", s.ToString().c_str());
    }
    Reset();
  }
  ~Harness() {
    CloseTrace();
    model_->final();
  }
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  Model& model() { return *model_; }
  VerilatedContext& context() { return *context_; }
  HostMemory& memory() { return memory_; }
  Axi4MemorySlave& slave() { return slave_; }
  AxiLiteMaster& lite() { return lite_; }

  // ap_rst_n low for reset_cycles (or `cycles`), then high. Drops DMA traffic in flight.
  void Reset(uint32_t cycles = 0) {
    SetReset(true);
    Step(cycles == 0 ? options_.reset_cycles : cycles);
    SetReset(false);
  }
  // Holds (true) or releases (false) ap_rst_n; takes effect from the next cycle.
  void SetReset(bool asserted) {
    if (asserted) slave_.Reset();
    in_reset_ = asserted;
  }
  bool in_reset() const { return in_reset_; }

  void Step(uint64_t cycles = 1) override {
    const auto t0 = std::chrono::steady_clock::now();
    for (uint64_t i = 0; i < cycles; ++i) StepOne();
    Account(t0, cycles);
  }
  uint64_t cycle() const override { return cycle_; }

  // Steps until done() holds (checked before each cycle) or max_cycles pass. Returns the cycles
  // run, or Unavailable when the condition did not come true in time.
  [[nodiscard]] StatusOr<uint64_t> RunUntil(const std::function<bool()>& done, uint64_t max_cycles) {
    const uint64_t start = cycle_;
    const auto t0 = std::chrono::steady_clock::now();
    while (!done()) {
      if (cycle_ - start >= max_cycles) {
        Account(t0, cycle_ - start);
        return UnavailableError("RunUntil: condition not met in " + std::to_string(max_cycles) + " cycles");
      }
      StepOne();
    }
    Account(t0, cycle_ - start);
    return cycle_ - start;
  }
  [[nodiscard]] StatusOr<uint64_t> WaitForInterrupt(uint64_t max_cycles) {
    return RunUntil([this] { return irq_; }, max_cycles);
  }

  // The interrupt line as sampled in the last cycle, and how many times it rose.
  bool interrupt() const { return irq_; }
  uint64_t interrupt_rises() const { return irq_rises_; }

  // Dumps cycles [first_cycle, last_cycle] to an FST file at `path`. FailedPrecondition when the
  // model has no trace support or a window was already set; the file opens when the window starts.
  [[nodiscard]] Status TraceWindow(const std::string& path, uint64_t first_cycle, uint64_t last_cycle) {
    if constexpr (!kTraceSupported) {
      return FailedPreconditionError("TraceWindow: the model was built without --trace-fst (IPSEC_SIM_TRACE=ON)");
    } else {
      if (trace_state_ != TraceState::kNone) return FailedPreconditionError("TraceWindow: one window per harness");
      if (last_cycle < first_cycle) return InvalidArgumentError("TraceWindow: last cycle before first");
      trace_path_ = path;
      trace_first_ = first_cycle;
      trace_last_ = last_cycle;
      trace_state_ = TraceState::kPending;
      return OkStatus();
    }
  }
  // Ends the window now (the file is complete once this returns or the harness is destroyed).
  void CloseTrace() {
    if constexpr (kTraceSupported) {
      if (trace_state_ == TraceState::kOpen) {
        tfp_->close();
        trace_state_ = TraceState::kDone;
      }
    }
  }
  bool tracing() const { return trace_state_ == TraceState::kOpen; }

  const SimSpeed& speed() const { return speed_; }
  // Protocol violations seen by either agent, one per line; empty when there were none.
  std::string ViolationReport() const {
    std::string out;
    for (const auto& v : slave_.violations()) out += "cycle " + std::to_string(v.cycle) + ": " + v.what + "\n";
    for (const auto& v : lite_.violations()) out += "cycle " + std::to_string(v.cycle) + ": " + v.what + "\n";
    return out;
  }
  uint64_t violation_count() const { return slave_.violation_count() + lite_.violation_count(); }

 private:
  enum class TraceState { kNone, kPending, kOpen, kDone };

  void StepOne() {
    const uint64_t c = cycle_;
    if constexpr (kTraceSupported) {
      if (trace_state_ == TraceState::kPending && c >= trace_first_) OpenTrace();
      if (trace_state_ == TraceState::kOpen && c > trace_last_) CloseTrace();
    }
    WriteGmem(*model_, in_reset_ ? Axi4SlaveOut{} : slave_.Drive(c));
    WriteControl(*model_, lite_.Drive(c));
    model_->ap_rst_n = in_reset_ ? 0 : 1;
    model_->ap_clk = 0;
    context_->time(2 * c);
    model_->eval();
    Dump(2 * c);
    if (!in_reset_) slave_.Sample(c, ReadGmem(*model_));
    lite_.Sample(c, ReadControl(*model_));
    const bool irq = ReadInterrupt(*model_);
    if (irq && !irq_) ++irq_rises_;
    irq_ = irq;
    model_->ap_clk = 1;
    context_->time(2 * c + 1);
    model_->eval();
    Dump(2 * c + 1);
    ++cycle_;
  }

  void Dump(uint64_t time) {
    if constexpr (kTraceSupported) {
      if (trace_state_ == TraceState::kOpen) tfp_->dump(time);
    }
  }

  void OpenTrace() {
    if constexpr (kTraceSupported) {
      tfp_ = std::make_unique<VerilatedFstC>();
      model_->trace(tfp_.get(), 99);
      tfp_->open(trace_path_.c_str());
      if (!tfp_->isOpen()) {
        std::fprintf(stderr, "ipsec_sim: cannot open FST file %s\n", trace_path_.c_str());
        trace_state_ = TraceState::kDone;
        return;
      }
      trace_state_ = TraceState::kOpen;
    }
  }

  void TraceFromEnvironment() {
    const char* env = std::getenv("IPSEC_SIM_FST");
    if (env == nullptr || *env == '\0') return;
    std::string spec(env);
    std::string path = spec;
    const size_t c1 = spec.find(':');
    if (c1 != std::string::npos) {
      path = spec.substr(0, c1);
      const size_t c2 = spec.find(':', c1 + 1);
      options_.trace_first_cycle = std::strtoull(spec.substr(c1 + 1, c2 - c1 - 1).c_str(), nullptr, 0);
      if (c2 != std::string::npos) options_.trace_last_cycle = std::strtoull(spec.substr(c2 + 1).c_str(), nullptr, 0);
    }
    options_.trace_path = path;
  }

  void Account(std::chrono::steady_clock::time_point t0, uint64_t cycles) {
    speed_.cycles += cycles;
    speed_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }

  HarnessOptions options_;
  HostMemory memory_;
  Axi4MemorySlave slave_;
  AxiLiteMaster lite_;
  std::unique_ptr<VerilatedContext> context_;
  std::unique_ptr<Model> model_;
  uint64_t cycle_ = 0;
  bool in_reset_ = false;
  bool irq_ = false;
  uint64_t irq_rises_ = 0;
  SimSpeed speed_;
  TraceState trace_state_ = TraceState::kNone;
  std::string trace_path_;
  uint64_t trace_first_ = 0, trace_last_ = 0;
  std::conditional_t<kTraceSupported, std::unique_ptr<VerilatedFstC>, bool> tfp_{};
};

}  // namespace ipsec::sim
