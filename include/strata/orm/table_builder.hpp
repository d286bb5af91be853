// Tables declared without a struct, e.g. an audit table that raw SQL writes:
//
//   db.add_table(strata::table("audit",
//       strata::table_column<std::int64_t>("user_id").references("user.id"),
//       strata::table_column<std::string>("action")));
//
// The association table of a many-to-many relationship is a strata::AssociationTable
// (mapper.hpp) instead: it joins the metadata with the models that use it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/error.hpp"
#include "strata/orm/types.hpp"
#include "strata/schema/table.hpp"

namespace strata {

// One column of table(...): V is its C++ type (std::optional<V> for a nullable column).
template <class V>
class TableColumnDef {
 public:
  explicit TableColumnDef(std::string name) {
    using B = detail::base_t<V>;
    column_.name = std::move(name);
    column_.type.kind = Type<B>::kind;
    column_.nullable = detail::is_optional_v<V>;
  }
  TableColumnDef& primary_key() {
    column_.primary_key = true;
    column_.nullable = false;
    return *this;
  }
  TableColumnDef& length(int n) {
    column_.type.length = n;
    return *this;
  }
  TableColumnDef& unique() {
    unique_ = true;
    return *this;
  }
  TableColumnDef& index() {
    index_ = true;
    return *this;
  }
  TableColumnDef& server_default(std::string sql) {
    column_.server_default = std::move(sql);
    return *this;
  }
  // "table.column"
  TableColumnDef& references(std::string_view target,
                             schema::ReferentialAction on_delete = schema::ReferentialAction::no_action) {
    auto dot = target.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == target.size())
      throw ArgumentError("references(\"" + std::string(target) + "\"): expected \"table.column\"");
    schema::ForeignKey fk;
    fk.columns = {column_.name};
    fk.referred_table = std::string(target.substr(0, dot));
    fk.referred_columns = {std::string(target.substr(dot + 1))};
    fk.on_delete = on_delete;
    fk_ = std::move(fk);
    return *this;
  }

  void install(schema::Table& t) const {
    t.columns.push_back(column_);
    if (column_.primary_key) t.primary_key.columns.push_back(column_.name);
    if (index_) t.indexes.push_back({"", {column_.name}, unique_});
    else if (unique_) t.uniques.push_back({"", {column_.name}});
    if (fk_) t.foreign_keys.push_back(*fk_);
  }

 private:
  schema::Column column_;
  bool unique_ = false;
  bool index_ = false;
  std::optional<schema::ForeignKey> fk_;
};

template <class V>
TableColumnDef<V> table_column(std::string name) {
  return TableColumnDef<V>(std::move(name));
}

template <class... Cs>
schema::Table table(std::string name, const Cs&... columns) {
  schema::Table t;
  t.name = std::move(name);
  (columns.install(t), ...);
  return t;
}

}  // namespace strata
