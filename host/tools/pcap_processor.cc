// ipsec-pcap's engine: capture in, burst through an SA, capture out; plus capture generation.
#include "host/tools/pcap_processor.h"

#include <pcap/pcap.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>

#include "host/common/bytes.h"
#include "host/common/ip.h"
#include "host/common/packet_buf.h"
#include "host/tools/card_transform.h"

namespace ipsec::tools {
namespace {

// Every buffer has room for the largest IP packet plus generous head- and tailroom: the largest
// transform grows a packet by < 100 bytes in front (outer IPv6 + UDP + ESP + IV, or AH + outer
// IPv6) and by < 40 behind; the Ethernet header (kMaxL2) goes back in front on output.
constexpr uint32_t kHeadroom = 256;
constexpr uint32_t kTailroom = 256;
constexpr uint32_t kMaxIp = 65535 + 40;
constexpr uint32_t kSlotSize = kHeadroom + kMaxIp + kTailroom;
constexpr size_t kMaxVlanTags = 4;
constexpr size_t kMaxL2 = 14 + 4 * kMaxVlanTags;
constexpr int kSnapLen = 262144;

constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeIpv6 = 0x86dd;

struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};
struct DumperCloser {
  void operator()(pcap_dumper_t* d) const { pcap_dump_close(d); }
};
using PcapPtr = std::unique_ptr<pcap_t, PcapCloser>;
using DumperPtr = std::unique_ptr<pcap_dumper_t, DumperCloser>;

// Where the IP packet starts in a captured frame, or nothing when the frame is not IPv4/IPv6.
struct LinkView {
  bool ip = false;
  size_t l3 = 0;  // offset of the IP header; the bytes in front are the link header
};

bool IsVlanTpid(uint16_t t) { return t == 0x8100 || t == 0x88a8 || t == 0x9100; }

// DLT_NULL stores the address family in the capturing host's byte order, DLT_LOOP in network
// order. AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24 (NetBSD, OpenBSD), 28 (FreeBSD) or
// 30 (macOS), as libpcap's own BSD_AFNUM_* list says.
bool IsIpFamily(uint32_t af) { return af == 2 || af == 10 || af == 24 || af == 28 || af == 30; }

bool IsIpVersion(const uint8_t* d, size_t len) { return len >= 1 && ((d[0] >> 4) == 4 || (d[0] >> 4) == 6); }

LinkView ClassifyFrame(int dlt, const uint8_t* d, size_t len) {
  LinkView v;
  const auto be16 = [&](size_t off) { return static_cast<uint16_t>((d[off] << 8) | d[off + 1]); };
  switch (dlt) {
    case DLT_EN10MB: {
      if (len < 14) return v;
      size_t off = 12;
      uint16_t type = be16(off);
      for (size_t tags = 0; IsVlanTpid(type) && tags < kMaxVlanTags; ++tags) {
        off += 4;
        if (off + 2 > len) return v;
        type = be16(off);
      }
      if (type != kEtherTypeIpv4 && type != kEtherTypeIpv6) return v;
      v.l3 = off + 2;
      break;
    }
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
      v.l3 = 0;
      break;
    case DLT_NULL:
    case DLT_LOOP: {
      if (len < 4) return v;
      const uint32_t be = (uint32_t{d[0]} << 24) | (uint32_t{d[1]} << 16) | (uint32_t{d[2]} << 8) | d[3];
      const uint32_t le = (uint32_t{d[3]} << 24) | (uint32_t{d[2]} << 16) | (uint32_t{d[1]} << 8) | d[0];
      if (!(IsIpFamily(be) || (dlt == DLT_NULL && IsIpFamily(le)))) return v;
      v.l3 = 4;
      break;
    }
    case DLT_LINUX_SLL: {
      if (len < 16) return v;
      const uint16_t proto = be16(14);
      if (proto != kEtherTypeIpv4 && proto != kEtherTypeIpv6) return v;
      v.l3 = 16;
      break;
    }
    case DLT_LINUX_SLL2: {
      if (len < 20) return v;
      const uint16_t proto = be16(0);
      if (proto != kEtherTypeIpv4 && proto != kEtherTypeIpv6) return v;
      v.l3 = 20;
      break;
    }
    default:
      return v;
  }
  v.ip = IsIpVersion(d + v.l3, len - v.l3);
  return v;
}

bool SupportedLinkType(int dlt) {
  switch (dlt) {
    case DLT_EN10MB:
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
    case DLT_NULL:
    case DLT_LOOP:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
      return true;
    default:
      return false;
  }
}

std::string LinkTypeName(int dlt) {
  const char* n = pcap_datalink_val_to_name(dlt);
  return n != nullptr ? n : "DLT " + std::to_string(dlt);
}

// Per-buffer record of what the output needs besides the packet: the input timestamp and, for
// Ethernet, the original link header.
struct SlotMeta {
  timeval ts{};
  uint8_t l2_len = 0;
  std::array<uint8_t, kMaxL2> l2{};
};

StatusOr<DumperPtr> OpenDumper(pcap_t* dead, const std::string& path) {
  DumperPtr d(pcap_dump_open(dead, path.c_str()));
  if (!d) return NotFoundError("cannot write " + path + ": " + pcap_geterr(dead));
  return d;
}

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

std::string Pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

}  // namespace

