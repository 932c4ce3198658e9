// Factories for the OpenSSL provider (internal to host/crypto; use the Create() functions).
#pragma once
#include "host/crypto/primitives.h"

namespace ipsec::crypto {
StatusOr<std::unique_ptr<Aead>> MakeOpenSslAead(Aead::Algorithm alg, Bytes key);
StatusOr<std::unique_ptr<HmacSha256>> MakeOpenSslHmacSha256(Bytes key);
StatusOr<std::unique_ptr<AesCbc>> MakeOpenSslAesCbc(Bytes key);
StatusOr<std::unique_ptr<CbcHmacSha256>> MakeOpenSslCbcHmac(Bytes cipher_key, Bytes mac_key);
}  // namespace ipsec::crypto
