// libFuzzer target: the IKE auth layer (host/ike/auth) on untrusted AUTH and CERT data.
//
// Byte 0 picks the mode, the rest is the payload:
//   0  AUTH data: byte 1 picks the AUTH method (14, 1, 9, 10, 11), byte 2 the peer key (RSA 2048,
//      P-256, P-384, P-521, Ed25519; fixed per process), the rest is the authentication data,
//      verified over fixed signed octets. Oracles: no crash; never kInternal; for method 14 an
//      AlgorithmIdentifier that parses re-encodes to one that parses to the same scheme.
//   1  CERT data (encoding 4): parsed as a certificate; on success every accessor, identity
//      matching for each ID type and chain verification against a fixed CA run. Oracles: no
//      crash; the SPKI hash is 20 bytes; a certificate matches its own subject DN when it has one;
//      never kInternal from chain verification.
//   2  N(SIGNATURE_HASH_ALGORITHMS) data: parse, filter; oracle: the filtered list is a subset of
//      what we support, with no duplicates.
//   3  Sign round trip: byte 1 picks key and scheme, the rest are the signed octets. Sign, then
//      verify must succeed, and fail after flipping one octet.
#include <openssl/evp.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "host/common/bytes.h"
#include "host/ike/auth/certificate.h"
#include "host/ike/auth/signature.h"
#include "host/ike/encoding/payloads/auth_payload.h"
#include "tests/ike_auth/test_pki.h"

