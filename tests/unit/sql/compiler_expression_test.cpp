// Compiling lone expressions: quoting, placeholders, precedence and parentheses, and every
// operator form, against a "?" dialect without ILIKE and a "$n" dialect with it.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "strata/error.hpp"
#include "strata/sql/ast.hpp"
#include "strata/sql/compiler.hpp"

#include "unit/sql/test_dialects.hpp"

namespace strata::sql {
namespace {

using testing::DollarDialect;
using testing::QmarkDialect;

ExprPtr col(const char* name) { return column("t", name); }
ExprPtr num(std::int64_t v) { return param(Value{v}); }
ExprPtr text(const char* v) { return param(Value{std::string(v)}); }
ExprPtr eq(ExprPtr a, ExprPtr b) { return binary(BinaryOp::eq, std::move(a), std::move(b)); }
ExprPtr or_(ExprPtr a, ExprPtr b) { return binary(BinaryOp::or_, std::move(a), std::move(b)); }

std::string sql(const ExprPtr& e, const SqlDialect& d = QmarkDialect{}) {
  return compile(*e, d).sql;
}

std::shared_ptr<const Select> posts_of_user() {
  auto s = std::make_shared<Select>();
  s->columns = {raw("1")};
  s->from = "post";
  s->where = eq(column("post", "user_id"), column("user", "id"));
  return s;
}

TEST(Compiler, column_renders_table_dot_name_and_bare_without_table) {
  EXPECT_EQ(sql(column("post", "title")), "post.title");
  EXPECT_EQ(sql(column("", "title")), "title");
  EXPECT_EQ(sql(column("p", "*")), "p.*") << "a star must not be quoted";
}

TEST(Compiler, keywords_and_mixed_case_names_are_quoted) {
  EXPECT_EQ(sql(column("user", "order")), R"("user"."order")");
  EXPECT_EQ(sql(column("", "select")), R"("select")");
  EXPECT_EQ(sql(column("", "group")), R"("group")");
  EXPECT_EQ(sql(column("", "UserName")), R"("UserName")") << "mixed case must keep its case";
  EXPECT_EQ(sql(column("", "1st")), R"("1st")");
  EXPECT_EQ(sql(column("", "has space")), R"("has space")");
  EXPECT_EQ(sql(column("", "_private2")), "_private2") << "a plain name needs no quotes";
}

TEST(Compiler, embedded_double_quote_is_doubled) {
  EXPECT_EQ(QmarkDialect{}.quote(R"(we"ird)"), R"("we""ird")");
}

TEST(Compiler, params_are_numbered_in_text_order_with_their_values) {
  const auto e = and_(eq(col("a"), num(1)), eq(col("b"), text("x")));
  const Compiled c = compile(*e, DollarDialect{});
  EXPECT_EQ(c.sql, "t.a = $1 AND t.b = $2");
  ASSERT_EQ(c.params.size(), 2u);
  EXPECT_EQ(c.params[0], Value{std::int64_t{1}});
  EXPECT_EQ(c.params[1], Value{std::string("x")});
}

TEST(Compiler, placeholder_takes_the_next_number_and_a_null_param) {
  const auto e = and_(eq(col("a"), num(7)), eq(col("b"), placeholder()));
  const Compiled c = compile(*e, DollarDialect{});
  EXPECT_EQ(c.sql, "t.a = $1 AND t.b = $2");
  ASSERT_EQ(c.params.size(), 2u);
  EXPECT_TRUE(is_null(c.params[1])) << "a PlaceholderExpr is bound by the caller";
}

TEST(Compiler, or_inside_and_is_parenthesized) {
  const auto e = and_(eq(col("a"), num(1)), or_(eq(col("b"), num(2)), eq(col("c"), num(3))));
  EXPECT_EQ(sql(e), "t.a = ? AND (t.b = ? OR t.c = ?)");
}

TEST(Compiler, and_inside_or_needs_no_parentheses) {
  const auto e = or_(and_(eq(col("a"), num(1)), eq(col("b"), num(2))), eq(col("c"), num(3)));
  EXPECT_EQ(sql(e), "t.a = ? AND t.b = ? OR t.c = ?");
}

TEST(Compiler, chained_and_has_no_parentheses_on_either_side) {
  EXPECT_EQ(sql(and_(and_(col("a"), col("b")), col("c"))), "t.a AND t.b AND t.c");
  EXPECT_EQ(sql(and_(col("a"), and_(col("b"), col("c")))), "t.a AND t.b AND t.c");
}

TEST(Compiler, and_with_a_null_side_is_the_other_side) {
  EXPECT_EQ(sql(and_(nullptr, col("a"))), "t.a");
  EXPECT_EQ(sql(and_(col("a"), nullptr)), "t.a");
}

TEST(Compiler, not_parenthesizes_anything_but_a_primary) {
  EXPECT_EQ(sql(unary(UnaryOp::not_, or_(col("a"), col("b")))), "NOT (t.a OR t.b)");
  EXPECT_EQ(sql(unary(UnaryOp::not_, eq(col("a"), num(1)))), "NOT (t.a = ?)");
  EXPECT_EQ(sql(unary(UnaryOp::not_, col("flag"))), "NOT t.flag");
  EXPECT_EQ(sql(and_(unary(UnaryOp::not_, col("a")), col("b"))), "NOT t.a AND t.b");
  EXPECT_EQ(sql(unary(UnaryOp::not_, unary(UnaryOp::not_, col("a")))), "NOT (NOT t.a)");
}

TEST(Compiler, nested_arithmetic_keeps_the_tree_shape) {
  auto bin = [](BinaryOp op, ExprPtr a, ExprPtr b) { return binary(op, a, b); };
  EXPECT_EQ(sql(bin(BinaryOp::mul, bin(BinaryOp::add, col("a"), col("b")), col("c"))),
            "(t.a + t.b) * t.c");
  EXPECT_EQ(sql(bin(BinaryOp::add, bin(BinaryOp::mul, col("a"), col("b")), col("c"))),
            "t.a * t.b + t.c");
  EXPECT_EQ(sql(bin(BinaryOp::sub, col("a"), bin(BinaryOp::sub, col("b"), col("c")))),
            "t.a - (t.b - t.c)");
  EXPECT_EQ(sql(bin(BinaryOp::sub, bin(BinaryOp::sub, col("a"), col("b")), col("c"))),
            "t.a - t.b - t.c");
  EXPECT_EQ(sql(bin(BinaryOp::div, col("a"), bin(BinaryOp::mul, col("b"), col("c")))),
            "t.a / (t.b * t.c)");
  EXPECT_EQ(sql(eq(bin(BinaryOp::add, col("a"), num(1)), col("b"))), "t.a + ? = t.b");
}

TEST(Compiler, concat_never_mixes_with_arithmetic_without_parentheses) {
  // SQLite binds || tighter than +, PostgreSQL looser: only parentheses mean the same on both.
  EXPECT_EQ(sql(binary(BinaryOp::concat, col("a"), binary(BinaryOp::add, col("b"), col("c")))),
            "t.a || (t.b + t.c)");
  EXPECT_EQ(sql(binary(BinaryOp::add, binary(BinaryOp::concat, col("a"), col("b")), col("c"))),
            "(t.a || t.b) + t.c");
  EXPECT_EQ(sql(binary(BinaryOp::concat, binary(BinaryOp::concat, col("a"), col("b")), col("c"))),
            "t.a || t.b || t.c");
}

TEST(Compiler, comparisons_never_nest_without_parentheses) {
  EXPECT_EQ(sql(eq(eq(col("a"), col("b")), eq(col("c"), col("d")))), "(t.a = t.b) = (t.c = t.d)");
  EXPECT_EQ(sql(unary(UnaryOp::is_null, eq(col("a"), col("b")))), "(t.a = t.b) IS NULL");
}

TEST(Compiler, negation_parenthesizes_compound_operands) {
  EXPECT_EQ(sql(unary(UnaryOp::neg, col("a"))), "-t.a");
  EXPECT_EQ(sql(unary(UnaryOp::neg, binary(BinaryOp::add, col("a"), col("b")))), "-(t.a + t.b)");
  EXPECT_EQ(sql(unary(UnaryOp::neg, unary(UnaryOp::neg, col("a")))), "-(-t.a)")
      << "--a would start an SQL comment";
  EXPECT_EQ(sql(unary(UnaryOp::neg, raw("-1"))), "-(-1)");
}

TEST(Compiler, ilike_is_native_when_the_dialect_has_it) {
  const auto e = binary(BinaryOp::ilike, col("name"), text("%ann%"));
  EXPECT_EQ(sql(e, DollarDialect{}), "t.name ILIKE $1");
  EXPECT_EQ(sql(binary(BinaryOp::not_ilike, col("name"), text("a")), DollarDialect{}),
            "t.name NOT ILIKE $1");
}

TEST(Compiler, ilike_becomes_lower_like_lower_without_native_support) {
  EXPECT_EQ(sql(binary(BinaryOp::ilike, col("name"), text("%ann%"))),
            "lower(t.name) LIKE lower(?)");
  EXPECT_EQ(sql(binary(BinaryOp::not_ilike, col("name"), text("a"))),
            "lower(t.name) NOT LIKE lower(?)");
  EXPECT_EQ(sql(and_(col("a"), binary(BinaryOp::ilike, col("b"), text("x")))),
            "t.a AND lower(t.b) LIKE lower(?)");
}

TEST(Compiler, like_with_an_escape_character_says_so_on_every_dialect) {
  EXPECT_EQ(sql(strata::sql::like(BinaryOp::like, col("name"), text("a!%"), '!')),
            "t.name LIKE ? ESCAPE '!'");
  EXPECT_EQ(sql(strata::sql::like(BinaryOp::not_ilike, col("name"), text("a"), '/')),
            "lower(t.name) NOT LIKE lower(?) ESCAPE '/'");
  EXPECT_EQ(sql(strata::sql::like(BinaryOp::ilike, col("name"), text("a"), '\\'), DollarDialect{}),
            "t.name ILIKE $1 ESCAPE '\\'");
  EXPECT_EQ(sql(strata::sql::like(BinaryOp::like, col("name"), text("a"), '\'')),
            "t.name LIKE ? ESCAPE ''''");
  for (const char bad : {'%', '_', ' ', '\x7f', 'E', 'e', '7'})
    EXPECT_THROW(sql(strata::sql::like(BinaryOp::like, col("name"), text("a"), bad)),
                 CompileError);
}

TEST(Compiler, like_and_not_like_render_their_operators) {
  EXPECT_EQ(sql(binary(BinaryOp::like, col("name"), text("a%"))), "t.name LIKE ?");
  EXPECT_EQ(sql(binary(BinaryOp::not_like, col("name"), text("a%"))), "t.name NOT LIKE ?");
}

TEST(Compiler, in_lists_one_placeholder_per_item) {
  const Compiled c = compile(*in(col("id"), {num(1), num(2), num(3)}), DollarDialect{});
  EXPECT_EQ(c.sql, "t.id IN ($1, $2, $3)");
  EXPECT_EQ(c.params.size(), 3u);
  EXPECT_EQ(sql(in(col("id"), {num(1)}, true)), "t.id NOT IN (?)");
}

TEST(Compiler, empty_in_is_a_valid_false_condition) {
  EXPECT_EQ(sql(in(col("id"), std::vector<ExprPtr>{})), "1 != 1")
      << "x IN () is a syntax error; an empty set matches no row";
  EXPECT_EQ(sql(in(col("id"), std::vector<ExprPtr>{}, true)), "1 = 1");
  EXPECT_EQ(sql(and_(eq(col("a"), num(1)), in(col("id"), std::vector<ExprPtr>{}))),
            "t.a = ? AND 1 != 1");
  EXPECT_EQ(sql(unary(UnaryOp::not_, in(col("id"), std::vector<ExprPtr>{}))), "NOT (1 != 1)");
}

TEST(Compiler, in_subquery_shares_the_parameter_numbering) {
  auto sub = std::make_shared<Select>();
  sub->columns = {column("post", "user_id")};
  sub->from = "post";
  sub->where = binary(BinaryOp::gt, column("post", "score"), num(10));
  const auto e = and_(eq(col("a"), num(1)), in(col("id"), sub));
  const Compiled c = compile(*e, DollarDialect{});
  EXPECT_EQ(c.sql, "t.a = $1 AND t.id IN (SELECT post.user_id FROM post WHERE post.score > $2)");
  EXPECT_EQ(c.params.size(), 2u);
  EXPECT_EQ(sql(in(col("id"), sub, true)),
            "t.id NOT IN (SELECT post.user_id FROM post WHERE post.score > ?)");
}

TEST(Compiler, between_renders_low_and_high) {
  EXPECT_EQ(sql(between(col("a"), num(1), num(5)), DollarDialect{}), "t.a BETWEEN $1 AND $2");
  EXPECT_EQ(sql(between(binary(BinaryOp::add, col("a"), col("b")), num(1), num(5))),
            "t.a + t.b BETWEEN ? AND ?");
  EXPECT_EQ(sql(and_(between(col("a"), num(1), num(5)), col("b"))), "t.a BETWEEN ? AND ? AND t.b");
}

TEST(Compiler, is_null_and_is_not_null) {
  EXPECT_EQ(sql(unary(UnaryOp::is_null, col("a"))), "t.a IS NULL");
  EXPECT_EQ(sql(unary(UnaryOp::is_not_null, col("a"))), "t.a IS NOT NULL");
}

TEST(Compiler, exists_and_not_exists_wrap_a_subquery) {
  EXPECT_EQ(sql(unary(UnaryOp::exists, subquery(posts_of_user()))),
            R"(EXISTS (SELECT 1 FROM post WHERE post.user_id = "user".id))");
  EXPECT_EQ(sql(unary(UnaryOp::not_exists, subquery(posts_of_user()))),
            R"(NOT EXISTS (SELECT 1 FROM post WHERE post.user_id = "user".id))");
  EXPECT_EQ(sql(and_(col("a"), unary(UnaryOp::not_exists, subquery(posts_of_user())))),
            R"(t.a AND NOT EXISTS (SELECT 1 FROM post WHERE post.user_id = "user".id))");
}

TEST(Compiler, exists_on_something_else_than_a_subquery_is_a_compile_error) {
  EXPECT_THROW(compile(*unary(UnaryOp::exists, col("a")), QmarkDialect{}), CompileError);
}

TEST(Compiler, scalar_subquery_is_parenthesized) {
  auto s = std::make_shared<Select>();
  s->columns = {function("max", {column("post", "id")})};
  s->from = "post";
  EXPECT_EQ(sql(eq(col("id"), subquery(s))), "t.id = (SELECT max(post.id) FROM post)");
}

TEST(Compiler, functions_render_args_and_distinct) {
  EXPECT_EQ(sql(function("count", {column("", "*")})), "count(*)");
  EXPECT_EQ(sql(function("count", {col("a")}, true)), "count(DISTINCT t.a)");
  EXPECT_EQ(sql(function("coalesce", {col("a"), num(0)})), "coalesce(t.a, ?)");
  EXPECT_EQ(sql(function("random", {})), "random()");
}

TEST(Compiler, function_name_that_is_not_a_plain_name_is_a_compile_error) {
  EXPECT_THROW(compile(*function("count(*); DROP TABLE x; --", {}), QmarkDialect{}), CompileError);
  EXPECT_THROW(compile(*function("", {}), QmarkDialect{}), CompileError);
  EXPECT_THROW(compile(*function("count", {}, true), QmarkDialect{}), CompileError);
}

TEST(Compiler, label_renders_as_alias) {
  EXPECT_EQ(sql(label(function("count", {column("", "*")}), "n")), "count(*) AS n");
  EXPECT_EQ(sql(label(col("a"), "Order")), R"(t.a AS "Order")");
}

TEST(Compiler, null_expression_is_a_compile_error_not_a_crash) {
  EXPECT_THROW(compile(*eq(col("a"), nullptr), QmarkDialect{}), CompileError);
  EXPECT_THROW(compile(*raw(""), QmarkDialect{}), CompileError);
  EXPECT_THROW(compile(*column("", ""), QmarkDialect{}), CompileError);
}

TEST(Compiler, by_default_an_offset_stands_without_a_limit) {
  EXPECT_EQ(QmarkDialect{}.no_limit(), "") << "standard SQL writes OFFSET alone";
}

TEST(Compiler, cast_wraps_the_expression_and_rejects_a_type_that_is_not_a_plain_name) {
  EXPECT_EQ(sql(cast(function("sum", {col("n")}), "BIGINT")), "CAST(sum(t.n) AS BIGINT)");
  EXPECT_EQ(sql(cast(col("n"), "NUMERIC(10, 2)")), "CAST(t.n AS NUMERIC(10, 2))");
  EXPECT_THROW(sql(cast(col("n"), "INT); DROP TABLE t; --")), CompileError)
      << "a CAST type is written verbatim, so it must be a plain type name";
  EXPECT_THROW(sql(cast(col("n"), "")), CompileError);
}

}  // namespace
}  // namespace strata::sql
