// CardDataPlane (host/ike/daemon/card_data_plane.h): the gateway's data path through the runtime.
// Two gateways A and B, each a Runtime on its own device, with mirrored CHILD_SAs as the IKE
// daemon installs them; what A sends toward the network is what B receives. Runs on every device
// in the list: "soft" (the software model of the card), "none" (the runtime's software path) and,
// in builds with the Verilated card, "sim".
#include "host/ike/daemon/card_data_plane.h"
#include "host/ike/daemon/data_path_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "host/common/bytes.h"
#include "tests/esp/test_packets.h"
#include "tests/gateway/gateway_test_util.h"
#ifdef IPSEC_HAVE_SIM_CARD
#include "driver/sim/sim_card.h"
#endif

namespace ipsec::ike {
namespace {

using esp::testing::MakeKeys;
using esp::testing::MakePacket;
using Buf = std::vector<std::byte>;

#ifdef IPSEC_HAVE_SIM_CARD
const bool kSimRegistered = driver::RegisterSimBackend().ok();
#endif

std::vector<std::string> Devices() {
  std::vector<std::string> d = {"soft", "none"};
#ifdef IPSEC_HAVE_SIM_CARD
  if (kSimRegistered) d.push_back("sim");
#endif
  return d;
}

using testing::Ep;
using testing::Ts;

struct Captured {
  std::vector<std::pair<Buf, Endpoint>> esp;
  std::vector<uint8_t> esp_tos;
  std::vector<Buf> tun;
};

class CaptureSink final : public CardDataPlane::Sink {
 public:
  explicit CaptureSink(Captured* c) : c_(c) {}
  void SendEsp(std::span<const EspDatagram> batch) override {
    for (const EspDatagram& e : batch) {
      c_->esp.emplace_back(Buf(e.payload.begin(), e.payload.end()), e.to);
      c_->esp_tos.push_back(e.tos);
    }
  }
  void DeliverTun(std::span<const Bytes> batch) override {
    for (Bytes b : batch) c_->tun.emplace_back(b.begin(), b.end());
  }

 private:
  Captured* c_;
};

struct Gateway {
  std::unique_ptr<runtime::Runtime> rt;
  std::unique_ptr<CardDataPlane> dp;
  Captured out;
  CaptureSink sink{&out};
  Endpoint self;

  void Open(const std::string& device, Endpoint me) {
    self = me;
    runtime::RuntimeOptions o;
    o.use_card = device != "none";
    if (o.use_card) o.device_spec = device;
    o.driver.queues = 1;
    o.driver.ring_log2 = 8;
    o.driver.register_timeout = std::chrono::seconds(30);  // wall time; the simulated card is slow
    o.max_sas = 256;
    o.max_tunnels = 64;
    auto r = runtime::Runtime::Create(std::move(o));
    ASSERT_TRUE(r.ok()) << r.status().message();
    rt = std::move(*r);
    // No grace for removed children's selectors, so that a test sees them go at the next Service.
    auto d = CardDataPlane::Create(
        *rt, {.buffers = 256, .buf_bytes = 2048, .headroom = 256, .queue = 0, .natt_port = 4500, .retire_grace = {}, .log = {}});
    ASSERT_TRUE(d.ok()) << d.status().message();
    dp = std::move(*d);
  }
  void Close() {
    dp.reset();
    rt.reset();
  }
  // Submits packets (as if read from the TUN device) and drives the data path until they completed.
  void FromTun(const std::vector<Buf>& pkts) {
    size_t i = 0;
    while (i < pkts.size()) {
      std::array<CardDataPlane::RxBuf, 32> bufs;
      const size_t n = dp->TakeRxBuffers(std::span(bufs).first(std::min<size_t>(32, pkts.size() - i)));
      ASSERT_GT(n, 0u);
      std::array<CardDataPlane::Filled, 32> f;
      for (size_t k = 0; k < n; ++k, ++i) {
        ASSERT_LE(pkts[i].size(), bufs[k].capacity);
        std::memcpy(bufs[k].data, pkts[i].data(), pkts[i].size());
        f[k] = {bufs[k].id, static_cast<uint32_t>(pkts[i].size()), {}, {}};
      }
      dp->SubmitOutbound(std::span(f).first(n));
      Drain();
    }
  }
  // Datagrams (UDP payloads) received from `from`.
  void FromNet(const std::vector<Buf>& datagrams, const Endpoint& from, uint8_t tos = 0) {
    size_t i = 0;
    while (i < datagrams.size()) {
      std::array<CardDataPlane::RxBuf, 32> bufs;
      const size_t n = dp->TakeRxBuffers(std::span(bufs).first(std::min<size_t>(32, datagrams.size() - i)));
      ASSERT_GT(n, 0u);
      std::array<CardDataPlane::Filled, 32> f;
      for (size_t k = 0; k < n; ++k, ++i) {
        std::memcpy(bufs[k].data, datagrams[i].data(), datagrams[i].size());
        f[k] = {bufs[k].id, static_cast<uint32_t>(datagrams[i].size()), from, self, tos};
      }
      dp->SubmitInbound(std::span(f).first(n));
      Drain();
    }
  }
  void Drain() {
    for (int round = 0; round < 200000 && dp->in_flight() > 0; ++round) {
      if (dp->Poll(sink) == 0 && round % 256 == 255) dp->Service();
    }
    EXPECT_EQ(dp->in_flight(), 0u);
  }
};

class CardDataPlaneTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    a_.Open(GetParam(), Ep("198.18.0.1"));
    b_.Open(GetParam(), Ep("198.18.0.2"));
  }
  void TearDown() override {
    a_.Close();
    b_.Close();
  }

