// Proposal strings (host/ike/config/proposals.h): every keyword, the defaults, numbering, and the
// refusals. Every accepted list must also pass the encoder's own SaPayload::Verify().
#include "host/ike/config/proposals.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ipsec::ike::config {
namespace {

std::vector<Proposal> MustParse(std::string_view list, ProtocolId p) {
  auto r = ParseProposals(list, p);
  EXPECT_TRUE(r.ok()) << list << ": " << r.status().message();
  if (!r.ok()) return {};
  // What the daemon will do before sending: SPIs for AH/ESP. Then the wire rules must hold.
  SaPayload sa;
  sa.proposals = *r;
  for (Proposal& pr : sa.proposals) {
    if (p != ProtocolId::kIke) pr.spi.assign(4, std::byte{0x11});
  }
  const Status v = sa.Verify(SaContext::kOffer);
  EXPECT_TRUE(v.ok()) << list << ": " << v.message();
  return *r;
}

std::string Error(std::string_view list, ProtocolId p) {
  auto r = ParseProposals(list, p);
  EXPECT_FALSE(r.ok()) << list;
  return r.ok() ? "" : r.status().message();
}

Transform Gcm(uint16_t bits) { return Transform::Encr(EncrId::kAesGcm16, bits); }
Transform Cbc(uint16_t bits) { return Transform::Encr(EncrId::kAesCbc, bits); }

TEST(ProposalsTest, InteropIkeProposal) {
  const auto p = MustParse("aes256gcm16-prfsha256-x25519", ProtocolId::kIke);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].number, 1);
  EXPECT_EQ(p[0].protocol, ProtocolId::kIke);
  EXPECT_TRUE(p[0].spi.empty());
  EXPECT_EQ(p[0].transforms, (std::vector<Transform>{Gcm(256), Transform::Prf(PrfId::kHmacSha2_256),
                                                     Transform::Dh(DhGroup::kCurve25519)}));
  EXPECT_EQ(DescribeProposal(p[0]), "aes256gcm16-prfsha256-x25519");
}

TEST(ProposalsTest, EveryIkeKeyword) {
  struct Case {
    const char* list;
    std::vector<Transform> transforms;
  } cases[] = {
      {"aes128gcm16-prfsha256-ecp256", {Gcm(128), Transform::Prf(PrfId::kHmacSha2_256), Transform::Dh(DhGroup::kEcp256)}},
      {"aes128gcm-prfsha384-ecp384", {Gcm(128), Transform::Prf(PrfId::kHmacSha2_384), Transform::Dh(DhGroup::kEcp384)}},
      {"aes256gcm-prfsha512-modp2048", {Gcm(256), Transform::Prf(PrfId::kHmacSha2_512), Transform::Dh(DhGroup::kModp2048)}},
      {"aes128gcm128-prfsha256-modp3072", {Gcm(128), Transform::Prf(PrfId::kHmacSha2_256), Transform::Dh(DhGroup::kModp3072)}},
      {"aes256gcm128-prfsha256-curve25519", {Gcm(256), Transform::Prf(PrfId::kHmacSha2_256), Transform::Dh(DhGroup::kCurve25519)}},
      // Integrity adds its PRF when none is given.
      {"aes128-sha256-modp2048",
       {Cbc(128), Transform::Integ(IntegId::kHmacSha2_256_128), Transform::Prf(PrfId::kHmacSha2_256),
        Transform::Dh(DhGroup::kModp2048)}},
      {"aes256-sha384-ecp384",
       {Cbc(256), Transform::Integ(IntegId::kHmacSha2_384_192), Transform::Prf(PrfId::kHmacSha2_384),
        Transform::Dh(DhGroup::kEcp384)}},
      {"aes-sha512-x25519",
       {Cbc(128), Transform::Integ(IntegId::kHmacSha2_512_256), Transform::Prf(PrfId::kHmacSha2_512),
        Transform::Dh(DhGroup::kCurve25519)}},
      {"aes128-sha2_256-sha2_384-sha2_512-ecp256",
       {Cbc(128), Transform::Integ(IntegId::kHmacSha2_256_128), Transform::Integ(IntegId::kHmacSha2_384_192),
        Transform::Integ(IntegId::kHmacSha2_512_256), Transform::Prf(PrfId::kHmacSha2_256),
        Transform::Prf(PrfId::kHmacSha2_384), Transform::Prf(PrfId::kHmacSha2_512), Transform::Dh(DhGroup::kEcp256)}},
      // An explicit PRF replaces the derived ones; order is encr, integ, prf, ke whatever the input order.
      {"x25519-prfsha512-sha256-aes256-aes128",
       {Cbc(256), Cbc(128), Transform::Integ(IntegId::kHmacSha2_256_128), Transform::Prf(PrfId::kHmacSha2_512),
        Transform::Dh(DhGroup::kCurve25519)}},
      // Keywords are case-insensitive; duplicates collapse.
      {"AES256GCM16-PrfSha256-X25519-x25519", {Gcm(256), Transform::Prf(PrfId::kHmacSha2_256), Transform::Dh(DhGroup::kCurve25519)}},
  };
  for (const Case& c : cases) {
    const auto p = MustParse(c.list, ProtocolId::kIke);
    ASSERT_EQ(p.size(), 1u) << c.list;
    EXPECT_EQ(p[0].transforms, c.transforms) << c.list;
    // The description parses back to the same proposal.
    const auto again = MustParse(DescribeProposal(p[0]), ProtocolId::kIke);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0], p[0]) << DescribeProposal(p[0]);
  }
}

