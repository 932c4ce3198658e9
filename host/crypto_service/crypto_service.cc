// CryptoService: queues, completion rings, validation and the completion paths (poll, callback,
// eventfd). The jobs themselves run in the backend (backend.h).
#include "host/crypto_service/crypto_service.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "host/crypto_service/backend.h"
#include "host/crypto_service/internal.h"

namespace ipsec::cs {

namespace internal {
const Segment kBadList[1] = {};
}  // namespace internal

namespace {

// GCM limits (NIST SP 800-38D): plaintext up to 2^39 - 256 bits; AAD is capped at the same size.
constexpr uint64_t kMaxGcmBytes = (uint64_t{1} << 36) - 32;

struct Verdict {
  JobStatus status = JobStatus::kOk;
  JobField field = JobField::kNone;
};
constexpr Verdict Bad(JobField f) {
  return {JobStatus::kInvalidArgument, f};
}

// Checks one scatter-gather list; *total receives the sum of its lengths.
inline Verdict CheckList(std::span<const Segment> segs, JobField field, uint64_t* total) {
  if (segs.data() == internal::kBadList) return Bad(field);
  if (segs.size() > kMaxSegments) return {JobStatus::kTooManySegments, field};
  uint64_t sum = 0;
  for (const Segment& s : segs) {
    if (s.base == nullptr && s.len != 0) return Bad(field);
    if (s.len > kMaxGcmBytes) return Bad(field);
    sum += s.len;  // at most 16 * 2^36: no overflow
  }
  *total = sum;
  return {};
}

inline Verdict Validate(const Job& job, const void* backend) {
  if (job.op > Op::kHmacVerify) return Bad(JobField::kOp);
  const KeyContext* key = job.key;
  if (key == nullptr || key->owner() != backend) return Bad(JobField::kKey);
  const bool gcm = job.op == Op::kSeal || job.op == Op::kOpen;
  if (gcm != (key->type() != KeyType::kHmacSha256)) return Bad(JobField::kKey);
  uint64_t in_total = 0;
  if (gcm) {
    if (job.iv == nullptr) return Bad(JobField::kIv);
    uint64_t aad_total = 0, out_total = 0;
    Verdict v = CheckList(job.aad, JobField::kAad, &aad_total);
    if (v.status != JobStatus::kOk) return v;
    if (aad_total > kMaxGcmBytes) return Bad(JobField::kAad);
    v = CheckList(job.in, JobField::kInput, &in_total);
    if (v.status != JobStatus::kOk) return v;
    if (in_total > kMaxGcmBytes) return Bad(JobField::kInput);
    v = CheckList(job.out, JobField::kOutput, &out_total);
    if (v.status != JobStatus::kOk) return v;
    if (out_total != in_total) return Bad(JobField::kOutput);
    if (job.tag == nullptr || job.tag_len != kGcmTagSize) return Bad(JobField::kTag);
    return {};
  }
  if (!job.aad.empty()) return Bad(JobField::kAad);
  const Verdict v = CheckList(job.in, JobField::kInput, &in_total);
  if (v.status != JobStatus::kOk) return v;
  if (!job.out.empty()) return Bad(JobField::kOutput);
  if (job.tag == nullptr || (job.tag_len != 16 && job.tag_len != 32)) return Bad(JobField::kTag);
  return {};
}

}  // namespace

struct CryptoService::Queue {
  std::unique_ptr<Completion[]> ring;
  uint64_t head = 0;  // next completion to hand out
  uint64_t tail = 0;  // next free slot
  int efd = -1;
  bool fd_signalled = false;
  CompletionCallback callback = nullptr;
  void* callback_ctx = nullptr;
  std::unique_ptr<Job[]> staging;  // C ABI: jobs converted from ipsec_cs_job
  QueueStats stats;

