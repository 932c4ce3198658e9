// SPDX-License-Identifier: Apache-2.0
//
// Verilated bench of hmac_sha256_engine, swept over Contexts = 1, 2, 3, 4, BeatBytes = 8, 16 and
// RoundsPerCycle = 1, 2 (see the VARIANTS in ../../CMakeLists.txt).
//
// Known answers: RFC 4231 §4.2-4.5, 4.7, 4.8 (test cases 1-4, 6, 7; case 5 is a truncation test)
// and Wycheproof hmac_sha256_test.json (tests/data/wycheproof, 174 tests incl. 128-bit tags and
// invalid tags). Differential: random keys (0..150 bytes: longer than 64 are hashed first, as SA
// install software does) and random messages 0..9000 bytes against OpenSSL HMAC(), many messages
// in flight on all contexts, beats interleaved beat by beat, random input idle cycles, beats
// offered to stalled contexts (head-of-line stalls), random output back-pressure. RTL assertions
// are on (--assert), including "keys wiped when a context is free".
//
// The ipad/opad states are computed by the bench exactly as software would at SA install; the
// engine never sees the key.
#include <cstdint>
#include <deque>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "Vhmac_sha256_engine_c1.h"
#include "Vhmac_sha256_engine_c2.h"
#include "Vhmac_sha256_engine_c3r2w16.h"
#include "Vhmac_sha256_engine_c4.h"
#include "Vhmac_sha256_engine_c4w16.h"
#include "hw/ip/sha2/tb/sha2_tb_util.h"

namespace ipsec::hw::sha2_tb {
namespace {

template <class Model, int kCtx, int kBeat, int kRounds>
struct Variant {
  using M = Model;
  static constexpr int kContexts = kCtx;
  static constexpr int kBeatBytes = kBeat;
  static constexpr int kRoundsPerCycle = kRounds;
};

using C1 = Variant<Vhmac_sha256_engine_c1, 1, 8, 1>;
using C2 = Variant<Vhmac_sha256_engine_c2, 2, 8, 1>;
using C4 = Variant<Vhmac_sha256_engine_c4, 4, 8, 1>;
using C4W16 = Variant<Vhmac_sha256_engine_c4w16, 4, 16, 1>;
using C3R2W16 = Variant<Vhmac_sha256_engine_c3r2w16, 3, 16, 2>;

constexpr int kIdBits = 8;  // RTL default

Bytes OpenSslHmac(const Bytes& key, const Bytes& msg) {
  Bytes mac(32);
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), msg.data(), msg.size(),
       mac.data(), &len);
  mac.resize(len);
  return mac;
}

struct Msg {
  Bytes data;
  HmacStates states;
  Bytes expect;  // full 32-byte MAC
};

struct RunOptions {
  int idle_pct = 0;    // chance of no beat offered in a cycle
  int stall_pct = 0;   // chance of out_ready_i low in a cycle
  int hol_pct = 0;     // chance of offering a beat to a context regardless of ctx_ready_o
  uint64_t seed = 1;
};

struct RunResult {
  std::vector<Bytes> macs;              // by message index
  std::vector<uint64_t> first_beat;     // cycle the first beat was accepted
  std::vector<uint64_t> done;           // cycle the MAC left
  std::vector<uint64_t> done_order;     // message indices in output order
  uint64_t cycles = 0;
};

// Drives one Verilated engine; not a gtest fixture so the throughput table can use several.
template <class V>
class EngineBench {
 public:
  EngineBench() : ctx_(std::make_unique<VerilatedContext>()) {
    dut_ = std::make_unique<typename V::M>(ctx_.get());
    dut_->clk_i = 0;
    dut_->rst_i = 1;
    dut_->in_valid_i = 0;
    dut_->out_ready_i = 0;
    for (int i = 0; i < 4; ++i) Tick();
    dut_->rst_i = 0;
    dut_->eval();
  }
  ~EngineBench() { dut_->final(); }

