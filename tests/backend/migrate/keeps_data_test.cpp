// Migrations over tables that hold rows, on every backend of STRATA_TEST_URLS (a SQLite file
// of the test's own, the server's database emptied for PostgreSQL): what a migration does not
// ask to remove survives it, and a migration that cannot apply fails whole, saying why.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "strata/migrate/commands.hpp"
#include "strata/migrate/compare.hpp"
#include "strata/migrate/errors.hpp"
#include "strata/strata.hpp"

#include "backend.hpp"
#include "scratch.hpp"

namespace fs = std::filesystem;
using namespace strata;
using namespace strata::migrate;
using namespace strata::migrate::scratch;

namespace {

class MigrateKeepsData : public ::testing::TestWithParam<std::string> {};
INSTANTIATE_TEST_SUITE_P(backends, MigrateKeepsData, ::testing::ValuesIn(urls()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           return param.param == "sqlite"
                                      ? std::string("sqlite_file")
                                      : engine::Url::parse(param.param).backend();
                         });

// book(id, author_id -> author.id ON DELETE CASCADE, title).
schema::Table book() {
  schema::Table t = table("book", {column("author_id", integer, false), column("title", text)});
  t.foreign_keys = {{"fk_book_author_id_author", {"author_id"}, "author", {"id"},
                     schema::ReferentialAction::cascade, schema::ReferentialAction::no_action}};
  return t;
}

void fill_authors_and_books(const Scratch& s) {
  s.execute("INSERT INTO author (name) VALUES ('a'), ('b')");
  s.execute("INSERT INTO book (author_id, title) VALUES (1, 'x'), (1, 'y'), (2, 'z')");
}

}  // namespace

// SQLite's DROP TABLE deletes the rows first while foreign keys are on, so with ON DELETE
// CASCADE the books went with their authors' table (and the migration succeeded);
// PostgreSQL refuses the DROP. Both now refuse before anything runs, naming the reference.
TEST_P(MigrateKeepsData, dropping_a_table_that_another_refers_to_is_refused_and_keeps_its_rows) {
  Scratch s(GetParam());
  s.write({CreateTableOp{author()}, CreateTableOp{book()}});
  upgrade(s.config);
  fill_authors_and_books(s);
  s.write({DropTableOp{author()}}, {CreateTableOp{author()}});
  const std::string error = s.error_of([&] { upgrade(s.config); });
  EXPECT_NE(error.find("foreign key 'fk_book_author_id_author' of table 'book' refers to it"),
            std::string::npos)
      << error;
  EXPECT_EQ(s.count("SELECT count(*) FROM book"), 3) << "dropping 'author' deleted the books";
  EXPECT_EQ(s.applied(), 1);
}

// SQLite dropped the index, then the column natively, leaving the city's foreign key
// referring to nothing (every later write to city failed with "foreign key mismatch");
// PostgreSQL refuses to drop the index the foreign key needs. Both now refuse before anything
// runs, at the index.
TEST_P(MigrateKeepsData, dropping_a_column_another_table_refers_to_is_refused) {
  Scratch s(GetParam());
  const schema::Type code{schema::TypeKind::string, 2};
  schema::Table country = table("country", {column("code", code)});
  country.indexes = {{"ix_country_code", {"code"}, true}};
  schema::Table city = table("city", {column("country_code", code)});
  city.foreign_keys = {{"fk_city_country_code_country", {"country_code"}, "country", {"code"},
                        schema::ReferentialAction::cascade, schema::ReferentialAction::no_action}};
  s.write({CreateTableOp{country}, CreateTableOp{city}});
  upgrade(s.config);
  s.execute("INSERT INTO country (code) VALUES ('fr')");
  s.execute("INSERT INTO city (country_code) VALUES ('fr')");
  s.write({DropIndexOp{"country", country.indexes[0]},
           DropColumnOp{"country", column("code", code), 1}});
  const std::string error = s.error_of([&] { upgrade(s.config); });
  EXPECT_NE(error.find("drop index 'ix_country_code' on 'country': foreign key "
                       "'fk_city_country_code_country' of table 'city' refers to (code), which "
                       "this unique index makes unique; drop that foreign key first"),
            std::string::npos)
      << error;
  s.execute("INSERT INTO city (country_code) VALUES ('fr')");
  EXPECT_EQ(s.count("SELECT count(*) FROM city"), 2);
  EXPECT_EQ(s.applied(), 1);
}

