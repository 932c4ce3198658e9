// Decoding hand-built IKEv2 messages (RFC 7296 §3 diagrams, field by field): the reference
// IKE_SA_INIT request, unknown payload handling (§2.5), SK/SKF placement and inner chains.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "host/ike/encoding/message.h"
#include "tests/ike/ike_test_util.h"

namespace ipsec::ike {
namespace {

using testing::B;
using testing::Cat;
using testing::Pattern;
using testing::RawMessage;
using testing::RawPayload;

class IkeMessageDecodeTest : public ::testing::Test {};

TEST_F(IkeMessageDecodeTest, DecodesIkeSaInitRequestBuiltFromRfcDiagrams) {
  const std::vector<std::byte> wire = B(testing::SaInitRequestBytes());
  ASSERT_EQ(wire.size(), testing::kSaInitSize);
  auto m = Decode(wire);
  ASSERT_TRUE(m.ok()) << m.status().ToString();

  EXPECT_EQ(m->header.spi_i, 0x5f9a3c1d7e2b4a60u);
  EXPECT_EQ(m->header.spi_r, 0u);
  EXPECT_EQ(m->header.major_version, 2);
  EXPECT_EQ(m->header.minor_version, 0);
  EXPECT_EQ(m->header.exchange_type, ExchangeType::kIkeSaInit);
  EXPECT_TRUE(m->header.initiator);
  EXPECT_FALSE(m->header.response);
  EXPECT_FALSE(m->header.version);
  EXPECT_EQ(m->header.message_id, 0u);
  ASSERT_EQ(m->payloads.size(), 7u);

  const auto& sa = std::get<SaPayload>(m->payloads[0]);
  ASSERT_EQ(sa.proposals.size(), 1u);
  const Proposal& p = sa.proposals[0];
  EXPECT_EQ(p.number, 1);
  EXPECT_EQ(p.protocol, ProtocolId::kIke);
  EXPECT_TRUE(p.spi.empty());
  ASSERT_EQ(p.transforms.size(), 4u);
  EXPECT_EQ(p.transforms[0], Transform::Encr(EncrId::kAesCbc, 256));
  EXPECT_EQ(p.transforms[0].KeyLength(), 256);
  EXPECT_EQ(p.transforms[1], Transform::Prf(PrfId::kHmacSha2_256));
  EXPECT_EQ(p.transforms[2], Transform::Integ(IntegId::kHmacSha2_256_128));
  EXPECT_EQ(p.transforms[3], Transform::Dh(DhGroup::kEcp256));

  const auto& ke = std::get<KePayload>(m->payloads[1]);
  EXPECT_EQ(ke.group, DhGroup::kEcp256);
  EXPECT_EQ(ke.data, B(Pattern(64, 0x40)));

  EXPECT_EQ(std::get<NoncePayload>(m->payloads[2]).nonce, B(Pattern(32, 0xa0)));

  const auto& nat_src = std::get<NotifyPayload>(m->payloads[3]);
  EXPECT_EQ(nat_src.type, NotifyType::kNatDetectionSourceIp);
  EXPECT_EQ(nat_src.protocol, ProtocolId::kNone);
  EXPECT_TRUE(nat_src.spi.empty());
  EXPECT_EQ(nat_src.data, B(Pattern(20, 0x10)));
  const auto& nat_dst = std::get<NotifyPayload>(m->payloads[4]);
  EXPECT_EQ(nat_dst.type, NotifyType::kNatDetectionDestinationIp);
  EXPECT_EQ(nat_dst.data, B(Pattern(20, 0x30)));
  const auto& frag = std::get<NotifyPayload>(m->payloads[5]);
  EXPECT_EQ(frag.type, NotifyType::kIkev2FragmentationSupported);
  EXPECT_TRUE(frag.data.empty());
  const auto& sig = std::get<NotifyPayload>(m->payloads[6]);
  EXPECT_EQ(sig.type, NotifyType::kSignatureHashAlgorithms);
  auto hashes = ParseSignatureHashAlgorithms(sig.data);
  ASSERT_TRUE(hashes.ok());
  EXPECT_EQ(*hashes, (std::vector<HashAlgorithm>{HashAlgorithm::kSha2_256, HashAlgorithm::kSha2_384,
                                                 HashAlgorithm::kSha2_512}));

  EXPECT_TRUE(m->Verify().ok()) << m->Verify().ToString();
  EXPECT_NE(m->FindNotify(NotifyType::kIkev2FragmentationSupported), nullptr);
  EXPECT_EQ(m->FindNotify(NotifyType::kCookie), nullptr);
  EXPECT_EQ(m->Find<KePayload>(), &ke);
}

TEST_F(IkeMessageDecodeTest, ReencodesIkeSaInitRequestToTheSameBytes) {
  const std::vector<std::byte> wire = B(testing::SaInitRequestBytes());
  auto m = Decode(wire);
  ASSERT_TRUE(m.ok());
  auto again = Encode(*m);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, wire);
}

TEST_F(IkeMessageDecodeTest, ParseIkeHeaderReportsDerivedFields) {
  auto h = ParseIkeHeader(B(testing::SaInitRequestBytes()));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->first_payload, PayloadType::kSa);
  EXPECT_EQ(h->length, testing::kSaInitSize);
}

