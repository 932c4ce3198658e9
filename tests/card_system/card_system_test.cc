// System tests of the card: the real driver (driver/driver.h) on each backend of the card's
// contract, every output compared byte for byte with the software ESP path (host/esp, the golden
// model) and every completion field with what it must say. The tests are parameterised by the
// device spec, from IPSEC_CARD_SYSTEM_DEVICES (comma separated; default "soft,sim" when the sim
// backend is built, "soft" otherwise):
//   - `sim`: the card's RTL (ipsec_card_top, Verilated at the contract's default parameters:
//     4096 SAs, 8 ring pairs, 4 AES lanes) through driver/sim, with host memory behind
//     sim::Axi4MemorySlave at PCIe-like latency ("sim:<options>" takes ParseSimDeviceOptions'
//     options instead of this file's memory model);
//   - `soft`: SoftCard, the contract in C++ over the software path ("soft:<options>" as for
//     OpenDevice, e.g. "soft:step" for a card that only moves when the driver steps it);
//   - anything else goes to OpenDevice(), and the tests that need a backend's test hook skip.
// Covered: outbound and inbound, AES-GCM-128/256, tunnel (IPv4 and IPv6 outer) and transport,
// IPv4 and IPv6 inner, with and without UDP encapsulation and ESN, many SAs interleaved over
// several small rings that wrap; replay and ICV failures; not-ESP and unknown SPIs; descriptor,
// room and size refusals; wrong direction; injected DMA read and write errors that fail only their
// own packet; sequence number overflow; an SA deleted while its packets are in flight; lifetime
// events.
//
// Where the backends differ, the test says so at the spot:
//   - an unreadable outbound packet spends a sequence number on the RTL (hw/card/doc/engine.md,
//     known limits), not on SoftCard;
//   - SoftCard has no DMA write fault (it processes in place in host memory), so the write-error
//     test skips there;
//   - SoftCard completes requests inside the doorbell write, so the delete-in-flight test runs it
//     as a stepped card ("soft:step"), where the driver steps it as it clocks the RTL.
//
// IPSEC_CARD_SYSTEM_PACKETS scales the matrix tests (default 600 per direction on sim, CI-sized,
// and 3000 on the other backends; the "thousands" on sim is IPSEC_CARD_SYSTEM_PACKETS=3000).
#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <string_view>

#include "driver/borrowed_device.h"
#include "driver/device_registry.h"
#include "driver/soft/soft_card.h"
#include "tests/driver/driver_test_util.h"
#ifdef IPSEC_HAVE_SIM_CARD
#include "Vipsec_card_top.h"
#include "driver/sim/sim_device.h"
#endif

namespace ipsec::driver {
namespace {

using card::CplStatus;
using testing::MakeConfig;
using testing::SaShape;
#ifdef IPSEC_HAVE_SIM_CARD
using SimCard = SimDevice<Vipsec_card_top>;
#endif

constexpr uint32_t kQueues = 4;
constexpr uint32_t kRingLog2 = 5;  // 32 entries: every queue wraps many times
constexpr uint32_t kBurst = 24;    // not a divisor of the ring size, so bursts straddle the wrap

#ifdef IPSEC_HAVE_SIM_CARD
constexpr const char* kDefaultDevices = "soft,sim";
#else
constexpr const char* kDefaultDevices = "soft";
#endif

std::vector<std::string> DeviceSpecs() {
  const char* env = std::getenv("IPSEC_CARD_SYSTEM_DEVICES");
  std::stringstream ss(env != nullptr && *env != '\0' ? env : kDefaultDevices);
  std::vector<std::string> specs;
  for (std::string s; std::getline(ss, s, ',');) {
    if (s.empty()) continue;
    // A backend's own options are comma separated too ("sim:latency=100,seed=7,soft:sa=1024,step"):
    // after a spec with options, an item that does not start with a backend name continues it.
    const std::string_view name = std::string_view(s).substr(0, s.find(':'));
    if (!specs.empty() && specs.back().find(':') != std::string::npos && name != "soft" && name != "sim" &&
        name != "xrt") {
      specs.back() += "," + s;
    } else {
      specs.push_back(s);
    }
  }
  return specs;
}

std::string SpecName(const ::testing::TestParamInfo<std::string>& info) {
  std::string n;
  for (char c : info.param) n += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return n;
}

std::string_view Backend(std::string_view spec) { return spec.substr(0, spec.find(':')); }
std::string_view Args(std::string_view spec) {
  const size_t colon = spec.find(':');
  return colon == std::string_view::npos ? std::string_view{} : spec.substr(colon + 1);
}

size_t PacketsPerTest(bool sim) {
  const char* e = std::getenv("IPSEC_CARD_SYSTEM_PACKETS");
  const long v = e != nullptr ? std::strtol(e, nullptr, 10) : 0;
  return v > 0 ? static_cast<size_t>(v) : (sim ? 600 : 3000);
}

struct SaUnderTest {
  SaShape shape;
  uint32_t spi = 0;
  uint32_t slot = 0;
  std::unique_ptr<esp::EspSa> ref;   // same direction as the card's SA: the expected output
  std::unique_ptr<esp::EspSa> peer;  // the other direction: source (inbound) or checker (outbound)
};

// Runs the software path on one packet: returns the status and fills `out`.
sa::DropReason Software(esp::EspSa& sa, bool outbound, const std::vector<std::byte>& in,
                        std::vector<std::byte>* out) {
  esp::testing::BufferPool bp(1, 2048);
  PacketBuf* b = bp.Load(0, in);
  sa::DropReason r = sa::DropReason::kOk;
  if (outbound) {
    sa.ProcessOutbound(std::span<PacketBuf* const>(&b, 1), std::span<sa::DropReason>(&r, 1));
  } else {
    sa.ProcessInbound(std::span<PacketBuf* const>(&b, 1), std::span<sa::DropReason>(&r, 1));
  }
  if (out != nullptr) *out = testing::Bytes(*b);
  return r;
}

class CardSystemTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { Open(GetParam()); }

