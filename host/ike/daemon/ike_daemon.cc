#include "host/ike/daemon/ike_daemon.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <ctime>
#include <nlohmann/json.hpp>

#include "host/common/bytes.h"
#include "host/ike/daemon/data_path_util.h"
#include "host/ike/encoding/nat_traversal.h"
#include "host/ike/sa/traffic_selectors.h"
#include "host/runtime/runtime_control.h"

namespace ipsec::ike {

namespace asio = boost::asio;
using asio::ip::udp;

namespace {
constexpr uint32_t kHeadroom = 128;
constexpr size_t kBufferSize = 65536 + 256;

std::string LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kError: return "ERR";
    case LogLevel::kWarning: return "WRN";
    case LogLevel::kInfo: return "INF";
    case LogLevel::kDebug: return "DBG";
  }
  return "?";
}

sa::IpAddress FromSockaddr(const sockaddr_storage& ss, uint16_t* port) {
  sa::IpAddress a;
  if (ss.ss_family == AF_INET6) {
    const auto* s6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
      std::memcpy(a.bytes.data(), &s6->sin6_addr.s6_addr[12], 4);
    } else {
      a.v6 = true;
      std::memcpy(a.bytes.data(), &s6->sin6_addr, 16);
    }
    *port = ntohs(s6->sin6_port);
  } else {
    const auto* s4 = reinterpret_cast<const sockaddr_in*>(&ss);
    std::memcpy(a.bytes.data(), &s4->sin_addr, 4);
    *port = ntohs(s4->sin_port);
  }
  return a;
}

// What a received datagram's control messages say: the local address it arrived on (into `local`,
// IP_PKTINFO / IPV6_PKTINFO), its outer DSCP/ECN byte (IP_TOS / IPV6_TCLASS) and, with UDP GRO,
// the size of the datagrams merged into it (0: one datagram).
struct RecvMeta {
  uint8_t tos = 0;
  size_t gro_size = 0;
};
// One recvmmsg slot: a single buffer, the source address and room for control messages.
void PrepareRecv(mmsghdr& m, iovec& iov, sockaddr_storage& from, char* ctl, size_t ctl_len) {
  m = mmsghdr{};
  m.msg_hdr.msg_name = &from;
  m.msg_hdr.msg_namelen = sizeof(sockaddr_storage);
  m.msg_hdr.msg_iov = &iov;
  m.msg_hdr.msg_iovlen = 1;
  m.msg_hdr.msg_control = ctl;
  m.msg_hdr.msg_controllen = ctl_len;
}

RecvMeta ReadRecvMeta(msghdr& h, Endpoint* local) {
  RecvMeta m;
  for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo pi;
      std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
      std::memcpy(local->addr.bytes.data(), &pi.ipi_addr, 4);
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo pi;
      std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
      std::memcpy(local->addr.bytes.data(), &pi.ipi6_addr, 16);
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
      m.tos = *reinterpret_cast<const uint8_t*>(CMSG_DATA(c));
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS) {
      int v = 0;
      std::memcpy(&v, CMSG_DATA(c), sizeof v);
      m.tos = static_cast<uint8_t>(v);
    } else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
      int v = 0;
      std::memcpy(&v, CMSG_DATA(c), sizeof v);
      if (v > 0) m.gro_size = static_cast<size_t>(v);
    }
  }
  return m;
}

socklen_t ToSockaddr(const Endpoint& e, sockaddr_storage* ss) {
  std::memset(ss, 0, sizeof(*ss));
  if (e.addr.v6) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(e.port);
    std::memcpy(&s6->sin6_addr, e.addr.bytes.data(), 16);
    return sizeof(sockaddr_in6);
  }
  auto* s4 = reinterpret_cast<sockaddr_in*>(ss);
  s4->sin_family = AF_INET;
  s4->sin_port = htons(e.port);
  std::memcpy(&s4->sin_addr, e.addr.bytes.data(), 4);
  return sizeof(sockaddr_in);
}

std::string Hex32(uint32_t v) {
  char b[9];
  std::snprintf(b, sizeof b, "%08x", v);
  return b;
}
std::string Hex64(uint64_t v) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}
}  // namespace

// Sends IKE datagrams from the right socket and source address: port 4500 (with the non-ESP
// marker) whenever either end uses it, else port 500.
class IkeDaemon::UdpTransport final : public Transport {
 public:
  explicit UdpTransport(IkeDaemon& d) : d_(d) {}
  void Send(const Endpoint& local, const Endpoint& remote, Bytes datagram) override {
    bool natt = local.port == d_.options_.natt_port || remote.port != d_.options_.ike_port;
    if (natt) {
      std::vector<std::byte> m = AddNonEspMarker(datagram);
      SendRaw(local, remote, m, d_.options_.natt_port);
    } else {
      SendRaw(local, remote, datagram, d_.options_.ike_port);
    }
  }
  // One datagram from `port`'s socket, from `local`'s address when it is set; `tos` (DSCP and ECN)
  // goes into the outer header when it is not 0.
  void SendRaw(const Endpoint& local, const Endpoint& remote, Bytes data, uint16_t port, uint8_t tos = 0) {
    for (auto& s : d_.sockets_) {
      if (s.port != port || s.v6 != remote.addr.v6) continue;
      sockaddr_storage to;
      socklen_t tolen = ToSockaddr(remote, &to);
      iovec iov{const_cast<std::byte*>(data.data()), data.size()};
      msghdr msg{};
      msg.msg_name = &to;
      msg.msg_namelen = tolen;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(int))] = {};
      bool have_src = local.addr != sa::IpAddress{.v6 = local.addr.v6, .bytes = {}};
      msg.msg_control = control;
      msg.msg_controllen = (have_src ? CMSG_SPACE(remote.addr.v6 ? sizeof(in6_pktinfo) : sizeof(in_pktinfo)) : 0) +
                           (tos != 0 ? CMSG_SPACE(sizeof(int)) : 0);
      cmsghdr* c = msg.msg_controllen != 0 ? CMSG_FIRSTHDR(&msg) : nullptr;
      if (have_src) {
        if (remote.addr.v6) {
          c->cmsg_level = IPPROTO_IPV6;
          c->cmsg_type = IPV6_PKTINFO;
          c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
          in6_pktinfo pi{};
          std::memcpy(&pi.ipi6_addr, local.addr.bytes.data(), 16);
          std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
        } else {
          c->cmsg_level = IPPROTO_IP;
          c->cmsg_type = IP_PKTINFO;
          c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
          in_pktinfo pi{};
          std::memcpy(&pi.ipi_spec_dst, local.addr.bytes.data(), 4);
          std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
        }
        c = CMSG_NXTHDR(&msg, c);
      }
      if (tos != 0) {
        c->cmsg_level = remote.addr.v6 ? IPPROTO_IPV6 : IPPROTO_IP;
        c->cmsg_type = remote.addr.v6 ? IPV6_TCLASS : IP_TOS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        const int v = tos;
        std::memcpy(CMSG_DATA(c), &v, sizeof v);
      }
      if (msg.msg_controllen == 0) msg.msg_control = nullptr;
      if (::sendmsg(s.sock->native_handle(), &msg, 0) < 0) {
        ++send_errors;
      }
      return;
    }
    ++send_errors;
  }
  uint64_t send_errors = 0;

 private:
  IkeDaemon& d_;
};

