// Encode -> Decode round trips for every payload type, alone and together, inside and outside SK.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "host/ike/encoding/message.h"
#include "tests/ike/ike_test_util.h"

namespace ipsec::ike {
namespace {

using testing::B;
using testing::Pattern;

class IkeRoundTripTest : public ::testing::Test {
 protected:
  static Message Wrap(Payload p) {
    Message m;
    m.header.spi_i = 0x0102030405060708u;
    m.header.spi_r = 0x1112131415161718u;
    m.header.exchange_type = ExchangeType::kCreateChildSa;
    m.header.response = true;
    m.header.version = true;
    m.header.message_id = 0xfffffffeu;
    m.payloads.push_back(std::move(p));
    return m;
  }

  static void ExpectRoundTrip(const Message& m) {
    auto wire = Encode(m);
    ASSERT_TRUE(wire.ok()) << wire.status().ToString();
    auto back = Decode(*wire);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_TRUE(*back == m);
    auto again = Encode(*back);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *wire);
  }
};

TEST_F(IkeRoundTripTest, RoundTripsEachPayloadTypeAlone) {
  for (const Payload& p : testing::SamplePayloads()) {
    SCOPED_TRACE(std::string(PayloadTypeName(TypeOf(p))));
    EXPECT_TRUE(VerifyPayload(p).ok()) << VerifyPayload(p).ToString();
    ExpectRoundTrip(Wrap(p));
  }
}

TEST_F(IkeRoundTripTest, RoundTripsEncryptedPayload) {
  ExpectRoundTrip(Wrap(EncryptedPayload{PayloadType::kNotify, B(Pattern(80, 1))}));
  ExpectRoundTrip(Wrap(EncryptedPayload{PayloadType::kNone, B(Pattern(32, 1))}));  // empty INFORMATIONAL
}

TEST_F(IkeRoundTripTest, RoundTripsEncryptedFragmentPayload) {
  ExpectRoundTrip(Wrap(EncryptedFragmentPayload{PayloadType::kIdInitiator, 1, 3, B(Pattern(100, 2))}));
  ExpectRoundTrip(Wrap(EncryptedFragmentPayload{PayloadType::kNone, 3, 3, B(Pattern(10, 2))}));
}

TEST_F(IkeRoundTripTest, RoundTripsMessageWithEveryPayloadType) {
  const Message m = testing::AllPayloadsMessage();
  EXPECT_TRUE(m.Verify().ok()) << m.Verify().ToString();
  ExpectRoundTrip(m);
}

TEST_F(IkeRoundTripTest, RoundTripsEveryPayloadTypeAsInnerChain) {
  const std::vector<Payload> inner = testing::SamplePayloads();
  auto plain = EncodeInner(inner);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  auto back = DecodeInner(FirstPayloadType(inner), *plain);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == inner);
}

TEST_F(IkeRoundTripTest, EncodesExactGenericHeaders) {
  // HDR, Nonce(16), V(3): next-payload chaining and lengths are computed.
  Message m;
  m.header.spi_i = 1;
  m.payloads = {NoncePayload{B(Pattern(16, 0))}, VendorIdPayload{B({'a', 'b', 'c'})}};
  auto wire = Encode(m);
  ASSERT_TRUE(wire.ok());
  ASSERT_EQ(wire->size(), 28u + 20u + 7u);
  EXPECT_EQ((*wire)[16], std::byte{40});             // IKE header Next Payload: Nonce
  EXPECT_EQ(LoadU32Be(&(*wire)[24]), 55u);           // Length
  EXPECT_EQ((*wire)[28], std::byte{43});             // Nonce's Next Payload: V
  EXPECT_EQ(LoadU16Be(&(*wire)[30]), 20u);           // Nonce Payload Length
  EXPECT_EQ((*wire)[48], std::byte{0});              // V's Next Payload: none
  EXPECT_EQ(LoadU16Be(&(*wire)[50]), 7u);            // V Payload Length
}

TEST_F(IkeRoundTripTest, RoundTripsSignatureAuthData) {
  // AlgorithmIdentifier for ecdsa-with-SHA256 (RFC 7427 Appendix A.3.1: 30 0a 06 08 2a 86 48 ce 3d 04 03 02).
  const SignatureAuthData sig{B({0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02}),
                              B(Pattern(70, 5))};
  auto data = BuildSignatureAuthData(sig);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ((*data)[0], std::byte{12});
  auto back = ParseSignatureAuthData(*data);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, sig);
  const AuthPayload auth{AuthMethod::kDigitalSignature, *data};
  EXPECT_TRUE(auth.Verify().ok());
  ExpectRoundTrip(Wrap(auth));
}

TEST_F(IkeRoundTripTest, RefusesToEncodeWhatCannotBeDecoded) {
  Message m;
  m.header.spi_i = 1;
  m.payloads = {EncryptedPayload{PayloadType::kNone, B({1})}, NoncePayload{B(Pattern(16, 0))}};
  EXPECT_FALSE(Encode(m).ok());  // SK not last
  m.payloads = {NoncePayload{B(Pattern(15, 0))}};
  EXPECT_FALSE(Encode(m).ok());  // nonce too short
  SaPayload sa;
  sa.proposals.push_back(Proposal{1, ProtocolId::kIke, {}, {}});
  m.payloads = {sa};
  EXPECT_FALSE(Encode(m).ok());  // proposal without transforms
  m.payloads = {IdPayload{PayloadType::kSa, IdType::kFqdn, B({'a'})}};
  EXPECT_FALSE(Encode(m).ok());  // IdPayload posing as SA
  m.payloads = {VendorIdPayload{std::vector<std::byte>(70000)}};
  EXPECT_FALSE(Encode(m).ok());  // payload longer than 65535
  std::vector<Payload> inner = {EncryptedPayload{PayloadType::kNone, B({1})}};
  EXPECT_FALSE(EncodeInner(inner).ok());
}

}  // namespace
}  // namespace ipsec::ike
