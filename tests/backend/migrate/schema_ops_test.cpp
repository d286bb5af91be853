// Schema operations that one backend took and another refused or rewrote, on every backend of
// STRATA_TEST_URLS: each either applies on every backend and leaves `db check` quiet after
// the upgrade and the downgrade, or is refused on every backend before anything runs.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "strata/migrate/commands.hpp"
#include "strata/migrate/errors.hpp"
#include "strata/strata.hpp"

#include "backend.hpp"
#include "scratch.hpp"

// A model whose server defaults call functions and compute: create_all on SQLite failed.
struct Tagged {
  std::int64_t id = 0;
  std::optional<std::string> tag{};
  std::optional<std::int64_t> total{};
  std::optional<std::string> label{};
};

template <>
struct strata::Model<Tagged> {
  static constexpr auto table = "tagged";
  static auto columns() {
    using namespace strata;
    return mapping(column("id", &Tagged::id).primary_key(),
                   column("tag", &Tagged::tag).server_default("lower('X')"),
                   column("total", &Tagged::total).server_default("1 + 1"),
                   column("label", &Tagged::label).server_default("(upper('y'))"));
  }
};

using namespace strata;
using namespace strata::migrate;
using namespace strata::migrate::scratch;

namespace {

class MigrateSchemaOps : public ::testing::TestWithParam<std::string> {};
INSTANTIATE_TEST_SUITE_P(backends, MigrateSchemaOps, ::testing::ValuesIn(urls()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           return param.param == "sqlite"
                                      ? std::string("sqlite_file")
                                      : engine::Url::parse(param.param).backend();
                         });

}  // namespace

// SQLite takes after DEFAULT only a literal or an expression in parentheses; strata wrote
// lower('X') as it was, and create_table, add_column and alter_column failed with
// near "(": syntax error. A default already in parentheses was and is taken as written.
TEST_P(MigrateSchemaOps, a_server_default_that_calls_a_function_or_computes_applies_and_db_check_stays_quiet) {
  Scratch s(GetParam());
  s.write(
      {CreateTableOp{table("event", {column("name", text), column("total", integer, true, "1 + 1"),
                                     column("label", text, true, "(lower('Y'))")})}});
  upgrade(s.config);
  EXPECT_EQ(s.drift(), "") << "after create_table";
  s.execute("INSERT INTO event (name) VALUES ('a')");
  EXPECT_EQ(s.count("SELECT count(*) FROM event WHERE total = 2 AND label = 'y'"), 1);

  s.write({AddColumnOp{"event", column("tag", text, true, "lower('X')"), std::nullopt}});
  upgrade(s.config);
  EXPECT_EQ(s.applied(), 2) << s.out.str();
  EXPECT_EQ(s.count("SELECT count(*) FROM event WHERE tag = 'x'"), 1) << "the rows got the default";
  EXPECT_EQ(s.drift(), "") << "after add_column";

  s.write({AlterColumnOp{"event", column("name", text), column("name", text, true, "upper('n')")}});
  upgrade(s.config);
  EXPECT_EQ(s.applied(), 3) << s.out.str();
  s.execute("INSERT INTO event (total) VALUES (5)");
  EXPECT_EQ(s.count("SELECT count(*) FROM event WHERE name = 'N'"), 1);
  EXPECT_EQ(s.drift(), "") << "after alter_column";

  downgrade(s.config);
  EXPECT_EQ(s.drift(), "") << "after the downgrade of alter_column";
  downgrade(s.config);
  EXPECT_EQ(s.drift(), "") << "after the downgrade of add_column";
  EXPECT_EQ(s.count("SELECT count(*) FROM event"), 2);
}

// docs/orm.md recommends this default for a DateTime on SQLite, to keep strata's width; the
// CREATE TABLE failed.
TEST_P(MigrateSchemaOps, the_strftime_server_default_docs_orm_md_recommends_creates_the_table) {
  if (GetParam() != "sqlite") GTEST_SKIP() << "strftime is SQLite's";
  Scratch s(GetParam());
  s.write({CreateTableOp{table("stamp", {column("at", {schema::TypeKind::datetime, {}}, true,
                                                "strftime('%Y-%m-%d %H:%M:%f000', 'now')")})}});
  upgrade(s.config);
  EXPECT_EQ(s.applied(), 1) << s.out.str();
  s.execute("INSERT INTO stamp (id) VALUES (1)");
  EXPECT_EQ(s.count("SELECT length(at) FROM stamp"), 26) << "the width strata writes";
  EXPECT_EQ(s.drift(), "");
}

