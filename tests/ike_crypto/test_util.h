// Helpers shared by the IKE crypto tests: hex literals and reference computations done with raw
// OpenSSL calls, independent of host/ike/crypto.
#pragma once

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "host/common/bytes.h"

namespace ipsec::ike::test {

using ByteVec = std::vector<std::byte>;

// Hex with optional whitespace (RFC vectors are printed in 32-bit groups).
inline ByteVec Hex(std::string_view text) {
  std::string compact;
  for (char c : text) {
    if (c != ' ' && c != '\n' && c != '\t') compact.push_back(c);
  }
  auto decoded = HexDecode(compact);
  return decoded.ok() ? *decoded : ByteVec{};
}

inline ByteVec Concat(std::initializer_list<Bytes> parts) {
  ByteVec out;
  for (Bytes p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

inline ByteVec Span(Bytes b) { return ByteVec(b.begin(), b.end()); }

// HMAC with OpenSSL's one-shot HMAC() (the library under test uses EVP_MAC).
inline ByteVec RawHmac(const EVP_MD* md, Bytes key, Bytes data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()), data.size(),
       out, &len);
  return ByteVec(reinterpret_cast<std::byte*>(out), reinterpret_cast<std::byte*>(out) + len);
}

// prf+ written out from RFC 7296 §2.13, for comparison.
inline ByteVec RawPrfPlus(const EVP_MD* md, Bytes key, Bytes seed, size_t length) {
  ByteVec out;
  ByteVec t;
  for (int n = 1; out.size() < length; ++n) {
    ByteVec input = t;
    input.insert(input.end(), seed.begin(), seed.end());
    input.push_back(std::byte(n));
    t = RawHmac(md, key, input);
    out.insert(out.end(), t.begin(), t.end());
  }
  out.resize(length);
  return out;
}

}  // namespace ipsec::ike::test
