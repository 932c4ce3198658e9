// Exchanges end to end between two managers in one process (RFC 7296): setup with PSK, cookies,
// INVALID_KE_PAYLOAD, CHILD_SA creation and rekeying from either side with and without PFS, rekey
// collisions, IKE rekeying, DELETE, liveness checks and dead peers, retransmission and the
// response cache, fragmentation, NAT-T, narrowing, transport mode, and an IKE_SA_INIT flood.
#include <gtest/gtest.h>

#include <algorithm>

#include "host/ike/encoding/message.h"
#include "host/ike/sa/traffic_selectors.h"
#include "tests/ike_sa/ike_test_harness.h"

namespace ipsec::ike {
namespace {

using testing::Daemon;
using testing::Datagram;
using testing::FakeClock;
using testing::Pump;

Proposal IkeProposal(EncrId encr, uint16_t bits, PrfId prf, std::vector<DhGroup> groups,
                     IntegId integ = IntegId::kNone) {
  Proposal p;
  p.protocol = ProtocolId::kIke;
  p.transforms.push_back(Transform::Encr(encr, bits));
  if (integ != IntegId::kNone) p.transforms.push_back(Transform::Integ(integ));
  p.transforms.push_back(Transform::Prf(prf));
  for (DhGroup g : groups) p.transforms.push_back(Transform::Dh(g));
  return p;
}

Proposal EspProposal(EncrId encr, uint16_t bits, IntegId integ = IntegId::kNone, DhGroup pfs = DhGroup::kNone,
                     bool esn = false) {
  Proposal p;
  p.protocol = ProtocolId::kEsp;
  p.transforms.push_back(Transform::Encr(encr, bits));
  if (integ != IntegId::kNone) p.transforms.push_back(Transform::Integ(integ));
  if (pfs != DhGroup::kNone) p.transforms.push_back(Transform::Dh(pfs));
  p.transforms.push_back(Transform::Esn(esn ? EsnId::kEsn : EsnId::kNoEsn));
  return p;
}

TsConfig Subnet(const std::string& a, const std::string& b) {
  auto s = *sa::IpAddress::Parse(a);
  auto e = *sa::IpAddress::Parse(b);
  TsConfig t;
  t.ts = TrafficSelector::Ipv4Range({s.bytes[0], s.bytes[1], s.bytes[2], s.bytes[3]},
                                    {e.bytes[0], e.bytes[1], e.bytes[2], e.bytes[3]});
  return t;
}

class IkeSaTest : public ::testing::Test {
 protected:
  IkeSaTest() : moon(clock, 1, "198.18.0.1", 0xc1000000), sun(clock, 2, "198.18.0.2", 0xc2000000) {
    moon.credentials.secrets["sun.example.org"] = "correct horse battery staple";
    sun.credentials.secrets["moon.example.org"] = "correct horse battery staple";
    moon_cfg = MakeConfig("moon", "sun", moon.address, sun.address, "192.0.2.0", "192.0.2.255", "198.51.100.0",
                          "198.51.100.255");
    sun_cfg = MakeConfig("sun", "moon", sun.address, moon.address, "198.51.100.0", "198.51.100.255", "192.0.2.0",
                         "192.0.2.255");
    Apply();
  }

  static PeerConfig MakeConfig(const std::string& me, const std::string& peer, const sa::IpAddress& local,
                               const sa::IpAddress& remote, const std::string& l1, const std::string& l2,
                               const std::string& r1, const std::string& r2) {
    PeerConfig c;
    c.name = "gw";
    c.local_addrs = {local};
    c.remote_addrs = {remote};
    c.ike_proposals = {IkeProposal(EncrId::kAesGcm16, 256, PrfId::kHmacSha2_256, {DhGroup::kCurve25519})};
    c.local.id = Identity::Fqdn(me + ".example.org");
    c.remote.id = Identity::Fqdn(peer + ".example.org");
    ChildConfig child;
    child.name = "net";
    child.proposals = {EspProposal(EncrId::kAesGcm16, 256), EspProposal(EncrId::kAesGcm16, 128)};
    child.local_ts = {Subnet(l1, l2)};
    child.remote_ts = {Subnet(r1, r2)};
    c.children.push_back(child);
    return c;
  }

  void Apply() {
    moon.manager.SetConfigs({std::make_shared<const PeerConfig>(moon_cfg)});
    sun.manager.SetConfigs({std::make_shared<const PeerConfig>(sun_cfg)});
  }

  IkeSa* Connect() {
    auto id = moon.manager.Initiate("gw");
    EXPECT_TRUE(id.ok()) << id.status().message();
    Pump(moon, sun);
    return moon.manager.Find(*id);
  }

