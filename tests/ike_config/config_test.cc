// swanctl.conf model (host/ike/config/config.h): the example files, every default, every error
// with its exact line, secrets in each format, and the shared-secret lookup.
#include "host/ike/config/config.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ipsec::ike::config {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

Config MustParse(std::string_view text, const ParseOptions& o = {}) {
  auto c = ParseConfig(text, "swanctl.conf", o);
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? std::move(*c) : Config{};
}

std::string ParseError(std::string_view text) {
  auto c = ParseConfig(text, "swanctl.conf");
  EXPECT_FALSE(c.ok()) << text;
  if (c.ok()) return "";
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  return c.status().message();
}

std::vector<std::string> Describe(const std::vector<Proposal>& ps) {
  std::vector<std::string> out;
  for (const Proposal& p : ps) out.push_back(DescribeProposal(p));
  return out;
}

std::vector<std::byte> B(std::string_view s) {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  return {p, p + s.size()};
}

std::vector<std::byte> Secret(const SecureBytes& s) { return {s.span().begin(), s.span().end()}; }

Identity Id(std::string_view s) { return *ParseIdentity(s); }

const std::string kExamples = IPSEC_IKE_CONFIG_EXAMPLES_DIR;

TEST(ConfigExamplesTest, PskGcmMatchesTheStrongSwanInteropSetup) {
  auto loaded = LoadConfigFile(kExamples + "/psk-gcm.conf");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const Config& c = *loaded;
  ASSERT_EQ(c.connections.size(), 1u);
  const Connection& gw = c.connections[0];
  EXPECT_EQ(gw.name, "gw");
  EXPECT_EQ(gw.location, kExamples + "/psk-gcm.conf:6");
  ASSERT_EQ(gw.local_addrs.size(), 1u);
  EXPECT_TRUE(gw.local_addrs[0].Contains(*sa::IpAddress::Parse("198.18.0.1")));
  EXPECT_TRUE(gw.remote_addrs[0].Contains(*sa::IpAddress::Parse("198.18.0.2")));
  EXPECT_EQ(Describe(gw.proposals), std::vector<std::string>{"aes256gcm16-prfsha256-x25519"});
  EXPECT_TRUE(gw.encap);
  EXPECT_EQ(gw.fragmentation, Fragmentation::kNo);
  EXPECT_FALSE(gw.send_certreq);
  EXPECT_EQ(gw.dpd_delay, std::chrono::seconds(30));
  EXPECT_EQ(gw.rekey_time, hours(4));
  EXPECT_EQ(gw.over_time, minutes(24));
  EXPECT_EQ(gw.local.auth, AuthClass::kPsk);
  EXPECT_EQ(gw.local.id, Id("@moon.example.com"));
  EXPECT_EQ(gw.remote.id, Id("@sun.example.com"));
  ASSERT_EQ(gw.children.size(), 1u);
  const ChildConfig& net = gw.children[0];
  EXPECT_EQ(gw.FindChild("net"), &net);
  EXPECT_EQ(net.local_ts.entries.at(0).ts, TrafficSelector::Ipv4Range({192, 0, 2, 0}, {192, 0, 2, 255}));
  EXPECT_EQ(net.remote_ts.entries.at(0).ts, TrafficSelector::Ipv4Range({198, 51, 100, 0}, {198, 51, 100, 255}));
  EXPECT_EQ(Describe(net.esp_proposals), (std::vector<std::string>{"aes256gcm16-noesn", "aes128gcm16-noesn"}));
  EXPECT_EQ(net.esp_proposals[1].number, 2);
  EXPECT_TRUE(net.ah_proposals.empty());
  EXPECT_EQ(net.mode, Mode::kTunnel);
  EXPECT_EQ(net.rekey_time, hours(1));
  EXPECT_EQ(net.life_time, minutes(66));
  EXPECT_EQ(net.start_action, StartAction::kStart);
  EXPECT_EQ(net.dpd_action, DpdAction::kRestart);

  ASSERT_EQ(c.shared_secrets.size(), 1u);
  EXPECT_EQ(Secret(c.shared_secrets[0].secret), B("an example key, not a real one"));
  const SharedSecret* psk = c.FindSharedSecret(*gw.local.id, *gw.remote.id);
  ASSERT_NE(psk, nullptr);
  EXPECT_EQ(psk->name, "ike-gw");
}

