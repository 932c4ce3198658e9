// The C ABI (include/ipsec_accel/crypto_service.h) over CryptoService. Handles are the C++ objects
// behind opaque struct names; nothing here throws or crashes on null arguments.
#include <algorithm>
#include <new>
#include <string>

#include "host/crypto_service/crypto_service.h"
#include "host/crypto_service/internal.h"
#include "ipsec_accel/crypto_service.h"

namespace {
// A queue's C callback; the C++ layer calls a trampoline with this as its context.
struct CCallback {
  ipsec_cs_callback fn = nullptr;
  void* ctx = nullptr;
};
}  // namespace

struct ipsec_cs_service {
  std::unique_ptr<ipsec::cs::CryptoService> svc;
  std::unique_ptr<CCallback[]> callbacks;  // one per queue
  std::string name;                        // backend name, NUL-terminated for C
};
struct ipsec_cs_key {
  std::unique_ptr<ipsec::cs::KeyContext> key;
};

namespace ipsec::cs {

struct CApiAccess {
  static size_t Submit(CryptoService& svc, uint32_t queue, const ipsec_cs_job* jobs, size_t count) {
    return svc.SubmitFilled(queue, count, &Fill, jobs);
  }

 private:
  // Segment is ipsec_cs_seg, so lists are used in place. The validator reads no element of a list
  // longer than kMaxSegments.
  static std::span<const Segment> List(const ipsec_cs_seg* segs, uint32_t count) {
    if (count == 0) return {};
    if (segs == nullptr) return {internal::kBadList, 1};
    return {segs, count};
  }

  static void Fill(const void* ctx, size_t first, size_t count, Job* out) {
    const auto* in = static_cast<const ipsec_cs_job*>(ctx) + first;
    for (size_t i = 0; i < count; ++i) {
      const ipsec_cs_job& c = in[i];
      Job& j = out[i];
      j.op = c.op <= IPSEC_CS_OP_HMAC_VERIFY ? static_cast<Op>(c.op) : static_cast<Op>(0xff);
      j.key = c.key != nullptr ? c.key->key.get() : nullptr;
      j.iv = reinterpret_cast<const std::byte*>(c.iv);
      j.aad = List(c.aad, c.aad_count);
      j.in = List(c.in, c.in_count);
      j.out = List(c.out, c.out_count);
      j.tag = reinterpret_cast<std::byte*>(c.tag);
      j.tag_len = c.tag_len;
      j.user_data = c.user_data;
      if (c.reserved != 0) j.op = static_cast<Op>(0xff);
    }
  }
};

}  // namespace ipsec::cs

namespace {

using ipsec::cs::Completion;
using ipsec::cs::CryptoService;

ipsec_cs_completion ToC(const Completion& c) {
  return {c.user_data, static_cast<int32_t>(c.status), static_cast<uint32_t>(c.field)};
}

int FromStatus(const ipsec::Status& s) {
  switch (s.code()) {
    case ipsec::StatusCode::kOk:
      return IPSEC_CS_OK;
    case ipsec::StatusCode::kInvalidArgument:
      return IPSEC_CS_ERR_INVALID_ARGUMENT;
    case ipsec::StatusCode::kUnavailable:
      return IPSEC_CS_ERR_UNAVAILABLE;
    case ipsec::StatusCode::kResourceExhausted:
      return IPSEC_CS_ERR_NO_MEMORY;
    default:
      return IPSEC_CS_ERR_INTERNAL;
  }
}

bool ValidQueue(const ipsec_cs_service* s, uint32_t queue) {
  return s != nullptr && s->svc && queue < s->svc->num_queues();
}

}  // namespace

