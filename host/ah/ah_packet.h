// AH wire format constants and the walk that finds the AH header in a received IP packet.
//
// RFC 4302 §2: the AH header, as carried after the IP header (and, for IPv6, after the extension
// headers that precede it, §3.1.1):
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | Next Header   |  Payload Len  |          RESERVED             |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                 Security Parameters Index (SPI)               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    Sequence Number Field                      |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                [IV: 8 bytes, AES-GMAC only, RFC 4543 §5]      |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                Integrity Check Value-ICV (variable)           |
//   |                [+ padding to 32 bits (IPv4) / 64 bits (IPv6)] |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Payload Len is the AH length in 32-bit words minus 2 (§2.2).
#pragma once

#include <cstddef>
#include <cstdint>

#include "host/common/bytes.h"

namespace ipsec::ah {

inline constexpr size_t kAhFixedHeader = 12;  // next header .. sequence number
inline constexpr size_t kAhNextHeaderOffset = 0;
inline constexpr size_t kAhPayloadLenOffset = 1;
inline constexpr size_t kAhReservedOffset = 2;
inline constexpr size_t kAhSpiOffset = 4;
inline constexpr size_t kAhSeqOffset = 8;
inline constexpr size_t kAhIvOffset = 12;  // GMAC only; the ICV follows the IV (if any)

// Length of the whole AH header for an ICV of icv_len bytes after an IV of iv_len bytes, padded
// as RFC 4302 §2.6 and §3.3.3.2.1 require: to 4 bytes in IPv4, 8 bytes in IPv6.
constexpr size_t AhHeaderLen(size_t iv_len, size_t icv_len, bool ipv6) {
  const size_t raw = kAhFixedHeader + iv_len + icv_len;
  const size_t align = ipv6 ? 8 : 4;
  return (raw + align - 1) / align * align;
}

// Where the AH header sits in a received packet.
struct AhLocation {
  uint8_t version = 0;    // 4 or 6 (outer header)
  size_t packet_len = 0;  // from the IP length field; link-layer trailing bytes are excluded
  size_t ah_offset = 0;   // first byte of AH
  size_t nh_offset = 0;   // the Next Header / Protocol byte that names AH (IPv4: 9)
};

// Finds the AH header of a packet that starts at its IP header. IPv4: right after the header and
// its options. IPv6: after Hop-by-Hop, Routing and Destination Options headers (RFC 4302 §3.1.1).
// Returns false for anything malformed or not AH: not a sane IP packet, an IP fragment (RFC 4302
// §3.4.1: AH is verified on whole datagrams only; an IPv6 Fragment header before AH counts), an
// extension chain that runs past the packet, or fewer than kAhFixedHeader bytes of AH. Does not
// check the IPv4 header checksum (the caller may).
bool LocateAh(Bytes pkt, AhLocation* loc);

}  // namespace ipsec::ah
