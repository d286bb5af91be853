// Runs the SQLite dialect's DDL and compiled statements on a real in-memory database through
// the sqlite3 C API, and reads back through PRAGMAs that SQLite understood what was meant:
// types, NOT NULL, defaults, the rowid-alias primary key, named constraints, indexes.
#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "strata/sql/ast.hpp"
#include "strata/sql/compiler.hpp"

#include "dialect/sqlite/sqlite.hpp"
#include "unit/dialect/ddl_fixtures.hpp"

namespace strata::dialect {
namespace {

using Row = std::map<std::string, std::string>;  // column name -> text ("NULL" for null)

class SqliteDdl : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    exec("PRAGMA foreign_keys = ON");
    const schema::MetaData md = testing::blog_metadata();
    for (const schema::Table* t : md.sorted_tables()) {
      for (const std::string& statement : dialect_.create_table_sql(*t)) exec(statement);
    }
  }
  void TearDown() override { sqlite3_close(db_); }

  void exec(const std::string& sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
    const std::string message = error ? error : "";
    sqlite3_free(error);
    ASSERT_EQ(rc, SQLITE_OK) << message << "\nin: " << sql;
  }

  // Runs compiled SQL with its parameters; returns every row, or throws the SQLite message.
  std::vector<Row> run(const sql::Compiled& c) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_, c.sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string(sqlite3_errmsg(db_)) + " in: " + c.sql);
    }
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
    for (std::size_t i = 0; i < c.params.size(); ++i) {
      const int at = static_cast<int>(i + 1);
      const Value& v = c.params[i];
      if (const auto* n = std::get_if<std::int64_t>(&v)) {
        sqlite3_bind_int64(raw, at, *n);
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        sqlite3_bind_text(raw, at, s->c_str(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
      } else {
        sqlite3_bind_null(raw, at);
      }
    }
    std::vector<Row> rows;
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      Row row;
      for (int i = 0; i < sqlite3_column_count(raw); ++i) {
        const auto* text = sqlite3_column_text(raw, i);
        row[sqlite3_column_name(raw, i)] = text ? reinterpret_cast<const char*>(text) : "NULL";
      }
      rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) throw std::runtime_error(sqlite3_errmsg(db_));
    return rows;
  }

  std::vector<Row> query(const std::string& text) { return run(sql::Compiled{text, {}}); }

  std::vector<Row> insert_user(const char* name, const char* email) {
    sql::Insert ins;
    ins.table = "user";
    ins.columns = {"name", "email"};
    ins.rows = {{sql::param(Value{std::string(name)}), sql::param(Value{std::string(email)})}};
    ins.returning = {"id", "active"};
    return run(sql::compile(ins, dialect_));
  }

  sql::Compiled insert_post(std::int64_t user_id, const char* title) {
    sql::Insert ins;
    ins.table = "post";
    ins.columns = {"user_id", "title"};
    ins.rows = {{sql::param(Value{user_id}), sql::param(Value{std::string(title)})}};
    return sql::compile(ins, dialect_);
  }

  sqlite3* db_ = nullptr;
  const sqlite::SqliteDialect dialect_{};
};

TEST_F(SqliteDdl, columns_have_the_declared_types_nullability_defaults_and_key) {
  const std::vector<Row> cols = query("PRAGMA table_info(post)");
  ASSERT_EQ(cols.size(), 5u);
  EXPECT_EQ(cols[0].at("name"), "id");
  EXPECT_EQ(cols[0].at("type"), "INTEGER");
  EXPECT_EQ(cols[0].at("pk"), "1");
  EXPECT_EQ(cols[2].at("type"), "VARCHAR(200)");
  EXPECT_EQ(cols[2].at("notnull"), "1");
  EXPECT_EQ(cols[3].at("name"), "body");
  EXPECT_EQ(cols[3].at("notnull"), "0");
  EXPECT_EQ(cols[4].at("name"), "order");
  EXPECT_EQ(cols[4].at("dflt_value"), "0");
}

TEST_F(SqliteDdl, indexes_and_foreign_keys_are_what_was_declared) {
  std::map<std::string, Row> indexes;
  for (const Row& r : query("PRAGMA index_list(post)")) indexes[r.at("name")] = r;
  ASSERT_EQ(indexes.count("ix_post_user_id_order"), 1u);
  EXPECT_EQ(indexes["ix_post_user_id_order"].at("unique"), "0");
  int unique_constraints = 0;
  for (const auto& [name, r] : indexes) unique_constraints += r.at("origin") == "u";
  EXPECT_EQ(unique_constraints, 1) << "the UNIQUE (user_id, title) constraint";

  const std::vector<Row> fks = query("PRAGMA foreign_key_list(post)");
  ASSERT_EQ(fks.size(), 1u);
  EXPECT_EQ(fks[0].at("table"), "user");
  EXPECT_EQ(fks[0].at("from"), "user_id");
  EXPECT_EQ(fks[0].at("to"), "id");
  EXPECT_EQ(fks[0].at("on_delete"), "CASCADE");
  EXPECT_EQ(fks[0].at("on_update"), "NO ACTION");
}

