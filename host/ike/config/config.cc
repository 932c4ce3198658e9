// swanctl.conf model builder (rules in config.h, keys in README.md).
#include "host/ike/config/config.h"

#include <strings.h>

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <limits>
#include <utility>

#include "host/ike/config/settings.h"
#include "host/sa/sa_config.h"

namespace ipsec::ike::config {
namespace {

constexpr uint64_t kMaxSeconds = uint64_t{100} * 365 * 24 * 3600;  // 100 years

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Echo(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < 40; ++i) out.push_back(s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?');
  if (s.size() > 40) out += "...";
  return out;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// `prefix` alone or `prefix` followed by anything (strongSwan's local<suffix>, ike<suffix>, ...).
bool HasPrefix(std::string_view name, std::string_view prefix) { return StartsWith(name, prefix); }

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

using Names = std::vector<std::string_view>;

std::string Join(const Names& names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

std::string Suggest(std::string_view name, const Names& known, std::string_view what) {
  std::string_view best;
  size_t best_d = 3;
  if (name.size() <= 64) {
    for (std::string_view k : known) {
      const size_t d = EditDistance(name, k);
      if (d < best_d) {
        best_d = d;
        best = k;
      }
    }
  }
  if (!best.empty()) return "unknown " + std::string(what) + "; did you mean '" + std::string(best) + "'?";
  return "unknown " + std::string(what) + " (known: " + Join(known) + ")";
}

Status Error(const SourceLocation& loc, const std::string& path, const std::string& what) {
  return InvalidArgumentError(loc.ToString() + ": " + path + ": " + what);
}

// Re-wraps a location-less value error.
Status ValueError(const SettingsKeyValue& kv, const std::string& path, const Status& s) {
  return Error(kv.location, path, s.message());
}

std::optional<uint64_t> ParseU64(std::string_view s) {
  if (s.empty() || s[0] == '+' || s[0] == '-') return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

StatusOr<std::vector<std::string_view>> SplitList(std::string_view list) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  if (Trim(list).empty()) return InvalidArgumentError("empty list");
  while (true) {
    const size_t comma = list.find(',', pos);
    const std::string_view item = Trim(list.substr(pos, comma == std::string_view::npos ? list.npos : comma - pos));
    if (item.empty()) return InvalidArgumentError("empty entry in the list");
    out.push_back(item);
    if (out.size() > kMaxListEntries) return InvalidArgumentError("more than " + std::to_string(kMaxListEntries) + " entries");
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

std::string JoinPath(const std::string& a, std::string_view b) { return a.empty() ? std::string(b) : a + "." + std::string(b); }

std::string ResolveCredential(const ParseOptions& o, std::string_view subdir, std::string_view file) {
  if (!file.empty() && file[0] == '/') return std::string(file);
  std::string out = o.credentials_dir;
  if (!out.empty() && out.back() != '/') out += '/';
  return out + std::string(subdir) + "/" + std::string(file);
}

// A section being read: checks that only known keys and sections appear.
class Reader {
 public:
  Reader(const SettingsSection& s, std::string path) : s_(s), path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  const SettingsSection& section() const { return s_; }
  std::string KeyPath(std::string_view key) const { return JoinPath(path_, key); }

  // Every value's key must be in `keys` (or start with one of `prefixes`); no subsections unless
  // `sections_ok` accepts the name.
  template <class SectionOk>
  Status Check(const Names& keys, const Names& prefixes, SectionOk sections_ok, const Names& section_names) const {
    for (const SettingsKeyValue& kv : s_.values) {
      bool known = std::find(keys.begin(), keys.end(), kv.key) != keys.end();
      for (std::string_view p : prefixes) known = known || HasPrefix(kv.key, p);
      if (known) continue;
      const bool is_section_name =
          std::find(section_names.begin(), section_names.end(), kv.key) != section_names.end();
      if (is_section_name) return Error(kv.location, KeyPath(kv.key), "expected a section ('{ ... }'), not a value");
      if (keys.empty()) {
        return Error(kv.location, KeyPath(kv.key), "unknown key (only sections here: " + Join(section_names) + ")");
      }
      return Error(kv.location, KeyPath(kv.key), Suggest(kv.key, keys, "key"));
    }
    for (const auto& sub : s_.sections) {
      if (sections_ok(sub->name)) continue;
      if (std::find(keys.begin(), keys.end(), sub->name) != keys.end()) {
        return Error(sub->location, KeyPath(sub->name), "expected a value ('key = value'), not a section");
      }
      if (section_names.empty()) return Error(sub->location, KeyPath(sub->name), "unknown section (no sections here)");
      return Error(sub->location, KeyPath(sub->name), Suggest(sub->name, section_names, "section"));
    }
    return OkStatus();
  }

  const SettingsKeyValue* Find(std::string_view key) const { return s_.FindValue(key); }

  template <class T, class Fn>
  Status Get(std::string_view key, T* out, Fn parse) const {
    const SettingsKeyValue* kv = Find(key);
    if (kv == nullptr) return OkStatus();
    auto r = parse(kv->value);
    if (!r.ok()) return ValueError(*kv, KeyPath(key), r.status());
    *out = std::move(*r);
    return OkStatus();
  }

  // Present-or-not variant for defaults computed from other keys.
  template <class T, class Fn>
  Status GetOpt(std::string_view key, std::optional<T>* out, Fn parse) const {
    const SettingsKeyValue* kv = Find(key);
    if (kv == nullptr) return OkStatus();
    auto r = parse(kv->value);
    if (!r.ok()) return ValueError(*kv, KeyPath(key), r.status());
    *out = std::move(*r);
    return OkStatus();
  }

 private:
  const SettingsSection& s_;
  std::string path_;
};

template <class E>
struct EnumName {
  std::string_view name;
  E value;
};

template <class E, size_t N>
auto EnumParser(const EnumName<E> (&table)[N], std::string_view expected) {
  return [&table, expected](std::string_view v) -> StatusOr<E> {
    for (const EnumName<E>& e : table) {
      if (e.name.size() == v.size() && strncasecmp(e.name.data(), v.data(), v.size()) == 0) return e.value;
    }
    return InvalidArgumentError("expected " + std::string(expected) + " (got '" + Echo(v) + "')");
  };
}

StatusOr<bool> ParseBool(std::string_view v) {
  for (std::string_view y : {"yes", "true", "enabled", "1"}) {
    if (v.size() == y.size() && strncasecmp(v.data(), y.data(), y.size()) == 0) return true;
  }
  for (std::string_view n : {"no", "false", "disabled", "0"}) {
    if (v.size() == n.size() && strncasecmp(v.data(), n.data(), n.size()) == 0) return false;
  }
  return InvalidArgumentError("expected yes or no (got '" + Echo(v) + "')");
}

auto UintParser(uint64_t min, uint64_t max) {
  return [min, max](std::string_view v) -> StatusOr<uint64_t> {
    auto n = ParseU64(Trim(v));
    if (!n) return InvalidArgumentError("expected a number (got '" + Echo(v) + "')");
    if (*n < min || *n > max) {
      return InvalidArgumentError(std::to_string(*n) + " is outside " + std::to_string(min) + ".." + std::to_string(max));
    }
    return *n;
  };
}

StatusOr<std::vector<std::string_view>> ParseList(std::string_view v) { return SplitList(v); }

constexpr EnumName<Fragmentation> kFragmentation[] = {
    {"yes", Fragmentation::kYes}, {"accept", Fragmentation::kAccept}, {"force", Fragmentation::kForce},
    {"no", Fragmentation::kNo}};
constexpr EnumName<SendCert> kSendCert[] = {
    {"ifasked", SendCert::kIfAsked}, {"always", SendCert::kAlways}, {"never", SendCert::kNever}};
constexpr EnumName<UniquePolicy> kUnique[] = {{"no", UniquePolicy::kNo},
                                              {"never", UniquePolicy::kNever},
                                              {"keep", UniquePolicy::kKeep},
                                              {"replace", UniquePolicy::kReplace}};
constexpr EnumName<Childless> kChildless[] = {{"allow", Childless::kAllow},
                                              {"never", Childless::kNever},
                                              {"force", Childless::kForce},
                                              {"prefer", Childless::kPrefer}};
constexpr EnumName<Revocation> kRevocation[] = {
    {"relaxed", Revocation::kRelaxed}, {"strict", Revocation::kStrict}, {"ifuri", Revocation::kIfUri}};
constexpr EnumName<StartAction> kStartAction[] = {
    {"none", StartAction::kNone}, {"trap", StartAction::kTrap}, {"start", StartAction::kStart}};
constexpr EnumName<CloseAction> kCloseAction[] = {{"none", CloseAction::kNone},
                                                  {"trap", CloseAction::kTrap},
                                                  {"start", CloseAction::kStart},
                                                  {"clear", CloseAction::kNone},
                                                  {"hold", CloseAction::kTrap},
                                                  {"restart", CloseAction::kStart}};
constexpr EnumName<DpdAction> kDpdAction[] = {{"clear", DpdAction::kClear}, {"trap", DpdAction::kTrap},
                                              {"restart", DpdAction::kRestart}, {"none", DpdAction::kClear},
                                              {"hold", DpdAction::kTrap},   {"start", DpdAction::kRestart}};
constexpr EnumName<HwOffload> kHwOffload[] = {
    {"no", HwOffload::kNo}, {"yes", HwOffload::kYes}, {"auto", HwOffload::kAuto}, {"packet", HwOffload::kPacket}};

StatusOr<Mode> ParseMode(std::string_view v) {
  if (v == "tunnel") return Mode::kTunnel;
  if (v == "transport") return Mode::kTransport;
  if (v == "beet" || v == "pass" || v == "drop" || v == "transport_proxy") {
    return InvalidArgumentError("mode '" + std::string(v) + "' is not supported (tunnel or transport)");
  }
  return InvalidArgumentError("expected tunnel or transport (got '" + Echo(v) + "')");
}

StatusOr<int> ParseVersion(std::string_view v) {
  if (v == "2") return 2;
  if (v == "0" || v == "1") return InvalidArgumentError("only IKEv2 is supported (version = 2)");
  return InvalidArgumentError("expected 2 (got '" + Echo(v) + "')");
}

// auth = psk | pubkey | rsa[-hash...] | rsa/pss[-hash...] | ecdsa[-hash...] | ed25519 | ed448.
Status ParseAuth(std::string_view v, AuthConfig* a) {
  a->key_type = KeyTypeHint::kAny;
  a->hashes.clear();
  if (v == "psk") {
    a->auth = AuthClass::kPsk;
    return OkStatus();
  }
  if (StartsWith(v, "eap") || StartsWith(v, "xauth")) {
    return InvalidArgumentError("auth '" + Echo(v) + "' is not supported (psk or pubkey)");
  }
  a->auth = AuthClass::kPubkey;
  const size_t dash = v.find('-');
  const std::string_view base = v.substr(0, dash);
  if (base == "pubkey") {
    a->key_type = KeyTypeHint::kAny;
  } else if (base == "rsa") {
    a->key_type = KeyTypeHint::kRsa;
  } else if (base == "rsa/pss") {
    a->key_type = KeyTypeHint::kRsaPss;
  } else if (base == "ecdsa") {
    a->key_type = KeyTypeHint::kEcdsa;
  } else if (base == "ed25519") {
    a->key_type = KeyTypeHint::kEd25519;
  } else if (base == "ed448") {
    a->key_type = KeyTypeHint::kEd448;
  } else {
    return InvalidArgumentError("unknown auth method '" + Echo(v) +
                                "' (psk, pubkey, rsa, rsa/pss, ecdsa, ed25519, ed448, optionally -sha256 ...)");
  }
  size_t pos = dash;
  while (pos != std::string_view::npos) {
    const size_t next = v.find('-', pos + 1);
    const std::string_view h = v.substr(pos + 1, next == std::string_view::npos ? v.npos : next - pos - 1);
    HashAlgorithm hash;
    if (h == "sha256" || h == "sha2_256" || h == "256") {
      hash = HashAlgorithm::kSha2_256;
    } else if (h == "sha384" || h == "sha2_384" || h == "384") {
      hash = HashAlgorithm::kSha2_384;
    } else if (h == "sha512" || h == "sha2_512" || h == "512" || h == "521") {
      hash = HashAlgorithm::kSha2_512;
    } else if (h == "identity" && (a->key_type == KeyTypeHint::kEd25519 || a->key_type == KeyTypeHint::kEd448)) {
      hash = HashAlgorithm::kIdentity;
    } else if (h == "sha1" || h == "md5" || h == "sha224") {
      return InvalidArgumentError("signature hash '" + std::string(h) + "' is not supported (sha256, sha384, sha512)");
    } else {
      return InvalidArgumentError("unknown signature hash '" + Echo(h) + "' in auth '" + Echo(v) + "'");
    }
    if (std::find(a->hashes.begin(), a->hashes.end(), hash) == a->hashes.end()) a->hashes.push_back(hash);
    pos = next;
  }
  return OkStatus();
}

StatusOr<Seconds> TimeParser(std::string_view v) { return ParseTimeValue(v); }
StatusOr<uint64_t> CountParser(std::string_view v) { return ParseCountValue(v); }

uint64_t PlusTenPercent(uint64_t v) {
  return v > std::numeric_limits<uint64_t>::max() / 11 * 10 ? std::numeric_limits<uint64_t>::max() : v + v / 10;
}

class Builder {
 public:
  explicit Builder(const ParseOptions& o) : options_(o) {}

  Status Build(const SettingsSection& root, Config* out) {
    Reader r(root, "");
    RETURN_IF_ERROR(r.Check(
        {}, {},
        [](std::string_view n) { return n == "connections" || n == "secrets" || n == "authorities"; },
        {"connections", "secrets", "authorities"}));
    if (const SettingsSection* s = root.FindSection("connections")) RETURN_IF_ERROR(Connections(*s, out));
    if (const SettingsSection* s = root.FindSection("secrets")) RETURN_IF_ERROR(Secrets(*s, out));
    if (const SettingsSection* s = root.FindSection("authorities")) RETURN_IF_ERROR(Authorities(*s, out));
    return OkStatus();
  }

 private:
  Status Connections(const SettingsSection& s, Config* out) {
    for (const SettingsKeyValue& kv : s.values) {
      return Error(kv.location, "connections." + Echo(kv.key), "expected a connection section ('name { ... }')");
    }
    for (const auto& c : s.sections) {
      Connection conn;
      RETURN_IF_ERROR(ConnectionSection(*c, &conn));
      out->connections.push_back(std::move(conn));
    }
    return OkStatus();
  }

  Status ConnectionSection(const SettingsSection& s, Connection* c) {
    c->name = s.name;
    c->location = s.location.ToString();
    Reader r(s, "connections." + s.name);
    static const Names kKeys = {
        "version",     "local_addrs", "remote_addrs",  "local_port",    "remote_port", "proposals",
        "dpd_delay",   "dpd_timeout", "rekey_time",    "reauth_time",   "over_time",   "rand_time",
        "fragmentation", "send_certreq", "send_cert",  "keyingtries",   "unique",      "encap",
        "mobike",      "childless"};
    RETURN_IF_ERROR(r.Check(
        kKeys, {},
        [](std::string_view n) { return HasPrefix(n, "local") || HasPrefix(n, "remote") || n == "children"; },
        {"local", "remote", "children"}));
    int version = 2;
    RETURN_IF_ERROR(r.Get("version", &version, ParseVersion));
    c->local_addrs = {AddressSpec{}};
    c->local_addrs[0].text = "%any";
    c->remote_addrs = c->local_addrs;
    RETURN_IF_ERROR(r.Get("local_addrs", &c->local_addrs, ParseAddressList));
    RETURN_IF_ERROR(r.Get("remote_addrs", &c->remote_addrs, ParseAddressList));
    uint64_t port = 0;
    RETURN_IF_ERROR(r.Get("local_port", &port, UintParser(1, 65535)));
    if (port != 0) c->local_port = static_cast<uint16_t>(port);
    port = 0;
    RETURN_IF_ERROR(r.Get("remote_port", &port, UintParser(1, 65535)));
    if (port != 0) c->remote_port = static_cast<uint16_t>(port);
    c->proposals = DefaultProposals(ProtocolId::kIke);
    RETURN_IF_ERROR(r.Get("proposals", &c->proposals,
                          [](std::string_view v) { return ParseProposals(v, ProtocolId::kIke); }));
    RETURN_IF_ERROR(r.Get("dpd_delay", &c->dpd_delay, TimeParser));
    RETURN_IF_ERROR(r.Get("dpd_timeout", &c->dpd_timeout, TimeParser));
    RETURN_IF_ERROR(r.Get("rekey_time", &c->rekey_time, TimeParser));
    RETURN_IF_ERROR(r.Get("reauth_time", &c->reauth_time, TimeParser));
    std::optional<Seconds> over, rand;
    RETURN_IF_ERROR(r.GetOpt("over_time", &over, TimeParser));
    RETURN_IF_ERROR(r.GetOpt("rand_time", &rand, TimeParser));
    c->over_time = over.value_or(std::max(c->rekey_time, c->reauth_time) / 10);
    c->rand_time = rand.value_or(c->over_time);
    RETURN_IF_ERROR(r.Get("fragmentation", &c->fragmentation, EnumParser(kFragmentation, "yes, accept, force or no")));
    RETURN_IF_ERROR(r.Get("send_certreq", &c->send_certreq, ParseBool));
    RETURN_IF_ERROR(r.Get("send_cert", &c->send_cert, EnumParser(kSendCert, "ifasked, always or never")));
    uint64_t tries = c->keyingtries;
    RETURN_IF_ERROR(r.Get("keyingtries", &tries, UintParser(0, 0xffffffffu)));
    c->keyingtries = static_cast<uint32_t>(tries);
    RETURN_IF_ERROR(r.Get("unique", &c->unique, EnumParser(kUnique, "no, never, keep or replace")));
    RETURN_IF_ERROR(r.Get("encap", &c->encap, ParseBool));
    RETURN_IF_ERROR(r.Get("mobike", &c->mobike, ParseBool));
    RETURN_IF_ERROR(r.Get("childless", &c->childless, EnumParser(kChildless, "allow, never, force or prefer")));

    c->local.section = "local";
    c->remote.section = "remote";
    c->remote.id = ParseIdentity("%any").value();
    const SettingsSection* local_round = nullptr;
    const SettingsSection* remote_round = nullptr;
    for (const auto& sub : s.sections) {
      if (sub->name == "children") continue;
      const bool local = HasPrefix(sub->name, "local");
      const SettingsSection** slot = local ? &local_round : &remote_round;
      if (*slot != nullptr) {
        return Error(sub->location, r.KeyPath(sub->name),
                     "a second authentication round (RFC 4739 multiple authentication) is not supported");
      }
      *slot = sub.get();
    }
    if (local_round != nullptr) RETURN_IF_ERROR(AuthSection(*local_round, r.KeyPath(local_round->name), true, &c->local));
    if (remote_round != nullptr) {
      RETURN_IF_ERROR(AuthSection(*remote_round, r.KeyPath(remote_round->name), false, &c->remote));
    }
    if (const SettingsSection* ch = s.FindSection("children")) {
      const std::string path = r.KeyPath("children");
      for (const SettingsKeyValue& kv : ch->values) {
        return Error(kv.location, JoinPath(path, Echo(kv.key)), "expected a child section ('name { ... }')");
      }
      for (const auto& sub : ch->sections) {
        ChildConfig child;
        RETURN_IF_ERROR(ChildSection(*sub, JoinPath(path, sub->name), &child));
        c->children.push_back(std::move(child));
      }
    }
    return OkStatus();
  }

  Status AuthSection(const SettingsSection& s, const std::string& path, bool local, AuthConfig* a) {
    a->section = s.name;
    Reader r(s, path);
    if (local) {
      RETURN_IF_ERROR(r.Check({"auth", "id", "certs"}, {}, [](std::string_view) { return false; }, {}));
    } else {
      RETURN_IF_ERROR(r.Check({"auth", "id", "certs", "cacerts", "revocation"}, {},
                              [](std::string_view) { return false; }, {}));
    }
    if (const SettingsKeyValue* kv = r.Find("auth")) {
      Status st = ParseAuth(Trim(kv->value), a);
      if (!st.ok()) return ValueError(*kv, r.KeyPath("auth"), st);
    }
    if (const SettingsKeyValue* kv = r.Find("id")) {
      auto id = ParseIdentity(kv->value);
      if (!id.ok()) return ValueError(*kv, r.KeyPath("id"), id.status());
      a->id = std::move(*id);
    }
    auto files = [&](std::string_view key, std::string_view subdir, std::vector<std::string>* out) -> Status {
      const SettingsKeyValue* kv = r.Find(key);
      if (kv == nullptr) return OkStatus();
      auto list = SplitList(kv->value);
      if (!list.ok()) return ValueError(*kv, r.KeyPath(key), list.status());
      for (std::string_view f : *list) out->push_back(ResolveCredential(options_, subdir, f));
      return OkStatus();
    };
    RETURN_IF_ERROR(files("certs", "x509", &a->certs));
    if (!local) {
      RETURN_IF_ERROR(files("cacerts", "x509ca", &a->cacerts));
      RETURN_IF_ERROR(r.Get("revocation", &a->revocation, EnumParser(kRevocation, "strict, ifuri or relaxed")));
    }
    return OkStatus();
  }

  Status ChildSection(const SettingsSection& s, const std::string& path, ChildConfig* c) {
    c->name = s.name;
    c->location = s.location.ToString();
    Reader r(s, path);
    static const Names kKeys = {
        "local_ts",    "remote_ts",    "esp_proposals", "ah_proposals", "mode",         "rekey_time",
        "life_time",   "rand_time",    "rekey_bytes",   "life_bytes",   "rand_bytes",   "rekey_packets",
        "life_packets", "rand_packets", "start_action", "close_action", "dpd_action",   "replay_window",
        "hw_offload"};
    RETURN_IF_ERROR(r.Check(kKeys, {}, [](std::string_view) { return false; }, {}));
    auto dynamic = ParseTrafficSelectors("dynamic");
    c->local_ts = *dynamic;
    c->remote_ts = *dynamic;
    RETURN_IF_ERROR(r.Get("local_ts", &c->local_ts, ParseTrafficSelectors));
    RETURN_IF_ERROR(r.Get("remote_ts", &c->remote_ts, ParseTrafficSelectors));
    RETURN_IF_ERROR(r.Get("esp_proposals", &c->esp_proposals,
                          [](std::string_view v) { return ParseProposals(v, ProtocolId::kEsp); }));
    RETURN_IF_ERROR(r.Get("ah_proposals", &c->ah_proposals,
                          [](std::string_view v) { return ParseProposals(v, ProtocolId::kAh); }));
    if (r.Find("esp_proposals") == nullptr && r.Find("ah_proposals") == nullptr) {
      c->esp_proposals = DefaultProposals(ProtocolId::kEsp);
    }
    RETURN_IF_ERROR(r.Get("mode", &c->mode, ParseMode));

    RETURN_IF_ERROR(r.Get("rekey_time", &c->rekey_time, TimeParser));
    std::optional<Seconds> life, rand;
    RETURN_IF_ERROR(r.GetOpt("life_time", &life, TimeParser));
    RETURN_IF_ERROR(r.GetOpt("rand_time", &rand, TimeParser));
    c->life_time = life.value_or(Seconds(PlusTenPercent(static_cast<uint64_t>(c->rekey_time.count()))));
    if (c->rekey_time.count() != 0 && c->life_time.count() != 0 && c->life_time <= c->rekey_time) {
      return Error(r.Find(life ? "life_time" : "rekey_time")->location, r.KeyPath("life_time"),
                   "must be greater than rekey_time (" + std::to_string(c->life_time.count()) + "s <= " +
                       std::to_string(c->rekey_time.count()) + "s)");
    }
    c->rand_time = rand.value_or(c->life_time > c->rekey_time ? c->life_time - c->rekey_time : Seconds(0));

    struct Volume {
      std::string_view rekey_key, life_key, rand_key;
      uint64_t *rekey, *life, *rand;
    };
    for (const Volume& v : {Volume{"rekey_bytes", "life_bytes", "rand_bytes", &c->rekey_bytes, &c->life_bytes,
                                   &c->rand_bytes},
                            Volume{"rekey_packets", "life_packets", "rand_packets", &c->rekey_packets,
                                   &c->life_packets, &c->rand_packets}}) {
      std::optional<uint64_t> lv, rv;
      RETURN_IF_ERROR(r.Get(v.rekey_key, v.rekey, CountParser));
      RETURN_IF_ERROR(r.GetOpt(v.life_key, &lv, CountParser));
      RETURN_IF_ERROR(r.GetOpt(v.rand_key, &rv, CountParser));
      *v.life = lv.value_or(PlusTenPercent(*v.rekey));
      if (*v.rekey != 0 && *v.life != 0 && *v.life <= *v.rekey) {
        return Error(r.Find(lv ? v.life_key : v.rekey_key)->location, r.KeyPath(v.life_key),
                     "must be greater than " + std::string(v.rekey_key));
      }
      *v.rand = rv.value_or(*v.life > *v.rekey ? *v.life - *v.rekey : 0);
    }
    RETURN_IF_ERROR(r.Get("start_action", &c->start_action, EnumParser(kStartAction, "none, trap or start")));
    RETURN_IF_ERROR(r.Get("close_action", &c->close_action, EnumParser(kCloseAction, "none, trap or start")));
    RETURN_IF_ERROR(r.Get("dpd_action", &c->dpd_action, EnumParser(kDpdAction, "clear, trap or restart")));
    uint64_t window = c->replay_window;
    RETURN_IF_ERROR(r.Get("replay_window", &window, UintParser(0, sa::kMaxReplayWindow)));
    c->replay_window = static_cast<uint32_t>(window);
    RETURN_IF_ERROR(r.Get("hw_offload", &c->hw_offload, EnumParser(kHwOffload, "no, yes, auto or packet")));
    return OkStatus();
  }

  Status Secrets(const SettingsSection& s, Config* out) {
    for (const SettingsKeyValue& kv : s.values) {
      return Error(kv.location, "secrets." + Echo(kv.key), "expected a section (ike<suffix> { ... }, private<suffix> { ... })");
    }
    for (const auto& sub : s.sections) {
      const std::string path = "secrets." + sub->name;
      Reader r(*sub, path);
      const std::string_view n = sub->name;
      if (HasPrefix(n, "ike")) {
        RETURN_IF_ERROR(r.Check({"secret", "id"}, {"id"}, [](std::string_view) { return false; }, {}));
        SharedSecret secret;
        secret.name = sub->name;
        const SettingsKeyValue* kv = r.Find("secret");
        if (kv == nullptr) return Error(sub->location, path, "missing 'secret'");
        auto sb = ParseSecretValue(kv->value);
        if (!sb.ok()) return ValueError(*kv, r.KeyPath("secret"), sb.status());
        secret.secret = std::move(*sb);
        for (const SettingsKeyValue& idkv : sub->values) {
          if (!HasPrefix(idkv.key, "id")) continue;
          auto id = ParseIdentity(idkv.value);
          if (!id.ok()) return ValueError(idkv, r.KeyPath(idkv.key), id.status());
          secret.ids.push_back(std::move(*id));
        }
        out->shared_secrets.push_back(std::move(secret));
        continue;
      }
      std::string_view dir;
      for (std::string_view p : {"private", "rsa", "ecdsa", "pkcs8"}) {
        if (dir.empty() && HasPrefix(n, p)) dir = p;
      }
      if (!dir.empty()) {
        RETURN_IF_ERROR(r.Check({"file", "secret"}, {}, [](std::string_view) { return false; }, {}));
        PrivateKeySecret key;
        key.name = sub->name;
        const SettingsKeyValue* file = r.Find("file");
        if (file == nullptr || Trim(file->value).empty()) return Error(sub->location, path, "missing 'file'");
        key.file = ResolveCredential(options_, dir, Trim(file->value));
        if (const SettingsKeyValue* kv = r.Find("secret")) {
          auto sb = ParseSecretValue(kv->value);
          if (!sb.ok()) return ValueError(*kv, r.KeyPath("secret"), sb.status());
          key.passphrase = std::move(*sb);
        }
        out->private_keys.push_back(std::move(key));
        continue;
      }
      for (std::string_view p : {"eap", "xauth", "ntlm", "ppk", "token", "pkcs12"}) {
        if (HasPrefix(n, p)) {
          return Error(sub->location, path, std::string(p) + " secrets are not supported (ike<suffix>, private<suffix>)");
        }
      }
      return Error(sub->location, path,
                   "unknown secret type (expected ike<suffix>, private<suffix>, rsa<suffix>, ecdsa<suffix> or "
                   "pkcs8<suffix>)");
    }
    return OkStatus();
  }

  Status Authorities(const SettingsSection& s, Config* out) {
    for (const SettingsKeyValue& kv : s.values) {
      return Error(kv.location, "authorities." + Echo(kv.key), "expected an authority section ('name { ... }')");
    }
    for (const auto& sub : s.sections) {
      const std::string path = "authorities." + sub->name;
      Reader r(*sub, path);
      RETURN_IF_ERROR(r.Check({"cacert", "crl_uris", "ocsp_uris", "cert_uri_base"}, {},
                              [](std::string_view) { return false; }, {}));
      Authority a;
      a.name = sub->name;
      const SettingsKeyValue* ca = r.Find("cacert");
      if (ca == nullptr || Trim(ca->value).empty()) return Error(sub->location, path, "missing 'cacert'");
      a.cacert = ResolveCredential(options_, "x509ca", Trim(ca->value));
      std::vector<std::string_view> list;
      RETURN_IF_ERROR(r.Get("crl_uris", &list, ParseList));
      for (std::string_view u : list) a.crl_uris.emplace_back(u);
      list.clear();
      RETURN_IF_ERROR(r.Get("ocsp_uris", &list, ParseList));
      for (std::string_view u : list) a.ocsp_uris.emplace_back(u);
      if (const SettingsKeyValue* kv = r.Find("cert_uri_base")) a.cert_uri_base = std::string(Trim(kv->value));
      out->authorities.push_back(std::move(a));
    }
    return OkStatus();
  }

  const ParseOptions& options_;
};

int Base64Val(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

StatusOr<Seconds> ParseTimeValue(std::string_view text) {
  std::string_view v = Trim(text);
  uint64_t mult = 1;
  if (!v.empty()) {
    switch (v.back()) {
      case 's': mult = 1; v.remove_suffix(1); break;
      case 'm': mult = 60; v.remove_suffix(1); break;
      case 'h': mult = 3600; v.remove_suffix(1); break;
      case 'd': mult = 86400; v.remove_suffix(1); break;
      default: break;
    }
  }
  auto n = ParseU64(Trim(v));
  if (!n) return InvalidArgumentError("expected a time: a number with an optional s, m, h or d (got '" + Echo(text) + "')");
  if (*n > kMaxSeconds / mult) return InvalidArgumentError("time '" + Echo(text) + "' is too large (at most 100 years)");
  return Seconds(static_cast<Seconds::rep>(*n * mult));
}

StatusOr<uint64_t> ParseCountValue(std::string_view text) {
  std::string_view v = Trim(text);
  uint64_t mult = 1;
  if (!v.empty()) {
    switch (v.back()) {
      case 'k': case 'K': mult = uint64_t{1} << 10; v.remove_suffix(1); break;
      case 'm': case 'M': mult = uint64_t{1} << 20; v.remove_suffix(1); break;
      case 'g': case 'G': mult = uint64_t{1} << 30; v.remove_suffix(1); break;
      default: break;
    }
  }
  auto n = ParseU64(Trim(v));
  if (!n) return InvalidArgumentError("expected a count: a number with an optional k, m or g (got '" + Echo(text) + "')");
  if (*n > std::numeric_limits<uint64_t>::max() / mult) return InvalidArgumentError("count '" + Echo(text) + "' is too large");
  return *n * mult;
}

StatusOr<SecureBytes> ParseSecretValue(std::string_view v) {
  if (v.empty()) return InvalidArgumentError("empty secret");
  if (v.size() >= 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
    const std::string_view hex = v.substr(2);
    size_t digits = 0;
    for (char c : hex) {
      if (c == ':' || c == ' ') continue;
      if (HexVal(c) < 0) return InvalidArgumentError("bad hex secret (not a hex digit)");
      ++digits;
    }
    if (digits == 0) return InvalidArgumentError("bad hex secret (no digits)");
    if (digits % 2 != 0) return InvalidArgumentError("bad hex secret (odd number of digits)");
    SecureBytes out(digits / 2);
    MutableBytes dst = out.mutable_span();
    size_t n = 0;
    int hi = -1;
    for (char c : hex) {
      if (c == ':' || c == ' ') continue;
      if (hi < 0) {
        hi = HexVal(c);
      } else {
        dst[n++] = std::byte((hi << 4) | HexVal(c));
        hi = -1;
      }
    }
    return out;
  }
  if (v.size() >= 2 && v[0] == '0' && (v[1] == 's' || v[1] == 'S')) {
    std::string_view b64 = v.substr(2);
    size_t pad = 0;
    while (!b64.empty() && b64.back() == '=' && pad < 2) {
      b64.remove_suffix(1);
      ++pad;
    }
    for (char c : b64) {
      if (Base64Val(c) < 0) return InvalidArgumentError("bad base64 secret (invalid character)");
    }
    if (b64.empty()) return InvalidArgumentError("bad base64 secret (no data)");
    if ((b64.size() + pad) % 4 != 0 && pad != 0) return InvalidArgumentError("bad base64 secret (wrong padding)");
    if (b64.size() % 4 == 1) return InvalidArgumentError("bad base64 secret (truncated)");
    SecureBytes out(b64.size() * 3 / 4);
    MutableBytes dst = out.mutable_span();
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (char c : b64) {
      acc = (acc << 6) | static_cast<uint32_t>(Base64Val(c));
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        dst[n++] = std::byte((acc >> bits) & 0xff);
      }
    }
    acc = 0;
    return out;
  }
  return SecureBytes(AsBytes(v));
}

const ChildConfig* Connection::FindChild(std::string_view child) const {
  for (const ChildConfig& c : children) {
    if (c.name == child) return &c;
  }
  return nullptr;
}

const Connection* Config::FindConnection(std::string_view name) const {
  for (const Connection& c : connections) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

const SharedSecret* Config::FindSharedSecret(const Identity& local, const Identity& remote) const {
  const SharedSecret* best = nullptr;
  int best_score = 0;
  for (const SharedSecret& s : shared_secrets) {
    int me = kMatchAny;
    int other = kMatchAny;
    if (!s.ids.empty()) {
      me = kMatchNone;
      other = kMatchNone;
      for (const Identity& id : s.ids) {
        me = std::max(me, MatchIdentity(id, local));
        other = std::max(other, MatchIdentity(id, remote));
      }
    }
    if (me == kMatchNone && other == kMatchNone) continue;
    if (me + other > best_score) {
      best_score = me + other;
      best = &s;
    }
  }
  return best;
}

StatusOr<Config> ParseConfig(std::string_view text, std::string_view file_name, const ParseOptions& options) {
  SettingsParseOptions so;
  so.allow_include = options.allow_include;
  so.base_dir = options.include_dir;
  ASSIGN_OR_RETURN(SettingsTree tree, SettingsTree::Parse(text, file_name, so));
  Config config;
  Builder builder(options);
  RETURN_IF_ERROR(builder.Build(tree.root(), &config));
  return config;
}

StatusOr<Config> LoadConfigFile(const std::string& path, const ParseOptions& options) {
  ParseOptions o = options;
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  if (o.credentials_dir.empty()) o.credentials_dir = dir;
  std::string buf;
  RETURN_IF_ERROR(ReadConfigFile(path, &buf));
  auto r = ParseConfig(buf, path, o);
  SecureZero(buf.data(), buf.size());
  return r;
}

}  // namespace ipsec::ike::config