  // Opens the card named by `spec` and a driver on it. The backends whose test hooks the tests
  // use are built here (keeping a pointer to them); any other spec goes through OpenDevice().
  void Open(const std::string& spec) {
    pool_.reset();
    drv_.reset();
    dev_.reset();
    soft_ = nullptr;
#ifdef IPSEC_HAVE_SIM_CARD
    sim_ = nullptr;
#endif
    std::unique_ptr<Device> dev;
    DriverOptions o;
    o.queues = kQueues;
    o.ring_log2 = kRingLog2;
    o.step_cycles = 32;
    if (Backend(spec) == "soft") {
      auto co = ParseSoftCardOptions(Args(spec));
      ASSERT_TRUE(co.ok()) << co.status().ToString();
      auto card = SoftCard::Create(*co);
      ASSERT_TRUE(card.ok()) << card.status().ToString();
      soft_ = card->get();
      dev = std::move(card).value();
#ifdef IPSEC_HAVE_SIM_CARD
    } else if (Backend(spec) == "sim") {
      SimDeviceOptions so = DefaultSim();
      if (!Args(spec).empty()) {
        auto parsed = ParseSimDeviceOptions(Args(spec));
        ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
        so = std::move(parsed).value();
      }
      auto card = std::make_unique<SimCard>(std::move(so));
      sim_ = card.get();
      dev = std::move(card);
      o.register_timeout = std::chrono::seconds(30);  // wall time; a traced model is slow
#endif
    } else {
      auto opened = OpenDevice(spec);
      ASSERT_TRUE(opened.ok()) << spec << ": " << opened.status().ToString();
      dev = std::move(opened).value();
      o.register_timeout = std::chrono::seconds(30);
    }
    // The fixture keeps the card, the driver borrows it: a test can close the driver and open
    // another on the same card.
    dev_ = std::move(dev);
    opts_ = o;
    Reopen(o);
  }
  void Reopen(const DriverOptions& o) {
    pool_.reset();
    drv_.reset();
    auto d = Driver::Open(std::make_unique<BorrowedDevice>(dev_.get()), o);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    drv_ = std::move(d).value();
    pool_ = std::make_unique<PacketPool>(PacketPool::Create(drv_->device(), 64, 2048).value());
  }
#ifdef IPSEC_HAVE_SIM_CARD
  static SimDeviceOptions DefaultSim() {
    SimDeviceOptions so;
    so.harness.slave.read_latency_cycles = 64;
    so.harness.slave.write_latency_cycles = 16;
    so.harness.slave.latency_jitter_cycles = 8;
    so.harness.slave.max_outstanding_reads = 32;
    so.harness.slave.max_outstanding_writes = 32;
    so.harness.slave.r_idle = 0.05;
    so.harness.slave.w_stall = 0.05;
    return so;
  }
#endif
  void TearDown() override {
#ifdef IPSEC_HAVE_SIM_CARD
    if (sim_ != nullptr) {
      EXPECT_EQ(sim_->harness().violation_count(), 0u) << sim_->harness().ViolationReport();
    }
#endif
    pool_.reset();
    drv_.reset();
    dev_.reset();
  }
  Driver& drv() { return *drv_; }
  bool on_sim() const {
#ifdef IPSEC_HAVE_SIM_CARD
    return sim_ != nullptr;
#else
    return false;
#endif
  }

  std::vector<SaUnderTest> InstallMatrix(sa::Direction dir) {
    std::vector<SaUnderTest> sas;
    uint32_t n = 0;
    for (const SaShape& shape : testing::AllShapes()) {
      SaUnderTest s;
      s.shape = shape;
      s.spi = 0x20000 + n * 37;
      s.slot = dir == sa::Direction::kInbound ? drv().InboundSlot(s.spi) : 100 + n;
      const sa::SaConfig cfg = MakeConfig(shape, s.spi, dir);
      const sa::Direction other = dir == sa::Direction::kInbound ? sa::Direction::kOutbound : sa::Direction::kInbound;
      EXPECT_TRUE(drv().InstallSa(s.slot, cfg, testing::MakeKeys(shape.suite, 1000 + n)).ok()) << shape.Name();
      s.ref = esp::EspSa::Create(cfg, testing::MakeKeys(shape.suite, 1000 + n)).value();
      s.peer = esp::EspSa::Create(MakeConfig(shape, s.spi, other), testing::MakeKeys(shape.suite, 1000 + n)).value();
      sas.push_back(std::move(s));
      ++n;
    }
    return sas;
  }

  static std::vector<std::byte> RandomPacket(std::mt19937& rng, uint32_t seed) {
    testing::PacketSpec spec;
    spec.v6 = (rng() & 1) != 0;
    spec.proto = (rng() & 1) != 0 ? ip::kProtoUdp : ip::kProtoTcp;
    spec.payload_len = rng() % 1400;
    spec.tos = static_cast<uint8_t>(rng());
    spec.df = (rng() & 1) != 0;
    spec.seed = seed;
    return testing::MakePacket(spec);
  }

