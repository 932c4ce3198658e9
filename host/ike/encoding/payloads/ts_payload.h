// TsPayload: Traffic Selector payload, TSi or TSr (RFC 7296 §3.13).
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Number of TSs |                 RESERVED                      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                       <Traffic Selectors>                     ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Traffic selector (§3.13.1):
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |   TS Type     |IP Protocol ID*|       Selector Length         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |           Start Port*         |           End Port*           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                         Starting Address*                     ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                         Ending Address*                       ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Field table:
//   payload body  0 1 Number of TSs    equals the selectors found (derived)
//                 1 3 RESERVED         sent 0, ignored
//   selector      0 1 TS Type          -> type
//                 1 1 IP Protocol ID   -> ip_protocol (0 = any)
//                 2 2 Selector Length  16 for TS_IPV4_ADDR_RANGE, 40 for TS_IPV6_ADDR_RANGE, >= 4
//                                      and within the payload for other types
//                 4 2 Start Port       -> start_port
//                 6 2 End Port         -> end_port
//                 8 n Starting Address -> start_address (4 or 16 bytes)
//                 * n Ending Address   -> end_address
// Selectors of other types (TS_FC_ADDR_RANGE, future ones) are kept as the opaque bytes after the
// 4-byte selector header in `opaque`.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "host/common/bytes.h"
#include "host/common/status.h"
#include "host/ike/encoding/ike_constants.h"
#include "host/ike/encoding/wire_writer.h"

namespace ipsec::ike {

struct TrafficSelector {
  TsType type = TsType::kIpv4AddrRange;
  uint8_t ip_protocol = 0;
  uint16_t start_port = 0;
  uint16_t end_port = 0xffff;
  std::vector<std::byte> start_address;
  std::vector<std::byte> end_address;
  std::vector<std::byte> opaque;  // only for types other than IPv4/IPv6 ranges

  static TrafficSelector Ipv4Range(const std::array<uint8_t, 4>& start, const std::array<uint8_t, 4>& end,
                                   uint8_t ip_protocol = 0, uint16_t start_port = 0, uint16_t end_port = 0xffff);
  static TrafficSelector Ipv6Range(const std::array<uint8_t, 16>& start, const std::array<uint8_t, 16>& end,
                                   uint8_t ip_protocol = 0, uint16_t start_port = 0, uint16_t end_port = 0xffff);

  friend bool operator==(const TrafficSelector&, const TrafficSelector&) = default;
};

struct TsPayload {
  PayloadType payload_type = PayloadType::kTsInitiator;  // kTsInitiator or kTsResponder
  std::vector<TrafficSelector> selectors;

  // Errors: body shorter than 4; a selector header or body that does not fit; an IPv4/IPv6 range
  // whose Selector Length is not 16/40; bytes left after Number of TSs selectors.
  static StatusOr<TsPayload> Parse(Bytes body, size_t offset, PayloadType payload_type);
  // Errors: over 255 selectors; an IPv4/IPv6 address of the wrong size; oversized opaque data.
  Status Serialize(WireWriter& w) const;
  // payload_type is TSi/TSr; at least one selector; for address ranges: start port <= end port
  // unless the pair is the OPAQUE marker (65535, 0) of §3.13.1, and start address <= end address.
  Status Verify() const;

  friend bool operator==(const TsPayload&, const TsPayload&) = default;
};

}  // namespace ipsec::ike