  // Installs one CHILD_SA pair on both gateways as the daemon would: A protects 192.0.2.0/24 <->
  // 198.51.100.0/24, B the mirror. Returns {A's info, B's info}.
  std::pair<ChildSaInfo, ChildSaInfo> InstallChild(uint32_t key_seed, std::vector<TrafficSelector> a_local = {},
                                                   std::vector<TrafficSelector> a_remote = {},
                                                   uint32_t replay_window = 128) {
    if (a_local.empty()) a_local = {Ts("192.0.2.0", "192.0.2.255")};
    if (a_remote.empty()) a_remote = {Ts("198.51.100.0", "198.51.100.255")};
    ChildSaInfo ia = testing::TestChild(key_seed, replay_window);
    ia.local = a_.self;
    ia.remote = b_.self;
    ia.local_ts = a_local;
    ia.remote_ts = a_remote;
    auto spi_a = a_.dp->AllocateSpi(sa::Protocol::kEsp);
    auto spi_b = b_.dp->AllocateSpi(sa::Protocol::kEsp);
    EXPECT_TRUE(spi_a.ok() && spi_b.ok());
    ia.spi_in = *spi_a;
    ia.spi_out = *spi_b;
    ChildSaInfo ib = ia;
    ib.local = b_.self;
    ib.remote = a_.self;
    ib.local_ts = {Ts("198.51.100.0", "198.51.100.255")};
    ib.remote_ts = {Ts("192.0.2.0", "192.0.2.255")};
    ib.spi_in = *spi_b;
    ib.spi_out = *spi_a;
    // a->b keys: seed; b->a keys: seed + 1.
    Status sa_ = a_.dp->Install(ia, MakeKeys(ia.suite, key_seed + 1), MakeKeys(ia.suite, key_seed));
    Status sb = b_.dp->Install(ib, MakeKeys(ia.suite, key_seed), MakeKeys(ia.suite, key_seed + 1));
    EXPECT_TRUE(sa_.ok()) << sa_.message();
    EXPECT_TRUE(sb.ok()) << sb.message();
    return {ia, ib};
  }

  static std::vector<Buf> Packets(size_t n, uint32_t seed, size_t max_payload = 1400) {
    std::vector<Buf> v;
    for (size_t i = 0; i < n; ++i) {
      v.push_back(MakePacket({.payload_len = 1 + (i * 97) % max_payload, .seed = static_cast<uint32_t>(seed + i)}));
    }
    return v;
  }

  // B's reverse traffic: IPv4 packets from 198.51.100.x to 192.0.2.x (the documentation
  // addresses MakePacket uses, swapped), payloads of first_len, first_len + 1, ... bytes.
  static std::vector<Buf> ReversePackets(size_t n, size_t first_len, uint32_t seed) {
    std::vector<Buf> v;
    for (size_t i = 0; i < n; ++i) {
      Buf p = MakePacket({.payload_len = first_len + i, .seed = static_cast<uint32_t>(seed + i)});
      std::byte tmp[4];
      std::memcpy(tmp, &p[12], 4);
      std::memcpy(&p[12], &p[16], 4);
      std::memcpy(&p[16], tmp, 4);
      v.push_back(p);
    }
    return v;
  }

  // A's ESP datagrams so far, delivered to B; returns them and clears A's capture.
  std::vector<Buf> TakeEsp(Gateway& g, const Endpoint& expect_to) {
    std::vector<Buf> v;
    for (auto& [d, to] : g.out.esp) {
      EXPECT_EQ(to, expect_to);
      v.push_back(std::move(d));
    }
    g.out.esp.clear();
    g.out.esp_tos.clear();
    return v;
  }

  Gateway a_, b_;
};

TEST_P(CardDataPlaneTest, PacketsCrossBothWaysByteExact) {
  // strongSwan's default window, 32, below the card's smallest (64): raised, so the SA stays on
  // the card (checked below: nothing completes on the host).
  InstallChild(100, {}, {}, 32);
  const std::vector<Buf> pkts = Packets(120, 1);
  a_.FromTun(pkts);
  ASSERT_EQ(a_.out.esp.size(), pkts.size());
  EXPECT_EQ(a_.dp->counters().encrypted, pkts.size());
  std::vector<Buf> esp = TakeEsp(a_, b_.self);
  for (const Buf& d : esp) EXPECT_GE(d.size(), 8u + 8u + 16u);  // SPI+seq, IV, ICV
  b_.FromNet(esp, a_.self);
  ASSERT_EQ(b_.out.tun.size(), pkts.size());
  EXPECT_EQ(b_.out.tun, pkts);  // in order, byte for byte

  // And back: B's reverse traffic (source 198.51.100.x) reaches A.
  const std::vector<Buf> back = ReversePackets(40, 20, 900);
  b_.FromTun(back);
  a_.FromNet(TakeEsp(b_, a_.self), b_.self);
  ASSERT_EQ(a_.out.tun.size(), back.size());
  EXPECT_EQ(a_.out.tun, back);
  EXPECT_EQ(a_.dp->free_buffers(), 256u);
  EXPECT_EQ(b_.dp->free_buffers(), 256u);
  if (GetParam() != "none") {
    EXPECT_GT(a_.dp->counters().card, 0u);  // it went through the card
    EXPECT_EQ(a_.dp->counters().host, 0u);
  }
}

