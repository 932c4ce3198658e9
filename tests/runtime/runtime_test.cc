// The runtime against a card: SA lifecycle under traffic, rekey, NAT updates, capability refusal
// and software fallback, SPD actions, lifetime events, card faults with state restored, and
// several queues on several threads.
//
// Every test is parameterised by the device spec: IPSEC_RUNTIME_DEVICES="soft,sim" runs them on
// both (default "soft"). Tests that need a SoftCard test hook skip on other backends.
#include "host/runtime/runtime.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "driver/packet_pool.h"
#include "driver/soft/soft_card.h"
#include "host/common/bytes.h"
#include "host/common/ip.h"
#include "tests/esp/test_packets.h"

namespace ipsec::runtime {
namespace {

using esp::testing::MakeKeys;
using esp::testing::MakePacket;
using esp::testing::PacketSpec;
using Buf = std::vector<std::byte>;

std::vector<std::string> DeviceSpecs() {
  std::vector<std::string> specs;
  const char* env = std::getenv("IPSEC_RUNTIME_DEVICES");
  std::stringstream ss(env != nullptr && *env != '\0' ? env : "soft");
  for (std::string s; std::getline(ss, s, ',');) {
    if (!s.empty()) specs.push_back(s);
  }
  return specs;
}

sa::KeyMaterial Keys(uint32_t seed, sa::Suite suite = sa::Suite::kAesGcm128) {
  return MakeKeys(suite, seed);
}

sa::SaConfig Config(uint32_t spi, sa::Direction dir, sa::Suite suite = sa::Suite::kAesGcm128) {
  sa::SaConfig c;
  c.spi = spi;
  c.direction = dir;
  c.suite = suite;
  c.mode = sa::Mode::kTunnel;
  // Outbound: ours -> peer; the peer's inbound mirrors it.
  c.tunnel_src = *sa::IpAddress::Parse("198.18.0.1");
  c.tunnel_dst = *sa::IpAddress::Parse("198.18.0.2");
  c.replay_window = 128;
  return c;
}

// The same SA seen from the other end (what the peer uses to decrypt what we send, or to send
// what we receive).
sa::SaConfig Mirror(sa::SaConfig c) {
  c.direction = c.direction == sa::Direction::kOutbound ? sa::Direction::kInbound : sa::Direction::kOutbound;
  return c;
}

std::unique_ptr<esp::EspSa> Software(const sa::SaConfig& c, uint32_t key_seed) {
  auto s = esp::EspSa::Create(c, Keys(key_seed, c.suite));
  EXPECT_TRUE(s.ok()) << s.status().message();
  return std::move(*s);
}

// Runs one packet through a software SA; nullopt when it drops it.
std::optional<Buf> RunSoftware(esp::EspSa& sa, const Buf& in, sa::DropReason* why = nullptr) {
  std::vector<std::byte> mem(in.size() + 512);
  PacketBuf pb{mem.data(), static_cast<uint32_t>(mem.size()), 256, static_cast<uint32_t>(in.size())};
  std::memcpy(pb.data(), in.data(), in.size());
  PacketBuf* p = &pb;
  sa::DropReason st;
  const bool outbound = sa.config().direction == sa::Direction::kOutbound;
  const size_t ok = outbound ? sa.ProcessOutbound({&p, 1}, {&st, 1}) : sa.ProcessInbound({&p, 1}, {&st, 1});
  if (why != nullptr) *why = st;
  if (ok != 1) return std::nullopt;
  return Buf(pb.data(), pb.data() + pb.length);
}

// ESP sequence number of a plain (no UDP) IPv4-outer ESP packet.
uint32_t EspSeq(const Buf& pkt, size_t esp_offset = 20) {
  return LoadU32Be(pkt.data() + esp_offset + 4);
}
uint32_t EspSpi(const Buf& pkt, size_t esp_offset = 20) {
  return LoadU32Be(pkt.data() + esp_offset);
}

struct Input {
  Buf bytes;
  sa::Direction dir = sa::Direction::kOutbound;
  SaHandle sa = kNoSa;
};

struct Result {
  bool done = false;
  RtStatus status = RtStatus::kOk;
  sa::DropReason reason = sa::DropReason::kOk;
  Buf out;
  uint64_t seq = 0;
  bool card = false;
  SaHandle sa = kNoSa;
};

class RuntimeTest : public ::testing::TestWithParam<std::string> {
 protected:
  void Open(uint32_t queues = 1, uint32_t ring_log2 = 8, InboundRestore restore = InboundRestore::kSoftware) {
    RuntimeOptions o;
    o.device_spec = GetParam();
    o.driver.queues = queues;
    o.driver.ring_log2 = ring_log2;
    o.inbound_restore = restore;
    o.max_sas = 4096;
    auto rt = Runtime::Create(std::move(o));
    ASSERT_TRUE(rt.ok()) << rt.status().message();
    rt_ = std::move(*rt);
    for (uint32_t q = 0; q < rt_->queue_count(); ++q) {
      auto pool = rt_->CreatePacketPool(kBufs, 2048);
      ASSERT_TRUE(pool.ok()) << pool.status().message();
      pools_.push_back(std::move(*pool));
    }
  }
  void TearDown() override {
    pools_.clear();
    rt_.reset();
  }

  driver::SoftCard* soft() { return dynamic_cast<driver::SoftCard*>(rt_->device()); }

  // A tunnel with a protect rule for everything outbound, and bypass for inbound cleartext.
  uint32_t ProtectAllTunnel() {
    auto t = rt_->AddTunnel();
    EXPECT_TRUE(t.ok());
    SpdRule r;
    r.action = PolicyAction::kProtect;
    r.tunnel = *t;
    r.priority = 100;
    EXPECT_TRUE(rt_->AddPolicy(r).ok());
    return *t;
  }

  SaHandle Add(const sa::SaConfig& c, uint32_t key_seed, uint32_t tunnel = 0, bool force_software = false) {
    auto h = rt_->AddSa(c, Keys(key_seed, c.suite), {.tunnel = tunnel, .force_software = force_software});
    EXPECT_TRUE(h.ok()) << h.status().message();
    return h.ok() ? *h : kNoSa;
  }

  SaInfo Info(SaHandle h) {
    auto i = rt_->GetSa(h);
    EXPECT_TRUE(i.ok()) << i.status().message();
    return i.ok() ? *i : SaInfo{};
  }

