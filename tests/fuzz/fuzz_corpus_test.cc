// Runs one libFuzzer entry point without libFuzzer: over every file of its corpus directory, over
// its built-in seeds (FuzzSeeds()), and over deterministic mutations of both. The fuzz target's own
// checks abort on failure, which fails this test.
#include <gtest/gtest.h>

#include <cstdint>

#include "tests/support/fuzz_corpus_runner.h"

namespace {

namespace fuzz_test = ipsec::fuzz_test;
// IPSEC_FUZZ_SUITE (set per target by CMake, e.g. EspInboundFuzzerCorpusTest) keeps the ctest
// names of the three executables apart.
using Input = fuzz_test::Input;

constexpr int kMutations = 20000;

TEST(IPSEC_FUZZ_SUITE, RunsEveryCorpusFile) { fuzz_test::RunEveryCorpusFile(IPSEC_FUZZ_CORPUS_DIR); }

TEST(IPSEC_FUZZ_SUITE, RunsBuiltInSeeds) { fuzz_test::RunBuiltInSeeds(IPSEC_FUZZ_CORPUS_DIR); }

TEST(IPSEC_FUZZ_SUITE, RunsDeterministicMutations) {
  fuzz_test::RunDeterministicMutations(IPSEC_FUZZ_CORPUS_DIR,
                                       {.seed = 0x15ec,
                                        .count = kMutations,
                                        .mutate = fuzz_test::MutateBytes,
                                        // The empty input and a one-byte input for each mode selector.
                                        .finally = {Input{}, Input{0}, Input{1}, Input{2}, Input{3}}});
}

}  // namespace
