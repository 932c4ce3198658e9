// CardDataPlane: the gateway's data path on the runtime (host/runtime), so ESP runs on the card
// (the Verilator card, the software model of the card, or a real one through XRT: whatever
// device the runtime opened). It is the IKE daemon's DataPlane when accel-iked runs with
// --device, and it moves bursts, not packets:
//
//   TUN --read--> pool buffers --SubmitOutbound--> RuntimeQueue (SPD, card) --Poll--> sink.SendEsp
//                                                                                 (sendmmsg, 4500)
//   UDP 4500 --recvmmsg--> pool buffers --SubmitInbound--> RuntimeQueue (SPI) --Poll--> selector
//                                                          check --> sink.DeliverTun (TUN writes)
//
// Buffers: one PacketPool in the device's DMA memory, sized at Create; the I/O code borrows free
// buffers (TakeRxBuffers), fills them with received packets and hands them in; a buffer returns to
// the pool once its completion went to the sink. Nothing is allocated per packet.
//
// CHILD_SAs: each child's traffic selectors become protect rules of one runtime tunnel (an SA
// bundle) keyed by connection, child name and selectors. A rekeyed child lands in the same tunnel:
// its outbound SA replaces the old one in one atomic switch (the old one drains on the card and is
// deleted), its inbound SA joins the old one, which keeps accepting packets in flight until IKE
// deletes the old child. The tunnel and its rules go when its last child goes.
//
// Outbound ESP leaves through the socket, so the outer IP and UDP headers the card built are
// stripped after reading the destination and the DSCP/ECN byte from them (the socket sets that
// byte per message); inbound, the socket's addresses and the received DSCP/ECN become an outer IP
// and UDP header again in the buffer's headroom, so that the card sees the datagram as it was on
// the wire and combines ECN as RFC 6040 says. After decapsulation the inner packet must match the child's selectors
// (RFC 4301 §5.2 step 4), else it is dropped and counted.
//
// Thread safety: none; the daemon's one event loop calls everything, including Runtime::Service.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "driver/packet_pool.h"
#include "host/ike/sa/ike_env.h"
#include "host/runtime/runtime.h"
#include "host/sa/sa_stats.h"

namespace ipsec::ike {

struct CardDataPathCounters {
  uint64_t tun_in = 0;             // packets read from TUN
  uint64_t esp_in = 0;             // ESP-in-UDP datagrams received
  uint64_t encrypted = 0;          // ESP datagrams handed to the socket
  uint64_t decrypted = 0;          // inner packets handed to the TUN device
  uint64_t no_policy = 0;          // TUN packet under no protect rule (SPD discard)
  uint64_t no_sa = 0;              // protect rule without an outbound SA, or unknown inbound SPI
  uint64_t dropped = 0;            // the SA dropped it (ICV, replay, ...): see drop_reasons
  uint64_t policy_violations = 0;  // decapsulated packet outside the child's selectors
  uint64_t device_errors = 0;      // the card failed the packet or was lost
  uint64_t no_buffer = 0;          // a packet arrived with every buffer in use (left in the socket)
  uint64_t bad_input = 0;          // malformed: too short, not IP, too big for a buffer
  uint64_t card = 0, host = 0;     // completions from the card / made on the host (software SA, policy)
  std::array<uint64_t, sa::kNumDropReasons> drop_reasons{};  // by sa::DropReason
};

// One ESP datagram ready for the socket: the UDP payload and the peer.
struct EspDatagram {
  Bytes payload;
  Endpoint to;
  uint8_t tos = 0;  // the outer header's DSCP and ECN as the card set them (RFC 4301, RFC 6040)
};

class CardDataPlane final : public DataPlane {
 public:
  struct Options {
    uint32_t buffers = 1024;    // packet buffers (also the most packets in flight)
    uint32_t buf_bytes = 2048;  // each: headroom + packet + tailroom
    uint32_t headroom = 256;    // room for the outer headers the card prepends
    uint32_t queue = 0;         // the runtime queue this data plane owns
    uint16_t natt_port = 4500;
    // How long a removed child's selectors still admit its packets that were on the card.
    std::chrono::milliseconds retire_grace{5000};
    // Told where each installed SA landed (on the card, or in software and why).
    std::function<void(std::string_view)> log;
  };

  // Completions gathered per Poll before the sink sees them: several ring bursts, so that a TSO
  // piece's segments reach the sink together (one UDP GSO message, one coalesced TUN write).
  static constexpr size_t kSinkBatch = 4 * runtime::RuntimeQueue::kMaxBurst;
  // Where completed packets go. Called from Poll with batches of up to kSinkBatch;
  // the byte spans are valid only during the call.
  class Sink {
   public:
    virtual ~Sink() = default;
    virtual void SendEsp(std::span<const EspDatagram> batch) = 0;
    virtual void DeliverTun(std::span<const Bytes> batch) = 0;
  };

  // A free buffer lent to the I/O code: write at most `capacity` bytes at `data`.
  struct RxBuf {
    uint32_t id = 0;
    std::byte* data = nullptr;
    uint32_t capacity = 0;
  };
  struct Filled {
    uint32_t id = 0;
    uint32_t length = 0;
    Endpoint from, local;  // inbound only: the datagram's source and the address it arrived on
    uint8_t tos = 0;       // inbound only: its outer DSCP and ECN (IP_RECVTOS / IPV6_RECVTCLASS)
  };

  static StatusOr<std::unique_ptr<CardDataPlane>> Create(runtime::Runtime& rt, Options options);
  ~CardDataPlane() override;

