// SPDX-License-Identifier: Apache-2.0
//
// Verilated bench of hmac_sha256_engine, swept over Contexts = 1, 2, 3 (an unused core slot), 4, 8
// and BeatBytes = 8, 16 (see the VARIANTS in ../../CMakeLists.txt; driver in
// ../hmac_sha256_harness.h).
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
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "hw/ip/sha2/tb/hmac_sha256_harness.h"

namespace ipsec::hw::sha2_tb {
namespace {

template <class V>
class HmacEngineTest : public ::testing::Test {
 protected:
  // Runs and checks every MAC against Msg::expect.
  RunResult RunAndCheck(const std::vector<Msg>& msgs, const RunOptions& opt) {
    RunResult r = bench_.Run(msgs, opt);
    EXPECT_EQ(r.error, "");
    for (size_t i = 0; i < msgs.size(); ++i) {
      EXPECT_EQ(ToHex(r.macs[i]), ToHex(msgs[i].expect))
          << "message " << i << " length " << msgs[i].data.size();
    }
    return r;
  }
  EngineBench<V> bench_;
};

using Variants = ::testing::Types<C1, C2, C3W16, C4, C4W16, C8>;
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
  ASSERT_EQ(r.error, "");
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
// Throughput scaling (the full table is bench/hmac_sha256_bench): every context busy, no idle, no
// back-pressure, 576-byte messages; bytes per clock over the MACs after the first Contexts.
// ---------------------------------------------------------------------------------------------
template <class V>
double BytesPerClock(size_t len) {
  std::mt19937_64 rng(len);
  EngineBench<V> bench;
  const int warm = V::kContexts;
  const int n = warm + 6 * V::kContexts;
  std::vector<Msg> msgs;
  const Bytes key = RandomBytes(rng, 32);
  for (int i = 0; i < n; ++i) msgs.push_back(MakeMsg(key, RandomBytes(rng, len)));
  RunResult r = bench.Run(msgs, RunOptions{});
  EXPECT_EQ(r.error, "");
  for (int i = 0; i < n; ++i) EXPECT_EQ(ToHex(r.macs[i]), ToHex(msgs[i].expect));
  const uint64_t t0 = r.done[r.done_order[warm - 1]];
  const uint64_t t1 = r.done[r.done_order.back()];
  return static_cast<double>((n - warm) * len) / static_cast<double>(t1 - t0);
}

TEST(HmacEngineThroughput, ScalesWithContexts) {
  const double c1 = BytesPerClock<C1>(576), c2 = BytesPerClock<C2>(576);
  const double c4 = BytesPerClock<C4>(576), c8 = BytesPerClock<C8>(576);
  std::cout << "[ hmac_sha256_engine 576 B ] B/clk C=1 " << c1 << ", C=2 " << c2 << ", C=4 " << c4
            << ", C=8 " << c8 << "\n";
  // One context is bounded by its block chain: 64 bytes per 130 cycles at best.
  EXPECT_LT(c1, 64.0 / 130.0);
  EXPECT_GT(c1, 0.9 * 576.0 / (130.0 * 11));  // 11 compressions per 576-byte message
  // The second slot of a core and every further core add a full context's worth.
  EXPECT_GT(c2, 1.9 * c1);
  EXPECT_GT(c4, 3.8 * c1);
  EXPECT_GT(c8, 7.5 * c1);
}

}  // namespace
}  // namespace ipsec::hw::sha2_tb
