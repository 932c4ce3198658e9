// libFuzzer target: the gateway's packet shaping between the TUN device and the card
// (host/ike/daemon/data_path_util.h). The first byte picks the mode:
//   even: one TUN read with offloads on: 10 bytes of virtio-net header, then the packet, through
//         SegmentOffloaded. Oracles: it never writes past the buffers it asked for, asks for at most
//         64 of them, and every segment of a TCP segmentation carries valid IPv4 and TCP checksums.
//   odd:  a batch of decapsulated packets (each a 2-byte big-endian length, then that many bytes; at
//         most 64) through TunCoalescer. Oracle: what the kernel makes of the planned writes (each
//         coalesced write cut again by SegmentOffloaded, the kernel's own rules) is exactly the
//         batch: every packet once, byte for byte, each flow in order.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <span>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "host/common/ip.h"
#include "host/ike/daemon/data_path_util.h"

namespace {

using namespace ipsec;       // NOLINT: harness-local brevity
using namespace ipsec::ike;  // NOLINT
using Buf = std::vector<std::byte>;

bool TcpChecksumsValid(const Buf& s, bool v6, size_t l4) {
  if (!v6 && ip::ChecksumFold(ip::ChecksumPartial(Bytes(s).first(20))) != 0xffff) return false;
  const uint32_t len = static_cast<uint32_t>(s.size() - l4);
  uint32_t sum = ip::PseudoHeaderSum(s.data() + (v6 ? 8 : 12), s.data() + (v6 ? 24 : 16), v6, 6, len);
  return ip::ChecksumFold(ip::ChecksumPartial(Bytes(s).subspan(l4), sum)) == 0xffff;
}

void Segment(const uint8_t* data, size_t size) {
  if (size < VnetHdr::kBytes) return;
  const VnetHdr h = VnetHdr::Read(reinterpret_cast<const std::byte*>(data));
  Buf pkt(reinterpret_cast<const std::byte*>(data) + VnetHdr::kBytes, reinterpret_cast<const std::byte*>(data) + size);
  std::vector<Buf> out;
  out.reserve(64);
  const size_t n = SegmentOffloaded(h, pkt, 64, [&](size_t len) -> std::span<std::byte> {
    FUZZ_CHECK(out.size() < 64);
    FUZZ_CHECK(len <= 65536 + 256);
    out.emplace_back(len);
    return out.back();
  });
  FUZZ_CHECK(n <= out.size());
  const uint8_t gso = h.gso_type & static_cast<uint8_t>(~VnetHdr::kGsoEcn);
  if (n > 0 && (gso == VnetHdr::kGsoTcpV4 || gso == VnetHdr::kGsoTcpV6)) {
    for (size_t i = 0; i < n; ++i) FUZZ_CHECK(TcpChecksumsValid(out[i], gso == VnetHdr::kGsoTcpV6, h.csum_start));
  }
}

void Coalesce(const uint8_t* data, size_t size) {
  std::vector<Buf> pkts;
  size_t at = 0;
  while (at + 2 <= size && pkts.size() < TunCoalescer::kMaxBatch) {
    const size_t len = (size_t{data[at]} << 8) | data[at + 1];
    at += 2;
    const size_t take = std::min(len, size - at);
    pkts.emplace_back(reinterpret_cast<const std::byte*>(data) + at, reinterpret_cast<const std::byte*>(data) + at + take);
    at += take;
  }
  std::vector<Bytes> view(pkts.begin(), pkts.end());
  TunCoalescer c;
  const size_t writes = c.Plan(view);
  FUZZ_CHECK(writes <= pkts.size());
  std::vector<Buf> back;
  for (size_t w = 0; w < writes; ++w) {
    Buf joined;
    for (Bytes piece : c.Write(w)) joined.insert(joined.end(), piece.begin(), piece.end());
    FUZZ_CHECK(joined.size() >= VnetHdr::kBytes);
    const VnetHdr h = VnetHdr::Read(joined.data());
    std::span<std::byte> pkt(joined.data() + VnetHdr::kBytes, joined.size() - VnetHdr::kBytes);
    if (h.gso_type == VnetHdr::kGsoNone) {
      FUZZ_CHECK(h.flags == 0);
      back.emplace_back(pkt.begin(), pkt.end());
      continue;
    }
    FUZZ_CHECK(pkt.size() <= 65535);
    const size_t before = back.size();
    const size_t n = SegmentOffloaded(h, pkt, 64, [&](size_t len) -> std::span<std::byte> {
      back.emplace_back(len);
      return back.back();
    });
    FUZZ_CHECK(n >= 2 && back.size() == before + n);
  }
  // Every packet exactly once, byte for byte.
  FUZZ_CHECK(back.size() == pkts.size());
  std::vector<Buf> a = pkts, b = back;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  FUZZ_CHECK(a == b);
  // Each flow (IP version, addresses, ports) in its original order: the packets of a flow appear
  // in `back` as a subsequence in the order they had in `pkts`.
  auto key = [](const Buf& p) {
    Buf k;
    if (p.empty()) return k;
    const bool v6 = (std::to_integer<unsigned>(p[0]) >> 4) == 6;
    const size_t l4 = v6 ? 40 : 20;
    const size_t end = std::min(p.size(), l4 + 4);
    k.assign(p.begin() + std::min<size_t>(p.size(), v6 ? 8 : 12), p.begin() + static_cast<std::ptrdiff_t>(end));
    k.insert(k.begin(), p[0]);
    return k;
  };
  std::map<Buf, std::vector<Buf>> in_order, out_order;
  for (const Buf& p : pkts) in_order[key(p)].push_back(p);
  for (const Buf& p : back) out_order[key(p)].push_back(p);
  FUZZ_CHECK(in_order == out_order);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] % 2 == 0) {
    Segment(data + 1, size - 1);
  } else {
    Coalesce(data + 1, size - 1);
  }
  return 0;
}

