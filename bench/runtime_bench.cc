// runtime_bench: the ring and runtime overhead without crypto, the host SA database at 1 million
// SAs, and SA installs through the card's command path (issue 6's performance targets:
// >= 20 M descriptors/s per core through the ring layer, >= 100,000 SA installs/s).
//
// What is measured, honestly:
//   1. Ring layer: driver::Driver Submit/Poll (and RuntimeQueue Submit/Poll on top) against
//      NullEngineDevice, a Device defined here that forwards bring-up and registers to a SoftCard
//      but completes descriptors itself the moment the doorbell is written, with no crypto (output
//      = input). SoftCard has no no-crypto mode and driver/ is not ours to change, so the "card"
//      side here is ~20 lines of descriptor decode + completion encode; what the figure measures is
//      the host's cost per descriptor (descriptor write, doorbell, phase-bit poll, checks, release)
//      plus that minimal card stand-in, on one core.
//   2. SA database: SaDatabase::Insert (+ SPI index for inbound SAs) of 1,000,000 SAs; memory per
//      SA from the allocator's counters (records, keys, index).
//   3. SA installs through the command path: Runtime::AddSa (validation, capability check, slot,
//      sa_params encoding, the SA window's staging writes, SA_CMD, status poll) with 1 million
//      SAs already in the host database, (a) on `soft` (includes SoftCard building an EspSa, i.e.
//      an AES key schedule, per install: the model's cost, not the host's) and (b) on the null
//      device answering SA commands at once (the host side of the command path alone).
//
// Usage: runtime_bench [--quick | --ring | --profile-runtime | --profile-driver | --profile-soft]
//   --ring             section 1 only (for repeated runs: median and spread)
//   --profile-*        one ring path alone for 3 s, for perf
#include <malloc.h>

#include <atomic>
#include <bit>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "driver/driver.h"
#include "driver/packet_pool.h"
#include "driver/soft/soft_card.h"
#include "host/common/bytes.h"
#include "host/common/ip.h"
#include "host/runtime/runtime.h"

