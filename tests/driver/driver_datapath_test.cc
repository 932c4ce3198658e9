// The driver's own part of the data path, in isolation: which packets Submit refuses before they
// reach the card, and how completion statuses map to sa::DropReason. The card's data path itself
// (outputs byte for byte against the software ESP path across the SA matrix, replay/ICV, not-ESP
// and unknown SPIs, the card's refusals, wrong direction, DMA errors) is tested on every backend,
// `soft` included, by the system tests in tests/card_system.
#include <gtest/gtest.h>

#include "tests/driver/driver_test_util.h"

namespace ipsec::driver {
namespace {

using card::CplStatus;
using testing::MakeConfig;
using testing::OpenSoftCard;
using testing::SaShape;

TEST(DriverDataPathTest, SubmitRefusesAPacketItsDescriptorCannotDescribeAndEverythingAfterIt) {
  auto t = OpenSoftCard();
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  Driver& d = *t->driver;
  auto pool = PacketPool::Create(d.device(), 4, 2048).value();
  SaShape shape;
  ASSERT_TRUE(d.InstallSa(9, MakeConfig(shape, 0x777, sa::Direction::kOutbound), testing::MakeKeys(shape.suite, 1)).ok());
  std::array<Packet, 3> burst;
  for (uint32_t i = 0; i < burst.size(); ++i) {
    burst[i] = pool.Load(i, testing::MakePacket({.seed = i}));
    burst[i].dir = card::Dir::kOutbound;
    burst[i].sa_index = 9;
    burst[i].user_data = i;
  }
  Packet huge = burst[0];
  huge.buf.capacity = 0x10000;  // BUF_LEN is 16 bits
  EXPECT_EQ(d.Submit(0, std::span<const Packet>(&huge, 1)), 0u);
  burst[1].buf.length = burst[1].buf.capacity;  // runs past the buffer
  EXPECT_EQ(d.Submit(0, std::span<const Packet>(&burst[1], 1)), 0u);
  EXPECT_EQ(d.Outstanding(0), 0u);
  // In a burst: the packets before it are posted (one doorbell), it and the rest are not.
  EXPECT_EQ(d.Submit(0, burst), 1u);
  EXPECT_EQ(d.queue_stats(0).doorbells, 1u);
  const auto done = testing::PollAll(d, 0, 1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].ok()) << card::CplStatusName(done[0].status);
  EXPECT_EQ(done[0].user_data, 0u);
  EXPECT_EQ(d.Outstanding(0), 0u);
}

TEST(DriverDataPathTest, CompletionStatusesMapToDropReasons) {
  // 0-15 are sa::DropReason values, whatever the direction.
  for (uint8_t v = 0; v < sa::kNumDropReasons; ++v) {
    for (card::Dir dir : {card::Dir::kOutbound, card::Dir::kInbound}) {
      EXPECT_EQ(ToDropReason(static_cast<CplStatus>(v), dir), static_cast<sa::DropReason>(v)) << int{v};
    }
  }
  // The card-only codes.
  EXPECT_EQ(ToDropReason(CplStatus::kBadSaIndex, card::Dir::kInbound), sa::DropReason::kBadSpi);
  EXPECT_EQ(ToDropReason(CplStatus::kBadSaIndex, card::Dir::kOutbound), sa::DropReason::kMalformed);
  EXPECT_EQ(ToDropReason(CplStatus::kBadDescriptor, card::Dir::kOutbound), sa::DropReason::kMalformed);
  EXPECT_EQ(ToDropReason(CplStatus::kTooBig, card::Dir::kInbound), sa::DropReason::kMalformed);
  // Device errors are not a verdict on the packet.
  for (CplStatus s : {CplStatus::kDmaReadError, CplStatus::kDmaWriteError, CplStatus::kInternal}) {
    EXPECT_EQ(ToDropReason(s, card::Dir::kOutbound), std::nullopt) << card::CplStatusName(s);
    EXPECT_EQ(ToDropReason(s, card::Dir::kInbound), std::nullopt) << card::CplStatusName(s);
  }
}

}  // namespace
}  // namespace ipsec::driver
