// The runtime's control views (host/runtime/runtime_control.h) on the soft card: the card, SA and
// statistics reports with SAs on the card and in software, counters after traffic through a
// RuntimeQueue, the Prometheus text parsed back, the command language on good and bad lines, and
// no key material in any output.
#include "host/runtime/runtime_control.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "driver/packet_pool.h"
#include "host/common/bytes.h"
#include "tests/esp/test_packets.h"

namespace ipsec::runtime {
namespace {

using esp::testing::MakeKeys;
using esp::testing::MakePacket;
using nlohmann::json;
using Buf = std::vector<std::byte>;

sa::SaConfig Config(uint32_t spi, sa::Direction dir, sa::Suite suite = sa::Suite::kAesGcm128) {
  sa::SaConfig c;
  c.spi = spi;
  c.direction = dir;
  c.suite = suite;
  c.mode = sa::Mode::kTunnel;
  c.tunnel_src = *sa::IpAddress::Parse(dir == sa::Direction::kOutbound ? "198.18.0.1" : "198.18.0.2");
  c.tunnel_dst = *sa::IpAddress::Parse(dir == sa::Direction::kOutbound ? "198.18.0.2" : "198.18.0.1");
  c.replay_window = 128;
  return c;
}

// The peer's view of an SA: the same keys, the other direction.
std::unique_ptr<esp::EspSa> Peer(sa::SaConfig c, uint32_t key_seed) {
  c.direction = c.direction == sa::Direction::kOutbound ? sa::Direction::kInbound : sa::Direction::kOutbound;
  std::swap(c.tunnel_src, c.tunnel_dst);
  auto s = esp::EspSa::Create(c, MakeKeys(c.suite, key_seed));
  EXPECT_TRUE(s.ok()) << s.status().message();
  return std::move(*s);
}

Buf Seal(esp::EspSa& peer, const Buf& in) {
  std::vector<std::byte> mem(in.size() + 512);
  PacketBuf pb{mem.data(), static_cast<uint32_t>(mem.size()), 256, static_cast<uint32_t>(in.size())};
  std::memcpy(pb.data(), in.data(), in.size());
  PacketBuf* p = &pb;
  sa::DropReason st;
  EXPECT_EQ(peer.ProcessOutbound({&p, 1}, {&st, 1}), 1u);
  return Buf(pb.data(), pb.data() + pb.length);
}

struct Input {
  Buf bytes;
  sa::Direction dir = sa::Direction::kOutbound;
  SaHandle sa = kNoSa;
};

class RuntimeControlTest : public ::testing::Test {
 protected:
  void Open(const std::string& spec = "soft", uint32_t queues = 1) {
    RuntimeOptions o;
    o.device_spec = spec;
    o.driver.queues = queues;
    o.driver.ring_log2 = 8;
    o.max_sas = 1024;
    auto rt = Runtime::Create(std::move(o));
    ASSERT_TRUE(rt.ok()) << rt.status().message();
    rt_ = std::move(*rt);
    auto pool = rt_->CreatePacketPool(kBufs, 2048);
    ASSERT_TRUE(pool.ok()) << pool.status().message();
    pool_.emplace(std::move(*pool));
  }
  void TearDown() override {
    pool_.reset();
    rt_.reset();
  }

  SaHandle Add(const sa::SaConfig& c, uint32_t key_seed, bool force_software = false) {
    auto h = rt_->AddSa(c, MakeKeys(c.suite, key_seed), {.force_software = force_software});
    EXPECT_TRUE(h.ok()) << h.status().message();
    return h.ok() ? *h : kNoSa;
  }

  // Pushes the packets through queue 0; returns the statuses in order.
  std::vector<RtCompletion> Run(const std::vector<Input>& in) {
    std::vector<RtCompletion> res(in.size());
    EXPECT_LE(in.size(), kBufs);
    std::vector<RtPacket> pkts(in.size());
    for (size_t k = 0; k < in.size(); ++k) {
      driver::Packet p = pool_->Load(static_cast<uint32_t>(k), in[k].bytes, 256);
      pkts[k] = RtPacket{p.buf, p.iova, in[k].dir, in[k].sa, k};
    }
    size_t accepted = 0, completed = 0;
    for (int round = 0; completed < in.size() && round < 100000; ++round) {
      if (accepted < in.size()) accepted += rt_->queue(0).Submit(std::span(pkts).subspan(accepted));
      std::array<RtCompletion, 64> out;
      const size_t m = rt_->queue(0).Poll(out);
      for (size_t k = 0; k < m; ++k) res.at(out[k].user_data) = out[k];
      completed += m;
      if (m == 0) (void)rt_->Service();
    }
    EXPECT_EQ(completed, in.size());
    return res;
  }

