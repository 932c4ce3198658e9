// NoncePayload: Nonce payload, Ni or Nr (RFC 7296 §3.9).
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                            Nonce Data                         ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Field table (body offsets):
//   0 * Nonce Data -> nonce; RFC 7296 §3.9: "between 16 and 256 octets". The size limit is
//                     enforced at decode as well as in Verify(): every consumer hashes the nonce
//                     into key derivation, so an out-of-range nonce is never useful.
#pragma once

#include <vector>

#include "host/common/bytes.h"
#include "host/common/status.h"
#include "host/ike/encoding/ike_constants.h"
#include "host/ike/encoding/wire_writer.h"

namespace ipsec::ike {

struct NoncePayload {
  static constexpr PayloadType kType = PayloadType::kNonce;

  std::vector<std::byte> nonce;

  // Errors: nonce shorter than 16 or longer than 256 bytes.
  static StatusOr<NoncePayload> Parse(Bytes body, size_t offset);
  // Fails (like Verify) on an out-of-range nonce, which Parse could not read back.
  Status Serialize(WireWriter& w) const;
  Status Verify() const;

  friend bool operator==(const NoncePayload&, const NoncePayload&) = default;
};

}  // namespace ipsec::ike
