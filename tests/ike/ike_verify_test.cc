// Semantic rules enforced by the payloads' Verify() (RFC 7296 §3.3-§3.16, RFC 7383, RFC 7427).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "host/ike/encoding/message.h"
#include "tests/ike/ike_test_util.h"

namespace ipsec::ike {
namespace {

using testing::B;
using testing::Pattern;

Proposal IkeProposal(uint8_t number) {
  return Proposal{number, ProtocolId::kIke, {},
                  {Transform::Encr(EncrId::kAesCbc, 128), Transform::Prf(PrfId::kHmacSha2_256),
                   Transform::Integ(IntegId::kHmacSha2_256_128), Transform::Dh(DhGroup::kModp2048)}};
}

Proposal EspProposal(uint8_t number) {
  return Proposal{number, ProtocolId::kEsp, B({1, 2, 3, 4}),
                  {Transform::Encr(EncrId::kAesGcm16, 256), Transform::Esn(EsnId::kNoEsn)}};
}

void ExpectVerifyError(const Status& s, const std::string& part) {
  ASSERT_FALSE(s.ok()) << "expected an error containing: " << part;
  EXPECT_NE(s.message().find(part), std::string::npos) << s.message();
}

class IkeVerifyTest : public ::testing::Test {};

TEST_F(IkeVerifyTest, AcceptsWellFormedOffer) {
  SaPayload sa{{IkeProposal(1), IkeProposal(2)}};
  EXPECT_TRUE(sa.Verify().ok()) << sa.Verify().ToString();
  SaPayload esp{{EspProposal(1)}};
  EXPECT_TRUE(esp.Verify().ok()) << esp.Verify().ToString();
}

TEST_F(IkeVerifyTest, RequiresProposalNumbersStartingAtOneAndIncreasing) {
  ExpectVerifyError(SaPayload{{IkeProposal(2)}}.Verify(), "proposal #1 has number 2");
  ExpectVerifyError(SaPayload{{IkeProposal(1), IkeProposal(3)}}.Verify(), "proposal #2 has number 3");
  ExpectVerifyError(SaPayload{{IkeProposal(1), IkeProposal(1)}}.Verify(), "proposal #2 has number 1");
  ExpectVerifyError(SaPayload{}.Verify(), "no proposals");
}

TEST_F(IkeVerifyTest, AcceptedSaCarriesOneProposalWithOneTransformPerType) {
  EXPECT_TRUE(SaPayload{{IkeProposal(3)}}.Verify(SaContext::kAccepted).ok());
  ExpectVerifyError(SaPayload{{IkeProposal(1), IkeProposal(2)}}.Verify(SaContext::kAccepted), "must be 1");
  Proposal p = IkeProposal(1);
  p.transforms.push_back(Transform::Dh(DhGroup::kEcp256));
  ExpectVerifyError(SaPayload{{p}}.Verify(SaContext::kAccepted), "must choose one");
}

TEST_F(IkeVerifyTest, RejectsTransformTypesNotAllowedForProtocol) {
  Proposal esp = EspProposal(1);
  esp.transforms.push_back(Transform::Prf(PrfId::kHmacSha2_256));
  ExpectVerifyError(SaPayload{{esp}}.Verify(), "transform type 2 (PRF) not allowed for ESP");
  Proposal ike = IkeProposal(1);
  ike.transforms.push_back(Transform::Esn(EsnId::kNoEsn));
  ExpectVerifyError(SaPayload{{ike}}.Verify(), "(ESN) not allowed for IKE");
  Proposal ah{1, ProtocolId::kAh, B({0, 0, 0, 9}),
              {Transform::Integ(IntegId::kHmacSha2_256_128), Transform::Esn(EsnId::kEsn),
               Transform::Encr(EncrId::kAesCbc, 128)}};
  ExpectVerifyError(SaPayload{{ah}}.Verify(), "(ENCR) not allowed for AH");
  Proposal unknown = IkeProposal(1);
  unknown.transforms.push_back(Transform{static_cast<TransformType>(99), 1, {}});
  ExpectVerifyError(SaPayload{{unknown}}.Verify(), "transform type 99");
}

TEST_F(IkeVerifyTest, RequiresMandatoryTransformTypes) {
  Proposal ike = IkeProposal(1);
  ike.transforms.erase(ike.transforms.begin() + 1);  // drop PRF
  ExpectVerifyError(SaPayload{{ike}}.Verify(), "lacks a PRF transform");
  Proposal no_integ = IkeProposal(1);
  no_integ.transforms.erase(no_integ.transforms.begin() + 2);  // non-AEAD without INTEG
  ExpectVerifyError(SaPayload{{no_integ}}.Verify(), "lacks a INTEG transform");
  Proposal esp = EspProposal(1);
  esp.transforms.pop_back();  // drop ESN
  ExpectVerifyError(SaPayload{{esp}}.Verify(), "lacks a ESN transform");
}

TEST_F(IkeVerifyTest, EnforcesAeadRules) {
  Proposal mixed = IkeProposal(1);
  mixed.transforms.push_back(Transform::Encr(EncrId::kAesGcm16, 128));
  ExpectVerifyError(SaPayload{{mixed}}.Verify(), "mixes AEAD and non-AEAD");
  Proposal aead_integ = EspProposal(1);
  aead_integ.transforms.push_back(Transform::Integ(IntegId::kHmacSha2_256_128));
  ExpectVerifyError(SaPayload{{aead_integ}}.Verify(), "AEAD cipher proposed with an integrity algorithm");
}

TEST_F(IkeVerifyTest, EnforcesKeyLengthAttributeRules) {
  Proposal missing = EspProposal(1);
  missing.transforms[0] = Transform::Encr(EncrId::kAesGcm16);
  ExpectVerifyError(SaPayload{{missing}}.Verify(), "requires a Key Length attribute");
  Proposal bad = EspProposal(1);
  bad.transforms[0] = Transform::Encr(EncrId::kAesCbc, 100);
  ExpectVerifyError(SaPayload{{bad}}.Verify(), "Key Length 100");
  Proposal chacha = EspProposal(1);
  chacha.transforms[0] = Transform::Encr(EncrId::kChaCha20Poly1305, 256);
  ExpectVerifyError(SaPayload{{chacha}}.Verify(), "must not carry a Key Length");
  Proposal on_prf = IkeProposal(1);
  on_prf.transforms[1].attributes.push_back(TransformAttribute::KeyLength(128));
  ExpectVerifyError(SaPayload{{on_prf}}.Verify(), "Key Length attribute on a non-ENCR transform");
  Proposal tlv = EspProposal(1);
  tlv.transforms[0].attributes[0].tv = false;
  ExpectVerifyError(SaPayload{{tlv}}.Verify(), "must use the TV format");
}

TEST_F(IkeVerifyTest, ChecksSpiSizes) {
  Proposal esp = EspProposal(1);
  esp.spi = B({1, 2, 3});
  ExpectVerifyError(SaPayload{{esp}}.Verify(), "ESP SPI size 3 (must be 4)");
  Proposal ike = IkeProposal(1);
  ike.spi = B({1, 2, 3, 4});
  ExpectVerifyError(SaPayload{{ike}}.Verify(), "IKE SPI size 4 (must be 0 or 8)");
  ike.spi = B(Pattern(8, 1));
  EXPECT_TRUE(SaPayload{{ike}}.Verify().ok());  // IKE SA rekey (§1.3.2)
}

TEST_F(IkeVerifyTest, ChecksTrafficSelectorRanges) {
  TsPayload ts{PayloadType::kTsInitiator, {TrafficSelector::Ipv4Range({10, 0, 0, 9}, {10, 0, 0, 1})}};
  ExpectVerifyError(ts.Verify(), "start address > end address");
  ts.selectors[0] = TrafficSelector::Ipv4Range({10, 0, 0, 1}, {10, 0, 0, 9}, 17, 500, 499);
  ExpectVerifyError(ts.Verify(), "start port 500 > end port 499");
  ts.selectors[0] = TrafficSelector::Ipv4Range({10, 0, 0, 1}, {10, 0, 0, 9}, 17, 65535, 0);
  EXPECT_TRUE(ts.Verify().ok());  // OPAQUE ports (§3.13.1)
  ts.selectors.clear();
  ExpectVerifyError(ts.Verify(), "no traffic selectors");
}

TEST_F(IkeVerifyTest, ChecksIdentificationData) {
  ExpectVerifyError(IdPayload{PayloadType::kIdInitiator, IdType::kFqdn, {}}.Verify(), "empty identification data");
  ExpectVerifyError(IdPayload{PayloadType::kIdInitiator, IdType::kIpv4Addr, B({1, 2, 3})}.Verify(), "ID_IPV4_ADDR");
  ExpectVerifyError(IdPayload{PayloadType::kIdResponder, IdType::kFqdn, B({'a', 0, 'b'})}.Verify(), "terminator");
  ExpectVerifyError(IdPayload{PayloadType::kIdResponder, static_cast<IdType>(77), B({1})}.Verify(),
                    "unknown ID type 77");
  EXPECT_TRUE((IdPayload{PayloadType::kIdResponder, IdType::kKeyId, B({1})}.Verify().ok()));
}

TEST_F(IkeVerifyTest, ChecksNotifyDataPerType) {
  ExpectVerifyError(NotifyPayload::Make(NotifyType::kNatDetectionSourceIp, B(Pattern(19, 0))).Verify(),
                    "must be 20");
  ExpectVerifyError(NotifyPayload::Make(NotifyType::kCookie, B(Pattern(65, 0))).Verify(), "cookie of 65 bytes");
  ExpectVerifyError(NotifyPayload::Make(NotifyType::kCookie).Verify(), "cookie of 0 bytes");
  ExpectVerifyError(NotifyPayload::Make(NotifyType::kInvalidKePayload, B({0})).Verify(), "must be 2");
  ExpectVerifyError(NotifyPayload::Make(NotifyType::kSignatureHashAlgorithms, B({0, 2, 0})).Verify(),
                    "hash algorithm list of 3 bytes");
  ExpectVerifyError(NotifyPayload::Make(NotifyType::kIkev2FragmentationSupported, B({1})).Verify(), "must be 0");
  ExpectVerifyError(NotifyPayload::Make(NotifyType::kRekeySa).Verify(), "AH/ESP SA with a 4-byte SPI");
  ExpectVerifyError(NotifyPayload{ProtocolId::kIke, NotifyType::kInitialContact, B(Pattern(8, 1)), {}}.Verify(),
                    "IKE SA notification with an SPI");
  ExpectVerifyError(NotifyPayload{ProtocolId::kNone, NotifyType::kInitialContact, B({1, 2, 3, 4}), {}}.Verify(),
                    "SPI present with protocol ID 0");
  EXPECT_TRUE(NotifyPayload::Make(NotifyType::kUseTransportMode).Verify().ok());
  EXPECT_TRUE(NotifyPayload::Make(NotifyType::kNoProposalChosen).Verify().ok());
  EXPECT_TRUE(NotifyPayload::Make(NotifyType::kTsUnacceptable).Verify().ok());
  EXPECT_TRUE(NotifyPayload::Make(NotifyType::kAuthenticationFailed).Verify().ok());
  EXPECT_TRUE(IsErrorNotify(NotifyType::kInvalidSyntax));
  EXPECT_FALSE(IsErrorNotify(NotifyType::kCookie));
}

TEST_F(IkeVerifyTest, ChecksKeyExchangeDataSize) {
  EXPECT_TRUE((KePayload{DhGroup::kCurve25519, B(Pattern(32, 0))}.Verify().ok()));
  ExpectVerifyError(KePayload{DhGroup::kEcp256, B(Pattern(65, 0))}.Verify(), "needs 64 bytes");
  ExpectVerifyError(KePayload{DhGroup::kModp2048, B(Pattern(255, 0))}.Verify(), "needs 256 bytes");
  ExpectVerifyError(KePayload{DhGroup::kNone, B(Pattern(4, 0))}.Verify(), "DH group 0");
}

TEST_F(IkeVerifyTest, ChecksDeleteSpis) {
  EXPECT_TRUE(DeletePayload::IkeSa().Verify().ok());
  const uint32_t spi[] = {7};
  EXPECT_TRUE(DeletePayload::ChildSas(ProtocolId::kAh, spi).Verify().ok());
  ExpectVerifyError(DeletePayload::ChildSas(ProtocolId::kEsp, {}).Verify(), "lists no SPIs");
  ExpectVerifyError(DeletePayload::ChildSas(ProtocolId::kIke, spi).Verify(), "takes no SPIs");
}

TEST_F(IkeVerifyTest, ChecksEncryptedFragmentNumbering) {
  ExpectVerifyError(EncryptedFragmentPayload{PayloadType::kNone, 0, 2, B({1})}.Verify(), "Fragment Number 0");
  ExpectVerifyError(EncryptedFragmentPayload{PayloadType::kNone, 3, 2, B({1})}.Verify(), "> Total Fragments");
  ExpectVerifyError(EncryptedFragmentPayload{PayloadType::kIdInitiator, 2, 2, B({1})}.Verify(),
                    "must be 0 after the first fragment");
  EXPECT_TRUE((EncryptedFragmentPayload{PayloadType::kIdInitiator, 1, 2, B({1})}.Verify().ok()));
}

TEST_F(IkeVerifyTest, ChecksAuthData) {
  ExpectVerifyError(AuthPayload{AuthMethod::kSharedKeyMic, {}}.Verify(), "empty authentication data");
  ExpectVerifyError(AuthPayload{AuthMethod::kEcdsaSha256P256, B(Pattern(63, 0))}.Verify(), "RFC 4754 wants 64");
  ExpectVerifyError(AuthPayload{AuthMethod::kDigitalSignature, B({5, 0x30, 4, 6, 1, 0, 9})}.Verify(),
                    "not a DER SEQUENCE");
  ExpectVerifyError(AuthPayload{AuthMethod::kDigitalSignature, B({4, 0x30, 2, 5, 0})}.Verify(),
                    "signature value is empty");
  ExpectVerifyError(AuthPayload{AuthMethod::kDigitalSignature, B({9, 0x30, 2, 5, 0})}.Verify(),
                    "ASN.1 Length 9 exceeds");
}

TEST_F(IkeVerifyTest, ChecksConfigAndEap) {
  ExpectVerifyError(ConfigPayload{static_cast<CfgType>(9), {}}.Verify(), "CFG type 9");
  ExpectVerifyError(ConfigPayload{CfgType::kReply, {{1, B({10, 0, 0})}}}.Verify(), "must be 0 or 4");
  EXPECT_TRUE((ConfigPayload{CfgType::kReply, {{1, B({10, 0, 0, 1})}}}.Verify().ok()));
  ExpectVerifyError(EapPayload{B({1, 1, 0, 9, 1})}.Verify(), "EAP: Length 9");
  ExpectVerifyError(EapPayload{B({9, 1, 0, 4})}.Verify(), "EAP: code 9");
  EXPECT_TRUE(EapPayload{B({3, 1, 0, 4})}.Verify().ok());  // EAP-Success
}

TEST_F(IkeVerifyTest, MessageVerifyChecksHeaderAndSkPlacement) {
  Message m = testing::AllPayloadsMessage();
  EXPECT_TRUE(m.Verify().ok()) << m.Verify().ToString();
  m.header.spi_i = 0;
  ExpectVerifyError(m.Verify(), "initiator SPI is zero");
  m = testing::AllPayloadsMessage();
  std::swap(m.payloads.front(), m.payloads.back());
  ExpectVerifyError(m.Verify(), "is not the last payload");
  m = testing::AllPayloadsMessage();
  m.header.response = true;  // a response must carry exactly one accepted proposal
  ExpectVerifyError(m.Verify(), "payload #1: SA: accepted SA carries 3 proposals");
}

}  // namespace
}  // namespace ipsec::ike