TEST(ConfigExamplesTest, CertsEcdsaResolvesCredentialsLikeSwanctl) {
  auto loaded = LoadConfigFile(kExamples + "/certs-ecdsa.conf");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const Connection& gw = loaded->connections.at(0);
  EXPECT_EQ(Describe(gw.proposals),
            (std::vector<std::string>{"aes256gcm16-prfsha256-x25519", "aes128-sha256-prfsha256-ecp256"}));
  EXPECT_EQ(gw.send_cert, SendCert::kAlways);
  EXPECT_EQ(gw.local.auth, AuthClass::kPubkey);
  EXPECT_EQ(gw.local.key_type, KeyTypeHint::kEcdsa);
  EXPECT_EQ(gw.local.hashes, std::vector<HashAlgorithm>{HashAlgorithm::kSha2_256});
  EXPECT_EQ(gw.local.certs, std::vector<std::string>{kExamples + "/x509/moonCert.pem"});
  EXPECT_EQ(gw.local.id->type, IdType::kFqdn);
  EXPECT_EQ(gw.remote.id->type, IdType::kDerAsn1Dn);
  EXPECT_EQ(gw.remote.cacerts, std::vector<std::string>{kExamples + "/x509ca/caCert.pem"});
  EXPECT_EQ(gw.remote.revocation, Revocation::kRelaxed);
  const ChildConfig& net = gw.children.at(0);
  EXPECT_EQ(Describe(net.esp_proposals), std::vector<std::string>{"aes256gcm16-esn-noesn"});
  EXPECT_EQ(net.life_time, minutes(75));
  EXPECT_EQ(net.rand_time, minutes(15));
  ASSERT_EQ(loaded->authorities.size(), 1u);
  EXPECT_EQ(loaded->authorities[0].cacert, kExamples + "/x509ca/caCert.pem");
  EXPECT_EQ(loaded->authorities[0].crl_uris, std::vector<std::string>{"http://crl.example.com/ca.crl"});
  ASSERT_EQ(loaded->private_keys.size(), 1u);
  EXPECT_EQ(loaded->private_keys[0].file, kExamples + "/ecdsa/moonKey.pem");
  EXPECT_TRUE(loaded->private_keys[0].passphrase.empty());

  // An explicit credentials directory wins.
  ParseOptions o;
  o.credentials_dir = "/etc/swanctl";
  auto again = LoadConfigFile(kExamples + "/certs-ecdsa.conf", o);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->connections[0].local.certs, std::vector<std::string>{"/etc/swanctl/x509/moonCert.pem"});
}

TEST(ConfigExamplesTest, TransportModeWithPfsAndVolumeLimits) {
  auto loaded = LoadConfigFile(kExamples + "/transport.conf");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const Connection& c = loaded->connections.at(0);
  ASSERT_EQ(c.proposals.size(), 3u);  // one explicit + the two defaults
  EXPECT_EQ(DescribeProposal(c.proposals[0]), "aes128gcm16-prfsha256-ecp256");
  EXPECT_EQ(c.local.id->type, IdType::kIpv4Addr);
  const ChildConfig& h = c.children.at(0);
  EXPECT_EQ(h.mode, Mode::kTransport);
  EXPECT_TRUE(h.local_ts.entries.at(0).dynamic);
  ASSERT_EQ(h.remote_ts.entries.size(), 2u);
  EXPECT_EQ(h.remote_ts.entries[0].ts.ip_protocol, 17);
  EXPECT_EQ(h.remote_ts.entries[1].ts.start_port, 22);
  EXPECT_EQ(Describe(h.esp_proposals), std::vector<std::string>{"aes128-sha256-modp2048-noesn"});
  EXPECT_EQ(h.rekey_bytes, 500ull << 20);
  EXPECT_EQ(h.life_bytes, (500ull << 20) + (50ull << 20));
  EXPECT_EQ(h.rand_bytes, 50ull << 20);
  EXPECT_EQ(h.rekey_packets, 1ull << 20);
  EXPECT_EQ(h.replay_window, 128u);
  const SharedSecret& s = loaded->shared_secrets.at(0);
  EXPECT_EQ(s.secret.size(), 24u);
  EXPECT_EQ(Secret(s.secret)[0], std::byte{0x2a});
  EXPECT_EQ(loaded->FindSharedSecret(Id("198.18.0.2"), Id("198.18.0.1")), &s);
}

