#include "host/ike/sa/peer_config.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "host/ike/sa/ike_env.h"

namespace ipsec::ike {

Identity Identity::Fqdn(std::string_view name) {
  Identity id;
  id.type = IdType::kFqdn;
  Bytes b = AsBytes(name);
  id.data.assign(b.begin(), b.end());
  return id;
}

Identity Identity::Ipv4(const std::array<uint8_t, 4>& a) {
  Identity id;
  id.type = IdType::kIpv4Addr;
  for (uint8_t v : a) id.data.push_back(std::byte{v});
  return id;
}

namespace {
bool EqualNoCase(Bytes a, Bytes b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(std::to_integer<int>(a[i])) != std::tolower(std::to_integer<int>(b[i]))) return false;
  }
  return true;
}
}  // namespace

bool Identity::Matches(IdType peer_type, Bytes peer_data) const {
  if (any) return true;
  if (peer_type != type) return false;
  if (type == IdType::kFqdn || type == IdType::kRfc822Addr) {
    if (!data.empty() && data.front() == std::byte{'*'}) {
      size_t suffix = data.size() - 1;
      if (peer_data.size() < suffix) return false;
      return EqualNoCase(Bytes(data).subspan(1), peer_data.subspan(peer_data.size() - suffix));
    }
    return EqualNoCase(data, peer_data);
  }
  return std::equal(data.begin(), data.end(), peer_data.begin(), peer_data.end());
}

std::string Identity::ToString() const {
  if (any) return "%any";
  switch (type) {
    case IdType::kFqdn:
    case IdType::kRfc822Addr:
      return std::string(reinterpret_cast<const char*>(data.data()), data.size());
    case IdType::kIpv4Addr:
    case IdType::kIpv6Addr: {
      sa::IpAddress a;
      a.v6 = type == IdType::kIpv6Addr;
      std::memcpy(a.bytes.data(), data.data(), std::min<size_t>(data.size(), a.v6 ? 16 : 4));
      return a.ToString();
    }
    case IdType::kDerAsn1Dn:
      return "DN:" + HexEncode(data);
    default:
      return "ID" + std::to_string(static_cast<int>(type)) + ":" + HexEncode(data);
  }
}

bool AddrRange::Contains(const sa::IpAddress& a) const {
  if (a.v6 != first.v6) return false;
  size_t n = a.size();
  return std::memcmp(a.bytes.data(), first.bytes.data(), n) >= 0 && std::memcmp(a.bytes.data(), last.bytes.data(), n) <= 0;
}

std::string Endpoint::ToString() const {
  return (addr.v6 ? "[" + addr.ToString() + "]" : addr.ToString()) + ":" + std::to_string(port);
}

namespace {
class SteadyClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
};
}  // namespace

Clock& SystemClock() {
  static SteadyClock clock;
  return clock;
}

StatusOr<std::vector<std::vector<std::byte>>> Credentials::CertificateChain(const Identity& local) const {
  return NotFoundError("no certificate for " + local.ToString());
}

StatusOr<AuthPayload> Credentials::Sign(const Identity& local, Bytes, std::span<const HashAlgorithm>) const {
  return NotFoundError("no private key for " + local.ToString());
}

Status Credentials::VerifySignature(const AuthPayload&, Bytes, std::span<const std::vector<std::byte>>,
                                    const IdPayload&, std::span<const HashAlgorithm>) const {
  return UnimplementedError("signature authentication is not configured");
}

std::vector<HashAlgorithm> Credentials::SignatureHashes() const { return {}; }

}  // namespace ipsec::ike
