// PacketPool: fixed-size packet buffers in one DMA allocation, for the driver's burst API.
//
// The driver's job in the contract's split is "buffer allocation with head/tailroom,
// descriptor": a pool sized at setup hands out buffers with a bus address and a host view, so
// nothing is allocated per packet. Buffers are `buf_bytes` apart (rounded up to 64 bytes, so
// each starts on a cache line); Packet(i) describes buffer i with its packet placed after
// `headroom` bytes.
//
// Thread safety: none; a pool is normally owned by the thread that owns its queue.
#pragma once

#include <cstdint>
#include <span>

#include "driver/device.h"
#include "driver/driver.h"

namespace ipsec::driver {

class PacketPool {
 public:
  // count buffers of buf_bytes (<= 65535) each.
  static StatusOr<PacketPool> Create(Device& device, uint32_t count, uint32_t buf_bytes);

  uint32_t count() const { return count_; }
  uint32_t buf_bytes() const { return buf_bytes_; }
  std::byte* data(uint32_t i) const { return memory_.data() + size_t{i} * stride_; }
  uint64_t iova(uint32_t i) const { return memory_.iova() + uint64_t{i} * stride_; }

  // A Packet for buffer i: the whole buffer, empty packet at `headroom`.
  Packet Get(uint32_t i, uint32_t headroom = 128) const;
  // Copies `pkt` into buffer i after `headroom` bytes and returns its Packet (dir outbound,
  // user_data = i; the caller sets SA and direction). The packet must fit.
  Packet Load(uint32_t i, std::span<const std::byte> pkt, uint32_t headroom = 128) const;

 private:
  PacketPool(DmaBuffer memory, uint32_t count, uint32_t buf_bytes, uint32_t stride)
      : memory_(std::move(memory)), count_(count), buf_bytes_(buf_bytes), stride_(stride) {}

  DmaBuffer memory_;
  uint32_t count_ = 0;
  uint32_t buf_bytes_ = 0;
  uint32_t stride_ = 0;
};

}  // namespace ipsec::driver
