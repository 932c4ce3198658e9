// Inbound behaviour: a table of malformed and hostile packets, each with its reason code and the
// SA left intact; replay and reordering; ECN, TTL and tunnel-address checks; SA lookup.
//
// Authentic packets with arbitrary (bad) trailers are built here with raw OpenSSL AES-GCM, so the
// checks that run after the ICV (padding, next header, inner header) are reached.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <numeric>

#include "host/esp/inbound_sad.h"
#include "tests/esp/test_packets.h"

namespace ipsec::esp {
namespace {
using namespace ipsec::esp::testing;
using sa::DropReason;
using sa::Suite;

constexpr uint32_t kKeySeed = 21;

// IPv4 (198.18.0.1 -> 198.18.0.2) | ESP(spi, seq) | IV | GCM(text) | ICV, sealed with the keys
// MakeKeys(kAesGcm128, kKeySeed) would give. `outer_tos` sets the outer TOS byte.
std::vector<std::byte> CraftGcm(uint32_t spi, uint32_t seq, const std::vector<std::byte>& text,
                                uint8_t outer_tos = 0) {
  sa::KeyMaterial keys = MakeKeys(Suite::kAesGcm128, kKeySeed);
  std::vector<std::byte> p(20 + 8 + 8 + text.size() + 16);
  std::byte* b = p.data();
  b[0] = std::byte{0x45};
  b[1] = std::byte{outer_tos};
  StoreU16Be(b + 2, static_cast<uint16_t>(p.size()));
  b[8] = std::byte{64};
  b[9] = std::byte{ip::kProtoEsp};
  const uint8_t src[4] = {198, 18, 0, 1}, dst[4] = {198, 18, 0, 2};
  std::memcpy(b + 12, src, 4);
  std::memcpy(b + 16, dst, 4);
  ip::SetIpv4Checksum(b, 20);
  std::byte* esp = b + 20;
  StoreU32Be(esp, spi);
  StoreU32Be(esp + 4, seq);
  StoreU64Be(esp + 8, seq);
  unsigned char nonce[12];
  std::memcpy(nonce, keys.enc_key.span().data() + 16, 4);
  std::memcpy(nonce + 4, esp + 8, 8);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr,
                     reinterpret_cast<const unsigned char*>(keys.enc_key.span().data()), nonce);
  int outl = 0;
  EVP_EncryptUpdate(ctx, nullptr, &outl, reinterpret_cast<unsigned char*>(esp), 8);
  EVP_EncryptUpdate(ctx, reinterpret_cast<unsigned char*>(esp + 16), &outl,
                    reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  EVP_EncryptFinal_ex(ctx, nullptr, &outl);
  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, esp + 16 + text.size());
  EVP_CIPHER_CTX_free(ctx);
  return p;
}

// Payload || padding 1..n || pad length || next header, aligned to 4 bytes.
std::vector<std::byte> Trailer(std::vector<std::byte> payload, uint8_t next_header) {
  size_t pad = (4 - (payload.size() + 2) % 4) % 4;
  for (size_t k = 0; k < pad; ++k) payload.push_back(std::byte(k + 1));
  payload.push_back(std::byte(pad));
  payload.push_back(std::byte{next_header});
  return payload;
}

class EspInboundTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_ = TunnelConfig(Suite::kAesGcm128, false);
    cfg_.spi = 0x5000;
    cfg_.replay_window = 4096;
    // The real outbound SA starts above the hand-crafted packets' numbers (10-20).
    cfg_.initial_seq = 100;
    sas_ = MakeSaPair(cfg_, kKeySeed);
    ASSERT_TRUE(sas_.in && sas_.out);
  }
  DropReason Decap(const std::vector<std::byte>& pkt, std::vector<std::byte>* out = nullptr) {
    PacketBuf* b = pool_.Load(0, pkt);
    DropReason st;
    sas_.in->ProcessInbound({&b, 1}, {&st, 1});
    if (out) *out = Vec(b->span());
    return st;
  }
  uint32_t next_ = 1000;
  // A fresh, valid packet from the real outbound SA must still pass: the SA is intact.
  void ExpectSaStillWorks() {
    auto inner = MakePacket({.seed = next_});
    PacketBuf* b = pool_.Load(1, inner);
    DropReason st;
    ASSERT_EQ(sas_.out->ProcessOutbound({&b, 1}, {&st, 1}), 1u);
    ASSERT_EQ(sas_.in->ProcessInbound({&b, 1}, {&st, 1}), 1u) << sa::DropReasonName(st);
    EXPECT_EQ(Vec(b->span()), inner);
    ++next_;
  }
  sa::SaConfig cfg_;
  SaPair sas_;
  BufferPool pool_{2, 4096};
};

