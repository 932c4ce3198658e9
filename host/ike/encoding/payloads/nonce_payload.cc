// NoncePayload decode/encode/verify (RFC 7296 §3.9).
#include "host/ike/encoding/payloads/nonce_payload.h"

#include "host/ike/encoding/parse_error.h"

namespace ipsec::ike {

StatusOr<NoncePayload> NoncePayload::Parse(Bytes body, size_t offset) {
  if (body.size() < kMinNonceSize || body.size() > kMaxNonceSize) {
    return ParseError(offset, "nonce of " + Num(body.size()) + " bytes is outside 16..256 (RFC 7296 §3.9)");
  }
  return NoncePayload{std::vector<std::byte>(body.begin(), body.end())};
}

Status NoncePayload::Serialize(WireWriter& w) const {
  // Refuse what Parse would refuse, so Encode never emits a message that cannot be decoded.
  RETURN_IF_ERROR(Verify());
  w.WriteBytes(nonce);
  return OkStatus();
}

Status NoncePayload::Verify() const {
  if (nonce.size() < kMinNonceSize || nonce.size() > kMaxNonceSize) {
    return InvalidArgumentError("Nonce: " + Num(nonce.size()) + " bytes is outside 16..256 (RFC 7296 §3.9)");
  }
  return OkStatus();
}

}  // namespace ipsec::ike
