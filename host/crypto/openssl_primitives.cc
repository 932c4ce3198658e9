// OpenSSL 3 implementations of the crypto primitives: the reference provider.
//
// Each object keeps EVP contexts initialised with its key once; per call only the IV/nonce is set,
// so the key schedule is not redone per packet. HMAC keeps the SHA-256 states after the ipad and
// opad blocks (RFC 2104) and copies them per message.
#include <openssl/evp.h>

#include <cstring>

#include "host/common/secure_bytes.h"
#include "host/crypto/openssl_primitives.h"

namespace ipsec::crypto {
namespace {

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

const unsigned char* U(const std::byte* p) { return reinterpret_cast<const unsigned char*>(p); }
unsigned char* U(std::byte* p) { return reinterpret_cast<unsigned char*>(p); }

class OpenSslAead final : public Aead {
 public:
  static StatusOr<std::unique_ptr<Aead>> Make(Algorithm alg, Bytes key) {
    const EVP_CIPHER* cipher = nullptr;
    if (alg == Algorithm::kAesGcm) {
      if (key.size() == 16) cipher = EVP_aes_128_gcm();
      else if (key.size() == 32) cipher = EVP_aes_256_gcm();
      else return InvalidArgumentError("AES-GCM key must be 16 or 32 bytes");
    } else {
      if (key.size() != 32) return InvalidArgumentError("ChaCha20-Poly1305 key must be 32 bytes");
      cipher = EVP_chacha20_poly1305();
    }
    auto a = std::unique_ptr<OpenSslAead>(new OpenSslAead());
    a->enc_.reset(EVP_CIPHER_CTX_new());
    a->dec_.reset(EVP_CIPHER_CTX_new());
    if (!a->enc_ || !a->dec_ ||
        EVP_EncryptInit_ex(a->enc_.get(), cipher, nullptr, U(key.data()), nullptr) != 1 ||
        EVP_DecryptInit_ex(a->dec_.get(), cipher, nullptr, U(key.data()), nullptr) != 1) {
      return InternalError("OpenSSL AEAD context initialisation failed");
    }
    return std::unique_ptr<Aead>(std::move(a));
  }

  void Seal(Bytes nonce, std::span<const Bytes> aad, MutableBytes text, MutableBytes tag) override {
    EVP_CIPHER_CTX* c = enc_.get();
    int outl = 0;
    EVP_EncryptInit_ex(c, nullptr, nullptr, nullptr, U(nonce.data()));
    for (Bytes seg : aad) {
      if (!seg.empty()) EVP_EncryptUpdate(c, nullptr, &outl, U(seg.data()), static_cast<int>(seg.size()));
    }
    if (!text.empty()) {
      EVP_EncryptUpdate(c, U(text.data()), &outl, U(text.data()), static_cast<int>(text.size()));
    }
    EVP_EncryptFinal_ex(c, nullptr, &outl);
    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kTagSize), tag.data());
  }

  bool Open(Bytes nonce, std::span<const Bytes> aad, MutableBytes text, Bytes tag) override {
    if (tag.size() != kTagSize) return false;
    EVP_CIPHER_CTX* c = dec_.get();
    int outl = 0;
    EVP_DecryptInit_ex(c, nullptr, nullptr, nullptr, U(nonce.data()));
    for (Bytes seg : aad) {
      if (!seg.empty()) EVP_DecryptUpdate(c, nullptr, &outl, U(seg.data()), static_cast<int>(seg.size()));
    }
    if (!text.empty()) {
      EVP_DecryptUpdate(c, U(text.data()), &outl, U(text.data()), static_cast<int>(text.size()));
    }
    unsigned char t[kTagSize];
    std::memcpy(t, tag.data(), kTagSize);
    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kTagSize), t);
    // OpenSSL compares the tag with CRYPTO_memcmp (constant time).
    unsigned char fin[16];
    return EVP_DecryptFinal_ex(c, fin, &outl) > 0;
  }

  Provider provider() const override { return Provider::kOpenSsl; }

 private:
  OpenSslAead() = default;
  CipherCtx enc_, dec_;
};

