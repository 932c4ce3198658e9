// ESP suite transforms (see esp_cipher.h for the per-suite layout).
#include "host/esp/esp_cipher.h"

#include <openssl/rand.h>

#include <bit>
#include <cstring>

#include "host/common/secure_bytes.h"

namespace ipsec::esp {

using sa::Suite;

StatusOr<std::unique_ptr<EspCipher>> EspCipher::Create(Suite suite, const sa::KeyMaterial& keys,
                                                       crypto::Provider provider) {
  RETURN_IF_ERROR(keys.ValidateFor(suite));
  const sa::SuiteInfo& info = sa::GetSuiteInfo(suite);
  auto c = std::unique_ptr<EspCipher>(new EspCipher());
  c->iv_len_ = info.iv_len;
  c->align_ = info.align;
  Bytes enc = keys.enc_key.span();
  Bytes cipher_key = enc.first(info.enc_key_len);
  if (info.salt_len == 4) std::memcpy(c->salt_, enc.data() + info.enc_key_len, 4);
  switch (suite) {
    case Suite::kAesGcm128:
    case Suite::kAesGcm256:
    case Suite::kAesGmac128:
    case Suite::kAesGmac256: {
      c->kind_ = info.encrypts ? Kind::kAead : Kind::kGmac;
      ASSIGN_OR_RETURN(c->aead_, crypto::Aead::Create(crypto::Aead::Algorithm::kAesGcm, cipher_key, provider));
      break;
    }
    case Suite::kChaCha20Poly1305: {
      c->kind_ = Kind::kAead;
      ASSIGN_OR_RETURN(c->aead_, crypto::Aead::Create(crypto::Aead::Algorithm::kChaCha20Poly1305, cipher_key,
                                                      provider));
      break;
    }
    case Suite::kAesCbc128HmacSha256:
    case Suite::kAesCbc256HmacSha256: {
      c->kind_ = Kind::kCbcHmac;
      ASSIGN_OR_RETURN(c->cbc_, crypto::AesCbc::Create(cipher_key, provider));
      SecureBytes iv_key(16);
      if (RAND_bytes(reinterpret_cast<unsigned char*>(iv_key.mutable_span().data()), 16) != 1) {
        return InternalError("RAND_bytes failed for the IV key");
      }
      ASSIGN_OR_RETURN(c->iv_gen_, crypto::AesCbc::Create(iv_key.span(), provider));
      ASSIGN_OR_RETURN(c->hmac_, crypto::HmacSha256::Create(keys.auth_key.span(), provider));
      break;
    }
    case Suite::kNullHmacSha256: {
      c->kind_ = Kind::kNullHmac;
      ASSIGN_OR_RETURN(c->hmac_, crypto::HmacSha256::Create(keys.auth_key.span(), provider));
      break;
    }
  }
  return c;
}

EspCipher::~EspCipher() { SecureZero(salt_, sizeof(salt_)); }

crypto::Provider EspCipher::provider() const {
  if (aead_) return aead_->provider();
  return hmac_->provider();
}

void EspCipher::MakeIv(uint64_t seq, MutableBytes iv) {
  if (kind_ == Kind::kCbcHmac) {
    std::byte block[16] = {};
    StoreU64Be(block, seq);
    static constexpr std::byte kZeroIv[16] = {};
    iv_gen_->Encrypt(std::span<const std::byte, 16>(kZeroIv), block);  // one block: AES-ECB
    std::memcpy(iv.data(), block, 16);
  } else if (iv_len_ == 8) {
    // One 8-byte store (StoreU64Be writes two halves): Seal reads the IV back as one 8-byte load,
    // which cannot be forwarded from two smaller stores and would stall until they retire.
    uint64_t be = seq;
    if constexpr (std::endian::native == std::endian::little) be = __builtin_bswap64(be);
    std::memcpy(iv.data(), &be, 8);
  }
}

namespace {
// SPI || SN-high || SN-low (RFC 4106 §5, RFC 4303 §2.2.1).
void EsnAad(Bytes hdr, uint32_t esn_high, std::byte out[12]) {
  std::memcpy(out, hdr.data(), 4);
  StoreU32Be(out + 4, esn_high);
  std::memcpy(out + 8, hdr.data() + 4, 4);
}
}  // namespace

void EspCipher::HmacIcv(Bytes hdr, std::optional<uint32_t> esn_high, size_t auth_len, MutableBytes icv_area,
                        std::span<std::byte, 32> mac) {
  // hdr || IV || text is contiguous: auth_len bytes from hdr.data(). With ESN, SN-high goes in the
  // first 4 bytes of the ICV area, which directly follows (RFC 4303 §2.2.1: appended, not sent).
  size_t len = auth_len;
  if (esn_high) {
    StoreU32Be(icv_area.data(), *esn_high);
    len += 4;
  }
  const Bytes seg[1] = {Bytes(hdr.data(), len)};
  hmac_->Compute(seg, mac);
}

void EspCipher::Seal(Bytes hdr, std::optional<uint32_t> esn_high, Bytes iv, MutableBytes text, MutableBytes icv) {
  switch (kind_) {
    case Kind::kAead:
    case Kind::kGmac: {
      std::byte nonce[12];
      std::memcpy(nonce, salt_, 4);
      std::memcpy(nonce + 4, iv.data(), 8);
      std::byte aad12[12];
      if (kind_ == Kind::kAead) {
        Bytes aad = hdr;
        if (esn_high) {
          EsnAad(hdr, *esn_high, aad12);
          aad = Bytes(aad12, 12);
        }
        const Bytes segs[1] = {aad};
        aead_->Seal(nonce, segs, text, icv);
      } else if (esn_high) {
        EsnAad(hdr, *esn_high, aad12);
        const Bytes segs[2] = {Bytes(aad12, 12), Bytes(iv.data(), iv.size() + text.size())};
        aead_->Seal(nonce, segs, {}, icv);
      } else {
        const Bytes segs[1] = {Bytes(hdr.data(), hdr.size() + iv.size() + text.size())};
        aead_->Seal(nonce, segs, {}, icv);
      }
      break;
    }
    case Kind::kCbcHmac:
    case Kind::kNullHmac: {
      if (kind_ == Kind::kCbcHmac) cbc_->Encrypt(std::span<const std::byte, 16>(iv.data(), 16), text);
      alignas(16) std::byte mac[32];
      HmacIcv(hdr, esn_high, hdr.size() + iv.size() + text.size(), icv, mac);
      std::memcpy(icv.data(), mac, 16);
      SecureZero(mac, sizeof(mac));
      break;
    }
  }
}

bool EspCipher::Open(Bytes hdr, std::optional<uint32_t> esn_high, Bytes iv, MutableBytes text, MutableBytes icv) {
  switch (kind_) {
    case Kind::kAead:
    case Kind::kGmac: {
      std::byte nonce[12];
      std::memcpy(nonce, salt_, 4);
      std::memcpy(nonce + 4, iv.data(), 8);
      std::byte aad12[12];
      if (kind_ == Kind::kAead) {
        Bytes aad = hdr;
        if (esn_high) {
          EsnAad(hdr, *esn_high, aad12);
          aad = Bytes(aad12, 12);
        }
        const Bytes segs[1] = {aad};
        return aead_->Open(nonce, segs, text, icv);
      }
      if (esn_high) {
        EsnAad(hdr, *esn_high, aad12);
        const Bytes segs[2] = {Bytes(aad12, 12), Bytes(iv.data(), iv.size() + text.size())};
        return aead_->Open(nonce, segs, {}, icv);
      }
      const Bytes segs[1] = {Bytes(hdr.data(), hdr.size() + iv.size() + text.size())};
      return aead_->Open(nonce, segs, {}, icv);
    }
    case Kind::kCbcHmac:
    case Kind::kNullHmac: {
      std::byte received[16];
      std::memcpy(received, icv.data(), 16);
      alignas(16) std::byte mac[32];
      HmacIcv(hdr, esn_high, hdr.size() + iv.size() + text.size(), icv, mac);
      std::memcpy(icv.data(), received, 16);
      const bool ok = ConstantTimeEqual(Bytes(mac, 16), Bytes(received, 16));
      SecureZero(mac, sizeof(mac));
      // RFC 4303 §3.4.4.1: integrity is checked before decryption.
      if (ok && kind_ == Kind::kCbcHmac) cbc_->Decrypt(std::span<const std::byte, 16>(iv.data(), 16), text);
      return ok;
    }
  }
  return false;
}

}  // namespace ipsec::esp
