// Test helpers for the IKE encoding tests: byte-literal builders and sample messages.
//
// Wire literals are written as std::vector<uint8_t> with one comment per field; B() turns them
// into std::byte vectors. SaInitRequestBytes() is the reference IKE_SA_INIT request used by the
// decode, malformed-table and mutation tests; its layout (offsets) is listed next to it because
// the malformed table edits fields by offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "host/common/bytes.h"
#include "host/ike/encoding/message.h"

namespace ipsec::ike::testing {

inline std::vector<std::byte> B(const std::vector<uint8_t>& v) {
  std::vector<std::byte> out;
  out.reserve(v.size());
  for (uint8_t x : v) out.push_back(std::byte{x});
  return out;
}

// n bytes of a recognisable pattern (seed, seed+1, ...), standing in for random/public values.
inline std::vector<uint8_t> Pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i);
  return v;
}

inline std::vector<uint8_t> Cat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

inline void PutU16(std::vector<uint8_t>& v, size_t at, uint16_t x) {
  v[at] = static_cast<uint8_t>(x >> 8);
  v[at + 1] = static_cast<uint8_t>(x);
}
inline void PutU32(std::vector<uint8_t>& v, size_t at, uint32_t x) {
  PutU16(v, at, static_cast<uint16_t>(x >> 16));
  PutU16(v, at + 2, static_cast<uint16_t>(x));
}

// A generic payload: header (next, flags, length computed) + body.
inline std::vector<uint8_t> RawPayload(uint8_t next, const std::vector<uint8_t>& body, uint8_t flags = 0) {
  std::vector<uint8_t> p = {next, flags, 0, 0};
  p.insert(p.end(), body.begin(), body.end());
  PutU16(p, 2, static_cast<uint16_t>(p.size()));
  return p;
}

// An IKE_SA_INIT request header (SPIi 0x5f9a3c1d7e2b4a60, SPIr 0, I flag, message ID 0) naming
// `first` as the first payload, followed by `payloads`, with Length computed.
inline std::vector<uint8_t> RawMessage(uint8_t first, const std::vector<uint8_t>& payloads,
                                       uint8_t exchange = 34, uint8_t flags = 0x08) {
  std::vector<uint8_t> m = {
      0x5f, 0x9a, 0x3c, 0x1d, 0x7e, 0x2b, 0x4a, 0x60,  // IKE SA Initiator's SPI
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // IKE SA Responder's SPI (0 in IKE_SA_INIT)
      first,                                           // Next Payload
      0x20,                                            // MjVer 2, MnVer 0
      exchange,                                        // Exchange Type
      flags,                                           // Flags
      0x00, 0x00, 0x00, 0x00,                          // Message ID
      0x00, 0x00, 0x00, 0x00,                          // Length (patched)
  };
  m.insert(m.end(), payloads.begin(), payloads.end());
  PutU32(m, 24, static_cast<uint32_t>(m.size()));
  return m;
}

// Offsets inside SaInitRequestBytes():
//     0 IKE header (28)            Length at 24
//    28 SA generic header           length at 30
//    32 proposal #1 header (8)      length at 34, Num Transforms at 39
//    40 transform #1 ENCR (12)      length at 42; attribute at 48
//    52 transform #2 PRF (8)        length at 54
//    60 transform #3 INTEG (8)      length at 62
//    68 transform #4 DH (8)         Last Substruc at 68, length at 70
//    76 KE (72)                     148 Nonce (36)
//   184 N(NAT_DETECTION_SOURCE_IP) (28)      212 N(NAT_DETECTION_DESTINATION_IP) (28)
//   240 N(IKEV2_FRAGMENTATION_SUPPORTED) (8) 248 N(SIGNATURE_HASH_ALGORITHMS) (14), length at 250
//   262 end
inline constexpr size_t kSaInitSize = 262;

