// SaConfig validation and address parsing.
#include "host/sa/sa_config.h"

#include <arpa/inet.h>

#include <cstring>

namespace ipsec::sa {

StatusOr<IpAddress> IpAddress::Parse(std::string_view text) {
  std::string s(text);
  IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) return a;
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    a.v6 = true;
    return a;
  }
  return InvalidArgumentError("not an IPv4 or IPv6 address: '" + s + "'");
}

IpAddress IpAddress::V4(uint32_t host_order) {
  IpAddress a;
  a.bytes[0] = static_cast<uint8_t>(host_order >> 24);
  a.bytes[1] = static_cast<uint8_t>(host_order >> 16);
  a.bytes[2] = static_cast<uint8_t>(host_order >> 8);
  a.bytes[3] = static_cast<uint8_t>(host_order);
  return a;
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof(buf));
  return buf;
}

Status SaConfig::Validate() const {
  const SuiteInfo& info = GetSuiteInfo(suite);
  if (protocol == Protocol::kEsp && !info.esp_ok) {
    return InvalidArgumentError("suite " + std::string(info.name) + " is not an ESP suite");
  }
  if (protocol == Protocol::kAh && !info.ah_ok) {
    return InvalidArgumentError("suite " + std::string(info.name) + " is not an AH suite (AH only authenticates)");
  }
  if (spi < 256) return InvalidArgumentError("SPI values 0-255 are reserved (RFC 4303 §2.1)");
  if (mode == Mode::kTunnel) {
    if (!tunnel_src || !tunnel_dst) return InvalidArgumentError("tunnel mode needs tunnel source and destination");
    if (tunnel_src->v6 != tunnel_dst->v6) {
      return InvalidArgumentError("tunnel source and destination must be of one address family");
    }
  }
  if (udp_encap && protocol != Protocol::kEsp) {
    return InvalidArgumentError("UDP encapsulation applies to ESP only (RFC 3948)");
  }
  if (udp_encap && mode == Mode::kTunnel && (!tunnel_src || !tunnel_dst)) {
    return InvalidArgumentError("UDP encapsulation needs endpoints");
  }
  if (replay_window > kMaxReplayWindow) {
    return OutOfRangeError("replay window " + std::to_string(replay_window) + " exceeds maximum " +
                           std::to_string(kMaxReplayWindow));
  }
  if (initial_seq == 0) return InvalidArgumentError("sequence numbers start at 1 (RFC 4303 §3.3.3)");
  if (!esn && initial_seq > 0xffffffffULL) {
    return OutOfRangeError("initial sequence number needs ESN above 2^32-1");
  }
  if (dscp > 63) return OutOfRangeError("DSCP is a 6-bit value");
  if (ttl == 0) return InvalidArgumentError("outer TTL must be at least 1");
  const Lifetime& l = lifetime;
  if ((l.soft_bytes && l.hard_bytes && l.soft_bytes > l.hard_bytes) ||
      (l.soft_packets && l.hard_packets && l.soft_packets > l.hard_packets)) {
    return InvalidArgumentError("soft lifetime must not exceed the hard lifetime");
  }
  return OkStatus();
}

Status KeyMaterial::ValidateFor(Suite suite) const {
  const SuiteInfo& info = GetSuiteInfo(suite);
  size_t want_enc = info.enc_key_len + info.salt_len;
  if (enc_key.size() != want_enc) {
    return InvalidArgumentError("suite " + std::string(info.name) + " needs a " + std::to_string(want_enc) +
                                "-byte encryption key (with salt), got " + std::to_string(enc_key.size()));
  }
  if (auth_key.size() != info.auth_key_len) {
    return InvalidArgumentError("suite " + std::string(info.name) + " needs a " +
                                std::to_string(info.auth_key_len) + "-byte integrity key, got " +
                                std::to_string(auth_key.size()));
  }
  return OkStatus();
}

std::string_view DirectionName(Direction d) { return d == Direction::kOutbound ? "out" : "in"; }
std::string_view ModeName(Mode m) { return m == Mode::kTunnel ? "tunnel" : "transport"; }
std::string_view ProtocolName(Protocol p) { return p == Protocol::kEsp ? "esp" : "ah"; }

}  // namespace ipsec::sa
