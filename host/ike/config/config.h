// The IKEv2 daemon's configuration, written in swanctl.conf's structure (strongSwan 5.9
// swanctl.conf(5)), and parsed into the model below.
//
//   connections {
//     gw {
//       remote_addrs = 198.51.100.1
//       proposals = aes256gcm16-prfsha256-x25519
//       local { auth = psk  id = @moon.example.com }     (one statement per line in practice)
//       remote { auth = psk  id = @sun.example.com }
//       children { net { local_ts = 192.0.2.0/24  remote_ts = 198.51.100.0/24  esp_proposals = aes256gcm16 } }
//     }
//   }
//   secrets { ike-gw { id = @moon.example.com  id-2 = @sun.example.com  secret = 0sc2VjcmV0... } }
//   authorities { ca { cacert = ca.pem } }
//
// Syntax: settings.h. Every key, its default and what is parsed but not implemented: README.md
// beside this file. Highlights:
//  - Unknown keys and sections are errors that name them (with a "did you mean" or the list of
//    known keys), so typos are caught. Duplicate keys: the last wins; same-named sections merge
//    (strongSwan's behaviour).
//  - Every error is InvalidArgument "<file>:<line>: <what>"; value errors name the key by its full
//    path: "swanctl.conf:12: connections.gw.children.net.esp_proposals: unknown algorithm
//    'aes257gcm16'". Errors about a missing key name the line of its section.
//  - Times: a number with an optional suffix s, m, h or d (no suffix: seconds). Byte and packet
//    counts: a number with an optional suffix k, m or g (powers of 1024, either case).
//  - Secrets (secrets.ike*.secret, secrets.private*.secret) are decoded straight into SecureBytes:
//    a plain string, "0x" + hex or "0s" + base64. They never appear in an error; the parse buffers
//    holding them are wiped.
//  - Credential file names (local.certs, remote.cacerts, authorities.*.cacert, secrets.private*.file)
//    are resolved as swanctl does against ParseOptions::credentials_dir: x509/, x509ca/, private/,
//    rsa/, ecdsa/, pkcs8/; absolute names are kept. Files are not opened here.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host/common/secure_bytes.h"
#include "host/common/status.h"
#include "host/ike/config/identity.h"
#include "host/ike/config/proposals.h"
#include "host/ike/config/traffic_selectors.h"
#include "host/ike/encoding/ike_constants.h"
#include "host/ike/encoding/payloads/sa_payload.h"

namespace ipsec::ike::config {

using Seconds = std::chrono::seconds;

enum class Fragmentation : uint8_t { kYes, kAccept, kForce, kNo };  // RFC 7383
enum class SendCert : uint8_t { kIfAsked, kAlways, kNever };
enum class UniquePolicy : uint8_t { kNo, kNever, kKeep, kReplace };
enum class Childless : uint8_t { kAllow, kNever, kForce, kPrefer };  // RFC 6023
enum class AuthClass : uint8_t { kPubkey, kPsk };
// Key type named by `auth = rsa|rsa/pss|ecdsa|ed25519|ed448` (kAny for `pubkey`).
enum class KeyTypeHint : uint8_t { kAny, kRsa, kRsaPss, kEcdsa, kEd25519, kEd448 };
enum class Revocation : uint8_t { kRelaxed, kStrict, kIfUri };
enum class Mode : uint8_t { kTunnel, kTransport };
enum class StartAction : uint8_t { kNone, kTrap, kStart };
enum class CloseAction : uint8_t { kNone, kTrap, kStart };
enum class DpdAction : uint8_t { kClear, kTrap, kRestart };
enum class HwOffload : uint8_t { kNo, kYes, kAuto, kPacket };

// One authentication round: connections.<c>.local / remote (or local-<suffix>, remote-<suffix>).
// Only one round per side is supported (RFC 4739 multiple rounds are refused).
struct AuthConfig {
  std::string section;                  // "local", "remote-1", ...
  AuthClass auth = AuthClass::kPubkey;  // default: pubkey
  KeyTypeHint key_type = KeyTypeHint::kAny;
  std::vector<HashAlgorithm> hashes;    // from suffixes: ecdsa-sha384, rsa-256, ... (empty = any)
  // local: nullopt = derive at run time (the certificate's subject, else the IKE address).
  // remote: default %any.
  std::optional<Identity> id;
  std::vector<std::string> certs;    // resolved against <credentials_dir>/x509/
  std::vector<std::string> cacerts;  // remote only; resolved against <credentials_dir>/x509ca/
  Revocation revocation = Revocation::kRelaxed;  // remote only; parsed, not implemented
};

// connections.<c>.children.<name>. Defaults are strongSwan's.
struct ChildConfig {
  std::string name;
  std::string location;               // "<file>:<line>" of the section, for logs
  TrafficSelectorList local_ts;       // default: dynamic
  TrafficSelectorList remote_ts;      // default: dynamic
  std::vector<Proposal> esp_proposals;  // default: DefaultProposals(kEsp), unless ah_proposals is set
  std::vector<Proposal> ah_proposals;   // default: none
  Mode mode = Mode::kTunnel;
  Seconds rekey_time{3600};           // 1h
  Seconds life_time{3960};            // default rekey_time + 10%
  Seconds rand_time{360};             // default life_time - rekey_time
  uint64_t rekey_bytes = 0;           // 0 = off
  uint64_t life_bytes = 0;            // default rekey_bytes + 10%
  uint64_t rand_bytes = 0;            // default life_bytes - rekey_bytes
  uint64_t rekey_packets = 0;         // 0 = off
  uint64_t life_packets = 0;          // default rekey_packets + 10%
  uint64_t rand_packets = 0;          // default life_packets - rekey_packets
  StartAction start_action = StartAction::kNone;
  CloseAction close_action = CloseAction::kNone;
  DpdAction dpd_action = DpdAction::kClear;
  uint32_t replay_window = 32;        // packets, 0..65536 (0 = off)
  HwOffload hw_offload = HwOffload::kNo;  // parsed; the daemon decides placement itself
};

// connections.<name>. Defaults are strongSwan's unless noted.
struct Connection {
  std::string name;
  std::string location;                   // "<file>:<line>" of the section
  std::vector<AddressSpec> local_addrs;   // default %any
  std::vector<AddressSpec> remote_addrs;  // default %any (responder only)
  uint16_t local_port = 500;
  uint16_t remote_port = 500;
  std::vector<Proposal> proposals;        // default: DefaultProposals(kIke)
  Seconds dpd_delay{0};                   // 0 = no liveness checks
  Seconds dpd_timeout{0};                 // IKEv1 only in strongSwan: parsed, unused
  Seconds rekey_time{14400};              // 4h
  Seconds reauth_time{0};                 // 0 = off; parsed, reauthentication not implemented
  Seconds over_time{1440};                // default 10% of max(rekey_time, reauth_time)
  Seconds rand_time{1440};                // default over_time
  Fragmentation fragmentation = Fragmentation::kYes;
  bool send_certreq = true;
  SendCert send_cert = SendCert::kIfAsked;
  uint32_t keyingtries = 1;               // 0 = forever
  UniquePolicy unique = UniquePolicy::kNo;
  bool encap = false;                     // force UDP encapsulation (RFC 3948)
  bool mobike = true;                     // parsed; MOBIKE (RFC 4555) is not implemented
  Childless childless = Childless::kAllow;
  AuthConfig local;                       // default: pubkey, id derived
  AuthConfig remote;                      // default: pubkey, id %any
  std::vector<ChildConfig> children;      // in configuration order