// IKE_SA_INIT request: HDR, SA{1 proposal, 4 transforms}, KEi(group 19), Ni, N(NAT_DETECTION_
// SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP), N(IKEV2_FRAGMENTATION_SUPPORTED),
// N(SIGNATURE_HASH_ALGORITHMS). Built field by field from the RFC 7296 §3 diagrams.
inline std::vector<uint8_t> SaInitRequestBytes() {
  const std::vector<uint8_t> header = {
      0x5f, 0x9a, 0x3c, 0x1d, 0x7e, 0x2b, 0x4a, 0x60,  // IKE SA Initiator's SPI
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // IKE SA Responder's SPI: 0 in the first message
      33,                                              // Next Payload: SA
      0x20,                                            // MjVer 2 | MnVer 0
      34,                                              // Exchange Type: IKE_SA_INIT
      0x08,                                            // Flags: I (original initiator), not a response
      0x00, 0x00, 0x00, 0x00,                          // Message ID 0
      0x00, 0x00, 0x01, 0x06,                          // Length 262
  };
  const std::vector<uint8_t> sa = {
      34, 0x00, 0x00, 48,      // SA generic header: Next Payload KE, C=0, Payload Length 48
      // Proposal substructure (§3.3.1)
      0x00,                    // Last Substruc: 0, the only proposal
      0x00,                    // RESERVED
      0x00, 44,                // Proposal Length 44 = 8 + 12 + 8 + 8 + 8
      1,                       // Proposal Num 1
      1,                       // Protocol ID: IKE
      0,                       // SPI Size 0 (initial IKE SA negotiation)
      4,                       // Num Transforms 4
      // Transform #1 (§3.3.2)
      0x03,                    // Last Substruc: 3, more transforms follow
      0x00,                    // RESERVED
      0x00, 12,                // Transform Length 12 (8 + one TV attribute)
      1,                       // Transform Type: ENCR
      0x00,                    // RESERVED
      0x00, 12,                // Transform ID: ENCR_AES_CBC
      0x80, 0x0e,              //   Attribute: AF=1 (TV), type 14 Key Length
      0x01, 0x00,              //   Attribute Value: 256 bits
      // Transform #2
      0x03, 0x00,              // Last Substruc 3, RESERVED
      0x00, 8,                 // Transform Length 8
      2, 0x00,                 // Transform Type: PRF, RESERVED
      0x00, 5,                 // Transform ID: PRF_HMAC_SHA2_256
      // Transform #3
      0x03, 0x00,              // Last Substruc 3, RESERVED
      0x00, 8,                 // Transform Length 8
      3, 0x00,                 // Transform Type: INTEG, RESERVED
      0x00, 12,                // Transform ID: AUTH_HMAC_SHA2_256_128
      // Transform #4
      0x00, 0x00,              // Last Substruc 0: last transform, RESERVED
      0x00, 8,                 // Transform Length 8
      4, 0x00,                 // Transform Type: DH, RESERVED
      0x00, 19,                // Transform ID: 256-bit random ECP group
  };
  const std::vector<uint8_t> ke_head = {
      40, 0x00, 0x00, 72,      // KE generic header: Next Payload Nonce, Payload Length 72
      0x00, 19,                // Diffie-Hellman Group Num 19
      0x00, 0x00,              // RESERVED
  };
  const std::vector<uint8_t> ke_data = Pattern(64, 0x40);  // Key Exchange Data: x || y, 32 bytes each
  const std::vector<uint8_t> nonce_head = {
      41, 0x00, 0x00, 36,      // Nonce generic header: Next Payload N, Payload Length 36
  };
  const std::vector<uint8_t> nonce = Pattern(32, 0xa0);  // Nonce Data, 32 bytes
  const std::vector<uint8_t> nat_src_head = {
      41, 0x00, 0x00, 28,      // N generic header: Next Payload N, Payload Length 28
      0,                       // Protocol ID 0: no SPI
      0,                       // SPI Size 0
      0x40, 0x04,              // Notify Message Type 16388 NAT_DETECTION_SOURCE_IP
  };
  const std::vector<uint8_t> nat_src = Pattern(20, 0x10);  // SHA-1(SPIi | SPIr | IP | Port)
  const std::vector<uint8_t> nat_dst_head = {
      41, 0x00, 0x00, 28,      // N generic header: Next Payload N, Payload Length 28
      0, 0,                    // Protocol ID 0, SPI Size 0
      0x40, 0x05,              // Notify Message Type 16389 NAT_DETECTION_DESTINATION_IP
  };
  const std::vector<uint8_t> nat_dst = Pattern(20, 0x30);  // SHA-1 of the destination tuple
  const std::vector<uint8_t> frag = {
      41, 0x00, 0x00, 8,       // N generic header: Next Payload N, Payload Length 8
      0, 0,                    // Protocol ID 0, SPI Size 0
      0x40, 0x2e,              // Notify Message Type 16430 IKEV2_FRAGMENTATION_SUPPORTED (RFC 7383)
  };
  const std::vector<uint8_t> sig_hash = {
      0, 0x00, 0x00, 14,       // N generic header: Next Payload 0 (last), Payload Length 14
      0, 0,                    // Protocol ID 0, SPI Size 0
      0x40, 0x2f,              // Notify Message Type 16431 SIGNATURE_HASH_ALGORITHMS (RFC 7427)
      0x00, 2,                 // SHA2-256
      0x00, 3,                 // SHA2-384
      0x00, 4,                 // SHA2-512
  };
  return Cat({header, sa, ke_head, ke_data, nonce_head, nonce, nat_src_head, nat_src, nat_dst_head, nat_dst, frag,
              sig_hash});
}

