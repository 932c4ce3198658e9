// KePayload decode/encode/verify (RFC 7296 §3.4).
#include "host/ike/encoding/payloads/ke_payload.h"

#include "host/ike/encoding/parse_error.h"

namespace ipsec::ike {

StatusOr<KePayload> KePayload::Parse(Bytes body, size_t offset) {
  if (body.size() < 4) return ParseError(offset, "KE body of " + Num(body.size()) + " bytes is shorter than 4");
  KePayload ke;
  ke.group = static_cast<DhGroup>(LoadU16Be(&body[0]));
  ke.data.assign(body.begin() + 4, body.end());
  return ke;
}

Status KePayload::Serialize(WireWriter& w) const {
  w.WriteU16Be(static_cast<uint16_t>(group));
  w.WriteU16Be(0);
  w.WriteBytes(data);
  return OkStatus();
}

Status KePayload::Verify() const {
  if (group == DhGroup::kNone) return InvalidArgumentError("KE: DH group 0 (NONE)");
  if (data.empty()) return InvalidArgumentError("KE: empty key exchange data");
  const size_t want = KeyExchangeDataSize(group);
  if (want != 0 && data.size() != want) {
    return InvalidArgumentError("KE: group " + Num(static_cast<uint16_t>(group)) + " needs " + Num(want) +
                                " bytes of key exchange data, got " + Num(data.size()));
  }
  return OkStatus();
}

}  // namespace ipsec::ike
