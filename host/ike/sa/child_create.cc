// CHILD_SA negotiation (RFC 7296 §1.3, §2.8 rekeying, §2.8.1 collisions, §2.9 traffic selectors,
// §2.17 KEYMAT, §1.3.1 USE_TRANSPORT_MODE), shared by IKE_AUTH and CREATE_CHILD_SA.
#include <algorithm>

#include "host/ike/sa/tasks.h"
#include "host/ike/sa/traffic_selectors.h"

namespace ipsec::ike {

using namespace task_util;

namespace {
constexpr size_t kNonceSize = 32;

sa::Protocol ProtocolOf(const ChildConfig& c) {
  return !c.proposals.empty() && c.proposals.front().protocol == ProtocolId::kAh ? sa::Protocol::kAh
                                                                                   : sa::Protocol::kEsp;
}

ProtocolId WireProtocol(sa::Protocol p) { return p == sa::Protocol::kAh ? ProtocolId::kAh : ProtocolId::kEsp; }

DhGroup FirstPfsGroup(const ChildConfig& c) {
  for (const Proposal& p : c.proposals) {
    if (DhGroup g = ProposalDhGroup(p); g != DhGroup::kNone) return g;
  }
  return DhGroup::kNone;
}

// Lowest of two nonces (byte-wise, shorter first on a tie of the common prefix), for §2.8.1.
const std::vector<std::byte>& MinNonce(const std::vector<std::byte>& a, const std::vector<std::byte>& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end()) ? a : b;
}
}  // namespace

Status ChildCreateTask::BuildChild(IkeSa& sa, const ChildConfig& cfg, bool pfs, const ChildSa* rekeyed,
                                   ChildRequest& req, std::vector<Payload>& sa_out, std::vector<Payload>& ts_out) {
  req.config = &cfg;
  req.protocol = ProtocolOf(cfg);
  if (req.spi_in == 0) {
    ASSIGN_OR_RETURN(req.spi_in, sa.ctx_.data_plane.AllocateSpi(req.protocol));
  }
  req.proposals = ChildProposals(cfg, req.spi_in, pfs);
  if (rekeyed) {
    req.tsi = rekeyed->info.local_ts;
    req.tsr = rekeyed->info.remote_ts;
  } else {
    req.tsi = Resolve(cfg.local_ts, sa.local_.addr);
    req.tsr = Resolve(cfg.remote_ts, sa.remote_.addr);
  }
  if (cfg.mode == sa::Mode::kTransport) sa_out.emplace_back(NotifyPayload::Make(NotifyType::kUseTransportMode));
  sa_out.emplace_back(SaPayload{req.proposals});
  ts_out.emplace_back(TsPayload{PayloadType::kTsInitiator, req.tsi});
  ts_out.emplace_back(TsPayload{PayloadType::kTsResponder, req.tsr});
  return OkStatus();
}

StatusOr<uint32_t> ChildCreateTask::CompleteChild(IkeSa& sa, ChildRequest& req, const std::vector<Payload>& in,
                                                  Bytes g_ir, Bytes ni, Bytes nr, uint32_t rekey_of) {
  const auto* sa_payload = Find<SaPayload>(in);
  const TsPayload* tsi = FindTs(in, PayloadType::kTsInitiator);
  const TsPayload* tsr = FindTs(in, PayloadType::kTsResponder);
  if (!sa_payload || sa_payload->proposals.size() != 1 || !tsi || !tsr) {
    return InvalidArgumentError("response lacks SA, TSi or TSr");
  }
  const Proposal& accepted = sa_payload->proposals.front();
  RETURN_IF_ERROR(CheckAcceptedProposal(req.proposals, accepted));
  if (accepted.spi.size() != 4) return InvalidArgumentError("accepted CHILD proposal has no 4-byte SPI");
  if (!IsSubset(tsi->selectors, req.tsi) || !IsSubset(tsr->selectors, req.tsr)) {
    return InvalidArgumentError("responder's traffic selectors are not a subset of ours");
  }
  bool transport = FindNotify(in, NotifyType::kUseTransportMode) != nullptr;
  if (transport != (req.config->mode == sa::Mode::kTransport)) {
    return InvalidArgumentError(transport ? "peer chose transport mode we did not ask for"
                                          : "peer refused transport mode");
  }
  ASSIGN_OR_RETURN(ChildAlgorithms algs, ToChildAlgorithms(accepted));
  ASSIGN_OR_RETURN(ChildSaKeys keys, DeriveChildSaKeys(*sa.prf_, sa.keys_.sk_d.span(), g_ir, ni, nr, algs.suite));
  ChildSa child;
  child.config = req.config;
  child.proposal = accepted;
  child.info.child = req.config->name;
  child.info.protocol = algs.protocol;
  child.info.mode = req.config->mode;
  child.info.suite = algs.suite;
  child.info.esn = algs.esn;
  child.info.pfs_group = algs.pfs;
  child.info.spi_in = req.spi_in;
  child.info.spi_out = SpiValue(accepted.spi);
  child.info.local_ts = tsi->selectors;
  child.info.remote_ts = tsr->selectors;
  (void)rekey_of;
  RETURN_IF_ERROR(sa.InstallChild(std::move(child), std::move(keys.responder_to_initiator),
                                  std::move(keys.initiator_to_responder)));
  req.spi_in = 0;  // now owned by the installed child
  return sa.children_.back().info.unique_id;
}

