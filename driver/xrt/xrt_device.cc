// The `xrt` backend: XrtDevice over XRT 2.13's native C++ API (xrt::device, xrt::ip, xrt::bo).
// Every call into XRT sits in a try block; nothing XRT throws leaves this file.
#include "driver/xrt/xrt_device.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <list>
#include <mutex>
#include <new>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "driver/device_registry.h"
#include "ipsec_accel/card_regs.h"

// XRT's headers (SYSTEM includes: they are not warning-clean under this project's flags).
#include "experimental/xrt_ip.h"
#include "experimental/xrt_xclbin.h"
#include "xclbin.h"
#include "xrt/xrt_bo.h"
#include "xrt/xrt_device.h"

namespace ipsec::driver {

namespace {

// ---- Option parsing ----

bool ParseU64(std::string_view v, uint64_t* out) {
  if (v.empty()) return false;
  const auto r = std::from_chars(v.data(), v.data() + v.size(), *out);
  return r.ec == std::errc() && r.ptr == v.data() + v.size();
}

bool ParseHex(std::string_view v, size_t max_digits, uint32_t* out) {
  if (v.empty() || v.size() > max_digits) return false;
  const auto r = std::from_chars(v.data(), v.data() + v.size(), *out, 16);
  return r.ec == std::errc() && r.ptr == v.data() + v.size();
}

// "123", "64K", "4M", "1G" (binary multiples).
bool ParseBytes(std::string_view v, uint64_t* out) {
  uint64_t mult = 1;
  if (!v.empty()) {
    const char last = v.back();
    if (last == 'K' || last == 'k') mult = uint64_t{1} << 10;
    if (last == 'M' || last == 'm') mult = uint64_t{1} << 20;
    if (last == 'G' || last == 'g') mult = uint64_t{1} << 30;
    if (mult != 1) v.remove_suffix(1);
  }
  uint64_t n = 0;
  if (!ParseU64(v, &n) || n > (uint64_t{1} << 40) / mult) return false;
  *out = n * mult;
  return true;
}

// "[dddd:]bb:dd.f" -> "dddd:bb:dd.f" (lower-case), or nullopt.
std::optional<std::string> NormaliseBdf(std::string_view s) {
  const size_t dot = s.rfind('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const std::string_view fn = s.substr(dot + 1);
  std::string_view head = s.substr(0, dot);
  const size_t c2 = head.rfind(':');
  if (c2 == std::string_view::npos) return std::nullopt;
  const std::string_view dev = head.substr(c2 + 1);
  head = head.substr(0, c2);
  const size_t c1 = head.rfind(':');
  const std::string_view bus = c1 == std::string_view::npos ? head : head.substr(c1 + 1);
  const std::string_view dom = c1 == std::string_view::npos ? std::string_view("0") : head.substr(0, c1);
  uint32_t d = 0, b = 0, v = 0, f = 0;
  if (!ParseHex(dom, 4, &d) || !ParseHex(bus, 2, &b) || !ParseHex(dev, 2, &v) || v > 0x1f || fn.size() != 1 ||
      !ParseHex(fn, 1, &f) || f > 7) {
    return std::nullopt;
  }
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04x:%02x:%02x.%x", d, b, v, f);
  return std::string(buf);
}

constexpr char kSpecHelp[] =
    "xrt:<index|bdf>[,xclbin=PATH][,kernel=NAME][,bank=N][,arena=BYTES][,sync=on|off][,irq=auto|poll]"
    "[,poll_us=N], e.g. xrt:0 or xrt:0000:3b:00.0,xclbin=ipsec_card.xclbin";

// ---- Exceptions to Status ----

// Maps whatever XRT threw (inside a catch block) to a Status: "<context>: <what>".
// `fallback` is the code when the exception says nothing more specific.
Status CurrentExceptionToStatus(const std::string& context, StatusCode fallback) {
  try {
    throw;
  } catch (const std::out_of_range& e) {
    return OutOfRangeError(context + ": " + e.what());
  } catch (const std::bad_alloc&) {
    return ResourceExhaustedError(context + ": out of memory");
  } catch (const std::system_error& e) {
    StatusCode code = fallback;
    switch (e.code().value()) {
      case ENOENT:
      case ENODEV:
        code = StatusCode::kNotFound;
        break;
      case ENOMEM:
      case ENOSPC:
        code = StatusCode::kResourceExhausted;
        break;
      case EBUSY:
      case EAGAIN:
      case EACCES:
      case EPERM:
      case EIO:
      case ETIMEDOUT:
        code = StatusCode::kUnavailable;
        break;
      default:
        break;
    }
    return Status(code, context + ": " + e.what());
  } catch (const std::exception& e) {
    return Status(fallback, context + ": " + e.what());
  } catch (...) {
    return Status(fallback, context + ": unknown exception from XRT");
  }
}

// ---- xclbin sections ----

int32_t LoadI32(std::span<const std::byte> s, size_t at) {
  int32_t v = 0;
  std::memcpy(&v, s.data() + at, sizeof(v));
  return v;
}

// Header bytes before the first entry, and the entry size, of the three sections we read.
constexpr size_t kIpLayoutHeader = offsetof(ip_layout, m_ip_data);
constexpr size_t kConnectivityHeader = offsetof(connectivity, m_connection);
constexpr size_t kMemTopologyHeader = offsetof(mem_topology, m_mem_data);
constexpr int32_t kMaxSectionEntries = 1 << 16;

// The entries of a section as a span: bounds-checked against the bytes given.
StatusOr<int32_t> SectionCount(std::span<const std::byte> s, size_t header, size_t entry, const char* name) {
  if (s.size() < sizeof(int32_t)) return DataLossError(std::string("xrt: the xclbin has no ") + name + " section");
  const int32_t n = LoadI32(s, 0);
  if (n < 0 || n > kMaxSectionEntries || s.size() < header + size_t(n) * entry) {
    return DataLossError(std::string("xrt: malformed ") + name + " section (" + std::to_string(n) + " entries in " +
                         std::to_string(s.size()) + " bytes)");
  }
  return n;
}

std::string CString(const unsigned char* p, size_t max) {
  const auto* c = reinterpret_cast<const char*>(p);
  return std::string(c, strnlen(c, max));
}

// How many bytes a section XRT handed out as a bare pointer occupies, from its count.
std::span<const std::byte> SectionFromPointer(const char* p, size_t header, size_t entry) {
  if (p == nullptr) return {};
  const auto* b = reinterpret_cast<const std::byte*>(p);
  int32_t n = 0;
  std::memcpy(&n, b, sizeof(n));
  if (n < 0 || n > kMaxSectionEntries) return {b, sizeof(int32_t)};  // ResolveXrtKernel reports it
  return {b, header + size_t(n) * entry};
}

// ---- The device ----

constexpr uint64_t kAllVectors = Device::kGlobalIrqBit | 0xffffffffULL;
constexpr size_t kPage = 4096;

size_t RoundUp(size_t v, size_t a) {
  return (v + a - 1) / a * a;
}

class XrtDevice final : public Device {
 public:
  static StatusOr<std::unique_ptr<Device>> Open(const XrtDeviceOptions& o);

  ~XrtDevice() override {
    // Buffers first (they hold the device), then the interrupt, the IP context and the device.
    std::lock_guard lock(mu_);
    arenas_.clear();
  }

  std::string_view backend() const override { return "xrt"; }

  StatusOr<uint32_t> Read32(uint32_t offset) override {
    RETURN_IF_ERROR(CheckOffset(offset));
    if (poisoned_.load(std::memory_order_relaxed)) return PoisonedStatus();
    try {
      return ip_.read_register(offset);
    } catch (...) {
      return CurrentExceptionToStatus("xrt: register read at " + Hex(offset), StatusCode::kUnavailable);
    }
  }

  Status Write32(uint32_t offset, uint32_t value) override {
    RETURN_IF_ERROR(CheckOffset(offset));
    if (poisoned_.load(std::memory_order_relaxed)) return PoisonedStatus();
    try {
      ip_.write_register(offset, value);
      return OkStatus();
    } catch (...) {
      return CurrentExceptionToStatus("xrt: register write at " + Hex(offset), StatusCode::kUnavailable);
    }
  }

  void SyncDma(const DmaRegion& region, SyncDir dir, size_t offset, size_t len) override {
    if (!options_.sync || len == 0 || region.cookie == 0 || offset >= region.bytes) return;
    len = std::min(len, region.bytes - offset);
    auto* arena = reinterpret_cast<Arena*>(region.cookie);
    const size_t bo_offset = static_cast<size_t>(region.iova - arena->bus) + offset;
    try {
      arena->bo.sync(dir == SyncDir::kToDevice ? XCL_BO_SYNC_BO_TO_DEVICE : XCL_BO_SYNC_BO_FROM_DEVICE, len, bo_offset);
    } catch (...) {
      // The seam cannot return it from here. Host and card may now disagree about DMA memory, so
      // the device is treated as lost: every later register access fails with this message, and
      // the driver's health check and SA commands report it.
      Status s = CurrentExceptionToStatus("xrt: bo.sync", StatusCode::kUnavailable);
      std::lock_guard lock(mu_);
      if (!poisoned_.load(std::memory_order_relaxed)) first_sync_error_ = s.message();
      poisoned_.store(true, std::memory_order_relaxed);
    }
  }

  StatusOr<uint64_t> WaitIrq(std::chrono::microseconds timeout) override {
    std::lock_guard lock(irq_mu_);
    if (timeout.count() < 0) timeout = std::chrono::microseconds(0);
    if (irq_.has_value()) {
      // xrt::ip::interrupt waits in milliseconds: round up, so a short timeout still waits.
      const auto ms = std::chrono::ceil<std::chrono::milliseconds>(timeout);
      try {
        if (irq_->wait(ms) == std::cv_status::timeout) return uint64_t{0};
        // XRT's timed wait does not re-enable the IP interrupt once it fired (its untimed wait does).
        irq_->enable();
      } catch (...) {
        return CurrentExceptionToStatus("xrt: interrupt wait", StatusCode::kUnavailable);
      }
      // One level-sensitive line: it cannot say which ring asked, so report every vector.
      return kAllVectors;
    }
    // Polling fallback: a timer tick. Sleep one tick (or the timeout, if shorter), then report
    // every ring vector (the driver polls its rings, as NAPI on a timer) and the global vector
    // when the card's global cause register says so.
    const auto tick = std::min<std::chrono::microseconds>(timeout, std::chrono::microseconds(options_.poll_us));
    if (tick.count() > 0) std::this_thread::sleep_for(tick);
    ASSIGN_OR_RETURN(uint32_t status, Read32(card::reg::kCtrlIrqStatus));
    ASSIGN_OR_RETURN(uint32_t mask, Read32(card::reg::kCtrlIrqMask));
    return (status & mask) != 0 ? kAllVectors : uint64_t{0xffffffffULL};
  }

 protected:
  StatusOr<DmaRegion> MapDma(size_t bytes, size_t align) override {
    if (bytes == 0 || align == 0 || (align & (align - 1)) != 0 || align > options_.arena_bytes) {
      return InvalidArgumentError("xrt: DMA allocation of " + std::to_string(bytes) + " bytes aligned to " +
                                  std::to_string(align));
    }
    std::lock_guard lock(mu_);
    for (const std::unique_ptr<Arena>& a : arenas_) {
      if (std::optional<size_t> off = a->carver.Alloc(bytes, align)) return Carve(*a, *off, bytes);
    }
    // A new arena: the usual size, or larger for a request that would not fit one.
    const size_t want = std::max(options_.arena_bytes, RoundUp(bytes + (align > kPage ? align : 0), kPage));
    ASSIGN_OR_RETURN(Arena * a, NewArena(want));
    std::optional<size_t> off = a->carver.Alloc(bytes, align);
    if (!off) return InternalError("xrt: a fresh buffer-object arena cannot hold the allocation");
    return Carve(*a, *off, bytes);
  }

  void UnmapDma(const DmaRegion& region) override {
    if (region.cookie == 0) return;
    std::lock_guard lock(mu_);
    auto* arena = reinterpret_cast<Arena*>(region.cookie);
    arena->carver.Free(static_cast<size_t>(region.iova - arena->bus), region.bytes);
    // Keep the first arena for reuse; give later ones back to XRT once empty.
    if (arena->carver.empty() && arena != arenas_.front().get()) {
      arenas_.remove_if([arena](const std::unique_ptr<Arena>& p) { return p.get() == arena; });
    }
  }

 private:
  struct Arena {
    xrt::bo bo;
    uint64_t bus = 0;
    std::byte* host = nullptr;
    XrtDmaCarver carver;
  };

  explicit XrtDevice(XrtDeviceOptions o) : options_(std::move(o)) {}

  static std::string Hex(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "0x%04x", v);
    return buf;
  }

  Status PoisonedStatus() {
    std::lock_guard lock(mu_);
    return UnavailableError(first_sync_error_ + " failed earlier; the card's DMA memory cannot be trusted");
  }

  static Status CheckOffset(uint32_t offset) {
    if ((offset & 3) != 0 || offset > card::kBarBytes - 4) {
      return OutOfRangeError("xrt: register offset " + Hex(offset) + " outside the 64 KiB BAR or unaligned");
    }
    return OkStatus();
  }

  StatusOr<Arena*> NewArena(size_t bytes) {
    try {
      xrt::bo bo(device_, bytes, xrt::bo::flags::host_only, static_cast<xrt::memory_group>(layout_.memory_group));
      auto* host = bo.map<std::byte*>();
      const uint64_t bus = bo.address();
      auto arena = std::make_unique<Arena>(Arena{std::move(bo), bus, host, XrtDmaCarver(bus, bytes)});
      arenas_.push_back(std::move(arena));
      return arenas_.back().get();
    } catch (...) {
      return CurrentExceptionToStatus("xrt: host-only buffer object of " + std::to_string(bytes) + " bytes in " +
                                          layout_.memory_tag + " (is host memory enabled? xbutil configure --host-mem)",
                                      StatusCode::kResourceExhausted);
    }
  }

  StatusOr<DmaRegion> Carve(Arena& a, size_t off, size_t bytes) {
    std::memset(a.host + off, 0, bytes);  // the seam promises zeroed buffers
    DmaRegion r{a.bus + off, a.host + off, bytes, reinterpret_cast<uint64_t>(&a)};
    if (options_.sync) {
      try {
        a.bo.sync(XCL_BO_SYNC_BO_TO_DEVICE, RoundUp(bytes, XrtDmaCarver::kGranule), off);
      } catch (...) {
        a.carver.Free(off, bytes);
        return CurrentExceptionToStatus("xrt: bo.sync of a new buffer", StatusCode::kUnavailable);
      }
    }
    return r;
  }

  XrtDeviceOptions options_;
  xrt::device device_;
  xrt::uuid uuid_;
  XrtKernelLayout layout_;
  xrt::ip ip_;
  std::optional<xrt::ip::interrupt> irq_;
  std::mutex irq_mu_;

  std::mutex mu_;                             // arenas_, first_sync_error_
  std::list<std::unique_ptr<Arena>> arenas_;  // Arena addresses are DmaRegion cookies: stable
  std::atomic<bool> poisoned_{false};         // a bo.sync failed
  std::string first_sync_error_;
};

StatusOr<std::unique_ptr<Device>> XrtDevice::Open(const XrtDeviceOptions& o) {
  std::unique_ptr<XrtDevice> d(new XrtDevice(o));
  const std::string label = o.index ? "card " + std::to_string(*o.index) : "card " + o.bdf;

  // The card.
  try {
    d->device_ = o.index ? xrt::device(*o.index) : xrt::device(o.bdf);
  } catch (...) {
    Status s = CurrentExceptionToStatus("xrt: cannot open " + label, StatusCode::kNotFound);
    unsigned cards = 0;
    try {
      cards = xclProbe();  // the PCIe shim's count of user functions XRT can drive
    } catch (...) {
    }
    return Status(s.code(), s.message() + " (XRT sees " + std::to_string(cards) +
                                " card(s); is the xocl driver loaded? `xbutil examine` lists them)");
  }

  // The xclbin: load it (a no-op when the card already runs it), or take the one loaded.
  xrt::xclbin xclbin;
  try {
    if (!o.xclbin.empty()) {
      xclbin = xrt::xclbin(o.xclbin);
      d->uuid_ = d->device_.load_xclbin(xclbin);
    } else {
      d->uuid_ = d->device_.get_xclbin_uuid();
    }
  } catch (...) {
    return CurrentExceptionToStatus(o.xclbin.empty() ? "xrt: " + label + ": reading the loaded xclbin's id"
                                                     : "xrt: " + label + ": loading " + o.xclbin,
                                    o.xclbin.empty() ? StatusCode::kUnavailable : StatusCode::kNotFound);
  }
  if (!d->uuid_) {
    return FailedPreconditionError("xrt: " + label + " runs no xclbin; pass xclbin=PATH");
  }

  // The kernel instance and its memory bank, from the xclbin's own tables.
  auto section = [&](axlf_section_kind kind, size_t header, size_t entry) -> std::span<const std::byte> {
    try {
      const char* p = o.xclbin.empty() ? d->device_.get_xclbin_section<const char*>(kind, d->uuid_)
                                       : xclbin.get_axlf_section<const char*>(kind);
      return SectionFromPointer(p, header, entry);
    } catch (...) {
      return {};  // missing: ResolveXrtKernel says which
    }
  };
  ASSIGN_OR_RETURN(d->layout_,
                   ResolveXrtKernel(section(IP_LAYOUT, kIpLayoutHeader, sizeof(ip_data)),
                                    section(CONNECTIVITY, kConnectivityHeader, sizeof(connection)),
                                    section(MEM_TOPOLOGY, kMemTopologyHeader, sizeof(mem_data)), o.kernel, o.bank));

  // Register access: an exclusive context on the kernel instance.
  try {
    d->ip_ = xrt::ip(d->device_, d->uuid_, d->layout_.ip_name);
  } catch (...) {
    return CurrentExceptionToStatus(
        "xrt: " + label + ": opening kernel " + d->layout_.ip_name + " (another process may hold it)",
        StatusCode::kUnavailable);
  }

  // Interrupts, or the polling fallback.
  if (!o.poll_irq && d->layout_.interrupt) {
    try {
      d->irq_.emplace(d->ip_.create_interrupt_notify());
    } catch (...) {
      d->irq_.reset();  // the driver or shell gives no IP interrupt: poll
    }
  }
  return std::unique_ptr<Device>(std::move(d));
}

}  // namespace

// ---- Public functions ----

StatusOr<XrtDeviceOptions> ParseXrtDeviceOptions(std::string_view args) {
  XrtDeviceOptions o;
  const size_t first_comma = args.find(',');
  const std::string_view card = args.substr(0, first_comma);
  args = first_comma == std::string_view::npos ? std::string_view{} : args.substr(first_comma + 1);
  if (card.empty()) return InvalidArgumentError(std::string("xrt device: no card given; expected ") + kSpecHelp);
  uint64_t n = 0;
  if (card.find_first_not_of("0123456789") == std::string_view::npos) {
    if (!ParseU64(card, &n) || n > 1023) {
      return InvalidArgumentError("xrt device: card index '" + std::string(card) + "' out of range (0..1023)");
    }
    o.index = static_cast<uint32_t>(n);
  } else if (std::optional<std::string> bdf = NormaliseBdf(card)) {
    o.bdf = *bdf;
  } else {
    return InvalidArgumentError("xrt device: '" + std::string(card) +
                                "' is neither a card index nor a PCIe address (dddd:bb:dd.f); expected " + kSpecHelp);
  }

  std::vector<std::string_view> seen;
  while (!args.empty()) {
    const size_t comma = args.find(',');
    const std::string_view item = args.substr(0, comma);
    args = comma == std::string_view::npos ? std::string_view{} : args.substr(comma + 1);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    const std::string_view key = item.substr(0, eq);
    const std::string_view val = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      return InvalidArgumentError("xrt device option '" + std::string(key) + "' given twice");
    }
    seen.push_back(key);
    uint64_t v = 0;
    if (eq == std::string_view::npos) {
      // fall through to the error below
    } else if (key == "xclbin" && !val.empty()) {
      o.xclbin = std::string(val);
      continue;
    } else if (key == "kernel" && !val.empty()) {
      o.kernel = std::string(val);
      continue;
    } else if (key == "bank" && ParseU64(val, &v) && v < 1024) {
      o.bank = static_cast<int32_t>(v);
      continue;
    } else if (key == "arena" && ParseBytes(val, &v) && v >= (uint64_t{64} << 10) && v <= (uint64_t{1} << 30) &&
               v % kPage == 0) {
      o.arena_bytes = static_cast<size_t>(v);
      continue;
    } else if (key == "sync" && (val == "on" || val == "off")) {
      o.sync = val == "on";
      continue;
    } else if (key == "irq" && (val == "auto" || val == "poll")) {
      o.poll_irq = val == "poll";
      continue;
    } else if (key == "poll_us" && ParseU64(val, &v) && v >= 1 && v <= 1000000) {
      o.poll_us = static_cast<uint32_t>(v);
      continue;
    }
    return InvalidArgumentError("xrt device option '" + std::string(item) +
                                "': expected xclbin=PATH, kernel=NAME[:INSTANCE], bank=N, arena=BYTES[K|M|G] "
                                "(64K..1G, whole pages), sync=on|off, irq=auto|poll or poll_us=N (1..1000000)");
  }
  return o;
}

