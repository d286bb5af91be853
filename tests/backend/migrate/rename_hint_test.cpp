// The renamed_from("old") hint of a model column: Database::rename_hints() collects it, and
// autogenerate (revision()) then writes a rename, keeping the data, without asking; a hint
// left in the model after the rename is harmless, and one that does not fit the chain is
// ignored (autogenerate still stops on the probable rename rather than dropping data).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "strata/migrate/commands.hpp"
#include "strata/migrate/errors.hpp"
#include "strata/strata.hpp"

struct Member {
  std::int64_t id = 0;
  std::string bio;
};

template <>
struct strata::Model<Member> {
  static constexpr auto table = "member";
  static auto columns() {
    using namespace strata;
    return mapping(column("id", &Member::id).primary_key(),
                   column("bio", &Member::bio).length(140).renamed_from("about_me"));
  }
};

// A model whose table was called "people" before: Model<T>::renamed_from.
struct Person {
  std::int64_t id = 0;
  std::string name;
};

template <>
struct strata::Model<Person> {
  static constexpr auto table = "person";
  static constexpr auto renamed_from = "people";
  static auto columns() {
    using namespace strata;
    return mapping(column("id", &Person::id).primary_key(),
                   column("name", &Person::name).length(80));
  }
};

namespace strata::migrate {
namespace {

namespace fs = std::filesystem;

class RenameHint : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("strata_hint_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    config_.directory = dir_ / "migrations";
    config_.out = &out_;
    init(config_);
    db_.register_models<Member>();
    // The chain: member(id, about_me VARCHAR(140)).
    schema::Table t = db_.metadata().tables().front();
    t.columns[1].name = "about_me";
    Migration m;
    m.revision = "aaaa00000001";
    m.message = "member";
    m.upgrade = {CreateTableOp{t}};
    m.downgrade = reverse(m.upgrade);
    ScriptDirectory::load(config_.directory).write(m);
    config_.models = {db_.metadata().tables().begin(), db_.metadata().tables().end()};
    config_.has_models = true;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The upgrade operations of the migration revision() wrote.
  std::vector<Operation> generated() {
    auto path = revision(config_, "rename", true);
    if (!path) return {};
    auto dir = ScriptDirectory::load(config_.directory);
    return dir.get(dir.graph().heads().front()).upgrade;
  }

  Database db_{"sqlite://"};
  fs::path dir_;
  std::ostringstream out_;
  Config config_;
};

TEST_F(RenameHint, database_collects_the_hints_of_its_models) {
  EXPECT_EQ(db_.rename_hints(), (std::map<std::string, std::string>{{"member.about_me", "bio"}}));
}

TEST_F(RenameHint, autogenerate_writes_a_rename_without_asking) {
  config_.rename_hints = db_.rename_hints();
  EXPECT_EQ(generated(), (std::vector<Operation>{RenameColumnOp{"member", "about_me", "bio"}}));
  EXPECT_EQ(generated(), std::vector<Operation>{})
      << "the hint stays in the model after the rename is migrated: nothing more to do";
  EXPECT_NE(out_.str().find("No changes in schema detected."), std::string::npos);
}

TEST_F(RenameHint, without_the_hint_autogenerate_stops_on_the_probable_rename) {
  try {
    generated();
    ADD_FAILURE() << "a probable rename went through without confirmation";
  } catch (const CommandError& e) {
    EXPECT_NE(std::string(e.what()).find("probable rename"), std::string::npos) << e.what();
  }
}

TEST_F(RenameHint, a_hint_that_does_not_fit_the_chain_is_ignored_not_obeyed) {
  config_.rename_hints = {{"member.about", "bio"}, {"nosuch.x", "y"}, {"member.about_me", "nosuch"}};
  EXPECT_THROW(generated(), CommandError) << "still the probable-rename stop, never a silent drop";
  config_.renames = {{"member.about_me", "bio"}};  // --rename beside a stale hint
  EXPECT_EQ(generated(), (std::vector<Operation>{RenameColumnOp{"member", "about_me", "bio"}}));
}

// The chain also has table "people" (the person model's columns), and the models person.
class TableRenameHint : public RenameHint {
 protected:
  void SetUp() override {
    RenameHint::SetUp();
    Database people_db{"sqlite://"};
    people_db.register_models<Person>();
    schema::Table people = people_db.metadata().tables().front();
    people.name = "people";
    people.primary_key.name = "pk_people";
    Migration m;
    m.revision = "aaaa00000002";
    m.down_revisions = {"aaaa00000001"};
    m.message = "people";
    m.upgrade = {CreateTableOp{people}};
    m.downgrade = reverse(m.upgrade);
    ScriptDirectory::load(config_.directory).write(m);
    db_.register_models<Person>();
    config_.models = {db_.metadata().tables().begin(), db_.metadata().tables().end()};
    config_.rename_hints = db_.rename_hints();
  }
};

TEST_F(TableRenameHint, database_collects_a_models_table_hint) {
  EXPECT_EQ(db_.rename_hints(), (std::map<std::string, std::string>{
                                    {"member.about_me", "bio"}, {"people", "person"}}));
}

TEST_F(TableRenameHint, autogenerate_renames_the_table_without_asking) {
  EXPECT_EQ(generated(),
            (std::vector<Operation>{RenameTableOp{"people", "person"},
                                    RenameConstraintOp{"person", "pk_people", "pk_person"},
                                    RenameColumnOp{"member", "about_me", "bio"}}));
  EXPECT_EQ(generated(), std::vector<Operation>{}) << "the hint stays, harmless";
}

TEST_F(TableRenameHint, without_the_hint_autogenerate_stops_naming_both_ways_out) {
  config_.rename_hints = {{"member.about_me", "bio"}};
  try {
    generated();
    ADD_FAILURE() << "a probable table rename went through without confirmation";
  } catch (const CommandError& e) {
    EXPECT_EQ(std::string(e.what()),
              "probable rename: table 'people' vanished and table 'person' (the same columns) "
              "appeared; confirm with --rename people:person, or pass --allow-destructive to "
              "drop table 'people' (and its rows) and create 'person'");
  }
  config_.renames = {{"people", "person"}};
  EXPECT_EQ(generated(),
            (std::vector<Operation>{RenameTableOp{"people", "person"},
                                    RenameConstraintOp{"person", "pk_people", "pk_person"},
                                    RenameColumnOp{"member", "about_me", "bio"}}));
}

}  // namespace
}  // namespace strata::migrate
