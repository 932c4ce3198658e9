// libFuzzer target: the AH inbound path (PeekAhSpi, AhSa::ProcessInbound) on untrusted packets.
//
// Input: byte 0 selects the mode (value % 2).
//   0 raw:        rest = a received packet, fed to the inbound SA of every configuration.
//   1 round trip: [cfg] inner packet... protected by the outbound SA of that configuration; when
//                 that succeeds the inbound SA must accept the result and give the packet back
//                 (IPv4 header checksum aside, which transport mode recomputes).
// SAs are created fresh for every input (AhSa has no state restore), so inputs run independently.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "fuzz/sa_fuzz_support.h"
#include "host/ah/ah_sa.h"
#include "host/common/bytes.h"
#include "host/common/ip.h"
#include "host/common/packet_buf.h"

namespace {

using namespace ipsec;        // NOLINT: harness-local brevity
using namespace ipsec::fuzz;  // NOLINT
using sa::DropReason;

std::vector<sa::SaConfig> Configs() {
  std::vector<sa::SaConfig> v;
  sa::SaConfig c;
  c.protocol = sa::Protocol::kAh;
  c.suite = sa::Suite::kNullHmacSha256;
  c.mode = sa::Mode::kTransport;
  v.push_back(c);  // 0: HMAC-SHA-256 transport
  c.suite = sa::Suite::kAesGmac128;
  c.mode = sa::Mode::kTunnel;
  c.tunnel_src = *sa::IpAddress::Parse("2001:db8:ffff::1");
  c.tunnel_dst = *sa::IpAddress::Parse("2001:db8:ffff::2");
  c.esn = true;
  c.replay_window = 1024;
  v.push_back(c);  // 1: GMAC tunnel over IPv6, ESN
  c.suite = sa::Suite::kNullHmacSha256;
  c.tunnel_src = *sa::IpAddress::Parse("198.18.0.1");
  c.tunnel_dst = *sa::IpAddress::Parse("198.18.0.2");
  c.esn = false;
  c.verify_tunnel_addresses = true;
  v.push_back(c);  // 2: HMAC tunnel over IPv4, outer address check
  c = sa::SaConfig{};
  c.protocol = sa::Protocol::kAh;
  c.suite = sa::Suite::kAesGmac256;
  c.mode = sa::Mode::kTransport;
  c.esn = true;
  v.push_back(c);  // 3: GMAC-256 transport, ESN
  for (size_t i = 0; i < v.size(); ++i) v[i].spi = 0x200 + static_cast<uint32_t>(i);
  return v;
}

std::unique_ptr<ah::AhSa> MakeSa(sa::SaConfig c, sa::Direction d, uint8_t tag) {
  c.direction = d;
  auto sa = ah::AhSa::Create(c, Keys(c.suite, tag), crypto::Provider::kAuto);
  FUZZ_CHECK(sa.ok());
  return std::move(sa).value();
}

struct Pool {
  std::vector<std::byte> storage = std::vector<std::byte>(kSlot);
  PacketBuf buf;
  PacketBuf* Load(Bytes pkt) {
    buf.base = storage.data();
    buf.capacity = kSlot;
    buf.offset = kHead;
    buf.length = static_cast<uint32_t>(pkt.size());
    if (!pkt.empty()) std::memcpy(buf.data(), pkt.data(), pkt.size());
    return &buf;
  }
};

Pool& P() {
  static Pool* p = new Pool();
  return *p;
}

const std::vector<sa::SaConfig>& Cfgs() {
  static const auto* c = new std::vector<sa::SaConfig>(Configs());
  return *c;
}

void Raw(Bytes pkt) {
  (void)ah::PeekAhSpi(pkt);
  const auto& cfgs = Cfgs();
  for (size_t i = 0; i < cfgs.size(); ++i) {
    auto in = MakeSa(cfgs[i], sa::Direction::kInbound, static_cast<uint8_t>(i));
    PacketBuf* p = P().Load(pkt);
    DropReason st{};
    in->ProcessInbound(std::span<PacketBuf* const>(&p, 1), std::span<DropReason>(&st, 1));
    if (st == DropReason::kOk) FUZZ_CHECK(p->offset <= p->capacity && p->length <= p->capacity - p->offset);
  }
}

void RoundTrip(const uint8_t* data, size_t size) {
  if (size < 2) return;
  const auto& cfgs = Cfgs();
  const size_t idx = data[1] % cfgs.size();
  auto out = MakeSa(cfgs[idx], sa::Direction::kOutbound, static_cast<uint8_t>(idx));
  auto in = MakeSa(cfgs[idx], sa::Direction::kInbound, static_cast<uint8_t>(idx));
  const Bytes inner = AsBytes(data + 2, size - 2);
  PacketBuf* p = P().Load(inner);
  DropReason st{};
  out->ProcessOutbound(std::span<PacketBuf* const>(&p, 1), std::span<DropReason>(&st, 1));
  if (st != DropReason::kOk) return;
  in->ProcessInbound(std::span<PacketBuf* const>(&p, 1), std::span<DropReason>(&st, 1));
  if (st != DropReason::kOk) {
    std::fprintf(stderr, "AH round trip: cfg %zu, inbound refused: %.*s\n", idx,
                 static_cast<int>(sa::DropReasonName(st).size()), sa::DropReasonName(st).data());
  }
  const bool tunnel = cfgs[idx].mode == sa::Mode::kTunnel;
  const ip::IpInfo info = ip::ParseIp(inner, false);
  // A tunnel decapsulator may refuse an inner IPv4 header with a bad checksum, which the
  // encapsulator does not check.
  if (tunnel && st == DropReason::kBadInner && info.version == 4 && !ip::Ipv4ChecksumOk(inner.data(), info.header_len)) {
    return;
  }
  FUZZ_CHECK(st == DropReason::kOk);
  FUZZ_CHECK(p->length == inner.size());
  std::vector<std::byte> got(p->data(), p->data() + p->length);
  if (!tunnel && info.version == 4) {
    got[10] = inner[10];
    got[11] = inner[11];
  }
  FUZZ_CHECK(std::memcmp(got.data(), inner.data(), inner.size()) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 65535) return 0;
  if (data[0] % 2 == 0) {
    Raw(fuzz::AsBytes(data + 1, size - 1));
  } else {
    RoundTrip(data, size);
  }
  return 0;
}

// Seeds: round-trip inputs for every configuration and raw AH packets they produce.
std::vector<std::vector<uint8_t>> FuzzSeeds() {
  std::vector<uint8_t> v4 = {0x45, 0, 0, 36, 0, 1, 0x40, 0, 64, 17, 0, 0, 192, 0, 2, 1, 198, 51, 100, 7,
                             0x13, 0x88, 0x17, 0x70, 0, 16, 0, 0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'};
  ip::SetIpv4Checksum(reinterpret_cast<std::byte*>(v4.data()), 20);
  std::vector<uint8_t> v6(40 + 8 + 5);
  v6[0] = 0x60;
  v6[5] = 13;
  v6[6] = 17;
  v6[7] = 64;
  v6[8] = 0x20, v6[9] = 0x01, v6[10] = 0x0d, v6[11] = 0xb8, v6[23] = 1;
  v6[24] = 0x20, v6[25] = 0x01, v6[26] = 0x0d, v6[27] = 0xb8, v6[39] = 7;
  v6[45] = 13;
  std::vector<std::vector<uint8_t>> seeds;
  const auto& cfgs = Cfgs();
  for (size_t c = 0; c < cfgs.size(); ++c) {
    for (const auto* inner : {&v4, &v6}) {
      seeds.push_back(fuzz::WithPrefix({1, static_cast<uint8_t>(c)}, *inner));
      auto out = MakeSa(cfgs[c], sa::Direction::kOutbound, static_cast<uint8_t>(c));
      PacketBuf* p = P().Load(fuzz::AsBytes(*inner));
      DropReason st{};
      out->ProcessOutbound(std::span<PacketBuf* const>(&p, 1), std::span<DropReason>(&st, 1));
      if (st == DropReason::kOk) seeds.push_back(fuzz::WithPrefix({0}, p->span()));
    }
  }
  return seeds;
}
