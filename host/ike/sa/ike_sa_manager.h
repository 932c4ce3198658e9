// IkeSaManager: all IKE SAs of the daemon. Routes datagrams by SPI, creates responder SAs for new
// IKE_SA_INIT requests (after the configs that match the addresses), answers retransmitted
// IKE_SA_INIT requests from the half-open SA's cache, and protects itself against floods: above
// `cookie_threshold` half-open SAs it demands cookies (RFC 7296 §2.6) and keeps no state for a
// request without a valid one; above `max_half_open` it drops new requests outright. Memory is
// therefore bounded by max_half_open half-open SAs whatever the request rate.
//
// Thread safety: none; driven by one event loop.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "host/ike/sa/ike_env.h"
#include "host/ike/sa/ike_sa.h"
#include "host/ike/sa/peer_config.h"

namespace ipsec::ike {

struct ManagerOptions {
  size_t cookie_threshold = 30;             // half-open SAs before cookies are required
  size_t max_half_open = 1000;              // hard cap on half-open SAs
  Seconds cookie_secret_lifetime{120};      // the secret rotates; the previous one stays valid
  bool always_require_cookie = false;       // for tests
};

struct ManagerCounters {
  uint64_t datagrams = 0;
  uint64_t undecodable = 0;
  uint64_t unknown_spi = 0;
  uint64_t cookies_sent = 0;
  uint64_t cookies_valid = 0;
  uint64_t cookies_invalid = 0;
  uint64_t init_dropped = 0;   // over max_half_open
  uint64_t no_config = 0;      // IKE_SA_INIT matching no connection
  uint64_t ike_created = 0;
  uint64_t ike_destroyed = 0;
};

class IkeSaManager {
 public:
  IkeSaManager(IkeContext& ctx, ManagerOptions options = {});
  ~IkeSaManager();

  // Replaces the configuration. Established SAs keep the config they were made with (shared),
  // so reloading never drops a tunnel.
  void SetConfigs(std::vector<std::shared_ptr<const PeerConfig>> configs);
  const std::vector<std::shared_ptr<const PeerConfig>>& configs() const { return configs_; }

  void Receive(const Endpoint& local, const Endpoint& remote, Bytes datagram);
  void OnTimer();
  TimePoint NextDeadline() const;

  // Starts connection `name` with child `child` (empty: the first child). Returns the IKE SA id.
  StatusOr<uint64_t> Initiate(std::string_view name, std::string_view child = {});
  // An initiator IKE SA for connection `name` with nothing queued: the caller queues its own tasks
  // (IkeSa::Queue). Initiate() is this plus IKE_SA_INIT and IKE_AUTH.
  StatusOr<IkeSa*> CreateInitiatorSa(std::string_view name);
  Status Terminate(uint64_t ike_id);
  Status RekeyIke(uint64_t ike_id);
  Status RekeyChild(uint32_t child_id);
  Status TerminateChild(uint32_t child_id);
  // Deletes every IKE SA (sends DELETEs); `Destroy` drops them without a word.
  void DeleteAll();
  void DestroyAll();

  IkeSa* Find(uint64_t ike_id);
  IkeSa* FindByConnection(std::string_view name);
  std::vector<IkeSaStatus> List() const;
  const ManagerCounters& counters() const { return counters_; }
  size_t size() const { return sas_.size(); }
  size_t half_open() const;

 private:
  void Add(std::unique_ptr<IkeSa> sa);
  void Sweep();
  void HandleInit(const Endpoint& local, const Endpoint& remote, Bytes datagram, const IkeHeader& h);
  void SendStateless(const Endpoint& local, const Endpoint& remote, const IkeHeader& request, NotifyType type,
                     Bytes data);
  std::array<std::byte, 17> MakeCookie(uint8_t version, Bytes ni, const sa::IpAddress& ip, uint64_t spi_i) const;
  bool CheckCookie(Bytes cookie, Bytes ni, const sa::IpAddress& ip, uint64_t spi_i) const;
  void RotateCookieSecret();
  uint64_t RandomSpi();

  IkeContext& ctx_;
  ManagerOptions options_;
  std::vector<std::shared_ptr<const PeerConfig>> configs_;
  std::map<uint64_t, std::unique_ptr<IkeSa>> sas_;
  std::unordered_map<uint64_t, uint64_t> by_local_spi_;
  std::map<std::pair<uint64_t, std::string>, uint64_t> half_open_by_init_;
  std::vector<std::unique_ptr<IkeSa>> adopted_;
  uint64_t next_ike_id_ = 1;
  uint32_t next_child_id_ = 1;
  std::array<std::byte, 32> secret_{};
  std::array<std::byte, 32> previous_secret_{};
  uint8_t secret_version_ = 0;
  TimePoint secret_expires_{};
  ManagerCounters counters_;
};

}  // namespace ipsec::ike
