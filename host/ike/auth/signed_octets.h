// The octets an IKEv2 AUTH payload signs or MACs (RFC 7296 §2.15):
//
//   InitiatorSignedOctets = RealMessage1 | NonceRData | MACedIDForI
//   ResponderSignedOctets = RealMessage2 | NonceIData | MACedIDForR
//   MACedIDForX           = prf(SK_px, RestOfIDPayload_X)
//   RestOfIDPayload       = IDType | RESERVED (3 octets) | Identification Data
//
// RealMessage is the whole first message the signer sent (IKE_SA_INIT request or response, header
// included, exactly as on the wire); the nonce is the *peer's* Nonce Data; SK_px is the signer's
// own SK_pi / SK_pr. The result is public (it is what gets signed), but SK_p is only ever read.
#pragma once

#include <cstddef>
#include <vector>

#include "host/common/bytes.h"
#include "host/common/status.h"
#include "host/ike/crypto/prf.h"
#include "host/ike/encoding/payloads/id_payload.h"

namespace ipsec::ike {

// RestOfIDPayload for `id` as this side encodes it (RESERVED zero).
std::vector<std::byte> RestOfIdPayload(const IdPayload& id);

// The signed octets with the ID given as a parsed payload (RESERVED taken as zero). Errors:
// kInvalidArgument for an empty real message or nonce or an SK_p of the wrong size
// (prf.key_size()); kInternal (OpenSSL).
[[nodiscard]] StatusOr<std::vector<std::byte>> BuildSignedOctets(Bytes real_message, Bytes peer_nonce, const Prf& prf,
                                                                 Bytes sk_p, const IdPayload& id);

// The same with RestOfIDPayload given as the ID payload *body as received* (type, the three
// RESERVED octets as sent, data). Use this to verify a peer's AUTH: RFC 7296 §2.15 signs the
// bytes on the wire, so a non-zero RESERVED must not be normalised away. Errors: as above, plus
// a body shorter than 4 bytes.
[[nodiscard]] StatusOr<std::vector<std::byte>> BuildSignedOctetsFromIdBody(Bytes real_message, Bytes peer_nonce,
                                                                           const Prf& prf, Bytes sk_p, Bytes id_body);

}  // namespace ipsec::ike
