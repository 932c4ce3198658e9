// The host's register access to the card (s_axi_control_*): an AXI4-Lite master with blocking
// 32-bit reads and writes that advance the clock until the card answers or a timeout passes.
//
// Cycle contract: as Axi4MemorySlave (Drive() before the clock-low evaluation, Sample() after it).
// The blocking calls (Read32, Write32, WriteBatch) call CycleRunner::Step(1) until their answer
// arrives, so they are made from test or backend code, never from inside a cycle.
//
// Errors: a card that gives no handshake or response for timeout_cycles (since the last progress)
// is reported as Unavailable ("lost device"); the master then drops its requests and deasserts
// VALID, which AXI forbids, but the card is presumed dead and must be reset before further use.
// An SLVERR/DECERR response is reported as Internal with the code in the message. A response the
// master did not ask for, or a response VALID dropped or changed before READY (when ready_stall
// makes the master hold READY low), is a protocol violation.
//
// Writes drive AW and W in the same cycle; WriteBatch() keeps up to max_outstanding writes in
// flight, so a card that accepts several can overlap them. Thread safety: none.
#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <span>
#include <vector>

#include "host/common/status.h"
#include "sim/axi_signals.h"
#include "sim/cycle_runner.h"

namespace ipsec::sim {

struct AxiLiteConfig {
  uint64_t timeout_cycles = 10000;  // without any progress
  uint32_t max_outstanding = 4;     // writes (or reads) in flight
  double ready_stall = 0.0;         // P(BREADY/RREADY low) per cycle
  uint64_t seed = 7;
};

struct RegWrite {
  uint64_t addr = 0;
  uint32_t value = 0;
  uint8_t strb = 0xF;
};

struct AxiLiteStats {
  uint64_t reads = 0, writes = 0;  // completed
  uint64_t error_responses = 0;    // SLVERR/DECERR
  uint64_t timeouts = 0;
  uint64_t wait_cycles = 0;  // cycles spent inside blocking calls
};

class AxiLiteMaster {
 public:
  AxiLiteMaster(CycleRunner& runner, AxiLiteConfig config = {});

  [[nodiscard]] StatusOr<uint32_t> Read32(uint64_t addr);
  [[nodiscard]] Status Write32(uint64_t addr, uint32_t value, uint8_t strb = 0xF);
  // All writes in order; the first error (or timeout) is returned after the batch drains.
  [[nodiscard]] Status WriteBatch(std::span<const RegWrite> writes);

  AxiLiteMasterOut Drive(uint64_t cycle);
  void Sample(uint64_t cycle, const AxiLiteSlaveOut& in);
  // Drops everything in flight (card reset or timeout).
  void Reset();

  void set_config(const AxiLiteConfig& config) {
    config_ = config;
    rng_.seed(config.seed);
  }
  const AxiLiteStats& stats() const { return stats_; }
  const std::vector<ProtocolViolation>& violations() const { return violations_; }
  uint64_t violation_count() const { return violation_count_; }
  void ClearLogs() {
    violations_.clear();
    violation_count_ = 0;
  }

 private:
  struct Op {
    uint64_t addr = 0;
    uint32_t data = 0;
    uint8_t strb = 0;
    AxiResp resp = AxiResp::kOkay;
    bool done = false;
  };
  // Steps until `ops` (the front `count` entries of writes_ or reads_) are answered.
  Status Wait(const std::deque<Op>& q, size_t count, const char* what, uint64_t first_addr);
  void Violation(uint64_t cycle, std::string what);

  CycleRunner& runner_;
  AxiLiteConfig config_;
  std::mt19937_64 rng_;
  AxiLiteStats stats_;
  std::vector<ProtocolViolation> violations_;
  uint64_t violation_count_ = 0;

  std::deque<Op> writes_, reads_;                 // in issue order
  size_t aw_next_ = 0, w_next_ = 0, b_next_ = 0;  // indices into writes_
  size_t ar_next_ = 0, r_next_ = 0;               // indices into reads_
  uint64_t last_progress_ = 0;
  AxiLiteMasterOut out_;
  AxiLiteSlaveOut prev_in_;
  bool prev_bready_ = true, prev_rready_ = true, have_prev_ = false;
};

}  // namespace ipsec::sim
