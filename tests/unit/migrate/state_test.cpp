// The fold: SchemaState::apply of every operation kind, the round trip apply(op) then
// apply(reverse(op)), the rewriting done by renames, and the StateError of each bad operation.
#include "strata/migrate/state.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "strata/migrate/errors.hpp"
#include "strata/migrate/ops.hpp"

#include "unit/migrate/op_fixtures.hpp"

namespace strata::migrate {
namespace {

using namespace testing;

std::string state_error(SchemaState& s, const Operation& op) {
  const SchemaState before = s;
  try {
    s.apply(op);
  } catch (const StateError& e) {
    EXPECT_EQ(s, before) << "a failed apply must leave the state unchanged: " << describe(op);
    return e.what();
  }
  return "(no StateError)";
}

std::vector<std::string> column_names(const Table& t) {
  std::vector<std::string> out;
  for (const Column& c : t.columns) out.push_back(c.name);
  return out;
}

std::vector<std::string> table_names(const SchemaState& s) {
  std::vector<std::string> out;
  for (const Table& t : s.tables()) out.push_back(t.name);
  return out;
}

// ---- the round trip ----

TEST(Fold, apply_then_apply_reverse_restores_the_state_for_every_kind) {
  const SchemaState base = state_of(base_tables());
  for (const Operation& op : one_of_each_kind()) {
    SchemaState s = base;
    s.apply(op);
    const bool changes_schema = !std::holds_alternative<ExecuteOp>(op) &&
                                !std::holds_alternative<CallOp>(op) &&
                                !std::holds_alternative<ValidateConstraintOp>(op);
    EXPECT_EQ(s != base, changes_schema) << describe(op);
    s.apply(reverse(op));
    EXPECT_EQ(s, base) << "apply then apply reverse must restore the state exactly: "
                       << describe(op);
  }
}

TEST(Fold, a_dropped_middle_column_comes_back_in_the_middle) {
  SchemaState s = state_of(base_tables());
  const Table tag = *s.find("tag");
  const DropColumnOp drop{"tag", tag.columns[1], 1};
  s.apply(drop);
  EXPECT_EQ(column_names(*s.find("tag")), (std::vector<std::string>{"id", "uses"}));
  s.apply(reverse(drop));
  EXPECT_EQ(column_names(*s.find("tag")), (std::vector<std::string>{"id", "label", "uses"}));
  EXPECT_EQ(*s.find("tag"), tag);
}

TEST(Fold, a_dropped_and_recreated_table_compares_equal_whatever_the_order) {
  const std::vector<Table> tables = base_tables();
  EXPECT_EQ(state_of({tables[0], tables[1], tables[2]}),
            state_of({tables[2], tables[0], tables[1]}));
  EXPECT_EQ(table_names(state_of(tables)), (std::vector<std::string>{"post", "tag", "user"}));
}

TEST(Fold, keeps_indexes_and_constraints_sorted_by_name) {
  Table user = user_v1();  // ix_user_username declared before ix_user_email
  const SchemaState s = state_of({user});
  ASSERT_EQ(s.find("user")->indexes.size(), 2u);
  EXPECT_EQ(s.find("user")->indexes[0].name, "ix_user_email");
  EXPECT_EQ(*s.find("user"), canonical(user));
}

// ---- what each kind does ----

TEST(Fold, add_column_appends_or_inserts_at_its_position) {
  SchemaState s = state_of({user_v1()});
  s.apply(AddColumnOp{"user", string_col("bio", 140, true), std::nullopt});
  s.apply(AddColumnOp{"user", string_col("name", 40, true), 1});
  EXPECT_EQ(column_names(*s.find("user")),
            (std::vector<std::string>{"id", "name", "username", "email", "password_hash", "bio"}));
}

TEST(Fold, rename_table_rewrites_the_foreign_keys_that_refer_to_it) {
  SchemaState s = state_of({user_v1(), post_v2(), followers_v4()});
  s.apply(RenameTableOp{"user", "account"});
  EXPECT_EQ(s.find("user"), nullptr);
  ASSERT_NE(s.find("account"), nullptr);
  EXPECT_EQ(s.find("post")->foreign_keys[0].referred_table, "account");
  for (const schema::ForeignKey& f : s.find("followers")->foreign_keys) {
    EXPECT_EQ(f.referred_table, "account");
  }
  EXPECT_EQ(table_names(s), (std::vector<std::string>{"account", "followers", "post"}));
}

TEST(Fold, rename_column_rewrites_keys_indexes_and_references_from_other_tables) {
  SchemaState s = state_of({user_v1(), post_v5()});
  s.apply(RenameColumnOp{"post", "user_id", "author_id"});
  s.apply(RenameColumnOp{"user", "id", "user_id"});
  const Table& post = *s.find("post");
  EXPECT_EQ(post.columns[3].name, "author_id");
  EXPECT_EQ(post.foreign_keys[0].columns, (std::vector<std::string>{"author_id"}));
  EXPECT_EQ(post.foreign_keys[0].referred_columns, (std::vector<std::string>{"user_id"}))
      << "a renamed parent column must be renamed in the children's foreign keys";
  EXPECT_EQ(post.uniques[0].columns, (std::vector<std::string>{"author_id", "timestamp"}));
  EXPECT_EQ(post.indexes[1].columns, (std::vector<std::string>{"author_id"}));
  EXPECT_EQ(post.foreign_keys[0].name, "fk_post_user_id_user") << "names are not rewritten";
  EXPECT_EQ(s.find("user")->primary_key.columns, (std::vector<std::string>{"user_id"}));
}

TEST(Fold, rename_column_rewrites_check_conditions_as_the_database_does) {
  Table t;
  t.name = "item";
  t.columns = {Column{"id", {schema::TypeKind::integer, {}}, false, true, true, {}},
               Column{"qty", {schema::TypeKind::integer, {}}, false, false, false, {}},
               Column{"qty_max", {schema::TypeKind::integer, {}}, false, false, false, {}}};
  t.primary_key = {"pk_item", {"id"}};
  t.checks = {{"ck_item_qty", "qty > 0 AND QTY <= qty_max AND item.qty <> 7"},
              {"ck_item_label", "'qty' <> other.qty AND \"qty\" IS NOT NULL"}};
  SchemaState s = state_of({t});
  s.apply(RenameColumnOp{"item", "qty", "count"});
  auto condition = [&](std::string_view name) {
    for (const auto& ck : s.find("item")->checks)
      if (ck.name == name) return ck.sqltext;
    return std::string("(missing)");
  };
  EXPECT_EQ(condition("ck_item_qty"), "count > 0 AND count <= qty_max AND item.count <> 7");
  EXPECT_EQ(condition("ck_item_label"), "'qty' <> other.qty AND \"count\" IS NOT NULL")
      << "string literals and other tables' columns are not the renamed column (and a quoted "
         "name stays quoted, as SQLite writes it)";
  s.apply(RenameColumnOp{"item", "count", "Count"});
  EXPECT_EQ(condition("ck_item_qty"),
            "\"Count\" > 0 AND \"Count\" <= qty_max AND item.\"Count\" <> 7");
  // A keyword of SQLite or PostgreSQL is quoted, or the condition would not parse.
  s.apply(RenameColumnOp{"item", "Count", "order"});
  EXPECT_EQ(condition("ck_item_qty"),
            "\"order\" > 0 AND \"order\" <= qty_max AND item.\"order\" <> 7");
  s.apply(RenameColumnOp{"item", "order", "system_user"});
  EXPECT_EQ(condition("ck_item_label"), "'qty' <> other.qty AND \"system_user\" IS NOT NULL");
}

// The dialects write bare only [a-z_][a-z0-9_]* (sql::is_lower_identifier); the state took `$`
// and bytes past ASCII for plain too, so its check read qty$1 >= 0 where the database, renamed
// by RENAME COLUMN qty TO "qty$1", held "qty$1" >= 0, and db check reported it.
TEST(Fold, rename_column_quotes_a_new_name_in_a_check_as_the_dialects_do) {
  Table t;
  t.name = "item";
  t.columns = {Column{"id", {schema::TypeKind::integer, {}}, false, true, true, {}},
               Column{"qty", {schema::TypeKind::integer, {}}, false, false, false, {}}};
  t.primary_key = {"pk_item", {"id"}};
  t.checks = {{"ck_item_qty", "qty >= 0"}};
  SchemaState s = state_of({t});
  s.apply(RenameColumnOp{"item", "qty", "qty$1"});
  EXPECT_EQ(s.find("item")->checks.at(0).sqltext, "\"qty$1\" >= 0");
  s.apply(RenameColumnOp{"item", "qty$1", "größe"});
  EXPECT_EQ(s.find("item")->checks.at(0).sqltext, "\"größe\" >= 0");
  s.apply(RenameColumnOp{"item", "größe", "qty_2"});
  EXPECT_EQ(s.find("item")->checks.at(0).sqltext, "\"qty_2\" >= 0")
      << "quoted where it was quoted, as SQLite writes it";
}

// PostgreSQL cuts a name past 63 bytes short, so a migration that gives one is refused before
// it runs, on every backend; a history already applied (replay) still folds.
TEST(Fold, a_name_longer_than_63_bytes_is_refused_when_run_and_taken_when_replayed) {
  const std::string long_name(64, 'n');
  const std::string limit(63, 'n');
  SchemaState s = state_of({user_v1()});
  auto refused = [&](const Operation& op, const std::string& what) {
    const std::string error = state_error(s, op);
    EXPECT_NE(error.find(what + " name '" + long_name +
                         "' is 64 bytes long, past the limit of 63 bytes"),
              std::string::npos)
        << error;
  };
  refused(CreateIndexOp{"user", {long_name, {"id"}, false}}, "index");
  refused(AddColumnOp{"user", typed_col(long_name, schema::TypeKind::integer), std::nullopt},
          "column");
  refused(RenameColumnOp{"user", "id", long_name}, "column");
  refused(RenameTableOp{"user", long_name}, "table");
  refused(AddUniqueOp{"user", {long_name, {"id"}}}, "unique constraint");
  refused(AddCheckOp{"user", {long_name, "id > 0"}}, "check constraint");
  refused(RenameConstraintOp{"user", "pk_user", long_name}, "constraint");
  Table wide = named(user_v1());
  wide.name = "wide";
  wide.columns.push_back(typed_col(long_name, schema::TypeKind::integer));
  refused(CreateTableOp{wide}, "column");

  const std::size_t indexes = s.find("user")->indexes.size();
  s.apply(CreateIndexOp{"user", {limit, {"id"}, false}});
  EXPECT_EQ(s.find("user")->indexes.size(), indexes + 1) << "63 bytes are taken";
  s.set_checks(SchemaState::Checks::replay);
  s.apply(CreateIndexOp{"user", {long_name, {"id"}, false}});
  EXPECT_EQ(s.find("user")->indexes.size(), indexes + 2) << "a history already applied folds";
}

TEST(Fold, rename_column_leaves_a_function_of_the_same_name_alone) {
  Table t;
  t.name = "item";
  t.columns = {Column{"id", {schema::TypeKind::integer, {}}, false, true, true, {}},
               Column{"length", {schema::TypeKind::integer, {}}, false, false, false, {}},
               Column{"name", {schema::TypeKind::text, {}}, false, false, false, {}}};
  t.primary_key = {"pk_item", {"id"}};
  t.checks = {{"ck_item_length", "length(name) > 0 AND length > 0 AND LENGTH (name) < 9"}};
  SchemaState s = state_of({t});
  s.apply(RenameColumnOp{"item", "length", "size"});
  EXPECT_EQ(s.find("item")->checks.at(0).sqltext,
            "length(name) > 0 AND size > 0 AND LENGTH (name) < 9");
}

TEST(Fold, a_type_named_like_a_column_is_neither_renamed_nor_a_use_of_it) {
  Table t;
  t.name = "item";
  t.columns = {Column{"id", {schema::TypeKind::integer, {}}, false, true, true, {}},
               Column{"date", {schema::TypeKind::text, {}}, true, false, false, {}},
               Column{"made", {schema::TypeKind::text, {}}, true, false, false, {}}};
  t.primary_key = {"pk_item", {"id"}};
  t.checks = {{"ck_item_made", "CAST(made AS date) > '2020-01-01' AND made::date < '2100-01-01'"},
              {"ck_item_date", "date <> '' AND CAST(date as DATE) IS NOT NULL"}};
  const SchemaState start = state_of({t});
  SchemaState s = start;
  s.apply(RenameColumnOp{"item", "date", "day"});
  auto condition = [&](const std::string& name) {
    for (const auto& ck : s.find("item")->checks)
      if (ck.name == name) return ck.sqltext;
    return std::string("(none)");
  };
  EXPECT_EQ(condition("ck_item_made"), t.checks[0].sqltext);
  EXPECT_EQ(condition("ck_item_date"), "day <> '' AND CAST(day as DATE) IS NOT NULL");
  // Dropping the column named like the type: ck_item_made does not use it.
  s = start;
  s.apply(DropCheckOp{"item", t.checks[1]});
  EXPECT_NO_THROW(s.apply(DropColumnOp{"item", t.columns[1], 1}));
}

// PostgreSQL dropped such a check with the column, silently; SQLite's rebuild refused the
// table. Refused now; a history that did it on PostgreSQL replays as it ran there.
TEST(Fold, a_column_a_check_names_is_dropped_only_with_the_check_or_in_a_replay) {
  Table t;
  t.name = "item";
  t.columns = {Column{"id", {schema::TypeKind::integer, {}}, false, true, true, {}},
               Column{"qty", {schema::TypeKind::integer, {}}, true, false, false, {}},
               Column{"name", {schema::TypeKind::text, {}}, true, false, false, {}}};
  t.primary_key = {"pk_item", {"id"}};
  t.checks = {{"ck_item_qty", "qty > 0"}, {"ck_item_name", "length(name) > 0"}};
  const SchemaState start = state_of({t});
  SchemaState s = start;
  const DropColumnOp drop{"item", t.columns[1], 1};
  EXPECT_EQ(state_error(s, drop),
            "drop column 'item.qty': the column is used by check constraint 'ck_item_qty'; "
            "drop that first");
  s.apply(DropCheckOp{"item", t.checks[0]});
  EXPECT_NO_THROW(s.apply(drop));
  SchemaState replayed = start;
  replayed.set_checks(SchemaState::Checks::replay);
  EXPECT_NO_THROW(replayed.apply(drop));
  EXPECT_EQ(replayed, s) << "the replay took the check with the column";
  // and a later drop of a check by its name reads the replayed state's own text
  replayed.apply(DropCheckOp{"item", {"ck_item_name", "length(other) > 0"}});
  EXPECT_TRUE(replayed.find("item")->checks.empty());
}

TEST(Fold, alter_column_replaces_the_definition) {
  SchemaState s = state_of({post_v2()});
  const Column before = s.find("post")->columns[1];
  Column after = before;
  after.type.length = 280;
  s.apply(AlterColumnOp{"post", before, after});
  EXPECT_EQ(s.find("post")->columns[1], after);
}

TEST(Fold, execute_and_call_leave_the_state_as_it_is) {
  SchemaState s = state_of(base_tables());
  const SchemaState before = s;
  s.apply(ExecuteOp{{{"*", "DROP TABLE user"}}, {}, true});
  s.apply(CallOp{"anything", ""});
  EXPECT_EQ(s, before);
}

TEST(Fold, a_table_that_refers_to_itself_can_be_dropped) {
  Table node = table("node", {int_col("parent_id", true)});
  node.foreign_keys = {fk({"parent_id"}, "node")};
  SchemaState s = state_of({named(std::move(node))});
  EXPECT_NO_THROW(s.apply(DropTableOp{*s.find("node")}));
  EXPECT_EQ(s.find("node"), nullptr);
}

// ---- StateError for operations that do not fit ----

TEST(FoldErrors, tables_that_exist_or_do_not) {
  SchemaState s = state_of({user_v1()});
  EXPECT_EQ(state_error(s, CreateTableOp{user_v1()}),
            "create table 'user': table 'user' already exists");
  EXPECT_EQ(state_error(s, DropTableOp{post_v2()}), "drop table 'post': there is no table 'post'");
  EXPECT_EQ(state_error(s, RenameTableOp{"users", "people"}),
            "rename table 'users' to 'people': there is no table 'users'");
  s.apply(CreateTableOp{post_v2()});
  EXPECT_EQ(state_error(s, RenameTableOp{"user", "post"}),
            "rename table 'user' to 'post': table 'post' already exists");
}

TEST(FoldErrors, drop_table_must_carry_the_table_as_the_state_has_it) {
  SchemaState s = state_of({user_v3()});
  EXPECT_EQ(state_error(s, DropTableOp{user_v1()}),
            "drop table 'user': the definition the operation carries differs from the state's "
            "table (the state has 6 columns and the operation 4); the operation does not fit "
            "this schema");
}

// On SQLite with foreign keys on, DROP TABLE deletes the rows first, so the posts of an
// ON DELETE CASCADE foreign key would silently go with the users; PostgreSQL refuses.
TEST(FoldErrors, a_table_that_another_table_refers_to_cannot_be_dropped) {
  SchemaState s = state_of({user_v1(), post_v2()});
  EXPECT_EQ(state_error(s, DropTableOp{user_v1()}),
            "drop table 'user': foreign key 'fk_post_user_id_user' of table 'post' refers to it; "
            "drop that foreign key (or table 'post') first");
  s.apply(DropTableOp{*s.find("post")});
  EXPECT_NO_THROW(s.apply(DropTableOp{user_v1()})) << "once nothing refers to it, it can go";
}

// A history written before the check above (and applied then, on SQLite) still folds when it
// is replayed: ScriptDirectory::state_at rebuilds the state with Checks::replay.
TEST(Fold, a_replayed_history_may_have_dropped_what_a_foreign_key_refers_to) {
  SchemaState s = state_of({user_v1(), post_v2()});
  s.set_checks(SchemaState::Checks::replay);
  EXPECT_NO_THROW(s.apply(DropTableOp{user_v1()}));
  s.set_checks(SchemaState::Checks::run);
  EXPECT_EQ(s.find("user"), nullptr);
}

TEST(FoldErrors, create_table_checks_names_and_columns) {
  SchemaState s = state_of({user_v1()});
  Table t = table("x", {int_col("a"), int_col("a")});
  EXPECT_EQ(state_error(s, CreateTableOp{t}), "create table 'x': two columns are named 'a'");
  t = table("x", {int_col("a")});
  t.indexes = {index_on({"a"})};
  EXPECT_EQ(state_error(s, CreateTableOp{t}),
            "create table 'x': the table has an unnamed index; every constraint and index is "
            "named (by the naming convention when the model gives none)");
  t.indexes = {schema::Index{"ix_user_email", {"a"}, false}};
  EXPECT_EQ(state_error(s, CreateTableOp{t}),
            "create table 'x': table 'user' already has an index named 'ix_user_email'; index "
            "names are database-wide");
  t.indexes = {schema::Index{"ix_x_b", {"b"}, false}};
  EXPECT_EQ(state_error(s, CreateTableOp{t}),
            "create table 'x': the index 'ix_x_b' names column 'b', which table 'x' does not have");
}

TEST(FoldErrors, add_column_that_exists_or_is_a_primary_key) {
  SchemaState s = state_of({user_v1()});
  EXPECT_EQ(state_error(s, AddColumnOp{"user", string_col("email", 120), {}}),
            "add column 'user.email': table 'user' already has column 'email'");
  Column key = int_col("uid");
  key.primary_key = true;
  EXPECT_EQ(state_error(s, AddColumnOp{"user", key, {}}),
            "add column 'user.uid': adding a primary key column is not supported; create a new "
            "table with the primary key and copy the rows with an execute operation");
  EXPECT_EQ(state_error(s, AddColumnOp{"user", int_col("n"), 9}),
            "add column 'user.n' at position 9: position 9 is past the end of table 'user', "
            "which has 4 columns");
  EXPECT_EQ(state_error(s, AddColumnOp{"usr", int_col("n"), {}}),
            "add column 'usr.n': there is no table 'usr'");
}

TEST(FoldErrors, drop_column_that_is_missing_in_use_or_differs) {
  SchemaState s = state_of({user_v1()});
  const Table& user = *s.find("user");
  EXPECT_EQ(state_error(s, DropColumnOp{"user", string_col("emal", 120), {}}),
            "drop column 'user.emal': table 'user' has no column 'emal'");
  EXPECT_EQ(state_error(s, DropColumnOp{"user", user.columns[2], 2}),
            "drop column 'user.email': the column is used by index 'ix_user_email'; drop that "
            "first");
  EXPECT_EQ(state_error(s, DropColumnOp{"user", user.columns[0], 0}),
            "drop column 'user.id': the column is part of the primary key; dropping a primary "
            "key column is not supported");
  EXPECT_EQ(state_error(s, DropColumnOp{"user", user.columns[3], 1}),
            "drop column 'user.password_hash': the column is at position 3, not 1 as the "
            "operation records");
  EXPECT_EQ(state_error(s, DropColumnOp{"user", string_col("password_hash", 128, true), 3}),
            "drop column 'user.password_hash': the state's column is String(256) NULL but the "
            "operation carries String(128) NULL; the operation does not fit this schema");
}

// SQLite drops such a column natively and leaves the other table's foreign key referring to
// nothing (every later write to that table fails); PostgreSQL refuses.
TEST(FoldErrors, a_column_that_a_foreign_key_of_another_table_refers_to_cannot_be_dropped) {
  Table letter = table("letter", {string_col("to_email", 120)});
  letter.foreign_keys = {fk({"to_email"}, "user", {"email"})};
  SchemaState s = state_of({user_v1(), named(std::move(letter))});
  const Table& user = *s.find("user");
  // A history from before the check below (dropping the index the key needs) left it so.
  s.set_checks(SchemaState::Checks::replay);
  s.apply(DropIndexOp{"user", *std::find_if(user.indexes.begin(), user.indexes.end(),
                                            [](const schema::Index& ix) { return ix.name == "ix_user_email"; })});
  s.set_checks(SchemaState::Checks::run);
  EXPECT_EQ(state_error(s, DropColumnOp{"user", string_col("email", 120), 2}),
            "drop column 'user.email': foreign key 'fk_letter_to_email_user' of table 'letter' "
            "refers to the column; drop that first");
}

// A foreign key refers to columns its table keeps unique. PostgreSQL refuses any other; SQLite
// accepts it, and then every INSERT, UPDATE or DELETE of the referring table fails with
// "foreign key mismatch".
schema::ForeignKey named_fk(const std::string& table, const std::string& column,
                            const std::string& referred, const std::string& referred_column) {
  schema::ForeignKey f = fk({column}, referred, {referred_column});
  f.name = "fk_" + table + "_" + column + "_" + referred;
  return f;
}

TEST(FoldErrors, a_foreign_key_must_refer_to_columns_kept_unique) {
  SchemaState s = state_of({user_v1()});
  Table letter = table("letter", {string_col("to_email", 120), string_col("to_hash", 256)});
  letter.foreign_keys = {fk({"to_hash"}, "user", {"password_hash"})};
  letter = named(std::move(letter));
  EXPECT_EQ(state_error(s, CreateTableOp{letter}),
            "create table 'letter': foreign key 'fk_letter_to_hash_user' refers to "
            "(password_hash) of table 'user', which is neither its primary key nor unique "
            "(PostgreSQL refuses such a key, and SQLite then refuses every write to 'letter'); "
            "refer to the primary key or add a unique constraint first");
  letter.foreign_keys.clear();
  s.apply(CreateTableOp{letter});
  EXPECT_EQ(state_error(s, AddForeignKeyOp{"letter", named_fk("letter", "to_hash", "user",
                                                                "password_hash")}),
            "add foreign key 'fk_letter_to_hash_user' on 'letter' (to_hash) -> 'user' "
            "(password_hash): foreign key 'fk_letter_to_hash_user' refers to (password_hash) of "
            "table 'user', which is neither its primary key nor unique (PostgreSQL refuses such "
            "a key, and SQLite then refuses every write to 'letter'); refer to the primary key "
            "or add a unique constraint first");
  EXPECT_EQ(state_error(s, AddForeignKeyOp{"letter", named_fk("letter", "to_hash", "user",
                                                                "hash")}),
            "add foreign key 'fk_letter_to_hash_user' on 'letter' (to_hash) -> 'user' (hash): "
            "foreign key 'fk_letter_to_hash_user' refers to column 'hash', which table 'user' "
            "does not have");
  // A unique index, a unique constraint or the primary key will do; a table the state does
  // not hold is not checked (created later, in a cycle, or outside the migrations).
  EXPECT_NO_THROW(
      s.apply(AddForeignKeyOp{"letter", named_fk("letter", "to_email", "user", "email")}));
  s.apply(AddUniqueOp{"user", schema::UniqueConstraint{"uq_user_password_hash",
                                                       {"password_hash"}}});
  EXPECT_NO_THROW(s.apply(
      AddForeignKeyOp{"letter", named_fk("letter", "to_hash", "user", "password_hash")}));
  Table note = named(table("note", {string_col("to_email", 120)}));
  s.apply(CreateTableOp{note});
  EXPECT_NO_THROW(
      s.apply(AddForeignKeyOp{"note", named_fk("note", "to_email", "mailbox", "address")}));
}

TEST(FoldErrors, a_unique_index_or_constraint_a_foreign_key_needs_cannot_be_dropped) {
  Table letter = table("letter", {string_col("to_email", 120)});
  letter.foreign_keys = {fk({"to_email"}, "user", {"email"})};
  SchemaState s = state_of({user_v1(), named(std::move(letter))});
  const schema::Index email_index = *std::find_if(
      s.find("user")->indexes.begin(), s.find("user")->indexes.end(),
      [](const schema::Index& ix) { return ix.name == "ix_user_email"; });
  EXPECT_EQ(state_error(s, DropIndexOp{"user", email_index}),
            "drop index 'ix_user_email' on 'user': foreign key 'fk_letter_to_email_user' of "
            "table 'letter' refers to (email), which this unique index makes unique; drop that "
            "foreign key first (and add it again after, if something else keeps those columns "
            "unique)");
  // Not even beside a unique constraint on the same column: PostgreSQL ties the key to the
  // index it found when the key was made, and refuses to drop that one.
  const schema::UniqueConstraint uq{"uq_user_email", {"email"}};
  s.apply(AddUniqueOp{"user", uq});
  EXPECT_EQ(state_error(s, DropUniqueOp{"user", uq}),
            "drop unique constraint 'uq_user_email' on 'user': foreign key "
            "'fk_letter_to_email_user' of table 'letter' refers to (email), which this unique "
            "constraint makes unique; drop that foreign key first (and add it again after, if "
            "something else keeps those columns unique)");
  EXPECT_NE(state_error(s, DropIndexOp{"user", email_index}).find("drop that foreign key first"),
            std::string::npos);
  // A history written before these checks still folds.
  s.set_checks(SchemaState::Checks::replay);
  EXPECT_NO_THROW(s.apply(DropUniqueOp{"user", uq}));
}

TEST(Fold, rename_constraint_renames_a_primary_key_unique_foreign_key_or_check) {
  SchemaState s = state_of(base_tables());
  s.apply(RenameConstraintOp{"user", "pk_user", "pk_member"});
  EXPECT_EQ(s.find("user")->primary_key.name, "pk_member");
  EXPECT_EQ(s.find("user")->primary_key.columns, (std::vector<std::string>{"id"}));
  s.apply(RenameConstraintOp{"post", "uq_post_body", "uq_body"});
  s.apply(RenameConstraintOp{"post", "fk_post_user_id_user", "fk_author"});
  s.apply(RenameConstraintOp{"tag", "ck_tag_uses_positive", "ck_uses"});
  EXPECT_EQ(s.find("post")->uniques.front().name, "uq_body");
  EXPECT_EQ(s.find("post")->foreign_keys.front().name, "fk_author");
  EXPECT_EQ(s.find("post")->foreign_keys.front().columns, (std::vector<std::string>{"user_id"}));
  EXPECT_EQ(s.find("tag")->checks.front().name, "ck_uses");
}

TEST(FoldErrors, rename_constraint_of_what_is_not_a_free_constraint_name) {
  SchemaState s = state_of(base_tables());
  EXPECT_EQ(state_error(s, RenameConstraintOp{"user", "pk_users", "pk_member"}),
            "rename constraint 'pk_users' on 'user' to 'pk_member': table 'user' has no "
            "constraint named 'pk_users'");
  EXPECT_EQ(state_error(s, RenameConstraintOp{"user", "ix_user_email", "ix_email"}),
            "rename constraint 'ix_user_email' on 'user' to 'ix_email': 'ix_user_email' is an "
            "index, not a constraint; drop it and create it under the new name");
  EXPECT_EQ(state_error(s, RenameConstraintOp{"post", "uq_post_body", "ix_post_user_id"}),
            "rename constraint 'uq_post_body' on 'post' to 'ix_post_user_id': table 'post' "
            "already has index 'ix_post_user_id'");
  EXPECT_EQ(state_error(s, RenameConstraintOp{"user", "pk_user", "pk_post"}),
            "rename constraint 'pk_user' on 'user' to 'pk_post': table 'post' already has "
            "primary key 'pk_post'; PostgreSQL makes an index of every primary key and unique "
            "constraint, and index names are database-wide (a table renamed by rename_table "
            "keeps its primary key's name: rename_constraint renames it)");
  EXPECT_EQ(state_error(s, RenameConstraintOp{"user", "pk_user", "pk_user"}),
            "rename constraint 'pk_user' on 'user' to 'pk_user': the new name is the old one");
}

TEST(Fold, validate_constraint_changes_nothing_and_names_a_foreign_key_or_check) {
  SchemaState s = state_of(base_tables());
  const SchemaState before = s;
  s.apply(ValidateConstraintOp{"post", "fk_post_user_id_user"});
  s.apply(ValidateConstraintOp{"tag", "ck_tag_uses_positive"});
  EXPECT_EQ(s.tables(), before.tables());
  EXPECT_EQ(state_error(s, ValidateConstraintOp{"post", "fk_post_author"}),
            "validate constraint 'fk_post_author' on 'post': table 'post' has no foreign key or "
            "check constraint named 'fk_post_author'");
  EXPECT_EQ(state_error(s, ValidateConstraintOp{"post", "uq_post_body"}),
            "validate constraint 'uq_post_body' on 'post': validate_constraint takes a foreign "
            "key or check constraint; table 'post' has unique constraint 'uq_post_body', which "
            "is checked in full when it is made");
  EXPECT_EQ(state_error(s, ValidateConstraintOp{"post", "ck_tag_uses_positive"}),
            "validate constraint 'ck_tag_uses_positive' on 'post': table 'post' has no foreign "
            "key or check constraint named 'ck_tag_uses_positive' (table 'tag' has check "
            "constraint 'ck_tag_uses_positive')");
  EXPECT_EQ(state_error(s, ValidateConstraintOp{"note", "ck_x"}).rfind(
                "validate constraint 'ck_x' on 'note': ", 0),
            0u);
}

// After rename_table, the table keeps its primary key's name; on PostgreSQL that name is an
// index's, so a new table of the old name cannot take it. The fold says so before anything
// runs (it used to be PostgreSQL's "relation already exists" in the middle of an upgrade).
TEST(FoldErrors, a_primary_key_name_a_renamed_table_kept_is_taken) {
  SchemaState s = state_of({user_v1()});
  s.apply(RenameTableOp{"user", "account"});
  Table user = user_v1();
  user.indexes.clear();  // their names are taken too (index names were always database-wide)
  EXPECT_EQ(state_error(s, CreateTableOp{user}),
            "create table 'user': table 'account' already has primary key 'pk_user'; "
            "PostgreSQL makes an index of every primary key and unique constraint, and index "
            "names are database-wide (a table renamed by rename_table keeps its primary key's "
            "name: rename_constraint renames it)");
  s.apply(RenameConstraintOp{"account", "pk_user", "pk_account"});
  EXPECT_NO_THROW(s.apply(CreateTableOp{user}));
  EXPECT_EQ(state_error(s, AddUniqueOp{"user", schema::UniqueConstraint{"pk_account", {"email"}}}),
            "add unique constraint 'pk_account' on 'user' (email): table 'account' already has "
            "primary key 'pk_account'; PostgreSQL makes an index of every primary key and unique "
            "constraint, and index names are database-wide (a table renamed by rename_table "
            "keeps its primary key's name: rename_constraint renames it)");
}

TEST(FoldErrors, rename_column_that_is_missing_or_taken) {
  SchemaState s = state_of({user_v1()});
  EXPECT_EQ(state_error(s, RenameColumnOp{"user", "about_me", "bio"}),
            "rename column 'user.about_me' to 'bio': table 'user' has no column 'about_me'");
  EXPECT_EQ(state_error(s, RenameColumnOp{"user", "username", "email"}),
            "rename column 'user.username' to 'email': table 'user' already has column 'email'");
}

TEST(FoldErrors, alter_column_whose_before_is_not_the_state_shows_both) {
  SchemaState s = state_of({post_v2()});
  const Column stale = string_col("body", 100, true);
  Column after = stale;
  after.type.length = 280;
  EXPECT_EQ(state_error(s, AlterColumnOp{"post", stale, after}),
            "alter column 'post.body' (String(100) -> String(280)): the state's column is "
            "String(140) NULL but the operation's 'before' is String(100) NULL; the operation "
            "does not fit this schema");
  Column renamed = s.find("post")->columns[1];
  renamed.name = "text";
  EXPECT_EQ(state_error(s, AlterColumnOp{"post", s.find("post")->columns[1], renamed}),
            "alter column 'post.body' (name 'text'): 'before' and 'after' name different "
            "columns ('body', 'text'); rename a column with rename_column");
  Column keyed = s.find("post")->columns[1];
  keyed.primary_key = true;
  EXPECT_EQ(state_error(s, AlterColumnOp{"post", s.find("post")->columns[1], keyed}),
            "alter column 'post.body' (primary key on): changing whether a column is part of "
            "the primary key is not supported");
}

TEST(FoldErrors, indexes_and_constraints_with_taken_or_missing_names) {
  SchemaState s = state_of({user_v1(), post_v2()});
  EXPECT_EQ(state_error(s, CreateIndexOp{"post", {"ix_user_email", {"body"}, false}}),
            "create index 'ix_user_email' on 'post' (body): table 'user' already has an index "
            "named 'ix_user_email'; index names are database-wide");
  EXPECT_EQ(state_error(s, AddUniqueOp{"post", {"ix_post_timestamp", {"body"}}}),
            "add unique constraint 'ix_post_timestamp' on 'post' (body): table 'post' already "
            "has index 'ix_post_timestamp'");
  EXPECT_EQ(state_error(s, AddUniqueOp{"post", {"", {"body"}}}),
            "add unique constraint '' on 'post' (body): the unique constraint has no name; "
            "every constraint and index is named (by the naming convention when the model "
            "gives none)");
  EXPECT_EQ(state_error(s, CreateIndexOp{"post", {"ix_post_title", {"title"}, false}}),
            "create index 'ix_post_title' on 'post' (title): the index names column 'title', "
            "which table 'post' does not have");
  EXPECT_EQ(state_error(s, DropIndexOp{"post", {"ix_post_body", {"body"}, false}}),
            "drop index 'ix_post_body' on 'post': table 'post' has no index named "
            "'ix_post_body'");
  EXPECT_EQ(state_error(s, DropIndexOp{"post", {"ix_post_timestamp", {"timestamp"}, true}}),
            "drop index 'ix_post_timestamp' on 'post': the index 'ix_post_timestamp' of table "
            "'post' differs from the definition the operation carries; the operation does not "
            "fit this schema (was it edited, or written for another revision?)");
  schema::ForeignKey bad = fk({"user_id"}, "user", {"id", "username"});
  bad.name = "fk_bad";
  EXPECT_EQ(state_error(s, AddForeignKeyOp{"post", bad}),
            "add foreign key 'fk_bad' on 'post' (user_id) -> 'user' (id, username): the "
            "foreign key has 1 columns but refers to 2");
  EXPECT_EQ(state_error(s, DropCheckOp{"post", {"ck_post_x", "x"}}),
            "drop check constraint 'ck_post_x' on 'post': table 'post' has no check "
            "constraint named 'ck_post_x'");
  EXPECT_EQ(state_error(s, AddCheckOp{"post", {"ck_post_x", ""}}),
            "add check constraint 'ck_post_x' on 'post' (): the check constraint has no "
            "condition");
}

TEST(FoldErrors, a_list_stops_at_the_first_operation_that_does_not_fit) {
  SchemaState s;
  const std::vector<Operation> ops = {CreateTableOp{user_v1()}, CreateTableOp{user_v1()},
                                      CreateTableOp{post_v2()}};
  EXPECT_THROW(s.apply(ops), StateError);
  EXPECT_EQ(table_names(s), (std::vector<std::string>{"user"}));
}

}  // namespace
}  // namespace strata::migrate
