// AxiLiteMaster: blocking AXI4-Lite register access (see axi_lite_master.h).
#include "sim/axi_lite_master.h"

#include <cstdio>
#include <string>
#include <utility>

namespace ipsec::sim {
namespace {

std::string Hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

AxiLiteMaster::AxiLiteMaster(CycleRunner& runner, AxiLiteConfig config)
    : runner_(runner), config_(config), rng_(config.seed) {}

void AxiLiteMaster::Reset() {
  writes_.clear();
  reads_.clear();
  aw_next_ = w_next_ = b_next_ = ar_next_ = r_next_ = 0;
  out_ = {};
  have_prev_ = false;
}

void AxiLiteMaster::Violation(uint64_t cycle, std::string what) {
  ++violation_count_;
  if (violations_.size() < 256) violations_.push_back({cycle, std::move(what)});
}

AxiLiteMasterOut AxiLiteMaster::Drive(uint64_t /*cycle*/) {
  AxiLiteMasterOut& o = out_;
  const bool aw_room = aw_next_ - b_next_ < config_.max_outstanding;
  o.awvalid = aw_next_ < writes_.size() && aw_room;
  if (o.awvalid) o.awaddr = writes_[aw_next_].addr;
  o.wvalid = w_next_ < writes_.size() && w_next_ - b_next_ < config_.max_outstanding;
  if (o.wvalid) {
    o.wdata = writes_[w_next_].data;
    o.wstrb = writes_[w_next_].strb;
  }
  o.arvalid = ar_next_ < reads_.size() && ar_next_ - r_next_ < config_.max_outstanding;
  if (o.arvalid) o.araddr = reads_[ar_next_].addr;
  const bool stall = config_.ready_stall > 0.0 && static_cast<double>(rng_() >> 11) * 0x1.0p-53 < config_.ready_stall;
  o.bready = !stall;
  o.rready = !stall;
  return o;
}

void AxiLiteMaster::Sample(uint64_t cycle, const AxiLiteSlaveOut& in) {
  if (have_prev_) {
    if (prev_in_.bvalid && !prev_bready_ && (!in.bvalid || in.bresp != prev_in_.bresp)) {
      Violation(cycle, "s_axi_control B: BVALID dropped or BRESP changed before BREADY");
    }
    if (prev_in_.rvalid && !prev_rready_ && (!in.rvalid || in.rresp != prev_in_.rresp || in.rdata != prev_in_.rdata)) {
      Violation(cycle, "s_axi_control R: RVALID dropped or payload changed before RREADY");
    }
  }
  if (out_.awvalid && in.awready) {
    ++aw_next_;
    last_progress_ = cycle;
  }
  if (out_.wvalid && in.wready) {
    ++w_next_;
    last_progress_ = cycle;
  }
  if (out_.arvalid && in.arready) {
    ++ar_next_;
    last_progress_ = cycle;
  }
  if (in.bvalid && out_.bready) {
    // A write is answerable once both its address and data went across.
    if (b_next_ < std::min(aw_next_, w_next_)) {
      writes_[b_next_].resp = static_cast<AxiResp>(in.bresp & 3);
      writes_[b_next_].done = true;
      ++b_next_;
      last_progress_ = cycle;
    } else {
      Violation(cycle, "s_axi_control B: response without an outstanding write");
    }
  }
  if (in.rvalid && out_.rready) {
    if (r_next_ < ar_next_) {
      reads_[r_next_].resp = static_cast<AxiResp>(in.rresp & 3);
      reads_[r_next_].data = in.rdata;
      reads_[r_next_].done = true;
      ++r_next_;
      last_progress_ = cycle;
    } else {
      Violation(cycle, "s_axi_control R: response without an outstanding read");
    }
  }
  prev_in_ = in;
  prev_bready_ = out_.bready;
  prev_rready_ = out_.rready;
  have_prev_ = true;
}

Status AxiLiteMaster::Wait(const std::deque<Op>& q, size_t count, const char* what, uint64_t first_addr) {
  last_progress_ = runner_.cycle();
  const uint64_t start = runner_.cycle();
  auto answered = [&] {
    for (size_t i = 0; i < count; ++i) {
      if (!q[i].done) return false;
    }
    return true;
  };
  while (!answered()) {
    if (runner_.cycle() - last_progress_ >= config_.timeout_cycles) {
      ++stats_.timeouts;
      stats_.wait_cycles += runner_.cycle() - start;
      Reset();
      return UnavailableError(std::string("AXI-Lite ") + what + " at " + Hex(first_addr) +
                              ": no answer from the card in " + std::to_string(config_.timeout_cycles) + " cycles");
    }
    runner_.Step(1);
  }
  stats_.wait_cycles += runner_.cycle() - start;
  return OkStatus();
}

StatusOr<uint32_t> AxiLiteMaster::Read32(uint64_t addr) {
  reads_.push_back({addr, 0, 0, AxiResp::kOkay, false});
  RETURN_IF_ERROR(Wait(reads_, reads_.size(), "read", addr));
  const Op op = reads_.back();
  reads_.clear();
  ar_next_ = r_next_ = 0;
  ++stats_.reads;
  if (op.resp != AxiResp::kOkay) {
    ++stats_.error_responses;
    return InternalError("AXI-Lite read at " + Hex(addr) + ": " + std::string(AxiRespName(op.resp)));
  }
  return op.data;
}

Status AxiLiteMaster::Write32(uint64_t addr, uint32_t value, uint8_t strb) {
  const RegWrite w{addr, value, strb};
  return WriteBatch(std::span<const RegWrite>(&w, 1));
}

Status AxiLiteMaster::WriteBatch(std::span<const RegWrite> writes) {
  if (writes.empty()) return OkStatus();
  for (const RegWrite& w : writes) writes_.push_back({w.addr, w.value, w.strb, AxiResp::kOkay, false});
  RETURN_IF_ERROR(Wait(writes_, writes_.size(), "write", writes.front().addr));
  Status first = OkStatus();
  for (const Op& op : writes_) {
    ++stats_.writes;
    if (op.resp != AxiResp::kOkay) {
      ++stats_.error_responses;
      if (first.ok()) {
        first = InternalError("AXI-Lite write at " + Hex(op.addr) + ": " + std::string(AxiRespName(op.resp)));
      }
    }
  }
  writes_.clear();
  aw_next_ = w_next_ = b_next_ = 0;
  return first;
}

}  // namespace ipsec::sim
