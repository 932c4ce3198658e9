#include "host/runtime/card_fit.h"

#include <string>

namespace ipsec::runtime {

std::string_view CardRefusalName(CardRefusal r) {
  switch (r) {
    case CardRefusal::kNone:
      return "none";
    case CardRefusal::kNoCard:
      return "no-card";
    case CardRefusal::kProtocol:
      return "protocol";
    case CardRefusal::kDirection:
      return "direction";
    case CardRefusal::kSuite:
      return "suite";
    case CardRefusal::kMode:
      return "mode";
    case CardRefusal::kEncap:
      return "encap";
    case CardRefusal::kEsn:
      return "esn";
    case CardRefusal::kReplayWindow:
      return "replay-window";
    case CardRefusal::kLifetime:
      return "lifetime";
    case CardRefusal::kHeaderPolicy:
      return "header-policy";
    case CardRefusal::kTableFull:
      return "table-full";
    case CardRefusal::kSlotTaken:
      return "slot-taken";
    case CardRefusal::kCardError:
      return "card-error";
    case CardRefusal::kForced:
      return "forced-software";
    case CardRefusal::kReplayRestore:
      return "replay-restore";
  }
  return "?";
}

CardFit CheckCardFit(const driver::Capabilities& caps, const sa::SaConfig& c) {
  namespace f = card::field;
  auto refuse = [](CardRefusal r, std::string d) { return CardFit{r, std::move(d)}; };
  if (c.protocol != sa::Protocol::kEsp) return refuse(CardRefusal::kProtocol, "the card does ESP only, the SA is AH");
  const bool out = c.direction == sa::Direction::kOutbound;
  if (!caps.HasFeature(out ? f::kIdFeaturesEspOutbound : f::kIdFeaturesEspInbound)) {
    return refuse(CardRefusal::kDirection,
                  std::string("the card has no ESP ") + (out ? "outbound" : "inbound") + " engine");
  }
  if (!caps.SupportsSuite(c.suite)) {
    return refuse(CardRefusal::kSuite, "suite " + std::string(sa::GetSuiteInfo(c.suite).name) +
                                           " not in the card's ID_SUITES (bitmask " + std::to_string(caps.suites) +
                                           ")");
  }
  if (c.mode == sa::Mode::kTransport) {
    if (!caps.HasFeature(f::kIdFeaturesTransport)) return refuse(CardRefusal::kMode, "transport mode not supported");
  } else {
    const bool v6 = c.tunnel_dst && c.tunnel_dst->v6;
    if (!caps.HasFeature(v6 ? f::kIdFeaturesTunnelIpv6 : f::kIdFeaturesTunnelIpv4)) {
      return refuse(CardRefusal::kMode,
                    std::string("tunnel mode with an IPv") + (v6 ? "6" : "4") + " outer header not supported");
    }
  }
  if (c.udp_encap && !caps.HasFeature(f::kIdFeaturesUdpEncap)) {
    return refuse(CardRefusal::kEncap, "UDP encapsulation (RFC 3948) not supported");
  }
  if (c.esn && !caps.HasFeature(f::kIdFeaturesEsn))
    return refuse(CardRefusal::kEsn, "extended sequence numbers not supported");
  if (!out && c.replay_window != 0 && (c.replay_window < 64 || c.replay_window > caps.max_replay_window)) {
    return refuse(CardRefusal::kReplayWindow, "replay window " + std::to_string(c.replay_window) +
                                                  " outside the card's 0 or 64.." +
                                                  std::to_string(caps.max_replay_window));
  }
  const sa::Lifetime& l = c.lifetime;
  if ((l.soft_bytes | l.hard_bytes | l.soft_packets | l.hard_packets) != 0 &&
      !caps.HasFeature(f::kIdFeaturesLifetimes)) {
    return refuse(CardRefusal::kLifetime, "lifetime limits set but the card does not count them");
  }
  if ((c.dscp_mode == sa::DscpMode::kSet || c.ecn_mode == sa::EcnMode::kCompat || c.ttl != 64 ||
       c.decrement_inner_ttl) &&
      !caps.HasFeature(f::kIdFeaturesEcnDscpTtl)) {
    return refuse(CardRefusal::kHeaderPolicy, "DSCP/ECN/TTL policies not supported");
  }
  return {};
}

}  // namespace ipsec::runtime
