// The user/post schema that the DDL tests create: every kind of constraint, an index, a
// server default, a keyword column name and a cascading foreign key.
// Also the base of the tests' own dialects: a Dialect without a driver.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "strata/dialect/dialect.hpp"
#include "strata/schema/table.hpp"

namespace strata::dialect::testing {

// A PostgreSQL-like spelling ($n placeholders, RETURNING, ILIKE) and no driver: connect()
// gives nothing. A test dialect derives from it and says its name, keywords and type names.
class DriverlessDialect : public Dialect {
 public:
  bool is_keyword(std::string_view) const override { return false; }
  std::string placeholder(std::size_t n) const override { return "$" + std::to_string(n); }
  bool supports_returning() const override { return true; }
  bool supports_ilike() const override { return true; }
  std::unique_ptr<engine::Connection> connect(const engine::Url&,
                                              const engine::ConnectOptions&) override {
    return nullptr;
  }
  bool single_connection(const engine::Url&) const override { return false; }
  bool names_violated_constraints() const override { return true; }
};

inline schema::Column column(const char* name, schema::Type type, bool nullable = false) {
  schema::Column c;
  c.name = name;
  c.type = type;
  c.nullable = nullable;
  return c;
}

inline schema::Column id_column(schema::TypeKind kind = schema::TypeKind::integer) {
  schema::Column c = column("id", {kind, std::nullopt});
  c.primary_key = true;
  c.autoincrement = true;
  return c;
}

inline schema::Table user_table() {
  schema::Table t;
  t.name = "user";
  t.columns = {id_column(), column("name", {schema::TypeKind::string, 64}),
               column("email", {schema::TypeKind::string, 120}),
               column("active", {schema::TypeKind::boolean, std::nullopt})};
  t.columns[3].server_default = "1";
  t.primary_key.columns = {"id"};
  t.uniques.push_back({"", {"email"}});
  t.indexes.push_back({"", {"name"}, false});
  return t;
}

inline schema::Table post_table() {
  schema::Table t;
  t.name = "post";
  t.columns = {id_column(), column("user_id", {schema::TypeKind::integer, std::nullopt}),
               column("title", {schema::TypeKind::string, 200}),
               column("body", {schema::TypeKind::text, std::nullopt}, true),
               column("order", {schema::TypeKind::integer, std::nullopt})};
  t.columns[4].server_default = "0";
  t.primary_key.columns = {"id"};
  t.uniques.push_back({"", {"user_id", "title"}});
  schema::ForeignKey fk;
  fk.columns = {"user_id"};
  fk.referred_table = "user";
  fk.referred_columns = {"id"};
  fk.on_delete = schema::ReferentialAction::cascade;
  t.foreign_keys.push_back(fk);
  t.checks.push_back({"title_not_empty", "length(title) > 0"});
  t.indexes.push_back({"", {"user_id", "order"}, false});
  return t;
}

// user then post, named by the default convention.
inline schema::MetaData blog_metadata() {
  schema::MetaData md;
  md.add(post_table());
  md.add(user_table());
  return md;
}

}  // namespace strata::dialect::testing
