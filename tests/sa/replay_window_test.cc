// ReplayWindow: RFC 4303 §3.4.3 (anti-replay), Appendix A2 (ESN inference), RFC 6479 (buckets).
#include "host/sa/replay_window.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace ipsec::sa {

// gtest prints verdicts by name (found by ADL, so outside the anonymous namespace).
std::string VerdictName(ReplayVerdict v) {
  switch (v) {
    case ReplayVerdict::kOk: return "kOk";
    case ReplayVerdict::kReplayed: return "kReplayed";
    case ReplayVerdict::kTooOld: return "kTooOld";
    case ReplayVerdict::kZero: return "kZero";
  }
  return "?";
}

void PrintTo(ReplayVerdict v, std::ostream* os) { *os << VerdictName(v); }

namespace {

using V = ReplayVerdict;

constexpr uint64_t k2p32 = uint64_t{1} << 32;

// The obviously correct model: a set of every accepted sequence number still in the window.
class ReferenceWindow {
 public:
  explicit ReferenceWindow(uint32_t window) : window_(window) {}
  V Check(uint64_t seq) const {
    if (seq == 0) return V::kZero;
    if (window_ == 0 || seq > top_) return V::kOk;
    if (top_ - seq >= window_) return V::kTooOld;
    return seen_.count(seq) != 0 ? V::kReplayed : V::kOk;
  }
  V Update(uint64_t seq) {
    const V v = Check(seq);
    if (v != V::kOk) return v;
    top_ = std::max(top_, seq);
    if (window_ == 0) return v;
    seen_.insert(seq);
    // Forget what fell out of the window.
    const uint64_t left = top_ >= window_ ? top_ - window_ + 1 : 0;
    seen_.erase(seen_.begin(), seen_.lower_bound(left));
    return v;
  }
  uint64_t top() const { return top_; }

