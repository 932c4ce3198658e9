// PrivateKey / PublicKey over EVP_PKEY.
#include "host/ike/auth/keys.h"

#include "host/common/file_io.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstring>

#include "host/common/secure_bytes.h"
#include "host/ike/auth/ossl_auth_util.h"

namespace ipsec::ike {
namespace {

using internal::AuthFailure;

// Never prompts for a passphrase (the default callback would read the terminal).
int NoPassword(char*, int, int, void*) {
  return 0;
}

std::shared_ptr<EVP_PKEY> Share(EVP_PKEY* p) {
  return std::shared_ptr<EVP_PKEY>(p, EVP_PKEY_free);
}

StatusOr<PublicKey> FromOwned(EVP_PKEY* p, const char* what) {
  if (p == nullptr) return AuthFailure(StatusCode::kInvalidArgument, std::string(what) + " does not parse");
  auto pub = PublicKey::FromEvpPkey(p);
  EVP_PKEY_free(p);  // FromEvpPkey took its own reference
  return pub;
}

}  // namespace

std::string_view KeyTypeName(KeyType t) {
  switch (t) {
    case KeyType::kRsa:
      return "RSA";
    case KeyType::kEcP256:
      return "ECDSA P-256";
    case KeyType::kEcP384:
      return "ECDSA P-384";
    case KeyType::kEcP521:
      return "ECDSA P-521";
    case KeyType::kEd25519:
      return "Ed25519";
  }
  return "UNKNOWN";
}

StatusOr<PublicKey> PublicKey::FromEvpPkey(EVP_PKEY* pkey) {
  if (pkey == nullptr) return InvalidArgumentError("IKE auth: no key");
  KeyType type;
  bool pss_only = false;
  switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA:
      type = KeyType::kRsa;
      break;
    case EVP_PKEY_RSA_PSS:
      type = KeyType::kRsa;
      pss_only = true;
      break;
    case EVP_PKEY_ED25519:
      type = KeyType::kEd25519;
      break;
    case EVP_PKEY_EC: {
      char group[64] = {};
      size_t len = 0;
      if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &len) != 1) {
        return AuthFailure(StatusCode::kUnimplemented, "EC key without a named curve");
      }
      const std::string_view g(group, len);
      if (g == "prime256v1" || g == "P-256" || g == "secp256r1") {
        type = KeyType::kEcP256;
      } else if (g == "secp384r1" || g == "P-384") {
        type = KeyType::kEcP384;
      } else if (g == "secp521r1" || g == "P-521") {
        type = KeyType::kEcP521;
      } else {
        return AuthFailure(StatusCode::kUnimplemented, "EC curve " + std::string(g) + " is not supported");
      }
      break;
    }
    default:
      return AuthFailure(StatusCode::kUnimplemented, "key type is not supported (RSA, ECDSA, Ed25519 are)");
  }
  if (EVP_PKEY_up_ref(pkey) != 1) return AuthFailure(StatusCode::kInternal, "EVP_PKEY_up_ref failed");
  return PublicKey(Share(pkey), type, pss_only);
}

StatusOr<PublicKey> PublicKey::FromSpkiDer(Bytes der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  const auto* const end = p + der.size();
  if (der.empty() || der.size() > static_cast<size_t>(INT32_MAX)) {
    return InvalidArgumentError("IKE auth: empty or oversized SubjectPublicKeyInfo");
  }
  EVP_PKEY* pkey = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (pkey != nullptr && p != end) {
    EVP_PKEY_free(pkey);
    return AuthFailure(StatusCode::kInvalidArgument, "SubjectPublicKeyInfo has trailing bytes");
  }
  return FromOwned(pkey, "SubjectPublicKeyInfo");
}

int PublicKey::bits() const {
  return EVP_PKEY_get_bits(pkey_.get());
}

std::vector<std::byte> PublicKey::SpkiDer() const {
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(pkey_.get(), &der);
  if (n <= 0) {
    ERR_clear_error();
    return {};
  }
  std::vector<std::byte> out(reinterpret_cast<std::byte*>(der), reinterpret_cast<std::byte*>(der) + n);
  OPENSSL_free(der);
  return out;
}

StatusOr<PrivateKey> PrivateKey::FromEvpPkey(EVP_PKEY* pkey) {
  ASSIGN_OR_RETURN(PublicKey pub, PublicKey::FromEvpPkey(pkey));
  // The public half shares the EVP_PKEY; it is only used for public operations.
  if (EVP_PKEY_up_ref(pkey) != 1) return AuthFailure(StatusCode::kInternal, "EVP_PKEY_up_ref failed");
  return PrivateKey(Share(pkey), std::move(pub));
}

StatusOr<PrivateKey> PrivateKey::FromPem(Bytes pem) {
  if (pem.empty() || pem.size() > static_cast<size_t>(INT32_MAX)) return InvalidArgumentError("IKE auth: empty PEM");
  internal::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return AuthFailure(StatusCode::kInternal, "BIO_new_mem_buf failed");
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassword, nullptr);
  if (pkey == nullptr) {
    return AuthFailure(StatusCode::kInvalidArgument,
                       "PEM private key does not parse (encrypted keys are not supported)");
  }
  auto key = FromEvpPkey(pkey);
  EVP_PKEY_free(pkey);
  return key;
}

StatusOr<PrivateKey> PrivateKey::FromDer(Bytes der) {
  if (der.empty() || der.size() > static_cast<size_t>(INT32_MAX))
    return InvalidArgumentError("IKE auth: empty DER key");
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EVP_PKEY* pkey = d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size()));
  if (pkey == nullptr) return AuthFailure(StatusCode::kInvalidArgument, "DER private key does not parse");
  auto key = FromEvpPkey(pkey);
  EVP_PKEY_free(pkey);
  return key;
}

StatusOr<PrivateKey> PrivateKey::FromFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::vector<std::byte> data, internal::ReadFileBytes(path));
  SecureBytes secret(data);  // wiped on return
  SecureZero(data.data(), data.size());
  auto key = internal::LooksLikePem(secret.span()) ? FromPem(secret.span()) : FromDer(secret.span());
  if (!key.ok()) return Status(key.status().code(), key.status().message() + " (" + path + ")");
  return key;
}

namespace internal {

StatusOr<std::vector<std::byte>> ReadFileBytes(const std::string& path) {
  std::string raw;
  Status st = ReadSmallFile(path, size_t{1} << 20, &raw);
  if (!st.ok()) {
    SecureZero(raw.data(), raw.size());
    return Status(st.code(), "IKE auth: " + st.message());
  }
  std::vector<std::byte> out(raw.size());
  if (!raw.empty()) std::memcpy(out.data(), raw.data(), raw.size());
  SecureZero(raw.data(), raw.size());
  return out;
}

bool LooksLikePem(Bytes data) {
  static constexpr std::string_view kBegin = "-----BEGIN";
  const std::string_view s(reinterpret_cast<const char*>(data.data()), data.size());
  return s.find(kBegin) != std::string_view::npos;
}

}  // namespace internal
}  // namespace ipsec::ike
