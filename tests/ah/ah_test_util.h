// Packet builders and SA helpers for the AH tests.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "host/ah/ah_sa.h"
#include "host/common/ip.h"
#include "host/common/packet_buf.h"
#include "host/sa/sa_config.h"
#include "host/sa/sa_stats.h"

namespace ipsec::ah::testing {

using Packet = std::vector<std::byte>;

inline std::byte B(int v) { return std::byte(static_cast<uint8_t>(v)); }

inline Packet Pattern(size_t n, int seed = 3) {
  Packet p(n);
  for (size_t i = 0; i < n; ++i) p[i] = B(static_cast<int>(i * 7 + static_cast<size_t>(seed)));
  return p;
}

// One packet in caller-owned memory with head- and tailroom, as the data path expects.
class Buf {
 public:
  explicit Buf(const Packet& pkt, uint32_t headroom = kDefaultHeadroom, uint32_t tailroom = kDefaultTailroom)
      : mem_(headroom + pkt.size() + tailroom, B(0xee)) {
    if (!pkt.empty()) std::memcpy(mem_.data() + headroom, pkt.data(), pkt.size());
    pb_.base = mem_.data();
    pb_.capacity = static_cast<uint32_t>(mem_.size());
    pb_.offset = headroom;
    pb_.length = static_cast<uint32_t>(pkt.size());
  }
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;

  PacketBuf* pb() { return &pb_; }
  Packet bytes() const { return Packet(pb_.data(), pb_.data() + pb_.length); }
  std::byte* data() { return pb_.data(); }
  // Everything behind the packet (tailroom) must be untouched after processing.
  Packet tail() const {
    const std::byte* end = pb_.data() + pb_.length;
    return Packet(end, mem_.data() + mem_.size());
  }