TEST_F(SqliteDdl, autoincrement_primary_key_assigns_ids_as_the_rowid) {
  const std::vector<Row> ann = insert_user("ann", "ann@example.com");
  const std::vector<Row> bob = insert_user("bob", "bob@example.com");
  ASSERT_EQ(ann.size(), 1u);
  EXPECT_EQ(ann[0].at("id"), "1");
  EXPECT_EQ(bob[0].at("id"), "2");
  EXPECT_EQ(ann[0].at("active"), "1") << "the server default fills the omitted column";
  EXPECT_EQ(query("SELECT count(*) AS n FROM user WHERE id = rowid")[0].at("n"), "2")
      << "id must be the rowid alias, or ids are not assigned by the database";
}

TEST_F(SqliteDdl, bigint_autoincrement_key_still_becomes_the_rowid) {
  schema::MetaData md;
  schema::Table t;
  t.name = "event";
  t.columns = {testing::id_column(schema::TypeKind::big_integer),
               testing::column("kind", {schema::TypeKind::text, std::nullopt})};
  for (const std::string& s : dialect_.create_table_sql(md.add(t))) exec(s);
  exec("INSERT INTO event (kind) VALUES ('a'), ('b')");
  EXPECT_EQ(query("SELECT max(id) AS m FROM event")[0].at("m"), "2");
}

TEST_F(SqliteDdl, named_constraints_are_enforced_and_named_in_errors) {
  insert_user("ann", "ann@example.com");
  EXPECT_NO_THROW(run(insert_post(1, "hello")));
  try {
    run(insert_post(1, ""));
    FAIL() << "the CHECK constraint was not created";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("ck_post_title_not_empty"), std::string::npos) << e.what();
  }
  EXPECT_THROW(run(insert_post(99, "orphan")), std::runtime_error) << "foreign key not enforced";
  EXPECT_THROW(run(insert_post(1, "hello")), std::runtime_error) << "unique not enforced";
  EXPECT_THROW(insert_user("ann2", "ann@example.com"), std::runtime_error)
      << "unique email not enforced";
}

TEST_F(SqliteDdl, delete_cascades_to_posts) {
  insert_user("ann", "ann@example.com");
  run(insert_post(1, "a"));
  run(insert_post(1, "b"));
  sql::Delete del;
  del.table = "user";
  del.where =
      sql::binary(sql::BinaryOp::eq, sql::column("user", "id"), sql::param(Value{std::int64_t{1}}));
  del.returning = {"name"};
  const std::vector<Row> deleted = run(sql::compile(del, dialect_));
  ASSERT_EQ(deleted.size(), 1u);
  EXPECT_EQ(deleted[0].at("name"), "ann");
  EXPECT_EQ(query("SELECT count(*) AS n FROM post")[0].at("n"), "0");
}

TEST_F(SqliteDdl, compiled_selects_run_including_empty_in_and_offset_alone) {
  insert_user("ann", "ann@example.com");
  insert_user("Bob", "bob@example.com");
  sql::Select s;
  s.columns = {sql::column("user", "name")};
  s.from = "user";
  s.order_by = {{sql::column("user", "id"), false}};

  s.where = sql::in(sql::column("user", "id"), std::vector<sql::ExprPtr>{});
  EXPECT_TRUE(run(sql::compile(s, dialect_)).empty());
  s.where = sql::in(sql::column("user", "id"), std::vector<sql::ExprPtr>{}, true);
  EXPECT_EQ(run(sql::compile(s, dialect_)).size(), 2u);

  s.where = sql::binary(sql::BinaryOp::ilike, sql::column("user", "name"),
                        sql::param(Value{std::string("b%")}));
  const std::vector<Row> bob = run(sql::compile(s, dialect_));
  ASSERT_EQ(bob.size(), 1u);
  EXPECT_EQ(bob[0].at("name"), "Bob");

  s.where = nullptr;
  s.offset = 1;
  const std::vector<Row> rest = run(sql::compile(s, dialect_));
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].at("name"), "Bob");
}

TEST_F(SqliteDdl, update_with_returning_and_drop_table) {
  insert_user("ann", "ann@example.com");
  sql::Update up;
  up.table = "user";
  up.set = {{"name", sql::param(Value{std::string("anne")})}};
  up.where =
      sql::binary(sql::BinaryOp::eq, sql::column("user", "id"), sql::param(Value{std::int64_t{1}}));
  up.returning = {"name"};
  EXPECT_EQ(run(sql::compile(up, dialect_))[0].at("name"), "anne");

  const schema::MetaData md = testing::blog_metadata();
  for (const std::string& s : dialect_.drop_table_sql(*md.find("post"))) exec(s);
  EXPECT_TRUE(query("PRAGMA index_list(post)").empty()) << "the indexes go with the table";
}

}  // namespace
}  // namespace strata::dialect
