// KePayload: Key Exchange payload (RFC 7296 §3.4).
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |   Diffie-Hellman Group Num    |           RESERVED            |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                       Key Exchange Data                       ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Field table (body offsets):
//   0 2 DH Group Num       -> group
//   2 2 RESERVED           sent 0, ignored
//   4 * Key Exchange Data  -> data (public value; not secret, so a plain vector)
#pragma once

#include <vector>

#include "host/common/bytes.h"
#include "host/common/status.h"
#include "host/ike/encoding/ike_constants.h"
#include "host/ike/encoding/wire_writer.h"

namespace ipsec::ike {

struct KePayload {
  static constexpr PayloadType kType = PayloadType::kKe;

  DhGroup group = DhGroup::kNone;
  std::vector<std::byte> data;

  // Errors: body shorter than 4 bytes.
  static StatusOr<KePayload> Parse(Bytes body, size_t offset);
  Status Serialize(WireWriter& w) const;
  // Group is not NONE, data is non-empty, and for groups whose size is known
  // (KeyExchangeDataSize) the data has exactly that size (RFC 5903 §7, RFC 8031 §3).
  Status Verify() const;

  friend bool operator==(const KePayload&, const KePayload&) = default;
};

}  // namespace ipsec::ike