TEST(ProposalsTest, EveryEspKeyword) {
  const Transform noesn = Transform::Esn(EsnId::kNoEsn);
  const Transform esn = Transform::Esn(EsnId::kEsn);
  const Transform sha256 = Transform::Integ(IntegId::kHmacSha2_256_128);
  struct Case {
    const char* list;
    std::vector<Transform> transforms;
    const char* described;
  } cases[] = {
      {"aes256gcm16", {Gcm(256), noesn}, "aes256gcm16-noesn"},
      {"aes128gcm16-esn", {Gcm(128), esn}, "aes128gcm16-esn"},
      {"aes256gcm16-esn-noesn", {Gcm(256), esn, noesn}, "aes256gcm16-esn-noesn"},
      {"aes128gcm16-noesn-esn", {Gcm(128), noesn, esn}, "aes128gcm16-noesn-esn"},
      {"chacha20poly1305", {Transform::Encr(EncrId::kChaCha20Poly1305), noesn}, "chacha20poly1305-noesn"},
      {"aes128gmac", {Transform::Encr(EncrId::kNullAuthAesGmac, 128), noesn}, "aes128gmac-noesn"},
      {"aes256gmac", {Transform::Encr(EncrId::kNullAuthAesGmac, 256), noesn}, "aes256gmac-noesn"},
      {"aes128-sha256", {Cbc(128), sha256, noesn}, "aes128-sha256-noesn"},
      {"aes256-sha256-esn", {Cbc(256), sha256, esn}, "aes256-sha256-esn"},
      {"null-sha256", {Transform::Encr(EncrId::kNull), sha256, noesn}, "null-sha256-noesn"},
      {"aes256gcm16-x25519", {Gcm(256), Transform::Dh(DhGroup::kCurve25519), noesn}, "aes256gcm16-x25519-noesn"},
      {"aes128-sha256-modp2048-modp3072-ecp256-ecp384",
       {Cbc(128), sha256, Transform::Dh(DhGroup::kModp2048), Transform::Dh(DhGroup::kModp3072),
        Transform::Dh(DhGroup::kEcp256), Transform::Dh(DhGroup::kEcp384), noesn},
       "aes128-sha256-modp2048-modp3072-ecp256-ecp384-noesn"},
  };
  for (const Case& c : cases) {
    const auto p = MustParse(c.list, ProtocolId::kEsp);
    ASSERT_EQ(p.size(), 1u) << c.list;
    EXPECT_EQ(p[0].protocol, ProtocolId::kEsp);
    EXPECT_EQ(p[0].transforms, c.transforms) << c.list;
    EXPECT_EQ(DescribeProposal(p[0]), c.described);
  }
}

