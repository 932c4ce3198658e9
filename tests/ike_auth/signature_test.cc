// Signature authentication: RFC 7427 method 14 (every scheme), the classic methods 1 and 9/10/11
// (RFC 4754 fixed-width r|s), the RFC 7427 hash negotiation, key loading, and parser robustness.
// Known answers:
//   - AlgorithmIdentifier encodings: RFC 7427 Appendix A (sha256WithRSAEncryption,
//     ecdsa-with-SHA256/384/512, RSASSA-PSS with SHA-256); the SHA-384/512 variants follow the same
//     RFC 4055 structure.
//   - ECDSA signatures: RFC 4754 §8.1 (ECDSA-256) and §8.2 (ECDSA-384) test vectors: key pair,
//     message "abc", signature r and s.
#include "host/ike/auth/signature.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "host/common/bytes.h"
#include "host/ike/encoding/payloads/auth_payload.h"
#include "tests/ike_auth/test_pki.h"

namespace ipsec::ike {
namespace {

using test_pki::GenerateKey;

std::vector<std::byte> Hex(const std::string& h) {
  auto r = HexDecode(h);
  EXPECT_TRUE(r.ok()) << h;
  return r.ok() ? *r : std::vector<std::byte>{};
}
std::vector<std::byte> V(std::string_view s) {
  return {AsBytes(s).begin(), AsBytes(s).end()};
}

const std::vector<HashAlgorithm> kAll(std::begin(kSupportedSignatureHashes), std::end(kSupportedSignatureHashes));

// Two keys per type, generated on first use (ctest runs each test in its own process).
class SignatureTest : public ::testing::Test {
 protected:
  static const PrivateKey& Key(KeyType t, int i = 0) {
    static std::map<std::pair<KeyType, int>, PrivateKey> keys;
    auto it = keys.find({t, i});
    if (it == keys.end()) it = keys.emplace(std::make_pair(t, i), GenerateKey(t)).first;
    return it->second;
  }

