// Helpers shared by the SA-level fuzz targets (esp_inbound_fuzzer, ah_inbound_fuzzer) on top of
// fuzz/fuzz_support.h: the packet buffer slot geometry and deterministic per-SA test keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "host/common/secure_bytes.h"
#include "host/sa/sa_config.h"
#include "host/sa/suite.h"

namespace ipsec::fuzz {

// One packet buffer: headroom, the largest packet a transform may produce, tailroom.
inline constexpr uint32_t kHead = 256, kTail = 256, kMaxPkt = 65535 + 40;
inline constexpr uint32_t kSlot = kHead + kMaxPkt + kTail;

// Fixed keys of the right lengths for `suite`; `tag` (e.g. the configuration index) makes each
// SA's keys different.
inline sa::KeyMaterial Keys(sa::Suite suite, uint8_t tag) {
  const sa::SuiteInfo& info = sa::GetSuiteInfo(suite);
  std::vector<std::byte> enc(info.enc_key_len + info.salt_len), auth(info.auth_key_len);
  for (size_t i = 0; i < enc.size(); ++i) enc[i] = std::byte(static_cast<uint8_t>(i * 31 + tag));
  for (size_t i = 0; i < auth.size(); ++i) auth[i] = std::byte(static_cast<uint8_t>(i * 17 + tag + 1));
  return sa::KeyMaterial{SecureBytes(enc), SecureBytes(auth)};
}

}  // namespace ipsec::fuzz
