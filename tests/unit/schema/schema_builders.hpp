// Small builders for schema tests: tables read like their DDL instead of nested braces.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "strata/schema/table.hpp"

namespace strata::schema::testing {

inline Column int_pk(std::string name) {
  Column c;
  c.name = std::move(name);
  c.type = {TypeKind::integer, std::nullopt};
  c.nullable = false;
  c.primary_key = true;
  c.autoincrement = true;
  return c;
}

inline Column int_col(std::string name, bool nullable = false) {
  Column c;
  c.name = std::move(name);
  c.type = {TypeKind::integer, std::nullopt};
  c.nullable = nullable;
  return c;
}

inline Column string_col(std::string name, int length, bool nullable = false) {
  Column c;
  c.name = std::move(name);
  c.type = {TypeKind::string, length};
  c.nullable = nullable;
  return c;
}

inline ForeignKey fk(std::vector<std::string> columns, std::string referred_table,
                     std::vector<std::string> referred_columns = {"id"}) {
  ForeignKey f;
  f.columns = std::move(columns);
  f.referred_table = std::move(referred_table);
  f.referred_columns = std::move(referred_columns);
  return f;
}

// A table with an autoincrement "id" primary key and the given extra columns.
inline Table table(std::string name, std::vector<Column> columns = {}) {
  Table t;
  t.name = std::move(name);
  t.columns.push_back(int_pk("id"));
  for (Column& c : columns) t.columns.push_back(std::move(c));
  t.primary_key.columns = {"id"};
  return t;
}

}  // namespace strata::schema::testing
