// Runs the IKE message fuzz target (fuzz/ike/ike_message_fuzzer.cc) without libFuzzer: over every
// file in fuzz/ike/corpus, over its built-in seeds, and over deterministic mutations of both, so
// gcc and sanitizer builds of the test suite exercise the target and its round-trip oracle (which
// aborts on failure). IPSEC_WRITE_FUZZ_CORPUS=1 rewrites the corpus seed files from FuzzSeeds().
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "host/ike/encoding/message.h"
#include "host/ike/encoding/nat_traversal.h"
#include "tests/support/fuzz_corpus_runner.h"

namespace {

namespace fuzz_test = ipsec::fuzz_test;
using Input = fuzz_test::Input;

TEST(IkeFuzzCorpusTest, RunsEveryCorpusFile) { fuzz_test::RunEveryCorpusFile(IPSEC_IKE_FUZZ_CORPUS_DIR, 5); }

TEST(IkeFuzzCorpusTest, RunsBuiltInSeeds) { fuzz_test::RunBuiltInSeeds(IPSEC_IKE_FUZZ_CORPUS_DIR); }

// The seeds are only useful if they reach deep into the decoder: all but the inner-chain seed must
// decode as whole messages (after stripping a non-ESP marker where present).
TEST(IkeFuzzCorpusTest, SeedsAreValidMessages) {
  size_t valid = 0;
  const std::vector<Input> seeds = FuzzSeeds();
  for (const Input& in : seeds) {
    ipsec::Bytes b(reinterpret_cast<const std::byte*>(in.data()), in.size());
    if (ipsec::ike::HasNonEspMarker(b)) b = b.subspan(ipsec::ike::kNonEspMarkerSize);
    if (ipsec::ike::Decode(b).ok()) ++valid;
  }
  EXPECT_EQ(valid, seeds.size() - 1);
}

TEST(IkeFuzzCorpusTest, RunsDeterministicMutations) {
  fuzz_test::RunDeterministicMutations(
      IPSEC_IKE_FUZZ_CORPUS_DIR,
      {.seed = 0x1ce, .count = 5000, .mutate = fuzz_test::MutateSmall, .finally = {Input{}}});
}

}  // namespace
