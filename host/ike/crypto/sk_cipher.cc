// SkCipher: SK/SKF encryption and authentication (RFC 7296 §3.14, RFC 5282, RFC 7383 §2.5).
#include "host/ike/crypto/sk_cipher.h"

#include <openssl/hmac.h>

#include <algorithm>
#include <limits>
#include <string>

#include "host/ike/crypto/ossl_util.h"

namespace ipsec::ike {
namespace {

using internal::CipherCtxPtr;
using internal::OsslFailure;

constexpr size_t kGcmIvSize = 8;     // RFC 5282 §3.1
constexpr size_t kGcmSaltSize = 4;   // RFC 5282 §7.1
constexpr size_t kGcmIcvSize = 16;   // ENCR_AES_GCM_16
constexpr size_t kAesBlockSize = 16;
constexpr size_t kFragmentFieldsSize = 4;  // Fragment Number, Total Fragments
constexpr size_t kMaxPayloadLength = 0xffff;
constexpr size_t kNextPayloadOffsetInHeader = 16;

Status Syntax(std::string what) { return InvalidArgumentError("IKE SK: " + std::move(what)); }
Status AuthFailed() { return OsslFailure(StatusCode::kDataLoss, "SK: integrity check failed"); }
Status Internal(std::string what) { return OsslFailure(StatusCode::kInternal, "SK: " + std::move(what)); }

unsigned char* U(std::byte* p) { return reinterpret_cast<unsigned char*>(p); }
const unsigned char* U(const std::byte* p) { return reinterpret_cast<const unsigned char*>(p); }

const EVP_MD* IntegDigest(IntegId integ) {
  switch (integ) {
    case IntegId::kHmacSha2_256_128:
      return EVP_sha256();
    case IntegId::kHmacSha2_384_192:
      return EVP_sha384();
    case IntegId::kHmacSha2_512_256:
      return EVP_sha512();
    default:
      return nullptr;
  }
}

// RFC 4868 §2.3: the ICV is the HMAC output truncated to half its length.
size_t IntegIcvSize(IntegId integ) { return SkIntegrityKeySize(integ) / 2; }

const EVP_CIPHER* Cipher(const SkTransform& t) {
  const bool k256 = t.key_bits == 256;
  if (t.encr == EncrId::kAesGcm16) return k256 ? EVP_aes_256_gcm() : EVP_aes_128_gcm();
  return k256 ? EVP_aes_256_cbc() : EVP_aes_128_cbc();
}

// The offset of the Next Payload byte that names the payload following `prefix`: the header's if
// the prefix has no payloads, otherwise the last payload's. Walks the chain by lengths only.
StatusOr<size_t> LastNextPayloadOffset(Bytes prefix) {
  if (prefix.size() < kIkeHeaderSize) return Syntax("message prefix shorter than the IKE header");
  size_t next_at = kNextPayloadOffsetInHeader;
  size_t pos = kIkeHeaderSize;
  while (pos < prefix.size()) {
    if (prefix.size() - pos < kGenericPayloadHeaderSize) return Syntax("truncated payload header in the prefix");
    const size_t len = LoadU16Be(&prefix[pos + 2]);
    if (len < kGenericPayloadHeaderSize || len > prefix.size() - pos) {
      return Syntax("payload length in the prefix does not add up");
    }
    next_at = pos;
    pos += len;
  }
  return next_at;
}

}  // namespace

Status ValidateSkTransform(const SkTransform& t) {
  if (t.encr != EncrId::kAesGcm16 && t.encr != EncrId::kAesCbc) {
    return UnimplementedError("IKE SK: encryption transform " + std::to_string(static_cast<int>(t.encr)) +
                              " is not supported");
  }
  if (t.key_bits != 128 && t.key_bits != 256) {
    return UnimplementedError("IKE SK: key length " + std::to_string(t.key_bits) + " is not supported");
  }
  if (t.encr == EncrId::kAesGcm16) {
    if (t.integ != IntegId::kNone) return InvalidArgumentError("IKE SK: AES-GCM must not have an INTEG transform");
    return OkStatus();
  }
  if (t.integ == IntegId::kNone) return InvalidArgumentError("IKE SK: AES-CBC needs an INTEG transform");
  if (IntegDigest(t.integ) == nullptr) {
    return UnimplementedError("IKE SK: integrity transform " + std::to_string(static_cast<int>(t.integ)) +
                              " is not supported");
  }
  return OkStatus();
}

size_t SkEncryptionKeySize(const SkTransform& t) {
  return t.key_bits / 8 + (t.encr == EncrId::kAesGcm16 ? kGcmSaltSize : 0);
}

size_t SkIntegrityKeySize(IntegId integ) {
  // RFC 4868 §2.1.1: the key length equals the hash output length.
  switch (integ) {
    case IntegId::kHmacSha2_256_128:
      return 32;
    case IntegId::kHmacSha2_384_192:
      return 48;
    case IntegId::kHmacSha2_512_256:
      return 64;
    default:
      return 0;
  }
}

SkFailure ClassifySkFailure(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return SkFailure::kNone;
    case StatusCode::kInvalidArgument:
      return SkFailure::kInvalidSyntax;
    case StatusCode::kDataLoss:
      return SkFailure::kAuthenticationFailed;
    default:
      return SkFailure::kOther;
  }
}