TEST_F(EspInboundTest, CraftedPacketDecapsulates) {
  auto inner = MakePacket({});
  std::vector<std::byte> out;
  EXPECT_EQ(Decap(CraftGcm(0x5000, 7, Trailer(inner, ip::kProtoIpv4)), &out), DropReason::kOk);
  EXPECT_EQ(out, inner);
}

struct HostileCase {
  const char* name;
  DropReason want;
};

TEST_F(EspInboundTest, HostilePacketsGetTheirReasonAndLeaveTheSaIntact) {
  const auto inner = MakePacket({});
  const auto good = CraftGcm(0x5000, 10, Trailer(inner, ip::kProtoIpv4));
  std::vector<std::pair<HostileCase, std::vector<std::byte>>> table;
  auto add = [&](const char* n, DropReason r, std::vector<std::byte> p) { table.push_back({{n, r}, std::move(p)}); };

  add("empty", DropReason::kMalformed, {});
  add("short outer header", DropReason::kMalformed, {good.begin(), good.begin() + 12});
  {
    auto p = std::vector<std::byte>(good.begin(), good.begin() + 26);  // ESP header cut
    StoreU16Be(&p[2], 26);
    ip::SetIpv4Checksum(p.data(), 20);
    add("truncated ESP header", DropReason::kMalformed, p);
  }
  {
    auto p = std::vector<std::byte>(good.begin(), good.begin() + 20 + 8 + 8 + 12);  // no room for an ICV
    StoreU16Be(&p[2], static_cast<uint16_t>(p.size()));
    ip::SetIpv4Checksum(p.data(), 20);
    add("shorter than header + IV + trailer + ICV", DropReason::kMalformed, p);
  }
  {
    auto p = std::vector<std::byte>(good.begin(), good.end() - 4);  // still 4-aligned: ICV check fails
    StoreU16Be(&p[2], static_cast<uint16_t>(p.size()));
    ip::SetIpv4Checksum(p.data(), 20);
    add("ICV shortened by a word", DropReason::kAuthFailed, p);
  }
  {
    auto p = good;
    StoreU16Be(&p[2], static_cast<uint16_t>(p.size() + 100));
    add("IP length beyond buffer", DropReason::kMalformed, p);
  }
  {
    auto p = good;
    p[40] ^= std::byte{1};
    add("flipped ciphertext bit", DropReason::kAuthFailed, p);
  }
  {
    auto p = good;
    p.back() ^= std::byte{0x80};
    add("flipped ICV bit", DropReason::kAuthFailed, p);
  }
  {
    auto p = good;
    p[27] ^= std::byte{1};  // sequence number is authenticated
    add("altered sequence number", DropReason::kAuthFailed, p);
  }
  add("wrong SPI", DropReason::kBadSpi, CraftGcm(0x5001, 11, Trailer(inner, ip::kProtoIpv4)));
  {
    auto t = Trailer(inner, ip::kProtoIpv4);
    t[t.size() - 3] = std::byte{7};  // pad byte should be 1
    add("bad padding bytes", DropReason::kBadPadding, CraftGcm(0x5000, 12, t));
  }
  {
    auto t = Trailer(inner, ip::kProtoIpv4);
    t[t.size() - 2] = std::byte{250};  // pad length beyond the payload
    add("pad length too large", DropReason::kBadPadding, CraftGcm(0x5000, 13, t));
  }
  add("next header UDP in tunnel mode", DropReason::kBadInner, CraftGcm(0x5000, 14, Trailer(inner, ip::kProtoUdp)));
  add("IPv6 next header on IPv4 inner", DropReason::kBadInner, CraftGcm(0x5000, 15, Trailer(inner, ip::kProtoIpv6)));
  {
    auto bad_inner = inner;
    bad_inner[0] = std::byte{0x55};
    add("inner header garbage", DropReason::kBadInner, CraftGcm(0x5000, 16, Trailer(bad_inner, ip::kProtoIpv4)));
  }
  {
    auto bad_inner = inner;
    StoreU16Be(&bad_inner[2], 3000);  // inner length beyond the ESP payload
    ip::SetIpv4Checksum(bad_inner.data(), 20);
    add("inner length beyond payload", DropReason::kBadInner, CraftGcm(0x5000, 17, Trailer(bad_inner, ip::kProtoIpv4)));
  }
  {
    auto bad_inner = inner;
    bad_inner[10] ^= std::byte{0xff};
    add("inner header checksum wrong", DropReason::kBadInner, CraftGcm(0x5000, 18, Trailer(bad_inner, ip::kProtoIpv4)));
  }
  add("dummy packet (next header 59)", DropReason::kDummyPacket, CraftGcm(0x5000, 19, Trailer({}, ip::kProtoNone)));
  {
    std::vector<std::byte> t = {std::byte{1}, std::byte{2}, std::byte{3}};  // 3 bytes: not 4-aligned
    add("ciphertext not 4-byte aligned", DropReason::kMalformed, CraftGcm(0x5000, 20, t));
  }
  {
    auto p = good;
    p[9] = std::byte{ip::kProtoTcp};
    ip::SetIpv4Checksum(p.data(), 20);
    add("not ESP", DropReason::kNotEsp, p);
  }
  {
    auto p = good;
    StoreU16Be(&p[6], 0x2000);
    ip::SetIpv4Checksum(p.data(), 20);
    add("outer fragment", DropReason::kMalformed, p);
  }
  add("sequence number zero", DropReason::kReplay, CraftGcm(0x5000, 0, Trailer(inner, ip::kProtoIpv4)));

  for (auto& [c, pkt] : table) {
    SCOPED_TRACE(c.name);
    const uint64_t before = sas_.in->counters().drop(c.want);
    EXPECT_EQ(Decap(pkt), c.want) << c.name;
    EXPECT_EQ(sas_.in->counters().drop(c.want), before + 1);
    ExpectSaStillWorks();
  }
  // Authenticated packets with bad contents still advanced the window (RFC 4303 §3.4.3 updates
  // it once the ICV verified); forged ones never did.
  EXPECT_EQ(Decap(good), DropReason::kOk) << "seq 10 was only ever sent forged";
}

