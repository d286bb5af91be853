// `db lint`: what a migration would do to a database that holds data, for a reviewer and for
// CI, before it runs anywhere. Offline: the schema before each migration is the fold of the
// chain, as `db migrate` sees it.
#include <algorithm>
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

// Lints m, planned on `state` (the schema before it), which ends as the schema after it.
void lint_migration(const dialect::Dialect& d, const Migration& m, SchemaState& state,
                    std::vector<LintFinding>& out) {
  auto add = [&](std::string_view rule, std::string message) {
    const bool allowed =
        std::find(m.lint_allow.begin(), m.lint_allow.end(), rule) != m.lint_allow.end();
    out.push_back({m.revision, std::string(rule), std::move(message), allowed});
  };
  // The tables this migration created that hold no row yet: what is done to them loses
  // nothing and cannot fail on rows. An execute or a call may write rows anywhere.
  std::set<std::string> empty_tables;
  for (const Operation& op : m.upgrade) {
    const std::string& table = table_of(op);
    const bool empty = empty_tables.count(table) != 0;
    if (std::holds_alternative<ExecuteOp>(op) || std::holds_alternative<CallOp>(op)) {
      empty_tables.clear();
    } else if (std::holds_alternative<CreateTableOp>(op)) {
      empty_tables.insert(table);
    } else if (const auto* rename = std::get_if<RenameTableOp>(&op); rename && empty) {
      empty_tables.erase(table);
      empty_tables.insert(rename->new_name);
    } else if (std::holds_alternative<DropTableOp>(op)) {
      empty_tables.erase(table);
    }
    if (const std::string w = warning(op); !w.empty() && !empty) {
      const auto colon = w.find(": ");
      add(w.substr(0, colon), w.substr(colon + 2));
    }
    std::vector<OperationPlan> plans;
    try {
      plans = plan(d, state, {op});
    } catch (const StateError& e) {
      throw StateError("migration " + m.revision + " (" + m.path + "): " + e.what());
    } catch (const Error& e) {
      throw CommandError("migration " + m.revision + " (" + m.path + "): " + e.what());
    }
    if (plans.empty()) continue;
    const bool create = std::holds_alternative<CreateIndexOp>(op);
    const bool index_op = create || std::holds_alternative<DropIndexOp>(op);
    if (index_op && d.indexes_concurrently() && !is_concurrent(op) && !empty) {
      add("locking", describe(op) + (create ? " blocks every write to '" + table +
                                                   "' while " + std::string(d.name()) +
                                                   " builds the index"
                                             : " blocks every read and write of '" + table +
                                                   "' while it waits for the queries before it") +
                         ": give it `concurrently: true`, in a migration with `atomic: false`");
    }
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
  std::string state_after;
  for (const auto& id : g.topological_order()) {  // oldest first
    if (!wanted.count(id)) continue;
    const Migration& m = dir.get(id);
    if (state_after.empty() || g.find(id)->down_revisions != std::vector<std::string>{state_after}) {
      state = dir.state_at(g.ancestors(id));
      // As a history is folded: the lint does not refuse what the other commands accept.
      state.set_checks(SchemaState::Checks::replay);
    }
    lint_migration(*d, m, state, out);
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
