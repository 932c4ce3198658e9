// Certificates, CERT/CERTREQ helpers, chain verification and identity matching.
#include "host/ike/auth/certificate.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <string_view>

#include "host/ike/auth/ossl_auth_util.h"

namespace ipsec::ike {
namespace {

using internal::AuthFailure;

int NoPassword(char*, int, int, void*) {
  return 0;
}

// i2d-style encoder output as bytes ({} on failure).
template <typename T, typename F>
std::vector<std::byte> ToDer(T* obj, F i2d) {
  unsigned char* der = nullptr;
  const int n = i2d(obj, &der);
  if (n <= 0) {
    ERR_clear_error();
    return {};
  }
  std::vector<std::byte> out(reinterpret_cast<std::byte*>(der), reinterpret_cast<std::byte*>(der) + n);
  OPENSSL_free(der);
  return out;
}

std::string_view AsText(Bytes b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::vector<std::byte> AsnBytes(const ASN1_STRING* s) {
  const auto* p = reinterpret_cast<const std::byte*>(ASN1_STRING_get0_data(s));
  return {p, p + ASN1_STRING_length(s)};
}

using NamePtr = internal::X509NamePtr;

// A DER Name that fills all of `der`, or null.
NamePtr ParseName(Bytes der) {
  if (der.empty() || der.size() > 65536) return nullptr;
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  NamePtr name(d2i_X509_NAME(nullptr, &p, static_cast<long>(der.size())));
  if (!name || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    ERR_clear_error();
    return nullptr;
  }
  return name;
}

bool NamesEqual(const X509_NAME* a, const X509_NAME* b) {
  if (X509_NAME_entry_count(a) == 0 || X509_NAME_entry_count(b) == 0) return false;
  const int r = X509_NAME_cmp(a, b);
  ERR_clear_error();
  return r == 0;
}

std::string NameText(const X509_NAME* name) {
  internal::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
    ERR_clear_error();
    return "?";
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

}  // namespace

StatusOr<Certificate> Certificate::FromX509(X509* x) {
  std::shared_ptr<X509> owned(x, X509_free);
  std::vector<std::byte> der = ToDer(x, i2d_X509);
  if (der.empty()) return AuthFailure(StatusCode::kInvalidArgument, "certificate does not re-encode");
  return Certificate(std::move(owned), std::make_shared<const std::vector<std::byte>>(std::move(der)));
}

StatusOr<Certificate> Certificate::FromDer(Bytes der) {
  if (der.empty() || der.size() > (1u << 20)) return InvalidArgumentError("IKE auth: empty or oversized certificate");
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (x == nullptr) return AuthFailure(StatusCode::kInvalidArgument, "certificate DER does not parse");
  std::shared_ptr<X509> owned(x, X509_free);
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return AuthFailure(StatusCode::kInvalidArgument, "certificate DER has trailing bytes");
  }
  return Certificate(std::move(owned), std::make_shared<const std::vector<std::byte>>(der.begin(), der.end()));
}

StatusOr<std::vector<Certificate>> Certificate::AllFromPem(Bytes pem) {
  if (pem.empty() || pem.size() > (1u << 24)) return InvalidArgumentError("IKE auth: empty or oversized PEM");
  internal::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return AuthFailure(StatusCode::kInternal, "BIO_new_mem_buf failed");
  std::vector<Certificate> out;
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, NoPassword, nullptr)) {
    ASSIGN_OR_RETURN(Certificate c, FromX509(x));
    out.push_back(std::move(c));
  }
  ERR_clear_error();  // the loop ends on "no start line"
  if (out.empty()) return InvalidArgumentError("IKE auth: no certificate in PEM");
  return out;
}

StatusOr<Certificate> Certificate::FromPem(Bytes pem) {
  ASSIGN_OR_RETURN(std::vector<Certificate> all, AllFromPem(pem));
  return std::move(all.front());
}

StatusOr<Certificate> Certificate::FromFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::vector<std::byte> data, internal::ReadFileBytes(path));
  auto cert = internal::LooksLikePem(data) ? FromPem(data) : FromDer(data);
  if (!cert.ok()) return Status(cert.status().code(), cert.status().message() + " (" + path + ")");
  return cert;
}

StatusOr<PublicKey> Certificate::GetPublicKey() const {
  EVP_PKEY* pk = X509_get0_pubkey(x509_.get());
  if (pk == nullptr) return AuthFailure(StatusCode::kInvalidArgument, "certificate public key does not parse");
  return PublicKey::FromEvpPkey(pk);
}

