// Verilated bench for aes_gcm_core, every legal Lanes value (1, 2, 4):
//   * known answers: test cases 2-4 (AES-128) and 14-16 (AES-256) of McGrew & Viega, "The
//     Galois/Counter Mode of Operation (GCM)", revised 2005, Appendix B (same vectors as NIST's
//     GCM spec), encrypt and decrypt, plus the decrypt of each with a corrupted tag;
//   * OpenSSL differential: random AES-128/256 keys per packet, salt||IV, AAD 0..20 bytes (8 and 12
//     favoured, as in ESP), text 0..2000 bytes, both directions; EVP_aes_128/256_gcm gives
//     ciphertext and tag, and EVP_DecryptFinal_ex decides whether a (possibly corrupted) expected
//     tag must match. H = E_K(0^128) from EVP_aes_*_ecb, H powers from the GHASH reference model;
//   * random idle cycles on both inputs, random and bursty back-pressure on the output;
//   * every one of the 128 tag bits flipped clears the match flag; reset in mid-packet;
//   * throughput: idle cycles per packet back to back without stalls (printed).
// The model is built with --assert: the RTL's assertions are live.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "Vaes_gcm_core_l1.h"
#include "Vaes_gcm_core_l2.h"
#include "Vaes_gcm_core_l4.h"
#include "hw/ip/ghash/tb/ghash_ref.h"
#include "verilated.h"

namespace ipsec::hw::aes_gcm {
namespace {

using ghash::Block;
using ghash::BlockFromHex;
using ghash::BytesFromHex;
using ghash::GetBlock;
using ghash::PutBlock;
using ghash::ToHex;

template <typename M, int L>
struct Cfg {
  using Model = M;
  static constexpr int kLanes = L;
};
using L1 = Cfg<Vaes_gcm_core_l1, 1>;
using L2 = Cfg<Vaes_gcm_core_l2, 2>;
using L4 = Cfg<Vaes_gcm_core_l4, 4>;

struct Packet {
  std::vector<uint8_t> key;  // 16 or 32 bytes
  Block j0{};
  Block h{};
  bool decrypt = false;
  std::vector<uint8_t> aad, in_text, out_text;
  Block tag{};               // expected tag output
  Block ctx_tag{};           // expected tag given to the core (decrypt)
  bool expect_ok = false;
};

const EVP_CIPHER* Gcm(size_t klen) { return klen == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm(); }
const EVP_CIPHER* Ecb(size_t klen) { return klen == 32 ? EVP_aes_256_ecb() : EVP_aes_128_ecb(); }

// OpenSSL: encrypt pt -> (ct, tag) with 12-byte IV.
void GcmEncrypt(const std::vector<uint8_t>& key, const uint8_t* iv, const std::vector<uint8_t>& aad,
                const std::vector<uint8_t>& pt, std::vector<uint8_t>& ct, Block& tag) {
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  int n = 0, total = 0;
  ct.assign(pt.size() + 16, 0);
  EXPECT_EQ(EVP_EncryptInit_ex(c, Gcm(key.size()), nullptr, key.data(), iv), 1);
  if (!aad.empty()) EXPECT_EQ(EVP_EncryptUpdate(c, nullptr, &n, aad.data(), static_cast<int>(aad.size())), 1);
  if (!pt.empty()) {
    EXPECT_EQ(EVP_EncryptUpdate(c, ct.data(), &n, pt.data(), static_cast<int>(pt.size())), 1);
    total = n;
  }
  EXPECT_EQ(EVP_EncryptFinal_ex(c, ct.data() + total, &n), 1);
  ct.resize(pt.size());
  EXPECT_EQ(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag.data()), 1);
  EVP_CIPHER_CTX_free(c);
}

// OpenSSL: decrypt and verify; returns whether the tag authenticates.
bool GcmDecrypt(const std::vector<uint8_t>& key, const uint8_t* iv, const std::vector<uint8_t>& aad,
                const std::vector<uint8_t>& ct, const Block& tag, std::vector<uint8_t>& pt) {
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  int n = 0, total = 0;
  pt.assign(ct.size() + 16, 0);
  EXPECT_EQ(EVP_DecryptInit_ex(c, Gcm(key.size()), nullptr, key.data(), iv), 1);
  if (!aad.empty()) EXPECT_EQ(EVP_DecryptUpdate(c, nullptr, &n, aad.data(), static_cast<int>(aad.size())), 1);
  if (!ct.empty()) {
    EXPECT_EQ(EVP_DecryptUpdate(c, pt.data(), &n, ct.data(), static_cast<int>(ct.size())), 1);
    total = n;
  }
  Block t = tag;
  EXPECT_EQ(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, t.data()), 1);
  const bool ok = EVP_DecryptFinal_ex(c, pt.data() + total, &n) == 1;
  pt.resize(ct.size());
  EVP_CIPHER_CTX_free(c);
  return ok;
}

