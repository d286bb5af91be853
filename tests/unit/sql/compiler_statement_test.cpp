// Compiling whole statements: SELECT with every clause, INSERT (multi-row, DEFAULT VALUES),
// UPDATE and DELETE, each with RETURNING, and the CompileErrors of malformed statements.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
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

ExprPtr num(std::int64_t v) { return param(Value{v}); }
ExprPtr text(const char* v) { return param(Value{std::string(v)}); }
ExprPtr eq(ExprPtr a, ExprPtr b) { return binary(BinaryOp::eq, std::move(a), std::move(b)); }

// The message of the CompileError that f throws, or "" when it throws none.
template <class F>
std::string compile_error(F f) {
  try {
    f();
  } catch (const CompileError& e) {
    return e.what();
  }
  return "";
}

TEST(CompileSelect, every_clause_appears_in_sql_order) {
  Select s;
  s.distinct = true;
  s.columns = {column("u", "name"), label(function("count", {column("p", "id")}), "posts")};
  s.from = "user";
  s.from_alias = "u";
  s.joins.push_back({JoinKind::inner, "post", "p", eq(column("p", "user_id"), column("u", "id"))});
  s.joins.push_back({JoinKind::left, "tag", "", eq(column("tag", "post_id"), column("p", "id"))});
  s.where = eq(column("u", "active"), num(1));
  s.group_by = {column("u", "name")};
  s.having = binary(BinaryOp::gt, function("count", {column("p", "id")}), num(2));
  s.order_by = {{column("u", "name"), true}};
  s.limit = 10;
  s.offset = 20;
  const Compiled c = compile(s, DollarDialect{});
  EXPECT_EQ(c.sql, R"(SELECT DISTINCT u.name, count(p.id) AS posts FROM "user" AS u )"
                   "JOIN post AS p ON p.user_id = u.id "
                   "LEFT OUTER JOIN tag ON tag.post_id = p.id "
                   "WHERE u.active = $1 GROUP BY u.name HAVING count(p.id) > $2 "
                   "ORDER BY u.name DESC LIMIT $3 OFFSET $4");
  EXPECT_EQ(c.params, (std::vector<Value>{std::int64_t{1}, std::int64_t{2}, std::int64_t{10},
                                          std::int64_t{20}}));
}

TEST(CompileSelect, top_level_where_has_no_outer_parentheses) {
  Select s;
  s.columns = {column("t", "a")};
  s.from = "t";
  s.where = binary(BinaryOp::or_, eq(column("t", "a"), num(1)), eq(column("t", "b"), num(2)));
  EXPECT_EQ(compile(s, QmarkDialect{}).sql, "SELECT t.a FROM t WHERE t.a = ? OR t.b = ?");
}

TEST(CompileSelect, order_by_a_label_uses_its_alias) {
  Select s;
  const auto n = label(function("count", {column("", "*")}), "n");
  s.columns = {column("t", "kind"), n};
  s.from = "t";
  s.group_by = {column("t", "kind")};
  s.order_by = {{n, true}, {column("t", "kind"), false}};
  EXPECT_EQ(compile(s, QmarkDialect{}).sql,
            "SELECT t.kind, count(*) AS n FROM t GROUP BY t.kind ORDER BY n DESC, t.kind");
}

TEST(CompileSelect, a_grouped_or_ordered_item_that_binds_values_names_its_result_column) {
  // Written again, votes / 10 would bind $3 where it selects $1, and PostgreSQL would not
  // match the two.
  Select s;
  const auto bucket = [] { return binary(BinaryOp::div, column("post", "votes"), num(10)); };
  s.columns = {bucket(), function("count", {column("", "*")})};
  s.from = "post";
  s.where = binary(BinaryOp::gt, column("post", "votes"), num(0));
  s.group_by = {bucket()};
  s.order_by = {{bucket(), true}, {binary(BinaryOp::div, column("post", "votes"), num(5)), false}};
  const Compiled c = compile(s, DollarDialect{});
  EXPECT_EQ(c.sql,
            "SELECT post.votes / $1, count(*) FROM post WHERE post.votes > $2 GROUP BY 1 "
            "ORDER BY 1 DESC, post.votes / $3");
  EXPECT_EQ(c.params.size(), 3u);
  // Without values, the item is written out as before.
  Select t;
  t.columns = {column("post", "user_id"), function("count", {column("", "*")})};
  t.from = "post";
  t.group_by = {column("post", "user_id")};
  EXPECT_EQ(compile(t, QmarkDialect{}).sql,
            "SELECT post.user_id, count(*) FROM post GROUP BY post.user_id");
}