TEST(ConfigDefaultsTest, EmptyConnectionGetsStrongSwanDefaults) {
  const Config c = MustParse("connections {\n  c {\n    children {\n      ch {\n      }\n    }\n  }\n}\n");
  ASSERT_EQ(c.connections.size(), 1u);
  const Connection& k = c.connections[0];
  ASSERT_EQ(k.local_addrs.size(), 1u);
  EXPECT_EQ(k.local_addrs[0].kind, AddressSpec::Kind::kAny);
  EXPECT_EQ(k.remote_addrs[0].kind, AddressSpec::Kind::kAny);
  EXPECT_EQ(k.local_port, 500);
  EXPECT_EQ(k.remote_port, 500);
  EXPECT_EQ(Describe(k.proposals), Describe(DefaultProposals(ProtocolId::kIke)));
  EXPECT_EQ(k.dpd_delay.count(), 0);
  EXPECT_EQ(k.dpd_timeout.count(), 0);
  EXPECT_EQ(k.rekey_time, hours(4));
  EXPECT_EQ(k.reauth_time.count(), 0);
  EXPECT_EQ(k.over_time, minutes(24));
  EXPECT_EQ(k.rand_time, minutes(24));
  EXPECT_EQ(k.fragmentation, Fragmentation::kYes);
  EXPECT_TRUE(k.send_certreq);
  EXPECT_EQ(k.send_cert, SendCert::kIfAsked);
  EXPECT_EQ(k.keyingtries, 1u);
  EXPECT_EQ(k.unique, UniquePolicy::kNo);
  EXPECT_FALSE(k.encap);
  EXPECT_TRUE(k.mobike);
  EXPECT_EQ(k.childless, Childless::kAllow);
  EXPECT_EQ(k.local.auth, AuthClass::kPubkey);
  EXPECT_FALSE(k.local.id.has_value());
  EXPECT_TRUE(k.remote.id.has_value() && k.remote.id->any);
  EXPECT_EQ(k.remote.revocation, Revocation::kRelaxed);

  const ChildConfig& ch = k.children.at(0);
  EXPECT_TRUE(ch.local_ts.HasDynamic());
  EXPECT_EQ(ch.local_ts.entries.size(), 1u);
  EXPECT_TRUE(ch.remote_ts.HasDynamic());
  EXPECT_EQ(Describe(ch.esp_proposals), Describe(DefaultProposals(ProtocolId::kEsp)));
  EXPECT_TRUE(ch.ah_proposals.empty());
  EXPECT_EQ(ch.mode, Mode::kTunnel);
  EXPECT_EQ(ch.rekey_time, hours(1));
  EXPECT_EQ(ch.life_time, minutes(66));
  EXPECT_EQ(ch.rand_time, minutes(6));
  EXPECT_EQ(ch.rekey_bytes, 0u);
  EXPECT_EQ(ch.life_bytes, 0u);
  EXPECT_EQ(ch.rand_bytes, 0u);
  EXPECT_EQ(ch.rekey_packets, 0u);
  EXPECT_EQ(ch.life_packets, 0u);
  EXPECT_EQ(ch.start_action, StartAction::kNone);
  EXPECT_EQ(ch.close_action, CloseAction::kNone);
  EXPECT_EQ(ch.dpd_action, DpdAction::kClear);
  EXPECT_EQ(ch.replay_window, 32u);
  EXPECT_EQ(ch.hw_offload, HwOffload::kNo);
}

TEST(ConfigDefaultsTest, DerivedLifetimes) {
  const Config c = MustParse(
      "connections {\n c {\n  rekey_time = 1h\n  reauth_time = 10h\n"
      "  children {\n   a {\n    rekey_time = 20m\n    rand_time = 1m\n   }\n"
      "   b {\n    life_time = 2h\n    rekey_packets = 1000\n    life_packets = 2k\n   }\n"
      "   d {\n    rekey_time = 0\n   }\n"
      "   e {\n    ah_proposals = sha256\n   }\n  }\n }\n}\n");
  const Connection& k = c.connections[0];
  EXPECT_EQ(k.over_time, hours(1));  // 10% of the longer of rekey_time and reauth_time
  EXPECT_EQ(k.rand_time, hours(1));
  const ChildConfig& a = k.children[0];
  EXPECT_EQ(a.life_time, minutes(22));
  EXPECT_EQ(a.rand_time, minutes(1));
  const ChildConfig& b = k.children[1];
  EXPECT_EQ(b.life_time, hours(2));
  EXPECT_EQ(b.rand_time, hours(1));
  EXPECT_EQ(b.life_packets, 2048u);
  EXPECT_EQ(b.rand_packets, 1048u);
  const ChildConfig& d = k.children[2];
  EXPECT_EQ(d.rekey_time.count(), 0);
  EXPECT_EQ(d.life_time.count(), 0);
  EXPECT_EQ(d.rand_time.count(), 0);
  const ChildConfig& e = k.children[3];
  EXPECT_TRUE(e.esp_proposals.empty());  // AH only
  EXPECT_EQ(Describe(e.ah_proposals), std::vector<std::string>{"sha256-noesn"});
}

