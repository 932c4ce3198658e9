// Signature authentication (RFC 7427, RFC 7296 §2.15 method 1, RFC 4754) over OpenSSL 3 EVP.
#include "host/ike/auth/signature.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <array>
#include <string>

#include "host/ike/auth/der.h"
#include "host/ike/auth/ossl_auth_util.h"
#include "host/ike/encoding/payloads/auth_payload.h"

namespace ipsec::ike {
namespace {

using internal::AuthFailure;
using internal::DerTlv;
using internal::ReadDerIf;

enum class Family : uint8_t { kRsaPkcs1, kRsaPss, kEcdsa, kEd25519 };

// OID contents (without tag and length).
constexpr uint8_t kOidSha1WithRsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05};
constexpr uint8_t kOidSha256WithRsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b};
constexpr uint8_t kOidSha384WithRsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c};
constexpr uint8_t kOidSha512WithRsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d};
constexpr uint8_t kOidRsaPss[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a};
constexpr uint8_t kOidMgf1[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08};
constexpr uint8_t kOidEcdsaSha256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
constexpr uint8_t kOidEcdsaSha384[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
constexpr uint8_t kOidEcdsaSha512[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04};
constexpr uint8_t kOidEd25519[] = {0x2b, 0x65, 0x70};
constexpr uint8_t kOidSha1[] = {0x2b, 0x0e, 0x03, 0x02, 0x1a};
constexpr uint8_t kOidSha256[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
constexpr uint8_t kOidSha384[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02};
constexpr uint8_t kOidSha512[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03};

Bytes B(const uint8_t* p, size_t n) {
  return {reinterpret_cast<const std::byte*>(p), n};
}
template <size_t N>
Bytes B(const uint8_t (&a)[N]) {
  return B(a, N);
}
bool Same(Bytes a, Bytes b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

struct SchemeInfo {
  SignatureScheme scheme;
  std::string_view name;
  Family family;
  HashAlgorithm hash;
  const char* md;  // OpenSSL digest name; nullptr for Ed25519
  size_t hash_size;
  Bytes oid;  // signature algorithm OID
};

const SchemeInfo kSchemes[] = {
    {SignatureScheme::kRsaPkcs1Sha1, "RSA PKCS#1 v1.5 SHA-1", Family::kRsaPkcs1, HashAlgorithm::kSha1, "SHA1", 20,
     B(kOidSha1WithRsa)},
    {SignatureScheme::kRsaPkcs1Sha256, "RSA PKCS#1 v1.5 SHA-256", Family::kRsaPkcs1, HashAlgorithm::kSha2_256, "SHA256",
     32, B(kOidSha256WithRsa)},
    {SignatureScheme::kRsaPkcs1Sha384, "RSA PKCS#1 v1.5 SHA-384", Family::kRsaPkcs1, HashAlgorithm::kSha2_384, "SHA384",
     48, B(kOidSha384WithRsa)},
    {SignatureScheme::kRsaPkcs1Sha512, "RSA PKCS#1 v1.5 SHA-512", Family::kRsaPkcs1, HashAlgorithm::kSha2_512, "SHA512",
     64, B(kOidSha512WithRsa)},
    {SignatureScheme::kRsaPssSha256, "RSASSA-PSS SHA-256", Family::kRsaPss, HashAlgorithm::kSha2_256, "SHA256", 32,
     B(kOidRsaPss)},
    {SignatureScheme::kRsaPssSha384, "RSASSA-PSS SHA-384", Family::kRsaPss, HashAlgorithm::kSha2_384, "SHA384", 48,
     B(kOidRsaPss)},
    {SignatureScheme::kRsaPssSha512, "RSASSA-PSS SHA-512", Family::kRsaPss, HashAlgorithm::kSha2_512, "SHA512", 64,
     B(kOidRsaPss)},
    {SignatureScheme::kEcdsaSha256, "ECDSA SHA-256", Family::kEcdsa, HashAlgorithm::kSha2_256, "SHA256", 32,
     B(kOidEcdsaSha256)},
    {SignatureScheme::kEcdsaSha384, "ECDSA SHA-384", Family::kEcdsa, HashAlgorithm::kSha2_384, "SHA384", 48,
     B(kOidEcdsaSha384)},
    {SignatureScheme::kEcdsaSha512, "ECDSA SHA-512", Family::kEcdsa, HashAlgorithm::kSha2_512, "SHA512", 64,
     B(kOidEcdsaSha512)},
    {SignatureScheme::kEd25519, "Ed25519", Family::kEd25519, HashAlgorithm::kIdentity, nullptr, 0, B(kOidEd25519)},
};

const SchemeInfo& Info(SignatureScheme s) {
  for (const SchemeInfo& i : kSchemes) {
    if (i.scheme == s) return i;
  }
  return kSchemes[0];  // unreachable for valid enum values
}

bool IsEc(KeyType t) {
  return t == KeyType::kEcP256 || t == KeyType::kEcP384 || t == KeyType::kEcP521;
}

size_t EcFieldSize(KeyType t) {
  switch (t) {
    case KeyType::kEcP256:
      return 32;
    case KeyType::kEcP384:
      return 48;
    case KeyType::kEcP521:
      return 66;
    default:
      return 0;
  }
}

std::string MethodText(AuthMethod m) {
  return "AUTH method " + std::to_string(static_cast<int>(m));
}

// The RFC 4754 method for an EC key type, and its fixed scheme.
bool ClassicEcMethod(KeyType t, AuthMethod* method, SignatureScheme* scheme) {
  switch (t) {
    case KeyType::kEcP256:
      *method = AuthMethod::kEcdsaSha256P256;
      *scheme = SignatureScheme::kEcdsaSha256;
      return true;
    case KeyType::kEcP384:
      *method = AuthMethod::kEcdsaSha384P384;
      *scheme = SignatureScheme::kEcdsaSha384;
      return true;
    case KeyType::kEcP521:
      *method = AuthMethod::kEcdsaSha512P521;
      *scheme = SignatureScheme::kEcdsaSha512;
      return true;
    default:
      return false;
  }
}

// Whether (method, scheme) can be used with `key`; `code` is the error code to report.
Status CheckKeyFits(const PublicKey& key, AuthMethod method, SignatureScheme scheme, StatusCode code) {
  const SchemeInfo& info = Info(scheme);
  auto fail = [&](const std::string& why) {
    return Status(code, "IKE auth: " + std::string(info.name) + " with " + MethodText(method) + " does not fit a " +
                            std::string(KeyTypeName(key.type())) + " key: " + why);
  };
  switch (method) {
    case AuthMethod::kDigitalSignature:
      switch (info.family) {
        case Family::kRsaPkcs1:
          if (scheme == SignatureScheme::kRsaPkcs1Sha1) return fail("SHA-1 is not used with method 14");
          if (key.type() != KeyType::kRsa) return fail("needs an RSA key");
          if (key.pss_only()) return fail("the key is restricted to RSASSA-PSS");
          return OkStatus();
        case Family::kRsaPss:
          return key.type() == KeyType::kRsa ? OkStatus() : fail("needs an RSA key");
        case Family::kEcdsa:
          return IsEc(key.type()) ? OkStatus() : fail("needs an EC key");
        case Family::kEd25519:
          return key.type() == KeyType::kEd25519 ? OkStatus() : fail("needs an Ed25519 key");
      }
      return fail("unknown scheme");
    case AuthMethod::kRsaSignature:
      if (scheme != SignatureScheme::kRsaPkcs1Sha1) return fail("method 1 is PKCS#1 v1.5 with SHA-1");
      if (key.type() != KeyType::kRsa || key.pss_only()) return fail("needs an unrestricted RSA key");
      return OkStatus();
    case AuthMethod::kEcdsaSha256P256:
    case AuthMethod::kEcdsaSha384P384:
    case AuthMethod::kEcdsaSha512P521: {
      AuthMethod want_method;
      SignatureScheme want_scheme;
      if (!ClassicEcMethod(key.type(), &want_method, &want_scheme) || want_method != method) {
        return fail("RFC 4754 ties the method to the curve");
      }
      if (scheme != want_scheme) return fail("RFC 4754 ties the hash to the curve");
      return OkStatus();
    }
    default:
      return Status(code, "IKE auth: " + MethodText(method) + " is not a supported signature method");
  }
}

Status SetupPadding(EVP_PKEY_CTX* pctx, const SchemeInfo& info, size_t salt) {
  if (info.family == Family::kRsaPkcs1) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
      return AuthFailure(StatusCode::kInternal, "cannot select PKCS#1 v1.5 padding");
    }
  } else if (info.family == Family::kRsaPss) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, info.md, nullptr) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, static_cast<int>(salt)) != 1) {
      return AuthFailure(StatusCode::kInternal, "cannot set RSASSA-PSS parameters");
    }
  }
  return OkStatus();
}

