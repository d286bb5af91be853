// The SQLite driver: opens database files (or memory) and runs statements through the sqlite3
// C API. SqliteDialect::connect() calls open_connection(); nothing outside this folder sees
// sqlite3.h.
#include "sqlite_connection.hpp"

#include <climits>
#include <cmath>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <utility>

#include "sqlite.hpp"
#include "strata/dialect/sqlite/sqlite_dialect.hpp"

namespace strata::dialect::sqlite {
namespace {

using Clock = std::chrono::steady_clock;

// Runs once per statement in execute(): finalizes on every path.
struct StmtGuard {
  sqlite3_stmt* stmt = nullptr;
  StmtGuard() = default;
  StmtGuard(const StmtGuard&) = delete;
  StmtGuard& operator=(const StmtGuard&) = delete;
  ~StmtGuard() { sqlite3_finalize(stmt); }
};

// One statement of a script without the white space around it and its closing ';'.
std::string_view trimmed(std::string_view s) {
  const std::size_t first = s.find_first_not_of(" \t\r\n;");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n;") - first + 1);
}

bool only_separators(std::string_view s) {
  return s.find_first_not_of(" \t\r\n;") == std::string_view::npos;
}

// Fails with a message naming the folder when path cannot be a database file for a reason
// SQLite would only report as "unable to open database file".
void check_path(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path p(path);
  const fs::path parent = p.parent_path();
  std::string problem;
  // A path that cannot be looked at (a folder on the way not searchable, a symbolic link
  // loop) is said so, never taken for one that does not exist.
  if (!parent.empty()) {
    const auto folder = fs::status(parent, ec);
    if (folder.type() == fs::file_type::not_found) {
      problem = "folder '" + parent.string() + "' does not exist";
    } else if (ec) {
      problem = "cannot look at folder '" + parent.string() + "': " + ec.message();
    } else if (!fs::is_directory(folder)) {
      problem = "'" + parent.string() + "' is not a folder";
    }
  }
  if (problem.empty()) {
    const auto file = fs::status(p, ec);
    if (ec && file.type() != fs::file_type::not_found) problem = ec.message();
    else if (fs::is_directory(file)) problem = "it is a folder, not a database file";
  }
  if (!problem.empty()) {
    raise_error({.code = SQLITE_CANTOPEN,
                 .driver_message = sqlite3_errstr(SQLITE_CANTOPEN),
                 .summary = "cannot open database file '" + path + "': " + problem});
  }
}

}  // namespace

// ---- SqliteStatement --------------------------------------------------------------------

SqliteStatement::SqliteStatement(SqliteConnection& conn, sqlite3_stmt* stmt, std::string sql)
    : conn_(conn),
      stmt_(stmt),
      sql_(std::move(sql)),
      params_(static_cast<std::size_t>(sqlite3_bind_parameter_count(stmt))),
      read_only_(sqlite3_stmt_readonly(stmt) != 0) {}

// Never touches conn_: the connection may already be gone (sqlite3_close_v2 waits for us).
SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

SqliteStatement::Param& SqliteStatement::param(int index) {
  if (index < 0 || static_cast<std::size_t>(index) >= params_.size()) {
    raise_error({.code = SQLITE_RANGE,
                 .driver_message = sqlite3_errstr(SQLITE_RANGE),
                 .summary = "parameter index " + std::to_string(index) +
                            " is out of range: the statement has " +
                            std::to_string(params_.size()) + " parameters, numbered from 0",
                 .sql = sql_,
                 .params = rendered_params()});
  }
  // While a statement runs, SQLite refuses new bindings but still reads the old ones from
  // params_, which must therefore not change.
  if (sqlite3_stmt_busy(stmt_)) {
    raise_error({.code = SQLITE_MISUSE,
                 .driver_message = sqlite3_errstr(SQLITE_MISUSE),
                 .summary = "cannot bind a parameter while the statement is running; "
                            "step() it to the end or reset() it first",
                 .sql = sql_,
                 .params = rendered_params()});
  }
  return params_[static_cast<std::size_t>(index)];
}

void SqliteStatement::check_bind(int rc, int index) {
  if (rc == SQLITE_OK) return;
  params_[static_cast<std::size_t>(index)].bound = false;
  raise_error({.code = rc,
               .driver_message = sqlite3_errmsg(conn_.handle()),
               .sql = sql_,
               .params = rendered_params(),
               .busy_timeout = conn_.busy_timeout()});
}

void SqliteStatement::bind_null(int index) {
  Param& p = param(index);
  check_bind(sqlite3_bind_null(stmt_, index + 1), index);
  p.null = true;
  p.bound = true;
}

void SqliteStatement::bind_int64(int index, std::int64_t v) {
  Param& p = param(index);
  check_bind(sqlite3_bind_int64(stmt_, index + 1, v), index);
  p.value = v;
  p.null = false;
  p.bound = true;
}

void SqliteStatement::bind_double(int index, double v) {
  Param& p = param(index);
  // SQLite stores a NaN as NULL: the value would come back otherwise, or not at all.
  if (std::isnan(v)) {
    raise_error({.code = SQLITE_MISMATCH,
                 .driver_message = sqlite3_errstr(SQLITE_MISMATCH),
                 .summary = "parameter " + std::to_string(index + 1) +
                            " is NaN, which SQLite cannot store (it would keep NULL instead)",
                 .sql = sql_,
                 .params = rendered_params()});
  }
  check_bind(sqlite3_bind_double(stmt_, index + 1, v), index);
  p.value = v;
  p.null = false;
  p.bound = true;
}

void SqliteStatement::bind_text(int index, std::string_view v) {
  Param& p = param(index);
  if (auto* s = std::get_if<std::string>(&p.value)) {
    s->assign(v);  // keeps the buffer of the previous execution when it is large enough
  } else {
    p.value.emplace<std::string>(v);
  }
  p.null = false;
  p.bound = true;
  const auto& s = std::get<std::string>(p.value);
  check_bind(sqlite3_bind_text64(stmt_, index + 1, s.data(), s.size(), SQLITE_STATIC, SQLITE_UTF8),
             index);
}

void SqliteStatement::bind_blob(int index, std::span<const std::byte> v) {
  Param& p = param(index);
  if (auto* b = std::get_if<Blob>(&p.value)) {
    b->assign(v.begin(), v.end());
  } else {
    p.value.emplace<Blob>(v.begin(), v.end());
  }
  p.null = false;
  p.bound = true;
  const auto& b = std::get<Blob>(p.value);
  // An empty blob has no data pointer, which sqlite3_bind_blob would take for NULL.
  const int rc = b.empty()
                     ? sqlite3_bind_zeroblob(stmt_, index + 1, 0)
                     : sqlite3_bind_blob64(stmt_, index + 1, b.data(), b.size(), SQLITE_STATIC);
  check_bind(rc, index);
}

std::vector<std::string> SqliteStatement::rendered_params() const {
  std::vector<std::string> out;
  out.reserve(params_.size());
  for (const Param& p : params_)
    out.push_back(p.bound && !p.null ? to_display(p.value) : "NULL");
  return out;
}

bool SqliteStatement::step() {
  sqlite3* db = conn_.handle();
  typed_column_ = -1;
  int rc = 0;
  if (fresh_) {
    fresh_ = false;
    for (std::size_t i = 0; i < params_.size(); ++i)
      if (!params_[i].bound) sqlite3_bind_null(stmt_, static_cast<int>(i) + 1);
    total_changes_ = sqlite3_total_changes64(db);
    if (conn_.echoing()) {
      const auto start = Clock::now();
      rc = sqlite3_step(stmt_);
      const auto elapsed = Clock::now() - start;
      conn_.echo(sql_, rendered_params(), elapsed, rc != SQLITE_ROW && rc != SQLITE_DONE);
    } else {
      rc = sqlite3_step(stmt_);
    }
  } else {
    rc = sqlite3_step(stmt_);
  }
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) {
    // sqlite3_changes64 still holds the count of an earlier INSERT/UPDATE/DELETE after a
    // statement that is none of these (a SELECT, DDL), or after statements run while this
    // one was between rows; read-only-ness and the connection's total tell these apart.
    const bool changed = !read_only_ && sqlite3_total_changes64(db) != total_changes_;
    rows_affected_ = changed ? sqlite3_changes64(db) : 0;
    fresh_ = true;
    return false;
  }
  fail(rc);
}

