// ipsec-pcap --device: captures through the card driver (CardTransform) give byte for byte the
// output capture of the software ESP path — ESP tunnel AES-GCM-128/256, outer and inner IPv4 and
// IPv6, Ethernet input, rings smaller than the burst, a stepped card — with the same drop reasons
// and per-SA counters; decap of an encap gives the original back; unknown devices, AH SAs, suites
// the card lacks and inbound slot clashes are clear errors (exit status 2 on the command line).
// The `sim` backend (the Verilated card) runs a short capture when this binary was built with it;
// otherwise that test is skipped.
#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <tuple>
#include <vector>

#include "driver/device_registry.h"
#include "host/common/bytes.h"
#include "host/common/ip.h"
#include "host/sa/sa_file.h"
#include "host/tools/pcap_processor.h"

#ifdef IPSEC_HAVE_SIM_CARD
#include "driver/sim/sim_card.h"
#endif

namespace ipsec::tools {
namespace {

namespace fs = std::filesystem;
using Record = std::vector<std::byte>;

// An out+in ESP tunnel pair. TEST KEYS ONLY.
std::string TunnelSaText(bool gcm256, bool outer_v6, uint32_t spi = 0x3001) {
  const std::string key = gcm256 ? "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f a0a1a2a3"
                                 : "000102030405060708090a0b0c0d0e0f a0a1a2a3";
  const std::string src = outer_v6 ? "2001:db8:ffff::1" : "203.0.113.1";
  const std::string dst = outer_v6 ? "2001:db8:ffff::2" : "203.0.113.2";
  std::string t;
  for (const char* dir : {"out", "in"}) {
    t += "[sa]\nspi = " + std::to_string(spi) + "\ndirection = " + dir +
         "\nmode = tunnel\nsuite = " + (gcm256 ? "aes256gcm16" : "aes128gcm16") + "\nkey = " + key + "\nsrc = " + src +
         "\ndst = " + dst + "\n";
    if (std::string(dir) == "in") t += "replay_window = 1024\nverify_tunnel = yes\n";
  }
  return t;
}

std::vector<sa::SaFile> ParseSas(const std::string& text) {
  auto r = sa::ParseSaFileMulti(text);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : std::vector<sa::SaFile>{};
}

std::vector<sa::SaFile> LoadExample(const std::string& name) {
  auto r = sa::LoadSaFileMulti(std::string(IPSEC_TOOLS_EXAMPLES_DIR) + "/" + name);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : std::vector<sa::SaFile>{};
}

std::string FileBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

bool HasBackend(const std::string& name) {
  const std::vector<std::string> b = driver::DeviceBackends();
  return std::find(b.begin(), b.end(), name) != b.end();
}

class PcapDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "_" + info->name();
    for (char& c : name) {
      if (c == '/') c = '_';
    }
    dir_ = fs::temp_directory_path() / ("ipsec_pcap_device_test_" + std::to_string(::getpid()) + "_" + name);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  static StatusOr<ProcessStats> Run(Operation op, std::vector<sa::SaFile> sas, const std::string& in,
                                    const std::string& out, const std::string& device, size_t burst = 16) {
    ProcessOptions o;
    o.op = op;
    o.input_path = in;
    o.output_path = out;
    o.burst = burst;
    o.device = device;
    return ProcessPcap(o, std::move(sas));
  }

