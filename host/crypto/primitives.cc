// Provider selection and the Create() factories of the crypto primitives.
#include "host/crypto/primitives.h"

#include "host/crypto/ipsecmb_primitives.h"
#include "host/crypto/openssl_primitives.h"

namespace ipsec::crypto {

std::string_view ProviderName(Provider p) {
  switch (p) {
    case Provider::kAuto: return "auto";
    case Provider::kIpsecMb: return "ipsec-mb";
    case Provider::kOpenSsl: return "openssl";
  }
  return "?";
}

StatusOr<Provider> ParseProvider(std::string_view name) {
  if (name == "auto") return Provider::kAuto;
  if (name == "ipsec-mb" || name == "ipsecmb") return Provider::kIpsecMb;
  if (name == "openssl") return Provider::kOpenSsl;
  return InvalidArgumentError("unknown crypto provider '" + std::string(name) +
                              "' (expected auto, ipsec-mb or openssl)");
}

bool IpsecMbAvailable() { return ThreadImbMgr() != nullptr; }

Provider ResolveProvider(Provider p) {
  if (p != Provider::kAuto) return p;
  return IpsecMbAvailable() ? Provider::kIpsecMb : Provider::kOpenSsl;
}

StatusOr<std::unique_ptr<Aead>> Aead::Create(Algorithm alg, Bytes key, Provider provider) {
  if (ResolveProvider(provider) == Provider::kIpsecMb) return MakeIpsecMbAead(alg, key);
  return MakeOpenSslAead(alg, key);
}

void Aead::SealBurst(std::span<Op> ops) {
  for (Op& op : ops) {
    const Bytes aad[1] = {Bytes(op.aad, op.aad_len)};
    Seal(Bytes(op.nonce, kNonceSize), aad, MutableBytes(op.text, op.text_len), MutableBytes(op.tag, kTagSize));
  }
}

void Aead::OpenBurst(std::span<Op> ops) {
  for (Op& op : ops) {
    const Bytes aad[1] = {Bytes(op.aad, op.aad_len)};
    op.ok = Open(Bytes(op.nonce, kNonceSize), aad, MutableBytes(op.text, op.text_len), Bytes(op.tag, kTagSize));
  }
}

StatusOr<std::unique_ptr<HmacSha256>> HmacSha256::Create(Bytes key, Provider provider) {
  if (ResolveProvider(provider) == Provider::kIpsecMb) return MakeIpsecMbHmacSha256(key);
  return MakeOpenSslHmacSha256(key);
}

StatusOr<std::unique_ptr<AesCbc>> AesCbc::Create(Bytes key, Provider provider) {
  if (ResolveProvider(provider) == Provider::kIpsecMb) return MakeIpsecMbAesCbc(key);
  return MakeOpenSslAesCbc(key);
}

StatusOr<std::unique_ptr<CbcHmacSha256>> CbcHmacSha256::Create(Bytes cipher_key, Bytes mac_key,
                                                               Provider provider) {
  if (!cipher_key.empty() && cipher_key.size() != 16 && cipher_key.size() != 32) {
    return InvalidArgumentError("AES-CBC key must be 16 or 32 bytes");
  }
  if (ResolveProvider(provider) == Provider::kIpsecMb) return MakeIpsecMbCbcHmac(cipher_key, mac_key);
  return MakeOpenSslCbcHmac(cipher_key, mac_key);
}

}  // namespace ipsec::crypto