  // Polls the event ring until `want` events have arrived (stepping a simulated card).
  size_t WaitEvents(std::span<card::Event> ev, size_t want) {
    size_t n = 0;
    for (int i = 0; i < 100 && n < want; ++i) {
      drv().device().Step(64);
      n += drv().PollEvents(ev.subspan(n));
    }
    return n;
  }

  SoftCard* soft_ = nullptr;  // when the backend is `soft`: its test hooks
#ifdef IPSEC_HAVE_SIM_CARD
  SimCard* sim_ = nullptr;    // when the backend is `sim`: its harness (memory model, violations)
#endif
  std::unique_ptr<Device> dev_;  // the card; drv_ borrows it
  DriverOptions opts_;
  std::unique_ptr<Driver> drv_;
  std::unique_ptr<PacketPool> pool_;
};

TEST_P(CardSystemTest, OutboundMatchesTheSoftwarePathByteForByteAcrossTheMatrix) {
  std::vector<SaUnderTest> sas = InstallMatrix(sa::Direction::kOutbound);
  std::mt19937 rng(42);
  const size_t total = PacketsPerTest(on_sim());
  size_t sent = 0;
  uint64_t bursts = 0;
  std::array<Packet, kBurst> burst;
  std::array<std::vector<std::byte>, kBurst> inputs;
  std::array<size_t, kBurst> which{};
  while (sent < total) {
    const uint32_t q = rng() % kQueues;
    const size_t n = std::min<size_t>(1 + rng() % kBurst, total - sent);
    for (size_t i = 0; i < n; ++i) {
      which[i] = rng() % sas.size();
      inputs[i] = RandomPacket(rng, static_cast<uint32_t>(sent + i));
      burst[i] = pool_->Load(static_cast<uint32_t>(i), inputs[i]);
      burst[i].dir = card::Dir::kOutbound;
      burst[i].sa_index = sas[which[i]].slot;
      burst[i].user_data = sent + i;
    }
    ASSERT_EQ(drv().Submit(q, std::span<const Packet>(burst.data(), n)), n);
    ++bursts;
    const std::vector<Completion> done = testing::PollAll(drv(), q, n);
    ASSERT_EQ(done.size(), n);
    for (size_t i = 0; i < n; ++i) {
      SaUnderTest& s = sas[which[i]];
      const Completion& c = done[i];
      ASSERT_EQ(c.user_data, sent + i);
      const uint64_t want_seq = s.ref->next_seq();
      std::vector<std::byte> want;
      ASSERT_EQ(Software(*s.ref, true, inputs[i], &want), sa::DropReason::kOk);
      ASSERT_TRUE(c.ok()) << s.shape.Name() << ": " << card::CplStatusName(c.status);
      EXPECT_EQ(c.seq, want_seq);
      EXPECT_EQ(c.spi, s.spi);
      EXPECT_EQ(c.sa_index, s.slot);
      const std::vector<std::byte> got = testing::Output(burst[i], c);
      ASSERT_EQ(got, want) << s.shape.Name() << " packet " << sent + i << " (" << inputs[i].size() << " bytes)";
      std::vector<std::byte> back;
      ASSERT_EQ(Software(*s.peer, false, got, &back), sa::DropReason::kOk) << s.shape.Name();
      EXPECT_EQ(back, inputs[i]);
    }
    sent += n;
  }
  for (const SaUnderTest& s : sas) {
    auto c = drv().ReadSaCounters(s.slot);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->packets, s.ref->counters().packets) << s.shape.Name();
    EXPECT_EQ(c->bytes, s.ref->counters().bytes) << s.shape.Name();
    EXPECT_EQ(c->seq, s.ref->next_seq()) << s.shape.Name();
  }
  uint64_t doorbells = 0;
  for (uint32_t q = 0; q < kQueues; ++q) {
    EXPECT_EQ(drv().queue_stats(q).bad_completions, 0u);
    doorbells += drv().queue_stats(q).doorbells;
  }
  EXPECT_EQ(doorbells, bursts);  // one doorbell per burst, not per packet
#ifdef IPSEC_HAVE_SIM_CARD
  if (sim_ != nullptr) {
    std::printf("[ card ] %zu outbound packets, %.0f simulated cycles/s\n", total,
                sim_->harness().speed().cycles_per_second());
  }
#endif
}