StatusOr<std::vector<std::byte>> EvpSign(EVP_PKEY* pkey, const SchemeInfo& info, size_t salt, Bytes msg) {
  internal::MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestSignInit_ex(ctx.get(), &pctx, info.md, nullptr, nullptr, pkey, nullptr) != 1) {
    return AuthFailure(StatusCode::kInternal, "EVP_DigestSignInit_ex failed for " + std::string(info.name));
  }
  RETURN_IF_ERROR(SetupPadding(pctx, info, salt));
  const auto* m = reinterpret_cast<const unsigned char*>(msg.data());
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, m, msg.size()) != 1) {
    return AuthFailure(StatusCode::kInternal, "EVP_DigestSign (size) failed");
  }
  std::vector<std::byte> sig(len);
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, m, msg.size()) != 1) {
    return AuthFailure(StatusCode::kInternal, "EVP_DigestSign failed");
  }
  sig.resize(len);
  return sig;
}

Status EvpVerify(EVP_PKEY* pkey, const SchemeInfo& info, size_t salt, Bytes msg, Bytes sig) {
  internal::MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), &pctx, info.md, nullptr, nullptr, pkey, nullptr) != 1) {
    return AuthFailure(StatusCode::kInternal, "EVP_DigestVerifyInit_ex failed for " + std::string(info.name));
  }
  RETURN_IF_ERROR(SetupPadding(pctx, info, salt));
  if (EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(msg.data()), msg.size()) != 1) {
    return AuthFailure(StatusCode::kDataLoss, std::string(info.name) + " signature does not verify");
  }
  return OkStatus();
}

