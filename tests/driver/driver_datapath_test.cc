// Packets through the driver and the SoftCard, compared byte for byte with the software ESP path
// (host/esp, the golden model): outbound and inbound, AES-GCM-128/256, tunnel (IPv4 and IPv6
// outer) and transport, IPv4 and IPv6 inner, with and without UDP encapsulation and ESN, many SAs
// interleaved over several small rings that wrap many times. The GCM IV is the sequence number
// (docs/esp.md, Outbound step 3), so the card's output must equal the software path's exactly
// when both use the same SA, keys and sequence numbers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "tests/driver/driver_test_util.h"

namespace ipsec::driver {
namespace {

using testing::MakeConfig;
using testing::OpenSoftCard;
using testing::SaShape;
using card::CplStatus;

constexpr uint32_t kQueues = 4;
constexpr uint32_t kRingLog2 = 5;  // 32 entries: every queue wraps many times
constexpr uint32_t kBurst = 24;    // not a divisor of the ring size, so bursts straddle the wrap

// One SA under test: its card slot, and software twins with the same configuration and keys.
struct SaUnderTest {
  SaShape shape;
  uint32_t spi = 0;
  uint32_t slot = 0;
  std::unique_ptr<esp::EspSa> ref;   // same direction as the card's SA: the expected output
  std::unique_ptr<esp::EspSa> peer;  // the other direction: source (inbound) or checker (outbound)
};

class DriverDataPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SoftCardOptions co;
    co.sa_count = 1024;
    co.ring_pairs = kQueues;
    DriverOptions o;
    o.queues = kQueues;
    o.ring_log2 = kRingLog2;
    auto t = OpenSoftCard(co, o);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    t_ = std::move(t).value();
    pool_ = std::make_unique<PacketPool>(PacketPool::Create(t_.driver->device(), 64, 2048).value());
  }
  Driver& drv() { return *t_.driver; }

  // Two SAs per shape of the matrix, installed on the card in direction `dir`.
  std::vector<SaUnderTest> InstallMatrix(sa::Direction dir) {
    std::vector<SaUnderTest> sas;
    uint32_t n = 0;
    for (const SaShape& shape : testing::AllShapes()) {
      for (int k = 0; k < 2; ++k, ++n) {
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
      }
    }
    return sas;
  }

  static std::vector<std::byte> RandomPacket(std::mt19937& rng, uint32_t seed) {
    testing::PacketSpec spec;
    spec.v6 = (rng() & 1) != 0;
    spec.proto = (rng() & 1) != 0 ? ip::kProtoUdp : ip::kProtoTcp;
    spec.payload_len = rng() % 1300;
    spec.seed = seed;
    return testing::MakePacket(spec);
  }

  testing::CardUnderTest t_;
  std::unique_ptr<PacketPool> pool_;
};

// Runs the software path on one packet: returns the status and fills `out`.
sa::DropReason Software(esp::EspSa& sa, bool outbound, const std::vector<std::byte>& in, std::vector<std::byte>* out) {
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

TEST_F(DriverDataPathTest, OutboundMatchesTheSoftwarePathByteForByteAcrossTheMatrix) {
  std::vector<SaUnderTest> sas = InstallMatrix(sa::Direction::kOutbound);
  std::mt19937 rng(42);
  constexpr size_t kPackets = 3000;
  size_t sent = 0, compared = 0;
  std::array<Packet, kBurst> burst;
  std::array<std::vector<std::byte>, kBurst> inputs;
  std::array<size_t, kBurst> which{};
  while (sent < kPackets) {
    const uint32_t q = rng() % kQueues;
    const size_t n = std::min<size_t>(1 + rng() % kBurst, kPackets - sent);
    for (size_t i = 0; i < n; ++i) {
      which[i] = rng() % sas.size();
      inputs[i] = RandomPacket(rng, static_cast<uint32_t>(sent + i));
      burst[i] = pool_->Load(static_cast<uint32_t>(i), inputs[i]);
      burst[i].dir = card::Dir::kOutbound;
      burst[i].sa_index = sas[which[i]].slot;
      burst[i].user_data = sent + i;
    }
    ASSERT_EQ(drv().Submit(q, std::span<const Packet>(burst.data(), n)), n);
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
      ASSERT_EQ(got, want) << s.shape.Name() << " packet " << sent + i;
      // And the card's ESP decapsulates in software to the original packet.
      std::vector<std::byte> back;
      ASSERT_EQ(Software(*s.peer, false, got, &back), sa::DropReason::kOk) << s.shape.Name();
      EXPECT_EQ(back, inputs[i]);
      ++compared;
    }
    sent += n;
  }
  EXPECT_EQ(compared, kPackets);
  // Card counters agree with the software path's.
  for (const SaUnderTest& s : sas) {
    auto c = drv().ReadSaCounters(s.slot);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->packets, s.ref->counters().packets);
    EXPECT_EQ(c->bytes, s.ref->counters().bytes);
    EXPECT_EQ(c->seq, s.ref->next_seq());
  }
  uint64_t doorbells = 0;
  for (uint32_t q = 0; q < kQueues; ++q) {
    EXPECT_EQ(drv().queue_stats(q).bad_completions, 0u);
    doorbells += drv().queue_stats(q).doorbells;
  }
  EXPECT_LT(doorbells, kPackets / 4);  // one doorbell per burst, not per packet
}

