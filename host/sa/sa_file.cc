// SA description file parser (format in sa_file.h and host/tools/README.md).
#include "host/sa/sa_file.h"

#include "host/common/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <utility>

#include "host/common/bytes.h"
#include "host/common/secure_bytes.h"

namespace ipsec::sa {
namespace {

constexpr size_t kMaxFileBytes = size_t{1} << 20;
constexpr size_t kMaxEchoedName = 32;  // unknown key names are echoed, but never at length

enum class Key : uint8_t {
  kSpi,
  kDirection,
  kProtocol,
  kMode,
  kSuite,
  kKey,
  kAuthKey,
  kSrc,
  kDst,
  kEncap,
  kEsn,
  kSeq,
  kReplayWindow,
  kLifetimeBytesSoft,
  kLifetimeBytesHard,
  kLifetimePacketsSoft,
  kLifetimePacketsHard,
  kDscp,
  kEcn,
  kDf,
  kTtl,
  kVerifyTunnel,
  kDecrementInnerTtl,
  kCount,
};
constexpr size_t kNumKeys = static_cast<size_t>(Key::kCount);

// Indexed by Key.
constexpr std::array<std::string_view, kNumKeys> kKeyNames = {
    "spi",
    "direction",
    "protocol",
    "mode",
    "suite",
    "key",
    "auth_key",
    "src",
    "dst",
    "encap",
    "esn",
    "seq",
    "replay_window",
    "lifetime_bytes_soft",
    "lifetime_bytes_hard",
    "lifetime_packets_soft",
    "lifetime_packets_hard",
    "dscp",
    "ecn",
    "df",
    "ttl",
    "verify_tunnel",
    "decrement_inner_ttl",
};

std::string_view Name(Key k) { return kKeyNames[static_cast<size_t>(k)]; }

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

Status LineError(int line, std::string_view msg) {
  return InvalidArgumentError("line " + std::to_string(line) + ": " + std::string(msg));
}

Status SaError(int first_line, std::string_view msg) {
  return InvalidArgumentError("SA at line " + std::to_string(first_line) + ": " + std::string(msg));
}

// A key name as it may appear in an error: printable characters only, and short.
std::string Echo(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < kMaxEchoedName; ++i) {
    const char c = s[i];
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  if (s.size() > kMaxEchoedName) out += "...";
  return out;
}

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsHexSeparator(char c) { return c == ':' || c == ' ' || c == '\t'; }

// Decodes hex digits (optional 0x prefix; ':' and blanks between digits allowed) directly into a
// SecureBytes of the right size. Error messages name the key, never its contents.
Status DecodeHexKey(std::string_view v, int line, Key key, SecureBytes* out) {
  if (v.size() >= 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) v.remove_prefix(2);
  size_t digits = 0;
  for (char c : v) {
    if (IsHexSeparator(c)) continue;
    if (HexVal(c) < 0) return LineError(line, "bad hex in " + std::string(Name(key)) + " (not a hex digit)");
    ++digits;
  }
  if (digits == 0) return LineError(line, "bad hex in " + std::string(Name(key)) + " (no digits)");
  if (digits % 2 != 0) {
    return LineError(line, "bad hex in " + std::string(Name(key)) + " (odd number of digits)");
  }
  SecureBytes bytes(digits / 2);
  MutableBytes dst = bytes.mutable_span();
  size_t n = 0;
  int hi = -1;
  for (char c : v) {
    if (IsHexSeparator(c)) continue;
    const int d = HexVal(c);
    if (hi < 0) {
      hi = d;
    } else {
      dst[n++] = std::byte((hi << 4) | d);
      hi = -1;
    }
  }
  *out = std::move(bytes);
  return OkStatus();
}

// Unsigned integer, decimal or 0x hex, no sign, no trailing text.
bool ParseUnsigned(std::string_view v, uint64_t* out) {
  int base = 10;
  if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
    v.remove_prefix(2);
    base = 16;
  }
  if (v.empty() || v[0] == '+' || v[0] == '-') return false;
  uint64_t x = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), x, base);
  if (ec != std::errc() || ptr != v.data() + v.size()) return false;
  *out = x;
  return true;
}

Status ParseNumber(std::string_view v, int line, Key key, uint64_t min, uint64_t max, uint64_t* out) {
  uint64_t x = 0;
  if (!ParseUnsigned(v, &x)) {
    return LineError(line, std::string(Name(key)) + ": expected a number (decimal or 0x hex)");
  }
  if (x < min || x > max) {
    return LineError(line, std::string(Name(key)) + ": " + std::to_string(x) + " is outside " +
                               std::to_string(min) + ".." + std::to_string(max));
  }
  *out = x;
  return OkStatus();
}

