// Driver: bring-up, SA window, ring pairs, event ring, health.
#include "driver/driver.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <set>

#include "driver/sa_params.h"
#include "host/common/secure_bytes.h"
#include "host/sa/suite.h"

namespace ipsec::driver {

namespace reg = card::reg;
namespace field = card::field;
using card::CplStatus;

namespace {

std::string Hex(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof(b), "0x%08x", v);
  return b;
}

uint32_t LoadLe32(const std::byte* p) {
  return uint32_t{std::to_integer<uint8_t>(p[0])} | uint32_t{std::to_integer<uint8_t>(p[1])} << 8 |
         uint32_t{std::to_integer<uint8_t>(p[2])} << 16 | uint32_t{std::to_integer<uint8_t>(p[3])} << 24;
}

Status SaResultStatus(card::SaResult r, uint32_t index) {
  const std::string where = " (SA slot " + std::to_string(index) + ")";
  switch (r) {
    case card::SaResult::kOk: return OkStatus();
    case card::SaResult::kBusy: return UnavailableError("card: SA window busy" + where);
    case card::SaResult::kBadIndex: return OutOfRangeError("card: SA index beyond the table" + where);
    case card::SaResult::kBadParams: return InvalidArgumentError("card refused the SA parameters" + where);
    case card::SaResult::kUnsupported: return UnimplementedError("card does not support this SA" + where);
    case card::SaResult::kNotValid: return NotFoundError("card: no SA" + where);
  }
  return InternalError("card: unknown SA command result " + std::to_string(static_cast<int>(r)) + where);
}

}  // namespace

bool Capabilities::SupportsSuite(sa::Suite s) const {
  const uint32_t bit = static_cast<uint32_t>(ToCardSuite(s));
  return bit < 32 && ((suites >> bit) & 1) != 0;
}

std::optional<sa::DropReason> ToDropReason(CplStatus status, card::Dir dir) {
  const auto v = static_cast<uint8_t>(status);
  if (v < sa::kNumDropReasons) return static_cast<sa::DropReason>(v);
  switch (status) {
    case CplStatus::kBadSaIndex: return dir == card::Dir::kInbound ? sa::DropReason::kBadSpi : sa::DropReason::kMalformed;
    case CplStatus::kBadDescriptor:
    case CplStatus::kTooBig: return sa::DropReason::kMalformed;
    default: return std::nullopt;
  }
}

// One ring pair. Everything here is written by the queue's owner thread, except `fail_flag`
// (any thread: PollEvents/CheckHealth) and `failure` (guarded by failure_mu).
struct Driver::Queue {
  uint32_t index = 0;
  uint32_t log2 = 0;
  uint32_t mask = 0;
  DmaBuffer rq, cq;
  uint32_t reg_base = 0;  // RING_* registers of this pair
  // Host indices, free-running 16-bit: prod = next request to post, cons = next completion.
  uint16_t prod = 0;
  uint16_t cons = 0;
  bool failed = false;  // owner's view; set from fail_flag
  // What the driver remembers of each posted request, to check its completion against.
  struct Shadow {
    uint64_t user_data = 0;
    uint16_t buf_len = 0;
    card::Dir dir = card::Dir::kOutbound;
  };
  std::vector<Shadow> shadow;
  QueueStats stats;

  alignas(64) std::atomic<bool> fail_flag{false};
  mutable std::mutex failure_mu;
  Status failure;  // guarded by failure_mu
};

Driver::Driver(std::unique_ptr<Device> device, const DriverOptions& options)
    : device_(std::move(device)), options_(options) {}

Driver::~Driver() {
  // Quiesce the card before the rings' memory goes away: no error is actionable here.
  if (device_ == nullptr) return;
  (void)device_->Write32(reg::kCtrlCtrl, 0);
  for (auto& q : queues_) (void)device_->Write32(q->reg_base + reg::kRingCtrl, 0);
  (void)device_->Write32(reg::kEvqCtrl, 0);
  (void)device_->Write32(reg::kCtrlIrqMask, 0);
  // Keys must not outlive their owner on the card: a soft reset wipes every slot (key storage
  // included) and leaves the card idle. Waiting for READY is bounded by the register timeout; a
  // card that stopped answering fails the poll at once.
  if (options_.reset_on_close &&
      device_->Write32(reg::kCtrlCtrl, field::kCtrlCtrlSoftReset.Mask()).ok()) {
    (void)PollRegister(reg::kCtrlStatus, field::kCtrlStatusReady.Mask(), field::kCtrlStatusReady.Mask(),
                       "CTRL_STATUS.READY");
  }
  queues_.clear();
  evq_.Reset();
}

StatusOr<std::unique_ptr<Driver>> Driver::Open(std::unique_ptr<Device> device, const DriverOptions& options) {
  if (device == nullptr) return InvalidArgumentError("no device");
  auto d = std::unique_ptr<Driver>(new Driver(std::move(device), options));
  RETURN_IF_ERROR(d->BringUp());
  return d;
}

