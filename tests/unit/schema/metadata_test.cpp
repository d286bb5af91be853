// Schema data helpers and MetaData: type names, lookups, adding tables (naming, validation,
// re-adds) and the foreign-key order of sorted_tables().
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "strata/error.hpp"
#include "strata/schema/table.hpp"

#include "unit/schema/schema_builders.hpp"

namespace strata::schema {
namespace {

using testing::fk;
using testing::int_col;
using testing::string_col;
using testing::table;

template <class F>
std::string argument_error(F f) {
  try {
    f();
  } catch (const ArgumentError& e) {
    return e.what();
  }
  return "";
}

std::vector<std::string> names(const std::vector<const Table*>& tables) {
  std::vector<std::string> out;
  for (const Table* t : tables) out.push_back(t->name);
  return out;
}

TEST(Types, portable_names_are_the_sqlalchemy_ones) {
  EXPECT_EQ(to_string({TypeKind::integer, {}}), "Integer");
  EXPECT_EQ(to_string({TypeKind::big_integer, {}}), "BigInteger");
  EXPECT_EQ(to_string({TypeKind::small_integer, {}}), "SmallInteger");
  EXPECT_EQ(to_string({TypeKind::float_, {}}), "Float");
  EXPECT_EQ(to_string({TypeKind::boolean, {}}), "Boolean");
  EXPECT_EQ(to_string({TypeKind::string, 64}), "String(64)");
  EXPECT_EQ(to_string({TypeKind::string, {}}), "String");
  EXPECT_EQ(to_string({TypeKind::text, {}}), "Text");
  EXPECT_EQ(to_string({TypeKind::blob, {}}), "Blob");
  EXPECT_EQ(to_string({TypeKind::date, {}}), "Date");
  EXPECT_EQ(to_string({TypeKind::time, {}}), "Time");
  EXPECT_EQ(to_string({TypeKind::datetime, {}}), "DateTime");
}

TEST(Types, referential_actions_render_as_sql) {
  EXPECT_EQ(to_sql(ReferentialAction::no_action), "NO ACTION");
  EXPECT_EQ(to_sql(ReferentialAction::restrict), "RESTRICT");
  EXPECT_EQ(to_sql(ReferentialAction::cascade), "CASCADE");
  EXPECT_EQ(to_sql(ReferentialAction::set_null), "SET NULL");
  EXPECT_EQ(to_sql(ReferentialAction::set_default), "SET DEFAULT");
}

TEST(Table, find_column_returns_the_column_or_null) {
  const Table t = table("user", {string_col("name", 64)});
  ASSERT_NE(t.find_column("name"), nullptr);
  EXPECT_EQ(t.find_column("name")->type, (Type{TypeKind::string, 64}));
  EXPECT_EQ(t.find_column("nope"), nullptr);
}

TEST(MetaData, add_applies_the_naming_convention) {
  MetaData md;
  Table post = table("post", {int_col("user_id")});
  post.foreign_keys.push_back(fk({"user_id"}, "user"));
  const Table& added = md.add(post);
  EXPECT_EQ(added.primary_key.name, "pk_post");
  EXPECT_EQ(added.foreign_keys[0].name, "fk_post_user_id_user");
  EXPECT_EQ(md.find("post"), &added);
  EXPECT_EQ(md.find("nope"), nullptr);
}

TEST(MetaData, references_stay_valid_as_tables_are_added) {
  MetaData md;
  const Table& first = md.add(table("t0"));
  for (int i = 1; i < 100; ++i) md.add(table("t" + std::to_string(i)));
  EXPECT_EQ(&first, md.find("t0"));
  EXPECT_EQ(first.name, "t0");
}

TEST(MetaData, identical_re_add_is_a_no_op) {
  MetaData md;
  Table t = table("post", {string_col("body", 10)});
  t.checks.push_back({"body_len", "length(body) > 0"});
  const Table& first = md.add(t);
  const Table& second = md.add(t);
  EXPECT_EQ(&first, &second);
  EXPECT_EQ(md.tables().size(), 1u);
  EXPECT_EQ(&md.add(first), &first) << "re-adding the already named table is identical too";
}

TEST(MetaData, differently_defined_re_add_is_an_error) {
  MetaData md;
  md.add(table("user", {string_col("name", 64)}));
  const std::string msg = argument_error([&] { md.add(table("user", {string_col("name", 128)})); });
  EXPECT_NE(msg.find("table 'user' is already defined differently"), std::string::npos) << msg;
  EXPECT_NE(msg.find("column 'name'"), std::string::npos) << msg;
}

TEST(MetaData, primary_key_flags_and_list_are_made_to_agree) {
  MetaData md;
  Table from_flags = table("a");
  from_flags.primary_key.columns.clear();
  EXPECT_EQ(md.add(from_flags).primary_key.columns, std::vector<std::string>{"id"});

  Table from_list;
  from_list.name = "b";
  from_list.columns = {int_col("x"), int_col("y")};
  from_list.primary_key.columns = {"x", "y"};
  const Table& b = md.add(from_list);
  EXPECT_TRUE(b.columns[0].primary_key && b.columns[1].primary_key);

  Table contradictory = table("c", {int_col("other")});
  contradictory.columns[1].primary_key = true;
  EXPECT_FALSE(argument_error([&] { md.add(contradictory); }).empty());
}

TEST(MetaData, constraint_on_a_missing_column_is_an_error_with_a_suggestion) {
  MetaData md;
  Table t = table("user", {string_col("email", 100)});
  t.uniques.push_back({"", {"emal"}});
  const std::string msg = argument_error([&] { md.add(t); });
  EXPECT_NE(msg.find("'emal'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'email'?"), std::string::npos) << msg;
}

TEST(MetaData, malformed_tables_are_rejected) {
  MetaData md;
  EXPECT_FALSE(argument_error([&] { md.add(Table{}); }).empty());
  Table no_columns;
  no_columns.name = "empty";
  EXPECT_FALSE(argument_error([&] { md.add(no_columns); }).empty());
  EXPECT_FALSE(argument_error([&] { md.add(table("d", {int_col("id")})); }).empty())
      << "two columns named id";
  Table bad_fk = table("p", {int_col("a")});
  bad_fk.foreign_keys.push_back(fk({"a"}, "q", {"x", "y"}));
  EXPECT_FALSE(argument_error([&] { md.add(bad_fk); }).empty());
  Table empty_index = table("i");
  empty_index.indexes.push_back({"", {}, false});
  EXPECT_FALSE(argument_error([&] { md.add(empty_index); }).empty());
}

TEST(MetaData, duplicate_constraint_or_index_names_are_rejected) {
  MetaData md;
  Table twice = table("t", {int_col("a")});
  twice.indexes.push_back({"", {"a"}, false});
  twice.indexes.push_back({"", {"a"}, true});
  EXPECT_NE(argument_error([&] { md.add(twice); }).find("ix_t_a"), std::string::npos);

  Table one = table("one", {int_col("a")});
  one.indexes.push_back({"ix_shared", {"a"}, false});
  md.add(one);
  Table two = table("two", {int_col("a")});
  two.indexes.push_back({"ix_shared", {"a"}, false});
  EXPECT_NE(argument_error([&] { md.add(two); }).find("ix_shared"), std::string::npos)
      << "index names are database-wide";
}

// PostgreSQL cuts a name past 63 bytes short: a model that gives one is refused on every
// backend, as SQLAlchemy's IdentifierError does; generated names are shortened to fit.
TEST(MetaData, a_given_name_longer_than_63_bytes_is_rejected) {
  MetaData md;
  Table indexed = table("t", {int_col("a")});
  indexed.indexes.push_back({"ix_" + std::string(61, 'x'), {"a"}, false});
  EXPECT_EQ(argument_error([&] { md.add(indexed); }),
            "table 't': index name 'ix_" + std::string(61, 'x') +
                "' is 64 bytes long, past the limit of 63 bytes (PostgreSQL's, which would cut "
                "it short); give it a shorter name");
  EXPECT_NE(argument_error([&] { md.add(table(std::string(64, 't'))); }).find("table name"),
            std::string::npos);
  EXPECT_NE(argument_error([&] { md.add(table("u", {int_col(std::string(64, 'c'))})); })
                .find("column name"),
            std::string::npos);

  Table generated = table("t", {int_col(std::string(63, 'c'))});
  generated.indexes.push_back({"", {std::string(63, 'c')}, false});
  EXPECT_EQ(md.add(generated).indexes.at(0).name.size(), 63u) << "a generated name is shortened";
}

TEST(MetaData, sorted_tables_puts_parents_before_children) {
  MetaData md;
  Table comment = table("comment", {int_col("post_id")});
  comment.foreign_keys.push_back(fk({"post_id"}, "post"));
  Table post = table("post", {int_col("user_id")});
  post.foreign_keys.push_back(fk({"user_id"}, "user"));
  md.add(comment);
  md.add(post);
  md.add(table("user"));
  EXPECT_EQ(names(md.sorted_tables()), (std::vector<std::string>{"user", "post", "comment"}));
}

TEST(MetaData, sorted_tables_keeps_declaration_order_between_independent_tables) {
  MetaData md;
  Table post = table("post", {int_col("user_id")});
  post.foreign_keys.push_back(fk({"user_id"}, "user"));
  md.add(table("zeta"));
  md.add(post);
  md.add(table("alpha"));
  md.add(table("user"));
  EXPECT_EQ(names(md.sorted_tables()), (std::vector<std::string>{"zeta", "alpha", "user", "post"}));
}

TEST(MetaData, sorted_tables_ignores_self_references_and_unknown_tables) {
  MetaData md;
  Table category = table("category", {int_col("parent_id", true), int_col("owner_id")});
  category.foreign_keys.push_back(fk({"parent_id"}, "category"));
  category.foreign_keys.push_back(fk({"owner_id"}, "elsewhere"));
  md.add(category);
  EXPECT_EQ(names(md.sorted_tables()), std::vector<std::string>{"category"});
}

TEST(MetaData, sorted_tables_names_the_tables_of_a_cycle) {
  MetaData md;
  md.add(table("standalone"));
  Table a = table("a", {int_col("b_id")});
  a.foreign_keys.push_back(fk({"b_id"}, "b"));
  Table b = table("b", {int_col("c_id")});
  b.foreign_keys.push_back(fk({"c_id"}, "c"));
  Table c = table("c", {int_col("a_id")});
  c.foreign_keys.push_back(fk({"a_id"}, "a"));
  md.add(a);
  md.add(b);
  md.add(c);
  const std::string msg = argument_error([&] { md.sorted_tables(); });
  EXPECT_NE(msg.find("'a' -> 'b' -> 'c' -> 'a'"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("standalone"), std::string::npos) << "only the cycle's tables are named";
}

}  // namespace
}  // namespace strata::schema
