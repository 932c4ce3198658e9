// Message decode/encode: header, payload chain walk, SK/SKF placement (RFC 7296 §2.5, §3.1-§3.2,
// §3.14; RFC 7383 §2.5). See message.h for the contract.
#include "host/ike/encoding/message.h"

#include <limits>
#include <string>
#include <type_traits>

#include "host/ike/encoding/parse_error.h"

namespace ipsec::ike {
namespace {

constexpr size_t kMaxPayloadBody = 0xffff - kGenericPayloadHeaderSize;

std::string TypeText(PayloadType t) {
  return std::string(PayloadTypeName(t)) + "(" + Num(static_cast<uint8_t>(t)) + ")";
}

// Records the failure for the caller and passes the status through.
Status Fail(DecodeFailure* failure, Status status, NotifyType notify, PayloadType type, size_t offset) {
  if (failure != nullptr) *failure = DecodeFailure{notify, type, offset};
  return status;
}

StatusOr<Payload> ParseBody(PayloadType type, PayloadType next, Bytes body, size_t offset) {
  const auto wrap = [](auto r) -> StatusOr<Payload> {
    if (!r.ok()) return r.status();
    return Payload(std::move(r).value());
  };
  switch (type) {
    case PayloadType::kSa: return wrap(SaPayload::Parse(body, offset));
    case PayloadType::kKe: return wrap(KePayload::Parse(body, offset));
    case PayloadType::kIdInitiator:
    case PayloadType::kIdResponder: return wrap(IdPayload::Parse(body, offset, type));
    case PayloadType::kCert: return wrap(CertPayload::Parse(body, offset));
    case PayloadType::kCertReq: return wrap(CertReqPayload::Parse(body, offset));
    case PayloadType::kAuth: return wrap(AuthPayload::Parse(body, offset));
    case PayloadType::kNonce: return wrap(NoncePayload::Parse(body, offset));
    case PayloadType::kNotify: return wrap(NotifyPayload::Parse(body, offset));
    case PayloadType::kDelete: return wrap(DeletePayload::Parse(body, offset));
    case PayloadType::kVendorId: return wrap(VendorIdPayload::Parse(body, offset));
    case PayloadType::kTsInitiator:
    case PayloadType::kTsResponder: return wrap(TsPayload::Parse(body, offset, type));
    case PayloadType::kEncrypted: return wrap(EncryptedPayload::Parse(body, offset, next));
    case PayloadType::kConfig: return wrap(ConfigPayload::Parse(body, offset));
    case PayloadType::kEap: return wrap(EapPayload::Parse(body, offset));
    case PayloadType::kEncryptedFragment: return wrap(EncryptedFragmentPayload::Parse(body, offset, next));
    default: break;
  }
  return InternalError("ParseBody called for an unknown payload type");
}

bool IsEncryptedType(PayloadType t) { return t == PayloadType::kEncrypted || t == PayloadType::kEncryptedFragment; }

// Walks a payload chain that must exactly fill `region`. `base` is region[0]'s absolute offset.
StatusOr<std::vector<Payload>> DecodeChain(PayloadType first, Bytes region, size_t base, bool inner,
                                           const DecodeOptions& options, DecodeFailure* failure) {
  std::vector<Payload> out;
  size_t pos = 0;
  size_t seen = 0;
  PayloadType type = first;
  while (type != PayloadType::kNone) {
    const size_t at = base + pos;
    const size_t left = region.size() - pos;
    const auto syntax = [&](const std::string& what) {
      return Fail(failure, ParseError(at, what), NotifyType::kInvalidSyntax, type, at);
    };
    if (left == 0) {
      return syntax("payload " + TypeText(type) + " announced by the previous Next Payload, but the " +
                    (inner ? "inner chain" : "message") + " ends here");
    }
    if (left < kGenericPayloadHeaderSize) {
      return syntax(Num(left) + " bytes left are too short for the generic header of payload " + TypeText(type));
    }
    if (++seen > options.max_payloads) {
      return syntax("more than " + Num(options.max_payloads) + " payloads in one chain");
    }
    const auto next = static_cast<PayloadType>(U8(region[pos]));
    const bool critical = (U8(region[pos + 1]) & kCriticalBit) != 0;
    const size_t length = LoadU16Be(&region[pos + 2]);
    if (length < kGenericPayloadHeaderSize) {
      return syntax("payload " + TypeText(type) + " length " + Num(length) + " is below the 4-byte minimum");
    }
    if (length > left) {
      return syntax("payload " + TypeText(type) + " length " + Num(length) + " overruns the " +
                    (inner ? "inner chain" : "message") + " (" + Num(left) + " bytes left)");
    }
    const Bytes body = region.subspan(pos + kGenericPayloadHeaderSize, length - kGenericPayloadHeaderSize);
    if (!IsKnownPayloadType(type)) {
      if (critical) {
        return Fail(failure,
                    UnimplementedError("IKE decode: offset " + Num(at) +
                                       ": UNSUPPORTED_CRITICAL_PAYLOAD: payload type " +
                                       Num(static_cast<uint8_t>(type)) + " is unknown and has the critical bit set"),
                    NotifyType::kUnsupportedCriticalPayload, type, at);
      }
      // RFC 7296 §2.5: an unknown non-critical payload is skipped.
      type = next;
      pos += length;
      continue;
    }
    if (IsEncryptedType(type)) {
      if (inner) return syntax(TypeText(type) + " inside an encrypted payload");
      if (length != left) {
        return syntax(TypeText(type) + " must be the last payload but " + Num(left - length) + " bytes follow it");
      }
    }
    auto parsed = ParseBody(type, next, body, at + kGenericPayloadHeaderSize);
    if (!parsed.ok()) return Fail(failure, parsed.status(), NotifyType::kInvalidSyntax, type, at);
    out.push_back(std::move(parsed).value());
    pos += length;
    // For SK/SKF the Next Payload names the first inner payload; the outer chain ends here.
    type = IsEncryptedType(type) ? PayloadType::kNone : next;
  }
  if (pos != region.size()) {
    return Fail(failure,
                ParseError(base + pos, Num(region.size() - pos) + " bytes follow the last payload (Next Payload 0)"),
                NotifyType::kInvalidSyntax, PayloadType::kNone, base + pos);
  }
  return out;
}

Status SerializeBody(const Payload& payload, WireWriter& w) {
  return std::visit([&w](const auto& p) -> Status { return p.Serialize(w); }, payload);
}

PayloadType FirstInnerOf(const Payload& payload) {
  if (const auto* sk = std::get_if<EncryptedPayload>(&payload)) return sk->first_inner;
  if (const auto* skf = std::get_if<EncryptedFragmentPayload>(&payload)) return skf->first_inner;
  return PayloadType::kNone;
}

Status EncodeChain(std::span<const Payload> payloads, bool inner, WireWriter& w) {
  for (size_t i = 0; i < payloads.size(); ++i) {
    const Payload& p = payloads[i];
    const PayloadType type = TypeOf(p);
    const std::string where = "payload #" + Num(i + 1) + " " + TypeText(type);
    if (std::holds_alternative<IdPayload>(p) && type != PayloadType::kIdInitiator &&
        type != PayloadType::kIdResponder) {
      return EncodeError(where + ": IdPayload must be IDi or IDr");
    }
    if (std::holds_alternative<TsPayload>(p) && type != PayloadType::kTsInitiator &&
        type != PayloadType::kTsResponder) {
      return EncodeError(where + ": TsPayload must be TSi or TSr");
    }
    PayloadType next = i + 1 < payloads.size() ? TypeOf(payloads[i + 1]) : PayloadType::kNone;
    if (IsEncryptedType(type)) {
      if (inner) return EncodeError(where + ": SK/SKF inside an encrypted payload");
      if (i + 1 != payloads.size()) return EncodeError(where + ": SK/SKF must be the last payload");
      next = FirstInnerOf(p);
    }
    const size_t start = w.size();
    w.WriteU8(static_cast<uint8_t>(next));
    w.WriteU8(0);     // C = 0: every payload we send is one we define (§2.5)
    w.WriteU16Be(0);  // Payload Length, patched below
    if (Status s = SerializeBody(p, w); !s.ok()) return EncodeError(where + ": " + s.message());
    const size_t body = w.size() - start - kGenericPayloadHeaderSize;
    if (body > kMaxPayloadBody) return EncodeError(where + ": body of " + Num(body) + " bytes exceeds 65531");
    w.PatchU16Be(start + 2, static_cast<uint16_t>(body + kGenericPayloadHeaderSize));
  }
  return OkStatus();
}

}  // namespace

const NotifyPayload* Message::FindNotify(NotifyType type) const {
  for (const Payload& p : payloads) {
    if (const auto* n = std::get_if<NotifyPayload>(&p); n != nullptr && n->type == type) return n;
  }
  return nullptr;
}

Status Message::Verify() const {
  if (header.major_version != kIkeMajorVersion) {
    return InvalidArgumentError("IKE header: major version " + Num(header.major_version));
  }
  if (header.spi_i == 0) return InvalidArgumentError("IKE header: initiator SPI is zero (RFC 7296 §3.1)");
  const SaContext sa_context = header.response ? SaContext::kAccepted : SaContext::kOffer;
  for (size_t i = 0; i < payloads.size(); ++i) {
    const PayloadType type = TypeOf(payloads[i]);
    if (IsEncryptedType(type) && i + 1 != payloads.size()) {
      return InvalidArgumentError("payload #" + Num(i + 1) + " " + TypeText(type) + " is not the last payload");
    }
    if (Status s = VerifyPayload(payloads[i], sa_context); !s.ok()) {
      return InvalidArgumentError("payload #" + Num(i + 1) + ": " + s.message());
    }
  }
  return OkStatus();
}

StatusOr<Message> Decode(Bytes datagram, const DecodeOptions& options, DecodeFailure* failure) {
  auto parsed = ParseIkeHeader(datagram);
  if (!parsed.ok()) {
    return Fail(failure, parsed.status(), NotifyType::kInvalidSyntax, PayloadType::kNone, 0);
  }
  const ParsedIkeHeader& h = *parsed;
  if (h.header.major_version != kIkeMajorVersion) {
    // §2.5: a higher major version is answered with INVALID_MAJOR_VERSION; a lower one (IKEv1) is
    // dropped. The caller decides from header.major_version via ParseIkeHeader if it needs to.
    return Fail(failure,
                UnimplementedError("IKE decode: offset 17: major version " + Num(h.header.major_version) +
                                   " (only 2 is supported)"),
                NotifyType::kInvalidMajorVersion, PayloadType::kNone, 0);
  }
  if (h.length != datagram.size() && !options.allow_trailing_bytes) {
    return Fail(failure,
                ParseError(kIkeHeaderLengthOffset, "header Length " + Num(h.length) + " but the datagram has " +
                                                       Num(datagram.size()) + " bytes"),
                NotifyType::kInvalidSyntax, PayloadType::kNone, 0);
  }
  const Bytes region = datagram.subspan(kIkeHeaderSize, h.length - kIkeHeaderSize);
  auto payloads = DecodeChain(h.first_payload, region, kIkeHeaderSize, /*inner=*/false, options, failure);
  if (!payloads.ok()) return payloads.status();
  return Message{h.header, std::move(payloads).value()};
}

StatusOr<std::vector<std::byte>> Encode(const Message& message) {
  const IkeHeader& h = message.header;
  if (h.major_version > 0x0f || h.minor_version > 0x0f) return EncodeError("version does not fit 4 bits");
  WireWriter w;
  AppendIkeHeader(h, FirstPayloadType(message.payloads), 0, w);
  RETURN_IF_ERROR(EncodeChain(message.payloads, /*inner=*/false, w));
  if (w.size() > std::numeric_limits<uint32_t>::max()) return EncodeError("message longer than 2^32-1 bytes");
  w.PatchU32Be(kIkeHeaderLengthOffset, static_cast<uint32_t>(w.size()));
  return std::move(w).Take();
}

StatusOr<std::vector<Payload>> DecodeInner(PayloadType first, Bytes plaintext, const DecodeOptions& options,
                                           DecodeFailure* failure) {
  return DecodeChain(first, plaintext, 0, /*inner=*/true, options, failure);
}

StatusOr<std::vector<std::byte>> EncodeInner(std::span<const Payload> payloads) {
  WireWriter w;
  RETURN_IF_ERROR(EncodeChain(payloads, /*inner=*/true, w));
  return std::move(w).Take();
}

PayloadType FirstPayloadType(std::span<const Payload> payloads) {
  return payloads.empty() ? PayloadType::kNone : TypeOf(payloads.front());
}

}  // namespace ipsec::ike