TEST_F(IkeMessageDecodeTest, IgnoresReservedBitsAndMinorVersion) {
  std::vector<uint8_t> wire = testing::SaInitRequestBytes();
  wire[17] = 0x27;            // MjVer 2, MnVer 7: minor version ignored on receipt (§3.1)
  wire[19] = 0x08 | 0x01;     // I flag plus a reserved bit
  wire[28 + 1] = 0x7f;        // SA generic header RESERVED bits
  auto m = Decode(B(wire));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->header.minor_version, 7);
  EXPECT_TRUE(m->header.initiator);
}

TEST_F(IkeMessageDecodeTest, IgnoresCriticalBitOnKnownPayload) {
  std::vector<uint8_t> wire = testing::SaInitRequestBytes();
  wire[28 + 1] = 0x80;  // C bit on the SA payload: known type, so it does not matter (§2.5)
  EXPECT_TRUE(Decode(B(wire)).ok());
}

TEST_F(IkeMessageDecodeTest, SkipsUnknownNonCriticalPayload) {
  // HDR, V, <type 200, C=0>, Nonce
  const auto wire = RawMessage(43, Cat({RawPayload(200, Pattern(4, 1)),             // V, next 200
                                        RawPayload(40, Pattern(6, 9), /*flags=*/0),  // unknown, next Nonce
                                        RawPayload(0, Pattern(16, 0x70))}));
  auto m = Decode(B(wire));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->payloads.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<VendorIdPayload>(m->payloads[0]));
  EXPECT_TRUE(std::holds_alternative<NoncePayload>(m->payloads[1]));
}

TEST_F(IkeMessageDecodeTest, RejectsUnknownCriticalPayloadNamingItsType) {
  const auto wire = RawMessage(43, Cat({RawPayload(200, Pattern(4, 1)),  // V, next 200
                                        RawPayload(0, Pattern(6, 9), /*flags=*/0x80)}));
  DecodeFailure failure;
  auto m = Decode(B(wire), {}, &failure);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(m.status().message().find("UNSUPPORTED_CRITICAL_PAYLOAD"), std::string::npos);
  EXPECT_NE(m.status().message().find("type 200"), std::string::npos);
  EXPECT_EQ(failure.notify, NotifyType::kUnsupportedCriticalPayload);
  EXPECT_EQ(static_cast<uint8_t>(failure.payload_type), 200);
  EXPECT_EQ(failure.offset, 28u + 8u);
}

