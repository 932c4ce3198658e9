// Host memory as seen by the card's AXI4 master (m_axi_gmem_*): a cycle-based AXI4 slave over a
// HostMemory, with latency, back-pressure, error injection, statistics and protocol checking.
//
// Cycle contract (the Harness keeps it): each clock cycle the owner calls Drive(cycle) and puts
// the result on the model's inputs, evaluates the model with the clock low, then calls
// Sample(cycle, outputs) with the card's outputs, and only then raises the clock. Drive() depends
// only on the slave's own state (never combinationally on the card's valid signals), so both sides
// see the same handshakes at the rising edge.
//
// Behaviour:
//   * Reads and writes are independent paths, each with up to max_outstanding_* bursts accepted.
//     Responses come back in order of acceptance (default) or, with reorder_by_id, any response
//     whose latency has passed may overtake those of other IDs (never of its own ID). Read bursts
//     are not interleaved beat by beat.
//   * Latency: a read's first beat is offered no earlier than read_latency_cycles (+ jitter) after
//     the AR handshake; a B response no earlier than write_latency_cycles (+ jitter) after the last
//     W beat. Random back-pressure: AR/AW/W ready low with the configured probability each cycle,
//     and idle cycles before R/B valid; all from one seeded generator, so a run is reproducible.
//   * W beats are accepted only for an AW already accepted (WREADY waits for the address; AXI4
//     allows this), in AW order.
//   * Bursts: INCR with AxLEN+1 beats of 2^AxSIZE bytes, narrow and unaligned starts, byte lanes
//     as AXI4 defines them; WSTRB bits outside the active lanes are a protocol violation.
//   * Errors: a burst touching unmapped memory answers DECERR (nothing is written); a burst that
//     crosses 4 KiB, is not INCR or is wider than the bus is a protocol violation and answers
//     SLVERR; an ErrorRule can make chosen bursts answer SLVERR or DECERR. Every error is counted
//     and logged (dma_errors()). Read data of an error burst is zero.
//   * Protocol checks on the card's side: VALID held until READY and the payload stable meanwhile
//     (AR, AW, W); WLAST exactly on the last beat. Each breach is recorded (violations()).
//
// Thread safety: none (single-threaded simulation).
#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <span>
#include <vector>

#include "sim/axi_signals.h"
#include "sim/host_memory.h"

namespace ipsec::sim {

struct Axi4SlaveConfig {
  uint32_t read_latency_cycles = 8;      // AR handshake to the first R beat
  uint32_t write_latency_cycles = 4;     // last W beat to B
  uint32_t latency_jitter_cycles = 0;    // + uniform [0, jitter] per burst
  uint32_t max_outstanding_reads = 16;   // accepted AR bursts not yet fully answered
  uint32_t max_outstanding_writes = 16;  // accepted AW bursts without B
  double ar_stall = 0.0;                 // P(ARREADY low) in a cycle
  double aw_stall = 0.0;
  double w_stall = 0.0;
  double r_idle = 0.0;  // P(no R beat offered) in a cycle that could offer one
  double b_idle = 0.0;
  bool reorder_by_id = false;  // responses of different IDs may overtake each other
  uint64_t seed = 1;
};

// Makes chosen bursts fail. A rule matches a read (dir kRead), a write (kWrite) or either
// (both = true), by address range (the burst overlaps [lo, hi)) or by index (the nth burst of
// that direction accepted since Reset(), 0-based; with both = true, counted across directions).
struct ErrorRule {
  enum class Match : uint8_t { kAddressRange, kNth };
  Match match = Match::kAddressRange;
  AxiDir dir = AxiDir::kRead;
  bool both = false;
  uint64_t lo = 0, hi = 0;  // kAddressRange
  uint64_t nth = 0;         // kNth
  AxiResp resp = AxiResp::kSlvErr;
  uint32_t times = 1;  // how many bursts it fails before retiring; 0 = forever
};

struct Axi4SlaveStats {
  uint64_t read_bursts = 0, write_bursts = 0;  // accepted
  uint64_t read_beats = 0, write_beats = 0;    // transferred
  uint64_t bytes_read = 0, bytes_written = 0;  // active lanes / strobed bytes, OKAY bursts only
  uint64_t ar_stall_cycles = 0, aw_stall_cycles = 0, w_stall_cycles = 0;  // VALID && !READY
  uint64_t r_wait_cycles = 0, b_wait_cycles = 0;                          // our VALID, no READY
  uint64_t slverr = 0, decerr = 0;                                        // bursts answered with each
  uint64_t unmapped = 0, injected = 0, protocol_errors = 0;               // DmaErrorCause counts
  uint64_t max_reads_in_flight = 0, max_writes_in_flight = 0;
  uint64_t reordered = 0;  // responses that overtook an older one
};

class Axi4MemorySlave {
 public:
  Axi4MemorySlave(HostMemory& memory, Axi4SlaveConfig config = {});

