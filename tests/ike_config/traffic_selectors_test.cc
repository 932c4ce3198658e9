// Traffic selectors and address lists (host/ike/config/traffic_selectors.h).
#include "host/ike/config/traffic_selectors.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ipsec::ike::config {
namespace {

TrafficSelectorList MustParse(std::string_view s) {
  auto r = ParseTrafficSelectors(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status().message();
  return r.ok() ? *r : TrafficSelectorList{};
}

sa::IpAddress Ip(std::string_view s) { return *sa::IpAddress::Parse(s); }

TEST(TrafficSelectorsTest, CidrRangeAndSingleAddress) {
  const TrafficSelectorList l = MustParse("192.0.2.0/24, 10.0.0.1-10.0.0.9,198.51.100.7, 2001:db8::/32, 0.0.0.0/0");
  ASSERT_EQ(l.entries.size(), 5u);
  EXPECT_FALSE(l.HasDynamic());
  EXPECT_EQ(l.entries[0].ts, TrafficSelector::Ipv4Range({192, 0, 2, 0}, {192, 0, 2, 255}));
  EXPECT_EQ(l.entries[0].text, "192.0.2.0/24");
  EXPECT_EQ(l.entries[1].ts, TrafficSelector::Ipv4Range({10, 0, 0, 1}, {10, 0, 0, 9}));
  EXPECT_EQ(l.entries[2].ts, TrafficSelector::Ipv4Range({198, 51, 100, 7}, {198, 51, 100, 7}));
  std::array<uint8_t, 16> lo{0x20, 0x01, 0x0d, 0xb8};
  std::array<uint8_t, 16> hi{0x20, 0x01, 0x0d, 0xb8};
  for (size_t i = 4; i < 16; ++i) hi[i] = 0xff;
  EXPECT_EQ(l.entries[3].ts, TrafficSelector::Ipv6Range(lo, hi));
  EXPECT_EQ(l.entries[4].ts, TrafficSelector::Ipv4Range({0, 0, 0, 0}, {255, 255, 255, 255}));
}

TEST(TrafficSelectorsTest, HostBitsAreClearedLikeStrongSwan) {
  EXPECT_EQ(MustParse("10.1.2.3/16").entries[0].ts, TrafficSelector::Ipv4Range({10, 1, 0, 0}, {10, 1, 255, 255}));
  EXPECT_EQ(MustParse("10.1.2.3/32").entries[0].ts, TrafficSelector::Ipv4Range({10, 1, 2, 3}, {10, 1, 2, 3}));
  EXPECT_EQ(MustParse("10.1.2.3/31").entries[0].ts, TrafficSelector::Ipv4Range({10, 1, 2, 2}, {10, 1, 2, 3}));
}

TEST(TrafficSelectorsTest, ProtocolsAndPorts) {
  struct Case {
    const char* text;
    uint8_t proto;
    uint16_t start, end;
  } cases[] = {
      {"10.0.0.0/24[tcp/80]", 6, 80, 80},
      {"10.0.0.0/24[udp]", 17, 0, 65535},
      {"10.0.0.0/24[udp/%any]", 17, 0, 65535},
      {"10.0.0.0/24[tcp/1000-2000]", 6, 1000, 2000},
      {"10.0.0.0/24[tcp/https]", 6, 443, 443},
      {"10.0.0.0/24[17/53]", 17, 53, 53},
      {"10.0.0.0/24[sctp/%opaque]", 132, 65535, 0},
      {"10.0.0.0/24[icmp/8]", 1, 0x0800, 0x08ff},
      {"2001:db8::/64[ipv6-icmp/128]", 58, 0x8000, 0x80ff},
      {"2001:db8::/64[icmpv6]", 58, 0, 65535},
      {"10.0.0.0/24[%any]", 0, 0, 65535},
      {"10.0.0.0/24[gre]", 47, 0, 65535},
  };
  for (const Case& c : cases) {
    const TrafficSelectorList l = MustParse(c.text);
    ASSERT_EQ(l.entries.size(), 1u);
    EXPECT_EQ(l.entries[0].ts.ip_protocol, c.proto) << c.text;
    EXPECT_EQ(l.entries[0].ts.start_port, c.start) << c.text;
    EXPECT_EQ(l.entries[0].ts.end_port, c.end) << c.text;
  }
}

TEST(TrafficSelectorsTest, DynamicIsResolvedWithTheIkeAddress) {
  const TrafficSelectorList l = MustParse("dynamic, dynamic[tcp/22], 192.0.2.0/24");
  ASSERT_EQ(l.entries.size(), 3u);
  EXPECT_TRUE(l.HasDynamic());
  EXPECT_TRUE(l.entries[0].dynamic);
  EXPECT_TRUE(l.entries[0].ts.start_address.empty());
  EXPECT_TRUE(l.entries[1].dynamic);
  EXPECT_EQ(l.entries[1].ts.ip_protocol, 6);
  const auto v4 = l.Resolve(Ip("198.18.0.1"));
  ASSERT_EQ(v4.size(), 3u);
  EXPECT_EQ(v4[0], TrafficSelector::Ipv4Range({198, 18, 0, 1}, {198, 18, 0, 1}));
  EXPECT_EQ(v4[1], TrafficSelector::Ipv4Range({198, 18, 0, 1}, {198, 18, 0, 1}, 6, 22, 22));
  EXPECT_EQ(v4[2], TrafficSelector::Ipv4Range({192, 0, 2, 0}, {192, 0, 2, 255}));
  const auto v6 = l.Resolve(Ip("2001:db8::1"));
  EXPECT_EQ(v6[0].type, TsType::kIpv6AddrRange);
  EXPECT_EQ(v6[0].start_address.size(), 16u);
  EXPECT_EQ(v6[0].start_address, v6[0].end_address);
}

TEST(TrafficSelectorsTest, Refusals) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"10.0.0.0/33", "bad traffic selector '10.0.0.0/33': prefix length 33 is more than 32"},
      {"2001:db8::/129", "bad traffic selector '2001:db8::/129': prefix length 129 is more than 128"},
      {"10.0.0.0/x", "bad traffic selector '10.0.0.0/x': bad prefix length 'x'"},
      {"10.0.0.256/24", "bad traffic selector '10.0.0.256/24': bad address '10.0.0.256'"},
      {"10.0.0.9-10.0.0.1", "bad traffic selector '10.0.0.9-10.0.0.1': range end is below its start"},
      {"10.0.0.1-2001:db8::1", "bad traffic selector '10.0.0.1-2001:db8::1': range mixes IPv4 and IPv6"},
      {"10.0.0.0/24[tpc/80]", "bad traffic selector '10.0.0.0/24[tpc/80]': unknown protocol 'tpc'"},
      {"10.0.0.0/24[tcp/99999]", "bad traffic selector '10.0.0.0/24[tcp/99999]': bad port '99999'"},
      {"10.0.0.0/24[tcp/90-80]", "bad traffic selector '10.0.0.0/24[tcp/90-80]': port range end is below its start"},
      {"10.0.0.0/24[%any/80]", "bad traffic selector '10.0.0.0/24[%any/80]': a port needs a protocol (e.g. [tcp/80])"},
      {"10.0.0.0/24[icmp/1-2]", "bad traffic selector '10.0.0.0/24[icmp/1-2]': ICMP takes one type, not a range"},
      {"10.0.0.0/24[tcp", "bad traffic selector '10.0.0.0/24[tcp': expected ']' at the end"},
      {"10.0.0.0/24]", "bad traffic selector '10.0.0.0/24]': ']' without '['"},
      {"[tcp]", "bad traffic selector '[tcp]': missing address before '['"},
      {"moon.example.com", "bad traffic selector 'moon.example.com': bad address 'moon.example.com'"},
      {"10.0.0.0/24,,10.0.1.0/24", "empty entry in the traffic selector list"},
      {"", "empty traffic selector list"},
  };
  for (const Case& c : cases) {
    auto r = ParseTrafficSelectors(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().message(), c.message);
  }
}

