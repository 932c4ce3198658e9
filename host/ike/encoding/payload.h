// Payload: the closed set of decoded IKEv2 payloads (RFC 7296 §3.2-§3.16, RFC 7383 §2.5) as a
// std::variant, with the helpers every layer needs: its wire type and its semantic check.
//
// IDi/IDr share IdPayload and TSi/TSr share TsPayload; the member `payload_type` tells them apart.
// SK and SKF keep their ciphertext opaque (see encrypted_payload.h).
#pragma once

#include <variant>

#include "host/common/status.h"
#include "host/ike/encoding/ike_constants.h"
#include "host/ike/encoding/payloads/auth_payload.h"
#include "host/ike/encoding/payloads/cert_payload.h"
#include "host/ike/encoding/payloads/certreq_payload.h"
#include "host/ike/encoding/payloads/config_payload.h"
#include "host/ike/encoding/payloads/delete_payload.h"
#include "host/ike/encoding/payloads/eap_payload.h"
#include "host/ike/encoding/payloads/encrypted_fragment_payload.h"
#include "host/ike/encoding/payloads/encrypted_payload.h"
#include "host/ike/encoding/payloads/id_payload.h"
#include "host/ike/encoding/payloads/ke_payload.h"
#include "host/ike/encoding/payloads/nonce_payload.h"
#include "host/ike/encoding/payloads/notify_payload.h"
#include "host/ike/encoding/payloads/sa_payload.h"
#include "host/ike/encoding/payloads/ts_payload.h"
#include "host/ike/encoding/payloads/vendor_id_payload.h"

namespace ipsec::ike {

using Payload = std::variant<SaPayload, KePayload, IdPayload, CertPayload, CertReqPayload, AuthPayload, NoncePayload,
                             NotifyPayload, DeletePayload, VendorIdPayload, TsPayload, EncryptedPayload,
                             EncryptedFragmentPayload, ConfigPayload, EapPayload>;

// The payload's type on the wire (for IdPayload/TsPayload: their payload_type member).
PayloadType TypeOf(const Payload& payload);

// Runs the payload's Verify(); SA payloads are checked as an offer (request) or an accepted
// proposal (response) according to `sa_context`.
Status VerifyPayload(const Payload& payload, SaContext sa_context = SaContext::kOffer);

}  // namespace ipsec::ike