Block EcbBlock(const std::vector<uint8_t>& key, const Block& in) {
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  Block out{};
  int n = 0;
  EXPECT_EQ(EVP_EncryptInit_ex(c, Ecb(key.size()), nullptr, key.data(), nullptr), 1);
  EVP_CIPHER_CTX_set_padding(c, 0);
  EXPECT_EQ(EVP_EncryptUpdate(c, out.data(), &n, in.data(), 16), 1);
  EVP_CIPHER_CTX_free(c);
  return out;
}

// Builds a packet from key, 12-byte IV, AAD and plaintext; for decrypt the core gets the
// ciphertext and `ctx_tag` (the real tag, or one with a flipped bit when corrupt).
Packet MakePacket(const std::vector<uint8_t>& key, const std::vector<uint8_t>& iv12,
                  const std::vector<uint8_t>& aad, const std::vector<uint8_t>& pt, bool decrypt,
                  bool corrupt, std::mt19937_64& rng) {
  Packet p;
  p.key = key;
  std::copy(iv12.begin(), iv12.end(), p.j0.begin());
  p.j0[15] = 1;
  p.h = EcbBlock(key, Block{});
  p.decrypt = decrypt;
  p.aad = aad;
  std::vector<uint8_t> ct;
  GcmEncrypt(key, iv12.data(), aad, pt, ct, p.tag);
  if (!decrypt) {
    p.in_text = pt;
    p.out_text = ct;
    p.ctx_tag = p.tag;
    p.expect_ok = false;  // out_tag_ok_o is 0 when encrypting
    return p;
  }
  p.in_text = ct;
  p.ctx_tag = p.tag;
  if (corrupt) p.ctx_tag[rng() % 16] ^= static_cast<uint8_t>(1u << (rng() % 8));
  std::vector<uint8_t> dec;
  p.expect_ok = GcmDecrypt(key, iv12.data(), aad, ct, p.ctx_tag, dec);
  EXPECT_EQ(p.expect_ok, !corrupt);
  p.out_text = pt;
  EXPECT_EQ(dec, pt);
  return p;
}

struct Options {
  double ctx_idle = 0.0;    // probability that the context is not offered in a cycle
  double in_idle = 0.0;     // probability that no data beat is offered in a cycle
  double ready_prob = 1.0;  // probability of out_ready_i
  double stall_prob = 0.0;  // per cycle, probability to start a 20..300-cycle output stall
};

struct Stats {
  uint64_t cycles = 0, in_beats = 0, out_beats = 0, ctx_beats = 0;
};

template <typename C>
class AesGcmCoreTest : public ::testing::Test {
 protected:
  using Model = typename C::Model;
  static constexpr int kLanes = C::kLanes;
  static constexpr size_t kBeatBytes = 16 * kLanes;

  AesGcmCoreTest() : ctx_(std::make_unique<VerilatedContext>()), dut_(std::make_unique<Model>(ctx_.get())) {
    const char* seed = std::getenv("AES_GCM_SEED");
    seed_ = seed ? std::strtoull(seed, nullptr, 0) : 0x67636dull + kLanes;
    rng_.seed(seed_);
    dut_->clk_i = 0;
    dut_->rst_i = 1;
    dut_->ctx_valid_i = 0;
    dut_->in_valid_i = 0;
    dut_->out_ready_i = 0;
    for (int i = 0; i < 3; ++i) Edge();
    dut_->rst_i = 0;
  }
  ~AesGcmCoreTest() override { dut_->final(); }

