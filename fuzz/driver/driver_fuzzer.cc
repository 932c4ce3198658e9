// libFuzzer target: the driver's parsing of what a card returns, which it must not trust.
// Byte 0 picks:
//   0  register overrides before bring-up: (offset, value) pairs applied to the ID block, block
//      list, capability and control registers of a SoftCard; Driver::Open must fail with a Status
//      or succeed, and a card it accepted must carry a burst of traffic without crashing;
//   1  completion records rewritten by the fuzzer: each field of every completion the card writes
//      (descriptor index, status, output offset/length, user data, direction, sequence, SPI, slot)
//      may be replaced; Poll must return every submitted request exactly once (ok, failed or
//      aborted), nothing lost, nothing twice.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <set>
#include <vector>

#include "driver/driver.h"
#include "driver/packet_pool.h"
#include "driver/soft/soft_card.h"
#include "fuzz/fuzz_support.h"

namespace {

using namespace ipsec;          // NOLINT: harness-local brevity
using namespace ipsec::driver;  // NOLINT

class Reader {
 public:
  explicit Reader(Bytes b) : b_(b) {}
  bool Has(size_t n) const { return pos_ + n <= b_.size(); }
  uint8_t U8() { return Has(1) ? std::to_integer<uint8_t>(b_[pos_++]) : 0; }
  uint16_t U16() { return static_cast<uint16_t>(U8() | (U8() << 8)); }
  uint32_t U32() { return static_cast<uint32_t>(U16() | (uint32_t{U16()} << 16)); }

 private:
  Bytes b_;
  size_t pos_ = 0;
};

sa::SaConfig OutboundSa(uint32_t spi) {
  sa::SaConfig c;
  c.spi = spi;
  c.direction = sa::Direction::kOutbound;
  c.suite = sa::Suite::kAesGcm128;
  c.mode = sa::Mode::kTunnel;
  c.tunnel_src = sa::IpAddress::V4(0xc6120001);
  c.tunnel_dst = sa::IpAddress::V4(0xc6120002);
  return c;
}

sa::KeyMaterial Keys() {
  sa::KeyMaterial k;
  std::vector<std::byte> key(20, std::byte{0x42});
  k.enc_key = SecureBytes(key);
  return k;
}

std::vector<std::byte> Ipv4Packet(size_t payload, uint8_t tag) {
  std::vector<std::byte> p(20 + payload, std::byte{tag});
  p[0] = std::byte{0x45};
  p[1] = std::byte{0};
  StoreU16Be(&p[2], static_cast<uint16_t>(p.size()));
  StoreU16Be(&p[4], 0);
  StoreU16Be(&p[6], 0);
  p[8] = std::byte{64};
  p[9] = std::byte{17};
  StoreU16Be(&p[10], 0);
  StoreU32Be(&p[12], 0xc0000201);
  StoreU32Be(&p[16], 0xc6336401);
  uint32_t sum = 0;
  for (size_t i = 0; i < 20; i += 2) sum += LoadU16Be(&p[i]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  StoreU16Be(&p[10], static_cast<uint16_t>(~sum));
  return p;
}

// Submits `n` packets on queue 0 and polls until every one came back; checks each user_data is
// returned exactly once.
void Traffic(Driver& d, size_t n) {
  auto pool = PacketPool::Create(d.device(), 16, 2048);
  if (!pool.ok()) return;
  std::vector<Packet> pkts;
  for (size_t i = 0; i < n; ++i) {
    Packet p = pool->Load(static_cast<uint32_t>(i % pool->count()), Ipv4Packet(40 + i, static_cast<uint8_t>(i)));
    p.dir = card::Dir::kOutbound;
    p.sa_index = 1;
    p.user_data = 1000 + i;
    pkts.push_back(p);
  }
  size_t submitted = d.Submit(0, pkts);
  std::set<uint64_t> seen;
  std::vector<Completion> out(32);
  for (int round = 0; round < 64 && seen.size() < submitted; ++round) {
    size_t got = d.Poll(0, out);
    for (size_t i = 0; i < got; ++i) {
      FUZZ_CHECK(out[i].user_data >= 1000 && out[i].user_data < 1000 + submitted);
      FUZZ_CHECK(seen.insert(out[i].user_data).second);  // never twice
      if (out[i].ok()) FUZZ_CHECK(size_t{out[i].out_offset} + out[i].out_len <= 2048);
    }
  }
  FUZZ_CHECK(seen.size() == submitted);  // nothing lost
  FUZZ_CHECK(d.Outstanding(0) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  Reader r(Bytes(reinterpret_cast<const std::byte*>(data) + 1, size - 1));
  auto card = SoftCard::Create();
  FUZZ_CHECK(card.ok());
  SoftCard* raw = card->get();
  if (data[0] % 2 == 0) {
    for (int i = 0; i < 24 && r.Has(6); ++i) {
      uint32_t offset = (r.U16() % 0x1400u) & ~3u;  // ID, CTRL, EVQ, SA and the first ring pairs
      raw->OverrideRegisterForTest(offset, r.U32());
    }
    DriverOptions o;
    o.ring_log2 = 4;
    auto d = Driver::Open(std::move(*card), o);
    if (!d.ok()) return 0;
    if (!(*d)->InstallSa(1, OutboundSa(0x1111), Keys()).ok()) return 0;
    Traffic(**d, 8);
    return 0;
  }
  DriverOptions o;
  o.ring_log2 = 4;
  auto d = Driver::Open(std::move(*card), o);
  FUZZ_CHECK(d.ok());
  FUZZ_CHECK((*d)->InstallSa(1, OutboundSa(0x1111), Keys()).ok());
  std::vector<uint8_t> script(data + 1, data + size);
  size_t pos = 0;
  raw->SetCompletionTamperForTest([&](uint32_t, card::Cpl& c) {
    if (pos + 3 > script.size()) return;
    uint8_t which = script[pos++];
    uint16_t v = static_cast<uint16_t>(script[pos] | (script[pos + 1] << 8));
    pos += 2;
    switch (which % 9) {
      case 0: c.desc_index = v; break;
      case 1: c.status = static_cast<card::CplStatus>(v & 0xff); break;
      case 2: c.out_offset = v; break;
      case 3: c.out_len = v; break;
      case 4: c.user_data = v; break;
      case 5: c.dir = static_cast<card::Dir>(v & 0x3); break;
      case 6: c.seq = v; break;
      case 7: c.sa_index = v; break;
      default: break;  // leave this completion alone
    }
  });
  Traffic(**d, 12);
  return 0;
}

std::vector<std::vector<uint8_t>> FuzzSeeds() {
  return {
      {0},                                      // bring-up untouched
      {0, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12},  // wrong magic
      {0, 0x04, 0x00, 0x00, 0x00, 0x02, 0x00},  // layout major 2
      {1},                                      // traffic untouched
      {1, 0, 5, 0},                             // a completion for the wrong descriptor
      {1, 3, 0xff, 0xff, 8, 0, 0, 2, 0x00, 0x10},  // impossible length, then offset
      {1, 1, 0x41, 0, 4, 7, 0, 5, 1, 0},        // card-only status, foreign user data, direction
  };
}