// ---- Bring-up ----

Status Driver::BringUp() {
  RETURN_IF_ERROR(CheckIdentity());
  RETURN_IF_ERROR(WalkBlocks());
  RETURN_IF_ERROR(ReadCapabilities());
  if (options_.soft_reset) {
    RETURN_IF_ERROR(device_->Write32(reg::kCtrlCtrl, field::kCtrlCtrlSoftReset.Mask()));
  }
  // After power-on or a soft reset the card wipes its SA table, then reports READY.
  auto ready = PollRegister(reg::kCtrlStatus, field::kCtrlStatusReady.Mask(), field::kCtrlStatusReady.Mask(),
                            "CTRL_STATUS.READY");
  if (!ready.ok()) return ready.status();
  // A reset may follow a new bitstream: the identity again.
  RETURN_IF_ERROR(CheckIdentity());
  if (options_.queues == 0 || options_.queues > caps_.ring_pairs) {
    return InvalidArgumentError("asked for " + std::to_string(options_.queues) + " queues, the card has " +
                                std::to_string(caps_.ring_pairs));
  }
  RETURN_IF_ERROR(SetUpEventRing());
  for (uint32_t q = 0; q < options_.queues; ++q) RETURN_IF_ERROR(SetUpQueue(q));
  uint32_t mask = 0;
  if (options_.irq) {
    mask = field::kCtrlIrqStatusEvent.Mask() | field::kCtrlIrqStatusQueueError.Mask() |
           field::kCtrlIrqStatusFatal.Mask() | field::kCtrlIrqStatusEventsLost.Mask();
  }
  RETURN_IF_ERROR(device_->Write32(reg::kCtrlIrqStatus, 0xffffffffu));
  RETURN_IF_ERROR(device_->Write32(reg::kCtrlIrqMask, mask));
  return device_->Write32(reg::kCtrlCtrl, field::kCtrlCtrlEnable.Mask());
}

Status Driver::CheckIdentity() {
  auto magic = device_->Read32(reg::kIdType);
  if (!magic.ok()) return UnavailableError("no card: ID_TYPE read failed: " + magic.status().message());
  if (*magic != reg::kIdBlockType) {
    return FailedPreconditionError(*magic == 0xffffffffu ? "no card: ID_TYPE reads all-ones (link down?)"
                                                         : "no card: ID_TYPE is " + Hex(*magic) + ", not the magic " +
                                                               Hex(reg::kIdBlockType));
  }
  auto version = device_->Read32(reg::kIdVersion);
  if (!version.ok()) return UnavailableError("ID_VERSION read failed: " + version.status().message());
  caps_.version_major = *version >> 16;
  caps_.version_minor = *version & 0xffff;
  if (caps_.version_major != card::kLayoutVersionMajor) {
    return FailedPreconditionError("card layout version " + std::to_string(caps_.version_major) + "." +
                                   std::to_string(caps_.version_minor) + ": this driver speaks major " +
                                   std::to_string(card::kLayoutVersionMajor));
  }
  return OkStatus();
}

Status Driver::WalkBlocks() {
  // Every block: TYPE, VERSION, NEXT. Layout v1 fixes where each block lives, so finding a known
  // type elsewhere is as bad as not finding it.
  struct Want {
    uint32_t type, base;
    const char* name;
    bool found;
  };
  std::array<Want, 4> want = {{{reg::kCtrlBlockType, reg::kCtrlBase, "CTRL", false},
                               {reg::kEvqBlockType, reg::kEvqBase, "EVQ", false},
                               {reg::kSaBlockType, reg::kSaBase, "SA", false},
                               {reg::kQueuesBlockType, reg::kQueuesBase, "QUEUES", false}}};
  std::set<uint32_t> seen;
  uint32_t offset = 0;
  for (;;) {
    if (offset % 4 != 0 || offset > card::kBarBytes - 12) return DataLossError("block list leaves the BAR at " + Hex(offset));
    if (!seen.insert(offset).second) return DataLossError("block list loops at " + Hex(offset));
    ASSIGN_OR_RETURN(uint32_t type, device_->Read32(offset));
    ASSIGN_OR_RETURN(uint32_t version, device_->Read32(offset + 4));
    ASSIGN_OR_RETURN(uint32_t next, device_->Read32(offset + 8));
    for (Want& w : want) {
      if (type != w.type || offset == 0) continue;
      if (offset != w.base) return DataLossError(std::string(w.name) + " block at " + Hex(offset) + ", expected " + Hex(w.base));
      if ((version >> 16) != 1) {
        return FailedPreconditionError(std::string(w.name) + " block version " + std::to_string(version >> 16) +
                                       " is not supported");
      }
      w.found = true;
    }
    // Unknown block types are skipped (a minor version may add them).
    if (next == 0) break;
    offset = next;
  }
  for (const Want& w : want) {
    if (!w.found) return DataLossError(std::string("card has no ") + w.name + " block");
  }
  return OkStatus();
}

