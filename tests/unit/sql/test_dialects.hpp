// Two stand-in dialects for compiler tests, so the compiler is checked against both
// placeholder styles and both ILIKE forms without depending on a real backend.
#pragma once

#include <algorithm>
#include <array>
#include <string>
#include <string_view>

#include "strata/sql/compiler.hpp"

namespace strata::sql::testing {

inline bool is_test_keyword(std::string_view lower_name) {
  static constexpr std::array<std::string_view, 8> keywords{"from",  "group", "order", "select",
                                                            "table", "user",  "where", "values"};
  return std::find(keywords.begin(), keywords.end(), lower_name) != keywords.end();
}

// SQLite-like: "?" placeholders, no ILIKE, RETURNING available.
class QmarkDialect : public SqlDialect {
 public:
  bool is_keyword(std::string_view lower_name) const override {
    return is_test_keyword(lower_name);
  }
  std::string placeholder(std::size_t) const override { return "?"; }
  bool supports_returning() const override { return returning_; }
  bool supports_ilike() const override { return false; }

  bool returning_ = true;  // tests switch it off to check the CompileError
};

// PostgreSQL-like: "$n" placeholders, native ILIKE, locking clauses.
class DollarDialect : public SqlDialect {
 public:
  bool is_keyword(std::string_view lower_name) const override {
    return is_test_keyword(lower_name);
  }
  std::string placeholder(std::size_t n) const override { return "$" + std::to_string(n); }
  bool numbered_placeholders() const override { return true; }
  bool supports_returning() const override { return true; }
  bool supports_ilike() const override { return true; }
  bool supports_row_locks() const override { return true; }
};

}  // namespace strata::sql::testing