  json Command(std::string_view line) {
    const std::string text = HandleControlCommand(*rt_, line);
    json j = json::parse(text, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << text;
    EXPECT_TRUE(j.is_object()) << text;
    for (int i = 0; i < 100 && rt_->pending_retirements() > 0; ++i) (void)rt_->Service();
    return j;
  }

  static json FindSa(const json& report, uint32_t handle) {
    for (const json& s : report["sas"]) {
      if (s["handle"] == handle) return s;
    }
    ADD_FAILURE() << "no SA " << handle << " in " << report.dump();
    return json::object();
  }

  static constexpr uint32_t kBufs = 128;
  std::unique_ptr<Runtime> rt_;
  std::optional<driver::PacketPool> pool_;
};

// ---- Prometheus text format 0.0.4, parsed back ------------------------------------------------

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

bool ValidMetricName(std::string_view n) {
  if (n.empty() || !(std::isalpha(static_cast<unsigned char>(n[0])) || n[0] == '_' || n[0] == ':')) return false;
  for (char c : n) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':')) return false;
  }
  return true;
}

bool ValidLabelName(std::string_view n) {
  if (n.empty() || !(std::isalpha(static_cast<unsigned char>(n[0])) || n[0] == '_') || n.rfind("__", 0) == 0) {
    return false;
  }
  for (char c : n) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

// Checks the exposition line by line (every failure is reported) and collects its samples.
void ParseExpositionInto(const std::string& text, std::vector<Sample>& out) {
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  std::map<std::string, std::string> types;
  std::set<std::string> helped, finished, series;
  std::string family;  // the family whose TYPE came last: its samples must follow, contiguously
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    SCOPED_TRACE("line " + std::to_string(n) + ": " + line);
    ASSERT_FALSE(line.empty());
    if (line.rfind("# HELP ", 0) == 0) {
      const std::string rest = line.substr(7);
      const std::string name = rest.substr(0, rest.find(' '));
      EXPECT_TRUE(ValidMetricName(name));
      EXPECT_TRUE(helped.insert(name).second) << "second HELP";
      EXPECT_NE(rest.find(' '), std::string::npos) << "HELP without text";
      if (!family.empty()) finished.insert(family);
      family.clear();
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream f(line.substr(7));
      std::string name, type, extra;
      f >> name >> type >> extra;
      EXPECT_TRUE(ValidMetricName(name));
      EXPECT_TRUE(type == "counter" || type == "gauge") << type;
      EXPECT_TRUE(extra.empty());
      EXPECT_TRUE(helped.count(name)) << "TYPE before HELP";
      EXPECT_TRUE(types.emplace(name, type).second) << "second TYPE";
      EXPECT_EQ(name.rfind("ipsec_accel_", 0), 0u);
      const bool total = name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0;
      EXPECT_EQ(type == "counter", total) << "counters and only counters end in _total";
      family = name;
      continue;
    }
    ASSERT_NE(line[0], '#') << "unknown comment";
    Sample s;
    size_t p = 0;
    while (p < line.size() && line[p] != '{' && line[p] != ' ') ++p;
    s.name = line.substr(0, p);
    EXPECT_TRUE(ValidMetricName(s.name));
    EXPECT_EQ(s.name, family) << "sample outside its family";
    EXPECT_FALSE(finished.count(s.name)) << "family not contiguous";
    if (p < line.size() && line[p] == '{') {
      ++p;
      while (p < line.size() && line[p] != '}') {
        const size_t eq = line.find('=', p);
        ASSERT_NE(eq, std::string::npos);
        const std::string key = line.substr(p, eq - p);
        EXPECT_TRUE(ValidLabelName(key)) << key;
        ASSERT_LT(eq + 1, line.size());
        ASSERT_EQ(line[eq + 1], '"');
        std::string val;
        size_t q = eq + 2;
        for (; q < line.size() && line[q] != '"'; ++q) {
          if (line[q] == '\\') {
            ASSERT_LT(q + 1, line.size());
            const char e = line[++q];
            ASSERT_TRUE(e == '\\' || e == '"' || e == 'n') << "bad escape";
            val += e == 'n' ? '\n' : e;
          } else {
            val += line[q];
          }
        }
        ASSERT_LT(q, line.size()) << "unterminated label value";
        EXPECT_TRUE(s.labels.emplace(key, val).second) << "label twice: " << key;
        p = q + 1;
        if (p < line.size() && line[p] == ',') ++p;
      }
      ASSERT_LT(p, line.size());
      ++p;  // '}'
    }
    ASSERT_LT(p, line.size());
    ASSERT_EQ(line[p], ' ');
    const std::string value = line.substr(p + 1);
    ASSERT_FALSE(value.empty());
    EXPECT_EQ(value.find(' '), std::string::npos) << "timestamps are not used";
    char* end = nullptr;
    s.value = std::strtod(value.c_str(), &end);
    EXPECT_EQ(*end, '\0') << "value " << value;
    std::string key = s.name;
    for (const auto& [k, v] : s.labels) key += "|" + k + "=" + v;
    EXPECT_TRUE(series.insert(key).second) << "duplicate series";
    out.push_back(std::move(s));
  }
  for (const auto& [name, type] : types) EXPECT_TRUE(helped.count(name));
}

