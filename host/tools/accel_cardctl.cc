// accel-cardctl: the card control tool (docs/control.md). Shows the card (ID block, capabilities,
// queues), lists SAs with their counters, adds and deletes SAs by hand, prints statistics and
// Prometheus metrics, in human form or as JSON.
//
// Two ways to reach a runtime:
//   --device SPEC    opens the device (soft, sim, ...) and a Runtime in this process and runs the
//                    command(s) against it (a by-hand session: --script adds SAs, then lists them);
//   --control PATH   sends each command line to a running daemon's control socket (the accel-iked
//                    protocol: one line in, one JSON document out) and prints the reply.
//
// Exit status: 0 success; 1 a command failed (the reply's error is printed); 2 usage, device,
// socket or I/O error.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "driver/device_registry.h"
#include "host/common/secure_bytes.h"
#include "host/runtime/runtime.h"
#include "host/runtime/runtime_control.h"

#ifdef IPSEC_HAVE_SIM_CARD
#include "driver/sim/sim_card.h"
#endif
#ifdef IPSEC_HAVE_XRT
#include "driver/xrt/xrt_device.h"
#endif

namespace ipsec::tools {
namespace {

using nlohmann::json;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

constexpr char kHelp[] = R"(usage:
  accel-cardctl [--device SPEC | --control SOCKET] [options] <command...>
  accel-cardctl [--device SPEC | --control SOCKET] [options] --script FILE|-

commands (docs/control.md):
  card show                     the card: backend, state, ID block, capabilities, queues, runtime
  card sas                      every SA: placement (card/software and why), slot, counters
  card stats                    totals, drops by reason, per-queue counters
  card metrics                  Prometheus text format (0.0.4)
  card sa show <handle> | spi=<spi> [direction=in|out]
  card sa add <key=value ...> [placement=auto|software]
                                an SA by hand; keys as in SA files (host/tools/README.md), e.g.
                                spi=0x1000 direction=out mode=tunnel suite=aes128gcm16
                                key=<40 hex digits> src=192.0.2.1 dst=192.0.2.2 encap="udp 4500 4500"
  card sa del <handle> | spi=<spi> [direction=in|out]
  help

options:
  --device SPEC      run in this process on device SPEC: soft, soft:<options>, sim (when built
                     with it), ..., or none (every SA in software, no card)
  --control SOCKET   send the commands to a daemon's control socket (default /run/accel-iked.ctl
                     when --device is not given)
  --queues N         --device: runtime queues (ring pairs), default 1
  --script FILE|-    one command per line (blank lines and # comments skipped), from FILE or
                     stdin; stops at the first failing command. Keys on a command line are
                     visible to other users (ps): give card sa add through --script instead.
  --json             print the JSON replies (one document per line) instead of tables
  --watch SECONDS    repeat the command every SECONDS until interrupted (live statistics)
  --metrics-file PATH  write `card metrics` to PATH atomically (for node_exporter's textfile
                     collector; with --watch, on every round) instead of printing it
  -h, --help         this text

exit status: 0 success, 1 a command failed, 2 usage, device, socket or I/O error.
)";

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) {
  g_stop = 1;
}

void WipeString(std::string& s) {
  if (!s.empty()) SecureZero(s.data(), s.size());
  s.clear();
}

// ---- Human output -------------------------------------------------------------------------------

std::string Str(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "-";
  if (j.is_boolean()) return j.get<bool>() ? "yes" : "no";
  return j.dump();
}

// obj[key], or null when obj is not an object or lacks the key (a reply of another shape).
const json& At(const json& obj, const char* key) {
  static const json kNull;
  return obj.is_object() && obj.contains(key) ? obj[key] : kNull;
}

std::string Num(const json& obj, const char* key) {
  return Str(At(obj, key));
}

