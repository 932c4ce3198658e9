// libFuzzer target: the ESP inbound path (LocateEsp, EspSa::ProcessInbound, InboundSad) on
// untrusted packets, for several SA configurations.
//
// Input layout: byte 0 selects the mode (value % 3), the rest depends on it.
//   0 raw:        rest = a received packet. Fed to every inbound SA and, as a burst of two copies,
//                 to an InboundSad holding all of them. Almost never authenticates; covers header
//                 parsing, SPI/length/alignment checks and the replay pre-check.
//   1 crafted:    [cfg][flags][seq_low:4][top:8] plaintext... The plaintext (payload, padding, pad
//                 length, next header: all fuzzer-controlled) is sealed with the SA's own keys
//                 (EspCipher, same suite and keys) behind a well-formed outer header, so it passes
//                 the ICV and reaches the code behind it: padding check, next header, inner packet
//                 checks, ECN, TTL, transport-mode header surgery. `top` restores the replay
//                 window first, so ESN inference and window edges are reached too.
//                 Checks: an authentic packet never fails with kAuthFailed; an accepted packet
//                 replayed in the same burst fails with kReplay.
//   2 round trip: [cfg] inner packet... Encapsulated by the outbound twin SA; when that succeeds,
//                 decapsulation must give the original packet back (modulo the few fields the
//                 transforms legitimately rewrite, see RoundTrip()).
// The oracles abort(), so libFuzzer and the corpus test (tests/fuzz) report them as crashes.
//
// State is reset before every input (RestoreState), so each input runs the same way alone.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "fuzz/sa_fuzz_support.h"
#include "host/common/bytes.h"
#include "host/common/ip.h"
#include "host/common/packet_buf.h"
#include "host/esp/esp_cipher.h"
#include "host/esp/esp_packet.h"
#include "host/esp/esp_sa.h"
#include "host/esp/inbound_sad.h"

namespace {

using namespace ipsec;        // NOLINT: harness-local brevity
using namespace ipsec::fuzz;  // NOLINT
using sa::DropReason;

constexpr size_t kCraftedHeader = 1 + 1 + 1 + 4 + 8;  // mode, cfg, flags, seq_low, top

sa::IpAddress Addr(const char* s) { return *sa::IpAddress::Parse(s); }

struct Entry {
  sa::SaConfig cfg;
  std::unique_ptr<esp::EspSa> in, out;
  std::unique_ptr<esp::EspCipher> cipher;  // same suite and keys, for crafting authentic packets
};

struct Harness {
  std::vector<Entry> entries;
  esp::InboundSad sad;
  std::vector<std::byte> storage = std::vector<std::byte>(2 * size_t{kSlot});
  PacketBuf bufs[2];

