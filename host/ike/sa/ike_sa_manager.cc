#include "host/ike/sa/ike_sa_manager.h"

#include <openssl/evp.h>

#include <algorithm>

#include "host/ike/encoding/ike_header.h"
#include "host/ike/encoding/message.h"

namespace ipsec::ike {

IkeSaManager::IkeSaManager(IkeContext& ctx, ManagerOptions options) : ctx_(ctx), options_(options) {
  RotateCookieSecret();
  RotateCookieSecret();
}

IkeSaManager::~IkeSaManager() = default;

void IkeSaManager::SetConfigs(std::vector<std::shared_ptr<const PeerConfig>> configs) { configs_ = std::move(configs); }

uint64_t IkeSaManager::RandomSpi() {
  for (;;) {
    std::byte b[8];
    if (!ctx_.random.Fill(b).ok()) return 0;
    uint64_t v = LoadU64Be(b);
    if (v != 0 && !by_local_spi_.contains(v)) return v;
  }
}

void IkeSaManager::RotateCookieSecret() {
  previous_secret_ = secret_;
  (void)ctx_.random.Fill(secret_);
  ++secret_version_;
  secret_expires_ = ctx_.clock.Now() + options_.cookie_secret_lifetime;
}

std::array<std::byte, 17> IkeSaManager::MakeCookie(uint8_t version, Bytes ni, const sa::IpAddress& ip,
                                                   uint64_t spi_i) const {
  // §2.6: Cookie = <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>), truncated to 16 bytes.
  const auto& secret = version == secret_version_ ? secret_ : previous_secret_;
  std::array<std::byte, 8> spi;
  for (int i = 0; i < 8; ++i) spi[i] = std::byte(spi_i >> (56 - 8 * i));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  std::array<std::byte, 17> out{};
  EVP_MD_CTX* c = EVP_MD_CTX_new();
  if (c && EVP_DigestInit_ex(c, EVP_sha256(), nullptr) == 1 && EVP_DigestUpdate(c, ni.data(), ni.size()) == 1 &&
      EVP_DigestUpdate(c, ip.bytes.data(), ip.size()) == 1 && EVP_DigestUpdate(c, spi.data(), spi.size()) == 1 &&
      EVP_DigestUpdate(c, secret.data(), secret.size()) == 1 && EVP_DigestFinal_ex(c, md, &len) == 1) {
    out[0] = std::byte{version};
    std::memcpy(out.data() + 1, md, 16);
  }
  EVP_MD_CTX_free(c);
  return out;
}

bool IkeSaManager::CheckCookie(Bytes cookie, Bytes ni, const sa::IpAddress& ip, uint64_t spi_i) const {
  if (cookie.size() != 17) return false;
  auto version = std::to_integer<uint8_t>(cookie[0]);
  if (version != secret_version_ && version != static_cast<uint8_t>(secret_version_ - 1)) return false;
  auto expect = MakeCookie(version, ni, ip, spi_i);
  return ConstantTimeEqual(expect, cookie);
}

size_t IkeSaManager::half_open() const { return half_open_by_init_.size(); }

void IkeSaManager::Add(std::unique_ptr<IkeSa> sa) {
  IkeSa* raw = sa.get();
  raw->adopt = [this](std::unique_ptr<IkeSa> fresh) { adopted_.push_back(std::move(fresh)); };
  raw->next_child_id = [this] { return next_child_id_++; };
  raw->next_ike_id = [this] { return next_ike_id_++; };
  by_local_spi_[raw->local_spi()] = raw->unique_id();
  ++counters_.ike_created;
  sas_.emplace(raw->unique_id(), std::move(sa));
}

void IkeSaManager::Sweep() {
  while (!adopted_.empty()) {
    auto fresh = std::move(adopted_.back());
    adopted_.pop_back();
    Add(std::move(fresh));
  }
  for (auto it = half_open_by_init_.begin(); it != half_open_by_init_.end();) {
    auto sa = sas_.find(it->second);
    if (sa == sas_.end() || sa->second->state() != IkeSaState::kConnecting) {
      it = half_open_by_init_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = sas_.begin(); it != sas_.end();) {
    if (it->second->state() == IkeSaState::kDead) {
      by_local_spi_.erase(it->second->local_spi());
      ++counters_.ike_destroyed;
      it = sas_.erase(it);
    } else {
      ++it;
    }
  }
}

void IkeSaManager::SendStateless(const Endpoint& local, const Endpoint& remote, const IkeHeader& request,
                                 NotifyType type, Bytes data) {
  Message m;
  m.header = request;
  m.header.response = true;
  m.header.initiator = false;
  m.header.spi_r = 0;
  m.payloads.emplace_back(NotifyPayload::Make(type, data));
  auto bytes = Encode(m);
  if (bytes.ok()) ctx_.transport.Send(local, remote, *bytes);
}

void IkeSaManager::HandleInit(const Endpoint& local, const Endpoint& remote, Bytes datagram, const IkeHeader& h) {
  auto key = std::make_pair(h.spi_i, remote.ToString());
  if (auto it = half_open_by_init_.find(key); it != half_open_by_init_.end()) {
    if (auto sa = sas_.find(it->second); sa != sas_.end()) {
      sa->second->Receive(local, remote, datagram);  // a retransmission: answered from its cache
      return;
    }
  }
  auto msg = Decode(datagram);
  if (!msg.ok()) {
    ++counters_.undecodable;
    return;
  }
  const NoncePayload* ni = msg->Find<NoncePayload>();
  if (!ni) {
    ++counters_.undecodable;
    return;
  }
  size_t open = half_open();
  if (open >= options_.max_half_open) {
    ++counters_.init_dropped;
    return;
  }
  if (options_.always_require_cookie || open >= options_.cookie_threshold) {
    const NotifyPayload* c = msg->FindNotify(NotifyType::kCookie);
    if (!c || !CheckCookie(c->data, ni->nonce, remote.addr, h.spi_i)) {
      if (c) ++counters_.cookies_invalid;
      auto cookie = MakeCookie(secret_version_, ni->nonce, remote.addr, h.spi_i);
      ++counters_.cookies_sent;
      SendStateless(local, remote, h, NotifyType::kCookie, cookie);
      return;
    }
    ++counters_.cookies_valid;
  }
  std::vector<std::shared_ptr<const PeerConfig>> candidates;
  for (const auto& c : configs_) {
    auto in = [](const std::vector<AddrRange>& list, const sa::IpAddress& a) {
      return list.empty() || std::any_of(list.begin(), list.end(), [&](const AddrRange& r) { return r.Contains(a); });
    };
    bool local_ok = in(c->local_addrs, local.addr);
    bool remote_ok = in(c->remote_addrs, remote.addr);
    if (local_ok && remote_ok) candidates.push_back(c);
  }
  if (candidates.empty()) {
    ++counters_.no_config;
    if (ctx_.log) ctx_.log(LogLevel::kInfo, "no connection for IKE_SA_INIT from " + remote.ToString());
    SendStateless(local, remote, h, NotifyType::kNoProposalChosen, {});
    return;
  }
  uint64_t spi_r = RandomSpi();
  if (spi_r == 0) return;
  auto sa = IkeSa::CreateResponder(ctx_, next_ike_id_++, std::move(candidates), local, remote, h.spi_i, spi_r);
  IkeSa* raw = sa.get();
  Add(std::move(sa));
  half_open_by_init_[key] = raw->unique_id();
  raw->Receive(local, remote, datagram);
}

void IkeSaManager::Receive(const Endpoint& local, const Endpoint& remote, Bytes datagram) {
  ++counters_.datagrams;
  auto parsed = ParseIkeHeader(datagram);
  if (!parsed.ok()) {
    ++counters_.undecodable;
    return;
  }
  const IkeHeader& h = parsed->header;
  if (!h.response && h.exchange_type == ExchangeType::kIkeSaInit && h.spi_r == 0 && h.message_id == 0) {
    HandleInit(local, remote, datagram, h);
    Sweep();
    return;
  }
  // The SPI we chose: the responder's when the sender is the original initiator.
  uint64_t ours = h.initiator ? h.spi_r : h.spi_i;
  auto it = by_local_spi_.find(ours);
  if (it == by_local_spi_.end()) {
    ++counters_.unknown_spi;
    return;
  }
  auto sa = sas_.find(it->second);
  if (sa == sas_.end()) {
    ++counters_.unknown_spi;
    return;
  }
  // The other SPI must match too once known (an IKE_SA_INIT response fills it in).
  IkeSa& s = *sa->second;
  uint64_t theirs = h.initiator ? h.spi_i : h.spi_r;
  uint64_t expected = s.is_initiator() ? s.spi_r() : s.spi_i();
  if (expected != 0 && theirs != expected) {
    ++counters_.unknown_spi;
    return;
  }
  s.Receive(local, remote, datagram);
  Sweep();
}

void IkeSaManager::OnTimer() {
  if (ctx_.clock.Now() >= secret_expires_) RotateCookieSecret();
  std::vector<IkeSa*> due;
  TimePoint now = ctx_.clock.Now();
  for (auto& [id, sa] : sas_) {
    if (sa->NextDeadline() <= now) due.push_back(sa.get());
  }
  for (IkeSa* sa : due) sa->OnTimer();
  Sweep();
}

TimePoint IkeSaManager::NextDeadline() const {
  TimePoint t = secret_expires_;
  for (const auto& [id, sa] : sas_) t = std::min(t, sa->NextDeadline());
  return t;
}

StatusOr<uint64_t> IkeSaManager::Initiate(std::string_view name, std::string_view child) {
  ASSIGN_OR_RETURN(IkeSa * raw, CreateInitiatorSa(name));
  const PeerConfig& cfg = *raw->config();
  const ChildConfig* first = nullptr;
  for (const ChildConfig& c : cfg.children) {
    if (child.empty() || c.name == child) {
      first = &c;
      break;
    }
  }
  if (!child.empty() && !first) {
    raw->Destroy("no such child");
    Sweep();
    return NotFoundError("no child '" + std::string(child) + "' in '" + cfg.name + "'");
  }
  raw->Initiate(first);
  if (child.empty()) {
    for (const ChildConfig& c : cfg.children) {
      if (&c != first && c.start_action == ChildConfig::StartAction::kStart) (void)raw->CreateChild(c.name);
    }
  }
  uint64_t id = raw->unique_id();
  Sweep();
  return id;
}

StatusOr<IkeSa*> IkeSaManager::CreateInitiatorSa(std::string_view name) {
  std::shared_ptr<const PeerConfig> cfg;
  for (const auto& c : configs_) {
    if (c->name == name) cfg = c;
  }
  if (!cfg) return NotFoundError("no connection '" + std::string(name) + "'");
  if (cfg->remote_addrs.empty()) return FailedPreconditionError("connection '" + cfg->name + "' has no remote address");
  Endpoint remote{cfg->remote_addrs.front().first, cfg->remote_port};
  Endpoint local{cfg->local_addrs.empty() ? sa::IpAddress{} : cfg->local_addrs.front().first, cfg->local_port};
  if (cfg->local_addrs.empty()) {
    local.addr.v6 = remote.addr.v6;
    if (ctx_.source_address) {
      if (auto a = ctx_.source_address(remote.addr)) local.addr = *a;
    }
  }
  uint64_t spi = RandomSpi();
  if (spi == 0) return InternalError("no randomness");
  auto sa = IkeSa::CreateInitiator(ctx_, next_ike_id_++, cfg, local, remote, spi);
  IkeSa* raw = sa.get();
  Add(std::move(sa));
  return raw;
}

IkeSa* IkeSaManager::Find(uint64_t ike_id) {
  auto it = sas_.find(ike_id);
  return it == sas_.end() ? nullptr : it->second.get();
}

IkeSa* IkeSaManager::FindByConnection(std::string_view name) {
  for (auto& [id, sa] : sas_) {
    if (sa->config() && sa->config()->name == name && sa->state() != IkeSaState::kDead &&
        sa->state() != IkeSaState::kRekeyed && sa->state() != IkeSaState::kDeleting) {
      return sa.get();
    }
  }
  return nullptr;
}

Status IkeSaManager::Terminate(uint64_t ike_id) {
  IkeSa* sa = Find(ike_id);
  if (!sa) return NotFoundError("no IKE SA " + std::to_string(ike_id));
  sa->Delete();
  Sweep();
  return OkStatus();
}

Status IkeSaManager::RekeyIke(uint64_t ike_id) {
  IkeSa* sa = Find(ike_id);
  if (!sa) return NotFoundError("no IKE SA " + std::to_string(ike_id));
  if (sa->state() != IkeSaState::kEstablished) return FailedPreconditionError("IKE SA is not established");
  sa->Rekey();
  Sweep();
  return OkStatus();
}

Status IkeSaManager::RekeyChild(uint32_t child_id) {
  for (auto& [id, sa] : sas_) {
    for (const ChildSa& c : sa->children()) {
      if (c.info.unique_id == child_id) {
        Status st = sa->RekeyChild(child_id);
        Sweep();
        return st;
      }
    }
  }
  return NotFoundError("no CHILD_SA " + std::to_string(child_id));
}

Status IkeSaManager::TerminateChild(uint32_t child_id) {
  for (auto& [id, sa] : sas_) {
    for (const ChildSa& c : sa->children()) {
      if (c.info.unique_id == child_id) {
        Status st = sa->DeleteChild(child_id);
        Sweep();
        return st;
      }
    }
  }
  return NotFoundError("no CHILD_SA " + std::to_string(child_id));
}

void IkeSaManager::DeleteAll() {
  for (auto& [id, sa] : sas_) sa->Delete();
  Sweep();
}

void IkeSaManager::DestroyAll() {
  for (auto& [id, sa] : sas_) sa->Destroy("shutdown");
  Sweep();
}

std::vector<IkeSaStatus> IkeSaManager::List() const {
  std::vector<IkeSaStatus> out;
  for (const auto& [id, sa] : sas_) out.push_back(sa->Snapshot());
  return out;
}

}  // namespace ipsec::ike