TEST_P(CardDataPlaneTest, RekeySwitchesWithNoPacketLostOrDuplicated) {
  auto [a1, b1] = InstallChild(200);
  const std::vector<Buf> p1 = Packets(50, 10);
  a_.FromTun(p1);
  std::vector<Buf> esp1 = TakeEsp(a_, b_.self);
  // The rekey: both ends install the new child while the old one's packets are still in transit.
  auto [a2, b2] = InstallChild(300);
  const std::vector<Buf> p2 = Packets(50, 20);
  a_.FromTun(p2);
  std::vector<Buf> esp2 = TakeEsp(a_, b_.self);
  for (const Buf& d : esp1) EXPECT_EQ(LoadU32Be(d.data()), a1.spi_out);
  for (const Buf& d : esp2) EXPECT_EQ(LoadU32Be(d.data()), a2.spi_out) << "the switch is immediate";
  // B receives them interleaved: the old inbound SA still accepts its packets.
  std::vector<Buf> mixed;
  for (size_t i = 0; i < esp1.size(); ++i) {
    mixed.push_back(esp2[i]);
    mixed.push_back(esp1[i]);
  }
  b_.FromNet(mixed, a_.self);
  ASSERT_EQ(b_.out.tun.size(), p1.size() + p2.size());
  for (size_t i = 0; i < p1.size(); ++i) {
    EXPECT_EQ(b_.out.tun[2 * i], p2[i]);
    EXPECT_EQ(b_.out.tun[2 * i + 1], p1[i]);
  }
  // IKE deletes the old child; traffic goes on on the new one; nothing duplicated on replay.
  a_.dp->Remove(a1);
  b_.dp->Remove(b1);
  EXPECT_EQ(a_.dp->size(), 1u);
  b_.out.tun.clear();
  b_.FromNet(esp2, a_.self);  // replays of the new SA's packets
  EXPECT_TRUE(b_.out.tun.empty());
  EXPECT_EQ(b_.dp->counters().dropped, esp2.size());
  EXPECT_EQ(b_.dp->counters().drop_reasons[static_cast<size_t>(sa::DropReason::kReplay)], esp2.size());
  const std::vector<Buf> p3 = Packets(30, 30);
  a_.FromTun(p3);
  b_.FromNet(TakeEsp(a_, b_.self), a_.self);
  EXPECT_EQ(b_.out.tun, p3);
  // Removing the last child takes the policies away: the TUN traffic is then discarded.
  a_.dp->Remove(a2);
  b_.dp->Remove(b2);
  for (int i = 0; i < 300; ++i) a_.dp->Service();
  a_.FromTun(Packets(5, 40));
  EXPECT_TRUE(a_.out.esp.empty());
  EXPECT_EQ(a_.dp->counters().no_policy, 5u);
  EXPECT_EQ(a_.dp->size(), 0u);
}

TEST_P(CardDataPlaneTest, NatMappingChangeMovesTheSasWithTheirSequenceNumbers) {
  auto [ia, ib] = InstallChild(400);
  const std::vector<Buf> p1 = Packets(20, 50);
  a_.FromTun(p1);
  const std::vector<Buf> esp1 = TakeEsp(a_, b_.self);
  b_.FromNet(esp1, a_.self);
  ASSERT_EQ(b_.out.tun, p1);
  // B's NAT mapping changes (RFC 7296 §2.23): IKE on A now sees B at 198.18.0.9:31000.
  const Endpoint moved{*sa::IpAddress::Parse("198.18.0.9"), 31000};
  ia.remote = moved;
  a_.dp->UpdateEndpoints(ia);
  const std::vector<Buf> p2 = Packets(20, 60);
  a_.FromTun(p2);
  const std::vector<Buf> esp2 = TakeEsp(a_, moved);  // every datagram to the new endpoint
  ASSERT_EQ(esp2.size(), p2.size());
  EXPECT_EQ(LoadU32Be(esp2.front().data() + 4), LoadU32Be(esp1.back().data() + 4) + 1)
      << "the sequence numbers carry on";
  b_.out.tun.clear();
  b_.FromNet(esp2, a_.self);
  EXPECT_EQ(b_.out.tun, p2);
  // B's traffic now arrives from the new mapping and is accepted.
  const std::vector<Buf> back = ReversePackets(10, 30, 700);
  b_.FromTun(back);
  a_.FromNet(TakeEsp(b_, a_.self), moved);
  EXPECT_EQ(a_.out.tun, back);
  EXPECT_EQ(a_.dp->counters().dropped, 0u);
  EXPECT_EQ(a_.dp->free_buffers(), 256u);
}

