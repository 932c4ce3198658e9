#include "host/ike/daemon/data_path_util.h"

#include <algorithm>
#include <cstring>

namespace ipsec::ike {
namespace {

bool InRange(const TrafficSelector& ts, Bytes addr, uint8_t proto, uint16_t port, bool have_port) {
  if (ts.start_address.size() != addr.size()) return false;
  if (std::memcmp(addr.data(), ts.start_address.data(), addr.size()) < 0) return false;
  if (std::memcmp(addr.data(), ts.end_address.data(), addr.size()) > 0) return false;
  if (ts.ip_protocol != 0 && ts.ip_protocol != proto) return false;
  if (ts.start_port != 0 || ts.end_port != 0xffff) {
    if (!have_port || port < ts.start_port || port > ts.end_port) return false;
  }
  return true;
}

uint16_t Checksum16(Bytes b) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < b.size(); i += 2) sum += LoadU16Be(&b[i]);
  if (b.size() % 2) sum += std::to_integer<uint32_t>(b.back()) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

}  // namespace

bool ParseFlow(Bytes p, Flow* f) {
  if (p.empty()) return false;
  unsigned version = std::to_integer<unsigned>(p[0]) >> 4;
  size_t l4 = 0;
  if (version == 4) {
    if (p.size() < 20) return false;
    size_t ihl = (std::to_integer<size_t>(p[0]) & 0xf) * 4;
    if (ihl < 20 || p.size() < ihl) return false;
    f->src = p.subspan(12, 4);
    f->dst = p.subspan(16, 4);
    f->proto = std::to_integer<uint8_t>(p[9]);
    bool first_fragment = (LoadU16Be(&p[6]) & 0x1fff) == 0;
    l4 = first_fragment ? ihl : 0;
  } else if (version == 6) {
    if (p.size() < 40) return false;
    f->src = p.subspan(8, 16);
    f->dst = p.subspan(24, 16);
    f->proto = std::to_integer<uint8_t>(p[6]);
    l4 = 40;  // extension headers: ports only when the next header is the transport directly
  } else {
    return false;
  }
  if (l4 != 0 && (f->proto == 6 || f->proto == 17 || f->proto == 132) && p.size() >= l4 + 4) {
    f->sport = LoadU16Be(&p[l4]);
    f->dport = LoadU16Be(&p[l4 + 2]);
    f->ports = true;
  }
  return true;
}

bool Covers(const std::vector<TrafficSelector>& tss, Bytes addr, uint8_t proto, uint16_t port, bool have_port) {
  return std::any_of(tss.begin(), tss.end(),
                     [&](const TrafficSelector& t) { return InRange(t, addr, proto, port, have_port); });
}

bool PrependOuterIpUdp(PacketBuf& pkt, const sa::IpAddress& src, uint16_t sport, const sa::IpAddress& dst,
                       uint16_t dport) {
  const bool v6 = src.v6;
  const uint32_t ip_len = v6 ? 40 : 20;
  const uint32_t payload = pkt.length;
  if (payload + 8 + (v6 ? 0 : ip_len) > 0xffff) return false;
  if (!pkt.Prepend(ip_len + 8)) return false;
  std::byte* h = pkt.data();
  std::memset(h, 0, ip_len + 8);
  std::byte* udp = h + ip_len;
  StoreU16Be(udp, sport);
  StoreU16Be(udp + 2, dport);
  StoreU16Be(udp + 4, static_cast<uint16_t>(payload + 8));
  if (v6) {
    h[0] = std::byte{0x60};
    StoreU16Be(h + 4, static_cast<uint16_t>(payload + 8));
    h[6] = std::byte{17};
    h[7] = std::byte{64};
    std::memcpy(h + 8, src.bytes.data(), 16);
    std::memcpy(h + 24, dst.bytes.data(), 16);
  } else {
    h[0] = std::byte{0x45};
    StoreU16Be(h + 2, static_cast<uint16_t>(payload + 28));
    h[8] = std::byte{64};
    h[9] = std::byte{17};
    std::memcpy(h + 12, src.bytes.data(), 4);
    std::memcpy(h + 16, dst.bytes.data(), 4);
    StoreU16Be(h + 10, Checksum16({h, 20}));
  }
  return true;
}

}  // namespace ipsec::ike