TEST(CompileSelect, a_grouped_item_that_binds_values_is_written_again_with_its_own_numbers) {
  // PostgreSQL takes votes / $1 in HAVING, ORDER BY or around a select item as the votes / $1
  // it groups by; votes / $3 it refuses ("must appear in the GROUP BY clause").
  const auto bucket = [] { return binary(BinaryOp::div, column("post", "votes"), num(10)); };
  Select s;
  s.columns = {bucket(), function("count", {column("", "*")})};
  s.from = "post";
  s.where = binary(BinaryOp::gt, column("post", "votes"), num(0));
  s.group_by = {bucket()};
  s.having = binary(BinaryOp::gt, bucket(), num(3));
  s.order_by = {{binary(BinaryOp::mul, bucket(), num(2)), false}};
  Compiled c = compile(s, DollarDialect{});
  EXPECT_EQ(c.sql,
            "SELECT post.votes / $1, count(*) FROM post WHERE post.votes > $2 GROUP BY 1 "
            "HAVING post.votes / $1 > $3 ORDER BY post.votes / $1 * $4");
  EXPECT_EQ(c.params, (std::vector<Value>{std::int64_t{10}, std::int64_t{0}, std::int64_t{3},
                                          std::int64_t{2}}));
  // Grouped but not selected on its own: the select item around it takes the numbers first.
  Select t;
  t.columns = {binary(BinaryOp::mul, bucket(), num(2))};
  t.from = "post";
  t.group_by = {bucket()};
  c = compile(t, DollarDialect{});
  EXPECT_EQ(c.sql, "SELECT post.votes / $1 * $2 FROM post GROUP BY post.votes / $1");
  EXPECT_EQ(c.params, (std::vector<Value>{std::int64_t{10}, std::int64_t{2}}));
  // "?" placeholders bind in text order: one value each, as before.
  c = compile(t, QmarkDialect{});
  EXPECT_EQ(c.sql, "SELECT post.votes / ? * ? FROM post GROUP BY post.votes / ?");
  EXPECT_EQ(c.params.size(), 3u);
  // A subquery's own grouping is its own; the outer statement's numbers go on after it.
  auto inner = std::make_shared<Select>(t);
  Select u;
  u.columns = {column("g", "x")};
  u.from_subquery = inner;
  u.from_alias = "g";
  u.where = binary(BinaryOp::gt, bucket(), num(1));
  EXPECT_EQ(compile(u, DollarDialect{}).sql,
            "SELECT g.x FROM (SELECT post.votes / $1 * $2 FROM post GROUP BY post.votes / $1) "
            "AS g WHERE post.votes / $3 > $4");
  // Grouped by a label: its expression, wherever it comes back; and in a subquery of the
  // grouping statement (correlated), the outer query's numbers.
  Select v;
  v.columns = {label(bucket(), "b"), function("count", {column("", "*")})};
  v.from = "post";
  v.group_by = {label(bucket(), "b")};
  auto correlated = std::make_shared<Select>();
  correlated->columns = {function("count", {column("", "*")})};
  correlated->from = "vote";
  correlated->where = binary(BinaryOp::eq, column("vote", "bucket"), bucket());
  v.having = binary(BinaryOp::and_, binary(BinaryOp::gt, bucket(), num(0)),
                    binary(BinaryOp::gt, subquery(correlated), num(1)));
  c = compile(v, DollarDialect{});
  EXPECT_EQ(c.sql,
            "SELECT post.votes / $1 AS b, count(*) FROM post GROUP BY b HAVING post.votes / $1 > "
            "$2 AND (SELECT count(*) FROM vote WHERE vote.bucket = post.votes / $1) > $3");
  EXPECT_EQ(c.params.size(), 3u);
}

