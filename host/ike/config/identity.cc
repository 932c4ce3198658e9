// Identity parsing and matching (rules in identity.h).
#include "host/ike/config/identity.h"

#include <arpa/inet.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <utility>

namespace ipsec::ike::config {
namespace {

struct NameDeleter {
  void operator()(X509_NAME* n) const { X509_NAME_free(n); }
};
using NamePtr = std::unique_ptr<X509_NAME, NameDeleter>;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && strncasecmp(s.data(), prefix.data(), prefix.size()) == 0;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && (a.empty() || strncasecmp(a.data(), b.data(), a.size()) == 0);
}

std::string Echo(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < 40; ++i) out.push_back(s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?');
  if (s.size() > 40) out += "...";
  return out;
}

std::vector<std::byte> ToBytes(std::string_view s) {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  return {p, p + s.size()};
}

bool ParseIpv4(std::string_view s, std::vector<std::byte>* out) {
  const std::string str(s);
  unsigned char b[4];
  if (inet_pton(AF_INET, str.c_str(), b) != 1) return false;
  out->assign(reinterpret_cast<std::byte*>(b), reinterpret_cast<std::byte*>(b) + 4);
  return true;
}

bool ParseIpv6(std::string_view s, std::vector<std::byte>* out) {
  const std::string str(s);
  unsigned char b[16];
  if (inet_pton(AF_INET6, str.c_str(), b) != 1) return false;
  out->assign(reinterpret_cast<std::byte*>(b), reinterpret_cast<std::byte*>(b) + 16);
  return true;
}

bool IsPrintableStringChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == ' ' || c == '\'' || c == '(' || c == ')' ||
         c == '+' || c == ',' || c == '-' || c == '.' || c == '/' || c == ':' || c == '=' || c == '?';
}

struct DnAttr {
  std::string_view name;
  int nid;
};
constexpr DnAttr kDnAttrs[] = {
    {"C", NID_countryName},           {"ST", NID_stateOrProvinceName},
    {"L", NID_localityName},          {"O", NID_organizationName},
    {"OU", NID_organizationalUnitName}, {"CN", NID_commonName},
    {"E", NID_pkcs9_emailAddress},    {"Email", NID_pkcs9_emailAddress},
    {"emailAddress", NID_pkcs9_emailAddress}, {"SN", NID_serialNumber},
    {"serialNumber", NID_serialNumber}, {"S", NID_surname},
    {"surname", NID_surname},         {"G", NID_givenName},
    {"givenName", NID_givenName},     {"I", NID_initials},
    {"T", NID_title},                 {"D", NID_description},
    {"N", NID_name},                  {"DC", NID_domainComponent},
    {"UID", NID_userId},              {"dnQualifier", NID_dnQualifier},
    {"pseudonym", NID_pseudonym},
};

// Splits at unescaped ',' or '/' (a leading '/' as in "/C=CH/O=x" is skipped).
std::vector<std::string> SplitRdns(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  size_t i = 0;
  if (!s.empty() && s[0] == '/') i = 1;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\\' && i + 1 < s.size()) {
      cur.push_back(s[++i]);
    } else if (c == ',' || c == '/') {
      out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(std::move(cur));
  return out;
}

StatusOr<std::vector<std::byte>> ParseDn(std::string_view text) {
  NamePtr name(X509_NAME_new());
  if (!name) return InternalError("X509_NAME_new failed");
  for (const std::string& rdn_raw : SplitRdns(text)) {
    const std::string_view rdn = Trim(rdn_raw);
    if (rdn.empty()) continue;
    const size_t eq = rdn.find('=');
    if (eq == std::string_view::npos) return InvalidArgumentError("DN: expected 'name=value' in '" + Echo(rdn) + "'");
    const std::string_view attr = Trim(rdn.substr(0, eq));
    const std::string value(Trim(rdn.substr(eq + 1)));
    int nid = NID_undef;
    for (const DnAttr& a : kDnAttrs) {
      if (EqualsNoCase(a.name, attr)) nid = a.nid;
    }
    ASN1_OBJECT* obj = nullptr;
    if (nid == NID_undef) {
      bool dotted = !attr.empty();
      for (char c : attr) dotted = dotted && (std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '.');
      if (dotted) obj = OBJ_txt2obj(std::string(attr).c_str(), 1);
      if (obj == nullptr) return InvalidArgumentError("DN: unknown attribute '" + Echo(attr) + "'");
    }
    int type = V_ASN1_PRINTABLESTRING;
    for (char c : value) {
      if (!IsPrintableStringChar(c)) type = V_ASN1_UTF8STRING;
    }
    if (nid == NID_pkcs9_emailAddress || nid == NID_domainComponent) type = V_ASN1_IA5STRING;
    const auto* data = reinterpret_cast<const unsigned char*>(value.data());
    const int len = static_cast<int>(value.size());
    int ok = 0;
    if (obj != nullptr) {
      ok = X509_NAME_add_entry_by_OBJ(name.get(), obj, type, data, len, -1, 0);
      ASN1_OBJECT_free(obj);
    } else {
      ok = X509_NAME_add_entry_by_NID(name.get(), nid, type, data, len, -1, 0);
    }
    if (ok != 1) return InvalidArgumentError("DN: cannot encode '" + Echo(attr) + "'");
  }
  if (X509_NAME_entry_count(name.get()) == 0) return InvalidArgumentError("DN: no attributes");
  unsigned char* der = nullptr;
  const int der_len = i2d_X509_NAME(name.get(), &der);
  if (der_len <= 0) return InternalError("i2d_X509_NAME failed");
  std::vector<std::byte> out(reinterpret_cast<std::byte*>(der), reinterpret_cast<std::byte*>(der) + der_len);
  OPENSSL_free(der);
  return out;
}