TEST(ConfigValuesTest, TimesAndCounts) {
  EXPECT_EQ(*ParseTimeValue("90"), std::chrono::seconds(90));
  EXPECT_EQ(*ParseTimeValue("90s"), std::chrono::seconds(90));
  EXPECT_EQ(*ParseTimeValue("30m"), minutes(30));
  EXPECT_EQ(*ParseTimeValue("4h"), hours(4));
  EXPECT_EQ(*ParseTimeValue("1d"), hours(24));
  EXPECT_EQ(*ParseTimeValue(" 0 "), std::chrono::seconds(0));
  for (const char* bad : {"", "h", "-1", "1.5h", "4 hours", "1w", "99999999999999999999"}) {
    EXPECT_FALSE(ParseTimeValue(bad).ok()) << bad;
  }
  EXPECT_FALSE(ParseTimeValue("40000d").ok());  // over 100 years
  EXPECT_EQ(*ParseCountValue("1000"), 1000u);
  EXPECT_EQ(*ParseCountValue("2k"), 2048u);
  EXPECT_EQ(*ParseCountValue("2K"), 2048u);
  EXPECT_EQ(*ParseCountValue("3m"), 3u << 20);
  EXPECT_EQ(*ParseCountValue("1g"), 1u << 30);
  for (const char* bad : {"", "k", "-1", "1t", "17179869184g"}) EXPECT_FALSE(ParseCountValue(bad).ok()) << bad;
}

TEST(ConfigValuesTest, AuthMethods) {
  struct Case {
    const char* value;
    AuthClass auth;
    KeyTypeHint key;
    std::vector<HashAlgorithm> hashes;
  } cases[] = {
      {"psk", AuthClass::kPsk, KeyTypeHint::kAny, {}},
      {"pubkey", AuthClass::kPubkey, KeyTypeHint::kAny, {}},
      {"rsa", AuthClass::kPubkey, KeyTypeHint::kRsa, {}},
      {"rsa/pss-sha384", AuthClass::kPubkey, KeyTypeHint::kRsaPss, {HashAlgorithm::kSha2_384}},
      {"ecdsa", AuthClass::kPubkey, KeyTypeHint::kEcdsa, {}},
      {"ecdsa-256", AuthClass::kPubkey, KeyTypeHint::kEcdsa, {HashAlgorithm::kSha2_256}},
      {"ecdsa-sha256-sha384", AuthClass::kPubkey, KeyTypeHint::kEcdsa,
       {HashAlgorithm::kSha2_256, HashAlgorithm::kSha2_384}},
      {"ecdsa-521", AuthClass::kPubkey, KeyTypeHint::kEcdsa, {HashAlgorithm::kSha2_512}},
      {"ed25519", AuthClass::kPubkey, KeyTypeHint::kEd25519, {}},
      {"ed448-identity", AuthClass::kPubkey, KeyTypeHint::kEd448, {HashAlgorithm::kIdentity}},
  };
  for (const Case& c : cases) {
    const Config cfg = MustParse(std::string("connections {\n c {\n  local {\n   auth = ") + c.value + "\n  }\n }\n}\n");
    const AuthConfig& a = cfg.connections.at(0).local;
    EXPECT_EQ(a.auth, c.auth) << c.value;
    EXPECT_EQ(a.key_type, c.key) << c.value;
    EXPECT_EQ(a.hashes, c.hashes) << c.value;
  }
}