std::vector<std::vector<uint8_t>> FuzzSeeds() {
  // A TCP/IPv4 piece: 20-byte IPv4 + 20-byte TCP + 3000 bytes, TSO at 1000.
  auto tcp4 = [](size_t payload, uint32_t seq, uint16_t id, uint8_t flags, uint8_t sport_lo = 0x40) {
    std::vector<uint8_t> p(40 + payload);
    p[0] = 0x45;
    p[2] = static_cast<uint8_t>(p.size() >> 8);
    p[3] = static_cast<uint8_t>(p.size());
    p[4] = static_cast<uint8_t>(id >> 8);
    p[5] = static_cast<uint8_t>(id);
    p[6] = 0x40;
    p[8] = 64;
    p[9] = 6;
    const uint8_t addrs[8] = {192, 0, 2, 1, 198, 51, 100, 1};
    std::memcpy(&p[12], addrs, 8);
    p[20] = 0x9c;
    p[21] = sport_lo;
    p[22] = 0x14;
    p[23] = 0x51;
    for (int i = 0; i < 4; ++i) p[24 + i] = static_cast<uint8_t>(seq >> (24 - 8 * i));
    p[32] = 0x50;
    p[33] = flags;
    p[34] = 0x20;
    for (size_t i = 0; i < payload; ++i) p[40 + i] = static_cast<uint8_t>(i * 7);
    std::byte* b = reinterpret_cast<std::byte*>(p.data());
    ip::SetIpv4Checksum(b, 20);
    uint32_t sum = ip::PseudoHeaderSum(b + 12, b + 16, false, 6, static_cast<uint32_t>(p.size() - 20));
    const uint16_t c = static_cast<uint16_t>(~ip::ChecksumFold(ip::ChecksumPartial(Bytes(b + 20, p.size() - 20), sum)));
    p[36] = static_cast<uint8_t>(c >> 8);
    p[37] = static_cast<uint8_t>(c);
    return p;
  };
  std::vector<std::vector<uint8_t>> seeds;
  // Segmentation: vnet header (NEEDS_CSUM, TCPV4, hdr_len 40, gso_size 1000, csum 20/16).
  std::vector<uint8_t> s = {0, 1, 1, 40, 0, 0xe8, 0x03, 20, 0, 16, 0};
  auto piece = tcp4(3000, 1000, 7, 0x18);
  s.insert(s.end(), piece.begin(), piece.end());
  seeds.push_back(s);
  // Coalescing: four in-sequence segments, then one of another flow.
  std::vector<uint8_t> c = {1};
  for (int i = 0; i < 4; ++i) {
    auto seg = tcp4(1000, 1000 + 1000 * static_cast<uint32_t>(i), static_cast<uint16_t>(7 + i), 0x10);
    c.push_back(static_cast<uint8_t>(seg.size() >> 8));
    c.push_back(static_cast<uint8_t>(seg.size()));
    c.insert(c.end(), seg.begin(), seg.end());
  }
  auto other = tcp4(500, 5, 1, 0x18);
  other[21] = 0x41;  // another source port (checksum now wrong: written alone)
  c.push_back(static_cast<uint8_t>(other.size() >> 8));
  c.push_back(static_cast<uint8_t>(other.size()));
  c.insert(c.end(), other.begin(), other.end());
  seeds.push_back(c);
  // A single packet whose checksum the kernel left to us (NEEDS_CSUM, no GSO).
  std::vector<uint8_t> one = {0, 1, 0, 0, 0, 0, 0, 20, 0, 16, 0};
  auto single = tcp4(300, 9, 3, 0x18);
  single[36] = single[37] = 0;
  one.insert(one.end(), single.begin(), single.end());
  seeds.push_back(one);
  // Two flows interleaved, a gap, a PSH that ends a group.
  auto batch = [](const std::vector<std::vector<uint8_t>>& pkts) {
    std::vector<uint8_t> b = {1};
    for (const auto& q : pkts) {
      b.push_back(static_cast<uint8_t>(q.size() >> 8));
      b.push_back(static_cast<uint8_t>(q.size()));
      b.insert(b.end(), q.begin(), q.end());
    }
    return b;
  };
  seeds.push_back(batch({tcp4(800, 0, 1, 0x10), tcp4(800, 0, 1, 0x10, 0x41), tcp4(800, 800, 2, 0x10),
                         tcp4(800, 800, 2, 0x10, 0x41), tcp4(800, 1600, 3, 0x18), tcp4(800, 1600, 3, 0x10, 0x41)}));
  seeds.push_back(batch({tcp4(600, 0, 1, 0x10), tcp4(600, 600, 2, 0x10), tcp4(600, 3000, 3, 0x10),
                         tcp4(600, 3600, 4, 0x10), tcp4(100, 4200, 5, 0x10), tcp4(600, 4300, 6, 0x10)}));
  return seeds;
}