Status ParseYesNo(std::string_view v, int line, Key key, bool* out) {
  if (v == "yes") {
    *out = true;
  } else if (v == "no") {
    *out = false;
  } else {
    return LineError(line, std::string(Name(key)) + ": expected yes or no");
  }
  return OkStatus();
}

// `udp [src_port [dst_port]]` or `none`.
Status ParseEncap(std::string_view v, int line, std::optional<UdpEncap>* out) {
  std::array<std::string_view, 4> words{};
  size_t n = 0;
  while (!v.empty()) {
    size_t end = 0;
    while (end < v.size() && !IsSpace(v[end])) ++end;
    if (n == words.size()) return LineError(line, "encap: expected 'none' or 'udp [src_port [dst_port]]'");
    words[n++] = v.substr(0, end);
    v = Trim(v.substr(end));
  }
  if (n == 1 && words[0] == "none") {
    out->reset();
    return OkStatus();
  }
  if (n < 1 || n > 3 || words[0] != "udp") {
    return LineError(line, "encap: expected 'none' or 'udp [src_port [dst_port]]'");
  }
  UdpEncap e;
  for (size_t i = 1; i < n; ++i) {
    uint64_t port = 0;
    if (!ParseUnsigned(words[i], &port) || port == 0 || port > 65535) {
      return LineError(line, "encap: port must be 1..65535");
    }
    (i == 1 ? e.src_port : e.dst_port) = static_cast<uint16_t>(port);
  }
  *out = e;
  return OkStatus();
}

// One SA being assembled.
class SaBuilder {
 public:
  explicit SaBuilder(int first_line) { sa_.first_line = first_line; }

  bool empty() const { return keys_set_ == 0; }
  int first_line() const { return sa_.first_line; }

  Status Set(std::string_view name, std::string_view value, int line) {
    size_t idx = kNumKeys;
    for (size_t i = 0; i < kNumKeys; ++i) {
      if (kKeyNames[i] == name) idx = i;
    }
    if (idx == kNumKeys) return LineError(line, "unknown key '" + Echo(name) + "'");
    if (seen_[idx] != 0) {
      return LineError(line, "duplicate key '" + std::string(name) + "' (first on line " +
                                 std::to_string(seen_[idx]) + ")");
    }
    if (value.empty()) return LineError(line, "missing value for '" + std::string(name) + "'");
    if (empty()) sa_.first_line = sa_.first_line == 0 ? line : sa_.first_line;
    seen_[idx] = line;
    ++keys_set_;
    return Apply(static_cast<Key>(idx), value, line);
  }

  StatusOr<SaFile> Finish() && {
    const int s = sa_.first_line;
    for (Key k : {Key::kSpi, Key::kDirection, Key::kMode, Key::kSuite}) {
      if (!Seen(k)) return SaError(s, "missing required key '" + std::string(Name(k)) + "'");
    }
    SaConfig& c = sa_.config;
    const SuiteInfo& info = GetSuiteInfo(c.suite);
    RETURN_IF_ERROR(CheckKeyLength(Key::kKey, sa_.keys.enc_key, info.enc_key_len + info.salt_len, info,
                                   " (cipher key followed by salt)"));
    RETURN_IF_ERROR(CheckKeyLength(Key::kAuthKey, sa_.keys.auth_key, info.auth_key_len, info, ""));
    if (c.mode == Mode::kTunnel) {
      for (Key k : {Key::kSrc, Key::kDst}) {
        if (!Seen(k)) return SaError(s, "missing required key '" + std::string(Name(k)) + "' (tunnel mode)");
      }
    } else {
      for (Key k : {Key::kSrc, Key::kDst, Key::kVerifyTunnel}) {
        if (Seen(k)) return LineError(LineOf(k), std::string(Name(k)) + " applies to tunnel mode only");
      }
    }
    if (c.udp_encap && c.protocol != Protocol::kEsp) {
      return LineError(LineOf(Key::kEncap), "UDP encapsulation applies to ESP only (RFC 3948)");
    }
    Status v = c.Validate();
    if (!v.ok()) return SaError(s, v.message());
    v = sa_.keys.ValidateFor(c.suite);
    if (!v.ok()) return SaError(s, v.message());
    return std::move(sa_);
  }

 private:
  bool Seen(Key k) const { return seen_[static_cast<size_t>(k)] != 0; }
  int LineOf(Key k) const { return seen_[static_cast<size_t>(k)]; }

