// Runs the SK decrypt fuzz target (fuzz/ike_crypto/sk_decrypt_fuzzer.cc) without libFuzzer: over
// every file in fuzz/ike_crypto/corpus, over its built-in seeds, and over deterministic mutations,
// so gcc and sanitizer builds exercise the target and its oracles (which abort on failure).
// IPSEC_WRITE_FUZZ_CORPUS=1 rewrites the corpus seed files from FuzzSeeds().
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
std::vector<std::vector<uint8_t>> FuzzSeeds();

namespace {

namespace fs = std::filesystem;
using Input = std::vector<uint8_t>;

void RunInput(const Input& in) { LLVMFuzzerTestOneInput(in.data(), in.size()); }

std::vector<Input> CorpusFiles() {
  std::vector<fs::path> paths;
  for (const auto& e : fs::directory_iterator(IPSEC_IKE_CRYPTO_FUZZ_CORPUS_DIR)) {
    if (e.is_regular_file()) paths.push_back(e.path());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<Input> out;
  for (const auto& p : paths) {
    std::ifstream f(p, std::ios::binary);
    out.emplace_back(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  return out;
}

// Bit flips, byte sets, truncation, insertion; sometimes followed by re-patching the IKE Length so
// that mutations get past the framing checks to the ICV.
Input Mutate(Input in, std::mt19937& rng) {
  const int ops = 1 + static_cast<int>(rng() % 3);
  for (int k = 0; k < ops && !in.empty(); ++k) {
    const size_t n = in.size();
    switch (rng() % 4) {
      case 0:
        in[rng() % n] ^= static_cast<uint8_t>(1u << (rng() % 8));
        break;
      case 1:
        in[rng() % n] = static_cast<uint8_t>(rng());
        break;
      case 2:
        in.resize(rng() % n);
        break;
      default:
        in.insert(in.begin() + static_cast<std::ptrdiff_t>(rng() % n), static_cast<uint8_t>(rng()));
        break;
    }
  }
  if (in.size() >= 28 && rng() % 2 == 0) {
    const auto len = static_cast<uint32_t>(in.size());
    in[24] = static_cast<uint8_t>(len >> 24);
    in[25] = static_cast<uint8_t>(len >> 16);
    in[26] = static_cast<uint8_t>(len >> 8);
    in[27] = static_cast<uint8_t>(len);
  }
  return in;
}

TEST(SkDecryptFuzzCorpusTest, RunsEveryCorpusFile) {
  const std::vector<Input> corpus = CorpusFiles();
  EXPECT_GE(corpus.size(), 12u) << "corpus missing in " << IPSEC_IKE_CRYPTO_FUZZ_CORPUS_DIR;
  for (const Input& in : corpus) RunInput(in);
}

TEST(SkDecryptFuzzCorpusTest, RunsBuiltInSeeds) {
  const std::vector<Input> seeds = FuzzSeeds();
  ASSERT_FALSE(seeds.empty());
  for (const Input& in : seeds) RunInput(in);
  if (std::getenv("IPSEC_WRITE_FUZZ_CORPUS") != nullptr) {
    for (size_t i = 0; i < seeds.size(); ++i) {
      char name[32];
      std::snprintf(name, sizeof(name), "seed-%03zu", i);
      std::ofstream f(fs::path(IPSEC_IKE_CRYPTO_FUZZ_CORPUS_DIR) / name, std::ios::binary);
      f.write(reinterpret_cast<const char*>(seeds[i].data()), static_cast<std::streamsize>(seeds[i].size()));
    }
  }
}

TEST(SkDecryptFuzzCorpusTest, RunsDeterministicMutations) {
  std::vector<Input> base = CorpusFiles();
  for (Input& s : FuzzSeeds()) base.push_back(std::move(s));
  ASSERT_FALSE(base.empty());
  std::mt19937 rng(0x5ec);
  for (int i = 0; i < 3000; ++i) RunInput(Mutate(base[rng() % base.size()], rng));
  RunInput({});
}

}  // namespace
