// Private to the SQLite dialect: engine::Connection and engine::Statement over the sqlite3 C
// API, and the translation of SQLite result codes into strata's DatabaseError kinds.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "strata/engine/connection.hpp"
#include "strata/engine/engine.hpp"

namespace strata::dialect::sqlite {

class SqliteConnection;

class SqliteStatement final : public engine::Statement {
 public:
  // Takes ownership of stmt (finalized in the destructor).
  SqliteStatement(SqliteConnection& conn, sqlite3_stmt* stmt, std::string sql);
  ~SqliteStatement() override;

  void bind_null(int index) override;
  void bind_int64(int index, std::int64_t v) override;
  void bind_double(int index, double v) override;
  void bind_text(int index, std::string_view v) override;
  void bind_blob(int index, std::span<const std::byte> v) override;

  bool step() override;
  void reset() override;

  int column_count() const override;
  std::string_view column_name(int index) const override;
  bool is_null(int index) const override;
  engine::StorageClass storage_class(int index) const override;
  std::int64_t get_int64(int index) const override;
  double get_double(int index) const override;
  std::string_view get_text(int index) const override;
  ValueRef get_ref(int index) const override;
  std::span<const std::byte> get_blob(int index) const override;

  std::int64_t rows_affected() const override { return rows_affected_; }
  const std::string& sql() const override { return sql_; }

 private:
  // A parameter's value as bound. SQLite reads text and blobs straight from here
  // (SQLITE_STATIC), so binding copies once, reuses the buffer from one execution to the
  // next, and the values stay at hand for echo and error messages (SQLite cannot give them
  // back). params_ is sized once, at prepare time, and never resized: that keeps the
  // buffers SQLite points into where they are.
  // A NULL keeps value as it was (null set), so that a text parameter bound NULL in one
  // execution and text in the next keeps its buffer. A parameter not bound since reset() is
  // bound NULL when the statement next starts (step()), which spares sqlite3_clear_bindings
  // on every reset.
  struct Param {
    Value value;
    bool bound = false;
    bool null = false;
  };
  Param& param(int index);  // throws DataError naming the valid range
  void check_bind(int rc, int index);
  std::vector<std::string> rendered_params() const;
  [[noreturn]] void fail(int rc);
  // A column of the current row, as sqlite3_column_value gives it, and its sqlite3_value_type.
  // The last column asked about is remembered until the next step() or reset(): a load asks
  // whether a value is NULL, then which storage class it has, then reads it, and each call
  // through sqlite3_column_* would look the column up again. The type is the one the column
  // had before it was read (reading may convert it). Reading a value returned by
  // sqlite3_column_value is thread-safe only without the connection's mutex, which a
  // SqliteConnection never has (SQLITE_OPEN_NOMUTEX): it is used by one thread at a time.
  sqlite3_value* column_value(int index) const {
    if (index != typed_column_) {
      value_ = sqlite3_column_value(stmt_, index);
      column_type_ = sqlite3_value_type(value_);
      typed_column_ = index;
    }
    return value_;
  }
  int column_type(int index) const {
    column_value(index);
    return column_type_;
  }

  SqliteConnection& conn_;
  sqlite3_stmt* stmt_;
  std::string sql_;
  std::vector<Param> params_;
  bool read_only_;                  // SELECT and the like: never affects rows
  bool fresh_ = true;               // the next step() starts a new execution
  std::int64_t total_changes_ = 0;  // sqlite3_total_changes64 when the execution started
  std::int64_t rows_affected_ = 0;
  mutable int typed_column_ = -1;  // the column value_ and column_type_ belong to, -1: none
  mutable int column_type_ = 0;
  mutable sqlite3_value* value_ = nullptr;
};

class SqliteConnection final : public engine::Connection {
 public:
  // Takes ownership of db (closed in the destructor).
  SqliteConnection(sqlite3* db, std::chrono::milliseconds busy_timeout, bool begin_immediate);
  ~SqliteConnection() override;

  std::unique_ptr<engine::Statement> prepare(std::string_view sql) override;
  void execute(std::string_view sql) override;
  std::int64_t last_insert_id() override;
  bool in_transaction() const override;
  // BEGIN, or BEGIN IMMEDIATE with ConnectOptions::begin_immediate.
  void begin() override;
  // BEGIN IMMEDIATE: SQLite locks the database, not rows.
  void begin_locking(bool nowait) override;
  bool is_alive() override { return db_ != nullptr; }

  sqlite3* handle() const noexcept { return db_; }
  std::chrono::milliseconds busy_timeout() const noexcept { return busy_timeout_; }

 private:
  sqlite3* db_;
  std::chrono::milliseconds busy_timeout_;
  bool begin_immediate_;
};

// What a failed SQLite call was doing, for the error it turns into.
struct FailedCall {
  int code = 0;                       // extended result code
  std::string driver_message{};       // sqlite3_errmsg (or sqlite3_errstr when there is no db)
  std::string summary{};              // our own message; empty: derived from code and driver's
  std::string sql{};                  // the statement, empty when not statement-related
  std::vector<std::string> params{};  // bound parameters rendered with to_display
  std::chrono::milliseconds busy_timeout{0};  // how long SQLite waited on a lock
  // SQLITE_BUSY without waiting: the transaction had read before it wrote (see
  // refused_without_waiting), so busy_timeout did not apply.
  bool refused_at_once = false;
};

// Whether a SQLITE_BUSY that a statement on db just returned came without the busy timeout's
// wait: SQLite waits for a lock only when the connection holds no read transaction yet. A
// transaction that has read and then writes while another connection writes (or, in WAL mode,
// has written since it began reading) is refused at once, since waiting could deadlock.
bool refused_without_waiting(sqlite3* db, int rc) noexcept;

// Throws the DatabaseError kind for f.code (sqlite_errors.cpp): IntegrityError with the
// constraint kind and what SQLite's message says of table or constraint; OperationalError for
// locks, I/O and open failures; ProgrammingError for bad SQL; DataError for values that do
// not fit. what() is one line: the message, then [SQL: ...] and [parameters: ...].
[[noreturn]] void raise_error(FailedCall f);

}  // namespace strata::dialect::sqlite
