// Error construction for the IKE codec (see parse_error.h).
#include "host/ike/encoding/parse_error.h"

namespace ipsec::ike {

Status ParseError(size_t offset, std::string_view what) {
  std::string m = "IKE decode: offset ";
  m += std::to_string(offset);
  m += ": ";
  m += what;
  return InvalidArgumentError(std::move(m));
}

Status EncodeError(std::string_view what) {
  std::string m = "IKE encode: ";
  m += what;
  return InvalidArgumentError(std::move(m));
}

}  // namespace ipsec::ike