void SqliteStatement::fail(int rc) {
  FailedCall f{.code = rc,
               .driver_message = sqlite3_errmsg(conn_.handle()),
               .sql = sql_,
               .params = rendered_params(),
               .busy_timeout = conn_.busy_timeout(),
               .refused_at_once = refused_without_waiting(conn_.handle(), rc)};
  sqlite3_reset(stmt_);
  fresh_ = true;
  raise_error(std::move(f));
}

void SqliteStatement::reset() {
  typed_column_ = -1;
  sqlite3_reset(stmt_);  // returns the last step's error, already reported
  for (Param& p : params_) p.bound = false;  // NULL unless bound again (see Param)
  fresh_ = true;
}

int SqliteStatement::column_count() const { return sqlite3_column_count(stmt_); }

std::string_view SqliteStatement::column_name(int index) const {
  const char* name = sqlite3_column_name(stmt_, index);
  return name != nullptr ? std::string_view(name) : std::string_view();
}

bool SqliteStatement::is_null(int index) const { return column_type(index) == SQLITE_NULL; }

engine::StorageClass SqliteStatement::storage_class(int index) const {
  switch (column_type(index)) {
    case SQLITE_INTEGER: return engine::StorageClass::integer;
    case SQLITE_FLOAT: return engine::StorageClass::real;
    case SQLITE_TEXT: return engine::StorageClass::text;
    case SQLITE_BLOB: return engine::StorageClass::blob;
    default: return engine::StorageClass::null;
  }
}

