#include "host/ike/daemon/data_path_util.h"

#include <algorithm>
#include <cstring>

#include "host/common/ip.h"

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

VnetHdr VnetHdr::Read(const std::byte* p) {
  VnetHdr h;
  h.flags = std::to_integer<uint8_t>(p[0]);
  h.gso_type = std::to_integer<uint8_t>(p[1]);
  std::memcpy(&h.hdr_len, p + 2, 2);
  std::memcpy(&h.gso_size, p + 4, 2);
  std::memcpy(&h.csum_start, p + 6, 2);
  std::memcpy(&h.csum_offset, p + 8, 2);
  return h;
}

size_t SegmentOffloaded(const VnetHdr& h, std::span<std::byte> pkt, size_t max_segments,
                        const std::function<std::span<std::byte>(size_t)>& dest) {
  const uint8_t gso = h.gso_type & static_cast<uint8_t>(~VnetHdr::kGsoEcn);
  if (gso == VnetHdr::kGsoNone) {
    if (h.flags & VnetHdr::kNeedsCsum) {
      const size_t start = h.csum_start, field = size_t{h.csum_start} + h.csum_offset;
      if (start >= pkt.size() || field + 2 > pkt.size()) return 0;
      // The kernel left the pseudo-header sum in the field: sum from csum_start to the end.
      const uint16_t c = static_cast<uint16_t>(~ip::ChecksumFold(ip::ChecksumPartial(Bytes(pkt).subspan(start))));
      StoreU16Be(pkt.data() + field, c);
    }
    std::span<std::byte> d = dest(pkt.size());
    if (d.size() != pkt.size()) return 0;
    std::memcpy(d.data(), pkt.data(), pkt.size());
    return 1;
  }
  if (gso != VnetHdr::kGsoTcpV4 && gso != VnetHdr::kGsoTcpV6) return 0;
  const bool v6 = gso == VnetHdr::kGsoTcpV6;
  if (pkt.size() < 40 || (std::to_integer<unsigned>(pkt[0]) >> 4) != (v6 ? 6u : 4u)) return 0;
  const size_t l4 = h.csum_start;  // the TCP header (after IPv6 extension headers too)
  if (l4 < (v6 ? 40u : 20u) || l4 + 20 > pkt.size()) return 0;
  if (!v6 && l4 != (std::to_integer<size_t>(pkt[0]) & 0xf) * 4) return 0;
  const size_t thl = (std::to_integer<size_t>(pkt[l4 + 12]) >> 4) * 4;
  const size_t hdrs = l4 + thl;
  if (thl < 20 || hdrs > pkt.size() || h.gso_size == 0) return 0;
  const size_t payload = pkt.size() - hdrs, mss = h.gso_size;
  const size_t n = payload == 0 ? 1 : (payload + mss - 1) / mss;
  if (n > max_segments) return 0;
  const uint16_t id0 = v6 ? 0 : LoadU16Be(pkt.data() + 4);
  const uint32_t seq0 = LoadU32Be(pkt.data() + l4 + 4);
  const uint8_t flags0 = std::to_integer<uint8_t>(pkt[l4 + 13]);
  for (size_t i = 0; i < n; ++i) {
    const size_t off = i * mss, len = std::min(mss, payload - std::min(payload, off));
    std::span<std::byte> d = dest(hdrs + len);
    if (d.size() != hdrs + len) return i;
    std::byte* s = d.data();
    std::memcpy(s, pkt.data(), hdrs);
    std::memcpy(s + hdrs, pkt.data() + hdrs + off, len);
    if (v6) {
      StoreU16Be(s + 4, static_cast<uint16_t>(hdrs - 40 + len));
    } else {
      StoreU16Be(s + 2, static_cast<uint16_t>(hdrs + len));
      StoreU16Be(s + 4, static_cast<uint16_t>(id0 + i));
      StoreU16Be(s + 10, 0);
      ip::SetIpv4Checksum(s, l4);
    }
    std::byte* tcp = s + l4;
    StoreU32Be(tcp + 4, static_cast<uint32_t>(seq0 + off));
    uint8_t f = flags0;
    if (i + 1 < n) f &= static_cast<uint8_t>(~0x09);  // FIN, PSH: the last segment only
    if (i > 0) f &= static_cast<uint8_t>(~0x80);      // CWR: the first segment only
    tcp[13] = std::byte{f};
    StoreU16Be(tcp + 16, 0);
    const uint32_t l4_len = static_cast<uint32_t>(thl + len);
    uint32_t sum = ip::PseudoHeaderSum(s + (v6 ? 8 : 12), s + (v6 ? 24 : 16), v6, 6, l4_len);
    sum = ip::ChecksumPartial(Bytes(tcp, l4_len), sum);
    StoreU16Be(tcp + 16, static_cast<uint16_t>(~ip::ChecksumFold(sum)));
  }
  return n;
}