// Completed card bursts: ESP datagrams leave with one sendmmsg per address family; consecutive
// datagrams to one peer of one size (the last may be shorter), as a TSO piece cut into segments
// makes them, go as one UDP GSO message (UDP_SEGMENT), which the kernel sends through its stack as
// one buffer. Inner packets go to the TUN device, TCP segments of a flow coalesced into one write
// (TunCoalescer) when the device takes virtio-net headers.
class IkeDaemon::CardSink final : public CardDataPlane::Sink {
 public:
  static constexpr size_t kMaxBurst = CardDataPlane::kSinkBatch;
  static constexpr size_t kMaxGsoSegments = 64;   // the kernel's UDP_MAX_SEGMENTS on older kernels
  static constexpr size_t kMaxGsoBytes = 65000;   // under 65535 - IPv6/UDP headers
  explicit CardSink(IkeDaemon& d) : d_(d) {}
  bool gso = true;  // cleared for good when the kernel refuses UDP_SEGMENT

  void SendEsp(std::span<const EspDatagram> batch) override {
    for (bool v6 : {false, true}) {
      int fd = -1;
      for (auto& s : d_.sockets_) {
        if (s.port == d_.options_.natt_port && s.v6 == v6) fd = s.sock->native_handle();
      }
      size_t n = 0;  // datagrams of this family, their iovecs in iov_
      unsigned m = 0;  // messages
      for (size_t i = 0; i < batch.size(); ++i) {
        const EspDatagram& e = batch[i];
        if (e.to.addr.v6 != v6) continue;
        if (fd < 0) {
          ++send_errors;
          continue;
        }
        iov_[n] = iovec{const_cast<std::byte*>(e.payload.data()), e.payload.size()};
        // Joins the previous message as one more GSO segment?
        if (gso && m > 0 && seg_n_[m - 1] < kMaxGsoSegments && seg_open_[m - 1] &&
            e.payload.size() <= seg_size_[m - 1] && seg_bytes_[m - 1] + e.payload.size() <= kMaxGsoBytes &&
            e.tos == seg_tos_[m - 1] && e.to == *seg_to_[m - 1]) {
          ++seg_n_[m - 1];
          seg_bytes_[m - 1] += e.payload.size();
          if (e.payload.size() < seg_size_[m - 1]) seg_open_[m - 1] = false;  // a shorter one ends it
          ++n;
          continue;
        }
        first_iov_[m] = n;
        seg_n_[m] = 1;
        seg_size_[m] = e.payload.size();
        seg_bytes_[m] = e.payload.size();
        seg_open_[m] = true;
        seg_to_[m] = &e.to;
        seg_tos_[m] = e.tos;
        ++m;
        ++n;
      }
      for (unsigned k = 0; k < m; ++k) {
        socklen_t len = ToSockaddr(*seg_to_[k], &addrs_[k]);
        msgs_[k] = mmsghdr{};
        msgs_[k].msg_hdr.msg_name = &addrs_[k];
        msgs_[k].msg_hdr.msg_namelen = len;
        msgs_[k].msg_hdr.msg_iov = &iov_[first_iov_[k]];
        msgs_[k].msg_hdr.msg_iovlen = seg_n_[k];
        // Control messages: the GSO segment size, and the outer DSCP/ECN byte the card chose
        // (the socket builds the outer header, so it must carry them).
        size_t ctl_len = 0;
        if (seg_n_[k] > 1) ctl_len += CMSG_SPACE(sizeof(uint16_t));
        if (seg_tos_[k] != 0) ctl_len += CMSG_SPACE(sizeof(int));
        if (ctl_len > 0) {
          msgs_[k].msg_hdr.msg_control = ctl_[k].b;
          msgs_[k].msg_hdr.msg_controllen = ctl_len;
          cmsghdr* c = CMSG_FIRSTHDR(&msgs_[k].msg_hdr);
          if (seg_n_[k] > 1) {
            c->cmsg_level = SOL_UDP;
            c->cmsg_type = UDP_SEGMENT;
            c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
            const uint16_t size = static_cast<uint16_t>(seg_size_[k]);
            std::memcpy(CMSG_DATA(c), &size, sizeof size);
            c = CMSG_NXTHDR(&msgs_[k].msg_hdr, c);
          }
          if (seg_tos_[k] != 0) {
            c->cmsg_level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
            c->cmsg_type = v6 ? IPV6_TCLASS : IP_TOS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            const int tos = seg_tos_[k];
            std::memcpy(CMSG_DATA(c), &tos, sizeof tos);
          }
        }
      }
      unsigned sent = 0;
      while (sent < m) {
        int r = ::sendmmsg(fd, msgs_.data() + sent, m - sent, 0);
        if (r <= 0) {
          if (r < 0 && errno == EINTR) continue;
          if (r < 0 && (errno == EIO || errno == EINVAL || errno == ENOPROTOOPT) && seg_n_[sent] > 1 && gso) {
            // No UDP GSO here (old kernel, a device without checksum offload): off for good, and
            // this message goes out one datagram at a time.
            gso = false;
            SendOneByOne(fd, msgs_[sent]);
            ++sent;
            continue;
          }
          // EAGAIN (socket buffer full) or a hard error: count the rest and go on.
          for (unsigned k = sent; k < m; ++k) send_errors += seg_n_[k];
          break;
        }
        for (int k = 0; k < r; ++k) {
          datagrams_sent += seg_n_[sent + k];
          gso_messages += seg_n_[sent + k] > 1;
        }
        sent += static_cast<unsigned>(r);
        ++sendmmsg_calls;
      }
    }
  }

  void DeliverTun(std::span<const Bytes> batch) override {
    if (!d_.tun_) return;
    const int fd = d_.tun_->native_handle();
    if (!d_.tun_vnet_) {
      for (Bytes b : batch) {
        if (::write(fd, b.data(), b.size()) < 0) ++tun_write_errors;
      }
      return;
    }
    for (size_t off = 0; off < batch.size(); off += TunCoalescer::kMaxBatch) {
      const auto part = batch.subspan(off, std::min(batch.size() - off, TunCoalescer::kMaxBatch));
      const size_t writes = coalescer_.Plan(part);
      for (size_t w = 0; w < writes; ++w) {
        const std::span<const Bytes> pieces = coalescer_.Write(w);
        for (size_t k = 0; k < pieces.size(); ++k) {
          tun_iov_[k] = iovec{const_cast<std::byte*>(pieces[k].data()), pieces[k].size()};
        }
        if (::writev(fd, tun_iov_.data(), static_cast<int>(pieces.size())) < 0) ++tun_write_errors;
        ++tun_writes;
      }
    }
  }
  const TunCoalescer& coalescer() const { return coalescer_; }
  uint64_t send_errors = 0, sendmmsg_calls = 0, datagrams_sent = 0, gso_messages = 0, tun_write_errors = 0,
           tun_writes = 0;