  // Pushes `in` through queue q (at most kBufs at a time), calling Service while it waits; every
  // packet comes back exactly once.
  std::vector<Result> Run(const std::vector<Input>& in, uint32_t q = 0) {
    std::vector<Result> res(in.size());
    for (size_t base = 0; base < in.size(); base += kBufs) {
      const size_t n = std::min<size_t>(kBufs, in.size() - base);
      std::vector<RtPacket> pkts(n);
      for (size_t k = 0; k < n; ++k) {
        driver::Packet p = pools_[q].Load(static_cast<uint32_t>(k), in[base + k].bytes, 256);
        pkts[k] = RtPacket{p.buf, p.iova, in[base + k].dir, in[base + k].sa, base + k};
      }
      size_t accepted = 0, completed = 0;
      for (int round = 0; completed < n && round < 100000; ++round) {
        if (accepted < n) accepted += rt_->queue(q).Submit(std::span(pkts).subspan(accepted));
        std::array<RtCompletion, 64> out;
        const size_t m = rt_->queue(q).Poll(out);
        for (size_t k = 0; k < m; ++k) Collect(out[k], res);
        completed += m;
        if (m == 0) (void)rt_->Service();
      }
      EXPECT_EQ(completed, n);
    }
    return res;
  }

  static void Collect(const RtCompletion& c, std::vector<Result>& res) {
    Result& r = res.at(c.user_data);
    EXPECT_FALSE(r.done) << "completion returned twice for packet " << c.user_data;
    r.done = true;
    r.status = c.status;
    r.reason = c.reason;
    r.seq = c.seq;
    r.card = c.card;
    r.sa = c.sa;
    if (c.status == RtStatus::kOk || c.status == RtStatus::kBypass)
      r.out.assign(c.buf.data(), c.buf.data() + c.buf.length);
  }

  static std::vector<Input> Cleartext(size_t n, uint32_t seed0, SaHandle sa = kNoSa) {
    std::vector<Input> v;
    for (size_t i = 0; i < n; ++i) {
      v.push_back({MakePacket({.payload_len = 40 + i % 200, .seed = static_cast<uint32_t>(seed0 + i)}),
                   sa::Direction::kOutbound, sa});
    }
    return v;
  }

  void ServiceUntilSettled() {
    for (int i = 0; i < 1000 && rt_->pending_retirements() > 0; ++i) ASSERT_TRUE(rt_->Service().ok());
    EXPECT_EQ(rt_->pending_retirements(), 0u);
  }

  // After a card fault with `pending` packets submitted on queue 0: services the runtime and
  // polls until they all completed (into `res`) and the runtime has recovered once (bounded).
  // Returns the completions seen; `recovered` tells whether the recovery happened.
  size_t PollThroughRecovery(size_t pending, std::vector<Result>& res, bool* recovered) {
    size_t completed = 0;
    *recovered = false;
    std::array<RtCompletion, 64> cpl;
    for (int round = 0; (completed < pending || !*recovered) && round < 10000; ++round) {
      (void)rt_->Service();
      const size_t m = rt_->queue(0).Poll(cpl);
      for (size_t k = 0; k < m; ++k) Collect(cpl[k], res);
      completed += m;
      *recovered = rt_->card_up() && rt_->stats().recoveries == 1;
    }
    return completed;
  }