  Status CheckKeyLength(Key k, const SecureBytes& bytes, size_t want, const SuiteInfo& info,
                        std::string_view what) const {
    if (want == 0) {
      if (Seen(k)) {
        return LineError(LineOf(k), "suite " + std::string(info.name) + " takes no " + std::string(Name(k)));
      }
      return OkStatus();
    }
    if (!Seen(k)) {
      return SaError(sa_.first_line, "missing required key '" + std::string(Name(k)) + "' (suite " +
                                         std::string(info.name) + ")");
    }
    if (bytes.size() != want) {
      return LineError(LineOf(k), std::string(Name(k)) + " has " + std::to_string(bytes.size()) +
                                      " bytes; suite " + std::string(info.name) + " needs " +
                                      std::to_string(want) + std::string(what));
    }
    return OkStatus();
  }

  Status Apply(Key k, std::string_view v, int line) {
    SaConfig& c = sa_.config;
    uint64_t x = 0;
    switch (k) {
      case Key::kSpi:
        RETURN_IF_ERROR(ParseNumber(v, line, k, 0, 0xffffffffu, &x));
        c.spi = static_cast<uint32_t>(x);
        return OkStatus();
      case Key::kDirection:
        if (v == "in") {
          c.direction = Direction::kInbound;
        } else if (v == "out") {
          c.direction = Direction::kOutbound;
        } else {
          return LineError(line, "direction: expected in or out");
        }
        return OkStatus();
      case Key::kProtocol:
        if (v == "esp") {
          c.protocol = Protocol::kEsp;
        } else if (v == "ah") {
          c.protocol = Protocol::kAh;
        } else {
          return LineError(line, "protocol: expected esp or ah");
        }
        return OkStatus();
      case Key::kMode:
        if (v == "tunnel") {
          c.mode = Mode::kTunnel;
        } else if (v == "transport") {
          c.mode = Mode::kTransport;
        } else {
          return LineError(line, "mode: expected tunnel or transport");
        }
        return OkStatus();
      case Key::kSuite: {
        auto s = ParseSuite(v);
        if (!s.ok()) return LineError(line, s.status().message());
        c.suite = *s;
        return OkStatus();
      }
      case Key::kKey:
        return DecodeHexKey(v, line, k, &sa_.keys.enc_key);
      case Key::kAuthKey:
        return DecodeHexKey(v, line, k, &sa_.keys.auth_key);
      case Key::kSrc:
      case Key::kDst: {
        auto a = IpAddress::Parse(v);
        if (!a.ok()) return LineError(line, std::string(Name(k)) + ": " + a.status().message());
        (k == Key::kSrc ? c.tunnel_src : c.tunnel_dst) = *a;
        return OkStatus();
      }
      case Key::kEncap:
        return ParseEncap(v, line, &c.udp_encap);
      case Key::kEsn:
        return ParseYesNo(v, line, k, &c.esn);
      case Key::kSeq:
        RETURN_IF_ERROR(ParseNumber(v, line, k, 1, std::numeric_limits<uint64_t>::max(), &x));
        c.initial_seq = x;
        return OkStatus();
      case Key::kReplayWindow:
        RETURN_IF_ERROR(ParseNumber(v, line, k, 0, kMaxReplayWindow, &x));
        c.replay_window = static_cast<uint32_t>(x);
        return OkStatus();
      case Key::kLifetimeBytesSoft:
      case Key::kLifetimeBytesHard:
      case Key::kLifetimePacketsSoft:
      case Key::kLifetimePacketsHard: {
        RETURN_IF_ERROR(ParseNumber(v, line, k, 0, std::numeric_limits<uint64_t>::max(), &x));
        Lifetime& l = c.lifetime;
        (k == Key::kLifetimeBytesSoft   ? l.soft_bytes
         : k == Key::kLifetimeBytesHard ? l.hard_bytes
         : k == Key::kLifetimePacketsSoft ? l.soft_packets
                                          : l.hard_packets) = x;
        return OkStatus();
      }
      case Key::kDscp:
        if (v == "copy") {
          c.dscp_mode = DscpMode::kCopy;
          c.dscp = 0;
          return OkStatus();
        }
        RETURN_IF_ERROR(ParseNumber(v, line, k, 0, 63, &x));
        c.dscp_mode = DscpMode::kSet;
        c.dscp = static_cast<uint8_t>(x);
        return OkStatus();
      case Key::kEcn:
        if (v == "normal") {
          c.ecn_mode = EcnMode::kNormal;
        } else if (v == "compat") {
          c.ecn_mode = EcnMode::kCompat;
        } else {
          return LineError(line, "ecn: expected normal or compat");
        }
        return OkStatus();
      case Key::kDf:
        if (v == "copy") {
          c.df_mode = DfMode::kCopy;
        } else if (v == "set") {
          c.df_mode = DfMode::kSet;
        } else if (v == "clear") {
          c.df_mode = DfMode::kClear;
        } else {
          return LineError(line, "df: expected copy, set or clear");
        }
        return OkStatus();
      case Key::kTtl:
        RETURN_IF_ERROR(ParseNumber(v, line, k, 1, 255, &x));
        c.ttl = static_cast<uint8_t>(x);
        return OkStatus();
      case Key::kVerifyTunnel:
        return ParseYesNo(v, line, k, &c.verify_tunnel_addresses);
      case Key::kDecrementInnerTtl:
        return ParseYesNo(v, line, k, &c.decrement_inner_ttl);
      case Key::kCount:
        break;
    }
    return LineError(line, "internal: unhandled key");
  }

