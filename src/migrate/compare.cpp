// Autogenerate: compare() diffs the schema of the migration chain (a SchemaState) with the
// models' tables and emits the operations between them, in an order that applies cleanly.
// Each operation is applied to a working copy of the state as it is emitted, so every later
// step sees the schema as the earlier ones left it (and a wrong order would fail here, not in
// a user's database). Called by `db migrate` and `db check`.
#include "strata/migrate/compare.hpp"

#include <algorithm>
#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/migrate/errors.hpp"

#include "compare_plan.hpp"

namespace strata::migrate {

namespace {

using detail::ColumnPlan;
using detail::ColumnPlans;
using schema::CheckConstraint;
using schema::Column;
using schema::ForeignKey;
using schema::Index;
using schema::Table;
using schema::UniqueConstraint;

// The upgrade list being built and the state it leads to.
struct Emitter {
  SchemaState state;
  std::vector<Operation> ops;

  void emit(Operation op) {
    state.apply(op);
    ops.push_back(std::move(op));
  }
  const Table& table(std::string_view name) const { return *state.find(name); }
};

const Table* find_target(const std::vector<Table>& to, std::string_view name) {
  for (const Table& t : to) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

// Names are how autogenerate matches tables, indexes and constraints: they must be there.
void check_target(const std::vector<Table>& to) {
  std::set<std::string> tables;
  for (const Table& t : to) {
    if (t.name.empty()) throw CommandError("a table of the models has no name");
    if (!tables.insert(t.name).second) {
      throw CommandError("the models define table '" + t.name + "' twice");
    }
    auto require_name = [&](const std::string& name, std::string_view what) {
      if (name.empty()) {
        throw CommandError("table '" + t.name + "' of the models has an unnamed " +
                           std::string(what) +
                           "; add tables through a MetaData so its naming convention names it");
      }
    };
    for (const Index& ix : t.indexes) require_name(ix.name, "index");
    for (const UniqueConstraint& uq : t.uniques) require_name(uq.name, "unique constraint");
    for (const ForeignKey& fk : t.foreign_keys) require_name(fk.name, "foreign key");
    for (const CheckConstraint& ck : t.checks) require_name(ck.name, "check constraint");
  }
}

// A constraint or index of the state as the models would write it once the renames are done,
// and whether it names columns left alone by an unresolved rename.
Index forward(Index ix, const ColumnPlan& plan, const ColumnPlans&) {
  ix.columns = plan.new_names(ix.columns);
  return ix;
}
UniqueConstraint forward(UniqueConstraint uq, const ColumnPlan& plan, const ColumnPlans&) {
  uq.columns = plan.new_names(uq.columns);
  return uq;
}
ForeignKey forward(ForeignKey fk, const ColumnPlan& plan, const ColumnPlans& plans) {
  fk.columns = plan.new_names(fk.columns);
  auto parent = plans.find(fk.referred_table);
  if (parent != plans.end()) fk.referred_columns = parent->second.new_names(fk.referred_columns);
  return fk;
}
CheckConstraint forward(CheckConstraint ck, const ColumnPlan&, const ColumnPlans&) { return ck; }

bool frozen(const Index& ix, const ColumnPlan& plan, const ColumnPlans&) {
  return plan.touches(ix.columns);
}
bool frozen(const UniqueConstraint& uq, const ColumnPlan& plan, const ColumnPlans&) {
  return plan.touches(uq.columns);
}
bool frozen(const ForeignKey& fk, const ColumnPlan& plan, const ColumnPlans& plans) {
  auto parent = plans.find(fk.referred_table);
  return plan.touches(fk.columns) ||
         (parent != plans.end() && parent->second.touches(fk.referred_columns));
}
bool frozen(const CheckConstraint&, const ColumnPlan&, const ColumnPlans&) { return false; }

// Whether an index or constraint of t still names column (only possible next to an
// unresolved rename, whose indexes and constraints are left alone).
bool still_used(const Table& t, const std::string& column) {
  auto uses = [&](const std::vector<std::string>& columns) {
    return std::find(columns.begin(), columns.end(), column) != columns.end();
  };
  return std::any_of(t.indexes.begin(), t.indexes.end(),
                     [&](const Index& ix) { return uses(ix.columns); }) ||
         std::any_of(t.uniques.begin(), t.uniques.end(),
                     [&](const UniqueConstraint& uq) { return uses(uq.columns); }) ||
         std::any_of(t.foreign_keys.begin(), t.foreign_keys.end(),
                     [&](const ForeignKey& fk) { return uses(fk.columns); });
}

template <class C>
const C* find_named(const std::vector<C>& items, std::string_view name) {
  for (const C& c : items) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// Drops every item of the state's table that the models do not have under the same name with
// the same definition (after renames). Op is the drop operation of C.
template <class Op, class C>
void drop_changed(Emitter& out, const std::string& table, std::vector<C> Table::*items,
                  const Table& target, const ColumnPlans& plans) {
  const ColumnPlan& plan = plans.at(table);
  const std::vector<C> current = out.table(table).*items;  // copy: emit() changes the state
  for (const C& c : current) {
    if (frozen(c, plan, plans)) continue;
    const C* wanted = find_named(target.*items, c.name);
    if (wanted && forward(c, plan, plans) == *wanted) continue;
    out.emit(Op{table, c});
  }
}

// Whether drop_changed() will drop c (the state's) from table: the models do not have it
// under the same name with the same definition.
template <class C>
bool doomed(const C& c, const std::vector<C>& wanted_items, const ColumnPlan& plan,
            const ColumnPlans& plans) {
  if (frozen(c, plan, plans)) return false;
  const C* wanted = find_named(wanted_items, c.name);
  return !(wanted && forward(c, plan, plans) == *wanted);
}

std::vector<std::string> sorted(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  return names;
}

// The columns, by table, of the unique indexes and constraints of kept tables that this
// comparison drops. A foreign key that refers to exactly such columns is tied to that index
// by PostgreSQL (and loses its unique target on SQLite): it is dropped before them and added
// again at the end (add_missing).
std::set<std::pair<std::string, std::vector<std::string>>> doomed_unique_targets(
    const Emitter& out, const std::vector<const Table*>& kept, const ColumnPlans& plans) {
  std::set<std::pair<std::string, std::vector<std::string>>> targets;
  for (const Table* t : kept) {
    const Table& before = out.table(t->name);
    const ColumnPlan& plan = plans.at(t->name);
    for (const Index& ix : before.indexes) {
      if (ix.unique && doomed(ix, t->indexes, plan, plans))
        targets.insert({t->name, sorted(ix.columns)});
    }
    for (const UniqueConstraint& uq : before.uniques) {
      if (doomed(uq, t->uniques, plan, plans)) targets.insert({t->name, sorted(uq.columns)});
    }
  }
  return targets;
}

// Adds every item of the models that the state's table lacks (by name). Op is the add
// operation of C.
template <class Op, class C>
void add_missing(Emitter& out, const std::string& table, std::vector<C> Table::*items,
                 const Table& target, const ColumnPlans& plans) {
  const ColumnPlan& plan = plans.at(table);
  for (const C& c : target.*items) {
    if (frozen(c, plan, plans) || find_named(out.table(table).*items, c.name)) continue;
    out.emit(Op{table, c});
  }
}

// Column changes of one table on both sides, in an order that applies: drops (last column
// first, so each records its position in the state before this migration), renames, adds
// (appended in model order), alterations; then its new indexes, uniques and checks.
void change_columns(Emitter& out, const Table& target, const ColumnPlans& plans) {
  const std::string& name = target.name;
  const ColumnPlan& plan = plans.at(name);
  const std::vector<Column> current = out.table(name).columns;
  for (std::size_t i = current.size(); i-- > 0;) {
    const Column& c = current[i];
    if (plan.frozen.count(c.name) || plan.renames.count(c.name) || target.find_column(c.name)) {
      continue;
    }
    if (!plan.frozen.empty() && still_used(out.table(name), c.name)) continue;
    out.emit(DropColumnOp{name, c, i});
  }
  for (const Column& c : current) {
    auto it = plan.renames.find(c.name);
    if (it != plan.renames.end()) out.emit(RenameColumnOp{name, c.name, it->second});
  }
  for (const Column& c : target.columns) {
    if (plan.frozen.count(c.name) || out.table(name).find_column(c.name)) continue;
    out.emit(AddColumnOp{name, c, std::nullopt});
  }
  for (const Column& c : target.columns) {
    const Column* now = out.table(name).find_column(c.name);
    if (now && !(*now == c)) out.emit(AlterColumnOp{name, *now, c});
  }
  add_missing<CreateIndexOp>(out, name, &Table::indexes, target, plans);
  add_missing<AddUniqueOp>(out, name, &Table::uniques, target, plans);
  add_missing<AddCheckOp>(out, name, &Table::checks, target, plans);
}

bool refers_to(const Table& child, std::string_view parent) {
  return std::any_of(child.foreign_keys.begin(), child.foreign_keys.end(),
                     [&](const ForeignKey& fk) { return fk.referred_table == parent; });
}

// New tables, parents before children (ties in model order). Foreign keys that make a cycle
// among new tables are left out of the first table of the cycle and added afterwards.
void create_tables(Emitter& out, std::vector<Table> tables, std::vector<Operation>& deferred) {
  std::vector<bool> placed(tables.size(), false);
  auto waits_on_unplaced = [&](const ForeignKey& fk, std::size_t self) {
    for (std::size_t j = 0; j < tables.size(); ++j) {
      if (j != self && !placed[j] && tables[j].name == fk.referred_table) return true;
    }
    return false;
  };
  for (std::size_t done = 0; done < tables.size(); ++done) {
    std::size_t next = tables.size();
    for (std::size_t i = 0; i < tables.size() && next == tables.size(); ++i) {
      if (placed[i]) continue;
      const auto& fks = tables[i].foreign_keys;
      if (std::none_of(fks.begin(), fks.end(),
                       [&](const ForeignKey& fk) { return waits_on_unplaced(fk, i); })) {
        next = i;
      }
    }
    if (next == tables.size()) {  // a cycle: break it at the first unplaced table
      next =
          static_cast<std::size_t>(std::find(placed.begin(), placed.end(), false) - placed.begin());
      auto& fks = tables[next].foreign_keys;
      for (auto it = fks.begin(); it != fks.end();) {
        if (waits_on_unplaced(*it, next)) {
          deferred.push_back(AddForeignKeyOp{tables[next].name, *it});
          it = fks.erase(it);
        } else {
          ++it;
        }
      }
    }
    placed[next] = true;
    out.emit(CreateTableOp{tables[next]});
  }
}

// Tables the models no longer have, children before parents. In a cycle, the foreign keys
// that still refer to the table about to go are dropped first.
void drop_tables(Emitter& out, std::vector<std::string> names) {
  auto referred_by_other = [&](const std::string& parent) {
    for (const std::string& n : names) {
      if (n != parent && refers_to(out.table(n), parent)) return true;
    }
    return false;
  };
  while (!names.empty()) {
    auto it = std::find_if(names.begin(), names.end(),
                           [&](const std::string& n) { return !referred_by_other(n); });
    if (it == names.end()) {
      it = names.begin();
      for (const std::string& child : names) {
        if (child == *it) continue;
        const std::vector<ForeignKey> fks = out.table(child).foreign_keys;
        for (const ForeignKey& fk : fks) {
          if (fk.referred_table == *it) out.emit(DropForeignKeyOp{child, fk});
        }
      }
    }
    out.emit(DropTableOp{out.table(*it)});
    names.erase(it);
  }
}

}  // namespace

CompareResult compare(const SchemaState& from_chain, const std::vector<Table>& to,
                      const CompareOptions& options) {
  check_target(to);
  CompareResult result;
  // Tables are renamed first; everything after compares the renamed tables with the models.
  const detail::TablePlan tables = detail::plan_tables(from_chain, to, options, result.unresolved);
  // A table rename left to the user decides what every other operation means (its foreign
  // keys, the tables it refers to): nothing is planned until it is settled.
  if (!tables.frozen.empty()) return result;
  Emitter out{from_chain, {}};
  for (const RenameTableOp& op : tables.renames) out.emit(op);
  const ColumnPlans plans = detail::plan_columns(out.state, to, options, result.unresolved);
  detail::check_primary_keys(out.state, to, plans);
  const SchemaState from = out.state;  // the chain, its tables renamed

  std::vector<const Table*> kept;  // in model order
  std::vector<Table> created;      // in model order
  for (const Table& t : to) {
    if (from.find(t.name)) {
      kept.push_back(&t);
    } else {
      created.push_back(t);
    }
  }
  std::vector<std::string> dropped;  // in the state's order
  for (const Table& t : from.tables()) {
    if (!find_target(to, t.name)) dropped.push_back(t.name);
  }

  const auto targets = doomed_unique_targets(out, kept, plans);
  for (const Table* t : kept) {
    drop_changed<DropForeignKeyOp>(out, t->name, &Table::foreign_keys, *t, plans);
  }
  if (!targets.empty()) {
    for (const Table& t : std::vector<Table>(out.state.tables())) {  // copy: emit() changes it
      for (const ForeignKey& fk : t.foreign_keys) {
        if (targets.count({fk.referred_table, sorted(fk.referred_columns)}))
          out.emit(DropForeignKeyOp{t.name, fk});
      }
    }
  }
  for (const Table* t : kept) {
    drop_changed<DropCheckOp>(out, t->name, &Table::checks, *t, plans);
    drop_changed<DropUniqueOp>(out, t->name, &Table::uniques, *t, plans);
    drop_changed<DropIndexOp>(out, t->name, &Table::indexes, *t, plans);
  }
  drop_tables(out, std::move(dropped));
  // A primary key named otherwise (a renamed table's, named after its old name) is renamed
  // once the dropped tables have freed their names, before a new table could want its name.
  for (const Table* t : kept) {
    const Table& before = out.table(t->name);
    if (!before.primary_key.name.empty() && !t->primary_key.name.empty() &&
        before.primary_key.name != t->primary_key.name) {
      out.emit(RenameConstraintOp{t->name, before.primary_key.name, t->primary_key.name});
    }
  }
  for (const Table* t : kept) change_columns(out, *t, plans);
  std::vector<Operation> deferred;
  create_tables(out, std::move(created), deferred);
  for (const Table* t : kept) {
    add_missing<AddForeignKeyOp>(out, t->name, &Table::foreign_keys, *t, plans);
  }
  for (Operation& op : deferred) out.emit(std::move(op));

  result.upgrade = std::move(out.ops);
  return result;
}

}  // namespace strata::migrate
