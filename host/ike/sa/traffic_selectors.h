// Traffic selector arithmetic (RFC 7296 §2.9): narrowing as responder, checking the responder's
// narrowing as initiator, and the "dynamic" selector for a side's IKE address.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "host/ike/encoding/payloads/ts_payload.h"
#include "host/ike/sa/peer_config.h"
#include "host/sa/sa_config.h"

namespace ipsec::ike {

// The intersection of two selectors (same type, protocol, port and address ranges), if any.
std::optional<TrafficSelector> Intersect(const TrafficSelector& a, const TrafficSelector& b);

// Every non-empty intersection of a proposed selector with a configured one, without duplicates, in
// the configured order (§2.9: the responder narrows to a subset of what was proposed).
std::vector<TrafficSelector> Narrow(std::span<const TrafficSelector> proposed,
                                    std::span<const TrafficSelector> configured);

// True when every selector of `narrowed` lies within some selector of `proposed`.
bool IsSubset(std::span<const TrafficSelector> narrowed, std::span<const TrafficSelector> proposed);

// A single-address selector for `addr` (all protocols and ports).
TrafficSelector HostSelector(const sa::IpAddress& addr);

// Configured selectors with "dynamic" replaced by the host selector of `ike_addr`.
std::vector<TrafficSelector> Resolve(std::span<const TsConfig> configured, const sa::IpAddress& ike_addr);

// "192.0.2.0/24", "10.0.0.1-10.0.0.9[tcp/80-90]": for logs and the control tool.
std::string DescribeTs(const TrafficSelector& ts);
std::string DescribeTs(std::span<const TrafficSelector> ts);

}  // namespace ipsec::ike
