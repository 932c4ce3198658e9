// EapPayload decode/encode/verify (RFC 7296 §3.16, RFC 3748 §4).
#include "host/ike/encoding/payloads/eap_payload.h"

#include "host/ike/encoding/parse_error.h"

namespace ipsec::ike {

StatusOr<EapPayload> EapPayload::Parse(Bytes body, size_t /*offset*/) {
  return EapPayload{std::vector<std::byte>(body.begin(), body.end())};
}

Status EapPayload::Serialize(WireWriter& w) const {
  w.WriteBytes(message);
  return OkStatus();
}

Status EapPayload::Verify() const {
  if (message.size() < 4) return InvalidArgumentError("EAP: message of " + Num(message.size()) + " bytes");
  const uint8_t code = U8(message[0]);
  if (code < 1 || code > 6) return InvalidArgumentError("EAP: code " + Num(code));
  const size_t length = LoadU16Be(&message[2]);
  if (length != message.size()) {
    return InvalidArgumentError("EAP: Length " + Num(length) + " but the message has " + Num(message.size()) +
                                " bytes");
  }
  if ((code == 1 || code == 2) && message.size() < 5) return InvalidArgumentError("EAP: request/response without Type");
  return OkStatus();
}

}  // namespace ipsec::ike