std::int64_t SqliteStatement::get_int64(int index) const {
  return sqlite3_value_int64(column_value(index));
}

double SqliteStatement::get_double(int index) const {
  return sqlite3_value_double(column_value(index));
}

namespace {
// A value's bytes as text or as a blob (converting it if it is of another type), valid as
// SQLite's own pointer is: until the value is read otherwise or the statement moves on.
std::string_view text_of(sqlite3_value* v) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(v));
  if (text == nullptr) return {};
  return {text, static_cast<std::size_t>(sqlite3_value_bytes(v))};
}
std::span<const std::byte> blob_of(sqlite3_value* v) {
  const void* data = sqlite3_value_blob(v);
  if (data == nullptr) return {};
  return {static_cast<const std::byte*>(data), static_cast<std::size_t>(sqlite3_value_bytes(v))};
}
}  // namespace

std::string_view SqliteStatement::get_text(int index) const {
  return text_of(column_value(index));
}

ValueRef SqliteStatement::get_ref(int index) const {
  sqlite3_value* v = column_value(index);
  switch (column_type_) {
    case SQLITE_INTEGER: return ValueRef::integer(sqlite3_value_int64(v));
    case SQLITE_FLOAT: return ValueRef::real(sqlite3_value_double(v));
    case SQLITE_TEXT: return ValueRef::text(text_of(v));
    case SQLITE_BLOB: return ValueRef::blob(blob_of(v));
    default: return {};
  }
}

std::span<const std::byte> SqliteStatement::get_blob(int index) const {
  return blob_of(column_value(index));
}

// ---- SqliteConnection -------------------------------------------------------------------

bool refused_without_waiting(sqlite3* db, int rc) noexcept {
  return (rc & 0xff) == SQLITE_BUSY && sqlite3_txn_state(db, nullptr) == SQLITE_TXN_READ;
}

