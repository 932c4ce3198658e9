// The SA model shared by ESP and AH, the software path and (later) the card: everything that
// describes one IPsec SA except its keys, which live in a separate move-only KeyMaterial.
//
// Follows the parameters of RFC 4301 §4.4.2 (SAD fields) and what DPDK's rte_security_ipsec_xform
// carries: SPI, direction, protocol, mode, suite, tunnel endpoints, UDP encapsulation (RFC 3948),
// ESN with an initial value, replay window, lifetimes, and the header-copy policies of RFC 4301
// §5.1.2 and RFC 6040 (DSCP, ECN, DF, TTL).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "host/common/secure_bytes.h"
#include "host/common/status.h"
#include "host/sa/suite.h"

namespace ipsec::sa {

enum class Direction : uint8_t { kOutbound, kInbound };
enum class Protocol : uint8_t { kEsp, kAh };
enum class Mode : uint8_t { kTunnel, kTransport };

// An IPv4 or IPv6 address in network byte order.
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // IPv4 uses bytes[0..3]

  static StatusOr<IpAddress> Parse(std::string_view text);
  static IpAddress V4(uint32_t host_order);
  std::string ToString() const;
  size_t size() const { return v6 ? 16 : 4; }
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// UDP encapsulation ports as they appear in this SA's packets: for an outbound SA the source is
// ours and the destination the peer's; for an inbound SA the destination is ours (checked on
// receipt) and the source the peer's (not checked: a NAT may change it).
struct UdpEncap {
  uint16_t src_port = 4500;
  uint16_t dst_port = 4500;
};

// 0 in any field means "no limit". Soft limits raise an event once; hard limits stop the SA.
struct Lifetime {
  uint64_t soft_bytes = 0;
  uint64_t hard_bytes = 0;
  uint64_t soft_packets = 0;
  uint64_t hard_packets = 0;
};

// Outer DSCP on encapsulation (RFC 4301 §5.1.2.1).
enum class DscpMode : uint8_t { kCopy, kSet };
// ECN on tunnel encapsulation/decapsulation (RFC 6040): kNormal copies ECN outward and combines on
// decap; kCompat clears the outer ECN field (RFC 6040 §4.1 compatibility mode).
enum class EcnMode : uint8_t { kNormal, kCompat };
// Outer IPv4 DF bit (RFC 4301 §8.1).
enum class DfMode : uint8_t { kCopy, kSet, kClear };

struct SaConfig {
  uint32_t spi = 0;
  Direction direction = Direction::kOutbound;
  Protocol protocol = Protocol::kEsp;
  Mode mode = Mode::kTunnel;
  Suite suite = Suite::kAesGcm128;

  // Tunnel mode: outer source and destination (either family, independent of the inner one).
  // Inbound SAs also use `tunnel_dst` for SA lookup by (SPI, destination) when set.
  std::optional<IpAddress> tunnel_src;
  std::optional<IpAddress> tunnel_dst;
  // Inbound tunnel: drop packets whose outer addresses differ from the SA's (RFC 4301 §5.2 step 4).
  bool verify_tunnel_addresses = false;

  std::optional<UdpEncap> udp_encap;  // ESP only (RFC 3948)

  bool esn = false;                  // 64-bit sequence numbers (RFC 4303 §2.2.1)
  uint64_t initial_seq = 1;          // outbound: first sequence number sent
  uint32_t replay_window = 64;       // inbound: packets; 0 disables anti-replay

  Lifetime lifetime;

  DscpMode dscp_mode = DscpMode::kCopy;
  uint8_t dscp = 0;                  // with kSet
  EcnMode ecn_mode = EcnMode::kNormal;
  DfMode df_mode = DfMode::kCopy;
  uint8_t ttl = 64;                  // outer TTL / hop limit
  bool decrement_inner_ttl = false;  // tunnel: decrement (and check) the inner TTL on decap, as a router would

  // Checks the combination: suite allowed for the protocol, tunnel endpoints present and of one
  // family, window within kMaxReplayWindow, encap only for ESP, and so on.
  Status Validate() const;
};

inline constexpr uint32_t kMaxReplayWindow = 65536;

// Keys for one SA, as KEYMAT delivers them. Move-only, zeroized on destruction.
struct KeyMaterial {
  SecureBytes enc_key;   // cipher key followed by the salt (AEAD/GMAC), or empty
  SecureBytes auth_key;  // integrity key (HMAC suites), or empty

  // Checks the lengths against the suite.
  Status ValidateFor(Suite suite) const;
};

std::string_view DirectionName(Direction d);
std::string_view ModeName(Mode m);
std::string_view ProtocolName(Protocol p);

}  // namespace ipsec::sa
