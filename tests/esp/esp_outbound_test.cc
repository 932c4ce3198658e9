// Outbound behaviour: the wire format checked against an independent OpenSSL decryption, sequence
// numbers, overflow, lifetimes, header policies (DSCP, ECN, DF, TTL) and refusals.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <set>

#include "tests/esp/test_packets.h"

namespace ipsec::esp {
namespace {
using namespace ipsec::esp::testing;
using sa::DropReason;
using sa::Suite;

class RecordingSink : public sa::SaEventSink {
 public:
  void OnSaEvent(uint32_t spi, sa::Direction, sa::SaEvent e) override { events.push_back({spi, e}); }
  std::vector<std::pair<uint32_t, sa::SaEvent>> events;
  size_t Count(sa::SaEvent e) const {
    return static_cast<size_t>(std::count_if(events.begin(), events.end(), [&](auto& x) { return x.second == e; }));
  }
};

std::unique_ptr<EspSa> MakeOut(sa::SaConfig c, sa::SaEventSink* sink = nullptr) {
  c.direction = sa::Direction::kOutbound;
  auto s = EspSa::Create(c, MakeKeys(c.suite, 3), crypto::Provider::kAuto, sink);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

// Independent check of the RFC 4106 wire format: decrypt an ESP tunnel packet produced by EspSa
// with raw OpenSSL, from the key/salt and the header fields alone.
TEST(EspOutboundTest, GcmTunnelPacketMatchesRfc4106Layout) {
  sa::SaConfig c = TunnelConfig(Suite::kAesGcm128, false);
  c.spi = 0x0a0b0c0d;
  c.initial_seq = 0x42;
  auto out = MakeOut(c);
  BufferPool pool(1, 2048);
  auto inner = MakePacket({.payload_len = 37});
  PacketBuf* b = pool.Load(0, inner);
  DropReason st;
  ASSERT_EQ(out->ProcessOutbound({&b, 1}, {&st, 1}), 1u);
  auto pkt = Vec(b->span());
  // Outer IPv4: version/IHL, protocol 50, addresses from the SA.
  ASSERT_EQ(U8(pkt[0]), 0x45);
  EXPECT_EQ(U8(pkt[9]), ip::kProtoEsp);
  EXPECT_EQ(LoadU16Be(&pkt[2]), pkt.size());
  const std::byte* esp = pkt.data() + 20;
  EXPECT_EQ(LoadU32Be(esp), 0x0a0b0c0du);       // SPI
  EXPECT_EQ(LoadU32Be(esp + 4), 0x42u);         // sequence number
  EXPECT_EQ(LoadU64Be(esp + 8), 0x42u);         // explicit IV = counter (RFC 4106 §3.1)
  // Inner 65 bytes (20 IP + 8 UDP + 37) + 2 trailer = 67, padded to 68: one pad byte.
  const size_t text_len = pkt.size() - 20 - 8 - 8 - 16;
  ASSERT_EQ(text_len, 68u);
  sa::KeyMaterial keys = MakeKeys(Suite::kAesGcm128, 3);
  unsigned char nonce[12];
  std::memcpy(nonce, keys.enc_key.span().data() + 16, 4);   // salt
  std::memcpy(nonce + 4, esp + 8, 8);                        // IV
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ASSERT_EQ(EVP_DecryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr,
                               reinterpret_cast<const unsigned char*>(keys.enc_key.span().data()), nonce), 1);
  int outl = 0;
  ASSERT_EQ(EVP_DecryptUpdate(ctx, nullptr, &outl, reinterpret_cast<const unsigned char*>(esp), 8), 1);  // AAD
  std::vector<unsigned char> plain(text_len);
  ASSERT_EQ(EVP_DecryptUpdate(ctx, plain.data(), &outl, reinterpret_cast<const unsigned char*>(esp + 16),
                              static_cast<int>(text_len)), 1);
  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, const_cast<std::byte*>(esp + 16 + text_len));
  unsigned char fin[16];
  EXPECT_EQ(EVP_DecryptFinal_ex(ctx, fin, &outl), 1) << "ICV must verify under raw OpenSSL";
  EVP_CIPHER_CTX_free(ctx);
  EXPECT_EQ(0, std::memcmp(plain.data(), inner.data(), inner.size()));
  EXPECT_EQ(plain[65], 1);                 // pad byte 1 (RFC 4303 §2.4)
  EXPECT_EQ(plain[66], 1);                 // pad length
  EXPECT_EQ(plain[67], ip::kProtoIpv4);    // next header: IPv4
}

TEST(EspOutboundTest, SequenceNumbersAreConsecutiveAcrossBursts) {
  auto out = MakeOut(TunnelConfig(Suite::kAesGcm256, false));
  BufferPool pool(8, 2048);
  auto inner = MakePacket({});
  uint32_t expect = 1;
  for (int burst = 0; burst < 3; ++burst) {
    std::vector<PacketBuf*> b;
    for (size_t i = 0; i < 8; ++i) b.push_back(pool.Load(i, inner));
    std::vector<DropReason> st(8);
    ASSERT_EQ(out->ProcessOutbound(b, st), 8u);
    for (auto* p : b) EXPECT_EQ(LoadU32Be(p->data() + 24), expect++);
  }
  EXPECT_EQ(out->next_seq(), 25u);
}

TEST(EspOutboundTest, StopsAtSequenceOverflowWithoutEsnAndRaisesEventOnce) {
  sa::SaConfig c = TunnelConfig(Suite::kAesGcm128, false);
  c.initial_seq = 0xfffffffe;
  RecordingSink sink;
  auto out = MakeOut(c, &sink);
  BufferPool pool(4, 2048);
  auto inner = MakePacket({});
  std::vector<PacketBuf*> b;
  for (size_t i = 0; i < 4; ++i) b.push_back(pool.Load(i, inner));
  std::vector<DropReason> st(4);
  EXPECT_EQ(out->ProcessOutbound(b, st), 2u);
  EXPECT_EQ(st[0], DropReason::kOk);
  EXPECT_EQ(st[1], DropReason::kOk);
  EXPECT_EQ(LoadU32Be(b[1]->data() + 24), 0xffffffffu);
  EXPECT_EQ(st[2], DropReason::kSeqOverflow);
  EXPECT_EQ(st[3], DropReason::kSeqOverflow);
  EXPECT_EQ(Vec(b[2]->span()), inner) << "a refused packet is left untouched";
  EXPECT_TRUE(out->stopped());
  b[0] = pool.Load(0, inner);
  EXPECT_EQ(out->ProcessOutbound({b.data(), 1}, {st.data(), 1}), 0u);
  EXPECT_EQ(st[0], DropReason::kSeqOverflow);
  EXPECT_EQ(sink.Count(sa::SaEvent::kSeqOverflow), 1u);
  EXPECT_EQ(out->counters().drop(DropReason::kSeqOverflow), 3u);
}

TEST(EspOutboundTest, EsnCarriesLow32BitsAndStopsAt2To64) {
  sa::SaConfig c = TunnelConfig(Suite::kAesGcm128, false);
  c.esn = true;
  c.initial_seq = 0xfffffffffffffffeULL;
  RecordingSink sink;
  auto out = MakeOut(c, &sink);
  BufferPool pool(3, 2048);
  auto inner = MakePacket({});
  std::vector<PacketBuf*> b;
  for (size_t i = 0; i < 3; ++i) b.push_back(pool.Load(i, inner));
  std::vector<DropReason> st(3);
  EXPECT_EQ(out->ProcessOutbound(b, st), 2u);
  EXPECT_EQ(LoadU32Be(b[0]->data() + 24), 0xfffffffeu);
  EXPECT_EQ(LoadU32Be(b[1]->data() + 24), 0xffffffffu);
  EXPECT_EQ(st[2], DropReason::kSeqOverflow);
  EXPECT_EQ(sink.Count(sa::SaEvent::kSeqOverflow), 1u);
}

TEST(EspOutboundTest, HardPacketLifetimeStopsTheSaAndSoftFiresFirst) {
  sa::SaConfig c = TunnelConfig(Suite::kAesGcm128, false);
  c.lifetime.soft_packets = 3;
  c.lifetime.hard_packets = 5;
  RecordingSink sink;
  auto out = MakeOut(c, &sink);
  BufferPool pool(8, 2048);
  auto inner = MakePacket({});
  std::vector<PacketBuf*> b;
  for (size_t i = 0; i < 8; ++i) b.push_back(pool.Load(i, inner));
  std::vector<DropReason> st(8);
  EXPECT_EQ(out->ProcessOutbound(b, st), 5u);
  for (size_t i = 5; i < 8; ++i) EXPECT_EQ(st[i], DropReason::kHardLifetime);
  EXPECT_EQ(sink.Count(sa::SaEvent::kSoftLifetime), 1u);
  EXPECT_EQ(sink.Count(sa::SaEvent::kHardLifetime), 1u);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0].second, sa::SaEvent::kSoftLifetime);
}