  static constexpr uint32_t kBufs = 128;
  std::unique_ptr<Runtime> rt_;
  std::vector<driver::PacketPool> pools_;
};

std::string SpecName(const ::testing::TestParamInfo<std::string>& info) {
  std::string n;
  for (char c : info.param) n += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return n;
}

TEST_P(RuntimeTest, ProtectsOutboundAndDecapsulatesInboundOnTheCard) {
  Open();
  const uint32_t t = ProtectAllTunnel();
  const SaHandle out = Add(Config(0x1001, sa::Direction::kOutbound), 1, t);
  auto spi = rt_->AllocateSpi();
  ASSERT_TRUE(spi.ok());
  const SaHandle in = Add(Config(*spi, sa::Direction::kInbound), 2, t);
  EXPECT_EQ(Info(out).placement, Placement::kCard);
  EXPECT_EQ(Info(in).placement, Placement::kCard);
  EXPECT_EQ(Info(in).card_slot, *spi & (rt_->caps().sa_count - 1));

  auto peer_in = Software(Mirror(Config(0x1001, sa::Direction::kOutbound)), 1);
  auto peer_out = Software(Mirror(Config(*spi, sa::Direction::kInbound)), 2);
  const auto clear = Cleartext(300, 100);
  const auto res = Run(clear);
  for (size_t i = 0; i < clear.size(); ++i) {
    ASSERT_EQ(res[i].status, RtStatus::kOk) << i;
    EXPECT_TRUE(res[i].card);
    EXPECT_EQ(res[i].seq, i + 1);
    auto inner = RunSoftware(*peer_in, res[i].out);
    ASSERT_TRUE(inner.has_value()) << i;
    EXPECT_EQ(*inner, clear[i].bytes);
  }
  std::vector<Input> rx;
  for (const auto& c : clear) rx.push_back({*RunSoftware(*peer_out, c.bytes), sa::Direction::kInbound});
  const auto got = Run(rx);
  for (size_t i = 0; i < rx.size(); ++i) {
    ASSERT_EQ(got[i].status, RtStatus::kOk) << i;
    EXPECT_EQ(got[i].out, clear[i].bytes);
  }
  EXPECT_EQ(Info(out).packets, 300u);
  EXPECT_EQ(Info(in).seq, 300u);
  // Replays are refused by the card.
  const auto again = Run({rx[5]});
  EXPECT_EQ(again[0].status, RtStatus::kDropped);
  EXPECT_EQ(again[0].reason, sa::DropReason::kReplay);
}

TEST_P(RuntimeTest, SpdBypassDiscardPrioritiesAndMissingSa) {
  Open();
  auto t = rt_->AddTunnel();
  ASSERT_TRUE(t.ok());
  SpdRule protect;  // everything IPv4 to 198.51.100.0/24 ...
  protect.dst = *Prefix::Parse("198.51.100.0/24");
  protect.action = PolicyAction::kProtect;
  protect.tunnel = *t;
  protect.priority = 50;
  ASSERT_TRUE(rt_->AddPolicy(protect).ok());
  SpdRule bypass = protect;  // ... except UDP to port 6000, which a higher priority bypasses
  bypass.action = PolicyAction::kBypass;
  bypass.protocol = ip::kProtoUdp;
  bypass.dport = {6000, 6000};
  bypass.priority = 10;
  ASSERT_TRUE(rt_->AddPolicy(bypass).ok());
  SpdRule discard_v6;
  discard_v6.src = Prefix::Any(true);
  discard_v6.dst = *Prefix::Parse("2001:db8:1::/48");
  discard_v6.action = PolicyAction::kDiscard;
  ASSERT_TRUE(rt_->AddPolicy(discard_v6).ok());

  std::vector<Input> in = {
      {MakePacket({.proto = ip::kProtoUdp})},              // bypass (priority 10)
      {MakePacket({.proto = ip::kProtoTcp})},              // protect, but the tunnel has no SA yet
      {MakePacket({.v6 = true, .proto = ip::kProtoUdp})},  // discard
      {MakePacket({.v6 = true, .proto = ip::kProtoTcp})},  // discard (no port selector)
  };
  auto res = Run(in);
  EXPECT_EQ(res[0].status, RtStatus::kBypass);
  EXPECT_EQ(res[0].out, in[0].bytes);
  EXPECT_EQ(res[1].status, RtStatus::kMissingSa);
  EXPECT_EQ(res[2].status, RtStatus::kDiscard);
  EXPECT_EQ(res[3].status, RtStatus::kDiscard);

  Add(Config(0x2001, sa::Direction::kOutbound), 3, *t);
  res = Run(in);
  EXPECT_EQ(res[0].status, RtStatus::kBypass);
  EXPECT_EQ(res[1].status, RtStatus::kOk);
  EXPECT_TRUE(res[1].card);
  // Inbound cleartext: no inbound rule, the default is discard; an unknown SPI is a missing SA.
  auto peer = Software(Config(0x7777, sa::Direction::kOutbound), 9);
  std::vector<Input> rx = {{in[0].bytes, sa::Direction::kInbound},
                           {*RunSoftware(*peer, in[0].bytes), sa::Direction::kInbound}};
  res = Run(rx);
  EXPECT_EQ(res[0].status, RtStatus::kDiscard);
  EXPECT_EQ(res[1].status, RtStatus::kMissingSa);
  EXPECT_EQ(res[1].reason, sa::DropReason::kBadSpi);
}

TEST_P(RuntimeTest, RefusedSasFallBackToSoftwareWithThePreciseReason) {
  Open();
  const uint32_t t = ProtectAllTunnel();
  struct Case {
    sa::SaConfig config;
    CardRefusal reason;
  };
  std::vector<Case> cases;
  cases.push_back({Config(0x3001, sa::Direction::kOutbound, sa::Suite::kChaCha20Poly1305), CardRefusal::kSuite});
  cases.push_back({Config(0x3002, sa::Direction::kOutbound, sa::Suite::kAesCbc128HmacSha256), CardRefusal::kSuite});
  sa::SaConfig small = Config(0x3003, sa::Direction::kInbound);
  small.replay_window = 32;
  cases.push_back({small, CardRefusal::kReplayWindow});
  sa::SaConfig big = Config(0x3004, sa::Direction::kInbound);
  big.replay_window = rt_->caps().max_replay_window * 2;
  cases.push_back({big, CardRefusal::kReplayWindow});
  for (const Case& c : cases) {
    const SaHandle h = Add(c.config, 4);
    const SaInfo i = Info(h);
    EXPECT_EQ(i.placement, Placement::kSoftware) << c.config.spi;
    EXPECT_EQ(i.refusal.reason, c.reason) << c.config.spi << ": " << i.refusal.detail;
    EXPECT_FALSE(i.refusal.detail.empty());
  }
  EXPECT_NE(Info(Add(Config(0x3005, sa::Direction::kOutbound), 4, 0, true)).refusal.reason, CardRefusal::kNone);
  // Two inbound SAs whose SPIs share a slot: the second cannot have it.
  const uint32_t count = rt_->caps().sa_count;
  const SaHandle a = Add(Config(0x40000 + 5, sa::Direction::kInbound), 5);
  const SaHandle b = Add(Config(0x40000 + 5 + count, sa::Direction::kInbound), 6);
  EXPECT_EQ(Info(a).placement, Placement::kCard);
  EXPECT_EQ(Info(b).refusal.reason, CardRefusal::kSlotTaken);

  // Traffic through a refused SA runs in software, and decrypts at the peer.
  sa::SaConfig chacha = Config(0x3010, sa::Direction::kOutbound, sa::Suite::kChaCha20Poly1305);
  const SaHandle h = Add(chacha, 7, t);
  auto peer = Software(Mirror(chacha), 7);
  const auto clear = Cleartext(100, 500, h);
  const auto res = Run(clear);
  for (size_t i = 0; i < clear.size(); ++i) {
    ASSERT_EQ(res[i].status, RtStatus::kOk) << i;
    EXPECT_FALSE(res[i].card);
    EXPECT_EQ(*RunSoftware(*peer, res[i].out), clear[i].bytes);
  }
}

TEST_P(RuntimeTest, HitlessRekeyLosesAndDuplicatesNothing) {
  Open();
  const uint32_t t = ProtectAllTunnel();
  const sa::SaConfig old_out = Config(0x5001, sa::Direction::kOutbound);
  const SaHandle h_old = Add(old_out, 11, t);
  auto spi_old = rt_->AllocateSpi();
  ASSERT_TRUE(spi_old.ok());
  const sa::SaConfig old_in = Config(*spi_old, sa::Direction::kInbound);
  const SaHandle h_old_in = Add(old_in, 12, t);
  auto peer_in_old = Software(Mirror(old_out), 11);
  auto peer_out_old = Software(Mirror(old_in), 12);

  // Burst 1 with the old SA; keep some in flight (submitted, not polled) across the switch.
  const auto clear = Cleartext(400, 1000);
  std::vector<RtPacket> pkts(kBufs);
  std::vector<Result> res(clear.size());
  size_t next = 0, completed = 0;
  auto submit_some = [&](size_t count) {
    size_t done = 0;
    while (done < count && next < clear.size()) {
      const uint32_t b = static_cast<uint32_t>(next % kBufs);
      driver::Packet p = pools_[0].Load(b, clear[next].bytes, 256);
      RtPacket rp{p.buf, p.iova, sa::Direction::kOutbound, kNoSa, next};
      if (rt_->queue(0).Submit({&rp, 1}) != 1) break;
      ++next;
      ++done;
    }
  };
  auto poll_all = [&] {
    std::array<RtCompletion, 64> out;
    for (int round = 0; completed < next && round < 100000; ++round) {
      const size_t m = rt_->queue(0).Poll(out);
      for (size_t k = 0; k < m; ++k) Collect(out[k], res);
      completed += m;
      if (m == 0) (void)rt_->Service();
    }
  };
  submit_some(100);
  poll_all();
  submit_some(27);  // in flight across the switch

  // Rekey: the new inbound SA first (both inbound SAs live), then the outbound switch.
  auto spi_new = rt_->AllocateSpi();
  ASSERT_TRUE(spi_new.ok());
  const sa::SaConfig new_in = Config(*spi_new, sa::Direction::kInbound);
  const SaHandle h_new_in = Add(new_in, 22, t);
  const sa::SaConfig new_out = Config(0x5002, sa::Direction::kOutbound);
  const SaHandle h_new = Add(new_out, 21, t);
  ASSERT_TRUE(rt_->SwitchOutbound(t, h_new).ok());
  ASSERT_TRUE(rt_->Service().ok());
  EXPECT_EQ(Info(h_old).state, SaState::kDraining);  // its packets are still on the ring
  submit_some(50);
  poll_all();
  while (next < clear.size()) {  // buffers are reused only once their completion was polled
    submit_some(kBufs);
    poll_all();
  }
  ServiceUntilSettled();
  EXPECT_FALSE(rt_->GetSa(h_old).ok());  // drained and deleted
  bool removed = false;
  for (const auto& e : rt_->TakeEvents()) removed |= e.type == RuntimeEventType::kSaRemoved && e.sa == h_old;
  EXPECT_TRUE(removed);

  // Every packet decrypts exactly once, with the SA it was sent with; sequence numbers of each SA
  // are 1..n without gaps.
  auto peer_in_new = Software(Mirror(new_out), 21);
  std::map<uint32_t, std::set<uint64_t>> seqs;
  std::multiset<size_t> seen;
  for (size_t i = 0; i < clear.size(); ++i) {
    ASSERT_TRUE(res[i].done);
    ASSERT_EQ(res[i].status, RtStatus::kOk) << i;
    const uint32_t spi = EspSpi(res[i].out);
    auto& peer = spi == 0x5001 ? peer_in_old : peer_in_new;
    auto inner = RunSoftware(*peer, res[i].out);
    ASSERT_TRUE(inner.has_value()) << i;
    EXPECT_EQ(*inner, clear[i].bytes);
    EXPECT_TRUE(seqs[spi].insert(EspSeq(res[i].out)).second);
    seen.insert(i);
  }
  EXPECT_EQ(seqs[0x5001].size(), 127u);
  EXPECT_EQ(*seqs[0x5001].rbegin(), 127u);
  EXPECT_EQ(seqs[0x5002].size(), clear.size() - 127);
  EXPECT_EQ(*seqs[0x5002].rbegin(), clear.size() - 127);

  // Inbound: the peer still sends on the old SA for a while, then on the new one; both decrypt.
  auto peer_out_new = Software(Mirror(new_in), 22);
  std::vector<Input> rx;
  for (size_t i = 0; i < 60; ++i) {
    rx.push_back({*RunSoftware(i % 3 == 0 ? *peer_out_new : *peer_out_old, clear[i].bytes), sa::Direction::kInbound});
  }
  auto got = Run(rx);
  for (size_t i = 0; i < rx.size(); ++i) {
    ASSERT_EQ(got[i].status, RtStatus::kOk) << i;
    EXPECT_EQ(got[i].sa, i % 3 == 0 ? h_new_in : h_old_in);
    EXPECT_EQ(got[i].out, clear[i].bytes);
  }
  // The old inbound SA goes once the peer has switched.
  ASSERT_TRUE(rt_->DeleteSa(h_old_in).ok());
  ServiceUntilSettled();
  got = Run({{*RunSoftware(*peer_out_old, clear[0].bytes), sa::Direction::kInbound}});
  EXPECT_EQ(got[0].status, RtStatus::kMissingSa);
}

TEST_P(RuntimeTest, DeleteWhileInFlightCompletesEveryPacketThenFreesTheSlot) {
  Open(2);
  const uint32_t t = ProtectAllTunnel();
  const SaHandle h = Add(Config(0x6001, sa::Direction::kOutbound), 13, t);
  const uint32_t slot = Info(h).card_slot;
  const auto clear = Cleartext(64, 3000);
  std::vector<RtPacket> pkts;
  for (size_t i = 0; i < clear.size(); ++i) {
    driver::Packet p = pools_[0].Load(static_cast<uint32_t>(i), clear[i].bytes, 256);
    pkts.push_back({p.buf, p.iova, sa::Direction::kOutbound, kNoSa, i});
  }
  ASSERT_EQ(rt_->queue(0).Submit(pkts), pkts.size());
  ASSERT_TRUE(rt_->DeleteSa(h).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(rt_->Service().ok());
  // Not polled yet: the SA drains, its slot stays on the card.
  EXPECT_EQ(Info(h).state, SaState::kDraining);
  EXPECT_EQ(Info(h).card_slot, slot);
  // New packets for the deleted SA are refused at once (on another queue, so as not to poll this one).
  auto late = Run({clear[0]}, 1);
  EXPECT_EQ(late[0].status, RtStatus::kMissingSa);
  std::vector<Result> res(clear.size());
  size_t completed = 0;
  std::array<RtCompletion, 64> out;
  for (int round = 0; completed < clear.size() && round < 100000; ++round) {
    const size_t m = rt_->queue(0).Poll(out);
    for (size_t k = 0; k < m; ++k) Collect(out[k], res);
    completed += m;
  }
  ASSERT_EQ(completed, clear.size());
  for (const auto& r : res) EXPECT_EQ(r.status, RtStatus::kOk);
  ServiceUntilSettled();
  EXPECT_FALSE(rt_->GetSa(h).ok());
  // The slot is free for the next SA.
  const SaHandle h2 = Add(Config(0x6002, sa::Direction::kOutbound), 14, t);
  EXPECT_EQ(Info(h2).placement, Placement::kCard);
}

TEST_P(RuntimeTest, NatUpdateRewritesTheOutboundSaWithoutLosingSequenceNumbers) {
  Open();
  const uint32_t t = ProtectAllTunnel();
  sa::SaConfig out = Config(0x7001, sa::Direction::kOutbound);
  out.udp_encap = sa::UdpEncap{4500, 4500};
  const SaHandle h = Add(out, 15, t);
  ASSERT_EQ(Info(h).placement, Placement::kCard);
  const auto clear = Cleartext(200, 4000);
  auto res1 = Run(std::vector<Input>(clear.begin(), clear.begin() + 100));
  // The peer moved behind a NAT: new outer address and port.
  EndpointUpdate u;
  u.tunnel_dst = *sa::IpAddress::Parse("203.0.113.9");
  u.udp_encap = sa::UdpEncap{4500, 31000};
  ASSERT_TRUE(rt_->UpdateEndpoints(h, u).ok());
  auto res2 = Run(std::vector<Input>(clear.begin() + 100, clear.end()));
  ServiceUntilSettled();
  const SaInfo i = Info(h);
  EXPECT_EQ(i.placement, Placement::kCard);
  EXPECT_EQ(i.packets, 200u);
  EXPECT_EQ(i.seq, 201u);
  for (size_t k = 0; k < 100; ++k) {
    ASSERT_EQ(res1[k].status, RtStatus::kOk);
    ASSERT_EQ(res2[k].status, RtStatus::kOk);
    EXPECT_EQ(LoadU16Be(res1[k].out.data() + 22), 4500);  // UDP destination port
    EXPECT_EQ(LoadU16Be(res2[k].out.data() + 22), 31000);
    EXPECT_EQ(LoadU32Be(res2[k].out.data() + 16), 0xCB007109u);  // 203.0.113.9
    EXPECT_EQ(EspSeq(res1[k].out, 28), k + 1);
    EXPECT_EQ(EspSeq(res2[k].out, 28), k + 101);  // no gap, no reuse
  }
  // The peer (whose inbound SA sees the translated packets) decrypts both halves.
  sa::SaConfig peer_cfg = Mirror(out);
  auto peer = Software(peer_cfg, 15);
  EXPECT_EQ(*RunSoftware(*peer, res1[0].out), clear[0].bytes);
  peer_cfg.tunnel_dst = u.tunnel_dst;
  peer_cfg.udp_encap = u.udp_encap;
  auto peer2 = Software(peer_cfg, 15);
  EXPECT_EQ(*RunSoftware(*peer2, res2[99].out), clear[199].bytes);

  // Inbound: a new peer source address/port is not checked by the card: no rewrite.
  sa::SaConfig in = Config(0x7002, sa::Direction::kInbound);
  in.udp_encap = sa::UdpEncap{4500, 4500};
  const SaHandle hin = Add(in, 16, t);
  EndpointUpdate ui;
  ui.tunnel_src = *sa::IpAddress::Parse("203.0.113.9");
  ui.udp_encap = sa::UdpEncap{31000, 4500};
  ASSERT_TRUE(rt_->UpdateEndpoints(hin, ui).ok());
  EXPECT_EQ(rt_->pending_retirements(), 0u);
  EXPECT_EQ(Info(hin).placement, Placement::kCard);
}

TEST_P(RuntimeTest, LifetimeAndSequenceOverflowEventsFromTheCard) {
  Open();
  const uint32_t t = ProtectAllTunnel();
  sa::SaConfig c = Config(0x8001, sa::Direction::kOutbound);
  c.lifetime.soft_packets = 10;
  c.lifetime.hard_packets = 20;
  const SaHandle h = Add(c, 17, t);
  ASSERT_EQ(Info(h).placement, Placement::kCard);
  const auto res = Run(Cleartext(25, 5000));
  size_t ok = 0, hard = 0;
  for (const auto& r : res) {
    ok += r.status == RtStatus::kOk;
    hard += r.status == RtStatus::kDropped && r.reason == sa::DropReason::kHardLifetime;
  }
  EXPECT_EQ(ok + hard, 25u);
  EXPECT_GE(hard, 5u);
  ASSERT_TRUE(rt_->Service().ok());
  std::set<RuntimeEventType> types;
  for (const auto& e : rt_->TakeEvents()) {
    if (e.sa == h) types.insert(e.type);
  }
  EXPECT_TRUE(types.count(RuntimeEventType::kSoftLifetime));
  EXPECT_TRUE(types.count(RuntimeEventType::kHardLifetime));

  if (soft() == nullptr) GTEST_SKIP() << "sequence overflow needs SoftCard::SetNextSeqForTest";
  const SaHandle h2 = Add(Config(0x8002, sa::Direction::kOutbound), 18);
  ASSERT_TRUE(soft()->SetNextSeqForTest(Info(h2).card_slot, 0xFFFFFFFEull).ok());
  const auto r2 = Run(Cleartext(4, 6000, h2));
  EXPECT_EQ(r2[0].status, RtStatus::kOk);
  EXPECT_EQ(r2[1].status, RtStatus::kOk);
  EXPECT_EQ(r2[2].reason, sa::DropReason::kSeqOverflow);
  ASSERT_TRUE(rt_->Service().ok());
  bool overflow = false;
  for (const auto& e : rt_->TakeEvents()) overflow |= e.sa == h2 && e.type == RuntimeEventType::kSeqOverflow;
  EXPECT_TRUE(overflow);
}

// The card resets in the middle of traffic (a soft reset through CTRL, which `sim` has too): the
// runtime notices (CTRL_STATUS.ENABLED dropped), fails what was pending on the card, brings the
// card up again and reinstalls every SA with its sequence state.
TEST_P(RuntimeTest, CardResetMidTrafficRestoresSasAndTrafficResumes) {
  Open();
  const uint32_t t = ProtectAllTunnel();
  const sa::SaConfig out = Config(0x9001, sa::Direction::kOutbound);
  const SaHandle h_out = Add(out, 31, t);
  auto spi = rt_->AllocateSpi();
  ASSERT_TRUE(spi.ok());
  const sa::SaConfig in = Config(*spi, sa::Direction::kInbound);
  const SaHandle h_in = Add(in, 32, t);
  sa::SaConfig in_quiet = Config(*spi + 1, sa::Direction::kInbound);  // no traffic before the reset
  const SaHandle h_quiet = Add(in_quiet, 33, t);
  const SaHandle h_sw = Add(Config(0x9002, sa::Direction::kOutbound, sa::Suite::kChaCha20Poly1305), 34);
  auto peer_in = Software(Mirror(out), 31);
  auto peer_out = Software(Mirror(in), 32);

  const auto clear = Cleartext(300, 7000);
  auto before = Run(std::vector<Input>(clear.begin(), clear.begin() + 150));
  std::vector<Input> rx_before;
  for (size_t i = 0; i < 150; ++i)
    rx_before.push_back({*RunSoftware(*peer_out, clear[i].bytes), sa::Direction::kInbound});
  auto got_before = Run(rx_before);
  uint64_t max_seq_before = 0;
  for (const auto& r : before) {
    ASSERT_EQ(r.status, RtStatus::kOk);
    max_seq_before = std::max<uint64_t>(max_seq_before, EspSeq(r.out));
  }
  for (const auto& r : got_before) ASSERT_EQ(r.status, RtStatus::kOk);

  // Packets submitted and not yet polled when the card resets.
  std::vector<RtPacket> pkts;
  for (size_t i = 0; i < 20; ++i) {
    driver::Packet p = pools_[0].Load(static_cast<uint32_t>(i), clear[150 + i].bytes, 256);
    pkts.push_back({p.buf, p.iova, sa::Direction::kOutbound, kNoSa, 150 + i});
  }
  ASSERT_EQ(rt_->queue(0).Submit(pkts), pkts.size());
  ASSERT_TRUE(rt_->device()->Write32(card::reg::kCtrlCtrl, card::field::kCtrlCtrlSoftReset.Mask()).ok());

  std::vector<Result> res(clear.size());
  bool recovered = false;
  const size_t completed = PollThroughRecovery(pkts.size(), res, &recovered);
  ASSERT_TRUE(recovered);
  ASSERT_EQ(completed, pkts.size());  // every pending packet came back, once
  size_t acked = 0;
  for (size_t i = 150; i < 170; ++i) {
    ASSERT_TRUE(res[i].status == RtStatus::kOk || res[i].status == RtStatus::kDeviceError)
        << RtStatusName(res[i].status);
    if (res[i].status == RtStatus::kOk) {
      ++acked;  // acknowledged before the reset: valid output
      EXPECT_EQ(*RunSoftware(*peer_in, res[i].out), clear[i].bytes);
      max_seq_before = std::max<uint64_t>(max_seq_before, EspSeq(res[i].out));
    }
  }
  std::set<RuntimeEventType> types;
  for (const auto& e : rt_->TakeEvents()) types.insert(e.type);
  EXPECT_TRUE(types.count(RuntimeEventType::kCardLost));
  EXPECT_TRUE(types.count(RuntimeEventType::kCardRecovered));
  EXPECT_TRUE(types.count(RuntimeEventType::kSaMovedToSoftware));

  // Outbound: back on the card; its next sequence number is past everything it may have used.
  EXPECT_EQ(Info(h_out).placement, Placement::kCard);
  // Inbound with traffic: the card cannot take its window's top back, so it runs in software with
  // the top restored; the quiet one is exact on the card (empty window).
  EXPECT_EQ(Info(h_in).placement, Placement::kSoftware);
  EXPECT_EQ(Info(h_in).refusal.reason, CardRefusal::kReplayRestore);
  EXPECT_EQ(Info(h_in).seq, 150u);
  EXPECT_EQ(Info(h_quiet).placement, Placement::kCard);
  EXPECT_EQ(Info(h_sw).placement, Placement::kSoftware);

  // Traffic resumes; outbound sequence numbers are never reused, so the peer accepts everything.
  auto after = Run(std::vector<Input>(clear.begin() + 170, clear.end()));
  for (size_t i = 0; i < after.size(); ++i) {
    ASSERT_EQ(after[i].status, RtStatus::kOk) << i;
    EXPECT_TRUE(after[i].card);
    EXPECT_GT(EspSeq(after[i].out), max_seq_before);
    auto inner = RunSoftware(*peer_in, after[i].out);
    ASSERT_TRUE(inner.has_value()) << i;
    EXPECT_EQ(*inner, clear[170 + i].bytes);
  }
  // Inbound: new packets pass, a replay of an old one (left of the window) is refused.
  std::vector<Input> rx_after = {{*RunSoftware(*peer_out, clear[200].bytes), sa::Direction::kInbound}, rx_before[3]};
  auto got_after = Run(rx_after);
  EXPECT_EQ(got_after[0].status, RtStatus::kOk);
  EXPECT_EQ(got_after[0].out, clear[200].bytes);
  EXPECT_EQ(got_after[1].status, RtStatus::kDropped);
  EXPECT_EQ(got_after[1].reason, sa::DropReason::kReplay);
  (void)acked;
}

TEST_P(RuntimeTest, UnresponsiveCardFailsPendingWorkAndComesBack) {
  Open();
  if (soft() == nullptr) GTEST_SKIP() << "needs SoftCard::SetUnresponsiveForTest";
  const uint32_t t = ProtectAllTunnel();
  const sa::SaConfig out = Config(0xA001, sa::Direction::kOutbound);
  const SaHandle h = Add(out, 41, t);
  const SaHandle h_sw = Add(Config(0xA002, sa::Direction::kOutbound, sa::Suite::kChaCha20Poly1305), 42);
  auto peer = Software(Mirror(out), 41);
  const auto clear = Cleartext(100, 8000);
  auto r1 = Run(std::vector<Input>(clear.begin(), clear.begin() + 40));
  for (const auto& r : r1) ASSERT_EQ(r.status, RtStatus::kOk);

  soft()->SetUnresponsiveForTest(true);
  ASSERT_FALSE(rt_->Service().ok() && rt_->card_up());
  for (int i = 0; i < 10; ++i) {
    std::array<RtCompletion, 8> cpl;
    (void)rt_->queue(0).Poll(cpl);
    (void)rt_->Service();
  }
  EXPECT_FALSE(rt_->card_up());
  // While the card is down: card SAs' packets fail with a device error, software SAs carry on.
  auto down = Run({clear[40], {clear[41].bytes, sa::Direction::kOutbound, h_sw}});
  EXPECT_EQ(down[0].status, RtStatus::kDeviceError);
  EXPECT_EQ(down[1].status, RtStatus::kOk);
  bool failed_event = false;
  for (const auto& e : rt_->TakeEvents()) failed_event |= e.type == RuntimeEventType::kCardRecoveryFailed;
  EXPECT_TRUE(failed_event);

  soft()->SetUnresponsiveForTest(false);
  for (int i = 0; i < 10 && !rt_->card_up(); ++i) (void)rt_->Service();
  ASSERT_TRUE(rt_->card_up());
  EXPECT_EQ(Info(h).placement, Placement::kCard);
  auto r2 = Run(std::vector<Input>(clear.begin() + 42, clear.end()));
  uint64_t last = 0;
  for (const auto& r : r1) last = std::max<uint64_t>(last, EspSeq(r.out));
  for (size_t i = 0; i < r2.size(); ++i) {
    ASSERT_EQ(r2[i].status, RtStatus::kOk);
    EXPECT_GT(EspSeq(r2[i].out), last);
    EXPECT_EQ(*RunSoftware(*peer, r2[i].out), clear[42 + i].bytes);
  }
}

// An internal fault (CTRL_STATUS.FATAL with a `fatal` event): the driver fails the queues, the
// runtime takes it for a lost card and recovers with a soft reset; what was on the card completes
// with a device error, sequence numbers carry on, traffic resumes on the card.
TEST_P(RuntimeTest, FatalCardErrorFailsPendingWorkAndTheRuntimeRecovers) {
  Open();
  if (soft() == nullptr) GTEST_SKIP() << "needs SoftCard::RaiseFatalForTest";
  const uint32_t t = ProtectAllTunnel();
  const sa::SaConfig out = Config(0xC001, sa::Direction::kOutbound);
  const SaHandle h = Add(out, 61, t);
  auto peer = Software(Mirror(out), 61);
  const auto clear = Cleartext(120, 9000);
  auto r1 = Run(std::vector<Input>(clear.begin(), clear.begin() + 40));
  uint64_t last = 0;
  for (const auto& r : r1) {
    ASSERT_EQ(r.status, RtStatus::kOk);
    last = std::max<uint64_t>(last, EspSeq(r.out));
  }
  // Packets on the card when it fails: the card stops; they come back as device errors.
  std::vector<RtPacket> pkts;
  for (size_t i = 0; i < 10; ++i) {
    driver::Packet p = pools_[0].Load(static_cast<uint32_t>(i), clear[40 + i].bytes, 256);
    pkts.push_back({p.buf, p.iova, sa::Direction::kOutbound, kNoSa, 40 + i});
  }
  soft()->RaiseFatalForTest(0xfa7a1);
  ASSERT_EQ(rt_->queue(0).Submit(pkts), pkts.size());
  std::vector<Result> res(clear.size());
  bool recovered = false;
  const size_t completed = PollThroughRecovery(pkts.size(), res, &recovered);
  ASSERT_TRUE(recovered);
  ASSERT_EQ(completed, pkts.size());
  for (size_t i = 40; i < 50; ++i) EXPECT_EQ(res[i].status, RtStatus::kDeviceError) << i;
  std::set<RuntimeEventType> types;
  for (const auto& e : rt_->TakeEvents()) types.insert(e.type);
  EXPECT_TRUE(types.count(RuntimeEventType::kCardLost));
  EXPECT_TRUE(types.count(RuntimeEventType::kCardRecovered));
  // The reset cleared FATAL; the SA is back on the card and never reuses a sequence number.
  EXPECT_EQ(card::field::kCtrlStatusFatal.Get(*rt_->device()->Read32(card::reg::kCtrlStatus)), 0u);
  EXPECT_EQ(Info(h).placement, Placement::kCard);
  auto r2 = Run(std::vector<Input>(clear.begin() + 50, clear.end()));
  for (size_t i = 0; i < r2.size(); ++i) {
    ASSERT_EQ(r2[i].status, RtStatus::kOk) << i;
    EXPECT_TRUE(r2[i].card);
    EXPECT_GT(EspSeq(r2[i].out), last);
    EXPECT_EQ(*RunSoftware(*peer, r2[i].out), clear[50 + i].bytes);
  }
}

// Four queues on four threads share one card SA and one software SA while the control thread
// services the runtime and rekeys the tunnel: every packet completes once, sequence numbers are
// unique per SA.
TEST_P(RuntimeTest, QueuePerThreadWithConcurrentControl) {
  Open(4, 7);
  ASSERT_EQ(rt_->queue_count(), 4u);
  const uint32_t t = ProtectAllTunnel();
  const SaHandle card_sa = Add(Config(0xB001, sa::Direction::kOutbound), 51, t);
  const SaHandle sw_sa = Add(Config(0xB002, sa::Direction::kOutbound, sa::Suite::kChaCha20Poly1305), 52);
  constexpr size_t kPerThread = 3000;
  std::atomic<bool> stop{false};
  std::atomic<size_t> progress{0};
  // Workers hold their second halves until the control thread has switched the SA, so the switch
  // always lands mid-traffic however the threads are scheduled (bounded: 20 s).
  std::atomic<bool> switched{false};
  const auto gate_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::vector<std::vector<Result>> results(4);
  std::vector<std::thread> threads;
  for (uint32_t q = 0; q < 4; ++q) {
    threads.emplace_back([&, q] {
      auto& res = results[q];
      res.resize(kPerThread);
      std::vector<RtPacket> ring(kBufs);
      std::vector<uint32_t> free_bufs;
      for (uint32_t b = 0; b < kBufs; ++b) free_bufs.push_back(b);
      std::vector<uint32_t> buf_of(kPerThread);
      size_t next = 0, completed = 0;
      std::array<RtCompletion, 32> cpl;
      while (completed < kPerThread) {
        std::vector<RtPacket> burst;
        while (next + burst.size() < kPerThread && !free_bufs.empty() && burst.size() < 32) {
          const size_t id = next + burst.size();
          if (id >= kPerThread / 2 && !switched.load() && std::chrono::steady_clock::now() < gate_deadline) break;
          const uint32_t b = free_bufs.back();
          free_bufs.pop_back();
          buf_of[id] = b;
          const auto pkt = MakePacket({.payload_len = 64 + id % 64, .seed = static_cast<uint32_t>(q * 100000 + id)});
          driver::Packet p = pools_[q].Load(b, pkt, 256);
          burst.push_back({p.buf, p.iova, sa::Direction::kOutbound, id % 4 == 0 ? sw_sa : kNoSa, id});
        }
        const size_t a = rt_->queue(q).Submit(burst);
        for (size_t k = a; k < burst.size(); ++k) free_bufs.push_back(buf_of[next + k]);
        next += a;
        const size_t m = rt_->queue(q).Poll(cpl);
        for (size_t k = 0; k < m; ++k) {
          Collect(cpl[k], res);
          free_bufs.push_back(buf_of[cpl[k].user_data]);
        }
        completed += m;
        progress.fetch_add(m);
      }
    });
  }
  std::thread control([&] {
    while (!stop.load()) {
      (void)rt_->Service();
      if (!switched.load() && progress.load() >= 2 * kPerThread) {
        const SaHandle h2 = Add(Config(0xB003, sa::Direction::kOutbound), 53, t);
        EXPECT_TRUE(rt_->SwitchOutbound(t, h2).ok());
        switched.store(true);
      }
      std::this_thread::yield();
    }
  });
  for (auto& th : threads) th.join();
  stop = true;
  control.join();
  ServiceUntilSettled();
  std::map<uint32_t, std::set<uint32_t>> seqs;
  size_t total = 0;
  for (uint32_t q = 0; q < 4; ++q) {
    for (size_t i = 0; i < kPerThread; ++i) {
      const Result& r = results[q][i];
      ASSERT_TRUE(r.done);
      ASSERT_EQ(r.status, RtStatus::kOk) << q << "/" << i << " " << RtStatusName(r.status);
      EXPECT_TRUE(seqs[EspSpi(r.out)].insert(EspSeq(r.out)).second) << "sequence number reused";
      ++total;
    }
  }
  EXPECT_EQ(total, 4 * kPerThread);
  EXPECT_EQ(seqs[0xB002].size(), kPerThread);  // every 4th packet of every thread
  EXPECT_EQ(seqs[0xB001].size() + seqs[0xB003].size(), 3 * kPerThread);
  EXPECT_FALSE(seqs[0xB001].empty());
  EXPECT_FALSE(seqs[0xB003].empty());
  EXPECT_FALSE(rt_->GetSa(card_sa).ok() && Info(card_sa).state == SaState::kActive);
}

// A card reset while four threads push traffic: every packet completes exactly once per
// submission (ok, or a device error for what the reset caught on the card or sent to it while it
// was down), the application resends the failed ones, and in the end every packet went out exactly
// once with no sequence number ever reused.
TEST_P(RuntimeTest, CardResetUnderMultiThreadTraffic) {
  Open(4, 7);
  const uint32_t t = ProtectAllTunnel();
  Add(Config(0xC001, sa::Direction::kOutbound), 61, t);
  constexpr size_t kPerThread = 2000;
  std::atomic<bool> stop{false};
  std::atomic<size_t> progress{0};
  std::vector<std::vector<Result>> results(4);
  std::vector<size_t> device_errors(4, 0);
  std::vector<std::thread> threads;
  for (uint32_t q = 0; q < 4; ++q) {
    threads.emplace_back([&, q] {
      auto& res = results[q];
      res.resize(kPerThread);
      std::vector<uint32_t> free_bufs;
      for (uint32_t b = 0; b < kBufs; ++b) free_bufs.push_back(b);
      std::vector<uint32_t> buf_of(kPerThread);
      std::vector<uint8_t> pending(kPerThread, 0);
      std::vector<size_t> todo;
      for (size_t id = kPerThread; id-- > 0;) todo.push_back(id);
      size_t ok = 0;
      std::array<RtCompletion, 32> cpl;
      for (int spins = 0; ok < kPerThread && spins < 50'000'000; ++spins) {
        std::vector<RtPacket> burst;
        std::vector<size_t> ids;
        while (!todo.empty() && !free_bufs.empty() && burst.size() < 16) {
          const size_t id = todo.back();
          todo.pop_back();
          const uint32_t b = free_bufs.back();
          free_bufs.pop_back();
          buf_of[id] = b;
          driver::Packet p =
              pools_[q].Load(b, MakePacket({.payload_len = 64, .seed = static_cast<uint32_t>(q * 100000 + id)}), 256);
          burst.push_back({p.buf, p.iova, sa::Direction::kOutbound, kNoSa, id});
          ids.push_back(id);
        }
        const size_t a = rt_->queue(q).Submit(burst);
        for (size_t k = 0; k < a; ++k) pending[ids[k]]++;
        for (size_t k = ids.size(); k-- > a;) {  // not accepted: back in order
          free_bufs.push_back(buf_of[ids[k]]);
          todo.push_back(ids[k]);
        }
        const size_t m = rt_->queue(q).Poll(cpl);
        for (size_t k = 0; k < m; ++k) {
          const size_t id = cpl[k].user_data;
          EXPECT_EQ(pending[id], 1) << "completion without a submission";
          pending[id]--;
          free_bufs.push_back(buf_of[id]);
          if (cpl[k].status == RtStatus::kDeviceError) {
            device_errors[q]++;
            todo.push_back(id);  // resend
            continue;
          }
          Collect(cpl[k], res);
          ++ok;
        }
        progress.fetch_add(m);
        if (todo.empty() && ok < kPerThread) std::this_thread::yield();
      }
    });
  }
  std::thread control([&] {
    bool reset = false;
    while (!stop.load()) {
      (void)rt_->Service();
      if (!reset && progress.load() >= 3000) {
        reset = true;
        EXPECT_TRUE(rt_->device()->Write32(card::reg::kCtrlCtrl, card::field::kCtrlCtrlSoftReset.Mask()).ok());
      }
      std::this_thread::yield();
    }
  });
  for (auto& th : threads) th.join();
  stop = true;
  control.join();
  EXPECT_EQ(rt_->stats().recoveries, 1u);
  std::set<uint32_t> seqs;
  for (uint32_t q = 0; q < 4; ++q) {
    for (size_t i = 0; i < kPerThread; ++i) {
      const Result& r = results[q][i];
      ASSERT_TRUE(r.done) << q << "/" << i;
      ASSERT_EQ(r.status, RtStatus::kOk) << RtStatusName(r.status);
      EXPECT_TRUE(seqs.insert(EspSeq(r.out)).second) << "sequence number reused: " << EspSeq(r.out);
    }
  }
  EXPECT_EQ(seqs.size(), 4 * kPerThread);
}

INSTANTIATE_TEST_SUITE_P(Devices, RuntimeTest, ::testing::ValuesIn(DeviceSpecs()), SpecName);

// Without a card (use_card = false) every SA runs in software, with plain host buffers.
TEST(RuntimeNoCardTest, EverySaInSoftwareWithHostBuffers) {
  RuntimeOptions o;
  o.use_card = false;
  o.driver.queues = 2;
  auto rt = Runtime::Create(std::move(o));
  ASSERT_TRUE(rt.ok()) << rt.status().message();
  EXPECT_FALSE((*rt)->has_card());
  EXPECT_EQ((*rt)->queue_count(), 2u);
  const sa::SaConfig out = Config(0xD001, sa::Direction::kOutbound);
  auto h = (*rt)->AddSa(out, Keys(71));
  ASSERT_TRUE(h.ok());
  auto info = (*rt)->GetSa(*h);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->placement, Placement::kSoftware);
  EXPECT_EQ(info->refusal.reason, CardRefusal::kNoCard);
  auto peer = Software(Mirror(out), 71);
  std::vector<std::byte> mem(2048);
  const auto pkt = MakePacket({.payload_len = 100});
  std::memcpy(mem.data() + 256, pkt.data(), pkt.size());
  RtPacket p{PacketBuf{mem.data(), 2048, 256, static_cast<uint32_t>(pkt.size())}, 0, sa::Direction::kOutbound, *h, 7};
  ASSERT_EQ((*rt)->queue(1).Submit({&p, 1}), 1u);
  std::array<RtCompletion, 4> c;
  ASSERT_EQ((*rt)->queue(1).Poll(c), 1u);
  EXPECT_EQ(c[0].status, RtStatus::kOk);
  EXPECT_EQ(c[0].user_data, 7u);
  EXPECT_FALSE(c[0].card);
  EXPECT_EQ(*RunSoftware(*peer, Buf(c[0].buf.data(), c[0].buf.data() + c[0].buf.length)), pkt);
  EXPECT_TRUE((*rt)->Service().ok());
}

// The database on its own: handles, the SPI index, release and reuse.
TEST(SaDatabaseTest, InsertFindReleaseReuse) {
  SaDatabase db(10000);
  std::vector<SaHandle> hs;
  for (uint32_t i = 0; i < 10000; ++i) {
    auto h = db.Insert(Config(1000 + i, sa::Direction::kInbound), sa::KeyMaterial{});
    ASSERT_TRUE(h.ok());
    ASSERT_TRUE(db.IndexSpi(1000 + i, *h).ok());
    hs.push_back(*h);
  }
  EXPECT_FALSE(db.Insert(Config(1, sa::Direction::kInbound), sa::KeyMaterial{}).ok());
  EXPECT_EQ(db.FindSpi(1000 + 4321), hs[4321]);
  EXPECT_EQ(db.FindSpi(999), kNoSa);
  EXPECT_FALSE(db.IndexSpi(1000, hs[1]).ok());
  db.UnindexSpi(1000 + 5);
  db.Release(hs[5]);
  EXPECT_EQ(db.FindSpi(1000 + 5), kNoSa);
  EXPECT_EQ(db.FindSpi(1000 + 6), hs[6]);
  auto again = db.Insert(Config(77777, sa::Direction::kInbound), sa::KeyMaterial{});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, hs[5]);
  ASSERT_TRUE(db.IndexSpi(77777, *again).ok());
  EXPECT_EQ(db.FindSpi(77777), hs[5]);
  EXPECT_EQ(db.size(), 10000u);
}

}  // namespace
}  // namespace ipsec::runtime