  void Edge() {
    dut_->clk_i = 1;
    dut_->eval();
    dut_->clk_i = 0;
    dut_->eval();
  }

  Block Junk() {
    Block b{};
    for (auto& x : b) x = static_cast<uint8_t>(rng_());
    return b;
  }

  void DriveCtx(const Packet& p) {
    Block k0{}, k1 = Junk();
    std::copy(p.key.begin(), p.key.begin() + 16, k0.begin());
    if (p.key.size() == 32) std::copy(p.key.begin() + 16, p.key.end(), k1.begin());
    PutBlock(dut_->ctx_key_i, 1, k0);   // key bytes 0..15 at [255:128]
    PutBlock(dut_->ctx_key_i, 0, k1);   // bytes 16..31 (junk for AES-128)
    dut_->ctx_key256_i = p.key.size() == 32;
    const auto hp = ghash::HPowers(p.h, kLanes);
    for (int k = 0; k < kLanes; ++k) PutBlock(dut_->ctx_hpow_i, k, hp[k]);
    PutBlock(dut_->ctx_j0_i, 0, p.j0);
    dut_->ctx_decrypt_i = p.decrypt;
    dut_->ctx_aad_len_i = static_cast<uint16_t>(p.aad.size());
    dut_->ctx_text_len_i = static_cast<uint16_t>(p.in_text.size());
    PutBlock(dut_->ctx_tag_i, 0, p.decrypt ? p.ctx_tag : Junk());
  }

  // Beats of a packet: AAD beats then text beats, each a byte range of one of the two.
  static std::vector<std::pair<const std::vector<uint8_t>*, size_t>> Beats(const Packet& p) {
    std::vector<std::pair<const std::vector<uint8_t>*, size_t>> v;
    for (size_t o = 0; o < p.aad.size(); o += kBeatBytes) v.emplace_back(&p.aad, o);
    for (size_t o = 0; o < p.in_text.size(); o += kBeatBytes) v.emplace_back(&p.in_text, o);
    return v;
  }

  void DriveBeat(const std::vector<uint8_t>& src, size_t off) {
    const size_t n = std::min(kBeatBytes, src.size() - off);
    for (int l = 0; l < kLanes; ++l) {
      Block b = Junk();  // junk beyond the valid bytes: the core must mask it
      for (size_t i = 0; i < 16; ++i) {
        if (l * 16 + i < n) b[i] = src[off + l * 16 + i];
      }
      PutBlock(dut_->in_data_i, l, b);
    }
    dut_->in_bytes_i = static_cast<uint8_t>(n);
  }