 private:
  void SendOneByOne(int fd, const mmsghdr& m) {
    for (size_t i = 0; i < m.msg_hdr.msg_iovlen; ++i) {
      msghdr h{};
      h.msg_name = m.msg_hdr.msg_name;
      h.msg_namelen = m.msg_hdr.msg_namelen;
      h.msg_iov = &m.msg_hdr.msg_iov[i];
      h.msg_iovlen = 1;
      alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int))];
      for (cmsghdr* c = CMSG_FIRSTHDR(&m.msg_hdr); c; c = CMSG_NXTHDR(const_cast<msghdr*>(&m.msg_hdr), c)) {
        if (c->cmsg_level == SOL_UDP) continue;  // the DSCP/ECN byte only
        std::memcpy(ctl, c, CMSG_SPACE(sizeof(int)));
        h.msg_control = ctl;
        h.msg_controllen = sizeof ctl;
      }
      if (::sendmsg(fd, &h, 0) < 0) {
        ++send_errors;
      } else {
        ++datagrams_sent;
      }
    }
  }

  IkeDaemon& d_;
  struct Ctl {
    alignas(cmsghdr) char b[CMSG_SPACE(sizeof(uint16_t)) + CMSG_SPACE(sizeof(int))];
  };
  std::array<mmsghdr, kMaxBurst> msgs_{};
  std::array<iovec, kMaxBurst> iov_{};
  std::array<sockaddr_storage, kMaxBurst> addrs_{};
  std::array<Ctl, kMaxBurst> ctl_{};
  std::array<size_t, kMaxBurst> first_iov_{}, seg_n_{}, seg_size_{}, seg_bytes_{};
  std::array<bool, kMaxBurst> seg_open_{};
  std::array<uint8_t, kMaxBurst> seg_tos_{};
  std::array<const Endpoint*, kMaxBurst> seg_to_{};
  TunCoalescer coalescer_;
  std::array<iovec, 2 * TunCoalescer::kMaxBatch> tun_iov_{};
};

IkeDaemon::IkeDaemon(asio::io_context& io, DaemonOptions options)
    : io_(io),
      options_(std::move(options)),
      service_timer_(io),
      timer_(io),
      keepalive_timer_(io),
      buffer_(kBufferSize) {}

IkeDaemon::~IkeDaemon() {
  // The card data plane's buffers live in the runtime's device memory.
  card_dp_.reset();
  runtime_.reset();
}

void IkeDaemon::Log(LogLevel level, std::string_view text) const {
  if (static_cast<int>(level) > static_cast<int>(options_.log_level)) return;
  auto wall = std::chrono::system_clock::now();
  std::time_t now = std::chrono::system_clock::to_time_t(wall);
  int ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(wall.time_since_epoch()).count() % 1000);
  std::tm tm{};
  localtime_r(&now, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%H:%M:%S", &tm);
  std::fprintf(stderr, "%s.%03d %s %.*s\n", ts, ms, LevelName(level).c_str(), static_cast<int>(text.size()),
               text.data());
  std::fflush(stderr);
}

Status IkeDaemon::Start() {
  random_ = CreateSystemRandomSource();
  ASSIGN_OR_RETURN(loaded_, LoadDaemonConfig(options_.config_path, true, options_.retransmit));
  credentials_ = std::move(loaded_.credentials);
  transport_ = std::make_unique<UdpTransport>(*this);
  DataPlane* dp = nullptr;
  if (options_.device.empty()) {
    data_plane_ = std::make_unique<SoftwareDataPlane>(*random_);
    dp = data_plane_.get();
  } else {
    RETURN_IF_ERROR(OpenCard());
    dp = card_dp_.get();
  }
  ctx_ = std::make_unique<IkeContext>(IkeContext{SystemClock(), *random_, *transport_, *credentials_, *dp,
                                                 [this](LogLevel l, std::string_view t) { Log(l, t); }, {}, {}});
  ctx_->source_address = [](const sa::IpAddress& remote) -> std::optional<sa::IpAddress> {
    int fd = ::socket(remote.v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) return std::nullopt;
    sockaddr_storage ss;
    socklen_t len = ToSockaddr(Endpoint{remote, 500}, &ss);
    std::optional<sa::IpAddress> out;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0) {
      sockaddr_storage me{};
      socklen_t ml = sizeof me;
      if (::getsockname(fd, reinterpret_cast<sockaddr*>(&me), &ml) == 0) {
        uint16_t port;
        out = FromSockaddr(me, &port);
      }
    }
    ::close(fd);
    return out;
  };
  manager_ = std::make_unique<IkeSaManager>(*ctx_, options_.manager);
  manager_->SetConfigs(loaded_.peers);
  RETURN_IF_ERROR(OpenSockets());
  if (!options_.tun_name.empty()) RETURN_IF_ERROR(OpenTun());
  RETURN_IF_ERROR(OpenControl());
  Log(LogLevel::kInfo, "accel-iked started: " + std::to_string(loaded_.peers.size()) + " connection(s) from " +
                           options_.config_path);
  StartConfigured();
  ArmTimer();
  ArmKeepalive();
  if (card_dp_) ArmService();
  return OkStatus();
}

Status IkeDaemon::OpenCard() {
  runtime::RuntimeOptions ro;
  ro.use_card = options_.device != "none";
  if (ro.use_card) ro.device_spec = options_.device;
  ro.driver.queues = 1;
  ro.driver.ring_log2 = options_.card_ring_log2;
  // The driver's command timeout is wall time: a simulated card needs far more of it.
  if (options_.device.rfind("sim", 0) == 0) ro.driver.register_timeout = std::chrono::seconds(30);
  ro.natt_port = options_.natt_port;
  ro.max_sas = 4096;
  ro.max_tunnels = 1024;
  ro.spd_default = runtime::PolicyAction::kDiscard;
  ro.on_event = [this](const runtime::RuntimeEvent& e) {
    LogLevel l = e.type == runtime::RuntimeEventType::kCardLost || e.type == runtime::RuntimeEventType::kCardRecoveryFailed
                     ? LogLevel::kError
                     : LogLevel::kInfo;
    char spi[16];
    std::snprintf(spi, sizeof spi, "%08x", e.spi);
    Log(l, "card: " + std::string(runtime::RuntimeEventName(e.type)) + " SPI " + spi +
               (e.detail.empty() ? "" : ": " + e.detail));
    // Byte/packet lifetimes and sequence space are counted where the packets go (the card): its
    // events start the CHILD_SA rekey (soft limit, sequence overflow) or remove it (hard limit).
    const bool rekey = e.type == runtime::RuntimeEventType::kSoftLifetime ||
                       e.type == runtime::RuntimeEventType::kSeqOverflow;
    const bool expire = e.type == runtime::RuntimeEventType::kHardLifetime;
    if ((rekey || expire) && card_dp_) {
      if (std::optional<uint32_t> child = card_dp_->ChildOfSpi(e.spi, e.direction)) {
        asio::post(io_, [this, id = *child, rekey] {
          if (stopping_) return;
          Status st = rekey ? manager_->RekeyChild(id) : manager_->TerminateChild(id);
          if (!st.ok()) Log(LogLevel::kInfo, "CHILD_SA {" + std::to_string(id) + "}: " + st.message());
        });
      }
    }
  };
  auto rt = runtime::Runtime::Create(std::move(ro));
  if (!rt.ok()) return UnavailableError("device " + options_.device + ": " + rt.status().message());
  runtime_ = std::move(*rt);
  CardDataPlane::Options co;
  co.buffers = options_.card_buffers;
  co.natt_port = options_.natt_port;
  co.log = [this](std::string_view line) { Log(LogLevel::kInfo, line); };
  auto dp = CardDataPlane::Create(*runtime_, co);
  if (!dp.ok()) return dp.status();
  card_dp_ = std::move(*dp);
  card_sink_ = std::make_unique<CardSink>(*this);
  card_sink_->gso = options_.udp_offload;
  Log(LogLevel::kInfo, "ESP on " + (runtime_->has_card() ? "the card (" + options_.device + ")" : std::string("the runtime's software path")));
  return OkStatus();
}

