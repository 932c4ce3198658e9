// Verilated bench for ghash_core, every legal parameter set (Lanes 1/2/4 x MulStages 1/2):
//   * known answers: GHASH(H, A, C) of test cases 1-6 of McGrew & Viega, "The Galois/Counter Mode
//     of Operation (GCM)", revised 2005 (Appendix B; the same vectors as NIST's GCM spec);
//   * OpenSSL: for random key/IV/AAD (0..64 bytes)/plaintext (0..9000 bytes),
//     tag(EVP_aes_128_gcm) == GHASH_rtl(H, AAD, C) ^ E_K(J0) with H = E_K(0^128) and
//     J0 = IV || 0^31 || 1 from EVP_aes_128_ecb;
//   * random idle cycles on the input, random and bursty back-pressure on the output, random
//     beat packing (any beat may be short), packets back to back;
//   * throughput (beats per cycle, idle cycles between packets) at 64/576/1500-byte packets.
// The model is built with --assert: the RTL's protocol and FIFO assertions are live.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "Vghash_core_l1m1.h"
#include "Vghash_core_l1m2.h"
#include "Vghash_core_l2m1.h"
#include "Vghash_core_l2m2.h"
#include "Vghash_core_l4m1.h"
#include "Vghash_core_l4m2.h"
#include "hw/ip/ghash/tb/ghash_ref.h"
#include "verilated.h"