Status Driver::ReadCapabilities() {
  Capabilities& c = caps_;
  ASSIGN_OR_RETURN(c.build_id, device_->Read32(reg::kIdBuildId));
  ASSIGN_OR_RETURN(c.build_date, device_->Read32(reg::kIdBuildDate));
  ASSIGN_OR_RETURN(c.features, device_->Read32(reg::kIdFeatures));
  ASSIGN_OR_RETURN(c.suites, device_->Read32(reg::kIdSuites));
  ASSIGN_OR_RETURN(c.sa_count, device_->Read32(reg::kIdCapSa));
  ASSIGN_OR_RETURN(c.max_replay_window, device_->Read32(reg::kIdCapReplay));
  ASSIGN_OR_RETURN(uint32_t engine, device_->Read32(reg::kIdCapEngine));
  ASSIGN_OR_RETURN(uint32_t queues, device_->Read32(reg::kIdCapQueues));
  ASSIGN_OR_RETURN(uint32_t packet, device_->Read32(reg::kIdCapPacket));
  ASSIGN_OR_RETURN(uint32_t records, device_->Read32(reg::kIdCapRecords));
  c.aes_lanes = field::kIdCapEngineAesLanes.Get(engine);
  c.datapath_bytes_log2 = field::kIdCapEngineDatapathBytesLog2.Get(engine);
  c.ring_pairs = field::kIdCapQueuesRingPairs.Get(queues);
  c.event_rings = field::kIdCapQueuesEventRings.Get(queues);
  c.max_ring_log2 = field::kIdCapQueuesMaxRingLog2.Get(queues);
  c.fetch_burst = field::kIdCapQueuesFetchBurst.Get(queues);
  c.max_pkt_bytes = field::kIdCapPacketMaxPktBytes.Get(packet);
  c.min_headroom = field::kIdCapPacketMinHeadroom.Get(packet);
  c.min_tailroom = field::kIdCapPacketMinTailroom.Get(packet);
  if (field::kIdCapRecordsReqDescBytes.Get(records) != card::ReqDesc::kBytes ||
      field::kIdCapRecordsCplBytes.Get(records) != card::Cpl::kBytes ||
      field::kIdCapRecordsEventBytes.Get(records) != card::Event::kBytes ||
      field::kIdCapRecordsSaParamBytes.Get(records) != card::SaParams::kBytes) {
    return FailedPreconditionError("card record sizes " + Hex(records) + " differ from this driver's");
  }
  if (c.sa_count == 0 || (c.sa_count & (c.sa_count - 1)) != 0) {
    return FailedPreconditionError("card SA count " + std::to_string(c.sa_count) + " is not a power of two");
  }
  if (c.ring_pairs == 0 || c.ring_pairs > reg::kRingMaxCount || c.max_ring_log2 < 4 || c.max_ring_log2 > 15 ||
      c.event_rings < 1) {
    return FailedPreconditionError("card queue capabilities " + Hex(queues) + " are out of range");
  }
  ASSIGN_OR_RETURN(uint32_t ring_count, device_->Read32(reg::kQueuesRingCount));
  ASSIGN_OR_RETURN(uint32_t stride, device_->Read32(reg::kQueuesRingStride));
  ASSIGN_OR_RETURN(uint32_t ring_offset, device_->Read32(reg::kQueuesRingOffset));
  if (ring_count != c.ring_pairs || stride != reg::kRingStride || reg::kQueuesBase + ring_offset != reg::kRingBase) {
    return FailedPreconditionError("QUEUES block disagrees with CAP_QUEUES or layout v1");
  }
  return OkStatus();
}

StatusOr<uint32_t> Driver::PollRegister(uint32_t offset, uint32_t mask, uint32_t want, const char* what) {
  const auto deadline = std::chrono::steady_clock::now() + options_.register_timeout;
  for (;;) {
    auto v = device_->Read32(offset);
    if (!v.ok()) return UnavailableError(std::string("card not answering while waiting for ") + what + ": " + v.status().message());
    if ((*v & mask) == want) return *v;
    if (std::chrono::steady_clock::now() >= deadline) {
      return UnavailableError(std::string("card timed out waiting for ") + what + " (" + Hex(*v) + ")");
    }
    if (device_->simulated()) device_->Step(options_.step_cycles);
  }
}

