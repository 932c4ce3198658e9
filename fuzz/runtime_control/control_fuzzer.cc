// libFuzzer target: the control command language (HandleControlCommand), which a daemon runs on
// every line its control socket receives. The input is split into lines (at most 64); each runs
// against one Runtime on a small soft card, created once. After each input every SA is deleted
// and drained, so inputs do not depend on each other.
//
// Oracles: every reply is one JSON object with a boolean "ok", and a string "error" when not ok;
// `card metrics` replies hold Prometheus text (comment or ipsec_accel_ lines); a hex key value of
// 34 digits or more given after `key`/`auth_key` on a line appears in no reply (the SA file parser
// echoes unknown key names up to 32 characters, so shorter runs could legitimately come back).
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "host/runtime/runtime.h"
#include "host/runtime/runtime_control.h"

namespace {

using namespace ipsec;           // NOLINT: harness-local brevity
using namespace ipsec::runtime;  // NOLINT

Runtime& TheRuntime() {
  static std::unique_ptr<Runtime> rt = [] {
    RuntimeOptions o;
    o.device_spec = "soft:sa=64,rings=1,ring_log2=4";
    o.driver.queues = 1;
    o.driver.ring_log2 = 4;
    o.max_sas = 256;
    o.max_tunnels = 4;
    auto r = Runtime::Create(std::move(o));
    FUZZ_CHECK(r.ok());
    return std::move(*r);
  }();
  return *rt;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Hex runs of 34+ digits that follow `key` and `=` (spaces and quotes allowed around the `=`).
std::vector<std::string> KeyValues(std::string_view line) {
  std::vector<std::string> out;
  const std::string l = Lower(line);
  for (size_t at = l.find("key"); at != std::string::npos; at = l.find("key", at + 1)) {
    size_t p = at + 3;
    while (p < l.size() && (l[p] == ' ' || l[p] == '\t' || l[p] == '"')) ++p;
    if (p >= l.size() || l[p] != '=') continue;
    ++p;
    while (p < l.size() && (l[p] == ' ' || l[p] == '\t' || l[p] == '"')) ++p;
    if (l.compare(p, 2, "0x") == 0) p += 2;
    size_t e = p;
    while (e < l.size() && std::isxdigit(static_cast<unsigned char>(l[e]))) ++e;
    if (e - p >= 34) out.push_back(l.substr(p, e - p));
  }
  return out;
}

void CheckReply(std::string_view line, const std::string& reply) {
  const nlohmann::json j = nlohmann::json::parse(reply, nullptr, false);
  FUZZ_CHECK(!j.is_discarded());
  FUZZ_CHECK(j.is_object());
  FUZZ_CHECK(j.contains("ok") && j["ok"].is_boolean());
  if (!j["ok"].get<bool>()) FUZZ_CHECK(j.contains("error") && j["error"].is_string());
  if (j.contains("metrics")) {
    FUZZ_CHECK(j["metrics"].is_string());
    const std::string m = j["metrics"].get<std::string>();
    size_t pos = 0;
    while (pos < m.size()) {
      const size_t nl = m.find('\n', pos);
      FUZZ_CHECK(nl != std::string::npos);  // every line ends in a newline
      const std::string_view l(m.data() + pos, nl - pos);
      FUZZ_CHECK(l.rfind("# HELP ipsec_accel_", 0) == 0 || l.rfind("# TYPE ipsec_accel_", 0) == 0 ||
                 l.rfind("ipsec_accel_", 0) == 0);
      pos = nl + 1;
    }
  }
  const std::string lower = Lower(reply);
  for (const std::string& k : KeyValues(line)) {
    if (lower.find(k) != std::string::npos) {
      std::fprintf(stderr, "key value in the reply to '%.*s':\n%s\n", static_cast<int>(line.size()), line.data(),
                   reply.c_str());
    }
    FUZZ_CHECK(lower.find(k) == std::string::npos);
  }
}

void Reset(Runtime& rt) {
  for (const SaInfo& i : rt.ListSas()) (void)rt.DeleteSa(i.handle);
  for (int n = 0; n < 100 && rt.pending_retirements() > 0; ++n) (void)rt.Service();
  (void)rt.Service();
  FUZZ_CHECK(rt.ListSas().empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Runtime& rt = TheRuntime();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t pos = 0;
  for (int n = 0; n < 64 && pos <= text.size(); ++n) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = text.substr(pos, nl - pos);
    CheckReply(line, HandleControlCommand(rt, line));
    pos = nl + 1;
  }
  Reset(rt);
  return 0;
}

std::vector<std::vector<uint8_t>> FuzzSeeds() {
  const char* texts[] = {
      "card show\ncard sas\ncard stats\ncard metrics\nhelp\n",
      "card sa add spi=0x1000 direction=out mode=tunnel suite=aes128gcm16 "
      "key=000102030405060708090a0b0c0d0e0f10111213 src=192.0.2.1 dst=192.0.2.2\n"
      "card sas\ncard sa show spi=0x1000\ncard sa del spi=0x1000 direction=out\ncard sas\n",
      "card sa add spi=4097 direction=in mode=tunnel suite=chacha20poly1305 "
      "key=202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40414243 "
      "src=2001:db8::2 dst=2001:db8::1 replay_window=1024 esn=yes\n"
      "card sa add spi=4097 direction=out mode=transport suite=aes256gcm16 "
      "key=505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f70717273 "
      "encap=\"udp 4500 4500\" placement=software\n"
      "card sa del spi=4097\ncard sa del spi=4097 direction=in\ncard sa del 1\ncard metrics\n",
      "card sa add spi = 0x2000; direction = in; mode = transport; suite = aes128cbc-sha256; "
      "key = 00112233445566778899aabbccddeeff; "
      "auth_key = 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f; replay_window = 32\n"
      "card stats\ncard sa show 0\n",
      "card sa add spi=0x3000 direction=out mode=tunnel suite=aes128gcm16 "
      "key=000102030405060708090a0b0c0d0e0f10111213 src=192.0.2.1 dst=198.51.100.1 "
      "lifetime_packets_soft=10 lifetime_packets_hard=20 dscp=46 ecn=compat df=set ttl=32\n",
      "card sa add spi=1 key=000102030405060708090a0b0c0d0e0f101112131415161718\n"
      "card sa add spy=1\ncard sa add\ncard sa add placement=maybe\ncard sa add 0011223344\n",
      "card\ncard sa\ncard sa del\ncard sa del x\ncard sa del spi=zz\ncard sa show handle=99999999999999999999\n"
      "card show extra\ncard sa add \"unterminated\nbogus\n\n   \n",
      "card sa del spi=0x1000 direction=sideways\ncard sa show 1 direction=in\ncard sa del handle=1 spi=2\n",
  };
  std::vector<std::vector<uint8_t>> seeds;
  for (const char* t : texts) {
    const std::string_view s(t);
    seeds.emplace_back(s.begin(), s.end());
  }
  return seeds;
}
