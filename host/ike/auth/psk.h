// Shared Key Message Integrity Code, AUTH method 2 (RFC 7296 §2.15):
//
//   AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <signed octets> )
//
// "Key Pad for IKEv2" is the 17 ASCII characters without a terminator. The padded key and the AUTH
// value are SecureBytes; the secret is only read. Verification compares in constant time.
//
// Secret length: RFC 7296 §2.15 warns that a PSK is only as strong as its randomness, but any
// length works on the wire and strongSwan and libreswan accept any, so we do too. A secret shorter
// than kRecommendedMinPskSize sets *short_secret (when given) so the caller can log a warning
// (without the secret). An empty secret is refused.
#pragma once

#include <cstddef>

#include "host/common/bytes.h"
#include "host/common/secure_bytes.h"
#include "host/common/status.h"
#include "host/ike/crypto/prf.h"

namespace ipsec::ike {

// 20 octets: about 128 bits of entropy for a random printable secret (the size strongSwan's
// documentation suggests for generated PSKs, e.g. `openssl rand -base64 20` and longer).
inline constexpr size_t kRecommendedMinPskSize = 20;
inline constexpr char kIkev2KeyPad[] = "Key Pad for IKEv2";

// The AUTH data for method 2. Errors: kInvalidArgument for an empty secret or empty signed
// octets; kInternal (OpenSSL).
[[nodiscard]] StatusOr<SecureBytes> ComputePskAuth(const Prf& prf, Bytes secret, Bytes signed_octets,
                                                   bool* short_secret = nullptr);

// Checks a received method-2 AUTH value. Errors: kInvalidArgument as above; kDataLoss when the
// value does not match (AUTHENTICATION_FAILED), including a wrong length.
[[nodiscard]] Status VerifyPskAuth(const Prf& prf, Bytes secret, Bytes signed_octets, Bytes received_auth,
                                   bool* short_secret = nullptr);

}  // namespace ipsec::ike
