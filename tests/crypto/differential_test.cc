// Differential test: the intel-ipsec-mb provider against the OpenSSL provider on random inputs.
//
// Keys, nonces, AAD (0-64 bytes, sometimes split into segments) and text lengths (0-9000 bytes) come
// from a std::mt19937_64 with a fixed seed, so a failure reproduces. For every primitive both
// providers must produce identical output, each must open what the other sealed, and a flipped bit
// in tag, text or AAD must make Open fail.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "host/crypto/primitives.h"
#include "tests/crypto/crypto_test_util.h"

namespace ipsec::crypto {
namespace {

using cryptotest::ByteVec;
using cryptotest::ToHex;

constexpr uint64_t kSeed = 0x1b5ec0ffee2024ULL;
constexpr int kIterations = 300;

class Rng {
 public:
  explicit Rng(uint64_t seed) : g_(seed) {}
  size_t Uniform(size_t lo, size_t hi) { return std::uniform_int_distribution<size_t>(lo, hi)(g_); }
  bool OneIn(size_t n) { return Uniform(0, n - 1) == 0; }
  ByteVec Fill(size_t n) {
    ByteVec v(n);
    for (auto& b : v) b = std::byte(static_cast<uint8_t>(g_()));
    return v;
  }
  // Text lengths: half spread over 0..9000, half small (0..80) where block edges matter most.
  size_t TextLength() { return OneIn(2) ? Uniform(0, 9000) : Uniform(0, 80); }
  // AAD in 1-3 segments with random cut points (possibly empty ones).
  std::vector<Bytes> Segments(Bytes data) {
    const size_t n = data.size();
    switch (Uniform(0, 3)) {
      case 0:
      case 1: return {data};
      case 2: return cryptotest::SplitAt(data, {Uniform(0, n)});
      default: {
        size_t a = Uniform(0, n), b = Uniform(0, n);
        if (a > b) std::swap(a, b);
        return cryptotest::SplitAt(data, {a, b});
      }
    }
  }

 private:
  std::mt19937_64 g_;
};

void FlipBit(ByteVec& v, Rng& rng) {
  const size_t bit = rng.Uniform(0, v.size() * 8 - 1);
  v[bit / 8] ^= std::byte(1u << (bit % 8));
}

class CryptoDifferential : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!IpsecMbAvailable()) GTEST_SKIP() << "intel-ipsec-mb does not run on this CPU";
  }
};

// Runs kIterations random AEAD cases. `gmac` seals empty text with up to 9000 bytes of AAD.
void DiffAead(Aead::Algorithm alg, size_t key_len, bool gmac, uint64_t seed) {
  Rng rng(seed);
  for (int iter = 0; iter < kIterations; ++iter) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " iteration " + std::to_string(iter));
    const ByteVec key = rng.Fill(key_len);
    const ByteVec nonce = rng.Fill(kNonceSize);
    ByteVec aad = rng.Fill(gmac ? rng.TextLength() : rng.Uniform(0, 64));
    const ByteVec pt = rng.Fill(gmac ? 0 : rng.TextLength());
    const std::vector<Bytes> segs = rng.Segments(aad);

    auto mb = Aead::Create(alg, key, Provider::kIpsecMb);
    auto os = Aead::Create(alg, key, Provider::kOpenSsl);
    ASSERT_TRUE(mb.ok() && os.ok());
    Aead* sealers[2] = {mb->get(), os->get()};

    ByteVec ct[2], tag[2];
    for (int i = 0; i < 2; ++i) {
      ct[i] = pt;
      tag[i] = ByteVec(kTagSize);
      sealers[i]->Seal(nonce, segs, ct[i], tag[i]);
    }
    ASSERT_EQ(ToHex(ct[0]), ToHex(ct[1])) << "text " << pt.size() << " aad " << aad.size();
    ASSERT_EQ(ToHex(tag[0]), ToHex(tag[1])) << "text " << pt.size() << " aad " << aad.size();

    // Cross-open: each provider opens what the other sealed (contiguous AAD this time).
    const Bytes whole[] = {aad};
    for (int i = 0; i < 2; ++i) {
      ByteVec text = ct[i];
      EXPECT_TRUE(sealers[1 - i]->Open(nonce, whole, text, tag[i]));
      EXPECT_EQ(text, pt);
    }

    // Any flipped bit must fail authentication with both providers.
    for (Aead* opener : sealers) {
      ByteVec bad_tag = tag[0];
      FlipBit(bad_tag, rng);
      ByteVec text = ct[0];
      EXPECT_FALSE(opener->Open(nonce, segs, text, bad_tag)) << ProviderName(opener->provider());
      if (!ct[0].empty()) {
        ByteVec bad_ct = ct[0];
        FlipBit(bad_ct, rng);
        EXPECT_FALSE(opener->Open(nonce, segs, bad_ct, tag[0])) << ProviderName(opener->provider());
      }
      if (!aad.empty()) {
        ByteVec bad_aad = aad;
        FlipBit(bad_aad, rng);
        const Bytes bad_segs[] = {bad_aad};
        text = ct[0];
        EXPECT_FALSE(opener->Open(nonce, bad_segs, text, tag[0])) << ProviderName(opener->provider());
      }
      ByteVec bad_nonce = nonce;
      FlipBit(bad_nonce, rng);
      text = ct[0];
      EXPECT_FALSE(opener->Open(bad_nonce, segs, text, tag[0])) << ProviderName(opener->provider());
    }
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST_F(CryptoDifferential, AesGcm128ProvidersAgree) { DiffAead(Aead::Algorithm::kAesGcm, 16, false, kSeed); }
TEST_F(CryptoDifferential, AesGcm256ProvidersAgree) { DiffAead(Aead::Algorithm::kAesGcm, 32, false, kSeed + 1); }
TEST_F(CryptoDifferential, ChaCha20Poly1305ProvidersAgree) {
  DiffAead(Aead::Algorithm::kChaCha20Poly1305, 32, false, kSeed + 2);
}
TEST_F(CryptoDifferential, AesGmac128ProvidersAgree) { DiffAead(Aead::Algorithm::kAesGcm, 16, true, kSeed + 3); }
TEST_F(CryptoDifferential, AesGmac256ProvidersAgree) { DiffAead(Aead::Algorithm::kAesGcm, 32, true, kSeed + 4); }

