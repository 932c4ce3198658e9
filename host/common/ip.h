// IPv4/IPv6 header helpers shared by ESP and AH: checksums, field access, IPv6 extension-header
// walking. All functions work on raw bytes with explicit bounds; none trusts a length field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "host/common/bytes.h"

namespace ipsec::ip {

inline constexpr uint8_t kProtoHopByHop = 0;
inline constexpr uint8_t kProtoIpv4 = 4;      // IP-in-IP, ESP next header for tunnelled IPv4
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;
inline constexpr uint8_t kProtoIpv6 = 41;
inline constexpr uint8_t kProtoRouting = 43;
inline constexpr uint8_t kProtoFragment = 44;
inline constexpr uint8_t kProtoEsp = 50;
inline constexpr uint8_t kProtoAh = 51;
inline constexpr uint8_t kProtoIcmpv6 = 58;
inline constexpr uint8_t kProtoNone = 59;
inline constexpr uint8_t kProtoDstOpts = 60;

inline constexpr size_t kIpv4MinHeader = 20;
inline constexpr size_t kIpv6Header = 40;
inline constexpr size_t kUdpHeader = 8;

// RFC 1071 one's-complement sum folded to 16 bits (not inverted); `initial` lets callers chain.
uint32_t ChecksumPartial(Bytes data, uint32_t initial = 0);
uint16_t ChecksumFold(uint32_t sum);
// Recomputes the IPv4 header checksum in place. Precondition: hdr_len bytes are readable.
void SetIpv4Checksum(std::byte* hdr, size_t hdr_len);
bool Ipv4ChecksumOk(const std::byte* hdr, size_t hdr_len);

// Validated view of an IP packet's fixed header. version is 0 when the packet is not a sane IPv4
// or IPv6 packet: too short, bad IHL, total/payload length disagreeing with the buffer.
struct IpInfo {
  uint8_t version = 0;
  size_t header_len = 0;   // IPv4: IHL*4; IPv6: 40 (extension headers not included)
  size_t total_len = 0;    // from the length field (IPv6: 40 + payload length)
  uint8_t protocol = 0;    // IPv4 protocol / IPv6 next header
  uint8_t tos = 0;         // IPv4 TOS / IPv6 traffic class (DSCP << 2 | ECN)
  uint8_t ttl = 0;         // TTL / hop limit
  bool df = false;         // IPv4 DF
};

// Parses the fixed header. Accepts buffers longer than total_len (link padding) when
// `allow_trailing` is set; otherwise the lengths must agree exactly.
IpInfo ParseIp(Bytes pkt, bool allow_trailing);

// Traffic class helpers (IPv4 TOS byte or the IPv6 traffic class split across bytes 0-1).
void SetIpv6TrafficClass(std::byte* hdr, uint8_t tc);

// Finds where an ESP or AH header goes in an IPv6 packet (RFC 4303 §3.1.1, RFC 4302 §3.1.1):
// after Hop-by-Hop, Routing and Fragment headers, and after Destination Options that precede a
// Routing header. Returns the offset of the insertion point and, in *nh_offset, the offset of the
// Next Header byte that must be rewritten (6 for the fixed header). Returns 0 when the extension
// chain is malformed or runs past the buffer, or holds a Fragment header (a fragment is not a whole
// datagram, RFC 4301 §4.1).
size_t Ipv6InsertionPoint(Bytes pkt, size_t* nh_offset);

// Pseudo-header sum for UDP/TCP checksums.
uint32_t PseudoHeaderSum(const std::byte* src, const std::byte* dst, bool v6, uint8_t proto, uint32_t len);

// ECN codepoints (RFC 3168).
inline constexpr uint8_t kEcnNotEct = 0, kEcnEct1 = 1, kEcnEct0 = 2, kEcnCe = 3;

}  // namespace ipsec::ip