namespace ipsec::hw::ghash {
namespace {

template <typename M, int L, int S>
struct Cfg {
  using Model = M;
  static constexpr int kLanes = L;
  static constexpr int kMulStages = S;
};
using L1M1 = Cfg<Vghash_core_l1m1, 1, 1>;
using L1M2 = Cfg<Vghash_core_l1m2, 1, 2>;
using L2M1 = Cfg<Vghash_core_l2m1, 2, 1>;
using L2M2 = Cfg<Vghash_core_l2m2, 2, 2>;
using L4M1 = Cfg<Vghash_core_l4m1, 4, 1>;
using L4M2 = Cfg<Vghash_core_l4m2, 4, 2>;

constexpr int kUserMask = 0xff;  // UserW = 8 (the RTL default)

enum class Packing {
  kDense,    // every beat full except the last
  kRandom,   // every beat 1..Lanes blocks
  kAligned,  // AAD beats, then text beats; the length block joins the last text beat if it fits
};

struct Packet {
  std::vector<Block> blocks;  // the GHASH input, length block included
  Block h{};
  Block expect{};             // GHASH(H, A, C)
  Block ej0{};                // E_K(J0), for OpenSSL packets
  Block openssl_tag{};
  bool has_openssl = false;
  size_t aad_blocks = 0;
  std::vector<int> counts;    // blocks per beat
};

struct Options {
  double idle_prob = 0.0;     // probability that no beat is offered in a cycle
  double ready_prob = 1.0;    // probability of out_ready_i
  double stall_prob = 0.0;    // probability, per cycle, to start a 20..300-cycle output stall
};

struct Stats {
  uint64_t cycles = 0;
  uint64_t beats = 0;
  uint64_t blocks = 0;
  uint64_t first_accept = 0, last_accept = 0;
  uint64_t gap_cycles = 0, max_gap = 0;        // between a last beat and the next start beat
  uint64_t not_ready_cycles = 0;               // in_valid && !in_ready
  uint64_t max_latency = 0, sum_latency = 0;   // last beat accepted -> tag popped
  double seconds = 0;
};

std::vector<int> MakeCounts(size_t n, size_t aad_blocks, int lanes, Packing p, std::mt19937_64& rng) {
  std::vector<int> counts;
  auto chunk = [&](size_t len, bool dense) {
    while (len > 0) {
      const int max = static_cast<int>(std::min<size_t>(len, lanes));
      const int c = dense ? max : 1 + static_cast<int>(rng() % max);
      counts.push_back(c);
      len -= c;
    }
  };
  switch (p) {
    case Packing::kDense: chunk(n, true); break;
    case Packing::kRandom: chunk(n, false); break;
    case Packing::kAligned: {
      chunk(aad_blocks, true);
      const size_t text = n - aad_blocks - 1;
      chunk(text, true);
      if (text > 0 && counts.back() < lanes) {
        ++counts.back();
      } else {
        counts.push_back(1);
      }
      break;
    }
  }
  return counts;
}

Packet MakePacket(const Block& h, std::span<const uint8_t> aad, std::span<const uint8_t> text) {
  Packet p;
  p.h = h;
  p.blocks = GhashBlocks(aad, text);
  p.aad_blocks = (aad.size() + 15) / 16;
  p.expect = GhashRef(h, p.blocks);
  return p;
}

// AES-128-GCM by OpenSSL, plus H = E_K(0) and E_K(J0) by AES-128-ECB.
Packet OpenSslPacket(std::mt19937_64& rng, size_t aad_len, size_t text_len) {
  std::array<uint8_t, 16> key;
  std::array<uint8_t, 12> iv;
  for (auto& b : key) b = static_cast<uint8_t>(rng());
  for (auto& b : iv) b = static_cast<uint8_t>(rng());
  std::vector<uint8_t> aad(aad_len), pt(text_len), ct(text_len + 16);
  for (auto& b : aad) b = static_cast<uint8_t>(rng());
  for (auto& b : pt) b = static_cast<uint8_t>(rng());

  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  int n = 0, total = 0;
  EXPECT_EQ(EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), nullptr, key.data(), iv.data()), 1);
  if (aad_len > 0) EXPECT_EQ(EVP_EncryptUpdate(c, nullptr, &n, aad.data(), static_cast<int>(aad_len)), 1);
  if (text_len > 0) {
    EXPECT_EQ(EVP_EncryptUpdate(c, ct.data(), &n, pt.data(), static_cast<int>(text_len)), 1);
    total = n;
  }
  EXPECT_EQ(EVP_EncryptFinal_ex(c, ct.data() + total, &n), 1);
  total += n;
  EXPECT_EQ(static_cast<size_t>(total), text_len);
  Block tag{};
  EXPECT_EQ(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag.data()), 1);

  Block zero{}, j0{}, h{}, ej0{};
  std::copy(iv.begin(), iv.end(), j0.begin());
  j0[15] = 1;
  EXPECT_EQ(EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), nullptr, key.data(), nullptr), 1);
  EVP_CIPHER_CTX_set_padding(c, 0);
  EXPECT_EQ(EVP_EncryptUpdate(c, h.data(), &n, zero.data(), 16), 1);
  EXPECT_EQ(EVP_EncryptUpdate(c, ej0.data(), &n, j0.data(), 16), 1);
  EVP_CIPHER_CTX_free(c);

  Packet p = MakePacket(h, aad, std::span<const uint8_t>(ct.data(), text_len));
  p.ej0 = ej0;
  p.openssl_tag = tag;
  p.has_openssl = true;
  return p;
}

template <typename C>
class GhashCoreTest : public ::testing::Test {
 protected:
  using Model = typename C::Model;
  static constexpr int kLanes = C::kLanes;

  GhashCoreTest() : ctx_(std::make_unique<VerilatedContext>()), dut_(std::make_unique<Model>(ctx_.get())) {
    const char* seed = std::getenv("GHASH_SEED");
    seed_ = seed ? std::strtoull(seed, nullptr, 0) : 0x6768617368ull + 16 * C::kLanes + C::kMulStages;
    rng_.seed(seed_);
    dut_->clk_i = 0;
    dut_->rst_i = 1;
    dut_->in_valid_i = 0;
    dut_->out_ready_i = 0;
    for (int i = 0; i < 3; ++i) Edge();
    dut_->rst_i = 0;
  }
  ~GhashCoreTest() override { dut_->final(); }

  void Edge() {
    dut_->clk_i = 1;
    dut_->eval();
    dut_->clk_i = 0;
    dut_->eval();
  }