TEST_P(CardSystemTest, InboundMatchesTheSoftwarePathByteForByteAcrossTheMatrix) {
  std::vector<SaUnderTest> sas = InstallMatrix(sa::Direction::kInbound);
  std::mt19937 rng(7);
  const size_t total = PacketsPerTest(on_sim());
  size_t sent = 0;
  std::array<Packet, kBurst> burst;
  std::array<std::vector<std::byte>, kBurst> plain, esp_pkts;
  std::array<size_t, kBurst> which{};
  while (sent < total) {
    const uint32_t q = rng() % kQueues;
    const size_t n = std::min<size_t>(1 + rng() % kBurst, total - sent);
    for (size_t i = 0; i < n; ++i) {
      which[i] = rng() % sas.size();
      plain[i] = RandomPacket(rng, static_cast<uint32_t>(sent + i));
      ASSERT_EQ(Software(*sas[which[i]].peer, true, plain[i], &esp_pkts[i]), sa::DropReason::kOk);
      burst[i] = pool_->Load(static_cast<uint32_t>(i), esp_pkts[i]);
      burst[i].dir = card::Dir::kInbound;
      burst[i].user_data = sent + i;
    }
    ASSERT_EQ(drv().Submit(q, std::span<const Packet>(burst.data(), n)), n);
    const std::vector<Completion> done = testing::PollAll(drv(), q, n);
    ASSERT_EQ(done.size(), n);
    for (size_t i = 0; i < n; ++i) {
      SaUnderTest& s = sas[which[i]];
      const Completion& c = done[i];
      std::vector<std::byte> want;
      ASSERT_EQ(Software(*s.ref, false, esp_pkts[i], &want), sa::DropReason::kOk);
      ASSERT_TRUE(c.ok()) << s.shape.Name() << ": " << card::CplStatusName(c.status);
      EXPECT_EQ(c.sa_index, s.slot);
      EXPECT_EQ(c.spi, s.spi);
      EXPECT_EQ(c.seq, s.ref->replay().top());  // in order: the newest is the highest
      const bool inner_v6 = (std::to_integer<uint8_t>(plain[i][0]) >> 4) == 6;
      const uint8_t inner_proto = inner_v6 ? std::to_integer<uint8_t>(plain[i][6]) : std::to_integer<uint8_t>(plain[i][9]);
      EXPECT_EQ(c.next_header, s.shape.mode == sa::Mode::kTunnel ? (inner_v6 ? 41 : 4) : inner_proto);
      const std::vector<std::byte> got = testing::Output(burst[i], c);
      ASSERT_EQ(got, want) << s.shape.Name() << " packet " << sent + i;
      EXPECT_EQ(got, plain[i]);
    }
    sent += n;
  }
  for (const SaUnderTest& s : sas) {
    auto c = drv().ReadSaCounters(s.slot);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->packets, s.ref->counters().packets) << s.shape.Name();
    EXPECT_EQ(c->bytes, s.ref->counters().bytes) << s.shape.Name();
    EXPECT_EQ(c->seq, s.ref->replay().top()) << s.shape.Name();
  }
}

TEST_P(CardSystemTest, ReplayAndIcvFailuresAreReportedWithTheirStatus) {
  SaShape shape;
  shape.udp = true;
  const uint32_t spi = 0x3456;
  const uint32_t slot = drv().InboundSlot(spi);
  ASSERT_TRUE(drv().InstallSa(slot, MakeConfig(shape, spi, sa::Direction::kInbound), testing::MakeKeys(shape.suite, 5)).ok());
  auto peer = esp::EspSa::Create(MakeConfig(shape, spi, sa::Direction::kOutbound), testing::MakeKeys(shape.suite, 5)).value();
  std::vector<std::byte> e1, e2;
  ASSERT_EQ(Software(*peer, true, testing::MakePacket({.seed = 1}), &e1), sa::DropReason::kOk);
  ASSERT_EQ(Software(*peer, true, testing::MakePacket({.seed = 2}), &e2), sa::DropReason::kOk);
  std::vector<std::byte> forged = e2;
  forged[forged.size() - 20] ^= std::byte{0x01};  // a ciphertext bit
  const std::vector<std::vector<std::byte>> in = {e1, e1, forged, e2, e2};
  std::array<Packet, 5> burst;
  for (uint32_t i = 0; i < 5; ++i) {
    burst[i] = pool_->Load(i, in[i]);
    burst[i].dir = card::Dir::kInbound;
  }
  ASSERT_EQ(drv().Submit(1, burst), 5u);
  const auto done = testing::PollAll(drv(), 1, 5);
  ASSERT_EQ(done.size(), 5u);
  EXPECT_EQ(done[0].status, CplStatus::kOk);
  EXPECT_EQ(done[1].status, CplStatus::kReplay);
  EXPECT_EQ(done[2].status, CplStatus::kAuthFailed);
  EXPECT_EQ(done[3].status, CplStatus::kOk);  // the forgery did not move the window
  EXPECT_EQ(done[4].status, CplStatus::kReplay);
  EXPECT_EQ(ToDropReason(done[1].status, done[1].dir), sa::DropReason::kReplay);
  EXPECT_EQ(ToDropReason(done[2].status, done[2].dir), sa::DropReason::kAuthFailed);
  auto c = drv().ReadSaCounters(slot);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->packets, 2u);
  EXPECT_EQ(c->replay, 2u);
  EXPECT_EQ(c->auth_failed, 1u);
  EXPECT_EQ(c->other_drops, 0u);
  EXPECT_EQ(c->seq, 2u);
}

TEST_P(CardSystemTest, NonEspAndUnknownSpiAreReportedAndCountedAsUnmatched) {
  std::array<Packet, 3> burst;
  burst[0] = pool_->Load(0, testing::MakePacket({}));  // plain UDP to port 6000: not ESP
  std::vector<std::byte> esp_unknown;
  SaShape shape;
  auto peer = esp::EspSa::Create(MakeConfig(shape, 0x9999, sa::Direction::kOutbound), testing::MakeKeys(shape.suite, 1)).value();
  ASSERT_EQ(Software(*peer, true, testing::MakePacket({}), &esp_unknown), sa::DropReason::kOk);
  burst[1] = pool_->Load(1, esp_unknown);
  burst[2] = pool_->Load(2, std::vector<std::byte>(10, std::byte{0x45}));  // truncated IPv4
  for (Packet& p : burst) p.dir = card::Dir::kInbound;
  ASSERT_EQ(drv().Submit(0, burst), 3u);
  const auto done = testing::PollAll(drv(), 0, 3);
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(done[0].status, CplStatus::kNotEsp);
  EXPECT_EQ(done[1].status, CplStatus::kBadSpi);
  EXPECT_EQ(done[1].spi, 0x9999u);
  EXPECT_EQ(done[2].status, CplStatus::kMalformed);
  EXPECT_EQ(drv().device().Read32(card::reg::kCtrlUnmatchedLo).value(), 3u);
}

