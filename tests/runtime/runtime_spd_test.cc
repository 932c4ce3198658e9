// The SPD on its own: selector matching (prefixes of both families, protocol, port ranges),
// priorities, bypass/discard/protect, and that Lookup does not allocate. Also the card capability
// check on its own (CheckCardFit), with capabilities no soft card offers.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "driver/driver.h"
#include "host/common/ip.h"
#include "host/runtime/card_fit.h"
#include "host/runtime/spd.h"
#include "tests/esp/test_packets.h"

namespace {
std::atomic<uint64_t> g_allocs{0};
}  // namespace

// Counts every allocation in this test binary, to check that Lookup makes none.
void* operator new(size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
// The nothrow forms too (std::stable_sort's temporary buffer uses them), so that every new in
// the binary pairs with these deletes (ASan checks new/free pairing).
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}

namespace ipsec::runtime {
namespace {

using esp::testing::MakePacket;
using esp::testing::PacketSpec;

SpdRule Rule(const char* src, const char* dst, PolicyAction action, int32_t priority = 0,
             sa::Direction dir = sa::Direction::kOutbound) {
  SpdRule r;
  r.src = *Prefix::Parse(src);
  r.dst = *Prefix::Parse(dst);
  r.action = action;
  r.priority = priority;
  r.direction = dir;
  r.tunnel = action == PolicyAction::kProtect ? 1 : 0;
  return r;
}

FlowKey Key(const PacketSpec& s) {
  FlowKey k;
  const auto pkt = MakePacket(s);
  EXPECT_TRUE(ExtractFlowKey(pkt, &k));
  return k;
}

// MakePacket: IPv4 192.0.2.1 -> 198.51.100.7, IPv6 2001:db8::1 -> 2001:db8:1::7, ports 5000 -> 6000.
TEST(SpdTest, ExtractsSelectorsOfBothFamilies) {
  FlowKey k4 = Key({.v6 = false, .proto = ip::kProtoUdp});
  EXPECT_FALSE(k4.v6);
  EXPECT_EQ(k4.src_hi >> 32, 0xC0000201u);
  EXPECT_EQ(k4.dst_hi >> 32, 0xC6336407u);
  EXPECT_EQ(k4.proto, ip::kProtoUdp);
  EXPECT_TRUE(k4.has_ports);
  EXPECT_EQ(k4.sport, 5000);
  EXPECT_EQ(k4.dport, 6000);
  FlowKey k6 = Key({.v6 = true, .proto = ip::kProtoTcp});
  EXPECT_TRUE(k6.v6);
  EXPECT_EQ(k6.src_hi, 0x20010db800000000ull);
  EXPECT_EQ(k6.src_lo, 1u);
  EXPECT_EQ(k6.dst_hi, 0x20010db800010000ull);
  EXPECT_EQ(k6.dport, 6000);
  FlowKey icmp = Key({.v6 = false, .proto = 1});
  EXPECT_FALSE(icmp.has_ports);
}

TEST(SpdTest, LongestIsNotBestLowestPriorityWins) {
  Spd spd;
  ASSERT_TRUE(spd.Add(Rule("0.0.0.0/0", "0.0.0.0/0", PolicyAction::kDiscard, 100)).ok());
  ASSERT_TRUE(spd.Add(Rule("192.0.2.0/24", "198.51.100.0/24", PolicyAction::kProtect, 10)).ok());
  ASSERT_TRUE(spd.Add(Rule("192.0.2.1/32", "198.51.100.7/32", PolicyAction::kBypass, 20)).ok());
  const SpdRule* r = spd.Lookup(sa::Direction::kOutbound, Key({}));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->action, PolicyAction::kProtect);  // priority 10 beats the more specific priority-20 rule
  // Equal priorities: the first added wins.
  Spd tie;
  ASSERT_TRUE(tie.Add(Rule("192.0.2.0/24", "0.0.0.0/0", PolicyAction::kBypass, 5)).ok());
  ASSERT_TRUE(tie.Add(Rule("192.0.2.1/32", "0.0.0.0/0", PolicyAction::kDiscard, 5)).ok());
  EXPECT_EQ(tie.Lookup(sa::Direction::kOutbound, Key({}))->action, PolicyAction::kBypass);
}

TEST(SpdTest, PrefixesProtocolsAndPortRanges) {
  Spd spd;
  SpdRule dns = Rule("0.0.0.0/0", "198.51.100.0/25", PolicyAction::kBypass, 1);
  dns.protocol = ip::kProtoUdp;
  dns.dport = {5999, 6001};
  ASSERT_TRUE(spd.Add(dns).ok());
  SpdRule tcp = Rule("192.0.2.0/30", "0.0.0.0/0", PolicyAction::kProtect, 2);
  tcp.protocol = ip::kProtoTcp;
  ASSERT_TRUE(spd.Add(tcp).ok());
  SpdRule v6 = Rule("2001:db8::/32", "2001:db8:1::/48", PolicyAction::kProtect, 3);
  v6.sport = {5000, 5000};
  ASSERT_TRUE(spd.Add(v6).ok());

  EXPECT_EQ(spd.Lookup(sa::Direction::kOutbound, Key({.proto = ip::kProtoUdp}))->action, PolicyAction::kBypass);
  EXPECT_EQ(spd.Lookup(sa::Direction::kOutbound, Key({.proto = ip::kProtoTcp}))->action, PolicyAction::kProtect);
  EXPECT_EQ(spd.Lookup(sa::Direction::kOutbound, Key({.proto = 1})), nullptr);  // ICMP: no rule
  EXPECT_EQ(spd.Lookup(sa::Direction::kOutbound, Key({.v6 = true, .proto = ip::kProtoUdp}))->id, 3u);
  // Port selectors never match packets without ports (ICMPv6 here).
  EXPECT_EQ(spd.Lookup(sa::Direction::kOutbound, Key({.v6 = true, .proto = ip::kProtoIcmpv6})), nullptr);
  // Directions are separate tables.
  EXPECT_EQ(spd.Lookup(sa::Direction::kInbound, Key({.proto = ip::kProtoUdp})), nullptr);
  // A port outside the range.
  FlowKey k = Key({.proto = ip::kProtoUdp});
  k.dport = 6002;
  EXPECT_EQ(spd.Lookup(sa::Direction::kOutbound, k), nullptr);
}

TEST(SpdTest, RemoveAndValidation) {
  Spd spd;
  auto id = spd.Add(Rule("0.0.0.0/0", "0.0.0.0/0", PolicyAction::kDiscard));
  ASSERT_TRUE(id.ok());
  EXPECT_TRUE(spd.Remove(*id));
  EXPECT_FALSE(spd.Remove(*id));
  EXPECT_EQ(spd.Lookup(sa::Direction::kOutbound, Key({})), nullptr);
  SpdRule mixed = Rule("0.0.0.0/0", "::/0", PolicyAction::kBypass);
  EXPECT_FALSE(spd.Add(mixed).ok());
  SpdRule ports = Rule("0.0.0.0/0", "0.0.0.0/0", PolicyAction::kBypass);
  ports.protocol = 1;
  ports.dport = {1, 2};
  EXPECT_FALSE(spd.Add(ports).ok());
  EXPECT_FALSE(Prefix::Parse("10.0.0.0/33").ok());
  EXPECT_FALSE(Prefix::Parse("2001:db8::/129").ok());
}

TEST(SpdTest, LookupAndExtractDoNotAllocate) {
  Spd spd;
  for (int i = 0; i < 200; ++i) {
    SpdRule r = Rule("10.0.0.0/8", "10.0.0.0/8", PolicyAction::kDiscard, i);
    r.protocol = ip::kProtoTcp;
    ASSERT_TRUE(spd.Add(r).ok());
  }
  ASSERT_TRUE(spd.Add(Rule("192.0.2.0/24", "0.0.0.0/0", PolicyAction::kBypass, 1000)).ok());
  const auto pkt = MakePacket({});
  FlowKey k;
  const uint64_t before = g_allocs.load();
  const SpdRule* r = nullptr;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(ExtractFlowKey(pkt, &k));
    r = spd.Lookup(sa::Direction::kOutbound, k);
  }
  EXPECT_EQ(g_allocs.load(), before);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->action, PolicyAction::kBypass);
}

}  // namespace
}  // namespace ipsec::runtime