// One valid instance of every payload type except SK/SKF (which must be last), each passing its
// Verify(). Used for round-trip and mutation tests.
inline std::vector<Payload> SamplePayloads() {
  std::vector<Payload> out;
  SaPayload sa;
  Proposal ike{1, ProtocolId::kIke, {}, {Transform::Encr(EncrId::kAesGcm16, 256), Transform::Prf(PrfId::kHmacSha2_384),
                                         Transform::Dh(DhGroup::kCurve25519), Transform::Dh(DhGroup::kEcp384)}};
  Proposal esp{2, ProtocolId::kEsp, B({0xc0, 0x01, 0xd0, 0x0d}),
               {Transform::Encr(EncrId::kChaCha20Poly1305), Transform::Esn(EsnId::kNoEsn),
                Transform::Esn(EsnId::kEsn)}};
  Proposal esp_cbc{3, ProtocolId::kEsp, B({0, 0, 0, 7}),
                   {Transform::Encr(EncrId::kAesCbc, 128), Transform::Integ(IntegId::kHmacSha2_512_256),
                    Transform::Esn(EsnId::kNoEsn)}};
  esp_cbc.transforms[0].attributes.push_back({0x1234, false, 0, B({1, 2, 3})});  // unknown TLV attribute
  sa.proposals = {ike, esp, esp_cbc};
  out.push_back(sa);
  out.push_back(KePayload{DhGroup::kEcp256, B(Pattern(64, 7))});
  out.push_back(IdPayload{PayloadType::kIdInitiator, IdType::kFqdn, B({'g', 'w', '.', 'e', 'x'})});
  out.push_back(IdPayload{PayloadType::kIdResponder, IdType::kIpv4Addr, B({192, 0, 2, 1})});
  out.push_back(CertPayload{CertEncoding::kX509Signature, B(Pattern(100, 0x30))});
  out.push_back(CertReqPayload{CertEncoding::kX509Signature, B(Pattern(40, 0x50))});
  out.push_back(AuthPayload{AuthMethod::kSharedKeyMic, B(Pattern(32, 0x60))});
  out.push_back(NoncePayload{B(Pattern(32, 0x70))});
  out.push_back(NotifyPayload::Make(NotifyType::kNatDetectionSourceIp, B(Pattern(20, 1))));
  NotifyPayload rekey{ProtocolId::kEsp, NotifyType::kRekeySa, B({1, 2, 3, 4}), {}};
  out.push_back(rekey);
  out.push_back(NotifyPayload::Make(NotifyType::kCookie, B(Pattern(24, 2))));
  const uint32_t spis[] = {0x01020304, 0xa0b0c0d0};
  out.push_back(DeletePayload::ChildSas(ProtocolId::kEsp, spis));
  out.push_back(DeletePayload::IkeSa());
  out.push_back(VendorIdPayload{B(Pattern(16, 0x90))});
  TsPayload tsi{PayloadType::kTsInitiator,
                {TrafficSelector::Ipv4Range({10, 0, 0, 0}, {10, 0, 0, 255}, 6, 80, 443),
                 TrafficSelector::Ipv6Range({0x20, 0x01, 0x0d, 0xb8}, {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff})}};
  TrafficSelector fc;
  fc.type = TsType::kFcAddrRange;
  fc.start_port = 0;
  fc.end_port = 0;
  fc.opaque = B(Pattern(12, 0));
  tsi.selectors.push_back(fc);
  out.push_back(tsi);
  out.push_back(TsPayload{PayloadType::kTsResponder, {TrafficSelector::Ipv4Range({0, 0, 0, 0}, {255, 255, 255, 255})}});
  out.push_back(ConfigPayload{CfgType::kRequest,
                              {{static_cast<uint16_t>(ConfigAttributeType::kInternalIp4Address), {}},
                               {static_cast<uint16_t>(ConfigAttributeType::kInternalIp6Dns), {}},
                               {static_cast<uint16_t>(ConfigAttributeType::kApplicationVersion), B({'x'})}}});
  out.push_back(EapPayload{B({1, 7, 0, 6, 1, 'u'})});  // EAP Request/Identity
  return out;
}

// HDR(IKE_AUTH request) + SamplePayloads() + SK: exercises every payload type in one message.
inline Message AllPayloadsMessage() {
  Message m;
  m.header.spi_i = 0x1122334455667788u;
  m.header.spi_r = 0x99aabbccddeeff00u;
  m.header.exchange_type = ExchangeType::kIkeAuth;
  m.header.initiator = true;
  m.header.message_id = 1;
  m.payloads = SamplePayloads();
  m.payloads.push_back(EncryptedPayload{PayloadType::kIdInitiator, B(Pattern(64, 0xe0))});
  return m;
}

}  // namespace ipsec::ike::testing
