// strongSwan settings syntax (host/ike/config/settings.h): sections, values, quoting, comments,
// merging, includes, and the "<file>:<line>: <what>" errors.
#include "host/ike/config/settings.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace ipsec::ike::config {
namespace {

SettingsTree MustParse(std::string_view text, const SettingsParseOptions& o = {}) {
  auto t = SettingsTree::Parse(text, "swanctl.conf", o);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? std::move(*t) : SettingsTree();
}

std::string ParseError(std::string_view text, const SettingsParseOptions& o = {}) {
  auto t = SettingsTree::Parse(text, "swanctl.conf", o);
  EXPECT_FALSE(t.ok());
  if (t.ok()) return "";
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  return t.status().message();
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ike_config_test_XXXXXX").string();
    path_ = mkdtemp(tmpl.data()) != nullptr ? tmpl : "";
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  void Write(const std::string& name, const std::string& text) const {
    std::filesystem::create_directories(std::filesystem::path(path_ + "/" + name).parent_path());
    std::ofstream(path_ + "/" + name) << text;
  }

 private:
  std::string path_;
};

TEST(SettingsTest, ParsesNestedSectionsValuesAndLines) {
  const SettingsTree t = MustParse(
      "# comment\n"
      "connections {\n"
      "  gw {   # trailing comment\n"
      "    remote_addrs = 198.51.100.1, %any  \n"
      "    empty =\n"
      "  }\n"
      "}\n");
  const SettingsSection* c = t.root().FindSection("connections");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->location.line, 2);
  const SettingsSection* gw = c->FindSection("gw");
  ASSERT_NE(gw, nullptr);
  const SettingsKeyValue* v = gw->FindValue("remote_addrs");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->value, "198.51.100.1, %any");
  EXPECT_EQ(v->location.line, 4);
  EXPECT_EQ(v->location.ToString(), "swanctl.conf:4");
  ASSERT_NE(gw->FindValue("empty"), nullptr);
  EXPECT_EQ(gw->FindValue("empty")->value, "");
}

TEST(SettingsTest, QuotedValuesKeepHashesAndUnescape) {
  const SettingsTree t = MustParse("a = \"x # not a comment\"  # comment\nb = \"q\\\"\\\\\\n\\tz\"\nc = \"multi\nline\"\nd = 1\n");
  EXPECT_EQ(t.root().FindValue("a")->value, "x # not a comment");
  EXPECT_EQ(t.root().FindValue("b")->value, "q\"\\\n\tz");
  EXPECT_EQ(t.root().FindValue("c")->value, "multi\nline");
  EXPECT_EQ(t.root().FindValue("d")->location.line, 5);
}

TEST(SettingsTest, ValueRunsToEndOfLineLikeStrongSwan) {
  // `a { b = c }` leaves the section open: the value is "c }".
  EXPECT_EQ(ParseError("a { b = c }\n"), "swanctl.conf:1: section 'a' is not closed (missing '}')");
  const SettingsTree t = MustParse("a { b = c }\n}\n");
  EXPECT_EQ(t.root().FindSection("a")->FindValue("b")->value, "c }");
  // Several closing braces and a section on one line are fine.
  const SettingsTree u = MustParse("a { b {\nc = 1\n} } d { e = 2\n}\n");
  EXPECT_EQ(u.root().FindSection("a")->FindSection("b")->FindValue("c")->value, "1");
  EXPECT_EQ(u.root().FindSection("d")->FindValue("e")->value, "2");
}

TEST(SettingsTest, DuplicateKeysLastWinsAndSectionsMerge) {
  const SettingsTree t = MustParse("s {\n a = 1\n b = 2\n}\ns {\n a = 3\n c = 4\n}\n");
  const SettingsSection* s = t.root().FindSection("s");
  ASSERT_EQ(t.root().sections.size(), 1u);
  EXPECT_EQ(s->FindValue("a")->value, "3");
  EXPECT_EQ(s->FindValue("a")->location.line, 6);
  EXPECT_EQ(s->FindValue("b")->value, "2");
  EXPECT_EQ(s->FindValue("c")->value, "4");
  ASSERT_EQ(s->values.size(), 3u);
  EXPECT_EQ(s->values[0].key, "a");  // first-definition order
}

