// EncryptedPayload (SK) decode/encode/verify (RFC 7296 §3.14).
#include "host/ike/encoding/payloads/encrypted_payload.h"

namespace ipsec::ike {

StatusOr<EncryptedPayload> EncryptedPayload::Parse(Bytes body, size_t /*offset*/, PayloadType first_inner) {
  return EncryptedPayload{first_inner, std::vector<std::byte>(body.begin(), body.end())};
}

Status EncryptedPayload::Serialize(WireWriter& w) const {
  w.WriteBytes(data);
  return OkStatus();
}

Status EncryptedPayload::Verify() const {
  if (data.empty()) return InvalidArgumentError("SK: no IV, ciphertext or ICV");
  if (first_inner == PayloadType::kEncrypted || first_inner == PayloadType::kEncryptedFragment) {
    return InvalidArgumentError("SK: first inner payload is itself SK/SKF");
  }
  return OkStatus();
}

}  // namespace ipsec::ike
