// Prf: HMAC-SHA-2 through EVP_MAC, and prf+ (RFC 7296 §2.13).
#include "host/ike/crypto/prf.h"

#include <openssl/core_names.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

#include "host/ike/crypto/ossl_util.h"

namespace ipsec::ike {

using internal::MacCtxPtr;
using internal::MacPtr;
using internal::OsslFailure;

StatusOr<Prf> Prf::Create(PrfId id) {
  switch (id) {
    case PrfId::kHmacSha2_256:
      return Prf(id, "SHA256", 32);
    case PrfId::kHmacSha2_384:
      return Prf(id, "SHA384", 48);
    case PrfId::kHmacSha2_512:
      return Prf(id, "SHA512", 64);
    default:
      return UnimplementedError("IKE crypto: PRF transform " + std::to_string(static_cast<int>(id)) +
                                " is not supported");
  }
}

StatusOr<SecureBytes> Prf::Compute(Bytes key, std::span<const Bytes> data) const {
  MacPtr mac(EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr));
  if (!mac) return OsslFailure(StatusCode::kInternal, "HMAC unavailable");
  MacCtxPtr ctx(EVP_MAC_CTX_new(mac.get()));
  if (!ctx) return OsslFailure(StatusCode::kInternal, "HMAC context allocation failed");
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest_), 0),
      OSSL_PARAM_construct_end()};
  // HMAC zero-pads keys shorter than the block size (RFC 2104 §2), so an empty key is the same key
  // as one zero octet; OpenSSL refuses zero-length keys, so pass that instead.
  static constexpr unsigned char kZero = 0;
  const unsigned char* k = key.empty() ? &kZero : reinterpret_cast<const unsigned char*>(key.data());
  const size_t klen = key.empty() ? 1 : key.size();
  if (EVP_MAC_init(ctx.get(), k, klen, params) != 1) return OsslFailure(StatusCode::kInternal, "HMAC init failed");
  for (Bytes d : data) {
    if (!d.empty() && EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(d.data()), d.size()) != 1) {
      return OsslFailure(StatusCode::kInternal, "HMAC update failed");
    }
  }
  SecureBytes out(output_size_);
  size_t len = 0;
  if (EVP_MAC_final(ctx.get(), reinterpret_cast<unsigned char*>(out.mutable_span().data()), &len, out.size()) != 1 ||
      len != output_size_) {
    return OsslFailure(StatusCode::kInternal, "HMAC final failed");
  }
  return out;
}

StatusOr<SecureBytes> Prf::PrfPlus(Bytes key, Bytes seed, size_t length) const {
  if (length > kPrfPlusMaxBlocks * output_size_) {
    return InvalidArgumentError("IKE crypto: prf+ output of " + std::to_string(length) + " bytes exceeds 255 blocks");
  }
  SecureBytes out(length);
  SecureBytes previous;  // T(n-1), empty for n = 1
  size_t done = 0;
  for (size_t n = 1; done < length; ++n) {
    const std::byte counter{static_cast<uint8_t>(n)};
    const std::array<Bytes, 3> parts = {previous.span(), seed, Bytes(&counter, 1)};
    ASSIGN_OR_RETURN(SecureBytes t, Compute(key, parts));
    const size_t take = std::min(t.size(), length - done);
    std::memcpy(out.mutable_span().data() + done, t.span().data(), take);
    done += take;
    previous = std::move(t);
  }
  return out;
}

}  // namespace ipsec::ike
