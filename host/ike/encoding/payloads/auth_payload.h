// AuthPayload: Authentication payload (RFC 7296 §3.8), plus the RFC 7427 Digital Signature
// authentication data format.
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Auth Method   |                RESERVED                       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                      Authentication Data                      ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Field table (body offsets):
//   0 1 Auth Method          -> method
//   1 3 RESERVED             sent 0, ignored
//   4 * Authentication Data  -> data
//
// RFC 7427 §3 authentication data for method 14 (Digital Signature):
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | ASN.1 Length  | AlgorithmIdentifier ASN.1 object              |
// +-+-+-+-+-+-+-+-+                                               |
// ~         AlgorithmIdentifier ASN.1 object continuing           ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                         Signature Value                       ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   0 1 ASN.1 Length         length of the DER AlgorithmIdentifier that follows (1..255)
//   1 n AlgorithmIdentifier  a DER SEQUENCE whose own length matches n
//   * * Signature Value      non-empty
#pragma once

#include <vector>

#include "host/common/bytes.h"
#include "host/common/status.h"
#include "host/ike/encoding/ike_constants.h"
#include "host/ike/encoding/wire_writer.h"

namespace ipsec::ike {

struct AuthPayload {
  static constexpr PayloadType kType = PayloadType::kAuth;

  AuthMethod method = AuthMethod::kSharedKeyMic;
  std::vector<std::byte> data;

  // Errors: body shorter than 4 bytes.
  static StatusOr<AuthPayload> Parse(Bytes body, size_t offset);
  Status Serialize(WireWriter& w) const;
  // Method is not 0; data non-empty; ECDSA methods 9/10/11 carry r||s of 64/96/132 bytes
  // (RFC 4754 §7); method 14 data parses as SignatureAuthData.
  Status Verify() const;

  friend bool operator==(const AuthPayload&, const AuthPayload&) = default;
};

// The parsed RFC 7427 authentication data.
struct SignatureAuthData {
  std::vector<std::byte> algorithm_identifier;  // DER AlgorithmIdentifier (SEQUENCE)
  std::vector<std::byte> signature;

  friend bool operator==(const SignatureAuthData&, const SignatureAuthData&) = default;
};

// Splits method-14 authentication data. Errors (kInvalidArgument): empty data; ASN.1 Length 0 or
// beyond the data; the AlgorithmIdentifier is not a DER SEQUENCE of exactly that length; empty
// signature.
StatusOr<SignatureAuthData> ParseSignatureAuthData(Bytes data);
// Builds method-14 authentication data. Errors: AlgorithmIdentifier empty or over 255 bytes.
StatusOr<std::vector<std::byte>> BuildSignatureAuthData(const SignatureAuthData& sig);

}  // namespace ipsec::ike
