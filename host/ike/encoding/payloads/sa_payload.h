// SaPayload: Security Association payload with its proposal, transform and attribute
// substructures (RFC 7296 §3.3).
//
// Payload body (after the 4-byte generic header) is one or more Proposal substructures:
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Last Substruc |   RESERVED    |         Proposal Length       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Proposal Num  |  Protocol ID  |    SPI Size   |Num  Transforms|
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                        SPI (variable)                         ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                        <Transforms>                           ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Transform substructure (§3.3.2):
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Last Substruc |   RESERVED    |        Transform Length       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |Transform Type |   RESERVED    |          Transform ID         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                      Transform Attributes                     ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Transform attribute (§3.3.5), TV (AF=1) or TLV (AF=0):
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |A|       Attribute Type        |    AF=0  Attribute Length     |
// |F|                             |    AF=1  Attribute Value      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                   AF=0  Attribute Value                       |
// |                   AF=1  Not Transmitted                       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Field table (decode rules; violations are syntax errors):
//   Proposal  0 1 Last Substruc   0 on the last proposal, 2 on every other (derived, not stored)
//             1 1 RESERVED        ignored
//             2 2 Proposal Length >= 8 + SPI Size, within the SA body, covers its transforms exactly
//             4 1 Proposal Num    -> Proposal::number
//             5 1 Protocol ID     -> Proposal::protocol
//             6 1 SPI Size        -> Proposal::spi.size()
//             7 1 Num Transforms  >= 1, equals the transforms found (derived)
//   Transform 0 1 Last Substruc   0 on the proposal's last transform, 3 on every other (derived)
//             2 2 Transform Length>= 8, within the proposal, covers its attributes exactly
//             4 1 Transform Type  -> Transform::type
//             6 2 Transform ID    -> Transform::id (meaning depends on type: EncrId, PrfId, ...)
//   Attribute 0 2 AF|Type         -> TransformAttribute::{tv, type}
//             2 2 Length/Value    TLV length must fit the transform
//
// Verify() holds the semantic rules (proposal numbering, transform types per protocol, SPI sizes,
// Key Length attribute rules); see its comment.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "host/common/bytes.h"
#include "host/common/status.h"
#include "host/ike/encoding/ike_constants.h"
#include "host/ike/encoding/wire_writer.h"

namespace ipsec::ike {

struct TransformAttribute {
  uint16_t type = 0;  // 15 bits on the wire
  bool tv = true;     // AF bit: TV carries tv_value, TLV carries value
  uint16_t tv_value = 0;
  std::vector<std::byte> value;

  static TransformAttribute KeyLength(uint16_t bits) {
    return {static_cast<uint16_t>(AttributeType::kKeyLength), true, bits, {}};
  }
  friend bool operator==(const TransformAttribute&, const TransformAttribute&) = default;
};

struct Transform {
  TransformType type = TransformType::kEncr;
  uint16_t id = 0;
  std::vector<TransformAttribute> attributes;

  static Transform Encr(EncrId id, std::optional<uint16_t> key_bits = std::nullopt);
  static Transform Prf(PrfId id) { return {TransformType::kPrf, static_cast<uint16_t>(id), {}}; }
  static Transform Integ(IntegId id) { return {TransformType::kInteg, static_cast<uint16_t>(id), {}}; }
  static Transform Dh(DhGroup id) { return {TransformType::kDh, static_cast<uint16_t>(id), {}}; }
  static Transform Esn(EsnId id) { return {TransformType::kEsn, static_cast<uint16_t>(id), {}}; }

  // The value of the (first) Key Length attribute in TV form, if any.
  std::optional<uint16_t> KeyLength() const;

  friend bool operator==(const Transform&, const Transform&) = default;
};

struct Proposal {
  uint8_t number = 1;
  ProtocolId protocol = ProtocolId::kIke;
  std::vector<std::byte> spi;  // 0 bytes (initial IKE), 8 (IKE rekey) or 4 (AH/ESP)
  std::vector<Transform> transforms;

  friend bool operator==(const Proposal&, const Proposal&) = default;
};

// Which rules Verify() applies to the proposal list.
enum class SaContext : uint8_t {
  kOffer,     // request: proposals numbered 1, 2, 3, ... (§3.3.1)
  kAccepted,  // response: exactly one proposal, carrying the accepted number, one transform per type
};

struct SaPayload {
  static constexpr PayloadType kType = PayloadType::kSa;

  std::vector<Proposal> proposals;

  // Decodes the payload body. `offset` is the absolute offset of body[0], used in error text.
  static StatusOr<SaPayload> Parse(Bytes body, size_t offset);
  // Appends the body. Fails if a count or length does not fit its field, or a proposal has no
  // transforms (it could not be decoded again).
  Status Serialize(WireWriter& w) const;
  // Semantic rules (RFC 7296 §3.3.1-§3.3.6, RFC 5282 §8, RFC 7634 §2):
  //  - at least one proposal; numbering per `context`;
  //  - protocol is IKE, AH or ESP; SPI size 0 or 8 for IKE, 4 for AH/ESP;
  //  - transform types allowed for the protocol (PRF only in IKE, ENCR not in AH, ESN not in IKE),
  //    mandatory types present (IKE: ENCR, PRF, DH and INTEG unless AEAD; ESP: ENCR, ESN; AH:
  //    INTEG, ESN);
  //  - a proposal's ciphers are all AEAD or all non-AEAD; AEAD proposals carry no INTEG other than
  //    NONE; ESN IDs are 0 or 1;
  //  - Key Length: TV form only, only on ENCR, required (128/192/256) for variable-key ciphers and
  //    absent for fixed-key ones; no attribute type repeated within a transform.
  Status Verify(SaContext context = SaContext::kOffer) const;

  friend bool operator==(const SaPayload&, const SaPayload&) = default;
};

}  // namespace ipsec::ike
