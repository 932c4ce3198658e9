// AH data path (RFC 4302): outbound protection, inbound verification and decapsulation.
#include "host/ah/ah_sa.h"

#include "host/common/check.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "host/ah/ah_packet.h"
#include "host/ah/mutable_fields.h"
#include "host/common/ip.h"
#include "host/common/secure_bytes.h"

namespace ipsec::ah {
namespace {

using sa::DropReason;

constexpr size_t kIcvLen = 16;  // both suites (RFC 4868 §2.3, RFC 4543 §5)
static_assert(kIcvLen == crypto::kTagSize);
constexpr size_t kMaxIpLen = 0xffff;

constexpr size_t kIpv4SrcOffset = 12, kIpv4DstOffset = 16;
constexpr size_t kIpv6SrcOffset = 8, kIpv6DstOffset = 24;

bool IsAhSuite(sa::Suite s) {
  return s == sa::Suite::kNullHmacSha256 || s == sa::Suite::kAesGmac128 || s == sa::Suite::kAesGmac256;
}

// The traffic class / TOS byte of an IPv4 or IPv6 header.
uint8_t TrafficClass(const std::byte* hdr, bool v6) {
  if (!v6) return U8(hdr[1]);
  return static_cast<uint8_t>(((U8(hdr[0]) & 0x0f) << 4) | (U8(hdr[1]) >> 4));
}

// RFC 6040 §4.2, decapsulation: the inner ECN field after decapsulation, or false when the packet
// must be dropped (CE outer on a Not-ECT inner packet).
bool CombineEcn(uint8_t inner, uint8_t outer, uint8_t* out) {
  if (outer == ip::kEcnCe) {
    if (inner == ip::kEcnNotEct) return false;
    *out = ip::kEcnCe;
  } else if (outer == ip::kEcnEct1 && inner == ip::kEcnEct0) {
    *out = ip::kEcnEct1;
  } else {
    *out = inner;
  }
  return true;
}

bool AddressIs(const std::byte* p, const sa::IpAddress& a) {
  return std::memcmp(p, a.bytes.data(), a.size()) == 0;
}

}  // namespace

// What PlanOutbound found out about a packet; Protect() applies it.
struct AhSa::OutboundPlan {
  ip::IpInfo inner;        // the packet as handed in
  uint8_t version = 0;     // IP version of the header that carries AH (the outer one in tunnel mode)
  size_t hdr_len = 0;      // bytes in front of AH: transport: IP header + extension headers before
                           // AH; tunnel: the outer header
  size_t nh_offset = 0;    // transport: the byte that will name AH
  uint8_t next_header = 0; // AH Next Header (RFC 4302 §2.1)
  size_t ah_len = 0;
};

AhSa::AhSa(ConstructorTag, const sa::SaConfig& config, crypto::Provider provider, sa::SaEventSink* events)
    : config_(config),
      provider_(provider),
      events_(events),
      next_seq_(config.initial_seq),
      replay_(config.replay_window, config.esn),
      lifetime_(config.lifetime) {}

AhSa::~AhSa() { SecureZero(salt_.data(), salt_.size()); }

StatusOr<std::unique_ptr<AhSa>> AhSa::Create(const sa::SaConfig& config, sa::KeyMaterial keys,
                                             crypto::Provider provider, sa::SaEventSink* events) {
  RETURN_IF_ERROR(config.Validate());
  if (config.protocol != sa::Protocol::kAh) return InvalidArgumentError("AhSa needs an AH SA (protocol ah)");
  if (!IsAhSuite(config.suite)) {
    return InvalidArgumentError("suite " + std::string(sa::SuiteName(config.suite)) + " is not an AH suite");
  }
  RETURN_IF_ERROR(keys.ValidateFor(config.suite));
  const sa::SuiteInfo& info = sa::GetSuiteInfo(config.suite);
  if (info.icv_len != kIcvLen) return InternalError("AH suite with an unexpected ICV length");

  const crypto::Provider resolved = crypto::ResolveProvider(provider);
  auto sa = std::make_unique<AhSa>(ConstructorTag(), config, resolved, events);
  sa->iv_len_ = info.iv_len;
  sa->ah_len_v4_ = AhHeaderLen(info.iv_len, info.icv_len, /*ipv6=*/false);
  sa->ah_len_v6_ = AhHeaderLen(info.iv_len, info.icv_len, /*ipv6=*/true);
  if (config.suite == sa::Suite::kNullHmacSha256) {
    // RFC 4868: HMAC-SHA-256 keyed with the 32-byte integrity key, truncated to 128 bits.
    ASSIGN_OR_RETURN(sa->hmac_, crypto::HmacSha256::Create(keys.auth_key.span(), resolved));
  } else {
    // RFC 4543 §3.2/§5: KEYMAT is the AES key followed by a 4-byte salt.
    const Bytes km = keys.enc_key.span();
    ASSIGN_OR_RETURN(sa->gmac_, crypto::Aead::Create(crypto::Aead::Algorithm::kAesGcm,
                                                     km.first(info.enc_key_len), resolved));
    std::memcpy(sa->salt_.data(), km.data() + info.enc_key_len, sa->salt_.size());
  }
  return sa;
}

void AhSa::Drop(DropReason reason, DropReason* slot) {
  *slot = reason;
  ++counters_.drops[static_cast<size_t>(reason)];
}

void AhSa::ComputeIcv(PacketBuf& p, size_t len, Bytes iv, uint32_t seq_hi, std::span<std::byte, 16> icv) {
  std::byte* data = p.data();
  std::array<std::byte, 4> hi;
  std::array<std::byte, 4> saved_tail;
  StoreU32Be(hi.data(), seq_hi);
  std::array<Bytes, 2> segs = {Bytes(data, len), Bytes()};
  size_t nsegs = 1;
  bool used_tail = false;
  if (config_.esn) {
    // RFC 4302 §2.5.1 and §3.3.3.2.1: with ESN the high-order 32 bits of the sequence number are
    // appended to the ICV input (not sent). Borrow 4 bytes behind the packet so the input stays one
    // contiguous buffer (ipsec-mb would otherwise gather segments into scratch memory).
    if (size_t{p.capacity} - p.offset >= len + hi.size()) {
      std::memcpy(saved_tail.data(), data + len, hi.size());
      std::memcpy(data + len, hi.data(), hi.size());
      segs[0] = Bytes(data, len + hi.size());
      used_tail = true;
    } else {
      segs[1] = Bytes(hi);
      nsegs = 2;
    }
  }
  const std::span<const Bytes> input(segs.data(), nsegs);
  if (hmac_) {
    std::array<std::byte, 32> mac;
    hmac_->Compute(input, mac);
    std::memcpy(icv.data(), mac.data(), kIcvLen);  // RFC 4868 §2.3: first 128 bits
  } else {
    // RFC 4543 §3.2: nonce = salt || IV; GMAC = GCM with everything as AAD and no plaintext.
    std::array<std::byte, crypto::kNonceSize> nonce;
    std::memcpy(nonce.data(), salt_.data(), salt_.size());
    std::memcpy(nonce.data() + salt_.size(), iv.data(), iv.size());
    gmac_->Seal(nonce, input, MutableBytes(icv.data(), 0), icv);
  }
  if (used_tail) std::memcpy(data + len, saved_tail.data(), saved_tail.size());
}

// ---------------------------------------------------------------------------------------------
// Outbound (RFC 4302 §3.3)

DropReason AhSa::PlanOutbound(const PacketBuf& p, OutboundPlan* plan) const {
  const Bytes pkt = p.span();
  plan->inner = ip::ParseIp(pkt, /*allow_trailing=*/false);
  const ip::IpInfo& in = plan->inner;
  if (in.version == 0) return DropReason::kMalformed;
  if (config_.mode == sa::Mode::kTunnel) {
    // §3.1.2: a new outer header, then AH, then the whole original packet (fragments included).
    const bool outer_v6 = config_.tunnel_src->v6;
    plan->version = outer_v6 ? 6 : 4;
    plan->hdr_len = outer_v6 ? ip::kIpv6Header : ip::kIpv4MinHeader;
    plan->ah_len = ah_len(outer_v6);
    plan->next_header = in.version == 4 ? ip::kProtoIpv4 : ip::kProtoIpv6;
    const size_t outer_len = plan->hdr_len + plan->ah_len + pkt.size();
    if (outer_len - (outer_v6 ? ip::kIpv6Header : 0) > kMaxIpLen) return DropReason::kNoRoom;
  } else {
    // §3.1.1: AH goes after the IP header (IPv4) or after the extension headers that precede it
    // (IPv6), and only on whole datagrams.
    plan->version = in.version;
    plan->ah_len = ah_len(in.version == 6);
    if (in.version == 4) {
      if ((LoadU16Be(&pkt[6]) & 0x3fff) != 0) return DropReason::kMalformed;  // MF or offset
      plan->hdr_len = in.header_len;
      plan->nh_offset = 9;
    } else {
      size_t nh_offset = 0;
      plan->hdr_len = ip::Ipv6InsertionPoint(pkt, &nh_offset);
      if (plan->hdr_len == 0) return DropReason::kMalformed;
      plan->nh_offset = nh_offset;
    }
    plan->next_header = U8(pkt[plan->nh_offset]);
    // Also refuses IPv6 fragments: the Fragment header sits in front of the insertion point.
    if (!MutableFields::Check(pkt, in.version, plan->hdr_len)) return DropReason::kMalformed;
    const size_t payload = pkt.size() + plan->ah_len - (in.version == 6 ? ip::kIpv6Header : 0);
    if (payload > kMaxIpLen) return DropReason::kNoRoom;
  }
  const size_t grow = plan->ah_len + (config_.mode == sa::Mode::kTunnel ? plan->hdr_len : 0);
  if (p.headroom() < grow) return DropReason::kNoRoom;
  return DropReason::kOk;
}

void AhSa::Protect(PacketBuf& p, const OutboundPlan& plan, uint64_t seq) {
  const size_t ah_len = plan.ah_len;
  const size_t hdr_len = plan.hdr_len;
  const ip::IpInfo& in = plan.inner;
  if (config_.mode == sa::Mode::kTunnel) {
    p.Prepend(static_cast<uint32_t>(hdr_len + ah_len));  // room checked by PlanOutbound
    std::byte* o = p.data();
    // RFC 4301 §5.1.2.1 DSCP, RFC 6040 §4.1 ECN (normal mode copies, compatibility mode clears).
    const uint8_t dscp = config_.dscp_mode == sa::DscpMode::kCopy ? static_cast<uint8_t>(in.tos >> 2)
                                                                 : config_.dscp;
    const uint8_t ecn = config_.ecn_mode == sa::EcnMode::kNormal ? static_cast<uint8_t>(in.tos & 0x03)
                                                                 : ip::kEcnNotEct;
    const uint8_t tos = static_cast<uint8_t>((dscp << 2) | ecn);
    const sa::IpAddress& src = *config_.tunnel_src;
    const sa::IpAddress& dst = *config_.tunnel_dst;
    if (plan.version == 4) {
      // RFC 4301 §8.1 DF: copy from an IPv4 inner header; an IPv6 inner packet must not be
      // fragmented by routers, so "copy" sets DF for it.
      bool df = true;
      if (config_.df_mode == sa::DfMode::kClear) df = false;
      else if (config_.df_mode == sa::DfMode::kCopy && in.version == 4) df = in.df;
      o[0] = std::byte{0x45};
      o[1] = std::byte{tos};
      StoreU16Be(o + 2, static_cast<uint16_t>(p.length));
      StoreU16Be(o + 4, next_ip_id_++);
      StoreU16Be(o + 6, df ? 0x4000 : 0);
      o[8] = std::byte{config_.ttl};
      o[9] = std::byte{ip::kProtoAh};
      o[10] = o[11] = std::byte{0};  // checksum, set last
      std::memcpy(o + kIpv4SrcOffset, src.bytes.data(), 4);
      std::memcpy(o + kIpv4DstOffset, dst.bytes.data(), 4);
    } else {
      StoreU32Be(o, 0x60000000u | (uint32_t{tos} << 20));  // flow label 0
      StoreU16Be(o + 4, static_cast<uint16_t>(p.length - ip::kIpv6Header));
      o[6] = std::byte{ip::kProtoAh};
      o[7] = std::byte{config_.ttl};
      std::memcpy(o + kIpv6SrcOffset, src.bytes.data(), 16);
      std::memcpy(o + kIpv6DstOffset, dst.bytes.data(), 16);
    }
  } else {
    // Open a gap for AH by moving the headers in front of it forward: only hdr_len bytes move.
    p.Prepend(static_cast<uint32_t>(ah_len));
    std::byte* h = p.data();
    std::memmove(h, h + ah_len, hdr_len);
    h[plan.nh_offset] = std::byte{ip::kProtoAh};
    if (plan.version == 4) StoreU16Be(h + 2, static_cast<uint16_t>(p.length));
    else StoreU16Be(h + 4, static_cast<uint16_t>(p.length - ip::kIpv6Header));
  }

  // RFC 4302 §2: the AH header, ICV (and padding, §3.3.3.2.1) zero for the computation.
  std::byte* ah = p.data() + hdr_len;
  ah[kAhNextHeaderOffset] = std::byte{plan.next_header};
  ah[kAhPayloadLenOffset] = std::byte(static_cast<uint8_t>(ah_len / 4 - 2));  // §2.2
  StoreU16Be(ah + kAhReservedOffset, 0);                                        // §2.3
  StoreU32Be(ah + kAhSpiOffset, config_.spi);
  StoreU32Be(ah + kAhSeqOffset, static_cast<uint32_t>(seq));  // §2.5: low-order 32 bits only
  if (iv_len_ != 0) StoreU64Be(ah + kAhIvOffset, seq);        // RFC 4543 §3.1: unique per key
  std::byte* icv = ah + kAhIvOffset + iv_len_;
  std::memset(icv, 0, ah_len - kAhFixedHeader - iv_len_);

  // §3.3.3: ICV over the whole packet with mutable fields zeroed, then restored.
  MutableFields mf;
  const bool cleared = mf.Clear(p.span(), plan.version, hdr_len);
  // PlanOutbound ran MutableFields::Check over these same headers (tunnel: our own outer header),
  // so Clear cannot fail. Were that invariant ever broken, the ICV would cover the unmodified
  // fields and the peer would reject the packet: it fails closed.
  if (!cleared) IPSEC_BUG(ah_clear_after_check);
  std::array<std::byte, kIcvLen> mac;
  ComputeIcv(p, p.length, Bytes(ah + kAhIvOffset, iv_len_), static_cast<uint32_t>(seq >> 32), mac);
  mf.Restore(p.span());
  std::memcpy(icv, mac.data(), kIcvLen);
  if (plan.version == 4) ip::SetIpv4Checksum(p.data(), hdr_len);  // header (and options) only
}

size_t AhSa::ProcessOutbound(std::span<PacketBuf* const> pkts, std::span<DropReason> status) {
  const size_t n = std::min(pkts.size(), status.size());
  if (config_.direction != sa::Direction::kOutbound) {
    for (size_t i = 0; i < n; ++i) Drop(DropReason::kWrongDirection, &status[i]);
    return 0;
  }
  // Reserve this burst's sequence numbers up front (RFC 4302 §3.3.2: never reused, never wrapped:
  // the last usable one is 2^32-1, or 2^64-1 with ESN). Numbers go to valid packets only, in order.
  const uint64_t limit = config_.esn ? std::numeric_limits<uint64_t>::max() : 0xffffffffull;
  const uint64_t available = (seq_exhausted_ || next_seq_ > limit) ? 0 : limit - next_seq_ + 1;
  const uint64_t reserved = std::min<uint64_t>(n, available);
  const uint64_t base = next_seq_;
  uint64_t used = 0;

  size_t done = 0;
  for (size_t i = 0; i < n; ++i) {
    PacketBuf* p = pkts[i];
    if (lifetime_.expired()) {
      Drop(DropReason::kHardLifetime, &status[i]);
      continue;
    }
    OutboundPlan plan;
    const DropReason r = p == nullptr ? DropReason::kMalformed : PlanOutbound(*p, &plan);
    if (r != DropReason::kOk) {
      Drop(r, &status[i]);
      continue;
    }
    if (used == reserved) {
      Drop(DropReason::kSeqOverflow, &status[i]);
      if (!seq_overflow_reported_) {
        seq_overflow_reported_ = true;
        if (events_ != nullptr) events_->OnSaEvent(config_.spi, config_.direction, sa::SaEvent::kSeqOverflow);
      }
      continue;
    }
    const uint32_t inner_len = p->length;
    Protect(*p, plan, base + used);
    ++used;
    status[i] = DropReason::kOk;
    ++done;
    ++counters_.packets;
    counters_.bytes += inner_len;
    lifetime_.Account(1, inner_len, config_.spi, config_.direction, events_);
  }
  if (used != 0) {
    const uint64_t last = base + (used - 1);
    if (last == limit) seq_exhausted_ = true;
    next_seq_ = last + 1;  // wraps to 0 after 2^64-1 (ESN); seq_exhausted_ says so
  }
  return done;
}

// ---------------------------------------------------------------------------------------------
// Inbound (RFC 4302 §3.4)

DropReason AhSa::InboundOne(PacketBuf& p, uint64_t* inner_bytes) {
  // §3.4.1-3.4.2: a whole datagram that carries AH where we expect it, with sane lengths.
  AhLocation loc;
  if (!LocateAh(p.span(), &loc)) return DropReason::kMalformed;
  std::byte* pkt = p.data();
  const bool v6 = loc.version == 6;
  if (!v6 && !ip::Ipv4ChecksumOk(pkt, loc.ah_offset)) return DropReason::kMalformed;
  const MutableBytes whole(pkt, loc.packet_len);
  const size_t ah_len = this->ah_len(v6);
  std::byte* ah = pkt + loc.ah_offset;
  // §2.2: Payload Len must describe exactly the header this SA's algorithm produces (§2.6: only as
  // much padding as the IP version needs).
  if ((size_t{U8(ah[kAhPayloadLenOffset])} + 2) * 4 != ah_len) return DropReason::kMalformed;
  if (loc.ah_offset + ah_len > loc.packet_len) return DropReason::kMalformed;
  // §3.4.2: the SA was looked up by SPI; a packet for another SPI does not belong here.
  if (LoadU32Be(ah + kAhSpiOffset) != config_.spi) return DropReason::kBadSpi;
  const uint8_t next = U8(ah[kAhNextHeaderOffset]);
  const bool tunnel = config_.mode == sa::Mode::kTunnel;
  if (tunnel) {
    if (next != ip::kProtoIpv4 && next != ip::kProtoIpv6) return DropReason::kBadInner;
    // RFC 4301 §5.2 step 4. The outer addresses are covered by the ICV; checking them first only
    // saves the crypto work for packets that would be refused anyway.
    if (config_.verify_tunnel_addresses) {
      const sa::IpAddress& src = *config_.tunnel_src;
      const sa::IpAddress& dst = *config_.tunnel_dst;
      const size_t so = v6 ? kIpv6SrcOffset : kIpv4SrcOffset;
      const size_t d_o = v6 ? kIpv6DstOffset : kIpv4DstOffset;
      if (src.v6 != v6 || !AddressIs(pkt + so, src) || !AddressIs(pkt + d_o, dst)) {
        return DropReason::kTunnelMismatch;
      }
    }
  }

  // §3.4.3: anti-replay check before the ICV (RFC 4303 A2 for the ESN high bits).
  const uint64_t seq = replay_.InferSeq(LoadU32Be(ah + kAhSeqOffset));
  if (replay_.Check(seq) != sa::ReplayVerdict::kOk) return DropReason::kReplay;

  // §3.4.4: recompute the ICV with the ICV field zeroed and mutable fields cleared, then put the
  // packet back as it was.
  std::byte* icv_field = ah + kAhIvOffset + iv_len_;
  std::array<std::byte, kIcvLen> received;
  std::memcpy(received.data(), icv_field, kIcvLen);
  std::memset(icv_field, 0, kIcvLen);  // §3.3.3.2.1; padding after the ICV stays as received
  MutableFields mf;
  if (!mf.Clear(whole, loc.version, loc.ah_offset)) {
    std::memcpy(icv_field, received.data(), kIcvLen);
    return DropReason::kMalformed;
  }
  std::array<std::byte, kIcvLen> computed;
  ComputeIcv(p, loc.packet_len, Bytes(ah + kAhIvOffset, iv_len_), static_cast<uint32_t>(seq >> 32), computed);
  mf.Restore(whole);
  std::memcpy(icv_field, received.data(), kIcvLen);
  if (!ConstantTimeEqual(computed, received)) return DropReason::kAuthFailed;
  // §3.4.3: the window moves only for authenticated packets; the re-check catches a duplicate
  // earlier in this burst.
  if (replay_.Update(seq) != sa::ReplayVerdict::kOk) return DropReason::kReplay;

  if (tunnel) {
    // RFC 4301 §5.2: the inner packet must be a sane IP packet of the family AH announced.
    const size_t inner_off = loc.ah_offset + ah_len;
    const size_t inner_len = loc.packet_len - inner_off;
    std::byte* inner = pkt + inner_off;
    const ip::IpInfo ii = ip::ParseIp(Bytes(inner, inner_len), /*allow_trailing=*/false);
    if (ii.version == 0 || (ii.version == 4) != (next == ip::kProtoIpv4)) return DropReason::kBadInner;
    if (ii.version == 4 && !ip::Ipv4ChecksumOk(inner, ii.header_len)) return DropReason::kBadInner;
    uint8_t ecn = 0;
    if (!CombineEcn(ii.tos & 0x03, TrafficClass(pkt, v6) & 0x03, &ecn)) return DropReason::kEcnDrop;
    if (config_.decrement_inner_ttl && ii.ttl <= 1) return DropReason::kTtlExceeded;
    const bool rewrite = ecn != (ii.tos & 0x03) || config_.decrement_inner_ttl;
    if (rewrite) {
      const uint8_t tos = static_cast<uint8_t>((ii.tos & 0xfc) | ecn);
      const uint8_t ttl = static_cast<uint8_t>(config_.decrement_inner_ttl ? ii.ttl - 1 : ii.ttl);
      if (ii.version == 4) {
        inner[1] = std::byte{tos};
        inner[8] = std::byte{ttl};
        ip::SetIpv4Checksum(inner, ii.header_len);
      } else {
        ip::SetIpv6TrafficClass(inner, tos);
        inner[7] = std::byte{ttl};
      }
    }
    p.TrimFront(static_cast<uint32_t>(inner_off));
    p.length = static_cast<uint32_t>(inner_len);  // drops link-layer trailing bytes
    *inner_bytes = inner_len;
    return DropReason::kOk;
  }

  // Transport: restore the next header, close the gap, fix the length (and IPv4 checksum).
  const size_t hdr_len = loc.ah_offset;
  pkt[loc.nh_offset] = std::byte{next};
  std::memmove(pkt + ah_len, pkt, hdr_len);
  p.TrimFront(static_cast<uint32_t>(ah_len));
  p.length = static_cast<uint32_t>(loc.packet_len - ah_len);
  std::byte* h = p.data();
  if (v6) {
    StoreU16Be(h + 4, static_cast<uint16_t>(p.length - ip::kIpv6Header));
  } else {
    StoreU16Be(h + 2, static_cast<uint16_t>(p.length));
    ip::SetIpv4Checksum(h, hdr_len);
  }
  *inner_bytes = p.length;
  return DropReason::kOk;
}

size_t AhSa::ProcessInbound(std::span<PacketBuf* const> pkts, std::span<DropReason> status) {
  const size_t n = std::min(pkts.size(), status.size());
  if (config_.direction != sa::Direction::kInbound) {
    for (size_t i = 0; i < n; ++i) Drop(DropReason::kWrongDirection, &status[i]);
    return 0;
  }
  size_t done = 0;
  for (size_t i = 0; i < n; ++i) {
    if (lifetime_.expired()) {
      Drop(DropReason::kHardLifetime, &status[i]);
      continue;
    }
    uint64_t inner_bytes = 0;
    const DropReason r = pkts[i] == nullptr ? DropReason::kMalformed : InboundOne(*pkts[i], &inner_bytes);
    if (r != DropReason::kOk) {
      Drop(r, &status[i]);
      continue;
    }
    status[i] = DropReason::kOk;
    ++done;
    ++counters_.packets;
    counters_.bytes += inner_bytes;
    lifetime_.Account(1, inner_bytes, config_.spi, config_.direction, events_);
  }
  return done;
}

StatusOr<uint32_t> PeekAhSpi(Bytes ip_packet) {
  AhLocation loc;
  if (!LocateAh(ip_packet, &loc)) return InvalidArgumentError("not a well-formed AH packet");
  return LoadU32Be(&ip_packet[loc.ah_offset + kAhSpiOffset]);
}

}  // namespace ipsec::ah
