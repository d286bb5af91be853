// A dialect is everything that differs per backend: how SQL is spelled (sql::SqlDialect),
// how connections are opened (engine::Driver), type names and DDL, and how constraint
// failures are explained. The ORM talks to this interface only, through capability flags.
// Concrete dialects live in dialect/<name>/; for_url() is the one place that lists them.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/engine/connection.hpp"
#include "strata/engine/engine.hpp"
#include "strata/engine/url.hpp"
#include "strata/error.hpp"
#include "strata/schema/table.hpp"
#include "strata/sql/compiler.hpp"

namespace strata::dialect {

// The row a failed statement was writing, as the ORM knows it: enough to find which
// constraint it broke when the database does not say.
struct RowContext {
  enum class Operation { insert, update, delete_ };
  std::string table;
  Operation operation = Operation::insert;
  // Column values: those written (insert/update), or at least the key (delete).
  std::vector<std::pair<std::string, Value>> values;
};

// One change to an existing table, for migrations. The dialect gets the whole table before
// and after the change plus what changed, so it can use a native ALTER TABLE where it has one
// and rebuild the table where it does not.
struct TableChange {
  enum class Kind {
    rename_table, add_column, drop_column, rename_column, alter_column, create_index,
    drop_index, add_unique, drop_unique, add_foreign_key, drop_foreign_key, add_check,
    drop_check
  };
  Kind kind = Kind::add_column;
  std::string name;      // the table, column, index or constraint concerned (the old name)
  std::string new_name;  // for renames
};

// The statements that carry out a TableChange.
struct AlterPlan {
  std::vector<std::string> statements;
  // The table is rebuilt: created anew under a temporary name, rows copied, old table
  // dropped, new one renamed, indexes recreated. Rows, indexes and foreign keys survive.
  bool rebuild = false;
  // Foreign-key enforcement must be off while the statements run (set before the
  // transaction begins), and the foreign keys checked before commit (SQLite rebuilds).
  bool foreign_keys_off = false;
};

class Dialect : public sql::SqlDialect, public engine::Driver {
 public:
  virtual std::string_view name() const = 0;  // "sqlite", "postgresql"

  // Whether the database reports the name of a violated foreign key or unique constraint.
  // When not, explain_integrity_error() works it out from the schema.
  virtual bool names_violated_constraints() const = 0;

  // Whether the ORM reads the keys the database generates with INSERT ... RETURNING (the
  // database has no cheap last-insert-id), rather than Connection::last_insert_id().
  virtual bool generated_keys_by_returning() const { return false; }

  // Whether the ORM sends the pending rows of one table as multi-row INSERTs (where every
  // statement is a round trip to a server) rather than one cached statement per row.
  virtual bool batches_inserts() const { return false; }

  // Whether the ORM sends the UPDATEs of many rows of one table that changed the same
  // columns as one statement (update_rows_sql) rather than one statement per row.
  virtual bool batches_updates() const { return false; }
  // Where batches_updates(): one UPDATE of any number of rows of t, each parameter an array
  // holding one column's values for every row (Statement::bind_array) — the set columns, then
  // the key columns. PostgreSQL:
  //   UPDATE t SET c = v.c FROM unnest(CAST($1 AS type[]), ..., CAST($n AS keytype[]))
  //     AS v (c, ..., k) WHERE t.k = v.k
  // The rows must have distinct keys, and no key column may be among the set columns.
  virtual std::string update_rows_sql(const schema::Table& t,
                                      const std::vector<const schema::Column*>& set,
                                      const std::vector<const schema::Column*>& key) const;

  // The SQL type for t, e.g. VARCHAR(64), INTEGER, DATETIME.
  virtual std::string type_sql(const schema::Type& t) const = 0;

  // CREATE TABLE (columns, named primary key, unique, foreign key and check constraints),
  // then CREATE INDEX for each index. Every constraint carries its name.
  virtual std::vector<std::string> create_table_sql(const schema::Table& t) const;
  virtual std::vector<std::string> drop_table_sql(const schema::Table& t) const;
  // Migration DDL: the statements for one change of an existing table. The base class
  // writes standard ALTER TABLE forms (ADD/DROP/RENAME COLUMN, ALTER COLUMN TYPE / SET NOT
  // NULL / SET DEFAULT, ADD/DROP CONSTRAINT, CREATE/DROP INDEX, RENAME TO); a dialect
  // overrides what it lacks. Throws CompileError when the change does not match before/after.
  virtual AlterPlan alter_table_sql(const schema::Table& before, const schema::Table& after,
                                    const TableChange& change) const;
  // The query that lists foreign-key violations after a rebuild (SQLite: PRAGMA
  // foreign_key_check); empty when the dialect needs none.
  virtual std::string foreign_key_check_sql() const { return {}; }
  // The statement that opens a migration's transaction and takes the write lock that makes
  // concurrent upgrades wait (SQLite: BEGIN IMMEDIATE).
  virtual std::string begin_migration_sql() const { return "BEGIN"; }
  // The migration lock, held by a run of upgrade / downgrade / stamp from before it reads the
  // ledger until it ends, so that concurrent runs apply each migration once. Waits up to
  // timeout, then throws OperationalError saying that the lock is held and by whom. The
  // default takes none: SQLite serialises runs with each migration's begin_migration_sql().
  virtual void lock_migrations(engine::Connection& /*conn*/,
                               std::chrono::milliseconds /*timeout*/) const {}
  virtual void unlock_migrations(engine::Connection& /*conn*/) const {}
  // Turns foreign-key enforcement on or off for the connection, outside a transaction
  // (SQLite: PRAGMA foreign_keys); empty when the dialect has no such switch.
  virtual std::string set_foreign_keys_sql(bool /*on*/) const { return {}; }
  // Column definition inside CREATE TABLE: name, type, NOT NULL, DEFAULT.
  virtual std::string column_sql(const schema::Table& t, const schema::Column& c) const;

  // Makes e's message and constraint() name the constraint that failed and its table, using
  // the schema in metadata, the row being written, and where needed queries on conn (e.g.
  // which table still holds rows that refer to a row being deleted, or which referred row
  // is missing for an insert). Returns the improved error; a copy of e when nothing is
  // learnt. Never throws. Example message:
  //   delete from 'user' violates foreign key 'fk_post_user_id_user' on table 'post':
  //   rows in 'post' still refer to it
  virtual IntegrityError explain_integrity_error(const IntegrityError& e, const RowContext& row,
                                                 engine::Connection& conn,
                                                 const schema::MetaData& metadata) const;
};

// The dialect for url.backend(); throws ArgumentError naming the supported backends.
std::shared_ptr<Dialect> for_url(const engine::Url& url);

}  // namespace strata::dialect
