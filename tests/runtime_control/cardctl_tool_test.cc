// accel-cardctl end to end: the built binary (IPSEC_CARDCTL_BINARY) in process on the soft card,
// a by-hand script session, error exits, the metrics file, and the --control path against a
// control socket served by this test with HandleControlCommand (what a daemon does).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "host/runtime/runtime.h"
#include "host/runtime/runtime_control.h"

namespace ipsec::runtime {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr char kOutKey[] = "3b7f0c9e12a45d86e0f1c2b3a4958677d8e9fa0b";
constexpr char kInKey[] = "9a8b7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d5e4f30211203f4e5d6c7b8a9d1e2f3a4";

struct Result {
  int rc = -1;
  std::string out, err;
};

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class CardctlToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cardctl_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs the tool with `args` (shell words, already quoted as needed).
  Result Tool(const std::string& args, const std::string& stdin_text = "") {
    const fs::path in = dir_ / "stdin", out = dir_ / "stdout", err = dir_ / "stderr";
    std::ofstream(in) << stdin_text;
    const std::string cmd = std::string(IPSEC_CARDCTL_BINARY) + " " + args + " <" + in.string() + " >" + out.string() +
                            " 2>" + err.string();
    const int status = std::system(cmd.c_str());
    Result r;
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = ReadFile(out);
    r.err = ReadFile(err);
    return r;
  }

  fs::path Script(const std::string& text) {
    const fs::path p = dir_ / "session.script";
    std::ofstream(p) << text;
    return p;
  }

  static std::string Session() {
    return std::string("# a by-hand session\n") +
           "card sa add spi=0x1000 direction=out mode=tunnel suite=aes128gcm16 key=" + kOutKey +
           " src=192.0.2.1 dst=192.0.2.2\n" +
           "\n"
           "card sa add spi = 0x1001; direction = in; mode = tunnel; suite = chacha20poly1305; key = " +
           kInKey + "; src = 192.0.2.2; dst = 192.0.2.1\n" + "card sas\n";
  }

  static void ExpectNoKeys(const std::string& text) {
    EXPECT_EQ(text.find(std::string(kOutKey).substr(0, 16)), std::string::npos) << text;
    EXPECT_EQ(text.find(std::string(kInKey).substr(20, 16)), std::string::npos) << text;
  }

  fs::path dir_;
};

TEST_F(CardctlToolTest, ShowsTheSoftCardAsJson) {
  const Result r = Tool("--device soft --json card show");
  ASSERT_EQ(r.rc, 0) << r.err;
  const json j = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["card"]["backend"], "soft");
  EXPECT_EQ(j["card"]["state"], "up");
  EXPECT_EQ(j["card"]["capabilities"]["sa_slots"], 4096);
  EXPECT_EQ(j["queues"].size(), 1u);
  // Options after the command words, and more queues.
  const Result two = Tool("card show --device soft --queues 2 --json");
  ASSERT_EQ(two.rc, 0) << two.err;
  EXPECT_EQ(json::parse(two.out)["queues"].size(), 2u);
}