TEST(CompileSelect, from_subquery_needs_and_gets_an_alias) {
  auto inner = std::make_shared<Select>();
  inner->columns = {column("post", "user_id"), label(function("count", {column("", "*")}), "n")};
  inner->from = "post";
  inner->where = binary(BinaryOp::gt, column("post", "score"), num(3));
  inner->group_by = {column("post", "user_id")};
  Select s;
  s.columns = {column("c", "user_id")};
  s.from_subquery = inner;
  s.from_alias = "c";
  s.where = binary(BinaryOp::gt, column("c", "n"), num(1));
  const Compiled c = compile(s, DollarDialect{});
  EXPECT_EQ(c.sql,
            "SELECT c.user_id FROM (SELECT post.user_id, count(*) AS n FROM post "
            "WHERE post.score > $1 GROUP BY post.user_id) AS c WHERE c.n > $2");

  s.from_alias.clear();
  EXPECT_NE(compile_error([&] { compile(s, QmarkDialect{}); }).find("alias"), std::string::npos);
}

TEST(CompileSelect, select_without_from_is_allowed) {
  Select s;
  s.columns = {raw("1")};
  EXPECT_EQ(compile(s, QmarkDialect{}).sql, "SELECT 1");
}

TEST(CompileSelect, limit_and_offset_are_bound_parameters) {
  Select s;
  s.columns = {column("t", "a")};
  s.from = "t";
  s.offset = 5;
  Compiled c = compile(s, QmarkDialect{});
  EXPECT_EQ(c.sql, "SELECT t.a FROM t OFFSET ?");
  EXPECT_EQ(c.params, (std::vector<Value>{std::int64_t{5}}));
  s.limit = 3;
  s.offset.reset();
  c = compile(s, DollarDialect{});
  EXPECT_EQ(c.sql, "SELECT t.a FROM t LIMIT $1");
  EXPECT_EQ(c.params, (std::vector<Value>{std::int64_t{3}}));
  s.limit = 0;
  c = compile(s, DollarDialect{});
  EXPECT_EQ(c.sql, "SELECT t.a FROM t LIMIT $1") << "limit(0) must still be written";
  EXPECT_EQ(c.params, (std::vector<Value>{std::int64_t{0}}));
}

TEST(CompileSelect, a_row_lock_comes_last_where_the_dialect_locks_rows) {
  Select s;
  s.columns = {column("user", "id")};
  s.from = "user";
  s.where = eq(column("user", "id"), num(1));
  s.limit = 1;
  s.lock = RowLock{};
  EXPECT_EQ(compile(s, DollarDialect{}).sql,
            "SELECT \"user\".id FROM \"user\" WHERE \"user\".id = $1 LIMIT $2 FOR UPDATE");
  // A dialect without locking clauses leaves it out (SQLite: the ORM begins the transaction
  // with the database's write lock instead).
  EXPECT_EQ(compile(s, QmarkDialect{}).sql,
            "SELECT \"user\".id FROM \"user\" WHERE \"user\".id = ? LIMIT ?");

  s.limit.reset();
  s.where = nullptr;
  s.joins.push_back({JoinKind::inner, "post", "p", eq(column("p", "user_id"), column("user", "id"))});
  const std::vector<std::pair<RowLock, std::string>> cases = {
      {{RowLock::Strength::share, {}, false, false}, " FOR SHARE"},
      {{RowLock::Strength::no_key_update, {}, true, false}, " FOR NO KEY UPDATE NOWAIT"},
      {{RowLock::Strength::key_share, {"user"}, false, true}, " FOR KEY SHARE OF \"user\" SKIP LOCKED"},
      {{RowLock::Strength::update, {"user", "p"}, false, false}, " FOR UPDATE OF \"user\", p"},
  };
  for (const auto& [lock, clause] : cases) {
    s.lock = lock;
    EXPECT_EQ(compile(s, DollarDialect{}).sql,
              "SELECT \"user\".id FROM \"user\" JOIN post AS p ON p.user_id = \"user\".id" + clause);
  }
  // Inside a subquery it stays with the subquery (PostgreSQL locks the rows it reads there).
  auto inner = std::make_shared<Select>();
  inner->columns = {column("job", "id")};
  inner->from = "job";
  inner->limit = 1;
  inner->lock = RowLock{RowLock::Strength::update, {}, false, true};
  Select outer;
  outer.columns = {column("job", "id")};
  outer.from = "job";
  outer.where = in(column("job", "id"), inner);
  EXPECT_EQ(compile(outer, DollarDialect{}).sql,
            "SELECT job.id FROM job WHERE job.id IN (SELECT job.id FROM job LIMIT $1 FOR UPDATE "
            "SKIP LOCKED)");

  s.lock = RowLock{RowLock::Strength::update, {}, true, true};
  EXPECT_NE(compile_error([&] { compile(s, DollarDialect{}); }).find("not both"), std::string::npos);
  s.lock = RowLock{RowLock::Strength::update, {""}, false, false};
  EXPECT_NE(compile_error([&] { compile(s, DollarDialect{}); }), "");
}

