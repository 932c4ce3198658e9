// WireWriter: an append-only, growable big-endian byte buffer for building IKE messages.
//
// The project's ByteWriter writes into a caller-sized span; IKE messages are built front to back
// with lengths that are only known once a payload's body is written, so this writer grows and lets
// the encoder patch a length field it reserved earlier (PatchU16Be/PatchU32Be at a position it got
// from size()). Writes cannot fail; representability (a length fitting its field) is checked by
// the encoders before patching.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "host/common/bytes.h"

namespace ipsec::ike {

class WireWriter {
 public:
  void WriteU8(uint8_t v) { out_.push_back(std::byte{v}); }
  void WriteU16Be(uint16_t v);
  void WriteU32Be(uint32_t v);
  void WriteU64Be(uint64_t v);
  void WriteBytes(Bytes b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void WriteZeros(size_t n) { out_.insert(out_.end(), n, std::byte{0}); }

  // Overwrite bytes previously written at `at`. Precondition: at + width <= size().
  void PatchU16Be(size_t at, uint16_t v);
  void PatchU32Be(size_t at, uint32_t v);

  size_t size() const { return out_.size(); }
  const std::vector<std::byte>& data() const { return out_; }
  std::vector<std::byte> Take() && { return std::move(out_); }

 private:
  std::vector<std::byte> out_;
};

}  // namespace ipsec::ike