TEST_F(EspInboundTest, ForgedPacketDoesNotAdvanceTheReplayWindow) {
  auto inner = MakePacket({});
  auto forged = CraftGcm(0x5000, 5000, Trailer(inner, ip::kProtoIpv4));
  forged.back() ^= std::byte{1};
  EXPECT_EQ(Decap(forged), DropReason::kAuthFailed);
  EXPECT_EQ(sas_.in->replay().top(), 0u);
  EXPECT_EQ(Decap(CraftGcm(0x5000, 5, Trailer(inner, ip::kProtoIpv4))), DropReason::kOk)
      << "a forged high sequence number must not push genuine traffic out of the window";
}

TEST_F(EspInboundTest, ReplayedAndTooOldPacketsAreDropped) {
  auto inner = MakePacket({});
  auto p100 = CraftGcm(0x5000, 100, Trailer(inner, ip::kProtoIpv4));
  EXPECT_EQ(Decap(p100), DropReason::kOk);
  EXPECT_EQ(Decap(p100), DropReason::kReplay);
  EXPECT_EQ(Decap(CraftGcm(0x5000, 6000, Trailer(inner, ip::kProtoIpv4))), DropReason::kOk);
  EXPECT_EQ(Decap(CraftGcm(0x5000, 1905, Trailer(inner, ip::kProtoIpv4))), DropReason::kOk);  // 6000-4095: inside
  EXPECT_EQ(Decap(CraftGcm(0x5000, 1904, Trailer(inner, ip::kProtoIpv4))), DropReason::kReplay);  // left of window
  EXPECT_EQ(sas_.in->counters().drop(DropReason::kReplay), 2u);
}

