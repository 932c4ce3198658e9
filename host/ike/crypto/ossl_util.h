// Private helpers for the IKE crypto sources: RAII owners for OpenSSL objects and error mapping.
// Not installed; not part of the library's API.
#pragma once

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <memory>
#include <string>

#include "host/common/status.h"

namespace ipsec::ike::internal {

template <auto F>
struct OsslDeleter {
  template <typename T>
  void operator()(T* p) const {
    F(p);
  }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, OsslDeleter<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OsslDeleter<EVP_PKEY_CTX_free>>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, OsslDeleter<EVP_CIPHER_CTX_free>>;
using BnPtr = std::unique_ptr<BIGNUM, OsslDeleter<BN_free>>;
using SecretBnPtr = std::unique_ptr<BIGNUM, OsslDeleter<BN_clear_free>>;
using BnCtxPtr = std::unique_ptr<BN_CTX, OsslDeleter<BN_CTX_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, OsslDeleter<OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, OsslDeleter<OSSL_PARAM_free>>;
using MacPtr = std::unique_ptr<EVP_MAC, OsslDeleter<EVP_MAC_free>>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, OsslDeleter<EVP_MAC_CTX_free>>;

// Drops OpenSSL's thread-local error queue (so a rejected peer value does not leave stale errors
// for an unrelated later caller) and returns a Status with `code` and `what`.
inline Status OsslFailure(StatusCode code, std::string what) {
  ERR_clear_error();
  return Status(code, "IKE crypto: " + std::move(what));
}

}  // namespace ipsec::ike::internal