  SaFile sa_;
  std::array<int, kNumKeys> seen_{};  // line that set each key, 0 = not set
  size_t keys_set_ = 0;
};

Status PrefixPath(const std::string& path, const Status& s) {
  return Status(s.code(), path + ": " + s.message());
}

// Reads a whole SA file (host/common/file_io.h: sized up front, so no copy of key text is left).
Status ReadSaText(const std::string& path, std::string* out) {
  Status st = ReadSmallFile(path, kMaxFileBytes, out);
  if (st.code() == StatusCode::kInvalidArgument && out->empty()) {
    return InvalidArgumentError(st.message() + "; not an SA file");
  }
  return st;
}

}  // namespace

StatusOr<std::vector<SaFile>> ParseSaFileMulti(std::string_view text) {
  std::vector<SaFile> out;
  std::optional<SaBuilder> cur;
  bool sectioned = false;
  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    const size_t hash = line.find('#');
    if (hash != std::string_view::npos) line = line.substr(0, hash);
    line = Trim(line);
    if (line.empty()) continue;

    if (line.front() == '[') {
      if (line != "[sa]") return LineError(line_no, "unknown section header (only [sa] is allowed)");
      if (cur) {
        if (cur->empty()) return LineError(cur->first_line(), "empty [sa] section");
        if (!sectioned) {
          return LineError(line_no, "[sa] header after keys without one (every SA needs its own [sa] header)");
        }
        ASSIGN_OR_RETURN(SaFile done, std::move(*cur).Finish());
        out.push_back(std::move(done));
      }
      sectioned = true;
      cur.emplace(line_no);
      continue;
    }
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) return LineError(line_no, "expected 'key = value'");
    const std::string_view name = Trim(line.substr(0, eq));
    const std::string_view value = Trim(line.substr(eq + 1));
    if (name.empty()) return LineError(line_no, "expected 'key = value' (no key before '=')");
    if (!cur) cur.emplace(0);
    RETURN_IF_ERROR(cur->Set(name, value, line_no));
  }
  if (!cur) return InvalidArgumentError("no SA in file (expected 'key = value' lines)");
  if (cur->empty()) return LineError(cur->first_line(), "empty [sa] section");
  ASSIGN_OR_RETURN(SaFile last, std::move(*cur).Finish());
  out.push_back(std::move(last));
  return out;
}

StatusOr<SaFile> ParseSaFile(std::string_view text) {
  ASSIGN_OR_RETURN(std::vector<SaFile> all, ParseSaFileMulti(text));
  if (all.size() != 1) {
    return LineError(all[1].first_line, "second [sa] section: this file may hold one SA only");
  }
  return std::move(all[0]);
}

StatusOr<std::vector<SaFile>> LoadSaFileMulti(const std::string& path) {
  std::string buf;
  RETURN_IF_ERROR(ReadSaText(path, &buf));
  auto r = ParseSaFileMulti(buf);
  SecureZero(buf.data(), buf.size());
  if (!r.ok()) return PrefixPath(path, r.status());
  return r;
}

StatusOr<SaFile> LoadSaFile(const std::string& path) {
  std::string buf;
  RETURN_IF_ERROR(ReadSaText(path, &buf));
  auto r = ParseSaFile(buf);
  SecureZero(buf.data(), buf.size());
  if (!r.ok()) return PrefixPath(path, r.status());
  return r;
}

}  // namespace ipsec::sa
