// Per-packet results, per-SA counters, lifetime tracking and SA events.
//
// Every packet the data path refuses gets a DropReason in its status slot and a count in its SA's
// counters (or in the path's global counters when no SA could be found), never a silent drop.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "host/sa/sa_config.h"

namespace ipsec::sa {

enum class DropReason : uint8_t {
  kOk = 0,
  kBadSpi,          // no SA for the SPI (and destination)
  kReplay,          // already seen, or left of the window
  kAuthFailed,      // ICV did not verify
  kMalformed,       // too short, bad lengths, wrong header, not a multiple of the block size
  kBadPadding,      // pad bytes not 1, 2, 3, ... (RFC 4303 §2.4) or pad length beyond payload
  kBadInner,        // decapsulated packet is not a sane IP packet, or next header mismatch
  kNoRoom,          // buffer lacks head- or tailroom for the transform
  kSeqOverflow,     // outbound sequence number space exhausted (RFC 4303 §3.3.3)
  kHardLifetime,    // SA past its hard byte or packet limit
  kTunnelMismatch,  // outer addresses differ from the SA's (verify_tunnel_addresses)
  kTtlExceeded,     // inner TTL/hop limit reached 0 (decrement_inner_ttl)
  kWrongDirection,  // outbound SA used for inbound processing or vice versa
  kEcnDrop,         // RFC 6040 §4.2: CE outer on Not-ECT inner
  kDummyPacket,     // TFC dummy packet (next header 59): discarded by design (RFC 4303 §2.6)
  kNotEsp,          // not for this path: IKE on port 4500, NAT-T keepalive, other protocol
  kCount,
};
inline constexpr size_t kNumDropReasons = static_cast<size_t>(DropReason::kCount);
std::string_view DropReasonName(DropReason r);

struct SaCounters {
  uint64_t packets = 0;  // processed successfully
  uint64_t bytes = 0;    // inner (plaintext) bytes processed successfully
  std::array<uint64_t, kNumDropReasons> drops{};
  uint64_t drop(DropReason r) const { return drops[static_cast<size_t>(r)]; }
  uint64_t total_drops() const;
};

enum class SaEvent : uint8_t {
  kSoftLifetime,  // soft byte or packet limit crossed: rekey now
  kHardLifetime,  // hard limit crossed: the SA refuses further packets
  kSeqOverflow,   // outbound sequence number space exhausted: the SA stops
};
std::string_view SaEventName(SaEvent e);

// Consumer of SA events (the control plane). Called on the data-path thread, once per event per
// SA; implementations must not block (queue the event and return).
class SaEventSink {
 public:
  virtual ~SaEventSink() = default;
  virtual void OnSaEvent(uint32_t spi, Direction direction, SaEvent event) = 0;
};

// Lifetime accounting shared by ESP and AH SAs.
class LifetimeTracker {
 public:
  explicit LifetimeTracker(const Lifetime& l) : limits_(l) {}
  // True when the SA is past a hard limit and must not process more packets.
  bool expired() const { return hard_fired_; }
  // Accounts one processed packet of `bytes`; fires events through `sink` (may be null).
  void Account(uint64_t packets, uint64_t bytes, uint32_t spi, Direction dir, SaEventSink* sink);
  // The packet budget left before the hard packet limit (UINT64_MAX when none).
  uint64_t PacketsLeft() const;
  // Whether the SA would be past a hard limit once `packets` more packets of `bytes` in total
  // (already accepted in the current burst, not yet accounted) are accounted.
  bool ExpiredAfter(uint64_t packets, uint64_t bytes) const {
    if (hard_fired_) return true;
    return (limits_.hard_bytes && bytes_ + bytes >= limits_.hard_bytes) ||
           (limits_.hard_packets && packets_ + packets >= limits_.hard_packets);
  }

 private:
  Lifetime limits_;
  uint64_t packets_ = 0, bytes_ = 0;
  bool soft_fired_ = false, hard_fired_ = false;
};

}  // namespace ipsec::sa
