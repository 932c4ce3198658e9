// libFuzzer target: the swanctl.conf configuration parser (host/ike/config) on arbitrary text.
//
// Oracles (each abort()s, so libFuzzer and the corpus test report a crash):
//  - a failure is InvalidArgument with the message "fuzz.conf:<line>: ..." and a line inside the
//    input (1 .. number of lines + 1);
//  - a secret never appears in an error: when the marker "S3CR3T" occurs exactly once in the input
//    and the settings layer parses the text and puts the marker in the value of a key named
//    secret*, the message must not contain it;
//  - an accepted configuration is usable: every proposal list is non-empty, numbered 1..n, passes
//    SaPayload::Verify() (with SPIs added for AH/ESP) and DescribeProposal() parses back to the same
//    proposal; a child has ESP or AH proposals; traffic selectors resolve with IPv4 and IPv6
//    addresses; lifetimes are ordered; every configured identity matches itself perfectly;
//    FindSharedSecret() runs for every connection's identities.
// Includes are disabled (the fuzzer must not read files).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "host/ike/config/config.h"
#include "host/ike/config/settings.h"

namespace {

using namespace ipsec;              // NOLINT: harness-local brevity
using namespace ipsec::ike;         // NOLINT
using namespace ipsec::ike::config;  // NOLINT

constexpr std::string_view kMarker = "S3CR3T";

size_t Count(std::string_view hay, std::string_view needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string_view::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

bool MarkerIsInASecretValue(const SettingsSection& s) {
  for (const SettingsKeyValue& kv : s.values) {
    if (kv.key.rfind("secret", 0) == 0 && kv.value.find(kMarker) != std::string_view::npos) return true;
  }
  for (const auto& sub : s.sections) {
    if (MarkerIsInASecretValue(*sub)) return true;
  }
  return false;
}

void CheckError(std::string_view text, const Status& s, const ParseOptions& o) {
  FUZZ_CHECK(s.code() == StatusCode::kInvalidArgument);
  const std::string& m = s.message();
  constexpr std::string_view kPrefix = "fuzz.conf:";
  FUZZ_CHECK(m.rfind(kPrefix, 0) == 0);
  size_t i = kPrefix.size();
  uint64_t line = 0;
  while (i < m.size() && m[i] >= '0' && m[i] <= '9' && line < 100000000) line = line * 10 + static_cast<uint64_t>(m[i++] - '0');
  FUZZ_CHECK(i > kPrefix.size() && i + 1 < m.size() && m[i] == ':' && m[i + 1] == ' ');
  FUZZ_CHECK(line >= 1 && line <= Count(text, "\n") + 1);
  if (Count(text, kMarker) == 1) {
    SettingsParseOptions so;
    so.allow_include = o.allow_include;
    auto tree = SettingsTree::Parse(text, "fuzz.conf", so);
    // (When the settings layer itself fails, the marker may just as well be in a name, which is echoed.)
    if (tree.ok() && MarkerIsInASecretValue(tree->root())) FUZZ_CHECK(m.find(kMarker) == std::string::npos);
  }
}

void CheckProposals(const std::vector<Proposal>& ps, ProtocolId protocol, bool may_be_empty) {
  FUZZ_CHECK(may_be_empty || !ps.empty());
  SaPayload sa;
  for (size_t i = 0; i < ps.size(); ++i) {
    FUZZ_CHECK(ps[i].number == i + 1);
    FUZZ_CHECK(ps[i].protocol == protocol);
    auto again = ParseProposals(DescribeProposal(ps[i]), protocol);
    FUZZ_CHECK(again.ok() && again->size() == 1);
    Proposal p = (*again)[0];
    p.number = ps[i].number;
    FUZZ_CHECK(p == ps[i]);
    sa.proposals.push_back(ps[i]);
    if (protocol != ProtocolId::kIke) sa.proposals.back().spi.assign(4, std::byte{1});
  }
  if (!sa.proposals.empty()) FUZZ_CHECK(sa.Verify(SaContext::kOffer).ok());
}

void CheckSelectors(const TrafficSelectorList& l) {
  FUZZ_CHECK(!l.entries.empty());
  for (const char* a : {"198.18.0.1", "2001:db8::1"}) {
    auto addr = sa::IpAddress::Parse(a);
    FUZZ_CHECK(addr.ok());
    const std::vector<TrafficSelector> ts = l.Resolve(*addr);
    FUZZ_CHECK(ts.size() == l.entries.size());
    for (const TrafficSelector& t : ts) {
      const size_t n = t.type == TsType::kIpv4AddrRange ? 4 : 16;
      FUZZ_CHECK(t.start_address.size() == n && t.end_address.size() == n);
      FUZZ_CHECK(t.start_address <= t.end_address);
    }
  }
}

void CheckIdentity(const Identity& id) {
  if (id.any) return;
  FUZZ_CHECK(MatchIdentity(id, id) == kMatchPerfect);
  (void)DescribeIdentity(id.type, id.data);
}

void CheckConfig(const Config& c) {
  for (const Connection& k : c.connections) {
    FUZZ_CHECK(!k.local_addrs.empty() && !k.remote_addrs.empty());
    FUZZ_CHECK(k.local_port != 0 && k.remote_port != 0);
    CheckProposals(k.proposals, ProtocolId::kIke, false);
    if (k.local.id) CheckIdentity(*k.local.id);
    FUZZ_CHECK(k.remote.id.has_value());
    CheckIdentity(*k.remote.id);
    if (k.local.id) (void)c.FindSharedSecret(*k.local.id, *k.remote.id);
    for (const ChildConfig& ch : k.children) {
      FUZZ_CHECK(!(ch.esp_proposals.empty() && ch.ah_proposals.empty()));
      CheckProposals(ch.esp_proposals, ProtocolId::kEsp, true);
      CheckProposals(ch.ah_proposals, ProtocolId::kAh, true);
      CheckSelectors(ch.local_ts);
      CheckSelectors(ch.remote_ts);
      if (ch.rekey_time.count() != 0 && ch.life_time.count() != 0) FUZZ_CHECK(ch.life_time > ch.rekey_time);
      if (ch.rekey_bytes != 0 && ch.life_bytes != 0) FUZZ_CHECK(ch.life_bytes > ch.rekey_bytes);
      FUZZ_CHECK(ch.replay_window <= sa::kMaxReplayWindow);
    }
  }
  for (const SharedSecret& s : c.shared_secrets) {
    FUZZ_CHECK(!s.secret.empty());
    for (const Identity& id : s.ids) CheckIdentity(id);
  }
  for (const PrivateKeySecret& p : c.private_keys) FUZZ_CHECK(!p.file.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;  // the parser is linear; bigger inputs only slow the search
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ParseOptions o;
  o.allow_include = false;
  o.credentials_dir = "/creds";
  auto r = ParseConfig(text, "fuzz.conf", o);
  if (!r.ok()) {
    CheckError(text, r.status(), o);
    return 0;
  }
  CheckConfig(*r);
  return 0;
}

std::vector<std::vector<uint8_t>> FuzzSeeds() {
  const char* texts[] = {
      // The strongSwan interop set-up (host/ike/config/examples/psk-gcm.conf, condensed).
      "connections {\n gw {\n  version = 2\n  local_addrs = 198.18.0.1\n  remote_addrs = 198.18.0.2\n"
      "  proposals = aes256gcm16-prfsha256-x25519\n  encap = yes\n  fragmentation = no\n  send_certreq = no\n"
      "  dpd_delay = 30s\n  rekey_time = 4h\n  local {\n   auth = psk\n   id = @moon.example.com\n  }\n"
      "  remote {\n   auth = psk\n   id = @sun.example.com\n  }\n  children {\n   net {\n"
      "    local_ts = 192.0.2.0/24\n    remote_ts = 198.51.100.0/24\n    esp_proposals = aes256gcm16, aes128gcm16\n"
      "    mode = tunnel\n    rekey_time = 1h\n    start_action = start\n    dpd_action = restart\n   }\n  }\n }\n}\n"
      "secrets {\n ike-gw {\n  id-moon = @moon.example.com\n  id-sun = @sun.example.com\n"
      "  secret = 0sYW4gZXhhbXBsZSBrZXksIG5vdCBhIHJlYWwgb25l\n }\n}\n",
      // Certificates, authorities, private keys.
      "connections {\n gw-cert {\n  proposals = aes256gcm16-prfsha256-x25519, aes128-sha256-ecp256, default\n"
      "  send_cert = always\n  local {\n   auth = ecdsa-sha256\n   certs = moonCert.pem\n   id = moon.example.com\n  }\n"
      "  remote {\n   auth = pubkey\n   id = \"C=CH, O=Example, CN=*\"\n   cacerts = caCert.pem\n"
      "   revocation = strict\n  }\n  children {\n   net {\n    local_ts = 192.0.2.0/24[tcp/80], 2001:db8::/32\n"
      "    remote_ts = 198.51.100.0-198.51.100.9[icmp/8]\n    esp_proposals = aes256gcm16-esn-noesn, chacha20poly1305\n"
      "    life_time = 75m\n   }\n  }\n }\n}\nauthorities {\n ca {\n  cacert = caCert.pem\n"
      "  crl_uris = http://crl.example.com/ca.crl\n  ocsp_uris = http://ocsp.example.com\n }\n}\n"
      "secrets {\n ecdsa-moon {\n  file = moonKey.pem\n  secret = \"S3CR3T pass\"\n }\n}\n",
      // Transport mode, PFS, volume limits, AH, every enumerated key.
      "connections {\n host {\n  local_addrs = %any6, vpn.example.com\n  remote_addrs = 10.0.0.1-10.0.0.9\n"
      "  local_port = 4500\n  remote_port = 4500\n  reauth_time = 1d\n  over_time = 1h\n  rand_time = 5m\n"
      "  unique = replace\n  childless = prefer\n  mobike = no\n  keyingtries = 0\n  dpd_timeout = 150s\n"
      "  local {\n   auth = psk\n   id = 198.18.0.1\n  }\n  remote {\n   auth = psk\n   id = *@example.com\n  }\n"
      "  children {\n   h {\n    mode = transport\n    local_ts = dynamic\n    remote_ts = dynamic[udp/%any]\n"
      "    esp_proposals = aes128-sha256-modp2048, null-sha256\n    rekey_bytes = 500m\n    rekey_packets = 1m\n"
      "    replay_window = 128\n    close_action = trap\n    hw_offload = auto\n   }\n"
      "   a {\n    ah_proposals = sha256-esn, aes128gmac\n   }\n  }\n }\n}\n"
      "secrets {\n ike-1 {\n  id = 198.18.0.1\n  id-2 = *@example.com\n  secret = 0x00112233S3CR3T\n }\n}\n",
      // Syntax corners: quoting, escapes, comments, merging, duplicate keys.
      ("# c\nconnections { a {\n proposals = \"aes128gcm16-prfsha512-ecp384\" # c\n proposals = default\n}\n}\n"
       "connections {\n a {\n  local {\n   id = \"asn1dn:CN=a\\\\,b\"\n  }\n }\n}\n"),
      // Errors.
      "connections {\n gw {\n  remote_adrs = 1.2.3.4\n }\n}\n",
      "secrets {\n ike {\n  secret = 0xS3CR3T\n }\n}\n",
      "a {\n b {\n",
      "include x.conf\n",
  };
  std::vector<std::vector<uint8_t>> out;
  for (const char* t : texts) {
    const std::string_view s(t);
    out.emplace_back(s.begin(), s.end());
  }
  return out;
}