// --- AlgorithmIdentifier encoding and parsing.

void AppendTlv(std::vector<std::byte>& out, uint8_t tag, Bytes content) {
  out.push_back(std::byte{tag});
  out.push_back(std::byte{static_cast<uint8_t>(content.size())});  // every piece here is < 128
  out.insert(out.end(), content.begin(), content.end());
}

Bytes HashOid(HashAlgorithm h) {
  switch (h) {
    case HashAlgorithm::kSha2_384:
      return B(kOidSha384);
    case HashAlgorithm::kSha2_512:
      return B(kOidSha512);
    default:
      return B(kOidSha256);
  }
}

// SEQUENCE { hash OID, NULL }
std::vector<std::byte> HashAlgorithmIdentifier(HashAlgorithm h) {
  std::vector<std::byte> inner;
  AppendTlv(inner, internal::kDerOid, HashOid(h));
  AppendTlv(inner, internal::kDerNull, {});
  std::vector<std::byte> out;
  AppendTlv(out, internal::kDerSequence, inner);
  return out;
}

// Parses a hash AlgorithmIdentifier (SEQUENCE { OID, NULL or nothing }) that fills all of `in`.
// Returns false when malformed; *hash is kSha1 for SHA-1, and 0 for an unknown hash.
bool ParseHashAlgorithmIdentifier(Bytes in, uint16_t* hash) {
  DerTlv seq, oid, null;
  if (!ReadDerIf(in, internal::kDerSequence, &seq) || !in.empty()) return false;
  Bytes body = seq.content;
  if (!ReadDerIf(body, internal::kDerOid, &oid)) return false;
  if (!body.empty() && (!ReadDerIf(body, internal::kDerNull, &null) || !null.content.empty() || !body.empty())) {
    return false;
  }
  *hash = 0;
  if (Same(oid.content, B(kOidSha1))) *hash = static_cast<uint16_t>(HashAlgorithm::kSha1);
  if (Same(oid.content, B(kOidSha256))) *hash = static_cast<uint16_t>(HashAlgorithm::kSha2_256);
  if (Same(oid.content, B(kOidSha384))) *hash = static_cast<uint16_t>(HashAlgorithm::kSha2_384);
  if (Same(oid.content, B(kOidSha512))) *hash = static_cast<uint16_t>(HashAlgorithm::kSha2_512);
  return true;
}

