// Property test: random mutations of valid IKE messages never crash or over-read; each either
// decodes (and then re-encodes to a message that decodes to the same value) or fails with an
// "IKE decode: offset N: ..." error. Deterministic seed; run under ASan/UBSan builds too.
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "host/ike/encoding/message.h"
#include "tests/ike/ike_test_util.h"
#include "tests/support/fuzz_corpus_runner.h"

namespace ipsec::ike {
namespace {

namespace fuzz_test = ipsec::fuzz_test;
using Input = std::vector<std::byte>;

constexpr int kIterations = 20000;

Input Mutate(Input in, std::mt19937& rng) {
  static constexpr uint16_t kInteresting16[] = {0, 1, 3, 4, 5, 7, 8, 16, 28, 0x7fff, 0x8000, 0xfffe, 0xffff};
  static constexpr uint8_t kInteresting8[] = {0, 1, 2, 3, 4, 33, 40, 41, 46, 53, 0x80, 0xc8, 0xff};
  const int ops = 1 + static_cast<int>(rng() % 4);
  for (int k = 0; k < ops; ++k) {
    const size_t n = in.size();
    switch (rng() % 8) {
      case 0:  // flip one bit
        if (n != 0) fuzz_test::FlipBit(in, rng);
        break;
      case 1:  // a byte to a type/flag-like value
        if (n != 0) fuzz_test::SetInterestingByte(in, rng, kInteresting8);
        break;
      case 2:  // a 16-bit field (lengths, counts) to an edge value, or off by one
        if (n >= 2) {
          const size_t at = rng() % (n - 1);
          uint16_t v = kInteresting16[rng() % std::size(kInteresting16)];
          if (rng() % 3 == 0) v = static_cast<uint16_t>(LoadU16Be(&in[at]) + (rng() % 2 ? 1 : -1));
          StoreU16Be(&in[at], v);
        }
        break;
      case 3:  // insert bytes
        fuzz_test::InsertRun(in, rng);
        break;
      case 4:  // erase a range
        fuzz_test::EraseRange(in, rng);
        break;
      case 5:  // truncate
        if (n != 0) fuzz_test::Truncate(in, rng);
        break;
      case 6:  // random byte
        if (n != 0) fuzz_test::SetRandomByte(in, rng);
        break;
      default:  // copy a chunk elsewhere
        fuzz_test::CopyChunk(in, rng);
        break;
    }
  }
  return in;
}

// Keeps the IKE header's Length in step with the datagram half of the time, so mutations reach the
// payload parsers instead of all stopping at the length check.
void MaybeFixLength(Input& in, std::mt19937& rng) { fuzz_test::MaybeFixIkeLength(in, rng, kIkeHeaderSize); }

class IkeMutationTest : public ::testing::Test {
 protected:
  std::vector<Input> Bases() {
    std::vector<Input> bases;
    bases.push_back(testing::B(testing::SaInitRequestBytes()));
    auto all = Encode(testing::AllPayloadsMessage());
    EXPECT_TRUE(all.ok());
    bases.push_back(*all);
    for (const Payload& p : testing::SamplePayloads()) {
      Message m;
      m.header.spi_i = 1;
      m.payloads = {p};
      auto one = Encode(m);
      EXPECT_TRUE(one.ok());
      bases.push_back(*one);
    }
    return bases;
  }
};

TEST_F(IkeMutationTest, MutatedMessagesDecodeCleanlyOrFailWithOffset) {
  const std::vector<Input> bases = Bases();
  std::mt19937 rng(0x1ce5eed);
  int decoded = 0, rejected = 0;
  for (int i = 0; i < kIterations; ++i) {
    Input in = Mutate(bases[rng() % bases.size()], rng);
    MaybeFixLength(in, rng);
    auto m = Decode(in);
    if (!m.ok()) {
      ++rejected;
      ASSERT_EQ(m.status().message().rfind("IKE decode: offset ", 0), 0u) << m.status().message();
      continue;
    }
    ++decoded;
    (void)m->Verify();
    auto wire = Encode(*m);
    ASSERT_TRUE(wire.ok()) << "iteration " << i << ": " << wire.status().ToString();
    ASSERT_LE(wire->size(), in.size());
    auto back = Decode(*wire);
    ASSERT_TRUE(back.ok()) << "iteration " << i << ": " << back.status().ToString();
    ASSERT_TRUE(*back == *m) << "iteration " << i;
  }
  // Both outcomes must be well represented, or the mutations are not exercising the decoder.
  EXPECT_GT(decoded, kIterations / 20);
  EXPECT_GT(rejected, kIterations / 5);
}

TEST_F(IkeMutationTest, MutatedInnerChainsDecodeCleanlyOrFailWithOffset) {
  auto plain = EncodeInner(testing::SamplePayloads());
  ASSERT_TRUE(plain.ok());
  const PayloadType first = FirstPayloadType(testing::SamplePayloads());
  std::mt19937 rng(0x5eed1);
  int decoded = 0;
  for (int i = 0; i < kIterations / 2; ++i) {
    const Input in = Mutate(*plain, rng);
    const PayloadType type = rng() % 8 == 0 ? static_cast<PayloadType>(rng() % 60) : first;
    auto inner = DecodeInner(type, in);
    if (!inner.ok()) {
      ASSERT_EQ(inner.status().message().rfind("IKE decode: offset ", 0), 0u) << inner.status().message();
      continue;
    }
    ++decoded;
    auto again = EncodeInner(*inner);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    auto back = DecodeInner(FirstPayloadType(*inner), *again);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    ASSERT_TRUE(*back == *inner);
  }
  EXPECT_GT(decoded, 0);
}

TEST_F(IkeMutationTest, EveryTruncationOfValidMessageFailsCleanly) {
  for (const Input& base : Bases()) {
    for (size_t n = 0; n < base.size(); ++n) {
      Input cut(base.begin(), base.begin() + static_cast<std::ptrdiff_t>(n));
      EXPECT_FALSE(Decode(cut).ok());
      // With a consistent Length the chain still ends early: the last kept payload names a
      // successor, or a payload length overruns.
      if (n >= kIkeHeaderSize) StoreU32Be(&cut[24], static_cast<uint32_t>(n));
      EXPECT_FALSE(Decode(cut).ok()) << "cut at " << n;
    }
  }
}

}  // namespace
}  // namespace ipsec::ike