Status Driver::SetUpEventRing() {
  evq_log2_ = std::clamp<uint32_t>(options_.event_ring_log2, 4, caps_.max_ring_log2);
  ASSIGN_OR_RETURN(evq_, device_->AllocDma(size_t{card::Event::kBytes} << evq_log2_, 4096));
  std::memset(evq_.data(), 0, evq_.size());  // the phase rule needs a zeroed ring
  evq_.SyncAll(SyncDir::kToDevice);
  evq_cons_ = 0;
  const RegWrite w[] = {
      {reg::kEvqCtrl, 0},
      {reg::kEvqBaseLo, static_cast<uint32_t>(evq_.iova())},
      {reg::kEvqBaseHi, static_cast<uint32_t>(evq_.iova() >> 32)},
      {reg::kEvqCons, 0},
      {reg::kEvqCtrl, field::kEvqCtrlSizeLog2.Put(field::kEvqCtrlEnable.Mask() |
                                                     (options_.irq ? field::kEvqCtrlIrqEnable.Mask() : 0),
                                                 evq_log2_)},
  };
  return device_->WriteBatch(w);
}

Status Driver::SetUpQueue(uint32_t q) {
  auto queue = std::make_unique<Queue>();
  queue->index = q;
  queue->log2 = std::clamp<uint32_t>(options_.ring_log2, 4, caps_.max_ring_log2);
  queue->mask = (1u << queue->log2) - 1;
  queue->reg_base = reg::Ring(q, 0);
  queue->shadow.resize(size_t{1} << queue->log2);
  ASSIGN_OR_RETURN(queue->rq, device_->AllocDma(size_t{card::ReqDesc::kBytes} << queue->log2, 4096));
  ASSIGN_OR_RETURN(queue->cq, device_->AllocDma(size_t{card::Cpl::kBytes} << queue->log2, 4096));
  RETURN_IF_ERROR(EnableQueue(*queue));
  queues_.push_back(std::move(queue));
  return OkStatus();
}

Status Driver::EnableQueue(Queue& queue) {
  std::memset(queue.cq.data(), 0, queue.cq.size());  // the phase rule needs a zeroed ring
  queue.cq.SyncAll(SyncDir::kToDevice);
  queue.prod = queue.cons = 0;
  const uint32_t sizes = field::kRingCtrlCqSizeLog2.Put(field::kRingCtrlRqSizeLog2.Put(0, queue.log2), queue.log2);
  const uint32_t irq = options_.irq ? field::kRingCtrlIrqEnable.Mask() : 0;
  const uint32_t b = queue.reg_base;
  const RegWrite w[] = {
      {b + reg::kRingCtrl, sizes},
      {b + reg::kRingRqBaseLo, static_cast<uint32_t>(queue.rq.iova())},
      {b + reg::kRingRqBaseHi, static_cast<uint32_t>(queue.rq.iova() >> 32)},
      {b + reg::kRingCqBaseLo, static_cast<uint32_t>(queue.cq.iova())},
      {b + reg::kRingCqBaseHi, static_cast<uint32_t>(queue.cq.iova() >> 32)},
      {b + reg::kRingIrqMod, 0},
      {b + reg::kRingCtrl, sizes | irq | field::kRingCtrlEnable.Mask()},
  };
  RETURN_IF_ERROR(device_->WriteBatch(w));
  ASSIGN_OR_RETURN(uint32_t status, device_->Read32(b + reg::kRingStatus));
  if (field::kRingStatusError.Get(status)) {
    return FailedPreconditionError(
        "ring pair " + std::to_string(queue.index) + " refused its configuration: " +
        std::string(card::QueueErrorName(static_cast<card::QueueError>(field::kRingStatusErrorCode.Get(status)))));
  }
  return OkStatus();
}

uint32_t Driver::ring_size(uint32_t q) const { return q < queues_.size() ? 1u << queues_[q]->log2 : 0; }

// ---- SA window ----

Status Driver::RunSaCommand(uint32_t index, card::SaCmd op) {
  RETURN_IF_ERROR(device_->Write32(reg::kSaCmd, field::kSaCmdOp.Put(0, static_cast<uint32_t>(op))));
  ASSIGN_OR_RETURN(uint32_t status, PollRegister(reg::kSaStatus, field::kSaStatusBusy.Mask(), 0, "SA_STATUS.BUSY"));
  return SaResultStatus(static_cast<card::SaResult>(field::kSaStatusResult.Get(status)), index);
}

