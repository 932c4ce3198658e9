#include "host/ike/sa/traffic_selectors.h"

#include <algorithm>
#include <cstring>

namespace ipsec::ike {
namespace {

bool IsRange(const TrafficSelector& t) {
  return t.type == TsType::kIpv4AddrRange || t.type == TsType::kIpv6AddrRange;
}

// Big-endian byte comparison of equal-sized addresses.
int Compare(const std::vector<std::byte>& a, const std::vector<std::byte>& b) {
  return std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
}

bool Contains(const TrafficSelector& outer, const TrafficSelector& inner) {
  auto i = Intersect(outer, inner);
  return i && *i == inner;
}

}  // namespace

std::optional<TrafficSelector> Intersect(const TrafficSelector& a, const TrafficSelector& b) {
  if (a.type != b.type || !IsRange(a)) return std::nullopt;
  size_t n = a.type == TsType::kIpv4AddrRange ? 4 : 16;
  if (a.start_address.size() != n || b.start_address.size() != n || a.end_address.size() != n ||
      b.end_address.size() != n) {
    return std::nullopt;
  }
  TrafficSelector out;
  out.type = a.type;
  if (a.ip_protocol != 0 && b.ip_protocol != 0 && a.ip_protocol != b.ip_protocol) return std::nullopt;
  out.ip_protocol = a.ip_protocol != 0 ? a.ip_protocol : b.ip_protocol;
  // The OPAQUE port marker (65535, 0) only intersects itself or the full range.
  bool a_opaque = a.start_port == 0xffff && a.end_port == 0;
  bool b_opaque = b.start_port == 0xffff && b.end_port == 0;
  if (a_opaque || b_opaque) {
    bool a_full = a.start_port == 0 && a.end_port == 0xffff;
    bool b_full = b.start_port == 0 && b.end_port == 0xffff;
    if (!(a_opaque && (b_opaque || b_full)) && !(b_opaque && a_full)) return std::nullopt;
    out.start_port = 0xffff;
    out.end_port = 0;
  } else {
    out.start_port = std::max(a.start_port, b.start_port);
    out.end_port = std::min(a.end_port, b.end_port);
    if (out.start_port > out.end_port) return std::nullopt;
  }
  out.start_address = Compare(a.start_address, b.start_address) >= 0 ? a.start_address : b.start_address;
  out.end_address = Compare(a.end_address, b.end_address) <= 0 ? a.end_address : b.end_address;
  if (Compare(out.start_address, out.end_address) > 0) return std::nullopt;
  return out;
}

std::vector<TrafficSelector> Narrow(std::span<const TrafficSelector> proposed,
                                    std::span<const TrafficSelector> configured) {
  std::vector<TrafficSelector> out;
  for (const TrafficSelector& c : configured) {
    for (const TrafficSelector& p : proposed) {
      auto i = Intersect(p, c);
      if (i && std::find(out.begin(), out.end(), *i) == out.end()) out.push_back(std::move(*i));
    }
  }
  return out;
}

bool IsSubset(std::span<const TrafficSelector> narrowed, std::span<const TrafficSelector> proposed) {
  return std::all_of(narrowed.begin(), narrowed.end(), [&](const TrafficSelector& n) {
    return std::any_of(proposed.begin(), proposed.end(), [&](const TrafficSelector& p) { return Contains(p, n); });
  });
}

TrafficSelector HostSelector(const sa::IpAddress& addr) {
  TrafficSelector t;
  t.type = addr.v6 ? TsType::kIpv6AddrRange : TsType::kIpv4AddrRange;
  const auto* b = reinterpret_cast<const std::byte*>(addr.bytes.data());
  t.start_address.assign(b, b + addr.size());
  t.end_address = t.start_address;
  return t;
}

std::vector<TrafficSelector> Resolve(std::span<const TsConfig> configured, const sa::IpAddress& ike_addr) {
  std::vector<TrafficSelector> out;
  for (const TsConfig& c : configured) {
    if (c.dynamic) {
      TrafficSelector h = HostSelector(ike_addr);
      h.ip_protocol = c.ts.ip_protocol;
      h.start_port = c.ts.start_port;
      h.end_port = c.ts.end_port;
      out.push_back(std::move(h));
    } else {
      out.push_back(c.ts);
    }
  }
  return out;
}

namespace {
sa::IpAddress ToIp(const std::vector<std::byte>& b) {
  sa::IpAddress a;
  a.v6 = b.size() == 16;
  std::memcpy(a.bytes.data(), b.data(), std::min<size_t>(b.size(), 16));
  return a;
}
// Prefix length when [start, end] is exactly a CIDR block, else -1.
int PrefixLength(const std::vector<std::byte>& s, const std::vector<std::byte>& e) {
  int bits = static_cast<int>(s.size()) * 8;
  int prefix = 0;
  while (prefix < bits) {
    int byte = prefix / 8, bit = 7 - prefix % 8;
    bool sb = (std::to_integer<unsigned>(s[byte]) >> bit) & 1;
    bool eb = (std::to_integer<unsigned>(e[byte]) >> bit) & 1;
    if (sb != eb) break;
    ++prefix;
  }
  for (int i = prefix; i < bits; ++i) {
    int byte = i / 8, bit = 7 - i % 8;
    if (((std::to_integer<unsigned>(s[byte]) >> bit) & 1) != 0) return -1;
    if (((std::to_integer<unsigned>(e[byte]) >> bit) & 1) != 1) return -1;
  }
  return prefix;
}
}  // namespace

std::string DescribeTs(const TrafficSelector& ts) {
  if (!IsRange(ts) || ts.start_address.empty() || ts.start_address.size() != ts.end_address.size()) {
    return "<opaque selector>";
  }
  std::string out;
  int prefix = PrefixLength(ts.start_address, ts.end_address);
  if (prefix >= 0) {
    out = ToIp(ts.start_address).ToString() + "/" + std::to_string(prefix);
  } else {
    out = ToIp(ts.start_address).ToString() + ".." + ToIp(ts.end_address).ToString();
  }
  bool all_ports = ts.start_port == 0 && ts.end_port == 0xffff;
  if (ts.ip_protocol != 0 || !all_ports) {
    out += "[" + std::to_string(ts.ip_protocol);
    if (!all_ports) {
      out += "/" + std::to_string(ts.start_port);
      if (ts.end_port != ts.start_port) out += "-" + std::to_string(ts.end_port);
    }
    out += "]";
  }
  return out;
}

std::string DescribeTs(std::span<const TrafficSelector> ts) {
  std::string out;
  for (const TrafficSelector& t : ts) {
    if (!out.empty()) out += ' ';
    out += DescribeTs(t);
  }
  return out;
}

}  // namespace ipsec::ike
