// A dialect is everything that differs per backend: how SQL is spelled (sql::SqlDialect),
// how connections are opened (engine::Driver), type names and DDL, reading a live schema
// back (reflection), and how constraint failures are explained. The ORM talks to this interface only, through capability flags.
// Concrete dialects live in dialect/<name>/; for_url() is the one place that lists them.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
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
    drop_check,
    rename_constraint,  // a primary key, unique, foreign-key or check constraint
    validate_constraint  // a foreign key or check added not valid: its rows checked
  };
  Kind kind = Kind::add_column;
  std::string name;      // the table, column, index or constraint concerned (the old name)
  std::string new_name;  // for renames
  // create_index / drop_index: CONCURRENTLY where the dialect has it (indexes_concurrently()),
  // a plain CREATE / DROP INDEX elsewhere.
  bool concurrently = false;
  // add_foreign_key / add_check: NOT VALID where the dialect has it (constraints_not_valid()),
  // the rows already in the table left unchecked; a plain ADD CONSTRAINT elsewhere.
  bool not_valid = false;
};

// A rebuilt table is created under this prefix and its name, then renamed (SQLite); errors of
// the rebuild's statements name it so.
inline constexpr std::string_view rebuild_prefix = "_strata_tmp_";

// The statements that carry out a TableChange.
struct AlterPlan {
  std::vector<std::string> statements;
  // The table is rebuilt: created anew under a temporary name, rows copied, old table
  // dropped, new one renamed, indexes recreated. Rows, indexes and foreign keys survive.
  bool rebuild = false;
  // Foreign-key enforcement must be off while the statements run (set before the
  // transaction begins), and the foreign keys checked before commit (SQLite rebuilds).
  bool foreign_keys_off = false;
  // The database rewrites the table and its indexes in place while it holds the table's
  // strongest lock (PostgreSQL: a column type it cannot change in place). Not a rebuild: the
  // statements alter the table, they do not copy it.
  bool rewrite = false;
};

// A table as a rebuild (an AlterPlan with rebuild) sees it: its name, its columns as the
// migrations know them (the rows' values the rebuild copies) and the indexes the rebuild's own
// statements create again.
struct RebuiltTable {
  std::string name;
  std::vector<std::string> columns;
  std::vector<std::string> indexes;
};

// A trigger, view or index that rebuilding a table would drop or break, to drop before the
// rebuild and create again after it (see rebuild_dependents()).
struct DependentObject {
  enum class Kind { index, view, trigger };
  Kind kind = Kind::trigger;
  std::string name;
  std::string sql;  // the statement that creates it, as the database keeps it
};

// Something reflect() could not read back faithfully: a column type strata does not write,
// an expression index, a CREATE TABLE text whose constraints could not be followed...
struct ReflectionProblem {
  std::string table;
  std::string message;  // one line, without the table's name, e.g. "column 'price' has type
                        // 'NUMERIC(10,2)', which strata does not write; read as FLOAT"
};

// A live schema as reflect() read it.
struct ReflectedSchema {
  // Every user table of the database, sorted by name; the database's internal tables are
  // left out (the migration ledger is not: its caller knows it). Each table is in the form
  // create_table_sql() takes: columns in the database's order with type, nullability, server
  // default text, primary_key and autoincrement flags; the primary key (name and columns in
  // key order); indexes made by CREATE INDEX (name, columns, unique); unique, foreign-key
  // and check constraints. Indexes and constraints are sorted by name. A constraint the
  // database keeps no name for has an empty name.
  std::vector<schema::Table> tables;
  std::vector<ReflectionProblem> problems;  // in table order
  // The foreign keys and checks added NOT VALID and not validated since (PostgreSQL): table
  // and constraint name, in table order. They are in `tables` as any other.
  std::vector<std::pair<std::string, std::string>> not_valid;
};

// Which parts of a table reflect() returns exactly as create_table_sql() wrote them; the
// others the database rewrites (PostgreSQL normalizes check conditions and defaults, e.g.
// "'x'::character varying"). A comparison with a live schema (db check) compares those
// through Dialect::comparable_sql().
struct ReflectionSupport {
  bool check_text = true;           // a check constraint's condition, as written
  bool server_default_text = true;  // a column's server default, as written
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

