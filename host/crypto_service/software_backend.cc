// The crypto service's software backend.
//
// intel-ipsec-mb provider (the fast path):
//   AES-GCM jobs go through the direct API with keys pre-expanded at CreateKey (IMB_AES*_GCM_PRE:
//   round keys and GHASH key powers). A job with one input and one output segment and at most one
//   AAD segment is one call to the one-shot entry point; scatter-gather jobs use INIT / UPDATE per
//   segment piece / FINALIZE. GCM in ipsec-mb 1.3 is single-buffer, so there is nothing to gain
//   from the job API here.
//   HMAC-SHA-256 jobs go through the job API with the ipad/opad states precomputed at CreateKey:
//   all HMAC jobs of a batch are submitted before one flush, so the multi-buffer lanes fill up.
//   ipsec-mb hashes one contiguous buffer, so multi-segment input is gathered into a per-queue
//   64 KiB arena allocated at start-up (when it is full, the in-flight jobs are flushed and it is
//   reused). ipsec-mb refuses HMAC jobs over zero bytes (HMAC of the empty message is precomputed
//   at CreateKey) and over more than 65534 bytes (IMB_ERR_JOB_AUTH_LEN): those long messages are
//   hashed with OpenSSL's SHA-256 from per-key inner/outer states, segment by segment.
// OpenSSL provider (the fallback): EVP AES-GCM with the key schedule per job on a per-queue context
// (an EVP context cannot be shared between threads, a key can), and HMAC from per-key SHA-256
// states after the ipad/opad blocks, copied into a per-queue context per job.
//
// Each queue owns its IMB_MGR and contexts, so queues never share mutable state.
#include <intel-ipsec-mb.h>
#include <openssl/evp.h>

#include <climits>
#include <cstring>
#include <mutex>
#include <vector>

#include "host/common/secure_bytes.h"
#include "host/crypto_service/backend.h"

namespace ipsec::cs {
namespace {

constexpr size_t kArenaSize = 64 * 1024;
constexpr size_t kImbMaxHmacLen = 65534;  // ipsec-mb 1.3 multi-buffer HMAC-SHA-256 limit

const uint8_t* U(const std::byte* p) {
  return reinterpret_cast<const uint8_t*>(p);
}
uint8_t* U(std::byte* p) {
  return reinterpret_cast<uint8_t*>(p);
}

bool IsGcm(KeyType t) {
  return t != KeyType::kHmacSha256;
}

struct MgrDeleter {
  void operator()(IMB_MGR* m) const { free_mb_mgr(m); }
};
using MgrPtr = std::unique_ptr<IMB_MGR, MgrDeleter>;
struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

MgrPtr NewMgr() {
  MgrPtr mgr(alloc_mb_mgr(0));
  if (!mgr) return nullptr;
  init_mb_mgr_auto(mgr.get(), nullptr);
  if (imb_get_errno(mgr.get()) != 0) return nullptr;
  return mgr;
}

// The expanded state of one key. Only the members of the backend's provider are filled in.
class SwKey final : public KeyContext {
 public:
  SwKey(KeyType type, const void* owner) : KeyContext(type, owner) {}
  ~SwKey() override {
    SecureZero(&gcm_, sizeof(gcm_));
    SecureZero(ipad_, sizeof(ipad_));
    SecureZero(opad_, sizeof(opad_));
    SecureZero(empty_mac_, sizeof(empty_mac_));
    // raw_ (SecureBytes) zeroizes itself; EVP_MD_CTX_free cleanses the digest states.
  }

  // ipsec-mb
  alignas(64) gcm_key_data gcm_;
  alignas(16) uint8_t ipad_[32] = {};
  alignas(16) uint8_t opad_[32] = {};
  uint8_t empty_mac_[32] = {};  // HMAC(key, "")
  // OpenSSL
  SecureBytes raw_;  // AES key (EVP re-expands it per job)
  // OpenSSL, and ipsec-mb for messages longer than it accepts
  MdCtx inner_, outer_;  // SHA-256 after key^ipad, key^opad
};

// Walks an output list in step with an input list, handing out pieces that lie within one segment of
// each, so a piece can go to a streaming cipher update.
class PieceWalker {
 public:
  PieceWalker(std::span<const Segment> in, std::span<const Segment> out) : in_(in), out_(out) { SkipEmpty(); }
  // Returns false at the end.
  bool Next(const std::byte** src, std::byte** dst, size_t* len) {
    if (ii_ >= in_.size() || oi_ >= out_.size()) return false;
    const size_t n = std::min(in_[ii_].len - ioff_, out_[oi_].len - ooff_);
    *src = SegData(in_[ii_]) + ioff_;
    *dst = SegData(out_[oi_]) + ooff_;
    *len = n;
    ioff_ += n;
    ooff_ += n;
    SkipEmpty();
    return true;
  }