void IkeDaemon::ArmService() {
  service_timer_.expires_after(std::chrono::milliseconds(10));
  service_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    card_dp_->Service();
    if (card_dp_->in_flight() > 0) Pump();
    if (++service_ticks_ % 100 == 0 && !options_.metrics_file.empty()) WriteMetrics();
    ArmService();
  });
}

// Completes what the card finished. A simulated card only advances while it is polled, so while
// packets are in flight this re-posts itself (after whatever else the loop has ready) instead of
// blocking IKE.
void IkeDaemon::Pump() {
  if (!card_dp_) return;
  for (int i = 0; i < 64 && card_dp_->in_flight() > 0; ++i) {
    if (card_dp_->Poll(*card_sink_) == 0 && !runtime_->has_card()) break;
  }
  if (card_dp_->in_flight() > 0 && !pump_posted_) {
    pump_posted_ = true;
    asio::post(io_, [this] {
      pump_posted_ = false;
      if (!stopping_) Pump();
    });
  }
}

void IkeDaemon::CardTunReadable() {
  if (tun_vnet_) {
    CardTunReadableOffload();
    return;
  }
  std::array<CardDataPlane::RxBuf, runtime::RuntimeQueue::kMaxBurst> bufs;
  std::array<CardDataPlane::Filled, runtime::RuntimeQueue::kMaxBurst> filled;
  for (int round = 0; round < 4; ++round) {
    const size_t n = card_dp_->TakeRxBuffers(bufs);
    size_t got = 0;
    bool drained = false;
    for (; got < n; ++got) {
      ssize_t len = ::read(tun_->native_handle(), bufs[got].data, bufs[got].capacity);
      if (len <= 0) {
        drained = true;
        break;
      }
      filled[got] = CardDataPlane::Filled{bufs[got].id, static_cast<uint32_t>(len), {}, {}};
    }
    card_dp_->ReturnRxBuffers(std::span(bufs).subspan(got, n - got));
    if (got > 0) card_dp_->SubmitOutbound(std::span(filled).first(got));
    Pump();
    if (drained || n == 0) break;
  }
}

// The TUN device with a virtio-net header: each read is one packet or one TSO piece of up to
// 64 KiB, cut into wire packets straight into card buffers; up to kSinkBatch of them go to the
// card together (the queue takes them in ring bursts).
void IkeDaemon::CardTunReadableOffload() {
  constexpr size_t kBurst = CardDataPlane::kSinkBatch;
  std::array<CardDataPlane::Filled, kBurst> filled;
  size_t n = 0;
  auto flush = [&] {
    if (n > 0) card_dp_->SubmitOutbound(std::span(filled).first(n));
    n = 0;
    Pump();
  };
  for (int reads = 0; reads < 64; ++reads) {
    ssize_t len = ::read(tun_->native_handle(), tun_staging_.data(), tun_staging_.size());
    if (len <= static_cast<ssize_t>(VnetHdr::kBytes)) break;
    const VnetHdr h = VnetHdr::Read(tun_staging_.data());
    std::span<std::byte> pkt(tun_staging_.data() + VnetHdr::kBytes, static_cast<size_t>(len) - VnetHdr::kBytes);
    bool out_of_buffers = false;
    auto into_buffers = [&](size_t bytes) -> std::span<std::byte> {
      if (n == kBurst) flush();
      CardDataPlane::RxBuf b;
      if (card_dp_->TakeRxBuffers({&b, 1}) != 1) {
        out_of_buffers = true;
        return {};
      }
      if (bytes > b.capacity) {
        card_dp_->ReturnRxBuffers({&b, 1});
        return {};
      }
      filled[n++] = CardDataPlane::Filled{b.id, static_cast<uint32_t>(bytes), {}, {}};
      return {b.data, bytes};
    };
    // By reference: a std::function holding a reference_wrapper allocates nothing.
    const size_t segs = SegmentOffloaded(h, pkt, 64, std::ref(into_buffers));
    if (segs == 0 || out_of_buffers) ++tun_offload_drops_;
    tun_super_reads_ += segs > 1;
  }
  flush();
}

// ESP in UDP on the NAT-T socket, a burst at a time with recvmmsg straight into card buffers; IKE
// messages (non-ESP marker) and keepalives found among them go their own way.
void IkeDaemon::CardUdpReadable(int index) {
  constexpr size_t kBurst = runtime::RuntimeQueue::kMaxBurst;
  Socket& s = sockets_[index];
  if (s.gro) {
    CardUdpReadableGro(index);
    return;
  }
  std::array<CardDataPlane::RxBuf, kBurst> bufs;
  std::array<CardDataPlane::Filled, kBurst> filled;
  std::array<mmsghdr, kBurst> msgs{};
  std::array<iovec, kBurst> iov{};
  std::array<sockaddr_storage, kBurst> from{};
  struct Ctl {
    alignas(cmsghdr) char b[128];
  };
  std::array<Ctl, kBurst> ctl;
  for (int round = 0; round < 4; ++round) {
    const size_t n = card_dp_->TakeRxBuffers(bufs);
    if (n == 0) {
      card_dp_->Poll(*card_sink_);  // make room; the datagrams wait in the socket
      break;
    }
    for (size_t i = 0; i < n; ++i) {
      iov[i] = iovec{bufs[i].data, bufs[i].capacity};
      PrepareRecv(msgs[i], iov[i], from[i], ctl[i].b, sizeof ctl[i].b);
    }
    int r = ::recvmmsg(s.sock->native_handle(), msgs.data(), static_cast<unsigned>(n), MSG_DONTWAIT, nullptr);
    const size_t got = r > 0 ? static_cast<size_t>(r) : 0;
    size_t esp = 0;
    std::array<CardDataPlane::RxBuf, kBurst> unused;
    size_t unused_n = 0;
    for (size_t i = 0; i < got; ++i) {
      Endpoint remote;
      remote.addr = FromSockaddr(from[i], &remote.port);
      Endpoint local{sa::IpAddress{}, s.port};
      local.addr.v6 = s.v6;
      const RecvMeta meta = ReadRecvMeta(msgs[i].msg_hdr, &local);
      const uint8_t tos = meta.tos;
      Bytes data(bufs[i].data, msgs[i].msg_len);
      if (IsNatKeepalive(data)) {
        unused[unused_n++] = bufs[i];
        continue;
      }
      if (HasNonEspMarker(data)) {
        auto ike = StripNonEspMarker(data);
        if (ike.ok()) manager_->Receive(local, remote, *ike);
        unused[unused_n++] = bufs[i];
        continue;
      }
      filled[esp++] = CardDataPlane::Filled{bufs[i].id, msgs[i].msg_len, remote, local, tos};
    }
    for (size_t i = got; i < n; ++i) unused[unused_n++] = bufs[i];
    card_dp_->ReturnRxBuffers(std::span(unused).first(unused_n));
    if (esp > 0) card_dp_->SubmitInbound(std::span(filled).first(esp));
    Pump();
    if (got < n) break;  // drained
  }
  CheckWaiters();
  ArmTimer();
}

