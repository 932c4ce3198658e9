// ipsec-pcap end to end: generated captures through encap and decap come back byte for byte, for
// every example SA file, both IP versions and several burst sizes; link types; drop accounting;
// configuration errors; and the command line itself (exit codes) via std::system.
#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "host/common/bytes.h"
#include "host/common/ip.h"
#include "host/sa/sa_file.h"
#include "host/tools/pcap_processor.h"

namespace ipsec::tools {
namespace {

namespace fs = std::filesystem;
using Record = std::vector<std::byte>;

std::string Example(const std::string& name) { return std::string(IPSEC_TOOLS_EXAMPLES_DIR) + "/" + name; }

std::vector<sa::SaFile> LoadExample(const std::string& name) {
  auto r = sa::LoadSaFileMulti(Example(name));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : std::vector<sa::SaFile>{};
}

class PcapToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "_" + info->name();
    for (char& c : name) {
      if (c == '/') c = '_';
    }
    dir_ = fs::temp_directory_path() / ("ipsec_pcap_test_" + std::to_string(::getpid()) + "_" + name);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  StatusOr<ProcessStats> Run(Operation op, const std::string& sa_file, const std::string& in, const std::string& out,
                             size_t burst = 32, crypto::Provider provider = crypto::Provider::kAuto) {
    ProcessOptions o;
    o.op = op;
    o.input_path = in;
    o.output_path = out;
    o.burst = burst;
    o.provider = provider;
    return ProcessPcap(o, LoadExample(sa_file));
  }

  static std::vector<Record> Records(const std::string& path, int* linktype = nullptr) {
    auto c = ReadPcap(path);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return {};
    if (linktype != nullptr) *linktype = c->linktype;
    return c->records;
  }

