// How SQLite failures become strata errors: raise_error() maps result codes to the
// DatabaseError kinds (called by the driver), and explain_integrity_error() names the
// constraint behind a constraint failure from the schema (called by SqliteDialect for the ORM).
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../error_text.hpp"
#include "sqlite.hpp"
#include "sqlite_connection.hpp"

namespace strata::dialect::sqlite {
namespace {

using schema::MetaData;
using schema::Table;

using error_text::one_line;

// The part of an SQLite message after "...failed: ", e.g. "user.email" or "ck_name".
std::string_view detail(std::string_view message) {
  const std::size_t p = message.find(": ");
  return p == std::string_view::npos ? std::string_view() : message.substr(p + 2);
}

std::vector<std::string_view> split_list(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    const std::size_t p = s.find(", ");
    out.push_back(s.substr(0, p));
    if (p == std::string_view::npos) break;
    s.remove_prefix(p + 2);
  }
  return out;
}

struct QualifiedColumn {
  std::string table;
  std::string column;
};

// "table.column" as SQLite writes it; when metadata is given, a table name holding a '.' is
// recognised too.
QualifiedColumn split_qualified(std::string_view entry, const MetaData* metadata) {
  std::size_t dot = entry.find('.');
  if (metadata != nullptr) {
    for (std::size_t p = entry.find('.'); p != std::string_view::npos; p = entry.find('.', p + 1)) {
      if (metadata->find(entry.substr(0, p)) != nullptr) dot = p;
    }
  }
  if (dot == std::string_view::npos) return {"", std::string(entry)};
  return {std::string(entry.substr(0, dot)), std::string(entry.substr(dot + 1))};
}

// The name inside "index 'name'", SQLite's wording for a unique index on expressions.
std::optional<std::string> index_name(std::string_view entry) {
  constexpr std::string_view prefix = "index '";
  if (entry.substr(0, prefix.size()) != prefix || entry.size() < prefix.size() + 1 ||
      entry.back() != '\'') {
    return std::nullopt;
  }
  return std::string(entry.substr(prefix.size(), entry.size() - prefix.size() - 1));
}

bool is_identifier(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$';
  });
}

ConstraintKind kind_of(int code, std::string_view message) {
  switch (code) {
    case SQLITE_CONSTRAINT_UNIQUE: return ConstraintKind::unique;
    case SQLITE_CONSTRAINT_PRIMARYKEY: return ConstraintKind::primary_key;
    case SQLITE_CONSTRAINT_FOREIGNKEY: return ConstraintKind::foreign_key;
    case SQLITE_CONSTRAINT_NOTNULL: return ConstraintKind::not_null;
    case SQLITE_CONSTRAINT_CHECK: return ConstraintKind::check;
    default: break;
  }
  const auto starts = [&](std::string_view p) { return message.substr(0, p.size()) == p; };
  if (starts("UNIQUE constraint failed")) return ConstraintKind::unique;
  if (starts("NOT NULL constraint failed")) return ConstraintKind::not_null;
  if (starts("CHECK constraint failed")) return ConstraintKind::check;
  if (starts("FOREIGN KEY constraint failed")) return ConstraintKind::foreign_key;
  return ConstraintKind::unknown;
}

// " [SQL: ...] [parameters: ...]" for what().
std::string context(const FailedCall& f) {
  return error_text::statement_context(f.sql, f.params);
}

