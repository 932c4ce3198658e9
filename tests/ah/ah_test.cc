// AH data path tests: round trips over every mode/family/suite/ESN/provider combination,
// known-answer packets computed independently with OpenSSL, mutable vs immutable fields, replay,
// ESN, sequence overflow, lifetimes and malformed input.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <tuple>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "host/ah/ah_sa.h"
#include "host/common/ip.h"
#include "tests/ah/ah_test_util.h"

namespace ipsec::ah {
namespace {

using namespace ::ipsec::ah::testing;  // NOLINT: test helpers
using crypto::Provider;
using sa::Direction;
using sa::DropReason;
using sa::Mode;
using sa::Suite;

constexpr uint32_t kSpi = 0x1000;

std::unique_ptr<AhSa> MakeSa(const sa::SaConfig& c, Provider p = Provider::kOpenSsl,
                             sa::SaEventSink* sink = nullptr) {
  auto sa = AhSa::Create(c, Keys(c.suite), p, sink);
  EXPECT_TRUE(sa.ok()) << sa.status().ToString();
  return sa.ok() ? std::move(sa).value() : nullptr;
}

sa::SaConfig WithDir(sa::SaConfig c, Direction d) {
  c.direction = d;
  return c;
}

// An outbound/inbound pair with one configuration.
struct Pair {
  std::unique_ptr<AhSa> out, in;
};
Pair MakePair(const sa::SaConfig& c, Provider po = Provider::kOpenSsl, Provider pi = Provider::kOpenSsl) {
  return {MakeSa(WithDir(c, Direction::kOutbound), po), MakeSa(WithDir(c, Direction::kInbound), pi)};
}

// Protects `pkt` with `out` and returns the AH packet.
Packet Protected(AhSa& out, const Packet& pkt) {
  Buf b(pkt);
  EXPECT_EQ(Out(out, b), DropReason::kOk);
  return b.bytes();
}

void FixIpv4Checksum(Packet& p) { ip::SetIpv4Checksum(p.data(), size_t{U8(p[0]) & 0x0fu} * 4); }

int TrafficClassOf(const Packet& v6) { return ((U8(v6[0]) & 0x0f) << 4) | (U8(v6[1]) >> 4); }

Packet Ipv4WithOptions(size_t payload) {
  Ipv4Opts o;
  o.tos = 0xb9;
  o.options = {B(0x94), B(4), B(0), B(0),                  // Router Alert (immutable)
               B(0x44), B(12), B(5), B(0),                 // Timestamp (mutable): len 12, ptr 5
               B(1), B(2), B(3), B(4), B(5), B(6), B(7), B(8)};
  return Ipv4(payload, o);
}

Packet Ipv6WithExtensions(size_t payload) {
  Ipv6Opts o;
  o.tc = 0xb9;
  o.flow = 0xabcde;
  o.ext = {HopByHopWithMutableOption(),
           // Destination Options after HBH, not followed by Routing: goes behind AH (§3.1.1).
           ExtHeader{ip::kProtoDstOpts, {B(0x01), B(4), B(0), B(0), B(0), B(0)}}};
  return Ipv6(payload, o);
}

// ---------------------------------------------------------------------------------------------
// Round trips

struct RoundTripParam {
  Mode mode;
  bool inner_v6;
  bool outer_v6;
  Suite suite;
  bool esn;
  Provider out;
  Provider in;
};

std::string ParamName(const ::testing::TestParamInfo<RoundTripParam>& info) {
  const RoundTripParam& p = info.param;
  auto prov = [](Provider v) { return v == Provider::kIpsecMb ? std::string("Mb") : std::string("Ossl"); };
  std::string s = p.mode == Mode::kTunnel ? "Tunnel" : "Transport";
  s += p.inner_v6 ? "6" : "4";
  if (p.mode == Mode::kTunnel) s += p.outer_v6 ? "in6" : "in4";
  s += p.suite == Suite::kNullHmacSha256 ? "HmacSha256" : p.suite == Suite::kAesGmac128 ? "Gmac128" : "Gmac256";
  s += p.esn ? "Esn" : "";
  s += prov(p.out) + "To" + prov(p.in);
  return s;
}

std::vector<RoundTripParam> AllRoundTrips() {
  std::vector<RoundTripParam> v;
  for (Mode m : {Mode::kTransport, Mode::kTunnel}) {
    for (bool inner6 : {false, true}) {
      for (bool outer6 : {false, true}) {
        if (m == Mode::kTransport && outer6 != inner6) continue;
        for (Suite s : {Suite::kNullHmacSha256, Suite::kAesGmac128, Suite::kAesGmac256}) {
          for (bool esn : {false, true}) {
            for (Provider po : {Provider::kIpsecMb, Provider::kOpenSsl}) {
              for (Provider pi : {Provider::kIpsecMb, Provider::kOpenSsl}) {
                v.push_back({m, inner6, outer6, s, esn, po, pi});
              }
            }
          }
        }
      }
    }
  }
  return v;
}

class AhRoundTripTest : public ::testing::TestWithParam<RoundTripParam> {};

TEST_P(AhRoundTripTest, ProtectsAndRecoversEveryPacket) {
  const RoundTripParam& p = GetParam();
  if ((p.out == Provider::kIpsecMb || p.in == Provider::kIpsecMb) && !crypto::IpsecMbAvailable()) {
    GTEST_SKIP() << "intel-ipsec-mb not available on this CPU";
  }
  sa::SaConfig c = Config(Direction::kOutbound, p.mode, p.suite, p.esn, p.outer_v6);
  // With ESN, start just below 2^32 so the burst crosses into the next 2^32 block.
  if (p.esn) c.initial_seq = 0xfffffffeull;
  Pair sas = MakePair(c, p.out, p.in);
  ASSERT_TRUE(sas.out && sas.in);
  EXPECT_EQ(sas.out->provider(), p.out);
  EXPECT_EQ(sas.in->provider(), p.in);

  std::vector<Packet> originals;
  if (p.inner_v6) {
    Ipv6Opts tc;
    tc.tc = 0x2a;
    tc.flow = 0x12345;
    originals = {Ipv6(0), Ipv6(1), Ipv6(100, tc), Ipv6(1400), Ipv6WithExtensions(64)};
  } else {
    Ipv4Opts tos;
    tos.tos = 0x2a;
    tos.df = false;
    originals = {Ipv4(0), Ipv4(1), Ipv4(100, tos), Ipv4(1400), Ipv4WithOptions(64)};
  }
  const size_t n = originals.size();
  std::vector<std::unique_ptr<Buf>> bufs;
  std::vector<PacketBuf*> ptrs;
  uint64_t total_bytes = 0;
  for (const Packet& o : originals) {
    bufs.push_back(std::make_unique<Buf>(o));
    ptrs.push_back(bufs.back()->pb());
    total_bytes += o.size();
  }
  std::vector<DropReason> st(n, DropReason::kCount);
  ASSERT_EQ(sas.out->ProcessOutbound(ptrs, st), n);
  EXPECT_EQ(sas.out->next_seq(), c.initial_seq + n);

  const bool outer6 = p.mode == Mode::kTunnel ? p.outer_v6 : p.inner_v6;
  const size_t ah_len = sas.out->ah_len(outer6);
  EXPECT_EQ(ah_len % (outer6 ? 8 : 4), 0u);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(st[i], DropReason::kOk);
    const Packet wire = bufs[i]->bytes();
    EXPECT_THAT(bufs[i]->tail(), ::testing::Each(B(0xee))) << "tailroom must be restored";
    const ip::IpInfo info = ip::ParseIp(wire, false);
    ASSERT_EQ(info.version, outer6 ? 6 : 4);
    EXPECT_EQ(wire.size(), originals[i].size() + ah_len + (p.mode == Mode::kTunnel ? (outer6 ? 40 : 20) : 0));
    if (info.version == 4) {
      EXPECT_TRUE(ip::Ipv4ChecksumOk(wire.data(), info.header_len));
    }
    auto spi = PeekAhSpi(wire);
    ASSERT_TRUE(spi.ok());
    EXPECT_EQ(*spi, kSpi);
    if (p.mode == Mode::kTunnel) {
      EXPECT_EQ(info.protocol, ip::kProtoAh);
      EXPECT_EQ(info.ttl, c.ttl);
      const size_t ah_off = outer6 ? 40 : 20;
      EXPECT_EQ(U8(wire[ah_off]), p.inner_v6 ? ip::kProtoIpv6 : ip::kProtoIpv4);
      EXPECT_EQ((size_t{U8(wire[ah_off + 1])} + 2) * 4, ah_len);
      EXPECT_EQ(LoadU32Be(&wire[ah_off + 8]), static_cast<uint32_t>(c.initial_seq + i));
      // The inner packet travels unchanged (AH does not encrypt).
      EXPECT_EQ(Packet(wire.begin() + static_cast<long>(ah_off + ah_len), wire.end()), originals[i]);
    }
  }

