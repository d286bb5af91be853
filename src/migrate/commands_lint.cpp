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
  for (const Operation& op : m.upgrade) {
    if (const std::string w = warning(op); !w.empty()) {
      const auto colon = w.find(": ");
      add(w.substr(0, colon), w.substr(colon + 2));
    }
    std::vector<OperationPlan> plans;
    try {
      plans = plan(d, state, {op});
    } catch (const StateError& e) {
      throw StateError("migration " + m.revision + " (" + m.path + "): " + e.what());
    } catch (const CommandError& e) {
      throw CommandError("migration " + m.revision + " (" + m.path + "): " + e.what());
    }
    if (plans.empty() || !plans.front().rebuild) continue;
    // A rebuild runs the whole migration with foreign keys off and checks every foreign key of
    // the database before it commits: a row that was already without its parent fails it.
    const std::string& table = plans.front().rebuilt_table;
    add("rebuild", describe(op) + " rebuilds table '" + table + "' (" + std::string(d.name()) +
                       " has no ALTER TABLE form for it)" + referred_to_by(state, table) +
                       ": it copies every row, runs the migration with foreign keys off and "
                       "checks every foreign key of the database before commit, so a row "
                       "anywhere that already lacks its parent fails it");
  }
  if (auto why = irreversibility(m))
    add("irreversible", "`db downgrade` cannot undo it: " + why->reason);
}

std::vector<LintFinding> findings_of(const Config& config, const ScriptDirectory& dir,
                                     const std::string& range) {
  const auto d = dialect_of(config);
  std::vector<std::string> applied;
  if (uses_current(range)) {
    const auto heads = current_heads(config, dir);
    applied.assign(heads.begin(), heads.end());
  }
  const auto& g = dir.graph();
  // A range, as history's; or one revision spec (`head`, an id): the migrations it names.
  const auto named = range.empty() || range.find(':') != std::string::npos
                         ? g.history(range, applied)
                         : g.resolve(range, applied);
  const std::set<std::string> wanted(named.begin(), named.end());
  std::vector<LintFinding> out;
  // The schema after the last migration linted: the one before the next, when that is its
  // only parent (a chain is folded once, not once per migration).
  SchemaState state;
  std::string state_after;
  for (const auto& id : g.topological_order()) {  // oldest first
    if (!wanted.count(id)) continue;
    const Migration& m = dir.get(id);
    if (state_after.empty() || m.down_revisions != std::vector<std::string>{state_after})
      state = dir.state_at(g.ancestors(id));
    lint_migration(*d, m, state, out);
    state_after = id;
  }
  return out;
}

}  // namespace

std::vector<LintFinding> lint_findings(const Config& config, const std::string& range) {
  return findings_of(config, ScriptDirectory::load(config.directory), range);
}

void lint(const Config& config, const std::string& range) {
  const auto dir = ScriptDirectory::load(config.directory);
  const auto findings = findings_of(config, dir, range);
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
