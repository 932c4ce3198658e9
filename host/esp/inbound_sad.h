// InboundSad: finds the inbound ESP SA of each received packet by SPI and runs the burst through
// it. Consecutive packets of the same SA are handed over as one sub-burst.
//
// RFC 4301 §4.1: for unicast SAs the receiver chose the SPI, so the SPI alone identifies the SA;
// destination checks, where wanted, are the SA's verify_tunnel_addresses option.
//
// Thread safety: Add/Remove must not run concurrently with ProcessInbound (the runtime swaps whole
// tables for lock-free updates in a later layer).
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>

#include "host/esp/esp_sa.h"

namespace ipsec::esp {

class InboundSad {
 public:
  // The SA is not owned; it must outlive its entry.
  Status Add(EspSa* sa);
  Status Remove(uint32_t spi);
  EspSa* Find(uint32_t spi) const;
  size_t size() const { return by_spi_.size(); }

  // Processes a burst of received packets. sa_out (optional, same size) receives the SA each packet
  // was processed with, or nullptr. Packets with no SA get kBadSpi; non-ESP packets kNotEsp; both
  // are counted in counters() here since no SA owns them.
  size_t ProcessInbound(std::span<PacketBuf* const> pkts, std::span<sa::DropReason> status,
                        std::span<EspSa*> sa_out = {});

  const sa::SaCounters& counters() const { return counters_; }

 private:
  std::unordered_map<uint32_t, EspSa*> by_spi_;
  sa::SaCounters counters_;  // drops not attributable to an SA
};

}  // namespace ipsec::esp
