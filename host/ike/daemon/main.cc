// accel-iked: the ipsec-accel IKEv2 daemon. See host/ike/daemon/README.md.
#include <utility>  // before Boost.Asio 1.74: its awaitable.hpp uses std::exchange
#include <boost/asio.hpp>
#include <cstdio>
#include <cstring>
#include <string>

#include "host/ike/daemon/ike_daemon.h"
#ifdef IPSEC_HAVE_SIM_CARD
#include "driver/sim/sim_card.h"
#endif
#ifdef IPSEC_HAVE_XRT
#include "driver/xrt/xrt_device.h"
#endif

namespace {
void Usage() {
  std::fprintf(stderr,
               "usage: accel-iked --config <swanctl-style.conf> [--control <socket>] [--tun <name>]\n"
               "                  [--tun-mtu <bytes>] [--ike-port <500>] [--natt-port <4500>]\n"
               "                  [--log-level error|warning|info|debug] [--cookie-threshold <n>]\n"
               "                  [--max-half-open <n>] [--retransmit-timeout <ms, 4000>]\n"
               "                  [--retransmit-base <1.8>] [--retransmit-tries <5>]\n"
               "                  [--device sim|soft|xrt:<bdf>|none] [--card-buffers <1024>]\n"
               "                  [--card-ring-log2 <10>] [--metrics-file <path>] [--no-tun-offload]\n"
               "                  [--no-udp-offload]\n"
               "  --device: ESP through the runtime on that card (sim: the Verilator card; soft: the\n"
               "  software model of the card; none: the runtime's software path); without it the\n"
               "  daemon's own software data plane.\n"
               "  --no-tun-offload, --no-udp-offload: with --device, one packet per TUN read and\n"
               "  write (no TSO/GRO on the TUN device), one datagram per UDP message (no GSO/GRO).\n");
}
}  // namespace

int main(int argc, char** argv) {
  ipsec::ike::DaemonOptions o;
  try {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        Usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--config") o.config_path = next();
    else if (a == "--control") o.control_path = next();
    else if (a == "--tun") o.tun_name = next();
    else if (a == "--tun-mtu") o.tun_mtu = std::stoi(next());
    else if (a == "--device") o.device = next();
    else if (a == "--card-buffers") o.card_buffers = static_cast<uint32_t>(std::stoul(next()));
    else if (a == "--card-ring-log2") o.card_ring_log2 = static_cast<uint32_t>(std::stoul(next()));
    else if (a == "--metrics-file") o.metrics_file = next();
    else if (a == "--no-tun-offload") o.tun_offload = false;
    else if (a == "--no-udp-offload") o.udp_offload = false;
    else if (a == "--ike-port") o.ike_port = static_cast<uint16_t>(std::stoi(next()));
    else if (a == "--natt-port") o.natt_port = static_cast<uint16_t>(std::stoi(next()));
    else if (a == "--cookie-threshold") o.manager.cookie_threshold = std::stoul(next());
    else if (a == "--max-half-open") o.manager.max_half_open = std::stoul(next());
    else if (a == "--retransmit-timeout") o.retransmit.timeout = ipsec::ike::Millis(std::stol(next()));
    else if (a == "--retransmit-base") o.retransmit.base = std::stod(next());
    else if (a == "--retransmit-tries") o.retransmit.tries = static_cast<uint32_t>(std::stoul(next()));
    else if (a == "--log-level") {
      std::string l = next();
      if (l == "error") o.log_level = ipsec::ike::LogLevel::kError;
      else if (l == "warning") o.log_level = ipsec::ike::LogLevel::kWarning;
      else if (l == "info") o.log_level = ipsec::ike::LogLevel::kInfo;
      else if (l == "debug") o.log_level = ipsec::ike::LogLevel::kDebug;
      else {
        Usage();
        return 2;
      }
    } else if (a == "--help" || a == "-h") {
      Usage();
      return 0;
    } else {
      std::fprintf(stderr, "accel-iked: unknown option %s\n", a.c_str());
      Usage();
      return 2;
    }
  }
  } catch (const std::exception&) {  // std::stoi/stoul on a non-number
    std::fprintf(stderr, "accel-iked: bad number in the options\n");
    Usage();
    return 2;
  }
  if (o.config_path.empty()) {
    Usage();
    return 2;
  }
#ifdef IPSEC_HAVE_SIM_CARD
  (void)ipsec::driver::RegisterSimBackend();
#endif
#ifdef IPSEC_HAVE_XRT
  (void)ipsec::driver::RegisterXrtBackend();
#endif
  boost::asio::io_context io;
  ipsec::ike::IkeDaemon daemon(io, o);
  ipsec::Status st = daemon.Start();
  if (!st.ok()) {
    std::fprintf(stderr, "accel-iked: %s\n", st.message().c_str());
    return 1;
  }
  boost::asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec,
                                                                              int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      ipsec::Status r = daemon.Reload();
      if (!r.ok()) std::fprintf(stderr, "accel-iked: reload failed: %s\n", r.message().c_str());
      signals.async_wait(on_signal);
      return;
    }
    daemon.Stop();
    io.stop();
  };
  signals.async_wait(on_signal);
  io.run();
  return 0;
}