  // In transit, routers decrement the TTL (a mutable field); transport mode keeps that change.
  std::vector<Packet> expected = originals;
  for (size_t i = 0; i < n; ++i) {
    std::byte* w = bufs[i]->data();
    if (outer6) {
      w[7] = B(U8(w[7]) - 1);
    } else {
      w[8] = B(U8(w[8]) - 1);
      ip::SetIpv4Checksum(w, size_t{U8(w[0]) & 0x0fu} * 4);
    }
    if (p.mode == Mode::kTransport) {
      Packet& e = expected[i];
      if (outer6) {
        e[7] = B(U8(e[7]) - 1);
      } else {
        e[8] = B(U8(e[8]) - 1);
        FixIpv4Checksum(e);
      }
    }
  }
  std::vector<DropReason> st_in(n, DropReason::kCount);
  ASSERT_EQ(sas.in->ProcessInbound(ptrs, st_in), n);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(st_in[i], DropReason::kOk);
    EXPECT_EQ(bufs[i]->bytes(), expected[i]) << "packet " << i;
  }
  EXPECT_EQ(sas.in->replay().top(), c.initial_seq + n - 1);
  EXPECT_EQ(sas.out->counters().packets, n);
  EXPECT_EQ(sas.in->counters().packets, n);
  EXPECT_EQ(sas.out->counters().bytes, total_bytes);
  EXPECT_EQ(sas.in->counters().bytes, total_bytes);
  EXPECT_EQ(sas.in->counters().total_drops(), 0u);
}

INSTANTIATE_TEST_SUITE_P(AllCombinations, AhRoundTripTest, ::testing::ValuesIn(AllRoundTrips()), ParamName);

// ---------------------------------------------------------------------------------------------
// Known answers, computed here with OpenSSL directly (RFC 4302 §3.3.3, RFC 4868, RFC 4543 §5)

class AhKnownAnswerTest : public ::testing::Test {
 protected:
  static Packet HmacSha256(const Packet& key, const Packet& msg) {
    unsigned char md[32];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(msg.data()),
         msg.size(), md, &len);
    return Packet(reinterpret_cast<std::byte*>(md), reinterpret_cast<std::byte*>(md) + 16);
  }
  static Packet Gmac(const Packet& key, const Packet& nonce, const Packet& aad) {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    const EVP_CIPHER* cipher = key.size() == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
    int outl = 0;
    unsigned char tag[16];
    EVP_EncryptInit_ex(ctx, cipher, nullptr, reinterpret_cast<const unsigned char*>(key.data()),
                       reinterpret_cast<const unsigned char*>(nonce.data()));
    EVP_EncryptUpdate(ctx, nullptr, &outl, reinterpret_cast<const unsigned char*>(aad.data()),
                      static_cast<int>(aad.size()));
    EVP_EncryptFinal_ex(ctx, tag, &outl);
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag);
    EVP_CIPHER_CTX_free(ctx);
    return Packet(reinterpret_cast<std::byte*>(tag), reinterpret_cast<std::byte*>(tag) + 16);
  }
  static Packet Cat(std::initializer_list<Packet> parts) {
    Packet r;
    for (const Packet& p : parts) r.insert(r.end(), p.begin(), p.end());
    return r;
  }
};

TEST_F(AhKnownAnswerTest, Ipv4TransportHmacSha256MatchesIndependentComputation) {
  Ipv4Opts o;
  o.tos = 0x10;
  const Packet payload = Pattern(13);
  const Packet original = Ipv4(13, o);

  const Packet ip_hdr = {B(0x45),                    // version 4, IHL 5
                         B(0x10),                    // TOS
                         B(0x00), B(0x3d),           // total length 20 + 28 + 13 = 61
                         B(0x12), B(0x34),           // identification
                         B(0x40), B(0x00),           // DF, offset 0
                         B(0x40),                    // TTL 64
                         B(0x33),                    // protocol 51 (AH)
                         B(0x00), B(0x00),           // checksum, filled in below
                         B(10), B(0), B(0), B(1),    // source 10.0.0.1
                         B(10), B(0), B(1), B(2)};   // destination 10.0.1.2
  const Packet ah_hdr = {B(17),                      // next header UDP
                         B(5),                       // payload len 28/4 - 2
                         B(0), B(0),                 // reserved
                         B(0), B(0), B(0x10), B(0),  // SPI 0x1000
                         B(0), B(0), B(0), B(1)};    // sequence number 1
  const Packet zero_icv(16);

  // §3.3.3.1.1.1: TOS, flags/offset, TTL, checksum zeroed; §3.3.3.2.1: ICV zeroed.
  Packet icv_input = Cat({ip_hdr, ah_hdr, zero_icv, payload});
  icv_input[1] = icv_input[6] = icv_input[7] = icv_input[8] = B(0);
  const Packet icv = HmacSha256(KeyBytes(32, 1), icv_input);
  Packet expected = Cat({ip_hdr, ah_hdr, icv, payload});
  ip::SetIpv4Checksum(expected.data(), 20);

  auto sa = MakeSa(Config(Direction::kOutbound, Mode::kTransport, Suite::kNullHmacSha256, false, false));
  EXPECT_EQ(Protected(*sa, original), expected);

  // And the receiver accepts exactly these bytes.
  auto in = MakeSa(Config(Direction::kInbound, Mode::kTransport, Suite::kNullHmacSha256, false, false));
  Buf b(expected);
  EXPECT_EQ(In(*in, b), DropReason::kOk);
  EXPECT_EQ(b.bytes(), original);
}

