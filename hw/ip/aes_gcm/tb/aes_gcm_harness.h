// Shared driver for the Verilated aes_gcm_core models (Lanes 1, 2, 4), used by the GoogleTest bench
// (tb/aes_gcm_core/aes_gcm_core_test.cc) and the throughput bench (bench/aes_gcm_bench.cc):
//   * packets built with OpenSSL (EVP_aes_128/256_gcm gives ciphertext and tag; for decrypts
//     EVP_DecryptFinal_ex decides whether the expected tag given to the core must match),
//     H = E_K(0^128) from EVP_aes_*_ecb, H powers from the GHASH reference model;
//   * Run(): drives contexts and data beats with optional random idle cycles and output
//     back-pressure, checks every output beat (text, tag, match flag, byte counts) and records,
//     per packet, the cycles of its first/last input beat, first output beat and tag beat;
//   * KeyResidue(): the RTL's verification-only dbg_key_residue (key-wiping check).
// No gtest dependency: mismatches come back as Stats::error.
#pragma once

#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "Vaes_gcm_core_l1.h"
#include "Vaes_gcm_core_l1___024root.h"
#include "Vaes_gcm_core_l2.h"
#include "Vaes_gcm_core_l2___024root.h"
#include "Vaes_gcm_core_l4.h"
#include "Vaes_gcm_core_l4___024root.h"
#include "hw/ip/ghash/tb/ghash_ref.h"
#include "verilated.h"

namespace ipsec::hw::aes_gcm {

using ghash::Block;
using ghash::GetBlock;
using ghash::PutBlock;
using ghash::ToHex;

// OpenSSL calls that cannot fail with valid arguments: a failure is a broken environment.
inline void Require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "aes_gcm harness: %s failed\n", what);
    std::abort();
  }
}

struct Packet {
  std::vector<uint8_t> key;  // 16 or 32 bytes
  Block j0{};
  Block h{};
  std::vector<Block> hpow;   // H^1..H^4
  bool decrypt = false;
  std::vector<uint8_t> aad, in_text, out_text;
  Block tag{};               // expected tag output
  Block ctx_tag{};           // expected tag given to the core (decrypt)
  bool expect_ok = false;
};

inline const EVP_CIPHER* Gcm(size_t klen) { return klen == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm(); }
inline const EVP_CIPHER* Ecb(size_t klen) { return klen == 32 ? EVP_aes_256_ecb() : EVP_aes_128_ecb(); }

// OpenSSL: encrypt pt -> (ct, tag) with a 12-byte IV.
inline void GcmEncrypt(const std::vector<uint8_t>& key, const uint8_t* iv, const std::vector<uint8_t>& aad,
                       const std::vector<uint8_t>& pt, std::vector<uint8_t>& ct, Block& tag) {
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  int n = 0, total = 0;
  ct.assign(pt.size() + 16, 0);
  Require(EVP_EncryptInit_ex(c, Gcm(key.size()), nullptr, key.data(), iv) == 1, "EVP_EncryptInit_ex");
  if (!aad.empty()) {
    Require(EVP_EncryptUpdate(c, nullptr, &n, aad.data(), static_cast<int>(aad.size())) == 1, "AAD");
  }
  if (!pt.empty()) {
    Require(EVP_EncryptUpdate(c, ct.data(), &n, pt.data(), static_cast<int>(pt.size())) == 1, "update");
    total = n;
  }
  Require(EVP_EncryptFinal_ex(c, ct.data() + total, &n) == 1, "EVP_EncryptFinal_ex");
  ct.resize(pt.size());
  Require(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag.data()) == 1, "GET_TAG");
  EVP_CIPHER_CTX_free(c);
}

// OpenSSL: decrypt and verify; returns whether the tag authenticates.
inline bool GcmDecrypt(const std::vector<uint8_t>& key, const uint8_t* iv, const std::vector<uint8_t>& aad,
                       const std::vector<uint8_t>& ct, const Block& tag, std::vector<uint8_t>& pt) {
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  int n = 0, total = 0;
  pt.assign(ct.size() + 16, 0);
  Require(EVP_DecryptInit_ex(c, Gcm(key.size()), nullptr, key.data(), iv) == 1, "EVP_DecryptInit_ex");
  if (!aad.empty()) {
    Require(EVP_DecryptUpdate(c, nullptr, &n, aad.data(), static_cast<int>(aad.size())) == 1, "AAD");
  }
  if (!ct.empty()) {
    Require(EVP_DecryptUpdate(c, pt.data(), &n, ct.data(), static_cast<int>(ct.size())) == 1, "update");
    total = n;
  }
  Block t = tag;
  Require(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, t.data()) == 1, "SET_TAG");
  const bool ok = EVP_DecryptFinal_ex(c, pt.data() + total, &n) == 1;
  pt.resize(ct.size());
  EVP_CIPHER_CTX_free(c);
  return ok;
}