std::optional<NotifyType> ChildCreateTask::RespondChild(IkeSa& sa, const std::vector<Payload>& in, bool ike_auth,
                                                        ChildSa* rekeyed, std::vector<Payload>& out,
                                                        std::vector<std::byte>* out_data, uint32_t* new_child) {
  (void)out_data;
  const auto* sa_payload = Find<SaPayload>(in);
  const TsPayload* tsi = FindTs(in, PayloadType::kTsInitiator);
  const TsPayload* tsr = FindTs(in, PayloadType::kTsResponder);
  if (!sa_payload || !tsi || !tsr) return NotifyType::kInvalidSyntax;
  const KePayload* ke = ike_auth ? nullptr : Find<KePayload>(in);
  const NoncePayload* nonce = ike_auth ? nullptr : Find<NoncePayload>(in);
  if (!ike_auth && !nonce) return NotifyType::kInvalidSyntax;
  bool transport = FindNotify(in, NotifyType::kUseTransportMode) != nullptr;

  // Pick the child config: the rekeyed child's, or the first whose selectors narrow to something
  // and whose proposals match.
  const ChildConfig* cfg = nullptr;
  std::optional<Proposal> chosen;
  std::vector<TrafficSelector> n_tsi, n_tsr;
  bool ts_matched = false;
  std::vector<const ChildConfig*> candidates;
  if (rekeyed) {
    candidates.push_back(rekeyed->config);
  } else {
    for (const ChildConfig& c : sa.config_->children) candidates.push_back(&c);
  }
  for (const ChildConfig* c : candidates) {
    std::vector<TrafficSelector> a, b;
    if (rekeyed) {
      a = Narrow(tsi->selectors, rekeyed->info.remote_ts);
      b = Narrow(tsr->selectors, rekeyed->info.local_ts);
    } else {
      a = Narrow(tsi->selectors, Resolve(c->remote_ts, sa.remote_.addr));
      b = Narrow(tsr->selectors, Resolve(c->local_ts, sa.local_.addr));
    }
    if (a.empty() || b.empty()) continue;
    ts_matched = true;
    if ((c->mode == sa::Mode::kTransport) != transport) continue;
    std::vector<Proposal> ours = ChildProposals(*c, 0, !ike_auth);
    std::optional<DhGroup> pref;
    if (ke) pref = ke->group;
    auto p = SelectProposal(ours, sa_payload->proposals, pref);
    if (!p) continue;
    cfg = c;
    chosen = std::move(p);
    n_tsi = std::move(a);
    n_tsr = std::move(b);
    break;
  }
  if (!cfg) return ts_matched ? NotifyType::kNoProposalChosen : NotifyType::kTsUnacceptable;
  if (chosen->spi.size() != 4) return NotifyType::kInvalidSyntax;
  auto algs = ToChildAlgorithms(*chosen);
  if (!algs.ok()) return NotifyType::kNoProposalChosen;

  // PFS: the KE group must be the chosen one (§1.3, INVALID_KE_PAYLOAD otherwise).
  std::unique_ptr<KeyExchange> kex;
  SecureBytes g_ir;
  if (algs->pfs != DhGroup::kNone) {
    if (!ke || ke->group != algs->pfs) {
      if (out_data) {
        uint16_t g = static_cast<uint16_t>(algs->pfs);
        *out_data = {std::byte(g >> 8), std::byte(g & 0xff)};
      }
      return NotifyType::kInvalidKePayload;
    }
    auto k = CreateKeyExchange(algs->pfs);
    if (!k.ok()) return NotifyType::kNoProposalChosen;
    kex = std::move(k).value();
    auto s = kex->ComputeSharedSecret(ke->data);
    if (!s.ok()) return NotifyType::kInvalidSyntax;
    g_ir = std::move(s).value();
  }
  // A KE payload with a chosen proposal that has no DH transform is ignored: the initiator offered
  // PFS and non-PFS proposals and we preferred one without (strongSwan does the same).

  sa::Protocol protocol = algs->protocol;
  auto spi = sa.ctx_.data_plane.AllocateSpi(protocol);
  if (!spi.ok()) return NotifyType::kNoAdditionalSas;
  std::vector<std::byte> nr;
  Bytes ni = ike_auth ? Bytes(sa.nonce_i_) : Bytes(nonce->nonce);
  if (!ike_auth) {
    nr = RandomBytes(sa, kNonceSize);
  }
  Bytes nr_bytes = ike_auth ? Bytes(sa.nonce_r_) : Bytes(nr);
  auto keys = DeriveChildSaKeys(*sa.prf_, sa.keys_.sk_d.span(), g_ir.span(), ni, nr_bytes, algs->suite);
  if (!keys.ok()) {
    sa.ctx_.data_plane.ReleaseSpi(protocol, *spi);
    return NotifyType::kNoProposalChosen;
  }
  ChildSa child;
  child.config = cfg;
  Proposal accepted = *chosen;
  child.proposal = accepted;
  child.info.child = cfg->name;
  child.info.protocol = protocol;
  child.info.mode = cfg->mode;
  child.info.suite = algs->suite;
  child.info.esn = algs->esn;
  child.info.pfs_group = algs->pfs;
  child.info.spi_in = *spi;
  child.info.spi_out = SpiValue(chosen->spi);
  child.info.local_ts = n_tsr;
  child.info.remote_ts = n_tsi;
  // Keys: the peer initiated this exchange, so our inbound is initiator-to-responder.
  Status st = sa.InstallChild(std::move(child), std::move(keys->initiator_to_responder),
                              std::move(keys->responder_to_initiator));
  if (!st.ok()) {
    sa.ctx_.data_plane.ReleaseSpi(protocol, *spi);
    sa.Log(LogLevel::kError, "installing CHILD_SA failed: " + st.message());
    return NotifyType::kNoProposalChosen;
  }
  if (new_child) *new_child = sa.children_.back().info.unique_id;
  accepted.spi = SpiBytes(*spi);
  if (transport) out.emplace_back(NotifyPayload::Make(NotifyType::kUseTransportMode));
  out.emplace_back(SaPayload{{accepted}});
  if (!ike_auth) out.emplace_back(NoncePayload{nr});
  if (kex) {
    KePayload k;
    k.group = algs->pfs;
    k.data.assign(kex->public_value().begin(), kex->public_value().end());
    out.emplace_back(std::move(k));
  }
  out.emplace_back(TsPayload{PayloadType::kTsInitiator, n_tsi});
  out.emplace_back(TsPayload{PayloadType::kTsResponder, n_tsr});
  if (rekeyed && !ike_auth) {
    // Remember the exchange's lowest nonce for collision resolution if our own rekey of the same
    // child is outstanding.
    rekeyed->peer_rekey_child = sa.children_.back().info.unique_id;
    rekeyed->peer_rekey_min_nonce = MinNonce(std::vector<std::byte>(ni.begin(), ni.end()), nr);
  }
  return std::nullopt;
}

