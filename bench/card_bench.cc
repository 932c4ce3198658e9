// card_bench: the whole card, ring to ring, beside the bare AES-GCM core, both measured in this run
// (docs/performance.md, "Whole card, ring to ring").
//
// Card: ipsec_card_top Verilated at the contract defaults (4 AES lanes, 4096 SAs, 8 ring pairs,
// FetchBurst 8) behind the real driver on the `sim` backend (driver/sim). Host memory at the
// backend's default PCIe-like timing (ParseSimDeviceOptions: 64 cycles of read latency, 16 of
// write-response latency, 32 bursts outstanding each way, no stalls; --sim= changes it).
// AES-GCM-128 tunnel SAs with an IPv4 outer header; inner IPv4/UDP packets of the given total
// length ("Packet B": the plaintext IP packet, the outbound input and the inbound output).
// All 8 rings (256 entries each) are kept full: packet i goes to ring i mod 8 and SA i mod n,
// rings are refilled in bursts as completions come back. The host's register writes (doorbells,
// CQ_CONS) and its polling (16 cycles stepped per empty ring) take simulated time while the card
// runs, as on a real host. Inbound packets are sealed beforehand by software outbound SAs (the
// peers) in submission order and pass the card's 1024-packet replay window. Every completion
// must be ok with the output length ESP gives (the bench fails otherwise); byte-for-byte
// equality with the software path is the system tests' job (tests/card_system).
// Steady state: cycles between the W-th and the last completion seen by the host (W = warm-up,
// a whole number of mix patterns); bytes = packet bytes of the completions in that window.
//
// Bare core: aes_gcm_core at Lanes 4 fed exactly as hw/ip/aes_gcm/bench/aes_gcm_bench.cc feeds it
// (text = the packet length, AAD 8 bytes, new key every packet, alternating encrypt/decrypt,
// input every cycle, output always ready; steady state between tag beats of packets 4..N-1;
// every output beat checked against OpenSSL).
//
// Two Verilated models in one process: each harness owns its VerilatedContext, and Verilator
// 5.006 registers and unregisters a model's scopes (VerilatedScope members of its __Syms, which
// both models have) in Verilated::threadContextp(), the thread's current context, which the newest
// VerilatedContext constructor set, not in the model's own context. A model destroyed after
// another harness has come and gone therefore unregisters from a freed context and waits forever
// on a mutex inside it (the hang of the first draft: ~Vaes_gcm_core_l4 at exit, after the last
// card's harness). So the core is measured first, in its own scope, and every model is destroyed
// with its own context current (MakeCurrent).
//
// Columns: cycles per packet and bytes per clock for the card and for the core, their ratio
// (card bytes/clk over core bytes/clk: 1.00 = the card at the core's rate), and simulated
// packets and card cycles per second of wall time on this machine in the card's measured window
// (wall-clock figures are noise on a shared machine; the cycle figures are exact).
//
// Usage: card_bench [--quick] [--sim=<sim backend options>]
//   --quick  64 and 1500 bytes, 8 SAs, 256 packets per row (all queued at once); the ctest
//            card_bench_quick runs it so the bench keeps building
//   --sim=   the `sim` backend's option string, e.g. --sim=latency=8 (read latency 8, writes 2),
//            or fst=/tmp/card,fst_first=N,fst_last=M for FST windows (PATH.outbound.fst and
//            PATH.inbound.fst: one per card)
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "Vipsec_card_top.h"
#include "driver/driver.h"
#include "driver/packet_pool.h"
#include "driver/sim/sim_device.h"
#include "hw/ip/aes_gcm/tb/aes_gcm_harness.h"
#include "tests/esp/test_packets.h"

