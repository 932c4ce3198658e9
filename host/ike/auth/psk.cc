// Shared Key MIC (RFC 7296 §2.15).
#include "host/ike/auth/psk.h"

#include <string_view>

namespace ipsec::ike {

StatusOr<SecureBytes> ComputePskAuth(const Prf& prf, Bytes secret, Bytes signed_octets, bool* short_secret) {
  if (secret.empty()) return InvalidArgumentError("PSK auth: empty shared secret");
  if (signed_octets.empty()) return InvalidArgumentError("PSK auth: empty signed octets");
  if (short_secret != nullptr) *short_secret = secret.size() < kRecommendedMinPskSize;
  const std::string_view pad(kIkev2KeyPad, sizeof(kIkev2KeyPad) - 1);  // no terminator
  ASSIGN_OR_RETURN(SecureBytes padded, prf.Compute(secret, AsBytes(pad)));
  return prf.Compute(padded.span(), signed_octets);
}

Status VerifyPskAuth(const Prf& prf, Bytes secret, Bytes signed_octets, Bytes received_auth, bool* short_secret) {
  ASSIGN_OR_RETURN(SecureBytes expected, ComputePskAuth(prf, secret, signed_octets, short_secret));
  if (!ConstantTimeEqual(expected.span(), received_auth)) {
    return DataLossError("PSK auth: AUTH value does not match");
  }
  return OkStatus();
}

}  // namespace ipsec::ike
