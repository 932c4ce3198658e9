// The xrt backend without a card: the spec parser, the kernel and memory-bank resolution from
// xclbin sections (written here byte by byte from xclbin.h's documented layouts), the arena
// carver, and opening a card on a machine that has none (a Status, never an exception).
#include "driver/xrt/xrt_device.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "driver/device_registry.h"

// XRT's own definitions, only to check that the hand-written layouts below are XRT's.
#include "xclbin.h"
#include "xrt.h"

namespace ipsec::driver {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

// ---- Spec parser ----

TEST(XrtOptionsTest, ParsesACardIndexWithDefaults) {
  auto o = ParseXrtDeviceOptions("0");
  ASSERT_TRUE(o.ok()) << o.status().message();
  ASSERT_TRUE(o->index.has_value());
  EXPECT_EQ(*o->index, 0u);
  EXPECT_TRUE(o->bdf.empty());
  EXPECT_TRUE(o->xclbin.empty());
  EXPECT_EQ(o->kernel, "ipsec_card");
  EXPECT_FALSE(o->bank.has_value());
  EXPECT_EQ(o->arena_bytes, size_t{4} << 20);
  EXPECT_TRUE(o->sync);
  EXPECT_FALSE(o->poll_irq);

  auto seven = ParseXrtDeviceOptions("7");
  ASSERT_TRUE(seven.ok());
  EXPECT_EQ(*seven->index, 7u);
}

TEST(XrtOptionsTest, ParsesAndNormalisesPcieAddresses) {
  auto full = ParseXrtDeviceOptions("0000:3B:00.1");
  ASSERT_TRUE(full.ok()) << full.status().message();
  EXPECT_FALSE(full->index.has_value());
  EXPECT_EQ(full->bdf, "0000:3b:00.1");

  auto short_form = ParseXrtDeviceOptions("d8:1f.7");
  ASSERT_TRUE(short_form.ok()) << short_form.status().message();
  EXPECT_EQ(short_form->bdf, "0000:d8:1f.7");

  auto domain = ParseXrtDeviceOptions("1:3b:0.0");
  ASSERT_TRUE(domain.ok()) << domain.status().message();
  EXPECT_EQ(domain->bdf, "0001:3b:00.0");
}

TEST(XrtOptionsTest, ParsesXclbinAndKernel) {
  auto o =
      ParseXrtDeviceOptions("0000:3b:00.0,xclbin=/opt/cards/ipsec_card.u55c.xclbin,kernel=ipsec_card:{ipsec_card_1}");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->bdf, "0000:3b:00.0");
  EXPECT_EQ(o->xclbin, "/opt/cards/ipsec_card.u55c.xclbin");
  EXPECT_EQ(o->kernel, "ipsec_card:{ipsec_card_1}");
}

TEST(XrtOptionsTest, ParsesEveryOption) {
  auto o = ParseXrtDeviceOptions("1,bank=32,arena=16M,sync=off,irq=poll,poll_us=250,kernel=k:k_2");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(*o->index, 1u);
  ASSERT_TRUE(o->bank.has_value());
  EXPECT_EQ(*o->bank, 32);
  EXPECT_EQ(o->arena_bytes, size_t{16} << 20);
  EXPECT_FALSE(o->sync);
  EXPECT_TRUE(o->poll_irq);
  EXPECT_EQ(o->poll_us, 250u);
  EXPECT_EQ(o->kernel, "k:k_2");

  auto k = ParseXrtDeviceOptions("0,arena=256K,sync=on,irq=auto");
  ASSERT_TRUE(k.ok()) << k.status().message();
  EXPECT_EQ(k->arena_bytes, size_t{256} << 10);
  EXPECT_TRUE(k->sync);
  EXPECT_FALSE(k->poll_irq);
}

