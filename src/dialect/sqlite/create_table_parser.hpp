// Private to the SQLite dialect: reads what SQLite's pragmas do not tell from the CREATE TABLE
// text that sqlite_master keeps — constraint names and check conditions. Used by reflection
// (sqlite_reflect.cpp). Pure text work: no sqlite3.h, tested on its own.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/schema/table.hpp"

namespace strata::dialect::sqlite {

// The constraints a CREATE TABLE text declares, table-level and column-level alike, in text
// order. Names are as written (unquoted); empty for an unnamed constraint. Column names are as
// the constraint writes them (SQLite compares them without regard to case).
struct ParsedCreateTable {
  std::string primary_key_name;
  std::vector<schema::UniqueConstraint> uniques;
  // Only names, columns, referred table and referred columns (empty when the text leaves
  // them to the referred table's primary key); actions come from PRAGMA foreign_key_list.
  std::vector<schema::ForeignKey> foreign_keys;
  // The condition: the text between CHECK's parentheses, without the white space around it.
  std::vector<schema::CheckConstraint> checks;
  // Column defaults as written after DEFAULT ("(1 + 2)"; PRAGMA table_info drops the
  // parentheses): column name -> text.
  std::vector<std::pair<std::string, std::string>> defaults;
  bool without_rowid = false;
  // Why the text could not be followed (then nothing else is filled); empty on success.
  std::string error;
};

// Follows SQLite's CREATE TABLE grammar (https://sqlite.org/lang_createtable.html) far enough
// to find every constraint: quoted identifiers ("x", [x], `x`, 'x'), comments, ON CONFLICT
// clauses, DEFAULT expressions, foreign-key clauses, generated columns, table options.
// Never throws; what it cannot follow is reported in `error`, e.g. "CREATE TABLE ... AS
// SELECT has no column list" or "unbalanced parentheses".
ParsedCreateTable parse_create_table(std::string_view sql);

}  // namespace strata::dialect::sqlite
