// Proposal selection (RFC 7296 §2.7, §3.3) and the mapping from a chosen proposal to what the
// crypto layer and the data plane run.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "host/common/status.h"
#include "host/ike/crypto/key_derivation.h"
#include "host/ike/encoding/payloads/sa_payload.h"
#include "host/sa/sa_config.h"
#include "host/sa/suite.h"

namespace ipsec::ike {

// Picks the proposal to accept from the peer's offer. Our proposals are tried in our order
// (strongSwan's prefer_configured_proposals); within one, for every transform type we pick our
// first transform that the peer's proposal also carries. A proposal is acceptable when both sides
// carry the same transform types (ignoring INTEG NONE) and every type has a common transform. The
// result carries the peer proposal's number and SPI and exactly one transform per type.
// `preferred_dh`, if set and acceptable in the chosen proposal, wins the DH choice (the group of
// the peer's KE payload). Returns nullopt when nothing matches (NO_PROPOSAL_CHOSEN).
std::optional<Proposal> SelectProposal(std::span<const Proposal> ours, std::span<const Proposal> theirs,
                                       std::optional<DhGroup> preferred_dh = std::nullopt);

// As initiator: a response's single accepted proposal must be a subset of one we offered (same
// number and protocol, each transform one we offered in that proposal). Errors kInvalidArgument.
Status CheckAcceptedProposal(std::span<const Proposal> offered, const Proposal& accepted);

// The first transform of a type, if any.
const Transform* FindTransform(const Proposal& p, TransformType type);
DhGroup ProposalDhGroup(const Proposal& p);  // kNone without a DH transform

// IKE SA proposal → transforms for key derivation and SK. Errors kUnimplemented.
struct IkeAlgorithms {
  IkeSaTransforms transforms;
  DhGroup dh = DhGroup::kNone;
};
StatusOr<IkeAlgorithms> ToIkeAlgorithms(const Proposal& p);

// CHILD SA proposal (ESP or AH) → data-plane suite. Errors kUnimplemented.
struct ChildAlgorithms {
  sa::Protocol protocol = sa::Protocol::kEsp;
  sa::Suite suite = sa::Suite::kAesGcm128;
  bool esn = false;
  DhGroup pfs = DhGroup::kNone;
};
StatusOr<ChildAlgorithms> ToChildAlgorithms(const Proposal& p);

// "AES_GCM_16_256/PRF_HMAC_SHA2_256/CURVE_25519" style text for logs and the control tool.
std::string DescribeProposal(const Proposal& p);

}  // namespace ipsec::ike
