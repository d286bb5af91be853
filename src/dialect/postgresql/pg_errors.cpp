// How PostgreSQL failures become strata errors: raise_error() maps SQLSTATE classes to the
// DatabaseError kinds (called by the driver), and explain_integrity_error() words a constraint
// failure the way the SQLite dialect does, from the constraint name the server reports and the
// schema (called by PgDialect for the ORM).
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "../error_text.hpp"
#include "pg_connection.hpp"
#include "postgresql.hpp"

namespace strata::dialect::postgresql {
namespace {

using schema::MetaData;
using schema::Table;

using error_text::one_line;

std::string field(const PGresult* r, int code) {
  if (r == nullptr) return {};
  const char* v = PQresultErrorField(r, code);
  return v != nullptr ? std::string(v) : std::string();
}

// " [SQL: ...] [parameters: ...]" for what().
std::string context(const FailedCall& f) {
  return error_text::statement_context(f.sql, f.params);
}

ConstraintKind kind_of(std::string_view sqlstate) {
  if (sqlstate == "23505") return ConstraintKind::unique;
  if (sqlstate == "23503") return ConstraintKind::foreign_key;
  if (sqlstate == "23502") return ConstraintKind::not_null;
  if (sqlstate == "23514") return ConstraintKind::check;
  return ConstraintKind::unknown;
}

bool lost_connection(const FailedCall& f, std::string_view sqlstate) {
  if (sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" ||
      sqlstate == "57P03") {
    return true;
  }
  return sqlstate.empty() && f.conn != nullptr && PQstatus(f.conn) == CONNECTION_BAD;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i == 0 ? "" : ", ") + items[i];
  return out;
}

const Value* find_value(const RowContext& row, std::string_view column) {
  for (const auto& [name, value] : row.values) {
    if (name == column) return &value;
  }
  return nullptr;
}

std::string describe_key(const std::vector<std::string>& columns,
                         const std::vector<Value>& values) {
  if (columns.size() == 1) return columns[0] + " = " + to_display(values[0]);
  std::vector<std::string> shown;
  for (const Value& v : values) shown.push_back(to_display(v));
  return "(" + join(columns) + ") = (" + join(shown) + ")";
}

IntegrityError learnt(const IntegrityError& e, const std::string& message, ConstraintKind kind,
                      std::string table, std::string constraint) {
  return IntegrityError(message, e.info(), kind, std::move(table), std::move(constraint));
}

}  // namespace

void raise_error(const FailedCall& f) {
  const std::string sqlstate = field(f.result, PG_DIAG_SQLSTATE);
  std::string driver_message = field(f.result, PG_DIAG_MESSAGE_PRIMARY);
  if (driver_message.empty() && f.result != nullptr) driver_message = PQresultErrorMessage(f.result);
  if (driver_message.empty() && f.conn != nullptr) driver_message = PQerrorMessage(f.conn);
  driver_message = one_line(driver_message);
  if (driver_message.starts_with("ERROR:  ")) driver_message.erase(0, 8);

  DatabaseErrorInfo info;
  info.sql = f.sql;
  info.params = f.params;
  info.sqlstate = sqlstate;
  info.driver_message = driver_message;

  if (!f.summary.empty()) {
    const std::string message = one_line(f.summary) + context(f);
    switch (f.kind) {
      case FailedCall::Kind::programming: throw ProgrammingError(message, std::move(info));
      case FailedCall::Kind::data: throw DataError(message, std::move(info));
      default: throw OperationalError(message, std::move(info));
    }
  }

  if (lost_connection(f, sqlstate)) {
    // Lost before its COMMIT, a transaction is rolled back by the server; lost at its COMMIT,
    // the server may have committed it before the connection went.
    std::string_view sql = f.sql;
    while (!sql.empty() && (sql.front() == ' ' || sql.front() == '\n')) sql.remove_prefix(1);
    const bool at_commit = sql.size() >= 6 && (sql.substr(0, 6) == "COMMIT" ||
                                               sql.substr(0, 6) == "commit");
    throw OperationalError("lost the connection to the database server (" + driver_message +
                               (at_commit ? "); whether the server committed the transaction "
                                            "before the connection went is not known"
                                          : "); the transaction was rolled back by the server") +
                               context(f),
                           std::move(info));
  }

  std::string message = driver_message;
  if (const std::string detail = one_line(field(f.result, PG_DIAG_MESSAGE_DETAIL)); !detail.empty())
    message += ": " + detail;
  message += context(f);

  const std::string_view cls = std::string_view(sqlstate).substr(0, std::min<std::size_t>(2, sqlstate.size()));
  if (cls == "23") {
    throw IntegrityError(message, std::move(info), kind_of(sqlstate),
                         field(f.result, PG_DIAG_TABLE_NAME),
                         field(f.result, PG_DIAG_CONSTRAINT_NAME));
  }
  if (sqlstate == "55P03") {  // lock_timeout: the busy timeout
    throw OperationalError("database is locked: " + message, std::move(info));
  }
  if (sqlstate == "57014") {
    // statement_timeout, or a cancel request (pg_cancel_backend): no lock is involved.
    throw OperationalError("the statement was canceled (statement_timeout, or a cancel "
                           "request): " + message,
                           std::move(info));
  }
  if (sqlstate == "25P02") {
    throw ProgrammingError(
        "the transaction was aborted by an earlier error; roll it back before running more "
        "statements" + context(f),
        std::move(info));
  }
  // Class 21, a cardinality violation: a scalar subquery that returned more than one row.
  if (cls == "42" || cls == "0A" || cls == "26" || cls == "34" || cls == "3F" || cls == "25" ||
      cls == "20" || cls == "21") {
    throw ProgrammingError(message, std::move(info));
  }
  if (cls == "22") throw DataError(message, std::move(info));
  throw OperationalError(message, std::move(info));
}

