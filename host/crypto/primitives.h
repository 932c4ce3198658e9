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

  // Bursts: one Seal or Open per op, with contiguous AAD. Same results as calling Seal/Open on each
  // op in order (the default does exactly that); a provider may override them to keep per-call
  // set-up (dispatch, function lookup) out of the per-packet loop.
  struct Op {
    const std::byte* nonce = nullptr;  // kNonceSize bytes
    const std::byte* aad = nullptr;    // aad_len bytes (may be null when aad_len is 0)
    size_t aad_len = 0;
    std::byte* text = nullptr;         // processed in place (may be null when text_len is 0)
    size_t text_len = 0;
    std::byte* tag = nullptr;          // kTagSize bytes: written by SealBurst, read by OpenBurst
    bool ok = false;                   // OpenBurst: the tag verified
  };
  virtual void SealBurst(std::span<Op> ops);
  virtual void OpenBurst(std::span<Op> ops);

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

// ESP's encrypt-then-MAC in bursts: AES-CBC (or no cipher) combined with HMAC-SHA-256-128.
// intel-ipsec-mb runs a burst as one chained job per packet, all submitted before the first flush,
// so its multi-buffer lanes fill up; one job at a time would leave all but one lane idle. OpenSSL
// runs the ops one by one.
class CbcHmacSha256 {
 public:
  struct Op {
    std::byte* auth = nullptr;        // first byte under the MAC
    size_t auth_len = 0;              // bytes under the MAC
    size_t cipher_offset = 0;         // from `auth` to the first byte to encrypt or decrypt
    size_t cipher_len = 0;            // a multiple of 16; 0 with no cipher
    const std::byte* iv = nullptr;    // 16 bytes; unused with no cipher
    std::byte* mac = nullptr;         // receives the first 16 bytes of the MAC (not inside auth)
  };

  // cipher_key: 16 or 32 bytes for AES-CBC, empty for no cipher (ESP NULL, RFC 2410).
  static StatusOr<std::unique_ptr<CbcHmacSha256>> Create(Bytes cipher_key, Bytes mac_key, Provider provider);
  virtual ~CbcHmacSha256() = default;

  // Encrypts each op's cipher range in place, then MACs its auth range.
  virtual void EncryptThenMac(std::span<const Op> ops) = 0;
  // MACs each op's auth range as received, then decrypts its cipher range in place. The caller
  // compares the MAC (in constant time) and discards the plaintext of a mismatch.
  virtual void MacThenDecrypt(std::span<const Op> ops) = 0;
  virtual Provider provider() const = 0;
};

}  // namespace ipsec::crypto
