// IkeHeader: the fixed 28-byte IKEv2 header (RFC 7296 §3.1).
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                       IKE SA Initiator's SPI                  |
// |                                                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                       IKE SA Responder's SPI                  |
// |                                                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Next Payload | MjVer | MnVer | Exchange Type |     Flags     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                          Message ID                           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                            Length                             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Field table (offset, size, field -> member, rule):
//    0  8  Initiator's SPI   -> spi_i          MUST NOT be zero (checked by Message::Verify)
//    8  8  Responder's SPI   -> spi_r          zero in the first IKE_SA_INIT request
//   16  1  Next Payload      -> (derived)      type of the first payload; computed by Encode
//   17  4b Major Version     -> major_version  2; a higher major version is INVALID_MAJOR_VERSION
//   17  4b Minor Version     -> minor_version  sent 0, ignored on receipt (kept for diagnostics)
//   18  1  Exchange Type     -> exchange_type
//   19  1  Flags             -> initiator (bit 3), version (bit 4), response (bit 5); the other
//                               bits are reserved: sent 0, ignored on receipt (§3.1)
//   20  4  Message ID        -> message_id
//   24  4  Length            -> (derived)      header + payloads; computed by Encode
//
// The two derived fields are not members so that a decoded Message compares equal to its
// re-encoding; ParseIkeHeader returns them alongside (ParsedIkeHeader).
#pragma once

#include <cstdint>

#include "host/common/bytes.h"
#include "host/common/status.h"
#include "host/ike/encoding/ike_constants.h"
#include "host/ike/encoding/wire_writer.h"

namespace ipsec::ike {

struct IkeHeader {
  uint64_t spi_i = 0;
  uint64_t spi_r = 0;
  uint8_t major_version = kIkeMajorVersion;
  uint8_t minor_version = 0;
  ExchangeType exchange_type = ExchangeType::kIkeSaInit;
  bool initiator = false;  // I: sent by the original initiator of the IKE SA
  bool version = false;    // V: sender can speak a higher major version
  bool response = false;   // R: this message is a response
  uint32_t message_id = 0;

  uint8_t FlagsByte() const;

  friend bool operator==(const IkeHeader&, const IkeHeader&) = default;
};

struct ParsedIkeHeader {
  IkeHeader header;
  PayloadType first_payload = PayloadType::kNone;
  uint32_t length = 0;  // the header's Length field
};

// Parses the fixed header at the start of `datagram` without judging the version or exchange
// type (so a daemon can answer INVALID_MAJOR_VERSION, RFC 7296 §2.5). Errors (kInvalidArgument):
// fewer than 28 bytes; Length below 28; Length above datagram.size().
StatusOr<ParsedIkeHeader> ParseIkeHeader(Bytes datagram);

// Appends the 28 header bytes. Reserved flag bits are written as zero.
void AppendIkeHeader(const IkeHeader& header, PayloadType first_payload, uint32_t length, WireWriter& w);

// Offset of the Length field inside the header, for encoders that patch it.
inline constexpr size_t kIkeHeaderLengthOffset = 24;

}  // namespace ipsec::ike
