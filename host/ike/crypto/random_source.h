// RandomSource: the injected source of IVs (and any other public randomness) for the IKE crypto layer.
//
// The SK layer never calls a global RNG directly, so tests and fuzz targets can make every byte of an
// encrypted message reproducible. Private keys are not drawn from here: OpenSSL generates them
// inside its own key objects (key_exchange.h), which keeps them out of our memory altogether.
//
// Thread safety: an instance may be used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>

#include "host/common/bytes.h"
#include "host/common/status.h"

namespace ipsec::ike {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Fills `out` entirely. Errors: kInternal when the underlying generator fails (then `out` must not
  // be used).
  [[nodiscard]] virtual Status Fill(MutableBytes out) = 0;
};

// OpenSSL's RAND_bytes (the default DRBG, reseeded from the OS).
std::unique_ptr<RandomSource> CreateSystemRandomSource();

// Deterministic bytes derived from `seed` (a SHA-256 counter stream): the same seed always gives the
// same sequence. Only for tests and fuzz targets; never for real IVs.
std::unique_ptr<RandomSource> CreateDeterministicRandomSourceForTest(uint64_t seed);

}  // namespace ipsec::ike
