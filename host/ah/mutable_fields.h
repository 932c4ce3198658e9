// MutableFields: puts the IP header (and IPv6 extension headers in front of AH) into the form the
// AH ICV is computed over (RFC 4302 §3.3.3.1), in place, and puts the original bytes back after.
//
// Nothing is copied per packet except the few bytes that change; they are saved in this object,
// which lives on the caller's stack (no allocation). Treatment, by RFC 4302 section:
//
//   IPv4 base header (§3.3.3.1.1.1): TOS, flags + fragment offset, TTL and header checksum are
//     zeroed; version, IHL, total length, identification, protocol and addresses are kept.
//   IPv4 options (§3.3.3.1.1.2, Appendix A1): End of Options List, No Operation, Security (130),
//     Extended Security (133), Commercial Security (134), Router Alert (148) and Sender Directed
//     Multi-Destination Delivery (149) are immutable and kept; every other option is treated as
//     mutable and zeroed whole (type, length and data). Loose and Strict Source Route (131, 137)
//     make the destination address "mutable but predictable"; they are not supported and the
//     packet is refused (the caller drops it as malformed).
//   IPv6 base header (§3.3.3.1.2.1): traffic class, flow label and hop limit are zeroed.
//   Hop-by-Hop and Destination Options (§3.3.3.1.2.2): the Option Data of every option whose type
//     has the "may change en route" bit (0x20, RFC 8200 §4.2) is zeroed.
//   Routing header (§3.3.3.1.2.2, "mutable but predictable"): with Segments Left = 0 the header is
//     already in its final form and is kept. Type 2 (RFC 6275 §6.4) with Segments Left = 1 is put
//     into its form at the final destination: the IPv6 destination and the home address in the
//     routing header are swapped and Segments Left set to 0. Any other routing header with
//     Segments Left > 0 is refused: type 0 is deprecated (RFC 5095) and other types' final form is
//     not predictable here.
//   Fragment header before AH: refused (AH covers whole datagrams only, §3.1.1 and §3.4.1).
//
// Only the headers in front of AH are touched; extension headers after AH are immutable payload.
// The AH ICV field itself is zeroed by the caller (§3.3.3.2.1); padding after the ICV is kept.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "host/common/bytes.h"

namespace ipsec::ah {

class MutableFields {
 public:
  // Bounds on what one packet may need saved. A packet whose mutable IPv6 option data exceeds them
  // is refused (real option sets are a few bytes; IPv4 needs at most 12 + 40).
  static constexpr size_t kMaxSavedBytes = 256;
  static constexpr size_t kMaxRanges = 24;

  MutableFields() = default;
  MutableFields(const MutableFields&) = delete;
  MutableFields& operator=(const MutableFields&) = delete;

  // True when Clear() would succeed on this packet. Reads only.
  // `pkt` is the IP packet (exactly its IP length); `ah_offset` is where AH starts (or, before
  // insertion on output, where it will start). `version` is 4 or 6.
  [[nodiscard]] static bool Check(Bytes pkt, uint8_t version, size_t ah_offset);

  // Saves and then zeroes/rewrites the mutable fields in place. On false nothing was changed.
  [[nodiscard]] bool Clear(MutableBytes pkt, uint8_t version, size_t ah_offset);

  // Writes the saved bytes back. Call once after a successful Clear().
  void Restore(MutableBytes pkt) const;

 private:
  struct Range {
    uint16_t offset;  // in the packet
    uint16_t pool;    // in saved_
    uint16_t len;
  };
  bool Save(MutableBytes pkt, size_t offset, size_t len);

  std::array<std::byte, kMaxSavedBytes> saved_;  // uninitialised on purpose: only used bytes are read
  std::array<Range, kMaxRanges> ranges_;
  size_t num_ranges_ = 0;
  size_t used_ = 0;
};

}  // namespace ipsec::ah
