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

// Settles the renames of every table on both sides: options.renames first (an entry that
// does not fit is a CommandError; one already applied, its new name in both schemas, is
// skipped), then the candidates, through options.confirm_rename or into `unresolved`.
ColumnPlans plan_columns(const SchemaState& from, const std::vector<schema::Table>& to,
                         const CompareOptions& options, std::vector<RenameCandidate>& unresolved);

// Throws CommandError when a table on both sides has a different primary key (columns, name,
// or the primary_key flag of a column): autogenerate does not change primary keys.
void check_primary_keys(const SchemaState& from, const std::vector<schema::Table>& to,
                        const ColumnPlans& plans);

}  // namespace strata::migrate::detail
