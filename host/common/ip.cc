// IPv4/IPv6 header helpers.
#include "host/common/ip.h"

#include <bit>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace ipsec::ip {
namespace {

#if defined(__x86_64__)
// The 32-bit little-endian words of `blocks` 32-byte blocks summed into 64 bits (no carries lost
// below 2^32 blocks): 8 words per step, split into even and odd halves of 64-bit lanes.
__attribute__((target("avx2"))) uint64_t SumWordsAvx2(const std::byte* p, size_t blocks) {
  const __m256i mask = _mm256_set1_epi64x(0xffffffff);
  __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
  for (size_t i = 0; i < blocks; ++i) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32 * i));
    lo = _mm256_add_epi64(lo, _mm256_and_si256(v, mask));
    hi = _mm256_add_epi64(hi, _mm256_srli_epi64(v, 32));
  }
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), _mm256_add_epi64(lo, hi));
  return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}
const bool kHaveAvx2 = __builtin_cpu_supports("avx2");
#endif

}  // namespace

uint32_t ChecksumPartial(Bytes data, uint32_t sum) {
  // RFC 1071 §2(B): the one's-complement sum does not depend on byte order, so sum 64-bit words in
  // native order, counting the carries out of the 64-bit sum apart, fold to 16 bits, and swap
  // the bytes of the result on a little-endian host. Several times the 16-bit loop; TCP
  // segmentation and GRO checksum every byte they pass.
  const std::byte* p = data.data();
  size_t n = data.size();
  uint64_t acc = 0, carries = 0;
  auto add = [&](uint64_t w) {
    acc += w;
    carries += acc < w;
  };
#if defined(__x86_64__)
  // Sums of 32-bit words and of 64-bit words agree modulo 2^16 - 1 (2^32 and 2^64 are both 1).
  if (kHaveAvx2 && n >= 256) {
    const size_t blocks = n / 32;
    add(SumWordsAvx2(p, blocks));
    p += 32 * blocks;
    n -= 32 * blocks;
  }
#endif
  for (; n >= 32; n -= 32, p += 32) {
    uint64_t w[4];
    std::memcpy(w, p, 32);
    add(w[0]);
    add(w[1]);
    add(w[2]);
    add(w[3]);
  }
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    add(w);
  }
  // The rest in native order too (a word's place in the sum does not matter, as 2^16 = 1): a word
  // that starts at an even offset is a native 16-bit word here, and an odd last byte is the first
  // byte of a zero-padded word.
  if (n >= 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    add(w);
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    uint16_t w;
    std::memcpy(&w, p, 2);
    add(w);
    p += 2;
    n -= 2;
  }
  if (n == 1) {
    const uint64_t b = std::to_integer<uint64_t>(p[0]);
    add(std::endian::native == std::endian::little ? b : b << 8);
  }
  // Each carry out of bit 63 is worth 1 (2^64 = 1 in one's-complement arithmetic mod 2^16 - 1).
  uint64_t s64 = acc + carries;
  s64 += s64 < carries;
  s64 = (s64 & 0xffffffff) + (s64 >> 32);
  while (s64 >> 16) s64 = (s64 & 0xffff) + (s64 >> 16);
  uint32_t folded = static_cast<uint32_t>(s64);
  if constexpr (std::endian::native == std::endian::little) {
    folded = ((folded & 0xff) << 8) | (folded >> 8);
  }
  sum += folded;
  // Fold so that chained calls cannot overflow 32 bits.
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

uint16_t ChecksumFold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

void SetIpv4Checksum(std::byte* hdr, size_t hdr_len) {
  hdr[10] = std::byte{0};
  hdr[11] = std::byte{0};
  uint16_t c = static_cast<uint16_t>(~ChecksumFold(ChecksumPartial({hdr, hdr_len})));
  StoreU16Be(hdr + 10, c);
}

bool Ipv4ChecksumOk(const std::byte* hdr, size_t hdr_len) {
  return ChecksumFold(ChecksumPartial({hdr, hdr_len})) == 0xffff;
}

void SetIpv6TrafficClass(std::byte* hdr, uint8_t tc) {
  hdr[0] = std::byte((U8(hdr[0]) & 0xf0) | (tc >> 4));
  hdr[1] = std::byte(((tc & 0x0f) << 4) | (U8(hdr[1]) & 0x0f));
}

size_t Ipv6InsertionPoint(Bytes pkt, size_t* nh_offset) {
  if (pkt.size() < kIpv6Header) return 0;
  size_t off = kIpv6Header;
  size_t nh_off = 6;
  uint8_t nh = U8(pkt[6]);
  // Look ahead: a Destination Options header stays in front only if a Routing header follows it.
  for (int guard = 0; guard < 16; ++guard) {
    bool before = false;
    size_t len = 0;
    if (nh == kProtoHopByHop || nh == kProtoRouting || nh == kProtoDstOpts) {
      if (off + 2 > pkt.size()) return 0;
      len = (size_t{U8(pkt[off + 1])} + 1) * 8;
      if (nh == kProtoDstOpts) {
        // Peek at the header after this one.
        if (off + len + 0 > pkt.size()) return 0;
        before = U8(pkt[off]) == kProtoRouting;
      } else {
        before = true;
      }
    } else if (nh == kProtoFragment) {
      return 0;  // RFC 4301 §4.1: transport mode protects whole datagrams, not fragments
    }
    if (!before) {
      *nh_offset = nh_off;
      return off;
    }
    if (off + len > pkt.size()) return 0;
    nh_off = off;
    nh = U8(pkt[off]);
    off += len;
  }
  return 0;
}

uint32_t PseudoHeaderSum(const std::byte* src, const std::byte* dst, bool v6, uint8_t proto, uint32_t len) {
  const size_t alen = v6 ? 16 : 4;
  uint32_t sum = ChecksumPartial({src, alen});
  sum = ChecksumPartial({dst, alen}, sum);
  sum += proto;
  sum += len >> 16;
  sum += len & 0xffff;
  return sum;
}

}  // namespace ipsec::ip
