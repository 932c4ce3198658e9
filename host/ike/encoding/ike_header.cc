// IkeHeader parse/append (RFC 7296 §3.1; see ike_header.h for the field table).
#include "host/ike/encoding/ike_header.h"

#include "host/ike/encoding/parse_error.h"

namespace ipsec::ike {

uint8_t IkeHeader::FlagsByte() const {
  return static_cast<uint8_t>((initiator ? kFlagInitiator : 0) | (version ? kFlagVersion : 0) |
                              (response ? kFlagResponse : 0));
}

StatusOr<ParsedIkeHeader> ParseIkeHeader(Bytes datagram) {
  if (datagram.size() < kIkeHeaderSize) {
    return ParseError(0, "datagram of " + Num(datagram.size()) + " bytes is shorter than the 28-byte IKE header");
  }
  ByteReader r(datagram);
  ParsedIkeHeader out;
  uint8_t next = 0, version = 0, exchange = 0, flags = 0;
  r.ReadU64Be(&out.header.spi_i);
  r.ReadU64Be(&out.header.spi_r);
  r.ReadU8(&next);
  r.ReadU8(&version);
  r.ReadU8(&exchange);
  r.ReadU8(&flags);
  r.ReadU32Be(&out.header.message_id);
  r.ReadU32Be(&out.length);
  if (!r.ok()) return InternalError("IKE header read failed after size check");
  out.first_payload = static_cast<PayloadType>(next);
  out.header.major_version = static_cast<uint8_t>(version >> 4);
  out.header.minor_version = static_cast<uint8_t>(version & 0x0f);
  out.header.exchange_type = static_cast<ExchangeType>(exchange);
  out.header.initiator = (flags & kFlagInitiator) != 0;
  out.header.version = (flags & kFlagVersion) != 0;
  out.header.response = (flags & kFlagResponse) != 0;
  if (out.length < kIkeHeaderSize) {
    return ParseError(kIkeHeaderLengthOffset,
                      "header Length " + Num(out.length) + " is shorter than the 28-byte IKE header");
  }
  if (out.length > datagram.size()) {
    return ParseError(kIkeHeaderLengthOffset, "header Length " + Num(out.length) + " exceeds the " +
                                                  Num(datagram.size()) + "-byte datagram (truncated message)");
  }
  return out;
}

void AppendIkeHeader(const IkeHeader& header, PayloadType first_payload, uint32_t length, WireWriter& w) {
  w.WriteU64Be(header.spi_i);
  w.WriteU64Be(header.spi_r);
  w.WriteU8(static_cast<uint8_t>(first_payload));
  w.WriteU8(static_cast<uint8_t>((header.major_version << 4) | (header.minor_version & 0x0f)));
  w.WriteU8(static_cast<uint8_t>(header.exchange_type));
  w.WriteU8(header.FlagsByte());
  w.WriteU32Be(header.message_id);
  w.WriteU32Be(length);
}

}  // namespace ipsec::ike
