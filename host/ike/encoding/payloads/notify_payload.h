// NotifyPayload: Notify payload (RFC 7296 §3.10) with per-type data rules for the notifications
// this stack uses (NAT detection RFC 7296 §2.23, COOKIE §2.6, INVALID_KE_PAYLOAD §1.3,
// IKEV2_FRAGMENTATION_SUPPORTED RFC 7383 §2.3, SIGNATURE_HASH_ALGORITHMS RFC 7427 §4, ...).
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Protocol ID  |   SPI Size    |      Notify Message Type      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                Security Parameter Index (SPI)                 ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                       Notification Data                       ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Field table (body offsets):
//   0 1 Protocol ID          -> protocol (0 when there is no SPI)
//   1 1 SPI Size             -> spi.size(); must fit the body
//   2 2 Notify Message Type  -> type (< 16384: error, otherwise status)
//   4 n SPI                  -> spi
//   * * Notification Data    -> data
#pragma once

#include <vector>

#include "host/common/bytes.h"
#include "host/common/status.h"
#include "host/ike/encoding/ike_constants.h"
#include "host/ike/encoding/wire_writer.h"

namespace ipsec::ike {

struct NotifyPayload {
  static constexpr PayloadType kType = PayloadType::kNotify;

  ProtocolId protocol = ProtocolId::kNone;
  NotifyType type = NotifyType::kInitialContact;
  std::vector<std::byte> spi;
  std::vector<std::byte> data;

  // A notification with no SPI (protocol 0), e.g. NAT_DETECTION_*, COOKIE, most errors.
  static NotifyPayload Make(NotifyType type, Bytes data = {}) {
    return {ProtocolId::kNone, type, {}, {data.begin(), data.end()}};
  }

  // Errors: body shorter than 4 bytes; SPI Size beyond the body.
  static StatusOr<NotifyPayload> Parse(Bytes body, size_t offset);
  // Errors: SPI longer than 255 bytes.
  Status Serialize(WireWriter& w) const;
  // Generic (§3.10): protocol is 0..3; an SPI needs a protocol; IKE SA notifications carry no SPI
  // (SPI Size 0); AH/ESP SPIs are 4 bytes. Per type:
  //   NAT_DETECTION_SOURCE_IP / _DESTINATION_IP  data is a 20-byte SHA-1 digest
  //   COOKIE                                     data is 1..64 bytes
  //   INVALID_KE_PAYLOAD                         data is the 2-byte accepted DH group
  //   UNSUPPORTED_CRITICAL_PAYLOAD               data is the 1-byte payload type
  //   SIGNATURE_HASH_ALGORITHMS                  data is a non-empty list of 2-byte hash IDs
  //   REKEY_SA, INVALID_SELECTORS, CHILD_SA_NOT_FOUND  AH/ESP with a 4-byte SPI
  //   IKEV2_FRAGMENTATION_SUPPORTED, USE_TRANSPORT_MODE, INITIAL_CONTACT, ESP_TFC_PADDING_NOT_SUPPORTED,
  //   NON_FIRST_FRAGMENTS_ALSO, MOBIKE_SUPPORTED, NO_ADDITIONAL_SAS    no data
  Status Verify() const;

  friend bool operator==(const NotifyPayload&, const NotifyPayload&) = default;
};

// The hash algorithm list of N(SIGNATURE_HASH_ALGORITHMS). Errors: odd or empty data.
StatusOr<std::vector<HashAlgorithm>> ParseSignatureHashAlgorithms(Bytes data);
std::vector<std::byte> BuildSignatureHashAlgorithms(const std::vector<HashAlgorithm>& algorithms);

}  // namespace ipsec::ike