TEST_P(CardSystemTest, CardChecksDescriptorsRoomAndDirections) {
  SaShape shape;
  ASSERT_TRUE(drv().InstallSa(9, MakeConfig(shape, 0x777, sa::Direction::kOutbound), testing::MakeKeys(shape.suite, 1)).ok());
  auto pool = PacketPool::Create(drv().device(), 8, 16384).value();
  std::array<Packet, 4> burst;
  burst[0] = pool.Load(0, testing::MakePacket({.payload_len = 9300}));  // beyond MAX_PKT_BYTES
  burst[1] = pool.Load(1, testing::MakePacket({}), /*headroom=*/8);     // no room for the headers
  burst[2] = pool.Load(2, testing::MakePacket({}));
  burst[2].dir = card::Dir::kInbound;  // an inbound request naming the outbound SA
  burst[2].sa_valid = true;
  burst[3] = pool.Load(3, testing::MakePacket({}));
  for (size_t i = 0; i < burst.size(); ++i) {
    if (i != 2) burst[i].dir = card::Dir::kOutbound;
    burst[i].sa_index = 9;
  }
  burst[3].sa_index = 10;  // an empty slot
  const std::vector<std::byte> before = testing::Bytes(burst[1].buf);
  ASSERT_EQ(drv().Submit(0, burst), burst.size());
  const auto done = testing::PollAll(drv(), 0, burst.size());
  ASSERT_EQ(done.size(), burst.size());
  EXPECT_EQ(done[0].status, CplStatus::kTooBig);
  EXPECT_EQ(ToDropReason(done[0].status, done[0].dir), sa::DropReason::kMalformed);
  EXPECT_EQ(done[1].status, CplStatus::kNoRoom);
  EXPECT_EQ(testing::Bytes(burst[1].buf), before) << "no_room must leave the buffer untouched";
  EXPECT_EQ(done[2].status, CplStatus::kBadSpi);  // the named slot's SPI is not the packet's
  EXPECT_EQ(done[3].status, CplStatus::kBadSaIndex);
  EXPECT_EQ(ToDropReason(done[3].status, done[3].dir), sa::DropReason::kMalformed);
  for (const Completion& c : done) EXPECT_FALSE(c.aborted);
}

TEST_P(CardSystemTest, WrongDirectionIsReported) {
  SaShape shape;
  const uint32_t spi = 0x4001;
  const uint32_t slot = drv().InboundSlot(spi);
  // An outbound SA sitting in the slot an inbound SPI names.
  ASSERT_TRUE(drv().InstallSa(slot, MakeConfig(shape, spi, sa::Direction::kOutbound), testing::MakeKeys(shape.suite, 1)).ok());
  auto peer = esp::EspSa::Create(MakeConfig(shape, spi, sa::Direction::kOutbound), testing::MakeKeys(shape.suite, 1)).value();
  std::vector<std::byte> e;
  ASSERT_EQ(Software(*peer, true, testing::MakePacket({}), &e), sa::DropReason::kOk);
  Packet p = pool_->Load(0, e);
  p.dir = card::Dir::kInbound;
  ASSERT_EQ(drv().Submit(0, std::span<const Packet>(&p, 1)), 1u);
  const auto done = testing::PollAll(drv(), 0, 1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].status, CplStatus::kWrongDirection);
  EXPECT_EQ(drv().ReadSaCounters(slot)->other_drops, 1u);
}

