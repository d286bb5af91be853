// Drift (`db check`) on a real SQLite database: a database made from the chain's tables agrees
// with it, and each kind of change made by hand — an added column, a dropped index, a changed
// nullability or type, a table made by hand, a changed primary key, a renamed or redefined
// constraint, a type strata does not write — is one line naming the table and the object.
// Also check() itself: the lines on its output, one error counting them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "strata/dialect/dialect.hpp"
#include "strata/migrate/commands.hpp"
#include "strata/migrate/drift.hpp"
#include "strata/migrate/errors.hpp"
#include "strata/migrate/runtime.hpp"
#include "strata/strata.hpp"

#include "backend.hpp"
#include "unit/dialect/ddl_fixtures.hpp"

namespace strata::migrate {
namespace {

namespace fs = std::filesystem;
using Lines = std::vector<std::string>;

schema::Column column(std::string name, schema::Type type, bool nullable = false) {
  return schema::Column{std::move(name), type, nullable, false, false, {}};
}

// user(id, email UNIQUE, name INDEX, bio NULL, active DEFAULT 1) <- post(user_id FK, CHECK).
std::vector<schema::Table> tables() {
  schema::Table user;
  user.name = "user";
  auto id = column("id", {schema::TypeKind::big_integer, {}});
  id.primary_key = id.autoincrement = true;
  user.columns = {id, column("email", {schema::TypeKind::string, 120}),
                  column("name", {schema::TypeKind::string, 64}),
                  column("bio", {schema::TypeKind::text, {}}, true),
                  column("active", {schema::TypeKind::boolean, {}})};
  user.columns[4].server_default = "1";
  user.uniques.push_back({"", {"email"}});
  user.indexes.push_back({"", {"name"}, false});

  schema::Table post;
  post.name = "post";
  id.type = {schema::TypeKind::integer, {}};
  post.columns = {id, column("user_id", {schema::TypeKind::big_integer, {}}),
                  column("body", {schema::TypeKind::string, 140})};
  post.foreign_keys.push_back({"", {"user_id"}, "user", {"id"}, schema::ReferentialAction::cascade, {}});
  post.checks.push_back({"body_not_empty", "length(body) > 0"});

  schema::MetaData md;
  md.add(std::move(user));
  md.add(std::move(post));
  return {md.tables().begin(), md.tables().end()};
}

class Drift : public ::testing::Test {
 protected:
  void SetUp() override {
    const engine::Url url = engine::Url::parse("sqlite://");
    dialect_ = dialect::for_url(url);
    conn_ = dialect_->connect(url, {});
    for (const schema::Table& t : tables()) {
      chain_.apply(CreateTableOp{t});
      for (const std::string& s : dialect_->create_table_sql(t)) conn_->execute(s);
    }
    Ledger(*dialect_).ensure(*conn_);
  }
  Lines drift_now() { return drift(chain_, dialect_->reflect(*conn_), *dialect_); }

