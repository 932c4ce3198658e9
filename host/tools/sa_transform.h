// SaTransform: what ipsec-pcap runs each burst through. It hides whether the SAs are ESP or AH and
// whether one SA (outbound) or a lookup by SPI (inbound) is involved.
//
// Selection rules (MakeSaTransform):
//   encap: exactly one SA with direction = out in the list; ESP or AH.
//   decap: every SA with direction = in; all of one protocol. ESP SAs go into an InboundSad (any
//          number, distinct SPIs); AH SAs are looked up by SPI the same way, run by run.
// SAs of the other direction are ignored, so one file may hold an out+in pair for both runs.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "host/common/packet_buf.h"
#include "host/common/status.h"
#include "host/crypto/primitives.h"
#include "host/sa/sa_file.h"
#include "host/sa/sa_stats.h"

namespace ipsec::tools {

enum class Operation : uint8_t { kEncap, kDecap };

struct SaReport {
  uint32_t spi = 0;
  sa::Direction direction = sa::Direction::kOutbound;
  sa::Protocol protocol = sa::Protocol::kEsp;
  std::string suite;
  sa::SaCounters counters;
};

class SaTransform {
 public:
  virtual ~SaTransform() = default;
  // Burst API of EspSa/AhSa: one status per packet, returns how many succeeded.
  virtual size_t Process(std::span<PacketBuf* const> pkts, std::span<sa::DropReason> status) = 0;
  // Largest growth in front of a packet (outbound), for buffer sizing.
  virtual uint32_t MaxHeadroom() const = 0;
  // Per-SA counters; drops that no SA owns (unknown SPI, not ESP/AH) are reported with spi 0.
  virtual std::vector<SaReport> Reports() const = 0;
  // Concrete provider the SAs resolved to ("ipsec-mb" / "openssl").
  virtual crypto::Provider provider() const = 0;
};

// Builds the transform for `op` from the SAs of a file (see the rules above). Errors are
// InvalidArgument with a message meant for the command line.
[[nodiscard]] StatusOr<std::unique_ptr<SaTransform>> MakeSaTransform(Operation op, std::vector<sa::SaFile> sas,
                                                                     crypto::Provider provider);

// AH back end, in ah_transform.cc.
[[nodiscard]] StatusOr<std::unique_ptr<SaTransform>> MakeAhTransform(Operation op, std::vector<sa::SaFile> sas,
                                                                     crypto::Provider provider);
bool AhSupported();

}  // namespace ipsec::tools