TEST_F(CardctlToolTest, ShowsTheCardAsATable) {
  const Result r = Tool("--device soft card show");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("card: soft, up"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("suites:        aes128gcm16 aes256gcm16"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SA slots:      4096 (0 used)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("queue  submitted  completed"), std::string::npos) << r.out;
}

TEST_F(CardctlToolTest, RunsAByHandScriptSession) {
  const fs::path script = Script(Session());
  Result r = Tool("--device soft --json --script " + script.string());
  ASSERT_EQ(r.rc, 0) << r.err;
  std::vector<json> replies;
  std::istringstream lines(r.out);
  for (std::string l; std::getline(lines, l);) replies.push_back(json::parse(l, nullptr, false));
  ASSERT_EQ(replies.size(), 3u) << r.out;
  EXPECT_EQ(replies[0]["sa"]["placement"], "card");
  EXPECT_EQ(replies[1]["sa"]["placement"], "software");
  EXPECT_EQ(replies[1]["sa"]["refusal"]["reason"], "suite");
  ASSERT_EQ(replies[2]["sas"].size(), 2u);
  EXPECT_EQ(replies[2]["sas"][0]["spi_hex"], "0x00001000");
  ExpectNoKeys(r.out + r.err);

  // The same from stdin, as tables.
  r = Tool("--device soft --script -", Session());
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("handle  spi         dir  state   placement"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("software because suite: suite chacha20poly1305"), std::string::npos) << r.out;
  ExpectNoKeys(r.out + r.err);
}

TEST_F(CardctlToolTest, FailsWithAClearMessageAndExitStatus) {
  Result r = Tool("--device soft card sa del 42");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("accel-cardctl: no SA 42"), std::string::npos) << r.err;
  r = Tool("--device soft --json card sa del 42");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(json::parse(r.out, nullptr, false)["ok"], false) << r.out;
  r = Tool("--device nosuch card show");
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("cannot open device nosuch"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("soft"), std::string::npos) << "the known backends are listed: " << r.err;
  r = Tool("--device soft");
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("no command"), std::string::npos) << r.err;
  r = Tool("--device soft --control /nowhere card show");
  EXPECT_EQ(r.rc, 2);
  r = Tool("--frobnicate");
  EXPECT_EQ(r.rc, 2);
  r = Tool("--control " + (dir_ / "absent.ctl").string() + " card show");
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("cannot reach the daemon"), std::string::npos) << r.err;
  // A script stops at its first failing command and names the line.
  const fs::path script = Script("card show\ncard sa del 7\ncard sas\n");
  r = Tool("--device soft --json --script " + script.string());
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("session.script:2: no SA 7"), std::string::npos) << r.err;
  // An SA refused by the parser: the error names the argument, never the key.
  r = Tool(std::string("--device soft card sa add spi=0x1000 direction=out mode=tunnel suite=aes128gcm16 key=") +
           kOutKey + "ff");
  EXPECT_EQ(r.rc, 1);
  ExpectNoKeys(r.out + r.err);
  EXPECT_TRUE(Tool("--help").out.find("usage:") != std::string::npos);
}

TEST_F(CardctlToolTest, WritesTheMetricsFileAtomically) {
  const fs::path prom = dir_ / "ipsec.prom";
  const Result r = Tool("--device soft --metrics-file " + prom.string());
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  const std::string text = ReadFile(prom);
  EXPECT_NE(text.find("\nipsec_accel_card_up 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE ipsec_accel_sa_packets_total counter"), std::string::npos);
}

// A stand-in daemon: serves `count` connections on a Unix socket, one command line in, one JSON
// document out, like accel-iked's control socket.
class FakeDaemon {
 public:
  FakeDaemon(Runtime& rt, const std::string& path, int count) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path.c_str());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&sun), sizeof sun), 0) << std::strerror(errno);
    EXPECT_EQ(::listen(fd_, 4), 0);
    thread_ = std::thread([this, &rt, count] {
      for (int i = 0; i < count; ++i) {
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        std::string line;
        char ch;
        while (::read(c, &ch, 1) == 1 && ch != '\n') line += ch;
        lines_.push_back(line);
        const std::string reply = HandleControlCommand(rt, line) + "\n";
        (void)!::write(c, reply.data(), reply.size());
        ::close(c);
        for (int k = 0; k < 10 && rt.pending_retirements() > 0; ++k) (void)rt.Service();
      }
    });
  }
  ~FakeDaemon() {
    thread_.join();
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::thread thread_;
  std::vector<std::string> lines_;
};

TEST_F(CardctlToolTest, TalksToADaemonOverItsControlSocket) {
  RuntimeOptions o;
  o.device_spec = "soft";
  auto rt = Runtime::Create(std::move(o));
  ASSERT_TRUE(rt.ok()) << rt.status().message();
  const std::string sock = (dir_ / "d.ctl").string();
  std::vector<std::string> seen;
  {
    FakeDaemon daemon(**rt, sock, 5);
    const fs::path script = Script(Session());
    Result r = Tool("--control " + sock + " --json --script " + script.string());  // three connections
    ASSERT_EQ(r.rc, 0) << r.err;
    r = Tool("--control " + sock + " card sas");
    ASSERT_EQ(r.rc, 0) << r.err;
    EXPECT_NE(r.out.find("0x00001001  in   active  software"), std::string::npos) << r.out;
    r = Tool("--control " + sock + " card sa del spi=0x1001");
    ASSERT_EQ(r.rc, 0) << r.err;
    EXPECT_NE(r.out.find("deleted SA 1 (SPI 0x00001001 in)"), std::string::npos) << r.out;
    seen = daemon.lines();
  }
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen[2], "card sas");
  EXPECT_EQ(seen[4], "card sa del spi=0x1001");
  ASSERT_EQ((*rt)->ListSas().size(), 1u);
  EXPECT_EQ((*rt)->ListSas()[0].spi, 0x1000u);
}

}  // namespace
}  // namespace ipsec::runtime
