// Shared by the ops, state and compare tests: one operation of every kind, the tables they
// apply to, and the microblog tables at each step of its history, named by the default
// naming convention as MetaData would name them.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "strata/migrate/ops.hpp"
#include "strata/migrate/state.hpp"
#include "strata/schema/table.hpp"

#include "unit/schema/schema_builders.hpp"

namespace strata::migrate::testing {

using schema::Column;
using schema::Table;
using schema::TypeKind;
using schema::testing::fk;
using schema::testing::int_col;
using schema::testing::string_col;
using schema::testing::table;

inline Column typed_col(std::string name, TypeKind kind, bool nullable = true) {
  Column c;
  c.name = std::move(name);
  c.type = {kind, std::nullopt};
  c.nullable = nullable;
  return c;
}

inline schema::Index index_on(std::vector<std::string> columns, bool unique = false) {
  return schema::Index{"", std::move(columns), unique};
}

// t with every constraint and index named by the default convention.
inline Table named(Table t) {
  schema::NamingConvention{}.apply(t);
  return t;
}

inline SchemaState state_of(const std::vector<Table>& tables) {
  SchemaState s;
  for (const Table& t : tables) s.apply(CreateTableOp{t});
  return s;
}

// ---- microblog, as the tutorial grows it ----

// v1: the user table. username and email are unique indexes.
inline Table user_v1() {
  Table t = table("user", {string_col("username", 64), string_col("email", 120),
                           string_col("password_hash", 256, true)});
  t.indexes = {index_on({"username"}, true), index_on({"email"}, true)};
  return named(std::move(t));
}

// v2: posts, each by a user.
inline Table post_v2() {
  Table t = table("post", {string_col("body", 140, true),
                           typed_col("timestamp", TypeKind::datetime), int_col("user_id")});
  t.indexes = {index_on({"timestamp"}), index_on({"user_id"})};
  t.foreign_keys = {fk({"user_id"}, "user")};
  return named(std::move(t));
}

// v3: profile fields.
inline Table user_v3() {
  Table t = user_v1();
  t.columns.push_back(string_col("about_me", 140, true));
  t.columns.push_back(typed_col("last_seen", TypeKind::datetime));
  return t;
}

// v4: followers, a self-referential many-to-many association table of user.
inline Table followers_v4() {
  Table t;
  t.name = "followers";
  Column follower = int_col("follower_id");
  Column followed = int_col("followed_id");
  follower.primary_key = followed.primary_key = true;
  t.columns = {follower, followed};
  t.primary_key.columns = {"follower_id", "followed_id"};
  t.foreign_keys = {fk({"follower_id"}, "user"), fk({"followed_id"}, "user")};
  return named(std::move(t));
}

// v5: password_hash required, about_me renamed to bio, last_seen gone.
inline Table user_v5() {
  Table t = user_v1();
  t.columns[3].nullable = false;  // password_hash
  t.columns.push_back(string_col("bio", 140, true));
  return t;
}

// v5: longer posts, one post per user and instant.
inline Table post_v5() {
  Table t = post_v2();
  t.columns[1].type.length = 280;  // body
  t.uniques = {schema::UniqueConstraint{"", {"user_id", "timestamp"}}};
  return named(std::move(t));
}

// ---- one operation of every kind, each applicable to base_tables() ----

// user (v1), post (v2) with a unique body, and a tag table with a check constraint.
inline std::vector<Table> base_tables() {
  Table post = post_v2();
  post.uniques = {schema::UniqueConstraint{"", {"body"}}};
  Table tag = table("tag", {string_col("label", 32), int_col("uses")});
  tag.checks = {schema::CheckConstraint{"uses_positive", "uses >= 0"}};
  return {user_v1(), named(std::move(post)), named(std::move(tag))};
}

inline std::vector<Operation> one_of_each_kind() {
  const std::vector<Table> base = base_tables();
  const Table& user = base[0];
  const Table& post = base[1];
  const Table& tag = base[2];
  Table comment = named(table("comment", {string_col("text", 200)}));
  Column email_before = user.columns[2];
  Column email_after = email_before;
  email_after.type.length = 254;
  email_after.server_default = "''";
  return {
      CreateTableOp{comment},
      DropTableOp{tag},
      RenameTableOp{"tag", "label"},
      AddColumnOp{"user", string_col("bio", 140, true), std::nullopt},
      AddColumnOp{"user", string_col("bio", 140, true), 2},
      DropColumnOp{"user", user.columns[3], 3},  // password_hash, the last column
      DropColumnOp{"tag", tag.columns[1], 1},    // label, a middle column
      RenameColumnOp{"user", "email", "email_address"},
      AlterColumnOp{"user", email_before, email_after},
      CreateIndexOp{"post", schema::Index{"ix_post_body", {"body"}, false}},
      DropIndexOp{"post", post.indexes[0]},
      AddUniqueOp{"post",
                  schema::UniqueConstraint{"uq_post_user_id_timestamp", {"user_id", "timestamp"}}},
      DropUniqueOp{"post", post.uniques[0]},
      AddForeignKeyOp{"tag",
                      [] {
                        schema::ForeignKey f = fk({"uses"}, "post");
                        f.name = "fk_tag_uses_post";
                        return f;
                      }()},
      DropForeignKeyOp{"post", post.foreign_keys[0]},
      AddCheckOp{"post", schema::CheckConstraint{"ck_post_body_len", "length(body) > 0"}},
      DropCheckOp{"tag", tag.checks[0]},
      RenameConstraintOp{"user", "pk_user", "pk_account"},
      ValidateConstraintOp{"post", post.foreign_keys[0].name},
      ExecuteOp{{{"*", "UPDATE user SET email = lower(email)"}}, {{"*", "SELECT 1"}}, false},
      CallOp{"backfill_slugs", "clear_slugs"},
  };
}

}  // namespace strata::migrate::testing