TEST_F(AhKnownAnswerTest, Ipv4TransportGmacMatchesIndependentComputation) {
  const Packet payload = Pattern(13);
  const Packet original = Ipv4(13);
  const Packet ip_hdr = {B(0x45), B(0x00),           // version/IHL, TOS
                         B(0x00), B(0x45),           // total length 20 + 36 + 13 = 69
                         B(0x12), B(0x34),           // identification
                         B(0x40), B(0x00),           // DF
                         B(0x40), B(0x33),           // TTL 64, protocol AH
                         B(0x00), B(0x00),           // checksum
                         B(10), B(0), B(0), B(1),    // source
                         B(10), B(0), B(1), B(2)};   // destination
  const Packet ah_hdr = {B(17),                      // next header UDP
                         B(7),                       // payload len 36/4 - 2
                         B(0), B(0),                 // reserved
                         B(0), B(0), B(0x10), B(0),  // SPI
                         B(0), B(0), B(0), B(1)};    // sequence number 1
  const Packet iv = {B(0), B(0), B(0), B(0), B(0), B(0), B(0), B(1)};  // IV = 64-bit sequence number
  const Packet key_and_salt = KeyBytes(20, 0x40);
  const Packet key(key_and_salt.begin(), key_and_salt.begin() + 16);
  const Packet salt(key_and_salt.begin() + 16, key_and_salt.end());

  Packet aad = Cat({ip_hdr, ah_hdr, iv, Packet(16), payload});
  aad[1] = aad[6] = aad[7] = aad[8] = B(0);
  const Packet icv = Gmac(key, Cat({salt, iv}), aad);  // RFC 4543 §3.2 nonce = salt || IV
  Packet expected = Cat({ip_hdr, ah_hdr, iv, icv, payload});
  ip::SetIpv4Checksum(expected.data(), 20);

  auto sa = MakeSa(Config(Direction::kOutbound, Mode::kTransport, Suite::kAesGmac128, false, false));
  EXPECT_EQ(Protected(*sa, original), expected);
}

TEST_F(AhKnownAnswerTest, Ipv6TransportHmacWithEsnPadsAndAppendsHighBits) {
  Ipv6Opts o;
  o.tc = 0xb8;
  o.flow = 0x12345;
  const Packet original = Ipv6(13, o);
  const Packet payload = Pattern(13);
  Packet ip_hdr = {B(0x6b), B(0x81), B(0x23), B(0x45),  // version 6, TC 0xb8, flow label 0x12345
                   B(0x00), B(0x2d),                    // payload length 32 + 13 = 45
                   B(0x33),                             // next header AH
                   B(0x40)};                            // hop limit 64
  for (uint8_t x : kInnerSrc6) ip_hdr.push_back(B(x));  // source 2001:db8:1::1
  for (uint8_t x : kInnerDst6) ip_hdr.push_back(B(x));  // destination 2001:db8:2::2
  const Packet ah_hdr = {B(17),                        // next header UDP
                         B(6),                         // payload len 32/4 - 2 (§2.2)
                         B(0), B(0),                   // reserved
                         B(0), B(0), B(0x10), B(0),    // SPI
                         B(0), B(0), B(0), B(7)};      // sequence number, low 32 bits
  const Packet padding(4);                             // §2.6: 12 + 16 = 28, padded to 32 for IPv6
  const Packet seq_hi = {B(0), B(0), B(0), B(5)};      // §2.5.1: appended, not sent

  Packet icv_input = Cat({ip_hdr, ah_hdr, Packet(16), padding, payload, seq_hi});
  icv_input[0] = B(0x60);  // traffic class, flow label and hop limit zeroed (§3.3.3.1.2.1)
  icv_input[1] = icv_input[2] = icv_input[3] = icv_input[7] = B(0);
  const Packet icv = HmacSha256(KeyBytes(32, 1), icv_input);
  const Packet expected = Cat({ip_hdr, ah_hdr, icv, padding, payload});

  sa::SaConfig c = Config(Direction::kOutbound, Mode::kTransport, Suite::kNullHmacSha256, true, true);
  c.initial_seq = 0x0000000500000007ull;
  auto sa = MakeSa(c);
  EXPECT_EQ(Protected(*sa, original), expected);
}

// ---------------------------------------------------------------------------------------------
// Mutable and immutable fields (RFC 4302 §3.3.3.1)

struct Tamper {
  const char* name;
  std::function<void(Packet&)> apply;  // null: SPI / sequence number cases below
  DropReason want;
};

class AhTamperTest : public ::testing::TestWithParam<std::tuple<Mode, bool, Suite>> {};