TEST(EspOutboundTest, HardByteLifetimeStopsTheSa) {
  sa::SaConfig c = TunnelConfig(Suite::kAesGcm128, false);
  c.lifetime.hard_bytes = 1000;
  auto out = MakeOut(c);
  BufferPool pool(8, 2048);
  auto inner = MakePacket({.payload_len = 372});  // 400 bytes
  std::vector<PacketBuf*> b;
  for (size_t i = 0; i < 4; ++i) b.push_back(pool.Load(i, inner));
  std::vector<DropReason> st(4);
  EXPECT_EQ(out->ProcessOutbound(b, st), 3u);  // 400, 800, 1200 (crosses), then stop
  EXPECT_EQ(st[3], DropReason::kHardLifetime);
}

TEST(EspOutboundTest, RefusesWithoutHeadroomOrTailroomAndLeavesPacketIntact) {
  auto out = MakeOut(TunnelConfig(Suite::kAesGcm128, true));
  BufferPool pool(2, 2048);
  auto inner = MakePacket({});
  PacketBuf* b = pool.Load(0, inner, /*headroom=*/40);  // IPv6 outer needs 40 + 8 + 8
  DropReason st;
  EXPECT_EQ(out->ProcessOutbound({&b, 1}, {&st, 1}), 0u);
  EXPECT_EQ(st, DropReason::kNoRoom);
  EXPECT_EQ(Vec(b->span()), inner);
  PacketBuf* t = pool.Load(1, inner);
  t->capacity = t->offset + t->length + 10;  // too little tailroom for trailer + ICV
  EXPECT_EQ(out->ProcessOutbound({&t, 1}, {&st, 1}), 0u);
  EXPECT_EQ(st, DropReason::kNoRoom);
  EXPECT_EQ(out->counters().drop(DropReason::kNoRoom), 2u);
}