namespace ipsec::driver {
namespace {

using SimCard = SimDevice<Vipsec_card_top>;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kQueues = 8;       // the contract's ring pairs
constexpr uint32_t kRingLog2 = 8;     // 256 descriptors per ring: 2048 packets in flight
constexpr size_t kMaxBurst = 32;      // descriptors per ring per doorbell
constexpr uint32_t kBufBytes = 2048;  // headroom 128 + 1500-byte packet grown by ESP + tailroom
constexpr size_t kCoreAad = 8;        // SPI || 32-bit sequence number
constexpr int kCoreSkip = 4;          // as aes_gcm_bench

struct Mix {
  std::string name;
  std::vector<size_t> pattern;  // packet lengths, cycled
};

// Simple IMIX exactly as aes_gcm_bench builds it: groups of 7 x 40, 4 x 576, 1 x 1500, shuffled
// with a fixed seed.
std::vector<size_t> Imix(int groups) {
  std::vector<size_t> v;
  for (int g = 0; g < groups; ++g) {
    for (int i = 0; i < 7; ++i) v.push_back(40);
    for (int i = 0; i < 4; ++i) v.push_back(576);
    v.push_back(1500);
  }
  std::mt19937_64 shuf(12345);
  std::shuffle(v.begin(), v.end(), shuf);
  return v;
}

// Makes `ctx` the thread's current Verilator context while a model is destroyed (see above).
void MakeCurrent(VerilatedContext* ctx) {
  Verilated::threadContextp(ctx);
}

// ---- The bare core ----

struct CoreFigure {
  double bpc = 0, cpp = 0;
  bool ok = false;
};

CoreFigure MeasureCore(hw::aes_gcm::HarnessL4& h, const std::vector<size_t>& sizes) {
  CoreFigure f;
  std::vector<hw::aes_gcm::Packet> pkts;
  for (size_t i = 0; i < sizes.size(); ++i) {
    pkts.push_back(hw::aes_gcm::RandomPacket(h.rng(), kCoreAad, sizes[i], (i & 1) != 0, false));
  }
  const hw::aes_gcm::Stats st = h.Run(pkts, hw::aes_gcm::Options{});
  if (!st.error.empty()) {
    std::fprintf(stderr, "bare core: %s\n", st.error.c_str());
    return f;
  }
  const size_t n = pkts.size();
  double bytes = 0;
  for (size_t i = kCoreSkip + 1; i < n; ++i) bytes += static_cast<double>(sizes[i]);
  const double cycles = static_cast<double>(st.tag_cycle[n - 1] - st.tag_cycle[kCoreSkip]);
  f.bpc = bytes / cycles;
  f.cpp = cycles / static_cast<double>(n - 1 - kCoreSkip);
  f.ok = true;
  return f;
}

// ---- The card ----

struct CardFigure {
  double bpc = 0, cpp = 0, pps_wall = 0, cps_wall = 0;
  bool ok = false;
};

sa::SaConfig BenchSa(uint32_t spi, sa::Direction dir) {
  sa::SaConfig c;
  c.spi = spi;
  c.direction = dir;
  c.suite = sa::Suite::kAesGcm128;
  c.mode = sa::Mode::kTunnel;
  c.tunnel_src = *sa::IpAddress::Parse("198.18.0.1");
  c.tunnel_dst = *sa::IpAddress::Parse("198.18.0.2");
  c.replay_window = 1024;
  return c;
}

// Output length of a completion: outbound, IPv4 outer (20) + ESP header (8) + IV (8) + text
// padded to 4 bytes with its 2-byte trailer + ICV (16); inbound, the inner packet.
size_t ExpectedOutLen(bool inbound, size_t len) {
  return inbound ? len : 20 + 8 + 8 + ((len + 2 + 3) & ~size_t{3}) + 16;
}

class CardBench {
 public:
  ~CardBench() {
    if (drv_ != nullptr) MakeCurrent(&card_->harness().context());
    pool_.reset();
    drv_.reset();
  }
  CardBench(const CardBench&) = delete;
  CardBench& operator=(const CardBench&) = delete;