  // Drives the packets through the core and checks every tag (value, id, order).
  Stats Run(std::vector<Packet>& pkts, Packing packing, const Options& o) {
    Stats st;
    for (auto& p : pkts) {
      if (p.counts.empty()) p.counts = MakeCounts(p.blocks.size(), p.aad_blocks, kLanes, packing, rng_);
    }
    std::bernoulli_distribution idle(o.idle_prob), ready(o.ready_prob), stall(o.stall_prob);
    size_t pkt = 0, beat = 0, blk = 0;   // next beat to send
    size_t done = 0;                     // tags checked
    bool offered = false;
    uint64_t stall_left = 0;
    uint64_t prev_last = 0;
    std::vector<uint64_t> last_cycle(pkts.size());
    const auto t0 = std::chrono::steady_clock::now();
    uint64_t cycle = 0;
    const uint64_t limit = 1000000 + 40 * [&] {
      uint64_t n = 0;
      for (auto& p : pkts) n += p.blocks.size();
      return n;
    }();
    while (done < pkts.size()) {
      if (cycle > limit) {
        ADD_FAILURE() << "timeout: " << done << "/" << pkts.size() << " tags after " << cycle << " cycles";
        break;
      }
      // Input: once offered, a beat stays until taken.
      if (!offered && pkt < pkts.size() && !idle(rng_)) {
        offered = true;
        const Packet& p = pkts[pkt];
        const int count = p.counts[beat];
        dut_->in_start_i = beat == 0;
        dut_->in_last_i = beat + 1 == p.counts.size();
        dut_->in_count_i = count;
        dut_->in_user_i = pkt & kUserMask;
        // Junk where the RTL must not look: H powers on non-start beats, unused lanes.
        for (int k = 0; k < kLanes; ++k) {
          Block junk{};
          for (auto& b : junk) b = static_cast<uint8_t>(rng_());
          PutBlock(dut_->in_blocks_i, k, k < count ? p.blocks[blk + k] : junk);
        }
        const auto hp = HPowers(p.h, kLanes);
        for (int k = 0; k < kLanes; ++k) {
          Block junk{};
          for (auto& b : junk) b = static_cast<uint8_t>(rng_());
          PutBlock(dut_->in_hpow_i, k, beat == 0 ? hp[k] : junk);
        }
        if (beat != 0) dut_->in_user_i = static_cast<uint8_t>(rng_());
      }
      dut_->in_valid_i = offered;
      // Output back-pressure: random, with occasional long stalls.
      if (stall_left == 0 && stall(rng_)) stall_left = 20 + rng_() % 281;
      dut_->out_ready_i = stall_left == 0 && ready(rng_);
      if (stall_left > 0) --stall_left;
      dut_->eval();

      if (offered && !dut_->in_ready_o) ++st.not_ready_cycles;
      if (offered && dut_->in_ready_o) {
        const Packet& p = pkts[pkt];
        if (st.beats == 0) st.first_accept = cycle;
        st.last_accept = cycle;
        ++st.beats;
        st.blocks += p.counts[beat];
        if (beat == 0 && pkt > 0) {
          const uint64_t gap = cycle - prev_last - 1;
          st.gap_cycles += gap;
          st.max_gap = std::max(st.max_gap, gap);
        }
        blk += p.counts[beat];
        if (++beat == p.counts.size()) {
          last_cycle[pkt] = prev_last = cycle;
          ++pkt;
          beat = blk = 0;
        }
        offered = false;
      }
      if (dut_->out_valid_o && dut_->out_ready_i) {
        if (done >= pkt) {
          ADD_FAILURE() << "tag before the packet's last beat was accepted, cycle " << cycle;
          break;
        }
        const Packet& p = pkts[done];
        const Block got = GetBlock(dut_->out_tag_o, 0);
        EXPECT_EQ(ToHex(got), ToHex(p.expect)) << "packet " << done << " (" << p.blocks.size()
                                               << " blocks, seed " << seed_ << ")";
        EXPECT_EQ(dut_->out_user_o, done & kUserMask) << "packet " << done;
        if (p.has_openssl) {
          EXPECT_EQ(ToHex(Xor(got, p.ej0)), ToHex(p.openssl_tag)) << "OpenSSL tag, packet " << done;
        }
        const uint64_t lat = cycle - last_cycle[done];
        st.max_latency = std::max(st.max_latency, lat);
        st.sum_latency += lat;
        ++done;
        if (::testing::Test::HasFailure() && done > 0) break;
      }
      Edge();
      ++cycle;
      if (ctx_->gotFinish()) {
        ADD_FAILURE() << "RTL assertion failed at cycle " << cycle;
        break;
      }
    }
    dut_->in_valid_i = 0;
    st.cycles = cycle;
    st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    total_cycles_ += cycle;
    return st;
  }

  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Model> dut_;
  std::mt19937_64 rng_;
  uint64_t seed_ = 0;
  uint64_t total_cycles_ = 0;
};

