// The schema a chain of migrations describes: the fold of their operations from base.
// Deterministic and database-free; `db migrate` compares the models with this.
#pragma once

#include <string_view>
#include <vector>

#include "strata/migrate/ops.hpp"
#include "strata/schema/table.hpp"

namespace strata::migrate {

// The state is kept canonical, so that two folds describing the same schema compare equal
// whatever order their operations created things in: tables sorted by name, and in each table
// the indexes, uniques, foreign keys and checks sorted by name. Column order is meaningful and
// kept as the operations made it.
//
// What apply() checks (each failure is a StateError whose message starts with describe(op)):
// - names: tables exist or not as the op needs; column names unique in a table; constraint
//   and index names non-empty and unique in their table, index names unique in the database.
// - columns named by a primary key, index, unique or foreign key exist in their table.
// - an op that removes or changes something carries exactly what the state holds (DropTableOp's
//   table, DropColumnOp's column and position, AlterColumnOp's `before`, the dropped index or
//   constraint), so its reverse restores the state exactly.
// - a column used by the primary key, an index, a unique or a foreign key of its table, or
//   referred to by a foreign key of any table, cannot be dropped (drop those first); a primary key column cannot be added, nor made or unmade
//   primary key by AlterColumnOp. Check constraints are SQL text and are not inspected.
// - a table that a foreign key of another table refers to cannot be dropped (drop the
//   foreign key or the referring table first): PostgreSQL refuses it, and SQLite would delete
//   or change the referring rows.
// - a new foreign key (AddForeignKeyOp, or in a CreateTableOp) whose referred table the state
//   holds refers to columns of it that exist and that its primary key, a unique constraint or
//   a unique index keeps unique; and a unique constraint or index cannot be dropped while a
//   foreign key refers to exactly its columns (PostgreSQL ties the key to one such index).
//   PostgreSQL refuses both; SQLite accepts them and then refuses every write to the
//   referring table ("foreign key mismatch"). A referred table the state does not hold
//   (created later in a cycle, or outside the migrations) is not checked. RenameTableOp and
//   RenameColumnOp rewrite the references of every foreign key.
// - a primary key, unique constraint or index is not named as another table's primary key,
//   unique constraint or index: PostgreSQL makes an index of each, and index names are
//   database-wide. RenameConstraintOp renames a primary key, unique, foreign-key or check
//   constraint of the table that has it, to a name free in that table.
class SchemaState {
 public:
  // Which checks apply() makes. `run`, the default: every one above, for operations about to
  // run or to be written. `replay`: a state rebuilt from migrations already written
  // (ScriptDirectory::state_at), or compared with a live database (drift), leaves out those
  // about what foreign keys refer to (dropping a table, a column or a unique constraint or
  // index they need; a new key's target) and the database-wide names of primary keys and
  // unique constraints, so that a history written before those checks existed still folds;
  // its operations are not run again. `run` also refuses a name an operation gives that is
  // longer than schema::max_identifier_length (which PostgreSQL cuts short), on every backend;
  // `replay` takes it, as a database may already have it (SQLite keeps such a name whole).
  enum class Checks { run, replay };
  void set_checks(Checks c) noexcept { checks_ = c; }

  // Applies op. ExecuteOp and CallOp do not change the state. On a StateError the state is
  // unchanged.
  void apply(const Operation& op);
  // Applies ops in order; on a StateError the ops before the failing one stay applied.
  void apply(const std::vector<Operation>& ops);

  const schema::Table* find(std::string_view table) const;
  // Tables sorted by name, each in canonical form (see canonical()).
  const std::vector<schema::Table>& tables() const noexcept { return tables_; }
  friend bool operator==(const SchemaState& a, const SchemaState& b) {
    return a.tables_ == b.tables_;
  }

 private:
  std::vector<schema::Table> tables_;  // sorted by name, canonical
  Checks checks_ = Checks::run;
};

// t with its indexes, uniques, foreign keys and checks sorted by name: the form the state
// keeps, for comparing a table of the models with the state's.
schema::Table canonical(schema::Table t);

}  // namespace strata::migrate
