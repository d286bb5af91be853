// Sample migrations for the migration-file tests (file_test.cpp, file_robustness_test.cpp):
// every operation kind with every field set and unset, and strings YAML likes to misread.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "strata/migrate/migration.hpp"
#include "strata/migrate/ops.hpp"
#include "strata/schema/table.hpp"

namespace strata::migrate::testing {

using schema::Column;
using schema::ReferentialAction;
using schema::TypeKind;

inline Column column(std::string name, schema::Type type, bool nullable = true) {
  Column c;
  c.name = std::move(name);
  c.type = type;
  c.nullable = nullable;
  return c;
}

// A column with every field set away from its default.
inline Column full_column(const std::string& name) {
  Column c = column(name, {TypeKind::big_integer, std::nullopt}, false);
  c.primary_key = true;
  c.autoincrement = true;
  c.server_default = "0";
  return c;
}

// A table with every part present: columns of every type, a primary key, indexes, uniques,
// foreign keys with every referential action, checks.
inline schema::Table full_table(const std::string& name) {
  schema::Table t;
  t.name = name;
  t.columns.push_back(full_column("id"));
  const TypeKind kinds[] = {TypeKind::integer, TypeKind::small_integer, TypeKind::float_,
                            TypeKind::boolean, TypeKind::string,        TypeKind::text,
                            TypeKind::blob,    TypeKind::date,          TypeKind::time,
                            TypeKind::datetime};
  int i = 0;
  for (TypeKind k : kinds)
    t.columns.push_back(column("c" + std::to_string(i++), {k, std::nullopt}));
  t.columns.push_back(column("title", {TypeKind::string, 140}, false));
  t.columns.back().server_default = "'untitled'";
  t.primary_key = {"pk_" + name, {"id"}};
  t.indexes = {{"ix_" + name + "_title", {"title"}, false},
               {"ix_" + name + "_c0_c1", {"c0", "c1"}, true}};
  t.uniques = {{"uq_" + name + "_title", {"title"}}};
  t.foreign_keys = {{"fk_" + name + "_c0_user",
                     {"c0"},
                     "user",
                     {"id"},
                     ReferentialAction::cascade,
                     ReferentialAction::set_null},
                    {"fk_" + name + "_c1_user",
                     {"c1", "c2"},
                     "user",
                     {"a", "b"},
                     ReferentialAction::restrict,
                     ReferentialAction::set_default},
                    {"fk_" + name + "_c3_user",
                     {"c3"},
                     "user",
                     {"id"},
                     ReferentialAction::no_action,
                     ReferentialAction::no_action}};
  t.checks = {{"ck_" + name + "_title_len", "length(title) > 0"}};
  return t;
}

// Every operation kind, first with every optional field set, then with every one unset.
inline std::vector<Operation> sample_operations() {
  schema::Table bare;
  bare.name = "bare";
  bare.columns.push_back(column("x", {TypeKind::text, std::nullopt}));
  const schema::Index index{"ix_post_user_id", {"user_id"}, true};
  const schema::ForeignKey fk{
      "fk_post_user_id_user",     {"user_id"}, "user", {"id"}, ReferentialAction::cascade,
      ReferentialAction::restrict};
  const schema::ForeignKey plain_fk{"fk_a_b_c", {"b"}, "c", {"id"}, {}, {}};
  Column before = column("bio", {TypeKind::string, 64});
  Column after = column("bio", {TypeKind::text, std::nullopt}, false);
  after.server_default = "''";
  return {
      CreateTableOp{full_table("post")},
      CreateTableOp{bare},
      DropTableOp{full_table("old")},
      DropTableOp{bare},
      RenameTableOp{"user", "account"},
      AddColumnOp{"user", full_column("age"), 3},
      AddColumnOp{"user", column("nick", {TypeKind::string, std::nullopt}), std::nullopt},
      DropColumnOp{"user", column("last_seen", {TypeKind::datetime, std::nullopt}), 4},
      DropColumnOp{"user", full_column("gone"), std::nullopt},
      DropColumnOp{"user", column("first", {TypeKind::integer, std::nullopt}), 0},
      RenameColumnOp{"user", "name", "full_name"},
      AlterColumnOp{"user", before, after},
      AlterColumnOp{"user", after, before},
      CreateIndexOp{"post", index},
      CreateIndexOp{"post", {"ix_post_a_b", {"a", "b"}, false}},
      DropIndexOp{"post", index},
      AddUniqueOp{"post", {"uq_post_slug", {"slug"}}},
      DropUniqueOp{"post", {"uq_post_a_b", {"a", "b"}}},
      AddForeignKeyOp{"post", fk},
      AddForeignKeyOp{"a", plain_fk},
      DropForeignKeyOp{"post", fk},
      DropForeignKeyOp{"a", plain_fk},
      AddCheckOp{"post", {"ck_post_body_len", "length(body) > 0"}},
      AddCheckOp{"post", {"ck_post_body_len", "length(body) > 0"}, true},
      AddForeignKeyOp{"post", fk, true},
      DropCheckOp{"post", {"ck_post_body_len", "length(body) > 0"}},
      RenameConstraintOp{"account", "pk_user", "pk_account"},
      ValidateConstraintOp{"post", "ck_post_body_len"},
      ExecuteOp{{{"*", "UPDATE user SET bio = ''"}}, {}, false},
      ExecuteOp{
          {{"sqlite", "UPDATE user SET bio = ''"}, {"postgresql", "UPDATE \"user\" SET bio = ''"}},
          {{"*", "UPDATE user SET bio = NULL"}},
          false},
      ExecuteOp{{{"*", "DELETE FROM log"}}, {}, true},
      ExecuteOp{{{"*", "SELECT 1"}}, {{"sqlite", "SELECT 2"}}, true},
      ExecuteOp{{{"*", "UPDATE post\n   SET slug = lower(title)\n WHERE slug IS NULL;\n"}},
                {{"*", "UPDATE post SET slug = NULL;"}},
                false},
      ExecuteOp{},
      CallOp{"backfill_slugs", "clear_slugs"},
      CallOp{"backfill_slugs", ""},
  };
}

// Strings that a careless YAML writer would let a reader misread, or that break layout.
inline std::vector<std::string> tricky_strings() {
  return {
      "yes",
      "no",
      "on",
      "off",
      "y",
      "n",
      "Y",
      "N",
      "true",
      "False",
      "TRUE",
      "null",
      "Null",
      "NULL",
      "~",
      "",
      " ",
      "123",
      "-1",
      "+1",
      "0x1F",
      "0o17",
      "0b101",
      "1e5",
      "1_000",
      "1.5",
      ".5",
      ".inf",
      "-.inf",
      ".nan",
      "3f2a9c1b7d4e",
      "123456789012",
      "12e34",
      "2026-11-24",
      "2026-11-24T08:00:00Z",
      "12:30",
      "190:20:30",
      "-",
      "- a",
      ":",
      "a: b",
      "a:b",
      "key:",
      "a #b",
      "#x",
      "a#b",
      "'quoted'",
      "\"double\"",
      "it's",
      "back\\slash",
      "\\n",
      " leading",
      "trailing ",
      "two  spaces",
      "tab\there",
      "\ttab first",
      "new\nline",
      "multi\nline\n",
      "keep\n\n",
      "keep more\n\n\n",
      "\nleading newline",
      "  indented\nsql",
      "trailing space \nx",
      "x\ntrailing space ",
      "cr\r\nlf",
      "lone\rcr",
      "\n",
      "\n\n",
      "ünïcødé 名前",
      "emoji 😀",
      "e\xCC\x81 combining",
      std::string("\x01") + "ctl",
      std::string("nul\0byte", 8),
      "del\x7f",
      "\xC2\x85nel",
      "line\xE2\x80\xA8sep",
      "\xEF\xBB\xBF"
      "bom",
      "\xC2\xA0nbsp",
      "[a]",
      "{a}",
      "a,b",
      "a, b",
      "*alias",
      "&anchor",
      "!tag",
      "!!str x",
      "%directive",
      "@at",
      "`tick`",
      "|",
      "|-",
      ">",
      "?",
      "? x",
      "---",
      "...",
      "--- x",
      "<<",
      "=",
      "a=b",
      "(x)",
      "String(64)",
      "length(body) > 0",
      "x > 0 AND y < 1",
      "CURRENT_TIMESTAMP",
      "'x'",
      "SET NULL",
      "a / b",
      "end.",
      "UPDATE \"user\" SET bio = ''",
      "/* comment */ SELECT 1; -- trailing",
      "SELECT '# not a comment'",
      std::string(300, 'x'),
      "x\n\n\ny\n",
      "\n\nx",
  };
}

// A migration whose every free-text field (names, SQL, message, ...) is s.
inline Migration migration_with(const std::string& s) {
  Migration m;
  m.revision = "3f2a9c1b7d4e";
  m.down_revisions = {"8a1b2c3d4e5f"};
  m.message = s;
  m.created = s;
  schema::Table t;
  t.name = s;
  Column c = column(s, {TypeKind::string, 64}, false);
  c.server_default = s;
  t.columns = {c, column("plain", {TypeKind::integer, std::nullopt})};
  t.primary_key = {s, {s}};
  t.indexes = {{s, {s, "plain"}, true}};
  t.uniques = {{s, {s}}};
  t.foreign_keys = {{s, {s}, s, {s}, ReferentialAction::cascade, ReferentialAction::no_action}};
  t.checks = {{s, s}};
  m.upgrade = {
      CreateTableOp{t},
      RenameTableOp{s, s + "2"},
      AddColumnOp{s, c, 1},
      DropColumnOp{s, c, 2},
      RenameColumnOp{s, s, s + "x"},
      AlterColumnOp{s, c, column(s, {TypeKind::text, std::nullopt})},
      CreateIndexOp{s, {s, {s}, false}},
      AddUniqueOp{s, {s, {s}}},
      AddForeignKeyOp{s, t.foreign_keys.front()},
      AddCheckOp{s, {s, s}},
      ExecuteOp{{{"*", s}}, {{"sqlite", s}, {"postgresql", s + ";"}}, false},
      CallOp{s, s},
  };
  m.downgrade = {DropTableOp{t}, ExecuteOp{{{"*", s}}, {}, true}};
  return m;
}

// A migration holding every sample operation, with a merge parent list and branch labels.
inline Migration full_migration() {
  Migration m;
  m.revision = "3f2a9c1b7d4e";
  m.down_revisions = {"8a1b2c3d4e5f", "0123456789ab"};
  m.branch_labels = {"feature-x", "v1.2"};
  m.message = "add post table";
  m.created = "2026-11-24T08:00:00Z";
  m.lint_allow = {"irreversible", "destructive"};
  m.upgrade = sample_operations();
  m.downgrade = {RenameTableOp{"account", "user"}, CallOp{"clear_slugs", "backfill_slugs"}};
  return m;
}

}  // namespace strata::migrate::testing
