// SaConfig <-> card::SaParams.
#include "driver/sa_params.h"

#include <algorithm>

namespace ipsec::driver {

card::Suite ToCardSuite(sa::Suite s) { return static_cast<card::Suite>(static_cast<uint8_t>(s) + 1); }

StatusOr<sa::Suite> FromCardSuite(card::Suite s) {
  const uint8_t v = static_cast<uint8_t>(s);
  if (v == 0 || v > static_cast<uint8_t>(sa::Suite::kChaCha20Poly1305) + 1) {
    return InvalidArgumentError("unknown suite value " + std::to_string(v));
  }
  return static_cast<sa::Suite>(v - 1);
}

StatusOr<card::SaParams> ToSaParams(const sa::SaConfig& c) {
  if (c.protocol != sa::Protocol::kEsp) return InvalidArgumentError("the card processes ESP only");
  RETURN_IF_ERROR(c.Validate());
  card::SaParams p;
  p.spi = c.spi;
  p.dir = c.direction == sa::Direction::kOutbound ? card::Dir::kOutbound : card::Dir::kInbound;
  p.mode = c.mode == sa::Mode::kTunnel ? card::SaMode::kTunnel : card::SaMode::kTransport;
  if (c.mode == sa::Mode::kTunnel) {
    // Validate() guarantees both endpoints of one family in tunnel mode.
    p.outer_v6 = c.tunnel_src->v6;
    p.tunnel_src = c.tunnel_src->bytes;
    p.tunnel_dst = c.tunnel_dst->bytes;
  }
  if (c.udp_encap) {
    p.udp_encap = true;
    p.udp_src_port = c.udp_encap->src_port;
    p.udp_dst_port = c.udp_encap->dst_port;
  }
  p.esn = c.esn;
  p.verify_tunnel = c.verify_tunnel_addresses;
  p.dscp_set = c.dscp_mode == sa::DscpMode::kSet;
  p.dscp = c.dscp;
  p.ecn_compat = c.ecn_mode == sa::EcnMode::kCompat;
  switch (c.df_mode) {
    case sa::DfMode::kCopy: p.df_mode = card::DfMode::kCopy; break;
    case sa::DfMode::kSet: p.df_mode = card::DfMode::kSet; break;
    case sa::DfMode::kClear: p.df_mode = card::DfMode::kClear; break;
  }
  p.dec_inner_ttl = c.decrement_inner_ttl;
  p.suite = ToCardSuite(c.suite);
  p.ttl = c.ttl;
  p.replay_window = c.direction == sa::Direction::kInbound ? c.replay_window : 0;
  p.initial_seq = c.direction == sa::Direction::kOutbound ? c.initial_seq : 0;
  p.soft_bytes = c.lifetime.soft_bytes;
  p.hard_bytes = c.lifetime.hard_bytes;
  p.soft_packets = c.lifetime.soft_packets;
  p.hard_packets = c.lifetime.hard_packets;
  return p;
}

StatusOr<sa::SaConfig> FromSaParams(const card::SaParams& p) {
  sa::SaConfig c;
  c.spi = p.spi;
  c.direction = p.dir == card::Dir::kOutbound ? sa::Direction::kOutbound : sa::Direction::kInbound;
  c.protocol = sa::Protocol::kEsp;
  c.mode = p.mode == card::SaMode::kTunnel ? sa::Mode::kTunnel : sa::Mode::kTransport;
  ASSIGN_OR_RETURN(c.suite, FromCardSuite(p.suite));
  const auto nonzero = [](const std::array<uint8_t, 16>& a) {
    return std::any_of(a.begin(), a.end(), [](uint8_t b) { return b != 0; });
  };
  if (c.mode == sa::Mode::kTunnel) {
    if (!nonzero(p.tunnel_src) || !nonzero(p.tunnel_dst)) {
      return InvalidArgumentError("tunnel mode without tunnel addresses");
    }
    c.tunnel_src = sa::IpAddress{p.outer_v6, p.tunnel_src};
    c.tunnel_dst = sa::IpAddress{p.outer_v6, p.tunnel_dst};
  }
  if (p.udp_encap) c.udp_encap = sa::UdpEncap{p.udp_src_port, p.udp_dst_port};
  c.verify_tunnel_addresses = p.verify_tunnel;
  c.esn = p.esn;
  c.initial_seq = c.direction == sa::Direction::kOutbound ? p.initial_seq : 1;
  c.replay_window = p.replay_window;
  c.lifetime = {p.soft_bytes, p.hard_bytes, p.soft_packets, p.hard_packets};
  c.dscp_mode = p.dscp_set ? sa::DscpMode::kSet : sa::DscpMode::kCopy;
  c.dscp = p.dscp;
  c.ecn_mode = p.ecn_compat ? sa::EcnMode::kCompat : sa::EcnMode::kNormal;
  switch (p.df_mode) {
    case card::DfMode::kCopy: c.df_mode = sa::DfMode::kCopy; break;
    case card::DfMode::kSet: c.df_mode = sa::DfMode::kSet; break;
    case card::DfMode::kClear: c.df_mode = sa::DfMode::kClear; break;
    default: return InvalidArgumentError("bad DF mode");
  }
  c.ttl = p.ttl;
  c.decrement_inner_ttl = p.dec_inner_ttl;
  RETURN_IF_ERROR(c.Validate());
  return c;
}

}  // namespace ipsec::driver
