// Verilated bench for gf128_mul at Stages=1 and Stages=2: random and edge operands against the
// bit-serial SP 800-38D Algorithm 1 reference, one operand pair per cycle with random gaps.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <memory>
#include <random>

#include "Vgf128_mul_s1.h"
#include "Vgf128_mul_s2.h"
#include "hw/ip/ghash/tb/ghash_ref.h"
#include "verilated.h"

namespace ipsec::hw::ghash {
namespace {

struct S1 {
  using Model = Vgf128_mul_s1;
  static constexpr int kStages = 1;
};
struct S2 {
  using Model = Vgf128_mul_s2;
  static constexpr int kStages = 2;
};

template <typename Cfg>
class Gf128MulTest : public ::testing::Test {
 protected:
  using Model = typename Cfg::Model;

  Gf128MulTest() : ctx_(std::make_unique<VerilatedContext>()), dut_(std::make_unique<Model>(ctx_.get())) {
    dut_->clk_i = 0;
    dut_->rst_i = 1;
    dut_->valid_i = 0;
    for (int i = 0; i < 3; ++i) Tick();
    dut_->rst_i = 0;
  }
  ~Gf128MulTest() override { dut_->final(); }

  void Tick() {
    dut_->clk_i = 0;
    dut_->eval();
    dut_->clk_i = 1;
    dut_->eval();
    ++cycles_;
    ASSERT_FALSE(ctx_->gotFinish()) << "assertion or $finish in the model";
  }

  // Feeds the pairs with random one-cycle gaps and checks each product after `kStages` cycles.
  void Run(const std::vector<std::pair<Block, Block>>& ops, double gap_prob, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::bernoulli_distribution gap(gap_prob);
    std::deque<Block> expect;
    size_t next = 0, checked = 0;
    while (checked < ops.size()) {
      const bool send = next < ops.size() && !gap(rng);
      dut_->valid_i = send;
      if (send) {
        PutBlock(dut_->a_i, 0, ops[next].first);
        PutBlock(dut_->b_i, 0, ops[next].second);
        expect.push_back(GfMulRef(ops[next].first, ops[next].second));
        ++next;
      }
      Tick();
      if (dut_->valid_o) {
        ASSERT_FALSE(expect.empty()) << "unexpected valid_o at cycle " << cycles_;
        ASSERT_EQ(ToHex(GetBlock(dut_->p_o, 0)), ToHex(expect.front())) << "product " << checked;
        expect.pop_front();
        ++checked;
      }
      ASSERT_LE(expect.size(), static_cast<size_t>(Cfg::kStages)) << "latency exceeds Stages";
    }
  }

  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Model> dut_;
  uint64_t cycles_ = 0;
};

using Configs = ::testing::Types<S1, S2>;
TYPED_TEST_SUITE(Gf128MulTest, Configs);

// The reference itself, on a product printed in the GCM spec (McGrew & Viega, "The Galois/Counter
// Mode of Operation", test case 2: X1 = C1 * H).
TEST(Gf128MulRefTest, MatchesGcmSpecTestCase2) {
  EXPECT_EQ(ToHex(GfMulRef(BlockFromHex("0388dace60b6a392f328c2b971b2fe78"),
                           BlockFromHex("66e94bd4ef8a2c3b884cfa59ca342b2e"))),
            "5e2ec746917062882c85b0685353deb7");
}

TYPED_TEST(Gf128MulTest, MatchesSpecProductAndEdgeOperands) {
  const Block one = BlockFromHex("80000000000000000000000000000000");  // x^0 in GCM bit order
  Block ones{};
  ones.fill(0xff);
  const Block zero{};
  const Block x127 = BlockFromHex("00000000000000000000000000000001");  // x^127
  const Block h = BlockFromHex("66e94bd4ef8a2c3b884cfa59ca342b2e");
  std::vector<std::pair<Block, Block>> ops = {
      {BlockFromHex("0388dace60b6a392f328c2b971b2fe78"), h},
      {one, h}, {h, one}, {zero, h}, {ones, ones}, {x127, x127}, {x127, ones}, {ones, x127},
      {one, one}, {zero, zero}};
  this->Run(ops, 0.0, 1);
  // The products used by the reduction's overflow fold: x^127 * x^k for every k.
  ops.clear();
  for (int k = 0; k < 128; ++k) {
    Block b{};
    b[k / 8] = static_cast<uint8_t>(0x80 >> (k % 8));
    ops.push_back({x127, b});
  }
  this->Run(ops, 0.0, 2);
}

TYPED_TEST(Gf128MulTest, MatchesReferenceOnRandomOperands) {
  constexpr int kPairs = 100000;
  std::mt19937_64 rng(0x6766313238ull + TypeParam::kStages);
  std::vector<std::pair<Block, Block>> ops(kPairs);
  for (auto& [a, b] : ops) {
    for (int i = 0; i < 16; ++i) {
      a[i] = static_cast<uint8_t>(rng());
      b[i] = static_cast<uint8_t>(rng());
    }
    // Sparse operands too: long runs of zeros reach other reduction paths.
    if (rng() % 8 == 0) {
      for (int i = 0; i < 16; ++i) a[i] &= static_cast<uint8_t>(rng() & rng() & rng());
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  this->Run(ops, 0.2, 7);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("gf128_mul Stages=%d: %d products, %llu cycles, %.2f s (incl. reference)\n",
              TypeParam::kStages, kPairs, static_cast<unsigned long long>(this->cycles_), s);
}

}  // namespace
}  // namespace ipsec::hw::ghash