// Columns padded to their widest cell; numeric columns right-aligned.
class Table {
 public:
  explicit Table(std::vector<std::string> header, std::vector<bool> right = {})
      : header_(std::move(header)), right_(std::move(right)) {
    right_.resize(header_.size(), false);
  }
  void Row(std::vector<std::string> cells, std::string note = "") {
    cells.resize(header_.size());
    rows_.push_back({std::move(cells), std::move(note)});
  }
  void Print(const std::string& indent = "") const {
    std::vector<size_t> w(header_.size());
    for (size_t c = 0; c < header_.size(); ++c) w[c] = header_[c].size();
    for (const auto& r : rows_) {
      for (size_t c = 0; c < r.cells.size(); ++c) w[c] = std::max(w[c], r.cells[c].size());
    }
    const auto line = [&](const std::vector<std::string>& cells) {
      std::string out = indent;
      for (size_t c = 0; c < cells.size(); ++c) {
        const std::string pad(w[c] - cells[c].size(), ' ');
        const bool last = c + 1 == cells.size();
        out += right_[c] ? pad + cells[c] : cells[c] + (last ? "" : pad);
        if (!last) out += "  ";
      }
      while (!out.empty() && out.back() == ' ') out.pop_back();
      std::printf("%s\n", out.c_str());
    };
    line(header_);
    for (const auto& r : rows_) {
      line(r.cells);
      if (!r.note.empty()) std::printf("%s    %s\n", indent.c_str(), r.note.c_str());
    }
  }

 private:
  struct R {
    std::vector<std::string> cells;
    std::string note;
  };
  std::vector<std::string> header_;
  std::vector<bool> right_;
  std::vector<R> rows_;
};

void PrintQueues(const json& queues) {
  Table t({"queue", "submitted", "completed", "card", "software", "bypass", "discard", "no-sa", "dropped", "dev-err",
           "retries"},
          {false, true, true, true, true, true, true, true, true, true, true});
  for (const json& q : queues) {
    t.Row({Num(q, "queue"), Num(q, "submitted"), Num(q, "completed"), Num(q, "to_card"), Num(q, "to_software"),
           Num(q, "bypass"), Num(q, "discard"), Num(q, "no_sa"), Num(q, "dropped"), Num(q, "device_errors"),
           Num(q, "retries")});
  }
  t.Print();
}

void PrintRuntime(const json& r) {
  std::printf(
      "runtime: %s card faults, %s recoveries, %s installs (%s failed), %s reinstalled, %s moved to "
      "software, %s events, %s pending drains\n",
      Num(r, "card_faults").c_str(), Num(r, "recoveries").c_str(), Num(r, "installs").c_str(),
      Num(r, "install_failures").c_str(), Num(r, "sas_reinstalled").c_str(), Num(r, "sas_moved_to_software").c_str(),
      Num(r, "events").c_str(), Num(r, "pending_retirements").c_str());
}

std::string Join(const json& arr) {
  std::string s;
  for (const json& v : arr) s += (s.empty() ? "" : " ") + Str(v);
  return s.empty() ? "-" : s;
}

void PrintCard(const json& j) {
  const json& c = At(j, "card");
  if (!(At(c, "present").is_boolean() && At(c, "present").get<bool>())) {
    std::printf("card: none (every SA runs in software)\n");
  } else {
    std::printf("card: %s, %s%s\n", Num(c, "backend").c_str(), Num(c, "state").c_str(),
                Num(c, "last_fault") == "-" || Num(c, "last_fault").empty()
                    ? ""
                    : (", last fault: " + Num(c, "last_fault")).c_str());
    const json& id = At(c, "id");
    const json& cap = At(c, "capabilities");
    std::printf("  layout:        %s, build %s, built %s\n", Num(id, "version").c_str(), Num(id, "build_id").c_str(),
                Num(id, "build_date_utc").c_str());
    std::printf("  features:      %s\n", Join(At(cap, "features")).c_str());
    std::printf("  suites:        %s\n", Join(At(cap, "suites")).c_str());
    std::printf("  SA slots:      %s (%s used), replay window up to %s\n", Num(cap, "sa_slots").c_str(),
                Num(c, "sa_slots_used").c_str(), Num(cap, "max_replay_window").c_str());
    std::printf("  rings:         %s ring pairs, %s event ring(s), up to %s entries, fetch burst %s\n",
                Num(cap, "ring_pairs").c_str(), Num(cap, "event_rings").c_str(), Num(cap, "max_ring_entries").c_str(),
                Num(cap, "fetch_burst").c_str());
    std::printf("  packets:       up to %s bytes, headroom %s, tailroom %s\n", Num(cap, "max_packet_bytes").c_str(),
                Num(cap, "min_headroom").c_str(), Num(cap, "min_tailroom").c_str());
    std::printf("  engine:        %s AES lanes, %s-byte datapath\n", Num(cap, "aes_lanes").c_str(),
                Num(cap, "datapath_bytes").c_str());
  }
  const json& s = At(j, "sas");
  std::printf("SAs: %s (%s on the card, %s in software; %s in, %s out)\n", Num(s, "total").c_str(),
              Num(s, "card").c_str(), Num(s, "software").c_str(), Num(s, "inbound").c_str(),
              Num(s, "outbound").c_str());
  PrintRuntime(At(j, "runtime"));
  std::printf("\n");
  PrintQueues(At(j, "queues"));
}