// The NAT-T socket with UDP GRO: a read may hold several datagrams of one size back to back (the
// last may be shorter), as many as the kernel merged (at most 64). Reads land in 64 KiB staging
// buffers and each datagram is copied into a card buffer; a read is only posted while every
// datagram it could hold has a free card buffer, so nothing taken from the socket is dropped for
// want of one.
void IkeDaemon::CardUdpReadableGro(int index) {
  constexpr size_t kBurst = CardDataPlane::kSinkBatch;
  constexpr size_t kMaxPerRead = 64;
  Socket& s = sockets_[index];
  std::array<mmsghdr, kGroBufs> msgs{};
  std::array<iovec, kGroBufs> iov{};
  std::array<sockaddr_storage, kGroBufs> from{};
  struct Ctl {
    alignas(cmsghdr) char b[128];
  };
  std::array<Ctl, kGroBufs> ctl;
  std::array<CardDataPlane::Filled, kBurst> filled;
  size_t esp = 0;
  auto flush = [&] {
    if (esp > 0) card_dp_->SubmitInbound(std::span(filled).first(esp));
    esp = 0;
    Pump();
  };
  for (int round = 0; round < 4; ++round) {
    const size_t k = std::min<size_t>(kGroBufs, card_dp_->free_buffers() / kMaxPerRead);
    if (k == 0) {
      card_dp_->Poll(*card_sink_);  // make room; the datagrams wait in the socket
      break;
    }
    for (size_t i = 0; i < k; ++i) {
      iov[i] = iovec{gro_staging_.data() + i * kGroBufBytes, kGroBufBytes};
      PrepareRecv(msgs[i], iov[i], from[i], ctl[i].b, sizeof ctl[i].b);
    }
    int r = ::recvmmsg(s.sock->native_handle(), msgs.data(), static_cast<unsigned>(k), MSG_DONTWAIT, nullptr);
    const size_t got = r > 0 ? static_cast<size_t>(r) : 0;
    for (size_t i = 0; i < got; ++i) {
      Endpoint remote;
      remote.addr = FromSockaddr(from[i], &remote.port);
      Endpoint local{sa::IpAddress{}, s.port};
      local.addr.v6 = s.v6;
      const RecvMeta meta = ReadRecvMeta(msgs[i].msg_hdr, &local);
      const uint8_t tos = meta.tos;
      size_t seg = meta.gro_size;
      const std::byte* base = gro_staging_.data() + i * kGroBufBytes;
      const size_t len = msgs[i].msg_len;
      if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
        card_dp_->CountBadInput();  // cannot happen with 64 KiB buffers; never pass on a cut datagram
        continue;
      }
      if (len == 0) continue;
      if (seg == 0 || seg > len) seg = len;
      gro_reads_ += len > seg;
      for (size_t off = 0; off < len; off += seg) {
        Bytes data(base + off, std::min(seg, len - off));
        if (IsNatKeepalive(data)) continue;
        if (HasNonEspMarker(data)) {
          auto ike = StripNonEspMarker(data);
          if (ike.ok()) manager_->Receive(local, remote, *ike);
          continue;
        }
        CardDataPlane::RxBuf b;
        if (card_dp_->TakeRxBuffers({&b, 1}) != 1) {
          card_dp_->CountNoBuffer();
          continue;
        }
        if (data.size() > b.capacity) {
          card_dp_->ReturnRxBuffers({&b, 1});
          card_dp_->CountBadInput();
          continue;
        }
        std::memcpy(b.data, data.data(), data.size());
        filled[esp++] = CardDataPlane::Filled{b.id, static_cast<uint32_t>(data.size()), remote, local, tos};
        if (esp == kBurst) flush();
      }
    }
    flush();
    if (got < k) break;  // drained
  }
  CheckWaiters();
  ArmTimer();
}

// The runtime's metrics (runtime::RenderPrometheus: card, queues, SAs) followed by the data
// path's own counters, written atomically for node_exporter's textfile collector.
void IkeDaemon::WriteMetrics() {
  std::string text = runtime::RenderPrometheus(*runtime_);
  const CardDataPathCounters& d = card_dp_->counters();
  auto counter = [&text](const char* name, const char* help, uint64_t v) {
    text += std::string("# HELP ipsec_accel_gateway_") + name + "_total " + help + "\n# TYPE ipsec_accel_gateway_" +
            name + "_total counter\nipsec_accel_gateway_" + name + "_total " + std::to_string(v) + "\n";
  };
  counter("tun_in_packets", "Packets read from the TUN device.", d.tun_in);
  counter("esp_in_datagrams", "ESP-in-UDP datagrams received.", d.esp_in);
  counter("encrypted_packets", "ESP datagrams handed to the socket.", d.encrypted);
  counter("decrypted_packets", "Inner packets written to the TUN device.", d.decrypted);
  counter("no_policy_packets", "TUN packets under no protect rule (discarded).", d.no_policy);
  counter("no_sa_packets", "Packets with no outbound SA or an unknown inbound SPI.", d.no_sa);
  counter("policy_violation_packets", "Decapsulated packets outside the child's selectors.", d.policy_violations);
  counter("device_error_packets", "Packets the card failed or lost.", d.device_errors);
  counter("bad_input_packets", "Malformed or oversized packets.", d.bad_input);
  counter("no_buffer_packets", "Packets that arrived with every card buffer in use (left in the socket or dropped).",
          d.no_buffer);
  // The socket and TUN side: how well the batching and the offloads work (docs/performance.md).
  counter("esp_datagrams_sent", "ESP datagrams the socket accepted.", card_sink_->datagrams_sent);
  counter("sendmmsg_calls", "sendmmsg system calls.", card_sink_->sendmmsg_calls);
  counter("udp_gso_messages", "UDP GSO messages (one message carries a run of equal-size datagrams).",
          card_sink_->gso_messages);
  counter("esp_send_errors", "ESP datagrams the socket refused.", card_sink_->send_errors);
  counter("udp_gro_reads", "Coalesced UDP GRO reads split into datagrams.", gro_reads_);
  counter("tun_writes", "Writes to the TUN device.", card_sink_->tun_writes);
  counter("tun_gro_writes", "TUN writes that carried several coalesced TCP segments.",
          card_sink_->coalescer().coalesced_writes());
  counter("tun_gro_segments", "TCP segments carried by coalesced TUN writes.", card_sink_->coalescer().coalesced_segments());
  counter("tun_bad_tcp_checksums", "Decapsulated TCP segments with a bad checksum (written alone, not merged).",
          card_sink_->coalescer().bad_checksums());
  counter("tun_write_errors", "TUN writes that failed.", card_sink_->tun_write_errors);
  counter("tun_tso_reads", "TUN reads that returned a TSO/USO super-packet.", tun_super_reads_);
  counter("tun_offload_drops", "TUN super-packets that could not be cut into segments.", tun_offload_drops_);
  auto gauge = [&text](const char* name, const char* help, uint64_t v) {
    text += std::string("# HELP ipsec_accel_gateway_") + name + " " + help + "\n# TYPE ipsec_accel_gateway_" + name +
            " gauge\nipsec_accel_gateway_" + name + " " + std::to_string(v) + "\n";
  };
  gauge("in_flight_packets", "Packets submitted to the card and not yet completed.", card_dp_->in_flight());
  gauge("free_buffers", "Card packet buffers free.", card_dp_->free_buffers());
  gauge("child_sas", "CHILD_SAs installed in the data path.", card_dp_->size());
  text += "# HELP ipsec_accel_gateway_dropped_packets_total Packets an SA dropped, by reason.\n"
          "# TYPE ipsec_accel_gateway_dropped_packets_total counter\n";
  for (size_t r = 1; r < d.drop_reasons.size(); ++r) {
    text += "ipsec_accel_gateway_dropped_packets_total{reason=\"" +
            std::string(sa::DropReasonName(static_cast<sa::DropReason>(r))) + "\"} " + std::to_string(d.drop_reasons[r]) +
            "\n";
  }
  if (Status st = runtime::WriteFileAtomically(options_.metrics_file, text); !st.ok()) {
    Log(LogLevel::kWarning, "metrics file: " + st.message());
  }
}