std::vector<std::byte> Certificate::SpkiDer() const {
  return ToDer(X509_get_X509_PUBKEY(x509_.get()), i2d_X509_PUBKEY);
}

std::vector<std::byte> Certificate::SpkiSha1() const {
  const std::vector<std::byte> spki = SpkiDer();
  std::vector<std::byte> out(kCertReqHashSize);
  unsigned int n = 0;
  if (spki.empty() ||
      EVP_Digest(spki.data(), spki.size(), reinterpret_cast<unsigned char*>(out.data()), &n, EVP_sha1(), nullptr) !=
          1 ||
      n != kCertReqHashSize) {
    ERR_clear_error();
    return {};
  }
  return out;
}

std::vector<std::byte> Certificate::SubjectDer() const {
  return ToDer(X509_get_subject_name(x509_.get()), i2d_X509_NAME);
}
std::vector<std::byte> Certificate::IssuerDer() const {
  return ToDer(X509_get_issuer_name(x509_.get()), i2d_X509_NAME);
}
std::string Certificate::SubjectText() const {
  return NameText(X509_get_subject_name(x509_.get()));
}

std::vector<SubjectAltName> Certificate::SubjectAltNames() const {
  std::vector<SubjectAltName> out;
  auto* gens = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x509_.get(), NID_subject_alt_name, nullptr, nullptr));
  if (gens == nullptr) {
    ERR_clear_error();
    return out;
  }
  for (int i = 0; i < sk_GENERAL_NAME_num(gens); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(gens, i);
    SubjectAltName san;
    switch (g->type) {
      case GEN_DNS:
        san.type = SubjectAltName::Type::kDns;
        san.value = AsnBytes(g->d.dNSName);
        break;
      case GEN_EMAIL:
        san.type = SubjectAltName::Type::kRfc822;
        san.value = AsnBytes(g->d.rfc822Name);
        break;
      case GEN_IPADD:
        san.type = SubjectAltName::Type::kIpAddress;
        san.value = AsnBytes(g->d.iPAddress);
        break;
      case GEN_URI:
        san.type = SubjectAltName::Type::kUri;
        san.value = AsnBytes(g->d.uniformResourceIdentifier);
        break;
      case GEN_DIRNAME:
        san.type = SubjectAltName::Type::kDirectoryName;
        san.value = ToDer(g->d.directoryName, i2d_X509_NAME);
        break;
      default:
        san.type = SubjectAltName::Type::kOther;
        break;
    }
    out.push_back(std::move(san));
  }
  GENERAL_NAMES_free(gens);
  return out;
}

TrustStore::TrustStore() = default;

Status TrustStore::AddCa(const Certificate& ca) {
  if (X509_check_ca(ca.native()) == 0) {
    ERR_clear_error();
    return InvalidArgumentError("IKE auth: " + ca.SubjectText() + " is not a CA certificate");
  }
  for (const Certificate& c : cas_) {
    if (c.der() == ca.der()) return AlreadyExistsError("IKE auth: CA " + ca.SubjectText() + " already added");
  }
  cas_.push_back(ca);
  return OkStatus();
}

std::vector<std::byte> TrustStore::CertReqAuthorities() const {
  std::vector<std::byte> out;
  for (const Certificate& c : cas_) {
    const std::vector<std::byte> h = c.SpkiSha1();
    out.insert(out.end(), h.begin(), h.end());
  }
  return out;
}

std::vector<Certificate> TrustStore::CasRequestedBy(const CertReqPayload& req) const {
  std::vector<Certificate> out;
  if (req.encoding != CertEncoding::kX509Signature) return out;
  const Bytes all(req.authorities);
  for (size_t off = 0; off + kCertReqHashSize <= all.size(); off += kCertReqHashSize) {
    const Bytes h = all.subspan(off, kCertReqHashSize);
    for (const Certificate& c : cas_) {
      const std::vector<std::byte> mine = c.SpkiSha1();
      if (mine.size() == h.size() && std::equal(mine.begin(), mine.end(), h.begin())) {
        const bool dup = std::any_of(out.begin(), out.end(), [&](const Certificate& o) { return o.der() == c.der(); });
        if (!dup) out.push_back(c);
      }
    }
  }
  return out;
}

