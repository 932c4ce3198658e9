// Verilated bench for aes_enc_pipe (hw/ip/aes/rtl/aes_enc_pipe.sv) at Lanes = 1, 2, 4.
//
// Known answers from FIPS-197 (Appendix B cipher example, Appendix C.1 AES-128 and C.3 AES-256),
// then differential tests against OpenSSL's AES-ECB (no padding): random keys changing on every
// beat, random key lengths, random idle cycles on the input and random back-pressure on the
// output, checking data, order and the user sideband. The bench drives inputs before the rising
// edge and samples registered outputs, so `cycle` below counts rising edges.
//
// Port mapping (the interface contract at the top of aes_enc_pipe.sv): key byte k is
// in_key_i[255-8k -: 8]; lane l byte k is in_block_i[l*128 + 127-8k -: 8]; Verilator stores wide
// ports as 32-bit words, word 0 = bits [31:0].
#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "Vaes_enc_pipe_l1.h"
#include "Vaes_enc_pipe_l2.h"
#include "Vaes_enc_pipe_l4.h"
#include "gtest/gtest.h"
#include "verilated.h"

namespace ipsec::hw::aes {
namespace {

// Contract: a beat accepted in cycle t is offered on the output in cycle t + kLatency.
constexpr uint64_t kLatency = 18;
// Output FIFO depth plus the output register slice: the most beats accepted but not delivered.
constexpr int kMaxInFlight = 32 + 2;

using Block = std::array<uint8_t, 16>;
using Key = std::array<uint8_t, 32>;

Block BlockFromHex(const std::string& hex) {
  Block b{};
  for (size_t i = 0; i < 16; ++i) b[i] = static_cast<uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
  return b;
}

Key KeyFromHex(const std::string& hex) {
  Key k{};
  for (size_t i = 0; i < hex.size() / 2; ++i) {
    k[i] = static_cast<uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
  }
  return k;
}

std::string Hex(const Block& b) {
  static const char* kDigits = "0123456789abcdef";
  std::string s;
  for (uint8_t v : b) {
    s.push_back(kDigits[v >> 4]);
    s.push_back(kDigits[v & 15]);
  }
  return s;
}

// Reference model: OpenSSL AES-ECB on one block, no padding.
Block EncryptReference(const Key& key, bool key256, const Block& in) {
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                       &EVP_CIPHER_CTX_free);
  Block out{};
  int len = 0;
  const EVP_CIPHER* cipher = key256 ? EVP_aes_256_ecb() : EVP_aes_128_ecb();
  EXPECT_EQ(EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, key.data(), nullptr), 1);
  EXPECT_EQ(EVP_CIPHER_CTX_set_padding(ctx.get(), 0), 1);
  EXPECT_EQ(EVP_EncryptUpdate(ctx.get(), out.data(), &len, in.data(), 16), 1);
  EXPECT_EQ(len, 16);
  return out;
}

// Byte at bit offset `lsb` of a Verilator wide port.
template <typename Wide>
void PutByte(Wide& w, int lsb, uint8_t v) {
  uint32_t& word = w[lsb / 32];
  const int shift = lsb % 32;
  word = (word & ~(0xffu << shift)) | (static_cast<uint32_t>(v) << shift);
}

template <typename Wide>
uint8_t GetByte(const Wide& w, int lsb) {
  return static_cast<uint8_t>(w[lsb / 32] >> (lsb % 32));
}

struct Beat {
  Key key{};
  bool key256 = false;
  std::vector<Block> blocks;    // one per lane
  std::vector<Block> expected;  // ciphertext per lane
  uint32_t user = 0;
  uint64_t accept_cycle = 0;
};

template <typename M, int L>
struct Config {
  using Model = M;
  static constexpr int kLanes = L;
};
using ConfigL1 = Config<Vaes_enc_pipe_l1, 1>;
using ConfigL2 = Config<Vaes_enc_pipe_l2, 2>;
using ConfigL4 = Config<Vaes_enc_pipe_l4, 4>;

