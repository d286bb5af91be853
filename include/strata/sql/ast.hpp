// The untyped SQL expression tree: columns, parameters, operators, functions, and the
// SELECT / INSERT / UPDATE / DELETE statements built from them. The typed ORM front builds
// these; sql/compiler.hpp turns them into text for one dialect.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "strata/sql/value.hpp"

namespace strata::sql {

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;
struct Select;

enum class BinaryOp {
  eq, ne, lt, le, gt, ge,      // comparison
  and_, or_,                   // logical
  like, not_like, ilike, not_ilike,
  add, sub, mul, div, mod,     // arithmetic (mod: %, of integers)
  concat,                      // ||
};

enum class UnaryOp { not_, neg, is_null, is_not_null, exists, not_exists };

// table.name; table may be empty (bare column) or an alias.
struct ColumnExpr {
  std::string table;
  std::string name;
};

// A bound parameter with its value.
struct ParamExpr {
  Value value;
  // The value's own SQL type counts (a number wider or finer than the column it is compared
  // with): a dialect whose parameters take their type from the context spells it out.
  bool typed = false;
  // A typed number compared with an integer column: compared exactly, where a dialect would
  // otherwise compare in floating point (PostgreSQL turns a bigint compared with a double
  // precision parameter into double precision, so 2^63 - 1 equals 2^63).
  bool exact = false;
};

// A positional parameter bound later by the caller (prepared statements reused by the ORM).
// Compiles to the dialect's placeholder; Compiled::params gets no entry for it.
struct PlaceholderExpr {};

// An inline SQL fragment, e.g. count(*) or CURRENT_TIMESTAMP. Never built from user values.
struct RawExpr {
  std::string text;
};

struct BinaryExpr {
  BinaryOp op;
  ExprPtr left;
  ExprPtr right;
  char escape = 0;  // [I]LIKE only: ... ESCAPE 'escape' (0: no ESCAPE clause)
};

struct UnaryExpr {
  UnaryOp op;
  ExprPtr operand;
};

// operand [NOT] IN (items...) or operand [NOT] IN (subquery).
struct InExpr {
  ExprPtr operand;
  std::vector<ExprPtr> items;
  std::shared_ptr<const Select> subquery;  // used instead of items when set
  bool negated = false;
};

struct BetweenExpr {
  ExprPtr operand;
  ExprPtr low;
  ExprPtr high;
};

// name(args...), e.g. lower(x), count(DISTINCT x).
struct FunctionExpr {
  std::string name;
  std::vector<ExprPtr> args;
  bool distinct = false;
};

// ( SELECT ... ) used as a value.
struct SubqueryExpr {
  std::shared_ptr<const Select> select;
};

// CAST(expr AS type): type is SQL text written verbatim (a plain type name such as BIGINT),
// never built from user values.
struct CastExpr {
  ExprPtr expr;
  std::string type;
  // The cast of a sum of integers to an integer type (sql::integer_sum): left out where the
  // dialect's sum of integers is an integer already (Dialect::sum_of_integers_is_integer),
  // whose CAST would turn a sum beyond the type's range (a real) into the range's end.
  bool of_integer_sum = false;
};

// expr AS alias in a select list.
struct LabelExpr {
  ExprPtr expr;
  std::string alias;
};

struct Expr {
  std::variant<ColumnExpr, ParamExpr, PlaceholderExpr, RawExpr, BinaryExpr, UnaryExpr, InExpr,
               BetweenExpr, FunctionExpr, SubqueryExpr, CastExpr, LabelExpr>
      node;
};

// Builders: small functions so callers never spell out the variant.
ExprPtr column(std::string table, std::string name);
ExprPtr param(Value v);
ExprPtr typed_param(Value v, bool exact = false);  // see ParamExpr::typed and ::exact
ExprPtr placeholder();
ExprPtr raw(std::string text);
ExprPtr binary(BinaryOp op, ExprPtr left, ExprPtr right);
// left [NOT] [I]LIKE right ESCAPE 'escape'.
ExprPtr like(BinaryOp op, ExprPtr left, ExprPtr right, char escape);
ExprPtr unary(UnaryOp op, ExprPtr operand);
ExprPtr in(ExprPtr operand, std::vector<ExprPtr> items, bool negated = false);
ExprPtr in(ExprPtr operand, std::shared_ptr<const Select> subquery, bool negated = false);
ExprPtr between(ExprPtr operand, ExprPtr low, ExprPtr high);
ExprPtr function(std::string name, std::vector<ExprPtr> args, bool distinct = false);
ExprPtr subquery(std::shared_ptr<const Select> select);
ExprPtr cast(ExprPtr expr, std::string type);
// sum(expr) of integers, as a BIGINT (see CastExpr::of_integer_sum).
ExprPtr integer_sum(ExprPtr expr);
ExprPtr label(ExprPtr expr, std::string alias);
// a AND b, where either side may be null (then the other is returned).
ExprPtr and_(ExprPtr a, ExprPtr b);

struct OrderBy {
  ExprPtr expr;
  bool descending = false;
};

enum class JoinKind { inner, left };

struct Join {
  JoinKind kind = JoinKind::inner;
  std::string table;
  std::string alias;  // empty: no alias
  ExprPtr on;
};

// A locking clause: SELECT ... FOR UPDATE (FOR NO KEY UPDATE, FOR SHARE, FOR KEY SHARE)
// [OF tables] [NOWAIT | SKIP LOCKED]. Written by dialects that lock rows (PostgreSQL); others
// leave it out (SQLite locks the whole database: the ORM begins such a transaction with its
// write lock).
struct RowLock {
  enum class Strength { update, no_key_update, share, key_share };
  Strength strength = Strength::update;
  std::vector<std::string> of;  // tables or aliases whose rows are locked; empty: every one
  bool nowait = false;          // fail at once rather than wait for a row another holds
  bool skip_locked = false;     // leave out rows another transaction holds
};

struct Select {
  std::vector<ExprPtr> columns;  // result columns, in order
  bool distinct = false;
  std::string from;              // table name; empty with from_subquery or no FROM
  std::string from_alias;
  std::shared_ptr<const Select> from_subquery;  // FROM (SELECT ...) AS from_alias
  std::vector<Join> joins;
  ExprPtr where;                 // may be null
  std::vector<ExprPtr> group_by;
  ExprPtr having;                // may be null
  std::vector<OrderBy> order_by;
  std::optional<std::int64_t> limit;
  std::optional<std::int64_t> offset;
  std::optional<RowLock> lock;
};

// Adds to `out` each table s reads that is not there yet: its FROM and JOIN tables and those
// of every subquery within it (columns name only tables and aliases these bring in).
void tables_read(const Select& s, std::vector<std::string>& out);

// The row lock s takes: its own, else the first of a subquery within it; null for none.
const RowLock* row_lock_in(const Select& s);
// The first row lock of a subquery within e (null e, or none: null).
const RowLock* row_lock_in(const ExprPtr& e);

// INSERT INTO table (columns...) VALUES (row...), (row...) [RETURNING ...].
struct Insert {
  std::string table;
  std::vector<std::string> columns;
  std::vector<std::vector<ExprPtr>> rows;  // each row has columns.size() entries
  std::vector<std::string> returning;      // column names; needs dialect support
  bool default_values = false;             // INSERT INTO t DEFAULT VALUES (no columns)
};

struct Assignment {
  std::string column;
  ExprPtr value;
};

struct Update {
  std::string table;
  std::vector<Assignment> set;
  ExprPtr where;  // may be null
  std::vector<std::string> returning;
};

struct Delete {
  std::string table;
  ExprPtr where;  // may be null
  std::vector<std::string> returning;
};

}  // namespace strata::sql
