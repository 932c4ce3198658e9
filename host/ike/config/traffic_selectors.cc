// Traffic selector and address list parsing (rules in traffic_selectors.h).
#include "host/ike/config/traffic_selectors.h"

#include <strings.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>
#include <utility>

namespace ipsec::ike::config {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Echo(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < 48; ++i) out.push_back(s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?');
  if (s.size() > 48) out += "...";
  return out;
}

bool EqNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && (a.empty() || strncasecmp(a.data(), b.data(), a.size()) == 0);
}

std::optional<uint32_t> ParseNum(std::string_view s, uint32_t max) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v > max) return std::nullopt;
  return v;
}

// Splits a comma list into trimmed, non-empty items.
StatusOr<std::vector<std::string_view>> SplitList(std::string_view list, std::string_view what) {
  std::vector<std::string_view> out;
  if (Trim(list).empty()) return InvalidArgumentError("empty " + std::string(what) + " list");
  size_t pos = 0;
  while (true) {
    const size_t comma = list.find(',', pos);
    const std::string_view item = Trim(list.substr(pos, comma == std::string_view::npos ? list.npos : comma - pos));
    if (item.empty()) return InvalidArgumentError("empty entry in the " + std::string(what) + " list");
    out.push_back(item);
    if (out.size() > kMaxListEntries) {
      return InvalidArgumentError("more than " + std::to_string(kMaxListEntries) + " entries in the " +
                                  std::string(what) + " list");
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

bool LessOrEqual(const sa::IpAddress& a, const sa::IpAddress& b) {
  return std::memcmp(a.bytes.data(), b.bytes.data(), a.size()) <= 0;
}

struct Range {
  sa::IpAddress first;
  sa::IpAddress last;
};

// CIDR, range or single address.
StatusOr<Range> ParseRange(std::string_view s) {
  const size_t slash = s.find('/');
  const size_t dash = s.find('-');
  Range r;
  if (slash != std::string_view::npos) {
    auto a = sa::IpAddress::Parse(s.substr(0, slash));
    if (!a.ok()) return InvalidArgumentError("bad address '" + Echo(s.substr(0, slash)) + "'");
    const uint32_t max_bits = a->v6 ? 128 : 32;
    const auto bits = ParseNum(s.substr(slash + 1), 255);
    if (!bits) return InvalidArgumentError("bad prefix length '" + Echo(s.substr(slash + 1)) + "'");
    if (*bits > max_bits) {
      return InvalidArgumentError("prefix length " + std::to_string(*bits) + " is more than " +
                                  std::to_string(max_bits));
    }
    r.first = *a;
    r.last = *a;
    for (uint32_t bit = *bits; bit < max_bits; ++bit) {
      const uint8_t mask = static_cast<uint8_t>(0x80u >> (bit % 8));
      r.first.bytes[bit / 8] = static_cast<uint8_t>(r.first.bytes[bit / 8] & ~mask);
      r.last.bytes[bit / 8] = static_cast<uint8_t>(r.last.bytes[bit / 8] | mask);
    }
    return r;
  }
  if (dash != std::string_view::npos) {
    auto a = sa::IpAddress::Parse(Trim(s.substr(0, dash)));
    auto b = sa::IpAddress::Parse(Trim(s.substr(dash + 1)));
    if (!a.ok()) return InvalidArgumentError("bad address '" + Echo(s.substr(0, dash)) + "'");
    if (!b.ok()) return InvalidArgumentError("bad address '" + Echo(s.substr(dash + 1)) + "'");
    if (a->v6 != b->v6) return InvalidArgumentError("range mixes IPv4 and IPv6");
    if (!LessOrEqual(*a, *b)) return InvalidArgumentError("range end is below its start");
    r.first = *a;
    r.last = *b;
    return r;
  }
  auto a = sa::IpAddress::Parse(s);
  if (!a.ok()) return InvalidArgumentError("bad address '" + Echo(s) + "'");
  r.first = *a;
  r.last = *a;
  return r;
}

struct ProtoName {
  std::string_view name;
  uint8_t proto;
};
constexpr ProtoName kProtocols[] = {
    {"tcp", 6}, {"udp", 17}, {"icmp", 1}, {"ipv6-icmp", 58}, {"icmpv6", 58},
    {"sctp", 132}, {"gre", 47}, {"esp", 50}, {"ah", 51},
};
struct ServiceName {
  std::string_view name;
  uint16_t port;
};
constexpr ServiceName kServices[] = {
    {"http", 80}, {"https", 443}, {"domain", 53}, {"ssh", 22}, {"ntp", 123}, {"isakmp", 500},
    {"ipsec-nat-t", 4500}, {"smtp", 25}, {"bgp", 179}, {"snmp", 161},
};

std::optional<uint16_t> ParsePort(std::string_view s) {
  for (const ServiceName& sv : kServices) {
    if (EqNoCase(sv.name, s)) return sv.port;
  }
  auto n = ParseNum(s, 65535);
  if (!n) return std::nullopt;
  return static_cast<uint16_t>(*n);
}

// "[proto]" or "[proto/port]" (brackets stripped by the caller) into the selector.
Status ParseProtoPort(std::string_view s, TrafficSelector* ts) {
  const size_t slash = s.find('/');
  const std::string_view proto = s.substr(0, slash);
  bool found = false;
  if (proto == "%any" || proto == "any") {
    ts->ip_protocol = 0;
    found = true;
  }
  for (const ProtoName& p : kProtocols) {
    if (!found && EqNoCase(p.name, proto)) {
      ts->ip_protocol = p.proto;
      found = true;
    }
  }
  if (!found) {
    auto n = ParseNum(proto, 255);
    if (!n) return InvalidArgumentError("unknown protocol '" + Echo(proto) + "'");
    ts->ip_protocol = static_cast<uint8_t>(*n);
  }
  if (slash == std::string_view::npos) return OkStatus();
  const std::string_view port = s.substr(slash + 1);
  if (port == "%any" || port == "any") {
    ts->start_port = 0;
    ts->end_port = 0xffff;
    return OkStatus();
  }
  if (ts->ip_protocol == 0) return InvalidArgumentError("a port needs a protocol (e.g. [tcp/80])");
  if (port == "%opaque") {
    ts->start_port = 0xffff;
    ts->end_port = 0;
    return OkStatus();
  }
  const bool icmp = ts->ip_protocol == 1 || ts->ip_protocol == 58;
  const size_t dash = port.find('-');
  if (icmp) {
    if (dash != std::string_view::npos) return InvalidArgumentError("ICMP takes one type, not a range");
    auto type = ParseNum(port, 255);
    if (!type) return InvalidArgumentError("bad ICMP type '" + Echo(port) + "'");
    ts->start_port = static_cast<uint16_t>(*type << 8);
    ts->end_port = static_cast<uint16_t>((*type << 8) | 0xff);
    return OkStatus();
  }
  const auto lo = ParsePort(port.substr(0, dash));
  const auto hi = dash == std::string_view::npos ? lo : ParsePort(port.substr(dash + 1));
  if (!lo || !hi) return InvalidArgumentError("bad port '" + Echo(port) + "'");
  if (*hi < *lo) return InvalidArgumentError("port range end is below its start");
  ts->start_port = *lo;
  ts->end_port = *hi;
  return OkStatus();
}

void SetAddresses(TrafficSelector* ts, const sa::IpAddress& first, const sa::IpAddress& last) {
  ts->type = first.v6 ? TsType::kIpv6AddrRange : TsType::kIpv4AddrRange;
  const size_t n = first.size();
  ts->start_address.assign(reinterpret_cast<const std::byte*>(first.bytes.data()),
                           reinterpret_cast<const std::byte*>(first.bytes.data()) + n);
  ts->end_address.assign(reinterpret_cast<const std::byte*>(last.bytes.data()),
                         reinterpret_cast<const std::byte*>(last.bytes.data()) + n);
}

StatusOr<TsEntry> ParseTs(std::string_view item) {
  TsEntry e;
  e.text = std::string(item);
  std::string_view addr = item;
  const size_t bracket = item.find('[');
  if (bracket != std::string_view::npos) {
    if (item.back() != ']') return InvalidArgumentError("expected ']' at the end");
    addr = Trim(item.substr(0, bracket));
    RETURN_IF_ERROR(ParseProtoPort(item.substr(bracket + 1, item.size() - bracket - 2), &e.ts));
  } else if (item.find(']') != std::string_view::npos) {
    return InvalidArgumentError("']' without '['");
  }
  if (addr.empty()) return InvalidArgumentError("missing address before '['");
  if (addr == "dynamic") {
    e.dynamic = true;
    return e;
  }
  ASSIGN_OR_RETURN(Range r, ParseRange(addr));
  SetAddresses(&e.ts, r.first, r.last);
  return e;
}

bool IsHostnameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_';
}

}  // namespace

bool TrafficSelectorList::HasDynamic() const {
  return std::any_of(entries.begin(), entries.end(), [](const TsEntry& e) { return e.dynamic; });
}

std::vector<TrafficSelector> TrafficSelectorList::Resolve(const sa::IpAddress& ike_address) const {
  std::vector<TrafficSelector> out;
  out.reserve(entries.size());
  for (const TsEntry& e : entries) {
    out.push_back(e.ts);
    if (e.dynamic) SetAddresses(&out.back(), ike_address, ike_address);
  }
  return out;
}

StatusOr<TrafficSelectorList> ParseTrafficSelectors(std::string_view list) {
  ASSIGN_OR_RETURN(std::vector<std::string_view> items, SplitList(list, "traffic selector"));
  TrafficSelectorList out;
  for (std::string_view item : items) {
    auto e = ParseTs(item);
    if (!e.ok()) return InvalidArgumentError("bad traffic selector '" + Echo(item) + "': " + e.status().message());
    out.entries.push_back(std::move(*e));
  }
  return out;
}

bool AddressSpec::Contains(const sa::IpAddress& a) const {
  switch (kind) {
    case Kind::kAny:
      return family == 0 || (family == 6) == a.v6;
    case Kind::kRange:
      return a.v6 == first.v6 && LessOrEqual(first, a) && LessOrEqual(a, last);
    case Kind::kHostname:
      return false;
  }
  return false;
}

StatusOr<std::vector<AddressSpec>> ParseAddressList(std::string_view list) {
  ASSIGN_OR_RETURN(std::vector<std::string_view> items, SplitList(list, "address"));
  std::vector<AddressSpec> out;
  for (std::string_view item : items) {
    AddressSpec a;
    a.text = std::string(item);
    if (item == "%any" || item == "%any4" || item == "%any6") {
      a.kind = AddressSpec::Kind::kAny;
      a.family = item == "%any" ? 0 : item == "%any4" ? 4 : 6;
    } else {
      // An address, subnet or range when it looks like one (so that a reversed range is an error,
      // not a host name); otherwise a DNS name.
      const size_t dash = item.find('-');
      const bool looks_like_address = item.find_first_of("/:") != std::string_view::npos ||
                                      item.find_first_not_of("0123456789.") == std::string_view::npos ||
                                      (dash != std::string_view::npos && sa::IpAddress::Parse(Trim(item.substr(0, dash))).ok());
      if (looks_like_address) {
        auto r = ParseRange(item);
        if (!r.ok()) return InvalidArgumentError("bad address '" + Echo(item) + "': " + r.status().message());
        a.kind = AddressSpec::Kind::kRange;
        a.family = r->first.v6 ? 6 : 4;
        a.first = r->first;
        a.last = r->last;
      } else {
        if (item.size() > 253 || !std::all_of(item.begin(), item.end(), IsHostnameChar)) {
          return InvalidArgumentError("bad address or host name '" + Echo(item) + "'");
        }
        a.kind = AddressSpec::Kind::kHostname;
        a.hostname = std::string(item);
      }
    }
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace ipsec::ike::config