TEST(ProposalsTest, EveryAhKeyword) {
  const Transform noesn = Transform::Esn(EsnId::kNoEsn);
  struct Case {
    const char* list;
    std::vector<Transform> transforms;
  } cases[] = {
      {"sha256", {Transform::Integ(IntegId::kHmacSha2_256_128), noesn}},
      {"aes128gmac", {Transform::Integ(IntegId::kAes128Gmac), noesn}},
      {"aes256gmac-esn", {Transform::Integ(IntegId::kAes256Gmac), Transform::Esn(EsnId::kEsn)}},
      {"sha256-ecp256", {Transform::Integ(IntegId::kHmacSha2_256_128), Transform::Dh(DhGroup::kEcp256), noesn}},
  };
  for (const Case& c : cases) {
    const auto p = MustParse(c.list, ProtocolId::kAh);
    ASSERT_EQ(p.size(), 1u) << c.list;
    EXPECT_EQ(p[0].protocol, ProtocolId::kAh);
    EXPECT_EQ(p[0].transforms, c.transforms) << c.list;
    EXPECT_EQ(MustParse(DescribeProposal(p[0]), ProtocolId::kAh)[0], p[0]);
  }
}

TEST(ProposalsTest, ListsAreNumberedInOrder) {
  const auto p = MustParse(" aes256gcm16 , aes128gcm16,aes128-sha256 ", ProtocolId::kEsp);
  ASSERT_EQ(p.size(), 3u);
  for (size_t i = 0; i < p.size(); ++i) EXPECT_EQ(p[i].number, i + 1);
  EXPECT_EQ(p[1].transforms[0], Gcm(128));
  EXPECT_EQ(p[2].transforms[0], Cbc(128));
}

TEST(ProposalsTest, DefaultsAreStrongSwanLike) {
  auto describe = [](const std::vector<Proposal>& ps) {
    std::vector<std::string> out;
    for (const Proposal& p : ps) out.push_back(DescribeProposal(p));
    return out;
  };
  EXPECT_EQ(describe(DefaultProposals(ProtocolId::kIke)),
            (std::vector<std::string>{
                "aes128-aes256-sha256-sha384-sha512-prfsha256-prfsha384-prfsha512-ecp256-ecp384-x25519-modp3072-modp2048",
                "aes128gcm16-aes256gcm16-prfsha256-prfsha384-prfsha512-ecp256-ecp384-x25519-modp3072-modp2048"}));
  EXPECT_EQ(describe(DefaultProposals(ProtocolId::kEsp)),
            (std::vector<std::string>{"aes128gcm16-aes256gcm16-chacha20poly1305-noesn", "aes128-aes256-sha256-noesn"}));
  EXPECT_EQ(describe(DefaultProposals(ProtocolId::kAh)), (std::vector<std::string>{"sha256-noesn"}));
  EXPECT_EQ(DefaultProposals(ProtocolId::kEsp)[1].number, 2);

  // `default` expands in place and numbering continues.
  const auto p = MustParse("aes256gcm16-prfsha256-x25519, default", ProtocolId::kIke);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[2].number, 3);
  EXPECT_EQ(DescribeProposal(p[0]), "aes256gcm16-prfsha256-x25519");
  MustParse("default", ProtocolId::kEsp);
  MustParse("DEFAULT", ProtocolId::kAh);
}