// ---- CREATE_CHILD_SA initiator ----

ChildCreateTask::ChildCreateTask(IkeSa& sa, const ChildConfig* config, uint32_t rekey_of)
    : Task(sa), config_(config), rekey_of_(rekey_of), group_(FirstPfsGroup(*config)) {}

Status ChildCreateTask::BuildRequest(std::vector<Payload>& out) {
  const ChildSa* old = nullptr;
  if (rekey_of_) {
    ChildSa* c = sa_.FindChild(rekey_of_);
    if (!c || c->state != ChildSaState::kInstalled) return FailedPreconditionError("CHILD_SA to rekey is gone");
    c->state = ChildSaState::kRekeying;
    old = c;
    NotifyPayload n = NotifyPayload::Make(NotifyType::kRekeySa);
    n.protocol = WireProtocol(c->info.protocol);
    n.spi = SpiBytes(c->info.spi_in);
    out.emplace_back(std::move(n));
  }
  if (group_ != DhGroup::kNone && (!ke_ || ke_->group() != group_)) {
    ASSIGN_OR_RETURN(ke_, CreateKeyExchange(group_));
  }
  nonce_ = RandomBytes(sa_, kNonceSize);
  if (nonce_.empty()) return InternalError("no randomness for the nonce");
  if (!child_) child_.emplace();
  std::vector<Payload> sa_part, ts_part;
  RETURN_IF_ERROR(BuildChild(sa_, *config_, group_ != DhGroup::kNone, old, *child_, sa_part, ts_part));
  if (group_ != DhGroup::kNone) {
    // Put the proposal with our KE group first so the responder's choice matches our KE.
    std::stable_partition(child_->proposals.begin(), child_->proposals.end(),
                          [&](const Proposal& p) { return ProposalDhGroup(p) == group_; });
    uint8_t n = 1;
    for (Proposal& p : child_->proposals) p.number = n++;
    for (Payload& p : sa_part) {
      if (auto* s = std::get_if<SaPayload>(&p)) s->proposals = child_->proposals;
    }
  }
  for (Payload& p : sa_part) out.push_back(std::move(p));
  out.emplace_back(NoncePayload{nonce_});
  if (ke_) {
    KePayload k;
    k.group = group_;
    k.data.assign(ke_->public_value().begin(), ke_->public_value().end());
    out.emplace_back(std::move(k));
  }
  for (Payload& p : ts_part) out.push_back(std::move(p));
  return OkStatus();
}