// The same defaults through create_all and a model: the table is made, a row gets them, and
// db check (the models against the migrations that describe them, and the database made by
// create_all against those migrations) finds nothing to do.
TEST_P(MigrateSchemaOps, create_all_takes_a_server_default_that_calls_a_function_and_db_check_stays_quiet) {
  Scratch s(GetParam());
  Database db{s.config.url};
  db.register_models<Tagged>();
  db.create_all();
  Tagged row;
  db.session().add(row);
  db.session().commit();
  EXPECT_EQ(s.count("SELECT count(*) FROM tagged WHERE tag = 'x' AND total = 2 AND label = 'Y'"),
            1);

  s.config.models = {db.metadata().tables().begin(), db.metadata().tables().end()};
  s.config.has_models = true;
  s.write({CreateTableOp{s.config.models.front()}});
  stamp(s.config, "head");
  EXPECT_EQ(s.drift(), "");
  EXPECT_EQ(revision(s.config, "nothing", true), std::nullopt) << "autogenerate saw a change";
}

// A model whose foreign key names a table neither the models nor the migrations define (its
// model not registered): autogenerate wrote a migration that refers to a table no upgrade
// makes, which SQLite applied and PostgreSQL refused.
TEST_P(MigrateSchemaOps, autogenerate_refuses_a_foreign_key_to_a_table_nobody_defines) {
  Scratch s(GetParam());
  schema::Table child = table("child", {column("parent_id", integer)});
  child.foreign_keys = {{"fk_child_parent_id_parent", {"parent_id"}, "parent", {"id"}}};
  s.config.models = {child};
  s.config.has_models = true;
  try {
    revision(s.config, "child", true);
    ADD_FAILURE() << "autogenerate wrote a migration";
  } catch (const CommandError& e) {
    EXPECT_NE(std::string(e.what()).find("refers to table 'parent', which neither the models nor "
                                         "the migrations define"),
              std::string::npos)
        << e.what();
  }
  // A table the migrations make is one to refer to.
  s.write({CreateTableOp{table("parent", {})}});
  EXPECT_NE(revision(s.config, "child", true), std::nullopt);
}

// SQLite's RENAME COLUMN writes the new name quoted wherever the old one was quoted, so a
// rename to a name that needs quotes and back left ("qty" >= 0) in the check, which db check
// found different from the migrations' (qty >= 0); a rename of the table and back left
// "item".qty. "Qty" stays a different name from qty: only a bare spelling that names the same
// column compares equal.
TEST_P(MigrateSchemaOps, a_rename_to_a_name_that_needs_quotes_and_back_keeps_db_check_quiet) {
  for (const std::string to : {"Qty", "order", "in stock", "größe"}) {
    SCOPED_TRACE(to);
    Scratch s(GetParam());
    schema::Table item = table("item", {column("qty", integer)});
    item.checks = {{"ck_item_qty", "qty >= 0 AND item.qty < 100"}};
    item.indexes = {{"ix_item_qty", {"qty"}, false}};
    s.write({CreateTableOp{item}});
    upgrade(s.config);
    s.execute("INSERT INTO item (qty) VALUES (3)");
    s.write({RenameColumnOp{"item", "qty", to}});
    upgrade(s.config);
    EXPECT_EQ(s.drift(), "") << "after the upgrade";
    downgrade(s.config);
    EXPECT_EQ(s.count("SELECT qty FROM item"), 3);
    EXPECT_EQ(s.drift(), "") << "after the downgrade";
  }
}

TEST_P(MigrateSchemaOps, a_rename_of_a_table_and_back_keeps_db_check_quiet) {
  Scratch s(GetParam());
  schema::Table item = table("item", {column("qty", integer)});
  item.checks = {{"ck_item_qty", "item.qty >= 0"}};
  s.write({CreateTableOp{item}});
  upgrade(s.config);
  s.write({RenameTableOp{"item", "stock"}});
  upgrade(s.config);
  EXPECT_EQ(s.drift(), "") << "after the upgrade";
  downgrade(s.config);
  EXPECT_EQ(s.drift(), "") << "after the downgrade";
}

// The migrations' state wrote qty$1 bare into the check, as a plain name; the dialect quotes
// it (only [a-z_][a-z0-9_]* goes bare), so the database held "qty$1" and db check reported the
// difference right after a clean upgrade.
TEST_P(MigrateSchemaOps, a_rename_to_a_name_with_a_dollar_keeps_db_check_quiet) {
  Scratch s(GetParam());
  schema::Table item = table("item", {column("qty", integer)});
  item.checks = {{"ck_item_qty", "qty >= 0"}};
  s.write({CreateTableOp{item}});
  upgrade(s.config);
  s.write({RenameColumnOp{"item", "qty", "qty$1"}});
  upgrade(s.config);
  EXPECT_EQ(s.drift(), "") << "after the upgrade";
  downgrade(s.config);
  EXPECT_EQ(s.drift(), "") << "after the downgrade";
}

