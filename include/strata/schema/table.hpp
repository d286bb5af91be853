// The one description of a schema that the ORM, the DDL compiler and (later) the migrations
// share: types, columns, keys, indexes and constraints of a table. Plain data, comparable.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace strata::schema {

// The portable column types. A dialect maps each to its own SQL type name.
enum class TypeKind {
  integer,      // 32-bit
  big_integer,  // 64-bit
  small_integer,
  float_,       // double precision
  boolean,
  string,       // VARCHAR(length) when length is set, else TEXT
  text,
  blob,
  date,         // ISO 8601 text on SQLite
  time,
  datetime,     // UTC, ISO 8601 text on SQLite
};

struct Type {
  TypeKind kind = TypeKind::text;
  std::optional<int> length;  // for string
  friend bool operator==(const Type&, const Type&) = default;
};

// Portable name of a type for messages and migration files: "String(64)", "Integer"...
std::string to_string(const Type& t);

// Levenshtein distance between two names, for "did you mean ...?" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);

enum class ReferentialAction { no_action, restrict, cascade, set_null, set_default };
std::string_view to_sql(ReferentialAction a);  // "NO ACTION", "CASCADE"...

struct Column {
  std::string name;
  Type type;
  bool nullable = true;
  bool primary_key = false;
  bool autoincrement = false;            // integer primary key assigned by the database
  std::optional<std::string> server_default;  // SQL expression text, e.g. "0" or "'x'"
  friend bool operator==(const Column&, const Column&) = default;
};

struct PrimaryKey {
  std::string name;  // filled by the naming convention when empty
  std::vector<std::string> columns;
  friend bool operator==(const PrimaryKey&, const PrimaryKey&) = default;
};

struct Index {
  std::string name;
  std::vector<std::string> columns;
  bool unique = false;
  friend bool operator==(const Index&, const Index&) = default;
};

struct UniqueConstraint {
  std::string name;
  std::vector<std::string> columns;
  friend bool operator==(const UniqueConstraint&, const UniqueConstraint&) = default;
};

struct ForeignKey {
  std::string name;
  std::vector<std::string> columns;
  std::string referred_table;
  std::vector<std::string> referred_columns;
  ReferentialAction on_delete = ReferentialAction::no_action;
  ReferentialAction on_update = ReferentialAction::no_action;
  friend bool operator==(const ForeignKey&, const ForeignKey&) = default;
};

struct CheckConstraint {
  std::string name;
  std::string sqltext;  // the condition, in portable SQL
  friend bool operator==(const CheckConstraint&, const CheckConstraint&) = default;
};

struct Table {
  std::string name;
  std::vector<Column> columns;  // in declaration order
  PrimaryKey primary_key;
  std::vector<Index> indexes;
  std::vector<UniqueConstraint> uniques;
  std::vector<ForeignKey> foreign_keys;
  std::vector<CheckConstraint> checks;

  const Column* find_column(std::string_view column_name) const;
  friend bool operator==(const Table&, const Table&) = default;
};

// The longest name, in bytes, of a table, column, index or constraint: PostgreSQL's limit
// (NAMEDATALEN - 1), past which it cuts a name short without a word, so that the name read
// back differs and two names sharing their first 63 bytes collide. strata refuses a longer
// name on every backend, so that a schema made on one runs on the others (SQLAlchemy's
// IdentifierError); the naming convention shortens the names it makes to fit.
constexpr std::size_t max_identifier_length = 63;

// A name of t longer than max_identifier_length: what it names ("table", "column", "index",
// "primary key", "unique constraint", "foreign key", "check constraint") and the name.
struct LongName {
  std::string what;
  std::string name;
};
// The first such name of t (the table's, its columns', then its primary key's, indexes' and
// constraints'), or nullopt.
std::optional<LongName> name_too_long(const Table& t);
// "index name 'ix_...' is 70 bytes long, past the limit of 63 bytes (PostgreSQL's, which would
// cut it short)": the message part shared by every refusal of a long name.
std::string too_long_text(const LongName& n);

// Fills every empty constraint and index name from a pattern. Tokens:
// %(table_name)s, %(column_0_name)s, %(column_0_N_name)s (all columns joined by "_"),
// %(referred_table_name)s, %(constraint_name)s (a check's given name, which is then required).
// A non-empty name is kept as is, except a check's: when the check pattern uses
// %(constraint_name)s, a check name that does not already have the pattern's form (its
// rendered text before and after the token, e.g. "ck_post_") is a short given name and is
// expanded: "body_len" on table post becomes "ck_post_body_len". Applying twice changes
// nothing. A generated name longer than 63 bytes (PostgreSQL's limit) becomes its first 54
// bytes + "_" + 8 hex digits of the FNV-1a hash of the full name: unique and deterministic.
struct NamingConvention {
  std::string primary_key = "pk_%(table_name)s";
  std::string index = "ix_%(table_name)s_%(column_0_N_name)s";
  std::string unique = "uq_%(table_name)s_%(column_0_N_name)s";
  std::string foreign_key = "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s";
  std::string check = "ck_%(table_name)s_%(constraint_name)s";

  // Names everything unnamed in t. Throws ArgumentError on an unknown token, or on an unnamed
  // check constraint when the pattern uses %(constraint_name)s.
  void apply(Table& t) const;
};

// A set of tables: what create_all() creates and what a migration state folds into.
class MetaData {
 public:
  explicit MetaData(NamingConvention naming = {}) : naming_(std::move(naming)) {}

  // Applies the naming convention and adds t. Throws ArgumentError when a table of that name
  // exists with a different definition; adding the same definition again is a no-op.
  // The reference stays valid for the life of the MetaData.
  // Also checks t (named, has columns, no duplicate columns, every constraint and index names
  // columns of t, unique constraint and index names, every name at most
  // max_identifier_length bytes once the convention has named them) and makes the primary
  // key's two views
  // agree: primary_key.columns is taken from the columns marked primary_key when empty, and
  // every listed column is marked primary_key.
  const Table& add(Table t);
  const Table* find(std::string_view name) const;
  const std::deque<Table>& tables() const noexcept { return tables_; }
  const NamingConvention& naming() const noexcept { return naming_; }

  // Tables ordered so that every table comes after the tables its foreign keys refer to
  // (self-references ignored). Ties keep declaration order. Throws ArgumentError naming the
  // tables of a cycle.
  std::vector<const Table*> sorted_tables() const;

 private:
  NamingConvention naming_;
  std::deque<Table> tables_;
};

}  // namespace strata::schema
