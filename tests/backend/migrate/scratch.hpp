// For the migration tests on real databases: a migrations folder of the test's own with an
// empty database on each backend of STRATA_TEST_URLS, the commands' Config for both, and small
// table builders. Included by one test file of each binary.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "strata/migrate/commands.hpp"
#include "strata/migrate/errors.hpp"
#include "strata/strata.hpp"

#include "backend.hpp"

namespace strata::migrate::scratch {

// SQLite in memory cannot be shared with the command's own engine: a SQLite entry means a
// file in the test's scratch folder.
inline std::vector<std::string> urls() {
  std::vector<std::string> out;
  bool sqlite = false;
  for (const auto& url : backend::test_urls()) {
    if (engine::Url::parse(url).backend() != "sqlite") {
      out.push_back(url);
    } else if (!sqlite) {
      out.push_back("sqlite");
      sqlite = true;
    }
  }
  return out;
}

// A migrations folder and an empty database; the commands' Config for both.
struct Scratch {
  std::filesystem::path dir;
  std::ostringstream out;
  Config config;
  explicit Scratch(const std::string& backend_url) {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (auto& c : name)
      if (c == '/') c = '_';
    dir = std::filesystem::temp_directory_path() /
          ("strata_keeps_" + std::to_string(::getpid()) + "_" + name);
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    config.directory = dir / "migrations";
    config.out = &out;
    if (backend_url == "sqlite") {
      config.url = "sqlite:///" + (dir / "app.db").string();
    } else {
      config.url = backend_url;
      Database db{config.url};
      auto& s = db.session();
      auto tables =
          s.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()");
      for (const auto& row : tables.rows)
        s.execute("DROP TABLE IF EXISTS \"" + row.get<std::string>(0) + "\" CASCADE");
      s.commit();
    }
    init(config);
  }
  ~Scratch() { std::filesystem::remove_all(dir); }

  // Writes the next migration of a linear chain (revision k1..., k2..., ...).
  void write(std::vector<Operation> upgrade, std::vector<Operation> downgrade) {
    Migration m;
    m.revision = "k" + std::to_string(++written_) + "0000000000";
    if (written_ > 1) m.down_revisions = {"k" + std::to_string(written_ - 1) + "0000000000"};
    m.message = "step " + std::to_string(written_);
    m.upgrade = std::move(upgrade);
    m.downgrade = std::move(downgrade);
    ScriptDirectory::load(config.directory).write(m);
  }
  void write(std::vector<Operation> upgrade) {
    auto down = reverse(upgrade);
    write(std::move(upgrade), std::move(down));
  }

  void execute(const std::string& sql) const {
    Database db{config.url};
    db.session().execute(sql);
    db.session().commit();
  }
  std::int64_t count(const std::string& sql) const {
    Database db{config.url};
    return db.session().execute(sql).rows.at(0).get<std::int64_t>(0);
  }
  std::int64_t applied() const {
    return count("SELECT count(*) FROM strata_migrations WHERE status = 'applied'");
  }
  // What `db check` reports ("" when the database agrees with the migrations at its revision):
  // its error and the lines it printed. A database at an older revision than the head (after
  // a downgrade) is not a difference here.
  std::string drift() {
    out.str("");
    try {
      check(config);
    } catch (const CommandError& e) {
      const std::string what = e.what();
      if (what.rfind("the database is not up to date", 0) == 0) return {};
      return what + "\n" + out.str();
    }
    return {};
  }
  // The CommandError of f, or a failure when f succeeds.
  template <class F>
  std::string error_of(F&& f) {
    try {
      f();
    } catch (const CommandError& e) {
      return e.what();
    }
    ADD_FAILURE() << "expected a CommandError; output:\n" << out.str();
    return {};
  }

 private:
  int written_ = 0;
};

inline schema::Column column(std::string name, schema::Type type, bool nullable = true,
                      std::optional<std::string> server_default = std::nullopt) {
  return schema::Column{std::move(name), type, nullable, false, false, std::move(server_default)};
}
constexpr schema::Type integer{schema::TypeKind::integer, {}};
constexpr schema::Type text{schema::TypeKind::text, {}};

inline schema::Table table(std::string name, std::vector<schema::Column> extra) {
  schema::Table t;
  t.name = std::move(name);
  schema::Column id = column("id", integer, false);
  id.primary_key = id.autoincrement = true;
  t.columns.push_back(id);
  for (auto& c : extra) t.columns.push_back(std::move(c));
  t.primary_key = {"pk_" + t.name, {"id"}};
  return t;
}

// author(id, name).
inline schema::Table author() { return table("author", {column("name", text)}); }
}  // namespace strata::migrate::scratch