void IkeDaemon::StartConfigured() {
  for (const std::string& s : loaded_.start) {
    auto slash = s.find('/');
    std::string conn = s.substr(0, slash), child = s.substr(slash + 1);
    if (IkeSa* sa = manager_->FindByConnection(conn)) {
      (void)sa->CreateChild(child);
    } else {
      auto r = manager_->Initiate(conn, child);
      if (!r.ok()) Log(LogLevel::kError, "start " + s + ": " + r.status().message());
    }
  }
}

Status IkeDaemon::OpenSockets() {
  for (uint16_t port : {options_.ike_port, options_.natt_port}) {
    for (bool v6 : {false, true}) {
      auto sock = std::make_unique<udp::socket>(io_);
      boost::system::error_code ec;
      sock->open(v6 ? udp::v6() : udp::v4(), ec);
      if (ec) {
        if (v6) continue;
        return UnavailableError("socket: " + ec.message());
      }
      int one = 1;
      if (v6) {
        ::setsockopt(sock->native_handle(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        ::setsockopt(sock->native_handle(), IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
      } else {
        ::setsockopt(sock->native_handle(), IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
      }
      sock->set_option(asio::socket_base::reuse_address(true));
      sock->bind(udp::endpoint(v6 ? asio::ip::address(asio::ip::address_v6::any())
                                  : asio::ip::address(asio::ip::address_v4::any()),
                               port),
                 ec);
      if (ec) {
        if (v6) continue;  // no IPv6 in this namespace
        return UnavailableError("bind UDP " + std::to_string(port) + ": " + ec.message());
      }
      sock->non_blocking(true);
      bool gro = false;
      if (card_dp_ && port == options_.natt_port) {
        // The ESP socket: room for bursts (4 MiB each way; the FORCE variants pass the sysctl
        // limits when we have CAP_NET_ADMIN) and, unless turned off, UDP GRO.
        const int bytes = 4 << 20;
        const int fd = sock->native_handle();
        if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) {
          ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
        }
        if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0) {
          ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
        }
        gro = options_.udp_offload && ::setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one) == 0;
        if (gro && gro_staging_.empty()) gro_staging_.resize(kGroBufs * kGroBufBytes);
      }
      if (port == options_.natt_port) {
        // The outer DSCP/ECN byte of each datagram, for RFC 6040 decapsulation (card or software).
        const int fd = sock->native_handle();
        if (v6) {
          ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof one);
        } else {
          ::setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &one, sizeof one);
        }
      }
      sockets_.push_back(Socket{std::move(sock), port, v6, gro});
    }
  }
  for (size_t i = 0; i < sockets_.size(); ++i) ArmUdp(static_cast<int>(i));
  return OkStatus();
}

void IkeDaemon::ArmUdp(int index) {
  sockets_[index].sock->async_wait(udp::socket::wait_read, [this, index](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    OnUdpReadable(index);
    ArmUdp(index);
  });
}

void IkeDaemon::OnUdpReadable(int index) {
  Socket& s = sockets_[index];
  if (card_dp_ && s.port == options_.natt_port) {
    CardUdpReadable(index);
    return;
  }
  for (int n = 0; n < 64; ++n) {
    sockaddr_storage from{};
    iovec iov{buffer_.data() + kHeadroom, buffer_.size() - kHeadroom - 64};
    alignas(cmsghdr) char control[256];
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t len = ::recvmsg(s.sock->native_handle(), &msg, 0);
    if (len < 0) break;  // EAGAIN: drained
    Endpoint remote;
    remote.addr = FromSockaddr(from, &remote.port);
    Endpoint local{sa::IpAddress{}, s.port};
    local.addr.v6 = s.v6;
    const RecvMeta meta = ReadRecvMeta(msg, &local);
    Bytes data(buffer_.data() + kHeadroom, static_cast<size_t>(len));
    if (s.port == options_.natt_port) {
      if (IsNatKeepalive(data)) continue;
      if (HasNonEspMarker(data)) {
        auto ike = StripNonEspMarker(data);
        if (ike.ok()) manager_->Receive(local, remote, *ike);
        continue;
      }
      // ESP in UDP.
      PacketBuf pkt{buffer_.data(), static_cast<uint32_t>(buffer_.size()), kHeadroom, static_cast<uint32_t>(len)};
      if (data_plane_->Inbound(pkt, remote, local, meta.tos) && tun_) {
        (void)::write(tun_->native_handle(), pkt.data(), pkt.length);
      }
      continue;
    }
    manager_->Receive(local, remote, data);
  }
  CheckWaiters();
  ArmTimer();
}

Status IkeDaemon::OpenTun() {
  int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return UnavailableError("open /dev/net/tun: " + std::string(std::strerror(errno)));
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  // With the card data plane the TUN device hands over TCP in up to 64 KiB pieces (TSO) and leaves
  // checksums to us: one read per piece instead of one per packet; SegmentOffloaded cuts them.
  if (card_dp_ && options_.tun_offload) ifr.ifr_flags |= IFF_VNET_HDR;
  std::strncpy(ifr.ifr_name, options_.tun_name.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int e = errno;
    ::close(fd);
    return UnavailableError("TUNSETIFF " + options_.tun_name + ": " + std::strerror(e));
  }
  if (ifr.ifr_flags & IFF_VNET_HDR) {
    int hdr = static_cast<int>(VnetHdr::kBytes);
    const unsigned offload = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
    if (::ioctl(fd, TUNSETVNETHDRSZ, &hdr) == 0 && ::ioctl(fd, TUNSETOFFLOAD, offload) == 0) {
      tun_vnet_ = true;
    } else {
      Log(LogLevel::kWarning, "TUN offloads refused (" + std::string(std::strerror(errno)) + "): one packet per read");
      ::ioctl(fd, TUNSETOFFLOAD, 0u);
      tun_vnet_ = true;  // the header is still there, without offloads
    }
    tun_staging_.resize(VnetHdr::kBytes + 65536 + 256);
  }
  int ctl = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (ctl >= 0) {
    ifreq up{};
    std::strncpy(up.ifr_name, options_.tun_name.c_str(), IFNAMSIZ - 1);
    up.ifr_mtu = options_.tun_mtu;
    ::ioctl(ctl, SIOCSIFMTU, &up);
    if (::ioctl(ctl, SIOCGIFFLAGS, &up) == 0) {
      up.ifr_flags |= IFF_UP;
      ::ioctl(ctl, SIOCSIFFLAGS, &up);
    }
    ::close(ctl);
  }
  tun_ = std::make_unique<asio::posix::stream_descriptor>(io_, fd);
  ArmTun();
  Log(LogLevel::kInfo, "data path on TUN device " + options_.tun_name);
  return OkStatus();
}

void IkeDaemon::ArmTun() {
  tun_->async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    OnTunReadable();
    ArmTun();
  });
}

