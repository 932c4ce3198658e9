// IkeSa: one IKE SA (RFC 7296) with its CHILD_SAs, and the task manager that drives its exchanges.
//
// Structure after strongSwan's: each exchange is a Task (tasks.h) with a build and a process step
// per role; the IkeSa owns message IDs, the one outstanding request (window size 1, §2.3), its
// retransmission with exponential back-off, the cache of the last response (a retransmitted
// request is answered from it, never processed twice), SK protection and IKE fragmentation
// (RFC 7383). Everything external comes in through IkeContext: time, randomness, the transport,
// credentials and the data plane. Nothing here blocks or spawns threads; the owner calls
// Receive() for datagrams and OnTimer() at NextDeadline().
//
// Key handling: SK_* keys live in SecureBytes (wiped on destruction), never in logs; CHILD_SA keys
// are handed to the data plane and not kept.
//
// Thread safety: none; one IkeSa is driven by one thread (the daemon's event loop).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host/ike/crypto/key_derivation.h"
#include "host/ike/crypto/key_exchange.h"
#include "host/ike/crypto/prf.h"
#include "host/ike/crypto/sk_cipher.h"
#include "host/ike/encoding/message.h"
#include "host/ike/sa/ike_env.h"
#include "host/ike/sa/peer_config.h"
#include "host/ike/sa/proposal.h"

namespace ipsec::ike {

class Task;
class IkeSaManager;

enum class IkeSaState : uint8_t {
  kConnecting,   // IKE_SA_INIT / IKE_AUTH in progress
  kEstablished,
  kRekeyed,      // superseded by a rekeyed IKE SA; waiting for its deletion
  kDeleting,     // our DELETE is outstanding
  kDead,         // gone; the manager drops it
};
std::string_view IkeSaStateName(IkeSaState s);

enum class ChildSaState : uint8_t {
  kInstalled,
  kRekeying,   // our CREATE_CHILD_SA rekey is outstanding
  kRekeyed,    // replaced by a new CHILD_SA; waiting for the DELETE of this one
  kDeleting,   // our DELETE is outstanding
};
std::string_view ChildSaStateName(ChildSaState s);

struct ChildSa {
  ChildSaInfo info;
  const ChildConfig* config = nullptr;  // in the IKE SA's PeerConfig
  ChildSaState state = ChildSaState::kInstalled;
  TimePoint installed_at{};
  TimePoint rekey_at = TimePoint::max();
  TimePoint expire_at = TimePoint::max();
  Proposal proposal;  // as accepted (for the control tool)
  // Rekey collision bookkeeping (§2.8.1): when the peer rekeyed this child while our own rekey was
  // outstanding, the child the peer created and the lowest nonce of its exchange.
  uint32_t peer_rekey_child = 0;
  std::vector<std::byte> peer_rekey_min_nonce;
};

// A snapshot for the control tool.
struct IkeSaStatus {
  uint64_t unique_id = 0;
  std::string connection;
  IkeSaState state = IkeSaState::kConnecting;
  bool initiator = false;
  uint64_t spi_i = 0, spi_r = 0;
  Endpoint local, remote;
  std::string local_id, remote_id;
  std::string algorithms;
  bool nat_detected = false;
  uint64_t fragments_in = 0, fragments_out = 0, retransmits = 0;
  int64_t established_seconds = -1;
  int64_t rekey_in_seconds = -1;
  struct Child {
    ChildSaInfo info;
    ChildSaState state;
    std::string algorithms;
    ChildSaCounters counters;
    int64_t installed_seconds = 0;
    int64_t rekey_in_seconds = -1;
    int64_t expire_in_seconds = -1;
  };
  std::vector<Child> children;
};

struct IkeSaCounters {
  uint64_t requests_in = 0, responses_in = 0, requests_out = 0, responses_out = 0;
  uint64_t retransmits = 0, retransmitted_requests_answered = 0;
  uint64_t invalid = 0;  // undecodable, failed integrity, unexpected message ID
  uint64_t fragments_in = 0, fragments_out = 0;
};

class IkeSa {
 public:
  // Original initiator for `config`, towards `remote`, with a fresh SPI.
  static std::unique_ptr<IkeSa> CreateInitiator(IkeContext& ctx, uint64_t unique_id,
                                                std::shared_ptr<const PeerConfig> config, Endpoint local,
                                                Endpoint remote, uint64_t spi_i);
  // Responder for an IKE_SA_INIT request, before the peer config is known: `candidates` are the
  // configs that match the addresses (IKE_AUTH picks one by identity).
  static std::unique_ptr<IkeSa> CreateResponder(IkeContext& ctx, uint64_t unique_id,
                                                std::vector<std::shared_ptr<const PeerConfig>> candidates,
                                                Endpoint local, Endpoint remote, uint64_t spi_i, uint64_t spi_r);
  ~IkeSa();
  IkeSa(const IkeSa&) = delete;
  IkeSa& operator=(const IkeSa&) = delete;