StatusOr<ParsedAlgorithm> ParsePssParams(Bytes params) {
  const auto bad = [](const char* what) {
    return InvalidArgumentError(std::string("IKE auth: RSASSA-PSS parameters: ") + what);
  };
  DerTlv seq, t;
  if (!ReadDerIf(params, internal::kDerSequence, &seq) || !params.empty()) return bad("not a single SEQUENCE");
  Bytes p = seq.content;
  uint16_t hash = static_cast<uint16_t>(HashAlgorithm::kSha1);  // DEFAULT sha1
  uint16_t mgf_hash = static_cast<uint16_t>(HashAlgorithm::kSha1);
  uint32_t salt = 20;
  if (ReadDerIf(p, internal::kDerContext0 + 0, &t)) {
    if (!ParseHashAlgorithmIdentifier(t.content, &hash)) return bad("malformed hashAlgorithm");
  }
  if (ReadDerIf(p, internal::kDerContext0 + 1, &t)) {
    Bytes c = t.content;
    DerTlv mgf, oid;
    if (!ReadDerIf(c, internal::kDerSequence, &mgf) || !c.empty()) return bad("malformed maskGenAlgorithm");
    Bytes m = mgf.content;
    if (!ReadDerIf(m, internal::kDerOid, &oid)) return bad("malformed maskGenAlgorithm");
    if (!Same(oid.content, B(kOidMgf1))) {
      return AuthFailure(StatusCode::kUnimplemented, "RSASSA-PSS mask generation other than MGF1");
    }
    if (!ParseHashAlgorithmIdentifier(m, &mgf_hash)) return bad("malformed MGF1 hash");
  }
  if (ReadDerIf(p, internal::kDerContext0 + 2, &t)) {
    Bytes c = t.content;
    DerTlv i;
    if (!ReadDerIf(c, internal::kDerInteger, &i) || !c.empty() || !internal::DerSmallUint(i.content, &salt)) {
      return bad("malformed saltLength");
    }
  }
  if (ReadDerIf(p, internal::kDerContext0 + 3, &t)) {
    Bytes c = t.content;
    DerTlv i;
    uint32_t trailer = 0;
    if (!ReadDerIf(c, internal::kDerInteger, &i) || !c.empty() || !internal::DerSmallUint(i.content, &trailer) ||
        trailer != 1) {
      return bad("trailerField other than 1");
    }
  }
  if (!p.empty()) return bad("unexpected field");
  if (hash == static_cast<uint16_t>(HashAlgorithm::kSha1)) {
    return AuthFailure(StatusCode::kUnimplemented, "RSASSA-PSS with SHA-1 is not accepted");
  }
  if (hash == 0) return AuthFailure(StatusCode::kUnimplemented, "RSASSA-PSS with an unsupported hash");
  if (mgf_hash != hash) return AuthFailure(StatusCode::kUnimplemented, "RSASSA-PSS with an MGF1 hash unlike the hash");
  if (salt > 1024) return bad("saltLength above 1024");
  ParsedAlgorithm out{SignatureScheme::kRsaPssSha256, salt};
  if (hash == static_cast<uint16_t>(HashAlgorithm::kSha2_384)) out.scheme = SignatureScheme::kRsaPssSha384;
  if (hash == static_cast<uint16_t>(HashAlgorithm::kSha2_512)) out.scheme = SignatureScheme::kRsaPssSha512;
  return out;
}

const HashAlgorithm kRsaHashPreference[] = {HashAlgorithm::kSha2_256, HashAlgorithm::kSha2_384,
                                            HashAlgorithm::kSha2_512};
const HashAlgorithm kP256HashPreference[] = {HashAlgorithm::kSha2_256, HashAlgorithm::kSha2_384,
                                             HashAlgorithm::kSha2_512};
const HashAlgorithm kP384HashPreference[] = {HashAlgorithm::kSha2_384, HashAlgorithm::kSha2_512,
                                             HashAlgorithm::kSha2_256};
const HashAlgorithm kP521HashPreference[] = {HashAlgorithm::kSha2_512, HashAlgorithm::kSha2_384,
                                             HashAlgorithm::kSha2_256};

bool Contains(std::span<const HashAlgorithm> list, HashAlgorithm h) {
  return std::find(list.begin(), list.end(), h) != list.end();
}

