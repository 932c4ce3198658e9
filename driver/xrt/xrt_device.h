// The `xrt` Device backend: the card as a Vitis RTL kernel on an Alveo board, reached through XRT
// (Xilinx Runtime, Debian's libxrt-dev 2.13). RegisterXrtBackend() adds
// "xrt:<index|bdf>[,xclbin=PATH][,kernel=NAME][,...]" to OpenDevice() (driver/device_registry.h).
//
// What the adapter does (driver/README.md, "XRT backend"):
//   - opens the card with xrt::device by index or PCIe BDF and loads the xclbin (loading the one
//     the card already runs does not reprogram it);
//   - finds the kernel instance, its interrupt and the memory bank of its AXI4 master from the
//     xclbin's IP_LAYOUT, CONNECTIVITY and MEM_TOPOLOGY sections (ResolveXrtKernel, tested here);
//   - registers: xrt::ip read_register / write_register on the user-managed kernel's 64 KiB
//     AXI4-Lite space (the card's BAR);
//   - DMA memory: a few large host-only buffer objects (arenas, XrtDmaCarver) from which
//     regions are carved, IOVA = bo.address() + offset; SyncDma is one bo.sync() of exactly the
//     range asked for;
//   - interrupts: xrt::ip::interrupt (one level-sensitive line, so every vector is reported, as
//     with `sim`), or a polling fallback when the xclbin or the driver gives none.
// Every XRT exception is caught at this boundary and becomes a Status.
//
// Not built without libxrt-dev. Without a card only the option parser, the xclbin layout
// resolution, the arena carver and the failure paths of opening run here; the register, buffer,
// sync and interrupt calls are untested until a card is attached.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "driver/device.h"
#include "host/common/status.h"

namespace ipsec::driver {

struct XrtDeviceOptions {
  std::optional<uint32_t> index;         // xrt:<index>
  std::string bdf;                       // xrt:<bdf>, normalised to "dddd:bb:dd.f" (lower-case hex)
  std::string xclbin;                    // xclbin=PATH; empty: the xclbin the card already runs
  std::string kernel = "ipsec_card";     // kernel=NAME or NAME:INSTANCE (IP_LAYOUT name)
  std::optional<int32_t> bank;           // bank=N: memory group for the buffers (default: from the xclbin)
  size_t arena_bytes = size_t{4} << 20;  // arena=BYTES[K|M]: size of each buffer-object arena
  bool sync = true;                      // sync=off: skip bo.sync (coherent host memory only)
  bool poll_irq = false;                 // irq=poll: never use xrt::ip::interrupt
  uint32_t poll_us = 100;                // poll_us=N: the polling fallback's tick
};

// Parses the part of the spec after "xrt:": the card first (a decimal index, or a PCIe address
// "dddd:bb:dd.f" / "bb:dd.f"), then comma-separated key=value options. InvalidArgument with a
// message that names the offending item otherwise. A path containing ',' cannot be given.
StatusOr<XrtDeviceOptions> ParseXrtDeviceOptions(std::string_view args);

// The kernel instance the backend drives, as found in the xclbin.
struct XrtKernelLayout {
  std::string ip_name;        // IP_LAYOUT name, "kernel:instance"
  uint64_t base_address = 0;  // of its AXI4-Lite slave
  bool interrupt = false;     // IP_LAYOUT says its interrupt is connected
  int32_t memory_group = -1;  // MEM_TOPOLOGY index for the buffer objects
  std::string memory_tag;     // e.g. "HOST[0]"
};

// Finds `kernel` (NAME matches the one instance of that kernel; NAME:INSTANCE or
// NAME:{INSTANCE} one instance) in the raw IP_LAYOUT section, and the memory bank for its buffers:
// `bank` if given, else the bank CONNECTIVITY connects to its argument 0 (m_axi_gmem), which must
// be host memory. Sections are the bytes XRT hands out (xclbin.h layouts, host byte order).
// NotFound: no such kernel (the message lists the kernels there are); InvalidArgument: an
// ambiguous name or a bad bank; FailedPrecondition: the master is not connected to host memory;
// DataLoss: a malformed section.
StatusOr<XrtKernelLayout> ResolveXrtKernel(std::span<const std::byte> ip_layout,
                                           std::span<const std::byte> connectivity,
                                           std::span<const std::byte> mem_topology, std::string_view kernel,
                                           std::optional<int32_t> bank);

// Carves aligned regions out of one arena of `size` bytes whose first byte has bus address
// `bus_base`: first fit over a free list, neighbours merged on Free. Alignment is of the bus
// address. Every region is a multiple of kGranule bytes, so two regions never share a cache line
// (a sync of one never touches another). Not thread-safe: the backend holds its lock.
class XrtDmaCarver {
 public:
  static constexpr size_t kGranule = 64;

  XrtDmaCarver(uint64_t bus_base, size_t size);

  // The offset of a new region of `bytes` (> 0) aligned to `align` (a power of two), or nullopt
  // when no free range fits.
  std::optional<size_t> Alloc(size_t bytes, size_t align);
  // Returns the region at `offset` of `bytes` (as passed to Alloc).
  void Free(size_t offset, size_t bytes);
  bool empty() const { return used_bytes_ == 0; }
  size_t used_bytes() const { return used_bytes_; }
  size_t size() const { return size_; }

 private:
  uint64_t bus_base_;
  size_t size_;
  size_t used_bytes_ = 0;
  std::map<size_t, size_t> free_;  // offset -> length, disjoint and not adjacent
};

// Opens a card (what the "xrt" factory calls). NotFound: no such card, or the xclbin/kernel is
// missing; Unavailable: XRT refused (driver, busy kernel, failed load).
StatusOr<std::unique_ptr<Device>> OpenXrtDevice(const XrtDeviceOptions& options);

// Registers "xrt"; a second call is a no-op.
Status RegisterXrtBackend();

}  // namespace ipsec::driver
