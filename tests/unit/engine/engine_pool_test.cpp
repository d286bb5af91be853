// The Engine's pool over the SQLite driver: reuse of idle connections, the single connection
// of an in-memory database (and its timeout), clean-up of connections given back, and echo.
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "sqlite_support.hpp"

using namespace strata;
using namespace std::chrono_literals;
using strata::testing::query_int;
using strata::testing::SqliteDriver;
using strata::testing::TempDir;

TEST(EnginePool, memory_database_hands_out_the_same_connection_each_time) {
  auto driver = std::make_shared<SqliteDriver>();
  engine::Engine eng(engine::Url::parse("sqlite://"), driver);
  engine::Connection* first = nullptr;
  {
    auto c = eng.connect();
    first = &*c;
    c->execute("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (5)");
  }
  auto c = eng.connect();
  EXPECT_EQ(&*c, first) << "an in-memory database must keep its one connection";
  EXPECT_EQ(query_int(*c, "SELECT v FROM t"), 5) << "the data went with a closed connection";
  EXPECT_EQ(driver->opened, 1);
}

TEST(EnginePool, file_database_reuses_an_idle_connection) {
  TempDir dir;
  auto driver = std::make_shared<SqliteDriver>();
  engine::Engine eng(engine::Url::parse(dir.url("app.db")), driver);
  engine::Connection* first = nullptr;
  { first = &*eng.connect(); }
  auto a = eng.connect();
  EXPECT_EQ(&*a, first) << "the idle connection was not reused";
  auto b = eng.connect();
  EXPECT_NE(&*b, &*a) << "a connection in use was lent twice";
  EXPECT_EQ(driver->opened, 2) << "a file database opens a second connection when one is busy";
}

TEST(EnginePool, keeps_at_most_pool_size_idle_connections) {
  TempDir dir;
  auto driver = std::make_shared<SqliteDriver>();
  engine::EngineOptions options;
  options.pool_size = 1;
  engine::Engine eng(engine::Url::parse(dir.url("app.db")), driver, options);
  {
    auto a = eng.connect();
    auto b = eng.connect();
  }
  {
    auto a = eng.connect();
    auto b = eng.connect();
  }
  EXPECT_EQ(driver->opened, 3) << "with pool_size 1, one of the two should have been kept";
}

TEST(EnginePool, connection_given_back_inside_a_transaction_is_rolled_back) {
  TempDir dir;
  engine::Engine eng(engine::Url::parse(dir.url("app.db")), std::make_shared<SqliteDriver>());
  {
    auto c = eng.connect();
    c->execute("CREATE TABLE t (v INTEGER)");
    c->begin();
    c->execute("INSERT INTO t VALUES (1)");
  }
  auto c = eng.connect();
  EXPECT_FALSE(c->in_transaction()) << "a reused connection was still inside a transaction";
  EXPECT_EQ(query_int(*c, "SELECT count(*) FROM t"), 0) << "abandoned work was committed";
}

TEST(EnginePool, single_connection_pool_times_out_with_a_clear_error) {
  engine::EngineOptions options;
  options.pool_timeout = 50ms;
  engine::Engine eng(engine::Url::parse("sqlite://"), std::make_shared<SqliteDriver>(), options);
  auto held = eng.connect();
  const auto start = std::chrono::steady_clock::now();
  try {
    eng.connect();
    FAIL() << "a second connection to an in-memory database was handed out";
  } catch (const OperationalError& e) {
    EXPECT_NE(std::string(e.what()).find("timed out after 50 ms waiting for a connection"),
              std::string::npos)
        << e.what();
  }
  EXPECT_GE(std::chrono::steady_clock::now() - start, 45ms) << "did not wait for pool_timeout";
}

TEST(EnginePool, at_most_pool_size_plus_max_overflow_connections_are_lent_out) {
  TempDir dir;
  engine::EngineOptions options;
  options.pool_size = 1;
  options.max_overflow = 1;
  options.pool_timeout = 50ms;
  auto driver = std::make_shared<SqliteDriver>();
  engine::Engine eng(engine::Url::parse(dir.url("app.db")), driver, options);
  auto a = eng.connect();
  auto b = eng.connect();
  try {
    eng.connect();
    FAIL() << "a third connection was lent out with pool_size 1 + max_overflow 1";
  } catch (const OperationalError& e) {
    EXPECT_NE(std::string(e.what()).find("all 2 connections (pool_size 1 + max_overflow 1) are in use"),
              std::string::npos)
        << e.what();
  }
  // A waiter gets the connection given back.
  options.pool_timeout = 5s;
  engine::Engine waiting(engine::Url::parse(dir.url("app.db")), driver, options);
  auto c = waiting.connect();
  auto d = waiting.connect();
  auto got = std::async(std::launch::async, [&] { return &*waiting.connect(); });
  std::this_thread::sleep_for(20ms);
  engine::Connection* given = &*c;
  c.release();
  EXPECT_EQ(got.get(), given) << "the waiter did not get the connection given back";
}

