// SA description files: a small `key = value` text format that describes one SA (or, with `[sa]`
// section headers, several), for tools, tests and demos. The IKE daemon never reads these files.
//
//   # GCM tunnel, outbound
//   spi       = 0x1000
//   direction = out
//   mode      = tunnel
//   suite     = aes128gcm16
//   key       = 000102030405060708090a0b0c0d0e0f 10111213   # cipher key || salt, as KEYMAT
//   src       = 198.18.0.1
//   dst       = 198.18.0.2
//
// Grammar: one `key = value` per line; `#` starts a comment (to the end of the line); blank lines
// are ignored; surrounding whitespace is trimmed; keys are lower case. In multi-SA files every SA
// starts with a line `[sa]`. The keys and their values are listed in host/tools/README.md.
//
// Required: spi, direction, mode, suite; key when the suite has a cipher or salt key; auth_key for
// the HMAC suites; src and dst in tunnel mode. Every key may appear once per SA. After the last
// line the result is checked with SaConfig::Validate() and KeyMaterial::ValidateFor().
//
// Errors are InvalidArgument statuses whose message starts with the line they refer to:
// "line 7: unknown key 'spy'", "line 3: bad hex in key (odd number of digits)",
// "line 9: duplicate key 'spi' (first on line 2)"; errors about a whole SA (missing keys, Validate())
// name the line where the SA starts: "SA at line 1: missing required key 'suite'".
//
// Key material: `key` and `auth_key` are decoded straight into SecureBytes; no other copy of the
// decoded bytes is made, and error messages never contain key text. The caller still owns `text`
// (the hex digits); LoadSaFile() wipes its own read buffer before returning.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "host/common/status.h"
#include "host/sa/sa_config.h"

namespace ipsec::sa {

struct SaFile {
  SaConfig config;
  KeyMaterial keys;
  int first_line = 0;  // line of the `[sa]` header, or of the first key in a single-SA file
};

// Parses a file holding exactly one SA. A single leading `[sa]` header is accepted; more than one
// SA is an error (use ParseSaFileMulti).
[[nodiscard]] StatusOr<SaFile> ParseSaFile(std::string_view text);

// Parses a file holding one or more SAs. Without any `[sa]` header the whole file is one SA; with
// headers, nothing but comments and blank lines may precede the first one, and no section may be
// empty. Returns the SAs in file order (at least one).
[[nodiscard]] StatusOr<std::vector<SaFile>> ParseSaFileMulti(std::string_view text);

// Read `path` (at most 1 MiB) and parse it as above. Errors about the file itself say which file;
// parse errors are prefixed with "<path>: ".
[[nodiscard]] StatusOr<SaFile> LoadSaFile(const std::string& path);
[[nodiscard]] StatusOr<std::vector<SaFile>> LoadSaFileMulti(const std::string& path);

}  // namespace ipsec::sa