uint64_t ProcessStats::total_drops() const {
  uint64_t t = 0;
  for (size_t i = 1; i < drops.size(); ++i) t += drops[i];
  return t;
}

StatusOr<ProcessStats> ProcessPcap(const ProcessOptions& opts, std::vector<sa::SaFile> sas) {
  if (opts.burst == 0 || opts.burst > kMaxBurst) {
    return InvalidArgumentError("burst must be 1.." + std::to_string(kMaxBurst));
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<SaTransform> transform;
  const CardTransform* card = nullptr;  // set when a device runs the packets
  if (opts.device.empty()) {
    ASSIGN_OR_RETURN(transform, MakeSaTransform(opts.op, std::move(sas), opts.provider));
  } else {
    ASSIGN_OR_RETURN(std::unique_ptr<CardTransform> c,
                     CardTransform::Create(opts.op, std::move(sas), opts.device, opts.burst));
    card = c.get();
    transform = std::move(c);
  }
  if (transform->MaxHeadroom() + kMaxL2 > kHeadroom) return InternalError("transform needs more headroom than reserved");

  char errbuf[PCAP_ERRBUF_SIZE] = {};
  PcapPtr in(pcap_open_offline(opts.input_path.c_str(), errbuf));
  if (!in) return NotFoundError("cannot read " + opts.input_path + ": " + errbuf);
  ProcessStats st;
  st.input_linktype = pcap_datalink(in.get());
  if (!SupportedLinkType(st.input_linktype)) {
    return InvalidArgumentError(opts.input_path + ": unsupported link type " + LinkTypeName(st.input_linktype));
  }
  const bool ethernet = st.input_linktype == DLT_EN10MB;
  st.output_linktype = ethernet ? DLT_EN10MB : DLT_RAW;
  PcapPtr dead(pcap_open_dead(st.output_linktype, kSnapLen));
  if (!dead) return InternalError("pcap_open_dead failed");
  ASSIGN_OR_RETURN(DumperPtr out, OpenDumper(dead.get(), opts.output_path));

  // The pool: allocated once, reused for every burst.
  const size_t burst = opts.burst;
  std::vector<std::byte> storage(burst * kSlotSize);
  std::vector<PacketBuf> bufs(burst);
  std::vector<PacketBuf*> ptrs(burst);
  std::vector<SlotMeta> meta(burst);
  std::vector<sa::DropReason> status(burst);
  for (size_t i = 0; i < burst; ++i) {
    bufs[i].base = storage.data() + i * kSlotSize;
    bufs[i].capacity = kSlotSize;
    ptrs[i] = &bufs[i];
  }

  bool eof = false;
  while (!eof) {
    size_t n = 0;
    while (n < burst) {
      pcap_pkthdr* hdr = nullptr;
      const u_char* data = nullptr;
      const int rc = pcap_next_ex(in.get(), &hdr, &data);
      if (rc == PCAP_ERROR_BREAK) {  // end of file
        eof = true;
        break;
      }
      if (rc != 1) return DataLossError(opts.input_path + ": " + pcap_geterr(in.get()));
      ++st.frames;
      const LinkView link = ClassifyFrame(st.input_linktype, data, hdr->caplen);
      if (!link.ip) {
        ++st.non_ip;
        continue;
      }
      Bytes ip_bytes(reinterpret_cast<const std::byte*>(data) + link.l3, hdr->caplen - link.l3);
      // Drop link padding behind the IP packet; a packet whose header does not parse goes to the SA
      // as captured (truncated to the buffer) and is refused there, with a reason.
      const ip::IpInfo info = ip::ParseIp(ip_bytes, /*allow_trailing=*/true);
      size_t len = info.version != 0 ? info.total_len : ip_bytes.size();
      if (len > kMaxIp) len = kMaxIp;
      PacketBuf& b = bufs[n];
      b.offset = kHeadroom;
      b.length = static_cast<uint32_t>(len);
      std::memcpy(b.data(), ip_bytes.data(), len);
      SlotMeta& m = meta[n];
      m.ts = hdr->ts;
      m.l2_len = ethernet ? static_cast<uint8_t>(link.l3) : 0;
      if (ethernet) std::memcpy(m.l2.data(), data, link.l3);
      ++st.packets_in;
      st.bytes_in += len;
      ++n;
    }
    if (n == 0) break;

    const auto p0 = std::chrono::steady_clock::now();
    transform->Process(std::span<PacketBuf* const>(ptrs.data(), n), std::span<sa::DropReason>(status.data(), n));
    st.process_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - p0).count();
    ++st.bursts;
    if (card != nullptr && !card->failure().ok()) {
      return UnavailableError("--device " + opts.device + ": " + card->failure().message());
    }

    for (size_t i = 0; i < n; ++i) {
      if (status[i] != sa::DropReason::kOk) {
        ++st.drops[static_cast<size_t>(status[i])];
        continue;
      }
      PacketBuf& b = bufs[i];
      const SlotMeta& m = meta[i];
      if (m.l2_len != 0) {
        // Re-attach the Ethernet header, EtherType following the packet's (new) IP version.
        b.Prepend(m.l2_len);
        std::memcpy(b.data(), m.l2.data(), m.l2_len);
        const bool v6 = (U8(b.data()[m.l2_len]) >> 4) == 6;
        StoreU16Be(b.data() + m.l2_len - 2, v6 ? kEtherTypeIpv6 : kEtherTypeIpv4);
      }
      pcap_pkthdr oh{};
      oh.ts = m.ts;
      oh.caplen = b.length;
      oh.len = b.length;
      pcap_dump(reinterpret_cast<u_char*>(out.get()), &oh, reinterpret_cast<const u_char*>(b.data()));
      ++st.packets_out;
      st.bytes_out += b.length - m.l2_len;
    }
  }
  if (pcap_dump_flush(out.get()) != 0) return DataLossError("error writing " + opts.output_path);
  out.reset();
  st.provider = transform->provider();
  if (card != nullptr) st.device = card->device_name();
  st.sas = transform->Reports();
  st.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return st;
}

