// The builder functions of sql/ast.hpp: one small allocation per node, so that callers (the
// typed ORM front, tests, the DDL) never spell out the Expr variant; and tables_read().
#include "strata/sql/ast.hpp"

#include <algorithm>
#include <initializer_list>
#include <type_traits>
#include <variant>

namespace strata::sql {

namespace {

template <class Node>
ExprPtr make(Node node) {
  return std::make_shared<const Expr>(Expr{std::move(node)});
}

}  // namespace

ExprPtr column(std::string table, std::string name) {
  return make(ColumnExpr{std::move(table), std::move(name)});
}

ExprPtr param(Value v) { return make(ParamExpr{std::move(v)}); }
ExprPtr typed_param(Value v, bool exact) { return make(ParamExpr{std::move(v), true, exact}); }

ExprPtr placeholder() { return make(PlaceholderExpr{}); }

ExprPtr raw(std::string text) { return make(RawExpr{std::move(text)}); }

ExprPtr binary(BinaryOp op, ExprPtr left, ExprPtr right) {
  return make(BinaryExpr{op, std::move(left), std::move(right)});
}

ExprPtr like(BinaryOp op, ExprPtr left, ExprPtr right, char escape) {
  return make(BinaryExpr{op, std::move(left), std::move(right), escape});
}

ExprPtr unary(UnaryOp op, ExprPtr operand) { return make(UnaryExpr{op, std::move(operand)}); }

ExprPtr in(ExprPtr operand, std::vector<ExprPtr> items, bool negated) {
  return make(InExpr{std::move(operand), std::move(items), nullptr, negated});
}

ExprPtr in(ExprPtr operand, std::shared_ptr<const Select> subquery, bool negated) {
  return make(InExpr{std::move(operand), {}, std::move(subquery), negated});
}

ExprPtr between(ExprPtr operand, ExprPtr low, ExprPtr high) {
  return make(BetweenExpr{std::move(operand), std::move(low), std::move(high)});
}

ExprPtr function(std::string name, std::vector<ExprPtr> args, bool distinct) {
  return make(FunctionExpr{std::move(name), std::move(args), distinct});
}

ExprPtr subquery(std::shared_ptr<const Select> select) {
  return make(SubqueryExpr{std::move(select)});
}

ExprPtr cast(ExprPtr expr, std::string type) {
  return make(CastExpr{std::move(expr), std::move(type)});
}

ExprPtr integer_sum(ExprPtr expr) {
  return make(CastExpr{function("sum", {std::move(expr)}), "BIGINT", true});
}

ExprPtr label(ExprPtr expr, std::string alias) {
  return make(LabelExpr{std::move(expr), std::move(alias)});
}

ExprPtr and_(ExprPtr a, ExprPtr b) {
  if (!a) return b;
  if (!b) return a;
  return binary(BinaryOp::and_, std::move(a), std::move(b));
}

namespace {

void add_table(const std::string& name, std::vector<std::string>& out) {
  if (!name.empty() && std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
}

void tables_read(const ExprPtr& e, std::vector<std::string>& out) {
  if (!e) return;
  std::visit(
      [&out](const auto& n) {
        using N = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<N, BinaryExpr>) {
          tables_read(n.left, out);
          tables_read(n.right, out);
        } else if constexpr (std::is_same_v<N, UnaryExpr>) {
          tables_read(n.operand, out);
        } else if constexpr (std::is_same_v<N, InExpr>) {
          tables_read(n.operand, out);
          for (const auto& item : n.items) tables_read(item, out);
          if (n.subquery) tables_read(*n.subquery, out);
        } else if constexpr (std::is_same_v<N, BetweenExpr>) {
          tables_read(n.operand, out);
          tables_read(n.low, out);
          tables_read(n.high, out);
        } else if constexpr (std::is_same_v<N, FunctionExpr>) {
          for (const auto& arg : n.args) tables_read(arg, out);
        } else if constexpr (std::is_same_v<N, SubqueryExpr>) {
          if (n.select) tables_read(*n.select, out);
        } else if constexpr (std::is_same_v<N, CastExpr> || std::is_same_v<N, LabelExpr>) {
          tables_read(n.expr, out);
        } else {
          // A column, a parameter, a placeholder, a raw constant: no table of its own.
          static_assert(std::is_same_v<N, ColumnExpr> || std::is_same_v<N, ParamExpr> ||
                        std::is_same_v<N, PlaceholderExpr> || std::is_same_v<N, RawExpr>);
        }
      },
      e->node);
}

}  // namespace

const RowLock* row_lock_in(const ExprPtr& e) {
  if (!e) return nullptr;
  return std::visit(
      [](const auto& n) -> const RowLock* {
        using N = std::decay_t<decltype(n)>;
        auto first = [](std::initializer_list<const ExprPtr*> exprs) -> const RowLock* {
          for (const ExprPtr* x : exprs)
            if (const RowLock* lock = row_lock_in(*x)) return lock;
          return nullptr;
        };
        if constexpr (std::is_same_v<N, BinaryExpr>) {
          return first({&n.left, &n.right});
        } else if constexpr (std::is_same_v<N, UnaryExpr>) {
          return row_lock_in(n.operand);
        } else if constexpr (std::is_same_v<N, InExpr>) {
          if (const RowLock* lock = row_lock_in(n.operand)) return lock;
          for (const auto& item : n.items)
            if (const RowLock* lock = row_lock_in(item)) return lock;
          return n.subquery ? row_lock_in(*n.subquery) : nullptr;
        } else if constexpr (std::is_same_v<N, BetweenExpr>) {
          return first({&n.operand, &n.low, &n.high});
        } else if constexpr (std::is_same_v<N, FunctionExpr>) {
          for (const auto& arg : n.args)
            if (const RowLock* lock = row_lock_in(arg)) return lock;
          return nullptr;
        } else if constexpr (std::is_same_v<N, SubqueryExpr>) {
          return n.select ? row_lock_in(*n.select) : nullptr;
        } else if constexpr (std::is_same_v<N, CastExpr> || std::is_same_v<N, LabelExpr>) {
          return row_lock_in(n.expr);
        } else {
          return nullptr;  // a column, a parameter, a placeholder, a raw constant
        }
      },
      e->node);
}

const RowLock* row_lock_in(const Select& s) {
  if (s.lock) return &*s.lock;
  if (s.from_subquery)
    if (const RowLock* lock = row_lock_in(*s.from_subquery)) return lock;
  for (const auto& j : s.joins)
    if (const RowLock* lock = row_lock_in(j.on)) return lock;
  for (const auto& c : s.columns)
    if (const RowLock* lock = row_lock_in(c)) return lock;
  if (const RowLock* lock = row_lock_in(s.where)) return lock;
  for (const auto& g : s.group_by)
    if (const RowLock* lock = row_lock_in(g)) return lock;
  if (const RowLock* lock = row_lock_in(s.having)) return lock;
  for (const auto& o : s.order_by)
    if (const RowLock* lock = row_lock_in(o.expr)) return lock;
  return nullptr;
}

void tables_read(const Select& s, std::vector<std::string>& out) {
  add_table(s.from, out);
  if (s.from_subquery) tables_read(*s.from_subquery, out);
  for (const auto& j : s.joins) {
    add_table(j.table, out);
    tables_read(j.on, out);
  }
  for (const auto& c : s.columns) tables_read(c, out);
  tables_read(s.where, out);
  for (const auto& g : s.group_by) tables_read(g, out);
  tables_read(s.having, out);
  for (const auto& o : s.order_by) tables_read(o.expr, out);
}

}  // namespace strata::sql