std::pair<sa::SaConfig, sa::SaConfig> ChildSaConfigs(const ChildSaInfo& info) {
  sa::SaConfig out;
  out.spi = info.spi_out;
  out.direction = sa::Direction::kOutbound;
  out.protocol = sa::Protocol::kEsp;
  out.mode = info.mode;
  out.suite = info.suite;
  out.esn = info.esn;
  out.udp_encap = sa::UdpEncap{info.local.port, info.remote.port};
  out.lifetime.hard_bytes = info.lifetime.hard_bytes;
  out.lifetime.hard_packets = info.lifetime.hard_packets;
  out.lifetime.soft_bytes = info.lifetime.soft_bytes;
  out.lifetime.soft_packets = info.lifetime.soft_packets;
  if (info.mode == sa::Mode::kTunnel) {
    out.tunnel_src = info.local.addr;
    out.tunnel_dst = info.remote.addr;
  }
  sa::SaConfig in = out;
  in.spi = info.spi_in;
  in.direction = sa::Direction::kInbound;
  in.replay_window = info.replay_window;
  in.udp_encap = sa::UdpEncap{info.remote.port, info.local.port};
  if (info.mode == sa::Mode::kTunnel) {
    in.tunnel_src = info.remote.addr;
    in.tunnel_dst = info.local.addr;
  }
  return {out, in};
}

bool PrependOuterIpUdp(PacketBuf& pkt, const sa::IpAddress& src, uint16_t sport, const sa::IpAddress& dst,
                       uint16_t dport, uint8_t tos) {
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
    h[0] = std::byte(0x60 | (tos >> 4));
    h[1] = std::byte((tos & 0x0f) << 4);
    StoreU16Be(h + 4, static_cast<uint16_t>(payload + 8));
    h[6] = std::byte{17};
    h[7] = std::byte{64};
    std::memcpy(h + 8, src.bytes.data(), 16);
    std::memcpy(h + 24, dst.bytes.data(), 16);
  } else {
    h[0] = std::byte{0x45};
    h[1] = std::byte{tos};
    StoreU16Be(h + 2, static_cast<uint16_t>(payload + 28));
    h[8] = std::byte{64};
    h[9] = std::byte{17};
    std::memcpy(h + 12, src.bytes.data(), 4);
    std::memcpy(h + 16, dst.bytes.data(), 4);
    StoreU16Be(h + 10, Checksum16({h, 20}));
  }
  return true;
}

namespace {
constexpr std::byte kNoOffload[VnetHdr::kBytes] = {};
constexpr uint8_t kTcpAck = 0x10, kTcpPsh = 0x08;
}  // namespace

