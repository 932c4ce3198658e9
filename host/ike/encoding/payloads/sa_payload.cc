// SaPayload decode/encode/verify (RFC 7296 §3.3; see sa_payload.h for the diagrams and field table).
//
// Decoding walks three nested length-delimited levels iteratively (proposal -> transform ->
// attribute). Each level gets a sub-span bounded by its own length field, so an inner length can
// never reach past its parent: the ByteReader on the sub-span fails instead.
#include "host/ike/encoding/payloads/sa_payload.h"

#include <algorithm>
#include <string>

#include "host/ike/encoding/parse_error.h"

namespace ipsec::ike {
namespace {

constexpr uint8_t kLastSubstruc = 0;
constexpr uint8_t kMoreProposals = 2;
constexpr uint8_t kMoreTransforms = 3;
constexpr size_t kProposalHeaderSize = 8;
constexpr size_t kTransformHeaderSize = 8;
constexpr size_t kAttributeHeaderSize = 4;
constexpr uint16_t kAttributeFormatTv = 0x8000;
constexpr size_t kMaxU16 = 0xffff;

std::string ProposalWhere(size_t index) { return "proposal #" + Num(index + 1); }
std::string TransformWhere(size_t p, size_t t) { return ProposalWhere(p) + " transform #" + Num(t + 1); }

StatusOr<std::vector<TransformAttribute>> ParseAttributes(Bytes region, size_t offset, const std::string& where) {
  std::vector<TransformAttribute> attrs;
  size_t pos = 0;
  while (pos < region.size()) {
    const size_t at = offset + pos;
    if (region.size() - pos < kAttributeHeaderSize) {
      return ParseError(at, where + ": " + Num(region.size() - pos) +
                                " trailing bytes are too short for a 4-byte attribute header");
    }
    const uint16_t af_type = LoadU16Be(&region[pos]);
    const uint16_t len_or_value = LoadU16Be(&region[pos + 2]);
    pos += kAttributeHeaderSize;
    TransformAttribute a;
    a.type = static_cast<uint16_t>(af_type & ~kAttributeFormatTv);
    a.tv = (af_type & kAttributeFormatTv) != 0;
    if (a.tv) {
      a.tv_value = len_or_value;
    } else {
      if (len_or_value > region.size() - pos) {
        return ParseError(at, where + ": attribute type " + Num(a.type) + " length " + Num(len_or_value) +
                                  " overruns the transform (" + Num(region.size() - pos) + " bytes left)");
      }
      a.value.assign(region.begin() + static_cast<std::ptrdiff_t>(pos),
                     region.begin() + static_cast<std::ptrdiff_t>(pos + len_or_value));
      pos += len_or_value;
    }
    attrs.push_back(std::move(a));
  }
  return attrs;
}

StatusOr<Proposal> ParseProposal(Bytes region, size_t offset, size_t index) {
  // `region` is exactly Proposal Length bytes, header included.
  const std::string where = ProposalWhere(index);
  Proposal p;
  p.number = U8(region[4]);
  p.protocol = static_cast<ProtocolId>(U8(region[5]));
  const uint8_t spi_size = U8(region[6]);
  const uint8_t num_transforms = U8(region[7]);
  if (region.size() < kProposalHeaderSize + spi_size) {
    return ParseError(offset + 6, where + ": SPI size " + Num(spi_size) + " does not fit the proposal length " +
                                      Num(region.size()));
  }
  if (num_transforms == 0) {
    return ParseError(offset + 7, where + ": proposal has 0 transforms");
  }
  p.spi.assign(region.begin() + kProposalHeaderSize, region.begin() + kProposalHeaderSize + spi_size);
  size_t pos = kProposalHeaderSize + spi_size;
  p.transforms.reserve(num_transforms);
  for (size_t t = 0; t < num_transforms; ++t) {
    const size_t at = offset + pos;
    const std::string twhere = TransformWhere(index, t);
    const size_t left = region.size() - pos;
    if (left < kTransformHeaderSize) {
      return ParseError(at, twhere + ": proposal declares " + Num(num_transforms) + " transforms but only " +
                                Num(left) + " bytes remain in it");
    }
    const uint8_t last = U8(region[pos]);
    const uint16_t length = LoadU16Be(&region[pos + 2]);
    if (length < kTransformHeaderSize) {
      return ParseError(at + 2, twhere + ": transform length " + Num(length) + " is below the 8-byte minimum");
    }
    if (length > left) {
      return ParseError(at + 2, twhere + ": transform length " + Num(length) + " overruns the proposal (" +
                                    Num(left) + " bytes left)");
    }
    const bool is_last = t + 1 == num_transforms;
    if (last != (is_last ? kLastSubstruc : kMoreTransforms)) {
      return ParseError(at, twhere + ": Last Substruc is " + Num(last) + " but " +
                                (is_last ? "it is the last of " : "more follow among ") + Num(num_transforms) +
                                " transforms (expected " + Num(is_last ? kLastSubstruc : kMoreTransforms) + ")");
    }
    Transform tr;
    tr.type = static_cast<TransformType>(U8(region[pos + 4]));
    tr.id = LoadU16Be(&region[pos + 6]);
    auto attrs = ParseAttributes(region.subspan(pos + kTransformHeaderSize, length - kTransformHeaderSize),
                                 at + kTransformHeaderSize, twhere);
    if (!attrs.ok()) return attrs.status();
    tr.attributes = std::move(attrs).value();
    p.transforms.push_back(std::move(tr));
    pos += length;
  }
  if (pos != region.size()) {
    return ParseError(offset + pos, where + ": proposal length " + Num(region.size()) + " leaves " +
                                        Num(region.size() - pos) + " bytes after its " + Num(num_transforms) +
                                        " transforms");
  }
  return p;
}

}  // namespace

Transform Transform::Encr(EncrId id, std::optional<uint16_t> key_bits) {
  Transform t{TransformType::kEncr, static_cast<uint16_t>(id), {}};
  if (key_bits) t.attributes.push_back(TransformAttribute::KeyLength(*key_bits));
  return t;
}

std::optional<uint16_t> Transform::KeyLength() const {
  for (const TransformAttribute& a : attributes) {
    if (a.type == static_cast<uint16_t>(AttributeType::kKeyLength) && a.tv) return a.tv_value;
  }
  return std::nullopt;
}

StatusOr<SaPayload> SaPayload::Parse(Bytes body, size_t offset) {
  SaPayload sa;
  if (body.empty()) return ParseError(offset, "SA payload has no proposals");
  size_t pos = 0;
  while (pos < body.size()) {
    const size_t index = sa.proposals.size();
    const std::string where = ProposalWhere(index);
    const size_t at = offset + pos;
    const size_t left = body.size() - pos;
    if (left < kProposalHeaderSize) {
      return ParseError(at, where + ": " + Num(left) + " bytes are too short for an 8-byte proposal header");
    }
    const uint8_t last = U8(body[pos]);
    const uint16_t length = LoadU16Be(&body[pos + 2]);
    if (length < kProposalHeaderSize) {
      return ParseError(at + 2, where + ": proposal length " + Num(length) + " is below the 8-byte minimum");
    }
    if (length > left) {
      return ParseError(at + 2, where + ": proposal length " + Num(length) + " overruns the SA payload (" +
                                    Num(left) + " bytes left)");
    }
    const bool is_last = length == left;
    if (last == kLastSubstruc && !is_last) {
      return ParseError(at, where + ": Last Substruc says last proposal but " + Num(left - length) +
                                " bytes follow in the SA payload");
    }
    if (last == kMoreProposals && is_last) {
      return ParseError(at, where + ": Last Substruc says more proposals follow but the SA payload ends");
    }
    if (last != kLastSubstruc && last != kMoreProposals) {
      return ParseError(at, where + ": Last Substruc is " + Num(last) + " (must be 0 or 2)");
    }
    auto p = ParseProposal(body.subspan(pos, length), at, index);
    if (!p.ok()) return p.status();
    sa.proposals.push_back(std::move(p).value());
    pos += length;
  }
  return sa;
}

Status SaPayload::Serialize(WireWriter& w) const {
  for (size_t i = 0; i < proposals.size(); ++i) {
    const Proposal& p = proposals[i];
    if (p.transforms.empty() || p.transforms.size() > 255) {
      return EncodeError(ProposalWhere(i) + ": " + Num(p.transforms.size()) + " transforms (must be 1..255)");
    }
    if (p.spi.size() > 255) return EncodeError(ProposalWhere(i) + ": SPI longer than 255 bytes");
    const size_t start = w.size();
    w.WriteU8(i + 1 == proposals.size() ? kLastSubstruc : kMoreProposals);
    w.WriteU8(0);
    w.WriteU16Be(0);  // length, patched below
    w.WriteU8(p.number);
    w.WriteU8(static_cast<uint8_t>(p.protocol));
    w.WriteU8(static_cast<uint8_t>(p.spi.size()));
    w.WriteU8(static_cast<uint8_t>(p.transforms.size()));
    w.WriteBytes(p.spi);
    for (size_t t = 0; t < p.transforms.size(); ++t) {
      const Transform& tr = p.transforms[t];
      const size_t tstart = w.size();
      w.WriteU8(t + 1 == p.transforms.size() ? kLastSubstruc : kMoreTransforms);
      w.WriteU8(0);
      w.WriteU16Be(0);  // length, patched below
      w.WriteU8(static_cast<uint8_t>(tr.type));
      w.WriteU8(0);
      w.WriteU16Be(tr.id);
      for (const TransformAttribute& a : tr.attributes) {
        if (a.type & kAttributeFormatTv) {
          return EncodeError(TransformWhere(i, t) + ": attribute type " + Num(a.type) + " does not fit 15 bits");
        }
        if (a.tv) {
          w.WriteU16Be(static_cast<uint16_t>(a.type | kAttributeFormatTv));
          w.WriteU16Be(a.tv_value);
        } else {
          if (a.value.size() > kMaxU16) return EncodeError(TransformWhere(i, t) + ": attribute value too long");
          w.WriteU16Be(a.type);
          w.WriteU16Be(static_cast<uint16_t>(a.value.size()));
          w.WriteBytes(a.value);
        }
      }
      const size_t tlen = w.size() - tstart;
      if (tlen > kMaxU16) return EncodeError(TransformWhere(i, t) + ": transform longer than 65535 bytes");
      w.PatchU16Be(tstart + 2, static_cast<uint16_t>(tlen));
    }
    const size_t plen = w.size() - start;
    if (plen > kMaxU16) return EncodeError(ProposalWhere(i) + ": proposal longer than 65535 bytes");
    w.PatchU16Be(start + 2, static_cast<uint16_t>(plen));
  }
  return OkStatus();
}

namespace {

bool TypeAllowed(ProtocolId protocol, TransformType type) {
  const auto v = static_cast<uint8_t>(type);
  const bool additional_ke = v >= static_cast<uint8_t>(TransformType::kAdditionalKe1) &&
                             v <= static_cast<uint8_t>(TransformType::kAdditionalKe7);
  switch (protocol) {
    case ProtocolId::kIke:
      return type == TransformType::kEncr || type == TransformType::kPrf || type == TransformType::kInteg ||
             type == TransformType::kDh || additional_ke;
    case ProtocolId::kEsp:
      return type == TransformType::kEncr || type == TransformType::kInteg || type == TransformType::kDh ||
             type == TransformType::kEsn || additional_ke;
    case ProtocolId::kAh:
      return type == TransformType::kInteg || type == TransformType::kDh || type == TransformType::kEsn ||
             additional_ke;
    default:
      return false;
  }
}

Status VerifyTransform(const Transform& t, const std::string& where) {
  for (size_t i = 0; i < t.attributes.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (t.attributes[j].type == t.attributes[i].type) {
        return InvalidArgumentError(where + ": attribute type " + Num(t.attributes[i].type) + " repeated");
      }
    }
  }
  bool has_key_length = false;
  for (const TransformAttribute& a : t.attributes) {
    if (a.type != static_cast<uint16_t>(AttributeType::kKeyLength)) continue;
    if (!a.tv) return InvalidArgumentError(where + ": Key Length attribute must use the TV format");
    if (t.type != TransformType::kEncr) {
      return InvalidArgumentError(where + ": Key Length attribute on a non-ENCR transform");
    }
    has_key_length = true;
  }
  if (t.type == TransformType::kEncr) {
    const auto id = static_cast<EncrId>(t.id);
    if (CipherNeedsKeyLength(id)) {
      const std::optional<uint16_t> bits = t.KeyLength();
      if (!bits) return InvalidArgumentError(where + ": cipher " + Num(t.id) + " requires a Key Length attribute");
      if (*bits != 128 && *bits != 192 && *bits != 256) {
        return InvalidArgumentError(where + ": Key Length " + Num(*bits) + " (must be 128, 192 or 256)");
      }
    } else if (has_key_length && id != EncrId::kRc5 && id != EncrId::kBlowfish && id != EncrId::kCast) {
      // RFC 7296 §3.3.5: MUST NOT be sent for fixed-key ciphers (RFC 7634 §2 for ChaCha20-Poly1305).
      return InvalidArgumentError(where + ": fixed-key cipher " + Num(t.id) + " must not carry a Key Length");
    }
  }
  if (t.type == TransformType::kEsn && t.id > static_cast<uint16_t>(EsnId::kEsn)) {
    return InvalidArgumentError(where + ": ESN transform ID " + Num(t.id) + " (must be 0 or 1)");
  }
  return OkStatus();
}

Status VerifyProposal(const Proposal& p, size_t index, SaContext context) {
  const std::string where = "SA " + ProposalWhere(index);
  switch (p.protocol) {
    case ProtocolId::kIke:
      if (!p.spi.empty() && p.spi.size() != 8) {
        return InvalidArgumentError(where + ": IKE SPI size " + Num(p.spi.size()) + " (must be 0 or 8)");
      }
      break;
    case ProtocolId::kAh:
    case ProtocolId::kEsp:
      if (p.spi.size() != 4) {
        return InvalidArgumentError(where + ": " + std::string(ProtocolIdName(p.protocol)) + " SPI size " +
                                    Num(p.spi.size()) + " (must be 4)");
      }
      break;
    default:
      return InvalidArgumentError(where + ": protocol ID " + Num(static_cast<uint8_t>(p.protocol)) +
                                  " is not IKE, AH or ESP");
  }
  if (p.transforms.empty()) return InvalidArgumentError(where + ": no transforms");
  bool has[13] = {};
  size_t count[13] = {};
  bool any_aead = false, any_plain = false, integ_other_than_none = false;
  for (size_t t = 0; t < p.transforms.size(); ++t) {
    const Transform& tr = p.transforms[t];
    const std::string twhere = where + " transform #" + Num(t + 1);
    if (!TypeAllowed(p.protocol, tr.type)) {
      return InvalidArgumentError(twhere + ": transform type " + Num(static_cast<uint8_t>(tr.type)) + " (" +
                                  std::string(TransformTypeName(tr.type)) + ") not allowed for " +
                                  std::string(ProtocolIdName(p.protocol)));
    }
    RETURN_IF_ERROR(VerifyTransform(tr, twhere));
    const auto ty = static_cast<uint8_t>(tr.type);
    has[ty] = true;
    ++count[ty];
    if (tr.type == TransformType::kEncr) (IsAeadCipher(static_cast<EncrId>(tr.id)) ? any_aead : any_plain) = true;
    if (tr.type == TransformType::kInteg && tr.id != static_cast<uint16_t>(IntegId::kNone)) {
      integ_other_than_none = true;
    }
  }
  const auto need = [&](TransformType ty) -> Status {
    if (has[static_cast<uint8_t>(ty)]) return OkStatus();
    return InvalidArgumentError(where + ": " + std::string(ProtocolIdName(p.protocol)) + " proposal lacks a " +
                                std::string(TransformTypeName(ty)) + " transform");
  };
  if (any_aead && any_plain) {
    return InvalidArgumentError(where + ": mixes AEAD and non-AEAD ciphers (RFC 5282 §8)");
  }
  if (any_aead && integ_other_than_none) {
    return InvalidArgumentError(where + ": AEAD cipher proposed with an integrity algorithm");
  }
  switch (p.protocol) {
    case ProtocolId::kIke:
      RETURN_IF_ERROR(need(TransformType::kEncr));
      RETURN_IF_ERROR(need(TransformType::kPrf));
      RETURN_IF_ERROR(need(TransformType::kDh));
      if (any_plain && !integ_other_than_none) RETURN_IF_ERROR(need(TransformType::kInteg));
      if (any_plain && !integ_other_than_none && has[static_cast<uint8_t>(TransformType::kInteg)]) {
        return InvalidArgumentError(where + ": non-AEAD IKE proposal offers only INTEG NONE");
      }
      break;
    case ProtocolId::kEsp:
      RETURN_IF_ERROR(need(TransformType::kEncr));
      RETURN_IF_ERROR(need(TransformType::kEsn));
      break;
    default:  // AH
      RETURN_IF_ERROR(need(TransformType::kInteg));
      RETURN_IF_ERROR(need(TransformType::kEsn));
      break;
  }
  if (context == SaContext::kAccepted) {
    for (size_t ty = 0; ty < 13; ++ty) {
      if (count[ty] > 1) {
        return InvalidArgumentError(where + ": accepted proposal has " + Num(count[ty]) + " transforms of type " +
                                    Num(ty) + " (must choose one)");
      }
    }
  }
  return OkStatus();
}

}  // namespace

Status SaPayload::Verify(SaContext context) const {
  if (proposals.empty()) return InvalidArgumentError("SA: no proposals");
  if (context == SaContext::kAccepted) {
    if (proposals.size() != 1) {
      return InvalidArgumentError("SA: accepted SA carries " + Num(proposals.size()) + " proposals (must be 1)");
    }
    if (proposals[0].number == 0) return InvalidArgumentError("SA: accepted proposal number 0");
  } else {
    // RFC 7296 §3.3.1: the first proposal is number 1, each next one is one more.
    for (size_t i = 0; i < proposals.size(); ++i) {
      if (proposals[i].number != i + 1) {
        return InvalidArgumentError("SA: proposal #" + Num(i + 1) + " has number " + Num(proposals[i].number) +
                                    " (proposals must be numbered 1, 2, 3, ...)");
      }
    }
  }
  for (size_t i = 0; i < proposals.size(); ++i) RETURN_IF_ERROR(VerifyProposal(proposals[i], i, context));
  return OkStatus();
}

}  // namespace ipsec::ike