inline Block EcbBlock(const std::vector<uint8_t>& key, const Block& in) {
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  Block out{};
  int n = 0;
  Require(EVP_EncryptInit_ex(c, Ecb(key.size()), nullptr, key.data(), nullptr) == 1, "ECB init");
  EVP_CIPHER_CTX_set_padding(c, 0);
  Require(EVP_EncryptUpdate(c, out.data(), &n, in.data(), 16) == 1, "ECB");
  EVP_CIPHER_CTX_free(c);
  return out;
}

// Builds a packet from key, 12-byte IV, AAD and plaintext; for decrypt the core gets the
// ciphertext and `ctx_tag` (the real tag, or one with a flipped bit when corrupt).
inline Packet MakePacket(const std::vector<uint8_t>& key, const std::vector<uint8_t>& iv12,
                         const std::vector<uint8_t>& aad, const std::vector<uint8_t>& pt, bool decrypt,
                         bool corrupt, std::mt19937_64& rng) {
  Packet p;
  p.key = key;
  std::copy(iv12.begin(), iv12.end(), p.j0.begin());
  p.j0[15] = 1;
  p.h = EcbBlock(key, Block{});
  p.hpow = ghash::HPowers(p.h, 4);
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
  Require(p.expect_ok == !corrupt && dec == pt, "OpenSSL round trip");
  p.out_text = pt;
  return p;
}

// Random key (AES-128 or AES-256) and IV; AAD and text lengths chosen by the caller.
inline Packet RandomPacket(std::mt19937_64& rng, size_t aad_len, size_t text_len, bool decrypt, bool corrupt) {
  std::vector<uint8_t> key((rng() & 1) ? 32 : 16), iv(12), aad(aad_len), pt(text_len);
  for (auto& b : key) b = static_cast<uint8_t>(rng());
  for (auto& b : iv) b = static_cast<uint8_t>(rng());
  for (auto& b : aad) b = static_cast<uint8_t>(rng());
  for (auto& b : pt) b = static_cast<uint8_t>(rng());
  return MakePacket(key, iv, aad, pt, decrypt, corrupt, rng);
}

struct Options {
  double ctx_idle = 0.0;    // probability that the context is not offered in a cycle
  double in_idle = 0.0;     // probability that no data beat is offered in a cycle
  double ready_prob = 1.0;  // probability of out_ready_i
  double stall_prob = 0.0;  // per cycle, probability to start a 20..300-cycle output stall
};

struct Stats {
  uint64_t cycles = 0, in_beats = 0, out_beats = 0, ctx_beats = 0;
  // Per packet: cycle of the first and last accepted data beat (first = last = the context's
  // cycle for a packet without data), of the first output beat and of the tag beat.
  std::vector<uint64_t> in_first, in_last, out_first, tag_cycle;
  std::string error;        // first mismatch; empty if every beat matched
};

template <typename M, int L>
class Harness {
 public:
  using Model = M;
  static constexpr int kLanes = L;
  static constexpr size_t kBeatBytes = 16 * L;

  explicit Harness(uint64_t seed)
      : ctx_(std::make_unique<VerilatedContext>()), dut_(std::make_unique<Model>(ctx_.get())), seed_(seed) {
    rng_.seed(seed);
    dut_->clk_i = 0;
    dut_->rst_i = 1;
    dut_->ctx_valid_i = 0;
    dut_->in_valid_i = 0;
    dut_->out_ready_i = 0;
    for (int i = 0; i < 3; ++i) Edge();
    dut_->rst_i = 0;
  }
  ~Harness() { dut_->final(); }

  Model* dut() { return dut_.get(); }
  std::mt19937_64& rng() { return rng_; }
  uint64_t seed() const { return seed_; }
  bool AssertionFailed() const { return ctx_->gotFinish(); }
  // Verification-only key-residue flags of the RTL (one bit per register group).
  unsigned KeyResidue() const { return dut_->rootp->aes_gcm_core__DOT__dbg_key_residue; }

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
    PutBlock(dut_->ctx_key_i, 1, k0);  // key bytes 0..15 at [255:128]
    PutBlock(dut_->ctx_key_i, 0, k1);  // bytes 16..31 (junk for AES-128)
    dut_->ctx_key256_i = p.key.size() == 32;
    for (int k = 0; k < kLanes; ++k) PutBlock(dut_->ctx_hpow_i, k, p.hpow[k]);
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

