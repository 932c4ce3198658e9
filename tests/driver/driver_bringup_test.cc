// Driver bring-up against the SoftCard and register-level fakes: backends by name, the ID block
// checks (magic, layout version, block list, record sizes), reset and READY, ring setup from the
// capabilities, and a card that does not answer.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "driver/device_registry.h"
#include "tests/driver/driver_test_util.h"

namespace ipsec::driver {
namespace {

using ::testing::_;
using ::testing::HasSubstr;
using ::testing::Invoke;
using ::testing::Return;
using testing::OpenSoftCard;
namespace reg = card::reg;
namespace field = card::field;

// A Device whose register traffic is scripted with gMock; by default it forwards to a real
// SoftCard, so a test overrides only the accesses it is about.
class MockDevice : public Device {
 public:
  MockDevice() : card_(SoftCard::Create().value()) {
    ON_CALL(*this, Read32(_)).WillByDefault(Invoke([this](uint32_t o) { return card_->Read32(o); }));
    ON_CALL(*this, Write32(_, _)).WillByDefault(Invoke([this](uint32_t o, uint32_t v) { return card_->Write32(o, v); }));
  }
  std::string_view backend() const override { return "mock"; }
  MOCK_METHOD(StatusOr<uint32_t>, Read32, (uint32_t offset), (override));
  MOCK_METHOD(Status, Write32, (uint32_t offset, uint32_t value), (override));
  StatusOr<uint64_t> WaitIrq(std::chrono::microseconds) override { return uint64_t{0}; }

 protected:
  StatusOr<DmaRegion> MapDma(size_t bytes, size_t align) override {
    ASSIGN_OR_RETURN(DmaBuffer b, card_->AllocDma(bytes, align));
    DmaRegion r = b.region();
    buffers_.push_back(std::move(b));
    return r;
  }
  void UnmapDma(const DmaRegion&) override {}