TEST(ConfigValuesTest, EnumeratedValues) {
  const Config c = MustParse(
      "connections {\n c {\n  fragmentation = force\n  send_cert = never\n  unique = replace\n"
      "  childless = prefer\n  encap = yes\n  mobike = no\n  keyingtries = 0\n  local_port = 4500\n"
      "  remote_port = 4501\n  version = 2\n"
      "  children {\n   x {\n    start_action = trap\n    close_action = restart\n    dpd_action = hold\n"
      "    hw_offload = packet\n    replay_window = 0\n   }\n  }\n }\n}\n");
  const Connection& k = c.connections[0];
  EXPECT_EQ(k.fragmentation, Fragmentation::kForce);
  EXPECT_EQ(k.send_cert, SendCert::kNever);
  EXPECT_EQ(k.unique, UniquePolicy::kReplace);
  EXPECT_EQ(k.childless, Childless::kPrefer);
  EXPECT_TRUE(k.encap);
  EXPECT_FALSE(k.mobike);
  EXPECT_EQ(k.keyingtries, 0u);
  EXPECT_EQ(k.local_port, 4500);
  EXPECT_EQ(k.remote_port, 4501);
  const ChildConfig& x = k.children[0];
  EXPECT_EQ(x.start_action, StartAction::kTrap);
  EXPECT_EQ(x.close_action, CloseAction::kStart);
  EXPECT_EQ(x.dpd_action, DpdAction::kTrap);
  EXPECT_EQ(x.hw_offload, HwOffload::kPacket);
  EXPECT_EQ(x.replay_window, 0u);
}

