// IPv4/IPv6 header helpers.
#include "host/common/ip.h"

namespace ipsec::ip {

uint32_t ChecksumPartial(Bytes data, uint32_t sum) {
  size_t i = 0;
  const size_t n = data.size();
  for (; i + 1 < n; i += 2) sum += LoadU16Be(&data[i]);
  if (i < n) sum += uint32_t{U8(data[i])} << 8;
  // Fold now and then so long inputs cannot overflow 32 bits.
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

uint16_t ChecksumFold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

void SetIpv4Checksum(std::byte* hdr, size_t hdr_len) {
  hdr[10] = std::byte{0};
  hdr[11] = std::byte{0};
  uint16_t c = static_cast<uint16_t>(~ChecksumFold(ChecksumPartial({hdr, hdr_len})));
  StoreU16Be(hdr + 10, c);
}

bool Ipv4ChecksumOk(const std::byte* hdr, size_t hdr_len) {
  return ChecksumFold(ChecksumPartial({hdr, hdr_len})) == 0xffff;
}

void SetIpv6TrafficClass(std::byte* hdr, uint8_t tc) {
  hdr[0] = std::byte((U8(hdr[0]) & 0xf0) | (tc >> 4));
  hdr[1] = std::byte(((tc & 0x0f) << 4) | (U8(hdr[1]) & 0x0f));
}

size_t Ipv6InsertionPoint(Bytes pkt, size_t* nh_offset) {
  if (pkt.size() < kIpv6Header) return 0;
  size_t off = kIpv6Header;
  size_t nh_off = 6;
  uint8_t nh = U8(pkt[6]);
  // Look ahead: a Destination Options header stays in front only if a Routing header follows it.
  for (int guard = 0; guard < 16; ++guard) {
    bool before = false;
    size_t len = 0;
    if (nh == kProtoHopByHop || nh == kProtoRouting || nh == kProtoDstOpts) {
      if (off + 2 > pkt.size()) return 0;
      len = (size_t{U8(pkt[off + 1])} + 1) * 8;
      if (nh == kProtoDstOpts) {
        // Peek at the header after this one.
        if (off + len + 0 > pkt.size()) return 0;
        before = U8(pkt[off]) == kProtoRouting;
      } else {
        before = true;
      }
    } else if (nh == kProtoFragment) {
      return 0;  // RFC 4301 §4.1: transport mode protects whole datagrams, not fragments
    }
    if (!before) {
      *nh_offset = nh_off;
      return off;
    }
    if (off + len > pkt.size()) return 0;
    nh_off = off;
    nh = U8(pkt[off]);
    off += len;
  }
  return 0;
}

uint32_t PseudoHeaderSum(const std::byte* src, const std::byte* dst, bool v6, uint8_t proto, uint32_t len) {
  const size_t alen = v6 ? 16 : 4;
  uint32_t sum = ChecksumPartial({src, alen});
  sum = ChecksumPartial({dst, alen}, sum);
  sum += proto;
  sum += len >> 16;
  sum += len & 0xffff;
  return sum;
}

}  // namespace ipsec::ip
