// Migration files: render() then parse() gives back the same Migration for every operation
// kind and every tricky string; the rendered layout is pinned by a golden text; every kind of
// bad file fails with MigrationFileError("path:line: message") naming the remedy.
#include "strata/migrate/file.hpp"

#include <cstdio>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "strata/error.hpp"
#include "strata/migrate/errors.hpp"

#include "unit/migrate/file_samples.hpp"

namespace strata::migrate {
namespace {

using testing::full_migration;
using testing::migration_with;
using testing::sample_operations;
using testing::tricky_strings;

// Visible form of s for failure messages: control characters escaped.
std::string shown(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

void expect_round_trip(const Migration& m, const std::string& what) {
  const std::string text = render(m);
  Migration back;
  try {
    back = parse(text, "round_trip.yaml");
  } catch (const MigrationFileError& e) {
    ADD_FAILURE() << what << ": render() wrote a file parse() refuses: " << e.what() << "\n"
                  << text;
    return;
  }
  EXPECT_EQ(back, m) << what << ": parse(render(m)) differs from m; the file was:\n" << text;
  EXPECT_EQ(back.path, "round_trip.yaml");
  EXPECT_EQ(render(back), text) << what << ": rendering is not stable";
}

TEST(MigrationFile, every_operation_kind_round_trips_with_fields_set_and_unset) {
  for (const Operation& op : sample_operations()) {
    Migration m;
    m.revision = "3f2a9c1b7d4e";
    m.upgrade = {op};
    m.downgrade = {op};
    expect_round_trip(m, "operation " + std::string(kind_name(op)) + " (" + describe(op) + ")");
  }
}

TEST(MigrationFile, sample_list_covers_every_operation_kind) {
  std::vector<bool> seen(std::variant_size_v<Operation>);
  for (const Operation& op : sample_operations()) seen[op.index()] = true;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    EXPECT_TRUE(seen[i]) << "no sample of operation kind #" << i
                         << ": a new kind needs a round-trip sample";
  }
}

TEST(MigrationFile, whole_migration_round_trips) { expect_round_trip(full_migration(), "full"); }

TEST(MigrationFile, atomic_false_and_concurrently_round_trip_and_are_left_out_when_unset) {
  Migration m;
  m.revision = "3f2a9c1b7d4e";
  m.atomic = false;
  m.upgrade = {CreateIndexOp{"post", {"ix_post_a", {"a"}, true}, true}};
  m.downgrade = reverse(m.upgrade);
  ASSERT_TRUE(std::get<DropIndexOp>(m.downgrade.at(0)).concurrently)
      << "the reverse of a concurrent create_index is a concurrent drop_index";
  expect_round_trip(m, "atomic: false with a concurrent index");
  const std::string text = render(m);
  EXPECT_NE(text.find("\natomic: false\n"), std::string::npos) << text;
  EXPECT_NE(text.find("concurrently: true"), std::string::npos) << text;

  Migration plain = m;
  plain.atomic = true;
  plain.upgrade = {CreateIndexOp{"post", {"ix_post_a", {"a"}, true}}};
  plain.downgrade = reverse(plain.upgrade);
  expect_round_trip(plain, "the same migration in a transaction");
  EXPECT_EQ(render(plain).find("atomic"), std::string::npos) << render(plain);
  EXPECT_EQ(render(plain).find("concurrently"), std::string::npos) << render(plain);
}

TEST(MigrationFile, identity_fields_round_trip_set_and_unset) {
  Migration base;
  base.revision = "initial_schema";  // hand-named revisions are accepted
  expect_round_trip(base, "a base with nothing else set");
  Migration one = base;
  one.down_revisions = {"abc"};
  expect_round_trip(one, "one parent");
  Migration merge = base;
  merge.down_revisions = {"a1", "b2", "c3"};
  merge.branch_labels = {"x"};
  expect_round_trip(merge, "a merge with a branch label");
}

TEST(MigrationFile, tricky_strings_round_trip_in_every_field) {
  for (const std::string& s : tricky_strings()) {
    expect_round_trip(migration_with(s), "string \"" + shown(s) + "\"");
  }
}

TEST(MigrationFile, every_type_name_round_trips) {
  using schema::TypeKind;
  for (TypeKind k : {TypeKind::integer, TypeKind::big_integer, TypeKind::small_integer,
                     TypeKind::float_, TypeKind::boolean, TypeKind::string, TypeKind::text,
                     TypeKind::blob, TypeKind::date, TypeKind::time, TypeKind::datetime}) {
    for (std::optional<int> length :
         {std::optional<int>{}, std::optional<int>{1}, std::optional<int>{2147483647}}) {
      if (length && k != TypeKind::string) continue;
      Migration m;
      m.revision = "r";
      m.upgrade = {AddColumnOp{"t", testing::column("c", {k, length}), std::nullopt}};
      expect_round_trip(m, schema::to_string({k, length}));
    }
  }
}

// The layout people read and diff: pinned, so a change to it is a deliberate one.
TEST(MigrationFile, render_writes_the_documented_layout) {
  using schema::ReferentialAction;
  using schema::TypeKind;
  using testing::column;
  Migration m;
  m.revision = "3f2a9c1b7d4e";
  m.down_revisions = {"8a1b2c3d4e5f"};
  m.message = "add post table";
  m.created = "2026-11-24T08:00:00Z";
  schema::Table post;
  post.name = "post";
  schema::Column id = column("id", {TypeKind::integer, std::nullopt}, false);
  id.primary_key = true;
  id.autoincrement = true;
  post.columns = {id, column("body", {TypeKind::string, 140}, false),
                  column("user_id", {TypeKind::integer, std::nullopt}, false)};
  post.primary_key = {"pk_post", {"id"}};
  post.foreign_keys = {{"fk_post_user_id_user",
                        {"user_id"},
                        "user",
                        {"id"},
                        ReferentialAction::cascade,
                        ReferentialAction::no_action}};
  post.checks = {{"ck_post_body_len", "length(body) > 0"}};
  const schema::Column last_seen = column("last_seen", {TypeKind::datetime, std::nullopt});
  m.upgrade = {
      CreateTableOp{post},
      CreateIndexOp{"post", {"ix_post_user_id", {"user_id"}, false}},
      DropColumnOp{"user", last_seen, 4},
      ExecuteOp{
          {{"sqlite", "UPDATE user SET bio = ''"}, {"postgresql", "UPDATE \"user\" SET bio = ''"}},
          {{"*", "UPDATE user SET bio = NULL"}},
          false},
      ExecuteOp{{{"*", "UPDATE post\n   SET slug = lower(title);\n"}}, {}, true},
      CallOp{"backfill_slugs", "clear_slugs"},
  };
  m.downgrade = {
      CallOp{"clear_slugs", "backfill_slugs"},
      AddColumnOp{"user", last_seen, 4},
      DropTableOp{post},
  };
  EXPECT_EQ(
      render(m),
      R"(# strata migration: edit freely; `db upgrade` runs `upgrade`, `db downgrade` runs `downgrade`.
# Format and operations: docs/migration-file-format.md
revision: 3f2a9c1b7d4e
down_revision: 8a1b2c3d4e5f
message: add post table
created: "2026-11-24T08:00:00Z"

upgrade:
  - create_table:
      name: post
      columns:
        - {name: id, type: Integer, nullable: false, primary_key: true, autoincrement: true}
        - {name: body, type: String(140), nullable: false}
        - {name: user_id, type: Integer, nullable: false}
      primary_key: {name: pk_post, columns: [id]}
      foreign_keys:
        - {name: fk_post_user_id_user, columns: [user_id], referred_table: user, referred_columns: [id], on_delete: CASCADE}
      checks:
        - {name: ck_post_body_len, sqltext: "length(body) > 0"}
  - create_index: {table: post, name: ix_post_user_id, columns: [user_id], unique: false}
  # destructive: drops column 'user.last_seen' and its data
  - drop_column: {table: user, position: 4, column: {name: last_seen, type: DateTime, nullable: true}}
  - execute:
      sql:
        postgresql: "UPDATE \"user\" SET bio = ''"
        sqlite: "UPDATE user SET bio = ''"
      reverse: "UPDATE user SET bio = NULL"
  - execute:
      sql: |
        UPDATE post
           SET slug = lower(title);
      irreversible: true
  - call: {name: backfill_slugs, reverse: clear_slugs}

downgrade:
  - call: {name: clear_slugs, reverse: backfill_slugs}
  - add_column: {table: user, position: 4, column: {name: last_seen, type: DateTime, nullable: true}}
  # destructive: drops table 'post' and its data
  - drop_table:
      name: post
      columns:
        - {name: id, type: Integer, nullable: false, primary_key: true, autoincrement: true}
        - {name: body, type: String(140), nullable: false}
        - {name: user_id, type: Integer, nullable: false}
      primary_key: {name: pk_post, columns: [id]}
      foreign_keys:
        - {name: fk_post_user_id_user, columns: [user_id], referred_table: user, referred_columns: [id], on_delete: CASCADE}
      checks:
        - {name: ck_post_body_len, sqltext: "length(body) > 0"}
)");
  expect_round_trip(m, "the documented example");
}

TEST(MigrationFile, names_in_comments_cannot_break_out_of_the_comment) {
  Migration m;
  m.revision = "r";
  schema::Table t;
  t.name = "x\n- drop_table: {name: victim, columns: []}";
  m.upgrade = {DropTableOp{t}};
  const std::string text = render(m);
  EXPECT_NE(text.find("# destructive: drops table 'x - drop_table: {name: victim, columns: []}'"),
            std::string::npos)
      << text;
  expect_round_trip(m, "a table name that spans lines");
}

TEST(MigrationFile, empty_lists_and_a_base_are_written_explicitly) {
  Migration m;
  m.revision = "abc";
  EXPECT_EQ(render(m),
            "# strata migration: edit freely; `db upgrade` runs `upgrade`, `db "
            "downgrade` runs `downgrade`.\n"
            "# Format and operations: docs/migration-file-format.md\n"
            "revision: abc\n"
            "down_revision: null\n"
            "message: \"\"\n"
            "created: \"\"\n"
            "\n"
            "upgrade: []\n"
            "\n"
            "downgrade: []\n");
}

TEST(MigrationFile, render_is_deterministic_and_quotes_what_yaml_would_misread) {
  const Migration m = migration_with("yes");
  EXPECT_EQ(render(m), render(m));
  const std::string text = render(m);
  EXPECT_NE(text.find("message: \"yes\""), std::string::npos) << text;
  for (const char* bare : {": yes\n", ": yes,", ": yes}", "[yes", " yes]", "- yes\n"}) {
    EXPECT_EQ(text.find(bare), std::string::npos) << "an unquoted yes reads as true:\n" << text;
  }
  const std::string numbers = render(migration_with("123"));
  EXPECT_NE(numbers.find("message: \"123\""), std::string::npos) << numbers;
}

TEST(MigrationFile, render_refuses_invalid_utf8_rather_than_writing_an_unreadable_file) {
  try {
    render(migration_with("bad \xFF byte"));
    ADD_FAILURE() << "render accepted a string that is not UTF-8";
  } catch (const ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("not valid UTF-8"), std::string::npos) << e.what();
  }
}

// ---- errors: every message is "path:line: message", with path() and line() set ----

struct FileError {
  std::string what;
  std::string path;
  int line = 0;
};

// The MigrationFileError that parsing text throws; fails the test when it throws nothing.
FileError file_error(const std::string& text) {
  try {
    parse(text, "migrations/3f2a9c1b7d4e.yaml");
  } catch (const MigrationFileError& e) {
    return {e.what(), e.path(), e.line()};
  }
  ADD_FAILURE() << "parse accepted a bad file:\n" << text;
  return {};
}

// Checks the error: at `line`, and what() is "path:line: " followed by text containing each of
// `parts`.
void expect_error(const std::string& text, int line, const std::vector<std::string>& parts) {
  const FileError e = file_error(text);
  EXPECT_EQ(e.path, "migrations/3f2a9c1b7d4e.yaml");
  EXPECT_EQ(e.line, line) << e.what;
  const std::string prefix = "migrations/3f2a9c1b7d4e.yaml:" + std::to_string(line) + ": ";
  EXPECT_EQ(e.what.substr(0, prefix.size()), prefix) << e.what;
  for (const std::string& part : parts) {
    EXPECT_NE(e.what.find(part), std::string::npos)
        << "message should contain '" << part << "':\n  " << e.what;
  }
}

// A valid file around one upgrade operation, given as the lines under "upgrade:" (the
// operation's first line is line 6).
std::string with_upgrade(const std::string& operation_lines) {
  return "revision: 3f2a9c1b7d4e\n"
         "down_revision: null\n"
         "message: test\n"
         "created: \"2026-11-24T08:00:00Z\"\n"
         "upgrade:\n" +
         operation_lines + "downgrade: []\n";
}

TEST(MigrationFileErrors, a_valid_hand_written_file_with_defaults_left_out_parses) {
  const Migration m =
      parse(with_upgrade("  - create_table:\n"
                         "      name: post\n"
                         "      columns:\n"
                         "        - {name: id, type: Integer}\n"
                         "  - create_index: {table: post, name: ix, columns: [id]}\n"
                         "  - drop_column: {table: post, column: {name: x, type: Text}}\n"
                         "  - execute: {sql: SELECT 1}\n"
                         "  - call: {name: backfill}\n"),
            "m.yaml");
  ASSERT_EQ(m.upgrade.size(), 5u);
  const auto& t = std::get<CreateTableOp>(m.upgrade[0]).table;
  EXPECT_TRUE(t.columns.at(0).nullable) << "nullable defaults to true";
  EXPECT_FALSE(t.columns.at(0).primary_key);
  EXPECT_FALSE(std::get<CreateIndexOp>(m.upgrade[1]).index.unique);
  EXPECT_FALSE(std::get<DropColumnOp>(m.upgrade[2]).position.has_value());
  EXPECT_EQ(std::get<ExecuteOp>(m.upgrade[3]).sql.at("*"), "SELECT 1");
  EXPECT_EQ(std::get<CallOp>(m.upgrade[4]).reverse, "");
  EXPECT_TRUE(m.down_revisions.empty());
  EXPECT_EQ(m.path, "m.yaml");
}

TEST(MigrationFileErrors, yaml_spellings_of_defaults_and_booleans_are_accepted) {
  const Migration m = parse(
      with_upgrade("  - create_index: {table: t, name: i, columns: [a], unique: yes}\n"
                   "  - add_foreign_key: {table: t, name: f, columns: [a], referred_table: u,\n"
                   "      referred_columns: [id], on_delete: set_null, on_update: no action}\n"
                   "  - execute: {sql: x, reverse: null, irreversible: False}\n"),
      "m.yaml");
  EXPECT_TRUE(std::get<CreateIndexOp>(m.upgrade[0]).index.unique);
  EXPECT_EQ(std::get<AddForeignKeyOp>(m.upgrade[1]).foreign_key.on_delete,
            schema::ReferentialAction::set_null);
  EXPECT_TRUE(std::get<ExecuteOp>(m.upgrade[2]).reverse.empty());
  const Migration one = parse("revision: abc\ndown_revision: [def]\nupgrade:\ndowngrade:\n", "m");
  EXPECT_EQ(one.down_revisions, std::vector<std::string>{"def"});
  EXPECT_TRUE(one.upgrade.empty()) << "an empty upgrade: is an empty list";
}

TEST(MigrationFileErrors, malformed_yaml_points_at_the_line_yaml_cpp_marks) {
  expect_error("revision: abc\nupgrade: [\n  - x\ndowngrade: []\n", 3, {"malformed YAML"});
  expect_error("revision: abc\n  bad: indent\n", 2,
               {"malformed YAML: illegal map value (column 6)"});
  // An unclosed bracket is reported where it opens, not where yaml-cpp gave up.
  expect_error("revision: abc\nupgrade: {a: 1\ndowngrade: []\n", 2,
               {"malformed YAML: this '{' (column 10) is never closed with '}'"});
  expect_error("message: \"a { in quotes\" # and { in a comment\nupgrade:\n  - add_column: "
               "{table: t, column: {name: x}\n\ndowngrade: []\n",
               3, {"this '{' (column 17) is never closed with '}'"});
  expect_error("message: x\nupgrade: [\n  {execute: {sql: 'SELECT ''{'''}}\n\ndowngrade: []\n", 2,
               {"this '[' (column 10) is never closed with ']'"});
  expect_error("revision: abc\n,\n", 2, {"malformed YAML: end of map not found"});
  expect_error("- a\n,\n", 2, {"malformed YAML: unexpected ',' (column 1)"});
  expect_error(",", 1, {"malformed YAML: unexpected ','"});
  expect_error("revision: " + std::string(600, '[') + "\n", 2,
               {"malformed YAML: nested more than"});
}

TEST(MigrationFileErrors, a_missing_required_field_is_named) {
  expect_error(with_upgrade("  - create_table:\n      name: post\n"
                            "      columns: []\n"
                            "  - create_index: {table: post, name: ix_post_user_id}\n"),
               9, {"create_index needs 'columns'"});
  expect_error("down_revision: null\nupgrade: []\ndowngrade: []\n", 1,
               {"the migration file needs 'revision'"});
  expect_error("revision: abc\nupgrade: []\n", 1, {"needs 'downgrade'"});
  expect_error(with_upgrade("  - add_column:\n      table: t\n      column: {name: c}\n"), 8,
               {"'column' of add_column needs 'type'"});
}

TEST(MigrationFileErrors, an_unknown_operation_lists_the_known_ones_and_suggests_one) {
  expect_error(
      with_upgrade("  - create_tabel: {name: post, columns: []}\n"), 6,
      {"unknown operation 'create_tabel'", "did you mean 'create_table'?",
       "expected one of create_table, drop_table, rename_table, add_column", "execute, call"});
}

TEST(MigrationFileErrors, an_unknown_field_lists_the_known_ones_and_suggests_one) {
  expect_error(with_upgrade("  - create_index: {table: post, name: ix, colums: [a]}\n"), 6,
               {"unknown field 'colums' in create_index; did you mean 'columns'? expected "
                "table, name, columns, unique, concurrently"});
  expect_error("revision: abc\nmesage: hi\nupgrade: []\ndowngrade: []\n", 2,
               {"unknown field 'mesage' in the migration file; did you mean 'message'?"});
  expect_error(with_upgrade("  - create_table:\n      name: t\n      columns:\n"
                            "        - {name: a, type: Text, nulable: false}\n"),
               9, {"unknown field 'nulable' in column of create_table; did you mean 'nullable'?"});
  // not_valid belongs to add_foreign_key and add_check, not to what is always checked whole
  expect_error(with_upgrade("  - add_unique: {table: t, name: uq, columns: [a], not_valid: true}\n"),
               6, {"unknown field 'not_valid' in add_unique; expected table, name, columns"});
  expect_error(with_upgrade("  - validate_constraint: {table: t, nam: ck}\n"), 6,
               {"unknown field 'nam' in validate_constraint; did you mean 'name'? expected table, "
                "name"});
  expect_error(with_upgrade("  - add_check: {table: t, name: ck, sqltext: a > 0, not_valid: 1}\n"),
               6, {"'not_valid' of add_check must be true or false"});
}

TEST(MigrationFileErrors, lint_allow_names_known_rules_once_each) {
  const Migration m =
      parse("revision: abc\nlint_allow: [rebuild, risky]\nupgrade: []\ndowngrade: []\n", "m");
  EXPECT_EQ(m.lint_allow, (std::vector<std::string>{"rebuild", "risky"}));
  expect_error("revision: abc\nmessage: x\nlint_allow: [destrutive]\nupgrade: []\ndowngrade: []\n",
               3,
               {"'lint_allow' of the migration file names an unknown lint rule 'destrutive'; did "
                "you mean 'destructive'? the rules are destructive, risky, rebuild, locking, irreversible"});
  expect_error("revision: abc\nlint_allow: [risky, risky]\nupgrade: []\ndowngrade: []\n", 2,
               {"'lint_allow' of the migration file lists 'risky' twice"});
  expect_error("revision: abc\nlint_allow: risky\nupgrade: []\ndowngrade: []\n", 2,
               {"'lint_allow' of the migration file must be a list of names"});
}

TEST(MigrationFileErrors, replaces_lists_other_revisions_once_each) {
  const Migration m = parse(
      "revision: abc\nreplaces: [a1, b2]\nupgrade: []\ndowngrade: []\n", "m");
  EXPECT_EQ(m.replaces, (std::vector<std::string>{"a1", "b2"}));
  EXPECT_EQ(parse(render(m), "m"), m);
  EXPECT_NE(render(m).find("replaces: [a1, b2]"), std::string::npos) << render(m);
  EXPECT_TRUE(parse("revision: abc\nupgrade: []\ndowngrade: []\n", "m").replaces.empty());
  expect_error("revision: abc\nreplaces: [a1, a1]\nupgrade: []\ndowngrade: []\n", 2,
               {"'replaces' lists 'a1' twice"});
  expect_error("revision: abc\nreplaces: [abc]\nupgrade: []\ndowngrade: []\n", 2,
               {"'replaces' lists the migration's own revision"});
  expect_error("revision: abc\nreplaces: a1\nupgrade: []\ndowngrade: []\n", 2,
               {"'replaces' of the migration file must be a list of revision ids"});
  expect_error("revision: abc\nreplaces: [a-1]\nupgrade: []\ndowngrade: []\n", 2,
               {"must be a revision id"});
}

TEST(MigrationFileErrors, a_concurrent_index_needs_a_migration_outside_a_transaction) {
  const Migration m = parse(
      "revision: abc\natomic: false\nupgrade:\n"
      "  - create_index: {table: t, name: i, columns: [a], concurrently: yes}\n"
      "downgrade:\n  - drop_index: {table: t, name: i, columns: [a], concurrently: true}\n",
      "m");
  EXPECT_FALSE(m.atomic);
  EXPECT_TRUE(std::get<CreateIndexOp>(m.upgrade.at(0)).concurrently);
  EXPECT_TRUE(std::get<DropIndexOp>(m.downgrade.at(0)).concurrently);
  EXPECT_TRUE(parse("revision: abc\nupgrade: []\ndowngrade: []\n", "m").atomic)
      << "a migration runs in a transaction unless its file says otherwise";

  expect_error(
      with_upgrade("  - create_index: {table: t, name: i, columns: [a], concurrently: true}\n"), 6,
      {"create_index with 'concurrently: true' cannot run inside a transaction, and this "
       "migration runs in one; add 'atomic: false' to the migration"});
  expect_error("revision: abc\nupgrade: []\ndowngrade:\n"
               "  - {drop_index: {table: t, name: i, columns: [a], concurrently: true}}\n",
               4, {"drop_index with 'concurrently: true' cannot run inside a transaction"});
  expect_error("revision: abc\natomic: false\nupgrade:\n"
               "  - create_index: {table: t, name: i, columns: [a], concurrently: maybe}\n"
               "downgrade: []\n",
               4, {"'concurrently' of create_index must be true or false; found 'maybe'"});
  expect_error("revision: abc\natomic: sometimes\nupgrade: []\ndowngrade: []\n", 2,
               {"'atomic' of the migration file must be true or false; found 'sometimes'"});
}

TEST(MigrationFileErrors, a_field_of_the_wrong_shape_says_what_was_expected) {
  expect_error(with_upgrade("  - create_index: {table: post, name: ix, columns: user_id}\n"), 6,
               {"'columns' of create_index must be a list of names, e.g. [user_id]; found "
                "'user_id'"});
  expect_error(with_upgrade("  - create_index: {table: [post], name: ix, columns: [a]}\n"), 6,
               {"'table' of create_index must be a string; found a list"});
  expect_error(with_upgrade("  - create_index: {table: t, name: ix, columns: [a], unique: "
                            "maybe}\n"),
               6, {"'unique' of create_index must be true or false; found 'maybe'"});
  expect_error(with_upgrade("  - drop_column: {table: t, position: -1, column: {name: c, "
                            "type: Text}}\n"),
               6, {"'position' of drop_column must be a whole number >= 0"});
  expect_error(with_upgrade("  - drop_column: {table: t, position: 99999999999999999999999, "
                            "column: {name: c, type: Text}}\n"),
               6, {"'position' of drop_column must be a whole number"});
  expect_error(with_upgrade("  - add_foreign_key: {table: t, name: f, columns: [a], "
                            "referred_table: u, referred_columns: [id], on_delete: EXPLODE}\n"),
               6,
               {"'on_delete' of add_foreign_key must be one of NO ACTION, RESTRICT, CASCADE, "
                "SET NULL, SET DEFAULT; found 'EXPLODE'"});
  expect_error(with_upgrade("  - create_index: {table: t, name: ix, columns: [a, [b]]}\n"), 6,
               {"item 2 of 'columns' of create_index must be a name; found a list"});
  expect_error("revision: abc\nupgrade: {}\ndowngrade: []\n", 2,
               {"'upgrade' of the migration file must be a list of operations; found a map"});
}

TEST(MigrationFileErrors, a_bad_type_name_lists_the_valid_ones) {
  const std::string all =
      "expected Integer, BigInteger, SmallInteger, Float, Boolean, String, "
      "String(n), Text, Blob, Date, Time, DateTime";
  const auto column_of_type = [](const std::string& type) {
    return with_upgrade("  - add_column: {table: t, column: {name: c, type: \"" + type + "\"}}\n");
  };
  expect_error(column_of_type("Strin(64)"), 6,
               {"unknown type 'Strin(64)'; did you mean 'String(64)'? " + all});
  expect_error(column_of_type("integer"), 6, {"unknown type 'integer'; did you mean 'Integer'?"});
  expect_error(column_of_type("VARCHAR(64)"), 6, {"unknown type 'VARCHAR(64)'; " + all});
  expect_error(column_of_type("String(0)"), 6, {"a length is a whole number from 1"});
  expect_error(column_of_type("String(-1)"), 6, {"unknown type 'String(-1)'"});
  expect_error(column_of_type("String(99999999999)"), 6, {"unknown type"});
  expect_error(column_of_type("String( 64)"), 6, {"unknown type"});
  expect_error(column_of_type("Integer(4)"), 6, {"Integer takes no length"});
}

TEST(MigrationFileErrors, revision_ids_are_letters_digits_and_underscores) {
  expect_error("revision: abc-def\nupgrade: []\ndowngrade: []\n", 1,
               {"'revision' of the migration file must be a revision id: up to 64 letters, "
                "digits and '_'"});
  expect_error("revision: \"\"\nupgrade: []\ndowngrade: []\n", 1, {"must be a revision id"});
  // The ledger's column holds 64: a longer id was read, then failed on PostgreSQL at its
  // ledger row, after the migration's statements.
  expect_error("revision: " + std::string(65, 'a') + "\nupgrade: []\ndowngrade: []\n", 1,
               {"must be a revision id: up to 64"});
  EXPECT_NO_THROW(parse("revision: " + std::string(64, 'a') + "\nupgrade: []\ndowngrade: []\n",
                        "migrations/x.yaml"));
  expect_error("revision: abc\ndown_revision: [a, \"b c\"]\nupgrade: []\ndowngrade: []\n", 2,
               {"'down_revision' of the migration file must be a revision id"});
  expect_error("revision: abc\ndown_revision:\n  - a\n  - a\nupgrade: []\ndowngrade: []\n", 4,
               {"'down_revision' lists 'a' twice"});
  expect_error("revision: abc\nbranch_labels: [\"x@head\"]\nupgrade: []\ndowngrade: []\n", 2,
               {"'branch_labels' of the migration file must hold labels"});
  EXPECT_EQ(parse("revision: Initial_Schema_2\nupgrade: []\ndowngrade: []\n", "m").revision,
            "Initial_Schema_2");
}

TEST(MigrationFileErrors, an_operation_item_must_be_a_map_with_one_key) {
  expect_error(with_upgrade("  - create_index\n"), 6,
               {"an operation is a map with one key, its name", "found 'create_index'"});
  expect_error(with_upgrade("  - [create_index]\n"), 6, {"found a list"});
  expect_error(with_upgrade("  - {}\n"), 6, {"found an empty map"});
  // The common mistake: the fields not indented under the operation's name.
  expect_error(with_upgrade("  - create_index:\n    table: t\n    name: ix\n"), 6,
               {"found 3 keys: 'create_index' 'table' 'name'",
                "are the fields of the operation indented under its name?"});
  expect_error(with_upgrade("  - create_index:\n"), 6,
               {"create_index must be a map of table, name, columns, unique, concurrently; found nothing"});
}

TEST(MigrationFileErrors, duplicate_keys_are_refused_not_silently_dropped) {
  expect_error(with_upgrade("  - create_index: {table: a, table: b, name: ix, columns: [c]}\n"), 6,
               {"'table' appears twice in create_index"});
  expect_error("revision: abc\nrevision: def\nupgrade: []\ndowngrade: []\n", 2,
               {"'revision' appears twice in the migration file"});
}

TEST(MigrationFileErrors, alter_column_must_keep_the_column_name) {
  expect_error(with_upgrade("  - alter_column:\n      table: t\n"
                            "      before: {name: a, type: Text}\n"
                            "      after: {name: b, type: Text}\n"),
               9, {"'before' names 'a' and 'after' names 'b'", "use rename_column"});
}

TEST(MigrationFileErrors, a_near_miss_of_a_dialect_name_in_execute_is_a_typo) {
  expect_error(with_upgrade("  - execute:\n      sql:\n        sqllite: SELECT 1\n"), 8,
               {"'sqllite' in 'sql' of execute is not a dialect name; did you mean 'sqlite'?"});
  expect_error(with_upgrade("  - execute:\n      sql:\n        \"MySQL!\": SELECT 1\n"), 8,
               {"is not a dialect name"});
  const Migration m = parse(with_upgrade("  - execute: {sql: {mysql: SELECT 1}}\n"), "m");
  EXPECT_EQ(std::get<ExecuteOp>(m.upgrade.at(0)).sql.at("mysql"), "SELECT 1")
      << "dialects added later may be named";
  expect_error(with_upgrade("  - execute: {sql: [SELECT 1]}\n"), 6,
               {"'sql' of execute must be SQL text, or a map of dialect to SQL"});
}

TEST(MigrationFileErrors, the_file_must_be_one_utf8_yaml_document_without_tags) {
  expect_error("", 1, {"the file is empty"});
  expect_error("# only a comment\n", 1, {"the file is empty"});
  expect_error("- a\n- b\n", 1, {"the migration file must be a map of revision"});
  expect_error("revision: abc\nupgrade: []\ndowngrade: []\n---\nrevision: def\n", 4,
               {"a second YAML document"});
  expect_error("revision: abc\nmessage: \"caf\xE9\"\n", 2,
               {"not valid UTF-8 (byte 0xE9 at column 14)"});
  expect_error(std::string("revision: abc\nmessage: a\0b\n", 26), 2,
               {"control character 0 at column 11"});
  expect_error("revision: abc\nmessage: !!binary aGVsbG8=\nupgrade: []\ndowngrade: []\n", 2,
               {"unsupported tag '!!binary' on 'message' of the migration file"});
  expect_error(with_upgrade("  - !custom {sql: x}\n"), 6, {"unsupported tag '!custom'"});
  expect_error("revision: abc\nmessage: \"caf\\N\"\n", 2,
               {"'message' of the migration file is not valid UTF-8 once its escapes are decoded",
                "write such characters as \\uXXXX escapes"});
  expect_error(with_upgrade("  - create_index: {table: t, name: i, columns: [\"\\_\"]}\n"), 6,
               {"an item of 'columns' of create_index is not valid UTF-8"});
  EXPECT_EQ(
      parse("revision: abc\nmessage: \"\\u0085\\u00A0\\L\"\nupgrade: []\ndowngrade: []\n", "m")
          .message,
      "\u0085\u00A0\u2028");
}

TEST(MigrationFileErrors, anchors_and_aliases_resolve_to_their_value) {
  const Migration m =
      parse(with_upgrade("  - create_index: {table: &t post, name: ix, columns: &c [a]}\n"
                         "  - drop_index: {table: *t, name: ix, columns: *c}\n"),
            "m");
  EXPECT_EQ(std::get<DropIndexOp>(m.upgrade.at(1)).table, "post");
  EXPECT_EQ(std::get<DropIndexOp>(m.upgrade.at(1)).index.columns, std::vector<std::string>{"a"});
  expect_error("revision: abc\nupgrade: &u [*u]\ndowngrade: []\n", 2, {"an operation is a map"});
}

}  // namespace
}  // namespace strata::migrate
