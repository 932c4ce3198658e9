// libFuzzer target: SkCipher::Decrypt (host/ike/crypto) on untrusted datagrams, with fixed keys.
//
// Every input is used two ways:
//   1. as a received message, decrypted with each supported cipher (AES-GCM-128/256, AES-CBC-128
//      + HMAC-SHA-256-128, AES-CBC-256 + HMAC-SHA-512-256). Oracles: no crash; failures are
//      INVALID_SYNTAX- or AUTHENTICATION_FAILED-class, never internal; a success returns fewer bytes
//      than it was given.
//   2. as a plaintext: byte 0 picks the cipher, byte 1 the first inner payload type, byte 2 (odd)
//      asks for an SKF fragment, the rest is the inner chain. Encrypt, then Decrypt must give back
//      exactly the same inner bytes and header fields (round-trip oracle).
// The seeds (FuzzSeeds) are valid SK and SKF messages for each cipher, so mutations start from
// authentic framing. Oracles abort(), so libFuzzer and the corpus test report them as crashes.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "host/common/bytes.h"
#include "host/ike/crypto/random_source.h"
#include "host/ike/crypto/sk_cipher.h"

namespace {

using namespace ipsec;       // NOLINT: harness-local brevity
using namespace ipsec::ike;  // NOLINT

constexpr SkTransform kTransforms[] = {
    {EncrId::kAesGcm16, 128, IntegId::kNone},
    {EncrId::kAesGcm16, 256, IntegId::kNone},
    {EncrId::kAesCbc, 128, IntegId::kHmacSha2_256_128},
    {EncrId::kAesCbc, 256, IntegId::kHmacSha2_512_256},
};
constexpr size_t kNumTransforms = sizeof(kTransforms) / sizeof(kTransforms[0]);

std::vector<std::byte> FixedKey(size_t n, uint8_t start) {
  std::vector<std::byte> k(n);
  for (size_t i = 0; i < n; ++i) k[i] = std::byte(static_cast<uint8_t>(start + 3 * i));
  return k;
}

struct Ciphers {
  std::unique_ptr<RandomSource> random = CreateDeterministicRandomSourceForTest(0xf022);
  std::vector<std::unique_ptr<SkCipher>> all;
  Ciphers() {
    for (const SkTransform& t : kTransforms) {
      auto c = SkCipher::Create(t, FixedKey(SkEncryptionKeySize(t), 0x11), FixedKey(SkIntegrityKeySize(t.integ), 0x77),
                                *random);
      FUZZ_CHECK(c.ok());
      all.push_back(std::move(*c));
    }
  }
};

Ciphers& GetCiphers() {
  static Ciphers* ciphers = new Ciphers();  // never destroyed: libFuzzer may call after exit handlers
  return *ciphers;
}

std::vector<std::byte> Header() {
  std::vector<std::byte> h(28);
  for (size_t i = 0; i < 16; ++i) h[i] = std::byte(static_cast<uint8_t>(0xa0 + i));  // SPIs
  h[17] = std::byte{0x20};  // version 2.0
  h[18] = std::byte{35};    // IKE_AUTH
  h[19] = std::byte{0x08};  // Initiator
  StoreU32Be(&h[20], 1);    // Message ID
  return h;
}

void CheckDecrypt(Bytes message) {
  for (const auto& cipher : GetCiphers().all) {
    auto plain = cipher->Decrypt(message);
    if (!plain.ok()) {
      const SkFailure f = ClassifySkFailure(plain.status());
      FUZZ_CHECK(f == SkFailure::kInvalidSyntax || f == SkFailure::kAuthenticationFailed);
      continue;
    }
    FUZZ_CHECK(plain->payloads.size() < message.size());
  }
}

void CheckRoundTrip(Bytes data) {
  if (data.size() < 3) return;
  SkCipher& cipher = *GetCiphers().all[U8(data[0]) % kNumTransforms];
  auto first = static_cast<PayloadType>(U8(data[1]));
  const bool fragment = (U8(data[2]) & 1) != 0;
  const Bytes inner = data.subspan(3);
  auto msg = fragment ? cipher.EncryptFragment(Header(), first, 1, 2, inner) : cipher.Encrypt(Header(), first, inner);
  if (!msg.ok()) {
    FUZZ_CHECK(msg.status().code() == StatusCode::kInvalidArgument);  // SK/SKF as first inner
    return;
  }
  auto plain = cipher.Decrypt(*msg);
  FUZZ_CHECK(plain.ok());
  FUZZ_CHECK(plain->first_inner == first);
  FUZZ_CHECK(plain->fragment == fragment);
  FUZZ_CHECK(plain->payloads.size() == inner.size());
  FUZZ_CHECK(std::equal(inner.begin(), inner.end(), plain->payloads.begin()));
}

}  // namespace

// Valid messages for the seed corpus (IPSEC_WRITE_FUZZ_CORPUS=1 sk_decrypt_fuzzer_corpus_test).
std::vector<std::vector<uint8_t>> FuzzSeeds() {
  std::vector<std::vector<uint8_t>> seeds;
  // N(INITIAL_CONTACT) as the inner payload.
  const std::vector<std::byte> notify = {std::byte{0}, std::byte{0}, std::byte{0}, std::byte{8},
                                         std::byte{0}, std::byte{0}, std::byte{0x40}, std::byte{0}};
  for (const auto& cipher : GetCiphers().all) {
    for (int kind = 0; kind < 3; ++kind) {
      auto msg = kind == 0   ? cipher->Encrypt(Header(), PayloadType::kNotify, notify)
                 : kind == 1 ? cipher->Encrypt(Header(), PayloadType::kNone, {})
                             : cipher->EncryptFragment(Header(), PayloadType::kNotify, 1, 2, notify);
      FUZZ_CHECK(msg.ok());
      seeds.push_back(fuzz::ToInput(*msg));
    }
  }
  return seeds;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Bytes input = fuzz::AsBytes(data, size);
  CheckDecrypt(input);
  CheckRoundTrip(input);
  return 0;
}
