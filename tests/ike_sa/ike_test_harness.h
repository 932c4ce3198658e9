// Two IKE daemons in one process: each with its own manager, deterministic randomness, a shared
// fake clock, a recording data plane and PSK credentials. Datagrams are queued and delivered by
// Pump(), which can drop or duplicate them.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "host/ike/crypto/random_source.h"
#include "host/ike/sa/ike_sa_manager.h"

namespace ipsec::ike::testing {

class FakeClock final : public Clock {
 public:
  TimePoint Now() const override { return now; }
  void Advance(Millis d) { now += d; }
  TimePoint now = TimePoint{} + std::chrono::hours(1000);
};

struct Datagram {
  Endpoint from, to;
  std::vector<std::byte> bytes;
};

class QueueTransport final : public Transport {
 public:
  void Send(const Endpoint& local, const Endpoint& remote, Bytes d) override {
    sent.push_back({local, remote, {d.begin(), d.end()}});
    ++total;
  }
  std::deque<Datagram> sent;
  uint64_t total = 0;
};

struct Installed {
  ChildSaInfo info;
  sa::KeyMaterial in, out;
};

class RecordingDataPlane final : public DataPlane {
 public:
  explicit RecordingDataPlane(uint32_t base) : next_(base) {}
  StatusOr<uint32_t> AllocateSpi(sa::Protocol) override {
    ++allocated;
    return next_++;
  }
  void ReleaseSpi(sa::Protocol, uint32_t) override { ++released; }
  Status Install(const ChildSaInfo& info, sa::KeyMaterial in, sa::KeyMaterial out) override {
    if (fail_install) return InternalError("refused by test");
    RETURN_IF_ERROR(in.ValidateFor(info.suite));
    RETURN_IF_ERROR(out.ValidateFor(info.suite));
    sas[info.spi_in] = Installed{info, std::move(in), std::move(out)};
    ++installs;
    return OkStatus();
  }
  void Remove(const ChildSaInfo& info) override {
    if (sas.erase(info.spi_in)) ++removes;
  }
  void UpdateEndpoints(const ChildSaInfo& info) override {
    updates.push_back(info);
    if (auto it = sas.find(info.spi_in); it != sas.end()) it->second.info = info;
  }
  std::map<uint32_t, Installed> sas;  // by inbound SPI
  std::vector<ChildSaInfo> updates;
  int installs = 0, removes = 0, allocated = 0, released = 0;
  bool fail_install = false;

 private:
  uint32_t next_;
};

class PskCredentials final : public Credentials {
 public:
  StatusOr<SecureBytes> SharedSecret(const Identity&, IdType, Bytes peer) const override {
    auto it = secrets.find(std::string(reinterpret_cast<const char*>(peer.data()), peer.size()));
    if (it == secrets.end()) return NotFoundError("no PSK");
    return SecureBytes(AsBytes(it->second));
  }
  std::map<std::string, std::string> secrets;  // by the peer's identity text
};

struct Daemon {
  Daemon(FakeClock& clock, uint64_t seed, const std::string& ip, uint32_t spi_base)
      : random(CreateDeterministicRandomSourceForTest(seed)),
        data_plane(spi_base),
        ctx{clock, *random, transport, credentials, data_plane, {}, {}, {}},
        manager(ctx) {
    address = *sa::IpAddress::Parse(ip);
    ctx.log = [this](LogLevel, std::string_view line) { log.emplace_back(line); };
  }
  std::unique_ptr<RandomSource> random;
  QueueTransport transport;
  PskCredentials credentials;
  RecordingDataPlane data_plane;
  IkeContext ctx;
  IkeSaManager manager;
  sa::IpAddress address;
  std::vector<std::string> log;
};

// Delivers queued datagrams both ways until quiet (or `max` deliveries). `filter` returns false
// to drop a datagram.
inline int Pump(Daemon& a, Daemon& b, const std::function<bool(const Datagram&, bool a_to_b)>& filter = nullptr,
                int max = 1000) {
  int delivered = 0;
  while (delivered < max && (!a.transport.sent.empty() || !b.transport.sent.empty())) {
    for (int dir = 0; dir < 2; ++dir) {
      Daemon& from = dir == 0 ? a : b;
      Daemon& to = dir == 0 ? b : a;
      if (from.transport.sent.empty()) continue;
      Datagram d = std::move(from.transport.sent.front());
      from.transport.sent.pop_front();
      if (filter && !filter(d, dir == 0)) continue;
      to.manager.Receive(d.to, d.from, d.bytes);
      ++delivered;
    }
  }
  return delivered;
}

}  // namespace ipsec::ike::testing
