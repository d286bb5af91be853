// Reports on the chain and the database: history, current, heads, branches, show, and Django's
// showmigrations. Formats follow Alembic's ("<base> -> 3f2a9c1b7d4e (head), add post table").
#include <algorithm>
#include <set>

#include "commands_internal.hpp"
#include "strata/migrate/errors.hpp"

namespace strata::migrate {

using namespace detail;

namespace {

// "(head)", "(branchpoint)", "(mergepoint)", "(current)" tags, in Alembic's order.
std::string tags(const ScriptDirectory& dir, const std::string& id,
                 const std::set<std::string>* current_heads) {
  const auto& g = dir.graph();
  std::string t;
  auto add = [&](const char* s) { t += std::string(" (") + s + ")"; };
  auto heads = g.heads();
  if (std::find(heads.begin(), heads.end(), id) != heads.end()) add("head");
  auto bp = g.branch_points();
  if (std::find(bp.begin(), bp.end(), id) != bp.end()) add("branchpoint");
  auto mp = g.merge_points();
  if (std::find(mp.begin(), mp.end(), id) != mp.end()) add("mergepoint");
  if (current_heads && current_heads->count(id)) add("current");
  return t;
}

void verbose_block(std::ostream& os, const ScriptDirectory& dir, const std::string& id,
                   const std::set<std::string>* current) {
  const auto& m = dir.get(id);
  os << "Rev: " << id << tags(dir, id, current) << "\n";
  os << "Parent: " << parents_text(dir, id) << "\n";
  if (!m.branch_labels.empty()) os << "Branch names: " << join_or_base(m.branch_labels) << "\n";
  if (!m.lint_allow.empty()) os << "Lint allows: " << join_or_base(m.lint_allow) << "\n";
  if (!m.atomic) os << "Transaction: none (atomic: false)\n";
  if (!m.replaces.empty()) os << "Replaces: " << join_or_base(m.replaces) << "\n";
  os << "Path: " << m.path << "\n\n";
  os << "    " << m.message << "\n\n";
  if (!m.created.empty()) os << "    Created: " << m.created << "\n\n";
}

}  // namespace

std::set<std::string> detail::current_heads(const Config& config, ScriptDirectory& dir) {
  auto db = open_database(config);
  Ledger ledger(*db.dialect);
  auto applied = verified_applied(dir, ledger, db, config, EditedFiles::warn);
  auto heads = dir.graph().resolve("current", applied);
  return {heads.begin(), heads.end()};
}

void history(const Config& config, const std::string& range, bool verbose,
             bool indicate_current) {
  auto dir = ScriptDirectory::load(config.directory);
  std::set<std::string> current;
  if (indicate_current || uses_current(range)) current = current_heads(config, dir);
  std::vector<std::string> applied(current.begin(), current.end());
  auto& os = out(config);
  for (const auto& id : dir.graph().history(range, applied)) {
    const auto* cur = indicate_current ? &current : nullptr;
    if (verbose) {
      verbose_block(os, dir, id, cur);
    } else {
      const auto& m = dir.get(id);
      os << parents_text(dir, id) << " -> " << id << tags(dir, id, cur) << ", " << m.message << "\n";
    }
  }
}

void current(const Config& config, bool verbose) {
  auto dir = ScriptDirectory::load(config.directory);
  auto db = open_database(config);
  Ledger ledger(*db.dialect);
  auto applied = verified_applied(dir, ledger, db, config, EditedFiles::warn);
  auto heads = dir.graph().resolve("current", applied);
  auto& os = out(config);
  if (heads.empty()) os << "<base> (no migration applied)\n";
  std::set<std::string> cur(heads.begin(), heads.end());
  for (const auto& id : heads) {
    if (verbose) verbose_block(os, dir, id, &cur);
    else os << id << tags(dir, id, nullptr) << "\n";
  }
  if (db.conn) {
    for (const auto& f : ledger.failures(*db.conn)) {
      if (failure_applies(dir, f))
        os << f.revision << " (failed at " << f.applied_at << "): " << f.error << "\n";
    }
    // Whatever its file now says: the database is between revisions until `db stamp`.
    for (const auto& r : ledger.unfinished(*db.conn)) {
      if (r.status == "partial")
        os << r.revision << " (failed part way at " << r.applied_at << "): " << r.error << "\n";
      else
        os << r.revision << " (running since " << r.applied_at << "): started outside a "
           << "transaction (atomic: false) and not finished: still running, or stopped part "
           << "way\n";
    }
  }
}

void heads(const Config& config, bool verbose) {
  auto dir = ScriptDirectory::load(config.directory);
  auto& os = out(config);
  for (const auto& id : dir.graph().heads()) {
    if (verbose) verbose_block(os, dir, id, nullptr);
    else os << id << tags(dir, id, nullptr) << "\n";
  }
}

void branches(const Config& config, bool verbose) {
  auto dir = ScriptDirectory::load(config.directory);
  auto& os = out(config);
  const auto& g = dir.graph();
  for (const auto& id : g.branch_points()) {
    if (verbose) verbose_block(os, dir, id, nullptr);
    else os << id << tags(dir, id, nullptr) << ", " << dir.get(id).message << "\n";
    for (const auto& child : g.children(id))
      os << "  -> " << child << tags(dir, child, nullptr) << ", " << dir.get(child).message << "\n";
  }
}

void show(const Config& config, const std::string& revision) {
  auto dir = ScriptDirectory::load(config.directory);
  // `current`, `-1`, `+1`, `label@-1` are relative to the database (Alembic's `show
  // current`): read it.
  std::vector<std::string> applied;
  if (uses_current(revision)) {
    auto db = open_database(config);
    Ledger ledger(*db.dialect);
    applied = verified_applied(dir, ledger, db, config, EditedFiles::warn);
  }
  auto id = dir.resolve_one(revision, applied);
  auto& os = out(config);
  verbose_block(os, dir, id, nullptr);
  const auto& m = dir.get(id);
  auto list = [&](const char* title, const std::vector<Operation>& ops) {
    os << title << ":\n";
    if (ops.empty()) os << "    (nothing)\n";
    for (const auto& op : ops)
      os << "    " << describe(op) << (is_destructive(op) ? "  [destructive]" : "") << "\n";
  };
  list("Upgrade", m.upgrade);
  if (!m.downgrade.empty() || m.upgrade.empty()) return list("Downgrade", m.downgrade);
  try {
    list("Downgrade (the reverses the upgrade gives: the downgrade list is empty)",
         downgrade_operations(m));
  } catch (const IrreversibleError& e) {
    os << "Downgrade: none; " << e.what() << "\n";
  }
}

void showmigrations(const Config& config) {
  auto dir = ScriptDirectory::load(config.directory);
  auto db = open_database(config);
  Ledger ledger(*db.dialect);
  auto applied = verified_applied(dir, ledger, db, config, EditedFiles::warn);
  std::set<std::string> done(applied.begin(), applied.end());
  auto& os = out(config);
  for (const auto& id : dir.graph().topological_order())
    os << (done.count(id) ? " [X] " : " [ ] ") << id << " " << dir.get(id).message << "\n";
}

}  // namespace strata::migrate