// A foreign key to columns that nothing keeps unique: PostgreSQL refuses it ("there is no
// unique constraint matching given keys"); SQLite accepted it, and then every write to the
// city table failed with "foreign key mismatch". Both refuse it before anything runs, and the
// unique index that the same key needs cannot go once the key is there.
TEST_P(MigrateKeepsData, a_foreign_key_to_columns_not_kept_unique_is_refused) {
  Scratch s(GetParam());
  const schema::Type code{schema::TypeKind::string, 2};
  schema::Table country = table("country", {column("code", code)});
  schema::Table city = table("city", {column("country_code", code)});
  s.write({CreateTableOp{country}, CreateTableOp{city}});
  upgrade(s.config);
  s.execute("INSERT INTO country (code) VALUES ('fr')");
  const schema::ForeignKey key{"fk_city_country_code_country", {"country_code"}, "country",
                               {"code"}, schema::ReferentialAction::no_action,
                               schema::ReferentialAction::no_action};
  s.write({AddForeignKeyOp{"city", key}});
  const std::string error = s.error_of([&] { upgrade(s.config); });
  EXPECT_NE(error.find("foreign key 'fk_city_country_code_country' refers to (code) of table "
                       "'country', which is neither its primary key nor unique"),
            std::string::npos)
      << error;
  EXPECT_EQ(s.applied(), 1);
  s.execute("INSERT INTO city (country_code) VALUES ('fr')");  // writes still work
  EXPECT_EQ(s.count("SELECT count(*) FROM city"), 1);
}

// A table renamed by autogenerate (--rename author:writer) keeps its rows; its primary key and
// the foreign key referring to it move to the names the convention gives them, still
// enforced; the downgrade brings the old names back with the rows.
TEST_P(MigrateKeepsData, an_autogenerated_table_rename_keeps_the_rows_and_the_references) {
  Scratch s(GetParam());
  s.write({CreateTableOp{author()}, CreateTableOp{book()}});
  upgrade(s.config);
  fill_authors_and_books(s);

  schema::Table writer = author();
  writer.name = "writer";
  writer.primary_key.name = "pk_writer";
  schema::Table book_of_writer = book();
  book_of_writer.foreign_keys[0].name = "fk_book_author_id_writer";
  book_of_writer.foreign_keys[0].referred_table = "writer";
  CompareOptions options;
  options.renames = {{"author", "writer"}};
  const CompareResult diff =
      compare(ScriptDirectory::load(s.config.directory).state_at({"k10000000000"}),
              {writer, book_of_writer}, options);
  ASSERT_FALSE(diff.upgrade.empty());
  EXPECT_EQ(diff.upgrade.front(), (Operation{RenameTableOp{"author", "writer"}}));
  s.write(diff.upgrade);
  upgrade(s.config);
  EXPECT_EQ(s.applied(), 2) << s.out.str();
  EXPECT_EQ(s.count("SELECT count(*) FROM writer"), 2);
  EXPECT_EQ(s.count("SELECT count(*) FROM book"), 3);
  s.execute("DELETE FROM writer WHERE id = 2");  // ON DELETE CASCADE still holds
  EXPECT_EQ(s.count("SELECT count(*) FROM book"), 2);
  EXPECT_THROW(s.execute("INSERT INTO book (author_id, title) VALUES (9, 'w')"),
               IntegrityError);

  // The primary key has its new name in the database too, so a new table may take the old
  // one: on PostgreSQL, "pk_author" named the writer's key index until renamed.
  EXPECT_EQ(s.count(s.config.url.rfind("sqlite", 0) == 0
                        ? "SELECT count(*) FROM sqlite_master WHERE name = 'writer' AND "
                          "sql LIKE '%pk_writer%'"
                        : "SELECT count(*) FROM pg_constraint WHERE conname = 'pk_writer'"),
            1);
  s.write({CreateTableOp{author()}});
  upgrade(s.config);
  EXPECT_EQ(s.applied(), 3) << s.out.str();

  downgrade(s.config, "k10000000000");
  EXPECT_EQ(s.applied(), 1) << s.out.str();
  EXPECT_EQ(s.count("SELECT count(*) FROM author"), 1);
  EXPECT_EQ(s.count("SELECT count(*) FROM book"), 2);
}

