// Runs a libFuzzer entry point (LLVMFuzzerTestOneInput and FuzzSeeds() from fuzz/fuzz_support.h,
// linked in from a fuzz/*_fuzzer.cc compiled without libFuzzer) inside a gtest: over every file of
// its corpus directory, over its built-in seeds, and over deterministic mutations of both. The fuzz
// target's own checks abort on failure, which fails the test. Also the libFuzzer-like mutation
// primitives those runs (and other mutation-based tests) are built from.
//
// A corpus test is three one-line TESTs:
//   TEST(MyFuzzerCorpusTest, RunsEveryCorpusFile) { fuzz_test::RunEveryCorpusFile(kDir); }
//   TEST(MyFuzzerCorpusTest, RunsBuiltInSeeds) { fuzz_test::RunBuiltInSeeds(kDir); }
//   TEST(MyFuzzerCorpusTest, RunsDeterministicMutations) {
//     fuzz_test::RunDeterministicMutations(kDir, {.seed = 1, .count = 1000, .mutate = fuzz_test::MutateSmall});
//   }
// IPSEC_WRITE_FUZZ_CORPUS=1 makes RunBuiltInSeeds rewrite <dir>/seed-NNN from FuzzSeeds().
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <utility>
#include <vector>

#include "fuzz/fuzz_support.h"