Status Driver::InstallSa(uint32_t index, const sa::SaConfig& config, const sa::KeyMaterial& keys) {
  if (index >= caps_.sa_count) return OutOfRangeError("SA index " + std::to_string(index) + " beyond the card's table");
  if (config.direction == sa::Direction::kInbound && index != InboundSlot(config.spi)) {
    return InvalidArgumentError("inbound SA with SPI " + Hex(config.spi) + " must use slot " +
                                std::to_string(InboundSlot(config.spi)));
  }
  if (!caps_.SupportsSuite(config.suite)) {
    return UnimplementedError("card does not implement suite " + std::string(sa::SuiteName(config.suite)));
  }
  RETURN_IF_ERROR(keys.ValidateFor(config.suite));
  ASSIGN_OR_RETURN(card::SaParams params, ToSaParams(config));
  const sa::SuiteInfo& info = sa::GetSuiteInfo(config.suite);
  if (info.enc_key_len > 4 * reg::kSaKeyCount || info.salt_len != 4 || info.auth_key_len != 0) {
    return UnimplementedError("suite needs key material the SA window cannot carry");
  }
  const card::SaParams::Bytes raw = params.Encode();

  // Staged in one batch: index, record, key, salt. The key words live only in this array, which
  // is wiped before returning, whatever happens.
  constexpr size_t kWrites = 1 + reg::kSaParamCount + reg::kSaKeyCount + 1;
  std::array<RegWrite, kWrites> w{};
  size_t n = 0;
  w[n++] = {reg::kSaIndex, index};
  for (uint32_t k = 0; k < reg::kSaParamCount; ++k) w[n++] = {reg::SaParam(k), LoadLe32(&raw[4 * k])};
  const std::span<const std::byte> key = keys.enc_key.span();
  for (uint32_t k = 0; k < reg::kSaKeyCount; ++k) {
    std::array<std::byte, 4> word{};
    for (uint32_t b = 0; b < 4; ++b) {
      if (4 * k + b < info.enc_key_len) word[b] = key[4 * k + b];
    }
    w[n++] = {reg::SaKey(k), LoadLe32(word.data())};
    SecureZero(word.data(), word.size());
  }
  w[n++] = {reg::kSaSalt, LoadLe32(key.data() + info.enc_key_len)};

  std::lock_guard lock(sa_mu_);
  Status s = [&]() -> Status {
    RETURN_IF_ERROR(PollRegister(reg::kSaStatus, field::kSaStatusBusy.Mask(), 0, "SA_STATUS.BUSY").status());
    RETURN_IF_ERROR(device_->WriteBatch(std::span<const RegWrite>(w.data(), n)));
    RETURN_IF_ERROR(RunSaCommand(index, card::SaCmd::kWrite));
    return OkStatus();
  }();
  SecureZero(w.data(), sizeof(w));
  return s;
}

Status Driver::DeleteSa(uint32_t index) {
  if (index >= caps_.sa_count) return OutOfRangeError("SA index " + std::to_string(index) + " beyond the card's table");
  std::lock_guard lock(sa_mu_);
  RETURN_IF_ERROR(PollRegister(reg::kSaStatus, field::kSaStatusBusy.Mask(), 0, "SA_STATUS.BUSY").status());
  RETURN_IF_ERROR(device_->Write32(reg::kSaIndex, index));
  return RunSaCommand(index, card::SaCmd::kDelete);
}

StatusOr<SaCardCounters> Driver::ReadSaCounters(uint32_t index) {
  if (index >= caps_.sa_count) return OutOfRangeError("SA index " + std::to_string(index) + " beyond the card's table");
  std::lock_guard lock(sa_mu_);
  RETURN_IF_ERROR(PollRegister(reg::kSaStatus, field::kSaStatusBusy.Mask(), 0, "SA_STATUS.BUSY").status());
  RETURN_IF_ERROR(device_->Write32(reg::kSaIndex, index));
  RETURN_IF_ERROR(RunSaCommand(index, card::SaCmd::kReadCounters));
  SaCardCounters c;
  ASSIGN_OR_RETURN(uint32_t status, device_->Read32(reg::kSaStatus));
  c.valid = field::kSaStatusValid.Get(status) != 0;
  const auto read64 = [&](uint32_t lo) -> StatusOr<uint64_t> {
    ASSIGN_OR_RETURN(uint32_t l, device_->Read32(lo));
    ASSIGN_OR_RETURN(uint32_t h, device_->Read32(lo + 4));
    return uint64_t{h} << 32 | l;
  };
  ASSIGN_OR_RETURN(c.packets, read64(reg::kSaCntPacketsLo));
  ASSIGN_OR_RETURN(c.bytes, read64(reg::kSaCntBytesLo));
  ASSIGN_OR_RETURN(c.auth_failed, read64(reg::kSaCntAuthFailLo));
  ASSIGN_OR_RETURN(c.replay, read64(reg::kSaCntReplayLo));
  ASSIGN_OR_RETURN(c.other_drops, read64(reg::kSaCntOtherLo));
  ASSIGN_OR_RETURN(c.seq, read64(reg::kSaSeqLo));
  ASSIGN_OR_RETURN(uint32_t state, device_->Read32(reg::kSaState));
  c.soft_expired = field::kSaStateSoftExpired.Get(state) != 0;
  c.hard_expired = field::kSaStateHardExpired.Get(state) != 0;
  c.seq_exhausted = field::kSaStateSeqExhausted.Get(state) != 0;
  return c;
}

