// SoftCard: register file, SA window, rings and the engine over esp::EspSa.
#include "driver/soft/soft_card.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstring>
#include <limits>
#include <new>

#include "driver/sa_params.h"
#include "host/common/bytes.h"
#include "host/common/ip.h"
#include "host/common/secure_bytes.h"
#include "host/esp/esp_packet.h"
#include "host/sa/suite.h"

namespace ipsec::driver {

using card::CplStatus;
namespace reg = card::reg;
namespace field = card::field;

// ---- Options ----

StatusOr<SoftCardOptions> ParseSoftCardOptions(std::string_view args) {
  SoftCardOptions o;
  while (!args.empty()) {
    const size_t comma = args.find(',');
    const std::string_view item = args.substr(0, comma);
    args = comma == std::string_view::npos ? std::string_view{} : args.substr(comma + 1);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    const std::string_view key = item.substr(0, eq);
    const std::string_view val = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
    uint32_t num = 0;
    const auto number = [&]() -> Status {
      auto [p, ec] = std::from_chars(val.data(), val.data() + val.size(), num);
      if (ec != std::errc() || p != val.data() + val.size()) {
        return InvalidArgumentError("soft card option '" + std::string(key) + "' needs a number");
      }
      return OkStatus();
    };
    if (key == "step") {
      o.process_on_doorbell = false;
    } else if (key == "provider") {
      ASSIGN_OR_RETURN(o.provider, crypto::ParseProvider(val));
    } else if (key == "sa") {
      RETURN_IF_ERROR(number());
      o.sa_count = num;
    } else if (key == "rings") {
      RETURN_IF_ERROR(number());
      o.ring_pairs = num;
    } else if (key == "ring_log2") {
      RETURN_IF_ERROR(number());
      o.max_ring_log2 = num;
    } else if (key == "reset_reads") {
      RETURN_IF_ERROR(number());
      o.reset_busy_reads = num;
    } else {
      return InvalidArgumentError("unknown soft card option '" + std::string(key) + "'");
    }
  }
  return o;
}

// ---- Internal state ----

struct SoftCard::Slot {
  bool valid = false;
  card::SaParams params;
  card::SaParams::Bytes raw{};
  std::unique_ptr<esp::EspSa> sa;
  uint64_t other_drops = 0;  // drops the card detects before the EspSa sees the packet
  uint64_t oversize_ok = 0;  // packets the EspSa counted as processed but the card refused (too_big)
  bool soft_expired = false;
  bool hard_expired = false;
  bool seq_exhausted = false;
};

struct SoftCard::Ring {
  uint32_t ctrl = 0;
  uint64_t rq_base = 0, cq_base = 0;
  uint32_t irq_mod = 0;
  uint16_t rq_prod = 0, rq_cons = 0, cq_prod = 0, cq_cons = 0;
  bool active = false;
  bool error = false;
  card::QueueError code = card::QueueError::kNone;
  bool armed = false;
  uint32_t rq_log2 = 0, cq_log2 = 0;
};

// Collects the events an EspSa raises while the card processes one packet; the card writes them
// to the event ring afterwards, when it knows the INFO values.
class SoftCard::EventCollector final : public sa::SaEventSink {
 public:
  void OnSaEvent(uint32_t /*spi*/, sa::Direction /*dir*/, sa::SaEvent event) override {
    if (count_ < events_.size()) events_[count_++] = event;
  }
  std::span<const sa::SaEvent> events() const { return {events_.data(), count_}; }
  void Clear() { count_ = 0; }

