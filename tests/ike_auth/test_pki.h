// Test-time PKI for the IKE auth tests and fuzz seeds: key generation and X.509 certificates built
// with OpenSSL APIs (CA, intermediate, leaf; ECDSA P-256/P-384/P-521, RSA 2048, Ed25519), so no
// fixtures need to be checked in. Header-only; aborts on OpenSSL failure (test code).
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "host/ike/auth/certificate.h"
#include "host/ike/auth/keys.h"

namespace ipsec::ike::test_pki {

inline void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "test PKI: %s failed\n", what);
    std::abort();
  }
}

// A fresh private key of `type` (RSA is 2048 bits).
inline PrivateKey GenerateKey(KeyType type) {
  EVP_PKEY* p = nullptr;
  switch (type) {
    case KeyType::kRsa:
      p = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
      break;
    case KeyType::kEcP256:
      p = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case KeyType::kEcP384:
      p = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
      break;
    case KeyType::kEcP521:
      p = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521");
      break;
    case KeyType::kEd25519:
      p = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
  }
  Check(p != nullptr, "keygen");
  auto key = PrivateKey::FromEvpPkey(p);
  EVP_PKEY_free(p);
  Check(key.ok(), "PrivateKey::FromEvpPkey");
  return *key;
}

struct CertSpec {
  std::string cn;
  std::string org = "ipsec-accel test";
  bool ca = false;
  int path_len = -1;                  // CA only; -1 = no pathLenConstraint
  std::string san = {};               // X509V3 config syntax: "DNS:gw.example,IP:192.0.2.1,email:a@b"
  long not_before = -24 * 3600;       // seconds from now
  long not_after = 365L * 24 * 3600;  // seconds from now
  long serial = 1;
};

struct TestCert {
  Certificate cert;
  PrivateKey key;
};

inline void AddExt(X509* x, X509V3_CTX* ctx, int nid, const std::string& value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str());
  Check(ext != nullptr, "X509V3_EXT_conf_nid");
  Check(X509_add_ext(x, ext, -1) == 1, "X509_add_ext");
  X509_EXTENSION_free(ext);
}

// A certificate for `key` issued by `issuer` (self-signed when null), signed with SHA-256 (or
// pure Ed25519 when the issuer key is Ed25519).
inline TestCert MakeCert(const CertSpec& spec, const PrivateKey& key, const TestCert* issuer = nullptr) {
  X509* x = X509_new();
  Check(x != nullptr, "X509_new");
  Check(X509_set_version(x, 2) == 1, "X509_set_version");
  Check(ASN1_INTEGER_set(X509_get_serialNumber(x), spec.serial) == 1, "serial");
  Check(X509_gmtime_adj(X509_getm_notBefore(x), spec.not_before) != nullptr, "notBefore");
  Check(X509_gmtime_adj(X509_getm_notAfter(x), spec.not_after) != nullptr, "notAfter");
  Check(X509_set_pubkey(x, key.native()) == 1, "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(x);
  Check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(spec.org.c_str()),
                                   -1, -1, 0) == 1,
        "O");
  Check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(spec.cn.c_str()),
                                   -1, -1, 0) == 1,
        "CN");
  X509* issuer_x = issuer != nullptr ? issuer->cert.native() : x;
  Check(X509_set_issuer_name(x, X509_get_subject_name(issuer_x)) == 1, "issuer");
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer_x, x, nullptr, nullptr, 0);
  if (spec.ca) {
    std::string bc = "critical,CA:TRUE";
    if (spec.path_len >= 0) bc += ",pathlen:" + std::to_string(spec.path_len);
    AddExt(x, &ctx, NID_basic_constraints, bc);
    AddExt(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExt(x, &ctx, NID_basic_constraints, "critical,CA:FALSE");
    AddExt(x, &ctx, NID_key_usage, "critical,digitalSignature");
  }
  AddExt(x, &ctx, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) AddExt(x, &ctx, NID_authority_key_identifier, "keyid:always");
  if (!spec.san.empty()) AddExt(x, &ctx, NID_subject_alt_name, spec.san);
  const PrivateKey& signer = issuer != nullptr ? issuer->key : key;
  const EVP_MD* md = signer.type() == KeyType::kEd25519 ? nullptr : EVP_sha256();
  Check(X509_sign(x, signer.native(), md) > 0, "X509_sign");
  unsigned char* der = nullptr;
  const int n = i2d_X509(x, &der);
  Check(n > 0, "i2d_X509");
  auto cert = Certificate::FromDer(Bytes(reinterpret_cast<const std::byte*>(der), static_cast<size_t>(n)));
  OPENSSL_free(der);
  X509_free(x);
  Check(cert.ok(), "Certificate::FromDer");
  return TestCert{*cert, key};
}

// Root CA -> intermediate CA -> leaf, all with keys of `type`.
struct Chain {
  TestCert root, intermediate, leaf;
};
inline Chain MakeChain(KeyType type, const std::string& leaf_san = "DNS:gw.example.com") {
  TestCert root = MakeCert({.cn = "Test Root CA", .ca = true, .serial = 1}, GenerateKey(type));
  TestCert inter =
      MakeCert({.cn = "Test Intermediate CA", .ca = true, .path_len = 0, .serial = 2}, GenerateKey(type), &root);
  TestCert leaf = MakeCert({.cn = "gw.example.com", .san = leaf_san, .serial = 3}, GenerateKey(type), &inter);
  return Chain{root, inter, leaf};
}

}  // namespace ipsec::ike::test_pki
