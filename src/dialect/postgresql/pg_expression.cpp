// The comparable form of a check condition or server default (PgDialect::comparable_sql), for
// db check: the server stores "length(body) > 0" as "(length((body)::text) > 0)" and "'x'" as
// "'x'::character varying", so the migrations' text and the catalog's are both reduced to one
// form — casts, grouping parentheses, table qualifiers, case and spacing dropped, IN and
// BETWEEN spelled as the server spells them — before they are compared. Pure text work, no server.
#include <cctype>
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

bool is_atom(const Token& t) { return t.kind != Kind::symbol; }

// "x BETWEEN a AND b" as "x >= a AND x <= b" (NOT BETWEEN: "x < a OR x > b"), where x, a
// and b are single names or literals, as the server writes it.
std::vector<Token> spell_between(const std::vector<Token>& in) {
  std::vector<Token> out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const bool negated = is(in[i], "not") && i + 1 < in.size() && is(in[i + 1], "between");
    const std::size_t b = negated ? i + 1 : i;
    if (is(in[b], "between") && !out.empty() && is_atom(out.back()) && b + 3 < in.size() &&
        is_atom(in[b + 1]) && is(in[b + 2], "and") && is_atom(in[b + 3])) {
      const Token x = out.back();
      out.push_back({Kind::symbol, negated ? "<" : ">="});
      out.push_back(in[b + 1]);
      out.push_back({Kind::word, negated ? "or" : "and"});
      out.push_back(x);
      out.push_back({Kind::symbol, negated ? ">" : "<="});
      out.push_back(in[b + 3]);
      i = b + 3;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
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
  std::string out;
  for (const Token& t :
       spell_between(drop_grouping(spell_in_lists(drop_qualifiers(tokenize(sql)))))) {
    if (!out.empty()) out += ' ';
    out += t.text;
  }
  return out;
}

}  // namespace strata::dialect::postgresql
