// SaDatabase: the runtime's host-side SA table. It owns every SA's configuration and keys (kept
// to reinstall the SA after a card reset or to move it to the software path), where the SA runs
// (card slot or software EspSa), its lifecycle state and the sequence state the runtime tracks.
//
// Storage: records live in fixed chunks that never move, addressed by a 32-bit handle, so the data
// path can read a record while the control thread inserts others. Inbound SAs are also indexed by
// SPI in an open-addressing table of atomic words (lock-free, allocation-free lookups).
//
// Thread safety: Insert, Release, IndexSpi and UnindexSpi belong to one control thread (the
// runtime serialises them); Get and FindSpi may run on any thread at any time. Fields of SaRecord
// marked "data path" are atomics or guarded by `sw_mu`; the rest belong to the control thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "driver/driver.h"
#include "host/esp/esp_sa.h"
#include "host/runtime/card_fit.h"
#include "host/sa/sa_config.h"
#include "host/sa/sa_stats.h"

namespace ipsec::runtime {

using SaHandle = uint32_t;
inline constexpr SaHandle kNoSa = 0xFFFFFFFFu;

enum class Placement : uint8_t { kNone, kCard, kSoftware };
std::string_view PlacementName(Placement p);

// Lifecycle (docs/runtime.md has the diagram).
enum class SaState : uint8_t {
  kFree,      // unused record
  kParked,    // in the database, not installed anywhere (bulk loads, larval)
  kActive,    // installed, carrying traffic
  kUpdating,  // NAT update: paused while its in-flight packets drain, then reinstalled
  kDraining,  // deleted or replaced: no new packets, waiting for in-flight ones
};
std::string_view SaStateName(SaState s);

// How the data path reaches an SA, packed in one atomic word: kind in bits 0-7, card slot above.
enum class RouteKind : uint8_t { kNone = 0, kCard = 1, kSoftware = 2, kPaused = 3 };
constexpr uint64_t PackRoute(RouteKind k, uint32_t slot = 0) {
  return uint64_t{static_cast<uint8_t>(k)} | (uint64_t{slot} << 8);
}
constexpr RouteKind RouteKindOf(uint64_t r) {
  return static_cast<RouteKind>(r & 0xff);
}
constexpr uint32_t RouteSlot(uint64_t r) {
  return static_cast<uint32_t>(r >> 8);
}

class Runtime;

struct SaRecord {
  // ---- data path ----
  std::atomic<uint64_t> route{0};
  // Outbound: the highest sequence number seen in a completion (card or software); inbound: the
  // highest sequence number authenticated. Updated once per run of packets.
  std::atomic<uint64_t> seq_seen{0};
  // Card requests of this SA failed by the driver or the runtime since the SA was last installed
  // (the card may have spent sequence numbers on them).
  std::atomic<uint64_t> aborted{0};
  std::mutex sw_mu;  // guards `sw` (software SAs may be shared by several queues)
  std::unique_ptr<esp::EspSa> sw;

  // ---- control thread ----
  SaHandle handle = kNoSa;
  SaState state = SaState::kFree;
  Placement placement = Placement::kNone;
  sa::SaConfig config;
  sa::KeyMaterial keys;    // for reinstalls; wiped when the record is released
  uint32_t tunnel = 0;     // 0: none
  uint32_t card_slot = 0;  // with Placement::kCard
  CardFit refusal;         // why the SA is not on the card (software placement)
  // Counters of earlier card incarnations (before a NAT reinstall or a reset), and the last
  // read of the current one.
  uint64_t base_packets = 0, base_bytes = 0;
  driver::SaCardCounters last;
  bool soft_reported = false, hard_reported = false, seq_reported = false;
  bool replay_window_reset = false;       // reinstalled on the card with an empty window (policy kCard)
  std::unique_ptr<sa::SaEventSink> sink;  // software SA events -> runtime
};

class SaDatabase {
 public:
  explicit SaDatabase(uint32_t max_sas);
  ~SaDatabase();

  uint32_t capacity() const { return max_; }
  size_t size() const { return live_; }

  // A record in state kParked holding `config` and `keys`. ResourceExhausted when full.
  StatusOr<SaHandle> Insert(const sa::SaConfig& config, sa::KeyMaterial keys);
  // Any thread; nullptr for a handle never handed out.
  SaRecord* Get(SaHandle h) const {
    if (h >= max_) return nullptr;
    SaRecord* chunk = chunks_[h >> kChunkLog2].load(std::memory_order_acquire);
    return chunk == nullptr ? nullptr : &chunk[h & (kChunk - 1)];
  }
  // Wipes the record (keys, software SA) and frees its handle. The caller has made sure no data
  // path thread can still reach it.
  void Release(SaHandle h);

  // Inbound SPI index. IndexSpi fails with AlreadyExists when the SPI is indexed.
  Status IndexSpi(uint32_t spi, SaHandle h);
  void UnindexSpi(uint32_t spi);
  SaHandle FindSpi(uint32_t spi) const {
    uint64_t i = Hash(spi) & spi_mask_;
    for (uint64_t probes = 0; probes <= spi_mask_; ++probes, i = (i + 1) & spi_mask_) {
      const uint64_t e = spi_[i].load(std::memory_order_acquire);
      if (e == 0) return kNoSa;
      if ((e >> 32) == spi && (e & 0xffffffffu) != 0) return static_cast<SaHandle>((e & 0xffffffffu) - 1);
    }
    return kNoSa;
  }

  // Calls fn(SaRecord&) for every record not free, in handle order (control thread).
  template <typename Fn>
  void ForEach(Fn&& fn) {
    for (SaHandle h = 0; h < high_water_; ++h) {
      SaRecord* r = Get(h);
      if (r != nullptr && r->state != SaState::kFree) fn(*r);
    }
  }

  // Bytes held by the database's own structures (chunks, SPI index, free list), excluding what
  // records point to (keys, software SAs).
  size_t FixedBytes() const;

 private:
  static constexpr uint32_t kChunkLog2 = 12;
  static constexpr uint32_t kChunk = 1u << kChunkLog2;
  static uint64_t Hash(uint32_t spi) { return (uint64_t{spi} * 0x9E3779B97F4A7C15ull) >> 20; }

  const uint32_t max_;
  std::unique_ptr<std::atomic<SaRecord*>[]> chunks_;
  std::vector<std::unique_ptr<SaRecord[]>> owned_;
  std::vector<SaHandle> free_;
  SaHandle high_water_ = 0;
  size_t live_ = 0;

  std::unique_ptr<std::atomic<uint64_t>[]> spi_;
  uint64_t spi_mask_ = 0;
  uint64_t spi_tombstones_ = 0;
};

}  // namespace ipsec::runtime