  static IkeSa* Only(Daemon& d) {
    IkeSa* found = nullptr;
    for (const auto& s : d.manager.List()) {
      if (s.state == IkeSaState::kEstablished) found = d.manager.Find(s.unique_id);
    }
    return found;
  }

  // Every installed SA of `a` has its mirror in `b` with the same keys the other way round.
  static void ExpectMirrored(Daemon& a, Daemon& b) {
    ASSERT_EQ(a.data_plane.sas.size(), b.data_plane.sas.size());
    for (const auto& [spi, sa] : a.data_plane.sas) {
      auto it = b.data_plane.sas.find(sa.info.spi_out);
      ASSERT_NE(it, b.data_plane.sas.end()) << "no peer SA for SPI " << sa.info.spi_out;
      const auto& peer = it->second;
      EXPECT_EQ(peer.info.spi_out, spi);
      EXPECT_EQ(peer.info.suite, sa.info.suite);
      EXPECT_TRUE(std::ranges::equal(peer.in.enc_key.span(), sa.out.enc_key.span()));
      EXPECT_TRUE(std::ranges::equal(peer.out.enc_key.span(), sa.in.enc_key.span()));
      EXPECT_TRUE(std::ranges::equal(peer.in.auth_key.span(), sa.out.auth_key.span()));
      EXPECT_EQ(peer.info.local_ts, sa.info.remote_ts);
      EXPECT_EQ(peer.info.remote_ts, sa.info.local_ts);
      EXPECT_EQ(peer.info.udp_encap, sa.info.udp_encap);
      EXPECT_EQ(peer.info.mode, sa.info.mode);
    }
  }

