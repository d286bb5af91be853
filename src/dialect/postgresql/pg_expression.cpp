// The comparable form of a check condition or server default (PgDialect::comparable_sql), for
// db check: the server stores "length(body) > 0" as "(length((body)::text) > 0)" and "'x'" as
// "'x'::character varying", so the migrations' text and the catalog's are both reduced to one
// form — casts (:: and CAST), grouping parentheses, table qualifiers, case and spacing dropped,
// IN, BETWEEN, LIKE, SIMILAR TO and TRIM spelled as the server spells them, numbers written by
// value — before they are compared. Pure text work, no server.
#include <cctype>
#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "postgresql.hpp"

namespace strata::dialect::postgresql {
namespace {

enum class Kind { word, quoted, string, number, symbol };

struct Token {
  Kind kind;
  std::string text;
};

bool is_word_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
}
bool is_operator_char(char c) {
  return std::string_view("+-*/<>=~!@#%^&|`?").find(c) != std::string_view::npos;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Words of the multi-word type names format_type() writes after "::".
const std::set<std::string, std::less<>> type_continuations{"varying", "precision", "without",
                                                             "with",    "time",      "zone"};
const std::set<std::string, std::less<>> numeric_types{
    "integer", "int", "int4", "bigint", "int8", "smallint", "int2", "numeric", "decimal",
    "real",    "float4", "float8", "double"};
// Words after which "(" opens a group or a list, not a function's arguments.
const std::set<std::string, std::less<>> keywords{
    "and", "or", "not", "any", "all", "some", "in", "is", "between", "like", "ilike", "similar",
    "case", "when", "then", "else", "end", "distinct", "from", "escape", "array", "exists"};

bool is_number(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  if (s.empty()) return false;
  bool digit = false;
  for (char c : s) {
    if (std::isdigit(static_cast<unsigned char>(c))) digit = true;
    else if (c != '.' && c != 'e' && c != 'E' && c != '-' && c != '+') return false;
  }
  return digit;
}

// Skips the type name after "::" at text[i]: words (several for "character varying"), a
// modifier "(n)" or "(p, s)", array brackets. Returns the first word.
std::string skip_type(std::string_view text, std::size_t& i) {
  std::string first;
  auto skip_space = [&] {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  };
  for (bool more = true; more;) {
    skip_space();
    std::size_t start = i;
    if (i < text.size() && text[i] == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i) {}
      if (i < text.size()) ++i;
    } else {
      while (i < text.size() && (is_word_char(text[i]) || text[i] == '.')) ++i;
    }
    const std::string word = lower(text.substr(start, i - start));
    if (first.empty()) first = word;
    std::size_t save = i;
    skip_space();
    std::size_t next_end = i;
    while (next_end < text.size() && is_word_char(text[next_end])) ++next_end;
    more = !word.empty() && type_continuations.count(lower(text.substr(i, next_end - i))) > 0;
    if (!more) i = save;
  }
  skip_space();
  if (i < text.size() && text[i] == '(') {
    const std::size_t close = text.find(')', i);
    i = close == std::string_view::npos ? text.size() : close + 1;
  }
  for (;;) {
    std::size_t j = i;
    while (j < text.size() && std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    if (j + 1 < text.size() && text[j] == '[' && text[j + 1] == ']') {
      i = j + 2;
    } else {
      break;
    }
  }
  return first;
}

bool is_sign(const Token& t) { return t.kind == Kind::symbol && (t.text == "-" || t.text == "+"); }
bool ends_operand(const Token& t) {
  if (t.kind == Kind::symbol) return t.text == ")" || t.text == "]";
  return !(t.kind == Kind::word && keywords.count(t.text));
}

// Tokens with the casts removed; a quoted number cast to a number ('-1'::integer) is the number.
std::vector<Token> tokenize(std::string_view text) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '\'') {
      std::size_t j = i + 1;
      for (; j < text.size(); ++j) {
        if (text[j] != '\'') continue;
        if (j + 1 < text.size() && text[j + 1] == '\'') {
          ++j;
          continue;
        }
        break;
      }
      out.push_back({Kind::string, std::string(text.substr(i, j + 1 - i))});
      i = j + 1;
    } else if (c == '"') {
      const std::size_t j = text.find('"', i + 1);
      const std::size_t end = j == std::string_view::npos ? text.size() : j + 1;
      std::string inner(text.substr(i + 1, end - i - 2));
      const bool plain = !inner.empty() && is_word_start(inner[0]) && lower(inner) == inner &&
                         inner.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_$") ==
                             std::string::npos;
      if (plain) out.push_back({Kind::word, inner});
      else out.push_back({Kind::quoted, std::string(text.substr(i, end - i))});
      i = end;
    } else if (c == ':' && i + 1 < text.size() && text[i + 1] == ':') {
      i += 2;
      const std::string type = skip_type(text, i);
      if (!out.empty() && out.back().kind == Kind::string && numeric_types.count(type)) {
        const std::string& s = out.back().text;
        const std::string inner = s.substr(1, s.size() - 2);
        if (is_number(inner)) out.back() = {Kind::number, inner};
      }
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < text.size() &&
                std::isdigit(static_cast<unsigned char>(text[i + 1])))) {
      std::size_t j = i;
      while (j < text.size() &&
             (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '.'))
        ++j;
      // A signed exponent (1.5e-3) belongs to the number, not to an operator after it.
      const std::string_view head = text.substr(i, j - i);
      if ((head.back() == 'e' || head.back() == 'E') &&
          head.find_first_not_of("0123456789.") == head.size() - 1 && j + 1 < text.size() &&
          (text[j] == '-' || text[j] == '+') &&
          std::isdigit(static_cast<unsigned char>(text[j + 1]))) {
        for (j += 1; j < text.size() && std::isdigit(static_cast<unsigned char>(text[j])); ++j) {}
      }
      std::string number(text.substr(i, j - i));
      // A sign before a number that follows no operand is part of it (the server's '-1').
      const bool sign = !out.empty() && is_sign(out.back()) &&
                        (out.size() == 1 || !ends_operand(out[out.size() - 2]));
      if (sign) {
        number = out.back().text + number;
        out.pop_back();
      }
      out.push_back({Kind::number, std::move(number)});
      i = j;
    } else if (is_word_start(c)) {
      std::size_t j = i;
      while (j < text.size() && is_word_char(text[j])) ++j;
      out.push_back({Kind::word, lower(text.substr(i, j - i))});
      i = j;
    } else if (is_operator_char(c)) {
      std::size_t j = i;
      while (j < text.size() && is_operator_char(text[j])) ++j;
      std::string op(text.substr(i, j - i));
      if (op == "!=") op = "<>";
      out.push_back({Kind::symbol, std::move(op)});
      i = j;
    } else {
      out.push_back({Kind::symbol, std::string(1, c)});
      ++i;
    }
  }
  return out;
}

