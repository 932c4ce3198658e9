#include "host/runtime/runtime_control.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <optional>
#include <utility>
#include <vector>

#include "host/common/secure_bytes.h"
#include "host/sa/sa_file.h"
#include "host/sa/sa_stats.h"

namespace ipsec::runtime {
namespace {

using nlohmann::json;

constexpr size_t kMaxLine = 16 * 1024;
constexpr size_t kMaxTokens = 256;

std::string Hex32(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08x", v);
  return b;
}

std::string IsoTime(uint32_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return "";
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return b;
}

std::string ReasonName(size_t r) {
  return std::string(sa::DropReasonName(static_cast<sa::DropReason>(r)));
}

// ---- Reports -------------------------------------------------------------------------------------

struct FeatureName {
  card::Field field;
  const char* name;
};
constexpr FeatureName kFeatures[] = {
    {card::field::kIdFeaturesEspOutbound, "esp_outbound"},
    {card::field::kIdFeaturesEspInbound, "esp_inbound"},
    {card::field::kIdFeaturesTunnelIpv4, "tunnel_ipv4"},
    {card::field::kIdFeaturesTunnelIpv6, "tunnel_ipv6"},
    {card::field::kIdFeaturesTransport, "transport"},
    {card::field::kIdFeaturesUdpEncap, "udp_encap"},
    {card::field::kIdFeaturesEsn, "esn"},
    {card::field::kIdFeaturesLifetimes, "lifetimes"},
    {card::field::kIdFeaturesIrqModeration, "irq_moderation"},
    {card::field::kIdFeaturesEcnDscpTtl, "ecn_dscp_ttl"},
};

constexpr sa::Suite kSuites[] = {sa::Suite::kAesGcm128,           sa::Suite::kAesGcm256,
                                 sa::Suite::kAesGmac128,          sa::Suite::kAesGmac256,
                                 sa::Suite::kAesCbc128HmacSha256, sa::Suite::kAesCbc256HmacSha256,
                                 sa::Suite::kNullHmacSha256,      sa::Suite::kChaCha20Poly1305};

json QueueJson(uint32_t q, const QueueCounters& c) {
  json drops = json::object();
  for (size_t r = 1; r < sa::kNumDropReasons; ++r) drops[ReasonName(r)] = c.drops[r].load();
  return json{{"queue", q},
              {"submitted", c.submitted.load()},
              {"completed", c.completed.load()},
              {"to_card", c.to_card.load()},
              {"to_software", c.to_software.load()},
              {"bypass", c.bypass.load()},
              {"discard", c.discard.load()},
              {"no_sa", c.no_sa.load()},
              {"dropped", c.dropped.load()},
              {"device_errors", c.device_errors.load()},
              {"retries", c.retries.load()},
              {"drops", std::move(drops)}};
}

json RuntimeStatsJson(Runtime& rt) {
  const RuntimeStats s = rt.stats();
  return json{{"card_faults", s.card_faults},
              {"recoveries", s.recoveries},
              {"sas_reinstalled", s.sas_reinstalled},
              {"sas_moved_to_software", s.sas_moved_to_software},
              {"events", s.events},
              {"installs", s.installs},
              {"install_failures", s.install_failures},
              {"pending_retirements", rt.pending_retirements()}};
}

json QueuesJson(Runtime& rt) {
  json queues = json::array();
  for (uint32_t q = 0; q < rt.queue_count(); ++q) queues.push_back(QueueJson(q, rt.queue(q).counters()));
  return queues;
}

struct SaTotals {
  uint64_t total = 0, card = 0, software = 0, inbound = 0, outbound = 0, packets = 0, bytes = 0;
};

SaTotals Totals(const std::vector<SaInfo>& sas) {
  SaTotals t;
  for (const SaInfo& i : sas) {
    ++t.total;
    if (i.placement == Placement::kCard) ++t.card;
    if (i.placement == Placement::kSoftware) ++t.software;
    if (i.direction == sa::Direction::kInbound) {
      ++t.inbound;
    } else {
      ++t.outbound;
    }
    t.packets += i.packets;
    t.bytes += i.bytes;
  }
  return t;
}

json SaCountsJson(const SaTotals& t) {
  return json{{"total", t.total},       {"card", t.card},       {"software", t.software}, {"inbound", t.inbound},
              {"outbound", t.outbound}, {"packets", t.packets}, {"bytes", t.bytes}};
}

// ---- Prometheus text format 0.0.4 ----------------------------------------------------------------

using Labels = std::vector<std::pair<std::string, std::string>>;

class Exposition {
 public:
  void Family(std::string_view name, std::string_view type, std::string_view help) {
    name_ = std::string(name);
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    for (char c : help) {
      if (c == '\\') {
        out_ += "\\\\";
      } else if (c == '\n') {
        out_ += "\\n";
      } else {
        out_ += c;
      }
    }
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  // A sample of the current family.
  void Sample(const Labels& labels, uint64_t value) {
    out_ += name_;
    if (!labels.empty()) {
      out_ += '{';
      bool first = true;
      for (const auto& [k, v] : labels) {
        if (!first) out_ += ',';
        first = false;
        out_ += k;
        out_ += "=\"";
        for (char c : v) {
          if (c == '\\') {
            out_ += "\\\\";
          } else if (c == '"') {
            out_ += "\\\"";
          } else if (c == '\n') {
            out_ += "\\n";
          } else {
            out_ += c;
          }
        }
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += std::to_string(value);
    out_ += '\n';
  }
  void Single(std::string_view name, std::string_view type, std::string_view help, uint64_t value) {
    Family(name, type, help);
    Sample({}, value);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
  std::string name_;
};

Labels SaLabels(const SaInfo& i) {
  return {{"handle", std::to_string(i.handle)},
          {"spi", Hex32(i.spi)},
          {"direction", std::string(sa::DirectionName(i.direction))},
          {"placement", std::string(PlacementName(i.placement))}};
}

Labels With(Labels l, std::string k, std::string v) {
  l.emplace_back(std::move(k), std::move(v));
  return l;
}

// ---- The command language ------------------------------------------------------------------------

json Error(std::string message) {
  return json{{"ok", false}, {"error", std::move(message)}};
}

json Ok(json body = json::object()) {
  body["ok"] = true;
  return body;
}

// Wipes strings that held key text (best effort: they were reserved up front so they never moved).
void Wipe(std::string& s) {
  if (!s.empty()) SecureZero(s.data(), s.size());
  s.clear();
}
void Wipe(std::vector<std::string>& v) {
  for (std::string& s : v) Wipe(s);
  v.clear();
}

struct Token {
  std::string text;
  size_t end = 0;  // offset just past the token in the line
};

// Splits on blanks; "..." groups (quotes may sit anywhere in a token and are removed).
StatusOr<std::vector<Token>> Tokenize(std::string_view line) {
  std::vector<Token> out;
  out.reserve(std::min(kMaxTokens, line.size() / 2 + 1));  // never moved: tokens may hold key text
  size_t i = 0;
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (i < line.size()) {
    while (i < line.size() && blank(line[i])) ++i;
    if (i == line.size()) break;
    if (out.size() == kMaxTokens) return InvalidArgumentError("too many words (at most 256)");
    size_t j = i;
    bool quoted = false;
    for (; j < line.size() && (quoted || !blank(line[j])); ++j) {
      if (line[j] == '"') quoted = !quoted;
    }
    if (quoted) return InvalidArgumentError("unterminated quote");
    Token t;
    t.text.reserve(j - i);  // never reallocated: it may hold key text, wiped by its user
    for (; i < j; ++i) {
      if (line[i] != '"') t.text += line[i];
    }
    t.end = i;
    out.push_back(std::move(t));
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::optional<uint64_t> ParseNumber(std::string_view s) {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// A word safe to quote back in an error: short, lower-case letters and dashes (never key text: a
// key has at least 32 hex digits).
std::string Quote(std::string_view w) {
  if (w.empty() || w.size() > 20) return "'...'";
  for (char c : w) {
    if (!((c >= 'a' && c <= 'z') || c == '-' || c == '_')) return "'...'";
  }
  return "'" + std::string(w) + "'";
}

constexpr char kUsage[] =
    "card show | card sas | card stats | card metrics | card sa show <handle>|spi=<spi> [direction=in|out] | "
    "card sa add <key=value ...> [placement=auto|software] | card sa del <handle>|spi=<spi> [direction=in|out] | "
    "help";

// `<handle>`, `handle=<n>`, or `spi=<spi> [direction=in|out]`: the SA they name.
StatusOr<SaInfo> SelectSa(Runtime& rt, const std::vector<Token>& t, size_t from) {
  std::optional<uint64_t> handle, spi;
  std::optional<sa::Direction> dir;
  if (t.size() <= from) return InvalidArgumentError("name an SA: <handle>, handle=<n> or spi=<spi> [direction=in|out]");
  for (size_t k = from; k < t.size(); ++k) {
    const std::string_view w = t[k].text;
    const size_t eq = w.find('=');
    const std::string_view key = eq == std::string_view::npos ? std::string_view() : w.substr(0, eq);
    const std::string_view val = eq == std::string_view::npos ? w : w.substr(eq + 1);
    if (eq == std::string_view::npos || key == "handle") {
      if (handle || spi) return InvalidArgumentError("name one SA");
      handle = ParseNumber(val);
      if (!handle || *handle >= kNoSa) return InvalidArgumentError("bad SA handle (a number)");
    } else if (key == "spi") {
      if (handle || spi) return InvalidArgumentError("name one SA");
      spi = ParseNumber(val);
      if (!spi || *spi > 0xffffffffu) return InvalidArgumentError("bad SPI (decimal or 0x hex, 32 bits)");
    } else if (key == "direction" || key == "dir") {
      if (val == "in") {
        dir = sa::Direction::kInbound;
      } else if (val == "out") {
        dir = sa::Direction::kOutbound;
      } else {
        return InvalidArgumentError("direction must be in or out");
      }
    } else {
      return InvalidArgumentError("unknown argument " + Quote(key) + " (handle, spi, direction)");
    }
  }
  if (handle) {
    if (dir) return InvalidArgumentError("direction goes with spi=, not with a handle");
    return rt.GetSa(static_cast<SaHandle>(*handle));
  }
  if (!spi) return InvalidArgumentError("name an SA: <handle>, handle=<n> or spi=<spi>");
  std::vector<SaInfo> hits;
  for (SaInfo& i : rt.ListSas()) {
    if (i.spi == *spi && (!dir || i.direction == *dir) && i.state != SaState::kDraining) hits.push_back(std::move(i));
  }
  if (hits.empty()) {
    return NotFoundError("no SA with SPI " + Hex32(static_cast<uint32_t>(*spi)) +
                         (dir ? std::string(" ") + std::string(sa::DirectionName(*dir)) : std::string()));
  }
  if (hits.size() > 1) {
    std::string handles;
    for (const SaInfo& i : hits) handles += (handles.empty() ? "" : ", ") + std::to_string(i.handle);
    return FailedPreconditionError("SPI " + Hex32(static_cast<uint32_t>(*spi)) + " names several SAs (handles " +
                                   handles + "): add direction=in|out or give the handle");
  }
  return std::move(hits.front());
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Replaces every run of 16 or more hex digits (with the separators an SA file allows inside a key:
// ':', blanks) by "[redacted]". The SA file parser keeps key values out of its messages, but it
// quotes other values whole (an unknown suite, a bad address), and a missing blank between two
// arguments (`suite=aes128gcm16key=...`) would carry a key into such a value.
std::string RedactHex(const std::string& m) {
  std::string out;
  size_t i = 0;
  while (i < m.size()) {
    if (!IsHex(m[i])) {
      out += m[i++];
      continue;
    }
    size_t j = i, digits = 0, last_digit_end = i;
    while (j < m.size() && (IsHex(m[j]) || m[j] == ':' || m[j] == ' ' || m[j] == '\t')) {
      if (IsHex(m[j])) {
        ++digits;
        last_digit_end = j + 1;
      }
      ++j;
    }
    if (digits >= 16) {
      out += "[redacted]";
    } else {
      out.append(m, i, last_digit_end - i);
    }
    i = last_digit_end;
  }
  return out;
}

// Rewrites the SA file parser's "line N: ..." (one line per argument here) so it points at the
// argument; messages never contain key text.
std::string AddError(const std::string& m, bool semicolons) {
  const std::string unit = semicolons ? "field " : "argument ";
  if (m.rfind("line ", 0) == 0) return unit + m.substr(5);
  if (m.rfind("SA at line ", 0) == 0) {
    const size_t colon = m.find(':');
    return colon == std::string::npos ? m : "SA:" + m.substr(colon + 1);
  }
  return m;
}

json AddSa(Runtime& rt, std::string_view line, const std::vector<Token>& t) {
  // What follows `card sa add`, as SA file lines: `k=v` words, or `k = v; k = v; ...`.
  const std::string_view rest = line.substr(t[2].end);
  const bool semicolons = rest.find(';') != std::string_view::npos;
  std::vector<std::string> lines;
  std::string text;
  text.reserve(rest.size() * 2 + 64);
  struct Guard {
    std::vector<std::string>& lines;
    std::string& text;
    ~Guard() {
      Wipe(lines);
      Wipe(text);
    }
  } guard{lines, text};
  lines.reserve(semicolons ? static_cast<size_t>(std::count(rest.begin(), rest.end(), ';')) + 1 : t.size());
  if (semicolons) {
    size_t pos = 0;
    while (pos <= rest.size()) {
      const size_t semi = std::min(rest.find(';', pos), rest.size());
      lines.emplace_back(rest.substr(pos, semi - pos));
      pos = semi + 1;
    }
  } else {
    for (size_t k = 3; k < t.size(); ++k) {
      const std::string& w = t[k].text;
      const size_t eq = w.find('=');
      if (eq == std::string::npos || eq == 0) {
        return Error("argument " + std::to_string(k - 2) + ": expected key=value (SA file keys, docs/control.md)");
      }
      std::string l;
      l.reserve(w.size() + 2);
      l.append(w, 0, eq);
      l += " = ";
      l.append(w, eq + 1, std::string::npos);
      lines.push_back(std::move(l));
    }
  }
  bool force_software = false;
  for (std::string& l : lines) {
    const size_t eq = l.find('=');
    if (eq == std::string::npos || Trim(std::string_view(l).substr(0, eq)) != "placement") continue;
    std::string_view v = std::string_view(l).substr(eq + 1);
    v = Trim(v.substr(0, v.find('#')));
    if (v == "software") {
      force_software = true;
    } else if (v != "auto" && v != "card") {
      return Error("placement must be auto (the card when it fits) or software");
    }
    l.clear();  // keeps the numbering of the other arguments
  }
  if (lines.empty() || (lines.size() == 1 && Trim(lines[0]).empty())) {
    return Error("card sa add needs the SA's keys: spi=, direction=, mode=, suite=, key=, ... (docs/control.md)");
  }
  for (const std::string& l : lines) {
    text += l;
    text += '\n';
  }
  StatusOr<sa::SaFile> parsed = sa::ParseSaFile(text);
  if (!parsed.ok()) return Error(RedactHex(AddError(parsed.status().message(), semicolons)));
  StatusOr<SaHandle> h = rt.AddSa(parsed->config, std::move(parsed->keys), {.force_software = force_software});
  if (!h.ok()) return Error(RedactHex(h.status().message()));
  StatusOr<SaInfo> info = rt.GetSa(*h);
  if (!info.ok()) return Error(info.status().message());
  return Ok(json{{"sa", SaJson(*info)}});
}

json Run(Runtime& rt, std::string_view line) {
  if (line.size() > kMaxLine) return Error("command longer than 16 KiB");
  StatusOr<std::vector<Token>> tokens = Tokenize(line);
  if (!tokens.ok()) return Error(tokens.status().message());
  struct Guard {
    std::vector<Token>& tokens;
    ~Guard() {
      for (Token& tok : tokens) Wipe(tok.text);
    }
  } guard{*tokens};
  const std::vector<Token>& t = *tokens;
  if (t.empty()) return Error("empty command; try: help");
  if (t[0].text == "help") return Ok(json{{"usage", kUsage}});
  if (t[0].text != "card") return Error("unknown command " + Quote(t[0].text) + "; commands: " + kUsage);
  if (t.size() < 2) return Error("card what? " + std::string(kUsage));
  const std::string& verb = t[1].text;
  if (verb == "show" && t.size() == 2) return Ok(CardReport(rt));
  if (verb == "sas" && t.size() == 2) return Ok(SaReport(rt));
  if (verb == "stats" && t.size() == 2) return Ok(StatsReport(rt));
  if (verb == "metrics" && t.size() == 2) {
    return Ok(json{{"format", "prometheus-text-0.0.4"}, {"metrics", RenderPrometheus(rt)}});
  }
  if (verb == "sa" && t.size() >= 3) {
    const std::string& op = t[2].text;
    if (op == "list" && t.size() == 3) return Ok(SaReport(rt));
    if (op == "add") return AddSa(rt, line, t);
    if (op == "show") {
      StatusOr<SaInfo> info = SelectSa(rt, t, 3);
      if (!info.ok()) return Error(info.status().message());
      return Ok(json{{"sa", SaJson(*info)}});
    }
    if (op == "del" || op == "delete") {
      StatusOr<SaInfo> info = SelectSa(rt, t, 3);
      if (!info.ok()) return Error(info.status().message());
      if (Status st = rt.DeleteSa(info->handle); !st.ok()) return Error(st.message());
      return Ok(json{{"deleted",
                      {{"handle", info->handle},
                       {"spi", info->spi},
                       {"spi_hex", Hex32(info->spi)},
                       {"direction", std::string(sa::DirectionName(info->direction))}}}});
    }
    return Error("unknown card sa command " + Quote(op) + "; commands: " + kUsage);
  }
  if (verb == "show" || verb == "sas" || verb == "stats" || verb == "metrics") {
    return Error("card " + verb + " takes no arguments");
  }
  return Error("unknown card command " + Quote(verb) + "; commands: " + kUsage);
}

}  // namespace

json CardReport(Runtime& rt) {
  json card;
  driver::Device* dev = rt.device();
  card["present"] = rt.has_card();
  card["backend"] = dev != nullptr ? std::string(dev->backend()) : std::string();
  card["state"] = std::string(rt.card_state());
  card["last_fault"] = rt.last_fault();
  if (rt.has_card()) {
    const driver::Capabilities c = rt.CapsSnapshot();
    json features = json::array();
    for (const FeatureName& f : kFeatures) {
      if (c.HasFeature(f.field)) features.push_back(f.name);
    }
    json suites = json::array();
    for (sa::Suite s : kSuites) {
      if (c.SupportsSuite(s)) suites.push_back(std::string(sa::SuiteName(s)));
    }
    card["id"] = json{{"version", std::to_string(c.version_major) + "." + std::to_string(c.version_minor)},
                      {"version_major", c.version_major},
                      {"version_minor", c.version_minor},
                      {"build_id", Hex32(c.build_id)},
                      {"build_date", c.build_date},
                      {"build_date_utc", IsoTime(c.build_date)}};
    card["capabilities"] =
        json{{"features", std::move(features)},
             {"features_mask", c.features},
             {"suites", std::move(suites)},
             {"suites_mask", c.suites},
             {"sa_slots", c.sa_count},
             {"max_replay_window", c.max_replay_window},
             {"ring_pairs", c.ring_pairs},
             {"event_rings", c.event_rings},
             {"max_ring_entries", c.max_ring_log2 < 32 ? (uint64_t{1} << c.max_ring_log2) : 0},
             {"fetch_burst", c.fetch_burst},
             {"max_packet_bytes", c.max_pkt_bytes},
             {"min_headroom", c.min_headroom},
             {"min_tailroom", c.min_tailroom},
             {"aes_lanes", c.aes_lanes},
             {"datapath_bytes", c.datapath_bytes_log2 < 32 ? (uint64_t{1} << c.datapath_bytes_log2) : 0}};
  }
  const SaTotals totals = Totals(rt.ListSas());
  card["sa_slots_used"] = totals.card;
  return json{{"card", std::move(card)},
              {"queues", QueuesJson(rt)},
              {"sas", SaCountsJson(totals)},
              {"runtime", RuntimeStatsJson(rt)}};
}

json SaJson(const SaInfo& i) {
  const sa::SaConfig& c = i.config;
  json j{{"handle", i.handle},
         {"spi", i.spi},
         {"spi_hex", Hex32(i.spi)},
         {"direction", std::string(sa::DirectionName(i.direction))},
         {"state", std::string(SaStateName(i.state))},
         {"placement", std::string(PlacementName(i.placement))},
         {"tunnel", i.tunnel},
         {"protocol", std::string(sa::ProtocolName(c.protocol))},
         {"mode", std::string(sa::ModeName(c.mode))},
         {"suite", std::string(sa::SuiteName(c.suite))},
         {"esn", c.esn},
         {"packets", i.packets},
         {"bytes", i.bytes},
         {"seq", i.seq}};
  j["card_slot"] = i.placement == Placement::kCard ? json(i.card_slot) : json(nullptr);
  j["refusal"] = i.refusal.ok()
                     ? json(nullptr)
                     : json{{"reason", std::string(CardRefusalName(i.refusal.reason))}, {"detail", i.refusal.detail}};
  j["src"] = c.tunnel_src ? json(c.tunnel_src->ToString()) : json(nullptr);
  j["dst"] = c.tunnel_dst ? json(c.tunnel_dst->ToString()) : json(nullptr);
  j["encap"] =
      c.udp_encap ? json{{"src_port", c.udp_encap->src_port}, {"dst_port", c.udp_encap->dst_port}} : json(nullptr);
  if (i.direction == sa::Direction::kInbound) {
    j["replay_window"] = c.replay_window;
    j["replay_window_reset"] = i.replay_window_reset;
  }
  json drops = json::object();
  uint64_t total = i.card_other_drops;
  for (size_t r = 1; r < sa::kNumDropReasons; ++r) {
    if (i.drops[r] != 0) drops[ReasonName(r)] = i.drops[r];
    total += i.drops[r];
  }
  if (i.card_other_drops != 0) drops["card-other"] = i.card_other_drops;
  j["drops"] = std::move(drops);
  j["drops_total"] = total;
  return j;
}

json SaReport(Runtime& rt) {
  json sas = json::array();
  for (const SaInfo& i : rt.ListSas()) sas.push_back(SaJson(i));
  return json{{"sas", std::move(sas)}};
}

json StatsReport(Runtime& rt) {
  QueueCounters sum;
  json queues = json::array();
  for (uint32_t q = 0; q < rt.queue_count(); ++q) {
    const QueueCounters c = rt.queue(q).counters();
    queues.push_back(QueueJson(q, c));
    sum.submitted += c.submitted;
    sum.completed += c.completed;
    sum.to_card += c.to_card;
    sum.to_software += c.to_software;
    sum.bypass += c.bypass;
    sum.discard += c.discard;
    sum.no_sa += c.no_sa;
    sum.dropped += c.dropped;
    sum.device_errors += c.device_errors;
    sum.retries += c.retries;
    for (size_t r = 0; r < sa::kNumDropReasons; ++r) sum.drops[r] += c.drops[r];
  }
  json totals = QueueJson(0, sum);
  json drops = std::move(totals["drops"]);
  totals.erase("drops");
  totals.erase("queue");
  return json{{"totals", std::move(totals)},
              {"drops", std::move(drops)},
              {"queues", std::move(queues)},
              {"sas", SaCountsJson(Totals(rt.ListSas()))},
              {"card_state", std::string(rt.card_state())},
              {"runtime", RuntimeStatsJson(rt)}};
}

std::string RenderPrometheus(Runtime& rt) {
  Exposition e;
  const std::vector<SaInfo> sas = rt.ListSas();
  const RuntimeStats st = rt.stats();
  driver::Device* dev = rt.device();
  const std::string backend = dev != nullptr ? std::string(dev->backend()) : "none";
  const std::string state(rt.card_state());

  e.Family("ipsec_accel_card_info", "gauge", "The card's identity (value 1): backend, layout version, build id.");
  const driver::Capabilities caps = rt.CapsSnapshot();
  if (rt.has_card()) {
    const driver::Capabilities& c = caps;
    e.Sample({{"backend", backend},
              {"version", std::to_string(c.version_major) + "." + std::to_string(c.version_minor)},
              {"build_id", Hex32(c.build_id)}},
             1);
  } else {
    e.Sample({{"backend", backend}, {"version", ""}, {"build_id", ""}}, 1);
  }
  e.Single("ipsec_accel_card_up", "gauge", "1 when the card is up and carrying traffic.", rt.card_up() ? 1 : 0);
  e.Family("ipsec_accel_card_state", "gauge", "The card's state (1 for the current one).");
  for (const char* s : {"up", "recovering", "down", "none"}) e.Sample({{"state", s}}, state == s ? 1 : 0);
  e.Single("ipsec_accel_card_sa_slots", "gauge", "SA table slots on the card (ID_CAP_SA).",
           rt.has_card() ? caps.sa_count : 0);
  uint64_t on_card = 0;
  for (const SaInfo& i : sas) on_card += i.placement == Placement::kCard ? 1 : 0;
  e.Single("ipsec_accel_card_sa_slots_used", "gauge", "SA table slots holding an SA.", on_card);

  e.Single("ipsec_accel_card_faults_total", "counter", "Card faults detected (lost, reset, fatal).", st.card_faults);
  e.Single("ipsec_accel_card_recoveries_total", "counter", "Successful card recoveries.", st.recoveries);
  e.Single("ipsec_accel_card_sa_installs_total", "counter", "SA install commands sent to the card.", st.installs);
  e.Single("ipsec_accel_card_sa_install_failures_total", "counter", "SA install commands the card refused.",
           st.install_failures);
  e.Single("ipsec_accel_sas_reinstalled_total", "counter", "SAs reinstalled on the card after a recovery.",
           st.sas_reinstalled);
  e.Single("ipsec_accel_sas_moved_to_software_total", "counter", "Card SAs moved to the software path.",
           st.sas_moved_to_software);
  e.Single("ipsec_accel_runtime_events_total", "counter", "Runtime events emitted (lifetimes, card faults, ...).",
           st.events);

  // Queues.
  std::vector<QueueCounters> qs;
  for (uint32_t q = 0; q < rt.queue_count(); ++q) qs.push_back(rt.queue(q).counters());
  const auto per_queue = [&](const char* name, const char* help, StatCounter QueueCounters::*field) {
    e.Family(name, "counter", help);
    for (size_t q = 0; q < qs.size(); ++q) e.Sample({{"queue", std::to_string(q)}}, (qs[q].*field).load());
  };
  per_queue("ipsec_accel_queue_submitted_packets_total", "Packets accepted by RuntimeQueue::Submit.",
            &QueueCounters::submitted);
  per_queue("ipsec_accel_queue_completed_packets_total", "Completions returned by RuntimeQueue::Poll.",
            &QueueCounters::completed);
  e.Family("ipsec_accel_queue_path_packets_total", "counter", "Packets sent to an SA, by path (card or software).");
  for (size_t q = 0; q < qs.size(); ++q) {
    e.Sample({{"queue", std::to_string(q)}, {"path", "card"}}, qs[q].to_card.load());
    e.Sample({{"queue", std::to_string(q)}, {"path", "software"}}, qs[q].to_software.load());
  }
  e.Family("ipsec_accel_queue_policy_packets_total", "counter", "Packets the SPD bypassed or discarded.");
  for (size_t q = 0; q < qs.size(); ++q) {
    e.Sample({{"queue", std::to_string(q)}, {"action", "bypass"}}, qs[q].bypass.load());
    e.Sample({{"queue", std::to_string(q)}, {"action", "discard"}}, qs[q].discard.load());
  }
  per_queue("ipsec_accel_queue_missing_sa_packets_total",
            "Packets with no SA (protect rule without an outbound SA, unknown inbound SPI).", &QueueCounters::no_sa);
  per_queue("ipsec_accel_queue_device_error_packets_total",
            "Packets failed because the card failed or was lost (not processed).", &QueueCounters::device_errors);
  per_queue("ipsec_accel_queue_retries_total", "Submissions stopped early (ring full, SA paused).",
            &QueueCounters::retries);
  e.Family("ipsec_accel_queue_dropped_packets_total", "counter", "Packets an SA dropped, by reason.");
  for (size_t q = 0; q < qs.size(); ++q) {
    for (size_t r = 1; r < sa::kNumDropReasons; ++r) {
      e.Sample({{"queue", std::to_string(q)}, {"reason", ReasonName(r)}}, qs[q].drops[r].load());
    }
  }

  // SAs.
  e.Family("ipsec_accel_sas", "gauge", "SAs in the runtime, by direction and placement.");
  for (sa::Direction d : {sa::Direction::kInbound, sa::Direction::kOutbound}) {
    for (Placement p : {Placement::kCard, Placement::kSoftware, Placement::kNone}) {
      uint64_t n = 0;
      for (const SaInfo& i : sas) n += (i.direction == d && i.placement == p) ? 1 : 0;
      e.Sample({{"direction", std::string(sa::DirectionName(d))}, {"placement", std::string(PlacementName(p))}}, n);
    }
  }
  e.Family("ipsec_accel_sa_info", "gauge",
           "One per SA (value 1): state, suite, mode and, in software, why the card refused it.");
  for (const SaInfo& i : sas) {
    Labels l = SaLabels(i);
    l.emplace_back("state", std::string(SaStateName(i.state)));
    l.emplace_back("suite", std::string(sa::SuiteName(i.config.suite)));
    l.emplace_back("mode", std::string(sa::ModeName(i.config.mode)));
    l.emplace_back("refusal", i.refusal.ok() ? "" : std::string(CardRefusalName(i.refusal.reason)));
    e.Sample(l, 1);
  }
  e.Family("ipsec_accel_sa_packets_total", "counter", "Packets the SA processed successfully.");
  for (const SaInfo& i : sas) e.Sample(SaLabels(i), i.packets);
  e.Family("ipsec_accel_sa_bytes_total", "counter", "Inner (plaintext) bytes the SA processed successfully.");
  for (const SaInfo& i : sas) e.Sample(SaLabels(i), i.bytes);
  e.Family("ipsec_accel_sa_dropped_packets_total", "counter",
           "Packets the SA dropped, by reason (reasons with a count only; card-other: card drops without one).");
  for (const SaInfo& i : sas) {
    for (size_t r = 1; r < sa::kNumDropReasons; ++r) {
      if (i.drops[r] != 0) e.Sample(With(SaLabels(i), "reason", ReasonName(r)), i.drops[r]);
    }
    if (i.card_other_drops != 0) e.Sample(With(SaLabels(i), "reason", "card-other"), i.card_other_drops);
  }
  e.Family("ipsec_accel_sa_sequence_number", "gauge",
           "Outbound: the next sequence number; inbound: the highest authenticated one.");
  for (const SaInfo& i : sas) e.Sample(SaLabels(i), i.seq);
  return e.Take();
}

Status WriteFileAtomically(const std::string& path, std::string_view text) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return UnavailableError("cannot create " + tmp + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return UnavailableError("cannot write " + tmp + ": " + why);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return UnavailableError("cannot flush " + tmp + ": " + why);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return UnavailableError("cannot rename " + tmp + " to " + path + ": " + why);
  }
  return OkStatus();
}

json RunControlCommand(Runtime& rt, std::string_view line) {
  try {
    return Run(rt, line);
  } catch (const std::exception& ex) {
    // Third-party exceptions (nlohmann, std::bad_alloc) stop here; the message never holds input.
    try {
      return Error(std::string("internal error: ") + ex.what());
    } catch (...) {
      return json();
    }
  } catch (...) {
    return Error("internal error");
  }
}

std::string DumpJson(const json& j, int indent) {
  try {
    return j.dump(indent, ' ', false, json::error_handler_t::replace);
  } catch (...) {
    return R"({"ok":false,"error":"internal error: reply could not be serialised"})";
  }
}

std::string HandleControlCommand(Runtime& rt, std::string_view line) {
  return DumpJson(RunControlCommand(rt, line));
}

}  // namespace ipsec::runtime
