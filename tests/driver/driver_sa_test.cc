// SA programming through the SA window: install, replace, delete, read back parameters and
// counters; keys are write-only (read 0, wiped after every command); the inbound slot rule;
// refusals map to clear Status codes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "driver/borrowed_device.h"
#include "driver/sa_params.h"
#include "tests/driver/driver_test_util.h"

namespace ipsec::driver {
namespace {

using ::testing::HasSubstr;
using testing::MakeConfig;
using testing::OpenSoftCard;
using testing::SaShape;
namespace reg = card::reg;
namespace field = card::field;

class DriverSaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SoftCardOptions co;
    co.sa_count = 1024;
    auto t = OpenSoftCard(co);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    t_ = std::move(t).value();
    pool_ = std::make_unique<PacketPool>(PacketPool::Create(t_.driver->device(), 16, 2048).value());
  }
  Driver& drv() { return *t_.driver; }

  // Sends one packet and returns its completion.
  Completion SendOne(const std::vector<std::byte>& pkt, card::Dir dir, uint32_t sa_index) {
    Packet p = pool_->Load(0, pkt);
    p.dir = dir;
    p.sa_index = sa_index;
    EXPECT_EQ(drv().Submit(0, std::span<const Packet>(&p, 1)), 1u);
    auto c = testing::PollAll(drv(), 0, 1);
    EXPECT_EQ(c.size(), 1u);
    return c.empty() ? Completion{} : c[0];
  }

  testing::CardUnderTest t_;
  std::unique_ptr<PacketPool> pool_;
};

TEST_F(DriverSaTest, KeyRegistersAreWriteOnlyAndWipedAfterTheCommand) {
  // Stage a key by hand: it reads back as 0 even before the command.
  ASSERT_TRUE(t_.card->Write32(reg::SaKey(0), 0xdeadbeef).ok());
  ASSERT_TRUE(t_.card->Write32(reg::kSaSalt, 0xcafef00d).ok());
  EXPECT_EQ(t_.card->Read32(reg::SaKey(0)).value(), 0u);
  EXPECT_EQ(t_.card->Read32(reg::kSaSalt).value(), 0u);

  const sa::SaConfig cfg = MakeConfig(SaShape{}, 0x1234, sa::Direction::kOutbound);
  ASSERT_TRUE(drv().InstallSa(7, cfg, testing::MakeKeys(cfg.suite, 1)).ok());
  for (uint32_t k = 0; k < reg::kSaKeyCount; ++k) EXPECT_EQ(t_.card->Read32(reg::SaKey(k)).value(), 0u);
  EXPECT_EQ(t_.card->Read32(reg::kSaSalt).value(), 0u);
  EXPECT_EQ(t_.card->Read32(reg::kSaCmd).value(), 0u);
  // The parameter record reads back (it is not secret) and carries no key.
  auto params = drv().ReadSaParams(7);
  ASSERT_TRUE(params.ok()) << params.status().ToString();
  EXPECT_EQ(*params, ToSaParams(cfg).value());
  for (uint32_t k = 0; k < reg::kSaKeyCount; ++k) EXPECT_EQ(t_.card->Read32(reg::SaKey(k)).value(), 0u);
}

TEST_F(DriverSaTest, InstalledOutboundSaMatchesTheSoftwarePathAndDeleteStopsIt) {
  const sa::SaConfig cfg = MakeConfig(SaShape{}, 0x4242, sa::Direction::kOutbound);
  ASSERT_TRUE(drv().InstallSa(3, cfg, testing::MakeKeys(cfg.suite, 9)).ok());
  auto ref = esp::EspSa::Create(cfg, testing::MakeKeys(cfg.suite, 9)).value();
  const auto pkt = testing::MakePacket({});
  const Completion c = SendOne(pkt, card::Dir::kOutbound, 3);
  ASSERT_TRUE(c.ok()) << card::CplStatusName(c.status);
  EXPECT_EQ(c.seq, 1u);
  EXPECT_EQ(c.spi, 0x4242u);
  esp::testing::BufferPool bp(1, 2048);
  PacketBuf* b = bp.Load(0, pkt);
  sa::DropReason r;
  ASSERT_EQ(ref->ProcessOutbound(std::span<PacketBuf* const>(&b, 1), std::span<sa::DropReason>(&r, 1)), 1u);
  EXPECT_EQ(testing::Output(pool_->Get(0), c), testing::Bytes(*b));

  auto counters = drv().ReadSaCounters(3);
  ASSERT_TRUE(counters.ok());
  EXPECT_TRUE(counters->valid);
  EXPECT_EQ(counters->packets, 1u);
  EXPECT_EQ(counters->bytes, pkt.size());
  EXPECT_EQ(counters->seq, 2u);

  ASSERT_TRUE(drv().DeleteSa(3).ok());
  ASSERT_TRUE(drv().DeleteSa(3).ok());  // idempotent
  EXPECT_EQ(drv().ReadSaParams(3).status().code(), StatusCode::kNotFound);
  const Completion after = SendOne(pkt, card::Dir::kOutbound, 3);
  EXPECT_EQ(after.status, card::CplStatus::kBadSaIndex);
  EXPECT_EQ(ToDropReason(after.status, after.dir), sa::DropReason::kMalformed);
  auto cleared = drv().ReadSaCounters(3);
  ASSERT_TRUE(cleared.ok());
  EXPECT_FALSE(cleared->valid);
  EXPECT_EQ(cleared->packets, 0u);
}