TEST(EspReplayTest, ReorderedTrafficWithinA4096WindowAcrossTheEsnBoundaryIsAcceptedOnce) {
  sa::SaConfig c = TunnelConfig(Suite::kAesGcm128, false);
  c.esn = true;
  c.replay_window = 4096;
  c.initial_seq = 0xffffffffULL - 3000;
  SaPair sas = MakeSaPair(c);
  constexpr size_t kN = 6000;
  BufferPool pool(kN, 256);
  std::vector<PacketBuf*> b;
  std::vector<std::vector<std::byte>> sent;
  auto inner = MakePacket({.payload_len = 16});
  for (size_t i = 0; i < kN; ++i) b.push_back(pool.Load(i, inner, 96));
  std::vector<DropReason> st(kN);
  ASSERT_EQ(sas.out->ProcessOutbound(b, st), kN);
  for (auto* p : b) sent.push_back(Vec(p->span()));
  // Shuffle within blocks of 2048 so every packet stays inside the 4096 window.
  std::mt19937 rng(5);
  std::vector<size_t> order(kN);
  std::iota(order.begin(), order.end(), 0);
  for (size_t s = 0; s < kN; s += 2048) {
    std::shuffle(order.begin() + s, order.begin() + std::min(kN, s + 2048), rng);
  }
  size_t ok = 0;
  for (size_t idx : order) {
    PacketBuf* p = pool.Load(idx, sent[idx], 96);
    DropReason r;
    ok += sas.in->ProcessInbound({&p, 1}, {&r, 1});
  }
  EXPECT_EQ(ok, kN);
  EXPECT_EQ(sas.in->replay().top(), c.initial_seq + kN - 1);
  // Everything again: all replays now (recent ones as seen, old ones as left of the window).
  std::vector<PacketBuf*> again;
  for (size_t i = 0; i < kN; ++i) again.push_back(pool.Load(i, sent[i], 96));
  EXPECT_EQ(sas.in->ProcessInbound(again, st), 0u);
  // Inside the window: kReplay. Far left of it, RFC 4303 A2.1 places the low 32 bits in the
  // current subspace (a "future" packet), so the ICV fails: kAuthFailed. None is accepted.
  EXPECT_GE(sas.in->counters().drop(DropReason::kReplay), 4096u);
  EXPECT_EQ(sas.in->counters().drop(DropReason::kReplay) + sas.in->counters().drop(DropReason::kAuthFailed), kN);
}

TEST(EspEcnTest, DecapsulationFollowsRfc6040) {
  sa::SaConfig c = TunnelConfig(Suite::kAesGcm128, false);
  c.spi = 0x5000;
  SaPair sas = MakeSaPair(c, kKeySeed);
  BufferPool pool(1, 4096);
  auto run = [&](uint8_t inner_ecn, uint8_t outer_ecn, std::vector<std::byte>* out) {
    auto inner = MakePacket({.tos = inner_ecn});
    static uint32_t seq = 1;
    PacketBuf* b = pool.Load(0, CraftGcm(0x5000, seq++, Trailer(inner, ip::kProtoIpv4), outer_ecn));
    DropReason st;
    sas.in->ProcessInbound({&b, 1}, {&st, 1});
    *out = Vec(b->span());
    return st;
  };
  std::vector<std::byte> out;
  EXPECT_EQ(run(ip::kEcnNotEct, ip::kEcnCe, &out), DropReason::kEcnDrop);
  EXPECT_EQ(run(ip::kEcnEct0, ip::kEcnCe, &out), DropReason::kOk);
  EXPECT_EQ(U8(out[1]) & 3, ip::kEcnCe);
  EXPECT_TRUE(ip::Ipv4ChecksumOk(out.data(), 20));
  EXPECT_EQ(run(ip::kEcnEct0, ip::kEcnEct1, &out), DropReason::kOk);
  EXPECT_EQ(U8(out[1]) & 3, ip::kEcnEct1);
  EXPECT_EQ(run(ip::kEcnNotEct, ip::kEcnEct0, &out), DropReason::kOk);
  EXPECT_EQ(U8(out[1]) & 3, ip::kEcnNotEct);
}

