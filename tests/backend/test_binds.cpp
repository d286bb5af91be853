// Binds: several named databases in one app (Flask-SQLAlchemy's SQLALCHEMY_BINDS). Each test
// runs on two SQLite files, and on two databases of the PostgreSQL server when
// STRATA_TEST_URLS names one (the second, <database>_bind, is created on first use): the
// session sends each model's statements to its own database, commits and rolls back both,
// and `db` commands work on every database in turn or on the one --bind names.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <unistd.h>

#include "strata/cli/db_command.hpp"
#include "strata/strata.hpp"

#include "backend.hpp"

namespace fs = std::filesystem;

// A memo lives in the default database, an account in the `users` bind.
struct Memo {
  std::int64_t id = 0;
  std::string text{};
  std::int64_t account_id = 0;  // no foreign key: the account is in another database
};
struct Account {
  std::int64_t id = 0;
  std::string name{};
};
// Old memos live in the `users` bind, in a table named as the default database's memos.
struct OldMemo {
  std::int64_t id = 0;
  std::string text{};
};
// A many-to-many declared on the holder's side only, both models in the `users` bind.
struct Badge {
  std::int64_t id = 0;
  std::string label{};
};
inline const strata::AssociationTable holder_badge{
    "holder_badge", {"holder_id", "holder.id"}, {"badge_id", "badge.id"}};
struct Holder {
  std::int64_t id = 0;
  strata::HasMany<Badge> badges{};
};
// A model whose bind the database does not configure.
struct Stray {
  std::int64_t id = 0;
};

template <>
struct strata::Model<Memo> {
  static constexpr auto table = "memo";
  static auto columns() {
    return mapping(column("id", &Memo::id).primary_key(), column("text", &Memo::text),
                   column("account_id", &Memo::account_id));
  }
};
template <>
struct strata::Model<Account> {
  static constexpr auto table = "account";
  static constexpr auto bind = "users";
  static auto columns() {
    return mapping(column("id", &Account::id).primary_key(),
                   column("name", &Account::name).length(40).unique());
  }
};
template <>
struct strata::Model<OldMemo> {
  static constexpr auto table = "memo";
  static constexpr auto bind = "users";
  static auto columns() {
    return mapping(column("id", &OldMemo::id).primary_key(), column("text", &OldMemo::text));
  }
};
template <>
struct strata::Model<Badge> {
  static constexpr auto table = "badge";
  static constexpr auto bind = "users";
  static auto columns() {
    return mapping(column("id", &Badge::id).primary_key(), column("label", &Badge::label));
  }
};
template <>
struct strata::Model<Holder> {
  static constexpr auto table = "holder";
  static constexpr auto bind = "users";
  static auto columns() {
    return mapping(column("id", &Holder::id).primary_key(),
                   has_many("badges", &Holder::badges)
                       .secondary(holder_badge, "holder_id", "badge_id"));
  }
};
template <>
struct strata::Model<Stray> {
  static constexpr auto table = "stray";
  static constexpr auto bind = "archive";
  static auto columns() { return mapping(column("id", &Stray::id).primary_key()); }
};