  Harness() {
    std::vector<sa::SaConfig> cfgs;
    sa::SaConfig c;
    // 0: AES-GCM-128 tunnel over IPv4.
    c.suite = sa::Suite::kAesGcm128;
    c.mode = sa::Mode::kTunnel;
    c.tunnel_src = Addr("198.18.0.1");
    c.tunnel_dst = Addr("198.18.0.2");
    cfgs.push_back(c);
    // 1: AES-CBC-128 + HMAC-SHA-256 transport in UDP (RFC 3948).
    c = sa::SaConfig{};
    c.suite = sa::Suite::kAesCbc128HmacSha256;
    c.mode = sa::Mode::kTransport;
    c.udp_encap = sa::UdpEncap{};
    cfgs.push_back(c);
    // 2: AES-GCM-256 tunnel over IPv6, ESN, large window, outer address check.
    c = sa::SaConfig{};
    c.suite = sa::Suite::kAesGcm256;
    c.tunnel_src = Addr("2001:db8:ffff::1");
    c.tunnel_dst = Addr("2001:db8:ffff::2");
    c.esn = true;
    c.replay_window = 1024;
    c.verify_tunnel_addresses = true;
    cfgs.push_back(c);
    // 3: ChaCha20-Poly1305 transport, ESN, anti-replay off.
    c = sa::SaConfig{};
    c.suite = sa::Suite::kChaCha20Poly1305;
    c.mode = sa::Mode::kTransport;
    c.esn = true;
    c.replay_window = 0;
    cfgs.push_back(c);
    // 4: AES-GMAC tunnel over IPv4, ECN compatibility mode, inner TTL decrement.
    c = sa::SaConfig{};
    c.suite = sa::Suite::kAesGmac128;
    c.tunnel_src = Addr("198.18.0.1");
    c.tunnel_dst = Addr("198.18.0.2");
    c.ecn_mode = sa::EcnMode::kCompat;
    c.decrement_inner_ttl = true;
    cfgs.push_back(c);
    // 5: NULL + HMAC tunnel over IPv6 in UDP, ESN.
    c = sa::SaConfig{};
    c.suite = sa::Suite::kNullHmacSha256;
    c.tunnel_src = Addr("2001:db8:ffff::1");
    c.tunnel_dst = Addr("2001:db8:ffff::2");
    c.udp_encap = sa::UdpEncap{4500, 4500};
    c.esn = true;
    cfgs.push_back(c);
    // 6: AES-CBC-256 + HMAC tunnel over IPv4 in UDP, small window.
    c = sa::SaConfig{};
    c.suite = sa::Suite::kAesCbc256HmacSha256;
    c.tunnel_src = Addr("198.18.0.1");
    c.tunnel_dst = Addr("198.18.0.2");
    c.udp_encap = sa::UdpEncap{4500, 4500};
    c.replay_window = 32;
    cfgs.push_back(c);

    for (size_t i = 0; i < cfgs.size(); ++i) {
      Entry e;
      e.cfg = cfgs[i];
      e.cfg.spi = 0x100 + static_cast<uint32_t>(i);
      const uint8_t tag = static_cast<uint8_t>(i);
      e.cfg.direction = sa::Direction::kInbound;
      e.in = std::move(esp::EspSa::Create(e.cfg, Keys(e.cfg.suite, tag), crypto::Provider::kAuto)).value();
      e.cfg.direction = sa::Direction::kOutbound;
      e.out = std::move(esp::EspSa::Create(e.cfg, Keys(e.cfg.suite, tag), crypto::Provider::kAuto)).value();
      e.cipher = std::move(esp::EspCipher::Create(e.cfg.suite, Keys(e.cfg.suite, tag), crypto::Provider::kAuto, e.cfg.esn)).value();
      FUZZ_CHECK(e.in && e.out && e.cipher);
      FUZZ_CHECK(sad.Add(e.in.get()).ok());
      entries.push_back(std::move(e));
    }
    for (size_t i = 0; i < 2; ++i) {
      bufs[i].base = storage.data() + i * kSlot;
      bufs[i].capacity = kSlot;
    }
  }

  void Reset(uint64_t top = 0) {
    for (Entry& e : entries) {
      FUZZ_CHECK(e.in->RestoreState(1, top).ok());
      FUZZ_CHECK(e.out->RestoreState(1, 0).ok());
    }
  }

  PacketBuf* Load(size_t i, Bytes pkt) {
    PacketBuf& b = bufs[i];
    b.offset = kHead;
    b.length = static_cast<uint32_t>(pkt.size());
    if (!pkt.empty()) std::memcpy(b.data(), pkt.data(), pkt.size());
    return &b;
  }

