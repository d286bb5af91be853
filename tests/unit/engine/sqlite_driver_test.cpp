// The SQLite driver on real files and in memory: opening (and failing to open) databases, and
// how each kind of SQLite failure becomes a strata error carrying the SQL and parameters.
#include <sqlite3.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "sqlite_support.hpp"
#include "strata/dialect/dialect.hpp"

using namespace strata;
using strata::testing::open_memory;
using strata::testing::open_sqlite;
using strata::testing::query_int;
using strata::testing::TempDir;

namespace {

std::unique_ptr<engine::Connection> blog_schema() {
  auto c = open_memory();
  c->execute(
      "CREATE TABLE user (id INTEGER PRIMARY KEY, username TEXT NOT NULL,"
      "  CONSTRAINT uq_user_username UNIQUE (username));"
      "CREATE TABLE post (id INTEGER PRIMARY KEY, body TEXT,"
      "  user_id INTEGER REFERENCES user (id),"
      "  CONSTRAINT ck_post_body_len CHECK (length(body) > 0));"
      "INSERT INTO user (id, username) VALUES (1, 'ann')");
  return c;
}

// Runs sql with params on c and returns the error it throws, as type E.
template <class E>
E error_of(engine::Connection& c, const std::string& sql, const std::vector<Value>& params = {}) {
  try {
    auto s = c.prepare(sql);
    s->bind_all(params);
    s->execute();
  } catch (const E& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong error kind for " << sql << ": " << e.what();
    throw;
  }
  ADD_FAILURE() << "no error from " << sql;
  throw std::logic_error("no error");
}

}  // namespace

TEST(SqliteDriver, unique_violation_is_an_integrity_error_naming_table_and_sql) {
  auto c = blog_schema();
  const auto e =
      error_of<IntegrityError>(*c, "INSERT INTO user (username) VALUES (?)", {std::string("ann")});
  EXPECT_EQ(e.kind(), ConstraintKind::unique);
  EXPECT_EQ(e.table(), "user");
  EXPECT_EQ(std::string(e.what()),
            "UNIQUE constraint failed: user.username [SQL: INSERT INTO user (username) VALUES "
            "(?)] [parameters: 'ann']");
  EXPECT_EQ(e.sql(), "INSERT INTO user (username) VALUES (?)");
  EXPECT_EQ(e.info().params, std::vector<std::string>{"'ann'"});
  EXPECT_EQ(e.info().driver_message, "UNIQUE constraint failed: user.username");
  EXPECT_EQ(e.code(), SQLITE_CONSTRAINT_UNIQUE) << "the extended result code is expected";
}

TEST(SqliteDriver, primary_key_violation_has_its_own_kind) {
  auto c = blog_schema();
  const auto e = error_of<IntegrityError>(*c, "INSERT INTO user (id, username) VALUES (1, 'b')");
  EXPECT_EQ(e.kind(), ConstraintKind::primary_key);
  EXPECT_EQ(e.table(), "user");
}

TEST(SqliteDriver, not_null_violation_names_the_table) {
  auto c = blog_schema();
  const auto e = error_of<IntegrityError>(*c, "INSERT INTO user (username) VALUES (NULL)");
  EXPECT_EQ(e.kind(), ConstraintKind::not_null);
  EXPECT_EQ(e.table(), "user");
}

TEST(SqliteDriver, foreign_keys_are_enforced_by_default) {
  auto c = blog_schema();
  const auto e = error_of<IntegrityError>(*c, "INSERT INTO post (body, user_id) VALUES ('x', 99)");
  EXPECT_EQ(e.kind(), ConstraintKind::foreign_key);
}

TEST(SqliteDriver, foreign_keys_can_be_left_off) {
  auto c = open_sqlite("sqlite://",
                       {.busy_timeout = std::chrono::milliseconds(0), .foreign_keys = false});
  EXPECT_EQ(query_int(*c, "PRAGMA foreign_keys"), 0);
}

TEST(SqliteDriver, check_violation_names_the_constraint) {
  auto c = blog_schema();
  const auto e = error_of<IntegrityError>(*c, "INSERT INTO post (body, user_id) VALUES ('', 1)");
  EXPECT_EQ(e.kind(), ConstraintKind::check);
  EXPECT_EQ(e.constraint(), "ck_post_body_len");
}

