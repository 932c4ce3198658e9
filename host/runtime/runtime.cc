#include "host/runtime/runtime.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "driver/borrowed_device.h"
#include "driver/device_registry.h"
#include "host/common/bytes.h"
#include "host/common/ip.h"

namespace ipsec::runtime {
namespace {

constexpr uint8_t kProtoDestOpts = 60;

enum class InboundKind : uint8_t { kEsp, kNotEsp, kMalformed };

// The SPI of a received packet: plain ESP, or ESP in UDP to `natt_port` (RFC 3948); IKE (non-ESP
// marker), keepalives and everything else are not ESP. No Status, no allocation.
InboundKind ClassifyInbound(std::span<const std::byte> pkt, uint16_t natt_port, uint32_t* spi) {
  const size_t n = pkt.size();
  if (n < 1) return InboundKind::kMalformed;
  const std::byte* b = pkt.data();
  const uint8_t version = static_cast<uint8_t>(b[0]) >> 4;
  size_t off = 0;
  uint8_t proto = 0;
  if (version == 4) {
    if (n < 20) return InboundKind::kMalformed;
    off = size_t{static_cast<uint8_t>(b[0]) & 0x0fu} * 4;
    if (off < 20 || off > n) return InboundKind::kMalformed;
    if ((LoadU16Be(b + 6) & 0x3fff) != 0) return InboundKind::kMalformed;  // fragments: no reassembly
    proto = static_cast<uint8_t>(b[9]);
  } else if (version == 6) {
    if (n < 40) return InboundKind::kMalformed;
    off = 40;
    proto = static_cast<uint8_t>(b[6]);
    for (int hops = 0;
         hops < 8 && (proto == ip::kProtoHopByHop || proto == ip::kProtoRouting || proto == kProtoDestOpts); ++hops) {
      if (off + 2 > n) return InboundKind::kMalformed;
      proto = static_cast<uint8_t>(b[off]);
      off += (size_t{static_cast<uint8_t>(b[off + 1])} + 1) * 8;
    }
    if (proto == ip::kProtoFragment) return InboundKind::kMalformed;
  } else {
    return InboundKind::kMalformed;
  }
  if (proto == ip::kProtoEsp) {
    if (off + 8 > n) return InboundKind::kMalformed;
    *spi = LoadU32Be(b + off);
    return InboundKind::kEsp;
  }
  if (proto == ip::kProtoUdp && off + 8 <= n && LoadU16Be(b + off + 2) == natt_port) {
    const size_t p = off + 8;
    if (p + 8 > n) return InboundKind::kNotEsp;  // keepalive (one 0xFF byte) or short
    const uint32_t first = LoadU32Be(b + p);
    if (first == 0) return InboundKind::kNotEsp;  // non-ESP marker: IKE
    *spi = first;
    return InboundKind::kEsp;
  }
  return InboundKind::kNotEsp;
}

void FetchMax(std::atomic<uint64_t>& a, uint64_t v) {
  uint64_t cur = a.load(std::memory_order_relaxed);
  while (v > cur && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

uint64_t Remaining(uint64_t limit, uint64_t used) {
  if (limit == 0) return 0;
  return limit > used ? limit - used : 1;  // already past: trips on the next packet
}

}  // namespace

std::string_view RuntimeEventName(RuntimeEventType t) {
  switch (t) {
    case RuntimeEventType::kSoftLifetime:
      return "soft-lifetime";
    case RuntimeEventType::kHardLifetime:
      return "hard-lifetime";
    case RuntimeEventType::kSeqOverflow:
      return "seq-overflow";
    case RuntimeEventType::kCardLost:
      return "card-lost";
    case RuntimeEventType::kCardRecovered:
      return "card-recovered";
    case RuntimeEventType::kCardRecoveryFailed:
      return "card-recovery-failed";
    case RuntimeEventType::kSaMovedToSoftware:
      return "sa-moved-to-software";
    case RuntimeEventType::kSaRemoved:
      return "sa-removed";
  }
  return "?";
}

std::string_view RtStatusName(RtStatus s) {
  switch (s) {
    case RtStatus::kOk:
      return "ok";
    case RtStatus::kBypass:
      return "bypass";
    case RtStatus::kDiscard:
      return "discard";
    case RtStatus::kMissingSa:
      return "missing-sa";
    case RtStatus::kDropped:
      return "dropped";
    case RtStatus::kDeviceError:
      return "device-error";
  }
  return "?";
}

// ---- The Device the driver gets: forwards to the runtime's device without owning it ----------
// Driver::Open takes ownership of its Device and frees it with the driver; the runtime needs the
// device (and the packet buffers allocated from it) to outlive a driver that is thrown away after
// a card fault, so each driver gets one of these. DMA regions it hands out are DmaBuffers of the
// real device, released when the driver releases them (or when this forwarder goes).
// Software SAs raise lifetime/overflow events on the data path thread: queue them.
class Runtime::EventSink final : public sa::SaEventSink {
 public:
  EventSink(Runtime* rt, SaHandle h) : rt_(rt), h_(h) {}
  void OnSaEvent(uint32_t /*spi*/, sa::Direction /*direction*/, sa::SaEvent event) override {
    rt_->QueueSoftwareEvent(h_, event);
  }

 private:
  Runtime* rt_;
  SaHandle h_;
};

// ================================ RuntimeQueue (data path) =====================================

RuntimeQueue::RuntimeQueue(Runtime* rt, uint32_t index, uint32_t ring_size) : rt_(rt), q_(index) {
  shadow_.resize(ring_size);
  sh_mask_ = ring_size - 1;
  const size_t local = std::bit_ceil(size_t{ring_size} * 2 + 2 * kMaxBurst);
  local_.resize(local);
  l_mask_ = local - 1;
}

void RuntimeQueue::PushLocal(const RtCompletion& c) {
  local_[l_head_++ & l_mask_] = c;
  switch (c.status) {
    case RtStatus::kBypass:
      counters_.bypass++;
      break;
    case RtStatus::kDiscard:
      counters_.discard++;
      break;
    case RtStatus::kMissingSa:
      counters_.no_sa++;
      break;
    case RtStatus::kDropped:
      counters_.dropped++;
      if (static_cast<size_t>(c.reason) < sa::kNumDropReasons) counters_.drops[static_cast<size_t>(c.reason)]++;
      break;
    case RtStatus::kDeviceError:
      counters_.device_errors++;
      break;
    case RtStatus::kOk:
      break;
  }
}

void RuntimeQueue::Fabricate(const Shadow& sh, RtStatus status, sa::DropReason reason) {
  RtCompletion c;
  c.user_data = sh.user_data;
  c.buf = sh.buf;
  c.status = status;
  c.reason = reason;
  c.sa = sh.sa;
  c.card = true;
  if (status == RtStatus::kDeviceError) {
    if (SaRecord* r = rt_->db_.Get(sh.sa)) r->aborted.fetch_add(1, std::memory_order_relaxed);
  }
  PushLocal(c);
}

void RuntimeQueue::MapCardCompletion(const driver::Completion& c, RtCompletion* out) {
  const Shadow& sh = shadow_[sh_tail_++ & sh_mask_];
  *out = RtCompletion{};
  out->user_data = sh.user_data;
  out->buf = sh.buf;
  out->sa = sh.sa;
  out->card = true;
  out->seq = c.seq;
  SaRecord* r = rt_->db_.Get(sh.sa);
  if (c.ok()) {
    out->buf.offset = c.out_offset;
    out->buf.length = c.out_len;
    out->status = RtStatus::kOk;
    if (r != nullptr) NoteSeq(r, c.seq);
    return;
  }
  const std::optional<sa::DropReason> reason = c.aborted ? std::nullopt : driver::ToDropReason(c.status, c.dir);
  if (!reason) {
    out->status = RtStatus::kDeviceError;
    counters_.device_errors++;
    if (r != nullptr) r->aborted.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  out->status = RtStatus::kDropped;
  out->reason = *reason;
  counters_.dropped++;
  if (static_cast<size_t>(*reason) < sa::kNumDropReasons) counters_.drops[static_cast<size_t>(*reason)]++;
  // An outbound drop after the card assigned a number (too_big) still used it.
  if (r != nullptr && c.dir == card::Dir::kOutbound && c.seq != 0) NoteSeq(r, c.seq);
}

void RuntimeQueue::FlushSeq() {
  if (seq_rec_ != nullptr) FetchMax(seq_rec_->seq_seen, seq_max_);
  seq_rec_ = nullptr;
  seq_max_ = 0;
}

void RuntimeQueue::FlushCard(driver::Driver* drv) {
  size_t done = 0;
  while (done < card_n_) {
    for (size_t k = done; k < card_n_; ++k) {
      const uint64_t idx = sh_head_ + (k - done);
      shadow_[idx & sh_mask_] = card_shadow_[k];
      card_batch_[k].user_data = idx;
    }
    const size_t n = drv->Submit(q_, std::span<const driver::Packet>(card_batch_.data() + done, card_n_ - done));
    sh_head_ += n;
    card_submitted_.store(card_submitted_.load(std::memory_order_relaxed) + n, std::memory_order_release);
    counters_.to_card += n;
    done += n;
    if (done == card_n_) break;
    // Not accepted: the queue failed (complete the rest as device errors), or this packet's buffer
    // cannot be described (malformed; the driver takes nothing after it, so go round again).
    if (!drv->queue_status(q_).ok()) {
      for (; done < card_n_; ++done) Fabricate(card_shadow_[done], RtStatus::kDeviceError, sa::DropReason::kOk);
      break;
    }
    Fabricate(card_shadow_[done], RtStatus::kDropped, sa::DropReason::kMalformed);
    ++done;
  }
  card_n_ = 0;
}

void RuntimeQueue::RunSoftware(SaRecord* r, sa::Direction dir) {
  if (sw_n_ == 0) return;
  size_t ok = 0;
  {
    std::lock_guard lock(r->sw_mu);
    for (size_t k = 0; k < sw_n_; ++k) sw_ptrs_[k] = &sw_bufs_[k];
    if (r->sw == nullptr) {
      for (size_t k = 0; k < sw_n_; ++k) sw_status_[k] = sa::DropReason::kBadSpi;
    } else if (dir == sa::Direction::kOutbound) {
      ok = r->sw->ProcessOutbound(std::span(sw_ptrs_.data(), sw_n_), std::span(sw_status_.data(), sw_n_));
      if (r->sw->next_seq() > 1) FetchMax(r->seq_seen, r->sw->next_seq() - 1);
    } else {
      ok = r->sw->ProcessInbound(std::span(sw_ptrs_.data(), sw_n_), std::span(sw_status_.data(), sw_n_));
      FetchMax(r->seq_seen, r->sw->replay().top());
    }
  }
  (void)ok;
  counters_.to_software += sw_n_;
  for (size_t k = 0; k < sw_n_; ++k) {
    RtCompletion c;
    c.user_data = sw_user_[k];
    c.buf = sw_bufs_[k];
    c.sa = r->handle;
    if (sw_status_[k] == sa::DropReason::kOk) {
      c.status = RtStatus::kOk;
    } else {
      c.status = RtStatus::kDropped;
      c.reason = sw_status_[k];
    }
    PushLocal(c);
  }
  sw_n_ = 0;
  sw_sa_ = nullptr;
}

void RuntimeQueue::Quiesce(uint64_t recovery) {
  if (quiesced_for_.load(std::memory_order_relaxed) == recovery) return;
  if (sh_head_ != sh_tail_) {
    // The driver stays alive until this queue has quiesced: collect what the card finished before
    // the fault (acknowledged work is never lost), then fail the rest.
    driver::Driver* drv = rt_->driver_ptr_.load(std::memory_order_acquire);
    for (int round = 0; drv != nullptr && round < 4 && sh_head_ != sh_tail_; ++round) {
      const size_t want = std::min<uint64_t>(kMaxBurst, sh_head_ - sh_tail_);
      const size_t m = drv->Poll(q_, std::span(dcpl_.data(), want));
      if (m == 0) break;
      for (size_t k = 0; k < m; ++k) {
        RtCompletion c;
        MapCardCompletion(dcpl_[k], &c);
        local_[l_head_++ & l_mask_] = c;
      }
    }
    FlushSeq();
    while (sh_tail_ != sh_head_) {
      const Shadow sh = shadow_[sh_tail_++ & sh_mask_];
      Fabricate(sh, RtStatus::kDeviceError, sa::DropReason::kOk);
    }
  }
  sh_head_ = sh_tail_ = 0;
  card_completed_.store(card_submitted_.load(std::memory_order_relaxed), std::memory_order_release);
  quiesced_for_.store(recovery, std::memory_order_release);
}

size_t RuntimeQueue::Submit(std::span<const RtPacket> pkts) {
  epoch_.fetch_add(1, std::memory_order_seq_cst);
  const uint32_t st = rt_->state_.load(std::memory_order_seq_cst);
  driver::Driver* drv = nullptr;
  if (st == Runtime::kUp) {
    const uint64_t gen = rt_->generation_.load(std::memory_order_acquire);
    if (gen != generation_) generation_ = gen;
    drv = rt_->driver_ptr_.load(std::memory_order_acquire);
  } else if (st != Runtime::kNoCard) {
    Quiesce(rt_->recovery_.load(std::memory_order_acquire));
  }
  const Spd* spd = rt_->spd_.load(std::memory_order_acquire);
  const uint64_t in_flight = sh_head_ - sh_tail_;
  uint64_t card_room = drv != nullptr ? (sh_mask_ + 1) - in_flight : 0;
  // Every accepted packet may end in the local FIFO (card ones when the card fails).
  size_t budget = LocalFree() > in_flight ? LocalFree() - in_flight : 0;
  const uint16_t natt = rt_->options_.natt_port;
  const PolicyAction dflt = rt_->options_.spd_default;
  sa::Direction sw_dir = sa::Direction::kOutbound;

  size_t i = 0;
  for (; i < pkts.size() && budget > 0; ++i) {
    const RtPacket& p = pkts[i];
    RtStatus local = RtStatus::kOk;
    sa::DropReason reason = sa::DropReason::kOk;
    SaHandle h = kNoSa;
    if (p.dir == sa::Direction::kOutbound) {
      h = p.sa;
      if (h == kNoSa) {
        FlowKey key;
        if (!ExtractFlowKey(p.buf.span(), &key)) {
          local = RtStatus::kDropped;
          reason = sa::DropReason::kMalformed;
        } else {
          const SpdRule* rule = spd != nullptr ? spd->Lookup(sa::Direction::kOutbound, key) : nullptr;
          const PolicyAction action = rule != nullptr ? rule->action : dflt;
          if (action == PolicyAction::kBypass) {
            local = RtStatus::kBypass;
          } else if (action == PolicyAction::kDiscard || rule == nullptr) {
            local = RtStatus::kDiscard;
          } else if (rule->tunnel == 0 || rule->tunnel > rt_->max_tunnels_) {
            local = RtStatus::kMissingSa;
          } else {
            h = rt_->tunnels_[rule->tunnel - 1].outbound.load(std::memory_order_acquire);
            if (h == kNoSa) local = RtStatus::kMissingSa;
          }
        }
      }
    } else {
      uint32_t spi = 0;
      const InboundKind kind = ClassifyInbound(p.buf.span(), natt, &spi);
      if (kind == InboundKind::kEsp) {
        h = rt_->db_.FindSpi(spi);
        if (h == kNoSa) {
          local = RtStatus::kMissingSa;
          reason = sa::DropReason::kBadSpi;
        }
      } else if (kind == InboundKind::kMalformed) {
        local = RtStatus::kDropped;
        reason = sa::DropReason::kMalformed;
      } else {
        FlowKey key;
        const SpdRule* rule = nullptr;
        if (ExtractFlowKey(p.buf.span(), &key) && spd != nullptr) rule = spd->Lookup(sa::Direction::kInbound, key);
        const PolicyAction action = rule != nullptr ? rule->action : dflt;
        // Cleartext under a protect rule is discarded (RFC 4301 §5.2).
        local = action == PolicyAction::kBypass ? RtStatus::kBypass : RtStatus::kDiscard;
        reason = sa::DropReason::kNotEsp;
      }
    }
    SaRecord* r = nullptr;
    uint64_t route = 0;
    if (local == RtStatus::kOk) {
      r = rt_->db_.Get(h);
      route = r != nullptr ? r->route.load(std::memory_order_acquire) : 0;
      const RouteKind rk = RouteKindOf(route);
      if (rk == RouteKind::kNone) {
        local = RtStatus::kMissingSa;
      } else if (rk == RouteKind::kPaused) {
        counters_.retries++;
        break;  // NAT update in progress: the caller retries shortly
      } else if (rk == RouteKind::kCard && drv == nullptr) {
        local = RtStatus::kDeviceError;
      } else if (rk == RouteKind::kCard && card_room == 0) {
        break;  // ring full
      }
    }
    if (local != RtStatus::kOk) {
      RtCompletion c;
      c.user_data = p.user_data;
      c.buf = p.buf;
      c.status = local;
      c.reason = reason;
      c.sa = h;
      PushLocal(c);
    } else if (RouteKindOf(route) == RouteKind::kCard) {
      if (sw_n_ > 0) RunSoftware(sw_sa_, sw_dir);
      driver::Packet& d = card_batch_[card_n_];
      d.buf = p.buf;
      d.iova = p.iova;
      d.dir = p.dir == sa::Direction::kOutbound ? card::Dir::kOutbound : card::Dir::kInbound;
      d.sa_index = RouteSlot(route);
      d.sa_valid = true;
      d.irq = false;
      card_shadow_[card_n_] = Shadow{p.user_data, p.buf, h, true};
      ++card_n_;
      --card_room;
      if (card_n_ == kMaxBurst) FlushCard(drv);
    } else {
      if (card_n_ > 0) FlushCard(drv);
      if (sw_n_ > 0 && (sw_sa_ != r || sw_dir != p.dir || sw_n_ == kMaxBurst)) RunSoftware(sw_sa_, sw_dir);
      sw_sa_ = r;
      sw_dir = p.dir;
      sw_bufs_[sw_n_] = p.buf;
      sw_user_[sw_n_] = p.user_data;
      ++sw_n_;
    }
    --budget;
  }
  if (sw_n_ > 0) RunSoftware(sw_sa_, sw_dir);
  if (card_n_ > 0) FlushCard(drv);
  accepted_ += i;
  counters_.submitted += i;
  epoch_.fetch_add(1, std::memory_order_release);
  return i;
}

size_t RuntimeQueue::Poll(std::span<RtCompletion> out) {
  epoch_.fetch_add(1, std::memory_order_seq_cst);
  const uint32_t st = rt_->state_.load(std::memory_order_seq_cst);
  if (st == Runtime::kRecovering || st == Runtime::kDown) Quiesce(rt_->recovery_.load(std::memory_order_acquire));
  size_t n = 0;
  while (n < out.size() && l_tail_ != l_head_) out[n++] = local_[l_tail_++ & l_mask_];
  if (st == Runtime::kUp) {
    const uint64_t gen = rt_->generation_.load(std::memory_order_acquire);
    if (gen != generation_) generation_ = gen;
    driver::Driver* drv = rt_->driver_ptr_.load(std::memory_order_acquire);
    if (drv != nullptr && n < out.size() && sh_head_ != sh_tail_) {
      const size_t want = std::min<size_t>(kMaxBurst, out.size() - n);
      const size_t m = drv->Poll(q_, std::span(dcpl_.data(), want));
      for (size_t k = 0; k < m; ++k) MapCardCompletion(dcpl_[k], &out[n++]);
      FlushSeq();
      card_completed_.store(card_completed_.load(std::memory_order_relaxed) + m, std::memory_order_release);
    }
    // A ring the driver failed alone comes back once it has returned every request.
    if (drv != nullptr && sh_head_ == sh_tail_ && !drv->queue_status(q_).ok()) {
      if (!drv->RecoverQueue(q_).ok()) rt_->RequestRecovery();
    }
  }
  polled_ += n;
  counters_.completed += n;
  epoch_.fetch_add(1, std::memory_order_release);
  return n;
}

// ==================================== Runtime (control) ========================================

Runtime::Runtime(RuntimeOptions options) : options_(std::move(options)), db_(options_.max_sas) {}

Runtime::~Runtime() {
  state_.store(kNoCard, std::memory_order_seq_cst);
  driver_ptr_.store(nullptr);
  driver_.reset();
  {
    std::lock_guard lock(mu_);
    db_.ForEach([&](SaRecord& r) { db_.Release(r.handle); });
  }
  device_.reset();
}

Status Runtime::OpenDriver() {
  ASSIGN_OR_RETURN(driver_, driver::Driver::Open(std::make_unique<driver::BorrowedDevice>(device_.get()), options_.driver));
  caps_ = driver_->caps();
  driver_ptr_.store(driver_.get(), std::memory_order_release);
  return OkStatus();
}

StatusOr<std::unique_ptr<Runtime>> Runtime::Create(RuntimeOptions options) {
  const bool use_card = options.use_card;
  std::unique_ptr<driver::Device> device = std::move(options.device);
  auto rt = std::unique_ptr<Runtime>(new Runtime(std::move(options)));
  uint32_t queues = std::max<uint32_t>(1, rt->options_.driver.queues);
  std::vector<uint32_t> ring_sizes(queues, 1u << std::clamp<uint32_t>(rt->options_.driver.ring_log2, 4, 16));
  if (use_card) {
    if (device == nullptr) {
      ASSIGN_OR_RETURN(device, driver::OpenDevice(rt->options_.device_spec));
    }
    rt->device_ = std::move(device);
    RETURN_IF_ERROR(rt->OpenDriver());
    queues = rt->driver_->queue_count();
    ring_sizes.resize(queues);
    for (uint32_t q = 0; q < queues; ++q) ring_sizes[q] = rt->driver_->ring_size(q);
    rt->slot_owner_.assign(rt->caps_.sa_count, kNoSa);
    rt->slot_reserved_.assign(rt->caps_.sa_count, 0);
    rt->next_out_slot_ = rt->caps_.sa_count - 1;
    rt->state_.store(kUp);
  }
  for (uint32_t q = 0; q < queues; ++q) {
    rt->queues_.push_back(std::unique_ptr<RuntimeQueue>(new RuntimeQueue(rt.get(), q, ring_sizes[q])));
  }
  rt->max_tunnels_ = std::max<uint32_t>(1, rt->options_.max_tunnels);
  rt->tunnels_ = std::make_unique<Tunnel[]>(rt->max_tunnels_);
  rt->PublishSpd(std::make_unique<Spd>());
  return rt;
}

StatusOr<driver::PacketPool> Runtime::CreatePacketPool(uint32_t count, uint32_t buf_bytes) {
  if (device_ == nullptr) {
    // Host memory through a soft card's allocator would tie the pool to a card; without one, make
    // a private soft device just for memory.
    return FailedPreconditionError("no device: use host buffers (iova is ignored on the software path)");
  }
  return driver::PacketPool::Create(*device_, count, buf_bytes);
}

void Runtime::PublishSpd(std::unique_ptr<Spd> next) {
  std::unique_ptr<Spd> old = std::move(spd_live_);
  spd_live_ = std::move(next);
  spd_.store(spd_live_.get(), std::memory_order_release);
  if (old != nullptr) {
    Retirement ret;
    ret.kind = RetireKind::kFreeSpd;
    ret.spd = std::move(old);
    ret.ticket = OpenTicket();
    retiring_.push_back(std::move(ret));
  }
}

Runtime::DrainTicket Runtime::OpenTicket() {
  DrainTicket t;
  t.epoch.resize(queues_.size());
  t.submitted.resize(queues_.size());
  for (size_t q = 0; q < queues_.size(); ++q) t.epoch[q] = queues_[q]->epoch_.load(std::memory_order_seq_cst);
  return t;
}

bool Runtime::TicketDone(DrainTicket& t) {
  if (!t.epochs_passed) {
    for (size_t q = 0; q < queues_.size(); ++q) {
      if ((t.epoch[q] & 1) != 0 && queues_[q]->epoch_.load(std::memory_order_acquire) == t.epoch[q]) return false;
    }
    t.epochs_passed = true;
    for (size_t q = 0; q < queues_.size(); ++q)
      t.submitted[q] = queues_[q]->card_submitted_.load(std::memory_order_acquire);
  }
  for (size_t q = 0; q < queues_.size(); ++q) {
    if (queues_[q]->card_completed_.load(std::memory_order_acquire) < t.submitted[q]) return false;
  }
  return true;
}

size_t Runtime::pending_retirements() {
  std::lock_guard lock(mu_);
  return retiring_.size();
}

StatusOr<uint32_t> Runtime::AddTunnel() {
  std::lock_guard lock(mu_);
  for (uint32_t i = 0; i < tunnel_count_; ++i) {
    if (!tunnels_[i].used) {
      tunnels_[i].used = true;
      return i + 1;
    }
  }
  if (tunnel_count_ >= max_tunnels_) return ResourceExhaustedError("too many tunnels");
  tunnels_[tunnel_count_].used = true;
  return ++tunnel_count_;
}

Status Runtime::RemoveTunnel(uint32_t id) {
  std::lock_guard lock(mu_);
  if (id == 0 || id > tunnel_count_ || !tunnels_[id - 1].used) return NotFoundError("no tunnel " + std::to_string(id));
  Tunnel& t = tunnels_[id - 1];
  if (t.outbound.load() != kNoSa || !t.inbound.empty()) return FailedPreconditionError("tunnel still has SAs");
  t.used = false;
  return OkStatus();
}

StatusOr<uint32_t> Runtime::AddPolicy(const SpdRule& rule) {
  std::lock_guard lock(mu_);
  if (rule.action == PolicyAction::kProtect &&
      (rule.tunnel == 0 || rule.tunnel > tunnel_count_ || !tunnels_[rule.tunnel - 1].used)) {
    return InvalidArgumentError("protect rule names no tunnel");
  }
  ASSIGN_OR_RETURN(uint32_t id, spd_master_.Add(rule));
  PublishSpd(std::make_unique<Spd>(spd_master_));
  return id;
}

Status Runtime::RemovePolicy(uint32_t id) {
  std::lock_guard lock(mu_);
  if (!spd_master_.Remove(id)) return NotFoundError("no SPD rule " + std::to_string(id));
  PublishSpd(std::make_unique<Spd>(spd_master_));
  return OkStatus();
}

StatusOr<uint32_t> Runtime::AllocateSpi() {
  std::lock_guard lock(mu_);
  const uint32_t count = static_cast<uint32_t>(slot_owner_.size());
  auto taken = [&](uint32_t spi) {
    return spi < 256 || db_.FindSpi(spi) != kNoSa ||
           std::find(reserved_spis_.begin(), reserved_spis_.end(), spi) != reserved_spis_.end();
  };
  if (state_.load() == kUp && count > 0) {
    for (uint32_t tries = 0; tries < count; ++tries) {
      const uint32_t slot = spi_cursor_++ & (count - 1);
      if (slot_owner_[slot] != kNoSa || slot_reserved_[slot]) continue;
      for (int k = 0; k < 4; ++k) {
        const uint32_t spi = static_cast<uint32_t>((uint64_t{spi_hi_++} * count + slot) & 0xffffffffu);
        if (taken(spi)) continue;
        slot_reserved_[slot] = 1;
        reserved_spis_.push_back(spi);
        return spi;
      }
    }
  }
  for (int k = 0; k < 1 << 20; ++k) {
    const uint32_t spi = 0x10000000u + spi_hi_++;
    if (taken(spi)) continue;
    reserved_spis_.push_back(spi);
    return spi;
  }
  return ResourceExhaustedError("no free SPI");
}

void Runtime::ReleaseSpi(uint32_t spi) {
  std::lock_guard lock(mu_);
  auto it = std::find(reserved_spis_.begin(), reserved_spis_.end(), spi);
  if (it == reserved_spis_.end()) return;
  reserved_spis_.erase(it);
  if (!slot_reserved_.empty()) slot_reserved_[spi & (slot_reserved_.size() - 1)] = 0;
}

StatusOr<uint32_t> Runtime::FreeOutboundSlot() {
  const uint32_t count = static_cast<uint32_t>(slot_owner_.size());
  for (uint32_t tries = 0; tries < count; ++tries) {
    const uint32_t slot = next_out_slot_;
    next_out_slot_ = next_out_slot_ == 0 ? count - 1 : next_out_slot_ - 1;
    if (slot_owner_[slot] == kNoSa && !slot_reserved_[slot]) return slot;
  }
  return ResourceExhaustedError("card SA table full");
}

sa::SaConfig Runtime::ReinstallConfig(const SaRecord& r, uint64_t next_seq) const {
  sa::SaConfig c = r.config;
  if (c.direction == sa::Direction::kOutbound) c.initial_seq = next_seq;
  sa::Lifetime& l = c.lifetime;
  l.soft_bytes = r.soft_reported ? 0 : Remaining(l.soft_bytes, r.base_bytes);
  l.soft_packets = r.soft_reported ? 0 : Remaining(l.soft_packets, r.base_packets);
  l.hard_bytes = Remaining(l.hard_bytes, r.base_bytes);
  l.hard_packets = Remaining(l.hard_packets, r.base_packets);
  return c;
}

uint64_t Runtime::NextOutboundSeq(const SaRecord& r) const {
  uint64_t next = r.config.initial_seq;
  const uint64_t seen = r.seq_seen.load(std::memory_order_acquire);
  if (seen != 0) next = std::max(next, seen + 1);
  if (r.last.valid) next = std::max(next, r.last.seq);
  // Requests failed while on the card may have spent numbers we never saw.
  return next + r.aborted.load(std::memory_order_acquire);
}

uint64_t Runtime::InboundTop(const SaRecord& r) const {
  uint64_t top = r.seq_seen.load(std::memory_order_acquire);
  if (r.last.valid) top = std::max(top, r.last.seq);
  return top;
}

Status Runtime::InstallOnCard(SaRecord& r, uint32_t slot, uint64_t next_seq) {
  const sa::SaConfig cfg = ReinstallConfig(r, next_seq);
  sa::KeyMaterial keys{r.keys.enc_key.Clone(), r.keys.auth_key.Clone()};
  stats_.installs++;
  Status st = driver_->InstallSa(slot, cfg, keys);
  if (!st.ok()) {
    stats_.install_failures++;
    return st;
  }
  slot_owner_[slot] = r.handle;
  r.card_slot = slot;
  r.placement = Placement::kCard;
  r.refusal = {};
  r.last = {};
  r.aborted.store(0, std::memory_order_relaxed);
  r.route.store(PackRoute(RouteKind::kCard, slot), std::memory_order_release);
  return OkStatus();
}

Status Runtime::PlaceInSoftware(SaRecord& r, const CardFit& why, uint64_t next_seq, uint64_t replay_top) {
  sa::SaConfig cfg = ReinstallConfig(r, next_seq);
  ASSIGN_OR_RETURN(std::unique_ptr<esp::EspSa> sw,
                   esp::EspSa::Create(cfg, sa::KeyMaterial{r.keys.enc_key.Clone(), r.keys.auth_key.Clone()},
                                      options_.provider, r.sink.get()));
  if (replay_top != 0 || (r.config.direction == sa::Direction::kOutbound && next_seq != cfg.initial_seq)) {
    RETURN_IF_ERROR(sw->RestoreState(r.config.direction == sa::Direction::kOutbound ? next_seq : 1, replay_top));
  }
  {
    std::lock_guard lock(r.sw_mu);
    r.sw = std::move(sw);
  }
  r.placement = Placement::kSoftware;
  r.refusal = why;
  r.route.store(PackRoute(RouteKind::kSoftware), std::memory_order_release);
  return OkStatus();
}

Status Runtime::PlaceSa(SaRecord& r, bool force_software) {
  CardFit fit;
  if (force_software) {
    fit = {CardRefusal::kForced, "the caller asked for the software path"};
  } else if (state_.load() != kUp) {
    fit = {CardRefusal::kNoCard, device_ == nullptr ? "runtime without a card" : "card down: " + fault_reason_};
  } else {
    fit = CheckCardFit(caps_, r.config);
  }
  if (fit.ok()) {
    uint32_t slot = 0;
    if (r.config.direction == sa::Direction::kInbound) {
      slot = driver_->InboundSlot(r.config.spi);
      if (slot_owner_[slot] != kNoSa) {
        const SaRecord* other = db_.Get(slot_owner_[slot]);
        fit = {CardRefusal::kSlotTaken, "slot " + std::to_string(slot) + " (SPI mod " + std::to_string(caps_.sa_count) +
                                            ") holds SPI " + std::to_string(other ? other->config.spi : 0)};
      } else if (slot_reserved_[slot]) {
        // Reserved by an allocated SPI: only that SPI may take it.
        if (std::find(reserved_spis_.begin(), reserved_spis_.end(), r.config.spi) == reserved_spis_.end()) {
          fit = {CardRefusal::kSlotTaken, "slot " + std::to_string(slot) + " is reserved for an allocated SPI"};
        }
      }
    } else {
      auto s = FreeOutboundSlot();
      if (s.ok()) {
        slot = *s;
      } else {
        fit = {CardRefusal::kTableFull, s.status().message()};
      }
    }
    if (fit.ok()) {
      Status st = InstallOnCard(r, slot, r.config.initial_seq);
      if (st.ok()) return st;
      fit = {CardRefusal::kCardError, st.message()};
    }
  }
  return PlaceInSoftware(r, fit, r.config.initial_seq, 0);
}

StatusOr<SaHandle> Runtime::AddSa(const sa::SaConfig& config, sa::KeyMaterial keys, const SaOptions& options) {
  RETURN_IF_ERROR(config.Validate());
  RETURN_IF_ERROR(keys.ValidateFor(config.suite));
  if (config.protocol != sa::Protocol::kEsp) return UnimplementedError("the runtime carries ESP SAs only");
  std::lock_guard lock(mu_);
  if (options.tunnel != 0 && (options.tunnel > tunnel_count_ || !tunnels_[options.tunnel - 1].used)) {
    return NotFoundError("no tunnel " + std::to_string(options.tunnel));
  }
  const bool inbound = config.direction == sa::Direction::kInbound;
  if (inbound && db_.FindSpi(config.spi) != kNoSa) {
    return AlreadyExistsError("inbound SPI " + std::to_string(config.spi) + " already installed");
  }
  ASSIGN_OR_RETURN(SaHandle h, db_.Insert(config, std::move(keys)));
  SaRecord& r = *db_.Get(h);
  r.tunnel = options.tunnel;
  r.sink = std::make_unique<EventSink>(this, h);
  Status st = PlaceSa(r, options.force_software);
  if (!st.ok()) {
    db_.Release(h);
    return st;
  }
  r.state = SaState::kActive;
  if (inbound) {
    auto it = std::find(reserved_spis_.begin(), reserved_spis_.end(), config.spi);
    if (it != reserved_spis_.end()) {
      reserved_spis_.erase(it);
      if (!slot_reserved_.empty()) slot_reserved_[config.spi & (slot_reserved_.size() - 1)] = 0;
    }
    if (Status indexed = db_.IndexSpi(config.spi, h); !indexed.ok()) {
      if (r.placement == Placement::kCard) {
        (void)driver_->DeleteSa(r.card_slot);
        slot_owner_[r.card_slot] = kNoSa;
      }
      db_.Release(h);
      return indexed;
    }
    if (options.tunnel != 0) tunnels_[options.tunnel - 1].inbound.push_back(h);
  } else if (options.tunnel != 0) {
    SaHandle none = kNoSa;
    tunnels_[options.tunnel - 1].outbound.compare_exchange_strong(none, h, std::memory_order_acq_rel);
  }
  return h;
}

void Runtime::Unlink(SaRecord& r) {
  r.route.store(PackRoute(RouteKind::kNone), std::memory_order_release);
  if (r.config.direction == sa::Direction::kInbound) {
    db_.UnindexSpi(r.config.spi);
    if (r.tunnel != 0) {
      auto& in = tunnels_[r.tunnel - 1].inbound;
      in.erase(std::remove(in.begin(), in.end(), r.handle), in.end());
    }
  } else if (r.tunnel != 0) {
    SaHandle me = r.handle;
    tunnels_[r.tunnel - 1].outbound.compare_exchange_strong(me, kNoSa, std::memory_order_acq_rel);
  }
  r.tunnel = 0;
  r.state = SaState::kDraining;
  Retirement ret;
  ret.kind = RetireKind::kDelete;
  ret.sa = r.handle;
  ret.ticket = OpenTicket();
  retiring_.push_back(std::move(ret));
}

Status Runtime::SwitchOutbound(uint32_t tunnel, SaHandle h) {
  std::lock_guard lock(mu_);
  if (tunnel == 0 || tunnel > tunnel_count_ || !tunnels_[tunnel - 1].used) return NotFoundError("no such tunnel");
  SaRecord* r = db_.Get(h);
  if (r == nullptr || r->state != SaState::kActive || r->config.direction != sa::Direction::kOutbound) {
    return FailedPreconditionError("not an active outbound SA");
  }
  if (r->tunnel != tunnel) return InvalidArgumentError("the SA is not attached to this tunnel");
  const SaHandle old = tunnels_[tunnel - 1].outbound.exchange(h, std::memory_order_acq_rel);
  if (old != kNoSa && old != h) {
    SaRecord* o = db_.Get(old);
    if (o != nullptr && o->state != SaState::kDraining && o->state != SaState::kFree) {
      o->tunnel = 0;  // already unlinked from the tunnel by the exchange
      Unlink(*o);
    }
  }
  return OkStatus();
}

Status Runtime::DeleteSa(SaHandle h) {
  std::lock_guard lock(mu_);
  SaRecord* r = db_.Get(h);
  if (r == nullptr || r->state == SaState::kFree) return NotFoundError("no SA " + std::to_string(h));
  if (r->state == SaState::kDraining) return OkStatus();
  if (r->state == SaState::kParked) {
    db_.Release(h);
    return OkStatus();
  }
  Unlink(*r);
  return OkStatus();
}

Status Runtime::UpdateEndpoints(SaHandle h, const EndpointUpdate& u) {
  std::lock_guard lock(mu_);
  SaRecord* r = db_.Get(h);
  if (r == nullptr || r->state != SaState::kActive) return FailedPreconditionError("not an active SA");
  sa::SaConfig next = r->config;
  if (u.tunnel_src) next.tunnel_src = u.tunnel_src;
  if (u.tunnel_dst) next.tunnel_dst = u.tunnel_dst;
  if (u.udp_encap) next.udp_encap = u.udp_encap;
  RETURN_IF_ERROR(next.Validate());
  const bool outbound = next.direction == sa::Direction::kOutbound;
  if (r->placement == Placement::kSoftware) {
    // Rebuild the EspSa with the new endpoints and the old one's sequence state.
    std::lock_guard sw_lock(r->sw_mu);
    const uint64_t next_seq = r->sw->next_seq();
    const uint64_t top = r->sw->replay().top();
    ASSIGN_OR_RETURN(std::unique_ptr<esp::EspSa> sw,
                     esp::EspSa::Create(next, sa::KeyMaterial{r->keys.enc_key.Clone(), r->keys.auth_key.Clone()},
                                        options_.provider, r->sink.get()));
    RETURN_IF_ERROR(sw->RestoreState(outbound ? next_seq : 1, outbound ? 0 : top));
    r->sw = std::move(sw);
    r->config = next;
    return OkStatus();
  }
  bool rewrite = outbound;
  if (!outbound) {
    // The card checks an inbound SA's UDP destination port and, with verify_tunnel_addresses, the
    // outer addresses; the peer's source port and address are not checked.
    const auto& o = r->config;
    rewrite = o.udp_encap.has_value() != next.udp_encap.has_value() ||
              (o.udp_encap && next.udp_encap && o.udp_encap->dst_port != next.udp_encap->dst_port) ||
              (o.verify_tunnel_addresses && (o.tunnel_src != next.tunnel_src || o.tunnel_dst != next.tunnel_dst));
  }
  r->config = next;
  if (!rewrite) return OkStatus();
  r->state = SaState::kUpdating;
  r->route.store(PackRoute(RouteKind::kPaused), std::memory_order_release);
  Retirement ret;
  ret.kind = RetireKind::kNatReinstall;
  ret.sa = h;
  ret.ticket = OpenTicket();
  retiring_.push_back(std::move(ret));
  return OkStatus();
}

void Runtime::FinishRetirement(Retirement& ret) {
  if (ret.kind == RetireKind::kFreeSpd) return;  // the unique_ptr frees it
  SaRecord* r = db_.Get(ret.sa);
  if (r == nullptr) return;
  if (ret.kind == RetireKind::kDelete) {
    if (r->state != SaState::kDraining) return;
    if (r->placement == Placement::kCard && r->card_slot < slot_owner_.size() &&
        slot_owner_[r->card_slot] == r->handle) {
      if (state_.load() == kUp) (void)driver_->DeleteSa(r->card_slot);  // a lost card is wiped on reset anyway
      slot_owner_[r->card_slot] = kNoSa;
    }
    Emit({RuntimeEventType::kSaRemoved, r->handle, r->config.spi, r->config.direction, 0, ""});
    db_.Release(r->handle);
    return;
  }
  // kNatReinstall
  if (r->state != SaState::kUpdating || r->placement != Placement::kCard) return;
  if (state_.load() != kUp) return;  // recovery reinstalls it with the new config
  auto counters = driver_->ReadSaCounters(r->card_slot);
  if (!counters.ok()) {
    BeginRecovery(counters.status());
    return;
  }
  r->last = *counters;
  const bool outbound = r->config.direction == sa::Direction::kOutbound;
  const uint64_t next_seq = NextOutboundSeq(*r);
  const uint64_t top = InboundTop(*r);
  r->base_packets += counters->packets;
  r->base_bytes += counters->bytes;
  r->last = {};
  r->state = SaState::kActive;
  const uint32_t slot = r->card_slot;
  if (!outbound && r->config.replay_window != 0 && top != 0 && options_.inbound_restore == InboundRestore::kSoftware) {
    (void)driver_->DeleteSa(slot);
    slot_owner_[slot] = kNoSa;
    CardFit why{
        CardRefusal::kReplayRestore,
        "NAT update rewrites the slot; the card cannot restore the replay window (top " + std::to_string(top) + ")"};
    if (PlaceInSoftware(*r, why, 1, top).ok()) {
      stats_.sas_moved_to_software++;
      Emit({RuntimeEventType::kSaMovedToSoftware, r->handle, r->config.spi, r->config.direction, top, why.detail});
    }
    return;
  }
  Status st = InstallOnCard(*r, slot, outbound ? next_seq : 1);
  if (!outbound && st.ok() && r->config.replay_window != 0 && top != 0) r->replay_window_reset = true;
  if (!st.ok()) {
    (void)driver_->DeleteSa(slot);
    slot_owner_[slot] = kNoSa;
    CardFit why{CardRefusal::kCardError, st.message()};
    if (PlaceInSoftware(*r, why, next_seq, outbound ? 0 : top).ok()) {
      stats_.sas_moved_to_software++;
      Emit({RuntimeEventType::kSaMovedToSoftware, r->handle, r->config.spi, r->config.direction, 0, why.detail});
    }
  }
}

StatusOr<SaInfo> Runtime::GetSa(SaHandle h) {
  std::lock_guard lock(mu_);
  SaRecord* r = db_.Get(h);
  if (r == nullptr || r->state == SaState::kFree) return NotFoundError("no SA " + std::to_string(h));
  return Describe(*r);
}

std::vector<SaInfo> Runtime::ListSas() {
  std::lock_guard lock(mu_);
  std::vector<SaInfo> out;
  out.reserve(db_.size());
  db_.ForEach([&](SaRecord& r) { out.push_back(Describe(r)); });
  return out;
}

SaInfo Runtime::Describe(SaRecord& r) {
  SaInfo i;
  i.handle = r.handle;
  i.spi = r.config.spi;
  i.direction = r.config.direction;
  i.state = r.state;
  i.placement = r.placement;
  i.card_slot = r.card_slot;
  i.refusal = r.refusal;
  i.replay_window_reset = r.replay_window_reset;
  i.tunnel = r.tunnel;
  i.config = r.config;
  i.packets = r.base_packets;
  i.bytes = r.base_bytes;
  const bool outbound = r.config.direction == sa::Direction::kOutbound;
  if (r.placement == Placement::kCard && state_.load() == kUp) {
    auto c = driver_->ReadSaCounters(r.card_slot);
    if (c.ok()) r.last = *c;
    i.packets += r.last.packets;
    i.bytes += r.last.bytes;
    i.drops[static_cast<size_t>(sa::DropReason::kAuthFailed)] = r.last.auth_failed;
    i.drops[static_cast<size_t>(sa::DropReason::kReplay)] = r.last.replay;
    i.card_other_drops = r.last.other_drops;
    i.seq = outbound ? NextOutboundSeq(r) - r.aborted.load() : InboundTop(r);
  } else if (r.placement == Placement::kSoftware) {
    std::lock_guard sw_lock(r.sw_mu);
    if (r.sw) {
      i.packets += r.sw->counters().packets;
      i.bytes += r.sw->counters().bytes;
      i.drops = r.sw->counters().drops;
      i.seq = outbound ? r.sw->next_seq() : r.sw->replay().top();
    }
  }
  return i;
}

std::string_view Runtime::card_state() const {
  switch (state_.load(std::memory_order_acquire)) {
    case kUp:
      return "up";
    case kRecovering:
      return "recovering";
    case kDown:
      return "down";
    default:
      return "none";
  }
}

std::string Runtime::last_fault() {
  std::lock_guard lock(mu_);
  return fault_reason_;
}

driver::Capabilities Runtime::CapsSnapshot() {
  std::lock_guard lock(mu_);
  return caps_;
}

void Runtime::Emit(RuntimeEvent e) {
  stats_.events++;
  pending_.push_back(std::move(e));
}

void Runtime::QueueSoftwareEvent(SaHandle h, sa::SaEvent ev) {
  RuntimeEvent e;
  e.type = ev == sa::SaEvent::kSoftLifetime   ? RuntimeEventType::kSoftLifetime
           : ev == sa::SaEvent::kHardLifetime ? RuntimeEventType::kHardLifetime
                                              : RuntimeEventType::kSeqOverflow;
  e.sa = h;
  if (const SaRecord* r = db_.Get(h)) {
    e.spi = r->config.spi;
    e.direction = r->config.direction;
  }
  e.detail = "software path";
  std::lock_guard lock(ev_mu_);
  sw_events_.push_back(std::move(e));
}

void Runtime::CheckSaFlags(SaRecord& r) {
  const driver::SaCardCounters& c = r.last;
  if (c.soft_expired && !r.soft_reported) {
    r.soft_reported = true;
    Emit({RuntimeEventType::kSoftLifetime, r.handle, r.config.spi, r.config.direction, c.bytes, "from SA_STATE"});
  }
  if (c.hard_expired && !r.hard_reported) {
    r.hard_reported = true;
    Emit({RuntimeEventType::kHardLifetime, r.handle, r.config.spi, r.config.direction, c.bytes, "from SA_STATE"});
  }
  if (c.seq_exhausted && !r.seq_reported) {
    r.seq_reported = true;
    Emit({RuntimeEventType::kSeqOverflow, r.handle, r.config.spi, r.config.direction, c.seq, "from SA_STATE"});
  }
}

void Runtime::HandleCardEvent(const card::Event& e) {
  switch (e.kind) {
    case card::EventType::kSoftLifetime:
    case card::EventType::kHardLifetime:
    case card::EventType::kSeqOverflow: {
      if (e.sa_index >= slot_owner_.size() || slot_owner_[e.sa_index] == kNoSa) return;
      SaRecord* r = db_.Get(slot_owner_[e.sa_index]);
      if (r == nullptr) return;
      RuntimeEventType t = RuntimeEventType::kSeqOverflow;
      bool* reported = &r->seq_reported;
      if (e.kind == card::EventType::kSoftLifetime) {
        t = RuntimeEventType::kSoftLifetime;
        reported = &r->soft_reported;
      } else if (e.kind == card::EventType::kHardLifetime) {
        t = RuntimeEventType::kHardLifetime;
        reported = &r->hard_reported;
      }
      if (*reported) return;
      *reported = true;
      Emit({t, r->handle, r->config.spi, r->config.direction, e.info, "card event"});
      return;
    }
    case card::EventType::kEventsLost:
      SweepCounters();  // SA_STATE is sticky: nothing is missed
      return;
    case card::EventType::kFatal:
      BeginRecovery(InternalError("card reported a fatal error"));
      return;
    default:
      return;  // queue errors: the driver fails the ring, its owner recovers it
  }
}

void Runtime::SweepCounters() {
  for (uint32_t slot = 0; slot < slot_owner_.size() && state_.load() == kUp; ++slot) {
    if (slot_owner_[slot] == kNoSa) continue;
    SaRecord* r = db_.Get(slot_owner_[slot]);
    if (r == nullptr) continue;
    auto c = driver_->ReadSaCounters(slot);
    if (!c.ok()) {
      BeginRecovery(c.status());
      return;
    }
    r->last = *c;
    CheckSaFlags(*r);
  }
}

void Runtime::BeginRecovery(const Status& why) {
  if (state_.load() != kUp) return;
  fault_reason_ = why.message();
  recovery_.fetch_add(1, std::memory_order_seq_cst);
  state_.store(kRecovering, std::memory_order_seq_cst);
  stats_.card_faults++;
  Emit({RuntimeEventType::kCardLost, kNoSa, 0, sa::Direction::kOutbound, 0, fault_reason_});
}

Status Runtime::TryRecover() {
  const uint64_t rid = recovery_.load(std::memory_order_seq_cst);
  for (size_t q = 0; q < queues_.size(); ++q) {
    RuntimeQueue& Q = *queues_[q];
    if (Q.quiesced_for_.load(std::memory_order_acquire) == rid) continue;
    const uint64_t e = Q.epoch_.load(std::memory_order_seq_cst);
    // An idle owner with nothing on the card: it will see the state before touching the driver.
    if ((e & 1) == 0 &&
        Q.card_submitted_.load(std::memory_order_acquire) == Q.card_completed_.load(std::memory_order_acquire)) {
      continue;
    }
    return UnavailableError("waiting for queue " + std::to_string(q) + " to return its card requests");
  }
  driver_ptr_.store(nullptr, std::memory_order_release);
  driver_.reset();
  Status st = OpenDriver();
  if (!st.ok()) {
    state_.store(kDown, std::memory_order_seq_cst);
    if (!down_reported_) {
      Emit({RuntimeEventType::kCardRecoveryFailed, kNoSa, 0, sa::Direction::kOutbound, 0, st.message()});
      down_reported_ = true;
    }
    return st;
  }
  down_reported_ = false;
  slot_owner_.assign(caps_.sa_count, kNoSa);
  slot_reserved_.assign(caps_.sa_count, 0);
  for (uint32_t spi : reserved_spis_) slot_reserved_[spi & (caps_.sa_count - 1)] = 1;
  next_out_slot_ = caps_.sa_count - 1;
  // Reinstall every card SA (draining ones are simply dropped: the reset wiped them).
  db_.ForEach([&](SaRecord& r) {
    if (r.placement != Placement::kCard) return;
    if (r.state == SaState::kDraining) {
      r.route.store(PackRoute(RouteKind::kNone), std::memory_order_release);
      return;
    }
    const bool outbound = r.config.direction == sa::Direction::kOutbound;
    const uint64_t next_seq = NextOutboundSeq(r);
    const uint64_t top = InboundTop(r);
    if (r.last.valid) {
      r.base_packets += r.last.packets;
      r.base_bytes += r.last.bytes;
    }
    r.last = {};
    if (r.state == SaState::kUpdating) r.state = SaState::kActive;
    CardFit why;
    if (!outbound && r.config.replay_window != 0 && top != 0 && options_.inbound_restore == InboundRestore::kSoftware) {
      why = {CardRefusal::kReplayRestore,
             "card reset: the contract cannot restore a replay window's top (highest "
             "authenticated " +
                 std::to_string(top) + ")"};
    } else {
      uint32_t slot = 0;
      bool have_slot = true;
      if (!outbound) {
        slot = driver_->InboundSlot(r.config.spi);
        have_slot = slot_owner_[slot] == kNoSa;
      } else if (r.card_slot < caps_.sa_count && slot_owner_[r.card_slot] == kNoSa) {
        slot = r.card_slot;
      } else {
        auto s = FreeOutboundSlot();
        have_slot = s.ok();
        if (s.ok()) slot = *s;
      }
      const CardFit fit = CheckCardFit(caps_, r.config);
      if (!fit.ok()) {
        why = fit;
      } else if (!have_slot) {
        why = {CardRefusal::kTableFull, "no slot after the reset"};
      } else {
        Status s = InstallOnCard(r, slot, outbound ? next_seq : 1);
        if (s.ok()) {
          stats_.sas_reinstalled++;
          if (!outbound && r.config.replay_window != 0 && top != 0) r.replay_window_reset = true;
          return;
        }
        why = {CardRefusal::kCardError, s.message()};
      }
    }
    if (PlaceInSoftware(r, why, outbound ? next_seq : 1, outbound ? 0 : top).ok()) {
      stats_.sas_moved_to_software++;
      Emit({RuntimeEventType::kSaMovedToSoftware, r.handle, r.config.spi, r.config.direction, outbound ? next_seq : top,
            why.detail});
    } else {
      r.route.store(PackRoute(RouteKind::kNone), std::memory_order_release);
    }
  });
  stats_.recoveries++;
  generation_.fetch_add(1, std::memory_order_acq_rel);
  state_.store(kUp, std::memory_order_seq_cst);
  Emit({RuntimeEventType::kCardRecovered, kNoSa, 0, sa::Direction::kOutbound, 0, "after: " + fault_reason_});
  return OkStatus();
}

Status Runtime::Service() {
  Status result;
  std::vector<RuntimeEvent> deliver;
  {
    std::lock_guard lock(mu_);
    ++service_calls_;
    if (state_.load() == kUp) {
      std::array<card::Event, 32> evs;
      for (int round = 0; round < 64 && state_.load() == kUp; ++round) {
        const size_t n = driver_->PollEvents(evs);
        for (size_t k = 0; k < n; ++k) HandleCardEvent(evs[k]);
        if (n < evs.size()) break;
      }
    }
    if (state_.load() == kUp) {
      Status health = driver_->CheckHealth();
      if (health.ok()) {
        // A card that reset behind the driver answers with its magic but is no longer enabled.
        auto status = device_->Read32(card::reg::kCtrlStatus);
        if (!status.ok()) {
          health = status.status();
        } else if (!card::field::kCtrlStatusEnabled.Get(*status)) {
          health = UnavailableError("card reset: CTRL_STATUS.ENABLED is 0");
        }
      }
      if (health.ok() && fault_requested_.exchange(false)) health = UnavailableError("a ring could not be recovered");
      if (!health.ok() && health.code() != StatusCode::kDataLoss) {
        BeginRecovery(health);
      } else if (options_.counter_poll_every != 0 && service_calls_ % options_.counter_poll_every == 0) {
        SweepCounters();
      }
    }
    const uint32_t st = state_.load();
    if (st == kRecovering || st == kDown) result = TryRecover();
    for (size_t i = 0; i < retiring_.size();) {
      if (TicketDone(retiring_[i].ticket)) {
        Retirement ret = std::move(retiring_[i]);
        retiring_.erase(retiring_.begin() + static_cast<ptrdiff_t>(i));
        FinishRetirement(ret);
      } else {
        ++i;
      }
    }
    {
      std::lock_guard ev_lock(ev_mu_);
      for (auto& e : sw_events_) pending_.push_back(std::move(e));
      sw_events_.clear();
    }
    deliver.swap(pending_);
  }
  if (options_.on_event) {
    for (const auto& e : deliver) options_.on_event(e);
  } else if (!deliver.empty()) {
    std::lock_guard ev_lock(ev_mu_);
    for (auto& e : deliver) events_.push_back(std::move(e));
  }
  return result;
}

std::vector<RuntimeEvent> Runtime::TakeEvents() {
  std::lock_guard lock(ev_mu_);
  std::vector<RuntimeEvent> out;
  out.swap(events_);
  return out;
}

RuntimeStats Runtime::stats() {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace ipsec::runtime
