// Private to the ORM: what a Database shares with its sessions — the engine, the dialect,
// the metadata, flush order, and the SQL of each mapper compiled once for this dialect.
#pragma once

#include <absl/container/inlined_vector.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "events_internal.hpp"
#include "strata/dialect/dialect.hpp"
#include "strata/engine/engine.hpp"
#include "strata/orm/mapper.hpp"
#include "strata/schema/table.hpp"
#include "strata/sql/ast.hpp"

namespace strata::detail {

// A set of a mapper's columns by index (which columns an UPDATE sets): one bit each, in place
// for up to 128 columns, so that working out a row's changed columns allocates nothing.
class ColumnSet {
 public:
  ColumnSet() = default;
  explicit ColumnSet(std::size_t columns) : size_(columns), words_((columns + 63) / 64, 0) {}
  std::size_t size() const noexcept { return size_; }
  bool operator[](std::size_t i) const noexcept { return (words_[i / 64] >> (i % 64)) & 1; }
  void insert(std::size_t i) noexcept { words_[i / 64] |= std::uint64_t{1} << (i % 64); }
  friend bool operator==(const ColumnSet& a, const ColumnSet& b) noexcept {
    return a.size_ == b.size_ && a.words_ == b.words_;
  }
  // Ordered as the column flags would be compared one by one from the first column (a set
  // without column i before one with it, when they agree on the columns before i).
  friend bool operator<(const ColumnSet& a, const ColumnSet& b) noexcept {
    if (a.size_ != b.size_) return a.size_ < b.size_;
    for (std::size_t w = 0; w < a.words_.size(); ++w) {
      const std::uint64_t differ = a.words_[w] ^ b.words_[w];
      if (differ) return (a.words_[w] & (differ & (~differ + 1))) == 0;
    }
    return false;
  }

 private:
  std::size_t size_ = 0;
  absl::InlinedVector<std::uint64_t, 2> words_;
};

// The statements of one mapper, compiled for the database's dialect. Parameters are
// positional: column values in mapper order, then key columns.
struct MapperSql {
  std::vector<sql::ExprPtr> column_exprs;  // table.column for every mapped column, in order
  engine::SqlText insert_all;              // every column
  engine::SqlText insert_generated;        // every column but the autoincrement key (RETURNING
                                           // it where the dialect reads keys so)
  engine::SqlText get_by_key;              // SELECT <columns> ... WHERE key = ?
  engine::SqlText delete_by_key;           // DELETE ... WHERE key = ?

  // UPDATE ... SET <changed columns> WHERE key = ?, by which columns changed.
  const engine::SqlText& update_for(const ColumnSet& changed) const;
  // One UPDATE of many rows that changed the same columns (Dialect::update_rows_sql): one
  // array parameter per changed column, then one per key column.
  const engine::SqlText& update_rows_for(const ColumnSet& changed) const;
  // INSERT of the included columns, RETURNING the `returning` ones (columns left to their
  // server default), for inserts that cannot use insert_all / insert_generated.
  const engine::SqlText& insert_for(const std::vector<bool>& included,
                                const std::vector<bool>& returning) const;
  // One INSERT of many rows that set the same columns (Dialect::insert_rows_sql): one array
  // parameter per included column.
  const engine::SqlText& insert_rows_for(const std::vector<bool>& included,
                                     const std::vector<bool>& returning) const;

  // SELECT <columns> ... WHERE <c> = ? ORDER BY <key>: a one-to-many lazy load through the
  // foreign-key column c of this mapper.
  const engine::SqlText& select_by(const ColumnInfo& c) const;
  // SELECT <columns> ... JOIN <association table> ON ... WHERE <its local column> = ?
  // ORDER BY <key>: a many-to-many lazy load of this (the target) mapper through rel.
  const engine::SqlText& select_through(const RelationshipInfo& rel) const;

