// The SQLite dialect's spelling: keywords and quoting, "?" placeholders, LIMIT -1 for an
// offset alone, SQLite type names and the autoincrement rule. Connections and error
// explanations live in sqlite_connection.cpp and sqlite_errors.cpp.
#include "strata/dialect/sqlite/sqlite_dialect.hpp"

#include <sqlite3.h>

#include <memory>
#include <string>

#include "sqlite.hpp"

namespace strata::dialect::sqlite {

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
