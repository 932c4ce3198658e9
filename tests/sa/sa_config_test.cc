// SaConfig::Validate, KeyMaterial::ValidateFor, suite names, IpAddress parsing and lifetime events.
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "host/sa/sa_config.h"
#include "host/sa/sa_stats.h"
#include "host/sa/suite.h"

namespace ipsec::sa {
namespace {

constexpr Suite kAllSuites[] = {Suite::kAesGcm128,           Suite::kAesGcm256,           Suite::kAesGmac128,
                                Suite::kAesGmac256,          Suite::kAesCbc128HmacSha256, Suite::kAesCbc256HmacSha256,
                                Suite::kNullHmacSha256,      Suite::kChaCha20Poly1305};

IpAddress Addr(const char* text) {
  auto a = IpAddress::Parse(text);
  EXPECT_TRUE(a.ok()) << text;
  return a.ok() ? a.value() : IpAddress{};
}

SaConfig ValidTunnel() {
  SaConfig c;
  c.spi = 0x1000;
  c.mode = Mode::kTunnel;
  c.tunnel_src = Addr("192.0.2.1");
  c.tunnel_dst = Addr("198.51.100.1");
  return c;
}

// ---- SaConfig::Validate --------------------------------------------------------------------------

TEST(SaConfig, AcceptsValidTunnelAndTransportConfigs) {
  EXPECT_TRUE(ValidTunnel().Validate().ok()) << ValidTunnel().Validate().ToString();
  SaConfig t;
  t.spi = 256;
  t.mode = Mode::kTransport;
  EXPECT_TRUE(t.Validate().ok()) << t.Validate().ToString();
  SaConfig v6 = ValidTunnel();
  v6.tunnel_src = Addr("2001:db8::1");
  v6.tunnel_dst = Addr("2001:db8::2");
  v6.udp_encap = UdpEncap{};
  v6.esn = true;
  v6.initial_seq = uint64_t{1} << 40;
  v6.replay_window = kMaxReplayWindow;
  v6.dscp = 63;
  v6.ttl = 1;
  v6.lifetime = {.soft_bytes = 100, .hard_bytes = 100, .soft_packets = 5, .hard_packets = 0};
  EXPECT_TRUE(v6.Validate().ok()) << v6.Validate().ToString();
}

TEST(SaConfig, EspAcceptsEverySuiteAndAhOnlyAuthenticationSuites) {
  for (Suite s : kAllSuites) {
    SaConfig c = ValidTunnel();
    c.suite = s;
    c.protocol = Protocol::kEsp;
    EXPECT_TRUE(c.Validate().ok()) << SuiteName(s);
    c.protocol = Protocol::kAh;
    const bool ah_ok = s == Suite::kAesGmac128 || s == Suite::kAesGmac256 || s == Suite::kNullHmacSha256;
    EXPECT_EQ(c.Validate().ok(), ah_ok) << SuiteName(s);
    if (!ah_ok) {
      EXPECT_EQ(c.Validate().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(SaConfig, RejectsReservedSpi) {
  for (uint32_t spi : {0u, 1u, 255u}) {
    SaConfig c = ValidTunnel();
    c.spi = spi;
    EXPECT_EQ(c.Validate().code(), StatusCode::kInvalidArgument) << spi;
  }
}

TEST(SaConfig, RejectsTunnelWithoutEndpoints) {
  SaConfig c = ValidTunnel();
  c.tunnel_src.reset();
  EXPECT_EQ(c.Validate().code(), StatusCode::kInvalidArgument);
  c = ValidTunnel();
  c.tunnel_dst.reset();
  EXPECT_EQ(c.Validate().code(), StatusCode::kInvalidArgument);
}

TEST(SaConfig, RejectsTunnelEndpointsOfMixedFamilies) {
  SaConfig c = ValidTunnel();
  c.tunnel_dst = Addr("2001:db8::2");
  EXPECT_EQ(c.Validate().code(), StatusCode::kInvalidArgument);
}

TEST(SaConfig, RejectsUdpEncapsulationForAh) {
  SaConfig c = ValidTunnel();
  c.protocol = Protocol::kAh;
  c.suite = Suite::kNullHmacSha256;
  ASSERT_TRUE(c.Validate().ok());
  c.udp_encap = UdpEncap{};
  EXPECT_EQ(c.Validate().code(), StatusCode::kInvalidArgument);
}

TEST(SaConfig, RejectsReplayWindowAboveMaximum) {
  SaConfig c = ValidTunnel();
  c.replay_window = kMaxReplayWindow;
  EXPECT_TRUE(c.Validate().ok());
  c.replay_window = kMaxReplayWindow + 1;
  EXPECT_EQ(c.Validate().code(), StatusCode::kOutOfRange);
  c.replay_window = 0;
  EXPECT_TRUE(c.Validate().ok());
}

TEST(SaConfig, RejectsInitialSequenceZeroAndLargeWithoutEsn) {
  SaConfig c = ValidTunnel();
  c.initial_seq = 0;
  EXPECT_EQ(c.Validate().code(), StatusCode::kInvalidArgument);
  c.initial_seq = 0xffffffffULL;
  EXPECT_TRUE(c.Validate().ok());
  c.initial_seq = 0x100000000ULL;
  EXPECT_EQ(c.Validate().code(), StatusCode::kOutOfRange);
  c.esn = true;
  EXPECT_TRUE(c.Validate().ok());
}

TEST(SaConfig, RejectsOutOfRangeDscpAndZeroTtl) {
  SaConfig c = ValidTunnel();
  c.dscp_mode = DscpMode::kSet;
  c.dscp = 64;
  EXPECT_EQ(c.Validate().code(), StatusCode::kOutOfRange);
  c = ValidTunnel();
  c.ttl = 0;
  EXPECT_EQ(c.Validate().code(), StatusCode::kInvalidArgument);
}

TEST(SaConfig, RejectsSoftLifetimeAboveHard) {
  SaConfig c = ValidTunnel();
  c.lifetime = {.soft_bytes = 1001, .hard_bytes = 1000};
  EXPECT_EQ(c.Validate().code(), StatusCode::kInvalidArgument);
  c.lifetime = {.soft_packets = 11, .hard_packets = 10};
  EXPECT_EQ(c.Validate().code(), StatusCode::kInvalidArgument);
  // A soft limit with no hard limit, or a hard limit alone, is fine.
  c.lifetime = {.soft_bytes = 1001, .hard_bytes = 0, .soft_packets = 0, .hard_packets = 10};
  EXPECT_TRUE(c.Validate().ok());
}

TEST(SaConfig, NamesDirectionsModesAndProtocols) {
  EXPECT_EQ(DirectionName(Direction::kOutbound), "out");
  EXPECT_EQ(DirectionName(Direction::kInbound), "in");
  EXPECT_EQ(ModeName(Mode::kTunnel), "tunnel");
  EXPECT_EQ(ModeName(Mode::kTransport), "transport");
  EXPECT_EQ(ProtocolName(Protocol::kEsp), "esp");
  EXPECT_EQ(ProtocolName(Protocol::kAh), "ah");
}

// ---- KeyMaterial::ValidateFor --------------------------------------------------------------------

struct KeyLens {
  Suite suite;
  size_t enc;   // cipher key + salt (RFC 4106 §8.1, RFC 4543 §3.2, RFC 7634 §2)
  size_t auth;  // RFC 4868: HMAC-SHA-256 key is 32 bytes
};
constexpr KeyLens kKeyLens[] = {
    {Suite::kAesGcm128, 20, 0},           {Suite::kAesGcm256, 36, 0},
    {Suite::kAesGmac128, 20, 0},          {Suite::kAesGmac256, 36, 0},
    {Suite::kAesCbc128HmacSha256, 16, 32}, {Suite::kAesCbc256HmacSha256, 32, 32},
    {Suite::kNullHmacSha256, 0, 32},      {Suite::kChaCha20Poly1305, 36, 0},
};

KeyMaterial Keys(size_t enc, size_t auth) {
  KeyMaterial k;
  k.enc_key = SecureBytes(enc);
  k.auth_key = SecureBytes(auth);
  return k;
}

TEST(SaKeyMaterial, AcceptsKeyLengthsOfEachSuite) {
  for (const KeyLens& l : kKeyLens) {
    EXPECT_TRUE(Keys(l.enc, l.auth).ValidateFor(l.suite).ok()) << SuiteName(l.suite);
  }
}

TEST(SaKeyMaterial, RejectsWrongKeyLengths) {
  for (const KeyLens& l : kKeyLens) {
    SCOPED_TRACE(std::string(SuiteName(l.suite)));
    EXPECT_EQ(Keys(l.enc + 1, l.auth).ValidateFor(l.suite).code(), StatusCode::kInvalidArgument);
    if (l.enc > 0) {
      EXPECT_EQ(Keys(l.enc - 1, l.auth).ValidateFor(l.suite).code(), StatusCode::kInvalidArgument);
    }
    EXPECT_EQ(Keys(l.enc, l.auth + 16).ValidateFor(l.suite).code(), StatusCode::kInvalidArgument);
    if (l.auth > 0) {
      EXPECT_EQ(Keys(l.enc, l.auth - 16).ValidateFor(l.suite).code(), StatusCode::kInvalidArgument);
    }
  }
  // An AEAD key without its salt.
  EXPECT_FALSE(Keys(16, 0).ValidateFor(Suite::kAesGcm128).ok());
  EXPECT_FALSE(Keys(32, 0).ValidateFor(Suite::kChaCha20Poly1305).ok());
  EXPECT_FALSE(Keys(0, 0).ValidateFor(Suite::kNullHmacSha256).ok());
}

// ---- Suites ---------------------------------------------------------------------------------------

TEST(SaSuite, ParseSuiteRoundTripsEverySuiteName) {
  for (Suite s : kAllSuites) {
    const std::string_view name = SuiteName(s);
    EXPECT_FALSE(name.empty());
    auto parsed = ParseSuite(name);
    ASSERT_TRUE(parsed.ok()) << name;
    EXPECT_EQ(*parsed, s) << name;
  }
}

TEST(SaSuite, ParseSuiteAcceptsAliasesAndRejectsUnknownNames) {
  const std::pair<const char*, Suite> aliases[] = {
      {"sha256", Suite::kNullHmacSha256},          {"hmac-sha256", Suite::kNullHmacSha256},
      {"aes128-sha256", Suite::kAesCbc128HmacSha256}, {"aes256-sha256", Suite::kAesCbc256HmacSha256},
      {"aes128gmac16", Suite::kAesGmac128},        {"aes256gmac16", Suite::kAesGmac256},
  };
  for (const auto& [name, suite] : aliases) {
    auto parsed = ParseSuite(name);
    ASSERT_TRUE(parsed.ok()) << name;
    EXPECT_EQ(*parsed, suite) << name;
  }
  for (const char* bad : {"", "aes192gcm16", "aes128gcm", "des", "aes128gcm16 "}) {
    auto parsed = ParseSuite(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(SaSuite, SuitePropertiesMatchTheirRfcs) {
  for (Suite s : kAllSuites) {
    const SuiteInfo& info = GetSuiteInfo(s);
    SCOPED_TRACE(std::string(info.name));
    EXPECT_EQ(info.icv_len, 16u);  // RFC 4106/4543/4868/7634: 128-bit ICV
    EXPECT_TRUE(info.esp_ok);
  }
  EXPECT_EQ(GetSuiteInfo(Suite::kAesGcm128).iv_len, 8u);  // RFC 4106 §3.1
  EXPECT_EQ(GetSuiteInfo(Suite::kChaCha20Poly1305).iv_len, 8u);  // RFC 7634 §2
  EXPECT_EQ(GetSuiteInfo(Suite::kAesCbc128HmacSha256).iv_len, 16u);  // RFC 3602 §3
  EXPECT_EQ(GetSuiteInfo(Suite::kAesCbc128HmacSha256).align, 16u);
  EXPECT_FALSE(GetSuiteInfo(Suite::kAesGmac128).encrypts);
  EXPECT_FALSE(GetSuiteInfo(Suite::kNullHmacSha256).encrypts);
  EXPECT_TRUE(GetSuiteInfo(Suite::kAesGcm256).encrypts);
}

// ---- IpAddress ------------------------------------------------------------------------------------

TEST(SaIpAddress, ParsesIpv4) {
  auto a = IpAddress::Parse("192.0.2.1");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->v6);
  EXPECT_EQ(a->size(), 4u);
  EXPECT_EQ(a->bytes[0], 192);
  EXPECT_EQ(a->bytes[1], 0);
  EXPECT_EQ(a->bytes[2], 2);
  EXPECT_EQ(a->bytes[3], 1);
  EXPECT_EQ(a->ToString(), "192.0.2.1");
  EXPECT_EQ(*a, IpAddress::V4(0xc0000201u));
}

TEST(SaIpAddress, ParsesIpv6) {
  auto a = IpAddress::Parse("2001:db8::1");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->v6);
  EXPECT_EQ(a->size(), 16u);
  EXPECT_EQ(a->bytes[0], 0x20);
  EXPECT_EQ(a->bytes[1], 0x01);
  EXPECT_EQ(a->bytes[2], 0x0d);
  EXPECT_EQ(a->bytes[3], 0xb8);
  EXPECT_EQ(a->bytes[15], 0x01);
  EXPECT_EQ(a->ToString(), "2001:db8::1");
  for (const char* text : {"::", "::1", "fe80::1:2:3:4", "::ffff:192.0.2.1"}) {
    auto b = IpAddress::Parse(text);
    ASSERT_TRUE(b.ok()) << text;
    EXPECT_TRUE(b->v6) << text;
    auto again = IpAddress::Parse(b->ToString());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *b) << text;
  }
}

TEST(SaIpAddress, ParsesOnlyTheGivenViewOfALongerString) {
  const std::string_view text("10.1.2.3trailing", 8);
  auto a = IpAddress::Parse(text);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, IpAddress::V4(0x0a010203u));
}

TEST(SaIpAddress, RejectsInvalidAddresses) {
  for (const char* bad : {"", "256.0.0.1", "1.2.3", "1.2.3.4.5", "example.com", "2001:db8:::1", " 1.2.3.4",
                          "1.2.3.4/24", "2001:db8::g", "12345::1"}) {
    auto a = IpAddress::Parse(bad);
    EXPECT_FALSE(a.ok()) << "'" << bad << "'";
    if (!a.ok()) {
      EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(SaIpAddress, EqualityDistinguishesFamilies) {
  // 0.0.0.0 and :: have the same (all-zero) bytes but are different addresses.
  EXPECT_NE(Addr("0.0.0.0"), Addr("::"));
  EXPECT_EQ(Addr("10.0.0.1"), Addr("10.0.0.1"));
  EXPECT_NE(Addr("10.0.0.1"), Addr("10.0.0.2"));
}

// ---- LifetimeTracker ------------------------------------------------------------------------------

class FakeSink : public SaEventSink {
 public:
  void OnSaEvent(uint32_t spi, Direction direction, SaEvent event) override {
    events.emplace_back(spi, direction, event);
  }
  size_t Count(SaEvent e) const {
    size_t n = 0;
    for (const auto& ev : events) n += std::get<2>(ev) == e ? 1 : 0;
    return n;
  }
  std::vector<std::tuple<uint32_t, Direction, SaEvent>> events;
};

TEST(SaLifetimeTracker, PacketLimitsFireSoftThenHardExactlyOnce) {
  LifetimeTracker t(Lifetime{.soft_packets = 3, .hard_packets = 5});
  FakeSink sink;
  EXPECT_EQ(t.PacketsLeft(), 5u);
  for (int i = 1; i <= 2; ++i) t.Account(1, 100, 0x1234, Direction::kInbound, &sink);
  EXPECT_TRUE(sink.events.empty());
  t.Account(1, 100, 0x1234, Direction::kInbound, &sink);  // 3rd packet: soft
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0], std::make_tuple(0x1234u, Direction::kInbound, SaEvent::kSoftLifetime));
  EXPECT_FALSE(t.expired());
  EXPECT_EQ(t.PacketsLeft(), 2u);
  t.Account(1, 100, 0x1234, Direction::kInbound, &sink);
  EXPECT_EQ(sink.events.size(), 1u);
  t.Account(1, 100, 0x1234, Direction::kInbound, &sink);  // 5th packet: hard
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[1], std::make_tuple(0x1234u, Direction::kInbound, SaEvent::kHardLifetime));
  EXPECT_TRUE(t.expired());
  EXPECT_EQ(t.PacketsLeft(), 0u);
  for (int i = 0; i < 10; ++i) t.Account(1, 100, 0x1234, Direction::kInbound, &sink);
  EXPECT_EQ(sink.Count(SaEvent::kSoftLifetime), 1u);
  EXPECT_EQ(sink.Count(SaEvent::kHardLifetime), 1u);
}

TEST(SaLifetimeTracker, ByteLimitsFireSoftThenHardExactlyOnce) {
  LifetimeTracker t(Lifetime{.soft_bytes = 1000, .hard_bytes = 1500});
  FakeSink sink;
  t.Account(1, 999, 7, Direction::kOutbound, &sink);
  EXPECT_TRUE(sink.events.empty());
  t.Account(1, 1, 7, Direction::kOutbound, &sink);  // exactly the soft limit
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(std::get<2>(sink.events[0]), SaEvent::kSoftLifetime);
  EXPECT_EQ(std::get<1>(sink.events[0]), Direction::kOutbound);
  t.Account(1, 499, 7, Direction::kOutbound, &sink);
  EXPECT_FALSE(t.expired());
  t.Account(1, 1, 7, Direction::kOutbound, &sink);
  EXPECT_TRUE(t.expired());
  t.Account(1, 5000, 7, Direction::kOutbound, &sink);
  EXPECT_EQ(sink.Count(SaEvent::kSoftLifetime), 1u);
  EXPECT_EQ(sink.Count(SaEvent::kHardLifetime), 1u);
  EXPECT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(t.PacketsLeft(), 0u);  // expired, though no packet limit was set
}

TEST(SaLifetimeTracker, OneBatchCrossingBothLimitsFiresSoftBeforeHard) {
  LifetimeTracker t(Lifetime{.soft_packets = 10, .hard_packets = 20});
  FakeSink sink;
  t.Account(32, 32 * 1400, 99, Direction::kInbound, &sink);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(std::get<2>(sink.events[0]), SaEvent::kSoftLifetime);
  EXPECT_EQ(std::get<2>(sink.events[1]), SaEvent::kHardLifetime);
  EXPECT_TRUE(t.expired());
}

TEST(SaLifetimeTracker, NoLimitsNeverFireOrExpire) {
  LifetimeTracker t(Lifetime{});
  FakeSink sink;
  for (int i = 0; i < 100; ++i) t.Account(1000, 1u << 20, 1, Direction::kInbound, &sink);
  EXPECT_TRUE(sink.events.empty());
  EXPECT_FALSE(t.expired());
  EXPECT_EQ(t.PacketsLeft(), std::numeric_limits<uint64_t>::max());
}

TEST(SaLifetimeTracker, NullSinkStillTracksExpiry) {
  LifetimeTracker t(Lifetime{.soft_packets = 1, .hard_packets = 2});
  t.Account(1, 1, 1, Direction::kInbound, nullptr);
  EXPECT_FALSE(t.expired());
  t.Account(1, 1, 1, Direction::kInbound, nullptr);
  EXPECT_TRUE(t.expired());
}

TEST(SaStats, EveryDropReasonAndEventHasAName) {
  for (size_t i = 0; i < kNumDropReasons; ++i) {
    EXPECT_NE(DropReasonName(static_cast<DropReason>(i)), "?") << i;
  }
  for (SaEvent e : {SaEvent::kSoftLifetime, SaEvent::kHardLifetime, SaEvent::kSeqOverflow}) {
    EXPECT_NE(SaEventName(e), "?");
  }
  SaCounters c;
  c.drops[static_cast<size_t>(DropReason::kReplay)] = 3;
  c.drops[static_cast<size_t>(DropReason::kAuthFailed)] = 4;
  EXPECT_EQ(c.total_drops(), 7u);
  EXPECT_EQ(c.drop(DropReason::kReplay), 3u);
}

}  // namespace
}  // namespace ipsec::sa
