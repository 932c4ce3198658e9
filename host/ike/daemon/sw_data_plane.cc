#include "host/ike/daemon/sw_data_plane.h"

#include <algorithm>
#include <cstring>

#include "host/common/bytes.h"
#include "host/common/ip.h"
#include "host/ike/daemon/data_path_util.h"

namespace ipsec::ike {

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
  auto [out, in] = ChildSaConfigs(info);
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

void SoftwareDataPlane::UpdateEndpoints(const ChildSaInfo& info) {
  auto it = children_.find(info.spi_in);
  if (it == children_.end()) return;
  it->second.info.local = info.local;
  it->second.info.remote = info.remote;
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

bool SoftwareDataPlane::Outbound(PacketBuf& pkt, Endpoint* to, uint8_t* tos) {
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
  // Strip the outer IP and UDP headers: the socket adds its own, with the DSCP/ECN byte read here.
  const bool v4 = (std::to_integer<unsigned>(pkt.data()[0]) >> 4) == 4;
  size_t outer = v4 ? (std::to_integer<size_t>(pkt.data()[0]) & 0xf) * 4 : 40;
  if (tos != nullptr) {
    const unsigned b0 = std::to_integer<unsigned>(pkt.data()[0]), b1 = std::to_integer<unsigned>(pkt.data()[1]);
    *tos = static_cast<uint8_t>(v4 ? b1 : ((b0 & 0xf) << 4) | (b1 >> 4));
  }
  if (!pkt.TrimFront(static_cast<uint32_t>(outer + 8))) {
    ++counters_.encrypt_failed;
    return false;
  }
  *to = c->info.remote;
  ++counters_.encrypted;
  return true;
}

bool SoftwareDataPlane::Inbound(PacketBuf& pkt, const Endpoint& from, const Endpoint& local, uint8_t tos) {
  ++counters_.esp_in;
  if (!PrependOuterIpUdp(pkt, from.addr, from.port, local.addr, local.port, tos)) {
    ++counters_.decrypt_failed;
    return false;
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
