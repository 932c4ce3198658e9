// Prf: the IKEv2 pseudorandom function PRF_HMAC_SHA2_256/384/512 (RFC 4868 §2.1) and prf+
// (RFC 7296 §2.13).
//
//   prf(K, S)    HMAC-SHA-2 with the full, untruncated output (32/48/64 bytes). K may have any
//                length (HMAC hashes long keys and zero-pads short ones, RFC 2104 §2), which is what
//                SKEYSEED = prf(Ni | Nr, g^ir) needs.
//   prf+(K, S)   T1 | T2 | ... with T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n); the counter
//                is one octet, so at most 255 blocks can be produced (§2.13), i.e. 255 * output size.
// Every output is SecureBytes. Nothing here logs.
//
// Thread safety: a Prf is an immutable value; concurrent calls are safe.
#pragma once

#include <cstddef>
#include <span>

#include "host/common/bytes.h"
#include "host/common/secure_bytes.h"
#include "host/common/status.h"
#include "host/ike/encoding/ike_constants.h"

namespace ipsec::ike {

inline constexpr size_t kPrfPlusMaxBlocks = 255;

class Prf {
 public:
  // Errors: kUnimplemented for a PRF other than PRF_HMAC_SHA2_256/384/512.
  [[nodiscard]] static StatusOr<Prf> Create(PrfId id);

  PrfId id() const { return id_; }
  // Output size of prf(), which is also the preferred key length for SK_d, SK_pi, SK_pr (RFC 7296
  // §2.14, RFC 4868 §2.1.2).
  size_t output_size() const { return output_size_; }
  size_t key_size() const { return output_size_; }

  // prf(key, data[0] | data[1] | ...). Errors: kInternal (OpenSSL failure).
  [[nodiscard]] StatusOr<SecureBytes> Compute(Bytes key, std::span<const Bytes> data) const;
  [[nodiscard]] StatusOr<SecureBytes> Compute(Bytes key, Bytes data) const { return Compute(key, {&data, 1}); }

  // prf+(key, seed) truncated to `length` bytes. Errors: kInvalidArgument when `length` exceeds
  // 255 * output_size(); kInternal.
  [[nodiscard]] StatusOr<SecureBytes> PrfPlus(Bytes key, Bytes seed, size_t length) const;

 private:
  Prf(PrfId id, const char* digest, size_t output_size) : id_(id), digest_(digest), output_size_(output_size) {}

  PrfId id_;
  const char* digest_;  // OpenSSL digest name
  size_t output_size_;
};

}  // namespace ipsec::ike
