// X.509 certificates for IKEv2: the Certificate wrapper, CERT (encoding 4, RFC 7296 §3.6) and
// CERTREQ (§3.7) payload helpers, chain verification against configured CAs, and matching a
// certificate to the peer's IDi/IDr (§3.5, RFC 4945 §3.1 style).
//
// Trust model: every CA certificate added to a TrustStore is a trust anchor, whether or not it is
// self-signed (OpenSSL X509_V_FLAG_PARTIAL_CHAIN), as strongSwan treats configured CAs. Chains are
// checked with X509_verify_cert: signatures, validity at the verification time (now, or an injected
// time), basic constraints and path length, purpose "any". No CRL/OCSP checks yet.
//
// Identity matching (CertMatchesIdentity):
//   ID_FQDN         a dNSName SAN equal to the ID, ASCII case-insensitive (no wildcards)
//   ID_RFC822_ADDR  an rfc822Name SAN equal to the ID (domain part case-insensitive)
//   ID_IPV4_ADDR /  an iPAddress SAN with the same 4 / 16 octets
//   ID_IPV6_ADDR
//   ID_DER_ASN1_DN  the subject DN, compared in canonical form (X509_NAME_cmp), or a
//                   directoryName SAN equal to it
//   others          never match (KEY_ID, NULL, ...)
// The subject CN is never used for FQDN matching.
#pragma once

#include <openssl/types.h>

#include <ctime>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "host/common/bytes.h"
#include "host/common/status.h"
#include "host/ike/auth/keys.h"
#include "host/ike/encoding/ike_constants.h"
#include "host/ike/encoding/payloads/cert_payload.h"
#include "host/ike/encoding/payloads/certreq_payload.h"

namespace ipsec::ike {

// RFC 7296 §3.7: each CA is named by the SHA-1 of its SubjectPublicKeyInfo.
inline constexpr size_t kCertReqHashSize = 20;

struct SubjectAltName {
  enum class Type : uint8_t { kDns, kRfc822, kIpAddress, kDirectoryName, kUri, kOther };
  Type type = Type::kOther;
  std::vector<std::byte> value;  // the IA5String text, the 4/16 address octets, or the DER Name
  friend bool operator==(const SubjectAltName&, const SubjectAltName&) = default;
};

class Certificate {
 public:
  // One DER Certificate with nothing after it. Errors: kInvalidArgument.
  [[nodiscard]] static StatusOr<Certificate> FromDer(Bytes der);
  // The first certificate in PEM text. Errors: kInvalidArgument.
  [[nodiscard]] static StatusOr<Certificate> FromPem(Bytes pem);
  // Every certificate in PEM text (a bundle), in order. Errors: kInvalidArgument when there is none.
  [[nodiscard]] static StatusOr<std::vector<Certificate>> AllFromPem(Bytes pem);
  // PEM or DER by content. Errors: kNotFound (unreadable); as above.
  [[nodiscard]] static StatusOr<Certificate> FromFile(const std::string& path);

  // The DER encoding as received or loaded.
  const std::vector<std::byte>& der() const { return *der_; }
  // The subject public key. Errors: kUnimplemented for key types we do not support.
  [[nodiscard]] StatusOr<PublicKey> GetPublicKey() const;
  // The DER SubjectPublicKeyInfo and its SHA-1 (the CERTREQ authority hash of this cert as a CA).
  std::vector<std::byte> SpkiDer() const;
  std::vector<std::byte> SpkiSha1() const;
  // DER encodings of the subject and issuer Names.
  std::vector<std::byte> SubjectDer() const;
  std::vector<std::byte> IssuerDer() const;
  // One-line RFC 2253 subject for logs ("CN=gw.example,O=Example").
  std::string SubjectText() const;
  std::vector<SubjectAltName> SubjectAltNames() const;

  X509* native() const { return x509_.get(); }

 private:
  Certificate(std::shared_ptr<X509> x, std::shared_ptr<const std::vector<std::byte>> der)
      : x509_(std::move(x)), der_(std::move(der)) {}
  static StatusOr<Certificate> FromX509(X509* x);  // takes ownership
  std::shared_ptr<X509> x509_;
  std::shared_ptr<const std::vector<std::byte>> der_;
};

class TrustStore {
 public:
  TrustStore();

  // Adds a trust anchor. Errors: kInvalidArgument when it is not a CA (basicConstraints cA false
  // on a v3 certificate) or already present (kAlreadyExists).
  Status AddCa(const Certificate& ca);
  const std::vector<Certificate>& cas() const { return cas_; }

  // CERTREQ authority data: the concatenated SHA-1 SPKI hashes of every CA, in insertion order.
  std::vector<std::byte> CertReqAuthorities() const;
  // The configured CAs a received CERTREQ (X.509 encoding 4) names; hashes we do not know and a
  // ragged tail are ignored. An empty authority list names none.
  std::vector<Certificate> CasRequestedBy(const CertReqPayload& req) const;

  struct VerifyOptions {
    std::optional<std::time_t> at_time;  // verification time; now when unset (tests inject it)
  };
  // Verifies `end_entity` up to one of our CAs, using `intermediates` (untrusted, in any order) to
  // build the path. Errors: kFailedPrecondition with OpenSSL's reason and the depth and subject of
  // the offending certificate ("certificate has expired at depth 0 (CN=...)"); kInternal.
  [[nodiscard]] Status VerifyChain(const Certificate& end_entity, std::span<const Certificate> intermediates,
                                   const VerifyOptions& options) const;
  [[nodiscard]] Status VerifyChain(const Certificate& end_entity, std::span<const Certificate> intermediates) const {
    return VerifyChain(end_entity, intermediates, VerifyOptions{});
  }

 private:
  std::vector<Certificate> cas_;
};

// CERT payload with encoding 4 carrying `cert`.
CertPayload BuildCertPayload(const Certificate& cert);
// The certificate in a CERT payload. Errors: kUnimplemented for encodings other than 4 (hash and
// URL, PKCS#7, raw keys ...); kInvalidArgument when the DER does not parse.
[[nodiscard]] StatusOr<Certificate> ParseCertPayload(const CertPayload& payload);
// CERTREQ (encoding 4) naming every CA of `store`.
CertReqPayload BuildCertReqPayload(const TrustStore& store);

// Whether `cert` may stand for the identity (id_type, id_data) of an ID payload; see above.
bool CertMatchesIdentity(const Certificate& cert, IdType id_type, Bytes id_data);

}  // namespace ipsec::ike
