// The SQLite dialect's spelling: keywords and quoting, "?" placeholders, LIMIT -1 for an
// offset alone, SQLite type names and the autoincrement rule. Connections and error
// explanations live in sqlite_connection.cpp and sqlite_errors.cpp.
#include "strata/dialect/sqlite/sqlite_dialect.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <string>
#include <string_view>

#include "sqlite.hpp"

namespace strata::dialect::sqlite {

namespace {

// The end of the quoted text (a 'literal' or a "name", the quote doubled inside) that starts
// at sql[i]; its content, undoubled, goes to content.
std::size_t end_of_quoted(std::string_view sql, std::size_t i, std::string* content = nullptr) {
  const char quote = sql[i];
  std::size_t end = i + 1;
  while (end < sql.size()) {
    if (sql[end] == quote) {
      if (end + 1 < sql.size() && sql[end + 1] == quote) {
        if (content) *content += quote;
        end += 2;
        continue;
      }
      return end + 1;
    }
    if (content) *content += sql[end];
    ++end;
  }
  return end;
}

// Whether text is one parenthesized group: (lower('X')), not (1) + (2).
bool parenthesized(std::string_view text) {
  if (text.size() < 2 || text.front() != '(' || text.back() != ')') return false;
  int depth = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '\'' || text[i] == '"') {
      i = end_of_quoted(text, i);
      continue;
    }
    if (text[i] == '(') ++depth;
    if (text[i] == ')' && --depth == 0 && i + 1 < text.size()) return false;
    ++i;
  }
  return depth == 0;
}

// Whether text is one bare word (CURRENT_TIMESTAMP, TRUE), which SQLite takes after DEFAULT
// as it is: a keyword it knows, or else the word as a string.
bool bare_word(std::string_view text) {
  if (text.empty() || std::isdigit(static_cast<unsigned char>(text.front())) != 0) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  });
}

}  // namespace

bool SqliteDialect::is_keyword(std::string_view lower_name) const {
  // sqlite3_keyword_check compares without regard to case.
  return sqlite3_keyword_check(lower_name.data(), static_cast<int>(lower_name.size())) != 0;
}

std::string SqliteDialect::placeholder(std::size_t) const { return "?"; }

std::unique_ptr<engine::Connection> SqliteDialect::connect(const engine::Url& url,
                                                           const engine::ConnectOptions& options) {
  return open_connection(url, options);
}

bool SqliteDialect::single_connection(const engine::Url& url) const { return url.is_memory(); }

bool SqliteDialect::exists(const engine::Url& url) const { return database_exists(url); }

std::string SqliteDialect::type_sql(const schema::Type& t) const {
  switch (t.kind) {
    case schema::TypeKind::integer: return "INTEGER";
    case schema::TypeKind::big_integer: return "BIGINT";
    case schema::TypeKind::small_integer: return "SMALLINT";
    case schema::TypeKind::float_: return "FLOAT";
    case schema::TypeKind::boolean: return "BOOLEAN";
    case schema::TypeKind::string:
      return t.length ? "VARCHAR(" + std::to_string(*t.length) + ")" : std::string("TEXT");
    case schema::TypeKind::text: return "TEXT";
    case schema::TypeKind::blob: return "BLOB";
    case schema::TypeKind::date: return "DATE";
    case schema::TypeKind::time: return "TIME";
    case schema::TypeKind::datetime: return "DATETIME";
  }
  return "TEXT";
}

std::string SqliteDialect::column_sql(const schema::Table& t, const schema::Column& c) const {
  const bool widen = c.autoincrement && (c.type.kind == schema::TypeKind::big_integer ||
                                         c.type.kind == schema::TypeKind::small_integer);
  if (!widen) return Dialect::column_sql(t, c);
  schema::Column as_integer = c;
  as_integer.type = schema::Type{schema::TypeKind::integer, std::nullopt};
  return Dialect::column_sql(t, as_integer);
}

std::string SqliteDialect::default_sql(const schema::Column& c) const {
  const std::string& text = *c.server_default;
  const std::string_view trimmed = trim(text);
  if (is_constant_literal(trimmed) || bare_word(trimmed) || parenthesized(trimmed)) return text;
  return "(" + text + ")";
}

std::string SqliteDialect::comparable_sql(std::string_view sql) const {
  std::string out;
  for (std::size_t i = 0; i < sql.size();) {
    if (sql[i] == '\'') {
      const std::size_t end = end_of_quoted(sql, i);
      out.append(sql.substr(i, end - i));
      i = end;
    } else if (sql[i] == '"') {
      std::string name;
      const std::size_t end = end_of_quoted(sql, i, &name);
      if (!requires_quotes(name))
        out += name;
      else
        out.append(sql.substr(i, end - i));
      i = end;
    } else {
      out += sql[i++];
    }
  }
  return out;
}

schema::Table SqliteDialect::reflected_form(const schema::Table& t) const {
  schema::Table declared = t;
  for (schema::Column& c : declared.columns) {
    const bool integer = c.type.kind == schema::TypeKind::integer ||
                         c.type.kind == schema::TypeKind::big_integer ||
                         c.type.kind == schema::TypeKind::small_integer;
    if (c.autoincrement && integer) c.type = schema::Type{schema::TypeKind::integer, std::nullopt};
  }
  schema::Table out = Dialect::reflected_form(declared);
  const auto& key = out.primary_key.columns;
  for (schema::Column& c : out.columns) {
    c.autoincrement = key.size() == 1 && key.front() == c.name && type_sql(c.type) == "INTEGER";
    if (c.server_default) c.server_default = default_sql(c);
  }
  return out;
}

IntegrityError SqliteDialect::explain_integrity_error(const IntegrityError& e,
                                                      const RowContext& row,
                                                      engine::Connection& conn,
                                                      const schema::MetaData& metadata) const {
  return sqlite::explain_integrity_error(e, row, conn, metadata);
}

std::shared_ptr<Dialect> make_dialect() { return std::make_shared<SqliteDialect>(); }

}  // namespace strata::dialect::sqlite