bool TunCoalescer::Candidate(Bytes p, uint32_t* hdrs, uint32_t* payload) {
  if (p.empty()) return false;
  const unsigned version = std::to_integer<unsigned>(p[0]) >> 4;
  size_t l4;
  bool v6;
  if (version == 4) {
    if (p.size() < 40 || p[0] != std::byte{0x45} || LoadU16Be(&p[2]) != p.size()) return false;
    if ((LoadU16Be(&p[6]) & 0x3fff) != 0 || p[9] != std::byte{6}) return false;  // fragment, not TCP
    if (!ip::Ipv4ChecksumOk(p.data(), 20)) return false;
    l4 = 20;
    v6 = false;
  } else if (version == 6) {
    if (p.size() < 60 || p[6] != std::byte{6} || size_t{LoadU16Be(&p[4])} + 40 != p.size()) return false;
    l4 = 40;
    v6 = true;
  } else {
    return false;
  }
  const std::byte* tcp = p.data() + l4;
  const size_t thl = (std::to_integer<size_t>(tcp[12]) >> 4) * 4;
  if (thl < 20 || l4 + thl >= p.size()) return false;  // no payload: nothing to merge
  if ((std::to_integer<uint8_t>(tcp[12]) & 0x0f) != 0) return false;
  if ((std::to_integer<uint8_t>(tcp[13]) & static_cast<uint8_t>(~kTcpPsh)) != kTcpAck) return false;
  const size_t l4_len = p.size() - l4;
  uint32_t sum = ip::PseudoHeaderSum(p.data() + (v6 ? 8 : 12), p.data() + (v6 ? 24 : 16), v6, 6,
                                     static_cast<uint32_t>(l4_len));
  if (ip::ChecksumFold(ip::ChecksumPartial(p.subspan(l4), sum)) != 0xffff) {
    ++bad_checksums_;
    return false;
  }
  *hdrs = static_cast<uint32_t>(l4 + thl);
  *payload = static_cast<uint32_t>(p.size() - l4 - thl);
  return true;
}

bool TunCoalescer::Joins(const Group& g, Bytes f, Bytes p, uint32_t hdrs, uint32_t payload) const {
  if (hdrs != g.hdrs || payload > g.mss || g.n >= kMaxSegments || g.bytes + payload > 0xffff) return false;
  const size_t l4 = (std::to_integer<unsigned>(f[0]) >> 4) == 6 ? 40 : 20;
  if (l4 == 20) {
    // TOS, flags (DF), TTL equal; IDs counting up from the first, as the kernel cuts them again.
    if (p[1] != f[1] || p[8] != f[8] || p[6] != f[6]) return false;
    if (LoadU16Be(&p[4]) != static_cast<uint16_t>(LoadU16Be(&f[4]) + g.n)) return false;
  } else {
    if (std::memcmp(p.data(), f.data(), 4) != 0 || p[7] != f[7]) return false;
  }
  const std::byte* ft = f.data() + l4;
  const std::byte* pt = p.data() + l4;
  if (LoadU32Be(pt + 4) != g.next_seq) return false;
  if (std::memcmp(pt + 8, ft + 8, 4) != 0) return false;   // ack
  if (std::memcmp(pt + 14, ft + 14, 2) != 0) return false;  // window
  if (std::memcmp(pt + 18, ft + 18, 2) != 0) return false;  // urgent pointer (no URG flag, but kept)
  return std::memcmp(pt + 20, ft + 20, hdrs - l4 - 20) == 0;  // options
}

