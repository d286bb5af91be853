// The DDL shared by every dialect (CREATE TABLE with named constraints, CREATE INDEX, DROP
// TABLE) and the default integrity-error explainer. Backends override pieces of it, such as
// column_sql() for their autoincrement spelling.
#include "strata/dialect/dialect.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace strata::dialect {

namespace {

std::vector<std::string> primary_key_columns(const schema::Table& t) {
  if (!t.primary_key.columns.empty()) return t.primary_key.columns;
  std::vector<std::string> out;
  for (const schema::Column& c : t.columns) {
    if (c.primary_key) out.push_back(c.name);
  }
  return out;
}

bool is_integer(schema::TypeKind k) {
  return k == schema::TypeKind::integer || k == schema::TypeKind::big_integer ||
         k == schema::TypeKind::small_integer;
}

}  // namespace

std::vector<std::string> Dialect::create_table_sql(const schema::Table& t) const {
  if (t.name.empty()) throw CompileError("CREATE TABLE needs a table name");
  if (t.columns.empty()) throw CompileError("table '" + t.name + "' has no columns to create");

  auto names = [this](const std::vector<std::string>& columns) {
    std::string out;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (i > 0) out += ", ";
      out += quote(columns[i]);
    }
    return out;
  };
  // An unnamed constraint (a table that skipped MetaData's naming) is emitted without a name.
  auto constraint = [this](const std::string& name) {
    return name.empty() ? std::string() : "CONSTRAINT " + quote(name) + " ";
  };

  std::string sql = "CREATE TABLE " + quote(t.name) + " (";
  bool first = true;
  auto item = [&](const std::string& text) {
    sql += first ? "\n\t" : ",\n\t";
    sql += text;
    first = false;
  };

  for (const schema::Column& c : t.columns) item(column_sql(t, c));
  if (const auto pk = primary_key_columns(t); !pk.empty()) {
    item(constraint(t.primary_key.name) + "PRIMARY KEY (" + names(pk) + ")");
  }
  for (const schema::UniqueConstraint& uq : t.uniques) {
    item(constraint(uq.name) + "UNIQUE (" + names(uq.columns) + ")");
  }
  for (const schema::ForeignKey& fk : t.foreign_keys) {
    std::string text = constraint(fk.name) + "FOREIGN KEY(" + names(fk.columns) + ") REFERENCES " +
                       quote(fk.referred_table) + " (" + names(fk.referred_columns) + ")";
    if (fk.on_delete != schema::ReferentialAction::no_action) {
      text += " ON DELETE " + std::string(schema::to_sql(fk.on_delete));
    }
    if (fk.on_update != schema::ReferentialAction::no_action) {
      text += " ON UPDATE " + std::string(schema::to_sql(fk.on_update));
    }
    item(text);
  }
  for (const schema::CheckConstraint& ck : t.checks) {
    item(constraint(ck.name) + "CHECK (" + ck.sqltext + ")");
  }
  sql += "\n)";

  std::vector<std::string> out;
  out.reserve(1 + t.indexes.size());
  out.push_back(std::move(sql));
  for (const schema::Index& ix : t.indexes) {
    if (ix.name.empty()) {
      throw CompileError("an index on table '" + t.name + "' (" + names(ix.columns) +
                         ") has no name; add the table to a MetaData so its naming convention "
                         "names it");
    }
    out.push_back(std::string(ix.unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ") +
                  quote(ix.name) + " ON " + quote(t.name) + " (" + names(ix.columns) + ")");
  }
  return out;
}

std::vector<std::string> Dialect::drop_table_sql(const schema::Table& t) const {
  // A table's indexes are dropped with it.
  return {"DROP TABLE " + quote(t.name)};
}

std::string Dialect::column_sql(const schema::Table& t, const schema::Column& c) const {
  const std::vector<std::string> pk = primary_key_columns(t);
  const bool in_primary_key = std::find(pk.begin(), pk.end(), c.name) != pk.end();
  if (c.autoincrement) {
    if (!is_integer(c.type.kind)) {
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
  if (c.server_default) out += " DEFAULT " + *c.server_default;
  return out;
}

IntegrityError Dialect::explain_integrity_error(const IntegrityError& e, const RowContext&,
                                                engine::Connection&,
                                                const schema::MetaData&) const {
  return e;
}

}  // namespace strata::dialect
