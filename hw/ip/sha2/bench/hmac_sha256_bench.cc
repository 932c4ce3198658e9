// SPDX-License-Identifier: Apache-2.0
//
// Throughput bench for the Verilated hmac_sha256_engine at Contexts 1, 2, 4 (the RTL default) and
// 8, 8-byte beats. Every figure comes from cycle counts of the simulation; nothing is hard-coded.
//
// Traffic: messages of one length (64, 256, 576, 1500, 9000 bytes: the bytes the MAC covers) or
// Simple IMIX (40/576/1500 bytes in the ratio 7:4:1, in a fixed shuffled order), a new random key
// (1..100 bytes, so istate/ostate change) every message, a beat offered every cycle to a random
// context that can take one, output always ready. Every MAC is checked against OpenSSL HMAC(); a
// mismatch or protocol error fails the run (exit status 1).
//
// Columns:
//   B/clk        message bytes per cycle in steady state: bytes of the MACs completed after the
//                first `Contexts` MACs, over the cycles between that MAC and the last one
//   idle/msg     cycles in the same window in which the input port took no beat (every context
//                busy compressing), per message
//   lat iso      cycles from the first beat accepted to the MAC valid, one message alone in an
//                idle engine (IMIX: the mean over the mix)
//   lat load     the same, averaged over the messages of the window (includes waiting for a slot
//                behind the other contexts' beats)
//   Gbit/s       B/clk x 8 x 250 MHz and x 300 MHz
//
// Usage: hmac_sha256_bench [--quick]   (--quick: fewer messages and rows, for the ctest)
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "hw/ip/sha2/tb/hmac_sha256_harness.h"

namespace ipsec::hw::sha2_tb {
namespace {

struct Row {
  std::string name;
  double bpc = 0, idle = 0, lat_iso = 0, lat_load = 0;
};

std::vector<size_t> Imix(size_t n, std::mt19937_64& rng) {
  std::vector<size_t> pattern;
  for (int i = 0; i < 7; ++i) pattern.push_back(40);
  for (int i = 0; i < 4; ++i) pattern.push_back(576);
  pattern.push_back(1500);
  std::shuffle(pattern.begin(), pattern.end(), rng);
  std::vector<size_t> sizes;
  while (sizes.size() < n) sizes.push_back(pattern[sizes.size() % pattern.size()]);
  return sizes;
}

template <class V>
bool Measure(const std::string& name, const std::vector<size_t>& sizes, Row& row) {
  std::mt19937_64 rng(sizes.size() * 7919 + sizes[0]);
  std::vector<Msg> msgs;
  for (size_t len : sizes) msgs.push_back(MakeMsg(RandomBytes(rng, 1 + rng() % 100), RandomBytes(rng, len)));

  // Isolated latency: one message of each distinct length alone in an idle engine, averaged
  // over the messages of the run (so for IMIX it is the mix-weighted mean).
  std::vector<std::pair<size_t, double>> iso;
  double iso_sum = 0;
  for (const Msg& m : msgs) {
    auto it = std::find_if(iso.begin(), iso.end(), [&](const auto& e) { return e.first == m.data.size(); });
    if (it == iso.end()) {
      EngineBench<V> bench;
      const std::vector<Msg> one{m};
      const RunResult r = bench.Run(one, RunOptions{});
      if (!r.error.empty() || r.macs[0] != m.expect) {
        std::fprintf(stderr, "C=%d %s: isolated run failed %s\n", V::kContexts, name.c_str(), r.error.c_str());
        return false;
      }
      iso.emplace_back(m.data.size(), static_cast<double>(r.done[0] - r.first_beat[0]));
      it = iso.end() - 1;
    }
    iso_sum += it->second;
  }
  row.lat_iso = iso_sum / static_cast<double>(msgs.size());

  EngineBench<V> bench;
  const RunResult r = bench.Run(msgs, RunOptions{});
  if (!r.error.empty()) {
    std::fprintf(stderr, "C=%d %s: %s\n", V::kContexts, name.c_str(), r.error.c_str());
    return false;
  }
  for (size_t i = 0; i < msgs.size(); ++i) {
    if (r.macs[i] != msgs[i].expect) {
      std::fprintf(stderr, "C=%d %s: MAC mismatch on message %zu\n", V::kContexts, name.c_str(), i);
      return false;
    }
  }
  const size_t warm = V::kContexts;
  const uint64_t t0 = r.done[r.done_order[warm - 1]];
  const uint64_t t1 = r.done[r.done_order.back()];
  double bytes = 0, lat = 0;
  for (size_t k = warm; k < r.done_order.size(); ++k) {
    const size_t m = r.done_order[k];
    bytes += static_cast<double>(msgs[m].data.size());
    lat += static_cast<double>(r.done[m] - r.first_beat[m]);
  }
  uint64_t idle = 0;
  for (uint64_t c = t0 + 1; c <= t1; ++c) idle += r.beat_taken[c - r.start] ? 0 : 1;
  const double n = static_cast<double>(r.done_order.size() - warm);
  row.name = name;
  row.bpc = bytes / static_cast<double>(t1 - t0);
  row.idle = static_cast<double>(idle) / n;
  row.lat_load = lat / n;
  return true;
}

template <class V>
bool Table(bool quick) {
  std::printf("\nhmac_sha256_engine Contexts=%d (%d core%s), 8-byte beats\n", V::kContexts,
              (V::kContexts + 1) / 2, V::kContexts > 2 ? "s" : "");
  std::printf("  %-10s %8s %9s %8s %9s %11s %11s\n", "message", "B/clk", "idle/msg", "lat iso",
              "lat load", "Gb/s@250", "Gb/s@300");
  const size_t fixed[] = {64, 256, 576, 1500, 9000};
  bool ok = true;
  std::mt19937_64 rng(12345);
  auto print = [](const Row& row) {
    std::printf("  %-10s %8.3f %9.1f %8.0f %9.0f %11.2f %11.2f\n", row.name.c_str(), row.bpc, row.idle,
                row.lat_iso, row.lat_load, row.bpc * 8 * 0.25, row.bpc * 8 * 0.30);
  };
  for (size_t len : fixed) {
    if (quick && len != 64 && len != 1500) continue;
    // Enough messages per context that the window covers several full rounds of contexts.
    const int per_ctx = quick ? 3 : len >= 9000 ? 4 : len >= 1500 ? 8 : 16;
    const std::vector<size_t> sizes(static_cast<size_t>(V::kContexts * (per_ctx + 1)), len);
    Row row;
    ok &= Measure<V>(std::to_string(len), sizes, row);
    print(row);
  }
  {
    const size_t n = quick ? 24 : static_cast<size_t>(std::max(96, 24 * V::kContexts));
    Row row;
    ok &= Measure<V>("IMIX", Imix(n, rng), row);
    print(row);
  }
  return ok;
}

}  // namespace
}  // namespace ipsec::hw::sha2_tb

int main(int argc, char** argv) {
  using namespace ipsec::hw::sha2_tb;
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  std::printf("HMAC-SHA-256 engine throughput (Verilator, cycle counts; every MAC checked against OpenSSL)\n"
              "IMIX = Simple IMIX 40/576/1500 bytes 7:4:1; lat = first beat accepted -> MAC valid (cycles)\n");
  bool ok = Table<C1>(quick);
  if (!quick) ok &= Table<C2>(quick);
  ok &= Table<C4>(quick);
  if (!quick) ok &= Table<C8>(quick);
  if (!ok) {
    std::fprintf(stderr, "FAILED\n");
    return 1;
  }
  return 0;
}
