// Driver: brings a card up through a Device and runs its SA window, ring pairs and event ring
// (docs/device-interface.md; driver/README.md has the walkthrough).
//
// Bring-up (Open): ID block magic and layout major version, block-list walk (loops, offsets
// outside the BAR, unknown major block versions refused), capabilities and record sizes, soft
// reset and READY, the event ring, N ring pairs (request + completion ring in DMA memory, sizes
// from the capabilities), interrupt mask, CTRL.ENABLE.
//
// Data path, per ring pair ("queue"), after DPDK's enqueue/dequeue burst:
//   Submit(q, packets)  writes one 32-byte descriptor per packet into the request ring and rings
//                       the doorbell once per burst (one MMIO write). It may accept fewer packets
//                       than given (ring full); the rest are the caller's to retry.
//   Poll(q, out)        reads completions by the phase bit (never a card register), checks each
//                       against what was submitted, and releases the slots with one CQ_CONS write
//                       per burst. Per-packet results are card::CplStatus values; 0-15 are
//                       numerically sa::DropReason.
// Nothing is allocated and no lock is taken per packet.
//
// Errors never crash and never lose a packet: a completion that names the wrong descriptor, a
// ring in the error state (queue_error event or CTRL_QUEUE_ERROR), a fatal card or one that stops
// answering (register access failure or lost magic, see CheckHealth) put the queue in the failed
// state; its outstanding requests then come back from Poll as `aborted` completions, and
// RecoverQueue() (or a new Open after a reset) brings it back. A completion with an impossible
// output window is failed alone (aborted, counted in bad_completions).
//
// Thread safety: each queue is owned by one thread (Submit, Poll, ArmQueue, RecoverQueue, stats).
// SA commands may come from any thread (serialised by a lock: one SA window). PollEvents and
// CheckHealth belong to one control thread; they may flag queues as failed, which the owning
// thread notices at its next Submit/Poll (one atomic load per burst).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "driver/device.h"
#include "host/common/packet_buf.h"
#include "host/common/status.h"
#include "host/sa/sa_config.h"
#include "host/sa/sa_stats.h"
#include "ipsec_accel/card_regs.h"

namespace ipsec::driver {

// What the ID block says about the card.
struct Capabilities {
  uint32_t version_major = 0, version_minor = 0;
  uint32_t build_id = 0, build_date = 0;
  uint32_t features = 0;  // ID_FEATURES bits (card::field::kIdFeatures*)
  uint32_t suites = 0;    // bit n: card::Suite value n
  uint32_t sa_count = 0;
  uint32_t max_replay_window = 0;
  uint32_t ring_pairs = 0, event_rings = 0, max_ring_log2 = 0, fetch_burst = 0;
  uint32_t max_pkt_bytes = 0, min_headroom = 0, min_tailroom = 0;
  uint32_t aes_lanes = 0, datapath_bytes_log2 = 0;

  bool SupportsSuite(sa::Suite s) const;
  bool HasFeature(card::Field f) const { return f.Get(features) != 0; }
};

struct DriverOptions {
  uint32_t queues = 1;          // ring pairs to set up (at most CAP_QUEUES.RING_PAIRS)
  uint32_t ring_log2 = 10;      // request and completion ring size (clamped to 4 .. MAX_RING_LOG2)
  uint32_t event_ring_log2 = 8; // clamped likewise
  bool soft_reset = true;       // reset the card during bring-up (the SA table is wiped)
  // Soft-reset the card when the Driver closes, after quiescing it, so that no SA and no key
  // outlives the process that installed it (the card wipes every slot's key storage). Off only
  // for a driver that hands the card over with its SAs (a test, a debugger).
  bool reset_on_close = true;
  bool irq = false;             // RING_CTRL.IRQ_ENABLE on every ring, global IRQ mask
  // How long a register poll (reset, SA command) may take before the card counts as lost.
  std::chrono::microseconds register_timeout{200'000};
  // Simulated devices: cycles to step per poll iteration, and per empty Poll().
  uint64_t step_cycles = 64;
};

// One request. `buf` describes the buffer in host memory: base = its first byte (at `iova` on
// the bus), capacity = its size (<= 65535), and the input packet at [offset, offset + length).
// Outbound packets need CAP_PACKET.MIN_HEADROOM / MIN_TAILROOM around them to be sure of room.
// The buffer belongs to the card until the packet's completion has been polled.
struct Packet {
  PacketBuf buf;
  uint64_t iova = 0;
  card::Dir dir = card::Dir::kOutbound;
  uint32_t sa_index = 0;  // outbound: the SA; inbound: the SA's slot when sa_valid
  bool sa_valid = false;  // inbound only: name the slot instead of the SPI lookup
  bool irq = false;       // interrupt on completion, regardless of moderation
  uint64_t user_data = 0; // returned in the completion
};

struct Completion {
  uint64_t user_data = 0;
  uint64_t seq = 0;        // outbound: assigned; inbound: inferred (ESN high half included)
  uint32_t spi = 0;
  uint32_t sa_index = 0;   // 0xFFFFFF when no SA was found
  uint16_t out_offset = 0; // the output packet in the buffer (ok only)
  uint16_t out_len = 0;
  uint8_t next_header = 0; // inbound: ESP next header
  card::Dir dir = card::Dir::kOutbound;
  card::CplStatus status = card::CplStatus::kOk;
  // The driver failed this request (queue failed, card lost, or a completion it could not
  // trust); `status` is then kInternal and the buffer contents are unspecified.
  bool aborted = false;

