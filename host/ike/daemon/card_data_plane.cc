#include "host/ike/daemon/card_data_plane.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "host/common/bytes.h"
#include "host/ike/daemon/data_path_util.h"

namespace ipsec::ike {
namespace {

constexpr uint32_t kCardMinWindow = 64;

using runtime::PolicyAction;
using runtime::Prefix;
using runtime::RtCompletion;
using runtime::RtPacket;
using runtime::RtStatus;
using runtime::SaHandle;

// Addresses as 128-bit unsigned integers (IPv4 in the low 32 bits) for the range split.
__extension__ typedef unsigned __int128 U128;

U128 ToU128(const sa::IpAddress& a) {
  U128 v = 0;
  for (size_t i = 0; i < a.size(); ++i) v = (v << 8) | a.bytes[i];
  return v;
}

sa::IpAddress FromU128(U128 v, bool v6) {
  sa::IpAddress a;
  a.v6 = v6;
  for (size_t i = a.size(); i-- > 0; v >>= 8) a.bytes[i] = static_cast<uint8_t>(v);
  return a;
}

sa::IpAddress FromBytes(const std::vector<std::byte>& b) {
  sa::IpAddress a;
  a.v6 = b.size() == 16;
  std::memcpy(a.bytes.data(), b.data(), std::min<size_t>(b.size(), 16));
  return a;
}

// The outer destination the card wrote (tunnel mode, ESP in UDP): address and UDP port; and the
// outer IP + UDP header length.
bool OuterDestination(const PacketBuf& b, Endpoint* to, uint8_t* tos, uint32_t* hdr) {
  if (b.length < 28) return false;
  const std::byte* p = b.data();
  const unsigned version = std::to_integer<unsigned>(p[0]) >> 4;
  uint32_t ip_len;
  if (version == 4) {
    ip_len = (std::to_integer<uint32_t>(p[0]) & 0xf) * 4;
    if (ip_len < 20 || std::to_integer<uint8_t>(p[9]) != 17) return false;
    to->addr = sa::IpAddress{};
    std::memcpy(to->addr.bytes.data(), p + 16, 4);
    *tos = std::to_integer<uint8_t>(p[1]);
  } else if (version == 6) {
    ip_len = 40;
    if (std::to_integer<uint8_t>(p[6]) != 17) return false;
    to->addr = sa::IpAddress{.v6 = true, .bytes = {}};
    std::memcpy(to->addr.bytes.data(), p + 24, 16);
    *tos = static_cast<uint8_t>(((std::to_integer<unsigned>(p[0]) & 0xf) << 4) | (std::to_integer<unsigned>(p[1]) >> 4));
  } else {
    return false;
  }
  if (b.length < ip_len + 8) return false;
  to->port = LoadU16Be(p + ip_len + 2);
  *hdr = ip_len + 8;
  return true;
}

std::string TunnelKey(const ChildSaInfo& info) {
  std::string k = info.connection + "/" + info.child;
  auto add = [&k](const std::vector<TrafficSelector>& v) {
    for (const TrafficSelector& t : v) {
      k += '|';
      k += HexEncode(t.start_address);
      k += '-';
      k += HexEncode(t.end_address);
      k += ':' + std::to_string(t.ip_protocol) + ':' + std::to_string(t.start_port) + '-' +
           std::to_string(t.end_port);
    }
  };
  add(info.local_ts);
  k += "=>";
  add(info.remote_ts);
  return k;
}

}  // namespace

std::vector<Prefix> CardDataPlane::RangeToPrefixes(const sa::IpAddress& start, const sa::IpAddress& end) {
  std::vector<Prefix> out;
  if (start.v6 != end.v6) return out;
  const unsigned bits = start.v6 ? 128 : 32;
  U128 cur = ToU128(start);
  const U128 last = ToU128(end);
  if (last < cur) return out;
  for (;;) {
    // The largest block of 2^size addresses aligned at `cur` that ends at or before `last`:
    // cur + 2^size - 1 <= last, written without overflow as 2^size - 1 <= last - cur.
    unsigned size = 0;
    while (size < bits) {
      const unsigned next = size + 1;
      const U128 mask = next == 128 ? ~U128{0} : (U128{1} << next) - 1;
      if ((cur & mask) != 0 || mask > last - cur) break;
      size = next;
    }
    out.push_back(Prefix{FromU128(cur, start.v6), static_cast<uint8_t>(bits - size)});
    const U128 span_minus_1 = size == 128 ? ~U128{0} : (U128{1} << size) - 1;
    if (last - cur == span_minus_1) break;  // `last` reached (also the top of the family)
    cur += span_minus_1 + 1;
  }
  return out;
}

StatusOr<std::unique_ptr<CardDataPlane>> CardDataPlane::Create(runtime::Runtime& rt, Options options) {
  if (options.queue >= rt.queue_count()) return InvalidArgumentError("no runtime queue " + std::to_string(options.queue));
  if (options.buffers == 0 || options.headroom + 256 > options.buf_bytes)
    return InvalidArgumentError("packet buffers too small");
  if (options.buf_bytes > 0xffff) return InvalidArgumentError("packet buffers too big");
  std::optional<driver::PacketPool> pool;
  if (rt.has_card()) {
    ASSIGN_OR_RETURN(driver::PacketPool p, rt.CreatePacketPool(options.buffers, options.buf_bytes));
    pool.emplace(std::move(p));
  }
  return std::unique_ptr<CardDataPlane>(new CardDataPlane(rt, options, std::move(pool)));
}

CardDataPlane::CardDataPlane(runtime::Runtime& rt, Options options, std::optional<driver::PacketPool> pool)
    : rt_(rt), options_(options), pool_(std::move(pool)), queue_(&rt.queue(options.queue)) {
  if (pool_) {
    base_ = pool_->data(0);
    stride_ = options_.buffers > 1 ? static_cast<size_t>(pool_->data(1) - pool_->data(0)) : options_.buf_bytes;
  } else {
    stride_ = (options_.buf_bytes + 63) & ~size_t{63};
    host_memory_.resize(stride_ * options_.buffers + 64);
    // Cache-line aligned like the pool's buffers.
    const auto addr = reinterpret_cast<uintptr_t>(host_memory_.data());
    base_ = host_memory_.data() + ((64 - addr % 64) % 64);
  }
  free_.reserve(options_.buffers);
  for (uint32_t i = options_.buffers; i-- > 0;) free_.push_back(i);
  backlog_.resize(options_.buffers);
  outbound_.assign(options_.buffers, 0);
}

CardDataPlane::~CardDataPlane() {
  // Packets still on the card complete into buffers this object owns: wait for them (bounded).
  for (int i = 0; i < 100000 && queue_->outstanding() > 0; ++i) {
    (void)queue_->Poll(cpl_);
    if (i % 64 == 63) (void)rt_.Service();
  }
}

// ---- DataPlane ----

StatusOr<uint32_t> CardDataPlane::AllocateSpi(sa::Protocol protocol) {
  if (protocol != sa::Protocol::kEsp) return UnimplementedError("the card data path carries ESP only");
  return rt_.AllocateSpi();
}

void CardDataPlane::ReleaseSpi(sa::Protocol, uint32_t spi) { rt_.ReleaseSpi(spi); }

Status CardDataPlane::AddPolicies(const ChildSaInfo& info, Tunnel& t) {
  for (const TrafficSelector& l : info.local_ts) {
    for (const TrafficSelector& r : info.remote_ts) {
      if (l.start_address.size() != r.start_address.size()) continue;  // one family per rule
      const auto lp = RangeToPrefixes(FromBytes(l.start_address), FromBytes(l.end_address));
      const auto rp = RangeToPrefixes(FromBytes(r.start_address), FromBytes(r.end_address));
      uint8_t proto = l.ip_protocol != 0 ? l.ip_protocol : r.ip_protocol;
      if (l.ip_protocol != 0 && r.ip_protocol != 0 && l.ip_protocol != r.ip_protocol) continue;
      for (const Prefix& s : lp) {
        for (const Prefix& d : rp) {
          runtime::SpdRule rule;
          rule.priority = 100 - std::min<int>(s.len + d.len, 99) / 4;  // more specific first
          rule.direction = sa::Direction::kOutbound;
          rule.src = s;
          rule.dst = d;
          rule.protocol = proto;
          rule.sport = {l.start_port, l.end_port};
          rule.dport = {r.start_port, r.end_port};
          rule.action = PolicyAction::kProtect;
          rule.tunnel = t.id;
          ASSIGN_OR_RETURN(uint32_t id, rt_.AddPolicy(rule));
          t.policies.push_back(id);
        }
      }
    }
  }
  if (t.policies.empty()) return InvalidArgumentError("the child's traffic selectors give no policy");
  return OkStatus();
}

Status CardDataPlane::Install(const ChildSaInfo& info, sa::KeyMaterial inbound, sa::KeyMaterial outbound) {
  if (info.protocol != sa::Protocol::kEsp) return UnimplementedError("the card data path carries ESP only");
  if (!info.udp_encap) return UnimplementedError("the card data path needs ESP in UDP (NAT-T); set encap = yes");
  if (children_.contains(info.spi_in)) return AlreadyExistsError("SPI in use");
  auto [out, in] = ChildSaConfigs(info);
  // The card's windows are 64 to CAP max packets (a bitmap of whole 64-bit words). A smaller
  // configured window (strongSwan's default is 32) is raised to 64 rather than leaving the SA in
  // software: the window is the receiver's own choice (RFC 4303 §3.4.3), and a larger one only
  // accepts more reordering, never a replay.
  if (rt_.has_card() && in.replay_window != 0 && in.replay_window < kCardMinWindow) {
    if (options_.log) {
      options_.log("replay window " + std::to_string(in.replay_window) + " raised to " +
                   std::to_string(kCardMinWindow) + ", the card's smallest");
    }
    in.replay_window = kCardMinWindow;
  }

  const std::string key = TunnelKey(info);
  auto tit = tunnels_.find(key);
  const bool new_tunnel = tit == tunnels_.end();
  if (new_tunnel) {
    ASSIGN_OR_RETURN(uint32_t id, rt_.AddTunnel());
    tit = tunnels_.emplace(key, Tunnel{.id = id, .policies = {}, .children = 0}).first;
  }
  Tunnel& t = tit->second;
  // A tunnel with live children has an outbound SA that the new child's replaces (a rekey); one
  // whose last child went (its removal waiting for drains) is taken over as it is.
  const bool rekey = t.children > 0;
  std::erase(tunnels_to_remove_, key);
  auto undo_tunnel = [&] {
    if (rekey) return;
    for (uint32_t p : t.policies) (void)rt_.RemovePolicy(p);
    t.policies.clear();
    if (new_tunnel) {
      (void)rt_.RemoveTunnel(t.id);
      tunnels_.erase(tit);
    } else {
      tunnels_to_remove_.push_back(key);
    }
  };

  auto in_h = rt_.AddSa(in, std::move(inbound), {.tunnel = t.id});
  if (!in_h.ok()) {
    undo_tunnel();
    return in_h.status();
  }
  auto out_h = rt_.AddSa(out, std::move(outbound), {.tunnel = t.id});
  if (!out_h.ok()) {
    (void)rt_.DeleteSa(*in_h);
    undo_tunnel();
    return out_h.status();
  }
  if (!rekey) {
    if (Status st = AddPolicies(info, t); !st.ok()) {
      (void)rt_.DeleteSa(*out_h);
      (void)rt_.DeleteSa(*in_h);
      undo_tunnel();
      return st;
    }
  } else {
    // The new outbound SA takes over the tunnel in one switch; the previous one drains and leaves
    // the card.
    if (Status st = rt_.SwitchOutbound(t.id, *out_h); !st.ok()) {
      (void)rt_.DeleteSa(*out_h);
      (void)rt_.DeleteSa(*in_h);
      return st;
    }
  }
  if (options_.log) {
    for (runtime::SaHandle h : {*in_h, *out_h}) {
      auto i = rt_.GetSa(h);
      if (!i.ok()) continue;
      char spi[9];
      std::snprintf(spi, sizeof spi, "%08x", i->spi);
      std::string line = std::string(sa::DirectionName(i->direction)) + " SA " + spi;
      if (i->placement == runtime::Placement::kCard) {
        line += " on the card, slot " + std::to_string(i->card_slot);
      } else {
        line += " in software: " + i->refusal.detail;
      }
      options_.log(line);
    }
  }
  ++t.children;
  auto sel = std::make_shared<Selectors>(Selectors{info.local_ts, info.remote_ts});
  inbound_sel_[*in_h] = std::move(sel);
  children_[info.spi_in] = Child{info, *in_h, *out_h, key};
  return OkStatus();
}

void CardDataPlane::Remove(const ChildSaInfo& info) {
  auto it = children_.find(info.spi_in);
  if (it == children_.end()) return;
  Child& c = it->second;
  (void)rt_.DeleteSa(c.in);
  // The outbound SA is gone already when a rekey switched it out (NotFound then).
  (void)rt_.DeleteSa(c.out);
  if (auto sit = inbound_sel_.find(c.in); sit != inbound_sel_.end()) {
    retired_.push_back({c.in, sit->second, std::chrono::steady_clock::now()});
  }
  auto tit = tunnels_.find(c.tunnel_key);
  if (tit != tunnels_.end() && --tit->second.children == 0) {
    for (uint32_t p : tit->second.policies) (void)rt_.RemovePolicy(p);
    tit->second.policies.clear();
    tunnels_to_remove_.push_back(c.tunnel_key);
  }
  children_.erase(it);
}

void CardDataPlane::UpdateEndpoints(const ChildSaInfo& info) {
  auto it = children_.find(info.spi_in);
  if (it == children_.end()) return;
  Child& c = it->second;
  const auto [out, in] = ChildSaConfigs(info);
  auto apply = [&](runtime::SaHandle sa, const sa::SaConfig& cfg, const char* dir) {
    if (sa == runtime::kNoSa) return;
    const Status st = rt_.UpdateEndpoints(sa, runtime::EndpointUpdate{cfg.tunnel_src, cfg.tunnel_dst, cfg.udp_encap});
    // NotFound: a rekey already switched this outbound SA out and it was deleted.
    if (!st.ok() && st.code() != StatusCode::kNotFound && options_.log) {
      options_.log(std::string("child ") + info.child + " SPI " + std::to_string(cfg.spi) + " (" + dir +
                   "): endpoint update failed: " + st.message());
    }
  };
  apply(c.out, out, "out");
  apply(c.in, in, "in");
  c.info.local = info.local;
  c.info.remote = info.remote;
  if (options_.log) options_.log("child " + info.child + ": endpoints now " + info.local.ToString() + " <-> " + info.remote.ToString());
}

ChildSaCounters CardDataPlane::Counters(const ChildSaInfo& info) const {
  auto it = children_.find(info.spi_in);
  if (it == children_.end()) return {};
  ChildSaCounters c;
  if (auto in = rt_.GetSa(it->second.in); in.ok()) {
    c.packets_in = in->packets;
    c.bytes_in = in->bytes;
  }
  if (auto out = rt_.GetSa(it->second.out); out.ok()) {
    c.packets_out = out->packets;
    c.bytes_out = out->bytes;
  }
  return c;
}

std::optional<uint32_t> CardDataPlane::ChildOfSpi(uint32_t spi, sa::Direction dir) const {
  for (const auto& [spi_in, c] : children_) {
    if (dir == sa::Direction::kInbound ? spi_in == spi : c.info.spi_out == spi) return c.info.unique_id;
  }
  return std::nullopt;
}

void CardDataPlane::Service() {
  (void)rt_.Service();
  // Removed children's selectors stay a grace period for packets that were already on the card. The handle
  // may belong to a newer SA by then (the runtime reuses them): only the retired entry goes.
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(retired_, [this, now](const Retired& r) {
    if (now - r.at < options_.retire_grace) return false;
    auto it = inbound_sel_.find(r.sa);
    if (it != inbound_sel_.end() && it->second == r.sel) inbound_sel_.erase(it);
    return true;
  });
  // Tunnels whose SAs have drained.
  std::erase_if(tunnels_to_remove_, [this](const std::string& key) {
    auto it = tunnels_.find(key);
    if (it == tunnels_.end()) return true;
    if (it->second.children != 0) return true;  // reused by a new child
    if (!rt_.RemoveTunnel(it->second.id).ok()) return false;
    tunnels_.erase(it);
    return true;
  });
}

// ---- Data path ----

size_t CardDataPlane::TakeRxBuffers(std::span<RxBuf> out) {
  const size_t n = std::min(out.size(), free_.size());
  for (size_t i = 0; i < n; ++i) {
    const uint32_t id = free_.back();
    free_.pop_back();
    out[i] = RxBuf{id, buffer(id) + options_.headroom, options_.buf_bytes - options_.headroom - 64};
  }
  return n;
}

void CardDataPlane::ReturnRxBuffers(std::span<const RxBuf> bufs) {
  for (const RxBuf& b : bufs) free_.push_back(b.id);
}

void CardDataPlane::SubmitOutbound(std::span<const Filled> pkts) {
  counters_.tun_in += pkts.size();
  Submit(pkts, sa::Direction::kOutbound);
}

void CardDataPlane::SubmitInbound(std::span<const Filled> pkts) {
  counters_.esp_in += pkts.size();
  Submit(pkts, sa::Direction::kInbound);
}

void CardDataPlane::Submit(std::span<const Filled> pkts, sa::Direction dir) {
  for (const Filled& f : pkts) {
    if (f.id >= options_.buffers) continue;  // not ours: never touch it
    PacketBuf b{buffer(f.id), options_.buf_bytes, options_.headroom, f.length};
    if (f.length == 0 || f.length > options_.buf_bytes - options_.headroom - 64) {
      ++counters_.bad_input;
      free_.push_back(f.id);
      continue;
    }
    if (dir == sa::Direction::kInbound &&
        !PrependOuterIpUdp(b, f.from.addr, f.from.port, f.local.addr, f.local.port, f.tos)) {
      ++counters_.bad_input;
      free_.push_back(f.id);
      continue;
    }
    outbound_[f.id] = dir == sa::Direction::kOutbound;
    // backlog_ has a slot per buffer, so it cannot overflow.
    backlog_[backlog_n_++] = RtPacket{b, iova(f.id), dir, runtime::kNoSa, f.id};
  }
  Flush();
}

void CardDataPlane::Flush() {
  size_t done = 0;
  while (done < backlog_n_) {
    const size_t n = std::min<size_t>(backlog_n_ - done, runtime::RuntimeQueue::kMaxBurst);
    const size_t a = queue_->Submit(std::span<const RtPacket>(backlog_.data() + done, n));
    done += a;
    if (a < n) break;
  }
  if (done == 0) return;
  std::move(backlog_.begin() + static_cast<std::ptrdiff_t>(done),
            backlog_.begin() + static_cast<std::ptrdiff_t>(backlog_n_), backlog_.begin());
  backlog_n_ -= done;
}

bool CardDataPlane::InboundAllowed(SaHandle sa, Bytes inner) const {
  auto it = inbound_sel_.find(sa);
  if (it == inbound_sel_.end()) return false;
  Flow f;
  if (!ParseFlow(inner, &f)) return false;
  return Covers(it->second->remote, f.src, f.proto, f.sport, f.ports) &&
         Covers(it->second->local, f.dst, f.proto, f.dport, f.ports);
}

void CardDataPlane::Complete(const RtCompletion& c) {
  const uint32_t id = static_cast<uint32_t>(c.user_data);
  if (c.card) ++counters_.card; else ++counters_.host;
  switch (c.status) {
    case RtStatus::kOk: {
      if (c.buf.length == 0) {
        ++counters_.bad_input;
        break;
      }
      if (id < options_.buffers && outbound_[id]) {
        Endpoint to;
        uint32_t hdr = 0;
        uint8_t tos = 0;
        if (!OuterDestination(c.buf, &to, &tos, &hdr)) {
          ++counters_.bad_input;
          break;
        }
        esp_out_[esp_n_++] = EspDatagram{Bytes(c.buf.data() + hdr, c.buf.length - hdr), to, tos};
        ++counters_.encrypted;
      } else {
        if (!InboundAllowed(c.sa, c.buf.span())) {
          ++counters_.policy_violations;
          break;
        }
        tun_out_[tun_n_++] = Bytes(c.buf.data(), c.buf.length);
        ++counters_.decrypted;
      }
      break;
    }
    case RtStatus::kBypass:
    case RtStatus::kDiscard: ++counters_.no_policy; break;
    case RtStatus::kMissingSa: ++counters_.no_sa; break;
    case RtStatus::kDropped:
      ++counters_.dropped;
      if (static_cast<size_t>(c.reason) < counters_.drop_reasons.size()) ++counters_.drop_reasons[static_cast<size_t>(c.reason)];
      break;
    case RtStatus::kDeviceError: ++counters_.device_errors; break;
  }
  if (id < options_.buffers) release_[release_n_++] = id;
}

void CardDataPlane::FlushSink(Sink& sink) {
  if (esp_n_ > 0) sink.SendEsp(std::span<const EspDatagram>(esp_out_.data(), esp_n_));
  if (tun_n_ > 0) sink.DeliverTun(std::span<const Bytes>(tun_out_.data(), tun_n_));
  esp_n_ = tun_n_ = 0;
  for (size_t i = 0; i < release_n_; ++i) free_.push_back(release_[i]);
  release_n_ = 0;
}

size_t CardDataPlane::Poll(Sink& sink) {
  if (backlog_n_ > 0) Flush();
  // Up to kSinkBatch completions (whole ring bursts) before the sink sees them.
  size_t total = 0;
  for (size_t round = 0; round < kSinkBatch / runtime::RuntimeQueue::kMaxBurst; ++round) {
    const size_t m = queue_->Poll(cpl_);
    for (size_t i = 0; i < m; ++i) Complete(cpl_[i]);
    total += m;
    if (m < runtime::RuntimeQueue::kMaxBurst) break;
  }
  FlushSink(sink);
  if (total > 0 && backlog_n_ > 0) Flush();
  return total;
}

}  // namespace ipsec::ike
