// The driver interface: a Connection to one database and the prepared Statements it runs.
// Each backend implements these in src/dialect/<name>/; nothing above sees the C API.
// Errors are thrown as the DatabaseError kinds of strata/error.hpp, carrying the SQL.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "strata/error.hpp"
#include "strata/sql/value.hpp"

namespace strata::engine {

// Where echoed SQL goes: one line per statement, with its parameters and timing.
using EchoSink = std::function<void(std::string_view line)>;

// How a value is stored in a result row (SQLite's storage classes; other drivers map their
// types onto these).
enum class StorageClass { null, integer, real, text, blob };

// A prepared statement. Parameters and result columns are numbered from 0.
// Lifecycle: bind... -> step() until false -> reset() -> bind... again.
class Statement {
 public:
  virtual ~Statement() = default;
  Statement() = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  virtual void bind_null(int index) = 0;
  virtual void bind_int64(int index, std::int64_t v) = 0;
  virtual void bind_double(int index, double v) = 0;
  virtual void bind_text(int index, std::string_view v) = 0;  // copied by the driver
  virtual void bind_blob(int index, std::span<const std::byte> v) = 0;
  // An array of values as one parameter, for drivers whose database has array types
  // (PostgreSQL; the ORM uses it where Dialect::batches_updates()). Others throw
  // ProgrammingError.
  virtual void bind_array(int index, const std::vector<Value>& values);
  void bind(int index, const Value& v);
  void bind_all(const std::vector<Value>& values);  // binds values[i] at index i

  // Runs the statement up to the next row. Returns true when a row is available, false when
  // done. Throws a DatabaseError subclass (with the SQL and bound parameters) on failure;
  // the statement is reset then.
  virtual bool step() = 0;
  // Runs to completion, ignoring rows; returns rows_affected().
  std::int64_t execute();

  // Ready to run again; clears the bindings.
  virtual void reset() = 0;

  // Result columns of the current row.
  virtual int column_count() const = 0;
  virtual std::string_view column_name(int index) const = 0;
  virtual bool is_null(int index) const = 0;
  virtual StorageClass storage_class(int index) const = 0;
  virtual std::int64_t get_int64(int index) const = 0;
  virtual double get_double(int index) const = 0;
  virtual std::string_view get_text(int index) const = 0;  // valid until the next step()
  virtual std::span<const std::byte> get_blob(int index) const = 0;
  Value get_value(int index) const;  // by the column's storage class in this row
  // The column's value in this row as a view, in one call: NULL, an integer, a real, or the
  // bytes of a text or blob (valid as get_text's or get_blob's are). For loaders that would
  // otherwise ask is_null(), storage_class() and then for the value.
  virtual ValueRef get_ref(int index) const;

  // Rows changed by the last completed INSERT/UPDATE/DELETE run through this statement.
  virtual std::int64_t rows_affected() const = 0;

  virtual const std::string& sql() const = 0;
};

class Connection;

// A statement borrowed from a connection's cache; returns itself on destruction (reset).
// Move-only. If the same SQL is already borrowed, the connection hands out a fresh statement.
class CachedStatement {
 public:
  CachedStatement() = default;
  CachedStatement(Connection* owner, Statement* stmt, std::size_t slot) noexcept
      : owner_(owner), stmt_(stmt), slot_(slot) {}
  CachedStatement(CachedStatement&& o) noexcept { swap(o); }
  CachedStatement& operator=(CachedStatement&& o) noexcept {
    CachedStatement tmp(std::move(o));
    swap(tmp);
    return *this;
  }
  ~CachedStatement();

  Statement* operator->() const noexcept { return stmt_; }
  Statement& operator*() const noexcept { return *stmt_; }
  explicit operator bool() const noexcept { return stmt_ != nullptr; }

 private:
  void swap(CachedStatement& o) noexcept {
    std::swap(owner_, o.owner_);
    std::swap(stmt_, o.stmt_);
    std::swap(slot_, o.slot_);
  }
  Connection* owner_ = nullptr;
  Statement* stmt_ = nullptr;
  std::size_t slot_ = 0;
};

// SQL text with its hash, computed once: for statements the library prepares again and again
// (a mapper's INSERT, get() by key, lazy loads), so that prepare_cached() does not hash the
// text on every call.
struct SqlText {
  SqlText() = default;
  explicit SqlText(std::string text)
      : sql(std::move(text)), hash(std::hash<std::string_view>{}(sql)) {}
  std::string sql;
  std::size_t hash = 0;  // std::hash<std::string_view> of sql, as prepare_cached computes it
};

// One open connection. Not thread-safe: one thread uses it at a time.
class Connection {
 public:
  virtual ~Connection() = default;
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // A new statement, owned by the caller.
  virtual std::unique_ptr<Statement> prepare(std::string_view sql) = 0;

