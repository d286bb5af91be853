// Private to the dialect layer: the pieces of DDL text that CREATE TABLE (dialect.cpp), the
// ALTER TABLE forms (alter.cpp) and a backend's table rebuild (sqlite/sqlite_alter.cpp)
// share, so that a constraint or index is spelled the same way whichever statement makes it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "strata/dialect/dialect.hpp"
#include "strata/schema/table.hpp"
#include "strata/sql/compiler.hpp"

namespace strata::dialect::ddl {

// The primary key's columns: primary_key.columns, else the columns marked primary_key.
std::vector<std::string> primary_key_columns(const schema::Table& t);
bool in_primary_key(const schema::Table& t, std::string_view column);
bool is_integer(schema::TypeKind k);

// "a, b" with each name quoted as d needs.
std::string column_list(const sql::SqlDialect& d, const std::vector<std::string>& columns);
// "CONSTRAINT name " or "" for an unnamed constraint.
std::string constraint_prefix(const sql::SqlDialect& d, const std::string& name);
// The constraint bodies, without the CONSTRAINT prefix:
//   UNIQUE (a, b)
//   FOREIGN KEY(a) REFERENCES p (id) [ON DELETE ..] [ON UPDATE ..]
//   CHECK (sqltext)
std::string unique_body(const sql::SqlDialect& d, const schema::UniqueConstraint& uq);
std::string foreign_key_body(const sql::SqlDialect& d, const schema::ForeignKey& fk);
std::string check_body(const schema::CheckConstraint& ck);
// CREATE [UNIQUE] INDEX [CONCURRENTLY] name ON table (cols). Throws CompileError for an
// unnamed index.
std::string create_index_sql(const sql::SqlDialect& d, const schema::Table& t,
                             const schema::Index& ix, bool concurrently = false);

// The name of a change kind as migration files spell it: "add_column", "drop_check"...
std::string_view to_string(TableChange::Kind kind);

// Throws CompileError unless change fits before -> after: the table names agree (a rename
// goes from change.name to change.new_name), and the object named by the change is absent
// on the side where it must not be and present where it must be (e.g. add_column: in
// `after`, not in `before`). alter_column must also change something.
void check_change(const schema::Table& before, const schema::Table& after,
                  const TableChange& change);

// Whether identifier `name` occurs in SQL text `sqltext` as an identifier (bare, "quoted",
// `quoted` or [quoted]; compared without regard to ASCII case), not inside a string literal.
// Used to find the columns a CHECK constraint names.
bool mentions_identifier(std::string_view sqltext, std::string_view name);
// Whether sqltext names a column after the name `table` (table.x, "table".x).
bool qualifies_by(std::string_view sqltext, std::string_view table);

// Whether two names are the same without regard to ASCII case (SQLite's identifiers).
bool same_ignoring_case(std::string_view a, std::string_view b);

}  // namespace strata::dialect::ddl
