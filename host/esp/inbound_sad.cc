// Inbound SA lookup and dispatch.
#include "host/esp/inbound_sad.h"

#include <string>

#include "host/esp/esp_packet.h"

namespace ipsec::esp {

Status InboundSad::Add(EspSa* sa) {
  if (sa->config().direction != sa::Direction::kInbound) return InvalidArgumentError("not an inbound SA");
  auto [it, inserted] = by_spi_.emplace(sa->config().spi, sa);
  if (!inserted) return AlreadyExistsError("inbound SPI " + std::to_string(sa->config().spi) + " in use");
  return OkStatus();
}

Status InboundSad::Remove(uint32_t spi) {
  if (by_spi_.erase(spi) == 0) return NotFoundError("no inbound SA with SPI " + std::to_string(spi));
  return OkStatus();
}

EspSa* InboundSad::Find(uint32_t spi) const {
  auto it = by_spi_.find(spi);
  return it == by_spi_.end() ? nullptr : it->second;
}

size_t InboundSad::ProcessInbound(std::span<PacketBuf* const> pkts, std::span<sa::DropReason> status,
                                  std::span<EspSa*> sa_out) {
  const size_t n = std::min(pkts.size(), status.size());
  size_t ok = 0;
  size_t i = 0;
  while (i < n) {
    auto loc = LocateEspAny(pkts[i]->span());
    EspSa* sa = nullptr;
    if (!loc.ok()) {
      const sa::DropReason r = loc.status().code() == StatusCode::kNotFound ? sa::DropReason::kNotEsp
                                                                             : sa::DropReason::kMalformed;
      status[i] = r;
      ++counters_.drops[static_cast<size_t>(r)];
    } else if ((sa = Find(loc->spi)) == nullptr) {
      status[i] = sa::DropReason::kBadSpi;
      ++counters_.drops[static_cast<size_t>(sa::DropReason::kBadSpi)];
    }
    if (sa == nullptr) {
      if (!sa_out.empty()) sa_out[i] = nullptr;
      ++i;
      continue;
    }
    // Extend the run while the next packets carry the same SPI.
    size_t j = i + 1;
    while (j < n) {
      auto next = LocateEspAny(pkts[j]->span());
      if (!next.ok() || next->spi != loc->spi) break;
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
