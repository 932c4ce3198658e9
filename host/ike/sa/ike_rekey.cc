// IKE SA rekeying with CREATE_CHILD_SA (RFC 7296 §1.3.2, §2.18): new SPIs, nonces and a fresh DH
// exchange; SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr); the CHILD_SAs move to the new IKE SA
// and the rekey initiator deletes the old one.
//
// Collisions (§2.8.1): when the peer's rekey request arrives while ours is outstanding, we answer
// it and keep the IKE SA it creates aside. When our response arrives, the new IKE SA created by
// the exchange with the lowest nonce is redundant: its creator deletes it, the CHILD_SAs move to
// the other one, and the winner's creator deletes the old IKE SA. Both sides reach the same
// verdict. A rekey request while another of our exchanges is outstanding gets TEMPORARY_FAILURE
// (§2.25), and the peer retries.
#include <algorithm>

#include "host/ike/sa/tasks.h"

namespace ipsec::ike {

using namespace task_util;

namespace {
constexpr size_t kNonceSize = 32;

std::vector<std::byte> LowestNonce(Bytes a, Bytes b) {
  bool a_lower = std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  Bytes m = a_lower ? a : b;
  return {m.begin(), m.end()};
}

uint64_t RandomSpi(IkeSa& sa) {
  for (int i = 0; i < 8; ++i) {
    std::vector<std::byte> b = RandomBytes(sa, 8);
    if (b.size() == 8) {
      uint64_t v = LoadU64Be(b.data());
      if (v != 0) return v;
    }
  }
  return 0;
}
}  // namespace

IkeRekeyTask::IkeRekeyTask(IkeSa& sa) : Task(sa), group_(sa.algorithms_.dh) {}

Status IkeRekeyTask::BuildRequest(std::vector<Payload>& out) {
  if (sa_.state_ != IkeSaState::kEstablished) return FailedPreconditionError("IKE SA is not established");
  if (new_spi_ == 0) new_spi_ = RandomSpi(sa_);
  if (new_spi_ == 0) return InternalError("no randomness for the SPI");
  if (!ke_ || ke_->group() != group_) {
    ASSIGN_OR_RETURN(ke_, CreateKeyExchange(group_));
  }
  nonce_ = RandomBytes(sa_, kNonceSize);
  SaPayload sa_payload;
  for (const Proposal& p : sa_.config_->ike_proposals) {
    Proposal q = p;
    q.spi = SpiBytes64(new_spi_);
    sa_payload.proposals.push_back(std::move(q));
  }
  std::stable_partition(sa_payload.proposals.begin(), sa_payload.proposals.end(), [&](const Proposal& p) {
    return std::any_of(p.transforms.begin(), p.transforms.end(), [&](const Transform& t) {
      return t.type == TransformType::kDh && t.id == static_cast<uint16_t>(group_);
    });
  });
  uint8_t n = 1;
  for (Proposal& p : sa_payload.proposals) p.number = n++;
  offered_ = sa_payload.proposals;
  out.emplace_back(std::move(sa_payload));
  out.emplace_back(NoncePayload{nonce_});
  KePayload ke;
  ke.group = group_;
  ke.data.assign(ke_->public_value().begin(), ke_->public_value().end());
  out.emplace_back(std::move(ke));
  return OkStatus();
}

Task::Result IkeRekeyTask::ProcessResponse(const std::vector<Payload>& in) {
  if (const NotifyPayload* k = FindNotify(in, NotifyType::kInvalidKePayload); k && k->data.size() == 2) {
    auto wanted = static_cast<DhGroup>(LoadU16Be(k->data.data()));
    if (++restarts_ <= 3 && wanted != group_ && IsSupportedKeyExchange(wanted)) {
      group_ = wanted;
      return Result::kRestart;
    }
  }
  if (const NotifyPayload* e = FindErrorNotify(in)) {
    sa_.Log(LogLevel::kInfo, "IKE rekey refused: " + std::string(NotifyTypeName(e->type)) + "; retrying later");
    std::vector<std::byte> r = RandomBytes(sa_, 1);
    sa_.rekey_at_ = sa_.Now() + Seconds(2 + (r.empty() ? 0 : std::to_integer<int>(r[0]) % 8));
    return Result::kFailed;
  }
  const auto* sa_payload = Find<SaPayload>(in);
  const auto* nonce = Find<NoncePayload>(in);
  const auto* ke = Find<KePayload>(in);
  if (!sa_payload || sa_payload->proposals.size() != 1 || !nonce || !ke) {
    sa_.Log(LogLevel::kError, "IKE rekey response lacks SA, Nr or KE");
    return Result::kFailed;
  }
  const Proposal& accepted = sa_payload->proposals.front();
  Status st = CheckAcceptedProposal(offered_, accepted);
  if (st.ok() && (accepted.spi.size() != 8 || ProposalDhGroup(accepted) != group_ || ke->group != group_)) {
    st = InvalidArgumentError("bad SPI or DH group");
  }
  if (!st.ok()) {
    sa_.Log(LogLevel::kError, "IKE rekey response: " + st.message());
    return Result::kFailed;
  }
  auto g_ir = ke_->ComputeSharedSecret(ke->data);
  if (!g_ir.ok()) return Result::kFailed;
  auto skeyseed = ComputeRekeySkeyseed(*sa_.prf_, sa_.keys_.sk_d.span(), g_ir->span(), nonce_, nonce->nonce);
  if (!skeyseed.ok()) return Result::kFailed;
  uint64_t spi_r = LoadU64Be(accepted.spi.data());
  std::unique_ptr<IkeSa> fresh = sa_.SpawnRekeyed(true, new_spi_, spi_r);
  if (Status k = fresh->SetupKeys(accepted, skeyseed->span(), nonce_, nonce->nonce); !k.ok()) {
    sa_.Log(LogLevel::kError, "IKE rekey key derivation failed: " + k.message());
    return Result::kFailed;
  }
  for (auto& t : sa_.queue_) t->Abort();
  sa_.queue_.clear();
  if (sa_.collision_sa_) {
    std::vector<std::byte> ours = LowestNonce(nonce_, nonce->nonce);
    const auto& theirs = sa_.collision_min_nonce_;
    bool ours_redundant = std::lexicographical_compare(ours.begin(), ours.end(), theirs.begin(), theirs.end());
    sa_.Log(LogLevel::kInfo, std::string("IKE rekey collision: ") +
                                 (ours_redundant ? "ours is redundant" : "the peer's is redundant"));
    std::unique_ptr<IkeSa> peers = std::move(sa_.collision_sa_);
    if (ours_redundant) {
      // The children go to the peer's new IKE SA; we delete ours; the peer deletes the old one.
      sa_.HandOver(std::move(peers));
      fresh->Established();
      IkeSa* loser = fresh.get();
      if (sa_.adopt) sa_.adopt(std::move(fresh));
      loser->Delete();
      sa_.state_ = IkeSaState::kRekeyed;
      sa_.rekey_at_ = sa_.dpd_at_ = TimePoint::max();
      sa_.hard_delete_at_ = sa_.Now() + Seconds(30);
      return Result::kDone;
    }
    // Ours wins: the peer deletes its new IKE SA, which stays reachable until then.
    peers->Established();
    if (sa_.adopt) sa_.adopt(std::move(peers));
  }
  sa_.HandOver(std::move(fresh));
  // §2.18: the initiator of the (surviving) rekey deletes the old IKE SA.
  sa_.state_ = IkeSaState::kDeleting;
  sa_.queue_.push_back(std::make_unique<InformationalTask>(sa_, InformationalTask::Kind::kDeleteIke));
  return Result::kDone;
}

void IkeRekeyTask::Abort() {
  // Our rekey failed but the peer's went through: its new IKE SA takes over.
  if (sa_.collision_sa_) {
    sa_.HandOver(std::move(sa_.collision_sa_));
    sa_.state_ = IkeSaState::kRekeyed;
    sa_.rekey_at_ = sa_.dpd_at_ = TimePoint::max();
    sa_.hard_delete_at_ = sa_.Now() + Seconds(30);
  }
}

std::unique_ptr<IkeSa> IkeSa::SpawnRekeyed(bool we_initiated, uint64_t spi_i, uint64_t spi_r) {
  std::unique_ptr<IkeSa> n(new IkeSa(ctx_, next_ike_id ? next_ike_id() : unique_id_ + 1, we_initiated, local_, remote_,
                                     spi_i, spi_r));
  n->config_ = config_;
  n->nat_local_ = nat_local_;
  n->nat_remote_ = nat_remote_;
  n->force_encap_ = force_encap_;
  n->peer_fragmentation_ = peer_fragmentation_;
  n->peer_hashes_ = peer_hashes_;
  n->peer_id_ = peer_id_;
  n->our_id_ = our_id_;
  n->adopt = adopt;
  n->next_child_id = next_child_id;
  n->next_ike_id = next_ike_id;
  return n;
}

void IkeSa::HandOver(std::unique_ptr<IkeSa> fresh) {
  TimePoint now = Now();
  for (ChildSa& c : children_) {
    if (c.state == ChildSaState::kRekeying) c.state = ChildSaState::kInstalled;
    if (c.state == ChildSaState::kInstalled && c.rekey_at == TimePoint::max()) c.rekey_at = now + Seconds(1);
    fresh->children_.push_back(std::move(c));
  }
  children_.clear();
  fresh->Established();
  Log(LogLevel::kInfo, "IKE SA rekeyed as [" + std::to_string(fresh->unique_id()) + "]");
  if (adopt) adopt(std::move(fresh));
}

void IkeSa::RespondIkeRekey(const IkeHeader& h, const std::vector<Payload>& in) {
  bool collision = active_ && std::string_view(active_->name()) == "IKE_REKEY";
  if (state_ != IkeSaState::kEstablished || collision_sa_ ||
      (active_ && !collision && std::string_view(active_->name()) != "DPD")) {
    RespondError(h, NotifyType::kTemporaryFailure);
    return;
  }
  const auto* sa_payload = task_util::Find<SaPayload>(in);
  const auto* nonce = task_util::Find<NoncePayload>(in);
  const auto* ke = task_util::Find<KePayload>(in);
  if (!sa_payload || !nonce || !ke) {
    RespondError(h, NotifyType::kInvalidSyntax);
    return;
  }
  std::optional<Proposal> chosen = SelectProposal(config_->ike_proposals, sa_payload->proposals, ke->group);
  if (!chosen || chosen->spi.size() != 8) {
    RespondError(h, NotifyType::kNoProposalChosen);
    return;
  }
  DhGroup group = ProposalDhGroup(*chosen);
  if (group != ke->group) {
    std::byte d[2] = {std::byte(static_cast<uint16_t>(group) >> 8), std::byte(static_cast<uint16_t>(group) & 0xff)};
    RespondError(h, NotifyType::kInvalidKePayload, d);
    return;
  }
  auto kex = CreateKeyExchange(group);
  if (!kex.ok()) {
    RespondError(h, NotifyType::kNoProposalChosen);
    return;
  }
  auto g_ir = (*kex)->ComputeSharedSecret(ke->data);
  if (!g_ir.ok()) {
    RespondError(h, NotifyType::kInvalidSyntax);
    return;
  }
  std::vector<std::byte> nr = task_util::RandomBytes(*this, kNonceSize);
  uint64_t our_spi = RandomSpi(*this);
  auto skeyseed = ComputeRekeySkeyseed(*prf_, keys_.sk_d.span(), g_ir->span(), nonce->nonce, nr);
  if (!skeyseed.ok() || our_spi == 0 || nr.empty()) {
    RespondError(h, NotifyType::kNoProposalChosen);
    return;
  }
  uint64_t peer_spi = LoadU64Be(chosen->spi.data());
  std::unique_ptr<IkeSa> fresh = SpawnRekeyed(false, peer_spi, our_spi);
  if (Status st = fresh->SetupKeys(*chosen, skeyseed->span(), nonce->nonce, nr); !st.ok()) {
    RespondError(h, NotifyType::kNoProposalChosen);
    return;
  }
  Proposal accepted = *chosen;
  accepted.spi = task_util::SpiBytes64(our_spi);
  std::vector<Payload> out;
  out.emplace_back(SaPayload{{accepted}});
  out.emplace_back(NoncePayload{nr});
  KePayload k;
  k.group = group;
  k.data.assign((*kex)->public_value().begin(), (*kex)->public_value().end());
  out.emplace_back(std::move(k));
  Respond(h, std::move(out));
  if (collision) {
    collision_min_nonce_ = LowestNonce(nonce->nonce, nr);
    collision_sa_ = std::move(fresh);
    Log(LogLevel::kInfo, "the peer rekeyed this IKE SA while our rekey is outstanding");
    return;
  }
  for (auto& t : queue_) t->Abort();
  queue_.clear();
  HandOver(std::move(fresh));
  // The peer deletes this IKE SA; if that never comes, it goes after a grace period.
  state_ = IkeSaState::kRekeyed;
  rekey_at_ = TimePoint::max();
  dpd_at_ = TimePoint::max();
  hard_delete_at_ = Now() + Seconds(30);
}

}  // namespace ipsec::ike
