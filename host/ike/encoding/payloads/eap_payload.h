// EapPayload: Extensible Authentication payload (RFC 7296 §3.16) carrying one EAP message
// (RFC 3748 §4) opaquely.
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                       EAP Message                             ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// EAP message (RFC 7296 §3.16 / RFC 3748 §4):
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     Code      | Identifier    |           Length              |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     Type      | Type_Data...
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Field table:
//   0 * EAP Message -> message (opaque at decode; Verify checks the EAP header)
#pragma once

#include <vector>

#include "host/common/bytes.h"
#include "host/common/status.h"
#include "host/ike/encoding/ike_constants.h"
#include "host/ike/encoding/wire_writer.h"

namespace ipsec::ike {

struct EapPayload {
  static constexpr PayloadType kType = PayloadType::kEap;

  std::vector<std::byte> message;

  // Never fails.
  static StatusOr<EapPayload> Parse(Bytes body, size_t offset);
  Status Serialize(WireWriter& w) const;
  // At least the 4-byte EAP header; Code 1..6 (RFC 3748, RFC 6696); EAP Length equals the message
  // size; Request/Response (1/2) carry a Type byte.
  Status Verify() const;

  friend bool operator==(const EapPayload&, const EapPayload&) = default;
};

}  // namespace ipsec::ike
