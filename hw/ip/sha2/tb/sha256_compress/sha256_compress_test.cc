// SPDX-License-Identifier: Apache-2.0
//
// Verilated bench of sha256_compress, swept over RoundsPerCycle = 1, 2.
//
// Known answers: FIPS 180-4 examples (NIST CSRC "Examples with Intermediate Values", SHA256.pdf):
// "abc" (one block) and the 448-bit "abcdbcdecdef...nopq" (two blocks, including the
// intermediate hash H(1) after the first block). Random multi-block messages are checked against
// OpenSSL SHA256() with random input idle cycles and random output back-pressure.
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include "Vsha256_compress_r1.h"
#include "Vsha256_compress_r2.h"
#include "hw/ip/sha2/tb/sha2_tb_util.h"

namespace ipsec::hw::sha2_tb {
namespace {

template <class Model, int kRounds>
struct Variant {
  using M = Model;
  static constexpr int kRoundsPerCycle = kRounds;
};

// SHA-256 padding (FIPS 180-4 §5.1.1) done by the bench: the core sees whole blocks.
Bytes Pad(const Bytes& msg) {
  Bytes p = msg;
  p.push_back(0x80);
  while (p.size() % 64 != 56) p.push_back(0);
  uint64_t bits = uint64_t{msg.size()} * 8;
  for (int i = 7; i >= 0; --i) p.push_back(static_cast<uint8_t>(bits >> (8 * i)));
  return p;
}

struct Block {
  Bytes data;  // 64 bytes
  bool init;
  State state;
  bool last;
  uint8_t user;
};

template <class V>
class Sha256CompressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ctx_ = std::make_unique<VerilatedContext>();
    dut_ = std::make_unique<typename V::M>(ctx_.get());
    dut_->clk_i = 0;
    dut_->rst_i = 1;
    dut_->in_valid_i = 0;
    dut_->out_ready_i = 0;
    for (int i = 0; i < 4; ++i) Tick();
    dut_->rst_i = 0;
  }
  void TearDown() override { dut_->final(); }

  void Tick() {
    dut_->clk_i = 1;
    dut_->eval();
    dut_->clk_i = 0;
    dut_->eval();
    ++cycle_;
  }

  // Streams blocks through the core; returns digests (with user bits) in output order.
  // idle_pct: chance of no input in a cycle; stall_pct: chance of out_ready_i low.
  std::vector<std::pair<Bytes, uint8_t>> Run(const std::deque<Block>& blocks, int idle_pct,
                                             int stall_pct, uint64_t seed,
                                             std::vector<uint64_t>* accept_cycles = nullptr) {
    std::mt19937_64 rng(seed);
    std::vector<std::pair<Bytes, uint8_t>> out;
    size_t expected = 0;
    for (const auto& b : blocks) expected += b.last;
    size_t next = 0;
    bool presenting = false;
    uint64_t limit = cycle_ + (blocks.size() + 4) * 200 + 1000;
    while (out.size() < expected) {
      if (!presenting && next < blocks.size() && static_cast<int>(rng() % 100) >= idle_pct) {
        const Block& b = blocks[next];
        SetBytesBe(dut_->in_block_i, b.data.data());
        dut_->in_init_i = b.init;
        SetState(dut_->in_state_i, b.state);
        dut_->in_last_i = b.last;
        dut_->in_user_i = b.user;
        presenting = true;
      }
      dut_->in_valid_i = presenting;
      dut_->out_ready_i = static_cast<int>(rng() % 100) >= stall_pct;
      dut_->eval();
      if (presenting && dut_->in_ready_o) {
        if (accept_cycles) accept_cycles->push_back(cycle_);
        presenting = false;
        ++next;
      }
      if (dut_->out_valid_o && dut_->out_ready_i) {
        out.emplace_back(GetBytesBe(dut_->out_digest_o), dut_->out_user_o);
      }
      Tick();
      if (cycle_ > limit) {
        ADD_FAILURE() << "timeout";
        break;
      }
    }
    dut_->in_valid_i = 0;
    return out;
  }

