// IKEv2 key derivation: SKEYSEED and the IKE SA keys (RFC 7296 §2.14), SKEYSEED for a rekeyed IKE
// SA (§2.18), and CHILD_SA KEYMAT (§2.17) delivered as sa::KeyMaterial for the ESP data path.
//
//   SKEYSEED          = prf(Ni | Nr, g^ir)
//   {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)
//   SKEYSEED (rekey)  = prf(SK_d (old), g^ir (new) | Ni | Nr), with the *old* IKE SA's PRF
//   KEYMAT            = prf+(SK_d, [g^ir (new) |] Ni | Nr)
//
// Lengths: SK_d/SK_pi/SK_pr are the PRF's key size (= its output size for HMAC-SHA-2, RFC 4868);
// SK_ai/SK_ar the integrity transform's key size and empty for AEAD ciphers; SK_ei/SK_er the
// cipher key plus, for AES-GCM, the 4-byte salt taken from its end (RFC 5282 §7.1). SPIs go in as
// their 8 wire bytes (big-endian), nonces without their payload headers, g^ir as KeyExchange
// returns it (already padded, key_exchange.h).
//
// KEYMAT is split in the order of §2.17: the initiator-to-responder encryption key, then its
// integrity key, then the responder-to-initiator encryption key and integrity key. For an ESP suite
// the "encryption key" is enc key || salt for AEAD/GMAC (RFC 4106 §8.1, RFC 4543 §3.2) and the
// integrity key the HMAC key (RFC 4868), exactly sa::KeyMaterial's layout.
//
// All outputs are SecureBytes; inputs are only read. Thread safety: pure functions.
#pragma once

#include <cstdint>

#include "host/common/bytes.h"
#include "host/common/secure_bytes.h"
#include "host/common/status.h"
#include "host/ike/crypto/prf.h"
#include "host/ike/crypto/sk_cipher.h"
#include "host/sa/sa_config.h"
#include "host/sa/suite.h"

namespace ipsec::ike {

// The negotiated IKE SA transforms that fix the key lengths.
struct IkeSaTransforms {
  SkTransform sk;  // ENCR (+ key length) and INTEG (kNone for AEAD)
  PrfId prf = PrfId::kHmacSha2_256;
};

struct IkeSaKeys {
  SecureBytes sk_d;
  SecureBytes sk_ai;  // empty for AEAD
  SecureBytes sk_ar;  // empty for AEAD
  SecureBytes sk_ei;  // key || salt for AES-GCM
  SecureBytes sk_er;
  SecureBytes sk_pi;
  SecureBytes sk_pr;
};

struct ChildSaKeys {
  sa::KeyMaterial initiator_to_responder;  // outbound for the initiator, inbound for the responder
  sa::KeyMaterial responder_to_initiator;
};

// SKEYSEED = prf(Ni | Nr, g^ir). Errors: kInternal.
[[nodiscard]] StatusOr<SecureBytes> ComputeSkeyseed(const Prf& prf, Bytes ni, Bytes nr, Bytes g_ir);

// SKEYSEED for the new IKE SA of a CREATE_CHILD_SA rekey; `old_prf` is the PRF of the IKE SA
// being rekeyed (§2.18), `ni`/`nr` the nonces of the rekeying exchange. Errors: kInternal.
[[nodiscard]] StatusOr<SecureBytes> ComputeRekeySkeyseed(const Prf& old_prf, Bytes old_sk_d, Bytes g_ir_new, Bytes ni,
                                                         Bytes nr);

// The seven IKE SA keys. `prf` must be the PRF named in `transforms` (checked). Errors:
// kInvalidArgument for an invalid transform combination (e.g. AES-CBC without INTEG, GCM with
// INTEG), kUnimplemented for unsupported transforms, kInternal.
[[nodiscard]] StatusOr<IkeSaKeys> DeriveIkeSaKeys(const Prf& prf, Bytes skeyseed, Bytes ni, Bytes nr, uint64_t spi_i,
                                                  uint64_t spi_r, const IkeSaTransforms& transforms);

// CHILD_SA keys for one ESP SA pair using `suite`; `g_ir_new` is empty unless the CREATE_CHILD_SA
// exchange carried KE payloads (PFS). `prf` is the IKE SA's PRF and `sk_d` its SK_d. Errors:
// kInternal.
[[nodiscard]] StatusOr<ChildSaKeys> DeriveChildSaKeys(const Prf& prf, Bytes sk_d, Bytes g_ir_new, Bytes ni, Bytes nr,
                                                      sa::Suite suite);

}  // namespace ipsec::ike
