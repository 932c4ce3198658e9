// ipsec-pcap: runs the packets of a pcap capture through an ESP (or AH) SA described by an SA file,
// in software or (--device) through the card driver on a device backend, and generates test
// captures. See host/tools/README.md.
//
// Exit status: 0 success; 1 the run finished but at least one packet was dropped (so scripts
// notice); 2 usage, configuration or I/O error (nothing useful was produced).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "driver/device_registry.h"
#include "host/sa/sa_file.h"
#include "host/tools/pcap_processor.h"

#ifdef IPSEC_HAVE_SIM_CARD
#include "driver/sim/sim_card.h"
#endif
#ifdef IPSEC_HAVE_XRT
#include "driver/xrt/xrt_device.h"
#endif

namespace ipsec::tools {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitDrops = 1;
constexpr int kExitUsage = 2;

constexpr char kHelp[] = R"(usage:
  ipsec-pcap encap --sa FILE [--sa FILE...] -i IN.pcap -o OUT.pcap [options]
  ipsec-pcap decap --sa FILE [--sa FILE...] -i IN.pcap -o OUT.pcap [options]
  ipsec-pcap gen -o OUT.pcap --count N --size BYTES [--v6] [--seed S]

encap  runs every IP packet of IN.pcap through the SA with direction = out (ESP or AH, tunnel
       or transport) and writes the protected packets to OUT.pcap.
decap  runs every packet through the SAs with direction = in, looked up by SPI, and writes the
       decapsulated packets.
gen    writes N valid UDP packets of BYTES bytes each (IP header included) from 192.0.2.0/24 to
       198.51.100.0/24, or 2001:db8:0:1::/64 to 2001:db8:0:2::/64 with --v6, as raw IP.

options:
  --sa FILE          SA description file (key = value lines, optional [sa] sections); may be
                     given more than once. Format: host/tools/README.md.
  -i, --input FILE   input capture (Ethernet incl. 802.1Q, raw IPv4/IPv6, BSD loopback, Linux SLL)
  -o, --output FILE  output capture: Ethernet if the input was Ethernet (original header kept,
                     EtherType fixed), raw IP otherwise
  --provider NAME    crypto provider: auto (default), ipsec-mb or openssl
  --burst N          packets per burst, 1..1024 (default 32)
  --device SPEC      encap/decap: run the packets through the card driver on device SPEC
                     instead of the software ESP path: soft, soft:<options> (e.g.
                     soft:provider=openssl,ring_log2=6,step), or sim (the Verilated card, when
                     built with it). ESP only, suites the card implements (AES-GCM-128/256
                     by default).
  --stats            also print each SA's counters
  --json             print the summary as one JSON object
  --count N          gen: number of packets (default 100)
  --size BYTES       gen: IP packet size (default 128; IPv4 28..65535, IPv6 48..65535)
  --v6               gen: IPv6 instead of IPv4
  --seed S           gen: payload seed (default 1)
  -h, --help         this text

Non-IP frames (ARP, ...) are counted and left out of the output. The summary gives packets in and
out, drops per reason, bytes, elapsed time and throughput.

exit status: 0 success, 1 some packets were dropped, 2 usage, configuration or I/O error.
)";

// The help text, with the device backends this binary knows.
std::string HelpText() {
  std::string backends;
  for (const std::string& b : driver::DeviceBackends()) backends += (backends.empty() ? "" : ", ") + b;
  return std::string(kHelp) + "device backends in this build: " + backends + "\n";
}

int Usage(const std::string& msg) {
  std::fprintf(stderr, "ipsec-pcap: %s\n(ipsec-pcap --help for usage)\n", msg.c_str());
  return kExitUsage;
}

