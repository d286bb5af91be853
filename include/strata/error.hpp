// The error tree of strata: one root, a shallow set of actionable kinds.
// Every layer throws these; the CLI prints what() on one line and exits non-zero.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace strata {

// Root of every error strata raises.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The API was misused; raised when the offending thing is built (bad URL, bad mapping...).
class ArgumentError : public Error {
 public:
  using Error::Error;
};

// An expression or statement cannot be turned into SQL for the chosen dialect.
class CompileError : public Error {
 public:
  using Error::Error;
};

// What the driver said, with the statement that caused it.
struct DatabaseErrorInfo {
  std::string sql;                  // the statement text, empty when not statement-related
  std::vector<std::string> params;  // bound parameters rendered for display
  std::string sqlstate;             // PostgreSQL SQLSTATE; empty on SQLite
  int code = 0;                     // SQLite extended result code; 0 on PostgreSQL
  std::string driver_message;       // the message as the driver gave it
};

// Raised by the database (through a driver). what() is a one-line message naming the cause.
class DatabaseError : public Error {
 public:
  DatabaseError(const std::string& message, DatabaseErrorInfo info)
      : Error(message), info_(std::move(info)) {}
  const DatabaseErrorInfo& info() const noexcept { return info_; }
  const std::string& sql() const noexcept { return info_.sql; }
  const std::string& sqlstate() const noexcept { return info_.sqlstate; }
  int code() const noexcept { return info_.code; }

 private:
  DatabaseErrorInfo info_;
};

// What kind of constraint an IntegrityError broke.
enum class ConstraintKind { unknown, primary_key, unique, foreign_key, not_null, check };

// A constraint was violated. constraint() names it when it can be known (the ORM fills it in
// from the schema when the driver does not say).
class IntegrityError : public DatabaseError {
 public:
  IntegrityError(const std::string& message, DatabaseErrorInfo info,
                 ConstraintKind kind = ConstraintKind::unknown, std::string table = {},
                 std::string constraint = {})
      : DatabaseError(message, std::move(info)),
        kind_(kind),
        table_(std::move(table)),
        constraint_(std::move(constraint)) {}
  ConstraintKind kind() const noexcept { return kind_; }
  const std::string& table() const noexcept { return table_; }
  const std::string& constraint() const noexcept { return constraint_; }

 private:
  ConstraintKind kind_;
  std::string table_;
  std::string constraint_;
};

// The database could not do the operation: unreachable, locked, busy, disk I/O, bad path.
class OperationalError : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

// The SQL was wrong: unknown table or column, syntax error.
class ProgrammingError : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

// A value did not fit: too large, wrong type when loading.
class DataError : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

// The session or query was used in a way that cannot work now (e.g. after a failed flush,
// before rollback()).
class InvalidRequestError : public Error {
 public:
  using Error::Error;
};

// The unit of work could not be flushed for a reason found before talking to the database.
class FlushError : public InvalidRequestError {
 public:
  using InvalidRequestError::InvalidRequestError;
};

// An UPDATE or DELETE of one object matched no row: someone else deleted or changed it.
class StaleDataError : public FlushError {
 public:
  using FlushError::FlushError;
};

// one() found nothing.
class NoResultFound : public InvalidRequestError {
 public:
  using InvalidRequestError::InvalidRequestError;
};

// one() or one_or_none() found more than one row.
class MultipleResultsFound : public InvalidRequestError {
 public:
  using InvalidRequestError::InvalidRequestError;
};

// A lazy relationship or refresh was asked of an object whose session is gone.
class DetachedInstanceError : public InvalidRequestError {
 public:
  using InvalidRequestError::InvalidRequestError;
};

}  // namespace strata
