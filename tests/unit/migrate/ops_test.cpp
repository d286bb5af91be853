// Operations as data: reverse() of every kind, irreversible ones, is_destructive / is_risky /
// is_narrowing, describe() and kind_name(). No state, no database.
#include "strata/migrate/ops.hpp"

#include <set>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "strata/migrate/errors.hpp"

#include "unit/migrate/op_fixtures.hpp"

namespace strata::migrate {
namespace {

using namespace testing;
using schema::Type;

template <class F>
std::string irreversible_message(F f) {
  try {
    f();
  } catch (const IrreversibleError& e) {
    return e.what();
  }
  return "(no IrreversibleError)";
}

Column column(std::string name, Type type, bool nullable = true,
              std::optional<std::string> server_default = std::nullopt) {
  Column c;
  c.name = std::move(name);
  c.type = type;
  c.nullable = nullable;
  c.server_default = std::move(server_default);
  return c;
}

AlterColumnOp alter(Column before, Column after) {
  return AlterColumnOp{"t", std::move(before), std::move(after)};
}

// ---- reverse ----

TEST(Reverse, create_and_drop_table_swap_carrying_the_whole_table) {
  const Table user = user_v1();
  EXPECT_EQ(reverse(CreateTableOp{user}), Operation(DropTableOp{user}));
  EXPECT_EQ(reverse(DropTableOp{user}), Operation(CreateTableOp{user}));
}

TEST(Reverse, rename_table_swaps_the_names) {
  EXPECT_EQ(reverse(RenameTableOp{"users", "user"}), Operation(RenameTableOp{"user", "users"}));
}

TEST(Reverse, add_column_becomes_drop_column_with_the_same_position) {
  const Column bio = string_col("bio", 140, true);
  EXPECT_EQ(reverse(AddColumnOp{"user", bio, std::nullopt}),
            Operation(DropColumnOp{"user", bio, std::nullopt}))
      << "an appended column is dropped without a recorded position";
  EXPECT_EQ(reverse(AddColumnOp{"user", bio, 2}), Operation(DropColumnOp{"user", bio, 2}));
}

TEST(Reverse, drop_column_re_adds_the_column_where_it_was) {
  const Column bio = string_col("bio", 140, true);
  EXPECT_EQ(reverse(DropColumnOp{"user", bio, 1}), Operation(AddColumnOp{"user", bio, 1}))
      << "a dropped middle column must come back in the middle, not at the end";
  EXPECT_EQ(reverse(DropColumnOp{"user", bio, std::nullopt}),
            Operation(AddColumnOp{"user", bio, std::nullopt}));
}

TEST(Reverse, rename_column_swaps_the_names) {
  EXPECT_EQ(reverse(RenameColumnOp{"user", "about_me", "bio"}),
            Operation(RenameColumnOp{"user", "bio", "about_me"}));
}

TEST(Reverse, alter_column_swaps_before_and_after) {
  const Column before = string_col("body", 140, true);
  const Column after = string_col("body", 280, false);
  EXPECT_EQ(reverse(AlterColumnOp{"post", before, after}),
            Operation(AlterColumnOp{"post", after, before}));
}

TEST(Reverse, indexes_and_constraints_swap_add_and_drop) {
  const Table post = post_v5();
  const schema::Index& ix = post.indexes[0];
  const schema::UniqueConstraint& uq = post.uniques[0];
  const schema::ForeignKey& f = post.foreign_keys[0];
  const schema::CheckConstraint ck{"ck_post_body_len", "length(body) > 0"};
  EXPECT_EQ(reverse(CreateIndexOp{"post", ix}), Operation(DropIndexOp{"post", ix}));
  EXPECT_EQ(reverse(DropIndexOp{"post", ix}), Operation(CreateIndexOp{"post", ix}));
  EXPECT_EQ(reverse(AddUniqueOp{"post", uq}), Operation(DropUniqueOp{"post", uq}));
  EXPECT_EQ(reverse(DropUniqueOp{"post", uq}), Operation(AddUniqueOp{"post", uq}));
  EXPECT_EQ(reverse(AddForeignKeyOp{"post", f}), Operation(DropForeignKeyOp{"post", f}));
  EXPECT_EQ(reverse(DropForeignKeyOp{"post", f}), Operation(AddForeignKeyOp{"post", f}));
  EXPECT_EQ(reverse(AddCheckOp{"post", ck}), Operation(DropCheckOp{"post", ck}));
  EXPECT_EQ(reverse(DropCheckOp{"post", ck}), Operation(AddCheckOp{"post", ck}));
  EXPECT_EQ(reverse(RenameConstraintOp{"account", "pk_user", "pk_account"}),
            Operation(RenameConstraintOp{"account", "pk_account", "pk_user"}));
  // A constraint added not valid is dropped the same way; dropped, it comes back valid.
  EXPECT_EQ(reverse(AddForeignKeyOp{"post", f, true}), Operation(DropForeignKeyOp{"post", f}));
  EXPECT_EQ(reverse(AddCheckOp{"post", ck, true}), Operation(DropCheckOp{"post", ck}));
  // Validating changes no schema: undoing it is validating again, which does nothing.
  EXPECT_EQ(reverse(ValidateConstraintOp{"post", "ck_post_body_len"}),
            Operation(ValidateConstraintOp{"post", "ck_post_body_len"}));
}

TEST(Reverse, execute_swaps_sql_and_reverse_per_dialect) {
  const ExecuteOp op{
      {{"sqlite", "A1"}, {"postgresql", "A2"}}, {{"sqlite", "B1"}, {"postgresql", "B2"}}, false};
  EXPECT_EQ(reverse(op), Operation(ExecuteOp{op.reverse, op.sql, false}));
}

TEST(Reverse, call_swaps_the_callback_and_its_reverse) {
  EXPECT_EQ(reverse(CallOp{"backfill_slugs", "clear_slugs"}),
            Operation(CallOp{"clear_slugs", "backfill_slugs"}));
}

TEST(Reverse, of_the_reverse_is_the_operation_itself_for_every_kind) {
  std::set<std::string> kinds;
  for (const Operation& op : one_of_each_kind()) {
    EXPECT_EQ(reverse(reverse(op)), op) << describe(op);
    kinds.insert(std::string(kind_name(op)));
  }
  EXPECT_EQ(kinds.size(), std::variant_size_v<Operation>)
      << "one_of_each_kind() must cover every operation kind";
}

TEST(Reverse, of_a_list_reverses_each_operation_and_the_order) {
  const Column bio = string_col("bio", 140, true);
  const std::vector<Operation> ops = {CreateTableOp{post_v2()}, AddColumnOp{"user", bio, {}},
                                      RenameColumnOp{"user", "bio", "about"}};
  const std::vector<Operation> expected = {RenameColumnOp{"user", "about", "bio"},
                                           DropColumnOp{"user", bio, {}}, DropTableOp{post_v2()}};
  EXPECT_EQ(reverse(ops), expected);
  EXPECT_EQ(reverse(reverse(ops)), ops);
}

TEST(Reverse, execute_marked_irreversible_refuses_and_names_the_sql) {
  const ExecuteOp op{{{"*", "DELETE FROM post WHERE body IS NULL"}}, {{"*", "SELECT 1"}}, true};
  EXPECT_EQ(irreversible_message([&] { reverse(op); }),
            "execute SQL \"DELETE FROM post WHERE body IS NULL\" is marked irreversible; it "
            "cannot be downgraded");
}

TEST(Reverse, execute_without_reverse_sql_refuses_and_says_what_to_add) {
  const ExecuteOp op{{{"*", "UPDATE user SET email = lower(email)"}}, {}, false};
  EXPECT_EQ(irreversible_message([&] { reverse(op); }),
            "execute SQL \"UPDATE user SET email = lower(email)\" has no reverse SQL; give it a "
            "`reverse` or mark it `irreversible`");
}

TEST(Reverse, call_without_reverse_callback_refuses_and_names_the_callback) {
  EXPECT_EQ(irreversible_message([] {
              reverse(CallOp{"backfill_slugs", ""});
            }),
            "call 'backfill_slugs' has no reverse callback; give it a `reverse` naming the "
            "callback that undoes it");
}

TEST(Reverse, of_a_list_with_an_irreversible_operation_throws) {
  const std::vector<Operation> ops = {CreateTableOp{post_v2()}, CallOp{"backfill", ""}};
  EXPECT_THROW(reverse(ops), IrreversibleError);
}

// ---- is_destructive, is_risky ----

TEST(Classification, destructive_and_risky_operations_table) {
  const Type s140{TypeKind::string, 140};
  const Type s280{TypeKind::string, 280};
  const Column nullable = column("c", s140, true);
  const Column not_null = column("c", s140, false);
  const Column not_null_default = column("c", s140, false, "''");
  struct Row {
    const char* what;
    Operation op;
    bool destructive;
    bool risky;
  };
  const std::vector<Row> rows = {
      {"drop table", DropTableOp{post_v2()}, true, false},
      {"drop column", DropColumnOp{"t", nullable, 1}, true, false},
      {"create table", CreateTableOp{post_v2()}, false, false},
      {"rename table", RenameTableOp{"a", "b"}, false, false},
      {"rename column", RenameColumnOp{"t", "a", "b"}, false, false},
      {"add nullable column", AddColumnOp{"t", nullable, {}}, false, false},
      {"add NOT NULL column without default", AddColumnOp{"t", not_null, {}}, true, true},
      {"add NOT NULL column with default", AddColumnOp{"t", not_null_default, {}}, false, false},
      {"widen String(140) -> String(280)", alter(column("c", s140), column("c", s280)), false,
       false},
      {"narrow String(280) -> String(140)", alter(column("c", s280), column("c", s140)), true,
       true},
      {"text -> String(140)", alter(column("c", {TypeKind::text, {}}), column("c", s140)), true,
       true},
      {"NULL -> NOT NULL without default", alter(nullable, not_null), true, true},
      {"NULL -> NOT NULL with default", alter(nullable, not_null_default), false, true},
      {"NOT NULL -> NULL", alter(not_null, nullable), false, false},
      {"server default added", alter(nullable, column("c", s140, true, "'x'")), false, false},
      {"create index", CreateIndexOp{"t", {"ix_t_c", {"c"}, false}}, false, false},
      {"create unique index", CreateIndexOp{"t", {"ix_t_c", {"c"}, true}}, false, true},
      {"add unique", AddUniqueOp{"t", {"uq_t_c", {"c"}}}, false, true},
      {"add check", AddCheckOp{"t", {"ck_t_c", "c > 0"}}, false, true},
      {"add foreign key", AddForeignKeyOp{"t", post_v2().foreign_keys[0]}, false, true},
      // not valid: no row is checked; the validate is the step that may fail
      {"add check not valid", AddCheckOp{"t", {"ck_t_c", "c > 0"}, true}, false, false},
      {"add foreign key not valid", AddForeignKeyOp{"t", post_v2().foreign_keys[0], true}, false,
       false},
      {"validate constraint", ValidateConstraintOp{"t", "ck_t_c"}, false, true},
      {"drop index", DropIndexOp{"t", {"ix_t_c", {"c"}, true}}, false, false},
      {"drop unique", DropUniqueOp{"t", {"uq_t_c", {"c"}}}, false, false},
      {"drop foreign key", DropForeignKeyOp{"t", post_v2().foreign_keys[0]}, false, false},
      {"drop check", DropCheckOp{"t", {"ck_t_c", "c > 0"}}, false, false},
      {"rename constraint", RenameConstraintOp{"t", "pk_s", "pk_t"}, false, false},
      {"execute", ExecuteOp{{{"*", "DELETE FROM t"}}, {}, false}, false, false},
      {"call", CallOp{"f", ""}, false, false},
  };
  for (const Row& r : rows) {
    EXPECT_EQ(is_destructive(r.op), r.destructive) << r.what;
    EXPECT_EQ(is_risky(r.op), r.risky) << r.what;
  }
}

TEST(Classification, narrowing_between_type_kinds) {
  auto t = [](TypeKind k, std::optional<int> length = std::nullopt) { return Type{k, length}; };
  struct Row {
    Type from;
    Type to;
    bool narrows;
  };
  const std::vector<Row> rows = {
      {t(TypeKind::string, 140), t(TypeKind::string, 280), false},
      {t(TypeKind::string, 280), t(TypeKind::string, 140), true},
      {t(TypeKind::string, 64), t(TypeKind::string, 64), false},
      {t(TypeKind::string), t(TypeKind::string, 64), true},
      {t(TypeKind::string, 64), t(TypeKind::string), false},
      {t(TypeKind::string, 64), t(TypeKind::text), false},
      {t(TypeKind::text), t(TypeKind::string, 64), true},
      {t(TypeKind::text), t(TypeKind::string), false},
      {t(TypeKind::text), t(TypeKind::blob), false},
      {t(TypeKind::blob), t(TypeKind::text), true},
      {t(TypeKind::small_integer), t(TypeKind::integer), false},
      {t(TypeKind::integer), t(TypeKind::big_integer), false},
      {t(TypeKind::big_integer), t(TypeKind::integer), true},
      {t(TypeKind::integer), t(TypeKind::small_integer), true},
      {t(TypeKind::integer), t(TypeKind::float_), false},
      {t(TypeKind::big_integer), t(TypeKind::float_), true},
      {t(TypeKind::float_), t(TypeKind::integer), true},
      {t(TypeKind::boolean), t(TypeKind::integer), false},
      {t(TypeKind::integer), t(TypeKind::boolean), true},
      {t(TypeKind::text), t(TypeKind::boolean), true},
      {t(TypeKind::integer), t(TypeKind::text), false},
      {t(TypeKind::integer), t(TypeKind::string, 20), true},
      {t(TypeKind::text), t(TypeKind::integer), true},
      {t(TypeKind::date), t(TypeKind::datetime), false},
      {t(TypeKind::datetime), t(TypeKind::date), true},
      {t(TypeKind::datetime), t(TypeKind::time), true},
      {t(TypeKind::integer), t(TypeKind::blob), true},
  };
  for (const Row& r : rows) {
    EXPECT_EQ(is_narrowing(r.from, r.to), r.narrows)
        << schema::to_string(r.from) << " -> " << schema::to_string(r.to);
  }
}

// ---- describe, kind_name ----

TEST(Describe, gives_one_readable_line_for_every_kind) {
  const std::vector<std::string> expected = {
      "create table 'comment'",
      "drop table 'tag'",
      "rename table 'tag' to 'label'",
      "add column 'user.bio'",
      "add column 'user.bio' at position 2",
      "drop column 'user.password_hash'",
      "drop column 'tag.label'",
      "rename column 'user.email' to 'email_address'",
      "alter column 'user.email' (String(120) -> String(254), server default none -> '')",
      "create index 'ix_post_body' on 'post' (body)",
      "drop index 'ix_post_timestamp' on 'post'",
      "add unique constraint 'uq_post_user_id_timestamp' on 'post' (user_id, timestamp)",
      "drop unique constraint 'uq_post_body' on 'post'",
      "add foreign key 'fk_tag_uses_post' on 'tag' (uses) -> 'post' (id)",
      "drop foreign key 'fk_post_user_id_user' on 'post'",
      "add check constraint 'ck_post_body_len' on 'post' (length(body) > 0)",
      "drop check constraint 'ck_tag_uses_positive' on 'tag'",
      "rename constraint 'pk_user' on 'user' to 'pk_account'",
      "validate constraint 'fk_post_user_id_user' on 'post'",
      "execute SQL \"UPDATE user SET email = lower(email)\"",
      "call 'backfill_slugs'",
  };
  const std::vector<Operation> ops = one_of_each_kind();
  ASSERT_EQ(ops.size(), expected.size());
  for (std::size_t i = 0; i < ops.size(); ++i) EXPECT_EQ(describe(ops[i]), expected[i]);
}

TEST(Describe, a_constraint_added_not_valid_says_so) {
  EXPECT_EQ(describe(AddCheckOp{"post", {"ck_post_body_len", "length(body) > 0"}, true}),
            "add check constraint 'ck_post_body_len' on 'post' (length(body) > 0) not valid");
  EXPECT_EQ(describe(AddForeignKeyOp{"post", post_v2().foreign_keys[0], true}),
            "add foreign key 'fk_post_user_id_user' on 'post' (user_id) -> 'user' (id) not valid");
}

TEST(Describe, alter_column_lists_every_change) {
  const Column before = string_col("password_hash", 256, true);
  Column after = before;
  after.nullable = false;
  EXPECT_EQ(describe(AlterColumnOp{"user", before, after}),
            "alter column 'user.password_hash' (NULL -> NOT NULL)");
  after.type = {TypeKind::text, std::nullopt};
  after.server_default = "''";
  EXPECT_EQ(describe(AlterColumnOp{"user", before, after}),
            "alter column 'user.password_hash' (String(256) -> Text, NULL -> NOT NULL, server "
            "default none -> '')");
}

TEST(Describe, long_sql_is_shortened_to_one_line) {
  const ExecuteOp op{{{"sqlite",
                       "UPDATE post\n   SET body = trim(body)\n WHERE body LIKE ' %' "
                       "OR body LIKE '% '"}},
                     {},
                     false};
  EXPECT_EQ(describe(op),
            "execute SQL \"UPDATE post SET body = trim(body) WHERE body LIKE ' %' OR...\"");
}

TEST(KindName, is_the_file_format_name_of_every_kind) {
  const std::vector<std::string> expected = {
      "create_table", "drop_table",      "rename_table",
      "add_column",   "add_column",      "drop_column",
      "drop_column",  "rename_column",   "alter_column",
      "create_index", "drop_index",      "add_unique",
      "drop_unique",  "add_foreign_key", "drop_foreign_key",
      "add_check",    "drop_check",      "rename_constraint",
      "validate_constraint", "execute",  "call",
  };
  const std::vector<Operation> ops = one_of_each_kind();
  ASSERT_EQ(ops.size(), expected.size());
  for (std::size_t i = 0; i < ops.size(); ++i) EXPECT_EQ(kind_name(ops[i]), expected[i]);
}

}  // namespace
}  // namespace strata::migrate