StatusOr<XrtKernelLayout> ResolveXrtKernel(std::span<const std::byte> ip_layout_bytes,
                                           std::span<const std::byte> connectivity_bytes,
                                           std::span<const std::byte> mem_topology_bytes, std::string_view kernel,
                                           std::optional<int32_t> bank) {
  ASSIGN_OR_RETURN(int32_t n_ips, SectionCount(ip_layout_bytes, kIpLayoutHeader, sizeof(ip_data), "IP_LAYOUT"));
  // "name:{instance}" is how XRT's examples spell instances; IP_LAYOUT says "name:instance".
  std::string want(kernel);
  if (const size_t brace = want.find(":{"); brace != std::string::npos && want.back() == '}') {
    want.erase(brace + 1, 1);
    want.pop_back();
  }
  const bool exact = want.find(':') != std::string::npos;

  std::vector<std::pair<int32_t, ip_data>> matches;
  std::string kernels;
  for (int32_t i = 0; i < n_ips; ++i) {
    ip_data d;
    std::memcpy(&d, ip_layout_bytes.data() + kIpLayoutHeader + size_t(i) * sizeof(ip_data), sizeof(d));
    if (d.m_type != IP_KERNEL) continue;
    const std::string name = CString(d.m_name, sizeof(d.m_name));
    kernels += (kernels.empty() ? "" : ", ") + name;
    const bool match = exact ? name == want : (name == want || name.rfind(want + ":", 0) == 0);
    if (match) matches.emplace_back(i, d);
  }
  if (matches.empty()) {
    return NotFoundError("xrt: no kernel '" + std::string(kernel) + "' in the xclbin (kernels: " +
                         (kernels.empty() ? std::string("none") : kernels) + "); pass kernel=NAME");
  }
  if (matches.size() > 1) {
    return InvalidArgumentError("xrt: kernel '" + std::string(kernel) + "' has " + std::to_string(matches.size()) +
                                " instances (" + kernels + "); pass kernel=NAME:INSTANCE");
  }
  const auto& [ip_index, ip] = matches.front();
  XrtKernelLayout out;
  out.ip_name = CString(ip.m_name, sizeof(ip.m_name));
  out.base_address = ip.m_base_address;
  out.interrupt = (ip.properties & IP_INT_ENABLE_MASK) != 0;

  ASSIGN_OR_RETURN(int32_t n_mems,
                   SectionCount(mem_topology_bytes, kMemTopologyHeader, sizeof(mem_data), "MEM_TOPOLOGY"));
  auto mem_at = [&](int32_t i) {
    mem_data m;
    std::memcpy(&m, mem_topology_bytes.data() + kMemTopologyHeader + size_t(i) * sizeof(mem_data), sizeof(m));
    return m;
  };
  if (bank) {
    if (*bank < 0 || *bank >= n_mems || mem_at(*bank).m_used == 0) {
      return InvalidArgumentError("xrt: bank=" + std::to_string(*bank) + " is not a used memory bank of the xclbin (" +
                                  std::to_string(n_mems) + " banks)");
    }
    out.memory_group = *bank;
    out.memory_tag = CString(mem_at(*bank).m_tag, sizeof(mem_at(*bank).m_tag));
    return out;
  }
  ASSIGN_OR_RETURN(int32_t n_conn,
                   SectionCount(connectivity_bytes, kConnectivityHeader, sizeof(connection), "CONNECTIVITY"));
  for (int32_t i = 0; i < n_conn; ++i) {
    connection c;
    std::memcpy(&c, connectivity_bytes.data() + kConnectivityHeader + size_t(i) * sizeof(connection), sizeof(c));
    if (c.m_ip_layout_index != ip_index || c.arg_index != 0) continue;
    if (c.mem_data_index < 0 || c.mem_data_index >= n_mems) {
      return DataLossError("xrt: CONNECTIVITY names memory bank " + std::to_string(c.mem_data_index) + " of " +
                           std::to_string(n_mems));
    }
    const mem_data m = mem_at(c.mem_data_index);
    const std::string tag = CString(m.m_tag, sizeof(m.m_tag));
    if (m.m_type != MEM_HOST) {
      return FailedPreconditionError("xrt: " + out.ip_name + "'s AXI4 master is connected to " + tag +
                                     ", not host memory: the card DMAs host memory (sp=...:HOST[0] in "
                                     "bitstreams/u55c.cfg); pass bank=N to override");
    }
    out.memory_group = c.mem_data_index;
    out.memory_tag = tag;
    return out;
  }
  return FailedPreconditionError("xrt: the xclbin connects no memory bank to argument 0 of " + out.ip_name +
                                 "; pass bank=N");
}