std::string default_message(const FailedCall& f) {
  switch (f.code & 0xff) {
    case SQLITE_BUSY:
      if (f.refused_at_once)
        return std::string(f.code == SQLITE_BUSY_SNAPSHOT
                               ? "database is locked: another connection wrote after this "
                                 "transaction began reading"
                               : "database is locked: another connection is writing, and this "
                                 "transaction read before its first write") +
               ", so SQLite refuses the write at once (waiting could deadlock; the busy timeout "
               "does not apply); roll back and run the transaction again, or begin transactions "
               "with BEGIN IMMEDIATE (ConnectOptions::begin_immediate)";
      if (error_text::is_commit(f.sql))
        // (Outside WAL mode) a COMMIT waits for the readers to finish.
        return "database is locked: another connection is reading, and this COMMIT waits for "
               "its read to end (waited " +
               std::to_string(f.busy_timeout.count()) +
               " ms); the transaction is still open: end the reader's transaction and commit "
               "again, or raise the busy timeout";
      return "database is locked: another connection holds a write lock (waited " +
             std::to_string(f.busy_timeout.count()) +
             " ms); end that connection's transaction or raise the busy timeout";
    case SQLITE_LOCKED:
      return one_line(f.driver_message) +
             ": a statement on this connection still uses the table; step it to the end or "
             "reset it first";
    default: return one_line(f.driver_message);
  }
}

}  // namespace

void raise_error(FailedCall f) {
  const std::string message =
      (f.summary.empty() ? default_message(f) : one_line(f.summary)) + context(f);
  DatabaseErrorInfo info;
  info.sql = std::move(f.sql);
  info.params = std::move(f.params);
  info.code = f.code;
  info.driver_message = f.driver_message;

  switch (f.code & 0xff) {
    case SQLITE_CONSTRAINT: {
      const ConstraintKind kind = kind_of(f.code, f.driver_message);
      const std::string_view d = detail(f.driver_message);
      std::string table;
      std::string constraint;
      if (kind == ConstraintKind::check) {
        if (is_identifier(d)) constraint = std::string(d);
      } else if (!d.empty()) {
        const std::string_view first = split_list(d).front();
        if (auto name = index_name(first)) {
          constraint = std::move(*name);
        } else {
          table = split_qualified(first, nullptr).table;
        }
      }
      throw IntegrityError(message, std::move(info), kind, std::move(table), std::move(constraint));
    }
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
    case SQLITE_NOMEM:
    case SQLITE_INTERRUPT:
    case SQLITE_ABORT:
    case SQLITE_AUTH:
    case SQLITE_NOLFS:
    case SQLITE_SCHEMA: throw OperationalError(message, std::move(info));
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE: throw DataError(message, std::move(info));
    case SQLITE_ERROR:
    case SQLITE_MISUSE: throw ProgrammingError(message, std::move(info));
    default: throw DatabaseError(message, std::move(info));
  }
}

// ---- explain_integrity_error ------------------------------------------------------------

namespace {

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) out += (i == 0 ? "" : ", ") + names[i];
  return out;
}