void PrintSas(const json& sas) {
  if (sas.empty()) {
    std::printf("no SAs\n");
    return;
  }
  Table t({"handle", "spi", "dir", "state", "placement", "slot", "suite", "mode", "packets", "bytes", "seq", "drops"},
          {true, false, false, false, false, true, false, false, true, true, true, true});
  for (const json& s : sas) {
    std::string mode = Num(s, "mode");
    if (s.contains("encap") && !At(s, "encap").is_null()) mode += "+udp";
    std::string note;
    if (s.contains("src") && !At(s, "src").is_null()) note = Num(s, "src") + " -> " + Num(s, "dst");
    if (s.contains("refusal") && At(s, "refusal").is_object()) {
      note += (note.empty() ? "" : "; ") + std::string("software because ") + Num(At(s, "refusal"), "reason") + ": " +
              Num(At(s, "refusal"), "detail");
    }
    if (s.contains("drops") && At(s, "drops").is_object() && !At(s, "drops").empty()) {
      std::string d;
      for (auto it = At(s, "drops").begin(); it != At(s, "drops").end(); ++it) {
        d += (d.empty() ? "" : ", ") + it.key() + " " + Str(it.value());
      }
      note += (note.empty() ? "" : "; ") + std::string("drops: ") + d;
    }
    t.Row({Num(s, "handle"), Num(s, "spi_hex"), Num(s, "direction"), Num(s, "state"), Num(s, "placement"),
           Num(s, "card_slot"), Num(s, "suite"), mode, Num(s, "packets"), Num(s, "bytes"), Num(s, "seq"),
           Num(s, "drops_total")},
          note);
  }
  t.Print();
}

void PrintStats(const json& j) {
  const json& t = At(j, "totals");
  std::printf("card %s; packets: %s submitted, %s completed, %s to the card, %s in software\n",
              Num(j, "card_state").c_str(), Num(t, "submitted").c_str(), Num(t, "completed").c_str(),
              Num(t, "to_card").c_str(), Num(t, "to_software").c_str());
  std::printf("not protected: %s bypass, %s discard, %s no SA, %s device errors; %s dropped by SAs\n",
              Num(t, "bypass").c_str(), Num(t, "discard").c_str(), Num(t, "no_sa").c_str(),
              Num(t, "device_errors").c_str(), Num(t, "dropped").c_str());
  std::string d;
  for (auto it = At(j, "drops").begin(); it != At(j, "drops").end(); ++it) {
    if (it.value().is_number() && it.value().get<uint64_t>() != 0) {
      d += (d.empty() ? "" : ", ") + it.key() + " " + Str(it.value());
    }
  }
  std::printf("drops by reason: %s\n", d.empty() ? "none" : d.c_str());
  const json& s = At(j, "sas");
  std::printf("SAs: %s (%s card, %s software), %s packets, %s bytes\n", Num(s, "total").c_str(), Num(s, "card").c_str(),
              Num(s, "software").c_str(), Num(s, "packets").c_str(), Num(s, "bytes").c_str());
  PrintRuntime(At(j, "runtime"));
  std::printf("\n");
  PrintQueues(At(j, "queues"));
}

