// Statements on a real SQLite connection: binding and reading every value type, the
// prepared-statement cache (reuse, busy borrows, eviction), rows_affected and echo.
#include <cstddef>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sqlite_support.hpp"

using namespace strata;
using strata::testing::open_memory;

namespace {

Blob bytes(std::initializer_list<int> v) {
  Blob b;
  for (int x : v) b.push_back(static_cast<std::byte>(x));
  return b;
}

}  // namespace

TEST(ValueDisplay, renders_each_type_for_people) {
  EXPECT_EQ(to_display(null), "NULL");
  EXPECT_EQ(to_display(std::int64_t{42}), "42");
  EXPECT_EQ(to_display(1.5), "1.5");
  EXPECT_EQ(to_display(2.0), "2.0") << "a whole real must still read as a real";
  EXPECT_EQ(to_display(std::string("it's")), "'it''s'") << "quotes inside text are doubled";
  EXPECT_EQ(to_display(bytes({0x0a, 0x00, 0xff})), "x'0a00ff'");
}

TEST(SqliteStatement, binds_and_reads_back_every_value_type) {
  auto c = open_memory();
  auto s = c->prepare("SELECT ?, ?, ?, ?, ?");
  const Blob blob = bytes({1, 0, 2, 0, 0});
  s->bind_all({null, std::int64_t{-9007199254740993}, 0.25, std::string("h\xC3\xA9llo"), blob});
  ASSERT_TRUE(s->step());
  ASSERT_EQ(s->column_count(), 5);
  EXPECT_TRUE(s->is_null(0));
  EXPECT_EQ(s->storage_class(0), engine::StorageClass::null);
  EXPECT_EQ(s->get_int64(1), -9007199254740993);
  EXPECT_EQ(s->storage_class(1), engine::StorageClass::integer);
  EXPECT_EQ(s->get_double(2), 0.25);
  EXPECT_EQ(s->get_text(3), "h\xC3\xA9llo");
  const auto got = s->get_blob(4);
  EXPECT_EQ(Blob(got.begin(), got.end()), blob) << "blob with embedded zero bytes was cut";
  EXPECT_FALSE(s->step());
}

TEST(SqliteStatement, get_value_follows_the_storage_class_of_each_row) {
  auto c = open_memory();
  c->execute("CREATE TABLE t (v); INSERT INTO t VALUES (NULL), (7), (1.5), ('x'), (x'00ff')");
  auto s = c->prepare("SELECT v FROM t ORDER BY rowid");
  std::vector<Value> got;
  while (s->step()) got.push_back(s->get_value(0));
  const std::vector<Value> want{null, std::int64_t{7}, 1.5, std::string("x"), bytes({0, 0xff})};
  EXPECT_EQ(got, want);
}

TEST(SqliteStatement, empty_text_and_empty_blob_are_not_null) {
  auto c = open_memory();
  auto s = c->prepare("SELECT ? IS NULL, typeof(?), ? IS NULL, typeof(?)");
  s->bind_text(0, "");
  s->bind_text(1, "");
  s->bind_blob(2, {});
  s->bind_blob(3, {});
  ASSERT_TRUE(s->step());
  EXPECT_EQ(s->get_int64(0), 0) << "empty text was bound as NULL";
  EXPECT_EQ(s->get_text(1), "text");
  EXPECT_EQ(s->get_int64(2), 0) << "empty blob was bound as NULL";
  EXPECT_EQ(s->get_text(3), "blob");
}

TEST(SqliteStatement, reset_clears_bindings_and_rebinding_reuses_the_statement) {
  auto c = open_memory();
  auto s = c->prepare("SELECT ?");
  s->bind_text(0, "a much longer text than fits in a small string buffer");
  ASSERT_TRUE(s->step());
  EXPECT_EQ(s->get_text(0), "a much longer text than fits in a small string buffer");
  s->reset();
  ASSERT_TRUE(s->step());
  EXPECT_TRUE(s->is_null(0)) << "reset() must clear the bindings";
  s->reset();
  s->bind_text(0, "short");
  ASSERT_TRUE(s->step());
  EXPECT_EQ(s->get_text(0), "short");
}

TEST(SqliteStatement, a_parameter_goes_from_text_to_null_and_back_and_an_unbound_one_is_null) {
  auto c = open_memory();
  auto s = c->prepare("SELECT ?, ?");
  const std::string text = "long enough to need the heap, and kept between executions";
  s->bind_text(0, text);
  s->bind_int64(1, 7);
  ASSERT_TRUE(s->step());
  EXPECT_EQ(s->get_text(0), text);
  s->reset();
  s->bind_null(0);  // the second parameter is not bound again: NULL
  ASSERT_TRUE(s->step());
  EXPECT_TRUE(s->is_null(0));
  EXPECT_TRUE(s->is_null(1)) << "a parameter not bound since reset() kept its old value";
  s->reset();
  s->bind_text(0, "short");
  s->bind_null(1);
  ASSERT_TRUE(s->step());
  EXPECT_EQ(s->get_text(0), "short");
  EXPECT_TRUE(s->is_null(1));
  s->reset();
  s->bind_text(0, text);
  s->bind_double(1, 1.5);
  ASSERT_TRUE(s->step());
  EXPECT_EQ(s->get_text(0), text);
  EXPECT_EQ(s->get_double(1), 1.5);
}

