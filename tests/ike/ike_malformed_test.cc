// Malformed-message table: each hostile or broken input, the error it must produce, and where.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "host/ike/encoding/message.h"
#include "tests/ike/ike_test_util.h"

namespace ipsec::ike {
namespace {

using testing::B;
using testing::Cat;
using testing::Pattern;
using testing::PutU16;
using testing::PutU32;
using testing::RawMessage;
using testing::RawPayload;

struct MalformedCase {
  const char* name;
  std::function<std::vector<uint8_t>()> build;
  StatusCode code;
  const char* message_part;  // substring the error must contain
  NotifyType notify;
};

std::vector<uint8_t> Edited(const std::function<void(std::vector<uint8_t>&)>& edit) {
  std::vector<uint8_t> m = testing::SaInitRequestBytes();
  edit(m);
  return m;
}

const StatusCode kSyntax = StatusCode::kInvalidArgument;
const NotifyType kInvalidSyntax = NotifyType::kInvalidSyntax;

std::vector<MalformedCase> Cases() {
  return {
      {"TruncatedHeader", [] { return Edited([](auto& m) { m.resize(20); }); }, kSyntax,
       "offset 0: datagram of 20 bytes is shorter than the 28-byte IKE header", kInvalidSyntax},
      {"EmptyDatagram", [] { return std::vector<uint8_t>{}; }, kSyntax, "shorter than the 28-byte", kInvalidSyntax},
      {"MajorVersionOne", [] { return Edited([](auto& m) { m[17] = 0x10; }); }, StatusCode::kUnimplemented,
       "major version 1", NotifyType::kInvalidMajorVersion},
      {"MajorVersionThree", [] { return Edited([](auto& m) { m[17] = 0x30; }); }, StatusCode::kUnimplemented,
       "major version 3", NotifyType::kInvalidMajorVersion},
      {"LengthBeyondDatagram", [] { return Edited([](auto& m) { PutU32(m, 24, 263); }); }, kSyntax,
       "offset 24: header Length 263 exceeds the 262-byte datagram", kInvalidSyntax},
      {"LengthShortOfDatagram", [] { return Edited([](auto& m) { PutU32(m, 24, 261); }); }, kSyntax,
       "header Length 261 but the datagram has 262 bytes", kInvalidSyntax},
      {"LengthBelowHeader", [] { return Edited([](auto& m) { PutU32(m, 24, 27); }); }, kSyntax,
       "header Length 27 is shorter than the 28-byte IKE header", kInvalidSyntax},
      {"PayloadLengthBelowFour", [] { return Edited([](auto& m) { PutU16(m, 30, 3); }); }, kSyntax,
       "offset 28: payload SA(33) length 3 is below the 4-byte minimum", kInvalidSyntax},
      {"PayloadOverrunsMessage", [] { return Edited([](auto& m) { PutU16(m, 250, 20); }); }, kSyntax,
       "offset 248: payload N(41) length 20 overruns the message (14 bytes left)", kInvalidSyntax},
      {"ChainAnnouncesPayloadPastEnd", [] { return Edited([](auto& m) { m[248] = 43; }); }, kSyntax,
       "offset 262: payload V(43) announced by the previous Next Payload, but the message ends here",
       kInvalidSyntax},
      {"BytesAfterLastPayload", [] { return Edited([](auto& m) { m[240] = 0; }); }, kSyntax,
       "offset 248: 14 bytes follow the last payload", kInvalidSyntax},
      {"ProposalLengthOverrunsSa", [] { return Edited([](auto& m) { PutU16(m, 34, 45); }); }, kSyntax,
       "offset 34: proposal #1: proposal length 45 overruns the SA payload (44 bytes left)", kInvalidSyntax},
      {"ProposalLengthBelowHeader", [] { return Edited([](auto& m) { PutU16(m, 34, 7); }); }, kSyntax,
       "proposal length 7 is below the 8-byte minimum", kInvalidSyntax},
      {"ProposalLastSubstrucClaimsMore", [] { return Edited([](auto& m) { m[32] = 2; }); }, kSyntax,
       "offset 32: proposal #1: Last Substruc says more proposals follow but the SA payload ends", kInvalidSyntax},
      {"ProposalLastSubstrucInvalid", [] { return Edited([](auto& m) { m[32] = 7; }); },
       kSyntax, "Last Substruc is 7 (must be 0 or 2)", kInvalidSyntax},
      {"ProposalMarkedLastButMoreFollow",
       [] {
         const std::vector<uint8_t> proposal = {0, 0, 0, 16, 1, 1, 0, 1,   // Last 0, length 16, #1 IKE, 1 transform
                                                0, 0, 0, 8, 4, 0, 0, 19};  // DH 19
         return RawMessage(33, RawPayload(0, Cat({proposal, proposal})));
       },
       kSyntax, "offset 32: proposal #1: Last Substruc says last proposal but 16 bytes follow", kInvalidSyntax},
      {"ProposalWithZeroTransforms", [] { return Edited([](auto& m) { m[39] = 0; }); }, kSyntax,
       "offset 39: proposal #1: proposal has 0 transforms", kInvalidSyntax},
      {"ProposalDeclaresMoreTransformsThanPresent", [] { return Edited([](auto& m) { m[39] = 5; }); }, kSyntax,
       "transform #4: Last Substruc is 0 but more follow among 5 transforms", kInvalidSyntax},
      {"ProposalDeclaresFewerTransformsThanPresent", [] { return Edited([](auto& m) { m[39] = 3; }); }, kSyntax,
       "transform #3: Last Substruc is 3 but it is the last of 3 transforms", kInvalidSyntax},
      {"SpiSizeBeyondProposal", [] { return Edited([](auto& m) { m[38] = 200; }); }, kSyntax,
       "offset 38: proposal #1: SPI size 200 does not fit the proposal length 44", kInvalidSyntax},
      {"TransformLengthOverrunsProposal", [] { return Edited([](auto& m) { PutU16(m, 70, 12); }); }, kSyntax,
       "offset 70: proposal #1 transform #4: transform length 12 overruns the proposal (8 bytes left)",
       kInvalidSyntax},
      {"TransformLengthBelowHeader", [] { return Edited([](auto& m) { PutU16(m, 42, 7); }); }, kSyntax,
       "offset 42: proposal #1 transform #1: transform length 7 is below the 8-byte minimum", kInvalidSyntax},
      {"TransformLengthSplitsAttribute", [] { return Edited([](auto& m) { PutU16(m, 42, 10); }); }, kSyntax,
       "offset 48: proposal #1 transform #1: 2 trailing bytes are too short for a 4-byte attribute header",
       kInvalidSyntax},
      {"TlvAttributeOverrunsTransform", [] { return Edited([](auto& m) { m[48] = 0x00; }); }, kSyntax,
       "attribute type 14 length 256 overruns the transform (0 bytes left)", kInvalidSyntax},
      {"NonceTooShort",
       [] { return RawMessage(40, RawPayload(0, Pattern(15, 1))); }, kSyntax,
       "offset 32: nonce of 15 bytes is outside 16..256", kInvalidSyntax},
      {"NonceTooLong",
       [] { return RawMessage(40, RawPayload(0, Pattern(257, 1))); }, kSyntax,
       "nonce of 257 bytes is outside 16..256", kInvalidSyntax},
      {"UnknownCriticalPayload",
       [] { return RawMessage(200, RawPayload(0, Pattern(4, 1), /*flags=*/0x80)); },
       StatusCode::kUnimplemented, "offset 28: UNSUPPORTED_CRITICAL_PAYLOAD: payload type 200",
       NotifyType::kUnsupportedCriticalPayload},
      {"TooManyPayloads",
       [] {
         std::vector<uint8_t> chain;
         for (int i = 0; i < 65; ++i) chain = Cat({chain, RawPayload(i == 64 ? 0 : 43, {1})});
         return RawMessage(43, chain);
       },
       kSyntax, "more than 64 payloads in one chain", kInvalidSyntax},
      {"ExtremelyLongChainOfUnknownPayloads",
       [] {
         // 16,000 empty non-critical unknown payloads in one 64 KB datagram.
         std::vector<uint8_t> chain;
         for (int i = 0; i < 16000; ++i) chain.insert(chain.end(), {200, 0, 0, 4});
         chain[chain.size() - 4] = 0;
         return RawMessage(200, chain);
       },
       kSyntax, "more than 64 payloads in one chain", kInvalidSyntax},
      {"SkNotLast",
       [] { return RawMessage(46, Cat({RawPayload(41, Pattern(16, 1)), RawPayload(0, {0, 0, 0x40, 0})})); },
       kSyntax, "offset 28: SK(46) must be the last payload but 8 bytes follow it", kInvalidSyntax},
      {"SkfWithoutFragmentNumbers", [] { return RawMessage(53, RawPayload(0, {0, 1})); }, kSyntax,
       "SKF body of 2 bytes has no fragment number/total", kInvalidSyntax},
      {"KeBodyTooShort", [] { return RawMessage(34, RawPayload(0, {0, 19})); }, kSyntax,
       "offset 32: KE body of 2 bytes is shorter than 4", kInvalidSyntax},
      {"NotifySpiSizeOverrunsPayload", [] { return RawMessage(41, RawPayload(0, {3, 4, 0x40, 0x09, 1, 2})); },
       kSyntax, "offset 33: Notify SPI Size 4 exceeds the 2 bytes after the notify header", kInvalidSyntax},
      {"DeleteCountMismatch", [] { return RawMessage(42, RawPayload(0, {3, 4, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8})); },
       kSyntax, "offset 34: Delete says 3 SPIs of 4 bytes but 8 bytes follow", kInvalidSyntax},
      {"TsSelectorLengthWrong",
       [] {
         return RawMessage(44, RawPayload(0, Cat({{1, 0, 0, 0}, {7, 0, 0, 20}, Pattern(16, 0)})));
       },
       kSyntax, "offset 38: traffic selector #1: Selector Length 20 for TS type 7 (must be 16)", kInvalidSyntax},
      {"TsCountBeyondPayload",
       [] { return RawMessage(44, RawPayload(0, Cat({{2, 0, 0, 0}, {7, 0, 0, 16}, Pattern(12, 0)}))); },
       kSyntax, "traffic selector #2: Number of TSs is 2 but only 0 bytes remain", kInvalidSyntax},
      {"CpAttributeOverrunsPayload",
       [] { return RawMessage(47, RawPayload(0, {1, 0, 0, 0, 0, 1, 0, 4, 10, 0})); }, kSyntax,
       "CP attribute #1: Length 4 overruns the payload (2 bytes left)", kInvalidSyntax},
      {"EmptySaPayload", [] { return RawMessage(33, RawPayload(0, {})); }, kSyntax,
       "offset 32: SA payload has no proposals", kInvalidSyntax},
  };
}

class IkeMalformedTest : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(IkeMalformedTest, FailsWithNamedError) {
  const MalformedCase& c = GetParam();
  const std::vector<std::byte> wire = B(c.build());
  DecodeFailure failure;
  auto m = Decode(wire, {}, &failure);
  ASSERT_FALSE(m.ok()) << c.name << " decoded";
  EXPECT_EQ(m.status().code(), c.code) << m.status().ToString();
  EXPECT_NE(m.status().message().find(c.message_part), std::string::npos)
      << "got: " << m.status().message() << "\nwant part: " << c.message_part;
  EXPECT_EQ(failure.notify, c.notify);
}

INSTANTIATE_TEST_SUITE_P(Table, IkeMalformedTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<MalformedCase>& param_info) { return param_info.param.name; });

TEST(IkeMalformedFailureTest, ReportsThePayloadBeingDecoded) {
  std::vector<uint8_t> wire = testing::SaInitRequestBytes();
  PutU16(wire, 70, 12);  // transform #4 overruns the proposal
  DecodeFailure failure;
  ASSERT_FALSE(Decode(B(wire), {}, &failure).ok());
  EXPECT_EQ(failure.payload_type, PayloadType::kSa);
  EXPECT_EQ(failure.offset, 28u);
}

TEST(IkeMalformedFailureTest, RespectsConfiguredPayloadCap) {
  std::vector<uint8_t> chain;
  for (int i = 0; i < 5; ++i) chain = Cat({chain, RawPayload(i == 4 ? 0 : 43, {1})});
  const auto wire = B(RawMessage(43, chain));
  DecodeOptions tight;
  tight.max_payloads = 4;
  EXPECT_FALSE(Decode(wire, tight).ok());
  tight.max_payloads = 5;
  EXPECT_TRUE(Decode(wire, tight).ok());
}

}  // namespace
}  // namespace ipsec::ike
