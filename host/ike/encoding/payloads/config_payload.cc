// ConfigPayload decode/encode/verify (RFC 7296 §3.15).
#include "host/ike/encoding/payloads/config_payload.h"

#include <string>

#include "host/ike/encoding/parse_error.h"

namespace ipsec::ike {
namespace {

constexpr uint16_t kReservedBit = 0x8000;

// Fixed value size for a known attribute type; 0 = unknown or variable.
size_t FixedValueSize(uint16_t type) {
  switch (static_cast<ConfigAttributeType>(type)) {
    case ConfigAttributeType::kInternalIp4Address:
    case ConfigAttributeType::kInternalIp4Netmask:
    case ConfigAttributeType::kInternalIp4Dns:
    case ConfigAttributeType::kInternalIp4Nbns:
    case ConfigAttributeType::kInternalIp4Dhcp:
      return 4;
    case ConfigAttributeType::kInternalIp6Address:
    case ConfigAttributeType::kInternalIp6Subnet:
      return 17;  // address + prefix length
    case ConfigAttributeType::kInternalIp6Dns:
    case ConfigAttributeType::kInternalIp6Dhcp:
      return 16;
    case ConfigAttributeType::kInternalIp4Subnet:
      return 8;  // address + netmask
    default:
      return 0;
  }
}

}  // namespace

StatusOr<ConfigPayload> ConfigPayload::Parse(Bytes body, size_t offset) {
  if (body.size() < 4) return ParseError(offset, "CP body of " + Num(body.size()) + " bytes is shorter than 4");
  ConfigPayload cp;
  cp.cfg_type = static_cast<CfgType>(U8(body[0]));
  size_t pos = 4;
  while (pos < body.size()) {
    const std::string where = "CP attribute #" + Num(cp.attributes.size() + 1);
    const size_t left = body.size() - pos;
    if (left < 4) return ParseError(offset + pos, where + ": " + Num(left) + " bytes are too short for its header");
    ConfigAttribute a;
    a.type = static_cast<uint16_t>(LoadU16Be(&body[pos]) & ~kReservedBit);
    const size_t length = LoadU16Be(&body[pos + 2]);
    if (length > left - 4) {
      return ParseError(offset + pos + 2, where + ": Length " + Num(length) + " overruns the payload (" +
                                              Num(left - 4) + " bytes left)");
    }
    a.value.assign(body.begin() + static_cast<std::ptrdiff_t>(pos + 4),
                   body.begin() + static_cast<std::ptrdiff_t>(pos + 4 + length));
    cp.attributes.push_back(std::move(a));
    pos += 4 + length;
  }
  return cp;
}

Status ConfigPayload::Serialize(WireWriter& w) const {
  w.WriteU8(static_cast<uint8_t>(cfg_type));
  w.WriteZeros(3);
  for (const ConfigAttribute& a : attributes) {
    if (a.type & kReservedBit) return EncodeError("CP attribute type " + Num(a.type) + " does not fit 15 bits");
    if (a.value.size() > 0xffff) return EncodeError("CP attribute value longer than 65535 bytes");
    w.WriteU16Be(a.type);
    w.WriteU16Be(static_cast<uint16_t>(a.value.size()));
    w.WriteBytes(a.value);
  }
  return OkStatus();
}

Status ConfigPayload::Verify() const {
  const auto t = static_cast<uint8_t>(cfg_type);
  if (t < 1 || t > 4) return InvalidArgumentError("CP: CFG type " + Num(t) + " (must be 1..4)");
  for (size_t i = 0; i < attributes.size(); ++i) {
    const ConfigAttribute& a = attributes[i];
    const size_t fixed = FixedValueSize(a.type);
    const std::string where = "CP attribute #" + Num(i + 1) + " (type " + Num(a.type) + ")";
    if (fixed != 0 && !a.value.empty() && a.value.size() != fixed) {
      return InvalidArgumentError(where + ": value of " + Num(a.value.size()) + " bytes (must be 0 or " +
                                  Num(fixed) + ")");
    }
    if (a.type == static_cast<uint16_t>(ConfigAttributeType::kSupportedAttributes) && a.value.size() % 2 != 0) {
      return InvalidArgumentError(where + ": SUPPORTED_ATTRIBUTES of odd length");
    }
  }
  return OkStatus();
}

}  // namespace ipsec::ike
