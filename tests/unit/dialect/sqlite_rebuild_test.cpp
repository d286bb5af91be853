// SQLite's migration DDL on a real database file through the strata engine: every kind of
// change that rebuilds a table keeps the rows, the indexes and their names, the constraint
// names and the foreign keys (also those of other tables referring to the rebuilt one); a
// rebuild that cannot keep the data fails inside the transaction and leaves nothing behind;
// and the forms we call native are ones SQLite accepts.
// Each change runs as the migration runtime will: PRAGMA foreign_keys=OFF outside the
// transaction when the plan asks, BEGIN, the statements, foreign_key_check_sql() must return
// nothing, COMMIT, PRAGMA foreign_keys=ON.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "strata/dialect/dialect.hpp"
#include "strata/engine/connection.hpp"
#include "strata/engine/url.hpp"
#include "strata/error.hpp"

#include "dialect/sqlite/sqlite.hpp"
#include "unit/dialect/ddl_fixtures.hpp"

namespace strata::dialect {
namespace {

namespace fs = std::filesystem;
using testing::column;
using Kind = TableChange::Kind;
using Row = std::map<std::string, std::string>;  // column -> text, "NULL" for null
using Values = std::vector<std::vector<std::string>>;

// user(id, email UNIQUE, password_hash NULL) <- post(user_id) with an index on post.user_id,
// one on post.views, and a CHECK on post.body. Named by MetaData's default convention.
schema::MetaData blog() {
  schema::Table user;
  user.name = "user";
  user.columns = {testing::id_column(), column("email", {schema::TypeKind::string, 120}),
                  column("password_hash", {schema::TypeKind::string, 128}, true)};
  user.uniques.push_back({"", {"email"}});

  schema::Table post;
  post.name = "post";
  post.columns = {testing::id_column(), column("user_id", {schema::TypeKind::integer, {}}),
                  column("body", {schema::TypeKind::string, 140}),
                  column("timestamp", {schema::TypeKind::datetime, {}}),
                  column("views", {schema::TypeKind::integer, {}}, true)};
  post.foreign_keys.push_back({"", {"user_id"}, "user", {"id"}, {}, {}});
  post.checks.push_back({"body_not_empty", "length(body) > 0"});
  post.indexes.push_back({"", {"user_id"}, false});
  post.indexes.push_back({"", {"views"}, false});

  schema::MetaData md;
  md.add(std::move(user));
  md.add(std::move(post));
  return md;
}

schema::Column& column_of(schema::Table& t, const std::string& name) {
  for (schema::Column& c : t.columns) {
    if (c.name == name) return c;
  }
  throw std::logic_error("no column " + name);
}

class SqliteRebuild : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("strata_rebuild_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const engine::Url url = engine::Url::parse("sqlite:///" + (dir_ / "x.db").string());
    dialect_ = for_url(url);
    conn_ = dialect_->connect(url, {});
    for (const schema::Table* t : md_.sorted_tables()) {
      for (const std::string& s : dialect_->create_table_sql(*t)) conn_->execute(s);
    }
    conn_->execute(
        "INSERT INTO user (id, email, password_hash) VALUES (1, 'ann@example.com', 'h1'), "
        "(2, 'bob@example.com', 'h2'), (3, 'cy@example.com', 'h3')");
    conn_->execute(
        "INSERT INTO post (id, user_id, body, timestamp, views) VALUES "
        "(1, 1, 'hello', '2024-01-01 10:00:00', 5), (2, 1, 'again', '2024-01-02 10:00:00', NULL), "
        "(3, 2, 'bob here', '2024-01-01 10:00:00', 7), (4, 3, 'cy', '2024-01-03 09:30:00', 0)");
    users_ = values("SELECT id, email, password_hash FROM user ORDER BY id");
    posts_ = values("SELECT id, user_id, body, timestamp, views FROM post ORDER BY id");
  }

