// `db lint`: what a migration would do to a database that holds data, for a reviewer and for
// CI, before it runs anywhere. Offline: the schema before each migration is the fold of the
// chain, as `db migrate` sees it.
#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

#include "strata/migrate/errors.hpp"

#include "commands_internal.hpp"

namespace strata::migrate {

using namespace detail;

namespace {

// ", which 'a' and 'b' refer to": the tables other than `table` whose foreign keys refer to
// it; empty for none.
std::string referred_to_by(const SchemaState& state, const std::string& table) {
  std::vector<std::string> names;
  for (const auto& t : state.tables()) {
    if (t.name == table) continue;
    const bool refers = std::any_of(t.foreign_keys.begin(), t.foreign_keys.end(),
                                    [&](const auto& fk) { return fk.referred_table == table; });
    if (refers) names.push_back("'" + t.name + "'");
  }
  if (names.empty()) return {};
  std::string out = ", which " + names.front();
  for (std::size_t i = 1; i < names.size(); ++i)
    out += (i + 1 == names.size() ? " and " : ", ") + names[i];
  return out + (names.size() == 1 ? " refers to" : " refer to");
}

// A foreign key or check constraint: its table, its name.
using ConstraintKey = std::pair<std::string, std::string>;

// Whether t has a check constraint that is `column IS NOT NULL` (spacing, case, quotes and
// parentheses aside), one of `unvalidated` excepted.
bool has_not_null_check(const schema::Table& t, const std::string& column,
                        const std::set<ConstraintKey>& unvalidated) {
  auto squeezed = [](std::string_view text) {
    std::string out;
    for (const char c : text) {
      if (c == ' ' || c == '\t' || c == '\n' || c == '"' || c == '(' || c == ')') continue;
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
  };
  const std::string wanted = squeezed(column) + "isnotnull";
  return std::any_of(t.checks.begin(), t.checks.end(), [&](const schema::CheckConstraint& c) {
    return squeezed(c.sqltext) == wanted && !unvalidated.count({t.name, c.name});
  });
}

// Keeps `empty_tables` (the tables a migration created that hold no row yet) as it is after
// op: an execute or a call may write rows anywhere.
void track_empty(const Operation& op, std::set<std::string>& empty_tables) {
  const std::string& table = table_of(op);
  if (std::holds_alternative<ExecuteOp>(op) || std::holds_alternative<CallOp>(op)) {
    empty_tables.clear();
  } else if (std::holds_alternative<CreateTableOp>(op)) {
    empty_tables.insert(table);
  } else if (const auto* rename = std::get_if<RenameTableOp>(&op);
             rename && empty_tables.erase(table)) {
    empty_tables.insert(rename->new_name);
  } else if (std::holds_alternative<DropTableOp>(op)) {
    empty_tables.erase(table);
  }
}

// Keeps `unvalidated` (the foreign keys and checks added not valid to a table with rows, and
// not validated since) as it is after op: an add records or clears its constraint (one added
// to a table without rows, `table_empty`, holds for every row it will have), a validation
// clears it, renames carry it, and drops, or a table made anew, forget it.
void track_validation(const Operation& op, bool table_empty,
                      std::set<ConstraintKey>& unvalidated) {
  auto forget_table = [&](const std::string& table) {
    for (auto it = unvalidated.begin(); it != unvalidated.end();)
      it = it->first == table ? unvalidated.erase(it) : std::next(it);
  };
  if (const auto* add = std::get_if<AddForeignKeyOp>(&op)) {
    const ConstraintKey key{add->table, add->foreign_key.name};
    add->not_valid && !table_empty ? void(unvalidated.insert(key)) : void(unvalidated.erase(key));
  } else if (const auto* check = std::get_if<AddCheckOp>(&op)) {
    const ConstraintKey key{check->table, check->check.name};
    check->not_valid && !table_empty ? void(unvalidated.insert(key))
                                     : void(unvalidated.erase(key));
  } else if (const auto* validate = std::get_if<ValidateConstraintOp>(&op)) {
    unvalidated.erase({validate->table, validate->name});
  } else if (const auto* drop = std::get_if<DropForeignKeyOp>(&op)) {
    unvalidated.erase({drop->table, drop->foreign_key.name});
  } else if (const auto* drop_check = std::get_if<DropCheckOp>(&op)) {
    unvalidated.erase({drop_check->table, drop_check->check.name});
  } else if (const auto* rename = std::get_if<RenameConstraintOp>(&op)) {
    if (unvalidated.erase({rename->table, rename->old_name}))
      unvalidated.insert({rename->table, rename->new_name});
  } else if (const auto* rename_table = std::get_if<RenameTableOp>(&op)) {
    std::vector<std::string> names;
    for (const auto& [table, name] : unvalidated)
      if (table == rename_table->old_name) names.push_back(name);
    forget_table(rename_table->old_name);
    for (auto& name : names) unvalidated.insert({rename_table->new_name, std::move(name)});
  } else if (std::holds_alternative<DropTableOp>(op) || std::holds_alternative<CreateTableOp>(op)) {
    forget_table(table_of(op));
  }
}

// Keeps `unvalidated` as it is after migration m.
void track_migration(const Migration& m, std::set<ConstraintKey>& unvalidated) {
  std::set<std::string> empty_tables;
  for (const Operation& op : m.upgrade) {
    const bool empty = empty_tables.count(table_of(op)) != 0;
    track_empty(op, empty_tables);
    track_validation(op, empty, unvalidated);
  }
}

// What op locks on a dialect whose locks for index builds and constraints matter (PostgreSQL):
// the `locking` finding's message, or empty. `before` is the table as it is before op.
// `locks_before`: the description of the first operation before op in its migration that
// holds a lock until the migration commits (empty when none, or when it is not atomic).
std::string lock_held(const dialect::Dialect& d, const Operation& op,
                      const schema::Table& before, const std::set<ConstraintKey>& unvalidated,
                      const std::string& locks_before) {
  const std::string& table = before.name;
  const std::string dialect(d.name());
  const std::string later =
      ": give it `not_valid: true` (the rows already in the table are not checked, and the "
      "lock is held for a moment), then check them with `validate_constraint` in a later "
      "migration, which lets reads and writes go on";
  if (d.indexes_concurrently() && (std::holds_alternative<CreateIndexOp>(op) ||
                                   std::holds_alternative<DropIndexOp>(op))) {
    if (is_concurrent(op)) return {};
    return describe(op) + (std::holds_alternative<CreateIndexOp>(op)
                               ? " blocks every write to '" + table + "' while " + dialect +
                                     " builds the index"
                               : " blocks every read and write of '" + table +
                                     "' while it waits for the queries before it") +
           ": give it `concurrently: true`, in a migration with `atomic: false`";
  }
  if (!d.constraints_not_valid()) return {};
  if (const auto* unique = std::get_if<AddUniqueOp>(&op)) {
    const bool one_column = unique->constraint.columns.size() == 1;
    return describe(op) + " blocks every read and write of '" + table + "' while " + dialect +
           " builds the constraint's index: for a table in use, make it a unique index (" +
           (one_column ? "`.unique().index()` on the column, or " : "") +
           "`unique_index(...)` in the mapping) and create it with `concurrently: true`, in a "
           "migration with `atomic: false`";
  }
  if (const auto* add = std::get_if<AddForeignKeyOp>(&op); add && !add->not_valid) {
    const std::string& referred = add->foreign_key.referred_table;
    return describe(op) + " blocks every write to '" + table + "'" +
           (referred == table ? std::string() : " and to '" + referred + "'") + " while " +
           dialect + " checks every row of '" + table + "'" + later;
  }
  if (const auto* add = std::get_if<AddCheckOp>(&op); add && !add->not_valid) {
    return describe(op) + " blocks every read and write of '" + table + "' while " + dialect +
           " checks every row" + later;
  }
  if (const auto* alter = std::get_if<AlterColumnOp>(&op)) {
    const bool set_not_null = alter->before.nullable && !alter->after.nullable &&
                              !alter->before.primary_key;
    if (!set_not_null || has_not_null_check(before, alter->before.name, unvalidated)) return {};
    return describe(op) + " blocks every read and write of '" + table + "' while " + dialect +
           " checks every row for NULL: first add a check `" + alter->before.name +
           " IS NOT NULL` with `not_valid: true` and validate it in a later migration; " +
           dialect + " 12 and later then make the column NOT NULL without the scan (the "
           "check can be dropped after)";
  }
  if (const auto* validate = std::get_if<ValidateConstraintOp>(&op);
      validate && !locks_before.empty() && unvalidated.count({table, validate->name})) {
    return describe(op) + " comes after " + locks_before +
           " in the same transaction, so the locks taken before it stay held while the rows "
           "are checked: give the validation a migration of its own (or this one `atomic: "
           "false`)";
  }
  return {};
}

// Lints m, planned on `state` (the schema before it), which ends as the schema after it.
// `unvalidated`: the constraints added not valid and not validated yet, as the chain before m
// leaves them; it leaves as m leaves them.
void lint_migration(const dialect::Dialect& d, const Migration& m, SchemaState& state,
                    std::set<ConstraintKey>& unvalidated, std::vector<LintFinding>& out) {
  auto add = [&](std::string_view rule, std::string message) {
    const bool allowed =
        std::find(m.lint_allow.begin(), m.lint_allow.end(), rule) != m.lint_allow.end();
    out.push_back({m.revision, std::string(rule), std::move(message), allowed});
  };
  // The tables this migration created that hold no row yet: what is done to them loses
  // nothing and cannot fail on rows.
  std::set<std::string> empty_tables;
  // The description of the first operation so far that holds a lock on a table in use until
  // m commits.
  std::string locks_before;
  for (const Operation& op : m.upgrade) {
    const std::string& table = table_of(op);
    const bool empty = empty_tables.count(table) != 0;
    track_empty(op, empty_tables);
    const auto* validate = std::get_if<ValidateConstraintOp>(&op);
    // Validating checks rows only of a constraint added not valid (and runs nothing where
    // every constraint is added valid).
    const bool checks_rows =
        !validate || (d.constraints_not_valid() && unvalidated.count({table, validate->name}));
    if (const std::string w = warning(op); !w.empty() && !empty && checks_rows) {
      const auto colon = w.find(": ");
      add(w.substr(0, colon), w.substr(colon + 2));
    }
    const auto* add_fk = std::get_if<AddForeignKeyOp>(&op);
    const auto* add_check = std::get_if<AddCheckOp>(&op);
    const bool not_valid = (add_fk && add_fk->not_valid) || (add_check && add_check->not_valid);
    if (not_valid && !d.constraints_not_valid() && !empty) {
      add("risky", describe(op) + " may fail on rows already in the table: " +
                       std::string(d.name()) +
                       " has no NOT VALID form, and checks them as it adds the constraint");
    }
    // The table before op (plan() applies op to state).
    std::optional<schema::Table> before;
    if (const schema::Table* t = state.find(table)) before = *t;
    std::vector<OperationPlan> plans;
    try {
      plans = plan(d, state, {op});
    } catch (const StateError& e) {
      throw StateError("migration " + m.revision + " (" + m.path + "): " + e.what());
    } catch (const Error& e) {
      throw CommandError("migration " + m.revision + " (" + m.path + "): " + e.what());
    }
    if (before && !empty) {
      if (std::string why = lock_held(d, op, *before, unvalidated, locks_before); !why.empty())
        add("locking", std::move(why));
    }
    if (d.constraints_not_valid()) track_validation(op, empty, unvalidated);
    // A new table's lock keeps no one waiting, unless its foreign keys take one on a table in
    // use that they refer to.
    const auto refers_to_table_in_use = [&](const std::vector<schema::ForeignKey>& keys) {
      return std::any_of(keys.begin(), keys.end(), [&](const schema::ForeignKey& fk) {
        return fk.referred_table != table && !empty_tables.count(fk.referred_table);
      });
    };
    bool locks = !validate && !empty;
    if (const auto* create = std::get_if<CreateTableOp>(&op))
      locks = refers_to_table_in_use(create->table.foreign_keys);
    else if (add_fk && empty)
      locks = refers_to_table_in_use({add_fk->foreign_key});
    if (m.atomic && locks && locks_before.empty()) locks_before = describe(op);
    if (plans.empty()) continue;
    if (plans.front().rewrite && !empty) {
      add("rebuild", describe(op) + " rewrites table '" + table + "' and its indexes (" +
                         std::string(d.name()) +
                         " cannot change this type in place): every read and write of the "
                         "table waits for its lock until the migration commits");
    }
    if (!plans.front().rebuild) continue;
    // A rebuild runs the whole migration with foreign keys off and checks every foreign key of
    // the database before it commits: a row that was already without its parent fails it.
    const std::string& rebuilt = plans.front().rebuilt_table;
    add("rebuild", describe(op) + " rebuilds table '" + rebuilt + "' (" + std::string(d.name()) +
                       " has no ALTER TABLE form for it)" + referred_to_by(state, rebuilt) +
                       ": it copies every row, runs the migration with foreign keys off and "
                       "checks every foreign key of the database before commit, so a row "
                       "anywhere that already lacks its parent fails it");
  }
  if (auto why = irreversibility(m)) add("irreversible", "`db downgrade` cannot undo it: " + *why);
}

// The revisions to lint: those the database has not applied (pending), else those of the
// range (history's), or of one revision spec (`head`, an id).
std::set<std::string> revisions_to_lint(const Config& config, ScriptDirectory& dir,
                                        const std::string& range, bool pending) {
  const auto& g = dir.graph();
  std::set<std::string> out;
  if (pending) {
    auto db = open_database(config);
    Ledger ledger(*db.dialect);
    const auto applied = verified_applied(dir, ledger, db, config, EditedFiles::warn);
    const std::set<std::string> done(applied.begin(), applied.end());
    for (const auto& id : g.topological_order())
      if (!done.count(id)) out.insert(id);
    return out;
  }
  std::vector<std::string> current;
  if (uses_current(range)) {
    const auto heads = current_heads(config, dir);
    current.assign(heads.begin(), heads.end());
  }
  const auto named = range.empty() || range.find(':') != std::string::npos
                         ? g.history(range, current)
                         : dir.resolve(range, current);
  return {named.begin(), named.end()};
}

std::vector<LintFinding> findings_of(const Config& config, ScriptDirectory& dir,
                                     const std::string& range, bool pending) {
  const auto d = dialect_of(config);
  const auto& g = dir.graph();
  const std::set<std::string> wanted = revisions_to_lint(config, dir, range, pending);
  std::vector<LintFinding> out;
  // The schema after the last migration linted: the one before the next, when that is its
  // only parent (a chain is folded once, not once per migration).
  SchemaState state;
  std::set<ConstraintKey> unvalidated;  // in state
  std::string state_after;
  for (const auto& id : g.topological_order()) {  // oldest first
    if (!wanted.count(id)) continue;
    const Migration& m = dir.get(id);
    if (state_after.empty() || g.find(id)->down_revisions != std::vector<std::string>{state_after}) {
      const auto below = g.ancestors(id);
      state = dir.state_at(below);
      // As a history is folded: the lint does not refuse what the other commands accept.
      state.set_checks(SchemaState::Checks::replay);
      unvalidated.clear();
      const std::set<std::string> ancestors(below.begin(), below.end());
      for (const auto& earlier : g.topological_order())
        if (ancestors.count(earlier)) track_migration(dir.get(earlier), unvalidated);
    }
    lint_migration(*d, m, state, unvalidated, out);
    state_after = id;
  }
  return out;
}

}  // namespace

std::vector<LintFinding> lint_findings(const Config& config, const std::string& range,
                                       bool pending) {
  auto dir = ScriptDirectory::load(config.directory);
  return findings_of(config, dir, range, pending);
}

void lint(const Config& config, const std::string& range, bool pending) {
  auto dir = ScriptDirectory::load(config.directory);
  const auto findings = findings_of(config, dir, range, pending);
  auto& os = out(config);
  std::size_t refused = 0;
  std::vector<std::string> revisions;  // with a finding not allowed
  for (const auto& f : findings) {
    const Migration& m = dir.get(f.revision);
    os << f.revision << " (" << m.message << "): " << f.rule << ": " << f.message
       << (f.allowed ? "  [allowed]" : "") << "\n";
    if (f.allowed) continue;
    ++refused;
    if (std::find(revisions.begin(), revisions.end(), f.revision) == revisions.end())
      revisions.push_back(f.revision);
  }
  if (refused == 0) {
    os << (findings.empty() ? "No findings."
                            : "Every finding is allowed by its migration's lint_allow.")
       << "\n";
    return;
  }
  std::string rules;
  for (const auto r : lint_rules) rules += (rules.empty() ? "" : ", ") + std::string(r);
  throw CommandError(
      std::to_string(refused) + (refused == 1 ? " finding" : " findings") + " in " +
      std::to_string(revisions.size()) + (revisions.size() == 1 ? " migration" : " migrations") +
      "; a migration that means what it does lists the rules in `lint_allow: [RULE, ...]` (" +
      rules + ")");
}

}  // namespace strata::migrate
