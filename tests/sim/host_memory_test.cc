// HostMemory: IOVA placement, alignment, guard pages, bounds checking, host views.
#include "sim/host_memory.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

namespace ipsec::sim {
namespace {

std::vector<std::byte> Pattern(size_t n, unsigned seed) {
  std::vector<std::byte> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((i * 131 + seed) & 0xFF);
  return v;
}

TEST(HostMemoryTest, AllocatesPageAlignedIovasInsideTheArena) {
  HostMemory mem;
  auto a = mem.Alloc(100);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->bytes, 100u);
  EXPECT_EQ(a->iova % 4096, 0u);
  EXPECT_GE(a->iova, mem.config().arena_base);
  EXPECT_GT(a->iova >> 32, 0u) << "IOVAs sit above 4 GiB so the card's upper address bits are used";
  auto b = mem.Alloc(5000, 1 << 16);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->iova % (1 << 16), 0u);
  EXPECT_EQ(mem.allocation_count(), 2u);
  EXPECT_EQ(mem.mapped_bytes(), 4096u + 8192u);
}

TEST(HostMemoryTest, LeavesAGuardPageAfterEachAllocation) {
  HostMemory mem;
  auto a = mem.Alloc(4096).value();
  auto b = mem.Alloc(4096).value();
  EXPECT_GE(b.iova, a.iova + 8192);
  EXPECT_TRUE(mem.IsMapped(a.iova, 4096));
  EXPECT_FALSE(mem.IsMapped(a.iova + 4096, 1)) << "the guard page is unmapped";
  EXPECT_FALSE(mem.IsMapped(a.iova + 4000, 200)) << "an access running off the end is refused";
}

TEST(HostMemoryTest, ReadWriteRoundTripAndBoundsErrors) {
  HostMemory mem;
  auto r = mem.Alloc(300).value();
  auto data = Pattern(300, 7);
  ASSERT_TRUE(mem.Write(r.iova, data).ok());
  std::vector<std::byte> back(300);
  ASSERT_TRUE(mem.Read(r.iova, back).ok());
  EXPECT_EQ(back, data);
  // Bytes past `bytes` but inside the page are mapped (page granularity, as an IOMMU maps).
  EXPECT_TRUE(mem.IsMapped(r.iova + 300, 100));
  std::vector<std::byte> big(5000);
  EXPECT_EQ(mem.Read(r.iova, big).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(mem.Write(r.iova - 1, std::span<const std::byte>(data).first(2)).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(mem.Read(0, std::span<std::byte>(back).first(1)).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(mem.Translate(~0ull - 3, 8), nullptr) << "no wrap-around at the top of the address space";
}

TEST(HostMemoryTest, FreshMemoryHoldsTheFillPattern) {
  HostMemoryConfig cfg;
  cfg.fill = std::byte{0x5C};
  HostMemory mem(cfg);
  auto r = mem.Alloc(64).value();
  auto view = mem.Map(r.iova, 64).value();
  for (std::byte b : view) EXPECT_EQ(b, std::byte{0x5C});
  view[3] = std::byte{1};  // the host view and the card's view are the same bytes
  EXPECT_EQ(*mem.Translate(r.iova + 3, 1), std::byte{1});
}

TEST(HostMemoryTest, FreeUnmapsAndIovasAreNotReusedAtOnce) {
  HostMemory mem;
  auto a = mem.Alloc(4096).value();
  ASSERT_TRUE(mem.Free(a.iova).ok());
  EXPECT_FALSE(mem.IsMapped(a.iova, 1));
  EXPECT_EQ(mem.Free(a.iova).code(), StatusCode::kNotFound);
  auto b = mem.Alloc(4096).value();
  EXPECT_NE(b.iova, a.iova) << "next-fit: a stale IOVA does not alias a new buffer straight away";
  EXPECT_EQ(mem.Map(a.iova, 16).status().code(), StatusCode::kOutOfRange);
}

TEST(HostMemoryTest, WrapsAroundASmallArenaAndReportsExhaustion) {
  HostMemoryConfig cfg;
  cfg.arena_base = 0x1'0000'0000ull;
  cfg.arena_size = 8 * 4096;  // room for four 1-page buffers with their guard pages
  HostMemory mem(cfg);
  std::vector<DmaRegion> regions;
  for (int i = 0; i < 4; ++i) regions.push_back(mem.Alloc(4096).value());
  EXPECT_EQ(mem.Alloc(1).status().code(), StatusCode::kResourceExhausted);
  ASSERT_TRUE(mem.Free(regions[1].iova).ok());
  auto again = mem.Alloc(10);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->iova, regions[1].iova);
  EXPECT_EQ(mem.Alloc(0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(mem.Alloc(64, 48).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ipsec::sim
