// EspCipher: the per-SA ESP crypto transform for one suite, over the ESP packet layout.
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
// IVs: the AEAD/GMAC suites use the 64-bit sequence number (unique per key, RFC 4106 §3.1 allows a
// counter); CBC uses AES_K'(seq) under a random per-SA IV key, so IVs are unpredictable (RFC 3602
// §2.3) without a random-number call per packet.
//
// The `icv` span must directly follow `text` in memory and be writable: with ESN, the HMAC suites
// place SN-high there temporarily so the integrity input is one contiguous buffer (no copy).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "host/common/bytes.h"
#include "host/common/status.h"
#include "host/crypto/primitives.h"
#include "host/sa/sa_config.h"

namespace ipsec::esp {

class EspCipher {
 public:
  static StatusOr<std::unique_ptr<EspCipher>> Create(sa::Suite suite, const sa::KeyMaterial& keys,
                                                     crypto::Provider provider);
  ~EspCipher();

  size_t iv_len() const { return iv_len_; }
  size_t icv_len() const { return 16; }
  size_t align() const { return align_; }
  crypto::Provider provider() const;

  // Writes the explicit IV for sequence number `seq` (iv.size() == iv_len()).
  void MakeIv(uint64_t seq, MutableBytes iv);
  // hdr/iv/text/icv are adjacent in the packet, in that order. esn_high: present for ESN SAs.
  void Seal(Bytes hdr, std::optional<uint32_t> esn_high, Bytes iv, MutableBytes text, MutableBytes icv);
  // Verifies, then (for encrypting suites) decrypts text in place. False: authentication failed;
  // text is then unspecified. `icv` is restored to its received contents before returning.
  bool Open(Bytes hdr, std::optional<uint32_t> esn_high, Bytes iv, MutableBytes text, MutableBytes icv);

 private:
  enum class Kind : uint8_t { kAead, kGmac, kCbcHmac, kNullHmac };
  EspCipher() = default;
  void HmacIcv(Bytes hdr, std::optional<uint32_t> esn_high, size_t auth_len, MutableBytes icv_area,
               std::span<std::byte, 32> mac);

  Kind kind_ = Kind::kAead;
  size_t iv_len_ = 0;
  size_t align_ = 4;
  uint8_t salt_[4] = {};
  std::unique_ptr<crypto::Aead> aead_;
  std::unique_ptr<crypto::AesCbc> cbc_;
  std::unique_ptr<crypto::AesCbc> iv_gen_;  // CBC suites: encrypts the sequence number into an IV
  std::unique_ptr<crypto::HmacSha256> hmac_;
};

}  // namespace ipsec::esp
