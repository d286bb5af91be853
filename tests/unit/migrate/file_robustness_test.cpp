// The migration-file parser on hostile input, in an ordinary build: empty and binary files,
// deep nesting, huge numbers, anchors and aliases (also self-referencing ones), tags,
// duplicate keys, every truncation and many one-byte mutations of a real file, and what the
// fuzzer found (tests/fuzz/migration_file_fuzz.cpp). parse() may only ever throw
// MigrationFileError; a file it accepts must survive render/parse unchanged.
#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "strata/migrate/file.hpp"

#include "fuzz/migration_file_check.hpp"
#include "unit/migrate/file_samples.hpp"

namespace strata::migrate {
namespace {

using fuzzing::check_migration_file;

std::string repeat(const std::string& s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

// A small valid file whose operations are what hostile fragments get spliced into.
std::string valid_file() {
  Migration m;
  m.revision = "3f2a9c1b7d4e";
  m.down_revisions = {"8a1b2c3d4e5f"};
  m.message = "add post";
  schema::Table t;
  t.name = "post";
  t.columns = {testing::column("id", {schema::TypeKind::integer, std::nullopt}, false)};
  t.primary_key = {"pk_post", {"id"}};
  t.checks = {{"ck_post_id", "id > 0"}};
  const std::vector<Operation> samples = testing::sample_operations();
  m.upgrade = {CreateTableOp{t}, samples[7], samples[25], samples[28]};
  m.downgrade = {CallOp{"a", "b"}};
  return render(m);
}

std::vector<std::string> nasty_inputs() {
  const std::string head = "revision: abc\ndowngrade: []\n";
  std::vector<std::string> out = {
      "",
      std::string(1, '\0'),
      std::string("\0\0\0", 3),
      "\xFF\xFE\xFD",
      "\xEF\xBB\xBF",
      "\xEF\xBB\xBF"
      "revision: abc\nupgrade: []\ndowngrade: []\n",
      "\t",
      "\r",
      "\r\n",
      " ",
      "---",
      "...",
      "--- |\n  x\n",
      "%YAML 1.2\n---\nrevision: abc\n",
      "%YAML 9.9\n---\na: b\n",
      "%TAG ! tag:example.com,2000:\n---\nrevision: !x abc\n",
      "? [a]\n: b\n",
      "? {a: b}\n",
      "*undefined",
      "&a",
      "revision: *a\n",
      "revision: &a abc\nupgrade: *a\ndowngrade: *a\n",
      "revision:\tabc\n",
      "\trevision: abc\n",
      "revision: abc\r\nupgrade: []\r\ndowngrade: []\r\n",
      "revision: abc\nrevision: abc\n",
      "revision: abc\nupgrade: []\nupgrade: []\ndowngrade: []\n",
      "revision: !!binary aGVsbG8=\n",
      "revision: !<tag:yaml.org,2002:str> abc\n" + std::string("upgrade: []\ndowngrade: []\n"),
      "revision: !!int 12\nupgrade: []\ndowngrade: []\n",
      "revision: !!map {}\n",
      "revision: abc\nupgrade: !!seq []\ndowngrade: !!set {a}\n",
      "!!map {revision: abc, upgrade: [], downgrade: []}\n",
      // deep nesting, where it is read and where it is not
      repeat("[", 2000),
      repeat("{a: ", 500),
      repeat("- ", 500) + "x\n",
      head + "upgrade: " + repeat("[", 1000),
      head + "upgrade:\n" + repeat("  ", 1) + "- create_index: " + repeat("{a: ", 300),
      head + "upgrade: [" + repeat("[", 300) + repeat("]", 300) + "]\n",
      // huge numbers and strings
      head +
          "upgrade:\n  - drop_column: {table: t, position: 1e999999, column: {name: c, type: "
          "Text}}\n",
      head +
          "upgrade:\n  - drop_column: {table: t, position: 18446744073709551616, column: {name: c, "
          "type: Text}}\n",
      head +
          "upgrade:\n  - drop_column: {table: t, position: 18446744073709551615, column: {name: c, "
          "type: Text}}\n",
      head +
          "upgrade:\n  - add_column: {table: t, column: {name: c, type: "
          "String(99999999999999999999)}}\n",
      head + "upgrade:\n  - add_column: {table: t, column: {name: c, type: String(2147483648)}}\n",
      head + "upgrade:\n  - add_column: {table: t, column: {name: c, type: String(0x40)}}\n",
      "revision: " + std::string(200000, 'a') + "\nupgrade: []\ndowngrade: []\n",
      "message: \"" + repeat("\\x00\\uFFFF\\U0010FFFF\\uD800", 100) + "\"\n",
      "message: \"\\uD800\"\nrevision: a\nupgrade: []\ndowngrade: []\n",
      "message: \"\\U00110000\"\nrevision: a\nupgrade: []\ndowngrade: []\n",
      // anchors and aliases: shared, self-referencing, exponential
      "revision: &a [*a]\n",
      head + "upgrade: &u [*u]\n",
      head + "upgrade: &u [{create_table: *u}]\n",
      head + "upgrade:\n  - &o {create_index: *o}\n",
      head + "upgrade:\n  - create_table: &t {name: x, columns: [*t]}\n",
      head + "upgrade:\n  - create_table: {name: x, columns: &c [{name: a, type: Text}, *c]}\n",
      head + "upgrade:\n  - execute: {sql: &s {x: *s}}\n",
      head + "upgrade:\n  - create_index: &m {table: t, name: i, columns: [a], <<: *m}\n",
      "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c "
      "[*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
      "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n",
      head + "x: &a [y,y,y,y,y,y,y,y]\nupgrade: &b [*a,*a,*a,*a,*a,*a,*a,*a]\n",
      // structure in the wrong places
      head + "upgrade: [create_table]\n",
      head + "upgrade: [{create_table: null}]\n",
      head + "upgrade: [{null: {}}]\n",
      head + "upgrade: [{~: x}]\n",
      head + "upgrade: [{\"\": x}]\n",
      head + "upgrade: [{[a]: x}]\n",
      head + "upgrade: [{{a: b}: x}]\n",
      head + "upgrade: [{execute: {sql: {\"*\": [x]}}}]\n",
      head + "upgrade: [{execute: {sql: {\"*\": null}}}]\n",
      head + "upgrade: [{create_table: {name: t, columns: [[a]]}}]\n",
      head +
          "upgrade: [{create_table: {name: t, columns: [{name: a, type: Text}], primary_key: "
          "[]}}]\n",
      head + "upgrade: [{alter_column: {table: t, before: {name: a, type: Text}, after: null}}]\n",
      "revision: abc\ndown_revision: [[a]]\nupgrade: []\ndowngrade: []\n",
      "revision: abc\ndown_revision: {a: b}\nupgrade: []\ndowngrade: []\n",
      "revision: abc\nbranch_labels: x\nupgrade: []\ndowngrade: []\n",
      "revision: abc\nmessage: [x]\nupgrade: []\ndowngrade: []\n",
  };
  std::mt19937 random(20261124);
  for (int i = 0; i < 200; ++i) {
    std::string garbage(random() % 300, '\0');
    for (char& c : garbage) c = static_cast<char>(random() % 256);
    out.push_back(garbage);
    // mostly-YAML garbage: the bytes YAML cares about
    const std::string yaml_bytes = "-:{}[],&*!|>'\"%@`#? \n\nab";
    std::string yamlish(random() % 200, ' ');
    for (char& c : yamlish) c = yaml_bytes[random() % yaml_bytes.size()];
    out.push_back(yamlish);
  }
  return out;
}

TEST(MigrationFileRobustness, hostile_inputs_only_ever_raise_migration_file_error) {
  for (const std::string& input : nasty_inputs()) {
    const std::string bug = check_migration_file(input);
    EXPECT_EQ(bug, "") << "on input (first 200 bytes): " << input.substr(0, 200);
  }
}

TEST(MigrationFileRobustness, every_truncation_of_a_valid_file_is_handled) {
  const std::string file = valid_file();
  for (std::size_t n = 0; n <= file.size(); ++n) {
    const std::string bug = check_migration_file(file.substr(0, n));
    EXPECT_EQ(bug, "") << "on the first " << n << " bytes of:\n" << file;
  }
}

TEST(MigrationFileRobustness, one_byte_mutations_of_a_valid_file_are_handled) {
  const std::string file = valid_file();
  // the bytes that change YAML structure most (the fuzzer tries the rest)
  const std::string replacements = std::string(":-[{,'\"#\n*\0", 11);
  for (std::size_t at = 0; at < file.size(); at += 9) {
    for (char c : replacements) {
      std::string replaced = file;
      replaced[at] = c;
      EXPECT_EQ(check_migration_file(replaced), "")
          << "with byte " << at << " set to " << static_cast<int>(c) << " in:\n"
          << file;
      std::string inserted = file;
      inserted.insert(at, 1, c);
      EXPECT_EQ(check_migration_file(inserted), "")
          << "with byte " << static_cast<int>(c) << " inserted at " << at << " in:\n"
          << file;
    }
  }
}

// Inputs that once misbehaved (found by this test's random inputs or by the fuzzer), replayed
// so they stay fixed.
TEST(MigrationFileRobustness, inputs_that_once_misbehaved_are_handled) {
  const std::vector<std::string> found = {
      // yaml-cpp 0.7's LoadAll looped forever, allocating, on a token that cannot start a node
      ",",
      ",\n---\na: 1\n",
      "- a\n,\n",
      "[a]\n,",
      "!x ,",
      "&a ,",
      "\n,]\n&{,]\"\"b*`!,#[%&]\n@-\n%]&>b:b?>} |,b: "
      "&-}>\"}b!b#!\n*>\"\"\"@*b\"|@}%&?@@@a[\na\n\"\n-",
      // escapes decoding to bytes that are not UTF-8 were accepted, then render() refused them
      // (the fuzzer's crash-5e8995af: eleven "\\" and a "\N")
      "revision: abc\nmessage: \"\\\\\\N\"\nupgrade: []\ndowngrade: []\n",
      "revision: abc\nmessage: \"\\_\"\nupgrade: []\ndowngrade: []\n",
      "revision: abc\nmessage: \"\\uD800\"\nupgrade: []\ndowngrade: []\n",
  };
  for (const std::string& input : found) EXPECT_EQ(check_migration_file(input), "");
}

}  // namespace
}  // namespace strata::migrate