using Configs = ::testing::Types<L1M1, L1M2, L2M1, L2M2, L4M1, L4M2>;
TYPED_TEST_SUITE(GhashCoreTest, Configs);

// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", Appendix B, test cases 1-6
// (AES-128): H, A, C and GHASH(H, A, C) as printed there.
struct Kat {
  const char* name;
  const char* h;
  const char* a;
  const char* c;
  const char* ghash;
};
constexpr const char* kH0 = "66e94bd4ef8a2c3b884cfa59ca342b2e";
constexpr const char* kH1 = "b83b533708bf535d0aa6e52980d53b78";
constexpr const char* kA = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
const Kat kKats[] = {
    {"TC1", kH0, "", "", "00000000000000000000000000000000"},
    {"TC2", kH0, "", "0388dace60b6a392f328c2b971b2fe78", "f38cbb1ad69223dcc3457ae5b6b0f885"},
    {"TC3", kH1, "",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
     "7f1b32b81b820d02614f8895ac1d4eac"},
    {"TC4", kH1, kA,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
     "698e57f70e6ecc7fd9463b7260a9ae5f"},
    {"TC5", kH1, kA,
     "61353b4c2806934a777ff51fa22a4755699b2a714fcdc6f83766e5f97b6c7423"
     "73806900e49f24b22b097544d4896b424989b5e1ebac0f07c23f4598",
     "df586bb4c249b92cb6922877e444d37b"},
    {"TC6", kH1, kA,
     "8ce24998625615b603a033aca13fb894be9112a5c3a211a8ba262a3cca7e2ca7"
     "01e4a9a4fba43c90ccdcb281d48c7c6fd62875d2aca417034c34aee5",
     "1c5afe9760d3932f3c9a878aac3dc3de"},
};

std::vector<Packet> KatPackets() {
  std::vector<Packet> v;
  for (const Kat& k : kKats) {
    const auto a = BytesFromHex(k.a), c = BytesFromHex(k.c);
    Packet p = MakePacket(BlockFromHex(k.h), a, c);
    p.expect = BlockFromHex(k.ghash);
    v.push_back(p);
  }
  return v;
}

TEST(GhashRefTest, MatchesGcmSpecTestCases) {
  for (const Kat& k : kKats) {
    const auto a = BytesFromHex(k.a), c = BytesFromHex(k.c);
    EXPECT_EQ(ToHex(GhashRef(BlockFromHex(k.h), GhashBlocks(a, c))), k.ghash) << k.name;
  }
}

TYPED_TEST(GhashCoreTest, MatchesGcmSpecTestCases) {
  for (Packing pk : {Packing::kDense, Packing::kRandom, Packing::kAligned}) {
    auto pkts = KatPackets();
    this->Run(pkts, pk, Options{});
  }
  // Again, interleaved with idle cycles and back-pressure, each test case twice in a row.
  std::vector<Packet> pkts;
  for (const auto& p : KatPackets()) {
    pkts.push_back(p);
    pkts.push_back(p);
  }
  this->Run(pkts, Packing::kRandom, Options{.idle_prob = 0.3, .ready_prob = 0.5});
}