  RunResult Run(const std::vector<Msg>& msgs, const RunOptions& opt) {
    constexpr int kC = V::kContexts;
    constexpr int kB = V::kBeatBytes;
    std::mt19937_64 rng(opt.seed);
    RunResult res;
    res.macs.resize(msgs.size());
    res.first_beat.assign(msgs.size(), 0);
    res.done.assign(msgs.size(), 0);

    struct CtxState {
      int msg = -1;        // message being sent on this context
      size_t offset = 0;   // bytes already accepted
      std::deque<int> pending;  // messages whose MAC is still due, in input order
    };
    std::vector<CtxState> cs(kC);
    size_t next_msg = 0, completed = 0;
    bool presenting = false;
    int pres_ctx = 0;
    size_t pres_n = 0;
    bool pres_last = false;
    const uint64_t start = cycle_;
    uint64_t budget = 2000;
    for (const auto& m : msgs) budget += (m.data.size() / 64 + 3) * 70 * 3;

    while (completed < msgs.size()) {
      // New messages go to contexts the bench has finished sending on.
      for (int c = 0; c < kC && next_msg < msgs.size(); ++c) {
        if (cs[c].msg < 0) {
          cs[c].msg = static_cast<int>(next_msg++);
          cs[c].offset = 0;
        }
      }
      if (!presenting && static_cast<int>(rng() % 100) >= opt.idle_pct) {
        const bool any_ctx = static_cast<int>(rng() % 100) < opt.hol_pct;
        std::vector<int> cand;
        for (int c = 0; c < kC; ++c) {
          if (cs[c].msg >= 0 && (any_ctx || ((dut_->ctx_ready_o >> c) & 1))) cand.push_back(c);
        }
        if (!cand.empty()) {
          pres_ctx = cand[rng() % cand.size()];
          const CtxState& s = cs[pres_ctx];
          const Msg& m = msgs[s.msg];
          const size_t remain = m.data.size() - s.offset;
          pres_n = std::min<size_t>(kB, remain);
          pres_last = (remain == pres_n);
          dut_->in_ctx_i = pres_ctx;
          dut_->in_id_i = s.msg & ((1 << kIdBits) - 1);
          if (s.offset == 0) {
            SetState(dut_->in_istate_i, m.states.istate);
            SetState(dut_->in_ostate_i, m.states.ostate);
          } else {
            // Only sampled on the first beat: garbage here must not matter.
            State junk;
            for (auto& w : junk) w = static_cast<uint32_t>(rng());
            SetState(dut_->in_istate_i, junk);
            SetState(dut_->in_ostate_i, junk);
          }
          SetBeat(dut_->in_data_i, m.data.data() + s.offset, pres_n,
                  static_cast<uint8_t>(rng()));
          dut_->in_bytes_i = static_cast<uint8_t>(pres_n);
          dut_->in_last_i = pres_last;
          presenting = true;
        }
      }
      dut_->in_valid_i = presenting;
      dut_->out_ready_i = static_cast<int>(rng() % 100) >= opt.stall_pct;
      dut_->eval();

      if (presenting && dut_->in_ready_o) {
        CtxState& s = cs[pres_ctx];
        if (s.offset == 0) res.first_beat[s.msg] = cycle_;
        s.offset += pres_n;
        if (pres_last) {
          s.pending.push_back(s.msg);
          s.msg = -1;
        }
        presenting = false;
      }
      if (dut_->out_valid_o && dut_->out_ready_i) {
        const int c = static_cast<int>(dut_->out_ctx_o);
        if (c >= kC || cs[c].pending.empty()) {
          ADD_FAILURE() << "MAC from context " << c << " with nothing pending";
          return res;
        }
        const int m = cs[c].pending.front();
        cs[c].pending.pop_front();
        EXPECT_EQ(dut_->out_id_o, static_cast<unsigned>(m & ((1 << kIdBits) - 1)))
            << "per-context order broken on context " << c;
        res.macs[m] = GetBytesBe(dut_->out_mac_o);
        res.done[m] = cycle_;
        res.done_order.push_back(m);
        ++completed;
      }
      Tick();
      if (cycle_ - start > budget) {
        ADD_FAILURE() << "timeout: " << completed << " of " << msgs.size() << " MACs";
        break;
      }
    }
    dut_->in_valid_i = 0;
    dut_->out_ready_i = 0;
    res.cycles = cycle_ - start;
    return res;
  }

  uint64_t cycle() const { return cycle_; }

 private:
  void Tick() {
    dut_->clk_i = 1;
    dut_->eval();
    dut_->clk_i = 0;
    dut_->eval();
    ++cycle_;
  }

  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<typename V::M> dut_;
  uint64_t cycle_ = 0;
};

Msg MakeMsg(const Bytes& key, const Bytes& data) {
  return Msg{data, PrecomputeHmac(key), OpenSslHmac(key, data)};
}

