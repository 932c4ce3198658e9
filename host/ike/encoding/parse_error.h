// Error construction shared by the IKE decoders and encoders.
//
// Every decode error names the absolute byte offset (from the first byte of the IKE header, or of
// the decrypted inner chain for DecodeInner) and what was wrong, e.g.
//   "IKE decode: offset 52: proposal #1 transform #3: length 6 is below the 8-byte minimum".
// Malformed input is StatusCode::kInvalidArgument (the responder answers INVALID_SYNTAX, RFC 7296
// §2.21); encoder misuse (a field that does not fit its wire width) is kInvalidArgument too, with an
// "IKE encode:" prefix.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "host/common/status.h"

namespace ipsec::ike {

Status ParseError(size_t offset, std::string_view what);
Status EncodeError(std::string_view what);

// Small formatting helper for error text (no <format> in the toolchain's libstdc++).
inline std::string Num(size_t v) { return std::to_string(v); }

}  // namespace ipsec::ike
