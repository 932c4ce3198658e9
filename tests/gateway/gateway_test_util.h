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

// A tunnel-mode AES-GCM-128 CHILD_SA in UDP encapsulation, as the gateway tests install it
// ("gw"/"net"); the caller sets endpoints, selectors and SPIs.
inline ChildSaInfo TestChild(uint32_t unique_id, uint32_t replay_window = 128) {
  ChildSaInfo c;
  c.connection = "gw";
  c.child = "net";
  c.unique_id = unique_id;
  c.mode = sa::Mode::kTunnel;
  c.suite = sa::Suite::kAesGcm128;
  c.udp_encap = true;
  c.replay_window = replay_window;
  return c;
}

// The endpoint `addr`:4500 (NAT-T).
inline Endpoint Ep(const char* addr) { return Endpoint{*sa::IpAddress::Parse(addr), 4500}; }

}  // namespace ipsec::ike::testing
