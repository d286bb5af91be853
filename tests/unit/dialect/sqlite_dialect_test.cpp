// The SQLite dialect's spelling (keywords, placeholders, LIMIT/OFFSET, type names, capability
// flags) and dialect::for_url choosing it.
#include "strata/dialect/sqlite/sqlite_dialect.hpp"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "strata/dialect/dialect.hpp"
#include "strata/engine/url.hpp"
#include "strata/error.hpp"
#include "strata/sql/ast.hpp"
#include "strata/sql/compiler.hpp"

#include "dialect/sqlite/sqlite.hpp"

namespace strata::dialect {
namespace {

const sqlite::SqliteDialect d;

TEST(SqliteDialect, keywords_come_from_sqlite_itself_in_any_case) {
  EXPECT_TRUE(d.is_keyword("select"));
  EXPECT_TRUE(d.is_keyword("order"));
  EXPECT_TRUE(d.is_keyword("group"));
  EXPECT_TRUE(d.is_keyword("SELECT")) << "sqlite3_keyword_check ignores case";
  EXPECT_FALSE(d.is_keyword("username"));
  EXPECT_FALSE(d.is_keyword("selected")) << "a keyword prefix is not a keyword";
  EXPECT_FALSE(d.is_keyword(""));
}

TEST(SqliteDialect, quotes_keywords_and_mixed_case_only) {
  EXPECT_EQ(d.quote("order"), "\"order\"");
  EXPECT_EQ(d.quote("select"), "\"select\"");
  EXPECT_EQ(d.quote("Name"), "\"Name\"");
  EXPECT_EQ(d.quote("user_id"), "user_id");
}

TEST(SqliteDialect, placeholders_are_question_marks) {
  EXPECT_EQ(d.placeholder(1), "?");
  EXPECT_EQ(d.placeholder(12), "?");
}

TEST(SqliteDialect, offset_without_limit_gets_limit_minus_one_and_both_stay_parameters) {
  sql::Select s;
  s.columns = {sql::column("t", "a")};
  s.from = "t";
  s.offset = 5;
  auto c = sql::compile(s, d);
  EXPECT_EQ(c.sql, "SELECT t.a FROM t LIMIT -1 OFFSET ?") << "SQLite rejects OFFSET without LIMIT";
  EXPECT_EQ(c.params, (std::vector<Value>{std::int64_t{5}}))
      << "the literal -1 took a parameter's place";
  s.limit = 10;
  c = sql::compile(s, d);
  EXPECT_EQ(c.sql, "SELECT t.a FROM t LIMIT ? OFFSET ?");
  EXPECT_EQ(c.params, (std::vector<Value>{std::int64_t{10}, std::int64_t{5}}));
  s.offset.reset();
  c = sql::compile(s, d);
  EXPECT_EQ(c.sql, "SELECT t.a FROM t LIMIT ?");
  EXPECT_EQ(c.params, (std::vector<Value>{std::int64_t{10}}));
}

TEST(SqliteDialect, type_names) {
  using schema::TypeKind;
  EXPECT_EQ(d.type_sql({TypeKind::integer, {}}), "INTEGER");
  EXPECT_EQ(d.type_sql({TypeKind::big_integer, {}}), "BIGINT");
  EXPECT_EQ(d.type_sql({TypeKind::small_integer, {}}), "SMALLINT");
  EXPECT_EQ(d.type_sql({TypeKind::float_, {}}), "FLOAT");
  EXPECT_EQ(d.type_sql({TypeKind::boolean, {}}), "BOOLEAN");
  EXPECT_EQ(d.type_sql({TypeKind::string, 64}), "VARCHAR(64)");
  EXPECT_EQ(d.type_sql({TypeKind::string, {}}), "TEXT");
  EXPECT_EQ(d.type_sql({TypeKind::text, {}}), "TEXT");
  EXPECT_EQ(d.type_sql({TypeKind::blob, {}}), "BLOB");
  EXPECT_EQ(d.type_sql({TypeKind::date, {}}), "DATE");
  EXPECT_EQ(d.type_sql({TypeKind::time, {}}), "TIME");
  EXPECT_EQ(d.type_sql({TypeKind::datetime, {}}), "DATETIME");
}

// SQLite takes after DEFAULT only a literal, a signed number, a bare word or an expression in
// parentheses: lower('X') as it was failed with near "(": syntax error.
TEST(SqliteDialect, a_server_default_that_is_not_a_literal_is_written_in_parentheses) {
  auto default_of = [](std::string text) {
    schema::Column c{"c", {schema::TypeKind::text, {}}, true, false, false, std::move(text)};
    return d.default_sql(c);
  };
  for (const std::string kept : {"'x'", "'it''s'", "0", "-1.5", "+3", "1e3", "X'0a'", "NULL",
                                 "TRUE", "CURRENT_TIMESTAMP", "current_date", "(lower('X'))",
                                 "((1) + (2))", "('(')"}) {
    EXPECT_EQ(default_of(kept), kept) << "kept as written";
  }
  EXPECT_EQ(default_of("lower('X')"), "(lower('X'))");
  EXPECT_EQ(default_of("1 + 1"), "(1 + 1)");
  EXPECT_EQ(default_of("(1) + (2)"), "((1) + (2))") << "two groups are not one";
  EXPECT_EQ(default_of("')' || '('"), "(')' || '(')") << "parentheses inside literals";
  EXPECT_EQ(default_of("strftime('%Y-%m-%d %H:%M:%f000', 'now')"),
            "(strftime('%Y-%m-%d %H:%M:%f000', 'now'))");
}

// SQLite's RENAME COLUMN and RENAME TO write the new name quoted wherever the old one was
// quoted; db check compares the texts with the quotes dropped where the bare name is the same.
TEST(SqliteDialect, a_quoted_name_compares_as_its_bare_spelling_only_where_that_is_the_same_name) {
  EXPECT_EQ(d.comparable_sql("(\"qty\" >= 0)"), "(qty >= 0)");
  EXPECT_EQ(d.comparable_sql("\"book\".qty >= 0"), "book.qty >= 0");
  EXPECT_EQ(d.comparable_sql("\"Qty\" >= 0"), "\"Qty\" >= 0") << "Qty is another spelling";
  EXPECT_EQ(d.comparable_sql("\"order\" >= 0"), "\"order\" >= 0") << "a keyword";
  EXPECT_EQ(d.comparable_sql("\"qty$1\" > 0"), "\"qty$1\" > 0");
  EXPECT_EQ(d.comparable_sql("\"in stock\" > 0"), "\"in stock\" > 0");
  EXPECT_EQ(d.comparable_sql("name <> '\"qty\"'"), "name <> '\"qty\"'") << "a string literal";
  EXPECT_EQ(d.comparable_sql("\"a\"\"b\" = 'it''s'"), "\"a\"\"b\" = 'it''s'");
}

TEST(SqliteDialect, capabilities) {
  EXPECT_EQ(d.name(), "sqlite");
  EXPECT_TRUE(d.supports_returning());
  EXPECT_FALSE(d.supports_ilike());
  EXPECT_FALSE(d.names_violated_constraints());
}

TEST(SqliteDialect, in_memory_databases_use_a_single_connection) {
  engine::Url memory;
  memory.drivername = "sqlite";
  EXPECT_TRUE(d.single_connection(memory));
  engine::Url file = memory;
  file.database = "app.db";
  EXPECT_FALSE(d.single_connection(file));
}

TEST(SqliteDialect, compiles_a_select_with_sqlite_spelling) {
  sql::Select s;
  s.columns = {sql::column("user", "name")};
  s.from = "user";
  s.where = sql::binary(sql::BinaryOp::ilike, sql::column("user", "name"),
                        sql::param(Value{std::string("a%")}));
  s.order_by = {{sql::column("user", "order"), false}};
  s.offset = 10;
  const auto c = sql::compile(s, d);
  EXPECT_EQ(c.sql,
            "SELECT user.name FROM user WHERE lower(user.name) LIKE lower(?) "
            "ORDER BY user.\"order\" LIMIT -1 OFFSET ?");
  EXPECT_EQ(c.params, (std::vector<Value>{std::string("a%"), std::int64_t{10}}));
}

TEST(ForUrl, sqlite_urls_get_the_sqlite_dialect) {
  const std::shared_ptr<Dialect> dialect = for_url(engine::Url::parse("sqlite://"));
  ASSERT_NE(dialect, nullptr);
  EXPECT_EQ(dialect->name(), "sqlite");
  EXPECT_EQ(sqlite::make_dialect()->name(), "sqlite");
}

TEST(ForUrl, other_backends_are_an_argument_error_listing_the_supported_ones) {
  engine::Url url;
  url.drivername = "mysql";
  url.host = "db";
  url.database = "app";
  try {
    for_url(url);
    FAIL() << "mysql is not supported yet";
  } catch (const ArgumentError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("unsupported database backend 'mysql'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("supported: sqlite"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace strata::dialect
