// Runs the IKE SA engine fuzz target (fuzz/ike_sa/ike_sa_fuzzer.cc) without libFuzzer: over its
// corpus, its built-in seeds and deterministic mutations, so gcc and sanitizer builds exercise it.
// IPSEC_WRITE_FUZZ_CORPUS=1 rewrites the corpus seed files from FuzzSeeds().
#include <gtest/gtest.h>

#include <random>

#include "tests/support/fuzz_corpus_runner.h"

namespace {

namespace fuzz_test = ipsec::fuzz_test;
using Input = fuzz_test::Input;

TEST(IkeSaFuzzCorpusTest, RunsEveryCorpusFile) { fuzz_test::RunEveryCorpusFile(IPSEC_IKE_SA_FUZZ_CORPUS_DIR, 5); }

TEST(IkeSaFuzzCorpusTest, RunsBuiltInSeeds) { fuzz_test::RunBuiltInSeeds(IPSEC_IKE_SA_FUZZ_CORPUS_DIR); }

TEST(IkeSaFuzzCorpusTest, RunsDeterministicMutations) {
  fuzz_test::RunDeterministicMutations(
      IPSEC_IKE_SA_FUZZ_CORPUS_DIR,
      {.seed = 0x1ce, .count = 2000, .mutate = fuzz_test::MutateSmall, .finally = {Input{}, Input{0}, Input{1}, Input{2}}});
}

}  // namespace