TEST(SqliteDriver, no_such_table_is_a_programming_error) {
  auto c = open_memory();
  const auto e = error_of<ProgrammingError>(*c, "SELECT * FROM nothere");
  EXPECT_EQ(std::string(e.what()), "no such table: nothere [SQL: SELECT * FROM nothere]");
  EXPECT_EQ(e.sql(), "SELECT * FROM nothere");
}

TEST(SqliteDriver, syntax_error_is_a_programming_error_from_execute_too) {
  auto c = open_memory();
  try {
    c->execute("CREATE TABLE t (v);\nSELEC 1");
    FAIL() << "a syntax error went unnoticed";
  } catch (const ProgrammingError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("syntax error"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "what() must be one line: " << msg;
  }
}

TEST(SqliteDriver, datatype_mismatch_is_a_data_error) {
  auto c = open_memory();
  c->execute("CREATE TABLE t (id INTEGER PRIMARY KEY)");
  error_of<DataError>(*c, "INSERT INTO t (id) VALUES ('not a number')");
}

TEST(SqliteDriver, opening_a_file_in_a_missing_folder_names_the_folder) {
  TempDir dir;
  const std::string folder = (dir.path() / "missing").string();
  try {
    open_sqlite("sqlite:///" + folder + "/app.db");
    FAIL() << "opened a database in a folder that does not exist";
  } catch (const OperationalError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot open database file '" + folder + "/app.db': folder '" +
                                         folder + "' does not exist");
  }
}

TEST(SqliteDriver, a_folder_that_cannot_be_looked_at_is_said_so_not_taken_for_missing) {
  // A symbolic link loop stands for any folder stat() fails on (one not searchable, when not
  // root): before, the file counted as missing, and the migration commands read such a
  // database as one with nothing applied.
  TempDir dir;
  const auto loop = dir.path() / "loop";
  std::filesystem::create_directory_symlink(loop, loop);
  const std::string url = "sqlite:///" + (loop / "app.db").string();
  try {
    open_sqlite(url);
    FAIL() << "opened a database through a symbolic link loop";
  } catch (const OperationalError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot look at folder '" + loop.string() + "'"),
              std::string::npos)
        << e.what();
    EXPECT_EQ(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
  const auto parsed = strata::engine::Url::parse(url);
  EXPECT_THROW((void)strata::dialect::for_url(parsed)->exists(parsed), OperationalError);
}

TEST(SqliteDriver, opening_a_folder_as_a_database_says_so) {
  TempDir dir;
  try {
    open_sqlite("sqlite:///" + dir.path().string());
    FAIL() << "opened a folder as a database";
  } catch (const OperationalError& e) {
    EXPECT_NE(std::string(e.what()).find("is a folder"), std::string::npos) << e.what();
  }
}

TEST(SqliteDriver, file_database_is_created_and_shared_between_connections) {
  TempDir dir;
  const std::string url = dir.url("app.db");
  auto a = open_sqlite(url);
  a->execute("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (42)");
  auto b = open_sqlite(url);
  EXPECT_EQ(query_int(*b, "SELECT v FROM t"), 42);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "app.db"));
}

TEST(SqliteDriver, not_a_database_file_is_an_operational_error) {
  TempDir dir;
  std::ofstream(dir.path() / "junk.db") << std::string(4096, 'x');
  auto c = open_sqlite(dir.url("junk.db"), {.foreign_keys = false});
  EXPECT_THROW(c->execute("SELECT * FROM sqlite_master"), OperationalError);
}

TEST(SqliteDriver, a_url_mode_opens_the_file_read_only_or_without_creating_it) {
  TempDir dir;
  open_sqlite(dir.url("app.db"))->execute("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1)");
  auto ro = open_sqlite(dir.url("app.db") + "?mode=ro");
  EXPECT_EQ(query_int(*ro, "SELECT v FROM t"), 1);
  EXPECT_THROW(ro->execute("INSERT INTO t VALUES (2)"), DatabaseError);
  EXPECT_EQ(query_int(*ro, "SELECT count(*) FROM t"), 1);
  EXPECT_THROW(open_sqlite(dir.url("missing.db") + "?mode=rw"), OperationalError);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "missing.db"));
  auto rw = open_sqlite(dir.url("app.db") + "?mode=rw");
  rw->execute("INSERT INTO t VALUES (2)");
  EXPECT_EQ(query_int(*rw, "SELECT count(*) FROM t"), 2);
}