TEST(XrtOptionsTest, RejectsBadSpecsWithAMessageNamingTheItem) {
  struct Case {
    const char* args;
    const char* says;
  };
  const Case cases[] = {
      {"", "no card given"},
      {",xclbin=a.xclbin", "no card given"},
      {"xclbin=a.xclbin", "neither a card index nor a PCIe address"},
      {"card0", "neither a card index nor a PCIe address"},
      {"3b:00", "neither a card index nor a PCIe address"},
      {"0000:3b:00.8", "neither a card index nor a PCIe address"},   // function > 7
      {"0000:3b:20.0", "neither a card index nor a PCIe address"},   // device > 0x1f
      {"00000:3b:00.0", "neither a card index nor a PCIe address"},  // domain too long
      {"-1", "neither a card index nor a PCIe address"},
      {"1024", "out of range"},
      {"99999999999999999999999", "out of range"},
      {"0,xclbin=", "'xclbin='"},
      {"0,kernel=", "'kernel='"},
      {"0,xclbin", "'xclbin'"},
      {"0,colour=blue", "'colour=blue'"},
      {"0,bank=x", "'bank=x'"},
      {"0,bank=1024", "'bank=1024'"},
      {"0,arena=1000", "'arena=1000'"},  // not whole pages
      {"0,arena=32K", "'arena=32K'"},    // below 64 KiB
      {"0,arena=2G", "'arena=2G'"},      // above 1 GiB
      {"0,arena=4X", "'arena=4X'"},
      {"0,sync=maybe", "'sync=maybe'"},
      {"0,irq=msi", "'irq=msi'"},
      {"0,poll_us=0", "'poll_us=0'"},
      {"0,xclbin=a,xclbin=b", "given twice"},
  };
  for (const Case& c : cases) {
    auto o = ParseXrtDeviceOptions(c.args);
    ASSERT_FALSE(o.ok()) << "accepted '" << c.args << "'";
    EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument) << c.args;
    EXPECT_THAT(o.status().message(), HasSubstr(c.says)) << c.args;
  }
}

// ---- Kernel and memory bank from the xclbin sections ----

// The layouts of xclbin.h, written out by hand so that the test does not share the parser's view.
static_assert(offsetof(ip_layout, m_ip_data) == 8 && sizeof(ip_data) == 80);
static_assert(offsetof(ip_data, properties) == 4 && offsetof(ip_data, m_base_address) == 8 &&
              offsetof(ip_data, m_name) == 16);
static_assert(offsetof(connectivity, m_connection) == 4 && sizeof(connection) == 12);
static_assert(offsetof(mem_topology, m_mem_data) == 8 && sizeof(mem_data) == 40);
static_assert(offsetof(mem_data, m_used) == 1 && offsetof(mem_data, m_tag) == 24);
static_assert(IP_KERNEL == 1 && IP_MEM_HBM == 5 && MEM_HBM == 6 && MEM_HOST == 10 && IP_INT_ENABLE_MASK == 1);

struct Ip {
  uint32_t type;
  uint32_t properties;
  uint64_t base;
  std::string name;
};
struct Mem {
  uint8_t type;
  uint8_t used;
  std::string tag;
};
struct Conn {
  int32_t arg;
  int32_t ip;
  int32_t mem;
};

template <typename T>
void Put(std::vector<std::byte>& b, size_t at, T v) {
  std::memcpy(b.data() + at, &v, sizeof(v));
}

std::vector<std::byte> IpLayout(const std::vector<Ip>& ips) {
  std::vector<std::byte> b(8 + 80 * ips.size());
  Put(b, 0, static_cast<int32_t>(ips.size()));
  for (size_t i = 0; i < ips.size(); ++i) {
    const size_t at = 8 + 80 * i;
    Put(b, at, ips[i].type);
    Put(b, at + 4, ips[i].properties);
    Put(b, at + 8, ips[i].base);
    std::memcpy(b.data() + at + 16, ips[i].name.data(), std::min<size_t>(ips[i].name.size(), 63));
  }
  return b;
}

std::vector<std::byte> MemTopology(const std::vector<Mem>& mems) {
  std::vector<std::byte> b(8 + 40 * mems.size());
  Put(b, 0, static_cast<int32_t>(mems.size()));
  for (size_t i = 0; i < mems.size(); ++i) {
    const size_t at = 8 + 40 * i;
    Put(b, at, mems[i].type);
    Put(b, at + 1, mems[i].used);
    std::memcpy(b.data() + at + 24, mems[i].tag.data(), std::min<size_t>(mems[i].tag.size(), 15));
  }
  return b;
}