TEST(EspOutboundTest, RejectsMalformedInnerPackets) {
  auto out = MakeOut(TunnelConfig(Suite::kAesGcm128, false));
  BufferPool pool(1, 2048);
  auto good = MakePacket({});
  std::vector<std::vector<std::byte>> bad;
  bad.push_back({});                                         // empty
  bad.push_back(std::vector<std::byte>(good.begin(), good.begin() + 10));  // truncated header
  auto v = good; v[0] = std::byte{0x75}; bad.push_back(v);   // version 7
  v = good; v[0] = std::byte{0x43}; bad.push_back(v);        // IHL 3
  v = good; StoreU16Be(&v[2], 2000); bad.push_back(v);       // length beyond buffer
  v = good; v.push_back(std::byte{0}); bad.push_back(v);     // length shorter than buffer
  for (auto& pkt : bad) {
    PacketBuf* b = pool.Load(0, pkt);
    DropReason st;
    EXPECT_EQ(out->ProcessOutbound({&b, 1}, {&st, 1}), 0u);
    EXPECT_EQ(st, DropReason::kMalformed);
  }
}

TEST(EspOutboundTest, TransportModeRefusesIpv4Fragments) {
  sa::SaConfig c = TunnelConfig(Suite::kAesGcm128, false);
  c.mode = sa::Mode::kTransport;
  auto out = MakeOut(c);
  BufferPool pool(1, 2048);
  auto pkt = MakePacket({});
  StoreU16Be(&pkt[6], 0x2000);  // MF
  ip::SetIpv4Checksum(pkt.data(), 20);
  PacketBuf* b = pool.Load(0, pkt);
  DropReason st;
  EXPECT_EQ(out->ProcessOutbound({&b, 1}, {&st, 1}), 0u);
  EXPECT_EQ(st, DropReason::kMalformed);
}

