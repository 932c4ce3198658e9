// System (RAND_bytes) and deterministic (test) RandomSource implementations.
#include "host/ike/crypto/random_source.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <climits>

namespace ipsec::ike {
namespace {

class SystemRandomSource final : public RandomSource {
 public:
  Status Fill(MutableBytes out) override {
    while (!out.empty()) {
      const size_t n = std::min<size_t>(out.size(), INT_MAX);
      if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
        return InternalError("IKE crypto: RAND_bytes failed");
      }
      out = out.subspan(n);
    }
    return OkStatus();
  }
};

// Block i of the stream is SHA-256(seed || i), both big-endian 64-bit.
class DeterministicRandomSource final : public RandomSource {
 public:
  explicit DeterministicRandomSource(uint64_t seed) : seed_(seed) {}

  Status Fill(MutableBytes out) override {
    for (std::byte& b : out) {
      if (pos_ == block_.size()) {
        RETURN_IF_ERROR(NextBlock());
      }
      b = std::byte{block_[pos_++]};
    }
    return OkStatus();
  }

 private:
  Status NextBlock() {
    std::array<std::byte, 16> in;
    StoreU64Be(in.data(), seed_);
    StoreU64Be(in.data() + 8, counter_++);
    unsigned int len = 0;
    if (EVP_Digest(in.data(), in.size(), block_.data(), &len, EVP_sha256(), nullptr) != 1 || len != block_.size()) {
      return InternalError("IKE crypto: SHA-256 failed");
    }
    pos_ = 0;
    return OkStatus();
  }

  uint64_t seed_;
  uint64_t counter_ = 0;
  std::array<unsigned char, 32> block_{};
  size_t pos_ = 32;
};

}  // namespace

std::unique_ptr<RandomSource> CreateSystemRandomSource() { return std::make_unique<SystemRandomSource>(); }

std::unique_ptr<RandomSource> CreateDeterministicRandomSourceForTest(uint64_t seed) {
  return std::make_unique<DeterministicRandomSource>(seed);
}

}  // namespace ipsec::ike
