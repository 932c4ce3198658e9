// Private helpers for the IKE auth sources: RAII owners for OpenSSL X.509 objects and error
// mapping. Not installed; not part of the library's API.
#pragma once

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <memory>
#include <string>

#include "host/common/status.h"
#include "host/ike/crypto/ossl_util.h"

namespace ipsec::ike::internal {

using BioPtr = std::unique_ptr<BIO, OsslDeleter<BIO_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, OsslDeleter<EVP_MD_CTX_free>>;
using X509Ptr = std::unique_ptr<X509, OsslDeleter<X509_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, OsslDeleter<X509_NAME_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, OsslDeleter<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OsslDeleter<X509_STORE_CTX_free>>;

// Drops OpenSSL's thread-local error queue and returns a Status with `code` and `what`.
inline Status AuthFailure(StatusCode code, std::string what) {
  ERR_clear_error();
  return Status(code, "IKE auth: " + std::move(what));
}

}  // namespace ipsec::ike::internal
