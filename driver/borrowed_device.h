// BorrowedDevice: a Device that forwards to one owned elsewhere, so that a Driver (which owns its
// Device) can be closed and opened again on the same card: the runtime's recovery does this, and
// tests that look at the card after a Driver closed. DMA buffers it hands out are allocations of
// the real device, kept until the Driver unmaps them (or the BorrowedDevice goes).
//
// Thread safety: as the real device; the DMA bookkeeping has its own mutex.
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "driver/device.h"

namespace ipsec::driver {

class BorrowedDevice final : public Device {
 public:
  explicit BorrowedDevice(Device* real) : real_(real) {}
  std::string_view backend() const override { return real_->backend(); }
  StatusOr<uint32_t> Read32(uint32_t offset) override { return real_->Read32(offset); }
  Status Write32(uint32_t offset, uint32_t value) override { return real_->Write32(offset, value); }
  Status WriteBatch(std::span<const RegWrite> writes) override { return real_->WriteBatch(writes); }
  void SyncDma(const DmaRegion& region, SyncDir dir, size_t offset, size_t len) override {
    real_->SyncDma(region, dir, offset, len);
  }
  StatusOr<uint64_t> WaitIrq(std::chrono::microseconds timeout) override { return real_->WaitIrq(timeout); }
  int irq_fd() const override { return real_->irq_fd(); }
  bool simulated() const override { return real_->simulated(); }
  void Step(uint64_t cycles) override { real_->Step(cycles); }

 protected:
  StatusOr<DmaRegion> MapDma(size_t bytes, size_t align) override {
    ASSIGN_OR_RETURN(DmaBuffer b, real_->AllocDma(bytes, align));
    DmaRegion r = b.region();
    std::lock_guard lock(mu_);
    live_.emplace(r.iova, std::move(b));
    return r;
  }
  void UnmapDma(const DmaRegion& region) override {
    std::lock_guard lock(mu_);
    live_.erase(region.iova);
  }

 private:
  Device* real_;
  std::mutex mu_;
  std::unordered_map<uint64_t, DmaBuffer> live_;
};

}  // namespace ipsec::driver
