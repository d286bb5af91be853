// The backend suite's fixture (see backend.hpp): URLs, a fresh Database per test, the SQL
// capture, and the one place that knows which backend has which behaviour.
#include "backend.hpp"

#include <stdlib.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <system_error>
#include <thread>

namespace backend {

namespace {

// A temporary folder for the default file database, removed when the program ends.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/strata-backend-XXXXXX";
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::vector<std::string> split(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

// "$3" -> "?": expected SQL is written once for every dialect.
std::string normalize_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  for (std::size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] == '$' && i + 1 < sql.size() &&
        std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      out += '?';
      while (i + 1 < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i + 1]))) ++i;
    } else {
      out += sql[i];
    }
  }
  return out;
}

// An echoed line is "SQL  [params]  (0.123 ms)", or "... (failed after 0.123 ms)".
Statement parse_echo(std::string_view line) {
  Statement s;
  if (auto timing = line.rfind("  ("); timing != std::string_view::npos && line.ends_with(" ms)")) {
    s.failed = line.substr(timing).starts_with("  (failed after ");
    line = line.substr(0, timing);
  }
  if (line.ends_with(']')) {
    if (auto open = line.rfind("  ["); open != std::string_view::npos) {
      s.params = std::string(line.substr(open + 3, line.size() - open - 4));
      line = line.substr(0, open);
    }
  }
  s.sql = normalize_placeholders(line);
  return s;
}

bool starts_with_any(const std::string& sql, std::initializer_list<std::string_view> words) {
  for (auto w : words)
    if (sql.starts_with(w)) return true;
  return false;
}

}  // namespace

const std::vector<std::string>& test_urls() {
  static const std::vector<std::string> urls = [] {
    auto configured = split(strata::env("STRATA_TEST_URLS", "default"));
    std::vector<std::string> out;
    for (auto& url : configured) {
      if (url == "default") {
        static TempDir dir;
        out.push_back("sqlite://");
        out.push_back("sqlite:///" + (dir.path() / "test.db").string());
      } else {
        out.push_back(std::move(url));
      }
    }
    return out;
  }();
  return urls;
}

namespace {
std::string kind_of(const std::string& text) {
  std::string label;
  try {
    auto url = strata::engine::Url::parse(text);
    label = url.backend();
    if (label == "sqlite") label += url.is_memory() ? "_memory" : "_file";
  } catch (const strata::Error&) {
    label = "url";
  }
  for (auto& c : label)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return label;
}
}  // namespace

std::string url_label(const ::testing::TestParamInfo<std::string>& info) {
  const std::string label = kind_of(info.param);
  // Two URLs of one kind stay apart.
  const auto& urls = test_urls();
  for (std::size_t i = 0; i < urls.size(); ++i)
    if (i != info.index && kind_of(urls[i]) == label)
      return label + "_" + std::to_string(info.index);
  return label;
}

void BackendTest::SetUp() {
  reopen([](strata::DatabaseOptions&) {});
}

void BackendTest::reopen(const std::function<void(strata::DatabaseOptions&)>& adjust) {
  db_.reset();  // its connections close first (an in-memory database goes with them)
  strata::DatabaseOptions options;
  // Sessions of several threads may echo at once (threads_share_one_engine...).
  options.engine.echo = [this](std::string_view line) {
    std::lock_guard lock(capture_mutex_);
    captured_.push_back(parse_echo(line));
  };
  // A test that waits for the connection another session holds fails fast, not in 30 s.
  options.engine.pool_timeout = std::chrono::milliseconds(2000);
  adjust(options);
  db_ = std::make_unique<strata::Database>(url(), options);
  db_->register_models<User, Post, Address, Sample, Task, Employee, Shelf, Book, Note, Draft, AuditEntry>();
  register_relation_models(*db_);
  db_->drop_all();
  db_->create_all();
  clear_sql();
}

void BackendTest::TearDown() { db_.reset(); }

std::unique_ptr<strata::Database> BackendTest::open_another(strata::DatabaseOptions options) {
  auto other = std::make_unique<strata::Database>(url(), std::move(options));
  other->register_models<User, Post, Address, Sample, Task, Employee, Shelf, Book, Note, Draft, AuditEntry>();
  register_relation_models(*other);
  return other;
}

std::vector<std::string> BackendTest::sql() const {
  std::vector<std::string> out;
  for (const auto& s : captured_) out.push_back(s.sql);
  return out;
}

