// TsPayload decode/encode/verify (RFC 7296 §3.13).
#include "host/ike/encoding/payloads/ts_payload.h"

#include <algorithm>
#include <string>

#include "host/ike/encoding/parse_error.h"

namespace ipsec::ike {
namespace {

constexpr size_t kSelectorHeaderSize = 4;  // type, protocol, length

size_t AddressSize(TsType type) {
  switch (type) {
    case TsType::kIpv4AddrRange: return 4;
    case TsType::kIpv6AddrRange: return 16;
    default: return 0;
  }
}

}  // namespace

TrafficSelector TrafficSelector::Ipv4Range(const std::array<uint8_t, 4>& start, const std::array<uint8_t, 4>& end,
                                           uint8_t ip_protocol, uint16_t start_port, uint16_t end_port) {
  TrafficSelector ts;
  ts.type = TsType::kIpv4AddrRange;
  ts.ip_protocol = ip_protocol;
  ts.start_port = start_port;
  ts.end_port = end_port;
  for (uint8_t b : start) ts.start_address.push_back(std::byte{b});
  for (uint8_t b : end) ts.end_address.push_back(std::byte{b});
  return ts;
}

TrafficSelector TrafficSelector::Ipv6Range(const std::array<uint8_t, 16>& start, const std::array<uint8_t, 16>& end,
                                           uint8_t ip_protocol, uint16_t start_port, uint16_t end_port) {
  TrafficSelector ts;
  ts.type = TsType::kIpv6AddrRange;
  ts.ip_protocol = ip_protocol;
  ts.start_port = start_port;
  ts.end_port = end_port;
  for (uint8_t b : start) ts.start_address.push_back(std::byte{b});
  for (uint8_t b : end) ts.end_address.push_back(std::byte{b});
  return ts;
}

StatusOr<TsPayload> TsPayload::Parse(Bytes body, size_t offset, PayloadType payload_type) {
  if (body.size() < 4) return ParseError(offset, "TS body of " + Num(body.size()) + " bytes is shorter than 4");
  TsPayload ts;
  ts.payload_type = payload_type;
  const size_t count = U8(body[0]);
  size_t pos = 4;
  ts.selectors.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const std::string where = "traffic selector #" + Num(i + 1);
    const size_t left = body.size() - pos;
    if (left < kSelectorHeaderSize) {
      return ParseError(offset + pos, where + ": Number of TSs is " + Num(count) + " but only " + Num(left) +
                                          " bytes remain");
    }
    TrafficSelector sel;
    sel.type = static_cast<TsType>(U8(body[pos]));
    sel.ip_protocol = U8(body[pos + 1]);
    const size_t length = LoadU16Be(&body[pos + 2]);
    const size_t addr = AddressSize(sel.type);
    if (addr != 0 && length != 8 + 2 * addr) {
      return ParseError(offset + pos + 2, where + ": Selector Length " + Num(length) + " for TS type " +
                                              Num(static_cast<uint8_t>(sel.type)) + " (must be " + Num(8 + 2 * addr) +
                                              ")");
    }
    if (length < kSelectorHeaderSize) {
      return ParseError(offset + pos + 2, where + ": Selector Length " + Num(length) + " is below 4");
    }
    if (length > left) {
      return ParseError(offset + pos + 2, where + ": Selector Length " + Num(length) + " overruns the payload (" +
                                              Num(left) + " bytes left)");
    }
    const Bytes s = body.subspan(pos, length);
    if (addr != 0) {
      sel.start_port = LoadU16Be(&s[4]);
      sel.end_port = LoadU16Be(&s[6]);
      sel.start_address.assign(s.begin() + 8, s.begin() + 8 + static_cast<std::ptrdiff_t>(addr));
      sel.end_address.assign(s.begin() + 8 + static_cast<std::ptrdiff_t>(addr), s.end());
    } else {
      sel.start_port = 0;
      sel.end_port = 0;
      sel.opaque.assign(s.begin() + kSelectorHeaderSize, s.end());
    }
    ts.selectors.push_back(std::move(sel));
    pos += length;
  }
  if (pos != body.size()) {
    return ParseError(offset + pos, Num(body.size() - pos) + " bytes follow the " + Num(count) +
                                        " traffic selectors announced by Number of TSs");
  }
  return ts;
}

Status TsPayload::Serialize(WireWriter& w) const {
  if (selectors.size() > 255) return EncodeError("TS with more than 255 selectors");
  w.WriteU8(static_cast<uint8_t>(selectors.size()));
  w.WriteZeros(3);
  for (size_t i = 0; i < selectors.size(); ++i) {
    const TrafficSelector& s = selectors[i];
    const size_t addr = AddressSize(s.type);
    w.WriteU8(static_cast<uint8_t>(s.type));
    w.WriteU8(s.ip_protocol);
    if (addr != 0) {
      if (s.start_address.size() != addr || s.end_address.size() != addr) {
        return EncodeError("traffic selector #" + Num(i + 1) + ": address size does not match TS type");
      }
      w.WriteU16Be(static_cast<uint16_t>(8 + 2 * addr));
      w.WriteU16Be(s.start_port);
      w.WriteU16Be(s.end_port);
      w.WriteBytes(s.start_address);
      w.WriteBytes(s.end_address);
    } else {
      if (s.opaque.size() > 0xffff - kSelectorHeaderSize) {
        return EncodeError("traffic selector #" + Num(i + 1) + ": opaque selector too long");
      }
      w.WriteU16Be(static_cast<uint16_t>(kSelectorHeaderSize + s.opaque.size()));
      w.WriteBytes(s.opaque);
    }
  }
  return OkStatus();
}

Status TsPayload::Verify() const {
  if (payload_type != PayloadType::kTsInitiator && payload_type != PayloadType::kTsResponder) {
    return InvalidArgumentError("TS: payload type " + Num(static_cast<uint8_t>(payload_type)) + " is not TSi/TSr");
  }
  const std::string name(PayloadTypeName(payload_type));
  if (selectors.empty()) return InvalidArgumentError(name + ": no traffic selectors");
  for (size_t i = 0; i < selectors.size(); ++i) {
    const TrafficSelector& s = selectors[i];
    const std::string where = name + " selector #" + Num(i + 1);
    const size_t addr = AddressSize(s.type);
    if (addr == 0) continue;  // opaque types: nothing this layer can check
    if (s.start_address.size() != addr || s.end_address.size() != addr) {
      return InvalidArgumentError(where + ": address size does not match TS type");
    }
    const bool opaque_ports = s.start_port == 0xffff && s.end_port == 0;  // §3.13.1 OPAQUE
    if (s.start_port > s.end_port && !opaque_ports) {
      return InvalidArgumentError(where + ": start port " + Num(s.start_port) + " > end port " + Num(s.end_port));
    }
    if (std::lexicographical_compare(s.end_address.begin(), s.end_address.end(), s.start_address.begin(),
                                     s.start_address.end())) {
      return InvalidArgumentError(where + ": start address > end address");
    }
  }
  return OkStatus();
}

}  // namespace ipsec::ike
