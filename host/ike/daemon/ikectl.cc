// accel-ikectl: talks to accel-iked over its control socket. One command per call; the reply is
// JSON (--json) or a short human summary.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

int main(int argc, char** argv) {
  std::string path = "/run/accel-iked.ctl";
  bool raw = false;
  std::string cmd;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--control" && i + 1 < argc) {
      path = argv[++i];
    } else if (a == "--json") {
      raw = true;
    } else if (a == "--help" || a == "-h") {
      std::printf(
          "usage: accel-ikectl [--control <socket>] [--json] <command>\n"
          "  list | stats | initiate <conn> [child] | terminate <ike-id> | terminate-child <child-id>\n"
          "  rekey <ike-id> | rekey-child <child-id> | dpd <ike-id> | reload\n");
      return 0;
    } else {
      if (!cmd.empty()) cmd += ' ';
      cmd += a;
    }
  }
  if (cmd.empty()) cmd = "list";
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::strncpy(sun.sun_path, path.c_str(), sizeof(sun.sun_path) - 1);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) {
    std::fprintf(stderr, "accel-ikectl: cannot reach accel-iked at %s: %s\n", path.c_str(), std::strerror(errno));
    return 1;
  }
  cmd += '\n';
  if (::write(fd, cmd.data(), cmd.size()) != static_cast<ssize_t>(cmd.size())) return 1;
  std::string reply;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) reply.append(buf, static_cast<size_t>(n));
  ::close(fd);
  auto j = nlohmann::json::parse(reply, nullptr, false);
  if (j.is_discarded()) {
    std::fprintf(stderr, "accel-ikectl: bad reply\n");
    return 1;
  }
  if (raw || cmd.rfind("list", 0) != 0) {
    std::printf("%s\n", j.dump().c_str());
    return j.value("ok", false) ? 0 : 1;
  }
  for (const auto& s : j["sas"]) {
    std::printf("%s[%llu]: %s %s %s === %s (%s)\n  IKE SPIs %s_i %s_r, %s, established %llds ago, rekey in %llds\n",
                s["connection"].get<std::string>().c_str(), s["id"].get<unsigned long long>(),
                s["state"].get<std::string>().c_str(), s["local"].get<std::string>().c_str(),
                s["local_id"].get<std::string>().c_str(), s["remote_id"].get<std::string>().c_str(),
                s["remote"].get<std::string>().c_str(), s["spi_i"].get<std::string>().c_str(),
                s["spi_r"].get<std::string>().c_str(), s["algorithms"].get<std::string>().c_str(),
                s["established_s"].get<long long>(), s["rekey_in_s"].get<long long>());
    for (const auto& c : s["children"]) {
      std::printf("  %s{%u}: %s %s%s %s SPIs %s_i %s_o, %llu bytes_i (%llu pkts), %llu bytes_o (%llu pkts), "
                  "rekey in %llds\n    %s === %s\n",
                  c["name"].get<std::string>().c_str(), c["id"].get<unsigned>(), c["state"].get<std::string>().c_str(),
                  c["mode"].get<std::string>().c_str(), c["encap"].get<bool>() ? "-in-UDP" : "",
                  c["algorithms"].get<std::string>().c_str(), c["spi_in"].get<std::string>().c_str(),
                  c["spi_out"].get<std::string>().c_str(), c["bytes_in"].get<unsigned long long>(),
                  c["packets_in"].get<unsigned long long>(), c["bytes_out"].get<unsigned long long>(),
                  c["packets_out"].get<unsigned long long>(), c["rekey_in_s"].get<long long>(),
                  c["local_ts"].get<std::string>().c_str(), c["remote_ts"].get<std::string>().c_str());
    }
  }
  return 0;
}
