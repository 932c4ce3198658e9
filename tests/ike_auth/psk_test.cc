// Signed octets (RFC 7296 §2.15) and the Shared Key MIC (method 2), checked against an independent
// HMAC computation built here from the RFC text.
#include "host/ike/auth/psk.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>
#include <vector>

#include "host/common/bytes.h"
#include "host/ike/auth/signed_octets.h"
#include "host/ike/crypto/prf.h"

namespace ipsec::ike {
namespace {

std::vector<std::byte> Hex(const std::string& h) {
  return *HexDecode(h);
}
std::vector<std::byte> V(std::string_view s) {
  return {AsBytes(s).begin(), AsBytes(s).end()};
}

// HMAC via OpenSSL's one-shot EVP_Q_mac: the reference the library's output is compared with.
std::vector<std::byte> Hmac(const char* digest, Bytes key, Bytes data) {
  std::vector<std::byte> out(64);
  size_t len = 0;
  const unsigned char* r = EVP_Q_mac(nullptr, "HMAC", nullptr, digest, nullptr, key.data(), key.size(),
                                     reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                                     reinterpret_cast<unsigned char*>(out.data()), out.size(), &len);
  EXPECT_NE(r, nullptr);
  out.resize(len);
  return out;
}

class SignedOctetsTest : public ::testing::Test {
 protected:
  Prf prf_ = *Prf::Create(PrfId::kHmacSha2_256);
  std::vector<std::byte> message_ =
      Hex("0011223344556677"
          "8899aabbccddeeff"
          "2120220800000000000000ff");
  std::vector<std::byte> nonce_ = Hex("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
  std::vector<std::byte> sk_p_ = Hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
};

TEST_F(SignedOctetsTest, LayoutIsMessageNonceAndMacedId) {
  IdPayload id;
  id.id_type = IdType::kFqdn;
  id.data = V("gw.example.com");
  auto octets = BuildSignedOctets(message_, nonce_, prf_, sk_p_, id);
  ASSERT_TRUE(octets.ok()) << octets.status().ToString();
  // Hand-built: RealMessage | Nonce | HMAC-SHA-256(SK_p, 02 00 00 00 "gw.example.com").
  std::vector<std::byte> rest = Hex("02000000");
  const auto idb = V("gw.example.com");
  rest.insert(rest.end(), idb.begin(), idb.end());
  std::vector<std::byte> expected = message_;
  expected.insert(expected.end(), nonce_.begin(), nonce_.end());
  const auto mac = Hmac("SHA256", sk_p_, rest);
  expected.insert(expected.end(), mac.begin(), mac.end());
  EXPECT_EQ(*octets, expected);
  EXPECT_EQ(RestOfIdPayload(id), rest);
}

TEST_F(SignedOctetsTest, IdBodyAsReceivedKeepsReservedBytes) {
  const auto body_zero = Hex("01000000c0000201");
  const auto body_junk = Hex("01ffeeddc0000201");
  auto a = BuildSignedOctetsFromIdBody(message_, nonce_, prf_, sk_p_, body_zero);
  auto b = BuildSignedOctetsFromIdBody(message_, nonce_, prf_, sk_p_, body_junk);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_NE(*a, *b);
  IdPayload id;
  id.id_type = IdType::kIpv4Addr;
  id.data = Hex("c0000201");
  EXPECT_EQ(*BuildSignedOctets(message_, nonce_, prf_, sk_p_, id), *a);
}

TEST_F(SignedOctetsTest, RejectsBadInputs) {
  IdPayload id;
  id.data = V("x");
  EXPECT_FALSE(BuildSignedOctets({}, nonce_, prf_, sk_p_, id).ok());
  EXPECT_FALSE(BuildSignedOctets(message_, {}, prf_, sk_p_, id).ok());
  EXPECT_FALSE(BuildSignedOctets(message_, nonce_, prf_, Bytes(sk_p_).first(16), id).ok());
  EXPECT_FALSE(BuildSignedOctetsFromIdBody(message_, nonce_, prf_, sk_p_, Hex("020000")).ok());
}

TEST_F(SignedOctetsTest, Sha512PrfUsesItsKeySize) {
  const Prf prf512 = *Prf::Create(PrfId::kHmacSha2_512);
  const std::vector<std::byte> key(64, std::byte{0x42});
  IdPayload id;
  id.data = V("a");
  auto o = BuildSignedOctets(message_, nonce_, prf512, key, id);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->size(), message_.size() + nonce_.size() + 64);
}

class PskTest : public ::testing::Test {
 protected:
  Prf prf_ = *Prf::Create(PrfId::kHmacSha2_256);
  std::vector<std::byte> octets_ = V("some signed octets: message | nonce | maced id");
  std::vector<std::byte> secret_ = V("a long and random pre-shared key!");
};

TEST_F(PskTest, MatchesTheRfc7296Formula) {
  auto auth = ComputePskAuth(prf_, secret_, octets_);
  ASSERT_TRUE(auth.ok());
  // prf(prf(secret, "Key Pad for IKEv2"), octets), the pad without a terminator (17 octets).
  const auto pad = V("Key Pad for IKEv2");
  ASSERT_EQ(pad.size(), 17u);
  const auto inner = Hmac("SHA256", secret_, pad);
  const auto expected = Hmac("SHA256", inner, octets_);
  EXPECT_TRUE(std::equal(auth->span().begin(), auth->span().end(), expected.begin(), expected.end()));
}

TEST_F(PskTest, RoundTrip) {
  for (PrfId id : {PrfId::kHmacSha2_256, PrfId::kHmacSha2_384, PrfId::kHmacSha2_512}) {
    const Prf prf = *Prf::Create(id);
    auto auth = ComputePskAuth(prf, secret_, octets_);
    ASSERT_TRUE(auth.ok());
    EXPECT_EQ(auth->size(), prf.output_size());
    EXPECT_TRUE(VerifyPskAuth(prf, secret_, octets_, auth->span()).ok());
  }
}

TEST_F(PskTest, WrongSecretFails) {
  auto auth = ComputePskAuth(prf_, secret_, octets_);
  ASSERT_TRUE(auth.ok());
  auto wrong = secret_;
  wrong.back() ^= std::byte{1};
  const Status s = VerifyPskAuth(prf_, wrong, octets_, auth->span());
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
}

TEST_F(PskTest, WrongOctetsOrTruncatedAuthFails) {
  auto auth = ComputePskAuth(prf_, secret_, octets_);
  ASSERT_TRUE(auth.ok());
  auto octets = octets_;
  octets[3] ^= std::byte{0x80};
  EXPECT_EQ(VerifyPskAuth(prf_, secret_, octets, auth->span()).code(), StatusCode::kDataLoss);
  EXPECT_EQ(VerifyPskAuth(prf_, secret_, octets_, auth->span().first(31)).code(), StatusCode::kDataLoss);
  EXPECT_EQ(VerifyPskAuth(prf_, secret_, octets_, {}).code(), StatusCode::kDataLoss);
}

TEST_F(PskTest, ShortSecretIsFlaggedButAccepted) {
  bool short_secret = false;
  const auto tiny = V("abc");
  auto auth = ComputePskAuth(prf_, tiny, octets_, &short_secret);
  ASSERT_TRUE(auth.ok());
  EXPECT_TRUE(short_secret);
  short_secret = false;
  EXPECT_TRUE(VerifyPskAuth(prf_, tiny, octets_, auth->span(), &short_secret).ok());
  EXPECT_TRUE(short_secret);
  ASSERT_TRUE(ComputePskAuth(prf_, secret_, octets_, &short_secret).ok());
  EXPECT_FALSE(short_secret);
}

TEST_F(PskTest, EmptySecretIsRefused) {
  EXPECT_EQ(ComputePskAuth(prf_, {}, octets_).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ComputePskAuth(prf_, secret_, {}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ipsec::ike