SkCipher::SkCipher(const SkTransform& transform, SecureBytes enc_key, SecureBytes salt, SecureBytes auth_key,
                   RandomSource& random)
    : transform_(transform),
      aead_(transform.encr == EncrId::kAesGcm16),
      iv_size_(aead_ ? kGcmIvSize : kAesBlockSize),
      icv_size_(aead_ ? kGcmIcvSize : IntegIcvSize(transform.integ)),
      enc_key_(std::move(enc_key)),
      salt_(std::move(salt)),
      auth_key_(std::move(auth_key)),
      random_(random) {}

SkCipher::~SkCipher() = default;

StatusOr<std::unique_ptr<SkCipher>> SkCipher::Create(const SkTransform& transform, Bytes sk_e, Bytes sk_a,
                                                     RandomSource& random) {
  RETURN_IF_ERROR(ValidateSkTransform(transform));
  if (sk_e.size() != SkEncryptionKeySize(transform)) {
    return InvalidArgumentError("IKE SK: SK_e is " + std::to_string(sk_e.size()) + " bytes, expected " +
                                std::to_string(SkEncryptionKeySize(transform)));
  }
  if (sk_a.size() != SkIntegrityKeySize(transform.integ)) {
    return InvalidArgumentError("IKE SK: SK_a is " + std::to_string(sk_a.size()) + " bytes, expected " +
                                std::to_string(SkIntegrityKeySize(transform.integ)));
  }
  const size_t key_len = transform.key_bits / 8;
  return std::unique_ptr<SkCipher>(new SkCipher(transform, SecureBytes(sk_e.first(key_len)),
                                                SecureBytes(sk_e.subspan(key_len)), SecureBytes(sk_a), random));
}

size_t SkCipher::PaddingFor(size_t inner_size) const {
  if (aead_) return 0;
  return (kAesBlockSize - (inner_size + 1) % kAesBlockSize) % kAesBlockSize;
}

size_t SkCipher::Overhead(size_t inner_size, bool fragment) const {
  return kGenericPayloadHeaderSize + (fragment ? kFragmentFieldsSize : 0) + iv_size_ + PaddingFor(inner_size) + 1 +
         icv_size_;
}

StatusOr<std::vector<std::byte>> SkCipher::Encrypt(Bytes header_and_payloads, PayloadType first_inner, Bytes inner) {
  return EncryptImpl(header_and_payloads, first_inner, nullptr, inner);
}

StatusOr<std::vector<std::byte>> SkCipher::EncryptFragment(Bytes header_and_payloads, PayloadType first_inner,
                                                           uint16_t fragment_number, uint16_t total_fragments,
                                                           Bytes content) {
  if (fragment_number == 0 || total_fragments == 0 || fragment_number > total_fragments) {
    return Syntax("fragment number must be within 1..Total Fragments");
  }
  if (fragment_number != 1 && first_inner != PayloadType::kNone) {
    return Syntax("only fragment 1 names the first inner payload (RFC 7383 §2.5)");
  }
  const FragmentFields frag{fragment_number, total_fragments};
  return EncryptImpl(header_and_payloads, first_inner, &frag, content);
}

