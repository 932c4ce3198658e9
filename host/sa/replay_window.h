// Anti-replay window with RFC 6479 buckets and RFC 4303 Appendix A2 ESN inference.
//
// The bitmap is a power-of-two ring of 64-bit buckets, one more than the window needs, so sliding
// the window forward clears whole buckets instead of shifting bits (RFC 6479 §3). Memory is sized
// once at construction; nothing is allocated per packet.
//
// Two-phase use (RFC 4303 §3.4.3): Check() before the ICV is verified (read-only), Update() only
// after it verified. Update() re-checks, so two copies of one sequence number in the same burst
// cannot both be accepted.
//
// Thread safety: one writer (the thread processing the inbound SA), as DPDK lib/ipsec requires.
#pragma once

#include <cstdint>
#include <vector>

namespace ipsec::sa {

enum class ReplayVerdict : uint8_t {
  kOk,        // new, or inside the window and not seen
  kReplayed,  // inside the window and already seen
  kTooOld,    // left of the window
  kZero,      // sequence number 0 is never sent (RFC 4303 §3.3.3)
};

class ReplayWindow {
 public:
  // window = 0 disables replay checks (sequence numbers are still tracked for ESN inference).
  ReplayWindow(uint32_t window, bool esn);

  // RFC 4303 A2.1: the full 64-bit sequence number for the received low 32 bits. Without ESN it is
  // just the 32-bit value.
  uint64_t InferSeq(uint32_t seq_low) const { return esn_ ? InferSeqAt(top_, seq_low) : seq_low; }
  // The same inference relative to another top (a burst's provisional top).
  uint64_t InferSeqAt(uint64_t top, uint32_t seq_low) const;

  // Check and Update are inline: the inbound data path calls each once per packet.
  ReplayVerdict Check(uint64_t seq) const {
    if (seq == 0) return ReplayVerdict::kZero;
    if (window_ == 0 || seq > top_) return ReplayVerdict::kOk;
    if (top_ - seq >= window_) return ReplayVerdict::kTooOld;
    return TestBit(seq) ? ReplayVerdict::kReplayed : ReplayVerdict::kOk;
  }
  // Marks `seq` received and slides the window. Returns the verdict of a re-check first; the window
  // is changed only when that is kOk.
  ReplayVerdict Update(uint64_t seq) {
    const ReplayVerdict v = Check(seq);
    if (v != ReplayVerdict::kOk) return v;
    if (window_ == 0) {
      if (seq > top_) top_ = seq;
      return v;
    }
    if (seq > top_) Advance(seq);
    bitmap_[(seq >> 6) & mask_] |= uint64_t{1} << (seq & 63);
    return v;
  }

  uint64_t top() const { return top_; }
  uint32_t window() const { return window_; }
  bool esn() const { return esn_; }

  // Restores state (e.g. after a card reset or SA migration).
  void Reset(uint64_t top);

 private:
  // Slides the window's top up to `seq` (> top_), clearing the buckets it passes.
  void Advance(uint64_t seq) {
    const uint64_t top_bucket = top_ >> 6;
    const uint64_t new_bucket = seq >> 6;
    const uint64_t diff = new_bucket - top_bucket < mask_ + 1 ? new_bucket - top_bucket : mask_ + 1;
    for (uint64_t i = 1; i <= diff; ++i) bitmap_[(top_bucket + i) & mask_] = 0;
    top_ = seq;
  }
  bool TestBit(uint64_t seq) const {
    return (bitmap_[(seq >> 6) & mask_] >> (seq & 63)) & 1;
  }

  uint32_t window_;
  bool esn_;
  uint64_t top_ = 0;        // highest authenticated sequence number, 0 before the first
  uint64_t mask_ = 0;       // buckets - 1
  std::vector<uint64_t> bitmap_;
};

}  // namespace ipsec::sa