bool is(const Token& t, std::string_view text) {
  return (t.kind == Kind::word || t.kind == Kind::symbol) && t.text == text;
}

constexpr std::size_t none = static_cast<std::size_t>(-1);

bool opens(const Token& t) { return is(t, "(") || is(t, "["); }
bool closes(const Token& t) { return is(t, ")") || is(t, "]"); }

// The index of the bracket that closes the one at t[open], or none.
std::size_t closing(const std::vector<Token>& t, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < t.size(); ++i) {
    if (opens(t[i])) ++depth;
    else if (closes(t[i]) && --depth == 0) return i;
  }
  return none;
}

// The index of the bracket that opens the one at t[close], or none.
std::size_t opening(const std::vector<Token>& t, std::size_t close) {
  int depth = 0;
  for (std::size_t i = close + 1; i-- > 0;) {
    if (closes(t[i])) ++depth;
    else if (opens(t[i]) && --depth == 0) return i;
  }
  return none;
}

// The indexes in [begin, end) of the tokens equal to text outside any bracket.
std::vector<std::size_t> top_level(const std::vector<Token>& t, std::size_t begin,
                                   std::size_t end, std::string_view text) {
  std::vector<std::size_t> out;
  int depth = 0;
  for (std::size_t i = begin; i < end; ++i) {
    if (opens(t[i])) ++depth;
    else if (closes(t[i])) --depth;
    else if (depth == 0 && is(t[i], text)) out.push_back(i);
  }
  return out;
}

