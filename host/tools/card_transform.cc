// CardTransform: ipsec-pcap's bursts through the card driver (see card_transform.h).
#include "host/tools/card_transform.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>
#include <utility>

#include "driver/device_registry.h"
#include "driver/sa_params.h"
#include "host/sa/suite.h"

namespace ipsec::tools {
namespace {

using sa::DropReason;

constexpr size_t Index(DropReason r) {
  return static_cast<size_t>(r);
}

std::string Hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08x", v);
  return buf;
}

// The suites whose bits are set in CAP_SUITES, by name.
std::string SuiteList(uint32_t suites) {
  std::string names;
  for (uint32_t bit = 0; bit < 32; ++bit) {
    if (((suites >> bit) & 1) == 0) continue;
    auto s = driver::FromCardSuite(static_cast<card::Suite>(bit));
    names += (names.empty() ? "" : ", ") + (s.ok() ? std::string(sa::SuiteName(*s)) : "suite " + std::to_string(bit));
  }
  return names.empty() ? "none" : names;
}

uint32_t CeilLog2(size_t n) {
  uint32_t l = 0;
  while ((size_t{1} << l) < n) ++l;
  return l;
}

}  // namespace

CardTransform::~CardTransform() = default;

StatusOr<std::unique_ptr<CardTransform>> CardTransform::Create(Operation op, std::vector<sa::SaFile> sas,
                                                               std::string_view device_spec, size_t max_burst) {
  if (max_burst == 0) return InvalidArgumentError("card: burst must be at least 1");
  // The SA selection of MakeSaTransform, with its messages.
  const sa::Direction want = op == Operation::kEncap ? sa::Direction::kOutbound : sa::Direction::kInbound;
  std::vector<sa::SaFile> use;
  for (sa::SaFile& f : sas) {
    if (f.config.direction == want) use.push_back(std::move(f));
  }
  if (use.empty()) {
    return InvalidArgumentError(op == Operation::kEncap ? "encap needs an SA with direction = out"
                                                        : "decap needs an SA with direction = in");
  }
  if (op == Operation::kEncap && use.size() != 1) {
    return InvalidArgumentError("encap needs exactly one SA with direction = out; got " + std::to_string(use.size()));
  }
  for (const sa::SaFile& f : use) {
    if (f.config.protocol == sa::Protocol::kAh) {
      return InvalidArgumentError("SA " + std::to_string(f.config.spi) +
                                  ": protocol = ah is not supported with --device (the card does ESP only); "
                                  "run without --device to use the software AH path");
    }
  }

  auto device = driver::OpenDevice(device_spec);
  if (!device.ok()) {
    const std::string msg = "--device " + std::string(device_spec) + ": " + device.status().message();
    return device.status().code() == StatusCode::kNotFound ? NotFoundError(msg) : InvalidArgumentError(msg);
  }
  auto t = std::unique_ptr<CardTransform>(new CardTransform());
  t->op_ = op;
  t->backend_ = std::string((*device)->backend());
  driver::DriverOptions dopts;
  dopts.queues = 1;
  dopts.ring_log2 = std::max<uint32_t>(4, CeilLog2(max_burst));  // the driver clamps it to the card's maximum
  auto drv = driver::Driver::Open(std::move(device).value(), dopts);
  if (!drv.ok()) {
    return Status(drv.status().code(),
                  "--device " + std::string(device_spec) + ": card bring-up failed: " + drv.status().message());
  }
  t->driver_ = std::move(drv).value();
  const driver::Capabilities& caps = t->driver_->caps();

  // Install the SAs.
  for (sa::SaFile& f : use) {
    const sa::SaConfig& c = f.config;
    const std::string name = "SA " + std::to_string(c.spi);
    if (!caps.SupportsSuite(c.suite)) {
      return InvalidArgumentError(name + ": suite " + std::string(sa::SuiteName(c.suite)) +
                                  " is not implemented by the card (card suites: " + SuiteList(caps.suites) + ")");
    }
    const uint32_t slot =
        op == Operation::kEncap ? (caps.sa_count > kOutboundSlot ? kOutboundSlot : 0) : t->driver_->InboundSlot(c.spi);
    for (const CardSa& other : t->sas_) {
      if (other.slot == slot) {
        return InvalidArgumentError("decap: SPIs " + Hex(other.config.spi) + " and " + Hex(c.spi) +
                                    " both map to card SA slot " + std::to_string(slot) + " (SPI mod " +
                                    std::to_string(caps.sa_count) + "); the card holds one inbound SA per slot");
      }
    }
    Status s = t->driver_->InstallSa(slot, c, f.keys);
    if (!s.ok()) return InvalidArgumentError(name + ": the card refuses it: " + s.message());
    CardSa cs;
    cs.config = c;
    cs.slot = slot;
    t->sas_.push_back(std::move(cs));
  }

  // The DMA buffers: one per packet of a burst, allocated once. Each holds the card's headroom,
  // its largest packet and its tailroom (a buffer is at most 64 KiB - 1, the descriptor's limit).
  t->headroom_ = caps.min_headroom;
  const uint32_t tailroom = caps.min_tailroom;
  t->max_pkt_ = std::min<uint32_t>(caps.max_pkt_bytes, 0xffff - t->headroom_ - tailroom);
  auto pool = driver::PacketPool::Create(t->driver_->device(), static_cast<uint32_t>(max_burst),
                                         t->headroom_ + t->max_pkt_ + tailroom);
  if (!pool.ok()) return Status(pool.status().code(), "card: DMA buffers: " + pool.status().message());
  t->pool_ = std::make_unique<driver::PacketPool>(std::move(pool).value());
  t->reqs_.resize(max_burst);
  t->req_pkt_.resize(max_burst);
  t->req_done_.resize(max_burst);
  t->cpls_.resize(max_burst);
  return t;
}