bool ParseU64(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

int Run(const std::vector<std::string_view>& args) {
  if (args.empty()) return Usage("missing command (encap, decap or gen)");
  for (std::string_view a : args) {
    if (a == "-h" || a == "--help") {
      std::fputs(HelpText().c_str(), stdout);
      return kExitOk;
    }
  }
  const std::string_view cmd = args[0];
  const bool gen = cmd == "gen";
  if (!gen && cmd != "encap" && cmd != "decap") return Usage("unknown command '" + std::string(cmd) + "'");

  ProcessOptions popts;
  popts.op = cmd == "encap" ? Operation::kEncap : Operation::kDecap;
  GenOptions gopts;
  std::vector<std::string> sa_paths;
  bool stats = false, json = false, have_count = false, have_size = false, have_provider = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string_view a = args[i];
    const auto value = [&](std::string_view* v) {
      if (i + 1 >= args.size()) return false;
      *v = args[++i];
      return true;
    };
    std::string_view v;
    uint64_t n = 0;
    const bool takes_value = a == "--sa" || a == "-i" || a == "--input" || a == "-o" || a == "--output" ||
                             a == "--provider" || a == "--burst" || a == "--count" || a == "--size" ||
                             a == "--seed" || a == "--device";
    if (takes_value && !value(&v)) return Usage(std::string(a) + " needs a value");
    const bool gen_only = a == "--count" || a == "--size" || a == "--seed" || a == "--v6";
    const bool process_only = a == "--sa" || a == "-i" || a == "--input" || a == "--provider" || a == "--burst" ||
                              a == "--stats" || a == "--json" || a == "--device";
    if ((gen && process_only) || (!gen && gen_only)) {
      return Usage(std::string(a) + " does not apply to " + std::string(cmd));
    }
    if (a == "--sa") {
      sa_paths.emplace_back(v);
    } else if (a == "-i" || a == "--input") {
      popts.input_path = v;
    } else if (a == "-o" || a == "--output") {
      popts.output_path = v;
      gopts.output_path = v;
    } else if (a == "--provider") {
      auto p = crypto::ParseProvider(v);
      if (!p.ok()) return Usage(p.status().message());
      popts.provider = *p;
      have_provider = true;
    } else if (a == "--device") {
      if (v.empty()) return Usage("--device needs a device spec (soft, soft:<options>, sim)");
      popts.device = v;
    } else if (a == "--burst") {
      if (!ParseU64(v, &n) || n == 0 || n > kMaxBurst) return Usage("--burst must be 1.." + std::to_string(kMaxBurst));
      popts.burst = static_cast<size_t>(n);
    } else if (a == "--stats") {
      stats = true;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--count") {
      if (!ParseU64(v, &n)) return Usage("--count needs a number");
      gopts.count = n;
      have_count = true;
    } else if (a == "--size") {
      if (!ParseU64(v, &n) || n > kGenMaxSize) return Usage("--size must be at most " + std::to_string(kGenMaxSize));
      gopts.size = static_cast<size_t>(n);
      have_size = true;
    } else if (a == "--seed") {
      if (!ParseU64(v, &n)) return Usage("--seed needs a number");
      gopts.seed = n;
    } else if (a == "--v6") {
      gopts.v6 = true;
    } else {
      return Usage("unknown option '" + std::string(a) + "'");
    }
  }

  if (gen) {
    if (gopts.output_path.empty()) return Usage("gen needs -o OUT.pcap");
    if (!have_count || !have_size) return Usage("gen needs --count and --size");
    Status s = GeneratePcap(gopts);
    if (!s.ok()) {
      std::fprintf(stderr, "ipsec-pcap: %s\n", s.message().c_str());
      return kExitUsage;
    }
    return kExitOk;
  }

  if (sa_paths.empty()) return Usage(std::string(cmd) + " needs --sa FILE");
  if (have_provider && !popts.device.empty()) {
    return Usage("--provider does not apply with --device (the soft card takes it as an option: "
                 "--device soft:provider=NAME)");
  }
  if (popts.input_path.empty() || popts.output_path.empty()) return Usage(std::string(cmd) + " needs -i and -o");
  std::vector<sa::SaFile> sas;
  for (const std::string& path : sa_paths) {
    auto loaded = sa::LoadSaFileMulti(path);
    if (!loaded.ok()) {
      std::fprintf(stderr, "ipsec-pcap: %s\n", loaded.status().message().c_str());
      return kExitUsage;
    }
    for (sa::SaFile& f : *loaded) sas.push_back(std::move(f));
  }
  auto result = ProcessPcap(popts, std::move(sas));
  if (!result.ok()) {
    std::fprintf(stderr, "ipsec-pcap: %s\n", result.status().message().c_str());
    return kExitUsage;
  }
  const std::string summary = json ? FormatStatsJson(*result, popts.op, stats) : FormatStats(*result, popts.op, stats);
  std::fputs(summary.c_str(), stdout);
  return result->total_drops() == 0 ? kExitOk : kExitDrops;
}

}  // namespace
}  // namespace ipsec::tools

int main(int argc, char** argv) {
#ifdef IPSEC_HAVE_SIM_CARD
  // `--device sim`: the Verilated card, linked in by driver/sim/CMakeLists.txt.
  if (ipsec::Status s = ipsec::driver::RegisterSimBackend(); !s.ok()) {
    std::fprintf(stderr, "ipsec-pcap: warning: device backend sim unavailable: %s\n", s.message().c_str());
  }
#endif
#ifdef IPSEC_HAVE_XRT
  // `--device xrt:<index|bdf>[,xclbin=PATH]`: a card through XRT, linked in by driver/xrt/CMakeLists.txt.
  if (ipsec::Status s = ipsec::driver::RegisterXrtBackend(); !s.ok()) {
    std::fprintf(stderr, "ipsec-pcap: warning: device backend xrt unavailable: %s\n", s.message().c_str());
  }
#endif
  std::vector<std::string_view> args(argv + 1, argv + argc);
  return ipsec::tools::Run(args);
}
