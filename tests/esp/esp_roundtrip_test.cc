// Round-trip property tests: every SA variant encapsulates and decapsulates back to the original
// packet, across providers (ipsec-mb out, OpenSSL in, and the reverse), so the two providers are
// also checked against each other on the full ESP format.
#include <gtest/gtest.h>

#include <tuple>

#include "tests/esp/test_packets.h"

namespace ipsec::esp {
namespace {

using namespace ipsec::esp::testing;
using sa::DropReason;
using sa::Mode;
using sa::Suite;

constexpr Suite kAllSuites[] = {Suite::kAesGcm128,           Suite::kAesGcm256,           Suite::kAesGmac128,
                                Suite::kAesGmac256,          Suite::kAesCbc128HmacSha256, Suite::kAesCbc256HmacSha256,
                                Suite::kNullHmacSha256,      Suite::kChaCha20Poly1305};

struct Variant {
  Suite suite;
  Mode mode;
  bool inner_v6;
  bool outer_v6;
  bool udp;
  bool esn;
};

std::string VariantName(const ::testing::TestParamInfo<Variant>& info) {
  const Variant& v = info.param;
  std::string s(sa::SuiteName(v.suite));
  for (char& c : s) {
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  s += v.mode == Mode::kTunnel ? "_tun" : "_trs";
  s += v.inner_v6 ? "_in6" : "_in4";
  if (v.mode == Mode::kTunnel) s += v.outer_v6 ? "_out6" : "_out4";
  if (v.udp) s += "_udp";
  if (v.esn) s += "_esn";
  return s;
}

std::vector<Variant> AllVariants() {
  std::vector<Variant> out;
  for (Suite s : kAllSuites) {
    for (Mode m : {Mode::kTunnel, Mode::kTransport}) {
      for (bool in6 : {false, true}) {
        for (bool out6 : {false, true}) {
          if (m == Mode::kTransport && out6 != in6) continue;  // transport keeps the packet's family
          for (bool udp : {false, true}) {
            for (bool esn : {false, true}) out.push_back({s, m, in6, out6, udp, esn});
          }
        }
      }
    }
  }
  return out;
}

class EspRoundTripTest : public ::testing::TestWithParam<Variant> {};

sa::SaConfig ConfigFor(const Variant& v) {
  sa::SaConfig c = TunnelConfig(v.suite, v.outer_v6);
  c.mode = v.mode;
  if (v.mode == Mode::kTransport) {
    c.tunnel_src.reset();
    c.tunnel_dst.reset();
  }
  if (v.udp) c.udp_encap = sa::UdpEncap{4500, 4500};
  c.esn = v.esn;
  // Start close to the 2^32 boundary with ESN so the round trip crosses it.
  if (v.esn) c.initial_seq = 0xfffffff0ULL;
  c.replay_window = 128;
  return c;
}

TEST_P(EspRoundTripTest, DecapsulatesToTheOriginalPacketAcrossProviders) {
  const Variant v = GetParam();
  if (!crypto::IpsecMbAvailable()) {
    GTEST_SKIP() << "intel-ipsec-mb unavailable on this CPU";
  }
  for (auto [po, pi] : {std::pair{crypto::Provider::kIpsecMb, crypto::Provider::kOpenSsl},
                        std::pair{crypto::Provider::kOpenSsl, crypto::Provider::kIpsecMb}}) {
    SaPair sas = MakeSaPair(ConfigFor(v), 11, po, pi);
    ASSERT_TRUE(sas.out && sas.in);
    constexpr size_t kBurst = 32;
    BufferPool pool(kBurst, 2048);
    std::vector<std::vector<std::byte>> originals;
    std::vector<PacketBuf*> bufs;
    std::mt19937 rng(static_cast<uint32_t>(v.suite) * 131 + 7);
    for (size_t i = 0; i < kBurst; ++i) {
      PacketSpec spec;
      spec.v6 = v.inner_v6;
      spec.payload_len = i == 0 ? 0 : rng() % 1400;
      spec.proto = (i % 3 == 0) ? ip::kProtoTcp : ip::kProtoUdp;
      spec.seed = static_cast<uint32_t>(i + 1);
      spec.tos = static_cast<uint8_t>(i % 4 == 0 ? 0xb8 : 0);
      originals.push_back(MakePacket(spec));
      bufs.push_back(pool.Load(i, originals.back()));
    }
    std::vector<DropReason> st(kBurst);
    ASSERT_EQ(sas.out->ProcessOutbound(bufs, st), kBurst);
    for (size_t i = 0; i < kBurst; ++i) {
      ASSERT_EQ(st[i], DropReason::kOk);
      // The outer header must be a valid IP packet carrying ESP (or UDP).
      ip::IpInfo outer = ip::ParseIp(bufs[i]->span(), false);
      ASSERT_NE(outer.version, 0) << i;
      EXPECT_EQ(outer.version, v.mode == Mode::kTunnel ? (v.outer_v6 ? 6 : 4) : (v.inner_v6 ? 6 : 4));
      if (outer.version == 4) {
        EXPECT_TRUE(ip::Ipv4ChecksumOk(bufs[i]->data(), outer.header_len));
      }
      if (v.suite == Suite::kAesGcm128 || v.suite == Suite::kAesCbc128HmacSha256) {
        // Encrypting suites must not leave the payload in clear.
        auto enc = bufs[i]->span();
        auto& orig = originals[i];
        if (orig.size() > 64) {
          EXPECT_EQ(std::search(enc.begin(), enc.end(), orig.end() - 32, orig.end()), enc.end());
        }
      }
    }
    ASSERT_EQ(sas.in->ProcessInbound(bufs, st), kBurst);
    for (size_t i = 0; i < kBurst; ++i) {
      ASSERT_EQ(st[i], DropReason::kOk) << sa::DropReasonName(st[i]) << " packet " << i;
      auto got = Vec(bufs[i]->span());
      // Tunnel and transport alike restore the packet exactly, checksums included.
      EXPECT_EQ(got, originals[i]) << "packet " << i;
    }
    EXPECT_EQ(sas.out->counters().packets, kBurst);
    EXPECT_EQ(sas.in->counters().packets, kBurst);
    EXPECT_EQ(sas.in->counters().total_drops(), 0u);
    if (v.esn) {
      EXPECT_GT(sas.in->replay().top(), 0xffffffffULL);  // crossed into the next 2^32 subspace
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllVariants, EspRoundTripTest, ::testing::ValuesIn(AllVariants()), VariantName);

}  // namespace
}  // namespace ipsec::esp
