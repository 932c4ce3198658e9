// Runs one libFuzzer entry point without libFuzzer: over every file of its corpus directory, over
// its built-in seeds (FuzzSeeds()), and over deterministic mutations of both. The fuzz target's own
// checks abort on failure, which fails this test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
std::vector<std::vector<uint8_t>> FuzzSeeds();

namespace {

namespace fs = std::filesystem;
// IPSEC_FUZZ_SUITE (set per target by CMake, e.g. EspInboundFuzzerCorpusTest) keeps the ctest
// names of the three executables apart.
using Input = std::vector<uint8_t>;

constexpr int kMutations = 20000;

void RunInput(const Input& in) { LLVMFuzzerTestOneInput(in.data(), in.size()); }

std::vector<Input> CorpusFiles() {
  std::vector<Input> out;
  std::vector<fs::path> paths;
  for (const auto& e : fs::directory_iterator(IPSEC_FUZZ_CORPUS_DIR)) {
    if (e.is_regular_file()) paths.push_back(e.path());
  }
  std::sort(paths.begin(), paths.end());  // deterministic order
  for (const auto& p : paths) {
    std::ifstream f(p, std::ios::binary);
    out.emplace_back(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  return out;
}

// libFuzzer-like mutations, driven by a fixed seed so every run is the same.
Input Mutate(Input in, std::mt19937& rng) {
  const int ops = 1 + static_cast<int>(rng() % 4);
  for (int k = 0; k < ops; ++k) {
    const size_t n = in.size();
    switch (rng() % 7) {
      case 0:  // flip a bit
        if (n != 0) in[rng() % n] ^= static_cast<uint8_t>(1u << (rng() % 8));
        break;
      case 1:  // set a byte to an interesting value
        if (n != 0) {
          static constexpr uint8_t kVals[] = {0, 1, 2, 4, 17, 41, 50, 59, 0x7f, 0x80, 0xfe, 0xff};
          in[rng() % n] = kVals[rng() % std::size(kVals)];
        }
        break;
      case 2:  // random byte
        if (n != 0) in[rng() % n] = static_cast<uint8_t>(rng());
        break;
      case 3:  // insert bytes
        in.insert(in.begin() + static_cast<std::ptrdiff_t>(n == 0 ? 0 : rng() % (n + 1)), 1 + rng() % 8,
                  static_cast<uint8_t>(rng()));
        break;
      case 4:  // erase a range
        if (n > 1) {
          const size_t at = rng() % n;
          const size_t len = std::min<size_t>(1 + rng() % 8, n - at);
          in.erase(in.begin() + static_cast<std::ptrdiff_t>(at), in.begin() + static_cast<std::ptrdiff_t>(at + len));
        }
        break;
      case 5:  // truncate
        if (n != 0) in.resize(rng() % n);
        break;
      default:  // copy a chunk over another place
        if (n > 4) {
          const size_t from = rng() % n, to = rng() % n;
          const size_t len = std::min({size_t{1} + rng() % 16, n - from, n - to});
          std::copy_n(in.begin() + static_cast<std::ptrdiff_t>(from), len, in.begin() + static_cast<std::ptrdiff_t>(to));
        }
        break;
    }
  }
  return in;
}

TEST(IPSEC_FUZZ_SUITE, RunsEveryCorpusFile) {
  const std::vector<Input> corpus = CorpusFiles();
  EXPECT_FALSE(corpus.empty()) << "no corpus in " << IPSEC_FUZZ_CORPUS_DIR;
  for (const Input& in : corpus) RunInput(in);
}

TEST(IPSEC_FUZZ_SUITE, RunsBuiltInSeeds) {
  const std::vector<Input> seeds = FuzzSeeds();
  ASSERT_FALSE(seeds.empty());
  for (const Input& in : seeds) RunInput(in);
  if (std::getenv("IPSEC_WRITE_FUZZ_CORPUS") != nullptr) {
    for (size_t i = 0; i < seeds.size(); ++i) {
      char name[32];
      std::snprintf(name, sizeof(name), "seed-%03zu", i);
      std::ofstream f(fs::path(IPSEC_FUZZ_CORPUS_DIR) / name, std::ios::binary);
      f.write(reinterpret_cast<const char*>(seeds[i].data()), static_cast<std::streamsize>(seeds[i].size()));
    }
  }
}

TEST(IPSEC_FUZZ_SUITE, RunsDeterministicMutations) {
  std::vector<Input> base = CorpusFiles();
  for (Input& s : FuzzSeeds()) base.push_back(std::move(s));
  ASSERT_FALSE(base.empty());
  std::mt19937 rng(0x15ec);
  for (int i = 0; i < kMutations; ++i) RunInput(Mutate(base[rng() % base.size()], rng));
  // The empty input and a one-byte input for each mode selector.
  RunInput({});
  for (int b = 0; b < 4; ++b) RunInput({static_cast<uint8_t>(b)});
}

}  // namespace
