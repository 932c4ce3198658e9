// AhSa: the software data path of one IPsec AH SA (RFC 4302), outbound or inbound.
//
// Suites (RFC 4302 §3.2 leaves the algorithm to the SA):
//   kNullHmacSha256  HMAC-SHA-256-128 (RFC 4868): 32-byte integrity key, 16-byte ICV.
//   kAesGmac128/256  AES-GMAC (RFC 4543 §5): key || 4-byte salt, an 8-byte IV carried after the
//                    sequence number (we send the 64-bit sequence number, unique per SA), nonce =
//                    salt || IV, the whole packet with mutable fields and the ICV zeroed as AAD,
//                    no plaintext, 16-byte ICV.
// Modes: transport and tunnel, IPv4 and IPv6, including 4-in-6 and 6-in-4 tunnels. The mutable
// field treatment is described in mutable_fields.h.
//
// Burst API (DPDK lib/ipsec style): each Process* call takes a burst of packets and a status slot
// per packet, returns how many succeeded and never drops silently: every failure has its
// DropReason in its slot and is counted in counters().drops. Nothing is allocated per packet; the
// crypto contexts are created once, in Create(). The per-SA path (suite, mode) is fixed at Create.
//
// Thread safety: all state below is written by the one thread that processes this SA (the SA's
// data-path thread); counters() and replay() may be read by that thread only, or by others once it
// is quiescent.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "host/common/bytes.h"
#include "host/common/packet_buf.h"
#include "host/common/status.h"
#include "host/crypto/primitives.h"
#include "host/sa/replay_window.h"
#include "host/sa/sa_config.h"
#include "host/sa/sa_stats.h"

namespace ipsec::ah {

class AhSa {
 public:
  // config.protocol must be sa::Protocol::kAh and config.suite an AH suite. `events` (may be null)
  // receives lifetime and sequence-overflow events and must outlive the SA.
  static StatusOr<std::unique_ptr<AhSa>> Create(const sa::SaConfig& config, sa::KeyMaterial keys,
                                                crypto::Provider provider = crypto::Provider::kAuto,
                                                sa::SaEventSink* events = nullptr);

  // Only Create() can name ConstructorTag; use Create().
  class ConstructorTag {
    friend class AhSa;
    ConstructorTag() = default;
  };
  AhSa(ConstructorTag, const sa::SaConfig& config, crypto::Provider provider, sa::SaEventSink* events);
  ~AhSa();
  AhSa(const AhSa&) = delete;
  AhSa& operator=(const AhSa&) = delete;

  // Outbound burst (RFC 4302 §3.3). pkts[i] holds one IPv4 or IPv6 packet starting at its IP
  // header (its length exactly the IP length), with head- and tailroom. On kOk it holds the
  // AH-protected packet; on any other status its contents are unchanged. Needs headroom for AH
  // (28-40 bytes) plus, in tunnel mode, the outer header. With ESN, 4 bytes of tailroom avoid a
  // copy inside ipsec-mb (they are written and restored; without them the SA still works).
  // pkts and status must have the same size. Returns the number of packets with kOk.
  size_t ProcessOutbound(std::span<PacketBuf* const> pkts, std::span<sa::DropReason> status);

  // Inbound burst (RFC 4302 §3.4). pkts[i] holds an AH packet starting at its (outer) IP header.
  // On kOk it holds the decapsulated packet: tunnel mode the inner IP packet, transport mode the
  // original packet with AH removed and next header, length and IPv4 checksum restored. On any
  // other status its contents are unchanged. Returns the number of packets with kOk.
  size_t ProcessInbound(std::span<PacketBuf* const> pkts, std::span<sa::DropReason> status);

  const sa::SaCounters& counters() const { return counters_; }
  const sa::SaConfig& config() const { return config_; }
  // Outbound: the sequence number the next packet gets. After the last one (2^32-1, or 2^64-1 with
  // ESN) was sent, the SA is exhausted and packets fail with kSeqOverflow.
  uint64_t next_seq() const { return next_seq_; }
  bool seq_exhausted() const { return seq_exhausted_; }
  const sa::ReplayWindow& replay() const { return replay_; }
  crypto::Provider provider() const { return provider_; }
  // Length of the AH header this SA writes/expects on an IPv4 or IPv6 packet.
  size_t ah_len(bool ipv6) const { return ipv6 ? ah_len_v6_ : ah_len_v4_; }

 private:
  struct OutboundPlan;

  sa::DropReason PlanOutbound(const PacketBuf& p, OutboundPlan* plan) const;
  void Protect(PacketBuf& p, const OutboundPlan& plan, uint64_t seq);
  sa::DropReason InboundOne(PacketBuf& p, uint64_t* inner_bytes);
  // Computes the ICV over p.data()[0, len) (mutable fields already cleared, ICV field zeroed),
  // followed by the ESN high bits when the SA uses ESN (RFC 4302 §3.3.3.2.1 / §2.5.1).
  // `iv` is the GMAC IV from the packet (empty for HMAC).
  void ComputeIcv(PacketBuf& p, size_t len, Bytes iv, uint32_t seq_hi, std::span<std::byte, 16> icv);
  void Drop(sa::DropReason reason, sa::DropReason* slot);

  // Fixed at Create.
  const sa::SaConfig config_;
  const crypto::Provider provider_;
  sa::SaEventSink* const events_;
  size_t iv_len_ = 0;
  size_t ah_len_v4_ = 0;
  size_t ah_len_v6_ = 0;
  std::unique_ptr<crypto::HmacSha256> hmac_;  // kNullHmacSha256
  std::unique_ptr<crypto::Aead> gmac_;        // kAesGmac*: AES-GCM with empty plaintext
  std::array<std::byte, 4> salt_{};           // GMAC nonce prefix (RFC 4543 §3.2)

  // Data-path state (the SA's thread).
  uint64_t next_seq_ = 1;
  bool seq_exhausted_ = false;
  bool seq_overflow_reported_ = false;
  uint16_t next_ip_id_ = 0;  // outer IPv4 identification (tunnel mode)
  sa::ReplayWindow replay_;
  sa::LifetimeTracker lifetime_;
  sa::SaCounters counters_;
};

// Reads the SPI of an AH packet that starts at its IP header, for SA lookup. Handles IPv4 options
// and IPv6 extension headers in front of AH. Fails (kInvalidArgument) on anything malformed, on
// fragments and on packets that are not AH.
StatusOr<uint32_t> PeekAhSpi(Bytes ip_packet);

}  // namespace ipsec::ah
