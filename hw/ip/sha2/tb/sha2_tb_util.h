// SPDX-License-Identifier: Apache-2.0
//
// Helpers shared by the SHA-2 RTL benches: a software SHA-256 compression (FIPS 180-4 §6.2.2)
// used to precompute HMAC ipad/opad states the way SA-install software does, hex helpers, and
// conversions between byte strings and the Verilated port types.
//
// Port conventions of the RTL (see sha2_pkg.sv): 256-bit states and 512-bit blocks are
// big-endian (H0 / W0 / byte 0 in the top bits); message beats carry byte 0 in bits [7:0].
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/sha.h>
#include <verilated.h>

namespace ipsec::hw::sha2_tb {

using Bytes = std::vector<uint8_t>;
using State = std::array<uint32_t, 8>;

inline constexpr State kH0 = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                              0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

inline uint32_t Rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

// One SHA-256 compression of a 64-byte block.
inline State Compress(const State& h, const uint8_t* block) {
  static constexpr uint32_t kK[64] = {
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
      0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
      0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
      0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
      0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
      0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
      0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
      0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
      0xc67178f2};
  uint32_t w[64];
  for (int t = 0; t < 16; ++t) {
    w[t] = uint32_t{block[4 * t]} << 24 | uint32_t{block[4 * t + 1]} << 16 |
           uint32_t{block[4 * t + 2]} << 8 | block[4 * t + 3];
  }
  for (int t = 16; t < 64; ++t) {
    uint32_t s0 = Rotr(w[t - 15], 7) ^ Rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
    uint32_t s1 = Rotr(w[t - 2], 17) ^ Rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
    w[t] = w[t - 16] + s0 + w[t - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int t = 0; t < 64; ++t) {
    uint32_t t1 = hh + (Rotr(e, 6) ^ Rotr(e, 11) ^ Rotr(e, 25)) + ((e & f) ^ (~e & g)) + kK[t] + w[t];
    uint32_t t2 = (Rotr(a, 2) ^ Rotr(a, 13) ^ Rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  return {h[0] + a, h[1] + b, h[2] + c, h[3] + d, h[4] + e, h[5] + f, h[6] + g, h[7] + hh};
}

// What SA-install software does (RFC 2104 §2): keys longer than the block are hashed first,
// then padded with zeros to 64 bytes, XORed with ipad/opad and absorbed into one block each.
struct HmacStates {
  State istate;
  State ostate;
};

inline HmacStates PrecomputeHmac(const Bytes& key) {
  uint8_t k[64] = {};
  if (key.size() > 64) {
    SHA256(key.data(), key.size(), k);
  } else {
    std::copy(key.begin(), key.end(), k);
  }
  uint8_t ipad[64], opad[64];
  for (int i = 0; i < 64; ++i) {
    ipad[i] = k[i] ^ 0x36;
    opad[i] = k[i] ^ 0x5c;
  }
  return {Compress(kH0, ipad), Compress(kH0, opad)};
}

inline Bytes FromHex(std::string_view hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoul(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

inline std::string ToHex(const uint8_t* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += kDigits[p[i] >> 4];
    s += kDigits[p[i] & 15];
  }
  return s;
}
inline std::string ToHex(const Bytes& b) { return ToHex(b.data(), b.size()); }

// ---- Verilated port conversions ----

// Big-endian state: word i of the state (H_i) in bits [255-32i -: 32].
template <size_t N>
void SetState(VlWide<N>& port, const State& s) {
  static_assert(N == 8);
  for (int i = 0; i < 8; ++i) port[7 - i] = s[i];
}

// 256-bit big-endian port to bytes (byte 0 = bits [255:248]).
template <size_t N>
Bytes GetBytesBe(const VlWide<N>& port) {
  Bytes out(4 * N);
  for (size_t i = 0; i < 4 * N; ++i) {
    out[i] = static_cast<uint8_t>(port[N - 1 - i / 4] >> (8 * (3 - i % 4)));
  }
  return out;
}

// 512-bit big-endian block port from 64 bytes.
template <size_t N>
void SetBytesBe(VlWide<N>& port, const uint8_t* p) {
  for (size_t i = 0; i < N; ++i) port[i] = 0;
  for (size_t i = 0; i < 4 * N; ++i) {
    port[N - 1 - i / 4] |= uint32_t{p[i]} << (8 * (3 - i % 4));
  }
}

// Beat port (byte 0 in bits [7:0]) from up to n bytes; the rest is filled with `junk` so the
// bench checks that bytes past in_bytes_i are ignored.
inline void SetBeat(QData& port, const uint8_t* p, size_t n, uint8_t junk) {
  port = 0;
  for (size_t i = 0; i < 8; ++i) port |= QData{i < n ? p[i] : junk} << (8 * i);
}
template <size_t N>
void SetBeat(VlWide<N>& port, const uint8_t* p, size_t n, uint8_t junk) {
  for (size_t i = 0; i < N; ++i) port[i] = 0;
  for (size_t i = 0; i < 4 * N; ++i) {
    port[i / 4] |= uint32_t{i < n ? p[i] : junk} << (8 * (i % 4));
  }
}

}  // namespace ipsec::hw::sha2_tb