  // Runs `in` through the software path and through `device`; both must succeed with the same
  // output file, drops and per-SA counters. Returns the software run's stats.
  ProcessStats RunBoth(Operation op, const std::string& sa_text, const std::string& in, const std::string& device,
                       size_t burst = 16) {
    const std::string sw = Path("sw.pcap"), card = Path("card.pcap");
    auto s = Run(op, ParseSas(sa_text), in, sw, "", burst);
    auto c = Run(op, ParseSas(sa_text), in, card, device, burst);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!s.ok() || !c.ok()) return {};
    const std::string sw_bytes = FileBytes(sw);
    EXPECT_GT(sw_bytes.size(), 24u);
    EXPECT_TRUE(sw_bytes == FileBytes(card)) << "output captures differ (" << device << ")";
    EXPECT_EQ(c->packets_in, s->packets_in);
    EXPECT_EQ(c->packets_out, s->packets_out);
    EXPECT_EQ(c->bytes_out, s->bytes_out);
    EXPECT_EQ(c->drops, s->drops);
    EXPECT_EQ(c->device, "card:" + device.substr(0, device.find(':')));
    EXPECT_TRUE(s->device.empty());
    EXPECT_EQ(c->sas.size(), s->sas.size());
    for (size_t i = 0; i < std::min(c->sas.size(), s->sas.size()); ++i) {
      SCOPED_TRACE("SA report " + std::to_string(i));
      EXPECT_EQ(c->sas[i].spi, s->sas[i].spi);
      EXPECT_EQ(c->sas[i].suite, s->sas[i].suite);
      EXPECT_EQ(c->sas[i].counters.packets, s->sas[i].counters.packets);
      EXPECT_EQ(c->sas[i].counters.bytes, s->sas[i].counters.bytes);
      EXPECT_EQ(c->sas[i].counters.drops, s->sas[i].counters.drops);
    }
    fs::rename(card, Path("last_card.pcap"));
    return *s;
  }

  void Gen(const std::string& path, uint64_t count, size_t size, bool v6, uint64_t seed = 5) {
    GenOptions g;
    g.output_path = path;
    g.count = count;
    g.size = size;
    g.v6 = v6;
    g.seed = seed;
    ASSERT_TRUE(GeneratePcap(g).ok());
  }

  fs::path dir_;
};

// Suite x outer IP version x inner IP version: encap and decap through `soft` equal the software
// path byte for byte, and decap of the card's encap gives the generated capture back.
class DeviceMatchesSoftwareTest : public PcapDeviceTest,
                                  public ::testing::WithParamInterface<std::tuple<bool, bool, bool>> {};

TEST_P(DeviceMatchesSoftwareTest, EncapAndDecapGiveTheSoftwarePathsCapture) {
  const auto [gcm256, outer_v6, inner_v6] = GetParam();
  const std::string sa = TunnelSaText(gcm256, outer_v6);
  Gen(Path("gen.pcap"), 60, inner_v6 ? 301 : 257, inner_v6);

  const ProcessStats enc = RunBoth(Operation::kEncap, sa, Path("gen.pcap"), "soft");
  EXPECT_EQ(enc.packets_out, 60u);
  EXPECT_EQ(enc.total_drops(), 0u);
  fs::rename(Path("sw.pcap"), Path("enc.pcap"));

  const ProcessStats dec = RunBoth(Operation::kDecap, sa, Path("enc.pcap"), "soft");
  EXPECT_EQ(dec.packets_out, 60u);
  EXPECT_EQ(dec.total_drops(), 0u);
  EXPECT_EQ(FileBytes(Path("last_card.pcap")), FileBytes(Path("gen.pcap")));

  // Round trip entirely on the card.
  ASSERT_TRUE(Run(Operation::kEncap, ParseSas(sa), Path("gen.pcap"), Path("c_enc.pcap"), "soft").ok());
  auto back = Run(Operation::kDecap, ParseSas(sa), Path("c_enc.pcap"), Path("c_dec.pcap"), "soft");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->total_drops(), 0u);
  EXPECT_EQ(FileBytes(Path("c_dec.pcap")), FileBytes(Path("gen.pcap")));
}

INSTANTIATE_TEST_SUITE_P(Tunnel, DeviceMatchesSoftwareTest,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool(), ::testing::Bool()),
                         [](const auto& p) {
                           return std::string(std::get<0>(p.param) ? "gcm256" : "gcm128") +
                                  (std::get<1>(p.param) ? "_outer6" : "_outer4") +
                                  (std::get<2>(p.param) ? "_inner6" : "_inner4");
                         });