  fs::path dir_;
};

TEST(GenerateUdpPacketTest, BuildsValidPacketsOfTheRequestedSize) {
  for (bool v6 : {false, true}) {
    for (size_t size : {v6 ? kGenMinSizeV6 : kGenMinSizeV4, size_t{61}, size_t{1500}, kGenMaxSize}) {
      const Record p = GenerateUdpPacket(size, v6, 7, 3);
      ASSERT_EQ(p.size(), size);
      const ip::IpInfo info = ip::ParseIp(p, /*allow_trailing=*/false);
      ASSERT_EQ(info.version, v6 ? 6 : 4);
      EXPECT_EQ(info.protocol, ip::kProtoUdp);
      if (!v6) {
        EXPECT_TRUE(ip::Ipv4ChecksumOk(p.data(), 20));
        EXPECT_EQ(U8(p[12]), 192);  // RFC 5737 TEST-NET-1 source
        EXPECT_EQ(U8(p[16]), 198);  // RFC 5737 TEST-NET-2 destination
      } else {
        EXPECT_EQ(LoadU32Be(p.data() + 8), 0x20010db8u);  // RFC 3849
      }
      // UDP checksum over the pseudo-header verifies to 0xffff.
      const size_t hl = v6 ? 40 : 20;
      uint32_t sum = ip::PseudoHeaderSum(p.data() + (v6 ? 8 : 12), p.data() + (v6 ? 24 : 16), v6, ip::kProtoUdp,
                                         static_cast<uint32_t>(size - hl));
      sum = ip::ChecksumPartial(Bytes(p).subspan(hl), sum);
      EXPECT_EQ(ip::ChecksumFold(sum), 0xffff);
    }
  }
  // Deterministic in (seed, index), different across them.
  EXPECT_EQ(GenerateUdpPacket(100, false, 1, 5), GenerateUdpPacket(100, false, 1, 5));
  EXPECT_NE(GenerateUdpPacket(100, false, 1, 5), GenerateUdpPacket(100, false, 2, 5));
  EXPECT_NE(GenerateUdpPacket(100, false, 1, 5), GenerateUdpPacket(100, false, 1, 6));
}

TEST_F(PcapToolTest, GenRejectsSizesOutsideTheLimits) {
  GenOptions g;
  g.output_path = Path("g.pcap");
  g.size = 27;
  EXPECT_FALSE(GeneratePcap(g).ok());
  g.v6 = true;
  g.size = 47;
  EXPECT_FALSE(GeneratePcap(g).ok());
  g.size = 65536;
  EXPECT_FALSE(GeneratePcap(g).ok());
  g.output_path = Path("no/such/dir/g.pcap");
  g.size = 100;
  EXPECT_FALSE(GeneratePcap(g).ok());
}

// gen -> encap -> decap -> byte-compare, per example SA file, IP version and burst size.
class RoundTripTest : public PcapToolTest,
                      public ::testing::WithParamInterface<std::tuple<const char*, bool, size_t>> {};

TEST_P(RoundTripTest, DecapGivesTheGeneratedCaptureBack) {
  const auto [sa_file, v6, burst] = GetParam();
  GenOptions g;
  g.output_path = Path("gen.pcap");
  g.count = 100;
  g.size = v6 ? 333 : 200;
  g.v6 = v6;
  g.seed = 42;
  ASSERT_TRUE(GeneratePcap(g).ok());

  auto enc = Run(Operation::kEncap, sa_file, Path("gen.pcap"), Path("enc.pcap"), burst);
  ASSERT_TRUE(enc.ok()) << enc.status().ToString();
  EXPECT_EQ(enc->frames, 100u);
  EXPECT_EQ(enc->packets_in, 100u);
  EXPECT_EQ(enc->packets_out, 100u);
  EXPECT_EQ(enc->total_drops(), 0u);
  EXPECT_EQ(enc->bytes_in, 100u * g.size);
  EXPECT_GT(enc->bytes_out, enc->bytes_in);
  EXPECT_EQ(enc->bursts, (100 + burst - 1) / burst);
  ASSERT_EQ(enc->sas.size(), 1u);
  EXPECT_EQ(enc->sas[0].counters.packets, 100u);

  const std::vector<Record> generated = Records(Path("gen.pcap"));
  int enc_link = 0;
  const std::vector<Record> encrypted = Records(Path("enc.pcap"), &enc_link);
  EXPECT_EQ(enc_link, DLT_RAW);
  ASSERT_EQ(encrypted.size(), generated.size());
  for (size_t i = 0; i < encrypted.size(); ++i) {
    EXPECT_NE(encrypted[i], generated[i]);
    EXPECT_NE(ip::ParseIp(encrypted[i], false).version, 0);
  }

  auto dec = Run(Operation::kDecap, sa_file, Path("enc.pcap"), Path("dec.pcap"), burst);
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  EXPECT_EQ(dec->packets_out, 100u);
  EXPECT_EQ(dec->total_drops(), 0u);
  EXPECT_EQ(dec->bytes_out, enc->bytes_in);
  EXPECT_EQ(Records(Path("dec.pcap")), generated);
}

INSTANTIATE_TEST_SUITE_P(Examples, RoundTripTest,
                         ::testing::Combine(::testing::Values("gcm-tunnel.sa", "cbc-hmac-transport.sa",
                                                              "ah-transport.sa"),
                                            ::testing::Bool(), ::testing::Values(size_t{1}, size_t{7}, size_t{32})));

TEST_F(PcapToolTest, ProvidersProduceInteroperableOutput) {
  GenOptions g;
  g.output_path = Path("gen.pcap");
  g.count = 20;
  g.size = 300;
  ASSERT_TRUE(GeneratePcap(g).ok());
  for (auto [enc_p, dec_p] : {std::pair{crypto::Provider::kOpenSsl, crypto::Provider::kIpsecMb},
                              std::pair{crypto::Provider::kIpsecMb, crypto::Provider::kOpenSsl}}) {
    auto enc = Run(Operation::kEncap, "cbc-hmac-transport.sa", Path("gen.pcap"), Path("enc.pcap"), 32, enc_p);
    ASSERT_TRUE(enc.ok()) << enc.status().ToString();
    auto dec = Run(Operation::kDecap, "cbc-hmac-transport.sa", Path("enc.pcap"), Path("dec.pcap"), 32, dec_p);
    ASSERT_TRUE(dec.ok()) << dec.status().ToString();
    EXPECT_EQ(dec->total_drops(), 0u);
    EXPECT_EQ(Records(Path("dec.pcap")), Records(Path("gen.pcap")));
  }
}

// Ethernet in: the Ethernet header (with VLAN tags) comes back, EtherType follows the IP version,
// link padding is removed, non-IP frames are counted and left out.
TEST_F(PcapToolTest, EthernetHeadersAreKeptAndNonIpFramesSkipped) {
  const Record v4 = GenerateUdpPacket(40, false, 1, 0);  // short: padded to 60 bytes on the wire
  const Record v6 = GenerateUdpPacket(120, true, 1, 1);
  const auto eth = [](const Record& ip, uint16_t type, int vlans, size_t pad_to) {
    Record f = {std::byte{0x02}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{1},
                std::byte{0x02}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{2}};
    for (int v = 0; v < vlans; ++v) {
      const uint16_t tpid = v == 0 && vlans > 1 ? 0x88a8 : 0x8100;
      f.push_back(std::byte(tpid >> 8));
      f.push_back(std::byte(tpid & 0xff));
      f.push_back(std::byte{0});
      f.push_back(std::byte(10 + v));
    }
    f.push_back(std::byte(type >> 8));
    f.push_back(std::byte(type & 0xff));
    f.insert(f.end(), ip.begin(), ip.end());
    if (f.size() < pad_to) f.resize(pad_to, std::byte{0});
    return f;
  };
  const Record arp = eth(Record(28, std::byte{1}), 0x0806, 0, 60);
  const std::vector<Record> in = {eth(v4, 0x0800, 0, 60), arp, eth(v6, 0x86dd, 1, 0), eth(v4, 0x0800, 2, 0)};
  ASSERT_TRUE(WritePcap(Path("eth.pcap"), DLT_EN10MB, in).ok());

  auto enc = Run(Operation::kEncap, "gcm-tunnel.sa", Path("eth.pcap"), Path("enc.pcap"));
  ASSERT_TRUE(enc.ok()) << enc.status().ToString();
  EXPECT_EQ(enc->frames, 4u);
  EXPECT_EQ(enc->non_ip, 1u);
  EXPECT_EQ(enc->packets_in, 3u);
  EXPECT_EQ(enc->packets_out, 3u);
  EXPECT_EQ(enc->bytes_in, 40u + 120u + 40u);  // padding not counted
  int link = 0;
  const std::vector<Record> out = Records(Path("enc.pcap"), &link);
  EXPECT_EQ(link, DLT_EN10MB);
  ASSERT_EQ(out.size(), 3u);
  // The tunnel is IPv4 (203.0.113.x), so every frame now says IPv4, VLAN tags intact.
  EXPECT_EQ(LoadU16Be(out[0].data() + 12), 0x0800);
  EXPECT_EQ(LoadU16Be(out[1].data() + 12), 0x8100);
  EXPECT_EQ(LoadU16Be(out[1].data() + 16), 0x0800);
  EXPECT_EQ(LoadU16Be(out[2].data() + 12), 0x88a8);
  EXPECT_EQ(LoadU16Be(out[2].data() + 20), 0x0800);

  auto dec = Run(Operation::kDecap, "gcm-tunnel.sa", Path("enc.pcap"), Path("dec.pcap"));
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  EXPECT_EQ(dec->total_drops(), 0u);
  const std::vector<Record> back = Records(Path("dec.pcap"));
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[0], eth(v4, 0x0800, 0, 0));  // padding gone
  EXPECT_EQ(back[1], in[2]);                  // IPv6 inside again
  EXPECT_EQ(back[2], in[3]);
}

