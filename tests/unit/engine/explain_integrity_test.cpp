// explain_integrity_error for SQLite: the constraint SQLite leaves unnamed is found from the
// schema (and, for foreign keys, from queries on the connection). The tables are created by
// hand-written SQL matching a hand-built MetaData whose constraints all carry their names.
#include <string>

#include <gtest/gtest.h>

#include "sqlite_support.hpp"

using namespace strata;
using strata::dialect::RowContext;
using strata::dialect::sqlite::explain_integrity_error;
using Op = strata::dialect::RowContext::Operation;

namespace {

schema::Column col(std::string name, schema::TypeKind kind, bool nullable = true) {
  schema::Column c;
  c.name = std::move(name);
  c.type.kind = kind;
  c.nullable = nullable;
  return c;
}

class ExplainIntegrity : public ::testing::Test {
 protected:
  void SetUp() override {
    using schema::TypeKind;
    schema::Table user;
    user.name = "user";
    user.columns = {col("id", TypeKind::integer, false), col("email", TypeKind::string, false),
                    col("org", TypeKind::integer), col("login", TypeKind::string)};
    user.columns[0].primary_key = true;
    user.primary_key = {"pk_user", {"id"}};
    user.uniques = {{"uq_user_email", {"email"}}};
    user.indexes = {{"ix_user_org_login", {"org", "login"}, true}};
    md_.add(user);

    schema::Table post;
    post.name = "post";
    post.columns = {col("id", TypeKind::integer, false), col("user_id", TypeKind::integer),
                    col("body", TypeKind::text)};
    post.columns[0].primary_key = true;
    post.primary_key = {"pk_post", {"id"}};
    post.foreign_keys = {{"fk_post_user_id_user", {"user_id"}, "user", {"id"}}};
    post.checks = {{"ck_post_body_len", "length(body) > 0"}};
    md_.add(post);

    conn_->execute(
        "CREATE TABLE user (id INTEGER NOT NULL, email VARCHAR NOT NULL, org INTEGER,"
        "  login VARCHAR, CONSTRAINT pk_user PRIMARY KEY (id),"
        "  CONSTRAINT uq_user_email UNIQUE (email));"
        "CREATE UNIQUE INDEX ix_user_org_login ON user (org, login);"
        "CREATE TABLE post (id INTEGER NOT NULL, user_id INTEGER, body TEXT,"
        "  CONSTRAINT pk_post PRIMARY KEY (id),"
        "  CONSTRAINT fk_post_user_id_user FOREIGN KEY (user_id) REFERENCES user (id),"
        "  CONSTRAINT ck_post_body_len CHECK (length(body) > 0));"
        "INSERT INTO user (id, email, org, login) VALUES (1, 'a@x', 7, 'ann');"
        "INSERT INTO post (id, user_id, body) VALUES (10, 1, 'hello')");
  }

  // The IntegrityError the driver throws for sql.
  IntegrityError failure(const std::string& sql) {
    try {
      conn_->execute(sql);
    } catch (const IntegrityError& e) {
      return e;
    }
    ADD_FAILURE() << "no IntegrityError from " << sql;
    return IntegrityError("none", {});
  }

  IntegrityError explain(const std::string& sql, RowContext row) {
    const IntegrityError e = failure(sql);
    return explain_integrity_error(e, row, *conn_, md_);
  }

  schema::MetaData md_;
  std::unique_ptr<engine::Connection> conn_ = strata::testing::open_memory();
};

}  // namespace

TEST_F(ExplainIntegrity, unique_constraint_is_named_with_its_columns) {
  const auto e = explain("INSERT INTO user (id, email) VALUES (2, 'a@x')",
                         {"user", Op::insert, {{"id", std::int64_t{2}}, {"email", "a@x"}}});
  EXPECT_EQ(std::string(e.what()),
            "duplicate value for unique constraint 'uq_user_email' on table 'user' (email)");
  EXPECT_EQ(e.constraint(), "uq_user_email");
  EXPECT_EQ(e.table(), "user");
  EXPECT_EQ(e.kind(), ConstraintKind::unique);
  EXPECT_EQ(e.info().sql, "INSERT INTO user (id, email) VALUES (2, 'a@x')")
      << "the driver's DatabaseErrorInfo must be kept";
}

