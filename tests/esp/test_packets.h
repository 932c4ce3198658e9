// Test support: builds IPv4/IPv6 packets with UDP/TCP/ICMP payloads into pooled PacketBufs, and
// an SA pair (outbound + matching inbound) for any configuration.
#pragma once

#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "host/common/ip.h"
#include "host/common/packet_buf.h"
#include "host/esp/esp_sa.h"

namespace ipsec::esp::testing {

// A fixed pool of buffers, each with default head- and tailroom.
class BufferPool {
 public:
  BufferPool(size_t count, uint32_t size) : storage_(count * size), bufs_(count) {
    for (size_t i = 0; i < count; ++i) {
      bufs_[i].base = storage_.data() + i * size;
      bufs_[i].capacity = size;
    }
  }
  PacketBuf* Get(size_t i) { return &bufs_[i]; }
  // Places `pkt` in buffer i after `headroom` bytes.
  PacketBuf* Load(size_t i, const std::vector<std::byte>& pkt, uint32_t headroom = kDefaultHeadroom) {
    PacketBuf& b = bufs_[i];
    b.offset = headroom;
    b.length = static_cast<uint32_t>(pkt.size());
    if (!pkt.empty()) std::memcpy(b.data(), pkt.data(), pkt.size());
    return &b;
  }
  size_t size() const { return bufs_.size(); }

 private:
  std::vector<std::byte> storage_;
  std::vector<PacketBuf> bufs_;
};

inline std::vector<std::byte> Vec(Bytes b) { return {b.begin(), b.end()}; }

struct PacketSpec {
  bool v6 = false;
  uint8_t proto = ip::kProtoUdp;
  size_t payload_len = 64;
  uint8_t tos = 0;
  uint8_t ttl = 64;
  bool df = false;
  uint32_t seed = 1;
};

// Builds a valid IPv4/IPv6 packet (192.0.2.x / 2001:db8:: documentation addresses) whose L4
// payload is pseudo-random, with correct IPv4 header checksum and UDP checksum.
inline std::vector<std::byte> MakePacket(const PacketSpec& s) {
  std::mt19937 rng(s.seed);
  const size_t l4_hdr = s.proto == ip::kProtoUdp ? 8 : s.proto == ip::kProtoTcp ? 20 : 8;
  const size_t hdr = s.v6 ? 40 : 20;
  std::vector<std::byte> p(hdr + l4_hdr + s.payload_len);
  std::byte* b = p.data();
  if (!s.v6) {
    b[0] = std::byte{0x45};
    b[1] = std::byte{s.tos};
    StoreU16Be(b + 2, static_cast<uint16_t>(p.size()));
    StoreU16Be(b + 4, static_cast<uint16_t>(s.seed));
    StoreU16Be(b + 6, s.df ? 0x4000 : 0);
    b[8] = std::byte{s.ttl};
    b[9] = std::byte{s.proto};
    const uint8_t src[4] = {192, 0, 2, 1}, dst[4] = {198, 51, 100, 7};
    std::memcpy(b + 12, src, 4);
    std::memcpy(b + 16, dst, 4);
    ip::SetIpv4Checksum(b, 20);
  } else {
    b[0] = std::byte(0x60 | (s.tos >> 4));
    b[1] = std::byte((s.tos & 0xf) << 4);
    StoreU16Be(b + 4, static_cast<uint16_t>(p.size() - 40));
    b[6] = std::byte{s.proto};
    b[7] = std::byte{s.ttl};
    const uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    const uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
    std::memcpy(b + 8, src, 16);
    std::memcpy(b + 24, dst, 16);
  }
  std::byte* l4 = b + hdr;
  for (size_t k = 0; k < l4_hdr + s.payload_len; ++k) l4[k] = std::byte(rng() & 0xff);
  if (s.proto == ip::kProtoUdp || s.proto == ip::kProtoTcp) {
    StoreU16Be(l4, 5000);
    StoreU16Be(l4 + 2, 6000);
    size_t csum_off = 6;
    if (s.proto == ip::kProtoUdp) {
      StoreU16Be(l4 + 4, static_cast<uint16_t>(8 + s.payload_len));
    } else {
      l4[12] = std::byte{0x50};  // data offset 5 words
      csum_off = 16;
    }
    StoreU16Be(l4 + csum_off, 0);
    const uint32_t l4_len = static_cast<uint32_t>(l4_hdr + s.payload_len);
    uint32_t sum = ip::PseudoHeaderSum(b + (s.v6 ? 8 : 12), b + (s.v6 ? 24 : 16), s.v6, s.proto, l4_len);
    sum = ip::ChecksumPartial(Bytes(l4, l4_len), sum);
    uint16_t c = static_cast<uint16_t>(~ip::ChecksumFold(sum));
    StoreU16Be(l4 + csum_off, (c == 0 && s.proto == ip::kProtoUdp) ? 0xffff : c);
  }
  return p;
}

// Keys for a suite, derived deterministically from `seed`.
inline sa::KeyMaterial MakeKeys(sa::Suite suite, uint32_t seed) {
  const sa::SuiteInfo& info = sa::GetSuiteInfo(suite);
  std::mt19937 rng(seed);
  std::vector<std::byte> enc(info.enc_key_len + info.salt_len), auth(info.auth_key_len);
  for (auto& x : enc) x = std::byte(rng() & 0xff);
  for (auto& x : auth) x = std::byte(rng() & 0xff);
  sa::KeyMaterial k;
  k.enc_key = SecureBytes(enc);
  k.auth_key = SecureBytes(auth);
  return k;
}

inline sa::KeyMaterial CloneKeys(const sa::KeyMaterial& k) {
  return sa::KeyMaterial{k.enc_key.Clone(), k.auth_key.Clone()};
}

struct SaPair {
  std::unique_ptr<EspSa> out;
  std::unique_ptr<EspSa> in;
};

// Outbound SA from `cfg` and its inbound twin (same SPI, keys, mode, encap; replay window set).
inline SaPair MakeSaPair(sa::SaConfig cfg, uint32_t key_seed = 7,
                         crypto::Provider out_provider = crypto::Provider::kAuto,
                         crypto::Provider in_provider = crypto::Provider::kAuto,
                         sa::SaEventSink* out_events = nullptr, sa::SaEventSink* in_events = nullptr) {
  sa::KeyMaterial keys = MakeKeys(cfg.suite, key_seed);
  SaPair p;
  cfg.direction = sa::Direction::kOutbound;
  auto o = EspSa::Create(cfg, CloneKeys(keys), out_provider, out_events);
  cfg.direction = sa::Direction::kInbound;
  auto i = EspSa::Create(cfg, std::move(keys), in_provider, in_events);
  if (o.ok()) p.out = std::move(o).value();
  if (i.ok()) p.in = std::move(i).value();
  return p;
}

inline sa::SaConfig TunnelConfig(sa::Suite suite, bool outer_v6) {
  sa::SaConfig c;
  c.spi = 0x1000 + static_cast<uint32_t>(suite);
  c.suite = suite;
  c.mode = sa::Mode::kTunnel;
  c.tunnel_src = *sa::IpAddress::Parse(outer_v6 ? "2001:db8:ffff::1" : "198.18.0.1");
  c.tunnel_dst = *sa::IpAddress::Parse(outer_v6 ? "2001:db8:ffff::2" : "198.18.0.2");
  return c;
}

}  // namespace ipsec::esp::testing