TEST_F(DriverSaTest, DeletedInboundSaRefusesPacketsWithBadSpi) {
  SaShape shape;
  const sa::SaConfig out_cfg = MakeConfig(shape, 0x10005, sa::Direction::kOutbound);
  const sa::SaConfig in_cfg = MakeConfig(shape, 0x10005, sa::Direction::kInbound);
  const uint32_t slot = drv().InboundSlot(0x10005);
  EXPECT_EQ(slot, 0x10005u % 1024);
  ASSERT_TRUE(drv().InstallSa(slot, in_cfg, testing::MakeKeys(shape.suite, 2)).ok());
  auto peer = esp::EspSa::Create(out_cfg, testing::MakeKeys(shape.suite, 2)).value();
  esp::testing::BufferPool bp(2, 2048);
  std::array<PacketBuf*, 2> bufs = {bp.Load(0, testing::MakePacket({.seed = 1})), bp.Load(1, testing::MakePacket({.seed = 2}))};
  std::array<sa::DropReason, 2> r{};
  ASSERT_EQ(peer->ProcessOutbound(bufs, r), 2u);
  const Completion ok = SendOne(testing::Bytes(*bufs[0]), card::Dir::kInbound, 0);
  EXPECT_TRUE(ok.ok()) << card::CplStatusName(ok.status);
  EXPECT_EQ(ok.sa_index, slot);
  ASSERT_TRUE(drv().DeleteSa(slot).ok());
  const Completion refused = SendOne(testing::Bytes(*bufs[1]), card::Dir::kInbound, 0);
  EXPECT_EQ(refused.status, card::CplStatus::kBadSpi);
  EXPECT_EQ(refused.spi, 0x10005u);
}

TEST_F(DriverSaTest, InboundSaMustUseTheSlotItsSpiNames) {
  const sa::SaConfig cfg = MakeConfig(SaShape{}, 0x2001, sa::Direction::kInbound);
  const Status s = drv().InstallSa(5, cfg, testing::MakeKeys(cfg.suite, 1));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("slot"));
  EXPECT_TRUE(drv().InstallSa(drv().InboundSlot(0x2001), cfg, testing::MakeKeys(cfg.suite, 1)).ok());
}

TEST_F(DriverSaTest, RefusalsAreClearStatuses) {
  sa::SaConfig cfg = MakeConfig(SaShape{}, 0x3000, sa::Direction::kOutbound);
  EXPECT_EQ(drv().InstallSa(1024, cfg, testing::MakeKeys(cfg.suite, 1)).code(), StatusCode::kOutOfRange);
  // A suite the card does not implement.
  sa::SaConfig cbc = cfg;
  cbc.suite = sa::Suite::kAesCbc128HmacSha256;
  EXPECT_EQ(drv().InstallSa(1, cbc, testing::MakeKeys(cbc.suite, 1)).code(), StatusCode::kUnimplemented);
  // Keys of the wrong length.
  EXPECT_EQ(drv().InstallSa(1, cfg, testing::MakeKeys(sa::Suite::kAesGcm256, 1)).code(), StatusCode::kInvalidArgument);
  // A window the card cannot hold: the card refuses (bad_params).
  sa::SaConfig in = MakeConfig(SaShape{}, 0x3001, sa::Direction::kInbound);
  in.replay_window = 4096;
  EXPECT_EQ(drv().InstallSa(drv().InboundSlot(0x3001), in, testing::MakeKeys(in.suite, 1)).code(),
            StatusCode::kInvalidArgument);
  // AH is not the card's.
  sa::SaConfig ah = cfg;
  ah.protocol = sa::Protocol::kAh;
  ah.suite = sa::Suite::kAesGmac128;
  EXPECT_FALSE(drv().InstallSa(1, ah, testing::MakeKeys(ah.suite, 1)).ok());
}

