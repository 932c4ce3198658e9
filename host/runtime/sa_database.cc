#include "host/runtime/sa_database.h"

#include <bit>

namespace ipsec::runtime {
namespace {
constexpr uint64_t kTombstone = 0xFFFFFFFF00000000ull;  // low half 0: never a live entry
}

std::string_view PlacementName(Placement p) {
  switch (p) {
    case Placement::kNone:
      return "none";
    case Placement::kCard:
      return "card";
    case Placement::kSoftware:
      return "software";
  }
  return "?";
}

std::string_view SaStateName(SaState s) {
  switch (s) {
    case SaState::kFree:
      return "free";
    case SaState::kParked:
      return "parked";
    case SaState::kActive:
      return "active";
    case SaState::kUpdating:
      return "updating";
    case SaState::kDraining:
      return "draining";
  }
  return "?";
}

SaDatabase::SaDatabase(uint32_t max_sas) : max_(max_sas == 0 ? 1 : max_sas) {
  const uint32_t nchunks = (max_ + kChunk - 1) / kChunk;
  chunks_ = std::make_unique<std::atomic<SaRecord*>[]>(nchunks);
  for (uint32_t i = 0; i < nchunks; ++i) chunks_[i].store(nullptr, std::memory_order_relaxed);
  owned_.reserve(nchunks);
  // Load factor at most 1/2 when every SA is inbound.
  const uint64_t slots = std::bit_ceil(std::max<uint64_t>(1024, uint64_t{max_} * 2));
  spi_ = std::make_unique<std::atomic<uint64_t>[]>(slots);
  for (uint64_t i = 0; i < slots; ++i) spi_[i].store(0, std::memory_order_relaxed);
  spi_mask_ = slots - 1;
}

SaDatabase::~SaDatabase() = default;

StatusOr<SaHandle> SaDatabase::Insert(const sa::SaConfig& config, sa::KeyMaterial keys) {
  SaHandle h;
  if (!free_.empty()) {
    h = free_.back();
    free_.pop_back();
  } else {
    if (high_water_ >= max_) return ResourceExhaustedError("SA database full (" + std::to_string(max_) + " SAs)");
    h = high_water_++;
    const uint32_t c = h >> kChunkLog2;
    if (chunks_[c].load(std::memory_order_relaxed) == nullptr) {
      owned_.push_back(std::make_unique<SaRecord[]>(kChunk));
      chunks_[c].store(owned_.back().get(), std::memory_order_release);
    }
  }
  SaRecord* r = Get(h);
  r->handle = h;
  r->state = SaState::kParked;
  r->placement = Placement::kNone;
  r->config = config;
  r->keys = std::move(keys);
  r->route.store(PackRoute(RouteKind::kNone), std::memory_order_release);
  r->seq_seen.store(0, std::memory_order_relaxed);
  r->aborted.store(0, std::memory_order_relaxed);
  ++live_;
  return h;
}

void SaDatabase::Release(SaHandle h) {
  SaRecord* r = Get(h);
  if (r == nullptr || r->state == SaState::kFree) return;
  r->route.store(PackRoute(RouteKind::kNone), std::memory_order_release);
  {
    std::lock_guard lock(r->sw_mu);
    r->sw.reset();  // EspSa wipes its key schedule
  }
  r->keys = sa::KeyMaterial{};  // SecureBytes wipe on destruction
  r->config = sa::SaConfig{};
  r->state = SaState::kFree;
  r->placement = Placement::kNone;
  r->tunnel = 0;
  r->card_slot = 0;
  r->refusal = {};
  r->base_packets = r->base_bytes = 0;
  r->last = {};
  r->soft_reported = r->hard_reported = r->seq_reported = false;
  r->replay_window_reset = false;
  r->sink.reset();
  free_.push_back(h);
  --live_;
}

Status SaDatabase::IndexSpi(uint32_t spi, SaHandle h) {
  if (spi == 0) return InvalidArgumentError("SPI 0 is reserved");
  if (FindSpi(spi) != kNoSa) return AlreadyExistsError("inbound SPI " + std::to_string(spi) + " already installed");
  // Tombstones left by deletes are reused by later inserts; the table is sized for max_sas live
  // inbound SAs at a load factor of 1/2, and is never rebuilt (readers never see it move).
  uint64_t first_free = ~uint64_t{0};
  uint64_t i = Hash(spi) & spi_mask_;
  for (uint64_t probes = 0; probes <= spi_mask_; ++probes, i = (i + 1) & spi_mask_) {
    const uint64_t e = spi_[i].load(std::memory_order_relaxed);
    if (e == kTombstone && first_free == ~uint64_t{0}) first_free = i;
    if (e == 0) {
      if (first_free == ~uint64_t{0}) first_free = i;
      break;
    }
  }
  if (first_free == ~uint64_t{0}) return ResourceExhaustedError("SPI index full");
  if (spi_[first_free].load(std::memory_order_relaxed) == kTombstone) --spi_tombstones_;
  spi_[first_free].store((uint64_t{spi} << 32) | (uint64_t{h} + 1), std::memory_order_release);
  return OkStatus();
}

void SaDatabase::UnindexSpi(uint32_t spi) {
  uint64_t i = Hash(spi) & spi_mask_;
  for (uint64_t probes = 0; probes <= spi_mask_; ++probes, i = (i + 1) & spi_mask_) {
    const uint64_t e = spi_[i].load(std::memory_order_relaxed);
    if (e == 0) return;
    if ((e >> 32) == spi && (e & 0xffffffffu) != 0) {
      spi_[i].store(kTombstone, std::memory_order_release);
      ++spi_tombstones_;
      return;
    }
  }
}

size_t SaDatabase::FixedBytes() const {
  const size_t nchunks = (max_ + kChunk - 1) / kChunk;
  return nchunks * sizeof(std::atomic<SaRecord*>) + owned_.size() * kChunk * sizeof(SaRecord) +
         (spi_mask_ + 1) * sizeof(uint64_t) + free_.capacity() * sizeof(SaHandle);
}

}  // namespace ipsec::runtime
