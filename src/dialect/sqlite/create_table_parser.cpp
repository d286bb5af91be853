// The CREATE TABLE reader of SQLite reflection: a tokenizer for SQLite's SQL and a walk over
// the column definitions and table constraints that collects every constraint's name, its
// columns and, for checks, the condition's text. Called by SqliteDialect::reflect().
#include "create_table_parser.hpp"

#include <cctype>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace strata::dialect::sqlite {

namespace {

struct Token {
  enum class Kind { word, identifier, string, punct };
  Kind kind = Kind::word;
  std::string value;      // a word as written; a quoted identifier or string unquoted
  std::size_t begin = 0;  // offsets into the text
  std::size_t end = 0;
};

struct Unreadable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

bool word_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '_' || c == '$' || u >= 0x80;
}

// The text after an opening quote at `at`, up to the closing one (a doubled quote inside
// stands for one).
std::string quoted(std::string_view sql, std::size_t& at, char close) {
  std::string value;
  for (std::size_t i = at + 1; i < sql.size(); ++i) {
    if (sql[i] != close) {
      value += sql[i];
    } else if (close != ']' && i + 1 < sql.size() && sql[i + 1] == close) {
      value += close;
      ++i;
    } else {
      at = i + 1;
      return value;
    }
  }
  throw Unreadable("a quoted name or string is not closed");
}

std::vector<Token> tokenize(std::string_view sql) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      const std::size_t eol = sql.find('\n', i);
      i = eol == std::string_view::npos ? sql.size() : eol + 1;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      const std::size_t close = sql.find("*/", i + 2);
      if (close == std::string_view::npos) throw Unreadable("a /* comment is not closed");
      i = close + 2;
    } else if (c == '\'' || c == '"' || c == '`' || c == '[') {
      Token t;
      t.kind = c == '\'' ? Token::Kind::string : Token::Kind::identifier;
      t.begin = i;
      t.value = quoted(sql, i, c == '[' ? ']' : c);
      t.end = i;
      out.push_back(std::move(t));
    } else if (word_char(c) || (c == '.' && i + 1 < sql.size() &&
                                std::isdigit(static_cast<unsigned char>(sql[i + 1])))) {
      // A word, or a number; one may start with its point (.5).
      Token t;
      t.begin = i;
      while (i < sql.size() && (word_char(sql[i]) || sql[i] == '.')) ++i;
      t.end = i;
      t.value = std::string(sql.substr(t.begin, i - t.begin));
      out.push_back(std::move(t));
    } else {
      out.push_back(Token{Token::Kind::punct, std::string(1, c), i, i + 1});
      ++i;
    }
  }
  return out;
}

bool is(const Token& t, std::string_view upper) {
  if (t.kind != Token::Kind::word || t.value.size() != upper.size()) return false;
  for (std::size_t i = 0; i < upper.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(t.value[i])) != upper[i]) return false;
  }
  return true;
}

bool is_punct(const Token& t, char c) { return t.kind == Token::Kind::punct && t.value[0] == c; }

// A walk over the tokens of one item (a column definition or table constraint).
class Cursor {
 public:
  Cursor(std::string_view sql, const std::vector<Token>& tokens, std::size_t begin,
         std::size_t end)
      : sql_(sql), tokens_(tokens), at_(begin), end_(end) {}