CardTransform::CardSa* CardTransform::FindSlot(uint32_t slot) {
  for (CardSa& s : sas_) {
    if (s.slot == slot) return &s;
  }
  return nullptr;
}

size_t CardTransform::Process(std::span<PacketBuf* const> pkts, std::span<DropReason> status) {
  size_t ok = 0;
  for (size_t first = 0; first < pkts.size(); first += reqs_.size()) {
    const size_t n = std::min(reqs_.size(), pkts.size() - first);
    ok += ProcessChunk(pkts.subspan(first, n), status.subspan(first, n));
  }
  return ok;
}

size_t CardTransform::ProcessChunk(std::span<PacketBuf* const> pkts, std::span<DropReason> status) {
  const size_t n = pkts.size();
  if (!failure_.ok()) {
    // The card stopped answering earlier: its buffers may still be in use, so nothing is sent.
    for (size_t i = 0; i < n; ++i) {
      status[i] = DropReason::kMalformed;
      ++unmatched_.drops[Index(DropReason::kMalformed)];
    }
    return 0;
  }
  const card::Dir dir = op_ == Operation::kEncap ? card::Dir::kOutbound : card::Dir::kInbound;
  const uint32_t out_slot = op_ == Operation::kEncap ? sas_.front().slot : 0;
  uint32_t k = 0;
  for (size_t i = 0; i < n; ++i) {
    const PacketBuf& b = *pkts[i];
    status[i] = DropReason::kOk;
    if (b.length > max_pkt_) {
      // Longer than the card takes: what the card would say (too_big) without sending it.
      status[i] = DropReason::kMalformed;
      ++unmatched_.drops[Index(DropReason::kMalformed)];
      continue;
    }
    driver::Packet& p = reqs_[k];
    p = pool_->Load(k, std::span<const std::byte>(b.data(), b.length), headroom_);
    p.dir = dir;
    p.sa_index = out_slot;  // outbound: the SA; inbound: the card looks the SPI up
    p.sa_valid = false;
    p.user_data = k;
    req_pkt_[k] = static_cast<uint32_t>(i);
    req_done_[k] = 0;
    ++k;
  }

  size_t submitted = 0, completed = 0;
  auto last_progress = std::chrono::steady_clock::now();
  while (completed < k) {
    bool progress = false;
    if (submitted < k) {
      // One Submit per burst unless the ring is smaller than the burst.
      const size_t s = driver_->Submit(0, std::span<const driver::Packet>(reqs_.data() + submitted, k - submitted));
      submitted += s;
      progress = s != 0;
    }
    const size_t m = driver_->Poll(0, std::span<driver::Completion>(cpls_.data(), cpls_.size()));
    for (size_t j = 0; j < m; ++j) completed += Complete(cpls_[j], pkts, status) ? 1 : 0;
    if (progress || m != 0) {
      last_progress = std::chrono::steady_clock::now();
      continue;
    }
    // Nothing moved. A failed queue hands its outstanding requests back as aborted completions
    // (above); once it has, what it never accepted cannot be sent.
    Status q = driver_->queue_status(0);
    if (!q.ok() && driver_->Outstanding(0) == 0) {
      failure_ = UnavailableError("card queue failed: " + q.message());
      break;
    }
    if (std::chrono::steady_clock::now() - last_progress > kStallTimeout) {
      failure_ = UnavailableError("the card returned no completion for " + std::to_string(kStallTimeout.count()) +
                                  " s (" + std::to_string(k - completed) + " requests outstanding)");
      break;
    }
  }
  size_t ok = 0;
  for (uint32_t r = 0; r < k; ++r) {
    if (req_done_[r] == 0) {
      // Device error with no DropReason: reported as malformed.
      status[req_pkt_[r]] = DropReason::kMalformed;
      ++unmatched_.drops[Index(DropReason::kMalformed)];
    }
  }
  for (size_t i = 0; i < n; ++i) ok += status[i] == DropReason::kOk ? 1 : 0;
  return ok;
}

