// A minimal strict DER reader for the few ASN.1 structures the auth code parses itself (RFC 7427
// AlgorithmIdentifiers and RSASSA-PSS parameters). Private; not installed.
#pragma once

#include <cstdint>

#include "host/common/bytes.h"

namespace ipsec::ike::internal {

inline constexpr uint8_t kDerInteger = 0x02;
inline constexpr uint8_t kDerNull = 0x05;
inline constexpr uint8_t kDerOid = 0x06;
inline constexpr uint8_t kDerSequence = 0x30;
inline constexpr uint8_t kDerContext0 = 0xa0;  // [n] constructed = 0xa0 + n

struct DerTlv {
  uint8_t tag = 0;
  Bytes content;
};

// Reads the TLV at the front of `in` and advances `in` past it. Strict DER: single-octet tags (no
// high tag numbers), definite lengths in minimal form of at most 4 octets. False when malformed or
// truncated (then `in` is unchanged).
bool ReadDer(Bytes& in, DerTlv* out);

// Reads a TLV only if its tag is `tag`; false (and `in` unchanged) otherwise.
bool ReadDerIf(Bytes& in, uint8_t tag, DerTlv* out);

// A DER INTEGER's content as a non-negative value below 2^31. False for negative, non-minimal,
// empty or larger values.
bool DerSmallUint(Bytes content, uint32_t* value);

}  // namespace ipsec::ike::internal
