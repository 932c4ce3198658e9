#include "host/ike/daemon/sw_data_plane.h"

#include <algorithm>
#include <cstring>

#include "host/common/bytes.h"
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

struct Flow {
  Bytes src, dst;
  uint8_t proto = 0;
  uint16_t sport = 0, dport = 0;
  bool ports = false;
};

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

uint16_t Checksum16(Bytes b) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < b.size(); i += 2) sum += LoadU16Be(&b[i]);
  if (b.size() % 2) sum += std::to_integer<uint32_t>(b.back()) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

}  // namespace

SoftwareDataPlane::SoftwareDataPlane(RandomSource& random) : random_(random), sad_(4500) {}
SoftwareDataPlane::~SoftwareDataPlane() = default;

StatusOr<uint32_t> SoftwareDataPlane::AllocateSpi(sa::Protocol) {
  for (int i = 0; i < 64; ++i) {
    std::byte b[4];
    RETURN_IF_ERROR(random_.Fill(b));
    uint32_t spi = LoadU32Be(b) | 0xc0000000u;  // never 0..255 (RFC 4303 §2.1)
    if (children_.contains(spi) || std::find(reserved_.begin(), reserved_.end(), spi) != reserved_.end()) continue;
    reserved_.push_back(spi);
    return spi;
  }
  return ResourceExhaustedError("no free SPI");
}

void SoftwareDataPlane::ReleaseSpi(sa::Protocol, uint32_t spi) { std::erase(reserved_, spi); }

Status SoftwareDataPlane::Install(const ChildSaInfo& info, sa::KeyMaterial inbound, sa::KeyMaterial outbound) {
  if (info.protocol != sa::Protocol::kEsp) return UnimplementedError("the daemon's data path carries ESP only");
  if (!info.udp_encap) return UnimplementedError("the daemon's data path needs ESP in UDP (NAT-T); set encap = yes");
  if (children_.contains(info.spi_in)) return AlreadyExistsError("SPI in use");
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
  ASSIGN_OR_RETURN(auto out_sa, esp::EspSa::Create(out, std::move(outbound)));
  ASSIGN_OR_RETURN(auto in_sa, esp::EspSa::Create(in, std::move(inbound)));
  RETURN_IF_ERROR(sad_.Add(in_sa.get()));
  std::erase(reserved_, info.spi_in);
  children_[info.spi_in] = Child{info, std::move(out_sa), std::move(in_sa), next_order_++};
  return OkStatus();
}

void SoftwareDataPlane::Remove(const ChildSaInfo& info) {
  auto it = children_.find(info.spi_in);
  if (it == children_.end()) return;
  const sa::IpAddress* dst = it->second.in->config().tunnel_dst ? &*it->second.in->config().tunnel_dst : nullptr;
  (void)sad_.Remove(info.spi_in, dst);
  children_.erase(it);
}

ChildSaCounters SoftwareDataPlane::Counters(const ChildSaInfo& info) const {
  auto it = children_.find(info.spi_in);
  if (it == children_.end()) return {};
  ChildSaCounters c;
  c.bytes_in = it->second.in->counters().bytes;
  c.packets_in = it->second.in->counters().packets;
  c.bytes_out = it->second.out->counters().bytes;
  c.packets_out = it->second.out->counters().packets;
  return c;
}

const SoftwareDataPlane::Child* SoftwareDataPlane::MatchOutbound(Bytes ip) const {
  Flow f;
  if (!ParseFlow(ip, &f)) return nullptr;
  const Child* best = nullptr;
  for (const auto& [spi, c] : children_) {
    if (c.out->stopped()) continue;
    if (!Covers(c.info.local_ts, f.src, f.proto, f.sport, f.ports)) continue;
    if (!Covers(c.info.remote_ts, f.dst, f.proto, f.dport, f.ports)) continue;
    if (!best || c.order > best->order) best = &c;  // the newest child: rekeys switch at once
  }
  return best;
}

bool SoftwareDataPlane::Outbound(PacketBuf& pkt, Endpoint* to) {
  ++counters_.tun_in;
  const Child* c = MatchOutbound(pkt.span());
  if (!c) {
    ++counters_.no_policy;
    return false;
  }
  PacketBuf* one = &pkt;
  sa::DropReason r;
  if (c->out->ProcessOutbound({&one, 1}, {&r, 1}) != 1) {
    ++counters_.encrypt_failed;
    return false;
  }
  // Strip the outer IP and UDP headers: the socket adds its own.
  size_t outer = (std::to_integer<unsigned>(pkt.data()[0]) >> 4) == 4
                     ? (std::to_integer<size_t>(pkt.data()[0]) & 0xf) * 4
                     : 40;
  if (!pkt.TrimFront(static_cast<uint32_t>(outer + 8))) {
    ++counters_.encrypt_failed;
    return false;
  }
  *to = c->info.remote;
  ++counters_.encrypted;
  return true;
}

bool SoftwareDataPlane::Inbound(PacketBuf& pkt, const Endpoint& from, const Endpoint& local) {
  ++counters_.esp_in;
  bool v6 = from.addr.v6;
  uint32_t ip_len = v6 ? 40 : 20;
  uint32_t payload = pkt.length;
  if (!pkt.Prepend(ip_len + 8)) {
    ++counters_.decrypt_failed;
    return false;
  }
  std::byte* h = pkt.data();
  std::memset(h, 0, ip_len + 8);
  std::byte* udp = h + ip_len;
  StoreU16Be(udp, from.port);
  StoreU16Be(udp + 2, local.port);
  StoreU16Be(udp + 4, static_cast<uint16_t>(payload + 8));
  if (v6) {
    h[0] = std::byte{0x60};
    StoreU16Be(h + 4, static_cast<uint16_t>(payload + 8));
    h[6] = std::byte{17};
    h[7] = std::byte{64};
    std::memcpy(h + 8, from.addr.bytes.data(), 16);
    std::memcpy(h + 24, local.addr.bytes.data(), 16);
  } else {
    h[0] = std::byte{0x45};
    StoreU16Be(h + 2, static_cast<uint16_t>(payload + 28));
    h[8] = std::byte{64};
    h[9] = std::byte{17};
    std::memcpy(h + 12, from.addr.bytes.data(), 4);
    std::memcpy(h + 16, local.addr.bytes.data(), 4);
    StoreU16Be(h + 10, Checksum16({h, 20}));
  }
  PacketBuf* one = &pkt;
  sa::DropReason r;
  esp::EspSa* used = nullptr;
  if (sad_.ProcessInbound({&one, 1}, {&r, 1}, {&used, 1}) != 1 || used == nullptr) {
    ++counters_.decrypt_failed;
    return false;
  }
  // Inbound policy (RFC 4301 §5.2 step 4): the inner packet must match the child's selectors.
  auto it = children_.find(used->config().spi);
  Flow f;
  if (it == children_.end() || !ParseFlow(pkt.span(), &f) ||
      !Covers(it->second.info.remote_ts, f.src, f.proto, f.sport, f.ports) ||
      !Covers(it->second.info.local_ts, f.dst, f.proto, f.dport, f.ports)) {
    ++counters_.policy_violations;
    return false;
  }
  ++counters_.decrypted;
  return true;
}

}  // namespace ipsec::ike
