// CardTransform: the SaTransform behind `ipsec-pcap --device SPEC`. The packets go through the card
// driver (driver/driver.h) on the device OpenDevice(SPEC) opens — `soft`, `soft:<options>`, `sim`
// when the program registered it — instead of the software ESP path.
//
// Set-up (Create): opens the device, brings the card up with one ring pair big enough for a burst,
// and installs the SAs the same selection rules as MakeSaTransform pick (encap: the one outbound
// SA, into slot kOutboundSlot; decap: every inbound SA, into Driver::InboundSlot(spi)). Refused
// with InvalidArgument: AH SAs (the card does ESP only), suites the card does not implement, two
// inbound SPIs that share a card slot, and anything else the card's SA window refuses.
//
// Process: each packet is copied into a DMA buffer of a PacketPool allocated once (burst buffers,
// each with the card's CAP_PACKET headroom, largest packet and tailroom), the burst goes to the
// card with one Submit (more only when the ring is smaller than the burst), completions are
// polled until every request is back, and each output is copied back into its PacketBuf. Nothing
// is allocated per packet. The status of a completion maps to sa::DropReason with
// driver::ToDropReason; statuses with no DropReason (device errors: DMA errors, internal, and
// requests the driver aborted) are reported as kMalformed. Packets longer than the card's largest
// packet are not submitted and are reported as kMalformed, as the card reports `too_big`.
//
// If the card stops completing requests (nothing back for kStallTimeout), the outstanding packets
// are dropped as kMalformed, failure() says why and every later burst is dropped the same way
// without touching the card (its buffers may still belong to it). ProcessPcap turns that into an
// error.
//
// Reports: the card's per-SA counters (ReadSaCounters): packets, bytes, auth_failed and replay map
// to themselves; the card's one `other_drops` counter is split by the reasons the completions of
// that SA carried (any remainder the completions do not explain is counted as kMalformed). Drops
// no SA owns (unknown SPI, not ESP, device errors) are reported with spi 0, as the software path
// does.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "driver/driver.h"
#include "driver/packet_pool.h"
#include "host/tools/sa_transform.h"

namespace ipsec::tools {

class CardTransform final : public SaTransform {
 public:
  // The outbound SA's slot in the card's SA table.
  static constexpr uint32_t kOutboundSlot = 1;
  // How long Process waits for the card without any completion before giving up on it.
  static constexpr std::chrono::seconds kStallTimeout{60};

  // `sas` as for MakeSaTransform; `max_burst` is the largest span Process will be given.
  // Errors: InvalidArgument (SA set, AH, suite, slot clash, the card refusing an SA), NotFound
  // (unknown backend, message lists the known ones), or what bring-up reports.
  [[nodiscard]] static StatusOr<std::unique_ptr<CardTransform>> Create(Operation op, std::vector<sa::SaFile> sas,
                                                                       std::string_view device_spec, size_t max_burst);
  ~CardTransform() override;

  size_t Process(std::span<PacketBuf* const> pkts, std::span<sa::DropReason> status) override;
  uint32_t MaxHeadroom() const override { return headroom_; }
  std::vector<SaReport> Reports() const override;
  // The card's crypto is not a host provider: kAuto. device_name() says what ran the packets.
  crypto::Provider provider() const override { return crypto::Provider::kAuto; }

  // "card:<backend>", e.g. "card:soft" or "card:sim".
  std::string device_name() const { return "card:" + backend_; }
  // OK while the card answers; otherwise why the transform stopped using it.
  const Status& failure() const { return failure_; }

 private:
  struct CardSa {
    sa::SaConfig config;
    uint32_t slot = 0;
    // Host-side tallies from the completions: packets and inner bytes the card returned ok, the
    // drop reasons it reported for this SA, and drops the host decided after an ok completion.
    uint64_t packets = 0, bytes = 0;
    std::array<uint64_t, sa::kNumDropReasons> card_drops{};
    std::array<uint64_t, sa::kNumDropReasons> host_drops{};
    uint64_t host_dropped_packets = 0, host_dropped_bytes = 0;  // ok on the card, dropped here
  };

  CardTransform() = default;
  size_t ProcessChunk(std::span<PacketBuf* const> pkts, std::span<sa::DropReason> status);
  // Handles one completion of the current burst; false for one that names no pending request.
  bool Complete(const driver::Completion& c, std::span<PacketBuf* const> pkts, std::span<sa::DropReason> status);
  static sa::DropReason ToDropReasonOrMalformed(const driver::Completion& c);
  CardSa* FindSlot(uint32_t slot);

  Operation op_ = Operation::kEncap;
  std::string backend_;
  // Declared before the pool: the pool's DMA memory is released before the driver (and its
  // device) goes away.
  std::unique_ptr<driver::Driver> driver_;
  std::unique_ptr<driver::PacketPool> pool_;
  uint32_t headroom_ = 0;  // before each packet in its DMA buffer (CAP_PACKET.MIN_HEADROOM)
  uint32_t max_pkt_ = 0;   // largest input packet the card takes
  std::vector<CardSa> sas_;
  sa::SaCounters unmatched_;  // drops no SA owns

  // Per-burst scratch, sized once.
  std::vector<driver::Packet> reqs_;
  std::vector<uint32_t> req_pkt_;  // request k carries pkts[req_pkt_[k]]
  std::vector<uint8_t> req_done_;  // request k's completion has been handled
  std::vector<driver::Completion> cpls_;
  Status failure_;
};

}  // namespace ipsec::tools
