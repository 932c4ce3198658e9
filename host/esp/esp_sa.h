// EspSa: one ESP security association and its burst data path (RFC 4303), in software.
//
// This is the fallback data path when no card is present and the golden model the RTL engine and
// the device backends are compared against, packet for packet.
//
// Data path contract (after DPDK lib/ipsec):
//   - ProcessOutbound/ProcessInbound take a burst of PacketBufs and fill one DropReason per packet.
//     They return how many succeeded. A packet that fails is left as it was given (outbound), or
//     unspecified (inbound, after decryption started) and must be dropped by the caller; its
//     reason is counted in counters().drops.
//   - Nothing is allocated or copied per packet: packets grow into their head- and tailroom.
//   - The crypto provider and every key schedule are fixed when the SA is created.
//   - Outbound sequence numbers are reserved per burst and never reused. At the end of the
//     sequence space (2^32-1, or 2^64-1 with ESN) the SA stops: further packets fail with
//     kSeqOverflow and SaEvent::kSeqOverflow is raised once (RFC 4303 §3.3.3).
//   - Inbound: SPI match, replay check before the ICV, ICV in constant time, window update only
//     after the ICV verified (RFC 4303 §3.4.3), ESN inference (Appendix A2), padding check, inner
//     packet sanity, then the headers are stripped.
//
// Thread safety: one thread at a time per SA (the OpenSSL contexts and the replay window are not
// shared-writer safe); different SAs may run on different threads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "host/common/packet_buf.h"
#include "host/common/status.h"
#include "host/crypto/primitives.h"
#include "host/esp/esp_cipher.h"
#include "host/sa/replay_window.h"
#include "host/sa/sa_config.h"
#include "host/sa/sa_stats.h"

namespace ipsec::esp {

class EspSa {
 public:
  // config.protocol must be kEsp. `events` (optional) outlives the SA.
  static StatusOr<std::unique_ptr<EspSa>> Create(const sa::SaConfig& config, sa::KeyMaterial keys,
                                                 crypto::Provider provider = crypto::Provider::kAuto,
                                                 sa::SaEventSink* events = nullptr);

  // Outbound: each packet holds a complete IPv4 or IPv6 packet starting at its IP header; on
  // success it holds the ESP packet (outer header included).
  size_t ProcessOutbound(std::span<PacketBuf* const> pkts, std::span<sa::DropReason> status);
  // Inbound: each packet holds a received packet starting at its outer IP header; on success it
  // holds the inner packet (tunnel) or the original packet with ESP removed (transport).
  size_t ProcessInbound(std::span<PacketBuf* const> pkts, std::span<sa::DropReason> status);

  const sa::SaConfig& config() const { return config_; }
  const sa::SaCounters& counters() const { return counters_; }
  uint64_t next_seq() const { return next_seq_; }
  const sa::ReplayWindow& replay() const { return replay_; }
  crypto::Provider provider() const { return cipher_->provider(); }
  bool stopped() const { return seq_exhausted_ || lifetime_.expired(); }

  // Largest header growth of an outbound packet (outer IP + UDP + ESP header + IV) and tail growth
  // (maximum padding + trailer + ICV), for sizing buffers.
  uint32_t MaxHeadroom() const;
  uint32_t MaxTailroom() const;

  // Restores the outbound counter and the inbound window's top, e.g. when an SA moves between the
  // card and this path. The window bitmap restarts empty above `replay_top`.
  Status RestoreState(uint64_t next_seq, uint64_t replay_top);

 private:
  EspSa(const sa::SaConfig& config, std::unique_ptr<EspCipher> cipher, sa::SaEventSink* events);

  // What the inbound path keeps about a packet between its parse and its crypto result.
  struct InboundMeta {
    uint16_t pre_esp_len;
    uint16_t nh_offset;
    uint8_t ip_version;
  };
  sa::DropReason EncapPrepare(PacketBuf& pkt, uint64_t seq, EspCryptoOp* op, uint16_t* udp6_pre);
  void SetUdpV6Checksum(PacketBuf& pkt, size_t pre) const;
  sa::DropReason DecapPrepare(PacketBuf& pkt, uint64_t chunk_top, EspCryptoOp* op, InboundMeta* meta);
  sa::DropReason DecapFinish(PacketBuf& pkt, const EspCryptoOp& op, const InboundMeta& meta);
  void Drop(sa::DropReason r, sa::DropReason* slot);

  const sa::SaConfig config_;
  std::unique_ptr<EspCipher> cipher_;
  sa::SaEventSink* const events_;
  const uint64_t max_seq_;

  // Written by the data-path thread only.
  uint64_t next_seq_;
  bool seq_exhausted_ = false;
  sa::ReplayWindow replay_;
  sa::LifetimeTracker lifetime_;
  sa::SaCounters counters_;
};

}  // namespace ipsec::esp