TEST_F(ExplainIntegrity, unique_index_on_two_columns_is_matched_whatever_the_order) {
  const auto e = explain("INSERT INTO user (id, email, org, login) VALUES (2, 'b@x', 7, 'ann')",
                         {"user", Op::insert, {{"org", std::int64_t{7}}, {"login", "ann"}}});
  EXPECT_EQ(e.constraint(), "ix_user_org_login");
  EXPECT_NE(std::string(e.what()).find("(org, login)"), std::string::npos) << e.what();
}

TEST_F(ExplainIntegrity, primary_key_failure_names_the_primary_key) {
  const auto e = explain("INSERT INTO user (id, email) VALUES (1, 'b@x')",
                         {"user", Op::insert, {{"id", std::int64_t{1}}}});
  EXPECT_EQ(std::string(e.what()),
            "duplicate value for primary key 'pk_user' on table 'user' (id)");
  EXPECT_EQ(e.kind(), ConstraintKind::primary_key);
  EXPECT_EQ(e.constraint(), "pk_user");
}

TEST_F(ExplainIntegrity, not_null_names_the_column) {
  const auto e = explain("INSERT INTO user (id, email) VALUES (2, NULL)",
                         {"user", Op::insert, {{"id", std::int64_t{2}}, {"email", null}}});
  EXPECT_EQ(std::string(e.what()), "column 'user.email' may not be NULL");
  EXPECT_EQ(e.kind(), ConstraintKind::not_null);
  EXPECT_EQ(e.table(), "user");
  EXPECT_EQ(e.constraint(), "");
}

TEST_F(ExplainIntegrity, check_names_the_constraint_and_its_table) {
  const auto e = explain("INSERT INTO post (id, user_id, body) VALUES (11, 1, '')",
                         {"post", Op::insert, {{"body", ""}}});
  EXPECT_EQ(std::string(e.what()), "check constraint 'ck_post_body_len' failed on table 'post'");
  EXPECT_EQ(e.table(), "post");
}

TEST_F(ExplainIntegrity, delete_of_a_referred_row_names_the_child_foreign_key) {
  const auto e =
      explain("DELETE FROM user WHERE id = 1", {"user", Op::delete_, {{"id", std::int64_t{1}}}});
  EXPECT_EQ(std::string(e.what()),
            "delete from 'user' violates foreign key 'fk_post_user_id_user' on table 'post': "
            "rows in 'post' still refer to it");
  EXPECT_EQ(e.kind(), ConstraintKind::foreign_key);
  EXPECT_EQ(e.constraint(), "fk_post_user_id_user");
  EXPECT_EQ(e.table(), "post") << "table() names the table that holds the constraint";
}

TEST_F(ExplainIntegrity, insert_with_a_missing_parent_names_the_foreign_key_and_key) {
  const auto e =
      explain("INSERT INTO post (id, user_id, body) VALUES (11, 99, 'x')",
              {"post", Op::insert, {{"id", std::int64_t{11}}, {"user_id", std::int64_t{99}}}});
  EXPECT_EQ(std::string(e.what()),
            "insert into 'post' violates foreign key 'fk_post_user_id_user': no row in 'user' "
            "with id = 99");
  EXPECT_EQ(e.table(), "post");
}

TEST_F(ExplainIntegrity, update_with_a_missing_parent_says_update) {
  const auto e = explain("UPDATE post SET user_id = 98 WHERE id = 10",
                         {"post", Op::update, {{"user_id", std::int64_t{98}}}});
  EXPECT_EQ(std::string(e.what()).rfind("update of 'post' violates foreign key", 0), 0u)
      << e.what();
}

TEST_F(ExplainIntegrity, nothing_learnt_gives_back_the_original_error) {
  const IntegrityError original = failure("DELETE FROM user WHERE id = 1");
  // The row context lacks the key, so no child can be checked.
  const auto e = explain_integrity_error(original, {"user", Op::delete_, {}}, *conn_, md_);
  EXPECT_EQ(std::string(e.what()), original.what());
  EXPECT_EQ(e.kind(), ConstraintKind::foreign_key);
}

TEST_F(ExplainIntegrity, a_failing_lookup_query_never_escapes) {
  const IntegrityError original = failure("DELETE FROM user WHERE id = 1");
  conn_->execute("ALTER TABLE post RENAME TO post_old");  // the lookup now hits no such table
  IntegrityError e("x", {});
  EXPECT_NO_THROW(e = explain_integrity_error(
                      original, {"user", Op::delete_, {{"id", std::int64_t{1}}}}, *conn_, md_));
  EXPECT_EQ(std::string(e.what()), original.what());
}