  const Mapper* mapper = nullptr;
  const dialect::Dialect* dialect = nullptr;
  mutable std::mutex mutex;
  mutable std::map<const ColumnInfo*, engine::SqlText> selects_by;
  mutable std::map<const RelationshipInfo*, engine::SqlText> selects_through;
  mutable std::map<ColumnSet, engine::SqlText> updates;
  mutable std::map<ColumnSet, engine::SqlText> row_updates;
  mutable std::map<std::pair<std::vector<bool>, std::vector<bool>>, engine::SqlText> inserts;
  mutable std::map<std::pair<std::vector<bool>, std::vector<bool>>, engine::SqlText> row_inserts;
};

// key = ? AND key2 = ? for the mapper's primary key, with placeholders.
sql::ExprPtr key_condition(const Mapper& m);

// A foreign key of a table of the metadata, with the table's name.
struct ForeignKeyOf {
  std::string table;
  schema::ForeignKey key;
};

// One database of the app: the default one, or a named bind (DatabaseOptions::binds). The
// default core owns the binds' cores; a mapper whose Model<T>::bind names one is registered,
// compiled and ordered there (ensure_registered, rank_of and sql_for route by the mapper).
struct DatabaseCore {
  DatabaseCore(engine::Url u, std::shared_ptr<dialect::Dialect> d, engine::EngineOptions eo,
               schema::NamingConvention naming, std::string bind_name = {},
               bool track_modifications = false);

  engine::Url url;
  std::shared_ptr<dialect::Dialect> dialect;
  engine::Engine engine;
  const std::string bind_name;  // empty for the default database
  // The named binds, by name (only the default core has any).
  std::map<std::string, std::unique_ptr<DatabaseCore>, std::less<>> binds;
  DatabaseCore* parent = nullptr;  // for a bind's core: the default core

  // The core of the bind named `name` (empty: the default). ArgumentError for an unknown name.
  DatabaseCore& for_bind(std::string_view name);
  // The core whose metadata holds the table `name` (the default when none does).
  DatabaseCore& core_for_table(std::string_view name);
  // Adds to `tables` (tables of this database), transitively, each table a foreign key of one
  // of them refers to with an ON UPDATE action: a key changed there changes their rows too.
  // False when one of them is not in the metadata (the table of a model not registered yet,
  // or none of the models'): its foreign keys are unknown, and any table may reach it.
  bool add_tables_updating(std::vector<std::string>& tables);
  // The single-column foreign keys of the metadata whose ON UPDATE action carries a changed
  // value into their rows (CASCADE, SET NULL).
  std::vector<ForeignKeyOf> foreign_keys_carrying_updates();
  // The core where m's table lives.
  DatabaseCore& core_for(const Mapper& m) {
    return m.bind == bind_name ? *this : for_bind(m.bind);
  }
  EventRegistry events;  // Database::events()

  // Registers m (and its table) unless already there; safe from several threads.
  void ensure_registered(const Mapper& m);
  const schema::Table& add_table(schema::Table t);
  // Flush order of m's table: parents before children.
  int rank_of(const Mapper& m);
  const MapperSql& sql_for(const Mapper& m);
  // A copy of the metadata, for explaining errors without holding the lock.
  const schema::MetaData& metadata() const { return metadata_; }
  // The registered mappers, in registration order.
  std::vector<const Mapper*> mappers() {
    std::lock_guard lock(mutex_);
    return mappers_;
  }
  // Those of this database and of its binds: what a relationship to a model may be declared
  // on, wherever the model's table lives.
  std::vector<const Mapper*> mappers_of_every_bind() {
    auto out = mappers();
    for (auto& [name, bind] : binds) {
      auto more = bind->mappers();
      out.insert(out.end(), more.begin(), more.end());
    }
    return out;
  }

 private:
  void recompute_ranks();
  std::mutex mutex_;
  schema::MetaData metadata_;
  std::vector<const Mapper*> mappers_;
  std::unordered_map<std::string, int> ranks_;
  std::unordered_map<const Mapper*, std::unique_ptr<MapperSql>> sql_;
};

}  // namespace strata::detail
