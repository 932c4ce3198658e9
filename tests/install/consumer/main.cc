// A program outside the tree: encrypts and decrypts one packet through the installed library.
#include <cstdio>
#include <cstring>
#include <vector>

#include "host/common/ip.h"
#include "host/esp/esp_sa.h"

int main() {
  using namespace ipsec;
  sa::SaConfig cfg;
  cfg.spi = 0x1234;
  cfg.suite = sa::Suite::kAesGcm128;
  cfg.tunnel_src = *sa::IpAddress::Parse("198.18.0.1");
  cfg.tunnel_dst = *sa::IpAddress::Parse("198.18.0.2");
  std::vector<std::byte> key(20, std::byte{0x42});
  auto make = [&](sa::Direction d) {
    cfg.direction = d;
    sa::KeyMaterial k;
    k.enc_key = SecureBytes(key);
    return esp::EspSa::Create(cfg, std::move(k));
  };
  auto out = make(sa::Direction::kOutbound);
  auto in = make(sa::Direction::kInbound);
  if (!out.ok() || !in.ok()) return 1;
  std::vector<std::byte> mem(512);
  // IPv4 header of an empty UDP datagram 192.0.2.1 -> 198.51.100.1 (checksum precomputed).
  const unsigned char pkt[28] = {0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 198, 51, 100, 1,
                                 0x13, 0x88, 0x17, 0x70, 0, 8, 0, 0};
  PacketBuf b{mem.data(), 512, kDefaultHeadroom, 28};
  std::memcpy(b.data(), pkt, 28);
  ip::SetIpv4Checksum(b.data(), 20);
  std::vector<std::byte> orig(b.data(), b.data() + 28);
  PacketBuf* bp = &b;
  sa::DropReason st;
  if ((*out)->ProcessOutbound({&bp, 1}, {&st, 1}) != 1) return 2;
  if ((*in)->ProcessInbound({&bp, 1}, {&st, 1}) != 1) return 3;
  if (b.length != 28 || std::memcmp(b.data(), orig.data(), 28) != 0) return 4;
  std::printf("round trip ok via %s\n", std::string(crypto::ProviderName((*out)->provider())).c_str());
  return 0;
}
