// EncryptedFragmentPayload (SKF) decode/encode/verify (RFC 7383 §2.5).
#include "host/ike/encoding/payloads/encrypted_fragment_payload.h"

#include "host/ike/encoding/parse_error.h"

namespace ipsec::ike {

StatusOr<EncryptedFragmentPayload> EncryptedFragmentPayload::Parse(Bytes body, size_t offset,
                                                                   PayloadType first_inner) {
  if (body.size() < 4) {
    return ParseError(offset, "SKF body of " + Num(body.size()) + " bytes has no fragment number/total");
  }
  EncryptedFragmentPayload f;
  f.first_inner = first_inner;
  f.fragment_number = LoadU16Be(&body[0]);
  f.total_fragments = LoadU16Be(&body[2]);
  f.data.assign(body.begin() + 4, body.end());
  return f;
}

Status EncryptedFragmentPayload::Serialize(WireWriter& w) const {
  w.WriteU16Be(fragment_number);
  w.WriteU16Be(total_fragments);
  w.WriteBytes(data);
  return OkStatus();
}

Status EncryptedFragmentPayload::Verify() const {
  if (fragment_number == 0) return InvalidArgumentError("SKF: Fragment Number 0");
  if (total_fragments == 0) return InvalidArgumentError("SKF: Total Fragments 0");
  if (fragment_number > total_fragments) {
    return InvalidArgumentError("SKF: Fragment Number " + Num(fragment_number) + " > Total Fragments " +
                                Num(total_fragments));
  }
  if (fragment_number != 1 && first_inner != PayloadType::kNone) {
    return InvalidArgumentError("SKF: fragment " + Num(fragment_number) + " has Next Payload " +
                                Num(static_cast<uint8_t>(first_inner)) + " (must be 0 after the first fragment)");
  }
  if (first_inner == PayloadType::kEncrypted || first_inner == PayloadType::kEncryptedFragment) {
    return InvalidArgumentError("SKF: first inner payload is itself SK/SKF");
  }
  if (data.empty()) return InvalidArgumentError("SKF: no IV, ciphertext or ICV");
  return OkStatus();
}

}  // namespace ipsec::ike
