// Internals shared by the C++ service and its C ABI (not installed).
#pragma once

#include "host/crypto_service/crypto_service.h"

namespace ipsec::cs::internal {
// A segment list the C ABI could not express as a span (null pointer with a non-zero count): the
// C ABI points the job's span at this one-element list and the validator reports the field.
extern const Segment kBadList[1];
}  // namespace ipsec::cs::internal
