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
// Inline: it runs on every packet of the data path.
inline IpInfo ParseIp(Bytes pkt, bool allow_trailing) {
  IpInfo info;
  if (pkt.empty()) return info;
  const uint8_t v = U8(pkt[0]) >> 4;
  if (v == 4) {
    if (pkt.size() < kIpv4MinHeader) return info;
    const size_t ihl = size_t{U8(pkt[0]) & 0x0fu} * 4;
    const size_t total = LoadU16Be(&pkt[2]);
    if (ihl < kIpv4MinHeader || total < ihl || total > pkt.size()) return info;
    if (!allow_trailing && total != pkt.size()) return info;
    info.header_len = ihl;
    info.total_len = total;
    info.protocol = U8(pkt[9]);
    info.tos = U8(pkt[1]);
    info.ttl = U8(pkt[8]);
    info.df = (U8(pkt[6]) & 0x40) != 0;
    info.version = 4;
  } else if (v == 6) {
    if (pkt.size() < kIpv6Header) return info;
    const size_t total = kIpv6Header + LoadU16Be(&pkt[4]);
    if (total > pkt.size()) return info;  // jumbograms (payload length 0 + HBH option) unsupported
    if (!allow_trailing && total != pkt.size()) return info;
    info.header_len = kIpv6Header;
    info.total_len = total;
    info.protocol = U8(pkt[6]);
    info.tos = static_cast<uint8_t>(((U8(pkt[0]) & 0x0f) << 4) | (U8(pkt[1]) >> 4));
    info.ttl = U8(pkt[7]);
    info.version = 6;
  }
  return info;
}

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
