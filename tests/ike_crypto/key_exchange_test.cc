// KeyExchange tests: known answers (RFC 7748 §6.1, RFC 5903 §8.1/§8.2), agreement for every
// group, RFC 3526 primes, and rejection of invalid peer values.
#include "host/ike/crypto/key_exchange.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "tests/ike_crypto/test_util.h"

namespace ipsec::ike {
namespace {

using test::ByteVec;
using test::Concat;
using test::Hex;
using test::Span;

ByteVec Secret(const StatusOr<SecureBytes>& s) { return Span(s->span()); }

// RFC 7748 §6.1 (X25519 Diffie-Hellman test vector).
constexpr char kAlicePrivate[] = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
constexpr char kAlicePublic[] = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
constexpr char kBobPrivate[] = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
constexpr char kBobPublic[] = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
constexpr char kX25519Shared[] = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

TEST(KeyExchangeTest, X25519MatchesRfc7748Section61) {
  auto alice = CreateKeyExchangeForTest(DhGroup::kCurve25519, Hex(kAlicePrivate));
  auto bob = CreateKeyExchangeForTest(DhGroup::kCurve25519, Hex(kBobPrivate));
  ASSERT_TRUE(alice.ok()) << alice.status().ToString();
  ASSERT_TRUE(bob.ok()) << bob.status().ToString();
  EXPECT_EQ(Span((*alice)->public_value()), Hex(kAlicePublic));
  EXPECT_EQ(Span((*bob)->public_value()), Hex(kBobPublic));
  auto k1 = (*alice)->ComputeSharedSecret(Hex(kBobPublic));
  auto k2 = (*bob)->ComputeSharedSecret(Hex(kAlicePublic));
  ASSERT_TRUE(k1.ok()) << k1.status().ToString();
  ASSERT_TRUE(k2.ok());
  EXPECT_EQ(Secret(k1), Hex(kX25519Shared));
  EXPECT_EQ(Secret(k2), Hex(kX25519Shared));
}

struct EcpVector {
  DhGroup group;
  const char* i;
  const char* gix;
  const char* giy;
  const char* r;
  const char* grx;
  const char* gry;
  const char* girx;
};

// RFC 5903 §8.1 (256-bit random ECP group) and §8.2 (384-bit random ECP group).
const EcpVector kEcpVectors[] = {
    {DhGroup::kEcp256,
     "C88F01F5 10D9AC3F 70A292DA A2316DE5 44E9AAB8 AFE84049 C62A9C57 862D1433",
     "DAD0B653 94221CF9 B051E1FE CA5787D0 98DFE637 FC90B9EF 945D0C37 72581180",
     "5271A046 1CDB8252 D61F1C45 6FA3E59A B1F45B33 ACCF5F58 389E0577 B8990BB3",
     "C6EF9C5D 78AE012A 011164AC B397CE20 88685D8F 06BF9BE0 B283AB46 476BEE53",
     "D12DFB52 89C8D4F8 1208B702 70398C34 2296970A 0BCCB74C 736FC755 4494BF63",
     "56FBF3CA 366CC23E 8157854C 13C58D6A AC23F046 ADA30F83 53E74F33 039872AB",
     "D6840F6B 42F6EDAF D13116E0 E1256520 2FEF8E9E CE7DCE03 812464D0 4B9442DE"},
    {DhGroup::kEcp384,
     "099F3C70 34D4A2C6 99884D73 A375A67F 7624EF7C 6B3C0F16 0647B674 14DCE655 E35B5380 41E649EE 3FAEF896 783AB194",
     "667842D7 D180AC2C DE6F74F3 7551F557 55C7645C 20EF73E3 1634FE72 B4C55EE6 DE3AC808 ACB4BDB4 C88732AE E95F41AA",
     "9482ED1F C0EEB9CA FC498462 5CCFC23F 65032149 E0E144AD A0241815 35A0F38E EB9FCFF3 C2C947DA E69B4C63 4573A81C",
     "41CB0779 B4BDB85D 47846725 FBEC3C94 30FAB46C C8DC5060 855CC9BD A0AA2942 E0308312 916B8ED2 960E4BD5 5A7448FC",
     "E558DBEF 53EECDE3 D3FCCFC1 AEA08A89 A987475D 12FD950D 83CFA417 32BC509D 0D1AC43A 0336DEF9 6FDA41D0 774A3571",
     "DCFBEC7A ACF31964 72169E83 8430367F 66EEBE3C 6E70C416 DD5F0C68 759DD1FF F83FA401 42209DFF 5EAAD96D B9E6386C",
     "11187331 C279962D 93D60424 3FD592CB 9D0A926F 422E4718 7521287E 7156C5C4 D6031355 69B9E9D0 9CF5D4A2 70F59746"},
};

TEST(KeyExchangeTest, EcpMatchesRfc5903Section8) {
  for (const EcpVector& v : kEcpVectors) {
    SCOPED_TRACE(static_cast<int>(v.group));
    auto initiator = CreateKeyExchangeForTest(v.group, Hex(v.i));
    auto responder = CreateKeyExchangeForTest(v.group, Hex(v.r));
    ASSERT_TRUE(initiator.ok()) << initiator.status().ToString();
    ASSERT_TRUE(responder.ok()) << responder.status().ToString();
    const ByteVec gi = Concat({Hex(v.gix), Hex(v.giy)});
    const ByteVec gr = Concat({Hex(v.grx), Hex(v.gry)});
    // RFC 5903 §7: KE data is x || y, no 0x04 prefix.
    EXPECT_EQ(Span((*initiator)->public_value()), gi);
    EXPECT_EQ(Span((*responder)->public_value()), gr);
    auto k1 = (*initiator)->ComputeSharedSecret(gr);
    auto k2 = (*responder)->ComputeSharedSecret(gi);
    ASSERT_TRUE(k1.ok()) << k1.status().ToString();
    ASSERT_TRUE(k2.ok());
    // The shared secret is girx alone.
    EXPECT_EQ(Secret(k1), Hex(v.girx));
    EXPECT_EQ(Secret(k2), Hex(v.girx));
  }
}

class KeyExchangeGroupTest : public ::testing::TestWithParam<DhGroup> {};

TEST_P(KeyExchangeGroupTest, BothSidesAgree) {
  auto a = CreateKeyExchange(GetParam());
  auto b = CreateKeyExchange(GetParam());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*a)->group(), GetParam());
  EXPECT_EQ((*a)->public_value().size(), KeyExchangeDataSize(GetParam()));
  EXPECT_NE(Span((*a)->public_value()), Span((*b)->public_value()));
  auto k1 = (*a)->ComputeSharedSecret((*b)->public_value());
  auto k2 = (*b)->ComputeSharedSecret((*a)->public_value());
  ASSERT_TRUE(k1.ok()) << k1.status().ToString();
  ASSERT_TRUE(k2.ok()) << k2.status().ToString();
  EXPECT_EQ(Secret(k1), Secret(k2));
  // g^ir has a fixed length: the prime (MODP, zero-padded), the x coordinate (ECP), 32 (X25519).
  const size_t expected = GetParam() == DhGroup::kEcp256 || GetParam() == DhGroup::kEcp384
                              ? KeyExchangeDataSize(GetParam()) / 2
                              : KeyExchangeDataSize(GetParam());
  EXPECT_EQ(k1->size(), expected);
}

