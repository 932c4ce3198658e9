// The logic of the ipsec-pcap tool, as a library so tests can call it without a subprocess:
// run every packet of a capture through an SA (encap/decap), generate test captures, read them back.
//
// Link layers read: Ethernet (DLT_EN10MB, up to four 802.1Q/802.1ad tags), raw IP (DLT_RAW,
// LINKTYPE_IPV4, LINKTYPE_IPV6), BSD loopback (DLT_NULL, DLT_LOOP) and Linux cooked capture
// (DLT_LINUX_SLL, DLT_LINUX_SLL2). Frames whose link header says they are not IPv4/IPv6 (ARP, ...)
// are counted as non-IP and left out of the output. Link padding behind the IP packet is removed.
//
// Output link type: Ethernet in gives Ethernet out — each packet keeps its original Ethernet header
// (addresses and VLAN tags) with the EtherType set for the IP version it now has (ESP over IPv6 may
// carry IPv4 inside and vice versa). Every other input link type gives LINKTYPE_RAW output.
// Timestamps are copied from the input records.
//
// Data path: `burst` buffers are allocated once; each burst is read, processed with one call of the
// SA's burst API, then written. Nothing is allocated per packet.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "host/common/status.h"
#include "host/crypto/primitives.h"
#include "host/sa/sa_file.h"
#include "host/sa/sa_stats.h"
#include "host/tools/sa_transform.h"

namespace ipsec::tools {

inline constexpr size_t kMaxBurst = 1024;

struct ProcessOptions {
  Operation op = Operation::kEncap;
  std::string input_path;
  std::string output_path;
  crypto::Provider provider = crypto::Provider::kAuto;
  size_t burst = 32;  // 1..kMaxBurst
  // Device spec for OpenDevice ("soft", "soft:<options>", "sim", ...): the packets go through the
  // card driver on that device (CardTransform, card_transform.h) instead of the software ESP
  // path. Empty: the software path. `provider` does not apply to a device.
  std::string device;
};

struct ProcessStats {
  uint64_t frames = 0;       // records read from the input
  uint64_t non_ip = 0;       // passed over: not IPv4/IPv6 at the link layer
  uint64_t packets_in = 0;   // IP packets handed to the SA(s)
  uint64_t packets_out = 0;  // written to the output
  uint64_t bytes_in = 0;     // IP bytes handed to the SA(s)
  uint64_t bytes_out = 0;    // IP bytes written
  std::array<uint64_t, sa::kNumDropReasons> drops{};
  uint64_t bursts = 0;
  double elapsed_s = 0;  // whole run, file I/O included
  double process_s = 0;  // inside the SA burst calls only
  int input_linktype = 0;
  int output_linktype = 0;
  crypto::Provider provider = crypto::Provider::kAuto;
  std::string device;  // "card:<backend>" when a device ran the packets; shown instead of provider
  std::vector<SaReport> sas;

  uint64_t total_drops() const;
};

// Runs the capture at opts.input_path through the transform MakeSaTransform builds from `sas` (or,
// with opts.device, the CardTransform on that device), writing opts.output_path. Dropped packets
// are counted, never fatal; errors are configuration (bad SA set, burst out of range, unsupported
// link type, unknown device), I/O problems, or a card that stopped completing requests.
[[nodiscard]] StatusOr<ProcessStats> ProcessPcap(const ProcessOptions& opts, std::vector<sa::SaFile> sas);

// Human-readable summary; `per_sa` adds each SA's counters.
std::string FormatStats(const ProcessStats& s, Operation op, bool per_sa);
// The same as one JSON object.
std::string FormatStatsJson(const ProcessStats& s, Operation op, bool per_sa);

struct GenOptions {
  std::string output_path;
  uint64_t count = 100;
  size_t size = 128;  // IP packet length in bytes, headers included
  bool v6 = false;
  uint64_t seed = 1;
};

// Smallest and largest `size` for GenerateUdpPacket.
inline constexpr size_t kGenMinSizeV4 = 28, kGenMinSizeV6 = 48, kGenMaxSize = 65535;

// Packet `index` of a generated capture: UDP from 192.0.2.0/24 to 198.51.100.0/24 (RFC 5737), or
// 2001:db8:0:1::/64 to 2001:db8:0:2::/64 (RFC 3849), correct IPv4 and UDP checksums, payload
// pseudo-random in (seed, index). Precondition: size within the limits above.
std::vector<std::byte> GenerateUdpPacket(size_t size, bool v6, uint64_t seed, uint64_t index);

// Writes opts.count generated packets as a LINKTYPE_RAW capture with deterministic timestamps.
[[nodiscard]] Status GeneratePcap(const GenOptions& opts);

struct PcapContents {
  int linktype = 0;
  std::vector<std::vector<std::byte>> records;  // captured bytes, link header included
};
// Reads a whole capture (for tests and small files).
[[nodiscard]] StatusOr<PcapContents> ReadPcap(const std::string& path);
// Writes `records` as a capture of `linktype` (a DLT_ value).
[[nodiscard]] Status WritePcap(const std::string& path, int linktype, const std::vector<std::vector<std::byte>>& records);

}  // namespace ipsec::tools
