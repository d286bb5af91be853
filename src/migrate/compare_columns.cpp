// Autogenerate, tables and columns: which vanished table or column became which appeared one
// (renames given by the user or hinted by the models, probable renames confirmed or left for
// the user), and the primary-key check. Called by compare() before it emits anything.
#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "strata/migrate/errors.hpp"

#include "compare_plan.hpp"
#include "ops_text.hpp"

namespace strata::migrate::detail {

namespace {

using schema::Column;
using schema::Table;

const Table* find_target(const std::vector<Table>& to, std::string_view name) {
  for (const Table& t : to) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

// A probable rename: the same type (kind and length) and nullability.
bool compatible(const Column& vanished, const Column& appeared) {
  return vanished.type == appeared.type && vanished.nullable == appeared.nullable;
}

// options.renames of columns, checked against both schemas, then the hints that fit, by
// table: table -> (old -> new).
std::map<std::string, std::map<std::string, std::string>> given_renames(
    const SchemaState& from, const std::vector<Table>& to, const CompareOptions& options) {
  std::map<std::string, std::map<std::string, std::string>> out;
  for (const auto& [key, new_name] : options.renames) {
    const std::string entry = "rename " + key + " -> " + new_name;
    const std::size_t dot = key.find('.');
    if (dot == std::string::npos) continue;  // a table's (plan_tables)
    if (dot == 0 || dot + 1 == key.size() || new_name.empty()) {
      throw CommandError(entry + ": write a rename as table.old_column:new_column");
    }
    const std::string table = key.substr(0, dot);
    const std::string old_name = key.substr(dot + 1);
    const Table* before = from.find(table);
    const Table* after = find_target(to, table);
    if (!before && !after) {
      throw CommandError(entry + ": there is no table '" + table +
                         "' in the migrations or in the models");
    }
    if (!after) throw CommandError(entry + ": the models have no table '" + table + "'");
    if (!before) continue;  // a new table: created under its new column names
    const bool old_before = before->find_column(old_name) != nullptr;
    const bool old_after = after->find_column(old_name) != nullptr;
    const bool new_before = before->find_column(new_name) != nullptr;
    const bool new_after = after->find_column(new_name) != nullptr;
    if (!old_before && !old_after && new_before && new_after) continue;  // already applied
    if (!old_before) {
      throw CommandError(entry + ": table '" + table + "' has no column '" + old_name +
                         "' in the migrations");
    }
    if (old_after) {
      throw CommandError(entry + ": the models still have column '" + table + "." + old_name + "'");
    }
    if (!new_after) {
      throw CommandError(entry + ": the models have no column '" + table + "." + new_name + "'");
    }
    if (new_before) {
      throw CommandError(entry + ": table '" + table + "' already has a column '" + new_name +
                         "' in the migrations");
    }
    for (const auto& [other_old, other_new] : out[table]) {
      if (other_new == new_name) {
        throw CommandError(entry + ": '" + table + "." + other_old + "' is also renamed to '" +
                           new_name + "'");
      }
    }
    out[table][old_name] = new_name;
  }
  for (const auto& hint : options.rename_hints) {
    const std::string& key = hint.first;
    const std::string& new_name = hint.second;
    const std::size_t dot = key.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == key.size()) continue;
    const std::string table = key.substr(0, dot);
    const std::string old_name = key.substr(dot + 1);
    const Table* before = from.find(table);
    const Table* after = find_target(to, table);
    if (!before || !after) continue;
    auto& given = out[table];
    const bool settled = given.count(old_name) > 0 ||
                         std::any_of(given.begin(), given.end(),
                                     [&](const auto& r) { return r.second == new_name; });
    if (!settled && before->find_column(old_name) && !before->find_column(new_name) &&
        after->find_column(new_name) && !after->find_column(old_name)) {
      given[old_name] = new_name;
    }
  }
  return out;
}

// A probable table rename: the same columns (names, types, nullability, primary key), in any
// order.
bool same_columns(const Table& vanished, const Table& appeared) {
  if (vanished.columns.size() != appeared.columns.size()) return false;
  for (const Column& a : appeared.columns) {
    const Column* v = vanished.find_column(a.name);
    if (!v || !compatible(*v, a) || v->primary_key != a.primary_key) return false;
  }
  return true;
}

// The plan of one table: given renames, then each vanished column paired with the compatible
// appeared columns, in the state's column order then the models'.
ColumnPlan plan_table(const Table& before, const Table& after,
                      std::map<std::string, std::string> given, const CompareOptions& options,
                      std::vector<RenameCandidate>& unresolved) {
  ColumnPlan plan;
  plan.renames = std::move(given);
  std::vector<const Column*> appeared;
  for (const Column& c : after.columns) {
    if (before.find_column(c.name)) continue;
    const bool given_new = std::any_of(plan.renames.begin(), plan.renames.end(),
                                       [&](const auto& r) { return r.second == c.name; });
    if (!given_new) appeared.push_back(&c);
  }
  std::vector<const Column*> taken;
  for (const Column& vanished : before.columns) {
    if (after.find_column(vanished.name) || plan.renames.count(vanished.name)) continue;
    std::vector<const Column*> matches;
    for (const Column* a : appeared) {
      if (compatible(vanished, *a) && std::find(taken.begin(), taken.end(), a) == taken.end()) {
        matches.push_back(a);
      }
    }
    for (const Column* a : matches) {
      const RenameCandidate candidate{before.name, vanished.name, a->name};
      if (!options.confirm_rename) {
        unresolved.push_back(candidate);
        plan.frozen.insert(vanished.name);
        plan.frozen.insert(a->name);
      } else if (options.confirm_rename(candidate)) {
        plan.renames[vanished.name] = a->name;
        taken.push_back(a);
        break;
      }
    }
  }
  return plan;
}

std::string describe_key(const schema::PrimaryKey& pk) {
  return "'" + pk.name + "' (" + join_names(pk.columns) + ")";
}

}  // namespace

std::string ColumnPlan::new_name(const std::string& old_name) const {
  auto it = renames.find(old_name);
  return it == renames.end() ? old_name : it->second;
}

std::vector<std::string> ColumnPlan::new_names(const std::vector<std::string>& old_names) const {
  std::vector<std::string> out;
  out.reserve(old_names.size());
  for (const std::string& n : old_names) out.push_back(new_name(n));
  return out;
}

bool ColumnPlan::touches(const std::vector<std::string>& columns) const {
  return std::any_of(columns.begin(), columns.end(),
                     [&](const std::string& c) { return frozen.count(c) > 0; });
}

TablePlan plan_tables(const SchemaState& from, const std::vector<Table>& to,
                      const CompareOptions& options, std::vector<RenameCandidate>& unresolved) {
  TablePlan plan;
  std::map<std::string, std::string> renames;  // old -> new
  auto renamed_to = [&](const std::string& new_name) {
    return std::any_of(renames.begin(), renames.end(),
                       [&](const auto& r) { return r.second == new_name; });
  };
  for (const auto& [old_name, new_name] : options.renames) {
    if (old_name.find('.') != std::string::npos) continue;  // a column's (given_renames)
    const std::string entry = "rename " + old_name + " -> " + new_name;
    if (old_name.empty() || new_name.empty()) {
      throw CommandError(entry + ": write a table rename as old_table:new_table");
    }
    const bool old_before = from.find(old_name) != nullptr;
    const bool old_after = find_target(to, old_name) != nullptr;  // a new table of that name
    const bool new_before = from.find(new_name) != nullptr;
    const bool new_after = find_target(to, new_name) != nullptr;
    if (!old_before && !old_after && new_before && new_after) continue;  // already applied
    if (!old_before) {
      throw CommandError(entry + ": there is no table '" + old_name + "' in the migrations");
    }
    // The models may have a table of the old name too: a new one, created after the rename.
    if (!new_after) throw CommandError(entry + ": the models have no table '" + new_name + "'");
    if (new_before) {
      throw CommandError(entry + ": table '" + new_name + "' already exists in the migrations");
    }
    if (renamed_to(new_name)) {
      throw CommandError(entry + ": another table is also renamed to '" + new_name + "'");
    }
    renames[old_name] = new_name;
  }
  for (const auto& [old_name, new_name] : options.rename_hints) {
    if (old_name.find('.') != std::string::npos) continue;  // a column's
    if (renames.count(old_name) || renamed_to(new_name)) continue;  // --rename wins
    // As for a column's hint: the old name in the migrations and not in the models, the new
    // one in the models and not in the migrations. A model of the old name is another table,
    // whose rows the rename would hand to this one.
    if (from.find(old_name) && !find_target(to, old_name) && find_target(to, new_name) &&
        !from.find(new_name)) {
      renames[old_name] = new_name;
    }
  }
  for (const auto& [old_name, new_name] : renames) plan.renames.push_back({old_name, new_name});

  // The candidates: each vanished table, in the state's order, with each appeared table of the
  // same columns, in the models' order.
  std::vector<const Table*> taken;
  for (const Table& vanished : from.tables()) {
    if (find_target(to, vanished.name) || renames.count(vanished.name)) continue;
    for (const Table& appeared : to) {
      if (from.find(appeared.name) || renamed_to(appeared.name) ||
          std::find(taken.begin(), taken.end(), &appeared) != taken.end() ||
          !same_columns(vanished, appeared)) {
        continue;
      }
      const RenameCandidate candidate{"", vanished.name, appeared.name};
      if (!options.confirm_rename) {
        unresolved.push_back(candidate);
        plan.frozen.insert(vanished.name);
        plan.frozen.insert(appeared.name);
      } else if (options.confirm_rename(candidate)) {
        plan.renames.push_back({vanished.name, appeared.name});
        taken.push_back(&appeared);
        break;
      }
    }
  }
  return plan;
}

ColumnPlans plan_columns(const SchemaState& from, const std::vector<Table>& to,
                         const CompareOptions& options, std::vector<RenameCandidate>& unresolved) {
  auto given = given_renames(from, to, options);
  ColumnPlans plans;
  for (const Table& after : to) {
    const Table* before = from.find(after.name);
    if (!before) continue;
    plans[after.name] =
        plan_table(*before, after, std::move(given[after.name]), options, unresolved);
  }
  return plans;
}

void check_primary_keys(const SchemaState& from, const std::vector<Table>& to,
                        const ColumnPlans& plans) {
  for (const Table& after : to) {
    const Table* before = from.find(after.name);
    if (!before) continue;
    const ColumnPlan& plan = plans.at(after.name);
    schema::PrimaryKey was = before->primary_key;
    was.columns = plan.new_names(was.columns);
    // Only the columns count here; a new name is a rename_constraint (compare()).
    was.name = after.primary_key.name;
    std::string what;
    if (!(was == after.primary_key)) {
      what = "the migrations have primary key " + describe_key(was) + ", the models " +
             describe_key(after.primary_key);
    }
    for (const Column& c : before->columns) {
      const Column* now = after.find_column(plan.new_name(c.name));
      if (what.empty() && now && now->primary_key != c.primary_key) {
        what = "column '" + now->name + "' is " + (c.primary_key ? "" : "not ") +
               "part of the primary key in the migrations but " + (now->primary_key ? "" : "not ") +
               "in the models";
      }
    }
    if (!what.empty()) {
      throw CommandError("table '" + after.name +
                         "': changing a primary key is not supported by autogenerate (" + what +
                         "); write that migration by hand (e.g. create a new table and copy the "
                         "rows with an execute operation)");
    }
  }
}

}  // namespace strata::migrate::detail