SqliteConnection::SqliteConnection(sqlite3* db, std::chrono::milliseconds busy_timeout,
                                   bool begin_immediate)
    : db_(db), busy_timeout_(busy_timeout), begin_immediate_(begin_immediate) {}

// sqlite3_close_v2 keeps the handle alive until the cached statements, which the base class
// destroys after this body, are finalized.
SqliteConnection::~SqliteConnection() { sqlite3_close_v2(db_); }

std::unique_ptr<engine::Statement> SqliteConnection::prepare(std::string_view sql) {
  if (sql.size() > static_cast<std::size_t>(INT_MAX)) {
    raise_error({.code = SQLITE_TOOBIG,
                 .driver_message = sqlite3_errstr(SQLITE_TOOBIG),
                 .summary = "SQL text is too long",
                 .sql = std::string(sql.substr(0, 200))});
  }
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  const auto start = Clock::now();
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), 0, &stmt, &tail);
  if (rc != SQLITE_OK) {
    if (echoing()) echo(sql, {}, Clock::now() - start, true);  // refused before it ran
    raise_error({.code = rc,
                 .driver_message = sqlite3_errmsg(db_),
                 .sql = std::string(sql),
                 .busy_timeout = busy_timeout_});
  }
  if (stmt == nullptr) {
    raise_error({.code = SQLITE_MISUSE,
                 .driver_message = sqlite3_errstr(SQLITE_MISUSE),
                 .summary = "no SQL statement to prepare: the text is empty or only comments",
                 .sql = std::string(sql)});
  }
  auto result = std::make_unique<SqliteStatement>(*this, stmt, std::string(sql));
  const std::string_view rest(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail));
  if (!only_separators(rest)) {
    // Comments may follow; any further statement would be silently ignored by SQLite.
    StmtGuard next;
    const int rc2 =
        sqlite3_prepare_v3(db_, rest.data(), static_cast<int>(rest.size()), 0, &next.stmt, nullptr);
    if (rc2 != SQLITE_OK || next.stmt != nullptr) {
      raise_error({.code = SQLITE_MISUSE,
                   .driver_message = sqlite3_errstr(SQLITE_MISUSE),
                   .summary = "prepare() takes one statement but the text holds more; "
                              "run several with execute()",
                   .sql = std::string(sql)});
    }
  }
  return result;
}

void SqliteConnection::execute(std::string_view sql) {
  const char* pos = sql.data();
  const char* const end = sql.data() + sql.size();
  while (pos < end && !only_separators(std::string_view(pos, end - pos))) {
    StmtGuard g;
    const char* next = nullptr;
    const auto prepared = Clock::now();
    const int rc = sqlite3_prepare_v3(db_, pos, static_cast<int>(end - pos), 0, &g.stmt, &next);
    if (rc != SQLITE_OK) {
      // Refused before it ran; where the bad statement ends is not known: the rest is shown.
      if (echoing())
        echo(trimmed(std::string_view(pos, static_cast<std::size_t>(end - pos))), {},
             Clock::now() - prepared, true);
      raise_error({.code = rc,
                   .driver_message = sqlite3_errmsg(db_),
                   .sql = std::string(sql),
                   .busy_timeout = busy_timeout_});
    }
    const std::string_view text = trimmed(std::string_view(pos, next));
    pos = next;
    if (g.stmt == nullptr) continue;  // only comments

    const auto start = Clock::now();
    int step_rc = sqlite3_step(g.stmt);
    const auto elapsed = Clock::now() - start;
    while (step_rc == SQLITE_ROW) step_rc = sqlite3_step(g.stmt);
    if (step_rc != SQLITE_DONE) {
      if (echoing()) echo(text, {}, elapsed, true);
      raise_error({.code = step_rc,
                   .driver_message = sqlite3_errmsg(db_),
                   .sql = std::string(text),
                   .busy_timeout = busy_timeout_,
                   .refused_at_once = refused_without_waiting(db_, step_rc)});
    }
    if (echoing()) echo(text, {}, elapsed);
  }
}

