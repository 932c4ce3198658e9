// strongSwan settings syntax parser (rules in settings.h).
#include "host/ike/config/settings.h"

#include "host/common/file_io.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "host/common/secure_bytes.h"

namespace ipsec::ike::config {

std::string SourceLocation::ToString() const {
  return (file != nullptr ? *file : std::string("<config>")) + ":" + std::to_string(line);
}

const SettingsKeyValue* SettingsSection::FindValue(std::string_view key) const {
  for (const SettingsKeyValue& kv : values) {
    if (kv.key == key) return &kv;
  }
  return nullptr;
}

const SettingsSection* SettingsSection::FindSection(std::string_view n) const {
  for (const auto& s : sections) {
    if (s->name == n) return s.get();
  }
  return nullptr;
}

SettingsTree::SettingsTree() : root_(std::make_unique<SettingsSection>()) {}
SettingsTree::~SettingsTree() {
  for (auto& a : arenas_) {
    if (a) SecureZero(a->data(), a->capacity());
  }
}
SettingsTree::SettingsTree(SettingsTree&&) noexcept = default;
SettingsTree& SettingsTree::operator=(SettingsTree&& other) noexcept {
  if (this != &other) {
    for (auto& a : arenas_) {
      if (a) SecureZero(a->data(), a->capacity());
    }
    root_ = std::move(other.root_);
    files_ = std::move(other.files_);
    arenas_ = std::move(other.arenas_);
  }
  return *this;
}

Status ReadConfigFile(const std::string& path, std::string* out) { return ReadSmallFile(path, kMaxFileBytes, out); }

namespace {

constexpr size_t kMaxEchoedName = 40;

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }
bool IsNameChar(char c) {
  return !IsBlank(c) && c != '\n' && c != '{' && c != '}' && c != '=' && c != '#' && c != '"' && c != ',' &&
         c != ':' && c != '\0';
}

std::string EchoName(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < kMaxEchoedName; ++i) {
    const char c = s[i];
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  if (s.size() > kMaxEchoedName) out += "...";
  return out;
}

bool HasGlobChars(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

std::string DirName(std::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

}  // namespace

class SettingsParser {
 public:
  SettingsParser(SettingsTree* tree, const SettingsParseOptions& options) : tree_(tree), options_(options) {}

  // Parses one file's text into the section on top of `stack` (which it leaves as it found it).
  Status ParseFile(std::string_view text, std::string_view file_name, const std::string& base_dir, int include_depth,
                   std::vector<SettingsSection*>* stack) {
    if (++files_read_ > kMaxIncludedFiles) {
      return InvalidArgumentError(std::string(file_name) + ": more than " + std::to_string(kMaxIncludedFiles) +
                                  " files included");
    }
    tree_->files_.push_back(std::make_unique<std::string>(file_name));
    const std::string* file = tree_->files_.back().get();
    tree_->arenas_.push_back(std::make_unique<std::string>());
    std::string* arena = tree_->arenas_.back().get();
    arena->reserve(text.size() + 1);  // unescaped values never exceed the source: no reallocation

    const size_t base = stack->size();
    std::vector<int> open_lines;  // line of each section opened in this file
    size_t i = 0;
    int line = 1;
    auto err = [&](int at, const std::string& what) {
      return InvalidArgumentError(*file + ":" + std::to_string(at) + ": " + what);
    };
    auto skip_blanks = [&] {
      while (i < text.size() && IsBlank(text[i])) ++i;
    };
    auto at_end_of_statement = [&] { return i >= text.size() || text[i] == '\n' || text[i] == '#'; };

    while (true) {
      // Between statements: blanks, newlines, comments.
      while (i < text.size()) {
        const char c = text[i];
        if (c == '\n') {
          ++line;
          ++i;
        } else if (IsBlank(c)) {
          ++i;
        } else if (c == '#') {
          while (i < text.size() && text[i] != '\n') ++i;
        } else {
          break;
        }
      }
      if (i >= text.size()) break;
      const char c = text[i];
      if (c == '}') {
        if (stack->size() == base) return err(line, "unmatched '}'");
        stack->pop_back();
        open_lines.pop_back();
        ++i;
        continue;
      }
      if (!IsNameChar(c)) {
        if (c == '\0') return err(line, "NUL character in file");
        return err(line, std::string("expected a name, found '") + c + "'");
      }
      const size_t name_start = i;
      while (i < text.size() && IsNameChar(text[i])) ++i;
      const std::string_view name = text.substr(name_start, i - name_start);
      skip_blanks();
      const char next = i < text.size() ? text[i] : '\n';
      if (next == '=') {
        ++i;
        skip_blanks();
        const int value_line = line;
        const size_t value_start = arena->size();
        if (i < text.size() && text[i] == '"') {
          ++i;
          bool closed = false;
          while (i < text.size()) {
            char q = text[i++];
            if (q == '"') {
              closed = true;
              break;
            }
            if (q == '\n') ++line;
            if (q == '\\' && i < text.size()) {
              const char e = text[i++];
              switch (e) {
                case '"': q = '"'; break;
                case '\\': q = '\\'; break;
                case 'n': q = '\n'; break;
                case 't': q = '\t'; break;
                case 'r': q = '\r'; break;
                case 'b': q = '\b'; break;
                case 'f': q = '\f'; break;
                case '\n':  // escaped newline: continuation, nothing stored
                  ++line;
                  continue;
                default:  // unknown escape: kept as written
                  arena->push_back('\\');
                  q = e;
                  break;
              }
            }
            arena->push_back(q);
          }
          if (!closed) return err(value_line, "unterminated quoted string");
          skip_blanks();
          if (!at_end_of_statement()) return err(line, "unexpected text after a quoted value");
        } else {
          const size_t v_start = i;
          while (i < text.size() && text[i] != '\n' && text[i] != '#') ++i;
          std::string_view v = text.substr(v_start, i - v_start);
          while (!v.empty() && IsBlank(v.back())) v.remove_suffix(1);
          if (v.find('"') != std::string_view::npos) {
            return err(value_line, "'\"' inside an unquoted value (quote the whole value)");
          }
          if (v.find('\0') != std::string_view::npos) return err(value_line, "NUL character in file");
          arena->append(v);
        }
        const std::string_view value(arena->data() + value_start, arena->size() - value_start);
        SettingsSection* sec = stack->back();
        SettingsKeyValue* existing = nullptr;
        for (SettingsKeyValue& kv : sec->values) {
          if (kv.key == name) existing = &kv;
        }
        if (existing != nullptr) {  // last one wins
          existing->value = value;
          existing->location = {file, value_line};
        } else {
          sec->values.push_back({std::string(name), value, {file, value_line}});
        }
        continue;
      }
      if (next == '{') {
        ++i;
        if (stack->size() >= static_cast<size_t>(kMaxSectionDepth)) {
          return err(line, "sections nested more than " + std::to_string(kMaxSectionDepth) + " deep");
        }
        SettingsSection* parent = stack->back();
        SettingsSection* child = nullptr;
        for (auto& s : parent->sections) {
          if (s->name == name) child = s.get();
        }
        if (child == nullptr) {
          parent->sections.push_back(std::make_unique<SettingsSection>());
          child = parent->sections.back().get();
          child->name = std::string(name);
          child->location = {file, line};
        }
        stack->push_back(child);
        open_lines.push_back(line);
        continue;
      }
      if (next == ':') return err(line, "section references ('name : other {') are not supported");
      if (name == "include" && !at_end_of_statement()) {
        const int inc_line = line;
        std::string pattern;
        if (text[i] == '"') {
          const size_t close = text.find('"', i + 1);
          if (close == std::string_view::npos || text.substr(i, close - i).find('\n') != std::string_view::npos) {
            return err(inc_line, "unterminated quoted string");
          }
          pattern = std::string(text.substr(i + 1, close - i - 1));
          i = close + 1;
          skip_blanks();
          if (!at_end_of_statement()) return err(line, "unexpected text after the include pattern");
        } else {
          const size_t p_start = i;
          while (i < text.size() && text[i] != '\n' && text[i] != '#') ++i;
          std::string_view p = text.substr(p_start, i - p_start);
          while (!p.empty() && IsBlank(p.back())) p.remove_suffix(1);
          pattern = std::string(p);
        }
        RETURN_IF_ERROR(Include(pattern, *file, inc_line, base_dir, include_depth, stack));
        continue;
      }
      if (name == "include") return err(line, "include needs a file name or pattern");
      return err(line, "expected '=' or '{' after '" + EchoName(name) + "'");
    }
    if (stack->size() != base) {
      return err(open_lines.back(), "section '" + EchoName(stack->back()->name) + "' is not closed (missing '}')");
    }
    return OkStatus();
  }

 private:
  Status Include(const std::string& pattern, const std::string& file, int line, const std::string& base_dir,
                 int include_depth, std::vector<SettingsSection*>* stack) {
    auto err = [&](const std::string& what) {
      return InvalidArgumentError(file + ":" + std::to_string(line) + ": " + what);
    };
    if (!options_.allow_include) return err("include is not allowed here");
    if (pattern.empty()) return err("include needs a file name or pattern");
    if (include_depth + 1 > kMaxIncludeDepth) {
      return err("includes nested more than " + std::to_string(kMaxIncludeDepth) + " deep");
    }
    const std::string full = pattern[0] == '/' ? pattern : base_dir + "/" + pattern;
    std::vector<std::string> paths;
    if (HasGlobChars(pattern)) {
      glob_t g{};
      const int rc = ::glob(full.c_str(), 0, nullptr, &g);
      if (rc == 0) {
        for (size_t k = 0; k < g.gl_pathc; ++k) paths.emplace_back(g.gl_pathv[k]);
      }
      ::globfree(&g);
      if (rc != 0 && rc != GLOB_NOMATCH) return err("include '" + EchoName(pattern) + "': glob failed");
    } else {
      paths.push_back(full);
    }
    for (const std::string& p : paths) {
      std::string buf;
      Status s = ReadConfigFile(p, &buf);
      if (!s.ok()) return err("include: " + s.message());
      s = ParseFile(buf, p, DirName(p), include_depth + 1, stack);
      SecureZero(buf.data(), buf.size());
      RETURN_IF_ERROR(s);
    }
    return OkStatus();
  }

  SettingsTree* tree_;
  const SettingsParseOptions& options_;
  int files_read_ = 0;
};

StatusOr<SettingsTree> SettingsTree::Parse(std::string_view text, std::string_view file_name,
                                           const SettingsParseOptions& options) {
  SettingsTree tree;
  SettingsParser parser(&tree, options);
  std::vector<SettingsSection*> stack{tree.root_.get()};
  const std::string base = options.base_dir.empty() ? DirName(file_name) : options.base_dir;
  RETURN_IF_ERROR(parser.ParseFile(text, file_name, base, 0, &stack));
  return tree;
}

StatusOr<SettingsTree> SettingsTree::Load(const std::string& path, const SettingsParseOptions& options) {
  std::string buf;
  RETURN_IF_ERROR(ReadConfigFile(path, &buf));
  auto r = Parse(buf, path, options);
  SecureZero(buf.data(), buf.size());
  return r;
}

}  // namespace ipsec::ike::config