struct OuterCase {
  sa::DscpMode dscp_mode;
  uint8_t dscp;
  sa::EcnMode ecn;
  sa::DfMode df;
  uint8_t inner_tos;
  bool inner_df;
  uint8_t want_tos;
  bool want_df;
};

TEST(EspOutboundTest, OuterHeaderFollowsDscpEcnDfAndTtlPolicy) {
  const OuterCase cases[] = {
      {sa::DscpMode::kCopy, 0, sa::EcnMode::kNormal, sa::DfMode::kCopy, 0xb9, true, 0xb9, true},
      {sa::DscpMode::kCopy, 0, sa::EcnMode::kCompat, sa::DfMode::kCopy, 0xbb, false, 0xb8, false},
      {sa::DscpMode::kSet, 10, sa::EcnMode::kNormal, sa::DfMode::kSet, 0xb8 | 2, false, (10 << 2) | 2, true},
      {sa::DscpMode::kSet, 0, sa::EcnMode::kNormal, sa::DfMode::kClear, 3, true, 3, false},
  };
  for (const OuterCase& oc : cases) {
    sa::SaConfig c = TunnelConfig(Suite::kAesGcm128, false);
    c.dscp_mode = oc.dscp_mode;
    c.dscp = oc.dscp;
    c.ecn_mode = oc.ecn;
    c.df_mode = oc.df;
    c.ttl = 17;
    auto out = MakeOut(c);
    BufferPool pool(1, 2048);
    PacketBuf* b = pool.Load(0, MakePacket({.tos = oc.inner_tos, .df = oc.inner_df}));
    DropReason st;
    ASSERT_EQ(out->ProcessOutbound({&b, 1}, {&st, 1}), 1u);
    ip::IpInfo o = ip::ParseIp(b->span(), false);
    EXPECT_EQ(o.tos, oc.want_tos);
    EXPECT_EQ(o.df, oc.want_df);
    EXPECT_EQ(o.ttl, 17);
  }
  // IPv6 outer: traffic class split across bytes 0-1, hop limit from the SA.
  sa::SaConfig c = TunnelConfig(Suite::kAesGcm128, true);
  c.ttl = 9;
  auto out = MakeOut(c);
  BufferPool pool(1, 2048);
  PacketBuf* b = pool.Load(0, MakePacket({.tos = 0xa2}));
  DropReason st;
  ASSERT_EQ(out->ProcessOutbound({&b, 1}, {&st, 1}), 1u);
  ip::IpInfo o = ip::ParseIp(b->span(), false);
  EXPECT_EQ(o.version, 6);
  EXPECT_EQ(o.tos, 0xa2);
  EXPECT_EQ(o.ttl, 9);
}