  // Whether the ORM sends the pending rows of one table that set the same columns as one
  // INSERT (insert_rows_sql; where every statement is a round trip to a server) rather than one
  // cached statement per row.
  virtual bool batches_inserts() const { return false; }
  // Where batches_inserts(): one INSERT of any number of rows into t, each parameter an array
  // holding one column's values for every row (Statement::bind_array), the rows inserted in
  // the arrays' order. PostgreSQL:
  //   INSERT INTO t (c, ...) SELECT * FROM unnest(CAST($1 AS type[]), ...) RETURNING r, ...
  // `columns` must not be empty; `returning` may be.
  virtual std::string insert_rows_sql(const schema::Table& t,
                                      const std::vector<const schema::Column*>& columns,
                                      const std::vector<const schema::Column*>& returning) const;

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
  // What follows ALTER COLUMN c TYPE t to say how existing values convert, e.g.
  // PostgreSQL's " USING c::t" (without it, a change such as text to integer is refused);
  // empty by default.
  virtual std::string type_change_using(const std::string& /*column*/,
                                        const schema::Type& /*from*/,
                                        const schema::Type& /*to*/) const {
    return {};
  }
  // Whether ALTER COLUMN TYPE from `from` to `to` rewrites the table and its indexes (sets
  // AlterPlan::rewrite); false by default.
  virtual bool type_change_rewrites(const schema::Type& /*from*/,
                                    const schema::Type& /*to*/) const {
    return false;
  }
  // The query that lists foreign-key violations after a rebuild (SQLite: PRAGMA
  // foreign_key_check); empty when the dialect needs none.
  virtual std::string foreign_key_check_sql() const { return {}; }
  // A query whose one row holds one integer: 1 when the database has a table called `name`
  // where an unqualified CREATE TABLE puts it, else 0 (SQLite: the main schema, not TEMP
  // tables nor attached databases; PostgreSQL: any relation, indexes too, in the current
  // schema, the first of the search path that exists). A catalog that cannot be read (a lock)
  // is the query's error, never a 0. The base class, which no shipped dialect uses, asks
  // information_schema about the current schema (which lists only the tables the user has
  // rights on).
  virtual std::string table_exists_sql(const std::string& name) const;
  // Whether CREATE / DROP INDEX CONCURRENTLY exists (PostgreSQL): the index is built or dropped
  // without blocking writes to the table, outside any transaction. False by default.
  virtual bool indexes_concurrently() const { return false; }
  // Whether a foreign key or check constraint can be added NOT VALID (the rows already in the
  // table unchecked) and validated later by a statement that does not block writes.
  virtual bool constraints_not_valid() const { return false; }
  // The statements that make column `column` of `table` autoincrement (`on`) or no longer, by
  // ALTER TABLE, run after (`on`) or before the rest of its alter_column; none where the
  // dialect cannot (the default): alter_column then refuses the change.
  virtual std::optional<std::vector<std::string>> autoincrement_change_sql(
      const schema::Table& /*table*/, const std::string& /*column*/, bool /*on*/) const {
    return std::nullopt;
  }
  // Whether two table names that differ only in case name one table (SQLite's, quoted or
  // not): a rename that changes only the case then goes through another name.
  virtual bool table_names_ignore_case() const { return false; }
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
  // What rebuilding `table` would drop or break, looked up on conn inside the migration's
  // transaction: triggers on the table (dropped with it), triggers and views that name it or
  // such a view (they break the rebuild's rename step), and indexes of the table that the
  // migrations do not know (made by an `execute`: a partial or expression index), which the
  // rebuild's own statements would not create again. The migration runtime drops them before
  // the rebuild and creates them again after it. Throws CompileError when the live table has
  // a column that table.columns lacks (added by SQL of the migration author's own): the
  // rebuild would not copy its values. The base class (a dialect that never rebuilds)
  // returns none.
  virtual std::vector<DependentObject> rebuild_dependents(engine::Connection& /*conn*/,
                                                          const RebuiltTable& /*table*/) const {
    return {};
  }

  // The views, and the triggers of other tables, that name `table` on conn (inside the
  // migration's transaction): dropping the table would leave them broken. The migration
  // runtime refuses such a drop_table, as PostgreSQL does by itself (its base class answer:
  // none); SQLite drops the table and keeps them, and every later rename or rebuild of any
  // table then fails on them.
  virtual std::vector<DependentObject> drop_dependents(engine::Connection& /*conn*/,
                                                       const std::string& /*table*/) const {
    return {};
  }

  // Reflection: reads the live schema of conn's database (see ReflectedSchema). Never fails
  // on an unusual table: what it cannot follow goes to ReflectedSchema::problems. Throws
  // DatabaseError when the catalog cannot be queried; the base class throws
  // InvalidRequestError (a dialect without reflection).
  virtual ReflectedSchema reflect(engine::Connection& conn) const;
  // What reflect() reads back exactly; the base class: everything.
  virtual ReflectionSupport reflection_support() const { return {}; }
  // t as reflect() returns it after create_table_sql(t): what a table of the migrations is
  // compared with. The contract: reflect() of a database made by create_table_sql(t) gives
  // reflected_form(t), up to what reflection_support() says is rewritten. The base class:
  // each type replaced by the first TypeKind (in declaration order) with the same type_sql()
  // (so String and Text both spelled TEXT compare equal), primary-key columns NOT NULL (the
  // DDL writes them so) and marked primary_key, indexes and constraints sorted by name.
  virtual schema::Table reflected_form(const schema::Table& t) const;
  // A check condition or server default in the form in which the migrations' text and the
  // text reflect() read are compared, for the parts reflection_support() says the database
  // rewrites: the same form means the same expression (a change of grouping alone may pass
  // unseen). The base class: the text itself.
  virtual std::string comparable_sql(std::string_view sql) const { return std::string(sql); }

  // Column definition inside CREATE TABLE: name, type, NOT NULL, DEFAULT.
  virtual std::string column_sql(const schema::Table& t, const schema::Column& c) const;
  // c's server default as this database takes it after DEFAULT (CREATE TABLE, ADD COLUMN,
  // ALTER COLUMN ... SET DEFAULT); c must have one. The base class: the text itself.
  virtual std::string default_sql(const schema::Column& c) const { return *c.server_default; }

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

 protected:
  // text as an SQL string literal: 'it''s'.
  static std::string string_literal(std::string_view text);
};

// The dialect for url.backend(); throws ArgumentError naming the supported backends.
std::shared_ptr<Dialect> for_url(const engine::Url& url);

// Whether lower_name is a keyword that some backend strata knows would not take as a bare
// name: SQL text meant for every backend (a migration's check condition) quotes it.
bool keyword_of_any_backend(std::string_view lower_name);

}  // namespace strata::dialect