 private:
  void SkipEmpty() {
    while (ii_ < in_.size() && ioff_ == in_[ii_].len) {
      ++ii_;
      ioff_ = 0;
    }
    while (oi_ < out_.size() && ooff_ == out_[oi_].len) {
      ++oi_;
      ooff_ = 0;
    }
  }
  std::span<const Segment> in_, out_;
  size_t ii_ = 0, oi_ = 0, ioff_ = 0, ooff_ = 0;
};

void Wipe(std::span<const Segment> segs) {
  for (const Segment& s : segs) {
    if (s.len != 0) SecureZero(s.base, s.len);
  }
}

// Per-queue state.
struct SwQueue {
  // ipsec-mb
  MgrPtr mgr;
  std::vector<uint8_t> arena;  // gathered multi-segment HMAC input of in-flight jobs
  size_t arena_used = 0;
  std::vector<uint8_t> aad;   // gathered multi-segment AAD (used synchronously)
  std::vector<uint8_t> macs;  // depth * 32: computed MACs of in-flight HMAC-verify jobs
  size_t in_flight = 0;
  // OpenSSL
  CipherCtx gcm128, gcm256;
  MdCtx md;
};

class SoftwareBackend final : public Backend {
 public:
  explicit SoftwareBackend(crypto::Provider provider) : provider_(provider) {}
  ~SoftwareBackend() override {
    if (aes128_ != nullptr) EVP_CIPHER_free(aes128_);
    if (aes256_ != nullptr) EVP_CIPHER_free(aes256_);
  }

  std::string_view name() const override { return crypto::ProviderName(provider_); }

  Status Init(uint32_t num_queues, uint32_t queue_depth) override {
    queues_.resize(num_queues);
    if (provider_ == crypto::Provider::kIpsecMb) {
      key_mgr_ = NewMgr();
      if (!key_mgr_) return UnavailableError("intel-ipsec-mb does not run on this CPU");
      for (SwQueue& q : queues_) {
        q.mgr = NewMgr();
        if (!q.mgr) return UnavailableError("intel-ipsec-mb manager allocation failed");
        q.arena.resize(kArenaSize);
        q.md.reset(EVP_MD_CTX_new());
        if (!q.md) return ResourceExhaustedError("OpenSSL context allocation failed");
        q.aad.resize(256);
        q.macs.resize(size_t{queue_depth} * 32);
      }
      return OkStatus();
    }
    aes128_ = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
    aes256_ = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    if (aes128_ == nullptr || aes256_ == nullptr) return UnavailableError("OpenSSL has no AES-GCM");
    for (SwQueue& q : queues_) {
      q.gcm128.reset(EVP_CIPHER_CTX_new());
      q.gcm256.reset(EVP_CIPHER_CTX_new());
      q.md.reset(EVP_MD_CTX_new());
      if (!q.gcm128 || !q.gcm256 || !q.md) return ResourceExhaustedError("OpenSSL context allocation failed");
      // Bind the cipher once so that per-job initialisation only sets key and IV.
      if (EVP_CipherInit_ex2(q.gcm128.get(), aes128_, nullptr, nullptr, 1, nullptr) != 1 ||
          EVP_CipherInit_ex2(q.gcm256.get(), aes256_, nullptr, nullptr, 1, nullptr) != 1) {
        return InternalError("OpenSSL AES-GCM initialisation failed");
      }
    }
    return OkStatus();
  }