// A ring smaller than the burst (several Submits per burst), a card that only moves when the
// driver steps it, burst sizes that leave a partial last burst, and Ethernet input.
TEST_F(PcapDeviceTest, SmallRingsSteppedCardAndEthernetMatchTheSoftwarePath) {
  const std::string sa = TunnelSaText(false, false);
  Gen(Path("gen.pcap"), 100, 200, false);
  for (const char* device : {"soft:ring_log2=4", "soft:ring_log2=4,step", "soft:provider=openssl"}) {
    for (size_t burst : {size_t{1}, size_t{33}, size_t{64}}) {
      SCOPED_TRACE(std::string(device) + " burst " + std::to_string(burst));
      RunBoth(Operation::kEncap, sa, Path("gen.pcap"), device, burst);
      fs::rename(Path("sw.pcap"), Path("enc.pcap"));
      RunBoth(Operation::kDecap, sa, Path("enc.pcap"), device, burst);
      EXPECT_EQ(FileBytes(Path("last_card.pcap")), FileBytes(Path("gen.pcap")));
    }
  }
  // Ethernet with VLAN tags, IPv4 and IPv6 inside.
  std::vector<Record> frames;
  for (uint64_t i = 0; i < 10; ++i) {
    const Record ip = GenerateUdpPacket(150 + i, (i & 1) != 0, 3, i);
    Record f = {std::byte{0x02}, std::byte{0},    std::byte{0}, std::byte{0}, std::byte{0}, std::byte{1},
                std::byte{0x02}, std::byte{0},    std::byte{0}, std::byte{0}, std::byte{0}, std::byte{2},
                std::byte{0x81}, std::byte{0x00}, std::byte{0}, std::byte{7}};
    f.push_back(std::byte{(i & 1) != 0 ? uint8_t{0x86} : uint8_t{0x08}});
    f.push_back(std::byte{(i & 1) != 0 ? uint8_t{0xdd} : uint8_t{0x00}});
    f.insert(f.end(), ip.begin(), ip.end());
    frames.push_back(f);
  }
  ASSERT_TRUE(WritePcap(Path("eth.pcap"), DLT_EN10MB, frames).ok());
  RunBoth(Operation::kEncap, TunnelSaText(true, true), Path("eth.pcap"), "soft", 4);
  fs::rename(Path("sw.pcap"), Path("enc.pcap"));
  RunBoth(Operation::kDecap, TunnelSaText(true, true), Path("enc.pcap"), "soft", 4);
  auto back = ReadPcap(Path("last_card.pcap"));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->linktype, DLT_EN10MB);
  EXPECT_EQ(back->records, frames);
}

