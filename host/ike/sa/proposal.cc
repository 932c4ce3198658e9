#include "host/ike/sa/proposal.h"

#include <algorithm>
#include <array>

namespace ipsec::ike {
namespace {

constexpr std::array<TransformType, 5> kTypes = {TransformType::kEncr, TransformType::kPrf, TransformType::kInteg,
                                                 TransformType::kDh, TransformType::kEsn};

bool SameTransform(const Transform& a, const Transform& b) {
  return a.type == b.type && a.id == b.id && a.KeyLength() == b.KeyLength();
}

bool Carries(const Proposal& p, TransformType type) {
  for (const Transform& t : p.transforms) {
    if (t.type != type) continue;
    // INTEG NONE is the same as no INTEG (RFC 7296 §3.3.3 allows either with AEAD).
    if (type == TransformType::kInteg && t.id == static_cast<uint16_t>(IntegId::kNone)) continue;
    // DH NONE is the same as no DH (no PFS).
    if (type == TransformType::kDh && t.id == static_cast<uint16_t>(DhGroup::kNone)) continue;
    return true;
  }
  return false;
}

bool Contains(const Proposal& p, const Transform& t) {
  return std::any_of(p.transforms.begin(), p.transforms.end(),
                     [&](const Transform& x) { return SameTransform(x, t); });
}

std::optional<Proposal> Match(const Proposal& ours, const Proposal& theirs, std::optional<DhGroup> preferred_dh) {
  if (ours.protocol != theirs.protocol) return std::nullopt;
  Proposal out;
  out.number = theirs.number;
  out.protocol = theirs.protocol;
  out.spi = theirs.spi;
  for (TransformType type : kTypes) {
    bool a = Carries(ours, type);
    bool b = Carries(theirs, type);
    if (a != b) return std::nullopt;
    if (!a) continue;
    const Transform* pick = nullptr;
    if (type == TransformType::kDh && preferred_dh) {
      Transform want = Transform::Dh(*preferred_dh);
      if (Contains(ours, want) && Contains(theirs, want)) {
        out.transforms.push_back(want);
        continue;
      }
    }
    for (const Transform& t : ours.transforms) {
      if (t.type == type && Contains(theirs, t)) {
        if (type == TransformType::kInteg && t.id == static_cast<uint16_t>(IntegId::kNone)) continue;
        pick = &t;
        break;
      }
    }
    if (pick == nullptr) return std::nullopt;
    out.transforms.push_back(*pick);
  }
  return out;
}

}  // namespace

const Transform* FindTransform(const Proposal& p, TransformType type) {
  for (const Transform& t : p.transforms) {
    if (t.type == type) return &t;
  }
  return nullptr;
}

DhGroup ProposalDhGroup(const Proposal& p) {
  const Transform* t = FindTransform(p, TransformType::kDh);
  return t ? static_cast<DhGroup>(t->id) : DhGroup::kNone;
}

std::optional<Proposal> SelectProposal(std::span<const Proposal> ours, std::span<const Proposal> theirs,
                                       std::optional<DhGroup> preferred_dh) {
  for (const Proposal& o : ours) {
    for (const Proposal& t : theirs) {
      if (auto m = Match(o, t, preferred_dh)) return m;
    }
  }
  return std::nullopt;
}

Status CheckAcceptedProposal(std::span<const Proposal> offered, const Proposal& accepted) {
  for (const Proposal& o : offered) {
    if (o.number != accepted.number) continue;
    if (o.protocol != accepted.protocol) return InvalidArgumentError("accepted proposal changes the protocol");
    for (TransformType type : kTypes) {
      int n = 0;
      for (const Transform& t : accepted.transforms) {
        if (t.type != type) continue;
        if (++n > 1) return InvalidArgumentError("accepted proposal has two transforms of one type");
        if (!Contains(o, t)) return InvalidArgumentError("accepted proposal contains a transform we did not offer");
      }
      if (n == 0 && Carries(o, type)) return InvalidArgumentError("accepted proposal lacks a transform type we offered");
    }
    return OkStatus();
  }
  return InvalidArgumentError("accepted proposal number was not offered");
}

StatusOr<IkeAlgorithms> ToIkeAlgorithms(const Proposal& p) {
  IkeAlgorithms a;
  const Transform* encr = FindTransform(p, TransformType::kEncr);
  const Transform* prf = FindTransform(p, TransformType::kPrf);
  const Transform* integ = FindTransform(p, TransformType::kInteg);
  const Transform* dh = FindTransform(p, TransformType::kDh);
  if (!encr || !prf || !dh) return InvalidArgumentError("IKE proposal lacks ENCR, PRF or DH");
  a.transforms.sk.encr = static_cast<EncrId>(encr->id);
  a.transforms.sk.key_bits = encr->KeyLength().value_or(0);
  a.transforms.sk.integ = integ ? static_cast<IntegId>(integ->id) : IntegId::kNone;
  a.transforms.prf = static_cast<PrfId>(prf->id);
  a.dh = static_cast<DhGroup>(dh->id);
  RETURN_IF_ERROR(ValidateSkTransform(a.transforms.sk));
  return a;
}

StatusOr<ChildAlgorithms> ToChildAlgorithms(const Proposal& p) {
  ChildAlgorithms a;
  const Transform* encr = FindTransform(p, TransformType::kEncr);
  const Transform* integ = FindTransform(p, TransformType::kInteg);
  const Transform* esn = FindTransform(p, TransformType::kEsn);
  a.pfs = ProposalDhGroup(p);
  a.esn = esn && esn->id == static_cast<uint16_t>(EsnId::kEsn);
  IntegId integ_id = integ ? static_cast<IntegId>(integ->id) : IntegId::kNone;
  if (p.protocol == ProtocolId::kAh) {
    a.protocol = sa::Protocol::kAh;
    if (integ_id == IntegId::kHmacSha2_256_128) {
      a.suite = sa::Suite::kNullHmacSha256;
      return a;
    }
    return UnimplementedError("AH supports only HMAC-SHA2-256-128");
  }
  if (p.protocol != ProtocolId::kEsp) return InvalidArgumentError("CHILD SA proposal is neither ESP nor AH");
  if (!encr) return InvalidArgumentError("ESP proposal lacks ENCR");
  auto id = static_cast<EncrId>(encr->id);
  uint16_t bits = encr->KeyLength().value_or(0);
  switch (id) {
    case EncrId::kAesGcm16:
      if (integ_id != IntegId::kNone) return InvalidArgumentError("AES-GCM with an INTEG transform");
      if (bits == 128) a.suite = sa::Suite::kAesGcm128;
      else if (bits == 256) a.suite = sa::Suite::kAesGcm256;
      else return UnimplementedError("AES-GCM-16 key length " + std::to_string(bits));
      return a;
    case EncrId::kNullAuthAesGmac:
      if (bits == 128) a.suite = sa::Suite::kAesGmac128;
      else if (bits == 256) a.suite = sa::Suite::kAesGmac256;
      else return UnimplementedError("AES-GMAC key length " + std::to_string(bits));
      return a;
    case EncrId::kChaCha20Poly1305:
      a.suite = sa::Suite::kChaCha20Poly1305;
      return a;
    case EncrId::kAesCbc:
      if (integ_id != IntegId::kHmacSha2_256_128) return UnimplementedError("AES-CBC only with HMAC-SHA2-256-128");
      if (bits == 128) a.suite = sa::Suite::kAesCbc128HmacSha256;
      else if (bits == 256) a.suite = sa::Suite::kAesCbc256HmacSha256;
      else return UnimplementedError("AES-CBC key length " + std::to_string(bits));
      return a;
    case EncrId::kNull:
      if (integ_id != IntegId::kHmacSha2_256_128) return UnimplementedError("ESP NULL only with HMAC-SHA2-256-128");
      a.suite = sa::Suite::kNullHmacSha256;
      return a;
    default:
      return UnimplementedError("ESP cipher " + std::to_string(encr->id));
  }
}

namespace {
std::string EncrName(const Transform& t) {
  std::string bits = t.KeyLength() ? "_" + std::to_string(*t.KeyLength()) : "";
  switch (static_cast<EncrId>(t.id)) {
    case EncrId::kAesCbc: return "AES_CBC" + bits;
    case EncrId::kAesGcm16: return "AES_GCM_16" + bits;
    case EncrId::kAesGcm12: return "AES_GCM_12" + bits;
    case EncrId::kAesGcm8: return "AES_GCM_8" + bits;
    case EncrId::kNullAuthAesGmac: return "NULL_AES_GMAC" + bits;
    case EncrId::kChaCha20Poly1305: return "CHACHA20_POLY1305";
    case EncrId::kNull: return "NULL";
    default: return "ENCR_" + std::to_string(t.id) + bits;
  }
}
std::string OtherName(const Transform& t) {
  switch (t.type) {
    case TransformType::kPrf:
      switch (static_cast<PrfId>(t.id)) {
        case PrfId::kHmacSha2_256: return "PRF_HMAC_SHA2_256";
        case PrfId::kHmacSha2_384: return "PRF_HMAC_SHA2_384";
        case PrfId::kHmacSha2_512: return "PRF_HMAC_SHA2_512";
        default: return "PRF_" + std::to_string(t.id);
      }
    case TransformType::kInteg:
      switch (static_cast<IntegId>(t.id)) {
        case IntegId::kHmacSha2_256_128: return "HMAC_SHA2_256_128";
        case IntegId::kHmacSha2_384_192: return "HMAC_SHA2_384_192";
        case IntegId::kHmacSha2_512_256: return "HMAC_SHA2_512_256";
        default: return "INTEG_" + std::to_string(t.id);
      }
    case TransformType::kDh:
      switch (static_cast<DhGroup>(t.id)) {
        case DhGroup::kModp2048: return "MODP_2048";
        case DhGroup::kModp3072: return "MODP_3072";
        case DhGroup::kEcp256: return "ECP_256";
        case DhGroup::kEcp384: return "ECP_384";
        case DhGroup::kCurve25519: return "CURVE_25519";
        default: return "DH_" + std::to_string(t.id);
      }
    case TransformType::kEsn: return t.id ? "ESN" : "NO_EXT_SEQ";
    default: return "T" + std::to_string(static_cast<int>(t.type)) + "_" + std::to_string(t.id);
  }
}
}  // namespace

std::string DescribeProposal(const Proposal& p) {
  std::string out;
  for (const Transform& t : p.transforms) {
    if (t.type == TransformType::kInteg && t.id == 0) continue;
    if (!out.empty()) out += '/';
    out += t.type == TransformType::kEncr ? EncrName(t) : OtherName(t);
  }
  return out;
}

}  // namespace ipsec::ike
