// CertReqPayload decode/encode/verify (RFC 7296 §3.7).
#include "host/ike/encoding/payloads/certreq_payload.h"

#include "host/ike/encoding/parse_error.h"

namespace ipsec::ike {

StatusOr<CertReqPayload> CertReqPayload::Parse(Bytes body, size_t offset) {
  if (body.empty()) return ParseError(offset, "CERTREQ body is empty (no Cert Encoding)");
  CertReqPayload c;
  c.encoding = static_cast<CertEncoding>(U8(body[0]));
  c.authorities.assign(body.begin() + 1, body.end());
  return c;
}

Status CertReqPayload::Serialize(WireWriter& w) const {
  w.WriteU8(static_cast<uint8_t>(encoding));
  w.WriteBytes(authorities);
  return OkStatus();
}

Status CertReqPayload::Verify() const {
  const bool x509 = encoding == CertEncoding::kX509Signature || encoding == CertEncoding::kHashUrlX509Cert ||
                    encoding == CertEncoding::kHashUrlX509Bundle;
  if (x509 && authorities.size() % 20 != 0) {
    return InvalidArgumentError("CERTREQ: " + Num(authorities.size()) +
                                " bytes of CA hashes is not a multiple of 20 (SHA-1)");
  }
  return OkStatus();
}

}  // namespace ipsec::ike
