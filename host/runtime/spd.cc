#include "host/runtime/spd.h"

#include <algorithm>
#include <charconv>
#include <string>

#include "host/common/bytes.h"
#include "host/common/ip.h"

namespace ipsec::runtime {
namespace {

constexpr uint8_t kProtoSctp = 132;
constexpr uint8_t kProtoUdpLite = 136;
constexpr uint8_t kProtoDestOpts = 60;

bool CarriesPorts(uint8_t proto) {
  return proto == ip::kProtoTcp || proto == ip::kProtoUdp || proto == kProtoSctp || proto == kProtoUdpLite;
}

void AddressWords(const sa::IpAddress& a, uint64_t* hi, uint64_t* lo) {
  const std::byte* b = reinterpret_cast<const std::byte*>(a.bytes.data());
  if (a.v6) {
    *hi = LoadU64Be(b);
    *lo = LoadU64Be(b + 8);
  } else {
    *hi = uint64_t{LoadU32Be(b)} << 32;
    *lo = 0;
  }
}

// Mask words for a prefix length within the family's width (32 or 128 bits).
void MaskWords(uint8_t len, uint64_t* hi, uint64_t* lo) {
  *hi = len == 0 ? 0 : len >= 64 ? ~uint64_t{0} : ~uint64_t{0} << (64 - len);
  *lo = len <= 64 ? 0 : len >= 128 ? ~uint64_t{0} : ~uint64_t{0} << (128 - len);
}

}  // namespace

std::string_view PolicyActionName(PolicyAction a) {
  switch (a) {
    case PolicyAction::kProtect:
      return "protect";
    case PolicyAction::kBypass:
      return "bypass";
    case PolicyAction::kDiscard:
      return "discard";
  }
  return "?";
}

bool ExtractFlowKey(std::span<const std::byte> pkt, FlowKey* key) {
  *key = FlowKey{};
  if (pkt.empty()) return false;
  const std::byte* b = pkt.data();
  const size_t n = pkt.size();
  const uint8_t version = static_cast<uint8_t>(b[0]) >> 4;
  size_t l4 = 0;
  uint8_t proto = 0;
  bool first_fragment = true;
  if (version == 4) {
    if (n < 20) return false;
    const size_t ihl = size_t{static_cast<uint8_t>(b[0]) & 0x0fu} * 4;
    if (ihl < 20 || ihl > n) return false;
    key->src_hi = uint64_t{LoadU32Be(b + 12)} << 32;
    key->dst_hi = uint64_t{LoadU32Be(b + 16)} << 32;
    proto = static_cast<uint8_t>(b[9]);
    first_fragment = (LoadU16Be(b + 6) & 0x1fff) == 0;
    l4 = ihl;
  } else if (version == 6) {
    if (n < 40) return false;
    key->v6 = true;
    key->src_hi = LoadU64Be(b + 8);
    key->src_lo = LoadU64Be(b + 16);
    key->dst_hi = LoadU64Be(b + 24);
    key->dst_lo = LoadU64Be(b + 32);
    proto = static_cast<uint8_t>(b[6]);
    l4 = 40;
    // Walk the extension headers RFC 4301 §4.4.1.1 looks through.
    for (int hops = 0; hops < 8; ++hops) {
      if (proto == ip::kProtoHopByHop || proto == ip::kProtoRouting || proto == kProtoDestOpts) {
        if (l4 + 2 > n) return false;
        const uint8_t next = static_cast<uint8_t>(b[l4]);
        l4 += (size_t{static_cast<uint8_t>(b[l4 + 1])} + 1) * 8;
        proto = next;
      } else if (proto == ip::kProtoFragment) {
        if (l4 + 8 > n) return false;
        first_fragment = (LoadU16Be(b + l4 + 2) & 0xfff8) == 0;
        proto = static_cast<uint8_t>(b[l4]);
        l4 += 8;
      } else {
        break;
      }
    }
  } else {
    return false;
  }
  key->proto = proto;
  if (CarriesPorts(proto) && first_fragment && l4 + 4 <= n) {
    key->sport = LoadU16Be(b + l4);
    key->dport = LoadU16Be(b + l4 + 2);
    key->has_ports = true;
  }
  return true;
}

StatusOr<Prefix> Prefix::Parse(std::string_view text) {
  const size_t slash = text.find('/');
  Prefix p;
  ASSIGN_OR_RETURN(p.addr, sa::IpAddress::Parse(text.substr(0, slash)));
  const unsigned width = p.addr.v6 ? 128 : 32;
  if (slash == std::string_view::npos) {
    p.len = static_cast<uint8_t>(width);
    return p;
  }
  const std::string_view len = text.substr(slash + 1);
  unsigned v = 0;
  auto [ptr, ec] = std::from_chars(len.data(), len.data() + len.size(), v);
  if (ec != std::errc() || ptr != len.data() + len.size() || v > width) {
    return InvalidArgumentError("bad prefix length in '" + std::string(text) + "'");
  }
  p.len = static_cast<uint8_t>(v);
  return p;
}

StatusOr<uint32_t> Spd::Add(SpdRule rule) {
  if (rule.src.addr.v6 != rule.dst.addr.v6) return InvalidArgumentError("SPD rule mixes IPv4 and IPv6 selectors");
  const unsigned width = rule.src.addr.v6 ? 128 : 32;
  if (rule.src.len > width || rule.dst.len > width) return InvalidArgumentError("SPD prefix longer than the address");
  if (rule.sport.lo > rule.sport.hi || rule.dport.lo > rule.dport.hi) {
    return InvalidArgumentError("SPD port range with lo > hi");
  }
  if (rule.protocol != 0 && !CarriesPorts(rule.protocol) && (!rule.sport.any() || !rule.dport.any())) {
    return InvalidArgumentError("SPD port range on a protocol without ports");
  }
  rule.id = next_id_++;
  rules_.push_back(rule);
  std::stable_sort(rules_.begin(), rules_.end(), [](const SpdRule& a, const SpdRule& b) {
    return a.priority != b.priority ? a.priority < b.priority : a.id < b.id;
  });
  Rebuild();
  return rule.id;
}

bool Spd::Remove(uint32_t id) {
  auto it = std::find_if(rules_.begin(), rules_.end(), [id](const SpdRule& r) { return r.id == id; });
  if (it == rules_.end()) return false;
  rules_.erase(it);
  Rebuild();
  return true;
}

void Spd::Rebuild() {
  for (auto& t : tables_) t.clear();
  for (uint32_t i = 0; i < rules_.size(); ++i) {
    const SpdRule& r = rules_[i];
    Entry e{};
    // IPv4 sits in the top 32 bits of `hi`, so its prefix lengths count from the same bit.
    MaskWords(r.src.len, &e.src_mask_hi, &e.src_mask_lo);
    MaskWords(r.dst.len, &e.dst_mask_hi, &e.dst_mask_lo);
    AddressWords(r.src.addr, &e.src_hi, &e.src_lo);
    AddressWords(r.dst.addr, &e.dst_hi, &e.dst_lo);
    e.src_hi &= e.src_mask_hi;
    e.src_lo &= e.src_mask_lo;
    e.dst_hi &= e.dst_mask_hi;
    e.dst_lo &= e.dst_mask_lo;
    e.sport_lo = r.sport.lo;
    e.sport_hi = r.sport.hi;
    e.dport_lo = r.dport.lo;
    e.dport_hi = r.dport.hi;
    e.proto = r.protocol;
    e.needs_ports = !r.sport.any() || !r.dport.any();
    e.rule = i;
    tables_[Table(r.direction, r.src.addr.v6)].push_back(e);
  }
}

const SpdRule* Spd::Lookup(sa::Direction dir, const FlowKey& k) const {
  for (const Entry& e : tables_[Table(dir, k.v6)]) {
    if ((k.src_hi & e.src_mask_hi) != e.src_hi || (k.src_lo & e.src_mask_lo) != e.src_lo) continue;
    if ((k.dst_hi & e.dst_mask_hi) != e.dst_hi || (k.dst_lo & e.dst_mask_lo) != e.dst_lo) continue;
    if (e.proto != 0 && e.proto != k.proto) continue;
    if (e.needs_ports) {
      if (!k.has_ports) continue;
      if (k.sport < e.sport_lo || k.sport > e.sport_hi || k.dport < e.dport_lo || k.dport > e.dport_hi) continue;
    }
    return &rules_[e.rule];
  }
  return nullptr;
}

}  // namespace ipsec::runtime
