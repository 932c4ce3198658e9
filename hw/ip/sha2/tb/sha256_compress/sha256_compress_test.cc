// SPDX-License-Identifier: Apache-2.0
//
// Verilated bench of sha256_compress (two interleaved slots, two cycles per round).
//
// Known answers: FIPS 180-4 examples (NIST CSRC "Examples with Intermediate Values", SHA256.pdf):
// "abc" (one block) and the 448-bit "abcdbcdecdef...nopq" (two blocks, including the
// intermediate hash H(1) after the first block), on each slot. Random multi-block messages on
// both slots at once are checked against OpenSSL SHA256() with random input idle cycles and
// random per-slot output back-pressure. RTL assertions are on (--assert).
#include <array>
#include <cstdint>
#include <deque>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include "Vsha256_compress.h"
#include "hw/ip/sha2/tb/sha2_tb_util.h"

namespace ipsec::hw::sha2_tb {
namespace {

constexpr int kSlots = 2;
constexpr int kBlockCyclesPerSlot = 130;  // 64 rounds x 2 cycles + 2

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

struct Digest {
  Bytes bytes;
  uint8_t user;
};

class Sha256CompressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ctx_ = std::make_unique<VerilatedContext>();
    dut_ = std::make_unique<Vsha256_compress>(ctx_.get());
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

  // Streams one block queue per slot through the core; returns the digests of each slot in
  // output order. idle_pct: chance of no block offered in a cycle; stall_pct: chance of
  // out_ready_i low for a slot in a cycle. accept_cycles / done_cycles (optional) record when
  // each slot's blocks were taken and its digests appeared.
  std::array<std::vector<Digest>, kSlots> Run(
      const std::array<std::deque<Block>, kSlots>& blocks, int idle_pct, int stall_pct,
      uint64_t seed, std::array<std::vector<uint64_t>, kSlots>* accept_cycles = nullptr,
      std::array<std::vector<uint64_t>, kSlots>* done_cycles = nullptr) {
    std::mt19937_64 rng(seed);
    std::array<std::vector<Digest>, kSlots> out;
    std::array<size_t, kSlots> next{}, expected{};
    size_t total_blocks = 0;
    for (int s = 0; s < kSlots; ++s) {
      for (const auto& b : blocks[s]) expected[s] += b.last;
      total_blocks += blocks[s].size();
    }
    const uint64_t limit = cycle_ + (total_blocks + 4) * 400 + 2000;
    auto done = [&] {
      for (int s = 0; s < kSlots; ++s) {
        if (out[s].size() < expected[s]) return false;
      }
      return true;
    };
    std::array<bool, kSlots> presenting{};
    while (!done()) {
      // Each slot's producer: once a block is offered it stays until taken (valid/ready).
      uint8_t valid = 0, init = 0, last = 0, user = 0;
      for (int s = 0; s < kSlots; ++s) {
        if (!presenting[s] && next[s] < blocks[s].size() &&
            static_cast<int>(rng() % 100) >= idle_pct) {
          presenting[s] = true;
        }
        Bytes data(64);
        State state = kH0;
        if (presenting[s]) {
          const Block& b = blocks[s][next[s]];
          data = b.data;
          state = b.state;
          valid |= 1 << s;
          init |= b.init << s;
          last |= b.last << s;
          user |= (b.user & 1) << s;
        } else {
          // Garbage on the data inputs while not valid must not matter.
          for (auto& x : data) x = static_cast<uint8_t>(rng());
          for (auto& w : state) w = static_cast<uint32_t>(rng());
          init |= (rng() & 1) << s;
        }
        SetSlotBlock(s, data.data());
        SetSlotState(s, state);
      }
      dut_->in_valid_i = valid;
      dut_->in_init_i = init;
      dut_->in_last_i = last;
      dut_->in_user_i = user;
      uint8_t ready = 0;
      for (int s = 0; s < kSlots; ++s) {
        if (static_cast<int>(rng() % 100) >= stall_pct) ready |= 1 << s;
      }
      dut_->out_ready_i = ready;
      dut_->eval();
      for (int s = 0; s < kSlots; ++s) {
        if (presenting[s] && ((dut_->in_ready_o >> s) & 1)) {
          if (accept_cycles) (*accept_cycles)[s].push_back(cycle_);
          ++next[s];
          presenting[s] = false;
        }
      }
      for (int s = 0; s < kSlots; ++s) {
        if (((dut_->out_valid_o >> s) & 1) && ((ready >> s) & 1)) {
          Bytes all = GetBytesBe(dut_->out_digest_o);  // slot 1 first (big-endian port)
          const size_t off = static_cast<size_t>(kSlots - 1 - s) * 32;
          out[s].push_back(Digest{Bytes(all.begin() + off, all.begin() + off + 32),
                                  static_cast<uint8_t>((dut_->out_user_o >> s) & 1)});
          if (done_cycles) (*done_cycles)[s].push_back(cycle_);
        }
      }
      Tick();
      if (cycle_ > limit) {
        ADD_FAILURE() << "timeout";
        break;
      }
    }
    dut_->in_valid_i = 0;
    dut_->out_ready_i = 0;
    return out;
  }