TEST(EspTunnelChecksTest, TtlDecrementAndTunnelAddressVerification) {
  sa::SaConfig c = TunnelConfig(Suite::kAesGcm128, false);
  c.spi = 0x5000;
  c.decrement_inner_ttl = true;
  c.verify_tunnel_addresses = true;
  SaPair sas = MakeSaPair(c, kKeySeed);
  BufferPool pool(1, 4096);
  DropReason st;
  auto inner = MakePacket({.ttl = 1});
  PacketBuf* b = pool.Load(0, CraftGcm(0x5000, 1, Trailer(inner, ip::kProtoIpv4)));
  sas.in->ProcessInbound({&b, 1}, {&st, 1});
  EXPECT_EQ(st, DropReason::kTtlExceeded);
  inner = MakePacket({.ttl = 9});
  b = pool.Load(0, CraftGcm(0x5000, 2, Trailer(inner, ip::kProtoIpv4)));
  ASSERT_EQ(sas.in->ProcessInbound({&b, 1}, {&st, 1}), 1u);
  EXPECT_EQ(U8(b->data()[8]), 8);
  EXPECT_TRUE(ip::Ipv4ChecksumOk(b->data(), 20));
  auto spoofed = CraftGcm(0x5000, 3, Trailer(inner, ip::kProtoIpv4));
  spoofed[15] = std::byte{99};  // outer source differs from the SA's peer
  ip::SetIpv4Checksum(spoofed.data(), 20);
  b = pool.Load(0, spoofed);
  sas.in->ProcessInbound({&b, 1}, {&st, 1});
  EXPECT_EQ(st, DropReason::kTunnelMismatch);
}

TEST(EspUdpEncapTest, IkeAndKeepalivesOnPort4500AreNotEsp) {
  sa::SaConfig c = TunnelConfig(Suite::kAesGcm128, false);
  c.udp_encap = sa::UdpEncap{4500, 4500};
  SaPair sas = MakeSaPair(c);
  BufferPool pool(1, 4096);
  PacketBuf* b = pool.Load(0, MakePacket({}));
  DropReason st;
  ASSERT_EQ(sas.out->ProcessOutbound({&b, 1}, {&st, 1}), 1u);
  auto esp_in_udp = Vec(b->span());
  EXPECT_EQ(U8(esp_in_udp[9]), ip::kProtoUdp);
  EXPECT_EQ(LoadU16Be(&esp_in_udp[22]), 4500);
  auto ike = esp_in_udp;
  StoreU32Be(&ike[28], 0);  // non-ESP marker (RFC 3948 §2.2)
  b = pool.Load(0, ike);
  sas.in->ProcessInbound({&b, 1}, {&st, 1});
  EXPECT_EQ(st, DropReason::kNotEsp);
  std::vector<std::byte> ka(esp_in_udp.begin(), esp_in_udp.begin() + 29);
  ka[28] = std::byte{0xff};  // NAT-keepalive (RFC 3948 §2.3)
  StoreU16Be(&ka[2], 29);
  StoreU16Be(&ka[24], 9);
  ip::SetIpv4Checksum(ka.data(), 20);
  b = pool.Load(0, ka);
  sas.in->ProcessInbound({&b, 1}, {&st, 1});
  EXPECT_EQ(st, DropReason::kNotEsp);
  b = pool.Load(0, esp_in_udp);
  EXPECT_EQ(sas.in->ProcessInbound({&b, 1}, {&st, 1}), 1u);
}