  ~Queue() {
    if (efd >= 0) close(efd);
  }
};

std::string_view KeyTypeName(KeyType t) {
  switch (t) {
    case KeyType::kAesGcm128:
      return "aes-gcm-128";
    case KeyType::kAesGcm256:
      return "aes-gcm-256";
    case KeyType::kHmacSha256:
      return "hmac-sha256";
  }
  return "?";
}

std::string_view JobStatusName(JobStatus s) {
  switch (s) {
    case JobStatus::kOk:
      return "ok";
    case JobStatus::kAuthFailed:
      return "auth_failed";
    case JobStatus::kInvalidArgument:
      return "invalid_argument";
    case JobStatus::kTooManySegments:
      return "too_many_segments";
    case JobStatus::kBackendError:
      return "backend_error";
  }
  return "unknown";
}

std::string_view JobFieldName(JobField f) {
  switch (f) {
    case JobField::kNone:
      return "none";
    case JobField::kOp:
      return "op";
    case JobField::kKey:
      return "key";
    case JobField::kIv:
      return "iv";
    case JobField::kAad:
      return "aad";
    case JobField::kInput:
      return "input";
    case JobField::kOutput:
      return "output";
    case JobField::kTag:
      return "tag";
  }
  return "unknown";
}

StatusOr<std::unique_ptr<CryptoService>> CryptoService::Create(Options options) {
  if (options.num_queues == 0 || options.num_queues > 64) {
    return InvalidArgumentError("num_queues must be 1..64");
  }
  const uint32_t depth = options.queue_depth;
  if (depth == 0 || depth > 65536 || (depth & (depth - 1)) != 0) {
    return InvalidArgumentError("queue_depth must be a power of two in 1..65536");
  }
  std::unique_ptr<CryptoService> svc(new CryptoService());
  if (options.backend) {
    svc->backend_ = std::move(options.backend);
  } else {
    ASSIGN_OR_RETURN(svc->backend_, MakeSoftwareBackend(options.provider));
  }
  RETURN_IF_ERROR(svc->backend_->Init(options.num_queues, depth));
  svc->num_queues_ = options.num_queues;
  svc->depth_ = depth;
  svc->queues_ = std::make_unique<Queue[]>(options.num_queues);
  for (uint32_t i = 0; i < options.num_queues; ++i) {
    Queue& q = svc->queues_[i];
    q.ring = std::make_unique<Completion[]>(depth);
    q.staging = std::make_unique<Job[]>(depth);
    if (options.completion_fd) {
      q.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      if (q.efd < 0) return ResourceExhaustedError("eventfd failed (errno " + std::to_string(errno) + ")");
    }
  }
  return svc;
}

CryptoService::~CryptoService() = default;

StatusOr<std::unique_ptr<KeyContext>> CryptoService::CreateKey(KeyType type, Bytes key) {
  switch (type) {
    case KeyType::kAesGcm128:
      if (key.size() != 16) return InvalidArgumentError("AES-GCM-128 key must be 16 bytes");
      break;
    case KeyType::kAesGcm256:
      if (key.size() != 32) return InvalidArgumentError("AES-GCM-256 key must be 32 bytes");
      break;
    case KeyType::kHmacSha256:
      if (key.data() == nullptr && !key.empty()) return InvalidArgumentError("HMAC key pointer is null");
      break;
    default:
      return InvalidArgumentError("unknown key type");
  }
  return backend_->CreateKey(type, key);
}

size_t CryptoService::SubmitRange(Queue& q, std::span<const Job> jobs, size_t n) {
  const uint32_t mask = depth_ - 1;
  const auto start = static_cast<uint32_t>(q.tail & mask);
  const void* owner = backend_.get();
  uint64_t rejected = 0;
  for (size_t i = 0; i < n; ++i) {
    const Job& job = jobs[i];
    const Verdict v = Validate(job, owner);
    Completion& c = q.ring[(start + i) & mask];
    c.user_data = job.user_data;
    c.status = v.status;
    c.field = v.field;
    rejected += v.status != JobStatus::kOk;
  }
  // The doorbell: one backend call for the whole batch.
  backend_->Process(static_cast<uint32_t>(&q - queues_.get()), jobs.first(n),
                    CompletionSlots(q.ring.get(), start, mask));
  q.tail += n;
  q.stats.submitted += n;
  q.stats.doorbells += 1;
  q.stats.rejected += rejected;
  if (q.efd >= 0 && !q.fd_signalled) {
    const uint64_t one = 1;
    if (write(q.efd, &one, sizeof(one)) == sizeof(one)) q.fd_signalled = true;
  }
  return n;
}

StatusOr<size_t> CryptoService::Submit(uint32_t queue, std::span<const Job> jobs) {
  if (queue >= num_queues_) return InvalidArgumentError("queue index out of range");
  Queue& q = queues_[queue];
  const size_t n = std::min<size_t>(jobs.size(), depth_ - (q.tail - q.head));
  if (n == 0) return size_t{0};
  return SubmitRange(q, jobs, n);
}

size_t CryptoService::SubmitFilled(uint32_t queue, size_t count, FillFn fill, const void* ctx) {
  Queue& q = queues_[queue];
  const size_t n = std::min<size_t>(count, depth_ - (q.tail - q.head));
  if (n == 0) return 0;
  fill(ctx, 0, n, q.staging.get());
  return SubmitRange(q, {q.staging.get(), n}, n);
}

namespace {
void ClearFd(int efd, bool* signalled) {
  uint64_t v;
  // Non-blocking: EAGAIN when not signalled, which is fine.
  if (read(efd, &v, sizeof(v)) < 0 && errno != EAGAIN) return;
  *signalled = false;
}
}  // namespace

size_t CryptoService::Poll(uint32_t queue, std::span<Completion> out) {
  if (queue >= num_queues_) return 0;
  Queue& q = queues_[queue];
  const uint32_t mask = depth_ - 1;
  const size_t n = std::min<size_t>(out.size(), q.tail - q.head);
  for (size_t i = 0; i < n; ++i) out[i] = q.ring[(q.head + i) & mask];
  q.head += n;
  q.stats.completed += n;
  if (q.efd >= 0 && q.fd_signalled && q.head == q.tail) ClearFd(q.efd, &q.fd_signalled);
  return n;
}

Status CryptoService::SetCallback(uint32_t queue, CompletionCallback callback, void* ctx) {
  if (queue >= num_queues_) return InvalidArgumentError("queue index out of range");
  queues_[queue].callback = callback;
  queues_[queue].callback_ctx = ctx;
  return OkStatus();
}

size_t CryptoService::Dispatch(uint32_t queue, size_t max) {
  if (queue >= num_queues_) return 0;
  Queue& q = queues_[queue];
  if (q.callback == nullptr) return 0;
  const uint32_t mask = depth_ - 1;
  size_t done = 0;
  // Hand out contiguous runs of the ring (at most two: before and after the wrap). The callback may
  // submit to this queue again (the new completions go to a later Dispatch) but must not poll or
  // dispatch it.
  size_t avail = std::min<size_t>(max, q.tail - q.head);
  while (avail != 0) {
    const size_t at = q.head & mask;
    const size_t run = std::min<size_t>(avail, depth_ - at);
    // The slots stay reserved until the callback returns, so a Submit from inside it cannot
    // overwrite them.
    q.callback(q.callback_ctx, {&q.ring[at], run});
    q.head += run;
    q.stats.completed += run;
    avail -= run;
    done += run;
  }
  if (q.efd >= 0 && q.fd_signalled && q.head == q.tail) ClearFd(q.efd, &q.fd_signalled);
  return done;
}

int CryptoService::fd(uint32_t queue) const {
  return queue < num_queues_ ? queues_[queue].efd : -1;
}

size_t CryptoService::pending(uint32_t queue) const {
  return queue < num_queues_ ? static_cast<size_t>(queues_[queue].tail - queues_[queue].head) : 0;
}

uint32_t CryptoService::num_queues() const {
  return num_queues_;
}
uint32_t CryptoService::queue_depth() const {
  return depth_;
}
std::string_view CryptoService::backend_name() const {
  return backend_->name();
}
QueueStats CryptoService::stats(uint32_t queue) const {
  return queue < num_queues_ ? queues_[queue].stats : QueueStats{};
}

}  // namespace ipsec::cs
