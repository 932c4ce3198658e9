// Runtime: the host side above the driver (issue 6). It owns the SA lifecycle across the card, the
// SPD, a burst data path with one queue per thread, and recovery from card faults.
//
//   - SAs (AddSa / DeleteSa / UpdateEndpoints / SwitchOutbound): checked against the card's
//     capabilities first (CheckCardFit); an SA the card cannot take runs on the software path
//     (esp::EspSa) and the reason is recorded. Inbound SAs live in the slot SPI mod CAP_SA
//     (AllocateSpi hands out SPIs whose slot is free). Deletes and replacements drain: the SA stops
//     taking packets at once and leaves the card once every packet already submitted with it has
//     completed.
//   - Tunnels are SA bundles: the SPD's protect rules name a tunnel; the tunnel has one outbound SA
//     (switched atomically on rekey) and any number of inbound SAs (found by SPI).
//   - Data path (RuntimeQueue, one per driver ring pair, owned by one thread): Submit classifies a
//     burst (outbound: SPD on the inner packet, or the SA the caller names; inbound: the SPI, or the
//     SPD for cleartext), sends card SAs' packets to the driver and runs software SAs' packets
//     through their EspSa; Poll returns one stream of completions with a status per packet.
//     Nothing is allocated and no lock is taken per packet (a software SA's mutex is taken once per
//     run of its packets).
//   - Control (Service, one control thread, called periodically): card events (lifetimes, sequence
//     overflow) and counter reads become RuntimeEvents; drains and NAT reinstalls progress; card
//     health is checked (Driver::CheckHealth, CTRL_STATUS.ENABLED for a card that reset behind our
//     back, queue failures); after a fault the card is brought up again on the same Device and every
//     SA is reinstalled with its sequence state (docs/runtime.md: what can and cannot be restored).
//
// Thread safety: control methods may be called from any thread (one mutex); Service and the
// event callback run on the caller's thread. queue(q) methods belong to that queue's owner thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "driver/device.h"
#include "driver/driver.h"
#include "driver/packet_pool.h"
#include "host/crypto/primitives.h"
#include "host/runtime/card_fit.h"
#include "host/runtime/sa_database.h"
#include "host/runtime/spd.h"

