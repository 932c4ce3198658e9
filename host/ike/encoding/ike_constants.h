// IKEv2 protocol numbers: exchange, payload, transform, notify, ID, auth, TS, CP and certificate
// registries (RFC 7296 §3 and the IANA "IKEv2 Parameters" registry).
//
// Every enum has a fixed underlying type equal to its wire width, so a value received from a peer
// that has no enumerator is still representable (static_cast is well defined) and is carried
// through decode/encode unchanged; only Verify() and the negotiation layers judge it. Names come
// from the registry with the usual kCamelCase spelling.
#pragma once

#include <cstdint>
#include <string_view>

namespace ipsec::ike {

// RFC 7296 §3.1: 28-byte fixed header; §3.2: 4-byte generic payload header.
inline constexpr size_t kIkeHeaderSize = 28;
inline constexpr size_t kGenericPayloadHeaderSize = 4;
inline constexpr uint8_t kIkeMajorVersion = 2;

// RFC 7296 §3.1 header flag bits (bit 3 = I, bit 4 = V, bit 5 = R, counting from the LSB at 0).
inline constexpr uint8_t kFlagInitiator = 0x08;
inline constexpr uint8_t kFlagVersion = 0x10;
inline constexpr uint8_t kFlagResponse = 0x20;

// RFC 7296 §3.2: the critical bit is the top bit of the second generic-header byte.
inline constexpr uint8_t kCriticalBit = 0x80;

enum class ExchangeType : uint8_t {
  kIkeSaInit = 34,
  kIkeAuth = 35,
  kCreateChildSa = 36,
  kInformational = 37,
  kIkeSessionResume = 38,  // RFC 5723
  kIkeIntermediate = 43,   // RFC 9242
  kIkeFollowupKe = 44,     // RFC 9370
};

enum class PayloadType : uint8_t {
  kNone = 0,  // "no next payload"
  kSa = 33,
  kKe = 34,
  kIdInitiator = 35,  // IDi
  kIdResponder = 36,  // IDr
  kCert = 37,
  kCertReq = 38,
  kAuth = 39,
  kNonce = 40,
  kNotify = 41,
  kDelete = 42,
  kVendorId = 43,
  kTsInitiator = 44,  // TSi
  kTsResponder = 45,  // TSr
  kEncrypted = 46,    // SK
  kConfig = 47,       // CP
  kEap = 48,
  kGspm = 49,               // RFC 6467; not decoded here (treated as unknown)
  kEncryptedFragment = 53,  // SKF, RFC 7383
};

// Whether this layer has a decoder for the type (so the critical bit does not apply, §2.5).
bool IsKnownPayloadType(PayloadType type);

enum class ProtocolId : uint8_t {
  kNone = 0,  // notify without SPI
  kIke = 1,
  kAh = 2,
  kEsp = 3,
};

enum class TransformType : uint8_t {
  kEncr = 1,
  kPrf = 2,
  kInteg = 3,
  kDh = 4,  // "Key Exchange Method" since RFC 9370
  kEsn = 5,
  kAdditionalKe1 = 6,  // RFC 9370 ADDKE1..ADDKE7
  kAdditionalKe7 = 12,
};

enum class EncrId : uint16_t {
  kDesIv64 = 1,
  kDes = 2,
  k3Des = 3,
  kRc5 = 4,
  kIdea = 5,
  kCast = 6,
  kBlowfish = 7,
  k3Idea = 8,
  kDesIv32 = 9,
  kNull = 11,
  kAesCbc = 12,
  kAesCtr = 13,
  kAesCcm8 = 14,
  kAesCcm12 = 15,
  kAesCcm16 = 16,
  kAesGcm8 = 18,
  kAesGcm12 = 19,
  kAesGcm16 = 20,
  kNullAuthAesGmac = 21,
  kCamelliaCbc = 23,
  kCamelliaCtr = 24,
  kCamelliaCcm8 = 25,
  kCamelliaCcm12 = 26,
  kCamelliaCcm16 = 27,
  kChaCha20Poly1305 = 28,  // RFC 7634
};

// AEAD ("combined mode") ciphers: no separate INTEG transform (RFC 5282 §8, RFC 7634 §2).
bool IsAeadCipher(EncrId id);
// Ciphers whose key size is chosen with the Key Length attribute (RFC 7296 §3.3.5: MUST be sent
// for them and MUST NOT be sent for fixed-key ciphers).
bool CipherNeedsKeyLength(EncrId id);

enum class PrfId : uint16_t {
  kHmacMd5 = 1,
  kHmacSha1 = 2,
  kHmacTiger = 3,
  kAes128Xcbc = 4,
  kHmacSha2_256 = 5,  // RFC 4868
  kHmacSha2_384 = 6,
  kHmacSha2_512 = 7,
  kAes128Cmac = 8,
};

enum class IntegId : uint16_t {
  kNone = 0,
  kHmacMd5_96 = 1,
  kHmacSha1_96 = 2,
  kDesMac = 3,
  kKpdkMd5 = 4,
  kAesXcbc96 = 5,
  kHmacMd5_128 = 6,
  kHmacSha1_160 = 7,
  kAesCmac96 = 8,
  kAes128Gmac = 9,
  kAes192Gmac = 10,
  kAes256Gmac = 11,
  kHmacSha2_256_128 = 12,  // RFC 4868
  kHmacSha2_384_192 = 13,
  kHmacSha2_512_256 = 14,
};

enum class DhGroup : uint16_t {
  kNone = 0,
  kModp768 = 1,
  kModp1024 = 2,
  kModp1536 = 5,
  kModp2048 = 14,
  kModp3072 = 15,
  kModp4096 = 16,
  kModp6144 = 17,
  kModp8192 = 18,
  kEcp256 = 19,  // RFC 5903
  kEcp384 = 20,
  kEcp521 = 21,
  kModp1024s160 = 22,  // RFC 5114
  kModp2048s224 = 23,
  kModp2048s256 = 24,
  kEcp192 = 25,
  kEcp224 = 26,
  kBrainpoolP224 = 27,  // RFC 6954
  kBrainpoolP256 = 28,
  kBrainpoolP384 = 29,
  kBrainpoolP512 = 30,
  kCurve25519 = 31,  // RFC 8031
  kCurve448 = 32,
};

// Size of the Key Exchange Data for a group (RFC 7296 §3.4 MODP: prime size; RFC 5903 §7 ECP:
// x||y; RFC 8031 §3 Curve25519/448), or 0 when this layer does not know it.
size_t KeyExchangeDataSize(DhGroup group);

enum class EsnId : uint16_t { kNoEsn = 0, kEsn = 1 };

// RFC 7296 §3.3.5. Only Key Length (TV format) is defined for IKEv2.
enum class AttributeType : uint16_t { kKeyLength = 14 };

enum class IdType : uint8_t {
  kIpv4Addr = 1,
  kFqdn = 2,
  kRfc822Addr = 3,
  kIpv6Addr = 5,
  kDerAsn1Dn = 9,
  kDerAsn1Gn = 10,
  kKeyId = 11,
  kFcName = 12,  // RFC 4595
  kNull = 13,    // RFC 7619
};

enum class AuthMethod : uint8_t {
  kRsaSignature = 1,
  kSharedKeyMic = 2,
  kDssSignature = 3,
  kEcdsaSha256P256 = 9,  // RFC 4754
  kEcdsaSha384P384 = 10,
  kEcdsaSha512P521 = 11,
  kGenericSecurePassword = 12,  // RFC 6467
  kNullAuth = 13,               // RFC 7619
  kDigitalSignature = 14,       // RFC 7427
};

// RFC 7427 §7 "IKEv2 Hash Algorithms", carried in N(SIGNATURE_HASH_ALGORITHMS).
enum class HashAlgorithm : uint16_t {
  kSha1 = 1,
  kSha2_256 = 2,
  kSha2_384 = 3,
  kSha2_512 = 4,
  kIdentity = 5,  // RFC 8420
};

enum class CertEncoding : uint8_t {
  kPkcs7WrappedX509 = 1,
  kPgp = 2,
  kDnsSignedKey = 3,
  kX509Signature = 4,
  kKerberosToken = 6,
  kCrl = 7,
  kArl = 8,
  kSpki = 9,
  kX509Attribute = 10,
  kRawRsaKey = 11,  // deprecated by RFC 7296
  kHashUrlX509Cert = 12,
  kHashUrlX509Bundle = 13,
  kOcspContent = 14,   // RFC 4806
  kRawPublicKey = 15,  // RFC 7670
};

enum class TsType : uint8_t {
  kIpv4AddrRange = 7,
  kIpv6AddrRange = 8,
  kFcAddrRange = 9,  // RFC 4595; carried opaquely
};

enum class CfgType : uint8_t { kRequest = 1, kReply = 2, kSet = 3, kAck = 4 };

enum class ConfigAttributeType : uint16_t {
  kInternalIp4Address = 1,
  kInternalIp4Netmask = 2,
  kInternalIp4Dns = 3,
  kInternalIp4Nbns = 4,
  kInternalIp4Dhcp = 6,
  kApplicationVersion = 7,
  kInternalIp6Address = 8,
  kInternalIp6Dns = 10,
  kInternalIp6Dhcp = 12,
  kInternalIp4Subnet = 13,
  kSupportedAttributes = 14,
  kInternalIp6Subnet = 15,
  kInternalDnsDomain = 25,  // RFC 8598
};

enum class NotifyType : uint16_t {
  // Errors (0..16383, RFC 7296 §3.10.1).
  kUnsupportedCriticalPayload = 1,
  kInvalidIkeSpi = 4,
  kInvalidMajorVersion = 5,
  kInvalidSyntax = 7,
  kInvalidMessageId = 9,
  kInvalidSpi = 11,
  kNoProposalChosen = 14,
  kInvalidKePayload = 17,
  kAuthenticationFailed = 24,
  kSinglePairRequired = 34,
  kNoAdditionalSas = 35,
  kInternalAddressFailure = 36,
  kFailedCpRequired = 37,
  kTsUnacceptable = 38,
  kInvalidSelectors = 39,
  kUnacceptableAddresses = 40,   // RFC 4555
  kUnexpectedNatDetected = 41,   // RFC 4555
  kTemporaryFailure = 43,
  kChildSaNotFound = 44,
  kStateNotFound = 47,           // RFC 9370
  // Status (16384..65535).
  kInitialContact = 16384,
  kSetWindowSize = 16385,
  kAdditionalTsPossible = 16386,
  kIpcompSupported = 16387,
  kNatDetectionSourceIp = 16388,
  kNatDetectionDestinationIp = 16389,
  kCookie = 16390,
  kUseTransportMode = 16391,
  kHttpCertLookupSupported = 16392,
  kRekeySa = 16393,
  kEspTfcPaddingNotSupported = 16394,
  kNonFirstFragmentsAlso = 16395,
  kMobikeSupported = 16396,        // RFC 4555
  kAdditionalIp4Address = 16397,
  kAdditionalIp6Address = 16398,
  kNoAdditionalAddresses = 16399,
  kUpdateSaAddresses = 16400,
  kCookie2 = 16401,
  kNoNatsAllowed = 16402,
  kAuthLifetime = 16403,           // RFC 4478
  kMultipleAuthSupported = 16404,  // RFC 4739
  kAnotherAuthFollows = 16405,
  kRedirectSupported = 16406,      // RFC 5685
  kRedirect = 16407,
  kRedirectedFrom = 16408,
  kEapOnlyAuthentication = 16417,  // RFC 5998
  kChildlessIkev2Supported = 16418,  // RFC 6023
  kIkev2FragmentationSupported = 16430,  // RFC 7383
  kSignatureHashAlgorithms = 16431,      // RFC 7427
  kIntermediateExchangeSupported = 16438,  // RFC 9242
};

inline constexpr uint16_t kFirstStatusNotify = 16384;
inline bool IsErrorNotify(NotifyType t) { return static_cast<uint16_t>(t) < kFirstStatusNotify; }

// RFC 7296 §2.23 / RFC 3947: NAT_DETECTION_* data is a SHA-1 digest.
inline constexpr size_t kNatDetectionHashSize = 20;
// RFC 7296 §2.6: cookie data is 1..64 octets.
inline constexpr size_t kMaxCookieSize = 64;
// RFC 7296 §3.9: nonces are 16..256 octets.
inline constexpr size_t kMinNonceSize = 16;
inline constexpr size_t kMaxNonceSize = 256;

// Registry names for logs and error text ("SA", "IKE_SA_INIT", "NO_PROPOSAL_CHOSEN"), or
// "UNKNOWN" for unassigned values. Never throws, never allocates.
std::string_view PayloadTypeName(PayloadType t);
std::string_view ExchangeTypeName(ExchangeType t);
std::string_view NotifyTypeName(NotifyType t);
std::string_view TransformTypeName(TransformType t);
std::string_view ProtocolIdName(ProtocolId p);

}  // namespace ipsec::ike
