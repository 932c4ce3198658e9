// Tests of the card contract as the host sees it (driver/include/ipsec_accel/card_regs.h,
// generated from hw/card/data/ipsec_card.json): record sizes and byte layout, codec round trips,
// the phase rule, register-map invariants (no overlap, write-only keys, a walkable block list),
// and the alignment of completion status codes, suites and events with the software path's
// sa::DropReason, sa::Suite and sa::SaEvent.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "host/sa/sa_stats.h"
#include "host/sa/suite.h"
#include "ipsec_accel/card_regs.h"

namespace ipsec::card {
uint32_t StandaloneHeaderLayoutVersion();  // card_regs_standalone.cc
namespace {

template <size_t N>
std::array<std::byte, N> Bytes(const std::array<uint8_t, N>& in) {
  std::array<std::byte, N> out{};
  for (size_t i = 0; i < N; ++i) out[i] = std::byte{in[i]};
  return out;
}

uint64_t Bits(std::mt19937_64& rng, uint32_t width) {
  const uint64_t v = rng();
  return width >= 64 ? v : v & ((uint64_t{1} << width) - 1);
}

class CardRecordTest : public ::testing::Test {
 protected:
  std::mt19937_64 rng_{20240611};
};

TEST_F(CardRecordTest, SizesAreFixedAndReportedInCapRecords) {
  static_assert(sizeof(ReqDesc::Bytes) == 32);
  static_assert(sizeof(Cpl::Bytes) == 32);
  static_assert(sizeof(Event::Bytes) == 16);
  static_assert(sizeof(SaParams::Bytes) == 96);
  // The SA parameter record fills the SA_PARAM_* staging registers exactly.
  EXPECT_EQ(SaParams::kBytes, reg::kSaParamCount * 4);
  const auto it = std::find_if(kRegisters.begin(), kRegisters.end(),
                               [](const RegisterInfo& r) { return r.offset == reg::kIdCapRecords; });
  ASSERT_NE(it, kRegisters.end());
  EXPECT_EQ(field::kIdCapRecordsReqDescBytes.Get(it->reset), ReqDesc::kBytes);
  EXPECT_EQ(field::kIdCapRecordsCplBytes.Get(it->reset), Cpl::kBytes);
  EXPECT_EQ(field::kIdCapRecordsEventBytes.Get(it->reset), Event::kBytes);
  EXPECT_EQ(field::kIdCapRecordsSaParamBytes.Get(it->reset), SaParams::kBytes);
  EXPECT_EQ(StandaloneHeaderLayoutVersion(), 0x00010000u);
}

// Layout version 1.0 of the completion, byte by byte. If this test fails, the layout changed:
// bump the major layout version (docs/device-interface.md, "Versioning") and update the bytes.
TEST_F(CardRecordTest, CompletionV1LayoutIsLittleEndianWithPhaseInLastByte) {
  const auto raw = Bytes<32>({
      0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,  // USER_DATA 0x0102030405060708
      0x2a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,  // SEQ 0x000000010000002a (ESN high half 1)
      0x78, 0x56, 0x34, 0x12,                          // SPI 0x12345678
      0x05, 0x04, 0x00,                                // SA_INDEX 0x000405
      0x29,                                            // NEXT_HEADER 41 (IPv6)
      0x48, 0x00,                                      // OUT_OFFSET 72
      0xdc, 0x05,                                      // OUT_LEN 1500
      0xff, 0xff,                                      // DESC_INDEX 0xffff
      0x03,                                            // STATUS auth_failed
      0x81,                                            // PHASE 1, DIR inbound
  });
  const Cpl c = Cpl::Decode(raw);
  EXPECT_EQ(c.user_data, 0x0102030405060708u);
  EXPECT_EQ(c.seq, 0x000000010000002au);
  EXPECT_EQ(c.spi, 0x12345678u);
  EXPECT_EQ(c.sa_index, 0x405u);
  EXPECT_EQ(c.next_header, 41);
  EXPECT_EQ(c.out_offset, 72);
  EXPECT_EQ(c.out_len, 1500);
  EXPECT_EQ(c.desc_index, 0xffff);
  EXPECT_EQ(c.status, CplStatus::kAuthFailed);
  EXPECT_EQ(c.dir, Dir::kInbound);
  EXPECT_TRUE(c.phase);
  EXPECT_TRUE(Cpl::Phase(raw));
  EXPECT_TRUE(Cpl::ReservedClear(raw));
  EXPECT_EQ(c.Encode(), raw);
  EXPECT_EQ(kLayoutVersionMajor, 1u);
}

TEST_F(CardRecordTest, RequestDescriptorV1Layout) {
  ReqDesc d;
  d.buf_addr = 0x0000'7f00'1234'5000;
  d.buf_len = 2048;
  d.pkt_offset = 64;
  d.pkt_len = 1400;
  d.dir = Dir::kOutbound;
  d.sa_valid = true;
  d.irq = true;
  d.sa_index = 0xabcdef;
  d.user_data = 7;
  const auto expected = Bytes<32>({
      0x00, 0x50, 0x34, 0x12, 0x00, 0x7f, 0x00, 0x00,  // BUF_ADDR
      0x00, 0x08,                                      // BUF_LEN 2048
      0x40, 0x00,                                      // PKT_OFFSET 64
      0x78, 0x05,                                      // PKT_LEN 1400
      0x06, 0x00,                                      // DIR 0, SA_VALID 1, IRQ 1; reserved
      0xef, 0xcd, 0xab, 0x00,                          // SA_INDEX; reserved byte
      0x00, 0x00, 0x00, 0x00,                          // reserved
      0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // USER_DATA
  });
  EXPECT_EQ(d.Encode(), expected);
}

TEST_F(CardRecordTest, RandomRecordsRoundTrip) {
  for (int i = 0; i < 1000; ++i) {
    ReqDesc d;
    d.buf_addr = rng_();
    d.buf_len = static_cast<uint16_t>(Bits(rng_, 16));
    d.pkt_offset = static_cast<uint16_t>(Bits(rng_, 16));
    d.pkt_len = static_cast<uint16_t>(Bits(rng_, 16));
    d.dir = static_cast<Dir>(Bits(rng_, 1));
    d.sa_valid = Bits(rng_, 1) != 0;
    d.irq = Bits(rng_, 1) != 0;
    d.sa_index = static_cast<uint32_t>(Bits(rng_, 24));
    d.user_data = rng_();
    const auto raw = d.Encode();
    EXPECT_TRUE(ReqDesc::ReservedClear(raw));
    EXPECT_EQ(ReqDesc::Decode(raw), d);

    Cpl c;
    c.user_data = rng_();
    c.seq = rng_();
    c.spi = static_cast<uint32_t>(Bits(rng_, 32));
    c.sa_index = static_cast<uint32_t>(Bits(rng_, 24));
    c.next_header = static_cast<uint8_t>(Bits(rng_, 8));
    c.out_offset = static_cast<uint16_t>(Bits(rng_, 16));
    c.out_len = static_cast<uint16_t>(Bits(rng_, 16));
    c.desc_index = static_cast<uint16_t>(Bits(rng_, 16));
    c.status = static_cast<CplStatus>(Bits(rng_, 8));
    c.dir = static_cast<Dir>(Bits(rng_, 1));
    c.phase = Bits(rng_, 1) != 0;
    EXPECT_EQ(Cpl::Decode(c.Encode()), c);
    EXPECT_EQ(Cpl::Phase(c.Encode()), c.phase);

    Event e;
    e.info = rng_();
    e.sa_index = static_cast<uint32_t>(Bits(rng_, 24));
    e.ring = static_cast<uint8_t>(Bits(rng_, 8));
    e.kind = static_cast<EventType>(Bits(rng_, 8));
    e.code = static_cast<uint8_t>(Bits(rng_, 8));
    e.dir = static_cast<Dir>(Bits(rng_, 1));
    e.phase = Bits(rng_, 1) != 0;
    EXPECT_EQ(Event::Decode(e.Encode()), e);

    SaParams p;
    p.spi = static_cast<uint32_t>(Bits(rng_, 32));
    p.dir = static_cast<Dir>(Bits(rng_, 1));
    p.mode = static_cast<SaMode>(Bits(rng_, 1));
    p.outer_v6 = Bits(rng_, 1) != 0;
    p.udp_encap = Bits(rng_, 1) != 0;
    p.esn = Bits(rng_, 1) != 0;
    p.verify_tunnel = Bits(rng_, 1) != 0;
    p.dscp_set = Bits(rng_, 1) != 0;
    p.ecn_compat = Bits(rng_, 1) != 0;
    p.df_mode = static_cast<DfMode>(Bits(rng_, 2));
    p.dec_inner_ttl = Bits(rng_, 1) != 0;
    p.suite = static_cast<Suite>(Bits(rng_, 8));
    p.ttl = static_cast<uint8_t>(Bits(rng_, 8));
    p.dscp = static_cast<uint8_t>(Bits(rng_, 6));
    p.replay_window = static_cast<uint32_t>(Bits(rng_, 32));
    p.udp_src_port = static_cast<uint16_t>(Bits(rng_, 16));
    p.udp_dst_port = static_cast<uint16_t>(Bits(rng_, 16));
    p.initial_seq = rng_();
    p.soft_bytes = rng_();
    p.hard_bytes = rng_();
    p.soft_packets = rng_();
    p.hard_packets = rng_();
    for (auto& b : p.tunnel_src) b = static_cast<uint8_t>(Bits(rng_, 8));
    for (auto& b : p.tunnel_dst) b = static_cast<uint8_t>(Bits(rng_, 8));
    const auto praw = p.Encode();
    EXPECT_TRUE(SaParams::ReservedClear(praw));
    EXPECT_EQ(SaParams::Decode(praw), p);
  }
}

// The generated codecs load and store whole little-endian words
// (memcpy at run time, byte shifts in constant evaluation); the header's static_asserts check the
// constant-evaluation path on a few records, this checks the run-time path on many: Encode over a
// garbage-filled buffer, Decode of random bytes (reserved bits set) and ReservedClear against the
// field-by-field bit codec (EncodeReference / DecodeReference / ReservedClearReference).
TEST_F(CardRecordTest, WordCodecMatchesTheBitByBitReferenceOnRandomRecords) {
  EXPECT_TRUE(req_desc::CodecMatchesReference(rng_(), 20000));
  EXPECT_TRUE(cpl::CodecMatchesReference(rng_(), 20000));
  EXPECT_TRUE(event::CodecMatchesReference(rng_(), 20000));
  EXPECT_TRUE(sa_params::CodecMatchesReference(rng_(), 5000));
}

TEST_F(CardRecordTest, ReservedBitsAreIgnoredByDecodeAndReportedByReservedClear) {
  ReqDesc d;
  d.pkt_len = 60;
  auto raw = d.Encode();
  raw[14] |= std::byte{0x08};  // first reserved flag bit
  EXPECT_FALSE(ReqDesc::ReservedClear(raw));
  EXPECT_EQ(ReqDesc::Decode(raw), d);
  raw = d.Encode();
  raw[19] = std::byte{0x01};  // byte above the 24-bit SA index
  EXPECT_FALSE(ReqDesc::ReservedClear(raw));
  EXPECT_EQ(ReqDesc::Decode(raw), d);
}

TEST_F(CardRecordTest, SaParamsByteStringsKeepNetworkOrderAndMapToParamRegisters) {
  SaParams p;
  p.spi = 0x01020304;
  p.tunnel_dst = {192, 0, 2, 1};
  const auto raw = p.Encode();
  // SA_PARAM_k holds bytes 4k..4k+3 little-endian: the SPI is PARAM_0 as an integer...
  auto param = [&](uint32_t k) {
    uint32_t v = 0;
    for (uint32_t i = 0; i < 4; ++i) v |= std::to_integer<uint32_t>(raw[4 * k + i]) << (8 * i);
    return v;
  };
  EXPECT_EQ(param(0), 0x01020304u);
  // ...and the address keeps its wire order in memory: 192.0.2.1 at bytes 80..83.
  EXPECT_EQ(raw[80], std::byte{192});
  EXPECT_EQ(raw[83], std::byte{1});
  EXPECT_EQ(param(sa_params::kTunnelDst.Byte() / 4), 0x010200c0u);
  EXPECT_EQ(reg::SaParam(20), reg::kSaParam + 80);
}

// The phase rule, as a host and a card would run it over several passes of a small ring,
// across the 16-bit wrap of the free-running indices.
TEST(CardPhaseTest, HostSeesEachCompletionExactlyOnceAcrossWraps) {
  constexpr uint32_t kLog2 = 3, kSize = 1u << kLog2;
  std::array<Cpl::Bytes, kSize> ring{};  // zeroed by the host before enabling the ring
  uint32_t prod = 0xfff0, cons = 0xfff0;  // indices as after many earlier passes
  // Zeroed memory must read as "not ready" at any index whose expected phase is 1; start at a
  // pass whose expected phase is 1 so a fresh ring works.
  ASSERT_TRUE(ExpectedPhase(cons, kLog2));
  uint32_t seen = 0;
  for (int step = 0; step < 100; ++step) {
    // The card writes up to three completions, never overrunning unconsumed ones.
    for (int k = 0; k < 3 && RingDistance(prod, cons) < kSize; ++k) {
      Cpl c;
      c.desc_index = static_cast<uint16_t>(prod);
      c.phase = ExpectedPhase(prod, kLog2);
      c.Encode(ring[RingSlot(prod, kLog2)]);
      prod = (prod + 1) & kRingIndexMask;
    }
    // The host polls the phase bit of the next slot only; it never reads the producer index.
    for (int k = 0; k < 2; ++k) {
      const auto& slot = ring[RingSlot(cons, kLog2)];
      if (Cpl::Phase(slot) != ExpectedPhase(cons, kLog2)) break;
      EXPECT_EQ(Cpl::Decode(slot).desc_index, cons);
      cons = (cons + 1) & kRingIndexMask;
      ++seen;
    }
  }
  EXPECT_GT(seen, 4 * kSize);  // several passes, including the 0xffff -> 0 wrap
  EXPECT_LT(cons, 0xfff0u);
  // A slot the card has not rewritten since the last pass reads as not ready.
  const auto& next = ring[RingSlot(cons, kLog2)];
  EXPECT_EQ(Cpl::Phase(next) == ExpectedPhase(cons, kLog2), RingDistance(prod, cons) > 0);
}

TEST(CardPhaseTest, ExpectedPhaseFlipsEveryPass) {
  EXPECT_TRUE(ExpectedPhase(0, 4));
  EXPECT_TRUE(ExpectedPhase(15, 4));
  EXPECT_FALSE(ExpectedPhase(16, 4));
  EXPECT_TRUE(ExpectedPhase(32, 4));
  EXPECT_FALSE(ExpectedPhase(0xffff, 15));
  EXPECT_EQ(RingDistance(2, 0xfffe), 4u);
  EXPECT_EQ(RingSlot(0x1234, 4), 4u);
}

class CardRegisterMapTest : public ::testing::Test {
 protected:
  // Every 32-bit word the map defines, with array elements and every ring pair expanded.
  static std::map<uint32_t, RegisterInfo> Words() {
    std::map<uint32_t, RegisterInfo> m;
    for (const auto& r : kRegisters) {
      for (uint32_t i = 0; i < r.count; ++i) {
        const uint32_t off = r.offset + i * r.stride;
        EXPECT_TRUE(m.emplace(off, r).second) << r.name << " overlaps at " << off;
      }
    }
    return m;
  }
};

TEST_F(CardRegisterMapTest, RegistersDoNotOverlapAndFitTheBar) {
  const auto words = Words();
  for (const auto& [off, r] : words) {
    EXPECT_EQ(off % 4, 0u) << r.name;
    EXPECT_LT(off + 3, kBarBytes) << r.name;
  }
  EXPECT_EQ(reg::Ring(reg::kRingMaxCount - 1, reg::kRingIrqMod), 0x1000u + 0x40u + 31 * 0x40u + 0x28u);
}

TEST_F(CardRegisterMapTest, KeysAreWriteOnlyAndReadZero) {
  const auto words = Words();
  for (uint32_t k = 0; k < reg::kSaKeyCount; ++k) {
    const auto& r = words.at(reg::SaKey(k));
    EXPECT_EQ(r.access, Access::kWO);
    EXPECT_EQ(r.reset, 0u);
  }
  EXPECT_EQ(words.at(reg::kSaSalt).access, Access::kWO);
  EXPECT_EQ(words.at(reg::kSaCmd).access, Access::kWO);
  // 32 key bytes: enough for AES-256 and for the HMAC suites' cipher keys later.
  EXPECT_EQ(reg::kSaKeyCount * 4, 32u);
}

// The driver discovers the map like Corundum's register-block walk: from the ID block at 0,
// follow NEXT until 0, refusing loops. Here the BAR is modelled by the reset values.
TEST_F(CardRegisterMapTest, BlockListIsWalkableFromTheIdBlock) {
  const auto words = Words();
  auto read = [&](uint32_t off) { return words.at(off).reset; };
  EXPECT_EQ(read(reg::kIdType), reg::kIdBlockType);
  EXPECT_EQ(read(reg::kIdVersion) >> 16, kLayoutVersionMajor);
  std::vector<uint32_t> types;
  std::set<uint32_t> visited;
  for (uint32_t off = 0;;) {
    ASSERT_TRUE(visited.insert(off).second) << "loop at " << off;
    types.push_back(read(off));
    EXPECT_EQ(read(off + 4) >> 16, 1u) << "block at " << off;
    off = read(off + 8);
    if (off == 0) break;
  }
  EXPECT_EQ(types, (std::vector<uint32_t>{reg::kIdBlockType, reg::kCtrlBlockType, reg::kEvqBlockType,
                                          reg::kSaBlockType, reg::kQueuesBlockType}));
  EXPECT_EQ(read(reg::kQueuesRingCount), kDefaultRingPairs);
  EXPECT_EQ(read(reg::kQueuesRingStride), reg::kRingStride);
  EXPECT_EQ(reg::kQueuesBase + read(reg::kQueuesRingOffset), reg::kRingBase);
  EXPECT_EQ(read(reg::kIdCapSa), kDefaultSaCount);
}

TEST_F(CardRegisterMapTest, DefaultCapabilitiesMeetTheIssue) {
  const auto words = Words();
  auto read = [&](uint32_t off) { return words.at(off).reset; };
  EXPECT_GE(read(reg::kIdCapSa), 4096u);
  EXPECT_GE(read(reg::kIdCapReplay), 1024u);
  EXPECT_GE(field::kIdCapQueuesRingPairs.Get(read(reg::kIdCapQueues)), 8u);
  const uint32_t suites = read(reg::kIdSuites);
  EXPECT_TRUE(suites & (1u << static_cast<uint32_t>(Suite::kAesGcm128)));
  EXPECT_TRUE(suites & (1u << static_cast<uint32_t>(Suite::kAesGcm256)));
  EXPECT_EQ(field::kIdCapEngineDatapathBytesLog2.Get(read(reg::kIdCapEngine)), 6u);  // 512 bits
}

TEST(CardFieldTest, PutAndGetTouchOnlyTheField) {
  uint32_t v = 0xffffffff;
  v = field::kRingCtrlRqSizeLog2.Put(v, 10);
  EXPECT_EQ(field::kRingCtrlRqSizeLog2.Get(v), 10u);
  EXPECT_EQ(v | field::kRingCtrlRqSizeLog2.Mask(), 0xffffffffu);
  EXPECT_EQ(field::kRingCtrlRqSizeLog2.Put(0, 0xff), 0x1fu << 8);  // truncated to 5 bits
  EXPECT_EQ(field::kRingCqConsArm.Mask(), 0x80000000u);
  EXPECT_EQ(field::kSaStatusResult.Get(0x0300), static_cast<uint32_t>(SaResult::kBadParams));
}

// Completion status 0-15 are sa::DropReason, so one counter table and one name table serve the
// software path and the card (docs/device-interface.md, "Status codes").
TEST(CardAlignmentTest, StatusCodesAreDropReasons) {
  for (size_t i = 0; i < sa::kNumDropReasons; ++i) {
    const auto r = static_cast<sa::DropReason>(i);
    EXPECT_EQ(CplStatusName(static_cast<CplStatus>(i)), sa::DropReasonName(r)) << i;
  }
  EXPECT_GE(static_cast<size_t>(CplStatus::kBadSaIndex), sa::kNumDropReasons);
}

TEST(CardAlignmentTest, SuitesAndEventsAreTheSoftwareEnumsPlusOne) {
  auto card = [](sa::Suite s) { return static_cast<Suite>(static_cast<uint8_t>(s) + 1); };
  EXPECT_EQ(card(sa::Suite::kAesGcm128), Suite::kAesGcm128);
  EXPECT_EQ(card(sa::Suite::kAesGcm256), Suite::kAesGcm256);
  EXPECT_EQ(card(sa::Suite::kAesGmac128), Suite::kAesGmac128);
  EXPECT_EQ(card(sa::Suite::kAesGmac256), Suite::kAesGmac256);
  EXPECT_EQ(card(sa::Suite::kAesCbc128HmacSha256), Suite::kAesCbc128HmacSha256);
  EXPECT_EQ(card(sa::Suite::kAesCbc256HmacSha256), Suite::kAesCbc256HmacSha256);
  EXPECT_EQ(card(sa::Suite::kNullHmacSha256), Suite::kNullHmacSha256);
  EXPECT_EQ(card(sa::Suite::kChaCha20Poly1305), Suite::kChacha20Poly1305);
  // Key and salt fit the key registers.
  for (auto s : {sa::Suite::kAesGcm128, sa::Suite::kAesGcm256}) {
    EXPECT_LE(sa::GetSuiteInfo(s).enc_key_len, reg::kSaKeyCount * 4);
    EXPECT_EQ(sa::GetSuiteInfo(s).salt_len, 4u);
  }
  for (auto e : {sa::SaEvent::kSoftLifetime, sa::SaEvent::kHardLifetime, sa::SaEvent::kSeqOverflow}) {
    EXPECT_EQ(EventTypeName(static_cast<EventType>(static_cast<uint8_t>(e) + 1)), sa::SaEventName(e));
  }
}

}  // namespace
}  // namespace ipsec::card
