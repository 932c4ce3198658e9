// CryptoService: look-aside AES-GCM-128/256 seal/open and HMAC-SHA-256 jobs, submitted in batches to
// one of N queues (one doorbell per batch) and completed through polling, a per-queue callback or a
// per-queue eventfd. The stable C ABI over the same service is include/ipsec_accel/crypto_service.h;
// docs/crypto_service.md has the design.
//
//   auto svc = CryptoService::Create({.num_queues = 2});
//   auto key = (*svc)->CreateKey(KeyType::kAesGcm128, key_bytes);
//   Job job{.op = Op::kSeal, .key = key->get(), .iv = iv, .in = in_segs, .out = out_segs, .tag = tag};
//   (*svc)->Submit(0, {&job, 1});
//   Completion c[8]; size_t n = (*svc)->Poll(0, c);
//
// Threads: a queue belongs to one thread at a time (no lock per job); queues are independent, so N
// threads drive N queues concurrently. KeyContexts are immutable once created and may be shared by
// all queues. Completions of a queue come back in submission order.
//
// Malformed jobs (bad lengths, null pointers, too many segments, wrong key type) are not errors of
// Submit: they are accepted and complete with their own JobStatus and the JobField at fault. Submit
// fails (Status) only on a bad queue index.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "host/common/bytes.h"
#include "host/common/status.h"
#include "host/crypto/primitives.h"
#include "ipsec_accel/crypto_service.h"

namespace ipsec::cs {

inline constexpr size_t kIvSize = 12;       // AES-GCM nonce
inline constexpr size_t kGcmTagSize = 16;   // AES-GCM tag
inline constexpr size_t kMaxSegments = 16;  // per scatter-gather list

enum class KeyType : uint8_t { kAesGcm128, kAesGcm256, kHmacSha256 };
std::string_view KeyTypeName(KeyType t);

enum class Op : uint8_t {
  kSeal,        // AES-GCM: encrypt in -> out, write the 16-byte tag
  kOpen,        // AES-GCM: decrypt in -> out, verify the tag in constant time; on failure out is wiped
  kHmac,        // HMAC-SHA-256 over in, write tag_len (16 or 32) bytes
  kHmacVerify,  // HMAC-SHA-256 over in, compare the first tag_len bytes with tag in constant time
};

// Values equal the C ABI's ipsec_cs_status / ipsec_cs_field.
enum class JobStatus : int32_t {
  kOk = 0,
  kAuthFailed = 1,
  kInvalidArgument = 2,
  kTooManySegments = 3,
  kBackendError = 4,
};
enum class JobField : uint32_t { kNone = 0, kOp, kKey, kIv, kAad, kInput, kOutput, kTag };
std::string_view JobStatusName(JobStatus s);
std::string_view JobFieldName(JobField f);

// A scatter-gather segment {void* base; size_t len;}: the C ABI's type, so segment lists pass between
// the two APIs without conversion. Input segments are only read; output segments may alias the
// input exactly (in place, any split) but must not overlap it otherwise.
using Segment = ::ipsec_cs_seg;
inline Segment Seg(MutableBytes b) {
  return {b.data(), b.size()};
}
// Input-only data (the service never writes through input segments).
inline Segment Seg(Bytes b) {
  return {const_cast<std::byte*>(b.data()), b.size()};
}
inline std::byte* SegData(const Segment& s) {
  return static_cast<std::byte*>(s.base);
}

// Key material expanded once (AES round keys + GHASH key, or HMAC inner/outer states), zeroized
// on destruction, never printable. Created by CryptoService::CreateKey; the backend owns the layout.
class KeyContext {
 public:
  virtual ~KeyContext() = default;
  KeyContext(const KeyContext&) = delete;
  KeyContext& operator=(const KeyContext&) = delete;
  KeyType type() const { return type_; }
  const void* owner() const { return owner_; }  // the backend that expanded it

 protected:
  KeyContext(KeyType type, const void* owner) : type_(type), owner_(owner) {}