 private:
  std::array<sa::SaEvent, 8> events_{};
  size_t count_ = 0;
};

namespace {

constexpr uint32_t kNoSa = 0xFFFFFF;

uint32_t ReadLe32(const std::byte* p) {
  return uint32_t{U8(p[0])} | uint32_t{U8(p[1])} << 8 | uint32_t{U8(p[2])} << 16 | uint32_t{U8(p[3])} << 24;
}
void WriteLe32(std::byte* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = std::byte(v >> (8 * i));
}

bool IsRingReg(uint32_t offset, uint32_t rings, uint32_t* n, uint32_t* r) {
  if (offset < reg::kRingBase) return false;
  const uint32_t rel = offset - reg::kRingBase;
  if (rel / reg::kRingStride >= rings) return false;
  *n = rel / reg::kRingStride;
  *r = rel % reg::kRingStride;
  return true;
}

}  // namespace

// ---- Construction ----

StatusOr<std::unique_ptr<SoftCard>> SoftCard::Create(const SoftCardOptions& o) {
  if (o.sa_count == 0 || (o.sa_count & (o.sa_count - 1)) != 0 || o.sa_count > (1u << 24)) {
    return InvalidArgumentError("soft card: SA count must be a power of two up to 2^24");
  }
  if (o.ring_pairs == 0 || o.ring_pairs > reg::kRingMaxCount) {
    return InvalidArgumentError("soft card: 1 to 32 ring pairs");
  }
  if (o.max_ring_log2 < 4 || o.max_ring_log2 > 15) return InvalidArgumentError("soft card: ring log2 4..15");
  if (o.max_pkt_bytes < 64 || o.max_pkt_bytes > 65535) return InvalidArgumentError("soft card: bad packet limit");
  auto card = std::unique_ptr<SoftCard>(new SoftCard(o));
  card->irq_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (card->irq_fd_ < 0) return InternalError("soft card: eventfd failed");
  return card;
}

SoftCard::SoftCard(const SoftCardOptions& options)
    : options_(options),
      regs_(card::kBarBytes / 4, 0),
      slots_(options.sa_count),
      collector_(std::make_unique<EventCollector>()),
      rings_(options.ring_pairs) {
  SoftReset();
  reset_busy_reads_left_ = options_.reset_busy_reads;
}

SoftCard::~SoftCard() {
  SecureZero(staged_key_.data(), sizeof(staged_key_));
  SecureZero(&staged_salt_, sizeof(staged_salt_));
  for (Slot& s : slots_) ClearSlot(s);
  if (irq_fd_ >= 0) close(irq_fd_);
}

size_t SoftCard::dma_allocations() const {
  std::lock_guard lock(mu_);
  return dma_.size();
}

// ---- DMA ----

StatusOr<DmaRegion> SoftCard::MapDma(size_t bytes, size_t align) {
  if (bytes == 0 || align == 0 || (align & (align - 1)) != 0) return InvalidArgumentError("bad DMA allocation");
  std::lock_guard lock(mu_);
  align = std::max<size_t>(align, 64);
  const uint64_t iova = (next_iova_ + align - 1) & ~uint64_t{align - 1};
  // A guard page after every allocation, and IOVAs are never reused: a stale or overrunning
  // address hits unmapped space.
  next_iova_ = ((iova + bytes + 4095) & ~uint64_t{4095}) + 4096;
  Allocation a;
  a.storage.reset(new (std::nothrow) std::byte[bytes + align]);
  if (!a.storage) return ResourceExhaustedError("soft card: out of host memory");
  const auto raw = reinterpret_cast<uintptr_t>(a.storage.get());
  a.host = a.storage.get() + (((raw + align - 1) & ~uintptr_t{align - 1}) - raw);
  a.bytes = bytes;
  std::memset(a.host, 0, bytes);
  DmaRegion r{iova, a.host, bytes, iova};
  dma_.emplace(iova, std::move(a));
  return r;
}

void SoftCard::UnmapDma(const DmaRegion& region) {
  std::lock_guard lock(mu_);
  last_dma_ = {};
  dma_.erase(region.iova);
}

std::byte* SoftCard::Translate(uint64_t iova, uint64_t bytes) {
  for (const auto& [start, len] : dma_faults_) {
    if (iova < start + len && start < iova + bytes) return nullptr;
  }
  if (last_dma_.host != nullptr && iova >= last_dma_.iova) {
    const uint64_t off = iova - last_dma_.iova;
    if (off <= last_dma_.bytes && bytes <= last_dma_.bytes - off) return last_dma_.host + off;
  }
  auto it = dma_.upper_bound(iova);
  if (it == dma_.begin()) return nullptr;
  --it;
  const uint64_t off = iova - it->first;
  if (off > it->second.bytes || bytes > it->second.bytes - off) return nullptr;
  last_dma_ = {it->first, it->second.bytes, it->second.host};
  return it->second.host + off;
}

// ---- Registers ----

StatusOr<uint32_t> SoftCard::Read32(uint32_t offset) {
  if (offset % 4 != 0 || offset >= card::kBarBytes) return InvalidArgumentError("unaligned or out-of-BAR read");
  std::lock_guard lock(mu_);
  if (unresponsive_) return UnavailableError("soft card: register read timed out");
  if (auto it = overrides_.find(offset); it != overrides_.end()) return it->second;
  return ReadLocked(offset);
}

Status SoftCard::Write32(uint32_t offset, uint32_t value) {
  if (offset % 4 != 0 || offset >= card::kBarBytes) return InvalidArgumentError("unaligned or out-of-BAR write");
  std::lock_guard lock(mu_);
  if (unresponsive_) return UnavailableError("soft card: register write timed out");
  WriteLocked(offset, value);
  return OkStatus();
}

uint32_t SoftCard::ReadLocked(uint32_t offset) {
  const SoftCardOptions& o = options_;
  uint32_t n = 0, r = 0;
  if (IsRingReg(offset, o.ring_pairs, &n, &r)) return ReadRing(n, r);
  switch (offset) {
    // Block headers.
    case reg::kIdType: return reg::kIdBlockType;
    case reg::kIdVersion: return reg::kIdBlockVersion;
    case reg::kIdNext: return reg::kCtrlBase;
    case reg::kCtrlType: return reg::kCtrlBlockType;
    case reg::kCtrlVersion: return reg::kCtrlBlockVersion;
    case reg::kCtrlNext: return reg::kEvqBase;
    case reg::kEvqType: return reg::kEvqBlockType;
    case reg::kEvqVersion: return reg::kEvqBlockVersion;
    case reg::kEvqNext: return reg::kSaBase;
    case reg::kSaType: return reg::kSaBlockType;
    case reg::kSaVersion: return reg::kSaBlockVersion;
    case reg::kSaNext: return reg::kQueuesBase;
    case reg::kQueuesType: return reg::kQueuesBlockType;
    case reg::kQueuesVersion: return reg::kQueuesBlockVersion;
    case reg::kQueuesNext: return 0;
    case reg::kQueuesRingCount: return o.ring_pairs;
    case reg::kQueuesRingStride: return reg::kRingStride;
    case reg::kQueuesRingOffset: return reg::kRingBase - reg::kQueuesBase;
    // Identity and capabilities.
    case reg::kIdBuildId: return o.build_id;
    case reg::kIdBuildDate: return o.build_date;
    case reg::kIdFeatures: return o.features;
    case reg::kIdSuites: return o.suites;
    case reg::kIdCapEngine:
      return field::kIdCapEngineAesLanes.Put(field::kIdCapEngineDatapathBytesLog2.Put(0, 6), card::kDefaultAesLanes);
    case reg::kIdCapSa: return o.sa_count;
    case reg::kIdCapReplay: return o.max_replay_window;
    case reg::kIdCapQueues: {
      uint32_t v = field::kIdCapQueuesRingPairs.Put(0, o.ring_pairs);
      v = field::kIdCapQueuesEventRings.Put(v, 1);
      v = field::kIdCapQueuesMaxRingLog2.Put(v, o.max_ring_log2);
      return field::kIdCapQueuesFetchBurst.Put(v, o.fetch_burst);
    }
    case reg::kIdCapPacket: {
      uint32_t v = field::kIdCapPacketMaxPktBytes.Put(0, o.max_pkt_bytes);
      v = field::kIdCapPacketMinHeadroom.Put(v, o.min_headroom);
      return field::kIdCapPacketMinTailroom.Put(v, o.min_tailroom);
    }
    case reg::kIdCapRecords: {
      uint32_t v = field::kIdCapRecordsReqDescBytes.Put(0, card::ReqDesc::kBytes);
      v = field::kIdCapRecordsCplBytes.Put(v, card::Cpl::kBytes);
      v = field::kIdCapRecordsEventBytes.Put(v, card::Event::kBytes);
      return field::kIdCapRecordsSaParamBytes.Put(v, card::SaParams::kBytes);
    }
    // Control.
    case reg::kCtrlCtrl:
      return field::kCtrlCtrlSoftReset.Put(field::kCtrlCtrlEnable.Put(0, enabled_), reset_busy_reads_left_ > 0);
    case reg::kCtrlStatus: {
      const bool busy = reset_busy_reads_left_ > 0;
      if (busy) --reset_busy_reads_left_;
      uint32_t v = field::kCtrlStatusReady.Put(0, !busy);
      v = field::kCtrlStatusResetBusy.Put(v, busy);
      v = field::kCtrlStatusFatal.Put(v, fatal_);
      return field::kCtrlStatusEnabled.Put(v, enabled_ && !busy);
    }
    case reg::kCtrlIrqStatus: return irq_status_;
    case reg::kCtrlQueueError: {
      uint32_t v = 0;
      for (uint32_t i = 0; i < rings_.size(); ++i) v |= uint32_t{rings_[i].error} << i;
      return v;
    }
    case reg::kCtrlUnmatchedLo:
      unmatched_hi_latch_ = static_cast<uint32_t>(unmatched_ >> 32);
      return static_cast<uint32_t>(unmatched_);
    case reg::kCtrlUnmatchedHi: return unmatched_hi_latch_;
    // Event ring.
    case reg::kEvqCons: return evq_cons_;
    case reg::kEvqProd: return evq_prod_;
    case reg::kEvqLost: return evq_lost_;
    // SA window: keys, salt and the command are write-only.
    case reg::kSaCmd: return 0;
    case reg::kSaSalt: return 0;
    case reg::kSaStatus: return sa_status_;
    case reg::kSaState: return sa_state_;
    default: break;
  }
  if (offset >= reg::kSaKey && offset < reg::kSaKey + reg::kSaKeyCount * 4) return 0;
  if (offset >= reg::kSaCntPacketsLo && offset <= reg::kSaSeqHi) {
    return sa_snapshot_[(offset - reg::kSaCntPacketsLo) / 4];
  }
  return regs_[offset / 4];  // plain storage (RW registers), 0 for holes
}

void SoftCard::WriteLocked(uint32_t offset, uint32_t value) {
  uint32_t n = 0, r = 0;
  if (IsRingReg(offset, options_.ring_pairs, &n, &r)) {
    WriteRing(n, r, value);
    return;
  }
  switch (offset) {
    case reg::kCtrlCtrl: {
      if (field::kCtrlCtrlSoftReset.Get(value)) {
        SoftReset();
        return;
      }
      const bool was = enabled_;
      enabled_ = field::kCtrlCtrlEnable.Get(value) != 0;
      if (enabled_ && !was && options_.process_on_doorbell) ProcessAll(std::numeric_limits<uint64_t>::max());
      return;
    }
    case reg::kCtrlIrqStatus: irq_status_ &= ~value; return;
    case reg::kCtrlIrqMask: {
      const bool before = (irq_status_ & regs_[offset / 4]) != 0;
      regs_[offset / 4] = value & 0x1f;
      if (!before && (irq_status_ & regs_[offset / 4]) != 0) SignalIrq(kGlobalIrqBit);
      return;
    }
    case reg::kCtrlScratch: regs_[offset / 4] = value; return;
    case reg::kEvqBaseLo:
    case reg::kEvqBaseHi:
      if (!field::kEvqCtrlEnable.Get(regs_[reg::kEvqCtrl / 4])) regs_[offset / 4] = value;
      return;
    case reg::kEvqCtrl: {
      const bool was = field::kEvqCtrlEnable.Get(regs_[offset / 4]) != 0;
      regs_[offset / 4] = value & 0x31f;
      if (!was && field::kEvqCtrlEnable.Get(value)) {
        evq_prod_ = evq_cons_ = 0;
        evq_lost_ = 0;
        evq_lost_pending_ = 0;
      }
      return;
    }
    case reg::kEvqCons:
      evq_cons_ = static_cast<uint16_t>(field::kEvqConsIndex.Get(value));
      FlushLostEvents();
      return;
    case reg::kSaIndex: regs_[offset / 4] = field::kSaIndexIndex.Get(value); return;
    case reg::kSaCmd: RunSaCommand(static_cast<card::SaCmd>(field::kSaCmdOp.Get(value))); return;
    case reg::kSaSalt: staged_salt_ = value; return;
    default: break;
  }
  if (offset >= reg::kSaKey && offset < reg::kSaKey + reg::kSaKeyCount * 4) {
    staged_key_[(offset - reg::kSaKey) / 4] = value;
  } else if (offset >= reg::kSaParam && offset < reg::kSaParam + reg::kSaParamCount * 4) {
    regs_[offset / 4] = value;
  }
  // Everything else is read-only or a hole: writes are ignored.
}

void SoftCard::SoftReset() {
  // Fetching stops, work in flight is abandoned, registers return to reset values (ID and
  // SCRATCH excepted), and the SA table is wiped: EspSa destructors wipe their key schedules.
  const uint32_t scratch = regs_[reg::kCtrlScratch / 4];
  std::fill(regs_.begin(), regs_.end(), 0);
  regs_[reg::kCtrlScratch / 4] = scratch;
  enabled_ = false;
  fatal_ = false;
  irq_status_ = 0;
  unmatched_ = 0;
  unmatched_hi_latch_ = 0;
  SecureZero(staged_key_.data(), sizeof(staged_key_));
  SecureZero(&staged_salt_, sizeof(staged_salt_));
  sa_status_ = 0;
  sa_snapshot_.fill(0);
  sa_state_ = 0;
  for (Slot& s : slots_) ClearSlot(s);
  evq_prod_ = evq_cons_ = 0;
  evq_lost_ = 0;
  evq_lost_pending_ = 0;
  for (Ring& ring : rings_) ring = Ring{};
  irq_pending_ = 0;
  reset_busy_reads_left_ = options_.reset_busy_reads;
}

// ---- SA window ----

void SoftCard::ClearSlot(Slot& s) {
  s.sa.reset();  // the EspSa's primitives wipe their expanded keys
  s.valid = false;
  s.params = {};
  s.raw = {};
  s.other_drops = 0;
  s.oversize_ok = 0;
  s.soft_expired = s.hard_expired = s.seq_exhausted = false;
}

void SoftCard::RunSaCommand(card::SaCmd op) {
  const uint32_t index = regs_[reg::kSaIndex / 4];
  card::SaResult result = card::SaResult::kOk;
  if (op != card::SaCmd::kNop && index >= options_.sa_count) {
    result = card::SaResult::kBadIndex;
  } else {
    switch (op) {
      case card::SaCmd::kNop: break;
      case card::SaCmd::kWrite: result = InstallSa(index); break;
      case card::SaCmd::kDelete: ClearSlot(slots_[index]); break;
      case card::SaCmd::kReadCounters: {
        const Slot& s = slots_[index];
        uint64_t v[6] = {};
        if (s.valid) {
          const sa::SaCounters& c = s.sa->counters();
          const uint64_t auth = c.drop(sa::DropReason::kAuthFailed), replay = c.drop(sa::DropReason::kReplay);
          v[0] = c.packets - s.oversize_ok;
          v[1] = c.bytes;
          v[2] = auth;
          v[3] = replay;
          v[4] = c.total_drops() - auth - replay + s.other_drops;
          v[5] = s.params.dir == card::Dir::kOutbound ? s.sa->next_seq() : s.sa->replay().top();
        }
        for (int i = 0; i < 6; ++i) {
          sa_snapshot_[2 * i] = static_cast<uint32_t>(v[i]);
          sa_snapshot_[2 * i + 1] = static_cast<uint32_t>(v[i] >> 32);
        }
        sa_state_ = field::kSaStateSoftExpired.Put(0, s.soft_expired);
        sa_state_ = field::kSaStateHardExpired.Put(sa_state_, s.hard_expired);
        sa_state_ = field::kSaStateSeqExhausted.Put(sa_state_, s.seq_exhausted);
        break;
      }
      case card::SaCmd::kReadParams: {
        const Slot& s = slots_[index];
        if (!s.valid) {
          result = card::SaResult::kNotValid;
          break;
        }
        for (uint32_t k = 0; k < reg::kSaParamCount; ++k) regs_[reg::SaParam(k) / 4] = ReadLe32(&s.raw[4 * k]);
        break;
      }
      default: result = card::SaResult::kBadParams; break;
    }
  }
  // Every command, successful or not, wipes the staged key material.
  SecureZero(staged_key_.data(), sizeof(staged_key_));
  SecureZero(&staged_salt_, sizeof(staged_salt_));
  const bool valid = index < options_.sa_count && slots_[index].valid;
  sa_status_ = field::kSaStatusResult.Put(field::kSaStatusValid.Put(0, valid), static_cast<uint32_t>(result));
  RaiseIrqStatus(field::kCtrlIrqStatusSaCmdDone.Mask());
}

card::SaResult SoftCard::InstallSa(uint32_t index) {
  card::SaParams::Bytes raw{};
  for (uint32_t k = 0; k < reg::kSaParamCount; ++k) WriteLe32(&raw[4 * k], regs_[reg::SaParam(k) / 4]);
  if (!card::SaParams::ReservedClear(raw)) return card::SaResult::kBadParams;
  const card::SaParams p = card::SaParams::Decode(raw);
  const uint32_t suite = static_cast<uint32_t>(p.suite);
  if (suite == 0 || suite >= 32 || ((options_.suites >> suite) & 1) == 0) return card::SaResult::kUnsupported;
  const uint32_t f = options_.features;
  const bool out = p.dir == card::Dir::kOutbound;
  const bool tunnel = p.mode == card::SaMode::kTunnel;
  if ((out && !field::kIdFeaturesEspOutbound.Get(f)) || (!out && !field::kIdFeaturesEspInbound.Get(f)) ||
      (!tunnel && !field::kIdFeaturesTransport.Get(f)) ||
      (tunnel && !p.outer_v6 && !field::kIdFeaturesTunnelIpv4.Get(f)) ||
      (tunnel && p.outer_v6 && !field::kIdFeaturesTunnelIpv6.Get(f)) ||
      (p.udp_encap && !field::kIdFeaturesUdpEncap.Get(f)) || (p.esn && !field::kIdFeaturesEsn.Get(f)) ||
      ((p.soft_bytes || p.hard_bytes || p.soft_packets || p.hard_packets) && !field::kIdFeaturesLifetimes.Get(f))) {
    return card::SaResult::kUnsupported;
  }
  if (!out && p.replay_window != 0 && (p.replay_window < 64 || p.replay_window > options_.max_replay_window)) {
    return card::SaResult::kBadParams;
  }
  // Inbound SAs live in the slot their SPI names (the card looks them up there).
  if (!out && p.spi % options_.sa_count != index) return card::SaResult::kBadParams;
  StatusOr<sa::SaConfig> config = FromSaParams(p);
  if (!config.ok()) return card::SaResult::kBadParams;
  const sa::SuiteInfo& info = sa::GetSuiteInfo(config->suite);
  // Key material as KEYMAT lays it out: cipher key, then the salt (RFC 4106 §8.1).
  sa::KeyMaterial keys;
  keys.enc_key = SecureBytes(info.enc_key_len + info.salt_len);
  std::span<std::byte> k = keys.enc_key.mutable_span();
  std::array<std::byte, 4 * reg::kSaKeyCount> key_bytes{};
  for (uint32_t i = 0; i < reg::kSaKeyCount; ++i) WriteLe32(&key_bytes[4 * i], staged_key_[i]);
  std::array<std::byte, 4> salt_bytes{};
  WriteLe32(salt_bytes.data(), staged_salt_);
  std::memcpy(k.data(), key_bytes.data(), std::min(info.enc_key_len, key_bytes.size()));
  std::memcpy(k.data() + info.enc_key_len, salt_bytes.data(), std::min<size_t>(info.salt_len, 4));
  SecureZero(key_bytes.data(), key_bytes.size());
  SecureZero(salt_bytes.data(), salt_bytes.size());
  auto esp_sa = esp::EspSa::Create(*config, std::move(keys), options_.provider, collector_.get());
  if (!esp_sa.ok()) return card::SaResult::kBadParams;
  Slot& s = slots_[index];
  ClearSlot(s);  // a write on a valid slot replaces it wholesale, old key wiped first
  s.valid = true;
  s.params = p;
  s.raw = raw;
  s.sa = std::move(esp_sa).value();
  return card::SaResult::kOk;
}

Status SoftCard::SetNextSeqForTest(uint32_t slot, uint64_t next_seq) {
  std::lock_guard lock(mu_);
  if (slot >= slots_.size() || !slots_[slot].valid) return NotFoundError("no SA in that slot");
  return slots_[slot].sa->RestoreState(next_seq, 0);
}

// ---- Rings ----

uint32_t SoftCard::ReadRing(uint32_t n, uint32_t r) {
  const Ring& ring = rings_[n];
  switch (r) {
    case reg::kRingCtrl: return ring.ctrl;
    case reg::kRingStatus: {
      uint32_t v = field::kRingStatusActive.Put(0, ring.active && !ring.error);
      v = field::kRingStatusError.Put(v, ring.error);
      return field::kRingStatusErrorCode.Put(v, static_cast<uint32_t>(ring.code));  // BUSY: never (synchronous)
    }
    case reg::kRingRqBaseLo: return static_cast<uint32_t>(ring.rq_base);
    case reg::kRingRqBaseHi: return static_cast<uint32_t>(ring.rq_base >> 32);
    case reg::kRingCqBaseLo: return static_cast<uint32_t>(ring.cq_base);
    case reg::kRingCqBaseHi: return static_cast<uint32_t>(ring.cq_base >> 32);
    case reg::kRingRqProd: return ring.rq_prod;
    case reg::kRingRqCons: return ring.rq_cons;
    case reg::kRingCqCons: return ring.cq_cons;
    case reg::kRingCqProd: return ring.cq_prod;
    case reg::kRingIrqMod: return ring.irq_mod;
    default: return 0;
  }
}

void SoftCard::WriteRing(uint32_t n, uint32_t r, uint32_t value) {
  Ring& ring = rings_[n];
  const bool enabled = field::kRingCtrlEnable.Get(ring.ctrl) != 0;
  switch (r) {
    case reg::kRingCtrl: {
      ring.ctrl = value & (field::kRingCtrlEnable.Mask() | field::kRingCtrlIrqEnable.Mask() |
                           field::kRingCtrlRqSizeLog2.Mask() | field::kRingCtrlCqSizeLog2.Mask());
      const bool now = field::kRingCtrlEnable.Get(value) != 0;
      if (!enabled && now) {
        EnableRing(n);
      } else if (enabled && !now) {
        // Fetching stops; fetched requests have completed (processing is synchronous); the error
        // state clears.
        ring.active = false;
        ring.error = false;
        ring.code = card::QueueError::kNone;
        ring.armed = false;
      }
      return;
    }
    case reg::kRingRqBaseLo:
      if (!enabled) ring.rq_base = (ring.rq_base & ~uint64_t{0xffffffff}) | value;
      return;
    case reg::kRingRqBaseHi:
      if (!enabled) ring.rq_base = (ring.rq_base & 0xffffffff) | uint64_t{value} << 32;
      return;
    case reg::kRingCqBaseLo:
      if (!enabled) ring.cq_base = (ring.cq_base & ~uint64_t{0xffffffff}) | value;
      return;
    case reg::kRingCqBaseHi:
      if (!enabled) ring.cq_base = (ring.cq_base & 0xffffffff) | uint64_t{value} << 32;
      return;
    case reg::kRingIrqMod:
      if (!enabled) ring.irq_mod = value;
      return;
    case reg::kRingRqProd: {
      if (!ring.active || ring.error) return;
      const uint16_t prod = static_cast<uint16_t>(field::kRingRqProdIndex.Get(value));
      if (card::RingDistance(prod, ring.rq_cons) > (1u << ring.rq_log2)) {
        RingError(n, card::QueueError::kBadDoorbell, 0);
        return;
      }
      ring.rq_prod = prod;
      if (options_.process_on_doorbell) ProcessRing(n, std::numeric_limits<uint64_t>::max());
      return;
    }
    case reg::kRingCqCons: {
      ring.cq_cons = static_cast<uint16_t>(field::kRingCqConsIndex.Get(value));
      if (field::kRingCqConsArm.Get(value)) ring.armed = true;
      // Released completion slots may let a stalled ring move again.
      if (options_.process_on_doorbell && ring.active) ProcessRing(n, std::numeric_limits<uint64_t>::max());
      return;
    }
    default: return;  // read-only
  }
}

void SoftCard::EnableRing(uint32_t n) {
  Ring& ring = rings_[n];
  ring.rq_prod = ring.rq_cons = ring.cq_prod = ring.cq_cons = 0;
  ring.error = false;
  ring.code = card::QueueError::kNone;
  ring.armed = false;
  ring.rq_log2 = field::kRingCtrlRqSizeLog2.Get(ring.ctrl);
  ring.cq_log2 = field::kRingCtrlCqSizeLog2.Get(ring.ctrl);
  ring.active = true;
  if (ring.rq_log2 < 4 || ring.rq_log2 > options_.max_ring_log2 || ring.cq_log2 < ring.rq_log2 ||
      ring.cq_log2 > options_.max_ring_log2 || (ring.rq_base & 63) != 0 || (ring.cq_base & 63) != 0) {
    RingError(n, card::QueueError::kBadConfig, 0);
  }
}

void SoftCard::RingError(uint32_t n, card::QueueError code, uint64_t address) {
  Ring& ring = rings_[n];
  ring.error = true;
  ring.code = code;
  card::Event e;
  e.kind = card::EventType::kQueueError;
  e.ring = static_cast<uint8_t>(n);
  e.sa_index = kNoSa;
  e.code = static_cast<uint8_t>(code);
  e.info = address;
  PostEvent(e);
  RaiseIrqStatus(field::kCtrlIrqStatusQueueError.Mask());
}

void SoftCard::Step(uint64_t cycles) {
  std::lock_guard lock(mu_);
  ProcessAll(cycles);
}

void SoftCard::ProcessAll(uint64_t budget) {
  // Round robin, one request per ring per turn, until the budget is spent or nothing moves.
  bool moved = true;
  while (budget > 0 && moved) {
    moved = false;
    for (size_t i = 0; i < rings_.size() && budget > 0; ++i) {
      const uint32_t n = next_ring_;
      next_ring_ = (next_ring_ + 1) % static_cast<uint32_t>(rings_.size());
      if (ProcessRing(n, 1) != 0) {
        moved = true;
        --budget;
      }
    }
  }
}

uint64_t SoftCard::ProcessRing(uint32_t n, uint64_t budget) {
  if (fatal_) return 0;  // a failed card moves nothing until it is reset
  Ring& ring = rings_[n];
  uint64_t done = 0;
  if (!enabled_ || !ring.active || ring.error || ring.rq_cons == ring.rq_prod) return 0;
  // Both rings translated once per call when each lies wholly in one mapping and no DMA fault is
  // injected; otherwise (and for exactly the same results) every slot is translated on its own,
  // so that an unmapped slot fails at that slot.
  const bool whole = dma_faults_.empty();
  const std::byte* const rq_host =
      whole ? Translate(ring.rq_base, uint64_t{card::ReqDesc::kBytes} << ring.rq_log2) : nullptr;
  std::byte* const cq_host = whole ? Translate(ring.cq_base, uint64_t{card::Cpl::kBytes} << ring.cq_log2) : nullptr;
  while (done < budget && enabled_ && ring.active && !ring.error && ring.rq_cons != ring.rq_prod) {
    // Completion slots free: when the completion ring is full the pair stalls until the host
    // releases slots; nothing is overwritten or dropped.
    const uint32_t cq_free = (1u << ring.cq_log2) - card::RingDistance(ring.cq_prod, ring.cq_cons);
    if (cq_free == 0) break;
    const uint64_t want = std::min<uint64_t>({card::RingDistance(ring.rq_prod, ring.rq_cons), cq_free, budget - done,
                                              kBatch});
    // Fetch and check.
    size_t k = 0;
    bool fetch_failed = false;
    for (; k < want; ++k) {
      const uint16_t index = static_cast<uint16_t>(ring.rq_cons + k);
      const uint64_t desc_addr = ring.rq_base + uint64_t{card::RingSlot(index, ring.rq_log2)} * 32;
      const std::byte* desc = rq_host != nullptr ? rq_host + (desc_addr - ring.rq_base)
                                                 : Translate(desc_addr, card::ReqDesc::kBytes);
      if (desc == nullptr) {
        fetch_failed = true;
        if (k == 0) RingError(n, card::QueueError::kDescFetch, desc_addr);
        break;
      }
      std::array<std::byte, card::ReqDesc::kBytes> raw;
      std::memcpy(raw.data(), desc, raw.size());
      work_[k] = Work{};
      PrepareRequest(raw, work_[k]);
      work_[k].cpl.desc_index = index;
    }
    // The engine: runs of one outbound SA go through EspSa as one burst.
    for (size_t i = 0; i < k;) {
      if (!work_[i].outbound_engine) {
        ++i;
        continue;
      }
      size_t j = i + 1;
      while (j < k && work_[j].outbound_engine && work_[j].slot == work_[i].slot) ++j;
      RunOutbound(std::span<Work>(work_.data() + i, j - i));
      i = j;
    }
    // Completions, in request order.
    for (size_t i = 0; i < k; ++i) {
      const uint64_t cpl_addr = ring.cq_base + uint64_t{card::RingSlot(ring.cq_prod, ring.cq_log2)} * 32;
      std::byte* slot =
          cq_host != nullptr ? cq_host + (cpl_addr - ring.cq_base) : Translate(cpl_addr, card::Cpl::kBytes);
      if (slot == nullptr) {
        RingError(n, card::QueueError::kCplWrite, cpl_addr);
        return done;
      }
      card::Cpl& c = work_[i].cpl;
      if (c.status != CplStatus::kOk) c.out_offset = c.out_len = 0;
      c.phase = card::ExpectedPhase(ring.cq_prod, ring.cq_log2);
      if (tamper_) tamper_(n, c);
      const card::Cpl::Bytes bytes = c.Encode();
      // One 32-byte write with PHASE last: the body first, then the phase byte with release
      // order, so a host that sees the new phase (acquire) sees the whole record. The body is
      // copied in the 8-byte pieces Encode wrote (a wider load across two of its stores would
      // stall store forwarding, per completion).
      static_assert(card::Cpl::kBytes == 32);
      std::memcpy(slot, bytes.data(), 8);
      std::memcpy(slot + 8, bytes.data() + 8, 8);
      std::memcpy(slot + 16, bytes.data() + 16, 8);
      std::memcpy(slot + 24, bytes.data() + 24, 7);
      std::atomic_ref<std::byte>(slot[card::Cpl::kBytes - 1])
          .store(bytes[card::Cpl::kBytes - 1], std::memory_order_release);
      ring.rq_cons = static_cast<uint16_t>(ring.rq_cons + 1);
      ring.cq_prod = static_cast<uint16_t>(ring.cq_prod + 1);
      ++done;
    }
    if (fetch_failed) {
      if (k > 0) {
        // The requests before the unreadable descriptor completed; now the ring stops.
        const uint64_t desc_addr = ring.rq_base + uint64_t{card::RingSlot(ring.rq_cons, ring.rq_log2)} * 32;
        RingError(n, card::QueueError::kDescFetch, desc_addr);
      }
      break;
    }
  }
  if (done > 0 && ring.armed && field::kRingCtrlIrqEnable.Get(ring.ctrl)) {
    ring.armed = false;
    SignalIrq(uint64_t{1} << n);
  }
  return done;
}

// ---- The engine ----

void SoftCard::PrepareRequest(std::span<const std::byte, card::ReqDesc::kBytes> raw, Work& w) {
  const card::ReqDesc d = card::ReqDesc::Decode(raw);
  card::Cpl& c = w.cpl;
  c.user_data = d.user_data;
  c.dir = d.dir;
  c.sa_index = kNoSa;
  if (!card::ReqDesc::ReservedClear(raw) || uint32_t{d.pkt_offset} + d.pkt_len > d.buf_len ||
      (d.dir == card::Dir::kOutbound && !d.sa_valid)) {
    c.status = CplStatus::kBadDescriptor;
    return;
  }
  if (d.pkt_len > options_.max_pkt_bytes) {
    c.status = CplStatus::kTooBig;
    return;
  }
  std::byte* buf = Translate(d.buf_addr, d.buf_len);
  if (buf == nullptr) {
    c.status = CplStatus::kDmaReadError;
    return;
  }
  w.pb = PacketBuf{buf, d.buf_len, d.pkt_offset, d.pkt_len};
  if (d.dir == card::Dir::kOutbound) {
    PrepareOutbound(d, w);
  } else {
    ProcessInbound(d, w.pb, c);
  }
}

void SoftCard::PrepareOutbound(const card::ReqDesc& d, Work& w) {
  card::Cpl& c = w.cpl;
  if (d.sa_index >= options_.sa_count || !slots_[d.sa_index].valid) {
    ++unmatched_;
    c.status = CplStatus::kBadSaIndex;
    return;
  }
  Slot& s = slots_[d.sa_index];
  c.sa_index = d.sa_index;
  c.spi = s.params.spi;
  if (s.params.dir != card::Dir::kOutbound) {
    ++s.other_drops;
    c.status = CplStatus::kWrongDirection;
    return;
  }
  w.outbound_engine = true;
  w.slot = d.sa_index;
}

void SoftCard::RunOutbound(std::span<Work> run) {
  Slot& s = slots_[run[0].slot];
  std::array<PacketBuf*, kBatch> pkts;
  std::array<sa::DropReason, kBatch> reasons;
  for (size_t i = 0; i < run.size(); ++i) pkts[i] = &run[i].pb;
  // EspSa reserves the burst's sequence numbers in order: request i gets base + i.
  const uint64_t base = s.sa->next_seq();
  collector_->Clear();
  s.sa->ProcessOutbound(std::span<PacketBuf* const>(pkts.data(), run.size()),
                        std::span<sa::DropReason>(reasons.data(), run.size()));
  EmitSaEvents(run[0].slot);
  for (size_t i = 0; i < run.size(); ++i) {
    card::Cpl& c = run[i].cpl;
    const PacketBuf& pb = run[i].pb;
    c.status = static_cast<CplStatus>(reasons[i]);
    if (reasons[i] != sa::DropReason::kOk) continue;
    if (pb.length > options_.max_pkt_bytes) {
      ++s.oversize_ok;
      ++s.other_drops;
      c.status = CplStatus::kTooBig;
      continue;
    }
    c.seq = base + i;
    c.out_offset = static_cast<uint16_t>(pb.offset);
    c.out_len = static_cast<uint16_t>(pb.length);
  }
}

void SoftCard::ProcessInbound(const card::ReqDesc& d, PacketBuf& pb, card::Cpl& c) {
  const Bytes pkt(pb.data(), pb.length);
  // Find the SPI: plain ESP, or ESP in UDP to any port (the SA decides whether that port is
  // its own); IKE and keepalives are not ESP.
  // One pass (no error status, hence no allocated message, for the usual ESP-in-UDP packet).
  StatusOr<esp::EspLocation> loc = esp::LocateEspAny(pkt, /*udp_port=*/0);
  const bool udp = loc.ok() && loc->udp;
  if (!loc.ok()) {
    ++unmatched_;
    c.status = loc.status().code() == StatusCode::kNotFound ? CplStatus::kNotEsp : CplStatus::kMalformed;
    return;
  }
  c.spi = loc->spi;
  uint32_t index = loc->spi & (options_.sa_count - 1);
  if (d.sa_valid) {
    if (d.sa_index >= options_.sa_count || !slots_[d.sa_index].valid) {
      ++unmatched_;
      c.status = CplStatus::kBadSaIndex;
      return;
    }
    index = d.sa_index;
  }
  Slot* s = &slots_[index];
  const bool match = s->valid && s->params.spi == loc->spi &&
                     (!udp || (s->params.udp_encap && s->params.udp_dst_port == loc->udp_dst_port));
  if (!match) {
    ++unmatched_;
    // UDP that names no UDP-encapsulated SA is ESP only on the NAT-T port (RFC 3948).
    c.status = udp && loc->udp_dst_port != 4500 && !d.sa_valid ? CplStatus::kNotEsp : CplStatus::kBadSpi;
    return;
  }
  c.sa_index = index;
  if (s->params.dir != card::Dir::kInbound) {
    ++s->other_drops;
    c.status = CplStatus::kWrongDirection;
    return;
  }
  const uint64_t seq = s->sa->replay().InferSeq(loc->seq_low);
  PacketBuf* one[1] = {&pb};
  sa::DropReason reason[1];
  collector_->Clear();
  s->sa->ProcessInbound(one, reason);
  EmitSaEvents(index);
  c.status = static_cast<CplStatus>(reason[0]);
  if (reason[0] != sa::DropReason::kOk) return;
  c.seq = seq;
  c.out_offset = static_cast<uint16_t>(pb.offset);
  c.out_len = static_cast<uint16_t>(pb.length);
  // The ESP next header: the inner version in tunnel mode; in transport mode the restored
  // protocol / next header byte where ESP was.
  const std::byte* out = pb.data();
  const uint8_t version = pb.length > 0 ? U8(out[0]) >> 4 : 0;
  if (s->params.mode == card::SaMode::kTunnel) {
    c.next_header = version == 6 ? ip::kProtoIpv6 : ip::kProtoIpv4;
  } else if (version == 4 && pb.length >= ip::kIpv4MinHeader) {
    c.next_header = U8(out[9]);
  } else if (version == 6 && pb.length >= ip::kIpv6Header) {
    size_t nh = 6;
    if (ip::Ipv6InsertionPoint(Bytes(out, pb.length), &nh) == 0) nh = 6;
    c.next_header = U8(out[nh]);
  }
}

void SoftCard::EmitSaEvents(uint32_t slot_index) {
  Slot& s = slots_[slot_index];
  for (sa::SaEvent ev : collector_->events()) {
    card::Event e;
    e.sa_index = slot_index;
    e.ring = 0xFF;
    e.dir = s.params.dir;
    e.kind = static_cast<card::EventType>(static_cast<uint8_t>(ev) + 1);
    switch (ev) {
      case sa::SaEvent::kSoftLifetime:
        s.soft_expired = true;
        e.info = s.sa->counters().bytes;
        break;
      case sa::SaEvent::kHardLifetime:
        s.hard_expired = true;
        e.info = s.sa->counters().bytes;
        break;
      case sa::SaEvent::kSeqOverflow:
        s.seq_exhausted = true;
        e.info = s.params.esn ? std::numeric_limits<uint64_t>::max() : 0xffffffffull;
        break;
    }
    PostEvent(e);
  }
  collector_->Clear();
}

// ---- Events and interrupts ----

void SoftCard::PostEvent(const card::Event& e) {
  const uint32_t ctrl = regs_[reg::kEvqCtrl / 4];
  if (!field::kEvqCtrlEnable.Get(ctrl)) return;  // no event ring: events are not recorded
  FlushLostEvents();
  const uint32_t log2 = field::kEvqCtrlSizeLog2.Get(ctrl);
  const uint64_t base = uint64_t{regs_[reg::kEvqBaseHi / 4]} << 32 | regs_[reg::kEvqBaseLo / 4];
  std::byte* slot = log2 >= 4 ? Translate(base + uint64_t{card::RingSlot(evq_prod_, log2)} * 16, 16) : nullptr;
  if (evq_lost_pending_ > 0 || slot == nullptr || card::RingDistance(evq_prod_, evq_cons_) >= (1u << log2)) {
    if (evq_lost_ != 0xffffffffu) ++evq_lost_;
    ++evq_lost_pending_;
    RaiseIrqStatus(field::kCtrlIrqStatusEventsLost.Mask());
    return;
  }
  card::Event rec = e;
  rec.phase = card::ExpectedPhase(evq_prod_, log2);
  const card::Event::Bytes bytes = rec.Encode();
  std::memcpy(slot, bytes.data(), 15);
  std::atomic_ref<std::byte>(slot[15]).store(bytes[15], std::memory_order_release);
  evq_prod_ = static_cast<uint16_t>(evq_prod_ + 1);
  RaiseIrqStatus(field::kCtrlIrqStatusEvent.Mask());
}

void SoftCard::FlushLostEvents() {
  if (evq_lost_pending_ == 0) return;
  const uint32_t ctrl = regs_[reg::kEvqCtrl / 4];
  if (!field::kEvqCtrlEnable.Get(ctrl)) return;
  const uint32_t log2 = field::kEvqCtrlSizeLog2.Get(ctrl);
  if (log2 < 4 || card::RingDistance(evq_prod_, evq_cons_) >= (1u << log2)) return;
  const uint64_t base = uint64_t{regs_[reg::kEvqBaseHi / 4]} << 32 | regs_[reg::kEvqBaseLo / 4];
  std::byte* slot = Translate(base + uint64_t{card::RingSlot(evq_prod_, log2)} * 16, 16);
  if (slot == nullptr) return;
  card::Event e;
  e.kind = card::EventType::kEventsLost;
  e.info = evq_lost_pending_;
  e.sa_index = kNoSa;
  e.ring = 0xFF;
  e.phase = card::ExpectedPhase(evq_prod_, log2);
  const card::Event::Bytes bytes = e.Encode();
  std::memcpy(slot, bytes.data(), 15);
  std::atomic_ref<std::byte>(slot[15]).store(bytes[15], std::memory_order_release);
  evq_prod_ = static_cast<uint16_t>(evq_prod_ + 1);
  evq_lost_pending_ = 0;
  RaiseIrqStatus(field::kCtrlIrqStatusEvent.Mask());
}

void SoftCard::RaiseIrqStatus(uint32_t bits) {
  const uint32_t mask = regs_[reg::kCtrlIrqMask / 4];
  const bool before = (irq_status_ & mask) != 0;
  irq_status_ |= bits;
  if (!before && (irq_status_ & mask) != 0) SignalIrq(kGlobalIrqBit);
}

void SoftCard::SignalIrq(uint64_t vectors) {
  irq_pending_ |= vectors;
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t w = write(irq_fd_, &one, sizeof(one));
}

StatusOr<uint64_t> SoftCard::WaitIrq(std::chrono::microseconds timeout) {
  {
    std::lock_guard lock(mu_);
    if (unresponsive_) return UnavailableError("soft card: not answering");
  }
  pollfd p{irq_fd_, POLLIN, 0};
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(timeout).count();
  const int rc = poll(&p, 1, static_cast<int>(std::min<int64_t>(ms, std::numeric_limits<int>::max())));
  if (rc < 0 && errno != EINTR) return InternalError("soft card: poll failed");
  std::lock_guard lock(mu_);
  uint64_t count = 0;
  [[maybe_unused]] ssize_t r = read(irq_fd_, &count, sizeof(count));
  return std::exchange(irq_pending_, 0);
}

// ---- Test hooks ----

void SoftCard::OverrideRegisterForTest(uint32_t offset, std::optional<uint32_t> value) {
  std::lock_guard lock(mu_);
  if (value) {
    overrides_[offset] = *value;
  } else {
    overrides_.erase(offset);
  }
}

void SoftCard::SetUnresponsiveForTest(bool unresponsive) {
  std::lock_guard lock(mu_);
  unresponsive_ = unresponsive;
}

void SoftCard::RaiseFatalForTest(uint64_t info) {
  std::lock_guard lock(mu_);
  if (fatal_) return;
  fatal_ = true;
  card::Event e;
  e.kind = card::EventType::kFatal;
  e.ring = 0xFF;
  e.sa_index = kNoSa;
  e.info = info;
  PostEvent(e);
  RaiseIrqStatus(field::kCtrlIrqStatusFatal.Mask());
}

void SoftCard::FailDmaForTest(uint64_t iova, uint64_t bytes) {
  std::lock_guard lock(mu_);
  dma_faults_.emplace_back(iova, bytes);
}

void SoftCard::SetCompletionTamperForTest(std::function<void(uint32_t, card::Cpl&)> tamper) {
  std::lock_guard lock(mu_);
  tamper_ = std::move(tamper);
}

}  // namespace ipsec::driver
