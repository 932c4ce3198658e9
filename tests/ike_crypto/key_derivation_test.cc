// Prf, prf+, SKEYSEED, IKE SA keys and CHILD_SA KEYMAT: NIST CAVP known answers and comparisons with
// prf+ written out independently with OpenSSL's one-shot HMAC().
#include "host/ike/crypto/key_derivation.h"

#include <gtest/gtest.h>

#include "host/ike/crypto/prf.h"
#include "tests/ike_crypto/test_util.h"

namespace ipsec::ike {
namespace {

using test::ByteVec;
using test::Concat;
using test::Hex;
using test::RawHmac;
using test::RawPrfPlus;
using test::Span;

Prf MakePrf(PrfId id) {
  auto p = Prf::Create(id);
  EXPECT_TRUE(p.ok());
  return *p;
}

// NIST CAVP SP 800-135 IKEv2 KDF sample (SHA-256, Ni/Nr 64 bits, DKM 1056 bits), as reproduced in
// NSS gtests/common/testvectors/ike-sha256-vectors.h (vectors 6-8, "from the NIST samples").
struct CavpIkev2Sha256 {
  const char* ni = "3f302be1abcb28e1";
  const char* nr = "8c332ee006064c9b";
  const char* g_ir = "0f4d257d7a58fc4545c7d7a88119eee5d5c9690c5b4c989171d3abbfd99d1d29";
  const char* g_ir_new = "25f3b12d6f282739256e39bf54eda53b60ffcf379bb7bcc90c27b4c4c578616c";
  uint64_t spi_i = 0x40dac39e1e1a8640;
  uint64_t spi_r = 0x8619a1cf9a6e4c07;
  const char* skeyseed = "5f00d1bd2c58ec224b1e6b71fa0f19a1faa7a193952c444411b47c1a9d8ba6fe";
  const char* dkm =
      "0b137d669b0947d7d026d593f0305ad401ff0c471357d695778a9c7f4b4869ece98aca531188d16041b3bb936d2dbb3b4993a6e768a809"
      "160de45d0283f273a6cdf6854379e31be72b8d3d1fa990cf9c5b015ca9f918a7df6253c958114a09d4e1c19bdcd4db14b29d98db1a74ad"
      "405c588662c14a04d0d36aa4ab55e90f8986d12d4aad";
  const char* skeyseed_rekey = "2d63f6debc92048b4fef3889c4c99ca67d6496e0fac14a2bca9a2d6566ff2398";
};

TEST(KeyDerivationTest, SkeyseedMatchesNistCavp) {
  const CavpIkev2Sha256 v;
  const Prf prf = MakePrf(PrfId::kHmacSha2_256);
  auto s = ComputeSkeyseed(prf, Hex(v.ni), Hex(v.nr), Hex(v.g_ir));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Span(s->span()), Hex(v.skeyseed));
}

TEST(KeyDerivationTest, PrfPlusMatchesNistCavpDkm) {
  const CavpIkev2Sha256 v;
  const Prf prf = MakePrf(PrfId::kHmacSha2_256);
  ByteVec spis(16);
  StoreU64Be(spis.data(), v.spi_i);
  StoreU64Be(spis.data() + 8, v.spi_r);
  const ByteVec seed = Concat({Hex(v.ni), Hex(v.nr), spis});
  const ByteVec dkm = Hex(v.dkm);
  ASSERT_EQ(dkm.size(), 132u);
  auto out = prf.PrfPlus(Hex(v.skeyseed), seed, dkm.size());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Span(out->span()), dkm);
}

TEST(KeyDerivationTest, RekeySkeyseedMatchesNistCavp) {
  const CavpIkev2Sha256 v;
  const Prf prf = MakePrf(PrfId::kHmacSha2_256);
  const ByteVec dkm = Hex(v.dkm);
  const ByteVec sk_d(dkm.begin(), dkm.begin() + 32);  // SK_d is the first 32 bytes of the DKM
  auto s = ComputeRekeySkeyseed(prf, sk_d, Hex(v.g_ir_new), Hex(v.ni), Hex(v.nr));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Span(s->span()), Hex(v.skeyseed_rekey));
}