SignatureScheme SchemeFor(Family f, HashAlgorithm h) {
  for (const SchemeInfo& i : kSchemes) {
    if (i.family == f && i.hash == h) return i.scheme;
  }
  return SignatureScheme::kEcdsaSha256;  // unreachable for the preferences above
}

}  // namespace

std::string_view SignatureSchemeName(SignatureScheme s) {
  return Info(s).name;
}
HashAlgorithm SignatureSchemeHash(SignatureScheme s) {
  return Info(s).hash;
}

NotifyPayload BuildSignatureHashAlgorithmsNotify(std::span<const HashAlgorithm> hashes) {
  return NotifyPayload::Make(NotifyType::kSignatureHashAlgorithms,
                             BuildSignatureHashAlgorithms(std::vector<HashAlgorithm>(hashes.begin(), hashes.end())));
}

StatusOr<std::vector<HashAlgorithm>> ParsePeerSignatureHashes(Bytes notify_data) {
  ASSIGN_OR_RETURN(std::vector<HashAlgorithm> all, ParseSignatureHashAlgorithms(notify_data));
  std::vector<HashAlgorithm> out;
  for (HashAlgorithm h : all) {
    if (Contains(kSupportedSignatureHashes, h) && !Contains(out, h)) out.push_back(h);
  }
  return out;
}

std::vector<std::byte> AlgorithmIdentifierDer(SignatureScheme s) {
  const SchemeInfo& info = Info(s);
  std::vector<std::byte> body;
  AppendTlv(body, internal::kDerOid, info.oid);
  switch (info.family) {
    case Family::kRsaPkcs1:
      AppendTlv(body, internal::kDerNull, {});
      break;
    case Family::kRsaPss: {
      // RSASSA-PSS-params { [0] hash, [1] MGF1(hash), [2] saltLength = hash size }
      std::vector<std::byte> params, t;
      const std::vector<std::byte> hash_id = HashAlgorithmIdentifier(info.hash);
      AppendTlv(params, internal::kDerContext0 + 0, hash_id);
      std::vector<std::byte> mgf;
      AppendTlv(mgf, internal::kDerOid, B(kOidMgf1));
      mgf.insert(mgf.end(), hash_id.begin(), hash_id.end());
      AppendTlv(t, internal::kDerSequence, mgf);
      AppendTlv(params, internal::kDerContext0 + 1, t);
      t.clear();
      const std::byte salt{static_cast<uint8_t>(info.hash_size)};
      AppendTlv(t, internal::kDerInteger, Bytes(&salt, 1));
      AppendTlv(params, internal::kDerContext0 + 2, t);
      AppendTlv(body, internal::kDerSequence, params);
      break;
    }
    case Family::kEcdsa:
    case Family::kEd25519:
      break;  // parameters absent (RFC 5758 §3.2, RFC 8410 §3)
  }
  std::vector<std::byte> out;
  AppendTlv(out, internal::kDerSequence, body);
  return out;
}

StatusOr<ParsedAlgorithm> ParseAlgorithmIdentifier(Bytes der) {
  DerTlv seq, oid;
  Bytes in = der;
  if (!ReadDerIf(in, internal::kDerSequence, &seq) || !in.empty()) {
    return InvalidArgumentError("IKE auth: AlgorithmIdentifier is not a single DER SEQUENCE");
  }
  Bytes body = seq.content;
  if (!ReadDerIf(body, internal::kDerOid, &oid)) {
    return InvalidArgumentError("IKE auth: AlgorithmIdentifier without an OID");
  }
  if (Same(oid.content, B(kOidRsaPss))) return ParsePssParams(body);
  if (Same(oid.content, B(kOidSha1WithRsa))) {
    return AuthFailure(StatusCode::kUnimplemented, "sha1WithRSAEncryption is not accepted with method 14");
  }
  for (const SchemeInfo& i : kSchemes) {
    if (i.family == Family::kRsaPss || !Same(oid.content, i.oid)) continue;
    if (i.family == Family::kRsaPkcs1) {
      // NULL parameters (RFC 4055 §5); absent tolerated.
      DerTlv null;
      if (!body.empty() && (!ReadDerIf(body, internal::kDerNull, &null) || !null.content.empty() || !body.empty())) {
        return InvalidArgumentError("IKE auth: " + std::string(i.name) + " with parameters other than NULL");
      }
    } else if (!body.empty()) {
      return InvalidArgumentError("IKE auth: " + std::string(i.name) + " AlgorithmIdentifier with parameters");
    }
    return ParsedAlgorithm{i.scheme, 0};
  }
  return AuthFailure(StatusCode::kUnimplemented, "unsupported signature algorithm OID in AUTH");
}

