// ConfigPayload: Configuration payload, CP (RFC 7296 §3.15).
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C| RESERVED    |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |   CFG Type    |                    RESERVED                   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                   Configuration Attributes                    ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Configuration attribute (§3.15.1):
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |R|         Attribute Type      |            Length             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                             Value                             ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Field table:
//   body       0 1 CFG Type        -> cfg_type
//              1 3 RESERVED        sent 0, ignored
//   attribute  0 2 R|Type          -> ConfigAttribute::type (R bit: sent 0, ignored)
//              2 2 Length          value length; must fit the payload
//              4 * Value           -> ConfigAttribute::value (empty in a CFG_REQUEST)
#pragma once

#include <cstdint>
#include <vector>

#include "host/common/bytes.h"
#include "host/common/status.h"
#include "host/ike/encoding/ike_constants.h"
#include "host/ike/encoding/wire_writer.h"

namespace ipsec::ike {

struct ConfigAttribute {
  uint16_t type = 0;  // 15 bits, ConfigAttributeType
  std::vector<std::byte> value;

  friend bool operator==(const ConfigAttribute&, const ConfigAttribute&) = default;
};

struct ConfigPayload {
  static constexpr PayloadType kType = PayloadType::kConfig;

  CfgType cfg_type = CfgType::kRequest;
  std::vector<ConfigAttribute> attributes;

  // Errors: body shorter than 4; an attribute header or value that overruns the payload.
  static StatusOr<ConfigPayload> Parse(Bytes body, size_t offset);
  // Errors: attribute type over 15 bits; value over 65535 bytes.
  Status Serialize(WireWriter& w) const;
  // CFG type 1..4; for known attributes the value length is 0 or the size of §3.15.1's table
  // (INTERNAL_IP4_ADDRESS/NETMASK/DNS/NBNS/DHCP 4, INTERNAL_IP6_ADDRESS/SUBNET 17,
  // INTERNAL_IP6_DNS/DHCP 16, INTERNAL_IP4_SUBNET 8, SUPPORTED_ATTRIBUTES a multiple of 2).
  Status Verify() const;

  friend bool operator==(const ConfigPayload&, const ConfigPayload&) = default;
};

}  // namespace ipsec::ike