// Six outbound packets of one SA in one burst; packet 1's buffer cannot be read.
TEST_P(CardSystemTest, InjectedDmaReadErrorFailsOnlyItsOwnPacket) {
  SaShape shape;
  ASSERT_TRUE(drv().InstallSa(9, MakeConfig(shape, 0x777, sa::Direction::kOutbound), testing::MakeKeys(shape.suite, 1)).ok());
  auto ref = esp::EspSa::Create(MakeConfig(shape, 0x777, sa::Direction::kOutbound), testing::MakeKeys(shape.suite, 1)).value();
  std::array<Packet, 6> burst;
  std::array<std::vector<std::byte>, 6> in;
  for (uint32_t i = 0; i < burst.size(); ++i) {
    in[i] = testing::MakePacket({.payload_len = 200 + 100 * i, .seed = i});
    burst[i] = pool_->Load(i, in[i]);
    burst[i].dir = card::Dir::kOutbound;
    burst[i].sa_index = 9;
  }
  // Each backend's fault hook: the RTL's host memory model answers reads of the buffer with
  // SLVERR; SoftCard's DMA translation refuses the buffer.
  bool spends_seq = false;
  if (soft_ != nullptr) {
    // SoftCard fails the request when it maps the buffer, before the packet reaches EspSa: no
    // number is spent.
    soft_->FailDmaForTest(pool_->iova(1), 2048);
  }
#ifdef IPSEC_HAVE_SIM_CARD
  if (sim_ != nullptr) {
    sim::ErrorRule rd;
    rd.dir = sim::AxiDir::kRead;
    rd.lo = pool_->iova(1);
    rd.hi = pool_->iova(1) + 2048;
    rd.times = 0;
    sim_->harness().slave().AddErrorRule(rd);
    // The RTL allocates the number while it reads the packet, so the unreadable packet spends one
    // (a gap, which RFC 4303 allows; numbers are never reused): hw/card/doc/engine.md.
    spends_seq = true;
  }
#endif
  if (soft_ == nullptr && !on_sim()) {
    GTEST_SKIP() << GetParam() << ": no DMA fault hook on this backend";
  }
  ASSERT_EQ(drv().Submit(2, burst), burst.size());
  const auto done = testing::PollAll(drv(), 2, burst.size());
  ASSERT_EQ(done.size(), burst.size());
  for (uint32_t i = 0; i < burst.size(); ++i) {
    EXPECT_FALSE(done[i].aborted) << i;
    if (i == 1) {
      EXPECT_EQ(done[i].status, CplStatus::kDmaReadError);
      EXPECT_EQ(ToDropReason(done[i].status, done[i].dir), std::nullopt);  // a device error
      if (spends_seq) {
        ASSERT_TRUE(ref->RestoreState(ref->next_seq() + 1, 0).ok());
      }
      continue;
    }
    const uint64_t want_seq = ref->next_seq();
    std::vector<std::byte> want;
    ASSERT_EQ(Software(*ref, true, in[i], &want), sa::DropReason::kOk);
    ASSERT_TRUE(done[i].ok()) << i << ": " << card::CplStatusName(done[i].status);
    EXPECT_EQ(done[i].seq, want_seq) << i;
    EXPECT_EQ(testing::Output(burst[i], done[i]), want) << i;
  }
  EXPECT_TRUE(drv().queue_status(2).ok());
  auto c = drv().ReadSaCounters(9);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->packets, 5u);
  EXPECT_EQ(c->seq, ref->next_seq());
}

// Six outbound packets of one SA in one burst; packet 1's buffer cannot be read and packet 4's
// cannot be written.
TEST_P(CardSystemTest, InjectedDmaWriteErrorFailsOnlyItsOwnPacket) {
#ifdef IPSEC_HAVE_SIM_CARD
  if (sim_ == nullptr)
#endif
  {
    GTEST_SKIP() << GetParam() << ": no DMA write fault hook on this backend (SoftCard processes packets in place "
                 << "in host memory; FailDmaForTest fails the whole buffer when the card maps it, which is the read "
                 << "error of InjectedDmaReadErrorFailsOnlyItsOwnPacket)";
  }
#ifdef IPSEC_HAVE_SIM_CARD
  SaShape shape;
  ASSERT_TRUE(drv().InstallSa(9, MakeConfig(shape, 0x777, sa::Direction::kOutbound), testing::MakeKeys(shape.suite, 1)).ok());
  auto ref = esp::EspSa::Create(MakeConfig(shape, 0x777, sa::Direction::kOutbound), testing::MakeKeys(shape.suite, 1)).value();
  std::array<Packet, 6> burst;
  std::array<std::vector<std::byte>, 6> in;
  for (uint32_t i = 0; i < burst.size(); ++i) {
    in[i] = testing::MakePacket({.payload_len = 200 + 100 * i, .seed = i});
    burst[i] = pool_->Load(i, in[i]);
    burst[i].dir = card::Dir::kOutbound;
    burst[i].sa_index = 9;
  }
  sim::ErrorRule rd;
  rd.dir = sim::AxiDir::kRead;
  rd.lo = pool_->iova(1);
  rd.hi = pool_->iova(1) + 2048;
  rd.times = 0;
  sim_->harness().slave().AddErrorRule(rd);
  sim::ErrorRule wr;
  wr.dir = sim::AxiDir::kWrite;
  wr.lo = pool_->iova(4);
  wr.hi = pool_->iova(4) + 2048;
  wr.times = 0;
  sim_->harness().slave().AddErrorRule(wr);
  ASSERT_EQ(drv().Submit(2, burst), burst.size());
  const auto done = testing::PollAll(drv(), 2, burst.size());
  ASSERT_EQ(done.size(), burst.size());
  for (uint32_t i = 0; i < burst.size(); ++i) {
    EXPECT_FALSE(done[i].aborted) << i;
    if (i == 1) {
      EXPECT_EQ(done[i].status, CplStatus::kDmaReadError);
      // The unreadable packet spent its number (see InjectedDmaReadErrorFailsOnlyItsOwnPacket).
      ASSERT_TRUE(ref->RestoreState(ref->next_seq() + 1, 0).ok());
      continue;
    }
    // Every other packet consumed its sequence number in order, including the failed write.
    std::vector<std::byte> want;
    ASSERT_EQ(Software(*ref, true, in[i], &want), sa::DropReason::kOk);
    if (i == 4) {
      EXPECT_EQ(done[i].status, CplStatus::kDmaWriteError);
      EXPECT_EQ(ToDropReason(done[i].status, done[i].dir), std::nullopt);  // a device error
      continue;
    }
    ASSERT_TRUE(done[i].ok()) << i << ": " << card::CplStatusName(done[i].status);
    EXPECT_EQ(testing::Output(burst[i], done[i]), want) << i;
  }
  EXPECT_TRUE(drv().queue_status(2).ok());
#endif
}