std::int64_t SqliteConnection::last_insert_id() { return sqlite3_last_insert_rowid(db_); }

bool SqliteConnection::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

void SqliteConnection::begin() { execute(begin_immediate_ ? "BEGIN IMMEDIATE" : "BEGIN"); }

void SqliteConnection::begin_locking(bool nowait) {
  if (!nowait) return execute("BEGIN IMMEDIATE");
  // The busy timeout is the connection's again however BEGIN ends.
  struct Restore {
    sqlite3* db;
    std::chrono::milliseconds ms;
    ~Restore() {
      const auto n = ms.count();
      sqlite3_busy_timeout(db, n > INT_MAX ? INT_MAX : static_cast<int>(n < 0 ? 0 : n));
    }
  } restore{db_, busy_timeout_};
  sqlite3_busy_timeout(db_, 0);
  try {
    execute("BEGIN IMMEDIATE");
  } catch (const OperationalError& e) {
    if ((e.code() & 0xff) != SQLITE_BUSY) throw;
    throw OperationalError(
        "database is locked: another connection holds the write lock, which SQLite takes for "
        "the whole database, and a lock with nowait does not wait for it",
        e.info());
  }
}

// ---- opening ----------------------------------------------------------------------------

bool database_exists(const engine::Url& url) {
  if (url.is_memory()) return true;
  check_path(url.database);  // throws when the file cannot be looked at
  std::error_code ec;
  return std::filesystem::status(url.database, ec).type() != std::filesystem::file_type::not_found;
}

namespace {
// The sqlite3_open_v2 flags of a URL's `mode` (check_url() let only these through).
int open_flags(const engine::Url& url) {
  const auto mode = url.query.find("mode");
  const std::string_view m = mode == url.query.end() ? "rwc" : std::string_view(mode->second);
  const int access = m == "ro"   ? SQLITE_OPEN_READONLY
                     : m == "rw" ? SQLITE_OPEN_READWRITE
                                 : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  return access | SQLITE_OPEN_NOMUTEX;
}
}  // namespace

void check_url(const engine::Url& url) {
  // Anything else would be ignored: a URL asking for a read-only file (`?mode=ro`) would
  // open it for writing.
  for (const auto& [key, value] : url.query) {
    if (key != "mode")
      throw ArgumentError("SQLite URL '" + url.to_string() + "': unknown query parameter '" +
                          key + "'; the only one is mode (ro, rw or rwc)");
    if (value != "ro" && value != "rw" && value != "rwc")
      throw ArgumentError("SQLite URL '" + url.to_string() + "': mode '" + value +
                          "' is not ro (read only), rw (read and write an existing file) or "
                          "rwc (read and write, created when missing: the default)");
    if (url.is_memory())
      throw ArgumentError("SQLite URL '" + url.to_string() +
                          "': an in-memory database takes no mode");
  }
}

std::unique_ptr<engine::Connection> open_connection(const engine::Url& url,
                                                    const engine::ConnectOptions& options) {
  const std::string path = url.is_memory() ? std::string(":memory:") : url.database;
  if (!url.is_memory()) check_path(path);

  sqlite3* db = nullptr;
  const int flags = open_flags(url);
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    const int code = db != nullptr ? sqlite3_extended_errcode(db) : rc;
    sqlite3_close_v2(db);
    raise_error({.code = code,
                 .driver_message = message,
                 .summary = "cannot open database file '" + path + "': " + message});
  }
  auto conn =
      std::make_unique<SqliteConnection>(db, options.busy_timeout, options.begin_immediate);
  sqlite3_extended_result_codes(db, 1);
  const auto ms = options.busy_timeout.count();
  sqlite3_busy_timeout(db, ms > INT_MAX ? INT_MAX : static_cast<int>(ms < 0 ? 0 : ms));
  if (options.foreign_keys) conn->execute("PRAGMA foreign_keys = ON");
  return conn;
}

}  // namespace strata::dialect::sqlite
