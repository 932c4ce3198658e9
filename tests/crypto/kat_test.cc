// RFC-sourced known-answer tests and API behaviour of the crypto primitives, for both providers.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "host/crypto/primitives.h"
#include "tests/crypto/crypto_test_util.h"

namespace ipsec::crypto {
namespace {

using cryptotest::ByteVec;
using cryptotest::Hex;
using cryptotest::Repeat;
using cryptotest::Str;
using cryptotest::ToHex;

class CryptoKat : public ::testing::TestWithParam<Provider> {
 protected:
  void SetUp() override { IPSEC_SKIP_IF_UNAVAILABLE(GetParam()); }
};

// ---- HMAC-SHA-256: RFC 4231 §4.2-4.8 test cases 1, 2, 3, 4, 6 and 7 --------------------------
// (Test case 5 is a truncated output of a 20-byte key and is covered by Wycheproof's truncated tags.)

struct HmacCase {
  int rfc4231_case;
  ByteVec key;
  ByteVec data;
  const char* mac;
};

std::vector<HmacCase> Rfc4231Cases() {
  return {
      {1, Repeat(0x0b, 20), Str("Hi There"),
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {2, Str("Jefe"), Str("what do ya want for nothing?"),
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {3, Repeat(0xaa, 20), Repeat(0xdd, 50),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {4, Hex("0102030405060708090a0b0c0d0e0f10111213141516171819"), Repeat(0xcd, 50),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      // Key longer than the 64-byte block: hashed first (RFC 2104 §2).
      {6, Repeat(0xaa, 131), Str("Test Using Larger Than Block-Size Key - Hash Key First"),
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {7, Repeat(0xaa, 131),
       Str("This is a test using a larger than block-size key and a larger than block-size data. "
           "The key needs to be hashed before being used by the HMAC algorithm."),
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
}

TEST_P(CryptoKat, HmacSha256MatchesRfc4231TestCases) {
  for (const HmacCase& c : Rfc4231Cases()) {
    SCOPED_TRACE("RFC 4231 test case " + std::to_string(c.rfc4231_case));
    auto h = HmacSha256::Create(c.key, GetParam());
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    std::array<std::byte, 32> mac{};
    const Bytes segs[] = {c.data};
    (*h)->Compute(segs, mac);
    EXPECT_EQ(ToHex(mac), c.mac);
    // The object is reusable: a second computation gives the same MAC.
    std::array<std::byte, 32> again{};
    (*h)->Compute(segs, again);
    EXPECT_EQ(ToHex(again), c.mac);
  }
}

TEST_P(CryptoKat, HmacSha256SegmentedInputMatchesContiguous) {
  for (const HmacCase& c : Rfc4231Cases()) {
    SCOPED_TRACE("RFC 4231 test case " + std::to_string(c.rfc4231_case));
    auto h = HmacSha256::Create(c.key, GetParam());
    ASSERT_TRUE(h.ok());
    const size_t n = c.data.size();
    for (const auto& segs : {cryptotest::SplitAt(c.data, {n / 2}), cryptotest::SplitAt(c.data, {1, n - 1}),
                             cryptotest::SplitAt(c.data, {0, n / 3, n / 3, n})}) {
      std::array<std::byte, 32> mac{};
      (*h)->Compute(segs, mac);
      EXPECT_EQ(ToHex(mac), c.mac) << segs.size() << " segments";
    }
  }
}

// HMAC over zero bytes (all segments empty). Values from Python's hmac module (RFC 2104); the
// second is also Wycheproof hmac_sha256_test.json tcId 1. ESP never MACs an empty message, but the
// primitive must not return garbage for one: ipsec-mb 1.3 rejects zero-length HMAC jobs.
TEST_P(CryptoKat, HmacSha256OfEmptyMessageIsCorrect) {
  const struct {
    ByteVec key;
    const char* mac;
  } cases[] = {
      {Str("key"), "5d5d139563c95b5967b9bd9a8c9b233a9dedb45072794cd232dc1b74832607d0"},
      {Hex("1e225cafb90339bba1b24076d4206c3e79c355805d851682bc818baa4f5a7779"),
       "b175b57d89ea6cb606fb3363f2538abd73a4c00b4a1386905bac809004cf1933"},
      {ByteVec{}, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"},
  };
  for (const auto& c : cases) {
    auto h = HmacSha256::Create(c.key, GetParam());
    ASSERT_TRUE(h.ok());
    std::array<std::byte, 32> mac{};
    (*h)->Compute({}, mac);
    EXPECT_EQ(ToHex(mac), c.mac) << "no segments, key " << c.key.size() << " bytes";
    const Bytes empty_segs[] = {Bytes(), Bytes()};
    mac.fill(std::byte{0xee});
    (*h)->Compute(empty_segs, mac);
    EXPECT_EQ(ToHex(mac), c.mac) << "two empty segments, key " << c.key.size() << " bytes";
  }
}

// ---- AES-GCM: "The Galois/Counter Mode of Operation (GCM)", McGrew and Viega (2005), Appendix B,
// test cases 3 and 4 (AES-128) and 16 (AES-256, AAD and a 60-byte text). -----------------------

struct GcmCase {
  int spec_case;
  const char* key;
  const char* iv;
  const char* aad;
  const char* pt;
  const char* ct;
  const char* tag;
};

constexpr const char* kGcmK = "feffe9928665731c6d6a8f9467308308";
constexpr const char* kGcmIv = "cafebabefacedbaddecaf888";
constexpr const char* kGcmAad = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
constexpr const char* kGcmP64 =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525"
    "b16aedf5aa0de657ba637b391aafd255";
constexpr const char* kGcmP60 =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525"
    "b16aedf5aa0de657ba637b39";

const GcmCase kGcmCases[] = {
    {3, kGcmK, kGcmIv, "", kGcmP64,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa05"
     "1ba30b396a0aac973d58e091473f5985",
     "4d5c2af327cd64a62cf35abd2ba6fab4"},
    {4, kGcmK, kGcmIv, kGcmAad, kGcmP60,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa05"
     "1ba30b396a0aac973d58e091",
     "5bc94fbc3221a5db94fae95ae7121a47"},
    {16, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", kGcmIv, kGcmAad, kGcmP60,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838"
     "c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

TEST_P(CryptoKat, AesGcmMatchesGcmSpecTestCases) {
  for (const GcmCase& c : kGcmCases) {
    SCOPED_TRACE("GCM spec test case " + std::to_string(c.spec_case));
    auto aead = Aead::Create(Aead::Algorithm::kAesGcm, Hex(c.key), GetParam());
    ASSERT_TRUE(aead.ok()) << aead.status().ToString();
    const ByteVec iv = Hex(c.iv), aad = Hex(c.aad);
    const Bytes segs[] = {aad};
    ByteVec text = Hex(c.pt), tag(kTagSize);
    (*aead)->Seal(iv, segs, text, tag);
    EXPECT_EQ(ToHex(text), c.ct);
    EXPECT_EQ(ToHex(tag), c.tag);
    EXPECT_TRUE((*aead)->Open(iv, segs, text, tag));
    EXPECT_EQ(ToHex(text), c.pt);
  }
}

// ---- ChaCha20-Poly1305: RFC 8439 §2.8.2 --------------------------------------------------------

TEST_P(CryptoKat, ChaCha20Poly1305MatchesRfc8439Section282) {
  const ByteVec key = Hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  const ByteVec nonce = Hex("070000004041424344454647");
  const ByteVec aad = Hex("50515253c0c1c2c3c4c5c6c7");
  const ByteVec pt = Str(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, "
      "sunscreen would be it.");
  const char* ct =
      "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b"
      "1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
      "3ff4def08e4b7a9de576d26586cec64b6116";
  auto aead = Aead::Create(Aead::Algorithm::kChaCha20Poly1305, key, GetParam());
  ASSERT_TRUE(aead.ok()) << aead.status().ToString();
  const Bytes segs[] = {aad};
  ByteVec text = pt, tag(kTagSize);
  (*aead)->Seal(nonce, segs, text, tag);
  EXPECT_EQ(ToHex(text), ct);
  EXPECT_EQ(ToHex(tag), "1ae10b594f09e26a7e902ecbd0600691");
  EXPECT_TRUE((*aead)->Open(nonce, segs, text, tag));
  EXPECT_EQ(text, pt);
}

// ---- Multi-segment AAD (ESP with ESN passes SPI, seq-hi, seq-lo as separate pieces) ------------

TEST_P(CryptoKat, MultiSegmentAadMatchesContiguousAad) {
  for (auto alg : {Aead::Algorithm::kAesGcm, Aead::Algorithm::kChaCha20Poly1305}) {
    for (size_t key_len : {size_t{16}, size_t{32}}) {
      if (alg == Aead::Algorithm::kChaCha20Poly1305 && key_len != 32) continue;
      SCOPED_TRACE((alg == Aead::Algorithm::kAesGcm ? "AES-GCM key " : "ChaCha20-Poly1305 key ") +
                   std::to_string(key_len));
      ByteVec key(key_len);
      for (size_t i = 0; i < key_len; ++i) key[i] = std::byte(i * 7 + 1);
      auto aead = Aead::Create(alg, key, GetParam());
      ASSERT_TRUE(aead.ok());
      const ByteVec nonce = Hex("000102030405060708090a0b");
      // SPI (4) | seq-hi (4) | seq-lo (4) as in RFC 4106 §5 with ESN, and longer AADs.
      for (size_t aad_len : {size_t{8}, size_t{12}, size_t{13}, size_t{31}, size_t{64}}) {
        ByteVec aad(aad_len);
        for (size_t i = 0; i < aad_len; ++i) aad[i] = std::byte(0xa0 + i);
        const ByteVec pt = Repeat(0x5a, 77);
        const Bytes whole[] = {aad};
        ByteVec ref = pt, ref_tag(kTagSize);
        (*aead)->Seal(nonce, whole, ref, ref_tag);
        const std::vector<std::vector<Bytes>> splits = {
            cryptotest::SplitAt(aad, {4}),
            cryptotest::SplitAt(aad, {4, 8}),
            cryptotest::SplitAt(aad, {0, 1, aad_len}),  // empty segments are ignored
            cryptotest::SplitAt(aad, {aad_len / 2, aad_len / 2 + 1}),
        };
        for (const auto& segs : splits) {
          SCOPED_TRACE("aad " + std::to_string(aad_len) + " bytes in " + std::to_string(segs.size()) +
                       " segments");
          ByteVec text = pt, tag(kTagSize);
          (*aead)->Seal(nonce, segs, text, tag);
          EXPECT_EQ(text, ref);
          EXPECT_EQ(tag, ref_tag);
          EXPECT_TRUE((*aead)->Open(nonce, segs, text, tag));
          EXPECT_EQ(text, pt);
          // Contiguous AAD opens what the segmented seal produced, and vice versa above.
          ByteVec text2 = ref;
          EXPECT_TRUE((*aead)->Open(nonce, whole, text2, ref_tag));
        }
      }
    }
  }
}

// ---- API behaviour -------------------------------------------------------------------------------

TEST_P(CryptoKat, CreateRejectsUnsupportedKeySizes) {
  const ByteVec k16(16), k24(24), k32(32), k0;
  EXPECT_FALSE(Aead::Create(Aead::Algorithm::kAesGcm, k24, GetParam()).ok());
  EXPECT_FALSE(Aead::Create(Aead::Algorithm::kAesGcm, k0, GetParam()).ok());
  EXPECT_FALSE(Aead::Create(Aead::Algorithm::kChaCha20Poly1305, k16, GetParam()).ok());
  EXPECT_FALSE(AesCbc::Create(k24, GetParam()).ok());
  EXPECT_TRUE(Aead::Create(Aead::Algorithm::kAesGcm, k16, GetParam()).ok());
  EXPECT_TRUE(Aead::Create(Aead::Algorithm::kAesGcm, k32, GetParam()).ok());
  EXPECT_TRUE(Aead::Create(Aead::Algorithm::kChaCha20Poly1305, k32, GetParam()).ok());
  EXPECT_TRUE(AesCbc::Create(k16, GetParam()).ok());
  EXPECT_TRUE(AesCbc::Create(k32, GetParam()).ok());
  EXPECT_TRUE(HmacSha256::Create(k0, GetParam()).ok());
}

TEST_P(CryptoKat, OpenRejectsTagOfWrongLength) {
  auto aead = Aead::Create(Aead::Algorithm::kAesGcm, Hex(kGcmK), GetParam());
  ASSERT_TRUE(aead.ok());
  const ByteVec iv = Hex(kGcmIv);
  ByteVec text = Hex(kGcmP64), tag(kTagSize);
  (*aead)->Seal(iv, {}, text, tag);
  ByteVec copy = text;
  EXPECT_FALSE((*aead)->Open(iv, {}, copy, Bytes(tag).first(12)));
  copy = text;
  EXPECT_TRUE((*aead)->Open(iv, {}, copy, tag));
}

TEST_P(CryptoKat, CreatedObjectReportsItsProvider) {
  auto aead = Aead::Create(Aead::Algorithm::kAesGcm, ByteVec(16), GetParam());
  ASSERT_TRUE(aead.ok());
  EXPECT_EQ((*aead)->provider(), GetParam());
}

TEST(CryptoProvider, ParsesAndNamesProviders) {
  for (Provider p : {Provider::kAuto, Provider::kIpsecMb, Provider::kOpenSsl}) {
    auto parsed = ParseProvider(ProviderName(p));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, p);
  }
  EXPECT_FALSE(ParseProvider("boringssl").ok());
  EXPECT_NE(ResolveProvider(Provider::kAuto), Provider::kAuto);
  EXPECT_EQ(ResolveProvider(Provider::kOpenSsl), Provider::kOpenSsl);
}

INSTANTIATE_TEST_SUITE_P(Providers, CryptoKat, ::testing::ValuesIn(cryptotest::kProviders),
                         cryptotest::ProviderParamName);

}  // namespace
}  // namespace ipsec::crypto
