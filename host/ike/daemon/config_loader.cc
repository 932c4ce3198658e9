#include "host/ike/daemon/config_loader.h"

#include <algorithm>

#include "host/ike/auth/signature.h"

namespace ipsec::ike {
namespace {

Identity FromConfig(const config::Identity& id) { return Identity{id.type, id.data, id.any}; }

config::Identity ToConfig(const Identity& id) {
  config::Identity c;
  c.type = id.type;
  c.data = id.data;
  c.any = id.any;
  return c;
}

std::vector<AddrRange> Ranges(const std::vector<config::AddressSpec>& specs, const std::string& where,
                              Status* error) {
  std::vector<AddrRange> out;
  for (const auto& s : specs) {
    switch (s.kind) {
      case config::AddressSpec::Kind::kAny:
        return {};
      case config::AddressSpec::Kind::kRange:
        out.emplace_back(s.first, s.last);
        break;
      case config::AddressSpec::Kind::kHostname:
        *error = UnimplementedError(where + ": host names are not resolved ('" + s.text + "'); use addresses");
        return {};
    }
  }
  return out;
}

std::vector<TsConfig> Selectors(const config::TrafficSelectorList& list) {
  std::vector<TsConfig> out;
  for (const auto& e : list.entries) out.push_back(TsConfig{e.ts, e.dynamic});
  return out;
}

}  // namespace

StatusOr<LoadedConfig> BuildPeerConfigs(const config::Config& cfg, bool force_encap,
                                        const RetransmitConfig& retransmit) {
  LoadedConfig out;
  auto creds = std::make_unique<ConfigCredentials>();
  creds->config = std::make_shared<const config::Config>();
  // Private keys by file; our certificates by connection.
  std::vector<std::shared_ptr<PrivateKey>> keys;
  for (const auto& k : cfg.private_keys) {
    ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::FromFile(k.file));
    keys.push_back(std::make_shared<PrivateKey>(std::move(key)));
  }
  for (const auto& a : cfg.authorities) {
    ASSIGN_OR_RETURN(Certificate ca, Certificate::FromFile(a.cacert));
    Status st = creds->trust.AddCa(ca);
    if (!st.ok() && st.code() != StatusCode::kAlreadyExists) return st;
  }
  for (const config::Connection& c : cfg.connections) {
    auto p = std::make_shared<PeerConfig>();
    p->name = c.name;
    Status err;
    p->local_addrs = Ranges(c.local_addrs, c.location + " local_addrs", &err);
    p->remote_addrs = Ranges(c.remote_addrs, c.location + " remote_addrs", &err);
    RETURN_IF_ERROR(err);
    p->local_port = c.local_port;
    p->remote_port = c.remote_port;
    p->ike_proposals = c.proposals;
    p->rekey_time = c.rekey_time;
    p->over_time = c.over_time;
    p->rand_time = c.rand_time;
    p->dpd_delay = c.dpd_delay;
    p->dpd_timeout = c.dpd_timeout;
    p->force_encap = c.encap || force_encap;
    switch (c.fragmentation) {
      case config::Fragmentation::kNo: p->fragmentation = FragmentationPolicy::kNo; break;
      case config::Fragmentation::kYes: p->fragmentation = FragmentationPolicy::kYes; break;
      case config::Fragmentation::kAccept: p->fragmentation = FragmentationPolicy::kAccept; break;
      case config::Fragmentation::kForce: p->fragmentation = FragmentationPolicy::kForce; break;
    }
    p->send_certreq = c.send_certreq;
    p->retransmit = retransmit;
    p->local.auth = c.local.auth == config::AuthClass::kPsk ? AuthClass::kPsk : AuthClass::kPubkey;
    p->remote.auth = c.remote.auth == config::AuthClass::kPsk ? AuthClass::kPsk : AuthClass::kPubkey;
    p->remote.id = c.remote.id ? FromConfig(*c.remote.id) : Identity::Any();
    // Our certificates and the identity they give us.
    std::vector<Certificate> chain;
    for (const std::string& file : c.local.certs) {
      ASSIGN_OR_RETURN(Certificate cert, Certificate::FromFile(file));
      chain.push_back(std::move(cert));
    }
    for (const std::string& file : c.remote.cacerts) {
      ASSIGN_OR_RETURN(Certificate ca, Certificate::FromFile(file));
      Status st = creds->trust.AddCa(ca);
      if (!st.ok() && st.code() != StatusCode::kAlreadyExists) return st;
    }
    if (c.local.id) {
      p->local.id = FromConfig(*c.local.id);
    } else if (!chain.empty()) {
      p->local.id = Identity{IdType::kDerAsn1Dn, chain.front().SubjectDer(), false};
    } else if (!p->local_addrs.empty()) {
      const sa::IpAddress& a = p->local_addrs.front().first;
      p->local.id.type = a.v6 ? IdType::kIpv6Addr : IdType::kIpv4Addr;
      const auto* b = reinterpret_cast<const std::byte*>(a.bytes.data());
      p->local.id.data.assign(b, b + a.size());
    } else {
      return InvalidArgumentError(c.location + ": connection '" + c.name + "' needs local.id or local_addrs");
    }
    if (p->local.auth == AuthClass::kPubkey) {
      if (chain.empty()) return InvalidArgumentError(c.location + ": local auth = pubkey needs local.certs");
      std::shared_ptr<PrivateKey> key;
      auto spki = chain.front().SpkiDer();
      for (const auto& k : keys) {
        if (k->public_key().SpkiDer() == spki) key = k;
      }
      if (!key) {
        return InvalidArgumentError(c.location + ": no private key (secrets.private*) matches certificate " +
                                    chain.front().SubjectText());
      }
      creds->own.push_back(ConfigCredentials::Own{p->local.id, std::move(chain), key});
    }
    for (const config::ChildConfig& ch : c.children) {
      ChildConfig k;
      k.name = ch.name;
      k.proposals = ch.ah_proposals.empty() ? ch.esp_proposals : ch.ah_proposals;
      k.local_ts = Selectors(ch.local_ts);
      k.remote_ts = Selectors(ch.remote_ts);
      k.mode = ch.mode == config::Mode::kTransport ? sa::Mode::kTransport : sa::Mode::kTunnel;
      k.rekey_time = ch.rekey_time;
      k.life_time = ch.life_time;
      k.rand_time = ch.rand_time;
      k.rekey_bytes = ch.rekey_bytes;
      k.life_bytes = ch.life_bytes;
      k.rekey_packets = ch.rekey_packets;
      k.life_packets = ch.life_packets;
      k.replay_window = ch.replay_window;
      k.start_action = ch.start_action == config::StartAction::kStart ? ChildConfig::StartAction::kStart
                                                                      : ChildConfig::StartAction::kNone;
      if (ch.start_action == config::StartAction::kStart) out.start.push_back(c.name + "/" + ch.name);
      p->children.push_back(std::move(k));
    }
    out.peers.push_back(std::move(p));
  }
  // Keep only the secrets part of the config for PSK lookups.
  auto secrets = std::make_shared<config::Config>();
  for (const auto& s : cfg.shared_secrets) {
    config::SharedSecret copy;
    copy.name = s.name;
    copy.ids = s.ids;
    copy.secret = s.secret.Clone();
    secrets->shared_secrets.push_back(std::move(copy));
  }
  creds->config = std::move(secrets);
  out.credentials = std::move(creds);
  return out;
}