  const ChildConfig* FindChild(std::string_view child) const;
};

// secrets.ike<suffix>: a pre-shared key and the identities it belongs to (none = any).
struct SharedSecret {
  std::string name;
  std::vector<Identity> ids;  // from id and id<suffix> keys, in configuration order
  SecureBytes secret;
};

// secrets.private<suffix> / rsa<suffix> / ecdsa<suffix> / pkcs8<suffix>: a private key file and
// its optional passphrase.
struct PrivateKeySecret {
  std::string name;
  std::string file;        // resolved against <credentials_dir>/<private|rsa|ecdsa|pkcs8>/
  SecureBytes passphrase;  // empty when not given
};

// authorities.<name>.
struct Authority {
  std::string name;
  std::string cacert;  // resolved against <credentials_dir>/x509ca/
  std::vector<std::string> crl_uris;
  std::vector<std::string> ocsp_uris;
  std::string cert_uri_base;
};

struct Config {
  std::vector<Connection> connections;  // in configuration order
  std::vector<SharedSecret> shared_secrets;
  std::vector<PrivateKeySecret> private_keys;
  std::vector<Authority> authorities;

  const Connection* FindConnection(std::string_view name) const;
  // strongSwan's choice of a pre-shared key (mem_cred + credential_manager): every secret gets
  // the best MatchIdentity() score of its ids against `local` and against `remote` (ANY when it
  // has no ids); secrets matching neither are skipped; the highest sum wins, the first defined on
  // a tie. nullptr when none qualifies.
  const SharedSecret* FindSharedSecret(const Identity& local, const Identity& remote) const;
};

struct ParseOptions {
  // Base of x509/, x509ca/, private/, ... ("" = relative names stay relative, e.g. "x509/a.pem").
  // LoadConfigFile uses the config file's directory when this is empty, like `swanctl --file`.
  std::string credentials_dir;
  bool allow_include = true;  // `include` statements (false when fuzzing)
  std::string include_dir;    // base of relative include patterns; "" = the file name's directory
};

[[nodiscard]] StatusOr<Config> ParseConfig(std::string_view text, std::string_view file_name,
                                           const ParseOptions& options = {});
[[nodiscard]] StatusOr<Config> LoadConfigFile(const std::string& path, const ParseOptions& options = {});

// Values as swanctl.conf writes them, for tests and other configuration readers. Errors carry no
// location.
[[nodiscard]] StatusOr<Seconds> ParseTimeValue(std::string_view text);     // "90", "30m", "4h", "1d"
[[nodiscard]] StatusOr<uint64_t> ParseCountValue(std::string_view text);   // "1000", "500k", "1g"
// Plain text, "0x<hex>" or "0s<base64>", into SecureBytes. Errors never contain the text.
[[nodiscard]] StatusOr<SecureBytes> ParseSecretValue(std::string_view text);

}  // namespace ipsec::ike::config