namespace ipsec::runtime {

// What to do with an inbound card SA whose replay window cannot be restored on the card after a
// reset (the contract has no way to set a window's top: docs/runtime.md).
enum class InboundRestore : uint8_t {
  kSoftware,  // move it to the software path with the window's top restored (default)
  kCard,      // reinstall it on the card with an empty window (replays of old packets accepted once)
};

enum class RuntimeEventType : uint8_t {
  kSoftLifetime,        // rekey now
  kHardLifetime,        // the SA refuses packets: delete it
  kSeqOverflow,         // outbound sequence space exhausted: rekey
  kCardLost,            // detail: why; pending card work completes with kDeviceError
  kCardRecovered,       // the card is back; SAs reinstalled
  kCardRecoveryFailed,  // bring-up failed (retried by later Service calls); detail: why
  kSaMovedToSoftware,   // a card SA now runs in software; detail: why
  kSaRemoved,           // a deleted/replaced SA has drained and left the card
};
std::string_view RuntimeEventName(RuntimeEventType t);

struct RuntimeEvent {
  RuntimeEventType type;
  SaHandle sa = kNoSa;
  uint32_t spi = 0;
  sa::Direction direction = sa::Direction::kOutbound;
  uint64_t info = 0;  // bytes so far (lifetimes), last sequence number (overflow)
  std::string detail;
};

struct RuntimeOptions {
  std::string device_spec = "soft";        // OpenDevice() spec; ignored when `device` is set
  std::unique_ptr<driver::Device> device;  // an already opened device (tests, benches)
  bool use_card = true;                    // false: every SA in software, no device opened
  driver::DriverOptions driver;            // queues, ring sizes
  uint32_t max_sas = 65536;                // host database capacity
  uint32_t max_tunnels = 65536;            // SA bundles (a fixed table the data path reads)
  uint16_t natt_port = 4500;
  PolicyAction spd_default = PolicyAction::kDiscard;  // no rule matched
  InboundRestore inbound_restore = InboundRestore::kSoftware;
  crypto::Provider provider = crypto::Provider::kAuto;  // software SAs
  uint32_t counter_poll_every = 16;                     // Service calls between card counter sweeps (0: never)
  std::function<void(const RuntimeEvent&)> on_event;    // else events queue for TakeEvents()
};

// One packet handed to RuntimeQueue::Submit. The buffer must be DMA memory of the runtime's device
// (CreatePacketPool) for packets that may go to the card, with MIN_HEADROOM/MIN_TAILROOM around
// outbound packets; it belongs to the runtime until its completion is polled.
struct RtPacket {
  PacketBuf buf;
  uint64_t iova = 0;
  sa::Direction dir = sa::Direction::kOutbound;
  SaHandle sa = kNoSa;  // outbound: use this SA instead of the SPD
  uint64_t user_data = 0;
};

enum class RtStatus : uint8_t {
  kOk,           // processed (protected or decapsulated); `buf` is the output
  kBypass,       // SPD bypass: untouched
  kDiscard,      // SPD discard (or no rule and the default is discard, or cleartext under protect)
  kMissingSa,    // protect rule whose tunnel has no outbound SA, or unknown inbound SPI
  kDropped,      // the SA dropped it: see `reason`
  kDeviceError,  // the card failed or was lost before the packet completed; not processed
};
std::string_view RtStatusName(RtStatus s);

struct RtCompletion {
  uint64_t user_data = 0;
  PacketBuf buf;  // kOk: the output; otherwise the buffer as submitted
  RtStatus status = RtStatus::kOk;
  sa::DropReason reason = sa::DropReason::kOk;
  SaHandle sa = kNoSa;
  uint64_t seq = 0;   // card: assigned (outbound) / inferred (inbound); software: 0
  bool card = false;  // went through the card
};

// A statistics counter written by one thread (a queue's owner) and read by any (reports, metrics):
// a relaxed atomic whose increments are a plain load and store, no locked instruction.
class StatCounter {
 public:
  StatCounter() = default;
  StatCounter(const StatCounter& o) : v_(o.load()) {}
  StatCounter& operator=(const StatCounter& o) {
    v_.store(o.load(), std::memory_order_relaxed);
    return *this;
  }
  uint64_t load() const { return v_.load(std::memory_order_relaxed); }
  operator uint64_t() const { return load(); }  // NOLINT: reads like the plain counter it replaces
  StatCounter& operator+=(uint64_t n) {
    v_.store(load() + n, std::memory_order_relaxed);
    return *this;
  }
  StatCounter& operator++() { return *this += 1; }
  uint64_t operator++(int) {
    const uint64_t old = load();
    *this += 1;
    return old;
  }

 private:
  std::atomic<uint64_t> v_{0};
};

// Per-queue counters; the owner thread writes them, any thread may read (or copy) them.
struct QueueCounters {
  StatCounter submitted, completed, to_card, to_software, bypass, discard, no_sa, dropped, device_errors, retries;
  std::array<StatCounter, sa::kNumDropReasons> drops;  // `dropped` by sa::DropReason
};

class RuntimeQueue {
 public:
  static constexpr size_t kMaxBurst = 64;

  // Accepts a prefix of `pkts` (fewer when the ring or the completion FIFO is full, or an SA is
  // paused for a NAT update): the rest are the caller's to retry.
  size_t Submit(std::span<const RtPacket> pkts);
  // Completions for accepted packets, each exactly once. Order: per path (card, software) in
  // submission order; the two paths interleave.
  size_t Poll(std::span<RtCompletion> out);
  // Accepted and not yet polled.
  uint64_t outstanding() const { return accepted_ - polled_; }
  const QueueCounters& counters() const { return counters_; }