size_t TunCoalescer::Plan(std::span<const Bytes> pkts) {
  n_groups_ = 0;
  n_writes_ = 0;
  pkts = pkts.first(std::min(pkts.size(), kMaxBatch));
  for (size_t i = 0; i < pkts.size(); ++i) {
    const Bytes p = pkts[i];
    uint32_t hdrs = 0, payload = 0;
    const bool cand = Candidate(p, &hdrs, &payload);
    if (cand) {
      // The latest open group of the same flow (addresses and ports), if any.
      const size_t l4 = (std::to_integer<unsigned>(p[0]) >> 4) == 6 ? 40 : 20;
      const size_t key_off = l4 == 40 ? 8 : 12, key_len = l4 == 40 ? 32 : 8;
      Group* same = nullptr;
      for (size_t k = n_groups_; k-- > 0;) {
        Group& g = groups_[k];
        if (!g.open) continue;
        const Bytes f = pkts[g.first];
        if (f.size() < l4 + 4 || (f[0] >> 4) != (p[0] >> 4)) continue;
        if (std::memcmp(f.data() + key_off, p.data() + key_off, key_len) == 0 &&
            std::memcmp(f.data() + l4, p.data() + l4, 4) == 0) {
          same = &g;
          break;
        }
      }
      if (same && Joins(*same, pkts[same->first], p, hdrs, payload)) {
        same->members[same->n++] = static_cast<uint8_t>(i);
        same->bytes += payload;
        same->next_seq += payload;
        const bool psh = (std::to_integer<uint8_t>(p[l4 + 13]) & kTcpPsh) != 0;
        same->psh = psh;
        if (psh || payload < same->mss) same->open = false;
        continue;
      }
      if (same) same->open = false;  // this flow goes on in a new group, after that one
    }
    Group& g = groups_[n_groups_++];
    g.first = static_cast<uint32_t>(i);
    g.n = 1;
    g.members[0] = static_cast<uint8_t>(i);
    g.open = false;
    if (cand) {
      const size_t l4 = (std::to_integer<unsigned>(p[0]) >> 4) == 6 ? 40 : 20;
      g.hdrs = hdrs;
      g.mss = payload;
      g.bytes = static_cast<uint32_t>(p.size());
      g.next_seq = LoadU32Be(p.data() + l4 + 4) + payload;
      g.psh = (std::to_integer<uint8_t>(p[l4 + 13]) & kTcpPsh) != 0;
      g.open = !g.psh;
    }
  }
  size_t np = 0;
  for (size_t k = 0; k < n_groups_; ++k) {
    Group& g = groups_[k];
    write_start_[n_writes_++] = static_cast<uint16_t>(np);
    const Bytes f = pkts[g.first];
    if (g.n == 1) {
      pieces_[np++] = Bytes(kNoOffload, VnetHdr::kBytes);
      pieces_[np++] = f;
      continue;
    }
    Finish(g, pkts);
    pieces_[np++] = Bytes(g.head.data(), VnetHdr::kBytes + g.hdrs);
    for (uint32_t m = 0; m < g.n; ++m) pieces_[np++] = pkts[g.members[m]].subspan(g.hdrs);
    ++coalesced_writes_;
    coalesced_segments_ += g.n;
  }
  write_start_[n_writes_] = static_cast<uint16_t>(np);
  return n_writes_;
}

void TunCoalescer::Finish(Group& g, std::span<const Bytes> pkts) {
  const Bytes f = pkts[g.first];
  const bool v6 = (std::to_integer<unsigned>(f[0]) >> 4) == 6;
  const size_t l4 = v6 ? 40 : 20;
  std::byte* vh = g.head.data();
  std::byte* h = vh + VnetHdr::kBytes;
  std::memcpy(h, f.data(), g.hdrs);
  if (v6) {
    StoreU16Be(h + 4, static_cast<uint16_t>(g.bytes - 40));
  } else {
    StoreU16Be(h + 2, static_cast<uint16_t>(g.bytes));
    StoreU16Be(h + 10, 0);
    ip::SetIpv4Checksum(h, 20);
  }
  std::byte* tcp = h + l4;
  if (g.psh) tcp[13] |= std::byte{kTcpPsh};
  // Checksum left to the kernel (NEEDS_CSUM): the field holds the pseudo-header sum, not inverted.
  const uint32_t sum = ip::PseudoHeaderSum(h + (v6 ? 8 : 12), h + (v6 ? 24 : 16), v6, 6, static_cast<uint32_t>(g.bytes - l4));
  StoreU16Be(tcp + 16, ip::ChecksumFold(sum));
  const uint16_t hdr_len = static_cast<uint16_t>(g.hdrs), gso_size = static_cast<uint16_t>(g.mss),
                 csum_start = static_cast<uint16_t>(l4), csum_offset = 16;
  vh[0] = std::byte{VnetHdr::kNeedsCsum};
  vh[1] = std::byte{v6 ? VnetHdr::kGsoTcpV6 : VnetHdr::kGsoTcpV4};
  std::memcpy(vh + 2, &hdr_len, 2);
  std::memcpy(vh + 4, &gso_size, 2);
  std::memcpy(vh + 6, &csum_start, 2);
  std::memcpy(vh + 8, &csum_offset, 2);
}

std::span<const Bytes> TunCoalescer::Write(size_t i) const {
  return std::span<const Bytes>(pieces_).subspan(write_start_[i], write_start_[i + 1] - write_start_[i]);
}

}  // namespace ipsec::ike
