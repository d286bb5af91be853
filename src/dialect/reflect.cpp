// Reflection shared by every dialect: the form in which a table of the migrations is compared
// with a reflected live table (Dialect::reflected_form), and the default reflect() of a dialect
// that cannot read a live schema. Backends read their catalogs in dialect/<name>/.
#include <algorithm>
#include <array>
#include <optional>
#include <string>

#include "strata/dialect/dialect.hpp"

namespace strata::dialect {

namespace {

constexpr std::array all_kinds{
    schema::TypeKind::integer, schema::TypeKind::big_integer, schema::TypeKind::small_integer,
    schema::TypeKind::float_,  schema::TypeKind::boolean,     schema::TypeKind::string,
    schema::TypeKind::text,    schema::TypeKind::blob,        schema::TypeKind::date,
    schema::TypeKind::time,    schema::TypeKind::datetime};

template <class C>
void sort_by_name(std::vector<C>& items) {
  std::stable_sort(items.begin(), items.end(),
                   [](const C& a, const C& b) { return a.name < b.name; });
}

}  // namespace

ReflectedSchema Dialect::reflect(engine::Connection&) const {
  throw InvalidRequestError("the " + std::string(name()) +
                            " dialect cannot read a live schema (no reflection)");
}

schema::Table Dialect::reflected_form(const schema::Table& t) const {
  schema::Table out = t;
  for (schema::Column& c : out.columns) {
    const std::string sql = type_sql(c.type);
    for (schema::TypeKind k : all_kinds) {
      const schema::Type with_length{k, c.type.length};
      if (c.type.length && type_sql(with_length) == sql) {
        c.type = with_length;
        break;
      }
      const schema::Type plain{k, std::nullopt};
      if (type_sql(plain) == sql) {
        c.type = plain;
        break;
      }
    }
    const auto& pk = out.primary_key.columns;
    if (std::find(pk.begin(), pk.end(), c.name) != pk.end()) c.primary_key = true;
    if (c.primary_key) {
      c.nullable = false;
      if (std::find(pk.begin(), pk.end(), c.name) == pk.end())
        out.primary_key.columns.push_back(c.name);
    }
  }
  sort_by_name(out.indexes);
  sort_by_name(out.uniques);
  sort_by_name(out.foreign_keys);
  sort_by_name(out.checks);
  return out;
}

}  // namespace strata::dialect
