// Wycheproof known-answer tests (https://github.com/C2SP/wycheproof, Apache-2.0; the vector files
// and their LICENSE are copied into tests/data/wycheproof/) run through both crypto providers.
//
// Our primitives support a fixed parameter set (AES-128/256-GCM and ChaCha20-Poly1305 with a
// 96-bit nonce and a 128-bit tag, AES-128/256-CBC without padding, HMAC-SHA-256 with any key).
// Vectors outside it are skipped and counted; each test asserts that a healthy minimum ran.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "host/crypto/primitives.h"
#include "tests/crypto/crypto_test_util.h"

namespace ipsec::crypto {
namespace {

using json = nlohmann::json;
using cryptotest::ByteVec;
using cryptotest::Hex;
using cryptotest::ToHex;

const json& LoadVectors(const std::string& file) {
  static std::map<std::string, json> cache;
  auto it = cache.find(file);
  if (it != cache.end()) return it->second;
  const std::string path = std::string(IPSEC_TEST_DATA_DIR) + "/wycheproof/" + file;
  std::ifstream in(path);
  json doc;
  if (in) {
    doc = json::parse(in, nullptr, /*allow_exceptions=*/false);
  }
  if (!in || doc.is_discarded() || !doc.contains("testGroups")) {
    ADD_FAILURE() << "cannot load Wycheproof vectors from " << path;
    doc = json{{"testGroups", json::array()}, {"numberOfTests", 0}};
  }
  return cache.emplace(file, std::move(doc)).first->second;
}

struct Tally {
  int valid_run = 0;
  int invalid_run = 0;
  int skipped = 0;
  int run() const { return valid_run + invalid_run; }
};

void Report(const char* file, Provider p, const Tally& t, const json& doc) {
  std::printf("[ vectors  ] %s (%s): %d run (%d valid, %d invalid), %d skipped\n", file,
              std::string(ProviderName(p)).c_str(), t.run(), t.valid_run, t.invalid_run, t.skipped);
  ::testing::Test::RecordProperty("vectors_run", t.run());
  ::testing::Test::RecordProperty("vectors_skipped", t.skipped);
  // Every vector in the file was either run or deliberately skipped.
  EXPECT_EQ(t.run() + t.skipped, doc.value("numberOfTests", 0));
}

std::string Trace(const json& test) {
  return "tcId " + std::to_string(test["tcId"].get<int>()) + " (" + test.value("comment", "") + ")";
}

bool IsValid(const json& test) { return test["result"] == "valid"; }
bool IsInvalid(const json& test) { return test["result"] == "invalid"; }

class Wycheproof : public ::testing::TestWithParam<Provider> {
 protected:
  void SetUp() override { IPSEC_SKIP_IF_UNAVAILABLE(GetParam()); }
};

// ---- AEAD (AES-GCM, ChaCha20-Poly1305) -------------------------------------------------------

Tally RunAeadVectors(Aead::Algorithm alg, const json& doc, Provider provider) {
  Tally t;
  for (const json& group : doc["testGroups"]) {
    const int key_bits = group["keySize"].get<int>();
    const bool key_ok = alg == Aead::Algorithm::kAesGcm ? (key_bits == 128 || key_bits == 256) : key_bits == 256;
    const bool supported = key_ok && group["ivSize"].get<int>() == 96 && group["tagSize"].get<int>() == 128;
    for (const json& test : group["tests"]) {
      // Unsupported groups hold valid vectors for other sizes and invalid ones whose only fault is
      // the nonce size (ZeroLengthIv, InvalidNonceSize): both outside our parameter set.
      if (!supported || !(IsValid(test) || IsInvalid(test))) {
        ++t.skipped;
        continue;
      }
      SCOPED_TRACE(Trace(test));
      const ByteVec key = Hex(test["key"].get<std::string>());
      const ByteVec iv = Hex(test["iv"].get<std::string>());
      const ByteVec aad = Hex(test["aad"].get<std::string>());
      const ByteVec msg = Hex(test["msg"].get<std::string>());
      const ByteVec ct = Hex(test["ct"].get<std::string>());
      const ByteVec tag = Hex(test["tag"].get<std::string>());
      auto aead = Aead::Create(alg, key, provider);
      if (!aead.ok()) {
        ADD_FAILURE() << aead.status().ToString();
        continue;
      }
      EXPECT_EQ((*aead)->provider(), provider);
      const Bytes whole[] = {aad};
      const std::vector<Bytes> split = cryptotest::SplitAt(aad, {aad.size() / 3, 2 * aad.size() / 3});

      if (IsValid(test)) {
        ++t.valid_run;
        ByteVec text = msg;
        ByteVec out_tag(kTagSize);
        (*aead)->Seal(iv, whole, text, out_tag);
        EXPECT_EQ(ToHex(text), ToHex(ct));
        EXPECT_EQ(ToHex(out_tag), ToHex(tag));

        // The same AAD handed over in three segments gives the same result.
        ByteVec text2 = msg;
        ByteVec tag2(kTagSize);
        (*aead)->Seal(iv, split, text2, tag2);
        EXPECT_EQ(ToHex(text2), ToHex(ct));
        EXPECT_EQ(ToHex(tag2), ToHex(tag));

        ByteVec dec = ct;
        EXPECT_TRUE((*aead)->Open(iv, whole, dec, tag));
        EXPECT_EQ(ToHex(dec), ToHex(msg));
        ByteVec dec2 = ct;
        EXPECT_TRUE((*aead)->Open(iv, split, dec2, tag));
        EXPECT_EQ(ToHex(dec2), ToHex(msg));
      } else {
        ++t.invalid_run;
        ByteVec dec = ct;
        EXPECT_FALSE((*aead)->Open(iv, whole, dec, tag));
        ByteVec dec2 = ct;
        EXPECT_FALSE((*aead)->Open(iv, split, dec2, tag));
      }
    }
  }
  return t;
}

TEST_P(Wycheproof, AesGcmSealsToExpectedAndRejectsModifiedTags) {
  const char* file = "aes_gcm_test.json";
  const json& doc = LoadVectors(file);
  const Tally t = RunAeadVectors(Aead::Algorithm::kAesGcm, doc, GetParam());
  Report(file, GetParam(), t, doc);
  // 79 valid and 54 invalid vectors use 128/256-bit keys with a 96-bit IV.
  EXPECT_GE(t.valid_run, 75);
  EXPECT_GE(t.invalid_run, 50);
}

TEST_P(Wycheproof, ChaCha20Poly1305SealsToExpectedAndRejectsModifiedTags) {
  const char* file = "chacha20_poly1305_test.json";
  const json& doc = LoadVectors(file);
  const Tally t = RunAeadVectors(Aead::Algorithm::kChaCha20Poly1305, doc, GetParam());
  Report(file, GetParam(), t, doc);
  EXPECT_GE(t.valid_run, 250);
  EXPECT_GE(t.invalid_run, 55);
}

// ---- GMAC: AES-GCM with empty text and the message as AAD (RFC 4543) ------------------------

TEST_P(Wycheproof, AesGmacAsGcmWithEmptyTextMatchesTags) {
  const char* file = "aes_gmac_test.json";
  const json& doc = LoadVectors(file);
  Tally t;
  for (const json& group : doc["testGroups"]) {
    const int key_bits = group["keySize"].get<int>();
    const bool supported = (key_bits == 128 || key_bits == 256) && group["ivSize"].get<int>() == 96 &&
                           group["tagSize"].get<int>() == 128;
    for (const json& test : group["tests"]) {
      if (!supported || !(IsValid(test) || IsInvalid(test))) {
        ++t.skipped;
        continue;
      }
      SCOPED_TRACE(Trace(test));
      const ByteVec key = Hex(test["key"].get<std::string>());
      const ByteVec iv = Hex(test["iv"].get<std::string>());
      const ByteVec msg = Hex(test["msg"].get<std::string>());
      const ByteVec tag = Hex(test["tag"].get<std::string>());
      auto aead = Aead::Create(Aead::Algorithm::kAesGcm, key, GetParam());
      ASSERT_TRUE(aead.ok()) << aead.status().ToString();
      const Bytes aad[] = {msg};
      MutableBytes no_text;
      if (IsValid(test)) {
        ++t.valid_run;
        ByteVec out_tag(kTagSize);
        (*aead)->Seal(iv, aad, no_text, out_tag);
        EXPECT_EQ(ToHex(out_tag), ToHex(tag));
        EXPECT_TRUE((*aead)->Open(iv, aad, no_text, tag));
      } else {
        ++t.invalid_run;
        EXPECT_FALSE((*aead)->Open(iv, aad, no_text, tag));
      }
    }
  }
  Report(file, GetParam(), t, doc);
  // 2 key sizes x (15 valid + 54 invalid) with a 96-bit IV.
  EXPECT_GE(t.valid_run, 28);
  EXPECT_GE(t.invalid_run, 100);
}

// ---- HMAC-SHA-256 ----------------------------------------------------------------------------

TEST_P(Wycheproof, HmacSha256MatchesFullAndTruncatedTags) {
  const char* file = "hmac_sha256_test.json";
  const json& doc = LoadVectors(file);
  Tally t;
  for (const json& group : doc["testGroups"]) {
    const int tag_bits = group["tagSize"].get<int>();
    const bool supported = tag_bits > 0 && tag_bits <= 256 && tag_bits % 8 == 0;
    for (const json& test : group["tests"]) {
      if (!supported || !(IsValid(test) || IsInvalid(test))) {
        ++t.skipped;
        continue;
      }
      SCOPED_TRACE(Trace(test));
      const ByteVec key = Hex(test["key"].get<std::string>());
      const ByteVec msg = Hex(test["msg"].get<std::string>());
      const ByteVec tag = Hex(test["tag"].get<std::string>());
      ASSERT_EQ(tag.size() * 8, static_cast<size_t>(tag_bits));
      auto hmac = HmacSha256::Create(key, GetParam());
      ASSERT_TRUE(hmac.ok()) << hmac.status().ToString();
      EXPECT_EQ((*hmac)->provider(), GetParam());
      std::array<std::byte, 32> mac{};
      const Bytes whole[] = {msg};
      (*hmac)->Compute(whole, mac);
      const std::string prefix = ToHex(Bytes(mac).first(tag.size()));
      if (IsValid(test)) {
        ++t.valid_run;
        EXPECT_EQ(prefix, ToHex(tag));
      } else {
        ++t.invalid_run;
        EXPECT_NE(prefix, ToHex(tag));
      }
      // Segmented input gives the same MAC.
      std::array<std::byte, 32> mac2{};
      (*hmac)->Compute(cryptotest::SplitAt(msg, {1, msg.size() / 2}), mac2);
      EXPECT_EQ(ToHex(mac2), ToHex(mac));
    }
  }
  Report(file, GetParam(), t, doc);
  EXPECT_GE(t.valid_run, 60);
  EXPECT_GE(t.invalid_run, 100);
}

// ---- AES-CBC (PKCS#5 vectors; our AesCbc does no padding, so the test pads) -----------------

ByteVec Pkcs7Pad(const ByteVec& msg) {
  ByteVec out = msg;
  const size_t pad = 16 - msg.size() % 16;
  out.insert(out.end(), pad, std::byte(pad));
  return out;
}

std::optional<ByteVec> Pkcs7Unpad(const ByteVec& padded) {
  if (padded.empty() || padded.size() % 16 != 0) return std::nullopt;
  const size_t pad = std::to_integer<size_t>(padded.back());
  if (pad == 0 || pad > 16) return std::nullopt;
  for (size_t i = padded.size() - pad; i < padded.size(); ++i) {
    if (padded[i] != std::byte(pad)) return std::nullopt;
  }
  return ByteVec(padded.begin(), padded.end() - static_cast<std::ptrdiff_t>(pad));
}

TEST_P(Wycheproof, AesCbcEncryptsPaddedMessagesToExpectedCiphertext) {
  const char* file = "aes_cbc_pkcs5_test.json";
  const json& doc = LoadVectors(file);
  Tally t;
  for (const json& group : doc["testGroups"]) {
    const int key_bits = group["keySize"].get<int>();
    const bool supported = (key_bits == 128 || key_bits == 256) && group["ivSize"].get<int>() == 128;
    for (const json& test : group["tests"]) {
      const ByteVec ct = Hex(test["ct"].get<std::string>());
      // Invalid ciphertexts that are not whole blocks (the empty one) are outside what a no-padding
      // CBC primitive accepts: ESP rejects those lengths before decrypting.
      const bool whole_blocks = !ct.empty() && ct.size() % 16 == 0;
      if (!supported || !(IsValid(test) || (IsInvalid(test) && whole_blocks))) {
        ++t.skipped;
        continue;
      }
      SCOPED_TRACE(Trace(test));
      const ByteVec key = Hex(test["key"].get<std::string>());
      const ByteVec iv_vec = Hex(test["iv"].get<std::string>());
      ASSERT_EQ(iv_vec.size(), 16u);
      const std::span<const std::byte, 16> iv(iv_vec.data(), 16);
      const ByteVec msg = Hex(test["msg"].get<std::string>());
      auto cbc = AesCbc::Create(key, GetParam());
      ASSERT_TRUE(cbc.ok()) << cbc.status().ToString();
      EXPECT_EQ((*cbc)->provider(), GetParam());
      if (IsValid(test)) {
        ++t.valid_run;
        ByteVec text = Pkcs7Pad(msg);
        (*cbc)->Encrypt(iv, text);
        EXPECT_EQ(ToHex(text), ToHex(ct));
        (*cbc)->Decrypt(iv, text);
        const std::optional<ByteVec> plain = Pkcs7Unpad(text);
        ASSERT_TRUE(plain.has_value());
        EXPECT_EQ(ToHex(*plain), ToHex(msg));
      } else {
        // BadPadding: decrypts to a block whose PKCS#7 padding is wrong.
        ++t.invalid_run;
        ByteVec text = ct;
        (*cbc)->Decrypt(iv, text);
        EXPECT_FALSE(Pkcs7Unpad(text).has_value());
      }
    }
  }
  Report(file, GetParam(), t, doc);
  // 2 key sizes x (24 valid + 47 whole-block invalid).
  EXPECT_GE(t.valid_run, 45);
  EXPECT_GE(t.invalid_run, 90);
}

INSTANTIATE_TEST_SUITE_P(Providers, Wycheproof, ::testing::ValuesIn(cryptotest::kProviders),
                         cryptotest::ProviderParamName);

}  // namespace
}  // namespace ipsec::crypto
