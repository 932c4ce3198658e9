// Runs the SK decrypt fuzz target (fuzz/ike_crypto/sk_decrypt_fuzzer.cc) without libFuzzer: over
// every file in fuzz/ike_crypto/corpus, over its built-in seeds, and over deterministic mutations,
// so gcc and sanitizer builds exercise the target and its oracles (which abort on failure).
// IPSEC_WRITE_FUZZ_CORPUS=1 rewrites the corpus seed files from FuzzSeeds().
#include <gtest/gtest.h>

#include <random>
#include <utility>

#include "tests/support/fuzz_corpus_runner.h"

namespace {

namespace fuzz_test = ipsec::fuzz_test;
using Input = fuzz_test::Input;

// Bit flips, byte sets, truncation, insertion; sometimes followed by re-patching the IKE Length so
// that mutations get past the framing checks to the ICV.
Input Mutate(Input in, std::mt19937& rng) {
  in = fuzz_test::MutateSmall(std::move(in), rng);
  fuzz_test::MaybeFixIkeLength(in, rng);
  return in;
}

TEST(SkDecryptFuzzCorpusTest, RunsEveryCorpusFile) {
  fuzz_test::RunEveryCorpusFile(IPSEC_IKE_CRYPTO_FUZZ_CORPUS_DIR, 12);
}

TEST(SkDecryptFuzzCorpusTest, RunsBuiltInSeeds) { fuzz_test::RunBuiltInSeeds(IPSEC_IKE_CRYPTO_FUZZ_CORPUS_DIR); }

TEST(SkDecryptFuzzCorpusTest, RunsDeterministicMutations) {
  fuzz_test::RunDeterministicMutations(IPSEC_IKE_CRYPTO_FUZZ_CORPUS_DIR,
                                       {.seed = 0x5ec, .count = 3000, .mutate = Mutate, .finally = {Input{}}});
}

}  // namespace
