// IkeDaemon: accel-iked's event loop (Boost.Asio, one thread). It owns
//   - the UDP sockets on 500 and 4500 (IKE; on 4500 also NAT-T keepalives and ESP in UDP, told
//     apart by the non-ESP marker, RFC 3948 §2.2), with IP_PKTINFO so that every datagram carries
//     the local address it arrived on and every reply leaves from it;
//   - the IKE SA manager and its timer;
//   - the data plane with its TUN device (optional): the software ESP engine (SoftwareDataPlane),
//     or, with `device` set, the runtime on a card (CardDataPlane: the Verilator card, the software
//     model of the card or XRT), fed in bursts (TUN reads and recvmmsg into the card's DMA
//     buffers, sendmmsg out) and serviced by a timer (card events, faults, drains);
//   - the control socket (a Unix stream socket; one command line in, one JSON document out).
// Configuration comes from a swanctl.conf-style file; SIGHUP or `reload` re-reads it without
// touching established SAs.
#pragma once

#include <utility>  // before Boost.Asio 1.74: its awaitable.hpp uses std::exchange
#include <boost/asio.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host/ike/crypto/random_source.h"
#include "host/ike/daemon/config_loader.h"
#include "host/ike/daemon/card_data_plane.h"
#include "host/ike/daemon/sw_data_plane.h"
#include "host/ike/sa/ike_sa_manager.h"

namespace ipsec::ike {

struct DaemonOptions {
  std::string config_path;
  std::string control_path = "/run/accel-iked.ctl";
  std::string tun_name;           // empty: no data path (IKE only; CHILD_SAs still negotiated)
  // Empty: the software data plane. Otherwise an OpenDevice() spec ("sim", "soft", "xrt:0", ...):
  // ESP runs through the runtime on that card; "none" runs the runtime with every SA in software.
  std::string device;
  uint32_t card_buffers = 1024;   // packet buffers in the card's DMA memory
  uint32_t card_ring_log2 = 10;   // descriptor ring entries (log2)
  std::string metrics_file;       // Prometheus text file, rewritten every second (card data plane)
  bool tun_offload = true;        // card data plane: TUN with TSO/checksum offload (IFF_VNET_HDR)
  bool udp_offload = true;        // card data plane: UDP GSO on send, GRO on receive (NAT-T socket)
  int tun_mtu = 1400;
  uint16_t ike_port = 500;
  uint16_t natt_port = 4500;
  LogLevel log_level = LogLevel::kInfo;
  ManagerOptions manager;
  RetransmitConfig retransmit;  // for every connection
};

class IkeDaemon {
 public:
  IkeDaemon(boost::asio::io_context& io, DaemonOptions options);
  ~IkeDaemon();

  // Loads the configuration, opens sockets, TUN and control socket, and starts the CHILD_SAs
  // with start_action = start. Errors name what failed (a bad config line, a busy port).
  Status Start();
  // Sends DELETEs for every IKE SA, waits briefly for the answers, then closes everything.
  void Stop();
  Status Reload();
  // One control command; returns the JSON reply.
  std::string Control(std::string_view line);

  IkeSaManager& manager() { return *manager_; }
  // The data plane in use: one of these is null.
  const SoftwareDataPlane* software_data_plane() const { return data_plane_.get(); }
  CardDataPlane* card_data_plane() { return card_dp_.get(); }

 private:
  class UdpTransport;
  class CardSink;
  void Log(LogLevel level, std::string_view text) const;
  Status OpenSockets();
  Status OpenTun();
  Status OpenControl();
  void ArmUdp(int index);
  void OnUdpReadable(int index);
  void ArmTun();
  void OnTunReadable();
  Status OpenCard();
  void CardTunReadable();
  void CardTunReadableOffload();
  void CardUdpReadable(int index);
  void CardUdpReadableGro(int index);
  void Pump();
  void ArmService();
  void WriteMetrics();
  void ArmTimer();
  void ArmKeepalive();
  void AcceptControl();
  void StartConfigured();
  // `initiate ... --wait` and `terminate ... --wait` reply when the SA is up (or gone).
  struct Waiter {
    std::shared_ptr<boost::asio::local::stream_protocol::socket> sock;
    uint64_t ike_id = 0;
    bool establish = true;
    TimePoint started;
    TimePoint deadline;
  };
  void CheckWaiters();
  void Reply(const std::shared_ptr<boost::asio::local::stream_protocol::socket>& sock, std::string text);
  std::vector<Waiter> waiters_;

  boost::asio::io_context& io_;
  DaemonOptions options_;
  std::unique_ptr<RandomSource> random_;
  std::unique_ptr<UdpTransport> transport_;
  std::unique_ptr<SoftwareDataPlane> data_plane_;
  std::unique_ptr<runtime::Runtime> runtime_;  // card mode; outlives card_dp_
  std::unique_ptr<CardDataPlane> card_dp_;
  std::unique_ptr<CardSink> card_sink_;
  boost::asio::steady_timer service_timer_;
  bool pump_posted_ = false;
  bool tun_vnet_ = false;                 // TUN packets carry a virtio-net header
  std::vector<std::byte> tun_staging_;    // one TSO piece
  uint64_t tun_super_reads_ = 0, tun_offload_drops_ = 0;
  static constexpr size_t kGroBufs = 8, kGroBufBytes = 65536;
  std::vector<std::byte> gro_staging_;    // UDP GRO reads: kGroBufs of kGroBufBytes
  uint64_t gro_reads_ = 0;                // reads that held more than one datagram
  uint32_t service_ticks_ = 0;
  std::unique_ptr<ConfigCredentials> credentials_;
  std::unique_ptr<IkeContext> ctx_;
  std::unique_ptr<IkeSaManager> manager_;
  LoadedConfig loaded_;
  struct Socket {
    std::unique_ptr<boost::asio::ip::udp::socket> sock;
    uint16_t port = 0;
    bool v6 = false;
    bool gro = false;  // UDP_GRO on: a datagram read may be several of one size (the card data path)
  };
  std::vector<Socket> sockets_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> tun_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer keepalive_timer_;
  std::unique_ptr<boost::asio::local::stream_protocol::acceptor> control_;
  std::vector<std::byte> buffer_;
  bool stopping_ = false;
};

}  // namespace ipsec::ike
