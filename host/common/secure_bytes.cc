// SecureBytes and constant-time comparison.
#include "host/common/secure_bytes.h"

#include <openssl/crypto.h>

#include <cstring>

namespace ipsec {

void SecureZero(void* p, size_t n) {
  if (p != nullptr && n != 0) OPENSSL_cleanse(p, n);
}

bool ConstantTimeEqual(std::span<const std::byte> a, std::span<const std::byte> b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

SecureBytes::SecureBytes(std::span<const std::byte> data)
    : data_(std::make_unique<std::byte[]>(data.size())), size_(data.size()) {
  if (size_ != 0) std::memcpy(data_.get(), data.data(), size_);
}

SecureBytes::SecureBytes(size_t size) : data_(std::make_unique<std::byte[]>(size)), size_(size) {}

SecureBytes::~SecureBytes() { Clear(); }

SecureBytes::SecureBytes(SecureBytes&& other) noexcept
    : data_(std::move(other.data_)), size_(other.size_) {
  other.size_ = 0;
}

SecureBytes& SecureBytes::operator=(SecureBytes&& other) noexcept {
  if (this != &other) {
    Clear();
    data_ = std::move(other.data_);
    size_ = other.size_;
    other.size_ = 0;
  }
  return *this;
}

void SecureBytes::Clear() {
  SecureZero(data_.get(), size_);
  data_.reset();
  size_ = 0;
}

}  // namespace ipsec
