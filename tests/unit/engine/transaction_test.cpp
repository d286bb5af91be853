// Transaction on a real SQLite connection: commit, rollback, savepoints for nested levels,
// and the destructor's rollback.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sqlite_support.hpp"

using namespace strata;
using strata::testing::open_memory;
using strata::testing::query_int;

namespace {

std::unique_ptr<engine::Connection> with_table() {
  auto c = open_memory();
  c->execute("CREATE TABLE t (v INTEGER)");
  return c;
}

}  // namespace

TEST(Transaction, commit_keeps_the_work) {
  auto c = with_table();
  {
    engine::Transaction tx(*c);
    EXPECT_TRUE(c->in_transaction()) << "constructing a Transaction did not BEGIN";
    c->execute("INSERT INTO t VALUES (1)");
    tx.commit();
    EXPECT_FALSE(tx.active());
  }
  EXPECT_FALSE(c->in_transaction());
  EXPECT_EQ(query_int(*c, "SELECT count(*) FROM t"), 1);
}

TEST(Transaction, rollback_discards_the_work) {
  auto c = with_table();
  engine::Transaction tx(*c);
  c->execute("INSERT INTO t VALUES (1)");
  tx.rollback();
  EXPECT_FALSE(c->in_transaction());
  EXPECT_EQ(query_int(*c, "SELECT count(*) FROM t"), 0);
}

TEST(Transaction, destructor_rolls_back_when_not_committed) {
  auto c = with_table();
  {
    engine::Transaction tx(*c);
    c->execute("INSERT INTO t VALUES (1)");
  }
  EXPECT_FALSE(c->in_transaction()) << "the destructor left the transaction open";
  EXPECT_EQ(query_int(*c, "SELECT count(*) FROM t"), 0);
}

TEST(Transaction, nested_rollback_undoes_only_the_inner_work) {
  auto c = with_table();
  engine::Transaction outer(*c);
  c->execute("INSERT INTO t VALUES (1)");
  {
    engine::Transaction inner(*c);
    EXPECT_TRUE(inner.nested()) << "a Transaction inside another must be a savepoint";
    EXPECT_FALSE(outer.nested());
    c->execute("INSERT INTO t VALUES (2)");
    inner.rollback();
  }
  EXPECT_TRUE(c->in_transaction()) << "rolling back the savepoint ended the outer transaction";
  outer.commit();
  EXPECT_EQ(query_int(*c, "SELECT count(*) FROM t"), 1);
  EXPECT_EQ(query_int(*c, "SELECT v FROM t"), 1);
}

TEST(Transaction, nested_commit_is_kept_by_outer_commit_and_undone_by_outer_rollback) {
  auto c = with_table();
  {
    engine::Transaction outer(*c);
    {
      engine::Transaction inner(*c);
      c->execute("INSERT INTO t VALUES (1)");
      inner.commit();
    }
    outer.commit();
  }
  EXPECT_EQ(query_int(*c, "SELECT count(*) FROM t"), 1);
  {
    engine::Transaction outer(*c);
    {
      engine::Transaction inner(*c);
      c->execute("INSERT INTO t VALUES (2)");
      inner.commit();
    }
  }
  EXPECT_EQ(query_int(*c, "SELECT count(*) FROM t"), 1)
      << "a released savepoint survived the outer rollback";
}

TEST(Transaction, savepoints_get_generated_quoted_names) {
  auto c = with_table();
  std::vector<std::string> lines;
  c->set_echo([&](std::string_view l) { lines.emplace_back(l.substr(0, l.find("  ("))); });
  {
    engine::Transaction outer(*c);
    engine::Transaction first(*c);
    engine::Transaction second(*c);
    second.rollback();
    first.commit();
    outer.commit();
  }
  const std::vector<std::string> want{"BEGIN",
                                      "SAVEPOINT \"sp_1\"",
                                      "SAVEPOINT \"sp_2\"",
                                      "ROLLBACK TO SAVEPOINT \"sp_2\"",
                                      "RELEASE SAVEPOINT \"sp_2\"",
                                      "RELEASE SAVEPOINT \"sp_1\"",
                                      "COMMIT"};
  EXPECT_EQ(lines, want);
}

TEST(Transaction, a_new_outer_transaction_after_the_first_begins_again) {
  auto c = with_table();
  { engine::Transaction tx(*c); }
  engine::Transaction tx(*c);
  EXPECT_FALSE(tx.nested()) << "the depth count leaked from the earlier transaction";
  tx.commit();
}

TEST(Transaction, commit_twice_is_an_error) {
  auto c = with_table();
  engine::Transaction tx(*c);
  tx.commit();
  EXPECT_THROW(tx.commit(), InvalidRequestError);
  EXPECT_THROW(tx.rollback(), InvalidRequestError);
}

TEST(Transaction, destructor_swallows_a_failing_rollback) {
  auto c = with_table();
  engine::Transaction outer(*c);
  EXPECT_NO_THROW({
    engine::Transaction inner(*c);
    c->execute("RELEASE SAVEPOINT sp_1");  // ended behind the Transaction's back
  }) << "ROLLBACK TO a savepoint that is gone must not escape the destructor";
  EXPECT_TRUE(c->in_transaction());
  outer.commit();
}

TEST(Transaction, outer_rollback_after_the_database_ended_it_is_quiet) {
  auto c = with_table();
  engine::Transaction tx(*c);
  c->execute("ROLLBACK");
  EXPECT_NO_THROW(tx.rollback()) << "there is nothing left to roll back";
}

TEST(Transaction, inside_a_transaction_begun_with_sql_is_a_savepoint) {
  auto c = with_table();
  c->execute("BEGIN IMMEDIATE");
  c->execute("INSERT INTO t VALUES (1)");
  {
    engine::Transaction inner(*c);
    EXPECT_TRUE(inner.nested()) << "a Transaction inside BEGIN issued a second BEGIN";
    c->execute("INSERT INTO t VALUES (2)");
    inner.rollback();
  }
  EXPECT_TRUE(c->in_transaction()) << "the savepoint's rollback ended the outer transaction";
  c->execute("COMMIT");
  EXPECT_EQ(query_int(*c, "SELECT count(*) FROM t"), 1);
}
