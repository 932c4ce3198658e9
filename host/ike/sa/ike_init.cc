// IKE_SA_INIT (RFC 7296 §1.2, §2.6 cookies, §2.7 proposals, §2.10 nonces, §2.23 NAT detection,
// RFC 7383 §2.3 fragmentation support, RFC 7427 §4 signature hash algorithms).
#include <algorithm>

#include "host/ike/sa/tasks.h"

namespace ipsec::ike {

namespace task_util {

std::vector<std::byte> RandomBytes(IkeSa& sa, size_t n) {
  std::vector<std::byte> out(n);
  if (!sa.random().Fill(out).ok()) out.clear();
  return out;
}

const NotifyPayload* FindNotify(const std::vector<Payload>& in, NotifyType type) {
  for (const Payload& p : in) {
    if (const auto* n = std::get_if<NotifyPayload>(&p); n && n->type == type) return n;
  }
  return nullptr;
}

const NotifyPayload* FindErrorNotify(const std::vector<Payload>& in) {
  for (const Payload& p : in) {
    if (const auto* n = std::get_if<NotifyPayload>(&p); n && IsErrorNotify(n->type)) return n;
  }
  return nullptr;
}

const TsPayload* FindTs(const std::vector<Payload>& in, PayloadType type) {
  for (const Payload& p : in) {
    if (const auto* t = std::get_if<TsPayload>(&p); t && t->payload_type == type) return t;
  }
  return nullptr;
}

const IdPayload* FindId(const std::vector<Payload>& in, PayloadType type) {
  for (const Payload& p : in) {
    if (const auto* t = std::get_if<IdPayload>(&p); t && t->payload_type == type) return t;
  }
  return nullptr;
}

std::vector<std::byte> SpiBytes(uint32_t spi) {
  return {std::byte(spi >> 24), std::byte(spi >> 16), std::byte(spi >> 8), std::byte(spi)};
}

uint32_t SpiValue(const std::vector<std::byte>& spi) {
  if (spi.size() != 4) return 0;
  return LoadU32Be(spi.data());
}

std::vector<std::byte> SpiBytes64(uint64_t spi) {
  std::vector<std::byte> out(8);
  for (int i = 0; i < 8; ++i) out[i] = std::byte(spi >> (56 - 8 * i));
  return out;
}

std::vector<Proposal> ChildProposals(const ChildConfig& c, uint32_t spi, bool pfs) {
  std::vector<Proposal> out;
  uint8_t n = 1;
  for (const Proposal& p : c.proposals) {
    Proposal q = p;
    q.number = n++;
    q.spi = SpiBytes(spi);
    if (!pfs) {
      std::erase_if(q.transforms, [](const Transform& t) { return t.type == TransformType::kDh; });
    }
    out.push_back(std::move(q));
  }
  return out;
}

}  // namespace task_util

using namespace task_util;

namespace {
constexpr size_t kNonceSize = 32;

std::vector<std::byte> HashList(std::span<const HashAlgorithm> hashes) {
  std::vector<std::byte> out;
  for (HashAlgorithm h : hashes) {
    out.push_back(std::byte(static_cast<uint16_t>(h) >> 8));
    out.push_back(std::byte(static_cast<uint16_t>(h) & 0xff));
  }
  return out;
}

std::vector<HashAlgorithm> ParseHashList(const std::vector<std::byte>& d) {
  std::vector<HashAlgorithm> out;
  for (size_t i = 0; i + 1 < d.size(); i += 2) out.push_back(static_cast<HashAlgorithm>(LoadU16Be(&d[i])));
  return out;
}

// The capability notifies both sides exchange in IKE_SA_INIT.
void ReadCapabilities(IkeSa& sa, const std::vector<Payload>& in, bool& fragmentation, std::vector<HashAlgorithm>& hashes,
                      bool& certreq) {
  fragmentation = FindNotify(in, NotifyType::kIkev2FragmentationSupported) != nullptr;
  if (const NotifyPayload* n = FindNotify(in, NotifyType::kSignatureHashAlgorithms)) hashes = ParseHashList(n->data);
  certreq = Find<CertReqPayload>(in) != nullptr;
  (void)sa;
}
}  // namespace

IkeInitTask::IkeInitTask(IkeSa& sa, DhGroup group) : Task(sa), group_(group) {}

Status IkeInitTask::BuildRequest(std::vector<Payload>& out) {
  const PeerConfig& cfg = *sa_.config_;
  if (!ke_ || ke_->group() != group_) {
    ASSIGN_OR_RETURN(ke_, CreateKeyExchange(group_));
  }
  if (sa_.nonce_i_.empty()) {
    sa_.nonce_i_ = RandomBytes(sa_, kNonceSize);
    if (sa_.nonce_i_.empty()) return InternalError("no randomness for the nonce");
  }
  if (!cookie_.empty()) out.emplace_back(NotifyPayload::Make(NotifyType::kCookie, cookie_));
  SaPayload sa_payload;
  uint8_t n = 1;
  for (const Proposal& p : cfg.ike_proposals) {
    Proposal q = p;
    q.number = n++;
    q.spi.clear();
    sa_payload.proposals.push_back(std::move(q));
  }
  out.emplace_back(std::move(sa_payload));
  KePayload ke;
  ke.group = group_;
  ke.data.assign(ke_->public_value().begin(), ke_->public_value().end());
  out.emplace_back(std::move(ke));
  out.emplace_back(NoncePayload{sa_.nonce_i_});
  for (Payload& p : sa_.NatDetectionNotifies(0)) out.push_back(std::move(p));
  if (cfg.fragmentation != FragmentationPolicy::kNo) {
    out.emplace_back(NotifyPayload::Make(NotifyType::kIkev2FragmentationSupported));
  }
  std::vector<HashAlgorithm> hashes = sa_.ctx_.credentials.SignatureHashes();
  if (!hashes.empty()) out.emplace_back(NotifyPayload::Make(NotifyType::kSignatureHashAlgorithms, HashList(hashes)));
  return OkStatus();
}

Task::Result IkeInitTask::ProcessResponse(const std::vector<Payload>& in) {
  if (const NotifyPayload* c = FindNotify(in, NotifyType::kCookie)) {
    if (++restarts_ > 5 || c->data.empty() || c->data.size() > kMaxCookieSize) return Result::kDestroy;
    cookie_ = c->data;
    sa_.Log(LogLevel::kInfo, "responder asked for a cookie; retrying");
    return Result::kRestart;
  }
  if (const NotifyPayload* k = FindNotify(in, NotifyType::kInvalidKePayload)) {
    if (++restarts_ > 5 || k->data.size() != 2) return Result::kDestroy;
    auto wanted = static_cast<DhGroup>(LoadU16Be(k->data.data()));
    bool offered = std::any_of(sa_.config_->ike_proposals.begin(), sa_.config_->ike_proposals.end(),
                               [&](const Proposal& p) {
                                 return std::any_of(p.transforms.begin(), p.transforms.end(), [&](const Transform& t) {
                                   return t.type == TransformType::kDh && t.id == static_cast<uint16_t>(wanted);
                                 });
                               });
    if (!offered || !IsSupportedKeyExchange(wanted) || wanted == group_) {
      sa_.Log(LogLevel::kError, "peer wants DH group " + std::to_string(static_cast<int>(wanted)) + ", not offered");
      return Result::kDestroy;
    }
    sa_.Log(LogLevel::kInfo, "peer wants DH group " + std::to_string(static_cast<int>(wanted)) + "; retrying");
    group_ = wanted;
    return Result::kRestart;
  }
  if (const NotifyPayload* e = FindErrorNotify(in)) {
    sa_.Log(LogLevel::kError, "IKE_SA_INIT failed: peer sent " + std::string(NotifyTypeName(e->type)));
    return Result::kDestroy;
  }
  const auto* sa_payload = Find<SaPayload>(in);
  const auto* ke = Find<KePayload>(in);
  const auto* nonce = Find<NoncePayload>(in);
  if (!sa_payload || !ke || !nonce || sa_payload->proposals.size() != 1 || sa_.spi_r_ == 0) {
    sa_.Log(LogLevel::kError, "IKE_SA_INIT response lacks SA, KE, Nr or the responder SPI");
    return Result::kDestroy;
  }
  const Proposal& accepted = sa_payload->proposals.front();
  std::vector<Proposal> offered;
  uint8_t n = 1;
  for (Proposal p : sa_.config_->ike_proposals) {
    p.number = n++;
    p.spi.clear();
    offered.push_back(std::move(p));
  }
  if (Status st = CheckAcceptedProposal(offered, accepted); !st.ok()) {
    sa_.Log(LogLevel::kError, "IKE_SA_INIT: " + st.message());
    return Result::kDestroy;
  }
  if (ProposalDhGroup(accepted) != group_ || ke->group != group_) {
    sa_.Log(LogLevel::kError, "IKE_SA_INIT: DH group of the response does not match our KE");
    return Result::kDestroy;
  }
  auto g_ir = ke_->ComputeSharedSecret(ke->data);
  if (!g_ir.ok()) {
    sa_.Log(LogLevel::kError, "IKE_SA_INIT: bad KE from peer: " + g_ir.status().message());
    return Result::kDestroy;
  }
  sa_.nonce_r_ = nonce->nonce;
  auto algs = ToIkeAlgorithms(accepted);
  if (!algs.ok()) return Result::kDestroy;
  auto prf = Prf::Create(algs->transforms.prf);
  if (!prf.ok()) return Result::kDestroy;
  auto skeyseed = ComputeSkeyseed(*prf, sa_.nonce_i_, sa_.nonce_r_, g_ir->span());
  if (!skeyseed.ok()) return Result::kDestroy;
  if (Status st = sa_.SetupKeys(accepted, skeyseed->span(), sa_.nonce_i_, sa_.nonce_r_); !st.ok()) {
    sa_.Log(LogLevel::kError, "IKE_SA_INIT: key derivation failed: " + st.message());
    return Result::kDestroy;
  }
  sa_.NatDetect(in, sa_.spi_r_);
  ReadCapabilities(sa_, in, sa_.peer_fragmentation_, sa_.peer_hashes_, sa_.peer_sent_certreq_);
  if (sa_.nat_detected()) sa_.FloatToNatT();
  return Result::kDone;
}

void IkeSa::RespondIkeSaInit(const IkeHeader& h, Bytes raw, const std::vector<Payload>& in) {
  init_request_.assign(raw.begin(), raw.end());
  const auto* sa_payload = task_util::Find<SaPayload>(in);
  const auto* ke = task_util::Find<KePayload>(in);
  const auto* nonce = task_util::Find<NoncePayload>(in);
  if (!sa_payload || !ke || !nonce) {
    RespondError(h, NotifyType::kInvalidSyntax);
    Destroy("IKE_SA_INIT without SA, KE or Ni");
    return;
  }
  std::vector<Proposal> ours;
  for (const auto& c : candidates_) ours.insert(ours.end(), c->ike_proposals.begin(), c->ike_proposals.end());
  std::optional<Proposal> chosen = SelectProposal(ours, sa_payload->proposals, ke->group);
  if (!chosen) {
    RespondError(h, NotifyType::kNoProposalChosen);
    Destroy("no acceptable IKE proposal");
    return;
  }
  DhGroup group = ProposalDhGroup(*chosen);
  if (group != ke->group) {
    // §1.2: tell the initiator which group we want; no state is kept.
    std::byte d[2] = {std::byte(static_cast<uint16_t>(group) >> 8), std::byte(static_cast<uint16_t>(group) & 0xff)};
    RespondError(h, NotifyType::kInvalidKePayload, d);
    Destroy("initiator used another DH group");
    return;
  }
  auto kex = CreateKeyExchange(group);
  if (!kex.ok()) {
    RespondError(h, NotifyType::kNoProposalChosen);
    Destroy("DH group not available");
    return;
  }
  auto g_ir = (*kex)->ComputeSharedSecret(ke->data);
  if (!g_ir.ok()) {
    RespondError(h, NotifyType::kInvalidSyntax);
    Destroy("bad KE payload: " + g_ir.status().message());
    return;
  }
  nonce_i_ = nonce->nonce;
  nonce_r_ = task_util::RandomBytes(*this, kNonceSize);
  auto algs = ToIkeAlgorithms(*chosen);
  auto prf = algs.ok() ? Prf::Create(algs->transforms.prf) : StatusOr<Prf>(algs.status());
  auto skeyseed = prf.ok() ? ComputeSkeyseed(*prf, nonce_i_, nonce_r_, g_ir->span()) : StatusOr<SecureBytes>(prf.status());
  Status st = skeyseed.ok() ? SetupKeys(*chosen, skeyseed->span(), nonce_i_, nonce_r_) : skeyseed.status();
  if (!st.ok() || nonce_r_.empty()) {
    RespondError(h, NotifyType::kNoProposalChosen);
    Destroy("key derivation failed: " + st.message());
    return;
  }
  NatDetect(in, 0);
  bool frag = false, certreq = false;
  ReadCapabilities(*this, in, frag, peer_hashes_, certreq);
  const PeerConfig& first = *candidates_.front();
  peer_fragmentation_ = frag && first.fragmentation != FragmentationPolicy::kNo;

  std::vector<Payload> out;
  out.emplace_back(SaPayload{{*chosen}});
  KePayload our_ke;
  our_ke.group = group;
  our_ke.data.assign((*kex)->public_value().begin(), (*kex)->public_value().end());
  out.emplace_back(std::move(our_ke));
  out.emplace_back(NoncePayload{nonce_r_});
  for (Payload& p : NatDetectionNotifies(spi_r_)) out.push_back(std::move(p));
  std::vector<std::byte> cas = ctx_.credentials.CertificateAuthorities();
  if (first.send_certreq && !cas.empty()) out.emplace_back(CertReqPayload{CertEncoding::kX509Signature, cas});
  if (peer_fragmentation_) out.emplace_back(NotifyPayload::Make(NotifyType::kIkev2FragmentationSupported));
  std::vector<HashAlgorithm> hashes = ctx_.credentials.SignatureHashes();
  if (!peer_hashes_.empty() && !hashes.empty()) {
    out.emplace_back(NotifyPayload::Make(NotifyType::kSignatureHashAlgorithms, HashList(hashes)));
  }
  Respond(h, std::move(out));
  Log(LogLevel::kInfo, "IKE_SA_INIT from " + remote_.ToString() + ": " + DescribeProposal(*chosen));
}

}  // namespace ipsec::ike
