// Rings, events and failures: wrap with phase flips and no register reads on the fast path,
// completions the driver cannot trust, lifetime events crossed within a burst, event ring
// overflow, ring errors and recovery, a card that stops answering, a stepped card, interrupts;
// and the throughput of driver + SoftCard against the software path in the same run. (SA delete
// with requests in flight and sequence overflow run on every backend in tests/card_system.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "driver/device_registry.h"
#include "tests/driver/driver_test_util.h"

namespace ipsec::driver {
namespace {

using card::CplStatus;
using testing::MakeConfig;
using testing::OpenSoftCard;
using testing::SaShape;
namespace reg = card::reg;

// A Device that forwards to a SoftCard and counts register traffic.
class CountingDevice final : public Device {
 public:
  explicit CountingDevice(std::unique_ptr<SoftCard> card) : card_(std::move(card)) {}
  std::string_view backend() const override { return "counting"; }
  StatusOr<uint32_t> Read32(uint32_t o) override {
    ++reads;
    return card_->Read32(o);
  }
  Status Write32(uint32_t o, uint32_t v) override {
    ++writes;
    return card_->Write32(o, v);
  }
  StatusOr<uint64_t> WaitIrq(std::chrono::microseconds t) override { return card_->WaitIrq(t); }
  SoftCard& card() { return *card_; }
  uint64_t reads = 0, writes = 0;

 protected:
  StatusOr<DmaRegion> MapDma(size_t bytes, size_t align) override {
    ASSIGN_OR_RETURN(DmaBuffer b, card_->AllocDma(bytes, align));
    const DmaRegion r = b.region();
    live_.emplace(r.iova, std::move(b));
    return r;
  }
  void UnmapDma(const DmaRegion& r) override { live_.erase(r.iova); }