 private:
  friend class Runtime;
  struct Shadow {
    uint64_t user_data;
    PacketBuf buf;
    SaHandle sa;
    bool valid;
  };
  RuntimeQueue(Runtime* rt, uint32_t index, uint32_t ring_size);
  void PushLocal(const RtCompletion& c);
  size_t LocalFree() const { return local_.size() - static_cast<size_t>(l_head_ - l_tail_); }
  void FlushCard(driver::Driver* drv);
  void RunSoftware(SaRecord* r, sa::Direction dir);
  void Quiesce(uint64_t recovery);
  void MapCardCompletion(const driver::Completion& c, RtCompletion* out);
  void Fabricate(const Shadow& sh, RtStatus status, sa::DropReason reason);
  // Sequence numbers seen in completions, folded into the SA's seq_seen once per run of one SA.
  void NoteSeq(SaRecord* r, uint64_t seq) {
    if (r != seq_rec_) FlushSeq();
    seq_rec_ = r;
    if (seq > seq_max_) seq_max_ = seq;
  }
  void FlushSeq();

  Runtime* const rt_;
  const uint32_t q_;
  // Card requests in flight: driver user_data is the shadow index.
  std::vector<Shadow> shadow_;
  uint64_t sh_head_ = 0, sh_tail_ = 0, sh_mask_ = 0;
  // Completions produced on the host (software path, policy, errors).
  std::vector<RtCompletion> local_;
  uint64_t l_head_ = 0, l_tail_ = 0, l_mask_ = 0;
  uint64_t generation_ = 0;
  uint64_t accepted_ = 0, polled_ = 0;
  // Scratch for one burst.
  std::array<driver::Packet, kMaxBurst> card_batch_{};
  std::array<Shadow, kMaxBurst> card_shadow_{};
  size_t card_n_ = 0;
  std::array<driver::Completion, kMaxBurst> dcpl_{};
  std::array<uint64_t, kMaxBurst> sw_user_{};
  std::array<PacketBuf, kMaxBurst> sw_bufs_{};
  std::array<PacketBuf*, kMaxBurst> sw_ptrs_{};
  std::array<sa::DropReason, kMaxBurst> sw_status_{};
  size_t sw_n_ = 0;
  SaRecord* sw_sa_ = nullptr;
  SaRecord* seq_rec_ = nullptr;
  uint64_t seq_max_ = 0;
  QueueCounters counters_;
  // Shared with the control thread.
  alignas(64) std::atomic<uint64_t> epoch_{0};  // odd while inside Submit/Poll
  std::atomic<uint64_t> card_submitted_{0}, card_completed_{0};
  std::atomic<uint64_t> quiesced_for_{0};  // the recovery this queue has quiesced for
};

struct SaOptions {
  uint32_t tunnel = 0;          // attach to this tunnel (outbound: becomes its SA if it has none)
  bool force_software = false;  // never on the card
};

struct SaInfo {
  SaHandle handle = kNoSa;
  uint32_t spi = 0;
  sa::Direction direction = sa::Direction::kOutbound;
  SaState state = SaState::kFree;
  Placement placement = Placement::kNone;
  uint32_t card_slot = 0;
  CardFit refusal;                  // software placement: why not the card
  uint64_t packets = 0, bytes = 0;  // over every incarnation (card counters as last read + software)
  uint64_t seq = 0;                 // outbound: next sequence number as far as known; inbound: highest authenticated
  bool replay_window_reset = false;
  uint32_t tunnel = 0;  // 0: none
  sa::SaConfig config;  // as installed (keys are never copied out)
  // Drops by reason as far as the SA's current path counts them: software, every reason; card,
  // auth_failed and replay, with the card's other drops (no reason) in card_other_drops.
  std::array<uint64_t, sa::kNumDropReasons> drops{};
  uint64_t card_other_drops = 0;
};

// A NAT mapping change (RFC 3948 / RFC 7296 §2.23): the peer's outer address and ports.
struct EndpointUpdate {
  std::optional<sa::IpAddress> tunnel_src, tunnel_dst;
  std::optional<sa::UdpEncap> udp_encap;
};

struct RuntimeStats {
  uint64_t card_faults = 0, recoveries = 0, sas_reinstalled = 0, sas_moved_to_software = 0;
  uint64_t events = 0, installs = 0, install_failures = 0;
};

class Runtime {
 public:
  static StatusOr<std::unique_ptr<Runtime>> Create(RuntimeOptions options);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // ---- Device and queues ----
  bool has_card() const { return device_ != nullptr; }
  bool card_up() const { return state_.load(std::memory_order_acquire) == kUp; }
  // "up", "recovering", "down" or "none" (no card), for reports.
  std::string_view card_state() const;
  // Why the card was last lost ("" when it never was).
  std::string last_fault();
  // caps(), read under the control mutex: safe from any thread (a recovery rereads them).
  driver::Capabilities CapsSnapshot();
  driver::Device* device() { return device_.get(); }  // the real device (test hooks); null without a card
  const driver::Capabilities& caps() const { return caps_; }
  uint32_t queue_count() const { return static_cast<uint32_t>(queues_.size()); }
  RuntimeQueue& queue(uint32_t q) { return *queues_[q]; }
  // Packet buffers in the device's DMA memory (FailedPrecondition without a card: use host
  // memory then, the software path ignores `iova`); they stay valid
  // across card resets, and must be destroyed before the runtime.
  StatusOr<driver::PacketPool> CreatePacketPool(uint32_t count, uint32_t buf_bytes);