TYPED_TEST(GhashCoreTest, MatchesOpenSslOnRandomPackets) {
  const char* env = std::getenv("GHASH_PACKETS");
  const int n = env ? std::atoi(env) : 2000;
  std::vector<Packet> pkts;
  // Edge lengths first: empty AAD and/or text, partial and exact blocks, exact beats.
  const size_t L16 = 16 * TypeParam::kLanes;
  for (size_t a : {size_t{0}, size_t{1}, size_t{16}, size_t{17}, size_t{64}}) {
    for (size_t t : {size_t{0}, size_t{1}, size_t{15}, size_t{16}, size_t{17}, L16 - 16, L16, L16 + 1,
                     size_t{9000}}) {
      pkts.push_back(OpenSslPacket(this->rng_, a, t));
    }
  }
  while (static_cast<int>(pkts.size()) < n) {
    const size_t a = this->rng_() % 65;
    // Mostly short ESP-like packets, a quarter anywhere up to 9000 bytes.
    const size_t t = (this->rng_() % 4 == 0) ? this->rng_() % 9001 : this->rng_() % 1501;
    pkts.push_back(OpenSslPacket(this->rng_, a, t));
  }
  // Each packet gets its own packing.
  for (auto& p : pkts) {
    const Packing pk = static_cast<Packing>(this->rng_() % 3);
    p.counts = MakeCounts(p.blocks.size(), p.aad_blocks, TypeParam::kLanes, pk, this->rng_);
  }
  const Stats st = this->Run(pkts, Packing::kRandom,
                             Options{.idle_prob = 0.25, .ready_prob = 0.7, .stall_prob = 0.0005});
  std::printf("Lanes=%d MulStages=%d: %zu packets, %llu blocks, %llu cycles, %.2f s, %.3f M cycles/s "
              "(bench + OpenSSL + reference included), seed %llu\n",
              TypeParam::kLanes, TypeParam::kMulStages, pkts.size(),
              static_cast<unsigned long long>(st.blocks), static_cast<unsigned long long>(st.cycles),
              st.seconds, st.cycles / st.seconds / 1e6, static_cast<unsigned long long>(this->seed_));
}

TYPED_TEST(GhashCoreTest, HoldsTagsUnderLongBackPressure) {
  // One-block packets while the output is stalled: the core must stop accepting when its tag
  // FIFO credits run out, then deliver everything in order.
  std::vector<Packet> pkts;
  for (int i = 0; i < 64; ++i) pkts.push_back(OpenSslPacket(this->rng_, 0, 0));
  const Stats st = this->Run(pkts, Packing::kDense, Options{.ready_prob = 1.0, .stall_prob = 0.2});
  EXPECT_GT(st.not_ready_cycles, 0u) << "back-pressure never reached the input";
}