  bool done() const { return at_ >= end_; }
  const Token& peek(std::size_t ahead = 0) const {
    static const Token none{Token::Kind::punct, " ", 0, 0};
    return at_ + ahead < end_ ? tokens_[at_ + ahead] : none;
  }
  const Token& next() {
    if (done()) throw Unreadable("a definition ends too early");
    return tokens_[at_++];
  }
  bool accept(std::string_view upper) {
    if (!is(peek(), upper)) return false;
    ++at_;
    return true;
  }
  // A name: a word or a quoted identifier (or, as SQLite allows, a string).
  std::string name(const char* what) {
    const Token& t = next();
    if (t.kind == Token::Kind::punct) {
      throw Unreadable(std::string("expected ") + what + ", found '" + t.value + "'");
    }
    return t.value;
  }
  // Skips a parenthesized group starting here; returns the text inside, trimmed.
  std::string group() {
    const Token& open = next();
    if (!is_punct(open, '(')) throw Unreadable("expected '(', found '" + open.value + "'");
    int depth = 1;
    while (depth > 0) {
      const Token& t = next();
      if (is_punct(t, '(')) ++depth;
      if (is_punct(t, ')') && --depth == 0) {
        return trim(sql_.substr(open.end, t.begin - open.end));
      }
    }
    return {};
  }
  // The column names of "(a, b COLLATE x DESC, ...)": the first name of each element.
  std::vector<std::string> column_list() {
    if (!is_punct(peek(), '(')) throw Unreadable("expected a column list");
    next();
    std::vector<std::string> out;
    while (true) {
      out.push_back(name("a column name"));
      int depth = 0;
      while (true) {  // COLLATE, ASC/DESC: up to the next ',' or ')' at this level
        const Token& t = next();
        if (is_punct(t, '(')) ++depth;
        if (is_punct(t, ')') && depth-- == 0) return out;
        if (is_punct(t, ',') && depth == 0) break;
      }
    }
  }
  // A DEFAULT value: a signed number, a literal or word, or an expression in parentheses.
  // Returns its text as written.
  std::string term() {
    const std::size_t begin = peek().begin;
    if (is_punct(peek(), '(')) {
      group();
    } else {
      if (is_punct(peek(), '+') || is_punct(peek(), '-')) next();
      const Token& t = next();
      if (t.kind == Token::Kind::word && !t.value.empty()) {
        const bool adjacent = peek().begin == t.end;
        if ((t.value == "X" || t.value == "x") && adjacent && peek().kind == Token::Kind::string) {
          next();  // a blob, X'00ff': the word X and the string beside it
        } else if (const char last = t.value.back();
                   (std::isdigit(static_cast<unsigned char>(t.value[0])) || t.value[0] == '.') &&
                   (last == 'e' || last == 'E') && adjacent &&
                   (is_punct(peek(), '-') || is_punct(peek(), '+')) &&
                   peek(1).kind == Token::Kind::word && peek(1).begin == peek().end) {
          next();  // a number with a signed exponent, 1.5e-3: the tokens 1.5e, - and 3
          next();
        }
      }
    }
    return std::string(sql_.substr(begin, tokens_[at_ - 1].end - begin));
  }
  // REFERENCES table [(columns)] and the clauses of a foreign key after it.
  void references(schema::ForeignKey& fk) {
    fk.referred_table = name("the referred table");
    if (is_punct(peek(), '(')) fk.referred_columns = column_list();
    while (!done()) {
      if (accept("ON")) {
        if (!accept("DELETE") && !accept("UPDATE")) throw Unreadable("expected ON DELETE or ON UPDATE");
        if (accept("SET")) {
          next();  // NULL or DEFAULT
        } else if (accept("NO")) {
          next();  // ACTION
        } else {
          next();  // CASCADE or RESTRICT
        }
      } else if (accept("MATCH")) {
        next();
      } else if (is(peek(), "NOT") && is(peek(1), "DEFERRABLE")) {
        next();
      } else if (accept("DEFERRABLE")) {
        if (accept("INITIALLY")) next();
      } else {
        return;
      }
    }
  }
  static std::string trim(std::string_view s) {
    const std::size_t first = s.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    return std::string(s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1));
  }

 private:
  std::string_view sql_;
  const std::vector<Token>& tokens_;
  std::size_t at_;
  std::size_t end_;
};

void table_constraint(Cursor& c, std::string name, ParsedCreateTable& out) {
  if (c.accept("PRIMARY")) {
    if (!c.accept("KEY")) throw Unreadable("expected PRIMARY KEY");
    out.primary_key_name = std::move(name);
  } else if (c.accept("UNIQUE")) {
    out.uniques.push_back({std::move(name), c.column_list()});
  } else if (c.accept("CHECK")) {
    out.checks.push_back({std::move(name), c.group()});
  } else if (c.accept("FOREIGN")) {
    if (!c.accept("KEY")) throw Unreadable("expected FOREIGN KEY");
    schema::ForeignKey fk;
    fk.name = std::move(name);
    fk.columns = c.column_list();
    if (!c.accept("REFERENCES")) throw Unreadable("expected REFERENCES after FOREIGN KEY (...)");
    c.references(fk);
    out.foreign_keys.push_back(std::move(fk));
  } else {
    throw Unreadable("unknown table constraint '" + c.peek().value + "'");
  }
}