  // A fresh card with `sas` SAs installed for one direction (slots 0.. outbound, SPI-derived
  // inbound) and, inbound, their software peers.
  static std::unique_ptr<CardBench> Open(bool inbound, uint32_t sas, const SimDeviceOptions& so) {
    std::unique_ptr<CardBench> b(new CardBench(inbound));
    SimDeviceOptions o1 = so;
    // One FST window per card (--sim=fst=PATH,...): PATH.outbound.fst and PATH.inbound.fst.
    if (!o1.harness.trace_path.empty()) o1.harness.trace_path += inbound ? ".inbound.fst" : ".outbound.fst";
    auto dev = std::make_unique<SimCard>(o1);
    SimCard* card = dev.get();
    DriverOptions o;
    o.queues = kQueues;
    o.ring_log2 = kRingLog2;
    o.step_cycles = 16;
    o.register_timeout = std::chrono::seconds(30);  // wall time
    auto d = Driver::Open(std::move(dev), o);
    if (!d.ok()) {
      std::fprintf(stderr, "driver open: %s\n", d.status().ToString().c_str());
      return nullptr;
    }
    b->drv_ = std::move(d).value();
    b->card_ = card;
    for (uint32_t q = 0; q < kQueues; ++q) {
      if (b->drv_->ring_size(q) != (1u << kRingLog2)) {
        std::fprintf(stderr, "ring %u has %u entries\n", q, b->drv_->ring_size(q));
        return nullptr;
      }
    }
    auto pool = PacketPool::Create(b->drv_->device(), kQueues << kRingLog2, kBufBytes);
    if (!pool.ok()) {
      std::fprintf(stderr, "packet pool: %s\n", pool.status().ToString().c_str());
      return nullptr;
    }
    b->pool_ = std::make_unique<PacketPool>(std::move(pool).value());
    const sa::Direction dir = inbound ? sa::Direction::kInbound : sa::Direction::kOutbound;
    for (uint32_t k = 0; k < sas; ++k) {
      const uint32_t spi = 0x1000 + k;
      const uint32_t slot = inbound ? b->drv_->InboundSlot(spi) : k;
      Status s = b->drv_->InstallSa(slot, BenchSa(spi, dir), esp::testing::MakeKeys(sa::Suite::kAesGcm128, k));
      if (!s.ok()) {
        std::fprintf(stderr, "install SA %u: %s\n", k, s.ToString().c_str());
        return nullptr;
      }
      b->slots_.push_back(slot);
      if (inbound) {
        auto peer = esp::EspSa::Create(BenchSa(spi, sa::Direction::kOutbound),
                                       esp::testing::MakeKeys(sa::Suite::kAesGcm128, k));
        if (!peer.ok()) {
          std::fprintf(stderr, "peer SA %u: %s\n", k, peer.status().ToString().c_str());
          return nullptr;
        }
        b->peers_.push_back(std::move(peer).value());
      }
    }
    return b;
  }

