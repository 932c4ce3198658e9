// SecureBytes: a move-only owner of key material that zeroizes itself, and constant-time compare.
//
// Keys never leave this container except as a span handed to a crypto context's constructor, which
// expands them into its own (also zeroized) state. There is no operator<< and no hex accessor, so a
// key cannot be logged by accident.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

namespace ipsec {

// Wipes memory in a way the compiler may not elide (OPENSSL_cleanse).
void SecureZero(void* p, size_t n);

// Constant-time equality of two equal-length byte strings. Returns false on length mismatch
// (lengths are public).
bool ConstantTimeEqual(std::span<const std::byte> a, std::span<const std::byte> b);

class SecureBytes {
 public:
  SecureBytes() = default;
  explicit SecureBytes(std::span<const std::byte> data);
  explicit SecureBytes(size_t size);  // zero-filled
  ~SecureBytes();
  SecureBytes(SecureBytes&& other) noexcept;
  SecureBytes& operator=(SecureBytes&& other) noexcept;
  SecureBytes(const SecureBytes&) = delete;
  SecureBytes& operator=(const SecureBytes&) = delete;

  // An explicit, greppable copy for the rare place that needs one (e.g. installing one key in two
  // directions' contexts).
  SecureBytes Clone() const { return SecureBytes(span()); }

  std::span<const std::byte> span() const { return {data_.get(), size_}; }
  std::span<std::byte> mutable_span() { return {data_.get(), size_}; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void Clear();

 private:
  std::unique_ptr<std::byte[]> data_;
  size_t size_ = 0;
};

}  // namespace ipsec
