// Whether the card can take an SA, checked before install, with a precise reason when it cannot.
// The runtime places refused SAs on the software path (esp::EspSa) and records the reason.
#pragma once

#include <string>
#include <string_view>

#include "driver/driver.h"
#include "host/sa/sa_config.h"

namespace ipsec::runtime {

enum class CardRefusal : uint8_t {
  kNone = 0,
  kNoCard,         // no card, or the card is down
  kProtocol,       // AH: the card does ESP only
  kDirection,      // ID_FEATURES lacks ESP_OUTBOUND / ESP_INBOUND
  kSuite,          // suite not in ID_SUITES
  kMode,           // tunnel IPv4 / tunnel IPv6 / transport not in ID_FEATURES
  kEncap,          // UDP encapsulation not in ID_FEATURES
  kEsn,            // ESN not in ID_FEATURES
  kReplayWindow,   // window neither 0 nor 64 .. CAP_REPLAY
  kLifetime,       // limits set but ID_FEATURES lacks LIFETIMES
  kHeaderPolicy,   // DSCP set / ECN compat / TTL != 64 / inner TTL without ECN_DSCP_TTL
  kTableFull,      // no free slot
  kSlotTaken,      // inbound: the SPI's slot (SPI mod CAP_SA) holds another SA
  kCardError,      // the install command failed (the Status is in the detail)
  kForced,         // the caller asked for software
  kReplayRestore,  // inbound: moved off the card because the card cannot restore its replay window
};
std::string_view CardRefusalName(CardRefusal r);

struct CardFit {
  CardRefusal reason = CardRefusal::kNone;
  std::string detail;  // human-readable: what the SA asks and what the card offers
  bool ok() const { return reason == CardRefusal::kNone; }
};

// Checks the SA's shape against the card's capabilities (not slot availability).
CardFit CheckCardFit(const driver::Capabilities& caps, const sa::SaConfig& config);

}  // namespace ipsec::runtime