std::vector<std::byte> Connectivity(const std::vector<Conn>& conns) {
  std::vector<std::byte> b(4 + 12 * conns.size());
  Put(b, 0, static_cast<int32_t>(conns.size()));
  for (size_t i = 0; i < conns.size(); ++i) {
    Put(b, 4 + 12 * i, conns[i].arg);
    Put(b, 8 + 12 * i, conns[i].ip);
    Put(b, 12 + 12 * i, conns[i].mem);
  }
  return b;
}

// What v++ makes of bitstreams/u55c.cfg, roughly: HBM banks, the host-memory bank, one instance of
// the card (interrupt connected) whose m_axi_gmem (argument 0) goes to HOST[0].
class XrtKernelLayoutTest : public ::testing::Test {
 protected:
  std::vector<Ip> ips{{IP_MEM_HBM, 0, 0x4000000000, "HBM[0]"},
                      {IP_KERNEL, 0x201, 0x1800000, "ipsec_card:ipsec_card_1"}};
  std::vector<Mem> mems{{MEM_HBM, 1, "HBM[0]"}, {MEM_HBM, 0, "HBM[1]"}, {MEM_HOST, 1, "HOST[0]"}};
  std::vector<Conn> conns{{0, 1, 2}};

  StatusOr<XrtKernelLayout> Resolve(std::string_view kernel, std::optional<int32_t> bank = std::nullopt) {
    ip_bytes = IpLayout(ips);
    conn_bytes = Connectivity(conns);
    mem_bytes = MemTopology(mems);
    return ResolveXrtKernel(ip_bytes, conn_bytes, mem_bytes, kernel, bank);
  }
  std::vector<std::byte> ip_bytes, conn_bytes, mem_bytes;
};

TEST_F(XrtKernelLayoutTest, FindsTheOneInstanceByKernelNameAndItsHostMemoryBank) {
  auto l = Resolve("ipsec_card");
  ASSERT_TRUE(l.ok()) << l.status().message();
  EXPECT_EQ(l->ip_name, "ipsec_card:ipsec_card_1");
  EXPECT_EQ(l->base_address, 0x1800000u);
  EXPECT_TRUE(l->interrupt);
  EXPECT_EQ(l->memory_group, 2);
  EXPECT_EQ(l->memory_tag, "HOST[0]");
}

TEST_F(XrtKernelLayoutTest, AcceptsBothInstanceSpellings) {
  for (const char* name : {"ipsec_card:ipsec_card_1", "ipsec_card:{ipsec_card_1}"}) {
    auto l = Resolve(name);
    ASSERT_TRUE(l.ok()) << name << ": " << l.status().message();
    EXPECT_EQ(l->ip_name, "ipsec_card:ipsec_card_1");
  }
}

TEST_F(XrtKernelLayoutTest, ReportsAnInterruptOnlyWhenIpLayoutSaysItIsConnected) {
  ips[1].properties = 0x200;  // control bits only
  auto l = Resolve("ipsec_card");
  ASSERT_TRUE(l.ok()) << l.status().message();
  EXPECT_FALSE(l->interrupt);
}

TEST_F(XrtKernelLayoutTest, UnknownKernelIsNotFoundAndListsTheKernels) {
  ips.push_back({IP_KERNEL, 0, 0x1810000, "ipsec_card2:ipsec_card2_1"});  // a longer name is no prefix match
  for (const char* name : {"ipsec", "other", "ipsec_card:ipsec_card_2", "HBM[0]"}) {
    auto l = Resolve(name);
    ASSERT_FALSE(l.ok()) << name;
    EXPECT_EQ(l.status().code(), StatusCode::kNotFound) << name;
    EXPECT_THAT(l.status().message(), HasSubstr("ipsec_card:ipsec_card_1, ipsec_card2:ipsec_card2_1")) << name;
  }
  auto one = Resolve("ipsec_card");
  ASSERT_TRUE(one.ok()) << one.status().message();
  EXPECT_EQ(one->ip_name, "ipsec_card:ipsec_card_1");
}