bool is_name(const Token& t) {
  return (t.kind == Kind::word && !keywords.count(t.text)) || t.kind == Kind::quoted;
}
bool is_value(const Token& t) {
  return t.kind == Kind::string || t.kind == Kind::number || is_name(t);
}
// The operators that bind tighter than BETWEEN, LIKE and the comparisons: an operand of those
// runs on over them.
bool is_arithmetic(const Token& t) {
  static const std::set<std::string, std::less<>> ops{"+", "-", "*", "/", "%", "^", "||"};
  return t.kind == Kind::symbol && ops.count(t.text);
}

// The end of the primary at t[i] (a name or literal, a call f(...), a group (...)), or none.
std::size_t primary_end(const std::vector<Token>& t, std::size_t i) {
  if (i >= t.size()) return none;
  std::size_t open = none;
  if (is(t[i], "(")) open = i;
  else if (!is_value(t[i])) return none;
  else if (is_name(t[i]) && i + 1 < t.size() && is(t[i + 1], "(")) open = i + 1;
  if (open == none) return i + 1;
  const std::size_t close = closing(t, open);
  return close == none ? none : close + 1;
}

// The end of the operand that starts at t[i] (primaries, each with its signs, joined by
// arithmetic operators), or none.
std::size_t operand_end(const std::vector<Token>& t, std::size_t i) {
  for (;;) {
    while (i < t.size() && is_sign(t[i])) ++i;
    i = primary_end(t, i);
    if (i == none || i >= t.size() || !is_arithmetic(t[i])) return i;
    ++i;
  }
}

// The start of the operand that ends before t[end], as operand_end() reads it, or none.
std::size_t operand_start(const std::vector<Token>& t, std::size_t end) {
  for (;;) {
    if (end == 0) return none;
    std::size_t i = end - 1;
    if (is(t[i], ")")) {
      i = opening(t, i);
      if (i == none) return none;
      if (i > 0 && is_name(t[i - 1])) --i;  // a call
    } else if (!is_value(t[i])) {
      return none;
    }
    // Its signs: those that follow no operand.
    while (i > 0 && is_sign(t[i - 1]) && (i == 1 || !ends_operand(t[i - 2]))) --i;
    if (i < 2 || !is_arithmetic(t[i - 1]) || !ends_operand(t[i - 2])) return i;
    end = i - 1;
  }
}

// "CAST(x AS type)" as "(x)": the server writes it "(x)::type", whose cast tokenize() drops.
// CAST('-1' AS integer) is the number, as '-1'::integer is.
std::vector<Token> drop_cast_calls(std::vector<Token> t) {
  for (std::size_t i = 0; i + 1 < t.size(); ++i) {
    if (!is(t[i], "cast") || !is(t[i + 1], "(")) continue;
    const std::size_t close = closing(t, i + 1);
    if (close == none) break;
    const std::vector<std::size_t> as = top_level(t, i + 2, close, "as");
    if (as.empty() || as.back() + 1 >= close) continue;
    std::vector<Token> value(t.begin() + static_cast<std::ptrdiff_t>(i + 2),
                             t.begin() + static_cast<std::ptrdiff_t>(as.back()));
    if (value.size() == 1 && value[0].kind == Kind::string &&
        numeric_types.count(t[as.back() + 1].text)) {
      const std::string inner = value[0].text.substr(1, value[0].text.size() - 2);
      if (is_number(inner)) value[0] = {Kind::number, inner};
    }
    std::vector<Token> out(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(i));
    out.push_back({Kind::symbol, "("});
    out.insert(out.end(), value.begin(), value.end());
    out.push_back({Kind::symbol, ")"});
    out.insert(out.end(), t.begin() + static_cast<std::ptrdiff_t>(close + 1), t.end());
    t = std::move(out);  // t[i] is now "(": a cast inside is met next
  }
  return t;
}