  StatusOr<std::unique_ptr<KeyContext>> CreateKey(KeyType type, Bytes key) override {
    auto k = std::make_unique<SwKey>(type, this);
    if (provider_ == crypto::Provider::kIpsecMb) {
      // The expansion functions are stateless, but the manager records errno: one caller at a time.
      std::lock_guard<std::mutex> lock(key_mu_);
      IMB_MGR* mgr = key_mgr_.get();
      if (type == KeyType::kAesGcm128) {
        IMB_AES128_GCM_PRE(mgr, key.data(), &k->gcm_);
      } else if (type == KeyType::kAesGcm256) {
        IMB_AES256_GCM_PRE(mgr, key.data(), &k->gcm_);
      } else {
        ImbHmacPrep(mgr, key, k.get());
        RETURN_IF_ERROR(OpenSslHmacPrep(key, k.get()));
      }
      return std::unique_ptr<KeyContext>(std::move(k));
    }
    if (IsGcm(type)) {
      k->raw_ = SecureBytes(key);
      return std::unique_ptr<KeyContext>(std::move(k));
    }
    RETURN_IF_ERROR(OpenSslHmacPrep(key, k.get()));
    return std::unique_ptr<KeyContext>(std::move(k));
  }

  void Process(uint32_t queue, std::span<const Job> jobs, const CompletionSlots& slots) override {
    SwQueue& q = queues_[queue];
    if (provider_ == crypto::Provider::kIpsecMb) {
      ProcessImb(q, jobs, slots);
    } else {
      ProcessOpenSsl(q, jobs, slots);
    }
  }

 private:
  // --- intel-ipsec-mb ---------------------------------------------------------------------------

