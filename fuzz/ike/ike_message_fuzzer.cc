// libFuzzer target: the IKEv2 message decoder (host/ike/encoding) on untrusted datagrams.
//
// Every input is used three ways:
//   1. as an IKE message: Decode; on success Verify (result ignored), Encode, Decode again, and
//      require the same Message and byte-identical re-encoding (and never a longer one: decoding
//      only drops skipped unknown payloads and reserved bits);
//   2. as a port-4500 datagram: if it starts with a non-ESP marker, (1) on what follows;
//   3. as a decrypted SK plaintext: byte 0 is the first inner payload type, the rest the chain;
//      DecodeInner, and on success the same round-trip oracle with EncodeInner.
// Each decoded SK payload's data also goes through (3), so seeds whose SK holds a plaintext inner
// chain exercise the inner decoder from a whole message.
// Oracles abort(), so libFuzzer and the corpus test (tests/ike) report them as crashes.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "host/common/bytes.h"
#include "host/ike/encoding/message.h"
#include "host/ike/encoding/nat_traversal.h"

namespace {

using namespace ipsec;       // NOLINT: harness-local brevity
using namespace ipsec::ike;  // NOLINT

void CheckFailure(const Status& s) {
  FUZZ_CHECK(s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kUnimplemented);
  FUZZ_CHECK(s.message().rfind("IKE decode: offset ", 0) == 0);
}

void CheckInner(PayloadType first, Bytes plain) {
  auto inner = DecodeInner(first, plain);
  if (!inner.ok()) {
    CheckFailure(inner.status());
    return;
  }
  for (const Payload& p : *inner) (void)VerifyPayload(p);
  auto wire = EncodeInner(*inner);
  FUZZ_CHECK(wire.ok());
  FUZZ_CHECK(wire->size() <= plain.size());
  auto back = DecodeInner(FirstPayloadType(*inner), *wire);
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(*back == *inner);
  auto again = EncodeInner(*back);
  FUZZ_CHECK(again.ok() && *again == *wire);
}

void CheckMessage(Bytes datagram) {
  DecodeFailure failure;
  auto m = Decode(datagram, {}, &failure);
  if (!m.ok()) {
    CheckFailure(m.status());
    FUZZ_CHECK((failure.notify == NotifyType::kUnsupportedCriticalPayload) ==
               (m.status().code() == StatusCode::kUnimplemented &&
                failure.notify != NotifyType::kInvalidMajorVersion));
    return;
  }
  (void)m->Verify();
  for (const Payload& p : m->payloads) {
    if (const auto* sk = std::get_if<EncryptedPayload>(&p)) CheckInner(sk->first_inner, sk->data);
  }
  auto wire = Encode(*m);
  FUZZ_CHECK(wire.ok());
  FUZZ_CHECK(wire->size() <= datagram.size());
  auto back = Decode(*wire);
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(*back == *m);
  auto again = Encode(*back);
  FUZZ_CHECK(again.ok() && *again == *wire);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 65535 + kNonEspMarkerSize) return 0;  // larger than any UDP datagram
  const Bytes in = fuzz::AsBytes(data, size);
  CheckMessage(in);
  if (HasNonEspMarker(in)) CheckMessage(in.subspan(kNonEspMarkerSize));
  if (size >= 1) CheckInner(static_cast<PayloadType>(data[0]), in.subspan(1));
  return 0;
}