TEST_P(CardSystemTest, SequenceOverflowStopsTheSaWithOneEvent) {
  SaShape shape;
  sa::SaConfig cfg = MakeConfig(shape, 0x4444, sa::Direction::kOutbound);
  cfg.initial_seq = 0xfffffffeull;
  ASSERT_TRUE(drv().InstallSa(6, cfg, testing::MakeKeys(cfg.suite, 3)).ok());
  std::array<Packet, 4> burst;
  for (uint32_t i = 0; i < 4; ++i) {
    burst[i] = pool_->Load(i, testing::MakePacket({.payload_len = 100}));
    burst[i].dir = card::Dir::kOutbound;
    burst[i].sa_index = 6;
  }
  ASSERT_EQ(drv().Submit(0, burst), 4u);
  const auto done = testing::PollAll(drv(), 0, 4);
  ASSERT_EQ(done.size(), 4u);
  EXPECT_TRUE(done[0].ok());
  EXPECT_EQ(done[0].seq, 0xfffffffeull);
  EXPECT_TRUE(done[1].ok());
  EXPECT_EQ(done[1].seq, 0xffffffffull);
  EXPECT_EQ(done[2].status, CplStatus::kSeqOverflow);
  EXPECT_EQ(done[3].status, CplStatus::kSeqOverflow);
  std::array<card::Event, 8> ev;
  ASSERT_EQ(WaitEvents(ev, 1), 1u);
  EXPECT_EQ(ev[0].kind, card::EventType::kSeqOverflow);
  EXPECT_EQ(ev[0].sa_index, 6u);
  EXPECT_EQ(ev[0].dir, card::Dir::kOutbound);
  EXPECT_EQ(ev[0].info, 0xffffffffull);
  EXPECT_EQ(WaitEvents(ev, 1), 0u) << "one event, not one per refused packet";
  auto c = drv().ReadSaCounters(6);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->seq_exhausted);
  EXPECT_EQ(c->packets, 2u);
}

TEST_P(CardSystemTest, SaDeletedWhilePacketsAreInFlight) {
  // SoftCard processes inside the doorbell write unless it is a stepped card ("soft:step"): then
  // the driver steps it, as it clocks the RTL, and requests can be in flight across the delete.
  const bool soft_stepped = soft_ != nullptr;
  if (soft_ != nullptr && !soft_->simulated()) {
    Open(Args(GetParam()).empty() ? "soft:step" : GetParam() + ",step");
    ASSERT_TRUE(soft_ != nullptr && soft_->simulated());
  }
  SaShape shape;
  ASSERT_TRUE(drv().InstallSa(12, MakeConfig(shape, 0x1212, sa::Direction::kOutbound), testing::MakeKeys(shape.suite, 4)).ok());
  std::array<Packet, 16> burst;
  for (uint32_t i = 0; i < burst.size(); ++i) {
    burst[i] = pool_->Load(i, testing::MakePacket({.payload_len = 1000, .seed = i}));
    burst[i].dir = card::Dir::kOutbound;
    burst[i].sa_index = 12;
  }
  ASSERT_EQ(drv().Submit(0, burst), burst.size());
  if (soft_stepped) soft_->Step(4);  // the card has done four of them
  ASSERT_TRUE(drv().DeleteSa(12).ok());  // on sim the register sequence runs while the card works
  const auto done = testing::PollAll(drv(), 0, burst.size());
  ASSERT_EQ(done.size(), burst.size());
  // A prefix completed with the SA, the rest found the slot empty; nothing is lost or aborted.
  size_t i = 0;
  while (i < done.size() && done[i].ok()) ++i;
  for (size_t k = i; k < done.size(); ++k) {
    EXPECT_EQ(done[k].status, CplStatus::kBadSaIndex) << k;
  }
  if (soft_stepped) {
    EXPECT_EQ(i, 4u);
  }
  for (const Completion& c : done) EXPECT_FALSE(c.aborted);
  EXPECT_FALSE(drv().ReadSaCounters(12)->valid);
}

TEST_P(CardSystemTest, StrayHostResponsesRaiseFatalAndAResetRecovers) {
#ifdef IPSEC_HAVE_SIM_CARD
  if (sim_ == nullptr) GTEST_SKIP() << "needs the Verilated card's host-memory model";
  // A response on m_axi_gmem that nothing was waiting for (a broken interconnect or host) is
  // drained where it lands, and the card raises CTRL_STATUS.FATAL: the driver's health check
  // fails every queue; a new driver (soft reset) brings the card back. The top's AXI IDs are
  // {master index, 1 bit}: 0 the queue engine, 1 and 2 the outbound and inbound ESP engines,
  // 3 no master (the muxes drain it).
  struct Case {
    sim::AxiDir dir;
    uint32_t id;
    const char* name;
  };
  for (const Case& c : {Case{sim::AxiDir::kRead, 0u << 1, "R to the queue engine"},
                        Case{sim::AxiDir::kWrite, 0u << 1, "B to the queue engine"},
                        Case{sim::AxiDir::kRead, 1u << 1, "R to the outbound engine"},
                        Case{sim::AxiDir::kWrite, 2u << 1, "B to the inbound engine"},
                        Case{sim::AxiDir::kWrite, 3u << 1, "B to no master"},
                        Case{sim::AxiDir::kRead, 3u << 1, "R to no master"}}) {
    SCOPED_TRACE(c.name);
    Reopen(opts_);
    ASSERT_TRUE(drv().CheckHealth().ok());
    sim_->harness().slave().InjectStrayResponse(c.dir, c.id);
    dev_->Step(400);
    EXPECT_TRUE(sim_->harness().slave().Idle()) << "the stray response was not taken";
    EXPECT_EQ(card::field::kCtrlStatusFatal.Get(*dev_->Read32(card::reg::kCtrlStatus)), 1u);
    EXPECT_EQ(drv().CheckHealth().code(), StatusCode::kInternal);
  }
  // A soft reset clears FATAL; the card works as before.
  Reopen(opts_);
  ASSERT_TRUE(drv().CheckHealth().ok());
  SaShape shape;
  const sa::SaConfig cfg = MakeConfig(shape, 0x5a5a, sa::Direction::kOutbound);
  ASSERT_TRUE(drv().InstallSa(4, cfg, testing::MakeKeys(shape.suite, 2)).ok());
  auto ref = esp::EspSa::Create(cfg, testing::MakeKeys(shape.suite, 2)).value();
  const auto in = testing::MakePacket({.payload_len = 600, .seed = 77});
  Packet p = pool_->Load(0, in);
  p.dir = card::Dir::kOutbound;
  p.sa_index = 4;
  ASSERT_EQ(drv().Submit(0, std::span<const Packet>(&p, 1)), 1u);
  const auto done = testing::PollAll(drv(), 0, 1);
  ASSERT_EQ(done.size(), 1u);
  ASSERT_TRUE(done[0].ok()) << card::CplStatusName(done[0].status);
  std::vector<std::byte> want;
  ASSERT_EQ(Software(*ref, true, in, &want), sa::DropReason::kOk);
  EXPECT_EQ(testing::Output(pool_->Get(0), done[0]), want);
#else
  GTEST_SKIP() << "built without the Verilated card";
#endif
}

