// Suite property table.
#include "host/sa/suite.h"

#include <array>
#include <string>

namespace ipsec::sa {
namespace {
// Indexed by Suite.
constexpr std::array<SuiteInfo, 8> kSuites = {{
    // name                   key salt auth iv icv align enc   esp   ah
    {"aes128gcm16",            16, 4, 0, 8, 16, 4, true, true, false},
    {"aes256gcm16",            32, 4, 0, 8, 16, 4, true, true, false},
    {"aes128gmac",             16, 4, 0, 8, 16, 4, false, true, true},
    {"aes256gmac",             32, 4, 0, 8, 16, 4, false, true, true},
    {"aes128cbc-sha256",       16, 0, 32, 16, 16, 16, true, true, false},
    {"aes256cbc-sha256",       32, 0, 32, 16, 16, 16, true, true, false},
    {"null-sha256",            0, 0, 32, 0, 16, 4, false, true, true},
    {"chacha20poly1305",       32, 4, 0, 8, 16, 4, true, true, false},
}};
}  // namespace

const SuiteInfo& GetSuiteInfo(Suite s) { return kSuites[static_cast<size_t>(s)]; }

StatusOr<Suite> ParseSuite(std::string_view name) {
  for (size_t i = 0; i < kSuites.size(); ++i) {
    if (kSuites[i].name == name) return static_cast<Suite>(i);
  }
  // Common aliases (strongSwan proposal spellings).
  if (name == "sha256" || name == "hmac-sha256") return Suite::kNullHmacSha256;
  if (name == "aes128-sha256") return Suite::kAesCbc128HmacSha256;
  if (name == "aes256-sha256") return Suite::kAesCbc256HmacSha256;
  if (name == "aes128gmac16") return Suite::kAesGmac128;
  if (name == "aes256gmac16") return Suite::kAesGmac256;
  return InvalidArgumentError("unknown suite '" + std::string(name) + "'");
}

}  // namespace ipsec::sa
