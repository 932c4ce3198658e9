// Run-time choice of the Device backend by name: "soft", "soft:<options>", "sim[:<options>]" and
// "xrt:<index|bdf>[,<options>]". The spec is `<backend>[:<args>]`; the args string is passed to the backend's
// factory untouched.
//
// The software model `soft` is built in. Other backends register themselves with
// RegisterDeviceBackend() from the library that implements them (the sim backend links the
// Verilated model, which the driver library must not depend on).
//
// Thread safety: registration and opening are serialised by a lock; both are control-path.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "driver/device.h"
#include "host/common/status.h"

namespace ipsec::driver {

using DeviceFactory = std::function<StatusOr<std::unique_ptr<Device>>(std::string_view args)>;

// Fails with AlreadyExists when the name is taken.
Status RegisterDeviceBackend(std::string name, DeviceFactory factory);
// NotFound for an unknown backend (the message lists the known ones); otherwise what the factory
// returns.
StatusOr<std::unique_ptr<Device>> OpenDevice(std::string_view spec);
// The registered backend names, sorted.
std::vector<std::string> DeviceBackends();

}  // namespace ipsec::driver