std::vector<Sample> ParseExposition(const std::string& text) {
  std::vector<Sample> out;
  ParseExpositionInto(text, out);
  return out;
}

std::optional<double> Value(const std::vector<Sample>& samples, const std::string& name,
                            const std::map<std::string, std::string>& want) {
  for (const Sample& s : samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : want) {
      auto it = s.labels.find(k);
      match = match && it != s.labels.end() && it->second == v;
    }
    if (match) return s.value;
  }
  return std::nullopt;
}

std::string SpiHex(uint32_t spi) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08x", spi);
  return b;
}

// ---- Tests ---------------------------------------------------------------------------------------

TEST_F(RuntimeControlTest, CardReportShowsTheIdBlockCapabilitiesAndQueues) {
  Open("soft", 2);
  const json r = CardReport(*rt_);
  const json& c = r["card"];
  EXPECT_EQ(c["present"], true);
  EXPECT_EQ(c["backend"], "soft");
  EXPECT_EQ(c["state"], "up");
  EXPECT_EQ(c["id"]["version_major"], rt_->caps().version_major);
  EXPECT_EQ(c["id"]["version"],
            std::to_string(rt_->caps().version_major) + "." + std::to_string(rt_->caps().version_minor));
  EXPECT_EQ(c["id"]["build_id"], "0x00000000");
  EXPECT_EQ(c["capabilities"]["sa_slots"], rt_->caps().sa_count);
  EXPECT_EQ(c["capabilities"]["max_replay_window"], rt_->caps().max_replay_window);
  EXPECT_EQ(c["capabilities"]["suites"], json::array({"aes128gcm16", "aes256gcm16"}));
  EXPECT_EQ(c["capabilities"]["suites_mask"], rt_->caps().suites);
  EXPECT_EQ(c["capabilities"]["features"].size(), 10u);
  EXPECT_EQ(c["sa_slots_used"], 0);
  ASSERT_EQ(r["queues"].size(), 2u);
  EXPECT_EQ(r["queues"][1]["queue"], 1);
  EXPECT_EQ(r["queues"][1]["submitted"], 0);
  EXPECT_EQ(r["runtime"]["card_faults"], 0);
  EXPECT_EQ(r["sas"]["total"], 0);
}

TEST_F(RuntimeControlTest, CardReportWithoutACard) {
  RuntimeOptions o;
  o.use_card = false;
  auto rt = Runtime::Create(std::move(o));
  ASSERT_TRUE(rt.ok());
  rt_ = std::move(*rt);
  const json r = CardReport(*rt_);
  EXPECT_EQ(r["card"]["present"], false);
  EXPECT_EQ(r["card"]["state"], "none");
  EXPECT_FALSE(r["card"].contains("capabilities"));
  const SaHandle h = Add(Config(0x1000, sa::Direction::kOutbound), 1);
  const json s = FindSa(SaReport(*rt_), h);
  EXPECT_EQ(s["placement"], "software");
  EXPECT_EQ(s["refusal"]["reason"], "no-card");
  const std::vector<Sample> m = ParseExposition(RenderPrometheus(*rt_));
  EXPECT_EQ(Value(m, "ipsec_accel_card_up", {}), 0.0);
  EXPECT_EQ(Value(m, "ipsec_accel_card_state", {{"state", "none"}}), 1.0);
}

TEST_F(RuntimeControlTest, SaReportShowsPlacementAndTheCardsRefusal) {
  Open();
  const SaHandle card = Add(Config(0x1000, sa::Direction::kOutbound), 1);
  const SaHandle suite = Add(Config(0x1001, sa::Direction::kInbound, sa::Suite::kChaCha20Poly1305), 2);
  sa::SaConfig small = Config(0x1002, sa::Direction::kInbound);
  small.replay_window = 32;
  const SaHandle window = Add(small, 3);
  sa::SaConfig udp = Config(0x1003, sa::Direction::kOutbound);
  udp.udp_encap = sa::UdpEncap{4501, 4502};
  const SaHandle forced = Add(udp, 4, /*force_software=*/true);

  const json r = SaReport(*rt_);
  ASSERT_EQ(r["sas"].size(), 4u);
  json s = FindSa(r, card);
  EXPECT_EQ(s["spi"], 0x1000);
  EXPECT_EQ(s["spi_hex"], "0x00001000");
  EXPECT_EQ(s["direction"], "out");
  EXPECT_EQ(s["state"], "active");
  EXPECT_EQ(s["placement"], "card");
  EXPECT_EQ(s["card_slot"], rt_->GetSa(card)->card_slot);
  EXPECT_TRUE(s["refusal"].is_null());
  EXPECT_EQ(s["suite"], "aes128gcm16");
  EXPECT_EQ(s["mode"], "tunnel");
  EXPECT_EQ(s["src"], "198.18.0.1");
  EXPECT_EQ(s["dst"], "198.18.0.2");
  EXPECT_EQ(s["seq"], 1);
  EXPECT_FALSE(s.contains("replay_window"));  // outbound

  s = FindSa(r, suite);
  EXPECT_EQ(s["placement"], "software");
  EXPECT_TRUE(s["card_slot"].is_null());
  EXPECT_EQ(s["refusal"]["reason"], "suite");
  EXPECT_NE(s["refusal"]["detail"].get<std::string>().find("chacha20"), std::string::npos);
  EXPECT_EQ(s["replay_window"], 128);

  s = FindSa(r, window);
  EXPECT_EQ(s["refusal"]["reason"], "replay-window");
  EXPECT_NE(s["refusal"]["detail"].get<std::string>().find("32"), std::string::npos);

  s = FindSa(r, forced);
  EXPECT_EQ(s["refusal"]["reason"], "forced-software");
  EXPECT_EQ(s["encap"]["src_port"], 4501);
  EXPECT_EQ(s["encap"]["dst_port"], 4502);

  const json card_report = CardReport(*rt_);
  EXPECT_EQ(card_report["card"]["sa_slots_used"], 1);
  EXPECT_EQ(card_report["sas"]["software"], 3);
  EXPECT_EQ(card_report["sas"]["inbound"], 2);
}