extern "C" {

uint32_t ipsec_cs_version(void) {
  return IPSEC_CS_VERSION;
}

const char* ipsec_cs_strerror(int error) {
  switch (error) {
    case IPSEC_CS_OK:
      return "ok";
    case IPSEC_CS_ERR_INVALID_ARGUMENT:
      return "invalid argument";
    case IPSEC_CS_ERR_NO_MEMORY:
      return "out of memory";
    case IPSEC_CS_ERR_UNAVAILABLE:
      return "unavailable on this machine";
    case IPSEC_CS_ERR_NOT_ENABLED:
      return "not enabled in the service configuration";
    case IPSEC_CS_ERR_INTERNAL:
      return "internal error";
    default:
      return "unknown error";
  }
}

const char* ipsec_cs_status_name(int32_t status) {
  if (status < 0 || status > IPSEC_CS_STATUS_BACKEND_ERROR) return "unknown";
  return ipsec::cs::JobStatusName(static_cast<ipsec::cs::JobStatus>(status)).data();
}

const char* ipsec_cs_field_name(uint32_t field) {
  if (field > IPSEC_CS_FIELD_TAG) return "unknown";
  return ipsec::cs::JobFieldName(static_cast<ipsec::cs::JobField>(field)).data();
}

const char* ipsec_cs_backend_name(const ipsec_cs_service* service) {
  return service != nullptr ? service->name.c_str() : "none";
}

int ipsec_cs_create(const ipsec_cs_config* config, ipsec_cs_service** out) {
  if (out == nullptr) return IPSEC_CS_ERR_INVALID_ARGUMENT;
  *out = nullptr;
  CryptoService::Options opt;
  if (config != nullptr) {
    if (config->provider > IPSEC_CS_PROVIDER_OPENSSL || (config->flags & ~IPSEC_CS_F_COMPLETION_FD) != 0) {
      return IPSEC_CS_ERR_INVALID_ARGUMENT;
    }
    opt.num_queues = config->num_queues;
    opt.queue_depth = config->queue_depth;
    opt.provider = config->provider == IPSEC_CS_PROVIDER_IPSEC_MB  ? ipsec::crypto::Provider::kIpsecMb
                   : config->provider == IPSEC_CS_PROVIDER_OPENSSL ? ipsec::crypto::Provider::kOpenSsl
                                                                   : ipsec::crypto::Provider::kAuto;
    opt.completion_fd = (config->flags & IPSEC_CS_F_COMPLETION_FD) != 0;
  }
  auto svc = CryptoService::Create(std::move(opt));
  if (!svc.ok()) return FromStatus(svc.status());
  auto* h = new (std::nothrow) ipsec_cs_service();
  if (h == nullptr) return IPSEC_CS_ERR_NO_MEMORY;
  h->svc = std::move(svc).value();
  h->callbacks.reset(new (std::nothrow) CCallback[h->svc->num_queues()]);
  if (!h->callbacks) {
    delete h;
    return IPSEC_CS_ERR_NO_MEMORY;
  }
  h->name = std::string(h->svc->backend_name());
  *out = h;
  return IPSEC_CS_OK;
}

void ipsec_cs_destroy(ipsec_cs_service* service) {
  delete service;
}

int ipsec_cs_key_create(ipsec_cs_service* service, uint32_t type, const uint8_t* key, size_t key_len,
                        ipsec_cs_key** out) {
  if (out == nullptr) return IPSEC_CS_ERR_INVALID_ARGUMENT;
  *out = nullptr;
  if (service == nullptr || !service->svc || type > IPSEC_CS_KEY_HMAC_SHA256) return IPSEC_CS_ERR_INVALID_ARGUMENT;
  if (key == nullptr && key_len != 0) return IPSEC_CS_ERR_INVALID_ARGUMENT;
  auto k = service->svc->CreateKey(static_cast<ipsec::cs::KeyType>(type),
                                   {reinterpret_cast<const std::byte*>(key), key_len});
  if (!k.ok()) return FromStatus(k.status());
  auto* h = new (std::nothrow) ipsec_cs_key();
  if (h == nullptr) return IPSEC_CS_ERR_NO_MEMORY;
  h->key = std::move(k).value();
  *out = h;
  return IPSEC_CS_OK;
}

void ipsec_cs_key_destroy(ipsec_cs_key* key) {
  delete key;
}

int ipsec_cs_submit(ipsec_cs_service* service, uint32_t queue, const ipsec_cs_job* jobs, size_t count,
                    size_t* accepted) {
  if (accepted != nullptr) *accepted = 0;
  if (!ValidQueue(service, queue) || accepted == nullptr || (jobs == nullptr && count != 0)) {
    return IPSEC_CS_ERR_INVALID_ARGUMENT;
  }
  if (count != 0) *accepted = ipsec::cs::CApiAccess::Submit(*service->svc, queue, jobs, count);
  return IPSEC_CS_OK;
}

int ipsec_cs_poll(ipsec_cs_service* service, uint32_t queue, ipsec_cs_completion* out, size_t max, size_t* count) {
  if (count != nullptr) *count = 0;
  if (!ValidQueue(service, queue) || count == nullptr || (out == nullptr && max != 0)) {
    return IPSEC_CS_ERR_INVALID_ARGUMENT;
  }
  Completion chunk[64];
  size_t done = 0;
  while (done < max) {
    const size_t want = std::min<size_t>(max - done, 64);
    const size_t n = service->svc->Poll(queue, {chunk, want});
    for (size_t i = 0; i < n; ++i) out[done + i] = ToC(chunk[i]);
    done += n;
    if (n < want) break;
  }
  *count = done;
  return IPSEC_CS_OK;
}

namespace {
// C callbacks get ipsec_cs_completion arrays; the C++ layer hands out Completion spans, converted
// here in small stack chunks.
void TrampolineC(void* ctx, std::span<const Completion> completions) {
  const auto* cb = static_cast<const CCallback*>(ctx);
  ipsec_cs_completion chunk[64];
  for (size_t off = 0; off < completions.size(); off += 64) {
    const size_t n = std::min<size_t>(completions.size() - off, 64);
    for (size_t i = 0; i < n; ++i) chunk[i] = ToC(completions[off + i]);
    cb->fn(cb->ctx, chunk, n);
  }
}
}  // namespace

int ipsec_cs_set_callback(ipsec_cs_service* service, uint32_t queue, ipsec_cs_callback callback, void* ctx) {
  if (!ValidQueue(service, queue)) return IPSEC_CS_ERR_INVALID_ARGUMENT;
  CCallback& cb = service->callbacks[queue];
  cb.fn = callback;
  cb.ctx = ctx;
  return FromStatus(service->svc->SetCallback(queue, callback != nullptr ? &TrampolineC : nullptr, &cb));
}

int ipsec_cs_dispatch(ipsec_cs_service* service, uint32_t queue, size_t max, size_t* count) {
  if (count != nullptr) *count = 0;
  if (!ValidQueue(service, queue)) return IPSEC_CS_ERR_INVALID_ARGUMENT;
  if (service->callbacks[queue].fn == nullptr) return IPSEC_CS_ERR_NOT_ENABLED;
  const size_t n = service->svc->Dispatch(queue, max);
  if (count != nullptr) *count = n;
  return IPSEC_CS_OK;
}

int ipsec_cs_fd(const ipsec_cs_service* service, uint32_t queue) {
  if (!ValidQueue(service, queue)) return IPSEC_CS_ERR_INVALID_ARGUMENT;
  const int fd = service->svc->fd(queue);
  return fd >= 0 ? fd : IPSEC_CS_ERR_NOT_ENABLED;
}

}  // extern "C"
