// EncryptedFragmentPayload: the Encrypted Fragment payload, SKF {...} (RFC 7383 §2.5).
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |        Fragment Number        |        Total Fragments        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                     Initialization Vector                     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                      Encrypted content                        ~
// +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |               |             Padding (0-255 octets)            |
// +-+-+-+-+-+-+-+-+                               +-+-+-+-+-+-+-+-+
// |                                               |  Pad Length   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                    Integrity Checksum Data                    ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Field table:
//   generic header  Next Payload     -> first_inner: the first inner payload's type in fragment 1,
//                                       0 in every other fragment (§2.5)
//   body            0 2 Fragment Number -> fragment_number (1..Total Fragments)
//                   2 2 Total Fragments -> total_fragments (>= 1)
//                   4 * IV || encrypted content || ICV -> data (opaque here)
// Like SK, SKF is the last payload of its message.
#pragma once

#include <cstdint>
#include <vector>

#include "host/common/bytes.h"
#include "host/common/status.h"
#include "host/ike/encoding/ike_constants.h"
#include "host/ike/encoding/wire_writer.h"

namespace ipsec::ike {

struct EncryptedFragmentPayload {
  static constexpr PayloadType kType = PayloadType::kEncryptedFragment;

  PayloadType first_inner = PayloadType::kNone;
  uint16_t fragment_number = 1;
  uint16_t total_fragments = 1;
  std::vector<std::byte> data;

  // Errors: body shorter than the 4 bytes of fragment numbering.
  static StatusOr<EncryptedFragmentPayload> Parse(Bytes body, size_t offset, PayloadType first_inner);
  Status Serialize(WireWriter& w) const;
  // RFC 7383 §2.5: Fragment Number and Total Fragments non-zero, number <= total; Next Payload 0
  // in fragments after the first; data non-empty.
  Status Verify() const;

  friend bool operator==(const EncryptedFragmentPayload&, const EncryptedFragmentPayload&) = default;
};

}  // namespace ipsec::ike