Status TrustStore::VerifyChain(const Certificate& end_entity, std::span<const Certificate> intermediates,
                               const VerifyOptions& options) const {
  if (cas_.empty()) return FailedPreconditionError("IKE auth: no CA certificates configured");
  internal::X509StorePtr store(X509_STORE_new());
  if (!store) return AuthFailure(StatusCode::kInternal, "X509_STORE_new failed");
  for (const Certificate& c : cas_) {
    if (X509_STORE_add_cert(store.get(), c.native()) != 1) {
      return AuthFailure(StatusCode::kInternal, "X509_STORE_add_cert failed");
    }
  }
  struct StackFree {
    void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }  // the certificates stay owned by callers
  };
  using StackPtr = std::unique_ptr<STACK_OF(X509), StackFree>;
  StackPtr untrusted(sk_X509_new_null());
  if (!untrusted) return AuthFailure(StatusCode::kInternal, "sk_X509_new_null failed");
  for (const Certificate& c : intermediates) {
    if (sk_X509_push(untrusted.get(), c.native()) <= 0)
      return AuthFailure(StatusCode::kInternal, "sk_X509_push failed");
  }
  internal::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), end_entity.native(), untrusted.get()) != 1) {
    return AuthFailure(StatusCode::kInternal, "X509_STORE_CTX_init failed");
  }
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_ANY);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  if (options.at_time.has_value()) X509_VERIFY_PARAM_set_time(param, *options.at_time);
  if (X509_verify_cert(ctx.get()) == 1) {
    ERR_clear_error();
    return OkStatus();
  }
  const int err = X509_STORE_CTX_get_error(ctx.get());
  const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
  X509* bad = X509_STORE_CTX_get_current_cert(ctx.get());
  std::string what = std::string("certificate chain rejected: ") + X509_verify_cert_error_string(err) + " at depth " +
                     std::to_string(depth);
  if (bad != nullptr) what += " (" + NameText(X509_get_subject_name(bad)) + ")";
  return AuthFailure(StatusCode::kFailedPrecondition, std::move(what));
}

CertPayload BuildCertPayload(const Certificate& cert) {
  return CertPayload{CertEncoding::kX509Signature, cert.der()};
}

StatusOr<Certificate> ParseCertPayload(const CertPayload& payload) {
  if (payload.encoding != CertEncoding::kX509Signature) {
    return UnimplementedError("IKE auth: CERT encoding " + std::to_string(static_cast<int>(payload.encoding)) +
                              " is not supported (only 4, X.509 Certificate - Signature)");
  }
  return Certificate::FromDer(payload.data);
}

CertReqPayload BuildCertReqPayload(const TrustStore& store) {
  return CertReqPayload{CertEncoding::kX509Signature, store.CertReqAuthorities()};
}

bool CertMatchesIdentity(const Certificate& cert, IdType id_type, Bytes id_data) {
  if (id_data.empty()) return false;
  using T = SubjectAltName::Type;
  switch (id_type) {
    case IdType::kFqdn:
    case IdType::kRfc822Addr: {
      const std::string_view id = AsText(id_data);
      const T want = id_type == IdType::kFqdn ? T::kDns : T::kRfc822;
      for (const SubjectAltName& san : cert.SubjectAltNames()) {
        if (san.type != want) continue;
        const std::string_view v = AsText(san.value);
        if (want == T::kDns) {
          if (EqualsIgnoreCase(v, id)) return true;
          continue;
        }
        const size_t at_v = v.rfind('@'), at_id = id.rfind('@');
        if (at_v == std::string_view::npos || at_id == std::string_view::npos) {
          if (v == id) return true;
          continue;
        }
        if (v.substr(0, at_v) == id.substr(0, at_id) && EqualsIgnoreCase(v.substr(at_v), id.substr(at_id))) {
          return true;
        }
      }
      return false;
    }
    case IdType::kIpv4Addr:
    case IdType::kIpv6Addr: {
      const size_t want = id_type == IdType::kIpv4Addr ? 4 : 16;
      if (id_data.size() != want) return false;
      for (const SubjectAltName& san : cert.SubjectAltNames()) {
        if (san.type == T::kIpAddress && san.value.size() == want &&
            std::equal(san.value.begin(), san.value.end(), id_data.begin())) {
          return true;
        }
      }
      return false;
    }
    case IdType::kDerAsn1Dn: {
      NamePtr id = ParseName(id_data);
      if (!id) return false;
      if (NamesEqual(X509_get_subject_name(cert.native()), id.get())) return true;
      for (const SubjectAltName& san : cert.SubjectAltNames()) {
        if (san.type != T::kDirectoryName) continue;
        NamePtr dir = ParseName(san.value);
        if (dir && NamesEqual(dir.get(), id.get())) return true;
      }
      return false;
    }
    default:
      return false;
  }
}

}  // namespace ipsec::ike
