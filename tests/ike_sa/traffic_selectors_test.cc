// Traffic selector narrowing (RFC 7296 §2.9).
#include "host/ike/sa/traffic_selectors.h"

#include <gtest/gtest.h>

namespace ipsec::ike {
namespace {

TrafficSelector V4(std::array<uint8_t, 4> a, std::array<uint8_t, 4> b, uint8_t proto = 0, uint16_t p1 = 0,
                   uint16_t p2 = 0xffff) {
  return TrafficSelector::Ipv4Range(a, b, proto, p1, p2);
}

TEST(TrafficSelectorTest, IntersectAddressesPortsProtocols) {
  auto i = Intersect(V4({10, 0, 0, 0}, {10, 0, 255, 255}), V4({10, 0, 1, 0}, {10, 1, 0, 0}, 6, 80, 443));
  ASSERT_TRUE(i);
  EXPECT_EQ(DescribeTs(*i), "10.0.1.0..10.0.255.255[6/80-443]");
  EXPECT_FALSE(Intersect(V4({10, 0, 0, 0}, {10, 0, 0, 255}), V4({10, 0, 1, 0}, {10, 0, 1, 255})));
  EXPECT_FALSE(Intersect(V4({10, 0, 0, 0}, {10, 0, 0, 255}, 6), V4({10, 0, 0, 0}, {10, 0, 0, 255}, 17)));
  EXPECT_FALSE(Intersect(V4({10, 0, 0, 0}, {10, 0, 0, 255}, 6, 1, 10), V4({10, 0, 0, 0}, {10, 0, 0, 255}, 6, 11, 20)));
  TrafficSelector v6 = TrafficSelector::Ipv6Range({}, {});
  EXPECT_FALSE(Intersect(v6, V4({0, 0, 0, 0}, {255, 255, 255, 255})));
}

TEST(TrafficSelectorTest, NarrowAndSubset) {
  std::vector<TrafficSelector> proposed = {V4({192, 0, 2, 7}, {192, 0, 2, 7}, 6, 1234, 1234),
                                           V4({192, 0, 2, 0}, {192, 0, 2, 255})};
  std::vector<TrafficSelector> configured = {V4({192, 0, 2, 0}, {192, 0, 2, 127})};
  auto n = Narrow(proposed, configured);
  ASSERT_EQ(n.size(), 2u);
  EXPECT_EQ(DescribeTs(n), "192.0.2.7/32[6/1234] 192.0.2.0/25");
  EXPECT_TRUE(IsSubset(n, proposed));
  EXPECT_FALSE(IsSubset(proposed, n));
}

TEST(TrafficSelectorTest, DynamicResolvesToTheIkeAddress) {
  TsConfig d{{}, true};
  d.ts.ip_protocol = 17;
  auto r = Resolve({&d, 1}, *sa::IpAddress::Parse("2001:db8::1"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(DescribeTs(r[0]), "2001:db8::1/128[17]");
}

}  // namespace
}  // namespace ipsec::ike
