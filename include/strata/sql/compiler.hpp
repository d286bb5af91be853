// Turns the expression tree of sql/ast.hpp into SQL text plus the list of bound parameters,
// for one dialect. A dialect overrides the hooks of SqlDialect (quoting, placeholders, ILIKE,
// OFFSET without LIMIT, RETURNING); the walk itself is shared.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "strata/sql/ast.hpp"

namespace strata::sql {

// Whether name is a lower-case identifier, [a-z_][a-z0-9_]*: the names that a backend takes
// bare unless they are its keywords (SqlDialect::requires_quotes). Code that writes SQL text
// meant to match what a dialect quotes spells names by this rule.
bool is_lower_identifier(std::string_view name);

// What the compiler needs to know about a backend. Defaults follow standard SQL.
class SqlDialect {
 public:
  virtual ~SqlDialect() = default;

  // Whether name must be quoted: anything but a lower-case identifier that is not a keyword.
  virtual bool requires_quotes(std::string_view name) const;
  // name, quoted with double quotes (embedded quotes doubled) only when requires_quotes().
  std::string quote(std::string_view name) const;
  // Reserved words of the backend, lower case; used by the default requires_quotes().
  virtual bool is_keyword(std::string_view lower_name) const = 0;

  // The text of the n-th positional parameter, counting from 1: "?" or "$n".
  virtual std::string placeholder(std::size_t n) const = 0;
  // The n-th parameter where the value's own type must count (sql::typed_param), e.g.
  // "$2::bigint", compared exactly with an integer column when `exact` (ParamExpr::exact);
  // by default the plain placeholder.
  virtual std::string typed_placeholder(std::size_t n, const Value& /*v*/,
                                        bool /*exact*/) const {
    return placeholder(n);
  }
  // Whether sum() of integers is an integer (SQLite's: it fails on an overflow, and is a real
  // when a summed value already was one), so that no CAST is needed (sql::integer_sum);
  // PostgreSQL's sum of a bigint is a numeric.
  virtual bool sum_of_integers_is_integer() const { return false; }
  // Whether a placeholder names its number ("$n"), so that one parameter can be written more
  // than once. PostgreSQL needs that: it takes `votes / $1` in HAVING or around a select item
  // as the `votes / $1` it groups by, never `votes / $3`.
  virtual bool numbered_placeholders() const { return false; }

  // Whether INSERT/UPDATE/DELETE ... RETURNING is available.
  virtual bool supports_returning() const = 0;

  // Whether the backend has ILIKE; when not, a ILIKE b compiles to lower(a) LIKE lower(b).
  virtual bool supports_ilike() const = 0;

  // LIMIT and OFFSET are bound parameters (" LIMIT ? OFFSET ?"). What an OFFSET without a
  // LIMIT needs before it: "" when OFFSET may stand alone (standard SQL, PostgreSQL; the
  // default), else the LIMIT that means none, written as it is (SQLite: "-1").
  virtual std::string_view no_limit() const { return {}; }

  // Whether SELECT takes a locking clause (FOR UPDATE ...); when not, Select::lock is left out
  // of the text.
  virtual bool supports_row_locks() const { return false; }
};

// The result of compiling: text with placeholders, and in params the value of placeholder n at
// params[n - 1]. A ParamExpr contributes its value; a PlaceholderExpr contributes Null, for the
// caller to bind itself. Placeholders are numbered in text order, one number each, except that
// with numbered_placeholders() every writing of an expression that binds values and that a
// SELECT groups by (the GROUP BY item, a label's expression, and the same expression anywhere
// else in that SELECT, its subqueries included) uses the numbers of the first.
struct Compiled {
  std::string sql;
  std::vector<Value> params;
};

Compiled compile(const Select& s, const SqlDialect& d);
Compiled compile(const Insert& s, const SqlDialect& d);
Compiled compile(const Update& s, const SqlDialect& d);
Compiled compile(const Delete& s, const SqlDialect& d);
// A lone expression (used in tests and for CHECK constraint text).
Compiled compile(const Expr& e, const SqlDialect& d);

}  // namespace strata::sql