bool CardTransform::Complete(const driver::Completion& c, std::span<PacketBuf* const> pkts,
                             std::span<DropReason> status) {
  // The driver checks that each completion names the descriptor it answers; stay safe anyway.
  if (c.user_data >= reqs_.size() || req_done_[c.user_data] != 0) return false;
  const auto k = static_cast<uint32_t>(c.user_data);
  req_done_[k] = 1;
  const size_t i = req_pkt_[k];
  CardSa* owner = FindSlot(c.sa_index);
  if (!c.ok()) {
    // Statuses without a DropReason are device errors (DMA errors, internal, aborted by the
    // driver): counted as malformed.
    const DropReason why = ToDropReasonOrMalformed(c);
    status[i] = why;
    if (owner != nullptr) {
      ++owner->card_drops[Index(why)];
    } else {
      ++unmatched_.drops[Index(why)];
    }
    return true;
  }
  PacketBuf& b = *pkts[i];
  const uint32_t in_len = reqs_[k].buf.length;
  const uint64_t inner = op_ == Operation::kEncap ? in_len : c.out_len;
  if (c.out_len > b.capacity) {
    status[i] = DropReason::kNoRoom;
    if (owner != nullptr) {
      ++owner->host_drops[Index(DropReason::kNoRoom)];
      ++owner->host_dropped_packets;
      owner->host_dropped_bytes += inner;
    } else {
      ++unmatched_.drops[Index(DropReason::kNoRoom)];
    }
    return true;
  }
  // Keep the output where the software path would put it: moved by as much as the card moved it
  // from where the input started, within the buffer.
  const int64_t want = int64_t{b.offset} + int64_t{c.out_offset} - int64_t{headroom_};
  const int64_t off = std::clamp<int64_t>(want, 0, int64_t{b.capacity} - c.out_len);
  std::memcpy(b.base + off, pool_->data(k) + c.out_offset, c.out_len);
  b.offset = static_cast<uint32_t>(off);
  b.length = c.out_len;
  if (owner != nullptr) {
    ++owner->packets;
    owner->bytes += inner;
  }
  return true;
}

DropReason CardTransform::ToDropReasonOrMalformed(const driver::Completion& c) {
  if (c.aborted) return DropReason::kMalformed;
  return driver::ToDropReason(c.status, c.dir).value_or(DropReason::kMalformed);
}

std::vector<SaReport> CardTransform::Reports() const {
  std::vector<SaReport> out;
  for (const CardSa& s : sas_) {
    SaReport r{s.config.spi, s.config.direction, s.config.protocol, std::string(sa::SuiteName(s.config.suite)), {}};
    sa::SaCounters& rc = r.counters;
    auto c = driver_->ReadSaCounters(s.slot);
    if (c.ok() && c->valid) {
      rc.packets = c->packets - std::min(c->packets, s.host_dropped_packets);
      rc.bytes = c->bytes - std::min(c->bytes, s.host_dropped_bytes);
      rc.drops[Index(DropReason::kAuthFailed)] = c->auth_failed;
      rc.drops[Index(DropReason::kReplay)] = c->replay;
      // The card keeps one counter for the other drops; split it by what the completions said.
      uint64_t other = c->other_drops;
      for (size_t d = 1; d < sa::kNumDropReasons; ++d) {
        if (d == Index(DropReason::kAuthFailed) || d == Index(DropReason::kReplay)) continue;
        const uint64_t take = std::min(s.card_drops[d], other);
        rc.drops[d] += take;
        other -= take;
      }
      rc.drops[Index(DropReason::kMalformed)] += other;
    } else {
      // Fall back to what the completions said, and say so.
      rc.packets = s.packets;
      rc.bytes = s.bytes;
      rc.drops = s.card_drops;
      r.suite += " (card counters unavailable: " +
                 (c.ok() ? std::string("slot ") + std::to_string(s.slot) + " is empty" : c.status().message()) + ")";
    }
    for (size_t d = 1; d < sa::kNumDropReasons; ++d) rc.drops[d] += s.host_drops[d];
    out.push_back(std::move(r));
  }
  if (unmatched_.total_drops() != 0) {
    const sa::Direction dir = op_ == Operation::kEncap ? sa::Direction::kOutbound : sa::Direction::kInbound;
    out.push_back(SaReport{0, dir, sa::Protocol::kEsp, "(no SA)", unmatched_});
  }
  return out;
}

}  // namespace ipsec::tools
