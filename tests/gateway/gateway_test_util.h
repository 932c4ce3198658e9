// Helpers shared by the gateway tests: traffic selectors and endpoints from address text.
#pragma once

#include <string>

#include "host/ike/sa/ike_env.h"

namespace ipsec::ike::testing {

// An address-range traffic selector [first, last] (IPv4 or IPv6 by the text).
inline TrafficSelector Ts(const char* first, const char* last) {
  TrafficSelector t;
  auto a = *sa::IpAddress::Parse(first);
  auto b = *sa::IpAddress::Parse(last);
  t.type = a.v6 ? TsType::kIpv6AddrRange : TsType::kIpv4AddrRange;
  t.start_address.assign(reinterpret_cast<const std::byte*>(a.bytes.data()),
                         reinterpret_cast<const std::byte*>(a.bytes.data()) + a.size());
  t.end_address.assign(reinterpret_cast<const std::byte*>(b.bytes.data()),
                       reinterpret_cast<const std::byte*>(b.bytes.data()) + b.size());
  return t;
}

// The endpoint `addr`:4500 (NAT-T).
inline Endpoint Ep(const char* addr) { return Endpoint{*sa::IpAddress::Parse(addr), 4500}; }

}  // namespace ipsec::ike::testing
