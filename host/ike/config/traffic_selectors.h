// swanctl.conf address values: traffic selectors (children.<c>.local_ts / remote_ts) and IKE
// address lists (connections.<c>.local_addrs / remote_addrs).
//
// Traffic selectors, comma-separated, each one of
//   10.0.0.0/24  2001:db8::/32      CIDR subnet (host bits are cleared, as strongSwan does)
//   10.0.0.1-10.0.0.9               inclusive range (one family, first <= last)
//   10.0.0.1  2001:db8::1           a single address (/32, /128)
//   dynamic                         the IKE address of this side, filled in at run time
// optionally followed by [protocol/port] (strongSwan's syntax, no blanks inside the brackets):
//   protocol  tcp udp icmp ipv6-icmp (icmpv6) sctp gre esp ah, a number 0..255, or %any
//   port      a number, a range 1000-2000, %any (0-65535) or %opaque (65535-0, RFC 7296 §3.13.1);
//             for icmp/ipv6-icmp the number is the ICMP type: ports type<<8 .. type<<8|0xff
//             (RFC 7296 §3.13.1 puts the type in the high byte); a few service names (http https
//             domain ssh ntp isakmp ipsec-nat-t smtp bgp snmp) are accepted
//   e.g. 10.0.0.0/24[tcp/80]  dynamic[udp/%any]  0.0.0.0/0[icmp/8]  [tcp] alone is an error.
// A port needs a protocol other than %any (a port without a protocol means nothing on the wire).
//
// Address lists, comma-separated: IPv4/IPv6 addresses, CIDR subnets, ranges, %any, %any4, %any6,
// or a DNS name (kept as text; the daemon resolves it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "host/common/status.h"
#include "host/ike/encoding/payloads/ts_payload.h"
#include "host/sa/sa_config.h"

namespace ipsec::ike::config {

inline constexpr size_t kMaxListEntries = 64;

struct TsEntry {
  // For a dynamic entry the type, protocol and ports are set and the addresses are empty until
  // Resolve() fills them in.
  TrafficSelector ts;
  bool dynamic = false;
  std::string text;  // as written, for logs
};

struct TrafficSelectorList {
  std::vector<TsEntry> entries;  // in configuration order

  bool HasDynamic() const;
  // The selectors with every dynamic entry replaced by `ike_address` (a /32 or /128 of its family).
  std::vector<TrafficSelector> Resolve(const sa::IpAddress& ike_address) const;
};

// Errors (InvalidArgument) name the offending entry: "bad traffic selector '10.0.0.0/33': prefix
// length 33 is more than 32", "unknown protocol 'tpc'", "range end is below its start", ...
[[nodiscard]] StatusOr<TrafficSelectorList> ParseTrafficSelectors(std::string_view list);

struct AddressSpec {
  enum class Kind : uint8_t { kAny, kRange, kHostname };
  Kind kind = Kind::kAny;
  uint8_t family = 0;     // 0 = either (%any); 4 or 6 (%any4/%any6, or the range's family)
  sa::IpAddress first;    // kRange: inclusive bounds (a single address has first == last)
  sa::IpAddress last;
  std::string hostname;   // kHostname
  std::string text;       // as written

  // kAny: family matches; kRange: within the range; kHostname: false (resolve it first).
  bool Contains(const sa::IpAddress& a) const;
};

[[nodiscard]] StatusOr<std::vector<AddressSpec>> ParseAddressList(std::string_view list);

}  // namespace ipsec::ike::config
