// NAT traversal helpers for IKE: the non-ESP marker on UDP port 4500 (RFC 3948 §2.2, RFC 7296
// §2.23) and the NAT_DETECTION_*_IP notification data (RFC 7296 §2.23).
//
// On port 4500 one UDP port carries both ESP and IKE. An IKE message is prefixed with four zero
// bytes (the non-ESP marker) where ESP has its non-zero SPI; a single 0xFF byte is a NAT-keepalive
// (RFC 3948 §2.3). Port 500 carries IKE without a marker. The ESP side has its own classifier
// (esp::ClassifyUdpEncapPayload); these helpers are for the IKE socket.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "host/common/bytes.h"
#include "host/common/status.h"

namespace ipsec::ike {

inline constexpr size_t kNonEspMarkerSize = 4;
inline constexpr uint16_t kIkePort = 500;
inline constexpr uint16_t kIkeNatTPort = 4500;

// True if `udp_payload` starts with the four zero bytes of the non-ESP marker.
bool HasNonEspMarker(Bytes udp_payload);

// Returns the IKE message after the marker (a view into `udp_payload`). Errors
// (kInvalidArgument): fewer than 4 bytes, or the first four bytes are not all zero (ESP or junk).
StatusOr<Bytes> StripNonEspMarker(Bytes udp_payload);

// Returns 0x00000000 || ike_message, for sending an IKE message from/to port 4500.
std::vector<std::byte> AddNonEspMarker(Bytes ike_message);

// True for the one-byte 0xFF NAT-keepalive (RFC 3948 §2.3), which the IKE socket discards.
bool IsNatKeepalive(Bytes udp_payload);

// The NAT_DETECTION_SOURCE_IP / _DESTINATION_IP data: SHA-1(SPIi | SPIr | IP | Port), with both
// SPIs in network order as in the IKE header, the address as 4 (IPv4) or 16 (IPv6) bytes and the
// port in network order (RFC 7296 §2.23). Errors: an address that is not 4 or 16 bytes; a
// failure of the SHA-1 implementation (kInternal).
StatusOr<std::array<std::byte, 20>> NatDetectionHash(uint64_t spi_i, uint64_t spi_r, Bytes ip_address,
                                                     uint16_t port);

}  // namespace ipsec::ike
