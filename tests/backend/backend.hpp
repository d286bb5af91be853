// The backend suite's fixture. Every TEST_P of a suite declared with BACKEND_SUITE runs once
// per database URL of STRATA_TEST_URLS (space-separated; the word `default`, also when unset,
// stands for an in-memory SQLite database and a SQLite file in a fresh temporary folder), each time on a fresh strata::Database with
// the models of models.hpp created, and with every statement it runs captured from the echo,
// so that a test can assert the exact SQL of a flush, in order.
//
// Backend differences are skipped by requirement (SQLAlchemy's testing/requirements.py):
// a test states what it needs with BACKEND_REQUIRE(requirement()), never which backend.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "strata/strata.hpp"

#include "models.hpp"

namespace backend {

// The URLs the suite runs on.
const std::vector<std::string>& test_urls();
// A test-name-safe label for a URL: sqlite_memory, sqlite_file, postgresql...
std::string url_label(const ::testing::TestParamInfo<std::string>& info);

// One statement as the engine echoed it.
struct Statement {
  std::string sql;     // the SQL text, placeholders written "?" whatever the dialect's form
  std::string params;  // the bound values as displayed, e.g. "'john', 1"; empty when none
  bool failed = false; // the database refused it: "(failed after 0.123 ms)"
};

class BackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override;
  void TearDown() override;

  const std::string& url() const { return GetParam(); }
  strata::Database& db() { return *db_; }
  // The app session of db() (Flask-SQLAlchemy's db.session).
  strata::Session& session() { return db_->session(); }
  // Replaces db() with a Database on url() whose options are the fixture's (SQL capture)
  // changed by adjust, with the tables created empty (e.g. track_modifications on).
  void reopen(const std::function<void(strata::DatabaseOptions&)>& adjust);
  // A Database with the same options on url(): another process, in effect. Only a database
  // that outlives its connections can be shared so (see requirements below).
  std::unique_ptr<strata::Database> open_another(strata::DatabaseOptions options = {});

  // What was run since the fixture was set up or since the last clear_sql().
  const std::vector<Statement>& statements() const { return captured_; }
  std::vector<std::string> sql() const;     // the SQL texts
  std::vector<std::string> writes() const;  // only INSERT, UPDATE and DELETE
  std::vector<std::string> selects() const;
  void clear_sql() { captured_.clear(); }
  // The statements as one text, one per line, for failure messages.
  std::string dump() const;

  // The dialect's quoting of an identifier, and its n-th placeholder (from 1), for raw SQL
  // that must run everywhere: raw("SELECT * FROM " + q("user") + " WHERE id = " + ph(1)).
  std::string q(std::string_view name) const;
  std::string ph(std::size_t n) const;
  // Expected SQL written once for every dialect: each {name} becomes the identifier as the
  // dialect quotes it, "UPDATE {user} SET email = ? WHERE {user}.id = ?".
  std::string spelled(std::string_view pattern) const;
  // The INSERT the ORM runs for an object whose key the database generates: spelled(pattern),
  // then " RETURNING key" where the dialect reads generated keys so.
  std::string insert_sql(std::string_view pattern, std::string_view key = "id") const;

  // (Re)creates the tables of the Strict* models by hand, with columns that hold what the
  // models cannot load: loose_name(name TEXT NULL), loose_amount(amount TEXT),
  // loose_small(small BIGINT); drop_loose_tables() removes them.
  void create_loose_tables();
  void drop_loose_tables();

  // ---- requirements: what a test needs of the backend --------------------------------
  // Several Database objects on url() see the same data (not an in-memory database).
  bool shared_database() const;
  // A writer locks the whole database until it commits, and a second writer gives up
  // after its busy timeout (SQLite files).
  bool whole_database_write_lock() const;
  // A writer locks the rows it changes until it commits; another writer of those rows waits
  // up to its busy timeout (PostgreSQL).
  bool row_write_locks() const;
  // Text values may hold NUL bytes (SQLite); PostgreSQL's text cannot.
  bool text_holds_nul() const;
  // A floating-point column keeps NaN (PostgreSQL); SQLite would store NULL.
  bool stores_nan() const;
  // A failed statement aborts its transaction: the server refuses the rest of it, and its
  // COMMIT rolls back (PostgreSQL). SQLite undoes the failed statement alone.
  bool failed_statement_aborts_transaction() const;
  // New rows of one table go to the database in multi-row INSERTs (PostgreSQL), not one
  // statement each.
  bool batched_inserts() const;
  bool batched_updates() const;
  // The database is a server whose connections can be ended from another connection, as an
  // administrator or a failover would (PostgreSQL).
  bool server_connections() const;
  // The server lists the statements a connection holds prepared (PostgreSQL's
  // pg_prepared_statements), so a test can count them.
  bool server_prepared_statements() const;
  // A statement takes at most 65,535 parameters (PostgreSQL's protocol); SQLite, as Debian
  // builds it, takes 250,000.
  bool parameters_at_most_65535() const;

  // With server_connections(): the server's id of the connection session s holds (it begins
  // a transaction to hold one), and ending that connection from another one.
  std::int64_t connection_id(strata::Session& s);
  void end_connection(std::int64_t id);
  // With server_prepared_statements(): how many statements the connection of session s holds
  // prepared whose text contains fragment (as the dialect writes it, "$n" placeholders).
  std::int64_t prepared_statements_containing(strata::Session& s, std::string_view fragment);

 private:
  std::mutex capture_mutex_;
  std::vector<Statement> captured_;
  std::unique_ptr<strata::Database> db_;
};

}  // namespace backend

// Declares fixture `name` (a BackendTest) and runs its TEST_Ps on every URL.
#define BACKEND_SUITE(name)                                                             \
  class name : public ::backend::BackendTest {};                                        \
  INSTANTIATE_TEST_SUITE_P(backends, name, ::testing::ValuesIn(::backend::test_urls()), \
                           ::backend::url_label)

// A fixture on top of Base (a BackendTest) with ann (posts "one" and "two") and bob (no posts)
// committed, and the session then emptied: the relationship and loading tests start so.
namespace backend {
template <class Base>
class WithAnnAndBob : public Base {
 protected:
  void SetUp() override {
    Base::SetUp();
    auto& s = this->session();
    auto ann = s.add(User{.username = "ann", .email = "ann@x"});
    auto bob = s.add(User{.username = "bob", .email = "bob@x"});
    auto one = s.add(Post{.title = "one", .author = ann});
    auto two = s.add(Post{.title = "two", .author = ann});
    s.commit();
    ann_id = ann->id;
    bob_id = bob->id;
    one_id = one->id;
    two_id = two->id;
    s.expunge_all();
    this->clear_sql();
  }
  std::int64_t ann_id = 0, bob_id = 0, one_id = 0, two_id = 0;
};
}  // namespace backend

// Skips the rest of the test unless the backend meets the requirement.
#define BACKEND_REQUIRE(requirement)                                                         \
  do {                                                                                       \
    if (!(requirement)) GTEST_SKIP() << "backend lacks: " #requirement " (" << url() << ")"; \
  } while (0)
