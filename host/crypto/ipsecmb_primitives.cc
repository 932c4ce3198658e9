// intel-ipsec-mb implementations of the crypto primitives: the fast path.
//
// AES-GCM, GMAC-only use and ChaCha20-Poly1305 go through the direct (synchronous) API with keys
// pre-expanded once per object. AES-CBC and HMAC-SHA-256 are only offered through the job API in
// ipsec-mb 1.3, so each call submits one job and flushes it; the HMAC ipad/opad states are
// precomputed once (RFC 2104) with the library's one-block SHA-256.
//
// ipsec-mb takes AAD as one contiguous buffer. Multi-segment AAD (ESP with ESN, RFC 4106 §5) is
// gathered into a per-thread scratch buffer that grows once and is reused: no per-packet allocation.
#include "host/crypto/ipsecmb_primitives.h"

#include <cstring>
#include <vector>

#include "host/common/secure_bytes.h"

namespace ipsec::crypto {
namespace {

struct MgrHolder {
  IMB_MGR* mgr = nullptr;
  MgrHolder() {
    mgr = alloc_mb_mgr(0);
    if (mgr == nullptr) return;
    init_mb_mgr_auto(mgr, nullptr);
    if (imb_get_errno(mgr) != 0) {
      free_mb_mgr(mgr);
      mgr = nullptr;
    }
  }
  ~MgrHolder() {
    if (mgr != nullptr) free_mb_mgr(mgr);
  }
};

const uint8_t* P(const std::byte* p) { return reinterpret_cast<const uint8_t*>(p); }
uint8_t* P(std::byte* p) { return reinterpret_cast<uint8_t*>(p); }

// Gathers several AAD segments into the per-thread scratch buffer (the rare ESN case).
[[gnu::noinline]] const uint8_t* GatherAad(std::span<const Bytes> aad, size_t total) {
  thread_local std::vector<uint8_t> scratch;
  if (scratch.size() < total) scratch.resize(total);
  size_t off = 0;
  for (const Bytes& s : aad) {
    if (!s.empty()) std::memcpy(scratch.data() + off, s.data(), s.size());
    off += s.size();
  }
  return scratch.data();
}

// Flattens AAD segments: returns a pointer to contiguous AAD, copying only when there is more than
// one non-empty segment. The single-segment case (every packet without ESN) touches no
// thread-local state.
inline const uint8_t* FlattenAad(std::span<const Bytes> aad, uint64_t* len) {
  if (aad.size() == 1) {
    *len = aad[0].size();
    return aad[0].empty() ? nullptr : P(aad[0].data());
  }
  size_t total = 0, nonempty = 0;
  const Bytes* only = nullptr;
  for (const Bytes& s : aad) {
    total += s.size();
    if (!s.empty()) {
      ++nonempty;
      only = &s;
    }
  }
  *len = total;
  if (nonempty == 0) return nullptr;
  if (nonempty == 1) return P(only->data());
  return GatherAad(aad, total);
}

// Constant-time comparison of two 16-byte tags, inlined: the difference of both halves is OR-ed
// together and only the total is tested, so the time does not depend on where the tags differ
// (the same property CRYPTO_memcmp, behind ConstantTimeEqual, gives).
inline bool TagEqual(const std::byte* a, const std::byte* b) {
  uint64_t a0, a1, b0, b1;
  std::memcpy(&a0, a, 8);
  std::memcpy(&a1, a + 8, 8);
  std::memcpy(&b0, b, 8);
  std::memcpy(&b1, b + 8, 8);
  return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

// Runs one job to completion on an otherwise idle manager.
bool RunJob(IMB_MGR* mgr) {
  IMB_JOB* job = IMB_SUBMIT_JOB(mgr);
  while (job == nullptr) job = IMB_FLUSH_JOB(mgr);
  return job->status == IMB_STATUS_COMPLETED;
}

struct alignas(64) AlignedGcmKey {
  gcm_key_data kd;
};

// AES-GCM through the direct API. The one-shot GCM entry points are stateless functions the
// manager merely selects for this CPU (IMB_AES*_GCM_ENC/DEC expand to mgr->gcm*_enc/dec(...)), so
// they are resolved once here; per packet there is no thread-local manager lookup.
class ImbGcm final : public Aead {
 public:
  explicit ImbGcm(bool aes256) : aes256_(aes256) {}
  ~ImbGcm() override { SecureZero(&key_, sizeof(key_)); }

  void Init(IMB_MGR* mgr, Bytes key) {
    if (aes256_) {
      IMB_AES256_GCM_PRE(mgr, key.data(), &key_.kd);
      enc_ = mgr->gcm256_enc;
      dec_ = mgr->gcm256_dec;
    } else {
      IMB_AES128_GCM_PRE(mgr, key.data(), &key_.kd);
      enc_ = mgr->gcm128_enc;
      dec_ = mgr->gcm128_dec;
    }
  }

  void Seal(Bytes nonce, std::span<const Bytes> aad, MutableBytes text, MutableBytes tag) override {
    gcm_context_data ctx;
    uint64_t aad_len = 0;
    const uint8_t* a = FlattenAad(aad, &aad_len);
    enc_(&key_.kd, &ctx, P(text.data()), P(text.data()), text.size(), P(nonce.data()), a, aad_len, P(tag.data()),
         kTagSize);
  }

  bool Open(Bytes nonce, std::span<const Bytes> aad, MutableBytes text, Bytes tag) override {
    if (tag.size() != kTagSize) return false;
    gcm_context_data ctx;
    uint64_t aad_len = 0;
    const uint8_t* a = FlattenAad(aad, &aad_len);
    std::byte computed[kTagSize];
    dec_(&key_.kd, &ctx, P(text.data()), P(text.data()), text.size(), P(nonce.data()), a, aad_len, P(computed),
         kTagSize);
    return ConstantTimeEqual(computed, tag);
  }

  // The burst loop calls the resolved entry point directly: no virtual call, AAD flattening or
  // out-of-line tag compare per packet.
  void SealBurst(std::span<Op> ops) override {
    gcm_context_data ctx;
    const aes_gcm_enc_dec_t enc = enc_;
    for (Op& op : ops) {
      enc(&key_.kd, &ctx, P(op.text), P(op.text), op.text_len, P(op.nonce), op.aad_len != 0 ? P(op.aad) : nullptr,
          op.aad_len, P(op.tag), kTagSize);
    }
  }

  void OpenBurst(std::span<Op> ops) override {
    gcm_context_data ctx;
    const aes_gcm_enc_dec_t dec = dec_;
    for (Op& op : ops) {
      alignas(16) std::byte computed[kTagSize];
      dec(&key_.kd, &ctx, P(op.text), P(op.text), op.text_len, P(op.nonce), op.aad_len != 0 ? P(op.aad) : nullptr,
          op.aad_len, P(computed), kTagSize);
      op.ok = TagEqual(computed, op.tag);
    }
  }

  Provider provider() const override { return Provider::kIpsecMb; }

 private:
  bool aes256_;
  aes_gcm_enc_dec_t enc_ = nullptr;
  aes_gcm_enc_dec_t dec_ = nullptr;
  AlignedGcmKey key_;
};

class ImbChaCha final : public Aead {
 public:
  explicit ImbChaCha(Bytes key) { std::memcpy(key_, key.data(), 32); }
  ~ImbChaCha() override { SecureZero(key_, sizeof(key_)); }

  void Seal(Bytes nonce, std::span<const Bytes> aad, MutableBytes text, MutableBytes tag) override {
    IMB_MGR* mgr = ThreadImbMgr();
    chacha20_poly1305_context_data ctx;
    uint64_t aad_len = 0;
    const uint8_t* a = FlattenAad(aad, &aad_len);
    IMB_CHACHA20_POLY1305_INIT(mgr, key_, &ctx, P(nonce.data()), a, aad_len);
    if (!text.empty()) IMB_CHACHA20_POLY1305_ENC_UPDATE(mgr, key_, &ctx, P(text.data()), P(text.data()), text.size());
    IMB_CHACHA20_POLY1305_ENC_FINALIZE(mgr, &ctx, P(tag.data()), kTagSize);
    SecureZero(&ctx, sizeof(ctx));
  }

  bool Open(Bytes nonce, std::span<const Bytes> aad, MutableBytes text, Bytes tag) override {
    if (tag.size() != kTagSize) return false;
    IMB_MGR* mgr = ThreadImbMgr();
    chacha20_poly1305_context_data ctx;
    uint64_t aad_len = 0;
    const uint8_t* a = FlattenAad(aad, &aad_len);
    std::byte computed[kTagSize];
    IMB_CHACHA20_POLY1305_INIT(mgr, key_, &ctx, P(nonce.data()), a, aad_len);
    if (!text.empty()) IMB_CHACHA20_POLY1305_DEC_UPDATE(mgr, key_, &ctx, P(text.data()), P(text.data()), text.size());
    IMB_CHACHA20_POLY1305_DEC_FINALIZE(mgr, &ctx, P(computed), kTagSize);
    SecureZero(&ctx, sizeof(ctx));
    return ConstantTimeEqual(computed, tag);
  }

  // Bursts look the per-thread manager up once, not per packet.
  void SealBurst(std::span<Op> ops) override {
    IMB_MGR* mgr = ThreadImbMgr();
    chacha20_poly1305_context_data ctx;
    for (Op& op : ops) {
      IMB_CHACHA20_POLY1305_INIT(mgr, key_, &ctx, P(op.nonce), op.aad_len != 0 ? P(op.aad) : nullptr, op.aad_len);
      if (op.text_len != 0) IMB_CHACHA20_POLY1305_ENC_UPDATE(mgr, key_, &ctx, P(op.text), P(op.text), op.text_len);
      IMB_CHACHA20_POLY1305_ENC_FINALIZE(mgr, &ctx, P(op.tag), kTagSize);
    }
    SecureZero(&ctx, sizeof(ctx));
  }

  void OpenBurst(std::span<Op> ops) override {
    IMB_MGR* mgr = ThreadImbMgr();
    chacha20_poly1305_context_data ctx;
    for (Op& op : ops) {
      alignas(16) std::byte computed[kTagSize];
      IMB_CHACHA20_POLY1305_INIT(mgr, key_, &ctx, P(op.nonce), op.aad_len != 0 ? P(op.aad) : nullptr, op.aad_len);
      if (op.text_len != 0) IMB_CHACHA20_POLY1305_DEC_UPDATE(mgr, key_, &ctx, P(op.text), P(op.text), op.text_len);
      IMB_CHACHA20_POLY1305_DEC_FINALIZE(mgr, &ctx, P(computed), kTagSize);
      op.ok = TagEqual(computed, op.tag);
    }
    SecureZero(&ctx, sizeof(ctx));
  }

  Provider provider() const override { return Provider::kIpsecMb; }

 private:
  alignas(16) uint8_t key_[32];
};

class ImbHmac final : public HmacSha256 {
 public:
  ImbHmac(IMB_MGR* mgr, Bytes key) {
    alignas(16) uint8_t block[64] = {};
    if (key.size() > 64) {
      IMB_SHA256(mgr, key.data(), key.size(), block);
    } else if (!key.empty()) {
      std::memcpy(block, key.data(), key.size());
    }
    alignas(16) uint8_t pad[64];
    for (int i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x36;
    IMB_SHA256_ONE_BLOCK(mgr, pad, ipad_);
    for (int i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x5c;
    IMB_SHA256_ONE_BLOCK(mgr, pad, opad_);
    // ipsec-mb rejects HMAC jobs over zero bytes (IMB_ERR_JOB_AUTH_LEN), so HMAC(key, "") is
    // computed once here: SHA-256((K ^ opad) || SHA-256(K ^ ipad)).
    alignas(16) uint8_t outer[64 + 32];
    for (int i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x36;
    IMB_SHA256(mgr, pad, 64, outer + 64);
    for (int i = 0; i < 64; ++i) outer[i] = block[i] ^ 0x5c;
    IMB_SHA256(mgr, outer, sizeof(outer), empty_mac_);
    SecureZero(outer, sizeof(outer));
    SecureZero(block, sizeof(block));
    SecureZero(pad, sizeof(pad));
  }
  ~ImbHmac() override {
    SecureZero(ipad_, sizeof(ipad_));
    SecureZero(opad_, sizeof(opad_));
    SecureZero(empty_mac_, sizeof(empty_mac_));
  }

  const uint8_t* ipad() const { return ipad_; }
  const uint8_t* opad() const { return opad_; }

  void Compute(std::span<const Bytes> segments, std::span<std::byte, 32> mac) override {
    IMB_MGR* mgr = ThreadImbSseMgr();
    uint64_t len = 0;
    const uint8_t* msg = FlattenAad(segments, &len);
    if (len == 0) {
      std::memcpy(mac.data(), empty_mac_, sizeof(empty_mac_));
      return;
    }
    IMB_JOB* job = IMB_GET_NEXT_JOB(mgr);
    job->cipher_mode = IMB_CIPHER_NULL;
    job->cipher_direction = IMB_DIR_ENCRYPT;
    job->chain_order = IMB_ORDER_HASH_CIPHER;
    job->hash_alg = IMB_AUTH_HMAC_SHA_256;
    job->src = msg;
    job->dst = nullptr;
    job->msg_len_to_cipher_in_bytes = 0;
    job->cipher_start_src_offset_in_bytes = 0;
    job->hash_start_src_offset_in_bytes = 0;
    job->msg_len_to_hash_in_bytes = len;
    job->auth_tag_output = P(mac.data());
    job->auth_tag_output_len_in_bytes = 32;
    job->u.HMAC._hashed_auth_key_xor_ipad = ipad_;
    job->u.HMAC._hashed_auth_key_xor_opad = opad_;
    // A rejected job must not leave stale bytes that could match a forged ICV.
    if (!RunJob(mgr)) std::memset(mac.data(), 0xa5, mac.size());
  }

  Provider provider() const override { return Provider::kIpsecMb; }

 private:
  alignas(16) uint8_t ipad_[32];
  alignas(16) uint8_t opad_[32];
  uint8_t empty_mac_[32];  // HMAC(key, "")
};

class ImbCbc final : public AesCbc {
 public:
  ImbCbc(IMB_MGR* mgr, Bytes key) : key_len_(key.size()) {
    if (key_len_ == 16) IMB_AES_KEYEXP_128(mgr, key.data(), enc_, dec_);
    else IMB_AES_KEYEXP_256(mgr, key.data(), enc_, dec_);
  }
  ~ImbCbc() override {
    SecureZero(enc_, sizeof(enc_));
    SecureZero(dec_, sizeof(dec_));
  }
  void Encrypt(std::span<const std::byte, 16> iv, MutableBytes text) override { Run(iv, text, true); }
  void Decrypt(std::span<const std::byte, 16> iv, MutableBytes text) override { Run(iv, text, false); }
  Provider provider() const override { return Provider::kIpsecMb; }

 private:
  void Run(std::span<const std::byte, 16> iv, MutableBytes text, bool encrypt) {
    if (text.empty()) return;
    IMB_MGR* mgr = ThreadImbMgr();
    IMB_JOB* job = IMB_GET_NEXT_JOB(mgr);
    job->cipher_mode = IMB_CIPHER_CBC;
    job->cipher_direction = encrypt ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
    job->chain_order = encrypt ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
    job->hash_alg = IMB_AUTH_NULL;
    job->enc_keys = enc_;
    job->dec_keys = dec_;
    job->key_len_in_bytes = key_len_;
    job->iv = P(iv.data());
    job->iv_len_in_bytes = 16;
    job->src = P(text.data());
    job->dst = P(text.data());
    job->cipher_start_src_offset_in_bytes = 0;
    job->msg_len_to_cipher_in_bytes = text.size();
    job->hash_start_src_offset_in_bytes = 0;
    job->msg_len_to_hash_in_bytes = 0;
    job->auth_tag_output = nullptr;
    job->auth_tag_output_len_in_bytes = 0;
    // Not expected (callers pass multiples of 16), but a rejected job must never leave plaintext
    // in a buffer that is about to be sent: wipe it.
    if (!RunJob(mgr)) std::memset(text.data(), 0, text.size());
  }
  size_t key_len_;
  alignas(16) uint32_t enc_[60];
  alignas(16) uint32_t dec_[60];
};

// Encrypt-then-MAC bursts as chained CBC + HMAC-SHA-256 jobs. All jobs of a burst are submitted
// before the first flush so the multi-buffer lanes run in parallel; completions are matched to ops
// through user_data. A job the library rejects gets a MAC that cannot match (0xa5 bytes) and, on
// encryption, a wiped text, so a failure can never leak plaintext or accept a forgery.
class ImbCbcHmac final : public CbcHmacSha256 {
 public:
  ImbCbcHmac(IMB_MGR* mgr, Bytes cipher_key, Bytes mac_key)
      : key_len_(cipher_key.size()), hmac_(mgr, mac_key) {
    if (key_len_ == 16) IMB_AES_KEYEXP_128(mgr, cipher_key.data(), enc_, dec_);
    else if (key_len_ == 32) IMB_AES_KEYEXP_256(mgr, cipher_key.data(), enc_, dec_);
  }
  ~ImbCbcHmac() override {
    SecureZero(enc_, sizeof(enc_));
    SecureZero(dec_, sizeof(dec_));
  }
  void EncryptThenMac(std::span<const Op> ops) override { Run(ops, true); }
  void MacThenDecrypt(std::span<const Op> ops) override { Run(ops, false); }
  Provider provider() const override { return Provider::kIpsecMb; }

 private:
  static void Complete(IMB_JOB* job, bool encrypt) {
    if (job->status == IMB_STATUS_COMPLETED) return;
    const Op& op = *static_cast<const Op*>(job->user_data);
    std::memset(op.mac, 0xa5, 16);
    if (encrypt && op.cipher_len != 0) std::memset(op.auth + op.cipher_offset, 0, op.cipher_len);
  }

  void Run(std::span<const Op> ops, bool encrypt) {
    IMB_MGR* mgr = ThreadImbMgr();
    for (const Op& op : ops) {
      if (op.auth_len == 0) {  // ipsec-mb refuses empty HMAC input; never the case in ESP
        std::memset(op.mac, 0xa5, 16);
        continue;
      }
      IMB_JOB* job = IMB_GET_NEXT_JOB(mgr);
      const bool cipher = key_len_ != 0 && op.cipher_len != 0;
      job->cipher_mode = cipher ? IMB_CIPHER_CBC : IMB_CIPHER_NULL;
      job->cipher_direction = encrypt ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
      job->chain_order = encrypt ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
      job->enc_keys = enc_;
      job->dec_keys = dec_;
      job->key_len_in_bytes = cipher ? key_len_ : 0;
      job->iv = P(op.iv);
      job->iv_len_in_bytes = cipher ? 16 : 0;
      job->src = P(op.auth);
      job->dst = P(op.auth + op.cipher_offset);
      job->cipher_start_src_offset_in_bytes = op.cipher_offset;
      job->msg_len_to_cipher_in_bytes = cipher ? op.cipher_len : 0;
      job->hash_alg = IMB_AUTH_HMAC_SHA_256;
      job->hash_start_src_offset_in_bytes = 0;
      job->msg_len_to_hash_in_bytes = op.auth_len;
      job->auth_tag_output = P(op.mac);
      job->auth_tag_output_len_in_bytes = 16;  // HMAC-SHA-256-128 (RFC 4868)
      job->u.HMAC._hashed_auth_key_xor_ipad = hmac_.ipad();
      job->u.HMAC._hashed_auth_key_xor_opad = hmac_.opad();
      job->user_data = const_cast<Op*>(&op);
      for (IMB_JOB* done = IMB_SUBMIT_JOB(mgr); done != nullptr; done = IMB_GET_COMPLETED_JOB(mgr)) {
        Complete(done, encrypt);
      }
    }
    for (IMB_JOB* done = IMB_FLUSH_JOB(mgr); done != nullptr; done = IMB_FLUSH_JOB(mgr)) Complete(done, encrypt);
  }

  size_t key_len_;
  ImbHmac hmac_;
  alignas(16) uint32_t enc_[60] = {};
  alignas(16) uint32_t dec_[60] = {};
};

}  // namespace

// A second per-thread manager on the SSE architecture for one-off HMAC computations: there
// ipsec-mb 1.3 runs HMAC-SHA-256 single-buffer on the SHA extensions, while the AVX-512 manager's
// multi-buffer lanes make a lone job wait for a flush that hashes 16 lanes to fill one.
IMB_MGR* ThreadImbSseMgr() {
  struct SseHolder {
    IMB_MGR* mgr = nullptr;
    SseHolder() {
      mgr = alloc_mb_mgr(0);
      if (mgr == nullptr) return;
      init_mb_mgr_sse(mgr);
      if (imb_get_errno(mgr) != 0) {
        free_mb_mgr(mgr);
        mgr = nullptr;
      }
    }
    ~SseHolder() {
      if (mgr != nullptr) free_mb_mgr(mgr);
    }
  };
  thread_local SseHolder holder;
  return holder.mgr != nullptr ? holder.mgr : ThreadImbMgr();
}

IMB_MGR* ThreadImbMgr() {
  thread_local MgrHolder holder;
  return holder.mgr;
}

StatusOr<std::unique_ptr<Aead>> MakeIpsecMbAead(Aead::Algorithm alg, Bytes key) {
  IMB_MGR* mgr = ThreadImbMgr();
  if (mgr == nullptr) return UnavailableError("intel-ipsec-mb does not run on this CPU");
  if (alg == Aead::Algorithm::kAesGcm) {
    if (key.size() != 16 && key.size() != 32) return InvalidArgumentError("AES-GCM key must be 16 or 32 bytes");
    auto a = std::make_unique<ImbGcm>(key.size() == 32);
    a->Init(mgr, key);
    return std::unique_ptr<Aead>(std::move(a));
  }
  if (key.size() != 32) return InvalidArgumentError("ChaCha20-Poly1305 key must be 32 bytes");
  return std::unique_ptr<Aead>(std::make_unique<ImbChaCha>(key));
}

StatusOr<std::unique_ptr<HmacSha256>> MakeIpsecMbHmacSha256(Bytes key) {
  IMB_MGR* mgr = ThreadImbMgr();
  if (mgr == nullptr) return UnavailableError("intel-ipsec-mb does not run on this CPU");
  return std::unique_ptr<HmacSha256>(std::make_unique<ImbHmac>(mgr, key));
}

StatusOr<std::unique_ptr<AesCbc>> MakeIpsecMbAesCbc(Bytes key) {
  IMB_MGR* mgr = ThreadImbMgr();
  if (mgr == nullptr) return UnavailableError("intel-ipsec-mb does not run on this CPU");
  if (key.size() != 16 && key.size() != 32) return InvalidArgumentError("AES-CBC key must be 16 or 32 bytes");
  return std::unique_ptr<AesCbc>(std::make_unique<ImbCbc>(mgr, key));
}

StatusOr<std::unique_ptr<CbcHmacSha256>> MakeIpsecMbCbcHmac(Bytes cipher_key, Bytes mac_key) {
  IMB_MGR* mgr = ThreadImbMgr();
  if (mgr == nullptr) return UnavailableError("intel-ipsec-mb does not run on this CPU");
  return std::unique_ptr<CbcHmacSha256>(std::make_unique<ImbCbcHmac>(mgr, cipher_key, mac_key));
}

}  // namespace ipsec::crypto