  // Slot s of the 2 x 512-bit block port (slot 1 in the top half; big-endian words).
  void SetSlotBlock(int s, const uint8_t* p) {
    for (int i = 0; i < 16; ++i) {
      dut_->in_block_i[16 * s + 15 - i] = uint32_t{p[4 * i]} << 24 | uint32_t{p[4 * i + 1]} << 16 |
                                          uint32_t{p[4 * i + 2]} << 8 | p[4 * i + 3];
    }
  }
  void SetSlotState(int s, const State& st) {
    for (int i = 0; i < 8; ++i) dut_->in_state_i[8 * s + 7 - i] = st[i];
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
  std::unique_ptr<Vsha256_compress> dut_;
  uint64_t cycle_ = 0;
};

Bytes Str(const std::string& s) { return Bytes(s.begin(), s.end()); }

TEST_F(Sha256CompressTest, FipsAbcOneBlockOnEachSlot) {
  for (int slot = 0; slot < kSlots; ++slot) {
    std::array<std::deque<Block>, kSlots> blocks;
    AddMessage(blocks[slot], Str("abc"), 1);
    auto out = Run(blocks, 0, 0, 1 + slot);
    ASSERT_EQ(out[slot].size(), 1u);
    EXPECT_EQ(ToHex(out[slot][0].bytes),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(out[slot][0].user, 1);
    EXPECT_TRUE(out[1 - slot].empty());
  }
}

TEST_F(Sha256CompressTest, FipsTwoBlock448BitMessage) {
  const Bytes msg = Str("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
  std::array<std::deque<Block>, kSlots> blocks;
  AddMessage(blocks[0], msg, 0);
  ASSERT_EQ(blocks[0].size(), 2u);
  // Slot 1: the intermediate hash H(1) of the same example (first block alone, marked last),
  // running at the same time.
  blocks[1].push_back(blocks[0][0]);
  blocks[1][0].last = true;
  auto out = Run(blocks, 0, 0, 2);
  ASSERT_EQ(out[0].size(), 1u);
  ASSERT_EQ(out[1].size(), 1u);
  EXPECT_EQ(ToHex(out[0][0].bytes),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(ToHex(out[1][0].bytes),
            "85e655d6417a17953363376a624cde5c76e09589cac5f811cc4b32c1f20e533a");
}

// Back-to-back blocks on both slots: each slot takes one block per 130 cycles, so the core runs
// one block per 65 cycles; a single block's digest is valid 129 cycles after it was taken.
TEST_F(Sha256CompressTest, BlockRateIs130CyclesPerSlot) {
  const Bytes msg(64 * 7 + 10, 0x5a);  // 8 blocks
  std::array<std::deque<Block>, kSlots> blocks;
  AddMessage(blocks[0], msg, 0);
  AddMessage(blocks[1], msg, 1);
  std::array<std::vector<uint64_t>, kSlots> accepts, dones;
  auto out = Run(blocks, 0, 0, 4, &accepts, &dones);
  Bytes ref(32);
  SHA256(msg.data(), msg.size(), ref.data());
  for (int s = 0; s < kSlots; ++s) {
    ASSERT_EQ(out[s].size(), 1u);
    EXPECT_EQ(ToHex(out[s][0].bytes), ToHex(ref));
    ASSERT_EQ(accepts[s].size(), blocks[s].size());
    for (size_t i = 1; i < accepts[s].size(); ++i) {
      EXPECT_EQ(accepts[s][i] - accepts[s][i - 1], static_cast<uint64_t>(kBlockCyclesPerSlot))
          << "slot " << s << " block " << i;
    }
    EXPECT_EQ(dones[s][0] - accepts[s].back(), 129u) << "slot " << s;
  }
  // The slots are one cycle apart: together one block every 65 cycles.
  const uint64_t lag = accepts[1][0] > accepts[0][0] ? accepts[1][0] - accepts[0][0]
                                                     : accepts[0][0] - accepts[1][0];
  EXPECT_EQ(lag % 2, 1u);
  std::cout << "[ sha256_compress ] cycles per block and slot in a stream: " << kBlockCyclesPerSlot
            << " (core: " << kBlockCyclesPerSlot / kSlots << ")\n";
}

// Random messages on both slots, several queued back to back per slot (a new chain starts as
// soon as the previous digest is taken), random idle cycles and back-pressure, against OpenSSL.
TEST_F(Sha256CompressTest, RandomMessagesMatchOpenSsl) {
  std::mt19937_64 rng(20240611);
  for (int round = 0; round < 6; ++round) {
    std::array<std::deque<Block>, kSlots> blocks;
    std::array<std::vector<Bytes>, kSlots> refs;
    for (int m = 0; m < 60; ++m) {
      const int slot = static_cast<int>(rng() % kSlots);
      Bytes msg(rng() % 400);
      for (auto& b : msg) b = static_cast<uint8_t>(rng());
      Bytes ref(32);
      SHA256(msg.data(), msg.size(), ref.data());
      AddMessage(blocks[slot], msg, static_cast<uint8_t>(refs[slot].size() & 1));
      refs[slot].push_back(ref);
    }
    const int idle = round * 15;
    const int stall = (round % 3) * 40;
    auto out = Run(blocks, idle, stall, rng());
    for (int s = 0; s < kSlots; ++s) {
      ASSERT_EQ(out[s].size(), refs[s].size());
      for (size_t i = 0; i < refs[s].size(); ++i) {
        EXPECT_EQ(ToHex(out[s][i].bytes), ToHex(refs[s][i]))
            << "slot " << s << " message " << i << " round " << round;
        EXPECT_EQ(out[s][i].user, i & 1);
      }
    }
  }
}

}  // namespace
}  // namespace ipsec::hw::sha2_tb