namespace {

using strata::Database;
using strata::DatabaseOptions;

// Each backend once: SQLite as two files of the test's own, PostgreSQL as the test database
// and <database>_bind.
std::vector<std::string> bind_backends() {
  std::vector<std::string> out;
  bool sqlite = false;
  for (const auto& url : backend::test_urls()) {
    if (strata::engine::Url::parse(url).backend() == "sqlite") {
      if (!sqlite) out.push_back("sqlite");
      sqlite = true;
    } else {
      out.push_back(url);
    }
  }
  return out;
}

// Every table of a server database goes.
void empty_server_database(const std::string& url) {
  Database db{url};
  auto& s = db.session();
  auto tables = s.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()");
  for (const auto& row : tables.rows)
    s.execute("DROP TABLE IF EXISTS \"" + row.get<std::string>(0) + "\" CASCADE");
  s.commit();
}

class Binds : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (auto& c : name)
      if (c == '/') c = '_';
    dir_ = fs::temp_directory_path() / ("strata_binds_" + std::to_string(::getpid()) + "_" + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    if (GetParam() == "sqlite") {
      default_url_ = "sqlite:///" + (dir_ / "app.db").string();
      users_url_ = "sqlite:///" + (dir_ / "users.db").string();
    } else {
      default_url_ = GetParam();
      auto u = strata::engine::Url::parse(default_url_);
      const std::string second = u.database + "_bind";
      {
        Database admin{default_url_};
        auto conn = admin.engine().connect();
        auto found = conn->prepare("SELECT 1 FROM pg_database WHERE datname = '" + second + "'");
        if (!found->step()) {
          found = {};
          conn->execute("CREATE DATABASE \"" + second + "\"");
        }
      }
      u.database = second;
      users_url_ = u.to_string(true);
      empty_server_database(default_url_);
      empty_server_database(users_url_);
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Database> open() {
    DatabaseOptions o;
    o.binds["users"] = users_url_;
    auto db = std::make_unique<Database>(default_url_, o);
    db->register_models<Memo, Account>();
    return db;
  }
  // What one database holds, asked without the ORM: the rows of `table`, or -1 when the
  // table does not exist there.
  static std::int64_t rows_in(const std::string& url, const std::string& table) {
    Database plain{url};
    try {
      auto r = plain.session().execute("SELECT count(*) FROM " + plain.dialect().quote(table));
      return r.rows.at(0).get<std::int64_t>(0);
    } catch (const strata::DatabaseError&) {
      return -1;
    }
  }
  // Runs `db ARGS...` as the app's command line would.
  static int db_command(Database& db, std::vector<std::string> args) {
    args.insert(args.begin(), "app db");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    return strata::cli::run(static_cast<int>(argv.size()), argv.data(), &db);
  }

  fs::path dir_;
  std::string default_url_;
  std::string users_url_;
};

INSTANTIATE_TEST_SUITE_P(backends, Binds, ::testing::ValuesIn(bind_backends()),
                         [](const ::testing::TestParamInfo<std::string>& p) {
                           return p.param == "sqlite" ? std::string("sqlite_file")
                                                      : strata::engine::Url::parse(p.param).backend();
                         });

TEST_P(Binds, CreateAllMakesEachTableInItsOwnDatabase) {
  auto db = open();
  EXPECT_EQ(db->binds(), std::vector<std::string>{"users"});
  db->create_all();
  EXPECT_EQ(rows_in(default_url_, "memo"), 0);
  EXPECT_EQ(rows_in(default_url_, "account"), -1);
  EXPECT_EQ(rows_in(users_url_, "account"), 0);
  EXPECT_EQ(rows_in(users_url_, "memo"), -1);
  EXPECT_NE(db->metadata().find("memo"), nullptr);
  EXPECT_EQ(db->metadata().find("account"), nullptr);
  EXPECT_NE(db->metadata("users").find("account"), nullptr);

  db->drop_all();
  EXPECT_EQ(rows_in(default_url_, "memo"), -1);
  EXPECT_EQ(rows_in(users_url_, "account"), -1);
}

TEST_P(Binds, DeletingTheTargetOfAOneSidedManyToManyInABindDeletesItsLinks) {
  // The relationship is declared on Holder only: deleting a badge must delete its
  // holder_badge rows (and leave the holder's loaded collection), as in the default database.
  auto db = open();
  db->register_models<Badge, Holder>();
  db->create_all();
  auto& s = db->session();
  auto badge = s.add(Badge{.label = "gold"});
  auto holder = s.add(Holder{});
  holder->badges.append(badge);
  s.commit();
  ASSERT_EQ(rows_in(users_url_, "holder_badge"), 1);
  s.delete_(badge);
  EXPECT_NO_THROW(s.commit());
  EXPECT_EQ(rows_in(users_url_, "holder_badge"), 0);
  EXPECT_EQ(rows_in(users_url_, "badge"), 0);
  EXPECT_TRUE(holder->badges.empty()) << "the deleted badge stayed in the loaded collection";
}

TEST_P(Binds, TheSessionSendsEachModelToItsDatabase) {
  auto db = open();
  db->create_all();
  auto& s = db->session();
  auto alice = s.add(Account{.name = "alice"});
  s.flush();
  s.add(Memo{.text = "hello", .account_id = alice->id});
  s.commit();
  EXPECT_EQ(rows_in(default_url_, "memo"), 1);
  EXPECT_EQ(rows_in(users_url_, "account"), 1);

  // Another app object reads each back from where it lives: queries, get, count.
  auto other = open();
  auto& s2 = other->session();
  auto memo = s2.query<Memo>().one();
  auto account = s2.get<Account>(memo->account_id);
  ASSERT_NE(account, nullptr);
  EXPECT_EQ(account->name, "alice");
  EXPECT_EQ(s2.query<Account>().filter(strata::col(&Account::name) == "alice").count(), 1);
  EXPECT_EQ(s2.select(&Account::name).all(), std::vector<std::string>{"alice"});

  // Updates and deletes go to the right database too.
  account->name = "alice2";
  s2.delete_(memo);
  s2.commit();
  EXPECT_EQ(rows_in(default_url_, "memo"), 0);
  auto again = open();
  EXPECT_EQ(again->session().query<Account>().one()->name, "alice2");

  // Raw SQL on a bind, in the session's transaction there.
  auto r = again->session().execute("SELECT name FROM account", {}, "users");
  EXPECT_EQ(r.rows.at(0).get<std::string>(0), "alice2");
}

TEST_P(Binds, ValuesOfAModelComeFromItsDatabaseWhenAnotherHasATableOfTheSameName) {
  auto db = open();
  db->register_models<OldMemo>();
  db->create_all();
  auto& s = db->session();
  s.add(Memo{.text = "new"});
  s.add(OldMemo{.text = "old 1"});
  s.add(OldMemo{.text = "old 2"});
  s.commit();
  EXPECT_EQ(s.query<OldMemo>().count(), 2);
  EXPECT_EQ(s.select(&OldMemo::text).order_by(&OldMemo::text).all(),
            (std::vector<std::string>{"old 1", "old 2"}))
      << "select() read the default database's memo table";
  EXPECT_EQ(s.query<OldMemo>().select(strata::count()).scalar(), 2);
  EXPECT_EQ(s.select(&Memo::text).all(), std::vector<std::string>{"new"});
}

TEST_P(Binds, RollbackUndoesEveryDatabase) {
  auto db = open();
  db->create_all();
  auto& s = db->session();
  s.add(Account{.name = "bob"});
  s.add(Memo{.text = "draft"});
  s.flush();
  s.rollback();
  EXPECT_EQ(rows_in(default_url_, "memo"), 0);
  EXPECT_EQ(rows_in(users_url_, "account"), 0);
}

TEST_P(Binds, AFailedFlushInOneDatabaseRollsBackTheOther) {
  auto db = open();
  db->create_all();
  auto& s = db->session();
  s.add(Account{.name = "carol"});
  s.commit();

  s.add(Memo{.text = "kept only if the account is"});
  s.add(Account{.name = "carol"});  // unique name taken
  EXPECT_THROW(s.commit(), strata::IntegrityError);
  s.rollback();
  EXPECT_EQ(rows_in(default_url_, "memo"), 0);
  EXPECT_EQ(rows_in(users_url_, "account"), 1);
  // The session works again on both.
  s.add(Memo{.text = "after"});
  s.add(Account{.name = "dave"});
  s.commit();
  EXPECT_EQ(rows_in(default_url_, "memo"), 1);
  EXPECT_EQ(rows_in(users_url_, "account"), 2);
}

TEST_P(Binds, ACommitRetriedAfterALaterDatabasesCommitFailedCommitsThatDatabase) {
  // The default database's COMMIT went through, the bind's failed and left its transaction
  // open: a second commit() commits the bind's, as with one database, and work in between
  // runs in a new transaction of the default database.
  if (GetParam() != "sqlite")
    GTEST_SKIP() << "a COMMIT that fails and can be retried: a SQLite reader's lock";
  DatabaseOptions o;
  o.binds["users"] = users_url_;
  o.engine.connect.busy_timeout = std::chrono::milliseconds(50);
  Database db{default_url_, o};
  db.register_models<Memo, Account>();
  db.create_all();
  auto& s = db.session();
  s.add(Memo{.text = "first"});
  s.add(Account{.name = "erin"});
  {
    Database other{users_url_};
    auto& reader = other.session();  // holds a read lock on the bind's file until it ends
    EXPECT_EQ(reader.execute("SELECT count(*) FROM account").rows.at(0).get<std::int64_t>(0), 0);
    EXPECT_THROW(s.commit(), strata::OperationalError);
  }
  // (The bind's file stays locked by the open transaction: not read here.)
  EXPECT_EQ(rows_in(default_url_, "memo"), 1) << "the default database committed first";
  s.add(Memo{.text = "second"});
  s.flush();
  EXPECT_EQ(rows_in(default_url_, "memo"), 1) << "flushed in a transaction, not committed yet";
  s.commit();
  EXPECT_EQ(rows_in(default_url_, "memo"), 2);
  EXPECT_EQ(rows_in(users_url_, "account"), 1) << "the retried commit lost the bind's rows";
}

TEST_P(Binds, AModelOfAnUnconfiguredBindIsAClearError) {
  auto db = open();
  try {
    db->register_models<Stray>();
    FAIL() << "registered a model of an unknown bind";
  } catch (const strata::ArgumentError& e) {
    EXPECT_STREQ(e.what(),
                 "no database bind 'archive' is configured (DatabaseOptions::binds); this "
                 "database has the default database, 'users'");
  }
  EXPECT_THROW(db->engine("nosuch"), strata::ArgumentError);
  EXPECT_THROW(db->session().execute("SELECT 1", {}, "nosuch"), strata::ArgumentError);
}

TEST_P(Binds, BadBindsAreRefusedWhenTheDatabaseIsMade) {
  DatabaseOptions o;
  o.binds["users"] = "sqlite:/users.db";
  try {
    Database db{default_url_, o};
    FAIL() << "accepted a malformed bind URL";
  } catch (const strata::ArgumentError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("bind 'users': invalid database URL", 0), 0u) << e.what();
  }
  DatabaseOptions unnamed;
  unnamed.binds["default"] = users_url_;
  EXPECT_THROW(Database(default_url_, unnamed), strata::ArgumentError);
}

// Flask-Migrate's multidb: one chain per database (the default's in migrations/, a bind's in
// migrations/binds/NAME), each applied to its own database.
TEST_P(Binds, DbCommandsWorkOnEveryDatabaseOrTheOneBindNames) {
  auto db = open();
  const std::string migrations = (dir_ / "migrations").string();
  ASSERT_EQ(db_command(*db, {"-d", migrations, "init"}), 0);
  EXPECT_TRUE(fs::is_directory(dir_ / "migrations" / "versions"));
  EXPECT_TRUE(fs::is_directory(dir_ / "migrations" / "binds" / "users" / "versions"));

  ASSERT_EQ(db_command(*db, {"-d", migrations, "migrate", "-m", "first"}), 0);
  auto files = [](const fs::path& p) {
    int n = 0;
    for (const auto& e : fs::directory_iterator(p)) n += e.path().extension() == ".yaml";
    return n;
  };
  EXPECT_EQ(files(dir_ / "migrations" / "versions"), 1);
  EXPECT_EQ(files(dir_ / "migrations" / "binds" / "users" / "versions"), 1);

  ASSERT_EQ(db_command(*db, {"-d", migrations, "upgrade"}), 0);
  EXPECT_EQ(rows_in(default_url_, "memo"), 0);
  EXPECT_EQ(rows_in(users_url_, "account"), 0);
  EXPECT_EQ(rows_in(default_url_, "account"), -1);
  EXPECT_EQ(db_command(*db, {"-d", migrations, "check"}), 0);

  // A command about one revision needs --bind when there are several databases.
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(db_command(*db, {"-d", migrations, "downgrade", "base"}), 2) << "a usage error";
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "error: this app has several databases (default, users); say which this command is "
            "for with --bind NAME\n");
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(db_command(*db, {"-d", migrations, "--bind", "archive", "current"}), 2);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "error: --bind archive: no such database (this app has default, users)\n");
  EXPECT_EQ(rows_in(users_url_, "account"), 0);  // nothing touched

  ASSERT_EQ(db_command(*db, {"-d", migrations, "--bind", "users", "downgrade", "base"}), 0);
  EXPECT_EQ(rows_in(users_url_, "account"), -1);
  EXPECT_EQ(rows_in(default_url_, "memo"), 0);  // the default database keeps its table
  ASSERT_EQ(db_command(*db, {"-d", migrations, "--bind", "users", "upgrade"}), 0);
  EXPECT_EQ(rows_in(users_url_, "account"), 0);
  ASSERT_EQ(db_command(*db, {"-d", migrations, "--bind", "default", "downgrade", "base"}), 0);
  EXPECT_EQ(rows_in(default_url_, "memo"), -1);
  EXPECT_EQ(rows_in(users_url_, "account"), 0);
}

}  // namespace
