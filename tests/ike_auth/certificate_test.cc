// Certificates: loading, CERT / CERTREQ payloads (RFC 7296 §3.6, §3.7), chain verification with an
// injected time, and identity matching. Keys and certificates are generated per run (test_pki.h).
#include "host/ike/auth/certificate.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "host/common/bytes.h"
#include "host/ike/auth/signature.h"
#include "tests/ike_auth/test_pki.h"

namespace ipsec::ike {
namespace {

using test_pki::Chain;
using test_pki::GenerateKey;
using test_pki::MakeCert;
using test_pki::TestCert;

std::vector<std::byte> Hex(const std::string& h) {
  return *HexDecode(h);
}
Bytes Text(std::string_view s) {
  return AsBytes(s);
}

// Chains are generated on first use (RSA key generation is slow and ctest runs each test in its own
// process, so only the tests that need a chain pay for it).
class CertificateTest : public ::testing::Test {
 protected:
  static const Chain& Get(KeyType t) {
    static std::map<KeyType, Chain> chains;
    auto it = chains.find(t);
    if (it == chains.end()) {
      const std::string san =
          t == KeyType::kEcP256
              ? "DNS:gw.example.com,DNS:VPN.Example.ORG,email:admin@Example.com,IP:192.0.2.1,IP:2001:db8::1"
              : "DNS:gw.example.com";
      it = chains.emplace(t, test_pki::MakeChain(t, san)).first;
    }
    return it->second;
  }
  static const Chain& P256() { return Get(KeyType::kEcP256); }
  static const Chain& P384() { return Get(KeyType::kEcP384); }
  static const Chain& Rsa() { return Get(KeyType::kRsa); }
  static std::vector<const Chain*> All() { return {&P256(), &P384(), &Rsa()}; }
};

TEST_F(CertificateTest, ChainVerifiesWithIntermediate) {
  for (const Chain* chain : All()) {
    const Chain& c = *chain;
    TrustStore store;
    ASSERT_TRUE(store.AddCa(c.root.cert).ok());
    const Certificate inter[] = {c.intermediate.cert};
    const Status s = store.VerifyChain(c.leaf.cert, inter);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
}

TEST_F(CertificateTest, MissingIntermediateFails) {
  TrustStore store;
  ASSERT_TRUE(store.AddCa(P256().root.cert).ok());
  const Status s = store.VerifyChain(P256().leaf.cert, {});
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("unable to get local issuer certificate"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("depth 0"), std::string::npos) << s.message();
}

TEST_F(CertificateTest, ConfiguredIntermediateIsATrustAnchor) {
  TrustStore store;
  ASSERT_TRUE(store.AddCa(P256().intermediate.cert).ok());
  EXPECT_TRUE(store.VerifyChain(P256().leaf.cert, {}).ok());
}

TEST_F(CertificateTest, UnknownCaFails) {
  TrustStore store;
  ASSERT_TRUE(store.AddCa(P384().root.cert).ok());
  const Certificate inter[] = {P256().intermediate.cert};
  const Status s = store.VerifyChain(P256().leaf.cert, inter);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("Test Intermediate CA"), std::string::npos) << s.message();
  EXPECT_EQ(TrustStore().VerifyChain(P256().leaf.cert, inter).code(), StatusCode::kFailedPrecondition);
}

TEST_F(CertificateTest, InjectedTimeDetectsExpiredAndNotYetValid) {
  TrustStore store;
  ASSERT_TRUE(store.AddCa(P256().root.cert).ok());
  const Certificate inter[] = {P256().intermediate.cert};
  const std::time_t now = std::time(nullptr);
  EXPECT_TRUE(store.VerifyChain(P256().leaf.cert, inter, {.at_time = now + 30L * 24 * 3600}).ok());
  const Status expired = store.VerifyChain(P256().leaf.cert, inter, {.at_time = now + 2L * 365 * 24 * 3600});
  EXPECT_EQ(expired.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(expired.message().find("expired"), std::string::npos) << expired.message();
  const Status early = store.VerifyChain(P256().leaf.cert, inter, {.at_time = now - 7L * 24 * 3600});
  EXPECT_EQ(early.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(early.message().find("not yet valid"), std::string::npos) << early.message();
}

TEST_F(CertificateTest, ExpiredLeafFailsAtTheCurrentTime) {
  TestCert old =
      MakeCert({.cn = "old.example.com", .not_before = -10L * 24 * 3600, .not_after = -24 * 3600, .serial = 9},
               GenerateKey(KeyType::kEcP256), &P256().intermediate);
  TrustStore store;
  ASSERT_TRUE(store.AddCa(P256().root.cert).ok());
  const Certificate inter[] = {P256().intermediate.cert};
  EXPECT_EQ(store.VerifyChain(old.cert, inter).code(), StatusCode::kFailedPrecondition);
}

TEST_F(CertificateTest, LeafCannotActAsCaAndPathLengthIsEnforced) {
  TrustStore store;
  EXPECT_EQ(store.AddCa(P256().leaf.cert).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(store.AddCa(P256().root.cert).ok());
  EXPECT_EQ(store.AddCa(P256().root.cert).code(), StatusCode::kAlreadyExists);
  // A certificate "issued" by the leaf (CA:FALSE) does not chain.
  TestCert sub = MakeCert({.cn = "sub.example.com", .serial = 10}, GenerateKey(KeyType::kEcP256), &P256().leaf);
  const Certificate inter[] = {P256().intermediate.cert, P256().leaf.cert};
  EXPECT_EQ(store.VerifyChain(sub.cert, inter).code(), StatusCode::kFailedPrecondition);
  // pathlen:0 on the intermediate forbids another CA below it.
  TestCert sub_ca =
      MakeCert({.cn = "Sub CA", .ca = true, .serial = 11}, GenerateKey(KeyType::kEcP256), &P256().intermediate);
  TestCert leaf2 = MakeCert({.cn = "deep.example.com", .serial = 12}, GenerateKey(KeyType::kEcP256), &sub_ca);
  const Certificate inter2[] = {sub_ca.cert, P256().intermediate.cert};
  EXPECT_EQ(store.VerifyChain(leaf2.cert, inter2).code(), StatusCode::kFailedPrecondition);
}

TEST_F(CertificateTest, TamperedCertificateSignatureFails) {
  std::vector<std::byte> der = P256().leaf.cert.der();
  der[der.size() - 5] ^= std::byte{0x01};  // inside the signature value
  auto bad = Certificate::FromDer(der);
  ASSERT_TRUE(bad.ok());
  TrustStore store;
  ASSERT_TRUE(store.AddCa(P256().root.cert).ok());
  const Certificate inter[] = {P256().intermediate.cert};
  EXPECT_EQ(store.VerifyChain(*bad, inter).code(), StatusCode::kFailedPrecondition);
}

TEST_F(CertificateTest, CertReqIsSha1OfCaSpki) {
  TrustStore store;
  ASSERT_TRUE(store.AddCa(P256().root.cert).ok());
  ASSERT_TRUE(store.AddCa(Rsa().root.cert).ok());
  // Independent SHA-1 of the SubjectPublicKeyInfo DER.
  std::vector<std::byte> expected;
  for (const Chain* c : {&P256(), &Rsa()}) {
    const std::vector<std::byte> spki = c->root.cert.SpkiDer();
    ASSERT_EQ(spki, c->root.key.public_key().SpkiDer());
    unsigned char md[20];
    unsigned int n = 0;
    ASSERT_EQ(EVP_Digest(spki.data(), spki.size(), md, &n, EVP_sha1(), nullptr), 1);
    expected.insert(expected.end(), reinterpret_cast<std::byte*>(md), reinterpret_cast<std::byte*>(md) + n);
  }
  const CertReqPayload req = BuildCertReqPayload(store);
  EXPECT_EQ(req.encoding, CertEncoding::kX509Signature);
  EXPECT_EQ(req.authorities, expected);
  EXPECT_TRUE(req.Verify().ok());
  // Matching: the RSA root only, with an unknown hash and a duplicate around it.
  CertReqPayload in{CertEncoding::kX509Signature, std::vector<std::byte>(20, std::byte{0xab})};
  const auto rsa_hash = Rsa().root.cert.SpkiSha1();
  in.authorities.insert(in.authorities.end(), rsa_hash.begin(), rsa_hash.end());
  in.authorities.insert(in.authorities.end(), rsa_hash.begin(), rsa_hash.end());
  auto matched = store.CasRequestedBy(in);
  ASSERT_EQ(matched.size(), 1u);
  EXPECT_EQ(matched[0].der(), Rsa().root.cert.der());
  EXPECT_EQ(store.CasRequestedBy(req).size(), 2u);
  EXPECT_TRUE(store.CasRequestedBy(CertReqPayload{CertEncoding::kX509Signature, {}}).empty());
  EXPECT_TRUE(store.CasRequestedBy(CertReqPayload{CertEncoding::kPgp, expected}).empty());
}

TEST_F(CertificateTest, CertPayloadRoundTrip) {
  const CertPayload p = BuildCertPayload(P384().leaf.cert);
  EXPECT_EQ(p.encoding, CertEncoding::kX509Signature);
  EXPECT_TRUE(p.Verify().ok());
  auto c = ParseCertPayload(p);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->der(), P384().leaf.cert.der());
  auto pub = c->GetPublicKey();
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->type(), KeyType::kEcP384);
  EXPECT_EQ(ParseCertPayload(CertPayload{CertEncoding::kHashUrlX509Cert, p.data}).status().code(),
            StatusCode::kUnimplemented);
  auto truncated = p;
  truncated.data.resize(truncated.data.size() - 1);
  EXPECT_EQ(ParseCertPayload(truncated).status().code(), StatusCode::kInvalidArgument);
  auto trailing = p;
  trailing.data.push_back(std::byte{0});
  EXPECT_EQ(ParseCertPayload(trailing).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(CertificateTest, EndToEndSignWithLeafVerifyWithCertFromPayload) {
  for (const Chain* chain : All()) {
    const Chain& c = *chain;
    const std::vector<HashAlgorithm> all(std::begin(kSupportedSignatureHashes), std::end(kSupportedSignatureHashes));
    const auto octets = Text("signed octets");
    auto choice = *ChooseSignature(c.leaf.key, all);
    auto data = *SignAuth(c.leaf.key, choice, octets);
    auto cert = *ParseCertPayload(BuildCertPayload(c.leaf.cert));
    EXPECT_TRUE(VerifyAuth(*cert.GetPublicKey(), choice.method, data, octets, all).ok());
  }
}

TEST_F(CertificateTest, LoadsPemBundlesAndFiles) {
  std::string pem;
  for (const Certificate* c : {&P256().leaf.cert, &P256().intermediate.cert}) {
    X509* x = c->native();
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, x);
    char* p = nullptr;
    const long n = BIO_get_mem_data(bio, &p);
    pem.append(p, static_cast<size_t>(n));
    BIO_free(bio);
  }
  auto all = Certificate::AllFromPem(Text(pem));
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].der(), P256().intermediate.cert.der());
  EXPECT_EQ(Certificate::FromPem(Text(pem))->der(), P256().leaf.cert.der());
  EXPECT_FALSE(Certificate::FromPem(Text("no pem here")).ok());
  const std::string path = ::testing::TempDir() + "/ike_auth_cert.der";
  {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(P256().root.cert.der().data()),
            static_cast<std::streamsize>(P256().root.cert.der().size()));
  }
  auto from_file = Certificate::FromFile(path);
  ASSERT_TRUE(from_file.ok());
  EXPECT_EQ(from_file->der(), P256().root.cert.der());
  std::remove(path.c_str());
  EXPECT_EQ(Certificate::FromFile(path).status().code(), StatusCode::kNotFound);
  EXPECT_NE(P256().leaf.cert.SubjectText().find("CN=gw.example.com"), std::string::npos);
  EXPECT_EQ(P256().leaf.cert.IssuerDer(), P256().intermediate.cert.SubjectDer());
}

TEST_F(CertificateTest, SubjectAltNames) {
  const auto sans = P256().leaf.cert.SubjectAltNames();
  ASSERT_EQ(sans.size(), 5u);
  EXPECT_EQ(sans[0].type, SubjectAltName::Type::kDns);
  EXPECT_EQ(sans[2].type, SubjectAltName::Type::kRfc822);
  EXPECT_EQ(sans[3].type, SubjectAltName::Type::kIpAddress);
  EXPECT_EQ(sans[3].value, Hex("c0000201"));
  EXPECT_EQ(sans[4].value.size(), 16u);
  EXPECT_TRUE(P256().root.cert.SubjectAltNames().empty());
}

TEST_F(CertificateTest, IdentityMatchingPerIdType) {
  const Certificate& leaf = P256().leaf.cert;
  EXPECT_TRUE(CertMatchesIdentity(leaf, IdType::kFqdn, Text("gw.example.com")));
  EXPECT_TRUE(CertMatchesIdentity(leaf, IdType::kFqdn, Text("GW.Example.Com")));
  EXPECT_TRUE(CertMatchesIdentity(leaf, IdType::kFqdn, Text("vpn.example.org")));
  EXPECT_FALSE(CertMatchesIdentity(leaf, IdType::kFqdn, Text("gw.example.co")));
  EXPECT_FALSE(CertMatchesIdentity(leaf, IdType::kFqdn, Text("admin@Example.com")));
  EXPECT_TRUE(CertMatchesIdentity(leaf, IdType::kRfc822Addr, Text("admin@example.COM")));
  EXPECT_FALSE(CertMatchesIdentity(leaf, IdType::kRfc822Addr, Text("Admin@example.com")));
  EXPECT_FALSE(CertMatchesIdentity(leaf, IdType::kRfc822Addr, Text("gw.example.com")));
  EXPECT_TRUE(CertMatchesIdentity(leaf, IdType::kIpv4Addr, Hex("c0000201")));
  EXPECT_FALSE(CertMatchesIdentity(leaf, IdType::kIpv4Addr, Hex("c0000202")));
  EXPECT_TRUE(CertMatchesIdentity(leaf, IdType::kIpv6Addr, Hex("20010db8000000000000000000000001")));
  EXPECT_FALSE(CertMatchesIdentity(leaf, IdType::kIpv6Addr, Hex("c0000201")));
  EXPECT_FALSE(CertMatchesIdentity(leaf, IdType::kKeyId, Text("gw.example.com")));
  EXPECT_FALSE(CertMatchesIdentity(leaf, IdType::kNull, {}));
  // The subject CN is not an FQDN identity.
  EXPECT_FALSE(CertMatchesIdentity(P384().leaf.cert, IdType::kFqdn, Text("other.example.com")));
}

TEST_F(CertificateTest, DnIdentityComparesCanonically) {
  const Certificate& leaf = P256().leaf.cert;
  EXPECT_TRUE(CertMatchesIdentity(leaf, IdType::kDerAsn1Dn, leaf.SubjectDer()));
  // The same DN with PrintableString instead of UTF8String, other case and extra spaces: a different
  // DER encoding that is equal in canonical form.
  X509_NAME* n = X509_NAME_new();
  X509_NAME_add_entry_by_txt(n, "O", V_ASN1_PRINTABLESTRING,
                             reinterpret_cast<const unsigned char*>("IPSEC-ACCEL  Test"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(n, "CN", V_ASN1_PRINTABLESTRING, reinterpret_cast<const unsigned char*>("GW.example.com"),
                             -1, -1, 0);
  unsigned char* der = nullptr;
  const int len = i2d_X509_NAME(n, &der);
  const std::vector<std::byte> other(reinterpret_cast<std::byte*>(der), reinterpret_cast<std::byte*>(der) + len);
  OPENSSL_free(der);
  X509_NAME_free(n);
  EXPECT_NE(other, leaf.SubjectDer());
  EXPECT_TRUE(CertMatchesIdentity(leaf, IdType::kDerAsn1Dn, other));
  EXPECT_FALSE(CertMatchesIdentity(leaf, IdType::kDerAsn1Dn, P256().intermediate.cert.SubjectDer()));
  auto trailing = leaf.SubjectDer();
  trailing.push_back(std::byte{0});
  EXPECT_FALSE(CertMatchesIdentity(leaf, IdType::kDerAsn1Dn, trailing));
  EXPECT_FALSE(CertMatchesIdentity(leaf, IdType::kDerAsn1Dn, Hex("3000")));  // empty DN matches nothing
  EXPECT_FALSE(CertMatchesIdentity(leaf, IdType::kDerAsn1Dn, Hex("30")));
}

}  // namespace
}  // namespace ipsec::ike