NamePtr DecodeDn(Bytes der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509_NAME* n = d2i_X509_NAME(nullptr, &p, static_cast<long>(der.size()));
  if (n != nullptr && p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    X509_NAME_free(n);
    return nullptr;
  }
  return NamePtr(n);
}

bool CaseInsensitiveType(int t) { return t == V_ASN1_PRINTABLESTRING || t == V_ASN1_IA5STRING; }

int MatchDn(Bytes pattern, Bytes id) {
  if (pattern.size() == id.size() && std::equal(pattern.begin(), pattern.end(), id.begin())) return kMatchPerfect;
  NamePtr p = DecodeDn(pattern);
  NamePtr d = DecodeDn(id);
  if (!p || !d) return kMatchNone;
  const int n = X509_NAME_entry_count(p.get());
  if (n != X509_NAME_entry_count(d.get())) return kMatchNone;
  int wildcards = 0;
  for (int k = 0; k < n; ++k) {
    const X509_NAME_ENTRY* pe = X509_NAME_get_entry(p.get(), k);
    const X509_NAME_ENTRY* de = X509_NAME_get_entry(d.get(), k);
    if (OBJ_cmp(X509_NAME_ENTRY_get_object(pe), X509_NAME_ENTRY_get_object(de)) != 0) return kMatchNone;
    const ASN1_STRING* pv = X509_NAME_ENTRY_get_data(pe);
    const ASN1_STRING* dv = X509_NAME_ENTRY_get_data(de);
    const std::string_view ps(reinterpret_cast<const char*>(ASN1_STRING_get0_data(pv)),
                              static_cast<size_t>(ASN1_STRING_length(pv)));
    const std::string_view ds(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dv)),
                              static_cast<size_t>(ASN1_STRING_length(dv)));
    if (ps == "*") {
      ++wildcards;
      continue;
    }
    const bool nocase = CaseInsensitiveType(ASN1_STRING_type(pv)) || CaseInsensitiveType(ASN1_STRING_type(dv));
    if (nocase ? !EqualsNoCase(ps, ds) : ps != ds) return kMatchNone;
  }
  if (wildcards == 0) return kMatchPerfect;
  return std::max(static_cast<int>(kMatchPerfect) - wildcards, static_cast<int>(kMatchMaxWildcards));
}

int MatchString(Bytes pattern, Bytes id) {
  const std::string_view p(reinterpret_cast<const char*>(pattern.data()), pattern.size());
  const std::string_view d(reinterpret_cast<const char*>(id.data()), id.size());
  if (EqualsNoCase(p, d)) return kMatchPerfect;
  if (!p.empty() && p[0] == '*') {
    const std::string_view suffix = p.substr(1);
    if (d.size() >= suffix.size() && EqualsNoCase(d.substr(d.size() - suffix.size()), suffix)) {
      return kMatchOneWildcard;
    }
  }
  return kMatchNone;
}

StatusOr<Identity> Make(IdType type, std::string_view data, std::string_view text) {
  if (data.empty()) return InvalidArgumentError("identity '" + Echo(text) + "': empty after the prefix");
  Identity id;
  id.type = type;
  id.text = std::string(text);
  id.data = ToBytes(data);
  return id;
}

StatusOr<Identity> KeyId(std::string_view data, std::string_view text) {
  Identity id;
  id.type = IdType::kKeyId;
  id.text = std::string(text);
  if (!data.empty() && data[0] == '#') {
    auto hex = HexDecode(data.substr(1));
    if (!hex.ok() || hex->empty()) return InvalidArgumentError("identity '" + Echo(text) + "': bad hex key ID");
    id.data = std::move(*hex);
    return id;
  }
  if (data.empty()) return InvalidArgumentError("identity '" + Echo(text) + "': empty key ID");
  id.data = ToBytes(data);
  return id;
}

}  // namespace

