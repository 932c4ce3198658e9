// Anti-replay window (RFC 6479 buckets, RFC 4303 A2.1 ESN inference).
#include "host/sa/replay_window.h"

#include <algorithm>
#include <bit>

namespace ipsec::sa {

ReplayWindow::ReplayWindow(uint32_t window, bool esn) : window_(window), esn_(esn) {
  if (window_ != 0) {
    // One bucket more than the window spans, rounded to a power of two (RFC 6479 §3).
    uint64_t buckets = std::bit_ceil(uint64_t{(window_ + 63) / 64 + 1});
    mask_ = buckets - 1;
    bitmap_.assign(buckets, 0);
  }
}

void ReplayWindow::Reset(uint64_t top) {
  top_ = top;
  std::fill(bitmap_.begin(), bitmap_.end(), 0);
}

uint64_t ReplayWindow::InferSeqAt(uint64_t top, uint32_t seq_low) const {
  if (!esn_) return seq_low;
  // With no window, choose the subspace that puts seq closest to top: a 2^31 "window".
  const uint32_t w = window_ != 0 ? window_ : 0x80000000u;
  const uint32_t tl = static_cast<uint32_t>(top);
  const uint32_t th = static_cast<uint32_t>(top >> 32);
  uint32_t seq_high;
  if (tl >= w - 1) {
    // Case A: window lies within one 2^32 subspace.
    seq_high = (seq_low >= tl - w + 1) ? th : th + 1;
    if (seq_high == 0 && th != 0) seq_high = th;  // 64-bit counter cannot wrap
  } else {
    // Case B: window spans two subspaces.
    const uint32_t left = tl - w + 1;  // wraps modulo 2^32 by design
    if (seq_low >= left && th != 0) {
      seq_high = th - 1;
    } else {
      seq_high = th;
    }
  }
  return (uint64_t{seq_high} << 32) | seq_low;
}

}  // namespace ipsec::sa