// Each bad snippet and its exact error, line included.
TEST(ConfigErrorsTest, EveryErrorNamesFileLineAndKey) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"connections {\n gw {\n  children {\n   net {\n    esp_proposals = aes257gcm16\n   }\n  }\n }\n}\n",
       "swanctl.conf:5: connections.gw.children.net.esp_proposals: unknown algorithm 'aes257gcm16'"},
      {"connections {\n gw {\n  remote_adrs = 198.51.100.1\n }\n}\n",
       "swanctl.conf:3: connections.gw.remote_adrs: unknown key; did you mean 'remote_addrs'?"},
      {"connections {\n gw {\n  children {\n   net {\n    esp_proposal = aes128gcm16\n   }\n  }\n }\n}\n",
       "swanctl.conf:5: connections.gw.children.net.esp_proposal: unknown key; did you mean 'esp_proposals'?"},
      {"connections {\n gw {\n  local {\n   auth = psk\n   ids = @moon\n  }\n }\n}\n",
       "swanctl.conf:5: connections.gw.local.ids: unknown key; did you mean 'id'?"},
      {"connections {\n gw {\n  local {\n   cacerts = ca.pem\n  }\n }\n}\n",
       "swanctl.conf:4: connections.gw.local.cacerts: unknown key; did you mean 'certs'?"},
      {"connections {\n gw {\n  children {\n   net {\n    sub {\n    }\n   }\n  }\n }\n}\n",
       "swanctl.conf:5: connections.gw.children.net.sub: unknown section (no sections here)"},
      {"pools {\n}\n", "swanctl.conf:1: pools: unknown section (known: connections, secrets, authorities)"},
      {"\nconnection {\n}\n", "swanctl.conf:2: connection: unknown section; did you mean 'connections'?"},
      {"charon = 1\n", "swanctl.conf:1: charon: unknown key (only sections here: connections, secrets, authorities)"},
      {"connections {\n gw {\n  children = net\n }\n}\n",
       "swanctl.conf:3: connections.gw.children: expected a section ('{ ... }'), not a value"},
      {"connections {\n gw {\n  proposals {\n  }\n }\n}\n",
       "swanctl.conf:3: connections.gw.proposals: expected a value ('key = value'), not a section"},
      {"connections {\n gw = 1\n}\n", "swanctl.conf:2: connections.gw: expected a connection section ('name { ... }')"},
      {"connections {\n gw {\n  children {\n   net = x\n  }\n }\n}\n",
       "swanctl.conf:4: connections.gw.children.net: expected a child section ('name { ... }')"},
      {"connections {\n gw {\n  version = 1\n }\n}\n",
       "swanctl.conf:3: connections.gw.version: only IKEv2 is supported (version = 2)"},
      {"connections {\n gw {\n  local_port = 0\n }\n}\n", "swanctl.conf:3: connections.gw.local_port: 0 is outside 1..65535"},
      {"connections {\n gw {\n  remote_port = http\n }\n}\n",
       "swanctl.conf:3: connections.gw.remote_port: expected a number (got 'http')"},
      {"connections {\n gw {\n  rekey_time = 4x\n }\n}\n",
       "swanctl.conf:3: connections.gw.rekey_time: expected a time: a number with an optional s, m, h or d (got '4x')"},
      {"connections {\n gw {\n  proposals = aes256gcm16-sha256-prfsha256-x25519\n }\n}\n",
       "swanctl.conf:3: connections.gw.proposals: IKE proposal 'aes256gcm16-sha256-prfsha256-x25519': AEAD cipher "
       "'aes256gcm16' takes no integrity algorithm ('sha256')"},
      {"connections {\n gw {\n  proposals = sha256-x25519\n }\n}\n",
       "swanctl.conf:3: connections.gw.proposals: IKE proposal 'sha256-x25519': no encryption algorithm"},
      {"connections {\n gw {\n  fragmentation = maybe\n }\n}\n",
       "swanctl.conf:3: connections.gw.fragmentation: expected yes, accept, force or no (got 'maybe')"},
      {"connections {\n gw {\n  encap = sure\n }\n}\n", "swanctl.conf:3: connections.gw.encap: expected yes or no (got 'sure')"},
      {"connections {\n gw {\n  remote_addrs = 198.51.100.300\n }\n}\n",
       "swanctl.conf:3: connections.gw.remote_addrs: bad address '198.51.100.300': bad address '198.51.100.300'"},
      {"connections {\n gw {\n  local {\n   auth = eap-md5\n  }\n }\n}\n",
       "swanctl.conf:4: connections.gw.local.auth: auth 'eap-md5' is not supported (psk or pubkey)"},
      {"connections {\n gw {\n  local {\n   auth = ecdsa-sha1\n  }\n }\n}\n",
       "swanctl.conf:4: connections.gw.local.auth: signature hash 'sha1' is not supported (sha256, sha384, sha512)"},
      {"connections {\n gw {\n  remote {\n   auth = certificate\n  }\n }\n}\n",
       "swanctl.conf:4: connections.gw.remote.auth: unknown auth method 'certificate' (psk, pubkey, rsa, rsa/pss, "
       "ecdsa, ed25519, ed448, optionally -sha256 ...)"},
      {"connections {\n gw {\n  remote {\n   id = ipv4:300.1.1.1\n  }\n }\n}\n",
       "swanctl.conf:4: connections.gw.remote.id: identity 'ipv4:300.1.1.1': bad IPv4 address"},
      {"connections {\n gw {\n  remote {\n   revocation = never\n  }\n }\n}\n",
       "swanctl.conf:4: connections.gw.remote.revocation: expected strict, ifuri or relaxed (got 'never')"},
      {"connections {\n gw {\n  local {\n  }\n  local-2 {\n  }\n }\n}\n",
       "swanctl.conf:5: connections.gw.local-2: a second authentication round (RFC 4739 multiple authentication) is "
       "not supported"},
      {"connections {\n gw {\n  children {\n   net {\n    local_ts = 10.0.0.0/33\n   }\n  }\n }\n}\n",
       "swanctl.conf:5: connections.gw.children.net.local_ts: bad traffic selector '10.0.0.0/33': prefix length 33 is "
       "more than 32"},
      {"connections {\n gw {\n  children {\n   net {\n    mode = beet\n   }\n  }\n }\n}\n",
       "swanctl.conf:5: connections.gw.children.net.mode: mode 'beet' is not supported (tunnel or transport)"},
      {"connections {\n gw {\n  children {\n   net {\n    rekey_time = 2h\n   life_time = 1h\n   }\n  }\n }\n}\n",
       "swanctl.conf:6: connections.gw.children.net.life_time: must be greater than rekey_time (3600s <= 7200s)"},
      {"connections {\n gw {\n  children {\n   net {\n    rekey_bytes = 1g\n    life_bytes = 1g\n   }\n  }\n }\n}\n",
       "swanctl.conf:6: connections.gw.children.net.life_bytes: must be greater than rekey_bytes"},
      {"connections {\n gw {\n  children {\n   net {\n    replay_window = 70000\n   }\n  }\n }\n}\n",
       "swanctl.conf:5: connections.gw.children.net.replay_window: 70000 is outside 0..65536"},
      {"connections {\n gw {\n  children {\n   net {\n    start_action = route\n   }\n  }\n }\n}\n",
       "swanctl.conf:5: connections.gw.children.net.start_action: expected none, trap or start (got 'route')"},
      {"connections {\n gw {\n  children {\n   net {\n    dpd_action = explode\n   }\n  }\n }\n}\n",
       "swanctl.conf:5: connections.gw.children.net.dpd_action: expected clear, trap or restart (got 'explode')"},
      {"connections {\n gw {\n  children {\n   net {\n    ah_proposals = aes128-sha256\n   }\n  }\n }\n}\n",
       "swanctl.conf:5: connections.gw.children.net.ah_proposals: encryption algorithm 'aes128' is not allowed in AH "
       "proposals"},
      {"secrets {\n ike-1 {\n  id = moon\n }\n}\n", "swanctl.conf:2: secrets.ike-1: missing 'secret'"},
      {"secrets {\n ike-1 {\n  secret = 0xabc\n }\n}\n", "swanctl.conf:3: secrets.ike-1.secret: bad hex secret (odd number of digits)"},
      {"secrets {\n ike-1 {\n  secret = 0sQUJD*\n }\n}\n",
       "swanctl.conf:3: secrets.ike-1.secret: bad base64 secret (invalid character)"},
      {"secrets {\n ike-1 {\n  secret = x\n  ip = 1.2.3.4\n }\n}\n",
       "swanctl.conf:4: secrets.ike-1.ip: unknown key; did you mean 'id'?"},
      {"secrets {\n ike-1 {\n  secret = x\n  id-2 = ipv6:nope\n }\n}\n",
       "swanctl.conf:4: secrets.ike-1.id-2: identity 'ipv6:nope': bad IPv6 address"},
      {"secrets {\n eap-carol {\n  secret = x\n }\n}\n",
       "swanctl.conf:2: secrets.eap-carol: eap secrets are not supported (ike<suffix>, private<suffix>)"},
      {"secrets {\n psk {\n  secret = x\n }\n}\n",
       "swanctl.conf:2: secrets.psk: unknown secret type (expected ike<suffix>, private<suffix>, rsa<suffix>, "
       "ecdsa<suffix> or pkcs8<suffix>)"},
      {"secrets {\n private-1 {\n  secret = x\n }\n}\n", "swanctl.conf:2: secrets.private-1: missing 'file'"},
      {"secrets {\n secret = x\n}\n",
       "swanctl.conf:2: secrets.secret: expected a section (ike<suffix> { ... }, private<suffix> { ... })"},
      {"authorities {\n ca {\n  crl_uris = http://x\n }\n}\n", "swanctl.conf:2: authorities.ca: missing 'cacert'"},
      {"authorities {\n ca {\n  cacert = ca.pem\n  ocsp_uris = ,\n }\n}\n",
       "swanctl.conf:4: authorities.ca.ocsp_uris: empty entry in the list"},
      // Syntax errors come from the settings layer with the same "<file>:<line>: " form.
      {"connections {\n gw {\n", "swanctl.conf:2: section 'gw' is not closed (missing '}')"},
      // The last of two duplicate keys is the one that counts, so its line is reported.
      {"connections {\n gw {\n  dpd_delay = 1s\n  dpd_delay = 1y\n }\n}\n",
       "swanctl.conf:4: connections.gw.dpd_delay: expected a time: a number with an optional s, m, h or d (got '1y')"},
  };
  for (const Case& c : cases) EXPECT_EQ(ParseError(c.text), c.message) << c.text;
}

