// swanctl.conf proposal strings (connections.<c>.proposals, children.<c>.esp_proposals and
// ah_proposals) to IKEv2 wire proposals (ipsec::ike::Proposal, RFC 7296 §3.3).
//
// A list is comma-separated; each item is one proposal (numbered 1..n in list order) or the
// keyword `default`, which expands to the default proposals below. An item is algorithm keywords
// joined by '-' (strongSwan's syntax, keywords case-insensitive); several algorithms of one type
// in an item become several transforms of that type in one proposal (the peer picks one).
//
// Keywords accepted (the ones this project implements):
//   encryption  IKE: aes128 aes256 (AES-CBC), aes128gcm16 aes256gcm16 (aliases aes128gcm,
//                    aes256gcm, aes128gcm128, aes256gcm128; AES-GCM with a 16-byte ICV)
//               ESP: the same, and chacha20poly1305, aes128gmac aes256gmac (ENCR_NULL_AUTH_AES_GMAC),
//                    null (ENCR_NULL; needs sha256)
//   integrity   IKE: sha256 sha384 sha512 (also sha2_256 ...; HMAC-SHA2-256-128/384-192/512-256)
//               ESP: sha256; AH: sha256, aes128gmac aes256gmac (AUTH_AES_128/256_GMAC)
//   PRF         IKE only: prfsha256 prfsha384 prfsha512. Without one, each integrity algorithm
//               adds its PRF (sha256 -> prfsha256), as strongSwan does; AEAD needs an explicit PRF.
//   key exchange modp2048 modp3072 ecp256 ecp384 x25519 (alias curve25519); in ESP/AH: PFS group
//   ESN         ESP/AH only: esn, noesn (both: two ESN transforms, in the order written);
//               neither: noesn
// Other strongSwan keywords (aes192, 3des, sha1, modp1024, ecp521, x448, aes128ccm16, ...) are
// recognised and refused as "not supported"; anything else is "unknown algorithm".
//
// Rules (errors, InvalidArgument, messages without a location; config.cc prefixes it):
//  - IKE needs encryption, a PRF (explicit or derived) and a key exchange method; ESP needs
//    encryption; AH needs integrity and takes no encryption; PRF only in IKE; ESN not in IKE;
//  - AEAD and non-AEAD ciphers do not mix in one proposal; AEAD takes no integrity algorithm;
//    a non-AEAD cipher needs one;
//  - empty items ("a,,b", a trailing ',') and empty keywords ("aes128--sha256") are errors;
//  - at most kMaxProposals proposals per list.
//
// Defaults (strongSwan's default proposals restricted to what is implemented, in its order):
//   IKE: aes128-aes256-sha256-sha384-sha512-ecp256-ecp384-x25519-modp3072-modp2048,
//        aes128gcm16-aes256gcm16-prfsha256-prfsha384-prfsha512-ecp256-ecp384-x25519-modp3072-modp2048
//   ESP: aes128gcm16-aes256gcm16-chacha20poly1305, aes128-aes256-sha256   (both noesn, no PFS)
//   AH:  sha256                                                             (noesn)
//
// The SPI of each proposal is left empty; the daemon fills it in (4 bytes for AH/ESP, RFC 7296
// §3.3.1) before sending.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "host/common/status.h"
#include "host/ike/encoding/payloads/sa_payload.h"

namespace ipsec::ike::config {

inline constexpr size_t kMaxProposals = 32;

// `protocol` is ProtocolId::kIke, kEsp or kAh.
[[nodiscard]] StatusOr<std::vector<Proposal>> ParseProposals(std::string_view list, ProtocolId protocol);

// The default list for the protocol (what `default` expands to).
std::vector<Proposal> DefaultProposals(ProtocolId protocol);

// A proposal in swanctl syntax, e.g. "aes256gcm16-prfsha256-x25519" or "aes128gcm16-noesn";
// transforms without a keyword print as "encr<id>", "integ<id>", ... For logs and tests.
std::string DescribeProposal(const Proposal& proposal);

}  // namespace ipsec::ike::config
