// Runs the IKE auth fuzz target (fuzz/ike_auth/ike_auth_fuzzer.cc) without libFuzzer: over every
// file in fuzz/ike_auth/corpus, over its built-in seeds, and over deterministic mutations, so gcc
// and sanitizer builds exercise the target and its oracles (which abort on failure).
// IPSEC_WRITE_FUZZ_CORPUS=1 rewrites the corpus seed files from FuzzSeeds().
#include <gtest/gtest.h>

#include <random>
#include <utility>

#include "tests/support/fuzz_corpus_runner.h"

namespace {

namespace fuzz_test = ipsec::fuzz_test;
using Input = fuzz_test::Input;

// Small mutations that keep the mode byte most of the time, so each mode gets its share.
Input Mutate(Input in, std::mt19937& rng) {
  if (in.size() < 2) return fuzz_test::MutateSmall(std::move(in), rng);
  const uint8_t mode = in[0];
  in = fuzz_test::MutateSmall(std::move(in), rng);
  if (!in.empty() && rng() % 4 != 0) in[0] = mode;
  return in;
}

TEST(IkeAuthFuzzCorpusTest, RunsEveryCorpusFile) {
  fuzz_test::RunEveryCorpusFile(IPSEC_IKE_AUTH_FUZZ_CORPUS_DIR, 20);
}

TEST(IkeAuthFuzzCorpusTest, RunsBuiltInSeeds) {
  fuzz_test::RunBuiltInSeeds(IPSEC_IKE_AUTH_FUZZ_CORPUS_DIR);
}

TEST(IkeAuthFuzzCorpusTest, RunsDeterministicMutations) {
  fuzz_test::RunDeterministicMutations(
      IPSEC_IKE_AUTH_FUZZ_CORPUS_DIR,
      {.seed = 0xa17, .count = 2000, .mutate = Mutate, .finally = {Input{}, Input{0}, Input{1}, Input{2}, Input{3}}});
}

}  // namespace
