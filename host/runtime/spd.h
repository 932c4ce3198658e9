// Spd: the security policy database of the runtime (RFC 4301 §4.4.1). Rules map selectors (source
// and destination prefixes, IPv4 or IPv6, IP protocol, source and destination port ranges) to an
// action: protect (through an SA bundle, i.e. a runtime tunnel), bypass or discard.
//
// Matching: the rule with the lowest `priority` value that matches wins; among equal priorities
// the one added first. Rules are kept per direction and address family, sorted, with addresses
// pre-masked into two 64-bit words, so Lookup is a linear scan of compact entries that never
// allocates or locks. (A gateway with tens of thousands of rules would want a decision tree; the
// interface does not change.)
//
// Ports: a rule whose port ranges are not the full 0..65535 matches only packets that carry ports
// (TCP, UDP, SCTP, UDP-Lite, and not a non-first fragment), as RFC 4301 §4.4.1.1 OPAQUE.
//
// Thread safety: an Spd is a value; the runtime publishes immutable copies to its data path.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "host/common/status.h"
#include "host/sa/sa_config.h"

namespace ipsec::runtime {

// The selector fields of one packet, addresses as two big-endian 64-bit words (IPv4 in the top
// 32 bits of `hi`).
struct FlowKey {
  uint64_t src_hi = 0, src_lo = 0, dst_hi = 0, dst_lo = 0;
  uint16_t sport = 0, dport = 0;
  uint8_t proto = 0;
  bool v6 = false;
  bool has_ports = false;
};

// Reads the selectors of an IPv4/IPv6 packet starting at its IP header (IPv6 extension headers
// are walked). False when the packet is too short or not IP.
bool ExtractFlowKey(std::span<const std::byte> pkt, FlowKey* key);

struct Prefix {
  sa::IpAddress addr;  // the family is addr.v6
  uint8_t len = 0;

  // "10.0.0.0/8", "2001:db8::/32", "192.0.2.1" (a host).
  static StatusOr<Prefix> Parse(std::string_view text);
  static Prefix Any(bool v6) {
    Prefix p;
    p.addr.v6 = v6;
    return p;
  }
};

struct PortRange {
  uint16_t lo = 0, hi = 65535;
  bool any() const { return lo == 0 && hi == 65535; }
};

enum class PolicyAction : uint8_t { kProtect, kBypass, kDiscard };
std::string_view PolicyActionName(PolicyAction a);

struct SpdRule {
  uint32_t id = 0;       // set by Spd::Add
  int32_t priority = 0;  // lower wins
  sa::Direction direction = sa::Direction::kOutbound;
  Prefix src = Prefix::Any(false);
  Prefix dst = Prefix::Any(false);
  uint8_t protocol = 0;  // 0: any
  PortRange sport, dport;
  PolicyAction action = PolicyAction::kDiscard;
  uint32_t tunnel = 0;  // kProtect: the SA bundle (runtime tunnel id)
};

class Spd {
 public:
  // Validates (src and dst of one family, prefix lengths, port ranges) and returns the rule's id.
  StatusOr<uint32_t> Add(SpdRule rule);
  // False when no rule has this id.
  bool Remove(uint32_t id);
  // The winning rule, or nullptr. No allocation, no lock.
  const SpdRule* Lookup(sa::Direction dir, const FlowKey& key) const;
  size_t size() const { return rules_.size(); }
  const std::vector<SpdRule>& rules() const { return rules_; }

 private:
  struct Entry {
    uint64_t src_hi, src_lo, src_mask_hi, src_mask_lo;
    uint64_t dst_hi, dst_lo, dst_mask_hi, dst_mask_lo;
    uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
    uint8_t proto;
    bool needs_ports;
    uint32_t rule;  // index into rules_
  };
  void Rebuild();
  static size_t Table(sa::Direction dir, bool v6) { return (dir == sa::Direction::kInbound ? 2 : 0) + (v6 ? 1 : 0); }

  std::vector<SpdRule> rules_;  // sorted by (priority, id)
  std::array<std::vector<Entry>, 4> tables_;
  uint32_t next_id_ = 1;
};

}  // namespace ipsec::runtime
