// Locating the AH header in a received packet.
#include "host/ah/ah_packet.h"

#include "host/common/ip.h"

namespace ipsec::ah {

bool LocateAh(Bytes pkt, AhLocation* loc) {
  const ip::IpInfo info = ip::ParseIp(pkt, /*allow_trailing=*/true);
  if (info.version == 0) return false;
  const Bytes p = pkt.first(info.total_len);
  size_t off = 0;
  size_t nh_off = 0;
  uint8_t nh = info.protocol;
  if (info.version == 4) {
    // Flags + fragment offset (RFC 791): MF set or a non-zero offset means a fragment.
    const uint16_t frag = LoadU16Be(&p[6]);
    if ((frag & 0x3fff) != 0) return false;
    off = info.header_len;
    nh_off = 9;
  } else {
    off = ip::kIpv6Header;
    nh_off = 6;
    // RFC 8200 §4.1 order: Hop-by-Hop, Destination Options, Routing, Fragment, AH. Bounded walk:
    // each header is at least 8 bytes, but cap the count so a crafted chain costs little.
    for (int guard = 0; nh != ip::kProtoAh; ++guard) {
      if (guard == 16) return false;
      if (nh == ip::kProtoFragment) return false;  // §3.4.1
      if (nh != ip::kProtoHopByHop && nh != ip::kProtoDstOpts && nh != ip::kProtoRouting) return false;
      if (off + 2 > p.size()) return false;
      const size_t len = (size_t{U8(p[off + 1])} + 1) * 8;
      if (off + len > p.size()) return false;
      nh_off = off;
      nh = U8(p[off]);
      off += len;
    }
  }
  if (nh != ip::kProtoAh) return false;
  if (off + kAhFixedHeader > p.size()) return false;
  loc->version = info.version;
  loc->packet_len = info.total_len;
  loc->ah_offset = off;
  loc->nh_offset = nh_off;
  return true;
}

}  // namespace ipsec::ah