// Seed inputs (fuzz/ike/corpus/seed-NNN, written by tests/ike's ike_message_fuzzer_corpus_test
// with IPSEC_WRITE_FUZZ_CORPUS set): the initial exchanges, CREATE_CHILD_SA, INFORMATIONAL,
// fragments, every payload type, a NAT-T-marked copy and an inner plaintext chain.
std::vector<std::vector<uint8_t>> FuzzSeeds() {
  const auto bytes = [](std::initializer_list<uint8_t> v) {
    std::vector<std::byte> out;
    for (uint8_t x : v) out.push_back(std::byte{x});
    return out;
  };
  const auto pattern = [](size_t n, uint8_t seed) {
    std::vector<std::byte> out(n);
    for (size_t i = 0; i < n; ++i) out[i] = std::byte{static_cast<uint8_t>(seed + i)};
    return out;
  };
  std::vector<std::vector<uint8_t>> seeds;
  const auto add = [&](const Message& m) {
    auto w = Encode(m);
    FUZZ_CHECK(w.ok());
    seeds.push_back(fuzz::ToInput(*w));
  };

  // IKE_SA_INIT request: SA, KE, Ni, N(NAT_D*), N(FRAGMENTATION), N(SIGNATURE_HASH_ALGORITHMS).
  Message init;
  init.header.spi_i = 0x5f9a3c1d7e2b4a60u;
  init.header.exchange_type = ExchangeType::kIkeSaInit;
  init.header.initiator = true;
  SaPayload sa;
  sa.proposals.push_back(Proposal{1, ProtocolId::kIke, {},
                                  {Transform::Encr(EncrId::kAesCbc, 256), Transform::Prf(PrfId::kHmacSha2_256),
                                   Transform::Integ(IntegId::kHmacSha2_256_128), Transform::Dh(DhGroup::kEcp256)}});
  sa.proposals.push_back(Proposal{2, ProtocolId::kIke, {},
                                  {Transform::Encr(EncrId::kAesGcm16, 128), Transform::Encr(EncrId::kAesGcm16, 256),
                                   Transform::Prf(PrfId::kHmacSha2_512), Transform::Dh(DhGroup::kCurve25519)}});
  init.payloads.push_back(sa);
  init.payloads.push_back(KePayload{DhGroup::kEcp256, pattern(64, 0x40)});
  init.payloads.push_back(NoncePayload{pattern(32, 0xa0)});
  auto nat_src = NatDetectionHash(init.header.spi_i, 0, bytes({192, 0, 2, 1}), 500);
  auto nat_dst = NatDetectionHash(init.header.spi_i, 0, bytes({198, 51, 100, 7}), 500);
  FUZZ_CHECK(nat_src.ok() && nat_dst.ok());
  init.payloads.push_back(NotifyPayload::Make(NotifyType::kNatDetectionSourceIp, *nat_src));
  init.payloads.push_back(NotifyPayload::Make(NotifyType::kNatDetectionDestinationIp, *nat_dst));
  init.payloads.push_back(NotifyPayload::Make(NotifyType::kIkev2FragmentationSupported));
  init.payloads.push_back(NotifyPayload::Make(NotifyType::kSignatureHashAlgorithms,
                                              BuildSignatureHashAlgorithms({HashAlgorithm::kSha2_256,
                                                                            HashAlgorithm::kSha2_512})));
  add(init);
  // Same request as received on port 4500 (non-ESP marker in front).
  {
    auto w = Encode(init);
    seeds.push_back(fuzz::ToInput(AddNonEspMarker(*w)));
  }
  // IKE_SA_INIT response asking for a cookie, and one with the accepted proposal.
  Message cookie = init;
  cookie.header.response = true;
  cookie.header.initiator = false;
  cookie.payloads = {NotifyPayload::Make(NotifyType::kCookie, pattern(16, 0x77))};
  add(cookie);
  Message resp = init;
  resp.header.response = true;
  resp.header.initiator = false;
  resp.header.spi_r = 0x0102030405060708u;
  SaPayload accepted;
  accepted.proposals.push_back(sa.proposals[0]);
  resp.payloads[0] = accepted;
  resp.payloads.push_back(CertReqPayload{CertEncoding::kX509Signature, pattern(20, 9)});
  add(resp);

  // IKE_AUTH request whose SK holds a *plaintext* inner chain (so check (3) parses it):
  // IDi, CERT, CERTREQ, AUTH(RFC 7427), CP, SA(ESP), TSi, TSr, N(USE_TRANSPORT_MODE).
  std::vector<Payload> inner;
  inner.push_back(IdPayload{PayloadType::kIdInitiator, IdType::kFqdn, bytes({'g', 'w', '.', 'e', 'x'})});
  inner.push_back(CertPayload{CertEncoding::kX509Signature, pattern(60, 0x30)});
  inner.push_back(CertReqPayload{CertEncoding::kX509Signature, pattern(40, 0x50)});
  auto sig = BuildSignatureAuthData(
      {bytes({0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02}), pattern(64, 3)});
  FUZZ_CHECK(sig.ok());
  inner.push_back(AuthPayload{AuthMethod::kDigitalSignature, *sig});
  inner.push_back(ConfigPayload{CfgType::kRequest, {{1, {}}, {3, {}}, {8, {}}}});
  SaPayload esp;
  esp.proposals.push_back(Proposal{1, ProtocolId::kEsp, bytes({0xc0, 0, 0, 1}),
                                   {Transform::Encr(EncrId::kAesGcm16, 256), Transform::Esn(EsnId::kNoEsn)}});
  inner.push_back(esp);
  inner.push_back(TsPayload{PayloadType::kTsInitiator,
                            {TrafficSelector::Ipv4Range({10, 0, 0, 0}, {10, 0, 0, 255}),
                             TrafficSelector::Ipv6Range({0x20, 0x01, 0x0d, 0xb8}, {0x20, 0x01, 0x0d, 0xb8, 0xff})}});
  inner.push_back(TsPayload{PayloadType::kTsResponder, {TrafficSelector::Ipv4Range({0, 0, 0, 0}, {255, 255, 255, 255},
                                                                                   6, 443, 443)}});
  inner.push_back(NotifyPayload::Make(NotifyType::kUseTransportMode));
  auto plain = EncodeInner(inner);
  FUZZ_CHECK(plain.ok());
  Message auth;
  auth.header = resp.header;
  auth.header.exchange_type = ExchangeType::kIkeAuth;
  auth.header.response = false;
  auth.header.initiator = true;
  auth.header.message_id = 1;
  auth.payloads = {EncryptedPayload{FirstPayloadType(inner), *plain}};
  add(auth);
  // The inner chain alone, as input mode (3).
  seeds.push_back(fuzz::WithPrefix({static_cast<uint8_t>(FirstPayloadType(inner))}, *plain));
  // IKE_AUTH fragment 2 of 3 (RFC 7383).
  Message frag = auth;
  frag.payloads = {EncryptedFragmentPayload{PayloadType::kNone, 2, 3, pattern(120, 0x10)}};
  add(frag);
  // CREATE_CHILD_SA rekeying a Child SA, in cleartext form: N(REKEY_SA), SA, Ni, KEi, TSi, TSr.
  Message child;
  child.header = auth.header;
  child.header.exchange_type = ExchangeType::kCreateChildSa;
  child.header.message_id = 2;
  std::vector<Payload> child_inner = {NotifyPayload{ProtocolId::kEsp, NotifyType::kRekeySa, bytes({0xc0, 0, 0, 1}), {}},
                                      esp, NoncePayload{pattern(32, 0x11)}, KePayload{DhGroup::kCurve25519, pattern(32, 5)},
                                      inner[6], inner[7]};
  auto child_plain = EncodeInner(child_inner);
  FUZZ_CHECK(child_plain.ok());
  child.payloads = {EncryptedPayload{FirstPayloadType(child_inner), *child_plain}};
  add(child);
  // INFORMATIONAL: Delete of two ESP SAs and of the IKE SA, EAP, Vendor ID; and the empty
  // liveness check (SK with Next Payload 0).
  Message info;
  info.header = auth.header;
  info.header.exchange_type = ExchangeType::kInformational;
  info.header.message_id = 3;
  const uint32_t spis[] = {0xc0000001u, 0xc0000002u};
  std::vector<Payload> info_inner = {DeletePayload::ChildSas(ProtocolId::kEsp, spis), DeletePayload::IkeSa(),
                                     EapPayload{bytes({1, 7, 0, 6, 1, 'u'})}, VendorIdPayload{pattern(16, 0x90)}};
  auto info_plain = EncodeInner(info_inner);
  FUZZ_CHECK(info_plain.ok());
  info.payloads = {EncryptedPayload{FirstPayloadType(info_inner), *info_plain}};
  add(info);
  info.payloads = {EncryptedPayload{PayloadType::kNone, pattern(32, 0)}};
  add(info);
  // An unknown non-critical payload (type 200) between V and Nonce, built by hand.
  {
    auto w = Encode(init);
    std::vector<uint8_t> m = fuzz::ToInput(*w);
    std::vector<uint8_t> unknown = {m[16], 0x00, 0x00, 0x08, 1, 2, 3, 4};  // next = old first payload
    m[16] = 200;
    m.insert(m.begin() + 28, unknown.begin(), unknown.end());
    StoreU32Be(reinterpret_cast<std::byte*>(&m[24]), static_cast<uint32_t>(m.size()));
    seeds.push_back(m);
  }
  return seeds;
}