TEST(EnginePool, single_connection_waiter_gets_it_when_given_back) {
  engine::EngineOptions options;
  options.pool_timeout = 5s;
  engine::Engine eng(engine::Url::parse("sqlite://"), std::make_shared<SqliteDriver>(), options);
  auto held = eng.connect();
  engine::Connection* raw = &*held;
  auto waiter = std::async(std::launch::async, [&] {
    auto c = eng.connect();
    return &*c;
  });
  std::this_thread::sleep_for(20ms);
  held.release();
  EXPECT_EQ(waiter.get(), raw);
}

TEST(EnginePool, many_threads_share_a_file_pool) {
  TempDir dir;
  engine::Engine eng(engine::Url::parse(dir.url("app.db")), std::make_shared<SqliteDriver>());
  { eng.connect()->execute("CREATE TABLE t (v INTEGER)"); }
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&eng, i] {
      for (int j = 0; j < 10; ++j) {
        auto c = eng.connect();
        engine::Transaction tx(*c);
        auto s = c->prepare_cached("INSERT INTO t VALUES (?)");
        s->bind_int64(0, i * 100 + j);
        s->execute();
        tx.commit();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(query_int(*eng.connect(), "SELECT count(*) FROM t"), 40);
}

TEST(EnginePool, set_echo_reaches_idle_and_new_connections) {
  TempDir dir;
  engine::Engine eng(engine::Url::parse(dir.url("app.db")), std::make_shared<SqliteDriver>());
  { eng.connect(); }  // one idle connection
  std::vector<std::string> lines;
  eng.set_echo([&](std::string_view l) { lines.emplace_back(l); });
  {
    auto a = eng.connect();  // the idle one
    auto b = eng.connect();  // a new one
    a->execute("SELECT 1");
    b->execute("SELECT 2");
  }
  ASSERT_EQ(lines.size(), 2u);
  eng.set_echo(nullptr);
  { eng.connect()->execute("SELECT 3"); }
  EXPECT_EQ(lines.size(), 2u) << "echo went on after set_echo(nullptr)";
}

TEST(EnginePool, failed_connect_frees_the_single_slot) {
  // A driver whose first connect fails: the pool must not count it as lent out.
  struct Flaky : SqliteDriver {
    std::unique_ptr<engine::Connection> connect(const engine::Url& url,
                                                const engine::ConnectOptions& o) override {
      if (fail_next) {
        fail_next = false;
        throw OperationalError("cannot open", {});
      }
      return SqliteDriver::connect(url, o);
    }
    bool fail_next = true;
  };
  engine::EngineOptions options;
  options.pool_timeout = 50ms;
  engine::Engine eng(engine::Url::parse("sqlite://"), std::make_shared<Flaky>(), options);
  EXPECT_THROW(eng.connect(), OperationalError);
  EXPECT_NO_THROW(eng.connect()) << "the failed open kept the only slot";
}

TEST(EnginePool, on_connect_runs_once_per_new_connection) {
  TempDir dir;
  auto driver = std::make_shared<SqliteDriver>();
  int calls = 0;
  engine::EngineOptions options;
  options.on_connect = [&](engine::Connection& c) {
    ++calls;
    c.execute("PRAGMA journal_mode = WAL");
  };
  engine::Engine eng(engine::Url::parse(dir.url("app.db")), driver, options);
  {
    auto c = eng.connect();
    auto stmt = c->prepare("PRAGMA journal_mode");
    ASSERT_TRUE(stmt->step());
    EXPECT_EQ(stmt->get_text(0), "wal") << "on_connect did not run before the connection was lent";
  }
  { auto again = eng.connect(); }
  EXPECT_EQ(calls, 1) << "on_connect ran again for a reused idle connection";
}

TEST(EnginePool, failing_on_connect_closes_the_connection_and_reports_the_error) {
  auto driver = std::make_shared<SqliteDriver>();
  engine::EngineOptions options;
  options.pool_timeout = 100ms;
  options.on_connect = [](engine::Connection& c) { c.execute("PRAGMA no_such_thing = 1; SELEC"); };
  engine::Engine eng(engine::Url::parse("sqlite://"), driver, options);
  EXPECT_THROW(eng.connect(), ProgrammingError);
  EXPECT_THROW(eng.connect(), ProgrammingError)
      << "a failed on_connect kept the single slot of an in-memory database";
}