  // The output of a successful transform must lie inside its buffer.
  void CheckBounds(const PacketBuf& b) const {
    FUZZ_CHECK(b.offset <= b.capacity && b.length <= b.capacity - b.offset);
  }
};

Harness& H() {
  static Harness* h = new Harness();  // never destroyed: libFuzzer exits without unwinding
  return *h;
}

void Raw(Bytes pkt) {
  Harness& h = H();
  h.Reset();
  (void)esp::LocateEspAny(pkt);
  for (Entry& e : h.entries) {
    PacketBuf* p = h.Load(0, pkt);
    DropReason st{};
    e.in->ProcessInbound(std::span<PacketBuf* const>(&p, 1), std::span<DropReason>(&st, 1));
    if (st == DropReason::kOk) h.CheckBounds(*p);
  }
  h.Reset();
  PacketBuf* burst[2] = {h.Load(0, pkt), h.Load(1, pkt)};
  DropReason st[2] = {};
  esp::EspSa* used[2] = {};
  h.sad.ProcessInbound(burst, st, used);
  if (st[0] == DropReason::kOk) {
    // An accepted packet's copy in the same burst is a replay (RFC 4303 §3.4.3).
    FUZZ_CHECK(used[0] != nullptr);
    h.CheckBounds(*burst[0]);
    if (used[0]->config().replay_window != 0) FUZZ_CHECK(st[1] == DropReason::kReplay);
  }
}

// Builds an authentic ESP packet around `plain` for entry `e` into buffer 0.
PacketBuf* Craft(Entry& e, uint8_t flags, uint32_t seq_low, uint64_t seq, Bytes plain) {
  Harness& h = H();
  const size_t iv_len = e.cipher->iv_len();
  const size_t text_len = plain.size() / e.cipher->align() * e.cipher->align();
  const bool tunnel = e.cfg.mode == sa::Mode::kTunnel;
  const bool v6 = tunnel ? e.cfg.tunnel_dst->v6 : (flags & 0x80) != 0;
  const size_t ip_len = v6 ? ip::kIpv6Header : ip::kIpv4MinHeader;
  const size_t udp_len = e.cfg.udp_encap ? ip::kUdpHeader : 0;
  const size_t esp_len = 8 + iv_len + text_len + 16;
  const size_t total = ip_len + udp_len + esp_len;
  if (total > 65535) return nullptr;
  PacketBuf& b = h.bufs[0];
  b.offset = kHead;
  b.length = static_cast<uint32_t>(total);
  std::byte* p = b.data();
  std::memset(p, 0, ip_len + udp_len);
  const uint8_t tos = flags;  // outer DSCP and ECN (bit 7 also picks the transport-mode family)
  const uint8_t proto = e.cfg.udp_encap ? ip::kProtoUdp : ip::kProtoEsp;
  sa::IpAddress src = tunnel ? *e.cfg.tunnel_src : Addr(v6 ? "2001:db8::1" : "192.0.2.1");
  sa::IpAddress dst = tunnel ? *e.cfg.tunnel_dst : Addr(v6 ? "2001:db8::7" : "198.51.100.7");
  if (!v6) {
    p[0] = std::byte{0x45};
    p[1] = std::byte{tos};
    StoreU16Be(p + 2, static_cast<uint16_t>(total));
    p[8] = std::byte{64};
    p[9] = std::byte{proto};
    std::memcpy(p + 12, src.bytes.data(), 4);
    std::memcpy(p + 16, dst.bytes.data(), 4);
    ip::SetIpv4Checksum(p, ip_len);
  } else {
    ip::SetIpv6TrafficClass(p, tos);
    p[0] = std::byte((U8(p[0]) & 0x0f) | 0x60);
    StoreU16Be(p + 4, static_cast<uint16_t>(total - ip_len));
    p[6] = std::byte{proto};
    p[7] = std::byte{64};
    std::memcpy(p + 8, src.bytes.data(), 16);
    std::memcpy(p + 24, dst.bytes.data(), 16);
  }
  if (udp_len != 0) {
    StoreU16Be(p + ip_len, e.cfg.udp_encap->src_port);
    StoreU16Be(p + ip_len + 2, e.cfg.udp_encap->dst_port);
    StoreU16Be(p + ip_len + 4, static_cast<uint16_t>(udp_len + esp_len));  // checksum 0
  }
  std::byte* esp = p + ip_len + udp_len;
  StoreU32Be(esp, e.cfg.spi);
  StoreU32Be(esp + 4, seq_low);
  if (text_len != 0) std::memcpy(esp + 8 + iv_len, plain.data(), text_len);
  // The same cipher as the SA's, so the packet authenticates and the checks after the ICV run.
  esp::EspCryptoOp op{esp, text_len, seq, false};
  e.cipher->SealBurst({&op, 1});
  return &b;
}

void Crafted(const uint8_t* data, size_t size) {
  if (size < kCraftedHeader) return;
  Harness& h = H();
  Entry& e = h.entries[data[1] % h.entries.size()];
  const uint8_t flags = data[2];
  const uint32_t seq_low = LoadU32Be(reinterpret_cast<const std::byte*>(data + 3));
  uint64_t top = LoadU64Be(reinterpret_cast<const std::byte*>(data + 7));
  if (!e.cfg.esn) top &= 0xffffffffULL;
  h.Reset(top);
  const uint64_t seq = e.in->replay().InferSeq(seq_low);
  const Bytes plain = AsBytes(data + kCraftedHeader, size - kCraftedHeader);
  PacketBuf* p = Craft(e, flags, seq_low, seq, plain);
  if (p == nullptr) return;
  PacketBuf* copy = h.Load(1, p->span());
  PacketBuf* burst[2] = {p, copy};
  DropReason st[2] = {};
  e.in->ProcessInbound(burst, st);
  // Authentic by construction: the ICV must verify.
  FUZZ_CHECK(st[0] != DropReason::kAuthFailed);
  FUZZ_CHECK(st[1] != DropReason::kAuthFailed);
  if (st[0] == DropReason::kOk) {
    h.CheckBounds(*p);
    if (e.cfg.replay_window != 0) FUZZ_CHECK(st[1] == DropReason::kReplay);
  }
}

bool Ipv4HeaderChecksumOk(Bytes pkt) {
  const ip::IpInfo info = ip::ParseIp(pkt, false);
  return info.version != 4 || ip::Ipv4ChecksumOk(pkt.data(), info.header_len);
}

void RoundTrip(const uint8_t* data, size_t size) {
  if (size < 2) return;
  Harness& h = H();
  h.Reset();
  Entry& e = h.entries[data[1] % h.entries.size()];
  const Bytes inner = AsBytes(data + 2, size - 2);
  PacketBuf* p = h.Load(0, inner);
  DropReason st{};
  e.out->ProcessOutbound(std::span<PacketBuf* const>(&p, 1), std::span<DropReason>(&st, 1));
  if (st != DropReason::kOk) return;
  h.CheckBounds(*p);
  e.in->ProcessInbound(std::span<PacketBuf* const>(&p, 1), std::span<DropReason>(&st, 1));
  const bool tunnel = e.cfg.mode == sa::Mode::kTunnel;
  const bool header_ok = Ipv4HeaderChecksumOk(inner);
  // What the inbound side may legitimately refuse after our own outbound side accepted a packet:
  // the tunnel decapsulator checks the inner IPv4 header checksum (outbound does not), and the
  // TTL-decrementing SA refuses TTL <= 1.
  if (st == DropReason::kBadInner && tunnel && !header_ok) return;
  if (st == DropReason::kTtlExceeded && e.cfg.decrement_inner_ttl) return;
  // Outbound refuses what inbound would refuse in transport mode (next header 59, IPv6
  // fragments; regression: corpus/esp_inbound_fuzzer/regress-v6-transport-fragment), so a packet
  // our own outbound side accepted must come back.
  if (st != DropReason::kOk) {
    std::fprintf(stderr, "round trip: cfg %u, decap failed: %.*s\n", static_cast<unsigned>(data[1] % h.entries.size()),
                 static_cast<int>(sa::DropReasonName(st).size()), sa::DropReasonName(st).data());
    FUZZ_CHECK(st == DropReason::kOk);
  }
  h.CheckBounds(*p);
  FUZZ_CHECK(p->length == inner.size());
  if (e.cfg.decrement_inner_ttl) return;  // TTL and checksum rewritten
  if (!tunnel && e.cfg.udp_encap) return;  // RFC 3948 §3.1.2: transport-mode L4 checksum recomputed
  std::vector<std::byte> want(inner.begin(), inner.end());
  if (!tunnel && !header_ok) {
    // Transport mode recomputes the IPv4 header checksum on the way out and back.
    want[10] = p->data()[10];
    want[11] = p->data()[11];
  }
  FUZZ_CHECK(std::memcmp(p->data(), want.data(), want.size()) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 65535) return 0;
  switch (data[0] % 3) {
    case 0:
      Raw(fuzz::AsBytes(data + 1, size - 1));
      break;
    case 1:
      Crafted(data, size);
      break;
    default:
      RoundTrip(data, size);
      break;
  }
  return 0;
}

// Seed inputs for the corpus (fuzz/corpus/esp_inbound_fuzzer, written by the corpus test with
// IPSEC_WRITE_FUZZ_CORPUS set): raw ESP packets of every configuration, crafted plaintexts with
// valid and invalid trailers, and round-trip packets.
std::vector<std::vector<uint8_t>> FuzzSeeds() {
  std::vector<std::vector<uint8_t>> seeds;
  Harness& h = H();
  // A small UDP/IPv4 packet and a UDP/IPv6 packet (192.0.2.1 -> 198.51.100.7, 2001:db8::1 -> ::7).
  const auto udp = [](bool v6, size_t payload) {
    const size_t hl = v6 ? 40 : 20;
    std::vector<uint8_t> p(hl + 8 + payload);
    if (!v6) {
      const uint8_t hdr[20] = {0x45, 0, 0, 0, 0, 1, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 198, 51, 100, 7};
      std::memcpy(p.data(), hdr, 20);
      StoreU16Be(reinterpret_cast<std::byte*>(p.data() + 2), static_cast<uint16_t>(p.size()));
      ip::SetIpv4Checksum(reinterpret_cast<std::byte*>(p.data()), 20);
    } else {
      p[0] = 0x60;
      StoreU16Be(reinterpret_cast<std::byte*>(p.data() + 4), static_cast<uint16_t>(p.size() - 40));
      p[6] = 17;
      p[7] = 64;
      p[8] = 0x20, p[9] = 0x01, p[10] = 0x0d, p[11] = 0xb8, p[23] = 1;
      p[24] = 0x20, p[25] = 0x01, p[26] = 0x0d, p[27] = 0xb8, p[39] = 7;
    }
    StoreU16Be(reinterpret_cast<std::byte*>(p.data() + hl), 5000);
    StoreU16Be(reinterpret_cast<std::byte*>(p.data() + hl + 2), 6000);
    StoreU16Be(reinterpret_cast<std::byte*>(p.data() + hl + 4), static_cast<uint16_t>(8 + payload));
    for (size_t i = 0; i < payload; ++i) p[hl + 8 + i] = static_cast<uint8_t>('a' + i % 26);
    return p;
  };
  const std::vector<uint8_t> pkts[2] = {udp(false, 24), udp(true, 13)};
  for (size_t c = 0; c < h.entries.size(); ++c) {
    for (const auto& inner : pkts) {
      // Round trip.
      seeds.push_back(fuzz::WithPrefix({2, static_cast<uint8_t>(c)}, inner));
      // Raw: the same packet encapsulated by the outbound SA.
      h.Reset();
      PacketBuf* p = h.Load(0, fuzz::AsBytes(inner));
      DropReason st{};
      h.entries[c].out->ProcessOutbound(std::span<PacketBuf* const>(&p, 1), std::span<DropReason>(&st, 1));
      if (st == DropReason::kOk) seeds.push_back(fuzz::WithPrefix({0}, p->span()));
    }
    // Crafted: inner packet + padding 1,2,.. + pad length + next header, aligned to 16 (fits every
    // suite); a tunnel SA wants next header 4 (IPv4), a transport SA the L4 protocol (17).
    const bool tunnel = h.entries[c].cfg.mode == sa::Mode::kTunnel;
    for (int variant = 0; variant < 2; ++variant) {
      std::vector<uint8_t> cr = {1, static_cast<uint8_t>(c), 0x02, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 4};
      std::vector<uint8_t> plain;
      if (tunnel) {
        plain = pkts[0];
      } else {
        plain.assign(pkts[0].begin() + 20, pkts[0].end());  // transport: the UDP segment
      }
      const size_t pad = (16 - (plain.size() + 2) % 16) % 16;
      for (size_t k = 0; k < pad; ++k) plain.push_back(static_cast<uint8_t>(variant == 0 ? k + 1 : 0xee));
      plain.push_back(static_cast<uint8_t>(pad));
      plain.push_back(tunnel ? 4 : 17);
      cr.insert(cr.end(), plain.begin(), plain.end());
      seeds.push_back(cr);
    }
  }
  // A dummy (next header 59) crafted packet and a NAT-T keepalive/IKE-looking raw packet.
  seeds.push_back({1, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 8, 1, 2, 2, 59});
  seeds.push_back({0, 0x45, 0, 0, 29, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 198, 51, 100, 7,
                   0x11, 0x94, 0x11, 0x94, 0, 9, 0, 0, 0xff});
  return seeds;
}