 private:
  uint32_t window_;
  uint64_t top_ = 0;
  std::set<uint64_t> seen_;
};

// ---- Basic behaviour (window 64, no ESN) ----------------------------------------------------------

TEST(ReplayWindow, AcceptsInOrderSequenceNumbers) {
  ReplayWindow w(64, false);
  EXPECT_EQ(w.top(), 0u);
  for (uint64_t s = 1; s <= 1000; ++s) {
    ASSERT_EQ(w.Check(s), V::kOk) << s;
    ASSERT_EQ(w.Update(s), V::kOk) << s;
    ASSERT_EQ(w.top(), s);
  }
}

TEST(ReplayWindow, AcceptsReorderedPacketsWithinWindow) {
  ReplayWindow w(64, false);
  ASSERT_EQ(w.Update(100), V::kOk);
  // 37..99 are inside the window [37, 100] and unseen.
  for (uint64_t s = 99; s >= 37; --s) EXPECT_EQ(w.Update(s), V::kOk) << s;
  EXPECT_EQ(w.top(), 100u);
  EXPECT_EQ(w.Check(36), V::kTooOld);
}

TEST(ReplayWindow, RejectsReplayedSequenceNumber) {
  ReplayWindow w(64, false);
  ASSERT_EQ(w.Update(5), V::kOk);
  ASSERT_EQ(w.Update(10), V::kOk);
  EXPECT_EQ(w.Check(5), V::kReplayed);
  EXPECT_EQ(w.Update(5), V::kReplayed);
  EXPECT_EQ(w.Check(10), V::kReplayed);  // the top itself
  EXPECT_EQ(w.Update(10), V::kReplayed);
  EXPECT_EQ(w.Check(7), V::kOk);
  EXPECT_EQ(w.top(), 10u);
}

TEST(ReplayWindow, RejectsSequenceNumbersLeftOfWindow) {
  ReplayWindow w(64, false);
  ASSERT_EQ(w.Update(1000), V::kOk);
  EXPECT_EQ(w.Check(937), V::kOk);  // 1000 - 63: the left edge
  EXPECT_EQ(w.Check(936), V::kTooOld);
  EXPECT_EQ(w.Update(936), V::kTooOld);
  EXPECT_EQ(w.Check(1), V::kTooOld);
  EXPECT_EQ(w.top(), 1000u);
}

TEST(ReplayWindow, RejectsSequenceNumberZero) {
  for (uint32_t size : {0u, 1u, 64u}) {
    for (bool esn : {false, true}) {
      ReplayWindow w(size, esn);
      EXPECT_EQ(w.Check(0), V::kZero);
      EXPECT_EQ(w.Update(0), V::kZero);
      ASSERT_EQ(w.Update(3), V::kOk);
      EXPECT_EQ(w.Check(0), V::kZero);
      EXPECT_EQ(w.top(), 3u);
    }
  }
}

TEST(ReplayWindow, UpdateRejectsDuplicateThatPassedCheckTwice) {
  // Two copies of one packet in a burst both pass the pre-ICV Check; only one may be accepted.
  ReplayWindow w(64, false);
  ASSERT_EQ(w.Update(50), V::kOk);
  for (uint64_t seq : {uint64_t{40}, uint64_t{51}}) {
    EXPECT_EQ(w.Check(seq), V::kOk);
    EXPECT_EQ(w.Check(seq), V::kOk);
    EXPECT_EQ(w.Update(seq), V::kOk);
    EXPECT_EQ(w.Update(seq), V::kReplayed);
  }
}

TEST(ReplayWindow, CheckDoesNotChangeState) {
  ReplayWindow w(64, false);
  ASSERT_EQ(w.Update(10), V::kOk);
  EXPECT_EQ(w.Check(500), V::kOk);
  EXPECT_EQ(w.top(), 10u);
  EXPECT_EQ(w.Check(9), V::kOk);
  EXPECT_EQ(w.Update(9), V::kOk);
}

TEST(ReplayWindow, UpdateLeavesWindowUnchangedOnRejection) {
  ReplayWindow w(64, false);
  ASSERT_EQ(w.Update(100), V::kOk);
  EXPECT_EQ(w.Update(10), V::kTooOld);
  EXPECT_EQ(w.Update(100), V::kReplayed);
  EXPECT_EQ(w.top(), 100u);
  EXPECT_EQ(w.Check(99), V::kOk);
}

TEST(ReplayWindow, WindowZeroDisablesReplayChecks) {
  ReplayWindow w(0, false);
  EXPECT_EQ(w.window(), 0u);
  ASSERT_EQ(w.Update(100), V::kOk);
  EXPECT_EQ(w.Update(100), V::kOk);  // duplicates pass
  EXPECT_EQ(w.Update(1), V::kOk);    // arbitrarily old passes
  EXPECT_EQ(w.top(), 100u);          // the top is still tracked (for ESN)
  EXPECT_EQ(w.Update(200), V::kOk);
  EXPECT_EQ(w.top(), 200u);
  EXPECT_EQ(w.Check(0), V::kZero);
}

TEST(ReplayWindow, WindowOfOneAcceptsOnlyNewerThanTop) {
  ReplayWindow w(1, false);
  ASSERT_EQ(w.Update(10), V::kOk);
  EXPECT_EQ(w.Check(10), V::kReplayed);
  EXPECT_EQ(w.Check(9), V::kTooOld);
  EXPECT_EQ(w.Update(11), V::kOk);
  EXPECT_EQ(w.Check(10), V::kTooOld);
  EXPECT_EQ(w.Update(1000), V::kOk);
  EXPECT_EQ(w.Check(999), V::kTooOld);
}

TEST(ReplayWindow, FirstPacketMayHaveAnySequenceNumber) {
  ReplayWindow w(64, false);
  EXPECT_EQ(w.Check(1), V::kOk);
  EXPECT_EQ(w.Check(0xffffffffu), V::kOk);
  ASSERT_EQ(w.Update(30), V::kOk);
  // Below the first packet but within the window: never seen, so accepted.
  for (uint64_t s = 1; s < 30; ++s) EXPECT_EQ(w.Update(s), V::kOk) << s;
}

TEST(ReplayWindow, ResetRestoresTopAndForgetsSeenPackets) {
  ReplayWindow w(64, false);
  for (uint64_t s = 1; s <= 100; ++s) ASSERT_EQ(w.Update(s), V::kOk);
  w.Reset(5000);
  EXPECT_EQ(w.top(), 5000u);
  EXPECT_EQ(w.Check(4936), V::kTooOld);
  EXPECT_EQ(w.Check(4990), V::kOk);
  EXPECT_EQ(w.Check(5001), V::kOk);
  EXPECT_EQ(w.Check(100), V::kTooOld);
}

std::string WindowParamName(const ::testing::TestParamInfo<uint32_t>& param) {
  return "W" + std::to_string(param.param);
}

// ---- Every supported size: window edges and forward jumps ----------------------------------------

class ReplayWindowSize : public ::testing::TestWithParam<uint32_t> {};

TEST_P(ReplayWindowSize, LeftEdgeIsInsideAndOneBelowIsTooOld) {
  const uint32_t size = GetParam();
  ReplayWindow w(size, false);
  EXPECT_EQ(w.window(), size);
  const uint64_t top = uint64_t{size} * 3 + 17;
  ASSERT_EQ(w.Update(top), V::kOk);
  if (size > 1) {
    EXPECT_EQ(w.Check(top - size + 1), V::kOk);  // for size 1 the left edge is the top itself
  }
  EXPECT_EQ(w.Check(top - size), V::kTooOld);
  EXPECT_EQ(w.Check(top), V::kReplayed);
  EXPECT_EQ(w.Check(top + 1), V::kOk);
}

TEST_P(ReplayWindowSize, FullWindowRejectsEveryDuplicate) {
  const uint32_t size = GetParam();
  ReplayWindow w(size, false);
  const uint64_t base = 1000;
  for (uint64_t s = base; s < base + size; ++s) ASSERT_EQ(w.Update(s), V::kOk) << s;
  for (uint64_t s = base; s < base + size; ++s) ASSERT_EQ(w.Check(s), V::kReplayed) << s;
  EXPECT_EQ(w.Check(base - 1), V::kTooOld);
}

TEST_P(ReplayWindowSize, BigJumpForwardClearsStaleBits) {
  const uint32_t size = GetParam();
  // Jumps around the window size and around multiples of the 64-bit bucket and of the ring size,
  // where a ring that is not cleared properly would alias old bits into the new window.
  std::vector<uint64_t> jumps = {1, 2, 63, 64, 65, 127, 128, 129, 4096, 65536, 1u << 20};
  for (uint64_t k : {uint64_t{1}, uint64_t{2}, uint64_t{3}}) {
    jumps.push_back(k * size);
    jumps.push_back(k * size + 1);
    jumps.push_back(k * size - 1);
  }
  for (uint64_t jump : jumps) {
    if (jump == 0) continue;
    SCOPED_TRACE("jump " + std::to_string(jump));
    ReplayWindow w(size, false);
    const uint64_t base = 7;
    // Mark the whole window, then jump.
    for (uint64_t s = base; s < base + size; ++s) ASSERT_EQ(w.Update(s), V::kOk);
    const uint64_t old_top = base + size - 1;
    const uint64_t top = old_top + jump;
    ASSERT_EQ(w.Update(top), V::kOk);
    const uint64_t left = top - size + 1;
    // Every position in the new window: seen exactly when it was marked before.
    for (uint64_t s = left; s < top; ++s) {
      const V want = s <= old_top ? V::kReplayed : V::kOk;
      ASSERT_EQ(w.Check(s), want) << "seq " << s;
    }
    EXPECT_EQ(w.Check(left - 1), V::kTooOld);
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, ReplayWindowSize, ::testing::Values(1u, 32u, 64u, 1024u, 4096u, 65536u),
                         WindowParamName);

// ---- Property test against the reference model ---------------------------------------------------

class ReplayWindowModel : public ::testing::TestWithParam<uint32_t> {};

TEST_P(ReplayWindowModel, MatchesReferenceModelOnRandomReorderedStreams) {
  const uint32_t size = GetParam();
  std::mt19937_64 rng(0xC0FFEE + size);
  auto uniform = [&](uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng); };
  const uint64_t span = std::max<uint64_t>(size, 8);
  const int steps = size >= 4096 ? 30000 : 20000;
  for (uint64_t start : {uint64_t{1}, uint64_t{0xfffff000}, uint64_t{1} << 40}) {
    ReplayWindow w(size, false);
    ReferenceWindow ref(size);
    uint64_t sent = start;  // highest sequence number the "sender" has used
    for (int i = 0; i < steps; ++i) {
      uint64_t seq;
      const uint64_t r = uniform(0, 99);
      if (r < 50) {
        seq = ++sent;  // in order
      } else if (r < 75) {
        seq = sent - std::min(sent, uniform(0, 2 * span));  // reordered, sometimes too old
      } else if (r < 85) {
        seq = ref.top() - std::min(ref.top(), uniform(0, 3));  // likely duplicate
      } else if (r < 95) {
        sent += uniform(1, 4 * span + 200);  // loss burst: big jump forward
        seq = sent;
      } else if (r < 98) {
        sent += 64 * uniform(1, 2 * span / 64 + 4);  // bucket-aligned jump
        seq = sent;
      } else {
        seq = 0;
      }
      SCOPED_TRACE("step " + std::to_string(i) + " seq " + std::to_string(seq));
      ASSERT_EQ(w.Check(seq), ref.Check(seq));
      if (uniform(0, 9) != 0) {  // 1 in 10 fails its ICV: checked but never updated
        ASSERT_EQ(w.Update(seq), ref.Update(seq));
      }
      ASSERT_EQ(w.top(), ref.top());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, ReplayWindowModel,
                         ::testing::Values(0u, 1u, 2u, 32u, 63u, 64u, 65u, 100u, 128u, 1024u, 4096u, 65536u),
                         WindowParamName);

// ---- ESN inference (RFC 4303 Appendix A2.1) --------------------------------------------------------

TEST(ReplayWindowEsn, InferSeqWithoutEsnReturnsLow32Bits) {
  ReplayWindow w(64, false);
  ASSERT_EQ(w.Update(0xfffffff0u), V::kOk);
  EXPECT_EQ(w.InferSeq(5), 5u);
  EXPECT_EQ(w.InferSeq(0xffffffffu), 0xffffffffu);
}

TEST(ReplayWindowEsn, InferSeqBeforeFirstPacketUsesSubspaceZero) {
  ReplayWindow w(64, true);
  EXPECT_EQ(w.InferSeq(1), 1u);
  EXPECT_EQ(w.InferSeq(0x80000000u), 0x80000000u);
  EXPECT_EQ(w.InferSeq(0xffffffffu), 0xffffffffu);
}

TEST(ReplayWindowEsn, InferSeqCaseAWindowWithinOneSubspace) {
  // Tl >= W - 1: Seqh = Th when Seql >= Tl - W + 1, else Th + 1.
  ReplayWindow w(64, true);
  const uint64_t th = 5;
  w.Reset((th << 32) | 1000);
  EXPECT_EQ(w.InferSeq(1000), (th << 32) | 1000);       // the top
  EXPECT_EQ(w.InferSeq(937), (th << 32) | 937);         // left edge of the window
  EXPECT_EQ(w.InferSeq(2000), (th << 32) | 2000);       // ahead, same subspace
  EXPECT_EQ(w.InferSeq(0xffffffffu), (th << 32) | 0xffffffffu);
  EXPECT_EQ(w.InferSeq(936), ((th + 1) << 32) | 936);  // left of the window: next subspace
  EXPECT_EQ(w.InferSeq(0), (th + 1) << 32);

  // The boundary of Case A: Tl == W - 1 puts the window at [0, W-1] of the subspace.
  w.Reset((th << 32) | 63);
  EXPECT_EQ(w.InferSeq(0), th << 32);
  EXPECT_EQ(w.InferSeq(0xfffffff0u), (th << 32) | 0xfffffff0u);
}

TEST(ReplayWindowEsn, InferSeqCaseBWindowSpansTwoSubspaces) {
  // Tl < W - 1: Seqh = Th - 1 when Seql >= Tl - W + 1 (mod 2^32), else Th.
  ReplayWindow w(64, true);
  const uint64_t th = 5;
  w.Reset((th << 32) | 10);
  // Tl - W + 1 = 10 - 63 = -53 = 0xffffffcb (mod 2^32).
  EXPECT_EQ(w.InferSeq(0xffffffcbu), ((th - 1) << 32) | 0xffffffcbu);  // left edge, previous subspace
  EXPECT_EQ(w.InferSeq(0xffffffffu), ((th - 1) << 32) | 0xffffffffu);
  EXPECT_EQ(w.InferSeq(0xffffffcau), (th << 32) | 0xffffffcau);  // not in the window: far ahead
  EXPECT_EQ(w.InferSeq(0), th << 32);
  EXPECT_EQ(w.InferSeq(10), (th << 32) | 10);
  EXPECT_EQ(w.InferSeq(11), (th << 32) | 11);
  EXPECT_EQ(w.InferSeq(0x80000000u), (th << 32) | 0x80000000u);

  // The boundary of Case B: Tl == W - 2.
  w.Reset((th << 32) | 62);
  EXPECT_EQ(w.InferSeq(0xffffffffu), ((th - 1) << 32) | 0xffffffffu);
  EXPECT_EQ(w.InferSeq(0), th << 32);
}

TEST(ReplayWindowEsn, WindowStraddlingTheBoundaryDetectsReplaysOnBothSides) {
  ReplayWindow w(64, true);
  // Receive 2^32 - 20 .. 2^32 + 5, skipping 2^32 - 3 and 2^32 + 1.
  for (uint64_t s = k2p32 - 20; s <= k2p32 + 5; ++s) {
    if (s == k2p32 - 3 || s == k2p32 + 1) continue;
    const uint64_t inferred = w.InferSeq(static_cast<uint32_t>(s));
    ASSERT_EQ(inferred, s);
    ASSERT_EQ(w.Update(inferred), V::kOk) << s;
  }
  EXPECT_EQ(w.top(), k2p32 + 5);
  // Old subspace, inside the window: replays and the gap.
  const uint64_t replay_old = w.InferSeq(static_cast<uint32_t>(k2p32 - 10));
  EXPECT_EQ(replay_old, k2p32 - 10);
  EXPECT_EQ(w.Check(replay_old), V::kReplayed);
  const uint64_t gap_old = w.InferSeq(static_cast<uint32_t>(k2p32 - 3));
  EXPECT_EQ(gap_old, k2p32 - 3);
  EXPECT_EQ(w.Update(gap_old), V::kOk);
  EXPECT_EQ(w.Update(gap_old), V::kReplayed);
  // New subspace.
  EXPECT_EQ(w.Check(w.InferSeq(2)), V::kReplayed);
  const uint64_t gap_new = w.InferSeq(1);
  EXPECT_EQ(gap_new, k2p32 + 1);
  EXPECT_EQ(w.Update(gap_new), V::kOk);
  // Low 32 bits 0 in the new subspace is a real sequence number with ESN (2^32), seen above.
  EXPECT_EQ(w.InferSeq(0), k2p32);
  EXPECT_EQ(w.Check(k2p32), V::kReplayed);
  // Left of the window in the old subspace: inferred into the next subspace (far ahead), where
  // the ICV check would reject it (RFC 4303 A2.2).
  EXPECT_EQ(w.InferSeq(static_cast<uint32_t>(k2p32 - 100)), k2p32 + (k2p32 - 100));
}

TEST(ReplayWindowEsn, InferredSequenceMatchesSenderAcrossBoundaries) {
  // The sender counts 64-bit sequence numbers across 2^32 and 2^33; the receiver sees packets
  // reordered by less than half the window and must recover every full sequence number.
  for (uint32_t size : {32u, 64u, 1024u}) {
    for (uint64_t boundary : {k2p32, 2 * k2p32, 7 * k2p32}) {
      SCOPED_TRACE("window " + std::to_string(size) + " boundary " + std::to_string(boundary));
      std::mt19937_64 rng(size ^ boundary);
      std::vector<uint64_t> sent;
      for (uint64_t s = boundary - 3000; s < boundary + 3000; ++s) sent.push_back(s);
      // Local reordering: shuffle within blocks of size/2, so no packet is later than the window.
      const size_t block = size / 2;
      for (size_t i = 0; i < sent.size(); i += block) {
        std::shuffle(sent.begin() + static_cast<std::ptrdiff_t>(i),
                     sent.begin() + static_cast<std::ptrdiff_t>(std::min(i + block, sent.size())), rng);
      }
      ReplayWindow w(size, true);
      w.Reset(boundary - 3001);
      for (uint64_t s : sent) {
        const uint64_t inferred = w.InferSeq(static_cast<uint32_t>(s));
        ASSERT_EQ(inferred, s);
        ASSERT_EQ(w.Update(inferred), V::kOk) << s;
        ASSERT_EQ(w.Check(w.InferSeq(static_cast<uint32_t>(s))), V::kReplayed) << s;
      }
      EXPECT_EQ(w.top(), boundary + 2999);
    }
  }
}

TEST(ReplayWindowEsn, WindowZeroInfersTheNearestSubspace) {
  // With anti-replay disabled, ESN still needs the high bits: the subspace that puts the sequence
  // number within 2^31 of the top.
  ReplayWindow w(0, true);
  const uint64_t th = 3;
  w.Reset((th << 32) | 0x10);  // Case B with a 2^31 window
  EXPECT_EQ(w.InferSeq(0x20), (th << 32) | 0x20);
  EXPECT_EQ(w.InferSeq(0x80000010u), (th << 32) | 0x80000010u);
  EXPECT_EQ(w.InferSeq(0x80000011u), ((th - 1) << 32) | 0x80000011u);
  EXPECT_EQ(w.InferSeq(0xffffffffu), ((th - 1) << 32) | 0xffffffffu);

  w.Reset((th << 32) | 0x90000000u);  // Case A
  EXPECT_EQ(w.InferSeq(0x10000001u), (th << 32) | 0x10000001u);
  EXPECT_EQ(w.InferSeq(0x10000000u), ((th + 1) << 32) | 0x10000000u);
  EXPECT_EQ(w.InferSeq(0xffffffffu), (th << 32) | 0xffffffffu);

  // Crossing the boundary in order with no window: the top follows.
  ReplayWindow x(0, true);
  x.Reset(k2p32 - 6);
  for (uint64_t s = k2p32 - 5; s <= k2p32 + 5; ++s) {
    ASSERT_EQ(x.InferSeq(static_cast<uint32_t>(s)), s);
    ASSERT_EQ(x.Update(s), V::kOk);
  }
  EXPECT_EQ(x.top(), k2p32 + 5);
  EXPECT_EQ(x.Update(k2p32 + 5), V::kOk);  // duplicates are not detected without a window
}

TEST(ReplayWindowEsn, CheckAndUpdateUseFull64BitSequenceNumbers) {
  ReplayWindow w(64, true);
  ASSERT_EQ(w.Update(k2p32 + 10), V::kOk);
  EXPECT_EQ(w.Check(10), V::kTooOld);  // same low bits, previous subspace
  EXPECT_EQ(w.Check(k2p32 + 10), V::kReplayed);
  EXPECT_EQ(w.Check(k2p32 - 40), V::kOk);
  EXPECT_EQ(w.Check(k2p32 - 54), V::kTooOld);
}

}  // namespace
}  // namespace ipsec::sa
