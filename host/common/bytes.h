// Byte-order helpers, a bounds-checked ByteReader and ByteWriter, and hex conversion.
//
// Wire data is never reinterpret_cast to a struct: it is read field by field with explicit byte
// order in the function name (LoadU32Be). A failed ByteReader read leaves the reader failed; callers
// check ok() once at the end of a parse, as QUICHE's QuicheDataReader does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "host/common/status.h"

namespace ipsec {

using Bytes = std::span<const std::byte>;
using MutableBytes = std::span<std::byte>;

inline uint16_t LoadU16Be(const std::byte* p) {
  return static_cast<uint16_t>((std::to_integer<uint16_t>(p[0]) << 8) | std::to_integer<uint16_t>(p[1]));
}
inline uint32_t LoadU32Be(const std::byte* p) {
  return (std::to_integer<uint32_t>(p[0]) << 24) | (std::to_integer<uint32_t>(p[1]) << 16) |
         (std::to_integer<uint32_t>(p[2]) << 8) | std::to_integer<uint32_t>(p[3]);
}
inline uint64_t LoadU64Be(const std::byte* p) {
  return (uint64_t{LoadU32Be(p)} << 32) | LoadU32Be(p + 4);
}
inline void StoreU16Be(std::byte* p, uint16_t v) {
  p[0] = std::byte(v >> 8);
  p[1] = std::byte(v & 0xff);
}
inline void StoreU32Be(std::byte* p, uint32_t v) {
  p[0] = std::byte(v >> 24);
  p[1] = std::byte((v >> 16) & 0xff);
  p[2] = std::byte((v >> 8) & 0xff);
  p[3] = std::byte(v & 0xff);
}
inline void StoreU64Be(std::byte* p, uint64_t v) {
  StoreU32Be(p, static_cast<uint32_t>(v >> 32));
  StoreU32Be(p + 4, static_cast<uint32_t>(v));
}
inline uint8_t U8(std::byte b) { return std::to_integer<uint8_t>(b); }

class ByteReader {
 public:
  explicit ByteReader(Bytes data) : data_(data) {}

  bool ReadU8(uint8_t* v) {
    if (!Need(1)) return false;
    *v = U8(data_[pos_]);
    pos_ += 1;
    return true;
  }
  bool ReadU16Be(uint16_t* v) {
    if (!Need(2)) return false;
    *v = LoadU16Be(&data_[pos_]);
    pos_ += 2;
    return true;
  }
  bool ReadU32Be(uint32_t* v) {
    if (!Need(4)) return false;
    *v = LoadU32Be(&data_[pos_]);
    pos_ += 4;
    return true;
  }
  bool ReadU64Be(uint64_t* v) {
    if (!Need(8)) return false;
    *v = LoadU64Be(&data_[pos_]);
    pos_ += 8;
    return true;
  }
  bool ReadBytes(size_t n, Bytes* out) {
    if (!Need(n)) return false;
    *out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool Skip(size_t n) {
    if (!Need(n)) return false;
    pos_ += n;
    return true;
  }
  size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }
  size_t position() const { return pos_; }
  Bytes Rest() const { return ok_ ? data_.subspan(pos_) : Bytes(); }
  bool ok() const { return ok_; }

 private:
  bool Need(size_t n) {
    if (!ok_ || data_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    return true;
  }
  Bytes data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

class ByteWriter {
 public:
  explicit ByteWriter(MutableBytes out) : out_(out) {}
  bool WriteU8(uint8_t v) {
    if (!Need(1)) return false;
    out_[pos_++] = std::byte(v);
    return true;
  }
  bool WriteU16Be(uint16_t v) {
    if (!Need(2)) return false;
    StoreU16Be(&out_[pos_], v);
    pos_ += 2;
    return true;
  }
  bool WriteU32Be(uint32_t v) {
    if (!Need(4)) return false;
    StoreU32Be(&out_[pos_], v);
    pos_ += 4;
    return true;
  }
  bool WriteU64Be(uint64_t v) {
    if (!Need(8)) return false;
    StoreU64Be(&out_[pos_], v);
    pos_ += 8;
    return true;
  }
  bool WriteBytes(Bytes b) {
    if (!Need(b.size())) return false;
    if (!b.empty()) std::memcpy(&out_[pos_], b.data(), b.size());
    pos_ += b.size();
    return true;
  }
  size_t position() const { return pos_; }
  bool ok() const { return ok_; }

 private:
  bool Need(size_t n) {
    if (!ok_ || out_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    return true;
  }
  MutableBytes out_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Hex helpers for configuration files, tests and tools (never for keys in logs).
StatusOr<std::vector<std::byte>> HexDecode(std::string_view hex);
std::string HexEncode(Bytes data);

inline Bytes AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

}  // namespace ipsec
