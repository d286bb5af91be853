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

// A column that vanished while a compatible one appeared in the same table, or a table that
// vanished while one with the same columns appeared: probably a rename, which only the user
// can confirm.
struct RenameCandidate {
  std::string table;  // the column's table (the models' name); empty for a table
  std::string old_name;
  std::string new_name;
  bool is_table() const noexcept { return table.empty(); }
};

struct CompareOptions {
  // Renames the user confirmed (--rename): "table.old" -> "new" for a column of the models'
  // table `table`, "old" -> "new" for a table. An entry that does not fit the two schemas is
  // a CommandError, unless it is already applied (only its new name on both sides).
  std::map<std::string, std::string> renames;
  // The models' hints, in the same form (a column's renamed_from("old"), a model's
  // Model<T>::renamed_from): each is a confirmed rename where it fits (the old name only in
  // the migrations, the new one only in the models), else ignored, so that a hint can stay in
  // the model after its rename. `renames` wins over a hint.
  std::map<std::string, std::string> rename_hints;
  // Asked for each candidate not settled by `renames` or a hint: true = rename, false = drop
  // + add (a table: drop + create). Unset: candidates not settled are returned in
  // CompareResult::unresolved (no silent drop + add). Tables are settled before columns.
  std::function<bool(const RenameCandidate&)> confirm_rename;
};

struct CompareResult {
  std::vector<Operation> upgrade;  // in an order that applies cleanly to `from`
  // Probable renames nobody settled (only when confirm_rename is unset); every compatible
  // (vanished, appeared) pair is listed. With a table among them, only the tables are listed
  // and `upgrade` is empty; otherwise the columns, and the indexes and constraints that name
  // them, are left out of `upgrade`. Either way the caller must ask or stop, not write the
  // file.
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
// What is detected: new, dropped and renamed tables (see RenameCandidate: a vanished and an
// appeared table whose columns have the same names, types, nullability and primary key),
// added, dropped and renamed columns (a vanished and an appeared column of one table with the
// same type and nullability), changes of type, length, nullability, server default and
// autoincrement (AlterColumnOp), indexes, unique, foreign-key and check constraints added or
// dropped, matched by name (a changed definition is drop + add; so is a name the convention
// changed with a renamed table's name; a primary key's new name is a RenameConstraintOp).
//
// The order: rename tables; drop foreign keys (also those that refer to the columns of a
// unique index or constraint about to be dropped, added again at the end); drop checks,
// uniques and indexes; drop tables (children first); rename primary keys; then per table:
// drop columns (last first, so each records its original position), rename, add and alter
// columns, create indexes, add uniques and checks; create tables (parents first); add foreign
// keys (those between new tables that form a cycle too).
//
// Throws CommandError for what autogenerate cannot do: a primary key on other columns, an
// entry of options.renames that does not fit the two schemas, duplicate or unnamed tables,
// constraints or indexes in `to`.
CompareResult compare(const SchemaState& from, const std::vector<schema::Table>& to,
                      const CompareOptions& options = {});

}  // namespace strata::migrate