// The seven keys are consecutive slices of the CAVP DKM: SK_d | SK_ai | SK_ar | SK_ei | SK_er | ...
TEST(KeyDerivationTest, IkeSaKeysAreSlicesOfDkmInRfcOrder) {
  const CavpIkev2Sha256 v;
  const Prf prf = MakePrf(PrfId::kHmacSha2_256);
  const IkeSaTransforms t{{EncrId::kAesCbc, 128, IntegId::kHmacSha2_256_128}, PrfId::kHmacSha2_256};
  auto keys = DeriveIkeSaKeys(prf, Hex(v.skeyseed), Hex(v.ni), Hex(v.nr), v.spi_i, v.spi_r, t);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  const ByteVec dkm = Hex(v.dkm);
  auto slice = [&](size_t at, size_t n) { return ByteVec(dkm.begin() + at, dkm.begin() + at + n); };
  EXPECT_EQ(Span(keys->sk_d.span()), slice(0, 32));
  EXPECT_EQ(Span(keys->sk_ai.span()), slice(32, 32));
  EXPECT_EQ(Span(keys->sk_ar.span()), slice(64, 32));
  EXPECT_EQ(Span(keys->sk_ei.span()), slice(96, 16));
  EXPECT_EQ(Span(keys->sk_er.span()), slice(112, 16));
  ASSERT_EQ(keys->sk_pi.size(), 32u);
  EXPECT_EQ(ByteVec(keys->sk_pi.span().begin(), keys->sk_pi.span().begin() + 4), slice(128, 4));
  EXPECT_EQ(keys->sk_pr.size(), 32u);
}

TEST(KeyDerivationTest, PrfPlusMatchesIndependentComputation) {
  const ByteVec key = Hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021");
  const ByteVec seed = Hex("f0f1f2f3f4f5f6f7f8f9");
  const struct {
    PrfId id;
    const EVP_MD* md;
  } cases[] = {{PrfId::kHmacSha2_256, EVP_sha256()}, {PrfId::kHmacSha2_384, EVP_sha384()},
               {PrfId::kHmacSha2_512, EVP_sha512()}};
  for (const auto& c : cases) {
    const Prf prf = MakePrf(c.id);
    for (size_t len : {size_t{1}, size_t{31}, size_t{64}, size_t{200}, size_t{1000}}) {
      auto out = prf.PrfPlus(key, seed, len);
      ASSERT_TRUE(out.ok());
      EXPECT_EQ(Span(out->span()), RawPrfPlus(c.md, key, seed, len)) << static_cast<int>(c.id) << " " << len;
    }
    auto one = prf.Compute(key, seed);
    ASSERT_TRUE(one.ok());
    EXPECT_EQ(Span(one->span()), RawHmac(c.md, key, seed));
    EXPECT_EQ(prf.output_size(), static_cast<size_t>(EVP_MD_get_size(c.md)));
  }
}

TEST(KeyDerivationTest, PrfAcceptsKeysLongerThanTheBlock) {
  const ByteVec key(300, std::byte{0xab});  // e.g. Ni | Nr with two 150-byte nonces
  const ByteVec data = Hex("0102");
  const Prf prf = MakePrf(PrfId::kHmacSha2_384);
  auto out = prf.Compute(key, data);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Span(out->span()), RawHmac(EVP_sha384(), key, data));
}

TEST(KeyDerivationTest, PrfPlusStopsAt255Blocks) {
  const Prf prf = MakePrf(PrfId::kHmacSha2_256);
  const ByteVec key(32, std::byte{1});
  auto max = prf.PrfPlus(key, Hex("00"), 255 * 32);
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(Span(max->span()), RawPrfPlus(EVP_sha256(), key, Hex("00"), 255 * 32));
  EXPECT_EQ(prf.PrfPlus(key, Hex("00"), 255 * 32 + 1).status().code(), StatusCode::kInvalidArgument);
}