// The pattern matches as the server writes them: "a LIKE b" as "a ~~ b" (ILIKE ~~*, NOT LIKE
// !~~, NOT ILIKE !~~*), "a LIKE b ESCAPE c" as "a ~~ like_escape(b, c)", "a SIMILAR TO b
// [ESCAPE c]" as "a ~ similar_to_escape(b[, c])" (NOT SIMILAR TO: !~).
std::vector<Token> spell_pattern_matches(const std::vector<Token>& in) {
  std::vector<Token> out;
  auto matches = [&](std::size_t k) {
    return k < in.size() &&
           (is(in[k], "like") || is(in[k], "ilike") ||
            (is(in[k], "similar") && k + 1 < in.size() && is(in[k + 1], "to")));
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    const bool negated = is(in[i], "not") && matches(i + 1);
    const std::size_t k = negated ? i + 1 : i;
    if (!matches(k)) {
      out.push_back(in[i]);
      continue;
    }
    const bool similar = is(in[k], "similar");
    out.push_back({Kind::symbol, std::string(negated ? "!" : "") +
                                     (similar ? "~" : is(in[k], "like") ? "~~" : "~~*")});
    const std::size_t pattern = similar ? k + 2 : k + 1;
    const std::size_t pattern_end = operand_end(in, pattern);
    const bool escape =
        pattern_end != none && pattern_end < in.size() && is(in[pattern_end], "escape");
    const std::size_t escape_end = escape ? operand_end(in, pattern_end + 1) : none;
    const std::size_t end = escape ? escape_end : similar ? pattern_end : none;
    if (end == none) {  // the pattern follows as it is
      i = pattern - 1;
      continue;
    }
    out.push_back({Kind::word, similar ? "similar_to_escape" : "like_escape"});
    out.push_back({Kind::symbol, "("});
    out.insert(out.end(), in.begin() + static_cast<std::ptrdiff_t>(pattern),
               in.begin() + static_cast<std::ptrdiff_t>(pattern_end));
    if (escape) {
      out.push_back({Kind::symbol, ","});
      out.insert(out.end(), in.begin() + static_cast<std::ptrdiff_t>(pattern_end + 1),
                 in.begin() + static_cast<std::ptrdiff_t>(escape_end));
    }
    out.push_back({Kind::symbol, ")"});
    i = end - 1;
  }
  return out;
}

// "x IN (a, b)" as the server writes it, "x = ANY (ARRAY[a, b])"; NOT IN as "<> ALL".
std::vector<Token> spell_in_lists(const std::vector<Token>& in) {
  std::vector<Token> out;
  std::vector<bool> closes_list;  // per open "(": whether its ")" closes a rewritten list
  for (std::size_t i = 0; i < in.size(); ++i) {
    const Token& t = in[i];
    if (is(t, "in") && i + 1 < in.size() && is(in[i + 1], "(")) {
      const bool negated = !out.empty() && is(out.back(), "not");
      if (negated) out.pop_back();
      out.push_back({Kind::symbol, negated ? "<>" : "="});
      out.push_back({Kind::word, negated ? "all" : "any"});
      out.push_back({Kind::word, "array"});
      out.push_back({Kind::symbol, "["});
      closes_list.push_back(true);
      ++i;
    } else if (is(t, "(")) {
      closes_list.push_back(false);
      out.push_back(t);
    } else if (is(t, ")")) {
      const bool list = !closes_list.empty() && closes_list.back();
      if (!closes_list.empty()) closes_list.pop_back();
      out.push_back(list ? Token{Kind::symbol, "]"} : t);
    } else {
      out.push_back(t);
    }
  }
  return out;
}

