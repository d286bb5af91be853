// Private to migration files: checked reading of yaml-cpp nodes for file_parse.cpp. Every
// check that fails throws MigrationFileError("path:line: message"), the line 1-based and
// pointing at the key or item at fault.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "strata/schema/table.hpp"

namespace strata::migrate::detail::file {

// The file being read: where errors point.
class FileReader {
 public:
  explicit FileReader(std::string path) : path_(std::move(path)) {}
  [[noreturn]] void fail(int line, const std::string& message) const;
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

// n's 1-based line, or fallback when n is null (yaml-cpp marks an empty value on the line
// after its key) or has no mark.
int line_of(const YAML::Node& n, int fallback);

// What a message says was found instead: "nothing", "a list", "a map", "'text'".
std::string found(const YAML::Node& n);

// n carries no tag other than the core schema's (!!str, !!int, ...): "!!binary", "!foo" and
// the like are refused rather than silently read as strings.
void check_tag(const FileReader& file, const YAML::Node& n, int line, const std::string& what);

// One `key: value` of a checked map, with what a message needs to point at it.
struct Field {
  const FileReader* file = nullptr;
  std::string owner;  // the map's name in messages: "create_index", "column of add_column"
  std::string key;
  YAML::Node value;
  int line = 0;  // the key's line

  // "'<key>' of <owner> <what>": fails at the key's line.
  [[noreturn]] void fail(const std::string& what) const;
  int value_line() const { return line_of(value, line); }
};

// The fields of one YAML map, checked when built: it is a map, every key is a string and
// appears once, and (unless any_key) every key is one of `known`, with a suggestion if not.
class Fields {
 public:
  Fields(const FileReader& file, const YAML::Node& node, int line, std::string owner,
         std::vector<std::string_view> known, bool any_key = false);

  std::optional<Field> get(std::string_view key) const;  // nullopt when absent
  Field need(std::string_view key) const;  // fails with "<owner> needs '<key>'" when absent
  const std::vector<Field>& all() const noexcept { return fields_; }
  int line() const noexcept { return line_; }
  const std::string& owner() const noexcept { return owner_; }
  const FileReader& file() const noexcept { return *file_; }

 private:
  const FileReader* file_;
  int line_;
  std::string owner_;
  std::vector<Field> fields_;
};

// Typed values. Each fails with "'<key>' of <owner> must be ...; found ...".
std::string read_string(const Field& f);                          // any scalar; not null
std::optional<std::string> read_optional_string(const Field& f);  // null -> nullopt
bool read_bool(const Field& f);                         // true/false (also yes/no, on/off)
std::size_t read_position(const Field& f);              // a whole number >= 0
std::vector<std::string> read_names(const Field& f);    // [a, b]; null -> []
schema::Type read_type(const Field& f);                 // "String(64)", "Integer", ...
schema::ReferentialAction read_action(const Field& f);  // "CASCADE", "SET NULL", ...

// Calls each(item, line) for every item of a list (null counts as an empty list).
template <class Each>
void for_each_item(const Field& f, std::string_view what_items, Each each) {
  if (f.value.IsNull()) return;
  check_tag(*f.file, f.value, f.line, "'" + f.key + "' of " + f.owner);
  if (!f.value.IsSequence()) {
    f.fail("must be a list of " + std::string(what_items) + "; found " + found(f.value));
  }
  for (const YAML::Node& item : f.value) each(item, line_of(item, f.line));
}

}  // namespace strata::migrate::detail::file