// A forged ICV, a replay, a packet that is not ESP and an unknown SPI are dropped with the
// software path's reasons, and counted on the same SAs.
TEST_F(PcapDeviceTest, CorruptedPacketsAreDroppedWithTheSoftwarePathsReasons) {
  const std::string sa = TunnelSaText(false, false);
  Gen(Path("gen.pcap"), 12, 120, false);
  ASSERT_TRUE(Run(Operation::kEncap, ParseSas(sa), Path("gen.pcap"), Path("enc.pcap"), "").ok());
  auto enc = ReadPcap(Path("enc.pcap"));
  ASSERT_TRUE(enc.ok());
  std::vector<Record> recs = enc->records;
  recs[3][recs[3].size() - 1] ^= std::byte{1};      // ICV
  recs[7][recs[7].size() - 30] ^= std::byte{0x40};  // ciphertext
  recs.push_back(recs[5]);                          // replay
  Record udp = GenerateUdpPacket(60, false, 1, 0);  // not ESP
  recs.push_back(udp);
  Record bad_spi = recs[6];
  StoreU32Be(bad_spi.data() + 20, 0x9999);
  recs.push_back(bad_spi);
  ASSERT_TRUE(WritePcap(Path("bad.pcap"), DLT_RAW, recs).ok());

  const ProcessStats dec = RunBoth(Operation::kDecap, sa, Path("bad.pcap"), "soft", 8);
  EXPECT_EQ(dec.packets_in, 15u);
  EXPECT_EQ(dec.packets_out, 10u);
  EXPECT_EQ(dec.drops[static_cast<size_t>(sa::DropReason::kAuthFailed)], 2u);
  EXPECT_EQ(dec.drops[static_cast<size_t>(sa::DropReason::kReplay)], 1u);
  EXPECT_EQ(dec.drops[static_cast<size_t>(sa::DropReason::kNotEsp)], 1u);
  EXPECT_EQ(dec.drops[static_cast<size_t>(sa::DropReason::kBadSpi)], 1u);
  ASSERT_EQ(dec.sas.size(), 2u);  // the SA, and the drops no SA owns
  EXPECT_EQ(dec.sas[0].counters.drop(sa::DropReason::kAuthFailed), 2u);
  EXPECT_EQ(dec.sas[1].spi, 0u);

  // The summary names the card.
  auto card = Run(Operation::kDecap, ParseSas(sa), Path("bad.pcap"), Path("x.pcap"), "soft");
  ASSERT_TRUE(card.ok());
  EXPECT_NE(FormatStats(*card, Operation::kDecap, true).find("provider card:soft,"), std::string::npos);
  EXPECT_NE(FormatStatsJson(*card, Operation::kDecap, true).find("\"provider\": \"card:soft\""), std::string::npos);
}

// Decap with several inbound SAs: each packet finds its SA by SPI in the card's table.
TEST_F(PcapDeviceTest, SeveralInboundSasAreFoundBySpi) {
  Gen(Path("gen4.pcap"), 30, 150, false, 1);
  Gen(Path("gen6.pcap"), 30, 250, true, 2);
  const std::string a = TunnelSaText(false, false, 0x1001), b = TunnelSaText(true, true, 0x1002);
  ASSERT_TRUE(Run(Operation::kEncap, ParseSas(a), Path("gen4.pcap"), Path("ea.pcap"), "").ok());
  ASSERT_TRUE(Run(Operation::kEncap, ParseSas(b), Path("gen6.pcap"), Path("eb.pcap"), "").ok());
  auto ea = ReadPcap(Path("ea.pcap")), eb = ReadPcap(Path("eb.pcap"));
  ASSERT_TRUE(ea.ok() && eb.ok());
  std::vector<Record> mixed;
  for (size_t i = 0; i < 30; ++i) {
    mixed.push_back(ea->records[i]);
    mixed.push_back(eb->records[i]);
  }
  ASSERT_TRUE(WritePcap(Path("mixed.pcap"), DLT_RAW, mixed).ok());
  const ProcessStats dec = RunBoth(Operation::kDecap, a + b, Path("mixed.pcap"), "soft", 7);
  EXPECT_EQ(dec.packets_out, 60u);
  ASSERT_EQ(dec.sas.size(), 2u);
  EXPECT_EQ(dec.sas[0].counters.packets, 30u);
  EXPECT_EQ(dec.sas[1].counters.packets, 30u);
}

// Packets longer than the card's largest packet (9216 bytes by default) are not sent to it and
// are dropped as malformed, as the card reports too_big; the rest of the burst goes through.
TEST_F(PcapDeviceTest, PacketsBeyondTheCardsLimitAreDroppedAsMalformed) {
  const std::vector<Record> in = {GenerateUdpPacket(200, false, 1, 0), GenerateUdpPacket(9300, false, 1, 1),
                                  GenerateUdpPacket(200, false, 1, 2)};
  ASSERT_TRUE(WritePcap(Path("in.pcap"), DLT_RAW, in).ok());
  auto r = Run(Operation::kEncap, ParseSas(TunnelSaText(false, false)), Path("in.pcap"), Path("out.pcap"), "soft");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->packets_out, 2u);
  EXPECT_EQ(r->total_drops(), 1u);
  EXPECT_EQ(r->drops[static_cast<size_t>(sa::DropReason::kMalformed)], 1u);
  ASSERT_EQ(r->sas.size(), 2u);
  EXPECT_EQ(r->sas[0].counters.packets, 2u);
  EXPECT_EQ(r->sas[1].spi, 0u);
  EXPECT_EQ(r->sas[1].counters.drop(sa::DropReason::kMalformed), 1u);
}