TEST_P(KeyExchangeGroupTest, RejectsWrongLengthPeerValue) {
  auto a = CreateKeyExchange(GetParam());
  ASSERT_TRUE(a.ok());
  ByteVec pub = Span((*a)->public_value());
  for (size_t len : {size_t{0}, pub.size() - 1, pub.size() + 1}) {
    ByteVec v = pub;
    v.resize(len, std::byte{1});
    auto k = (*a)->ComputeSharedSecret(v);
    EXPECT_EQ(k.status().code(), StatusCode::kInvalidArgument) << len;
  }
}

TEST_P(KeyExchangeGroupTest, RejectsAllZeroAndAllOnesPeerValues) {
  auto a = CreateKeyExchange(GetParam());
  ASSERT_TRUE(a.ok());
  const size_t n = (*a)->public_value().size();
  EXPECT_EQ((*a)->ComputeSharedSecret(ByteVec(n, std::byte{0})).status().code(), StatusCode::kInvalidArgument);
  if (GetParam() != DhGroup::kCurve25519) {
    // MODP: >= p; ECP: coordinates >= p. (For X25519 all-ones is a valid non-canonical u.)
    EXPECT_EQ((*a)->ComputeSharedSecret(ByteVec(n, std::byte{0xff})).status().code(), StatusCode::kInvalidArgument);
  }
}