void IkeDaemon::OnTunReadable() {
  if (card_dp_) {
    CardTunReadable();
    return;
  }
  for (int n = 0; n < 64; ++n) {
    ssize_t len = ::read(tun_->native_handle(), buffer_.data() + kHeadroom, buffer_.size() - kHeadroom - 128);
    if (len <= 0) return;
    PacketBuf pkt{buffer_.data(), static_cast<uint32_t>(buffer_.size()), kHeadroom, static_cast<uint32_t>(len)};
    Endpoint to;
    uint8_t tos = 0;
    if (!data_plane_->Outbound(pkt, &to, &tos)) continue;
    transport_->SendRaw(Endpoint{sa::IpAddress{.v6 = to.addr.v6, .bytes = {}}, options_.natt_port}, to,
                        Bytes(pkt.data(), pkt.length), options_.natt_port, tos);
  }
}

void IkeDaemon::ArmTimer() {
  if (stopping_) return;
  TimePoint next = manager_->NextDeadline();
  TimePoint now = SystemClock().Now();
  auto wait = next <= now ? std::chrono::steady_clock::duration::zero()
                          : std::min<std::chrono::steady_clock::duration>(next - now, std::chrono::seconds(1));
  timer_.expires_after(wait);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    manager_->OnTimer();
    CheckWaiters();
    ArmTimer();
  });
}

void IkeDaemon::ArmKeepalive() {
  // RFC 3948 §2.3: a NAT keepalive every 20 s on SAs that use UDP encapsulation.
  keepalive_timer_.expires_after(std::chrono::seconds(20));
  keepalive_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    std::byte ka[1] = {std::byte{0xff}};
    for (const IkeSaStatus& s : manager_->List()) {
      if (s.state == IkeSaState::kEstablished && s.nat_detected) transport_->SendRaw(s.local, s.remote, ka, options_.natt_port);
    }
    ArmKeepalive();
  });
}

Status IkeDaemon::OpenControl() {
  ::unlink(options_.control_path.c_str());
  using asio::local::stream_protocol;
  control_ = std::make_unique<stream_protocol::acceptor>(io_);
  boost::system::error_code ec;
  control_->open(stream_protocol(), ec);
  if (!ec) control_->bind(stream_protocol::endpoint(options_.control_path), ec);
  if (!ec) control_->listen(8, ec);
  if (ec) return UnavailableError("control socket " + options_.control_path + ": " + ec.message());
  ::chmod(options_.control_path.c_str(), 0600);
  AcceptControl();
  return OkStatus();
}

void IkeDaemon::AcceptControl() {
  control_->async_accept([this](const boost::system::error_code& ec, asio::local::stream_protocol::socket sock) {
    if (ec || stopping_) return;
    auto s = std::make_shared<asio::local::stream_protocol::socket>(std::move(sock));
    auto buf = std::make_shared<asio::streambuf>(4096);
    asio::async_read_until(*s, *buf, '\n', [this, s, buf](const boost::system::error_code& rec, size_t) {
      if (rec && rec != asio::error::eof) return;
      std::istream in(buf.get());
      std::string line;
      std::getline(in, line);
      bool wait = line.find(" --wait") != std::string::npos;
      if (wait) line.erase(line.find(" --wait"), 7);
      std::string text = Control(line);
      if (wait && text.find("\"ok\":true") != std::string::npos &&
          (line.rfind("initiate ", 0) == 0 || line.rfind("terminate ", 0) == 0)) {
        Waiter w;
        w.sock = s;
        w.establish = line.rfind("initiate ", 0) == 0;
        if (w.establish) {
          auto j = nlohmann::json::parse(text, nullptr, false);
          w.ike_id = j.is_object() ? j.value("id", uint64_t{0}) : 0;
        } else {
          w.ike_id = std::stoull(line.substr(10));
        }
        w.started = SystemClock().Now();
        w.deadline = w.started + std::chrono::seconds(15);
        waiters_.push_back(std::move(w));
        CheckWaiters();
      } else {
        Reply(s, std::move(text));
      }
      ArmTimer();
    });
    AcceptControl();
  });
}

void IkeDaemon::Reply(const std::shared_ptr<asio::local::stream_protocol::socket>& sock, std::string text) {
  auto reply = std::make_shared<std::string>(std::move(text) + "\n");
  asio::async_write(*sock, asio::buffer(*reply), [sock, reply](const boost::system::error_code&, size_t) {});
}

void IkeDaemon::CheckWaiters() {
  TimePoint now = SystemClock().Now();
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    IkeSa* sa = manager_->Find(it->ike_id);
    bool done = false;
    nlohmann::json j;
    auto ms = std::chrono::duration<double, std::milli>(now - it->started).count();
    if (it->establish) {
      if (sa && sa->state() == IkeSaState::kEstablished && !sa->children().empty()) {
        j = {{"ok", true}, {"id", it->ike_id}, {"ms", ms}};
        done = true;
      } else if (!sa || sa->state() == IkeSaState::kDead) {
        j = {{"ok", false}, {"error", "IKE SA failed (see the daemon log)"}, {"ms", ms}};
        done = true;
      } else if (sa->state() == IkeSaState::kEstablished && sa->children().empty() && !sa->HasPendingWork()) {
        j = {{"ok", false}, {"error", "IKE SA up but its CHILD_SA failed"}, {"id", it->ike_id}, {"ms", ms}};
        done = true;
      }
    } else if (!sa) {
      j = {{"ok", true}, {"ms", ms}};
      done = true;
    }
    if (!done && now >= it->deadline) {
      j = {{"ok", false}, {"error", "timeout"}, {"ms", ms}};
      done = true;
    }
    if (done) {
      Reply(it->sock, j.dump());
      it = waiters_.erase(it);
    } else {
      ++it;
    }
  }
}

Status IkeDaemon::Reload() {
  ASSIGN_OR_RETURN(LoadedConfig fresh, LoadDaemonConfig(options_.config_path, true, options_.retransmit));
  // The credentials object is referenced by live SAs through the context: swap its contents.
  *credentials_ = std::move(*fresh.credentials);
  loaded_.peers = fresh.peers;
  loaded_.start = fresh.start;
  manager_->SetConfigs(fresh.peers);
  Log(LogLevel::kInfo, "configuration reloaded: " + std::to_string(fresh.peers.size()) + " connection(s)");
  return OkStatus();
}