// PostgreSQL refuses to drop a table that a view uses; SQLite dropped it and kept the view,
// broken, and every later migration that renamed or rebuilt any table then failed on it
// ("error in view v_scratch: no such table: main.scratch"). Both now refuse the drop.
TEST_P(MigrateSchemaOps, dropping_a_table_a_view_uses_is_refused_on_every_backend) {
  Scratch s(GetParam());
  schema::Table scratch = table("scratch", {column("n", integer)});
  s.write({CreateTableOp{author()}, CreateTableOp{scratch},
           ExecuteOp{{{"*", "CREATE VIEW v_scratch AS SELECT n FROM scratch"}},
                     {{"*", "DROP VIEW v_scratch"}}, false}});
  upgrade(s.config);
  s.write({DropTableOp{scratch}}, {CreateTableOp{scratch}});
  const std::string error = s.error_of([&] { upgrade(s.config); });
  EXPECT_NE(error.find("v_scratch"), std::string::npos) << error;
  if (GetParam() == "sqlite") {
    EXPECT_NE(error.find("view 'v_scratch' uses table 'scratch'; drop it first"), std::string::npos)
        << error;
  }
  EXPECT_EQ(s.applied(), 1) << "the drop went through";
  EXPECT_EQ(s.count("SELECT count(*) FROM v_scratch"), 0);
}

// The same for a trigger of another table that writes to it (PostgreSQL has no such trigger
// body, so SQLite alone); the table's own triggers go with it.
TEST_P(MigrateSchemaOps, dropping_a_table_another_tables_trigger_uses_is_refused) {
  if (GetParam() != "sqlite") GTEST_SKIP() << "a trigger body of SQL statements is SQLite's";
  Scratch s(GetParam());
  schema::Table scratch = table("scratch", {column("n", integer)});
  s.write({CreateTableOp{author()}, CreateTableOp{scratch},
           ExecuteOp{{{"*", "CREATE TRIGGER tr_author_count AFTER INSERT ON author BEGIN "
                            "INSERT INTO scratch (n) VALUES (1); END"}},
                     {{"*", "DROP TRIGGER tr_author_count"}}, false},
           ExecuteOp{{{"*", "CREATE TRIGGER tr_scratch_own AFTER INSERT ON scratch BEGIN "
                            "SELECT 1; END"}},
                     {{"*", "DROP TRIGGER tr_scratch_own"}}, false}});
  upgrade(s.config);
  s.write({DropTableOp{scratch}}, {CreateTableOp{scratch}});
  const std::string error = s.error_of([&] { upgrade(s.config); });
  EXPECT_NE(error.find("trigger 'tr_author_count' uses table 'scratch'; drop it first"),
            std::string::npos)
      << error;
  EXPECT_EQ(error.find("tr_scratch_own"), std::string::npos) << "its own trigger goes with it";
  EXPECT_EQ(s.applied(), 1);

  s.execute("DROP TRIGGER tr_author_count");
  upgrade(s.config);
  EXPECT_EQ(s.applied(), 2) << "a table whose own trigger is all that names it is dropped";
}

// PostgreSQL cut a name longer than 63 bytes short without a word: db check then found the
// index under another name right after the upgrade, and two names sharing their first 63
// bytes collided ("relation already exists"), where SQLite took both. Such a name is refused
// on every backend before anything runs; one of 63 bytes is taken whole.
TEST_P(MigrateSchemaOps, a_name_longer_than_63_bytes_is_refused_on_every_backend) {
  Scratch s(GetParam());
  s.write({CreateTableOp{table("item", {column("a", integer), column("b", integer)})}});
  upgrade(s.config);
  const std::string longest = "ix_item_" + std::string(55, 'a');
  ASSERT_EQ(longest.size(), 63u);
  s.write({CreateIndexOp{"item", {longest, {"a"}, false}},
           CreateIndexOp{"item", {longest + "_2", {"b"}, false}}});
  const std::string error = s.error_of([&] { upgrade(s.config); });
  EXPECT_NE(error.find("): index name '" + longest +
                       "_2' is 65 bytes long, past the limit of 63 bytes (PostgreSQL's, which "
                       "would cut it short); give it a shorter name"),
            std::string::npos)
      << error;
  EXPECT_EQ(s.applied(), 1);
  EXPECT_EQ(s.drift(), "") << "the first index was not made either";
}

TEST_P(MigrateSchemaOps, a_name_of_63_bytes_is_taken_whole_and_db_check_stays_quiet) {
  Scratch s(GetParam());
  const std::string longest = std::string(63, 'c');
  schema::Table item = table("item", {column(longest, integer)});
  item.checks = {{"ck_" + std::string(60, 'q'), longest + " >= 0"}};
  s.write({CreateTableOp{item},
           CreateIndexOp{"item", {"ix_item_" + std::string(55, 'a'), {longest}, false}}});
  upgrade(s.config);
  EXPECT_EQ(s.applied(), 1) << s.out.str();
  EXPECT_EQ(s.drift(), "");
}
