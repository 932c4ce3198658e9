// Test support for the driver tests: a Driver over a SoftCard (keeping a pointer to the card for
// its test hooks), SA configurations across the matrix, and helpers to push bursts through.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "driver/driver.h"
#include "driver/packet_pool.h"
#include "driver/soft/soft_card.h"
#include "tests/esp/test_packets.h"

namespace ipsec::driver::testing {

using esp::testing::CloneKeys;
using esp::testing::MakeKeys;
using esp::testing::MakePacket;
using esp::testing::PacketSpec;

struct CardUnderTest {
  SoftCard* card = nullptr;  // owned by driver
  std::unique_ptr<Driver> driver;
};

inline StatusOr<CardUnderTest> OpenSoftCard(const SoftCardOptions& card_options = {},
                                            const DriverOptions& driver_options = {}) {
  ASSIGN_OR_RETURN(std::unique_ptr<SoftCard> card, SoftCard::Create(card_options));
  CardUnderTest t;
  t.card = card.get();
  ASSIGN_OR_RETURN(t.driver, Driver::Open(std::move(card), driver_options));
  return t;
}

// One SA shape of the test matrix.
struct SaShape {
  sa::Suite suite = sa::Suite::kAesGcm128;
  sa::Mode mode = sa::Mode::kTunnel;
  bool outer_v6 = false;
  bool udp = false;
  bool esn = false;

  std::string Name() const {
    std::string n = suite == sa::Suite::kAesGcm128 ? "gcm128" : "gcm256";
    n += mode == sa::Mode::kTunnel ? (outer_v6 ? "_tun6" : "_tun4") : "_transport";
    if (udp) n += "_udp";
    if (esn) n += "_esn";
    return n;
  }
};

inline sa::SaConfig MakeConfig(const SaShape& s, uint32_t spi, sa::Direction dir) {
  sa::SaConfig c;
  c.spi = spi;
  c.direction = dir;
  c.suite = s.suite;
  c.mode = s.mode;
  if (s.mode == sa::Mode::kTunnel) {
    c.tunnel_src = *sa::IpAddress::Parse(s.outer_v6 ? "2001:db8:ffff::1" : "198.18.0.1");
    c.tunnel_dst = *sa::IpAddress::Parse(s.outer_v6 ? "2001:db8:ffff::2" : "198.18.0.2");
  }
  if (s.udp) c.udp_encap = sa::UdpEncap{4500, 4500};
  c.esn = s.esn;
  c.replay_window = 128;
  return c;
}

// Every SA shape of layout v1's envelope that the tests sweep.
inline std::vector<SaShape> AllShapes() {
  std::vector<SaShape> v;
  for (sa::Suite suite : {sa::Suite::kAesGcm128, sa::Suite::kAesGcm256}) {
    for (int m = 0; m < 3; ++m) {
      for (bool udp : {false, true}) {
        SaShape s;
        s.suite = suite;
        s.mode = m == 2 ? sa::Mode::kTransport : sa::Mode::kTunnel;
        s.outer_v6 = m == 1;
        s.udp = udp;
        s.esn = (m + udp) % 2 == 1;
        v.push_back(s);
      }
    }
  }
  return v;
}

inline std::vector<std::byte> Bytes(const PacketBuf& b) { return {b.data(), b.data() + b.length}; }
inline std::vector<std::byte> Output(const Packet& p, const Completion& c) {
  return {p.buf.base + c.out_offset, p.buf.base + c.out_offset + c.out_len};
}

// Polls queue q until `want` completions have arrived (the soft card completes synchronously,
// so a bounded number of rounds suffices; a simulated card is stepped by Poll).
inline std::vector<Completion> PollAll(Driver& d, uint32_t q, size_t want, size_t max_rounds = 100000) {
  std::vector<Completion> out;
  std::array<Completion, 64> burst;
  for (size_t round = 0; out.size() < want && round < max_rounds; ++round) {
    const size_t n = d.Poll(q, std::span<Completion>(burst.data(), std::min(burst.size(), want - out.size())));
    out.insert(out.end(), burst.begin(), burst.begin() + static_cast<ptrdiff_t>(n));
  }
  return out;
}

}  // namespace ipsec::driver::testing
