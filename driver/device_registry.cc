// The backend registry; `soft` is registered on first use.
#include "driver/device_registry.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "driver/soft/soft_card.h"

namespace ipsec::driver {
namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, DeviceFactory, std::less<>> factories;  // guarded by mu
};

Registry& GetRegistry() {
  static Registry* r = [] {
    auto* reg = new Registry();  // never destroyed: factories may be used during static teardown
    reg->factories.emplace("soft", [](std::string_view args) -> StatusOr<std::unique_ptr<Device>> {
      ASSIGN_OR_RETURN(SoftCardOptions opts, ParseSoftCardOptions(args));
      ASSIGN_OR_RETURN(std::unique_ptr<SoftCard> card, SoftCard::Create(opts));
      return std::unique_ptr<Device>(std::move(card));
    });
    return reg;
  }();
  return *r;
}

}  // namespace

Status RegisterDeviceBackend(std::string name, DeviceFactory factory) {
  Registry& r = GetRegistry();
  std::lock_guard lock(r.mu);
  if (name.empty() || name.find(':') != std::string::npos) return InvalidArgumentError("bad backend name");
  if (!r.factories.emplace(std::move(name), std::move(factory)).second) {
    return AlreadyExistsError("device backend already registered");
  }
  return OkStatus();
}

StatusOr<std::unique_ptr<Device>> OpenDevice(std::string_view spec) {
  const size_t colon = spec.find(':');
  const std::string_view name = spec.substr(0, colon);
  const std::string_view args = colon == std::string_view::npos ? std::string_view{} : spec.substr(colon + 1);
  DeviceFactory factory;
  {
    Registry& r = GetRegistry();
    std::lock_guard lock(r.mu);
    auto it = r.factories.find(name);
    if (it == r.factories.end()) {
      std::string known;
      for (const auto& [n, f] : r.factories) known += (known.empty() ? "" : ", ") + n;
      return NotFoundError("unknown device backend '" + std::string(name) + "' (known: " + known + ")");
    }
    factory = it->second;
  }
  return factory(args);
}

std::vector<std::string> DeviceBackends() {
  Registry& r = GetRegistry();
  std::lock_guard lock(r.mu);
  std::vector<std::string> names;
  for (const auto& [n, f] : r.factories) names.push_back(n);
  return names;
}

}  // namespace ipsec::driver
