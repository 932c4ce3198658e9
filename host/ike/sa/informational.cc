// INFORMATIONAL exchanges (RFC 7296 §1.4): DELETE of CHILD_SAs (§1.4.1, SPIs are each side's
// inbound ones) and of the IKE SA, and the empty request used for liveness checks (§2.4).
#include "host/ike/sa/tasks.h"

namespace ipsec::ike {

using namespace task_util;

InformationalTask::InformationalTask(IkeSa& sa, Kind kind, uint32_t child) : Task(sa), kind_(kind), child_(child) {}

const char* InformationalTask::name() const {
  switch (kind_) {
    case Kind::kDeleteChild: return "CHILD_DELETE";
    case Kind::kDeleteIke: return "IKE_DELETE";
    case Kind::kDpd: return "DPD";
  }
  return "INFORMATIONAL";
}

Status InformationalTask::BuildRequest(std::vector<Payload>& out) {
  switch (kind_) {
    case Kind::kDeleteChild: {
      ChildSa* c = sa_.FindChild(child_);
      if (!c) return NotFoundError("CHILD_SA already gone");
      c->state = ChildSaState::kDeleting;
      uint32_t spi = c->info.spi_in;
      out.emplace_back(DeletePayload::ChildSas(
          c->info.protocol == sa::Protocol::kAh ? ProtocolId::kAh : ProtocolId::kEsp, {&spi, 1}));
      return OkStatus();
    }
    case Kind::kDeleteIke:
      out.emplace_back(DeletePayload::IkeSa());
      return OkStatus();
    case Kind::kDpd:
      return OkStatus();
  }
  return OkStatus();
}

Task::Result InformationalTask::ProcessResponse(const std::vector<Payload>& in) {
  (void)in;
  switch (kind_) {
    case Kind::kDeleteChild:
      sa_.RemoveChild(child_, "deleted");
      return Result::kDone;
    case Kind::kDeleteIke:
      return Result::kDestroy;
    case Kind::kDpd:
      return Result::kDone;
  }
  return Result::kDone;
}

void IkeSa::RespondInformational(const IkeHeader& h, const std::vector<Payload>& in) {
  std::vector<uint32_t> esp_out, ah_out;
  bool delete_ike = false;
  for (const Payload& p : in) {
    const auto* d = std::get_if<DeletePayload>(&p);
    if (!d) continue;
    if (d->protocol == ProtocolId::kIke) {
      delete_ike = true;
      continue;
    }
    if (d->protocol != ProtocolId::kEsp && d->protocol != ProtocolId::kAh) continue;
    sa::Protocol proto = d->protocol == ProtocolId::kAh ? sa::Protocol::kAh : sa::Protocol::kEsp;
    for (const auto& spi_bytes : d->spis) {
      ChildSa* c = FindChildByOutboundSpi(proto, task_util::SpiValue(spi_bytes));
      if (!c) continue;  // §1.4.1: unknown SPIs are ignored
      uint32_t id = c->info.unique_id;
      // If we are deleting it too, our own DELETE answers for it; else list our inbound SPI.
      if (c->state != ChildSaState::kDeleting) (proto == sa::Protocol::kAh ? ah_out : esp_out).push_back(c->info.spi_in);
      RemoveChild(id, "deleted by peer");
    }
  }
  std::vector<Payload> out;
  if (delete_ike) {
    Respond(h, std::move(out));
    Destroy("deleted by peer");
    return;
  }
  if (!esp_out.empty()) out.emplace_back(DeletePayload::ChildSas(ProtocolId::kEsp, esp_out));
  if (!ah_out.empty()) out.emplace_back(DeletePayload::ChildSas(ProtocolId::kAh, ah_out));
  Respond(h, std::move(out));
}

}  // namespace ipsec::ike