// SQLite runs a migration that rebuilds a table with foreign keys off from start to end (it
// cannot switch them inside a transaction), so a DELETE of the migration's own does not
// cascade there: the check before commit fails, and the migration rolls back whole, saying
// why. PostgreSQL cascades as always.
TEST_P(MigrateKeepsData, a_delete_in_a_migration_that_rebuilds_a_table_says_why_it_did_not_cascade) {
  Scratch s(GetParam());
  s.write({CreateTableOp{author()}, CreateTableOp{book()}});
  upgrade(s.config);
  fill_authors_and_books(s);
  schema::Table before = book();
  schema::Column title_after = before.columns[2];
  title_after.type = {schema::TypeKind::string, 200};
  s.write({ExecuteOp{{{"*", "DELETE FROM author WHERE id = 1"}}, {{"*", "SELECT 1"}}, false},
           AlterColumnOp{"book", before.columns[2], title_after}});
  if (s.config.url.rfind("sqlite", 0) != 0) {
    upgrade(s.config);
    EXPECT_EQ(s.applied(), 2) << s.out.str();
    EXPECT_EQ(s.count("SELECT count(*) FROM book"), 1) << "the books of author 1 went with it";
    return;
  }
  const std::string error = s.error_of([&] { upgrade(s.config); });
  EXPECT_NE(error.find("rows of table 'book' refer to table 'author' but have no row to refer "
                       "to there after the change; this migration rebuilds table 'book', so "
                       "SQLite runs all of it with foreign keys off"),
            std::string::npos)
      << error;
  EXPECT_EQ(s.applied(), 1);
  EXPECT_EQ(s.count("SELECT count(*) FROM author"), 2) << "the migration rolled back whole";
  EXPECT_EQ(s.count("SELECT count(*) FROM book"), 3);
}

// PostgreSQL refused these type changes ("default for column cannot be cast automatically")
// whenever the column had a server default; SQLite rebuilds the table and copies the values.
TEST_P(MigrateKeepsData, a_type_change_of_a_column_with_a_default_converts_its_values) {
  Scratch s(GetParam());
  const schema::Type boolean{schema::TypeKind::boolean, {}};
  const schema::Type code{schema::TypeKind::string, 8};
  s.write({CreateTableOp{table("item", {column("flag", boolean, false, "false"),
                                        column("code", code, false, "'0'")})}});
  upgrade(s.config);
  s.execute("INSERT INTO item (flag, code) VALUES (true, '7'), (false, '8')");
  s.write({AlterColumnOp{"item", column("flag", boolean, false, "false"),
                         column("flag", integer, false, "0")},
           AlterColumnOp{"item", column("code", code, false, "'0'"),
                         column("code", integer, false, "0")}});
  upgrade(s.config);
  EXPECT_EQ(s.applied(), 2) << s.out.str();
  EXPECT_EQ(s.count("SELECT sum(flag) FROM item"), 1);
  EXPECT_EQ(s.count("SELECT sum(code) FROM item"), 15);
  s.execute("INSERT INTO item (id) VALUES (3)");
  EXPECT_EQ(s.count("SELECT flag + code FROM item WHERE id = 3"), 0) << "the defaults were lost";
  downgrade(s.config);
  EXPECT_EQ(s.count("SELECT count(*) FROM item WHERE flag"), 1);
}

// PostgreSQL refused to run the alter_column db migrate writes for it; an identity added back
// started at 1, below the rows' keys.
TEST_P(MigrateKeepsData, autoincrement_turned_off_and_back_on_keeps_the_rows_and_new_keys_follow) {
  Scratch s(GetParam());
  s.write({CreateTableOp{table("item", {column("name", text)})}});
  upgrade(s.config);
  s.execute("INSERT INTO item (name) VALUES ('a'), ('b')");
  schema::Column on = column("id", integer, false);
  on.primary_key = on.autoincrement = true;
  schema::Column off = on;
  off.autoincrement = false;
  s.write({AlterColumnOp{"item", on, off}});
  upgrade(s.config);
  EXPECT_EQ(s.applied(), 2) << s.out.str();
  s.execute("INSERT INTO item (id, name) VALUES (10, 'c')");
  downgrade(s.config);  // autoincrement again
  EXPECT_EQ(s.applied(), 1) << s.out.str();
  s.execute("INSERT INTO item (name) VALUES ('d')");
  EXPECT_EQ(s.count("SELECT id FROM item WHERE name = 'd'"), 11)
      << "the key handed out is not after the rows' keys";
  EXPECT_EQ(s.count("SELECT count(*) FROM item"), 4);
}

// PostgreSQL's cast of text to BYTEA reads backslashes as escapes ('a\\b' became 3 bytes,
// '\x41' the one byte "A"), and its cast back writes the bytes in hex: a Text to Blob change
// and its downgrade changed the values. Both go through the text's UTF-8 bytes now, as on SQLite.
TEST_P(MigrateKeepsData, text_to_blob_and_back_keeps_the_bytes) {
  Scratch s(GetParam());
  const schema::Type blob{schema::TypeKind::blob, {}};
  s.write({CreateTableOp{table("doc", {column("body", text)})}});
  upgrade(s.config);
  s.execute("INSERT INTO doc (body) VALUES ('a\\\\b'), ('\\x41'), ('h\u00e9llo')");
  s.write({AlterColumnOp{"doc", column("body", text), column("body", blob)}});
  upgrade(s.config);
  EXPECT_EQ(s.applied(), 2) << s.out.str();
  // (SQLite's length() of a blob counts its bytes.)
  const std::string bytes = engine::Url::parse(s.config.url).backend() == "sqlite"
                                ? "SELECT length(body) FROM doc WHERE id = "
                                : "SELECT octet_length(body) FROM doc WHERE id = ";
  EXPECT_EQ(s.count(bytes + "1"), 4);
  EXPECT_EQ(s.count(bytes + "2"), 4);
  EXPECT_EQ(s.count(bytes + "3"), 6);  // é is two bytes
  downgrade(s.config);
  EXPECT_EQ(s.applied(), 1) << s.out.str();
  EXPECT_EQ(s.count("SELECT count(*) FROM doc WHERE body = 'a\\\\b' OR body = '\\x41' OR "
                    "body = 'h\u00e9llo'"),
            3);
}

