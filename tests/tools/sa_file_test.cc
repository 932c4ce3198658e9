// SA description files (host/sa/sa_file.h): every key, every error with its line number, multi-SA
// files, and that key text never appears in an error.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "host/common/bytes.h"
#include "host/sa/sa_file.h"

namespace ipsec::sa {
namespace {

// A valid outbound GCM tunnel SA; tests append or replace lines.
constexpr char kGcmTunnel[] =
    "spi = 0x1001\n"                                       // line 1
    "direction = out\n"                                    // line 2
    "mode = tunnel\n"                                      // line 3
    "suite = aes128gcm16\n"                                // line 4
    "key = 000102030405060708090a0b0c0d0e0f10111213\n"     // line 5
    "src = 203.0.113.1\n"                                  // line 6
    "dst = 203.0.113.2\n";                                 // line 7

std::string ErrorOf(std::string_view text) {
  auto r = ParseSaFile(text);
  EXPECT_FALSE(r.ok()) << "parsed unexpectedly:\n" << text;
  return r.ok() ? std::string() : r.status().message();
}

std::string Hex(const SecureBytes& b) { return HexEncode(b.span()); }

TEST(SaFileTest, ParsesMinimalTunnelSa) {
  auto r = ParseSaFile(kGcmTunnel);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const SaConfig& c = r->config;
  EXPECT_EQ(c.spi, 0x1001u);
  EXPECT_EQ(c.direction, Direction::kOutbound);
  EXPECT_EQ(c.protocol, Protocol::kEsp);  // default
  EXPECT_EQ(c.mode, Mode::kTunnel);
  EXPECT_EQ(c.suite, Suite::kAesGcm128);
  EXPECT_EQ(c.tunnel_src->ToString(), "203.0.113.1");
  EXPECT_EQ(c.tunnel_dst->ToString(), "203.0.113.2");
  EXPECT_EQ(Hex(r->keys.enc_key), "000102030405060708090a0b0c0d0e0f10111213");
  EXPECT_TRUE(r->keys.auth_key.empty());
  EXPECT_EQ(r->first_line, 1);
  // Defaults of everything not given.
  EXPECT_FALSE(c.udp_encap.has_value());
  EXPECT_FALSE(c.esn);
  EXPECT_EQ(c.initial_seq, 1u);
  EXPECT_EQ(c.replay_window, 64u);
  EXPECT_EQ(c.ttl, 64);
  EXPECT_EQ(c.dscp_mode, DscpMode::kCopy);
  EXPECT_EQ(c.ecn_mode, EcnMode::kNormal);
  EXPECT_EQ(c.df_mode, DfMode::kCopy);
  EXPECT_FALSE(c.verify_tunnel_addresses);
  EXPECT_FALSE(c.decrement_inner_ttl);
}

TEST(SaFileTest, ParsesEveryKey) {
  const char* text =
      "# every key\n"
      "  spi = 4096   # decimal\n"
      "direction=in\n"
      "protocol = esp\n"
      "mode = tunnel\n"
      "suite = aes256cbc-sha256\n"
      "key = 0x00:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:10:11:12:13:14:15:16:17:18:19:1a:1b:1c:1d:1e:1F\n"
      "auth_key = 2021222324252627 28292a2b2c2d2e2f 3031323334353637 38393a3b3c3d3e3f\n"
      "src = 2001:db8::1\n"
      "dst = 2001:db8::2\n"
      "encap = udp 4501 4502\n"
      "esn = yes\n"
      "seq = 0x100000000\n"
      "replay_window = 2048\n"
      "lifetime_bytes_soft = 1000\n"
      "lifetime_bytes_hard = 2000\n"
      "lifetime_packets_soft = 10\n"
      "lifetime_packets_hard = 20\n"
      "dscp = 46\n"
      "ecn = compat\n"
      "df = set\n"
      "ttl = 255\n"
      "verify_tunnel = yes\n"
      "decrement_inner_ttl = yes\n";
  auto r = ParseSaFile(text);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const SaConfig& c = r->config;
  EXPECT_EQ(c.spi, 4096u);
  EXPECT_EQ(c.direction, Direction::kInbound);
  EXPECT_EQ(c.suite, Suite::kAesCbc256HmacSha256);
  EXPECT_EQ(Hex(r->keys.enc_key), "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  EXPECT_EQ(Hex(r->keys.auth_key), "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f");
  EXPECT_TRUE(c.tunnel_src->v6);
  EXPECT_EQ(c.tunnel_dst->ToString(), "2001:db8::2");
  ASSERT_TRUE(c.udp_encap.has_value());
  EXPECT_EQ(c.udp_encap->src_port, 4501);
  EXPECT_EQ(c.udp_encap->dst_port, 4502);
  EXPECT_TRUE(c.esn);
  EXPECT_EQ(c.initial_seq, 0x100000000ULL);
  EXPECT_EQ(c.replay_window, 2048u);
  EXPECT_EQ(c.lifetime.soft_bytes, 1000u);
  EXPECT_EQ(c.lifetime.hard_bytes, 2000u);
  EXPECT_EQ(c.lifetime.soft_packets, 10u);
  EXPECT_EQ(c.lifetime.hard_packets, 20u);
  EXPECT_EQ(c.dscp_mode, DscpMode::kSet);
  EXPECT_EQ(c.dscp, 46);
  EXPECT_EQ(c.ecn_mode, EcnMode::kCompat);
  EXPECT_EQ(c.df_mode, DfMode::kSet);
  EXPECT_EQ(c.ttl, 255);
  EXPECT_TRUE(c.verify_tunnel_addresses);
  EXPECT_TRUE(c.decrement_inner_ttl);
  EXPECT_EQ(r->first_line, 2);
}

TEST(SaFileTest, ParsesValueVariants) {
  std::string base = kGcmTunnel;
  auto with = [&](const std::string& extra) {
    auto r = ParseSaFile(base + extra);
    EXPECT_TRUE(r.ok()) << extra << ": " << r.status().ToString();
    return r.ok() ? std::move(r).value().config : SaConfig{};
  };
  EXPECT_FALSE(with("encap = none\n").udp_encap.has_value());
  EXPECT_EQ(with("encap = udp\n").udp_encap->src_port, 4500);
  EXPECT_EQ(with("encap = udp 1234\n").udp_encap->dst_port, 4500);
  EXPECT_EQ(with("encap = udp 1234\n").udp_encap->src_port, 1234);
  EXPECT_FALSE(with("esn = no\n").esn);
  EXPECT_EQ(with("dscp = copy\n").dscp_mode, DscpMode::kCopy);
  EXPECT_EQ(with("dscp = 0\n").dscp_mode, DscpMode::kSet);
  EXPECT_EQ(with("ecn = normal\n").ecn_mode, EcnMode::kNormal);
  EXPECT_EQ(with("df = copy\n").df_mode, DfMode::kCopy);
  EXPECT_EQ(with("df = clear\n").df_mode, DfMode::kClear);
  EXPECT_FALSE(with("verify_tunnel = no\n").verify_tunnel_addresses);
  EXPECT_EQ(with("replay_window = 0\n").replay_window, 0u);
  auto upper = ParseSaFile(std::string(kGcmTunnel).replace(0, 12, "spi=0XFFFFFFFF"));
  ASSERT_TRUE(upper.ok()) << upper.status().ToString();
  EXPECT_EQ(upper->config.spi, 0xffffffffu);
}

TEST(SaFileTest, AcceptsCrLfAndTrailingCommentsAndNoFinalNewline) {
  auto r = ParseSaFile(
      "spi = 300\r\ndirection = out # outbound\r\nmode = transport\r\nsuite = null-sha256\r\n"
      "auth_key = 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.mode, Mode::kTransport);
  EXPECT_TRUE(r->keys.enc_key.empty());  // NULL encryption takes no key
  EXPECT_EQ(r->keys.auth_key.size(), 32u);
}

TEST(SaFileTest, ParsesAhSa) {
  auto r = ParseSaFile(
      "spi = 0x2001\ndirection = in\nprotocol = ah\nmode = transport\nsuite = aes128gmac\n"
      "key = 000102030405060708090a0b0c0d0e0f10111213\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.protocol, Protocol::kAh);
  EXPECT_EQ(r->config.suite, Suite::kAesGmac128);
}

TEST(SaFileTest, ReportsUnknownKeyWithLine) {
  EXPECT_EQ(ErrorOf("# comment\n\nspi = 300\ndirection = out\nmode = tunnel\nsuite = aes128gcm16\nspy = 1\n"),
            "line 7: unknown key 'spy'");
}

TEST(SaFileTest, ReportsBadHexWithLineAndWithoutKeyText) {
  const std::string secret = "00010203040506070809zz0b0c0d0e0f10111213";
  const std::string err = ErrorOf("spi = 300\ndirection = out\nkey = " + secret + "\n");
  EXPECT_EQ(err, "line 3: bad hex in key (not a hex digit)");
  EXPECT_EQ(ErrorOf("spi = 300\nauth_key = 0102030\n"), "line 2: bad hex in auth_key (odd number of digits)");
  EXPECT_EQ(ErrorOf("key = 0x\n"), "line 1: bad hex in key (no digits)");
}

TEST(SaFileTest, KeyTextNeverAppearsInErrors) {
  // Wrong length for the suite, a bad digit, a duplicate: none may echo the key.
  const std::string key = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
  for (const std::string& text :
       {std::string(kGcmTunnel).replace(std::string(kGcmTunnel).find("key = ") + 6, 40, key),
        "key = " + key + "\nkey = " + key + "\n", "auth_key = " + key + "q\n", "spi = 1\nkey = " + key + "\n"}) {
    auto r = ParseSaFileMulti(text);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message().find(key), std::string::npos) << r.status().message();
    EXPECT_EQ(r.status().message().find("a1b2"), std::string::npos) << r.status().message();
  }
}

TEST(SaFileTest, ReportsDuplicateKeyWithBothLines) {
  EXPECT_EQ(ErrorOf(std::string(kGcmTunnel) + "\nspi = 5000\n"), "line 9: duplicate key 'spi' (first on line 1)");
}

TEST(SaFileTest, ReportsMissingRequiredKeys) {
  EXPECT_EQ(ErrorOf("direction = out\nmode = tunnel\nsuite = aes128gcm16\n"),
            "SA at line 1: missing required key 'spi'");
  EXPECT_EQ(ErrorOf("\n\nspi = 300\nmode = tunnel\nsuite = aes128gcm16\n"),
            "SA at line 3: missing required key 'direction'");
  EXPECT_EQ(ErrorOf("spi = 300\ndirection = in\nsuite = aes128gcm16\n"), "SA at line 1: missing required key 'mode'");
  EXPECT_EQ(ErrorOf("spi = 300\ndirection = in\nmode = tunnel\n"), "SA at line 1: missing required key 'suite'");
  EXPECT_EQ(ErrorOf("spi = 300\ndirection = in\nmode = transport\nsuite = aes128gcm16\n"),
            "SA at line 1: missing required key 'key' (suite aes128gcm16)");
  EXPECT_EQ(ErrorOf("spi = 300\ndirection = in\nmode = transport\nsuite = aes128cbc-sha256\n"
                    "key = 000102030405060708090a0b0c0d0e0f\n"),
            "SA at line 1: missing required key 'auth_key' (suite aes128cbc-sha256)");
  EXPECT_EQ(ErrorOf("spi = 300\ndirection = in\nmode = tunnel\nsuite = aes128gcm16\n"
                    "key = 000102030405060708090a0b0c0d0e0f10111213\nsrc = 192.0.2.1\n"),
            "SA at line 1: missing required key 'dst' (tunnel mode)");
}

TEST(SaFileTest, ReportsKeyLengthOnTheKeyLine) {
  EXPECT_EQ(ErrorOf("spi = 300\ndirection = in\nmode = transport\nsuite = aes128gcm16\n"
                    "key = 000102030405060708090a0b0c0d0e0f\n"),
            "line 5: key has 16 bytes; suite aes128gcm16 needs 20 (cipher key followed by salt)");
  EXPECT_EQ(ErrorOf("spi = 300\ndirection = in\nmode = transport\nsuite = null-sha256\nkey = 00\n"
                    "auth_key = 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"),
            "line 5: suite null-sha256 takes no key");
  EXPECT_EQ(ErrorOf("spi = 300\ndirection = in\nmode = transport\nsuite = aes128gcm16\n"
                    "key = 000102030405060708090a0b0c0d0e0f10111213\nauth_key = 00\n"),
            "line 6: suite aes128gcm16 takes no auth_key");
  EXPECT_EQ(ErrorOf("spi = 300\ndirection = in\nmode = transport\nsuite = null-sha256\nauth_key = 0011\n"),
            "line 5: auth_key has 2 bytes; suite null-sha256 needs 32");
}

TEST(SaFileTest, ReportsBadValuesWithLine) {
  struct Case {
    const char* line;
    const char* error;
  } cases[] = {
      {"spi = 0x1g", "spi: expected a number (decimal or 0x hex)"},
      {"spi = -5", "spi: expected a number (decimal or 0x hex)"},
      {"spi = 4294967296", "spi: 4294967296 is outside 0..4294967295"},
      {"spi = 99999999999999999999999", "spi: expected a number (decimal or 0x hex)"},
      {"direction = both", "direction: expected in or out"},
      {"protocol = ipcomp", "protocol: expected esp or ah"},
      {"mode = beet", "mode: expected tunnel or transport"},
      {"suite = rot13", "unknown suite 'rot13'"},
      {"src = 300.1.1.1", "src: not an IPv4 or IPv6 address: '300.1.1.1'"},
      {"dst = example.org", "dst: not an IPv4 or IPv6 address: 'example.org'"},
      {"encap = tcp", "encap: expected 'none' or 'udp [src_port [dst_port]]'"},
      {"encap = udp 0", "encap: port must be 1..65535"},
      {"encap = udp 4500 65536", "encap: port must be 1..65535"},
      {"encap = udp 1 2 3", "encap: expected 'none' or 'udp [src_port [dst_port]]'"},
      {"esn = maybe", "esn: expected yes or no"},
      {"seq = 0", "seq: 0 is outside 1..18446744073709551615"},
      {"replay_window = 65537", "replay_window: 65537 is outside 0..65536"},
      {"lifetime_bytes_soft = lots", "lifetime_bytes_soft: expected a number (decimal or 0x hex)"},
      {"lifetime_bytes_hard = -1", "lifetime_bytes_hard: expected a number (decimal or 0x hex)"},
      {"lifetime_packets_soft = 1.5", "lifetime_packets_soft: expected a number (decimal or 0x hex)"},
      {"lifetime_packets_hard = x", "lifetime_packets_hard: expected a number (decimal or 0x hex)"},
      {"dscp = 64", "dscp: 64 is outside 0..63"},
      {"dscp = ef", "dscp: expected a number (decimal or 0x hex)"},
      {"ecn = on", "ecn: expected normal or compat"},
      {"df = keep", "df: expected copy, set or clear"},
      {"ttl = 0", "ttl: 0 is outside 1..255"},
      {"ttl = 256", "ttl: 256 is outside 1..255"},
      {"verify_tunnel = true", "verify_tunnel: expected yes or no"},
      {"decrement_inner_ttl = 1", "decrement_inner_ttl: expected yes or no"},
      {"spi =", "missing value for 'spi'"},
      {"spi", "expected 'key = value'"},
      {"= 5", "expected 'key = value' (no key before '=')"},
      {"[ah]", "unknown section header (only [sa] is allowed)"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ErrorOf(std::string("# first line\n") + c.line + "\n"), std::string("line 2: ") + c.error) << c.line;
  }
}

TEST(SaFileTest, ReportsTunnelOnlyKeysInTransportMode) {
  const std::string transport =
      "spi = 300\ndirection = out\nmode = transport\nsuite = aes128gcm16\n"
      "key = 000102030405060708090a0b0c0d0e0f10111213\n";
  EXPECT_EQ(ErrorOf(transport + "src = 192.0.2.1\n"), "line 6: src applies to tunnel mode only");
  EXPECT_EQ(ErrorOf(transport + "dst = 192.0.2.1\n"), "line 6: dst applies to tunnel mode only");
  EXPECT_EQ(ErrorOf(transport + "verify_tunnel = yes\n"), "line 6: verify_tunnel applies to tunnel mode only");
}

TEST(SaFileTest, ReportsValidateErrorsForTheSa) {
  EXPECT_EQ(ErrorOf(std::string(kGcmTunnel).replace(0, 12, "spi = 255   ")),
            "SA at line 1: SPI values 0-255 are reserved (RFC 4303 §2.1)");
  EXPECT_EQ(ErrorOf(std::string(kGcmTunnel) + "dst2 = 1\n"), "line 8: unknown key 'dst2'");
  std::string mixed = kGcmTunnel;
  mixed.replace(mixed.find("203.0.113.2"), 11, "2001:db8::2");
  EXPECT_EQ(ErrorOf(mixed), "SA at line 1: tunnel source and destination must be of one address family");
  EXPECT_EQ(ErrorOf(std::string(kGcmTunnel) + "seq = 0x100000000\n"),
            "SA at line 1: initial sequence number needs ESN above 2^32-1");
  EXPECT_EQ(ErrorOf(std::string(kGcmTunnel) + "lifetime_packets_soft = 5\nlifetime_packets_hard = 4\n"),
            "SA at line 1: soft lifetime must not exceed the hard lifetime");
  EXPECT_EQ(ErrorOf("spi = 300\ndirection = out\nprotocol = ah\nmode = transport\nsuite = aes128gcm16\n"
                    "key = 000102030405060708090a0b0c0d0e0f10111213\n"),
            "SA at line 1: suite aes128gcm16 is not an AH suite (AH only authenticates)");
  EXPECT_EQ(ErrorOf("spi = 300\ndirection = out\nprotocol = ah\nmode = transport\nsuite = null-sha256\n"
                    "auth_key = 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\nencap = udp\n"),
            "line 7: UDP encapsulation applies to ESP only (RFC 3948)");
}

TEST(SaFileTest, RejectsEmptyFile) {
  EXPECT_EQ(ErrorOf(""), "no SA in file (expected 'key = value' lines)");
  EXPECT_EQ(ErrorOf("# only a comment\n\n"), "no SA in file (expected 'key = value' lines)");
}

TEST(SaFileTest, ParsesMultipleSections) {
  const std::string text = std::string("# pair\n[sa]\n") + kGcmTunnel + "\n[sa]\n" +
                           std::string(kGcmTunnel).replace(std::string(kGcmTunnel).find("out"), 3, "in");
  auto r = ParseSaFileMulti(text);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].config.direction, Direction::kOutbound);
  EXPECT_EQ((*r)[1].config.direction, Direction::kInbound);
  EXPECT_EQ((*r)[0].first_line, 2);
  EXPECT_EQ((*r)[1].first_line, 11);
  // The same key in two sections is not a duplicate.
  EXPECT_EQ((*r)[1].config.spi, 0x1001u);
  // ParseSaFile wants exactly one.
  EXPECT_EQ(ErrorOf(text), "line 11: second [sa] section: this file may hold one SA only");
  // One section with its header is fine for ParseSaFile.
  EXPECT_TRUE(ParseSaFile(std::string("[sa]\n") + kGcmTunnel).ok());
}

TEST(SaFileTest, ReportsSectionErrors) {
  EXPECT_EQ(ParseSaFileMulti("[sa]\n\n[sa]\n").status().message(), "line 1: empty [sa] section");
  EXPECT_EQ(ParseSaFileMulti(std::string("[sa]\n") + kGcmTunnel + "[sa]\n").status().message(),
            "line 9: empty [sa] section");
  EXPECT_EQ(ParseSaFileMulti(std::string(kGcmTunnel) + "[sa]\n" + kGcmTunnel).status().message(),
            "line 8: [sa] header after keys without one (every SA needs its own [sa] header)");
  // An error inside the second section names its own line.
  EXPECT_EQ(ParseSaFileMulti(std::string("[sa]\n") + kGcmTunnel + "[sa]\nspy = 1\n").status().message(),
            "line 10: unknown key 'spy'");
  EXPECT_EQ(ParseSaFileMulti(std::string("[sa]\n") + kGcmTunnel + "[sa]\nspi = 300\n").status().message(),
            "SA at line 9: missing required key 'direction'");
}

TEST(SaFileTest, UnknownKeyNamesAreShortenedAndSanitised) {
  EXPECT_EQ(ErrorOf("a\x01" "b = 1\n"), "line 1: unknown key 'a?b'");
  EXPECT_EQ(ErrorOf(std::string(40, 'k') + " = 1\n"), "line 1: unknown key '" + std::string(32, 'k') + "...'");
}

class SaFileLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sa_file_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const auto p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  std::filesystem::path dir_;
};

TEST_F(SaFileLoadTest, LoadsFilesAndPrefixesErrorsWithThePath) {
  const std::string good = Write("good.sa", kGcmTunnel);
  auto r = LoadSaFile(good);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.spi, 0x1001u);
  auto m = LoadSaFileMulti(good);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->size(), 1u);

  const std::string bad = Write("bad.sa", "spy = 1\n");
  EXPECT_EQ(LoadSaFile(bad).status().message(), bad + ": line 1: unknown key 'spy'");
  EXPECT_EQ(LoadSaFileMulti(bad).status().message(), bad + ": line 1: unknown key 'spy'");

  auto missing = LoadSaFile((dir_ / "nope.sa").string());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nope.sa"), std::string::npos);
  EXPECT_FALSE(LoadSaFile(dir_.string()).ok());  // a directory
  EXPECT_NE(LoadSaFile(Write("big.sa", std::string((1 << 20) + 1, '#'))).status().message().find("larger than 1 MiB"),
            std::string::npos);
}

TEST_F(SaFileLoadTest, LoadsTheExampleFiles) {
  const std::filesystem::path examples = std::filesystem::path(IPSEC_TOOLS_EXAMPLES_DIR);
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(examples)) {
    if (e.path().extension() != ".sa") continue;
    ++files;
    auto r = LoadSaFileMulti(e.path().string());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
  }
  EXPECT_GE(files, 3u);
}

}  // namespace
}  // namespace ipsec::sa