TEST(SqliteStatement, binding_while_running_is_refused_and_leaves_the_row_intact) {
  auto c = open_memory();
  auto s = c->prepare("SELECT ?");
  s->bind_text(0, "first value, long enough to live on the heap");
  ASSERT_TRUE(s->step());
  EXPECT_THROW(s->bind_text(0, "second"), ProgrammingError);
  EXPECT_EQ(s->get_text(0), "first value, long enough to live on the heap");
}

TEST(SqliteStatement, parameter_index_out_of_range_is_a_data_error_naming_the_count) {
  auto c = open_memory();
  auto s = c->prepare("SELECT ?, ?");
  try {
    s->bind_int64(2, 1);
    FAIL() << "binding index 2 of a two-parameter statement was accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("has 2 parameters"), std::string::npos) << e.what();
  }
}

TEST(SqliteStatement, execute_returns_rows_affected_and_select_reports_none) {
  auto c = open_memory();
  c->execute("CREATE TABLE t (v INTEGER)");
  auto ins = c->prepare("INSERT INTO t VALUES (1), (2), (3)");
  EXPECT_EQ(ins->execute(), 3);
  auto upd = c->prepare("UPDATE t SET v = v + 1 WHERE v >= ?");
  upd->bind_int64(0, 2);
  EXPECT_EQ(upd->execute(), 2);
  auto sel = c->prepare("SELECT * FROM t");
  EXPECT_EQ(sel->execute(), 0) << "a SELECT reported the count of an earlier statement";
  auto ddl = c->prepare("CREATE TABLE u (v INTEGER)");
  EXPECT_EQ(ddl->execute(), 0) << "DDL reported the count of an earlier statement";
  auto none = c->prepare("UPDATE t SET v = 0 WHERE v > 100");
  EXPECT_EQ(none->execute(), 0) << "an UPDATE matching nothing reported an earlier count";
  EXPECT_EQ(c->last_insert_id(), 3);
}

TEST(SqliteStatement, select_interleaved_with_writes_reports_no_rows_affected) {
  auto c = open_memory();
  c->execute("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1), (2)");
  auto sel = c->prepare("SELECT v FROM t");
  auto upd = c->prepare("UPDATE t SET v = v WHERE v = ?");
  while (sel->step()) {
    upd->reset();
    upd->bind_int64(0, sel->get_int64(0));
    EXPECT_EQ(upd->execute(), 1);
  }
  EXPECT_EQ(sel->rows_affected(), 0) << "the SELECT took the count of the UPDATEs run meanwhile";
}

TEST(SqliteStatement, prepare_of_several_statements_is_refused) {
  auto c = open_memory();
  EXPECT_THROW(c->prepare("SELECT 1; SELECT 2"), ProgrammingError);
  EXPECT_NO_THROW(c->prepare("SELECT 1; -- trailing comment"));
  EXPECT_THROW(c->prepare("   "), ProgrammingError);
}

TEST(StatementCache, second_borrow_of_the_same_sql_gets_the_same_statement) {
  auto c = open_memory();
  engine::Statement* first = nullptr;
  {
    auto s = c->prepare_cached("SELECT ?");
    first = &*s;
    s->bind_int64(0, 5);
    ASSERT_TRUE(s->step());
  }
  auto again = c->prepare_cached("SELECT ?");
  EXPECT_EQ(&*again, first) << "the cache prepared the same SQL twice";
  ASSERT_TRUE(again->step());
  EXPECT_TRUE(again->is_null(0)) << "a statement given back must be reset with cleared bindings";
}

TEST(StatementCache, two_borrows_of_the_same_sql_at_once_both_work) {
  auto c = open_memory();
  c->execute("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1), (2)");
  auto outer = c->prepare_cached("SELECT v FROM t WHERE v >= ? ORDER BY v");
  outer->bind_int64(0, 1);
  ASSERT_TRUE(outer->step());
  engine::Statement* busy = &*outer;
  {
    auto inner = c->prepare_cached("SELECT v FROM t WHERE v >= ? ORDER BY v");
    EXPECT_NE(&*inner, busy) << "a statement in use was lent out twice";
    inner->bind_int64(0, 2);
    ASSERT_TRUE(inner->step());
    EXPECT_EQ(inner->get_int64(0), 2);
  }
  EXPECT_EQ(outer->get_int64(0), 1) << "the second borrow disturbed the first";
  ASSERT_TRUE(outer->step());
  EXPECT_EQ(outer->get_int64(0), 2);
  auto third = c->prepare_cached("SELECT v FROM t WHERE v >= ? ORDER BY v");
  EXPECT_NE(&*third, busy);
}

