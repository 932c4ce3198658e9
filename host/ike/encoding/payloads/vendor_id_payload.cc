// VendorIdPayload decode/encode/verify (RFC 7296 §3.12).
#include "host/ike/encoding/payloads/vendor_id_payload.h"

namespace ipsec::ike {

StatusOr<VendorIdPayload> VendorIdPayload::Parse(Bytes body, size_t /*offset*/) {
  return VendorIdPayload{std::vector<std::byte>(body.begin(), body.end())};
}

Status VendorIdPayload::Serialize(WireWriter& w) const {
  w.WriteBytes(vendor_id);
  return OkStatus();
}

Status VendorIdPayload::Verify() const {
  if (vendor_id.empty()) return InvalidArgumentError("V: empty vendor ID");
  return OkStatus();
}

}  // namespace ipsec::ike
