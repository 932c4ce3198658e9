// Helpers shared by the crypto tests: hex, provider parameters, AAD splitting.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "host/common/bytes.h"
#include "host/crypto/primitives.h"

namespace ipsec::crypto {
// gtest prints providers by name (found by ADL).
inline void PrintTo(Provider p, std::ostream* os) { *os << ProviderName(p); }
}  // namespace ipsec::crypto

namespace ipsec::crypto::cryptotest {

using ByteVec = std::vector<std::byte>;

inline ByteVec Hex(std::string_view hex) {
  auto r = HexDecode(hex);
  EXPECT_TRUE(r.ok()) << "bad hex in test data: " << hex;
  return r.ok() ? r.value() : ByteVec{};
}

inline std::string ToHex(Bytes b) { return HexEncode(b); }

inline ByteVec Repeat(uint8_t v, size_t n) { return ByteVec(n, std::byte{v}); }

inline ByteVec Str(std::string_view s) {
  Bytes b = AsBytes(s);
  return {b.begin(), b.end()};
}

// The concrete providers every test runs against.
inline constexpr Provider kProviders[] = {Provider::kIpsecMb, Provider::kOpenSsl};

inline std::string ProviderParamName(const ::testing::TestParamInfo<Provider>& info) {
  return info.param == Provider::kIpsecMb ? "IpsecMb" : "OpenSsl";
}

// Skips the current test when the provider cannot run on this machine (ipsec-mb needs a CPU with
// at least SSE4.2/AES-NI).
#define IPSEC_SKIP_IF_UNAVAILABLE(provider)                                          \
  do {                                                                              \
    if ((provider) == ::ipsec::crypto::Provider::kIpsecMb &&                        \
        !::ipsec::crypto::IpsecMbAvailable()) {                                     \
      GTEST_SKIP() << "intel-ipsec-mb does not run on this CPU";                    \
    }                                                                               \
  } while (0)

// Splits `data` into `pieces` consecutive segments (some possibly empty) at the given cut points.
inline std::vector<Bytes> SplitAt(Bytes data, std::initializer_list<size_t> cuts) {
  std::vector<Bytes> out;
  size_t prev = 0;
  for (size_t c : cuts) {
    if (c > data.size()) c = data.size();
    if (c < prev) c = prev;
    out.push_back(data.subspan(prev, c - prev));
    prev = c;
  }
  out.push_back(data.subspan(prev));
  return out;
}

}  // namespace ipsec::crypto::cryptotest