  Stats Run(const std::vector<Packet>& pkts, const Options& o) {
    Stats st;
    std::bernoulli_distribution cidle(o.ctx_idle), didle(o.in_idle), ready(o.ready_prob), stall(o.stall_prob);
    size_t cpkt = 0;                 // next context to send
    size_t dpkt = 0, dbeat = 0;      // next data beat to send
    std::vector<std::pair<const std::vector<uint8_t>*, size_t>> dbeats;
    if (!pkts.empty()) dbeats = Beats(pkts[0]);
    size_t opkt = 0, ooff = 0;       // output checking position
    bool coffered = false, doffered = false;
    uint64_t stall_left = 0, cycle = 0;
    uint64_t limit = 100000;
    for (auto& p : pkts) limit += 100 + 4 * (p.aad.size() + p.in_text.size());
    auto skip_empty = [&] {
      while (dpkt < pkts.size() && dbeat == dbeats.size()) {
        ++dpkt;
        dbeat = 0;
        if (dpkt < pkts.size()) dbeats = Beats(pkts[dpkt]);
      }
    };
    skip_empty();
    while (opkt < pkts.size()) {
      if (cycle > limit) {
        ADD_FAILURE() << "timeout: " << opkt << "/" << pkts.size() << " packets after " << cycle << " cycles";
        break;
      }
      if (!coffered && cpkt < pkts.size() && !cidle(rng_)) {
        coffered = true;
        DriveCtx(pkts[cpkt]);
      }
      if (!doffered && dpkt < pkts.size() && !didle(rng_)) {
        doffered = true;
        DriveBeat(*dbeats[dbeat].first, dbeats[dbeat].second);
      }
      dut_->ctx_valid_i = coffered;
      dut_->in_valid_i = doffered;
      if (stall_left == 0 && stall(rng_)) stall_left = 20 + rng_() % 281;
      dut_->out_ready_i = stall_left == 0 && ready(rng_);
      if (stall_left > 0) --stall_left;
      dut_->eval();

      if (coffered && dut_->ctx_ready_o) {
        coffered = false;
        ++cpkt;
        ++st.ctx_beats;
      }
      if (doffered && dut_->in_ready_o) {
        EXPECT_LT(dpkt, cpkt) << "data beat taken before its context";
        doffered = false;
        ++dbeat;
        ++st.in_beats;
        skip_empty();
      }
      if (dut_->out_valid_o && dut_->out_ready_i) {
        ++st.out_beats;
        const Packet& p = pkts[opkt];
        const std::string where = "packet " + std::to_string(opkt) + " (aad " + std::to_string(p.aad.size()) +
                                  ", text " + std::to_string(p.in_text.size()) + ", key " +
                                  std::to_string(p.key.size()) + (p.decrypt ? ", dec" : ", enc") +
                                  ", seed " + std::to_string(seed_) + ")";
        if (ooff < p.out_text.size()) {
          const size_t n = std::min(kBeatBytes, p.out_text.size() - ooff);
          EXPECT_FALSE(dut_->out_tag_o) << "tag beat too early, " << where;
          EXPECT_EQ(dut_->out_bytes_o, n) << where;
          for (int l = 0; l < kLanes; ++l) {
            const Block got = GetBlock(dut_->out_data_o, l);
            Block exp{};
            for (size_t i = 0; i < 16; ++i) {
              if (l * 16 + i < n) exp[i] = p.out_text[ooff + l * 16 + i];
            }
            EXPECT_EQ(ToHex(got), ToHex(exp)) << "text at byte " << ooff << " lane " << l << ", " << where;
          }
          ooff += n;
        } else {
          EXPECT_TRUE(dut_->out_tag_o) << "expected the tag beat, " << where;
          EXPECT_EQ(dut_->out_bytes_o, 16u) << where;
          EXPECT_EQ(ToHex(GetBlock(dut_->out_data_o, 0)), ToHex(p.tag)) << "tag, " << where;
          EXPECT_EQ(static_cast<bool>(dut_->out_tag_ok_o), p.expect_ok) << "tag_ok, " << where;
          ++opkt;
          ooff = 0;
        }
        if (::testing::Test::HasFailure()) break;
      }
      Edge();
      ++cycle;
      if (ctx_->gotFinish()) {
        ADD_FAILURE() << "RTL assertion failed at cycle " << cycle;
        break;
      }
    }
    dut_->ctx_valid_i = 0;
    dut_->in_valid_i = 0;
    // Nothing extra may come out.
    dut_->out_ready_i = 1;
    for (int i = 0; i < 50 && !::testing::Test::HasFailure(); ++i) {
      dut_->eval();
      EXPECT_FALSE(dut_->out_valid_o) << "extra output beat";
      Edge();
    }
    st.cycles = cycle;
    return st;
  }

  Packet RandomPacket(bool decrypt, bool corrupt) {
    std::vector<uint8_t> key((rng_() & 1) ? 32 : 16), iv(12);
    for (auto& b : key) b = static_cast<uint8_t>(rng_());
    for (auto& b : iv) b = static_cast<uint8_t>(rng_());
    size_t aad_len;
    switch (rng_() % 4) {
      case 0: aad_len = 8; break;
      case 1: aad_len = 12; break;
      default: aad_len = rng_() % 21; break;
    }
    size_t text_len;
    switch (rng_() % 8) {
      case 0: text_len = rng_() % 17; break;
      case 1: text_len = 16 * (1 + rng_() % 8); break;
      default: text_len = rng_() % 2001; break;
    }
    std::vector<uint8_t> aad(aad_len), pt(text_len);
    for (auto& b : aad) b = static_cast<uint8_t>(rng_());
    for (auto& b : pt) b = static_cast<uint8_t>(rng_());
    return MakePacket(key, iv, aad, pt, decrypt, corrupt, rng_);
  }

  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Model> dut_;
  std::mt19937_64 rng_;
  uint64_t seed_ = 0;
};

