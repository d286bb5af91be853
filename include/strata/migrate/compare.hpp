// Autogenerate: the operations that turn the schema of the migration chain into the schema of
// the models. Pure: no database, no files.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "strata/migrate/ops.hpp"
#include "strata/migrate/state.hpp"
#include "strata/schema/table.hpp"

namespace strata::migrate {

// A column that vanished while a compatible one appeared in the same table: probably a
// rename, which only the user can confirm.
struct RenameCandidate {
  std::string table;
  std::string old_name;
  std::string new_name;
};

struct CompareOptions {
  // Renames the user confirmed: "table.old" -> "new" (from --rename table.old:new or a
  // renamed_from("old") hint in the model).
  std::map<std::string, std::string> renames;
  // Asked for each candidate not settled by `renames`: true = rename, false = drop + add.
  // Unset: candidates not settled are returned in CompareResult::unresolved (no silent
  // drop + add).
  std::function<bool(const RenameCandidate&)> confirm_rename;
};

struct CompareResult {
  std::vector<Operation> upgrade;  // in an order that applies cleanly to `from`
  // Probable renames nobody settled (only when confirm_rename is unset); every compatible
  // (vanished, appeared) pair is listed. Their columns, and the indexes and constraints that
  // name them, are left out of `upgrade`: the caller must ask or stop, not write the file.
  std::vector<RenameCandidate> unresolved;
};

// The operations that turn `from` into the tables `to` (the models' tables, named by the
// naming convention, e.g. MetaData::tables()). Applying `upgrade` to `from` yields `to`,
// except for:
// - column order: added columns are appended (SQLite and PostgreSQL only append); a model
//   that reorders existing columns produces no operation (reordering is not a migration);
// - the order of tables and of indexes and constraints within a table (the state keeps them
//   sorted by name: compare with canonical()).
// Running compare() again on the result yields nothing.
//
// What is detected: new and dropped tables (table renames are seen as drop + create), added,
// dropped and renamed columns (see RenameCandidate: a vanished and an appeared column of one
// table with the same type and nullability), changes of type, length, nullability, server
// default and autoincrement (AlterColumnOp), indexes, unique, foreign-key and check
// constraints added or dropped, matched by name (a changed definition is drop + add).
//
// The order: drop foreign keys; drop checks, uniques and indexes; drop tables (children
// first); then per table: drop columns (last first, so each records its original position),
// rename, add and alter columns, create indexes, add uniques and checks; create tables
// (parents first); add foreign keys (those between new tables that form a cycle too).
//
// Throws CommandError for what autogenerate cannot do: a changed primary key, an entry of
// options.renames that does not fit the two schemas, duplicate or unnamed tables, constraints
// or indexes in `to`.
CompareResult compare(const SchemaState& from, const std::vector<schema::Table>& to,
                      const CompareOptions& options = {});

}  // namespace strata::migrate
