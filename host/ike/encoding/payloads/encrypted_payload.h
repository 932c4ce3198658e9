// EncryptedPayload: the Encrypted and Authenticated payload, SK {...} (RFC 7296 §3.14).
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                     Initialization Vector                     |
// |         (length is block size for encryption algorithm)       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                    Encrypted IKE Payloads                     ~
// +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |               |             Padding (0-255 octets)            |
// +-+-+-+-+-+-+-+-+                               +-+-+-+-+-+-+-+-+
// |                                               |  Pad Length   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                    Integrity Checksum Data                    ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Field table:
//   generic header  Next Payload  -> first_inner: the type of the first payload *inside* the
//                                    encryption (0 for an empty INFORMATIONAL), not of a payload
//                                    that follows; SK is always the last payload of a message
//   body            0 * IV || ciphertext || ICV -> data, opaque here. The SK layer knows the IV
//                                    and ICV sizes of the negotiated suite, decrypts, strips
//                                    padding, and parses the plaintext with DecodeInner().
// The SK layer's AAD (RFC 5282 §5.1) is the IKE header plus this payload's generic header as
// encoded. Since SK is always last, those are the first (size - data.size()) bytes of
// Encode(message); the same holds for the received datagram.
#pragma once

#include <vector>

#include "host/common/bytes.h"
#include "host/common/status.h"
#include "host/ike/encoding/ike_constants.h"
#include "host/ike/encoding/wire_writer.h"

namespace ipsec::ike {

struct EncryptedPayload {
  static constexpr PayloadType kType = PayloadType::kEncrypted;

  PayloadType first_inner = PayloadType::kNone;
  std::vector<std::byte> data;  // IV || encrypted payloads, padding, pad length || ICV

  // Never fails (the ciphertext is opaque at this layer).
  static StatusOr<EncryptedPayload> Parse(Bytes body, size_t offset, PayloadType first_inner);
  Status Serialize(WireWriter& w) const;
  // Data non-empty (there is always at least an IV or an ICV); first_inner is not SK/SKF.
  Status Verify() const;

  friend bool operator==(const EncryptedPayload&, const EncryptedPayload&) = default;
};

}  // namespace ipsec::ike