// "x = ANY (ARRAY[a])" as "x = a", "x <> ALL (ARRAY[a])" as "x <> a": the server writes a list
// of one so. After drop_grouping().
std::vector<Token> collapse_lists_of_one(const std::vector<Token>& in) {
  std::vector<Token> out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    out.push_back(in[i]);
    const bool list = i + 3 < in.size() &&
                      ((is(in[i], "=") && is(in[i + 1], "any")) ||
                       (is(in[i], "<>") && is(in[i + 1], "all"))) &&
                      is(in[i + 2], "array") && is(in[i + 3], "[");
    const std::size_t close = list ? closing(in, i + 3) : none;
    if (close == none || close == i + 4 || !top_level(in, i + 4, close, ",").empty()) continue;
    out.insert(out.end(), in.begin() + static_cast<std::ptrdiff_t>(i + 4),
               in.begin() + static_cast<std::ptrdiff_t>(close));
    i = close;
  }
  return out;
}

// Drops the parentheses that only group: those not after a function's name.
std::vector<Token> drop_grouping(const std::vector<Token>& in) {
  std::vector<Token> out;
  std::vector<bool> kept;  // per open "(": whether it was kept (a call)
  for (const Token& t : in) {
    if (is(t, "(")) {
      const bool call = !out.empty() &&
                        (out.back().kind == Kind::word || out.back().kind == Kind::quoted) &&
                        !keywords.count(out.back().text);
      kept.push_back(call);
      if (call) out.push_back(t);
    } else if (is(t, ")")) {
      const bool call = !kept.empty() && kept.back();
      if (!kept.empty()) kept.pop_back();
      if (call) out.push_back(t);
    } else {
      out.push_back(t);
    }
  }
  return out;
}

// "x BETWEEN a AND b" as "x >= a AND x <= b" (NOT BETWEEN: "x < a OR x > b"), as the server
// writes it; x, a and b are operands as operand_end() reads them. Before drop_grouping(), which
// would hide where a grouped operand starts.
std::vector<Token> spell_between(const std::vector<Token>& in) {
  std::vector<Token> out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const bool negated = is(in[i], "not") && i + 1 < in.size() && is(in[i + 1], "between");
    const std::size_t b = negated ? i + 1 : i;
    const std::size_t x = is(in[b], "between") ? operand_start(out, out.size()) : none;
    const std::size_t low_end = x == none ? none : operand_end(in, b + 1);
    const std::size_t high_end = low_end == none || low_end >= in.size() ||
                                         !is(in[low_end], "and")
                                     ? none
                                     : operand_end(in, low_end + 1);
    if (high_end == none) {
      out.push_back(in[i]);
      continue;
    }
    const std::vector<Token> operand(out.begin() + static_cast<std::ptrdiff_t>(x), out.end());
    out.push_back({Kind::symbol, negated ? "<" : ">="});
    out.insert(out.end(), in.begin() + static_cast<std::ptrdiff_t>(b + 1),
               in.begin() + static_cast<std::ptrdiff_t>(low_end));
    out.push_back({Kind::word, negated ? "or" : "and"});
    out.insert(out.end(), operand.begin(), operand.end());
    out.push_back({Kind::symbol, negated ? ">" : "<="});
    out.insert(out.end(), in.begin() + static_cast<std::ptrdiff_t>(low_end + 1),
               in.begin() + static_cast<std::ptrdiff_t>(high_end));
    i = high_end - 1;
  }
  return out;
}

