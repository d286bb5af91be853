// optimize(): a chain's operations as fewer with the same effect, and the pairs it must not
// join.
#include "strata/migrate/squash.hpp"

#include <gtest/gtest.h>

#include "unit/migrate/op_fixtures.hpp"

namespace strata::migrate {
namespace {

using namespace testing;

SchemaState fold(SchemaState s, const std::vector<Operation>& ops) {
  s.apply(ops);
  return s;
}

// optimize(start, ops), checked to leave the schema ops leave.
std::vector<Operation> optimized(const SchemaState& start, const std::vector<Operation>& ops) {
  auto out = optimize(start, ops);
  EXPECT_EQ(fold(start, out), fold(start, ops));
  return out;
}

Column with(Column c, bool nullable) {
  c.nullable = nullable;
  return c;
}

TEST(Optimize, folds_a_history_of_new_tables_into_their_creation) {
  const Table user = user_v1();
  Column hash_required = user.columns[3];
  hash_required.nullable = false;
  Column post_body = post_v2().columns[1];
  Column longer_body = post_body;
  longer_body.type.length = 280;
  const std::vector<Operation> history = {
      CreateTableOp{user},
      CreateTableOp{post_v2()},
      AddColumnOp{"user", string_col("about_me", 140, true), std::nullopt},
      AddColumnOp{"user", typed_col("last_seen", TypeKind::datetime), std::nullopt},
      CreateTableOp{followers_v4()},
      AlterColumnOp{"user", user.columns[3], hash_required},
      RenameColumnOp{"user", "about_me", "bio"},
      DropColumnOp{"user", typed_col("last_seen", TypeKind::datetime), 5},
      AlterColumnOp{"post", post_body, longer_body},
      AddUniqueOp{"post", post_v5().uniques[0]},
  };
  const auto out = optimized(SchemaState{}, history);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(std::get<CreateTableOp>(out[0]).table, canonical(user_v5()));
  EXPECT_EQ(std::get<CreateTableOp>(out[1]).table, canonical(post_v5()));
  EXPECT_EQ(canonical(std::get<CreateTableOp>(out[2]).table), canonical(followers_v4()));
}

TEST(Optimize, joins_nothing_across_an_execute_or_a_call) {
  Column score = int_col("score");
  score.server_default = "0";
  const std::vector<Operation> ops = {
      CreateTableOp{named(table("tag", {string_col("label", 32)}))},
      ExecuteOp{{{"*", "INSERT INTO tag (label) VALUES ('a')"}}, {}, false},
      AddColumnOp{"tag", score, std::nullopt},
      CallOp{"fill", ""},
      DropColumnOp{"tag", score, 2},
  };
  EXPECT_EQ(optimized(SchemaState{}, ops), ops);
}

TEST(Optimize, cancels_what_an_existing_table_gains_and_loses_again) {
  const SchemaState start = state_of({user_v1(), post_v2()});
  const Column nick = string_col("nick", 32, true);
  const schema::Index ix{"ix_user_nick", {"nick"}, false};
  EXPECT_TRUE(optimized(start, {AddColumnOp{"user", nick, std::nullopt},
                                CreateIndexOp{"user", ix},
                                DropIndexOp{"user", ix},
                                DropColumnOp{"user", nick, 4}})
                  .empty());
  // Added, then renamed: added under its new name.
  const auto renamed = optimized(start, {AddColumnOp{"user", nick, std::nullopt},
                                         RenameColumnOp{"user", "nick", "handle"}});
  ASSERT_EQ(renamed.size(), 1u);
  EXPECT_EQ(std::get<AddColumnOp>(renamed[0]).column.name, "handle");
  // An index dropped and made again as it was is no change; made on other columns, it is.
  const schema::Index by_time = post_v2().indexes[0];
  EXPECT_TRUE(optimized(start, {DropIndexOp{"post", by_time}, CreateIndexOp{"post", by_time}})
                  .empty());
  schema::Index other = by_time;
  other.columns = {"body"};
  EXPECT_EQ(optimized(start, {DropIndexOp{"post", by_time}, CreateIndexOp{"post", other}}).size(),
            2u);
}

// A constraint added not valid and then validated is, in one migration, the add that checks
// its rows; on a table created in the same history it is part of the creation.
TEST(Optimize, a_constraint_added_not_valid_then_validated_is_one_plain_add) {
  const Table post = post_v2();
  Table bare = post;
  bare.foreign_keys.clear();
  const schema::ForeignKey fk = post.foreign_keys[0];
  const schema::CheckConstraint check{"ck_post_body_len", "length(body) > 0"};
  const SchemaState start = state_of({user_v1(), bare});
  EXPECT_EQ(optimized(start, {AddForeignKeyOp{"post", fk, true},
                              ValidateConstraintOp{"post", fk.name},
                              AddCheckOp{"post", check, true},
                              ValidateConstraintOp{"post", check.name}}),
            (std::vector<Operation>{AddForeignKeyOp{"post", fk}, AddCheckOp{"post", check}}));
  // Not yet validated: it stays not valid.
  const std::vector<Operation> only_added = {AddForeignKeyOp{"post", fk, true}};
  EXPECT_EQ(optimized(start, only_added), only_added);
  const auto created = optimized(state_of({user_v1()}),
                                 {CreateTableOp{bare}, AddForeignKeyOp{"post", fk, true},
                                  ValidateConstraintOp{"post", fk.name}});
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(canonical(std::get<CreateTableOp>(created[0]).table), canonical(post));
}

TEST(Optimize, joins_changes_of_a_column_unless_both_cast_it) {
  const SchemaState start = state_of({user_v1()});
  const Column email = user_v1().columns[2];  // String(120), NOT NULL
  Column wider = email;
  wider.type.length = 254;
  Column text = email;
  text.type = {TypeKind::text, std::nullopt};
  // Wider, then nullable: one change.
  const auto joined =
      optimized(start, {AlterColumnOp{"user", email, wider},
                        AlterColumnOp{"user", wider, with(wider, true)}});
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_EQ(std::get<AlterColumnOp>(joined[0]), (AlterColumnOp{"user", email, with(wider, true)}));
  // There and back: nothing.
  EXPECT_TRUE(optimized(start, {AlterColumnOp{"user", email, with(email, true)},
                                AlterColumnOp{"user", with(email, true), email}})
                  .empty());
  // Two casts stay two.
  EXPECT_EQ(
      optimized(start, {AlterColumnOp{"user", email, wider}, AlterColumnOp{"user", wider, text}})
          .size(),
      2u);
  // A change, then a drop: the drop, of the column as it was.
  const Column hash = user_v1().columns[3];
  Column longer = hash;
  longer.type.length = 300;
  const auto dropped =
      optimized(start, {AlterColumnOp{"user", hash, longer}, DropColumnOp{"user", longer, 3}});
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(std::get<DropColumnOp>(dropped[0]), (DropColumnOp{"user", hash, 3}));
}

TEST(Optimize, keeps_an_added_column_apart_from_a_change_its_rows_would_see) {
  const SchemaState start = state_of({user_v1()});
  const Column karma = int_col("karma", true);
  Column karma_default = karma;
  karma_default.server_default = "0";
  // ADD COLUMN ... DEFAULT 0 fills the rows; ADD COLUMN then SET DEFAULT leaves them NULL.
  EXPECT_EQ(optimized(start, {AddColumnOp{"user", karma, std::nullopt},
                              AlterColumnOp{"user", karma, karma_default}})
                .size(),
            2u);
  // SQLite cannot add a NOT NULL column without a default, even to an empty table.
  EXPECT_EQ(optimized(start, {AddColumnOp{"user", karma, std::nullopt},
                              AlterColumnOp{"user", karma, with(karma, false)}})
                .size(),
            2u);
  // Made nullable: the same rows.
  const auto relaxed = optimized(start, {AddColumnOp{"user", karma_default, std::nullopt},
                                         AlterColumnOp{"user", karma_default,
                                                       with(karma_default, true)}});
  ASSERT_EQ(relaxed.size(), 1u);
}

TEST(Optimize, drops_tables_created_and_dropped_in_the_order_their_keys_need) {
  Table a = named(table("a", {string_col("name", 20)}));
  Table b = named(table("b", {int_col("a_id")}));
  b.foreign_keys = {fk({"a_id"}, "a")};
  b = named(b);
  EXPECT_TRUE(optimized(SchemaState{}, {CreateTableOp{a}, CreateTableOp{b}, DropTableOp{b},
                                        DropTableOp{a}})
                  .empty());
}

TEST(Optimize, moves_an_operation_only_past_others_on_other_tables) {
  const SchemaState start = state_of({user_v1()});
  const Table tag = named(table("tag", {string_col("label", 32)}));
  const auto out = optimized(start, {CreateTableOp{tag},
                                     AddColumnOp{"user", string_col("nick", 32, true), std::nullopt},
                                     AddColumnOp{"tag", int_col("uses", true), std::nullopt}});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(std::get<CreateTableOp>(out[0]).table.columns.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<AddColumnOp>(out[1]));
  // A foreign key to a table created after: the key cannot move into the first creation.
  Table a = named(table("a", {int_col("b_id", true)}));
  Table b = named(table("b"));
  schema::ForeignKey to_b = fk({"b_id"}, "b");
  to_b.name = "fk_a_b_id_b";
  const std::vector<Operation> cycle = {CreateTableOp{a}, CreateTableOp{b},
                                        AddForeignKeyOp{"a", to_b}};
  const auto kept = optimized(SchemaState{}, cycle);
  EXPECT_EQ(kept.size(), 2u);  // b's creation, then a's with the key
  SchemaState s;
  EXPECT_NO_THROW(s.apply(kept));
}

TEST(Optimize, joins_renames_and_a_drop_takes_in_what_came_before) {
  const SchemaState start = state_of({user_v1(), named(table("tag", {string_col("label", 32)}))});
  const auto chained =
      optimized(start, {RenameTableOp{"tag", "label"}, RenameTableOp{"label", "keyword"}});
  ASSERT_EQ(chained.size(), 1u);
  EXPECT_EQ(std::get<RenameTableOp>(chained[0]), (RenameTableOp{"tag", "keyword"}));
  EXPECT_TRUE(
      optimized(start, {RenameColumnOp{"user", "email", "mail"}, RenameColumnOp{"user", "mail", "email"}})
          .empty());
  // A downgrade's shape: a column dropped, then its table.
  const Table tag = *start.find("tag");
  const auto dropped = optimized(start, {DropColumnOp{"tag", tag.columns[1], 1},
                                         DropTableOp{named(table("tag"))}});
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(std::get<DropTableOp>(dropped[0]).table, tag);
}

TEST(Optimize, keeps_a_table_and_an_index_of_one_name_apart) {
  // On PostgreSQL tables and indexes share one namespace: with the renames joined after the
  // index is made, RENAME TABLE r TO q would come after CREATE INDEX r while r is a table.
  const Table q = named(table("q"));
  const SchemaState start = state_of({named(table("r")), named(table("tt")), q});
  const std::vector<Operation> ops = {RenameTableOp{"r", "s"},
                                      CreateIndexOp{"tt", schema::Index{"r", {"id"}, false}},
                                      DropTableOp{q}, RenameTableOp{"s", "q"}};
  EXPECT_EQ(optimized(start, ops), ops);
}

TEST(Optimize, returns_operations_that_do_not_fold_unchanged) {
  const std::vector<Operation> ops = {AddColumnOp{"nowhere", int_col("x", true), std::nullopt},
                                      DropColumnOp{"nowhere", int_col("x", true), 1}};
  EXPECT_EQ(optimize(SchemaState{}, ops), ops);
}

}  // namespace
}  // namespace strata::migrate
