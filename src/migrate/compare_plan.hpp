// Autogenerate's first step, shared by compare.cpp and compare_columns.cpp: how the columns of
// each table present on both sides correspond (renames settled by the user, candidates left
// unresolved). Internal to the migrate layer.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "strata/migrate/compare.hpp"
#include "strata/migrate/state.hpp"
#include "strata/schema/table.hpp"

namespace strata::migrate::detail {

// The column correspondence of one table that exists in the state and in the models.
struct ColumnPlan {
  std::map<std::string, std::string> renames;  // old name -> new name, settled renames
  // Both names of every unresolved candidate: compare() emits nothing for these columns, nor
  // for the indexes and constraints that name them.
  std::set<std::string> frozen;

  // The name a column of the state has in the models (renamed or not).
  std::string new_name(const std::string& old_name) const;
  std::vector<std::string> new_names(const std::vector<std::string>& old_names) const;
  bool touches(const std::vector<std::string>& columns) const;
};

// By table name; only tables present on both sides.
using ColumnPlans = std::map<std::string, ColumnPlan, std::less<>>;

// The tables renamed, settled before anything else.
struct TablePlan {
  std::vector<RenameTableOp> renames;  // in the order to emit them
  // Both names of every unresolved candidate: compare() then plans nothing (see
  // CompareResult::unresolved).
  std::set<std::string> frozen;
};

// Settles which table of the state became which table of the models: options.renames
// entries without a dot (one that does not fit is a CommandError; one already applied is
// skipped), then the hints that fit, then the candidates (a vanished and an appeared table
// with the same columns), through options.confirm_rename or into `unresolved`.
TablePlan plan_tables(const SchemaState& from, const std::vector<schema::Table>& to,
                      const CompareOptions& options, std::vector<RenameCandidate>& unresolved);

// Settles the column renames of every table on both sides (`from` with its tables already
// renamed): options.renames first (an entry that does not fit is a CommandError; one already
// applied, its new name in both schemas, is skipped), then the hints that fit, then the
// candidates, through options.confirm_rename or into `unresolved`.
ColumnPlans plan_columns(const SchemaState& from, const std::vector<schema::Table>& to,
                         const CompareOptions& options, std::vector<RenameCandidate>& unresolved);

// Throws CommandError when a table on both sides has a primary key on other columns (or a
// column's primary_key flag differs): autogenerate does not change primary keys. The name
// is not compared (see compare()).
void check_primary_keys(const SchemaState& from, const std::vector<schema::Table>& to,
                        const ColumnPlans& plans);

}  // namespace strata::migrate::detail