StatusOr<SignatureChoice> ChooseSignature(const PrivateKey& key, std::span<const HashAlgorithm> peer_hashes,
                                          const SignOptions& options) {
  const KeyType type = key.type();
  std::span<const HashAlgorithm> prefs;
  Family family = Family::kEcdsa;
  switch (type) {
    case KeyType::kRsa:
      prefs = kRsaHashPreference;
      family = (options.rsa_pss || key.public_key().pss_only()) ? Family::kRsaPss : Family::kRsaPkcs1;
      break;
    case KeyType::kEcP256:
      prefs = kP256HashPreference;
      break;
    case KeyType::kEcP384:
      prefs = kP384HashPreference;
      break;
    case KeyType::kEcP521:
      prefs = kP521HashPreference;
      break;
    case KeyType::kEd25519:
      if (Contains(peer_hashes, HashAlgorithm::kIdentity)) {
        return SignatureChoice{AuthMethod::kDigitalSignature, SignatureScheme::kEd25519};
      }
      return FailedPreconditionError(
          "IKE auth: Ed25519 needs method 14 with the Identity hash, not announced by the peer");
  }
  for (HashAlgorithm h : prefs) {
    if (Contains(peer_hashes, h)) return SignatureChoice{AuthMethod::kDigitalSignature, SchemeFor(family, h)};
  }
  if (!options.allow_classic) {
    return FailedPreconditionError("IKE auth: the peer announced no hash usable with a " +
                                   std::string(KeyTypeName(type)) + " key and classic methods are disabled");
  }
  if (type == KeyType::kRsa) {
    if (key.public_key().pss_only()) {
      return FailedPreconditionError("IKE auth: an RSASSA-PSS key needs method 14 and the peer announced no SHA-2");
    }
    return SignatureChoice{AuthMethod::kRsaSignature, SignatureScheme::kRsaPkcs1Sha1};
  }
  SignatureChoice c{AuthMethod::kEcdsaSha256P256, SignatureScheme::kEcdsaSha256};
  ClassicEcMethod(type, &c.method, &c.scheme);
  return c;
}

StatusOr<std::vector<std::byte>> SignAuth(const PrivateKey& key, const SignatureChoice& choice, Bytes signed_octets) {
  RETURN_IF_ERROR(CheckKeyFits(key.public_key(), choice.method, choice.scheme, StatusCode::kInvalidArgument));
  const SchemeInfo& info = Info(choice.scheme);
  ASSIGN_OR_RETURN(std::vector<std::byte> sig, EvpSign(key.native(), info, info.hash_size, signed_octets));
  switch (choice.method) {
    case AuthMethod::kDigitalSignature:
      return BuildSignatureAuthData({AlgorithmIdentifierDer(choice.scheme), std::move(sig)});
    case AuthMethod::kEcdsaSha256P256:
    case AuthMethod::kEcdsaSha384P384:
    case AuthMethod::kEcdsaSha512P521:
      return EcdsaDerToRaw(sig, EcFieldSize(key.type()));
    default:
      return sig;  // method 1: the raw PKCS#1 v1.5 signature
  }
}

