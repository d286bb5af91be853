// Text pieces shared by describe() (ops.cpp), the StateError messages of the fold (state.cpp)
// and autogenerate's errors (compare*.cpp). Internal to the migrate layer.
#pragma once

#include <string>
#include <vector>

#include "strata/schema/table.hpp"

namespace strata::migrate::detail {

// "a, b, c"
std::string join_names(const std::vector<std::string>& names);

// A column's definition without its name: "String(64) NOT NULL DEFAULT 'x'",
// "Integer NOT NULL PRIMARY KEY AUTOINCREMENT".
std::string column_summary(const schema::Column& c);

}  // namespace strata::migrate::detail
