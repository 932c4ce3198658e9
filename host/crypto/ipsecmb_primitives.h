// Factories for the intel-ipsec-mb provider (internal to host/crypto; use the Create() functions),
// and the per-thread IMB_MGR they share.
#pragma once
#include <intel-ipsec-mb.h>

#include "host/crypto/primitives.h"

namespace ipsec::crypto {
// The calling thread's ipsec-mb manager (created on first use, freed at thread exit), or nullptr
// when the library cannot run on this CPU. IMB_MGR is not thread-safe, hence one per thread.
IMB_MGR* ThreadImbMgr();
// The calling thread's SSE-architecture manager (falls back to ThreadImbMgr()): single-buffer
// HMAC-SHA-256 on the SHA extensions, for one-off computations that cannot be batched.
IMB_MGR* ThreadImbSseMgr();

StatusOr<std::unique_ptr<Aead>> MakeIpsecMbAead(Aead::Algorithm alg, Bytes key);
StatusOr<std::unique_ptr<HmacSha256>> MakeIpsecMbHmacSha256(Bytes key);
StatusOr<std::unique_ptr<AesCbc>> MakeIpsecMbAesCbc(Bytes key);
StatusOr<std::unique_ptr<CbcHmacSha256>> MakeIpsecMbCbcHmac(Bytes cipher_key, Bytes mac_key);
}  // namespace ipsec::crypto
