// libFuzzer target: the IKE SA engine (host/ike/sa) as a responder, fed by an attacker who may
// hold the keys. Two managers in one process (tests/ike_sa/ike_test_harness.h); byte 0 picks:
//   0  raw datagrams to the responder's manager (IKE_SA_INIT parsing, cookies, SPI routing,
//      retransmit detection), each 2-byte length-prefixed, alternately on ports 500 and 4500;
//   1  an established IKE SA; the initiator sends a properly protected request of the exchange
//      type in byte 1 (CREATE_CHILD_SA, INFORMATIONAL, IKE_AUTH or IKE_SA_INIT) whose payloads are
//      the fuzzer's (byte 2 the first inner type, the rest the chain, via DecodeInner): the
//      responder's exchange handlers see arbitrary, well-framed, authenticated payloads;
//   2  a fresh IKE SA after a real IKE_SA_INIT, then IKE_AUTH with the fuzzer's payloads (the
//      pre-authentication surface an unauthenticated peer reaches after a DH exchange).
// Oracles: nothing crashes, and after modes 1 and 2 a responder whose IKE SA survived still
// answers a genuine CREATE_CHILD_SA from the initiator with matching CHILD SAs.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "host/ike/encoding/message.h"
#include "host/ike/sa/tasks.h"
#include "tests/ike_sa/ike_test_harness.h"

namespace {

using namespace ipsec;            // NOLINT: harness-local brevity
using namespace ipsec::ike;       // NOLINT
using namespace ipsec::ike::testing;  // NOLINT

// Sends the fuzzer's payloads as one request and ignores the response.
class FuzzTask final : public Task {
 public:
  FuzzTask(IkeSa& sa, ExchangeType type, std::vector<Payload> payloads)
      : Task(sa), type_(type), payloads_(std::move(payloads)) {}
  const char* name() const override { return "FUZZ"; }
  ExchangeType exchange() const override { return type_; }
  Status BuildRequest(std::vector<Payload>& out) override {
    out = payloads_;
    return OkStatus();
  }
  Result ProcessResponse(const std::vector<Payload>&) override { return Result::kDone; }

