// Locating ESP inside received packets.
#include "host/esp/esp_packet.h"

#include "host/common/ip.h"

namespace ipsec::esp {

UdpPayloadKind ClassifyUdpEncapPayload(Bytes p) {
  if (p.size() == 1 && U8(p[0]) == 0xff) return UdpPayloadKind::kKeepalive;
  if (p.size() >= 4 && LoadU32Be(p.data()) == 0) return UdpPayloadKind::kIke;
  if (p.size() >= 8) return UdpPayloadKind::kEsp;
  return UdpPayloadKind::kInvalid;
}

namespace {

// Finds the upper-layer header of an IPv6 packet, skipping extension headers. Returns its offset,
// and the offset of the next-header byte naming it.
bool Ipv6Upper(Bytes pkt, size_t* off_out, size_t* nh_off_out, uint8_t* proto_out) {
  size_t off = ip::kIpv6Header;
  size_t nh_off = 6;
  uint8_t nh = U8(pkt[6]);
  for (int guard = 0; guard < 16; ++guard) {
    if (nh == ip::kProtoHopByHop || nh == ip::kProtoRouting || nh == ip::kProtoDstOpts) {
      if (off + 2 > pkt.size()) return false;
      size_t len = (size_t{U8(pkt[off + 1])} + 1) * 8;
      if (off + len > pkt.size()) return false;
      nh_off = off;
      nh = U8(pkt[off]);
      off += len;
    } else if (nh == ip::kProtoFragment) {
      return false;  // fragments are not reassembled here
    } else {
      *off_out = off;
      *nh_off_out = nh_off;
      *proto_out = nh;
      return true;
    }
  }
  return false;
}

StatusOr<EspLocation> Locate(Bytes pkt, int udp_mode /* 0 no, 1 yes, 2 either */, uint16_t udp_port) {
  EspLocation loc;
  ip::IpInfo info = ip::ParseIp(pkt, /*allow_trailing=*/true);
  if (info.version == 0) return InvalidArgumentError("not a valid IPv4/IPv6 packet");
  Bytes p = pkt.first(info.total_len);
  loc.ip_version = info.version;
  loc.ip_total_len = info.total_len;
  size_t off;
  uint8_t proto;
  if (info.version == 4) {
    const uint16_t frag = LoadU16Be(&p[6]);
    if ((frag & 0x3fff) != 0) return FailedPreconditionError("IPv4 fragment");
    off = info.header_len;
    loc.nh_offset = 9;
    proto = info.protocol;
  } else {
    if (!Ipv6Upper(p, &off, &loc.nh_offset, &proto)) {
      return InvalidArgumentError("malformed IPv6 extension headers or fragment");
    }
  }
  loc.pre_esp_len = off;
  if (proto == ip::kProtoUdp && udp_mode != 0) {
    if (off + ip::kUdpHeader > p.size()) return InvalidArgumentError("truncated UDP header");
    const size_t udp_len = LoadU16Be(&p[off + 4]);
    if (udp_len != p.size() - off) return InvalidArgumentError("UDP length disagrees with IP length");
    loc.udp = true;
    loc.udp_src_port = LoadU16Be(&p[off]);
    loc.udp_dst_port = LoadU16Be(&p[off + 2]);
    if (udp_port != 0 && loc.udp_dst_port != udp_port) return NotFoundError("UDP to a port other than ESP's");
    Bytes payload = p.subspan(off + ip::kUdpHeader);
    switch (ClassifyUdpEncapPayload(payload)) {
      case UdpPayloadKind::kEsp: break;
      case UdpPayloadKind::kIke: return NotFoundError("IKE message (non-ESP marker)");
      case UdpPayloadKind::kKeepalive: return NotFoundError("NAT-T keepalive");
      case UdpPayloadKind::kInvalid: return InvalidArgumentError("UDP payload too short for ESP");
    }
    off += ip::kUdpHeader;
  } else if (proto != ip::kProtoEsp || udp_mode == 1) {
    return NotFoundError(udp_mode == 1 ? "expected ESP in UDP" : "not an ESP packet");
  }
  if (off + 8 > p.size()) return InvalidArgumentError("truncated ESP header");
  loc.esp_offset = off;
  loc.spi = LoadU32Be(&p[off]);
  loc.seq_low = LoadU32Be(&p[off + 4]);
  return loc;
}

}  // namespace

StatusOr<EspLocation> LocateEsp(Bytes pkt, bool expect_udp, uint16_t udp_port) {
  return Locate(pkt, expect_udp ? 1 : 0, udp_port);
}
StatusOr<EspLocation> LocateEspAny(Bytes pkt, uint16_t udp_port) { return Locate(pkt, 2, udp_port); }

}  // namespace ipsec::esp
