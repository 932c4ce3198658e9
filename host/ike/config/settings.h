// The strongSwan settings syntax (strongswan.conf, swanctl.conf) as a tree of sections and
// key/value pairs, with the file and line of every entry. config.h builds the daemon's model from
// this tree; nothing here knows what a key means.
//
//   # comment (to the end of the line, also after a value)
//   connections {
//     gw {                                 # a section: name, then '{' on the same line
//       remote_addrs = 198.51.100.1, %any  # a value: the rest of the line, trimmed
//       local { id = "C=CH, O=x"  }        # ... or one quoted string: "..." with \" \\ \n \t \r
//     }                                    # '}' may be followed by more statements
//   }
//   include conf.d/*.conf                  # relative to the including file; glob(7) patterns
//
// Rules (as strongSwan's settings parser, src/libstrongswan/settings/settings_parser.y):
//  - An unquoted value runs to the end of the line or to '#', so `a { b = c }` makes the value of
//    b "c }" and leaves the section open, exactly as strongSwan does. An empty value is allowed.
//  - Names (sections and keys) are any run of characters other than blanks, '{', '}', '=', '#',
//    '"' and ','; they are kept as written (case-sensitive).
//  - Duplicate keys in one section: the last one wins (its value and its line). Sections with the
//    same name in one parent are merged, as strongSwan merges them (keys of the later one win).
//  - `include <pattern>` may appear anywhere a statement may; the included file's statements go
//    into the current section and its braces must balance. A pattern with wildcards that matches
//    nothing is fine; a plain path that does not exist is an error. Includes nest at most
//    kMaxIncludeDepth deep; at most kMaxIncludedFiles files are read in total.
//  - Section nesting is limited to kMaxSectionDepth, a file to kMaxFileBytes.
//  - Section references (`name : other { }`) and line continuations are not supported (errors).
//
// Errors are InvalidArgument with the message "<file>:<line>: <what>". Values never appear in an
// error message (they may be secrets); names do, shortened to 40 printable characters.
//
// Values are stored in per-file arenas that are wiped (SecureZero) when the tree is destroyed, and
// LoadSettingsFile wipes its read buffers, so a secret in a value leaves no copy behind.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "host/common/status.h"

namespace ipsec::ike::config {

inline constexpr int kMaxIncludeDepth = 8;
inline constexpr int kMaxIncludedFiles = 256;
inline constexpr int kMaxSectionDepth = 16;
inline constexpr size_t kMaxFileBytes = size_t{1} << 20;

// Where an entry was written. `file` points into the owning SettingsTree (stable for its life).
struct SourceLocation {
  const std::string* file = nullptr;
  int line = 0;
  std::string ToString() const;  // "<file>:<line>"
};

struct SettingsKeyValue {
  std::string key;
  std::string_view value;  // into the tree's arena
  SourceLocation location;
};

struct SettingsSection {
  std::string name;
  SourceLocation location;  // where the section was (first) opened
  std::vector<SettingsKeyValue> values;                   // in first-definition order
  std::vector<std::unique_ptr<SettingsSection>> sections;  // in first-definition order

  const SettingsKeyValue* FindValue(std::string_view key) const;
  const SettingsSection* FindSection(std::string_view name) const;
};

struct SettingsParseOptions {
  bool allow_include = true;  // false: `include` is an error (used when fuzzing)
  std::string base_dir;       // for relative include patterns; empty = directory of the file name
};

class SettingsTree {
 public:
  SettingsTree();
  ~SettingsTree();
  SettingsTree(SettingsTree&&) noexcept;
  SettingsTree& operator=(SettingsTree&&) noexcept;
  SettingsTree(const SettingsTree&) = delete;
  SettingsTree& operator=(const SettingsTree&) = delete;

  const SettingsSection& root() const { return *root_; }

  // Parses `text`, named `file_name` in error messages and locations.
  [[nodiscard]] static StatusOr<SettingsTree> Parse(std::string_view text, std::string_view file_name,
                                                    const SettingsParseOptions& options = {});
  // Reads `path` (at most kMaxFileBytes) and parses it; file errors are "<path>: <what>".
  [[nodiscard]] static StatusOr<SettingsTree> Load(const std::string& path, const SettingsParseOptions& options = {});

 private:
  friend class SettingsParser;
  std::unique_ptr<SettingsSection> root_;
  std::vector<std::unique_ptr<std::string>> files_;   // names, for SourceLocation::file
  std::vector<std::unique_ptr<std::string>> arenas_;  // value storage, reserved once, wiped at the end
};

// Reads a regular file of at most kMaxFileBytes into *out (sized once, so no copy is left behind).
[[nodiscard]] Status ReadConfigFile(const std::string& path, std::string* out);

}  // namespace ipsec::ike::config