  // `warm` + `measured` packets of the pattern over the first `sas` SAs.
  CardFigure Run(const std::vector<size_t>& pattern, uint32_t sas, size_t warm, size_t measured) {
    CardFigure f;
    const size_t total = warm + measured;
    // Inputs first, so the timed loop only simulates.
    std::vector<std::vector<std::byte>> inputs(total);
    esp::testing::BufferPool seal(1, kBufBytes);
    for (size_t i = 0; i < total; ++i) {
      const size_t len = pattern[i % pattern.size()];
      std::vector<std::byte> p = esp::testing::MakePacket(
          {.v6 = false, .proto = ip::kProtoUdp, .payload_len = len - 28, .seed = static_cast<uint32_t>(seed_++)});
      if (inbound_) {
        PacketBuf* pb = seal.Load(0, p);
        sa::DropReason r = sa::DropReason::kOk;
        peers_[i % sas]->ProcessOutbound(std::span<PacketBuf* const>(&pb, 1), std::span<sa::DropReason>(&r, 1));
        if (r != sa::DropReason::kOk) {
          std::fprintf(stderr, "software peer refused packet %zu\n", i);
          return f;
        }
        p.assign(pb->data(), pb->data() + pb->length);
      }
      inputs[i] = std::move(p);
    }

    const uint32_t ring = 1u << kRingLog2;
    std::vector<uint32_t> free_bufs;
    for (uint32_t b = 0; b < kQueues * ring; ++b) free_bufs.push_back(kQueues * ring - 1 - b);
    std::vector<uint32_t> buf_of(total);
    std::array<std::vector<Packet>, kQueues> bursts;
    std::array<Completion, 64> cpl;
    sim::Harness<Vipsec_card_top>& h = card_->harness();
    size_t next = 0, done = 0;
    double bytes = 0;
    uint64_t t0 = 0, last_progress = h.cycle();
    double sim_s0 = 0;
    auto w0 = Clock::now();
    while (done < total) {
      // Refill: the same number of descriptors on every ring, packet i on ring i mod 8.
      size_t room = ring;
      for (uint32_t q = 0; q < kQueues; ++q) room = std::min<size_t>(room, ring - drv_->Outstanding(q));
      const size_t n = std::min(std::min(room, kMaxBurst) * kQueues, total - next);
      if (n > 0) {
        for (auto& b : bursts) b.clear();
        for (size_t j = 0; j < n; ++j) {
          const size_t i = next + j;
          const uint32_t buf = free_bufs.back();
          free_bufs.pop_back();
          buf_of[i] = buf;
          Packet p = pool_->Load(buf, inputs[i]);
          p.dir = inbound_ ? card::Dir::kInbound : card::Dir::kOutbound;
          p.sa_index = slots_[i % sas];
          p.user_data = i;
          bursts[i % kQueues].push_back(p);
        }
        for (uint32_t q = 0; q < kQueues; ++q) {
          if (!bursts[q].empty() && drv_->Submit(q, bursts[q]) != bursts[q].size()) {
            std::fprintf(stderr, "ring %u refused a burst\n", q);
            return f;
          }
        }
        next += n;
      }
      for (uint32_t q = 0; q < kQueues; ++q) {
        const size_t got = drv_->Poll(q, cpl);
        for (size_t k = 0; k < got; ++k) {
          const Completion& c = cpl[k];
          const size_t id = c.user_data;
          const size_t len = pattern[id % pattern.size()];
          if (!c.ok() || c.out_len != ExpectedOutLen(inbound_, len)) {
            std::fprintf(stderr, "%s packet %zu (%zu bytes, SA %zu): %s%s, out_len %u (want %zu)\n",
                         inbound_ ? "inbound" : "outbound", id, len, id % sas,
                         std::string(card::CplStatusName(c.status)).c_str(), c.aborted ? " (aborted)" : "", c.out_len,
                         ExpectedOutLen(inbound_, len));
            return f;
          }
          free_bufs.push_back(buf_of[id]);
          ++done;
          if (done == warm) {
            t0 = h.cycle();
            w0 = Clock::now();
            sim_s0 = h.speed().seconds;
          } else if (done > warm) {
            bytes += static_cast<double>(len);
          }
        }
        if (got > 0) last_progress = h.cycle();
      }
      if (h.cycle() - last_progress > 2'000'000) {
        std::fprintf(stderr, "no completion in 2M cycles (%zu of %zu done)\n", done, total);
        return f;
      }
    }
    const double cycles = static_cast<double>(h.cycle() - t0);
    const double wall = std::chrono::duration<double>(Clock::now() - w0).count();
    f.cpp = cycles / static_cast<double>(measured);
    f.bpc = bytes / cycles;
    f.pps_wall = static_cast<double>(measured) / wall;
    const double sim_s = h.speed().seconds - sim_s0;
    f.cps_wall = sim_s > 0 ? cycles / sim_s : 0;
    if (h.violation_count() != 0) {
      std::fprintf(stderr, "AXI protocol violations:\n%s", h.ViolationReport().c_str());
      return f;
    }
    f.ok = true;
    return f;
  }

 private:
  explicit CardBench(bool inbound) : inbound_(inbound) {}

  bool inbound_;
  SimCard* card_ = nullptr;  // owned by drv_
  std::unique_ptr<Driver> drv_;
  std::unique_ptr<PacketPool> pool_;  // declared after drv_: released before it
  std::vector<uint32_t> slots_;
  std::vector<std::unique_ptr<esp::EspSa>> peers_;
  uint64_t seed_ = 1;
};

// A whole number of patterns, at least `n` packets.
size_t Round(size_t n, size_t pattern) {
  return (n + pattern - 1) / pattern * pattern;
}

}  // namespace
}  // namespace ipsec::driver

