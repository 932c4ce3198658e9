// Proposal selection (RFC 7296 §2.7, §3.3.6) and mapping to crypto/data-plane algorithms.
#include "host/ike/sa/proposal.h"

#include <gtest/gtest.h>

namespace ipsec::ike {
namespace {

Proposal P(ProtocolId proto, std::vector<Transform> t, uint8_t n = 1) { return Proposal{n, proto, {}, std::move(t)}; }

TEST(ProposalTest, OursInOrderAndOneTransformPerType) {
  Proposal ours = P(ProtocolId::kIke, {Transform::Encr(EncrId::kAesGcm16, 256), Transform::Encr(EncrId::kAesGcm16, 128),
                                       Transform::Prf(PrfId::kHmacSha2_512), Transform::Prf(PrfId::kHmacSha2_256),
                                       Transform::Dh(DhGroup::kEcp256), Transform::Dh(DhGroup::kCurve25519)});
  Proposal theirs = P(ProtocolId::kIke, {Transform::Encr(EncrId::kAesGcm16, 128), Transform::Encr(EncrId::kAesGcm16, 256),
                                         Transform::Prf(PrfId::kHmacSha2_256), Transform::Dh(DhGroup::kCurve25519),
                                         Transform::Dh(DhGroup::kEcp256)},
                      3);
  auto s = SelectProposal({&ours, 1}, {&theirs, 1});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->number, 3);
  EXPECT_EQ(DescribeProposal(*s), "AES_GCM_16_256/PRF_HMAC_SHA2_256/ECP_256");
  auto k = SelectProposal({&ours, 1}, {&theirs, 1}, DhGroup::kCurve25519);
  ASSERT_TRUE(k);
  EXPECT_EQ(ProposalDhGroup(*k), DhGroup::kCurve25519);
  EXPECT_TRUE(CheckAcceptedProposal({&theirs, 1}, *s).ok());
}

TEST(ProposalTest, KeyLengthMustMatch) {
  Proposal ours = P(ProtocolId::kEsp, {Transform::Encr(EncrId::kAesGcm16, 256), Transform::Esn(EsnId::kNoEsn)});
  Proposal theirs = P(ProtocolId::kEsp, {Transform::Encr(EncrId::kAesGcm16, 128), Transform::Esn(EsnId::kNoEsn)});
  EXPECT_FALSE(SelectProposal({&ours, 1}, {&theirs, 1}));
}

TEST(ProposalTest, PfsMismatchAndIntegNoneEquivalence) {
  Proposal ours = P(ProtocolId::kEsp, {Transform::Encr(EncrId::kAesGcm16, 128), Transform::Esn(EsnId::kNoEsn)});
  Proposal with_dh = P(ProtocolId::kEsp, {Transform::Encr(EncrId::kAesGcm16, 128), Transform::Dh(DhGroup::kEcp256),
                                          Transform::Esn(EsnId::kNoEsn)});
  EXPECT_FALSE(SelectProposal({&ours, 1}, {&with_dh, 1}));
  Proposal integ_none = P(ProtocolId::kEsp, {Transform::Encr(EncrId::kAesGcm16, 128), Transform::Integ(IntegId::kNone),
                                             Transform::Esn(EsnId::kNoEsn)});
  EXPECT_TRUE(SelectProposal({&ours, 1}, {&integ_none, 1}));
}

TEST(ProposalTest, AcceptedMustBeOffered) {
  Proposal offered = P(ProtocolId::kEsp, {Transform::Encr(EncrId::kAesGcm16, 128), Transform::Esn(EsnId::kNoEsn)});
  Proposal other = P(ProtocolId::kEsp, {Transform::Encr(EncrId::kAesGcm16, 256), Transform::Esn(EsnId::kNoEsn)});
  EXPECT_FALSE(CheckAcceptedProposal({&offered, 1}, other).ok());
  other.number = 2;
  EXPECT_FALSE(CheckAcceptedProposal({&offered, 1}, offered.number == 1 ? other : offered).ok());
  Proposal two = P(ProtocolId::kEsp, {Transform::Encr(EncrId::kAesGcm16, 128), Transform::Encr(EncrId::kAesGcm16, 128),
                                      Transform::Esn(EsnId::kNoEsn)});
  EXPECT_FALSE(CheckAcceptedProposal({&offered, 1}, two).ok());
}

TEST(ProposalTest, ChildAlgorithms) {
  auto gcm = ToChildAlgorithms(P(ProtocolId::kEsp, {Transform::Encr(EncrId::kAesGcm16, 256), Transform::Esn(EsnId::kEsn)}));
  ASSERT_TRUE(gcm.ok());
  EXPECT_EQ(gcm->suite, sa::Suite::kAesGcm256);
  EXPECT_TRUE(gcm->esn);
  auto cbc = ToChildAlgorithms(P(ProtocolId::kEsp, {Transform::Encr(EncrId::kAesCbc, 128),
                                                    Transform::Integ(IntegId::kHmacSha2_256_128),
                                                    Transform::Dh(DhGroup::kModp2048), Transform::Esn(EsnId::kNoEsn)}));
  ASSERT_TRUE(cbc.ok());
  EXPECT_EQ(cbc->suite, sa::Suite::kAesCbc128HmacSha256);
  EXPECT_EQ(cbc->pfs, DhGroup::kModp2048);
  EXPECT_FALSE(ToChildAlgorithms(P(ProtocolId::kEsp, {Transform::Encr(EncrId::kAesCbc, 128),
                                                      Transform::Integ(IntegId::kHmacSha1_96),
                                                      Transform::Esn(EsnId::kNoEsn)}))
                   .ok());
  auto ike = ToIkeAlgorithms(P(ProtocolId::kIke, {Transform::Encr(EncrId::kAesCbc, 256),
                                                  Transform::Integ(IntegId::kHmacSha2_256_128),
                                                  Transform::Prf(PrfId::kHmacSha2_384), Transform::Dh(DhGroup::kEcp384)}));
  ASSERT_TRUE(ike.ok());
  EXPECT_EQ(ike->dh, DhGroup::kEcp384);
  EXPECT_EQ(ike->transforms.prf, PrfId::kHmacSha2_384);
}

}  // namespace
}  // namespace ipsec::ike
