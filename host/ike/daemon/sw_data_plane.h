// SoftwareDataPlane: the IKE daemon's own data path, on the software ESP engine (host/esp).
// CHILD_SAs from the IKE SA manager are installed here as an outbound and an inbound EspSa; packets
// from the TUN device are matched against the children's traffic selectors (newest child first,
// so a rekey switches traffic at once while the old inbound SA still accepts packets in flight)
// and leave as ESP in UDP (RFC 3948); ESP arriving on UDP 4500 goes through the inbound SAD, then
// an inbound policy check (inner addresses within the child's selectors), then to the TUN device.
//
// The sockets deliver UDP payloads, while EspSa works on IP packets: outbound, the outer IP and
// UDP headers EspSa builds are stripped before the payload goes to the socket; inbound, an outer
// IPv4/IPv6 and UDP header is rebuilt from the socket addresses. ESP without UDP encapsulation
// (IP protocol 50) is not offered: the daemon forces NAT-T encapsulation (strongSwan's
// kernel-libipsec does the same), and AH cannot be encapsulated, so AH children are refused.
//
// Thread safety: none; one event loop.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "host/common/packet_buf.h"
#include "host/esp/esp_sa.h"
#include "host/esp/inbound_sad.h"
#include "host/ike/crypto/random_source.h"
#include "host/ike/sa/ike_env.h"

namespace ipsec::ike {

struct DataPathCounters {
  uint64_t tun_in = 0;          // packets read from TUN
  uint64_t no_policy = 0;       // no child covers the packet (dropped)
  uint64_t encrypted = 0;
  uint64_t encrypt_failed = 0;
  uint64_t esp_in = 0;          // ESP datagrams received
  uint64_t decrypted = 0;
  uint64_t decrypt_failed = 0;  // by reason in the SAD / SA counters
  uint64_t policy_violations = 0;
  uint64_t keepalives = 0;
};

class SoftwareDataPlane final : public DataPlane {
 public:
  explicit SoftwareDataPlane(RandomSource& random);
  ~SoftwareDataPlane() override;

  StatusOr<uint32_t> AllocateSpi(sa::Protocol protocol) override;
  void ReleaseSpi(sa::Protocol protocol, uint32_t spi) override;
  Status Install(const ChildSaInfo& info, sa::KeyMaterial inbound, sa::KeyMaterial outbound) override;
  void Remove(const ChildSaInfo& info) override;
  ChildSaCounters Counters(const ChildSaInfo& info) const override;
  // NAT mapping change: outbound datagrams go to the child's new remote endpoint (the socket builds
  // the outer header; the SAs' own outer addresses are stripped or not checked).
  void UpdateEndpoints(const ChildSaInfo& info) override;

  // One packet from the TUN device (an IP packet in `pkt`, with headroom and tailroom). On success
  // `pkt` holds the UDP payload to send, `to` the peer endpoint and `tos` the outer header's DSCP
  // and ECN byte as the SA set it (RFC 4301 §5.1.2.1, RFC 6040), for the socket to send with the
  // datagram (IP_TOS / IPV6_TCLASS); false means dropped (counted).
  bool Outbound(PacketBuf& pkt, Endpoint* to, uint8_t* tos = nullptr);
  // One ESP-in-UDP payload received from `from` on local endpoint `local` (in `pkt`, with
  // headroom), `tos` the received outer DSCP/ECN byte (IP_RECVTOS / IPV6_RECVTCLASS), so that
  // decapsulation combines ECN as RFC 6040 §4.2 says. On success `pkt` holds the inner IP packet
  // for the TUN device.
  bool Inbound(PacketBuf& pkt, const Endpoint& from, const Endpoint& local, uint8_t tos = 0);

  const DataPathCounters& counters() const { return counters_; }
  size_t size() const { return children_.size(); }

 private:
  struct Child {
    ChildSaInfo info;
    std::unique_ptr<esp::EspSa> out;
    std::unique_ptr<esp::EspSa> in;
    uint64_t order = 0;
  };
  const Child* MatchOutbound(Bytes ip_packet) const;

  RandomSource& random_;
  std::map<uint32_t, Child> children_;  // by inbound SPI
  std::vector<uint32_t> reserved_;      // allocated, not yet installed
  esp::InboundSad sad_;
  uint64_t next_order_ = 0;
  DataPathCounters counters_;
};

}  // namespace ipsec::ike