std::vector<std::string> BackendTest::writes() const {
  std::vector<std::string> out;
  for (const auto& s : captured_)
    if (starts_with_any(s.sql, {"INSERT", "UPDATE", "DELETE"})) out.push_back(s.sql);
  return out;
}

std::vector<std::string> BackendTest::selects() const {
  std::vector<std::string> out;
  for (const auto& s : captured_)
    if (s.sql.starts_with("SELECT")) out.push_back(s.sql);
  return out;
}

std::string BackendTest::dump() const {
  std::string out = "statements run:\n";
  for (const auto& s : captured_) {
    out += "  " + s.sql;
    if (!s.params.empty()) out += "  [" + s.params + "]";
    if (s.failed) out += "  (failed)";
    out += '\n';
  }
  return out;
}

std::string BackendTest::q(std::string_view name) const { return db_->dialect().quote(name); }

std::string BackendTest::spelled(std::string_view pattern) const {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    auto close = pattern[i] == '{' ? pattern.find('}', i) : std::string_view::npos;
    if (close == std::string_view::npos) {
      out += pattern[i];
      continue;
    }
    out += q(pattern.substr(i + 1, close - i - 1));
    i = close;
  }
  return out;
}

std::string BackendTest::insert_sql(std::string_view pattern, std::string_view key) const {
  std::string out = spelled(pattern);
  if (db_->dialect().generated_keys_by_returning()) out += " RETURNING " + q(key);
  return out;
}

std::string BackendTest::ph(std::size_t n) const { return db_->dialect().placeholder(n); }

void BackendTest::create_loose_tables() {
  drop_loose_tables();
  auto& s = session();
  s.execute("CREATE TABLE loose_name (id INTEGER PRIMARY KEY, name TEXT)");
  s.execute("CREATE TABLE loose_amount (id INTEGER PRIMARY KEY, amount TEXT)");
  s.execute("CREATE TABLE loose_small (id INTEGER PRIMARY KEY, small BIGINT)");
  s.commit();
}

void BackendTest::drop_loose_tables() {
  auto& s = session();
  s.rollback();
  for (auto table : {"loose_name", "loose_amount", "loose_small"})
    s.execute(std::string("DROP TABLE IF EXISTS ") + table);
  s.commit();
}

bool BackendTest::shared_database() const {
  auto& engine = db_->engine();
  return !engine.driver().single_connection(engine.url());
}

bool BackendTest::whole_database_write_lock() const {
  return db_->dialect().name() == "sqlite" && shared_database();
}

bool BackendTest::row_write_locks() const { return db_->dialect().name() == "postgresql"; }

bool BackendTest::text_holds_nul() const { return db_->dialect().name() == "sqlite"; }

bool BackendTest::failed_statement_aborts_transaction() const {
  return db_->dialect().name() == "postgresql";
}

bool BackendTest::stores_nan() const { return db_->dialect().name() != "sqlite"; }

bool BackendTest::batched_inserts() const { return db_->dialect().batches_inserts(); }

bool BackendTest::batched_updates() const { return db_->dialect().batches_updates(); }

bool BackendTest::server_connections() const { return db_->dialect().name() == "postgresql"; }

bool BackendTest::server_prepared_statements() const {
  return db_->dialect().name() == "postgresql";
}

bool BackendTest::parameters_at_most_65535() const { return db_->dialect().name() == "postgresql"; }

std::int64_t BackendTest::prepared_statements_containing(strata::Session& s,
                                                         std::string_view fragment) {
  auto r = s.execute("SELECT count(*) FROM pg_prepared_statements WHERE strpos(statement, " +
                         ph(1) + ") > 0",
                     {std::string(fragment)});
  return r.rows.at(0).get<std::int64_t>(0);
}

std::int64_t BackendTest::connection_id(strata::Session& s) {
  auto r = s.execute("SELECT pg_backend_pid()");
  return r.rows.at(0).get<std::int64_t>(0);
}

void BackendTest::end_connection(std::int64_t id) {
  auto admin = open_another();
  auto& s = admin->session();
  auto r = s.execute("SELECT pg_terminate_backend(" + ph(1) + ")", {strata::Value{id}});
  if (!r.rows.at(0).get<bool>(0)) throw std::runtime_error("no connection " + std::to_string(id));
  s.commit();
  // pg_terminate_backend signals; wait until the connection is really gone.
  for (int i = 0; i < 200; ++i) {
    auto left = s.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = " + ph(1),
                          {strata::Value{id}});
    s.commit();
    if (left.rows.at(0).get<std::int64_t>(0) == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::runtime_error("connection " + std::to_string(id) + " did not end");
}

}  // namespace backend