  uint64_t unique_id() const { return unique_id_; }
  uint64_t spi_i() const { return spi_i_; }
  uint64_t spi_r() const { return spi_r_; }
  // The SPI we chose (spi_i as original initiator, spi_r as responder).
  uint64_t local_spi() const { return initiator_ ? spi_i_ : spi_r_; }
  bool is_initiator() const { return initiator_; }
  IkeSaState state() const { return state_; }
  const PeerConfig* config() const { return config_.get(); }
  const Endpoint& local() const { return local_; }
  const Endpoint& remote() const { return remote_; }
  const std::deque<ChildSa>& children() const { return children_; }
  const IkeSaCounters& counters() const { return counters_; }
  bool nat_detected() const { return nat_local_ || nat_remote_ || force_encap_; }
  RandomSource& random() { return ctx_.random; }

  // Handles one received IKE message (non-ESP marker already removed) that the manager routed here.
  void Receive(const Endpoint& local, const Endpoint& remote, Bytes datagram);
  // Runs due timers (retransmits, rekeys, expiry, DPD) and starts queued exchanges.
  void OnTimer();
  TimePoint NextDeadline() const;

  // Operations; each queues a task and starts it when the window allows.
  // Starts IKE_SA_INIT + IKE_AUTH with `first_child` (may be null: childless).
  void Initiate(const ChildConfig* first_child);
  Status CreateChild(const std::string& child_name);
  Status RekeyChild(uint32_t child_unique_id);
  Status DeleteChild(uint32_t child_unique_id);
  void Rekey();
  void Delete();
  void SendDpd();
  // Removes everything at once without telling the peer (daemon shutdown or a dead peer).
  void Destroy(std::string_view reason);
  // Queues any task (tasks.h) and starts it when the window allows: the extension point for
  // exchanges beyond the built-in operations, and how the engine fuzzer sends crafted requests.
  void Queue(std::unique_ptr<Task> task);

  IkeSaStatus Snapshot() const;
  // An exchange is outstanding or queued.
  bool HasPendingWork() const { return active_ != nullptr || !queue_.empty(); }

  // Set by the manager: a rekeyed IKE SA replacing this one, to be owned and indexed by it.
  std::function<void(std::unique_ptr<IkeSa>)> adopt;
  // Set by the manager: numbering for CHILD_SAs across the daemon.
  std::function<uint32_t()> next_child_id;
  // Set by the manager: numbering for IKE SAs (a rekey creates a new one).
  std::function<uint64_t()> next_ike_id;

 private:
  friend class Task;
  friend class IkeInitTask;
  friend class IkeAuthTask;
  friend class ChildCreateTask;
  friend class IkeRekeyTask;
  friend class InformationalTask;
  friend class IkeSaManager;

  IkeSa(IkeContext& ctx, uint64_t unique_id, bool initiator, Endpoint local, Endpoint remote, uint64_t spi_i,
        uint64_t spi_r);

  // Logging with the SA's name and ids; never pass key material.
  void Log(LogLevel level, const std::string& text) const;
  // An authenticated message came from `remote` to `local`: with NAT, follow the peer's mapping
  // (and, on requests, our own address), children's SAs included (§2.23).
  void FollowEndpoints(const Endpoint& local, const Endpoint& remote, bool update_local);
  TimePoint Now() const { return ctx_.clock.Now(); }

  // Message layer.
  void HandleRequest(const IkeHeader& h, Bytes raw, std::vector<Payload> payloads);
  void HandleResponse(const IkeHeader& h, Bytes raw, std::vector<Payload> payloads);
  // Decodes; for protected exchanges decrypts SK or collects SKF fragments. Returns nullopt when
  // the message is dropped (counted) or still incomplete.
  std::optional<std::vector<Payload>> Unprotect(const IkeHeader& h, const Message& m, Bytes raw);
  StatusOr<std::vector<std::vector<std::byte>>> Protect(const IkeHeader& h, const std::vector<Payload>& inner);
  IkeHeader MakeHeader(ExchangeType exchange, bool response, uint32_t message_id) const;
  void SendPackets(const std::vector<std::vector<std::byte>>& packets);
  void StartNextTask();
  void SendActiveRequest();
  void FinishActive();
  void Respond(const IkeHeader& request, std::vector<Payload> payloads);
  void RespondError(const IkeHeader& request, NotifyType type, Bytes data = {});

  // Responder handlers, one per exchange (implemented beside the matching task).
  void RespondIkeSaInit(const IkeHeader& h, Bytes raw, const std::vector<Payload>& in);
  void RespondIkeAuth(const IkeHeader& h, const std::vector<Payload>& in);
  void RespondCreateChildSa(const IkeHeader& h, const std::vector<Payload>& in);
  void RespondIkeRekey(const IkeHeader& h, const std::vector<Payload>& in);
  void RespondInformational(const IkeHeader& h, const std::vector<Payload>& in);