 private:
  std::unique_ptr<SoftCard> card_;
  std::vector<DmaBuffer> buffers_;
};

class DriverBringUpTest : public ::testing::Test {};

TEST_F(DriverBringUpTest, SoftBackendIsRegisteredAndUnknownBackendsAreRefusedByName) {
  const std::vector<std::string> names = DeviceBackends();
  EXPECT_THAT(names, ::testing::Contains("soft"));
  auto dev = OpenDevice("soft:sa=1024,rings=4,ring_log2=8");
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  EXPECT_EQ((*dev)->backend(), "soft");
  auto unknown = OpenDevice("xrt:0000:65:00.1");
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(unknown.status().message(), HasSubstr("soft"));
  EXPECT_EQ(OpenDevice("soft:bogus=1").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(RegisterDeviceBackend("soft", nullptr).code(), StatusCode::kAlreadyExists);
}

TEST_F(DriverBringUpTest, ReadsCapabilitiesAndSetsUpRingsFromThem) {
  SoftCardOptions co;
  co.sa_count = 1024;
  co.ring_pairs = 4;
  co.max_ring_log2 = 9;
  co.build_id = 0x1234abcd;
  DriverOptions o;
  o.queues = 3;
  o.ring_log2 = 12;  // more than the card offers: clamped
  auto t = OpenSoftCard(co, o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  const Capabilities& c = t->driver->caps();
  EXPECT_EQ(c.version_major, 1u);
  EXPECT_EQ(c.sa_count, 1024u);
  EXPECT_EQ(c.ring_pairs, 4u);
  EXPECT_EQ(c.max_ring_log2, 9u);
  EXPECT_EQ(c.build_id, 0x1234abcdu);
  EXPECT_EQ(c.max_pkt_bytes, card::kDefaultMaxPktBytes);
  EXPECT_EQ(c.min_headroom, 64u);
  EXPECT_EQ(c.min_tailroom, 32u);
  EXPECT_TRUE(c.SupportsSuite(sa::Suite::kAesGcm128));
  EXPECT_TRUE(c.SupportsSuite(sa::Suite::kAesGcm256));
  EXPECT_FALSE(c.SupportsSuite(sa::Suite::kAesCbc128HmacSha256));
  EXPECT_TRUE(c.HasFeature(field::kIdFeaturesUdpEncap));
  EXPECT_EQ(t->driver->queue_count(), 3u);
  EXPECT_EQ(t->driver->ring_size(0), 512u);
  // The card sees the rings enabled and active, the card enabled.
  for (uint32_t q = 0; q < 3; ++q) {
    const uint32_t ctrl = t->card->Read32(reg::Ring(q, reg::kRingCtrl)).value();
    EXPECT_EQ(field::kRingCtrlEnable.Get(ctrl), 1u);
    EXPECT_EQ(field::kRingCtrlRqSizeLog2.Get(ctrl), 9u);
    EXPECT_EQ(field::kRingStatusActive.Get(t->card->Read32(reg::Ring(q, reg::kRingStatus)).value()), 1u);
  }
  EXPECT_EQ(field::kRingCtrlEnable.Get(t->card->Read32(reg::Ring(3, reg::kRingCtrl)).value()), 0u);
  EXPECT_EQ(field::kCtrlStatusEnabled.Get(t->card->Read32(reg::kCtrlStatus).value()), 1u);
}

TEST_F(DriverBringUpTest, RefusesWrongMagicWithAClearError) {
  auto card = SoftCard::Create().value();
  card->OverrideRegisterForTest(reg::kIdType, 0x12345678u);
  auto d = Driver::Open(std::move(card));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(d.status().message(), HasSubstr("0x12345678"));
  EXPECT_THAT(d.status().message(), HasSubstr("magic"));
}

TEST_F(DriverBringUpTest, RefusesAllOnesAsALinkDown) {
  auto card = SoftCard::Create().value();
  card->OverrideRegisterForTest(reg::kIdType, 0xffffffffu);
  auto d = Driver::Open(std::move(card));
  EXPECT_EQ(d.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(d.status().message(), HasSubstr("all-ones"));
}

TEST_F(DriverBringUpTest, RefusesUnknownMajorVersionAndAcceptsHigherMinor) {
  auto card = SoftCard::Create().value();
  card->OverrideRegisterForTest(reg::kIdVersion, 0x00020000u);
  auto d = Driver::Open(std::move(card));
  EXPECT_EQ(d.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(d.status().message(), HasSubstr("layout version 2.0"));

  auto card2 = SoftCard::Create().value();
  card2->OverrideRegisterForTest(reg::kIdVersion, 0x00010007u);
  auto d2 = Driver::Open(std::move(card2));
  ASSERT_TRUE(d2.ok()) << d2.status().ToString();
  EXPECT_EQ((*d2)->caps().version_minor, 7u);
}

TEST_F(DriverBringUpTest, RefusesBlockListLoopsAndUnknownBlockMajors) {
  auto card = SoftCard::Create().value();
  card->OverrideRegisterForTest(reg::kSaNext, reg::kCtrlBase);  // SA -> CTRL -> EVQ -> SA ...
  auto d = Driver::Open(std::move(card));
  EXPECT_EQ(d.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(d.status().message(), HasSubstr("loops"));

  auto card2 = SoftCard::Create().value();
  card2->OverrideRegisterForTest(reg::kEvqNext, 0x20000);  // outside the BAR
  EXPECT_EQ(Driver::Open(std::move(card2)).status().code(), StatusCode::kDataLoss);

  auto card3 = SoftCard::Create().value();
  card3->OverrideRegisterForTest(reg::kQueuesVersion, 0x00030000u);
  auto d3 = Driver::Open(std::move(card3));
  EXPECT_EQ(d3.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(d3.status().message(), HasSubstr("QUEUES"));
}

TEST_F(DriverBringUpTest, RefusesRecordSizesThatDifferFromTheHeader) {
  auto card = SoftCard::Create().value();
  card->OverrideRegisterForTest(reg::kIdCapRecords, 0x60104020u);  // a 64-byte completion
  auto d = Driver::Open(std::move(card));
  EXPECT_EQ(d.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(d.status().message(), HasSubstr("record sizes"));
}

TEST_F(DriverBringUpTest, WaitsForReadyAfterTheSoftReset) {
  SoftCardOptions co;
  co.reset_busy_reads = 5;
  auto t = OpenSoftCard(co);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
}

TEST_F(DriverBringUpTest, TimesOutWhenTheCardNeverBecomesReady) {
  auto card = SoftCard::Create().value();
  card->OverrideRegisterForTest(reg::kCtrlStatus, field::kCtrlStatusResetBusy.Mask());
  DriverOptions o;
  o.register_timeout = std::chrono::milliseconds(2);
  auto d = Driver::Open(std::move(card), o);
  EXPECT_EQ(d.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(d.status().message(), HasSubstr("READY"));
}

TEST_F(DriverBringUpTest, RefusesMoreQueuesThanTheCardHas) {
  SoftCardOptions co;
  co.ring_pairs = 2;
  DriverOptions o;
  o.queues = 3;
  EXPECT_EQ(OpenSoftCard(co, o).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(DriverBringUpTest, RegisterReadTimeoutIsUnavailableNotACrash) {
  auto dev = std::make_unique<::testing::NiceMock<MockDevice>>();
  EXPECT_CALL(*dev, Read32(_)).Times(::testing::AnyNumber());
  EXPECT_CALL(*dev, Read32(reg::kIdType)).WillRepeatedly(Return(UnavailableError("AXI-Lite read timed out")));
  auto d = Driver::Open(std::move(dev));
  EXPECT_EQ(d.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(d.status().message(), HasSubstr("timed out"));
}

TEST_F(DriverBringUpTest, RegisterTimeoutDuringRingSetupFailsOpenCleanly) {
  auto dev = std::make_unique<::testing::NiceMock<MockDevice>>();
  EXPECT_CALL(*dev, Read32(_)).Times(::testing::AnyNumber());
  EXPECT_CALL(*dev, Read32(reg::Ring(0, reg::kRingStatus))).WillRepeatedly(Return(UnavailableError("read timed out")));
  EXPECT_EQ(Driver::Open(std::move(dev)).status().code(), StatusCode::kUnavailable);
}

TEST_F(DriverBringUpTest, ForwardsMockedTrafficAndWritesTheExpectedBringUpSequence) {
  auto dev = std::make_unique<::testing::NiceMock<MockDevice>>();
  EXPECT_CALL(*dev, Write32(_, _)).Times(::testing::AnyNumber());
  {
    ::testing::InSequence seq;
    EXPECT_CALL(*dev, Write32(reg::kCtrlCtrl, field::kCtrlCtrlSoftReset.Mask()));
    EXPECT_CALL(*dev, Write32(reg::kCtrlCtrl, field::kCtrlCtrlEnable.Mask()));
  }
  auto d = Driver::Open(std::move(dev));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
}

}  // namespace
}  // namespace ipsec::driver
