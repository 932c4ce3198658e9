// Registry lookups for ike_constants.h: names, AEAD and key-length classification, KE data sizes.
#include "host/ike/encoding/ike_constants.h"

namespace ipsec::ike {

bool IsKnownPayloadType(PayloadType type) {
  switch (type) {
    case PayloadType::kSa:
    case PayloadType::kKe:
    case PayloadType::kIdInitiator:
    case PayloadType::kIdResponder:
    case PayloadType::kCert:
    case PayloadType::kCertReq:
    case PayloadType::kAuth:
    case PayloadType::kNonce:
    case PayloadType::kNotify:
    case PayloadType::kDelete:
    case PayloadType::kVendorId:
    case PayloadType::kTsInitiator:
    case PayloadType::kTsResponder:
    case PayloadType::kEncrypted:
    case PayloadType::kConfig:
    case PayloadType::kEap:
    case PayloadType::kEncryptedFragment:
      return true;
    default:
      return false;
  }
}

bool IsAeadCipher(EncrId id) {
  switch (id) {
    case EncrId::kAesCcm8:
    case EncrId::kAesCcm12:
    case EncrId::kAesCcm16:
    case EncrId::kAesGcm8:
    case EncrId::kAesGcm12:
    case EncrId::kAesGcm16:
    case EncrId::kNullAuthAesGmac:
    case EncrId::kCamelliaCcm8:
    case EncrId::kCamelliaCcm12:
    case EncrId::kCamelliaCcm16:
    case EncrId::kChaCha20Poly1305:
      return true;
    default:
      return false;
  }
}

bool CipherNeedsKeyLength(EncrId id) {
  switch (id) {
    case EncrId::kAesCbc:
    case EncrId::kAesCtr:
    case EncrId::kAesCcm8:
    case EncrId::kAesCcm12:
    case EncrId::kAesCcm16:
    case EncrId::kAesGcm8:
    case EncrId::kAesGcm12:
    case EncrId::kAesGcm16:
    case EncrId::kNullAuthAesGmac:
    case EncrId::kCamelliaCbc:
    case EncrId::kCamelliaCtr:
    case EncrId::kCamelliaCcm8:
    case EncrId::kCamelliaCcm12:
    case EncrId::kCamelliaCcm16:
      return true;
    default:
      return false;
  }
}

size_t KeyExchangeDataSize(DhGroup group) {
  switch (group) {
    case DhGroup::kModp768: return 96;
    case DhGroup::kModp1024: return 128;
    case DhGroup::kModp1536: return 192;
    case DhGroup::kModp2048: return 256;
    case DhGroup::kModp3072: return 384;
    case DhGroup::kModp4096: return 512;
    case DhGroup::kModp6144: return 768;
    case DhGroup::kModp8192: return 1024;
    case DhGroup::kEcp256: return 64;
    case DhGroup::kEcp384: return 96;
    case DhGroup::kEcp521: return 132;
    case DhGroup::kCurve25519: return 32;
    case DhGroup::kCurve448: return 56;
    default: return 0;
  }
}

std::string_view PayloadTypeName(PayloadType t) {
  switch (t) {
    case PayloadType::kNone: return "NONE";
    case PayloadType::kSa: return "SA";
    case PayloadType::kKe: return "KE";
    case PayloadType::kIdInitiator: return "IDi";
    case PayloadType::kIdResponder: return "IDr";
    case PayloadType::kCert: return "CERT";
    case PayloadType::kCertReq: return "CERTREQ";
    case PayloadType::kAuth: return "AUTH";
    case PayloadType::kNonce: return "Nonce";
    case PayloadType::kNotify: return "N";
    case PayloadType::kDelete: return "D";
    case PayloadType::kVendorId: return "V";
    case PayloadType::kTsInitiator: return "TSi";
    case PayloadType::kTsResponder: return "TSr";
    case PayloadType::kEncrypted: return "SK";
    case PayloadType::kConfig: return "CP";
    case PayloadType::kEap: return "EAP";
    case PayloadType::kGspm: return "GSPM";
    case PayloadType::kEncryptedFragment: return "SKF";
  }
  return "UNKNOWN";
}

std::string_view ExchangeTypeName(ExchangeType t) {
  switch (t) {
    case ExchangeType::kIkeSaInit: return "IKE_SA_INIT";
    case ExchangeType::kIkeAuth: return "IKE_AUTH";
    case ExchangeType::kCreateChildSa: return "CREATE_CHILD_SA";
    case ExchangeType::kInformational: return "INFORMATIONAL";
    case ExchangeType::kIkeSessionResume: return "IKE_SESSION_RESUME";
    case ExchangeType::kIkeIntermediate: return "IKE_INTERMEDIATE";
    case ExchangeType::kIkeFollowupKe: return "IKE_FOLLOWUP_KE";
  }
  return "UNKNOWN";
}

std::string_view NotifyTypeName(NotifyType t) {
  switch (t) {
    case NotifyType::kUnsupportedCriticalPayload: return "UNSUPPORTED_CRITICAL_PAYLOAD";
    case NotifyType::kInvalidIkeSpi: return "INVALID_IKE_SPI";
    case NotifyType::kInvalidMajorVersion: return "INVALID_MAJOR_VERSION";
    case NotifyType::kInvalidSyntax: return "INVALID_SYNTAX";
    case NotifyType::kInvalidMessageId: return "INVALID_MESSAGE_ID";
    case NotifyType::kInvalidSpi: return "INVALID_SPI";
    case NotifyType::kNoProposalChosen: return "NO_PROPOSAL_CHOSEN";
    case NotifyType::kInvalidKePayload: return "INVALID_KE_PAYLOAD";
    case NotifyType::kAuthenticationFailed: return "AUTHENTICATION_FAILED";
    case NotifyType::kSinglePairRequired: return "SINGLE_PAIR_REQUIRED";
    case NotifyType::kNoAdditionalSas: return "NO_ADDITIONAL_SAS";
    case NotifyType::kInternalAddressFailure: return "INTERNAL_ADDRESS_FAILURE";
    case NotifyType::kFailedCpRequired: return "FAILED_CP_REQUIRED";
    case NotifyType::kTsUnacceptable: return "TS_UNACCEPTABLE";
    case NotifyType::kInvalidSelectors: return "INVALID_SELECTORS";
    case NotifyType::kUnacceptableAddresses: return "UNACCEPTABLE_ADDRESSES";
    case NotifyType::kUnexpectedNatDetected: return "UNEXPECTED_NAT_DETECTED";
    case NotifyType::kTemporaryFailure: return "TEMPORARY_FAILURE";
    case NotifyType::kChildSaNotFound: return "CHILD_SA_NOT_FOUND";
    case NotifyType::kStateNotFound: return "STATE_NOT_FOUND";
    case NotifyType::kInitialContact: return "INITIAL_CONTACT";
    case NotifyType::kSetWindowSize: return "SET_WINDOW_SIZE";
    case NotifyType::kAdditionalTsPossible: return "ADDITIONAL_TS_POSSIBLE";
    case NotifyType::kIpcompSupported: return "IPCOMP_SUPPORTED";
    case NotifyType::kNatDetectionSourceIp: return "NAT_DETECTION_SOURCE_IP";
    case NotifyType::kNatDetectionDestinationIp: return "NAT_DETECTION_DESTINATION_IP";
    case NotifyType::kCookie: return "COOKIE";
    case NotifyType::kUseTransportMode: return "USE_TRANSPORT_MODE";
    case NotifyType::kHttpCertLookupSupported: return "HTTP_CERT_LOOKUP_SUPPORTED";
    case NotifyType::kRekeySa: return "REKEY_SA";
    case NotifyType::kEspTfcPaddingNotSupported: return "ESP_TFC_PADDING_NOT_SUPPORTED";
    case NotifyType::kNonFirstFragmentsAlso: return "NON_FIRST_FRAGMENTS_ALSO";
    case NotifyType::kMobikeSupported: return "MOBIKE_SUPPORTED";
    case NotifyType::kAdditionalIp4Address: return "ADDITIONAL_IP4_ADDRESS";
    case NotifyType::kAdditionalIp6Address: return "ADDITIONAL_IP6_ADDRESS";
    case NotifyType::kNoAdditionalAddresses: return "NO_ADDITIONAL_ADDRESSES";
    case NotifyType::kUpdateSaAddresses: return "UPDATE_SA_ADDRESSES";
    case NotifyType::kCookie2: return "COOKIE2";
    case NotifyType::kNoNatsAllowed: return "NO_NATS_ALLOWED";
    case NotifyType::kAuthLifetime: return "AUTH_LIFETIME";
    case NotifyType::kMultipleAuthSupported: return "MULTIPLE_AUTH_SUPPORTED";
    case NotifyType::kAnotherAuthFollows: return "ANOTHER_AUTH_FOLLOWS";
    case NotifyType::kRedirectSupported: return "REDIRECT_SUPPORTED";
    case NotifyType::kRedirect: return "REDIRECT";
    case NotifyType::kRedirectedFrom: return "REDIRECTED_FROM";
    case NotifyType::kEapOnlyAuthentication: return "EAP_ONLY_AUTHENTICATION";
    case NotifyType::kChildlessIkev2Supported: return "CHILDLESS_IKEV2_SUPPORTED";
    case NotifyType::kIkev2FragmentationSupported: return "IKEV2_FRAGMENTATION_SUPPORTED";
    case NotifyType::kSignatureHashAlgorithms: return "SIGNATURE_HASH_ALGORITHMS";
    case NotifyType::kIntermediateExchangeSupported: return "INTERMEDIATE_EXCHANGE_SUPPORTED";
  }
  return "UNKNOWN";
}

std::string_view TransformTypeName(TransformType t) {
  switch (t) {
    case TransformType::kEncr: return "ENCR";
    case TransformType::kPrf: return "PRF";
    case TransformType::kInteg: return "INTEG";
    case TransformType::kDh: return "DH";
    case TransformType::kEsn: return "ESN";
    default: break;
  }
  const auto v = static_cast<uint8_t>(t);
  if (v >= static_cast<uint8_t>(TransformType::kAdditionalKe1) &&
      v <= static_cast<uint8_t>(TransformType::kAdditionalKe7)) {
    return "ADDKE";
  }
  return "UNKNOWN";
}

std::string_view ProtocolIdName(ProtocolId p) {
  switch (p) {
    case ProtocolId::kNone: return "NONE";
    case ProtocolId::kIke: return "IKE";
    case ProtocolId::kAh: return "AH";
    case ProtocolId::kEsp: return "ESP";
  }
  return "UNKNOWN";
}

}  // namespace ipsec::ike
