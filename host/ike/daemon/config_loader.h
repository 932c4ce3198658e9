// From a parsed swanctl.conf (host/ike/config) to what the engine runs: PeerConfigs and the
// credential store (pre-shared keys, our certificates and private keys, trusted CAs).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "host/ike/auth/certificate.h"
#include "host/ike/auth/keys.h"
#include "host/ike/config/config.h"
#include "host/ike/sa/ike_env.h"
#include "host/ike/sa/peer_config.h"

namespace ipsec::ike {

// Credentials from the configuration. Signatures follow RFC 7427 when the peer announced hashes
// (auth/signature.h chooses), classic methods otherwise.
class ConfigCredentials final : public Credentials {
 public:
  StatusOr<SecureBytes> SharedSecret(const Identity& local, IdType peer_type, Bytes peer_data) const override;
  StatusOr<std::vector<std::vector<std::byte>>> CertificateChain(const Identity& local) const override;
  StatusOr<AuthPayload> Sign(const Identity& local, Bytes signed_octets,
                             std::span<const HashAlgorithm> peer_hashes) const override;
  Status VerifySignature(const AuthPayload& auth, Bytes signed_octets, std::span<const std::vector<std::byte>> peer_certs,
                         const IdPayload& peer_id, std::span<const HashAlgorithm> our_hashes) const override;
  std::vector<std::byte> CertificateAuthorities() const override;
  std::vector<HashAlgorithm> SignatureHashes() const override;

  struct Own {
    Identity id;                        // the identity the certificate stands for
    std::vector<Certificate> chain;  // end entity first
    std::shared_ptr<PrivateKey> key;
  };
  std::shared_ptr<const config::Config> config;
  std::vector<Own> own;
  TrustStore trust;
};

struct LoadedConfig {
  std::vector<std::shared_ptr<const PeerConfig>> peers;
  std::unique_ptr<ConfigCredentials> credentials;
  std::vector<std::string> start;  // "connection/child" to initiate at start-up
};

// Converts and loads credentials (certificate and key files). `force_encap` makes every
// connection use UDP encapsulation (the daemon's data path needs it). Errors name the
// connection and the file. `retransmit` applies to every connection (strongSwan's global
// charon.retransmit_* settings).
StatusOr<LoadedConfig> BuildPeerConfigs(const config::Config& config, bool force_encap,
                                        const RetransmitConfig& retransmit = {});
StatusOr<LoadedConfig> LoadDaemonConfig(const std::string& path, bool force_encap,
                                        const RetransmitConfig& retransmit = {});

}  // namespace ipsec::ike
