// SaTransform selection and the ESP back end (EspSa outbound, InboundSad inbound).
#include "host/tools/sa_transform.h"

#include <string>
#include <utility>

#include "host/esp/esp_sa.h"
#include "host/esp/inbound_sad.h"

namespace ipsec::tools {
namespace {

SaReport ReportOf(const esp::EspSa& sa) {
  const sa::SaConfig& c = sa.config();
  return SaReport{c.spi, c.direction, c.protocol, std::string(sa::SuiteName(c.suite)), sa.counters()};
}

class EspEncap final : public SaTransform {
 public:
  explicit EspEncap(std::unique_ptr<esp::EspSa> sa) : sa_(std::move(sa)) {}
  size_t Process(std::span<PacketBuf* const> pkts, std::span<sa::DropReason> status) override {
    return sa_->ProcessOutbound(pkts, status);
  }
  uint32_t MaxHeadroom() const override { return sa_->MaxHeadroom(); }
  std::vector<SaReport> Reports() const override { return {ReportOf(*sa_)}; }
  crypto::Provider provider() const override { return sa_->provider(); }

 private:
  std::unique_ptr<esp::EspSa> sa_;
};

class EspDecap final : public SaTransform {
 public:
  static StatusOr<std::unique_ptr<EspDecap>> Create(std::vector<sa::SaFile> sas, crypto::Provider provider) {
    auto t = std::unique_ptr<EspDecap>(new EspDecap());
    for (sa::SaFile& f : sas) {
      const uint32_t spi = f.config.spi;
      auto sa = esp::EspSa::Create(f.config, std::move(f.keys), provider);
      if (!sa.ok()) {
        return InvalidArgumentError("SA " + std::to_string(spi) + ": " + sa.status().message());
      }
      t->sas_.push_back(std::move(sa).value());
      Status added = t->sad_.Add(t->sas_.back().get());
      if (!added.ok()) return InvalidArgumentError("decap: " + added.message());
    }
    return t;
  }
  size_t Process(std::span<PacketBuf* const> pkts, std::span<sa::DropReason> status) override {
    return sad_.ProcessInbound(pkts, status);
  }
  uint32_t MaxHeadroom() const override { return 0; }
  std::vector<SaReport> Reports() const override {
    std::vector<SaReport> r;
    for (const auto& sa : sas_) r.push_back(ReportOf(*sa));
    if (sad_.counters().total_drops() != 0) {
      r.push_back(SaReport{0, sa::Direction::kInbound, sa::Protocol::kEsp, "(no SA)", sad_.counters()});
    }
    return r;
  }
  crypto::Provider provider() const override { return sas_.front()->provider(); }

 private:
  EspDecap() = default;
  std::vector<std::unique_ptr<esp::EspSa>> sas_;
  esp::InboundSad sad_;
};

}  // namespace

StatusOr<std::unique_ptr<SaTransform>> MakeSaTransform(Operation op, std::vector<sa::SaFile> sas,
                                                       crypto::Provider provider) {
  const sa::Direction want = op == Operation::kEncap ? sa::Direction::kOutbound : sa::Direction::kInbound;
  std::vector<sa::SaFile> use;
  for (sa::SaFile& f : sas) {
    if (f.config.direction == want) use.push_back(std::move(f));
  }
  if (use.empty()) {
    return InvalidArgumentError(op == Operation::kEncap ? "encap needs an SA with direction = out"
                                                        : "decap needs an SA with direction = in");
  }
  if (op == Operation::kEncap && use.size() != 1) {
    return InvalidArgumentError("encap needs exactly one SA with direction = out; got " +
                                std::to_string(use.size()));
  }
  const sa::Protocol proto = use.front().config.protocol;
  for (const sa::SaFile& f : use) {
    if (f.config.protocol != proto) {
      return InvalidArgumentError("decap: ESP and AH SAs cannot be mixed in one run");
    }
  }
  if (proto == sa::Protocol::kAh) {
    if (!AhSupported()) {
      return UnimplementedError("protocol = ah: this build of ipsec-pcap has no AH support (ipsec_ah missing)");
    }
    return MakeAhTransform(op, std::move(use), provider);
  }
  if (op == Operation::kEncap) {
    const uint32_t spi = use.front().config.spi;
    auto sa = esp::EspSa::Create(use.front().config, std::move(use.front().keys), provider);
    if (!sa.ok()) return InvalidArgumentError("SA " + std::to_string(spi) + ": " + sa.status().message());
    return std::unique_ptr<SaTransform>(std::make_unique<EspEncap>(std::move(sa).value()));
  }
  ASSIGN_OR_RETURN(auto decap, EspDecap::Create(std::move(use), provider));
  return std::unique_ptr<SaTransform>(std::move(decap));
}

}  // namespace ipsec::tools