TEST(CompileSelect, two_limits_of_one_shape_compile_to_the_same_text) {
  Select s;
  s.columns = {column("t", "a")};
  s.from = "t";
  s.limit = 20;
  s.offset = 0;
  const Compiled first = compile(s, DollarDialect{});
  s.offset = 20;
  const Compiled second = compile(s, DollarDialect{});
  EXPECT_EQ(first.sql, second.sql) << "each page would prepare a statement of its own";
  EXPECT_NE(first.params, second.params);
}

TEST(CompileSelect, a_subquerys_limit_and_offset_are_numbered_where_they_stand) {
  auto inner = std::make_shared<Select>();
  inner->columns = {column("t", "a")};
  inner->from = "t";
  inner->where = binary(BinaryOp::gt, column("t", "b"), num(1));
  inner->order_by = {{column("t", "a"), true}};
  inner->limit = 2;
  inner->offset = 3;
  Select s;
  s.columns = {column("c", "a")};
  s.from_subquery = inner;
  s.from_alias = "c";
  s.where = binary(BinaryOp::lt, column("c", "a"), num(4));
  s.limit = 5;
  const Compiled c = compile(s, DollarDialect{});
  EXPECT_EQ(c.sql,
            "SELECT c.a FROM (SELECT t.a FROM t WHERE t.b > $1 ORDER BY t.a DESC LIMIT $2 "
            "OFFSET $3) AS c WHERE c.a < $4 LIMIT $5");
  EXPECT_EQ(c.params, (std::vector<Value>{std::int64_t{1}, std::int64_t{2}, std::int64_t{3},
                                          std::int64_t{4}, std::int64_t{5}}))
      << "the parameters are not in the order of their placeholders";
}

TEST(CompileSelect, malformed_selects_are_compile_errors) {
  Select no_columns;
  no_columns.from = "t";
  EXPECT_NE(compile_error([&] { compile(no_columns, QmarkDialect{}); }).find("no result columns"),
            std::string::npos);

  Select join_without_on;
  join_without_on.columns = {raw("1")};
  join_without_on.from = "t";
  join_without_on.joins.push_back({JoinKind::inner, "u", "", nullptr});
  EXPECT_NE(compile_error([&] { compile(join_without_on, QmarkDialect{}); }).find("ON"),
            std::string::npos);

  Select join_without_from;
  join_without_from.columns = {raw("1")};
  join_without_from.joins.push_back({JoinKind::inner, "u", "", raw("1 = 1")});
  EXPECT_FALSE(compile_error([&] { compile(join_without_from, QmarkDialect{}); }).empty());

  Select negative;
  negative.columns = {raw("1")};
  negative.from = "t";
  negative.limit = -1;
  EXPECT_NE(compile_error([&] { compile(negative, QmarkDialect{}); }).find("must not be negative"),
            std::string::npos);
  negative.limit.reset();
  negative.offset = -3;
  EXPECT_NE(compile_error([&] { compile(negative, QmarkDialect{}); }).find("must not be negative"),
            std::string::npos);
}

TEST(CompileInsert, single_row_with_returning) {
  Insert s;
  s.table = "user";
  s.columns = {"name", "order"};
  s.rows = {{text("ann"), num(2)}};
  s.returning = {"id", "group"};
  const Compiled c = compile(s, QmarkDialect{});
  EXPECT_EQ(c.sql, R"(INSERT INTO "user" (name, "order") VALUES (?, ?) RETURNING id, "group")");
  ASSERT_EQ(c.params.size(), 2u);
  EXPECT_EQ(c.params[0], Value{std::string("ann")});
  EXPECT_EQ(c.params[1], Value{std::int64_t{2}});
}

TEST(CompileInsert, multi_row_values_number_placeholders_across_rows) {
  Insert s;
  s.table = "post";
  s.columns = {"title", "score"};
  s.rows = {{text("a"), num(1)}, {text("b"), placeholder()}};
  const Compiled c = compile(s, DollarDialect{});
  EXPECT_EQ(c.sql, "INSERT INTO post (title, score) VALUES ($1, $2), ($3, $4)");
  ASSERT_EQ(c.params.size(), 4u);
  EXPECT_TRUE(is_null(c.params[3]));
}

