// Signature authentication for IKEv2 AUTH payloads: the RFC 7427 Digital Signature method (14),
// the classic RSA (1, RFC 7296) and ECDSA (9/10/11, RFC 4754) methods, and the RFC 7427 hash
// negotiation through N(SIGNATURE_HASH_ALGORITHMS).
//
// Method 14 AUTH data = ASN.1 Length (1 octet) | AlgorithmIdentifier (DER) | Signature Value, with
// the AlgorithmIdentifier encodings of RFC 7427 Appendix A:
//   sha{256,384,512}WithRSAEncryption  RSASSA-PKCS1-v1_5; NULL parameters (absent accepted)
//   id-RSASSA-PSS                      explicit parameters: hash, MGF1 with the same hash, salt =
//                                      hash length (we send); any salt accepted, MGF1 hash must match
//   ecdsa-with-SHA{256,384,512}        parameters absent; signature is a DER ECDSA-Sig-Value; any
//                                      curve with any of the three hashes (RFC 7427 §3)
//   id-Ed25519                         RFC 8420; hash "Identity" (5)
// Classic methods: 1 = RSASSA-PKCS1-v1_5 with SHA-1 (legacy; only when the peer does not speak
// RFC 7427), 9/10/11 = ECDSA with SHA-256/384/512 on P-256/384/521, signature r | s each
// left-padded to the field size (64/96/132 octets, not DER).
//
// Choosing what to send (ChooseSignature):
//   - The peer announced hashes (it sent N(SIGNATURE_HASH_ALGORITHMS)): method 14 with the first
//     hash in our preference for the key that the peer announced. Preferences: RSA SHA-256, -384,
//     -512; EC the hash matching the curve first (P-256 SHA-256, P-384 SHA-384, P-521 SHA-512),
//     then the larger, then the smaller ones; Ed25519 Identity only.
//   - RSA keys sign RSASSA-PSS by default (RFC 8247 makes PSS the MUST; libreswan refuses PKCS#1
//     v1.5 with SHA-2 by default; strongSwan verifies both). SignOptions::rsa_pss = false sends
//     sha*WithRSAEncryption as strongSwan does unless configured for rsa/pss. We verify both.
//   - Nothing usable announced: the classic method for the key (RSA 1, P-256 9, P-384 10, P-521 11)
//     unless SignOptions::allow_classic is false; Ed25519 has no classic method.
//
// Verifying (VerifyAuth): the AUTH method and (for 14) the AlgorithmIdentifier must be ones we
// accept, consistent with the peer's key type, and (for 14) the signature hash must be one we
// announced. Error codes: kInvalidArgument malformed AUTH data; kUnimplemented an algorithm we do
// not support; kFailedPrecondition a valid but unacceptable choice (hash not announced, key type
// mismatch, method not allowed); kDataLoss the signature does not verify. All of them mean
// AUTHENTICATION_FAILED on the wire. No key or signature bytes appear in error texts.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "host/common/bytes.h"
#include "host/common/status.h"
#include "host/ike/auth/keys.h"
#include "host/ike/encoding/ike_constants.h"
#include "host/ike/encoding/payloads/notify_payload.h"

