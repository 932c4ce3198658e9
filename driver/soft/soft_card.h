// SoftCard: the card of docs/device-interface.md, in C++, over the software ESP path. It is the
// `soft` Device backend: the driver cannot tell it from the RTL except by speed.
//
// What it models, per the contract:
//   - the register file of card_regs.h: ID block with capabilities (from SoftCardOptions), CTRL
//     (enable, soft reset with the SA table wipe, IRQ status/mask, scratch, unmatched counter),
//     the SA window (staged parameter record, write-only key and salt registers that read 0 and
//     are wiped by every command, write/delete/read_counters/read_params), the event ring and the
//     ring pairs (bases, sizes, doorbell, consumer indices, status, error codes);
//   - DMA memory in process: AllocDma hands out host memory at made-up IOVAs above 4 GiB (never
//     reused), and every card access is translated and bounds-checked, so a stray address is a
//     DMA error (desc_fetch / cpl_write queue errors, dma_read_error completions), never UB;
//   - the engine: each request is processed in place by an esp::EspSa configured from the SA's
//     parameter record (one EspSa per slot, in the slot's direction), completions carry the phase
//     bit, SA events (soft/hard lifetime, sequence overflow) go to the event ring with the
//     contract's INFO values, and per-SA counters follow the card's split (packets, bytes,
//     auth_failed, replay, other).
//
// Inbound SA lookup: the SPI's slot (SPI mod CAP_SA) must hold a valid SA with that SPI, or the
// descriptor names the slot with SA_VALID (the SPI must still match). ESP in UDP is recognised by
// the SA: a UDP datagram whose first payload word is a SPI naming a UDP-encapsulated SA with that
// destination port is ESP; otherwise it is `bad_spi` when sent to port 4500 (RFC 3948) and
// `not_esp` elsewhere. IKE (non-ESP marker) and NAT keepalives are `not_esp`.
//
// When processing happens: with process_on_doorbell (the default) synchronously inside the
// Write32 of RING_RQ_PROD (and of RING_CQ_CONS / CTRL_CTRL.ENABLE when a stalled ring can move
// again), so completions are in memory when the doorbell write returns. Otherwise requests wait
// for Step(n), which processes up to n requests round-robin over the ring pairs; simulated()
// then returns true and the driver steps the card while it polls, as it will a Verilator model.
//
// Simplifications against the RTL (none visible to a correct driver): interrupt moderation fires
// once per processed batch on an armed ring; SA commands finish within the SA_CMD write (BUSY is
// never seen); a soft reset is over after `reset_busy_reads` reads of CTRL_STATUS.
//
// Thread safety: every Device call takes one card-wide lock, so driver queues on several threads
// may share the card; processing is serialised (the model is not about parallel speed).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "driver/device.h"
#include "host/crypto/primitives.h"
#include "host/esp/esp_sa.h"
#include "host/sa/sa_stats.h"
#include "ipsec_accel/card_regs.h"

namespace ipsec::driver {

struct SoftCardOptions {
  // Capabilities (the RTL parameters of the contract). sa_count must be a power of two; the
  // model accepts tables smaller than the contract's 4096 so that tests can fill them.
  uint32_t sa_count = card::kDefaultSaCount;
  uint32_t ring_pairs = card::kDefaultRingPairs;
  uint32_t max_ring_log2 = card::kDefaultMaxRingLog2;
  uint32_t fetch_burst = card::kDefaultFetchBurst;
  uint32_t max_replay_window = card::kDefaultMaxReplayWindow;
  uint32_t max_pkt_bytes = card::kDefaultMaxPktBytes;
  uint32_t min_headroom = card::kDefaultMinHeadroom;
  uint32_t min_tailroom = card::kDefaultMinTailroom;
  uint32_t suites = card::kDefaultSuites;
  uint32_t features = card::kDefaultFeatures;
  uint32_t build_id = 0;
  uint32_t build_date = 0;

  bool process_on_doorbell = true;  // false: requests wait for Step()
  uint32_t reset_busy_reads = 0;    // CTRL_STATUS reads that still show RESET_BUSY after a reset
  crypto::Provider provider = crypto::Provider::kAuto;
};

// "sa=1024,rings=4,ring_log2=10,step,reset_reads=3,provider=openssl" (any subset, any order).
StatusOr<SoftCardOptions> ParseSoftCardOptions(std::string_view args);

class SoftCard final : public Device {
 public:
  static StatusOr<std::unique_ptr<SoftCard>> Create(const SoftCardOptions& options = {});
  ~SoftCard() override;

  std::string_view backend() const override { return "soft"; }
  StatusOr<uint32_t> Read32(uint32_t offset) override;
  Status Write32(uint32_t offset, uint32_t value) override;
  StatusOr<uint64_t> WaitIrq(std::chrono::microseconds timeout) override;
  int irq_fd() const override { return irq_fd_; }
  bool simulated() const override { return !options_.process_on_doorbell; }
  void Step(uint64_t cycles) override;

  const SoftCardOptions& options() const { return options_; }