StatusOr<card::SaParams> Driver::ReadSaParams(uint32_t index) {
  if (index >= caps_.sa_count) return OutOfRangeError("SA index " + std::to_string(index) + " beyond the card's table");
  std::lock_guard lock(sa_mu_);
  RETURN_IF_ERROR(PollRegister(reg::kSaStatus, field::kSaStatusBusy.Mask(), 0, "SA_STATUS.BUSY").status());
  RETURN_IF_ERROR(device_->Write32(reg::kSaIndex, index));
  RETURN_IF_ERROR(RunSaCommand(index, card::SaCmd::kReadParams));
  card::SaParams::Bytes raw{};
  for (uint32_t k = 0; k < reg::kSaParamCount; ++k) {
    ASSIGN_OR_RETURN(uint32_t v, device_->Read32(reg::SaParam(k)));
    for (uint32_t b = 0; b < 4; ++b) raw[4 * k + b] = std::byte(v >> (8 * b));
  }
  return card::SaParams::Decode(raw);
}

// ---- Data path ----

size_t Driver::Submit(uint32_t q, std::span<const Packet> packets) {
  Queue& queue = *queues_[q];
  if (queue.fail_flag.load(std::memory_order_acquire)) queue.failed = true;
  if (queue.failed || packets.empty()) return 0;
  const uint32_t size = queue.mask + 1;
  const uint32_t mask = queue.mask;
  const uint32_t in_flight = card::RingDistance(queue.prod, queue.cons);
  size_t n = std::min<size_t>(packets.size(), size - in_flight);
  queue.stats.ring_full += packets.size() - n;
  // The loop works on locals (ring base, shadow array, producer index) and stores the index
  // back once: the descriptor and shadow stores could otherwise alias the queue's fields.
  const uint16_t first = queue.prod;
  uint16_t prod = first;
  std::byte* const rq = queue.rq.data();
  Queue::Shadow* const shadow = queue.shadow.data();
  for (size_t i = 0; i < n; ++i) {
    const Packet& p = packets[i];
    // A buffer the descriptor cannot describe is not accepted (nor is anything after it).
    if (p.buf.capacity > 0xffff || p.buf.offset > p.buf.capacity || p.buf.length > p.buf.capacity - p.buf.offset) {
      n = i;
      break;
    }
    card::ReqDesc d;
    d.buf_addr = p.iova;
    d.buf_len = static_cast<uint16_t>(p.buf.capacity);
    d.pkt_offset = static_cast<uint16_t>(p.buf.offset);
    d.pkt_len = static_cast<uint16_t>(p.buf.length);
    d.dir = p.dir;
    d.sa_valid = p.dir == card::Dir::kOutbound || p.sa_valid;
    d.irq = p.irq;
    d.sa_index = p.sa_index;
    d.user_data = p.user_data;
    const uint32_t slot = prod & mask;
    d.Encode(std::span<std::byte, card::ReqDesc::kBytes>(rq + size_t{slot} * card::ReqDesc::kBytes,
                                                         card::ReqDesc::kBytes));
    shadow[slot] = {p.user_data, static_cast<uint16_t>(p.buf.capacity), p.dir};
    prod = static_cast<uint16_t>(prod + 1);
  }
  if (n == 0) return 0;
  queue.prod = prod;
  // Make the descriptors visible (one or two ranges when the burst wraps), then one doorbell.
  const uint32_t s0 = first & mask;
  const uint32_t run = std::min<uint32_t>(static_cast<uint32_t>(n), size - s0);
  queue.rq.Sync(SyncDir::kToDevice, size_t{s0} * card::ReqDesc::kBytes, size_t{run} * card::ReqDesc::kBytes);
  if (run < n) queue.rq.Sync(SyncDir::kToDevice, 0, (n - run) * card::ReqDesc::kBytes);
  std::atomic_thread_fence(std::memory_order_release);
  Status s = device_->Write32(queue.reg_base + reg::kRingRqProd, queue.prod);
  queue.stats.doorbells++;
  queue.stats.submitted += n;
  if (!s.ok()) FailQueue(q, UnavailableError("doorbell write failed: " + s.message()));
  return n;
}

size_t Driver::DrainAborted(Queue& queue, std::span<Completion> out) {
  size_t n = 0;
  while (n < out.size() && queue.cons != queue.prod) {
    const Queue::Shadow& sh = queue.shadow[card::RingSlot(queue.cons, queue.log2)];
    Completion& c = out[n++];
    c = Completion{};
    c.user_data = sh.user_data;
    c.dir = sh.dir;
    c.sa_index = 0xFFFFFF;
    c.status = CplStatus::kInternal;
    c.aborted = true;
    queue.cons = static_cast<uint16_t>(queue.cons + 1);
  }
  queue.stats.aborted += n;
  queue.stats.completed += n;
  return n;
}