  // ---- SPD and tunnels ----
  StatusOr<uint32_t> AddTunnel();
  Status RemoveTunnel(uint32_t tunnel);  // FailedPrecondition while SAs are attached
  StatusOr<uint32_t> AddPolicy(const SpdRule& rule);
  Status RemovePolicy(uint32_t id);

  // ---- SAs ----
  // A fresh inbound SPI (>= 256) whose card slot is free (any SPI when the card is full or absent).
  StatusOr<uint32_t> AllocateSpi();
  void ReleaseSpi(uint32_t spi);
  // Installs an SA: on the card when it fits, else in software (SaInfo::refusal says why).
  StatusOr<SaHandle> AddSa(const sa::SaConfig& config, sa::KeyMaterial keys, const SaOptions& options = {});
  // Makes `sa` (outbound, attached to `tunnel`) the tunnel's outbound SA in one atomic store; the
  // previous one drains and is deleted (hitless rekey).
  Status SwitchOutbound(uint32_t tunnel, SaHandle sa);
  // Unlinks the SA at once (no new packets) and deletes it when its in-flight packets completed.
  Status DeleteSa(SaHandle sa);
  // NAT mapping change. Outbound card SAs pause, drain and are rewritten with their sequence
  // number and lifetime usage carried over; software SAs are rebuilt with their state; inbound SAs
  // are rewritten only when the card checks what changed.
  Status UpdateEndpoints(SaHandle sa, const EndpointUpdate& update);
  StatusOr<SaInfo> GetSa(SaHandle sa);
  // Every SA in the database (any state but free), in handle order; card counters are read as in
  // GetSa (one SA command per card SA).
  std::vector<SaInfo> ListSas();
  SaDatabase& database() { return db_; }  // bulk loads (kParked records), benches

  // ---- Control ----
  // Events, counters, health, drains, recovery; call it periodically from one thread.
  Status Service();
  std::vector<RuntimeEvent> TakeEvents();
  RuntimeStats stats();
  // Pending drains/NAT reinstalls (0 when everything settled).
  size_t pending_retirements();

 private:
  friend class RuntimeQueue;
  class EventSink;
  enum : uint32_t { kUp = 0, kRecovering = 1, kDown = 2, kNoCard = 3 };

