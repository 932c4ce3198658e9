// libFuzzer target: the SA description file parser (ParseSaFile, ParseSaFileMulti).
//
// Checks: the two entry points agree (a file ParseSaFile accepts is one SA for ParseSaFileMulti),
// and whatever the parser accepts is a usable SA: EspSa::Create succeeds for every ESP SA, since
// the parser promises SaConfig::Validate() and KeyMaterial::ValidateFor() have passed.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "host/esp/esp_sa.h"
#include "host/sa/sa_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto one = ipsec::sa::ParseSaFile(text);
  auto many = ipsec::sa::ParseSaFileMulti(text);
  if (one.ok()) FUZZ_CHECK(many.ok() && many->size() == 1);
  if (!many.ok()) {
    FUZZ_CHECK(!one.ok());
    FUZZ_CHECK(!many.status().message().empty());
    return 0;
  }
  for (ipsec::sa::SaFile& f : *many) {
    FUZZ_CHECK(f.config.Validate().ok());
    FUZZ_CHECK(f.keys.ValidateFor(f.config.suite).ok());
    if (f.config.protocol != ipsec::sa::Protocol::kEsp) continue;
    auto sa = ipsec::esp::EspSa::Create(f.config, std::move(f.keys), ipsec::crypto::Provider::kOpenSsl);
    if (!sa.ok()) std::fprintf(stderr, "EspSa::Create: %s\n", sa.status().ToString().c_str());
    FUZZ_CHECK(sa.ok());
  }
  return 0;
}

// Seeds: every example file's shapes in small form, plus a few near misses.
std::vector<std::vector<uint8_t>> FuzzSeeds() {
  const char* texts[] = {
      "spi = 0x1001\ndirection = out\nmode = tunnel\nsuite = aes128gcm16\n"
      "key = 000102030405060708090a0b0c0d0e0f10111213\nsrc = 203.0.113.1\ndst = 203.0.113.2\n",
      "[sa]\nspi = 4096\ndirection = in\nprotocol = esp\nmode = transport\nsuite = aes128cbc-sha256\n"
      "key = 00112233445566778899aabbccddeeff\n"
      "auth_key = 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
      "encap = udp 4500 4500\nesn = yes\nreplay_window = 128\n"
      "[sa]\nspi = 4097\ndirection = out\nmode = tunnel\nsuite = chacha20poly1305\n"
      "key = 0x00:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:10:11:12:13:14:15:16:17:18:19:1a:1b:1c:1d:1e:1f:"
      "20:21:22:23\nsrc = 2001:db8::1\ndst = 2001:db8::2\nseq = 5\n",
      "# full\nspi = 300 # comment\ndirection = out\nmode = tunnel\nsuite = aes256gmac\n"
      "key = 000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f01020304\n"
      "src = 198.18.0.1\ndst = 198.18.0.2\nencap = none\nesn = no\nseq = 1\nreplay_window = 64\n"
      "lifetime_bytes_soft = 1000\nlifetime_bytes_hard = 2000\nlifetime_packets_soft = 10\n"
      "lifetime_packets_hard = 20\ndscp = 46\necn = compat\ndf = set\nttl = 32\nverify_tunnel = yes\n"
      "decrement_inner_ttl = no\n",
      "spi = 0x2001\ndirection = in\nprotocol = ah\nmode = transport\nsuite = null-sha256\n"
      "auth_key = 1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100\n",
      "spy = 1\n",
      "spi = 1\nspi = 2\n",
      "key = 0g\n",
      "[sa]\n[sa]\n",
  };
  std::vector<std::vector<uint8_t>> seeds;
  for (const char* t : texts) {
    const std::string_view s(t);
    seeds.emplace_back(s.begin(), s.end());
  }
  return seeds;
}
