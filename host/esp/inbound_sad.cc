// Inbound SA lookup and dispatch.
#include "host/esp/inbound_sad.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace ipsec::esp {
namespace {
// The destination an inbound SA is bound to: its tunnel destination in tunnel mode, else none.
const sa::IpAddress* BoundDst(const EspSa* sa) {
  const sa::SaConfig& c = sa->config();
  return (c.mode == sa::Mode::kTunnel && c.tunnel_dst) ? &*c.tunnel_dst : nullptr;
}
bool SameDst(const sa::IpAddress* a, const sa::IpAddress* b) {
  if (a == nullptr || b == nullptr) return a == b;
  return *a == *b;
}
}  // namespace

Status InboundSad::Add(EspSa* sa) {
  if (sa->config().direction != sa::Direction::kInbound) return InvalidArgumentError("not an inbound SA");
  auto& list = by_spi_[sa->config().spi];
  for (EspSa* other : list) {
    if (SameDst(BoundDst(other), BoundDst(sa))) {
      return AlreadyExistsError("inbound SPI " + std::to_string(sa->config().spi) + " in use");
    }
  }
  // Bound SAs first, so the first destination match found is the longest match.
  if (BoundDst(sa) != nullptr) {
    list.insert(list.begin(), sa);
  } else {
    list.push_back(sa);
  }
  ++count_;
  return OkStatus();
}

Status InboundSad::Remove(uint32_t spi, const sa::IpAddress* dst) {
  auto it = by_spi_.find(spi);
  if (it != by_spi_.end()) {
    auto& list = it->second;
    auto pos = std::find_if(list.begin(), list.end(), [&](EspSa* s) { return SameDst(BoundDst(s), dst); });
    if (pos != list.end()) {
      list.erase(pos);
      if (list.empty()) by_spi_.erase(it);
      --count_;
      return OkStatus();
    }
  }
  return NotFoundError("no inbound SA with SPI " + std::to_string(spi));
}

EspSa* InboundSad::Find(uint32_t spi, const sa::IpAddress* dst) const {
  auto it = by_spi_.find(spi);
  if (it == by_spi_.end()) return nullptr;
  for (EspSa* s : it->second) {
    const sa::IpAddress* bound = BoundDst(s);
    if (bound == nullptr || (dst != nullptr && *bound == *dst)) return s;
  }
  return nullptr;
}

EspSa* InboundSad::Lookup(Bytes pkt, const EspLocation& loc) const {
  auto it = by_spi_.find(loc.spi);
  if (it == by_spi_.end()) return nullptr;
  const auto& list = it->second;
  if (list.size() == 1 && BoundDst(list[0]) == nullptr) return list[0];  // the common case
  sa::IpAddress dst;
  dst.v6 = loc.ip_version == 6;
  std::memcpy(dst.bytes.data(), pkt.data() + (dst.v6 ? 24 : 16), dst.size());
  return Find(loc.spi, &dst);
}

size_t InboundSad::ProcessInbound(std::span<PacketBuf* const> pkts, std::span<sa::DropReason> status,
                                  std::span<EspSa*> sa_out) {
  const size_t n = std::min(pkts.size(), status.size());
  size_t ok = 0;
  size_t i = 0;
  while (i < n) {
    auto loc = LocateEspAny(pkts[i]->span(), udp_port_);
    EspSa* sa = nullptr;
    if (!loc.ok()) {
      const sa::DropReason r = loc.status().code() == StatusCode::kNotFound ? sa::DropReason::kNotEsp
                                                                             : sa::DropReason::kMalformed;
      status[i] = r;
      ++counters_.drops[static_cast<size_t>(r)];
    } else if ((sa = Lookup(pkts[i]->span(), *loc)) == nullptr) {
      status[i] = sa::DropReason::kBadSpi;
      ++counters_.drops[static_cast<size_t>(sa::DropReason::kBadSpi)];
    }
    if (sa == nullptr) {
      if (!sa_out.empty()) sa_out[i] = nullptr;
      ++i;
      continue;
    }
    // Extend the run while the next packets belong to the same SA.
    size_t j = i + 1;
    while (j < n) {
      auto next = LocateEspAny(pkts[j]->span(), udp_port_);
      if (!next.ok() || next->spi != loc->spi || Lookup(pkts[j]->span(), *next) != sa) break;
      ++j;
    }
    ok += sa->ProcessInbound(pkts.subspan(i, j - i), status.subspan(i, j - i));
    if (!sa_out.empty()) {
      for (size_t k = i; k < j; ++k) sa_out[k] = sa;
    }
    i = j;
  }
  return ok;
}

}  // namespace ipsec::esp
