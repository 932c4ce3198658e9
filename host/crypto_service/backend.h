// The backend interface of the crypto service: what runs the jobs. The software backend
// (software_backend.h: intel-ipsec-mb, OpenSSL fallback) is the only one today; the card contract
// offloads ESP only, so a card backend would implement this interface once the card grows a
// look-aside crypto queue (docs/crypto_service.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "host/common/bytes.h"
#include "host/common/status.h"
#include "host/crypto_service/crypto_service.h"

namespace ipsec::cs {

// The completion slots reserved in a queue's ring for one batch: slot i belongs to jobs[i]. The
// ring wraps, so the slots are addressed through a mask.
class CompletionSlots {
 public:
  CompletionSlots(Completion* ring, uint32_t start, uint32_t mask) : ring_(ring), start_(start), mask_(mask) {}
  Completion& operator[](size_t i) const { return ring_[(start_ + i) & mask_]; }

 private:
  Completion* ring_;
  uint32_t start_;
  uint32_t mask_;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;
  // Called once by CryptoService::Create before any other call.
  virtual Status Init(uint32_t num_queues, uint32_t queue_depth) = 0;
  // Expands a key (size already checked by the service). The context's owner() must be `this`.
  virtual StatusOr<std::unique_ptr<KeyContext>> CreateKey(KeyType type, Bytes key) = 0;
  // The doorbell: one call per Submit batch. The service has validated every job; slots[i].status is
  // kOk for the jobs to run and already carries the error of the jobs to skip. A synchronous backend
  // (the software one) runs the jobs before returning and writes each result into slots[i].
  // Called by the one thread that owns `queue`; batches never exceed the queue depth.
  virtual void Process(uint32_t queue, std::span<const Job> jobs, const CompletionSlots& slots) = 0;
};

// The software backend: intel-ipsec-mb, or OpenSSL 3 when ipsec-mb does not run on this CPU (or
// when asked for), following host/crypto's provider rules.
StatusOr<std::unique_ptr<Backend>> MakeSoftwareBackend(crypto::Provider provider);

}  // namespace ipsec::cs