 private:
  std::vector<std::byte> mem_;
  PacketBuf pb_;
};

inline constexpr std::array<uint8_t, 4> kInnerSrc4 = {10, 0, 0, 1};
inline constexpr std::array<uint8_t, 4> kInnerDst4 = {10, 0, 1, 2};
inline constexpr std::array<uint8_t, 16> kInnerSrc6 = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
inline constexpr std::array<uint8_t, 16> kInnerDst6 = {0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

struct Ipv4Opts {
  uint8_t tos = 0;
  uint8_t ttl = 64;
  uint16_t id = 0x1234;
  bool df = true;
  uint8_t proto = ip::kProtoUdp;
  Packet options;  // multiple of 4 bytes
  std::array<uint8_t, 4> src = kInnerSrc4;
  std::array<uint8_t, 4> dst = kInnerDst4;
};

inline Packet Ipv4(size_t payload_len, const Ipv4Opts& o = {}) {
  const size_t ihl = 20 + o.options.size();
  Packet p(ihl + payload_len);
  p[0] = B(0x40 | static_cast<int>(ihl / 4));
  p[1] = B(o.tos);
  StoreU16Be(&p[2], static_cast<uint16_t>(p.size()));
  StoreU16Be(&p[4], o.id);
  StoreU16Be(&p[6], o.df ? 0x4000 : 0);
  p[8] = B(o.ttl);
  p[9] = B(o.proto);
  std::memcpy(&p[12], o.src.data(), 4);
  std::memcpy(&p[16], o.dst.data(), 4);
  if (!o.options.empty()) std::memcpy(&p[20], o.options.data(), o.options.size());
  const Packet pay = Pattern(payload_len);
  if (payload_len != 0) std::memcpy(&p[ihl], pay.data(), payload_len);
  ip::SetIpv4Checksum(p.data(), ihl);
  return p;
}

struct ExtHeader {
  uint8_t type;
  Packet body;  // everything after Next Header and Hdr Ext Len; (size + 2) % 8 == 0
};

struct Ipv6Opts {
  uint8_t tc = 0;
  uint32_t flow = 0;
  uint8_t hop = 64;
  uint8_t proto = ip::kProtoUdp;
  std::vector<ExtHeader> ext;
  std::array<uint8_t, 16> src = kInnerSrc6;
  std::array<uint8_t, 16> dst = kInnerDst6;
};

inline Packet Ipv6(size_t payload_len, const Ipv6Opts& o = {}) {
  Packet p(40);
  StoreU32Be(&p[0], 0x60000000u | (uint32_t{o.tc} << 20) | (o.flow & 0xfffff));
  p[6] = B(o.ext.empty() ? o.proto : o.ext[0].type);
  p[7] = B(o.hop);
  std::memcpy(&p[8], o.src.data(), 16);
  std::memcpy(&p[24], o.dst.data(), 16);
  for (size_t i = 0; i < o.ext.size(); ++i) {
    const uint8_t next = i + 1 < o.ext.size() ? o.ext[i + 1].type : o.proto;
    p.push_back(B(next));
    p.push_back(B(static_cast<int>((o.ext[i].body.size() + 2) / 8 - 1)));
    p.insert(p.end(), o.ext[i].body.begin(), o.ext[i].body.end());
  }
  const Packet pay = Pattern(payload_len);
  p.insert(p.end(), pay.begin(), pay.end());
  StoreU16Be(&p[4], static_cast<uint16_t>(p.size() - 40));
  return p;
}

// A Hop-by-Hop header: Router Alert (type 5, immutable), an RPL-style option (type 0x63, "may
// change" bit set) with 4 bytes of data, and PadN to a multiple of 8.
inline ExtHeader HopByHopWithMutableOption() {
  return ExtHeader{ip::kProtoHopByHop,
                   {B(0x05), B(2), B(0), B(0),                 // Router Alert, value 0
                    B(0x63), B(4), B(0xaa), B(0xbb), B(0xcc), B(0xdd),  // mutable option
                    B(0x01), B(2), B(0), B(0)}};               // PadN
}

inline sa::SaConfig Config(sa::Direction dir, sa::Mode mode, sa::Suite suite, bool esn, bool outer_v6) {
  sa::SaConfig c;
  c.spi = 0x1000;
  c.direction = dir;
  c.protocol = sa::Protocol::kAh;
  c.mode = mode;
  c.suite = suite;
  c.esn = esn;
  if (mode == sa::Mode::kTunnel) {
    c.tunnel_src = *sa::IpAddress::Parse(outer_v6 ? "2001:db8::a" : "192.0.2.1");
    c.tunnel_dst = *sa::IpAddress::Parse(outer_v6 ? "2001:db8::b" : "192.0.2.2");
  }
  return c;
}

inline Packet KeyBytes(size_t n, int seed) {
  Packet k(n);
  for (size_t i = 0; i < n; ++i) k[i] = B(static_cast<int>(i) + seed);
  return k;
}

inline sa::KeyMaterial Keys(sa::Suite suite) {
  sa::KeyMaterial km;
  const sa::SuiteInfo& info = sa::GetSuiteInfo(suite);
  if (info.auth_key_len != 0) km.auth_key = SecureBytes(KeyBytes(info.auth_key_len, 1));
  if (info.enc_key_len != 0) km.enc_key = SecureBytes(KeyBytes(info.enc_key_len + info.salt_len, 0x40));
  return km;
}

class RecordingSink : public sa::SaEventSink {
 public:
  void OnSaEvent(uint32_t spi, sa::Direction, sa::SaEvent event) override { events.emplace_back(spi, event); }
  size_t Count(sa::SaEvent e) const {
    size_t n = 0;
    for (const auto& ev : events) n += ev.second == e ? 1 : 0;
    return n;
  }
  std::vector<std::pair<uint32_t, sa::SaEvent>> events;
};

// Runs one packet through a burst call; returns its status.
inline sa::DropReason Out(AhSa& sa, Buf& b) {
  PacketBuf* p = b.pb();
  sa::DropReason st = sa::DropReason::kCount;
  sa.ProcessOutbound(std::span<PacketBuf* const>(&p, 1), std::span<sa::DropReason>(&st, 1));
  return st;
}
inline sa::DropReason In(AhSa& sa, Buf& b) {
  PacketBuf* p = b.pb();
  sa::DropReason st = sa::DropReason::kCount;
  sa.ProcessInbound(std::span<PacketBuf* const>(&p, 1), std::span<sa::DropReason>(&st, 1));
  return st;
}

}  // namespace ipsec::ah::testing
