// The `sim` backend for the card top (hw/card/rtl/ipsec_card_top.sv, Verilated at the contract's
// default parameters): RegisterSimBackend() adds "sim[:<options>]" to OpenDevice()
// (driver/device_registry.h); ParseSimDeviceOptions (driver/sim/sim_device.h) reads the options.
// Programs that want the simulated card link ipsec::ipsec_sim_card and call it once.
#pragma once

#include "host/common/status.h"

namespace ipsec::driver {

// Registers "sim"; a second call is a no-op.
Status RegisterSimBackend();

}  // namespace ipsec::driver
