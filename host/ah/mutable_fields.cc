// Mutable-field handling for the AH ICV (RFC 4302 §3.3.3.1).
#include "host/ah/mutable_fields.h"

#include <cstring>

#include "host/common/ip.h"

namespace ipsec::ah {
namespace {

enum class EditKind : uint8_t {
  kIpv4Base,  // RFC 4302 §3.3.3.1.1.1
  kIpv6Base,  // §3.3.3.1.2.1
  kZero,      // a mutable option (IPv4 whole option, IPv6 option data)
  kRoutingType2,  // swap destination and home address, Segments Left = 0 (RFC 6275 §6.4)
};

struct Edit {
  EditKind kind;
  size_t offset = 0;  // kZero: first byte; kRoutingType2: start of the routing header
  size_t len = 0;     // kZero only
};

// Bytes and ranges each edit saves (see MutableFields::Clear).
constexpr size_t kIpv4BaseSaved = 12;  // version .. checksum
constexpr size_t kIpv6BaseSaved = 8;   // version/TC/flow label .. hop limit
constexpr size_t kIpv6DstOffset = 24;
constexpr size_t kIpv6AddrLen = 16;

// RFC 4302 Appendix A1: IPv4 options that are immutable (included in the ICV as they are).
bool Ipv4OptionImmutable(uint8_t type) {
  switch (type) {
    case 0:    // End of Options List
    case 1:    // No Operation
    case 130:  // Security
    case 133:  // Extended Security
    case 134:  // Commercial Security
    case 148:  // Router Alert
    case 149:  // Sender Directed Multi-Destination Delivery
      return true;
    default:
      return false;
  }
}

// Walks the headers in front of AH and reports each edit to `emit`, which returns false when it
// cannot take another one. Returns false when the headers are malformed or unsupported (see the
// table in mutable_fields.h). Reads every field it needs before emitting the edit that may change
// it, so `emit` may modify the packet as the walk goes.
template <typename Emit>
bool Walk(Bytes pkt, uint8_t version, size_t ah_offset, Emit&& emit) {
  if (version == 4) {
    if (pkt.size() < ip::kIpv4MinHeader) return false;
    const size_t ihl = size_t{U8(pkt[0]) & 0x0fu} * 4;
    if (ihl < ip::kIpv4MinHeader || ihl != ah_offset || ihl > pkt.size()) return false;
    if (!emit(Edit{EditKind::kIpv4Base})) return false;
    // §3.3.3.1.1.2: options, each classified as a unit.
    size_t i = ip::kIpv4MinHeader;
    while (i < ihl) {
      const uint8_t type = U8(pkt[i]);
      if (type == 0) break;  // End of Options List; what follows is (immutable) padding
      if (type == 1) {
        ++i;
        continue;
      }
      if (i + 2 > ihl) return false;
      const size_t len = U8(pkt[i + 1]);
      if (len < 2 || i + len > ihl) return false;
      // Loose/Strict Source Route: the destination address is "mutable but predictable"
      // (Appendix A1); not supported.
      if (type == 131 || type == 137) return false;
      if (!Ipv4OptionImmutable(type) && !emit(Edit{EditKind::kZero, i, len})) return false;
      i += len;
    }
    return true;
  }
  if (version != 6) return false;
  if (pkt.size() < ip::kIpv6Header || ah_offset < ip::kIpv6Header || ah_offset > pkt.size()) return false;
  if (!emit(Edit{EditKind::kIpv6Base})) return false;
  size_t off = ip::kIpv6Header;
  uint8_t nh = U8(pkt[6]);
  for (int guard = 0; off != ah_offset; ++guard) {
    if (guard == 16 || off + 8 > ah_offset) return false;
    const size_t len = (size_t{U8(pkt[off + 1])} + 1) * 8;
    if (off + len > ah_offset) return false;
    if (nh == ip::kProtoHopByHop || nh == ip::kProtoDstOpts) {
      // RFC 8200 §4.2 TLV options; the third-highest bit of the type says "may change en route".
      size_t i = off + 2;
      const size_t end = off + len;
      while (i < end) {
        const uint8_t type = U8(pkt[i]);
        if (type == 0) {  // Pad1
          ++i;
          continue;
        }
        if (i + 2 > end) return false;
        const size_t dlen = U8(pkt[i + 1]);
        if (i + 2 + dlen > end) return false;
        if ((type & 0x20) != 0 && dlen != 0 && !emit(Edit{EditKind::kZero, i + 2, dlen})) return false;
        i += 2 + dlen;
      }
    } else if (nh == ip::kProtoRouting) {
      const uint8_t routing_type = U8(pkt[off + 2]);
      const uint8_t segments_left = U8(pkt[off + 3]);
      if (segments_left != 0) {
        // RFC 6275 §6.4: type 2 carries exactly one address (Hdr Ext Len 2) and Segments Left 1.
        if (routing_type != 2 || len != 24 || segments_left != 1) return false;
        if (!emit(Edit{EditKind::kRoutingType2, off})) return false;
      }
    } else {
      return false;  // Fragment (§3.4.1), or a header that cannot precede AH
    }
    nh = U8(pkt[off]);
    off += len;
  }
  return true;
}

}  // namespace

bool MutableFields::Check(Bytes pkt, uint8_t version, size_t ah_offset) {
  size_t bytes = 0, ranges = 0;
  return Walk(pkt, version, ah_offset, [&](const Edit& e) {
    switch (e.kind) {
      case EditKind::kIpv4Base: bytes += kIpv4BaseSaved; ranges += 1; break;
      case EditKind::kIpv6Base: bytes += kIpv6BaseSaved; ranges += 1; break;
      case EditKind::kZero: bytes += e.len; ranges += 1; break;
      case EditKind::kRoutingType2: bytes += 2 * kIpv6AddrLen + 1; ranges += 3; break;
    }
    return bytes <= kMaxSavedBytes && ranges <= kMaxRanges;
  });
}

bool MutableFields::Save(MutableBytes pkt, size_t offset, size_t len) {
  if (num_ranges_ == kMaxRanges || used_ + len > kMaxSavedBytes) return false;
  std::memcpy(&saved_[used_], &pkt[offset], len);
  ranges_[num_ranges_++] = Range{static_cast<uint16_t>(offset), static_cast<uint16_t>(used_),
                                 static_cast<uint16_t>(len)};
  used_ += len;
  return true;
}

bool MutableFields::Clear(MutableBytes pkt, uint8_t version, size_t ah_offset) {
  num_ranges_ = 0;
  used_ = 0;
  const bool ok = Walk(pkt, version, ah_offset, [&](const Edit& e) {
    std::byte* p = pkt.data();
    switch (e.kind) {
      case EditKind::kIpv4Base:
        if (!Save(pkt, 0, kIpv4BaseSaved)) return false;
        p[1] = std::byte{0};                       // TOS
        p[6] = p[7] = std::byte{0};                // flags, fragment offset
        p[8] = std::byte{0};                       // TTL
        p[10] = p[11] = std::byte{0};              // header checksum
        return true;
      case EditKind::kIpv6Base:
        if (!Save(pkt, 0, kIpv6BaseSaved)) return false;
        p[0] &= std::byte{0xf0};                   // keep the version, zero the class
        p[1] = p[2] = p[3] = std::byte{0};         // traffic class, flow label
        p[7] = std::byte{0};                       // hop limit
        return true;
      case EditKind::kZero:
        if (!Save(pkt, e.offset, e.len)) return false;
        std::memset(p + e.offset, 0, e.len);
        return true;
      case EditKind::kRoutingType2: {
        const size_t home = e.offset + 8;
        if (!Save(pkt, kIpv6DstOffset, kIpv6AddrLen) || !Save(pkt, home, kIpv6AddrLen) ||
            !Save(pkt, e.offset + 3, 1)) {
          return false;
        }
        // Saved copies: the destination is at pool offset ranges_[n-3], home at ranges_[n-2].
        const Range& dst = ranges_[num_ranges_ - 3];
        const Range& hoa = ranges_[num_ranges_ - 2];
        std::memcpy(p + kIpv6DstOffset, &saved_[hoa.pool], kIpv6AddrLen);
        std::memcpy(p + home, &saved_[dst.pool], kIpv6AddrLen);
        p[e.offset + 3] = std::byte{0};            // Segments Left
        return true;
      }
    }
    return false;
  });
  if (!ok) {
    Restore(pkt);
    num_ranges_ = 0;
    used_ = 0;
  }
  return ok;
}

void MutableFields::Restore(MutableBytes pkt) const {
  for (size_t i = num_ranges_; i-- > 0;) {
    const Range& r = ranges_[i];
    std::memcpy(&pkt[r.offset], &saved_[r.pool], r.len);
  }
}

}  // namespace ipsec::ah