TEST(AddressListTest, FormsAndContains) {
  auto r = ParseAddressList("%any, %any6, 198.18.0.1, 198.18.0.0/15, 10.0.0.1-10.0.0.5, vpn-gw.example.com, 2001:db8::1");
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto& a = *r;
  ASSERT_EQ(a.size(), 7u);
  EXPECT_EQ(a[0].kind, AddressSpec::Kind::kAny);
  EXPECT_TRUE(a[0].Contains(Ip("2001:db8::5")));
  EXPECT_TRUE(a[1].Contains(Ip("2001:db8::5")));
  EXPECT_FALSE(a[1].Contains(Ip("192.0.2.1")));
  EXPECT_EQ(a[2].kind, AddressSpec::Kind::kRange);
  EXPECT_EQ(a[2].first, a[2].last);
  EXPECT_TRUE(a[2].Contains(Ip("198.18.0.1")));
  EXPECT_TRUE(a[3].Contains(Ip("198.19.255.255")));
  EXPECT_FALSE(a[3].Contains(Ip("198.20.0.0")));
  EXPECT_TRUE(a[4].Contains(Ip("10.0.0.5")));
  EXPECT_FALSE(a[4].Contains(Ip("10.0.0.6")));
  EXPECT_EQ(a[5].kind, AddressSpec::Kind::kHostname);
  EXPECT_EQ(a[5].hostname, "vpn-gw.example.com");
  EXPECT_FALSE(a[5].Contains(Ip("10.0.0.6")));
  EXPECT_EQ(a[6].family, 6);
  EXPECT_FALSE(a[6].Contains(Ip("10.0.0.6")));
}

TEST(AddressListTest, Refusals) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"198.18.0.300", "bad address '198.18.0.300': bad address '198.18.0.300'"},
      {"10.0.0.5-10.0.0.1", "bad address '10.0.0.5-10.0.0.1': range end is below its start"},
      {"host name", "bad address or host name 'host name'"},
      {"a,", "empty entry in the address list"},
  };
  for (const Case& c : cases) {
    auto r = ParseAddressList(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().message(), c.message);
  }
}

}  // namespace
}  // namespace ipsec::ike::config