int main(int argc, char** argv) {
  using namespace ipsec::driver;
  bool quick = false;
  std::string sim_args;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else if (std::strncmp(argv[i], "--sim=", 6) == 0) {
      sim_args = argv[i] + 6;
    } else {
      std::fprintf(stderr, "usage: card_bench [--quick] [--sim=<sim backend options>]\n");
      return 2;
    }
  }
  // The `sim` backend's options (driver/sim/sim_card.cc): by default host memory across PCIe,
  // 64 cycles of read latency, 16 of write-response latency, 32 bursts outstanding each way.
  auto sim_options = ParseSimDeviceOptions(sim_args);
  if (!sim_options.ok()) {
    std::fprintf(stderr, "%s\n", sim_options.status().ToString().c_str());
    return 2;
  }
  std::vector<Mix> mixes = {{"64", {64}}, {"576", {576}}, {"1500", {1500}}, {"IMIX 7:4:1", Imix(12)}};
  std::vector<uint32_t> sa_counts = {1, 8, 1024};
  if (quick) {
    mixes = {{"64", {64}}, {"1500", {1500}}};
    sa_counts = {8};
  }
  const auto wall0 = std::chrono::steady_clock::now();

  // The anchor first: the bare core on every mix, in this process and this run.
  std::vector<CoreFigure> core;
  {
    ipsec::hw::aes_gcm::HarnessL4 h(0xbe7c4ull + 4);
    for (const Mix& m : mixes) {
      std::vector<size_t> sizes;
      if (m.pattern.size() > 1) {
        sizes = m.pattern;  // IMIX: the 144-packet shuffled sequence, as aes_gcm_bench
      } else {
        const size_t n = quick ? 10 : m.pattern[0] >= 1500 ? 32 : 64;
        sizes.assign(n, m.pattern[0]);
      }
      core.push_back(MeasureCore(h, sizes));
      if (!core.back().ok) return 1;
    }
    MakeCurrent(h.dut()->contextp());
  }

  const ipsec::sim::Axi4SlaveConfig& mem = sim_options->harness.slave;
  std::printf(
      "Whole card ring to ring (ipsec_card_top, Verilator: 4 lanes, 8 rings x 256; host memory: read latency "
      "%u cycles, write response %u, %u reads / %u writes outstanding) against the bare aes_gcm_core "
      "(4 lanes), same run%s\n\n",
      mem.read_latency_cycles, mem.write_latency_cycles, mem.max_outstanding_reads, mem.max_outstanding_writes,
      quick ? " [quick]" : "");
  std::printf(
      "| Direction | Packet B | SAs | card cycles/pkt | card B/clk | core cycles/pkt | core B/clk | card / core "
      "| sim pkts/s | sim cycles/s |\n");
  std::printf("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  std::fflush(stdout);
  double worst_1500 = 2.0;
  for (bool inbound : {false, true}) {
    auto bench = CardBench::Open(inbound, sa_counts.back(), *sim_options);
    if (bench == nullptr) return 1;
    for (size_t mi = 0; mi < mixes.size(); ++mi) {
      const Mix& m = mixes[mi];
      const size_t p = m.pattern.size();
      const size_t len = m.pattern[0];
      const size_t warm = Round(quick ? 64 : 512, p);
      const size_t measured = Round(quick ? 192 : p > 1 ? 4000 : len >= 1500 ? 2048 : len >= 576 ? 3072 : 4096, p);
      for (uint32_t sas : sa_counts) {
        const CardFigure f = bench->Run(m.pattern, sas, warm, measured);
        if (!f.ok) return 1;
        const double ratio = f.bpc / core[mi].bpc;
        if (m.name == "1500") worst_1500 = std::min(worst_1500, ratio);
        std::printf("| %s | %s | %u | %.2f | %.2f | %.2f | %.2f | %.3f | %.0f | %.0f |\n",
                    inbound ? "inbound" : "outbound", m.name.c_str(), sas, f.cpp, f.bpc, core[mi].cpp, core[mi].bpc,
                    ratio, f.pps_wall, f.cps_wall);
        std::fflush(stdout);
      }
    }
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  std::printf(
      "\nTarget: the whole card within 10 %% of the bare core at 1500 B (card / core >= 0.90): worst %.3f, %s\n",
      worst_1500, worst_1500 >= 0.90 ? "met" : "NOT met");
  std::printf("Every completion ok with the expected output length; %.1f s wall in all.\n", wall);
  return 0;
}
