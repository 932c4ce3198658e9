// The world an IKE SA talks to, injected so that exchanges are deterministic under test: a clock,
// randomness, the datagram transport, the credential store and the data plane that CHILD_SAs are
// installed into. The daemon provides real implementations (Boost.Asio sockets, the software ESP
// path or the card runtime); tests provide fakes and pass messages by hand.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "host/common/bytes.h"
#include "host/common/secure_bytes.h"
#include "host/common/status.h"
#include "host/ike/crypto/random_source.h"
#include "host/ike/encoding/payloads/auth_payload.h"
#include "host/ike/encoding/payloads/id_payload.h"
#include "host/ike/encoding/payloads/ts_payload.h"
#include "host/ike/sa/peer_config.h"
#include "host/sa/sa_config.h"
#include "host/sa/suite.h"

namespace ipsec::ike {

using TimePoint = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

// The steady clock.
Clock& SystemClock();

struct Endpoint {
  sa::IpAddress addr;
  uint16_t port = 500;
  std::string ToString() const;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends one IKE message (without the non-ESP marker: the socket on port 4500 adds it) from
  // `local` to `remote`. Best effort, like UDP: losses are handled by retransmission.
  virtual void Send(const Endpoint& local, const Endpoint& remote, Bytes datagram) = 0;
};

// Certificates and keys for public-key authentication, and pre-shared keys. Implementations never
// log secrets.
class Credentials {
 public:
  virtual ~Credentials() = default;
  // The pre-shared key between `local` and the peer's identity. kNotFound when none is configured.
  virtual StatusOr<SecureBytes> SharedSecret(const Identity& local, IdType peer_type, Bytes peer_data) const = 0;
  // Our certificate chain for `local`, end entity first (DER). kNotFound without one.
  virtual StatusOr<std::vector<std::vector<std::byte>>> CertificateChain(const Identity& local) const;
  // Signs `signed_octets` with the private key of `local`'s certificate, choosing the method
  // (RFC 7427 when the peer announced hashes, else the classic one for the key type).
  virtual StatusOr<AuthPayload> Sign(const Identity& local, Bytes signed_octets,
                                     std::span<const HashAlgorithm> peer_hashes) const;
  // Verifies a signature AUTH payload: the peer's end-entity certificate (first of `peer_certs`,
  // or a configured one) chains to a trusted CA, matches the peer's identity, and its key verifies
  // the signature. `our_hashes` is what we announced in SIGNATURE_HASH_ALGORITHMS.
  virtual Status VerifySignature(const AuthPayload& auth, Bytes signed_octets,
                                 std::span<const std::vector<std::byte>> peer_certs, const IdPayload& peer_id,
                                 std::span<const HashAlgorithm> our_hashes) const;
  // CERTREQ contents: SHA-1 hashes of the trusted CAs' SubjectPublicKeyInfo, concatenated.
  virtual std::vector<std::byte> CertificateAuthorities() const { return {}; }
  // Hash algorithms we accept in RFC 7427 signatures (announced in IKE_SA_INIT).
  virtual std::vector<HashAlgorithm> SignatureHashes() const;
};

// Everything the data plane needs to know about one CHILD_SA pair.
struct ChildSaInfo {
  std::string connection;   // PeerConfig name
  std::string child;        // ChildConfig name
  uint32_t unique_id = 0;   // per daemon
  sa::Protocol protocol = sa::Protocol::kEsp;
  sa::Mode mode = sa::Mode::kTunnel;
  sa::Suite suite = sa::Suite::kAesGcm128;
  bool esn = false;
  DhGroup pfs_group = DhGroup::kNone;
  uint32_t spi_in = 0;      // ours: the peer sends with it
  uint32_t spi_out = 0;     // the peer's
  std::vector<TrafficSelector> local_ts;
  std::vector<TrafficSelector> remote_ts;
  Endpoint local;           // IKE endpoints; the ESP tunnel endpoints in tunnel mode
  Endpoint remote;
  bool udp_encap = false;   // ESP in UDP 4500 (RFC 3948): a NAT was detected or forced
  uint32_t replay_window = 32;
  sa::Lifetime lifetime;    // byte/packet limits from the child config
};

struct ChildSaCounters {
  uint64_t bytes_in = 0, packets_in = 0, bytes_out = 0, packets_out = 0;
};

class DataPlane {
 public:
  virtual ~DataPlane() = default;
  // A fresh inbound SPI not used by any installed or pending SA (never 0..255, RFC 4303 §2.1).
  virtual StatusOr<uint32_t> AllocateSpi(sa::Protocol protocol) = 0;
  // Returns an allocated SPI whose negotiation failed.
  virtual void ReleaseSpi(sa::Protocol protocol, uint32_t spi) = 0;
  // Installs both directions. `inbound` uses info.spi_in, `outbound` info.spi_out. On error nothing
  // stays installed.
  virtual Status Install(const ChildSaInfo& info, sa::KeyMaterial inbound, sa::KeyMaterial outbound) = 0;
  // Removes both directions (idempotent).
  virtual void Remove(const ChildSaInfo& info) = 0;
  virtual ChildSaCounters Counters(const ChildSaInfo& /*info*/) const { return {}; }
  // The IKE SA's endpoints moved (RFC 7296 §2.23: an authenticated message arrived from the peer's
  // new NAT mapping, or on another local address): `info` is an installed child with its new
  // `local` and `remote`. Its SAs send to the new remote from now on, the sequence numbers and
  // replay state carry on. Errors are the data plane's to log; IKE goes on either way.
  virtual void UpdateEndpoints(const ChildSaInfo& /*info*/) {}
};

enum class LogLevel : uint8_t { kError, kWarning, kInfo, kDebug };
using LogSink = std::function<void(LogLevel, std::string_view)>;

// Notifications for the daemon (control socket, statistics). All optional.
struct IkeEvents {
  std::function<void(uint64_t ike_id)> ike_established;
  std::function<void(uint64_t ike_id)> ike_destroyed;
  std::function<void(const ChildSaInfo&)> child_installed;
  std::function<void(const ChildSaInfo&)> child_removed;
};

struct IkeContext {
  Clock& clock;
  RandomSource& random;
  Transport& transport;
  Credentials& credentials;
  DataPlane& data_plane;
  LogSink log;
  IkeEvents events;
  // The source address the host would use towards a peer (an initiator without local_addrs).
  std::function<std::optional<sa::IpAddress>(const sa::IpAddress& remote)> source_address;
};

}  // namespace ipsec::ike