  // Outputs for this cycle (see the cycle contract above).
  Axi4SlaveOut Drive(uint64_t cycle);
  // The card's outputs in this cycle, before the rising edge: handshakes, checks, state updates.
  void Sample(uint64_t cycle, const Axi4MasterOut& in);
  // Drops every transaction in flight (card reset). Counters, logs and rules stay.
  void Reset();

  void AddErrorRule(const ErrorRule& rule) { rules_.push_back({rule, 0}); }
  // Answers a request that was never made, as a broken interconnect or host might: one B
  // (kWrite) or one single-beat R with RLAST (kRead, data zero), ID `id`, OKAY, queued behind the
  // responses already due. For tests of the card's fault detection; not counted in stats().
  void InjectStrayResponse(AxiDir dir, uint32_t id);
  void ClearErrorRules() { rules_.clear(); }
  void set_config(const Axi4SlaveConfig& config);
  const Axi4SlaveConfig& config() const { return config_; }

  const Axi4SlaveStats& stats() const { return stats_; }
  void ClearStats() { stats_ = {}; }
  // The first kMaxLog entries of each kind; the counts in stats() are complete.
  const std::vector<DmaErrorEvent>& dma_errors() const { return dma_errors_; }
  const std::vector<ProtocolViolation>& violations() const { return violations_; }
  uint64_t violation_count() const { return violation_count_; }
  void ClearLogs();
  bool Idle() const { return reads_.empty() && writes_.empty() && bresps_.empty(); }

  static constexpr size_t kMaxLog = 256;

 private:
  struct Burst {
    uint32_t id = 0;
    uint64_t addr = 0;
    uint32_t beats = 0;  // AxLEN + 1
    uint8_t size = 0;    // log2 bytes per beat
    AxiResp resp = AxiResp::kOkay;
    uint64_t ready_cycle = 0;
    uint32_t beat = 0;  // next beat
    uint64_t seq = 0;   // acceptance order, for reorder statistics
  };
  // Byte lanes [lo, hi] and the address of lane 0 for beat `i` of burst `b`.
  static void BeatLanes(const Burst& b, uint32_t i, uint64_t* line, unsigned* lo, unsigned* hi);

  struct Rule {
    ErrorRule rule;
    uint32_t fired = 0;
  };
  AxiResp Classify(AxiDir dir, uint64_t cycle, Burst& b, uint8_t burst_type);
  void Violation(uint64_t cycle, std::string what);
  bool Chance(double p);
  uint64_t Latency(uint32_t base);
  // Picks the response to start from `q` (index), or -1: in order, or reordered by ID.
  int PickReady(const std::deque<Burst>& q, uint64_t cycle);
  void FillReadBeat(const Burst& b, Axi4SlaveOut& out);

  HostMemory& memory_;
  Axi4SlaveConfig config_;
  std::mt19937_64 rng_;
  std::vector<Rule> rules_;
  Axi4SlaveStats stats_;
  std::vector<DmaErrorEvent> dma_errors_;
  std::vector<ProtocolViolation> violations_;
  uint64_t violation_count_ = 0;
  uint64_t read_index_ = 0, write_index_ = 0, any_index_ = 0, seq_ = 0;

  std::deque<Burst> reads_;   // accepted, not fully answered (in acceptance order)
  std::deque<Burst> writes_;  // accepted, awaiting W beats (in AW order)
  std::deque<Burst> bresps_;  // all W beats in, awaiting B
  // Current R/B offer: held until the handshake (AXI: VALID may not drop without READY).
  bool r_hold_ = false, b_hold_ = false;
  bool r_active_ = false;             // reads_[r_index_] has started its beats (bursts do not interleave)
  size_t r_index_ = 0, b_index_ = 0;  // which entry of reads_/bresps_ is being answered
  Axi4SlaveOut out_;                  // last Drive() outputs
  Axi4MasterOut prev_in_;             // last sampled inputs, for the stability checks
  bool prev_arready_ = false, prev_awready_ = false, prev_wready_ = false;
  bool have_prev_ = false;
};

}  // namespace ipsec::sim
