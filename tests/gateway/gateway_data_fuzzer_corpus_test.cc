// Runs the gateway packet-shaping fuzz target (fuzz/gateway/gateway_data_fuzzer.cc) without
// libFuzzer: over its corpus, its built-in seeds and deterministic mutations, so gcc and sanitizer
// builds exercise it. IPSEC_WRITE_FUZZ_CORPUS=1 rewrites the corpus seed files from FuzzSeeds().
#include <gtest/gtest.h>

#include "tests/support/fuzz_corpus_runner.h"

namespace {

namespace fuzz_test = ipsec::fuzz_test;
using Input = fuzz_test::Input;

TEST(GatewayDataFuzzCorpusTest, RunsEveryCorpusFile) { fuzz_test::RunEveryCorpusFile(IPSEC_GATEWAY_FUZZ_CORPUS_DIR, 5); }

TEST(GatewayDataFuzzCorpusTest, RunsBuiltInSeeds) { fuzz_test::RunBuiltInSeeds(IPSEC_GATEWAY_FUZZ_CORPUS_DIR); }

TEST(GatewayDataFuzzCorpusTest, RunsDeterministicMutations) {
  fuzz_test::RunDeterministicMutations(
      IPSEC_GATEWAY_FUZZ_CORPUS_DIR,
      {.seed = 0x6a7, .count = 5000, .mutate = fuzz_test::MutateBytes, .finally = {Input{}, Input{0}, Input{1}}});
}

}  // namespace
