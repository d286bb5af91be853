// Migration DDL as text, no database: the base Dialect's ALTER TABLE form for every change
// kind, SQLite's choice between a native form and a table rebuild (with the exact rebuild
// statements for one case), and CompileError when a change does not fit before/after.
#include <algorithm>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "strata/dialect/dialect.hpp"
#include "strata/error.hpp"

#include "dialect/ddl.hpp"
#include "dialect/sqlite/sqlite.hpp"
#include "unit/dialect/ddl_fixtures.hpp"

namespace strata::dialect {
namespace {

using testing::column;
using Kind = TableChange::Kind;
using Statements = std::vector<std::string>;

// A PostgreSQL-like dialect: the base DDL with its own keywords and type names, no driver.
class TestDialect : public testing::DriverlessDialect {
 public:
  bool is_keyword(std::string_view w) const override { return w == "user" || w == "order"; }
  std::string_view name() const override { return "test"; }
  std::string type_sql(const schema::Type& t) const override {
    switch (t.kind) {
      case schema::TypeKind::integer: return "INTEGER";
      case schema::TypeKind::string: return "VARCHAR(" + std::to_string(t.length.value_or(0)) + ")";
      case schema::TypeKind::boolean: return "BOOLEAN";
      case schema::TypeKind::datetime: return "TIMESTAMP";
      default: return "TEXT";
    }
  }
};

const TestDialect base_dialect;
const sqlite::SqliteDialect sqlite_dialect;

// user and post as MetaData names them (pk_post, uq_post_user_id_title, fk_post_user_id_user,
// ck_post_title_not_empty, ix_post_user_id_order; pk_user, uq_user_email, ix_user_name).
schema::Table table(const char* name) { return *testing::blog_metadata().find(name); }

schema::Column& column_of(schema::Table& t, const std::string& name) {
  for (schema::Column& c : t.columns) {
    if (c.name == name) return c;
  }
  throw std::logic_error("fixture has no column " + name);
}

TableChange change(Kind kind, std::string name, std::string new_name = {}) {
  return TableChange{kind, std::move(name), std::move(new_name)};
}

Statements base_sql(const schema::Table& before, const schema::Table& after, TableChange c) {
  const AlterPlan plan = base_dialect.alter_table_sql(before, after, c);
  EXPECT_FALSE(plan.rebuild) << "the base dialect never rebuilds";
  EXPECT_FALSE(plan.foreign_keys_off);
  return plan.statements;
}

// post with one more column.
schema::Table post_plus(schema::Column c) {
  schema::Table t = table("post");
  t.columns.push_back(std::move(c));
  return t;
}

// ---- the base dialect: one standard form per change -------------------------------------

TEST(BaseAlter, rename_table_is_rename_to) {
  schema::Table after = table("user");
  after.name = "account";
  EXPECT_EQ(base_sql(table("user"), after, change(Kind::rename_table, "user", "account")),
            Statements{"ALTER TABLE \"user\" RENAME TO account"});
}

TEST(BaseAlter, add_column_writes_the_full_column_definition) {
  schema::Column c = column("status", {schema::TypeKind::string, 16});
  c.server_default = "'draft'";
  EXPECT_EQ(base_sql(table("post"), post_plus(c), change(Kind::add_column, "status")),
            Statements{"ALTER TABLE post ADD COLUMN status VARCHAR(16) NOT NULL DEFAULT 'draft'"});
}

TEST(BaseAlter, drop_and_rename_column) {
  schema::Table without_body = table("post");
  without_body.columns.erase(without_body.columns.begin() + 3);
  EXPECT_EQ(base_sql(table("post"), without_body, change(Kind::drop_column, "body")),
            Statements{"ALTER TABLE post DROP COLUMN body"});

  schema::Table renamed = table("post");
  column_of(renamed, "order").name = "position";  // a PostgreSQL keyword: quoted for every backend
  EXPECT_EQ(base_sql(table("post"), renamed, change(Kind::rename_column, "order", "position")),
            Statements{"ALTER TABLE post RENAME COLUMN \"order\" TO \"position\""});
}

TEST(BaseAlter, alter_column_writes_type_then_not_null_then_default) {
  schema::Table after = table("post");
  schema::Column& body = column_of(after, "body");
  body.type = {schema::TypeKind::string, 280};
  body.nullable = false;
  body.server_default = "''";
  EXPECT_EQ(base_sql(table("post"), after, change(Kind::alter_column, "body")),
            (Statements{"ALTER TABLE post ALTER COLUMN body TYPE VARCHAR(280)",
                        "ALTER TABLE post ALTER COLUMN body SET NOT NULL",
                        "ALTER TABLE post ALTER COLUMN body SET DEFAULT ''"}));
}

TEST(BaseAlter, alter_column_writes_only_what_changed) {
  schema::Table after = table("post");
  schema::Column& order = column_of(after, "order");
  order.nullable = true;
  order.server_default.reset();
  EXPECT_EQ(base_sql(table("post"), after, change(Kind::alter_column, "order")),
            (Statements{"ALTER TABLE post ALTER COLUMN \"order\" DROP NOT NULL",
                        "ALTER TABLE post ALTER COLUMN \"order\" DROP DEFAULT"}));

  schema::Table retyped = table("post");
  column_of(retyped, "title").type = {schema::TypeKind::string, 300};
  EXPECT_EQ(base_sql(table("post"), retyped, change(Kind::alter_column, "title")),
            Statements{"ALTER TABLE post ALTER COLUMN title TYPE VARCHAR(300)"});
}

TEST(BaseAlter, alter_column_cannot_move_a_column_into_the_primary_key) {
  schema::Table after = table("post");
  after.primary_key.columns = {"id", "user_id"};
  column_of(after, "user_id").primary_key = true;
  EXPECT_THROW(
      base_dialect.alter_table_sql(table("post"), after, change(Kind::alter_column, "user_id")),
      CompileError);
}

TEST(BaseAlter, create_and_drop_index) {
  schema::Table after = table("post");
  after.indexes.push_back({"ix_post_title", {"title"}, true});
  EXPECT_EQ(base_sql(table("post"), after, change(Kind::create_index, "ix_post_title")),
            Statements{"CREATE UNIQUE INDEX ix_post_title ON post (title)"});

  schema::Table no_index = table("post");
  no_index.indexes.clear();
  EXPECT_EQ(base_sql(table("post"), no_index, change(Kind::drop_index, "ix_post_user_id_order")),
            Statements{"DROP INDEX ix_post_user_id_order"});
}

TEST(BaseAlter, add_constraints_by_name) {
  schema::Table with_unique = table("post");
  with_unique.uniques.push_back({"uq_post_title", {"title"}});
  EXPECT_EQ(base_sql(table("post"), with_unique, change(Kind::add_unique, "uq_post_title")),
            Statements{"ALTER TABLE post ADD CONSTRAINT uq_post_title UNIQUE (title)"});

  schema::Table without_fk = table("post");
  without_fk.foreign_keys.clear();
  EXPECT_EQ(
      base_sql(without_fk, table("post"), change(Kind::add_foreign_key, "fk_post_user_id_user")),
      Statements{"ALTER TABLE post ADD CONSTRAINT fk_post_user_id_user FOREIGN KEY(user_id) "
                 "REFERENCES \"user\" (id) ON DELETE CASCADE"});

  schema::Table with_check = table("post");
  with_check.checks.push_back({"ck_post_order_positive", "\"order\" >= 0"});
  EXPECT_EQ(base_sql(table("post"), with_check, change(Kind::add_check, "ck_post_order_positive")),
            Statements{"ALTER TABLE post ADD CONSTRAINT ck_post_order_positive CHECK "
                       "(\"order\" >= 0)"});
}

TEST(BaseAlter, drop_constraints_by_name) {
  schema::Table after = table("post");
  after.uniques.clear();
  EXPECT_EQ(base_sql(table("post"), after, change(Kind::drop_unique, "uq_post_user_id_title")),
            Statements{"ALTER TABLE post DROP CONSTRAINT uq_post_user_id_title"});
  after = table("post");
  after.foreign_keys.clear();
  EXPECT_EQ(base_sql(table("post"), after, change(Kind::drop_foreign_key, "fk_post_user_id_user")),
            Statements{"ALTER TABLE post DROP CONSTRAINT fk_post_user_id_user"});
  after = table("post");
  after.checks.clear();
  EXPECT_EQ(base_sql(table("post"), after, change(Kind::drop_check, "ck_post_title_not_empty")),
            Statements{"ALTER TABLE post DROP CONSTRAINT ck_post_title_not_empty"});
}

TEST(BaseAlter, base_dialect_has_no_foreign_key_check) {
  EXPECT_EQ(base_dialect.foreign_key_check_sql(), "");
  EXPECT_EQ(sqlite_dialect.foreign_key_check_sql(), "PRAGMA foreign_key_check");
}

// ---- a change that does not fit before/after ----------------------------------------------

// Expects CompileError whose message contains every part (the object, the table...).
void expect_mismatch(const schema::Table& before, const schema::Table& after, TableChange c,
                     std::vector<std::string> parts) {
  for (const Dialect* d :
       {static_cast<const Dialect*>(&base_dialect), static_cast<const Dialect*>(&sqlite_dialect)}) {
    try {
      d->alter_table_sql(before, after, c);
      ADD_FAILURE() << d->name() << " accepted a change that does not fit before/after: "
                    << ddl::to_string(c.kind) << " " << c.name;
    } catch (const CompileError& e) {
      for (const std::string& part : parts) {
        EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
            << d->name() << ": message lacks '" << part << "': " << e.what();
      }
    }
  }
}

TEST(AlterMismatch, add_column_already_there_or_missing_after) {
  expect_mismatch(table("post"), table("post"), change(Kind::add_column, "body"),
                  {"add_column", "'post'", "column 'body' already exists before the change"});
  expect_mismatch(table("post"), table("post"), change(Kind::add_column, "status"),
                  {"column 'status' is missing after the change"});
  schema::Table t = post_plus(column("status", {schema::TypeKind::text, std::nullopt}, true));
  expect_mismatch(t, t, change(Kind::add_column, "status"),
                  {"column 'status' already exists before the change"});
}

TEST(AlterMismatch, drop_of_something_that_was_not_there_or_stays) {
  expect_mismatch(table("post"), table("post"), change(Kind::drop_column, "body"),
                  {"column 'body' is still there after the change"});
  expect_mismatch(table("post"), table("post"), change(Kind::drop_index, "ix_nope"),
                  {"index 'ix_nope' does not exist before the change"});
  expect_mismatch(table("post"), table("post"), change(Kind::drop_check, "title_not_empty"),
                  {"check constraint 'title_not_empty' does not exist"});
  expect_mismatch(table("post"), table("post"), change(Kind::add_foreign_key, "fk_x"),
                  {"foreign key 'fk_x'"});
}

TEST(AlterMismatch, alter_column_needs_a_difference_and_renames_need_names) {
  expect_mismatch(table("post"), table("post"), change(Kind::alter_column, "body"),
                  {"column 'body' is the same before and after"});
  expect_mismatch(table("post"), table("post"), change(Kind::rename_column, "body", ""),
                  {"new column name"});
  expect_mismatch(table("post"), table("post"), change(Kind::rename_table, "post", "post"),
                  {"new name"});
  schema::Table account = table("user");
  account.name = "account";
  expect_mismatch(table("user"), account, change(Kind::rename_table, "users", "account"),
                  {"expected table 'users' before"});
  expect_mismatch(table("post"), table("post"), change(Kind::add_unique, ""),
                  {"does not name the unique constraint"});
}

// Where constraints are always added valid (the base dialect, SQLite), not_valid changes
// nothing and validating runs nothing: no statement, no rebuild.
TEST(BaseAlter, not_valid_is_ignored_and_validating_runs_nothing_without_the_form) {
  schema::Table without = table("post");
  without.checks.clear();
  TableChange add = change(Kind::add_check, "ck_post_title_not_empty");
  add.not_valid = true;
  EXPECT_EQ(base_sql(without, table("post"), add),
            Statements{"ALTER TABLE post ADD CONSTRAINT ck_post_title_not_empty CHECK "
                       "(length(title) > 0)"});
  const TableChange validate = change(Kind::validate_constraint, "fk_post_user_id_user");
  EXPECT_EQ(base_sql(table("post"), table("post"), validate), Statements{});
  const AlterPlan plan = sqlite_dialect.alter_table_sql(table("post"), table("post"), validate);
  EXPECT_TRUE(plan.statements.empty());
  EXPECT_FALSE(plan.rebuild);
  EXPECT_FALSE(sqlite_dialect.constraints_not_valid());
}

TEST(AlterMismatch, validate_names_a_foreign_key_or_check_and_changes_nothing) {
  expect_mismatch(table("post"), table("post"), change(Kind::validate_constraint, "uq_post_user_id_title"),
                  {"foreign key or check constraint 'uq_post_user_id_title' does not exist before"});
  schema::Table without = table("post");
  without.checks.clear();
  expect_mismatch(without, table("post"),
                  change(Kind::validate_constraint, "fk_post_user_id_user"),
                  {"validating a constraint changes no schema"});
}

TEST(BaseAlter, rename_constraint_is_rename_constraint) {
  schema::Table after = table("post");
  after.primary_key.name = "pk_article";
  EXPECT_EQ(base_sql(table("post"), after, change(Kind::rename_constraint, "pk_post", "pk_article")),
            Statements{"ALTER TABLE post RENAME CONSTRAINT pk_post TO pk_article"});
  after = table("post");
  after.foreign_keys[0].name = "fk_author";
  EXPECT_EQ(base_sql(table("post"), after,
                     change(Kind::rename_constraint, "fk_post_user_id_user", "fk_author")),
            Statements{"ALTER TABLE post RENAME CONSTRAINT fk_post_user_id_user TO fk_author"});
  expect_mismatch(table("post"), table("post"),
                  change(Kind::rename_constraint, "pk_nope", "pk_article"),
                  {"constraint 'pk_nope' does not exist before the change"});
  expect_mismatch(table("post"), table("post"), change(Kind::rename_constraint, "pk_post", ""),
                  {"new constraint name"});
}

TEST(AlterMismatch, table_renamed_by_a_change_that_is_not_a_rename) {
  schema::Table after = post_plus(column("status", {schema::TypeKind::text, std::nullopt}, true));
  after.name = "article";
  expect_mismatch(table("post"), after, change(Kind::add_column, "status"),
                  {"called 'article' after the change", "rename_table"});
}

// ---- SQLite: native where SQLite has the form and accepts the change ---------------------

AlterPlan sqlite_plan(const schema::Table& before, const schema::Table& after, TableChange c) {
  return sqlite_dialect.alter_table_sql(before, after, c);
}

// The plan is the base dialect's single native statement.
void expect_native(const schema::Table& before, const schema::Table& after, TableChange c) {
  const AlterPlan plan = sqlite_plan(before, after, c);
  EXPECT_FALSE(plan.rebuild) << ddl::to_string(c.kind) << " " << c.name << " should be native";
  EXPECT_FALSE(plan.foreign_keys_off);
  EXPECT_EQ(plan.statements.size(), 1u);
}

void expect_rebuild(const schema::Table& before, const schema::Table& after, TableChange c) {
  const AlterPlan plan = sqlite_plan(before, after, c);
  EXPECT_TRUE(plan.rebuild) << ddl::to_string(c.kind) << " " << c.name
                            << " should rebuild the table";
  EXPECT_TRUE(plan.foreign_keys_off) << "a rebuild drops a table other tables may refer to";
  ASSERT_GE(plan.statements.size(), 4u);
  EXPECT_EQ(plan.statements[0].rfind("CREATE TABLE _strata_tmp_" + before.name + " (", 0), 0u)
      << plan.statements[0];
}

TEST(SqliteAlter, renames_and_indexes_are_native) {
  schema::Table account = table("user");
  account.name = "account";
  expect_native(table("user"), account, change(Kind::rename_table, "user", "account"));
  schema::Table renamed = table("post");
  column_of(renamed, "title").name = "headline";
  renamed.uniques[0].columns = {"user_id", "headline"};
  expect_native(table("post"), renamed, change(Kind::rename_column, "title", "headline"));
  EXPECT_EQ(sqlite_plan(table("post"), renamed, change(Kind::rename_column, "title", "headline"))
                .statements[0],
            "ALTER TABLE post RENAME COLUMN title TO headline");
  schema::Table indexed = table("post");
  indexed.indexes.push_back({"ix_post_title", {"title"}, false});
  expect_native(table("post"), indexed, change(Kind::create_index, "ix_post_title"));
  expect_native(indexed, table("post"), change(Kind::drop_index, "ix_post_title"));
}

schema::Column new_column(bool nullable, std::optional<std::string> server_default,
                          schema::TypeKind kind = schema::TypeKind::integer) {
  schema::Column c = column("extra", {kind, std::nullopt}, nullable);
  c.server_default = std::move(server_default);
  return c;
}

TEST(SqliteAlter, add_column_is_native_when_sqlite_accepts_it) {
  const TableChange add = change(Kind::add_column, "extra");
  expect_native(table("post"), post_plus(new_column(true, std::nullopt)), add);
  expect_native(table("post"), post_plus(new_column(false, "0")), add);
  expect_native(table("post"), post_plus(new_column(false, "-1.5e3")), add);
  expect_native(table("post"), post_plus(new_column(false, "'it''s'", schema::TypeKind::text)),
                add);
  expect_native(table("post"), post_plus(new_column(true, "X'00ff'", schema::TypeKind::blob)), add);
  expect_native(table("post"), post_plus(new_column(false, "TRUE", schema::TypeKind::boolean)),
                add);
  EXPECT_EQ(sqlite_plan(table("post"), post_plus(new_column(false, "0")), add).statements[0],
            "ALTER TABLE post ADD COLUMN extra INTEGER NOT NULL DEFAULT 0");
}

TEST(SqliteAlter, add_column_rebuilds_where_sqlite_refuses_add_column) {
  const TableChange add = change(Kind::add_column, "extra");
  // NOT NULL without a default, or with DEFAULT NULL; non-constant defaults.
  expect_rebuild(table("post"), post_plus(new_column(false, std::nullopt)), add);
  expect_rebuild(table("post"), post_plus(new_column(false, "NULL")), add);
  expect_rebuild(table("post"),
                 post_plus(new_column(false, "CURRENT_TIMESTAMP", schema::TypeKind::datetime)),
                 add);
  expect_rebuild(table("post"), post_plus(new_column(true, "(1 + 1)")), add);
  expect_rebuild(table("post"), post_plus(new_column(true, "'unterminated''")), add);

  schema::Table unique = post_plus(new_column(true, std::nullopt));
  unique.uniques.push_back({"uq_post_extra", {"extra"}});
  expect_rebuild(table("post"), unique, add);
  schema::Table references = post_plus(new_column(true, std::nullopt));
  references.foreign_keys.push_back({"fk_post_extra_user", {"extra"}, "user", {"id"}, {}, {}});
  expect_rebuild(table("post"), references, add);
  schema::Table indexed = post_plus(new_column(true, std::nullopt));
  indexed.indexes.push_back({"ix_post_extra", {"extra"}, false});
  expect_rebuild(table("post"), indexed, add);
  schema::Table checked = post_plus(new_column(true, std::nullopt));
  checked.checks.push_back({"ck_post_extra", "extra > 0"});
  expect_rebuild(table("post"), checked, add);

  schema::Table keyed = table("post");
  schema::Table keyed_after = post_plus(new_column(false, "0"));
  keyed_after.primary_key.columns = {"id", "extra"};
  expect_rebuild(keyed, keyed_after, add);
}

TEST(SqliteAlter, drop_column_is_native_only_for_an_unreferenced_column) {
  schema::Table post = post_plus(new_column(true, std::nullopt));
  expect_native(post, table("post"), change(Kind::drop_column, "extra"));

  auto drop = [](schema::Table t, const std::string& name) {
    std::erase_if(t.columns, [&](const schema::Column& c) { return c.name == name; });
    return t;
  };
  // title: in a unique constraint and a check; order: indexed; user_id: in a foreign key.
  schema::Table no_title = drop(table("post"), "title");
  no_title.uniques.clear();
  no_title.checks.clear();
  expect_rebuild(table("post"), no_title, change(Kind::drop_column, "title"));
  schema::Table no_order = drop(table("post"), "order");
  no_order.indexes.clear();
  expect_rebuild(table("post"), no_order, change(Kind::drop_column, "order"));
  schema::Table no_user = drop(table("post"), "user_id");
  no_user.foreign_keys.clear();
  no_user.uniques.clear();
  no_user.indexes.clear();
  expect_rebuild(table("post"), no_user, change(Kind::drop_column, "user_id"));

  schema::Table checked = post_plus(new_column(true, std::nullopt));
  checked.checks.push_back({"ck_post_extra", "coalesce(\"EXTRA\", 0) >= 0"});
  schema::Table unchecked = table("post");
  unchecked.checks = checked.checks;
  unchecked.checks.pop_back();
  expect_rebuild(checked, unchecked, change(Kind::drop_column, "extra"));
}

TEST(SqliteAlter, constraints_and_alter_column_always_rebuild) {
  schema::Table after = table("post");
  column_of(after, "body").type = {schema::TypeKind::string, 280};
  expect_rebuild(table("post"), after, change(Kind::alter_column, "body"));
  after = table("post");
  after.uniques.clear();
  expect_rebuild(table("post"), after, change(Kind::drop_unique, "uq_post_user_id_title"));
  expect_rebuild(after, table("post"), change(Kind::add_unique, "uq_post_user_id_title"));
  after = table("post");
  after.foreign_keys.clear();
  expect_rebuild(table("post"), after, change(Kind::drop_foreign_key, "fk_post_user_id_user"));
  expect_rebuild(after, table("post"), change(Kind::add_foreign_key, "fk_post_user_id_user"));
  after = table("post");
  after.checks.clear();
  expect_rebuild(table("post"), after, change(Kind::drop_check, "ck_post_title_not_empty"));
  expect_rebuild(after, table("post"), change(Kind::add_check, "ck_post_title_not_empty"));
  after = table("post");  // SQLite keeps a constraint's name only in the CREATE TABLE text
  after.primary_key.name = "pk_article";
  expect_rebuild(table("post"), after, change(Kind::rename_constraint, "pk_post", "pk_article"));
}

TEST(SqliteAlter, rebuild_statements_for_a_column_type_change) {
  schema::Table after = table("user");
  column_of(after, "name").type = {schema::TypeKind::string, 100};
  const AlterPlan plan = sqlite_plan(table("user"), after, change(Kind::alter_column, "name"));
  EXPECT_TRUE(plan.rebuild);
  EXPECT_TRUE(plan.foreign_keys_off);
  EXPECT_EQ(plan.statements,
            (Statements{"CREATE TABLE _strata_tmp_user (\n"
                        "\tid INTEGER NOT NULL,\n"
                        "\tname VARCHAR(100) NOT NULL,\n"
                        "\temail VARCHAR(120) NOT NULL,\n"
                        "\tactive BOOLEAN NOT NULL DEFAULT 1,\n"
                        "\tCONSTRAINT pk_user PRIMARY KEY (id),\n"
                        "\tCONSTRAINT uq_user_email UNIQUE (email)\n"
                        ")",
                        "INSERT INTO _strata_tmp_user (id, name, email, active) "
                        "SELECT id, name, email, active FROM user",
                        "DROP TABLE user", "ALTER TABLE _strata_tmp_user RENAME TO user",
                        "CREATE INDEX ix_user_name ON user (name)"}));
}

TEST(SqliteAlter, rebuild_leaves_new_columns_to_their_default_and_skips_dropped_ones) {
  schema::Column when = new_column(false, "CURRENT_TIMESTAMP", schema::TypeKind::datetime);
  when.name = "edited_at";
  const AlterPlan add =
      sqlite_plan(table("post"), post_plus(when), change(Kind::add_column, "edited_at"));
  ASSERT_TRUE(add.rebuild);
  EXPECT_EQ(add.statements[1],
            "INSERT INTO _strata_tmp_post (id, user_id, title, body, \"order\") "
            "SELECT id, user_id, title, body, \"order\" FROM post");

  schema::Table no_order = table("post");
  no_order.columns.pop_back();
  no_order.indexes.clear();
  const AlterPlan drop = sqlite_plan(table("post"), no_order, change(Kind::drop_column, "order"));
  ASSERT_TRUE(drop.rebuild);
  EXPECT_EQ(drop.statements[1],
            "INSERT INTO _strata_tmp_post (id, user_id, title, body) "
            "SELECT id, user_id, title, body FROM post");
  EXPECT_EQ(drop.statements.size(), 4u) << "the dropped column's index must not come back";
}

TEST(SqliteAlter, forced_rebuild_copies_a_renamed_column_from_its_old_name) {
  schema::Table renamed = table("post");
  column_of(renamed, "body").name = "content";
  const AlterPlan plan = sqlite::rebuild_table_sql(sqlite_dialect, table("post"), renamed,
                                                   change(Kind::rename_column, "body", "content"));
  EXPECT_EQ(plan.statements[1],
            "INSERT INTO _strata_tmp_post (id, user_id, title, content, \"order\") "
            "SELECT id, user_id, title, body, \"order\" FROM post");
}

TEST(SqliteAlter, rebuild_refuses_to_lose_a_column_the_change_does_not_drop) {
  schema::Table after = table("post");
  after.columns.erase(after.columns.begin() + 3);                    // body vanished...
  column_of(after, "title").type = {schema::TypeKind::string, 300};  // ...in an alter of title
  try {
    sqlite_plan(table("post"), after, change(Kind::alter_column, "title"));
    FAIL() << "a rebuild silently dropped column body and its data";
  } catch (const CompileError& e) {
    EXPECT_NE(std::string(e.what()).find("would lose column 'body'"), std::string::npos)
        << e.what();
  }
}

// ---- ddl::mentions_identifier: which columns a CHECK names ----------------------------------

TEST(MentionsIdentifier, finds_bare_and_quoted_names_but_not_text_or_longer_names) {
  EXPECT_TRUE(ddl::mentions_identifier("length(title) > 0", "title"));
  EXPECT_TRUE(ddl::mentions_identifier("\"Title\" <> ''", "title")) << "case-insensitive";
  EXPECT_TRUE(ddl::mentions_identifier("[title] IS NOT NULL", "title"));
  EXPECT_TRUE(ddl::mentions_identifier("`we\"ird` > 0", "we\"ird"));
  EXPECT_FALSE(ddl::mentions_identifier("subtitle > 0", "title"));
  EXPECT_FALSE(ddl::mentions_identifier("kind <> 'title'", "title")) << "a string literal";
  EXPECT_FALSE(ddl::mentions_identifier("x'7469746c65' <> data", "x"));
  EXPECT_FALSE(ddl::mentions_identifier("n < 1e5", "e5"));
  EXPECT_FALSE(ddl::mentions_identifier("n > 0 -- title\n", "title"));
  EXPECT_FALSE(ddl::mentions_identifier("n > 0 /* title */", "title"));
}

TEST(SqliteAlter, add_column_in_the_middle_rebuilds_to_keep_column_order) {
  // A downgrade that restores a dropped middle column: native ADD COLUMN would append it.
  schema::Table after = post_plus(new_column(true, std::nullopt));
  std::rotate(after.columns.begin() + 1, after.columns.end() - 1, after.columns.end());
  ASSERT_EQ(after.columns[1].name, "extra");
  expect_rebuild(table("post"), after, change(Kind::add_column, "extra"));
}

}  // namespace
}  // namespace strata::dialect
