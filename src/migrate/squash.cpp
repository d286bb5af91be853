// `db squash`: a chain of migrations as one, with `replaces` naming them (Django's
// squashmigrations), and the optimizer that makes its operations fewer.
#include "strata/migrate/squash.hpp"

#include <algorithm>
#include <optional>
#include <type_traits>

#include "commands_internal.hpp"
#include "strata/dialect/sqlite/sqlite_dialect.hpp"
#include "strata/migrate/errors.hpp"

namespace strata::migrate {

namespace {

bool barrier(const Operation& op) {
  return std::holds_alternative<ExecuteOp>(op) || std::holds_alternative<CallOp>(op);
}

// An operation that changes one existing table without creating, dropping or renaming it.
bool on_table(const Operation& op) {
  return !barrier(op) && !std::holds_alternative<CreateTableOp>(op) &&
         !std::holds_alternative<DropTableOp>(op) && !std::holds_alternative<RenameTableOp>(op);
}

// What an operation concerns, as keys:
//   "t:T"    it changes table T;
//   "n:N"    it creates, drops or renames the index, constraint or table N (on PostgreSQL
//            indexes and tables share one namespace);
//   "s:T"    it changes T in a way a foreign key referring to T notices (T created, dropped or
//            renamed; a unique constraint or index of T added or dropped);
//   "s:T.c"  it changes column c of T in such a way (dropped, renamed, altered);
//   "r:T.c"  it holds a foreign key referring to column c of T.
// Two operations with no keys in conflict (conflict()) can run in either order.
void foreign_key_keys(std::vector<std::string>& keys, const schema::ForeignKey& fk) {
  keys.push_back("n:" + fk.name);
  for (const auto& c : fk.referred_columns) keys.push_back("r:" + fk.referred_table + "." + c);
}

void table_keys(std::vector<std::string>& keys, const schema::Table& t) {
  keys.push_back("t:" + t.name);
  keys.push_back("s:" + t.name);
  keys.push_back("n:" + t.name);  // PostgreSQL: tables and indexes share one namespace
  if (!t.primary_key.name.empty()) keys.push_back("n:" + t.primary_key.name);
  for (const auto& ix : t.indexes) keys.push_back("n:" + ix.name);
  for (const auto& uq : t.uniques) keys.push_back("n:" + uq.name);
  for (const auto& ck : t.checks) keys.push_back("n:" + ck.name);
  for (const auto& fk : t.foreign_keys) foreign_key_keys(keys, fk);
}

std::vector<std::string> keys_of(const Operation& op) {
  std::vector<std::string> keys;
  std::visit(
      [&](const auto& o) {
        using O = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<O, CreateTableOp> || std::is_same_v<O, DropTableOp>) {
          table_keys(keys, o.table);
        } else if constexpr (std::is_same_v<O, RenameTableOp>) {
          keys = {"t:" + o.old_name, "t:" + o.new_name, "s:" + o.old_name,
                  "s:" + o.new_name, "n:" + o.old_name, "n:" + o.new_name};
        } else if constexpr (std::is_same_v<O, ExecuteOp> || std::is_same_v<O, CallOp>) {
          // barrier(): nothing moves past it
        } else {
          keys.push_back("t:" + o.table);
          if constexpr (std::is_same_v<O, DropColumnOp> || std::is_same_v<O, AddColumnOp>) {
            if constexpr (std::is_same_v<O, DropColumnOp>)
              keys.push_back("s:" + o.table + "." + o.column.name);
          } else if constexpr (std::is_same_v<O, AlterColumnOp>) {
            keys.push_back("s:" + o.table + "." + o.before.name);
          } else if constexpr (std::is_same_v<O, RenameColumnOp>) {
            keys.push_back("s:" + o.table + "." + o.old_name);
            keys.push_back("s:" + o.table + "." + o.new_name);
          } else if constexpr (std::is_same_v<O, CreateIndexOp> || std::is_same_v<O, DropIndexOp>) {
            keys.push_back("n:" + o.index.name);
            if (o.index.unique) keys.push_back("s:" + o.table);
          } else if constexpr (std::is_same_v<O, AddUniqueOp> || std::is_same_v<O, DropUniqueOp>) {
            keys.push_back("n:" + o.constraint.name);
            keys.push_back("s:" + o.table);
          } else if constexpr (std::is_same_v<O, AddForeignKeyOp> ||
                               std::is_same_v<O, DropForeignKeyOp>) {
            foreign_key_keys(keys, o.foreign_key);
          } else if constexpr (std::is_same_v<O, AddCheckOp> || std::is_same_v<O, DropCheckOp>) {
            keys.push_back("n:" + o.check.name);
          } else if constexpr (std::is_same_v<O, ValidateConstraintOp>) {
            keys.push_back("n:" + o.name);
          } else if constexpr (std::is_same_v<O, RenameConstraintOp>) {
            keys.push_back("n:" + o.old_name);
            keys.push_back("n:" + o.new_name);
            keys.push_back("s:" + o.table);
          }
        }
      },
      op);
  return keys;
}

// Whether keys x and y (of two operations) make their order matter.
bool conflict(const std::string& x, const std::string& y) {
  if (x == y) return x.compare(0, 2, "r:") != 0;  // two references to one column do not
  const auto refers_to_change = [](const std::string& ref, const std::string& change) {
    if (ref.compare(0, 2, "r:") != 0 || change.compare(0, 2, "s:") != 0) return false;
    // "s:T.c" against "r:T.c" is x == y above but for the prefix; "s:T" against "r:T.*".
    const std::string_view target = std::string_view(change).substr(2);
    const std::string_view referred = std::string_view(ref).substr(2);
    return referred == target ||
           (target.find('.') == std::string_view::npos && referred.size() > target.size() &&
            referred.substr(0, target.size()) == target && referred[target.size()] == '.');
  };
  return refers_to_change(x, y) || refers_to_change(y, x);
}

bool commute(const Operation& a, const Operation& b) {
  if (barrier(a) || barrier(b)) return false;
  const auto ka = keys_of(a);
  const auto kb = keys_of(b);
  for (const auto& x : ka)
    for (const auto& y : kb)
      if (conflict(x, y)) return false;
  return true;
}

using Ops = std::vector<Operation>;

// The table `name` after `first` then `second`, from a state holding nothing else (a table
// just created); nullopt when they do not fold.
std::optional<schema::Table> fold_table(const Operation& first, const Operation& second,
                                        const std::string& name) {
  SchemaState s;
  s.set_checks(SchemaState::Checks::replay);
  try {
    s.apply(first);
    s.apply(second);
  } catch (const StateError&) {
    return std::nullopt;
  }
  const schema::Table* t = s.find(name);
  if (!t) return std::nullopt;
  return *t;
}

// An added-and-dropped pair of one kind: the same table and the same name.
template <class Add, class Drop, class Get>
std::optional<Ops> cancel(const Operation& a, const Operation& b, Get get) {
  const auto* add = std::get_if<Add>(&a);
  const auto* drop = std::get_if<Drop>(&b);
  if (add && drop && add->table == drop->table && get(*add).name == get(*drop).name) return Ops{};
  // Dropped, then added again as it was.
  const auto* drop_first = std::get_if<Drop>(&a);
  const auto* add_again = std::get_if<Add>(&b);
  if (drop_first && add_again && drop_first->table == add_again->table &&
      get(*drop_first) == get(*add_again))
    return Ops{};
  return std::nullopt;
}

// a then b (b later, with nothing between that concerns them) as fewer operations, or nullopt.
// `before` is the schema just before a.
std::optional<Ops> reduce(const Operation& a, const Operation& b, const SchemaState& before) {
  // A table created here has no rows yet: what later operations do to it is part of its
  // creation.
  if (const auto* create = std::get_if<CreateTableOp>(&a)) {
    const std::string& name = create->table.name;
    if (const auto* drop = std::get_if<DropTableOp>(&b); drop && drop->table.name == name)
      return Ops{};
    std::string after = name;
    if (const auto* rename = std::get_if<RenameTableOp>(&b); rename && rename->old_name == name)
      after = rename->new_name;
    else if (!on_table(b) || table_of(b) != name)
      return std::nullopt;
    if (auto t = fold_table(a, b, after)) return Ops{CreateTableOp{std::move(*t)}};
    return std::nullopt;
  }
  // A table dropped here loses what earlier operations did to it.
  if (const auto* drop = std::get_if<DropTableOp>(&b)) {
    const auto* rename = std::get_if<RenameTableOp>(&a);
    const bool changed = (on_table(a) && table_of(a) == drop->table.name) ||
                         (rename && rename->new_name == drop->table.name);
    if (!changed) return std::nullopt;
    const schema::Table* t = before.find(table_of(a));
    if (!t) return std::nullopt;
    return Ops{DropTableOp{*t}};
  }
  if (const auto* r1 = std::get_if<RenameTableOp>(&a)) {
    const auto* r2 = std::get_if<RenameTableOp>(&b);
    if (!r2 || r2->old_name != r1->new_name) return std::nullopt;
    if (r1->old_name == r2->new_name) return Ops{};
    return Ops{RenameTableOp{r1->old_name, r2->new_name}};
  }
  if (!on_table(a) || !on_table(b) || table_of(a) != table_of(b)) return std::nullopt;
  const std::string& table = table_of(a);
  // Added not valid, then validated: in one migration, that is the add that checks the rows
  // (which `db lint` names on PostgreSQL, as it would the pair in one transaction).
  if (const auto* validate = std::get_if<ValidateConstraintOp>(&b)) {
    if (const auto* fk = std::get_if<AddForeignKeyOp>(&a); fk && fk->foreign_key.name == validate->name)
      return Ops{AddForeignKeyOp{table, fk->foreign_key}};
    if (const auto* check = std::get_if<AddCheckOp>(&a); check && check->check.name == validate->name)
      return Ops{AddCheckOp{table, check->check}};
    return std::nullopt;
  }
  if (const auto* add = std::get_if<AddColumnOp>(&a)) {
    const std::string& column = add->column.name;
    if (const auto* drop = std::get_if<DropColumnOp>(&b); drop && drop->column.name == column)
      return Ops{};
    if (const auto* rename = std::get_if<RenameColumnOp>(&b); rename && rename->old_name == column) {
      AddColumnOp renamed = *add;
      renamed.column.name = rename->new_name;
      return Ops{std::move(renamed)};
    }
    // The rows the column was added to get the same value either way: same type, same
    // server default; and a NOT NULL the change adds is kept apart (SQLite cannot add a NOT
    // NULL column without a default, even to an empty table).
    if (const auto* alter = std::get_if<AlterColumnOp>(&b); alter && alter->before.name == column) {
      const auto& from = alter->before;
      const auto& to = alter->after;
      if (from.type == to.type && from.server_default == to.server_default &&
          !(from.nullable && !to.nullable)) {
        AddColumnOp changed = *add;
        changed.column = to;
        return Ops{std::move(changed)};
      }
    }
    return std::nullopt;
  }
  if (const auto* alter = std::get_if<AlterColumnOp>(&a)) {
    const std::string& column = alter->after.name;
    if (const auto* next = std::get_if<AlterColumnOp>(&b); next && next->before.name == column) {
      // Two casts in a row are not always one (text -> float -> integer rounds).
      if (alter->before.type != alter->after.type && next->before.type != next->after.type)
        return std::nullopt;
      if (alter->before == next->after) return Ops{};
      return Ops{AlterColumnOp{table, alter->before, next->after}};
    }
    if (const auto* drop = std::get_if<DropColumnOp>(&b); drop && drop->column.name == column)
      return Ops{DropColumnOp{table, alter->before, drop->position}};
    return std::nullopt;
  }
  if (const auto* r1 = std::get_if<RenameColumnOp>(&a)) {
    if (const auto* r2 = std::get_if<RenameColumnOp>(&b); r2 && r2->old_name == r1->new_name) {
      if (r1->old_name == r2->new_name) return Ops{};
      return Ops{RenameColumnOp{table, r1->old_name, r2->new_name}};
    }
    if (const auto* drop = std::get_if<DropColumnOp>(&b); drop && drop->column.name == r1->new_name) {
      DropColumnOp dropped = *drop;
      dropped.column.name = r1->old_name;
      return Ops{std::move(dropped)};
    }
    return std::nullopt;
  }
  if (auto r = cancel<CreateIndexOp, DropIndexOp>(a, b, [](const auto& o) { return o.index; }))
    return r;
  if (auto r = cancel<AddUniqueOp, DropUniqueOp>(a, b, [](const auto& o) { return o.constraint; }))
    return r;
  if (auto r = cancel<AddForeignKeyOp, DropForeignKeyOp>(a, b,
                                                         [](const auto& o) { return o.foreign_key; }))
    return r;
  return cancel<AddCheckOp, DropCheckOp>(a, b, [](const auto& o) { return o.check; });
}

// start with ops applied under `checks`; nullopt when they do not fold.
std::optional<SchemaState> folded(const SchemaState& start, const Ops& ops,
                                  SchemaState::Checks checks) {
  SchemaState s = start;
  s.set_checks(checks);
  try {
    s.apply(ops);
  } catch (const StateError&) {
    return std::nullopt;
  }
  return s;
}

// Whether ops fold from start, with the checks of operations about to run, to `goal`.
bool same_effect(const SchemaState& start, const Ops& ops, const SchemaState& goal) {
  const auto s = folded(start, ops, SchemaState::Checks::run);
  return s && *s == goal;
}

// One pass over ops, oldest operation first, taking every reduction it finds; false when it
// found none. After a reduction the pass goes on at the same operation: the ones before it,
// and so the schema before it, are unchanged.
bool reduce_pass(const SchemaState& start, Ops& ops, const SchemaState& goal) {
  bool changed = false;
  SchemaState before = start;  // the schema before ops[i]
  before.set_checks(SchemaState::Checks::replay);
  for (std::size_t i = 0; i < ops.size();) {
    bool reduced = false;
    for (std::size_t j = i + 1; !reduced && !barrier(ops[i]) && j < ops.size() && !barrier(ops[j]);
         ++j) {
      auto result = reduce(ops[i], ops[j], before);
      if (!result) continue;
      // The result takes a's place when b can move back past what is between them, else b's
      // place when a can move on past it.
      const auto between_begin = ops.begin() + static_cast<std::ptrdiff_t>(i) + 1;
      const auto between_end = ops.begin() + static_cast<std::ptrdiff_t>(j);
      const bool back = std::all_of(between_begin, between_end,
                                    [&](const Operation& x) { return commute(x, ops[j]); });
      const bool on = std::all_of(between_begin, between_end,
                                  [&](const Operation& x) { return commute(ops[i], x); });
      for (const bool at_first : {true, false}) {
        if (!(at_first ? back : on)) continue;
        Ops candidate(ops.begin(), ops.begin() + static_cast<std::ptrdiff_t>(i));
        if (at_first) candidate.insert(candidate.end(), result->begin(), result->end());
        candidate.insert(candidate.end(), between_begin, between_end);
        if (!at_first) candidate.insert(candidate.end(), result->begin(), result->end());
        candidate.insert(candidate.end(), between_end + 1, ops.end());
        if (same_effect(start, candidate, goal)) {
          ops = std::move(candidate);
          reduced = changed = true;
          break;
        }
      }
    }
    if (reduced) continue;
    try {
      before.apply(ops[i]);
    } catch (const StateError&) {
      return changed;
    }
    ++i;
  }
  return changed;
}

}  // namespace

