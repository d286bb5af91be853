// Private to the SQLite dialect: the dialect class, the driver entry point and the error
// explainer. Only files in this folder include <sqlite3.h>.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "strata/dialect/dialect.hpp"

namespace strata::dialect::sqlite {

class SqliteDialect final : public Dialect {
 public:
  // sql::SqlDialect
  bool is_keyword(std::string_view lower_name) const override;
  std::string placeholder(std::size_t n) const override;
  bool supports_returning() const override { return true; }  // SQLite >= 3.35
  bool supports_ilike() const override { return false; }
  bool table_names_ignore_case() const override { return true; }
  bool sum_of_integers_is_integer() const override { return true; }
  // SQLite has no OFFSET without LIMIT; a negative limit means none.
  std::string_view no_limit() const override { return "-1"; }

  // engine::Driver
  std::unique_ptr<engine::Connection> connect(const engine::Url& url,
                                              const engine::ConnectOptions& options) override;
  bool single_connection(const engine::Url& url) const override;
  bool exists(const engine::Url& url) const override;

  // Dialect
  std::string_view name() const override { return "sqlite"; }
  bool names_violated_constraints() const override { return false; }
  std::string type_sql(const schema::Type& t) const override;
  // An autoincrement column is declared exactly INTEGER, whatever its integer kind: only then
  // does SQLite make the single-column primary key the rowid alias that assigns ids.
  std::string column_sql(const schema::Table& t, const schema::Column& c) const override;
  // SQLite takes after DEFAULT only a literal, a signed number, a bare word (CURRENT_TIMESTAMP,
  // TRUE) or an expression in parentheses: anything else (lower('X'), 1 + 1, strftime(...)) is
  // written in parentheses, as SQLAlchemy does; text already in one pair of them is kept.
  std::string default_sql(const schema::Column& c) const override;
  // sqlite_alter.cpp: native ALTER TABLE where SQLite has the form and accepts the change,
  // otherwise a table rebuild (AlterPlan::rebuild, foreign_keys_off).
  AlterPlan alter_table_sql(const schema::Table& before, const schema::Table& after,
                            const TableChange& change) const override;
  std::string foreign_key_check_sql() const override { return "PRAGMA foreign_key_check"; }
  // The main schema's tables (names compare without regard to ASCII case, as SQLite's do).
  std::string table_exists_sql(const std::string& name) const override {
    return "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = " +
           string_literal(name) + " COLLATE NOCASE";
  }
  // BEGIN IMMEDIATE takes the write lock at once: concurrent upgrades wait (busy timeout)
  // instead of failing half-way.
  std::string begin_migration_sql() const override { return "BEGIN IMMEDIATE"; }
  std::string set_foreign_keys_sql(bool on) const override {
    return on ? "PRAGMA foreign_keys = ON" : "PRAGMA foreign_keys = OFF";
  }
  IntegrityError explain_integrity_error(const IntegrityError& e, const RowContext& row,
                                         engine::Connection& conn,
                                         const schema::MetaData& metadata) const override;
  // sqlite_alter.cpp: triggers on the table, and triggers and views naming it, found by
  // renaming the table inside a savepoint (SQLite rewrites every reference) and rolling back;
  // then the views and triggers naming one of those views, by their text; and the table's
  // indexes with a CREATE INDEX text of their own that table.indexes lacks.
  std::vector<DependentObject> rebuild_dependents(engine::Connection& conn,
                                                  const RebuiltTable& table) const override;
  // sqlite_alter.cpp: the views and the other tables' triggers that the trial rename of
  // rebuild_dependents() shows naming the table.
  std::vector<DependentObject> drop_dependents(engine::Connection& conn,
                                               const std::string& table) const override;
  // sqlite_reflect.cpp: pragmas for the structure, the CREATE TABLE text for constraint names
  // and checks. Types are read back through type_sql(); a single-column INTEGER primary key
  // of a rowid table (SQLite's rowid alias) is autoincrement.
  ReflectedSchema reflect(engine::Connection& conn) const override;
  // SQLite keeps check conditions and defaults as written, but RENAME COLUMN and RENAME TO
  // write the new name into them quoted wherever the old one was ("qty" >= 0 after a rename
  // to Qty and back, "book".qty after a rename of the table and back): those compare through
  // comparable_sql().
  ReflectionSupport reflection_support() const override {
    return {.check_text = false, .server_default_text = false};
  }
  // Dialect::reflected_form(), and: an autoincrement integer column is declared INTEGER
  // (column_sql), a rowid alias is autoincrement whatever the model said, since SQLite
  // assigns it, and a server default is spelled as default_sql() writes it (in parentheses
  // where it needs them), which is how SQLite gives it back.
  schema::Table reflected_form(const schema::Table& t) const override;
  // The text with each "quoted" name whose bare spelling names the same thing (a lower-case
  // name that needs no quotes: "qty", "book") written bare; string literals and the names
  // that need their quotes ("Qty", "order") are kept as they are.
  std::string comparable_sql(std::string_view sql) const override;
};

// sqlite_alter.cpp: s without the white space around it.
std::string_view trim(std::string_view s);

// sqlite_alter.cpp: whether a DEFAULT is a plain literal: a signed number, 'text', X'blob',
// NULL, TRUE, FALSE. ADD COLUMN refuses a "non-constant default": CURRENT_TIME, CURRENT_DATE,
// CURRENT_TIMESTAMP and any expression in parentheses (SQLite evaluates some, e.g. (1), but its
// documentation promises none), so anything else is left to a rebuild.
bool is_constant_literal(std::string_view sql);

// sqlite_connection.cpp: whether the database file exists (memory: always); throws the
// error open_connection() would for a path that cannot be a database file.
bool database_exists(const engine::Url& url);

// sqlite_connection.cpp: opens a connection (foreign keys on, busy timeout set).
std::unique_ptr<engine::Connection> open_connection(const engine::Url& url,
                                                    const engine::ConnectOptions& options);

// sqlite_alter.cpp: the statements that rebuild `before` into `after` (create under a
// temporary name, copy the rows, drop, rename, create the indexes), whatever the change;
// SqliteDialect::alter_table_sql() uses it where no native form fits. A rename_column change
// copies the old column into the new one. Throws CompileError when the change does not fit
// before/after or the copy would lose a column the change does not drop.
AlterPlan rebuild_table_sql(const SqliteDialect& d, const schema::Table& before,
                            const schema::Table& after, const TableChange& change);

// sqlite_convert.cpp: how a rebuild converts the values of `column` when its type changes
// from `from` to `to`: the expression that the copy selects in place of the column, and the
// storage class (typeof) every value of the new column must have, or NULL; a value that does
// not convert is given another, and the rebuild's trigger refuses it. Empty where the values
// are copied as they are (the same kind, String and Text, an integer into a wider kind).
struct ColumnConversion {
  std::string expression;
  std::string storage;
};
std::optional<ColumnConversion> convert_column_sql(const SqliteDialect& d,
                                                   const std::string& column,
                                                   const schema::Type& from,
                                                   const schema::Type& to);

// sqlite_errors.cpp: names the constraint behind an SQLite constraint failure.
IntegrityError explain_integrity_error(const IntegrityError& e, const RowContext& row,
                                       engine::Connection& conn,
                                       const schema::MetaData& metadata);

}  // namespace strata::dialect::sqlite
