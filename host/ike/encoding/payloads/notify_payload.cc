// NotifyPayload decode/encode/verify (RFC 7296 §3.10 and the per-type RFCs named in the header).
#include "host/ike/encoding/payloads/notify_payload.h"

#include <string>

#include "host/ike/encoding/parse_error.h"

namespace ipsec::ike {

StatusOr<NotifyPayload> NotifyPayload::Parse(Bytes body, size_t offset) {
  if (body.size() < 4) return ParseError(offset, "Notify body of " + Num(body.size()) + " bytes is shorter than 4");
  NotifyPayload n;
  n.protocol = static_cast<ProtocolId>(U8(body[0]));
  const size_t spi_size = U8(body[1]);
  n.type = static_cast<NotifyType>(LoadU16Be(&body[2]));
  if (spi_size > body.size() - 4) {
    return ParseError(offset + 1, "Notify SPI Size " + Num(spi_size) + " exceeds the " + Num(body.size() - 4) +
                                      " bytes after the notify header");
  }
  n.spi.assign(body.begin() + 4, body.begin() + 4 + static_cast<std::ptrdiff_t>(spi_size));
  n.data.assign(body.begin() + 4 + static_cast<std::ptrdiff_t>(spi_size), body.end());
  return n;
}

Status NotifyPayload::Serialize(WireWriter& w) const {
  if (spi.size() > 255) return EncodeError("Notify SPI longer than 255 bytes");
  w.WriteU8(static_cast<uint8_t>(protocol));
  w.WriteU8(static_cast<uint8_t>(spi.size()));
  w.WriteU16Be(static_cast<uint16_t>(type));
  w.WriteBytes(spi);
  w.WriteBytes(data);
  return OkStatus();
}

Status NotifyPayload::Verify() const {
  const std::string where = "N(" + std::string(NotifyTypeName(type)) + "/" + Num(static_cast<uint16_t>(type)) + ")";
  const auto fail = [&](const std::string& what) { return InvalidArgumentError(where + ": " + what); };
  switch (protocol) {
    case ProtocolId::kNone:
      if (!spi.empty()) return fail("SPI present with protocol ID 0");
      break;
    case ProtocolId::kIke:
      // §3.10: "For a notification concerning the IKE SA, the SPI Size MUST be zero".
      if (!spi.empty()) return fail("IKE SA notification with an SPI");
      break;
    case ProtocolId::kAh:
    case ProtocolId::kEsp:
      if (!spi.empty() && spi.size() != 4) return fail("AH/ESP SPI of " + Num(spi.size()) + " bytes (must be 4)");
      break;
    default:
      return fail("protocol ID " + Num(static_cast<uint8_t>(protocol)));
  }
  const auto need_data_size = [&](size_t n) -> Status {
    if (data.size() == n) return OkStatus();
    return fail("data of " + Num(data.size()) + " bytes (must be " + Num(n) + ")");
  };
  switch (type) {
    case NotifyType::kNatDetectionSourceIp:
    case NotifyType::kNatDetectionDestinationIp:
      return need_data_size(kNatDetectionHashSize);
    case NotifyType::kCookie:
      if (data.empty() || data.size() > kMaxCookieSize) return fail("cookie of " + Num(data.size()) + " bytes (1..64)");
      return OkStatus();
    case NotifyType::kInvalidKePayload:
      return need_data_size(2);
    case NotifyType::kUnsupportedCriticalPayload:
      return need_data_size(1);
    case NotifyType::kSignatureHashAlgorithms: {
      auto list = ParseSignatureHashAlgorithms(data);
      if (!list.ok()) return fail(list.status().message());
      return OkStatus();
    }
    case NotifyType::kRekeySa:
    case NotifyType::kInvalidSelectors:
    case NotifyType::kChildSaNotFound:
      if ((protocol != ProtocolId::kAh && protocol != ProtocolId::kEsp) || spi.size() != 4) {
        return fail("must name an AH/ESP SA with a 4-byte SPI");
      }
      return OkStatus();
    case NotifyType::kIkev2FragmentationSupported:
    case NotifyType::kUseTransportMode:
    case NotifyType::kInitialContact:
    case NotifyType::kEspTfcPaddingNotSupported:
    case NotifyType::kNonFirstFragmentsAlso:
    case NotifyType::kMobikeSupported:
    case NotifyType::kNoAdditionalSas:
      return need_data_size(0);
    default:
      return OkStatus();
  }
}

StatusOr<std::vector<HashAlgorithm>> ParseSignatureHashAlgorithms(Bytes data) {
  if (data.empty() || data.size() % 2 != 0) {
    return InvalidArgumentError("hash algorithm list of " + Num(data.size()) +
                                " bytes (must be a non-empty list of 2-byte IDs)");
  }
  std::vector<HashAlgorithm> out;
  out.reserve(data.size() / 2);
  for (size_t i = 0; i < data.size(); i += 2) out.push_back(static_cast<HashAlgorithm>(LoadU16Be(&data[i])));
  return out;
}

std::vector<std::byte> BuildSignatureHashAlgorithms(const std::vector<HashAlgorithm>& algorithms) {
  std::vector<std::byte> out(algorithms.size() * 2);
  for (size_t i = 0; i < algorithms.size(); ++i) StoreU16Be(&out[2 * i], static_cast<uint16_t>(algorithms[i]));
  return out;
}

}  // namespace ipsec::ike
