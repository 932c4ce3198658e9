// Runs the driver fuzz target (fuzz/driver/driver_fuzzer.cc) without libFuzzer: over its corpus,
// its built-in seeds and deterministic mutations, so gcc and sanitizer builds exercise it.
// IPSEC_WRITE_FUZZ_CORPUS=1 rewrites the corpus seed files from FuzzSeeds().
#include <gtest/gtest.h>

#include "tests/support/fuzz_corpus_runner.h"

namespace {

namespace fuzz_test = ipsec::fuzz_test;
using Input = fuzz_test::Input;

TEST(DriverFuzzCorpusTest, RunsEveryCorpusFile) { fuzz_test::RunEveryCorpusFile(IPSEC_DRIVER_FUZZ_CORPUS_DIR, 5); }

TEST(DriverFuzzCorpusTest, RunsBuiltInSeeds) { fuzz_test::RunBuiltInSeeds(IPSEC_DRIVER_FUZZ_CORPUS_DIR); }

TEST(DriverFuzzCorpusTest, RunsDeterministicMutations) {
  fuzz_test::RunDeterministicMutations(
      IPSEC_DRIVER_FUZZ_CORPUS_DIR,
      {.seed = 0xd21, .count = 3000, .mutate = fuzz_test::MutateSmall, .finally = {Input{}, Input{0}, Input{1}}});
}

}  // namespace