StatusOr<std::vector<std::byte>> SkCipher::EncryptImpl(Bytes prefix, PayloadType first_inner,
                                                       const FragmentFields* frag, Bytes inner) {
  if (first_inner == PayloadType::kEncrypted || first_inner == PayloadType::kEncryptedFragment) {
    return Syntax("the first inner payload cannot be SK/SKF");
  }
  ASSIGN_OR_RETURN(const size_t next_at, LastNextPayloadOffset(prefix));
  const size_t extra = frag != nullptr ? kFragmentFieldsSize : 0;
  const size_t padding = PaddingFor(inner.size());
  const size_t encrypted_size = inner.size() + padding + 1;
  if (inner.size() > kMaxPayloadLength) return Syntax("SK payload would exceed 65535 bytes");
  const size_t payload_len = kGenericPayloadHeaderSize + extra + iv_size_ + encrypted_size + icv_size_;
  if (payload_len > kMaxPayloadLength) return Syntax("SK payload would exceed 65535 bytes");
  const size_t total = prefix.size() + payload_len;
  if (total > std::numeric_limits<uint32_t>::max()) return Syntax("message would exceed 2^32-1 bytes");

  std::vector<std::byte> out(total);
  std::copy(prefix.begin(), prefix.end(), out.begin());
  // Final chaining and lengths first: they are part of the AAD / the ICV input.
  out[next_at] = std::byte{static_cast<uint8_t>(frag != nullptr ? PayloadType::kEncryptedFragment
                                                                : PayloadType::kEncrypted)};
  StoreU32Be(&out[24], static_cast<uint32_t>(total));
  size_t pos = prefix.size();
  out[pos] = std::byte{static_cast<uint8_t>(first_inner)};
  out[pos + 1] = std::byte{0};  // C = 0, RESERVED
  StoreU16Be(&out[pos + 2], static_cast<uint16_t>(payload_len));
  pos += kGenericPayloadHeaderSize;
  if (frag != nullptr) {
    StoreU16Be(&out[pos], frag->number);
    StoreU16Be(&out[pos + 2], frag->total);
    pos += kFragmentFieldsSize;
  }
  const size_t aad_end = pos;
  const MutableBytes iv(&out[pos], iv_size_);
  RETURN_IF_ERROR(random_.Fill(iv));
  pos += iv_size_;
  const size_t ct_at = pos;
  std::copy(inner.begin(), inner.end(), out.begin() + static_cast<std::ptrdiff_t>(ct_at));
  // Padding bytes stay zero (§3.14: any value); the Pad Length octet ends the plaintext.
  out[ct_at + encrypted_size - 1] = std::byte{static_cast<uint8_t>(padding)};
  const size_t icv_at = ct_at + encrypted_size;

  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return Internal("cipher context allocation failed");
  int len = 0;
  if (aead_) {
    std::byte nonce[kGcmSaltSize + kGcmIvSize];
    std::copy(salt_.span().begin(), salt_.span().end(), nonce);
    std::copy(iv.begin(), iv.end(), nonce + kGcmSaltSize);
    if (EVP_EncryptInit_ex(ctx.get(), Cipher(transform_), nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, sizeof(nonce), nullptr) != 1 ||
        EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, U(enc_key_.span().data()), U(nonce)) != 1 ||
        EVP_EncryptUpdate(ctx.get(), nullptr, &len, U(out.data()), static_cast<int>(aad_end)) != 1 ||
        EVP_EncryptUpdate(ctx.get(), U(&out[ct_at]), &len, U(&out[ct_at]), static_cast<int>(encrypted_size)) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), U(&out[ct_at]) + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(icv_size_), U(&out[icv_at])) != 1) {
      return Internal("AES-GCM encryption failed");
    }
    return out;
  }
  if (EVP_EncryptInit_ex(ctx.get(), Cipher(transform_), nullptr, U(enc_key_.span().data()), U(iv.data())) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1 ||
      EVP_EncryptUpdate(ctx.get(), U(&out[ct_at]), &len, U(&out[ct_at]), static_cast<int>(encrypted_size)) != 1 ||
      static_cast<size_t>(len) != encrypted_size) {
    return Internal("AES-CBC encryption failed");
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (HMAC(IntegDigest(transform_.integ), auth_key_.span().data(), static_cast<int>(auth_key_.size()),
           U(out.data()), icv_at, mac, &mac_len) == nullptr ||
      mac_len < icv_size_) {
    return Internal("HMAC failed");
  }
  std::copy(mac, mac + icv_size_, U(&out[icv_at]));
  return out;
}