  // A statement from the per-connection cache (prepared once per distinct SQL text).
  CachedStatement prepare_cached(std::string_view sql) {
    return prepare_cached(sql, std::hash<std::string_view>{}(sql));
  }
  CachedStatement prepare_cached(const SqlText& sql) { return prepare_cached(sql.sql, sql.hash); }

  // Runs SQL without parameters or results; several statements separated by ';' allowed.
  virtual void execute(std::string_view sql) = 0;

  // The key the database assigned to the last row inserted on this connection.
  virtual std::int64_t last_insert_id() = 0;

  // Transactions. begin() is a plain BEGIN (the driver may choose the form, e.g. SQLite's
  // BEGIN IMMEDIATE when asked); nested levels are savepoints (see Transaction below).
  virtual void begin();
  // BEGIN of a transaction that locks rows it reads (SELECT ... FOR UPDATE). A database that
  // locks rows needs nothing more than begin(); SQLite, which locks the whole database, takes
  // its write lock at once (BEGIN IMMEDIATE), waiting for it up to the busy timeout, or not at
  // all with nowait (OperationalError when another connection holds it).
  virtual void begin_locking(bool /*nowait*/) { begin(); }
  virtual void commit();
  virtual void rollback();
  void savepoint(std::string_view name);
  void release_savepoint(std::string_view name);
  void rollback_to_savepoint(std::string_view name);
  // Whether a transaction is open on the database side.
  virtual bool in_transaction() const = 0;

  // Whether the connection still works (false after the server went away).
  virtual bool is_alive() = 0;

  // Echo every statement to sink (nullptr: stop echoing).
  void set_echo(EchoSink sink) { echo_ = std::move(sink); }
  bool echoing() const noexcept { return static_cast<bool>(echo_); }
  // Called by drivers after a statement's first step: writes
  // "SQL  [params]  (0.123 ms)" to the echo sink, or "SQL  [params]  (failed after 0.123 ms)"
  // for a statement the database refused (the error follows as an exception).
  void echo(std::string_view sql, const std::vector<std::string>& params,
            std::chrono::nanoseconds elapsed, bool failed = false) const;

 private:
  friend class CachedStatement;
  friend class Transaction;
  CachedStatement prepare_cached(std::string_view sql, std::size_t hash);
  void give_back(std::size_t slot) noexcept;

  struct CacheEntry {
    std::string sql;
    std::unique_ptr<Statement> stmt;
    bool in_use = false;
    std::uint64_t last_used = 0;
  };
  std::vector<CacheEntry> cache_;  // small; searched by hash of SQL text
  std::vector<std::size_t> cache_hash_;
  std::vector<std::unique_ptr<Statement>> overflow_;  // extra borrows of busy statements
  std::uint64_t use_clock_ = 0;
  EchoSink echo_;
  int transaction_depth_ = 0;          // Transactions active on this connection
  std::uint64_t savepoint_serial_ = 0;  // numbers the savepoints of nested Transactions

 protected:
  static constexpr std::size_t cache_capacity = 256;
};

// RAII transaction: BEGIN on construction (or SAVEPOINT when a transaction is already open
// on this connection, through a Transaction or plain SQL), ROLLBACK in the destructor unless
// commit() was called.
// The destructor never throws.
class Transaction {
 public:
  explicit Transaction(Connection& c);
  // The outermost transaction begins with Connection::begin_locking(nowait); a nested one is
  // a savepoint as above.
  struct LockingRows {
    bool nowait = false;
  };
  Transaction(Connection& c, LockingRows locking);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  void commit();
  void rollback();
  bool active() const noexcept { return active_; }
  bool nested() const noexcept { return !savepoint_.empty(); }

 private:
  Transaction(Connection& c, std::optional<LockingRows> locking);
  Connection& conn_;
  std::string savepoint_;  // empty for the outermost transaction
  bool active_ = true;
};

}  // namespace strata::engine
