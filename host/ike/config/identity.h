// IKE identities as swanctl.conf writes them (local.id, remote.id, secrets' id), parsed like
// strongSwan's identification_create_from_string(), and matched like its identification_t.
//
//   %any, %any6, *          -> wildcard (any = true), matches every identity
//   fqdn:, dns:  prefix     -> ID_FQDN         "fqdn:moon"
//   email:, rfc822:, userfqdn: -> ID_RFC822_ADDR
//   ipv4:, ipv6: prefix     -> ID_IPV4_ADDR / ID_IPV6_ADDR (the rest must be an address)
//   asn1dn:, keyid: prefix  -> ID_DER_ASN1_DN / ID_KEY_ID (keyid: as "#hex" or plain text)
//   "@#0a1b..."             -> ID_KEY_ID from hex
//   "@@user@example.com"    -> ID_RFC822_ADDR "user@example.com"
//   "@moon.example.com"     -> ID_FQDN "moon.example.com" (never an address)
//   contains '=' (C=CH, O=strongSwan, CN=moon) -> ID_DER_ASN1_DN, DER built with OpenSSL; RDNs
//                              separated by ',' or '/', "\," escapes a comma in a value
//   an IPv4 / IPv6 literal   -> ID_IPV4_ADDR / ID_IPV6_ADDR
//   contains '@'             -> ID_RFC822_ADDR
//   anything else            -> ID_FQDN
//
// DN attribute names are strongSwan's: C, ST, L, O, OU, CN, E/Email/emailAddress, SN
// (serialNumber, as strongSwan, not OpenSSL's surname), S (surname), G, I, T, D, N, DC, UID,
// dnQualifier, pseudonym, or a dotted OID. Values are PrintableString when they fit it, else
// UTF8String (emailAddress and DC: IA5String).
//
// Matching (strongSwan's matches()): a pattern matches an identity of the same type whose data is
// equal (FQDN and RFC822 compare case-insensitively); FQDN / RFC822 patterns may start with '*'
// (suffix match: "*@example.com", "*.example.com"); DN patterns may have "*" as an RDN value
// (each counts as one wildcard) and otherwise compare RDN by RDN (same OIDs, same order, values
// equal ignoring the ASN.1 string type, case-insensitively for PrintableString/IA5String).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "host/common/bytes.h"
#include "host/common/status.h"
#include "host/ike/encoding/ike_constants.h"

namespace ipsec::ike::config {

struct Identity {
  IdType type = IdType::kFqdn;
  std::vector<std::byte> data;  // the Identification Data as sent (DER for DNs); empty when any
  std::string text;             // as written in the configuration (for logs and errors)
  bool any = false;             // %any: matches every identity; never sent

  friend bool operator==(const Identity& a, const Identity& b) {
    return a.type == b.type && a.data == b.data && a.any == b.any;
  }
};

// Errors (InvalidArgument): empty text, an ipv4:/ipv6: prefix without a valid address, bad hex in
// a key ID, a DN that does not parse ("unknown DN attribute 'XY'", "expected 'name=value'").
[[nodiscard]] StatusOr<Identity> ParseIdentity(std::string_view text);

// How well `pattern` matches an identity, with strongSwan's id_match_t values: 0 no match,
// 1 pattern is %any, 19 one wildcard (FQDN/RFC822 '*'), 20 - n for a DN with n wildcard RDNs
// (at least 2), 20 perfect.
enum MatchScore : int {
  kMatchNone = 0,
  kMatchAny = 1,
  kMatchMaxWildcards = 2,
  kMatchOneWildcard = 19,
  kMatchPerfect = 20,
};
int MatchIdentity(const Identity& pattern, IdType type, Bytes data);
inline int MatchIdentity(const Identity& pattern, const Identity& id) {
  if (id.any) return pattern.any ? kMatchAny : kMatchNone;
  return MatchIdentity(pattern, id.type, id.data);
}

// True when MatchIdentity() is not kMatchNone.
bool Matches(const Identity& pattern, IdType type, Bytes data);
inline bool Matches(const Identity& pattern, const Identity& id) { return MatchIdentity(pattern, id) != kMatchNone; }

// "fqdn moon.example.com", "dn C=CH, O=x, CN=y" (OpenSSL's RFC 2253-like one-line form), "%any", ...
std::string DescribeIdentity(IdType type, Bytes data);

}  // namespace ipsec::ike::config