TEST(ProposalsTest, RefusalsArePrecise) {
  struct Case {
    const char* list;
    ProtocolId protocol;
    const char* message;
  } cases[] = {
      {"aes257gcm16", ProtocolId::kEsp, "unknown algorithm 'aes257gcm16'"},
      {"aes256gcm16-prfsha256-x22519", ProtocolId::kIke, "unknown algorithm 'x22519'"},
      {"aes192-sha256-x25519", ProtocolId::kIke,
       "algorithm 'aes192' is not supported in IKE proposals (supported encryption: aes128, aes256, aes128gcm16, "
       "aes256gcm16)"},
      {"chacha20poly1305-prfsha256-x25519", ProtocolId::kIke,
       "algorithm 'chacha20poly1305' is not supported in IKE proposals (supported encryption: aes128, aes256, "
       "aes128gcm16, aes256gcm16)"},
      {"aes128gcm8", ProtocolId::kEsp,
       "algorithm 'aes128gcm8' is not supported in ESP proposals (supported encryption: aes128, aes256, aes128gcm16, "
       "aes256gcm16, chacha20poly1305, aes128gmac, aes256gmac, null)"},
      {"aes128-sha1", ProtocolId::kEsp,
       "algorithm 'sha1' is not supported in ESP proposals (supported integrity: sha256)"},
      {"aes128-sha384", ProtocolId::kEsp,
       "algorithm 'sha384' is not supported in ESP proposals (supported integrity: sha256)"},
      {"aes128-sha256-modp1024", ProtocolId::kIke,
       "algorithm 'modp1024' is not supported in IKE proposals (supported key exchange: modp2048, modp3072, ecp256, "
       "ecp384, x25519)"},
      {"aes128-prfsha1-sha256-x25519", ProtocolId::kIke,
       "algorithm 'prfsha1' is not supported in IKE proposals (supported PRF: prfsha256, prfsha384, prfsha512)"},
      {"aes256gcm16-prfsha256", ProtocolId::kEsp, "PRF algorithm 'prfsha256' is not allowed in ESP proposals"},
      {"aes256gcm16-prfsha256-x25519-esn", ProtocolId::kIke, "ESN algorithm 'esn' is not allowed in IKE proposals"},
      {"aes128-sha256", ProtocolId::kAh, "encryption algorithm 'aes128' is not allowed in AH proposals"},
      {"aes256gcm16-sha256-prfsha256-x25519", ProtocolId::kIke,
       "IKE proposal 'aes256gcm16-sha256-prfsha256-x25519': AEAD cipher 'aes256gcm16' takes no integrity algorithm "
       "('sha256')"},
      {"aes128gcm16-sha256", ProtocolId::kEsp,
       "ESP proposal 'aes128gcm16-sha256': AEAD cipher 'aes128gcm16' takes no integrity algorithm ('sha256')"},
      {"aes128gcm16-aes128-sha256", ProtocolId::kEsp,
       "ESP proposal 'aes128gcm16-aes128-sha256': AEAD cipher 'aes128gcm16' and non-AEAD cipher 'aes128' cannot be "
       "mixed in one proposal"},
      {"sha256-x25519", ProtocolId::kIke, "IKE proposal 'sha256-x25519': no encryption algorithm"},
      {"sha256", ProtocolId::kEsp, "ESP proposal 'sha256': no encryption algorithm (use 'null' for none)"},
      {"aes128-x25519", ProtocolId::kIke, "IKE proposal 'aes128-x25519': non-AEAD cipher 'aes128' needs an integrity algorithm"},
      {"null", ProtocolId::kEsp, "ESP proposal 'null': non-AEAD cipher 'null' needs an integrity algorithm"},
      {"aes256gcm16-x25519", ProtocolId::kIke, "IKE proposal 'aes256gcm16-x25519': no PRF (add e.g. prfsha256)"},
      {"aes256gcm16-prfsha256", ProtocolId::kIke,
       "IKE proposal 'aes256gcm16-prfsha256': no key exchange method (add e.g. x25519)"},
      {"esn", ProtocolId::kAh, "AH proposal 'esn': no integrity algorithm"},
      {"aes128--sha256", ProtocolId::kEsp, "ESP proposal 'aes128--sha256': empty algorithm name"},
      {"aes128-sha256-", ProtocolId::kEsp, "ESP proposal 'aes128-sha256-': empty algorithm name"},
      {"aes128gcm16,,aes256gcm16", ProtocolId::kEsp, "empty proposal in the list"},
      {"aes128gcm16,", ProtocolId::kEsp, "empty proposal in the list"},
      {"  ", ProtocolId::kEsp, "empty proposal list"},
  };
  for (const Case& c : cases) EXPECT_EQ(Error(c.list, c.protocol), c.message) << c.list;
}

TEST(ProposalsTest, ListLengthIsBounded) {
  std::string list = "aes128gcm16";
  for (size_t i = 1; i < kMaxProposals; ++i) list += ",aes128gcm16";
  EXPECT_EQ(MustParse(list, ProtocolId::kEsp).size(), kMaxProposals);
  EXPECT_EQ(Error(list + ",aes128gcm16", ProtocolId::kEsp), "more than 32 proposals");
}

}  // namespace
}  // namespace ipsec::ike::config
