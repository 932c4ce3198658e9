// EspCipher: the per-SA ESP crypto transform for one suite, applied to bursts of ESP packets.
//
//   | SPI | SN (low 32) | IV | payload ... padding | pad len | next hdr | ICV |
//   <-- hdr (8) -->            <------------------ text ----------------->
//
// What each suite authenticates and encrypts:
//   AES-GCM, ChaCha20-Poly1305 (RFC 4106 §5/§7, RFC 7634 §2): AAD = SPI || SN, or with ESN
//     SPI || SN-high || SN-low; nonce = salt || IV; text encrypted; ICV = tag.
//   AES-GMAC (RFC 4543 §3.3): nothing encrypted; AAD = SPI || SN(s) || IV || text.
//   AES-CBC + HMAC-SHA-256-128, NULL + HMAC (RFC 4303 §2.8/§3.3.2, RFC 4868): text encrypted (CBC)
//     then ICV = HMAC(hdr || IV || text [|| SN-high with ESN, RFC 4303 §2.2.1])[0..16).
// IVs: the AEAD/GMAC suites use the 64-bit sequence number (unique per key; RFC 4106 §3.1 allows a
// counter); CBC IVs are random (RFC 3602 §2.3 wants them unpredictable), drawn with one DRBG call
// per burst, not per packet.
//
// Bursts let intel-ipsec-mb fill its multi-buffer lanes (CBC + HMAC run as chained jobs submitted
// together) and keep per-packet set-up out of the crypto loop. With ESN, the HMAC suites place
// SN-high in the first 4 bytes of the ICV field while computing, so the integrity input stays one
// contiguous buffer (no copy); the received ICV is saved first and restored after.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "host/common/bytes.h"
#include "host/common/status.h"
#include "host/crypto/primitives.h"
#include "host/sa/sa_config.h"

namespace ipsec::esp {

struct EspCryptoOp {
  std::byte* esp = nullptr;  // ESP header; the IV, text and ICV follow contiguously
  size_t text_len = 0;       // payload + padding + pad length + next header
  uint64_t seq = 0;          // full sequence number (its high half is used with ESN)
  bool ok = false;           // set by OpenBurst: the ICV verified
};

class EspCipher {
 public:
  static StatusOr<std::unique_ptr<EspCipher>> Create(sa::Suite suite, const sa::KeyMaterial& keys,
                                                     crypto::Provider provider, bool esn);
  ~EspCipher();

  size_t iv_len() const { return iv_len_; }
  static constexpr size_t icv_len() { return 16; }
  size_t align() const { return align_; }
  crypto::Provider provider() const;

  // Writes each op's IV, encrypts its text in place and writes its ICV.
  void SealBurst(std::span<EspCryptoOp> ops);
  // Verifies each op's ICV (constant time) and, where it verified, decrypts the text in place.
  // ops[i].ok tells which; the text of a failed op is unspecified and must be discarded.
  void OpenBurst(std::span<EspCryptoOp> ops);

 private:
  enum class Kind : uint8_t { kAead, kGmac, kCbcHmac };
  EspCipher() = default;
  void AeadOne(EspCryptoOp& op, bool seal);
  void AeadChunk(std::span<EspCryptoOp> ops, bool seal);
  void CbcHmacChunk(std::span<EspCryptoOp> ops, bool seal);

  Kind kind_ = Kind::kAead;
  bool esn_ = false;
  size_t iv_len_ = 0;
  size_t align_ = 4;
  uint8_t salt_[4] = {};
  std::unique_ptr<crypto::Aead> aead_;
  std::unique_ptr<crypto::CbcHmacSha256> cbc_hmac_;
};

}  // namespace ipsec::esp
