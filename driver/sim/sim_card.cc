// The `sim` backend: SimDevice over the Verilated card top.
#include "driver/sim/sim_card.h"

#include <charconv>
#include <memory>
#include <mutex>
#include <string>

#include "Vipsec_card_top.h"
#include "driver/device_registry.h"
#include "driver/sim/sim_device.h"

namespace ipsec::driver {

namespace {
bool ParseU64(std::string_view v, uint64_t* out) {
  const auto r = std::from_chars(v.data(), v.data() + v.size(), *out);
  return r.ec == std::errc() && r.ptr == v.data() + v.size();
}
bool ParseProb(std::string_view v, double* out) {
  // from_chars for double is in libstdc++ 11+; keep a strict check of the whole string.
  std::string s(v);
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && *out >= 0.0 && *out <= 1.0;
}
}  // namespace

StatusOr<SimDeviceOptions> ParseSimDeviceOptions(std::string_view args) {
  SimDeviceOptions o;
  // Host memory as seen across PCIe: a few hundred ns of read latency at 250 MHz.
  o.harness.slave.read_latency_cycles = 64;
  o.harness.slave.write_latency_cycles = 16;
  o.harness.slave.max_outstanding_reads = 32;
  o.harness.slave.max_outstanding_writes = 32;
  o.harness.trace_from_environment = true;
  while (!args.empty()) {
    const size_t comma = args.find(',');
    const std::string_view item = args.substr(0, comma);
    args = comma == std::string_view::npos ? std::string_view{} : args.substr(comma + 1);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    const std::string_view key = item.substr(0, eq);
    const std::string_view val = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
    uint64_t n = 0;
    double p = 0;
    if (key == "latency" && ParseU64(val, &n) && n <= 100000) {
      o.harness.slave.read_latency_cycles = static_cast<uint32_t>(n);
      o.harness.slave.write_latency_cycles = static_cast<uint32_t>(n / 4);
    } else if (key == "jitter" && ParseU64(val, &n) && n <= 100000) {
      o.harness.slave.latency_jitter_cycles = static_cast<uint32_t>(n);
    } else if (key == "stall" && ParseProb(val, &p)) {
      o.harness.slave.ar_stall = o.harness.slave.aw_stall = o.harness.slave.w_stall = p;
      o.harness.slave.r_idle = o.harness.slave.b_idle = p;
    } else if (key == "seed" && ParseU64(val, &n)) {
      o.harness.slave.seed = n;
    } else if (key == "mhz" && ParseU64(val, &n) && n >= 1 && n <= 1000) {
      o.clock_mhz = static_cast<uint32_t>(n);
    } else if (key == "fst" && !val.empty()) {
      o.harness.trace_path = std::string(val);
    } else if (key == "fst_first" && ParseU64(val, &n)) {
      o.harness.trace_first_cycle = n;
    } else if (key == "fst_last" && ParseU64(val, &n)) {
      o.harness.trace_last_cycle = n;
    } else {
      return InvalidArgumentError("sim device option '" + std::string(item) +
                                  "': expected latency=N, jitter=N, stall=P, seed=N, mhz=N, fst=PATH, "
                                  "fst_first=N or fst_last=N");
    }
  }
  return o;
}

Status RegisterSimBackend() {
  static std::once_flag once;
  static Status result = OkStatus();
  std::call_once(once, [] {
    result = RegisterDeviceBackend("sim", [](std::string_view args) -> StatusOr<std::unique_ptr<Device>> {
      ASSIGN_OR_RETURN(SimDeviceOptions o, ParseSimDeviceOptions(args));
      return std::unique_ptr<Device>(new SimDevice<Vipsec_card_top>(std::move(o)));
    });
  });
  return result;
}

}  // namespace ipsec::driver