TEST_F(XrtKernelLayoutTest, TwoInstancesNeedAnInstanceName) {
  ips.push_back({IP_KERNEL, 0x201, 0x1810000, "ipsec_card:ipsec_card_2"});
  mems.push_back({MEM_HOST, 1, "HOST[1]"});
  conns.push_back({0, 2, 3});
  auto ambiguous = Resolve("ipsec_card");
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_EQ(ambiguous.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(ambiguous.status().message(), HasSubstr("2 instances"));

  auto second = Resolve("ipsec_card:{ipsec_card_2}");
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(second->base_address, 0x1810000u);
  EXPECT_EQ(second->memory_group, 3);
  EXPECT_EQ(second->memory_tag, "HOST[1]");
}

TEST_F(XrtKernelLayoutTest, AMasterOnDeviceMemoryIsRefusedUnlessABankIsGiven) {
  conns = {{0, 1, 0}};  // m_axi_gmem to HBM[0]
  auto l = Resolve("ipsec_card");
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(l.status().message(), HasSubstr("HBM[0], not host memory"));

  auto forced = Resolve("ipsec_card", 2);
  ASSERT_TRUE(forced.ok()) << forced.status().message();
  EXPECT_EQ(forced->memory_group, 2);
  EXPECT_EQ(forced->memory_tag, "HOST[0]");
}

TEST_F(XrtKernelLayoutTest, OtherArgumentsAndOtherInstancesDoNotCount) {
  conns = {{1, 1, 2}, {0, 0, 2}};  // argument 1 of the card, argument 0 of another IP
  auto l = Resolve("ipsec_card");
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(l.status().message(), HasSubstr("pass bank=N"));
}

TEST_F(XrtKernelLayoutTest, ABadBankIsInvalidArgument) {
  for (int32_t bank : {-1, 1 /* unused */, 3 /* past the end */}) {
    auto l = Resolve("ipsec_card", bank);
    ASSERT_FALSE(l.ok()) << bank;
    EXPECT_EQ(l.status().code(), StatusCode::kInvalidArgument) << bank;
  }
}

TEST_F(XrtKernelLayoutTest, MissingOrTruncatedSectionsAreDataLoss) {
  ASSERT_TRUE(Resolve("ipsec_card").ok());
  auto no_ip_layout = ResolveXrtKernel({}, conn_bytes, mem_bytes, "ipsec_card", std::nullopt);
  EXPECT_EQ(no_ip_layout.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(no_ip_layout.status().message(), HasSubstr("no IP_LAYOUT section"));

  std::vector<std::byte> short_ips(ip_bytes.begin(), ip_bytes.end() - 1);
  auto truncated = ResolveXrtKernel(short_ips, conn_bytes, mem_bytes, "ipsec_card", std::nullopt);
  EXPECT_EQ(truncated.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(truncated.status().message(), HasSubstr("malformed IP_LAYOUT"));

  std::vector<std::byte> negative = ip_bytes;
  Put(negative, 0, int32_t{-1});
  EXPECT_EQ(ResolveXrtKernel(negative, conn_bytes, mem_bytes, "ipsec_card", std::nullopt).status().code(),
            StatusCode::kDataLoss);

  std::vector<std::byte> short_mems(mem_bytes.begin(), mem_bytes.begin() + 20);
  EXPECT_EQ(ResolveXrtKernel(ip_bytes, conn_bytes, short_mems, "ipsec_card", std::nullopt).status().code(),
            StatusCode::kDataLoss);

  std::vector<std::byte> bad_conn = conn_bytes;
  Put(bad_conn, 12, int32_t{9});  // bank 9 of 3
  auto wild = ResolveXrtKernel(ip_bytes, bad_conn, mem_bytes, "ipsec_card", std::nullopt);
  EXPECT_EQ(wild.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(wild.status().message(), HasSubstr("memory bank 9"));
}

// ---- Arena carver ----

TEST(XrtDmaCarverTest, AlignsTheBusAddressAndKeepsRegionsApart) {
  const uint64_t base = 0x1'0000'0040;  // not page-aligned, to see that the bus address is what counts
  XrtDmaCarver c(base, 1 << 20);
  struct R {
    size_t off, bytes;
  };
  std::vector<R> got;
  const std::pair<size_t, size_t> asks[] = {{1, 1}, {4096, 4096}, {100, 64}, {32 * 2048, 4096}, {3000, 256}};
  for (auto [bytes, align] : asks) {
    std::optional<size_t> off = c.Alloc(bytes, align);
    ASSERT_TRUE(off.has_value()) << bytes;
    EXPECT_EQ((base + *off) % align, 0u) << bytes;
    EXPECT_EQ(*off % XrtDmaCarver::kGranule, 0u) << bytes;
    got.push_back({*off, (bytes + 63) / 64 * 64});
  }
  std::sort(got.begin(), got.end(), [](const R& a, const R& b) { return a.off < b.off; });
  for (size_t i = 1; i < got.size(); ++i) EXPECT_LE(got[i - 1].off + got[i - 1].bytes, got[i].off);
  EXPECT_LE(got.back().off + got.back().bytes, size_t{1} << 20);
}

TEST(XrtDmaCarverTest, FreeingInAnyOrderGivesTheWholeArenaBack) {
  XrtDmaCarver c(0x2000'0000, 64 * 1024);
  std::vector<size_t> offs;
  while (std::optional<size_t> off = c.Alloc(4096, 4096)) offs.push_back(*off);
  EXPECT_EQ(offs.size(), 16u);
  EXPECT_EQ(c.used_bytes(), 64u * 1024);
  EXPECT_FALSE(c.Alloc(64, 64).has_value());
  for (size_t i : {3, 0, 15, 1, 2, 7, 9, 8, 4, 6, 5, 14, 10, 12, 11, 13}) c.Free(offs[i], 4096);
  EXPECT_TRUE(c.empty());
  std::optional<size_t> all = c.Alloc(64 * 1024, 4096);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(*all, 0u);
}

TEST(XrtDmaCarverTest, RefusesWhatCannotFitOrIsMalformed) {
  XrtDmaCarver c(0x1000, 8192);
  EXPECT_FALSE(c.Alloc(0, 64).has_value());
  EXPECT_FALSE(c.Alloc(64, 0).has_value());
  EXPECT_FALSE(c.Alloc(64, 96).has_value());
  EXPECT_FALSE(c.Alloc(8193, 64).has_value());
  ASSERT_TRUE(c.Alloc(64, 64).has_value());
  EXPECT_FALSE(c.Alloc(8192, 64).has_value());   // 64 bytes are taken
  EXPECT_TRUE(c.Alloc(4096, 4096).has_value());  // bus 0x2000
}

// ---- Opening a card on a machine without one ----

class XrtOpenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (xclProbe() > 0) GTEST_SKIP() << "an XRT card is present; these tests are for machines without one";
  }
};

TEST_F(XrtOpenTest, OpeningCardZeroFailsWithAStatus) {
  XrtDeviceOptions o;
  o.index = 0;
  auto d = OpenXrtDevice(o);
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().code(), AnyOf(StatusCode::kNotFound, StatusCode::kUnavailable));
  EXPECT_THAT(d.status().message(), HasSubstr("xrt: cannot open card 0"));
  EXPECT_THAT(d.status().message(), HasSubstr("XRT sees 0 card(s)"));
}

TEST_F(XrtOpenTest, OpeningByPcieAddressFailsWithAStatus) {
  XrtDeviceOptions o;
  o.bdf = "0000:3b:00.0";
  o.xclbin = "/nonexistent/ipsec_card.xclbin";
  auto d = OpenXrtDevice(o);
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().code(), AnyOf(StatusCode::kNotFound, StatusCode::kUnavailable));
  EXPECT_THAT(d.status().message(), HasSubstr("card 0000:3b:00.0"));
}

TEST_F(XrtOpenTest, TheRegisteredBackendFailsCleanlyThroughOpenDevice) {
  ASSERT_TRUE(RegisterXrtBackend().ok());
  ASSERT_TRUE(RegisterXrtBackend().ok());  // a second call is a no-op
  const std::vector<std::string> names = DeviceBackends();
  EXPECT_NE(std::find(names.begin(), names.end(), "xrt"), names.end());

  for (const char* spec : {"xrt:0", "xrt:3", "xrt:0000:3b:00.0,xclbin=/nonexistent.xclbin,kernel=ipsec_card"}) {
    auto d = OpenDevice(spec);
    ASSERT_FALSE(d.ok()) << spec;
    EXPECT_THAT(d.status().code(), AnyOf(StatusCode::kNotFound, StatusCode::kUnavailable)) << spec;
  }
  for (const char* spec : {"xrt", "xrt:", "xrt:zero", "xrt:0,frobnicate"}) {
    auto d = OpenDevice(spec);
    ASSERT_FALSE(d.ok()) << spec;
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument) << spec;
  }
}

}  // namespace
}  // namespace ipsec::driver