Task::Result ChildCreateTask::ProcessResponse(const std::vector<Payload>& in) {
  ChildSa* old = rekey_of_ ? sa_.FindChild(rekey_of_) : nullptr;
  if (const NotifyPayload* k = FindNotify(in, NotifyType::kInvalidKePayload)) {
    if (k->data.size() == 2 && ++restarts_ <= 3) {
      auto wanted = static_cast<DhGroup>(LoadU16Be(k->data.data()));
      bool offered = std::any_of(config_->proposals.begin(), config_->proposals.end(),
                                 [&](const Proposal& p) { return ProposalDhGroup(p) == wanted; });
      if (offered && wanted != group_) {
        group_ = wanted;
        if (old) old->state = ChildSaState::kInstalled;
        return Result::kRestart;
      }
    }
  }
  if (const NotifyPayload* e = FindErrorNotify(in)) {
    sa_.Log(LogLevel::kInfo, std::string(name()) + " refused: " + std::string(NotifyTypeName(e->type)));
    if (old) {
      old->state = ChildSaState::kInstalled;
      if (e->type == NotifyType::kTemporaryFailure || e->type == NotifyType::kChildSaNotFound) {
        // §2.25: try again a little later (a collision with the peer's rekey or delete).
        old->rekey_at = sa_.Now() + Seconds(e->type == NotifyType::kTemporaryFailure ? 2 : 0);
        if (e->type == NotifyType::kChildSaNotFound) old->rekey_at = TimePoint::max();
      }
    }
    return Result::kFailed;
  }
  const NoncePayload* nonce = Find<NoncePayload>(in);
  const KePayload* ke = Find<KePayload>(in);
  if (!nonce) {
    sa_.Log(LogLevel::kError, "CREATE_CHILD_SA response without Nr");
    if (old) old->state = ChildSaState::kInstalled;
    return Result::kFailed;
  }
  SecureBytes g_ir;
  const auto* accepted = Find<SaPayload>(in);
  bool pfs_accepted = accepted && accepted->proposals.size() == 1 &&
                      ProposalDhGroup(accepted->proposals.front()) != DhGroup::kNone;
  if (ke_ && pfs_accepted) {
    if (!ke || ke->group != group_) {
      sa_.Log(LogLevel::kError, "CREATE_CHILD_SA response lacks the PFS KE");
      if (old) old->state = ChildSaState::kInstalled;
      return Result::kFailed;
    }
    auto s = ke_->ComputeSharedSecret(ke->data);
    if (!s.ok()) {
      if (old) old->state = ChildSaState::kInstalled;
      return Result::kFailed;
    }
    g_ir = std::move(s).value();
  }
  auto id = CompleteChild(sa_, *child_, in, g_ir.span(), nonce_, nonce->nonce, rekey_of_);
  if (!id.ok()) {
    sa_.Log(LogLevel::kError, std::string(name()) + " failed: " + id.status().message());
    if (old) old->state = ChildSaState::kInstalled;
    return Result::kFailed;
  }
  if (!rekey_of_) return Result::kDone;
  old = sa_.FindChild(rekey_of_);
  if (!old) return Result::kDone;  // the peer deleted it meanwhile
  if (old->peer_rekey_child != 0 && sa_.FindChild(old->peer_rekey_child)) {
    // §2.8.1 collision: both sides rekeyed this child. The exchange with the lowest nonce created
    // the redundant CHILD_SA, which the side that initiated it deletes.
    const std::vector<std::byte>& ours = MinNonce(nonce_, nonce->nonce);
    bool ours_redundant = std::lexicographical_compare(ours.begin(), ours.end(), old->peer_rekey_min_nonce.begin(),
                                                       old->peer_rekey_min_nonce.end());
    sa_.Log(LogLevel::kInfo, std::string("CHILD_SA rekey collision: ") +
                                 (ours_redundant ? "ours is redundant" : "the peer's is redundant"));
    old->state = ChildSaState::kRekeyed;
    if (ours_redundant) {
      (void)sa_.DeleteChild(*id);
      return Result::kDone;  // the peer deletes the old one
    }
    (void)sa_.DeleteChild(rekey_of_);
    return Result::kDone;
  }
  // §2.8: the initiator of the rekey deletes the old CHILD_SA.
  old->state = ChildSaState::kInstalled;
  (void)sa_.DeleteChild(rekey_of_);
  return Result::kDone;
}

