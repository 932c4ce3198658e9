// Drop reason and event names, lifetime accounting.
#include "host/sa/sa_stats.h"

#include <limits>

namespace ipsec::sa {

std::string_view DropReasonName(DropReason r) {
  switch (r) {
    case DropReason::kOk: return "ok";
    case DropReason::kBadSpi: return "bad-spi";
    case DropReason::kReplay: return "replay";
    case DropReason::kAuthFailed: return "auth-failed";
    case DropReason::kMalformed: return "malformed";
    case DropReason::kBadPadding: return "bad-padding";
    case DropReason::kBadInner: return "bad-inner";
    case DropReason::kNoRoom: return "no-room";
    case DropReason::kSeqOverflow: return "seq-overflow";
    case DropReason::kHardLifetime: return "hard-lifetime";
    case DropReason::kTunnelMismatch: return "tunnel-mismatch";
    case DropReason::kTtlExceeded: return "ttl-exceeded";
    case DropReason::kWrongDirection: return "wrong-direction";
    case DropReason::kEcnDrop: return "ecn-drop";
    case DropReason::kDummyPacket: return "dummy-packet";
    case DropReason::kNotEsp: return "not-esp";
    case DropReason::kCount: break;
  }
  return "?";
}

std::string_view SaEventName(SaEvent e) {
  switch (e) {
    case SaEvent::kSoftLifetime: return "soft-lifetime";
    case SaEvent::kHardLifetime: return "hard-lifetime";
    case SaEvent::kSeqOverflow: return "seq-overflow";
  }
  return "?";
}

uint64_t SaCounters::total_drops() const {
  uint64_t t = 0;
  for (uint64_t d : drops) t += d;
  return t;
}

void LifetimeTracker::Account(uint64_t packets, uint64_t bytes, uint32_t spi, Direction dir,
                              SaEventSink* sink) {
  packets_ += packets;
  bytes_ += bytes;
  const Lifetime& l = limits_;
  if (!soft_fired_ && ((l.soft_bytes && bytes_ >= l.soft_bytes) || (l.soft_packets && packets_ >= l.soft_packets))) {
    soft_fired_ = true;
    if (sink) sink->OnSaEvent(spi, dir, SaEvent::kSoftLifetime);
  }
  if (!hard_fired_ && ((l.hard_bytes && bytes_ >= l.hard_bytes) || (l.hard_packets && packets_ >= l.hard_packets))) {
    hard_fired_ = true;
    if (sink) sink->OnSaEvent(spi, dir, SaEvent::kHardLifetime);
  }
}

uint64_t LifetimeTracker::PacketsLeft() const {
  if (hard_fired_) return 0;
  if (limits_.hard_packets == 0) return std::numeric_limits<uint64_t>::max();
  return limits_.hard_packets > packets_ ? limits_.hard_packets - packets_ : 0;
}

}  // namespace ipsec::sa