TEST(KeyDerivationTest, RejectsUnsupportedPrf) {
  EXPECT_EQ(Prf::Create(PrfId::kHmacSha1).status().code(), StatusCode::kUnimplemented);
  EXPECT_EQ(Prf::Create(PrfId::kAes128Xcbc).status().code(), StatusCode::kUnimplemented);
}

TEST(KeyDerivationTest, IkeSaKeyLengthsFollowTransforms) {
  const ByteVec ni(32, std::byte{1}), nr(32, std::byte{2}), skeyseed(48, std::byte{3});
  const struct {
    IkeSaTransforms t;
    size_t prf_len, integ_len, enc_len;
  } cases[] = {
      {{{EncrId::kAesGcm16, 128, IntegId::kNone}, PrfId::kHmacSha2_256}, 32, 0, 20},   // RFC 5282 §7.1: +4 salt
      {{{EncrId::kAesGcm16, 256, IntegId::kNone}, PrfId::kHmacSha2_384}, 48, 0, 36},
      {{{EncrId::kAesCbc, 256, IntegId::kHmacSha2_512_256}, PrfId::kHmacSha2_512}, 64, 64, 32},
      {{{EncrId::kAesCbc, 128, IntegId::kHmacSha2_384_192}, PrfId::kHmacSha2_256}, 32, 48, 16},
  };
  for (const auto& c : cases) {
    const Prf prf = MakePrf(c.t.prf);
    auto keys = DeriveIkeSaKeys(prf, skeyseed, ni, nr, 1, 2, c.t);
    ASSERT_TRUE(keys.ok()) << keys.status().ToString();
    EXPECT_EQ(keys->sk_d.size(), c.prf_len);
    EXPECT_EQ(keys->sk_ai.size(), c.integ_len);
    EXPECT_EQ(keys->sk_ar.size(), c.integ_len);
    EXPECT_EQ(keys->sk_ei.size(), c.enc_len);
    EXPECT_EQ(keys->sk_er.size(), c.enc_len);
    EXPECT_EQ(keys->sk_pi.size(), c.prf_len);
    EXPECT_EQ(keys->sk_pr.size(), c.prf_len);
    // Independent: the concatenation is prf+(SKEYSEED, Ni | Nr | SPIi | SPIr).
    ByteVec spis(16);
    StoreU64Be(spis.data(), 1);
    StoreU64Be(spis.data() + 8, 2);
    const size_t total = 3 * c.prf_len + 2 * c.integ_len + 2 * c.enc_len;
    const ByteVec expected =
        RawPrfPlus(EVP_get_digestbyname(c.prf_len == 32 ? "SHA256" : c.prf_len == 48 ? "SHA384" : "SHA512"), skeyseed,
                   Concat({ni, nr, spis}), total);
    EXPECT_EQ(Concat({keys->sk_d.span(), keys->sk_ai.span(), keys->sk_ar.span(), keys->sk_ei.span(),
                      keys->sk_er.span(), keys->sk_pi.span(), keys->sk_pr.span()}),
              expected);
  }
}