XrtDmaCarver::XrtDmaCarver(uint64_t bus_base, size_t size) : bus_base_(bus_base), size_(size) {
  if (size > 0) free_.emplace(0, size);
}

std::optional<size_t> XrtDmaCarver::Alloc(size_t bytes, size_t align) {
  if (bytes == 0 || align == 0 || (align & (align - 1)) != 0 || bytes > size_) return std::nullopt;
  bytes = RoundUp(bytes, kGranule);
  align = std::max(align, kGranule);
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    const size_t off = it->first;
    const size_t len = it->second;
    const uint64_t bus = bus_base_ + off;
    const size_t start = off + static_cast<size_t>(((bus + align - 1) & ~uint64_t(align - 1)) - bus);
    if (start < off || start > off + len || off + len - start < bytes) continue;
    free_.erase(it);
    if (start > off) free_.emplace(off, start - off);
    if (start + bytes < off + len) free_.emplace(start + bytes, off + len - start - bytes);
    used_bytes_ += bytes;
    return start;
  }
  return std::nullopt;
}

void XrtDmaCarver::Free(size_t offset, size_t bytes) {
  bytes = RoundUp(bytes, kGranule);
  used_bytes_ -= std::min(used_bytes_, bytes);
  size_t start = offset;
  size_t end = offset + bytes;
  auto next = free_.lower_bound(offset);
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == start) {
      start = prev->first;
      free_.erase(prev);
    }
  }
  if (next != free_.end() && next->first == end) {
    end += next->second;
    free_.erase(next);
  }
  free_.emplace(start, end - start);
}

StatusOr<std::unique_ptr<Device>> OpenXrtDevice(const XrtDeviceOptions& options) {
  return XrtDevice::Open(options);
}

Status RegisterXrtBackend() {
  static std::once_flag once;
  static Status result = OkStatus();
  std::call_once(once, [] {
    result = RegisterDeviceBackend("xrt", [](std::string_view args) -> StatusOr<std::unique_ptr<Device>> {
      ASSIGN_OR_RETURN(XrtDeviceOptions o, ParseXrtDeviceOptions(args));
      return OpenXrtDevice(o);
    });
  });
  return result;
}

}  // namespace ipsec::driver
