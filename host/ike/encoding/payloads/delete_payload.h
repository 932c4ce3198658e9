// DeletePayload: Delete payload (RFC 7296 §3.11).
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Protocol ID   |   SPI Size    |          Num of SPIs          |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~               Security Parameter Index(es) (SPI)              ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Field table (body offsets):
//   0 1 Protocol ID   -> protocol
//   1 1 SPI Size      -> spi_size
//   2 2 Num of SPIs   -> spis.size(); SPI Size * Num of SPIs must equal the rest of the body, and
//                        a zero SPI Size must come with zero SPIs (nothing else is representable)
//   4 * SPIs          -> spis, each spi_size bytes
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "host/common/bytes.h"
#include "host/common/status.h"
#include "host/ike/encoding/ike_constants.h"
#include "host/ike/encoding/wire_writer.h"

namespace ipsec::ike {

struct DeletePayload {
  static constexpr PayloadType kType = PayloadType::kDelete;

  ProtocolId protocol = ProtocolId::kIke;
  uint8_t spi_size = 0;
  std::vector<std::vector<std::byte>> spis;

  // Delete the IKE SA that protects the message (§1.4.1: protocol IKE, no SPIs).
  static DeletePayload IkeSa() { return {}; }
  // Delete inbound Child SAs of `protocol` (AH or ESP) by their 4-byte SPIs.
  static DeletePayload ChildSas(ProtocolId protocol, std::span<const uint32_t> spis);

  // Errors: body shorter than 4; SPI Size * Num of SPIs differs from the remaining body; SPI Size
  // 0 with a non-zero count.
  static StatusOr<DeletePayload> Parse(Bytes body, size_t offset);
  // Errors: an SPI whose size differs from spi_size; over 65535 SPIs; SPIs with spi_size 0.
  Status Serialize(WireWriter& w) const;
  // IKE: SPI size 0 and no SPIs. AH/ESP: SPI size 4 and at least one SPI. Other protocols: error.
  Status Verify() const;

  friend bool operator==(const DeletePayload&, const DeletePayload&) = default;
};

}  // namespace ipsec::ike