using Configs = ::testing::Types<L1, L2, L4>;
TYPED_TEST_SUITE(AesGcmCoreTest, Configs);

// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", revised 2005, Appendix B:
// test cases 2-4 (AES-128) and 14-16 (AES-256), all with 96-bit IVs.
struct Kat {
  const char* name;
  const char* key;
  const char* iv;
  const char* pt;
  const char* aad;
  const char* ct;
  const char* tag;
};
constexpr const char* kK1 = "feffe9928665731c6d6a8f9467308308";
constexpr const char* kIv = "cafebabefacedbaddecaf888";
constexpr const char* kP64 =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
constexpr const char* kP60 =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
constexpr const char* kA = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
const Kat kKats[] = {
    {"TC2", "00000000000000000000000000000000", "000000000000000000000000",
     "00000000000000000000000000000000", "", "0388dace60b6a392f328c2b971b2fe78",
     "ab6e47d42cec13bdf53a67b21257bddf"},
    {"TC3", kK1, kIv, kP64, "",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
     "4d5c2af327cd64a62cf35abd2ba6fab4"},
    {"TC4", kK1, kIv, kP60, kA,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
     "5bc94fbc3221a5db94fae95ae7121a47"},
    {"TC14", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "00000000000000000000000000000000", "",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"TC15", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", kIv, kP64, "",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"TC16", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", kIv, kP60, kA,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

TYPED_TEST(AesGcmCoreTest, MatchesGcmSpecTestCases) {
  std::vector<Packet> pkts;
  for (const Kat& k : kKats) {
    const auto key = BytesFromHex(k.key), iv = BytesFromHex(k.iv), pt = BytesFromHex(k.pt),
               aad = BytesFromHex(k.aad), ct = BytesFromHex(k.ct);
    const Block tag = BlockFromHex(k.tag);
    for (int mode = 0; mode < 3; ++mode) {  // encrypt, decrypt, decrypt with a corrupted tag
      Packet p = MakePacket(key, iv, aad, pt, mode != 0, mode == 2, this->rng_);
      // The published vectors, independently of OpenSSL.
      EXPECT_EQ(ToHex(p.tag), ToHex(tag)) << k.name;
      EXPECT_EQ(mode == 0 ? p.out_text : p.in_text, ct) << k.name;
      pkts.push_back(p);
    }
  }
  const Stats st = this->Run(pkts, Options{});
  EXPECT_EQ(st.ctx_beats, pkts.size());
}

TYPED_TEST(AesGcmCoreTest, MatchesOpenSslOnRandomPackets) {
  std::vector<Packet> pkts;
  int n_dec = 0, n_bad = 0;
  for (int i = 0; i < 500; ++i) {
    const bool dec = this->rng_() & 1;
    const bool bad = dec && (this->rng_() % 3 == 0);
    n_dec += dec;
    n_bad += bad;
    pkts.push_back(this->RandomPacket(dec, bad));
  }
  Options o;
  o.ctx_idle = 0.3;
  o.in_idle = 0.2;
  o.ready_prob = 0.7;
  o.stall_prob = 0.002;
  const Stats st = this->Run(pkts, o);
  std::printf("[ lanes %d ] %zu packets (%d decrypt, %d corrupted tags), %llu cycles\n", TypeParam::kLanes,
              pkts.size(), n_dec, n_bad, static_cast<unsigned long long>(st.cycles));
}

// Heavy back-pressure and long stalls: the AES output FIFO fills, credits stop the input, and the
// context FIFO holds the next packet's context while the current one waits for its tag.
TYPED_TEST(AesGcmCoreTest, HoldsDataUnderHeavyBackPressure) {
  std::vector<Packet> pkts;
  for (int i = 0; i < 100; ++i) pkts.push_back(this->RandomPacket(i & 1, (i % 4) == 3));
  Options o;
  o.ready_prob = 0.3;
  o.stall_prob = 0.01;
  this->Run(pkts, o);
}

// Every tag bit: flipping any one of the 128 expected-tag bits must clear out_tag_ok_o.
TYPED_TEST(AesGcmCoreTest, ClearsMatchFlagForEveryTagBit) {
  std::vector<Packet> pkts;
  for (int bit = 0; bit < 128; ++bit) {
    Packet p = this->RandomPacket(true, false);
    p.ctx_tag[bit / 8] ^= static_cast<uint8_t>(0x80u >> (bit % 8));
    p.expect_ok = false;
    pkts.push_back(p);
  }
  Options o;
  o.in_idle = 0.1;
  o.ready_prob = 0.8;
  this->Run(pkts, o);
}

// Reset in the middle of a packet (context taken, AES beats in flight, output stalled): all state
// is dropped and the spec test cases then pass.
TYPED_TEST(AesGcmCoreTest, RecoversFromResetMidPacket) {
  std::vector<uint8_t> key(32, 3), iv(12, 4), aad(12, 5), pt(1000, 6);
  const Packet big = MakePacket(key, iv, aad, pt, false, false, this->rng_);
  auto* dut = this->dut_.get();
  // Offer a beat until it is taken (the handshake rules of the input ports).
  auto send = [&](unsigned char* valid, auto ready) {
    *valid = 1;
    for (int i = 0; i < 100; ++i) {
      dut->eval();
      const bool taken = ready();
      this->Edge();
      if (taken) break;
    }
    *valid = 0;
  };
  dut->out_ready_i = 0;
  this->DriveCtx(big);
  send(&dut->ctx_valid_i, [&] { return dut->ctx_ready_o; });
  this->DriveBeat(big.aad, 0);
  send(&dut->in_valid_i, [&] { return dut->in_ready_o; });
  for (size_t off = 0; off < 10 * TypeParam::kLanes * 16; off += TypeParam::kLanes * 16) {
    this->DriveBeat(big.in_text, off);
    send(&dut->in_valid_i, [&] { return dut->in_ready_o; });
  }
  for (int i = 0; i < 25; ++i) this->Edge();  // AES beats reach the output side
  dut->out_ready_i = 1;
  for (int i = 0; i < 3; ++i) this->Edge();   // some output beats leave
  dut->rst_i = 1;
  for (int i = 0; i < 3; ++i) this->Edge();
  dut->rst_i = 0;
  dut->eval();
  EXPECT_FALSE(dut->out_valid_o);
  std::vector<Packet> pkts;
  for (const Kat& k : kKats) {
    pkts.push_back(MakePacket(BytesFromHex(k.key), BytesFromHex(k.iv), BytesFromHex(k.aad),
                              BytesFromHex(k.pt), false, false, this->rng_));
  }
  this->Run(pkts, Options{});
}

TYPED_TEST(AesGcmCoreTest, ThroughputBackToBack) {
  for (size_t len : {0, 64, 576, 1500}) {
    std::vector<Packet> pkts;
    for (int i = 0; i < 20; ++i) {
      std::vector<uint8_t> key(16, static_cast<uint8_t>(i)), iv(12, 7), aad(8, 1), pt(len, 2);
      pkts.push_back(MakePacket(key, iv, aad, pt, i & 1, false, this->rng_));
    }
    const Stats st = this->Run(pkts, Options{});
    const double per_pkt = static_cast<double>(st.cycles) / pkts.size();
    const double beats = static_cast<double>(st.in_beats) / pkts.size();
    std::printf("[ lanes %d ] text %4zu B, AAD 8 B: %.1f cycles/packet, %.1f data beats/packet, "
                "%.1f idle cycles/packet\n",
                TypeParam::kLanes, len, per_pkt, beats, per_pkt - beats);
  }
}

}  // namespace
}  // namespace ipsec::hw::aes_gcm