TEST(ConfigErrorsTest, UnknownKeyWithoutCloseMatchListsTheKnownKeys) {
  const std::string msg = ParseError("connections {\n gw {\n  something_else = 1\n }\n}\n");
  EXPECT_EQ(msg.rfind("swanctl.conf:3: connections.gw.something_else: unknown key (known: version, local_addrs, "
                      "remote_addrs, local_port, ",
                      0),
            0u)
      << msg;
}

TEST(ConfigErrorsTest, SecretsNeverAppearInErrors) {
  for (const char* text : {"secrets {\n ike-1 {\n  secret = 0xdeadbeefZZ\n }\n}\n",
                           "secrets {\n ike-1 {\n  secret = 0sdeadbeef!!\n }\n}\n",
                           "secrets {\n private-1 {\n  file = k.pem\n  secret = 0xdeadbeef1\n }\n}\n"}) {
    const std::string msg = ParseError(text);
    EXPECT_EQ(msg.find("deadbeef"), std::string::npos) << msg;
  }
}

TEST(ConfigSecretsTest, EachFormat) {
  const Config c = MustParse(
      "secrets {\n"
      "  ike-plain {\n    secret = \"a secret # with a hash\"\n  }\n"
      "  ike-hex {\n    secret = 0x01:02:ff 0A\n  }\n"
      "  ike-b64 {\n    secret = 0sAQL/Cg==\n  }\n"
      "  ike-b64-nopad {\n    secret = 0sAQL/Cg\n  }\n"
      "  ike-unquoted {\n    secret = plain text  # comment\n  }\n"
      "  private-1 {\n    file = /abs/key.pem\n    secret = \"pass phrase\"\n  }\n"
      "  rsa-2 {\n    file = k.pem\n  }\n"
      "  pkcs8-3 {\n    file = k.p8\n  }\n"
      "}\n");
  ASSERT_EQ(c.shared_secrets.size(), 5u);
  EXPECT_EQ(Secret(c.shared_secrets[0].secret), B("a secret # with a hash"));
  const std::vector<std::byte> raw = {std::byte{1}, std::byte{2}, std::byte{0xff}, std::byte{0x0a}};
  EXPECT_EQ(Secret(c.shared_secrets[1].secret), raw);
  EXPECT_EQ(Secret(c.shared_secrets[2].secret), raw);
  EXPECT_EQ(Secret(c.shared_secrets[3].secret), raw);
  EXPECT_EQ(Secret(c.shared_secrets[4].secret), B("plain text"));
  ASSERT_EQ(c.private_keys.size(), 3u);
  EXPECT_EQ(c.private_keys[0].file, "/abs/key.pem");
  EXPECT_EQ(Secret(c.private_keys[0].passphrase), B("pass phrase"));
  EXPECT_EQ(c.private_keys[1].file, "rsa/k.pem");
  EXPECT_EQ(c.private_keys[2].file, "pkcs8/k.p8");
}

