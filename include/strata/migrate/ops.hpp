// Migration operations: plain data, each with its inverse. A destructive operation carries
// the definition it removes, so it can be reversed. Rendering to a file, parsing a file,
// folding into a schema state, and applying to a database are separate consumers of these.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "strata/schema/table.hpp"

namespace strata::migrate {

struct CreateTableOp {
  schema::Table table;
  friend bool operator==(const CreateTableOp&, const CreateTableOp&) = default;
};
// Destructive: carries the whole table definition (the data itself is lost).
struct DropTableOp {
  schema::Table table;
  friend bool operator==(const DropTableOp&, const DropTableOp&) = default;
};
struct RenameTableOp {
  std::string old_name;
  std::string new_name;
  friend bool operator==(const RenameTableOp&, const RenameTableOp&) = default;
};
// Adds a column: at `position` (0-based index among the table's columns after the add) when
// set, else at the end. Autogenerate always appends (SQLite and PostgreSQL can only append
// natively); a position comes from reversing a DropColumnOp, to restore the column's place.
// A primary key column cannot be added.
struct AddColumnOp {
  std::string table;
  schema::Column column;
  std::optional<std::size_t> position;  // absent: append
  friend bool operator==(const AddColumnOp&, const AddColumnOp&) = default;
};
// Destructive: carries the column's definition and its position, to restore both.
// position is the column's 0-based index among the table's columns just before this drop;
// absent when it was not recorded (the reverse of an AddColumnOp without position): the
// reverse then appends the column again. When set, folding checks it.
struct DropColumnOp {
  std::string table;
  schema::Column column;
  std::optional<std::size_t> position;
  friend bool operator==(const DropColumnOp&, const DropColumnOp&) = default;
};
struct RenameColumnOp {
  std::string table;
  std::string old_name;
  std::string new_name;
  friend bool operator==(const RenameColumnOp&, const RenameColumnOp&) = default;
};
// Changes a column's type, nullability, server default or autoincrement (not its name: see
// RenameColumnOp; not whether it is in the primary key). Holds both sides, so the reverse is
// exact. Narrowing a type or adding NOT NULL may fail on existing rows: see is_destructive
// and is_risky.
struct AlterColumnOp {
  std::string table;
  schema::Column before;
  schema::Column after;  // same name as before
  friend bool operator==(const AlterColumnOp&, const AlterColumnOp&) = default;
};
// `concurrently`: PostgreSQL's CREATE / DROP INDEX CONCURRENTLY, which does not block writes
// to the table while it builds (or drops) the index, and cannot run inside a transaction: only
// in a migration with `atomic: false` (Migration::atomic). Other dialects run a plain CREATE /
// DROP INDEX. The reverse keeps it.
struct CreateIndexOp {
  std::string table;
  schema::Index index;
  bool concurrently = false;
  friend bool operator==(const CreateIndexOp&, const CreateIndexOp&) = default;
};
struct DropIndexOp {
  std::string table;
  schema::Index index;
  bool concurrently = false;
  friend bool operator==(const DropIndexOp&, const DropIndexOp&) = default;
};
struct AddUniqueOp {
  std::string table;
  schema::UniqueConstraint constraint;
  friend bool operator==(const AddUniqueOp&, const AddUniqueOp&) = default;
};
struct DropUniqueOp {
  std::string table;
  schema::UniqueConstraint constraint;
  friend bool operator==(const DropUniqueOp&, const DropUniqueOp&) = default;
};
// `not_valid`: PostgreSQL's ADD CONSTRAINT ... NOT VALID, for a table in use. The constraint
// holds for rows written from then on, but the rows already in the table are not checked, so
// adding it takes its locks for a moment instead of for a scan of the table; a
// ValidateConstraintOp, in a later migration, checks them without blocking writes. Other
// dialects add the constraint as usual (SQLite's rebuild checks the rows then). The reverse
// (a drop) does not keep it, nor does the reverse of a drop.
struct AddForeignKeyOp {
  std::string table;
  schema::ForeignKey foreign_key;
  bool not_valid = false;
  friend bool operator==(const AddForeignKeyOp&, const AddForeignKeyOp&) = default;
};
struct DropForeignKeyOp {
  std::string table;
  schema::ForeignKey foreign_key;
  friend bool operator==(const DropForeignKeyOp&, const DropForeignKeyOp&) = default;
};
// `not_valid`: as AddForeignKeyOp's.
struct AddCheckOp {
  std::string table;
  schema::CheckConstraint check;
  bool not_valid = false;
  friend bool operator==(const AddCheckOp&, const AddCheckOp&) = default;
};
struct DropCheckOp {
  std::string table;
  schema::CheckConstraint check;
  friend bool operator==(const DropCheckOp&, const DropCheckOp&) = default;
};

// Renames a table's primary key, unique, foreign-key or check constraint, which keeps its
// definition (PostgreSQL: ALTER TABLE ... RENAME CONSTRAINT; SQLite keeps constraint names
// only in the table's CREATE TABLE text, so the table is rebuilt). Autogenerate writes it for
// the primary key of a renamed table, whose name the naming convention derives from the
// table's: on PostgreSQL the old name stays taken (it names the key's index) until renamed.
struct RenameConstraintOp {
  std::string table;
  std::string old_name;
  std::string new_name;
  friend bool operator==(const RenameConstraintOp&, const RenameConstraintOp&) = default;
};

// Checks the rows of a foreign key or check constraint added with `not_valid` (PostgreSQL:
// ALTER TABLE ... VALIDATE CONSTRAINT, which scans the table while writes go on; nothing
// happens when the constraint is valid already). It changes no schema, so its reverse is
// itself. Other dialects, which add every constraint valid, run nothing.
struct ValidateConstraintOp {
  std::string table;
  std::string name;
  friend bool operator==(const ValidateConstraintOp&, const ValidateConstraintOp&) = default;
};

// Raw SQL. `sql` maps a dialect name ("sqlite", "postgresql") or "*" (any) to the statement
// text. `reverse` is the SQL that undoes it, in the same form; when empty and not
// irreversible the operation has no reverse and downgrade refuses it.
struct ExecuteOp {
  std::map<std::string, std::string> sql;
  std::map<std::string, std::string> reverse;
  bool irreversible = false;
  friend bool operator==(const ExecuteOp&, const ExecuteOp&) = default;
};

// A data migration: a C++ callback the application registers under `name`. `reverse` names
// the callback that undoes it (empty: irreversible). Refuses to run when not registered.
struct CallOp {
  std::string name;
  std::string reverse;
  friend bool operator==(const CallOp&, const CallOp&) = default;
};

using Operation = std::variant<CreateTableOp, DropTableOp, RenameTableOp, AddColumnOp, DropColumnOp,
                               RenameColumnOp, AlterColumnOp, CreateIndexOp, DropIndexOp,
                               AddUniqueOp, DropUniqueOp, AddForeignKeyOp, DropForeignKeyOp,
                               AddCheckOp, DropCheckOp, RenameConstraintOp,
                               ValidateConstraintOp, ExecuteOp, CallOp>;

// The operation that undoes op. Throws IrreversibleError for an ExecuteOp without reverse
// SQL (or marked irreversible) and a CallOp without a reverse callback.
Operation reverse(const Operation& op);

// The operations that undo ops, in reverse order.
std::vector<Operation> reverse(const std::vector<Operation>& ops);

// Whether op loses data or may leave rows without a value they need: dropped tables and
// columns, type narrowing (is_narrowing), a column made NOT NULL, or added NOT NULL, without a
// server default. `db migrate` marks these in the file; `--allow-destructive` lets them pass.
bool is_destructive(const Operation& op);

// Whether op may fail on rows already in the table: a column made NOT NULL (even with a server
// default: existing NULLs still fail), a column added NOT NULL without a server default, type
// narrowing, a unique constraint or unique index, a check constraint, a foreign key (added
// valid: one added `not_valid` checks no row; its validate_constraint is the risky step).
// Dropping is never risky (it cannot fail on data; it is destructive). For `db lint` and the
// file.
bool is_risky(const Operation& op);

// Whether converting a column from `from` to `to` may lose or reject values. Widening is safe:
// small_integer -> integer -> big_integer, small_integer/integer/boolean -> float_, boolean ->
// any integer, date -> datetime, String(n) -> String(m >= n), String(n) -> String / Text,
// String / Text -> Blob, and anything but Blob -> Text or String without length. Every other
// change of kind narrows (e.g. Text -> String(n), BigInteger -> Integer, Float -> Integer,
// anything -> Boolean, DateTime -> Date), as does any change to String(n) from a non-string.
bool is_narrowing(const schema::Type& from, const schema::Type& to);

// Whether op is a create_index or drop_index with `concurrently` (it cannot run inside a
// transaction on PostgreSQL).
bool is_concurrent(const Operation& op);

// The table op changes, by its name before op; empty for execute and call.
const std::string& table_of(const Operation& op);

// For a reviewer, what is_destructive() or is_risky() finds in op, as one line that starts
// with the finding: "destructive: drops column 'user.about_me' and its data", "risky: add
// unique ... may fail on rows already in the table"; empty when neither. The comment above
// the operation in the file `db migrate` writes, and a `db lint` finding.
std::string warning(const Operation& op);

// One line for humans: "create table 'post'", "drop column 'user.last_seen'",
// "alter column 'post.body' (String(140) -> String(280))". StateError messages start with it.
std::string describe(const Operation& op);

// The file-format name of each kind: "create_table", "drop_column", ...
std::string_view kind_name(const Operation& op);

}  // namespace strata::migrate