std::string FormatStats(const ProcessStats& s, Operation op, bool per_sa) {
  std::string o;
  const auto line = [&](std::string_view label, const std::string& value) {
    o += "  " + Pad(std::string(label), 20) + value + "\n";
  };
  o += std::string("ipsec-pcap ") + (op == Operation::kEncap ? "encap" : "decap") + ": provider " +
       (s.device.empty() ? std::string(crypto::ProviderName(s.provider)) : s.device) + ", " +
       LinkTypeName(s.input_linktype) + " in, " + LinkTypeName(s.output_linktype) + " out\n";
  line("frames read", std::to_string(s.frames));
  line("non-IP (skipped)", std::to_string(s.non_ip));
  line("packets in", std::to_string(s.packets_in) + " (" + std::to_string(s.bytes_in) + " bytes)");
  line("packets out", std::to_string(s.packets_out) + " (" + std::to_string(s.bytes_out) + " bytes)");
  line("dropped", std::to_string(s.total_drops()));
  for (size_t r = 1; r < s.drops.size(); ++r) {
    if (s.drops[r] != 0) line("  " + std::string(sa::DropReasonName(static_cast<sa::DropReason>(r))), std::to_string(s.drops[r]));
  }
  line("elapsed", Fixed(s.elapsed_s, 6) + " s (SA processing " + Fixed(s.process_s, 6) + " s, " +
                      std::to_string(s.bursts) + " bursts)");
  if (s.process_s > 0) {
    line("throughput", Fixed(static_cast<double>(s.packets_in) / s.process_s, 0) + " packets/s, " +
                           Fixed(static_cast<double>(s.bytes_in) * 8 / s.process_s / 1e6, 1) +
                           " Mbit/s (input bytes over SA processing time)");
  }
  if (per_sa) {
    for (const SaReport& r : s.sas) {
      char spi_hex[16];
      std::snprintf(spi_hex, sizeof(spi_hex), "0x%08x", r.spi);
      o += "  SA spi " + std::string(r.spi == 0 ? "-" : spi_hex) + " " + std::string(sa::ProtocolName(r.protocol)) + " " +
           std::string(sa::DirectionName(r.direction)) + " " + r.suite + ": " + std::to_string(r.counters.packets) +
           " packets, " + std::to_string(r.counters.bytes) + " bytes, " + std::to_string(r.counters.total_drops()) +
           " dropped\n";
      for (size_t d = 1; d < r.counters.drops.size(); ++d) {
        if (r.counters.drops[d] != 0) {
          o += "      " + Pad(std::string(sa::DropReasonName(static_cast<sa::DropReason>(d))), 18) +
               std::to_string(r.counters.drops[d]) + "\n";
        }
      }
    }
  }
  return o;
}