// Rows written while foreign keys were off (the sqlite3 shell's default) may refer to rows
// that are gone. A migration that rebuilds a table failed on them at its check before commit,
// whatever it changed; now only a reference it breaks itself stops it.
TEST_P(MigrateKeepsData, references_broken_before_a_rebuild_do_not_stop_it_and_new_ones_do) {
  Scratch s(GetParam());
  if (engine::Url::parse(s.config.url).backend() != "sqlite")
    GTEST_SKIP() << "SQLite's rebuilds run with foreign keys off and check them before commit";
  const schema::Column short_note = column("note", {schema::TypeKind::string, 10});
  const schema::Column long_note = column("note", {schema::TypeKind::string, 20});
  s.write({CreateTableOp{author()}, CreateTableOp{book()},
           CreateTableOp{table("other", {short_note})}});
  upgrade(s.config);
  fill_authors_and_books(s);
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((s.dir / "app.db").c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, "INSERT INTO book (author_id, title) VALUES (42, 'orphan')",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  s.write({AlterColumnOp{"other", short_note, long_note}});
  upgrade(s.config);
  EXPECT_EQ(s.applied(), 2) << s.out.str();
  EXPECT_NE(s.out.str().find("note: table 'book' has 1 row that refers to no row of table "
                             "'author', as before this migration"),
            std::string::npos)
      << s.out.str();
  // The table renamed: its broken row is the same one, under the new name.
  s.write({RenameTableOp{"book", "volume"}, AlterColumnOp{"other", long_note, short_note}});
  upgrade(s.config);
  EXPECT_EQ(s.applied(), 3) << s.out.str();
  EXPECT_NE(s.out.str().find("note: table 'volume' has 1 row that refers to no row of table "
                             "'author'"),
            std::string::npos)
      << s.out.str();
  // A migration that orphans a row still fails, and rolls back whole, even when it mends the
  // old broken reference (as many broken as before, but not the same one).
  s.write({ExecuteOp{{{"*", "DELETE FROM volume WHERE author_id = 42"}}, {{"*", "SELECT 1"}}, false},
           ExecuteOp{{{"*", "DELETE FROM author WHERE id = 2"}}, {{"*", "SELECT 1"}}, false},
           AlterColumnOp{"other", short_note, long_note}});
  const std::string error = s.error_of([&] { upgrade(s.config); });
  EXPECT_NE(error.find("rows of table 'volume' refer to table 'author' but have no row to refer "
                       "to there after the change"),
            std::string::npos)
      << error;
  EXPECT_EQ(s.applied(), 3);
  EXPECT_EQ(s.count("SELECT count(*) FROM author"), 2);
  EXPECT_EQ(s.count("SELECT count(*) FROM volume"), 4);
}

// A foreign key added over rows it does not hold for fails the migration. SQLite finds it in
// the foreign key check before commit, which the error called "its ledger update".
TEST_P(MigrateKeepsData, a_foreign_key_the_rows_break_fails_the_migration_and_says_where) {
  Scratch s(GetParam());
  s.write({CreateTableOp{author()}, CreateTableOp{table("note", {column("author_id", integer)})}});
  upgrade(s.config);
  s.execute("INSERT INTO author (name) VALUES ('a')");
  s.execute("INSERT INTO note (author_id) VALUES (1), (9)");
  s.write({AddForeignKeyOp{"note", {"fk_note_author_id_author", {"author_id"}, "author", {"id"}}}});
  const std::string error = s.error_of([&] { upgrade(s.config); });
  if (engine::Url::parse(s.config.url).backend() == "sqlite") {
    EXPECT_NE(error.find("failed at the foreign key check after its operations: rows of table "
                         "'note' refer to table 'author' but have no row to refer to there"),
              std::string::npos)
        << error;
  }
  EXPECT_NE(error.find("nothing of it was applied"), std::string::npos) << error;
  EXPECT_EQ(s.count("SELECT count(*) FROM note"), 2);
  EXPECT_EQ(s.applied(), 1);
}

// PostgreSQL's explicit cast to VARCHAR(n) cuts a longer value short without an error, and
// the type change cast so whenever the kind changed (TEXT or INTEGER to VARCHAR(n)): the
// values were cut and the migration succeeded. SQLite keeps the values whatever the length.
TEST_P(MigrateKeepsData, a_type_change_to_a_shorter_string_fails_rather_than_cut_values) {
  const schema::Type code{schema::TypeKind::string, 3};
  for (const auto& change : {AlterColumnOp{"note", column("body", text), column("body", code)},
                             AlterColumnOp{"note", column("n", integer), column("n", code)}}) {
    Scratch s(GetParam());
    s.write({CreateTableOp{table("note", {column("body", text), column("n", integer)})}});
    upgrade(s.config);
    s.execute("INSERT INTO note (body, n) VALUES ('abcdefghij', 12345), ('ab', 7)");
    s.write({change});
    if (engine::Url::parse(s.config.url).backend() == "postgresql") {
      const std::string error = s.error_of([&] { upgrade(s.config); });
      EXPECT_NE(error.find("value too long"), std::string::npos) << error;
      EXPECT_NE(error.find("nothing of it was applied"), std::string::npos) << error;
      EXPECT_EQ(s.applied(), 1);
    } else {
      upgrade(s.config);
      EXPECT_EQ(s.applied(), 2) << s.out.str();
    }
    EXPECT_EQ(s.count("SELECT count(*) FROM note WHERE body = 'abcdefghij'"), 1) << "cut short";
    EXPECT_EQ(s.count("SELECT count(*) FROM note WHERE CAST(n AS TEXT) = '12345'"), 1);
  }
}

// PostgreSQL takes a Boolean default as false / true, not SQLite's 0 / 1: CREATE TABLE and
// ADD COLUMN spelled it so, ALTER COLUMN ... SET DEFAULT did not, and the server refused it.
TEST_P(MigrateKeepsData, a_boolean_default_set_by_alter_column_is_spelled_for_the_database) {
  Scratch s(GetParam());
  const schema::Type boolean{schema::TypeKind::boolean, {}};
  s.write({CreateTableOp{table("flags", {column("active", boolean), column("n", integer, true, "0")})}});
  upgrade(s.config);
  s.execute("INSERT INTO flags (active, n) VALUES (NULL, 1)");
  s.write({AlterColumnOp{"flags", column("active", boolean), column("active", boolean, true, "1")},
           AlterColumnOp{"flags", column("n", integer, true, "0"), column("n", boolean, true, "0")}});
  upgrade(s.config);
  EXPECT_EQ(s.applied(), 2) << s.out.str();
  s.execute("INSERT INTO flags (id) VALUES (2)");
  EXPECT_EQ(s.count("SELECT count(*) FROM flags WHERE id = 2 AND active AND NOT n"), 1);
  EXPECT_EQ(s.count("SELECT count(*) FROM flags WHERE id = 1 AND n"), 1) << "1 became true";
  downgrade(s.config);
  EXPECT_EQ(s.applied(), 1) << s.out.str();
}

// PostgreSQL drops a check with a column it names, and SQLite's rebuild refuses the table
// then: the migrations' schema kept a check the database no longer had (or could not make).
TEST_P(MigrateKeepsData, dropping_a_column_a_check_names_is_refused_until_the_check_goes) {
  Scratch s(GetParam());
  schema::Table item = table("item", {column("qty", integer), column("name", text)});
  item.checks = {{"ck_item_qty", "qty > 0"}};
  s.write({CreateTableOp{item}});
  upgrade(s.config);
  s.execute("INSERT INTO item (qty, name) VALUES (3, 'a')");
  s.write({DropColumnOp{"item", column("qty", integer), 1}});
  const std::string error = s.error_of([&] { upgrade(s.config); });
  EXPECT_NE(error.find("the column is used by check constraint 'ck_item_qty'; drop that first"),
            std::string::npos)
      << error;
  EXPECT_EQ(s.count("SELECT qty FROM item"), 3);
  EXPECT_EQ(s.applied(), 1);
}

// A rename of a column named as a function (length) renamed the function in the check's text
// as well: the migrations' schema then held length(name) as qty_len(name).
TEST_P(MigrateKeepsData, renaming_a_column_named_as_a_function_leaves_the_function_alone) {
  Scratch s(GetParam());
  schema::Table item = table("item", {column("length", integer), column("name", text)});
  item.checks = {{"ck_item_length", "length(name) > 0 AND length > 0"}};
  s.write({CreateTableOp{item}});
  upgrade(s.config);
  s.execute("INSERT INTO item (length, name) VALUES (3, 'a')");
  // the rename, then a change that rebuilds the table on SQLite from the migrations' schema
  s.write({RenameColumnOp{"item", "length", "size"},
           AlterColumnOp{"item", column("name", text), column("name", text, false)}});
  upgrade(s.config);
  EXPECT_EQ(s.applied(), 2) << s.out.str();
  EXPECT_EQ(s.count("SELECT size FROM item"), 3);
  EXPECT_THROW(s.execute("INSERT INTO item (size, name) VALUES (1, '')"), IntegrityError)
      << "the check holds no more";
  downgrade(s.config);
  EXPECT_EQ(s.count("SELECT length FROM item"), 3);
}

// Type changes over rows, checked through a model of the table after the change: SQLite's
// rebuild copied the values without converting them, so that they kept their old storage
// class and text (text in a BLOB column, 2.5 in an INTEGER one, '2024-02-29' in a DATETIME
// one) and no longer loaded, or compared wrong; PostgreSQL refused the casts between
// booleans and numbers but INTEGER's, and dropped a UTC offset from text made a TIMESTAMP.
// Each conversion now gives the same values on both.

// thing(id, v) as a model whose v is a T, or NULL.
template <class T>
struct Thing {
  std::int64_t id = 0;
  std::optional<T> v{};
};
template <class T>
struct strata::Model<Thing<T>> {
  static constexpr auto table = "thing";
  static auto columns() {
    return mapping(column("id", &Thing<T>::id).primary_key(), column("v", &Thing<T>::v));
  }
};

namespace {

constexpr schema::Type small_integer{schema::TypeKind::small_integer, {}};
constexpr schema::Type big_integer{schema::TypeKind::big_integer, {}};
constexpr schema::Type float_{schema::TypeKind::float_, {}};
constexpr schema::Type boolean{schema::TypeKind::boolean, {}};
constexpr schema::Type blob{schema::TypeKind::blob, {}};
constexpr schema::Type date{schema::TypeKind::date, {}};
constexpr schema::Type time_of_day{schema::TypeKind::time, {}};
constexpr schema::Type datetime{schema::TypeKind::datetime, {}};

// thing(id, v of type `type`) made by a migration, holding `values` written through Thing<T>.
template <class T>
void make_things(Scratch& s, schema::Type type, const std::vector<std::optional<T>>& values) {
  s.write({CreateTableOp{table("thing", {column("v", type)})}});
  upgrade(s.config);
  Database db{s.config.url};
  db.register_models<Thing<T>>();
  for (const auto& v : values) db.session().add(Thing<T>{.v = v});
  db.session().commit();
}

// A migration that changes v from `from` to `to` (its downgrade back).
void change_thing(Scratch& s, schema::Type from, schema::Type to) {
  s.write({AlterColumnOp{"thing", column("v", from), column("v", to)}});
}

// v of every row, in the order of id, loaded through Thing<T>; a failure when they do not load.
template <class T>
std::vector<std::optional<T>> load_things(const Scratch& s) {
  Database db{s.config.url};
  db.register_models<Thing<T>>();
  std::vector<std::optional<T>> out;
  try {
    for (const auto& t : db.session().query<Thing<T>>().order_by(strata::asc(&Thing<T>::id)).all())
      out.push_back(t->v);
  } catch (const Error& e) {
    ADD_FAILURE() << "the rows do not load after the type change: " << e.what();
  }
  return out;
}

// How many rows have v == value, asked through Thing<T>.
template <class T>
std::int64_t count_things(const Scratch& s, const T& value) {
  Database db{s.config.url};
  db.register_models<Thing<T>>();
  return db.session().query<Thing<T>>().filter(strata::col(&Thing<T>::v) == value).count();
}

template <class T>
std::vector<std::string> iso(const std::vector<std::optional<T>>& values) {
  std::vector<std::string> out;
  for (const auto& v : values) out.push_back(v ? strata::to_iso(*v) : "NULL");
  return out;
}

strata::Blob bytes(std::string_view s) {
  strata::Blob out;
  for (char c : s) out.push_back(static_cast<std::byte>(c));
  return out;
}

}  // namespace

TEST_P(MigrateKeepsData, text_made_a_blob_and_back_loads_through_the_model) {
  Scratch s(GetParam());
  make_things<std::string>(s, text, {"abc", "h\u00e9", std::nullopt});
  change_thing(s, text, blob);
  upgrade(s.config);
  EXPECT_EQ(load_things<strata::Blob>(s),
            (std::vector<std::optional<strata::Blob>>{bytes("abc"), bytes("h\u00e9"), std::nullopt}));
  downgrade(s.config);
  EXPECT_EQ(s.applied(), 1) << s.out.str();
  EXPECT_EQ(load_things<std::string>(s),
            (std::vector<std::optional<std::string>>{"abc", "h\u00e9", std::nullopt}));
}

TEST_P(MigrateKeepsData, a_datetime_made_a_date_loads_and_made_a_datetime_again_is_found_at_midnight) {
  using namespace std::chrono;
  Scratch s(GetParam());
  make_things<strata::DateTime>(s, datetime, {sys_days{2024y / 2 / 29} + 13h, std::nullopt});
  change_thing(s, datetime, date);
  upgrade(s.config);
  EXPECT_EQ(iso(load_things<strata::Date>(s)), (std::vector<std::string>{"2024-02-29", "NULL"}));
  downgrade(s.config);
  EXPECT_EQ(iso(load_things<strata::DateTime>(s)),
            (std::vector<std::string>{"2024-02-29 00:00:00.000000", "NULL"}));
  EXPECT_EQ(count_things(s, strata::DateTime{sys_days{2024y / 2 / 29}}), 1)
      << "the date was not written as a date and time";
}

// PostgreSQL has no cast from TIME to TIMESTAMP: the downgrade fails there, and on SQLite too.
TEST_P(MigrateKeepsData, a_datetime_made_a_time_keeps_its_time_of_day) {
  using namespace std::chrono;
  Scratch s(GetParam());
  make_things<strata::DateTime>(s, datetime, {sys_days{2024y / 2 / 29} + 13h + 250ms});
  change_thing(s, datetime, time_of_day);
  upgrade(s.config);
  EXPECT_EQ(iso(load_things<strata::Time>(s)), (std::vector<std::string>{"13:00:00.250000"}));
  const std::string error = s.error_of([&] { downgrade(s.config); });
  EXPECT_NE(error.find("nothing of it was undone"), std::string::npos) << error;
  EXPECT_EQ(s.applied(), 2);
  EXPECT_EQ(iso(load_things<strata::Time>(s)), (std::vector<std::string>{"13:00:00.250000"}));
}

// As PostgreSQL's rint(): a tie goes to the even integer.
TEST_P(MigrateKeepsData, a_float_made_an_integer_rounds_half_to_even) {
  Scratch s(GetParam());
  make_things<double>(s, float_, {2.5, 3.5, -2.5, 7.0, 2.4999, std::nullopt});
  change_thing(s, float_, integer);
  upgrade(s.config);
  EXPECT_EQ(load_things<std::int32_t>(s),
            (std::vector<std::optional<std::int32_t>>{2, 4, -2, 7, 2, std::nullopt}));
  downgrade(s.config);
  EXPECT_EQ(load_things<double>(s),
            (std::vector<std::optional<double>>{2.0, 4.0, -2.0, 7.0, 2.0, std::nullopt}));
}

// SQLite's own text of a real has 15 digits ('0.3' for 0.1 + 0.2); PostgreSQL writes the
// shortest that reads back as the same number.
TEST_P(MigrateKeepsData, a_float_made_text_keeps_every_digit_as_postgresql_writes_it) {
  Scratch s(GetParam());
  const std::vector<std::optional<double>> values{0.1 + 0.2, 0.1, 1e300, 2.5, -7.0, std::nullopt};
  make_things<double>(s, float_, values);
  change_thing(s, float_, text);
  upgrade(s.config);
  EXPECT_EQ(load_things<std::string>(s),
            (std::vector<std::optional<std::string>>{"0.30000000000000004", "0.1", "1e+300", "2.5",
                                                     "-7", std::nullopt}));
  downgrade(s.config);
  EXPECT_EQ(load_things<double>(s), values);
}

TEST_P(MigrateKeepsData, a_boolean_made_text_reads_true_or_false_and_back) {
  Scratch s(GetParam());
  make_things<bool>(s, boolean, {true, false, std::nullopt});
  change_thing(s, boolean, text);
  upgrade(s.config);
  EXPECT_EQ(load_things<std::string>(s),
            (std::vector<std::optional<std::string>>{"true", "false", std::nullopt}));
  downgrade(s.config);
  EXPECT_EQ(load_things<bool>(s), (std::vector<std::optional<bool>>{true, false, std::nullopt}));
}

// PostgreSQL casts only INTEGER to and from boolean: "cannot cast type bigint to boolean".
TEST_P(MigrateKeepsData, integers_of_every_size_and_floats_made_booleans_and_back) {
  {
    Scratch s(GetParam());
    make_things<std::int64_t>(s, big_integer, {1, 0, 5, std::nullopt});
    change_thing(s, big_integer, boolean);
    upgrade(s.config);
    EXPECT_EQ(load_things<bool>(s), (std::vector<std::optional<bool>>{true, false, true, std::nullopt}));
    downgrade(s.config);
    EXPECT_EQ(load_things<std::int64_t>(s),
              (std::vector<std::optional<std::int64_t>>{1, 0, 1, std::nullopt}));
  }
  {
    Scratch s(GetParam());
    make_things<std::int16_t>(s, small_integer, {-3, 0});
    change_thing(s, small_integer, boolean);
    upgrade(s.config);
    EXPECT_EQ(load_things<bool>(s), (std::vector<std::optional<bool>>{true, false}));
    downgrade(s.config);
    EXPECT_EQ(load_things<std::int16_t>(s), (std::vector<std::optional<std::int16_t>>{1, 0}));
  }
  {
    Scratch s(GetParam());
    make_things<bool>(s, boolean, {true, false});
    change_thing(s, boolean, float_);
    upgrade(s.config);
    EXPECT_EQ(load_things<double>(s), (std::vector<std::optional<double>>{1.0, 0.0}));
    downgrade(s.config);
    EXPECT_EQ(load_things<bool>(s), (std::vector<std::optional<bool>>{true, false}));
  }
}

// strata reads text with an offset as the time in UTC; PostgreSQL's cast to TIMESTAMP or
// TIME dropped the offset (10:00+02:00 became 10:00), and SQLite kept the text, which then
// was not found by its value.
TEST_P(MigrateKeepsData, text_with_a_utc_offset_made_a_datetime_or_time_is_the_time_in_utc) {
  using namespace std::chrono;
  {
    Scratch s(GetParam());
    make_things<std::string>(s, text, {"2024-01-01T10:00:00+02:00", "2024-01-01 10:00:00.5",
                                       "2024-01-01", std::nullopt});
    change_thing(s, text, datetime);
    upgrade(s.config);
    EXPECT_EQ(iso(load_things<strata::DateTime>(s)),
              (std::vector<std::string>{"2024-01-01 08:00:00.000000", "2024-01-01 10:00:00.500000",
                                        "2024-01-01 00:00:00.000000", "NULL"}));
    EXPECT_EQ(count_things(s, strata::DateTime{sys_days{2024y / 1 / 1} + 8h}), 1);
    downgrade(s.config);
    EXPECT_EQ(load_things<std::string>(s),
              (std::vector<std::optional<std::string>>{"2024-01-01 08:00:00", "2024-01-01 10:00:00.5",
                                                       "2024-01-01 00:00:00", std::nullopt}));
  }
  {
    Scratch s(GetParam());
    make_things<std::string>(s, text, {"10:00:00+02:00", "01:30:00-03:00", "10:00:00.25"});
    change_thing(s, text, time_of_day);
    upgrade(s.config);
    EXPECT_EQ(iso(load_things<strata::Time>(s)),
              (std::vector<std::string>{"08:00:00.000000", "04:30:00.000000", "10:00:00.250000"}));
    EXPECT_EQ(count_things(s, strata::Time{8h}), 1);
  }
}

// PostgreSQL refuses each of these (text that is no integer, a number beyond SMALLINT's
// range, no cast from INTEGER to DATE); SQLite kept the values, which then did not load.
TEST_P(MigrateKeepsData, a_value_that_does_not_convert_fails_the_migration_and_keeps_the_rows) {
  auto refused = [&](Scratch& s, const std::string& what) {
    const std::string error = s.error_of([&] { upgrade(s.config); });
    if (engine::Url::parse(s.config.url).backend() == "sqlite") {
      EXPECT_NE(error.find("column 'v' of table 'thing' holds a value that does not convert "
                           "from " + what),
                std::string::npos)
          << error;
    }
    EXPECT_NE(error.find("nothing of it was applied"), std::string::npos) << error;
    EXPECT_EQ(s.applied(), 1);
  };
  for (const std::string value : {"abc", "2.5", "99999999999"}) {
    Scratch s(GetParam());
    make_things<std::string>(s, text, {"12", value});
    change_thing(s, text, integer);
    refused(s, "Text to Integer");
    EXPECT_EQ(load_things<std::string>(s), (std::vector<std::optional<std::string>>{"12", value}));
  }
  {
    Scratch s(GetParam());
    make_things<std::int64_t>(s, big_integer, {1, 100000});
    change_thing(s, big_integer, small_integer);
    refused(s, "BigInteger to SmallInteger");
    EXPECT_EQ(load_things<std::int64_t>(s), (std::vector<std::optional<std::int64_t>>{1, 100000}));
  }
  {
    Scratch s(GetParam());
    make_things<std::int32_t>(s, integer, {5, std::nullopt});
    change_thing(s, integer, date);
    refused(s, "Integer to Date");
    EXPECT_EQ(load_things<std::int32_t>(s), (std::vector<std::optional<std::int32_t>>{5, std::nullopt}));
  }
}
