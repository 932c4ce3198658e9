// Helpers shared by the daemon's data planes: matching IP packets against IKEv2 traffic selectors
// (RFC 7296 §3.13.1 ranges) for the inbound policy check (RFC 4301 §5.2 step 4) and the software
// data plane's outbound lookup, and the outer IP + UDP header rebuilt in front of an ESP-in-UDP
// payload received on a socket.
#pragma once

#include <cstdint>
#include <vector>

#include "host/common/bytes.h"
#include "host/common/packet_buf.h"
#include "host/ike/encoding/payloads/ts_payload.h"
#include "host/sa/sa_config.h"

namespace ipsec::ike {

// The selector fields of one IP packet; the address spans point into the packet.
struct Flow {
  Bytes src, dst;
  uint8_t proto = 0;
  uint16_t sport = 0, dport = 0;
  bool ports = false;  // TCP/UDP/SCTP first fragment with its ports present
};

// False when the packet is not IPv4/IPv6 or too short for its header.
bool ParseFlow(Bytes ip_packet, Flow* flow);

// Whether one of `tss` covers the address (and protocol and port, when the selector restricts
// them: a selector with a port range matches only packets that carry ports).
bool Covers(const std::vector<TrafficSelector>& tss, Bytes addr, uint8_t proto, uint16_t port, bool have_port);

// Prepends an outer IPv4 (with its checksum) or IPv6 header and a UDP header (checksum 0, as
// RFC 3948 allows) from `src`:`sport` to `dst`:`dport` in front of the `pkt.length` payload bytes.
// False (nothing changed) when the headroom is short or the datagram would exceed 65535 bytes.
bool PrependOuterIpUdp(PacketBuf& pkt, const sa::IpAddress& src, uint16_t sport, const sa::IpAddress& dst,
                       uint16_t dport);

}  // namespace ipsec::ike
