// The vocabulary shared by the migration-file renderer and parser (see file_format.hpp).
#include "file_format.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <utility>

namespace strata::migrate::detail::file {
namespace {

using schema::ReferentialAction;
using schema::TypeKind;

constexpr std::pair<std::string_view, TypeKind> kTypes[] = {
    {"Integer", TypeKind::integer},
    {"BigInteger", TypeKind::big_integer},
    {"SmallInteger", TypeKind::small_integer},
    {"Float", TypeKind::float_},
    {"Boolean", TypeKind::boolean},
    {"String", TypeKind::string},
    {"Text", TypeKind::text},
    {"Blob", TypeKind::blob},
    {"Date", TypeKind::date},
    {"Time", TypeKind::time},
    {"DateTime", TypeKind::datetime},
};

constexpr ReferentialAction kActions[] = {ReferentialAction::no_action, ReferentialAction::restrict,
                                          ReferentialAction::cascade, ReferentialAction::set_null,
                                          ReferentialAction::set_default};

template <std::size_t I = 0>
void collect_names(std::vector<std::string_view>& out) {
  if constexpr (I < std::variant_size_v<Operation>) {
    out.push_back(kind_name(Operation{std::in_place_index<I>}));
    collect_names<I + 1>(out);
  }
}

template <std::size_t I = 0>
std::optional<Operation> make_kind(std::string_view name) {
  if constexpr (I < std::variant_size_v<Operation>) {
    Operation op{std::in_place_index<I>};
    if (kind_name(op) == name) return op;
    return make_kind<I + 1>(name);
  } else {
    return std::nullopt;
  }
}

bool all_of(std::string_view s, bool (*ok)(char)) {
  return !s.empty() && std::all_of(s.begin(), s.end(), ok);
}
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }


std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<schema::Type> parse_type_name(std::string_view name) {
  for (const auto& [type_name, kind] : kTypes) {
    if (name == type_name) return schema::Type{kind, std::nullopt};
  }
  constexpr std::string_view prefix = "String(";
  if (name.size() > prefix.size() + 1 && name.substr(0, prefix.size()) == prefix &&
      name.back() == ')') {
    const std::string_view digits = name.substr(prefix.size(), name.size() - prefix.size() - 1);
    // Digits only: no sign, no spaces, no leading zero, so the text is to_string's own.
    if (digits[0] == '0' || !all_of(digits, [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
    int length = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
    return schema::Type{TypeKind::string, length};
  }
  return std::nullopt;
}

std::vector<std::string_view> type_names() {
  std::vector<std::string_view> out;
  for (const auto& entry : kTypes) out.push_back(entry.first);
  return out;
}

std::string type_names_list() {
  std::string out;
  for (const auto& [type_name, kind] : kTypes) {
    if (!out.empty()) out += ", ";
    out += type_name;
    if (kind == TypeKind::string) out += ", String(n)";
  }
  return out;
}

std::optional<ReferentialAction> parse_referential_action(std::string_view text) {
  std::string wanted(text);
  for (char& c : wanted)
    c = c == '_' ? ' ' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (ReferentialAction a : kActions) {
    if (schema::to_sql(a) == wanted) return a;
  }
  return std::nullopt;
}

std::string referential_actions_list() {
  std::string out;
  for (ReferentialAction a : kActions) {
    if (!out.empty()) out += ", ";
    out += schema::to_sql(a);
  }
  return out;
}

const std::vector<std::string_view>& operation_names() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    collect_names(out);
    return out;
  }();
  return names;
}

std::optional<Operation> make_operation(std::string_view name) { return make_kind(name); }

bool is_revision_id(std::string_view id) {
  return id.size() <= revision_id_max && all_of(id, [](char c) { return is_alnum(c) || c == '_'; });
}

bool is_branch_label(std::string_view label) {
  return all_of(label, [](char c) { return is_alnum(c) || c == '_' || c == '.' || c == '-'; });
}

bool is_dialect_key(std::string_view key) {
  return key == "*" || all_of(key, [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
         });
}

std::optional<char32_t> decode_utf8(std::string_view text, std::size_t& i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return static_cast<char32_t>(text[i++]);
  std::size_t length = 0;
  char32_t cp = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    cp = lead & 0x1Fu;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    cp = lead & 0x0Fu;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    cp = lead & 0x07u;
  } else {
    return std::nullopt;
  }
  if (text.size() - i < length) return std::nullopt;
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0u) != 0x80u) return std::nullopt;
    cp = (cp << 6) | (byte(i + k) & 0x3Fu);
  }
  const char32_t smallest = length == 3 ? 0x800 : length == 4 ? 0x10000 : 0x80;
  if (cp < smallest || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
  i += length;
  return cp;
}

bool is_printable_unicode(char32_t c) {
  return c >= 0xA0 && c != 0x2028 && c != 0x2029 && c != 0xFEFF && c != 0xFFFE && c != 0xFFFF;
}

std::optional<std::size_t> find_invalid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    if (!decode_utf8(text, i)) return i;
  }
  return std::nullopt;
}

std::optional<std::string_view> closest(std::string_view word,
                                        const std::vector<std::string_view>& candidates) {
  // Short words get one edit, longer ones two: "x" is not a typo of "on".
  const std::size_t allowed = word.size() <= 3 ? 1 : 2;
  std::optional<std::string_view> best;
  std::size_t best_distance = allowed + 1;
  for (std::string_view c : candidates) {
    const std::size_t d = lower(word) == lower(c) ? 0 : schema::edit_distance(word, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

std::string single_line(std::string_view s, std::size_t max_chars) {
  std::string out;
  std::size_t count = 0;
  for (std::size_t i = 0; i < s.size(); ++count) {
    if (count == max_chars) return out + "...";
    const std::size_t start = i;
    const std::optional<char32_t> c = decode_utf8(s, i);
    if (!c) {
      out += '?';
      ++i;
    } else if (*c < 0x20 || *c == 0x7F || (*c >= 0x80 && !is_printable_unicode(*c))) {
      out += ' ';
    } else {
      out.append(s.substr(start, i - start));
    }
  }
  return out;
}

std::string join(const std::vector<std::string_view>& words, std::string_view separator) {
  std::string out;
  for (std::string_view w : words) {
    if (!out.empty()) out += separator;
    out += w;
  }
  return out;
}

}  // namespace strata::migrate::detail::file