TEST(EspOutboundTest, Ipv6TransportInsertsAfterHopByHopAndBeforeDestinationOptions) {
  // IPv6 | Hop-by-Hop (8) | Destination Options (8) | UDP: ESP goes between HBH and DstOpts
  // (RFC 4303 §3.1.1: destination options with no Routing header after them follow ESP).
  auto base = MakePacket({.v6 = true, .payload_len = 20});
  std::vector<std::byte> pkt(base.begin(), base.begin() + 40);
  const uint8_t hbh[8] = {ip::kProtoDstOpts, 0, 1, 4, 0, 0, 0, 0};  // PadN
  const uint8_t dst[8] = {ip::kProtoUdp, 0, 1, 4, 0, 0, 0, 0};
  for (uint8_t x : hbh) pkt.push_back(std::byte{x});
  for (uint8_t x : dst) pkt.push_back(std::byte{x});
  pkt.insert(pkt.end(), base.begin() + 40, base.end());
  pkt[6] = std::byte{ip::kProtoHopByHop};
  StoreU16Be(&pkt[4], static_cast<uint16_t>(pkt.size() - 40));

  sa::SaConfig c = TunnelConfig(Suite::kAesGcm128, true);
  c.mode = sa::Mode::kTransport;
  SaPair sas = MakeSaPair(c);
  BufferPool pool(1, 2048);
  PacketBuf* b = pool.Load(0, pkt);
  DropReason st;
  ASSERT_EQ(sas.out->ProcessOutbound({&b, 1}, {&st, 1}), 1u);
  const std::byte* p = b->data();
  EXPECT_EQ(U8(p[6]), ip::kProtoHopByHop);
  EXPECT_EQ(U8(p[40]), ip::kProtoEsp) << "Hop-by-Hop now names ESP";
  EXPECT_EQ(LoadU32Be(p + 48), c.spi) << "ESP directly after Hop-by-Hop";
  ASSERT_EQ(sas.in->ProcessInbound({&b, 1}, {&st, 1}), 1u) << sa::DropReasonName(st);
  EXPECT_EQ(Vec(b->span()), pkt);
}

TEST(EspOutboundTest, InboundSaRefusesOutboundProcessing) {
  sa::SaConfig c = TunnelConfig(Suite::kAesGcm128, false);
  SaPair sas = MakeSaPair(c);
  BufferPool pool(1, 2048);
  PacketBuf* b = pool.Load(0, MakePacket({}));
  DropReason st;
  EXPECT_EQ(sas.in->ProcessOutbound({&b, 1}, {&st, 1}), 0u);
  EXPECT_EQ(st, DropReason::kWrongDirection);
  EXPECT_EQ(sas.out->ProcessInbound({&b, 1}, {&st, 1}), 0u);
  EXPECT_EQ(st, DropReason::kWrongDirection);
}

TEST(EspOutboundTest, CbcIvsAreUnpredictableAndDistinct) {
  auto out = MakeOut(TunnelConfig(Suite::kAesCbc128HmacSha256, false));
  BufferPool pool(16, 2048);
  auto inner = MakePacket({});
  std::vector<PacketBuf*> b;
  for (size_t i = 0; i < 16; ++i) b.push_back(pool.Load(i, inner));
  std::vector<DropReason> st(16);
  ASSERT_EQ(out->ProcessOutbound(b, st), 16u);
  std::set<std::vector<std::byte>> ivs;
  for (auto* p : b) {
    std::vector<std::byte> iv(p->data() + 28, p->data() + 44);
    EXPECT_NE(LoadU64Be(iv.data()), 0u);
    ivs.insert(iv);
  }
  EXPECT_EQ(ivs.size(), 16u);
}

TEST(EspOutboundTest, CreateRejectsBadConfigurations) {
  sa::SaConfig c = TunnelConfig(Suite::kAesGcm128, false);
  c.tunnel_dst = *sa::IpAddress::Parse("2001:db8::1");  // mixed families
  EXPECT_FALSE(EspSa::Create(c, MakeKeys(c.suite, 1)).ok());
  c = TunnelConfig(Suite::kAesGcm128, false);
  EXPECT_FALSE(EspSa::Create(c, MakeKeys(Suite::kAesGcm256, 1)).ok()) << "key length must match the suite";
  c.protocol = sa::Protocol::kAh;
  EXPECT_FALSE(EspSa::Create(c, MakeKeys(c.suite, 1)).ok());
}

}  // namespace
}  // namespace ipsec::esp
