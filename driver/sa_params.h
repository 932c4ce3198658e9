// Conversion between the software path's SA description (sa::SaConfig, host/sa/sa_config.h) and
// the card's SA parameter record (card::SaParams, the `sa_params` record of
// docs/device-interface.md). The driver encodes with ToSaParams when it installs an SA; the
// software model of the card decodes with FromSaParams to configure its EspSa. Keys never pass
// through here: they go to the SA_KEY_*/SA_SALT registers only.
#pragma once

#include "host/common/status.h"
#include "host/sa/sa_config.h"
#include "ipsec_accel/card_regs.h"

namespace ipsec::driver {

// card::Suite is sa::Suite + 1 (the card keeps 0 for "none").
card::Suite ToCardSuite(sa::Suite s);
// InvalidArgument for kNone or a value the software path does not know.
StatusOr<sa::Suite> FromCardSuite(card::Suite s);

// InvalidArgument for AH SAs (the card does ESP only) and for configurations that SaConfig
// itself refuses (SaConfig::Validate).
StatusOr<card::SaParams> ToSaParams(const sa::SaConfig& config);

// The inverse. Fields the record does not carry get SaConfig's defaults (protocol ESP). Fails on
// records SaConfig::Validate refuses, or with a suite it does not know.
StatusOr<sa::SaConfig> FromSaParams(const card::SaParams& params);

}  // namespace ipsec::driver