  // Blocks of one message, first one from H0.
  static void AddMessage(std::deque<Block>& blocks, const Bytes& msg, uint8_t user) {
    Bytes p = Pad(msg);
    for (size_t i = 0; i < p.size(); i += 64) {
      blocks.push_back(Block{Bytes(p.begin() + i, p.begin() + i + 64), i == 0, kH0,
                             i + 64 == p.size(), user});
    }
  }

  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<typename V::M> dut_;
  uint64_t cycle_ = 0;
};

using Variants = ::testing::Types<Variant<Vsha256_compress_r1, 1>, Variant<Vsha256_compress_r2, 2>>;
TYPED_TEST_SUITE(Sha256CompressTest, Variants);

Bytes Str(const std::string& s) { return Bytes(s.begin(), s.end()); }

TYPED_TEST(Sha256CompressTest, FipsAbcOneBlock) {
  std::deque<Block> blocks;
  this->AddMessage(blocks, Str("abc"), 1);
  auto out = this->Run(blocks, 0, 0, 1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ToHex(out[0].first),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(out[0].second, 1);
}

TYPED_TEST(Sha256CompressTest, FipsTwoBlock448BitMessage) {
  const Bytes msg = Str("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
  std::deque<Block> blocks;
  this->AddMessage(blocks, msg, 0);
  ASSERT_EQ(blocks.size(), 2u);
  auto out = this->Run(blocks, 0, 0, 2);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ToHex(out[0].first),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

  // Intermediate hash H(1) of the same example: first block alone, marked last.
  std::deque<Block> first{blocks[0]};
  first[0].last = true;
  out = this->Run(first, 0, 0, 3);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ToHex(out[0].first),
            "85e655d6417a17953363376a624cde5c76e09589cac5f811cc4b32c1f20e533a");
}

// Back-to-back blocks: one block per 64 / RoundsPerCycle + 1 cycles, and the digest of a single
// block is out that many cycles after it was accepted.
TYPED_TEST(Sha256CompressTest, BlockRateIsRoundCyclesPlusOne) {
  const int period = 64 / TypeParam::kRoundsPerCycle + 1;
  std::deque<Block> blocks;
  this->AddMessage(blocks, Bytes(64 * 7 + 10, 0x5a), 0);  // 8 blocks
  std::vector<uint64_t> accepts;
  auto out = this->Run(blocks, 0, 0, 4, &accepts);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(accepts.size(), blocks.size());
  for (size_t i = 1; i < accepts.size(); ++i) {
    EXPECT_EQ(accepts[i] - accepts[i - 1], static_cast<uint64_t>(period)) << "block " << i;
  }
  Bytes ref(32);
  Bytes msg(64 * 7 + 10, 0x5a);
  SHA256(msg.data(), msg.size(), ref.data());
  EXPECT_EQ(ToHex(out[0].first), ToHex(ref));
  std::cout << "[ sha256_compress RoundsPerCycle=" << TypeParam::kRoundsPerCycle
            << " ] cycles per block in a stream: " << period << "\n";
}

// Random messages, several queued back to back (so a new chain starts while the previous digest
// waits in the output register), random idle cycles and back-pressure, against OpenSSL.
TYPED_TEST(Sha256CompressTest, RandomMessagesMatchOpenSsl) {
  std::mt19937_64 rng(20240611);
  for (int round = 0; round < 6; ++round) {
    std::deque<Block> blocks;
    std::vector<Bytes> refs;
    for (int m = 0; m < 50; ++m) {
      Bytes msg(rng() % 400);
      for (auto& b : msg) b = static_cast<uint8_t>(rng());
      Bytes ref(32);
      SHA256(msg.data(), msg.size(), ref.data());
      refs.push_back(ref);
      this->AddMessage(blocks, msg, static_cast<uint8_t>(m & 1));
    }
    const int idle = round * 15;
    const int stall = (round % 3) * 40;
    auto out = this->Run(blocks, idle, stall, rng());
    ASSERT_EQ(out.size(), refs.size());
    for (size_t i = 0; i < refs.size(); ++i) {
      EXPECT_EQ(ToHex(out[i].first), ToHex(refs[i])) << "message " << i << " round " << round;
      EXPECT_EQ(out[i].second, i & 1);
    }
  }
}

}  // namespace
}  // namespace ipsec::hw::sha2_tb
