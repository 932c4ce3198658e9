// Message: one IKEv2 message (header + payload chain) and its wire codec, Decode/Encode, plus
// DecodeInner/EncodeInner for the payload chain inside a decrypted SK/SKF payload.
//
// Wire layout (RFC 7296 §3.1-§3.2): the 28-byte IKE header, then payloads chained by each generic
// header's Next Payload field, the first type being named by the IKE header. Every payload starts
// with:
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   Next Payload    type of the following payload, 0 for the last one; for SK/SKF the type of the
//                   first payload inside the encryption (SK/SKF are always last, §3.14)
//   C               critical bit: ignored for known types; for an unknown type, skip the payload
//                   if clear, reject the message with UNSUPPORTED_CRITICAL_PAYLOAD if set (§2.5)
//   RESERVED        sent 0, ignored
//   Payload Length  >= 4, header included, within the message
//
// Decoding is a loop, never recursion, and every substructure is bounded by its parent's length,
// so hostile input costs time linear in its size; the payload count is capped
// (DecodeOptions::max_payloads). Decoded payloads own their bytes (no spans into the input).
//
// Thread safety: all functions are pure; a Message is a value type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "host/common/bytes.h"
#include "host/common/status.h"
#include "host/ike/encoding/ike_constants.h"
#include "host/ike/encoding/ike_header.h"
#include "host/ike/encoding/payload.h"

namespace ipsec::ike {

struct Message {
  IkeHeader header;
  std::vector<Payload> payloads;

  // The first payload of type T (for IdPayload/TsPayload, either direction), or nullptr.
  template <typename T>
  const T* Find() const {
    for (const Payload& p : payloads) {
      if (const T* t = std::get_if<T>(&p)) return t;
    }
    return nullptr;
  }
  const NotifyPayload* FindNotify(NotifyType type) const;

  // Semantic checks on top of what Decode guarantees: major version 2, non-zero initiator SPI,
  // every payload's Verify() (SA as offer in requests, accepted in responses), and SK/SKF only as
  // the single last payload.
  Status Verify() const;

  friend bool operator==(const Message&, const Message&) = default;
};

struct DecodeOptions {
  // Cap on payloads in one chain, unknown skipped ones included. Real messages carry at most a few
  // dozen (IKE_AUTH with a certificate chain, many notifies); the cap bounds the work a datagram
  // of minimal 4-byte payloads can cause.
  size_t max_payloads = 64;
  // RFC 7296 §3.1 Length is the whole message; by default a datagram longer than Length is
  // rejected. Set for transports that may pad (the extra bytes are ignored).
  bool allow_trailing_bytes = false;
};

// Why Decode failed, for the daemon's reply (RFC 7296 §2.21, §2.5).
struct DecodeFailure {
  NotifyType notify = NotifyType::kInvalidSyntax;  // INVALID_SYNTAX, UNSUPPORTED_CRITICAL_PAYLOAD
                                                   // or INVALID_MAJOR_VERSION
  PayloadType payload_type = PayloadType::kNone;   // the payload being decoded (kNone: the header);
                                                   // for UNSUPPORTED_CRITICAL_PAYLOAD the type to
                                                   // put in the notify's 1-byte data
  size_t offset = 0;                               // start of that payload (or 0 for the header)
};

// Decodes one IKE message (no non-ESP marker: see nat_traversal.h). Errors:
//   kInvalidArgument  malformed input: truncated header, Length not matching the datagram, a
//                     payload length < 4 or beyond the message, nested lengths or counts that do
//                     not add up, bytes after the last payload, too many payloads, a nonce outside
//                     16..256, SK/SKF not last (failure->notify = INVALID_SYNTAX);
//   kUnimplemented    major version != 2 (INVALID_MAJOR_VERSION), or an unknown payload type with
//                     the critical bit set (UNSUPPORTED_CRITICAL_PAYLOAD, failure->payload_type
//                     holds the type).
// Every message names the offset and the field. `failure` may be null.
StatusOr<Message> Decode(Bytes datagram, const DecodeOptions& options = {}, DecodeFailure* failure = nullptr);

// Encodes `message` with next-payload chaining and all lengths computed. Errors
// (kInvalidArgument): a field that does not fit its wire width (version nibble, counts, lengths
// over 65535), SK/SKF not last, IdPayload/TsPayload with a payload_type that is not IDi/IDr or
// TSi/TSr, anything Decode would refuse (a proposal without transforms, an out-of-range nonce).
// Does not run Verify().
StatusOr<std::vector<std::byte>> Encode(const Message& message);

// The payload chain inside a decrypted SK (or reassembled SKF) payload: `first` is the SK/SKF
// payload's first_inner, `plaintext` the decrypted bytes with padding and Pad Length removed.
// Offsets in errors are relative to plaintext[0]. SK/SKF inside is an error. Same error codes as
// Decode.
StatusOr<std::vector<Payload>> DecodeInner(PayloadType first, Bytes plaintext, const DecodeOptions& options = {},
                                           DecodeFailure* failure = nullptr);
// Encodes an inner payload chain (no SK/SKF allowed); the SK layer encrypts the result and sets
// EncryptedPayload::first_inner = FirstPayloadType(payloads).
StatusOr<std::vector<std::byte>> EncodeInner(std::span<const Payload> payloads);
PayloadType FirstPayloadType(std::span<const Payload> payloads);

}  // namespace ipsec::ike