TEST(KeyDerivationTest, RejectsInconsistentTransforms) {
  const Prf prf = MakePrf(PrfId::kHmacSha2_256);
  const ByteVec n(16, std::byte{1});
  EXPECT_EQ(DeriveIkeSaKeys(prf, n, n, n, 1, 2, {{EncrId::kAesGcm16, 128, IntegId::kHmacSha2_256_128}, prf.id()})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(DeriveIkeSaKeys(prf, n, n, n, 1, 2, {{EncrId::kAesCbc, 128, IntegId::kNone}, prf.id()}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(DeriveIkeSaKeys(prf, n, n, n, 1, 2, {{EncrId::kAesGcm16, 128, IntegId::kNone}, PrfId::kHmacSha2_512})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(DeriveIkeSaKeys(prf, n, n, n, 1, 2, {{EncrId::k3Des, 192, IntegId::kHmacSha2_256_128}, prf.id()})
                .status()
                .code(),
            StatusCode::kUnimplemented);
}

// RFC 7296 §2.17: KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr), taken as enc i->r, integ i->r,
// enc r->i, integ r->i; AES-GCM's "encryption key" is key || 4-byte salt (RFC 4106 §8.1).
TEST(KeyDerivationTest, ChildKeymatSplitsInRfcOrderForEachSuite) {
  const ByteVec sk_d = Hex("0b137d669b0947d7d026d593f0305ad401ff0c471357d695778a9c7f4b4869ec");
  const ByteVec ni = Hex("3f302be1abcb28e1aabbccddeeff0011"), nr = Hex("8c332ee006064c9b1122334455667788");
  const ByteVec g_ir_new = Hex("25f3b12d6f282739256e39bf54eda53b60ffcf379bb7bcc90c27b4c4c578616c");
  const Prf prf = MakePrf(PrfId::kHmacSha2_256);
  for (sa::Suite suite : {sa::Suite::kAesGcm128, sa::Suite::kAesGcm256, sa::Suite::kAesCbc128HmacSha256,
                          sa::Suite::kAesCbc256HmacSha256}) {
    for (bool pfs : {false, true}) {
      SCOPED_TRACE(std::string(sa::SuiteName(suite)) + (pfs ? " PFS" : ""));
      const ByteVec dh = pfs ? g_ir_new : ByteVec{};
      auto keys = DeriveChildSaKeys(prf, sk_d, dh, ni, nr, suite);
      ASSERT_TRUE(keys.ok()) << keys.status().ToString();
      EXPECT_TRUE(keys->initiator_to_responder.ValidateFor(suite).ok());
      EXPECT_TRUE(keys->responder_to_initiator.ValidateFor(suite).ok());
      const sa::SuiteInfo& info = sa::GetSuiteInfo(suite);
      const size_t e = info.enc_key_len + info.salt_len, a = info.auth_key_len;
      const ByteVec keymat = RawPrfPlus(EVP_sha256(), sk_d, Concat({dh, ni, nr}), 2 * (e + a));
      auto slice = [&](size_t at, size_t n) { return ByteVec(keymat.begin() + at, keymat.begin() + at + n); };
      EXPECT_EQ(Span(keys->initiator_to_responder.enc_key.span()), slice(0, e));
      EXPECT_EQ(Span(keys->initiator_to_responder.auth_key.span()), slice(e, a));
      EXPECT_EQ(Span(keys->responder_to_initiator.enc_key.span()), slice(e + a, e));
      EXPECT_EQ(Span(keys->responder_to_initiator.auth_key.span()), slice(2 * e + a, a));
    }
  }
}

TEST(KeyDerivationTest, ChildKeymatWithPfsDiffersFromWithout) {
  const Prf prf = MakePrf(PrfId::kHmacSha2_384);
  const ByteVec sk_d(48, std::byte{7}), n(16, std::byte{9}), dh(32, std::byte{5});
  auto a = DeriveChildSaKeys(prf, sk_d, {}, n, n, sa::Suite::kAesGcm256);
  auto b = DeriveChildSaKeys(prf, sk_d, dh, n, n, sa::Suite::kAesGcm256);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_NE(Span(a->initiator_to_responder.enc_key.span()), Span(b->initiator_to_responder.enc_key.span()));
  EXPECT_NE(Span(a->initiator_to_responder.enc_key.span()), Span(a->responder_to_initiator.enc_key.span()));
  EXPECT_EQ(a->initiator_to_responder.enc_key.size(), 36u);
  EXPECT_TRUE(a->initiator_to_responder.auth_key.empty());
}

}  // namespace
}  // namespace ipsec::ike