StatusOr<Identity> ParseIdentity(std::string_view raw) {
  const std::string_view text = Trim(raw);
  if (text.empty()) return InvalidArgumentError("empty identity");
  for (char c : text) {
    if (c == '\0' || c == '\n' || c == '\r') return InvalidArgumentError("identity contains a control character");
  }
  Identity id;
  id.text = std::string(text);
  if (text == "%any" || text == "%any6" || text == "*" || text == "0.0.0.0" || text == "::" || text == "0::0") {
    id.any = true;
    return id;
  }
  // Type prefixes.
  struct Prefix {
    std::string_view p;
    IdType type;
  };
  static constexpr Prefix kPrefixes[] = {
      {"fqdn:", IdType::kFqdn},        {"dns:", IdType::kFqdn},          {"email:", IdType::kRfc822Addr},
      {"rfc822:", IdType::kRfc822Addr}, {"userfqdn:", IdType::kRfc822Addr}, {"ipv4:", IdType::kIpv4Addr},
      {"ipv6:", IdType::kIpv6Addr},    {"asn1dn:", IdType::kDerAsn1Dn},  {"keyid:", IdType::kKeyId},
  };
  for (const Prefix& p : kPrefixes) {
    if (!StartsWithNoCase(text, p.p)) continue;
    const std::string_view rest = text.substr(p.p.size());
    switch (p.type) {
      case IdType::kIpv4Addr:
        if (!ParseIpv4(rest, &id.data)) return InvalidArgumentError("identity '" + Echo(text) + "': bad IPv4 address");
        id.type = IdType::kIpv4Addr;
        return id;
      case IdType::kIpv6Addr:
        if (!ParseIpv6(rest, &id.data)) return InvalidArgumentError("identity '" + Echo(text) + "': bad IPv6 address");
        id.type = IdType::kIpv6Addr;
        return id;
      case IdType::kDerAsn1Dn: {
        auto der = ParseDn(rest);
        if (!der.ok()) return InvalidArgumentError("identity '" + Echo(text) + "': " + der.status().message());
        id.type = IdType::kDerAsn1Dn;
        id.data = std::move(*der);
        return id;
      }
      case IdType::kKeyId:
        return KeyId(rest, text);
      default:
        return Make(p.type, rest, text);
    }
  }
  if (text[0] == '@') {
    if (text.size() > 1 && text[1] == '#') return KeyId(text.substr(1), text);
    if (text.size() > 1 && text[1] == '@') return Make(IdType::kRfc822Addr, text.substr(2), text);
    return Make(IdType::kFqdn, text.substr(1), text);
  }
  if (text.find('=') != std::string_view::npos) {
    auto der = ParseDn(text);
    if (!der.ok()) return InvalidArgumentError("identity '" + Echo(text) + "': " + der.status().message());
    id.type = IdType::kDerAsn1Dn;
    id.data = std::move(*der);
    return id;
  }
  if (ParseIpv4(text, &id.data)) {
    id.type = IdType::kIpv4Addr;
    return id;
  }
  if (ParseIpv6(text, &id.data)) {
    id.type = IdType::kIpv6Addr;
    return id;
  }
  if (text.find('@') != std::string_view::npos) return Make(IdType::kRfc822Addr, text, text);
  return Make(IdType::kFqdn, text, text);
}

int MatchIdentity(const Identity& pattern, IdType type, Bytes data) {
  if (pattern.any) return kMatchAny;
  if (pattern.type != type) return kMatchNone;
  switch (type) {
    case IdType::kFqdn:
    case IdType::kRfc822Addr:
      return MatchString(pattern.data, data);
    case IdType::kDerAsn1Dn:
      return MatchDn(pattern.data, data);
    default:
      return pattern.data.size() == data.size() && std::equal(data.begin(), data.end(), pattern.data.begin())
                 ? kMatchPerfect
                 : kMatchNone;
  }
}

bool Matches(const Identity& pattern, IdType type, Bytes data) {
  return MatchIdentity(pattern, type, data) != kMatchNone;
}

std::string DescribeIdentity(IdType type, Bytes data) {
  auto printable = [&] {
    std::string s;
    for (std::byte b : data) {
      const char c = static_cast<char>(b);
      s.push_back(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return s;
  };
  switch (type) {
    case IdType::kFqdn:
      return "fqdn " + printable();
    case IdType::kRfc822Addr:
      return "email " + printable();
    case IdType::kIpv4Addr:
    case IdType::kIpv6Addr: {
      char buf[INET6_ADDRSTRLEN] = {};
      const bool v4 = type == IdType::kIpv4Addr;
      if (data.size() != (v4 ? 4u : 16u) || inet_ntop(v4 ? AF_INET : AF_INET6, data.data(), buf, sizeof(buf)) == nullptr) {
        return v4 ? "ipv4 ?" : "ipv6 ?";
      }
      return std::string(v4 ? "ipv4 " : "ipv6 ") + buf;
    }
    case IdType::kDerAsn1Dn: {
      NamePtr n = DecodeDn(data);
      if (!n) return "dn ?";
      BIO* bio = BIO_new(BIO_s_mem());
      if (bio == nullptr) return "dn ?";
      X509_NAME_print_ex(bio, n.get(), 0, XN_FLAG_SEP_CPLUS_SPC | ASN1_STRFLGS_RFC2253 | XN_FLAG_FN_SN);
      char* p = nullptr;
      const long len = BIO_get_mem_data(bio, &p);
      std::string s = "dn " + std::string(p, static_cast<size_t>(len));
      BIO_free(bio);
      return s;
    }
    case IdType::kKeyId:
      return "keyid #" + HexEncode(data);
    default:
      return "id type " + std::to_string(static_cast<int>(type));
  }
}

}  // namespace ipsec::ike::config
