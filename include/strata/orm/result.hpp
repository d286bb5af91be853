// Rows of a raw SQL statement run through Session::execute (the escape hatch): values by
// position or column name, converted with the same Type<> mappings as model fields.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "strata/error.hpp"
#include "strata/orm/types.hpp"
#include "strata/sql/value.hpp"

namespace strata {

class Row {
 public:
  Row(std::shared_ptr<const std::vector<std::string>> names, std::vector<Value> values)
      : names_(std::move(names)), values_(std::move(values)) {}

  std::size_t size() const noexcept { return values_.size(); }
  const Value& operator[](std::size_t i) const { return values_.at(i); }
  const Value& operator[](std::string_view name) const { return values_.at(index_of(name)); }

  // The value converted to X; std::optional<X> for columns that may be NULL.
  template <class X>
  X get(std::size_t i) const {
    return convert<X>(values_.at(i), i);
  }
  template <class X>
  X get(std::string_view name) const {
    auto i = index_of(name);
    return convert<X>(values_[i], i);
  }
  const std::vector<std::string>& columns() const noexcept { return *names_; }

 private:
  std::size_t index_of(std::string_view name) const;
  [[noreturn]] void throw_convert(std::size_t i, const std::exception& e) const;
  template <class X>
  X convert(const Value& v, std::size_t i) const {
    try {
      if constexpr (detail::is_optional_v<X>) {
        if (is_null(v)) return std::nullopt;
        return Type<detail::base_t<X>>::from_value(v);
      } else {
        if (is_null(v)) throw DataError("NULL where a value was expected; use std::optional", {});
        return Type<X>::from_value(v);
      }
    } catch (const DataError& e) {
      throw_convert(i, e);
    }
  }

  std::shared_ptr<const std::vector<std::string>> names_;
  std::vector<Value> values_;
};

struct Result {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  std::int64_t rows_affected = 0;  // for INSERT / UPDATE / DELETE

  auto begin() const { return rows.begin(); }
  auto end() const { return rows.end(); }
  std::size_t size() const noexcept { return rows.size(); }
  bool empty() const noexcept { return rows.empty(); }
};

}  // namespace strata
