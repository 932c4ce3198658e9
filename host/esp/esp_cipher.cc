// ESP suite transforms over bursts (see esp_cipher.h for the per-suite layout).
#include "host/esp/esp_cipher.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "host/common/secure_bytes.h"

namespace ipsec::esp {

using sa::Suite;

namespace {
constexpr size_t kHdr = 8;
constexpr size_t kIcv = 16;
constexpr size_t kChunk = 32;  // ops prepared per ipsec-mb submission round
}  // namespace

StatusOr<std::unique_ptr<EspCipher>> EspCipher::Create(Suite suite, const sa::KeyMaterial& keys,
                                                       crypto::Provider provider, bool esn) {
  RETURN_IF_ERROR(keys.ValidateFor(suite));
  const sa::SuiteInfo& info = sa::GetSuiteInfo(suite);
  auto c = std::unique_ptr<EspCipher>(new EspCipher());
  c->esn_ = esn;
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
    case Suite::kAesCbc256HmacSha256:
    case Suite::kNullHmacSha256: {
      c->kind_ = Kind::kCbcHmac;
      ASSIGN_OR_RETURN(c->cbc_hmac_, crypto::CbcHmacSha256::Create(cipher_key, keys.auth_key.span(), provider));
      break;
    }
  }
  return c;
}

EspCipher::~EspCipher() { SecureZero(salt_, sizeof(salt_)); }

crypto::Provider EspCipher::provider() const { return aead_ ? aead_->provider() : cbc_hmac_->provider(); }

void EspCipher::AeadOne(EspCryptoOp& op, bool seal) {
  std::byte* esp = op.esp;
  std::byte* iv = esp + kHdr;
  if (seal) StoreU64Be(iv, op.seq);  // RFC 4106 §3.1: the counter is the IV
  std::byte nonce[12];
  std::memcpy(nonce, salt_, 4);
  std::memcpy(nonce + 4, iv, 8);
  MutableBytes text(iv + iv_len_, op.text_len);
  MutableBytes icv(iv + iv_len_ + op.text_len, kIcv);
  std::byte aad12[12];
  Bytes hdr(esp, kHdr);
  if (esn_) {
    // SPI || SN-high || SN-low (RFC 4106 §5, RFC 4543 §3.3, RFC 4303 §2.2.1).
    std::memcpy(aad12, esp, 4);
    StoreU32Be(aad12 + 4, static_cast<uint32_t>(op.seq >> 32));
    std::memcpy(aad12 + 8, esp + 4, 4);
    hdr = Bytes(aad12, 12);
  }
  if (kind_ == Kind::kAead) {
    const Bytes segs[1] = {hdr};
    if (seal) aead_->Seal(nonce, segs, text, icv);
    else op.ok = aead_->Open(nonce, segs, text, icv);
    return;
  }
  // GMAC: everything is AAD, nothing is encrypted. Without ESN it is one contiguous run.
  Bytes rest(iv, iv_len_ + op.text_len);
  if (esn_) {
    const Bytes segs[2] = {hdr, rest};
    if (seal) aead_->Seal(nonce, segs, {}, icv);
    else op.ok = aead_->Open(nonce, segs, {}, icv);
  } else {
    const Bytes segs[1] = {Bytes(esp, kHdr + iv_len_ + op.text_len)};
    if (seal) aead_->Seal(nonce, segs, {}, icv);
    else op.ok = aead_->Open(nonce, segs, {}, icv);
  }
}

// AEAD (GCM, ChaCha20-Poly1305) over up to kChunk packets: every nonce (and, with ESN, every
// 12-byte AAD) is built first, then one crypto::Aead burst call runs them all, so the provider
// loops with its entry points resolved once and no nonce is read back right after being stored.
void EspCipher::AeadChunk(std::span<EspCryptoOp> ops, bool seal) {
  const size_t n = ops.size();
  std::array<crypto::Aead::Op, kChunk> aops;
  alignas(16) std::array<std::array<std::byte, 12>, kChunk> nonces;
  alignas(16) std::array<std::array<std::byte, 12>, kChunk> aad12;
  for (size_t i = 0; i < n; ++i) {
    EspCryptoOp& op = ops[i];
    std::byte* esp = op.esp;
    std::byte* iv = esp + kHdr;
    if (seal) StoreU64Be(iv, op.seq);  // RFC 4106 §3.1: the counter is the IV
    std::memcpy(nonces[i].data(), salt_, 4);
    std::memcpy(nonces[i].data() + 4, iv, 8);
    crypto::Aead::Op& a = aops[i];
    a.nonce = nonces[i].data();
    if (esn_) {
      // SPI || SN-high || SN-low (RFC 4106 §5, RFC 4303 §2.2.1).
      std::memcpy(aad12[i].data(), esp, 4);
      StoreU32Be(aad12[i].data() + 4, static_cast<uint32_t>(op.seq >> 32));
      std::memcpy(aad12[i].data() + 8, esp + 4, 4);
      a.aad = aad12[i].data();
      a.aad_len = 12;
    } else {
      a.aad = esp;
      a.aad_len = kHdr;
    }
    a.text = iv + iv_len_;
    a.text_len = op.text_len;
    a.tag = iv + iv_len_ + op.text_len;
  }
  if (seal) {
    aead_->SealBurst({aops.data(), n});
  } else {
    aead_->OpenBurst({aops.data(), n});
    for (size_t i = 0; i < n; ++i) ops[i].ok = aops[i].ok;
  }
  SecureZero(nonces.data(), n * sizeof(nonces[0]));
}

