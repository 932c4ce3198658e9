// HostMemory: sparse IOVA arena with page-granular mappings (see host_memory.h).
#include "sim/host_memory.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

namespace ipsec::sim {
namespace {

bool IsPow2(uint64_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}
// Rounds up; false on overflow.
bool AlignUp(uint64_t v, uint64_t align, uint64_t* out) {
  const uint64_t r = (v + (align - 1)) & ~(align - 1);
  if (r < v) return false;
  *out = r;
  return true;
}

std::string Hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

HostMemory::HostMemory(HostMemoryConfig config) : config_(config), cursor_(config.arena_base) {
  if (!IsPow2(config_.page_bytes)) config_.page_bytes = 4096;
}

const HostMemory::Mapping* HostMemory::Find(uint64_t iova, uint64_t bytes, uint64_t* start) const {
  auto it = mappings_.upper_bound(iova);
  if (it == mappings_.begin()) return nullptr;
  --it;
  const uint64_t off = iova - it->first;
  const uint64_t size = it->second.data.size();
  if (off >= size || bytes > size - off) return nullptr;
  *start = it->first;
  return &it->second;
}

bool HostMemory::IsMapped(uint64_t iova, uint64_t bytes) const {
  uint64_t start = 0;
  return Find(iova, bytes, &start) != nullptr;
}

const std::byte* HostMemory::Translate(uint64_t iova, uint64_t bytes) const {
  uint64_t start = 0;
  const Mapping* m = Find(iova, bytes, &start);
  return m == nullptr ? nullptr : m->data.data() + (iova - start);
}

std::byte* HostMemory::Translate(uint64_t iova, uint64_t bytes) {
  return const_cast<std::byte*>(static_cast<const HostMemory*>(this)->Translate(iova, bytes));
}

bool HostMemory::FindGap(uint64_t from, uint64_t span, uint64_t align, uint64_t* out) const {
  const uint64_t arena_end = config_.arena_base + config_.arena_size;
  const uint64_t guard = config_.guard_pages ? config_.page_bytes : 0;
  uint64_t cand = 0;
  if (!AlignUp(from, align, &cand)) return false;
  auto it = mappings_.upper_bound(cand);
  if (it != mappings_.begin()) {
    auto prev = std::prev(it);
    const uint64_t prev_end = prev->first + prev->second.data.size() + guard;
    if (prev_end > cand && !AlignUp(prev_end, align, &cand)) return false;
  }
  // Skip every mapping that overlaps [cand, cand + span).
  while (it != mappings_.end() && it->first < cand + span) {
    if (!AlignUp(it->first + it->second.data.size() + guard, align, &cand)) return false;
    ++it;
  }
  if (cand < config_.arena_base || cand > arena_end || span > arena_end - cand) return false;
  *out = cand;
  return true;
}

StatusOr<DmaRegion> HostMemory::Alloc(uint64_t bytes, uint64_t align) {
  if (bytes == 0) return InvalidArgumentError("HostMemory::Alloc: zero bytes");
  if (!IsPow2(align)) return InvalidArgumentError("HostMemory::Alloc: alignment not a power of two");
  align = std::max(align, config_.page_bytes);
  uint64_t mapped = 0;
  if (!AlignUp(bytes, config_.page_bytes, &mapped) || mapped > config_.arena_size) {
    return ResourceExhaustedError("HostMemory::Alloc: " + std::to_string(bytes) + " bytes exceed the arena");
  }
  const uint64_t span = mapped + (config_.guard_pages ? config_.page_bytes : 0);
  uint64_t iova = 0;
  if (!FindGap(cursor_, span, align, &iova) && !FindGap(config_.arena_base, span, align, &iova)) {
    return ResourceExhaustedError("HostMemory::Alloc: no room for " + std::to_string(bytes) + " bytes");
  }
  Mapping m;
  m.bytes = bytes;
  m.data.assign(mapped, config_.fill);
  mappings_.emplace(iova, std::move(m));
  mapped_bytes_ += mapped;
  cursor_ = iova + span;
  return DmaRegion{iova, bytes};
}

Status HostMemory::Free(uint64_t iova) {
  auto it = mappings_.find(iova);
  if (it == mappings_.end()) return NotFoundError("HostMemory::Free: no allocation at " + Hex(iova));
  mapped_bytes_ -= it->second.data.size();
  mappings_.erase(it);
  return OkStatus();
}

Status HostMemory::Write(uint64_t iova, std::span<const std::byte> data) {
  if (data.empty()) return OkStatus();
  std::byte* p = Translate(iova, data.size());
  if (p == nullptr) {
    return OutOfRangeError("HostMemory::Write: [" + Hex(iova) + ", +" + std::to_string(data.size()) +
                           ") is not mapped");
  }
  std::memcpy(p, data.data(), data.size());
  return OkStatus();
}

Status HostMemory::Read(uint64_t iova, std::span<std::byte> out) const {
  if (out.empty()) return OkStatus();
  const std::byte* p = Translate(iova, out.size());
  if (p == nullptr) {
    return OutOfRangeError("HostMemory::Read: [" + Hex(iova) + ", +" + std::to_string(out.size()) + ") is not mapped");
  }
  std::memcpy(out.data(), p, out.size());
  return OkStatus();
}

StatusOr<std::span<std::byte>> HostMemory::Map(uint64_t iova, uint64_t bytes) {
  std::byte* p = Translate(iova, bytes);
  if (p == nullptr) {
    return OutOfRangeError("HostMemory::Map: [" + Hex(iova) + ", +" + std::to_string(bytes) + ") is not mapped");
  }
  return std::span<std::byte>(p, bytes);
}

}  // namespace ipsec::sim