  std::shared_ptr<dialect::Dialect> dialect_;
  std::unique_ptr<engine::Connection> conn_;
  SchemaState chain_;
};

TEST_F(Drift, a_database_made_from_the_chain_agrees_with_it_ledger_and_all) {
  EXPECT_EQ(drift_now(), Lines{});
}

TEST_F(Drift, a_column_added_by_hand_is_reported) {
  conn_->execute("ALTER TABLE user ADD COLUMN nickname VARCHAR(20)");
  EXPECT_EQ(drift_now(),
            Lines{"table 'user': column 'nickname' is in the database but not in the migrations"});
}

TEST_F(Drift, a_dropped_index_and_a_dropped_column_are_reported) {
  conn_->execute("DROP INDEX ix_user_name");
  conn_->execute("ALTER TABLE user DROP COLUMN bio");
  EXPECT_EQ(drift_now(),
            (Lines{"table 'user': column 'bio' is in the migrations but not in the database",
                   "table 'user': index 'ix_user_name' (name) is in the migrations but not in "
                   "the database"}));
}

TEST_F(Drift, changed_nullability_type_and_default_are_one_line_each) {
  conn_->execute("PRAGMA foreign_keys = OFF");
  conn_->execute("DROP TABLE user");
  conn_->execute(
      "CREATE TABLE user (id INTEGER NOT NULL, email VARCHAR(200) NOT NULL, name VARCHAR(64) "
      "NOT NULL, bio TEXT NOT NULL, active BOOLEAN NOT NULL, CONSTRAINT pk_user PRIMARY KEY (id), "
      "CONSTRAINT uq_user_email UNIQUE (email))");
  conn_->execute("CREATE INDEX ix_user_name ON user (name)");
  EXPECT_EQ(drift_now(),
            (Lines{"table 'user': column 'active' has default 1 in the migrations but no "
                   "default in the database",
                   "table 'user': column 'bio' is nullable in the migrations but NOT NULL in "
                   "the database",
                   "table 'user': column 'email' is VARCHAR(120) in the migrations but "
                   "VARCHAR(200) in the database"}));
}

TEST_F(Drift, a_table_made_by_hand_is_one_line_whatever_it_holds) {
  conn_->execute("CREATE TABLE note (id INT PRIMARY KEY, price NUMERIC, UNIQUE (price))");
  EXPECT_EQ(drift_now(), Lines{"table 'note' is in the database but not in the migrations"});
  conn_->execute("DROP TABLE post");
  EXPECT_EQ(drift_now(), (Lines{"table 'note' is in the database but not in the migrations",
                                "table 'post' is in the migrations but not in the database"}));
}

TEST_F(Drift, constraints_renamed_unnamed_or_redefined_are_shown_with_their_definitions) {
  conn_->execute("PRAGMA foreign_keys = OFF");
  conn_->execute("DROP TABLE post");
  conn_->execute(
      "CREATE TABLE post (id INTEGER NOT NULL, user_id BIGINT NOT NULL, body VARCHAR(140) NOT "
      "NULL, CONSTRAINT pk_post PRIMARY KEY (id), FOREIGN KEY(user_id) REFERENCES user (id), "
      "CONSTRAINT ck_post_body_not_empty CHECK (length(body) > 1))");
  EXPECT_EQ(drift_now(),
            (Lines{"table 'post': check constraint 'ck_post_body_not_empty' is (length(body) > 0) "
                   "in the migrations but (length(body) > 1) in the database",
                   "table 'post': foreign key 'fk_post_user_id_user' (user_id) -> user (id) ON "
                   "DELETE CASCADE is in the migrations but not in the database",
                   "table 'post': unnamed foreign key (user_id) -> user (id) is in the database "
                   "but not in the migrations"}));
}

TEST_F(Drift, a_changed_primary_key_is_one_line) {
  conn_->execute("PRAGMA foreign_keys = OFF");
  conn_->execute("DROP TABLE post");
  conn_->execute(
      "CREATE TABLE post (id INTEGER NOT NULL, user_id BIGINT NOT NULL, body VARCHAR(140) NOT "
      "NULL, CONSTRAINT pk_post PRIMARY KEY (id, user_id), CONSTRAINT fk_post_user_id_user "
      "FOREIGN KEY(user_id) REFERENCES user (id) ON DELETE CASCADE, CONSTRAINT "
      "ck_post_body_not_empty CHECK (length(body) > 0))");
  EXPECT_EQ(drift_now(),
            (Lines{"table 'post': column 'id' is autoincrement in the migrations but not in the "
                   "database",
                   "table 'post': primary key is 'pk_post' (id) in the migrations but 'pk_post' "
                   "(id, user_id) in the database"}));
}

// What a migration about to run is refused (here a foreign key to a column nothing keeps
// unique, made by hand) is reported by db check, not thrown.
TEST_F(Drift, a_foreign_key_to_a_column_not_unique_made_by_hand_is_reported) {
  conn_->execute(
      "CREATE TABLE note (id INTEGER NOT NULL, author_name VARCHAR(64), CONSTRAINT pk_note "
      "PRIMARY KEY (id), CONSTRAINT fk_note_author_name_user FOREIGN KEY(author_name) "
      "REFERENCES user (name))");
  EXPECT_EQ(drift_now(), Lines{"table 'note' is in the database but not in the migrations"});
  schema::Table note;
  note.name = "note";
  auto id = column("id", {schema::TypeKind::integer, {}});
  id.primary_key = id.autoincrement = true;
  note.columns = {id, column("author_name", {schema::TypeKind::string, 64}, true)};
  note.primary_key = {"pk_note", {"id"}};
  SchemaState replayed = chain_;
  replayed.set_checks(SchemaState::Checks::replay);  // as a history folds
  note.foreign_keys.push_back({"fk_note_author_name_user", {"author_name"}, "user", {"name"},
                               schema::ReferentialAction::no_action,
                               schema::ReferentialAction::no_action});
  replayed.apply(CreateTableOp{note});
  EXPECT_NO_THROW(drift(replayed, dialect_->reflect(*conn_), *dialect_));
}

TEST_F(Drift, a_type_strata_does_not_write_is_reported_even_when_its_affinity_matches) {
  conn_->execute("ALTER TABLE post ADD COLUMN views INT");
  chain_.apply(AddColumnOp{"post", column("views", {schema::TypeKind::integer, {}}, true), {}});
  EXPECT_EQ(drift_now(), Lines{"table 'post': column 'views' has type 'INT', which strata does "
                               "not write; read as INTEGER"});
}

// PostgreSQL rewrites check conditions and defaults ("'x'::character varying"): drift compares
// them in the dialect's comparable_sql() form, so a rewritten text is the same and a changed one
// is a line. Pure: the catalog's texts are written here as PostgreSQL 15 returns them.
TEST(DriftSupport, what_the_database_rewrites_is_compared_in_its_comparable_form) {
  const auto d = dialect::for_url(engine::Url::parse("postgresql://h/db"));
  schema::Table t;
  t.name = "t";
  t.columns = {column("a", {schema::TypeKind::string, 10}), column("b", {schema::TypeKind::string, 20}),
               column("c", {schema::TypeKind::integer, {}}, true),
               column("d", {schema::TypeKind::boolean, {}}), column("e", {schema::TypeKind::integer, {}})};
  t.columns[0].server_default = "'x'";
  t.columns[1].server_default = "'y'";
  t.columns[3].server_default = "0";
  t.columns[4].server_default = "-1";
  t.primary_key = {"pk_t", {"a"}};
  t.columns[0].primary_key = true;
  t.checks = {{"ck_t_a", "a <> ''"}, {"ck_t_b", "b IN ('p', 'q')"}, {"ck_t_e", "e BETWEEN 1 AND 5"}};
  SchemaState chain;
  chain.apply(CreateTableOp{t});

  dialect::ReflectedSchema live;
  schema::Table db = d->reflected_form(t);
  db.columns[0].server_default = "'x'::character varying";  // rewritten: the same
  db.columns[1].server_default.reset();                      // gone: a difference
  db.columns[2].server_default = "0";                        // new: a difference
  db.columns[3].server_default = "false";                    // as column_sql() spells 0
  db.columns[4].server_default = "'-1'::integer";            // rewritten: the same
  db.checks[0].sqltext = "((a)::text <> ''::text)";           // rewritten: the same
  db.checks[1].sqltext =
      "((b)::text = ANY ((ARRAY['p'::character varying, 'q'::character varying])::text[]))";
  db.checks[2].sqltext = "((e >= 1) AND (e <= 5))";
  live.tables = {db};
  EXPECT_EQ(drift(chain, live, *d),
            (Lines{"table 't': column 'b' has default 'y' in the migrations but no default in "
                   "the database",
                   "table 't': column 'c' has no default in the migrations but default 0 in the "
                   "database"}))
      << "a text the server merely rewrote was reported as a difference";

  db.columns[0].server_default = "'z'::character varying";
  db.columns[3].server_default = "true";
  db.checks[0].sqltext = "((a)::text <> 'none'::text)";
  db.checks[2].sqltext = "((e >= 1) AND (e <= 6))";
  live.tables = {db};
  EXPECT_EQ(drift(chain, live, *d),
            (Lines{"table 't': check constraint 'ck_t_a' is (a <> '') in the migrations but "
                   "((a)::text <> 'none'::text) in the database",
                   "table 't': check constraint 'ck_t_e' is (e BETWEEN 1 AND 5) in the migrations "
                   "but ((e >= 1) AND (e <= 6)) in the database",
                   "table 't': column 'a' has default 'x' in the migrations but default "
                   "'z'::character varying in the database",
                   "table 't': column 'b' has default 'y' in the migrations but no default in "
                   "the database",
                   "table 't': column 'c' has no default in the migrations but default 0 in the "
                   "database",
                   "table 't': column 'd' has default false in the migrations but default true "
                   "in the database"}))
      << "a changed default or check condition went unreported";
}

TEST(DriftCheck, check_lists_the_differences_and_fails_with_one_line) {
  const fs::path dir = fs::temp_directory_path() / ("strata_drift_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  std::ostringstream out;
  Config config;
  config.directory = dir / "migrations";
  config.url = "sqlite:///" + (dir / "app.db").string();
  config.out = &out;
  init(config);
  Migration m;
  m.revision = "aaaa00000001";
  m.message = "user";
  m.upgrade = {CreateTableOp{tables()[0]}};
  m.downgrade = reverse(m.upgrade);
  ScriptDirectory::load(config.directory).write(m);
  upgrade(config);
  check(config);
  EXPECT_NE(out.str().find("No differences"), std::string::npos) << out.str();

  {
    auto d = dialect::for_url(engine::Url::parse(config.url));
    auto conn = d->connect(engine::Url::parse(config.url), {});
    conn->execute("ALTER TABLE user ADD COLUMN bio2 TEXT");
  }
  out.str("");
  try {
    check(config);
    ADD_FAILURE() << "check passed with a column added by hand";
  } catch (const CommandError& e) {
    EXPECT_EQ(std::string(e.what()),
              "the database differs from the migrations at aaaa00000001: 1 difference (listed "
              "above); undo the change, or write a migration that makes it and `db stamp` the "
              "database to that migration");
  }
  EXPECT_EQ(out.str(),
            "The models were not compared: the standalone tool has none (the app's `db check` "
            "compares them too).\n"
            "table 'user': column 'bio2' is in the database but not in the migrations\n");
  fs::remove_all(dir);
}

// The same checks on every backend of STRATA_TEST_URLS that keeps its data between
// connections (a SQLite file, a PostgreSQL database emptied first), with SQL spelled through
// the dialect: reflection reads back what create_table_sql() wrote, and hand-made changes show.
class LiveDrift : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    url_ = GetParam();
    if (url_ == "sqlite") {
      dir_ = fs::temp_directory_path() / ("strata_live_drift_" + std::to_string(::getpid()));
      fs::remove_all(dir_);
      fs::create_directories(dir_);
      url_ = "sqlite:///" + (dir_ / "app.db").string();
    }
    const engine::Url url = engine::Url::parse(url_);
    dialect_ = dialect::for_url(url);
    conn_ = dialect_->connect(url, {});
    if (dialect_->name() != "sqlite") {
      // The server's database is shared by the suite: start from no tables.
      Database db{url_};
      auto& s = db.session();
      auto names = s.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()");
      for (const auto& row : names.rows)
        s.execute("DROP TABLE IF EXISTS " + db.dialect().quote(row.get<std::string>(0)) + " CASCADE");
      s.commit();
    }
    for (const schema::Table& t : tables()) {
      chain_.apply(CreateTableOp{t});
      for (const std::string& stmt : dialect_->create_table_sql(t)) conn_->execute(stmt);
    }
    Ledger(*dialect_).ensure(*conn_);
  }
  void TearDown() override {
    conn_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string q(std::string_view name) const { return dialect_->quote(name); }
  Lines drift_now() { return drift(chain_, dialect_->reflect(*conn_), *dialect_); }

  std::string url_;
  fs::path dir_;
  std::shared_ptr<dialect::Dialect> dialect_;
  std::unique_ptr<engine::Connection> conn_;
  SchemaState chain_;
};

std::vector<std::string> live_urls() {
  std::vector<std::string> out;
  for (const auto& url : backend::test_urls()) {
    const bool sqlite = engine::Url::parse(url).backend() == "sqlite";
    if (!sqlite) out.push_back(url);
    else if (std::find(out.begin(), out.end(), "sqlite") == out.end()) out.push_back("sqlite");
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(backends, LiveDrift, ::testing::ValuesIn(live_urls()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           return param.param == "sqlite" ? std::string("sqlite_file")
                                                          : engine::Url::parse(param.param).backend();
                         });

TEST_P(LiveDrift, reflection_reads_back_what_create_table_wrote) {
  const auto live = dialect_->reflect(*conn_);
  EXPECT_TRUE(live.problems.empty()) << live.problems.front().table << ": " << live.problems.front().message;
  for (const schema::Table& t : tables()) {
    const auto it = std::find_if(live.tables.begin(), live.tables.end(),
                                 [&](const schema::Table& r) { return r.name == t.name; });
    ASSERT_NE(it, live.tables.end()) << t.name;
    schema::Table expected = dialect_->reflected_form(t);
    schema::Table got = *it;
    const auto support = dialect_->reflection_support();
    for (std::size_t i = 0; i < got.columns.size() && i < expected.columns.size(); ++i) {
      if (!support.server_default_text) {
        EXPECT_EQ(got.columns[i].server_default.has_value(),
                  expected.columns[i].server_default.has_value())
            << t.name << "." << got.columns[i].name;
        got.columns[i].server_default = expected.columns[i].server_default;
      }
    }
    if (!support.check_text) {
      ASSERT_EQ(got.checks.size(), expected.checks.size()) << t.name;
      for (std::size_t i = 0; i < got.checks.size(); ++i) got.checks[i].sqltext = expected.checks[i].sqltext;
    }
    EXPECT_EQ(got.columns, expected.columns) << t.name;
    EXPECT_EQ(got.primary_key, expected.primary_key) << t.name;
    EXPECT_EQ(got.indexes, expected.indexes) << t.name;
    EXPECT_EQ(got.uniques, expected.uniques) << t.name;
    EXPECT_EQ(got.foreign_keys, expected.foreign_keys) << t.name;
    EXPECT_EQ(got.checks, expected.checks) << t.name;
  }
  EXPECT_EQ(drift_now(), Lines{});
}

TEST_P(LiveDrift, a_column_added_and_an_index_dropped_by_hand_are_one_line_each) {
  conn_->execute("ALTER TABLE " + q("user") + " ADD COLUMN nickname VARCHAR(20)");
  conn_->execute("DROP INDEX ix_user_name");
  EXPECT_EQ(drift_now(),
            (Lines{"table 'user': column 'nickname' is in the database but not in the migrations",
                   "table 'user': index 'ix_user_name' (name) is in the migrations but not in "
                   "the database"}));
}

TEST_P(LiveDrift, a_table_made_by_hand_is_reported) {
  conn_->execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
  const Lines lines = drift_now();
  ASSERT_EQ(lines.size(), 1u) << ::testing::PrintToString(lines);
  EXPECT_NE(lines[0].find("'notes'"), std::string::npos) << lines[0];
}

TEST_P(LiveDrift, a_table_without_columns_is_reported_not_an_error) {
  // PostgreSQL has them; the comparison's fold refused them ("the table has no columns").
  if (dialect_->name() == "sqlite") GTEST_SKIP() << "SQLite tables have a column";
  conn_->execute("CREATE TABLE scratch ()");
  conn_->execute("ALTER TABLE " + q("post") +
                 " DROP COLUMN id, DROP COLUMN user_id, DROP COLUMN body");
  EXPECT_EQ(drift_now(),
            (Lines{"table 'post' has no columns in the database",
                   "table 'scratch' is in the database but not in the migrations"}));
}

TEST_P(LiveDrift, a_changed_server_default_or_check_condition_is_reported_and_an_unchanged_one_is_not) {
  // Defaults and conditions of the kinds PostgreSQL rewrites read back as the same.
  schema::Table t;
  t.name = "shapes";
  t.columns = {column("id", {schema::TypeKind::integer, {}}),
               column("label", {schema::TypeKind::string, 20}), column("kind", {schema::TypeKind::text, {}}),
               column("size", {schema::TypeKind::integer, {}}), column("ratio", {schema::TypeKind::float_, {}}),
               column("made", {schema::TypeKind::datetime, {}}), column("on", {schema::TypeKind::boolean, {}})};
  t.primary_key = {"pk_shapes", {"id"}};
  t.columns[0].primary_key = true;
  t.columns[1].server_default = "'it''s'";
  t.columns[2].server_default = "''";
  t.columns[3].server_default = "-1";
  t.columns[4].server_default = "1.5";
  t.columns[5].server_default = "CURRENT_TIMESTAMP";
  t.columns[6].server_default = "1";
  t.checks = {{"ck_shapes_label", "length(label) > 0"},
              {"ck_shapes_kind", "kind IN ('a', 'b') AND label <> kind"},
              {"ck_shapes_size", "size BETWEEN -1 AND 10 OR size IS NULL"},
              {"ck_shapes_ratio", "ratio >= 0.5"}};
  chain_.apply(CreateTableOp{t});
  for (const std::string& stmt : dialect_->create_table_sql(t)) conn_->execute(stmt);
  EXPECT_EQ(drift_now(), Lines{}) << "a default or condition the database rewrote was reported";

  if (dialect_->name() == "sqlite") return;  // SQLite cannot change a default or a check in place
  conn_->execute("ALTER TABLE " + q("user") + " ALTER COLUMN active SET DEFAULT false");
  conn_->execute("ALTER TABLE shapes ALTER COLUMN label SET DEFAULT 'its'");
  conn_->execute("ALTER TABLE post DROP CONSTRAINT ck_post_body_not_empty");
  conn_->execute("ALTER TABLE post ADD CONSTRAINT ck_post_body_not_empty CHECK (length(body) > 1)");
  EXPECT_EQ(drift_now(),
            (Lines{"table 'post': check constraint 'ck_post_body_not_empty' is (length(body) > 0) "
                   "in the migrations but (length((body)::text) > 1) in the database",
                   "table 'shapes': column 'label' has default 'it''s' in the migrations but "
                   "default 'its'::character varying in the database",
                   "table 'user': column 'active' has default true in the migrations but default "
                   "false in the database"}))
      << "a changed default or check condition went unreported";
}

TEST_P(LiveDrift, conditions_and_defaults_the_server_spells_its_own_way_read_back_as_the_same) {
  // Each of these made db check fail right after the upgrade that wrote it: PostgreSQL gives
  // LIKE back as ~~, BETWEEN on a call as >= AND <=, CAST as ::, a one-element IN as =, trim(s)
  // as TRIM(BOTH FROM s), .5 as 0.5, 1E+2 as '100'::numeric, '10:00' as '10:00:00'; SQLite's
  // reader took DEFAULT .5 for ".".
  schema::Table t;
  t.name = "spelled";
  using K = schema::TypeKind;
  t.columns = {column("id", {K::integer, {}}),        column("body", {K::text, {}}),
               column("label", {K::string, 20}),       column("size", {K::integer, {}}),
               column("half", {K::float_, {}}),        column("small", {K::float_, {}}),
               column("hundred", {K::float_, {}}),     column("made", {K::datetime, {}}),
               column("at", {K::time, {}}),            column("due", {K::datetime, {}})};
  t.primary_key = {"pk_spelled", {"id"}};
  t.columns[0].primary_key = true;
  t.columns[4].server_default = ".5";
  t.columns[5].server_default = "1.5e-3";
  t.columns[6].server_default = "1E+2";
  t.columns[7].server_default = "'2020-01-01'";
  t.columns[8].server_default = "'10:00'";
  t.columns[9].server_default = "'2020-01-01T10:00:00.500'";
  t.checks = {{"ck_spelled_body_like", "body LIKE 'a%'"},
              {"ck_spelled_body_not_like", "body NOT LIKE 'b%'"},
              {"ck_spelled_label_length", "length(label) BETWEEN 1 AND 5"},
              {"ck_spelled_size_text", "CAST(size AS TEXT) <> ''"},
              {"ck_spelled_label_in", "label IN ('a')"},
              {"ck_spelled_label_not_in", "label NOT IN ('x')"},
              {"ck_spelled_label_trim", "trim(label) <> ''"},
              {"ck_spelled_size_range", "(size + 1) BETWEEN 1 AND 5"}};
  if (dialect_->name() == "postgresql") {
    t.checks.push_back({"ck_spelled_body_ilike", "body ILIKE 'a%' AND body NOT ILIKE 'ab%'"});
    t.checks.push_back({"ck_spelled_label_chars", "char_length(label) NOT BETWEEN 6 AND 9"});
  }
  chain_.apply(CreateTableOp{t});
  for (const std::string& stmt : dialect_->create_table_sql(t)) conn_->execute(stmt);
  EXPECT_EQ(drift_now(), Lines{}) << "a condition or default the database respelled was reported";
}

TEST_P(LiveDrift, a_checked_column_renamed_to_a_keyword_reads_back_as_the_migrations_say) {
  // The migrations' state quotes a keyword of any backend in a check's text ("user" > 0);
  // SQLite writes the name into the check as RENAME COLUMN spelled it, which must match.
  schema::Table t;
  t.name = "stock";
  t.columns = {column("id", {schema::TypeKind::integer, {}}),
               column("qty", {schema::TypeKind::integer, {}})};
  t.columns[0].primary_key = true;
  t.primary_key = {"pk_stock", {"id"}};
  t.checks = {{"ck_stock_qty", "qty > 0"}};
  chain_.apply(CreateTableOp{t});
  for (const std::string& stmt : dialect_->create_table_sql(t)) conn_->execute(stmt);
  std::string from = "qty";
  for (const std::string to : {"user", "order", "amount"}) {
    const schema::Table before = *chain_.find("stock");
    chain_.apply(RenameColumnOp{"stock", from, to});
    const auto plan = dialect_->alter_table_sql(
        before, *chain_.find("stock"),
        dialect::TableChange{dialect::TableChange::Kind::rename_column, from, to});
    for (const std::string& stmt : plan.statements) conn_->execute(stmt);
    EXPECT_EQ(drift_now(), Lines{}) << "renamed to " << to;
    from = to;
  }
}

TEST_P(LiveDrift, a_check_qualified_by_its_tables_name_follows_a_rename_of_the_table) {
  // SQLite's RENAME TO writes the new name into the check ("ledger".qty > 0); the migrations'
  // state kept the old one, which db check found different and a later column rename missed.
  schema::Table t;
  t.name = "stock";
  t.columns = {column("id", {schema::TypeKind::integer, {}}),
               column("qty", {schema::TypeKind::integer, {}})};
  t.columns[0].primary_key = true;
  t.primary_key = {"pk_stock", {"id"}};
  t.checks = {{"ck_stock_qty", "stock.qty > 0 AND 'stock.qty' <> ''"}};
  chain_.apply(CreateTableOp{t});
  for (const std::string& stmt : dialect_->create_table_sql(t)) conn_->execute(stmt);
  const schema::Table before = *chain_.find("stock");
  chain_.apply(RenameTableOp{"stock", "ledger"});
  EXPECT_EQ(chain_.find("ledger")->checks.at(0).sqltext,
            "\"ledger\".qty > 0 AND 'stock.qty' <> ''");
  const auto plan = dialect_->alter_table_sql(
      before, *chain_.find("ledger"),
      dialect::TableChange{dialect::TableChange::Kind::rename_table, "stock", "ledger"});
  for (const std::string& stmt : plan.statements) conn_->execute(stmt);
  EXPECT_EQ(drift_now(), Lines{});
  // A column renamed after: the check follows it.
  const schema::Table renamed = *chain_.find("ledger");
  chain_.apply(RenameColumnOp{"ledger", "qty", "amount"});
  EXPECT_EQ(chain_.find("ledger")->checks.at(0).sqltext,
            "\"ledger\".amount > 0 AND 'stock.qty' <> ''");
  const auto rename_column = dialect_->alter_table_sql(
      renamed, *chain_.find("ledger"),
      dialect::TableChange{dialect::TableChange::Kind::rename_column, "qty", "amount"});
  for (const std::string& stmt : rename_column.statements) conn_->execute(stmt);
  EXPECT_EQ(drift_now(), Lines{});
}

}  // namespace
}  // namespace strata::migrate
