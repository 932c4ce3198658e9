// Runs the control-language fuzz target (fuzz/runtime_control/control_fuzzer.cc) without
// libFuzzer: over its corpus, its built-in seeds and deterministic mutations, so gcc and sanitizer
// builds exercise it. IPSEC_WRITE_FUZZ_CORPUS=1 rewrites the corpus seed files from FuzzSeeds().
#include <gtest/gtest.h>

#include "tests/support/fuzz_corpus_runner.h"

namespace {

namespace fuzz_test = ipsec::fuzz_test;
using Input = fuzz_test::Input;

TEST(ControlFuzzCorpusTest, RunsEveryCorpusFile) {
  fuzz_test::RunEveryCorpusFile(IPSEC_CONTROL_FUZZ_CORPUS_DIR, 5);
}

TEST(ControlFuzzCorpusTest, RunsBuiltInSeeds) {
  fuzz_test::RunBuiltInSeeds(IPSEC_CONTROL_FUZZ_CORPUS_DIR);
}

TEST(ControlFuzzCorpusTest, RunsDeterministicMutations) {
  fuzz_test::RunDeterministicMutations(
      IPSEC_CONTROL_FUZZ_CORPUS_DIR,
      {.seed = 0xc71, .count = 5000, .mutate = fuzz_test::MutateBytes, .finally = {Input{}, Input{'\n'}, Input{0}}});
}

}  // namespace
