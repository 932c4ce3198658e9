// CertPayload: Certificate payload (RFC 7296 §3.6).
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Cert Encoding |                                               |
// +-+-+-+-+-+-+-+-+                                               |
// ~                       Certificate Data                        ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Field table (body offsets):
//   0 1 Cert Encoding     -> encoding
//   1 * Certificate Data  -> data (DER certificate, CRL, or 20-byte SHA-1 hash + URL for 12/13)
#pragma once

#include <vector>

#include "host/common/bytes.h"
#include "host/common/status.h"
#include "host/ike/encoding/ike_constants.h"
#include "host/ike/encoding/wire_writer.h"

namespace ipsec::ike {

struct CertPayload {
  static constexpr PayloadType kType = PayloadType::kCert;

  CertEncoding encoding = CertEncoding::kX509Signature;
  std::vector<std::byte> data;

  // Errors: empty body (no encoding byte).
  static StatusOr<CertPayload> Parse(Bytes body, size_t offset);
  Status Serialize(WireWriter& w) const;
  // Data non-empty; Hash and URL encodings (12, 13) carry a 20-byte hash plus a non-empty URL
  // (§3.6).
  Status Verify() const;

  friend bool operator==(const CertPayload&, const CertPayload&) = default;
};

}  // namespace ipsec::ike