std::vector<Operation> optimize(const SchemaState& start, std::vector<Operation> ops) {
  const auto goal = folded(start, ops, SchemaState::Checks::replay);
  if (!goal) return ops;
  // Each reduction makes the list shorter, so this ends; a pass may make a reduction
  // possible before the point it reached.
  while (reduce_pass(start, ops, *goal)) {
  }
  return ops;
}

namespace {

// The chain `db squash` joins, oldest first: from `from` (default: as far down as the chain
// goes without a fork or a merge) up to `to`.
std::vector<std::string> chain_of(const ScriptDirectory& dir, const std::string& from,
                                  const std::string& to) {
  const RevisionGraph& g = dir.graph();
  refuse_relative_to_database(to, "squash");
  if (!from.empty()) refuse_relative_to_database(from, "squash");
  const std::string last = dir.resolve_one(to, {});
  const std::string first = from.empty() ? std::string() : dir.resolve_one(from, {});
  if (first == last)
    throw CommandError("squash: " + first + " is both the first and the last migration to "
                       "squash; name the oldest, then the newest");
  std::vector<std::string> chain{last};  // newest first, while walking down
  while (chain.back() != first) {
    const Revision& r = *g.find(chain.back());
    if (r.down_revisions.size() != 1 || g.children(r.down_revisions.front()).size() != 1) {
      if (first.empty()) break;  // as far as it goes
      const auto below = g.ancestors(last);
      if (std::find(below.begin(), below.end(), first) == below.end())
        throw CommandError("squash: " + first + " is not below " + last + "; give the oldest "
                           "migration to squash first, then the newest");
      throw CommandError(
          "squash: between " + first + " and " + last + ", " +
          (r.down_revisions.size() != 1
               ? r.id + " joins several revisions (a merge)"
               : r.down_revisions.front() + " has several children (a branch point)") +
          "; squash a stretch of the history without forks or merges inside it (a merge may "
          "be the first migration, a branch point the last)");
    }
    chain.push_back(r.down_revisions.front());
  }
  std::reverse(chain.begin(), chain.end());
  if (chain.size() < 2)
    throw CommandError("squash: " + last + " has nothing below it to squash it with (a base, a "
                       "merge or a branch point comes before it); name a newer migration, or "
                       "an older first one");
  for (const auto& id : chain) {
    const Migration& m = dir.get(id);
    if (!m.replaces.empty())
      throw CommandError("squash: " + id + " is itself a squashed migration (it replaces " +
                         detail::join_or_base(m.replaces) + "), which is not squashed again; "
                         "squash the migrations after it");
    if (!m.atomic)
      throw CommandError("squash: " + id + " has 'atomic: false' (" + m.path + "); squash the "
                         "migrations before it and after it apart, keeping it on its own");
  }
  return chain;
}

std::vector<Operation> schema_operations(const std::vector<Operation>& ops) {
  std::vector<Operation> out;
  for (const auto& op : ops)
    if (!barrier(op)) out.push_back(op);
  return out;
}

// Whether SQLite runs ops, from `state`, with foreign keys off (a table rebuild turns them off
// for the whole migration); nullopt when they cannot be planned.
std::optional<bool> foreign_keys_off(const dialect::Dialect& d, SchemaState state,
                                     const std::vector<Operation>& ops) {
  try {
    const auto plans = plan(d, state, schema_operations(ops));
    return std::any_of(plans.begin(), plans.end(), [](const auto& p) { return p.foreign_keys_off; });
  } catch (const Error&) {
    return std::nullopt;
  }
}

// Whether a foreign key of the schema does something when the row it refers to goes or changes
// (CASCADE, SET NULL, SET DEFAULT): with foreign keys off, SQLite does not. Without one, a
// missing row fails the check at the end of the migration as it would have failed the row's
// statement.
bool acts(const SchemaState& state) {
  auto acting = [](schema::ReferentialAction a) {
    return a != schema::ReferentialAction::no_action && a != schema::ReferentialAction::restrict;
  };
  for (const auto& t : state.tables())
    for (const auto& fk : t.foreign_keys)
      if (acting(fk.on_delete) || acting(fk.on_update)) return true;
  return false;
}

bool authored(const std::vector<Operation>& ops) {
  return std::any_of(ops.begin(), ops.end(), barrier);
}

// On SQLite, a squashed migration that rebuilds a table runs from its first operation to its
// last with foreign keys off, and so would the execute and call operations of a migration of
// the chain that ran with them on (a DELETE would no longer cascade): that migration, if any.
// `before`: the schema before the chain; `after`: after it.
std::optional<std::string> runs_without_foreign_keys(const ScriptDirectory& dir,
                                                     const std::vector<std::string>& chain,
                                                     const SchemaState& before,
                                                     const SchemaState& after,
                                                     const Migration& squashed) {
  if (!acts(before) && !acts(after)) return std::nullopt;
  const auto d = dialect::sqlite::make_dialect();
  // Each migration of the chain, in the order a run takes them, with the schema before it.
  auto first_that_loses = [&](SchemaState state, bool up) -> std::optional<std::string> {
    state.set_checks(SchemaState::Checks::replay);  // as the chain folds
    for (std::size_t i = 0; i < chain.size(); ++i) {
      const std::string& id = up ? chain[i] : chain[chain.size() - 1 - i];
      const auto ops = up ? dir.get(id).upgrade : detail::downgrade_operations(dir.get(id));
      if (authored(ops) && foreign_keys_off(*d, state, ops) == false) return id;
      try {
        state.apply(ops);
      } catch (const StateError&) {
        return std::nullopt;  // a downgrade written by hand that does not fold: its runs say so
      }
    }
    return std::nullopt;
  };
  if (foreign_keys_off(*d, before, squashed.upgrade) == true)
    if (auto id = first_that_loses(before, true)) return id;
  if (!squashed.downgrade.empty() && foreign_keys_off(*d, after, squashed.downgrade) == true)
    return first_that_loses(after, false);
  return std::nullopt;
}

}  // namespace

