// Strict DER reader.
#include "host/ike/auth/der.h"

namespace ipsec::ike::internal {

bool ReadDer(Bytes& in, DerTlv* out) {
  if (in.size() < 2) return false;
  const uint8_t tag = U8(in[0]);
  if ((tag & 0x1f) == 0x1f) return false;  // high tag number form
  const uint8_t l0 = U8(in[1]);
  size_t header = 2, len = 0;
  if (l0 < 0x80) {
    len = l0;
  } else {
    const size_t n = l0 & 0x7f;
    if (n == 0 || n > 4 || in.size() < 2 + n) return false;  // indefinite or too long
    if (U8(in[2]) == 0) return false;                        // non-minimal
    for (size_t i = 0; i < n; ++i) len = (len << 8) | U8(in[2 + i]);
    if (len < 0x80) return false;  // should have used the short form
    header = 2 + n;
  }
  if (in.size() - header < len) return false;
  out->tag = tag;
  out->content = in.subspan(header, len);
  in = in.subspan(header + len);
  return true;
}

bool ReadDerIf(Bytes& in, uint8_t tag, DerTlv* out) {
  if (in.empty() || U8(in[0]) != tag) return false;
  return ReadDer(in, out);
}

bool DerSmallUint(Bytes c, uint32_t* value) {
  if (c.empty() || c.size() > 4) return false;
  if ((U8(c[0]) & 0x80) != 0) return false;                                   // negative
  if (c.size() > 1 && U8(c[0]) == 0 && (U8(c[1]) & 0x80) == 0) return false;  // non-minimal
  uint32_t v = 0;
  for (std::byte b : c) v = (v << 8) | U8(b);
  *value = v;
  return true;
}

}  // namespace ipsec::ike::internal