TEST_F(DriverDataPathTest, InboundMatchesTheSoftwarePathByteForByteAcrossTheMatrix) {
  std::vector<SaUnderTest> sas = InstallMatrix(sa::Direction::kInbound);
  std::mt19937 rng(7);
  constexpr size_t kPackets = 3000;
  size_t sent = 0;
  std::array<Packet, kBurst> burst;
  std::array<std::vector<std::byte>, kBurst> plain, esp_pkts;
  std::array<size_t, kBurst> which{};
  while (sent < kPackets) {
    const uint32_t q = rng() % kQueues;
    const size_t n = std::min<size_t>(1 + rng() % kBurst, kPackets - sent);
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
    EXPECT_EQ(c->packets, s.ref->counters().packets);
    EXPECT_EQ(c->bytes, s.ref->counters().bytes);
    EXPECT_EQ(c->seq, s.ref->replay().top());
  }
}

TEST_F(DriverDataPathTest, ReplayAndIcvFailuresAreReportedWithTheirStatus) {
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
  EXPECT_EQ(ToDropReason(done[2].status, done[2].dir), sa::DropReason::kAuthFailed);
  auto c = drv().ReadSaCounters(slot);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->packets, 2u);
  EXPECT_EQ(c->replay, 2u);
  EXPECT_EQ(c->auth_failed, 1u);
  EXPECT_EQ(c->other_drops, 0u);
  EXPECT_EQ(c->seq, 2u);
}

TEST_F(DriverDataPathTest, NonEspAndUnknownSpiAreReportedAndCountedAsUnmatched) {
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
  EXPECT_EQ(t_.card->Read32(card::reg::kCtrlUnmatchedLo).value(), 3u);
}

TEST_F(DriverDataPathTest, CardChecksDescriptorsBuffersAndDirections) {
  SoftCardOptions co;
  co.max_pkt_bytes = 1500;
  auto t = OpenSoftCard(co);
  ASSERT_TRUE(t.ok());
  Driver& d = *t->driver;
  auto pool = PacketPool::Create(d.device(), 8, 4096).value();
  SaShape shape;
  const sa::SaConfig cfg = MakeConfig(shape, 0x777, sa::Direction::kOutbound);
  ASSERT_TRUE(d.InstallSa(9, cfg, testing::MakeKeys(shape.suite, 1)).ok());
  std::array<Packet, 5> burst;
  burst[0] = pool.Load(0, testing::MakePacket({.payload_len = 1600}));  // beyond MAX_PKT_BYTES
  burst[1] = pool.Load(1, testing::MakePacket({}), /*headroom=*/8);     // no room for the headers
  burst[2] = pool.Load(2, testing::MakePacket({}));
  t->card->FailDmaForTest(pool.iova(2) + 100, 1);  // the card cannot read this buffer
  burst[3] = pool.Load(3, testing::MakePacket({}));
  burst[3].dir = card::Dir::kInbound;  // an inbound request naming the outbound SA
  burst[3].sa_valid = true;
  burst[4] = pool.Load(4, testing::MakePacket({}));
  for (size_t i = 0; i < burst.size(); ++i) {
    if (i != 3) burst[i].dir = card::Dir::kOutbound;
    burst[i].sa_index = 9;
  }
  burst[4].sa_index = 10;  // an empty slot
  ASSERT_EQ(d.Submit(0, burst), 5u);
  const auto done = testing::PollAll(d, 0, 5);
  ASSERT_EQ(done.size(), 5u);
  EXPECT_EQ(done[0].status, CplStatus::kTooBig);
  EXPECT_EQ(ToDropReason(done[0].status, done[0].dir), sa::DropReason::kMalformed);
  EXPECT_EQ(done[1].status, CplStatus::kNoRoom);
  EXPECT_EQ(done[2].status, CplStatus::kDmaReadError);
  EXPECT_EQ(ToDropReason(done[2].status, done[2].dir), std::nullopt);
  EXPECT_EQ(done[3].status, CplStatus::kBadSpi);  // the named slot's SPI is not the packet's
  EXPECT_EQ(done[4].status, CplStatus::kBadSaIndex);
  for (const Completion& c : done) EXPECT_FALSE(c.aborted);
  // A packet the descriptor cannot describe never reaches the card.
  Packet bad = pool.Load(5, testing::MakePacket({}));
  bad.buf.length = bad.buf.capacity;  // runs past the buffer
  EXPECT_EQ(d.Submit(0, std::span<const Packet>(&bad, 1)), 0u);
}

TEST_F(DriverDataPathTest, WrongDirectionIsReported) {
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

}  // namespace
}  // namespace ipsec::driver