TEST(SettingsTest, ErrorsNameFileAndLine) {
  using namespace std::literals;
  struct Case {
    std::string_view text;
    const char* message;
  } cases[] = {
      {"a {\n b = 1\n}\n}\n"sv, "swanctl.conf:4: unmatched '}'"},
      {"a {\n b {\n"sv, "swanctl.conf:2: section 'b' is not closed (missing '}')"},
      {"\n\nkey value\n"sv, "swanctl.conf:3: expected '=' or '{' after 'key'"},
      {"key\n= 1\n"sv, "swanctl.conf:1: expected '=' or '{' after 'key'"},
      {"a = \"open\n\n"sv, "swanctl.conf:1: unterminated quoted string"},
      {"a = \"x\" y\n"sv, "swanctl.conf:1: unexpected text after a quoted value"},
      {"a = x\"y\"\n"sv, "swanctl.conf:1: '\"' inside an unquoted value (quote the whole value)"},
      {"\n= 1\n"sv, "swanctl.conf:2: expected a name, found '='"},
      {"{\n"sv, "swanctl.conf:1: expected a name, found '{'"},
      {"a : b {\n}\n"sv, "swanctl.conf:1: section references ('name : other {') are not supported"},
      {"include\n"sv, "swanctl.conf:1: include needs a file name or pattern"},
      {"x = 1\n\0y = 2\n"sv, "swanctl.conf:2: NUL character in file"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ParseError(c.text), c.message) << "input: " << c.text;
  }
}

TEST(SettingsTest, LongNamesAreShortenedInErrors) {
  const std::string name(100, 'k');
  EXPECT_EQ(ParseError(name + "\n"), "swanctl.conf:1: expected '=' or '{' after '" + std::string(40, 'k') + "...'");
}

TEST(SettingsTest, ValuesNeverAppearInErrors) {
  const std::string msg = ParseError("secret = \"hunter2-topsecret\n");
  EXPECT_EQ(msg.find("hunter2"), std::string::npos);
}

TEST(SettingsTest, SectionDepthIsLimited) {
  std::string deep;
  for (int i = 0; i < kMaxSectionDepth; ++i) deep += "s" + std::to_string(i) + " {\n";
  EXPECT_EQ(ParseError(deep), "swanctl.conf:16: sections nested more than 16 deep");
}

TEST(SettingsTest, IncludesRelativeFilesAndGlobsIntoTheCurrentSection) {
  TempDir dir;
  dir.Write("conf.d/b.conf", "b = 2\n");
  dir.Write("conf.d/a.conf", "# a\na = 1\n");
  dir.Write("conf.d/ignored.txt", "garbage {\n");
  dir.Write("one.conf", "one = 1\n");
  dir.Write("main.conf", "s {\n  include conf.d/*.conf\n  include \"one.conf\"\n  include none/*.conf\n}\n");
  auto t = SettingsTree::Load(dir.path() + "/main.conf");
  ASSERT_TRUE(t.ok()) << t.status().message();
  const SettingsSection* s = t->root().FindSection("s");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->values.size(), 3u);
  EXPECT_EQ(s->values[0].key, "a");  // glob results in name order
  EXPECT_EQ(s->values[0].location.ToString(), dir.path() + "/conf.d/a.conf:2");
  EXPECT_EQ(s->values[1].key, "b");
  EXPECT_EQ(s->values[2].key, "one");
}

TEST(SettingsTest, IncludeErrorsNameTheIncludedFile) {
  TempDir dir;
  dir.Write("bad.conf", "x {\n");
  dir.Write("close.conf", "}\n");
  dir.Write("main.conf", "include bad.conf\n");
  dir.Write("main2.conf", "s {\ninclude close.conf\n");
  dir.Write("main3.conf", "\ninclude missing.conf\n");
  auto t = SettingsTree::Load(dir.path() + "/main.conf");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), dir.path() + "/bad.conf:1: section 'x' is not closed (missing '}')");
  t = SettingsTree::Load(dir.path() + "/main2.conf");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), dir.path() + "/close.conf:1: unmatched '}'");
  t = SettingsTree::Load(dir.path() + "/main3.conf");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message().rfind(dir.path() + "/main3.conf:2: include: " + dir.path() + "/missing.conf: cannot open", 0),
            0u)
      << t.status().message();
}

TEST(SettingsTest, IncludeRecursionIsBounded) {
  TempDir dir;
  dir.Write("loop.conf", "include loop.conf\n");
  auto t = SettingsTree::Load(dir.path() + "/loop.conf");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), dir.path() + "/loop.conf:1: includes nested more than 8 deep");
}

TEST(SettingsTest, IncludeCanBeDisabled) {
  SettingsParseOptions o;
  o.allow_include = false;
  EXPECT_EQ(ParseError("\ninclude /etc/passwd\n", o), "swanctl.conf:2: include is not allowed here");
}

TEST(SettingsTest, IncludeIsAnOrdinaryKeyWithEquals) {
  const SettingsTree t = MustParse("include = yes\n");
  EXPECT_EQ(t.root().FindValue("include")->value, "yes");
}

}  // namespace
}  // namespace ipsec::ike::config