// Raw-IP style link types: the IP packet is found behind each link header; output is LINKTYPE_RAW.
TEST_F(PcapToolTest, ReadsOtherLinkTypes) {
  const Record v4 = GenerateUdpPacket(100, false, 3, 0);
  const Record v6 = GenerateUdpPacket(100, true, 3, 1);
  const auto with = [](Record hdr, const Record& ip) {
    hdr.insert(hdr.end(), ip.begin(), ip.end());
    return hdr;
  };
  const auto b = [](std::initializer_list<int> v) {
    Record r;
    for (int x : v) r.push_back(std::byte(x));
    return r;
  };
  struct Case {
    int dlt;
    std::vector<Record> frames;
  } cases[] = {
      {DLT_RAW, {v4, v6, b({0x00, 1, 2})}},
      {DLT_IPV4, {v4}},
      {DLT_IPV6, {v6}},
      // DLT_NULL: family in the capturing host's order (little-endian here), AF_INET6 = 30 (macOS).
      {DLT_NULL, {with(b({2, 0, 0, 0}), v4), with(b({0, 0, 0, 30}), v6), with(b({7, 0, 0, 0}), v4)}},
      {DLT_LOOP, {with(b({0, 0, 0, 2}), v4), with(b({0, 0, 0, 24}), v6)}},
      {DLT_LINUX_SLL, {with(b({0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00}), v4),
                       with(b({0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x86, 0xdd}), v6),
                       with(b({0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x06}), v4)}},
      {DLT_LINUX_SLL2, {with(b({0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0}), v6)}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(pcap_datalink_val_to_name(c.dlt));
    ASSERT_TRUE(WritePcap(Path("in.pcap"), c.dlt, c.frames).ok());
    auto enc = Run(Operation::kEncap, "gcm-tunnel.sa", Path("in.pcap"), Path("enc.pcap"));
    ASSERT_TRUE(enc.ok()) << enc.status().ToString();
    EXPECT_EQ(enc->total_drops(), 0u);
    auto dec = Run(Operation::kDecap, "gcm-tunnel.sa", Path("enc.pcap"), Path("dec.pcap"));
    ASSERT_TRUE(dec.ok()) << dec.status().ToString();
    int link = 0;
    const std::vector<Record> back = Records(Path("dec.pcap"), &link);
    EXPECT_EQ(link, DLT_RAW);
    std::vector<Record> want;
    for (const Record& f : c.frames) {
      for (const Record* ip : {&v4, &v6}) {
        if (f.size() >= ip->size() && std::equal(ip->begin(), ip->end(), f.end() - static_cast<std::ptrdiff_t>(ip->size())) &&
            (f.size() == ip->size() || c.dlt != DLT_RAW)) {
          want.push_back(*ip);
          break;
        }
      }
    }
    // The last frame of the NULL and SLL cases is not IP (family 7, ARP) and is skipped.
    if (c.dlt == DLT_NULL || c.dlt == DLT_LINUX_SLL) want.pop_back();
    EXPECT_EQ(enc->non_ip, c.frames.size() - want.size());
    EXPECT_EQ(back, want);
  }
}

TEST_F(PcapToolTest, CountsDropsPerReason) {
  GenOptions g;
  g.output_path = Path("gen.pcap");
  g.count = 10;
  g.size = 100;
  ASSERT_TRUE(GeneratePcap(g).ok());
  ASSERT_TRUE(Run(Operation::kEncap, "gcm-tunnel.sa", Path("gen.pcap"), Path("enc.pcap")).ok());
  std::vector<Record> enc = Records(Path("enc.pcap"));
  ASSERT_EQ(enc.size(), 10u);
  enc[3][enc[3].size() - 1] ^= std::byte{1};  // ICV
  enc.push_back(enc[5]);                       // replay
  Record icmp = GenerateUdpPacket(60, false, 1, 0);  // not ESP: protocol ICMP
  icmp[9] = std::byte{1};
  ip::SetIpv4Checksum(icmp.data(), 20);
  enc.push_back(icmp);
  Record bad_spi = enc[6];
  StoreU32Be(bad_spi.data() + 20, 0x9999);
  enc.push_back(bad_spi);
  ASSERT_TRUE(WritePcap(Path("bad.pcap"), DLT_RAW, enc).ok());
  auto dec = Run(Operation::kDecap, "gcm-tunnel.sa", Path("bad.pcap"), Path("dec.pcap"));
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  EXPECT_EQ(dec->packets_in, 13u);
  EXPECT_EQ(dec->packets_out, 9u);
  EXPECT_EQ(dec->total_drops(), 4u);
  EXPECT_EQ(dec->drops[static_cast<size_t>(sa::DropReason::kAuthFailed)], 1u);
  EXPECT_EQ(dec->drops[static_cast<size_t>(sa::DropReason::kReplay)], 1u);
  EXPECT_EQ(dec->drops[static_cast<size_t>(sa::DropReason::kNotEsp)], 1u);
  EXPECT_EQ(dec->drops[static_cast<size_t>(sa::DropReason::kBadSpi)], 1u);

  const std::string text = FormatStats(*dec, Operation::kDecap, /*per_sa=*/true);
  EXPECT_NE(text.find("dropped             4"), std::string::npos) << text;
  EXPECT_NE(text.find(std::string(sa::DropReasonName(sa::DropReason::kAuthFailed))), std::string::npos) << text;
  const std::string json = FormatStatsJson(*dec, Operation::kDecap, /*per_sa=*/true);
  EXPECT_NE(json.find("\"dropped\": 4"), std::string::npos) << json;
  EXPECT_NE(json.find("\"packets_out\": 9"), std::string::npos) << json;
  EXPECT_NE(json.find("\"sas\": [{\"spi\": 4097"), std::string::npos) << json;
}

TEST_F(PcapToolTest, RejectsBadConfigurations) {
  GenOptions g;
  g.output_path = Path("gen.pcap");
  g.count = 1;
  ASSERT_TRUE(GeneratePcap(g).ok());
  ProcessOptions o;
  o.input_path = Path("gen.pcap");
  o.output_path = Path("out.pcap");

  // Encap needs exactly one outbound SA; decap an inbound one.
  auto only_in = sa::ParseSaFileMulti(
      "spi = 300\ndirection = in\nmode = transport\nsuite = aes128gcm16\nkey = 000102030405060708090a0b0c0d0e0f10111213\n");
  ASSERT_TRUE(only_in.ok());
  auto r = ProcessPcap(o, std::move(only_in).value());
  EXPECT_EQ(r.status().message(), "encap needs an SA with direction = out");
  o.op = Operation::kDecap;
  auto only_out = LoadExample("gcm-tunnel-out.sa");
  EXPECT_EQ(ProcessPcap(o, std::move(only_out)).status().message(), "decap needs an SA with direction = in");
  o.op = Operation::kEncap;
  auto two_out = LoadExample("gcm-tunnel-out.sa");
  for (sa::SaFile& f : LoadExample("gcm-tunnel-out.sa")) two_out.push_back(std::move(f));
  EXPECT_EQ(ProcessPcap(o, std::move(two_out)).status().message(),
            "encap needs exactly one SA with direction = out; got 2");
  // Mixed protocols on decap.
  o.op = Operation::kDecap;
  auto mixed = LoadExample("gcm-tunnel.sa");
  for (sa::SaFile& f : LoadExample("ah-transport.sa")) mixed.push_back(std::move(f));
  EXPECT_EQ(ProcessPcap(o, std::move(mixed)).status().message(), "decap: ESP and AH SAs cannot be mixed in one run");
  // Burst range, missing input, unsupported link type.
  o.op = Operation::kEncap;
  o.burst = 0;
  EXPECT_FALSE(ProcessPcap(o, LoadExample("gcm-tunnel.sa")).ok());
  o.burst = kMaxBurst + 1;
  EXPECT_FALSE(ProcessPcap(o, LoadExample("gcm-tunnel.sa")).ok());
  o.burst = 32;
  o.input_path = Path("missing.pcap");
  EXPECT_EQ(ProcessPcap(o, LoadExample("gcm-tunnel.sa")).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(WritePcap(Path("wifi.pcap"), DLT_IEEE802_11, {Record(30)}).ok());
  o.input_path = Path("wifi.pcap");
  auto wifi = ProcessPcap(o, LoadExample("gcm-tunnel.sa"));
  EXPECT_NE(wifi.status().message().find("unsupported link type"), std::string::npos) << wifi.status().message();
}

// The executable: exit codes 0 (clean), 1 (drops), 2 (usage/config), and byte-identical files.
TEST_F(PcapToolTest, CommandLineEndToEnd) {
  const std::string bin = IPSEC_PCAP_BINARY;
  const auto sh = [&](const std::string& args) {
    const int rc = std::system((bin + " " + args + " > " + Path("stdout.txt") + " 2>&1").c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  };
  const std::string sa = Example("gcm-tunnel.sa");
  EXPECT_EQ(sh("gen -o " + Path("g.pcap") + " --count 50 --size 512 --v6 --seed 9"), 0);
  EXPECT_EQ(sh("encap --sa " + sa + " -i " + Path("g.pcap") + " -o " + Path("e.pcap") + " --burst 8 --stats"), 0);
  EXPECT_EQ(sh("decap --sa " + sa + " -i " + Path("e.pcap") + " -o " + Path("d.pcap") + " --json --provider openssl"), 0);
  EXPECT_EQ(Records(Path("d.pcap")), Records(Path("g.pcap")));
  // Decapsulating the plaintext capture drops everything: exit 1.
  EXPECT_EQ(sh("decap --sa " + sa + " -i " + Path("g.pcap") + " -o " + Path("x.pcap")), 1);
  // Usage and configuration errors: exit 2.
  EXPECT_EQ(sh(""), 2);
  EXPECT_EQ(sh("frobnicate"), 2);
  EXPECT_EQ(sh("encap -i " + Path("g.pcap") + " -o " + Path("x.pcap")), 2);           // no --sa
  EXPECT_EQ(sh("encap --sa " + sa + " -i " + Path("g.pcap")), 2);                      // no -o
  EXPECT_EQ(sh("encap --sa " + sa + " -i " + Path("g.pcap") + " -o x --burst 0"), 2);  // bad burst
  EXPECT_EQ(sh("encap --sa " + sa + " -i " + Path("g.pcap") + " -o x --provider foo"), 2);
  EXPECT_EQ(sh("encap --sa " + Path("missing.sa") + " -i " + Path("g.pcap") + " -o x"), 2);
  EXPECT_EQ(sh("encap --sa " + sa + " -i " + Path("missing.pcap") + " -o " + Path("x.pcap")), 2);
  EXPECT_EQ(sh("gen -o " + Path("x.pcap") + " --count 1"), 2);                          // no --size
  EXPECT_EQ(sh("gen -o " + Path("x.pcap") + " --count 1 --size 10"), 2);                // too small
  EXPECT_EQ(sh("gen -o " + Path("x.pcap") + " --count 1 --size 100 --stats"), 2);       // not for gen
  EXPECT_EQ(sh("encap --sa " + sa + " -i " + Path("g.pcap") + " -o x --v6"), 2);        // not for encap
  EXPECT_EQ(sh("--help"), 0);
  EXPECT_EQ(sh("encap -h"), 0);
}

}  // namespace
}  // namespace ipsec::tools