void ChildCreateTask::Abort() {
  if (child_ && child_->spi_in != 0) {
    sa_.ctx_.data_plane.ReleaseSpi(child_->protocol, child_->spi_in);
    child_->spi_in = 0;
  }
  if (rekey_of_) {
    if (ChildSa* c = sa_.FindChild(rekey_of_); c && c->state == ChildSaState::kRekeying) c->state = ChildSaState::kInstalled;
  }
}

// ---- CREATE_CHILD_SA responder ----

void IkeSa::RespondCreateChildSa(const IkeHeader& h, const std::vector<Payload>& in) {
  const auto* sa_payload = task_util::Find<SaPayload>(in);
  if (sa_payload && !sa_payload->proposals.empty() && sa_payload->proposals.front().protocol == ProtocolId::kIke) {
    RespondIkeRekey(h, in);
    return;
  }
  if (state_ != IkeSaState::kEstablished) {
    RespondError(h, NotifyType::kTemporaryFailure);
    return;
  }
  ChildSa* old = nullptr;
  if (const NotifyPayload* r = task_util::FindNotify(in, NotifyType::kRekeySa)) {
    sa::Protocol p = r->protocol == ProtocolId::kAh ? sa::Protocol::kAh : sa::Protocol::kEsp;
    old = FindChildByOutboundSpi(p, task_util::SpiValue(r->spi));
    if (!old) {
      NotifyPayload n = NotifyPayload::Make(NotifyType::kChildSaNotFound);
      n.protocol = r->protocol;
      n.spi = r->spi;
      std::vector<Payload> out;
      out.emplace_back(std::move(n));
      Respond(h, std::move(out));
      return;
    }
    if (old->state == ChildSaState::kDeleting || old->state == ChildSaState::kRekeyed) {
      RespondError(h, NotifyType::kTemporaryFailure);
      return;
    }
    old->peer_rekey_child = 0;
    old->peer_rekey_min_nonce.clear();
  }
  std::vector<Payload> out;
  std::vector<std::byte> data;
  uint32_t new_child = 0;
  auto err = ChildCreateTask::RespondChild(*this, in, false, old, out, &data, &new_child);
  if (err) {
    RespondError(h, *err, data);
    return;
  }
  if (old) {
    // The initiator of the rekey deletes the old child; until then it stays installed for inbound.
    // If our own rekey of it is outstanding, the collision is resolved when our response arrives.
    bool ours_outstanding = old->state == ChildSaState::kRekeying;
    if (!ours_outstanding) old->state = ChildSaState::kRekeyed;
    old->rekey_at = TimePoint::max();
    Log(LogLevel::kInfo, "CHILD_SA {" + std::to_string(old->info.unique_id) + "} rekeyed by the peer as {" +
                             std::to_string(new_child) + "}");
  }
  Respond(h, std::move(out));
}

}  // namespace ipsec::ike