void EspCipher::CbcHmacChunk(std::span<EspCryptoOp> ops, bool seal) {
  const size_t n = ops.size();
  std::array<crypto::CbcHmacSha256::Op, kChunk> jobs;
  std::array<std::array<std::byte, kIcv>, kChunk> macs;
  std::array<std::array<std::byte, 4>, kChunk> saved;  // ICV bytes under SN-high (ESN)
  if (seal && iv_len_ != 0) {
    std::array<std::byte, kChunk * 16> ivs;
    // One DRBG call per burst. Should it ever fail, fall back to an encrypted-counter-like unique
    // value rather than a repeated IV: the sequence number in both halves, never reused per SA.
    if (RAND_bytes(reinterpret_cast<unsigned char*>(ivs.data()), static_cast<int>(n * 16)) != 1) {
      for (size_t i = 0; i < n; ++i) {
        StoreU64Be(&ivs[i * 16], ops[i].seq);
        StoreU64Be(&ivs[i * 16 + 8], ~ops[i].seq);
      }
    }
    for (size_t i = 0; i < n; ++i) std::memcpy(ops[i].esp + kHdr, &ivs[i * 16], 16);
  }
  for (size_t i = 0; i < n; ++i) {
    EspCryptoOp& op = ops[i];
    std::byte* icv = op.esp + kHdr + iv_len_ + op.text_len;
    size_t auth_len = kHdr + iv_len_ + op.text_len;
    if (esn_) {
      std::memcpy(saved[i].data(), icv, 4);
      StoreU32Be(icv, static_cast<uint32_t>(op.seq >> 32));
      auth_len += 4;
    }
    jobs[i] = {op.esp, auth_len, kHdr + iv_len_, iv_len_ != 0 ? op.text_len : 0, op.esp + kHdr, macs[i].data()};
  }
  if (seal) cbc_hmac_->EncryptThenMac({jobs.data(), n});
  else cbc_hmac_->MacThenDecrypt({jobs.data(), n});
  for (size_t i = 0; i < n; ++i) {
    EspCryptoOp& op = ops[i];
    std::byte* icv = op.esp + kHdr + iv_len_ + op.text_len;
    if (esn_) std::memcpy(icv, saved[i].data(), 4);
    if (seal) {
      std::memcpy(icv, macs[i].data(), kIcv);
    } else {
      op.ok = ConstantTimeEqual(Bytes(icv, kIcv), macs[i]);
    }
  }
  SecureZero(macs.data(), n * kIcv);
}

void EspCipher::SealBurst(std::span<EspCryptoOp> ops) {
  if (kind_ == Kind::kCbcHmac) {
    for (size_t i = 0; i < ops.size(); i += kChunk) CbcHmacChunk(ops.subspan(i, std::min(kChunk, ops.size() - i)), true);
    return;
  }
  if (kind_ == Kind::kAead) {
    for (size_t i = 0; i < ops.size(); i += kChunk) AeadChunk(ops.subspan(i, std::min(kChunk, ops.size() - i)), true);
    return;
  }
  for (EspCryptoOp& op : ops) AeadOne(op, true);
}

void EspCipher::OpenBurst(std::span<EspCryptoOp> ops) {
  if (kind_ == Kind::kCbcHmac) {
    for (size_t i = 0; i < ops.size(); i += kChunk) CbcHmacChunk(ops.subspan(i, std::min(kChunk, ops.size() - i)), false);
    return;
  }
  if (kind_ == Kind::kAead) {
    for (size_t i = 0; i < ops.size(); i += kChunk) AeadChunk(ops.subspan(i, std::min(kChunk, ops.size() - i)), false);
    return;
  }
  for (EspCryptoOp& op : ops) AeadOne(op, false);
}

}  // namespace ipsec::esp