TEST_F(IkeMessageDecodeTest, KeepsSkCiphertextOpaqueAndRecordsFirstInnerType) {
  // HDR(IKE_AUTH), SK{ next = IDi }: the SK generic header names the first inner payload.
  const std::vector<uint8_t> sk_body = Pattern(48, 0xc0);  // IV || ciphertext || ICV
  const auto wire = RawMessage(46, RawPayload(35, sk_body), /*exchange=*/35);
  auto m = Decode(B(wire));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->payloads.size(), 1u);
  const auto& sk = std::get<EncryptedPayload>(m->payloads[0]);
  EXPECT_EQ(sk.first_inner, PayloadType::kIdInitiator);
  EXPECT_EQ(sk.data, B(sk_body));
  auto again = Encode(*m);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, B(wire));
}

TEST_F(IkeMessageDecodeTest, DecodesSkfFragmentNumbers) {
  const std::vector<uint8_t> body = Cat({{0x00, 2, 0x00, 5}, Pattern(40, 0x11)});  // fragment 2 of 5
  const auto wire = RawMessage(53, RawPayload(0, body), /*exchange=*/35);
  auto m = Decode(B(wire));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const auto& skf = std::get<EncryptedFragmentPayload>(m->payloads[0]);
  EXPECT_EQ(skf.fragment_number, 2);
  EXPECT_EQ(skf.total_fragments, 5);
  EXPECT_EQ(skf.first_inner, PayloadType::kNone);
  EXPECT_TRUE(skf.Verify().ok());
}

TEST_F(IkeMessageDecodeTest, DecodesInnerChainOfDecryptedSk) {
  // What the SK layer hands over after decryption: IDi, AUTH, N(INITIAL_CONTACT).
  const std::vector<uint8_t> plain = Cat({
      RawPayload(39, Cat({{2, 0, 0, 0}, {'a', '.', 'e', 'x'}})),  // IDi: FQDN "a.ex", next AUTH
      RawPayload(41, Cat({{2, 0, 0, 0}, Pattern(32, 3)})),        // AUTH: PSK MIC, next N
      RawPayload(0, {0, 0, 0x40, 0x00}),                          // N(INITIAL_CONTACT)
  });
  auto inner = DecodeInner(PayloadType::kIdInitiator, B(plain));
  ASSERT_TRUE(inner.ok()) << inner.status().ToString();
  ASSERT_EQ(inner->size(), 3u);
  EXPECT_EQ(std::get<IdPayload>((*inner)[0]).payload_type, PayloadType::kIdInitiator);
  EXPECT_EQ(std::get<AuthPayload>((*inner)[1]).method, AuthMethod::kSharedKeyMic);
  EXPECT_EQ(std::get<NotifyPayload>((*inner)[2]).type, NotifyType::kInitialContact);
  auto again = EncodeInner(*inner);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, B(plain));
  EXPECT_EQ(FirstPayloadType(*inner), PayloadType::kIdInitiator);
}

TEST_F(IkeMessageDecodeTest, DecodesEmptyInnerChainOfLivenessCheck) {
  auto inner = DecodeInner(PayloadType::kNone, {});
  ASSERT_TRUE(inner.ok());
  EXPECT_TRUE(inner->empty());
}

TEST_F(IkeMessageDecodeTest, RejectsSkInsideInnerChain) {
  auto inner = DecodeInner(PayloadType::kEncrypted, B(RawPayload(0, Pattern(8, 0))));
  ASSERT_FALSE(inner.ok());
  EXPECT_NE(inner.status().message().find("inside an encrypted payload"), std::string::npos);
}

TEST_F(IkeMessageDecodeTest, AcceptsTrailingDatagramBytesOnlyWhenAllowed) {
  std::vector<uint8_t> wire = testing::SaInitRequestBytes();
  wire.push_back(0);
  wire.push_back(0);
  EXPECT_FALSE(Decode(B(wire)).ok());
  DecodeOptions lenient;
  lenient.allow_trailing_bytes = true;
  auto m = Decode(B(wire), lenient);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->payloads.size(), 7u);
}

TEST_F(IkeMessageDecodeTest, DecodesHeaderOnlyMessage) {
  auto m = Decode(B(RawMessage(0, {}, /*exchange=*/37)));
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->payloads.empty());
}

}  // namespace
}  // namespace ipsec::ike