// Prints a successful reply in human form, by what it holds.
void PrintHuman(const json& j) {
  if (j.contains("card")) {
    PrintCard(j);
  } else if (j.contains("totals")) {
    PrintStats(j);
  } else if (j.contains("sas") && At(j, "sas").is_array()) {
    PrintSas(At(j, "sas"));
  } else if (j.contains("sa")) {
    PrintSas(json::array({At(j, "sa")}));
  } else if (j.contains("metrics")) {
    std::fputs(Str(At(j, "metrics")).c_str(), stdout);
  } else if (j.contains("deleted")) {
    const json& d = At(j, "deleted");
    std::printf("deleted SA %s (SPI %s %s)\n", Num(d, "handle").c_str(), Num(d, "spi_hex").c_str(),
                Num(d, "direction").c_str());
  } else if (j.contains("usage")) {
    std::printf("%s\n", Str(At(j, "usage")).c_str());
  } else {
    std::printf("%s\n", runtime::DumpJson(j, 2).c_str());
  }
}

// ---- Backends ------------------------------------------------------------------------------------

class Backend {
 public:
  virtual ~Backend() = default;
  // The reply to one command line; an error object when the command could not be delivered.
  virtual std::optional<json> Run(const std::string& line, std::string* transport_error) = 0;
};

class InProcess final : public Backend {
 public:
  explicit InProcess(std::unique_ptr<runtime::Runtime> rt) : rt_(std::move(rt)) {}
  std::optional<json> Run(const std::string& line, std::string*) override {
    json j = runtime::RunControlCommand(*rt_, line);
    // Let deletions drain (nothing is in flight in this process) so the next command sees them gone.
    for (int i = 0; i < 100; ++i) {
      (void)rt_->Service();
      if (rt_->pending_retirements() == 0) break;
    }
    return j;
  }

 private:
  std::unique_ptr<runtime::Runtime> rt_;
};

class ControlSocket final : public Backend {
 public:
  explicit ControlSocket(std::string path) : path_(std::move(path)) {}
  std::optional<json> Run(const std::string& line, std::string* err) override {
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    if (path_.size() >= sizeof(sun.sun_path)) {
      *err = "control socket path too long: " + path_;
      return std::nullopt;
    }
    std::memcpy(sun.sun_path, path_.c_str(), path_.size() + 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) {
      *err = "cannot reach the daemon at " + path_ + ": " + std::strerror(errno);
      if (fd >= 0) ::close(fd);
      return std::nullopt;
    }
    std::string msg = line + "\n";
    size_t done = 0;
    while (done < msg.size()) {
      const ssize_t n = ::write(fd, msg.data() + done, msg.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        *err = "cannot write to " + path_ + ": " + std::strerror(errno);
        WipeString(msg);
        ::close(fd);
        return std::nullopt;
      }
      done += static_cast<size_t>(n);
    }
    WipeString(msg);
    // One JSON document, then the daemon closes the connection.
    std::string reply;
    char buf[4096];
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        *err = "no reply from " + path_ + " within 30 s";
        ::close(fd);
        return std::nullopt;
      }
      pollfd p{fd, POLLIN, 0};
      const int r = ::poll(&p, 1, static_cast<int>(left.count()));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) continue;
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      reply.append(buf, static_cast<size_t>(n));
      if (reply.size() > (64u << 20)) {
        *err = "reply from " + path_ + " larger than 64 MiB";
        ::close(fd);
        return std::nullopt;
      }
    }
    ::close(fd);
    json j = json::parse(reply, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      *err = "the daemon's reply is not a JSON object" + std::string(reply.empty() ? " (empty)" : "");
      return std::nullopt;
    }
    return j;
  }

 private:
  std::string path_;
};

// ---- Main ----------------------------------------------------------------------------------------

struct Options {
  std::string device;
  std::string control;
  std::string script;
  std::string metrics_file;
  uint32_t queues = 1;
  bool json = false;
  double watch = 0;
  std::string command;
};

int Usage(const std::string& msg) {
  std::fprintf(stderr, "accel-cardctl: %s\n(accel-cardctl --help for usage)\n", msg.c_str());
  return kExitUsage;
}