size_t Driver::Poll(uint32_t q, std::span<Completion> out) {
  Queue& queue = *queues_[q];
  if (queue.fail_flag.load(std::memory_order_acquire)) queue.failed = true;
  if (queue.failed) return DrainAborted(queue, out);
  const uint32_t log2 = queue.log2;
  const uint32_t mask = queue.mask;
  const uint32_t size = mask + 1;
  const uint16_t prod = queue.prod;  // only Submit (this thread) moves it
  // The loop works on locals and stores the consumer index back once (the completion stores
  // could otherwise alias the queue's fields and force a reload per completion).
  uint16_t cons = queue.cons;
  std::byte* const cq = queue.cq.data();
  const Queue::Shadow* const shadow = queue.shadow.data();
  const uint32_t max_pkt_bytes = caps_.max_pkt_bytes;
  size_t n = 0;
  size_t bad = 0;
  bool stepped = false;
  // One sync per poll for every slot this poll may read (two ranges when they wrap), not one per
  // completion: on XRT each sync is a call into the runtime.
  const auto sync_pending = [&] {
    const uint32_t want = std::min<uint32_t>(static_cast<uint16_t>(prod - cons),
                                             static_cast<uint32_t>(std::min<size_t>(out.size() - n, size)));
    if (want == 0) return;
    const uint32_t first = cons & mask;
    const uint32_t run = std::min(want, size - first);
    queue.cq.Sync(SyncDir::kFromDevice, size_t{first} * card::Cpl::kBytes, size_t{run} * card::Cpl::kBytes);
    if (run < want) queue.cq.Sync(SyncDir::kFromDevice, 0, size_t{want - run} * card::Cpl::kBytes);
  };
  sync_pending();
  while (n < out.size() && cons != prod) {
    const uint32_t slot_index = cons & mask;
    std::byte* slot = cq + size_t{slot_index} * card::Cpl::kBytes;
    // The phase rule: the byte holding PHASE is read with acquire, then the record.
    const std::byte last = std::atomic_ref<std::byte>(slot[card::Cpl::kBytes - 1]).load(std::memory_order_acquire);
    const bool phase = (std::to_integer<uint8_t>(last) >> 7) != 0;
    if (phase != card::ExpectedPhase(cons, log2)) {
      // Nothing new. A simulated card only moves when stepped: step once and look again.
      if (device_->simulated() && !stepped) {
        device_->Step(options_.step_cycles);
        stepped = true;
        sync_pending();
        continue;
      }
      break;
    }
    const card::Cpl c = card::Cpl::Decode(std::span<const std::byte, card::Cpl::kBytes>(slot, card::Cpl::kBytes));
    const Queue::Shadow& sh = shadow[slot_index];
    // Completions come in request order: this one must be for request `cons`, as posted.
    if (c.desc_index != cons || c.user_data != sh.user_data || c.dir != sh.dir) {
      queue.cons = cons;
      queue.stats.bad_completions++;
      FailQueue(q, DataLossError("ring pair " + std::to_string(q) + ": completion for descriptor " +
                                 std::to_string(c.desc_index) + " where " + std::to_string(cons) +
                                 " was expected (or its user data or direction differ)"));
      queue.failed = true;
      break;
    }
    Completion& r = out[n++];
    r.user_data = c.user_data;
    r.seq = c.seq;
    r.spi = c.spi;
    r.sa_index = c.sa_index;
    r.out_offset = c.out_offset;
    r.out_len = c.out_len;
    r.next_header = c.next_header;
    r.dir = c.dir;
    r.status = c.status;
    r.aborted = false;
    if (c.status == CplStatus::kOk &&
        (c.out_len == 0 || uint32_t{c.out_offset} + c.out_len > sh.buf_len || c.out_len > max_pkt_bytes)) [[unlikely]] {
      // The card claims an output outside the buffer: fail this packet, not the ring.
      ++bad;
      r.status = CplStatus::kInternal;
      r.aborted = true;
    }
    cons = static_cast<uint16_t>(cons + 1);
  }
  queue.cons = cons;
  queue.stats.bad_completions += bad;
  queue.stats.aborted += bad;
  if (n > 0) {
    queue.stats.completed += n;
    if (!queue.failed) {
      Status s = device_->Write32(queue.reg_base + reg::kRingCqCons, cons);
      queue.stats.cq_releases++;
      if (!s.ok()) FailQueue(q, UnavailableError("CQ_CONS write failed: " + s.message()));
    }
  }
  return n;
}

uint32_t Driver::Outstanding(uint32_t q) const {
  const Queue& queue = *queues_[q];
  return card::RingDistance(queue.prod, queue.cons);
}

Status Driver::ArmQueue(uint32_t q) {
  Queue& queue = *queues_[q];
  return device_->Write32(queue.reg_base + reg::kRingCqCons,
                          field::kRingCqConsArm.Put(field::kRingCqConsIndex.Put(0, queue.cons), 1));
}