  static void ImbHmacPrep(IMB_MGR* mgr, Bytes key, SwKey* k) {
    alignas(16) uint8_t block[64] = {};
    if (key.size() > 64) {
      IMB_SHA256(mgr, key.data(), key.size(), block);
    } else if (!key.empty()) {
      std::memcpy(block, key.data(), key.size());
    }
    alignas(16) uint8_t pad[64];
    for (int i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x36;
    IMB_SHA256_ONE_BLOCK(mgr, pad, k->ipad_);
    alignas(16) uint8_t outer[64 + 32];
    IMB_SHA256(mgr, pad, 64, outer + 64);  // inner hash of the empty message
    for (int i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x5c;
    IMB_SHA256_ONE_BLOCK(mgr, pad, k->opad_);
    std::memcpy(outer, pad, 64);
    IMB_SHA256(mgr, outer, sizeof(outer), k->empty_mac_);
    SecureZero(outer, sizeof(outer));
    SecureZero(block, sizeof(block));
    SecureZero(pad, sizeof(pad));
  }

  static void GcmImb(SwQueue& q, const Job& job, Completion& c) {
    const SwKey& key = static_cast<const SwKey&>(*job.key);
    const bool aes256 = key.type() == KeyType::kAesGcm256;
    const bool seal = job.op == Op::kSeal;
    IMB_MGR* mgr = q.mgr.get();
    alignas(16) uint8_t computed[kGcmTagSize];
    uint8_t* tag_out = seal ? U(job.tag) : computed;

    // AAD: one contiguous buffer for ipsec-mb.
    const uint8_t* aad = nullptr;
    uint64_t aad_len = 0;
    size_t aad_nonempty = 0;
    for (const Segment& s : job.aad) {
      if (s.len == 0) continue;
      ++aad_nonempty;
      aad = U(SegData(s));
      aad_len += s.len;
    }
    if (aad_nonempty > 1) {
      if (q.aad.size() < aad_len) q.aad.resize(aad_len);  // grows to the largest AAD seen, once
      size_t off = 0;
      for (const Segment& s : job.aad) {
        if (s.len != 0) std::memcpy(q.aad.data() + off, s.base, s.len);
        off += s.len;
      }
      aad = q.aad.data();
    }

    gcm_context_data ctx;
    if (job.in.size() <= 1 && job.out.size() <= 1) {
      // One-shot: the common contiguous case.
      static uint8_t dummy;
      const size_t len = job.in.empty() ? 0 : job.in[0].len;
      const uint8_t* src = len != 0 ? U(SegData(job.in[0])) : &dummy;
      uint8_t* dst = len != 0 ? U(SegData(job.out[0])) : &dummy;
      const aes_gcm_enc_dec_t fn =
          seal ? (aes256 ? mgr->gcm256_enc : mgr->gcm128_enc) : (aes256 ? mgr->gcm256_dec : mgr->gcm128_dec);
      fn(&key.gcm_, &ctx, dst, src, len, U(job.iv), aad, aad_len, tag_out, kGcmTagSize);
    } else {
      PieceWalker w(job.in, job.out);
      const std::byte* src;
      std::byte* dst;
      size_t n;
      if (aes256) {
        IMB_AES256_GCM_INIT(mgr, &key.gcm_, &ctx, U(job.iv), aad, aad_len);
        while (w.Next(&src, &dst, &n)) {
          if (seal)
            IMB_AES256_GCM_ENC_UPDATE(mgr, &key.gcm_, &ctx, U(dst), U(src), n);
          else
            IMB_AES256_GCM_DEC_UPDATE(mgr, &key.gcm_, &ctx, U(dst), U(src), n);
        }
        if (seal)
          IMB_AES256_GCM_ENC_FINALIZE(mgr, &key.gcm_, &ctx, tag_out, kGcmTagSize);
        else
          IMB_AES256_GCM_DEC_FINALIZE(mgr, &key.gcm_, &ctx, tag_out, kGcmTagSize);
      } else {
        IMB_AES128_GCM_INIT(mgr, &key.gcm_, &ctx, U(job.iv), aad, aad_len);
        while (w.Next(&src, &dst, &n)) {
          if (seal)
            IMB_AES128_GCM_ENC_UPDATE(mgr, &key.gcm_, &ctx, U(dst), U(src), n);
          else
            IMB_AES128_GCM_DEC_UPDATE(mgr, &key.gcm_, &ctx, U(dst), U(src), n);
        }
        if (seal)
          IMB_AES128_GCM_ENC_FINALIZE(mgr, &key.gcm_, &ctx, tag_out, kGcmTagSize);
        else
          IMB_AES128_GCM_DEC_FINALIZE(mgr, &key.gcm_, &ctx, tag_out, kGcmTagSize);
      }
    }
    if (!seal &&
        !ConstantTimeEqual({reinterpret_cast<const std::byte*>(computed), kGcmTagSize}, {job.tag, kGcmTagSize})) {
      Wipe(job.out);  // never hand out unauthenticated plaintext
      c.status = JobStatus::kAuthFailed;
    }
  }

  // Completes one finished ipsec-mb HMAC job.
  static void CompleteHmac(SwQueue& q, IMB_JOB* done, std::span<const Job> jobs, const CompletionSlots& slots) {
    const size_t i = reinterpret_cast<uintptr_t>(done->user_data);
    --q.in_flight;
    const Job& job = jobs[i];
    Completion& c = slots[i];
    if (done->status != IMB_STATUS_COMPLETED) {
      if (job.op == Op::kHmac) std::memset(job.tag, 0, job.tag_len);
      c.status = JobStatus::kBackendError;
      return;
    }
    if (job.op == Op::kHmacVerify &&
        !ConstantTimeEqual({reinterpret_cast<const std::byte*>(q.macs.data() + i * 32), job.tag_len},
                           {job.tag, job.tag_len})) {
      c.status = JobStatus::kAuthFailed;
    }
  }

  static void FlushImb(SwQueue& q, std::span<const Job> jobs, const CompletionSlots& slots) {
    IMB_MGR* mgr = q.mgr.get();
    for (IMB_JOB* done = IMB_FLUSH_JOB(mgr); done != nullptr; done = IMB_FLUSH_JOB(mgr)) {
      CompleteHmac(q, done, jobs, slots);
    }
    q.arena_used = 0;
  }

  static void HmacImb(SwQueue& q, std::span<const Job> jobs, size_t i, const CompletionSlots& slots) {
    const Job& job = jobs[i];
    const SwKey& key = static_cast<const SwKey&>(*job.key);
    const bool verify = job.op == Op::kHmacVerify;
    uint8_t* mac_out = verify ? q.macs.data() + i * 32 : U(job.tag);
    // Contiguous message, or gathered into the arena.
    const uint8_t* msg = nullptr;
    size_t len = 0, nonempty = 0;
    for (const Segment& s : job.in) {
      if (s.len == 0) continue;
      ++nonempty;
      msg = U(SegData(s));
      len += s.len;
    }
    if (len == 0) {
      std::memcpy(mac_out, key.empty_mac_, job.tag_len);
      if (verify &&
          !ConstantTimeEqual({reinterpret_cast<const std::byte*>(mac_out), job.tag_len}, {job.tag, job.tag_len})) {
        slots[i].status = JobStatus::kAuthFailed;
      }
      return;
    }
    if (len > kImbMaxHmacLen) {
      slots[i].status = HmacOpenSsl(q, job);
      return;
    }
    if (nonempty > 1) {
      if (q.arena.size() - q.arena_used < len) FlushImb(q, jobs, slots);  // in-flight jobs read the arena
      uint8_t* dst = q.arena.data() + q.arena_used;
      size_t off = 0;
      for (const Segment& s : job.in) {
        if (s.len != 0) std::memcpy(dst + off, s.base, s.len);
        off += s.len;
      }
      msg = dst;
      q.arena_used += len;
    }
    IMB_MGR* mgr = q.mgr.get();
    IMB_JOB* j = IMB_GET_NEXT_JOB(mgr);
    j->cipher_mode = IMB_CIPHER_NULL;
    j->cipher_direction = IMB_DIR_ENCRYPT;
    j->chain_order = IMB_ORDER_HASH_CIPHER;
    j->hash_alg = IMB_AUTH_HMAC_SHA_256;
    j->src = msg;
    j->dst = nullptr;
    j->msg_len_to_cipher_in_bytes = 0;
    j->cipher_start_src_offset_in_bytes = 0;
    j->hash_start_src_offset_in_bytes = 0;
    j->msg_len_to_hash_in_bytes = len;
    j->auth_tag_output = mac_out;
    j->auth_tag_output_len_in_bytes = verify ? 32 : job.tag_len;
    j->u.HMAC._hashed_auth_key_xor_ipad = key.ipad_;
    j->u.HMAC._hashed_auth_key_xor_opad = key.opad_;
    j->user_data = reinterpret_cast<void*>(static_cast<uintptr_t>(i));
    ++q.in_flight;
    for (IMB_JOB* done = IMB_SUBMIT_JOB(mgr); done != nullptr; done = IMB_GET_COMPLETED_JOB(mgr)) {
      CompleteHmac(q, done, jobs, slots);
    }
  }

  static void ProcessImb(SwQueue& q, std::span<const Job> jobs, const CompletionSlots& slots) {
    for (size_t i = 0; i < jobs.size(); ++i) {
      Completion& c = slots[i];
      if (c.status != JobStatus::kOk) continue;
      const Job& job = jobs[i];
      if (job.op == Op::kSeal || job.op == Op::kOpen) {
        GcmImb(q, job, c);
      } else {
        HmacImb(q, jobs, i, slots);
      }
    }
    if (q.in_flight != 0) FlushImb(q, jobs, slots);
    q.arena_used = 0;
  }

  // --- OpenSSL ----------------------------------------------------------------------------------

  static Status OpenSslHmacPrep(Bytes key, SwKey* k) {
    unsigned char block[64] = {};
    if (key.size() > 64) {
      unsigned int n = 0;
      if (EVP_Digest(key.data(), key.size(), block, &n, EVP_sha256(), nullptr) != 1) {
        return InternalError("SHA-256 of a long HMAC key failed");
      }
    } else if (!key.empty()) {
      std::memcpy(block, key.data(), key.size());
    }
    unsigned char pad[64];
    k->inner_.reset(EVP_MD_CTX_new());
    k->outer_.reset(EVP_MD_CTX_new());
    bool ok = k->inner_ && k->outer_;
    for (int i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x36;
    ok = ok && EVP_DigestInit_ex(k->inner_.get(), EVP_sha256(), nullptr) == 1 &&
         EVP_DigestUpdate(k->inner_.get(), pad, 64) == 1;
    for (int i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x5c;
    ok = ok && EVP_DigestInit_ex(k->outer_.get(), EVP_sha256(), nullptr) == 1 &&
         EVP_DigestUpdate(k->outer_.get(), pad, 64) == 1;
    SecureZero(block, sizeof(block));
    SecureZero(pad, sizeof(pad));
    if (!ok) return InternalError("OpenSSL HMAC initialisation failed");
    return OkStatus();
  }

  static bool CipherUpdate(EVP_CIPHER_CTX* ctx, std::byte* dst, const std::byte* src, size_t len) {
    while (len != 0) {
      const int n = static_cast<int>(std::min<size_t>(len, INT_MAX / 2));
      int outl = 0;
      if (EVP_CipherUpdate(ctx, U(dst), &outl, U(src), n) != 1) return false;
      if (dst != nullptr) dst += n;
      src += n;
      len -= static_cast<size_t>(n);
    }
    return true;
  }

  static JobStatus GcmOpenSsl(SwQueue& q, const Job& job) {
    const SwKey& key = static_cast<const SwKey&>(*job.key);
    const bool seal = job.op == Op::kSeal;
    EVP_CIPHER_CTX* ctx = key.type() == KeyType::kAesGcm256 ? q.gcm256.get() : q.gcm128.get();
    if (EVP_CipherInit_ex2(ctx, nullptr, U(key.raw_.span().data()), U(job.iv), seal ? 1 : 0, nullptr) != 1) {
      return JobStatus::kBackendError;
    }
    for (const Segment& s : job.aad) {
      if (s.len != 0 && !CipherUpdate(ctx, nullptr, SegData(s), s.len)) return JobStatus::kBackendError;
    }
    PieceWalker w(job.in, job.out);
    const std::byte* src;
    std::byte* dst;
    size_t n;
    while (w.Next(&src, &dst, &n)) {
      if (!CipherUpdate(ctx, dst, src, n)) return JobStatus::kBackendError;
    }
    unsigned char fin[16];
    int outl = 0;
    if (seal) {
      if (EVP_CipherFinal_ex(ctx, fin, &outl) != 1 ||
          EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kGcmTagSize, job.tag) != 1) {
        return JobStatus::kBackendError;
      }
      return JobStatus::kOk;
    }
    // OpenSSL compares the tag in constant time (CRYPTO_memcmp).
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kGcmTagSize, job.tag) != 1) return JobStatus::kBackendError;
    if (EVP_CipherFinal_ex(ctx, fin, &outl) != 1) return JobStatus::kAuthFailed;
    return JobStatus::kOk;
  }

  static JobStatus HmacOpenSsl(SwQueue& q, const Job& job) {
    const SwKey& key = static_cast<const SwKey&>(*job.key);
    EVP_MD_CTX* md = q.md.get();
    unsigned char inner[32], mac[32];
    unsigned int n = 0;
    bool ok = EVP_MD_CTX_copy_ex(md, key.inner_.get()) == 1;
    for (const Segment& s : job.in) {
      if (s.len != 0) ok = ok && EVP_DigestUpdate(md, s.base, s.len) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(md, inner, &n) == 1 && EVP_MD_CTX_copy_ex(md, key.outer_.get()) == 1 &&
         EVP_DigestUpdate(md, inner, sizeof(inner)) == 1 && EVP_DigestFinal_ex(md, mac, &n) == 1;
    JobStatus st = JobStatus::kOk;
    if (!ok) {
      st = JobStatus::kBackendError;
      if (job.op == Op::kHmac) std::memset(job.tag, 0, job.tag_len);
    } else if (job.op == Op::kHmac) {
      std::memcpy(job.tag, mac, job.tag_len);
    } else if (!ConstantTimeEqual({reinterpret_cast<const std::byte*>(mac), job.tag_len}, {job.tag, job.tag_len})) {
      st = JobStatus::kAuthFailed;
    }
    SecureZero(inner, sizeof(inner));
    return st;
  }

  static void ProcessOpenSsl(SwQueue& q, std::span<const Job> jobs, const CompletionSlots& slots) {
    for (size_t i = 0; i < jobs.size(); ++i) {
      Completion& c = slots[i];
      if (c.status != JobStatus::kOk) continue;
      const Job& job = jobs[i];
      if (job.op == Op::kSeal || job.op == Op::kOpen) {
        c.status = GcmOpenSsl(q, job);
        if (job.op == Op::kOpen && c.status != JobStatus::kOk) Wipe(job.out);
        if (job.op == Op::kSeal && c.status != JobStatus::kOk) {
          Wipe(job.out);
          std::memset(job.tag, 0, kGcmTagSize);
        }
      } else {
        c.status = HmacOpenSsl(q, job);
      }
    }
  }

  crypto::Provider provider_;
  std::vector<SwQueue> queues_;
  MgrPtr key_mgr_;
  std::mutex key_mu_;
  EVP_CIPHER* aes128_ = nullptr;
  EVP_CIPHER* aes256_ = nullptr;
};

}  // namespace

StatusOr<std::unique_ptr<Backend>> MakeSoftwareBackend(crypto::Provider provider) {
  const crypto::Provider p = crypto::ResolveProvider(provider);
  if (p == crypto::Provider::kIpsecMb && !crypto::IpsecMbAvailable()) {
    return UnavailableError("intel-ipsec-mb does not run on this CPU");
  }
  return std::unique_ptr<Backend>(std::make_unique<SoftwareBackend>(p));
}

}  // namespace ipsec::cs
