// Payload variant helpers (see payload.h).
#include "host/ike/encoding/payload.h"

#include <type_traits>

namespace ipsec::ike {

PayloadType TypeOf(const Payload& payload) {
  return std::visit(
      [](const auto& p) -> PayloadType {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, IdPayload> || std::is_same_v<T, TsPayload>) {
          return p.payload_type;
        } else {
          return T::kType;
        }
      },
      payload);
}

Status VerifyPayload(const Payload& payload, SaContext sa_context) {
  return std::visit(
      [sa_context](const auto& p) -> Status {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, SaPayload>) {
          return p.Verify(sa_context);
        } else {
          return p.Verify();
        }
      },
      payload);
}

}  // namespace ipsec::ike
