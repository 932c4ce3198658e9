// Identities (host/ike/config/identity.h): strongSwan's parsing rules, DN encoding and matching.
#include "host/ike/config/identity.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ipsec::ike::config {
namespace {

std::vector<std::byte> B(std::string_view s) {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  return {p, p + s.size()};
}
std::vector<std::byte> H(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int b : v) out.push_back(std::byte(b));
  return out;
}

Identity Id(std::string_view s) {
  auto r = ParseIdentity(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status().message();
  return r.ok() ? *r : Identity{};
}

TEST(IdentityTest, ParsesEachFormLikeStrongSwan) {
  struct Case {
    const char* text;
    IdType type;
    std::vector<std::byte> data;
  } cases[] = {
      {"moon.example.com", IdType::kFqdn, B("moon.example.com")},
      {"@moon.example.com", IdType::kFqdn, B("moon.example.com")},
      {"@192.0.2.1", IdType::kFqdn, B("192.0.2.1")},  // '@' forces FQDN, even for an address
      {"fqdn:moon", IdType::kFqdn, B("moon")},
      {"dns:moon", IdType::kFqdn, B("moon")},
      {"carol@example.com", IdType::kRfc822Addr, B("carol@example.com")},
      {"@@carol@example.com", IdType::kRfc822Addr, B("carol@example.com")},
      {"email:carol@example.com", IdType::kRfc822Addr, B("carol@example.com")},
      {"rfc822:carol", IdType::kRfc822Addr, B("carol")},
      {"userfqdn:carol@x", IdType::kRfc822Addr, B("carol@x")},
      {"*@example.com", IdType::kRfc822Addr, B("*@example.com")},
      {"*.example.com", IdType::kFqdn, B("*.example.com")},
      {"192.0.2.1", IdType::kIpv4Addr, H({192, 0, 2, 1})},
      {"ipv4:198.51.100.7", IdType::kIpv4Addr, H({198, 51, 100, 7})},
      {"2001:db8::1", IdType::kIpv6Addr, H({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})},
      {"ipv6:2001:db8::2", IdType::kIpv6Addr, H({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2})},
      {"@#0a1B2c", IdType::kKeyId, H({0x0a, 0x1b, 0x2c})},
      {"keyid:#0a1b", IdType::kKeyId, H({0x0a, 0x1b})},
      {"keyid:opaque", IdType::kKeyId, B("opaque")},
  };
  for (const Case& c : cases) {
    const Identity id = Id(c.text);
    EXPECT_FALSE(id.any) << c.text;
    EXPECT_EQ(id.type, c.type) << c.text;
    EXPECT_EQ(id.data, c.data) << c.text;
    EXPECT_EQ(id.text, c.text);
  }
}

TEST(IdentityTest, WildcardForms) {
  for (const char* s : {"%any", "%any6", "*", "0.0.0.0", "::", " %any "}) {
    const Identity id = Id(s);
    EXPECT_TRUE(id.any) << s;
    EXPECT_TRUE(id.data.empty());
  }
}

// Known answer built by hand from X.690 DER rules: SEQUENCE OF SET OF SEQUENCE { OID, PrintableString }.
TEST(IdentityTest, DistinguishedNameIsDer) {
  const std::vector<std::byte> expected = H({
      0x30, 0x31,                                                               // Name
      0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, 'C', 'H',  // C=CH
      0x31, 0x13, 0x30, 0x11, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x13, 0x0a,           // O=strongSwan
      's', 't', 'r', 'o', 'n', 'g', 'S', 'w', 'a', 'n',                           //
      0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x04, 0x03, 0x13, 0x04,           // CN=moon
      'm', 'o', 'o', 'n',
  });
  for (const char* s : {"C=CH, O=strongSwan, CN=moon", "C=CH,O=strongSwan,CN=moon", "/C=CH/O=strongSwan/CN=moon",
                        "asn1dn:C=CH, O=strongSwan, CN=moon", "c=CH, o=strongSwan, cn=moon"}) {
    const Identity id = Id(s);
    EXPECT_EQ(id.type, IdType::kDerAsn1Dn) << s;
    EXPECT_EQ(id.data, expected) << s;
  }
  EXPECT_EQ(DescribeIdentity(IdType::kDerAsn1Dn, expected), "dn C=CH, O=strongSwan, CN=moon");
}

TEST(IdentityTest, DnStringTypesAndAttributes) {
  // Non-printable characters ('@', '_', UTF-8) switch to UTF8String (tag 0x0c); emailAddress is
  // IA5String (0x16); SN is serialNumber (2.5.4.5) as in strongSwan.
  const Identity a = Id("CN=a_b");
  EXPECT_EQ(a.data[a.data.size() - 5], std::byte{0x0c});
  const Identity e = Id("E=x@y");
  EXPECT_EQ(e.data[e.data.size() - 5], std::byte{0x16});
  const Identity sn = Id("SN=1234");
  EXPECT_EQ(sn.data[10], std::byte{0x05});
  const Identity oid = Id("2.5.4.3=moon");
  EXPECT_EQ(oid.data, Id("CN=moon").data);
  const Identity escaped = Id("CN=a\\,b");  // "\," keeps the comma in the value
  const std::vector<std::byte> tail(escaped.data.end() - 3, escaped.data.end());
  EXPECT_EQ(tail, B("a,b"));
}

TEST(IdentityTest, Refusals) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"", "empty identity"},
      {"   ", "empty identity"},
      {"ipv4:300.1.1.1", "identity 'ipv4:300.1.1.1': bad IPv4 address"},
      {"ipv6:192.0.2.1", "identity 'ipv6:192.0.2.1': bad IPv6 address"},
      {"@#0g", "identity '@#0g': bad hex key ID"},
      {"@#", "identity '@#': bad hex key ID"},
      {"XY=foo, CN=bar", "identity 'XY=foo, CN=bar': DN: unknown attribute 'XY'"},
      {"CN=moon, garbage", "identity 'CN=moon, garbage': DN: expected 'name=value' in 'garbage'"},
      {"fqdn:", "identity 'fqdn:': empty after the prefix"},
      {"@", "identity '@': empty after the prefix"},
  };
  for (const Case& c : cases) {
    auto r = ParseIdentity(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().message(), c.message);
  }
}

