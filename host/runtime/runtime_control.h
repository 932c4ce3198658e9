// Control-plane views of a Runtime (docs/control.md): JSON reports of the card, its SAs and the
// statistics, a Prometheus text exposition of the same counters, and the `card ...` command
// language that accel-cardctl speaks, in process or through a daemon's control socket (one command
// line in, one JSON document out).
//
// Reports never contain key material: they are built from SaInfo (which carries no keys) and the
// command parser never echoes what follows `card sa add` back in an error.
//
// Thread safety: every function here may be called from any thread while queue owners carry
// traffic. They use the Runtime's control methods (its mutex) and the queues' counters (relaxed
// atomics); a card SA's counters are read with one SA command each, so reports cost O(SAs).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "host/common/status.h"
#include "host/runtime/runtime.h"

namespace ipsec::runtime {

// The card: backend, state, ID block fields and capabilities, per-queue counters, RuntimeStats.
nlohmann::json CardReport(Runtime& rt);
// One SA as the reports show it (handle, SPI, direction, state, placement and refusal, card slot,
// shape, packets, bytes, sequence number, drops by reason).
nlohmann::json SaJson(const SaInfo& info);
// Every SA: {"sas": [SaJson...]}.
nlohmann::json SaReport(Runtime& rt);
// Totals over the queues, drops by reason, per-queue counters, SA counts and sums, RuntimeStats.
nlohmann::json StatsReport(Runtime& rt);

// Prometheus text exposition format 0.0.4 (metric names `ipsec_accel_*`; docs/control.md lists
// them). Every family has its HELP and TYPE lines; counters end in `_total`.
std::string RenderPrometheus(Runtime& rt);
// Writes `text` to `<path>.tmp.<pid>`, flushes it to disk and renames it over `path`, so a reader
// (node_exporter's textfile collector) never sees a partial file.
Status WriteFileAtomically(const std::string& path, std::string_view text);

// Runs one command line of the control language:
//   help
//   card show | card sas | card stats | card metrics
//   card sa show <handle> | card sa show spi=<spi> [direction=in|out]
//   card sa add <key=value ...> [placement=auto|software]   (SA file keys; or `k = v; k = v; ...`)
//   card sa del <handle> | card sa del spi=<spi> [direction=in|out]
// Returns one JSON object: {"ok": true, ...} or {"ok": false, "error": "..."}. Never throws; bad
// input of any kind gives an error object.
nlohmann::json RunControlCommand(Runtime& rt, std::string_view line);
// The same, serialised (one line, no trailing newline); invalid UTF-8 in echoed input is replaced.
std::string HandleControlCommand(Runtime& rt, std::string_view line);

// Serialises a reply as HandleControlCommand does (never throws).
std::string DumpJson(const nlohmann::json& j, int indent = -1);

}  // namespace ipsec::runtime