// The server names the constraint and its table; the schema says what the constraint covers,
// and the row being written gives the values. Messages match the SQLite dialect's.
IntegrityError explain_integrity_error(const IntegrityError& e, const RowContext& row,
                                       const MetaData& md) {
  try {
    const std::string& name = e.constraint();
    const Table* t = md.find(e.table());
    if (t == nullptr) return e;
    const std::string on = "' on table '" + t->name + "' (";
    switch (e.kind()) {
      case ConstraintKind::unique:
      case ConstraintKind::primary_key: {
        if (!name.empty() && name == t->primary_key.name) {
          return learnt(e, "duplicate value for primary key '" + name + on +
                               join(t->primary_key.columns) + ")",
                        ConstraintKind::primary_key, t->name, name);
        }
        for (const auto& u : t->uniques) {
          if (u.name == name) {
            return learnt(e, "duplicate value for unique constraint '" + name + on +
                                 join(u.columns) + ")",
                          ConstraintKind::unique, t->name, name);
          }
        }
        for (const auto& ix : t->indexes) {
          if (ix.name == name) {
            return learnt(e, "duplicate value for unique index '" + name + on +
                                 join(ix.columns) + ")",
                          ConstraintKind::unique, t->name, name);
          }
        }
        break;
      }
      case ConstraintKind::not_null: {
        // The server's message names the column: null value in column "x" of relation "t" ...
        std::string col;
        const std::string& msg = e.info().driver_message;
        if (auto p = msg.find("column \""); p != std::string::npos) {
          const auto end = msg.find('"', p + 8);
          if (end != std::string::npos) col = msg.substr(p + 8, end - p - 8);
        }
        if (col.empty()) break;
        return learnt(e, "column '" + t->name + "." + col + "' may not be NULL",
                      ConstraintKind::not_null, t->name, {});
      }
      case ConstraintKind::check:
        for (const auto& ck : t->checks) {
          if (ck.name == name) {
            return learnt(e, "check constraint '" + name + "' failed on table '" + t->name + "'",
                          ConstraintKind::check, t->name, name);
          }
        }
        break;
      case ConstraintKind::foreign_key:
        for (const auto& fk : t->foreign_keys) {
          if (fk.name != name) continue;
          std::vector<std::string> refcols = fk.referred_columns;
          if (refcols.empty()) {
            if (const Table* parent = md.find(fk.referred_table)) refcols = parent->primary_key.columns;
          }
          if (row.operation == RowContext::Operation::delete_ || row.table != t->name) {
            // The server reports the referring table: rows there still refer to the deleted one.
            return learnt(e,
                          "delete from '" + fk.referred_table + "' violates foreign key '" + name +
                              "' on table '" + t->name + "': rows in '" + t->name +
                              "' still refer to it",
                          ConstraintKind::foreign_key, t->name, name);
          }
          std::vector<Value> key;
          for (const auto& c : fk.columns) {
            const Value* v = find_value(row, c);
            if (v == nullptr) break;
            key.push_back(*v);
          }
          const std::string verb = row.operation == RowContext::Operation::insert
                                       ? "insert into '" + row.table + "'"
                                       : "update of '" + row.table + "'";
          if (key.size() != fk.columns.size() || refcols.size() != key.size()) {
            return learnt(e, verb + " violates foreign key '" + name + "': no such row in '" +
                                 fk.referred_table + "'",
                          ConstraintKind::foreign_key, t->name, name);
          }
          return learnt(e,
                        verb + " violates foreign key '" + name + "': no row in '" +
                            fk.referred_table + "' with " + describe_key(refcols, key),
                        ConstraintKind::foreign_key, t->name, name);
        }
        break;
      case ConstraintKind::unknown: break;
    }
  } catch (...) {
    // Explaining is best effort: the original error is still true.
  }
  return e;
}

}  // namespace strata::dialect::postgresql
