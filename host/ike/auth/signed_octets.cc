// Signed octets (RFC 7296 §2.15).
#include "host/ike/auth/signed_octets.h"

#include <cstring>
#include <string>

#include "host/common/secure_bytes.h"

namespace ipsec::ike {

std::vector<std::byte> RestOfIdPayload(const IdPayload& id) {
  std::vector<std::byte> out(4 + id.data.size());
  out[0] = std::byte{static_cast<uint8_t>(id.id_type)};
  if (!id.data.empty()) std::memcpy(out.data() + 4, id.data.data(), id.data.size());
  return out;
}

StatusOr<std::vector<std::byte>> BuildSignedOctetsFromIdBody(Bytes real_message, Bytes peer_nonce, const Prf& prf,
                                                             Bytes sk_p, Bytes id_body) {
  if (real_message.empty()) return InvalidArgumentError("signed octets: empty real message");
  if (peer_nonce.empty()) return InvalidArgumentError("signed octets: empty peer nonce");
  if (sk_p.size() != prf.key_size()) {
    return InvalidArgumentError("signed octets: SK_p of " + std::to_string(sk_p.size()) + " bytes, the PRF wants " +
                                std::to_string(prf.key_size()));
  }
  if (id_body.size() < 4) return InvalidArgumentError("signed octets: ID payload body shorter than 4 bytes");
  ASSIGN_OR_RETURN(SecureBytes maced_id, prf.Compute(sk_p, id_body));
  std::vector<std::byte> out;
  out.reserve(real_message.size() + peer_nonce.size() + maced_id.size());
  out.insert(out.end(), real_message.begin(), real_message.end());
  out.insert(out.end(), peer_nonce.begin(), peer_nonce.end());
  out.insert(out.end(), maced_id.span().begin(), maced_id.span().end());
  return out;
}

StatusOr<std::vector<std::byte>> BuildSignedOctets(Bytes real_message, Bytes peer_nonce, const Prf& prf, Bytes sk_p,
                                                   const IdPayload& id) {
  const std::vector<std::byte> rest = RestOfIdPayload(id);
  return BuildSignedOctetsFromIdBody(real_message, peer_nonce, prf, sk_p, rest);
}

}  // namespace ipsec::ike
