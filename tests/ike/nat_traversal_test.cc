// Non-ESP marker handling and NAT detection data (RFC 3948 §2.2-2.3, RFC 7296 §2.23).
#include <gtest/gtest.h>

#include <vector>

#include "host/common/bytes.h"
#include "host/ike/encoding/message.h"
#include "host/ike/encoding/nat_traversal.h"
#include "tests/ike/ike_test_util.h"

namespace ipsec::ike {
namespace {

using testing::B;

class NatTraversalTest : public ::testing::Test {};

TEST_F(NatTraversalTest, AddsAndStripsNonEspMarker) {
  const std::vector<std::byte> ike = B(testing::SaInitRequestBytes());
  const std::vector<std::byte> udp = AddNonEspMarker(ike);
  ASSERT_EQ(udp.size(), ike.size() + 4);
  EXPECT_EQ(LoadU32Be(udp.data()), 0u);
  EXPECT_TRUE(HasNonEspMarker(udp));
  auto stripped = StripNonEspMarker(udp);
  ASSERT_TRUE(stripped.ok());
  EXPECT_EQ(std::vector<std::byte>(stripped->begin(), stripped->end()), ike);
  EXPECT_TRUE(Decode(*stripped).ok());
}

TEST_F(NatTraversalTest, RejectsEspAndShortDatagramsAsIke) {
  const auto esp = B({0x00, 0x00, 0x10, 0x01, 0, 0, 0, 1});  // SPI 0x1001, seq 1
  EXPECT_FALSE(HasNonEspMarker(esp));
  EXPECT_FALSE(StripNonEspMarker(esp).ok());
  EXPECT_FALSE(StripNonEspMarker(B({0, 0, 0})).ok());
  auto empty_ike = StripNonEspMarker(B({0, 0, 0, 0}));
  ASSERT_TRUE(empty_ike.ok());
  EXPECT_TRUE(empty_ike->empty());
}

TEST_F(NatTraversalTest, RecognisesNatKeepalive) {
  EXPECT_TRUE(IsNatKeepalive(B({0xff})));
  EXPECT_FALSE(IsNatKeepalive(B({0xff, 0xff})));
  EXPECT_FALSE(IsNatKeepalive(B({0x00})));
}

TEST_F(NatTraversalTest, ComputesNatDetectionHashIpv4) {
  // SHA-1(SPIi | SPIr | 192.0.2.1 | 500); expected value from Python hashlib.sha1 over the same bytes.
  auto h = NatDetectionHash(0x5f9a3c1d7e2b4a60u, 0, B({192, 0, 2, 1}), 500);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(HexEncode(*h), "98a736acbf50278145d3c186e85a372136b221ea");
}

TEST_F(NatTraversalTest, ComputesNatDetectionHashIpv6) {
  // SHA-1(SPIi | SPIr | 2001:db8::1 | 4500); expected value from Python hashlib.sha1.
  auto h = NatDetectionHash(0x5f9a3c1d7e2b4a60u, 0x0102030405060708u,
                            B({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}), 4500);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(HexEncode(*h), "15718e1f513830c410f3caab25454157ae48e0a4");
}

TEST_F(NatTraversalTest, RejectsMalformedAddress) { EXPECT_FALSE(NatDetectionHash(1, 2, B({1, 2, 3}), 500).ok()); }

}  // namespace
}  // namespace ipsec::ike
