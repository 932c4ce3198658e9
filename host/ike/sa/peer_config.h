// PeerConfig: the resolved configuration one IKE SA runs with, as the engine needs it: proposals
// as wire structs, identities in wire form, children with their selectors and lifetimes. The
// configuration file layer (host/ike/config) turns a swanctl-style file into these; tests build
// them by hand.
//
// Durations are std::chrono; zero means "never" for rekey/lifetime/DPD timers. Defaults follow
// strongSwan's, so a peer configured like a charon connection behaves like one.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "host/common/bytes.h"
#include "host/common/secure_bytes.h"
#include "host/ike/encoding/ike_constants.h"
#include "host/ike/encoding/payloads/sa_payload.h"
#include "host/ike/encoding/payloads/ts_payload.h"
#include "host/sa/sa_config.h"

namespace ipsec::ike {

using Seconds = std::chrono::seconds;
using Millis = std::chrono::milliseconds;

// An IKE identity in wire form (ID payload type and data); `any` matches every identity.
struct Identity {
  IdType type = IdType::kFqdn;
  std::vector<std::byte> data;
  bool any = false;

  static Identity Fqdn(std::string_view name);
  static Identity Ipv4(const std::array<uint8_t, 4>& a);
  static Identity Any() { return {IdType::kFqdn, {}, true}; }
  // Exact type and data match, or `any`; FQDN/RFC822 compare case-insensitively, and a pattern
  // starting with '*' matches any suffix ("*@example.com", "*.example.com").
  bool Matches(IdType peer_type, Bytes peer_data) const;
  std::string ToString() const;
  friend bool operator==(const Identity&, const Identity&) = default;
};

enum class AuthClass : uint8_t { kPsk, kPubkey };

// How a side authenticates (RFC 7296 §2.15). For kPubkey the credential layer signs/verifies.
struct AuthConfig {
  AuthClass auth = AuthClass::kPsk;
  Identity id;
};

// A traffic selector as configured: a wire selector, or "dynamic" (the side's IKE address).
struct TsConfig {
  TrafficSelector ts;
  bool dynamic = false;
};

struct ChildConfig {
  std::string name;
  std::vector<Proposal> proposals;  // protocol ESP or AH; a DH transform asks for PFS
  std::vector<TsConfig> local_ts;
  std::vector<TsConfig> remote_ts;
  sa::Mode mode = sa::Mode::kTunnel;
  Seconds rekey_time{3600};   // 0: never rekey
  Seconds life_time{3960};    // hard expiry; 0: never
  Seconds rand_time{360};     // rekey jitter, subtracted at random
  uint64_t rekey_bytes = 0, life_bytes = 0, rekey_packets = 0, life_packets = 0;
  uint32_t replay_window = 32;
  enum class StartAction : uint8_t { kNone, kStart } start_action = StartAction::kNone;
};

struct RetransmitConfig {
  Millis timeout{4000};  // first retransmit after this
  double base = 1.8;     // multiplied per try (strongSwan's retransmit_base)
  uint32_t tries = 5;    // retransmits before giving up
};

// An inclusive address range; a single address converts implicitly.
struct AddrRange {
  sa::IpAddress first, last;
  AddrRange() = default;
  AddrRange(const sa::IpAddress& a) : first(a), last(a) {}  // NOLINT(google-explicit-constructor)
  AddrRange(const sa::IpAddress& a, const sa::IpAddress& b) : first(a), last(b) {}
  bool Contains(const sa::IpAddress& a) const;
};

enum class FragmentationPolicy : uint8_t { kNo, kYes, kAccept, kForce };

struct PeerConfig {
  std::string name;
  std::vector<AddrRange> local_addrs;   // empty: any
  std::vector<AddrRange> remote_addrs;  // empty: any (responder only); the initiator uses the first
  uint16_t local_port = 500;
  uint16_t remote_port = 500;
  std::vector<Proposal> ike_proposals;
  AuthConfig local;
  AuthConfig remote;
  std::vector<ChildConfig> children;
  Seconds rekey_time{14400};  // IKE SA rekey; 0: never
  Seconds over_time{1440};    // hard deletion after rekey_time + over_time without a rekey
  Seconds rand_time{1440};
  Seconds dpd_delay{0};       // 0: no liveness checks
  Seconds dpd_timeout{0};     // (IKEv2 uses the retransmission timeout)
  bool force_encap = false;   // pretend a NAT so ESP goes in UDP (charon's encap = yes)
  FragmentationPolicy fragmentation = FragmentationPolicy::kYes;
  size_t fragment_size = 1280;  // largest IKE datagram before fragmenting (RFC 7383 §2.5.1)
  bool send_certreq = true;
  bool initial_contact = true;
  RetransmitConfig retransmit;
};

}  // namespace ipsec::ike
