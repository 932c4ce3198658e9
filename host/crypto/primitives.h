// Crypto primitives the ESP and AH data paths are built from, each with two providers:
// intel-ipsec-mb (the fast path) and OpenSSL 3 (the reference, and the fallback on CPUs that
// ipsec-mb does not support).
//
// A primitive object holds one pre-expanded key (AES round keys, GHASH powers, HMAC inner/outer
// states) and is created once per SA, never per packet. Expanded state is zeroized on destruction.
//
// Thread safety: an object may be used by one thread at a time (the OpenSSL contexts inside are
// mutable). ipsec-mb's IMB_MGR is per thread (see ipsecmb_mgr.h), so two threads may use two
// objects concurrently. Buffers: `text` is processed in place; aad segments are concatenated.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

#include "host/common/bytes.h"
#include "host/common/status.h"

namespace ipsec::crypto {

enum class Provider : uint8_t {
  kAuto,     // ipsec-mb when the CPU supports it, otherwise OpenSSL
  kIpsecMb,  // intel-ipsec-mb
  kOpenSsl,  // OpenSSL 3 EVP
};

std::string_view ProviderName(Provider p);
StatusOr<Provider> ParseProvider(std::string_view name);
// Resolves kAuto to a concrete provider for this machine.
Provider ResolveProvider(Provider p);
// True when intel-ipsec-mb initialised on this CPU.
bool IpsecMbAvailable();

inline constexpr size_t kTagSize = 16;
inline constexpr size_t kNonceSize = 12;

// AEAD with a 96-bit nonce and a 128-bit tag: AES-GCM (128/256-bit key) or ChaCha20-Poly1305.
class Aead {
 public:
  enum class Algorithm : uint8_t { kAesGcm, kChaCha20Poly1305 };

  // key: 16 or 32 bytes for AES-GCM, 32 bytes for ChaCha20-Poly1305.
  static StatusOr<std::unique_ptr<Aead>> Create(Algorithm alg, Bytes key, Provider provider);
  virtual ~Aead() = default;

  // Encrypts `text` in place and writes the 16-byte tag. AAD is the concatenation of `aad`.
  virtual void Seal(Bytes nonce, std::span<const Bytes> aad, MutableBytes text, MutableBytes tag) = 0;
  // Decrypts `text` in place and returns whether the tag verified (compared in constant time).
  // On false, `text` holds unauthenticated data and must be discarded by the caller.
  virtual bool Open(Bytes nonce, std::span<const Bytes> aad, MutableBytes text, Bytes tag) = 0;

  virtual Provider provider() const = 0;
};

// HMAC-SHA-256 over the concatenation of segments. The output is the full 32-byte MAC; IPsec uses
// the first 16 bytes (RFC 4868).
class HmacSha256 {
 public:
  static StatusOr<std::unique_ptr<HmacSha256>> Create(Bytes key, Provider provider);
  virtual ~HmacSha256() = default;
  virtual void Compute(std::span<const Bytes> segments, std::span<std::byte, 32> mac) = 0;
  virtual Provider provider() const = 0;
};

// AES-CBC without padding (ESP pads itself): text length must be a multiple of 16.
class AesCbc {
 public:
  static StatusOr<std::unique_ptr<AesCbc>> Create(Bytes key, Provider provider);
  virtual ~AesCbc() = default;
  virtual void Encrypt(std::span<const std::byte, 16> iv, MutableBytes text) = 0;
  virtual void Decrypt(std::span<const std::byte, 16> iv, MutableBytes text) = 0;
  virtual Provider provider() const = 0;
};

}  // namespace ipsec::crypto
