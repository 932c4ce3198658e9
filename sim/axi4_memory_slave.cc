// Axi4MemorySlave: AXI4 slave over HostMemory (see axi4_memory_slave.h).
#include "sim/axi4_memory_slave.h"

#include <bit>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

namespace ipsec::sim {
namespace {

constexpr uint8_t kBurstIncr = 1;

std::string Format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Format(const char* fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  return buf;
}

unsigned long long U(uint64_t v) {
  return static_cast<unsigned long long>(v);
}

uint64_t LaneMask(unsigned lo, unsigned hi) {
  const uint64_t upto_hi = hi >= 63 ? ~0ull : ((1ull << (hi + 1)) - 1);
  return upto_hi & ~((1ull << lo) - 1);
}

}  // namespace

std::string_view AxiRespName(AxiResp resp) {
  switch (resp) {
    case AxiResp::kOkay:
      return "OKAY";
    case AxiResp::kExOkay:
      return "EXOKAY";
    case AxiResp::kSlvErr:
      return "SLVERR";
    case AxiResp::kDecErr:
      return "DECERR";
  }
  return "?";
}

std::string_view AxiDirName(AxiDir dir) {
  return dir == AxiDir::kRead ? "read" : "write";
}

std::string_view DmaErrorCauseName(DmaErrorCause cause) {
  switch (cause) {
    case DmaErrorCause::kUnmapped:
      return "unmapped";
    case DmaErrorCause::kInjected:
      return "injected";
    case DmaErrorCause::kProtocol:
      return "protocol";
  }
  return "?";
}

std::string DmaErrorEvent::ToString() const {
  return Format("cycle %llu: %s of %u beats at 0x%llx id %u -> %s (%s)", U(cycle), AxiDirName(dir).data(), beats,
                U(addr), id, AxiRespName(resp).data(), DmaErrorCauseName(cause).data());
}

Axi4MemorySlave::Axi4MemorySlave(HostMemory& memory, Axi4SlaveConfig config)
    : memory_(memory), config_(config), rng_(config.seed) {}

void Axi4MemorySlave::set_config(const Axi4SlaveConfig& config) {
  config_ = config;
  rng_.seed(config.seed);
}

void Axi4MemorySlave::Reset() {
  reads_.clear();
  writes_.clear();
  bresps_.clear();
  r_hold_ = b_hold_ = r_active_ = false;
  have_prev_ = false;
  out_ = {};
  read_index_ = write_index_ = any_index_ = 0;
}

void Axi4MemorySlave::ClearLogs() {
  dma_errors_.clear();
  violations_.clear();
  violation_count_ = 0;
}

void Axi4MemorySlave::Violation(uint64_t cycle, std::string what) {
  ++violation_count_;
  if (violations_.size() < kMaxLog) violations_.push_back({cycle, std::move(what)});
}

bool Axi4MemorySlave::Chance(double p) {
  if (p <= 0.0) return false;
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53 < p;
}

uint64_t Axi4MemorySlave::Latency(uint32_t base) {
  const uint64_t jitter = config_.latency_jitter_cycles == 0 ? 0 : rng_() % (config_.latency_jitter_cycles + 1ull);
  return base + jitter;
}

void Axi4MemorySlave::BeatLanes(const Burst& b, uint32_t i, uint64_t* line, unsigned* lo, unsigned* hi) {
  const uint64_t bpb = 1ull << b.size;
  const uint64_t aligned_start = b.addr & ~(bpb - 1);
  const uint64_t beat_addr = i == 0 ? b.addr : aligned_start + uint64_t{i} * bpb;
  const uint64_t beat_aligned = beat_addr & ~(bpb - 1);
  *line = beat_addr & ~uint64_t{kAxiDataBytes - 1};
  *lo = static_cast<unsigned>(beat_addr & (kAxiDataBytes - 1));
  *hi = static_cast<unsigned>((beat_aligned & (kAxiDataBytes - 1)) + bpb - 1);
}

AxiResp Axi4MemorySlave::Classify(AxiDir dir, uint64_t cycle, Burst& b, uint8_t burst_type) {
  const char* ch = dir == AxiDir::kRead ? "AR" : "AW";
  AxiResp resp = AxiResp::kOkay;
  DmaErrorCause cause = DmaErrorCause::kUnmapped;
  const uint64_t bpb = 1ull << (b.size > kAxiMaxSizeLog2 ? kAxiMaxSizeLog2 : b.size);
  const uint64_t end = (b.addr & ~(bpb - 1)) + uint64_t{b.beats} * bpb;  // exclusive
  if (b.size > kAxiMaxSizeLog2) {
    Violation(cycle, Format("m_axi_gmem %s: AxSIZE %u wider than the 64-byte bus", ch, b.size));
    resp = AxiResp::kSlvErr;
    cause = DmaErrorCause::kProtocol;
  } else if (burst_type != kBurstIncr) {
    Violation(cycle, Format("m_axi_gmem %s: AxBURST %u is not INCR", ch, burst_type));
    resp = AxiResp::kSlvErr;
    cause = DmaErrorCause::kProtocol;
  } else if (end < b.addr || (b.addr >> 12) != ((end - 1) >> 12)) {
    Violation(cycle, Format("m_axi_gmem %s: burst at 0x%llx of %u x %llu bytes crosses a 4 KiB boundary", ch, U(b.addr),
                            b.beats, U(bpb)));
    resp = AxiResp::kSlvErr;
    cause = DmaErrorCause::kProtocol;
  } else if (!memory_.IsMapped(b.addr, end - b.addr)) {
    resp = AxiResp::kDecErr;
    cause = DmaErrorCause::kUnmapped;
  }
  if (resp == AxiResp::kOkay) {
    const uint64_t index = dir == AxiDir::kRead ? read_index_ : write_index_;
    for (size_t i = 0; i < rules_.size(); ++i) {
      Rule& r = rules_[i];
      if (!r.rule.both && r.rule.dir != dir) continue;
      const bool hit = r.rule.match == ErrorRule::Match::kNth ? (r.rule.both ? any_index_ : index) == r.rule.nth
                                                              : b.addr < r.rule.hi && end > r.rule.lo;
      if (!hit) continue;
      resp = r.rule.resp;
      cause = DmaErrorCause::kInjected;
      if (r.rule.times != 0 && ++r.fired >= r.rule.times) rules_.erase(rules_.begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  }
  (dir == AxiDir::kRead ? read_index_ : write_index_)++;
  ++any_index_;
  if (resp != AxiResp::kOkay) {
    (resp == AxiResp::kDecErr ? stats_.decerr : stats_.slverr)++;
    (cause == DmaErrorCause::kUnmapped   ? stats_.unmapped
     : cause == DmaErrorCause::kInjected ? stats_.injected
                                         : stats_.protocol_errors)++;
    if (dma_errors_.size() < kMaxLog) dma_errors_.push_back({cycle, dir, b.addr, b.id, b.beats, resp, cause});
  }
  return resp;
}

int Axi4MemorySlave::PickReady(const std::deque<Burst>& q, uint64_t cycle) {
  if (q.empty()) return -1;
  if (!config_.reorder_by_id) return q.front().ready_cycle <= cycle ? 0 : -1;
  // Any burst whose latency has passed and that is the oldest of its ID.
  int chosen = -1;
  uint64_t eligible = 0;
  for (size_t i = 0; i < q.size(); ++i) {
    if (q[i].ready_cycle > cycle) continue;
    bool older_same_id = false;
    for (size_t j = 0; j < i && !older_same_id; ++j) older_same_id = q[j].id == q[i].id;
    if (older_same_id) continue;
    // Reservoir sampling: uniform among the eligible ones.
    if (rng_() % ++eligible == 0) chosen = static_cast<int>(i);
  }
  return chosen;
}

void Axi4MemorySlave::InjectStrayResponse(AxiDir dir, uint32_t id) {
  Burst b;
  b.id = id;
  b.addr = 0;
  b.beats = 1;
  b.size = 6;
  b.resp = AxiResp::kOkay;
  b.ready_cycle = 0;
  b.seq = seq_++;
  if (dir == AxiDir::kRead) {
    reads_.push_back(b);
  } else {
    bresps_.push_back(b);
  }
}

void Axi4MemorySlave::FillReadBeat(const Burst& b, Axi4SlaveOut& out) {
  out.rdata.fill(std::byte{0});
  if (b.resp != AxiResp::kOkay) return;
  uint64_t line = 0;
  unsigned lo = 0, hi = 0;
  BeatLanes(b, b.beat, &line, &lo, &hi);
  const std::byte* p = memory_.Translate(line + lo, hi - lo + 1);
  if (p != nullptr) std::memcpy(out.rdata.data() + lo, p, hi - lo + 1);
}

Axi4SlaveOut Axi4MemorySlave::Drive(uint64_t cycle) {
  Axi4SlaveOut& o = out_;
  o.arready = reads_.size() < config_.max_outstanding_reads && !Chance(config_.ar_stall);
  o.awready = writes_.size() + bresps_.size() < config_.max_outstanding_writes && !Chance(config_.aw_stall);
  o.wready = !writes_.empty() && !Chance(config_.w_stall);

  if (!r_hold_) {
    if (!r_active_) {
      const int i = PickReady(reads_, cycle);
      if (i >= 0) {
        r_active_ = true;
        r_index_ = static_cast<size_t>(i);
      }
    }
    if (r_active_ && !Chance(config_.r_idle)) {
      const Burst& b = reads_[r_index_];
      r_hold_ = true;
      o.rid = b.id;
      o.rresp = static_cast<uint8_t>(b.resp);
      o.rlast = b.beat + 1 == b.beats;
      FillReadBeat(b, o);
    }
  }
  o.rvalid = r_hold_;

  if (!b_hold_) {
    const int i = PickReady(bresps_, cycle);
    if (i >= 0 && !Chance(config_.b_idle)) {
      b_hold_ = true;
      b_index_ = static_cast<size_t>(i);
      o.bid = bresps_[b_index_].id;
      o.bresp = static_cast<uint8_t>(bresps_[b_index_].resp);
    }
  }
  o.bvalid = b_hold_;
  return o;
}

void Axi4MemorySlave::Sample(uint64_t cycle, const Axi4MasterOut& in) {
  // AXI4 A3.2.1: once VALID is asserted it stays until the handshake, with a stable payload.
  if (have_prev_) {
    const Axi4MasterOut& p = prev_in_;
    if (p.arvalid && !prev_arready_) {
      if (!in.arvalid) {
        Violation(cycle, "m_axi_gmem AR: ARVALID dropped before ARREADY");
      } else if (in.araddr != p.araddr || in.arid != p.arid || in.arlen != p.arlen || in.arsize != p.arsize ||
                 in.arburst != p.arburst) {
        Violation(cycle, "m_axi_gmem AR: payload changed while ARVALID && !ARREADY");
      }
    }
    if (p.awvalid && !prev_awready_) {
      if (!in.awvalid) {
        Violation(cycle, "m_axi_gmem AW: AWVALID dropped before AWREADY");
      } else if (in.awaddr != p.awaddr || in.awid != p.awid || in.awlen != p.awlen || in.awsize != p.awsize ||
                 in.awburst != p.awburst) {
        Violation(cycle, "m_axi_gmem AW: payload changed while AWVALID && !AWREADY");
      }
    }
    if (p.wvalid && !prev_wready_) {
      if (!in.wvalid) {
        Violation(cycle, "m_axi_gmem W: WVALID dropped before WREADY");
      } else if (in.wdata != p.wdata || in.wstrb != p.wstrb || in.wlast != p.wlast) {
        Violation(cycle, "m_axi_gmem W: payload changed while WVALID && !WREADY");
      }
    }
  }

  // AR
  if (in.arvalid && out_.arready) {
    Burst b;
    b.id = in.arid;
    b.addr = in.araddr;
    b.beats = in.arlen + 1u;
    b.size = in.arsize;
    b.seq = seq_++;
    b.resp = Classify(AxiDir::kRead, cycle, b, in.arburst);
    if (b.size > kAxiMaxSizeLog2) b.size = kAxiMaxSizeLog2;
    b.ready_cycle = cycle + Latency(config_.read_latency_cycles);
    reads_.push_back(b);
    ++stats_.read_bursts;
    stats_.max_reads_in_flight = std::max<uint64_t>(stats_.max_reads_in_flight, reads_.size());
  } else if (in.arvalid) {
    ++stats_.ar_stall_cycles;
  }

  // AW
  if (in.awvalid && out_.awready) {
    Burst b;
    b.id = in.awid;
    b.addr = in.awaddr;
    b.beats = in.awlen + 1u;
    b.size = in.awsize;
    b.seq = seq_++;
    b.resp = Classify(AxiDir::kWrite, cycle, b, in.awburst);
    if (b.size > kAxiMaxSizeLog2) b.size = kAxiMaxSizeLog2;
    writes_.push_back(b);
    ++stats_.write_bursts;
    stats_.max_writes_in_flight = std::max<uint64_t>(stats_.max_writes_in_flight, writes_.size() + bresps_.size());
  } else if (in.awvalid) {
    ++stats_.aw_stall_cycles;
  }

  // W (WREADY is only high with an accepted AW waiting for data)
  if (in.wvalid && out_.wready) {
    Burst& b = writes_.front();
    uint64_t line = 0;
    unsigned lo = 0, hi = 0;
    BeatLanes(b, b.beat, &line, &lo, &hi);
    const uint64_t lanes = LaneMask(lo, hi);
    if ((in.wstrb & ~lanes) != 0) {
      Violation(cycle, Format("m_axi_gmem W: WSTRB 0x%016llx outside the active lanes %u..%u of beat %u at 0x%llx",
                              U(in.wstrb), lo, hi, b.beat, U(b.addr)));
    }
    const bool last = b.beat + 1 == b.beats;
    if (in.wlast != last) {
      Violation(cycle, Format("m_axi_gmem W: WLAST %d on beat %u of a %u-beat burst at 0x%llx", in.wlast ? 1 : 0,
                              b.beat + 1, b.beats, U(b.addr)));
    }
    const uint64_t strb = in.wstrb & lanes;
    if (b.resp == AxiResp::kOkay && strb != 0) {
      std::byte* p = memory_.Translate(line + lo, hi - lo + 1);
      if (p != nullptr) {
        for (unsigned j = lo; j <= hi; ++j) {
          if ((strb >> j) & 1) p[j - lo] = in.wdata[j];
        }
        stats_.bytes_written += static_cast<uint64_t>(std::popcount(strb));
      }
    }
    ++stats_.write_beats;
    if (++b.beat == b.beats) {
      b.ready_cycle = cycle + Latency(config_.write_latency_cycles);
      bresps_.push_back(b);
      writes_.pop_front();
    }
  } else if (in.wvalid) {
    ++stats_.w_stall_cycles;
  }

  // R
  if (r_hold_ && in.rready) {
    Burst& b = reads_[r_index_];
    if (b.resp == AxiResp::kOkay) {
      uint64_t line = 0;
      unsigned lo = 0, hi = 0;
      BeatLanes(b, b.beat, &line, &lo, &hi);
      stats_.bytes_read += hi - lo + 1;
    }
    ++stats_.read_beats;
    r_hold_ = false;
    if (++b.beat == b.beats) {
      if (r_index_ != 0) ++stats_.reordered;
      reads_.erase(reads_.begin() + static_cast<std::ptrdiff_t>(r_index_));
      r_active_ = false;
    }
  } else if (r_hold_) {
    ++stats_.r_wait_cycles;
  }

  // B
  if (b_hold_ && in.bready) {
    if (b_index_ != 0) ++stats_.reordered;
    bresps_.erase(bresps_.begin() + static_cast<std::ptrdiff_t>(b_index_));
    b_hold_ = false;
  } else if (b_hold_) {
    ++stats_.b_wait_cycles;
  }

  prev_in_ = in;
  prev_arready_ = out_.arready;
  prev_awready_ = out_.awready;
  prev_wready_ = out_.wready;
  have_prev_ = true;
}

}  // namespace ipsec::sim
