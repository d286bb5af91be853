// tables_read(): every table a SELECT reads, wherever it names it (the ORM's autoflush before
// a query looks at the changed objects of these tables only).
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "strata/sql/ast.hpp"

namespace strata::sql {
namespace {

using Tables = std::vector<std::string>;

std::shared_ptr<Select> from(std::string table) {
  auto s = std::make_shared<Select>();
  s->columns = {raw("1")};
  s->from = std::move(table);
  return s;
}

Tables read(const Select& s) {
  Tables out;
  tables_read(s, out);
  return out;
}

TEST(TablesRead, from_and_joins_once_each_in_order) {
  Select s = *from("post");
  s.joins = {{JoinKind::inner, "user", "", binary(BinaryOp::eq, column("post", "user_id"),
                                                  column("user", "id"))},
             {JoinKind::left, "post", "p2", binary(BinaryOp::eq, column("p2", "id"),
                                                   column("post", "id"))}};
  EXPECT_EQ(read(s), (Tables{"post", "user"}));
}

TEST(TablesRead, subqueries_in_every_clause) {
  Select s = *from("a");
  s.columns = {label(subquery(from("in_columns")), "x")};
  s.from_subquery = from("in_from");
  s.joins = {{JoinKind::inner, "joined", "",
              in(column("joined", "id"), from("in_join_condition"))}};
  s.where = binary(BinaryOp::and_,
                   unary(UnaryOp::exists, subquery(from("in_exists"))),
                   between(column("a", "n"), subquery(from("in_between")), param(Value{1})));
  s.group_by = {function("lower", {cast(subquery(from("in_group_by")), "TEXT")})};
  s.having = in(column("a", "n"), {param(Value{1}), subquery(from("in_in_list"))});
  s.order_by = {{unary(UnaryOp::neg, subquery(from("in_order_by"))), true}};
  EXPECT_EQ(read(s), (Tables{"a", "in_from", "joined", "in_join_condition", "in_columns",
                             "in_exists", "in_between", "in_group_by", "in_in_list",
                             "in_order_by"}));
}

TEST(TablesRead, nested_subqueries_and_a_select_without_from) {
  auto inner = from("deep");
  auto middle = from("middle");
  middle->where = in(column("middle", "id"), inner);
  Select s;
  s.columns = {unary(UnaryOp::exists, subquery(middle))};
  EXPECT_EQ(read(s), (Tables{"middle", "deep"}));
}

TEST(TablesRead, adds_to_what_the_list_holds_without_repeating_it) {
  Tables out{"user"};
  tables_read(*from("user"), out);
  tables_read(*from("post"), out);
  EXPECT_EQ(out, (Tables{"user", "post"}));
}

}  // namespace
}  // namespace strata::sql
