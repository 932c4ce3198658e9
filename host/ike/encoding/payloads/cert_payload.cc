// CertPayload decode/encode/verify (RFC 7296 §3.6).
#include "host/ike/encoding/payloads/cert_payload.h"

#include "host/ike/encoding/parse_error.h"

namespace ipsec::ike {

StatusOr<CertPayload> CertPayload::Parse(Bytes body, size_t offset) {
  if (body.empty()) return ParseError(offset, "CERT body is empty (no Cert Encoding)");
  CertPayload c;
  c.encoding = static_cast<CertEncoding>(U8(body[0]));
  c.data.assign(body.begin() + 1, body.end());
  return c;
}

Status CertPayload::Serialize(WireWriter& w) const {
  w.WriteU8(static_cast<uint8_t>(encoding));
  w.WriteBytes(data);
  return OkStatus();
}

Status CertPayload::Verify() const {
  if (data.empty()) return InvalidArgumentError("CERT: empty certificate data");
  if ((encoding == CertEncoding::kHashUrlX509Cert || encoding == CertEncoding::kHashUrlX509Bundle) &&
      data.size() <= 20) {
    return InvalidArgumentError("CERT: Hash and URL data of " + Num(data.size()) +
                                " bytes (needs a 20-byte hash and a URL)");
  }
  return OkStatus();
}

}  // namespace ipsec::ike