namespace {

using namespace ipsec;       // NOLINT: harness-local brevity
using namespace ipsec::ike;  // NOLINT

constexpr KeyType kKeyTypes[] = {KeyType::kRsa, KeyType::kEcP256, KeyType::kEcP384, KeyType::kEcP521,
                                 KeyType::kEd25519};
constexpr AuthMethod kMethods[] = {AuthMethod::kDigitalSignature, AuthMethod::kRsaSignature,
                                   AuthMethod::kEcdsaSha256P256, AuthMethod::kEcdsaSha384P384,
                                   AuthMethod::kEcdsaSha512P521};
const uint8_t kOctets[] = "RealMessage | Nonce | MACedID (fuzz)";

struct Fixture {
  std::vector<PrivateKey> keys;
  test_pki::TestCert ca;
  test_pki::TestCert leaf;
  TrustStore store;
  Fixture()
      : ca(test_pki::MakeCert({.cn = "Fuzz CA", .ca = true}, test_pki::GenerateKey(KeyType::kEcP256))),
        leaf(test_pki::MakeCert({.cn = "fuzz.example", .san = "DNS:fuzz.example,IP:192.0.2.7,email:f@fuzz.example"},
                                test_pki::GenerateKey(KeyType::kEcP256), &ca)) {
    for (KeyType t : kKeyTypes) keys.push_back(test_pki::GenerateKey(t));
    FUZZ_CHECK(store.AddCa(ca.cert).ok());
  }
};

Fixture& Get() {
  static Fixture* f = new Fixture();  // never destroyed: libFuzzer may call after exit handlers
  return *f;
}

Bytes Octets() {
  return Bytes(reinterpret_cast<const std::byte*>(kOctets), sizeof(kOctets) - 1);
}

void FuzzAuth(Bytes in) {
  if (in.size() < 2) return;
  const AuthMethod method = kMethods[U8(in[0]) % std::size(kMethods)];
  const PrivateKey& key = Get().keys[U8(in[1]) % Get().keys.size()];
  const Bytes data = in.subspan(2);
  const Status s = VerifyAuth(key.public_key(), method, data, Octets());
  FUZZ_CHECK(s.code() != StatusCode::kInternal);
  if (method == AuthMethod::kDigitalSignature) {
    auto split = ParseSignatureAuthData(data);
    if (split.ok()) {
      auto alg = ParseAlgorithmIdentifier(split->algorithm_identifier);
      if (alg.ok()) {
        auto again = ParseAlgorithmIdentifier(AlgorithmIdentifierDer(alg->scheme));
        FUZZ_CHECK(again.ok() && again->scheme == alg->scheme);
      }
    }
  }
}

void FuzzCert(Bytes in) {
  auto cert = ParseCertPayload(CertPayload{CertEncoding::kX509Signature, {in.begin(), in.end()}});
  if (!cert.ok()) {
    FUZZ_CHECK(cert.status().code() == StatusCode::kInvalidArgument);
    return;
  }
  const Certificate& c = *cert;
  const auto sha = c.SpkiSha1();
  FUZZ_CHECK(sha.empty() || sha.size() == kCertReqHashSize);
  (void)c.SubjectText();
  (void)c.IssuerDer();
  const auto pub = c.GetPublicKey();
  if (pub.ok()) (void)pub->SpkiDer();
  for (const SubjectAltName& san : c.SubjectAltNames()) {
    switch (san.type) {
      case SubjectAltName::Type::kDns:
        FUZZ_CHECK(CertMatchesIdentity(c, IdType::kFqdn, san.value) || san.value.empty());
        break;
      case SubjectAltName::Type::kIpAddress:
        if (san.value.size() == 4) FUZZ_CHECK(CertMatchesIdentity(c, IdType::kIpv4Addr, san.value));
        if (san.value.size() == 16) FUZZ_CHECK(CertMatchesIdentity(c, IdType::kIpv6Addr, san.value));
        break;
      default:
        break;
    }
  }
  for (IdType t :
       {IdType::kFqdn, IdType::kRfc822Addr, IdType::kIpv4Addr, IdType::kIpv6Addr, IdType::kDerAsn1Dn, IdType::kKeyId}) {
    (void)CertMatchesIdentity(c, t, in.first(std::min<size_t>(in.size(), 16)));
  }
  const auto subject = c.SubjectDer();
  if (X509_NAME_entry_count(X509_get_subject_name(c.native())) > 0 && !subject.empty()) {
    FUZZ_CHECK(CertMatchesIdentity(c, IdType::kDerAsn1Dn, subject));
  }
  const Certificate inter[] = {c};
  const Status chain = Get().store.VerifyChain(c, {});
  FUZZ_CHECK(chain.code() != StatusCode::kInternal);
  const Status chain2 = Get().store.VerifyChain(Get().leaf.cert, inter);
  FUZZ_CHECK(chain2.ok());  // an unrelated intermediate must not break a good chain
}

void FuzzHashes(Bytes in) {
  auto list = ParsePeerSignatureHashes(in);
  if (!list.ok()) return;
  for (size_t i = 0; i < list->size(); ++i) {
    FUZZ_CHECK(std::find(std::begin(kSupportedSignatureHashes), std::end(kSupportedSignatureHashes), (*list)[i]) !=
               std::end(kSupportedSignatureHashes));
    FUZZ_CHECK(std::find(list->begin() + static_cast<std::ptrdiff_t>(i) + 1, list->end(), (*list)[i]) == list->end());
  }
}

void FuzzRoundTrip(Bytes in) {
  if (in.size() < 2) return;
  const PrivateKey& key = Get().keys[U8(in[0]) % Get().keys.size()];
  const std::vector<HashAlgorithm> all(std::begin(kSupportedSignatureHashes), std::end(kSupportedSignatureHashes));
  std::vector<HashAlgorithm> peer;
  for (size_t i = 0; i < all.size(); ++i) {
    if ((U8(in[1]) >> i) & 1) peer.push_back(all[i]);
  }
  auto choice = ChooseSignature(key, peer, {.rsa_pss = (U8(in[1]) & 0x80) == 0});
  if (!choice.ok()) return;
  const Bytes octets = in.subspan(2);
  auto data = SignAuth(key, *choice, octets);
  if (octets.empty()) return;  // signing empty octets is allowed; nothing to flip
  FUZZ_CHECK(data.ok());
  FUZZ_CHECK(VerifyAuth(key.public_key(), choice->method, *data, octets, all).ok());
  std::vector<std::byte> flipped(octets.begin(), octets.end());
  flipped[flipped.size() / 2] ^= std::byte{0x01};
  FUZZ_CHECK(VerifyAuth(key.public_key(), choice->method, *data, flipped, all).code() == StatusCode::kDataLoss);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Bytes in = fuzz::AsBytes(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      FuzzAuth(in);
      break;
    case 1:
      FuzzCert(in);
      break;
    case 2:
      FuzzHashes(in);
      break;
    default:
      FuzzRoundTrip(in);
      break;
  }
  return 0;
}

std::vector<std::vector<uint8_t>> FuzzSeeds() {
  using fuzz::Input;
  using fuzz::ToInput;
  using fuzz::WithPrefix;
  std::vector<Input> seeds;
  Fixture& f = Get();
  const std::vector<HashAlgorithm> all(std::begin(kSupportedSignatureHashes), std::end(kSupportedSignatureHashes));
  // Mode 0: valid AUTH data for every key with method 14 and with the classic method.
  for (size_t k = 0; k < f.keys.size(); ++k) {
    for (bool classic : {false, true}) {
      auto choice = ChooseSignature(f.keys[k], classic ? std::vector<HashAlgorithm>{} : all);
      if (!choice.ok()) continue;
      auto sig = SignAuth(f.keys[k], *choice, Octets());
      FUZZ_CHECK(sig.ok());
      const auto m = static_cast<uint8_t>(std::find(std::begin(kMethods), std::end(kMethods), choice->method) -
                                          std::begin(kMethods));
      seeds.push_back(WithPrefix({0, m, static_cast<uint8_t>(k)}, *sig));
    }
  }
  // Mode 0: every AlgorithmIdentifier with a short fake signature, for the parser.
  for (SignatureScheme s :
       {SignatureScheme::kRsaPkcs1Sha256, SignatureScheme::kRsaPkcs1Sha384, SignatureScheme::kRsaPkcs1Sha512,
        SignatureScheme::kRsaPssSha256, SignatureScheme::kRsaPssSha384, SignatureScheme::kRsaPssSha512,
        SignatureScheme::kEcdsaSha256, SignatureScheme::kEcdsaSha384, SignatureScheme::kEcdsaSha512,
        SignatureScheme::kEd25519}) {
    auto d = BuildSignatureAuthData({AlgorithmIdentifierDer(s), std::vector<std::byte>(8, std::byte{0x5a})});
    FUZZ_CHECK(d.ok());
    seeds.push_back(WithPrefix({0, 0, 0}, *d));
  }
  // Mode 1: certificates (CA, leaf).
  seeds.push_back(WithPrefix({1}, f.ca.cert.der()));
  seeds.push_back(WithPrefix({1}, f.leaf.cert.der()));
  // Mode 2: hash lists.
  seeds.push_back(WithPrefix({2}, BuildSignatureHashAlgorithmsNotify().data));
  seeds.push_back(Input{2, 0x00, 0x01, 0xff, 0xff, 0x00, 0x04});
  // Mode 3: round trips for every key.
  for (uint8_t k = 0; k < f.keys.size(); ++k) seeds.push_back(Input{3, k, 0x0f, 'a', 'b', 'c'});
  seeds.push_back(Input{3, 0, 0x81, 'x', 'y'});
  return seeds;
}
