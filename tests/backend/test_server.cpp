// Many sessions on one engine, and a database server's own failure modes on the backends that
// have them: a connection ended under a session (the session rolls back, the next one gets a
// fresh connection from the pool), rows locked by another writer, and connecting: refused,
// wrong password (never shown).
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "backend.hpp"

namespace {

using namespace strata;

BACKEND_SUITE(ServerTest);

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_P(ServerTest, threads_share_one_engine_each_with_a_session_of_its_own) {
  BACKEND_REQUIRE(shared_database());
  constexpr int threads = 6, commits = 15;
  std::vector<std::thread> workers;
  std::vector<std::string> errors(threads);
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      try {
        auto s = db().new_session();
        for (int i = 0; i < commits; ++i) {
          s.add(Task{.title = "t" + std::to_string(t) + "-" + std::to_string(i)});
          s.commit();
        }
        EXPECT_GE(s.query<Task>().count(), commits);
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(t)] = e.what();
      }
    });
  }
  for (auto& w : workers) w.join();
  for (int t = 0; t < threads; ++t) EXPECT_EQ(errors[static_cast<std::size_t>(t)], "") << "thread " << t;
  EXPECT_EQ(session().query<Task>().count(), threads * commits);
}

TEST_P(ServerTest, a_connection_lost_mid_session_is_a_clear_error_and_the_next_session_works) {
  BACKEND_REQUIRE(server_connections());
  auto& s = session();
  s.add(Task{.title = "kept"});
  s.commit();

  s.add(Task{.title = "in flight"});
  s.flush();  // in a transaction on the server now
  end_connection(connection_id(s));

  try {
    s.commit();
    FAIL() << "commit succeeded on a connection the server had ended";
  } catch (const OperationalError& e) {
    EXPECT_TRUE(contains(e.what(), "lost the connection to the database server")) << e.what();
    // Seen from here, a connection lost at COMMIT may have committed first.
    EXPECT_TRUE(contains(e.what(), "whether the server committed the transaction before the "
                                   "connection went is not known"))
        << e.what();
  }
  s.rollback();  // gives the dead connection back; the pool closes it

  // The same session and a new one work, on fresh connections.
  EXPECT_EQ(s.query<Task>().count(), 1) << "the flushed row survived a rollback";
  s.add(Task{.title = "after"});
  s.commit();
  auto other = open_another();
  auto titles = other->session().query<Task>().order_by(&Task::id).all();
  ASSERT_EQ(titles.size(), 2u);
  EXPECT_EQ(titles[0]->title, "kept");
  EXPECT_EQ(titles[1]->title, "after");
}

TEST_P(ServerTest, a_connection_lost_before_the_commit_says_the_server_rolled_back) {
  BACKEND_REQUIRE(server_connections());
  auto& s = session();
  s.add(Task{.title = "in flight"});
  s.flush();
  end_connection(connection_id(s));
  s.add(Task{.title = "next"});
  try {
    s.flush();
    FAIL() << "a flush succeeded on a connection the server had ended";
  } catch (const OperationalError& e) {
    EXPECT_TRUE(contains(e.what(), "the transaction was rolled back by the server")) << e.what();
  }
  s.rollback();
  EXPECT_EQ(s.query<Task>().count(), 0);
}

TEST_P(ServerTest, a_commit_after_the_connection_was_found_lost_says_nothing_was_committed) {
  // The COMMIT is never sent: the server rolled the transaction back when the connection
  // went. (It said "whether the server committed ... is not known".)
  BACKEND_REQUIRE(server_connections());
  auto& s = session();
  s.add(Task{.title = "in flight"});
  s.flush();
  end_connection(connection_id(s));
  EXPECT_THROW(s.query<Task>().count(), OperationalError);
  try {
    s.commit();
    FAIL() << "commit succeeded on a connection known to be lost";
  } catch (const OperationalError& e) {
    EXPECT_TRUE(contains(e.what(), "the transaction was rolled back by the server")) << e.what();
    EXPECT_FALSE(contains(e.what(), "is not known")) << e.what();
  }
  s.rollback();
  EXPECT_EQ(s.query<Task>().count(), 0);
}

TEST_P(ServerTest, a_pooled_connection_that_died_while_idle_is_not_handed_out_again) {
  BACKEND_REQUIRE(server_connections());
  auto& s = session();
  const auto id = connection_id(s);
  s.commit();  // the connection goes back to the pool, alive
  end_connection(id);

  // The pool notices at checkout and opens a new one: the session does not see the loss.
  EXPECT_EQ(s.query<Task>().count(), 0);
  EXPECT_NE(connection_id(s), id);
  s.commit();
}