template <typename C>
class AesEncPipeTest : public ::testing::Test {
 protected:
  using Model = typename C::Model;
  static constexpr int kLanes = C::kLanes;

  AesEncPipeTest() : ctx_(std::make_unique<VerilatedContext>()), rng_(0xae5 + kLanes) {
    model_ = std::make_unique<Model>(ctx_.get());
    Reset();
  }
  ~AesEncPipeTest() override { model_->final(); }

  void Reset() {
    model_->rst_i = 1;
    model_->in_valid_i = 0;
    model_->out_ready_i = 0;
    for (int i = 0; i < 4; ++i) Edge();
    model_->rst_i = 0;
    Edge();  // in_ready_o rises the cycle after reset
    offered_.reset();
  }

  // One rising edge with the inputs as currently set.
  void Edge() {
    model_->clk_i = 0;
    model_->eval();
    model_->clk_i = 1;
    model_->eval();
    ++cycle_;
  }

  Beat MakeBeat(const Key& key, bool key256, const std::vector<Block>& blocks, uint32_t user) {
    Beat b;
    b.key = key;
    b.key256 = key256;
    b.blocks = blocks;
    b.user = user;
    for (const Block& in : blocks) b.expected.push_back(EncryptReference(key, key256, in));
    return b;
  }

  Beat RandomBeat() {
    Key key;
    // AES-128 beats carry random bytes in in_key_i[127:0] too: the core must ignore them.
    for (auto& v : key) v = static_cast<uint8_t>(rng_());
    std::vector<Block> blocks(kLanes);
    for (auto& blk : blocks) {
      for (auto& v : blk) v = static_cast<uint8_t>(rng_());
    }
    return MakeBeat(key, (rng_() & 1) != 0, blocks, static_cast<uint32_t>(rng_()));
  }

  void DriveBeat(const Beat& b) {
    for (int k = 0; k < 32; ++k) PutByte(model_->in_key_i, (31 - k) * 8, b.key[k]);
    model_->in_key256_i = b.key256;
    for (int l = 0; l < kLanes; ++l) {
      for (int k = 0; k < 16; ++k) PutByte(model_->in_block_i, l * 128 + (15 - k) * 8, b.blocks[l][k]);
    }
    model_->in_user_i = b.user;
  }

  Block OutBlock(int lane) const {
    Block b{};
    for (int k = 0; k < 16; ++k) b[k] = GetByte(model_->out_block_o, lane * 128 + (15 - k) * 8);
    return b;
  }

  // Runs one cycle: offers the next source beat (unless an idle cycle is drawn), sets out_ready
  // (drawn with probability ready_prob), checks any output handshake against the expectation
  // queue, and checks that a stalled output stays stable.
  void Cycle(std::deque<Beat>& source, double idle_prob, double ready_prob) {
    std::uniform_real_distribution<double> u(0.0, 1.0);
    if (!offered_ && !source.empty() && u(rng_) >= idle_prob) {
      offered_ = std::move(source.front());
      source.pop_front();
      DriveBeat(*offered_);
    }
    model_->in_valid_i = offered_.has_value();
    model_->out_ready_i = u(rng_) < ready_prob;
    model_->clk_i = 0;
    model_->eval();

    if (model_->out_valid_o) {
      std::vector<Block> now;
      for (int l = 0; l < kLanes; ++l) now.push_back(OutBlock(l));
      if (stalled_out_) {
        EXPECT_EQ(now, *stalled_out_) << "output changed while stalled, cycle " << cycle_;
        EXPECT_EQ(model_->out_user_o, stalled_user_) << "user changed while stalled";
      }
      if (model_->out_ready_i) {
        EXPECT_FALSE(in_flight_.empty()) << "unexpected output beat at cycle " << cycle_;
        if (!in_flight_.empty()) {
          const Beat& want = in_flight_.front();
          for (int l = 0; l < kLanes; ++l) {
            EXPECT_EQ(Hex(now[l]), Hex(want.expected[l]))
                << "lane " << l << " beat #" << delivered_ << (want.key256 ? " AES-256" : " AES-128");
          }
          EXPECT_EQ(model_->out_user_o, want.user) << "beat #" << delivered_;
          last_latency_ = cycle_ - want.accept_cycle;
          in_flight_.pop_front();
          ++delivered_;
        }
        stalled_out_.reset();
      } else {
        stalled_out_ = now;
        stalled_user_ = model_->out_user_o;
      }
    } else {
      EXPECT_FALSE(stalled_out_.has_value()) << "out_valid_o dropped while stalled";
      stalled_out_.reset();
    }

    if (offered_ && model_->in_ready_o) {
      offered_->accept_cycle = cycle_;
      in_flight_.push_back(std::move(*offered_));
      offered_.reset();
      ++accepted_;
    }
    EXPECT_LE(static_cast<int>(in_flight_.size()), kMaxInFlight);
    model_->clk_i = 1;
    model_->eval();
    ++cycle_;
  }

