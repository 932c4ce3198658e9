// The AH back end of SaTransform: AhSa outbound, and inbound dispatch by SPI (PeekAhSpi), run by run
// as InboundSad does for ESP. Built only when the ipsec_ah library is part of the build.
#include <string>
#include <unordered_map>
#include <utility>

#include "host/ah/ah_sa.h"
#include "host/common/ip.h"
#include "host/tools/sa_transform.h"

namespace ipsec::tools {
namespace {

SaReport ReportOf(const ah::AhSa& sa) {
  const sa::SaConfig& c = sa.config();
  return SaReport{c.spi, c.direction, c.protocol, std::string(sa::SuiteName(c.suite)), sa.counters()};
}

class AhTransform final : public SaTransform {
 public:
  AhTransform(Operation op, std::vector<std::unique_ptr<ah::AhSa>> sas) : op_(op), sas_(std::move(sas)) {
    for (const auto& sa : sas_) by_spi_.emplace(sa->config().spi, sa.get());
  }

  size_t Process(std::span<PacketBuf* const> pkts, std::span<sa::DropReason> status) override {
    if (op_ == Operation::kEncap) return sas_.front()->ProcessOutbound(pkts, status);
    const size_t n = std::min(pkts.size(), status.size());
    size_t ok = 0;
    size_t i = 0;
    while (i < n) {
      ah::AhSa* sa = Lookup(*pkts[i], &status[i]);
      if (sa == nullptr) {
        ++unmatched_.drops[static_cast<size_t>(status[i])];
        ++i;
        continue;
      }
      size_t j = i + 1;
      while (j < n) {
        auto spi = ah::PeekAhSpi(pkts[j]->span());
        if (!spi.ok() || *spi != sa->config().spi) break;
        ++j;
      }
      ok += sa->ProcessInbound(pkts.subspan(i, j - i), status.subspan(i, j - i));
      i = j;
    }
    return ok;
  }

  uint32_t MaxHeadroom() const override {
    // AH header (at most 40 bytes with IV and alignment) plus an outer IPv6 header.
    return static_cast<uint32_t>(sas_.front()->ah_len(true) + ip::kIpv6Header);
  }

  std::vector<SaReport> Reports() const override {
    std::vector<SaReport> r;
    for (const auto& sa : sas_) r.push_back(ReportOf(*sa));
    if (unmatched_.total_drops() != 0) {
      r.push_back(SaReport{0, sa::Direction::kInbound, sa::Protocol::kAh, "(no SA)", unmatched_});
    }
    return r;
  }
  crypto::Provider provider() const override { return sas_.front()->provider(); }

 private:
  ah::AhSa* Lookup(const PacketBuf& p, sa::DropReason* slot) {
    auto spi = ah::PeekAhSpi(p.span());
    if (!spi.ok()) {
      const ip::IpInfo info = ip::ParseIp(p.span(), /*allow_trailing=*/true);
      const bool maybe_ah = info.version == 6 || info.protocol == ip::kProtoAh;
      *slot = maybe_ah ? sa::DropReason::kMalformed : sa::DropReason::kNotEsp;
      return nullptr;
    }
    auto it = by_spi_.find(*spi);
    if (it == by_spi_.end()) {
      *slot = sa::DropReason::kBadSpi;
      return nullptr;
    }
    return it->second;
  }

  const Operation op_;
  std::vector<std::unique_ptr<ah::AhSa>> sas_;
  std::unordered_map<uint32_t, ah::AhSa*> by_spi_;
  sa::SaCounters unmatched_;
};

}  // namespace

bool AhSupported() { return true; }

StatusOr<std::unique_ptr<SaTransform>> MakeAhTransform(Operation op, std::vector<sa::SaFile> sas,
                                                       crypto::Provider provider) {
  std::vector<std::unique_ptr<ah::AhSa>> made;
  std::unordered_map<uint32_t, bool> spis;
  for (sa::SaFile& f : sas) {
    const uint32_t spi = f.config.spi;
    if (!spis.emplace(spi, true).second) {
      return InvalidArgumentError("decap: inbound SPI " + std::to_string(spi) + " appears twice");
    }
    auto sa = ah::AhSa::Create(f.config, std::move(f.keys), provider);
    if (!sa.ok()) return InvalidArgumentError("SA " + std::to_string(spi) + ": " + sa.status().message());
    made.push_back(std::move(sa).value());
  }
  return std::unique_ptr<SaTransform>(std::make_unique<AhTransform>(op, std::move(made)));
}

}  // namespace ipsec::tools