TYPED_TEST(GhashCoreTest, ThroughputBackToBack) {
  std::printf("Lanes=%d MulStages=%d  text  blocks  packing  beats/cycle  blocks/cycle  idle/pkt(max)  "
              "latency(last beat->tag)  Gbit/s@300MHz\n",
              TypeParam::kLanes, TypeParam::kMulStages);
  for (size_t text : {size_t{64}, size_t{576}, size_t{1500}}) {
    for (Packing pk : {Packing::kDense, Packing::kAligned}) {
      std::vector<Packet> pkts;
      for (int i = 0; i < 200; ++i) pkts.push_back(OpenSslPacket(this->rng_, 8, text));  // ESP SPI+SN as AAD
      const Stats st = this->Run(pkts, pk, Options{});
      const double span = static_cast<double>(st.last_accept - st.first_accept + 1);
      const double bpc = st.beats / span;
      const double blkpc = st.blocks / span;
      std::printf("%30zu  %6zu  %-7s  %11.3f  %12.3f  %6.2f(%llu)  %llu..%llu  %.1f\n", text,
                  pkts[0].blocks.size(), pk == Packing::kDense ? "dense" : "aligned", bpc, blkpc,
                  static_cast<double>(st.gap_cycles) / (pkts.size() - 1),
                  static_cast<unsigned long long>(st.max_gap),
                  static_cast<unsigned long long>(st.sum_latency / pkts.size()),
                  static_cast<unsigned long long>(st.max_latency), blkpc * 128 * 0.3);
      EXPECT_EQ(st.max_gap, 0u) << "idle cycle between packets, text " << text;
      EXPECT_EQ(st.not_ready_cycles, 0u) << "input stalled with the output always ready";
      EXPECT_DOUBLE_EQ(bpc, 1.0);
      const std::string key = "l" + std::to_string(TypeParam::kLanes) + "_t" + std::to_string(text) +
                              (pk == Packing::kDense ? "_dense" : "_aligned");
      ::testing::Test::RecordProperty(key + "_beats_per_cycle", std::to_string(bpc));
      ::testing::Test::RecordProperty(key + "_blocks_per_cycle", std::to_string(blkpc));
    }
  }
}

TYPED_TEST(GhashCoreTest, SimulationSpeed) {
  // Model speed alone: full beats every cycle, output always ready, minimal bench work; CPU time.
  const auto hp = HPowers(BlockFromHex(kH1), TypeParam::kLanes);
  for (int k = 0; k < TypeParam::kLanes; ++k) {
    PutBlock(this->dut_->in_hpow_i, k, hp[k]);
    PutBlock(this->dut_->in_blocks_i, k, BlockFromHex("0123456789abcdef0123456789abcdef"));
  }
  this->dut_->in_count_i = TypeParam::kLanes;
  this->dut_->in_valid_i = 1;
  this->dut_->out_ready_i = 1;
  constexpr int kCycles = 200000;
  constexpr int kBeatsPerPacket = 16;
  const std::clock_t c0 = std::clock();
  for (int i = 0; i < kCycles; ++i) {
    this->dut_->in_start_i = i % kBeatsPerPacket == 0;
    this->dut_->in_last_i = i % kBeatsPerPacket == kBeatsPerPacket - 1;
    this->dut_->eval();
    ASSERT_TRUE(this->dut_->in_ready_o);
    this->Edge();
  }
  const double cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  std::printf("Lanes=%d MulStages=%d: Verilator model %.3f M cycles/s CPU (%.0f Mbit/s of GHASH input)\n",
              TypeParam::kLanes, TypeParam::kMulStages, kCycles / cpu / 1e6,
              kCycles * 128.0 * TypeParam::kLanes / cpu / 1e6);
  ::testing::Test::RecordProperty("mcycles_per_s", std::to_string(kCycles / cpu / 1e6));
}

// The RTL's input-protocol assertions are live in the model (--assert): a beat without start
// after reset must stop the simulation (Verilator aborts on a failed assertion).
TEST(GhashCoreAssertDeathTest, RejectsFirstBeatWithoutStart) {
  ::testing::FLAGS_gtest_death_test_style = "threadsafe";
  EXPECT_DEATH(
      {
        auto ctx = std::make_unique<VerilatedContext>();
        auto dut = std::make_unique<Vghash_core_l1m1>(ctx.get());
        dut->rst_i = 1;
        for (int i = 0; i < 4; ++i) {
          dut->clk_i = !dut->clk_i;
          dut->eval();
        }
        dut->rst_i = 0;
        dut->in_valid_i = 1;
        dut->in_start_i = 0;
        dut->in_count_i = 1;
        for (int i = 0; i < 4 && !ctx->gotFinish(); ++i) {
          dut->clk_i = !dut->clk_i;
          dut->eval();
        }
        // No abort here: only Verilator's own stop on the failed assertion can kill the child.
      },
      "");  // Verilator prints the assertion message on stdout; stderr only has "Aborting...".
}

}  // namespace
}  // namespace ipsec::hw::ghash