  // Sends the packets and checks every output beat. Cycle numbers in Stats count from the
  // first cycle of this call.
  Stats Run(const std::vector<Packet>& pkts, const Options& o) {
    Stats st;
    const size_t np = pkts.size();
    st.in_first.assign(np, 0);
    st.in_last.assign(np, 0);
    st.out_first.assign(np, 0);
    st.tag_cycle.assign(np, 0);
    std::bernoulli_distribution cidle(o.ctx_idle), didle(o.in_idle), ready(o.ready_prob), stall(o.stall_prob);
    size_t cpkt = 0;             // next context to send
    size_t dpkt = 0, dbeat = 0;  // next data beat to send
    std::vector<std::pair<const std::vector<uint8_t>*, size_t>> dbeats;
    if (np) dbeats = Beats(pkts[0]);
    size_t opkt = 0, ooff = 0;   // output checking position
    bool coffered = false, doffered = false;
    uint64_t stall_left = 0, cycle = 0;
    uint64_t limit = 100000;
    for (auto& p : pkts) limit += 100 + 4 * (p.aad.size() + p.in_text.size());
    auto fail = [&](const std::string& what) {
      if (st.error.empty()) {
        const Packet& p = pkts[std::min(opkt, np - 1)];
        st.error = what + " at cycle " + std::to_string(cycle) + ", packet " + std::to_string(opkt) + " (aad " +
                   std::to_string(p.aad.size()) + ", text " + std::to_string(p.in_text.size()) + ", key " +
                   std::to_string(p.key.size()) + (p.decrypt ? ", dec" : ", enc") + ", seed " +
                   std::to_string(seed_) + ")";
      }
    };
    auto skip_empty = [&] {
      while (dpkt < np && dbeat == dbeats.size()) {
        if (dbeats.empty() && dpkt < cpkt) st.in_first[dpkt] = st.in_last[dpkt] = cycle;
        if (dbeats.empty() && dpkt >= cpkt) return;  // wait for its context to be taken
        ++dpkt;
        dbeat = 0;
        if (dpkt < np) dbeats = Beats(pkts[dpkt]);
      }
    };
    while (opkt < np && st.error.empty()) {
      if (cycle > limit) {
        fail("timeout (" + std::to_string(opkt) + "/" + std::to_string(np) + " packets out)");
        break;
      }
      if (!coffered && cpkt < np && !cidle(rng_)) {
        coffered = true;
        DriveCtx(pkts[cpkt]);
      }
      if (!doffered && dpkt < np && dbeat < dbeats.size() && !didle(rng_)) {
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
        if (dpkt >= cpkt) fail("data beat taken before its context");
        if (dbeat == 0) st.in_first[dpkt] = cycle;
        st.in_last[dpkt] = cycle;
        doffered = false;
        ++dbeat;
        ++st.in_beats;
      }
      skip_empty();
      if (dut_->out_valid_o && dut_->out_ready_i) {
        ++st.out_beats;
        const Packet& p = pkts[opkt];
        if (ooff == 0 && (p.out_text.empty() || !dut_->out_tag_o)) st.out_first[opkt] = cycle;
        if (ooff < p.out_text.size()) {
          const size_t n = std::min(kBeatBytes, p.out_text.size() - ooff);
          if (dut_->out_tag_o) fail("tag beat too early");
          if (dut_->out_bytes_o != n) fail("out_bytes_o " + std::to_string(dut_->out_bytes_o));
          for (int l = 0; l < kLanes; ++l) {
            const Block got = GetBlock(dut_->out_data_o, l);
            Block exp{};
            for (size_t i = 0; i < 16; ++i) {
              if (l * 16 + i < n) exp[i] = p.out_text[ooff + l * 16 + i];
            }
            if (got != exp) {
              fail("text at byte " + std::to_string(ooff) + " lane " + std::to_string(l) + ": got " + ToHex(got) +
                   " want " + ToHex(exp));
            }
          }
          ooff += n;
        } else {
          if (!dut_->out_tag_o) fail("expected the tag beat");
          if (dut_->out_bytes_o != 16u) fail("tag beat out_bytes_o " + std::to_string(dut_->out_bytes_o));
          const Block got = GetBlock(dut_->out_data_o, 0);
          if (got != p.tag) fail("tag: got " + ToHex(got) + " want " + ToHex(p.tag));
          if (static_cast<bool>(dut_->out_tag_ok_o) != p.expect_ok) fail("tag_ok");
          st.tag_cycle[opkt] = cycle;
          ++opkt;
          ooff = 0;
        }
      }
      Edge();
      ++cycle;
      if (ctx_->gotFinish()) fail("RTL assertion failed");
    }
    dut_->ctx_valid_i = 0;
    dut_->in_valid_i = 0;
    // Nothing extra may come out.
    dut_->out_ready_i = 1;
    for (int i = 0; i < 50 && st.error.empty(); ++i) {
      dut_->eval();
      if (dut_->out_valid_o) fail("extra output beat");
      Edge();
    }
    st.cycles = cycle;
    return st;
  }

 private:
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Model> dut_;
  std::mt19937_64 rng_;
  uint64_t seed_ = 0;
};

using HarnessL1 = Harness<Vaes_gcm_core_l1, 1>;
using HarnessL2 = Harness<Vaes_gcm_core_l2, 2>;
using HarnessL4 = Harness<Vaes_gcm_core_l4, 4>;

}  // namespace ipsec::hw::aes_gcm