// Column constraints: the column's own PRIMARY KEY, UNIQUE, CHECK and REFERENCES, each with
// the name of a CONSTRAINT before it; NOT NULL, DEFAULT, COLLATE, GENERATED ... are skipped.
void column_constraints(Cursor& c, const std::string& column, ParsedCreateTable& out) {
  std::string name;
  while (!c.done()) {
    if (c.accept("CONSTRAINT")) {
      name = c.name("a constraint name");
      continue;
    }
    if (c.accept("PRIMARY")) {
      if (!c.accept("KEY")) throw Unreadable("expected PRIMARY KEY");
      out.primary_key_name = name;
    } else if (c.accept("UNIQUE")) {
      out.uniques.push_back({name, {column}});
    } else if (c.accept("CHECK")) {
      out.checks.push_back({name, c.group()});
    } else if (c.accept("REFERENCES")) {
      schema::ForeignKey fk;
      fk.name = name;
      fk.columns = {column};
      c.references(fk);
      out.foreign_keys.push_back(std::move(fk));
    } else if (c.accept("DEFAULT")) {
      out.defaults.emplace_back(column, c.term());
    } else if (c.accept("COLLATE")) {
      c.next();
    } else if (c.accept("AS") || (c.accept("GENERATED") && c.accept("ALWAYS") && c.accept("AS"))) {
      c.group();
    } else if (is_punct(c.peek(), '(')) {
      c.group();
    } else {
      c.next();  // NOT, NULL, ASC, DESC, AUTOINCREMENT, ON CONFLICT ..., STORED, VIRTUAL
      continue;
    }
    name.clear();
  }
}

bool starts_column_constraint(const Token& t) {
  for (std::string_view w : {"CONSTRAINT", "PRIMARY", "NOT", "NULL", "UNIQUE", "CHECK",
                             "DEFAULT", "COLLATE", "REFERENCES", "GENERATED", "AS"}) {
    if (is(t, w)) return true;
  }
  return false;
}

void item(Cursor& c, ParsedCreateTable& out) {
  if (c.accept("CONSTRAINT")) {
    std::string name = c.name("a constraint name");
    table_constraint(c, std::move(name), out);
    return;
  }
  for (std::string_view w : {"PRIMARY", "UNIQUE", "CHECK", "FOREIGN"}) {
    if (is(c.peek(), w)) {
      table_constraint(c, {}, out);
      return;
    }
  }
  const std::string column = c.name("a column name");
  while (!c.done() && !starts_column_constraint(c.peek())) {  // the type: words and (n, m)
    if (is_punct(c.peek(), '(')) c.group();
    else c.next();
  }
  column_constraints(c, column, out);
}

void parse(std::string_view sql, ParsedCreateTable& out) {
  const std::vector<Token> tokens = tokenize(sql);
  std::size_t i = 0;
  auto expect = [&](std::string_view w) {
    if (i >= tokens.size() || !is(tokens[i], w)) throw Unreadable("expected " + std::string(w));
    ++i;
  };
  expect("CREATE");
  if (i < tokens.size() && (is(tokens[i], "TEMP") || is(tokens[i], "TEMPORARY"))) ++i;
  expect("TABLE");
  if (i < tokens.size() && is(tokens[i], "IF")) {
    ++i;
    expect("NOT");
    expect("EXISTS");
  }
  if (i >= tokens.size() || is_punct(tokens[i], '(')) throw Unreadable("the table has no name");
  ++i;  // the name, possibly schema.name in one word
  if (i + 1 < tokens.size() && is_punct(tokens[i], '.')) i += 2;  // "schema"."name"
  if (i < tokens.size() && is(tokens[i], "AS")) {
    throw Unreadable("CREATE TABLE ... AS SELECT has no column list");
  }
  if (i >= tokens.size() || !is_punct(tokens[i], '(')) throw Unreadable("expected '(' after the table name");
  ++i;
  int depth = 0;
  std::size_t item_begin = i;
  for (; i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    if (is_punct(t, '(')) ++depth;
    if (is_punct(t, ')') && depth-- == 0) break;
    if (is_punct(t, ',') && depth == 0) {
      Cursor c(sql, tokens, item_begin, i);
      item(c, out);
      item_begin = i + 1;
    }
  }
  if (i >= tokens.size()) throw Unreadable("unbalanced parentheses");
  Cursor last(sql, tokens, item_begin, i);
  item(last, out);
  for (++i; i < tokens.size(); ++i) {  // table options: WITHOUT ROWID, STRICT
    if (is(tokens[i], "ROWID") && i > 0 && is(tokens[i - 1], "WITHOUT")) out.without_rowid = true;
  }
}

}  // namespace

ParsedCreateTable parse_create_table(std::string_view sql) {
  ParsedCreateTable out;
  try {
    parse(sql, out);
  } catch (const Unreadable& e) {
    out = ParsedCreateTable{};
    out.error = e.what();
  }
  return out;
}

}  // namespace strata::dialect::sqlite
