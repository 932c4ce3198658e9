// PacketPool.
#include "driver/packet_pool.h"

#include <cstring>

namespace ipsec::driver {

StatusOr<PacketPool> PacketPool::Create(Device& device, uint32_t count, uint32_t buf_bytes) {
  if (count == 0 || buf_bytes == 0 || buf_bytes > 0xffff) return InvalidArgumentError("bad packet pool size");
  const uint32_t stride = (buf_bytes + 63) & ~63u;
  ASSIGN_OR_RETURN(DmaBuffer memory, device.AllocDma(size_t{count} * stride, 4096));
  return PacketPool(std::move(memory), count, buf_bytes, stride);
}

Packet PacketPool::Get(uint32_t i, uint32_t headroom) const {
  Packet p;
  p.buf.base = data(i);
  p.buf.capacity = buf_bytes_;
  p.buf.offset = headroom <= buf_bytes_ ? headroom : buf_bytes_;
  p.buf.length = 0;
  p.iova = iova(i);
  p.user_data = i;
  return p;
}

Packet PacketPool::Load(uint32_t i, std::span<const std::byte> pkt, uint32_t headroom) const {
  Packet p = Get(i, headroom);
  const size_t n = std::min<size_t>(pkt.size(), p.buf.capacity - p.buf.offset);
  if (n > 0) std::memcpy(p.buf.data(), pkt.data(), n);
  p.buf.length = static_cast<uint32_t>(n);
  return p;
}

}  // namespace ipsec::driver