  struct Tunnel {
    bool used = false;
    std::atomic<SaHandle> outbound{kNoSa};
    std::vector<SaHandle> inbound;
  };
  // A drain: every packet submitted before it was opened has completed once it is done.
  struct DrainTicket {
    std::vector<uint64_t> epoch;
    std::vector<uint64_t> submitted;
    bool epochs_passed = false;
  };
  enum class RetireKind : uint8_t { kDelete, kNatReinstall, kFreeSpd };
  struct Retirement {
    RetireKind kind;
    SaHandle sa = kNoSa;
    std::unique_ptr<Spd> spd;
    DrainTicket ticket;
  };

  explicit Runtime(RuntimeOptions options);
  Status OpenDriver();
  DrainTicket OpenTicket();
  bool TicketDone(DrainTicket& t);
  void PublishSpd(std::unique_ptr<Spd> next);
  Status PlaceSa(SaRecord& r, bool force_software);
  Status PlaceInSoftware(SaRecord& r, const CardFit& why, uint64_t next_seq, uint64_t replay_top);
  Status InstallOnCard(SaRecord& r, uint32_t slot, uint64_t next_seq);
  sa::SaConfig ReinstallConfig(const SaRecord& r, uint64_t next_seq) const;
  uint64_t NextOutboundSeq(const SaRecord& r) const;
  uint64_t InboundTop(const SaRecord& r) const;
  SaInfo Describe(SaRecord& r);  // under mu_
  StatusOr<uint32_t> FreeOutboundSlot();
  void FinishRetirement(Retirement& ret);
  void Unlink(SaRecord& r);
  void HandleCardEvent(const card::Event& e);
  void SweepCounters();
  void CheckSaFlags(SaRecord& r);
  void BeginRecovery(const Status& why);
  Status TryRecover();
  void Emit(RuntimeEvent e);
  void QueueSoftwareEvent(SaHandle h, sa::SaEvent ev);
  void RequestRecovery() { fault_requested_.store(true, std::memory_order_release); }

  RuntimeOptions options_;
  std::unique_ptr<driver::Device> device_;  // the real device; outlives every Driver
  std::unique_ptr<driver::Driver> driver_;
  std::atomic<driver::Driver*> driver_ptr_{nullptr};
  driver::Capabilities caps_;
  std::atomic<uint32_t> state_{kNoCard};
  std::atomic<uint64_t> generation_{0};       // bumped by every successful bring-up
  std::atomic<uint64_t> recovery_{0};         // bumped by every detected fault
  std::atomic<bool> fault_requested_{false};  // a queue could not recover its ring
  std::string fault_reason_;
  bool down_reported_ = false;

  std::mutex mu_;  // control state below
  SaDatabase db_;
  std::vector<std::unique_ptr<RuntimeQueue>> queues_;
  std::unique_ptr<Tunnel[]> tunnels_;  // index = id - 1; fixed size, so the data path may read it
  uint32_t max_tunnels_ = 0, tunnel_count_ = 0;
  Spd spd_master_;
  std::atomic<const Spd*> spd_{nullptr};
  std::unique_ptr<Spd> spd_live_;
  std::vector<SaHandle> slot_owner_;    // card slot -> SA (kNoSa free)
  std::vector<uint8_t> slot_reserved_;  // an allocated, not yet installed inbound SPI names it
  std::vector<uint32_t> reserved_spis_;
  uint32_t spi_hi_ = 1, spi_cursor_ = 0;
  uint32_t next_out_slot_ = 0;
  std::vector<RuntimeEvent> pending_;  // emitted under mu_, delivered by Service
  std::vector<Retirement> retiring_;
  uint64_t service_calls_ = 0;
  RuntimeStats stats_;

  std::mutex ev_mu_;  // events from software SAs (data path threads) and for TakeEvents
  std::vector<RuntimeEvent> sw_events_;
  std::vector<RuntimeEvent> events_;
};

}  // namespace ipsec::runtime