  // Key schedule after a successful IKE_SA_INIT (or rekey): fills prf_, keys_, SK ciphers.
  Status SetupKeys(const Proposal& accepted, Bytes skeyseed, Bytes ni, Bytes nr);
  // AUTH payload helpers (§2.15).
  StatusOr<std::vector<std::byte>> SignedOctets(bool for_initiator, Bytes real_message, Bytes peer_nonce,
                                                const IdPayload& id) const;
  StatusOr<AuthPayload> BuildAuth(bool as_initiator, const IdPayload& our_id, const Identity& peer_id);
  Status VerifyAuth(bool peer_is_initiator, const AuthPayload& auth, const IdPayload& peer_id,
                    const std::vector<std::vector<std::byte>>& peer_certs, const PeerConfig& config);
  void NatDetect(const std::vector<Payload>& in, uint64_t spi_r_for_hash);
  std::vector<Payload> NatDetectionNotifies(uint64_t spi_r_for_hash);
  void FloatToNatT();
  // IKE rekey: a new IkeSa sharing our config and NAT state; then the children move to it.
  std::unique_ptr<IkeSa> SpawnRekeyed(bool we_initiated, uint64_t spi_i, uint64_t spi_r);
  void HandOver(std::unique_ptr<IkeSa> fresh);
  void Established();
  void ScheduleIkeRekey();

  // CHILD_SA helpers.
  Status InstallChild(ChildSa child, sa::KeyMaterial in, sa::KeyMaterial out);
  void RemoveChild(uint32_t unique_id, std::string_view reason);
  ChildSa* FindChild(uint32_t unique_id);
  ChildSa* FindChildByOutboundSpi(sa::Protocol p, uint32_t spi);
  ChildSa* FindChildByInboundSpi(sa::Protocol p, uint32_t spi);
  void ScheduleChild(ChildSa& c);
  TimePoint Jitter(TimePoint base, Seconds span, Seconds rand);

  bool HasTask(std::string_view name) const;

  IkeContext& ctx_;
  uint64_t unique_id_;
  bool initiator_;  // original initiator of this IKE SA
  Endpoint local_;
  Endpoint remote_;
  uint64_t spi_i_;
  uint64_t spi_r_;
  IkeSaState state_ = IkeSaState::kConnecting;
  std::shared_ptr<const PeerConfig> config_;
  std::vector<std::shared_ptr<const PeerConfig>> candidates_;
  TimePoint created_at_;
  TimePoint established_at_{};
  TimePoint rekey_at_ = TimePoint::max();
  TimePoint hard_delete_at_ = TimePoint::max();
  TimePoint last_inbound_{};
  TimePoint dpd_at_ = TimePoint::max();

  // Negotiated state.
  Proposal ike_proposal_;
  IkeAlgorithms algorithms_;
  std::optional<Prf> prf_;
  IkeSaKeys keys_;
  std::unique_ptr<SkCipher> sk_out_;
  std::unique_ptr<SkCipher> sk_in_;
  std::vector<std::byte> nonce_i_, nonce_r_;
  std::vector<std::byte> init_request_, init_response_;  // as sent/received, for AUTH
  bool nat_local_ = false, nat_remote_ = false, force_encap_ = false;
  bool peer_fragmentation_ = false;
  std::vector<HashAlgorithm> peer_hashes_;
  bool peer_sent_certreq_ = false;
  std::optional<IdPayload> peer_id_;
  std::optional<IdPayload> our_id_;

  // Exchanges.
  uint32_t next_request_mid_ = 0;   // message ID of our next request
  uint32_t expected_peer_mid_ = 0;  // message ID of the peer's next request
  std::unique_ptr<Task> active_;
  uint32_t active_mid_ = 0;
  std::vector<std::vector<std::byte>> active_packets_;
  uint32_t retransmit_count_ = 0;
  TimePoint retransmit_at_ = TimePoint::max();
  std::deque<std::unique_ptr<Task>> queue_;
  std::vector<std::vector<std::byte>> last_response_;
  uint32_t last_response_mid_ = 0;
  bool have_last_response_ = false;
  struct Reassembly {
    uint32_t message_id = 0;
    bool response = false;
    uint16_t total = 0;
    PayloadType first_inner = PayloadType::kNone;
    std::map<uint16_t, std::vector<std::byte>> parts;
    size_t bytes = 0;
  };
  std::optional<Reassembly> reassembly_;

  std::deque<ChildSa> children_;
  // IKE rekey collision (§2.8.1): the IKE SA the peer created by rekeying this one while our own
  // rekey was outstanding, and the lowest nonce of the peer's exchange. Resolved when our rekey
  // completes or fails.
  std::unique_ptr<IkeSa> collision_sa_;
  std::vector<std::byte> collision_min_nonce_;  // deque: references stay valid on push_back
  IkeSaCounters counters_;
};

}  // namespace ipsec::ike
