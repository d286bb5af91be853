// Autogenerate: compare() of a SchemaState with the models' tables. Every result is checked
// three ways besides its exact operations: applied to the state it yields the models' tables,
// compare() then finds nothing more, and its reverse brings the state back.
#include "strata/migrate/compare.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "strata/migrate/errors.hpp"

#include "unit/migrate/op_fixtures.hpp"

namespace strata::migrate {
namespace {

using namespace testing;

std::vector<std::string> described(const std::vector<Operation>& ops) {
  std::vector<std::string> out;
  for (const Operation& op : ops) out.push_back(describe(op));
  return out;
}

// Applies result to from and checks that it reaches `to` (tables, columns in order, indexes
// and constraints by name), that compare() is then empty, and that the reverse goes back.
SchemaState expect_reaches(const SchemaState& from, const std::vector<Table>& to,
                           const CompareResult& result) {
  SchemaState s = from;
  s.apply(result.upgrade);
  EXPECT_EQ(s, state_of(to)) << "applying compare()'s upgrade must yield the models' tables";
  EXPECT_TRUE(compare(s, to).upgrade.empty()) << "compare() must find nothing the second time";
  SchemaState back = s;
  back.apply(reverse(result.upgrade));
  EXPECT_EQ(back, from) << "the downgrade must restore the state before the migration";
  return s;
}

std::string command_error(const SchemaState& from, const std::vector<Table>& to,
                          const CompareOptions& options = {}) {
  try {
    compare(from, to, options);
  } catch (const CommandError& e) {
    return e.what();
  }
  return "(no CommandError)";
}

// ---- nothing to do ----

TEST(Compare, finds_nothing_between_a_state_and_the_same_tables) {
  const std::vector<Table> tables = {user_v5(), post_v5(), followers_v4()};
  const CompareResult r = compare(state_of(tables), tables);
  EXPECT_TRUE(r.upgrade.empty()) << ::testing::PrintToString(described(r.upgrade));
  EXPECT_TRUE(r.unresolved.empty());
  EXPECT_TRUE(compare(SchemaState{}, {}).upgrade.empty());
}

TEST(Compare, ignores_the_order_of_tables_indexes_and_constraints) {
  Table user = user_v1();
  std::swap(user.indexes[0], user.indexes[1]);
  EXPECT_TRUE(compare(state_of({user_v1(), post_v2()}), {post_v2(), user}).upgrade.empty());
}

// ---- tables ----

TEST(Compare, creates_a_new_table_after_the_parent_its_foreign_key_refers_to) {
  const std::vector<Table> to = {post_v2(), user_v1()};  // the child is declared first
  const CompareResult r = compare(SchemaState{}, to);
  EXPECT_EQ(r.upgrade,
            (std::vector<Operation>{CreateTableOp{user_v1()}, CreateTableOp{post_v2()}}));
  expect_reaches(SchemaState{}, to, r);
}

TEST(Compare, drops_tables_children_first_carrying_their_definition) {
  const SchemaState from = state_of({user_v1(), post_v2(), followers_v4()});
  const CompareResult r = compare(from, {});
  EXPECT_EQ(described(r.upgrade),
            (std::vector<std::string>{"drop table 'followers'", "drop table 'post'",
                                      "drop table 'user'"}));
  EXPECT_EQ(std::get<DropTableOp>(r.upgrade[2]).table, *from.find("user"));
  expect_reaches(from, {}, r);
}

TEST(Compare, drops_the_foreign_key_of_a_kept_table_before_dropping_its_parent) {
  Table post = post_v2();
  post.foreign_keys.clear();
  const SchemaState from = state_of({user_v1(), post_v2()});
  const CompareResult r = compare(from, {post});
  EXPECT_EQ(described(r.upgrade),
            (std::vector<std::string>{"drop foreign key 'fk_post_user_id_user' on 'post'",
                                      "drop table 'user'"}));
  expect_reaches(from, {post}, r);
}

TEST(Compare, breaks_a_foreign_key_cycle_between_new_tables) {
  Table a = table("a", {int_col("b_id", true)});
  Table b = table("b", {int_col("a_id", true)});
  a.foreign_keys = {fk({"b_id"}, "b")};
  b.foreign_keys = {fk({"a_id"}, "a")};
  const std::vector<Table> to = {named(a), named(b)};
  const CompareResult r = compare(SchemaState{}, to);
  EXPECT_EQ(described(r.upgrade),
            (std::vector<std::string>{"create table 'a'", "create table 'b'",
                                      "add foreign key 'fk_a_b_id_b' on 'a' (b_id) -> 'b' (id)"}));
  EXPECT_TRUE(std::get<CreateTableOp>(r.upgrade[0]).table.foreign_keys.empty());
  const SchemaState s = expect_reaches(SchemaState{}, to, r);

  const CompareResult drop = compare(s, {});
  EXPECT_EQ(described(drop.upgrade),
            (std::vector<std::string>{"drop foreign key 'fk_b_a_id_a' on 'b'", "drop table 'a'",
                                      "drop table 'b'"}));
  expect_reaches(s, {}, drop);
}

// ---- columns ----

TEST(Compare, adds_columns_at_the_end_in_model_order) {
  const SchemaState from = state_of({user_v1()});
  const CompareResult r = compare(from, {user_v3()});
  EXPECT_EQ(r.upgrade,
            (std::vector<Operation>{
                AddColumnOp{"user", string_col("about_me", 140, true), std::nullopt},
                AddColumnOp{"user", typed_col("last_seen", TypeKind::datetime), std::nullopt}}));
  expect_reaches(from, {user_v3()}, r);
}

TEST(Compare, drops_columns_last_first_each_with_its_position) {
  const SchemaState from = state_of({user_v3()});
  const CompareResult r = compare(from, {user_v1()});
  EXPECT_EQ(r.upgrade, (std::vector<Operation>{
                           DropColumnOp{"user", typed_col("last_seen", TypeKind::datetime), 5},
                           DropColumnOp{"user", string_col("about_me", 140, true), 4}}));
  expect_reaches(from, {user_v1()}, r);
}

TEST(Compare, drops_the_index_of_a_dropped_column_first) {
  Table post = post_v2();
  post.columns.erase(post.columns.begin() + 2);  // timestamp
  post.indexes.erase(post.indexes.begin());      // ix_post_timestamp
  const SchemaState from = state_of({user_v1(), post_v2()});
  const CompareResult r = compare(from, {user_v1(), post});
  EXPECT_EQ(described(r.upgrade),
            (std::vector<std::string>{"drop index 'ix_post_timestamp' on 'post'",
                                      "drop column 'post.timestamp'"}));
  expect_reaches(from, {user_v1(), post}, r);
}

TEST(Compare, alters_a_string_length) {
  Table post = post_v2();
  post.columns[1].type.length = 280;
  const SchemaState from = state_of({user_v1(), post_v2()});
  const CompareResult r = compare(from, {user_v1(), post});
  EXPECT_EQ(r.upgrade, (std::vector<Operation>{AlterColumnOp{"post", string_col("body", 140, true),
                                                             string_col("body", 280, true)}}));
  expect_reaches(from, {user_v1(), post}, r);
}

TEST(Compare, alters_nullability_and_server_default) {
  Table user = user_v1();
  user.columns[3].nullable = false;           // password_hash
  user.columns[1].server_default = "'anon'";  // username
  const SchemaState from = state_of({user_v1()});
  const CompareResult r = compare(from, {user});
  EXPECT_EQ(
      described(r.upgrade),
      (std::vector<std::string>{"alter column 'user.username' (server default none -> 'anon')",
                                "alter column 'user.password_hash' (NULL -> NOT NULL)"}));
  expect_reaches(from, {user}, r);
}

TEST(Compare, ignores_a_reordering_of_existing_columns) {
  Table user = user_v1();
  std::swap(user.columns[1], user.columns[2]);
  EXPECT_TRUE(compare(state_of({user_v1()}), {user}).upgrade.empty())
      << "column order is not a migration";
}

// ---- indexes and constraints ----

TEST(Compare, adds_and_drops_indexes) {
  Table post = post_v2();
  post.indexes = {index_on({"body"})};
  post = named(std::move(post));
  const SchemaState from = state_of({user_v1(), post_v2()});
  const CompareResult r = compare(from, {user_v1(), post});
  EXPECT_EQ(described(r.upgrade),
            (std::vector<std::string>{"drop index 'ix_post_timestamp' on 'post'",
                                      "drop index 'ix_post_user_id' on 'post'",
                                      "create index 'ix_post_body' on 'post' (body)"}));
  expect_reaches(from, {user_v1(), post}, r);
}

TEST(Compare, adds_a_unique_constraint_on_two_columns) {
  const SchemaState from = state_of({user_v1(), post_v2()});
  Table post = post_v2();
  post.uniques = {schema::UniqueConstraint{"", {"user_id", "timestamp"}}};
  post = named(std::move(post));
  const CompareResult r = compare(from, {user_v1(), post});
  EXPECT_EQ(r.upgrade, (std::vector<Operation>{AddUniqueOp{
                           "post", {"uq_post_user_id_timestamp", {"user_id", "timestamp"}}}}));
  expect_reaches(from, {user_v1(), post}, r);
}

TEST(Compare, adds_a_check_constraint) {
  const SchemaState from = state_of({user_v1(), post_v2()});
  Table post = post_v2();
  post.checks = {schema::CheckConstraint{"body_len", "length(body) > 0"}};
  post = named(std::move(post));
  const CompareResult r = compare(from, {user_v1(), post});
  EXPECT_EQ(r.upgrade,
            (std::vector<Operation>{AddCheckOp{"post", {"ck_post_body_len", "length(body) > 0"}}}));
  expect_reaches(from, {user_v1(), post}, r);
}

TEST(Compare, adds_a_foreign_key_after_the_table_it_refers_to) {
  Table post = post_v2();
  post.foreign_keys.clear();
  const SchemaState from = state_of({post});
  const std::vector<Table> to = {post_v2(), user_v1()};
  const CompareResult r = compare(from, to);
  EXPECT_EQ(described(r.upgrade),
            (std::vector<std::string>{
                "create table 'user'",
                "add foreign key 'fk_post_user_id_user' on 'post' (user_id) -> 'user' (id)"}));
  expect_reaches(from, to, r);
}

TEST(Compare, a_changed_or_renamed_constraint_is_dropped_and_added) {
  const SchemaState from = state_of({user_v1(), post_v2()});
  Table post = post_v2();
  post.foreign_keys[0].on_delete = schema::ReferentialAction::cascade;  // same name, changed
  post.indexes[0].name = "ix_post_when";  // same definition, another name
  const CompareResult r = compare(from, {user_v1(), post});
  EXPECT_EQ(described(r.upgrade),
            (std::vector<std::string>{
                "drop foreign key 'fk_post_user_id_user' on 'post'",
                "drop index 'ix_post_timestamp' on 'post'",
                "create index 'ix_post_when' on 'post' (timestamp)",
                "add foreign key 'fk_post_user_id_user' on 'post' (user_id) -> 'user' (id)"}));
  expect_reaches(from, {user_v1(), post}, r);
}

TEST(Compare, an_index_name_can_move_to_another_table) {
  Table user = user_v1();
  Table post = post_v2();
  user.indexes.push_back(schema::Index{"ix_recent", {"username"}, false});
  const SchemaState from = state_of({user, post});
  user.indexes.pop_back();
  post.indexes.push_back(schema::Index{"ix_recent", {"timestamp", "user_id"}, false});
  const CompareResult r = compare(from, {user, post});
  EXPECT_EQ(described(r.upgrade),
            (std::vector<std::string>{"drop index 'ix_recent' on 'user'",
                                      "create index 'ix_recent' on 'post' (timestamp, user_id)"}))
      << "index names are database-wide: the old one must go before the new one comes";
  expect_reaches(from, {user, post}, r);
}

TEST(Compare, refuses_to_change_a_primary_key) {
  Table followers = followers_v4();
  followers.columns[1].primary_key = false;
  followers.primary_key.columns = {"follower_id"};
  EXPECT_EQ(command_error(state_of({user_v1(), followers_v4()}), {user_v1(), followers}),
            "table 'followers': changing a primary key is not supported by autogenerate (the "
            "migrations have primary key 'pk_followers' (follower_id, followed_id), the models "
            "'pk_followers' (follower_id)); write that migration by hand (e.g. create a new "
            "table and copy the rows with an execute operation)");
}

TEST(Compare, refuses_models_with_unnamed_constraints) {
  Table post = post_v2();
  post.uniques = {schema::UniqueConstraint{"", {"body"}}};
  EXPECT_EQ(command_error(SchemaState{}, {post}),
            "table 'post' of the models has an unnamed unique constraint; add tables through a "
            "MetaData so its naming convention names it");
}

// ---- renames ----

Table user_renamed(const char* new_name, schema::Type type = {TypeKind::string, 140}) {
  Table t = user_v1();
  Column c = string_col(new_name, 140, true);
  c.type = type;
  t.columns.push_back(c);
  return t;
}

Table user_with_about_me() {
  Table t = user_v1();
  t.columns.push_back(string_col("about_me", 140, true));
  return t;
}

TEST(CompareRenames, a_rename_given_in_options_becomes_rename_column) {
  const SchemaState from = state_of({user_with_about_me()});
  CompareOptions options;
  options.renames = {{"user.about_me", "bio"}};
  const CompareResult r = compare(from, {user_renamed("bio")}, options);
  EXPECT_EQ(r.upgrade, (std::vector<Operation>{RenameColumnOp{"user", "about_me", "bio"}}));
  EXPECT_TRUE(r.unresolved.empty());
  expect_reaches(from, {user_renamed("bio")}, r);
}

TEST(CompareRenames, a_given_rename_with_another_type_is_renamed_then_altered) {
  const SchemaState from = state_of({user_with_about_me()});
  CompareOptions options;
  options.renames = {{"user.about_me", "bio"}};
  const std::vector<Table> to = {user_renamed("bio", {TypeKind::text, std::nullopt})};
  const CompareResult r = compare(from, to, options);
  EXPECT_EQ(described(r.upgrade),
            (std::vector<std::string>{"rename column 'user.about_me' to 'bio'",
                                      "alter column 'user.bio' (String(140) -> Text)"}));
  expect_reaches(from, to, r);
}

TEST(CompareRenames, the_callback_confirms_a_rename) {
  const SchemaState from = state_of({user_with_about_me()});
  std::vector<std::string> asked;
  CompareOptions options;
  options.confirm_rename = [&](const RenameCandidate& c) {
    asked.push_back(c.table + "." + c.old_name + " -> " + c.new_name);
    return true;
  };
  const CompareResult r = compare(from, {user_renamed("bio")}, options);
  EXPECT_EQ(asked, (std::vector<std::string>{"user.about_me -> bio"}));
  EXPECT_EQ(r.upgrade, (std::vector<Operation>{RenameColumnOp{"user", "about_me", "bio"}}));
  expect_reaches(from, {user_renamed("bio")}, r);
}

TEST(CompareRenames, the_callback_declines_and_gets_a_drop_and_an_add) {
  const SchemaState from = state_of({user_with_about_me()});
  CompareOptions options;
  options.confirm_rename = [](const RenameCandidate&) { return false; };
  const CompareResult r = compare(from, {user_renamed("bio")}, options);
  EXPECT_EQ(described(r.upgrade),
            (std::vector<std::string>{"drop column 'user.about_me'", "add column 'user.bio'"}));
  EXPECT_TRUE(r.unresolved.empty());
  expect_reaches(from, {user_renamed("bio")}, r);
}

TEST(CompareRenames, an_unsettled_candidate_is_returned_and_its_columns_left_alone) {
  Table from_user = user_with_about_me();
  from_user.indexes.push_back(schema::Index{"ix_user_about_me", {"about_me"}, false});
  Table to_user = user_renamed("bio");
  to_user.columns[3].nullable = false;  // password_hash: an unrelated change still shows
  to_user.indexes.push_back(schema::Index{"ix_user_bio", {"bio"}, false});
  const SchemaState from = state_of({from_user});
  const CompareResult r = compare(from, {to_user});
  ASSERT_EQ(r.unresolved.size(), 1u);
  EXPECT_EQ(r.unresolved[0].table, "user");
  EXPECT_EQ(r.unresolved[0].old_name, "about_me");
  EXPECT_EQ(r.unresolved[0].new_name, "bio");
  EXPECT_EQ(described(r.upgrade),
            (std::vector<std::string>{"alter column 'user.password_hash' (NULL -> NOT NULL)"}))
      << "no silent drop + add of a probable rename, nor of its indexes";
  SchemaState s = from;
  EXPECT_NO_THROW(s.apply(r.upgrade));
}

TEST(CompareRenames, several_candidates_are_asked_pair_by_pair) {
  Table before = table("t", {string_col("a", 10), string_col("b", 10)});
  Table after = table("t", {string_col("c", 10), string_col("d", 10)});
  std::vector<std::string> asked;
  CompareOptions options;
  options.confirm_rename = [&](const RenameCandidate& c) {
    asked.push_back(c.old_name + "->" + c.new_name);
    return (c.old_name == "a" && c.new_name == "d") || (c.old_name == "b" && c.new_name == "c");
  };
  const SchemaState from = state_of({before});
  const CompareResult r = compare(from, {after}, options);
  EXPECT_EQ(asked, (std::vector<std::string>{"a->c", "a->d", "b->c"}))
      << "a column already chosen as a rename target is not offered again";
  EXPECT_EQ(described(r.upgrade),
            (std::vector<std::string>{"rename column 't.a' to 'd'", "rename column 't.b' to 'c'"}));
  SchemaState s = from;
  s.apply(r.upgrade);
  EXPECT_TRUE(compare(s, {after}).upgrade.empty());

  const CompareResult unasked = compare(from, {after});
  std::vector<std::string> listed;
  for (const RenameCandidate& c : unasked.unresolved)
    listed.push_back(c.old_name + "->" + c.new_name);
  EXPECT_EQ(listed, (std::vector<std::string>{"a->c", "a->d", "b->c", "b->d"}))
      << "without a callback every compatible pair is listed for the user";
  EXPECT_TRUE(unasked.upgrade.empty());
}

TEST(CompareRenames, only_columns_of_the_same_type_and_nullability_are_candidates) {
  const SchemaState from = state_of({user_with_about_me()});
  const std::vector<Table> to = {user_renamed("bio", {TypeKind::text, std::nullopt})};
  const CompareResult r = compare(from, to);
  EXPECT_TRUE(r.unresolved.empty());
  EXPECT_EQ(described(r.upgrade),
            (std::vector<std::string>{"drop column 'user.about_me'", "add column 'user.bio'"}));
}

TEST(CompareRenames, renaming_a_parent_column_keeps_the_foreign_keys_that_refer_to_it) {
  Table user = user_v1();
  user.columns[0].name = "uid";
  user.primary_key.columns = {"uid"};
  Table post = post_v2();
  post.foreign_keys[0].referred_columns = {"uid"};
  const SchemaState from = state_of({user_v1(), post_v2()});
  CompareOptions options;
  options.renames = {{"user.id", "uid"}};
  const CompareResult r = compare(from, {user, post}, options);
  EXPECT_EQ(r.upgrade, (std::vector<Operation>{RenameColumnOp{"user", "id", "uid"}}));
  expect_reaches(from, {user, post}, r);
}

TEST(CompareRenames, an_already_applied_rename_is_ignored) {
  const std::vector<Table> tables = {user_renamed("bio")};
  CompareOptions options;
  options.renames = {{"user.about_me", "bio"}};
  EXPECT_TRUE(compare(state_of(tables), tables, options).upgrade.empty())
      << "a renamed_from() hint stays in the model after its migration";
}

TEST(CompareRenames, a_rename_that_does_not_fit_is_a_command_error) {
  const SchemaState from = state_of({user_with_about_me()});
  const std::vector<Table> to = {user_renamed("bio")};
  CompareOptions options;
  options.renames = {{"user.", "bio"}};
  EXPECT_EQ(command_error(from, to, options),
            "rename user. -> bio: write a rename as table.old_column:new_column");
  options.renames = {{"user.about", "bio"}};
  EXPECT_EQ(command_error(from, to, options),
            "rename user.about -> bio: table 'user' has no column 'about' in the migrations");
  options.renames = {{"user.about_me", "biography"}};
  EXPECT_EQ(command_error(from, to, options),
            "rename user.about_me -> biography: the models have no column 'user.biography'");
  options.renames = {{"users.about_me", "bio"}};
  EXPECT_EQ(command_error(from, to, options),
            "rename users.about_me -> bio: there is no table 'users' in the migrations or in "
            "the models");
}

// ---- table renames ----

// The user table under another name: its columns as they were, its indexes named by the
// convention for the new name.
Table user_as(const std::string& name) {
  Table t = user_v1();
  t.name = name;
  t.primary_key.name.clear();
  for (schema::Index& ix : t.indexes) ix.name.clear();
  return named(std::move(t));
}

// post, its foreign key referring to `parent`.
Table post_of(const std::string& parent) {
  Table t = post_v2();
  t.foreign_keys = {fk({"user_id"}, parent)};
  return named(std::move(t));
}

// What follows the rename of user to account: the names the convention gives move with it.
std::vector<std::string> names_follow_user_to_account() {
  return {"drop foreign key 'fk_post_user_id_user' on 'post'",
          "drop index 'ix_user_email' on 'account'",
          "drop index 'ix_user_username' on 'account'",
          "rename constraint 'pk_user' on 'account' to 'pk_account'",
          "create unique index 'ix_account_username' on 'account' (username)",
          "create unique index 'ix_account_email' on 'account' (email)",
          "add foreign key 'fk_post_user_id_account' on 'post' (user_id) -> 'account' (id)"};
}

// After a hand-written rename_table, the table keeps the names of its primary key and indexes
// (so does the database). Autogenerate renames the primary key (on PostgreSQL its old name
// stays taken by its index) and moves the rest; it used to stop on the primary key as a
// changed one, for good.
TEST(CompareTableRenames, after_a_hand_written_rename_the_names_follow_the_table) {
  SchemaState from = state_of({user_v1(), post_v2()});
  from.apply(RenameTableOp{"user", "account"});
  const std::vector<Table> to = {user_as("account"), post_of("account")};
  const CompareResult r = compare(from, to);
  EXPECT_EQ(described(r.upgrade), names_follow_user_to_account());
  expect_reaches(from, to, r);
}

TEST(CompareTableRenames, a_rename_given_in_options_becomes_rename_table) {
  const SchemaState from = state_of({user_v1(), post_v2()});
  const std::vector<Table> to = {user_as("account"), post_of("account")};
  CompareOptions options;
  options.renames = {{"user", "account"}};
  const CompareResult r = compare(from, to, options);
  EXPECT_TRUE(r.unresolved.empty());
  std::vector<std::string> expected = names_follow_user_to_account();
  expected.insert(expected.begin(), "rename table 'user' to 'account'");
  EXPECT_EQ(described(r.upgrade), expected)
      << "the table keeps its rows; the names the convention gives follow it";
  expect_reaches(from, to, r);
  for (const Operation& op : r.upgrade) {
    EXPECT_FALSE(is_destructive(op)) << describe(op);
  }
}

TEST(CompareTableRenames, a_table_with_the_same_columns_is_a_candidate_to_ask_about) {
  const SchemaState from = state_of({user_v1()});
  const std::vector<Table> to = {user_as("account")};
  const CompareResult unasked = compare(from, to);
  ASSERT_EQ(unasked.unresolved.size(), 1u);
  EXPECT_TRUE(unasked.unresolved[0].is_table());
  EXPECT_EQ(unasked.unresolved[0].old_name, "user");
  EXPECT_EQ(unasked.unresolved[0].new_name, "account");
  EXPECT_TRUE(unasked.upgrade.empty()) << "neither table may be dropped or created unasked";

  std::vector<RenameCandidate> asked;
  CompareOptions yes;
  yes.confirm_rename = [&](const RenameCandidate& c) {
    asked.push_back(c);
    return true;
  };
  const CompareResult renamed = compare(from, to, yes);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_TRUE(asked[0].is_table());
  ASSERT_FALSE(renamed.upgrade.empty());
  EXPECT_EQ(renamed.upgrade.front(), (Operation{RenameTableOp{"user", "account"}}));
  expect_reaches(from, to, renamed);

  CompareOptions no;
  no.confirm_rename = [](const RenameCandidate&) { return false; };
  EXPECT_EQ(described(compare(from, to, no).upgrade),
            (std::vector<std::string>{"drop table 'user'", "create table 'account'"}));
}

TEST(CompareTableRenames, only_a_table_with_the_same_columns_is_a_candidate) {
  const SchemaState from = state_of({user_v1()});
  Table account = user_as("account");
  account.columns.push_back(string_col("about_me", 140, true));
  CompareResult r = compare(from, {account});
  EXPECT_TRUE(r.unresolved.empty());
  EXPECT_EQ(described(r.upgrade),
            (std::vector<std::string>{"drop table 'user'", "create table 'account'"}));
  account = user_as("account");
  account.columns[1].type.length = 80;  // username String(80)
  r = compare(from, {account});
  EXPECT_TRUE(r.unresolved.empty());
  // Given, the rename goes with the changes after it.
  CompareOptions options;
  options.renames = {{"user", "account"}};
  r = compare(from, {account}, options);
  EXPECT_EQ(r.upgrade.front(), (Operation{RenameTableOp{"user", "account"}}));
  const std::vector<std::string> ops = described(r.upgrade);
  EXPECT_NE(std::find(ops.begin(), ops.end(),
                      "alter column 'account.username' (String(64) -> String(80))"),
            ops.end())
      << ::testing::PrintToString(ops);
}

TEST(CompareTableRenames, a_models_hint_renames_where_it_fits_and_is_ignored_elsewhere) {
  const SchemaState from = state_of({user_v1(), post_v2()});
  Table account = user_as("account");
  account.columns[3].name = "secret";  // password_hash, renamed too
  const std::vector<Table> to = {account, post_of("account")};
  CompareOptions options;
  options.rename_hints = {{"user", "account"}, {"account.password_hash", "secret"}};
  const CompareResult r = compare(from, to, options);
  EXPECT_TRUE(r.unresolved.empty());
  ASSERT_GE(r.upgrade.size(), 2u);
  EXPECT_EQ(r.upgrade[0], (Operation{RenameTableOp{"user", "account"}}));
  const std::vector<std::string> ops = described(r.upgrade);
  EXPECT_NE(std::find(ops.begin(), ops.end(), "rename column 'account.password_hash' to 'secret'"),
            ops.end())
      << ::testing::PrintToString(ops);
  SchemaState after = from;
  after.apply(r.upgrade);
  EXPECT_TRUE(compare(after, to, options).upgrade.empty())
      << "the hints stay in the models after the rename and change nothing more";
  // A hint whose old table is not in the migrations is ignored: the table is new.
  options.rename_hints = {{"member", "account"}};
  EXPECT_EQ(compare(state_of({user_v1()}), {user_v1(), account}, options).upgrade,
            (std::vector<Operation>{CreateTableOp{account}}));
  // Nor one whose old table is still in the models: 'user' keeps its rows, 'account' is new
  // (a rename would hand user's rows to account and create 'user' empty).
  options.rename_hints = {{"user", "account"}};
  EXPECT_EQ(compare(state_of({user_v1()}), {user_v1(), account}, options).upgrade,
            (std::vector<Operation>{CreateTableOp{account}}));
}

TEST(CompareTableRenames, a_given_rename_that_does_not_fit_is_a_command_error) {
  const SchemaState from = state_of({user_v1(), post_v2()});
  const std::vector<Table> to = {user_as("account"), post_of("account")};
  CompareOptions options;
  options.renames = {{"users", "account"}};
  EXPECT_EQ(command_error(from, to, options),
            "rename users -> account: there is no table 'users' in the migrations");
  options.renames = {{"user", "acct"}};
  EXPECT_EQ(command_error(from, to, options),
            "rename user -> acct: the models have no table 'acct'");
  options.renames = {{"user", "post"}};
  EXPECT_EQ(command_error(from, {user_as("account"), post_v2()}, options),
            "rename user -> post: table 'post' already exists in the migrations");
  // A table of the old name in the models is a new one, created after the rename.
  options.renames = {{"user", "account"}};
  Table new_user = named(table("user", {string_col("handle", 40)}));
  const CompareResult reused = compare(from, {new_user, user_as("account"), post_of("account")},
                                       options);
  EXPECT_EQ(reused.upgrade.front(), (Operation{RenameTableOp{"user", "account"}}));
  const std::vector<std::string> reused_ops = described(reused.upgrade);
  EXPECT_NE(std::find(reused_ops.begin(), reused_ops.end(), "create table 'user'"),
            reused_ops.end())
      << ::testing::PrintToString(reused_ops);
  expect_reaches(from, {new_user, user_as("account"), post_of("account")}, reused);
  // Already applied: only the new name, on both sides.
  SchemaState applied = from;
  applied.apply(compare(from, to, options).upgrade);
  EXPECT_TRUE(compare(applied, to, options).upgrade.empty());
}

TEST(CompareTableRenames, a_primary_key_takes_the_name_a_dropped_table_frees) {
  // user_old was renamed by hand from user and kept pk_user and its index names; member
  // becomes user, and user_old goes.
  SchemaState from = state_of({user_v1(), user_as("member")});
  from.apply(RenameTableOp{"user", "user_old"});
  CompareOptions options;
  options.renames = {{"member", "user"}};
  const CompareResult r = compare(from, {user_v1()}, options);
  EXPECT_EQ(described(r.upgrade),
            (std::vector<std::string>{
                "rename table 'member' to 'user'",
                "drop index 'ix_member_email' on 'user'",
                "drop index 'ix_member_username' on 'user'",
                "drop table 'user_old'",
                "rename constraint 'pk_member' on 'user' to 'pk_user'",
                "create unique index 'ix_user_username' on 'user' (username)",
                "create unique index 'ix_user_email' on 'user' (email)"}));
  expect_reaches(from, {user_v1()}, r);
}

TEST(CompareTableRenames, an_unsettled_table_rename_plans_nothing_else) {
  // org goes; the candidate user -> account refers to it. Planning the rest first used to
  // fail on the drop of org (user still referred to it).
  Table org = named(table("org", {string_col("name", 40)}));
  Table user = user_v1();
  user.columns.push_back(int_col("org_id"));
  user.foreign_keys = {fk({"org_id"}, "org")};
  user = named(std::move(user));
  Table account = user_as("account");
  account.columns.push_back(int_col("org_id"));
  const SchemaState from = state_of({org, user});
  const CompareResult r = compare(from, {account});
  ASSERT_EQ(r.unresolved.size(), 1u);
  EXPECT_TRUE(r.unresolved[0].is_table());
  EXPECT_TRUE(r.upgrade.empty());
}

TEST(Compare, a_foreign_key_is_dropped_and_added_again_around_the_unique_index_it_needs) {
  // parent.code: a unique index becomes a unique constraint; child refers to parent(code).
  // PostgreSQL ties the key to the index, so the key goes first and comes back last.
  Table parent = table("parent", {string_col("code", 8)});
  parent.indexes = {index_on({"code"}, true)};
  parent = named(std::move(parent));
  Table child = table("child", {string_col("parent_code", 8)});
  child.foreign_keys = {fk({"parent_code"}, "parent", {"code"})};
  child = named(std::move(child));
  const SchemaState from = state_of({parent, child});
  Table parent_after = table("parent", {string_col("code", 8)});
  parent_after.uniques = {schema::UniqueConstraint{"", {"code"}}};
  parent_after = named(std::move(parent_after));
  const CompareResult r = compare(from, {parent_after, child});
  EXPECT_EQ(described(r.upgrade),
            (std::vector<std::string>{
                "drop foreign key 'fk_child_parent_code_parent' on 'child'",
                "drop index 'ix_parent_code' on 'parent'",
                "add unique constraint 'uq_parent_code' on 'parent' (code)",
                "add foreign key 'fk_child_parent_code_parent' on 'child' (parent_code) -> "
                "'parent' (code)"}));
  expect_reaches(from, {parent_after, child}, r);
}

// ---- the microblog, v1 to v5 ----

TEST(CompareMicroblog, each_version_produces_the_expected_operations) {
  SchemaState state;
  auto step = [&](const std::vector<Table>& to, const CompareOptions& options = {}) {
    const CompareResult r = compare(state, to, options);
    EXPECT_TRUE(r.unresolved.empty());
    state = expect_reaches(state, to, r);
    return described(r.upgrade);
  };

  EXPECT_EQ(step({user_v1()}), (std::vector<std::string>{"create table 'user'"}));
  EXPECT_EQ(step({user_v1(), post_v2()}), (std::vector<std::string>{"create table 'post'"}));
  EXPECT_EQ(
      step({user_v3(), post_v2()}),
      (std::vector<std::string>{"add column 'user.about_me'", "add column 'user.last_seen'"}));
  EXPECT_EQ(step({user_v3(), post_v2(), followers_v4()}),
            (std::vector<std::string>{"create table 'followers'"}));

  const std::vector<Table> v5 = {user_v5(), post_v5(), followers_v4()};
  const CompareResult unasked = compare(state, v5);
  ASSERT_EQ(unasked.unresolved.size(), 1u) << "about_me -> bio must be asked, not guessed";
  EXPECT_EQ(unasked.unresolved[0].old_name, "about_me");
  EXPECT_EQ(unasked.unresolved[0].new_name, "bio");

  CompareOptions options;
  options.renames = {{"user.about_me", "bio"}};
  EXPECT_EQ(step(v5, options),
            (std::vector<std::string>{
                "drop column 'user.last_seen'",
                "rename column 'user.about_me' to 'bio'",
                "alter column 'user.password_hash' (NULL -> NOT NULL)",
                "alter column 'post.body' (String(140) -> String(280))",
                "add unique constraint 'uq_post_user_id_timestamp' on 'post' (user_id, timestamp)",
            }));
  EXPECT_EQ(state, state_of(v5));
  EXPECT_EQ(state.find("user")->columns, user_v5().columns) << "columns in the model's order";
}

TEST(CompareMicroblog, the_v5_migration_marks_its_destructive_operations) {
  const SchemaState v4 = state_of({user_v3(), post_v2(), followers_v4()});
  CompareOptions options;
  options.renames = {{"user.about_me", "bio"}};
  const CompareResult r = compare(v4, {user_v5(), post_v5(), followers_v4()}, options);
  std::vector<std::string> destructive;
  std::vector<std::string> risky;
  for (const Operation& op : r.upgrade) {
    if (is_destructive(op)) destructive.push_back(std::string(kind_name(op)));
    if (is_risky(op)) risky.push_back(std::string(kind_name(op)));
  }
  EXPECT_EQ(destructive, (std::vector<std::string>{"drop_column", "alter_column"}));
  EXPECT_EQ(risky, (std::vector<std::string>{"alter_column", "add_unique"}));
}

}  // namespace
}  // namespace strata::migrate