TEST(InboundSadTest, DispatchesInterleavedSasAndCountsUnknownSpis) {
  std::vector<SaPair> pairs;
  InboundSad sad;
  for (uint32_t k = 0; k < 4; ++k) {
    sa::SaConfig c = TunnelConfig(k % 2 ? Suite::kAesCbc128HmacSha256 : Suite::kAesGcm256, k >= 2);
    c.spi = 0x7000 + k;
    pairs.push_back(MakeSaPair(c, 100 + k));
    ASSERT_TRUE(sad.Add(pairs.back().in.get()).ok());
  }
  EXPECT_FALSE(sad.Add(pairs[0].in.get()).ok()) << "duplicate SPI";
  EXPECT_FALSE(sad.Add(pairs[0].out.get()).ok()) << "outbound SA";
  constexpr size_t kN = 64;
  BufferPool pool(kN, 2048);
  std::vector<PacketBuf*> b;
  std::vector<std::vector<std::byte>> inners;
  std::vector<size_t> owner;
  for (size_t i = 0; i < kN; ++i) {
    inners.push_back(MakePacket({.v6 = i % 3 == 0, .payload_len = i * 7, .seed = static_cast<uint32_t>(i)}));
    PacketBuf* p = pool.Load(i, inners.back());
    size_t k = (i * 7) % 4;
    owner.push_back(k);
    DropReason st;
    ASSERT_EQ(pairs[k].out->ProcessOutbound({&p, 1}, {&st, 1}), 1u);
    b.push_back(p);
  }
  // One unknown SPI in the middle.
  StoreU32Be(b[10]->data() + (ip::ParseIp(b[10]->span(), false).header_len), 0xdead);
  std::vector<DropReason> st(kN);
  std::vector<EspSa*> sa_of(kN);
  EXPECT_EQ(sad.ProcessInbound(b, st, sa_of), kN - 1);
  for (size_t i = 0; i < kN; ++i) {
    if (i == 10) {
      EXPECT_EQ(st[i], DropReason::kBadSpi);
      EXPECT_EQ(sa_of[i], nullptr);
      continue;
    }
    EXPECT_EQ(st[i], DropReason::kOk) << i;
    EXPECT_EQ(sa_of[i], pairs[owner[i]].in.get());
    EXPECT_EQ(Vec(b[i]->span()), inners[i]);
  }
  EXPECT_EQ(sad.counters().drop(DropReason::kBadSpi), 1u);
  const sa::IpAddress dst0 = *pairs[0].in->config().tunnel_dst;
  EXPECT_EQ(sad.Find(0x7000, &dst0), pairs[0].in.get());
  EXPECT_FALSE(sad.Remove(0x7000).ok()) << "bound to a destination";
  EXPECT_TRUE(sad.Remove(0x7000, &dst0).ok());
  EXPECT_EQ(sad.Find(0x7000, &dst0), nullptr);
  EXPECT_EQ(sad.size(), 3u);
}

TEST(InboundSadTest, SharedSpiIsResolvedByOuterDestination) {
  // Two tunnels to different local addresses with the same SPI, and a transport SA (no
  // destination) with it too: each packet reaches the SA of its destination.
  sa::SaConfig a = TunnelConfig(Suite::kAesGcm128, false);
  a.spi = 0x9000;
  sa::SaConfig b = a;
  b.tunnel_dst = *sa::IpAddress::Parse("198.18.0.3");
  sa::SaConfig t = a;
  t.mode = sa::Mode::kTransport;
  t.tunnel_src.reset();
  t.tunnel_dst.reset();
  SaPair pa = MakeSaPair(a, 1), pb = MakeSaPair(b, 2), pt = MakeSaPair(t, 3);
  InboundSad sad;
  ASSERT_TRUE(sad.Add(pt.in.get()).ok());
  ASSERT_TRUE(sad.Add(pa.in.get()).ok());
  ASSERT_TRUE(sad.Add(pb.in.get()).ok());
  BufferPool pool(3, 2048);
  std::vector<PacketBuf*> bufs;
  std::vector<std::vector<std::byte>> inners;
  SaPair* order[3] = {&pb, &pt, &pa};
  for (size_t i = 0; i < 3; ++i) {
    inners.push_back(MakePacket({.seed = static_cast<uint32_t>(i + 1)}));
    PacketBuf* p = pool.Load(i, inners.back());
    DropReason st;
    ASSERT_EQ(order[i]->out->ProcessOutbound({&p, 1}, {&st, 1}), 1u);
    bufs.push_back(p);
  }
  std::vector<DropReason> st(3);
  std::vector<EspSa*> used(3);
  EXPECT_EQ(sad.ProcessInbound(bufs, st, used), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(used[i], order[i]->in.get()) << i;
    EXPECT_EQ(Vec(bufs[i]->span()), inners[i]);
  }
}

}  // namespace
}  // namespace ipsec::esp
