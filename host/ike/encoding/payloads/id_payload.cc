// IdPayload decode/encode/verify (RFC 7296 §3.5).
#include "host/ike/encoding/payloads/id_payload.h"

#include <algorithm>

#include "host/ike/encoding/parse_error.h"

namespace ipsec::ike {

StatusOr<IdPayload> IdPayload::Parse(Bytes body, size_t offset, PayloadType payload_type) {
  if (body.size() < 4) return ParseError(offset, "ID body of " + Num(body.size()) + " bytes is shorter than 4");
  IdPayload id;
  id.payload_type = payload_type;
  id.id_type = static_cast<IdType>(U8(body[0]));
  id.data.assign(body.begin() + 4, body.end());
  return id;
}

Status IdPayload::Serialize(WireWriter& w) const {
  w.WriteU8(static_cast<uint8_t>(id_type));
  w.WriteZeros(3);
  w.WriteBytes(data);
  return OkStatus();
}

Status IdPayload::Verify() const {
  if (payload_type != PayloadType::kIdInitiator && payload_type != PayloadType::kIdResponder) {
    return InvalidArgumentError("ID: payload type " + Num(static_cast<uint8_t>(payload_type)) + " is not IDi/IDr");
  }
  const std::string where(PayloadTypeName(payload_type));
  switch (id_type) {
    case IdType::kIpv4Addr:
      if (data.size() != 4) return InvalidArgumentError(where + ": ID_IPV4_ADDR of " + Num(data.size()) + " bytes");
      return OkStatus();
    case IdType::kIpv6Addr:
      if (data.size() != 16) return InvalidArgumentError(where + ": ID_IPV6_ADDR of " + Num(data.size()) + " bytes");
      return OkStatus();
    case IdType::kFqdn:
    case IdType::kRfc822Addr: {
      if (data.empty()) return InvalidArgumentError(where + ": empty identification data");
      const bool has_terminator = std::any_of(data.begin(), data.end(), [](std::byte b) {
        return b == std::byte{0} || b == std::byte{'\r'} || b == std::byte{'\n'};
      });
      if (has_terminator) return InvalidArgumentError(where + ": name contains a NUL/CR/LF terminator");
      return OkStatus();
    }
    case IdType::kDerAsn1Dn:
    case IdType::kDerAsn1Gn:
    case IdType::kKeyId:
    case IdType::kFcName:
      if (data.empty()) return InvalidArgumentError(where + ": empty identification data");
      return OkStatus();
    case IdType::kNull:
      return OkStatus();  // RFC 7619: the data carries no identity; any content is ignored
  }
  return InvalidArgumentError(where + ": unknown ID type " + Num(static_cast<uint8_t>(id_type)));
}

}  // namespace ipsec::ike