TEST_F(PcapDeviceTest, ConfigurationsTheCardCannotRunAreClearErrors) {
  Gen(Path("gen.pcap"), 1, 100, false);
  const auto run = [&](Operation op, std::vector<sa::SaFile> sas, const std::string& device) {
    return Run(op, std::move(sas), Path("gen.pcap"), Path("out.pcap"), device).status();
  };
  Status s = run(Operation::kEncap, ParseSas(TunnelSaText(false, false)), "nope");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "--device nope: unknown device backend 'nope' (known: " +
                             std::string(HasBackend("sim") ? "sim, soft" : "soft") + ")");
  s = run(Operation::kEncap, ParseSas(TunnelSaText(false, false)), "soft:frobnicate=1");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("unknown soft card option 'frobnicate'"), std::string::npos) << s.message();
  s = run(Operation::kEncap, LoadExample("ah-transport.sa"), "soft");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "SA 8193: protocol = ah is not supported with --device (the card does ESP only); "
            "run without --device to use the software AH path");
  s = run(Operation::kDecap, LoadExample("ah-transport.sa"), "soft");
  EXPECT_NE(s.message().find("protocol = ah is not supported with --device"), std::string::npos) << s.message();
  s = run(Operation::kEncap, LoadExample("cbc-hmac-transport.sa"), "soft");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "SA 4096: suite aes128cbc-sha256 is not implemented by the card "
            "(card suites: aes128gcm16, aes256gcm16)");
  // The SA selection rules are the software path's.
  EXPECT_EQ(run(Operation::kDecap, LoadExample("gcm-tunnel-out.sa"), "soft").message(),
            "decap needs an SA with direction = in");
  // Two inbound SPIs in one slot of a 16-entry SA table.
  std::vector<sa::SaFile> clash = ParseSas(TunnelSaText(false, false, 0x1001));
  for (sa::SaFile& f : ParseSas(TunnelSaText(false, false, 0x2001))) clash.push_back(std::move(f));
  s = run(Operation::kDecap, std::move(clash), "soft:sa=16");
  EXPECT_EQ(s.message(),
            "decap: SPIs 0x00001001 and 0x00002001 both map to card SA slot 1 (SPI mod 16); "
            "the card holds one inbound SA per slot");
  // SPIs in different slots are fine.
  std::vector<sa::SaFile> two = ParseSas(TunnelSaText(false, false, 0x1001));
  for (sa::SaFile& f : ParseSas(TunnelSaText(true, true, 0x1002))) two.push_back(std::move(f));
  s = run(Operation::kDecap, std::move(two), "soft:sa=16");
  EXPECT_TRUE(s.ok()) << s.ToString();
}

