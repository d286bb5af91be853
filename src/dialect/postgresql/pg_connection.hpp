// Private to the PostgreSQL dialect: engine::Connection and engine::Statement over libpq, and
// the translation of libpq failures (SQLSTATE codes) into strata's DatabaseError kinds.
//
// Statements are server-side prepared statements (PQprepare once, PQexecPrepared per
// execution) with parameters sent as text (blobs as binary), their types inferred by the
// server from where they stand. Results come back in text format and are read in place: a
// statement holds its PGresult until the next execution or reset().
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "strata/engine/connection.hpp"
#include "strata/engine/engine.hpp"

namespace strata::dialect::postgresql {

// What a connection and its statements share. Statements may outlive the connection (the
// base Connection destroys its statement cache after the derived destructor closed the
// socket): a statement finds conn == nullptr then and leaves the server alone.
struct Link {
  PGconn* conn = nullptr;
  std::vector<std::string> to_deallocate;  // prepared statements no longer in use
  // The server sent a FATAL message outside a statement: it is ending the connection.
  bool ending = false;
};

// Frees a PGresult on every path.
struct ResultPtr {
  PGresult* res = nullptr;
  ResultPtr() = default;
  explicit ResultPtr(PGresult* r) : res(r) {}
  ResultPtr(const ResultPtr&) = delete;
  ResultPtr& operator=(const ResultPtr&) = delete;
  ResultPtr(ResultPtr&& o) noexcept : res(o.res) { o.res = nullptr; }
  ResultPtr& operator=(ResultPtr&& o) noexcept {
    if (this != &o) {
      PQclear(res);
      res = o.res;
      o.res = nullptr;
    }
    return *this;
  }
  ~ResultPtr() { PQclear(res); }
  PGresult* get() const noexcept { return res; }
};

class PgConnection;

class PgStatement final : public engine::Statement {
 public:
  PgStatement(PgConnection& conn, std::string name, std::string sql, std::size_t param_count);
  ~PgStatement() override;

  void bind_null(int index) override;
  void bind_int64(int index, std::int64_t v) override;
  void bind_double(int index, double v) override;
  void bind_text(int index, std::string_view v) override;
  void bind_blob(int index, std::span<const std::byte> v) override;
  // Sent as an array literal in text form: {1,NULL,"text \"quoted\""}.
  void bind_array(int index, const std::vector<Value>& values) override;

  bool step() override;
  void reset() override;

  int column_count() const override;
  std::string_view column_name(int index) const override;
  bool is_null(int index) const override;
  engine::StorageClass storage_class(int index) const override;
  std::int64_t get_int64(int index) const override;
  double get_double(int index) const override;
  std::string_view get_text(int index) const override;
  std::span<const std::byte> get_blob(int index) const override;
  ValueRef get_ref(int index) const override;

  std::int64_t rows_affected() const override { return rows_affected_; }
  const std::string& sql() const override { return sql_; }

 private:
  struct Param {
    Value value;        // as bound, for echo and error messages
    std::string text;   // what is sent (text format); blobs are sent from value
    bool bound = false;
  };
  Param& param(int index);  // throws DataError naming the valid range
  std::vector<std::string> rendered_params() const;
  // Throws DataError when text bound to parameter `index` holds a NUL byte.
  void refuse_nul(int index, std::string_view v);
  void execute_prepared();
  const PGresult* shape() const;  // the result, or the statement's description before one
  // The type of result_'s column `index`, as PQftype gives it (InvalidOid without a result or
  // for a column it does not have), read once per result rather than per value.
  Oid type_of(int index) const {
    return static_cast<std::size_t>(index) < types_.size() ? types_[index] : InvalidOid;
  }
  // A column's bytes as a blob: bytea decoded into blob_, other types as their text.
  std::span<const std::byte> blob_of(std::string_view text, Oid type) const;

  std::shared_ptr<Link> link_;
  PgConnection& conn_;
  std::string name_;
  std::string sql_;
  std::vector<Param> params_;
  ResultPtr result_;
  std::vector<Oid> types_;  // result_'s column types: type_of()
  mutable ResultPtr description_;
  int row_ = -1;        // the current row of result_
  int rows_ = 0;        // rows in result_
  bool fresh_ = true;   // the next step() starts a new execution
  std::int64_t rows_affected_ = 0;
  mutable std::vector<std::byte> blob_;  // get_blob()'s decoded bytes
};

class PgConnection final : public engine::Connection {
 public:
  explicit PgConnection(PGconn* conn);
  ~PgConnection() override;

  std::unique_ptr<engine::Statement> prepare(std::string_view sql) override;
  void execute(std::string_view sql) override;
  std::int64_t last_insert_id() override;
  bool in_transaction() const override;
  bool is_alive() override;

  PGconn* handle() const noexcept { return link_->conn; }
  const std::shared_ptr<Link>& link() const noexcept { return link_; }

 private:
  void deallocate_unused();

  std::shared_ptr<Link> link_;
  std::uint64_t next_statement_ = 0;
};

// What a failed libpq call was doing, for the error it turns into.
struct FailedCall {
  // For a failure libpq did not report (summary set): which kind of error it is.
  enum class Kind { from_server, operational, programming, data };
  Kind kind = Kind::from_server;
  const PGresult* result = nullptr;   // the failed result, when there is one (diagnostics)
  PGconn* conn = nullptr;             // for PQerrorMessage and PQstatus when result is null
  std::string summary{};              // our own message; empty: derived from the diagnostics
  std::string sql{};                  // the statement, empty when not statement-related
  std::vector<std::string> params{};  // bound parameters rendered with to_display
};

// Throws the DatabaseError kind for the failure's SQLSTATE (pg_errors.cpp): IntegrityError
// (class 23) with the constraint's kind, name and table as the server reports them;
// OperationalError for connection loss, lock and cancel (timeouts), serialization failures;
// ProgrammingError for bad SQL (class 42) and statements in an aborted transaction; DataError
// for values that do not fit (class 22). what() is one line: the message, then [SQL: ...] and
// [parameters: ...].
[[noreturn]] void raise_error(const FailedCall& f);

}  // namespace strata::dialect::postgresql