  void TearDown() override {
    conn_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::vector<Row> query(const std::string& sql) {
    std::unique_ptr<engine::Statement> st = conn_->prepare(sql);
    std::vector<Row> rows;
    while (st->step()) {
      Row row;
      for (int i = 0; i < st->column_count(); ++i) {
        row[std::string(st->column_name(i))] =
            st->is_null(i) ? "NULL" : std::string(st->get_text(i));
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  Values values(const std::string& sql) {
    std::unique_ptr<engine::Statement> st = conn_->prepare(sql);
    Values out;
    while (st->step()) {
      std::vector<std::string> row;
      for (int i = 0; i < st->column_count(); ++i) {
        row.push_back(st->is_null(i) ? "NULL" : std::string(st->get_text(i)));
      }
      out.push_back(std::move(row));
    }
    return out;
  }

  // Runs plan as the migration runtime will. Commits only when the foreign-key check finds
  // nothing; returns what it found (the transaction is rolled back then).
  std::vector<Row> run(const AlterPlan& plan) {
    if (plan.foreign_keys_off) conn_->execute("PRAGMA foreign_keys = OFF");
    struct ForeignKeysBackOn {
      engine::Connection& conn;
      ~ForeignKeysBackOn() {
        try {
          conn.execute("PRAGMA foreign_keys = ON");
        } catch (...) {
        }
      }
    } back_on{*conn_};
    engine::Transaction tx(*conn_);
    for (const std::string& s : plan.statements) conn_->execute(s);
    std::vector<Row> violations;
    if (const std::string check = dialect_->foreign_key_check_sql(); !check.empty()) {
      violations = query(check);
    }
    if (violations.empty()) tx.commit();
    return violations;
  }

  AlterPlan apply(const schema::Table& before, const schema::Table& after, TableChange change,
                  bool expect_rebuild = true) {
    const AlterPlan plan = dialect_->alter_table_sql(before, after, change);
    EXPECT_EQ(plan.rebuild, expect_rebuild) << "native/rebuild choice for " << change.name;
    EXPECT_EQ(plan.foreign_keys_off, expect_rebuild);
    EXPECT_TRUE(run(plan).empty()) << "PRAGMA foreign_key_check found violations";
    return plan;
  }

  schema::Table table(const char* name) const { return *md_.find(name); }

  std::vector<std::string> created_indexes(const std::string& table) {
    std::vector<std::string> names;
    for (const Row& r : query("PRAGMA index_list(" + table + ")")) {
      if (r.at("origin") == "c") names.push_back(r.at("name"));
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  std::string create_sql(const std::string& table) {
    const std::vector<Row> rows =
        query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '" + table + "'");
    return rows.empty() ? std::string() : rows[0].at("sql");
  }

  // What every rebuild must leave: no temporary table, foreign keys on and enforced on post
  // (from both sides), the check and the unique on user.email still there under their names,
  // a sound database.
  void expect_healthy() {
    EXPECT_TRUE(query("SELECT name FROM sqlite_master WHERE name LIKE '%strata_tmp%'").empty())
        << "a temporary table of the rebuild was left behind";
    EXPECT_EQ(query("PRAGMA foreign_keys")[0].at("foreign_keys"), "1");
    EXPECT_EQ(query("PRAGMA integrity_check")[0].at("integrity_check"), "ok");
    EXPECT_NE(create_sql("user").find("CONSTRAINT uq_user_email UNIQUE"), std::string::npos);
    EXPECT_NE(create_sql("post").find("CONSTRAINT pk_post PRIMARY KEY"), std::string::npos);
    EXPECT_THROW(
        conn_->execute("INSERT INTO user (email, password_hash) VALUES ('ann@example.com', 'x')"),
        IntegrityError)
        << "unique email no longer enforced";
  }

  void expect_post_foreign_key_enforced() {
    const std::vector<Row> fks = query("PRAGMA foreign_key_list(post)");
    ASSERT_EQ(fks.size(), 1u) << "post lost its foreign key";
    EXPECT_EQ(fks[0].at("table"), "user");
    EXPECT_EQ(fks[0].at("from"), "user_id");
    EXPECT_EQ(fks[0].at("to"), "id");
    EXPECT_NE(create_sql("post").find("CONSTRAINT fk_post_user_id_user FOREIGN KEY"),
              std::string::npos)
        << "the foreign key lost its name: " << create_sql("post");
    EXPECT_THROW(conn_->execute("INSERT INTO post (user_id, body, timestamp) "
                                "VALUES (999, 'orphan', '2024-02-01')"),
                 IntegrityError)
        << "a post for a missing user was accepted";
    EXPECT_THROW(conn_->execute("DELETE FROM user WHERE id = 1"), IntegrityError)
        << "deleting a user with posts was accepted";
  }

  schema::MetaData md_ = blog();
  fs::path dir_;
  std::shared_ptr<Dialect> dialect_;
  std::unique_ptr<engine::Connection> conn_;
  Values users_;  // as inserted by SetUp
  Values posts_;
};

TEST_F(SqliteRebuild, widening_a_column_type_keeps_rows_indexes_names_and_foreign_keys) {
  schema::Table after = table("post");
  column_of(after, "body").type = {schema::TypeKind::string, 280};
  apply(table("post"), after, {Kind::alter_column, "body", {}});

  EXPECT_EQ(values("SELECT id, user_id, body, timestamp, views FROM post ORDER BY id"), posts_);
  EXPECT_EQ(query("PRAGMA table_info(post)")[2].at("type"), "VARCHAR(280)");
  EXPECT_EQ(created_indexes("post"),
            (std::vector<std::string>{"ix_post_user_id", "ix_post_views"}));
  EXPECT_NE(create_sql("post").find("CONSTRAINT ck_post_body_not_empty CHECK"), std::string::npos);
  EXPECT_THROW(conn_->execute("INSERT INTO post (user_id, body, timestamp) VALUES (1, '', 'x')"),
               IntegrityError)
      << "the check no longer holds";
  expect_post_foreign_key_enforced();
  expect_healthy();
}

TEST_F(SqliteRebuild, a_rename_that_changes_only_the_case_keeps_rows_and_foreign_keys) {
  // SQLite refused "user" to "User" ("there is already another table ... named User").
  schema::Table after = table("user");
  after.name = "User";
  const AlterPlan plan = apply(table("user"), after, {Kind::rename_table, "user", "User"}, false);
  EXPECT_EQ(plan.statements.size(), 2u);
  EXPECT_EQ(query("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'User'").size(),
            1u);
  EXPECT_EQ(values("SELECT id, email, password_hash FROM \"User\" ORDER BY id"), users_);
  EXPECT_NE(create_sql("post").find("\"User\""), std::string::npos)
      << "post's foreign key does not follow: " << create_sql("post");
  EXPECT_NE(create_sql("User").find("CONSTRAINT uq_user_email UNIQUE"), std::string::npos);
  EXPECT_TRUE(query("PRAGMA foreign_key_check").empty());
}

TEST_F(SqliteRebuild, rebuilding_the_referenced_table_keeps_the_referring_foreign_key) {
  schema::Table after = table("user");
  column_of(after, "password_hash").nullable = false;
  apply(table("user"), after, {Kind::alter_column, "password_hash", {}});

  EXPECT_EQ(values("SELECT id, email, password_hash FROM user ORDER BY id"), users_);
  EXPECT_EQ(values("SELECT id, user_id, body, timestamp, views FROM post ORDER BY id"), posts_)
      << "rows of the referring table changed";
  EXPECT_EQ(query("PRAGMA table_info(user)")[2].at("notnull"), "1");
  EXPECT_THROW(conn_->execute("INSERT INTO user (email) VALUES ('dee@example.com')"),
               IntegrityError)
      << "NOT NULL not enforced";
  expect_post_foreign_key_enforced();
  expect_healthy();
}

TEST_F(SqliteRebuild, add_unique_is_enforced_under_its_name) {
  schema::Table before = table("post");
  schema::Table after = before;
  after.uniques.push_back({"uq_post_user_id_timestamp", {"user_id", "timestamp"}});
  apply(before, after, {Kind::add_unique, "uq_post_user_id_timestamp", {}});

  EXPECT_EQ(values("SELECT id, user_id, body, timestamp, views FROM post ORDER BY id"), posts_);
  EXPECT_NE(create_sql("post").find("CONSTRAINT uq_post_user_id_timestamp UNIQUE (user_id, "
                                    "timestamp)"),
            std::string::npos);
  EXPECT_THROW(conn_->execute("INSERT INTO post (user_id, body, timestamp) "
                              "VALUES (1, 'dup', '2024-01-01 10:00:00')"),
               IntegrityError);
  EXPECT_EQ(created_indexes("post"),
            (std::vector<std::string>{"ix_post_user_id", "ix_post_views"}));
  expect_post_foreign_key_enforced();
  expect_healthy();
}

TEST_F(SqliteRebuild, add_check_is_enforced_under_its_name) {
  schema::Table after = table("post");
  after.checks.push_back({"ck_post_views_not_negative", "views IS NULL OR views >= 0"});
  apply(table("post"), after, {Kind::add_check, "ck_post_views_not_negative", {}});

  EXPECT_EQ(values("SELECT id, user_id, body, timestamp, views FROM post ORDER BY id"), posts_);
  try {
    conn_->execute("INSERT INTO post (user_id, body, timestamp, views) VALUES (1, 'x', 'y', -1)");
    FAIL() << "the new check is not enforced";
  } catch (const IntegrityError& e) {
    EXPECT_NE(std::string(e.what()).find("ck_post_views_not_negative"), std::string::npos)
        << e.what();
  }
  expect_post_foreign_key_enforced();
  expect_healthy();
}

TEST_F(SqliteRebuild, a_check_that_names_its_table_is_refused_before_anything_runs) {
  // The new table is made under a temporary name, where "post.views" names nothing: the
  // rebuild failed inside the migration with "no such column", saying nothing of why.
  schema::Table before = table("post");
  before.checks.push_back({"ck_post_views", "post.views >= 0"});
  schema::Table after = before;
  after.checks.push_back({"ck_post_body", "length(body) < 500"});
  try {
    dialect_->alter_table_sql(before, after, {Kind::add_check, "ck_post_body", {}});
    FAIL() << "the rebuild was planned";
  } catch (const CompileError& e) {
    EXPECT_NE(std::string(e.what()).find("its check 'ck_post_views' (post.views >= 0) names its "
                                         "columns after the table's name"),
              std::string::npos)
        << e.what();
  }
  // Unqualified, or qualified by another name inside a literal: rebuilt.
  before.checks.back().sqltext = "views >= 0 AND body <> 'post.views'";
  after = before;
  after.checks.push_back({"ck_post_body", "length(body) < 500"});
  apply(before, after, {Kind::add_check, "ck_post_body", {}});
  expect_healthy();
}

TEST_F(SqliteRebuild, indexed_column_is_dropped_natively_once_its_index_is_gone) {
  schema::Table before = table("post");
  schema::Table no_index = before;
  no_index.indexes.pop_back();  // ix_post_views
  apply(before, no_index, {Kind::drop_index, "ix_post_views", {}}, false);
  schema::Table no_views = no_index;
  no_views.columns.pop_back();
  apply(no_index, no_views, {Kind::drop_column, "views", {}}, false);

  Values expected = posts_;
  for (auto& row : expected) row.pop_back();
  EXPECT_EQ(values("SELECT * FROM post ORDER BY id"), expected);
  EXPECT_EQ(created_indexes("post"), std::vector<std::string>{"ix_post_user_id"});
  expect_post_foreign_key_enforced();
  expect_healthy();
}

TEST_F(SqliteRebuild, indexed_column_dropped_in_one_change_is_rebuilt_without_its_index) {
  schema::Table after = table("post");
  after.indexes.pop_back();
  after.columns.pop_back();
  apply(table("post"), after, {Kind::drop_column, "views", {}});

  Values expected = posts_;
  for (auto& row : expected) row.pop_back();
  EXPECT_EQ(values("SELECT * FROM post ORDER BY id"), expected);
  EXPECT_EQ(created_indexes("post"), std::vector<std::string>{"ix_post_user_id"});
  expect_post_foreign_key_enforced();
  expect_healthy();
}

TEST_F(SqliteRebuild, not_null_column_added_with_a_default_fills_existing_rows) {
  // A literal default: SQLite's own ADD COLUMN.
  schema::Table with_status = table("post");
  schema::Column status = column("status", {schema::TypeKind::string, 16});
  status.server_default = "'draft'";
  with_status.columns.push_back(status);
  apply(table("post"), with_status, {Kind::add_column, "status", {}}, false);
  // CURRENT_TIMESTAMP: refused by ADD COLUMN, so a rebuild.
  schema::Table with_edited = with_status;
  schema::Column edited = column("edited_at", {schema::TypeKind::datetime, {}});
  edited.server_default = "CURRENT_TIMESTAMP";
  with_edited.columns.push_back(edited);
  apply(with_status, with_edited, {Kind::add_column, "edited_at", {}});

  EXPECT_EQ(values("SELECT id, user_id, body, timestamp, views FROM post ORDER BY id"), posts_);
  EXPECT_EQ(values("SELECT DISTINCT status FROM post"), Values{{"draft"}});
  EXPECT_EQ(query("SELECT count(*) AS n FROM post WHERE edited_at IS NULL")[0].at("n"), "0");
  EXPECT_EQ(created_indexes("post"),
            (std::vector<std::string>{"ix_post_user_id", "ix_post_views"}));
  expect_post_foreign_key_enforced();
  expect_healthy();
}

TEST_F(SqliteRebuild, dropped_foreign_key_is_no_longer_enforced) {
  schema::Table after = table("post");
  after.foreign_keys.clear();
  apply(table("post"), after, {Kind::drop_foreign_key, "fk_post_user_id_user", {}});

  EXPECT_EQ(values("SELECT id, user_id, body, timestamp, views FROM post ORDER BY id"), posts_);
  EXPECT_TRUE(query("PRAGMA foreign_key_list(post)").empty());
  EXPECT_NO_THROW(conn_->execute(
      "INSERT INTO post (user_id, body, timestamp) VALUES (999, 'orphan', '2024-02-01')"));
  expect_healthy();
}

TEST_F(SqliteRebuild, foreign_key_that_rows_violate_is_found_before_commit) {
  schema::Table with_fk = table("post");
  schema::Table without_fk = with_fk;
  without_fk.foreign_keys.clear();
  apply(with_fk, without_fk, {Kind::drop_foreign_key, "fk_post_user_id_user", {}});
  conn_->execute("INSERT INTO post (user_id, body, timestamp) VALUES (999, 'orphan', 'x')");

  const AlterPlan plan = dialect_->alter_table_sql(
      without_fk, with_fk, {Kind::add_foreign_key, "fk_post_user_id_user", {}});
  const std::vector<Row> violations = run(plan);
  ASSERT_EQ(violations.size(), 1u) << "PRAGMA foreign_key_check missed the orphan";
  EXPECT_EQ(violations[0].at("table"), "post");
  EXPECT_TRUE(query("PRAGMA foreign_key_list(post)").empty()) << "the rebuild was not rolled back";
  EXPECT_EQ(values("SELECT count(*) FROM post"), Values{{"5"}});
  expect_healthy();
}

TEST_F(SqliteRebuild, not_null_over_a_null_fails_at_the_copy_and_leaves_the_table_untouched) {
  conn_->execute("UPDATE user SET password_hash = NULL WHERE id = 3");
  const Values users = values("SELECT * FROM user ORDER BY id");
  const std::string user_sql = create_sql("user");
  schema::Table after = table("user");
  column_of(after, "password_hash").nullable = false;
  const AlterPlan plan =
      dialect_->alter_table_sql(table("user"), after, {Kind::alter_column, "password_hash", {}});
  ASSERT_TRUE(plan.rebuild);

  conn_->execute("PRAGMA foreign_keys = OFF");
  std::size_t failed_at = plan.statements.size();
  {
    engine::Transaction tx(*conn_);
    for (std::size_t i = 0; i < plan.statements.size(); ++i) {
      try {
        conn_->execute(plan.statements[i]);
      } catch (const IntegrityError& e) {
        failed_at = i;
        EXPECT_EQ(e.kind(), ConstraintKind::not_null) << e.what();
        break;
      }
    }
  }  // rolled back
  conn_->execute("PRAGMA foreign_keys = ON");

  EXPECT_EQ(failed_at, 1u) << "the INSERT ... SELECT should be the step that fails";
  EXPECT_EQ(values("SELECT * FROM user ORDER BY id"), users);
  EXPECT_EQ(create_sql("user"), user_sql) << "the original table was not restored";
  EXPECT_EQ(values("SELECT id, user_id, body, timestamp, views FROM post ORDER BY id"), posts_);
  expect_post_foreign_key_enforced();
  expect_healthy();
}

// The copy kept a changed column's values as they were: 5 in a BOOLEAN column, which strata
// reads as an integer but never writes, '2024-01-01 10:00:00' in a DATE one, which it cannot
// read. Each now becomes what strata writes for the new type; a change that needs no
// conversion still copies the column as it is.
TEST_F(SqliteRebuild, a_type_change_converts_the_values_to_what_strata_writes_for_the_new_type) {
  schema::Table flags = table("post");
  column_of(flags, "views").type = {schema::TypeKind::boolean, {}};
  apply(table("post"), flags, {Kind::alter_column, "views", {}});
  EXPECT_EQ(values("SELECT views, typeof(views) FROM post ORDER BY id"),
            (Values{{"1", "integer"}, {"NULL", "null"}, {"1", "integer"}, {"0", "integer"}}));

  schema::Table dated = flags;
  column_of(dated, "timestamp").type = {schema::TypeKind::date, {}};
  apply(flags, dated, {Kind::alter_column, "timestamp", {}});
  EXPECT_EQ(values("SELECT timestamp FROM post ORDER BY id"),
            (Values{{"2024-01-01"}, {"2024-01-02"}, {"2024-01-01"}, {"2024-01-03"}}));
  EXPECT_TRUE(query("SELECT name FROM sqlite_master WHERE type = 'trigger'").empty())
      << "the conversion's trigger was left behind";

  schema::Table text = dated;
  column_of(text, "body").type = {schema::TypeKind::text, {}};
  const AlterPlan plan = apply(dated, text, {Kind::alter_column, "body", {}});
  EXPECT_EQ(plan.statements.at(1),
            "INSERT INTO _strata_tmp_post (id, user_id, body, timestamp, views) SELECT id, "
            "user_id, body, timestamp, views FROM post");
  expect_post_foreign_key_enforced();
  expect_healthy();
}

// SQLite kept 100000 in a SMALLINT column, which no int16 member could load again; PostgreSQL
// fails the change ("smallint out of range"), and so does the copy now, leaving the table.
TEST_F(SqliteRebuild, a_value_that_does_not_convert_fails_the_copy_and_leaves_the_table) {
  conn_->execute("UPDATE post SET views = 100000 WHERE id = 3");
  const Values posts = values("SELECT id, user_id, body, timestamp, views FROM post ORDER BY id");
  const std::string post_sql = create_sql("post");
  schema::Table after = table("post");
  column_of(after, "views").type = {schema::TypeKind::small_integer, {}};
  const AlterPlan plan =
      dialect_->alter_table_sql(table("post"), after, {Kind::alter_column, "views", {}});
  try {
    run(plan);
    ADD_FAILURE() << "the copy took 100000 into a SMALLINT column";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("column 'views' of table 'post' holds a value that does "
                                         "not convert from Integer to SmallInteger"),
              std::string::npos)
        << e.what();
  }
  conn_->execute("PRAGMA foreign_keys = ON");
  EXPECT_EQ(values("SELECT id, user_id, body, timestamp, views FROM post ORDER BY id"), posts);
  EXPECT_EQ(create_sql("post"), post_sql) << "the original table was not restored";
  EXPECT_TRUE(query("SELECT name FROM sqlite_master WHERE type = 'trigger'").empty());
  expect_healthy();
}

TEST_F(SqliteRebuild, forced_rebuild_moves_a_renamed_columns_values) {
  schema::Table after = table("post");
  column_of(after, "body").name = "content";
  after.checks[0].sqltext = "length(content) > 0";
  const auto& sqlite_dialect = dynamic_cast<const sqlite::SqliteDialect&>(*dialect_);
  const AlterPlan plan = sqlite::rebuild_table_sql(sqlite_dialect, table("post"), after,
                                                   {Kind::rename_column, "body", "content"});
  EXPECT_TRUE(run(plan).empty());
  EXPECT_EQ(values("SELECT id, user_id, content, timestamp, views FROM post ORDER BY id"), posts_);
  EXPECT_EQ(query("PRAGMA foreign_key_list(post)").size(), 1u);
  EXPECT_THROW(conn_->execute("INSERT INTO post (user_id, content, timestamp) "
                              "VALUES (999, 'orphan', '2024-02-01')"),
               IntegrityError);
  EXPECT_EQ(created_indexes("post"),
            (std::vector<std::string>{"ix_post_user_id", "ix_post_views"}));
  expect_healthy();
}

// What the dialect calls native must be what SQLite 3.40 accepts, on a table with rows.
TEST_F(SqliteRebuild, native_forms_are_accepted_by_sqlite) {
  schema::Table current = table("post");
  auto add = [&](const char* name, schema::Type type, bool nullable, const char* server_default) {
    schema::Table next = current;
    schema::Column c = column(name, type, nullable);
    if (server_default) c.server_default = server_default;
    next.columns.push_back(c);
    apply(current, next, {Kind::add_column, name, {}}, false);
    current = next;
  };
  add("note", {schema::TypeKind::text, {}}, true, nullptr);
  add("score", {schema::TypeKind::float_, {}}, false, "-1.5e3");
  add("flag", {schema::TypeKind::boolean, {}}, false, "TRUE");
  add("raw", {schema::TypeKind::blob, {}}, true, "X'00ff'");
  add("label", {schema::TypeKind::text, {}}, false, "'it''s'");
  EXPECT_EQ(values("SELECT DISTINCT score, flag, hex(raw), label FROM post"),
            (Values{{"-1500.0", "1", "00FF", "it's"}}));

  schema::Table renamed = current;
  column_of(renamed, "note").name = "remark";
  apply(current, renamed, {Kind::rename_column, "note", "remark"}, false);
  schema::Table dropped = renamed;
  std::erase_if(dropped.columns, [](const schema::Column& c) { return c.name == "remark"; });
  apply(renamed, dropped, {Kind::drop_column, "remark", {}}, false);
  schema::Table article = dropped;
  article.name = "article";
  apply(dropped, article, {Kind::rename_table, "post", "article"}, false);
  EXPECT_EQ(values("SELECT id, user_id, body, timestamp, views FROM article ORDER BY id"), posts_);
  EXPECT_EQ(created_indexes("article"),
            (std::vector<std::string>{"ix_post_user_id", "ix_post_views"}));
}

}  // namespace
}  // namespace strata::dialect
