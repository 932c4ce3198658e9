// Runs the IKE message fuzz target (fuzz/ike/ike_message_fuzzer.cc) without libFuzzer: over every
// file in fuzz/ike/corpus, over its built-in seeds, and over deterministic mutations of both, so
// gcc and sanitizer builds of the test suite exercise the target and its round-trip oracle (which
// aborts on failure). IPSEC_WRITE_FUZZ_CORPUS=1 rewrites the corpus seed files from FuzzSeeds().
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

#include "host/ike/encoding/message.h"
#include "host/ike/encoding/nat_traversal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
std::vector<std::vector<uint8_t>> FuzzSeeds();

namespace {

namespace fs = std::filesystem;
using Input = std::vector<uint8_t>;

void RunInput(const Input& in) { LLVMFuzzerTestOneInput(in.data(), in.size()); }

std::vector<Input> CorpusFiles() {
  std::vector<fs::path> paths;
  for (const auto& e : fs::directory_iterator(IPSEC_IKE_FUZZ_CORPUS_DIR)) {
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

Input Mutate(Input in, std::mt19937& rng) {
  const int ops = 1 + static_cast<int>(rng() % 3);
  for (int k = 0; k < ops; ++k) {
    const size_t n = in.size();
    if (n == 0) break;
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
  return in;
}

TEST(IkeFuzzCorpusTest, RunsEveryCorpusFile) {
  const std::vector<Input> corpus = CorpusFiles();
  EXPECT_GE(corpus.size(), 5u) << "corpus missing in " << IPSEC_IKE_FUZZ_CORPUS_DIR;
  for (const Input& in : corpus) RunInput(in);
}

TEST(IkeFuzzCorpusTest, RunsBuiltInSeeds) {
  const std::vector<Input> seeds = FuzzSeeds();
  ASSERT_FALSE(seeds.empty());
  for (const Input& in : seeds) RunInput(in);
  if (std::getenv("IPSEC_WRITE_FUZZ_CORPUS") != nullptr) {
    for (size_t i = 0; i < seeds.size(); ++i) {
      char name[32];
      std::snprintf(name, sizeof(name), "seed-%03zu", i);
      std::ofstream f(fs::path(IPSEC_IKE_FUZZ_CORPUS_DIR) / name, std::ios::binary);
      f.write(reinterpret_cast<const char*>(seeds[i].data()), static_cast<std::streamsize>(seeds[i].size()));
    }
  }
}

// The seeds are only useful if they reach deep into the decoder: all but the inner-chain seed must
// decode as whole messages (after stripping a non-ESP marker where present).
TEST(IkeFuzzCorpusTest, SeedsAreValidMessages) {
  size_t valid = 0;
  const std::vector<Input> seeds = FuzzSeeds();
  for (const Input& in : seeds) {
    ipsec::Bytes b(reinterpret_cast<const std::byte*>(in.data()), in.size());
    if (ipsec::ike::HasNonEspMarker(b)) b = b.subspan(ipsec::ike::kNonEspMarkerSize);
    if (ipsec::ike::Decode(b).ok()) ++valid;
  }
  EXPECT_EQ(valid, seeds.size() - 1);
}

TEST(IkeFuzzCorpusTest, RunsDeterministicMutations) {
  std::vector<Input> base = CorpusFiles();
  for (Input& s : FuzzSeeds()) base.push_back(std::move(s));
  ASSERT_FALSE(base.empty());
  std::mt19937 rng(0x1ce);
  for (int i = 0; i < 5000; ++i) RunInput(Mutate(base[rng() % base.size()], rng));
  RunInput({});
}

}  // namespace
