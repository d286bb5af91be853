// The DDL shared by every dialect (CREATE TABLE with named constraints, CREATE INDEX, DROP
// TABLE), the text pieces of ddl.hpp that ALTER TABLE reuses, and the default integrity-error
// explainer. Backends override pieces of it, such as column_sql() for their autoincrement
// spelling. Migration DDL (alter_table_sql) lives in alter.cpp.
#include "strata/dialect/dialect.hpp"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "ddl.hpp"

namespace strata::dialect {

namespace ddl {

std::vector<std::string> primary_key_columns(const schema::Table& t) {
  if (!t.primary_key.columns.empty()) return t.primary_key.columns;
  std::vector<std::string> out;
  for (const schema::Column& c : t.columns) {
    if (c.primary_key) out.push_back(c.name);
  }
  return out;
}

bool in_primary_key(const schema::Table& t, std::string_view column) {
  const std::vector<std::string> pk = primary_key_columns(t);
  return std::find(pk.begin(), pk.end(), column) != pk.end();
}

bool is_integer(schema::TypeKind k) {
  return k == schema::TypeKind::integer || k == schema::TypeKind::big_integer ||
         k == schema::TypeKind::small_integer;
}

std::string column_list(const sql::SqlDialect& d, const std::vector<std::string>& columns) {
  std::string out;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) out += ", ";
    out += d.quote(columns[i]);
  }
  return out;
}

// An unnamed constraint (a table that skipped MetaData's naming) is emitted without a name.
std::string constraint_prefix(const sql::SqlDialect& d, const std::string& name) {
  return name.empty() ? std::string() : "CONSTRAINT " + d.quote(name) + " ";
}

std::string unique_body(const sql::SqlDialect& d, const schema::UniqueConstraint& uq) {
  return "UNIQUE (" + column_list(d, uq.columns) + ")";
}

std::string foreign_key_body(const sql::SqlDialect& d, const schema::ForeignKey& fk) {
  std::string text = "FOREIGN KEY(" + column_list(d, fk.columns) + ") REFERENCES " +
                     d.quote(fk.referred_table) + " (" + column_list(d, fk.referred_columns) + ")";
  if (fk.on_delete != schema::ReferentialAction::no_action) {
    text += " ON DELETE " + std::string(schema::to_sql(fk.on_delete));
  }
  if (fk.on_update != schema::ReferentialAction::no_action) {
    text += " ON UPDATE " + std::string(schema::to_sql(fk.on_update));
  }
  return text;
}

std::string check_body(const schema::CheckConstraint& ck) { return "CHECK (" + ck.sqltext + ")"; }

std::string create_index_sql(const sql::SqlDialect& d, const schema::Table& t,
                             const schema::Index& ix, bool concurrently) {
  if (ix.name.empty()) {
    throw CompileError("an index on table '" + t.name + "' (" + column_list(d, ix.columns) +
                       ") has no name; add the table to a MetaData so its naming convention "
                       "names it");
  }
  return std::string(ix.unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ") +
         (concurrently ? "CONCURRENTLY " : "") + d.quote(ix.name) +
         " ON " + d.quote(t.name) + " (" + column_list(d, ix.columns) + ")";
}

}  // namespace ddl

std::vector<std::string> Dialect::create_table_sql(const schema::Table& t) const {
  if (t.name.empty()) throw CompileError("CREATE TABLE needs a table name");
  if (t.columns.empty()) throw CompileError("table '" + t.name + "' has no columns to create");

  std::string sql = "CREATE TABLE " + quote(t.name) + " (";
  bool first = true;
  auto item = [&](const std::string& text) {
    sql += first ? "\n\t" : ",\n\t";
    sql += text;
    first = false;
  };

  for (const schema::Column& c : t.columns) item(column_sql(t, c));
  if (const auto pk = ddl::primary_key_columns(t); !pk.empty()) {
    item(ddl::constraint_prefix(*this, t.primary_key.name) + "PRIMARY KEY (" +
         ddl::column_list(*this, pk) + ")");
  }
  for (const schema::UniqueConstraint& uq : t.uniques) {
    item(ddl::constraint_prefix(*this, uq.name) + ddl::unique_body(*this, uq));
  }
  for (const schema::ForeignKey& fk : t.foreign_keys) {
    item(ddl::constraint_prefix(*this, fk.name) + ddl::foreign_key_body(*this, fk));
  }
  for (const schema::CheckConstraint& ck : t.checks) {
    item(ddl::constraint_prefix(*this, ck.name) + ddl::check_body(ck));
  }
  sql += "\n)";

  std::vector<std::string> out;
  out.reserve(1 + t.indexes.size());
  out.push_back(std::move(sql));
  for (const schema::Index& ix : t.indexes) out.push_back(ddl::create_index_sql(*this, t, ix));
  return out;
}

std::string Dialect::string_literal(std::string_view text) {
  std::string out = "'";
  for (char ch : text) {
    if (ch == '\'') out += '\'';
    out += ch;
  }
  return out + "'";
}

std::string Dialect::table_exists_sql(const std::string& name) const {
  return "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() "
         "AND table_name = " + string_literal(name);
}

std::vector<std::string> Dialect::drop_table_sql(const schema::Table& t) const {
  // A table's indexes are dropped with it.
  return {"DROP TABLE " + quote(t.name)};
}

std::string Dialect::insert_rows_sql(const schema::Table& t,
                                     const std::vector<const schema::Column*>&,
                                     const std::vector<const schema::Column*>&) const {
  throw CompileError("the " + std::string(name()) + " dialect has no multi-row INSERT (table '" +
                     t.name + "')");
}

std::string Dialect::update_rows_sql(const schema::Table& t,
                                     const std::vector<const schema::Column*>&,
                                     const std::vector<const schema::Column*>&) const {
  throw CompileError("the " + std::string(name()) + " dialect has no multi-row UPDATE (table '" +
                     t.name + "')");
}

std::string Dialect::column_sql(const schema::Table& t, const schema::Column& c) const {
  const bool in_primary_key = ddl::in_primary_key(t, c.name);
  if (c.autoincrement) {
    if (!ddl::is_integer(c.type.kind)) {
      throw CompileError("column '" + t.name + "." + c.name + "' is autoincrement but has type " +
                         schema::to_string(c.type) + "; autoincrement needs an integer type");
    }
    if (!in_primary_key) {
      throw CompileError("column '" + t.name + "." + c.name +
                         "' is autoincrement but not part of the table's primary key");
    }
  }
  std::string out = quote(c.name) + " " + type_sql(c.type);
  if (!c.nullable || in_primary_key) out += " NOT NULL";
  if (c.server_default) out += " DEFAULT " + default_sql(c);
  return out;
}

IntegrityError Dialect::explain_integrity_error(const IntegrityError& e, const RowContext&,
                                                engine::Connection&,
                                                const schema::MetaData&) const {
  return e;
}

}  // namespace strata::dialect