TEST_F(DriverSaTest, CardRefusesFeaturesItDoesNotHave) {
  SoftCardOptions co;
  co.sa_count = 1024;
  co.features &= ~field::kIdFeaturesUdpEncap.Mask();
  auto t = OpenSoftCard(co);
  ASSERT_TRUE(t.ok());
  SaShape shape;
  shape.udp = true;
  const sa::SaConfig cfg = MakeConfig(shape, 0x5000, sa::Direction::kOutbound);
  EXPECT_EQ(t->driver->InstallSa(1, cfg, testing::MakeKeys(cfg.suite, 1)).code(), StatusCode::kUnimplemented);
}

TEST_F(DriverSaTest, ReplacingASlotResetsItsCounters) {
  const sa::SaConfig cfg = MakeConfig(SaShape{}, 0x6000, sa::Direction::kOutbound);
  ASSERT_TRUE(drv().InstallSa(2, cfg, testing::MakeKeys(cfg.suite, 1)).ok());
  EXPECT_TRUE(SendOne(testing::MakePacket({}), card::Dir::kOutbound, 2).ok());
  ASSERT_TRUE(drv().InstallSa(2, cfg, testing::MakeKeys(cfg.suite, 2)).ok());
  auto c = drv().ReadSaCounters(2);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->packets, 0u);
  EXPECT_EQ(c->seq, 1u);
}

TEST_F(DriverSaTest, SaParamsRoundTripEveryShape) {
  for (const SaShape& shape : testing::AllShapes()) {
    for (sa::Direction dir : {sa::Direction::kOutbound, sa::Direction::kInbound}) {
      sa::SaConfig cfg = MakeConfig(shape, 0x7000, dir);
      cfg.lifetime = {100, 200, 3, 4};
      cfg.dscp_mode = sa::DscpMode::kSet;
      cfg.dscp = 46;
      cfg.df_mode = sa::DfMode::kClear;
      auto p = ToSaParams(cfg);
      ASSERT_TRUE(p.ok()) << shape.Name();
      auto back = FromSaParams(*p);
      ASSERT_TRUE(back.ok()) << shape.Name() << ": " << back.status().ToString();
      EXPECT_EQ(ToSaParams(*back).value(), *p) << shape.Name();
    }
  }
}

// Closing the driver soft-resets the card, so no SA (and no key) outlives the process that
// installed it; with reset_on_close off, the next driver (opened without a reset) still finds them.
TEST(DriverCloseTest, ClosingWipesEverySaUnlessTold) {
  for (bool reset_on_close : {true, false}) {
    SCOPED_TRACE(reset_on_close ? "reset_on_close" : "kept");
    auto card = SoftCard::Create({}).value();
    DriverOptions o;
    o.reset_on_close = reset_on_close;
    {
      auto drv = Driver::Open(std::make_unique<BorrowedDevice>(card.get()), o).value();
      const sa::SaConfig out = MakeConfig(SaShape{}, 0x5151, sa::Direction::kOutbound);
      const sa::SaConfig in = MakeConfig(SaShape{}, 0x6161, sa::Direction::kInbound);
      ASSERT_TRUE(drv->InstallSa(5, out, testing::MakeKeys(out.suite, 3)).ok());
      ASSERT_TRUE(drv->InstallSa(drv->InboundSlot(0x6161), in, testing::MakeKeys(in.suite, 4)).ok());
      ASSERT_TRUE(drv->ReadSaParams(5).ok());
    }
    o.soft_reset = false;  // look at the card as the previous driver left it
    auto drv = Driver::Open(std::make_unique<BorrowedDevice>(card.get()), o).value();
    auto p_out = drv->ReadSaParams(5);
    auto p_in = drv->ReadSaParams(drv->InboundSlot(0x6161));
    if (reset_on_close) {
      EXPECT_EQ(p_out.status().code(), StatusCode::kNotFound);
      EXPECT_EQ(p_in.status().code(), StatusCode::kNotFound);
    } else {
      EXPECT_TRUE(p_out.ok()) << p_out.status().ToString();
      EXPECT_TRUE(p_in.ok()) << p_in.status().ToString();
    }
  }
}

}  // namespace
}  // namespace ipsec::driver
