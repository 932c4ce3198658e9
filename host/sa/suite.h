// IPsec transform suites and their fixed properties (key, salt, IV and ICV sizes).
//
// Key material for a suite is laid out as IKEv2 KEYMAT delivers it: encryption key followed by the
// salt for AEAD/GMAC suites (RFC 4106 §8.1, RFC 4543 §3.2, RFC 7634 §2), and a separate integrity
// key for the HMAC suites (RFC 4868).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "host/common/status.h"

namespace ipsec::sa {

enum class Suite : uint8_t {
  kAesGcm128,            // RFC 4106, 16-byte ICV
  kAesGcm256,            // RFC 4106, 16-byte ICV
  kAesGmac128,           // RFC 4543: ENCR_NULL_AUTH_AES_GMAC (ESP) or AUTH_AES_128_GMAC (AH)
  kAesGmac256,           // RFC 4543
  kAesCbc128HmacSha256,  // RFC 3602 + RFC 4868 HMAC-SHA-256-128
  kAesCbc256HmacSha256,  // RFC 3602 + RFC 4868
  kNullHmacSha256,       // ESP NULL encryption (RFC 2410) + HMAC-SHA-256-128; AH HMAC-SHA-256-128
  kChaCha20Poly1305,     // RFC 7634
};

struct SuiteInfo {
  std::string_view name;    // as written in SA files and printed by tools
  size_t enc_key_len;       // cipher key, without salt
  size_t salt_len;          // appended to the cipher key in KEYMAT
  size_t auth_key_len;      // separate integrity key (HMAC suites)
  size_t iv_len;            // explicit IV carried in each packet
  size_t icv_len;           // integrity check value
  size_t align;             // ESP payload alignment for padding (RFC 4303 §2.4)
  bool encrypts;            // false for GMAC and NULL suites
  bool esp_ok;              // usable with ESP
  bool ah_ok;               // usable with AH
};

const SuiteInfo& GetSuiteInfo(Suite s);
StatusOr<Suite> ParseSuite(std::string_view name);
inline std::string_view SuiteName(Suite s) { return GetSuiteInfo(s).name; }

}  // namespace ipsec::sa