Status VerifyAuth(const PublicKey& peer_key, AuthMethod method, Bytes auth_data, Bytes signed_octets,
                  std::span<const HashAlgorithm> announced, const VerifyOptions& options) {
  switch (method) {
    case AuthMethod::kDigitalSignature: {
      auto parsed = ParseSignatureAuthData(auth_data);
      if (!parsed.ok()) return InvalidArgumentError("IKE auth: " + parsed.status().message());
      ASSIGN_OR_RETURN(ParsedAlgorithm alg, ParseAlgorithmIdentifier(parsed->algorithm_identifier));
      const SchemeInfo& info = Info(alg.scheme);
      if (!Contains(announced, info.hash)) {
        return FailedPreconditionError("IKE auth: the peer signed with " + std::string(info.name) +
                                       ", a hash we did not announce");
      }
      if (info.family == Family::kRsaPkcs1 && !options.accept_rsa_pkcs1) {
        return FailedPreconditionError("IKE auth: RSA PKCS#1 v1.5 signatures are disabled (PSS only)");
      }
      RETURN_IF_ERROR(CheckKeyFits(peer_key, method, alg.scheme, StatusCode::kFailedPrecondition));
      return EvpVerify(peer_key.native(), info, alg.pss_salt_length, signed_octets, parsed->signature);
    }
    case AuthMethod::kRsaSignature: {
      if (!options.accept_rsa_sha1_classic) {
        return FailedPreconditionError("IKE auth: AUTH method 1 (RSA with SHA-1) is disabled");
      }
      RETURN_IF_ERROR(CheckKeyFits(peer_key, method, SignatureScheme::kRsaPkcs1Sha1, StatusCode::kFailedPrecondition));
      if (auth_data.empty()) return InvalidArgumentError("IKE auth: empty RSA signature");
      return EvpVerify(peer_key.native(), Info(SignatureScheme::kRsaPkcs1Sha1), 0, signed_octets, auth_data);
    }
    case AuthMethod::kEcdsaSha256P256:
    case AuthMethod::kEcdsaSha384P384:
    case AuthMethod::kEcdsaSha512P521: {
      const SignatureScheme scheme = method == AuthMethod::kEcdsaSha256P256   ? SignatureScheme::kEcdsaSha256
                                     : method == AuthMethod::kEcdsaSha384P384 ? SignatureScheme::kEcdsaSha384
                                                                              : SignatureScheme::kEcdsaSha512;
      RETURN_IF_ERROR(CheckKeyFits(peer_key, method, scheme, StatusCode::kFailedPrecondition));
      ASSIGN_OR_RETURN(std::vector<std::byte> der, EcdsaRawToDer(auth_data, EcFieldSize(peer_key.type())));
      return EvpVerify(peer_key.native(), Info(scheme), 0, signed_octets, der);
    }
    default:
      return FailedPreconditionError("IKE auth: " + MethodText(method) + " is not a supported signature method");
  }
}

StatusOr<std::vector<std::byte>> EcdsaDerToRaw(Bytes der, size_t field_size) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  if (field_size == 0 || der.empty() || der.size() > 1024) return InvalidArgumentError("IKE auth: bad ECDSA signature");
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (sig == nullptr) return AuthFailure(StatusCode::kInvalidArgument, "ECDSA signature is not DER");
  std::vector<std::byte> out(2 * field_size);
  const BIGNUM* r = ECDSA_SIG_get0_r(sig);
  const BIGNUM* s = ECDSA_SIG_get0_s(sig);
  const int fs = static_cast<int>(field_size);
  const bool ok = BN_bn2binpad(r, reinterpret_cast<unsigned char*>(out.data()), fs) == fs &&
                  BN_bn2binpad(s, reinterpret_cast<unsigned char*>(out.data()) + field_size, fs) == fs;
  ECDSA_SIG_free(sig);
  if (!ok) return AuthFailure(StatusCode::kInvalidArgument, "ECDSA r or s wider than the field");
  return out;
}

StatusOr<std::vector<std::byte>> EcdsaRawToDer(Bytes raw, size_t field_size) {
  if (field_size == 0 || raw.size() != 2 * field_size) {
    return InvalidArgumentError("IKE auth: ECDSA signature of " + std::to_string(raw.size()) +
                                " bytes (RFC 4754 wants " + std::to_string(2 * field_size) + ")");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  const int fs = static_cast<int>(field_size);
  BIGNUM* r = BN_bin2bn(p, fs, nullptr);
  BIGNUM* s = BN_bin2bn(p + field_size, fs, nullptr);
  ECDSA_SIG* sig = ECDSA_SIG_new();
  if (r == nullptr || s == nullptr || sig == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return AuthFailure(StatusCode::kInternal, "cannot build ECDSA-Sig-Value");
  }
  unsigned char* der = nullptr;
  const int n = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (n <= 0) return AuthFailure(StatusCode::kInternal, "i2d_ECDSA_SIG failed");
  std::vector<std::byte> out(reinterpret_cast<std::byte*>(der), reinterpret_cast<std::byte*>(der) + n);
  OPENSSL_free(der);
  return out;
}

}  // namespace ipsec::ike