TEST(StatementCache, least_recently_used_statement_is_evicted_when_full) {
  auto c = open_memory();
  engine::Statement* kept = nullptr;
  { kept = &*c->prepare_cached("SELECT 0"); }
  for (int i = 1; i <= 300; ++i) {
    { auto s = c->prepare_cached("SELECT 0"); }  // keeps "SELECT 0" recently used
    auto s = c->prepare_cached("SELECT " + std::to_string(i));
    ASSERT_TRUE(s->step());
    EXPECT_EQ(s->get_int64(0), i);
  }
  EXPECT_EQ(&*c->prepare_cached("SELECT 0"), kept) << "a recently used statement was evicted";
}

TEST(StatementCache, moved_borrow_gives_back_once) {
  auto c = open_memory();
  engine::CachedStatement a = c->prepare_cached("SELECT 1");
  engine::Statement* p = &*a;
  engine::CachedStatement b = std::move(a);
  EXPECT_FALSE(a) << "a moved-from borrow still holds the statement";
  b = c->prepare_cached("SELECT 2");  // gives back "SELECT 1"
  EXPECT_EQ(&*c->prepare_cached("SELECT 1"), p);
}

TEST(Echo, writes_one_line_per_statement_with_sql_params_and_timing) {
  auto c = open_memory();
  std::vector<std::string> lines;
  c->set_echo([&](std::string_view line) { lines.emplace_back(line); });
  c->execute("CREATE TABLE t (v TEXT);\nCREATE INDEX ix_t_v\n  ON t (v)");
  auto s = c->prepare("INSERT INTO t VALUES (?)");
  s->bind_text(0, "it's");
  s->execute();
  ASSERT_EQ(lines.size(), 3u) << "expected one line per statement";
  EXPECT_EQ(lines[0].rfind("CREATE TABLE t (v TEXT)  (", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1].rfind("CREATE INDEX ix_t_v ON t (v)  (", 0), 0u)
      << "a statement on several lines must be echoed on one: " << lines[1];
  EXPECT_EQ(lines[2].rfind("INSERT INTO t VALUES (?)  ['it''s']  (", 0), 0u) << lines[2];
  EXPECT_NE(lines[2].find(" ms)"), std::string::npos) << lines[2];
  c->set_echo(nullptr);
  c->execute("SELECT 1");
  EXPECT_EQ(lines.size(), 3u) << "echo went on after set_echo(nullptr)";
}

TEST(Echo, a_statement_that_fails_is_echoed_as_failed) {
  auto c = open_memory();
  c->execute("CREATE TABLE t (v TEXT UNIQUE)");
  std::vector<std::string> lines;
  c->set_echo([&](std::string_view line) { lines.emplace_back(line); });
  auto s = c->prepare("INSERT INTO t VALUES (?)");
  s->bind_text(0, "a");
  s->execute();
  s->reset();
  s->bind_text(0, "a");
  EXPECT_THROW(s->execute(), strata::IntegrityError);
  EXPECT_THROW(c->execute("INSERT INTO t VALUES ('a')"), strata::IntegrityError);
  EXPECT_THROW((void)c->prepare("SELEC 1"), strata::DatabaseError);
  EXPECT_THROW(c->execute("SELECT 1; SELEC 2"), strata::DatabaseError);
  ASSERT_EQ(lines.size(), 6u) << "expected one line per statement, the failed ones included";
  EXPECT_EQ(lines[0].rfind("INSERT INTO t VALUES (?)  ['a']  (", 0), 0u) << lines[0];
  EXPECT_EQ(lines[0].find("failed"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[1].rfind("INSERT INTO t VALUES (?)  ['a']  (failed after ", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind("INSERT INTO t VALUES ('a')  (failed after ", 0), 0u) << lines[2];
  EXPECT_EQ(lines[3].rfind("SELEC 1  (failed after ", 0), 0u) << lines[3];
  EXPECT_EQ(lines[4].rfind("SELECT 1  (", 0), 0u) << lines[4];
  EXPECT_EQ(lines[5].rfind("SELEC 2  (failed after ", 0), 0u) << lines[5];
  for (const auto& l : lines) EXPECT_TRUE(l.ends_with(" ms)")) << l;
}

TEST(Echo, rows_of_one_execution_echo_once) {
  auto c = open_memory();
  int count = 0;
  c->set_echo([&](std::string_view) { ++count; });
  auto s = c->prepare("SELECT 1 UNION ALL SELECT 2");
  while (s->step()) {
  }
  s->reset();
  while (s->step()) {
  }
  EXPECT_EQ(count, 2) << "echo must run on the first step of each execution only";
}
