// Small out-of-line pieces of the ORM's headers: value errors with column names, identity
// key hashing, column lookup for expressions, raw result rows.
#include <charconv>
#include <functional>
#include <string>

#include "strata/orm/expression.hpp"
#include "strata/orm/result.hpp"
#include "strata/orm/session_core.hpp"
#include "strata/orm/types.hpp"

namespace strata {
namespace detail {

std::string_view storage_name(const Value& v) {
  switch (v.index()) {
    case 0: return "NULL";
    case 1: return "an integer";
    case 2: return "a real number";
    case 3: return "text";
    default: return "a blob";
  }
}

void throw_value_error(std::string_view expected, const Value& got) {
  std::string shown = to_display(got);
  if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
  throw DataError("expected " + std::string(expected) + ", got " + std::string(storage_name(got)) +
                      " " + shown,
                  {});
}

void throw_range_error(std::string_view type_name, std::int64_t got) {
  throw DataError("value " + std::to_string(got) + " does not fit " + std::string(type_name), {});
}

void throw_real_range_error(std::string_view type_name, double got) {
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, got).ptr;
  throw DataError("value " + std::string(text, end) + " does not fit " + std::string(type_name),
                  {});
}

void throw_unstorable_integer(std::uint64_t got) {
  throw DataError("value " + std::to_string(got) +
                      " does not fit a 64-bit signed integer (BIGINT), the widest integer "
                      "column; it would be stored as a negative number",
                  {});
}

void throw_unstorable(std::string_view text, std::string_view what) {
  throw DataError("'" + std::string(text) + "' is not " + std::string(what) +
                      " strata can store and read back (years 0001-9999, a real month and "
                      "day, a time of day before 24:00)",
                  {});
}

void throw_store_error(const ColumnInfo& c, const std::exception& e) {
  throw DataError("cannot store column '" + c.qualified_name + "': " + e.what(), {});
}

void throw_storage_error(const engine::Statement& s, int i, std::string_view expected) {
  throw_value_error(expected, s.get_value(i));
}

void throw_load_error(const ColumnInfo& c, const std::exception& e) {
  throw DataError("cannot load column '" + c.qualified_name + "': " + e.what(), {});
}

void throw_null_error(const ColumnInfo& c) {
  throw DataError("column '" + c.qualified_name +
                      "' is NULL but its field is not std::optional; make the member "
                      "std::optional or the column NOT NULL",
                  {});
}

sql::ExprPtr column_expr(const Mapper& m, std::size_t offset, const char* context,
                         const std::string& table) {
  const ColumnInfo* c = m.column_at(offset);
  if (!c)
    throw ArgumentError(std::string(context) + "(): the member is not a mapped column of " +
                        m.class_name + "; add it to Model<...>::columns()");
  return sql::column(table.empty() ? m.table_name() : table, c->column.name);
}

}  // namespace detail

std::size_t Row::index_of(std::string_view name) const {
  for (std::size_t i = 0; i < names_->size(); ++i)
    if ((*names_)[i] == name) return i;
  std::string known;
  for (const auto& n : *names_) known += (known.empty() ? "" : ", ") + n;
  throw ArgumentError("result has no column '" + std::string(name) + "' (columns: " + known + ")");
}

void Row::throw_convert(std::size_t i, const std::exception& e) const {
  throw DataError("result column '" + (*names_)[i] + "': " + e.what(), {});
}

}  // namespace strata
