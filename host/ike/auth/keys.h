// PrivateKey and PublicKey: the signing and verification keys of IKEv2 signature authentication,
// held as OpenSSL EVP_PKEY objects.
//
// Supported key types: RSA (any size OpenSSL accepts; RSA-PSS-restricted keys count as RSA and can
// only do PSS), EC on P-256, P-384 and P-521, and Ed25519. Other types are refused when loaded.
//
// Key handling: a private key lives only inside its EVP_PKEY (OpenSSL wipes it on free). It is
// loaded from PEM or DER (PKCS#8 or the traditional RSA/EC forms; encrypted PEM is not supported)
// and never exported again; nothing here prints or logs key bytes, and error texts carry only
// types, sizes and paths. Both classes are cheap to copy (a shared reference) and immutable, so
// concurrent use from several threads is safe.
#pragma once

#include <openssl/types.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "host/common/bytes.h"
#include "host/common/status.h"

namespace ipsec::ike {

enum class KeyType : uint8_t { kRsa, kEcP256, kEcP384, kEcP521, kEd25519 };

// "RSA", "ECDSA P-256", ... for logs.
std::string_view KeyTypeName(KeyType t);

class PublicKey {
 public:
  // A DER SubjectPublicKeyInfo. Errors: kInvalidArgument (not a key, or trailing bytes);
  // kUnimplemented (a key type or curve we do not support).
  [[nodiscard]] static StatusOr<PublicKey> FromSpkiDer(Bytes der);
  // Takes a reference to `pkey` (the caller keeps its own). Errors as FromSpkiDer.
  [[nodiscard]] static StatusOr<PublicKey> FromEvpPkey(EVP_PKEY* pkey);

  KeyType type() const { return type_; }
  // Modulus bits for RSA, the curve's bits for EC, 256 for Ed25519.
  int bits() const;
  // True for an RSA key whose SPKI restricts it to RSASSA-PSS (id-RSASSA-PSS).
  bool pss_only() const { return pss_only_; }
  // The DER SubjectPublicKeyInfo.
  std::vector<std::byte> SpkiDer() const;
  EVP_PKEY* native() const { return pkey_.get(); }

 private:
  PublicKey(std::shared_ptr<EVP_PKEY> pkey, KeyType type, bool pss_only)
      : pkey_(std::move(pkey)), type_(type), pss_only_(pss_only) {}
  std::shared_ptr<EVP_PKEY> pkey_;
  KeyType type_;
  bool pss_only_;
};

class PrivateKey {
 public:
  // PEM ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"). Errors: kInvalidArgument;
  // kUnimplemented for an unsupported key type.
  [[nodiscard]] static StatusOr<PrivateKey> FromPem(Bytes pem);
  // DER PKCS#8 PrivateKeyInfo or a traditional RSAPrivateKey / ECPrivateKey. Errors as FromPem.
  [[nodiscard]] static StatusOr<PrivateKey> FromDer(Bytes der);
  // PEM or DER, detected from the content. Errors: kNotFound (cannot read the file); as above.
  [[nodiscard]] static StatusOr<PrivateKey> FromFile(const std::string& path);
  // Takes a reference to `pkey`, which must hold a private key. Errors as FromPem.
  [[nodiscard]] static StatusOr<PrivateKey> FromEvpPkey(EVP_PKEY* pkey);

  KeyType type() const { return public_key_.type(); }
  int bits() const { return public_key_.bits(); }
  const PublicKey& public_key() const { return public_key_; }
  EVP_PKEY* native() const { return pkey_.get(); }

 private:
  PrivateKey(std::shared_ptr<EVP_PKEY> pkey, PublicKey pub) : pkey_(std::move(pkey)), public_key_(std::move(pub)) {}
  std::shared_ptr<EVP_PKEY> pkey_;
  PublicKey public_key_;
};

namespace internal {
// Reads a whole file (for PrivateKey::FromFile, Certificate::FromFile). Errors: kNotFound.
StatusOr<std::vector<std::byte>> ReadFileBytes(const std::string& path);
// Whether `data` looks like PEM ("-----BEGIN").
bool LooksLikePem(Bytes data);
}  // namespace internal

}  // namespace ipsec::ike