const QueueStats& Driver::queue_stats(uint32_t q) const { return queues_[q]->stats; }

Status Driver::queue_status(uint32_t q) const {
  const Queue& queue = *queues_[q];
  std::lock_guard lock(queue.failure_mu);
  return queue.failure;
}

void Driver::FailQueue(uint32_t q, Status why) {
  if (q >= queues_.size()) return;
  Queue& queue = *queues_[q];
  {
    std::lock_guard lock(queue.failure_mu);
    if (queue.failure.ok()) queue.failure = std::move(why);
  }
  queue.fail_flag.store(true, std::memory_order_release);
}

void Driver::FailAllQueues(const Status& why) {
  for (uint32_t q = 0; q < queues_.size(); ++q) FailQueue(q, why);
}

Status Driver::RecoverQueue(uint32_t q) {
  Queue& queue = *queues_[q];
  if (queue.fail_flag.load(std::memory_order_acquire)) queue.failed = true;
  if (!queue.failed) return OkStatus();
  if (queue.cons != queue.prod) {
    return FailedPreconditionError("poll the queue's aborted requests before recovering it");
  }
  const uint32_t b = queue.reg_base;
  RETURN_IF_ERROR(device_->Write32(b + reg::kRingCtrl, 0));
  RETURN_IF_ERROR(PollRegister(b + reg::kRingStatus, field::kRingStatusBusy.Mask(), 0, "RING_STATUS.BUSY").status());
  RETURN_IF_ERROR(EnableQueue(queue));
  {
    std::lock_guard lock(queue.failure_mu);
    queue.failure = OkStatus();
  }
  queue.fail_flag.store(false, std::memory_order_release);
  queue.failed = false;
  return OkStatus();
}

// ---- Events and health ----

size_t Driver::PollEvents(std::span<card::Event> out) {
  size_t n = 0;
  while (n < out.size()) {
    const uint32_t slot_index = card::RingSlot(evq_cons_, evq_log2_);
    std::byte* slot = evq_.data() + size_t{slot_index} * card::Event::kBytes;
    evq_.Sync(SyncDir::kFromDevice, size_t{slot_index} * card::Event::kBytes, card::Event::kBytes);
    const std::byte last = std::atomic_ref<std::byte>(slot[card::Event::kBytes - 1]).load(std::memory_order_acquire);
    if (((std::to_integer<uint8_t>(last) >> 7) != 0) != card::ExpectedPhase(evq_cons_, evq_log2_)) break;
    const card::Event e = card::Event::Decode(std::span<const std::byte, card::Event::kBytes>(slot, card::Event::kBytes));
    if (e.kind == card::EventType::kQueueError) {
      FailQueue(e.ring, DataLossError("ring pair " + std::to_string(e.ring) + " stopped: " +
                                      std::string(card::QueueErrorName(static_cast<card::QueueError>(e.code)))));
    } else if (e.kind == card::EventType::kFatal) {
      FailAllQueues(InternalError("card reported a fatal error; soft reset required"));
    }
    out[n++] = e;
    evq_cons_ = static_cast<uint16_t>(evq_cons_ + 1);
  }
  if (n > 0) (void)device_->Write32(reg::kEvqCons, evq_cons_);
  return n;
}

Status Driver::CheckHealth() {
  auto magic = device_->Read32(reg::kIdType);
  if (!magic.ok() || *magic != reg::kIdBlockType) {
    Status lost = UnavailableError(magic.ok() ? "card lost: ID_TYPE reads " + Hex(*magic)
                                              : "card lost: " + magic.status().message());
    FailAllQueues(lost);
    return lost;
  }
  ASSIGN_OR_RETURN(uint32_t status, device_->Read32(reg::kCtrlStatus));
  if (field::kCtrlStatusFatal.Get(status)) {
    Status fatal = InternalError("card reports a fatal error; soft reset required");
    FailAllQueues(fatal);
    return fatal;
  }
  ASSIGN_OR_RETURN(uint32_t errors, device_->Read32(reg::kCtrlQueueError));
  // Only the ring pairs this driver runs matter.
  errors &= queues_.size() >= 32 ? 0xffffffffu : (1u << queues_.size()) - 1;
  for (uint32_t q = 0; q < queues_.size(); ++q) {
    if ((errors >> q) & 1) {
      ASSIGN_OR_RETURN(uint32_t rs, device_->Read32(queues_[q]->reg_base + reg::kRingStatus));
      FailQueue(q, DataLossError("ring pair " + std::to_string(q) + " stopped: " +
                                 std::string(card::QueueErrorName(
                                     static_cast<card::QueueError>(field::kRingStatusErrorCode.Get(rs))))));
    }
  }
  return errors == 0 ? OkStatus() : DataLossError("ring pairs in the error state: " + Hex(errors));
}

}  // namespace ipsec::driver
