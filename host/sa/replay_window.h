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
  uint64_t InferSeq(uint32_t seq_low) const { return InferSeqAt(top_, seq_low); }
  // The same inference relative to another top (a burst's provisional top).
  uint64_t InferSeqAt(uint64_t top, uint32_t seq_low) const;

  ReplayVerdict Check(uint64_t seq) const;
  // Marks `seq` received and slides the window. Returns the verdict of a re-check first; the window
  // is changed only when that is kOk.
  ReplayVerdict Update(uint64_t seq);

  uint64_t top() const { return top_; }
  uint32_t window() const { return window_; }
  bool esn() const { return esn_; }

  // Restores state (e.g. after a card reset or SA migration).
  void Reset(uint64_t top);

 private:
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
