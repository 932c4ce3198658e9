// IKE_AUTH (RFC 7296 §1.2, §2.15 authentication, §3.5 identities, §3.6-3.7 certificates) with the
// first CHILD_SA; as responder also the choice of the peer config by identity.
#include <algorithm>

#include "host/ike/sa/tasks.h"

namespace ipsec::ike {

using namespace task_util;

namespace {
IdPayload MakeId(PayloadType type, const Identity& id) {
  IdPayload p;
  p.payload_type = type;
  p.id_type = id.type;
  p.data = id.data;
  return p;
}

std::vector<std::vector<std::byte>> CollectCerts(const std::vector<Payload>& in) {
  std::vector<std::vector<std::byte>> out;
  for (const Payload& p : in) {
    if (const auto* c = std::get_if<CertPayload>(&p); c && c->encoding == CertEncoding::kX509Signature) {
      out.push_back(c->data);
    }
  }
  return out;
}

Status AddCerts(IkeSa& sa, const Credentials& creds, const Identity& local, std::vector<Payload>& out) {
  auto chain = creds.CertificateChain(local);
  if (!chain.ok()) return chain.status();
  for (auto& der : *chain) out.emplace_back(CertPayload{CertEncoding::kX509Signature, std::move(der)});
  (void)sa;
  return OkStatus();
}
}  // namespace

IkeAuthTask::IkeAuthTask(IkeSa& sa, const ChildConfig* child) : Task(sa), child_config_(child) {}

Status IkeAuthTask::BuildRequest(std::vector<Payload>& out) {
  const PeerConfig& cfg = *sa_.config_;
  if (cfg.local.id.any || cfg.local.id.data.empty()) return FailedPreconditionError("no local identity configured");
  IdPayload idi = MakeId(PayloadType::kIdInitiator, cfg.local.id);
  sa_.our_id_ = idi;
  out.emplace_back(idi);
  if (cfg.local.auth == AuthClass::kPubkey) RETURN_IF_ERROR(AddCerts(sa_, sa_.ctx_.credentials, cfg.local.id, out));
  if (cfg.remote.auth == AuthClass::kPubkey && cfg.send_certreq) {
    std::vector<std::byte> cas = sa_.ctx_.credentials.CertificateAuthorities();
    if (!cas.empty()) out.emplace_back(CertReqPayload{CertEncoding::kX509Signature, cas});
  }
  if (cfg.initial_contact) out.emplace_back(NotifyPayload::Make(NotifyType::kInitialContact));
  if (!cfg.remote.id.any && !cfg.remote.id.data.empty()) out.emplace_back(MakeId(PayloadType::kIdResponder, cfg.remote.id));
  ASSIGN_OR_RETURN(AuthPayload auth, sa_.BuildAuth(true, idi, cfg.remote.id));
  out.emplace_back(std::move(auth));
  if (child_config_) {
    child_.emplace();
    std::vector<Payload> sa_part, ts_part;
    RETURN_IF_ERROR(ChildCreateTask::BuildChild(sa_, *child_config_, false, nullptr, *child_, sa_part, ts_part));
    for (Payload& p : sa_part) out.push_back(std::move(p));
    for (Payload& p : ts_part) out.push_back(std::move(p));
  }
  return OkStatus();
}

Task::Result IkeAuthTask::ProcessResponse(const std::vector<Payload>& in) {
  const PeerConfig& cfg = *sa_.config_;
  const IdPayload* idr = FindId(in, PayloadType::kIdResponder);
  const AuthPayload* auth = Find<AuthPayload>(in);
  if (!idr || !auth) {
    const NotifyPayload* e = FindErrorNotify(in);
    sa_.Log(LogLevel::kError, std::string("IKE_AUTH failed: ") +
                                  (e ? std::string(NotifyTypeName(e->type)) : std::string("no IDr/AUTH in response")));
    return Result::kDestroy;
  }
  if (!cfg.remote.id.Matches(idr->id_type, idr->data)) {
    sa_.Log(LogLevel::kError, "IKE_AUTH: responder identity " + Identity{idr->id_type, idr->data, false}.ToString() +
                                  " does not match " + cfg.remote.id.ToString());
    return Result::kDestroy;
  }
  sa_.peer_id_ = *idr;
  if (Status st = sa_.VerifyAuth(false, *auth, *idr, CollectCerts(in), cfg); !st.ok()) {
    sa_.Log(LogLevel::kError, "IKE_AUTH: authentication of the responder failed: " + st.message());
    return Result::kDestroy;
  }
  sa_.Log(LogLevel::kInfo, "authenticated responder " + Identity{idr->id_type, idr->data, false}.ToString() +
                               (auth->method == AuthMethod::kSharedKeyMic ? " with PSK" : " with a signature"));
  sa_.Established();
  if (child_) {
    if (const NotifyPayload* e = FindErrorNotify(in)) {
      sa_.Log(LogLevel::kError, "first CHILD_SA refused: " + std::string(NotifyTypeName(e->type)));
      Abort();
      return Result::kDone;  // §1.2: the IKE SA stands without the child
    }
    auto id = ChildCreateTask::CompleteChild(sa_, *child_, in, {}, sa_.nonce_i_, sa_.nonce_r_, 0);
    if (!id.ok()) {
      sa_.Log(LogLevel::kError, "first CHILD_SA failed: " + id.status().message());
      Abort();
    }
  }
  return Result::kDone;
}

void IkeAuthTask::Abort() {
  if (child_ && child_->spi_in != 0) {
    sa_.ctx_.data_plane.ReleaseSpi(child_->protocol, child_->spi_in);
    child_->spi_in = 0;
  }
}

void IkeSa::RespondIkeAuth(const IkeHeader& h, const std::vector<Payload>& in) {
  const IdPayload* idi = task_util::FindId(in, PayloadType::kIdInitiator);
  const IdPayload* idr_hint = task_util::FindId(in, PayloadType::kIdResponder);
  const AuthPayload* auth = task_util::Find<AuthPayload>(in);
  if (!idi || !auth) {
    RespondError(h, NotifyType::kAuthenticationFailed);
    Destroy("IKE_AUTH without IDi or AUTH");
    return;
  }
  if (task_util::Find<EapPayload>(in) != nullptr) {
    RespondError(h, NotifyType::kAuthenticationFailed);
    Destroy("EAP is not supported");
    return;
  }
  // The peer config: the first candidate whose remote identity matches IDi and, when the
  // initiator named us, whose local identity matches IDr.
  std::shared_ptr<const PeerConfig> chosen;
  for (const auto& c : candidates_) {
    if (!c->remote.id.Matches(idi->id_type, idi->data)) continue;
    if (idr_hint && !c->local.id.Matches(idr_hint->id_type, idr_hint->data)) continue;
    chosen = c;
    break;
  }
  std::string peer = Identity{idi->id_type, idi->data, false}.ToString();
  if (!chosen) {
    Log(LogLevel::kError, "no connection matches initiator identity " + peer);
    RespondError(h, NotifyType::kAuthenticationFailed);
    Destroy("no matching peer config");
    return;
  }
  config_ = chosen;
  force_encap_ = force_encap_ || config_->force_encap;
  peer_id_ = *idi;
  std::vector<std::vector<std::byte>> certs;
  for (const Payload& p : in) {
    if (const auto* c = std::get_if<CertPayload>(&p); c && c->encoding == CertEncoding::kX509Signature) {
      certs.push_back(c->data);
    }
  }
  if (Status st = VerifyAuth(true, *auth, *idi, certs, *config_); !st.ok()) {
    Log(LogLevel::kError, "authentication of " + peer + " failed: " + st.message());
    RespondError(h, NotifyType::kAuthenticationFailed);
    Destroy("authentication failed");
    return;
  }
  std::vector<Payload> out;
  IdPayload idr;
  idr.payload_type = PayloadType::kIdResponder;
  idr.id_type = config_->local.id.type;
  idr.data = config_->local.id.data;
  our_id_ = idr;
  out.emplace_back(idr);
  if (config_->local.auth == AuthClass::kPubkey) {
    auto chain = ctx_.credentials.CertificateChain(config_->local.id);
    if (chain.ok()) {
      for (auto& der : *chain) out.emplace_back(CertPayload{CertEncoding::kX509Signature, std::move(der)});
    }
  }
  auto our_auth = BuildAuth(false, idr, Identity{idi->id_type, idi->data, false});
  if (!our_auth.ok()) {
    Log(LogLevel::kError, "cannot build our AUTH: " + our_auth.status().message());
    RespondError(h, NotifyType::kAuthenticationFailed);
    Destroy("no credentials");
    return;
  }
  out.emplace_back(std::move(*our_auth));
  Log(LogLevel::kInfo, "authenticated initiator " + peer +
                           (auth->method == AuthMethod::kSharedKeyMic ? " with PSK" : " with a signature"));
  Established();
  if (task_util::Find<SaPayload>(in) != nullptr) {
    std::vector<Payload> child_part;
    auto err = ChildCreateTask::RespondChild(*this, in, true, nullptr, child_part, nullptr, nullptr);
    if (err) {
      Log(LogLevel::kInfo, "first CHILD_SA refused: " + std::string(NotifyTypeName(*err)));
      out.emplace_back(NotifyPayload::Make(*err));
    } else {
      for (Payload& p : child_part) out.push_back(std::move(p));
    }
  }
  Respond(h, std::move(out));
}

}  // namespace ipsec::ike
