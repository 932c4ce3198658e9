// Host memory for the simulated card: a sparse 64-bit IOVA space from which DMA buffers are
// allocated, as an IOMMU-backed DMA allocator would hand them out.
//
// Model: allocations are mapped at page granularity (page_bytes, 4 KiB by default) starting at
// page-aligned IOVAs inside [arena_base, arena_base + arena_size). Only mapped pages have backing
// storage, so a large arena costs nothing. With guard_pages, at least one unmapped page follows
// every allocation, so a card that runs off the end of a buffer by more than the page rounding
// hits unmapped space. A card access to any unmapped byte is a DMA error (the AXI slave answers
// DECERR and records it); it is never undefined behaviour. Freed ranges are not reused until the
// allocator has gone round the arena once, so a stale IOVA after Free() is caught too.
//
// Thread safety: none; the simulation is single-threaded (sim/README.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "host/common/status.h"

namespace ipsec::sim {

struct HostMemoryConfig {
  // 64 GiB: above 4 GiB, so the card's upper address bits are exercised by every test.
  uint64_t arena_base = 0x0000'0010'0000'0000ull;
  uint64_t arena_size = 1ull << 36;  // IOVA space only; storage is allocated per mapping
  uint64_t page_bytes = 4096;        // mapping granularity; a power of two
  bool guard_pages = true;           // keep an unmapped page after every allocation
  std::byte fill{0xA5};              // content of freshly allocated memory (not zero, on purpose)
};

// One DMA buffer: `bytes` as requested, at `iova`; the mapping extends to the next page boundary.
struct DmaRegion {
  uint64_t iova = 0;
  uint64_t bytes = 0;
};

class HostMemory {
 public:
  explicit HostMemory(HostMemoryConfig config = {});
  HostMemory(const HostMemory&) = delete;
  HostMemory& operator=(const HostMemory&) = delete;

  // A buffer of `bytes` (> 0) at an IOVA aligned to max(align, page_bytes); align is a power of
  // two. ResourceExhausted when the arena has no room, InvalidArgument for bad sizes.
  [[nodiscard]] StatusOr<DmaRegion> Alloc(uint64_t bytes, uint64_t align = 4096);
  // Unmaps the allocation that starts at `iova`. NotFound if there is none.
  [[nodiscard]] Status Free(uint64_t iova);

  // Host-side copies; OutOfRange unless every byte is inside one allocation's mapping.
  [[nodiscard]] Status Write(uint64_t iova, std::span<const std::byte> data);
  [[nodiscard]] Status Read(uint64_t iova, std::span<std::byte> out) const;
  // The host's direct view of [iova, iova + bytes), for rings and descriptors the driver writes in
  // place. Valid until that allocation is freed; the card's accesses go through the same bytes.
  [[nodiscard]] StatusOr<std::span<std::byte>> Map(uint64_t iova, uint64_t bytes);

  // Whether every byte of [iova, iova + bytes) is mapped (inside one allocation).
  bool IsMapped(uint64_t iova, uint64_t bytes) const;
  // The backing bytes of [iova, iova + bytes), or nullptr when not entirely mapped. For the AXI
  // slave, which reports unmapped accesses itself.
  std::byte* Translate(uint64_t iova, uint64_t bytes);
  const std::byte* Translate(uint64_t iova, uint64_t bytes) const;

  size_t allocation_count() const { return mappings_.size(); }
  uint64_t mapped_bytes() const { return mapped_bytes_; }
  const HostMemoryConfig& config() const { return config_; }

 private:
  struct Mapping {
    uint64_t bytes = 0;           // as requested
    std::vector<std::byte> data;  // page-rounded
  };
  const Mapping* Find(uint64_t iova, uint64_t bytes, uint64_t* start) const;
  bool FindGap(uint64_t from, uint64_t span, uint64_t align, uint64_t* out) const;

  HostMemoryConfig config_;
  std::map<uint64_t, Mapping> mappings_;  // by start IOVA
  uint64_t cursor_;                       // next-fit search start
  uint64_t mapped_bytes_ = 0;
};

}  // namespace ipsec::sim