bool same_columns(std::vector<std::string> a, std::vector<std::string> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

const Value* find_value(const RowContext& row, const std::string& column) {
  for (const auto& [name, value] : row.values) {
    if (name == column) return &value;
  }
  return nullptr;
}

// Whether table holds a row whose columns equal values.
bool row_exists(engine::Connection& conn, const std::string& table,
                const std::vector<std::string>& columns, const std::vector<Value>& values) {
  std::string sql = "SELECT 1 FROM " + quote_identifier(table) + " WHERE ";
  for (std::size_t i = 0; i < columns.size(); ++i) {
    sql += (i == 0 ? "" : " AND ") + quote_identifier(columns[i]) + " = ?";
  }
  sql += " LIMIT 1";
  auto stmt = conn.prepare(sql);
  stmt->bind_all(values);
  return stmt->step();
}

IntegrityError learnt(const IntegrityError& e, std::string message, ConstraintKind kind,
                      std::string table, std::string constraint) {
  return IntegrityError(message, e.info(), kind, std::move(table), std::move(constraint));
}

std::optional<IntegrityError> explain_unique(const IntegrityError& e, ConstraintKind kind,
                                             std::string_view d, const MetaData& md) {
  const auto entries = split_list(d);
  if (entries.empty()) return std::nullopt;
  if (auto name = index_name(entries.front())) {
    for (const Table& t : md.tables()) {
      for (const auto& ix : t.indexes) {
        if (ix.name != *name) continue;
        return learnt(
            e, "duplicate value for unique index '" + ix.name + "' on table '" + t.name + "'",
            ConstraintKind::unique, t.name, ix.name);
      }
    }
    return std::nullopt;
  }
  std::string table_name;
  std::vector<std::string> columns;
  for (std::string_view entry : entries) {
    auto q = split_qualified(entry, &md);
    table_name = std::move(q.table);
    columns.push_back(std::move(q.column));
  }
  const Table* t = md.find(table_name);
  if (t == nullptr) return std::nullopt;
  const std::string on = "' on table '" + t->name + "' (";
  if (kind == ConstraintKind::primary_key || same_columns(t->primary_key.columns, columns)) {
    const std::string& pk = t->primary_key.name;
    const std::string what =
        pk.empty() ? "the primary key of table '" + t->name + "' (" : "primary key '" + pk + on;
    return learnt(e, "duplicate value for " + what + join(columns) + ")",
                  ConstraintKind::primary_key, t->name, pk);
  }
  for (const auto& u : t->uniques) {
    if (!same_columns(u.columns, columns)) continue;
    return learnt(e,
                  "duplicate value for unique constraint '" + u.name + on + join(u.columns) + ")",
                  ConstraintKind::unique, t->name, u.name);
  }
  for (const auto& ix : t->indexes) {
    if (!ix.unique || !same_columns(ix.columns, columns)) continue;
    return learnt(e, "duplicate value for unique index '" + ix.name + on + join(ix.columns) + ")",
                  ConstraintKind::unique, t->name, ix.name);
  }
  return std::nullopt;
}

std::optional<IntegrityError> explain_not_null(const IntegrityError& e, std::string_view d,
                                               const MetaData& md) {
  if (d.empty()) return std::nullopt;
  auto q = split_qualified(d, &md);
  return learnt(e, "column '" + std::string(d) + "' may not be NULL", ConstraintKind::not_null,
                std::move(q.table), {});
}

std::string normalized(std::string_view sql) {
  std::string out;
  for (char c : sql) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') out += c;
  }
  return out;
}

std::optional<IntegrityError> explain_check(const IntegrityError& e, std::string_view d,
                                            const RowContext& row, const MetaData& md) {
  // SQLite gives the constraint's name, or for an unnamed one its expression text.
  const auto found = [&](const Table& t, const schema::CheckConstraint& ck) {
    return learnt(e, "check constraint '" + ck.name + "' failed on table '" + t.name + "'",
                  ConstraintKind::check, t.name, ck.name);
  };
  const Table* written = md.find(row.table);
  std::vector<const Table*> order;
  if (written != nullptr) order.push_back(written);
  for (const Table& t : md.tables()) {
    if (&t != written) order.push_back(&t);
  }
  for (const Table* t : order) {
    for (const auto& ck : t->checks) {
      if (ck.name == d) return found(*t, ck);
    }
  }
  if (written != nullptr) {
    for (const auto& ck : written->checks) {
      if (normalized(ck.sqltext) == normalized(d)) return found(*written, ck);
    }
  }
  return std::nullopt;
}

std::string describe_key(const std::vector<std::string>& columns,
                         const std::vector<Value>& values) {
  if (columns.size() == 1) return columns[0] + " = " + to_display(values[0]);
  std::vector<std::string> shown;
  for (const Value& v : values) shown.push_back(to_display(v));
  return "(" + join(columns) + ") = (" + join(shown) + ")";
}

// The columns a foreign key refers to: as written, else the parent's primary key.
std::vector<std::string> referred_columns(const schema::ForeignKey& fk, const MetaData& md) {
  if (!fk.referred_columns.empty()) return fk.referred_columns;
  const Table* parent = md.find(fk.referred_table);
  return parent != nullptr ? parent->primary_key.columns : std::vector<std::string>{};
}