TEST_P(CardSystemTest, ClosingTheDriverWipesEverySa) {
  // Keys must not outlive the process that installed them: closing the driver soft-resets the
  // card, which wipes every slot. The next driver opens without a reset of its own and finds
  // the table empty; with reset_on_close off it finds the SAs.
  SaShape shape;
  const sa::SaConfig in = MakeConfig(shape, 0x7171, sa::Direction::kInbound);
  for (bool reset_on_close : {true, false}) {
    SCOPED_TRACE(reset_on_close ? "reset_on_close" : "kept");
    DriverOptions o = opts_;
    o.reset_on_close = reset_on_close;
    Reopen(o);
    ASSERT_TRUE(drv().InstallSa(9, MakeConfig(shape, 0x0909, sa::Direction::kOutbound), testing::MakeKeys(shape.suite, 5)).ok());
    ASSERT_TRUE(drv().InstallSa(drv().InboundSlot(0x7171), in, testing::MakeKeys(shape.suite, 6)).ok());
    o.soft_reset = false;
    Reopen(o);  // closes the driver that installed them
    const bool out_there = drv().ReadSaParams(9).ok();
    const bool in_there = drv().ReadSaParams(drv().InboundSlot(0x7171)).ok();
    EXPECT_EQ(drv().ReadSaCounters(9)->valid, !reset_on_close);
    EXPECT_EQ(out_there, !reset_on_close);
    EXPECT_EQ(in_there, !reset_on_close);
  }
}

TEST_P(CardSystemTest, LifetimesRaiseSoftThenHardEvents) {
  SaShape shape;
  sa::SaConfig cfg = MakeConfig(shape, 0x5555, sa::Direction::kOutbound);
  cfg.lifetime = sa::Lifetime{.soft_packets = 3, .hard_packets = 5};
  ASSERT_TRUE(drv().InstallSa(8, cfg, testing::MakeKeys(cfg.suite, 8)).ok());
  // One at a time, so the hard limit is exact (in flight, a few packets may pass it on the RTL;
  // see hw/card/doc/engine.md).
  size_t ok = 0;
  uint64_t bytes = 0;
  for (uint32_t i = 0; i < 7; ++i) {
    const std::vector<std::byte> pkt = testing::MakePacket({.payload_len = 100});
    Packet p = pool_->Load(i, pkt);
    p.dir = card::Dir::kOutbound;
    p.sa_index = 8;
    ASSERT_EQ(drv().Submit(0, std::span<const Packet>(&p, 1)), 1u);
    const auto done = testing::PollAll(drv(), 0, 1);
    ASSERT_EQ(done.size(), 1u);
    if (done[0].ok()) {
      ++ok;
      bytes += pkt.size();
    }
    if (i >= 5) {
      EXPECT_EQ(done[0].status, CplStatus::kHardLifetime);
      EXPECT_EQ(ToDropReason(done[0].status, done[0].dir), sa::DropReason::kHardLifetime);
    }
  }
  EXPECT_EQ(ok, 5u);
  std::array<card::Event, 8> ev;
  ASSERT_EQ(WaitEvents(ev, 2), 2u);
  EXPECT_EQ(ev[0].kind, card::EventType::kSoftLifetime);
  EXPECT_EQ(ev[0].sa_index, 8u);
  EXPECT_EQ(ev[1].kind, card::EventType::kHardLifetime);
  EXPECT_EQ(ev[1].sa_index, 8u);
  EXPECT_EQ(ev[1].info, bytes);  // INFO = the SA's bytes so far
  auto c = drv().ReadSaCounters(8);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->soft_expired);
  EXPECT_TRUE(c->hard_expired);
  EXPECT_EQ(c->packets, 5u);
  EXPECT_EQ(c->bytes, bytes);
}

INSTANTIATE_TEST_SUITE_P(Devices, CardSystemTest, ::testing::ValuesIn(DeviceSpecs()), SpecName);

}  // namespace
}  // namespace ipsec::driver