TEST_P(CardDataPlaneTest, OuterDscpAndEcnCrossTheSocket) {
  // Outbound: the card copies the inner DSCP and ECN to the outer header (RFC 4301 §5.1.2.1,
  // RFC 6040 normal mode); the socket must send them, so the datagram carries that byte.
  InstallChild(500);
  const uint8_t inner_tos = (10 << 2) | 2;  // AF11, ECT(0)
  const Buf inner = MakePacket({.payload_len = 200, .tos = inner_tos, .seed = 5});
  a_.FromTun({inner});
  ASSERT_EQ(a_.out.esp_tos.size(), 1u);
  EXPECT_EQ(a_.out.esp_tos[0], inner_tos);
  const std::vector<Buf> esp = TakeEsp(a_, b_.self);
  // Inbound: congestion marked on the way (outer CE): the inner packet arrives CE (RFC 6040 §4.2).
  b_.FromNet(esp, a_.self, (10 << 2) | 3);
  ASSERT_EQ(b_.out.tun.size(), 1u);
  EXPECT_EQ(std::to_integer<uint8_t>(b_.out.tun[0][1]) & 3, 3) << "CE";
  EXPECT_EQ(std::to_integer<uint8_t>(b_.out.tun[0][1]) >> 2, 10) << "the inner DSCP is kept";
  EXPECT_TRUE(ip::Ipv4ChecksumOk(b_.out.tun[0].data(), 20));
}

TEST_P(CardDataPlaneTest, InboundPacketsOutsideTheSelectorsAreDropped) {
  // A believes it may send anything; B's child only covers 192.0.2.0/24 -> 198.51.100.0/24.
  auto [ia, ib] = InstallChild(400, {Ts("0.0.0.0", "255.255.255.255")}, {Ts("0.0.0.0", "255.255.255.255")});
  Buf spoof = MakePacket({.payload_len = 100, .seed = 5});
  const uint8_t src[4] = {203, 0, 113, 9};
  std::memcpy(&spoof[12], src, 4);
  ip::SetIpv4Checksum(spoof.data(), 20);
  Buf good = MakePacket({.payload_len = 100, .seed = 6});
  a_.FromTun({spoof, good});
  b_.FromNet(TakeEsp(a_, b_.self), a_.self);
  ASSERT_EQ(b_.out.tun.size(), 1u);
  EXPECT_EQ(b_.out.tun[0], good);
  EXPECT_EQ(b_.dp->counters().policy_violations, 1u);
}

TEST_P(CardDataPlaneTest, UnprotectedAndMalformedTrafficIsCountedAndBuffersReturn) {
  InstallChild(500);
  // No policy: to an address outside the selectors.
  Buf other = MakePacket({.payload_len = 60, .seed = 7});
  const uint8_t dst[4] = {203, 0, 113, 1};
  std::memcpy(&other[16], dst, 4);
  ip::SetIpv4Checksum(other.data(), 20);
  a_.FromTun({other});
  EXPECT_EQ(a_.dp->counters().no_policy, 1u);
  EXPECT_TRUE(a_.out.esp.empty());
  // Garbage from the network: unknown SPI, short, random; a tampered packet fails its ICV.
  a_.FromTun(Packets(1, 8));
  std::vector<Buf> esp = TakeEsp(a_, b_.self);
  ASSERT_EQ(esp.size(), 1u);
  Buf tampered = esp[0];
  tampered[tampered.size() - 1] ^= std::byte{1};
  Buf unknown = esp[0];
  StoreU32Be(unknown.data(), 0x12345678);
  std::vector<Buf> bad = {tampered, unknown, Buf(3, std::byte{0x11}), Buf(200, std::byte{0xee})};
  b_.FromNet(bad, a_.self);
  EXPECT_TRUE(b_.out.tun.empty());
  const CardDataPathCounters& c = b_.dp->counters();
  EXPECT_EQ(c.esp_in, bad.size());
  // Each counted once: ICV failure and the random bytes as drops, the unknown SPI as no SA, the
  // 3-byte datagram (not ESP: the runtime treats it as cleartext, which no rule lets in) as policy.
  EXPECT_EQ(c.dropped + c.no_sa + c.bad_input + c.no_policy, bad.size());
  EXPECT_GE(c.no_sa, 1u);
  EXPECT_GE(c.drop_reasons[static_cast<size_t>(sa::DropReason::kAuthFailed)], 1u);
  // The good packet still goes through afterwards.
  b_.FromNet(esp, a_.self);
  EXPECT_EQ(b_.out.tun.size(), 1u);
  EXPECT_EQ(a_.dp->free_buffers(), 256u);
  EXPECT_EQ(b_.dp->free_buffers(), 256u);
  // Oversized or empty submissions never reach the queue.
  std::array<CardDataPlane::RxBuf, 2> bufs;
  ASSERT_EQ(b_.dp->TakeRxBuffers(bufs), 2u);
  std::array<CardDataPlane::Filled, 2> f = {CardDataPlane::Filled{bufs[0].id, 0, a_.self, b_.self},
                                            CardDataPlane::Filled{bufs[1].id, 60000, a_.self, b_.self}};
  b_.dp->SubmitInbound(f);
  EXPECT_EQ(b_.dp->counters().bad_input, c.bad_input);
  EXPECT_EQ(b_.dp->free_buffers(), 256u);
}

