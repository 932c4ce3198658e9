// DeletePayload decode/encode/verify (RFC 7296 §3.11).
#include "host/ike/encoding/payloads/delete_payload.h"

#include "host/ike/encoding/parse_error.h"

namespace ipsec::ike {

DeletePayload DeletePayload::ChildSas(ProtocolId protocol, std::span<const uint32_t> spis) {
  DeletePayload d;
  d.protocol = protocol;
  d.spi_size = 4;
  for (uint32_t spi : spis) {
    std::vector<std::byte> b(4);
    StoreU32Be(b.data(), spi);
    d.spis.push_back(std::move(b));
  }
  return d;
}

StatusOr<DeletePayload> DeletePayload::Parse(Bytes body, size_t offset) {
  if (body.size() < 4) return ParseError(offset, "Delete body of " + Num(body.size()) + " bytes is shorter than 4");
  DeletePayload d;
  d.protocol = static_cast<ProtocolId>(U8(body[0]));
  d.spi_size = U8(body[1]);
  const size_t count = LoadU16Be(&body[2]);
  const size_t rest = body.size() - 4;
  if (d.spi_size == 0 && count != 0) {
    return ParseError(offset + 2, "Delete lists " + Num(count) + " SPIs of size 0");
  }
  if (count * d.spi_size != rest) {
    return ParseError(offset + 2, "Delete says " + Num(count) + " SPIs of " + Num(d.spi_size) + " bytes but " +
                                      Num(rest) + " bytes follow");
  }
  d.spis.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const auto from = body.begin() + 4 + static_cast<std::ptrdiff_t>(i * d.spi_size);
    d.spis.emplace_back(from, from + d.spi_size);
  }
  return d;
}

Status DeletePayload::Serialize(WireWriter& w) const {
  if (spis.size() > 0xffff) return EncodeError("Delete with more than 65535 SPIs");
  if (spi_size == 0 && !spis.empty()) return EncodeError("Delete with SPIs but SPI size 0");
  for (const auto& s : spis) {
    if (s.size() != spi_size) return EncodeError("Delete SPI of " + Num(s.size()) + " bytes, SPI size " + Num(spi_size));
  }
  w.WriteU8(static_cast<uint8_t>(protocol));
  w.WriteU8(spi_size);
  w.WriteU16Be(static_cast<uint16_t>(spis.size()));
  for (const auto& s : spis) w.WriteBytes(s);
  return OkStatus();
}

Status DeletePayload::Verify() const {
  switch (protocol) {
    case ProtocolId::kIke:
      if (spi_size != 0 || !spis.empty()) return InvalidArgumentError("D: deleting the IKE SA takes no SPIs");
      return OkStatus();
    case ProtocolId::kAh:
    case ProtocolId::kEsp:
      if (spi_size != 4) return InvalidArgumentError("D: AH/ESP SPI size " + Num(spi_size) + " (must be 4)");
      if (spis.empty()) return InvalidArgumentError("D: AH/ESP delete lists no SPIs");
      return OkStatus();
    default:
      return InvalidArgumentError("D: protocol ID " + Num(static_cast<uint8_t>(protocol)));
  }
}

}  // namespace ipsec::ike