// CheckCardFit against capabilities with one thing missing at a time: each refusal names it.
namespace ipsec::runtime {
namespace {

driver::Capabilities FullCaps() {
  driver::Capabilities c;
  c.features = card::kDefaultFeatures;
  c.suites = card::kDefaultSuites;
  c.sa_count = 4096;
  c.max_replay_window = 1024;
  return c;
}

sa::SaConfig Tunnel(sa::Direction dir) {
  sa::SaConfig c;
  c.spi = 0x1234;
  c.direction = dir;
  c.tunnel_src = sa::IpAddress::V4(0xC6120001);
  c.tunnel_dst = sa::IpAddress::V4(0xC6120002);
  return c;
}

TEST(CardFitTest, NamesEachMissingCapability) {
  namespace f = card::field;
  EXPECT_TRUE(CheckCardFit(FullCaps(), Tunnel(sa::Direction::kOutbound)).ok());
  auto without = [](card::Field bit) {
    driver::Capabilities c = FullCaps();
    c.features &= ~bit.Mask();
    return c;
  };
  sa::SaConfig udp = Tunnel(sa::Direction::kOutbound);
  udp.udp_encap = sa::UdpEncap{};
  EXPECT_EQ(CheckCardFit(without(f::kIdFeaturesUdpEncap), udp).reason, CardRefusal::kEncap);
  sa::SaConfig esn = Tunnel(sa::Direction::kOutbound);
  esn.esn = true;
  EXPECT_EQ(CheckCardFit(without(f::kIdFeaturesEsn), esn).reason, CardRefusal::kEsn);
  sa::SaConfig life = Tunnel(sa::Direction::kOutbound);
  life.lifetime.hard_bytes = 1 << 20;
  EXPECT_EQ(CheckCardFit(without(f::kIdFeaturesLifetimes), life).reason, CardRefusal::kLifetime);
  EXPECT_TRUE(CheckCardFit(without(f::kIdFeaturesLifetimes), Tunnel(sa::Direction::kOutbound)).ok());
  sa::SaConfig v6 = Tunnel(sa::Direction::kOutbound);
  v6.tunnel_src = *sa::IpAddress::Parse("2001:db8::1");
  v6.tunnel_dst = *sa::IpAddress::Parse("2001:db8::2");
  EXPECT_EQ(CheckCardFit(without(f::kIdFeaturesTunnelIpv6), v6).reason, CardRefusal::kMode);
  sa::SaConfig transport = Tunnel(sa::Direction::kOutbound);
  transport.mode = sa::Mode::kTransport;
  transport.tunnel_src.reset();
  transport.tunnel_dst.reset();
  EXPECT_EQ(CheckCardFit(without(f::kIdFeaturesTransport), transport).reason, CardRefusal::kMode);
  EXPECT_EQ(CheckCardFit(without(f::kIdFeaturesEspInbound), Tunnel(sa::Direction::kInbound)).reason,
            CardRefusal::kDirection);
  sa::SaConfig ttl = Tunnel(sa::Direction::kOutbound);
  ttl.ttl = 32;
  EXPECT_EQ(CheckCardFit(without(f::kIdFeaturesEcnDscpTtl), ttl).reason, CardRefusal::kHeaderPolicy);
  sa::SaConfig chacha = Tunnel(sa::Direction::kOutbound);
  chacha.suite = sa::Suite::kChaCha20Poly1305;
  const CardFit suite = CheckCardFit(FullCaps(), chacha);
  EXPECT_EQ(suite.reason, CardRefusal::kSuite);
  EXPECT_NE(suite.detail.find("chacha"), std::string::npos) << suite.detail;
  sa::SaConfig ah = Tunnel(sa::Direction::kOutbound);
  ah.protocol = sa::Protocol::kAh;
  EXPECT_EQ(CheckCardFit(FullCaps(), ah).reason, CardRefusal::kProtocol);
  for (uint32_t w : {1u, 32u, 63u, 2048u}) {
    sa::SaConfig in = Tunnel(sa::Direction::kInbound);
    in.replay_window = w;
    const CardFit fit = CheckCardFit(FullCaps(), in);
    EXPECT_EQ(fit.reason, CardRefusal::kReplayWindow) << w;
    EXPECT_NE(fit.detail.find(std::to_string(w)), std::string::npos) << fit.detail;
  }
  for (uint32_t w : {0u, 64u, 1024u}) {
    sa::SaConfig in = Tunnel(sa::Direction::kInbound);
    in.replay_window = w;
    EXPECT_TRUE(CheckCardFit(FullCaps(), in).ok()) << w;
  }
}

}  // namespace
}  // namespace ipsec::runtime