StatusOr<SkPlaintext> SkCipher::Decrypt(Bytes message) const {
  if (message.size() < kIkeHeaderSize) return Syntax("message shorter than the IKE header");
  if (LoadU32Be(&message[24]) != message.size()) return Syntax("IKE header Length does not match the datagram");

  // Find SK/SKF by walking the generic headers; it must be the last payload (§3.14).
  uint8_t type = U8(message[kNextPayloadOffsetInHeader]);
  size_t pos = kIkeHeaderSize;
  size_t payload_len = 0;
  for (;;) {
    if (pos == message.size()) return Syntax("no SK or SKF payload");
    if (message.size() - pos < kGenericPayloadHeaderSize) return Syntax("truncated payload header");
    payload_len = LoadU16Be(&message[pos + 2]);
    if (payload_len < kGenericPayloadHeaderSize || payload_len > message.size() - pos) {
      return Syntax("payload length out of bounds at offset " + std::to_string(pos));
    }
    if (type == static_cast<uint8_t>(PayloadType::kEncrypted) ||
        type == static_cast<uint8_t>(PayloadType::kEncryptedFragment)) {
      break;
    }
    type = U8(message[pos]);
    pos += payload_len;
  }
  if (pos + payload_len != message.size()) return Syntax("SK/SKF is not the last payload");

  SkPlaintext result;
  result.first_inner = static_cast<PayloadType>(U8(message[pos]));
  result.fragment = type == static_cast<uint8_t>(PayloadType::kEncryptedFragment);
  size_t body_at = pos + kGenericPayloadHeaderSize;
  if (result.fragment) {
    if (payload_len < kGenericPayloadHeaderSize + kFragmentFieldsSize) return Syntax("SKF too short");
    result.fragment_number = LoadU16Be(&message[body_at]);
    result.total_fragments = LoadU16Be(&message[body_at + 2]);
    if (result.fragment_number == 0 || result.total_fragments == 0 ||
        result.fragment_number > result.total_fragments) {
      return Syntax("SKF fragment number outside 1..Total Fragments");
    }
    body_at += kFragmentFieldsSize;
  }
  const size_t aad_end = body_at;
  const size_t body_len = message.size() - body_at;
  const size_t min_ct = aead_ ? 1 : kAesBlockSize;
  if (body_len < iv_size_ + icv_size_ + min_ct) return Syntax("SK body shorter than IV + Pad Length + ICV");
  const size_t ct_at = body_at + iv_size_;
  const size_t ct_len = body_len - iv_size_ - icv_size_;
  const size_t icv_at = ct_at + ct_len;
  if (!aead_ && ct_len % kAesBlockSize != 0) return Syntax("AES-CBC ciphertext is not a multiple of 16 bytes");

  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return Internal("cipher context allocation failed");
  // Decrypted bytes go to a buffer that is wiped if authentication fails.
  std::vector<std::byte> plain(ct_len);
  int len = 0;
  if (aead_) {
    std::byte nonce[kGcmSaltSize + kGcmIvSize];
    std::copy(salt_.span().begin(), salt_.span().end(), nonce);
    std::copy(message.begin() + static_cast<std::ptrdiff_t>(body_at),
              message.begin() + static_cast<std::ptrdiff_t>(ct_at), nonce + kGcmSaltSize);
    unsigned char tag[kGcmIcvSize];
    std::copy(U(&message[icv_at]), U(&message[icv_at]) + kGcmIcvSize, tag);
    if (EVP_DecryptInit_ex(ctx.get(), Cipher(transform_), nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, sizeof(nonce), nullptr) != 1 ||
        EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, U(enc_key_.span().data()), U(nonce)) != 1 ||
        EVP_DecryptUpdate(ctx.get(), nullptr, &len, U(message.data()), static_cast<int>(aad_end)) != 1 ||
        EVP_DecryptUpdate(ctx.get(), U(plain.data()), &len, U(&message[ct_at]), static_cast<int>(ct_len)) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, sizeof(tag), tag) != 1) {
      SecureZero(plain.data(), plain.size());
      return Internal("AES-GCM decryption failed");
    }
    int final_len = 0;
    if (EVP_DecryptFinal_ex(ctx.get(), U(plain.data()) + len, &final_len) != 1) {
      SecureZero(plain.data(), plain.size());
      return AuthFailed();
    }
  } else {
    // RFC 7296 §3.14: verify the ICV (over header .. Pad Length, i.e. everything before the ICV)
    // before decrypting, in constant time.
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (HMAC(IntegDigest(transform_.integ), auth_key_.span().data(), static_cast<int>(auth_key_.size()),
             U(message.data()), icv_at, mac, &mac_len) == nullptr ||
        mac_len < icv_size_) {
      return Internal("HMAC failed");
    }
    const bool icv_ok = ConstantTimeEqual(Bytes(reinterpret_cast<const std::byte*>(mac), icv_size_),
                                          message.subspan(icv_at, icv_size_));
    SecureZero(mac, sizeof(mac));
    if (!icv_ok) return AuthFailed();
    if (EVP_DecryptInit_ex(ctx.get(), Cipher(transform_), nullptr, U(enc_key_.span().data()),
                           U(&message[body_at])) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1 ||
        EVP_DecryptUpdate(ctx.get(), U(plain.data()), &len, U(&message[ct_at]), static_cast<int>(ct_len)) != 1 ||
        static_cast<size_t>(len) != ct_len) {
      SecureZero(plain.data(), plain.size());
      return Internal("AES-CBC decryption failed");
    }
  }
  // Authenticated from here on: a bad Pad Length is the peer's syntax error, not an attack signal.
  const size_t pad_len = U8(plain.back());
  if (pad_len + 1 > plain.size()) return Syntax("Pad Length exceeds the decrypted data");
  plain.resize(plain.size() - pad_len - 1);
  if (result.fragment && result.fragment_number != 1 && result.first_inner != PayloadType::kNone) {
    return Syntax("SKF fragment other than the first names an inner payload");
  }
  result.payloads = std::move(plain);
  return result;
}

}  // namespace ipsec::ike