 private:
  std::unique_ptr<SoftCard> card_;
  std::map<uint64_t, DmaBuffer> live_;
};

class DriverRingsTest : public ::testing::Test {
 protected:
  // An outbound GCM-128 tunnel SA in `slot` on driver d.
  static void InstallOut(Driver& d, uint32_t slot, uint32_t spi, sa::Lifetime lifetime = {}) {
    sa::SaConfig cfg = MakeConfig(SaShape{}, spi, sa::Direction::kOutbound);
    cfg.lifetime = lifetime;
    ASSERT_TRUE(d.InstallSa(slot, cfg, testing::MakeKeys(cfg.suite, spi)).ok());
  }
  static std::vector<Packet> Burst(const PacketPool& pool, size_t n, uint32_t slot, size_t first_user = 0) {
    std::vector<Packet> v;
    for (size_t i = 0; i < n; ++i) {
      Packet p = pool.Load(static_cast<uint32_t>(i % pool.count()), testing::MakePacket({.payload_len = 100}));
      p.dir = card::Dir::kOutbound;
      p.sa_index = slot;
      p.user_data = first_user + i;
      v.push_back(p);
    }
    return v;
  }
};

TEST_F(DriverRingsTest, SmallRingsWrapManyTimesWithOneDoorbellPerBurstAndNoRegisterReads) {
  auto counting = std::make_unique<CountingDevice>(SoftCard::Create().value());
  CountingDevice* dev = counting.get();
  DriverOptions o;
  o.ring_log2 = 4;  // 16 entries
  auto d = Driver::Open(std::move(counting), o).value();
  InstallOut(*d, 1, 0x1111);
  auto pool = PacketPool::Create(d->device(), 16, 2048).value();
  dev->reads = dev->writes = 0;
  uint64_t user = 0, bursts = 0, polls = 0, done = 0;
  std::array<Completion, 16> out;
  for (int round = 0; round < 400; ++round) {  // 400 * 11 = 4400 requests, 275 passes round a 16-ring
    const size_t n = 11;
    const std::vector<Packet> pkts = Burst(pool, n, 1, user);  // buffers reloaded: output is in place
    ASSERT_EQ(d->Submit(0, std::span<const Packet>(pkts.data(), n)), n);
    ++bursts;
    size_t got = 0;
    while (got < n) {
      const size_t k = d->Poll(0, out);
      ASSERT_GT(k, 0u);
      for (size_t i = 0; i < k; ++i) {
        ASSERT_TRUE(out[i].ok());
        ASSERT_EQ(out[i].user_data, user + got + i);
        ASSERT_EQ(out[i].seq, user + got + i + 1);
      }
      got += k;
      ++polls;
    }
    user += n;
    done += got;
  }
  EXPECT_EQ(done, 4400u);
  EXPECT_EQ(dev->reads, 0u) << "the fast path read a card register";
  EXPECT_EQ(dev->writes, bursts + polls);  // one doorbell per burst, one CQ_CONS per poll
  EXPECT_EQ(d->queue_stats(0).doorbells, bursts);
  EXPECT_EQ(d->Outstanding(0), 0u);
}

TEST_F(DriverRingsTest, SubmitAcceptsOnlyWhatTheRingHolds) {
  DriverOptions o;
  o.ring_log2 = 4;
  SoftCardOptions co;
  co.process_on_doorbell = false;  // nothing completes until stepped
  auto t = OpenSoftCard(co, o).value();
  InstallOut(*t.driver, 1, 0x1112);
  auto pool = PacketPool::Create(t.driver->device(), 32, 2048).value();
  std::vector<Packet> pkts = Burst(pool, 20, 1);
  EXPECT_EQ(t.driver->Submit(0, pkts), 16u);
  EXPECT_EQ(t.driver->Submit(0, pkts), 0u);
  EXPECT_EQ(t.driver->queue_stats(0).ring_full, 24u);
  const auto done = testing::PollAll(*t.driver, 0, 16);  // Poll steps the simulated card
  EXPECT_EQ(done.size(), 16u);
  EXPECT_EQ(t.driver->Submit(0, std::span<const Packet>(pkts.data() + 16, 4)), 4u);
}

TEST_F(DriverRingsTest, CompletionForTheWrongDescriptorFailsTheQueueAndAbortsItsRequests) {
  auto t = OpenSoftCard().value();
  InstallOut(*t.driver, 1, 0x2222);
  auto pool = PacketPool::Create(t.driver->device(), 8, 2048).value();
  int count = 0;
  t.card->SetCompletionTamperForTest([&](uint32_t, card::Cpl& c) {
    if (++count == 3) c.desc_index = static_cast<uint16_t>(c.desc_index + 5);
  });
  std::vector<Packet> pkts = Burst(pool, 6, 1);
  ASSERT_EQ(t.driver->Submit(0, pkts), 6u);
  std::array<Completion, 16> out;
  const size_t n = t.driver->Poll(0, out);
  ASSERT_EQ(n, 2u);  // the two before the bad one
  EXPECT_TRUE(out[0].ok());
  EXPECT_TRUE(out[1].ok());
  EXPECT_EQ(t.driver->queue_status(0).code(), StatusCode::kDataLoss);
  EXPECT_THAT(t.driver->queue_status(0).message(), ::testing::HasSubstr("descriptor 7"));
  // The rest come back aborted, none lost.
  const size_t m = t.driver->Poll(0, out);
  ASSERT_EQ(m, 4u);
  for (size_t i = 0; i < m; ++i) {
    EXPECT_TRUE(out[i].aborted);
    EXPECT_EQ(out[i].status, CplStatus::kInternal);
    EXPECT_EQ(out[i].user_data, 2 + i);
  }
  EXPECT_EQ(t.driver->Submit(0, pkts), 0u);  // a failed queue accepts nothing
  // Recovery: the ring restarts at index 0 and traffic flows again.
  t.card->SetCompletionTamperForTest(nullptr);
  ASSERT_TRUE(t.driver->RecoverQueue(0).ok());
  EXPECT_TRUE(t.driver->queue_status(0).ok());
  pkts = Burst(pool, 6, 1);
  ASSERT_EQ(t.driver->Submit(0, pkts), 6u);
  const auto done = testing::PollAll(*t.driver, 0, 6);
  ASSERT_EQ(done.size(), 6u);
  for (const Completion& c : done) EXPECT_TRUE(c.ok());
}

TEST_F(DriverRingsTest, CompletionWithAnImpossibleLengthFailsOnlyThatPacket) {
  auto t = OpenSoftCard().value();
  InstallOut(*t.driver, 1, 0x2223);
  auto pool = PacketPool::Create(t.driver->device(), 8, 2048).value();
  int count = 0;
  t.card->SetCompletionTamperForTest([&](uint32_t, card::Cpl& c) {
    if (++count == 2) c.out_len = 4000;  // beyond the 2048-byte buffer
  });
  std::vector<Packet> pkts = Burst(pool, 4, 1);
  ASSERT_EQ(t.driver->Submit(0, pkts), 4u);
  const auto done = testing::PollAll(*t.driver, 0, 4);
  ASSERT_EQ(done.size(), 4u);
  EXPECT_TRUE(done[0].ok());
  EXPECT_TRUE(done[1].aborted);
  EXPECT_TRUE(done[2].ok());
  EXPECT_TRUE(done[3].ok());
  EXPECT_EQ(t.driver->queue_stats(0).bad_completions, 1u);
  EXPECT_TRUE(t.driver->queue_status(0).ok());
}

TEST_F(DriverRingsTest, LifetimesRaiseSoftThenHardEventsAndTheSaStops) {
  auto t = OpenSoftCard().value();
  InstallOut(*t.driver, 8, 0x5555, sa::Lifetime{.soft_packets = 3, .hard_packets = 5});
  auto pool = PacketPool::Create(t.driver->device(), 8, 2048).value();
  std::vector<Packet> pkts = Burst(pool, 8, 8);
  ASSERT_EQ(t.driver->Submit(0, pkts), 8u);
  const auto done = testing::PollAll(*t.driver, 0, 8);
  ASSERT_EQ(done.size(), 8u);
  size_t ok = 0;
  for (const Completion& c : done) ok += c.ok();
  EXPECT_GE(ok, 4u);
  EXPECT_LE(ok, 5u);
  EXPECT_EQ(done.back().status, CplStatus::kHardLifetime);
  std::array<card::Event, 8> ev;
  ASSERT_EQ(t.driver->PollEvents(ev), 2u);
  EXPECT_EQ(ev[0].kind, card::EventType::kSoftLifetime);
  EXPECT_EQ(ev[1].kind, card::EventType::kHardLifetime);
  EXPECT_EQ(ev[1].sa_index, 8u);
  EXPECT_GT(ev[1].info, 0u);  // bytes so far
  auto c = t.driver->ReadSaCounters(8);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->soft_expired);
  EXPECT_TRUE(c->hard_expired);
}

TEST_F(DriverRingsTest, EventRingOverflowIsReportedAsEventsLost) {
  DriverOptions o;
  o.event_ring_log2 = 4;
  auto t = OpenSoftCard({}, o).value();
  auto pool = PacketPool::Create(t.driver->device(), 1, 2048).value();
  // 20 SAs that each hit a one-packet hard limit: soft + hard = 40 events for a 16-entry ring.
  for (uint32_t i = 0; i < 20; ++i) InstallOut(*t.driver, 20 + i, 0x6000 + i, sa::Lifetime{.soft_packets = 1, .hard_packets = 1});
  for (uint32_t i = 0; i < 20; ++i) {
    std::vector<Packet> p = Burst(pool, 1, 20 + i);
    ASSERT_EQ(t.driver->Submit(0, p), 1u);
    ASSERT_EQ(testing::PollAll(*t.driver, 0, 1).size(), 1u);
  }
  EXPECT_EQ(t.card->Read32(reg::kEvqLost).value(), 40u - 16u);
  std::array<card::Event, 64> ev;
  EXPECT_EQ(t.driver->PollEvents(ev), 16u);
  // Room again: the card reports what it dropped on its next event.
  InstallOut(*t.driver, 50, 0x7000, sa::Lifetime{.soft_packets = 1, .hard_packets = 0});
  std::vector<Packet> p = Burst(pool, 1, 50);
  ASSERT_EQ(t.driver->Submit(0, p), 1u);
  ASSERT_EQ(testing::PollAll(*t.driver, 0, 1).size(), 1u);
  ASSERT_EQ(t.driver->PollEvents(ev), 2u);
  EXPECT_EQ(ev[0].kind, card::EventType::kEventsLost);
  EXPECT_EQ(ev[0].info, 24u);
  EXPECT_EQ(ev[1].kind, card::EventType::kSoftLifetime);
}

TEST_F(DriverRingsTest, RingErrorEventFailsTheQueueAndRecoveryRestartsIt) {
  DriverOptions o;
  o.queues = 2;
  o.ring_log2 = 4;
  auto t = OpenSoftCard({}, o).value();
  InstallOut(*t.driver, 1, 0x8888);
  // A doorbell far beyond the ring (as a corrupted host index would write it).
  ASSERT_TRUE(t.card->Write32(reg::Ring(1, reg::kRingRqProd), 100).ok());
  std::array<card::Event, 4> ev;
  ASSERT_EQ(t.driver->PollEvents(ev), 1u);
  EXPECT_EQ(ev[0].kind, card::EventType::kQueueError);
  EXPECT_EQ(ev[0].ring, 1u);
  EXPECT_EQ(ev[0].code, static_cast<uint8_t>(card::QueueError::kBadDoorbell));
  EXPECT_EQ(t.driver->queue_status(1).code(), StatusCode::kDataLoss);
  EXPECT_TRUE(t.driver->queue_status(0).ok());
  EXPECT_EQ(t.driver->CheckHealth().code(), StatusCode::kDataLoss);
  auto pool = PacketPool::Create(t.driver->device(), 4, 2048).value();
  std::vector<Packet> pkts = Burst(pool, 4, 1);
  EXPECT_EQ(t.driver->Submit(1, pkts), 0u);
  EXPECT_EQ(t.driver->Submit(0, pkts), 4u);  // the other ring pair goes on
  EXPECT_EQ(testing::PollAll(*t.driver, 0, 4).size(), 4u);
  ASSERT_TRUE(t.driver->RecoverQueue(1).ok());
  EXPECT_TRUE(t.driver->CheckHealth().ok());
  pkts = Burst(pool, 4, 1);
  ASSERT_EQ(t.driver->Submit(1, pkts), 4u);
  const auto done = testing::PollAll(*t.driver, 1, 4);
  ASSERT_EQ(done.size(), 4u);
  for (const Completion& c : done) EXPECT_TRUE(c.ok());
}

TEST_F(DriverRingsTest, UnreachableRingMemoryIsADescriptorFetchError) {
  auto counting = std::make_unique<CountingDevice>(SoftCard::Create().value());
  CountingDevice* dev = counting.get();
  auto d = Driver::Open(std::move(counting)).value();
  InstallOut(*d, 1, 0x8889);
  const uint64_t rq_base = uint64_t{dev->card().Read32(reg::Ring(0, reg::kRingRqBaseHi)).value()} << 32 |
                           dev->card().Read32(reg::Ring(0, reg::kRingRqBaseLo)).value();
  dev->card().FailDmaForTest(rq_base, 32);
  auto pool = PacketPool::Create(d->device(), 2, 2048).value();
  std::vector<Packet> pkts = Burst(pool, 2, 1);
  ASSERT_EQ(d->Submit(0, pkts), 2u);
  std::array<card::Event, 4> ev;
  ASSERT_EQ(d->PollEvents(ev), 1u);
  EXPECT_EQ(ev[0].code, static_cast<uint8_t>(card::QueueError::kDescFetch));
  EXPECT_EQ(ev[0].info, rq_base);
  const auto done = testing::PollAll(*d, 0, 2);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_TRUE(done[0].aborted);
  EXPECT_TRUE(done[1].aborted);
}

TEST_F(DriverRingsTest, ACardThatStopsAnsweringFailsEveryPendingRequest) {
  SoftCardOptions co;
  co.process_on_doorbell = false;
  auto t = OpenSoftCard(co).value();
  InstallOut(*t.driver, 1, 0x9999);
  auto pool = PacketPool::Create(t.driver->device(), 4, 2048).value();
  std::vector<Packet> pkts = Burst(pool, 4, 1);
  ASSERT_EQ(t.driver->Submit(0, pkts), 4u);
  t.card->SetUnresponsiveForTest(true);
  const Status health = t.driver->CheckHealth();
  EXPECT_EQ(health.code(), StatusCode::kUnavailable);
  EXPECT_EQ(t.driver->queue_status(0).code(), StatusCode::kUnavailable);
  const auto done = testing::PollAll(*t.driver, 0, 4);
  ASSERT_EQ(done.size(), 4u);
  for (const Completion& c : done) EXPECT_TRUE(c.aborted);
  EXPECT_EQ(t.driver->InstallSa(2, MakeConfig(SaShape{}, 0x9998, sa::Direction::kOutbound),
                                testing::MakeKeys(sa::Suite::kAesGcm128, 1))
                .code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(t.driver->Submit(0, pkts), 0u);
}

TEST_F(DriverRingsTest, LostMagicMeansALostCard) {
  auto t = OpenSoftCard().value();
  t.card->OverrideRegisterForTest(reg::kIdType, 0xffffffffu);
  const Status s = t.driver->CheckHealth();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("0xffffffff"));
  EXPECT_EQ(t.driver->queue_status(0).code(), StatusCode::kUnavailable);
}

TEST_F(DriverRingsTest, SteppedCardCompletesAsTheDriverPolls) {
  auto dev = OpenDevice("soft:step,rings=2");
  ASSERT_TRUE(dev.ok());
  EXPECT_TRUE((*dev)->simulated());
  DriverOptions o;
  o.queues = 2;
  o.step_cycles = 3;
  auto d = Driver::Open(std::move(dev).value(), o).value();
  InstallOut(*d, 1, 0xaaaa);
  auto pool = PacketPool::Create(d->device(), 64, 2048).value();
  std::vector<Packet> pkts = Burst(pool, 64, 1);
  ASSERT_EQ(d->Submit(1, pkts), 64u);
  const auto done = testing::PollAll(*d, 1, 64);
  ASSERT_EQ(done.size(), 64u);
  for (size_t i = 0; i < done.size(); ++i) EXPECT_EQ(done[i].seq, i + 1);
}

TEST_F(DriverRingsTest, ArmedRingInterruptsOnCompletion) {
  DriverOptions o;
  o.irq = true;
  o.queues = 2;
  auto t = OpenSoftCard({}, o).value();
  EXPECT_GE(t.driver->device().irq_fd(), 0);
  InstallOut(*t.driver, 1, 0xbbbb);
  auto pool = PacketPool::Create(t.driver->device(), 2, 2048).value();
  EXPECT_EQ(t.driver->WaitIrq(std::chrono::microseconds(0)).value() & 3, 0u);
  ASSERT_TRUE(t.driver->ArmQueue(1).ok());
  std::vector<Packet> pkts = Burst(pool, 2, 1);
  ASSERT_EQ(t.driver->Submit(1, pkts), 2u);
  auto fired = t.driver->WaitIrq(std::chrono::microseconds(1000));
  ASSERT_TRUE(fired.ok());
  EXPECT_EQ(*fired & 3, 2u);  // ring pair 1's vector
  EXPECT_EQ(testing::PollAll(*t.driver, 1, 2).size(), 2u);
}

// Packets per second through Driver + SoftCard and through EspSa directly, same packets, same
// run. Reported, not asserted against a figure (the machine is shared).
TEST_F(DriverRingsTest, ThroughputAgainstTheSoftwarePath) {
  constexpr size_t kPackets = 40000, kBurstSize = 32;
  DriverOptions o;
  o.ring_log2 = 8;
  auto t = OpenSoftCard({}, o).value();
  InstallOut(*t.driver, 1, 0xcccc);
  const sa::SaConfig cfg = MakeConfig(SaShape{}, 0xcccc, sa::Direction::kOutbound);
  auto ref = esp::EspSa::Create(cfg, testing::MakeKeys(cfg.suite, 0xcccc)).value();
  const std::vector<std::byte> pkt = testing::MakePacket({.payload_len = 512});
  auto pool = PacketPool::Create(t.driver->device(), kBurstSize, 2048).value();
  std::array<Packet, kBurstSize> burst;
  std::array<Completion, kBurstSize> out;

  const auto t0 = std::chrono::steady_clock::now();
  size_t ok_card = 0;
  for (size_t sent = 0; sent < kPackets; sent += kBurstSize) {
    for (uint32_t i = 0; i < kBurstSize; ++i) {
      burst[i] = pool.Load(i, pkt);
      burst[i].sa_index = 1;
    }
    size_t posted = t.driver->Submit(0, burst);
    for (size_t got = 0; got < posted;) {
      const size_t n = t.driver->Poll(0, out);
      for (size_t i = 0; i < n; ++i) ok_card += out[i].ok();
      got += n;
    }
  }
  const auto t1 = std::chrono::steady_clock::now();
  esp::testing::BufferPool bp(kBurstSize, 2048);
  std::array<PacketBuf*, kBurstSize> bufs;
  std::array<sa::DropReason, kBurstSize> st;
  size_t ok_sw = 0;
  for (size_t sent = 0; sent < kPackets; sent += kBurstSize) {
    for (uint32_t i = 0; i < kBurstSize; ++i) bufs[i] = bp.Load(i, pkt);
    ok_sw += ref->ProcessOutbound(bufs, st);
  }
  const auto t2 = std::chrono::steady_clock::now();
  EXPECT_EQ(ok_card, kPackets);
  EXPECT_EQ(ok_sw, kPackets);
  const double card_s = std::chrono::duration<double>(t1 - t0).count();
  const double sw_s = std::chrono::duration<double>(t2 - t1).count();
  std::printf("[throughput] %zu outbound AES-GCM-128 tunnel packets of %zu bytes, bursts of %zu:\n"
              "[throughput]   driver + SoftCard: %.0f packets/s\n"
              "[throughput]   EspSa directly:    %.0f packets/s\n",
              kPackets, pkt.size(), kBurstSize, kPackets / card_s, kPackets / sw_s);
  RecordProperty("softcard_pps", std::to_string(static_cast<uint64_t>(kPackets / card_s)));
  RecordProperty("software_pps", std::to_string(static_cast<uint64_t>(kPackets / sw_s)));
}

}  // namespace
}  // namespace ipsec::driver
