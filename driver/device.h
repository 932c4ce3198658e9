// Device: the seam between the driver and one card (docs/device-interface.md is the contract).
//
// A backend gives the driver four things and nothing else:
//   - register access to the card's 64 KiB AXI4-Lite space (aligned 32-bit reads and writes, plus
//     a batched write for the multi-register staging sequences);
//   - DMA-visible memory: buffers with a bus address (IOVA) the card uses and a host pointer the
//     driver uses, and explicit per-range syncs (no-ops for cache-coherent backends, real copies
//     or cache maintenance for XRT buffer objects);
//   - interrupts: wait with a timeout, or a pollable file descriptor where the backend has one;
//   - a step hook for simulated backends, so that a Verilator model advances while the driver
//     polls (real hardware runs by itself and ignores it).
//
// Backends are picked at run time by name through OpenDevice() (driver/device_registry.h):
// `soft` (the software model of the card, driver/soft/soft_card.h), `sim` (the Verilated card,
// driver/sim) and `xrt:<index|bdf>` (a real card through XRT, driver/xrt). Nothing in the driver logic depends on which backend it talks to.
//
// Errors: register accesses return a Status because a real link can fail (an XRT exception
// converted at the boundary, an AXI-Lite timeout in simulation); a card that answers all-ones is
// not an access error, the driver notices it from the ID block.
//
// Thread safety: a backend must accept register accesses and DMA syncs from several threads at
// once (each queue of the driver is owned by one thread, and they share the device). DMA
// allocation and interrupt waits may be serialised by the backend.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

#include "host/common/status.h"

namespace ipsec::driver {

class Device;

// One mapping of DMA-visible memory, as the backend handed it out.
struct DmaRegion {
  uint64_t iova = 0;          // bus address the card uses
  std::byte* host = nullptr;  // where the host reads and writes the same bytes
  size_t bytes = 0;           // as requested
  uint64_t cookie = 0;        // backend-private (buffer-object handle, allocation id)
};

// Direction of a DMA sync: before the card reads host memory, or before the host reads what
// the card wrote.
enum class SyncDir : uint8_t { kToDevice, kFromDevice };

// A move-only owner of one DMA region; the destructor returns it to the device. The device must
// outlive every DmaBuffer allocated from it.
class DmaBuffer {
 public:
  DmaBuffer() = default;
  DmaBuffer(Device* device, DmaRegion region) : device_(device), region_(region) {}
  ~DmaBuffer() { Reset(); }
  DmaBuffer(DmaBuffer&& o) noexcept : device_(std::exchange(o.device_, nullptr)), region_(std::exchange(o.region_, {})) {}
  DmaBuffer& operator=(DmaBuffer&& o) noexcept {
    if (this != &o) {
      Reset();
      device_ = std::exchange(o.device_, nullptr);
      region_ = std::exchange(o.region_, {});
    }
    return *this;
  }
  DmaBuffer(const DmaBuffer&) = delete;
  DmaBuffer& operator=(const DmaBuffer&) = delete;

  bool valid() const { return device_ != nullptr; }
  uint64_t iova() const { return region_.iova; }
  std::byte* data() const { return region_.host; }
  size_t size() const { return region_.bytes; }
  std::span<std::byte> span() const { return {region_.host, region_.bytes}; }
  const DmaRegion& region() const { return region_; }

  // Makes [offset, offset + len) coherent in `dir` (see Device::SyncDma).
  void Sync(SyncDir dir, size_t offset, size_t len) const;
  void SyncAll(SyncDir dir) const { Sync(dir, 0, region_.bytes); }

  // Returns the region to the device now.
  void Reset();

 private:
  Device* device_ = nullptr;
  DmaRegion region_;
};

// A register write for WriteBatch.
struct RegWrite {
  uint32_t offset;
  uint32_t value;
};

class Device {
 public:
  virtual ~Device() = default;

  // The backend's name as OpenDevice knows it ("soft", "sim", "xrt").
  virtual std::string_view backend() const = 0;

  // ---- Registers (byte offsets in the BAR, 4-byte aligned) ----
  virtual StatusOr<uint32_t> Read32(uint32_t offset) = 0;
  virtual Status Write32(uint32_t offset, uint32_t value) = 0;
  // Writes in order; the default is a loop. A backend may post them as one transaction. Stops
  // at the first failure.
  virtual Status WriteBatch(std::span<const RegWrite> writes) {
    for (const RegWrite& w : writes) RETURN_IF_ERROR(Write32(w.offset, w.value));
    return OkStatus();
  }

  // ---- DMA memory ----
  // A zero-filled buffer of `bytes` (> 0) whose IOVA is aligned to `align` (a power of two).
  [[nodiscard]] StatusOr<DmaBuffer> AllocDma(size_t bytes, size_t align = 4096) {
    ASSIGN_OR_RETURN(DmaRegion r, MapDma(bytes, align));
    return DmaBuffer(this, r);
  }
  // kToDevice: the host wrote the range, the card reads it next. kFromDevice: the card wrote the
  // range, the host reads it next. No-ops for coherent memory (soft, PCIe with snooping).
  virtual void SyncDma(const DmaRegion& region, SyncDir dir, size_t offset, size_t len) {
    (void)region, (void)dir, (void)offset, (void)len;
  }

  // ---- Interrupts ----
  // Vectors: bit n for ring pair n (n < 32), kGlobalIrqBit for the global interrupt.
  static constexpr uint64_t kGlobalIrqBit = uint64_t{1} << 32;
  // Waits until at least one interrupt has fired since the last call, or `timeout` passed;
  // returns the vectors that fired (0 on timeout) and clears them.
  virtual StatusOr<uint64_t> WaitIrq(std::chrono::microseconds timeout) = 0;
  // A file descriptor that becomes readable when WaitIrq would return at once (epoll-able), or
  // -1 when the backend has none.
  virtual int irq_fd() const { return -1; }

  // ---- Simulation ----
  // Whether the card only makes progress when Step() is called.
  virtual bool simulated() const { return false; }
  // Advances a simulated card by `cycles` (backend-defined units); a no-op for real hardware.
  virtual void Step(uint64_t cycles) { (void)cycles; }

 protected:
  friend class DmaBuffer;
  virtual StatusOr<DmaRegion> MapDma(size_t bytes, size_t align) = 0;
  virtual void UnmapDma(const DmaRegion& region) = 0;
};

inline void DmaBuffer::Sync(SyncDir dir, size_t offset, size_t len) const {
  if (device_ != nullptr) device_->SyncDma(region_, dir, offset, len);
}

inline void DmaBuffer::Reset() {
  if (device_ != nullptr) device_->UnmapDma(region_);
  device_ = nullptr;
  region_ = {};
}

}  // namespace ipsec::driver