StatusOr<LoadedConfig> LoadDaemonConfig(const std::string& path, bool force_encap,
                                        const RetransmitConfig& retransmit) {
  ASSIGN_OR_RETURN(config::Config cfg, config::LoadConfigFile(path));
  return BuildPeerConfigs(cfg, force_encap, retransmit);
}

// ---- credentials ----

StatusOr<SecureBytes> ConfigCredentials::SharedSecret(const Identity& local, IdType peer_type, Bytes peer_data) const {
  Identity peer{peer_type, {peer_data.begin(), peer_data.end()}, false};
  const config::SharedSecret* s = config->FindSharedSecret(ToConfig(local), ToConfig(peer));
  if (!s) return NotFoundError("no shared secret for " + local.ToString() + " - " + peer.ToString());
  return s->secret.Clone();
}

StatusOr<std::vector<std::vector<std::byte>>> ConfigCredentials::CertificateChain(const Identity& local) const {
  for (const Own& o : own) {
    if (o.id == local) {
      std::vector<std::vector<std::byte>> out;
      for (const auto& c : o.chain) out.push_back(c.der());
      return out;
    }
  }
  return NotFoundError("no certificate for " + local.ToString());
}

StatusOr<AuthPayload> ConfigCredentials::Sign(const Identity& local, Bytes signed_octets,
                                              std::span<const HashAlgorithm> peer_hashes) const {
  for (const Own& o : own) {
    if (!(o.id == local)) continue;
    ASSIGN_OR_RETURN(SignatureChoice choice, ChooseSignature(*o.key, peer_hashes));
    ASSIGN_OR_RETURN(auto data, SignAuth(*o.key, choice, signed_octets));
    AuthPayload a;
    a.method = choice.method;
    a.data = std::move(data);
    return a;
  }
  return NotFoundError("no private key for " + local.ToString());
}

Status ConfigCredentials::VerifySignature(const AuthPayload& a, Bytes signed_octets,
                                          std::span<const std::vector<std::byte>> peer_certs, const IdPayload& peer_id,
                                          std::span<const HashAlgorithm> our_hashes) const {
  if (peer_certs.empty()) return FailedPreconditionError("the peer sent no certificate");
  ASSIGN_OR_RETURN(Certificate ee, Certificate::FromDer(peer_certs.front()));
  std::vector<Certificate> intermediates;
  for (size_t i = 1; i < peer_certs.size(); ++i) {
    auto c = Certificate::FromDer(peer_certs[i]);
    if (c.ok()) intermediates.push_back(std::move(c).value());
  }
  RETURN_IF_ERROR(trust.VerifyChain(ee, intermediates));
  if (!CertMatchesIdentity(ee, peer_id.id_type, peer_id.data)) {
    return FailedPreconditionError("certificate " + ee.SubjectText() + " does not match the peer's identity");
  }
  ASSIGN_OR_RETURN(PublicKey key, ee.GetPublicKey());
  return VerifyAuth(key, a.method, a.data, signed_octets, our_hashes);
}

std::vector<std::byte> ConfigCredentials::CertificateAuthorities() const { return trust.CertReqAuthorities(); }

std::vector<HashAlgorithm> ConfigCredentials::SignatureHashes() const {
  return {std::begin(kSupportedSignatureHashes), std::end(kSupportedSignatureHashes)};
}

}  // namespace ipsec::ike