  FakeClock clock;
  Daemon moon;
  Daemon sun;
  PeerConfig moon_cfg;
  PeerConfig sun_cfg;
};

TEST_F(IkeSaTest, PskSetupInstallsMatchingChildSas) {
  IkeSa* sa = Connect();
  ASSERT_NE(sa, nullptr);
  EXPECT_EQ(sa->state(), IkeSaState::kEstablished);
  IkeSa* peer = Only(sun);
  ASSERT_NE(peer, nullptr);
  ASSERT_EQ(moon.data_plane.sas.size(), 1u);
  ExpectMirrored(moon, sun);
  const auto& child = moon.data_plane.sas.begin()->second.info;
  EXPECT_EQ(child.suite, sa::Suite::kAesGcm256);
  EXPECT_EQ(child.mode, sa::Mode::kTunnel);
  EXPECT_EQ(DescribeTs(child.local_ts), "192.0.2.0/24");
  EXPECT_EQ(DescribeTs(child.remote_ts), "198.51.100.0/24");
  EXPECT_EQ(moon.data_plane.sas.begin()->second.out.enc_key.size(), 36u);  // 32-byte key + salt
  EXPECT_FALSE(sa->nat_detected());
  EXPECT_EQ(sa->local().port, 500);
  EXPECT_EQ(moon.transport.total, 2u);  // IKE_SA_INIT and IKE_AUTH, nothing else
}

TEST_F(IkeSaTest, WrongPskFailsOnBothSides) {
  sun.credentials.secrets["moon.example.org"] = "something else entirely";
  auto id = moon.manager.Initiate("gw");
  ASSERT_TRUE(id.ok());
  Pump(moon, sun);
  EXPECT_EQ(moon.manager.Find(*id), nullptr);
  EXPECT_EQ(sun.manager.size(), 0u);
  EXPECT_TRUE(moon.data_plane.sas.empty());
  EXPECT_TRUE(sun.data_plane.sas.empty());
}

TEST_F(IkeSaTest, UnknownIdentityIsRefused) {
  moon_cfg.local.id = Identity::Fqdn("mallory.example.org");
  sun.credentials.secrets["mallory.example.org"] = "x";
  Apply();
  auto id = moon.manager.Initiate("gw");
  Pump(moon, sun);
  EXPECT_EQ(moon.manager.Find(*id), nullptr);
  EXPECT_EQ(sun.manager.size(), 0u);
}

TEST_F(IkeSaTest, InvalidKePayloadRetryWithTheResponderGroup) {
  moon_cfg.ike_proposals = {IkeProposal(EncrId::kAesGcm16, 256, PrfId::kHmacSha2_256,
                                        {DhGroup::kEcp256, DhGroup::kCurve25519})};
  sun_cfg.ike_proposals = {IkeProposal(EncrId::kAesGcm16, 256, PrfId::kHmacSha2_256, {DhGroup::kCurve25519})};
  Apply();
  IkeSa* sa = Connect();
  ASSERT_NE(sa, nullptr);
  EXPECT_EQ(sa->state(), IkeSaState::kEstablished);
  EXPECT_EQ(moon.transport.total, 3u);
  EXPECT_NE(sa->Snapshot().algorithms.find("CURVE_25519"), std::string::npos);
  ExpectMirrored(moon, sun);
}

TEST_F(IkeSaTest, NoCommonProposalFails) {
  sun_cfg.ike_proposals = {IkeProposal(EncrId::kAesCbc, 128, PrfId::kHmacSha2_256, {DhGroup::kModp2048},
                                       IntegId::kHmacSha2_256_128)};
  Apply();
  auto id = moon.manager.Initiate("gw");
  Pump(moon, sun);
  EXPECT_EQ(moon.manager.Find(*id), nullptr);
  EXPECT_EQ(sun.manager.size(), 0u);
}

TEST_F(IkeSaTest, CbcHmacEcp256AndModpGroups) {
  for (DhGroup g : {DhGroup::kEcp256, DhGroup::kEcp384, DhGroup::kModp2048, DhGroup::kModp3072}) {
    moon_cfg.ike_proposals = {IkeProposal(EncrId::kAesCbc, 256, PrfId::kHmacSha2_384, {g}, IntegId::kHmacSha2_256_128)};
    sun_cfg.ike_proposals = moon_cfg.ike_proposals;
    moon_cfg.children[0].proposals = {EspProposal(EncrId::kAesCbc, 128, IntegId::kHmacSha2_256_128)};
    sun_cfg.children[0].proposals = moon_cfg.children[0].proposals;
    Apply();
    IkeSa* sa = Connect();
    ASSERT_NE(sa, nullptr) << static_cast<int>(g);
    ASSERT_EQ(sa->state(), IkeSaState::kEstablished);
    ExpectMirrored(moon, sun);
    EXPECT_EQ(moon.data_plane.sas.begin()->second.info.suite, sa::Suite::kAesCbc128HmacSha256);
    ASSERT_TRUE(moon.manager.Terminate(sa->unique_id()).ok());
    Pump(moon, sun);
    EXPECT_EQ(moon.manager.size(), 0u);
    EXPECT_EQ(sun.manager.size(), 0u);
    EXPECT_TRUE(moon.data_plane.sas.empty());
    EXPECT_TRUE(sun.data_plane.sas.empty());
  }
}

TEST_F(IkeSaTest, CookieRoundTrip) {
  ManagerOptions o;
  o.always_require_cookie = true;
  sun.manager.~IkeSaManager();
  new (&sun.manager) IkeSaManager(sun.ctx, o);
  Apply();
  IkeSa* sa = Connect();
  ASSERT_NE(sa, nullptr);
  EXPECT_EQ(sa->state(), IkeSaState::kEstablished);
  EXPECT_EQ(sun.manager.counters().cookies_sent, 1u);
  EXPECT_EQ(sun.manager.counters().cookies_valid, 1u);
  ExpectMirrored(moon, sun);
}

TEST_F(IkeSaTest, InitFloodIsBoundedAndEstablishedSasSurvive) {
  ManagerOptions o;
  o.cookie_threshold = 10;
  o.max_half_open = 50;
  sun.manager.~IkeSaManager();
  new (&sun.manager) IkeSaManager(sun.ctx, o);
  sun_cfg.remote_addrs.clear();  // a road-warrior responder: any source may start IKE_SA_INIT
  Apply();
  IkeSa* sa = Connect();
  ASSERT_NE(sa, nullptr);
  ASSERT_EQ(sa->state(), IkeSaState::kEstablished);
  // Capture one real IKE_SA_INIT and replay it with fresh SPIs from many spoofed sources.
  Daemon attacker(clock, 99, "198.18.0.66", 0xd0000000);
  attacker.manager.SetConfigs({std::make_shared<const PeerConfig>(moon_cfg)});
  ASSERT_TRUE(attacker.manager.Initiate("gw").ok());
  ASSERT_EQ(attacker.transport.sent.size(), 1u);
  std::vector<std::byte> init = attacker.transport.sent.front().bytes;
  for (uint32_t i = 0; i < 5000; ++i) {
    std::vector<std::byte> d = init;
    for (int k = 0; k < 4; ++k) d[k] = std::byte(i >> (24 - 8 * k));
    d[7] = std::byte{0x5a};
    Endpoint from{sa::IpAddress::V4(0xc6120000u + (i % 60000)), 500};
    sun.manager.Receive(Endpoint{sun.address, 500}, from, d);
    ASSERT_LE(sun.manager.half_open(), o.cookie_threshold);
  }
  sun.transport.sent.clear();
  EXPECT_GE(sun.manager.counters().cookies_sent, 4990u);
  EXPECT_EQ(sun.manager.half_open(), 10u);
  // The established SA still works: a liveness check and a new CHILD_SA.
  sa->SendDpd();
  ASSERT_TRUE(sa->CreateChild("net").ok());
  Pump(moon, sun);
  EXPECT_EQ(sa->state(), IkeSaState::kEstablished);
  EXPECT_EQ(moon.data_plane.sas.size(), 2u);
  // Half-open SAs time out.
  clock.Advance(Seconds(31));
  sun.manager.OnTimer();
  EXPECT_EQ(sun.manager.half_open(), 0u);
  EXPECT_EQ(sun.manager.size(), 1u);
}

TEST_F(IkeSaTest, ChildCreateWithPfsAndRekeysFromBothSides) {
  for (ChildConfig* c : {&moon_cfg.children[0], &sun_cfg.children[0]}) {
    c->proposals = {EspProposal(EncrId::kAesGcm16, 128, IntegId::kNone, DhGroup::kEcp256)};
  }
  Apply();
  IkeSa* sa = Connect();
  ASSERT_NE(sa, nullptr);
  ASSERT_EQ(moon.data_plane.sas.size(), 1u);
  ASSERT_TRUE(sa->CreateChild("net").ok());
  Pump(moon, sun);
  ASSERT_EQ(moon.data_plane.sas.size(), 2u);
  ExpectMirrored(moon, sun);
  for (const auto& [spi, s] : moon.data_plane.sas) EXPECT_EQ(s.info.suite, sa::Suite::kAesGcm128);

  // Rekey the first child from moon, then the second from sun: old SAs go, new ones match.
  uint32_t first = sa->children().front().info.unique_id;
  uint32_t old_spi = sa->children().front().info.spi_in;
  ASSERT_TRUE(moon.manager.RekeyChild(first).ok());
  Pump(moon, sun);
  EXPECT_EQ(moon.data_plane.sas.size(), 2u);
  EXPECT_FALSE(moon.data_plane.sas.contains(old_spi));
  ExpectMirrored(moon, sun);
  bool pfs = std::all_of(moon.data_plane.sas.begin(), moon.data_plane.sas.end(),
                         [](const auto& kv) { return kv.second.info.pfs_group == DhGroup::kEcp256; });
  EXPECT_TRUE(pfs);

  IkeSa* peer = Only(sun);
  ASSERT_NE(peer, nullptr);
  uint32_t sun_child = peer->children().back().info.unique_id;
  ASSERT_TRUE(sun.manager.RekeyChild(sun_child).ok());
  Pump(moon, sun);
  EXPECT_EQ(sun.data_plane.sas.size(), 2u);
  ExpectMirrored(moon, sun);
  EXPECT_EQ(sa->state(), IkeSaState::kEstablished);
}

// Found by the engine fuzzer: the initiator offers PFS and non-PFS proposals and sends a KE; a
// responder preferring a non-PFS proposal ignores the KE instead of refusing the child.
TEST_F(IkeSaTest, MixedPfsOfferAndResponderPrefersNoPfs) {
  moon_cfg.children[0].proposals = {EspProposal(EncrId::kAesGcm16, 128),
                                    EspProposal(EncrId::kAesCbc, 128, IntegId::kHmacSha2_256_128, DhGroup::kEcp256)};
  sun_cfg.children[0].proposals = moon_cfg.children[0].proposals;
  Apply();
  IkeSa* sa = Connect();
  ASSERT_NE(sa, nullptr);
  ASSERT_TRUE(sa->CreateChild("net").ok());
  Pump(moon, sun);
  ASSERT_EQ(moon.data_plane.sas.size(), 2u);
  ExpectMirrored(moon, sun);
  for (const auto& [spi, s] : moon.data_plane.sas) EXPECT_EQ(s.info.pfs_group, DhGroup::kNone);
  // With the PFS proposal preferred by the responder, the same offer gives PFS.
  std::swap(sun_cfg.children[0].proposals[0], sun_cfg.children[0].proposals[1]);
  Apply();
  ASSERT_TRUE(moon.manager.Terminate(sa->unique_id()).ok());
  Pump(moon, sun);
  sa = Connect();
  ASSERT_NE(sa, nullptr);
  ASSERT_TRUE(sa->CreateChild("net").ok());
  Pump(moon, sun);
  ExpectMirrored(moon, sun);
  int pfs = 0;
  for (const auto& [spi, s] : moon.data_plane.sas) pfs += s.info.pfs_group == DhGroup::kEcp256;
  EXPECT_EQ(pfs, 1);  // the CREATE_CHILD_SA one; IKE_AUTH children never use PFS
}

TEST_F(IkeSaTest, RekeyByLifetimeTimer) {
  for (ChildConfig* c : {&moon_cfg.children[0], &sun_cfg.children[0]}) {
    c->rekey_time = Seconds(60);
    c->life_time = Seconds(600);
    c->rand_time = Seconds(0);
  }
  sun_cfg.children[0].rekey_time = Seconds(0);  // only moon rekeys
  Apply();
  IkeSa* sa = Connect();
  ASSERT_NE(sa, nullptr);
  uint32_t spi = sa->children().front().info.spi_in;
  for (int i = 0; i < 3; ++i) {
    clock.Advance(Seconds(61));
    moon.manager.OnTimer();
    sun.manager.OnTimer();
    Pump(moon, sun);
    ASSERT_EQ(moon.data_plane.sas.size(), 1u) << i;
    EXPECT_FALSE(moon.data_plane.sas.contains(spi));
    spi = moon.data_plane.sas.begin()->first;
    ExpectMirrored(moon, sun);
  }
  EXPECT_EQ(moon.data_plane.installs, 4);
}

TEST_F(IkeSaTest, ChildRekeyCollisionLeavesOnePair) {
  IkeSa* sa = Connect();
  ASSERT_NE(sa, nullptr);
  IkeSa* peer = Only(sun);
  ASSERT_NE(peer, nullptr);
  ASSERT_TRUE(moon.manager.RekeyChild(sa->children().front().info.unique_id).ok());
  ASSERT_TRUE(sun.manager.RekeyChild(peer->children().front().info.unique_id).ok());
  // Both requests cross on the wire before either response.
  Pump(moon, sun);
  EXPECT_EQ(moon.data_plane.sas.size(), 1u);
  EXPECT_EQ(sun.data_plane.sas.size(), 1u);
  ExpectMirrored(moon, sun);
  EXPECT_EQ(sa->state(), IkeSaState::kEstablished);
  EXPECT_EQ(sa->children().size(), 1u);
  EXPECT_EQ(peer->children().size(), 1u);
  auto saw = [](const Daemon& d) {
    return std::any_of(d.log.begin(), d.log.end(),
                       [](const std::string& l) { return l.find("rekey collision") != std::string::npos; });
  };
  EXPECT_TRUE(saw(moon));
  EXPECT_TRUE(saw(sun));
  EXPECT_EQ(moon.data_plane.installs, 3);  // the original, ours and the peer's rekey
}

TEST_F(IkeSaTest, IkeRekeyFromEitherSideKeepsChildren) {
  IkeSa* sa = Connect();
  ASSERT_NE(sa, nullptr);
  ASSERT_TRUE(moon.manager.RekeyIke(sa->unique_id()).ok());
  Pump(moon, sun);
  IkeSa* moon_new = Only(moon);
  IkeSa* sun_new = Only(sun);
  ASSERT_NE(moon_new, nullptr);
  ASSERT_NE(sun_new, nullptr);
  EXPECT_EQ(moon.manager.size(), 1u);
  EXPECT_EQ(sun.manager.size(), 1u);
  EXPECT_EQ(moon_new->children().size(), 1u);
  EXPECT_EQ(moon_new->spi_i(), sun_new->spi_i());
  EXPECT_EQ(moon_new->spi_r(), sun_new->spi_r());
  EXPECT_TRUE(moon_new->is_initiator());
  ExpectMirrored(moon, sun);
  // The new IKE SA works: a CHILD_SA over it, then a rekey from the other side.
  ASSERT_TRUE(moon_new->CreateChild("net").ok());
  Pump(moon, sun);
  EXPECT_EQ(moon.data_plane.sas.size(), 2u);
  ASSERT_TRUE(sun.manager.RekeyIke(sun_new->unique_id()).ok());
  Pump(moon, sun);
  ASSERT_NE(Only(moon), nullptr);
  EXPECT_EQ(moon.manager.size(), 1u);
  EXPECT_EQ(sun.manager.size(), 1u);
  EXPECT_FALSE(Only(sun)->is_initiator() == Only(moon)->is_initiator());
  EXPECT_EQ(Only(moon)->children().size(), 2u);
  ExpectMirrored(moon, sun);
  Only(moon)->SendDpd();
  Pump(moon, sun);
  EXPECT_EQ(Only(moon)->state(), IkeSaState::kEstablished);
}

TEST_F(IkeSaTest, IkeRekeyCollisionLeavesOneIkeSa) {
  IkeSa* sa = Connect();
  ASSERT_NE(sa, nullptr);
  ASSERT_TRUE(sa->CreateChild("net").ok());
  Pump(moon, sun);
  ASSERT_TRUE(moon.manager.RekeyIke(sa->unique_id()).ok());
  ASSERT_TRUE(sun.manager.RekeyIke(Only(sun)->unique_id()).ok());
  Pump(moon, sun);
  ASSERT_EQ(moon.manager.size(), 1u);
  ASSERT_EQ(sun.manager.size(), 1u);
  IkeSa* m = Only(moon);
  IkeSa* n = Only(sun);
  ASSERT_NE(m, nullptr);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(m->spi_i(), n->spi_i());
  EXPECT_EQ(m->spi_r(), n->spi_r());
  EXPECT_NE(m->is_initiator(), n->is_initiator());
  EXPECT_EQ(m->children().size(), 2u);
  EXPECT_EQ(n->children().size(), 2u);
  ExpectMirrored(moon, sun);
  auto saw = [](const Daemon& d) {
    return std::any_of(d.log.begin(), d.log.end(),
                       [](const std::string& l) { return l.find("IKE rekey collision") != std::string::npos; });
  };
  EXPECT_TRUE(saw(moon));
  EXPECT_TRUE(saw(sun));
  // The survivor works.
  ASSERT_TRUE(m->CreateChild("net").ok());
  Pump(moon, sun);
  EXPECT_EQ(moon.data_plane.sas.size(), 3u);
  ExpectMirrored(moon, sun);
}

TEST_F(IkeSaTest, DeleteChildAndIke) {
  IkeSa* sa = Connect();
  ASSERT_TRUE(sa->CreateChild("net").ok());
  Pump(moon, sun);
  ASSERT_EQ(sun.data_plane.sas.size(), 2u);
  ASSERT_TRUE(sun.manager.TerminateChild(Only(sun)->children().front().info.unique_id).ok());
  Pump(moon, sun);
  EXPECT_EQ(sun.data_plane.sas.size(), 1u);
  EXPECT_EQ(moon.data_plane.sas.size(), 1u);
  ExpectMirrored(moon, sun);
  ASSERT_TRUE(sun.manager.Terminate(Only(sun)->unique_id()).ok());
  Pump(moon, sun);
  EXPECT_EQ(moon.manager.size(), 0u);
  EXPECT_EQ(sun.manager.size(), 0u);
  EXPECT_TRUE(moon.data_plane.sas.empty());
}

TEST_F(IkeSaTest, DeadPeerDetectedByLivenessChecks) {
  moon_cfg.dpd_delay = Seconds(30);
  Apply();
  IkeSa* sa = Connect();
  ASSERT_NE(sa, nullptr);
  uint64_t id = sa->unique_id();
  // Alive: a check after 30 s is answered.
  clock.Advance(Seconds(31));
  moon.manager.OnTimer();
  EXPECT_EQ(Pump(moon, sun), 2);
  EXPECT_NE(moon.manager.Find(id), nullptr);
  // Dead: nothing comes back; retransmits at 4, 4*1.8, ... then the SA goes (about 165 s).
  clock.Advance(Seconds(31));
  moon.manager.OnTimer();
  int sent = 0;
  for (int s = 0; s < 400 && moon.manager.Find(id); ++s) {
    clock.Advance(Seconds(1));
    moon.manager.OnTimer();
    sent += static_cast<int>(moon.transport.sent.size());
    moon.transport.sent.clear();
  }
  EXPECT_EQ(moon.manager.Find(id), nullptr);
  EXPECT_EQ(sent, 6);  // the request and 5 retransmits
  EXPECT_TRUE(moon.data_plane.sas.empty());
}

TEST_F(IkeSaTest, RetransmittedRequestIsAnsweredFromCache) {
  auto id = moon.manager.Initiate("gw");
  // Deliver IKE_SA_INIT, lose the response, let moon retransmit.
  Pump(moon, sun, [](const Datagram&, bool a_to_b) { return a_to_b; }, 1);
  sun.transport.sent.clear();
  clock.Advance(Seconds(5));
  moon.manager.OnTimer();
  Pump(moon, sun);
  IkeSa* sa = moon.manager.Find(*id);
  ASSERT_NE(sa, nullptr);
  EXPECT_EQ(sa->state(), IkeSaState::kEstablished);
  EXPECT_EQ(sun.manager.size(), 1u);
  // Duplicate a CREATE_CHILD_SA request: processed once, answered twice.
  ASSERT_TRUE(sa->CreateChild("net").ok());
  ASSERT_EQ(moon.transport.sent.size(), 1u);
  Datagram dup = moon.transport.sent.front();
  Pump(moon, sun);
  sun.manager.Receive(dup.to, dup.from, dup.bytes);
  EXPECT_EQ(sun.transport.sent.size(), 1u);
  EXPECT_EQ(Only(sun)->counters().retransmitted_requests_answered, 2u);  // IKE_SA_INIT and this one
  EXPECT_EQ(sun.data_plane.sas.size(), 2u);
  Pump(moon, sun);
  ExpectMirrored(moon, sun);
}

TEST_F(IkeSaTest, FragmentedIkeAuth) {
  moon_cfg.fragment_size = 300;
  sun_cfg.fragment_size = 300;
  // Many selectors make IKE_AUTH large.
  for (int i = 0; i < 20; ++i) {
    moon_cfg.children[0].local_ts.push_back(Subnet("10.0." + std::to_string(i) + ".0", "10.0." + std::to_string(i) + ".255"));
    sun_cfg.children[0].remote_ts.push_back(Subnet("10.0." + std::to_string(i) + ".0", "10.0." + std::to_string(i) + ".255"));
  }
  Apply();
  IkeSa* sa = Connect();
  ASSERT_NE(sa, nullptr);
  EXPECT_EQ(sa->state(), IkeSaState::kEstablished);
  EXPECT_GT(sa->counters().fragments_out, 1u);
  EXPECT_GT(Only(sun)->counters().fragments_in, 1u);
  ExpectMirrored(moon, sun);
  EXPECT_EQ(moon.data_plane.sas.begin()->second.info.local_ts.size(), 21u);
}

TEST_F(IkeSaTest, ForcedEncapFloatsToNatTPort) {
  moon_cfg.force_encap = true;
  Apply();
  IkeSa* sa = Connect();
  ASSERT_NE(sa, nullptr);
  EXPECT_TRUE(sa->nat_detected());
  EXPECT_EQ(sa->local().port, 4500);
  EXPECT_EQ(sa->remote().port, 4500);
  EXPECT_TRUE(Only(sun)->nat_detected());
  EXPECT_EQ(Only(sun)->remote().port, 4500);
  EXPECT_TRUE(moon.data_plane.sas.begin()->second.info.udp_encap);
  ExpectMirrored(moon, sun);
}

TEST_F(IkeSaTest, NatMappingChangeMovesTheIkeSaAndItsChildren) {
  // RFC 7296 §2.23: with NAT, an authenticated message from a new address or port moves the IKE
  // SA and its CHILD_SAs there; a replayed one does not.
  moon_cfg.force_encap = true;
  Apply();
  IkeSa* sa = Connect();
  ASSERT_NE(sa, nullptr);
  ASSERT_EQ(moon.data_plane.sas.size(), 1u);
  Only(sun)->SendDpd();
  ASSERT_EQ(sun.transport.sent.size(), 1u);
  const Datagram d = sun.transport.sent.front();
  sun.transport.sent.pop_front();
  Endpoint moved = d.from;
  moved.port = 31000;
  moon.manager.Receive(d.to, moved, d.bytes);
  EXPECT_EQ(sa->remote(), moved);
  ASSERT_EQ(moon.data_plane.updates.size(), 1u);
  EXPECT_EQ(moon.data_plane.updates[0].remote, moved);
  EXPECT_EQ(moon.data_plane.updates[0].spi_in, moon.data_plane.sas.begin()->first);
  EXPECT_EQ(moon.data_plane.sas.begin()->second.info.remote, moved);
  ASSERT_FALSE(moon.transport.sent.empty());
  EXPECT_EQ(moon.transport.sent.back().to, moved) << "the reply follows the mapping";
  // The same request again from yet another port: answered from the cache, nothing moves.
  moon.manager.Receive(d.to, Endpoint{moved.addr, 32000}, d.bytes);
  EXPECT_EQ(sa->remote(), moved);
  EXPECT_EQ(moon.data_plane.updates.size(), 1u);
}

TEST_F(IkeSaTest, ResponderNarrowsTrafficSelectors) {
  sun_cfg.children[0].remote_ts = {Subnet("192.0.2.0", "192.0.2.127")};
  Apply();
  IkeSa* sa = Connect();
  ASSERT_NE(sa, nullptr);
  ASSERT_EQ(moon.data_plane.sas.size(), 1u);
  EXPECT_EQ(DescribeTs(moon.data_plane.sas.begin()->second.info.local_ts), "192.0.2.0/25");
  ExpectMirrored(moon, sun);
}

TEST_F(IkeSaTest, DisjointSelectorsKeepIkeSaWithoutChild) {
  sun_cfg.children[0].remote_ts = {Subnet("203.0.113.0", "203.0.113.255")};
  Apply();
  IkeSa* sa = Connect();
  ASSERT_NE(sa, nullptr);
  EXPECT_EQ(sa->state(), IkeSaState::kEstablished);
  EXPECT_TRUE(moon.data_plane.sas.empty());
  EXPECT_TRUE(sun.data_plane.sas.empty());
  EXPECT_EQ(moon.data_plane.released, 1);
}

TEST_F(IkeSaTest, TransportModeAndDynamicSelectors) {
  for (PeerConfig* c : {&moon_cfg, &sun_cfg}) {
    c->children[0].mode = sa::Mode::kTransport;
    c->children[0].local_ts = {TsConfig{{}, true}};
    c->children[0].remote_ts = {TsConfig{{}, true}};
  }
  Apply();
  IkeSa* sa = Connect();
  ASSERT_NE(sa, nullptr);
  ASSERT_EQ(moon.data_plane.sas.size(), 1u);
  const auto& info = moon.data_plane.sas.begin()->second.info;
  EXPECT_EQ(info.mode, sa::Mode::kTransport);
  EXPECT_EQ(DescribeTs(info.local_ts), "198.18.0.1/32");
  EXPECT_EQ(DescribeTs(info.remote_ts), "198.18.0.2/32");
  ExpectMirrored(moon, sun);
}

TEST_F(IkeSaTest, TransportRequestAgainstTunnelOnlyResponder) {
  moon_cfg.children[0].mode = sa::Mode::kTransport;
  Apply();
  IkeSa* sa = Connect();
  ASSERT_NE(sa, nullptr);
  EXPECT_EQ(sa->state(), IkeSaState::kEstablished);
  EXPECT_TRUE(moon.data_plane.sas.empty());
}

TEST_F(IkeSaTest, ManyChildrenAndAhChild) {
  ChildConfig ah = moon_cfg.children[0];
  ah.name = "ah";
  Proposal p;
  p.protocol = ProtocolId::kAh;
  p.transforms = {Transform::Integ(IntegId::kHmacSha2_256_128), Transform::Esn(EsnId::kEsn)};
  ah.proposals = {p};
  moon_cfg.children.push_back(ah);
  ChildConfig ah2 = sun_cfg.children[0];
  ah2.name = "ah";
  ah2.proposals = {p};
  sun_cfg.children.insert(sun_cfg.children.begin(), ah2);
  Apply();
  IkeSa* sa = Connect();
  ASSERT_TRUE(sa->CreateChild("ah").ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(sa->CreateChild("net").ok());
  Pump(moon, sun);
  EXPECT_EQ(moon.data_plane.sas.size(), 12u);
  ExpectMirrored(moon, sun);
  int ah_count = 0;
  for (const auto& [spi, s] : moon.data_plane.sas) {
    if (s.info.protocol == sa::Protocol::kAh) {
      ++ah_count;
      EXPECT_TRUE(s.info.esn);
      EXPECT_EQ(s.out.auth_key.size(), 32u);
    }
  }
  EXPECT_EQ(ah_count, 1);
}

TEST_F(IkeSaTest, GarbageNeverCrashesOrDisturbs) {
  IkeSa* sa = Connect();
  ASSERT_NE(sa, nullptr);
  std::unique_ptr<RandomSource> r = CreateDeterministicRandomSourceForTest(7);
  Datagram sample;
  ASSERT_TRUE(sa->CreateChild("net").ok());
  sample = moon.transport.sent.front();
  moon.transport.sent.clear();
  for (int i = 0; i < 3000; ++i) {
    std::vector<std::byte> d = sample.bytes;
    std::byte pick[4];
    ASSERT_TRUE(r->Fill(pick).ok());
    size_t at = (std::to_integer<size_t>(pick[0]) << 8 | std::to_integer<size_t>(pick[1])) % d.size();
    d[at] ^= pick[2] == std::byte{0} ? std::byte{1} : pick[2];
    if (std::to_integer<int>(pick[3]) % 4 == 0) d.resize(at);
    sun.manager.Receive(sample.to, sample.from, d);
  }
  EXPECT_TRUE(sun.transport.sent.empty());
  // The original request still works.
  sun.manager.Receive(sample.to, sample.from, sample.bytes);
  Pump(moon, sun);
  EXPECT_EQ(moon.data_plane.sas.size(), 2u);
  ExpectMirrored(moon, sun);
}

}  // namespace
}  // namespace ipsec::ike