namespace ipsec {
namespace {

using Clock = std::chrono::steady_clock;
namespace reg = card::reg;
namespace fld = card::field;

// Rates are per core: the thread's CPU time, not wall time, so that other processes on a shared
// machine do not deflate them (the wall-clock rate is printed beside it).
double CpuNow() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
double Seconds(double a, double b) {
  return b - a;
}
double WallNow() {
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

size_t HeapBytes() {
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

// A Device over a SoftCard that completes ring descriptors without crypto, and optionally answers
// SA commands without the model's work (null_sa).
class NullEngineDevice final : public driver::Device {
 public:
  NullEngineDevice(std::unique_ptr<driver::SoftCard> card, bool null_sa) : card_(std::move(card)), null_sa_(null_sa) {}
  std::string_view backend() const override { return "null-engine"; }

  StatusOr<uint32_t> Read32(uint32_t offset) override {
    if (null_sa_ && offset == reg::kSaStatus) {
      return fld::kSaStatusValid.Put(0, 1) | fld::kSaStatusResult.Put(0, static_cast<uint32_t>(card::SaResult::kOk));
    }
    return card_->Read32(offset);
  }
  Status Write32(uint32_t offset, uint32_t value) override {
    if (null_sa_ && offset == reg::kSaCmd) return OkStatus();
    if (null_sa_ && offset >= reg::kSaIndex && offset < reg::kSaCmd + 0x100 && offset != reg::kSaStatus) {
      return OkStatus();  // staging registers: the host's writes are what we time
    }
    if (offset >= reg::kRingBase && offset < reg::kRingBase + reg::kRingMaxCount * reg::kRingStride) {
      const uint32_t n = (offset - reg::kRingBase) / reg::kRingStride;
      const uint32_t r = (offset - reg::kRingBase) % reg::kRingStride;
      Ring& ring = rings_[n];
      switch (r) {
        case reg::kRingRqBaseLo:
          ring.rq = (ring.rq & ~0xffffffffull) | value;
          break;
        case reg::kRingRqBaseHi:
          ring.rq = (ring.rq & 0xffffffffull) | (uint64_t{value} << 32);
          break;
        case reg::kRingCqBaseLo:
          ring.cq = (ring.cq & ~0xffffffffull) | value;
          break;
        case reg::kRingCqBaseHi:
          ring.cq = (ring.cq & 0xffffffffull) | (uint64_t{value} << 32);
          break;
        case reg::kRingCtrl:
          if (fld::kRingCtrlEnable.Get(value) && !ring.enabled) {
            ring.rq_log2 = fld::kRingCtrlRqSizeLog2.Get(value);
            ring.cq_log2 = fld::kRingCtrlCqSizeLog2.Get(value);
            ring.rq_host = Host(ring.rq);
            ring.cq_host = Host(ring.cq);
            ring.rq_cons = ring.cq_prod = 0;
          }
          ring.enabled = fld::kRingCtrlEnable.Get(value) != 0;
          break;
        case reg::kRingRqProd:
          Process(ring, static_cast<uint16_t>(value));
          return OkStatus();  // the SoftCard never sees the doorbell
        case reg::kRingCqCons:
          return OkStatus();
        default:
          break;
      }
    }
    return card_->Write32(offset, value);
  }
  StatusOr<uint64_t> WaitIrq(std::chrono::microseconds timeout) override { return card_->WaitIrq(timeout); }

 protected:
  StatusOr<driver::DmaRegion> MapDma(size_t bytes, size_t align) override {
    ASSIGN_OR_RETURN(driver::DmaBuffer b, card_->AllocDma(bytes, align));
    driver::DmaRegion r = b.region();
    std::lock_guard lock(mu_);
    live_.emplace(r.iova, std::move(b));
    return r;
  }
  void UnmapDma(const driver::DmaRegion& region) override {
    std::lock_guard lock(mu_);
    live_.erase(region.iova);
  }

 private:
  struct Ring {
    uint64_t rq = 0, cq = 0;
    std::byte* rq_host = nullptr;
    std::byte* cq_host = nullptr;
    uint32_t rq_log2 = 0, cq_log2 = 0;
    uint16_t rq_cons = 0, cq_prod = 0;
    bool enabled = false;
  };
  std::byte* Host(uint64_t iova) {
    std::lock_guard lock(mu_);
    auto it = live_.upper_bound(iova);
    if (it == live_.begin()) return nullptr;
    --it;
    return it->second.data() + (iova - it->first);
  }
  // The card's side of the rings, minus the engine: one completion per descriptor, output = input.
  // Records are read and written with plain little-endian loads and stores at their byte offsets
  // (every field used here is byte-aligned), so the stand-in costs little next to the host.
  static_assert(std::endian::native == std::endian::little);
  template <typename T>
  static T Ld(const std::byte* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  template <typename T>
  static void St(std::byte* p, T v) {
    std::memcpy(p, &v, sizeof v);
  }
  void Process(Ring& ring, uint16_t prod) {
    if (!ring.enabled || ring.rq_host == nullptr) return;
    while (ring.rq_cons != prod) {
      const std::byte* d = ring.rq_host + size_t{card::RingSlot(ring.rq_cons, ring.rq_log2)} * card::ReqDesc::kBytes;
      std::byte* c = ring.cq_host + size_t{card::RingSlot(ring.cq_prod, ring.cq_log2)} * card::Cpl::kBytes;
      St<uint64_t>(c + 0, Ld<uint64_t>(d + 24));               // USER_DATA
      St<uint64_t>(c + 8, ++seq_);                             // SEQ
      St<uint32_t>(c + 16, 0);                                 // SPI
      St<uint32_t>(c + 20, Ld<uint32_t>(d + 16) & 0xffffffu);  // SA_INDEX, NEXT_HEADER 0
      St<uint16_t>(c + 24, Ld<uint16_t>(d + 10));              // OUT_OFFSET = PKT_OFFSET
      St<uint16_t>(c + 26, Ld<uint16_t>(d + 12));              // OUT_LEN = PKT_LEN
      St<uint16_t>(c + 28, ring.rq_cons);                      // DESC_INDEX
      c[30] = std::byte{0};                                    // STATUS ok
      const uint8_t last = static_cast<uint8_t>((static_cast<uint8_t>(d[14]) & 1u) |
                                                (card::ExpectedPhase(ring.cq_prod, ring.cq_log2) ? 0x80u : 0u));
      std::atomic_ref<std::byte>(c[31]).store(std::byte{last}, std::memory_order_release);  // DIR, PHASE last
      ring.rq_cons = static_cast<uint16_t>(ring.rq_cons + 1);
      ring.cq_prod = static_cast<uint16_t>(ring.cq_prod + 1);
    }
  }

  std::unique_ptr<driver::SoftCard> card_;
  const bool null_sa_;
  std::mutex mu_;
  std::map<uint64_t, driver::DmaBuffer> live_;
  std::array<Ring, card::reg::kRingMaxCount> rings_{};
  uint64_t seq_ = 0;
};

std::unique_ptr<driver::Device> NullDevice(uint32_t sa_count, bool null_sa) {
  driver::SoftCardOptions o;
  o.sa_count = sa_count;
  auto card = driver::SoftCard::Create(o);
  if (!card.ok()) {
    std::fprintf(stderr, "SoftCard: %s\n", card.status().message().c_str());
    std::exit(1);
  }
  return std::make_unique<NullEngineDevice>(std::move(*card), null_sa);
}

sa::SaConfig OutConfig(uint32_t spi) {
  sa::SaConfig c;
  c.spi = spi;
  c.direction = sa::Direction::kOutbound;
  c.suite = sa::Suite::kAesGcm128;
  c.tunnel_src = sa::IpAddress::V4(0xC6120001);
  c.tunnel_dst = sa::IpAddress::V4(0xC6120002);
  return c;
}

sa::KeyMaterial Key(uint32_t seed) {
  std::array<std::byte, 20> k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = std::byte(static_cast<uint8_t>(seed * 31 + i));
  sa::KeyMaterial m;
  m.enc_key = SecureBytes(std::span<const std::byte>(k));
  return m;
}

// A 64-byte IPv4/UDP packet.
void FillPacket(std::byte* p, uint32_t i) {
  std::memset(p, 0, 64);
  p[0] = std::byte{0x45};
  StoreU16Be(p + 2, 64);
  p[8] = std::byte{64};
  p[9] = std::byte{ip::kProtoUdp};
  StoreU32Be(p + 12, 0xC0000201);
  StoreU32Be(p + 16, 0xC6336400 + (i & 0xff));
  StoreU16Be(p + 20, 5000);
  StoreU16Be(p + 22, 6000);
  StoreU16Be(p + 24, 44);
}

constexpr uint32_t kRingLog2 = 10;
constexpr uint32_t kBurst = 32;

struct RingResult {
  double mdesc_per_s;  // per CPU-second of the thread
  uint64_t descs;
  double wall_mdesc_per_s = 0;
};

RingResult DriverRing(double min_seconds) {
  driver::DriverOptions o;
  o.queues = 1;
  o.ring_log2 = kRingLog2;
  auto drv = driver::Driver::Open(NullDevice(4096, false), o);
  if (!drv.ok()) {
    std::fprintf(stderr, "open: %s\n", drv.status().message().c_str());
    std::exit(1);
  }
  driver::Driver& d = **drv;
  auto pool = driver::PacketPool::Create(d.device(), 1u << kRingLog2, 256);
  const uint32_t nbufs = pool->count();
  std::vector<driver::Packet> pk(nbufs);
  for (uint32_t i = 0; i < nbufs; ++i) {
    FillPacket(pool->data(i) + 128, i);
    pk[i] = pool->Get(i, 128);
    pk[i].buf.length = 64;
    pk[i].sa_index = 1;
    pk[i].user_data = i;
  }
  std::array<driver::Completion, 64> cpl;
  uint64_t sub = 0, done = 0;
  const double w0 = WallNow();
  const auto t0 = CpuNow();
  auto t1 = t0;
  while (true) {
    for (int k = 0; k < 1024; ++k) {
      const uint32_t b = static_cast<uint32_t>(sub & (nbufs - 1));
      const size_t n = d.Submit(0, std::span(pk.data() + b, std::min<size_t>(kBurst, nbufs - b)));
      sub += n;
      done += d.Poll(0, cpl);
    }
    t1 = CpuNow();
    if (Seconds(t0, t1) >= min_seconds) break;
  }
  return {static_cast<double>(done) / Seconds(t0, t1) / 1e6, done, static_cast<double>(done) / (WallNow() - w0) / 1e6};
}

RingResult RuntimeRing(double min_seconds, bool spd) {
  runtime::RuntimeOptions o;
  o.device = NullDevice(4096, false);
  o.driver.queues = 1;
  o.driver.ring_log2 = kRingLog2;
  o.max_sas = 1024;
  auto rt = runtime::Runtime::Create(std::move(o));
  if (!rt.ok()) {
    std::fprintf(stderr, "runtime: %s\n", rt.status().message().c_str());
    std::exit(1);
  }
  runtime::Runtime& r = **rt;
  auto tunnel = r.AddTunnel();
  auto sa = r.AddSa(OutConfig(0x1000), Key(1), {.tunnel = *tunnel});
  // A few rules in front of the protect rule, so the lookup does some work.
  for (int i = 0; i < 8; ++i) {
    runtime::SpdRule rule;
    rule.src = *runtime::Prefix::Parse("10.0.0.0/8");
    rule.dst = *runtime::Prefix::Parse("10.0.0.0/8");
    rule.action = runtime::PolicyAction::kDiscard;
    rule.priority = i;
    (void)r.AddPolicy(rule);
  }
  runtime::SpdRule protect;
  protect.action = runtime::PolicyAction::kProtect;
  protect.tunnel = *tunnel;
  protect.priority = 100;
  (void)r.AddPolicy(protect);
  (void)r.Service();
  auto pool = r.CreatePacketPool(1u << kRingLog2, 256);
  const uint32_t nbufs = pool->count();
  std::vector<runtime::RtPacket> pk(nbufs);
  for (uint32_t i = 0; i < nbufs; ++i) {
    FillPacket(pool->data(i) + 128, i);
    driver::Packet p = pool->Get(i, 128);
    p.buf.length = 64;
    pk[i] = {p.buf, p.iova, sa::Direction::kOutbound, spd ? runtime::kNoSa : *sa, i};
  }
  std::array<runtime::RtCompletion, 64> cpl;
  uint64_t sub = 0, done = 0;
  runtime::RuntimeQueue& q = r.queue(0);
  const double w0 = WallNow();
  const auto t0 = CpuNow();
  auto t1 = t0;
  while (true) {
    for (int k = 0; k < 1024; ++k) {
      const uint32_t b = static_cast<uint32_t>(sub & (nbufs - 1));
      sub += q.Submit(std::span(pk.data() + b, std::min<size_t>(kBurst, nbufs - b)));
      done += q.Poll(cpl);
    }
    t1 = CpuNow();
    if (Seconds(t0, t1) >= min_seconds) break;
  }
  if (q.counters().to_card != sub) std::fprintf(stderr, "warning: not every packet went to the card\n");
  return {static_cast<double>(done) / Seconds(t0, t1) / 1e6, done, static_cast<double>(done) / (WallNow() - w0) / 1e6};
}

// With crypto, for scale: the runtime on `soft` (AES-GCM-128 in SoftCard's EspSa).
RingResult RuntimeSoft(double min_seconds) {
  runtime::RuntimeOptions o;
  o.device_spec = "soft";
  o.driver.ring_log2 = kRingLog2;
  o.max_sas = 1024;
  auto rt = runtime::Runtime::Create(std::move(o));
  runtime::Runtime& r = **rt;
  auto sa = r.AddSa(OutConfig(0x1000), Key(1));
  auto pool = r.CreatePacketPool(1u << kRingLog2, 512);
  const uint32_t nbufs = pool->count();
  std::vector<runtime::RtPacket> pk(nbufs);
  std::array<runtime::RtCompletion, 64> cpl;
  uint64_t sub = 0, done = 0;
  const double w0 = WallNow();
  const auto t0 = CpuNow();
  auto t1 = t0;
  while (true) {
    for (int k = 0; k < 64; ++k) {
      const uint32_t b = static_cast<uint32_t>(sub & (nbufs - 1));
      const size_t n = std::min<size_t>(kBurst, nbufs - b);
      for (size_t i = 0; i < n; ++i) {  // the card encrypts in place: reload each time
        const uint32_t bi = b + static_cast<uint32_t>(i);
        FillPacket(pool->data(bi) + 128, bi);
        driver::Packet p = pool->Get(bi, 128);
        p.buf.length = 64;
        pk[bi] = {p.buf, p.iova, sa::Direction::kOutbound, *sa, bi};
      }
      sub += r.queue(0).Submit(std::span(pk.data() + b, n));
      done += r.queue(0).Poll(cpl);
    }
    t1 = CpuNow();
    if (Seconds(t0, t1) >= min_seconds) break;
  }
  return {static_cast<double>(done) / Seconds(t0, t1) / 1e6, done, static_cast<double>(done) / (WallNow() - w0) / 1e6};
}

// Keeps the compiler from optimising a record's stores and loads away across this point.
void Clobber(void* p) { asm volatile("" : : "r"(p) : "memory"); }

// The generated record codec the driver runs per descriptor (ReqDesc::Encode on Submit,
// Cpl::Decode on Poll), alone, for attribution.
double CodecNsPerDesc(double min_seconds) {
  std::array<std::byte, 32> d{}, c{};
  card::ReqDesc r;
  r.buf_addr = 0x1000000000ull;
  r.buf_len = 256;
  r.pkt_offset = 128;
  r.pkt_len = 64;
  r.sa_valid = true;
  card::Cpl cp;
  cp.out_len = 64;
  cp.Encode(c);
  uint64_t n = 0, sink = 0;
  const auto t0 = CpuNow();
  auto t1 = t0;
  while (true) {
    for (int k = 0; k < 4096; ++k) {
      r.user_data = n++;
      r.Encode(d);
      Clobber(d.data());  // the record really goes to memory, and is read back from it
      c[0] = d[24];
      Clobber(c.data());
      sink += card::Cpl::Decode(c).user_data;
    }
    t1 = CpuNow();
    if (Seconds(t0, t1) >= min_seconds) break;
  }
  if (sink == 42) std::printf(" ");
  return Seconds(t0, t1) * 1e9 / static_cast<double>(n);
}

// The same two records with plain byte-aligned little-endian loads and stores (what the stand-in
// card does): the hand-written floor the generated codec is compared with.
double PlainCodecNsPerDesc(double min_seconds) {
  alignas(32) std::array<std::byte, 32> d{}, c{};
  uint64_t n = 0, sink = 0;
  const auto t0 = CpuNow();
  auto t1 = t0;
  while (true) {
    for (int k = 0; k < 4096; ++k) {
      const uint64_t ud = n++;
      std::memset(d.data(), 0, d.size());
      const uint64_t addr = 0x1000000000ull;
      const uint16_t len = 256, off = 128, plen = 64;
      std::memcpy(d.data(), &addr, 8);
      std::memcpy(d.data() + 8, &len, 2);
      std::memcpy(d.data() + 10, &off, 2);
      std::memcpy(d.data() + 12, &plen, 2);
      d[14] = std::byte{2};
      std::memcpy(d.data() + 24, &ud, 8);
      Clobber(d.data());
      c[0] = d[24];
      Clobber(c.data());
      uint64_t u;
      uint16_t ol, oo, di;
      std::memcpy(&u, c.data(), 8);
      std::memcpy(&oo, c.data() + 24, 2);
      std::memcpy(&ol, c.data() + 26, 2);
      std::memcpy(&di, c.data() + 28, 2);
      sink += u + oo + ol + di + static_cast<uint8_t>(c[30]) + static_cast<uint8_t>(c[31]);
    }
    t1 = CpuNow();
    if (Seconds(t0, t1) >= min_seconds) break;
  }
  if (sink == 42) std::printf(" ");
  return Seconds(t0, t1) * 1e9 / static_cast<double>(n);
}

struct DbResult {
  double inserts_per_s;
  double bytes_per_sa;
  double fixed_per_sa;
};

DbResult DatabaseInsert(uint32_t count) {
  const size_t heap0 = HeapBytes();
  auto db = std::make_unique<runtime::SaDatabase>(count);
  const size_t heap_empty = HeapBytes();
  const auto t0 = CpuNow();
  for (uint32_t i = 0; i < count; ++i) {
    sa::SaConfig c = OutConfig(0x1000 + i);
    if (i & 1) c.direction = sa::Direction::kInbound;
    auto h = db->Insert(c, Key(i));
    if (!h.ok()) {
      std::fprintf(stderr, "insert %u: %s\n", i, h.status().message().c_str());
      std::exit(1);
    }
    if (i & 1) (void)db->IndexSpi(c.spi, *h);
  }
  const auto t1 = CpuNow();
  const size_t heap1 = HeapBytes();
  (void)heap_empty;
  return {count / Seconds(t0, t1), static_cast<double>(heap1 - heap0) / count,
          static_cast<double>(db->FixedBytes()) / count};
}

struct InstallResult {
  double installs_per_s;
  uint32_t installs;
  double bytes_per_sa_in_runtime;
};

InstallResult Installs(bool null_sa, uint32_t preload, uint32_t installs) {
  runtime::RuntimeOptions o;
  o.device = null_sa ? NullDevice(65536, true) : nullptr;
  if (!null_sa) {
    driver::SoftCardOptions so;
    so.sa_count = 65536;
    auto card = driver::SoftCard::Create(so);
    o.device = std::move(*card);
  }
  o.driver.queues = 1;
  o.driver.ring_log2 = 6;
  o.max_sas = preload + installs + 16;
  const size_t heap0 = HeapBytes();
  auto rt = runtime::Runtime::Create(std::move(o));
  if (!rt.ok()) {
    std::fprintf(stderr, "runtime: %s\n", rt.status().message().c_str());
    std::exit(1);
  }
  runtime::Runtime& r = **rt;
  const size_t heap1 = HeapBytes();
  for (uint32_t i = 0; i < preload; ++i) {
    sa::SaConfig c = OutConfig(0x100000 + i);
    if (i & 1) c.direction = sa::Direction::kInbound;
    auto h = r.database().Insert(c, Key(i));
    if (i & 1) (void)r.database().IndexSpi(c.spi, *h);
  }
  const size_t heap2 = HeapBytes();
  (void)heap1;
  const auto t0 = CpuNow();
  uint32_t on_card = 0;
  for (uint32_t i = 0; i < installs; ++i) {
    auto h = r.AddSa(OutConfig(0x10000000 + i), Key(i));
    if (!h.ok()) {
      std::fprintf(stderr, "AddSa %u: %s\n", i, h.status().message().c_str());
      std::exit(1);
    }
    on_card += r.database().Get(*h)->placement == runtime::Placement::kCard;
  }
  const auto t1 = CpuNow();
  if (on_card != installs) std::fprintf(stderr, "warning: %u of %u SAs on the card\n", on_card, installs);
  return {installs / Seconds(t0, t1), installs, static_cast<double>(heap2 - heap0) / std::max<uint32_t>(1, preload)};
}

}  // namespace
}  // namespace ipsec

int main(int argc, char** argv) {
  using namespace ipsec;
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const bool ring_only = argc > 1 && std::strcmp(argv[1], "--ring") == 0;
  if (argc > 1 && std::strcmp(argv[1], "--profile-runtime") == 0) {  // for perf: the runtime ring path alone
    const RingResult r = RuntimeRing(3.0, false);
    std::printf("runtime Submit/Poll: %.2f M desc/s per core\n", r.mdesc_per_s);
    return 0;
  }
  if (argc > 1 && std::strcmp(argv[1], "--profile-soft") == 0) {  // for perf: the runtime on `soft`, with crypto
    const RingResult r = RuntimeSoft(3.0);
    std::printf("runtime on soft: %.2f M desc/s per core\n", r.mdesc_per_s);
    return 0;
  }
  if (argc > 1 && std::strcmp(argv[1], "--profile-driver") == 0) {  // for perf: the driver ring path alone
    const RingResult r = DriverRing(3.0);
    std::printf("driver Submit/Poll: %.2f M desc/s per core\n", r.mdesc_per_s);
    return 0;
  }
  const double secs = quick ? 0.05 : 1.0;
  const uint32_t db_count = quick ? 20000 : 1000000;
  const uint32_t installs = quick ? 2000 : 60000;

  std::printf("runtime_bench (%s): one core, 64-byte packets, bursts of %u, ring of %u\n\n", quick ? "quick" : "full",
              kBurst, 1u << kRingLog2);
  std::printf(
      "1. Ring layer with no crypto (NullEngineDevice: SoftCard registers, descriptors completed at the doorbell)\n");
  const RingResult drv = DriverRing(secs);
  const RingResult rt_sa = RuntimeRing(secs, false);
  const RingResult rt_spd = RuntimeRing(secs, true);
  const RingResult soft = RuntimeSoft(secs / 2);
  auto row = [](const char* what, const RingResult& r, const char* note) {
    std::printf("   %-52s %7.2f M desc/s per core (wall %5.2f)  %s", what, r.mdesc_per_s, r.wall_mdesc_per_s, note);
    if (note[0] == '\0') std::printf("target 20: %.2fx", r.mdesc_per_s / 20);
    std::printf("\n");
  };
  row("driver Submit/Poll", drv, "");
  row("runtime Submit/Poll, SA named by the caller", rt_sa, "");
  row("runtime Submit/Poll, SPD lookup (9 rules) per packet", rt_spd, "");
  row("runtime on `soft`, with crypto", soft, "for scale: AES-GCM-128 in SoftCard");
  const double codec = CodecNsPerDesc(secs / 2);
  const double plain = PlainCodecNsPerDesc(secs / 2);
  std::printf(
      "   driver: %.1f ns/desc, of which the generated record codec (ReqDesc::Encode + Cpl::Decode) %.1f ns;\n"
      "           the same records with byte-aligned loads/stores: %.1f ns\n",
      1e3 / drv.mdesc_per_s, codec, plain);
  std::printf("   runtime overhead over the driver: %.1f ns/desc (SA named), %.1f ns/desc (SPD)\n\n",
              1e3 / rt_sa.mdesc_per_s - 1e3 / drv.mdesc_per_s, 1e3 / rt_spd.mdesc_per_s - 1e3 / drv.mdesc_per_s);
  if (ring_only) return 0;

  std::printf("2. Host SA database: %u SAs (half inbound, SPI-indexed)\n", db_count);
  const DbResult db = DatabaseInsert(db_count);
  std::printf(
      "   inserts: %.0f /s;  memory: %.0f bytes/SA (records + keys + SPI index; fixed tables %.0f bytes/SA)\n\n",
      db.inserts_per_s, db.bytes_per_sa, db.fixed_per_sa);

  std::printf("3. SA installs through the command path, %u SAs already in the host database\n", db_count);
  const InstallResult via_soft = Installs(false, db_count, installs);
  const InstallResult via_null = Installs(true, db_count, installs);
  std::printf("   %-62s %9.0f installs/s  (target 100000: %.2fx)\n",
              "Runtime::AddSa on `soft` (SoftCard builds an EspSa per install)", via_soft.installs_per_s,
              via_soft.installs_per_s / 1e5);
  std::printf("   %-62s %9.0f installs/s  (target 100000: %.2fx)\n",
              "Runtime::AddSa, SA commands answered at once (host side only)", via_null.installs_per_s,
              via_null.installs_per_s / 1e5);
  std::printf("   runtime memory with %u parked SAs: %.0f bytes/SA\n", db_count, via_null.bytes_per_sa_in_runtime);
  return 0;
}
