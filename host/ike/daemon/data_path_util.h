// Helpers shared by the daemon's data planes: matching IP packets against IKEv2 traffic selectors
// (RFC 7296 §3.13.1 ranges) for the inbound policy check (RFC 4301 §5.2 step 4) and the software
// data plane's outbound lookup, and the outer IP + UDP header rebuilt in front of an ESP-in-UDP
// payload received on a socket.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <utility>
#include <vector>

#include "host/common/bytes.h"
#include "host/common/packet_buf.h"
#include "host/ike/encoding/payloads/ts_payload.h"
#include "host/ike/sa/ike_env.h"
#include "host/sa/sa_config.h"

namespace ipsec::ike {

// The selector fields of one IP packet; the address spans point into the packet.
struct Flow {
  Bytes src, dst;
  uint8_t proto = 0;
  uint16_t sport = 0, dport = 0;
  bool ports = false;  // TCP/UDP/SCTP first fragment with its ports present
};

// False when the packet is not IPv4/IPv6 or too short for its header.
bool ParseFlow(Bytes ip_packet, Flow* flow);

// Whether one of `tss` covers the address (and protocol and port, when the selector restricts
// them: a selector with a port range matches only packets that carry ports).
bool Covers(const std::vector<TrafficSelector>& tss, Bytes addr, uint8_t proto, uint16_t port, bool have_port);

// The outbound and inbound ESP SaConfig of a CHILD_SA as the daemon's data planes install them:
// SPIs, mode, suite, ESN, lifetimes, UDP encapsulation with the IKE ports, tunnel endpoints from the
// IKE endpoints, the inbound replay window.
std::pair<sa::SaConfig, sa::SaConfig> ChildSaConfigs(const ChildSaInfo& info);

// Prepends an outer IPv4 (with its checksum) or IPv6 header and a UDP header (checksum 0, as
// RFC 3948 allows) from `src`:`sport` to `dst`:`dport` in front of the `pkt.length` payload bytes,
// with `tos` as the IPv4 TOS / IPv6 traffic class (DSCP and ECN as received).
// False (nothing changed) when the headroom is short or the datagram would exceed 65535 bytes.
bool PrependOuterIpUdp(PacketBuf& pkt, const sa::IpAddress& src, uint16_t sport, const sa::IpAddress& dst,
                       uint16_t dport, uint8_t tos = 0);

// The virtio-net header a TUN device opened with IFF_VNET_HDR puts in front of every packet
// (linux/virtio_net.h, native byte order): with TUNSETOFFLOAD the kernel hands over TCP packets of
// up to 64 KiB (TSO) and packets whose L4 checksum is left to us.
struct VnetHdr {
  static constexpr size_t kBytes = 10;
  static constexpr uint8_t kNeedsCsum = 1;
  static constexpr uint8_t kGsoNone = 0, kGsoTcpV4 = 1, kGsoTcpV6 = 4, kGsoEcn = 0x80;
  uint8_t flags = 0;
  uint8_t gso_type = 0;
  uint16_t hdr_len = 0, gso_size = 0, csum_start = 0, csum_offset = 0;
  static VnetHdr Read(const std::byte* p);
};

// Turns one packet read from a TUN device with offloads on into wire packets: a TSO packet is cut
// into gso_size segments (IPv4 IDs counted up, TCP sequence numbers advanced, FIN/PSH only on the
// last, CWR only on the first, every IPv4 and TCP checksum computed); a packet that only needs its
// checksum gets it. `dest(n)` returns where segment bytes go (exactly n bytes) or an empty span to
// stop. Returns the segments written; 0 for a packet it cannot handle (bad header, UDP
// fragmentation offload, a segment count above `max_segments`).
size_t SegmentOffloaded(const VnetHdr& h, std::span<std::byte> pkt, size_t max_segments,
                        const std::function<std::span<std::byte>(size_t)>& dest);

// GRO in user space: decapsulated packets for the TUN device, where TCP segments of one flow that
// follow each other in sequence become one write of up to 64 KiB with a TSO virtio-net header, so
// the kernel runs its receive path once per piece instead of once per segment (the TUN device must
// carry virtio-net headers). The rules follow what the kernel's own GRO merges: IPv4 without
// options or fragments, or IPv6 with TCP as the next header; equal IP fields (addresses, TOS/
// traffic class, flow label, TTL/hop limit, DF), IPv4 IDs counting up; equal TCP ports, ack
// number, window, header length and options; each segment's sequence number where the previous
// one ended; only ACK (and PSH, which closes the group) among the flags; every segment the size of
// the first but the last, which may be shorter and closes the group; at most 64 segments. So the
// kernel's segmentation of a write gives back the original segments byte for byte. Each segment's TCP checksum is verified before it
// joins (the write tells the kernel the checksum is already good); a segment that fails, and
// anything else, is written alone and unchanged for the kernel to judge. Flows may interleave in a
// batch; each flow's order is kept.
class TunCoalescer {
 public:
  static constexpr size_t kMaxBatch = 256;  // packet indices fit in a byte
  static constexpr size_t kMaxSegments = 64;
  static constexpr size_t kMaxHead = VnetHdr::kBytes + 40 + 60;  // virtio-net + IP + TCP

  // Plans the writes for `pkts` (at most kMaxBatch, each a whole IP packet): the number of writes.
  size_t Plan(std::span<const Bytes> pkts);
  // The pieces of write i in order: the virtio-net header (with the merged IP and TCP header of a
  // coalesced write), then packet bytes. Valid until the next Plan; the packets must outlive them.
  std::span<const Bytes> Write(size_t i) const;
  // Counters since construction.
  uint64_t coalesced_writes() const { return coalesced_writes_; }
  uint64_t coalesced_segments() const { return coalesced_segments_; }
  uint64_t bad_checksums() const { return bad_checksums_; }

 private:
  struct Group {
    uint32_t first = 0;          // index of the first packet
    uint32_t n = 0;              // packets in the group
    uint32_t mss = 0;            // payload bytes of the first
    uint32_t hdrs = 0;           // IP + TCP header bytes
    uint32_t bytes = 0;          // IP packet length so far
    uint32_t next_seq = 0;
    bool open = false;           // more segments may join
    bool psh = false;
    std::array<uint8_t, kMaxSegments> members{};
    std::array<std::byte, kMaxHead> head{};
  };
  bool Candidate(Bytes p, uint32_t* hdrs, uint32_t* payload);  // counts bad checksums
  bool Joins(const Group& g, Bytes first, Bytes p, uint32_t hdrs, uint32_t payload) const;
  void Finish(Group& g, std::span<const Bytes> pkts);

  std::array<Group, kMaxBatch> groups_{};
  size_t n_groups_ = 0;
  std::array<Bytes, 2 * kMaxBatch> pieces_{};
  std::array<uint16_t, kMaxBatch + 1> write_start_{};  // into pieces_
  size_t n_writes_ = 0;
  uint64_t coalesced_writes_ = 0, coalesced_segments_ = 0, bad_checksums_ = 0;
};

}  // namespace ipsec::ike