  // Runs until the source and the pipeline are empty; fails after max_cycles.
  void RunToCompletion(std::deque<Beat>& source, double idle_prob, double ready_prob,
                       uint64_t max_cycles) {
    const uint64_t start = cycle_;
    while ((!source.empty() || offered_ || !in_flight_.empty()) && cycle_ - start < max_cycles) {
      Cycle(source, idle_prob, ready_prob);
    }
    EXPECT_TRUE(source.empty() && !offered_ && in_flight_.empty())
        << "not drained after " << max_cycles << " cycles";
  }

  void KnownAnswer(const std::string& key_hex, bool key256, const std::string& in_hex,
                   const std::string& out_hex) {
    const Key key = KeyFromHex(key_hex);
    std::vector<Block> blocks(kLanes, BlockFromHex(in_hex));
    Beat b = MakeBeat(key, key256, blocks, 0x5a5a0000u + kLanes);
    for (int l = 0; l < kLanes; ++l) {
      ASSERT_EQ(Hex(b.expected[l]), out_hex) << "reference model disagrees with FIPS-197";
    }
    std::deque<Beat> source{b};
    RunToCompletion(source, 0.0, 1.0, 100);
    EXPECT_EQ(delivered_, 1u);
    EXPECT_EQ(last_latency_, kLatency);
  }

  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Model> model_;
  std::mt19937_64 rng_;
  uint64_t cycle_ = 0;
  std::optional<Beat> offered_;
  std::deque<Beat> in_flight_;
  std::optional<std::vector<Block>> stalled_out_;
  uint32_t stalled_user_ = 0;
  uint64_t accepted_ = 0;
  uint64_t delivered_ = 0;
  uint64_t last_latency_ = 0;
};

using Configs = ::testing::Types<ConfigL1, ConfigL2, ConfigL4>;
class ConfigNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return "Lanes" + std::to_string(T::kLanes);
  }
};
TYPED_TEST_SUITE(AesEncPipeTest, Configs, ConfigNames);

// FIPS-197 Appendix B (cipher example), AES-128.
TYPED_TEST(AesEncPipeTest, Fips197AppendixBAes128) {
  this->KnownAnswer("2b7e151628aed2a6abf7158809cf4f3c", false, "3243f6a8885a308d313198a2e0370734",
                    "3925841d02dc09fbdc118597196a0b32");
}

// FIPS-197 Appendix C.1, AES-128 (Nk=4, Nr=10). The key sits in in_key_i[255:128].
TYPED_TEST(AesEncPipeTest, Fips197AppendixC1Aes128) {
  this->KnownAnswer("000102030405060708090a0b0c0d0e0f", false, "00112233445566778899aabbccddeeff",
                    "69c4e0d86a7b0430d8cdb78070b4c55a");
}

// FIPS-197 Appendix C.3, AES-256 (Nk=8, Nr=14).
TYPED_TEST(AesEncPipeTest, Fips197AppendixC3Aes256) {
  this->KnownAnswer("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", true,
                    "00112233445566778899aabbccddeeff", "8ea2b7ca516745bfeafc49904b496089");
}