TEST(IdentityTest, MatchingScoresAsStrongSwan) {
  const Identity any = Id("%any");
  const Identity moon = Id("moon.example.com");
  EXPECT_EQ(MatchIdentity(moon, Id("@MOON.example.com")), kMatchPerfect);  // FQDN: case-insensitive
  EXPECT_EQ(MatchIdentity(moon, Id("sun.example.com")), kMatchNone);
  EXPECT_EQ(MatchIdentity(any, moon), kMatchAny);
  EXPECT_EQ(MatchIdentity(moon, any), kMatchNone);
  EXPECT_EQ(MatchIdentity(Id("*.example.com"), moon), kMatchOneWildcard);
  EXPECT_EQ(MatchIdentity(Id("*.example.org"), moon), kMatchNone);
  EXPECT_EQ(MatchIdentity(Id("*@example.com"), Id("carol@example.com")), kMatchOneWildcard);
  EXPECT_EQ(MatchIdentity(Id("*@example.com"), Id("example.com")), kMatchNone);  // other type
  EXPECT_EQ(MatchIdentity(Id("192.0.2.1"), IdType::kIpv4Addr, H({192, 0, 2, 1})), kMatchPerfect);
  EXPECT_FALSE(Matches(Id("192.0.2.1"), IdType::kIpv4Addr, H({192, 0, 2, 2})));
  EXPECT_FALSE(Matches(Id("192.0.2.1"), IdType::kFqdn, B("192.0.2.1")));
}

TEST(IdentityTest, DnMatchingWithWildcardsAndStringTypes) {
  const Identity dn = Id("C=CH, O=strongSwan, CN=moon");
  EXPECT_EQ(MatchIdentity(Id("C=CH, O=strongSwan, CN=*"), dn), kMatchPerfect - 1);
  EXPECT_EQ(MatchIdentity(Id("C=CH, O=*, CN=*"), dn), kMatchPerfect - 2);
  EXPECT_EQ(MatchIdentity(Id("C=*, O=*, CN=*"), dn), kMatchPerfect - 3);
  EXPECT_EQ(MatchIdentity(Id("c=ch, o=STRONGSWAN, cn=Moon"), dn), kMatchPerfect);  // PrintableString: no case
  EXPECT_EQ(MatchIdentity(Id("C=CH, O=strongSwan"), dn), kMatchNone);               // RDN count differs
  EXPECT_EQ(MatchIdentity(Id("O=strongSwan, C=CH, CN=moon"), dn), kMatchNone);      // order matters
  // The same value as UTF8String in the peer's certificate still matches.
  const std::vector<std::byte> utf8 = H({0x30, 0x0f, 0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c,
                                         0x04, 'm', 'o', 'o', 'n'});
  EXPECT_EQ(MatchIdentity(Id("CN=moon"), IdType::kDerAsn1Dn, utf8), kMatchPerfect);
  // Garbage DER never matches (and does not crash).
  EXPECT_EQ(MatchIdentity(Id("CN=moon"), IdType::kDerAsn1Dn, H({0x30, 0x05, 0x01})), kMatchNone);
}

TEST(IdentityTest, Describe) {
  EXPECT_EQ(DescribeIdentity(IdType::kFqdn, B("moon")), "fqdn moon");
  EXPECT_EQ(DescribeIdentity(IdType::kRfc822Addr, B("a@b")), "email a@b");
  EXPECT_EQ(DescribeIdentity(IdType::kIpv4Addr, H({192, 0, 2, 1})), "ipv4 192.0.2.1");
  EXPECT_EQ(DescribeIdentity(IdType::kIpv6Addr, Id("2001:db8::1").data), "ipv6 2001:db8::1");
  EXPECT_EQ(DescribeIdentity(IdType::kKeyId, H({0xab, 0x01})), "keyid #ab01");
  EXPECT_EQ(DescribeIdentity(IdType::kIpv4Addr, H({1})), "ipv4 ?");
}

}  // namespace
}  // namespace ipsec::ike::config
