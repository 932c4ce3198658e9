// SoftwareDataPlane (host/ike/daemon/sw_data_plane.h): the daemon's data path without a card. Two
// gateways A and B with mirrored CHILD_SAs as the IKE daemon installs them; what A hands to the
// socket is what B receives.
#include "host/ike/daemon/sw_data_plane.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "host/common/ip.h"
#include "host/ike/crypto/random_source.h"
#include "tests/esp/test_packets.h"
#include "tests/gateway/gateway_test_util.h"

namespace ipsec::ike {
namespace {

using esp::testing::MakeKeys;
using esp::testing::MakePacket;
using Buf = std::vector<std::byte>;

using testing::Ep;
using testing::Ts;

class SoftwareDataPlaneTest : public ::testing::Test {
 protected:
  SoftwareDataPlaneTest()
      : ra_(CreateDeterministicRandomSourceForTest(1)), rb_(CreateDeterministicRandomSourceForTest(2)), a_(*ra_), b_(*rb_) {}

  // A protects 192.0.2.0/24 <-> 198.51.100.0/24, B the mirror; a->b keys from `seed`, b->a from seed + 1.
  void InstallChild(uint32_t seed) {
    ChildSaInfo ia = testing::TestChild(seed);
    ia.local = a_ep_;
    ia.remote = b_ep_;
    ia.local_ts = {Ts("192.0.2.0", "192.0.2.255")};
    ia.remote_ts = {Ts("198.51.100.0", "198.51.100.255")};
    auto spi_a = a_.AllocateSpi(sa::Protocol::kEsp);
    auto spi_b = b_.AllocateSpi(sa::Protocol::kEsp);
    ASSERT_TRUE(spi_a.ok() && spi_b.ok());
    ia.spi_in = *spi_a;
    ia.spi_out = *spi_b;
    ChildSaInfo ib = ia;
    ib.local = b_ep_;
    ib.remote = a_ep_;
    ib.local_ts = ia.remote_ts;
    ib.remote_ts = ia.local_ts;
    ib.spi_in = *spi_b;
    ib.spi_out = *spi_a;
    ASSERT_TRUE(a_.Install(ia, MakeKeys(ia.suite, seed + 1), MakeKeys(ia.suite, seed)).ok());
    ASSERT_TRUE(b_.Install(ib, MakeKeys(ia.suite, seed), MakeKeys(ia.suite, seed + 1)).ok());
  }

  // Room for the outer headers in front and the trailer behind, as the daemon's buffer has.
  static PacketBuf Load(std::vector<std::byte>& mem, const Buf& pkt) {
    mem.assign(256 + pkt.size() + 256, std::byte{0});
    std::memcpy(mem.data() + 256, pkt.data(), pkt.size());
    return PacketBuf{mem.data(), static_cast<uint32_t>(mem.size()), 256, static_cast<uint32_t>(pkt.size())};
  }

  Endpoint a_ep_ = Ep("198.18.0.1"), b_ep_ = Ep("198.18.0.2");
  std::unique_ptr<RandomSource> ra_, rb_;
  SoftwareDataPlane a_, b_;
};

TEST_F(SoftwareDataPlaneTest, PacketsCrossByteExact) {
  InstallChild(700);
  for (uint32_t i = 0; i < 20; ++i) {
    const Buf inner = MakePacket({.payload_len = 1 + i * 71, .seed = i});
    std::vector<std::byte> mem;
    PacketBuf pkt = Load(mem, inner);
    Endpoint to;
    ASSERT_TRUE(a_.Outbound(pkt, &to));
    EXPECT_EQ(to, b_ep_);
    // The socket's payload is ESP (SPI first), not the outer headers the SA built.
    ASSERT_GE(pkt.length, 8u + 16u);
    ASSERT_TRUE(b_.Inbound(pkt, a_ep_, b_ep_));
    EXPECT_EQ(Buf(pkt.data(), pkt.data() + pkt.length), inner) << i;
  }
  EXPECT_EQ(a_.counters().encrypted, 20u);
  EXPECT_EQ(b_.counters().decrypted, 20u);
}

TEST_F(SoftwareDataPlaneTest, OuterDscpAndEcnCrossTheSocket) {
  // Outbound: the SA copies the inner DSCP and ECN to the outer header (RFC 4301 §5.1.2.1,
  // RFC 6040 normal mode) and the data plane reports that byte for the socket to send.
  InstallChild(710);
  const uint8_t inner_tos = (10 << 2) | 2;  // AF11, ECT(0)
  const Buf inner = MakePacket({.payload_len = 300, .tos = inner_tos, .seed = 9});
  std::vector<std::byte> mem;
  PacketBuf pkt = Load(mem, inner);
  Endpoint to;
  uint8_t tos = 0;
  ASSERT_TRUE(a_.Outbound(pkt, &to, &tos));
  EXPECT_EQ(tos, inner_tos);
  const Buf esp(pkt.data(), pkt.data() + pkt.length);

  // Inbound without congestion: the inner byte stays as it was.
  std::vector<std::byte> mem2;
  PacketBuf p2 = Load(mem2, esp);
  ASSERT_TRUE(b_.Inbound(p2, a_ep_, b_ep_, tos));
  EXPECT_EQ(std::to_integer<uint8_t>(p2.data()[1]), inner_tos);

  // Marked on the way (outer CE): the inner packet arrives CE, DSCP kept, checksum right
  // (RFC 6040 §4.2). A second packet, since the first one's sequence number is now taken.
  PacketBuf p3 = Load(mem, MakePacket({.payload_len = 300, .tos = inner_tos, .seed = 10}));
  ASSERT_TRUE(a_.Outbound(p3, &to, &tos));
  ASSERT_TRUE(b_.Inbound(p3, a_ep_, b_ep_, (10 << 2) | 3));
  EXPECT_EQ(std::to_integer<uint8_t>(p3.data()[1]) & 3, 3) << "CE";
  EXPECT_EQ(std::to_integer<uint8_t>(p3.data()[1]) >> 2, 10) << "the inner DSCP is kept";
  EXPECT_TRUE(ip::Ipv4ChecksumOk(p3.data(), 20));
}

TEST_F(SoftwareDataPlaneTest, UnprotectedAndForgedTrafficIsCounted) {
  InstallChild(720);
  // No child covers 203.0.113.0/24.
  Buf stray = MakePacket({.payload_len = 40, .seed = 3});
  std::memcpy(&stray[16], "\xcb\x00\x71\x05", 4);
  std::vector<std::byte> mem;
  PacketBuf pkt = Load(mem, stray);
  Endpoint to;
  EXPECT_FALSE(a_.Outbound(pkt, &to));
  EXPECT_EQ(a_.counters().no_policy, 1u);
  // A datagram whose ICV does not verify.
  PacketBuf good = Load(mem, MakePacket({.payload_len = 100, .seed = 4}));
  ASSERT_TRUE(a_.Outbound(good, &to));
  good.data()[good.length - 1] ^= std::byte{1};
  EXPECT_FALSE(b_.Inbound(good, a_ep_, b_ep_));
  EXPECT_EQ(b_.counters().decrypt_failed, 1u);
}

}  // namespace
}  // namespace ipsec::ike