INSTANTIATE_TEST_SUITE_P(AllGroups, KeyExchangeGroupTest,
                         ::testing::Values(DhGroup::kModp2048, DhGroup::kModp3072, DhGroup::kEcp256, DhGroup::kEcp384,
                                           DhGroup::kCurve25519),
                         [](const auto& param_info) { return "Group" + std::to_string(static_cast<int>(param_info.param)); });

TEST(KeyExchangeTest, RejectsEcpPointNotOnCurve) {
  const EcpVector& v = kEcpVectors[0];
  auto a = CreateKeyExchangeForTest(v.group, Hex(v.i));
  ASSERT_TRUE(a.ok());
  ByteVec gr = Concat({Hex(v.grx), Hex(v.gry)});
  gr.back() ^= std::byte{1};
  auto k = (*a)->ComputeSharedSecret(gr);
  EXPECT_EQ(k.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(k.status().message().find("KE:"), std::string::npos);
}

// 1 < y < p-1, and y in the order-q subgroup: 0, 1, p-1, p and -2 (a non-residue, since -1 is
// one and 2 is not for these primes) are refused.
TEST(KeyExchangeTest, RejectsModpDegenerateValues) {
  auto a = CreateKeyExchange(DhGroup::kModp2048);
  ASSERT_TRUE(a.ok());
  auto value = [](int small, bool from_p) {
    // RFC 3526 §3: the 2048-bit MODP prime.
    ByteVec p = Hex(
        "FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74 020BBEA6 3B139B22 514A0879 8E3404DD"
        "EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED"
        "EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F"
        "83655D23 DCA3AD96 1C62F356 208552BB 9ED52907 7096966D 670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B"
        "E39E772C 180E8603 9B2783A2 EC07A28F B5C55DF0 6F4C52C9 DE2BCBF6 95581718 3995497C EA956AE5 15D22618 98FA0510"
        "15728E5A 8AACAA68 FFFFFFFF FFFFFFFF");
    if (!from_p) {
      ByteVec v(p.size(), std::byte{0});
      v.back() = std::byte(small);
      return v;
    }
    // p - small (p ends in 0xff..., so no borrow for small < 256).
    p.back() = std::byte(0xff - small);
    return p;
  };
  for (const ByteVec& y : {value(0, false), value(1, false), value(1, true), value(0, true), value(2, true)}) {
    EXPECT_EQ((*a)->ComputeSharedSecret(y).status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE((*a)->ComputeSharedSecret(value(4, false)).ok());  // 4 = 2^2 is in the subgroup
}

TEST(KeyExchangeTest, RejectsSmallOrderX25519Points) {
  auto a = CreateKeyExchangeForTest(DhGroup::kCurve25519, Hex(kAlicePrivate));
  ASSERT_TRUE(a.ok());
  ByteVec one(32, std::byte{0});
  one[0] = std::byte{1};  // u = 1 (little-endian), order 4
  EXPECT_EQ((*a)->ComputeSharedSecret(one).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*a)->ComputeSharedSecret(ByteVec(32, std::byte{0})).status().code(), StatusCode::kInvalidArgument);
}

// The implementation relies on OpenSSL's named groups; pin them to the RFC 3526 primes.
TEST(KeyExchangeTest, OpenSslModpGroupsAreRfc3526Primes) {
  struct Case {
    const char* name;
    const char* prime;
  } cases[] = {
      {"modp_2048",  // RFC 3526 §3
       "FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74 020BBEA6 3B139B22 514A0879 8E3404DD"
       "EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED"
       "EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F"
       "83655D23 DCA3AD96 1C62F356 208552BB 9ED52907 7096966D 670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B"
       "E39E772C 180E8603 9B2783A2 EC07A28F B5C55DF0 6F4C52C9 DE2BCBF6 95581718 3995497C EA956AE5 15D22618 98FA0510"
       "15728E5A 8AACAA68 FFFFFFFF FFFFFFFF"},
      {"modp_3072",  // RFC 3526 §4
       "FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74 020BBEA6 3B139B22 514A0879 8E3404DD"
       "EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED"
       "EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F"
       "83655D23 DCA3AD96 1C62F356 208552BB 9ED52907 7096966D 670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B"
       "E39E772C 180E8603 9B2783A2 EC07A28F B5C55DF0 6F4C52C9 DE2BCBF6 95581718 3995497C EA956AE5 15D22618 98FA0510"
       "15728E5A 8AAAC42D AD33170D 04507A33 A85521AB DF1CBA64 ECFB8504 58DBEF0A 8AEA7157 5D060C7D B3970F85 A6E1E4C7"
       "ABF5AE8C DB0933D7 1E8C94E0 4A25619D CEE3D226 1AD2EE6B F12FFA06 D98A0864 D8760273 3EC86A64 521F2B18 177B200C"
       "BBE11757 7A615D6C 770988C0 BAD946E2 08E24FA0 74E5AB31 43DB5BFC E0FD108E 4B82D120 A93AD2CA FFFFFFFF FFFFFFFF"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr);
    ASSERT_NE(ctx, nullptr);
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(c.name), 0),
                           OSSL_PARAM_construct_end()};
    EVP_PKEY* pkey = nullptr;
    ASSERT_EQ(EVP_PKEY_fromdata_init(ctx), 1);
    ASSERT_EQ(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEY_PARAMETERS, params), 1);
    BIGNUM* p = nullptr;
    ASSERT_EQ(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_FFC_P, &p), 1);
    const ByteVec expected = Hex(c.prime);
    ByteVec got(expected.size());
    EXPECT_EQ(BN_bn2binpad(p, reinterpret_cast<unsigned char*>(got.data()), static_cast<int>(got.size())),
              static_cast<int>(got.size()));
    EXPECT_EQ(got, expected);
    BN_free(p);
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
  }
}