TEST(CompileInsert, default_values_with_returning) {
  Insert s;
  s.table = "counter";
  s.default_values = true;
  s.returning = {"id"};
  EXPECT_EQ(compile(s, QmarkDialect{}).sql, "INSERT INTO counter DEFAULT VALUES RETURNING id");
}

TEST(CompileInsert, row_of_the_wrong_size_is_a_compile_error_naming_the_row) {
  Insert s;
  s.table = "post";
  s.columns = {"title", "score"};
  s.rows = {{text("a"), num(1)}, {text("b")}};
  const std::string msg = compile_error([&] { compile(s, QmarkDialect{}); });
  EXPECT_NE(msg.find("row 2 has 1 values for 2 columns"), std::string::npos) << msg;
}

TEST(CompileInsert, insert_without_columns_or_rows_is_a_compile_error) {
  Insert no_columns;
  no_columns.table = "t";
  EXPECT_NE(compile_error([&] { compile(no_columns, QmarkDialect{}); }).find("default_values"),
            std::string::npos);

  Insert no_rows;
  no_rows.table = "t";
  no_rows.columns = {"a"};
  EXPECT_FALSE(compile_error([&] { compile(no_rows, QmarkDialect{}); }).empty());

  Insert both;
  both.table = "t";
  both.columns = {"a"};
  both.rows = {{num(1)}};
  both.default_values = true;
  EXPECT_FALSE(compile_error([&] { compile(both, QmarkDialect{}); }).empty());
}

TEST(CompileInsert, returning_without_dialect_support_is_a_compile_error) {
  QmarkDialect d;
  d.returning_ = false;
  Insert s;
  s.table = "t";
  s.default_values = true;
  s.returning = {"id"};
  EXPECT_NE(compile_error([&] { compile(s, d); }).find("RETURNING"), std::string::npos);
  s.returning.clear();
  EXPECT_EQ(compile(s, d).sql, "INSERT INTO t DEFAULT VALUES");
}

TEST(CompileUpdate, set_where_returning_share_one_numbering) {
  Update s;
  s.table = "user";
  s.set = {{"name", text("bob")}, {"order", num(3)}};
  s.where = eq(column("user", "id"), num(7));
  s.returning = {"id", "name"};
  const Compiled c = compile(s, DollarDialect{});
  EXPECT_EQ(c.sql,
            R"(UPDATE "user" SET name = $1, "order" = $2 WHERE "user".id = $3 RETURNING id, name)");
  EXPECT_EQ(c.params.size(), 3u);
}

TEST(CompileUpdate, update_without_where_touches_every_row) {
  Update s;
  s.table = "t";
  s.set = {{"n", binary(BinaryOp::add, column("", "n"), num(1))}};
  EXPECT_EQ(compile(s, QmarkDialect{}).sql, "UPDATE t SET n = n + ?");
}

TEST(CompileUpdate, empty_set_is_a_compile_error) {
  Update s;
  s.table = "t";
  EXPECT_NE(compile_error([&] { compile(s, QmarkDialect{}); }).find("nothing to SET"),
            std::string::npos);
  QmarkDialect no_returning;
  no_returning.returning_ = false;
  s.set = {{"a", num(1)}};
  s.returning = {"a"};
  EXPECT_FALSE(compile_error([&] { compile(s, no_returning); }).empty());
}

TEST(CompileDelete, where_and_returning) {
  Delete s;
  s.table = "post";
  s.where = in(column("post", "id"), {num(1), num(2)});
  s.returning = {"id"};
  EXPECT_EQ(compile(s, DollarDialect{}).sql,
            "DELETE FROM post WHERE post.id IN ($1, $2) RETURNING id");
  s.where = nullptr;
  s.returning.clear();
  EXPECT_EQ(compile(s, DollarDialect{}).sql, "DELETE FROM post");
  QmarkDialect no_returning;
  no_returning.returning_ = false;
  s.returning = {"id"};
  EXPECT_FALSE(compile_error([&] { compile(s, no_returning); }).empty());
}

TEST(CompileDelete, statement_without_table_is_a_compile_error) {
  EXPECT_FALSE(compile_error([] { compile(Delete{}, QmarkDialect{}); }).empty());
  EXPECT_FALSE(compile_error([] { compile(Update{}, QmarkDialect{}); }).empty());
  EXPECT_FALSE(compile_error([] { compile(Insert{}, QmarkDialect{}); }).empty());
}

}  // namespace
}  // namespace strata::sql
