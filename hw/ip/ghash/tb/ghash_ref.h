// Software reference for the GHASH RTL benches: GF(2^128) multiply per NIST SP 800-38D §6.3
// Algorithm 1 (bit-serial, deliberately unlike the RTL's limb-coded product), GHASH, and the
// packing of blocks into the 128-bit-per-lane vectors of the Verilated ports.
//
// Byte order: a Block holds the bytes of a GCM block in order; byte 0 is bits [127:120] of the
// RTL vector, as in the GCM spec hex dumps.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

namespace ipsec::hw::ghash {

using Block = std::array<uint8_t, 16>;

inline Block BlockFromHex(const std::string& hex) {
  Block b{};
  for (size_t i = 0; i < 16 && 2 * i + 1 < hex.size(); ++i) {
    b[i] = static_cast<uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
  }
  return b;
}

inline std::vector<uint8_t> BytesFromHex(const std::string& hex) {
  std::vector<uint8_t> v(hex.size() / 2);
  for (size_t i = 0; i < v.size(); ++i) {
    v[i] = static_cast<uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
  }
  return v;
}

inline std::string ToHex(const Block& b) {
  std::string s;
  char buf[3];
  for (uint8_t x : b) {
    std::snprintf(buf, sizeof(buf), "%02x", x);
    s += buf;
  }
  return s;
}

// SP 800-38D Algorithm 1: Z = X * Y. Bit i of a block is bit (7 - i % 8) of byte i / 8; the
// block is held as a big-endian 128-bit integer (hi = bytes 0..7) so "rightshift" is a shift.
inline Block GfMulRef(const Block& x, const Block& y) {
  auto load = [](const Block& b, int off) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | b[off + i];
    return v;
  };
  uint64_t zh = 0, zl = 0;
  uint64_t vh = load(y, 0), vl = load(y, 8);
  for (int i = 0; i < 128; ++i) {
    if ((x[i / 8] >> (7 - i % 8)) & 1) {
      zh ^= vh;
      zl ^= vl;
    }
    const bool lsb = vl & 1;                  // bit 127 of V
    vl = (vl >> 1) | (vh << 63);
    vh >>= 1;
    if (lsb) vh ^= 0xe100000000000000ull;     // R = 11100001 || 0^120
  }
  Block z{};
  for (int i = 0; i < 8; ++i) {
    z[i] = static_cast<uint8_t>(zh >> (56 - 8 * i));
    z[8 + i] = static_cast<uint8_t>(zl >> (56 - 8 * i));
  }
  return z;
}

inline Block Xor(Block a, const Block& b) {
  for (int i = 0; i < 16; ++i) a[i] ^= b[i];
  return a;
}

// The GHASH input of SP 800-38D §7.1 step 5: A || 0^v || C || 0^u || [len(A)]64 || [len(C)]64.
inline std::vector<Block> GhashBlocks(std::span<const uint8_t> aad, std::span<const uint8_t> text) {
  std::vector<Block> out;
  for (auto data : {aad, text}) {
    for (size_t off = 0; off < data.size(); off += 16) {
      Block b{};
      for (size_t i = 0; i < 16 && off + i < data.size(); ++i) b[i] = data[off + i];
      out.push_back(b);
    }
  }
  Block len{};
  const uint64_t abits = uint64_t{aad.size()} * 8, cbits = uint64_t{text.size()} * 8;
  for (int i = 0; i < 8; ++i) {
    len[i] = static_cast<uint8_t>(abits >> (56 - 8 * i));
    len[8 + i] = static_cast<uint8_t>(cbits >> (56 - 8 * i));
  }
  out.push_back(len);
  return out;
}

inline Block GhashRef(const Block& h, const std::vector<Block>& blocks) {
  Block y{};
  for (const Block& b : blocks) y = GfMulRef(Xor(y, b), h);
  return y;
}

// H^1..H^n, as the software computes them when it installs an SA.
inline std::vector<Block> HPowers(const Block& h, int n) {
  std::vector<Block> p{h};
  while (static_cast<int>(p.size()) < n) p.push_back(GfMulRef(p.back(), h));
  return p;
}

// Verilated wide ports: 32-bit words, word 0 = bits [31:0]. Block `lane` occupies bits
// [lane*128 +: 128], its byte 0 in the top byte of word 4*lane+3.
template <typename Wide>
void PutBlock(Wide& w, int lane, const Block& b) {
  for (int word = 0; word < 4; ++word) {
    const int base = 12 - 4 * word;
    w[4 * lane + word] = (uint32_t{b[base]} << 24) | (uint32_t{b[base + 1]} << 16) |
                         (uint32_t{b[base + 2]} << 8) | uint32_t{b[base + 3]};
  }
}

template <typename Wide>
Block GetBlock(const Wide& w, int lane) {
  Block b{};
  for (int word = 0; word < 4; ++word) {
    const uint32_t v = w[4 * lane + word];
    const int base = 12 - 4 * word;
    b[base] = static_cast<uint8_t>(v >> 24);
    b[base + 1] = static_cast<uint8_t>(v >> 16);
    b[base + 2] = static_cast<uint8_t>(v >> 8);
    b[base + 3] = static_cast<uint8_t>(v);
  }
  return b;
}

}  // namespace ipsec::hw::ghash
