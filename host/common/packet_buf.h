// PacketBuf: a view of one packet inside caller-owned memory, with head- and tailroom.
//
// The data path grows and shrinks packets in place (prepend an outer header, append a trailer,
// strip them again) by moving `offset` and `length`; it never allocates or copies a packet. Buffers
// come from a pool the caller sizes at setup. Recommended room for every transform this project
// supports: kDefaultHeadroom in front and kDefaultTailroom behind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ipsec {

// Outer IPv6 (40) + UDP (8) + ESP header (8) + IV (16), rounded up.
inline constexpr uint32_t kDefaultHeadroom = 128;
// Padding (<= 15 with our alignment, <= 255 on receive) + pad length + next header + ICV (16).
inline constexpr uint32_t kDefaultTailroom = 64;

struct PacketBuf {
  std::byte* base = nullptr;  // start of the memory region (not owned)
  uint32_t capacity = 0;      // size of the region
  uint32_t offset = 0;        // first byte of the packet
  uint32_t length = 0;        // packet bytes

  std::byte* data() const { return base + offset; }
  std::span<std::byte> span() const { return {base + offset, length}; }
  uint32_t headroom() const { return offset; }
  uint32_t tailroom() const { return capacity - offset - length; }

  // Each returns false (and changes nothing) when there is not enough room or data.
  bool Prepend(uint32_t n) {
    if (n > offset) return false;
    offset -= n;
    length += n;
    return true;
  }
  bool Append(uint32_t n) {
    if (n > tailroom()) return false;
    length += n;
    return true;
  }
  bool TrimFront(uint32_t n) {
    if (n > length) return false;
    offset += n;
    length -= n;
    return true;
  }
  bool TrimBack(uint32_t n) {
    if (n > length) return false;
    length -= n;
    return true;
  }
};

}  // namespace ipsec
