// Locating ESP inside a received IP packet: outer IPv4/IPv6 header, optional IPv6 extension
// headers, optional UDP encapsulation (RFC 3948), then the ESP header. Used for SA lookup before
// processing and by the inbound path itself. Bounds-checked; never trusts a length field.
#pragma once

#include <cstdint>

#include "host/common/bytes.h"
#include "host/common/status.h"

namespace ipsec::esp {

// What a UDP datagram to the NAT-T port carries (RFC 3948 §2.2-2.3).
enum class UdpPayloadKind : uint8_t { kEsp, kIke, kKeepalive, kInvalid };

struct EspLocation {
  uint8_t ip_version = 0;
  size_t ip_total_len = 0;   // outer packet length from the header (link padding excluded)
  size_t pre_esp_len = 0;    // IP header plus extension headers in front of ESP (or of UDP)
  size_t nh_offset = 0;      // offset of the Next Header / Protocol byte that names ESP (or UDP)
  bool udp = false;          // ESP carried in UDP
  uint16_t udp_src_port = 0, udp_dst_port = 0;
  size_t esp_offset = 0;     // first byte of the ESP header
  uint32_t spi = 0;
  uint32_t seq_low = 0;
};

// Classifies a UDP payload received on the NAT-T port: a non-ESP marker (four zero bytes) means
// IKE, a single 0xFF byte is a NAT keepalive (RFC 3948 §2.3), anything else of 8+ bytes is ESP.
UdpPayloadKind ClassifyUdpEncapPayload(Bytes udp_payload);

// Parses `pkt` (starting at the IP header) down to the ESP header. `expect_udp`: the SA uses UDP
// encapsulation, so ESP must be inside UDP; otherwise it must be IP protocol 50. Fails with
// kInvalidArgument on anything malformed, kFailedPrecondition for IP fragments (no reassembly),
// and kNotFound when the packet is not ESP (wrong protocol, IKE or keepalive on port 4500).
// With expect_udp, `udp_port` (when nonzero) is the destination port ESP-in-UDP must arrive on.
StatusOr<EspLocation> LocateEsp(Bytes pkt, bool expect_udp, uint16_t udp_port = 0);

// Peeks the SPI without knowing the SA: plain ESP, or ESP in UDP to `udp_port` (RFC 3948's 4500
// by default); UDP to any other port is not ESP (kNotFound).
StatusOr<EspLocation> LocateEspAny(Bytes pkt, uint16_t udp_port = 4500);

}  // namespace ipsec::esp