TEST(SqliteDriver, a_url_query_sqlite_would_ignore_is_refused_when_the_dialect_is_chosen) {
  // Ignored, `?mode=ro` misspelt would open the file for writing.
  auto refused = [](const std::string& url) {
    try {
      dialect::for_url(engine::Url::parse(url));
    } catch (const ArgumentError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(refused("sqlite:///app.db?mdoe=ro"),
            "SQLite URL 'sqlite:///app.db?mdoe=ro': unknown query parameter 'mdoe'; the only one "
            "is mode (ro, rw or rwc)");
  EXPECT_NE(refused("sqlite:///app.db?mode=readonly").find("mode 'readonly' is not ro"),
            std::string::npos);
  EXPECT_NE(refused("sqlite://?mode=ro").find("an in-memory database takes no mode"),
            std::string::npos);
  EXPECT_EQ(refused("sqlite:///app.db?mode=ro"), "accepted");
  EXPECT_EQ(refused("postgresql:///app?sslmode=disable"), "accepted");
}

TEST(SqliteDriver, locked_database_times_out_with_clear_error) {
  TempDir dir;
  const std::string url = dir.url("locked.db");
  auto a = open_sqlite(url);
  a->execute("CREATE TABLE t (v INTEGER)");
  auto b = open_sqlite(url, {.busy_timeout = std::chrono::milliseconds(100)});

  a->execute("BEGIN IMMEDIATE");
  a->execute("INSERT INTO t VALUES (1)");
  auto insert = b->prepare("INSERT INTO t VALUES (?)");
  insert->bind_int64(0, 2);
  const auto start = std::chrono::steady_clock::now();
  try {
    insert->execute();
    FAIL() << "B wrote while A held the write lock";
  } catch (const OperationalError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("database is locked: another connection holds a write lock (waited 100 ms)"),
              std::string::npos)
        << msg;
    EXPECT_EQ(e.info().params, std::vector<std::string>{"2"});
  }
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(90))
      << "the busy timeout was not applied";

  a->execute("COMMIT");
  EXPECT_EQ(insert->execute(), 1) << "after A committed, B's statement (kept bindings) must work";
  EXPECT_EQ(query_int(*a, "SELECT count(*) FROM t"), 2);
}

TEST(SqliteDriver, a_commit_that_waits_for_a_reader_says_so_not_that_a_writer_holds_a_lock) {
  TempDir dir;
  const std::string url = dir.url("locked.db");
  auto reader = open_sqlite(url);
  reader->execute("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1)");
  auto writer = open_sqlite(url, {.busy_timeout = std::chrono::milliseconds(50)});
  reader->execute("BEGIN");
  EXPECT_EQ(query_int(*reader, "SELECT count(*) FROM t"), 1);  // holds its read lock
  writer->execute("BEGIN");
  writer->execute("INSERT INTO t VALUES (2)");
  try {
    writer->execute("COMMIT");
    FAIL() << "committed while another connection was reading (rollback journal)";
  } catch (const OperationalError& e) {
    EXPECT_NE(std::string(e.what()).find("another connection is reading, and this COMMIT waits "
                                         "for its read to end (waited 50 ms)"),
              std::string::npos)
        << e.what();
  }
  reader->execute("COMMIT");
  writer->execute("COMMIT");
  EXPECT_EQ(query_int(*reader, "SELECT count(*) FROM t"), 2);
}

