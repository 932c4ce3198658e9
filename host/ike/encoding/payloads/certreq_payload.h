// CertReqPayload: Certificate Request payload (RFC 7296 §3.7).
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Cert Encoding |                                               |
// +-+-+-+-+-+-+-+-+                                               |
// ~                    Certification Authority                    ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Field table (body offsets):
//   0 1 Cert Encoding            -> encoding
//   1 * Certification Authority  -> authorities (for X.509: concatenated 20-byte SHA-1 hashes of
//                                   trusted CAs' public keys; may be empty)
#pragma once

#include <vector>

#include "host/common/bytes.h"
#include "host/common/status.h"
#include "host/ike/encoding/ike_constants.h"
#include "host/ike/encoding/wire_writer.h"

namespace ipsec::ike {

struct CertReqPayload {
  static constexpr PayloadType kType = PayloadType::kCertReq;

  CertEncoding encoding = CertEncoding::kX509Signature;
  std::vector<std::byte> authorities;

  // Errors: empty body (no encoding byte).
  static StatusOr<CertReqPayload> Parse(Bytes body, size_t offset);
  Status Serialize(WireWriter& w) const;
  // For X.509 encodings (4, 12, 13) the authority list is a whole number of 20-byte hashes.
  Status Verify() const;

  friend bool operator==(const CertReqPayload&, const CertReqPayload&) = default;
};

}  // namespace ipsec::ike
