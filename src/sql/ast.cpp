// The builder functions of sql/ast.hpp: one small allocation per node, so that callers (the
// typed ORM front, tests, the DDL) never spell out the Expr variant.
#include "strata/sql/ast.hpp"

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
ExprPtr typed_param(Value v) { return make(ParamExpr{std::move(v), true}); }

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

ExprPtr label(ExprPtr expr, std::string alias) {
  return make(LabelExpr{std::move(expr), std::move(alias)});
}

ExprPtr and_(ExprPtr a, ExprPtr b) {
  if (!a) return b;
  if (!b) return a;
  return binary(BinaryOp::and_, std::move(a), std::move(b));
}

}  // namespace strata::sql
