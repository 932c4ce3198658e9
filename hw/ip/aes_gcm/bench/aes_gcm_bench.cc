// Throughput bench for the Verilated aes_gcm_core at Lanes 1, 2 and 4 (cycle counts from the
// simulation; nothing here is a hard-coded figure).
//
// Traffic: ESP-like packets, AAD 8 bytes (SPI || 32-bit sequence number), a new random AES-128 or
// AES-256 key every packet, alternating encrypt/decrypt, contexts and data offered every cycle,
// output always ready. Payload = the GCM text length. Sizes 64, 256, 576, 1500, 9000 bytes and
// Simple IMIX (7:4:1 of 40/576/1500-byte payloads, in a fixed shuffled order). Every output
// beat and tag is checked against OpenSSL (aes_gcm_harness.h); a mismatch fails the run.
//
// Columns:
//   bytes/clk   payload bytes per cycle in steady state: packets 4..N-1, measured between tag
//               beats on the output; pkts/clk the same for packets
//   idle/pkt    input cycles per packet without a data beat, same window
//   lat first   cycles from a packet's first input beat to its first output beat, for a packet
//               sent into an idle core (isolated; IMIX: mean over its sizes, weighted 7:4:1) and
//               averaged over the back-to-back stream (loaded)
//   lat tag     same, to its tag beat
//   Gbit/s      bytes/clk x 8 x 250 MHz and x 300 MHz
//
// Usage: aes_gcm_bench [--quick]   (--quick: fewer packets, for the ctest that keeps it building)
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "hw/ip/aes_gcm/tb/aes_gcm_harness.h"

namespace ipsec::hw::aes_gcm {
namespace {

constexpr size_t kAad = 8;
constexpr int kSkip = 4;

struct Row {
  std::string name;
  double bpc = 0, ppc = 0, idle = 0, lat_first_iso = 0, lat_tag_iso = 0, lat_first_load = 0, lat_tag_load = 0;
};

template <typename H>
bool Measure(H& h, const std::string& name, const std::vector<size_t>& sizes, Row& row) {
  auto& rng = h.rng();
  std::vector<Packet> pkts;
  for (size_t i = 0; i < sizes.size(); ++i) pkts.push_back(RandomPacket(rng, kAad, sizes[i], i & 1, false));
  const Stats st = h.Run(pkts, Options{});
  if (!st.error.empty()) {
    std::fprintf(stderr, "lanes %d %s: %s\n", H::kLanes, name.c_str(), st.error.c_str());
    return false;
  }
  const int n = static_cast<int>(pkts.size());
  const size_t bb = 16 * H::kLanes;
  double bytes = 0, beats = 0, lf = 0, lt = 0;
  for (int i = kSkip + 1; i < n; ++i) bytes += static_cast<double>(sizes[i]);
  for (int i = kSkip; i < n - 1; ++i) beats += static_cast<double>((kAad + bb - 1) / bb + (sizes[i] + bb - 1) / bb);
  for (int i = kSkip; i < n; ++i) {
    lf += static_cast<double>(st.out_first[i] - st.in_first[i]);
    lt += static_cast<double>(st.tag_cycle[i] - st.in_first[i]);
  }
  const double m = n - 1 - kSkip;
  row.name = name;
  row.bpc = bytes / static_cast<double>(st.tag_cycle[n - 1] - st.tag_cycle[kSkip]);
  row.ppc = m / static_cast<double>(st.tag_cycle[n - 1] - st.tag_cycle[kSkip]);
  row.idle = (static_cast<double>(st.in_first[n - 1] - st.in_first[kSkip]) - beats) / m;
  row.lat_first_load = lf / (n - kSkip);
  row.lat_tag_load = lt / (n - kSkip);

  // One packet at a time into the drained core, for each distinct size of the row; the isolated
  // latency is the mean weighted by how often the size occurs (IMIX: 7:4:1).
  double wf = 0, wt = 0;
  std::vector<size_t> distinct = sizes;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  for (size_t len : distinct) {
    const double w = static_cast<double>(std::count(sizes.begin(), sizes.end(), len)) / n;
    std::vector<Packet> one{RandomPacket(rng, kAad, len, false, false)};
    const Stats s1 = h.Run(one, Options{});
    if (!s1.error.empty()) {
      std::fprintf(stderr, "lanes %d %s isolated: %s\n", H::kLanes, name.c_str(), s1.error.c_str());
      return false;
    }
    wf += w * static_cast<double>(s1.out_first[0] - s1.in_first[0]);
    wt += w * static_cast<double>(s1.tag_cycle[0] - s1.in_first[0]);
  }
  row.lat_first_iso = wf;
  row.lat_tag_iso = wt;
  return true;
}

template <typename H>
bool RunLanes(bool quick) {
  H h(0xbe7c4ull + H::kLanes);
  std::vector<Row> rows;
  const std::vector<size_t> fixed = quick ? std::vector<size_t>{64, 1500} : std::vector<size_t>{64, 256, 576, 1500, 9000};
  for (size_t len : fixed) {
    const int n = quick ? 10 : (len >= 9000 ? 16 : len >= 1500 ? 32 : 64);
    Row r;
    if (!Measure(h, std::to_string(len), std::vector<size_t>(n, len), r)) return false;
    rows.push_back(r);
  }
  // Simple IMIX: 7 x 40, 4 x 576, 1 x 1500 per group of 12, shuffled with a fixed seed.
  std::vector<size_t> imix;
  for (int g = 0; g < (quick ? 2 : 12); ++g) {
    for (int i = 0; i < 7; ++i) imix.push_back(40);
    for (int i = 0; i < 4; ++i) imix.push_back(576);
    imix.push_back(1500);
  }
  std::mt19937_64 shuf(12345);
  std::shuffle(imix.begin(), imix.end(), shuf);
  Row r;
  if (!Measure(h, "IMIX 7:4:1", imix, r)) return false;
  rows.push_back(r);
  for (const Row& x : rows) {
    std::printf("| %d | %s | %.2f | %.3f | %.2f | %.1f / %.1f | %.1f / %.1f | %.1f | %.1f |\n", H::kLanes, x.name.c_str(),
                x.bpc, x.ppc, x.idle, x.lat_first_iso, x.lat_first_load, x.lat_tag_iso, x.lat_tag_load, x.bpc * 8 * 0.25,
                x.bpc * 8 * 0.30);
  }
  return true;
}

}  // namespace
}  // namespace ipsec::hw::aes_gcm

int main(int argc, char** argv) {
  using namespace ipsec::hw::aes_gcm;
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  std::printf("aes_gcm_core throughput (Verilator, cycle-accurate; AAD %zu B, new key per packet, no "
              "back-pressure)%s\n\n",
              kAad, quick ? " [quick]" : "");
  std::printf("| Lanes | Payload B | bytes/clk | pkts/clk | idle/pkt | lat first (iso / loaded) | lat tag (iso / loaded) "
              "| Gbit/s @250 | Gbit/s @300 |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  bool ok = RunLanes<HarnessL1>(quick) && RunLanes<HarnessL2>(quick) && RunLanes<HarnessL4>(quick);
  return ok ? 0 : 1;
}