// The executable: --device on the command line, its exit codes and the help text.
TEST_F(PcapDeviceTest, CommandLine) {
  const std::string bin = IPSEC_PCAP_BINARY;
  const auto sh = [&](const std::string& args) {
    const int rc = std::system((bin + " " + args + " > " + Path("stdout.txt") + " 2>&1").c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  };
  const std::string examples = IPSEC_TOOLS_EXAMPLES_DIR;
  const std::string sa = examples + "/gcm-tunnel.sa";
  EXPECT_EQ(sh("gen -o " + Path("g.pcap") + " --count 40 --size 400 --v6"), 0);
  EXPECT_EQ(sh("encap --sa " + sa + " -i " + Path("g.pcap") + " -o " + Path("e_sw.pcap")), 0);
  EXPECT_EQ(sh("encap --sa " + sa + " -i " + Path("g.pcap") + " -o " + Path("e_card.pcap") + " --device soft --stats"),
            0);
  EXPECT_NE(FileBytes(Path("stdout.txt")).find("provider card:soft,"), std::string::npos)
      << FileBytes(Path("stdout.txt"));
  EXPECT_EQ(FileBytes(Path("e_sw.pcap")), FileBytes(Path("e_card.pcap")));
  EXPECT_EQ(sh("decap --sa " + sa + " -i " + Path("e_card.pcap") + " -o " + Path("d.pcap") + " --device soft --json"),
            0);
  EXPECT_NE(FileBytes(Path("stdout.txt")).find("\"provider\": \"card:soft\""), std::string::npos);
  EXPECT_EQ(FileBytes(Path("d.pcap")), FileBytes(Path("g.pcap")));
  // Drops: exit 1, as on the software path.
  EXPECT_EQ(sh("decap --sa " + sa + " -i " + Path("g.pcap") + " -o " + Path("x.pcap") + " --device soft"), 1);
  // Configuration errors: exit 2, with the reason on stderr.
  EXPECT_EQ(sh("encap --sa " + sa + " -i " + Path("g.pcap") + " -o " + Path("x.pcap") + " --device nope"), 2);
  EXPECT_NE(FileBytes(Path("stdout.txt")).find("unknown device backend 'nope'"), std::string::npos);
  EXPECT_EQ(sh("encap --sa " + examples + "/ah-transport.sa -i " + Path("g.pcap") + " -o " + Path("x.pcap") +
               " --device soft"),
            2);
  EXPECT_NE(FileBytes(Path("stdout.txt")).find("protocol = ah is not supported with --device"), std::string::npos);
  EXPECT_EQ(sh("encap --sa " + sa + " -i " + Path("g.pcap") + " -o x --device soft --provider openssl"), 2);
  EXPECT_EQ(sh("encap --sa " + sa + " -i " + Path("g.pcap") + " -o x --device"), 2);
  EXPECT_EQ(sh("gen -o " + Path("x.pcap") + " --count 1 --size 100 --device soft"), 2);
  EXPECT_EQ(sh("--help"), 0);
  EXPECT_NE(FileBytes(Path("stdout.txt")).find("--device SPEC"), std::string::npos);
  EXPECT_NE(FileBytes(Path("stdout.txt")).find("device backends in this build: "), std::string::npos);
}

// The Verilated card: a short capture through `sim` equals the software path. Runs when this test
// was built with the simulated card (IPSEC_HW); skipped otherwise.
TEST_F(PcapDeviceTest, SimCardMatchesTheSoftwarePath) {
#ifdef IPSEC_HAVE_SIM_CARD
  ASSERT_TRUE(driver::RegisterSimBackend().ok());
#endif
  if (!HasBackend("sim")) GTEST_SKIP() << "device backend sim not built in (IPSEC_HW=OFF or no Verilator)";
  for (bool v6 : {false, true}) {
    SCOPED_TRACE(v6 ? "IPv6" : "IPv4");
    const std::string sa = TunnelSaText(v6, v6);
    Gen(Path("gen.pcap"), 20, v6 ? 333 : 180, v6);
    const ProcessStats enc = RunBoth(Operation::kEncap, sa, Path("gen.pcap"), "sim", 8);
    EXPECT_EQ(enc.packets_out, 20u);
    fs::rename(Path("sw.pcap"), Path("enc.pcap"));
    const ProcessStats dec = RunBoth(Operation::kDecap, sa, Path("enc.pcap"), "sim", 8);
    EXPECT_EQ(dec.packets_out, 20u);
    EXPECT_EQ(FileBytes(Path("last_card.pcap")), FileBytes(Path("gen.pcap")));
  }
}

}  // namespace
}  // namespace ipsec::tools