  std::vector<std::byte> octets_ = V("RealMessage | NonceData | prf(SK_p, RestOfIDPayload)");
};

struct Case {
  KeyType key;
  SignatureScheme scheme;
};
const Case kMethod14Cases[] = {
    {KeyType::kRsa, SignatureScheme::kRsaPkcs1Sha256}, {KeyType::kRsa, SignatureScheme::kRsaPkcs1Sha384},
    {KeyType::kRsa, SignatureScheme::kRsaPkcs1Sha512}, {KeyType::kRsa, SignatureScheme::kRsaPssSha256},
    {KeyType::kRsa, SignatureScheme::kRsaPssSha384},   {KeyType::kRsa, SignatureScheme::kRsaPssSha512},
    {KeyType::kEcP256, SignatureScheme::kEcdsaSha256}, {KeyType::kEcP256, SignatureScheme::kEcdsaSha384},
    {KeyType::kEcP256, SignatureScheme::kEcdsaSha512}, {KeyType::kEcP384, SignatureScheme::kEcdsaSha256},
    {KeyType::kEcP384, SignatureScheme::kEcdsaSha384}, {KeyType::kEcP384, SignatureScheme::kEcdsaSha512},
    {KeyType::kEcP521, SignatureScheme::kEcdsaSha256}, {KeyType::kEcP521, SignatureScheme::kEcdsaSha512},
    {KeyType::kEd25519, SignatureScheme::kEd25519},
};

std::string Name(const Case& c) {
  return std::string(KeyTypeName(c.key)) + " / " + std::string(SignatureSchemeName(c.scheme));
}

// --- AlgorithmIdentifier encodings.

TEST(AlgorithmIdentifierTest, MatchesRfc7427AppendixA) {
  EXPECT_EQ(AlgorithmIdentifierDer(SignatureScheme::kRsaPkcs1Sha256), Hex("300d06092a864886f70d01010b0500"));
  EXPECT_EQ(AlgorithmIdentifierDer(SignatureScheme::kRsaPkcs1Sha384), Hex("300d06092a864886f70d01010c0500"));
  EXPECT_EQ(AlgorithmIdentifierDer(SignatureScheme::kRsaPkcs1Sha512), Hex("300d06092a864886f70d01010d0500"));
  EXPECT_EQ(AlgorithmIdentifierDer(SignatureScheme::kEcdsaSha256), Hex("300a06082a8648ce3d040302"));
  EXPECT_EQ(AlgorithmIdentifierDer(SignatureScheme::kEcdsaSha384), Hex("300a06082a8648ce3d040303"));
  EXPECT_EQ(AlgorithmIdentifierDer(SignatureScheme::kEcdsaSha512), Hex("300a06082a8648ce3d040304"));
  EXPECT_EQ(AlgorithmIdentifierDer(SignatureScheme::kRsaPssSha256),
            Hex("304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108"
                "300d06096086480165030402010500a203020120"));
  EXPECT_EQ(AlgorithmIdentifierDer(SignatureScheme::kRsaPssSha384),
            Hex("304106092a864886f70d01010a3034a00f300d06096086480165030402020500a11c301a06092a864886f70d010108"
                "300d06096086480165030402020500a203020130"));
  EXPECT_EQ(AlgorithmIdentifierDer(SignatureScheme::kRsaPssSha512),
            Hex("304106092a864886f70d01010a3034a00f300d06096086480165030402030500a11c301a06092a864886f70d010108"
                "300d06096086480165030402030500a203020140"));
  EXPECT_EQ(AlgorithmIdentifierDer(SignatureScheme::kEd25519), Hex("300506032b6570"));
}

TEST(AlgorithmIdentifierTest, ParsesWhatItBuilds) {
  for (const Case& c : kMethod14Cases) {
    auto p = ParseAlgorithmIdentifier(AlgorithmIdentifierDer(c.scheme));
    ASSERT_TRUE(p.ok()) << Name(c) << ": " << p.status().ToString();
    EXPECT_EQ(p->scheme, c.scheme);
  }
  EXPECT_EQ(ParseAlgorithmIdentifier(AlgorithmIdentifierDer(SignatureScheme::kRsaPssSha512))->pss_salt_length, 64u);
}

TEST(AlgorithmIdentifierTest, AcceptsPkcs1WithoutNullAndPssWithOtherSaltAndAbsentHashParams) {
  auto a = ParseAlgorithmIdentifier(Hex("300b06092a864886f70d01010b"));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->scheme, SignatureScheme::kRsaPkcs1Sha256);
  // PSS SHA-256, hash identifiers without NULL, salt 20 (RFC 4055 allows absent parameters).
  auto b = ParseAlgorithmIdentifier(
      Hex("303d06092a864886f70d01010a3030a00d300b0609608648016503040201a11a301806092a864886f70d010108"
          "300b0609608648016503040201a203020114"));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->scheme, SignatureScheme::kRsaPssSha256);
  EXPECT_EQ(b->pss_salt_length, 20u);
}

