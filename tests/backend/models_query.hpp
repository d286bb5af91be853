// Models of the query tests (test_query_more.cpp): employees with a nullable manager, a
// self-referential many-to-one / one-to-many pair, for joins of one table under two names.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "strata/strata.hpp"

struct Employee {
  std::int64_t id = 0;
  std::string name{};
  std::optional<std::int64_t> manager_id{};
  strata::BelongsTo<Employee> manager{};
  strata::HasMany<Employee> reports{};
};

template <>
struct strata::Model<Employee> {
  static constexpr auto table = "employee";
  static constexpr auto name = "Employee";
  static auto columns() {
    return mapping(column("id", &Employee::id).primary_key(),
                   column("name", &Employee::name).length(40),
                   column("manager_id", &Employee::manager_id).references(&Employee::id),
                   belongs_to("manager", &Employee::manager, &Employee::manager_id)
                       .back_populates(&Employee::reports),
                   has_many("reports", &Employee::reports)
                       .foreign_key(&Employee::manager_id)
                       .back_populates(&Employee::manager));
  }
};