std::string FormatStatsJson(const ProcessStats& s, Operation op, bool per_sa) {
  const auto drops_obj = [](const std::array<uint64_t, sa::kNumDropReasons>& d) {
    std::string o = "{";
    bool first = true;
    for (size_t r = 1; r < d.size(); ++r) {
      if (d[r] == 0) continue;
      if (!first) o += ", ";
      first = false;
      o += "\"" + std::string(sa::DropReasonName(static_cast<sa::DropReason>(r))) + "\": " + std::to_string(d[r]);
    }
    return o + "}";
  };
  std::string o = "{";
  o += "\"operation\": \"" + std::string(op == Operation::kEncap ? "encap" : "decap") + "\"";
  o += ", \"provider\": \"" + (s.device.empty() ? std::string(crypto::ProviderName(s.provider)) : s.device) + "\"";
  o += ", \"input_linktype\": \"" + LinkTypeName(s.input_linktype) + "\"";
  o += ", \"output_linktype\": \"" + LinkTypeName(s.output_linktype) + "\"";
  o += ", \"frames\": " + std::to_string(s.frames);
  o += ", \"non_ip\": " + std::to_string(s.non_ip);
  o += ", \"packets_in\": " + std::to_string(s.packets_in);
  o += ", \"packets_out\": " + std::to_string(s.packets_out);
  o += ", \"bytes_in\": " + std::to_string(s.bytes_in);
  o += ", \"bytes_out\": " + std::to_string(s.bytes_out);
  o += ", \"dropped\": " + std::to_string(s.total_drops());
  o += ", \"drops\": " + drops_obj(s.drops);
  o += ", \"bursts\": " + std::to_string(s.bursts);
  o += ", \"elapsed_s\": " + Fixed(s.elapsed_s, 6);
  o += ", \"process_s\": " + Fixed(s.process_s, 6);
  const double pps = s.process_s > 0 ? static_cast<double>(s.packets_in) / s.process_s : 0;
  const double mbps = s.process_s > 0 ? static_cast<double>(s.bytes_in) * 8 / s.process_s / 1e6 : 0;
  o += ", \"packets_per_s\": " + Fixed(pps, 0);
  o += ", \"mbit_per_s\": " + Fixed(mbps, 1);
  if (per_sa) {
    o += ", \"sas\": [";
    for (size_t i = 0; i < s.sas.size(); ++i) {
      const SaReport& r = s.sas[i];
      if (i != 0) o += ", ";
      o += "{\"spi\": " + std::to_string(r.spi) + ", \"protocol\": \"" + std::string(sa::ProtocolName(r.protocol)) +
           "\", \"direction\": \"" + std::string(sa::DirectionName(r.direction)) + "\", \"suite\": \"" + r.suite +
           "\", \"packets\": " + std::to_string(r.counters.packets) + ", \"bytes\": " +
           std::to_string(r.counters.bytes) + ", \"drops\": " + drops_obj(r.counters.drops) + "}";
    }
    o += "]";
  }
  return o + "}\n";
}