TEST(ConfigSecretsTest, SecretValueRefusals) {
  for (const char* bad : {"", "0x", "0x1", "0xgg", "0s", "0s====", "0sA", "0sAB=C", "0sA*=="}) {
    EXPECT_FALSE(ParseSecretValue(bad).ok()) << bad;
  }
}

TEST(ConfigSecretsTest, FindSharedSecretPicksTheBestMatchLikeStrongSwan) {
  const Config c = MustParse(
      "secrets {\n"
      "  ike-any {\n    secret = any\n  }\n"
      "  ike-wild {\n    id = *.example.com\n    secret = wild\n  }\n"
      "  ike-pair {\n    id-a = moon.example.com\n    id-b = sun.example.com\n    secret = pair\n  }\n"
      "  ike-moon {\n    id = moon.example.com\n    secret = moon\n  }\n"
      "  ike-carol {\n    id = carol@example.com\n    secret = carol\n  }\n"
      "}\n");
  auto pick = [&](const char* local, const char* remote) -> std::string {
    const SharedSecret* s = c.FindSharedSecret(Id(local), Id(remote));
    return s == nullptr ? "none" : s->name;
  };
  EXPECT_EQ(pick("moon.example.com", "sun.example.com"), "ike-pair");     // 20 + 20
  EXPECT_EQ(pick("moon.example.com", "venus.example.com"), "ike-wild");   // 19 + 19 beats 20 + 0 and 1 + 1
  EXPECT_EQ(pick("moon.example.com", "10.0.0.1"), "ike-pair");            // 20 + 0: first of the 20s
  EXPECT_EQ(pick("10.0.0.1", "carol@example.com"), "ike-carol");          // 0 + 20
  EXPECT_EQ(pick("10.0.0.1", "10.0.0.2"), "ike-any");                     // only the id-less one
  EXPECT_EQ(pick("%any", "%any"), "ike-any");

  const Config none = MustParse("secrets {\n  ike-1 {\n    id = a\n    secret = x\n  }\n}\n");
  EXPECT_EQ(none.FindSharedSecret(Id("b"), Id("c")), nullptr);
}

TEST(ConfigTest, DuplicateSectionsMergeAndKeysLastWin) {
  const Config c = MustParse(
      "connections {\n gw {\n  rekey_time = 1h\n  local_port = 4500\n }\n}\n"
      "connections {\n gw {\n  rekey_time = 2h\n }\n other {\n }\n}\n");
  ASSERT_EQ(c.connections.size(), 2u);
  EXPECT_EQ(c.connections[0].rekey_time, hours(2));
  EXPECT_EQ(c.connections[0].local_port, 4500);
  EXPECT_NE(c.FindConnection("other"), nullptr);
  EXPECT_EQ(c.FindConnection("nope"), nullptr);
}

TEST(ConfigTest, EmptyFileIsAnEmptyConfig) {
  const Config c = MustParse("# nothing\n\n");
  EXPECT_TRUE(c.connections.empty());
  EXPECT_TRUE(c.shared_secrets.empty());
}

TEST(ConfigTest, LoadReportsMissingFile) {
  auto c = LoadConfigFile("/nonexistent/swanctl.conf");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ipsec::ike::config