std::string HelpText() {
  std::string backends;
  for (const std::string& b : driver::DeviceBackends()) backends += (backends.empty() ? "" : ", ") + b;
  return std::string(kHelp) + "device backends in this build: " + backends + ", none\n";
}

// Runs one command and prints the reply; returns the exit status.
int RunOne(Backend& b, const Options& o, const std::string& line, const std::string& where) {
  std::string terr;
  std::optional<json> reply;
  {
    const bool metrics_to_file = !o.metrics_file.empty();
    reply = b.Run(metrics_to_file ? std::string("card metrics") : line, &terr);
  }
  if (!reply) {
    std::fprintf(stderr, "accel-cardctl: %s%s\n", where.c_str(), terr.c_str());
    return kExitUsage;
  }
  const json& j = *reply;
  const bool ok = At(j, "ok").is_boolean() && At(j, "ok").get<bool>();
  if (!ok) {
    std::string e = "command failed";
    if (j.is_object() && j.contains("error") && j["error"].is_string()) e = j["error"].get<std::string>();
    if (o.json) std::printf("%s\n", runtime::DumpJson(j).c_str());
    std::fprintf(stderr, "accel-cardctl: %s%s\n", where.c_str(), e.c_str());
    return kExitFailed;
  }
  if (!o.metrics_file.empty()) {
    if (!j.contains("metrics") || !j["metrics"].is_string()) {
      std::fprintf(stderr, "accel-cardctl: %sthe reply holds no metrics\n", where.c_str());
      return kExitFailed;
    }
    if (Status st = runtime::WriteFileAtomically(o.metrics_file, j["metrics"].get<std::string>()); !st.ok()) {
      std::fprintf(stderr, "accel-cardctl: %s\n", st.message().c_str());
      return kExitUsage;
    }
    return kExitOk;
  }
  if (o.json) {
    std::printf("%s\n", runtime::DumpJson(j).c_str());
  } else {
    try {
      PrintHuman(j);
    } catch (const std::exception&) {
      // A reply of another shape (an older or newer daemon): show it as it came.
      std::printf("%s\n", runtime::DumpJson(j, 2).c_str());
    }
  }
  std::fflush(stdout);
  return kExitOk;
}

int RunScript(Backend& b, const Options& o) {
  std::istream* in = &std::cin;
  std::ifstream file;
  if (o.script != "-") {
    file.open(o.script);
    if (!file) return Usage("cannot open script " + o.script + ": " + std::strerror(errno));
    in = &file;
  }
  std::string line;
  int n = 0, rc = kExitOk;
  bool first = true;
  while (std::getline(*in, line)) {
    ++n;
    const size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#') continue;
    if (!first && !o.json) std::printf("\n");
    first = false;
    rc = RunOne(b, o, line, (o.script == "-" ? std::string("stdin") : o.script) + ":" + std::to_string(n) + ": ");
    WipeString(line);  // may hold a key
    if (rc != kExitOk) break;
  }
  WipeString(line);
  return rc;
}

