// ESP SA data path (RFC 4303): outbound encapsulation and inbound decapsulation in place.
#include "host/esp/esp_sa.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>

#include "host/common/ip.h"
#include "host/esp/esp_packet.h"

namespace ipsec::esp {

using sa::DropReason;

namespace {
constexpr size_t kEspHeader = 8;  // SPI + sequence number
constexpr size_t kIcv = 16;
constexpr size_t kChunk = 32;     // packets per crypto burst
// Internal verdict of DecapPrepare: process the chunk so far before this packet.
constexpr DropReason kSplitChunk = DropReason::kCount;

// ESP alignments are powers of two (4, or the 16-byte AES block), so rounding and the alignment
// check are masks rather than divisions.
size_t RoundUp(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }
bool Aligned(size_t v, size_t a) { return (v & (a - 1)) == 0; }

// ESP padding bytes 1, 2, 3, ... (RFC 4303 §2.4), for writing and checking padding with memcpy and
// memcmp instead of a byte loop.
constexpr auto kPadBytes = [] {
  std::array<std::byte, 255> a{};
  for (size_t i = 0; i < a.size(); ++i) a[i] = std::byte(i + 1);
  return a;
}();

// Whether the `pad` bytes at `p` read 1, 2, 3, ... (RFC 4303 §2.4). Up to 8 bytes (the usual
// case) with one 8-byte load and a mask: the pad-length and next-header bytes and the 16-byte ICV
// always follow the padding, so the load stays inside the packet.
inline bool PaddingOk(const std::byte* p, size_t pad) {
  if (pad > 8 || std::endian::native != std::endian::little) return std::memcmp(p, kPadBytes.data(), pad) == 0;
  if (pad == 0) return true;
  uint64_t got, want;
  std::memcpy(&got, p, 8);
  std::memcpy(&want, kPadBytes.data(), 8);
  const uint64_t mask = ~uint64_t{0} >> (64 - 8 * pad);
  return ((got ^ want) & mask) == 0;
}

// One's-complement sum (RFC 1071) of an IPv4 header, inlined so that the common 20-byte header is
// summed unrolled: 0xffff exactly when ip::Ipv4ChecksumOk(hdr, hdr_len) holds.
inline uint16_t Ipv4HeaderSum(const std::byte* hdr, size_t hdr_len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < hdr_len; i += 2) sum += LoadU16Be(hdr + i);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// The 20-byte option-less IPv4 header's sum, from five 32-bit loads: same value as
// Ipv4HeaderSum(hdr, 20). Both are end-around-carry sums of the same words, so they agree modulo
// 0xffff, and both fold a nonzero total into [1, 0xffff] and an all-zero header to 0.
inline uint16_t Ipv4MinHeaderSum(const std::byte* hdr) {
  uint64_t sum = uint64_t{LoadU32Be(hdr)} + LoadU32Be(hdr + 4) + LoadU32Be(hdr + 8) + LoadU32Be(hdr + 12) +
                 LoadU32Be(hdr + 16);
  sum = (sum & 0xffffffff) + (sum >> 32);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// LocateEsp for the common inbound case, inlined: an IPv4 outer header and an SA without UDP
// encapsulation. Fills `loc` exactly as LocateEsp(pkt, false) would and returns true; returns false
// (loc untouched) for anything else (IPv6, or a packet LocateEsp rejects), which then takes the
// general LocateEsp and its error mapping.
inline bool LocateEspIpv4(Bytes pkt, EspLocation* loc) {
  if (pkt.size() < ip::kIpv4MinHeader || (U8(pkt[0]) >> 4) != 4) return false;
  const size_t ihl = size_t{U8(pkt[0]) & 0x0fu} * 4;
  const size_t total = LoadU16Be(&pkt[2]);
  if (ihl < ip::kIpv4MinHeader || total < ihl || total > pkt.size()) return false;
  if ((LoadU16Be(&pkt[6]) & 0x3fff) != 0) return false;  // fragment
  if (U8(pkt[9]) != ip::kProtoEsp) return false;           // not ESP (or ESP in UDP)
  if (ihl + kEspHeader > total) return false;              // truncated ESP header
  loc->ip_version = 4;
  loc->ip_total_len = total;
  loc->pre_esp_len = ihl;
  loc->nh_offset = 9;
  loc->esp_offset = ihl;
  loc->spi = LoadU32Be(&pkt[ihl]);
  loc->seq_low = LoadU32Be(&pkt[ihl + 4]);
  return true;
}

// One's-complement sum of an IPv4 address's two 16-bit words.
uint32_t AddrSum(const sa::IpAddress& a) {
  return (uint32_t{a.bytes[0]} << 8 | a.bytes[1]) + (uint32_t{a.bytes[2]} << 8 | a.bytes[3]);
}

// Rewrites the ECN bits of an inner packet's header in place (RFC 6040 decapsulation).
void SetInnerEcn(std::byte* hdr, uint8_t version, size_t ihl, uint8_t ecn) {
  if (version == 4) {
    hdr[1] = std::byte((U8(hdr[1]) & 0xfc) | ecn);
    ip::SetIpv4Checksum(hdr, ihl);
  } else {
    hdr[1] = std::byte((U8(hdr[1]) & 0xcf) | (ecn << 4));
  }
}

// Recomputes a TCP or UDP checksum over a transport-mode packet whose addresses were changed by a
// NAT (RFC 3948 §3.1.2). `l4` spans the whole transport segment.
void FixL4Checksum(std::byte* ip_hdr, uint8_t version, uint8_t proto, MutableBytes l4) {
  const size_t csum_off = proto == ip::kProtoTcp ? 16 : 6;
  if (l4.size() < csum_off + 2) return;
  if (proto == ip::kProtoUdp && version == 4 && LoadU16Be(&l4[6]) == 0) return;  // no checksum in use
  const bool v6 = version == 6;
  const std::byte* src = ip_hdr + (v6 ? 8 : 12);
  const std::byte* dst = ip_hdr + (v6 ? 24 : 16);
  StoreU16Be(&l4[csum_off], 0);
  uint32_t sum = ip::PseudoHeaderSum(src, dst, v6, proto, static_cast<uint32_t>(l4.size()));
  sum = ip::ChecksumPartial(l4, sum);
  uint16_t c = static_cast<uint16_t>(~ip::ChecksumFold(sum));
  if (c == 0 && proto == ip::kProtoUdp) c = 0xffff;
  StoreU16Be(&l4[csum_off], c);
}
}  // namespace

StatusOr<std::unique_ptr<EspSa>> EspSa::Create(const sa::SaConfig& config, sa::KeyMaterial keys,
                                               crypto::Provider provider, sa::SaEventSink* events) {
  if (config.protocol != sa::Protocol::kEsp) return InvalidArgumentError("EspSa needs an ESP SA");
  RETURN_IF_ERROR(config.Validate());
  ASSIGN_OR_RETURN(auto cipher, EspCipher::Create(config.suite, keys, provider, config.esn));
  // The key material has been expanded into the cipher; `keys` zeroizes itself on return.
  return std::unique_ptr<EspSa>(new EspSa(config, std::move(cipher), events));
}

EspSa::EspSa(const sa::SaConfig& config, std::unique_ptr<EspCipher> cipher, sa::SaEventSink* events)
    : config_(config),
      cipher_(std::move(cipher)),
      events_(events),
      max_seq_(config.esn ? std::numeric_limits<uint64_t>::max() : 0xffffffffULL),
      next_seq_(config.initial_seq),
      replay_(config.direction == sa::Direction::kInbound ? config.replay_window : 0, config.esn),
      lifetime_(config.lifetime) {}

Status EspSa::RestoreState(uint64_t next_seq, uint64_t replay_top) {
  if (next_seq == 0 || next_seq > max_seq_) return OutOfRangeError("sequence number outside the SA's space");
  next_seq_ = next_seq;
  seq_exhausted_ = false;
  replay_.Reset(replay_top);
  return OkStatus();
}

uint32_t EspSa::MaxHeadroom() const {
  size_t outer = 0;
  if (config_.mode == sa::Mode::kTunnel) outer = config_.tunnel_dst->v6 ? ip::kIpv6Header : ip::kIpv4MinHeader;
  if (config_.udp_encap) outer += ip::kUdpHeader;
  return static_cast<uint32_t>(outer + kEspHeader + cipher_->iv_len());
}

uint32_t EspSa::MaxTailroom() const { return static_cast<uint32_t>(cipher_->align() - 1 + 2 + kIcv); }

namespace {
// With no lifetime limit configured, accounting can neither raise an event nor stop the SA, so the
// data path accounts a whole burst at once instead of per packet.
bool HasLifetimeLimit(const sa::Lifetime& l) {
  return l.soft_bytes != 0 || l.hard_bytes != 0 || l.soft_packets != 0 || l.hard_packets != 0;
}
}  // namespace

void EspSa::Drop(DropReason r, DropReason* slot) {
  *slot = r;
  ++counters_.drops[static_cast<size_t>(r)];
}

size_t EspSa::ProcessOutbound(std::span<PacketBuf* const> pkts, std::span<DropReason> status) {
  const size_t n = std::min(pkts.size(), status.size());
  if (config_.direction != sa::Direction::kOutbound) {
    for (size_t i = 0; i < n; ++i) Drop(DropReason::kWrongDirection, &status[i]);
    return 0;
  }
  // Reserve this burst's sequence numbers up front (DPDK esn_outb_update_sqn): they are never
  // handed out twice, even if a packet below fails and leaves a gap.
  const uint64_t avail = seq_exhausted_ ? 0 : max_seq_ - next_seq_ + 1;
  const size_t take = static_cast<size_t>(std::min<uint64_t>(n, avail));
  const uint64_t base = next_seq_;
  if (take == avail && take != 0) {
    seq_exhausted_ = true;  // the last number is used in this burst
  } else {
    next_seq_ += take;
  }
  const bool per_packet_lifetime = HasLifetimeLimit(config_.lifetime);
  size_t ok = 0;
  uint64_t ok_bytes = 0;
  // Chunks: headers for up to kChunk packets are built first, then one crypto burst, then the
  // bookkeeping. Lifetimes stay exact: a packet is refused once the packets already accepted in
  // this chunk would have crossed the hard limit.
  std::array<EspCryptoOp, kChunk> ops;
  std::array<uint32_t, kChunk> index;
  std::array<uint32_t, kChunk> inner_len;
  std::array<uint16_t, kChunk> udp6_pre;  // IPv6 ESP-in-UDP: offset of the UDP header, else 0
  for (size_t c = 0; c < n; c += kChunk) {
    const size_t end = std::min(n, c + kChunk);
    size_t m = 0;
    uint64_t pending_bytes = 0;
    for (size_t i = c; i < end; ++i) {
      if (i >= take) {
        Drop(DropReason::kSeqOverflow, &status[i]);
        continue;
      }
      if (lifetime_.ExpiredAfter(m, pending_bytes)) {
        Drop(DropReason::kHardLifetime, &status[i]);
        continue;
      }
      const uint32_t len = pkts[i]->length;
      const DropReason r = EncapPrepare(*pkts[i], base + i, &ops[m], &udp6_pre[m]);
      if (r != DropReason::kOk) {
        Drop(r, &status[i]);
        continue;
      }
      index[m] = static_cast<uint32_t>(i);
      inner_len[m] = len;
      pending_bytes += len;
      ++m;
    }
    if (m == 0) continue;
    cipher_->SealBurst({ops.data(), m});
    for (size_t k = 0; k < m; ++k) {
      const size_t i = index[k];
      if (udp6_pre[k] != 0) SetUdpV6Checksum(*pkts[i], udp6_pre[k]);
      status[i] = DropReason::kOk;
      ++ok;
      ++counters_.packets;
      counters_.bytes += inner_len[k];
      ok_bytes += inner_len[k];
      if (per_packet_lifetime) lifetime_.Account(1, inner_len[k], config_.spi, config_.direction, events_);
    }
  }
  if (!per_packet_lifetime && ok != 0) lifetime_.Account(ok, ok_bytes, config_.spi, config_.direction, events_);
  if (take == avail && take != 0 && events_ != nullptr) {
    events_->OnSaEvent(config_.spi, config_.direction, sa::SaEvent::kSeqOverflow);
  }
  return ok;
}

void EspSa::SetUdpV6Checksum(PacketBuf& pkt, size_t pre) const {
  // IPv6 needs a UDP checksum (RFC 8200 §8.1; the RFC 6936 zero-checksum exception is not
  // accepted by default by Linux receivers). Computed after encryption: it covers the ciphertext.
  std::byte* p = pkt.data();
  std::byte* u = p + pre;
  const uint32_t udp_len = LoadU16Be(u + 4);
  uint32_t sum = ip::PseudoHeaderSum(p + 8, p + 24, true, ip::kProtoUdp, udp_len);
  sum = ip::ChecksumPartial(Bytes(u, udp_len), sum);
  const uint16_t c = static_cast<uint16_t>(~ip::ChecksumFold(sum));
  StoreU16Be(u + 6, c == 0 ? 0xffff : c);
}

DropReason EspSa::EncapPrepare(PacketBuf& pkt, uint64_t seq, EspCryptoOp* op, uint16_t* udp6_pre) {
  *udp6_pre = 0;
  const ip::IpInfo inner = ip::ParseIp(pkt.span(), /*allow_trailing=*/false);
  if (inner.version == 0) return DropReason::kMalformed;
  const bool tunnel = config_.mode == sa::Mode::kTunnel;
  const size_t iv_len = cipher_->iv_len();
  const size_t udp_len = config_.udp_encap ? ip::kUdpHeader : 0;

  uint8_t next_header;
  size_t pre;      // bytes kept in front of ESP (outer header for tunnel, IP header(s) for transport)
  size_t nh_off = 0;
  size_t payload_len;
  bool outer_v6;
  if (tunnel) {
    outer_v6 = config_.tunnel_dst->v6;
    pre = outer_v6 ? ip::kIpv6Header : ip::kIpv4MinHeader;
    next_header = inner.version == 4 ? ip::kProtoIpv4 : ip::kProtoIpv6;
    payload_len = pkt.length;
  } else {
    outer_v6 = inner.version == 6;
    if (inner.version == 4) {
      // RFC 4301 §4.1: transport mode applies to whole datagrams, never to fragments.
      if ((LoadU16Be(pkt.data() + 6) & 0x3fff) != 0) return DropReason::kMalformed;
      pre = inner.header_len;
      nh_off = 9;
    } else {
      pre = ip::Ipv6InsertionPoint(pkt.span(), &nh_off);
      if (pre == 0) return DropReason::kMalformed;
    }
    next_header = U8(pkt.data()[nh_off]);
    // Next header 59 marks a dummy packet, which the receiver discards (RFC 4303 §2.6): a real
    // packet carrying it could not be told apart, so it is refused here.
    if (next_header == ip::kProtoNone) return DropReason::kMalformed;
    payload_len = pkt.length - pre;
  }

  const size_t padded = RoundUp(payload_len + 2, cipher_->align());
  const size_t pad = padded - payload_len - 2;
  const size_t esp_len = kEspHeader + iv_len + padded + kIcv;
  const size_t new_total = pre + udp_len + esp_len;
  const size_t head = (tunnel ? pre : 0) + udp_len + kEspHeader + iv_len;
  const size_t tail = pad + 2 + kIcv;
  if (new_total > (outer_v6 ? 65535 + ip::kIpv6Header : 65535)) return DropReason::kMalformed;
  if (pkt.headroom() < head || pkt.tailroom() < tail) return DropReason::kNoRoom;

  // Trailer: padding 1, 2, 3, ... then pad length and next header (RFC 4303 §2.4-2.6).
  std::byte* t = pkt.data() + pkt.length;
  std::memcpy(t, kPadBytes.data(), pad);
  t[pad] = std::byte(pad);
  t[pad + 1] = std::byte(next_header);
  pkt.Append(static_cast<uint32_t>(tail));

  if (tunnel) {
    pkt.Prepend(static_cast<uint32_t>(head));
  } else {
    // Slide the IP header (and IPv6 extension headers before the insertion point) to the front.
    std::memmove(pkt.data() - head, pkt.data(), pre);
    pkt.Prepend(static_cast<uint32_t>(head));
  }
  std::byte* p = pkt.data();
  std::byte* esp = p + pre + udp_len;
  // SPI || SN in one 8-byte store: the cipher reads these 8 bytes back at once (AAD / HMAC input).
  StoreU64Be(esp, uint64_t{config_.spi} << 32 | static_cast<uint32_t>(seq));
  op->esp = esp;
  op->text_len = padded;
  op->seq = seq;

  const uint8_t outer_proto = config_.udp_encap ? ip::kProtoUdp : ip::kProtoEsp;
  if (tunnel) {
    const uint8_t dscp = config_.dscp_mode == sa::DscpMode::kSet ? config_.dscp : static_cast<uint8_t>(inner.tos >> 2);
    const uint8_t ecn = config_.ecn_mode == sa::EcnMode::kNormal ? (inner.tos & 3) : 0;  // RFC 6040 §4.1
    const uint8_t tos = static_cast<uint8_t>((dscp << 2) | ecn);
    const sa::IpAddress& src = *config_.tunnel_src;
    const sa::IpAddress& dst = *config_.tunnel_dst;
    if (!outer_v6) {
      bool df = false;
      if (config_.df_mode == sa::DfMode::kSet) df = true;
      else if (config_.df_mode == sa::DfMode::kCopy) df = inner.version == 4 && inner.df;
      // Identification: the low 16 bits of the sequence number, unique per SA like a counter
      // (RFC 6864 §4) and stateless, so the card computes the same value as this path.
      const uint16_t id = static_cast<uint16_t>(seq);
      const uint16_t frag = df ? 0x4000 : 0;
      p[0] = std::byte{0x45};
      p[1] = std::byte{tos};
      StoreU16Be(p + 2, static_cast<uint16_t>(new_total));
      StoreU16Be(p + 4, id);
      StoreU16Be(p + 6, frag);
      p[8] = std::byte{config_.ttl};
      p[9] = std::byte{outer_proto};
      std::memcpy(p + 12, src.bytes.data(), 4);
      std::memcpy(p + 16, dst.bytes.data(), 4);
      // Header checksum from the field values rather than by reading the header back: loading
      // words just written byte by byte would stall on store forwarding.
      uint32_t sum = (0x4500u | tos) + static_cast<uint32_t>(new_total) + id + frag +
                     (uint32_t{config_.ttl} << 8 | outer_proto) + AddrSum(src) + AddrSum(dst);
      sum = (sum & 0xffff) + (sum >> 16);
      sum = (sum & 0xffff) + (sum >> 16);
      StoreU16Be(p + 10, static_cast<uint16_t>(~sum));
    } else {
      p[0] = std::byte(0x60 | (tos >> 4));
      p[1] = std::byte((tos & 0x0f) << 4);
      p[2] = std::byte{0};
      p[3] = std::byte{0};
      StoreU16Be(p + 4, static_cast<uint16_t>(new_total - ip::kIpv6Header));
      p[6] = std::byte{outer_proto};
      p[7] = std::byte{config_.ttl};
      std::memcpy(p + 8, src.bytes.data(), 16);
      std::memcpy(p + 24, dst.bytes.data(), 16);
    }
  } else {
    p[nh_off] = std::byte{outer_proto};
    if (!outer_v6) {
      StoreU16Be(p + 2, static_cast<uint16_t>(new_total));
      ip::SetIpv4Checksum(p, pre);
    } else {
      StoreU16Be(p + 4, static_cast<uint16_t>(new_total - ip::kIpv6Header));
    }
  }
  if (config_.udp_encap) {
    std::byte* u = p + pre;
    StoreU16Be(u, config_.udp_encap->src_port);
    StoreU16Be(u + 2, config_.udp_encap->dst_port);
    StoreU16Be(u + 4, static_cast<uint16_t>(udp_len + esp_len));
    StoreU16Be(u + 6, 0);  // RFC 3948 §2.1: zero over IPv4; IPv6 gets its checksum after sealing
    if (outer_v6) *udp6_pre = static_cast<uint16_t>(pre);
  }
  return DropReason::kOk;
}

size_t EspSa::ProcessInbound(std::span<PacketBuf* const> pkts, std::span<DropReason> status) {
  const size_t n = std::min(pkts.size(), status.size());
  if (config_.direction != sa::Direction::kInbound) {
    for (size_t i = 0; i < n; ++i) Drop(DropReason::kWrongDirection, &status[i]);
    return 0;
  }
  const bool per_packet_lifetime = HasLifetimeLimit(config_.lifetime);
  size_t ok = 0;
  uint64_t ok_bytes = 0;
  // Chunks: parse and replay-check up to kChunk packets, verify and decrypt them in one crypto
  // burst, then (in order) update the window and strip. The window is only read before the burst
  // and only written after it, as RFC 4303 §3.4.3 requires.
  std::array<EspCryptoOp, kChunk> ops;
  std::array<InboundMeta, kChunk> meta;
  std::array<uint32_t, kChunk> index;
  for (size_t c = 0, next = 0; c < n; c = next) {
    const size_t end = std::min(n, c + kChunk);
    size_t m = 0;
    uint64_t chunk_top = replay_.top();  // highest sequence number prepared in this chunk
    size_t p = c;
    for (; p < end; ++p) {
      const DropReason r =
          lifetime_.expired() ? DropReason::kHardLifetime : DecapPrepare(*pkts[p], chunk_top, &ops[m], &meta[m]);
      if (r == kSplitChunk) break;
      if (r != DropReason::kOk) {
        Drop(r, &status[p]);
        continue;
      }
      chunk_top = std::max(chunk_top, ops[m].seq);
      index[m++] = static_cast<uint32_t>(p);
    }
    next = p;
    if (m == 0) continue;
    cipher_->OpenBurst({ops.data(), m});
    for (size_t k = 0; k < m; ++k) {
      const size_t i = index[k];
      DropReason r;
      if (!ops[k].ok) {
        r = DropReason::kAuthFailed;
      } else if (lifetime_.expired()) {
        r = DropReason::kHardLifetime;  // crossed by an earlier packet of this chunk
      } else {
        r = DecapFinish(*pkts[i], ops[k], meta[k]);
      }
      if (r != DropReason::kOk) {
        Drop(r, &status[i]);
        continue;
      }
      status[i] = DropReason::kOk;
      ++ok;
      const uint32_t inner_len = pkts[i]->length;
      ++counters_.packets;
      counters_.bytes += inner_len;
      ok_bytes += inner_len;
      if (per_packet_lifetime) lifetime_.Account(1, inner_len, config_.spi, config_.direction, events_);
    }
  }
  if (!per_packet_lifetime && ok != 0) lifetime_.Account(ok, ok_bytes, config_.spi, config_.direction, events_);
  return ok;
}

DropReason EspSa::DecapPrepare(PacketBuf& pkt, uint64_t chunk_top, EspCryptoOp* op, InboundMeta* meta) {
  EspLocation loc;
  if (config_.udp_encap || !LocateEspIpv4(pkt.span(), &loc)) {
    auto located = LocateEsp(pkt.span(), config_.udp_encap.has_value(),
                             config_.udp_encap ? config_.udp_encap->dst_port : uint16_t{0});
    if (!located.ok()) {
      return located.status().code() == StatusCode::kNotFound ? DropReason::kNotEsp : DropReason::kMalformed;
    }
    loc = *located;
  }
  if (loc.spi != config_.spi) return DropReason::kBadSpi;
  std::byte* p = pkt.data();
  const bool tunnel = config_.mode == sa::Mode::kTunnel;
  const bool v6 = loc.ip_version == 6;
  if (tunnel && config_.verify_tunnel_addresses) {
    const sa::IpAddress& src = *config_.tunnel_src;
    const sa::IpAddress& dst = *config_.tunnel_dst;
    const size_t alen = v6 ? 16 : 4;
    if (src.v6 != v6 || std::memcmp(p + (v6 ? 8 : 12), src.bytes.data(), alen) != 0 ||
        std::memcmp(p + (v6 ? 24 : 16), dst.bytes.data(), alen) != 0) {
      return DropReason::kTunnelMismatch;
    }
  }

  const size_t iv_len = cipher_->iv_len();
  const size_t esp_len = loc.ip_total_len - loc.esp_offset;
  if (esp_len < kEspHeader + iv_len + 2 + kIcv) return DropReason::kMalformed;
  const size_t text_len = esp_len - kEspHeader - iv_len - kIcv;
  // RFC 4303 §2.4: the ciphertext ends on a 4-byte boundary (block boundary for CBC).
  if (!Aligned(text_len, cipher_->align())) return DropReason::kMalformed;

  // RFC 4303 §3.4.3: replay check before the ICV; the window moves only after it verified.
  const uint64_t seq = replay_.InferSeq(loc.seq_low);
  // ESN inference is relative to the authenticated top (RFC 4303 A2.1). When packets earlier in
  // this chunk would move the top far enough to change the inference (a burst crossing a 2^32
  // boundary), end the chunk here, so it is decided after their window updates.
  if (config_.esn && chunk_top != replay_.top() && replay_.InferSeqAt(chunk_top, loc.seq_low) != seq) {
    return kSplitChunk;
  }
  if (replay_.Check(seq) != sa::ReplayVerdict::kOk) return DropReason::kReplay;

  op->esp = p + loc.esp_offset;
  op->text_len = text_len;
  op->seq = seq;
  op->ok = false;
  meta->pre_esp_len = static_cast<uint16_t>(loc.pre_esp_len);
  meta->nh_offset = static_cast<uint16_t>(loc.nh_offset);
  meta->ip_version = loc.ip_version;
  return DropReason::kOk;
}

DropReason EspSa::DecapFinish(PacketBuf& pkt, const EspCryptoOp& op, const InboundMeta& meta) {
  if (replay_.Update(op.seq) != sa::ReplayVerdict::kOk) return DropReason::kReplay;
  std::byte* p = pkt.data();
  const bool tunnel = config_.mode == sa::Mode::kTunnel;
  const bool v6 = meta.ip_version == 6;
  const size_t text_len = op.text_len;
  MutableBytes text(op.esp + kEspHeader + cipher_->iv_len(), text_len);

  const size_t pad = U8(text[text_len - 2]);
  const uint8_t next_header = U8(text[text_len - 1]);
  if (pad + 2 > text_len) return DropReason::kBadPadding;
  const size_t payload_len = text_len - 2 - pad;
  if (!PaddingOk(text.data() + payload_len, pad)) return DropReason::kBadPadding;
  if (next_header == ip::kProtoNone) return DropReason::kDummyPacket;
  std::byte* payload = text.data();

  if (tunnel) {
    if (next_header != ip::kProtoIpv4 && next_header != ip::kProtoIpv6) return DropReason::kBadInner;
    // allow_trailing: TFC padding may follow the inner packet (RFC 4303 §2.7).
    const ip::IpInfo inner = ip::ParseIp(Bytes(payload, payload_len), /*allow_trailing=*/true);
    if (inner.version != (next_header == ip::kProtoIpv4 ? 4 : 6)) return DropReason::kBadInner;
    if (inner.version == 4) {
      // The usual option-less header is summed from five 32-bit loads.
      const uint16_t sum = inner.header_len == ip::kIpv4MinHeader ? Ipv4MinHeaderSum(payload)
                                                                  : Ipv4HeaderSum(payload, inner.header_len);
      if (sum != 0xffff) return DropReason::kBadInner;
    }
    if (config_.ecn_mode == sa::EcnMode::kNormal) {
      // RFC 6040 §4.2 decapsulation table.
      const uint8_t outer_ecn = v6 ? static_cast<uint8_t>((U8(p[1]) >> 4) & 3) : static_cast<uint8_t>(U8(p[1]) & 3);
      const uint8_t inner_ecn = inner.tos & 3;
      if (outer_ecn == ip::kEcnCe) {
        if (inner_ecn == ip::kEcnNotEct) return DropReason::kEcnDrop;
        if (inner_ecn != ip::kEcnCe) SetInnerEcn(payload, inner.version, inner.header_len, ip::kEcnCe);
      } else if (outer_ecn == ip::kEcnEct1 && inner_ecn == ip::kEcnEct0) {
        SetInnerEcn(payload, inner.version, inner.header_len, ip::kEcnEct1);
      }
    }
    if (config_.decrement_inner_ttl) {
      if (inner.ttl <= 1) return DropReason::kTtlExceeded;
      if (inner.version == 4) {
        payload[8] = std::byte(inner.ttl - 1);
        ip::SetIpv4Checksum(payload, inner.header_len);
      } else {
        payload[7] = std::byte(inner.ttl - 1);
      }
    }
    pkt.offset += static_cast<uint32_t>(payload - p);
    pkt.length = static_cast<uint32_t>(inner.total_len);
    return DropReason::kOk;
  }

  // Transport: close the gap between the IP header(s) and the payload, restore the protocol.
  const size_t pre = meta.pre_esp_len;
  std::byte* start = payload - pre;
  std::memmove(start, p, pre);
  start[meta.nh_offset] = std::byte{next_header};
  const size_t total = pre + payload_len;
  if (!v6) {
    StoreU16Be(start + 2, static_cast<uint16_t>(total));
    ip::SetIpv4Checksum(start, pre);
  } else {
    StoreU16Be(start + 4, static_cast<uint16_t>(total - ip::kIpv6Header));
  }
  if (config_.udp_encap && (next_header == ip::kProtoTcp || next_header == ip::kProtoUdp)) {
    FixL4Checksum(start, meta.ip_version, next_header, MutableBytes(payload, payload_len));
  }
  pkt.offset += static_cast<uint32_t>(start - p);
  pkt.length = static_cast<uint32_t>(total);
  return DropReason::kOk;
}

}  // namespace ipsec::esp