namespace ipsec::ike {

enum class SignatureScheme : uint8_t {
  kRsaPkcs1Sha1,  // classic method 1 only; never in method 14
  kRsaPkcs1Sha256,
  kRsaPkcs1Sha384,
  kRsaPkcs1Sha512,
  kRsaPssSha256,
  kRsaPssSha384,
  kRsaPssSha512,
  kEcdsaSha256,
  kEcdsaSha384,
  kEcdsaSha512,
  kEd25519,
};

std::string_view SignatureSchemeName(SignatureScheme s);
// The RFC 7427 hash of a scheme (kSha1 for kRsaPkcs1Sha1, kIdentity for Ed25519).
HashAlgorithm SignatureSchemeHash(SignatureScheme s);

// What we support and announce in N(SIGNATURE_HASH_ALGORITHMS), in this order. SHA-1 is not
// among them (RFC 8247 §3.2: MUST NOT for method 14).
inline constexpr HashAlgorithm kSupportedSignatureHashes[] = {HashAlgorithm::kSha2_256, HashAlgorithm::kSha2_384,
                                                              HashAlgorithm::kSha2_512, HashAlgorithm::kIdentity};

// N(SIGNATURE_HASH_ALGORITHMS) announcing `hashes` (RFC 7427 §4: a list of 2-octet IDs).
NotifyPayload BuildSignatureHashAlgorithmsNotify(std::span<const HashAlgorithm> hashes = kSupportedSignatureHashes);
// The peer's announced hashes from the notification data, keeping those we support, without
// duplicates, in the peer's order (unknown values are ignored as RFC 7427 §4 requires). Errors:
// kInvalidArgument for odd-length or empty data.
[[nodiscard]] StatusOr<std::vector<HashAlgorithm>> ParsePeerSignatureHashes(Bytes notify_data);

// The DER AlgorithmIdentifier we send for `s` (RFC 7427 Appendix A encodings; PSS with explicit
// parameters and salt = hash length).
std::vector<std::byte> AlgorithmIdentifierDer(SignatureScheme s);

struct ParsedAlgorithm {
  SignatureScheme scheme;
  size_t pss_salt_length = 0;  // RSASSA-PSS only
};
// Parses a DER AlgorithmIdentifier into a scheme we support. Errors: kInvalidArgument (not DER,
// bad parameters for the OID, trailing bytes); kUnimplemented (OID or PSS hash we do not support,
// sha1WithRSAEncryption included).
[[nodiscard]] StatusOr<ParsedAlgorithm> ParseAlgorithmIdentifier(Bytes der);

struct SignOptions {
  bool rsa_pss = true;        // method 14 with an RSA key: RSASSA-PSS (else PKCS#1 v1.5)
  bool allow_classic = true;  // fall back to methods 1/9/10/11 when the peer announced nothing usable
};

struct SignatureChoice {
  AuthMethod method;
  SignatureScheme scheme;
  friend bool operator==(const SignatureChoice&, const SignatureChoice&) = default;
};

// Picks the AUTH method and scheme for `key` given the peer's announced hashes (empty when it sent
// no N(SIGNATURE_HASH_ALGORITHMS)); see the header comment. Errors: kFailedPrecondition when there
// is no acceptable choice.
[[nodiscard]] StatusOr<SignatureChoice> ChooseSignature(const PrivateKey& key,
                                                        std::span<const HashAlgorithm> peer_hashes,
                                                        const SignOptions& options = {});

// The AUTH payload data for `choice` over `signed_octets`. Errors: kInvalidArgument when the
// choice does not fit the key (e.g. method 9 with a P-384 key, PSS with an EC key, a classic method
// with a scheme other than its fixed one); kInternal (OpenSSL).
[[nodiscard]] StatusOr<std::vector<std::byte>> SignAuth(const PrivateKey& key, const SignatureChoice& choice,
                                                        Bytes signed_octets);

struct VerifyOptions {
  bool accept_rsa_sha1_classic = true;  // method 1 (legacy RSA with SHA-1); set false to refuse
  bool accept_rsa_pkcs1 = true;         // method 14 with sha*WithRSAEncryption (else only PSS)
};

// Verifies a received AUTH payload (method + data) against the peer's public key. `announced` is
// the list of hashes WE sent in N(SIGNATURE_HASH_ALGORITHMS); it only matters for method 14.
// Errors: see the header comment.
[[nodiscard]] Status VerifyAuth(const PublicKey& peer_key, AuthMethod method, Bytes auth_data, Bytes signed_octets,
                                std::span<const HashAlgorithm> announced = kSupportedSignatureHashes,
                                const VerifyOptions& options = {});

// RFC 4754 r|s <-> DER ECDSA-Sig-Value, for `field_size` octets per integer (32, 48, 66).
// Errors: kInvalidArgument.
[[nodiscard]] StatusOr<std::vector<std::byte>> EcdsaDerToRaw(Bytes der, size_t field_size);
[[nodiscard]] StatusOr<std::vector<std::byte>> EcdsaRawToDer(Bytes raw, size_t field_size);

}  // namespace ipsec::ike