int Main(int argc, char** argv) {
  Options o;
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string(argv[++i]);
    };
    // Options may come anywhere; every other word belongs to the command (SA file values never
    // start with a dash).
    if (a == "-h" || a == "--help") {
      std::fputs(HelpText().c_str(), stdout);
      return kExitOk;
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--device" || a == "--control" || a == "--script" || a == "--queues" || a == "--watch" ||
               a == "--metrics-file") {
      std::optional<std::string> v = value();
      if (!v) return Usage(std::string(a) + " needs a value");
      if (a == "--device") {
        o.device = *v;
      } else if (a == "--control") {
        o.control = *v;
      } else if (a == "--script") {
        o.script = *v;
      } else if (a == "--metrics-file") {
        o.metrics_file = *v;
      } else if (a == "--queues") {
        char* end = nullptr;
        const unsigned long q = std::strtoul(v->c_str(), &end, 10);
        if (end == v->c_str() || *end != '\0' || q < 1 || q > 32) return Usage("--queues takes 1..32");
        o.queues = static_cast<uint32_t>(q);
      } else {
        char* end = nullptr;
        o.watch = std::strtod(v->c_str(), &end);
        if (end == v->c_str() || *end != '\0' || !(o.watch > 0)) return Usage("--watch takes a number of seconds > 0");
      }
    } else if (a.size() > 1 && a[0] == '-') {
      return Usage("unknown option " + std::string(a));
    } else {
      words.emplace_back(a);
    }
  }
  if (!o.device.empty() && !o.control.empty()) return Usage("give --device or --control, not both");
  if (!o.script.empty() && !words.empty()) return Usage("give a command or --script, not both");
  if (!o.script.empty() && o.watch > 0) return Usage("--watch repeats one command, not a script");
  if (!o.metrics_file.empty() && !o.script.empty()) return Usage("--metrics-file goes without --script");
  if (!o.metrics_file.empty() && !words.empty() &&
      !(words.size() == 2 && words[0] == "card" && words[1] == "metrics")) {
    return Usage("--metrics-file writes `card metrics`; give no other command");
  }
  if (words.empty() && o.script.empty()) {
    if (o.metrics_file.empty()) return Usage("no command (try: card show)");
    words = {"card", "metrics"};
  }
  for (const std::string& w : words) {
    if (!o.command.empty()) o.command += ' ';
    // Words with blanks came quoted from the shell: quote them again for the command language.
    o.command += w.find_first_of(" \t") == std::string::npos ? w : "\"" + w + "\"";
  }
  for (std::string& w : words) WipeString(w);

  std::unique_ptr<Backend> backend;
  if (!o.device.empty()) {
    runtime::RuntimeOptions ro;
    if (o.device == "none") {
      ro.use_card = false;
    } else {
      ro.device_spec = o.device;
    }
    ro.driver.queues = o.queues;
    ro.max_sas = 65536;
    auto rt = runtime::Runtime::Create(std::move(ro));
    if (!rt.ok()) {
      std::fprintf(stderr, "accel-cardctl: cannot open device %s: %s\n", o.device.c_str(),
                   rt.status().message().c_str());
      return kExitUsage;
    }
    backend = std::make_unique<InProcess>(std::move(*rt));
  } else {
    backend = std::make_unique<ControlSocket>(o.control.empty() ? "/run/accel-iked.ctl" : o.control);
  }

  if (!o.script.empty()) return RunScript(*backend, o);
  if (o.watch <= 0) {
    const int rc = RunOne(*backend, o, o.command, "");
    WipeString(o.command);
    return rc;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  const bool clear = !o.json && o.metrics_file.empty() && ::isatty(STDOUT_FILENO);
  int rc = kExitOk;
  while (!g_stop) {
    if (clear) std::printf("\033[H\033[2J");
    if (!o.json && o.metrics_file.empty()) {
      const std::time_t now = std::time(nullptr);
      char ts[32];
      std::tm tm{};
      gmtime_r(&now, &tm);
      std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
      std::printf("%s  every %gs: %s\n\n", ts, o.watch, o.command.c_str());
    }
    rc = RunOne(*backend, o, o.command, "");
    if (rc == kExitUsage && !o.metrics_file.empty()) break;  // cannot write the file
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(o.watch);
    while (!g_stop && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  WipeString(o.command);
  return rc;
}

}  // namespace
}  // namespace ipsec::tools

int main(int argc, char** argv) {
#ifdef IPSEC_HAVE_SIM_CARD
  // `--device sim`: the Verilated card, linked in by host/tools/CMakeLists.txt when it was built.
  if (ipsec::Status s = ipsec::driver::RegisterSimBackend(); !s.ok()) {
    std::fprintf(stderr, "accel-cardctl: warning: device backend sim unavailable: %s\n", s.message().c_str());
  }
#endif
#ifdef IPSEC_HAVE_XRT
  if (ipsec::Status s = ipsec::driver::RegisterXrtBackend(); !s.ok()) {
    std::fprintf(stderr, "accel-cardctl: warning: device backend xrt unavailable: %s\n", s.message().c_str());
  }
#endif
  return ipsec::tools::Main(argc, argv);
}
