// Applying migrations to a database: the SQL of each operation for a dialect (also what
// --sql prints), the ledger table of applied migrations, and running one migration in its
// own transaction.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "strata/dialect/dialect.hpp"
#include "strata/engine/connection.hpp"
#include "strata/migrate/migration.hpp"
#include "strata/migrate/state.hpp"

namespace strata::migrate {

// What one operation does on a database.
struct OperationPlan {
  std::string description;              // describe(op)
  std::vector<std::string> statements;  // SQL, in order; empty for a call
  std::string call;                     // a CallOp's callback name, else empty
  bool rebuild = false;                 // a table is rebuilt (SQLite)
  std::string rebuilt_table;            // with rebuild: that table's name before the change,
  std::vector<std::string> rebuilt_columns;  // its columns as the migrations know them,
  std::vector<std::string> rebuilt_indexes;  // and the indexes the statements create again
  std::string dropped_table;                 // a drop_table: the table, checked for views and
                                             // triggers that use it (Dialect::drop_dependents)
  bool foreign_keys_off = false;        // must run with foreign-key enforcement off
  bool rewrite = false;                 // the table is rewritten in place (PostgreSQL)
  bool authored = false;                // an execute or a call: the migration author's own
  // CREATE / DROP INDEX CONCURRENTLY (PostgreSQL): runs outside any transaction, so only in a
  // migration with `atomic: false`.
  bool concurrently = false;
  // For CREATE INDEX CONCURRENTLY, which leaves an invalid index of its name behind when it
  // fails: a query whose one row holds 1 while that index exists (else 0), and the statement
  // that drops it. The runtime drops it after a failure when the query said 0 before.
  std::string leftover_query;
  std::string leftover_drop;
};

// The plans of ops, applied in order to `state` (which ends as the state after them).
// Throws StateError when an operation does not fit the state, CommandError when an execute
// has no SQL for this dialect.
std::vector<OperationPlan> plan(const dialect::Dialect& d, SchemaState& state,
                                const std::vector<Operation>& ops);

// A data migration callback: gets the connection, inside the migration's transaction (with
// `atomic: false`, outside any: it may BEGIN and COMMIT batches of its own).
using Callback = std::function<void(engine::Connection&)>;
using Callbacks = std::map<std::string, Callback>;

// One row of the ledger.
struct AppliedMigration {
  std::string revision;
  std::string checksum;
  std::string applied_at;     // ISO 8601 UTC
  std::int64_t duration_ms = 0;
  // "applied"; "failed": its last attempt failed, nothing of it applied; for a migration with
  // `atomic: false`, "running" (under way, or stopped part way) and "partial" (failed part
  // way: the error says what stays).
  std::string status = "applied";
  std::string error;               // for "failed": which operation failed and why
};

// The ledger table, `strata_migrations`: one row per applied migration.
class Ledger {
 public:
  static constexpr const char* table_name = "strata_migrations";

  explicit Ledger(const dialect::Dialect& d) : dialect_(d) {}
  // CREATE TABLE IF NOT EXISTS, inside the caller's transaction.
  void ensure(engine::Connection& c) const;
  std::vector<std::string> ensure_sql() const;
  // Applied rows in the order they were applied; empty when the table does not exist.
  std::vector<AppliedMigration> applied(engine::Connection& c) const;
  // Rows of migrations whose last attempt failed.
  std::vector<AppliedMigration> failures(engine::Connection& c) const;
  // Rows of migrations with `atomic: false` that a run started and did not finish: "running"
  // (still running, or stopped part way) and "partial" (failed part way). The database is
  // between revisions: the commands that apply refuse it until `db stamp`.
  std::vector<AppliedMigration> unfinished(engine::Connection& c) const;
  // Records a failed attempt (replacing an earlier failure row), inside the caller's
  // transaction.
  void record_failure(engine::Connection& c, const AppliedMigration& row) const;
  std::string insert_sql(const AppliedMigration& row) const;  // with inline literals, for --sql
  std::string delete_sql(const std::string& revision) const;
  void record(engine::Connection& c, const AppliedMigration& row) const;
  void remove(engine::Connection& c, const std::string& revision) const;

 private:
  const dialect::Dialect& dialect_;
};

// A checksum of a text, to notice edits of applied migrations (FNV-1a 64, 16 hex digits:
// change detection, not security). ScriptDirectory takes it of render(migration), whose text
// is that of a file `db migrate` wrote, so ledgers that hold the checksum of such a file's
// text still match.
std::string checksum(std::string_view file_text);

}  // namespace strata::migrate