TEST_P(AhTamperTest, MutableFieldsMayChangeImmutableOnesMayNot) {
  const auto [mode, v6, suite] = GetParam();
  const sa::SaConfig c = Config(Direction::kOutbound, mode, suite, false, v6);
  const Packet original = v6 ? Ipv6WithExtensions(40) : Ipv4WithOptions(40);
  Pair sas = MakePair(c);
  const Packet wire = Protected(*sas.out, original);

  std::vector<Tamper> cases;
  if (v6) {
    cases = {
        {"hop limit", [](Packet& p) { p[7] = B(1); }, DropReason::kOk},
        {"traffic class", [](Packet& p) { p[0] = B(0x6f); p[1] = B(U8(p[1]) ^ 0xf0); }, DropReason::kOk},
        {"flow label", [](Packet& p) { p[3] = B(U8(p[3]) ^ 0x55); }, DropReason::kOk},
        {"source address", [](Packet& p) { p[23] = B(U8(p[23]) ^ 1); }, DropReason::kAuthFailed},
        {"destination address", [](Packet& p) { p[39] = B(U8(p[39]) ^ 1); }, DropReason::kAuthFailed},
        {"last payload byte", [](Packet& p) { p.back() = B(U8(p.back()) ^ 0x80); }, DropReason::kAuthFailed},
        {"SPI", nullptr, DropReason::kBadSpi},
        {"sequence number", nullptr, DropReason::kAuthFailed},
    };
    if (mode == Mode::kTunnel) {
      // The inner header is payload: its hop limit is covered by the ICV.
      const size_t inner_off = 40 + sas.out->ah_len(true);
      cases.push_back({"inner hop limit", [inner_off](Packet& p) { p[inner_off + 7] = B(1); },
                       DropReason::kAuthFailed});
    } else {
      cases.push_back({"mutable HBH option data",
                       [](Packet& p) { p[40 + 2 + 4 + 2] = B(0x11); }, DropReason::kOk});
      cases.push_back({"immutable HBH option (router alert value)",
                       [](Packet& p) { p[40 + 2 + 2] = B(0x01); }, DropReason::kAuthFailed});
    }
  } else {
    cases = {
        {"TTL", [](Packet& p) { p[8] = B(3); }, DropReason::kOk},
        {"TOS", [](Packet& p) { p[1] = B(0xfc); }, DropReason::kOk},
        {"DF flag", [](Packet& p) { p[6] = B(U8(p[6]) ^ 0x40); }, DropReason::kOk},
        {"identification", [](Packet& p) { p[5] = B(U8(p[5]) ^ 1); }, DropReason::kAuthFailed},
        {"source address", [](Packet& p) { p[15] = B(U8(p[15]) ^ 1); }, DropReason::kAuthFailed},
        {"last payload byte", [](Packet& p) { p.back() = B(U8(p.back()) ^ 0x80); }, DropReason::kAuthFailed},
        {"SPI", nullptr, DropReason::kBadSpi},
        {"sequence number", nullptr, DropReason::kAuthFailed},
    };
    if (mode == Mode::kTransport) {
      cases.push_back({"timestamp option data (mutable)", [](Packet& p) { p[20 + 4 + 9] = B(0x99); },
                       DropReason::kOk});
      cases.push_back({"router alert option (immutable)", [](Packet& p) { p[20 + 3] = B(1); },
                       DropReason::kAuthFailed});
    }
  }

  const size_t ah_off = v6 ? (mode == Mode::kTransport ? 40 + 16 : 40) : (mode == Mode::kTransport ? 36 : 20);
  for (const Tamper& t : cases) {
    SCOPED_TRACE(t.name);
    // A fresh receiver per case so replay state does not interfere.
    auto in = MakeSa(WithDir(c, Direction::kInbound));
    Packet w = wire;
    if (t.apply) {
      t.apply(w);
    } else if (std::string(t.name) == "SPI") {
      w[ah_off + 7] = B(U8(w[ah_off + 7]) ^ 1);
    } else {
      w[ah_off + 11] = B(U8(w[ah_off + 11]) + 1);
    }
    if (!v6) FixIpv4Checksum(w);  // a router would
    Buf b(w);
    EXPECT_EQ(In(*in, b), t.want);
    if (t.want != DropReason::kOk) {
      EXPECT_EQ(b.bytes(), w) << "a dropped packet is left as it was";
      EXPECT_EQ(in->counters().drop(t.want), 1u);
      // The SA still accepts the untouched packet.
      Buf good(wire);
      EXPECT_EQ(In(*in, good), DropReason::kOk);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, AhTamperTest,
                         ::testing::Combine(::testing::Values(Mode::kTransport, Mode::kTunnel),
                                            ::testing::Bool(),
                                            ::testing::Values(Suite::kNullHmacSha256, Suite::kAesGmac256)));

TEST(AhMutableFieldsTest, RoutingType2IsVerifiedInItsFinalForm) {
  // RFC 6275 §6.4: a correspondent sends to the care-of address with the home address in a type 2
  // routing header (Segments Left 1). The ICV covers the packet as the home address sees it.
  Ipv6Opts o;
  o.dst = kInnerDst6;  // care-of address
  Packet rh2 = {B(2), B(1), B(0), B(0), B(0), B(0)};  // type 2, segments left 1, reserved
  const std::array<uint8_t, 16> home = {0x20, 0x01, 0x0d, 0xb8, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};
  for (uint8_t x : home) rh2.push_back(B(x));
  o.ext = {ExtHeader{ip::kProtoRouting, rh2}};
  const Packet original = Ipv6(20, o);
  const sa::SaConfig c = Config(Direction::kOutbound, Mode::kTransport, Suite::kNullHmacSha256, false, true);
  Pair sas = MakePair(c);
  const Packet wire = Protected(*sas.out, original);
  ASSERT_FALSE(wire.empty());
  EXPECT_EQ(U8(wire[40]), ip::kProtoAh) << "AH goes after the routing header";

  // As sent: verifies (the receiver predicts the final form).
  {
    auto in = MakeSa(WithDir(c, Direction::kInbound));
    Buf b(wire);
    EXPECT_EQ(In(*in, b), DropReason::kOk);
  }
  // After the mobile node processed the routing header: addresses swapped, Segments Left 0.
  {
    Packet w = wire;
    std::array<std::byte, 16> t;
    std::memcpy(t.data(), &w[24], 16);
    std::memcpy(&w[24], &w[48], 16);
    std::memcpy(&w[48], t.data(), 16);
    w[43] = B(0);
    auto in = MakeSa(WithDir(c, Direction::kInbound));
    Buf b(w);
    EXPECT_EQ(In(*in, b), DropReason::kOk);
  }
}

TEST(AhMutableFieldsTest, RefusesUnpredictableRoutingAndSourceRoutes) {
  auto out6 = MakeSa(Config(Direction::kOutbound, Mode::kTransport, Suite::kNullHmacSha256, false, true));
  Ipv6Opts o;
  // Type 0 (deprecated, RFC 5095) with one address and segments left 1.
  Packet rh0 = {B(0), B(1), B(0), B(0), B(0), B(0)};
  rh0.resize(22, B(0x20));
  o.ext = {ExtHeader{ip::kProtoRouting, rh0}};
  const Packet p6 = Ipv6(20, o);
  Buf b6(p6);
  EXPECT_EQ(Out(*out6, b6), DropReason::kMalformed);
  EXPECT_EQ(b6.bytes(), p6);

  auto out4 = MakeSa(Config(Direction::kOutbound, Mode::kTransport, Suite::kNullHmacSha256, false, false));
  Ipv4Opts o4;
  o4.options = {B(131), B(7), B(4), B(10), B(9), B(9), B(9), B(0)};  // LSRR, one hop, then EOL
  const Packet p4 = Ipv4(20, o4);
  Buf b4(p4);
  EXPECT_EQ(Out(*out4, b4), DropReason::kMalformed);
  EXPECT_EQ(b4.bytes(), p4);
  // The SA is still usable.
  Buf good(Ipv4(20));
  EXPECT_EQ(Out(*out4, good), DropReason::kOk);
}

// ---------------------------------------------------------------------------------------------
// Anti-replay and ESN (RFC 4302 §3.4.3, RFC 4303 Appendix A2)

TEST(AhReplayTest, RejectsReplayedSequenceNumber) {
  Pair sas = MakePair(Config(Direction::kOutbound, Mode::kTunnel, Suite::kNullHmacSha256, false, false));
  const Packet wire = Protected(*sas.out, Ipv4(50));
  Buf first(wire), again(wire);
  EXPECT_EQ(In(*sas.in, first), DropReason::kOk);
  EXPECT_EQ(In(*sas.in, again), DropReason::kReplay);
  EXPECT_EQ(again.bytes(), wire);
  EXPECT_EQ(sas.in->counters().drop(DropReason::kReplay), 1u);
}

TEST(AhReplayTest, RejectsDuplicateWithinOneBurst) {
  Pair sas = MakePair(Config(Direction::kOutbound, Mode::kTransport, Suite::kAesGmac128, false, false));
  const Packet wire = Protected(*sas.out, Ipv4(50));
  Buf a(wire), b(wire);
  std::array<PacketBuf*, 2> ptrs = {a.pb(), b.pb()};
  std::array<DropReason, 2> st{};
  EXPECT_EQ(sas.in->ProcessInbound(ptrs, st), 1u);
  EXPECT_EQ(st[0], DropReason::kOk);
  EXPECT_EQ(st[1], DropReason::kReplay);
}

TEST(AhReplayTest, RejectsPacketLeftOfWindowAndAcceptsOutOfOrderInside) {
  sa::SaConfig c = Config(Direction::kOutbound, Mode::kTransport, Suite::kNullHmacSha256, false, false);
  c.replay_window = 32;
  Pair sas = MakePair(c);
  std::vector<Packet> wires;
  for (int i = 0; i < 40; ++i) wires.push_back(Protected(*sas.out, Ipv4(10)));
  Buf last(wires[39]);
  EXPECT_EQ(In(*sas.in, last), DropReason::kOk);       // seq 40
  Buf inside(wires[20]);
  EXPECT_EQ(In(*sas.in, inside), DropReason::kOk);     // seq 21: inside the window, unseen
  Buf too_old(wires[2]);
  EXPECT_EQ(In(*sas.in, too_old), DropReason::kReplay);  // seq 3: left of the window
  EXPECT_EQ(sas.in->replay().top(), 40u);
}

TEST(AhReplayTest, FailedIcvDoesNotAdvanceWindow) {
  Pair sas = MakePair(Config(Direction::kOutbound, Mode::kTransport, Suite::kNullHmacSha256, false, false));
  const Packet wire = Protected(*sas.out, Ipv4(30));
  Packet bad = wire;
  bad.back() = B(U8(bad.back()) ^ 1);
  Buf b(bad);
  EXPECT_EQ(In(*sas.in, b), DropReason::kAuthFailed);
  EXPECT_EQ(sas.in->replay().top(), 0u);
  Buf good(wire);
  EXPECT_EQ(In(*sas.in, good), DropReason::kOk);  // the forged copy did not burn the number
}

TEST(AhEsnTest, InboundFollowsWrapOfLow32Bits) {
  sa::SaConfig c = Config(Direction::kOutbound, Mode::kTunnel, Suite::kAesGmac128, true, true);
  c.initial_seq = 0xfffffff0ull;
  Pair sas = MakePair(c, Provider::kOpenSsl, Provider::kOpenSsl);
  std::vector<Packet> wires;
  for (int i = 0; i < 32; ++i) wires.push_back(Protected(*sas.out, Ipv6(16)));
  EXPECT_EQ(sas.out->next_seq(), 0x100000010ull);
  for (int i = 0; i < 32; ++i) {
    Buf b(wires[static_cast<size_t>(i)]);
    ASSERT_EQ(In(*sas.in, b), DropReason::kOk) << i;
  }
  EXPECT_EQ(sas.in->replay().top(), 0x10000000full);
  // The packet with sequence number 2^32 (low bits 0) is a replay now.
  Buf again(wires[16]);
  EXPECT_EQ(LoadU32Be(&wires[16][40 + 8]), 0u);
  EXPECT_EQ(In(*sas.in, again), DropReason::kReplay);
}

TEST(AhEsnTest, HighBitsAreCoveredByTheIcv) {
  // The sender is in the second 2^32 block; a receiver that infers high bits 0 computes a
  // different ICV, because the high bits are part of the ICV input (§2.5.1).
  sa::SaConfig c = Config(Direction::kOutbound, Mode::kTransport, Suite::kNullHmacSha256, true, false);
  c.initial_seq = 0x100000005ull;
  Pair sas = MakePair(c);
  Buf b(Protected(*sas.out, Ipv4(10)));
  EXPECT_EQ(In(*sas.in, b), DropReason::kAuthFailed);
}

TEST(AhEsnTest, WorksWithoutTailroom) {
  // No room behind the packet for the ESN high bits: the ICV input is passed as two segments.
  for (Suite suite : {Suite::kNullHmacSha256, Suite::kAesGmac128}) {
    for (auto [po, pi] : {std::pair{Provider::kIpsecMb, Provider::kOpenSsl},
                          std::pair{Provider::kOpenSsl, Provider::kIpsecMb}}) {
      if (!crypto::IpsecMbAvailable()) GTEST_SKIP() << "intel-ipsec-mb not available";
      sa::SaConfig c = Config(Direction::kOutbound, Mode::kTransport, suite, true, false);
      c.initial_seq = 0xfffffffeull;
      Pair sas = MakePair(c, po, pi);
      for (int i = 0; i < 3; ++i) {  // crosses into high bits 1
        const Packet original = Ipv4(33);
        Buf b(original, kDefaultHeadroom, /*tailroom=*/0);
        ASSERT_EQ(Out(*sas.out, b), DropReason::kOk);
        Buf r(b.bytes(), kDefaultHeadroom, /*tailroom=*/0);
        ASSERT_EQ(In(*sas.in, r), DropReason::kOk) << i;
        EXPECT_EQ(r.bytes(), original);
      }
      EXPECT_EQ(sas.in->replay().top(), 0x100000000ull);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Outbound sequence numbers (RFC 4302 §3.3.2)

TEST(AhSeqTest, StopsAt32BitLimitAndRaisesEventOnce) {
  RecordingSink sink;
  sa::SaConfig c = Config(Direction::kOutbound, Mode::kTransport, Suite::kNullHmacSha256, false, false);
  c.initial_seq = 0xfffffffeull;
  auto out = MakeSa(c, Provider::kOpenSsl, &sink);
  std::vector<std::unique_ptr<Buf>> bufs;
  std::vector<PacketBuf*> ptrs;
  for (int i = 0; i < 4; ++i) {
    bufs.push_back(std::make_unique<Buf>(Ipv4(10)));
    ptrs.push_back(bufs.back()->pb());
  }
  std::vector<DropReason> st(4);
  EXPECT_EQ(out->ProcessOutbound(ptrs, st), 2u);
  EXPECT_THAT(st, ::testing::ElementsAre(DropReason::kOk, DropReason::kOk, DropReason::kSeqOverflow,
                                         DropReason::kSeqOverflow));
  EXPECT_EQ(LoadU32Be(bufs[1]->data() + 20 + 8), 0xffffffffu);
  EXPECT_EQ(bufs[2]->bytes(), Ipv4(10)) << "refused packets are unchanged";
  EXPECT_TRUE(out->seq_exhausted());
  Buf more(Ipv4(10));
  EXPECT_EQ(Out(*out, more), DropReason::kSeqOverflow);
  EXPECT_EQ(sink.Count(sa::SaEvent::kSeqOverflow), 1u);
  EXPECT_EQ(out->counters().drop(DropReason::kSeqOverflow), 3u);
}

TEST(AhSeqTest, EsnStopsAt64BitLimit) {
  RecordingSink sink;
  sa::SaConfig c = Config(Direction::kOutbound, Mode::kTunnel, Suite::kAesGmac256, true, false);
  c.initial_seq = std::numeric_limits<uint64_t>::max() - 1;
  auto out = MakeSa(c, Provider::kOpenSsl, &sink);
  Buf a(Ipv4(10)), b(Ipv4(10)), d(Ipv4(10));
  EXPECT_EQ(Out(*out, a), DropReason::kOk);
  EXPECT_EQ(Out(*out, b), DropReason::kOk);  // 2^64 - 1, the last one
  EXPECT_EQ(Out(*out, d), DropReason::kSeqOverflow);
  EXPECT_EQ(sink.Count(sa::SaEvent::kSeqOverflow), 1u);
}

TEST(AhSeqTest, MalformedPacketsDoNotConsumeSequenceNumbers) {
  auto out = MakeSa(Config(Direction::kOutbound, Mode::kTransport, Suite::kNullHmacSha256, false, false));
  Buf bad(Packet(10, B(0x45))), good(Ipv4(10));
  std::array<PacketBuf*, 2> ptrs = {bad.pb(), good.pb()};
  std::array<DropReason, 2> st{};
  EXPECT_EQ(out->ProcessOutbound(ptrs, st), 1u);
  EXPECT_EQ(st[0], DropReason::kMalformed);
  EXPECT_EQ(LoadU32Be(good.data() + 20 + 8), 1u);
  EXPECT_EQ(out->next_seq(), 2u);
}

// ---------------------------------------------------------------------------------------------
// Lifetimes

TEST(AhLifetimeTest, OutboundHardPacketLimitStopsTheSa) {
  RecordingSink sink;
  sa::SaConfig c = Config(Direction::kOutbound, Mode::kTransport, Suite::kNullHmacSha256, false, false);
  c.lifetime.soft_packets = 2;
  c.lifetime.hard_packets = 3;
  auto out = MakeSa(c, Provider::kOpenSsl, &sink);
  std::vector<DropReason> got;
  for (int i = 0; i < 5; ++i) {
    Buf b(Ipv4(10));
    got.push_back(Out(*out, b));
  }
  EXPECT_THAT(got, ::testing::ElementsAre(DropReason::kOk, DropReason::kOk, DropReason::kOk,
                                          DropReason::kHardLifetime, DropReason::kHardLifetime));
  EXPECT_EQ(sink.Count(sa::SaEvent::kSoftLifetime), 1u);
  EXPECT_EQ(sink.Count(sa::SaEvent::kHardLifetime), 1u);
  EXPECT_EQ(out->counters().drop(DropReason::kHardLifetime), 2u);
}

TEST(AhLifetimeTest, InboundCountsInnerBytes) {
  sa::SaConfig c = Config(Direction::kOutbound, Mode::kTunnel, Suite::kNullHmacSha256, false, false);
  Pair sas = MakePair(c);
  RecordingSink sink;
  sa::SaConfig ci = WithDir(c, Direction::kInbound);
  ci.lifetime.soft_bytes = 100;
  ci.lifetime.hard_bytes = 150;  // inner packets are 80 bytes: the second crosses the hard limit
  auto in = MakeSa(ci, Provider::kOpenSsl, &sink);
  std::vector<DropReason> got;
  for (int i = 0; i < 3; ++i) {
    Buf b(Protected(*sas.out, Ipv4(60)));
    got.push_back(In(*in, b));
  }
  EXPECT_THAT(got, ::testing::ElementsAre(DropReason::kOk, DropReason::kOk, DropReason::kHardLifetime));
  EXPECT_EQ(in->counters().bytes, 160u);
  EXPECT_EQ(sink.Count(sa::SaEvent::kSoftLifetime), 1u);
  EXPECT_EQ(sink.Count(sa::SaEvent::kHardLifetime), 1u);
}

// ---------------------------------------------------------------------------------------------
// Malformed input: each case has its reason, leaves the packet alone and the SA usable.

struct MalformedCase {
  const char* name;
  Packet (*make)(const Packet& good);
  DropReason want;
};

TEST(AhMalformedTest, InboundTable) {
  const sa::SaConfig c = Config(Direction::kOutbound, Mode::kTransport, Suite::kNullHmacSha256, false, false);
  Pair sas = MakePair(c);
  const MalformedCase cases[] = {
      {"empty", [](const Packet&) { return Packet(); }, DropReason::kMalformed},
      {"short packet", [](const Packet& g) { return Packet(g.begin(), g.begin() + 10); }, DropReason::kMalformed},
      {"truncated AH",
       [](const Packet& g) {
         Packet p(g.begin(), g.begin() + 20 + 8);  // IP header + 8 bytes of AH
         StoreU16Be(&p[2], static_cast<uint16_t>(p.size()));
         FixIpv4Checksum(p);
         return p;
       },
       DropReason::kMalformed},
      {"AH longer than packet",
       [](const Packet& g) {
         Packet p(g.begin(), g.begin() + 20 + 20);  // fixed header + part of the ICV
         StoreU16Be(&p[2], static_cast<uint16_t>(p.size()));
         FixIpv4Checksum(p);
         return p;
       },
       DropReason::kMalformed},
      {"bad payload length", [](const Packet& g) { Packet p = g; p[21] = B(6); return p; }, DropReason::kMalformed},
      {"zero payload length", [](const Packet& g) { Packet p = g; p[21] = B(0); return p; }, DropReason::kMalformed},
      {"wrong SPI", [](const Packet& g) { Packet p = g; p[27] = B(0x99); return p; }, DropReason::kBadSpi},
      {"bad IP version", [](const Packet& g) { Packet p = g; p[0] = B(0x55); return p; }, DropReason::kMalformed},
      {"bad IHL", [](const Packet& g) { Packet p = g; p[0] = B(0x44); return p; }, DropReason::kMalformed},
      {"bad IPv4 checksum", [](const Packet& g) { Packet p = g; p[11] = B(U8(p[11]) ^ 1); return p; },
       DropReason::kMalformed},
      {"total length beyond buffer",
       [](const Packet& g) { Packet p = g; StoreU16Be(&p[2], 2000); FixIpv4Checksum(p); return p; },
       DropReason::kMalformed},
      {"not AH", [](const Packet& g) { Packet p = g; p[9] = B(50); FixIpv4Checksum(p); return p; },
       DropReason::kMalformed},
      {"fragment", [](const Packet& g) { Packet p = g; p[6] = B(0x20); FixIpv4Checksum(p); return p; },
       DropReason::kMalformed},
      {"corrupt ICV", [](const Packet& g) { Packet p = g; p[33] = B(U8(p[33]) ^ 4); return p; },
       DropReason::kAuthFailed},
      {"sequence number 0", [](const Packet& g) { Packet p = g; StoreU32Be(&p[28], 0); return p; },
       DropReason::kReplay},
  };
  uint64_t good_count = 0;
  for (const MalformedCase& mc : cases) {
    SCOPED_TRACE(mc.name);
    const Packet good = Protected(*sas.out, Ipv4(40));
    const Packet bad = mc.make(good);
    Buf b(bad);
    const uint64_t before = sas.in->counters().drop(mc.want);
    EXPECT_EQ(In(*sas.in, b), mc.want);
    EXPECT_EQ(b.bytes(), bad);
    EXPECT_EQ(sas.in->counters().drop(mc.want), before + 1);
    Buf g(good);
    EXPECT_EQ(In(*sas.in, g), DropReason::kOk);
    ++good_count;
  }
  EXPECT_EQ(sas.in->counters().packets, good_count);
}

TEST(AhMalformedTest, OutboundTable) {
  const sa::SaConfig c = Config(Direction::kOutbound, Mode::kTransport, Suite::kNullHmacSha256, false, false);
  auto out = MakeSa(c);
  struct Case {
    const char* name;
    Packet pkt;
    uint32_t headroom;
    DropReason want;
  };
  Packet frag = Ipv4(40);
  frag[6] = B(0x20);  // MF
  FixIpv4Checksum(frag);
  Packet trailing = Ipv4(40);
  trailing.push_back(B(0));
  Ipv6Opts fo;
  fo.ext = {ExtHeader{ip::kProtoFragment, {B(0), B(1), B(0), B(0), B(0), B(1)}}};  // MF set
  Packet huge = Ipv4(65535 - 20);
  const Case cases[] = {
      {"empty", Packet(), kDefaultHeadroom, DropReason::kMalformed},
      {"not IP", Packet(40, B(0x11)), kDefaultHeadroom, DropReason::kMalformed},
      {"IPv4 fragment (transport)", frag, kDefaultHeadroom, DropReason::kMalformed},
      {"IPv6 fragment (transport)", Ipv6(40, fo), kDefaultHeadroom, DropReason::kMalformed},
      {"length disagrees with buffer", trailing, kDefaultHeadroom, DropReason::kMalformed},
      {"no headroom", Ipv4(40), 27, DropReason::kNoRoom},
      {"result exceeds 65535", huge, kDefaultHeadroom, DropReason::kNoRoom},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.name);
    Buf b(k.pkt, k.headroom);
    EXPECT_EQ(Out(*out, b), k.want);
    EXPECT_EQ(b.bytes(), k.pkt);
    Buf g(Ipv4(40), 28);  // exactly enough headroom
    EXPECT_EQ(Out(*out, g), DropReason::kOk);
  }
}

TEST(AhMalformedTest, WrongDirectionIsRefused) {
  Pair sas = MakePair(Config(Direction::kOutbound, Mode::kTransport, Suite::kNullHmacSha256, false, false));
  Buf a(Ipv4(10));
  EXPECT_EQ(In(*sas.out, a), DropReason::kWrongDirection);
  EXPECT_EQ(Out(*sas.in, a), DropReason::kWrongDirection);
  EXPECT_EQ(sas.out->counters().drop(DropReason::kWrongDirection), 1u);
}

TEST(AhMalformedTest, TunnelRefusesBadInnerPacket) {
  const sa::SaConfig c = Config(Direction::kOutbound, Mode::kTunnel, Suite::kNullHmacSha256, false, false);
  Pair sas = MakePair(c);
  // Authentic, but the inner IPv4 header checksum is wrong (the sender does not check it).
  const Packet inner = Ipv4(30);
  Packet bad_inner = Ipv4(30);
  bad_inner[11] = B(U8(bad_inner[11]) ^ 0xff);
  Buf bb(Protected(*sas.out, bad_inner));
  EXPECT_EQ(In(*sas.in, bb), DropReason::kBadInner);
  Buf good(Protected(*sas.out, inner));
  EXPECT_EQ(In(*sas.in, good), DropReason::kOk);
}

// ---------------------------------------------------------------------------------------------
// Tunnel header policies (RFC 4301 §5.1.2, RFC 6040)

TEST(AhTunnelTest, OuterHeaderFollowsPolicy) {
  sa::SaConfig c = Config(Direction::kOutbound, Mode::kTunnel, Suite::kNullHmacSha256, false, false);
  c.ttl = 33;
  c.dscp_mode = sa::DscpMode::kSet;
  c.dscp = 46;
  c.df_mode = sa::DfMode::kClear;
  auto out = MakeSa(c);
  Ipv4Opts o;
  o.tos = (10 << 2) | ip::kEcnEct0;
  const Packet a = Protected(*out, Ipv4(10, o));
  const Packet b = Protected(*out, Ipv4(10, o));
  EXPECT_EQ(U8(a[1]), (46 << 2) | ip::kEcnEct0);  // DSCP set, ECN copied (RFC 6040 normal)
  EXPECT_EQ(U8(a[6]) & 0x40, 0);                  // DF cleared
  EXPECT_EQ(U8(a[8]), 33);
  EXPECT_EQ(LoadU16Be(&b[4]), static_cast<uint16_t>(LoadU16Be(&a[4]) + 1)) << "per-SA IPv4 ID counter";
  EXPECT_EQ(Packet(a.begin() + 12, a.begin() + 20), (Packet{B(192), B(0), B(2), B(1), B(192), B(0), B(2), B(2)}));

  sa::SaConfig c2 = Config(Direction::kOutbound, Mode::kTunnel, Suite::kNullHmacSha256, false, true);
  c2.ecn_mode = sa::EcnMode::kCompat;
  auto out6 = MakeSa(c2);
  const Packet v6 = Protected(*out6, Ipv4(10, o));
  EXPECT_EQ(TrafficClassOf(v6), 10 << 2) << "DSCP copied, ECN cleared in compatibility mode";
}

TEST(AhTunnelTest, DfCopyFromInner) {
  sa::SaConfig c = Config(Direction::kOutbound, Mode::kTunnel, Suite::kNullHmacSha256, false, false);
  auto out = MakeSa(c);
  Ipv4Opts no_df;
  no_df.df = false;
  EXPECT_EQ(U8(Protected(*out, Ipv4(10, no_df))[6]) & 0x40, 0);
  EXPECT_EQ(U8(Protected(*out, Ipv4(10))[6]) & 0x40, 0x40);
  EXPECT_EQ(U8(Protected(*out, Ipv6(10))[6]) & 0x40, 0x40) << "IPv6 inside: DF set";
}

TEST(AhTunnelTest, VerifiesOuterAddressesWhenAsked) {
  sa::SaConfig c = Config(Direction::kOutbound, Mode::kTunnel, Suite::kNullHmacSha256, false, false);
  auto out = MakeSa(c);
  sa::SaConfig ci = WithDir(c, Direction::kInbound);
  ci.verify_tunnel_addresses = true;
  ci.tunnel_src = *sa::IpAddress::Parse("192.0.2.99");
  auto in = MakeSa(ci);
  Buf b(Protected(*out, Ipv4(10)));
  const Packet before = b.bytes();
  EXPECT_EQ(In(*in, b), DropReason::kTunnelMismatch);
  EXPECT_EQ(b.bytes(), before);

  ci.tunnel_src = c.tunnel_src;
  auto in_ok = MakeSa(ci);
  Buf g(Protected(*out, Ipv4(10)));
  EXPECT_EQ(In(*in_ok, g), DropReason::kOk);
}

TEST(AhTunnelTest, DecrementsInnerTtlAndDropsAtOne) {
  sa::SaConfig c = Config(Direction::kOutbound, Mode::kTunnel, Suite::kNullHmacSha256, false, true);
  auto out = MakeSa(c);
  sa::SaConfig ci = WithDir(c, Direction::kInbound);
  ci.decrement_inner_ttl = true;
  auto in = MakeSa(ci);
  Ipv4Opts o;
  o.ttl = 1;
  Buf expiring(Protected(*out, Ipv4(10, o)));
  EXPECT_EQ(In(*in, expiring), DropReason::kTtlExceeded);
  o.ttl = 9;
  Buf b(Protected(*out, Ipv4(10, o)));
  ASSERT_EQ(In(*in, b), DropReason::kOk);
  EXPECT_EQ(U8(b.bytes()[8]), 8);
  EXPECT_TRUE(ip::Ipv4ChecksumOk(b.data(), 20));
  Ipv6Opts o6;
  o6.hop = 5;
  Buf b6(Protected(*out, Ipv6(10, o6)));
  ASSERT_EQ(In(*in, b6), DropReason::kOk);
  EXPECT_EQ(U8(b6.bytes()[7]), 4);
}

TEST(AhTunnelTest, DecapsulationCombinesEcn) {
  // RFC 6040 §4.2: outer CE marks an ECN-capable inner packet CE and drops a Not-ECT one. The outer
  // ECN field is mutable, so a router may set CE without breaking the ICV.
  const sa::SaConfig c = Config(Direction::kOutbound, Mode::kTunnel, Suite::kAesGmac128, false, false);
  Pair sas = MakePair(c);
  auto mark_ce = [](Packet p) {
    p[1] = B(U8(p[1]) | ip::kEcnCe);
    FixIpv4Checksum(p);
    return p;
  };
  Ipv4Opts ect;
  ect.tos = ip::kEcnEct0;
  Buf b(mark_ce(Protected(*sas.out, Ipv4(10, ect))));
  ASSERT_EQ(In(*sas.in, b), DropReason::kOk);
  EXPECT_EQ(U8(b.bytes()[1]) & 3, ip::kEcnCe);
  EXPECT_TRUE(ip::Ipv4ChecksumOk(b.data(), 20));
  Buf n(mark_ce(Protected(*sas.out, Ipv4(10))));
  EXPECT_EQ(In(*sas.in, n), DropReason::kEcnDrop);
}

// ---------------------------------------------------------------------------------------------
// SPI peek and construction

TEST(AhPeekSpiTest, FindsSpiBehindOptionsAndExtensionHeaders) {
  auto out4 = MakeSa(Config(Direction::kOutbound, Mode::kTransport, Suite::kNullHmacSha256, false, false));
  auto out6 = MakeSa(Config(Direction::kOutbound, Mode::kTransport, Suite::kNullHmacSha256, false, true));
  auto s4 = PeekAhSpi(Protected(*out4, Ipv4WithOptions(10)));
  ASSERT_TRUE(s4.ok());
  EXPECT_EQ(*s4, kSpi);
  auto s6 = PeekAhSpi(Protected(*out6, Ipv6WithExtensions(10)));
  ASSERT_TRUE(s6.ok());
  EXPECT_EQ(*s6, kSpi);
  EXPECT_FALSE(PeekAhSpi(Ipv4(10)).ok());
  EXPECT_FALSE(PeekAhSpi(Packet(8)).ok());
  Packet cut = Protected(*out4, Ipv4(10));
  cut.resize(36 + 6);
  EXPECT_FALSE(PeekAhSpi(cut).ok());
}

TEST(AhCreateTest, RejectsBadConfigurations) {
  sa::SaConfig c = Config(Direction::kOutbound, Mode::kTransport, Suite::kNullHmacSha256, false, false);
  c.protocol = sa::Protocol::kEsp;
  EXPECT_FALSE(AhSa::Create(c, Keys(c.suite)).ok());
  c.protocol = sa::Protocol::kAh;
  c.suite = Suite::kAesGcm128;
  EXPECT_FALSE(AhSa::Create(c, Keys(c.suite)).ok());
  c.suite = Suite::kAesGmac128;
  EXPECT_FALSE(AhSa::Create(c, Keys(Suite::kAesGmac256)).ok()) << "wrong key length";
  c.suite = Suite::kNullHmacSha256;
  EXPECT_TRUE(AhSa::Create(c, Keys(c.suite), Provider::kAuto).ok());
}

}  // namespace
}  // namespace ipsec::ah
