// The YAML emitter of migration files (see file_emit.hpp): layout and quoting rules.
#include "file_emit.hpp"

#include <cstdio>
#include <utility>

#include "strata/error.hpp"

#include "file_format.hpp"

namespace strata::migrate::detail::file {
namespace {

bool is_ascii_letter(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_ascii_digit(char32_t c) { return c >= '0' && c <= '9'; }

// Every code point of s (s is valid UTF-8: emit() checks it first).
std::u32string code_points(std::string_view s) {
  std::u32string out;
  for (std::size_t i = 0; i < s.size();) out.push_back(*decode_utf8(s, i));
  return out;
}

bool is_yaml_keyword(std::string_view s) {
  std::string folded(s);
  for (char& c : folded) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  for (std::string_view k : {"y", "n", "yes", "no", "true", "false", "on", "off", "null"}) {
    if (folded == k) return true;
  }
  return false;
}

// s starts with a digit and holds only [A-Za-z0-9_]: could a YAML 1.1 or 1.2 reader take it
// for a number (1_000, 0x1F, 0o17, 0b101, 12e4)?
bool looks_numeric(std::string_view s) {
  if (s.size() > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b')) return true;
  bool seen_exponent = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((s[i] == 'e' || s[i] == 'E') && !seen_exponent && i > 0) {
      seen_exponent = true;
    } else if (!is_ascii_digit(static_cast<unsigned char>(s[i])) && s[i] != '_') {
      return false;
    }
  }
  return true;
}

// Whether s may be written without quotes: it then reads back as the same string in YAML 1.1
// and 1.2, in block and flow context. Deliberately narrower than YAML allows.
bool is_plain_safe(std::string_view s) {
  if (s.empty() || s.front() == ' ' || s.back() == ' ' || is_yaml_keyword(s)) return false;
  const std::u32string cps = code_points(s);
  if (is_ascii_digit(cps[0])) {
    for (char32_t c : cps) {
      if (!is_ascii_letter(c) && !is_ascii_digit(c) && c != '_') return false;
    }
    return !looks_numeric(s);
  }
  if (!is_ascii_letter(cps[0]) && cps[0] != '_' && !is_printable_unicode(cps[0])) return false;
  for (char32_t c : cps) {
    const bool ok = is_ascii_letter(c) || is_ascii_digit(c) || is_printable_unicode(c) ||
                    std::u32string_view(U"_ .()/-+=<>").find(c) != std::u32string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// Whether s, which spans lines, can be a literal block scalar (|) that reads back exactly:
// printable text, no tab or carriage return, no line ending in a space, and a first line that
// starts with a visible character (it sets the block's indentation).
bool is_literal_safe(std::string_view s) {
  if (s.find('\n') == std::string_view::npos) return false;
  if (s.front() == ' ' || s.front() == '\n') return false;
  // Several trailing line breaks would need keep chomping (|+), whose block then swallows the
  // blank lines that follow it in the file; such strings are double-quoted instead.
  if (s.size() >= 2 && s.substr(s.size() - 2) == "\n\n") return false;
  const std::u32string cps = code_points(s);
  for (std::size_t i = 0; i < cps.size(); ++i) {
    const char32_t c = cps[i];
    const bool ok = (c >= 0x20 && c <= 0x7E) || c == '\n' || is_printable_unicode(c);
    if (!ok) return false;
    if (c == ' ' && (i + 1 == cps.size() || cps[i + 1] == '\n')) return false;
  }
  return true;
}

std::string double_quoted(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t start = i;
    const char32_t c = *decode_utf8(s, i);
    char escape[16] = {};
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || (c >= 0x7F && c < 0xA0)) {
      std::snprintf(escape, sizeof escape, "\\x%02X", static_cast<unsigned>(c));
      out += escape;
    } else if (c >= 0xA0 && !is_printable_unicode(c)) {
      std::snprintf(escape, sizeof escape, "\\u%04X", static_cast<unsigned>(c));
      out += escape;
    } else {
      out.append(s.substr(start, i - start));
    }
  }
  return out + "\"";
}

// A scalar on one line: plain, or double-quoted.
std::string inline_scalar(const YamlNode& n) {
  if (n.kind == YamlNode::Kind::word) return n.scalar;
  if (n.kind == YamlNode::Kind::text && is_plain_safe(n.scalar)) return n.scalar;
  return double_quoted(n.scalar);
}

bool is_scalar(const YamlNode& n) {
  return n.kind != YamlNode::Kind::seq && n.kind != YamlNode::Kind::map;
}

bool is_empty_collection(const YamlNode& n) {
  return (n.kind == YamlNode::Kind::seq && n.items.empty()) ||
         (n.kind == YamlNode::Kind::map && n.entries.empty());
}

// A flow collection is written on one line only if no string in it spans lines (those are
// clearer as literal blocks, which need block style around them).
bool fits_one_line(const YamlNode& n) {
  switch (n.kind) {
    case YamlNode::Kind::text:
    case YamlNode::Kind::sql: return n.scalar.find('\n') == std::string::npos;
    case YamlNode::Kind::word: return true;
    case YamlNode::Kind::seq:
      for (const YamlNode::Item& item : n.items) {
        if (!item.comment.empty() || !fits_one_line(item.value)) return false;
      }
      return true;
    case YamlNode::Kind::map:
      for (const YamlNode::Entry& e : n.entries) {
        if (!fits_one_line(e.value)) return false;
      }
      return true;
  }
  return false;
}

bool on_one_line(const YamlNode& n) {
  return is_empty_collection(n) || (n.flow && fits_one_line(n));
}

std::string one_line(const YamlNode& n) {
  if (is_scalar(n)) return inline_scalar(n);
  std::string out = n.kind == YamlNode::Kind::seq ? "[" : "{";
  bool first = true;
  if (n.kind == YamlNode::Kind::seq) {
    for (const YamlNode::Item& item : n.items) {
      out += first ? "" : ", ";
      out += one_line(item.value);
      first = false;
    }
  } else {
    for (const YamlNode::Entry& e : n.entries) {
      out += first ? "" : ", ";
      out += inline_scalar(YamlNode::text(e.key)) + ": " + one_line(e.value);
      first = false;
    }
  }
  return out + (n.kind == YamlNode::Kind::seq ? "]" : "}");
}

// "|" (one trailing line break) or "|-" (none), then the lines of s at indent.
std::string literal_block(std::string_view s, std::size_t indent) {
  const bool clip = s.back() == '\n';
  std::string out = clip ? "|\n" : "|-\n";
  std::string_view body = clip ? s.substr(0, s.size() - 1) : s;
  while (true) {
    const std::size_t end = body.find('\n');
    const std::string_view line = body.substr(0, end);
    if (!line.empty()) out += std::string(indent, ' ') + std::string(line);
    out += '\n';
    if (end == std::string_view::npos) break;
    body.remove_prefix(end + 1);
  }
  return out;
}

void emit_map(const YamlNode& n, std::size_t indent, std::string& out);
void emit_seq(const YamlNode& n, std::size_t indent, std::string& out);

// The value of a block map entry or sequence item whose "key:" or "-" has been written; the
// value's own lines go at indent.
void emit_value(const YamlNode& v, std::size_t indent, std::string& out) {
  if (is_scalar(v) && v.kind != YamlNode::Kind::word && is_literal_safe(v.scalar)) {
    out += " " + literal_block(v.scalar, indent);
  } else if (is_scalar(v) || on_one_line(v)) {
    out += " " + one_line(v) + "\n";
  } else if (v.kind == YamlNode::Kind::map) {
    out += "\n";
    emit_map(v, indent, out);
  } else {
    out += "\n";
    emit_seq(v, indent, out);
  }
}

void emit_map(const YamlNode& n, std::size_t indent, std::string& out) {
  for (const YamlNode::Entry& e : n.entries) {
    if (e.blank_line_before) out += "\n";
    out += std::string(indent, ' ') + inline_scalar(YamlNode::text(e.key)) + ":";
    emit_value(e.value, indent + 2, out);
  }
}

void emit_seq(const YamlNode& n, std::size_t indent, std::string& out) {
  const std::string pad(indent, ' ');
  for (const YamlNode::Item& item : n.items) {
    if (!item.comment.empty()) out += pad + "# " + single_line(item.comment) + "\n";
    const YamlNode& v = item.value;
    if (is_scalar(v) || on_one_line(v)) {
      out += pad + "-";
      emit_value(v, indent + 2, out);
      continue;
    }
    // A block collection starts on the dash's line: "- key: value" with the rest of its keys
    // (or items) aligned under the first, two columns in.
    std::string block;
    if (v.kind == YamlNode::Kind::map) {
      emit_map(v, indent + 2, block);
    } else {
      emit_seq(v, indent + 2, block);
    }
    const std::string inner(indent + 2, ' ');
    if (block.compare(0, inner.size(), inner) == 0 && block.size() > inner.size() &&
        block[inner.size()] != ' ' && block[inner.size()] != '#') {
      out += pad + "- " + block.substr(inner.size());
    } else {
      out += pad + "-\n" + block;  // starts with a comment or a blank line: keep it whole
    }
  }
}

void check_utf8(const YamlNode& n) {
  const auto check = [](const std::string& s) {
    if (const auto at = find_invalid_utf8(s)) {
      throw ArgumentError("cannot write a migration file: the string " +
                          double_quoted(s.substr(0, *at)) + "... is not valid UTF-8 at byte " +
                          std::to_string(*at) + "; migration files are UTF-8 text");
    }
  };
  check(n.scalar);
  for (const YamlNode::Item& item : n.items) {
    check(item.comment);
    check_utf8(item.value);
  }
  for (const YamlNode::Entry& e : n.entries) {
    check(e.key);
    check_utf8(e.value);
  }
}

}  // namespace

YamlNode YamlNode::text(std::string s) { return {Kind::text, std::move(s), {}, {}, false}; }
YamlNode YamlNode::sql(std::string s) { return {Kind::sql, std::move(s), {}, {}, false}; }
YamlNode YamlNode::word(std::string s) { return {Kind::word, std::move(s), {}, {}, false}; }
YamlNode YamlNode::seq(bool flow) { return {Kind::seq, {}, {}, {}, flow}; }
YamlNode YamlNode::map(bool flow) { return {Kind::map, {}, {}, {}, flow}; }

YamlNode& YamlNode::add(YamlNode value, std::string comment) {
  items.push_back({std::move(value), std::move(comment)});
  return *this;
}

YamlNode& YamlNode::set(std::string key, YamlNode value, bool blank_line_before) {
  entries.push_back({std::move(key), std::move(value), blank_line_before});
  return *this;
}

std::string emit(const std::vector<std::string>& header, const YamlNode& root) {
  check_utf8(root);
  std::string out;
  for (const std::string& line : header) out += "# " + single_line(line) + "\n";
  emit_map(root, 0, out);
  return out;
}

}  // namespace strata::migrate::detail::file
