#include "host/ike/sa/ike_sa.h"

#include <algorithm>
#include <cmath>

#include "host/common/bytes.h"
#include "host/ike/encoding/ike_header.h"
#include "host/ike/encoding/nat_traversal.h"
#include "host/ike/encoding/wire_writer.h"
#include "host/ike/sa/tasks.h"
#include "host/ike/sa/traffic_selectors.h"

namespace ipsec::ike {

std::string_view IkeSaStateName(IkeSaState s) {
  switch (s) {
    case IkeSaState::kConnecting: return "CONNECTING";
    case IkeSaState::kEstablished: return "ESTABLISHED";
    case IkeSaState::kRekeyed: return "REKEYED";
    case IkeSaState::kDeleting: return "DELETING";
    case IkeSaState::kDead: return "DEAD";
  }
  return "?";
}

std::string_view ChildSaStateName(ChildSaState s) {
  switch (s) {
    case ChildSaState::kInstalled: return "INSTALLED";
    case ChildSaState::kRekeying: return "REKEYING";
    case ChildSaState::kRekeyed: return "REKEYED";
    case ChildSaState::kDeleting: return "DELETING";
  }
  return "?";
}

IkeSa::IkeSa(IkeContext& ctx, uint64_t unique_id, bool initiator, Endpoint local, Endpoint remote, uint64_t spi_i,
             uint64_t spi_r)
    : ctx_(ctx),
      unique_id_(unique_id),
      initiator_(initiator),
      local_(std::move(local)),
      remote_(std::move(remote)),
      spi_i_(spi_i),
      spi_r_(spi_r),
      created_at_(ctx.clock.Now()),
      last_inbound_(created_at_) {}

IkeSa::~IkeSa() = default;

std::unique_ptr<IkeSa> IkeSa::CreateInitiator(IkeContext& ctx, uint64_t unique_id,
                                              std::shared_ptr<const PeerConfig> config, Endpoint local,
                                              Endpoint remote, uint64_t spi_i) {
  std::unique_ptr<IkeSa> sa(new IkeSa(ctx, unique_id, true, std::move(local), std::move(remote), spi_i, 0));
  sa->force_encap_ = config->force_encap;
  sa->config_ = std::move(config);
  return sa;
}

std::unique_ptr<IkeSa> IkeSa::CreateResponder(IkeContext& ctx, uint64_t unique_id,
                                              std::vector<std::shared_ptr<const PeerConfig>> candidates,
                                              Endpoint local, Endpoint remote, uint64_t spi_i, uint64_t spi_r) {
  std::unique_ptr<IkeSa> sa(new IkeSa(ctx, unique_id, false, std::move(local), std::move(remote), spi_i, spi_r));
  sa->candidates_ = std::move(candidates);
  for (const auto& c : sa->candidates_) sa->force_encap_ = sa->force_encap_ || c->force_encap;
  return sa;
}

void IkeSa::Log(LogLevel level, const std::string& text) const {
  if (!ctx_.log) return;
  std::string name = config_ ? config_->name : std::string("(responder)");
  ctx_.log(level, name + "[" + std::to_string(unique_id_) + "] " + text);
}

IkeHeader IkeSa::MakeHeader(ExchangeType exchange, bool response, uint32_t message_id) const {
  IkeHeader h;
  h.spi_i = spi_i_;
  h.spi_r = spi_r_;
  h.exchange_type = exchange;
  h.initiator = initiator_;
  h.response = response;
  h.message_id = message_id;
  return h;
}

// ---- sending ----

StatusOr<std::vector<std::vector<std::byte>>> IkeSa::Protect(const IkeHeader& h,
                                                              const std::vector<Payload>& inner) {
  std::vector<std::vector<std::byte>> out;
  if (h.exchange_type == ExchangeType::kIkeSaInit) {
    Message m{h, inner};
    ASSIGN_OR_RETURN(auto bytes, Encode(m));
    out.push_back(std::move(bytes));
    return out;
  }
  if (!sk_out_) return FailedPreconditionError("no keys yet");
  ASSIGN_OR_RETURN(auto inner_bytes, EncodeInner(inner));
  PayloadType first = FirstPayloadType(inner);
  WireWriter prefix;
  AppendIkeHeader(h, PayloadType::kEncrypted, 0, prefix);
  ASSIGN_OR_RETURN(auto whole, sk_out_->Encrypt(prefix.data(), first, inner_bytes));
  const PeerConfig* cfg = config_ ? config_.get() : (candidates_.empty() ? nullptr : candidates_.front().get());
  size_t limit = cfg ? cfg->fragment_size : 1280;
  bool may_fragment = peer_fragmentation_ && cfg && cfg->fragmentation != FragmentationPolicy::kNo;
  if (whole.size() <= limit || !may_fragment) {
    out.push_back(std::move(whole));
    return out;
  }
  // RFC 7383 §2.5.1: split the inner payload chain so that every fragment datagram fits `limit`.
  WireWriter fprefix;
  AppendIkeHeader(h, PayloadType::kEncryptedFragment, 0, fprefix);
  size_t fixed = fprefix.size();
  size_t chunk = 0;
  for (size_t c = limit; c > 0; --c) {
    if (fixed + sk_out_->Overhead(c, true) + c <= limit) {
      chunk = c;
      break;
    }
  }
  if (chunk < 64) return InvalidArgumentError("fragment size too small");
  size_t total = (inner_bytes.size() + chunk - 1) / chunk;
  if (total > 0xffff) return InvalidArgumentError("message too large");
  for (size_t i = 0; i < total; ++i) {
    size_t off = i * chunk;
    size_t len = std::min(chunk, inner_bytes.size() - off);
    Bytes part(inner_bytes.data() + off, len);
    ASSIGN_OR_RETURN(auto frag, sk_out_->EncryptFragment(fprefix.data(), i == 0 ? first : PayloadType::kNone,
                                                         static_cast<uint16_t>(i + 1),
                                                         static_cast<uint16_t>(total), part));
    out.push_back(std::move(frag));
  }
  counters_.fragments_out += out.size();
  return out;
}

void IkeSa::SendPackets(const std::vector<std::vector<std::byte>>& packets) {
  for (const auto& p : packets) ctx_.transport.Send(local_, remote_, p);
}

void IkeSa::Queue(std::unique_ptr<Task> task) {
  queue_.push_back(std::move(task));
  StartNextTask();
}

bool IkeSa::HasTask(std::string_view name) const {
  if (active_ && name == active_->name()) return true;
  return std::any_of(queue_.begin(), queue_.end(), [&](const auto& t) { return name == t->name(); });
}

void IkeSa::StartNextTask() {
  while (!active_ && !queue_.empty() && state_ != IkeSaState::kDead) {
    // Only IKE_SA_INIT and IKE_AUTH run before the SA is established; only a DELETE after we
    // started deleting.
    std::unique_ptr<Task>& next = queue_.front();
    bool setup = next->exchange() == ExchangeType::kIkeSaInit || next->exchange() == ExchangeType::kIkeAuth;
    if (state_ == IkeSaState::kConnecting && !setup) return;
    active_ = std::move(next);
    queue_.pop_front();
    SendActiveRequest();
  }
}

void IkeSa::SendActiveRequest() {
  std::vector<Payload> payloads;
  Status st = active_->BuildRequest(payloads);
  if (!st.ok()) {
    Log(LogLevel::kError, std::string(active_->name()) + ": cannot build request: " + st.message());
    auto failed = std::move(active_);
    failed->Abort();
    if (failed->exchange() == ExchangeType::kIkeSaInit || failed->exchange() == ExchangeType::kIkeAuth) {
      Destroy("setup failed");
      return;
    }
    StartNextTask();
    return;
  }
  active_mid_ = next_request_mid_;
  IkeHeader h = MakeHeader(active_->exchange(), false, active_mid_);
  auto packets = Protect(h, payloads);
  if (!packets.ok()) {
    Log(LogLevel::kError, std::string(active_->name()) + ": cannot encode request: " + packets.status().message());
    active_->Abort();
    active_.reset();
    Destroy("encoding failed");
    return;
  }
  active_packets_ = std::move(packets).value();
  if (h.exchange_type == ExchangeType::kIkeSaInit) init_request_ = active_packets_.front();
  retransmit_count_ = 0;
  const PeerConfig* cfg = config_.get();
  Millis timeout = cfg ? cfg->retransmit.timeout : Millis(4000);
  retransmit_at_ = Now() + timeout;
  ++counters_.requests_out;
  Log(LogLevel::kDebug, std::string("sending ") + active_->name() + " request " + std::to_string(active_mid_));
  SendPackets(active_packets_);
}

void IkeSa::FinishActive() {
  active_.reset();
  active_packets_.clear();
  retransmit_at_ = TimePoint::max();
  ++next_request_mid_;
  StartNextTask();
}

void IkeSa::Respond(const IkeHeader& request, std::vector<Payload> payloads) {
  IkeHeader h = MakeHeader(request.exchange_type, true, request.message_id);
  auto packets = Protect(h, payloads);
  if (!packets.ok()) {
    Log(LogLevel::kError, "cannot encode response: " + packets.status().message());
    return;
  }
  last_response_ = std::move(packets).value();
  last_response_mid_ = request.message_id;
  have_last_response_ = true;
  if (request.exchange_type == ExchangeType::kIkeSaInit) init_response_ = last_response_.front();
  ++counters_.responses_out;
  SendPackets(last_response_);
}

void IkeSa::RespondError(const IkeHeader& request, NotifyType type, Bytes data) {
  Log(LogLevel::kInfo, std::string("answering ") + std::string(ExchangeTypeName(request.exchange_type)) + " with " +
                           std::string(NotifyTypeName(type)));
  std::vector<Payload> p;
  p.emplace_back(NotifyPayload::Make(type, data));
  Respond(request, std::move(p));
}

// ---- receiving ----

std::optional<std::vector<Payload>> IkeSa::Unprotect(const IkeHeader& h, const Message& m, Bytes raw) {
  if (h.exchange_type == ExchangeType::kIkeSaInit) {
    for (const Payload& p : m.payloads) {
      if (std::holds_alternative<EncryptedPayload>(p) || std::holds_alternative<EncryptedFragmentPayload>(p)) {
        ++counters_.invalid;
        return std::nullopt;
      }
    }
    return m.payloads;
  }
  if (!sk_in_ || m.payloads.empty()) {
    ++counters_.invalid;
    return std::nullopt;
  }
  auto plain = sk_in_->Decrypt(raw);
  if (!plain.ok()) {
    ++counters_.invalid;
    Log(LogLevel::kDebug, "dropping message " + std::to_string(h.message_id) + ": " + plain.status().message());
    return std::nullopt;
  }
  if (!plain->fragment) {
    auto inner = DecodeInner(plain->first_inner, plain->payloads);
    if (!inner.ok()) {
      ++counters_.invalid;
      Log(LogLevel::kInfo, "undecodable protected payloads: " + inner.status().message());
      return std::nullopt;
    }
    return std::move(inner).value();
  }
  // RFC 7383 §2.6: collect authenticated fragments of one message.
  ++counters_.fragments_in;
  if (!reassembly_ || reassembly_->message_id != h.message_id || reassembly_->response != h.response ||
      reassembly_->total != plain->total_fragments) {
    if (reassembly_ && reassembly_->message_id == h.message_id && reassembly_->response == h.response &&
        plain->total_fragments < reassembly_->total) {
      return std::nullopt;  // §2.6.1: an older, larger fragmentation of the same message
    }
    reassembly_ = Reassembly{h.message_id, h.response, plain->total_fragments, PayloadType::kNone, {}, 0};
  }
  constexpr size_t kMaxReassembly = 64 * 1024;
  if (reassembly_->bytes + plain->payloads.size() > kMaxReassembly) {
    reassembly_.reset();
    ++counters_.invalid;
    return std::nullopt;
  }
  if (plain->fragment_number == 1) reassembly_->first_inner = plain->first_inner;
  auto [it, inserted] = reassembly_->parts.emplace(plain->fragment_number, std::move(plain->payloads));
  if (inserted) reassembly_->bytes += it->second.size();
  if (reassembly_->parts.size() < reassembly_->total) return std::nullopt;
  std::vector<std::byte> all;
  all.reserve(reassembly_->bytes);
  for (auto& [n, part] : reassembly_->parts) all.insert(all.end(), part.begin(), part.end());
  PayloadType first = reassembly_->first_inner;
  reassembly_.reset();
  auto inner = DecodeInner(first, all);
  if (!inner.ok()) {
    ++counters_.invalid;
    Log(LogLevel::kInfo, "undecodable reassembled message: " + inner.status().message());
    return std::nullopt;
  }
  return std::move(inner).value();
}

void IkeSa::Receive(const Endpoint& local, const Endpoint& remote, Bytes datagram) {
  if (state_ == IkeSaState::kDead) return;
  auto msg = Decode(datagram);
  if (!msg.ok()) {
    ++counters_.invalid;
    Log(LogLevel::kDebug, "undecodable message: " + msg.status().message());
    return;
  }
  const IkeHeader& h = msg->header;
  if (h.response) {
    if (!active_ || h.message_id != active_mid_ || h.exchange_type != active_->exchange()) {
      ++counters_.invalid;
      return;
    }
    if (h.exchange_type == ExchangeType::kIkeSaInit && spi_r_ == 0 && h.spi_r != 0) {
      // The responder's SPI arrives with its first response; unprotected, so it only becomes ours
      // once the exchange completes (a spoofed reply without a valid KE cannot finish it).
    }
    auto payloads = Unprotect(h, *msg, datagram);
    if (!payloads) return;
    if (h.exchange_type != ExchangeType::kIkeSaInit) {
      last_inbound_ = Now();
      FollowEndpoints(local, remote, false);  // NAT mapping changed (§2.23)
    } else {
      if (h.spi_r != 0) spi_r_ = h.spi_r;
      // An initiator that did not know its address learns it from the response.
      if (local_.addr == sa::IpAddress{.v6 = local_.addr.v6, .bytes = {}}) local_.addr = local.addr;
    }
    ++counters_.responses_in;
    HandleResponse(h, datagram, std::move(*payloads));
    return;
  }
  // A request from the peer.
  if (have_last_response_ && h.message_id == last_response_mid_ && h.message_id + 1 == expected_peer_mid_) {
    // §2.1: a retransmitted request is answered from the cache (each fragment of it), never
    // processed again. With fragments, answer only the first fragment's retransmission.
    bool first_fragment = true;
    for (const Payload& p : msg->payloads) {
      if (const auto* f = std::get_if<EncryptedFragmentPayload>(&p)) first_fragment = f->fragment_number == 1;
    }
    if (first_fragment) {
      ++counters_.retransmitted_requests_answered;
      SendPackets(last_response_);
    }
    return;
  }
  if (h.message_id != expected_peer_mid_) {
    ++counters_.invalid;
    return;
  }
  auto payloads = Unprotect(h, *msg, datagram);
  if (!payloads) return;
  if (h.exchange_type != ExchangeType::kIkeSaInit) {
    last_inbound_ = Now();
    FollowEndpoints(local, remote, true);
  }
  ++counters_.requests_in;
  HandleRequest(h, datagram, std::move(*payloads));
}

void IkeSa::FollowEndpoints(const Endpoint& local, const Endpoint& remote, bool update_local) {
  const bool remote_moved = remote != remote_ && nat_detected();
  const bool local_moved = update_local && local != local_;
  if (!remote_moved && !local_moved) return;
  if (remote_moved) {
    Log(LogLevel::kInfo, "peer moved from " + remote_.ToString() + " to " + remote.ToString() + " (NAT mapping)");
    remote_ = remote;
  }
  if (local_moved) local_ = local;
  for (ChildSa& c : children_) {
    if (c.info.remote == remote_ && c.info.local == local_) continue;
    c.info.remote = remote_;
    c.info.local = local_;
    ctx_.data_plane.UpdateEndpoints(c.info);
  }
}

void IkeSa::HandleRequest(const IkeHeader& h, Bytes raw, std::vector<Payload> payloads) {
  expected_peer_mid_ = h.message_id + 1;
  switch (h.exchange_type) {
    case ExchangeType::kIkeSaInit:
      if (initiator_ || h.message_id != 0) {
        ++counters_.invalid;
        return;
      }
      RespondIkeSaInit(h, raw, payloads);
      return;
    case ExchangeType::kIkeAuth:
      if (initiator_ || state_ != IkeSaState::kConnecting) {
        RespondError(h, NotifyType::kInvalidSyntax);
        return;
      }
      RespondIkeAuth(h, payloads);
      return;
    case ExchangeType::kCreateChildSa:
      if (state_ == IkeSaState::kConnecting) {
        RespondError(h, NotifyType::kInvalidSyntax);
        return;
      }
      RespondCreateChildSa(h, payloads);
      return;
    case ExchangeType::kInformational:
      if (state_ == IkeSaState::kConnecting && !initiator_ && sk_in_ == nullptr) {
        RespondError(h, NotifyType::kInvalidSyntax);
        return;
      }
      RespondInformational(h, payloads);
      return;
    default:
      // §2.21: unknown exchange types in a request are ignored... but the ID is consumed, so
      // answer with an error rather than leaving the peer retransmitting.
      RespondError(h, NotifyType::kInvalidSyntax);
      return;
  }
}

void IkeSa::HandleResponse(const IkeHeader& h, Bytes raw, std::vector<Payload> payloads) {
  (void)h;
  if (active_->exchange() == ExchangeType::kIkeSaInit) init_response_.assign(raw.begin(), raw.end());
  Task::Result r = active_->ProcessResponse(payloads);
  switch (r) {
    case Task::Result::kDone:
      FinishActive();
      return;
    case Task::Result::kFailed:
      Log(LogLevel::kInfo, std::string(active_->name()) + " failed");
      active_->Abort();
      FinishActive();
      return;
    case Task::Result::kRestart: {
      // IKE_SA_INIT restarts reuse message ID 0 (§2.6, §1.2); other exchanges take the next ID.
      if (active_->exchange() == ExchangeType::kIkeSaInit) {
        spi_r_ = 0;
      } else {
        ++next_request_mid_;
      }
      SendActiveRequest();
      return;
    }
    case Task::Result::kDestroy: {
      bool deleted = std::string_view(active_->name()) == "IKE_DELETE";
      active_->Abort();
      active_.reset();
      Destroy(deleted ? "deleted" : "exchange failed");
      return;
    }
  }
}

// ---- timers ----

TimePoint IkeSa::NextDeadline() const {
  TimePoint t = std::min({retransmit_at_, rekey_at_, hard_delete_at_, dpd_at_});
  for (const ChildSa& c : children_) t = std::min({t, c.rekey_at, c.expire_at});
  if (state_ == IkeSaState::kConnecting && !initiator_) t = std::min(t, created_at_ + Seconds(30));
  return t;
}

TimePoint IkeSa::Jitter(TimePoint base, Seconds span, Seconds rand) {
  if (span.count() <= 0) return TimePoint::max();
  int64_t r = std::min(rand.count(), span.count() - 1);
  uint64_t v = 0;
  if (r > 0) {
    std::byte b[8];
    if (ctx_.random.Fill(b).ok()) v = LoadU64Be(b) % static_cast<uint64_t>(r + 1);
  }
  return base + span - Seconds(static_cast<int64_t>(v));
}

void IkeSa::OnTimer() {
  if (state_ == IkeSaState::kDead) return;
  TimePoint now = Now();
  if (state_ == IkeSaState::kConnecting && !initiator_ && now >= created_at_ + Seconds(30)) {
    Destroy("half-open timeout");
    return;
  }
  if (active_ && now >= retransmit_at_) {
    const PeerConfig* cfg = config_.get();
    RetransmitConfig rc = cfg ? cfg->retransmit : RetransmitConfig{};
    if (retransmit_count_ >= rc.tries) {
      Log(LogLevel::kInfo, std::string("giving up on ") + active_->name() + " after " +
                               std::to_string(retransmit_count_) + " retransmits; peer is dead");
      active_->Abort();
      active_.reset();
      Destroy("peer not responding");
      return;
    }
    ++retransmit_count_;
    ++counters_.retransmits;
    double factor = std::pow(rc.base, static_cast<double>(retransmit_count_));
    retransmit_at_ = now + std::chrono::duration_cast<Millis>(rc.timeout * factor);
    Log(LogLevel::kDebug, std::string("retransmit ") + std::to_string(retransmit_count_) + " of " + active_->name());
    SendPackets(active_packets_);
  }
  if (now >= hard_delete_at_) {
    Destroy("IKE SA lifetime expired");
    return;
  }
  if (now >= rekey_at_ && state_ == IkeSaState::kEstablished) {
    rekey_at_ = TimePoint::max();
    if (!HasTask("IKE_REKEY")) Queue(std::make_unique<IkeRekeyTask>(*this));
  }
  for (size_t i = 0; i < children_.size(); ++i) {
    ChildSa& c = children_[i];
    if (now >= c.expire_at) {
      c.expire_at = TimePoint::max();
      Log(LogLevel::kInfo, "CHILD_SA " + c.info.child + "{" + std::to_string(c.info.unique_id) + "} expired");
      if (state_ == IkeSaState::kEstablished && c.state != ChildSaState::kDeleting) {
        c.state = ChildSaState::kDeleting;
        Queue(std::make_unique<InformationalTask>(*this, InformationalTask::Kind::kDeleteChild, c.info.unique_id));
      } else {
        RemoveChild(c.info.unique_id, "expired");
      }
      return OnTimer();  // `children_` may have changed
    }
    if (now >= c.rekey_at && state_ == IkeSaState::kEstablished) {
      c.rekey_at = TimePoint::max();
      if (c.state == ChildSaState::kInstalled) {
        Queue(std::make_unique<ChildCreateTask>(*this, c.config, c.info.unique_id));
        return OnTimer();
      }
    }
  }
  if (state_ == IkeSaState::kEstablished && config_ && config_->dpd_delay.count() > 0) {
    // Inbound ESP counts as liveness too.
    for (const ChildSa& c : children_) {
      ChildSaCounters k = ctx_.data_plane.Counters(c.info);
      (void)k;
    }
    if (now >= last_inbound_ + config_->dpd_delay) {
      if (!active_ && queue_.empty()) {
        last_inbound_ = now;
        SendDpd();
      }
    }
    dpd_at_ = last_inbound_ + config_->dpd_delay;
  }
  StartNextTask();
}

// ---- operations ----

void IkeSa::Initiate(const ChildConfig* first_child) {
  DhGroup group = DhGroup::kNone;
  for (const Proposal& p : config_->ike_proposals) {
    group = ProposalDhGroup(p);
    if (group != DhGroup::kNone) break;
  }
  Queue(std::make_unique<IkeInitTask>(*this, group));
  Queue(std::make_unique<IkeAuthTask>(*this, first_child));
}

Status IkeSa::CreateChild(const std::string& child_name) {
  if (!config_) return FailedPreconditionError("IKE SA has no configuration yet");
  for (const ChildConfig& c : config_->children) {
    if (c.name == child_name) {
      Queue(std::make_unique<ChildCreateTask>(*this, &c, 0));
      return OkStatus();
    }
  }
  return NotFoundError("no child '" + child_name + "' in connection '" + config_->name + "'");
}

Status IkeSa::RekeyChild(uint32_t child_unique_id) {
  ChildSa* c = FindChild(child_unique_id);
  if (!c) return NotFoundError("no CHILD_SA " + std::to_string(child_unique_id));
  if (c->state != ChildSaState::kInstalled) return FailedPreconditionError("CHILD_SA is " + std::string(ChildSaStateName(c->state)));
  Queue(std::make_unique<ChildCreateTask>(*this, c->config, child_unique_id));
  return OkStatus();
}

Status IkeSa::DeleteChild(uint32_t child_unique_id) {
  ChildSa* c = FindChild(child_unique_id);
  if (!c) return NotFoundError("no CHILD_SA " + std::to_string(child_unique_id));
  if (c->state == ChildSaState::kDeleting) return OkStatus();
  c->state = ChildSaState::kDeleting;
  Queue(std::make_unique<InformationalTask>(*this, InformationalTask::Kind::kDeleteChild, child_unique_id));
  return OkStatus();
}

void IkeSa::Rekey() {
  if (state_ == IkeSaState::kEstablished && !HasTask("IKE_REKEY")) Queue(std::make_unique<IkeRekeyTask>(*this));
}

void IkeSa::Delete() {
  if (state_ == IkeSaState::kDead || state_ == IkeSaState::kDeleting) return;
  if (state_ == IkeSaState::kConnecting) {
    Destroy("deleted while connecting");
    return;
  }
  // The DELETE goes first: queued work is dropped (§1.4.1).
  for (auto& t : queue_) t->Abort();
  queue_.clear();
  if (active_) {
    active_->Abort();
    active_.reset();
    active_packets_.clear();
    ++next_request_mid_;
  }
  state_ = IkeSaState::kDeleting;
  Queue(std::make_unique<InformationalTask>(*this, InformationalTask::Kind::kDeleteIke));
}

void IkeSa::SendDpd() {
  if (state_ == IkeSaState::kEstablished && !HasTask("DPD")) {
    Queue(std::make_unique<InformationalTask>(*this, InformationalTask::Kind::kDpd));
  }
}

void IkeSa::Destroy(std::string_view reason) {
  if (state_ == IkeSaState::kDead) return;
  Log(LogLevel::kInfo, "IKE SA destroyed: " + std::string(reason));
  if (active_) active_->Abort();
  active_.reset();
  for (auto& t : queue_) t->Abort();
  queue_.clear();
  while (!children_.empty()) RemoveChild(children_.back().info.unique_id, reason);
  state_ = IkeSaState::kDead;
  retransmit_at_ = rekey_at_ = hard_delete_at_ = dpd_at_ = TimePoint::max();
  if (ctx_.events.ike_destroyed) ctx_.events.ike_destroyed(unique_id_);
}

void IkeSa::Established() {
  state_ = IkeSaState::kEstablished;
  established_at_ = Now();
  last_inbound_ = established_at_;
  ScheduleIkeRekey();
  if (config_->dpd_delay.count() > 0) dpd_at_ = established_at_ + config_->dpd_delay;
  Log(LogLevel::kInfo, "IKE SA established: " + DescribeProposal(ike_proposal_) + " " + local_.ToString() +
                           " <-> " + remote_.ToString() + (nat_detected() ? " (NAT-T)" : ""));
  if (ctx_.events.ike_established) ctx_.events.ike_established(unique_id_);
}

void IkeSa::ScheduleIkeRekey() {
  rekey_at_ = Jitter(Now(), config_->rekey_time, config_->rand_time);
  if (config_->rekey_time.count() > 0) hard_delete_at_ = Now() + config_->rekey_time + config_->over_time;
}

// ---- keys and authentication ----

Status IkeSa::SetupKeys(const Proposal& accepted, Bytes skeyseed, Bytes ni, Bytes nr) {
  ASSIGN_OR_RETURN(algorithms_, ToIkeAlgorithms(accepted));
  ASSIGN_OR_RETURN(auto prf, Prf::Create(algorithms_.transforms.prf));
  prf_ = prf;
  ike_proposal_ = accepted;
  ASSIGN_OR_RETURN(keys_, DeriveIkeSaKeys(*prf_, skeyseed, ni, nr, spi_i_, spi_r_, algorithms_.transforms));
  const SkTransform& t = algorithms_.transforms.sk;
  if (initiator_) {
    ASSIGN_OR_RETURN(sk_out_, SkCipher::Create(t, keys_.sk_ei.span(), keys_.sk_ai.span(), ctx_.random));
    ASSIGN_OR_RETURN(sk_in_, SkCipher::Create(t, keys_.sk_er.span(), keys_.sk_ar.span(), ctx_.random));
  } else {
    ASSIGN_OR_RETURN(sk_out_, SkCipher::Create(t, keys_.sk_er.span(), keys_.sk_ar.span(), ctx_.random));
    ASSIGN_OR_RETURN(sk_in_, SkCipher::Create(t, keys_.sk_ei.span(), keys_.sk_ai.span(), ctx_.random));
  }
  return OkStatus();
}

StatusOr<std::vector<std::byte>> IkeSa::SignedOctets(bool for_initiator, Bytes real_message, Bytes peer_nonce,
                                                     const IdPayload& id) const {
  // §2.15: RealMessage | NonceData(peer) | prf(SK_p, RestOfIDPayload), RestOfIDPayload being the ID
  // type, three reserved bytes and the identification data.
  std::vector<std::byte> rest;
  rest.push_back(static_cast<std::byte>(id.id_type));
  rest.insert(rest.end(), 3, std::byte{0});
  rest.insert(rest.end(), id.data.begin(), id.data.end());
  const SecureBytes& sk_p = for_initiator ? keys_.sk_pi : keys_.sk_pr;
  ASSIGN_OR_RETURN(SecureBytes maced, prf_->Compute(sk_p.span(), rest));
  std::vector<std::byte> out(real_message.begin(), real_message.end());
  out.insert(out.end(), peer_nonce.begin(), peer_nonce.end());
  out.insert(out.end(), maced.span().begin(), maced.span().end());
  return out;
}

namespace {
constexpr std::string_view kKeyPad = "Key Pad for IKEv2";

StatusOr<SecureBytes> PskMac(const Prf& prf, Bytes secret, Bytes octets) {
  ASSIGN_OR_RETURN(SecureBytes k, prf.Compute(secret, AsBytes(kKeyPad)));
  return prf.Compute(k.span(), octets);
}
}  // namespace

StatusOr<AuthPayload> IkeSa::BuildAuth(bool as_initiator, const IdPayload& our_id, const Identity& peer_id) {
  Bytes real = as_initiator ? Bytes(init_request_) : Bytes(init_response_);
  Bytes peer_nonce = as_initiator ? Bytes(nonce_r_) : Bytes(nonce_i_);
  ASSIGN_OR_RETURN(auto octets, SignedOctets(as_initiator, real, peer_nonce, our_id));
  if (config_->local.auth == AuthClass::kPsk) {
    Identity peer = peer_id;
    if (peer_id_) {
      peer.type = peer_id_->id_type;
      peer.data = peer_id_->data;
      peer.any = false;
    }
    ASSIGN_OR_RETURN(SecureBytes secret,
                     ctx_.credentials.SharedSecret(config_->local.id, peer.type, peer.data));
    ASSIGN_OR_RETURN(SecureBytes mac, PskMac(*prf_, secret.span(), octets));
    AuthPayload a;
    a.method = AuthMethod::kSharedKeyMic;
    a.data.assign(mac.span().begin(), mac.span().end());
    return a;
  }
  return ctx_.credentials.Sign(config_->local.id, octets, peer_hashes_);
}

Status IkeSa::VerifyAuth(bool peer_is_initiator, const AuthPayload& auth, const IdPayload& peer_id,
                         const std::vector<std::vector<std::byte>>& peer_certs, const PeerConfig& config) {
  Bytes real = peer_is_initiator ? Bytes(init_request_) : Bytes(init_response_);
  Bytes our_nonce = peer_is_initiator ? Bytes(nonce_r_) : Bytes(nonce_i_);
  ASSIGN_OR_RETURN(auto octets, SignedOctets(peer_is_initiator, real, our_nonce, peer_id));
  if (config.remote.auth == AuthClass::kPsk) {
    if (auth.method != AuthMethod::kSharedKeyMic) return DataLossError("peer did not use PSK authentication");
    ASSIGN_OR_RETURN(SecureBytes secret, ctx_.credentials.SharedSecret(config.local.id, peer_id.id_type, peer_id.data));
    ASSIGN_OR_RETURN(SecureBytes mac, PskMac(*prf_, secret.span(), octets));
    if (!ConstantTimeEqual(mac.span(), auth.data)) return DataLossError("PSK AUTH does not verify");
    return OkStatus();
  }
  if (auth.method == AuthMethod::kSharedKeyMic) return DataLossError("peer used PSK, signature required");
  std::vector<HashAlgorithm> ours = ctx_.credentials.SignatureHashes();
  return ctx_.credentials.VerifySignature(auth, octets, peer_certs, peer_id, ours);
}

std::vector<Payload> IkeSa::NatDetectionNotifies(uint64_t spi_r_for_hash) {
  std::vector<Payload> out;
  auto src = NatDetectionHash(spi_i_, spi_r_for_hash, Bytes(reinterpret_cast<const std::byte*>(local_.addr.bytes.data()),
                                                            local_.addr.size()),
                              local_.port);
  auto dst = NatDetectionHash(spi_i_, spi_r_for_hash, Bytes(reinterpret_cast<const std::byte*>(remote_.addr.bytes.data()),
                                                            remote_.addr.size()),
                              remote_.port);
  if (!src.ok() || !dst.ok()) return out;
  std::array<std::byte, 20> s = *src;
  if (force_encap_) {
    // Like charon's encap=yes: a source hash that cannot match makes the peer see a NAT.
    (void)ctx_.random.Fill(s);
  }
  out.emplace_back(NotifyPayload::Make(NotifyType::kNatDetectionSourceIp, s));
  out.emplace_back(NotifyPayload::Make(NotifyType::kNatDetectionDestinationIp, *dst));
  return out;
}

void IkeSa::NatDetect(const std::vector<Payload>& in, uint64_t spi_r_for_hash) {
  bool have_src = false, have_dst = false, src_match = false, dst_match = false;
  auto ours = NatDetectionHash(spi_i_, spi_r_for_hash, Bytes(reinterpret_cast<const std::byte*>(local_.addr.bytes.data()),
                                                             local_.addr.size()),
                               local_.port);
  auto theirs = NatDetectionHash(spi_i_, spi_r_for_hash,
                                 Bytes(reinterpret_cast<const std::byte*>(remote_.addr.bytes.data()), remote_.addr.size()),
                                 remote_.port);
  if (!ours.ok() || !theirs.ok()) return;
  for (const Payload& p : in) {
    const auto* n = std::get_if<NotifyPayload>(&p);
    if (!n) continue;
    if (n->type == NotifyType::kNatDetectionSourceIp) {
      have_src = true;
      src_match = src_match || std::equal(n->data.begin(), n->data.end(), theirs->begin(), theirs->end());
    } else if (n->type == NotifyType::kNatDetectionDestinationIp) {
      have_dst = true;
      dst_match = dst_match || std::equal(n->data.begin(), n->data.end(), ours->begin(), ours->end());
    }
  }
  if (!have_src || !have_dst) return;  // the peer does not do NAT-T
  nat_remote_ = !src_match;
  nat_local_ = !dst_match;
  if (nat_detected()) {
    Log(LogLevel::kInfo, std::string("NAT detected:") + (nat_local_ ? " local" : "") + (nat_remote_ ? " remote" : "") +
                             (force_encap_ && !nat_local_ && !nat_remote_ ? " forced" : ""));
  }
}

void IkeSa::FloatToNatT() {
  // §2.23: after IKE_SA_INIT the initiator moves to port 4500 when a NAT is detected.
  if (local_.port == kIkePort) local_.port = kIkeNatTPort;
  if (remote_.port == kIkePort) remote_.port = kIkeNatTPort;
}

// ---- CHILD_SAs ----

ChildSa* IkeSa::FindChild(uint32_t unique_id) {
  for (ChildSa& c : children_) {
    if (c.info.unique_id == unique_id) return &c;
  }
  return nullptr;
}

ChildSa* IkeSa::FindChildByOutboundSpi(sa::Protocol p, uint32_t spi) {
  for (ChildSa& c : children_) {
    if (c.info.protocol == p && c.info.spi_out == spi) return &c;
  }
  return nullptr;
}

ChildSa* IkeSa::FindChildByInboundSpi(sa::Protocol p, uint32_t spi) {
  for (ChildSa& c : children_) {
    if (c.info.protocol == p && c.info.spi_in == spi) return &c;
  }
  return nullptr;
}

void IkeSa::ScheduleChild(ChildSa& c) {
  const ChildConfig& cfg = *c.config;
  TimePoint now = Now();
  c.installed_at = now;
  c.rekey_at = Jitter(now, cfg.rekey_time, cfg.rand_time);
  c.expire_at = cfg.life_time.count() > 0 ? now + cfg.life_time : TimePoint::max();
}

Status IkeSa::InstallChild(ChildSa child, sa::KeyMaterial in, sa::KeyMaterial out) {
  child.info.connection = config_->name;
  child.info.local = local_;
  child.info.remote = remote_;
  child.info.udp_encap = nat_detected();
  child.info.replay_window = child.config->replay_window;
  child.info.lifetime.soft_bytes = child.config->rekey_bytes;
  child.info.lifetime.hard_bytes = child.config->life_bytes;
  child.info.lifetime.soft_packets = child.config->rekey_packets;
  child.info.lifetime.hard_packets = child.config->life_packets;
  if (child.info.unique_id == 0) child.info.unique_id = next_child_id ? next_child_id() : static_cast<uint32_t>(children_.size() + 1);
  RETURN_IF_ERROR(ctx_.data_plane.Install(child.info, std::move(in), std::move(out)));
  ScheduleChild(child);
  Log(LogLevel::kInfo, "CHILD_SA " + child.info.child + "{" + std::to_string(child.info.unique_id) + "} installed: " +
                           DescribeProposal(child.proposal) + " SPIs " + HexEncode(task_util::SpiBytes(child.info.spi_in)) +
                           "_i " + HexEncode(task_util::SpiBytes(child.info.spi_out)) + "_o " +
                           std::string(sa::ModeName(child.info.mode)) + " " + DescribeTs(child.info.local_ts) +
                           " === " + DescribeTs(child.info.remote_ts));
  if (ctx_.events.child_installed) ctx_.events.child_installed(child.info);
  children_.push_back(std::move(child));
  return OkStatus();
}

void IkeSa::RemoveChild(uint32_t unique_id, std::string_view reason) {
  for (auto it = children_.begin(); it != children_.end(); ++it) {
    if (it->info.unique_id != unique_id) continue;
    ctx_.data_plane.Remove(it->info);
    Log(LogLevel::kInfo, "CHILD_SA " + it->info.child + "{" + std::to_string(unique_id) + "} removed: " +
                             std::string(reason));
    if (ctx_.events.child_removed) ctx_.events.child_removed(it->info);
    children_.erase(it);
    return;
  }
}

// ---- status ----

IkeSaStatus IkeSa::Snapshot() const {
  IkeSaStatus s;
  TimePoint now = Now();
  auto secs = [&](TimePoint t) -> int64_t {
    if (t == TimePoint::max()) return -1;
    return std::chrono::duration_cast<Seconds>(t - now).count();
  };
  s.unique_id = unique_id_;
  s.connection = config_ ? config_->name : "";
  s.state = state_;
  s.initiator = initiator_;
  s.spi_i = spi_i_;
  s.spi_r = spi_r_;
  s.local = local_;
  s.remote = remote_;
  if (our_id_) s.local_id = Identity{our_id_->id_type, our_id_->data, false}.ToString();
  if (peer_id_) s.remote_id = Identity{peer_id_->id_type, peer_id_->data, false}.ToString();
  s.algorithms = ike_proposal_.transforms.empty() ? "" : DescribeProposal(ike_proposal_);
  s.nat_detected = nat_detected();
  s.fragments_in = counters_.fragments_in;
  s.fragments_out = counters_.fragments_out;
  s.retransmits = counters_.retransmits;
  if (state_ == IkeSaState::kEstablished) {
    s.established_seconds = std::chrono::duration_cast<Seconds>(now - established_at_).count();
    s.rekey_in_seconds = secs(rekey_at_);
  }
  for (const ChildSa& c : children_) {
    IkeSaStatus::Child k{c.info, c.state, DescribeProposal(c.proposal), ctx_.data_plane.Counters(c.info),
                         std::chrono::duration_cast<Seconds>(now - c.installed_at).count(), secs(c.rekey_at),
                         secs(c.expire_at)};
    s.children.push_back(std::move(k));
  }
  return s;
}

}  // namespace ipsec::ike
