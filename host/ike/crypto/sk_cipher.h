// SkCipher: protection of the Encrypted payload SK {...} (RFC 7296 §3.14) and of one Encrypted
// Fragment payload SKF {...} (RFC 7383 §2.5) with ENCR_AES_GCM_16 (RFC 5282) or ENCR_AES_CBC +
// AUTH_HMAC_SHA2_256_128 / _384_192 / _512_256 (RFC 3602, RFC 4868).
//
// Layout of the SK payload body (SKF inserts Fragment Number (2) and Total Fragments (2) first):
//   IV          AES-GCM: 8 bytes (RFC 5282 §3.1); AES-CBC: 16 bytes. From the injected RandomSource.
//   ciphertext  E(inner payloads || padding || Pad Length). AES-CBC pads with zeros to the 16-byte
//               block; AES-GCM needs no alignment and sends no padding (Pad Length 0). On receipt
//               any padding is accepted as long as Pad Length fits.
//   ICV         AES-GCM: the 16-byte tag. AES-CBC: HMAC-SHA-2 truncated to 16/24/32 bytes over the
//               whole message from the first byte of the IKE header to the Pad Length (§3.14).
// AES-GCM nonce = salt (the last 4 bytes of SK_e, RFC 5282 §7.1) || IV; AAD = the message from the
// IKE header through the SK generic header (RFC 5282 §5.1), for SKF through Total Fragments
// (RFC 7383 §2.5). The IKE header's Length and the SK Payload Length are final before the AAD or
// the ICV is computed, so both are authenticated.
//
// Failures are Status values; the code tells the daemon what to do (ClassifySkFailure):
//   kInvalidArgument  malformed framing or contents (INVALID_SYNTAX-worthy): short message, Length
//                     not matching the datagram, payload lengths, SK/SKF not last, body shorter than
//                     IV + ICV, CBC ciphertext not block-aligned, bad fragment numbering, Pad Length
//                     larger than the plaintext (checked only after the ICV verified);
//   kDataLoss         the ICV did not verify (AUTHENTICATION_FAILED-worthy; RFC 7296 §2.21.2 says
//                     to drop such a message silently). The CBC HMAC is checked, in constant time,
//                     before anything is decrypted.
// Error text never contains key or plaintext bytes.
//
// Thread safety: Decrypt is const and safe to call concurrently; Encrypt uses the RandomSource and
// needs external serialization. Keys are held in SecureBytes and wiped on destruction.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "host/common/bytes.h"
#include "host/common/secure_bytes.h"
#include "host/common/status.h"
#include "host/ike/crypto/random_source.h"
#include "host/ike/encoding/ike_constants.h"

namespace ipsec::ike {

// The SK-relevant part of a negotiated IKE SA proposal.
struct SkTransform {
  EncrId encr = EncrId::kAesGcm16;
  uint16_t key_bits = 128;          // Key Length attribute: 128 or 256
  IntegId integ = IntegId::kNone;   // kNone for AES-GCM; required for AES-CBC
};

// Errors: kUnimplemented for a cipher, key size or integrity algorithm not supported here;
// kInvalidArgument for a combination RFC 7296 forbids (AEAD with INTEG, CBC without INTEG).
[[nodiscard]] Status ValidateSkTransform(const SkTransform& t);
// Length of SK_e: cipher key plus the 4-byte salt for AES-GCM. Precondition: t is valid.
size_t SkEncryptionKeySize(const SkTransform& t);
// Length of SK_a for an integrity transform (0 for kNone or unsupported ones).
size_t SkIntegrityKeySize(IntegId integ);

enum class SkFailure : uint8_t {
  kNone,                  // status is OK
  kInvalidSyntax,         // malformed: the daemon may answer INVALID_SYNTAX where §2.21 allows
  kAuthenticationFailed,  // ICV mismatch: drop silently
  kOther,                 // internal/unsupported
};
SkFailure ClassifySkFailure(const Status& status);

struct SkPlaintext {
  PayloadType first_inner = PayloadType::kNone;  // the SK/SKF generic header's Next Payload
  std::vector<std::byte> payloads;               // inner payload chain, padding removed
  bool fragment = false;                         // SKF rather than SK
  uint16_t fragment_number = 0;                  // SKF only
  uint16_t total_fragments = 0;                  // SKF only
};

class SkCipher {
 public:
  // `sk_e`/`sk_a` are SK_ei/SK_ai (initiator's sending direction) or SK_er/SK_ar; `sk_a` is empty
  // for AES-GCM. The keys are copied. `random` supplies IVs and must outlive the SkCipher.
  // Errors: ValidateSkTransform's; kInvalidArgument for key lengths that do not match.
  [[nodiscard]] static StatusOr<std::unique_ptr<SkCipher>> Create(const SkTransform& transform, Bytes sk_e,
                                                                  Bytes sk_a, RandomSource& random);

  // Builds the complete message: `header_and_payloads` (the 28-byte IKE header, then any cleartext
  // payloads, each with a valid generic header) followed by SK { inner }. The last Next Payload
  // field of the prefix is set to SK and the header Length to the final size. `first_inner` is the
  // type of the first payload in `inner` (kNone for an empty INFORMATIONAL). Errors:
  // kInvalidArgument for a prefix whose payload chain does not add up, a first_inner of SK/SKF, or
  // a result whose SK Payload Length would exceed 65535; kInternal.
  [[nodiscard]] StatusOr<std::vector<std::byte>> Encrypt(Bytes header_and_payloads, PayloadType first_inner,
                                                         Bytes inner);

  // The same for one fragment (RFC 7383 §2.5): `content` is this fragment's slice of the inner
  // payload chain; `first_inner` must be kNone unless fragment_number is 1. Errors as Encrypt, plus
  // kInvalidArgument for fragment numbers outside 1..total_fragments.
  [[nodiscard]] StatusOr<std::vector<std::byte>> EncryptFragment(Bytes header_and_payloads, PayloadType first_inner,
                                                                 uint16_t fragment_number, uint16_t total_fragments,
                                                                 Bytes content);

  // Authenticates and decrypts a received message ending in SK or SKF (non-ESP marker already
  // removed). Errors as described at the top of this file.
  [[nodiscard]] StatusOr<SkPlaintext> Decrypt(Bytes message) const;

  // Bytes SK (or SKF) adds around `inner_size` bytes of payloads: header, IV, padding, Pad Length,
  // ICV. Lets the fragmentation code size fragments to a PMTU.
  size_t Overhead(size_t inner_size, bool fragment) const;

  ~SkCipher();
  SkCipher(const SkCipher&) = delete;
  SkCipher& operator=(const SkCipher&) = delete;

 private:
  SkCipher(const SkTransform& transform, SecureBytes enc_key, SecureBytes salt, SecureBytes auth_key,
           RandomSource& random);

  struct FragmentFields {
    uint16_t number;
    uint16_t total;
  };
  StatusOr<std::vector<std::byte>> EncryptImpl(Bytes prefix, PayloadType first_inner, const FragmentFields* frag,
                                               Bytes inner);
  size_t PaddingFor(size_t inner_size) const;

  SkTransform transform_;
  bool aead_;
  size_t iv_size_;
  size_t icv_size_;
  SecureBytes enc_key_;   // AES key without the salt
  SecureBytes salt_;      // AES-GCM: 4 bytes; AES-CBC: empty
  SecureBytes auth_key_;  // AES-CBC: HMAC key; AES-GCM: empty
  RandomSource& random_;
};

}  // namespace ipsec::ike