std::vector<std::byte> GenerateUdpPacket(size_t size, bool v6, uint64_t seed, uint64_t index) {
  std::vector<std::byte> p(size);
  std::byte* b = p.data();
  const size_t hdr = v6 ? ip::kIpv6Header : ip::kIpv4MinHeader;
  const uint8_t src_host = static_cast<uint8_t>(1 + index % 254);
  const uint8_t dst_host = static_cast<uint8_t>(1 + (index * 7 + 3) % 254);
  if (!v6) {
    b[0] = std::byte{0x45};
    StoreU16Be(b + 2, static_cast<uint16_t>(size));
    StoreU16Be(b + 4, static_cast<uint16_t>(index));
    b[8] = std::byte{64};
    b[9] = std::byte{ip::kProtoUdp};
    const uint8_t src[4] = {192, 0, 2, src_host}, dst[4] = {198, 51, 100, dst_host};
    std::memcpy(b + 12, src, 4);
    std::memcpy(b + 16, dst, 4);
    ip::SetIpv4Checksum(b, hdr);
  } else {
    b[0] = std::byte{0x60};
    StoreU16Be(b + 4, static_cast<uint16_t>(size - hdr));
    b[6] = std::byte{ip::kProtoUdp};
    b[7] = std::byte{64};
    const uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, src_host};
    const uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, dst_host};
    std::memcpy(b + 8, src, 16);
    std::memcpy(b + 24, dst, 16);
  }
  std::byte* u = b + hdr;
  const size_t udp_len = size - hdr;
  StoreU16Be(u, static_cast<uint16_t>(10000 + index % 1000));
  StoreU16Be(u + 2, 5001);
  StoreU16Be(u + 4, static_cast<uint16_t>(udp_len));
  uint64_t state = seed * 0x100000001b3ULL + index;
  for (size_t k = ip::kUdpHeader; k < udp_len; k += 8) {
    const uint64_t r = SplitMix64(&state);
    for (size_t j = 0; j < 8 && k + j < udp_len; ++j) u[k + j] = std::byte(static_cast<uint8_t>(r >> (8 * j)));
  }
  uint32_t sum = ip::PseudoHeaderSum(b + (v6 ? 8 : 12), b + (v6 ? 24 : 16), v6, ip::kProtoUdp,
                                     static_cast<uint32_t>(udp_len));
  sum = ip::ChecksumPartial(Bytes(u, udp_len), sum);
  const uint16_t c = static_cast<uint16_t>(~ip::ChecksumFold(sum));
  StoreU16Be(u + 6, c == 0 ? 0xffff : c);
  return p;
}

Status GeneratePcap(const GenOptions& opts) {
  const size_t min = opts.v6 ? kGenMinSizeV6 : kGenMinSizeV4;
  if (opts.size < min || opts.size > kGenMaxSize) {
    return InvalidArgumentError("size must be " + std::to_string(min) + ".." + std::to_string(kGenMaxSize) +
                                " bytes for " + (opts.v6 ? "IPv6" : "IPv4") + " UDP");
  }
  PcapPtr dead(pcap_open_dead(DLT_RAW, kSnapLen));
  if (!dead) return InternalError("pcap_open_dead failed");
  ASSIGN_OR_RETURN(DumperPtr out, OpenDumper(dead.get(), opts.output_path));
  for (uint64_t i = 0; i < opts.count; ++i) {
    const std::vector<std::byte> p = GenerateUdpPacket(opts.size, opts.v6, opts.seed, i);
    pcap_pkthdr h{};
    h.ts.tv_sec = static_cast<time_t>(1700000000 + i / 1000000);  // fixed epoch: reproducible files
    h.ts.tv_usec = static_cast<suseconds_t>(i % 1000000);
    h.caplen = static_cast<uint32_t>(p.size());
    h.len = h.caplen;
    pcap_dump(reinterpret_cast<u_char*>(out.get()), &h, reinterpret_cast<const u_char*>(p.data()));
  }
  if (pcap_dump_flush(out.get()) != 0) return DataLossError("error writing " + opts.output_path);
  return OkStatus();
}

StatusOr<PcapContents> ReadPcap(const std::string& path) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  PcapPtr in(pcap_open_offline(path.c_str(), errbuf));
  if (!in) return NotFoundError("cannot read " + path + ": " + errbuf);
  PcapContents c;
  c.linktype = pcap_datalink(in.get());
  while (true) {
    pcap_pkthdr* hdr = nullptr;
    const u_char* data = nullptr;
    const int rc = pcap_next_ex(in.get(), &hdr, &data);
    if (rc == PCAP_ERROR_BREAK) break;
    if (rc != 1) return DataLossError(path + ": " + pcap_geterr(in.get()));
    const auto* d = reinterpret_cast<const std::byte*>(data);
    c.records.emplace_back(d, d + hdr->caplen);
  }
  return c;
}

Status WritePcap(const std::string& path, int linktype, const std::vector<std::vector<std::byte>>& records) {
  PcapPtr dead(pcap_open_dead(linktype, kSnapLen));
  if (!dead) return InternalError("pcap_open_dead failed");
  ASSIGN_OR_RETURN(DumperPtr out, OpenDumper(dead.get(), path));
  uint32_t usec = 0;
  for (const auto& r : records) {
    pcap_pkthdr h{};
    h.ts.tv_sec = 1700000000;
    h.ts.tv_usec = static_cast<suseconds_t>(usec++ % 1000000);
    h.caplen = static_cast<uint32_t>(r.size());
    h.len = h.caplen;
    pcap_dump(reinterpret_cast<u_char*>(out.get()), &h, reinterpret_cast<const u_char*>(r.data()));
  }
  if (pcap_dump_flush(out.get()) != 0) return DataLossError("error writing " + path);
  return OkStatus();
}

}  // namespace ipsec::tools