std::filesystem::path squash(const Config& config, const std::string& from, const std::string& to,
                             const std::string& message) {
  auto dir = ScriptDirectory::load(config.directory);
  const RevisionGraph& g = dir.graph();
  const auto chain = chain_of(dir, from, to);
  const Migration& first = dir.get(chain.front());
  const Migration& last = dir.get(chain.back());

  Migration m;
  m.revision = new_revision_id(g);
  while (dir.has(m.revision)) m.revision = new_revision_id(g);
  m.down_revisions = g.find(first.revision)->down_revisions;
  m.message = message.empty() ? "squashed " + first.revision + " to " + last.revision : message;
  m.created = detail::now_iso();
  m.replaces = chain;
  std::vector<Operation> upgrade, downgrade;
  std::optional<std::string> irreversible;  // why one of them cannot be undone
  for (const auto& id : chain) {
    const Migration& each = dir.get(id);
    upgrade.insert(upgrade.end(), each.upgrade.begin(), each.upgrade.end());
    for (const auto& label : each.branch_labels) m.branch_labels.push_back(label);
    for (const auto& rule : each.lint_allow)
      if (std::find(m.lint_allow.begin(), m.lint_allow.end(), rule) == m.lint_allow.end())
        m.lint_allow.push_back(rule);
    if (irreversible) continue;
    if (auto why = detail::irreversibility(each)) {
      irreversible = id + " cannot be downgraded: " + *why;
    } else {
      const auto ops = detail::downgrade_operations(each);
      downgrade.insert(downgrade.begin(), ops.begin(), ops.end());
    }
  }
  auto ancestors = g.ancestors(first.revision);
  const SchemaState before = dir.state_at(ancestors);
  ancestors.insert(ancestors.end(), chain.begin(), chain.end());
  const SchemaState after = dir.state_at(ancestors);
  m.upgrade = optimize(before, upgrade);
  // With one of them irreversible, so is the squash: an empty downgrade list says so.
  if (!irreversible) m.downgrade = optimize(after, downgrade);
  bool sqlite = true;  // unless the app's URL says otherwise
  try {
    sqlite = config.url.empty() || detail::dialect_of(config)->name() == "sqlite";
  } catch (const Error&) {
  }
  if (const auto id = sqlite ? runs_without_foreign_keys(dir, chain, before, after, m)
                             : std::nullopt) {
    throw CommandError("squash: on SQLite the squashed migration rebuilds a table (in its "
                       "upgrade or its downgrade), so all of it runs with foreign keys off, and "
                       "with it the execute and call operations of " + *id + ", which ran with "
                       "them on (a DELETE would not cascade); squash a chain without it (one "
                       "that ends before it, or starts after it)");
  }
  const auto path = dir.write(m);
  try {
    ScriptDirectory::load(config.directory);  // the directory with it still makes a graph
  } catch (const Error& e) {
    std::error_code ec;
    std::filesystem::remove(path, ec);
    throw CommandError(std::string("squash: the squashed migration does not fit the others, so "
                                   "it was not kept: ") + e.what());
  }
  auto& os = detail::out(config);
  os << "Squashed " << chain.size() << " migrations, " << first.revision << " to "
     << last.revision << ", into " << m.revision << ": " << m.upgrade.size() << " of "
     << upgrade.size() << " upgrade operations\n";
  for (const auto& op : m.upgrade)
    os << "  " << describe(op) << (is_destructive(op) ? "  [destructive]" : "") << "\n";
  if (irreversible)
    os << "Its downgrade list is empty: " << *irreversible << "\n";
  os << "Generated " << path.string() << "\n"
     << "Databases at any of the squashed revisions go on as before. Once every database has "
        "passed " << last.revision << ", their files may go; " << m.revision
     << "'s `replaces` keeps the migrations after them in place. A downgrade or redo takes "
     << m.revision << " as one migration: going below it undoes the whole chain.\n";
  return path;
}

}  // namespace strata::migrate