// A delete failed: find a child table that still refers to the deleted row.
std::optional<IntegrityError> explain_fk_delete(const IntegrityError& e, const RowContext& row,
                                                engine::Connection& conn, const MetaData& md) {
  using schema::ReferentialAction;
  for (const Table& child : md.tables()) {
    for (const auto& fk : child.foreign_keys) {
      // Cascading keys do not fail themselves; the failure is further down.
      if (fk.referred_table != row.table || fk.on_delete == ReferentialAction::cascade ||
          fk.on_delete == ReferentialAction::set_null) {
        continue;
      }
      const auto refcols = referred_columns(fk, md);
      if (refcols.size() != fk.columns.size() || refcols.empty()) continue;
      std::vector<Value> key;
      for (const auto& c : refcols) {
        const Value* v = find_value(row, c);
        if (v == nullptr || is_null(*v)) break;
        key.push_back(*v);
      }
      if (key.size() != refcols.size() || !row_exists(conn, child.name, fk.columns, key)) {
        continue;
      }
      return learnt(e,
                    "delete from '" + row.table + "' violates foreign key '" + fk.name +
                        "' on table '" + child.name + "': rows in '" + child.name +
                        "' still refer to it",
                    ConstraintKind::foreign_key, child.name, fk.name);
    }
  }
  return std::nullopt;
}

// An insert or update failed: find a foreign key of the row whose referred row is missing.
std::optional<IntegrityError> explain_fk_write(const IntegrityError& e, const RowContext& row,
                                               engine::Connection& conn, const MetaData& md) {
  const Table* t = md.find(row.table);
  if (t == nullptr) return std::nullopt;
  const std::string verb = row.operation == RowContext::Operation::insert
                               ? "insert into '" + row.table + "'"
                               : "update of '" + row.table + "'";
  for (const auto& fk : t->foreign_keys) {
    const auto refcols = referred_columns(fk, md);
    if (refcols.size() != fk.columns.size() || refcols.empty()) continue;
    std::vector<Value> key;
    for (const auto& c : fk.columns) {
      const Value* v = find_value(row, c);
      if (v == nullptr || is_null(*v)) break;
      key.push_back(*v);
    }
    if (key.size() != fk.columns.size() || row_exists(conn, fk.referred_table, refcols, key)) {
      continue;
    }
    return learnt(e,
                  verb + " violates foreign key '" + fk.name + "': no row in '" +
                      fk.referred_table + "' with " + describe_key(refcols, key),
                  ConstraintKind::foreign_key, row.table, fk.name);
  }
  return std::nullopt;
}

std::optional<IntegrityError> explain(const IntegrityError& e, const RowContext& row,
                                      engine::Connection& conn, const MetaData& md) {
  std::string_view message = e.info().driver_message;
  if (message.empty()) {
    message = e.what();
    message = message.substr(0, message.find(" [SQL: "));
  }
  ConstraintKind kind = e.kind();
  if (kind == ConstraintKind::unknown) kind = kind_of(0, message);
  const std::string_view d = detail(message);
  switch (kind) {
    case ConstraintKind::unique:
    case ConstraintKind::primary_key: return explain_unique(e, kind, d, md);
    case ConstraintKind::not_null: return explain_not_null(e, d, md);
    case ConstraintKind::check: return explain_check(e, d, row, md);
    case ConstraintKind::foreign_key:
      return row.operation == RowContext::Operation::delete_ ? explain_fk_delete(e, row, conn, md)
                                                             : explain_fk_write(e, row, conn, md);
    case ConstraintKind::unknown: break;
  }
  return std::nullopt;
}

}  // namespace

IntegrityError explain_integrity_error(const IntegrityError& e, const RowContext& row,
                                       engine::Connection& conn, const MetaData& metadata) {
  try {
    if (auto better = explain(e, row, conn, metadata)) return std::move(*better);
  } catch (...) {
    // Explaining is best effort: the original error is still true.
  }
  return e;
}

}  // namespace strata::dialect::sqlite