// Beats back to back, keys and key lengths changing every beat, output always ready: one beat
// per cycle in and out, constant latency, in_ready_o never drops.
TYPED_TEST(AesEncPipeTest, FullRateWithKeyChangeEveryBeat) {
  constexpr int kBeats = 600;
  std::deque<Beat> source;
  for (int i = 0; i < kBeats; ++i) source.push_back(this->RandomBeat());
  const uint64_t start = this->cycle_;
  uint64_t not_ready_cycles = 0;
  while (!source.empty() || this->offered_) {
    if (!this->model_->in_ready_o) ++not_ready_cycles;
    this->Cycle(source, 0.0, 1.0);
  }
  EXPECT_EQ(not_ready_cycles, 0u);
  EXPECT_EQ(this->cycle_ - start, static_cast<uint64_t>(kBeats));
  this->RunToCompletion(source, 0.0, 1.0, 100);
  EXPECT_EQ(this->delivered_, static_cast<uint64_t>(kBeats));
  EXPECT_EQ(this->cycle_ - start, kBeats + kLatency);
  EXPECT_EQ(this->last_latency_, kLatency);
}

// The main differential test: random keys on every beat, random key lengths, random idle
// cycles on the input and random back-pressure on the output.
TYPED_TEST(AesEncPipeTest, RandomKeysIdleCyclesAndBackpressure) {
  constexpr int kBeats = 3000;
  std::deque<Beat> source;
  for (int i = 0; i < kBeats; ++i) source.push_back(this->RandomBeat());
  this->RunToCompletion(source, 0.3, 0.6, 40 * kBeats);
  EXPECT_EQ(this->delivered_, static_cast<uint64_t>(kBeats));
}

// Output stalled for a long time with the source always offering: the core stops accepting
// once its output FIFO could overflow, loses nothing, and drains in order afterwards.
TYPED_TEST(AesEncPipeTest, LongStallFillsFifoThenDrains) {
  std::deque<Beat> source;
  for (int i = 0; i < 120; ++i) source.push_back(this->RandomBeat());
  for (int i = 0; i < 200; ++i) this->Cycle(source, 0.0, 0.0);
  EXPECT_GE(this->accepted_, 32u);
  EXPECT_LE(this->accepted_, static_cast<uint64_t>(kMaxInFlight));
  EXPECT_EQ(this->delivered_, 0u);
  EXPECT_FALSE(this->model_->in_ready_o);
  this->RunToCompletion(source, 0.0, 0.5, 2000);
  EXPECT_EQ(this->delivered_, 120u);
}

// Mostly-stalled output with bursty input: exercises the FIFO wrap and the skid register.
TYPED_TEST(AesEncPipeTest, SlowConsumer) {
  std::deque<Beat> source;
  for (int i = 0; i < 400; ++i) source.push_back(this->RandomBeat());
  this->RunToCompletion(source, 0.05, 0.15, 20000);
  EXPECT_EQ(this->delivered_, 400u);
}

// Reset drops every beat in flight; the core works normally afterwards.
TYPED_TEST(AesEncPipeTest, ResetDropsBeatsInFlight) {
  std::deque<Beat> source;
  for (int i = 0; i < 10; ++i) source.push_back(this->RandomBeat());
  for (int i = 0; i < 12; ++i) this->Cycle(source, 0.0, 0.0);
  ASSERT_GT(this->accepted_, 0u);
  this->Reset();
  this->in_flight_.clear();
  this->stalled_out_.reset();
  EXPECT_FALSE(this->model_->out_valid_o);
  std::deque<Beat> none;
  for (int i = 0; i < 40; ++i) {
    this->Cycle(none, 0.0, 1.0);
    EXPECT_FALSE(this->model_->out_valid_o) << "beat survived reset";
  }
  this->KnownAnswer("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", true,
                    "00112233445566778899aabbccddeeff", "8ea2b7ca516745bfeafc49904b496089");
}

}  // namespace
}  // namespace ipsec::hw::aes