TEST_F(RuntimeControlTest, CountersMoveAfterTrafficThroughTheQueue) {
  Open();
  const sa::SaConfig out_card_cfg = Config(0x2000, sa::Direction::kOutbound);
  const sa::SaConfig out_sw_cfg = Config(0x2001, sa::Direction::kOutbound, sa::Suite::kChaCha20Poly1305);
  const sa::SaConfig in_card_cfg = Config(0x2002, sa::Direction::kInbound);
  sa::SaConfig in_sw_cfg = Config(0x2003, sa::Direction::kInbound);
  in_sw_cfg.replay_window = 32;  // the card refuses it: software
  const SaHandle out_card = Add(out_card_cfg, 1);
  const SaHandle out_sw = Add(out_sw_cfg, 2);
  const SaHandle in_card = Add(in_card_cfg, 3);
  const SaHandle in_sw = Add(in_sw_cfg, 4);
  ASSERT_EQ(rt_->GetSa(out_card)->placement, Placement::kCard);
  ASSERT_EQ(rt_->GetSa(out_sw)->placement, Placement::kSoftware);
  ASSERT_EQ(rt_->GetSa(in_card)->placement, Placement::kCard);
  ASSERT_EQ(rt_->GetSa(in_sw)->placement, Placement::kSoftware);

  // Outbound: 10 on the card SA, 7 on the software SA, 1 with no SA and no SPD rule (discard).
  std::vector<Input> in;
  uint64_t card_bytes = 0, sw_bytes = 0;
  for (uint32_t i = 0; i < 10; ++i) {
    in.push_back({MakePacket({.payload_len = 50 + i, .seed = i}), sa::Direction::kOutbound, out_card});
    card_bytes += in.back().bytes.size();
  }
  for (uint32_t i = 0; i < 7; ++i) {
    in.push_back({MakePacket({.payload_len = 80 + i, .seed = 100 + i}), sa::Direction::kOutbound, out_sw});
    sw_bytes += in.back().bytes.size();
  }
  in.push_back({MakePacket({.seed = 999}), sa::Direction::kOutbound, kNoSa});
  // Inbound, per SA: 5 good, 2 with a broken ICV, 1 replay; and one unknown SPI.
  auto peer_card = Peer(in_card_cfg, 3);
  auto peer_sw = Peer(in_sw_cfg, 4);
  for (esp::EspSa* peer : {peer_card.get(), peer_sw.get()}) {
    std::vector<Buf> good;
    for (uint32_t i = 0; i < 5; ++i) good.push_back(Seal(*peer, MakePacket({.payload_len = 60, .seed = 200 + i})));
    for (const Buf& b : good) in.push_back({b, sa::Direction::kInbound});
    for (uint32_t i = 0; i < 2; ++i) {
      Buf bad = Seal(*peer, MakePacket({.payload_len = 60, .seed = 300 + i}));
      bad.back() ^= std::byte{1};
      in.push_back({bad, sa::Direction::kInbound});
    }
    in.push_back({good[1], sa::Direction::kInbound});
  }
  auto stranger = Peer(Config(0x7777, sa::Direction::kInbound), 9);
  in.push_back({Seal(*stranger, MakePacket({})), sa::Direction::kInbound});

  const std::vector<RtCompletion> res = Run(in);
  size_t ok = 0;
  for (const RtCompletion& c : res) ok += c.status == RtStatus::kOk ? 1 : 0;
  EXPECT_EQ(ok, 10u + 7u + 5u + 5u);

  const json sas = SaReport(*rt_);
  json s = FindSa(sas, out_card);
  EXPECT_EQ(s["packets"], 10);
  EXPECT_EQ(s["bytes"], card_bytes);
  EXPECT_EQ(s["seq"], 11);
  EXPECT_EQ(s["drops_total"], 0);
  s = FindSa(sas, out_sw);
  EXPECT_EQ(s["packets"], 7);
  EXPECT_EQ(s["bytes"], sw_bytes);
  EXPECT_EQ(s["seq"], 8);
  for (SaHandle h : {in_card, in_sw}) {
    s = FindSa(sas, h);
    SCOPED_TRACE(s.dump());
    EXPECT_EQ(s["packets"], 5);
    EXPECT_EQ(s["drops"]["auth-failed"], 2);
    EXPECT_EQ(s["drops"]["replay"], 1);
    EXPECT_EQ(s["drops_total"], 3);
    EXPECT_EQ(s["seq"], 5);
  }

  const json st = StatsReport(*rt_);
  EXPECT_EQ(st["totals"]["submitted"], in.size());
  EXPECT_EQ(st["totals"]["completed"], in.size());
  EXPECT_EQ(st["totals"]["to_card"], 10 + 8);
  EXPECT_EQ(st["totals"]["to_software"], 7 + 8);
  EXPECT_EQ(st["totals"]["discard"], 1);
  EXPECT_EQ(st["totals"]["no_sa"], 1);
  EXPECT_EQ(st["totals"]["dropped"], 6);
  EXPECT_EQ(st["drops"]["auth-failed"], 4);
  EXPECT_EQ(st["drops"]["replay"], 2);
  EXPECT_EQ(st["drops"]["malformed"], 0);
  EXPECT_EQ(st["sas"]["packets"], 10 + 7 + 5 + 5);
  EXPECT_EQ(st["queues"][0]["drops"]["auth-failed"], 4);
  EXPECT_EQ(CardReport(*rt_)["queues"][0]["to_card"], 18);

  // The same figures in the Prometheus text.
  const std::vector<Sample> m = ParseExposition(RenderPrometheus(*rt_));
  const auto sa_labels = [&](SaHandle h, const char* dir, const char* placement) {
    return std::map<std::string, std::string>{{"handle", std::to_string(h)},
                                              {"spi", SpiHex(rt_->GetSa(h)->spi)},
                                              {"direction", dir},
                                              {"placement", placement}};
  };
  EXPECT_EQ(Value(m, "ipsec_accel_sa_packets_total", sa_labels(out_card, "out", "card")), 10.0);
  EXPECT_EQ(Value(m, "ipsec_accel_sa_bytes_total", sa_labels(out_card, "out", "card")), double(card_bytes));
  EXPECT_EQ(Value(m, "ipsec_accel_sa_packets_total", sa_labels(out_sw, "out", "software")), 7.0);
  EXPECT_EQ(Value(m, "ipsec_accel_sa_sequence_number", sa_labels(out_card, "out", "card")), 11.0);
  auto l = sa_labels(in_card, "in", "card");
  l["reason"] = "auth-failed";
  EXPECT_EQ(Value(m, "ipsec_accel_sa_dropped_packets_total", l), 2.0);
  l = sa_labels(in_sw, "in", "software");
  l["reason"] = "replay";
  EXPECT_EQ(Value(m, "ipsec_accel_sa_dropped_packets_total", l), 1.0);
  EXPECT_EQ(Value(m, "ipsec_accel_queue_dropped_packets_total", {{"queue", "0"}, {"reason", "auth-failed"}}), 4.0);
  EXPECT_EQ(Value(m, "ipsec_accel_queue_dropped_packets_total", {{"queue", "0"}, {"reason", "bad-inner"}}), 0.0);
  EXPECT_EQ(Value(m, "ipsec_accel_queue_path_packets_total", {{"queue", "0"}, {"path", "card"}}), 18.0);
  EXPECT_EQ(Value(m, "ipsec_accel_queue_path_packets_total", {{"queue", "0"}, {"path", "software"}}), 15.0);
  EXPECT_EQ(Value(m, "ipsec_accel_queue_policy_packets_total", {{"queue", "0"}, {"action", "discard"}}), 1.0);
  EXPECT_EQ(Value(m, "ipsec_accel_queue_missing_sa_packets_total", {{"queue", "0"}}), 1.0);
  EXPECT_EQ(Value(m, "ipsec_accel_queue_submitted_packets_total", {{"queue", "0"}}), double(in.size()));
  EXPECT_EQ(Value(m, "ipsec_accel_card_up", {}), 1.0);
  EXPECT_EQ(Value(m, "ipsec_accel_card_sa_slots_used", {}), 2.0);
  EXPECT_EQ(Value(m, "ipsec_accel_sas", {{"direction", "in"}, {"placement", "software"}}), 1.0);
  EXPECT_EQ(Value(m, "ipsec_accel_card_info", {{"backend", "soft"}}), 1.0);
  auto info = sa_labels(out_sw, "out", "software");
  info["refusal"] = "suite";
  info["suite"] = "chacha20poly1305";
  EXPECT_EQ(Value(m, "ipsec_accel_sa_info", info), 1.0);
}