TEST_F(CryptoDifferential, HmacSha256ProvidersAgree) {
  Rng rng(kSeed + 5);
  for (int iter = 0; iter < kIterations; ++iter) {
    SCOPED_TRACE("iteration " + std::to_string(iter));
    // Keys of every class: empty, shorter than, equal to and longer than the 64-byte block.
    const ByteVec key = rng.Fill(rng.Uniform(0, 160));
    ByteVec msg = rng.Fill(rng.TextLength());
    auto mb = HmacSha256::Create(key, Provider::kIpsecMb);
    auto os = HmacSha256::Create(key, Provider::kOpenSsl);
    ASSERT_TRUE(mb.ok() && os.ok());
    std::array<std::byte, 32> a{}, b{}, c{};
    (*mb)->Compute(rng.Segments(msg), a);
    (*os)->Compute(rng.Segments(msg), b);
    ASSERT_EQ(ToHex(a), ToHex(b)) << "key " << key.size() << " msg " << msg.size();
    if (!msg.empty()) {
      FlipBit(msg, rng);
      const Bytes segs[] = {msg};
      (*mb)->Compute(segs, c);
      EXPECT_NE(ToHex(c), ToHex(a));
      (*os)->Compute(segs, b);
      EXPECT_EQ(ToHex(c), ToHex(b));
    }
  }
}

TEST_F(CryptoDifferential, AesCbcProvidersAgree) {
  Rng rng(kSeed + 6);
  for (int iter = 0; iter < kIterations; ++iter) {
    SCOPED_TRACE("iteration " + std::to_string(iter));
    const ByteVec key = rng.Fill(rng.OneIn(2) ? 16 : 32);
    const ByteVec iv_vec = rng.Fill(16);
    const std::span<const std::byte, 16> iv(iv_vec.data(), 16);
    const ByteVec pt = rng.Fill(rng.TextLength() / 16 * 16);
    auto mb = AesCbc::Create(key, Provider::kIpsecMb);
    auto os = AesCbc::Create(key, Provider::kOpenSsl);
    ASSERT_TRUE(mb.ok() && os.ok());
    ByteVec ct_mb = pt, ct_os = pt;
    (*mb)->Encrypt(iv, ct_mb);
    (*os)->Encrypt(iv, ct_os);
    ASSERT_EQ(ToHex(ct_mb), ToHex(ct_os)) << "key " << key.size() << " text " << pt.size();
    if (!pt.empty()) {
      EXPECT_NE(ct_mb, pt);
    }
    // Cross-decrypt.
    (*os)->Decrypt(iv, ct_mb);
    EXPECT_EQ(ct_mb, pt);
    (*mb)->Decrypt(iv, ct_os);
    EXPECT_EQ(ct_os, pt);
  }
}

}  // namespace
}  // namespace ipsec::crypto
