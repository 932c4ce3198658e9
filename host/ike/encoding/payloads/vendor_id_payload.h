// VendorIdPayload: Vendor ID payload (RFC 7296 §3.12).
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                        Vendor ID (VID)                        ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Field table (body offsets):
//   0 * Vendor ID -> vendor_id (opaque; usually a hash of a vendor string)
#pragma once

#include <vector>

#include "host/common/bytes.h"
#include "host/common/status.h"
#include "host/ike/encoding/ike_constants.h"
#include "host/ike/encoding/wire_writer.h"

namespace ipsec::ike {

struct VendorIdPayload {
  static constexpr PayloadType kType = PayloadType::kVendorId;

  std::vector<std::byte> vendor_id;

  // Never fails.
  static StatusOr<VendorIdPayload> Parse(Bytes body, size_t offset);
  Status Serialize(WireWriter& w) const;
  // The ID is non-empty.
  Status Verify() const;

  friend bool operator==(const VendorIdPayload&, const VendorIdPayload&) = default;
};

}  // namespace ipsec::ike