namespace ipsec::fuzz_test {

using Input = fuzz::Input;
using Mutator = Input (*)(Input, std::mt19937&);

inline void RunInput(const Input& in) { LLVMFuzzerTestOneInput(in.data(), in.size()); }

// Every regular file in `dir`, in name order (so runs are deterministic).
inline std::vector<Input> CorpusFiles(const char* dir) {
  namespace fs = std::filesystem;
  std::vector<fs::path> paths;
  for (const auto& e : fs::directory_iterator(dir)) {
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

// --- Mutation primitives, for byte vectors (uint8_t or std::byte elements). Each draws from `rng`
// in a fixed order, so a given seed always gives the same mutations with a given compiler. Those
// marked "non-empty" need in.size() != 0.

// Flips one bit (non-empty).
template <class T>
void FlipBit(std::vector<T>& in, std::mt19937& rng) {
  in[rng() % in.size()] ^= T{static_cast<uint8_t>(1u << (rng() % 8))};
}

// Sets one byte to one of `vals` (non-empty).
template <class T, size_t N>
void SetInterestingByte(std::vector<T>& in, std::mt19937& rng, const uint8_t (&vals)[N]) {
  in[rng() % in.size()] = T{vals[rng() % N]};
}

// Sets one byte to a random value (non-empty).
template <class T>
void SetRandomByte(std::vector<T>& in, std::mt19937& rng) {
  in[rng() % in.size()] = T{static_cast<uint8_t>(rng())};
}

// Inserts 1..8 copies of a random byte anywhere, the end included.
template <class T>
void InsertRun(std::vector<T>& in, std::mt19937& rng) {
  const size_t n = in.size();
  in.insert(in.begin() + static_cast<std::ptrdiff_t>(n == 0 ? 0 : rng() % (n + 1)), 1 + rng() % 8,
            T{static_cast<uint8_t>(rng())});
}

// Inserts one random byte before an existing one (non-empty).
template <class T>
void InsertByte(std::vector<T>& in, std::mt19937& rng) {
  in.insert(in.begin() + static_cast<std::ptrdiff_t>(rng() % in.size()), T{static_cast<uint8_t>(rng())});
}

// Erases 1..8 bytes (when there are at least two).
template <class T>
void EraseRange(std::vector<T>& in, std::mt19937& rng) {
  const size_t n = in.size();
  if (n > 1) {
    const size_t at = rng() % n;
    const size_t len = std::min<size_t>(1 + rng() % 8, n - at);
    in.erase(in.begin() + static_cast<std::ptrdiff_t>(at), in.begin() + static_cast<std::ptrdiff_t>(at + len));
  }
}

// Truncates to a shorter length (non-empty).
template <class T>
void Truncate(std::vector<T>& in, std::mt19937& rng) {
  in.resize(rng() % in.size());
}

// Copies a chunk of up to 16 bytes over another place (when there are more than four bytes).
template <class T>
void CopyChunk(std::vector<T>& in, std::mt19937& rng) {
  const size_t n = in.size();
  if (n > 4) {
    const size_t from = rng() % n, to = rng() % n;
    const size_t len = std::min({size_t{1} + rng() % 16, n - from, n - to});
    std::copy_n(in.begin() + static_cast<std::ptrdiff_t>(from), len, in.begin() + static_cast<std::ptrdiff_t>(to));
  }
}

// Half of the time, sets the IKE header's Length (bytes 24..27, big endian) to the input's size, so
// mutations get past the framing check. Needs at least `header_size` (the IKE header, 28) bytes.
template <class T>
void MaybeFixIkeLength(std::vector<T>& in, std::mt19937& rng, size_t header_size = 28) {
  if (in.size() >= header_size && rng() % 2 == 0) {
    const auto len = static_cast<uint32_t>(in.size());
    in[24] = T{static_cast<uint8_t>(len >> 24)};
    in[25] = T{static_cast<uint8_t>(len >> 16)};
    in[26] = T{static_cast<uint8_t>(len >> 8)};
    in[27] = T{static_cast<uint8_t>(len)};
  }
}

// --- Mutators.

// libFuzzer-like: 1..4 of bit flip, interesting byte, random byte, insert, erase, truncate, copy.
inline Input MutateBytes(Input in, std::mt19937& rng) {
  static constexpr uint8_t kVals[] = {0, 1, 2, 4, 17, 41, 50, 59, 0x7f, 0x80, 0xfe, 0xff};
  const int ops = 1 + static_cast<int>(rng() % 4);
  for (int k = 0; k < ops; ++k) {
    const size_t n = in.size();
    switch (rng() % 7) {
      case 0:
        if (n != 0) FlipBit(in, rng);
        break;
      case 1:
        if (n != 0) SetInterestingByte(in, rng, kVals);
        break;
      case 2:
        if (n != 0) SetRandomByte(in, rng);
        break;
      case 3:
        InsertRun(in, rng);
        break;
      case 4:
        EraseRange(in, rng);
        break;
      case 5:
        if (n != 0) Truncate(in, rng);
        break;
      default:
        CopyChunk(in, rng);
        break;
    }
  }
  return in;
}

// Smaller steps: 1..3 of bit flip, random byte, truncate, insert one byte; stops when empty.
inline Input MutateSmall(Input in, std::mt19937& rng) {
  const int ops = 1 + static_cast<int>(rng() % 3);
  for (int k = 0; k < ops && !in.empty(); ++k) {
    switch (rng() % 4) {
      case 0:
        FlipBit(in, rng);
        break;
      case 1:
        SetRandomByte(in, rng);
        break;
      case 2:
        Truncate(in, rng);
        break;
      default:
        InsertByte(in, rng);
        break;
    }
  }
  return in;
}

// --- The corpus test bodies.

// Runs every corpus file; there must be at least `min_files` of them.
inline void RunEveryCorpusFile(const char* dir, size_t min_files = 1) {
  const std::vector<Input> corpus = CorpusFiles(dir);
  EXPECT_GE(corpus.size(), min_files) << "corpus missing in " << dir;
  for (const Input& in : corpus) RunInput(in);
}

// Runs FuzzSeeds(), and with IPSEC_WRITE_FUZZ_CORPUS set writes them to <dir>/seed-NNN.
inline void RunBuiltInSeeds(const char* dir) {
  const std::vector<Input> seeds = FuzzSeeds();
  ASSERT_FALSE(seeds.empty());
  for (const Input& in : seeds) RunInput(in);
  if (std::getenv("IPSEC_WRITE_FUZZ_CORPUS") != nullptr) {
    for (size_t i = 0; i < seeds.size(); ++i) {
      char name[32];
      std::snprintf(name, sizeof(name), "seed-%03zu", i);
      std::ofstream f(std::filesystem::path(dir) / name, std::ios::binary);
      f.write(reinterpret_cast<const char*>(seeds[i].data()), static_cast<std::streamsize>(seeds[i].size()));
    }
  }
}

struct MutationRun {
  uint32_t seed;               // of the std::mt19937 that picks bases and drives `mutate`
  int count;                   // number of mutated inputs
  Mutator mutate;
  std::vector<Input> finally;  // run after the mutations (the empty input, mode selectors, ...)
};

// Runs `run.count` mutations of inputs drawn from the corpus files and FuzzSeeds(), then
// `run.finally`.
inline void RunDeterministicMutations(const char* dir, const MutationRun& run) {
  std::vector<Input> base = CorpusFiles(dir);
  for (Input& s : FuzzSeeds()) base.push_back(std::move(s));
  ASSERT_FALSE(base.empty());
  std::mt19937 rng(run.seed);
  for (int i = 0; i < run.count; ++i) RunInput(run.mutate(base[rng() % base.size()], rng));
  for (const Input& in : run.finally) RunInput(in);
}

}  // namespace ipsec::fuzz_test