Bytes RandomBytes(std::mt19937_64& rng, size_t n) {
  Bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

template <class V>
class HmacEngineTest : public ::testing::Test {
 protected:
  // Runs and checks every MAC against Msg::expect.
  RunResult RunAndCheck(const std::vector<Msg>& msgs, const RunOptions& opt) {
    RunResult r = bench_.Run(msgs, opt);
    for (size_t i = 0; i < msgs.size(); ++i) {
      EXPECT_EQ(ToHex(r.macs[i]), ToHex(msgs[i].expect))
          << "message " << i << " length " << msgs[i].data.size();
    }
    return r;
  }
  EngineBench<V> bench_;
};

using Variants = ::testing::Types<C1, C2, C4, C4W16, C3R2W16>;
TYPED_TEST_SUITE(HmacEngineTest, Variants);

Bytes Str(const std::string& s) { return Bytes(s.begin(), s.end()); }

TYPED_TEST(HmacEngineTest, Rfc4231TestCases) {
  struct Case {
    int id;
    Bytes key, data;
    const char* mac;
  };
  Bytes key4;
  for (int i = 1; i <= 25; ++i) key4.push_back(static_cast<uint8_t>(i));
  const std::vector<Case> cases = {
      {1, Bytes(20, 0x0b), Str("Hi There"),
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {2, Str("Jefe"), Str("what do ya want for nothing?"),
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {3, Bytes(20, 0xaa), Bytes(50, 0xdd),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {4, key4, Bytes(50, 0xcd),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {6, Bytes(131, 0xaa), Str("Test Using Larger Than Block-Size Key - Hash Key First"),
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {7, Bytes(131, 0xaa),
       Str("This is a test using a larger than block-size key and a larger than block-size "
           "data. The key needs to be hashed before being used by the HMAC algorithm."),
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  std::vector<Msg> msgs;
  for (const auto& c : cases) {
    msgs.push_back(MakeMsg(c.key, c.data));
    ASSERT_EQ(ToHex(msgs.back().expect), c.mac) << "reference disagrees with RFC 4231 case " << c.id;
  }
  auto r = this->RunAndCheck(msgs, RunOptions{});
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(ToHex(r.macs[i]), cases[i].mac) << "RFC 4231 test case " << cases[i].id;
  }
}

TYPED_TEST(HmacEngineTest, WycheproofVectors) {
  std::ifstream f(std::string(IPSEC_TEST_DATA_DIR) + "/wycheproof/hmac_sha256_test.json");
  ASSERT_TRUE(f.good());
  const nlohmann::json doc = nlohmann::json::parse(f);
  struct Expect {
    int tc_id;
    size_t tag_bytes;
    Bytes tag;
    bool valid;
  };
  std::vector<Msg> msgs;
  std::vector<Expect> expects;
  for (const auto& group : doc["testGroups"]) {
    const size_t tag_bytes = group["tagSize"].get<size_t>() / 8;
    for (const auto& t : group["tests"]) {
      const Bytes key = FromHex(t["key"].get<std::string>());
      const Bytes msg = FromHex(t["msg"].get<std::string>());
      msgs.push_back(Msg{msg, PrecomputeHmac(key), {}});
      expects.push_back({t["tcId"].get<int>(), tag_bytes, FromHex(t["tag"].get<std::string>()),
                         t["result"].get<std::string>() == "valid"});
    }
  }
  ASSERT_EQ(msgs.size(), doc["numberOfTests"].get<size_t>());
  RunResult r = this->bench_.Run(msgs, RunOptions{10, 20, 5, 7});
  int checked = 0;
  for (size_t i = 0; i < msgs.size(); ++i) {
    ASSERT_EQ(r.macs[i].size(), 32u);
    const Bytes truncated(r.macs[i].begin(), r.macs[i].begin() + expects[i].tag_bytes);
    if (expects[i].valid) {
      EXPECT_EQ(ToHex(truncated), ToHex(expects[i].tag)) << "tcId " << expects[i].tc_id;
    } else {
      EXPECT_NE(ToHex(truncated), ToHex(expects[i].tag)) << "tcId " << expects[i].tc_id;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 174);
}

// Every padding case: lengths 0..300 put the 0x80 byte and the length field at every offset of
// a block and of a beat, including the extra padding block (56..63 mod 64).
TYPED_TEST(HmacEngineTest, AllLengthsAcrossPaddingBoundaries) {
  std::mt19937_64 rng(99);
  std::vector<Msg> msgs;
  for (size_t len = 0; len <= 300; ++len) {
    msgs.push_back(MakeMsg(RandomBytes(rng, 1 + rng() % 100), RandomBytes(rng, len)));
  }
  this->RunAndCheck(msgs, RunOptions{20, 30, 10, 11});
}

// The main differential test: thousands of messages, random everything, many in flight.
TYPED_TEST(HmacEngineTest, RandomMessagesMatchOpenSsl) {
  std::mt19937_64 rng(0x5eed0000 + TypeParam::kContexts * 16 + TypeParam::kBeatBytes);
  const RunOptions settings[] = {{0, 0, 0, 1}, {30, 10, 5, 2}, {5, 60, 20, 3}, {60, 40, 50, 4}};
  int total = 0;
  for (const RunOptions& opt : settings) {
    std::vector<Msg> msgs;
    const int count = 500;
    for (int i = 0; i < count; ++i) {
      size_t len;
      const int kind = static_cast<int>(rng() % 100);
      if (kind < 70) {
        len = rng() % 300;
      } else if (kind < 97) {
        len = 300 + rng() % 1700;
      } else {
        len = 2000 + rng() % 7001;  // up to 9000
      }
      if (i == 0) len = 9000;
      const size_t key_len = rng() % 4 == 0 ? 65 + rng() % 86 : rng() % 65;  // 0..150
      msgs.push_back(MakeMsg(RandomBytes(rng, key_len), RandomBytes(rng, len)));
    }
    RunResult r = this->RunAndCheck(msgs, opt);
    total += count;
    if (TypeParam::kContexts > 1 && opt.idle_pct == 0) {
      // Completion order differs from input order: messages overtake across contexts.
      bool reordered = false;
      for (size_t i = 1; i < r.done_order.size(); ++i) {
        reordered |= r.done_order[i] < r.done_order[i - 1];
      }
      EXPECT_TRUE(reordered);
    }
  }
  EXPECT_EQ(total, 2000);
}

// ---------------------------------------------------------------------------------------------
// Throughput: bytes per clock at steady state, every context busy, no idle, no back-pressure.
// ---------------------------------------------------------------------------------------------
struct Throughput {
  double bytes_per_clock;
  double latency;  // cycles from first beat to MAC of a message alone in the engine
};

template <class V>
Throughput Measure(size_t len) {
  std::mt19937_64 rng(len);
  Throughput t{};
  {
    EngineBench<V> bench;
    std::vector<Msg> one{MakeMsg(RandomBytes(rng, 32), RandomBytes(rng, len))};
    RunResult r = bench.Run(one, RunOptions{});
    EXPECT_EQ(ToHex(r.macs[0]), ToHex(one[0].expect));
    t.latency = static_cast<double>(r.done[0] - r.first_beat[0]);
  }
  EngineBench<V> bench;
  const int warm = V::kContexts;
  const int per_ctx = len >= 9000 ? 4 : len >= 1500 ? 8 : 24;
  const int n = warm + per_ctx * V::kContexts;
  std::vector<Msg> msgs;
  const Bytes key = RandomBytes(rng, 32);
  for (int i = 0; i < n; ++i) msgs.push_back(MakeMsg(key, RandomBytes(rng, len)));
  RunResult r = bench.Run(msgs, RunOptions{});
  for (int i = 0; i < n; ++i) EXPECT_EQ(ToHex(r.macs[i]), ToHex(msgs[i].expect));
  // Window from the warm-up's last completion to the last one: (n - warm) messages.
  const uint64_t t0 = r.done[r.done_order[warm - 1]];
  const uint64_t t1 = r.done[r.done_order.back()];
  t.bytes_per_clock = static_cast<double>((n - warm) * len) / static_cast<double>(t1 - t0);
  return t;
}

TEST(HmacEngineThroughput, SteadyStateTable) {
  const size_t sizes[] = {64, 256, 576, 1500, 9000};
  std::cout << "\nHMAC-SHA-256 engine, 8-byte beats, 1 round/cycle, steady state\n"
            << "  bytes | lone-msg latency (cyc) | B/clk C=1  C=2  C=4 | Gbit/s @250 MHz C=1 "
               "C=2 C=4 | @300 MHz C=1 C=2 C=4\n";
  for (size_t len : sizes) {
    const Throughput t1 = Measure<C1>(len), t2 = Measure<C2>(len), t4 = Measure<C4>(len);
    auto g = [](double bpc, double mhz) { return bpc * 8 * mhz / 1000.0; };
    std::cout << std::fixed << std::setprecision(3) << "  " << std::setw(5) << len << " | "
              << std::setw(22) << std::setprecision(0) << t1.latency << " | "
              << std::setprecision(3) << t1.bytes_per_clock << " " << t2.bytes_per_clock << " "
              << t4.bytes_per_clock << " | " << std::setprecision(2) << g(t1.bytes_per_clock, 250)
              << " " << g(t2.bytes_per_clock, 250) << " " << g(t4.bytes_per_clock, 250) << " | "
              << g(t1.bytes_per_clock, 300) << " " << g(t2.bytes_per_clock, 300) << " "
              << g(t4.bytes_per_clock, 300) << "\n";
    // Scaling: N contexts deliver close to N times one context.
    EXPECT_GT(t2.bytes_per_clock, 1.9 * t1.bytes_per_clock) << len;
    EXPECT_GT(t4.bytes_per_clock, 3.8 * t1.bytes_per_clock) << len;
    // One context is bounded by the block chain: 64 bytes per 65 cycles at best.
    EXPECT_LT(t1.bytes_per_clock, 64.0 / 65.0) << len;
  }
}

}  // namespace
}  // namespace ipsec::hw::sha2_tb