  // ---- DataPlane (IKE) ----
  StatusOr<uint32_t> AllocateSpi(sa::Protocol protocol) override;
  void ReleaseSpi(sa::Protocol protocol, uint32_t spi) override;
  Status Install(const ChildSaInfo& info, sa::KeyMaterial inbound, sa::KeyMaterial outbound) override;
  void Remove(const ChildSaInfo& info) override;
  ChildSaCounters Counters(const ChildSaInfo& info) const override;
  // NAT mapping change: both SAs rewritten through Runtime::UpdateEndpoints (the card's outbound SA
  // drains and carries its sequence number over), so the outer headers go to the new endpoint.
  void UpdateEndpoints(const ChildSaInfo& info) override;

  // ---- Data path ----
  // Up to out.size() free buffers; the number lent.
  size_t TakeRxBuffers(std::span<RxBuf> out);
  // Gives back lent buffers that were not filled.
  void ReturnRxBuffers(std::span<const RxBuf> bufs);
  // IP packets read from the TUN device.
  void SubmitOutbound(std::span<const Filled> pkts);
  // ESP-in-UDP payloads (non-ESP marker and keepalives already taken out by the caller).
  void SubmitInbound(std::span<const Filled> pkts);
  // Retries what the queue could not take yet, collects completions and hands them to `sink`.
  // Returns the number of completions.
  size_t Poll(Sink& sink);
  // Submitted and not yet handed to the sink (or waiting to be submitted).
  uint64_t in_flight() const { return queue_->outstanding() + backlog_n_; }
  // Control: runtime events (lifetimes, card faults) and housekeeping; call every few ms.
  void Service();

  // The IKE child (ChildSaInfo::unique_id) that installed the SA with this SPI and direction, for
  // turning the card's lifetime events into rekeys.
  std::optional<uint32_t> ChildOfSpi(uint32_t spi, sa::Direction dir) const;

  const CardDataPathCounters& counters() const { return counters_; }
  // For the I/O code: packets it dropped before handing them in (no free buffer when a coalesced
  // datagram had to be split; malformed).
  void CountNoBuffer(uint64_t n = 1) { counters_.no_buffer += n; }
  void CountBadInput(uint64_t n = 1) { counters_.bad_input += n; }
  runtime::Runtime& runtime() { return rt_; }
  size_t size() const { return children_.size(); }
  uint32_t free_buffers() const { return static_cast<uint32_t>(free_.size()); }

  // Traffic selector ranges as the fewest prefixes that cover them exactly (RFC 7296 selectors are
  // ranges, the SPD's rules are prefixes).
  static std::vector<runtime::Prefix> RangeToPrefixes(const sa::IpAddress& start, const sa::IpAddress& end);

 private:
  struct Selectors {
    std::vector<TrafficSelector> local, remote;
  };
  struct Tunnel {
    uint32_t id = 0;
    std::vector<uint32_t> policies;
    uint32_t children = 0;
  };
  struct Child {
    ChildSaInfo info;
    runtime::SaHandle in = runtime::kNoSa, out = runtime::kNoSa;
    std::string tunnel_key;
  };
  CardDataPlane(runtime::Runtime& rt, Options options, std::optional<driver::PacketPool> pool);
  std::byte* buffer(uint32_t id) const { return base_ + size_t{id} * stride_; }
  uint64_t iova(uint32_t id) const { return pool_ ? pool_->iova(id) : 0; }
  Status AddPolicies(const ChildSaInfo& info, Tunnel& t);
  void Submit(std::span<const Filled> pkts, sa::Direction dir);
  void Flush();
  void Complete(const runtime::RtCompletion& c);
  void FlushSink(Sink& sink);
  bool InboundAllowed(runtime::SaHandle sa, Bytes inner) const;

  runtime::Runtime& rt_;
  Options options_;
  // Buffers: in the card's DMA memory, or plain host memory when the runtime has no card.
  std::optional<driver::PacketPool> pool_;
  std::vector<std::byte> host_memory_;
  std::byte* base_ = nullptr;
  size_t stride_ = 0;
  runtime::RuntimeQueue* queue_;
  std::vector<uint32_t> free_;
  // Packets the queue did not take yet (ring full): retried first, in order.
  std::vector<runtime::RtPacket> backlog_;
  size_t backlog_n_ = 0;
  std::vector<uint8_t> outbound_;  // per buffer: submitted as outbound
  std::map<uint32_t, Child> children_;  // by inbound SPI
  std::map<std::string, Tunnel> tunnels_;
  std::vector<std::string> tunnels_to_remove_;  // removal waits for drained SAs
  // Inbound SA handle -> selectors, for the inbound policy check. Removed children stay here for a
  // grace period so that packets already on the card complete normally.
  std::unordered_map<runtime::SaHandle, std::shared_ptr<const Selectors>> inbound_sel_;
  struct Retired {
    runtime::SaHandle sa;
    std::shared_ptr<const Selectors> sel;  // what inbound_sel_ held (the handle may be reused)
    std::chrono::steady_clock::time_point at;
  };
  std::vector<Retired> retired_;
  // One Poll's outputs, flushed to the sink in batches.
  std::array<runtime::RtCompletion, runtime::RuntimeQueue::kMaxBurst> cpl_{};
  std::array<EspDatagram, kSinkBatch> esp_out_{};
  std::array<Bytes, kSinkBatch> tun_out_{};
  std::array<uint32_t, kSinkBatch> release_{};
  size_t esp_n_ = 0, tun_n_ = 0, release_n_ = 0;
  CardDataPathCounters counters_;
};

}  // namespace ipsec::ike
