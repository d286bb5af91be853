// Checked reading of yaml-cpp nodes for the migration-file parser (see file_read.hpp).
#include "file_read.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <utility>

#include "strata/migrate/errors.hpp"

#include "file_format.hpp"

namespace strata::migrate::detail::file {
namespace {

constexpr std::string_view kCoreTagPrefix = "tag:yaml.org,2002:";

bool is_core_tag(std::string_view tag) {
  // "?" marks a plain scalar, "!" a quoted one; both are untagged.
  if (tag.empty() || tag == "?" || tag == "!") return true;
  if (tag.substr(0, kCoreTagPrefix.size()) != kCoreTagPrefix) return false;
  const std::string_view name = tag.substr(kCoreTagPrefix.size());
  for (std::string_view core : {"str", "int", "bool", "null", "float", "seq", "map"}) {
    if (name == core) return true;
  }
  return false;
}

// s, decoded from the file, is valid UTF-8. The file itself is (parse() checks), but escapes
// may decode to bytes that are not: "\uD800" (a surrogate), and "\N" and "\_", which yaml-cpp
// 0.7 decodes to the single bytes 0x85 and 0xA0 rather than to U+0085 and U+00A0.
void check_utf8(const FileReader& file, const std::string& s, int line, const std::string& what) {
  if (const auto at = find_invalid_utf8(s)) {
    file.fail(line, what + " is not valid UTF-8 once its escapes are decoded (byte " +
                        std::to_string(*at) +
                        "); write such characters as \\uXXXX escapes, "
                        "not \\N, \\_ or surrogates");
  }
}

// The scalar text of f's value, which must be a scalar (a string, number or word).
const std::string& scalar(const Field& f, std::string_view expected) {
  const std::string what = "'" + single_line(f.key, 40) + "' of " + f.owner;
  check_tag(*f.file, f.value, f.line, what);
  if (!f.value.IsScalar()) f.fail("must be " + std::string(expected) + "; found " + found(f.value));
  check_utf8(*f.file, f.value.Scalar(), f.value_line(), what);
  return f.value.Scalar();
}

}  // namespace

void FileReader::fail(int line, const std::string& message) const {
  throw MigrationFileError(path_ + ":" + std::to_string(line) + ": " + message, path_, line);
}

int line_of(const YAML::Node& n, int fallback) {
  if (!n.IsDefined() || n.IsNull() || n.Mark().is_null()) return fallback;
  return n.Mark().line + 1;
}

std::string found(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "nothing";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a map";
  return "'" + single_line(n.Scalar(), 40) + "'";
}

void check_tag(const FileReader& file, const YAML::Node& n, int line, const std::string& what) {
  const std::string& tag = n.Tag();
  if (is_core_tag(tag)) return;
  std::string shown = tag;
  if (shown.substr(0, kCoreTagPrefix.size()) == kCoreTagPrefix) {
    shown = "!!" + shown.substr(kCoreTagPrefix.size());
  }
  file.fail(line_of(n, line), "unsupported tag '" + single_line(shown, 40) + "' on " + what +
                                  "; migration files use plain YAML values without tags");
}

void Field::fail(const std::string& what) const {
  file->fail(line, "'" + single_line(key, 40) + "' of " + owner + " " + what);
}

Fields::Fields(const FileReader& file, const YAML::Node& node, int line, std::string owner,
               std::vector<std::string_view> known, bool any_key)
    : file_(&file), line_(line_of(node, line)), owner_(std::move(owner)) {
  check_tag(file, node, line_, owner_);
  if (!node.IsMap()) {
    file.fail(line_, owner_ + " must be a map" +
                         (known.empty() ? std::string() : " of " + join(known)) + "; found " +
                         found(node));
  }
  std::set<std::string> seen;  // not get(): a map may be large (execute's any_key)
  for (const auto& entry : node) {
    const int key_line = line_of(entry.first, line_);
    check_tag(file, entry.first, key_line, "a key of " + owner_);
    if (!entry.first.IsScalar()) {
      file.fail(key_line, "a key of " + owner_ + " must be a name; found " + found(entry.first));
    }
    const std::string& key = entry.first.Scalar();
    if (!seen.insert(key).second) {
      file.fail(key_line,
                "'" + single_line(key, 40) + "' appears twice in " + owner_ + "; keep one");
    }
    if (!any_key && std::find(known.begin(), known.end(), key) == known.end()) {
      std::string message = "unknown field '" + single_line(key, 40) + "' in " + owner_ + "; ";
      if (const auto guess = closest(key, known))
        message += "did you mean '" + std::string(*guess) + "'? ";
      file.fail(key_line, message + "expected " + join(known));
    }
    fields_.push_back({file_, owner_, key, entry.second, key_line});
  }
}

std::optional<Field> Fields::get(std::string_view key) const {
  for (const Field& f : fields_) {
    if (f.key == key) return f;
  }
  return std::nullopt;
}

Field Fields::need(std::string_view key) const {
  if (auto f = get(key)) return *f;
  file_->fail(line_, owner_ + " needs '" + std::string(key) + "'");
}

std::string read_string(const Field& f) { return scalar(f, "a string"); }

std::optional<std::string> read_optional_string(const Field& f) {
  if (f.value.IsNull()) return std::nullopt;
  return read_string(f);
}

bool read_bool(const Field& f) {
  const std::string& s = scalar(f, "true or false");
  for (std::string_view yes : {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"}) {
    if (s == yes) return true;
  }
  for (std::string_view no : {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"}) {
    if (s == no) return false;
  }
  f.fail("must be true or false; found " + found(f.value));
}

std::size_t read_position(const Field& f) {
  const std::string& s = scalar(f, "a whole number >= 0");
  std::size_t n = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) {
    f.fail("must be a whole number >= 0 (a column's 0-based place in its table); found " +
           found(f.value));
  }
  return n;
}

std::vector<std::string> read_names(const Field& f) {
  std::vector<std::string> out;
  for_each_item(f, "names, e.g. [user_id]", [&](const YAML::Node& item, int line) {
    check_tag(*f.file, item, line, "an item of '" + f.key + "' of " + f.owner);
    if (!item.IsScalar()) {
      f.file->fail(line, "item " + std::to_string(out.size() + 1) + " of '" + f.key + "' of " +
                             f.owner + " must be a name; found " + found(item));
    }
    check_utf8(*f.file, item.Scalar(), line, "an item of '" + f.key + "' of " + f.owner);
    out.push_back(item.Scalar());
  });
  return out;
}

schema::Type read_type(const Field& f) {
  const std::string& name = scalar(f, "a type name such as Integer or String(64)");
  if (const auto type = parse_type_name(name)) return *type;
  std::string message = "unknown type '" + single_line(name, 40) + "'; ";
  const std::size_t paren = name.find('(');
  const std::string base = name.substr(0, paren);
  const std::vector<std::string_view> names = type_names();
  if (paren != std::string::npos && std::find(names.begin(), names.end(), base) != names.end()) {
    message += base == "String" ? "a length is a whole number from 1, as in String(64); "
                                : base + " takes no length; ";
  } else if (const auto guess = closest(base, names)) {
    // "Strin(64)" -> "String(64)", "integer" -> "Integer": the length is kept for String.
    const bool sized = *guess == "String" && paren != std::string::npos;
    const std::string suggestion = std::string(*guess) + (sized ? name.substr(paren) : "");
    if (parse_type_name(suggestion))
      message += "did you mean '" + single_line(suggestion, 40) + "'? ";
  }
  f.fail("has " + message + "expected " + type_names_list());
}

schema::ReferentialAction read_action(const Field& f) {
  const std::string& s = scalar(f, "a referential action such as CASCADE");
  if (const auto action = parse_referential_action(s)) return *action;
  f.fail("must be one of " + referential_actions_list() + "; found " + found(f.value));
}

}  // namespace strata::migrate::detail::file
