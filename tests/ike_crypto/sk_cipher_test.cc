// SkCipher tests: round trips for every supported cipher, the wire layout, tamper detection over
// every byte, truncated and garbage input, SKF, and interop with messages built by hand with raw
// OpenSSL EVP calls (independent of host/ike/crypto).
#include "host/ike/crypto/sk_cipher.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <random>

#include "host/ike/encoding/message.h"
#include "tests/ike_crypto/test_util.h"

namespace ipsec::ike {
namespace {

using test::ByteVec;
using test::Concat;
using test::Hex;
using test::RawHmac;
using test::Span;

// The fixed IKE header used throughout; Next Payload and Length are patched by SkCipher.
ByteVec Header(uint8_t next_payload = 0, uint32_t length = 28) {
  ByteVec h = Concat({
      Hex("0011223344556677"),  // IKE SA initiator's SPI
      Hex("8899aabbccddeeff"),  // IKE SA responder's SPI
      Hex("00"),                // Next Payload (patched)
      Hex("20"),                // MjVer 2, MnVer 0
      Hex("23"),                // Exchange Type IKE_AUTH (35)
      Hex("08"),                // Flags: Initiator
      Hex("00000001"),          // Message ID 1
      Hex("00000000"),          // Length (patched)
  });
  h[16] = std::byte{next_payload};
  StoreU32Be(&h[24], length);
  return h;
}

// N(INITIAL_CONTACT): a complete inner payload.
const ByteVec kNotifyInitialContact = Hex(
    "00"        // Next Payload: none
    "00"        // C, RESERVED
    "0008"      // Payload Length 8
    "00"        // Protocol ID: none
    "00"        // SPI Size 0
    "4000");    // Notify Message Type INITIAL_CONTACT (16384)

struct Config {
  const char* name;
  SkTransform transform;
};

const Config kConfigs[] = {
    {"AesGcm128", {EncrId::kAesGcm16, 128, IntegId::kNone}},
    {"AesGcm256", {EncrId::kAesGcm16, 256, IntegId::kNone}},
    {"AesCbc128Sha256", {EncrId::kAesCbc, 128, IntegId::kHmacSha2_256_128}},
    {"AesCbc256Sha256", {EncrId::kAesCbc, 256, IntegId::kHmacSha2_256_128}},
    {"AesCbc128Sha384", {EncrId::kAesCbc, 128, IntegId::kHmacSha2_384_192}},
    {"AesCbc256Sha512", {EncrId::kAesCbc, 256, IntegId::kHmacSha2_512_256}},
};

ByteVec Pattern(size_t n, uint8_t start) {
  ByteVec v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::byte(static_cast<uint8_t>(start + i));
  return v;
}

class SkCipherTest : public ::testing::TestWithParam<Config> {
 protected:
  void SetUp() override {
    const SkTransform& t = GetParam().transform;
    sk_e_ = Pattern(SkEncryptionKeySize(t), 0x10);
    sk_a_ = Pattern(SkIntegrityKeySize(t.integ), 0x80);
    auto c = SkCipher::Create(t, sk_e_, sk_a_, *random_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cipher_ = std::move(*c);
  }

  ByteVec EncryptOrDie(Bytes inner, PayloadType first = PayloadType::kNotify) {
    auto m = cipher_->Encrypt(Header(), first, inner);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? *m : ByteVec{};
  }

  std::unique_ptr<RandomSource> random_ = CreateDeterministicRandomSourceForTest(7);
  ByteVec sk_e_;
  ByteVec sk_a_;
  std::unique_ptr<SkCipher> cipher_;
};

TEST_P(SkCipherTest, RoundTripsEveryInnerSize) {
  for (size_t n = 0; n <= 70; ++n) {
    const ByteVec inner = Pattern(n, static_cast<uint8_t>(n));
    const ByteVec msg = EncryptOrDie(inner, n == 0 ? PayloadType::kNone : PayloadType::kNotify);
    ASSERT_EQ(msg.size(), kIkeHeaderSize + cipher_->Overhead(n, false) + n);
    auto plain = cipher_->Decrypt(msg);
    ASSERT_TRUE(plain.ok()) << n << ": " << plain.status().ToString();
    EXPECT_EQ(plain->payloads, inner);
    EXPECT_EQ(plain->first_inner, n == 0 ? PayloadType::kNone : PayloadType::kNotify);
    EXPECT_FALSE(plain->fragment);
  }
}

TEST_P(SkCipherTest, WritesFinalLengthsAndChaining) {
  const ByteVec msg = EncryptOrDie(kNotifyInitialContact);
  EXPECT_EQ(U8(msg[16]), 46);                                     // header Next Payload = SK
  EXPECT_EQ(LoadU32Be(&msg[24]), msg.size());                     // header Length
  EXPECT_EQ(U8(msg[28]), 41);                                     // SK Next Payload = first inner (N)
  EXPECT_EQ(LoadU16Be(&msg[30]), msg.size() - kIkeHeaderSize);    // SK Payload Length
  // The encoding layer sees a well-formed message whose SK data is IV || ciphertext || ICV.
  auto decoded = Decode(msg);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const auto* sk = decoded->Find<EncryptedPayload>();
  ASSERT_NE(sk, nullptr);
  EXPECT_EQ(sk->first_inner, PayloadType::kNotify);
  auto plain = cipher_->Decrypt(msg);
  ASSERT_TRUE(plain.ok());
  auto inner = DecodeInner(plain->first_inner, plain->payloads);
  ASSERT_TRUE(inner.ok()) << inner.status().ToString();
  ASSERT_EQ(inner->size(), 1u);
}

TEST_P(SkCipherTest, DetectsTamperingWithEveryByte) {
  const ByteVec msg = EncryptOrDie(kNotifyInitialContact);
  for (size_t i = 0; i < msg.size(); ++i) {
    ByteVec bad = msg;
    bad[i] ^= std::byte{0x01};
    auto plain = cipher_->Decrypt(bad);
    ASSERT_FALSE(plain.ok()) << "byte " << i;
    // Bytes that do not change framing (SPIs, version, exchange, flags, message ID, SK Next
    // Payload and RESERVED, IV, ciphertext, ICV) are caught by the ICV: authentication failure.
    const bool framing = i == 16 || (i >= 24 && i < 28) || i == 30 || i == 31;
    if (!framing) {
      EXPECT_EQ(ClassifySkFailure(plain.status()), SkFailure::kAuthenticationFailed) << "byte " << i;
    }
  }
}

TEST_P(SkCipherTest, RejectsTruncatedAndExtendedMessages) {
  const ByteVec msg = EncryptOrDie(Pattern(40, 1));
  for (size_t n = 0; n < msg.size(); ++n) {
    auto plain = cipher_->Decrypt(Bytes(msg.data(), n));
    EXPECT_EQ(ClassifySkFailure(plain.status()), SkFailure::kInvalidSyntax) << n;
  }
  ByteVec longer = msg;
  longer.push_back(std::byte{0});
  EXPECT_EQ(ClassifySkFailure(cipher_->Decrypt(longer).status()), SkFailure::kInvalidSyntax);
  // Consistently shortened (lengths patched): now the ICV is wrong or the body too short.
  for (size_t cut = 1; cut < 40; ++cut) {
    ByteVec shorter(msg.begin(), msg.end() - static_cast<std::ptrdiff_t>(cut));
    StoreU32Be(&shorter[24], static_cast<uint32_t>(shorter.size()));
    StoreU16Be(&shorter[30], static_cast<uint16_t>(shorter.size() - kIkeHeaderSize));
    EXPECT_FALSE(cipher_->Decrypt(shorter).ok()) << cut;
  }
}

TEST_P(SkCipherTest, RejectsGarbage) {
  std::mt19937 rng(42);
  for (int i = 0; i < 500; ++i) {
    ByteVec junk(rng() % 200);
    for (auto& b : junk) b = std::byte(static_cast<uint8_t>(rng()));
    if (junk.size() >= 28 && (i % 2) == 0) {
      // Make the framing plausible so the cipher paths run.
      junk[16] = std::byte{46};
      StoreU32Be(&junk[24], static_cast<uint32_t>(junk.size()));
      if (junk.size() >= 32) StoreU16Be(&junk[30], static_cast<uint16_t>(junk.size() - 28));
    }
    auto plain = cipher_->Decrypt(junk);
    EXPECT_FALSE(plain.ok());
    EXPECT_NE(ClassifySkFailure(plain.status()), SkFailure::kOther) << plain.status().ToString();
  }
}

TEST_P(SkCipherTest, RejectsMessageFromAnotherKey) {
  ByteVec other_e = sk_e_;
  other_e[0] ^= std::byte{1};
  auto other = SkCipher::Create(GetParam().transform, other_e, sk_a_, *random_);
  ASSERT_TRUE(other.ok());
  auto plain = (*other)->Decrypt(EncryptOrDie(kNotifyInitialContact));
  if (GetParam().transform.encr == EncrId::kAesGcm16) {
    EXPECT_EQ(plain.status().code(), StatusCode::kDataLoss);
  } else {
    // CBC: same SK_a, so the ICV verifies; decryption yields garbage, and Pad Length may or may
    // not fit. Either way the original payload does not come back.
    if (plain.ok()) {
      EXPECT_NE(plain->payloads, kNotifyInitialContact);
    }
  }
  if (!sk_a_.empty()) {
    ByteVec other_a = sk_a_;
    other_a[0] ^= std::byte{1};
    auto other2 = SkCipher::Create(GetParam().transform, sk_e_, other_a, *random_);
    ASSERT_TRUE(other2.ok());
    EXPECT_EQ((*other2)->Decrypt(EncryptOrDie(kNotifyInitialContact)).status().code(), StatusCode::kDataLoss);
  }
}

TEST_P(SkCipherTest, KeepsCleartextPayloadsBeforeSk) {
  // A Vendor ID payload in clear before SK; its Next Payload must become SK (46).
  const ByteVec vid = Hex(
      "00"          // Next Payload (patched to SK)
      "00"          // C, RESERVED
      "0008"        // Payload Length 8
      "deadbeef");  // Vendor ID data
  ByteVec prefix = Concat({Header(43), vid});
  auto msg = cipher_->Encrypt(prefix, PayloadType::kNotify, kNotifyInitialContact);
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  EXPECT_EQ(U8((*msg)[16]), 43);
  EXPECT_EQ(U8((*msg)[28]), 46);
  auto decoded = Decode(*msg);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->payloads.size(), 2u);
  auto plain = cipher_->Decrypt(*msg);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->payloads, kNotifyInitialContact);
  // A prefix whose chain does not add up is refused.
  prefix.pop_back();
  EXPECT_EQ(cipher_->Encrypt(prefix, PayloadType::kNotify, kNotifyInitialContact).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(cipher_->Encrypt(ByteVec(27), PayloadType::kNotify, kNotifyInitialContact).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_P(SkCipherTest, FragmentsRoundTripAndAuthenticateNumbering) {
  auto f1 = cipher_->EncryptFragment(Header(), PayloadType::kIdInitiator, 1, 3, Pattern(30, 1));
  auto f2 = cipher_->EncryptFragment(Header(), PayloadType::kNone, 2, 3, Pattern(30, 2));
  ASSERT_TRUE(f1.ok()) << f1.status().ToString();
  ASSERT_TRUE(f2.ok());
  EXPECT_EQ(U8((*f1)[16]), 53);
  auto d1 = cipher_->Decrypt(*f1);
  auto d2 = cipher_->Decrypt(*f2);
  ASSERT_TRUE(d1.ok()) << d1.status().ToString();
  ASSERT_TRUE(d2.ok());
  EXPECT_TRUE(d1->fragment);
  EXPECT_EQ(d1->first_inner, PayloadType::kIdInitiator);
  EXPECT_EQ(d1->fragment_number, 1);
  EXPECT_EQ(d2->fragment_number, 2);
  EXPECT_EQ(d2->total_fragments, 3);
  EXPECT_EQ(d2->payloads, Pattern(30, 2));
  auto decoded = Decode(*f2);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  // RFC 7383 §2.5: Fragment Number and Total Fragments are in the AAD / under the ICV.
  ByteVec renumbered = *f2;
  StoreU16Be(&renumbered[32], 3);
  EXPECT_EQ(cipher_->Decrypt(renumbered).status().code(), StatusCode::kDataLoss);
  ByteVec retotaled = *f2;
  StoreU16Be(&retotaled[34], 4);
  EXPECT_EQ(cipher_->Decrypt(retotaled).status().code(), StatusCode::kDataLoss);
  ByteVec zero = *f2;
  StoreU16Be(&zero[32], 0);
  EXPECT_EQ(cipher_->Decrypt(zero).status().code(), StatusCode::kInvalidArgument);
  // Bad numbering is refused when building, too.
  EXPECT_EQ(cipher_->EncryptFragment(Header(), PayloadType::kNone, 0, 3, {}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(cipher_->EncryptFragment(Header(), PayloadType::kNone, 4, 3, {}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(cipher_->EncryptFragment(Header(), PayloadType::kNotify, 2, 3, {}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_P(SkCipherTest, IvsComeFromTheInjectedSource) {
  auto r1 = CreateDeterministicRandomSourceForTest(99);
  auto r2 = CreateDeterministicRandomSourceForTest(99);
  auto c1 = SkCipher::Create(GetParam().transform, sk_e_, sk_a_, *r1);
  auto c2 = SkCipher::Create(GetParam().transform, sk_e_, sk_a_, *r2);
  ASSERT_TRUE(c1.ok());
  ASSERT_TRUE(c2.ok());
  auto m1 = (*c1)->Encrypt(Header(), PayloadType::kNotify, kNotifyInitialContact);
  auto m2 = (*c2)->Encrypt(Header(), PayloadType::kNotify, kNotifyInitialContact);
  auto m3 = (*c1)->Encrypt(Header(), PayloadType::kNotify, kNotifyInitialContact);
  ASSERT_TRUE(m1.ok());
  ASSERT_TRUE(m2.ok());
  ASSERT_TRUE(m3.ok());
  EXPECT_EQ(*m1, *m2);
  EXPECT_NE(*m1, *m3);  // next IV
}

TEST_P(SkCipherTest, RejectsOversizedPayload) {
  const ByteVec big(65535, std::byte{0});
  EXPECT_EQ(cipher_->Encrypt(Header(), PayloadType::kNotify, big).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cipher_->Encrypt(Header(), PayloadType::kEncrypted, {}).status().code(), StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(AllCiphers, SkCipherTest, ::testing::ValuesIn(kConfigs),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

// ---------------------------------------------------------------------------------------------
// Interop: messages built byte by byte with raw OpenSSL, decrypted by SkCipher.

// RFC 5282: AES-128-GCM, nonce = salt || IV, AAD = IKE header || SK generic header.
ByteVec HandBuiltGcmMessage(Bytes key, Bytes salt, Bytes iv, Bytes plaintext) {
  const size_t sk_len = 4 + iv.size() + plaintext.size() + 16;
  const uint32_t total = static_cast<uint32_t>(28 + sk_len);
  ByteVec msg = Header(46, total);  // Next Payload SK, final Length
  const ByteVec sk_header = Concat({
      Hex("29"),  // Next Payload: N (41), the first inner payload
      Hex("00"),  // C, RESERVED
      ByteVec{std::byte(sk_len >> 8), std::byte(sk_len & 0xff)},  // Payload Length
  });
  const ByteVec aad = Concat({msg, sk_header});
  const ByteVec nonce = Concat({salt, iv});
  ByteVec ct(plaintext.size());
  unsigned char tag[16];
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  auto u = [](auto* p) { return reinterpret_cast<unsigned char*>(const_cast<std::byte*>(p)); };
  EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, nullptr, nullptr);
  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr);
  EVP_EncryptInit_ex(ctx, nullptr, nullptr, u(key.data()), u(nonce.data()));
  EVP_EncryptUpdate(ctx, nullptr, &len, u(aad.data()), static_cast<int>(aad.size()));
  EVP_EncryptUpdate(ctx, u(ct.data()), &len, u(plaintext.data()), static_cast<int>(plaintext.size()));
  EVP_EncryptFinal_ex(ctx, u(ct.data()) + len, &len);
  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag);
  EVP_CIPHER_CTX_free(ctx);
  return Concat({aad, iv, ct, Bytes(reinterpret_cast<std::byte*>(tag), 16)});
}

TEST(SkCipherInteropTest, DecryptsHandBuiltAesGcmMessage) {
  const ByteVec key = Hex("000102030405060708090a0b0c0d0e0f");
  const ByteVec salt = Hex("a0a1a2a3");
  const ByteVec iv = Hex("0102030405060708");
  // Inner payload, then 3 padding bytes of arbitrary value (§3.14 allows any), then Pad Length 3.
  const ByteVec plaintext = Concat({kNotifyInitialContact, Hex("aabbcc"), Hex("03")});
  const ByteVec msg = HandBuiltGcmMessage(key, salt, iv, plaintext);
  auto random = CreateDeterministicRandomSourceForTest(1);
  auto cipher = SkCipher::Create({EncrId::kAesGcm16, 128, IntegId::kNone}, Concat({key, salt}), {}, *random);
  ASSERT_TRUE(cipher.ok());
  auto plain = (*cipher)->Decrypt(msg);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->first_inner, PayloadType::kNotify);
  EXPECT_EQ(plain->payloads, kNotifyInitialContact);

  // An authentic message whose Pad Length exceeds the plaintext is a syntax error.
  const ByteVec bad_pad = HandBuiltGcmMessage(key, salt, iv, Concat({kNotifyInitialContact, Hex("c8")}));
  EXPECT_EQ(ClassifySkFailure((*cipher)->Decrypt(bad_pad).status()), SkFailure::kInvalidSyntax);
}

// SkCipher's own AES-GCM output opened with raw OpenSSL.
TEST(SkCipherInteropTest, RawOpenSslDecryptsSkCipherGcmOutput) {
  const ByteVec key = Hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  const ByteVec salt = Hex("01020304");
  auto random = CreateDeterministicRandomSourceForTest(5);
  auto cipher = SkCipher::Create({EncrId::kAesGcm16, 256, IntegId::kNone}, Concat({key, salt}), {}, *random);
  ASSERT_TRUE(cipher.ok());
  auto msg = (*cipher)->Encrypt(Header(), PayloadType::kNotify, kNotifyInitialContact);
  ASSERT_TRUE(msg.ok());
  const ByteVec& m = *msg;
  const ByteVec nonce = Concat({salt, Bytes(&m[32], 8)});
  const size_t ct_len = m.size() - 32 - 8 - 16;
  ByteVec out(ct_len);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  auto u = [](auto* p) { return reinterpret_cast<unsigned char*>(const_cast<std::byte*>(p)); };
  EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr);
  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr);
  EVP_DecryptInit_ex(ctx, nullptr, nullptr, u(key.data()), u(nonce.data()));
  EVP_DecryptUpdate(ctx, nullptr, &len, u(m.data()), 32);
  EVP_DecryptUpdate(ctx, u(out.data()), &len, u(&m[40]), static_cast<int>(ct_len));
  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, u(&m[m.size() - 16]));
  EXPECT_EQ(EVP_DecryptFinal_ex(ctx, u(out.data()) + len, &len), 1);
  EVP_CIPHER_CTX_free(ctx);
  EXPECT_EQ(out, Concat({kNotifyInitialContact, Hex("00")}));  // no padding, Pad Length 0
}

// RFC 7296 §3.14 with ENCR_AES_CBC-256 + AUTH_HMAC_SHA2_256_128: ICV = first 16 bytes of
// HMAC-SHA-256(SK_a, IKE header .. Pad Length).
TEST(SkCipherInteropTest, DecryptsHandBuiltAesCbcHmacMessage) {
  const ByteVec key = Hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
  const ByteVec auth = Pattern(32, 0x40);
  const ByteVec iv = Hex("000102030405060708090a0b0c0d0e0f");
  // 8-byte payload + 7 zero padding bytes + Pad Length 7 = one AES block.
  const ByteVec plaintext = Concat({kNotifyInitialContact, ByteVec(7), Hex("07")});
  const size_t sk_len = 4 + 16 + plaintext.size() + 16;
  ByteVec msg = Concat({Header(46, static_cast<uint32_t>(28 + sk_len)),
                        Hex("29"),  // Next Payload: N
                        Hex("00"),  // C, RESERVED
                        ByteVec{std::byte(sk_len >> 8), std::byte(sk_len & 0xff)},  // Payload Length
                        iv});
  ByteVec ct(plaintext.size());
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  auto u = [](auto* p) { return reinterpret_cast<unsigned char*>(const_cast<std::byte*>(p)); };
  EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), nullptr, u(key.data()), u(iv.data()));
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  EVP_EncryptUpdate(ctx, u(ct.data()), &len, u(plaintext.data()), static_cast<int>(plaintext.size()));
  EVP_CIPHER_CTX_free(ctx);
  msg.insert(msg.end(), ct.begin(), ct.end());
  ByteVec icv = RawHmac(EVP_sha256(), auth, msg);
  icv.resize(16);
  msg.insert(msg.end(), icv.begin(), icv.end());

  auto random = CreateDeterministicRandomSourceForTest(1);
  auto cipher = SkCipher::Create({EncrId::kAesCbc, 256, IntegId::kHmacSha2_256_128}, key, auth, *random);
  ASSERT_TRUE(cipher.ok());
  auto plain = (*cipher)->Decrypt(msg);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->payloads, kNotifyInitialContact);
  EXPECT_EQ(plain->first_inner, PayloadType::kNotify);
}

TEST(SkCipherCreateTest, ValidatesTransformsAndKeys) {
  auto random = CreateDeterministicRandomSourceForTest(1);
  EXPECT_EQ(SkCipher::Create({EncrId::kAesGcm16, 128, IntegId::kNone}, ByteVec(16), {}, *random).status().code(),
            StatusCode::kInvalidArgument);  // salt missing
  EXPECT_EQ(SkCipher::Create({EncrId::kAesGcm16, 128, IntegId::kHmacSha2_256_128}, ByteVec(20), ByteVec(32), *random)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(SkCipher::Create({EncrId::kAesCbc, 128, IntegId::kHmacSha2_256_128}, ByteVec(16), ByteVec(31), *random)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(SkCipher::Create({EncrId::kAesCbc, 192, IntegId::kHmacSha2_256_128}, ByteVec(24), ByteVec(32), *random)
                .status()
                .code(),
            StatusCode::kUnimplemented);
  EXPECT_EQ(SkCipher::Create({EncrId::kChaCha20Poly1305, 256, IntegId::kNone}, ByteVec(36), {}, *random)
                .status()
                .code(),
            StatusCode::kUnimplemented);
  EXPECT_EQ(SkCipher::Create({EncrId::kAesCbc, 128, IntegId::kHmacSha1_96}, ByteVec(16), ByteVec(20), *random)
                .status()
                .code(),
            StatusCode::kUnimplemented);
  EXPECT_EQ(ClassifySkFailure(OkStatus()), SkFailure::kNone);
  EXPECT_EQ(ClassifySkFailure(InternalError("x")), SkFailure::kOther);
}

}  // namespace
}  // namespace ipsec::ike