// SQLite waits for a write lock only when the connection holds no read transaction yet: a
// transaction that read first is refused at once, whatever the busy timeout. The message says
// so, rather than that it waited, and names the way out.
TEST(SqliteDriver, a_transaction_that_read_first_is_refused_the_write_lock_at_once_and_says_why) {
  TempDir dir;
  const std::string url = dir.url("locked.db");
  auto a = open_sqlite(url);
  a->execute("CREATE TABLE t (v INTEGER)");
  auto b = open_sqlite(url, {.busy_timeout = std::chrono::milliseconds(60000)});

  a->execute("BEGIN IMMEDIATE");
  a->execute("INSERT INTO t VALUES (1)");
  b->begin();
  EXPECT_EQ(query_int(*b, "SELECT count(*) FROM t"), 0);
  const auto start = std::chrono::steady_clock::now();
  try {
    b->execute("INSERT INTO t VALUES (2)");
    FAIL() << "B wrote while A held the write lock";
  } catch (const OperationalError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("database is locked: another connection is writing, and this transaction "
                       "read before its first write, so SQLite refuses the write at once"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("BEGIN IMMEDIATE (ConnectOptions::begin_immediate)"), std::string::npos)
        << msg;
    EXPECT_EQ(msg.find("waited"), std::string::npos) << msg;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30))
      << "SQLite waited for the lock after all";

  b->rollback();
  a->execute("COMMIT");
  b->begin();
  EXPECT_EQ(query_int(*b, "SELECT count(*) FROM t"), 1);
  b->execute("INSERT INTO t VALUES (2)");  // run again, it works
  b->commit();
  EXPECT_EQ(query_int(*a, "SELECT count(*) FROM t"), 2);
}

// In WAL mode a reader keeps its snapshot: once another connection has committed, the
// reader's transaction can no longer write (SQLITE_BUSY_SNAPSHOT).
TEST(SqliteDriver, a_write_after_reading_an_old_wal_snapshot_is_refused_and_says_why) {
  TempDir dir;
  const std::string url = dir.url("wal.db");
  auto a = open_sqlite(url);
  a->execute("PRAGMA journal_mode = WAL; CREATE TABLE t (v INTEGER)");
  auto b = open_sqlite(url);

  b->begin();
  EXPECT_EQ(query_int(*b, "SELECT count(*) FROM t"), 0);
  a->execute("INSERT INTO t VALUES (1)");  // committed: no lock is held any more
  try {
    b->execute("INSERT INTO t VALUES (2)");
    FAIL() << "B wrote from a snapshot older than A's commit";
  } catch (const OperationalError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("database is locked: another connection wrote after this transaction "
                       "began reading, so SQLite refuses the write at once"),
              std::string::npos)
        << msg;
  }
  b->rollback();
  EXPECT_EQ(query_int(*a, "SELECT count(*) FROM t"), 1);
}

// With begin_immediate, BEGIN takes the write lock, waiting the busy timeout for it, so a
// transaction that reads and then writes waits for the other writer instead of failing.
TEST(SqliteDriver, begin_immediate_waits_for_the_write_lock_at_begin) {
  TempDir dir;
  const std::string url = dir.url("immediate.db");
  auto a = open_sqlite(url);
  a->execute("CREATE TABLE t (v INTEGER)");
  auto b =
      open_sqlite(url, {.busy_timeout = std::chrono::milliseconds(100), .begin_immediate = true});

  a->execute("BEGIN IMMEDIATE");
  a->execute("INSERT INTO t VALUES (1)");
  try {
    b->begin();
    FAIL() << "B began a write transaction while A held the write lock";
  } catch (const OperationalError& e) {
    EXPECT_NE(std::string(e.what()).find("another connection holds a write lock (waited 100 ms)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(b->in_transaction());

  // A commits while B waits in BEGIN; B then reads A's row and writes its own.
  auto c =
      open_sqlite(url, {.busy_timeout = std::chrono::milliseconds(60000), .begin_immediate = true});
  std::thread committer([&a] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    a->execute("COMMIT");
  });
  c->begin();
  committer.join();
  EXPECT_EQ(query_int(*c, "SELECT count(*) FROM t"), 1);
  c->execute("INSERT INTO t VALUES (2)");
  c->commit();
  EXPECT_EQ(query_int(*a, "SELECT count(*) FROM t"), 2);
}

TEST(SqliteDriver, in_transaction_follows_the_database) {
  auto c = open_memory();
  EXPECT_FALSE(c->in_transaction());
  c->begin();
  EXPECT_TRUE(c->in_transaction());
  c->commit();
  EXPECT_FALSE(c->in_transaction());
  EXPECT_TRUE(c->is_alive());
}

TEST(SqliteDriver, statements_may_outlive_their_cache_entry_connection_closes_cleanly) {
  auto c = open_memory();
  auto held = c->prepare_cached("SELECT 1");
  ASSERT_TRUE(held->step());
  // Destroying the borrow before the connection is the contract; this checks that closing
  // the connection with cached statements (finalized after sqlite3_close_v2) is clean.
  held = engine::CachedStatement();
  c.reset();
  SUCCEED();
}
