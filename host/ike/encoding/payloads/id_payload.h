// IdPayload: Identification payload, IDi or IDr (RFC 7296 §3.5).
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |   ID Type     |                 RESERVED                      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                   Identification Data                         ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Field table (body offsets):
//   0 1 ID Type              -> id_type
//   1 3 RESERVED             sent 0, ignored. (The AUTH computation signs the body as sent, so
//                            the auth layer hashes the received bytes, not a re-encoding.)
//   4 * Identification Data  -> data
// The payload type (35 IDi / 36 IDr) is kept in `payload_type`.
#pragma once

#include <vector>

#include "host/common/bytes.h"
#include "host/common/status.h"
#include "host/ike/encoding/ike_constants.h"
#include "host/ike/encoding/wire_writer.h"

namespace ipsec::ike {

struct IdPayload {
  PayloadType payload_type = PayloadType::kIdInitiator;  // kIdInitiator or kIdResponder
  IdType id_type = IdType::kFqdn;
  std::vector<std::byte> data;

  // Errors: body shorter than 4 bytes.
  static StatusOr<IdPayload> Parse(Bytes body, size_t offset, PayloadType payload_type);
  Status Serialize(WireWriter& w) const;
  // payload_type is IDi or IDr; data non-empty except for ID_NULL (RFC 7619: content ignored);
  // ID_IPV4_ADDR 4 bytes, ID_IPV6_ADDR 16; FQDN and RFC822 contain no NUL/CR/LF terminators
  // (§3.5); the ID type is one of the registry's.
  Status Verify() const;

  friend bool operator==(const IdPayload&, const IdPayload&) = default;
};

}  // namespace ipsec::ike