TEST(KeyExchangeTest, RejectsUnsupportedGroups) {
  EXPECT_FALSE(IsSupportedKeyExchange(DhGroup::kModp1024));
  EXPECT_TRUE(IsSupportedKeyExchange(DhGroup::kCurve25519));
  EXPECT_EQ(CreateKeyExchange(DhGroup::kModp1024).status().code(), StatusCode::kUnimplemented);
  EXPECT_EQ(CreateKeyExchange(DhGroup::kCurve448).status().code(), StatusCode::kUnimplemented);
  EXPECT_EQ(CreateKeyExchangeForTest(DhGroup::kCurve25519, ByteVec(31)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateKeyExchangeForTest(DhGroup::kEcp256, ByteVec(32)).status().code(), StatusCode::kInvalidArgument);
}

TEST(KeyExchangeTest, ModpImportedKeyAgreesWithGeneratedKey) {
  ByteVec priv(32, std::byte{0x5a});
  auto a = CreateKeyExchangeForTest(DhGroup::kModp3072, priv);
  auto b = CreateKeyExchange(DhGroup::kModp3072);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok());
  auto k1 = (*a)->ComputeSharedSecret((*b)->public_value());
  auto k2 = (*b)->ComputeSharedSecret((*a)->public_value());
  ASSERT_TRUE(k1.ok()) << k1.status().ToString();
  ASSERT_TRUE(k2.ok());
  EXPECT_EQ(Secret(k1), Secret(k2));
}

}  // namespace
}  // namespace ipsec::ike
