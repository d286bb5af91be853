// Applying migrations through the command functions on every backend of STRATA_TEST_URLS (a
// SQLite file of the test's own for SQLite, the server's database emptied for PostgreSQL):
// concurrent upgrades apply each migration once, `call` runs the registered callback inside
// the migration's transaction, `execute` picks the dialect's SQL, a failing migration leaves
// the database at the revision before it, and a held migration lock times out clearly.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "strata/migrate/commands.hpp"
#include "strata/migrate/errors.hpp"
#include "strata/strata.hpp"

#include "backend.hpp"

namespace fs = std::filesystem;
using namespace strata;
using namespace strata::migrate;

namespace {

// The URLs to run on: SQLite in memory cannot be shared by the command's own engine, so a
// SQLite entry means a file in the test's scratch folder.
std::vector<std::string> apply_urls() {
  std::vector<std::string> out;
  bool sqlite = false;
  for (const auto& url : backend::test_urls()) {
    if (engine::Url::parse(url).backend() == "sqlite") {
      if (!sqlite) out.push_back("sqlite");
      sqlite = true;
    } else {
      out.push_back(url);
    }
  }
  return out;
}

struct Scratch {
  fs::path dir;
  std::string url;
  explicit Scratch(const std::string& backend_url) {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (auto& c : name)
      if (c == '/') c = '_';
    dir = fs::temp_directory_path() / ("strata_apply_" + std::to_string(::getpid()) + "_" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    if (backend_url == "sqlite") {
      url = "sqlite:///" + (dir / "app.db").string();
    } else {
      url = backend_url;
      empty_database();
    }
  }
  Scratch() : Scratch("sqlite") {}  // for the SQLite-only tests
  ~Scratch() { fs::remove_all(dir); }

  // Every table of the server database goes, the ledger included.
  void empty_database() const {
    Database db{url};
    auto& s = db.session();
    auto tables = s.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()");
    for (const auto& row : tables.rows)
      s.execute("DROP TABLE IF EXISTS \"" + row.get<std::string>(0) + "\" CASCADE");
    s.commit();
  }
};

class MigrateApply : public ::testing::TestWithParam<std::string> {};
INSTANTIATE_TEST_SUITE_P(backends, MigrateApply, ::testing::ValuesIn(apply_urls()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           return param.param == "sqlite"
                                      ? std::string("sqlite_file")
                                      : engine::Url::parse(param.param).backend();
                         });

schema::Column column(std::string name, schema::TypeKind kind, bool nullable = true) {
  return schema::Column{std::move(name), {kind, {}}, nullable, false, false, {}};
}

schema::Table table(std::string name, std::vector<schema::Column> extra) {
  schema::Table t;
  t.name = std::move(name);
  auto id = column("id", schema::TypeKind::integer, false);
  id.primary_key = id.autoincrement = true;
  t.columns.push_back(id);
  for (auto& c : extra) t.columns.push_back(std::move(c));
  t.primary_key = {"pk_" + t.name, {"id"}};
  return t;
}

Config config_for(const Scratch& s, std::ostream& out) {
  Config c;
  c.directory = s.dir / "migrations";
  c.url = s.url;
  c.out = &out;
  return c;
}

std::int64_t count(const std::string& url, const std::string& sql) {
  Database db{url};
  auto r = db.session().execute(sql);
  return r.rows.at(0).get<std::int64_t>(0);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

bool has_table(const std::string& url, const std::string& name) {
  Database db{url};
  try {
    db.session().execute("SELECT 1 FROM " + db.dialect().quote(name) + " WHERE 1 = 0");
    return true;
  } catch (const DatabaseError&) {
    return false;
  }
}

}  // namespace

TEST_P(MigrateApply, concurrent_upgrades_apply_each_migration_exactly_once) {
  Scratch s(GetParam());
  std::ostringstream init_out;
  auto base = config_for(s, init_out);
  init(base);
  std::string parent;
  auto dir = ScriptDirectory::load(base.directory);
  for (int i = 1; i <= 4; ++i) {
    Migration m;
    m.revision = "r" + std::to_string(i) + "0000000000";
    if (!parent.empty()) m.down_revisions = {parent};
    m.message = "table t" + std::to_string(i);
    m.upgrade = {CreateTableOp{table("t" + std::to_string(i), {column("v", schema::TypeKind::integer)})}};
    if (i == 1) m.upgrade.push_back(CallOp{"hold", {}});
    m.downgrade = {DropTableOp{table("t" + std::to_string(i), {column("v", schema::TypeKind::integer)})}};
    dir.write(m);
    parent = m.revision;
  }
  // A holds the migration lock inside the first migration until B has planned the same
  // migrations and is waiting for the lock: without the ledger re-check under the lock, B
  // would run the first migration again.
  std::promise<void> a_inside;
  auto a_inside_future = a_inside.get_future();
  std::ostringstream out_a, out_b;
  auto a = config_for(s, out_a);
  auto b = config_for(s, out_b);
  a.callbacks["hold"] = [&](engine::Connection&) {
    a_inside.set_value();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  };
  b.callbacks["hold"] = [](engine::Connection&) {};
  std::exception_ptr error_a, error_b;
  std::thread ta([&] {
    try {
      upgrade(a);
    } catch (...) {
      error_a = std::current_exception();
    }
  });
  a_inside_future.wait();
  std::thread tb([&] {
    try {
      upgrade(b);
    } catch (...) {
      error_b = std::current_exception();
    }
  });
  ta.join();
  tb.join();
  auto rethrow = [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  };
  EXPECT_NO_THROW(rethrow(error_a)) << out_a.str();
  EXPECT_NO_THROW(rethrow(error_b)) << out_b.str();
  // B either waited at each migration and skipped it (SQLite: the lock is each migration's
  // write transaction) or waited for A's whole run and found nothing left (a run-long lock).
  const bool skipped = out_b.str().find("already applied by another process") != std::string::npos;
  const bool nothing = out_b.str().find("Nothing to do") != std::string::npos;
  EXPECT_TRUE(skipped || nothing) << "B did not wait for A's migrations:\n" << out_b.str();
  EXPECT_EQ(count(a.url, "SELECT count(*) FROM strata_migrations WHERE status = 'applied'"), 4)
      << "a migration was recorded twice or not at all\nA:\n" << out_a.str() << "B:\n" << out_b.str();
}

TEST_P(MigrateApply, call_runs_the_registered_callback_inside_the_migration) {
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  Migration m;
  m.revision = "c10000000000";
  m.message = "backfill";
  m.upgrade = {CreateTableOp{table("item", {column("v", schema::TypeKind::integer)})},
               CallOp{"fill", "empty"}};
  m.downgrade = reverse(m.upgrade);
  ScriptDirectory::load(c.directory).write(m);

  c.callbacks["fill"] = [](engine::Connection& conn) {
    EXPECT_TRUE(conn.in_transaction()) << "the callback ran outside the migration's transaction";
    conn.execute("INSERT INTO item (v) VALUES (1), (2), (3)");
  };
  c.callbacks["empty"] = [](engine::Connection& conn) { conn.execute("DELETE FROM item"); };
  upgrade(c);
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM item"), 3);
  downgrade(c, "base");
  EXPECT_FALSE(has_table(c.url, "item"));
}

// A migration with no downgrade that creates table item, then runs the callback `call`.
void write_item_then_call(const Config& c, const std::string& revision, const std::string& message,
                          const std::string& call) {
  Migration m;
  m.revision = revision;
  m.message = message;
  m.upgrade = {CreateTableOp{table("item", {})}, CallOp{call, {}}};
  m.downgrade = {};
  ScriptDirectory::load(c.directory).write(m);
}

TEST_P(MigrateApply, a_failing_callback_leaves_the_database_at_the_revision_before) {
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_item_then_call(c, "f10000000000", "breaks", "boom");
  c.callbacks["boom"] = [](engine::Connection&) { throw DataError("bad data in row 7", {}); };
  // The database exists beforehand: a failed upgrade removes a SQLite file it created itself
  // (failure row and all; see the next test).
  count(c.url, "SELECT 1");
  try {
    upgrade(c);
    FAIL() << "a throwing callback did not fail the upgrade";
  } catch (const CommandError& e) {
    EXPECT_NE(std::string(e.what()).find("operation 2 of 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("bad data in row 7"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(has_table(c.url, "item"))
      << "the table created before the failing step survived the rollback";
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM strata_migrations WHERE status = 'failed'"), 1)
      << "the ledger does not record the failed attempt";

  // What a callback of the application's usually throws: no strata error.
  c.callbacks["boom"] = [](engine::Connection&) {
    throw std::runtime_error("no customer with id 42");
  };
  try {
    upgrade(c);
    FAIL() << "a callback throwing std::runtime_error did not fail the upgrade";
  } catch (const CommandError& e) {
    EXPECT_NE(std::string(e.what()).find("operation 2 of 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no customer with id 42"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("nothing of it was applied"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(has_table(c.url, "item"));
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM strata_migrations WHERE status = 'failed' AND "
                         "error LIKE '%no customer with id 42%'"),
            1)
      << "the ledger does not record the second failed attempt";
}

TEST_P(MigrateApply, a_connection_lost_at_commit_says_the_outcome_is_unknown_and_the_ledger_tells) {
  if (GetParam() == "sqlite") GTEST_SKIP() << "a server's connection can end at COMMIT";
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_item_then_call(c, "c10000000000", "ends its connection", "end_at_commit");
  // A deferred constraint trigger runs at COMMIT, and there ends its own connection, as a
  // server restart or a network failure at that moment would.
  c.callbacks["end_at_commit"] = [](engine::Connection& conn) {
    conn.execute(
        "CREATE FUNCTION end_connection() RETURNS trigger AS $$ BEGIN PERFORM "
        "pg_terminate_backend(pg_backend_pid()); RETURN NULL; END $$ LANGUAGE plpgsql");
    conn.execute("CREATE CONSTRAINT TRIGGER end_at_commit AFTER INSERT ON item DEFERRABLE "
                 "INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION end_connection()");
    conn.execute("INSERT INTO item DEFAULT VALUES");
  };
  try {
    upgrade(c);
    FAIL() << "an upgrade whose connection ended at COMMIT succeeded";
  } catch (const CommandError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("lost at its COMMIT"), std::string::npos) << what;
    EXPECT_NE(what.find("`db current` tells"), std::string::npos) << what;
    EXPECT_EQ(what.find("nothing of it was applied"), std::string::npos)
        << "the message claims an outcome the command cannot know: " << what;
  }
  // Here the server ended the transaction before committing it, and `db current` says so.
  EXPECT_FALSE(has_table(c.url, "item"));
  out.str("");
  current(c, false);
  EXPECT_EQ(out.str().find("c10000000000"), std::string::npos) << out.str();
  c.callbacks["end_at_commit"] = [](engine::Connection&) {};
  upgrade(c);
  EXPECT_TRUE(has_table(c.url, "item")) << "the migration does not apply after the lost COMMIT";
}

TEST(MigrateApplySqlite, a_failed_upgrade_removes_the_sqlite_file_it_created) {
  Scratch s;
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  Migration m;
  m.revision = "f20000000000";
  m.message = "breaks";
  m.upgrade = {CreateTableOp{table("item", {})}, ExecuteOp{{{"*", "CREATE TABLE broken ("}}, {}, false}};
  m.downgrade = {};
  ScriptDirectory::load(c.directory).write(m);
  EXPECT_THROW(upgrade(c), CommandError);
  EXPECT_FALSE(fs::exists(s.dir / "app.db"))
      << "a failed upgrade left behind the database file it created";
  EXPECT_THROW(stamp(c, "f20000000000-2"), RevisionError);
  EXPECT_FALSE(fs::exists(s.dir / "app.db")) << "a failed stamp created the database file";
}

TEST(MigrateApplySqlite, a_failed_upgrade_outside_a_transaction_keeps_the_file_it_created) {
  Scratch s;
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  Migration m;
  m.revision = "f30000000000";
  m.message = "breaks";
  m.atomic = false;
  m.upgrade = {CreateTableOp{table("item", {})}, ExecuteOp{{{"*", "CREATE TABLE broken ("}}, {}, false}};
  m.downgrade = {};
  ScriptDirectory::load(c.directory).write(m);
  const std::string error = error_of([&] { upgrade(c); });
  EXPECT_NE(error.find("operation 1 took effect and stays"), std::string::npos) << error;
  EXPECT_TRUE(has_table(c.url, "item")) << "the file, and the table the error says stays, went";
}

TEST_P(MigrateApply, execute_runs_the_sql_of_the_current_dialect) {
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  Migration m;
  m.revision = "e10000000000";
  m.message = "raw";
  ExecuteOp exec;
  exec.sql = {{"sqlite", "CREATE TABLE only_sqlite (v INTEGER)"},
              {"postgresql", "CREATE TABLE only_postgresql (v INTEGER)"}};
  exec.reverse = {{"sqlite", "DROP TABLE only_sqlite"}, {"postgresql", "DROP TABLE only_postgresql"}};
  m.upgrade = {exec};
  m.downgrade = reverse(m.upgrade);
  ScriptDirectory::load(c.directory).write(m);
  upgrade(c);
  const std::string mine = "only_" + std::string(Database{c.url}.dialect().name());
  const std::string other = mine == "only_sqlite" ? "only_postgresql" : "only_sqlite";
  EXPECT_TRUE(has_table(c.url, mine));
  EXPECT_FALSE(has_table(c.url, other));
  downgrade(c);
  EXPECT_FALSE(has_table(c.url, mine));
}

TEST_P(MigrateApply, an_upgrade_that_cannot_get_the_migration_lock_fails_clearly_and_changes_nothing) {
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  c.lock_timeout = std::chrono::milliseconds(200);
  init(c);
  Migration m;
  m.revision = "b10000000000";
  m.message = "blocked";
  m.upgrade = {CreateTableOp{table("item", {})}};
  m.downgrade = reverse(m.upgrade);
  ScriptDirectory::load(c.directory).write(m);

  // Another run holds the lock: what an upgrade takes before its first migration.
  Database holder{c.url};
  auto conn = holder.engine().connect();
  holder.dialect().lock_migrations(*conn, std::chrono::milliseconds(1000));
  conn->execute(holder.dialect().begin_migration_sql());
  try {
    upgrade(c);
    FAIL() << "upgraded while another run held the lock:\n" << out.str();
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("lock"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << "not one line: " << what;
  }
  conn->execute("ROLLBACK");
  holder.dialect().unlock_migrations(*conn);
  conn.release();
  EXPECT_FALSE(has_table(c.url, "item"));

  upgrade(c);  // the lock is free again
  EXPECT_TRUE(has_table(c.url, "item"));
}

TEST_P(MigrateApply, an_upgrade_that_cannot_read_the_ledger_fails_and_runs_no_migration_again) {
  // A ledger that cannot be read is not a ledger that is missing: taking it for "nothing
  // applied" would run every migration again, their data changes included.
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  Migration m1;
  m1.revision = "a10000000000";
  m1.message = "item";
  m1.upgrade = {CreateTableOp{table("item", {})}};
  m1.downgrade = reverse(m1.upgrade);
  ScriptDirectory::load(c.directory).write(m1);
  upgrade(c);
  Migration m2;
  m2.revision = "a20000000000";
  m2.down_revisions = {"a10000000000"};
  m2.message = "other";
  m2.upgrade = {CreateTableOp{table("other", {})}};
  m2.downgrade = reverse(m2.upgrade);
  ScriptDirectory::load(c.directory).write(m2);

  // Another connection keeps readers out of the ledger (for the busy timeout, 5 s).
  Database holder{c.url};
  auto conn = holder.engine().connect();
  if (holder.dialect().name() == "sqlite") {
    conn->execute("BEGIN EXCLUSIVE");
  } else {
    conn->execute("BEGIN");
    conn->execute("LOCK TABLE strata_migrations IN ACCESS EXCLUSIVE MODE");
  }
  out.str("");
  try {
    upgrade(c);
    FAIL() << "upgraded while the ledger could not be read:\n" << out.str();
  } catch (const OperationalError& e) {
    EXPECT_NE(std::string(e.what()).find("locked"), std::string::npos) << e.what();
  }
  EXPECT_EQ(out.str().find("Running upgrade"), std::string::npos)
      << "a migration was started on a ledger read as empty:\n" << out.str();
  conn->execute("ROLLBACK");
  conn.release();
  EXPECT_FALSE(has_table(c.url, "other"));

  out.str("");
  upgrade(c);
  EXPECT_NE(out.str().find("a10000000000 -> a20000000000"), std::string::npos) << out.str();
  EXPECT_EQ(out.str().find("<base> ->"), std::string::npos) << out.str();
  EXPECT_TRUE(has_table(c.url, "other"));
}

namespace {

// The chain item(id, name NULL), applied; then `second`, which makes name NOT NULL (a rebuild
// on SQLite), written as revision e2.
void item_chain(const Config& c, std::vector<Operation> second_before) {
  init(c);
  auto item = table("item", {column("name", schema::TypeKind::text)});
  Migration m1;
  m1.revision = "e10000000000";
  m1.message = "item";
  m1.upgrade = {CreateTableOp{item}};
  m1.downgrade = reverse(m1.upgrade);
  ScriptDirectory::load(c.directory).write(m1);
  upgrade(c);
  Migration m2;
  m2.revision = "e20000000000";
  m2.down_revisions = {"e10000000000"};
  m2.message = "name required";
  m2.upgrade = std::move(second_before);
  m2.upgrade.push_back(
      AlterColumnOp{"item", item.columns[1], column("name", schema::TypeKind::text, false)});
  m2.downgrade = {AlterColumnOp{"item", column("name", schema::TypeKind::text, false), item.columns[1]}};
  ScriptDirectory::load(c.directory).write(m2);
}

}  // namespace

TEST(MigrateApply, a_table_rebuild_keeps_the_triggers_and_views_that_name_the_table) {
  Scratch s;
  std::ostringstream out;
  auto c = config_for(s, out);
  item_chain(c, {});
  {
    Database db{c.url};
    auto& session = db.session();
    session.execute("CREATE TABLE audit (what TEXT)");
    session.execute(
        "CREATE TRIGGER trg_item AFTER INSERT ON item BEGIN INSERT INTO audit VALUES (new.name); END");
    session.execute("CREATE VIEW v_item AS SELECT name FROM item");
    session.execute("CREATE VIEW v_other AS SELECT 1 AS item");
    session.execute("INSERT INTO item (name) VALUES ('kept')");
    session.commit();
  }
  upgrade(c);  // name NOT NULL: a rebuild
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM strata_migrations WHERE status = 'applied'"), 2)
      << out.str();
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM sqlite_master WHERE name IN ('trg_item', 'v_item', "
                         "'v_other')"),
            3);
  {
    Database db{c.url};
    auto& session = db.session();
    session.execute("INSERT INTO item (name) VALUES ('after')");
    session.commit();
  }
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM audit"), 2) << "the trigger does not fire any more";
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM v_item"), 2) << "the view does not read the table";
  downgrade(c);  // a rebuild again
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM v_item"), 2);
}

// An index made by SQL of its own (a partial one, which no operation describes) was dropped
// with the old table and not made again; a view reading a view of the table broke the
// rebuild's rename step.
TEST(MigrateApply, a_table_rebuild_keeps_indexes_of_its_own_sql_and_views_over_its_views) {
  Scratch s;
  std::ostringstream out;
  auto c = config_for(s, out);
  item_chain(c, {});
  {
    Database db{c.url};
    auto& session = db.session();
    session.execute("CREATE UNIQUE INDEX uq_item_name_live ON item (name) WHERE name <> 'dup'");
    session.execute("CREATE VIEW v1 AS SELECT name FROM item");
    session.execute("CREATE VIEW v2 AS SELECT name FROM v1");
    session.execute("CREATE TABLE audit (what TEXT)");
    session.execute("CREATE TRIGGER trg_audit AFTER INSERT ON audit BEGIN SELECT name FROM v2; END");
    session.execute("INSERT INTO item (name) VALUES ('a'), ('dup'), ('dup')");
    session.commit();
  }
  auto unique_still_holds = [&] {
    Database db{c.url};
    auto& session = db.session();
    session.execute("INSERT INTO item (name) VALUES ('dup')");  // outside the index's rows
    const std::string error = error_of([&] { session.execute("INSERT INTO item (name) VALUES ('a')"); });
    session.rollback();
    return error.find("UNIQUE") != std::string::npos;
  };
  for (const bool up : {true, false}) {  // name NOT NULL, and back: a rebuild each way
    if (up) upgrade(c);
    else downgrade(c);
    EXPECT_EQ(count(c.url, "SELECT count(*) FROM strata_migrations WHERE status = 'applied'"),
              up ? 2 : 1)
        << out.str();
    EXPECT_EQ(count(c.url, "SELECT count(*) FROM sqlite_master WHERE name IN ('uq_item_name_live', "
                           "'v1', 'v2', 'trg_audit')"),
              4);
    EXPECT_TRUE(unique_still_holds()) << "the partial unique index was lost";
    EXPECT_EQ(count(c.url, "SELECT count(*) FROM v2"), 3);
  }
}

// A column added by SQL of its own: the rebuild's copy would not carry its values.
TEST(MigrateApply, a_table_rebuild_refuses_a_column_the_migrations_do_not_describe) {
  Scratch s;
  std::ostringstream out;
  auto c = config_for(s, out);
  item_chain(c, {});
  {
    Database db{c.url};
    db.session().execute("ALTER TABLE item ADD COLUMN extra TEXT");
    db.session().execute("INSERT INTO item (name, extra) VALUES ('n', 'kept')");
    db.session().commit();
  }
  const std::string error = error_of([&] { upgrade(c); });
  EXPECT_NE(error.find("table 'item' has a column 'extra' that the migrations do not describe"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("nothing of it was applied"), std::string::npos) << error;
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM item WHERE extra = 'kept'"), 1);
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM strata_migrations WHERE status = 'applied'"), 1);
}

TEST(MigrateApply, dropping_a_column_a_view_reads_fails_the_migration_and_loses_nothing) {
  Scratch s;
  std::ostringstream out;
  auto c = config_for(s, out);
  item_chain(c, {});
  {
    Database db{c.url};
    db.session().execute("CREATE VIEW v_name AS SELECT name FROM item");
    db.session().execute("INSERT INTO item (name) VALUES ('n')");
    db.session().commit();
  }
  // e2: name NOT NULL (a rebuild, which keeps the view), then e3 drops name (native).
  upgrade(c);
  Migration m3;
  m3.revision = "e30000000000";
  m3.down_revisions = {"e20000000000"};
  m3.message = "drop name";
  m3.upgrade = {DropColumnOp{"item", column("name", schema::TypeKind::text, false), {}}};
  m3.downgrade = reverse(m3.upgrade);
  ScriptDirectory::load(c.directory).write(m3);
  const std::string error = error_of([&] { upgrade(c); });
  EXPECT_NE(error.find("v_name"), std::string::npos) << error;
  EXPECT_NE(error.find("nothing of it was applied"), std::string::npos) << error;
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM v_name"), 1) << "the view or its rows were lost";
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM strata_migrations WHERE status = 'applied'"), 2);
}

TEST(MigrateApply, commands_on_a_missing_database_file_create_it_only_to_apply_something) {
  Scratch s;
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  Migration m;
  m.revision = "f10000000000";
  m.message = "item";
  m.upgrade = {CreateTableOp{table("item", {})}};
  m.downgrade = reverse(m.upgrade);
  ScriptDirectory::load(c.directory).write(m);
  const fs::path file = s.dir / "app.db";

  EXPECT_THROW(upgrade(c, "zzzz"), UnknownRevisionError);
  EXPECT_THROW(downgrade(c), RevisionError);
  EXPECT_THROW(stamp(c, "zzzz"), UnknownRevisionError);
  EXPECT_THROW(migrate_to(c, "zzzz"), UnknownRevisionError);
  current(c, false);
  showmigrations(c);
  history(c, "", false, true);
  EXPECT_THROW(check(c), CommandError) << "not up to date";
  upgrade(c, "head", true);  // offline
  EXPECT_FALSE(fs::exists(file)) << "a command that failed or only read created the database file";
  EXPECT_NE(out.str().find("<base> (no migration applied)"), std::string::npos) << out.str();

  upgrade(c);
  EXPECT_TRUE(fs::exists(file));
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM strata_migrations"), 1);
}

TEST(MigrateApply, stamp_repairs_a_ledger_naming_a_revision_whose_file_is_gone) {
  // Every command refuses such a database and names `db stamp`; stamp must then work.
  Scratch s;
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  Migration m1;
  m1.revision = "f30000000000";
  m1.message = "item";
  m1.upgrade = {CreateTableOp{table("item", {})}};
  m1.downgrade = reverse(m1.upgrade);
  Migration m2;
  m2.revision = "f40000000000";
  m2.down_revisions = {m1.revision};
  m2.message = "box";
  m2.upgrade = {CreateTableOp{table("box", {})}};
  m2.downgrade = reverse(m2.upgrade);
  auto dir = ScriptDirectory::load(c.directory);
  dir.write(m1);
  dir.write(m2);
  upgrade(c);
  fs::remove(ScriptDirectory::load(c.directory).get(m2.revision).path);

  const std::string refused = error_of([&] { current(c, false); });
  EXPECT_NE(refused.find("`db stamp`"), std::string::npos) << refused;
  for (const char* relative : {"-1", "+1", "current"}) {
    const std::string refused_stamp = error_of([&] { stamp(c, relative); });
    EXPECT_NE(refused_stamp.find("cannot be worked out"), std::string::npos)
        << relative << ": " << refused_stamp;
  }
  // A mistyped target is said to be unknown, not to depend on the ledger.
  const std::string unknown = error_of([&] { stamp(c, "f99999999999"); });
  EXPECT_NE(unknown.find("unknown revision 'f99999999999'"), std::string::npos) << unknown;
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM strata_migrations"), 2) << "a refused stamp wrote";

  stamp(c, m1.revision);
  EXPECT_NE(out.str().find("Removed revision f40000000000 from the database's ledger"),
            std::string::npos)
      << out.str();
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM strata_migrations"), 1);
  current(c, false);
  EXPECT_NE(out.str().find("f30000000000"), std::string::npos) << out.str();
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM box"), 0) << "stamp touched the schema";
}

TEST(MigrateApply, stamp_sql_records_offline_as_upgrade_sql_does) {
  Scratch s;
  std::ostringstream up, st;
  auto c = config_for(s, up);
  init(c);
  Migration m;
  m.revision = "f20000000000";
  m.message = "item";
  m.upgrade = {CreateTableOp{table("item", {})}};
  m.downgrade = reverse(m.upgrade);
  ScriptDirectory::load(c.directory).write(m);
  upgrade(c, "head", true);
  c.out = &st;
  stamp(c, "head", true);
  for (const std::string& text : {up.str(), st.str()}) {
    EXPECT_NE(text.find("'f20000000000', '"), std::string::npos) << text;
    EXPECT_NE(text.find("', 'offline', 0, 'applied')"), std::string::npos)
        << "the ledger row written offline has no real time:\n" << text;
  }
}

// The ledger's checksum is of the migration's content: comments and line ends may change, a
// real edit is refused by upgrade and downgrade and a warning for the reports. A ledger row
// holding the checksum of the file's whole text (as rows written before did) still matches.
TEST(MigrateApply, an_applied_file_may_gain_comments_and_crlf_but_not_a_real_edit) {
  Scratch s;
  std::ostringstream out, err;
  auto c = config_for(s, out);
  c.err = &err;
  init(c);
  Migration m;
  m.revision = "f30000000000";
  m.message = "item";
  m.upgrade = {CreateTableOp{table("item", {})}};
  m.downgrade = reverse(m.upgrade);
  const fs::path generated = ScriptDirectory::load(c.directory).write(m);
  const fs::path by_hand = c.directory / "versions" / "f40000000000_note.yaml";
  const std::string hand_text =
      "revision: f40000000000\ndown_revision: f30000000000\nmessage: note\nupgrade:\n"
      "  - execute: {sql: \"CREATE TABLE note (id INTEGER)\"}\n"
      "downgrade:\n  - execute: {sql: \"DROP TABLE note\"}\n";
  std::ofstream(by_hand, std::ios::binary) << hand_text;
  upgrade(c);

  auto write = [](const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
  };
  auto read = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  auto crlf = [](const std::string& text) {
    std::string o;
    for (char ch : text) o += ch == '\n' ? std::string("\r\n") : std::string(1, ch);
    return o;
  };
  const std::string gen_text = read(generated);
  write(generated, "# reviewed\n" + crlf(gen_text) + "# the end\n");
  write(by_hand, "# by hand\r\n" + crlf(hand_text));
  EXPECT_NO_THROW(downgrade(c, "-1")) << "a comment or a line end counted as an edit";
  EXPECT_NO_THROW(upgrade(c));
  EXPECT_EQ(err.str(), "");

  // Rows of the checksum of the whole text, as ledgers written before hold.
  {
    Database db{s.url};
    auto& session = db.session();
    session.execute("UPDATE strata_migrations SET checksum = '" + checksum(gen_text) +
                    "' WHERE revision = 'f30000000000'");
    session.execute("UPDATE strata_migrations SET checksum = '" + checksum(hand_text) +
                    "' WHERE revision = 'f40000000000'");
    session.commit();
  }
  write(generated, gen_text);
  write(by_hand, hand_text);
  EXPECT_NO_THROW(current(c, false)) << "a ledger of whole-text checksums no longer matched";
  EXPECT_NO_THROW(downgrade(c, "-1"));
  EXPECT_NO_THROW(upgrade(c));
  write(generated, "# reviewed\n" + crlf(gen_text));
  EXPECT_NO_THROW(upgrade(c)) << "a file db migrate wrote: its old checksum is of its content";

  write(by_hand, hand_text + "  - execute: {sql: \"DROP TABLE note\"}\n");
  EXPECT_THROW(upgrade(c), CommandError) << "a real edit of an applied migration went unnoticed";
  EXPECT_THROW(downgrade(c), CommandError);
  out.str("");
  current(c, false);
  EXPECT_EQ(out.str(), "f40000000000 (head)\n");
  EXPECT_EQ(err.str(), "warning: migration f40000000000 (" + by_hand.string() +
                           ") was edited after it was applied; upgrade and downgrade refuse it "
                           "until the edit is undone\n");
  EXPECT_NO_THROW(showmigrations(c));
  EXPECT_NO_THROW(history(c, "", false, true));
}

// The times strata writes are ISO 8601 UTC, as the docs say: `created:` of a new file to the
// second, the ledger's applied_at to the microsecond (so its rows sort in order).
TEST(MigrateApply, created_and_applied_at_are_iso_8601_utc) {
  Scratch s;
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  const auto path = revision(c, "item", false);
  ASSERT_TRUE(path);
  std::ifstream in(*path);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_TRUE(std::regex_search(text, std::regex("\ncreated: \"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\"\n")))
      << text;
  upgrade(c);
  Database db{s.url};
  const auto rows = db.session().execute("SELECT applied_at FROM strata_migrations").rows;
  ASSERT_EQ(rows.size(), 1u);
  const std::string at = rows[0].get<std::string>(0);
  EXPECT_TRUE(std::regex_match(at, std::regex("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z"))) << at;
}

// ---- db redo -----------------------------------------------------------------------------------

namespace {

// Writes migration `id` (after `parent`; "" for a base) with its upgrade and, as downgrade,
// the reverse of it.
Migration migration_of(const std::string& id, const std::string& parent,
                       const std::string& message, std::vector<Operation> upgrade) {
  Migration m;
  m.revision = id;
  if (!parent.empty()) m.down_revisions = {parent};
  m.message = message;
  m.upgrade = std::move(upgrade);
  return m;
}

void write_migration(const Config& c, const std::string& id, const std::string& parent,
                     const std::string& message, std::vector<Operation> upgrade) {
  Migration m = migration_of(id, parent, message, std::move(upgrade));
  m.downgrade = reverse(m.upgrade);
  ScriptDirectory::load(c.directory).write(m);
}

// A migration as `db revision` writes it and a user fills it in: `downgrade: []`.
void write_by_hand(const Config& c, const std::string& id, const std::string& parent,
                   const std::string& message, std::vector<Operation> upgrade) {
  ScriptDirectory::load(c.directory).write(migration_of(id, parent, message, std::move(upgrade)));
}

// A table: e10000000000.
void write_item(const Config& c) {
  write_migration(c, "e10000000000", "", "item",
                  {CreateTableOp{table("item", {column("v", schema::TypeKind::integer)})}});
}

// A table, then a column of it: e10000000000, e20000000000.
void write_item_and_note(const Config& c) {
  write_item(c);
  write_migration(c, "e20000000000", "e10000000000", "note",
                  {AddColumnOp{"item", column("note", schema::TypeKind::text), {}}});
}

std::vector<std::string> applied_ids(const Config& c) {
  Database db{c.url};
  auto r = db.session().execute("SELECT revision FROM strata_migrations WHERE status = 'applied' "
                                "ORDER BY revision");
  std::vector<std::string> ids;
  for (const auto& row : r.rows) ids.push_back(row.get<std::string>(0));
  return ids;
}

}  // namespace

TEST_P(MigrateApply, a_search_path_keeps_the_ledger_with_the_tables_in_its_first_schema) {
  // A schema per tenant (search_path=tenant,public): the ledger in public was found through
  // the path and read, while CREATE TABLE IF NOT EXISTS made one in the tenant's schema; one
  // run read public's ledger, changed public's table and recorded that in the tenant's ledger.
  if (GetParam() == "sqlite") GTEST_SKIP() << "schemas and search_path are PostgreSQL's";
  Scratch s(GetParam());
  auto run_sql = [&](const std::string& sql) {
    Database db{s.url};
    db.session().execute(sql);
    db.session().commit();
  };
  run_sql("DROP SCHEMA IF EXISTS strata_tenant CASCADE");
  run_sql("CREATE SCHEMA strata_tenant");
  std::string home;
  {
    Database db{s.url};
    home = db.session().execute("SELECT current_schema()").rows.at(0).get<std::string>(0);
  }
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_item_and_note(c);
  upgrade(c, "e10000000000");  // the usual schema: item, without its note
  auto tenant = c;
  tenant.url = s.url + (s.url.find('?') == std::string::npos ? "?" : "&") +
               "options=-csearch_path%3Dstrata_tenant," + home;
  EXPECT_NO_THROW(upgrade(tenant)) << out.str();
  const std::vector<std::string> both{"e10000000000", "e20000000000"};
  EXPECT_EQ(applied_ids(tenant), both);
  EXPECT_EQ(applied_ids(c), std::vector<std::string>{"e10000000000"});
  auto notes_in = [&](const std::string& schema) {
    return count(s.url, "SELECT count(*) FROM information_schema.columns WHERE table_schema = '" +
                            schema + "' AND table_name = 'item' AND column_name = 'note'");
  };
  EXPECT_EQ(notes_in(home), 0) << "the tenant's upgrade changed the other schema's table";
  EXPECT_EQ(notes_in("strata_tenant"), 1);
  EXPECT_NO_THROW(upgrade(c)) << out.str();
  EXPECT_EQ(applied_ids(c), both);
  EXPECT_EQ(notes_in(home), 1);
  EXPECT_NO_THROW(downgrade(tenant, "base")) << out.str();
  EXPECT_TRUE(applied_ids(tenant).empty());
  EXPECT_EQ(applied_ids(c), both);
  run_sql("DROP SCHEMA strata_tenant CASCADE");
}

TEST(MigrateApply, a_url_whose_mode_says_the_file_exists_does_not_create_a_missing_one) {
  // sqlite:///typo.db?mode=rw: the ORM's connection refused the missing file, but the commands
  // created it themselves and migrated it from base, leaving the real database as it was.
  Scratch s;
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_item(c);
  const fs::path file = s.dir / "typo.db";
  for (const std::string mode : {"rw", "ro"}) {
    c.url = "sqlite:///" + file.string() + "?mode=" + mode;
    for (const auto& run : std::vector<std::function<void()>>{
             [&] { upgrade(c); }, [&] { stamp(c, "head"); }, [&] { current(c, false); },
             [&] { migrate_to(c, "head"); }}) {
      const std::string error = error_of(run);
      EXPECT_NE(error.find("does not exist, and the URL's mode=" + mode), std::string::npos)
          << error;
      EXPECT_FALSE(fs::exists(file)) << "mode=" << mode;
    }
  }
  // Without a mode (or with rwc) the file is made, as before.
  c.url = "sqlite:///" + file.string() + "?mode=rwc";
  EXPECT_NO_THROW(upgrade(c)) << out.str();
  EXPECT_TRUE(fs::exists(file));
  c.url = "sqlite:///" + file.string() + "?mode=rw";
  EXPECT_NO_THROW(current(c, false));
}

TEST(MigrateApply, commands_that_write_the_ledger_refuse_an_in_memory_database) {
  // `--url sqlite://` reported a successful upgrade into a database gone with the command.
  Scratch s;
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_item(c);
  for (const std::string url : {"sqlite://", "sqlite:///:memory:"}) {
    c.url = url;
    for (const auto& run : std::vector<std::function<void()>>{
             [&] { upgrade(c); }, [&] { downgrade(c, "base"); }, [&] { stamp(c, "head"); },
             [&] { migrate_to(c, "head"); }}) {
      const std::string error = error_of(run);
      EXPECT_NE(error.find("names an in-memory SQLite database"), std::string::npos) << error;
    }
  }
  EXPECT_TRUE(out.str().find("Running upgrade") == std::string::npos) << out.str();
}

// A table, then an execute of `sql` (reversed by `reverse`): e10000000000, e20000000000.
void write_item_and_fill(const Config& c, const std::string& sql, const std::string& reverse) {
  write_migration(c, "e10000000000", "", "item", {CreateTableOp{table("item", {})}});
  write_by_hand(c, "e20000000000", "e10000000000", "fill",
                {ExecuteOp{{{"*", sql}}, {{"*", reverse}}, false}});
}

TEST(MigrateApply, an_upgrade_script_replaces_the_ledger_row_a_failed_attempt_left) {
  // The script only inserted the migration's row: where a failed attempt had left one, the
  // INSERT failed on the key, after the migration's own statements had run.
  Scratch s;
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_item_and_fill(c, "INSERT INTO missing (id) VALUES (1)", "DELETE FROM missing");
  EXPECT_ANY_THROW(upgrade(c));
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM strata_migrations WHERE status = 'failed'"), 1);
  {
    Database app{c.url};
    app.session().execute("CREATE TABLE missing (id INTEGER)");
    app.session().commit();
  }
  std::ostringstream script;
  c.out = &script;
  upgrade(c, "e20000000000", true, "e10000000000");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((s.dir / "app.db").c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, script.str().c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "") << "\n" << script.str();
  sqlite3_free(error);
  sqlite3_close(db);
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM strata_migrations WHERE revision = 'e20000000000' "
                         "AND status = 'applied'"),
            1);
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM strata_migrations"), 2);
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM missing"), 1);
}

TEST_P(MigrateApply, a_failed_downgrade_says_the_migration_stays_applied) {
  // It said "nothing of it was applied" of a migration that stays applied.
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_item_and_fill(c, "INSERT INTO item (id) VALUES (1)", "DELETE FROM missing");
  upgrade(c);
  const std::string error = error_of([&] { downgrade(c, "base"); });
  EXPECT_NE(error.find("migration e20000000000 (fill) failed at"), std::string::npos) << error;
  EXPECT_NE(error.find("nothing of it was undone (the database stays at it)"), std::string::npos)
      << error;
  EXPECT_EQ(count(s.url, "SELECT count(*) FROM strata_migrations WHERE status = 'applied'"), 2);
}

TEST_P(MigrateApply, migrate_target_fake_records_only_what_the_move_would_and_keeps_other_branches) {
  // Two branches from f1: f1 -> f2 -> f3 and f1 -> f4 -> f5, all applied. `migrate f2`
  // undoes f3 only; `migrate f2 --fake` rewrote the whole ledger to f2 (a stamp), so f4 and
  // f5 were forgotten while their tables stayed, and the next upgrade ran them again.
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  const auto make = [&](const std::string& id, const std::string& parent) {
    write_migration(c, id, parent, "t" + id.substr(0, 2),
                    {CreateTableOp{table("t" + id.substr(0, 2), {})}});
  };
  make("f10000000000", "");
  make("f20000000000", "f10000000000");
  make("f30000000000", "f20000000000");
  make("f40000000000", "f10000000000");
  make("f50000000000", "f40000000000");
  upgrade(c, "heads");
  auto ledger_rows = [&] {
    return count(s.url, "SELECT count(*) FROM strata_migrations WHERE status = 'applied'");
  };
  ASSERT_EQ(ledger_rows(), 5);
  out.str("");
  migrate_to(c, "f20000000000", false, true);
  EXPECT_NE(out.str().find("Stamped the database at f20000000000, f50000000000"),
            std::string::npos)
      << out.str();
  EXPECT_EQ(ledger_rows(), 4);
  EXPECT_EQ(count(s.url, "SELECT count(*) FROM strata_migrations WHERE revision = 'f30000000000'"),
            0);
  EXPECT_TRUE(has_table(s.url, "tf3")) << "--fake ran the downgrade";
  // Forward again, faked: f3's row comes back; nothing runs (its table is there already, so a
  // real upgrade would fail).
  migrate_to(c, "f30000000000", false, true);
  EXPECT_EQ(ledger_rows(), 5);
  upgrade(c, "heads");  // nothing left to run
  EXPECT_EQ(ledger_rows(), 5);
  // The same move for real agrees with the fake.
  migrate_to(c, "f20000000000");
  EXPECT_EQ(ledger_rows(), 4);
  EXPECT_FALSE(has_table(s.url, "tf3"));
  EXPECT_TRUE(has_table(s.url, "tf5"));
}

TEST_P(MigrateApply, redo_reverts_the_last_migration_and_applies_it_again) {
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_item_and_note(c);
  upgrade(c);
  {
    Database db{c.url};
    db.session().execute("INSERT INTO item (v, note) VALUES (1, 'a'), (2, 'b')");
    db.session().commit();
  }
  out.str("");
  redo(c);
  EXPECT_EQ(out.str(),
            "Running downgrade e20000000000 -> e10000000000, note\n"
            "Running upgrade e10000000000 -> e20000000000, note\n");
  EXPECT_EQ(applied_ids(c), (std::vector<std::string>{"e10000000000", "e20000000000"}));
  // The table's rows stay; the column came back empty, as its downgrade dropped it.
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM item"), 2);
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM item WHERE note IS NULL"), 2);

  redo(c, "base");  // every migration, down and up again
  EXPECT_EQ(applied_ids(c), (std::vector<std::string>{"e10000000000", "e20000000000"}));
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM item"), 0);
}

TEST_P(MigrateApply, redo_with_nothing_to_redo_is_an_error_that_changes_nothing) {
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_item_and_note(c);
  try {
    redo(c);
    FAIL() << "redo ran with no migration applied";
  } catch (const CommandError& e) {
    EXPECT_NE(std::string(e.what()).find("no migration is applied"), std::string::npos)
        << e.what();
  }
  upgrade(c, "e10000000000");
  try {
    redo(c, "e20000000000");  // above the database
    FAIL() << "redo to a revision above the database ran";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("e20000000000"), std::string::npos) << e.what();
  }
  EXPECT_EQ(applied_ids(c), std::vector<std::string>{"e10000000000"});
  EXPECT_TRUE(has_table(c.url, "item"));
}

TEST_P(MigrateApply, redo_refuses_an_irreversible_migration_before_anything_runs) {
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_item_and_note(c);
  write_by_hand(c, "e30000000000", "e20000000000", "fill",
                {ExecuteOp{{{"*", "INSERT INTO item (v) VALUES (7)"}}, {}, true}});
  upgrade(c);
  EXPECT_THROW(redo(c, "e10000000000"), CommandError);
  EXPECT_EQ(applied_ids(c),
            (std::vector<std::string>{"e10000000000", "e20000000000", "e30000000000"}));
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM item WHERE v = 7"), 1);
}

TEST_P(MigrateApply, an_empty_downgrade_list_runs_the_reverses_given_and_refuses_schema_changes) {
  // As `db revision` writes a file: `downgrade: []`, the upgrade filled in by hand. The
  // downgrade used to do nothing and drop the ledger row, leaving the table behind.
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_item(c);
  write_by_hand(c, "e20000000000", "e10000000000", "notes by hand",
                {ExecuteOp{{{"*", "CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"}},
                           {{"*", "DROP TABLE note"}}, false}});
  upgrade(c);
  ASSERT_TRUE(has_table(c.url, "note"));
  redo(c);
  downgrade(c);
  EXPECT_FALSE(has_table(c.url, "note")) << "the execute's reverse did not run";
  EXPECT_EQ(applied_ids(c), std::vector<std::string>{"e10000000000"});
  upgrade(c);
  EXPECT_TRUE(has_table(c.url, "note"));

  // A schema operation is not undone unless the file says how: refused before anything runs.
  write_by_hand(c, "e30000000000", "e20000000000", "label",
                {AddColumnOp{"item", column("label", schema::TypeKind::text), {}}});
  upgrade(c);
  const std::string refused = error_of([&] { downgrade(c, "e10000000000"); });
  EXPECT_NE(refused.find("migration e30000000000 (label) cannot be downgraded: its downgrade list "
                         "is empty; write the downgrade into the file (the upgrade's reverse: "
                         "drop column 'item.label')"),
            std::string::npos)
      << refused;
  EXPECT_EQ(applied_ids(c),
            (std::vector<std::string>{"e10000000000", "e20000000000", "e30000000000"}));
  EXPECT_TRUE(has_table(c.url, "note")) << "a refused downgrade ran a step";

  std::ostringstream shown;
  c.out = &shown;
  show(c, "e20000000000");
  show(c, "e30000000000");
  EXPECT_NE(shown.str().find("Downgrade (the reverses the upgrade gives: the downgrade list is "
                             "empty):\n    execute SQL \"DROP TABLE note\""),
            std::string::npos)
      << shown.str();
  EXPECT_NE(shown.str().find("Downgrade: none; migration e30000000000 (label) cannot be"),
            std::string::npos)
      << shown.str();
  // Beside an execute without a reverse, schema operations under an empty downgrade list are
  // what show names, as for e30000000000.
  write_by_hand(c, "e40000000000", "e30000000000", "mixed",
                {AddColumnOp{"item", column("note", schema::TypeKind::text), {}},
                 ExecuteOp{{{"*", "UPDATE item SET note = 'x'"}}, {}, false}});
  show(c, "e40000000000");
  EXPECT_NE(shown.str().find("Downgrade: none; migration e40000000000 (mixed) cannot be "
                             "downgraded: its downgrade list is empty"),
            std::string::npos)
      << shown.str();

  // Relative to the database, as Alembic's `show current`.
  std::ostringstream relative;
  c.out = &relative;
  show(c, "current");
  show(c, "-1");
  const std::string text = relative.str();
  const auto first = text.find("Rev: e30000000000");
  EXPECT_NE(first, std::string::npos) << text;
  EXPECT_NE(text.find("Rev: e20000000000", first), std::string::npos) << text;
}

TEST_P(MigrateApply, redo_says_where_the_database_stays_when_the_way_back_up_fails) {
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_item(c);
  write_migration(c, "e20000000000", "e10000000000", "fill", {CallOp{"fill", "empty"}});
  int fills = 0;
  c.callbacks["fill"] = [&fills](engine::Connection& conn) {
    if (++fills > 1) throw DataError("the data is not there any more", {});
    conn.execute("INSERT INTO item (v) VALUES (1)");
  };
  c.callbacks["empty"] = [](engine::Connection& conn) { conn.execute("DELETE FROM item"); };
  upgrade(c);
  try {
    redo(c);
    FAIL() << "the failing upgrade back did not fail the redo";
  } catch (const CommandError& e) {
    EXPECT_NE(std::string(e.what()).find("the downgrade to e10000000000 is done, but the upgrade "
                                         "back to e20000000000 failed, and the database stays at "
                                         "e10000000000: "),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("the data is not there any more"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(applied_ids(c), std::vector<std::string>{"e10000000000"});
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM item"), 0);
}

TEST_P(MigrateApply, redo_refuses_a_way_back_up_it_cannot_run_before_the_downgrade) {
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_item_and_note(c);
  write_migration(c, "e30000000000", "e20000000000", "fill", {CallOp{"fill", "empty"}});
  c.callbacks["fill"] = [](engine::Connection& conn) {
    conn.execute("INSERT INTO item (v) VALUES (1)");
  };
  c.callbacks["empty"] = [](engine::Connection& conn) { conn.execute("DELETE FROM item"); };
  upgrade(c);
  c.callbacks.erase("fill");  // as the standalone tool, which has no callbacks of the app's
  try {
    redo(c);
    FAIL() << "redo ran a downgrade whose way back up calls an unregistered callback";
  } catch (const CommandError& e) {
    EXPECT_NE(std::string(e.what()).find("'fill'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(applied_ids(c),
            (std::vector<std::string>{"e10000000000", "e20000000000", "e30000000000"}));
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM item"), 1) << "the downgrade ran";
}

// A history that dropped a table another table's foreign key refers to (allowed, and applied
// on SQLite, before drop_table refused it) still folds, so the commands keep working; a new
// migration that does it is refused before it runs.
TEST(MigrateApplySqlite, a_history_that_dropped_a_referred_table_still_folds) {
  Scratch s;
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  auto parent = table("parent", {});
  auto child = table("child", {column("parent_id", schema::TypeKind::integer)});
  child.foreign_keys.push_back(
      schema::ForeignKey{"fk_child_parent_id_parent", {"parent_id"}, "parent", {"id"},
                         schema::ReferentialAction::no_action, schema::ReferentialAction::no_action});
  write_migration(c, "h10000000000", "", "tables", {CreateTableOp{parent}, CreateTableOp{child}});
  write_migration(c, "h20000000000", "h10000000000", "drop parent", {DropTableOp{parent}});
  EXPECT_NO_THROW(ScriptDirectory::load(c.directory).state_at({"h10000000000", "h20000000000"}));
  upgrade(c, "h10000000000");
  try {
    upgrade(c);
    FAIL() << "a pending drop of a referred table ran";
  } catch (const CommandError& e) {
    EXPECT_NE(std::string(e.what()).find("fk_child_parent_id_parent"), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(has_table(c.url, "parent"));
}

// ---- db lint ------------------------------------------------------------------------------------

// The chain the lint tests read: a1 creates user (name, about) and post (user_id -> user.id);
// a2 drops user.about, makes user.name NOT NULL without a default and adds a unique index on
// it; a3 runs SQL marked irreversible. Each migration's lint_allow from `allow` (by revision).
// Returns the files' paths, by revision.
std::map<std::string, fs::path> write_lint_chain(
    const Config& c, const std::map<std::string, std::vector<std::string>>& allow = {}) {
  using schema::TypeKind;
  for (const auto& entry : fs::directory_iterator(c.directory / "versions")) fs::remove(entry);
  auto dir = ScriptDirectory::load(c.directory);
  const auto user =
      table("user", {column("name", TypeKind::text), column("about", TypeKind::text)});
  auto post = table("post", {column("user_id", TypeKind::integer)});
  post.foreign_keys.push_back({"fk_post_user_id_user", {"user_id"}, "user", {"id"}, {}, {}});
  std::vector<Migration> chain(3);
  chain[0].revision = "a10000000000";
  chain[0].message = "tables";
  chain[0].upgrade = {CreateTableOp{user}, CreateTableOp{post}};
  chain[1].revision = "a20000000000";
  chain[1].message = "tighten user";
  auto name_required = user.columns[1];
  name_required.nullable = false;
  chain[1].upgrade = {DropColumnOp{"user", user.columns[2], 2},
                      AlterColumnOp{"user", user.columns[1], name_required},
                      CreateIndexOp{"user", {"uq_user_name", {"name"}, true}}};
  chain[2].revision = "a30000000000";
  chain[2].message = "seed";
  chain[2].upgrade = {ExecuteOp{{{"*", "INSERT INTO \"user\" (name) VALUES ('x')"}}, {}, true}};
  std::map<std::string, fs::path> paths;
  std::string parent;
  for (auto& m : chain) {
    if (!parent.empty()) m.down_revisions = {parent};
    if (m.revision != "a30000000000") m.downgrade = reverse(m.upgrade);
    if (allow.count(m.revision)) m.lint_allow = allow.at(m.revision);
    paths[m.revision] = dir.write(m);
    parent = m.revision;
  }
  return paths;
}

TEST_P(MigrateApply, lint_names_what_loses_data_may_fail_or_cannot_be_undone) {
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_lint_chain(c);
  const bool sqlite = engine::Url::parse(c.url).backend() == "sqlite";

  std::vector<std::string> found;
  for (const auto& f : lint_findings(c)) {
    EXPECT_FALSE(f.allowed);
    found.push_back(f.revision + " " + f.rule + ": " + f.message);
  }
  auto has = [&](const std::string& text) {
    return std::any_of(found.begin(), found.end(),
                       [&](const auto& f) { return f.find(text) != std::string::npos; });
  };
  auto count_of = [&](const std::string& prefix) {
    return std::count_if(found.begin(), found.end(),
                         [&](const auto& f) { return f.rfind(prefix, 0) == 0; });
  };
  const std::string all = ::testing::PrintToString(found);
  EXPECT_EQ(count_of("a10000000000"), 0) << all;  // new tables hold no rows
  EXPECT_TRUE(has("a20000000000 destructive: drops column 'user.about' and its data")) << all;
  EXPECT_TRUE(has("a20000000000 destructive: alter column 'user.name'")) << all;
  EXPECT_TRUE(has("a20000000000 risky: create unique index 'uq_user_name'")) << all;
  EXPECT_EQ(count_of("a20000000000 destructive"), 2) << all;
  EXPECT_EQ(count_of("a20000000000 risky"), 1) << all;
  // PostgreSQL builds the index under a lock that blocks writes: CONCURRENTLY does not.
  EXPECT_EQ(has("a20000000000 locking: create unique index 'uq_user_name'"), !sqlite) << all;
  // And SET NOT NULL reads every row under a lock that blocks reads too.
  EXPECT_EQ(has("a20000000000 locking: alter column 'user.name' (NULL -> NOT NULL) blocks every "
                "read and write of 'user'"),
            !sqlite)
      << all;
  // SQLite rebuilds user to make a column NOT NULL, and post refers to user; PostgreSQL alters
  // the column in place.
  EXPECT_EQ(has("a20000000000 rebuild: alter column 'user.name'"), sqlite) << all;
  if (sqlite) {
    EXPECT_TRUE(has("which 'post' refers to")) << all;
  }
  EXPECT_TRUE(has("a30000000000 irreversible: `db downgrade` cannot undo it: execute SQL")) << all;
  EXPECT_TRUE(has("is marked irreversible")) << all;  // the reason downgrade gives

  // The command prints each, oldest migration first, and fails counting them.
  try {
    lint(c);
    ADD_FAILURE() << "db lint passed a chain with findings:\n" << out.str();
  } catch (const CommandError& e) {
    const std::string summary = std::to_string(found.size()) +
                                " findings in 2 migrations; a migration that means what it does "
                                "lists the rules in `lint_allow: [RULE, ...]`";
    EXPECT_NE(std::string(e.what()).find(summary), std::string::npos) << e.what();
  }
  const std::string printed = out.str();
  EXPECT_NE(printed.find("a20000000000 (tighten user): destructive: drops column 'user.about' "
                         "and its data\n"),
            std::string::npos)
      << printed;
  EXPECT_LT(printed.find("a20000000000"), printed.find("a30000000000")) << printed;

  // A range, or one revision, lints only its migrations.
  for (const std::string range : {"a30000000000:", "a30000000000", "head", "a2:a3"}) {
    const auto named = lint_findings(c, range);
    ASSERT_FALSE(named.empty()) << range;
    EXPECT_EQ(named.back().revision, "a30000000000") << range;
    EXPECT_EQ(named.front().revision, range == "a2:a3" ? "a20000000000" : "a30000000000")
        << range;
  }
  EXPECT_THROW(lint_findings(c, "a3:a2"), RevisionError);
}

TEST_P(MigrateApply, lint_allow_accepts_what_its_migration_means_and_is_no_edit_once_applied) {
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_lint_chain(c);
  upgrade(c);
  // Accepting the findings of applied migrations: the files change, the checksums do not.
  write_lint_chain(c, {{"a20000000000", {"destructive", "risky", "rebuild", "locking"}},
                       {"a30000000000", {"irreversible"}}});
  out.str("");
  EXPECT_NO_THROW(lint(c)) << out.str();
  EXPECT_NE(out.str().find("[allowed]"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("Every finding is allowed by its migration's lint_allow."),
            std::string::npos)
      << out.str();
  EXPECT_NO_THROW(upgrade(c)) << "lint_allow made an applied migration an edited file";
  EXPECT_NO_THROW(check(c));
  // One rule less: that finding fails the lint again.
  write_lint_chain(c, {{"a20000000000", {"destructive", "rebuild", "locking"}},
                       {"a30000000000", {"irreversible"}}});
  out.str("");
  EXPECT_THROW(lint(c), CommandError);
  EXPECT_NE(out.str().find("risky: create unique index 'uq_user_name'"), std::string::npos)
      << out.str();
  out.str("");
  show(c, "a20000000000");
  EXPECT_NE(out.str().find("\nLint allows: destructive, rebuild, locking\n"), std::string::npos)
      << out.str();
  // Nor are its message, `created` and branch labels (Alembic's docs label an existing
  // revision).
  const auto paths = write_lint_chain(c);
  auto dir = ScriptDirectory::load(c.directory);
  Migration edited = dir.get("a20000000000");
  fs::remove(paths.at("a20000000000"));
  edited.message = "tighten user (edited)";
  edited.created = "2020-01-01T00:00:00Z";
  edited.branch_labels = {"users"};
  dir.write(edited);
  EXPECT_NO_THROW(upgrade(c)) << "a new message or label made an applied migration an edited file";
  EXPECT_NO_THROW(downgrade(c, "users@head"));
  // Any change to what it runs is still an edit.
  fs::remove(ScriptDirectory::load(c.directory).get("a20000000000").path);
  edited.upgrade.push_back(ExecuteOp{{{"*", "SELECT 1"}}, {}, false});
  dir.write(edited);
  const std::string refused = error_of([&] { upgrade(c); });
  EXPECT_NE(refused.find("migration a20000000000 ("), std::string::npos) << refused;
  EXPECT_NE(refused.find(") was edited after it was applied"), std::string::npos) << refused;
}

TEST_P(MigrateApply,
       lint_passes_what_a_migration_does_to_a_table_it_created_until_sql_may_fill_it) {
  using schema::TypeKind;
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  const auto tag = table("tag", {column("name", TypeKind::text), column("note", TypeKind::text)});
  auto name_required = tag.columns[1];
  name_required.nullable = false;
  Migration m;
  m.revision = "b10000000000";
  m.message = "tags";
  m.upgrade = {CreateTableOp{tag}, AlterColumnOp{"tag", tag.columns[1], name_required},
               CreateIndexOp{"tag", {"uq_tag_name", {"name"}, true}},
               ExecuteOp{{{"*", "INSERT INTO tag (name) VALUES ('x')"}},
                         {{"*", "DELETE FROM tag"}}},
               DropColumnOp{"tag", tag.columns[2], 2}};
  m.downgrade = reverse(m.upgrade);
  ScriptDirectory::load(c.directory).write(m);
  std::vector<std::string> found;  // rebuilds aside: SQLite's check foreign keys all the same
  for (const auto& f : lint_findings(c))
    if (f.rule != "rebuild") found.push_back(f.rule + ": " + f.message);
  EXPECT_EQ(found, std::vector<std::string>{"destructive: drops column 'tag.note' and its data"});
}

TEST_P(MigrateApply, lint_plans_a_branch_on_its_own_parent_and_lints_what_the_database_lacks) {
  using schema::TypeKind;
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_lint_chain(c);  // a1 -> a2 -> a3
  // A branch from a1 drops user.about, which a2 drops too: planned on a2's or a3's schema it
  // would not fit.
  auto dir = ScriptDirectory::load(c.directory);
  Migration branch = migration_of("b20000000000", "a10000000000", "branch",
                                  {DropColumnOp{"user", column("about", TypeKind::text), 2}});
  branch.downgrade = reverse(branch.upgrade);
  dir.write(branch);
  auto revisions_of = [](const std::vector<LintFinding>& findings) {
    std::set<std::string> rules;
    for (const auto& f : findings) rules.insert(f.revision + " " + f.rule);
    return rules;
  };
  const auto all = revisions_of(lint_findings(c));
  EXPECT_TRUE(all.count("b20000000000 destructive")) << ::testing::PrintToString(all);
  EXPECT_TRUE(all.count("a20000000000 destructive")) << ::testing::PrintToString(all);

  // --pending: what the database has not applied; a range naming current reads it too.
  upgrade(c, "a20000000000");
  EXPECT_EQ(revisions_of(lint_findings(c, {}, true)),
            (std::set<std::string>{"a30000000000 irreversible", "b20000000000 destructive"}));
  const auto from_current = revisions_of(lint_findings(c, "current:a30000000000"));
  EXPECT_TRUE(from_current.count("a20000000000 destructive"))
      << ::testing::PrintToString(from_current);
  EXPECT_FALSE(from_current.count("b20000000000 destructive"))
      << ::testing::PrintToString(from_current);

  // A migration that cannot be planned is an error naming it.
  write_by_hand(c, "c40000000000", "a30000000000", "elsewhere",
                {ExecuteOp{{{"nosuchdialect", "SELECT 1"}}, {}, true}});
  const std::string error = error_of([&] { lint_findings(c); });
  EXPECT_NE(error.find("migration c40000000000 ("), std::string::npos) << error;
  EXPECT_NE(error.find("no SQL for dialect"), std::string::npos) << error;
}

TEST_P(MigrateApply, lint_names_a_type_change_that_rewrites_the_table_on_postgresql) {
  using schema::TypeKind;
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  auto t = table("t", {column("v", TypeKind::integer)});
  t.columns.push_back({"name", {TypeKind::string, 10}, true, false, false, {}});
  write_by_hand(c, "d10000000000", "", "t", {CreateTableOp{t}});
  auto bigger = t.columns[1];
  bigger.type = {TypeKind::big_integer, {}};
  auto longer = t.columns[2];
  longer.type = {TypeKind::string, 20};
  auto shorter = t.columns[2];
  shorter.type = {TypeKind::string, 5};
  write_by_hand(c, "d20000000000", "d10000000000", "widen",
                {AlterColumnOp{"t", t.columns[1], bigger}, AlterColumnOp{"t", t.columns[2], longer},
                 AlterColumnOp{"t", longer, shorter}});
  std::vector<std::string> rebuilds;
  for (const auto& f : lint_findings(c))
    if (f.rule == "rebuild") rebuilds.push_back(f.message);
  const std::string all = ::testing::PrintToString(rebuilds);
  if (engine::Url::parse(c.url).backend() == "sqlite") {
    EXPECT_EQ(rebuilds.size(), 3u) << all;  // SQLite rebuilds the table for each
    return;
  }
  // PostgreSQL makes a longer VARCHAR in place; BIGINT and a shorter VARCHAR rewrite the table.
  ASSERT_EQ(rebuilds.size(), 2u) << all;
  EXPECT_EQ(rebuilds[0], "alter column 't.v' (Integer -> BigInteger) rewrites table 't' and its "
                         "indexes (postgresql cannot change this type in place): every read and "
                         "write of the table waits for its lock until the migration commits");
  EXPECT_NE(rebuilds[1].find("alter column 't.name' (String(20) -> String(5))"),
            std::string::npos)
      << all;
  // What the server does: a rewrite gives the table a new file (pg_class.relfilenode).
  upgrade(c, "d10000000000");
  Database db{c.url};
  auto& session = db.session();
  auto file = [&] {
    return session.execute("SELECT relfilenode FROM pg_class WHERE relname = 't'")
        .rows.at(0)
        .get<std::int64_t>(0);
  };
  auto rewrites = [&](const std::string& alter) {
    const auto before = file();
    session.execute("ALTER TABLE t " + alter);
    return file() != before;
  };
  EXPECT_FALSE(rewrites("ALTER COLUMN name TYPE VARCHAR(20)"));
  EXPECT_TRUE(rewrites("ALTER COLUMN v TYPE BIGINT"));
  EXPECT_TRUE(rewrites("ALTER COLUMN name TYPE VARCHAR(5)"));
  EXPECT_FALSE(rewrites("ALTER COLUMN name TYPE TEXT"));
  session.rollback();
}

namespace {

// A table `item` (e10000000000), then e20000000000 with `atomic: false` and the given upgrade.
void write_item_then_outside(const Config& c, std::vector<Operation> upgrade) {
  write_item(c);
  Migration m = migration_of("e20000000000", "e10000000000", "outside", std::move(upgrade));
  m.atomic = false;
  m.downgrade = reverse(m.upgrade);
  ScriptDirectory::load(c.directory).write(m);
}

bool on_sqlite(const Config& c) { return engine::Url::parse(c.url).backend() == "sqlite"; }

// The relations (tables, indexes, valid or not) called `name`.
std::int64_t relations_named(const Config& c, const std::string& name) {
  return count(c.url, on_sqlite(c)
                          ? "SELECT count(*) FROM sqlite_master WHERE name = '" + name + "'"
                          : "SELECT count(*) FROM pg_class WHERE relname = '" + name + "'");
}

// Whether the database has an index `name` that queries can use.
bool has_valid_index(const Config& c, const std::string& name) {
  if (on_sqlite(c))
    return count(c.url, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = '" +
                            name + "'") == 1;
  return count(c.url, "SELECT count(*) FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid "
                      "WHERE x.relname = '" + name + "' AND i.indisvalid") == 1;
}

// Rows of migrations with `atomic: false` that a run did not finish (running, partial).
std::int64_t unfinished_rows(const Config& c) {
  return count(c.url,
               "SELECT count(*) FROM strata_migrations WHERE status IN ('running', 'partial')");
}

void execute_by_hand(const Config& c, const std::vector<std::string>& statements) {
  Database db{c.url};
  for (const auto& sql : statements) db.session().execute(sql);
  db.session().commit();
}

const std::vector<std::string> item_only = {"e10000000000"};
const std::vector<std::string> item_and_outside = {"e10000000000", "e20000000000"};

}  // namespace

TEST_P(MigrateApply, atomic_false_builds_an_index_concurrently_and_lets_a_call_commit_batches) {
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_item_then_outside(c, {CreateIndexOp{"item", {"ix_item_v", {"v"}, false}, true},
                              CallOp{"batches", "unbatch"}});
  c.callbacks["batches"] = [](engine::Connection& conn) {
    EXPECT_FALSE(conn.in_transaction()) << "an atomic: false migration opened a transaction";
    for (int batch = 0; batch < 3; ++batch) {
      conn.execute("BEGIN");
      conn.execute("INSERT INTO item (v) VALUES (" + std::to_string(batch) + ")");
      conn.execute("COMMIT");
    }
  };
  c.callbacks["unbatch"] = [](engine::Connection& conn) {
    EXPECT_FALSE(conn.in_transaction());
    conn.execute("DELETE FROM item");
  };
  // PostgreSQL refuses CREATE INDEX CONCURRENTLY inside a transaction block: that it runs at
  // all says none was open.
  upgrade(c);
  EXPECT_NE(out.str().find("(atomic: false: each operation commits on its own)"),
            std::string::npos)
      << out.str();
  EXPECT_TRUE(has_valid_index(c, "ix_item_v"));
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM item"), 3);
  EXPECT_EQ(applied_ids(c), item_and_outside);
  EXPECT_EQ(unfinished_rows(c), 0);

  redo(c);  // down and up again, each outside a transaction
  EXPECT_TRUE(has_valid_index(c, "ix_item_v"));
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM item"), 3);
  EXPECT_EQ(applied_ids(c), item_and_outside);
  EXPECT_EQ(unfinished_rows(c), 0);

  downgrade(c);  // DROP INDEX CONCURRENTLY, then the reverse callback
  EXPECT_EQ(relations_named(c, "ix_item_v"), 0);
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM item"), 0);
  EXPECT_EQ(applied_ids(c), item_only);
  EXPECT_EQ(unfinished_rows(c), 0);

  // Offline, the SQL runs as the command would run it: no transaction around the index.
  std::ostringstream sql;
  auto offline = c;
  offline.out = &sql;
  upgrade(offline, "head", true, "e10000000000");
  const std::string text = sql.str();
  const auto at = text.find("CREATE INDEX ");
  ASSERT_NE(at, std::string::npos) << text;
  const std::string before = text.substr(0, at);
  const std::string line_before = before.substr(before.rfind('\n', before.size() - 2) + 1);
  if (on_sqlite(c)) {
    // SQLite has no CONCURRENTLY: a plain CREATE INDEX, in a transaction of its own.
    EXPECT_EQ(line_before, "BEGIN IMMEDIATE;\n") << text;
  } else {
    EXPECT_EQ(text.substr(at, 26), "CREATE INDEX CONCURRENTLY ") << text;
    EXPECT_EQ(line_before, "-- create index 'ix_item_v' on 'item' (v) concurrently\n") << text;
    const auto step = text.find("-- Running upgrade e10000000000 -> e20000000000");
    ASSERT_NE(step, std::string::npos) << text;
    EXPECT_EQ(text.substr(step, at - step).find("BEGIN"), std::string::npos)
        << "a transaction is opened around CREATE INDEX CONCURRENTLY:\n" << text;
  }
  EXPECT_NE(text.find("-- (atomic: false: no transaction around the migration"), std::string::npos)
      << text;
  EXPECT_NE(text.find("'e20000000000'"), std::string::npos) << "no ledger row:\n" << text;

  std::ostringstream shown;
  auto report = c;
  report.out = &shown;
  show(report, "e20000000000");
  EXPECT_NE(shown.str().find("\nTransaction: none (atomic: false)\n"), std::string::npos)
      << shown.str();
}

TEST_P(MigrateApply, atomic_false_keeps_what_ran_before_a_failure_and_runs_nothing_until_stamped) {
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_item_then_outside(
      c, {ExecuteOp{{{"*", "INSERT INTO item (v) VALUES (1), (1)"}}, {{"*", "DELETE FROM item"}}, false},
          CreateTableOp{table("note", {})},
          CreateIndexOp{"item", {"uq_item_v", {"v"}, true}, true}});
  upgrade(c, "e10000000000");
  const std::string error = error_of([&] { upgrade(c); });
  EXPECT_NE(error.find("migration e20000000000 (outside) failed at operation 3 of 3 (create unique "
                       "index 'uq_item_v'"),
            std::string::npos)
      << error;
  const std::string advice =
      "`db stamp e20000000000` (the migration is in full effect) or `db stamp e10000000000` "
      "(none of it is)";
  EXPECT_NE(error.find("it runs outside a transaction (atomic: false), so its operations 1-2 took "
                       "effect and stay; the database is between revisions, and nothing runs "
                       "until you undo that by hand or do the rest by hand, then " + advice),
            std::string::npos)
      << error;
  // PostgreSQL leaves the index of a failed CREATE INDEX CONCURRENTLY behind, invalid.
  if (!on_sqlite(c)) {
    EXPECT_NE(error.find("the invalid index it left was dropped again"), std::string::npos)
        << error;
  }
  EXPECT_EQ(relations_named(c, "uq_item_v"), 0);
  EXPECT_TRUE(has_table(c.url, "note"));
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM item"), 2);
  EXPECT_EQ(applied_ids(c), item_only);
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM strata_migrations WHERE status = 'partial' AND "
                         "error LIKE '%operations 1-2 took effect%'"),
            1)
      << "the ledger does not keep what the failure left";

  // Run again from its start, the migration would insert the rows a second time: until the
  // database says where it is, nothing runs, either way.
  for (const auto& refused : {error_of([&] { upgrade(c); }), error_of([&] { downgrade(c); })}) {
    EXPECT_NE(refused.find("migration e20000000000 (outside) runs outside a transaction (atomic: "
                           "false) and failed part way at "),
              std::string::npos)
        << refused;
    EXPECT_NE(refused.find("so the database is between revisions; when no run is under way, see "
                           "which of its operations took effect, then " + advice),
              std::string::npos)
        << refused;
  }
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM item"), 2);
  std::ostringstream now;
  auto report = c;
  report.out = &now;
  current(report, false);
  EXPECT_NE(now.str().find("e20000000000 (failed part way at "), std::string::npos) << now.str();

  // The rest done by hand, the stamp the error names: the migration is applied.
  execute_by_hand(c, {"DELETE FROM item WHERE id = (SELECT max(id) FROM item)",
                      "CREATE UNIQUE INDEX uq_item_v ON item (v)"});
  stamp(c, "e20000000000");
  EXPECT_EQ(unfinished_rows(c), 0);
  EXPECT_EQ(applied_ids(c), item_and_outside);
  EXPECT_NO_THROW(upgrade(c));
}

TEST_P(MigrateApply, atomic_false_runs_again_after_a_failure_that_left_nothing) {
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_item_then_outside(c, {CreateTableOp{table("note", {})},
                              CreateIndexOp{"item", {"ix_item_v", {"v"}, false}, true}});
  upgrade(c, "e10000000000");
  execute_by_hand(c, {"CREATE TABLE note (id INTEGER)"});
  const std::string error = error_of([&] { upgrade(c); });
  EXPECT_NE(error.find("failed at operation 1 of 2 (create table 'note')"), std::string::npos)
      << error;
  EXPECT_NE(error.find("; nothing of it was applied"), std::string::npos) << error;
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM strata_migrations WHERE status = 'failed'"), 1);
  EXPECT_EQ(unfinished_rows(c), 0);
  execute_by_hand(c, {"DROP TABLE note"});
  upgrade(c);
  EXPECT_EQ(applied_ids(c), item_and_outside);
  EXPECT_TRUE(has_valid_index(c, "ix_item_v"));
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM strata_migrations WHERE status <> 'applied'"), 0);
}

TEST_P(MigrateApply, atomic_false_marks_a_downgrade_that_failed_part_way) {
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_item_then_outside(c, {CallOp{"nothing", "refuse"}, CreateTableOp{table("note", {})}});
  c.callbacks["nothing"] = [](engine::Connection&) {};
  c.callbacks["refuse"] = [](engine::Connection&) {
    throw std::runtime_error("rows of note are still needed");
  };
  upgrade(c);
  // The downgrade drops note, then calls `refuse`.
  const std::string error = error_of([&] { downgrade(c); });
  EXPECT_NE(error.find("failed at operation 2 of 2 (call 'refuse')"), std::string::npos) << error;
  EXPECT_NE(error.find("rows of note are still needed"), std::string::npos) << error;
  EXPECT_NE(error.find("so its downgrade's operation 1 took effect and stays, and operation 2 may "
                       "have done part of its work;"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("`db stamp e20000000000` (the migration is in full effect) or `db stamp "
                       "e10000000000` (none of it is)"),
            std::string::npos)
      << error;
  EXPECT_FALSE(has_table(c.url, "note"));
  EXPECT_EQ(applied_ids(c), item_only);
  EXPECT_EQ(unfinished_rows(c), 1);
  EXPECT_THROW(upgrade(c), CommandError);
  stamp(c, "e10000000000");
  EXPECT_EQ(unfinished_rows(c), 0);
  EXPECT_EQ(applied_ids(c), item_only);
}

TEST_P(MigrateApply, atomic_false_refuses_a_call_that_leaves_its_transaction_open) {
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_item_then_outside(c, {CallOp{"begins", "nothing"}});
  c.callbacks["begins"] = [](engine::Connection& conn) {
    conn.execute("BEGIN");
    conn.execute("INSERT INTO item (v) VALUES (7)");
  };
  c.callbacks["nothing"] = [](engine::Connection&) {};
  const std::string error = error_of([&] { upgrade(c); });
  EXPECT_NE(error.find("failed at operation 1 of 1 (call 'begins'): it left a transaction open, "
                       "which was rolled back"),
            std::string::npos)
      << error;
  EXPECT_EQ(count(c.url, "SELECT count(*) FROM item"), 0);
  // A callback may have committed part of its work before: the database is between revisions.
  EXPECT_EQ(unfinished_rows(c), 1);
}

TEST_P(MigrateApply, atomic_false_refuses_a_migration_a_run_left_unfinished_until_stamped) {
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_item_then_outside(c, {CreateIndexOp{"item", {"ix_item_v", {"v"}, false}, true}});
  upgrade(c, "e10000000000");
  {
    // What a run that stopped part way (killed, its connection lost) leaves in the ledger.
    Database db{c.url};
    db.session().execute("INSERT INTO strata_migrations (revision, checksum, applied_at, "
                         "duration_ms, status) VALUES ('e20000000000', 'x', "
                         "'2026-12-06T21:00:00.000000Z', 0, 'running')");
    db.session().commit();
  }
  for (const auto& error : {error_of([&] { upgrade(c); }), error_of([&] { downgrade(c); })}) {
    EXPECT_NE(error.find("migration e20000000000 (outside) runs outside a transaction (atomic: "
                         "false) and was started at 2026-12-06T21:00:00.000000Z by a run that has "
                         "not finished: it is still running, or it stopped part way, so the "
                         "database is between revisions"),
              std::string::npos)
        << error;
    EXPECT_NE(error.find("`db stamp e20000000000` (the migration is in full effect) or `db stamp "
                         "e10000000000` (none of it is)"),
              std::string::npos)
        << error;
  }
  EXPECT_EQ(relations_named(c, "ix_item_v"), 0) << "the refused migration ran";
  std::ostringstream now;
  auto report = c;
  report.out = &now;
  current(report, false);
  EXPECT_NE(now.str().find("e20000000000 (running since 2026-12-06T21:00:00.000000Z): started "
                           "outside a transaction (atomic: false) and not finished"),
            std::string::npos)
      << now.str();

  stamp(c, "e10000000000");
  EXPECT_EQ(unfinished_rows(c), 0);
  upgrade(c);
  EXPECT_TRUE(has_valid_index(c, "ix_item_v"));
  EXPECT_EQ(applied_ids(c), item_and_outside);
}

TEST(MigrateApplySqlite, atomic_false_refuses_a_table_rebuild_before_anything_runs) {
  Scratch s;
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  auto v = column("v", schema::TypeKind::integer);
  auto v_text = v;
  v_text.type = {schema::TypeKind::text, {}};
  write_item_then_outside(c, {CreateTableOp{table("note", {})}, AlterColumnOp{"item", v, v_text}});
  upgrade(c, "e10000000000");
  const std::string error = error_of([&] { upgrade(c); });
  EXPECT_NE(error.find("operation 2 (alter column 'item.v'"), std::string::npos) << error;
  EXPECT_NE(error.find("rebuilds table 'item' on sqlite, which must run in one transaction with "
                       "foreign keys off, and the migration has 'atomic: false'; move the "
                       "operation to a migration without it"),
            std::string::npos)
      << error;
  EXPECT_FALSE(has_table(c.url, "note")) << "an operation before the refused one ran";
  EXPECT_EQ(applied_ids(c), item_only);
}

TEST_P(MigrateApply, lint_names_an_index_that_locks_a_table_in_use_on_postgresql) {
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  const schema::Index ix{"ix_item_v", {"v"}, false};
  write_item(c);
  write_migration(c, "e20000000000", "e10000000000", "index", {CreateIndexOp{"item", ix}});
  Migration concurrent = migration_of(
      "e30000000000", "e20000000000", "rebuilt index",
      {DropIndexOp{"item", ix, true}, CreateIndexOp{"item", {"ix_item_v2", {"v"}, false}, true}});
  concurrent.atomic = false;
  concurrent.downgrade = reverse(concurrent.upgrade);
  ScriptDirectory::load(c.directory).write(concurrent);
  // A table's own index, made with it, locks no table in use.
  write_migration(c, "e40000000000", "e30000000000", "note",
                  {CreateTableOp{table("note", {column("v", schema::TypeKind::integer)})},
                   CreateIndexOp{"note", {"ix_note_v", {"v"}, false}}});

  std::vector<std::string> locking;
  for (const auto& f : lint_findings(c))
    if (f.rule == "locking") locking.push_back(f.revision + ": " + f.message);
  if (on_sqlite(c)) {
    EXPECT_TRUE(locking.empty()) << ::testing::PrintToString(locking);
  } else {
    EXPECT_EQ(locking, std::vector<std::string>{
                           "e20000000000: create index 'ix_item_v' on 'item' (v) blocks every "
                           "write to 'item' while postgresql builds the index: give it "
                           "`concurrently: true`, in a migration with `atomic: false`"});
  }
  // The chain runs both ways: the concurrent drop and create, and their reverses.
  upgrade(c);
  EXPECT_EQ(relations_named(c, "ix_item_v"), 0);
  EXPECT_TRUE(has_valid_index(c, "ix_item_v2"));
  downgrade(c, "e20000000000");
  EXPECT_TRUE(has_valid_index(c, "ix_item_v"));
  EXPECT_EQ(relations_named(c, "ix_item_v2"), 0);
}

// ---- constraints added not valid ----------------------------------------------------------------

namespace {

const schema::CheckConstraint kPositive{"ck_item_v_positive", "v > 0"};
const schema::ForeignKey kOwner{"fk_item_owner_id_owner", {"owner_id"}, "owner", {"id"}, {}, {}};

// e10000000000 item (id, v); e20000000000 a table owner and item.owner_id.
void write_item_and_owner(const Config& c) {
  write_item(c);
  write_migration(c, "e20000000000", "e10000000000", "owner",
                  {CreateTableOp{table("owner", {})},
                   AddColumnOp{"item", column("owner_id", schema::TypeKind::integer), {}}});
}

// Of the two constraints above, how many the database has, and how many of them valid.
std::pair<std::int64_t, std::int64_t> item_constraints(const Config& c) {
  const std::string of = " FROM pg_constraint WHERE conname IN ('ck_item_v_positive', "
                         "'fk_item_owner_id_owner')";
  return {count(c.url, "SELECT count(*)" + of), count(c.url, "SELECT count(*)" + of +
                                                                 " AND convalidated")};
}

}  // namespace

// A check and a foreign key added with `not_valid: true` to a table whose rows break both: on
// PostgreSQL the upgrade leaves those rows be while new rows are checked, `db check` finds
// the chain and the database agree, and validate_constraint fails, naming the constraint,
// until the rows are mended. SQLite has no such form: the upgrade checks the rows and fails,
// leaving the database where it was, and validating runs nothing.
TEST_P(MigrateApply, constraints_added_not_valid_leave_old_rows_until_validated) {
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_item_and_owner(c);
  upgrade(c);
  const std::vector<std::string> before = {"e10000000000", "e20000000000"};
  execute_by_hand(c, {"INSERT INTO item (v, owner_id) VALUES (-1, 99)"});
  write_migration(c, "e30000000000", "e20000000000", "constraints",
                  {AddCheckOp{"item", kPositive, true}, AddForeignKeyOp{"item", kOwner, true}});
  if (on_sqlite(c)) {
    const std::string error = error_of([&] { upgrade(c); });
    EXPECT_NE(error.find("ck_item_v_positive"), std::string::npos) << error;
    EXPECT_EQ(applied_ids(c), before);
    execute_by_hand(c, {"UPDATE item SET v = 1", "UPDATE item SET owner_id = NULL"});
    upgrade(c);
  } else {
    upgrade(c);
    EXPECT_EQ(count(c.url, "SELECT count(*) FROM item WHERE v = -1 AND owner_id = 99"), 1);
    EXPECT_EQ(item_constraints(c), std::make_pair(std::int64_t{2}, std::int64_t{0}));
    // The rows written from now on are checked.
    std::string error = error_of([&] { execute_by_hand(c, {"INSERT INTO item (v) VALUES (-2)"}); });
    EXPECT_NE(error.find("ck_item_v_positive"), std::string::npos) << error;
    error = error_of([&] { execute_by_hand(c, {"INSERT INTO item (v, owner_id) VALUES (2, 98)"}); });
    EXPECT_NE(error.find("fk_item_owner_id_owner"), std::string::npos) << error;
  }
  out.str("");
  EXPECT_NO_THROW(check(c)) << out.str();  // the check's condition reads back as written
  // ... and db check notes what waits for a validation.
  for (const char* name : {"ck_item_v_positive", "fk_item_owner_id_owner"}) {
    EXPECT_EQ(out.str().find("Note: constraint '" + std::string(name) +
                             "' of table 'item' is not valid yet") != std::string::npos,
              !on_sqlite(c))
        << out.str();
  }

  // (as `db revision` writes it: an empty downgrade, which validating needs no more than SQL)
  write_by_hand(c, "e40000000000", "e30000000000", "validate",
                {ValidateConstraintOp{"item", kPositive.name},
                 ValidateConstraintOp{"item", kOwner.name}});
  const std::vector<std::string> added = {"e10000000000", "e20000000000", "e30000000000"};
  if (!on_sqlite(c)) {
    std::string error = error_of([&] { upgrade(c); });
    EXPECT_NE(error.find("ck_item_v_positive"), std::string::npos) << error;
    EXPECT_EQ(applied_ids(c), added);
    execute_by_hand(c, {"UPDATE item SET v = 1"});
    error = error_of([&] { upgrade(c); });
    EXPECT_NE(error.find("fk_item_owner_id_owner"), std::string::npos) << error;
    EXPECT_EQ(applied_ids(c), added);
    EXPECT_EQ(item_constraints(c), std::make_pair(std::int64_t{2}, std::int64_t{0}))
        << "the failed migration's first validation stayed";
    execute_by_hand(c, {"UPDATE item SET owner_id = NULL"});
  }
  upgrade(c);
  EXPECT_EQ(applied_ids(c).back(), "e40000000000");
  // (the constraints and how many of them are valid, on PostgreSQL)
  const auto sqlite_or = [&](std::int64_t n, std::int64_t valid) {
    return on_sqlite(c) ? std::make_pair(std::int64_t{-1}, std::int64_t{-1})
                        : std::make_pair(n, valid);
  };
  const auto constraints = [&] {
    return on_sqlite(c) ? std::make_pair(std::int64_t{-1}, std::int64_t{-1}) : item_constraints(c);
  };
  EXPECT_EQ(constraints(), sqlite_or(2, 2));
  out.str("");
  EXPECT_NO_THROW(check(c)) << out.str();
  EXPECT_EQ(out.str().find("Note:"), std::string::npos) << out.str();

  // Down: validating again does nothing; then the constraints go.
  downgrade(c, "e30000000000");
  EXPECT_EQ(constraints(), sqlite_or(2, 2));
  downgrade(c, "e20000000000");
  EXPECT_EQ(constraints(), sqlite_or(0, 0));
  execute_by_hand(c, {"INSERT INTO item (v, owner_id) VALUES (-3, 97)"});  // unchecked again
}

// db lint on PostgreSQL: a constraint added valid, a unique constraint and SET NOT NULL lock a
// table in use while the rows are checked; not_valid does not, but its validate is risky, and
// validating in the migration that added it keeps the add's lock; SET NOT NULL needs no scan
// once a validated check says the column holds no NULL. SQLite has no NOT VALID form: such an
// add may fail on rows, and validating is nothing.
TEST_P(MigrateApply, lint_names_constraints_that_lock_a_table_in_use_on_postgresql) {
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  using schema::TypeKind;
  write_item(c);
  const auto w = column("w", TypeKind::integer);
  const auto x = column("x", TypeKind::integer);
  const auto y = column("y", TypeKind::integer);
  write_migration(c, "e20000000000", "e10000000000", "owner",
                  {CreateTableOp{table("owner", {})},
                   AddColumnOp{"item", column("owner_id", TypeKind::integer), {}},
                   AddColumnOp{"item", w, {}}, AddColumnOp{"item", x, {}},
                   AddColumnOp{"item", y, {}}});
  auto not_null = [](schema::Column col) {
    col.nullable = false;
    return col;
  };
  write_migration(c, "e30000000000", "e20000000000", "plain",
                  {AddCheckOp{"item", kPositive}, AddForeignKeyOp{"item", kOwner},
                   AddUniqueOp{"item", {"uq_item_v", {"v"}}},
                   AlterColumnOp{"item", column("v", TypeKind::integer),
                                 not_null(column("v", TypeKind::integer))}});
  write_migration(c, "e40000000000", "e30000000000", "not valid",
                  {AddCheckOp{"item", {"ck_item_w_not_null", "w IS NOT NULL"}, true},
                   AddCheckOp{"item", {"ck_item_x_not_null", "(\"x\" IS NOT NULL)"}, true},
                   AddCheckOp{"item", {"ck_item_w_positive", "w > 0"}, true},
                   ValidateConstraintOp{"item", "ck_item_w_positive"},
                   AlterColumnOp{"item", x, not_null(x)},
                   AddCheckOp{"item", {"ck_item_y_not_null", "y IS NOT NULL"}, true}});
  write_migration(c, "e50000000000", "e40000000000", "validate",
                  {ValidateConstraintOp{"item", "ck_item_w_not_null"}});
  write_migration(c, "e60000000000", "e50000000000", "w required",
                  {AlterColumnOp{"item", w, not_null(w)}});
  // The table renamed: its check on y, never validated, goes with it.
  write_migration(c, "e70000000000", "e60000000000", "items", {RenameTableOp{"item", "items"}});
  write_migration(c, "e80000000000", "e70000000000", "y required",
                  {AlterColumnOp{"items", y, not_null(y)}});
  // Added and validated outside a transaction: each commits on its own. And a constraint
  // added valid: validating it checks nothing.
  Migration outside = migration_of(
      "e90000000000", "e80000000000", "outside",
      {AddCheckOp{"items", {"ck_items_v_big", "v > -100"}, true},
       ValidateConstraintOp{"items", "ck_items_v_big"},
       ValidateConstraintOp{"items", kPositive.name}});
  outside.atomic = false;
  outside.downgrade = reverse(outside.upgrade);
  ScriptDirectory::load(c.directory).write(outside);
  // Validations after other operations in one transaction: a column added; a new table whose
  // foreign key locks the table it refers to, and whose own check, added not valid while it
  // has no rows, has nothing to check.
  write_migration(c, "ea0000000000", "e90000000000", "z",
                  {AddColumnOp{"items", column("z", TypeKind::integer), {}},
                   ValidateConstraintOp{"items", "ck_item_x_not_null"}});
  auto tag = table("tag", {column("item_id", TypeKind::integer)});
  tag.foreign_keys.push_back({"fk_tag_item_id_items", {"item_id"}, "items", {"id"}, {}, {}});
  write_migration(c, "eb0000000000", "ea0000000000", "tags",
                  {CreateTableOp{tag},
                   AddCheckOp{"tag", {"ck_tag_id_positive", "id > 0"}, true},
                   ValidateConstraintOp{"tag", "ck_tag_id_positive"},
                   ValidateConstraintOp{"items", "ck_item_y_not_null"}});

  auto findings = [&](const std::string& rule, const std::string& range = {}) {
    std::vector<std::string> found;
    for (const auto& f : lint_findings(c, range))
      if (f.rule == rule) found.push_back(f.revision.substr(0, 2) + ": " + f.message);
    return found;
  };
  if (on_sqlite(c)) {
    EXPECT_TRUE(findings("locking").empty()) << ::testing::PrintToString(findings("locking"));
    const std::string no_form = " may fail on rows already in the table: sqlite has no NOT "
                                "VALID form, and checks them as it adds the constraint";
    std::vector<std::string> risky;
    for (const auto& f : findings("risky"))
      if (f.rfind("e4", 0) == 0 || f.rfind("e5", 0) == 0) risky.push_back(f);
    EXPECT_EQ(risky, (std::vector<std::string>{
                         "e4: add check constraint 'ck_item_w_not_null' on 'item' (w IS NOT "
                         "NULL) not valid" + no_form,
                         "e4: add check constraint 'ck_item_x_not_null' on 'item' ((\"x\" IS NOT "
                         "NULL)) not valid" + no_form,
                         "e4: add check constraint 'ck_item_w_positive' on 'item' (w > 0) not "
                         "valid" + no_form,
                         "e4: add check constraint 'ck_item_y_not_null' on 'item' (y IS NOT "
                         "NULL) not valid" + no_form}));
    return;
  }
  const std::string later =
      ": give it `not_valid: true` (the rows already in the table are not checked, and the "
      "lock is held for a moment), then check them with `validate_constraint` in a later "
      "migration, which lets reads and writes go on";
  auto set_not_null_of = [](const std::string& table, const std::string& col) {
    return "alter column '" + table + "." + col + "' (NULL -> NOT NULL) blocks every read and "
           "write of '" + table + "' while postgresql checks every row for NULL: first add a "
           "check `" + col +
           " IS NOT NULL` with `not_valid: true` and validate it in a later migration; "
           "postgresql 12 and later then make the column NOT NULL without the scan (the check "
           "can be dropped after)";
  };
  auto set_not_null = [&](const std::string& col) { return set_not_null_of("item", col); };
  const std::string held =
      " in the same transaction, so the locks taken before it stay held while the rows are "
      "checked: give the validation a migration of its own (or this one `atomic: false`)";
  EXPECT_EQ(findings("locking"),
            (std::vector<std::string>{
                "e3: add check constraint 'ck_item_v_positive' on 'item' (v > 0) blocks every "
                "read and write of 'item' while postgresql checks every row" + later,
                "e3: add foreign key 'fk_item_owner_id_owner' on 'item' (owner_id) -> 'owner' "
                "(id) blocks every write to 'item' and to 'owner' while postgresql checks every "
                "row of 'item'" + later,
                "e3: add unique constraint 'uq_item_v' on 'item' (v) blocks every read and "
                "write of 'item' while postgresql builds the constraint's index: for a table "
                "in use, make it a unique index (`.unique().index()` on the column, or "
                "`unique_index(...)` in the mapping) and create it with `concurrently: true`, "
                "in a migration with `atomic: false`",
                "e3: " + set_not_null("v"),
                "e4: validate constraint 'ck_item_w_positive' on 'item' comes after add check "
                "constraint 'ck_item_w_not_null' on 'item' (w IS NOT NULL) not valid" + held,
                "e4: " + set_not_null("x"), "e8: " + set_not_null_of("items", "y"),
                "ea: validate constraint 'ck_item_x_not_null' on 'items' comes after add column "
                "'items.z'" + held,
                "eb: validate constraint 'ck_item_y_not_null' on 'items' comes after create "
                "table 'tag'" + held}));
  // Added not valid: not risky; validating is, unless the constraint is valid already.
  std::vector<std::string> risky;
  for (const auto& f : findings("risky"))
    if (f.rfind("e4", 0) == 0 || f.rfind("e5", 0) == 0 || f.rfind("e9", 0) == 0 ||
        f.rfind("ea", 0) == 0 || f.rfind("eb", 0) == 0)
      risky.push_back(f);
  EXPECT_EQ(risky, (std::vector<std::string>{
                       "e4: validate constraint 'ck_item_w_positive' on 'item' may fail on rows "
                       "already in the table",
                       "e5: validate constraint 'ck_item_w_not_null' on 'item' may fail on rows "
                       "already in the table",
                       "e9: validate constraint 'ck_items_v_big' on 'items' may fail on rows "
                       "already in the table",
                       "ea: validate constraint 'ck_item_x_not_null' on 'items' may fail on rows "
                       "already in the table",
                       "eb: validate constraint 'ck_item_y_not_null' on 'items' may fail on rows "
                       "already in the table"}));
  // Linted alone, e6 still knows that e5 validated its check, and e8 that nothing validated
  // its check, which the rename carried.
  EXPECT_TRUE(findings("locking", "e60000000000").empty());
  EXPECT_EQ(findings("locking", "e80000000000"),
            std::vector<std::string>{"e8: " + set_not_null_of("items", "y")});
  EXPECT_EQ(findings("locking", "e40000000000").size(), 2u);
}

TEST_P(MigrateApply, stamp_takes_a_revision_for_each_head) {
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_item(c);
  write_migration(c, "b10000000000", "", "other", {CreateTableOp{table("other", {})}});
  upgrade(c, "heads");
  stamp(c, {"e10000000000"});
  EXPECT_EQ(applied_ids(c), item_only);
  stamp(c, {"e10000000000", "b10000000000"});
  EXPECT_EQ(applied_ids(c), (std::vector<std::string>{"b10000000000", "e10000000000"}));
  EXPECT_NE(out.str().find("Stamped the database at b10000000000, e10000000000"),
            std::string::npos)
      << out.str();
  stamp(c, std::vector<std::string>{"e10000000000"});
  EXPECT_EQ(applied_ids(c), item_only);
  EXPECT_THROW(stamp(c, {"b10000000000", "zzzz"}), UnknownRevisionError);
  EXPECT_NE(error_of([&] { stamp(c, {"base", "b10000000000"}); })
                .find("stamp: 'base' means no revision applied, so it cannot go with others"),
            std::string::npos);
  EXPECT_EQ(applied_ids(c), item_only) << "a refused stamp changed the ledger";
}

TEST_P(MigrateApply, a_migration_left_unfinished_by_another_run_stops_this_run_at_its_next_step) {
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_item(c);
  write_migration(c, "e20000000000", "e10000000000", "meanwhile", {CallOp{"claim", "nothing"}});
  write_migration(c, "e30000000000", "e20000000000", "note",
                  {CreateTableOp{table("note", {})}});
  Migration other = migration_of("b10000000000", "", "other", {CreateTableOp{table("other", {})}});
  other.atomic = false;
  other.downgrade = reverse(other.upgrade);
  ScriptDirectory::load(c.directory).write(other);
  // While this run applies e20000000000, another (on SQLite, which has no lock that spans a
  // run) claims b10000000000, which runs outside a transaction, and has not finished it.
  c.callbacks["claim"] = [](engine::Connection& conn) {
    conn.execute("INSERT INTO strata_migrations (revision, checksum, applied_at, duration_ms, "
                 "status) VALUES ('b10000000000', 'x', '2026-12-06T21:00:00.000000Z', 0, "
                 "'running')");
  };
  c.callbacks["nothing"] = [](engine::Connection&) {};
  const std::string error = error_of([&] { upgrade(c, "e30000000000"); });
  EXPECT_NE(error.find("migration b10000000000 (other) runs outside a transaction (atomic: false) "
                       "and was started at 2026-12-06T21:00:00.000000Z by a run that has not "
                       "finished"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("`db stamp b10000000000 e20000000000` (the migration is in full effect) or "
                       "`db stamp e20000000000` (none of it is)"),
            std::string::npos)
      << error;
  EXPECT_EQ(applied_ids(c), (std::vector<std::string>{"e10000000000", "e20000000000"}));
  EXPECT_FALSE(has_table(c.url, "note")) << "the step after the claim ran";

  // The file of an unfinished migration deleted: the stamp that leaves it out.
  fs::remove(ScriptDirectory::load(c.directory).get("b10000000000").path);
  const std::string gone = error_of([&] { upgrade(c); });
  EXPECT_NE(gone.find("migration b10000000000 ran outside a transaction (atomic: false) and was "
                      "started at"),
            std::string::npos)
      << gone;
  EXPECT_NE(gone.find("no migration file defines it any more, so the database is between "
                      "revisions; undo by hand what of it took effect, then `db stamp "
                      "e20000000000` (or restore the file)"),
            std::string::npos)
      << gone;
  stamp(c, "e20000000000");
  upgrade(c);
  EXPECT_TRUE(has_table(c.url, "note"));
}

namespace {
void run_sql(const std::string& url, const std::string& sql) {
  Database db{url};
  auto& session = db.session();
  session.execute(sql);
  session.commit();
}

std::vector<std::string> sorted(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}
}  // namespace

TEST_P(MigrateApply, squash_replaces_a_chain_for_databases_before_it_after_it_and_part_way) {
  Scratch s(GetParam());
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_item(c);
  Migration note = migration_of(
      "e20000000000", "e10000000000", "note",
      {AddColumnOp{"item", column("note", schema::TypeKind::text), {}},
       ExecuteOp{{{"*", "UPDATE item SET note = 'n' WHERE note IS NULL"}},
                 {{"*", "UPDATE item SET note = NULL"}},
                 false}});
  note.downgrade = reverse(note.upgrade);
  ScriptDirectory::load(c.directory).write(note);
  write_migration(c, "e30000000000", "e20000000000", "index",
                  {CreateIndexOp{"item", schema::Index{"ix_item_v", {"v"}, false}}});
  write_migration(c, "e40000000000", "e30000000000", "rename",
                  {RenameColumnOp{"item", "note", "remark"}});
  write_migration(c, "e50000000000", "e40000000000", "other", {CreateTableOp{table("other", {})}});
  const std::vector<std::string> chain = {"e10000000000", "e20000000000", "e30000000000",
                                          "e40000000000"};
  // A database part way along the chain, with a row.
  upgrade(c, "e10000000000");
  run_sql(c.url, "INSERT INTO item (v) VALUES (7)");
  upgrade(c, "e20000000000");

  out.str("");
  const auto path = squash(c, "", "e40000000000", "item squashed");
  const auto dir = ScriptDirectory::load(c.directory);
  const Migration* squashed = dir.replaced_by("e10000000000");
  ASSERT_NE(squashed, nullptr);
  const std::string id = squashed->revision;
  EXPECT_EQ(squashed->replaces, chain);
  EXPECT_EQ(squashed->path, path.string());
  EXPECT_TRUE(squashed->down_revisions.empty());
  // The column joins the new table; nothing joins across the execute.
  ASSERT_EQ(squashed->upgrade.size(), 4u);
  EXPECT_EQ(std::get<CreateTableOp>(squashed->upgrade[0]).table.columns.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<ExecuteOp>(squashed->upgrade[1]));
  EXPECT_NE(out.str().find("Squashed 4 migrations, e10000000000 to e40000000000, into " + id +
                           ": 4 of 5 upgrade operations"),
            std::string::npos)
      << out.str();
  EXPECT_EQ(dir.graph().find("e50000000000")->down_revisions, std::vector<std::string>{id});
  EXPECT_EQ(dir.graph().find("e30000000000"), nullptr);
  out.str("");
  show(c, id);
  EXPECT_NE(out.str().find("Replaces: e10000000000, e20000000000, e30000000000, e40000000000"),
            std::string::npos)
      << out.str();

  // Part way: the rest of the chain runs from its files (the squashed migration's id names
  // the last of them), then what comes after it; offline from there, the same.
  out.str("");
  upgrade(c, "head", true, "e20000000000");
  EXPECT_NE(out.str().find("-- Running upgrade e20000000000 -> e30000000000"), std::string::npos)
      << out.str();
  out.str("");
  upgrade(c, id);
  EXPECT_NE(out.str().find("Running upgrade e20000000000 -> e30000000000"), std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("Running upgrade e30000000000 -> e40000000000"), std::string::npos)
      << out.str();
  EXPECT_EQ(out.str().find("e50000000000"), std::string::npos) << out.str();
  // The whole chain applied: the squashed migration stands for it.
  out.str("");
  upgrade(c);
  EXPECT_NE(out.str().find("Running upgrade " + id + " -> e50000000000"), std::string::npos)
      << out.str();
  EXPECT_EQ(applied_ids(c), (std::vector<std::string>{"e10000000000", "e20000000000",
                                                      "e30000000000", "e40000000000",
                                                      "e50000000000"}));
  EXPECT_EQ(count(c.url, "SELECT COUNT(*) FROM item WHERE v = 7 AND remark = 'n'"), 1);
  // At the end of the chain: the squashed migration counts as applied.
  out.str("");
  history(c, "", false, true);
  EXPECT_NE(out.str().find(id + " -> e50000000000 (head) (current), other"), std::string::npos)
      << out.str();
  out.str("");
  upgrade(c);
  EXPECT_NE(out.str().find("Nothing to do"), std::string::npos) << out.str();

  // Down through it: its downgrade runs, and the chain's rows go.
  out.str("");
  downgrade(c, "base");
  EXPECT_NE(out.str().find("Running downgrade " + id + " -> <base>, item squashed"),
            std::string::npos)
      << out.str();
  EXPECT_TRUE(applied_ids(c).empty());
  EXPECT_FALSE(has_table(c.url, "item"));
  // From base, the squashed migration runs in place of the chain.
  out.str("");
  upgrade(c);
  EXPECT_NE(out.str().find("Running upgrade <base> -> " + id + ", item squashed"),
            std::string::npos)
      << out.str();
  EXPECT_EQ(out.str().find("e30000000000"), std::string::npos) << out.str();
  EXPECT_EQ(applied_ids(c), sorted({id, "e50000000000"}));
  run_sql(c.url, "INSERT INTO item (v, remark) VALUES (1, 'r')");
  EXPECT_NO_THROW(check([&] {
    Config plain = c;
    plain.has_models = false;
    return plain;
  }()));

  // The chain's files gone: the migration after it follows the squashed one.
  for (const auto& r : chain) fs::remove(dir.get(r).path);
  out.str("");
  upgrade(c);
  EXPECT_NE(out.str().find("Nothing to do"), std::string::npos) << out.str();
  redo(c, "-1");
  EXPECT_EQ(applied_ids(c), sorted({id, "e50000000000"}));
  EXPECT_EQ(count(c.url, "SELECT COUNT(*) FROM item"), 1) << "a redo of e5 lost item's rows";

  // A database part way whose chain files are gone cannot go on: refused, naming them.
  downgrade(c, "base");
  for (const auto& r : {"e10000000000", "e20000000000"})
    run_sql(c.url, std::string("INSERT INTO strata_migrations (revision, checksum, applied_at, "
                               "duration_ms, status) VALUES ('") +
                       r + "', 'x', '2026-12-06T21:00:00.000000Z', 0, 'applied')");
  const std::string error = error_of([&] { upgrade(c); });
  EXPECT_NE(error.find("the database has applied some of the revisions squashed into " + id +
                       ", not all, and the files of e10000000000, e20000000000, e30000000000, "
                       "e40000000000 are gone"),
            std::string::npos)
      << error;
  // The stamp repairs it.
  stamp(c, {id});
  EXPECT_EQ(applied_ids(c), std::vector<std::string>{id});

  // A squashed migration is not squashed again while it replaces others.
  const std::string again = error_of([&] { squash(c, "", "e50000000000", ""); });
  EXPECT_NE(again.find("squash: " + id + " is itself a squashed migration"), std::string::npos)
      << again;
}

TEST(MigrateApplySqlite, squash_refuses_a_chain_with_a_fork_a_gap_or_one_migration) {
  Scratch s;
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_item_and_note(c);
  write_migration(c, "e30000000000", "e20000000000", "three", {CreateTableOp{table("three", {})}});
  write_migration(c, "b10000000000", "e20000000000", "fork", {CreateTableOp{table("fork", {})}});
  const auto refused = [&](const std::string& from, const std::string& to) {
    const std::string e = error_of([&] { squash(c, from, to, ""); });
    EXPECT_EQ(std::distance(fs::directory_iterator(c.directory / "versions"),
                            fs::directory_iterator()),
              4)
        << "a refused squash wrote a file";
    return e;
  };
  EXPECT_NE(refused("e10000000000", "e30000000000")
                .find("between e10000000000 and e30000000000, e20000000000 has several children "
                      "(a branch point)"),
            std::string::npos);
  EXPECT_NE(refused("e30000000000", "e10000000000").find("e30000000000 is not below e10000000000"),
            std::string::npos);
  EXPECT_NE(refused("", "e30000000000").find("e30000000000 has nothing below it to squash it with"),
            std::string::npos);
  EXPECT_NE(refused("e20000000000", "e20000000000")
                .find("e20000000000 is both the first and the last migration to squash"),
            std::string::npos);
  // Up to the branch point: the chain below it.
  squash(c, "", "e20000000000", "");
  const auto dir = ScriptDirectory::load(c.directory);
  const Migration* squashed = dir.replaced_by("e20000000000");
  ASSERT_NE(squashed, nullptr);
  auto children = dir.graph().children(squashed->revision);
  std::sort(children.begin(), children.end());
  EXPECT_EQ(children, (std::vector<std::string>{"b10000000000", "e30000000000"}));
  EXPECT_NE(error_of([&] { show(c, "e10000000000"); })
                .find("revision 'e10000000000' is one of the revisions squashed into " +
                      squashed->revision),
            std::string::npos);
  // A migration naming one of the chain but the last as its parent has no place.
  write_migration(c, "c10000000000", "e10000000000", "late", {CreateTableOp{table("late", {})}});
  EXPECT_NE(error_of([&] { ScriptDirectory::load(c.directory); })
                .find("its down_revision e10000000000 is one of the revisions squashed into " +
                      squashed->revision + ", not the last of them (e20000000000)"),
            std::string::npos);
}

TEST(MigrateApplySqlite, squash_refuses_to_run_a_data_migration_with_foreign_keys_off) {
  Scratch s;
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  schema::Table parent = table("parent", {});
  schema::Table child = table("child", {column("parent_id", schema::TypeKind::integer),
                                        column("label", schema::TypeKind::text)});
  child.foreign_keys = {schema::ForeignKey{"fk_child_parent_id_parent", {"parent_id"}, "parent",
                                           {"id"}, schema::ReferentialAction::cascade}};
  write_migration(c, "f10000000000", "", "tables", {CreateTableOp{parent}, CreateTableOp{child}});
  write_migration(c, "f20000000000", "f10000000000", "purge",
                  {ExecuteOp{{{"*", "DELETE FROM parent"}}, {{"*", "SELECT 1"}}, false}});
  schema::Column label = child.columns[2];
  schema::Column required = label;
  required.nullable = false;
  required.server_default = "''";
  write_migration(c, "f30000000000", "f20000000000", "label required",
                  {AlterColumnOp{"child", label, required}});
  // The DELETE cascades to child's rows with foreign keys on; in a migration that rebuilds
  // child, SQLite runs it with them off.
  const std::string error = error_of([&] { squash(c, "", "f30000000000", ""); });
  EXPECT_NE(error.find("squash: on SQLite the squashed migration rebuilds a table (in its "
                       "upgrade or its downgrade), so all of it runs with foreign keys off, and "
                       "with it the execute and call operations of f20000000000"),
            std::string::npos)
      << error;
  EXPECT_EQ(std::distance(fs::directory_iterator(c.directory / "versions"),
                          fs::directory_iterator()),
            3)
      << "a refused squash wrote a file";
  // On PostgreSQL, which has no such rebuild, it is squashed; on SQLite, a chain without the
  // rebuild is.
  Config on_postgresql = c;
  on_postgresql.url = "postgresql://localhost/nowhere";
  EXPECT_NO_THROW(squash(on_postgresql, "", "f30000000000", ""));
  fs::remove(ScriptDirectory::load(c.directory).replaced_by("f10000000000")->path);
  EXPECT_NO_THROW(squash(c, "f10000000000", "f20000000000", ""));
}

TEST(MigrateApplySqlite, a_squashed_migration_is_not_undone_when_another_run_moved_along_its_chain) {
  Scratch s;
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_item_and_note(c);
  write_migration(c, "e30000000000", "e20000000000", "meddles", {CallOp{"nothing", "meddle"}});
  c.callbacks["nothing"] = [](engine::Connection&) {};
  // As a run of an older checkout would, between this run's steps: e20000000000 un-applied.
  c.callbacks["meddle"] = [](engine::Connection& conn) {
    conn.execute("DELETE FROM strata_migrations WHERE revision = 'e20000000000'");
  };
  upgrade(c);
  squash(c, "", "e20000000000", "");
  const std::string id = ScriptDirectory::load(c.directory).replaced_by("e10000000000")->revision;
  const std::string error = error_of([&] { downgrade(c, "base"); });
  EXPECT_NE(error.find("migration " + id + " (squashed e10000000000 to e20000000000) was not "
                       "started: another run moved the database part way along the revisions "
                       "it replaces (it has e10000000000 applied) meanwhile"),
            std::string::npos)
      << error;
  EXPECT_TRUE(has_table(c.url, "item")) << "the squashed migration was undone part way";
  EXPECT_EQ(applied_ids(c), std::vector<std::string>{"e10000000000"});
}

TEST(MigrateApplySqlite, squash_of_a_chain_one_cannot_downgrade_cannot_be_downgraded) {
  Scratch s;
  std::ostringstream out;
  auto c = config_for(s, out);
  init(c);
  write_item(c);
  write_by_hand(c, "e20000000000", "e10000000000", "fill",
                {ExecuteOp{{{"*", "INSERT INTO item (v) VALUES (1)"}}, {}, true}});
  squash(c, "", "e20000000000", "");
  EXPECT_NE(out.str().find("Its downgrade list is empty: e20000000000 cannot be downgraded: "
                           "execute SQL"),
            std::string::npos)
      << out.str();
  const auto dir = ScriptDirectory::load(c.directory);
  const Migration* squashed = dir.replaced_by("e10000000000");
  ASSERT_NE(squashed, nullptr);
  EXPECT_TRUE(squashed->downgrade.empty());
  upgrade(c);
  EXPECT_EQ(count(c.url, "SELECT COUNT(*) FROM item"), 1);
  EXPECT_THROW(downgrade(c, "base"), IrreversibleError);
  EXPECT_EQ(count(c.url, "SELECT COUNT(*) FROM item"), 1) << "a refused downgrade changed the data";
}