  // ---- Test hooks ----
  // Reads of `offset` return `value` (nullopt: back to normal), e.g. a lost magic or an unknown
  // layout version.
  void OverrideRegisterForTest(uint32_t offset, std::optional<uint32_t> value);
  // Register reads fail with Unavailable (a card that stopped answering).
  void SetUnresponsiveForTest(bool unresponsive);
  // An internal fault as the contract describes it (docs/device-interface.md, "Errors"):
  // CTRL_STATUS.FATAL and IRQ_STATUS.FATAL set, a `fatal` event with INFO = `info`, and no ring
  // moves again until a soft reset clears it.
  void RaiseFatalForTest(uint64_t info);
  // Card accesses to [iova, iova + bytes) fail as if unmapped.
  void FailDmaForTest(uint64_t iova, uint64_t bytes);
  // Called with each completion before the card writes it; may change any field.
  void SetCompletionTamperForTest(std::function<void(uint32_t ring, card::Cpl&)> tamper);
  // Moves the outbound SA in `slot` to `next_seq` (EspSa::RestoreState), so that sequence
  // number overflow is reachable in a test.
  Status SetNextSeqForTest(uint32_t slot, uint64_t next_seq);
  // Live DMA allocations.
  size_t dma_allocations() const;

 protected:
  StatusOr<DmaRegion> MapDma(size_t bytes, size_t align) override;
  void UnmapDma(const DmaRegion& region) override;

 private:
  class EventCollector;
  struct Slot;
  struct Ring;

  explicit SoftCard(const SoftCardOptions& options);

  // Everything below runs with mu_ held.
  uint32_t ReadLocked(uint32_t offset);
  void WriteLocked(uint32_t offset, uint32_t value);
  void WriteRing(uint32_t n, uint32_t reg, uint32_t value);
  uint32_t ReadRing(uint32_t n, uint32_t reg);
  void SoftReset();
  void RunSaCommand(card::SaCmd op);
  card::SaResult InstallSa(uint32_t index);
  void ClearSlot(Slot& slot);
  void EnableRing(uint32_t n);
  void RingError(uint32_t n, card::QueueError code, uint64_t address);
  // Processes up to `budget` requests of ring n; returns how many.
  uint64_t ProcessRing(uint32_t n, uint64_t budget);
  void ProcessAll(uint64_t budget);
  // One fetched request on its way through the engine.
  struct Work {
    card::Cpl cpl;
    PacketBuf pb;
    bool outbound_engine = false;  // checks passed; waits for its SA's burst
    uint32_t slot = 0;
  };
  // Decodes and checks a request; completes it (inbound, or any refusal) or leaves it for
  // RunOutbound (outbound_engine).
  void PrepareRequest(std::span<const std::byte, card::ReqDesc::kBytes> raw, Work& w);
  void PrepareOutbound(const card::ReqDesc& d, Work& w);
  // Seals consecutive outbound requests of one SA as one EspSa burst (sequence numbers in order).
  void RunOutbound(std::span<Work> run);
  void ProcessInbound(const card::ReqDesc& d, PacketBuf& pb, card::Cpl& c);
  void EmitSaEvents(uint32_t slot_index);
  void PostEvent(const card::Event& e);
  void FlushLostEvents();
  void RaiseIrqStatus(uint32_t bits);
  void SignalIrq(uint64_t vectors);
  std::byte* Translate(uint64_t iova, uint64_t bytes);

  const SoftCardOptions options_;
  mutable std::mutex mu_;

  // Registers that are plain storage (RW registers and staged values), indexed by offset / 4.
  std::vector<uint32_t> regs_;
  std::map<uint32_t, uint32_t> overrides_;
  bool unresponsive_ = false;
  bool fatal_ = false;  // CTRL_STATUS.FATAL: processing stopped until a soft reset
  bool enabled_ = false;
  uint32_t reset_busy_reads_left_ = 0;
  uint32_t irq_status_ = 0;
  uint64_t unmatched_ = 0;
  uint32_t unmatched_hi_latch_ = 0;

  // SA window.
  std::array<uint32_t, card::reg::kSaKeyCount> staged_key_{};
  uint32_t staged_salt_ = 0;
  uint32_t sa_status_ = 0;
  std::array<uint32_t, 12> sa_snapshot_{};  // CNT_* and SEQ_* words, in register order
  uint32_t sa_state_ = 0;
  std::vector<Slot> slots_;
  std::unique_ptr<EventCollector> collector_;

  // Event ring.
  uint16_t evq_prod_ = 0;
  uint16_t evq_cons_ = 0;
  uint32_t evq_lost_ = 0;         // saturating, EVQ_LOST
  uint64_t evq_lost_pending_ = 0; // since the last events_lost event

  std::vector<Ring> rings_;
  static constexpr size_t kBatch = 32;  // requests taken from a ring at a time
  std::array<Work, kBatch> work_;
  uint32_t next_ring_ = 0;  // round robin for Step()
  std::function<void(uint32_t, card::Cpl&)> tamper_;

  // DMA arena.
  struct Allocation {
    std::unique_ptr<std::byte[]> storage;
    std::byte* host = nullptr;
    size_t bytes = 0;
  };
  std::map<uint64_t, Allocation> dma_;  // by IOVA
  // The allocation Translate found last (packet buffers mostly share one pool): checked before
  // the map. Cleared whenever an allocation goes away.
  struct LastTranslation {
    uint64_t iova = 0;
    uint64_t bytes = 0;
    std::byte* host = nullptr;
  };
  LastTranslation last_dma_;
  uint64_t next_iova_ = 0x0000'0010'0000'0000ull;
  std::vector<std::pair<uint64_t, uint64_t>> dma_faults_;

  // Interrupts.
  int irq_fd_ = -1;
  uint64_t irq_pending_ = 0;
};

}  // namespace ipsec::driver
