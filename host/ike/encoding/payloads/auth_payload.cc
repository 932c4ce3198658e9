// AuthPayload decode/encode/verify (RFC 7296 §3.8) and RFC 7427 signature data.
#include "host/ike/encoding/payloads/auth_payload.h"

#include "host/ike/encoding/parse_error.h"

namespace ipsec::ike {
namespace {

// Checks that `der` is exactly one DER TLV with tag SEQUENCE (0x30), definite length in short
// form or long form of 1..2 bytes (an AlgorithmIdentifier is never longer).
bool IsSingleDerSequence(Bytes der) {
  if (der.size() < 2 || der[0] != std::byte{0x30}) return false;
  const uint8_t l0 = U8(der[1]);
  size_t header = 2, content = 0;
  if (l0 < 0x80) {
    content = l0;
  } else if (l0 == 0x81) {
    if (der.size() < 3) return false;
    header = 3;
    content = U8(der[2]);
  } else if (l0 == 0x82) {
    if (der.size() < 4) return false;
    header = 4;
    content = LoadU16Be(&der[2]);
  } else {
    return false;
  }
  return der.size() - header == content;
}

}  // namespace

StatusOr<AuthPayload> AuthPayload::Parse(Bytes body, size_t offset) {
  if (body.size() < 4) return ParseError(offset, "AUTH body of " + Num(body.size()) + " bytes is shorter than 4");
  AuthPayload a;
  a.method = static_cast<AuthMethod>(U8(body[0]));
  a.data.assign(body.begin() + 4, body.end());
  return a;
}

Status AuthPayload::Serialize(WireWriter& w) const {
  w.WriteU8(static_cast<uint8_t>(method));
  w.WriteZeros(3);
  w.WriteBytes(data);
  return OkStatus();
}

Status AuthPayload::Verify() const {
  if (static_cast<uint8_t>(method) == 0) return InvalidArgumentError("AUTH: method 0");
  if (data.empty()) return InvalidArgumentError("AUTH: empty authentication data");
  size_t ecdsa = 0;
  switch (method) {
    case AuthMethod::kEcdsaSha256P256: ecdsa = 64; break;
    case AuthMethod::kEcdsaSha384P384: ecdsa = 96; break;
    case AuthMethod::kEcdsaSha512P521: ecdsa = 132; break;
    case AuthMethod::kDigitalSignature: {
      auto sig = ParseSignatureAuthData(data);
      if (!sig.ok()) return InvalidArgumentError("AUTH: " + sig.status().message());
      break;
    }
    default: break;
  }
  if (ecdsa != 0 && data.size() != ecdsa) {
    return InvalidArgumentError("AUTH: ECDSA signature of " + Num(data.size()) + " bytes (RFC 4754 wants " +
                                Num(ecdsa) + ")");
  }
  return OkStatus();
}

StatusOr<SignatureAuthData> ParseSignatureAuthData(Bytes data) {
  if (data.empty()) return InvalidArgumentError("RFC 7427 auth data is empty");
  const size_t n = U8(data[0]);
  if (n == 0) return InvalidArgumentError("RFC 7427 ASN.1 Length is 0");
  if (n > data.size() - 1) {
    return InvalidArgumentError("RFC 7427 ASN.1 Length " + Num(n) + " exceeds the " + Num(data.size() - 1) +
                                " bytes that follow");
  }
  const Bytes alg = data.subspan(1, n);
  if (!IsSingleDerSequence(alg)) {
    return InvalidArgumentError("RFC 7427 AlgorithmIdentifier is not a DER SEQUENCE of " + Num(n) + " bytes");
  }
  const Bytes sig = data.subspan(1 + n);
  if (sig.empty()) return InvalidArgumentError("RFC 7427 signature value is empty");
  return SignatureAuthData{{alg.begin(), alg.end()}, {sig.begin(), sig.end()}};
}

StatusOr<std::vector<std::byte>> BuildSignatureAuthData(const SignatureAuthData& sig) {
  if (sig.algorithm_identifier.empty() || sig.algorithm_identifier.size() > 255) {
    return EncodeError("RFC 7427 AlgorithmIdentifier must be 1..255 bytes, got " +
                       Num(sig.algorithm_identifier.size()));
  }
  std::vector<std::byte> out;
  out.reserve(1 + sig.algorithm_identifier.size() + sig.signature.size());
  out.push_back(std::byte{static_cast<uint8_t>(sig.algorithm_identifier.size())});
  out.insert(out.end(), sig.algorithm_identifier.begin(), sig.algorithm_identifier.end());
  out.insert(out.end(), sig.signature.begin(), sig.signature.end());
  return out;
}

}  // namespace ipsec::ike