class OpenSslHmac final : public HmacSha256 {
 public:
  static StatusOr<std::unique_ptr<HmacSha256>> Make(Bytes key) {
    auto h = std::unique_ptr<OpenSslHmac>(new OpenSslHmac());
    unsigned char block[64] = {};
    if (key.size() > 64) {
      unsigned int n = 0;
      if (EVP_Digest(key.data(), key.size(), block, &n, EVP_sha256(), nullptr) != 1) {
        return InternalError("SHA-256 of long HMAC key failed");
      }
    } else if (!key.empty()) {
      std::memcpy(block, key.data(), key.size());
    }
    unsigned char pad[64];
    h->inner_.reset(EVP_MD_CTX_new());
    h->outer_.reset(EVP_MD_CTX_new());
    h->work_.reset(EVP_MD_CTX_new());
    bool ok = h->inner_ && h->outer_ && h->work_;
    for (int i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x36;
    ok = ok && EVP_DigestInit_ex(h->inner_.get(), EVP_sha256(), nullptr) == 1 &&
         EVP_DigestUpdate(h->inner_.get(), pad, 64) == 1;
    for (int i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x5c;
    ok = ok && EVP_DigestInit_ex(h->outer_.get(), EVP_sha256(), nullptr) == 1 &&
         EVP_DigestUpdate(h->outer_.get(), pad, 64) == 1;
    SecureZero(block, sizeof(block));
    SecureZero(pad, sizeof(pad));
    if (!ok) return InternalError("OpenSSL HMAC initialisation failed");
    return std::unique_ptr<HmacSha256>(std::move(h));
  }

  void Compute(std::span<const Bytes> segments, std::span<std::byte, 32> mac) override {
    unsigned char inner[32];
    unsigned int n = 0;
    EVP_MD_CTX_copy_ex(work_.get(), inner_.get());
    for (Bytes seg : segments) EVP_DigestUpdate(work_.get(), seg.data(), seg.size());
    EVP_DigestFinal_ex(work_.get(), inner, &n);
    EVP_MD_CTX_copy_ex(work_.get(), outer_.get());
    EVP_DigestUpdate(work_.get(), inner, sizeof(inner));
    EVP_DigestFinal_ex(work_.get(), U(mac.data()), &n);
  }

  Provider provider() const override { return Provider::kOpenSsl; }

 private:
  OpenSslHmac() = default;
  // The SHA-256 states after absorbing key^ipad and key^opad. EVP_MD_CTX_free cleanses them.
  MdCtx inner_, outer_, work_;
};

class OpenSslCbc final : public AesCbc {
 public:
  static StatusOr<std::unique_ptr<AesCbc>> Make(Bytes key) {
    const EVP_CIPHER* cipher = key.size() == 16 ? EVP_aes_128_cbc()
                               : key.size() == 32 ? EVP_aes_256_cbc()
                                                  : nullptr;
    if (cipher == nullptr) return InvalidArgumentError("AES-CBC key must be 16 or 32 bytes");
    auto a = std::unique_ptr<OpenSslCbc>(new OpenSslCbc());
    a->enc_.reset(EVP_CIPHER_CTX_new());
    a->dec_.reset(EVP_CIPHER_CTX_new());
    if (!a->enc_ || !a->dec_ ||
        EVP_EncryptInit_ex(a->enc_.get(), cipher, nullptr, U(key.data()), nullptr) != 1 ||
        EVP_DecryptInit_ex(a->dec_.get(), cipher, nullptr, U(key.data()), nullptr) != 1) {
      return InternalError("OpenSSL AES-CBC initialisation failed");
    }
    EVP_CIPHER_CTX_set_padding(a->enc_.get(), 0);
    EVP_CIPHER_CTX_set_padding(a->dec_.get(), 0);
    return std::unique_ptr<AesCbc>(std::move(a));
  }
  void Encrypt(std::span<const std::byte, 16> iv, MutableBytes text) override {
    int outl = 0;
    EVP_EncryptInit_ex(enc_.get(), nullptr, nullptr, nullptr, U(iv.data()));
    if (!text.empty()) {
      EVP_EncryptUpdate(enc_.get(), U(text.data()), &outl, U(text.data()), static_cast<int>(text.size()));
    }
  }
  void Decrypt(std::span<const std::byte, 16> iv, MutableBytes text) override {
    int outl = 0;
    EVP_DecryptInit_ex(dec_.get(), nullptr, nullptr, nullptr, U(iv.data()));
    if (!text.empty()) {
      EVP_DecryptUpdate(dec_.get(), U(text.data()), &outl, U(text.data()), static_cast<int>(text.size()));
    }
  }
  Provider provider() const override { return Provider::kOpenSsl; }

 private:
  OpenSslCbc() = default;
  CipherCtx enc_, dec_;
};

class OpenSslCbcHmac final : public CbcHmacSha256 {
 public:
  std::unique_ptr<AesCbc> cbc;  // null: no cipher
  std::unique_ptr<HmacSha256> hmac;

  void EncryptThenMac(std::span<const Op> ops) override {
    for (const Op& op : ops) {
      if (cbc && op.cipher_len != 0) {
        cbc->Encrypt(std::span<const std::byte, 16>(op.iv, 16), MutableBytes(op.auth + op.cipher_offset, op.cipher_len));
      }
      Mac(op);
    }
  }
  void MacThenDecrypt(std::span<const Op> ops) override {
    for (const Op& op : ops) {
      Mac(op);
      if (cbc && op.cipher_len != 0) {
        cbc->Decrypt(std::span<const std::byte, 16>(op.iv, 16), MutableBytes(op.auth + op.cipher_offset, op.cipher_len));
      }
    }
  }
  Provider provider() const override { return Provider::kOpenSsl; }

 private:
  void Mac(const Op& op) {
    std::byte full[32];
    const Bytes seg[1] = {Bytes(op.auth, op.auth_len)};
    hmac->Compute(seg, full);
    std::memcpy(op.mac, full, 16);
    SecureZero(full, sizeof(full));
  }
};

}  // namespace

StatusOr<std::unique_ptr<CbcHmacSha256>> MakeOpenSslCbcHmac(Bytes cipher_key, Bytes mac_key) {
  auto c = std::make_unique<OpenSslCbcHmac>();
  if (!cipher_key.empty()) {
    ASSIGN_OR_RETURN(c->cbc, OpenSslCbc::Make(cipher_key));
  }
  ASSIGN_OR_RETURN(c->hmac, OpenSslHmac::Make(mac_key));
  return std::unique_ptr<CbcHmacSha256>(std::move(c));
}

StatusOr<std::unique_ptr<Aead>> MakeOpenSslAead(Aead::Algorithm alg, Bytes key) {
  return OpenSslAead::Make(alg, key);
}
StatusOr<std::unique_ptr<HmacSha256>> MakeOpenSslHmacSha256(Bytes key) { return OpenSslHmac::Make(key); }
StatusOr<std::unique_ptr<AesCbc>> MakeOpenSslAesCbc(Bytes key) { return OpenSslCbc::Make(key); }

}  // namespace ipsec::crypto
