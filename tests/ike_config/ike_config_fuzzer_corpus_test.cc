// Runs the swanctl.conf fuzz target (fuzz/ike_config/ike_config_fuzzer.cc) without libFuzzer: over
// every file in fuzz/ike_config/corpus, over its built-in seeds, and over deterministic mutations,
// so gcc and sanitizer builds exercise the target and its oracles (which abort on failure).
// IPSEC_WRITE_FUZZ_CORPUS=1 rewrites the corpus seed files from FuzzSeeds().
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/support/fuzz_corpus_runner.h"

namespace {

namespace fuzz_test = ipsec::fuzz_test;
using Input = fuzz_test::Input;

// Line-level edits keep the text mostly well-formed, so mutations reach the model builder rather
// than stopping at the first syntax error: delete, duplicate or swap lines, or insert a keyword.
Input MutateLines(Input in, std::mt19937& rng) {
  static constexpr std::string_view kTokens[] = {
      "}\n", "x {\n", "children {\n", "local {\n", "secret = S3CR3T\n", "proposals = aes128-sha256-x25519\n",
      "esp_proposals = aes128gcm16-esn\n", "local_ts = 10.0.0.0/8[tcp/22]\n", "id = *.example.com\n",
      "rekey_time = 0\n", "life_time = 1s\n", "mode = transport\n", "ah_proposals = sha256\n", "\"", "#", "=",
  };
  std::vector<Input> lines;
  Input cur;
  for (uint8_t c : in) {
    cur.push_back(c);
    if (c == '\n') {
      lines.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) lines.push_back(std::move(cur));
  const int ops = 1 + static_cast<int>(rng() % 3);
  for (int k = 0; k < ops; ++k) {
    const size_t n = lines.size();
    switch (rng() % 4) {
      case 0:
        if (n > 0) lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(rng() % n));
        break;
      case 1:
        if (n > 0) {
          const size_t at = rng() % n;
          lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(at), lines[at]);
        }
        break;
      case 2:
        if (n > 1) std::swap(lines[rng() % n], lines[rng() % n]);
        break;
      default: {
        const std::string_view t = kTokens[rng() % std::size(kTokens)];
        lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(n == 0 ? 0 : rng() % (n + 1)),
                     Input(t.begin(), t.end()));
        break;
      }
    }
  }
  Input out;
  for (const Input& l : lines) out.insert(out.end(), l.begin(), l.end());
  return out;
}

Input Mutate(Input in, std::mt19937& rng) {
  return rng() % 2 == 0 ? MutateLines(std::move(in), rng) : fuzz_test::MutateBytes(std::move(in), rng);
}

TEST(IkeConfigFuzzCorpusTest, RunsEveryCorpusFile) { fuzz_test::RunEveryCorpusFile(IPSEC_IKE_CONFIG_FUZZ_CORPUS_DIR, 8); }

TEST(IkeConfigFuzzCorpusTest, RunsBuiltInSeeds) { fuzz_test::RunBuiltInSeeds(IPSEC_IKE_CONFIG_FUZZ_CORPUS_DIR); }

TEST(IkeConfigFuzzCorpusTest, RunsDeterministicMutations) {
  fuzz_test::RunDeterministicMutations(
      IPSEC_IKE_CONFIG_FUZZ_CORPUS_DIR,
      {.seed = 0xc0f, .count = 4000, .mutate = Mutate, .finally = {Input{}, Input{'}'}, Input{'{'}}});
}

}  // namespace
