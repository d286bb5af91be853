// The DDL of the base Dialect and its SQLite spelling: CREATE TABLE with every named
// constraint, CREATE INDEX, DROP TABLE, column definitions and the autoincrement rule.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "strata/dialect/dialect.hpp"
#include "strata/error.hpp"

#include "dialect/sqlite/sqlite.hpp"
#include "unit/dialect/ddl_fixtures.hpp"

namespace strata::dialect {
namespace {

using testing::blog_metadata;
using testing::column;
using testing::id_column;

// A PostgreSQL-like dialect: the base DDL with other type names, no driver.
class TestDialect : public testing::DriverlessDialect {
 public:
  bool is_keyword(std::string_view w) const override { return w == "user" || w == "order"; }
  std::string_view name() const override { return "test"; }
  std::string type_sql(const schema::Type& t) const override {
    switch (t.kind) {
      case schema::TypeKind::integer: return "INTEGER";
      case schema::TypeKind::big_integer: return "BIGINT";
      case schema::TypeKind::string: return "VARCHAR(" + std::to_string(t.length.value_or(0)) + ")";
      case schema::TypeKind::boolean: return "BOOLEAN";
      default: return "TEXT";
    }
  }
};

const sqlite::SqliteDialect sqlite_dialect;

TEST(CreateTable, user_table_has_named_primary_key_unique_and_index) {
  const schema::MetaData md = blog_metadata();
  const std::vector<std::string> sql = sqlite_dialect.create_table_sql(*md.find("user"));
  ASSERT_EQ(sql.size(), 2u);
  EXPECT_EQ(sql[0],
            "CREATE TABLE user (\n"
            "\tid INTEGER NOT NULL,\n"
            "\tname VARCHAR(64) NOT NULL,\n"
            "\temail VARCHAR(120) NOT NULL,\n"
            "\tactive BOOLEAN NOT NULL DEFAULT 1,\n"
            "\tCONSTRAINT pk_user PRIMARY KEY (id),\n"
            "\tCONSTRAINT uq_user_email UNIQUE (email)\n"
            ")");
  EXPECT_EQ(sql[1], "CREATE INDEX ix_user_name ON user (name)");
}

TEST(CreateTable, post_table_has_foreign_key_check_and_quoted_keyword_column) {
  const schema::MetaData md = blog_metadata();
  const std::vector<std::string> sql = sqlite_dialect.create_table_sql(*md.find("post"));
  ASSERT_EQ(sql.size(), 2u);
  EXPECT_EQ(sql[0],
            "CREATE TABLE post (\n"
            "\tid INTEGER NOT NULL,\n"
            "\tuser_id INTEGER NOT NULL,\n"
            "\ttitle VARCHAR(200) NOT NULL,\n"
            "\tbody TEXT,\n"
            "\t\"order\" INTEGER NOT NULL DEFAULT 0,\n"
            "\tCONSTRAINT pk_post PRIMARY KEY (id),\n"
            "\tCONSTRAINT uq_post_user_id_title UNIQUE (user_id, title),\n"
            "\tCONSTRAINT fk_post_user_id_user FOREIGN KEY(user_id) REFERENCES user (id) "
            "ON DELETE CASCADE,\n"
            "\tCONSTRAINT ck_post_title_not_empty CHECK (length(title) > 0)\n"
            ")");
  EXPECT_EQ(sql[1], "CREATE INDEX ix_post_user_id_order ON post (user_id, \"order\")");
}

TEST(CreateTable, base_dialect_quotes_through_the_dialect_and_renders_both_actions) {
  schema::MetaData md;
  schema::Table t = testing::post_table();
  t.foreign_keys[0].on_update = schema::ReferentialAction::set_null;
  t.foreign_keys[0].on_delete = schema::ReferentialAction::no_action;
  t.indexes[0].unique = true;
  const std::vector<std::string> sql = TestDialect{}.create_table_sql(md.add(t));
  EXPECT_NE(sql[0].find("FOREIGN KEY(user_id) REFERENCES \"user\" (id) ON UPDATE SET NULL,"),
            std::string::npos)
      << "NO ACTION is left out; a set action is written: " << sql[0];
  EXPECT_EQ(sql[1], "CREATE UNIQUE INDEX ix_post_user_id_order ON post (user_id, \"order\")");
}

TEST(CreateTable, unnamed_constraints_are_written_without_a_name_but_an_index_needs_one) {
  schema::Table t = testing::user_table();
  t.indexes.clear();
  const std::vector<std::string> sql = sqlite_dialect.create_table_sql(t);
  EXPECT_NE(sql[0].find("\tPRIMARY KEY (id),\n\tUNIQUE (email)\n"), std::string::npos) << sql[0];

  EXPECT_THROW(sqlite_dialect.create_table_sql(testing::user_table()), CompileError)
      << "CREATE INDEX cannot be written without a name";
}

TEST(CreateTable, table_without_columns_is_a_compile_error) {
  schema::Table t;
  t.name = "empty";
  EXPECT_THROW(sqlite_dialect.create_table_sql(t), CompileError);
}

TEST(DropTable, drops_the_table_alone) {
  const schema::MetaData md = blog_metadata();
  EXPECT_EQ(sqlite_dialect.drop_table_sql(*md.find("post")),
            std::vector<std::string>{"DROP TABLE post"});
  EXPECT_EQ(TestDialect{}.drop_table_sql(*md.find("user")),
            std::vector<std::string>{"DROP TABLE \"user\""});
}

TEST(ColumnSql, primary_key_columns_are_not_null_and_defaults_are_verbatim) {
  schema::Table t;
  t.name = "t";
  t.columns = {column("k", {schema::TypeKind::text, std::nullopt}, true),
               column("at", {schema::TypeKind::datetime, std::nullopt}, true)};
  t.columns[1].server_default = "CURRENT_TIMESTAMP";
  t.primary_key.columns = {"k"};
  EXPECT_EQ(sqlite_dialect.column_sql(t, t.columns[0]), "k TEXT NOT NULL");
  EXPECT_EQ(sqlite_dialect.column_sql(t, t.columns[1]), "at DATETIME DEFAULT CURRENT_TIMESTAMP");
}

TEST(ColumnSql, sqlite_declares_any_autoincrement_integer_as_integer) {
  for (const auto kind : {schema::TypeKind::big_integer, schema::TypeKind::small_integer}) {
    schema::Table t;
    t.name = "t";
    t.columns = {id_column(kind)};
    t.primary_key.columns = {"id"};
    EXPECT_EQ(sqlite_dialect.column_sql(t, t.columns[0]), "id INTEGER NOT NULL")
        << "only a column declared exactly INTEGER becomes SQLite's rowid alias";
    EXPECT_EQ(TestDialect{}.column_sql(t, t.columns[0]).find("INTEGER"), std::string::npos)
        << "the widening is SQLite's rule, not the base dialect's";
    t.columns[0].autoincrement = false;
    EXPECT_NE(sqlite_dialect.column_sql(t, t.columns[0]), "id INTEGER NOT NULL");
  }
}

TEST(ColumnSql, autoincrement_needs_an_integer_primary_key_column) {
  schema::Table t;
  t.name = "t";
  t.columns = {id_column(), column("n", {schema::TypeKind::integer, std::nullopt})};
  t.columns[0].type = {schema::TypeKind::string, 10};
  t.columns[1].autoincrement = true;
  t.primary_key.columns = {"id"};
  EXPECT_THROW(sqlite_dialect.column_sql(t, t.columns[0]), CompileError);
  EXPECT_THROW(sqlite_dialect.column_sql(t, t.columns[1]), CompileError);
}

}  // namespace
}  // namespace strata::dialect