TEST_F(RuntimeControlTest, PrometheusOutputIsWellFormedWithManySas) {
  Open("soft", 3);
  for (uint32_t i = 0; i < 20; ++i) {
    sa::SaConfig c = Config(0x3000 + i, i % 2 ? sa::Direction::kInbound : sa::Direction::kOutbound,
                            i % 3 == 0 ? sa::Suite::kChaCha20Poly1305 : sa::Suite::kAesGcm256);
    Add(c, i);
  }
  const std::string text = RenderPrometheus(*rt_);
  const std::vector<Sample> m = ParseExposition(text);
  size_t per_sa = 0;
  for (const Sample& s : m) per_sa += s.name == "ipsec_accel_sa_packets_total" ? 1 : 0;
  EXPECT_EQ(per_sa, 20u);
  EXPECT_EQ(Value(m, "ipsec_accel_queue_retries_total", {{"queue", "2"}}), 0.0);
  // The text reply of `card metrics` is the same exposition.
  const json j = Command("card metrics");
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["format"], "prometheus-text-0.0.4");
  ParseExposition(j["metrics"].get<std::string>());
}

TEST_F(RuntimeControlTest, WriteFileAtomicallyReplacesTheFileWholly) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("ipsec_control_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "ipsec.prom").string();
  ASSERT_TRUE(WriteFileAtomically(path, "first\n").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "second version\n").ok());
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_EQ(ss.str(), "second version\n");
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    ++files;
    EXPECT_EQ(e.path().filename(), "ipsec.prom");  // no temporary left behind
  }
  EXPECT_EQ(files, 1u);
  const Status bad = WriteFileAtomically((dir / "missing" / "x.prom").string(), "x");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("missing"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_F(RuntimeControlTest, ControlCommandsAnswerGoodLines) {
  Open();
  for (const char* line : {"help", "card show", "card sas", "card sa list", "card stats", "card metrics",
                           "  card   show  ", "card show\r", "\tcard\tsas"}) {
    const json j = Command(line);
    EXPECT_EQ(j["ok"], true) << line << ": " << j.dump();
  }
  json j = Command(
      "card sa add spi=0x4000 direction=out mode=tunnel suite=aes128gcm16 "
      "key=0f0e0d0c0b0a09080706050403020100a1a2a3a4 src=192.0.2.1 dst=192.0.2.2 encap=\"udp 4500 4500\"");
  ASSERT_EQ(j["ok"], true) << j.dump();
  EXPECT_EQ(j["sa"]["placement"], "card");
  EXPECT_EQ(j["sa"]["encap"]["dst_port"], 4500);
  const uint32_t h1 = j["sa"]["handle"];
  // The SA file form, `;` between lines, comments allowed.
  j = Command(
      "card sa add spi = 0x4000; direction = in; mode = transport; suite = aes256gcm16 # the card has it; "
      "key = 0f0e0d0c0b0a09080706050403020100a1a2a3a40f0e0d0c0b0a09080706050403020100; "
      "replay_window = 1024; placement = software");
  ASSERT_EQ(j["ok"], true) << j.dump();
  EXPECT_EQ(j["sa"]["placement"], "software");
  EXPECT_EQ(j["sa"]["refusal"]["reason"], "forced-software");
  EXPECT_EQ(j["sa"]["replay_window"], 1024);
  const uint32_t h2 = j["sa"]["handle"];

  j = Command("card sa show " + std::to_string(h1));
  EXPECT_EQ(j["sa"]["spi_hex"], "0x00004000");
  j = Command("card sa show spi=16384 direction=in");
  EXPECT_EQ(j["sa"]["handle"], h2);
  // Two SAs share the SPI: a delete by SPI alone is refused, with the handles.
  j = Command("card sa del spi=0x4000");
  EXPECT_EQ(j["ok"], false);
  EXPECT_NE(j["error"].get<std::string>().find("several SAs"), std::string::npos) << j.dump();
  j = Command("card sa del spi=0x4000 direction=in");
  EXPECT_EQ(j["ok"], true) << j.dump();
  EXPECT_EQ(j["deleted"]["handle"], h2);
  j = Command("card sas");
  ASSERT_EQ(j["sas"].size(), 1u);
  EXPECT_EQ(j["sas"][0]["handle"], h1);
  j = Command("card sa del handle=" + std::to_string(h1));
  EXPECT_EQ(j["ok"], true);
  EXPECT_TRUE(rt_->ListSas().empty());
}

TEST_F(RuntimeControlTest, ControlCommandsRefuseBadLinesWithAnErrorObject) {
  Open();
  const std::string valid_tail =
      " direction=out mode=tunnel suite=aes128gcm16 key=000102030405060708090a0b0c0d0e0f10111213 src=192.0.2.1 "
      "dst=192.0.2.2";
  std::vector<std::string> bad = {
      "",
      "   ",
      "card",
      "cards show",
      "card show extra",
      "card sas please",
      "card sa",
      "card sa frobnicate",
      "card sa del",
      "card sa del x",
      "card sa del 99",
      "card sa del -1",
      "card sa del 0x",
      "card sa del spi=",
      "card sa del spi=0x100000000",
      "card sa del spi=0x1234",
      "card sa del spi=5 direction=up",
      "card sa del 1 direction=in",
      "card sa del 1 2",
      "card sa del what=1",
      "card sa show 18446744073709551616",
      "card sa add",
      "card sa add ;",
      "card sa add spi",
      "card sa add =1",
      "card sa add spi=0x1000" + valid_tail + " colour=blue",
      "card sa add spi=1" + valid_tail,
      "card sa add spi=0x1000 spi=0x1001" + valid_tail,
      "card sa add spi=0x1000" + valid_tail + " placement=somewhere",
      "card sa add spi=0x1000 direction=out mode=tunnel suite=aes128gcm16 key=0001 src=192.0.2.1 dst=192.0.2.2",
      "card sa add spi=0x1000 direction=out mode=tunnel suite=aes128gcm16 protocol=ah key=00 src=1.2.3.4",
      "card sa add spi=0x1000 direction=out mode=transport suite=null-sha256 protocol=ah "
      "auth_key=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
      "card sa add \"unterminated",
      std::string("card \xff\xfe show"),
      std::string("card sa del \xc3\x28"),
      std::string("card\0show", 9),
      "card " + std::string(20000, 'x'),
      [] {
        std::string many = "card sa add";
        for (int i = 0; i < 300; ++i) many += " a=b";
        return many;
      }(),
  };
  for (const std::string& line : bad) {
    const std::string text = HandleControlCommand(*rt_, line);
    const json j = json::parse(text, nullptr, false);
    ASSERT_TRUE(j.is_object()) << text;
    EXPECT_EQ(j["ok"], false) << "line: " << line.substr(0, 200) << " -> " << text;
    ASSERT_TRUE(j.contains("error") && j["error"].is_string()) << text;
    EXPECT_FALSE(j["error"].get<std::string>().empty());
  }
  // An inbound SPI can be installed once.
  std::string in =
      "card sa add spi=0x1000 direction=in mode=tunnel suite=aes128gcm16 "
      "key=000102030405060708090a0b0c0d0e0f10111213 src=192.0.2.1 dst=192.0.2.2";
  EXPECT_EQ(Command(in)["ok"], true);
  const json again = Command(in);
  EXPECT_EQ(again["ok"], false);
  EXPECT_NE(again["error"].get<std::string>().find("already installed"), std::string::npos);
  // Errors point at the argument.
  const json unknown = Command("card sa add spi=0x1000 colour=blue");
  EXPECT_EQ(unknown["error"], "argument 2: unknown key 'colour'");
}

// Key bytes given to the runtime (through AddSa and through the command language, accepted and
// refused) appear in no report, no metrics and no reply, neither as hex nor as raw bytes.
TEST_F(RuntimeControlTest, NoKeyByteAppearsInAnyOutput) {
  Open();
  const std::string gcm_key = "8f3a9c11d2e47b6055aa19c3e7f20d4b9e6c1a73";  // 16 + 4 bytes
  const std::string gcm256_key = "c4e19b7d2a38f05e6b91d7c2a04f83e5d17b29c6e0a4f81b3d5c79e2a16f08d4b2e9c7a1";
  const std::string cbc_key = "5d8e1f3a7c2b9e04d6a1f8c35b7e20a9";
  const std::string hmac_key = "e2b7c14f9a3d6e08b5c27f1a94d3e6b0c8a15f2e7d49b3c06a1e8f5d27b4c9e3";
  std::vector<std::string> outputs;
  const auto run = [&](const std::string& line) { outputs.push_back(HandleControlCommand(*rt_, line)); };
  run("card sa add spi=0x5000 direction=out mode=tunnel suite=aes128gcm16 key=" + gcm_key +
      " src=192.0.2.1 dst=192.0.2.2");
  run("card sa add spi=0x5001 direction=in mode=tunnel suite=aes256gcm16 key=" + gcm256_key +
      " src=192.0.2.2 dst=192.0.2.1 replay_window=16");
  run("card sa add spi = 0x5002; direction = in; mode = transport; suite = aes128cbc-sha256; key = " + cbc_key +
      "; auth_key = " + hmac_key);
  // Refused ones, with the keys before and after the fault.
  run("card sa add spi=0x5003 direction=out mode=tunnel suite=aes128gcm16 key=" + gcm_key + " colour=" + gcm_key);
  run("card sa add key=" + gcm_key + " spi=0x5004 direction=out mode=tunnel suite=aes256gcm16 src=1.2.3.4 dst=5.6.7.8");
  run("card sa add spi=0x5005 direction=out mode=tunnel suite=aes128gcm16 key=" + gcm_key.substr(0, 38) + "zz");
  run("card sa add spi=0x5005 direction=out mode=tunnel suite=aes128gcm16 key=" + gcm_key + gcm_key);
  run("card sa add spi=0x5006 direction=in mode=transport suite=aes128cbc-sha256 key=" + cbc_key +
      " auth_key=" + cbc_key);
  run("card sa add " + gcm_key);
  // A missing blank merges a key into a value the SA file parser quotes whole (suite, address).
  run("card sa add spi=0x5007 direction=out mode=tunnel src=192.0.2.1 dst=192.0.2.2 suite=aes128gcm16key=" + gcm_key);
  run("card sa add spi=0x5008 direction=out mode=tunnel suite=aes128gcm16 dst=192.0.2.2 src=192.0.2.1key=" + gcm_key);
  run("card sa add spi=0x5009 direction=out mode=tunnel suite=\"aes128gcm16 key=" + gcm_key.substr(0, 8) + " " +
      gcm_key.substr(8, 8) + ":" + gcm_key.substr(16) + "\"");
  run("card sa add spi=0x5001 direction=in mode=tunnel suite=aes256gcm16 key=" + gcm256_key +
      " src=192.0.2.2 dst=192.0.2.1");  // already installed
  run("card " + gcm_key);
  run("card sa " + gcm_key);
  run("card sa del " + gcm_key);
  run("card sa show spi=" + gcm_key);
  run("card sa del spi=0x" + gcm_key);
  // And one added through the API with known key bytes.
  const SaHandle api = Add(Config(0x5100, sa::Direction::kOutbound), 77);
  ASSERT_NE(api, kNoSa);
  for (const char* c : {"card show", "card sas", "card stats", "card metrics", "card sa show 0", "card sa show 1",
                        "card sa show 2", "help"}) {
    run(c);
  }
  outputs.push_back(CardReport(*rt_).dump());
  outputs.push_back(SaReport(*rt_).dump());
  outputs.push_back(StatsReport(*rt_).dump());
  outputs.push_back(RenderPrometheus(*rt_));
  EXPECT_EQ(rt_->ListSas().size(), 4u);

  std::vector<std::string> secrets = {gcm_key, gcm256_key, cbc_key, hmac_key};
  std::vector<std::vector<std::byte>> raw;
  for (const std::string& hex : secrets) {
    std::vector<std::byte> b;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) b.push_back(std::byte(std::stoi(hex.substr(i, 2), nullptr, 16)));
    raw.push_back(std::move(b));
  }
  const sa::KeyMaterial api_keys = MakeKeys(sa::Suite::kAesGcm128, 77);
  raw.emplace_back(api_keys.enc_key.span().begin(), api_keys.enc_key.span().end());
  for (const std::vector<std::byte>& b : raw) {
    static const char* kHex = "0123456789abcdef";
    std::string hex;
    for (std::byte x : b) {
      hex += kHex[std::to_integer<int>(x) >> 4];
      hex += kHex[std::to_integer<int>(x) & 15];
    }
    secrets.push_back(hex);
  }
  for (const std::string& out : outputs) {
    std::string lower = out;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const std::string& s : secrets) {
      // Any 12 consecutive hex digits (6 key bytes) of a key.
      for (size_t i = 0; i + 12 <= s.size(); i += 2) {
        EXPECT_EQ(lower.find(s.substr(i, 12)), std::string::npos) << "key text in: " << out.substr(0, 300);
      }
    }
    for (const std::vector<std::byte>& b : raw) {
      for (size_t i = 0; i + 6 <= b.size(); ++i) {
        const std::string_view needle(reinterpret_cast<const char*>(b.data() + i), 6);
        EXPECT_EQ(out.find(needle), std::string::npos) << "raw key bytes in output";
      }
    }
  }
}

TEST_F(RuntimeControlTest, QueueCountersCanBeReadWhileTheOwnerRuns) {
  Open();
  const SaHandle h = Add(Config(0x6000, sa::Direction::kOutbound), 1);
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    uint64_t last = 0;
    while (!stop.load()) {
      const uint64_t completed = StatsReport(*rt_)["totals"]["completed"].get<uint64_t>();
      EXPECT_GE(completed, last);  // counters only grow
      last = completed;
      (void)RenderPrometheus(*rt_);
    }
  });
  std::vector<Input> in;
  for (uint32_t i = 0; i < 64; ++i) in.push_back({MakePacket({.seed = i}), sa::Direction::kOutbound, h});
  for (int round = 0; round < 20; ++round) Run(in);
  stop = true;
  reader.join();
  EXPECT_EQ(StatsReport(*rt_)["totals"]["completed"], 64 * 20);
}

}  // namespace
}  // namespace ipsec::runtime