// The runtime reuses SA handles: a child removed long ago must not take the selectors of the newer
// child that got its handle (this broke traffic after a CHILD rekey in the strongSwan interop).
TEST_P(CardDataPlaneTest, RetiredSelectorsNeverHitANewerChildWithTheSameHandle) {
  for (uint32_t round = 0; round < 6; ++round) {
    auto [ia, ib] = InstallChild(600 + 10 * round);
    for (int i = 0; i < 3; ++i) {
      a_.dp->Service();
      b_.dp->Service();
    }
    const std::vector<Buf> p = Packets(4, 50 + round);
    a_.FromTun(p);
    b_.out.tun.clear();
    b_.FromNet(TakeEsp(a_, b_.self), a_.self);
    EXPECT_EQ(b_.out.tun, p) << "round " << round;
    a_.dp->Remove(ia);
    b_.dp->Remove(ib);
  }
  EXPECT_EQ(b_.dp->counters().policy_violations, 0u);
}

INSTANTIATE_TEST_SUITE_P(Devices, CardDataPlaneTest, ::testing::ValuesIn(Devices()),
                         [](const auto& p) { return p.param; });

std::vector<std::string> Prefixes(const char* a, const char* b) {
  std::vector<std::string> v;
  for (const runtime::Prefix& p :
       CardDataPlane::RangeToPrefixes(*sa::IpAddress::Parse(a), *sa::IpAddress::Parse(b))) {
    v.push_back(p.addr.ToString() + "/" + std::to_string(p.len));
  }
  return v;
}

TEST(RangeToPrefixes, CoversExactlyWithTheFewestPrefixes) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Prefixes("10.1.2.0", "10.1.2.255"), V{"10.1.2.0/24"});
  EXPECT_EQ(Prefixes("10.0.0.1", "10.0.0.6"), (V{"10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"}));
  EXPECT_EQ(Prefixes("0.0.0.0", "255.255.255.255"), V{"0.0.0.0/0"});
  EXPECT_EQ(Prefixes("192.0.2.7", "192.0.2.7"), V{"192.0.2.7/32"});
  EXPECT_EQ(Prefixes("255.255.255.254", "255.255.255.255"), V{"255.255.255.254/31"});
  EXPECT_EQ(Prefixes("128.0.0.0", "255.255.255.255"), V{"128.0.0.0/1"});
  EXPECT_EQ(Prefixes("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), V{"::/0"});
  EXPECT_EQ(Prefixes("2001:db8::", "2001:db8::ffff:ffff:ffff:ffff"), V{"2001:db8::/64"});
  EXPECT_EQ(Prefixes("2001:db8::1", "2001:db8::2"), (V{"2001:db8::1/128", "2001:db8::2/128"}));
  EXPECT_TRUE(Prefixes("10.0.0.9", "10.0.0.1").empty());
  EXPECT_TRUE(Prefixes("10.0.0.1", "2001:db8::1").empty());
  // A property check: every address of random ranges is covered exactly once, nothing else.
  std::mt19937 rng(7);
  for (int t = 0; t < 200; ++t) {
    const uint32_t lo = static_cast<uint32_t>(rng() % 5000), hi = lo + static_cast<uint32_t>(rng() % 3000);
    auto pf = CardDataPlane::RangeToPrefixes(sa::IpAddress::V4(0x0a000000 + lo), sa::IpAddress::V4(0x0a000000 + hi));
    uint64_t covered = 0;
    for (const auto& p : pf) {
      const uint32_t base = LoadU32Be(reinterpret_cast<const std::byte*>(p.addr.bytes.data())) - 0x0a000000u;
      const uint64_t n = uint64_t{1} << (32 - p.len);
      EXPECT_EQ(base % n, 0u);
      EXPECT_GE(base, lo);
      EXPECT_LE(base + n - 1, hi);
      covered += n;
    }
    EXPECT_EQ(covered, uint64_t{hi} - lo + 1);
  }
}

}  // namespace
}  // namespace ipsec::ike

