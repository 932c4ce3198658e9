// WireWriter: growable big-endian writer (see wire_writer.h).
#include "host/ike/encoding/wire_writer.h"

namespace ipsec::ike {

void WireWriter::WriteU16Be(uint16_t v) {
  const size_t at = out_.size();
  out_.resize(at + 2);
  StoreU16Be(&out_[at], v);
}

void WireWriter::WriteU32Be(uint32_t v) {
  const size_t at = out_.size();
  out_.resize(at + 4);
  StoreU32Be(&out_[at], v);
}

void WireWriter::WriteU64Be(uint64_t v) {
  const size_t at = out_.size();
  out_.resize(at + 8);
  StoreU64Be(&out_[at], v);
}

void WireWriter::PatchU16Be(size_t at, uint16_t v) { StoreU16Be(out_.data() + at, v); }

void WireWriter::PatchU32Be(size_t at, uint32_t v) { StoreU32Be(out_.data() + at, v); }

}  // namespace ipsec::ike
