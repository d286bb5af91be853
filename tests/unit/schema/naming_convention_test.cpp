// NamingConvention::apply: every kind of constraint and index gets its conventional name,
// check names are expanded once, long names are shortened deterministically, and bad
// patterns fail with the token named.
#include <string>

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

// The message of the ArgumentError that apply throws, or "" when it throws none.
std::string apply_error(const NamingConvention& n, Table t) {
  try {
    n.apply(t);
  } catch (const ArgumentError& e) {
    return e.what();
  }
  return "";
}

Table post() {
  Table t = table("post", {int_col("user_id"), int_col("created_at"), string_col("body", 200)});
  t.indexes.push_back({"", {"user_id", "created_at"}, false});
  t.uniques.push_back({"", {"user_id", "body"}});
  t.foreign_keys.push_back(fk({"user_id"}, "user"));
  t.checks.push_back({"body_len", "length(body) > 0"});
  return t;
}

TEST(NamingConvention, names_every_kind_from_the_default_patterns) {
  Table t = post();
  NamingConvention{}.apply(t);
  EXPECT_EQ(t.primary_key.name, "pk_post");
  EXPECT_EQ(t.indexes[0].name, "ix_post_user_id_created_at") << "all columns joined by _";
  EXPECT_EQ(t.uniques[0].name, "uq_post_user_id_body");
  EXPECT_EQ(t.foreign_keys[0].name, "fk_post_user_id_user");
  EXPECT_EQ(t.checks[0].name, "ck_post_body_len") << "a check's given name is expanded";
}

TEST(NamingConvention, applying_twice_changes_nothing) {
  Table once = post();
  NamingConvention{}.apply(once);
  Table twice = once;
  NamingConvention{}.apply(twice);
  EXPECT_EQ(once, twice) << "an expanded check name must not be expanded again";
}

TEST(NamingConvention, given_names_are_kept) {
  Table t = post();
  t.primary_key.name = "post_key";
  t.indexes[0].name = "by_author";
  t.uniques[0].name = "one_body_per_author";
  t.foreign_keys[0].name = "author";
  t.checks[0].name = "ck_post_custom";
  NamingConvention{}.apply(t);
  EXPECT_EQ(t.primary_key.name, "post_key");
  EXPECT_EQ(t.indexes[0].name, "by_author");
  EXPECT_EQ(t.uniques[0].name, "one_body_per_author");
  EXPECT_EQ(t.foreign_keys[0].name, "author");
  EXPECT_EQ(t.checks[0].name, "ck_post_custom") << "already in the pattern's form";
}

TEST(NamingConvention, primary_key_columns_may_come_from_the_column_flags) {
  Table t = table("tag");
  t.primary_key.columns.clear();
  NamingConvention{}.apply(t);
  EXPECT_EQ(t.primary_key.name, "pk_tag");

  Table no_key;
  no_key.name = "log";
  no_key.columns = {int_col("at")};
  NamingConvention{}.apply(no_key);
  EXPECT_EQ(no_key.primary_key.name, "") << "no primary key, nothing to name";
}

TEST(NamingConvention, column_0_name_uses_the_first_column_only) {
  NamingConvention n;
  n.index = "ix_%(table_name)s_%(column_0_name)s";
  Table t = post();
  n.apply(t);
  EXPECT_EQ(t.indexes[0].name, "ix_post_user_id");
}

TEST(NamingConvention, check_without_a_name_is_an_error_when_the_pattern_needs_one) {
  Table t = post();
  t.checks[0].name.clear();
  const std::string msg = apply_error(NamingConvention{}, t);
  EXPECT_NE(msg.find("check constraint on table 'post' needs a name"), std::string::npos) << msg;
}

TEST(NamingConvention, check_pattern_without_constraint_name_names_unnamed_checks) {
  NamingConvention n;
  n.check = "ck_%(table_name)s";
  Table t = post();
  t.checks[0].name.clear();
  n.apply(t);
  EXPECT_EQ(t.checks[0].name, "ck_post");
}

TEST(NamingConvention, constraint_name_may_sit_inside_the_pattern) {
  NamingConvention n;
  n.check = "%(table_name)s_%(constraint_name)s_check";
  Table t = post();
  n.apply(t);
  EXPECT_EQ(t.checks[0].name, "post_body_len_check");
  Table again = t;
  n.apply(again);
  EXPECT_EQ(again.checks[0].name, "post_body_len_check");
}

TEST(NamingConvention, unknown_token_is_an_error_naming_it) {
  NamingConvention n;
  n.unique = "uq_%(table_name)s_%(colum_0_name)s";
  const std::string msg = apply_error(n, post());
  EXPECT_NE(msg.find("%(colum_0_name)s"), std::string::npos) << msg;
}

TEST(NamingConvention, bad_pattern_fails_even_when_nothing_uses_it) {
  NamingConvention n;
  n.index = "ix_%(nope)s";
  EXPECT_NE(apply_error(n, table("bare")).find("%(nope)s"), std::string::npos);
}

TEST(NamingConvention, token_that_does_not_apply_to_the_kind_is_an_error) {
  NamingConvention n;
  n.index = "ix_%(referred_table_name)s";
  EXPECT_NE(apply_error(n, post()).find("referred_table_name"), std::string::npos);
  NamingConvention c;
  c.check = "ck_%(column_0_name)s";
  EXPECT_NE(apply_error(c, post()).find("column_0_name"), std::string::npos);
  NamingConvention unterminated;
  unterminated.primary_key = "pk_%(table_name";
  EXPECT_FALSE(apply_error(unterminated, post()).empty());
}

TEST(NamingConvention, long_names_are_cut_to_63_bytes_with_a_stable_hash) {
  const std::string long_name(70, 'a');
  Table t = table(long_name, {int_col("x"), int_col("y")});
  t.indexes.push_back({"", {"x"}, false});
  t.indexes.push_back({"", {"y"}, false});
  NamingConvention{}.apply(t);

  const std::string& ix = t.indexes[0].name;
  ASSERT_EQ(ix.size(), 63u) << ix;
  EXPECT_EQ(ix.substr(0, 54), ("ix_" + long_name).substr(0, 54));
  EXPECT_EQ(ix[54], '_');
  EXPECT_EQ(ix.find_first_not_of("0123456789abcdef", 55), std::string::npos) << ix;
  EXPECT_NE(t.indexes[0].name, t.indexes[1].name)
      << "names that differ only past the cut must stay distinct";

  Table same = table(long_name, {int_col("x"), int_col("y")});
  same.indexes.push_back({"", {"x"}, false});
  NamingConvention{}.apply(same);
  EXPECT_EQ(same.indexes[0].name, ix) << "the shortened name must be deterministic";
}

TEST(NamingConvention, shortened_check_names_are_not_expanded_again) {
  Table t = table(std::string(60, 't'));
  t.checks.push_back({"positive_id", "id > 0"});
  NamingConvention{}.apply(t);
  ASSERT_EQ(t.checks[0].name.size(), 63u);
  Table again = t;
  NamingConvention{}.apply(again);
  EXPECT_EQ(again.checks[0].name, t.checks[0].name);
}

TEST(NamingConvention, short_names_are_left_alone) {
  const std::string name(63 - 3, 'b');  // "pk_" + 60 = exactly 63
  Table t = table(name);
  NamingConvention{}.apply(t);
  EXPECT_EQ(t.primary_key.name, "pk_" + name);
}

}  // namespace
}  // namespace strata::schema