 private:
  ExchangeType type_;
  std::vector<Payload> payloads_;
};

Proposal P(ProtocolId proto, std::vector<Transform> t) { return Proposal{1, proto, {}, std::move(t)}; }

TsConfig Net(uint8_t a, uint8_t b, uint8_t c) {
  TsConfig t;
  t.ts = TrafficSelector::Ipv4Range({a, b, c, 0}, {a, b, c, 255});
  return t;
}

std::shared_ptr<const PeerConfig> Config(const char* me, const char* peer, const sa::IpAddress& l,
                                         const sa::IpAddress& r, bool initiator) {
  auto c = std::make_shared<PeerConfig>();
  c->name = "gw";
  c->local_addrs = {l};
  c->remote_addrs = {r};
  c->ike_proposals = {P(ProtocolId::kIke, {Transform::Encr(EncrId::kAesGcm16, 128), Transform::Prf(PrfId::kHmacSha2_256),
                                           Transform::Dh(DhGroup::kCurve25519)})};
  c->local.id = Identity::Fqdn(me);
  c->remote.id = Identity::Fqdn(peer);
  ChildConfig k;
  k.name = "net";
  k.proposals = {P(ProtocolId::kEsp, {Transform::Encr(EncrId::kAesGcm16, 128), Transform::Esn(EsnId::kNoEsn)}),
                 P(ProtocolId::kEsp, {Transform::Encr(EncrId::kAesCbc, 128), Transform::Integ(IntegId::kHmacSha2_256_128),
                                      Transform::Dh(DhGroup::kEcp256), Transform::Esn(EsnId::kEsn)})};
  k.local_ts = {initiator ? Net(192, 0, 2) : Net(198, 51, 100)};
  k.remote_ts = {initiator ? Net(198, 51, 100) : Net(192, 0, 2)};
  c->children.push_back(k);
  c->fragment_size = 600;
  return c;
}

struct World {
  FakeClock clock;
  Daemon moon{clock, 1, "198.18.0.1", 0xc1000000};
  Daemon sun{clock, 2, "198.18.0.2", 0xc2000000};
  World() {
    moon.ctx.log = nullptr;
    sun.ctx.log = nullptr;
    moon.credentials.secrets["sun.example.org"] = "fuzzing key";
    sun.credentials.secrets["moon.example.org"] = "fuzzing key";
    moon.manager.SetConfigs({Config("moon.example.org", "sun.example.org", moon.address, sun.address, true)});
    sun.manager.SetConfigs({Config("sun.example.org", "moon.example.org", sun.address, moon.address, false)});
  }
};

std::vector<Payload> FuzzPayloads(Bytes data) {
  if (data.empty()) return {};
  auto inner = DecodeInner(static_cast<PayloadType>(data[0]), data.subspan(1));
  if (!inner.ok()) return {};
  return std::move(inner).value();
}

ExchangeType PickExchange(uint8_t b) {
  switch (b % 4) {
    case 0: return ExchangeType::kCreateChildSa;
    case 1: return ExchangeType::kInformational;
    case 2: return ExchangeType::kIkeAuth;
    default: return ExchangeType::kIkeSaInit;
  }
}

IkeSa* Established(Daemon& d) {
  for (const auto& s : d.manager.List()) {
    if (s.state == IkeSaState::kEstablished) return d.manager.Find(s.unique_id);
  }
  return nullptr;
}

// A genuine CREATE_CHILD_SA still works while the responder's IKE SA stands.
void CheckStillWorks(World& w) {
  IkeSa* m = Established(w.moon);
  IkeSa* s = Established(w.sun);
  if (!m || !s || m->spi_i() != s->spi_i() || m->HasPendingWork()) return;
  size_t before = w.moon.data_plane.sas.size();
  if (!m->CreateChild("net").ok()) return;
  Pump(w.moon, w.sun);
  if (m->state() != IkeSaState::kEstablished || s->state() != IkeSaState::kEstablished) return;
  FUZZ_CHECK(w.moon.data_plane.sas.size() == before + 1);
  const Installed& mine = w.moon.data_plane.sas.rbegin()->second.info.unique_id ? w.moon.data_plane.sas.rbegin()->second
                                                                                : w.moon.data_plane.sas.begin()->second;
  (void)mine;
  for (const auto& [spi, sa] : w.moon.data_plane.sas) {
    auto it = w.sun.data_plane.sas.find(sa.info.spi_out);
    if (it == w.sun.data_plane.sas.end()) continue;  // children the fuzzer made one-sided
    FUZZ_CHECK(it->second.info.spi_out == spi);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  Bytes in(reinterpret_cast<const std::byte*>(data), size);
  uint8_t mode = data[0] % 3;
  World w;
  if (mode == 0) {
    Bytes rest = in.subspan(1);
    int n = 0;
    while (rest.size() >= 2 && n < 16) {
      size_t len = std::min<size_t>(LoadU16Be(rest.data()), rest.size() - 2);
      Bytes d = rest.subspan(2, len);
      rest = rest.subspan(2 + len);
      uint16_t port = (n++ % 2) ? 4500 : 500;
      w.sun.manager.Receive(Endpoint{w.sun.address, port}, Endpoint{w.moon.address, port}, d);
      w.sun.manager.OnTimer();
    }
    return 0;
  }
  if (size < 2) return 0;
  if (mode == 1) {
    if (!w.moon.manager.Initiate("gw").ok()) return 0;
    Pump(w.moon, w.sun);
    IkeSa* m = Established(w.moon);
    FUZZ_CHECK(m != nullptr);
    m->Queue(std::make_unique<FuzzTask>(*m, PickExchange(data[1]), FuzzPayloads(in.subspan(2))));
    Pump(w.moon, w.sun);
    w.clock.Advance(Seconds(5));
    w.moon.manager.OnTimer();
    w.sun.manager.OnTimer();
    Pump(w.moon, w.sun);
    CheckStillWorks(w);
    return 0;
  }
  auto sa = w.moon.manager.CreateInitiatorSa("gw");
  FUZZ_CHECK(sa.ok());
  (*sa)->Queue(std::make_unique<IkeInitTask>(**sa, DhGroup::kCurve25519));
  (*sa)->Queue(std::make_unique<FuzzTask>(**sa, ExchangeType::kIkeAuth, FuzzPayloads(in.subspan(1))));
  Pump(w.moon, w.sun);
  return 0;
}

std::vector<std::vector<uint8_t>> FuzzSeeds() {
  std::vector<std::vector<uint8_t>> seeds;
  // Mode 1: an empty INFORMATIONAL, a DELETE of ESP SPIs, a CREATE_CHILD_SA with an SA, Ni, TSi, TSr.
  auto encode = [](uint8_t mode, uint8_t exch, const std::vector<Payload>& p) {
    std::vector<uint8_t> out = {mode, exch};
    if (mode == 2) out.pop_back();
    auto inner = EncodeInner(p);
    out.push_back(static_cast<uint8_t>(FirstPayloadType(p)));
    if (inner.ok()) {
      for (std::byte b : *inner) out.push_back(std::to_integer<uint8_t>(b));
    }
    return out;
  };
  seeds.push_back({1, 1});
  uint32_t spi = 0xc2000000;
  seeds.push_back(encode(1, 1, {DeletePayload::ChildSas(ProtocolId::kEsp, {&spi, 1})}));
  seeds.push_back(encode(1, 1, {DeletePayload::IkeSa()}));
  Proposal esp = P(ProtocolId::kEsp, {Transform::Encr(EncrId::kAesGcm16, 128), Transform::Esn(EsnId::kNoEsn)});
  esp.spi = {std::byte{0xc1}, std::byte{0}, std::byte{0}, std::byte{9}};
  std::vector<Payload> child;
  child.emplace_back(SaPayload{{esp}});
  child.emplace_back(NoncePayload{std::vector<std::byte>(32, std::byte{7})});
  child.emplace_back(TsPayload{PayloadType::kTsInitiator, {TrafficSelector::Ipv4Range({192, 0, 2, 0}, {192, 0, 2, 255})}});
  child.emplace_back(TsPayload{PayloadType::kTsResponder, {TrafficSelector::Ipv4Range({198, 51, 100, 0}, {198, 51, 100, 255})}});
  seeds.push_back(encode(1, 0, child));
  std::vector<Payload> rekey = child;
  NotifyPayload n = NotifyPayload::Make(NotifyType::kRekeySa);
  n.protocol = ProtocolId::kEsp;
  n.spi = {std::byte{0xc1}, std::byte{0}, std::byte{0}, std::byte{0}};
  rekey.insert(rekey.begin(), n);
  seeds.push_back(encode(1, 0, rekey));
  // Mode 2: IKE_AUTH with IDi and a wrong AUTH, plus the child.
  std::vector<Payload> auth;
  IdPayload idi;
  idi.payload_type = PayloadType::kIdInitiator;
  idi.id_type = IdType::kFqdn;
  for (char c : std::string("moon.example.org")) idi.data.push_back(std::byte(c));
  auth.emplace_back(idi);
  auth.emplace_back(AuthPayload{AuthMethod::kSharedKeyMic, std::vector<std::byte>(32, std::byte{1})});
  for (auto& p : child) auth.push_back(p);
  seeds.push_back(encode(2, 0, auth));
  // Mode 0: a bare IKE header.
  seeds.push_back({0, 0, 28, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0x21, 0x20, 0x22, 0x08, 0, 0, 0, 0, 0, 0, 0, 28});
  return seeds;
}
