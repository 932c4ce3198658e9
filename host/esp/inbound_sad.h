// InboundSad: finds the inbound ESP SA of each received packet and runs the burst through it.
// Consecutive packets of the same SA are handed over as one sub-burst.
//
// Lookup follows RFC 4301 §4.1: the receiver chose the SPI, so the SPI normally identifies the SA
// alone; when several SAs share an SPI (e.g. SPIs allocated per local address), the one whose
// tunnel destination equals the packet's outer destination wins over one without a destination
// (longest match).
//
// Thread safety: Add/Remove must not run concurrently with ProcessInbound (the runtime swaps whole
// tables for lock-free updates in a later layer).
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "host/esp/esp_packet.h"
#include "host/esp/esp_sa.h"

namespace ipsec::esp {

class InboundSad {
 public:
  // udp_port: the local port ESP-in-UDP arrives on (RFC 3948: 4500); UDP to other ports is not ESP.
  explicit InboundSad(uint16_t udp_port = 4500) : udp_port_(udp_port) {}

  // The SA is not owned; it must outlive its entry. Fails when an SA with the same SPI and the
  // same destination (or both without one) is present.
  Status Add(EspSa* sa);
  // Removes the SA with this SPI and destination (nullptr: the one without a destination).
  Status Remove(uint32_t spi, const sa::IpAddress* dst = nullptr);
  // Longest match for a received packet's SPI and outer destination (dst may be null).
  EspSa* Find(uint32_t spi, const sa::IpAddress* dst = nullptr) const;
  size_t size() const { return count_; }

  // Processes a burst of received packets. sa_out (optional, same size) receives the SA each packet
  // was processed with, or nullptr. Packets with no SA get kBadSpi; non-ESP packets kNotEsp;
  // unparseable ones kMalformed; these are counted in counters() here since no SA owns them.
  size_t ProcessInbound(std::span<PacketBuf* const> pkts, std::span<sa::DropReason> status,
                        std::span<EspSa*> sa_out = {});

  const sa::SaCounters& counters() const { return counters_; }

 private:
  EspSa* Lookup(Bytes pkt, const EspLocation& loc) const;

  uint16_t udp_port_;
  std::unordered_map<uint32_t, std::vector<EspSa*>> by_spi_;
  size_t count_ = 0;
  sa::SaCounters counters_;  // drops not attributable to an SA
};

}  // namespace ipsec::esp
