// Non-ESP marker, NAT-keepalive and NAT detection hash (RFC 3948 §2.2-2.3, RFC 7296 §2.23).
#include "host/ike/encoding/nat_traversal.h"

#include <openssl/evp.h>

#include <algorithm>

namespace ipsec::ike {

bool HasNonEspMarker(Bytes udp_payload) {
  return udp_payload.size() >= kNonEspMarkerSize &&
         std::all_of(udp_payload.begin(), udp_payload.begin() + kNonEspMarkerSize,
                     [](std::byte b) { return b == std::byte{0}; });
}

StatusOr<Bytes> StripNonEspMarker(Bytes udp_payload) {
  if (udp_payload.size() < kNonEspMarkerSize) {
    return InvalidArgumentError("UDP payload of " + std::to_string(udp_payload.size()) +
                                " bytes is too short for a non-ESP marker");
  }
  if (!HasNonEspMarker(udp_payload)) return InvalidArgumentError("UDP payload does not start with a non-ESP marker");
  return udp_payload.subspan(kNonEspMarkerSize);
}

std::vector<std::byte> AddNonEspMarker(Bytes ike_message) {
  std::vector<std::byte> out(kNonEspMarkerSize + ike_message.size(), std::byte{0});
  std::copy(ike_message.begin(), ike_message.end(), out.begin() + kNonEspMarkerSize);
  return out;
}

bool IsNatKeepalive(Bytes udp_payload) { return udp_payload.size() == 1 && udp_payload[0] == std::byte{0xff}; }

StatusOr<std::array<std::byte, 20>> NatDetectionHash(uint64_t spi_i, uint64_t spi_r, Bytes ip_address,
                                                     uint16_t port) {
  if (ip_address.size() != 4 && ip_address.size() != 16) {
    return InvalidArgumentError("NAT detection: address of " + std::to_string(ip_address.size()) +
                                " bytes (must be 4 or 16)");
  }
  std::array<std::byte, 8 + 8 + 16 + 2> input{};
  StoreU64Be(&input[0], spi_i);
  StoreU64Be(&input[8], spi_r);
  std::copy(ip_address.begin(), ip_address.end(), input.begin() + 16);
  StoreU16Be(&input[16 + ip_address.size()], port);
  const size_t input_len = 16 + ip_address.size() + 2;
  std::array<std::byte, 20> out{};
  unsigned int out_len = 0;
  if (EVP_Digest(input.data(), input_len, reinterpret_cast<unsigned char*>(out.data()), &out_len, EVP_sha1(),
                 nullptr) != 1 ||
      out_len != out.size()) {
    return InternalError("NAT detection: SHA-1 failed");
  }
  return out;
}

}  // namespace ipsec::ike