std::string IkeDaemon::Control(std::string_view line) {
  using nlohmann::json;
  std::vector<std::string> args;
  {
    std::string cur;
    for (char c : line) {
      if (c == ' ' || c == '\t' || c == '\r') {
        if (!cur.empty()) args.push_back(std::move(cur));
        cur.clear();
      } else {
        cur += c;
      }
    }
    if (!cur.empty()) args.push_back(cur);
  }
  auto error = [](const std::string& m) { return json{{"ok", false}, {"error", m}}.dump(); };
  auto ok = [](json extra = json::object()) {
    extra["ok"] = true;
    return extra.dump();
  };
  auto result = [&](const Status& st) { return st.ok() ? ok() : error(st.message()); };
  auto number = [&](size_t i, uint64_t* v) {
    if (args.size() <= i) return false;
    try {
      *v = std::stoull(args[i]);
      return true;
    } catch (...) {
      return false;
    }
  };
  if (args.empty()) return error("empty command");
  const std::string& cmd = args[0];
  uint64_t id = 0;
  if (cmd == "list") {
    json sas = json::array();
    for (const IkeSaStatus& s : manager_->List()) {
      json j{{"id", s.unique_id},
             {"connection", s.connection},
             {"state", std::string(IkeSaStateName(s.state))},
             {"initiator", s.initiator},
             {"spi_i", Hex64(s.spi_i)},
             {"spi_r", Hex64(s.spi_r)},
             {"local", s.local.ToString()},
             {"remote", s.remote.ToString()},
             {"local_id", s.local_id},
             {"remote_id", s.remote_id},
             {"algorithms", s.algorithms},
             {"nat", s.nat_detected},
             {"fragments_in", s.fragments_in},
             {"fragments_out", s.fragments_out},
             {"retransmits", s.retransmits},
             {"established_s", s.established_seconds},
             {"rekey_in_s", s.rekey_in_seconds}};
      json children = json::array();
      for (const auto& c : s.children) {
        children.push_back(json{{"id", c.info.unique_id},
                                {"name", c.info.child},
                                {"state", std::string(ChildSaStateName(c.state))},
                                {"protocol", std::string(sa::ProtocolName(c.info.protocol))},
                                {"mode", std::string(sa::ModeName(c.info.mode))},
                                {"spi_in", Hex32(c.info.spi_in)},
                                {"spi_out", Hex32(c.info.spi_out)},
                                {"algorithms", c.algorithms},
                                {"encap", c.info.udp_encap},
                                {"local_ts", DescribeTs(c.info.local_ts)},
                                {"remote_ts", DescribeTs(c.info.remote_ts)},
                                {"bytes_in", c.counters.bytes_in},
                                {"packets_in", c.counters.packets_in},
                                {"bytes_out", c.counters.bytes_out},
                                {"packets_out", c.counters.packets_out},
                                {"installed_s", c.installed_seconds},
                                {"rekey_in_s", c.rekey_in_seconds},
                                {"expire_in_s", c.expire_in_seconds}});
      }
      j["children"] = std::move(children);
      sas.push_back(std::move(j));
    }
    return ok(json{{"sas", sas}});
  }
  if (cmd == "initiate" && args.size() >= 2) {
    auto r = manager_->Initiate(args[1], args.size() >= 3 ? args[2] : "");
    return r.ok() ? ok(json{{"id", *r}}) : error(r.status().message());
  }
  if (cmd == "terminate" && number(1, &id)) return result(manager_->Terminate(id));
  if (cmd == "rekey" && number(1, &id)) return result(manager_->RekeyIke(id));
  if (cmd == "rekey-child" && number(1, &id)) return result(manager_->RekeyChild(static_cast<uint32_t>(id)));
  if (cmd == "terminate-child" && number(1, &id)) return result(manager_->TerminateChild(static_cast<uint32_t>(id)));
  if (cmd == "dpd" && number(1, &id)) {
    IkeSa* sa = manager_->Find(id);
    if (!sa) return error("no IKE SA " + std::to_string(id));
    sa->SendDpd();
    return ok();
  }
  if (cmd == "reload") return result(Reload());
  // The card and its runtime (docs/control.md): accel-cardctl --control <socket> card ...
  if (cmd == "card") {
    if (!runtime_) return error("no card: accel-iked runs the software data plane (start it with --device)");
    return runtime::HandleControlCommand(*runtime_, line);
  }
  if (cmd == "stats") {
    const ManagerCounters& m = manager_->counters();
    json data_path;
    if (data_plane_) {
      const DataPathCounters& d = data_plane_->counters();
      data_path = {{"engine", "software"},
                   {"children", data_plane_->size()},
                   {"tun_in", d.tun_in},
                   {"no_policy", d.no_policy},
                   {"encrypted", d.encrypted},
                   {"encrypt_failed", d.encrypt_failed},
                   {"esp_in", d.esp_in},
                   {"decrypted", d.decrypted},
                   {"decrypt_failed", d.decrypt_failed},
                   {"policy_violations", d.policy_violations}};
    } else {
      const CardDataPathCounters& d = card_dp_->counters();
      json drops = json::object();
      for (size_t r = 1; r < d.drop_reasons.size(); ++r) {
        if (d.drop_reasons[r] != 0) drops[std::string(sa::DropReasonName(static_cast<sa::DropReason>(r)))] = d.drop_reasons[r];
      }
      data_path = {{"engine", runtime_->has_card() ? "card" : "runtime-software"},
                   {"device", options_.device},
                   {"card_up", runtime_->card_up()},
                   {"children", card_dp_->size()},
                   {"tun_in", d.tun_in},
                   {"esp_in", d.esp_in},
                   {"encrypted", d.encrypted},
                   {"decrypted", d.decrypted},
                   {"no_policy", d.no_policy},
                   {"no_sa", d.no_sa},
                   {"dropped", d.dropped},
                   {"drop_reasons", drops},
                   {"policy_violations", d.policy_violations},
                   {"device_errors", d.device_errors},
                   {"no_buffer", d.no_buffer},
                   {"bad_input", d.bad_input},
                   {"via_card", d.card},
                   {"via_host", d.host},
                   {"in_flight", card_dp_->in_flight()},
                   {"free_buffers", card_dp_->free_buffers()},
                   {"sendmmsg_calls", card_sink_->sendmmsg_calls},
                   {"udp_gso_messages", card_sink_->gso_messages},
                   {"udp_gso", card_sink_->gso},
                   {"udp_gro_reads", gro_reads_},
                   {"tun_writes", card_sink_->tun_writes},
                   {"tun_gro_writes", card_sink_->coalescer().coalesced_writes()},
                   {"tun_gro_segments", card_sink_->coalescer().coalesced_segments()},
                   {"tun_bad_tcp_checksums", card_sink_->coalescer().bad_checksums()},
                   {"datagrams_sent", card_sink_->datagrams_sent},
                   {"esp_send_errors", card_sink_->send_errors},
                   {"tun_write_errors", card_sink_->tun_write_errors},
                   {"tun_offload", tun_vnet_},
                   {"tun_tso_reads", tun_super_reads_},
                   {"tun_offload_drops", tun_offload_drops_}};
    }
    return ok(json{{"ike",
                    {{"sas", manager_->size()},
                     {"half_open", manager_->half_open()},
                     {"datagrams", m.datagrams},
                     {"undecodable", m.undecodable},
                     {"unknown_spi", m.unknown_spi},
                     {"cookies_sent", m.cookies_sent},
                     {"cookies_valid", m.cookies_valid},
                     {"init_dropped", m.init_dropped},
                     {"no_config", m.no_config},
                     {"created", m.ike_created},
                     {"destroyed", m.ike_destroyed}}},
                   {"data_path", data_path},
                   {"send_errors", transport_->send_errors}});
  }
  return error("unknown command '" + cmd +
               "' (list, initiate <conn> [child], terminate <id>, terminate-child <id>, rekey <id>, "
               "rekey-child <id>, dpd <id>, reload, stats, card ... with --device)");
}

void IkeDaemon::Stop() {
  if (stopping_) return;
  manager_->DeleteAll();
  // Give the DELETEs a moment to be answered, then close.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  while (manager_->size() > 0 && std::chrono::steady_clock::now() < deadline) {
    io_.run_for(std::chrono::milliseconds(20));
  }
  stopping_ = true;
  manager_->DestroyAll();
  timer_.cancel();
  keepalive_timer_.cancel();
  service_timer_.cancel();
  for (auto& s : sockets_) s.sock->close();
  if (tun_) tun_->close();
  if (control_) control_->close();
  ::unlink(options_.control_path.c_str());
  Log(LogLevel::kInfo, "accel-iked stopped");
}

}  // namespace ipsec::ike