  bool ok() const { return status == card::CplStatus::kOk && !aborted; }
};

// The software path's reason for a completion status (docs/device-interface.md, "Status codes"):
// 0-15 map to themselves, bad_sa_index to bad_spi inbound and malformed outbound,
// bad_descriptor and too_big to malformed; DMA errors and internal have none (device errors).
std::optional<sa::DropReason> ToDropReason(card::CplStatus status, card::Dir dir);

struct QueueStats {
  uint64_t submitted = 0;
  uint64_t completed = 0;        // completions returned by Poll (aborted included)
  uint64_t doorbells = 0;        // RQ_PROD writes
  uint64_t cq_releases = 0;      // CQ_CONS writes
  uint64_t ring_full = 0;        // packets not accepted because the ring was full
  uint64_t bad_completions = 0;  // completions that failed the driver's checks
  uint64_t aborted = 0;          // requests failed by the driver
};

// SA counters as the card keeps them (read_counters).
struct SaCardCounters {
  bool valid = false;
  uint64_t packets = 0, bytes = 0, auth_failed = 0, replay = 0, other_drops = 0;
  uint64_t seq = 0;  // outbound: next sequence number; inbound: highest authenticated
  bool soft_expired = false, hard_expired = false, seq_exhausted = false;
};

class Driver {
 public:
  // Takes the device; every DMA buffer the driver allocates is released before it.
  static StatusOr<std::unique_ptr<Driver>> Open(std::unique_ptr<Device> device, const DriverOptions& options = {});
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  Device& device() { return *device_; }
  const Capabilities& caps() const { return caps_; }
  uint32_t queue_count() const { return static_cast<uint32_t>(queues_.size()); }
  uint32_t ring_size(uint32_t q) const;

  // ---- SA table (any thread; serialised) ----
  // The slot an inbound SA with this SPI must use (SPI mod CAP_SA).
  uint32_t InboundSlot(uint32_t spi) const { return spi & (caps_.sa_count - 1); }
  // Installs (or replaces) the SA in `index`. Inbound SAs must use InboundSlot(spi). Keys go to
  // the write-only key registers only; the staging copies are wiped. Errors: OutOfRange (index),
  // InvalidArgument (config, keys, slot), Unimplemented (suite or feature not on the card),
  // Unavailable (card not answering).
  Status InstallSa(uint32_t index, const sa::SaConfig& config, const sa::KeyMaterial& keys);
  // Invalidates the slot; the card wipes its key. Idempotent.
  Status DeleteSa(uint32_t index);
  StatusOr<SaCardCounters> ReadSaCounters(uint32_t index);
  // NotFound for an empty slot.
  StatusOr<card::SaParams> ReadSaParams(uint32_t index);

  // ---- Data path (the queue's owner thread) ----
  size_t Submit(uint32_t q, std::span<const Packet> packets);
  size_t Poll(uint32_t q, std::span<Completion> out);
  // Requests submitted and not yet returned by Poll.
  uint32_t Outstanding(uint32_t q) const;
  // Arms the ring's interrupt (CQ_CONS with ARM); the NAPI loop polls once more after this.
  Status ArmQueue(uint32_t q);
  // Why the queue failed (OK while it works).
  Status queue_status(uint32_t q) const;
  const QueueStats& queue_stats(uint32_t q) const;
  // Recovery after a failure, once Poll has returned every outstanding request: disable, wait
  // for BUSY to drop, zero the completion ring, re-enable (indices restart at 0).
  Status RecoverQueue(uint32_t q);

  // ---- Events and health (one control thread) ----
  // Reads new event records by the phase bit and releases them with one EVQ_CONS write.
  // queue_error and fatal events fail the queues they concern.
  size_t PollEvents(std::span<card::Event> out);
  // Register-level check, off the fast path: the magic is still there (else the card is lost),
  // CTRL_STATUS.FATAL is clear, and no ring is in the error state. Failing queues as needed.
  Status CheckHealth();
  // Waits for interrupts (Device::WaitIrq).
  StatusOr<uint64_t> WaitIrq(std::chrono::microseconds timeout) { return device_->WaitIrq(timeout); }

 private:
  struct Queue;
  explicit Driver(std::unique_ptr<Device> device, const DriverOptions& options);

  Status BringUp();
  Status CheckIdentity();
  Status WalkBlocks();
  Status ReadCapabilities();
  Status SetUpEventRing();
  Status SetUpQueue(uint32_t q);
  Status EnableQueue(Queue& queue);
  StatusOr<uint32_t> PollRegister(uint32_t offset, uint32_t mask, uint32_t want, const char* what);
  Status RunSaCommand(uint32_t index, card::SaCmd op);
  void FailQueue(uint32_t q, Status why);
  void FailAllQueues(const Status& why);
  size_t DrainAborted(Queue& queue, std::span<Completion> out);

  std::unique_ptr<Device> device_;
  const DriverOptions options_;
  Capabilities caps_;

  std::mutex sa_mu_;  // guards the SA window registers (one command at a time)

  // Event ring: owned by the control thread.
  DmaBuffer evq_;
  uint32_t evq_log2_ = 0;
  uint16_t evq_cons_ = 0;

  std::vector<std::unique_ptr<Queue>> queues_;
};

}  // namespace ipsec::driver