 private:
  KeyType type_;
  const void* owner_;
};

struct Job {
  Op op = Op::kSeal;
  const KeyContext* key = nullptr;
  const std::byte* iv = nullptr;      // kIvSize bytes, AES-GCM only
  std::span<const Segment> aad = {};  // AES-GCM only
  std::span<const Segment> in = {};
  std::span<const Segment> out = {};  // AES-GCM only; same total length as in
  std::byte* tag = nullptr;           // seal/HMAC: written; open/verify: expected
  size_t tag_len = kGcmTagSize;       // 16 for AES-GCM; 16 or 32 for HMAC
  uint64_t user_data = 0;
};

struct Completion {
  uint64_t user_data = 0;
  JobStatus status = JobStatus::kOk;
  JobField field = JobField::kNone;
};

// Called by Dispatch() with consecutive completions of one queue.
using CompletionCallback = void (*)(void* ctx, std::span<const Completion> completions);

struct QueueStats {
  uint64_t submitted = 0;  // jobs accepted
  uint64_t completed = 0;  // jobs handed out by Poll/Dispatch
  uint64_t doorbells = 0;  // Submit calls that rang the backend (one per batch)
  uint64_t rejected = 0;   // jobs completed with a status other than ok/auth_failed
};

class Backend;

class CryptoService {
 public:
  struct Options {
    uint32_t num_queues = 1;                              // 1..64
    uint32_t queue_depth = 256;                           // completions held per queue: a power of two, 1..65536
    crypto::Provider provider = crypto::Provider::kAuto;  // software backend's provider
    bool completion_fd = false;                           // give each queue an eventfd (fd())
    // null: the software backend (intel-ipsec-mb / OpenSSL). A backend serves one service.
    std::shared_ptr<Backend> backend = nullptr;
  };

  static StatusOr<std::unique_ptr<CryptoService>> Create(Options options);
  ~CryptoService();
  CryptoService(const CryptoService&) = delete;
  CryptoService& operator=(const CryptoService&) = delete;

  // key: 16 bytes (AES-GCM-128), 32 (AES-GCM-256), any length (HMAC-SHA-256). The key must outlive
  // the jobs that use it and may be destroyed after the service.
  StatusOr<std::unique_ptr<KeyContext>> CreateKey(KeyType type, Bytes key);

  // Accepts up to jobs.size() jobs (fewer only when the completion ring is full) and rings the
  // backend once for all of them. Returns how many were accepted.
  StatusOr<size_t> Submit(uint32_t queue, std::span<const Job> jobs);
  // Moves up to out.size() completions into out; returns how many.
  size_t Poll(uint32_t queue, std::span<Completion> out);
  // Sets (null: clears) the queue's callback; Dispatch() hands it up to `max` completions.
  Status SetCallback(uint32_t queue, CompletionCallback callback, void* ctx);
  size_t Dispatch(uint32_t queue, size_t max = SIZE_MAX);
  // The queue's eventfd (owned by the service; readable while completions are pending), or -1 when
  // Options::completion_fd was off. Poll/Dispatch clear it once the ring is empty.
  int fd(uint32_t queue) const;
  // Completions waiting in the queue.
  size_t pending(uint32_t queue) const;

  uint32_t num_queues() const;
  uint32_t queue_depth() const;
  std::string_view backend_name() const;
  QueueStats stats(uint32_t queue) const;

 private:
  struct Queue;
  CryptoService() = default;
  // For the C ABI: submits jobs produced by fill(ctx, first, count, out) in chunks that reuse the
  // queue's job staging area (no allocation), still with one doorbell.
  friend struct CApiAccess;
  using FillFn = void (*)(const void* ctx, size_t first, size_t count, Job* out);
  size_t SubmitFilled(uint32_t queue, size_t count, FillFn fill, const void* ctx);
  size_t SubmitRange(Queue& q, std::span<const Job> jobs, size_t n);

  std::shared_ptr<Backend> backend_;
  std::unique_ptr<Queue[]> queues_;
  uint32_t num_queues_ = 0;
  uint32_t depth_ = 0;
};

}  // namespace ipsec::cs
