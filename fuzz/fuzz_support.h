// Shared by the libFuzzer targets (fuzz/*_fuzzer.cc, fuzz/*/*_fuzzer.cc) and by the gtests that run
// them without libFuzzer (tests/support/fuzz_corpus_runner.h): the entry points every target
// defines, the FUZZ_CHECK oracle macro, and small byte-view helpers for building seeds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <vector>

#include "host/common/bytes.h"

// Every target defines both: the libFuzzer entry point and its built-in seed inputs (which the
// corpus tests run and, with IPSEC_WRITE_FUZZ_CORPUS=1, write out as the seed corpus).
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
std::vector<std::vector<uint8_t>> FuzzSeeds();

// A fuzz oracle: prints the failed condition and aborts, so libFuzzer and the corpus tests both
// report it as a crash.
#define FUZZ_CHECK(cond)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)

namespace ipsec::fuzz {

// One fuzz input (or seed) as libFuzzer hands it over.
using Input = std::vector<uint8_t>;

// The fuzzer's bytes as a Bytes view.
inline Bytes AsBytes(const uint8_t* data, size_t size) { return Bytes(reinterpret_cast<const std::byte*>(data), size); }
inline Bytes AsBytes(const Input& in) { return AsBytes(in.data(), in.size()); }

// A copy of `b` as a fuzz input.
inline Input ToInput(Bytes b) {
  const auto* p = reinterpret_cast<const uint8_t*>(b.data());
  return Input(p, p + b.size());
}

// `prefix` (mode selector bytes and the like) followed by `rest`.
inline Input WithPrefix(std::initializer_list<uint8_t> prefix, Bytes rest) {
  Input out(prefix);
  const auto* p = reinterpret_cast<const uint8_t*>(rest.data());
  out.insert(out.end(), p, p + rest.size());
  return out;
}
inline Input WithPrefix(std::initializer_list<uint8_t> prefix, const Input& rest) {
  return WithPrefix(prefix, AsBytes(rest));
}

}  // namespace ipsec::fuzz