// TRIM in the one spelling the server writes (trim(s) as "TRIM(BOTH FROM s)"): the side, BOTH
// when none is named; the characters, if any; FROM; the string. trim(s, chars) is
// trim(chars FROM s). After drop_grouping().
std::vector<Token> spell_trim(const std::vector<Token>& in) {
  std::vector<Token> out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const std::size_t close =
        is(in[i], "trim") && i + 1 < in.size() && is(in[i + 1], "(") ? closing(in, i + 1) : none;
    if (close == none) {
      out.push_back(in[i]);
      continue;
    }
    std::size_t b = i + 2;
    std::string side = "both";
    if (b < close && (is(in[b], "both") || is(in[b], "leading") || is(in[b], "trailing")))
      side = in[b++].text;
    auto part = [&](std::size_t from, std::size_t to) {
      return spell_trim(std::vector<Token>(in.begin() + static_cast<std::ptrdiff_t>(from),
                                           in.begin() + static_cast<std::ptrdiff_t>(to)));
    };
    const std::vector<std::size_t> from = top_level(in, b, close, "from");
    const std::vector<std::size_t> comma = top_level(in, b, close, ",");
    std::vector<Token> characters;
    std::vector<Token> string;
    if (!from.empty()) {
      characters = part(b, from.front());
      string = part(from.front() + 1, close);
    } else if (comma.size() == 1) {
      string = part(b, comma.front());
      characters = part(comma.front() + 1, close);
    } else {
      string = part(b, close);
    }
    out.push_back(in[i]);
    out.push_back(in[i + 1]);
    out.push_back({Kind::word, side});
    out.insert(out.end(), characters.begin(), characters.end());
    out.push_back({Kind::word, "from"});
    out.insert(out.end(), string.begin(), string.end());
    out.push_back(in[close]);
    i = close;
  }
  return out;
}

// A decimal number by its value, exactly (no rounding through a double): "0.5", ".5" and
// "5E-1" all as "5e-1", "100" and "1E+2" as "1e2". Any other spelling (0x1F) as it is.
std::string number_value(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  std::string digits;
  long long exponent = 0;
  bool point = false;
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(s[i]))) {
      digits += s[i];
      if (point) --exponent;
    } else if (s[i] == '.' && !point) {
      point = true;
    } else {
      break;
    }
  }
  if (digits.empty()) return std::string(text);
  if (i < s.size()) {
    if (s[i] != 'e' && s[i] != 'E') return std::string(text);
    ++i;
    const bool below = i < s.size() && s[i] == '-';
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (i == s.size() || s.size() - i > 9) return std::string(text);
    long long e = 0;
    for (; i < s.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::string(text);
      e = e * 10 + (s[i] - '0');
    }
    exponent += below ? -e : e;
  }
  const std::size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return "0";
  const std::size_t last = digits.find_last_not_of('0');
  exponent += static_cast<long long>(digits.size() - 1 - last);
  return (negative ? "-" : "") + digits.substr(first, last + 1 - first) + "e" +
         std::to_string(exponent);
}

// "t.x" as "x": a check names only its own table's columns, and the server keeps no
// qualifier.
std::vector<Token> drop_qualifiers(std::vector<Token> tokens) {
  std::vector<Token> out;
  out.reserve(tokens.size());
  auto name = [](const Token& t) { return t.kind == Kind::word || t.kind == Kind::quoted; };
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (name(tokens[i]) && i + 2 < tokens.size() && tokens[i + 1].kind == Kind::symbol &&
        tokens[i + 1].text == "." && name(tokens[i + 2])) {
      ++i;  // the qualifier and its dot
      continue;
    }
    out.push_back(std::move(tokens[i]));
  }
  return out;
}

}  // namespace

std::string PgDialect::comparable_sql(std::string_view sql) const {
  std::vector<Token> tokens = drop_cast_calls(drop_qualifiers(tokenize(sql)));
  tokens = spell_between(spell_in_lists(spell_pattern_matches(tokens)));
  tokens = spell_trim(collapse_lists_of_one(drop_grouping(tokens)));
  std::string out;
  for (const Token& t : tokens) {
    if (!out.empty()) out += ' ';
    out += t.kind == Kind::number ? number_value(t.text) : t.text;
  }
  return out;
}

}  // namespace strata::dialect::postgresql