namespace ipsec::ike {
namespace {

// A TCP/IPv4 or IPv6 packet of `payload` bytes as a TSO-capable TUN device hands it over.
std::vector<std::byte> TsoPacket(bool v6, size_t payload, uint8_t flags) {
  std::vector<std::byte> p = esp::testing::MakePacket({.v6 = v6, .proto = ip::kProtoTcp, .payload_len = payload, .seed = 77});
  const size_t l4 = v6 ? 40 : 20;
  p[l4 + 13] = std::byte{flags};
  StoreU32Be(p.data() + l4 + 4, 0xfffff000u);  // wraps within the piece
  return p;
}

bool ChecksumsValid(Bytes seg, bool v6) {
  const size_t l4 = v6 ? 40 : 20;
  if (!v6 && ip::ChecksumFold(ip::ChecksumPartial(seg.first(20))) != 0xffff) return false;
  const uint32_t l4_len = static_cast<uint32_t>(seg.size() - l4);
  uint32_t sum = ip::PseudoHeaderSum(seg.data() + (v6 ? 8 : 12), seg.data() + (v6 ? 24 : 16), v6, 6, l4_len);
  sum = ip::ChecksumPartial(seg.subspan(l4), sum);
  return ip::ChecksumFold(sum) == 0xffff;
}

TEST(SegmentOffloaded, CutsTsoPiecesIntoValidSegments) {
  for (bool v6 : {false, true}) {
    const size_t mss = 1360, payload = 10 * 1360 + 77;
    std::vector<std::byte> piece = TsoPacket(v6, payload, 0x80 | 0x18 | 0x01);  // CWR, PSH+ACK, FIN
    VnetHdr h;
    h.flags = VnetHdr::kNeedsCsum;
    h.gso_type = v6 ? VnetHdr::kGsoTcpV6 : VnetHdr::kGsoTcpV4;
    h.gso_size = static_cast<uint16_t>(mss);
    h.csum_start = static_cast<uint16_t>(v6 ? 40 : 20);
    h.csum_offset = 16;
    std::vector<std::vector<std::byte>> segs;
    const size_t n = SegmentOffloaded(h, piece, 64, [&](size_t len) -> std::span<std::byte> {
      segs.emplace_back(len);
      return segs.back();
    });
    ASSERT_EQ(n, 11u);
    ASSERT_EQ(segs.size(), 11u);
    std::vector<std::byte> joined;
    const size_t hdrs = (v6 ? 40 : 20) + 20;
    for (size_t i = 0; i < n; ++i) {
      const auto& s = segs[i];
      EXPECT_TRUE(ChecksumsValid(s, v6)) << "segment " << i;
      EXPECT_EQ(s.size(), hdrs + (i + 1 < n ? mss : 77u));
      if (!v6) {
        EXPECT_EQ(LoadU16Be(s.data() + 2), s.size());
        EXPECT_EQ(LoadU16Be(s.data() + 4), static_cast<uint16_t>(LoadU16Be(piece.data() + 4) + i));
      } else {
        EXPECT_EQ(LoadU16Be(s.data() + 4), s.size() - 40);
      }
      const std::byte* tcp = s.data() + (v6 ? 40 : 20);
      EXPECT_EQ(LoadU32Be(tcp + 4), static_cast<uint32_t>(0xfffff000u + i * mss));
      const uint8_t f = std::to_integer<uint8_t>(tcp[13]);
      EXPECT_EQ((f & 0x80) != 0, i == 0) << "CWR on the first segment only";
      EXPECT_EQ((f & 0x09) != 0, i + 1 == n) << "FIN/PSH on the last segment only";
      EXPECT_TRUE(f & 0x10);
      joined.insert(joined.end(), s.begin() + static_cast<std::ptrdiff_t>(hdrs), s.end());
    }
    EXPECT_TRUE(std::equal(joined.begin(), joined.end(), piece.begin() + static_cast<std::ptrdiff_t>(hdrs)));
  }
}

TEST(SegmentOffloaded, CompletesAPartialChecksumAndRefusesWhatItCannotCut) {
  // A single UDP packet with a partial checksum: the kernel left the pseudo-header sum.
  std::vector<std::byte> p = esp::testing::MakePacket({.payload_len = 300, .seed = 3});
  const uint16_t good = LoadU16Be(p.data() + 26);
  uint32_t ph = ip::PseudoHeaderSum(p.data() + 12, p.data() + 16, false, 17, static_cast<uint32_t>(p.size() - 20));
  StoreU16Be(p.data() + 26, ip::ChecksumFold(ph));
  VnetHdr h;
  h.flags = VnetHdr::kNeedsCsum;
  h.csum_start = 20;
  h.csum_offset = 6;
  std::vector<std::byte> out;
  ASSERT_EQ(SegmentOffloaded(h, p, 64, [&](size_t len) -> std::span<std::byte> {
              out.resize(len);
              return out;
            }),
            1u);
  EXPECT_EQ(LoadU16Be(out.data() + 26), good);
  // UDP fragmentation offload, a bad TCP offset, too many segments, a short destination: refused.
  auto sink = [&](size_t len) -> std::span<std::byte> {
    out.resize(len);
    return out;
  };
  VnetHdr ufo = h;
  ufo.gso_type = 3;
  ufo.gso_size = 100;
  EXPECT_EQ(SegmentOffloaded(ufo, p, 64, sink), 0u);
  std::vector<std::byte> t = TsoPacket(false, 5000, 0x10);
  VnetHdr tso;
  tso.gso_type = VnetHdr::kGsoTcpV4;
  tso.gso_size = 100;
  tso.csum_start = 20;
  tso.gso_size = 50;
  EXPECT_EQ(SegmentOffloaded(tso, t, 64, sink), 0u);  // 100 segments
  tso.gso_size = 1000;
  tso.csum_start = 30;
  EXPECT_EQ(SegmentOffloaded(tso, t, 64, sink), 0u);  // csum_start is not the IPv4 header's end
  tso.csum_start = 20;
  EXPECT_EQ(SegmentOffloaded(tso, t, 64, [](size_t) { return std::span<std::byte>(); }), 0u);
  EXPECT_EQ(SegmentOffloaded(tso, std::span<std::byte>(t).first(30), 64, sink), 0u);
}

// ---- ip::ChecksumPartial (host/common/ip.cc) against the RFC 1071 16-bit loop ----

uint32_t ReferenceSum(Bytes b, uint32_t sum) {
  for (size_t i = 0; i + 1 < b.size(); i += 2) sum += LoadU16Be(&b[i]);
  if (b.size() % 2) sum += std::to_integer<uint32_t>(b.back()) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

TEST(ChecksumPartial, MatchesTheRfc1071LoopAtEveryLengthAndOffset) {
  std::vector<std::byte> data(70000);
  uint32_t x = 12345;
  for (auto& b : data) {
    x = x * 1103515245u + 12345u;
    b = std::byte(x >> 24);
  }
  for (size_t len = 0; len < 300; ++len) {
    for (size_t off = 0; off < 9; ++off) {
      const Bytes b(data.data() + off, len);
      ASSERT_EQ(ip::ChecksumPartial(b, 0x1abcd), ReferenceSum(b, 0x1abcd)) << len << " at " << off;
    }
  }
  // Long inputs, all-ones (end-around carries everywhere) and chaining over even-length pieces.
  EXPECT_EQ(ip::ChecksumPartial(data, 7), ReferenceSum(data, 7));
  std::vector<std::byte> ones(65536, std::byte{0xff});
  EXPECT_EQ(ip::ChecksumPartial(ones), ReferenceSum(ones, 0));
  const uint32_t chained = ip::ChecksumPartial(Bytes(data).subspan(1000, 3000), ip::ChecksumPartial(Bytes(data).first(1000)));
  EXPECT_EQ(chained, ReferenceSum(Bytes(data).first(4000), 0));
}

// ---- TunCoalescer: GRO in user space toward the TUN device ----

// The wire segments of one TCP flow: a TSO piece of `payload` bytes cut at `mss`, ports from
// `flow`, sequence numbers from `seq`, ACK (+ PSH on the last).
std::vector<Buf> FlowSegments(bool v6, int flow, size_t mss, size_t payload, uint32_t seq) {
  Buf piece = esp::testing::MakePacket({.v6 = v6, .proto = ip::kProtoTcp, .payload_len = payload, .seed = static_cast<uint32_t>(90 + flow)});
  const size_t l4 = v6 ? 40 : 20;
  StoreU16Be(piece.data() + l4, static_cast<uint16_t>(40000 + flow));
  StoreU32Be(piece.data() + l4 + 4, seq);
  piece[l4 + 13] = std::byte{0x18};
  VnetHdr h;
  h.flags = VnetHdr::kNeedsCsum;
  h.gso_type = v6 ? VnetHdr::kGsoTcpV6 : VnetHdr::kGsoTcpV4;
  h.gso_size = static_cast<uint16_t>(mss);
  h.csum_start = static_cast<uint16_t>(l4);
  h.csum_offset = 16;
  std::vector<Buf> segs;
  segs.reserve(200);
  const size_t n = SegmentOffloaded(h, piece, 200, [&](size_t len) -> std::span<std::byte> {
    segs.emplace_back(len);
    return segs.back();
  });
  EXPECT_EQ(n, segs.size());
  return segs;
}

// What the kernel makes of the writes: each write's packets, a coalesced one cut again.
std::vector<Buf> KernelView(const TunCoalescer& c, size_t writes, std::vector<size_t>* per_write = nullptr) {
  std::vector<Buf> out;
  for (size_t w = 0; w < writes; ++w) {
    Buf joined;
    for (Bytes piece : c.Write(w)) joined.insert(joined.end(), piece.begin(), piece.end());
    EXPECT_GT(joined.size(), VnetHdr::kBytes);
    const VnetHdr h = VnetHdr::Read(joined.data());
    std::span<std::byte> pkt(joined.data() + VnetHdr::kBytes, joined.size() - VnetHdr::kBytes);
    size_t n = 0;
    if (h.gso_type == VnetHdr::kGsoNone) {
      EXPECT_EQ(h.flags, 0) << "a packet written alone keeps its own checksums";
      out.emplace_back(pkt.begin(), pkt.end());
      n = 1;
    } else {
      EXPECT_LE(pkt.size(), 65535u);
      n = SegmentOffloaded(h, pkt, 64, [&](size_t len) -> std::span<std::byte> {
        out.emplace_back(len);
        return out.back();
      });
      EXPECT_GT(n, 1u);
    }
    if (per_write) per_write->push_back(n);
  }
  return out;
}

std::vector<Bytes> View(const std::vector<Buf>& pkts) {
  std::vector<Bytes> v;
  for (const Buf& p : pkts) v.emplace_back(p);
  return v;
}

TEST(TunCoalescer, OneFlowBecomesOneWriteThatTheKernelCutsBackByteExact) {
  for (bool v6 : {false, true}) {
    const std::vector<Buf> segs = FlowSegments(v6, 1, 1360, 20 * 1360 + 500, 0xffffe000u);
    ASSERT_EQ(segs.size(), 21u);
    TunCoalescer c;
    const auto in = View(segs);
    ASSERT_EQ(c.Plan(in), 1u);
    const Bytes head = c.Write(0)[0];
    const VnetHdr h = VnetHdr::Read(head.data());
    EXPECT_EQ(h.flags, VnetHdr::kNeedsCsum);
    EXPECT_EQ(h.gso_type, v6 ? VnetHdr::kGsoTcpV6 : VnetHdr::kGsoTcpV4);
    EXPECT_EQ(h.gso_size, 1360);
    EXPECT_EQ(h.hdr_len, (v6 ? 40 : 20) + 20);
    EXPECT_EQ(h.csum_start, v6 ? 40 : 20);
    EXPECT_EQ(h.csum_offset, 16);
    const std::vector<Buf> back = KernelView(c, 1);
    EXPECT_EQ(back, segs) << "the kernel's segmentation of the write gives the original segments";
    EXPECT_EQ(c.coalesced_writes(), 1u);
    EXPECT_EQ(c.coalesced_segments(), 21u);
  }
}

TEST(TunCoalescer, InterleavedFlowsKeepTheirOwnOrder) {
  const std::vector<Buf> a = FlowSegments(false, 1, 1000, 5000, 100);
  const std::vector<Buf> b = FlowSegments(false, 2, 1000, 3000, 7);
  const std::vector<Buf> c6 = FlowSegments(true, 3, 1200, 2400, 9);
  std::vector<Buf> mixed = {a[0], b[0], a[1], c6[0], b[1], a[2], c6[1], a[3], b[2], a[4]};
  TunCoalescer c;
  std::vector<size_t> per_write;
  const size_t writes = c.Plan(View(mixed));
  const std::vector<Buf> back = KernelView(c, writes, &per_write);
  EXPECT_EQ(writes, 3u);
  EXPECT_EQ(per_write, (std::vector<size_t>{5, 3, 2})) << "groups in the order of their first packets";
  std::vector<Buf> expect = a;
  expect.insert(expect.end(), b.begin(), b.end());
  expect.insert(expect.end(), c6.begin(), c6.end());
  EXPECT_EQ(back, expect);
}

TEST(TunCoalescer, AnythingThatMustNotMergeIsWrittenAloneAndUnchanged) {
  const std::vector<Buf> f = FlowSegments(false, 1, 1000, 8000, 5000);  // 8 segments
  auto check = [](std::vector<Buf> pkts, std::vector<size_t> expect_writes, const char* what) {
    TunCoalescer c;
    std::vector<size_t> per_write;
    const size_t writes = c.Plan(View(pkts));
    const std::vector<Buf> back = KernelView(c, writes, &per_write);
    EXPECT_EQ(per_write, expect_writes) << what;
    EXPECT_EQ(back, pkts) << what << ": every packet once, in order, byte-exact";
  };
  // A gap in the sequence: the flow goes on in a new group after the first one.
  check({f[0], f[1], f[3], f[4]}, {2, 2}, "sequence gap");
  // A shorter segment ends its group.
  std::vector<Buf> shortseg = FlowSegments(false, 1, 1000, 2500, 5000);  // 1000, 1000, 500
  const std::vector<Buf> after = FlowSegments(false, 1, 1000, 2000, 7500);
  check({shortseg[0], shortseg[1], shortseg[2], after[0], after[1]}, {3, 2}, "short segment");
  // Flags other than ACK/PSH, a different ack number, TTL, IP options, a fragment, UDP.
  auto with = [&](size_t i, auto&& edit) {
    Buf p = f[i];
    edit(p);
    return p;
  };
  auto fix_tcp = [](Buf& p) {
    StoreU16Be(p.data() + 36, 0);
    uint32_t sum = ip::PseudoHeaderSum(p.data() + 12, p.data() + 16, false, 6, static_cast<uint32_t>(p.size() - 20));
    StoreU16Be(p.data() + 36, static_cast<uint16_t>(~ip::ChecksumFold(ip::ChecksumPartial(Bytes(p).subspan(20), sum))));
  };
  check({f[0], with(1, [&](Buf& p) { p[33] = std::byte{0x11}; fix_tcp(p); }), f[2]}, {1, 1, 1}, "FIN");
  auto new_ack = [&](Buf& p) {
    p[31] ^= std::byte{1};
    fix_tcp(p);
  };
  check({f[0], f[1], with(2, new_ack), with(3, new_ack)}, {2, 2}, "ack moved on");
  check({f[0], with(1, [&](Buf& p) { p[8] = std::byte{9}; ip::SetIpv4Checksum(p.data(), 20); })}, {1, 1}, "TTL");
  check({with(0, [&](Buf& p) { p[6] = std::byte{0x20}; ip::SetIpv4Checksum(p.data(), 20); }), f[1]}, {1, 1}, "fragment");
  // A corrupted segment: written alone for the kernel to drop, and counted.
  TunCoalescer c;
  std::vector<Buf> bad = {f[0], with(1, [&](Buf& p) { p[500] ^= std::byte{0x40}; }), f[2]};
  std::vector<size_t> per_write;
  const size_t writes = c.Plan(View(bad));
  EXPECT_EQ(KernelView(c, writes, &per_write), bad);
  EXPECT_EQ(per_write, (std::vector<size_t>{1, 1, 1}));
  EXPECT_EQ(c.bad_checksums(), 1u);
  // Non-TCP and a TCP packet without payload (a pure ACK) pass through.
  check({esp::testing::MakePacket({.payload_len = 100, .seed = 1}), f[0]}, {1, 1}, "UDP");
}

TEST(TunCoalescer, GroupsStopAt64SegmentsAnd64KiB) {
  // 64 segments of 500 bytes fit; a 65th starts a new write. 1400-byte segments stop before 64 KiB.
  const std::vector<Buf> small = FlowSegments(false, 1, 500, 64 * 500, 1);
  ASSERT_EQ(small.size(), 64u);
  TunCoalescer c;
  std::vector<size_t> per_write;
  size_t writes = c.Plan(View(small));
  EXPECT_EQ(KernelView(c, writes, &per_write), small);
  EXPECT_EQ(per_write, (std::vector<size_t>{64}));
  const std::vector<Buf> big = FlowSegments(true, 2, 1400, 60 * 1400, 1);
  per_write.clear();
  writes = c.Plan(View(big));
  EXPECT_EQ(KernelView(c, writes, &per_write), big);
  ASSERT_EQ(per_write.size(), 2u);
  EXPECT_EQ(per_write[0], 46u) << "46 x 1400 + 60 bytes of headers is the most under 65535";
}

}  // namespace
}  // namespace ipsec::ike
