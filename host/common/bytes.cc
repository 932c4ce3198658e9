// Hex conversion. Accepts an optional 0x prefix and ':' / ' ' separators, as tools print them.
#include "host/common/bytes.h"

namespace ipsec {
namespace {
int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

StatusOr<std::vector<std::byte>> HexDecode(std::string_view hex) {
  if (hex.size() >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hex.remove_prefix(2);
  std::vector<std::byte> out;
  out.reserve(hex.size() / 2);
  int hi = -1;
  for (size_t i = 0; i < hex.size(); ++i) {
    char c = hex[i];
    if (c == ':' || c == ' ' || c == '_') continue;
    int v = HexVal(c);
    if (v < 0) return InvalidArgumentError("invalid hex digit at position " + std::to_string(i));
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(std::byte((hi << 4) | v));
      hi = -1;
    }
  }
  if (hi >= 0) return InvalidArgumentError("odd number of hex digits");
  return out;
}

std::string HexEncode(Bytes data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(data.size() * 2);
  for (std::byte b : data) {
    s.push_back(kDigits[U8(b) >> 4]);
    s.push_back(kDigits[U8(b) & 0xf]);
  }
  return s;
}

}  // namespace ipsec