TEST_P(ServerTest, a_row_locked_by_another_writer_is_an_operational_error_after_the_busy_timeout) {
  BACKEND_REQUIRE(row_write_locks());
  auto& first = session();
  auto task = first.add(Task{.title = "contended"});
  first.commit();
  task->title = "first's";
  first.flush();  // holds the row lock

  DatabaseOptions options;
  options.engine.connect.busy_timeout = std::chrono::milliseconds(100);
  auto second_db = open_another(options);
  auto& second = second_db->session();
  auto mine = second.get<Task>(task->id);
  ASSERT_TRUE(mine);
  mine->title = "second's";
  const auto started = std::chrono::steady_clock::now();
  try {
    second.commit();
    FAIL() << "a second writer changed a row the first had locked";
  } catch (const OperationalError& e) {
    EXPECT_TRUE(contains(e.what(), "locked")) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3))
      << "the busy timeout of 100 ms was not used";
  second.rollback();

  first.commit();
  auto again = second.get<Task>(task->id);
  second.refresh(again);  // rollback() restored the object as loaded; the row has changed since
  EXPECT_EQ(again->title, "first's");
  again->title = "second's";
  second.commit();
}

TEST_P(ServerTest, a_busy_timeout_longer_than_the_server_takes_is_the_longest_it_takes) {
  // PostgreSQL's lock_timeout is an int of milliseconds: 3,000,000,000 ms made every
  // connection fail ("exceeds integer range"); SQLite's busy timeout is cut the same way.
  BACKEND_REQUIRE(server_connections());
  DatabaseOptions options;
  options.engine.connect.busy_timeout = std::chrono::milliseconds(3'000'000'000);
  auto db = open_another(options);
  auto r = db->session().execute("SHOW lock_timeout");
  EXPECT_EQ(r.rows.at(0).get<std::string>(0), "2147483647ms");
}

TEST_P(ServerTest, a_statement_timeout_is_said_to_be_one_not_a_lock) {
  BACKEND_REQUIRE(server_connections());
  auto& s = session();
  s.execute("SET LOCAL statement_timeout = 50");
  try {
    s.execute("SELECT pg_sleep(5)");
    FAIL() << "the statement outlived statement_timeout";
  } catch (const OperationalError& e) {
    EXPECT_TRUE(contains(e.what(), "the statement was canceled (statement_timeout")) << e.what();
    EXPECT_FALSE(contains(e.what(), "locked")) << e.what();
  }
  s.rollback();
}

TEST_P(ServerTest, a_wrong_password_fails_authentication_without_showing_the_password) {
  BACKEND_REQUIRE(server_connections());
  // scripts/pg-server makes strata_password_user, who must give "right-password".
  auto url = engine::Url::parse(this->url());
  url.username = "strata_password_user";
  url.password = "wrong-secret-a1b2";
  url.query.erase("user");
  Database db(url.to_string(true));
  try {
    db.session().execute("SELECT 1");
    FAIL() << "connected with a wrong password";
  } catch (const OperationalError& e) {
    const std::string what = e.what();
    EXPECT_TRUE(contains(what, "password authentication failed")) << what;
    EXPECT_FALSE(contains(what, "wrong-secret-a1b2")) << "the password is in the message: " << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << "not one line: " << what;
  }

  url.password = "right-password";
  Database right(url.to_string(true));
  EXPECT_EQ(right.session().execute("SELECT 1").rows.size(), 1u);
}

TEST_P(ServerTest, a_server_that_is_not_there_is_a_one_line_operational_error) {
  BACKEND_REQUIRE(server_connections());
  auto url = engine::Url::parse(this->url());
  // Nothing listens on port 1, in a socket folder or on a host.
  if (url.query.count("port") != 0) {
    url.query["port"] = "1";
  } else {
    url.port = 1;
  }
  Database db(url.to_string(true));
  try {
    db.session().execute("SELECT 1");
    FAIL() << "connected to a server that is not there";
  } catch (const OperationalError& e) {
    const std::string what = e.what();
    EXPECT_TRUE(contains(what, "cannot connect to")) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << "not one line: " << what;
  }
}

TEST_P(ServerTest, every_word_the_server_reserves_is_quoted) {
  // The server's own list (pg_get_keywords: R reserved, T reserved but a function or type
  // name), so that a word a newer server reserves (system_user in 16) is not written bare.
  if (!server_connections()) GTEST_SKIP() << "PostgreSQL's keyword list";
  auto& s = session();
  auto r = s.execute("SELECT word FROM pg_get_keywords() WHERE catcode IN ('R', 'T')");
  ASSERT_GT(r.rows.size(), 50u);
  const auto& d = db().dialect();
  for (const auto& row : r.rows) {
    const auto word = row.get<std::string>(0);
    EXPECT_EQ(d.quote(word), "\"" + word + "\"") << word << " is written bare";
  }
}

}  // namespace
