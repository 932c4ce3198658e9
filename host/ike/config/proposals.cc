// Proposal string parsing (rules in proposals.h).
#include "host/ike/config/proposals.h"

#include <strings.h>

#include <algorithm>
#include <optional>
#include <utility>

namespace ipsec::ike::config {
namespace {

enum Support : uint8_t { kNone = 0, kIke = 1, kEsp = 2, kAh = 4, kAlias = 8 };

struct Algorithm {
  std::string_view name;
  TransformType type;
  uint16_t id;
  uint16_t key_bits;  // Key Length attribute, 0 = none
  uint8_t support;    // Support bits; kAlias: not listed in hints nor used when describing
};

constexpr uint16_t E(EncrId v) { return static_cast<uint16_t>(v); }
constexpr uint16_t I(IntegId v) { return static_cast<uint16_t>(v); }
constexpr uint16_t P(PrfId v) { return static_cast<uint16_t>(v); }
constexpr uint16_t D(DhGroup v) { return static_cast<uint16_t>(v); }

constexpr auto kEncr = TransformType::kEncr;
constexpr auto kInteg = TransformType::kInteg;
constexpr auto kPrf = TransformType::kPrf;
constexpr auto kDh = TransformType::kDh;
constexpr auto kEsnType = TransformType::kEsn;

// strongSwan keywords (src/libstrongswan/crypto/proposal/proposal_keywords_static.txt), the
// implemented ones marked with where they may be used.
constexpr Algorithm kAlgorithms[] = {
    // AES-CBC
    {"aes128", kEncr, E(EncrId::kAesCbc), 128, kIke | kEsp},
    {"aes256", kEncr, E(EncrId::kAesCbc), 256, kIke | kEsp},
    {"aes", kEncr, E(EncrId::kAesCbc), 128, kIke | kEsp | kAlias},
    {"aes192", kEncr, E(EncrId::kAesCbc), 192, kNone},
    // AES-GCM
    {"aes128gcm16", kEncr, E(EncrId::kAesGcm16), 128, kIke | kEsp},
    {"aes256gcm16", kEncr, E(EncrId::kAesGcm16), 256, kIke | kEsp},
    {"aes128gcm", kEncr, E(EncrId::kAesGcm16), 128, kIke | kEsp | kAlias},
    {"aes256gcm", kEncr, E(EncrId::kAesGcm16), 256, kIke | kEsp | kAlias},
    {"aes128gcm128", kEncr, E(EncrId::kAesGcm16), 128, kIke | kEsp | kAlias},
    {"aes256gcm128", kEncr, E(EncrId::kAesGcm16), 256, kIke | kEsp | kAlias},
    {"aes192gcm16", kEncr, E(EncrId::kAesGcm16), 192, kNone},
    {"aes192gcm", kEncr, E(EncrId::kAesGcm16), 192, kNone},
    {"aes128gcm8", kEncr, E(EncrId::kAesGcm8), 128, kNone},
    {"aes192gcm8", kEncr, E(EncrId::kAesGcm8), 192, kNone},
    {"aes256gcm8", kEncr, E(EncrId::kAesGcm8), 256, kNone},
    {"aes128gcm64", kEncr, E(EncrId::kAesGcm8), 128, kNone},
    {"aes256gcm64", kEncr, E(EncrId::kAesGcm8), 256, kNone},
    {"aes128gcm12", kEncr, E(EncrId::kAesGcm12), 128, kNone},
    {"aes192gcm12", kEncr, E(EncrId::kAesGcm12), 192, kNone},
    {"aes256gcm12", kEncr, E(EncrId::kAesGcm12), 256, kNone},
    {"aes128gcm96", kEncr, E(EncrId::kAesGcm12), 128, kNone},
    {"aes256gcm96", kEncr, E(EncrId::kAesGcm12), 256, kNone},
    // Other AEADs
    {"chacha20poly1305", kEncr, E(EncrId::kChaCha20Poly1305), 0, kEsp},
    {"aes128gmac", kEncr, E(EncrId::kNullAuthAesGmac), 128, kEsp},
    {"aes256gmac", kEncr, E(EncrId::kNullAuthAesGmac), 256, kEsp},
    {"aes192gmac", kEncr, E(EncrId::kNullAuthAesGmac), 192, kNone},
    {"aes128ccm8", kEncr, E(EncrId::kAesCcm8), 128, kNone},
    {"aes128ccm12", kEncr, E(EncrId::kAesCcm12), 128, kNone},
    {"aes128ccm16", kEncr, E(EncrId::kAesCcm16), 128, kNone},
    {"aes192ccm16", kEncr, E(EncrId::kAesCcm16), 192, kNone},
    {"aes256ccm8", kEncr, E(EncrId::kAesCcm8), 256, kNone},
    {"aes256ccm12", kEncr, E(EncrId::kAesCcm12), 256, kNone},
    {"aes256ccm16", kEncr, E(EncrId::kAesCcm16), 256, kNone},
    // Other ciphers, all unsupported
    {"null", kEncr, E(EncrId::kNull), 0, kEsp},
    {"aes128ctr", kEncr, E(EncrId::kAesCtr), 128, kNone},
    {"aes192ctr", kEncr, E(EncrId::kAesCtr), 192, kNone},
    {"aes256ctr", kEncr, E(EncrId::kAesCtr), 256, kNone},
    {"3des", kEncr, E(EncrId::k3Des), 0, kNone},
    {"des", kEncr, E(EncrId::kDes), 0, kNone},
    {"cast128", kEncr, E(EncrId::kCast), 128, kNone},
    {"blowfish", kEncr, E(EncrId::kBlowfish), 128, kNone},
    {"blowfish128", kEncr, E(EncrId::kBlowfish), 128, kNone},
    {"blowfish256", kEncr, E(EncrId::kBlowfish), 256, kNone},
    {"camellia", kEncr, E(EncrId::kCamelliaCbc), 128, kNone},
    {"camellia128", kEncr, E(EncrId::kCamelliaCbc), 128, kNone},
    {"camellia192", kEncr, E(EncrId::kCamelliaCbc), 192, kNone},
    {"camellia256", kEncr, E(EncrId::kCamelliaCbc), 256, kNone},
    // Integrity
    {"sha256", kInteg, I(IntegId::kHmacSha2_256_128), 0, kIke | kEsp | kAh},
    {"sha384", kInteg, I(IntegId::kHmacSha2_384_192), 0, kIke},
    {"sha512", kInteg, I(IntegId::kHmacSha2_512_256), 0, kIke},
    {"sha2_256", kInteg, I(IntegId::kHmacSha2_256_128), 0, kIke | kEsp | kAh | kAlias},
    {"sha2_384", kInteg, I(IntegId::kHmacSha2_384_192), 0, kIke | kAlias},
    {"sha2_512", kInteg, I(IntegId::kHmacSha2_512_256), 0, kIke | kAlias},
    {"sha1", kInteg, I(IntegId::kHmacSha1_96), 0, kNone},
    {"sha", kInteg, I(IntegId::kHmacSha1_96), 0, kNone},
    {"sha1_160", kInteg, I(IntegId::kHmacSha1_160), 0, kNone},
    {"md5", kInteg, I(IntegId::kHmacMd5_96), 0, kNone},
    {"md5_128", kInteg, I(IntegId::kHmacMd5_128), 0, kNone},
    {"aesxcbc", kInteg, I(IntegId::kAesXcbc96), 0, kNone},
    {"aescmac", kInteg, I(IntegId::kAesCmac96), 0, kNone},
    // PRF
    {"prfsha256", kPrf, P(PrfId::kHmacSha2_256), 0, kIke},
    {"prfsha384", kPrf, P(PrfId::kHmacSha2_384), 0, kIke},
    {"prfsha512", kPrf, P(PrfId::kHmacSha2_512), 0, kIke},
    {"prfsha1", kPrf, P(PrfId::kHmacSha1), 0, kNone},
    {"prfmd5", kPrf, P(PrfId::kHmacMd5), 0, kNone},
    {"prfaesxcbc", kPrf, P(PrfId::kAes128Xcbc), 0, kNone},
    {"prfaescmac", kPrf, P(PrfId::kAes128Cmac), 0, kNone},
    // Key exchange
    {"modp2048", kDh, D(DhGroup::kModp2048), 0, kIke | kEsp | kAh},
    {"modp3072", kDh, D(DhGroup::kModp3072), 0, kIke | kEsp | kAh},
    {"ecp256", kDh, D(DhGroup::kEcp256), 0, kIke | kEsp | kAh},
    {"ecp384", kDh, D(DhGroup::kEcp384), 0, kIke | kEsp | kAh},
    {"x25519", kDh, D(DhGroup::kCurve25519), 0, kIke | kEsp | kAh},
    {"curve25519", kDh, D(DhGroup::kCurve25519), 0, kIke | kEsp | kAh | kAlias},
    {"modp768", kDh, D(DhGroup::kModp768), 0, kNone},
    {"modp1024", kDh, D(DhGroup::kModp1024), 0, kNone},
    {"modp1536", kDh, D(DhGroup::kModp1536), 0, kNone},
    {"modp4096", kDh, D(DhGroup::kModp4096), 0, kNone},
    {"modp6144", kDh, D(DhGroup::kModp6144), 0, kNone},
    {"modp8192", kDh, D(DhGroup::kModp8192), 0, kNone},
    {"modp1024s160", kDh, D(DhGroup::kModp1024s160), 0, kNone},
    {"modp2048s224", kDh, D(DhGroup::kModp2048s224), 0, kNone},
    {"modp2048s256", kDh, D(DhGroup::kModp2048s256), 0, kNone},
    {"ecp192", kDh, D(DhGroup::kEcp192), 0, kNone},
    {"ecp224", kDh, D(DhGroup::kEcp224), 0, kNone},
    {"ecp521", kDh, D(DhGroup::kEcp521), 0, kNone},
    {"ecp224bp", kDh, D(DhGroup::kBrainpoolP224), 0, kNone},
    {"ecp256bp", kDh, D(DhGroup::kBrainpoolP256), 0, kNone},
    {"ecp384bp", kDh, D(DhGroup::kBrainpoolP384), 0, kNone},
    {"ecp512bp", kDh, D(DhGroup::kBrainpoolP512), 0, kNone},
    {"x448", kDh, D(DhGroup::kCurve448), 0, kNone},
    {"curve448", kDh, D(DhGroup::kCurve448), 0, kNone},
    // ESN
    {"esn", kEsnType, static_cast<uint16_t>(EsnId::kEsn), 0, kEsp | kAh},
    {"noesn", kEsnType, static_cast<uint16_t>(EsnId::kNoEsn), 0, kEsp | kAh},
};

// AH reads the GMAC keywords as integrity algorithms (RFC 4543 AUTH_AES_*_GMAC).
constexpr Algorithm kAhGmac[] = {
    {"aes128gmac", kInteg, I(IntegId::kAes128Gmac), 0, kAh},
    {"aes256gmac", kInteg, I(IntegId::kAes256Gmac), 0, kAh},
    {"aes192gmac", kInteg, I(IntegId::kAes192Gmac), 0, kNone},
};

uint8_t Bit(ProtocolId p) { return p == ProtocolId::kIke ? kIke : p == ProtocolId::kEsp ? kEsp : kAh; }
std::string_view ProtoName(ProtocolId p) { return p == ProtocolId::kIke ? "IKE" : p == ProtocolId::kEsp ? "ESP" : "AH"; }

std::string_view TypeWord(TransformType t) {
  switch (t) {
    case TransformType::kEncr:
      return "encryption";
    case TransformType::kInteg:
      return "integrity";
    case TransformType::kPrf:
      return "PRF";
    case TransformType::kDh:
      return "key exchange";
    case TransformType::kEsn:
      return "ESN";
    default:
      return "transform";
  }
}

std::string Echo(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < 40; ++i) out.push_back(s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?');
  if (s.size() > 40) out += "...";
  return out;
}

const Algorithm* Lookup(std::string_view word, ProtocolId protocol) {
  if (protocol == ProtocolId::kAh) {
    for (const Algorithm& a : kAhGmac) {
      if (a.name.size() == word.size() && strncasecmp(a.name.data(), word.data(), word.size()) == 0) return &a;
    }
  }
  for (const Algorithm& a : kAlgorithms) {
    if (a.name.size() == word.size() && strncasecmp(a.name.data(), word.data(), word.size()) == 0) return &a;
  }
  return nullptr;
}

// "aes128, aes256, ..." for the implemented keywords of a type in a protocol.
std::string Supported(TransformType type, ProtocolId protocol) {
  std::string out;
  auto add = [&](const Algorithm& a) {
    if (a.type != type || (a.support & Bit(protocol)) == 0 || (a.support & kAlias) != 0) return;
    if (protocol == ProtocolId::kAh && a.type == kEncr) return;
    if (!out.empty()) out += ", ";
    out += a.name;
  };
  if (protocol == ProtocolId::kAh) {
    for (const Algorithm& a : kAhGmac) add(a);
  }
  for (const Algorithm& a : kAlgorithms) {
    if (protocol == ProtocolId::kAh && a.name.find("gmac") != std::string_view::npos) continue;
    add(a);
  }
  return out;
}

void AddUnique(std::vector<Transform>* v, Transform t) {
  if (std::find(v->begin(), v->end(), t) == v->end()) v->push_back(std::move(t));
}

Transform MakeTransform(const Algorithm& a) {
  if (a.type == kEncr) {
    const auto id = static_cast<EncrId>(a.id);
    return Transform::Encr(id, CipherNeedsKeyLength(id) ? std::optional<uint16_t>(a.key_bits) : std::nullopt);
  }
  return Transform{a.type, a.id, {}};
}

std::optional<PrfId> PrfForInteg(uint16_t integ) {
  switch (static_cast<IntegId>(integ)) {
    case IntegId::kHmacSha2_256_128:
      return PrfId::kHmacSha2_256;
    case IntegId::kHmacSha2_384_192:
      return PrfId::kHmacSha2_384;
    case IntegId::kHmacSha2_512_256:
      return PrfId::kHmacSha2_512;
    default:
      return std::nullopt;
  }
}

StatusOr<Proposal> ParseOne(std::string_view item, ProtocolId protocol) {
  std::vector<Transform> encr, integ, prf, dh, esn;
  const Algorithm* first_aead = nullptr;
  const Algorithm* first_classic = nullptr;
  const Algorithm* first_integ = nullptr;
  size_t pos = 0;
  const std::string what = std::string(ProtoName(protocol)) + " proposal '" + Echo(item) + "'";
  while (true) {
    const size_t dash = item.find('-', pos);
    const std::string_view word = item.substr(pos, dash == std::string_view::npos ? item.npos : dash - pos);
    if (word.empty()) return InvalidArgumentError(what + ": empty algorithm name");
    const Algorithm* a = Lookup(word, protocol);
    if (a == nullptr) return InvalidArgumentError("unknown algorithm '" + Echo(word) + "'");
    if ((a->support & Bit(protocol)) == 0) {
      const bool type_allowed = !(a->type == kPrf && protocol != ProtocolId::kIke) &&
                                !(a->type == kEsnType && protocol == ProtocolId::kIke) &&
                                !(a->type == kEncr && protocol == ProtocolId::kAh);
      if (!type_allowed) {
        return InvalidArgumentError(std::string(TypeWord(a->type)) + " algorithm '" + Echo(word) +
                                    "' is not allowed in " + std::string(ProtoName(protocol)) + " proposals");
      }
      return InvalidArgumentError("algorithm '" + Echo(word) + "' is not supported in " +
                                  std::string(ProtoName(protocol)) + " proposals (supported " +
                                  std::string(TypeWord(a->type)) + ": " + Supported(a->type, protocol) + ")");
    }
    const Transform t = MakeTransform(*a);
    switch (a->type) {
      case TransformType::kEncr:
        if (IsAeadCipher(static_cast<EncrId>(a->id))) {
          if (first_aead == nullptr) first_aead = a;
        } else if (first_classic == nullptr) {
          first_classic = a;
        }
        AddUnique(&encr, t);
        break;
      case TransformType::kInteg:
        if (first_integ == nullptr) first_integ = a;
        AddUnique(&integ, t);
        break;
      case TransformType::kPrf:
        AddUnique(&prf, t);
        break;
      case TransformType::kDh:
        AddUnique(&dh, t);
        break;
      default:
        AddUnique(&esn, t);
        break;
    }
    if (dash == std::string_view::npos) break;
    pos = dash + 1;
  }
  if (first_aead != nullptr && first_classic != nullptr) {
    return InvalidArgumentError(what + ": AEAD cipher '" + std::string(first_aead->name) +
                                "' and non-AEAD cipher '" + std::string(first_classic->name) +
                                "' cannot be mixed in one proposal");
  }
  if (first_aead != nullptr && first_integ != nullptr) {
    return InvalidArgumentError(what + ": AEAD cipher '" + std::string(first_aead->name) +
                                "' takes no integrity algorithm ('" + std::string(first_integ->name) + "')");
  }
  if (protocol == ProtocolId::kAh) {
    if (integ.empty()) return InvalidArgumentError(what + ": no integrity algorithm");
  } else {
    if (encr.empty()) {
      return InvalidArgumentError(what + ": no encryption algorithm" +
                                  (protocol == ProtocolId::kEsp ? " (use 'null' for none)" : ""));
    }
    if (first_classic != nullptr && integ.empty()) {
      return InvalidArgumentError(what + ": non-AEAD cipher '" + std::string(first_classic->name) +
                                  "' needs an integrity algorithm");
    }
  }
  if (protocol == ProtocolId::kIke) {
    if (prf.empty()) {
      for (const Transform& t : integ) {
        if (auto p = PrfForInteg(t.id)) AddUnique(&prf, Transform::Prf(*p));
      }
    }
    if (prf.empty()) return InvalidArgumentError(what + ": no PRF (add e.g. prfsha256)");
    if (dh.empty()) return InvalidArgumentError(what + ": no key exchange method (add e.g. x25519)");
  } else if (esn.empty()) {
    esn.push_back(Transform::Esn(EsnId::kNoEsn));
  }
  Proposal p;
  p.protocol = protocol;
  for (auto* group : {&encr, &integ, &prf, &dh, &esn}) {
    for (Transform& t : *group) p.transforms.push_back(std::move(t));
  }
  return p;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::vector<Proposal> DefaultProposals(ProtocolId protocol) {
  std::vector<std::string_view> items;
  switch (protocol) {
    case ProtocolId::kIke:
      items = {"aes128-aes256-sha256-sha384-sha512-ecp256-ecp384-x25519-modp3072-modp2048",
               "aes128gcm16-aes256gcm16-prfsha256-prfsha384-prfsha512-ecp256-ecp384-x25519-modp3072-modp2048"};
      break;
    case ProtocolId::kEsp:
      items = {"aes128gcm16-aes256gcm16-chacha20poly1305", "aes128-aes256-sha256"};
      break;
    default:
      items = {"sha256"};
      break;
  }
  std::vector<Proposal> out;
  for (std::string_view item : items) {
    auto p = ParseOne(item, protocol);
    if (p.ok()) out.push_back(std::move(*p));  // always ok: the table above is fixed
  }
  for (size_t i = 0; i < out.size(); ++i) out[i].number = static_cast<uint8_t>(i + 1);
  return out;
}

StatusOr<std::vector<Proposal>> ParseProposals(std::string_view list, ProtocolId protocol) {
  if (protocol != ProtocolId::kIke && protocol != ProtocolId::kEsp && protocol != ProtocolId::kAh) {
    return InvalidArgumentError("proposals: protocol must be IKE, ESP or AH");
  }
  std::vector<Proposal> out;
  if (Trim(list).empty()) return InvalidArgumentError("empty proposal list");
  size_t pos = 0;
  while (true) {
    const size_t comma = list.find(',', pos);
    const std::string_view item = Trim(list.substr(pos, comma == std::string_view::npos ? list.npos : comma - pos));
    if (item.empty()) return InvalidArgumentError("empty proposal in the list");
    if (item.size() == 7 && strncasecmp(item.data(), "default", 7) == 0) {
      for (Proposal& p : DefaultProposals(protocol)) out.push_back(std::move(p));
    } else {
      ASSIGN_OR_RETURN(Proposal p, ParseOne(item, protocol));
      out.push_back(std::move(p));
    }
    if (out.size() > kMaxProposals) {
      return InvalidArgumentError("more than " + std::to_string(kMaxProposals) + " proposals");
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  for (size_t i = 0; i < out.size(); ++i) out[i].number = static_cast<uint8_t>(i + 1);
  return out;
}

std::string DescribeProposal(const Proposal& proposal) {
  std::string out;
  for (const Transform& t : proposal.transforms) {
    std::string name;
    const std::optional<uint16_t> bits = t.KeyLength();
    auto scan = [&](const Algorithm* begin, const Algorithm* end) {
      for (const Algorithm* a = begin; a != end && name.empty(); ++a) {
        if ((a->support & kAlias) != 0 || a->type != t.type || a->id != t.id) continue;
        if (a->type == kEncr && CipherNeedsKeyLength(static_cast<EncrId>(a->id)) && bits != a->key_bits) continue;
        name = std::string(a->name);
      }
    };
    if (proposal.protocol == ProtocolId::kAh) scan(std::begin(kAhGmac), std::end(kAhGmac));
    scan(std::begin(kAlgorithms), std::end(kAlgorithms));
    if (name.empty()) {
      static constexpr std::string_view kTypeNames[] = {"", "encr", "prf", "integ", "ke", "esn"};
      const auto ti = static_cast<size_t>(t.type);
      name = std::string(ti < 6 ? kTypeNames[ti] : "t") + std::to_string(t.id);
      if (bits) name += "/" + std::to_string(*bits);
    }
    if (!out.empty()) out += "-";
    out += name;
  }
  return out;
}

}  // namespace ipsec::ike::config