TEST(AlgorithmIdentifierTest, RejectsWhatWeDoNotAccept) {
  // sha1WithRSAEncryption (RFC 7427 A.1.1) is not accepted for method 14.
  EXPECT_EQ(ParseAlgorithmIdentifier(Hex("300d06092a864886f70d0101050500")).status().code(),
            StatusCode::kUnimplemented);
  // RSASSA-PSS with default parameters means SHA-1.
  EXPECT_EQ(ParseAlgorithmIdentifier(Hex("300d06092a864886f70d01010a3000")).status().code(),
            StatusCode::kUnimplemented);
  // PSS with SHA-256 but MGF1-SHA-384.
  EXPECT_EQ(ParseAlgorithmIdentifier(
                Hex("304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108"
                    "300d06096086480165030402020500a203020120"))
                .status()
                .code(),
            StatusCode::kUnimplemented);
  // ECDSA with NULL parameters, trailing bytes, unknown OID, non-minimal length, not a SEQUENCE.
  EXPECT_EQ(ParseAlgorithmIdentifier(Hex("300c06082a8648ce3d0403020500")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseAlgorithmIdentifier(Hex("300a06082a8648ce3d04030200")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseAlgorithmIdentifier(Hex("300a06082a8648ce3d040399")).status().code(), StatusCode::kUnimplemented);
  EXPECT_EQ(ParseAlgorithmIdentifier(Hex("30810a06082a8648ce3d040302")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseAlgorithmIdentifier(Hex("310a06082a8648ce3d040302")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseAlgorithmIdentifier({}).status().code(), StatusCode::kInvalidArgument);
}

// --- Method 14.

TEST_F(SignatureTest, EverySchemeSignsAndVerifies) {
  for (const Case& c : kMethod14Cases) {
    const PrivateKey& key = Key(c.key);
    auto data = SignAuth(key, {AuthMethod::kDigitalSignature, c.scheme}, octets_);
    ASSERT_TRUE(data.ok()) << Name(c) << ": " << data.status().ToString();
    auto split = ParseSignatureAuthData(*data);
    ASSERT_TRUE(split.ok()) << Name(c);
    EXPECT_EQ(split->algorithm_identifier, AlgorithmIdentifierDer(c.scheme));
    AuthPayload payload{AuthMethod::kDigitalSignature, *data};
    EXPECT_TRUE(payload.Verify().ok()) << Name(c);
    const Status s = VerifyAuth(key.public_key(), AuthMethod::kDigitalSignature, *data, octets_, kAll);
    EXPECT_TRUE(s.ok()) << Name(c) << ": " << s.ToString();
  }
}

TEST_F(SignatureTest, TamperedOctetsOrSignatureFail) {
  for (const Case& c : kMethod14Cases) {
    const PrivateKey& key = Key(c.key);
    auto data = SignAuth(key, {AuthMethod::kDigitalSignature, c.scheme}, octets_);
    ASSERT_TRUE(data.ok()) << Name(c);
    auto octets = octets_;
    octets[0] ^= std::byte{1};
    EXPECT_EQ(VerifyAuth(key.public_key(), AuthMethod::kDigitalSignature, *data, octets, kAll).code(),
              StatusCode::kDataLoss)
        << Name(c);
    auto sig = *data;
    sig[sig.size() - 2] ^= std::byte{0x10};
    EXPECT_FALSE(VerifyAuth(key.public_key(), AuthMethod::kDigitalSignature, sig, octets_, kAll).ok()) << Name(c);
  }
}

TEST_F(SignatureTest, WrongKeyOfTheSameTypeFails) {
  for (const Case& c : kMethod14Cases) {
    auto data = SignAuth(Key(c.key, 0), {AuthMethod::kDigitalSignature, c.scheme}, octets_);
    ASSERT_TRUE(data.ok()) << Name(c);
    EXPECT_EQ(VerifyAuth(Key(c.key, 1).public_key(), AuthMethod::kDigitalSignature, *data, octets_, kAll).code(),
              StatusCode::kDataLoss)
        << Name(c);
  }
}

// Replaces the AlgorithmIdentifier of method-14 data, keeping the signature.
std::vector<std::byte> Relabel(Bytes data, SignatureScheme as) {
  auto split = ParseSignatureAuthData(data);
  EXPECT_TRUE(split.ok());
  split->algorithm_identifier = AlgorithmIdentifierDer(as);
  return *BuildSignatureAuthData(*split);
}

TEST_F(SignatureTest, AlgorithmIdentifierMismatchFails) {
  const PrivateKey& rsa = Key(KeyType::kRsa);
  const PrivateKey& ec = Key(KeyType::kEcP256);
  auto pss = *SignAuth(rsa, {AuthMethod::kDigitalSignature, SignatureScheme::kRsaPssSha256}, octets_);
  auto ecdsa = *SignAuth(ec, {AuthMethod::kDigitalSignature, SignatureScheme::kEcdsaSha256}, octets_);
  const auto verify = [&](const PrivateKey& k, Bytes d) {
    return VerifyAuth(k.public_key(), AuthMethod::kDigitalSignature, d, octets_, kAll).code();
  };
  // The label names another key type than the peer's key.
  EXPECT_EQ(verify(rsa, Relabel(pss, SignatureScheme::kEcdsaSha256)), StatusCode::kFailedPrecondition);
  EXPECT_EQ(verify(ec, Relabel(ecdsa, SignatureScheme::kRsaPssSha256)), StatusCode::kFailedPrecondition);
  EXPECT_EQ(verify(ec, Relabel(ecdsa, SignatureScheme::kEd25519)), StatusCode::kFailedPrecondition);
  // Same key type, other padding or hash: the signature does not verify.
  EXPECT_EQ(verify(rsa, Relabel(pss, SignatureScheme::kRsaPkcs1Sha256)), StatusCode::kDataLoss);
  EXPECT_EQ(verify(rsa, Relabel(pss, SignatureScheme::kRsaPssSha384)), StatusCode::kDataLoss);
  EXPECT_EQ(verify(ec, Relabel(ecdsa, SignatureScheme::kEcdsaSha512)), StatusCode::kDataLoss);
  // The classic method number with method-14 data.
  EXPECT_FALSE(VerifyAuth(ec.public_key(), AuthMethod::kEcdsaSha256P256, ecdsa, octets_, kAll).ok());
}

TEST_F(SignatureTest, UnannouncedHashFails) {
  const PrivateKey& ec = Key(KeyType::kEcP384);
  auto data = *SignAuth(ec, {AuthMethod::kDigitalSignature, SignatureScheme::kEcdsaSha384}, octets_);
  const std::vector<HashAlgorithm> only256 = {HashAlgorithm::kSha2_256};
  EXPECT_EQ(VerifyAuth(ec.public_key(), AuthMethod::kDigitalSignature, data, octets_, only256).code(),
            StatusCode::kFailedPrecondition);
  const PrivateKey& ed = Key(KeyType::kEd25519);
  auto ed_data = *SignAuth(ed, {AuthMethod::kDigitalSignature, SignatureScheme::kEd25519}, octets_);
  EXPECT_EQ(VerifyAuth(ed.public_key(), AuthMethod::kDigitalSignature, ed_data, octets_, only256).code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(SignatureTest, Pkcs1CanBeDisabledOnVerify) {
  const PrivateKey& rsa = Key(KeyType::kRsa);
  auto data = *SignAuth(rsa, {AuthMethod::kDigitalSignature, SignatureScheme::kRsaPkcs1Sha256}, octets_);
  EXPECT_EQ(
      VerifyAuth(rsa.public_key(), AuthMethod::kDigitalSignature, data, octets_, kAll, {.accept_rsa_pkcs1 = false})
          .code(),
      StatusCode::kFailedPrecondition);
}

TEST_F(SignatureTest, SignAuthRejectsAChoiceThatDoesNotFitTheKey) {
  EXPECT_EQ(SignAuth(Key(KeyType::kEcP384), {AuthMethod::kEcdsaSha256P256, SignatureScheme::kEcdsaSha256}, octets_)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(
      SignAuth(Key(KeyType::kEcP256), {AuthMethod::kEcdsaSha256P256, SignatureScheme::kEcdsaSha384}, octets_).ok());
  EXPECT_FALSE(
      SignAuth(Key(KeyType::kEcP256), {AuthMethod::kDigitalSignature, SignatureScheme::kRsaPssSha256}, octets_).ok());
  EXPECT_FALSE(
      SignAuth(Key(KeyType::kRsa), {AuthMethod::kDigitalSignature, SignatureScheme::kRsaPkcs1Sha1}, octets_).ok());
  EXPECT_FALSE(
      SignAuth(Key(KeyType::kRsa), {AuthMethod::kSharedKeyMic, SignatureScheme::kRsaPkcs1Sha256}, octets_).ok());
  EXPECT_FALSE(
      SignAuth(Key(KeyType::kEd25519), {AuthMethod::kRsaSignature, SignatureScheme::kRsaPkcs1Sha1}, octets_).ok());
}

// --- Classic methods.

TEST_F(SignatureTest, ClassicEcdsaIsFixedWidthRawRs) {
  const struct {
    KeyType key;
    AuthMethod method;
    SignatureScheme scheme;
    size_t size;
  } cases[] = {{KeyType::kEcP256, AuthMethod::kEcdsaSha256P256, SignatureScheme::kEcdsaSha256, 64},
               {KeyType::kEcP384, AuthMethod::kEcdsaSha384P384, SignatureScheme::kEcdsaSha384, 96},
               {KeyType::kEcP521, AuthMethod::kEcdsaSha512P521, SignatureScheme::kEcdsaSha512, 132}};
  for (const auto& c : cases) {
    const PrivateKey& key = Key(c.key);
    // Many signatures, so that r or s with leading zero octets (padded, not shortened) turn up.
    for (int i = 0; i < 20; ++i) {
      octets_[0] = std::byte{static_cast<uint8_t>(i)};
      auto data = SignAuth(key, {c.method, c.scheme}, octets_);
      ASSERT_TRUE(data.ok()) << KeyTypeName(c.key);
      ASSERT_EQ(data->size(), c.size);
      EXPECT_TRUE((AuthPayload{c.method, *data}.Verify().ok()));
      EXPECT_TRUE(VerifyAuth(key.public_key(), c.method, *data, octets_).ok());
    }
    auto data = *SignAuth(key, {c.method, c.scheme}, octets_);
    auto bad = data;
    bad[c.size / 2 - 1] ^= std::byte{1};
    EXPECT_EQ(VerifyAuth(key.public_key(), c.method, bad, octets_).code(), StatusCode::kDataLoss);
    EXPECT_EQ(VerifyAuth(key.public_key(), c.method, Bytes(data).first(c.size - 1), octets_).code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(VerifyAuth(Key(c.key, 1).public_key(), c.method, data, octets_).code(), StatusCode::kDataLoss);
  }
  // The method names the curve: a P-384 key with method 9 is refused.
  auto d = *SignAuth(Key(KeyType::kEcP256), {AuthMethod::kEcdsaSha256P256, SignatureScheme::kEcdsaSha256}, octets_);
  EXPECT_EQ(VerifyAuth(Key(KeyType::kEcP384).public_key(), AuthMethod::kEcdsaSha256P256, d, octets_).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(VerifyAuth(Key(KeyType::kRsa).public_key(), AuthMethod::kEcdsaSha256P256, d, octets_).code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(SignatureTest, ClassicRsaSha1IsLegacyButWorks) {
  const PrivateKey& rsa = Key(KeyType::kRsa);
  auto data = SignAuth(rsa, {AuthMethod::kRsaSignature, SignatureScheme::kRsaPkcs1Sha1}, octets_);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data->size(), 256u);
  EXPECT_TRUE(VerifyAuth(rsa.public_key(), AuthMethod::kRsaSignature, *data, octets_).ok());
  EXPECT_EQ(VerifyAuth(Key(KeyType::kRsa, 1).public_key(), AuthMethod::kRsaSignature, *data, octets_).code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(
      VerifyAuth(rsa.public_key(), AuthMethod::kRsaSignature, *data, octets_, kAll, {.accept_rsa_sha1_classic = false})
          .code(),
      StatusCode::kFailedPrecondition);
  EXPECT_EQ(VerifyAuth(Key(KeyType::kEcP256).public_key(), AuthMethod::kRsaSignature, *data, octets_).code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(SignatureTest, NonSignatureMethodsAreRefused) {
  const auto data = V("x");
  for (AuthMethod m :
       {AuthMethod::kSharedKeyMic, AuthMethod::kDssSignature, AuthMethod::kNullAuth, static_cast<AuthMethod>(201)}) {
    EXPECT_EQ(VerifyAuth(Key(KeyType::kRsa).public_key(), m, data, octets_).code(), StatusCode::kFailedPrecondition);
  }
}

// --- RFC 4754 §8 known answers.

PublicKey EcPublicFromRaw(const char* group, const std::string& x, const std::string& y) {
  const auto point = Hex("04" + x + y);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* pkey = nullptr;
  EXPECT_EQ(EVP_PKEY_fromdata_init(ctx), 1);
  EXPECT_EQ(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params), 1);
  auto pub = PublicKey::FromEvpPkey(pkey);
  EVP_PKEY_free(pkey);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  EXPECT_TRUE(pub.ok());
  return *pub;
}

struct Rfc4754Vector {
  const char* name;
  const char* group;
  AuthMethod method;
  SignatureScheme scheme;
  size_t field;
  std::string gwx, gwy, r, s;
};

const Rfc4754Vector kRfc4754[] = {
    {"RFC 4754 §8.1 ECDSA-256", "P-256", AuthMethod::kEcdsaSha256P256, SignatureScheme::kEcdsaSha256, 32,
     "2442A5CC0ECD015FA3CA31DC8E2BBC70BF42D60CBCA20085E0822CB04235E970",
     "6FC98BD7E50211A4A27102FA3549DF79EBCB4BF246B80945CDDFE7D509BBFD7D",
     "CB28E0999B9C7715FD0A80D8E47A77079716CBBF917DD72E97566EA1C066957C",
     "86FA3BB4E26CAD5BF90B7F81899256CE7594BB1EA0C89212748BFF3B3D5B0315"},
    {"RFC 4754 §8.2 ECDSA-384", "P-384", AuthMethod::kEcdsaSha384P384, SignatureScheme::kEcdsaSha384, 48,
     "96281BF8DD5E0525CA049C048D345D3082968D10FEDF5C5ACA0C64E6465A97EA5CE10C9DFEC21797415710721F437922",
     "447688BA94708EB6E2E4D59F6AB6D7EDFF9301D249FE49C33096655F5D502FAD3D383B91C5E7EDAA2B714CC99D5743CA",
     "FB017B914E29149432D8BAC29A514640B46F53DDAB2C69948084E2930F1C8F7E08E07C9C63F2D21A07DCB56A6AF56EB3",
     "B263A1305E057F984D38726A1B46874109F417BCA112674C528262A40A629AF1CBB9F516CE0FA7D2FF630863A00E8B9F"},
};

TEST(Rfc4754KnownAnswerTest, VerifiesPublishedSignaturesOverAbc) {
  const auto abc = V("abc");
  for (const Rfc4754Vector& v : kRfc4754) {
    const PublicKey pub = EcPublicFromRaw(v.group, v.gwx, v.gwy);
    const auto rs = Hex(v.r + v.s);
    ASSERT_EQ(rs.size(), 2 * v.field);
    const Status s = VerifyAuth(pub, v.method, rs, abc);
    EXPECT_TRUE(s.ok()) << v.name << ": " << s.ToString();
    // The same signature as RFC 7427 method-14 data (DER ECDSA-Sig-Value).
    auto der = EcdsaRawToDer(rs, v.field);
    ASSERT_TRUE(der.ok());
    EXPECT_EQ(*EcdsaDerToRaw(*der, v.field), rs);
    auto data = BuildSignatureAuthData({AlgorithmIdentifierDer(v.scheme), *der});
    ASSERT_TRUE(data.ok());
    EXPECT_TRUE(VerifyAuth(pub, AuthMethod::kDigitalSignature, *data, abc).ok()) << v.name;
    // Tampering fails.
    auto bad = rs;
    bad.back() ^= std::byte{1};
    EXPECT_EQ(VerifyAuth(pub, v.method, bad, abc).code(), StatusCode::kDataLoss) << v.name;
    EXPECT_EQ(VerifyAuth(pub, v.method, rs, V("abd")).code(), StatusCode::kDataLoss) << v.name;
  }
}

TEST(EcdsaEncodingTest, RawAndDerConvertBothWaysWithPadding) {
  // r = 1, s = 0x80 (needs a DER leading zero) on P-256.
  std::vector<std::byte> raw(64);
  raw[31] = std::byte{1};
  raw[63] = std::byte{0x80};
  auto der = EcdsaRawToDer(raw, 32);
  ASSERT_TRUE(der.ok());
  EXPECT_EQ(*der, Hex("3007020101020200"
                      "80"));
  EXPECT_EQ(*EcdsaDerToRaw(*der, 32), raw);
  EXPECT_FALSE(EcdsaRawToDer(Bytes(raw).first(63), 32).ok());
  EXPECT_FALSE(EcdsaDerToRaw(Hex("3007020101020200"), 32).ok());
  // An integer wider than the field.
  std::vector<std::byte> wide_raw(96, std::byte{0xff});
  auto wide = EcdsaRawToDer(wide_raw, 48);
  ASSERT_TRUE(wide.ok());
  EXPECT_FALSE(EcdsaDerToRaw(*wide, 32).ok());
}

// --- Choosing what to send, and the hash notify.

TEST_F(SignatureTest, ChoosesSchemePerKeyAndPeerHashes) {
  using H = HashAlgorithm;
  const auto choose = [&](KeyType t, std::vector<H> peer, SignOptions o = {}) {
    return ChooseSignature(Key(t), peer, o);
  };
  const SignatureChoice pss256{AuthMethod::kDigitalSignature, SignatureScheme::kRsaPssSha256};
  EXPECT_EQ(*choose(KeyType::kRsa, kAll), pss256);
  EXPECT_EQ(*choose(KeyType::kRsa, kAll, {.rsa_pss = false}),
            (SignatureChoice{AuthMethod::kDigitalSignature, SignatureScheme::kRsaPkcs1Sha256}));
  EXPECT_EQ(*choose(KeyType::kRsa, {H::kSha2_512}),
            (SignatureChoice{AuthMethod::kDigitalSignature, SignatureScheme::kRsaPssSha512}));
  EXPECT_EQ(*choose(KeyType::kEcP256, kAll),
            (SignatureChoice{AuthMethod::kDigitalSignature, SignatureScheme::kEcdsaSha256}));
  EXPECT_EQ(*choose(KeyType::kEcP384, kAll),
            (SignatureChoice{AuthMethod::kDigitalSignature, SignatureScheme::kEcdsaSha384}));
  EXPECT_EQ(*choose(KeyType::kEcP521, kAll),
            (SignatureChoice{AuthMethod::kDigitalSignature, SignatureScheme::kEcdsaSha512}));
  EXPECT_EQ(*choose(KeyType::kEcP256, {H::kSha2_512, H::kSha2_384}),
            (SignatureChoice{AuthMethod::kDigitalSignature, SignatureScheme::kEcdsaSha384}));
  EXPECT_EQ(*choose(KeyType::kEd25519, kAll),
            (SignatureChoice{AuthMethod::kDigitalSignature, SignatureScheme::kEd25519}));
  // Nothing usable announced: the classic methods.
  EXPECT_EQ(*choose(KeyType::kRsa, {}), (SignatureChoice{AuthMethod::kRsaSignature, SignatureScheme::kRsaPkcs1Sha1}));
  EXPECT_EQ(*choose(KeyType::kEcP256, {H::kSha1}),
            (SignatureChoice{AuthMethod::kEcdsaSha256P256, SignatureScheme::kEcdsaSha256}));
  EXPECT_EQ(*choose(KeyType::kEcP384, {}),
            (SignatureChoice{AuthMethod::kEcdsaSha384P384, SignatureScheme::kEcdsaSha384}));
  EXPECT_EQ(*choose(KeyType::kEcP521, {}),
            (SignatureChoice{AuthMethod::kEcdsaSha512P521, SignatureScheme::kEcdsaSha512}));
  EXPECT_EQ(choose(KeyType::kRsa, {}, {.allow_classic = false}).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(choose(KeyType::kEd25519, {H::kSha2_256}).status().code(), StatusCode::kFailedPrecondition);
  // Each choice signs and verifies.
  for (KeyType t : {KeyType::kRsa, KeyType::kEcP256, KeyType::kEcP384, KeyType::kEcP521, KeyType::kEd25519}) {
    for (const std::vector<H>& peer : {kAll, std::vector<H>{}}) {
      auto c = choose(t, peer);
      if (!c.ok()) continue;
      auto data = SignAuth(Key(t), *c, octets_);
      ASSERT_TRUE(data.ok());
      EXPECT_TRUE(VerifyAuth(Key(t).public_key(), c->method, *data, octets_).ok()) << KeyTypeName(t);
    }
  }
}

TEST(SignatureHashNotifyTest, BuildsAndParsesRfc7427List) {
  const NotifyPayload n = BuildSignatureHashAlgorithmsNotify();
  EXPECT_EQ(n.type, NotifyType::kSignatureHashAlgorithms);
  EXPECT_EQ(n.data, Hex("0002000300040005"));
  EXPECT_TRUE(n.Verify().ok());
  // Unknown (0x0009, 0xffff) and SHA-1 dropped, duplicates removed, peer order kept.
  auto peer = ParsePeerSignatureHashes(Hex("0004ffff000100020004000900050003"));
  ASSERT_TRUE(peer.ok());
  EXPECT_EQ(*peer, (std::vector<HashAlgorithm>{HashAlgorithm::kSha2_512, HashAlgorithm::kSha2_256,
                                               HashAlgorithm::kIdentity, HashAlgorithm::kSha2_384}));
  EXPECT_TRUE(ParsePeerSignatureHashes(Hex("0001"))->empty());
  EXPECT_FALSE(ParsePeerSignatureHashes(Hex("000200")).ok());
  EXPECT_FALSE(ParsePeerSignatureHashes({}).ok());
}

// --- Parser robustness.

TEST_F(SignatureTest, MalformedAuthDataIsInvalidArgument) {
  const PrivateKey& ec = Key(KeyType::kEcP256);
  const auto verify = [&](Bytes d) {
    return VerifyAuth(ec.public_key(), AuthMethod::kDigitalSignature, d, octets_).code();
  };
  EXPECT_EQ(verify({}), StatusCode::kInvalidArgument);
  EXPECT_EQ(verify(Hex("00")), StatusCode::kInvalidArgument);                            // ASN.1 Length 0
  EXPECT_EQ(verify(Hex("0c300a06082a8648ce3d040302")), StatusCode::kInvalidArgument);    // no signature
  EXPECT_EQ(verify(Hex("0e300a06082a8648ce3d040302aa")), StatusCode::kInvalidArgument);  // length past the end
  EXPECT_EQ(verify(Hex("0d300a06082a8648ce3d040302aa")), StatusCode::kInvalidArgument);  // length takes the sig
  EXPECT_EQ(verify(Hex("0b300a06082a8648ce3d040302aa")), StatusCode::kInvalidArgument);  // length short of the SEQ
  EXPECT_EQ(verify(Hex("0c300a06082a8648ce3d040302aa")), StatusCode::kDataLoss);         // well-formed, bad signature
  // Every truncation of a valid AUTH value fails cleanly.
  auto data = *SignAuth(ec, {AuthMethod::kDigitalSignature, SignatureScheme::kEcdsaSha256}, octets_);
  for (size_t n = 0; n < data.size(); ++n) {
    EXPECT_FALSE(VerifyAuth(ec.public_key(), AuthMethod::kDigitalSignature, Bytes(data).first(n), octets_).ok()) << n;
  }
}

// --- Key loading.

std::string ToPem(EVP_PKEY* k) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr);
  char* p = nullptr;
  const long n = BIO_get_mem_data(bio, &p);
  std::string out(p, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

std::vector<std::byte> ToDerPkcs8(EVP_PKEY* k) {
  unsigned char* der = nullptr;
  const int n = i2d_PrivateKey(k, &der);
  std::vector<std::byte> out(reinterpret_cast<std::byte*>(der), reinterpret_cast<std::byte*>(der) + n);
  OPENSSL_free(der);
  return out;
}

TEST_F(SignatureTest, LoadsKeysFromPemDerAndFiles) {
  for (KeyType t : {KeyType::kRsa, KeyType::kEcP256, KeyType::kEcP384, KeyType::kEcP521, KeyType::kEd25519}) {
    const PrivateKey& orig = Key(t);
    const std::string pem = ToPem(orig.native());
    auto from_pem = PrivateKey::FromPem(AsBytes(pem));
    ASSERT_TRUE(from_pem.ok()) << KeyTypeName(t) << ": " << from_pem.status().ToString();
    EXPECT_EQ(from_pem->type(), t);
    auto from_der = PrivateKey::FromDer(ToDerPkcs8(orig.native()));
    ASSERT_TRUE(from_der.ok()) << KeyTypeName(t);
    EXPECT_EQ(from_der->public_key().SpkiDer(), orig.public_key().SpkiDer());
    // A signature by the loaded key verifies with the original public key.
    auto c = *ChooseSignature(*from_pem, kAll);
    auto data = *SignAuth(*from_pem, c, octets_);
    EXPECT_TRUE(VerifyAuth(orig.public_key(), c.method, data, octets_).ok());
    // SPKI round trip.
    auto pub = PublicKey::FromSpkiDer(orig.public_key().SpkiDer());
    ASSERT_TRUE(pub.ok());
    EXPECT_EQ(pub->type(), t);
    auto spki = orig.public_key().SpkiDer();
    spki.push_back(std::byte{0});
    EXPECT_FALSE(PublicKey::FromSpkiDer(spki).ok());
  }
  const std::string path = ::testing::TempDir() + "/ike_auth_key.pem";
  {
    std::ofstream f(path, std::ios::binary);
    f << ToPem(Key(KeyType::kEcP256).native());
  }
  auto from_file = PrivateKey::FromFile(path);
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  EXPECT_EQ(from_file->type(), KeyType::kEcP256);
  std::remove(path.c_str());
  EXPECT_EQ(PrivateKey::FromFile(path).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Key(KeyType::kRsa).bits(), 2048);
  EXPECT_EQ(Key(KeyType::kEcP384).bits(), 384);
}

TEST_F(SignatureTest, RejectsGarbageAndEncryptedKeysWithoutPrompting) {
  EXPECT_FALSE(PrivateKey::FromPem(AsBytes("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")).ok());
  EXPECT_FALSE(PrivateKey::FromDer(Hex("300100")).ok());
  EXPECT_FALSE(PrivateKey::FromDer({}).ok());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PKCS8PrivateKey(bio, Key(KeyType::kEcP256).native(), EVP_aes_256_cbc(), nullptr, 0, nullptr,
                                const_cast<char*>("passphrase"));
  char* p = nullptr;
  const long n = BIO_get_mem_data(bio, &p);
  const std::string enc(p, static_cast<size_t>(n));
  BIO_free(bio);
  auto r = PrivateKey::FromPem(AsBytes(enc));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  // No key material in error texts.
  EXPECT_EQ(r.status().message().find("passphrase"), std::string::npos);
}

}  // namespace
}  // namespace ipsec::ike
