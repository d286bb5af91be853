// Moving a database along the chain: upgrade, downgrade, Django's migrate TARGET, stamp — each
// migration in its own transaction (or, with `atomic: false`, none: commands_outside.cpp) under
// the migration lock, recorded in the ledger; or, with --sql, the same SQL printed instead of
// run.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <iostream>
#include <map>
#include <optional>
#include <set>

#include "commands_internal.hpp"
#include "strata/migrate/errors.hpp"
#include "strata/orm/datetime.hpp"

namespace strata::migrate {
namespace detail {

std::ostream& out(const Config& c) { return c.out ? *c.out : std::cout; }

std::shared_ptr<dialect::Dialect> dialect_of(const Config& c) {
  if (c.url.empty())
    throw CommandError("no database URL: pass --url URL or set DATABASE_URL");
  return dialect::for_url(engine::Url::parse(c.url));
}

Target open_database(const Config& c) {
  Target t;
  t.dialect = dialect_of(c);
  const engine::Url url = engine::Url::parse(c.url);
  t.engine = std::make_unique<engine::Engine>(url, t.dialect);
  if (t.dialect->exists(url)) {
    t.conn = t.engine->connect();
  } else if (auto mode = url.query.find("mode"); mode != url.query.end() && mode->second != "rwc") {
    // A missing file is created on first write, unless the URL says it must exist (SQLite's
    // mode=rw or ro): then a mistyped path is an error, not a new database migrated from base.
    throw CommandError("the database file '" + url.database + "' does not exist, and the URL's " +
                       "mode=" + mode->second + " says it is not to be created; check the path, " +
                       "or leave mode out to create it");
  } else {
    t.missing_file = url.database;
  }
  return t;
}

MigrationLock::MigrationLock(Target& db, const Config& c) : db_(db) {
  // Every command that writes the ledger takes the lock: on an in-memory SQLite database,
  // which this command's own connection makes and drops, what it wrote would be gone with it.
  if (const engine::Url url = engine::Url::parse(c.url); url.backend() == "sqlite" && url.is_memory())
    throw CommandError("the database URL '" + c.url + "' names an in-memory SQLite database, " +
                       "which lasts only as long as this command's connection: what it applied " +
                       "would be gone when it ends; name a file (sqlite:///app.db)");
  // A database that does not exist yet (a SQLite file) has nobody else in it.
  if (!db.conn) return;
  db.dialect->lock_migrations(*db.conn, c.lock_timeout);
  locked_ = true;
}

MigrationLock::~MigrationLock() {
  if (!locked_ || !db_.conn) return;
  try {
    db_.dialect->unlock_migrations(*db_.conn);
  } catch (const Error&) {
    // A lost connection has released the lock with it.
  }
}

engine::Connection& Target::connect() {
  if (conn) return *conn;
  if (!missing_file.empty() && !created) {
    // Create the (empty, so valid) file exclusively: then it is certainly this command's to
    // remove should the command fail. When another process made it meanwhile, it is theirs.
    const int fd = ::open(missing_file.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
    struct stat st {};
    if (fd >= 0 && ::fstat(fd, &st) == 0) {
      created = true;
      created_device = static_cast<std::uint64_t>(st.st_dev);
      created_inode = static_cast<std::uint64_t>(st.st_ino);
    }
    if (fd >= 0) ::close(fd);
  }
  conn = engine->connect();
  return *conn;
}

void Target::discard_if_created(const Ledger& ledger) noexcept {
  // One window is left open: a second process that opened the new file (its own upgrade, the
  // file having appeared) between the check below and the unlink would go on in the unlinked
  // file. Only a file this command created, with no migration applied, is ever removed.
  if (!created) return;
  try {
    // A migration went through, or one outside a transaction went part way: keep it.
    if (conn && (!ledger.applied(*conn).empty() || !ledger.unfinished(*conn).empty())) return;
    conn = engine::PooledConnection();
    engine.reset();  // closes every connection to the file
  } catch (const std::exception&) {
    return;
  }
  struct stat st {};
  if (::stat(missing_file.c_str(), &st) != 0 ||
      static_cast<std::uint64_t>(st.st_dev) != created_device ||
      static_cast<std::uint64_t>(st.st_ino) != created_inode)
    return;  // not the file this command created any more
  std::error_code ec;
  std::filesystem::remove(missing_file, ec);
  created = false;
}

std::ostream& err(const Config& c) { return c.err ? *c.err : std::cerr; }

void follow_squashes(ScriptDirectory& dir, const std::vector<std::string>& recorded) {
  auto has = [&](const std::string& id) {
    return std::find(recorded.begin(), recorded.end(), id) != recorded.end();
  };
  const auto order = dir.graph().topological_order();  // unsquash() rebuilds the graph
  for (const auto& id : order) {
    const auto& replaces = dir.get(id).replaces;
    if (replaces.empty() || has(id)) continue;
    const auto done = std::count_if(replaces.begin(), replaces.end(), has);
    if (done > 0 && static_cast<std::size_t>(done) < replaces.size()) dir.unsquash(id);
  }
}

bool knows(const ScriptDirectory& dir, const std::string& recorded) {
  const Migration* squashed = dir.replaced_by(recorded);
  return dir.graph().find(recorded) || (squashed && dir.graph().find(squashed->revision));
}

std::vector<std::string> verified_applied(ScriptDirectory& dir, const Ledger& ledger,
                                          Target& db, const Config& config, EditedFiles edited) {
  std::vector<std::string> ids;
  if (!db.conn) return ids;
  const auto rows = ledger.applied(*db.conn);
  for (const auto& row : rows) ids.push_back(row.revision);
  follow_squashes(dir, ids);
  for (const auto& row : rows) {
    if (!knows(dir, row.revision))
      throw CommandError("the database has revision '" + row.revision +
                         "' applied, but no migration file defines it; restore the file, or "
                         "`db stamp` the database to a known revision");
    // A replaced revision's file may be gone: the squashed migration stands for it.
    if (!dir.has(row.revision) || dir.unchanged(row.revision, row.checksum)) continue;
    const std::string what = "migration " + row.revision + " (" + dir.get(row.revision).path +
                             ") was edited after it was applied";
    if (edited == EditedFiles::refuse)
      throw CommandError(what + "; undo the edit and put the change in a new migration");
    err(config) << "warning: " << what << "; upgrade and downgrade refuse it until the edit "
                << "is undone" << std::endl;
  }
  ids = dir.applied_revisions(ids);
  if (edited == EditedFiles::refuse) refuse_unfinished(dir, ledger.unfinished(*db.conn), ids);
  return ids;
}

std::string join_or_base(const std::vector<std::string>& ids) {
  if (ids.empty()) return "<base>";
  std::string s;
  for (const auto& id : ids) s += (s.empty() ? "" : ", ") + id;
  return s;
}

std::string parents_text(const ScriptDirectory& dir, const std::string& id) {
  return join_or_base(dir.graph().find(id)->down_revisions);
}

std::string now_iso(bool fraction) {
  // strata's own "2026-11-24 07:36:12.000123", as ISO 8601 UTC: 'T', 'Z', and the
  // microseconds only when asked for.
  std::string out = to_iso(utc_now());
  out[10] = 'T';
  if (!fraction) out.resize(19);
  return out + "Z";
}

void record_done(engine::Connection& conn, const Ledger& ledger, const ScriptDirectory& dir,
                 const std::string& id, bool up,
                 std::chrono::steady_clock::time_point started) {
  // An earlier failure row, the claim, or the row a downgrade undoes (with, for a squashed
  // migration, the rows of the revisions it replaces).
  for (const auto& row : up ? std::vector<std::string>{id} : with_replaced(dir.get(id)))
    ledger.remove(conn, row);
  for (const auto& f : ledger.failures(conn))
    if (!failure_applies(dir, f)) ledger.remove(conn, f.revision);
  if (!up) return;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  ledger.record(conn, {id, dir.checksum(id), now_iso(true), ms, "applied", {}});
}

std::vector<std::string> with_replaced(const Migration& m) {
  std::vector<std::string> rows{m.revision};
  rows.insert(rows.end(), m.replaces.begin(), m.replaces.end());
  return rows;
}

bool failure_applies(const ScriptDirectory& dir, const AppliedMigration& failure) {
  return dir.graph().find(failure.revision) && dir.unchanged(failure.revision, failure.checksum);
}

namespace {
// Why downgrade_operations() refuses m: schema operations under an empty downgrade list.
// (Validating a constraint changes no schema: its reverse, itself, does nothing.)
std::optional<std::string> unwritten_downgrade(const Migration& m) {
  if (!m.downgrade.empty() || m.upgrade.empty()) return std::nullopt;
  const bool only_sql_and_calls =
      std::all_of(m.upgrade.begin(), m.upgrade.end(), [](const auto& op) {
        return std::holds_alternative<ExecuteOp>(op) || std::holds_alternative<CallOp>(op) ||
               std::holds_alternative<ValidateConstraintOp>(op);
      });
  if (only_sql_and_calls) return std::nullopt;  // each `reverse` the file gives
  // Schema operations are not undone unless the file says so: that may drop what holds data.
  std::string would;
  try {
    for (const auto& op : reverse(m.upgrade)) would += (would.empty() ? "" : "; ") + describe(op);
  } catch (const IrreversibleError&) {
  }
  const std::string reverse_text =
      would.empty() ? std::string() : " (the upgrade's reverse: " + would + ")";
  return "its downgrade list is empty; write the downgrade into the file" + reverse_text;
}
}  // namespace

std::optional<std::string> irreversibility(const Migration& m) {
  for (const Operation& op : m.upgrade) {
    const auto* ex = std::get_if<ExecuteOp>(&op);
    const auto* call = std::get_if<CallOp>(&op);
    if (ex && ex->irreversible) return describe(op) + " is marked irreversible";
    const bool no_reverse = (ex && ex->reverse.empty()) || (call && call->reverse.empty());
    if (no_reverse && m.downgrade.empty())
      return describe(op) +
             " has no reverse and the downgrade list is empty; give it a `reverse` or write the "
             "downgrade";
  }
  return unwritten_downgrade(m);
}

IrreversibleError cannot_downgrade(const Migration& m, const std::string& why) {
  return IrreversibleError("migration " + m.revision + " (" + m.message +
                           ") cannot be downgraded: " + why + "; nothing was downgraded");
}

std::vector<Operation> downgrade_operations(const Migration& m) {
  if (auto why = unwritten_downgrade(m)) throw cannot_downgrade(m, *why);
  if (!m.downgrade.empty() || m.upgrade.empty()) return m.downgrade;
  return reverse(m.upgrade);  // execute, call and validate_constraint operations only
}

}  // namespace detail

using namespace detail;

namespace {

// Refuses to downgrade m when its upgrade cannot be undone (irreversibility()), before any step
// runs. A downgrade list the author wrote is what runs otherwise (Alembic's downgrade()).
void check_reversible(const Migration& m) {
  if (auto why = irreversibility(m)) throw cannot_downgrade(m, *why);
}

// Plans every step from the state after `applied`, checking calls are registered and that a
// downgraded migration can be undone before any step runs (so a refusal changes nothing).
std::vector<Step> plan_steps(const Config& config, const ScriptDirectory& dir,
                             const dialect::Dialect& d, const std::vector<std::string>& applied,
                             const std::vector<std::string>& revisions, Way way, bool offline) {
  SchemaState state = dir.state_at(applied);
  std::vector<Step> steps;
  for (const auto& id : revisions) {
    const Migration& m = dir.get(id);
    if (way == Way::down) check_reversible(m);
    Step s{&m, way, {}};
    const auto ops = way == Way::up ? m.upgrade : downgrade_operations(m);
    try {
      s.plans = plan(d, state, ops);
    } catch (const CommandError& e) {
      throw CommandError("migration " + id + " (" + m.path + "): " + e.what());
    }
    for (std::size_t i = 0; i < s.plans.size(); ++i) {
      const OperationPlan& p = s.plans[i];
      const std::string which = "migration " + id + " (" + m.path + "): operation " +
                                std::to_string(i + 1) + " (" + p.description + ")";
      if (m.atomic && is_concurrent(ops[i]))  // a file refuses it; a Migration built in code
        throw CommandError(which + " runs CONCURRENTLY, which cannot run inside a transaction; "
                                   "give the migration 'atomic: false'");
      if (!m.atomic && (p.rebuild || p.foreign_keys_off))
        throw CommandError(which + " rebuilds table '" + p.rebuilt_table + "' on " +
                           std::string(d.name()) + ", which must run in one transaction with "
                           "foreign keys off, and the migration has 'atomic: false'; move the "
                           "operation to a migration without it");
    }
    for (const auto& p : s.plans)
      if (!p.call.empty() && !offline && !config.callbacks.count(p.call))
        throw CommandError("migration " + id + " calls '" + p.call +
                           "', which the application has not registered; register it "
                           "(callbacks[\"" + p.call + "\"]) or run the app's own `db` command");
    steps.push_back(std::move(s));
  }
  return steps;
}

std::string arrow(const ScriptDirectory& dir, const Step& s) {
  const auto& m = *s.migration;
  const std::string parents = parents_text(dir, m.revision);
  return s.way == Way::up ? "Running upgrade " + parents + " -> " + m.revision + ", " + m.message
                          : "Running downgrade " + m.revision + " -> " + parents + ", " + m.message;
}

void print_offline(std::ostream& os, const Ledger& ledger, const dialect::Dialect& d,
                   const std::vector<Step>& steps, const ScriptDirectory& dir) {
  for (const auto& s : ledger.ensure_sql()) os << s << ";\n";
  for (const auto& step : steps) {
    os << "\n-- " << arrow(dir, step) << "\n";
    if (!step.migration->atomic) {
      print_offline_outside_transaction(os, ledger, d, step, dir);
      continue;
    }
    bool fk_off = std::any_of(step.plans.begin(), step.plans.end(),
                              [](const auto& p) { return p.foreign_keys_off; });
    if (fk_off && !d.set_foreign_keys_sql(false).empty()) os << d.set_foreign_keys_sql(false) << ";\n";
    if (fk_off && !d.foreign_key_check_sql().empty())
      os << "-- references already broken, for the check before COMMIT:\n"
         << d.foreign_key_check_sql() << ";\n";
    os << d.begin_migration_sql() << ";\n";
    for (const auto& p : step.plans) {
      os << "-- " << p.description << "\n";
      if (!p.call.empty()) os << "-- (runs the application's callback '" << p.call << "': not available as SQL)\n";
      if (p.rebuild) {
        os << "-- (applied online, the triggers and views that name '" << p.rebuilt_table
           << "', and its indexes the migrations do not describe, are dropped before this and "
              "created again after it)\n";
      }
      for (const auto& stmt : p.statements) os << stmt << ";\n";
    }
    if (fk_off && !d.foreign_key_check_sql().empty())
      os << "-- must return no rows but those it returned before " << d.begin_migration_sql()
         << " (references broken while foreign keys were off):\n"
         << d.foreign_key_check_sql() << ";\n";
    const auto& id = step.migration->revision;
    // As the online run records it: a row a failed attempt left goes first.
    if (step.way == Way::up)
      os << ledger.delete_sql(id) << ";\n"
         << ledger.insert_sql({id, dir.checksum(id), "offline", 0, "applied", {}}) << ";\n";
    else
      for (const auto& row : with_replaced(*step.migration)) os << ledger.delete_sql(row) << ";\n";
    os << "COMMIT;\n";
    if (fk_off && !d.set_foreign_keys_sql(true).empty()) os << d.set_foreign_keys_sql(true) << ";\n";
  }
}

// Every revision at or below `heads`: what a database at those heads has applied.
std::vector<std::string> closure(const RevisionGraph& g, const std::vector<std::string>& heads) {
  std::set<std::string> all;
  for (const auto& h : heads) {
    all.insert(h);
    for (auto& a : g.ancestors(h)) all.insert(a);
  }
  std::vector<std::string> out;
  for (const auto& id : g.topological_order())
    if (all.count(id)) out.push_back(id);
  return out;
}

// SQLite's PRAGMA foreign_key_check: the rows whose reference finds no row, counted by
// referring and referred table (for the notes), and by the values of their foreign key
// columns (to tell a reference broken now from one broken before: a rebuild may number a
// table's rows anew and a migration may rename its tables, but it does not change those
// values while it keeps the row).
struct ForeignKeyBreaks {
  std::map<std::pair<std::string, std::string>, std::int64_t> by_tables;
  std::map<std::string, std::int64_t> by_values;  // "|value|value|"
  std::map<std::string, std::pair<std::string, std::string>> tables_of;  // by_values' tables
};
ForeignKeyBreaks foreign_key_breaks(engine::Connection& conn, const dialect::Dialect& d) {
  ForeignKeyBreaks out;
  // SQLite's rows: referring table, rowid (NULL in a WITHOUT ROWID table), referred table,
  // foreign key number.
  struct Row {
    std::string table, referred;
    std::optional<std::int64_t> rowid;
    std::int64_t fk;
  };
  std::vector<Row> rows;
  {
    auto check = conn.prepare(d.foreign_key_check_sql());
    while (check->step())
      rows.push_back({std::string(check->get_text(0)), std::string(check->get_text(2)),
                      check->is_null(1) ? std::nullopt
                                        : std::optional<std::int64_t>(check->get_int64(1)),
                      check->get_int64(3)});
  }
  for (const auto& r : rows) {
    ++out.by_tables[{r.table, r.referred}];
    // Only the values: a migration may rename the tables and columns, and a rebuild that
    // adds a foreign key numbers the table's foreign keys anew.
    std::string key = "|";
    if (r.rowid) {
      std::string columns;
      auto list = conn.prepare(
          "SELECT \"from\" FROM pragma_foreign_key_list(?) WHERE id = ? ORDER BY seq");
      list->bind(0, Value{r.table});
      list->bind(1, Value{r.fk});
      while (list->step())
        columns += (columns.empty() ? "" : ", ") + d.quote(std::string(list->get_text(0)));
      if (!columns.empty()) {
        auto values = conn.prepare("SELECT " + columns + " FROM " + d.quote(r.table) +
                                   " WHERE rowid = ?");
        values->bind(0, Value{*r.rowid});
        if (values->step())
          for (int i = 0; i < values->column_count(); ++i)
            key += to_display(values->get_value(i)) + "|";
      }
    } else {
      key += r.table;  // no rowid to read the row by: counted by its table
    }
    ++out.by_values[key];
    out.tables_of[key] = {r.table, r.referred};
  }
  return out;
}

// Refuses a drop_table of a table that views or other tables' triggers use, before the DROP
// runs: PostgreSQL refuses it by itself, and SQLite would drop the table and leave them
// broken, failing every later rename or rebuild of any table.
void refuse_used_table(engine::Connection& conn, const dialect::Dialect& d,
                       const std::string& table) {
  const std::vector<dialect::DependentObject> users = d.drop_dependents(conn, table);
  if (users.empty()) return;
  std::string names;
  for (const auto& x : users) {
    if (!names.empty()) names += ", ";
    names += std::string(x.kind == dialect::DependentObject::Kind::view ? "view" : "trigger") +
             " '" + x.name + "'";
  }
  throw CommandError(names + (users.size() == 1 ? " uses" : " use") + " table '" + table +
                     "'; drop " + (users.size() == 1 ? "it" : "them") +
                     " first (an execute operation before the drop_table)");
}

// A table rebuild keeps the triggers and views that name the table: they are dropped before
// the rebuild (DROP TABLE would drop the table's triggers; a view or another table's trigger
// naming it would make the rename fail) and created again from their SQL after it. One that
// no longer fits the new table (it names a dropped or renamed column) fails the migration,
// which rolls back.
struct Dependents {
  std::vector<dialect::DependentObject> objects;

  static const char* kind_name(dialect::DependentObject::Kind k) {
    switch (k) {
      case dialect::DependentObject::Kind::index: return "index";
      case dialect::DependentObject::Kind::view: return "view";
      case dialect::DependentObject::Kind::trigger: return "trigger";
    }
    return "object";
  }
  void drop(engine::Connection& conn, const dialect::Dialect& d) const {
    for (const auto& x : objects) {
      std::string kind = kind_name(x.kind);
      for (char& c : kind) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      conn.execute("DROP " + kind + " " + d.quote(x.name));
    }
  }
  // Indexes, then views (a trigger may use one), each view once those it uses are back: a
  // view whose creation fails is tried again after the others, until none comes back more.
  void recreate(engine::Connection& conn, const std::string& table) const {
    using Kind = dialect::DependentObject::Kind;
    for (const Kind kind : {Kind::index, Kind::view, Kind::trigger}) {
      std::vector<const dialect::DependentObject*> left;
      for (const auto& x : objects)
        if (x.kind == kind) left.push_back(&x);
      while (!left.empty()) {
        std::vector<const dialect::DependentObject*> failed;
        std::string first_error;
        for (const auto* x : left) {
          try {
            conn.execute(x->sql);
          } catch (const Error& e) {
            if (failed.empty()) first_error = e.what();
            failed.push_back(x);
          }
        }
        if (failed.size() == left.size()) {
          throw CommandError("could not create " + std::string(kind_name(kind)) + " '" +
                             failed.front()->name + "' again after rebuilding table '" + table +
                             "' (" + first_error + "); it refers to what the migration changed: "
                             "drop it in an execute operation before this one and create it "
                             "anew after");
        }
        left = std::move(failed);
      }
    }
  }
};

void run_step(const Config& config, engine::Connection& conn, const dialect::Dialect& d,
              const Ledger& ledger, const ScriptDirectory& dir, const Step& step,
              std::size_t index, std::size_t total) {
  auto& os = out(config);
  if (config.terminal) os << "[" << index << "/" << total << "] ";
  os << arrow(dir, step) << std::endl;
  if (!step.migration->atomic) return run_outside_transaction(config, conn, d, ledger, dir, step);
  const auto& id = step.migration->revision;
  const bool up = step.way == Way::up;
  const bool fk_off = std::any_of(step.plans.begin(), step.plans.end(),
                                  [](const auto& p) { return p.foreign_keys_off; }) &&
                      !d.set_foreign_keys_sql(false).empty();
  struct ForeignKeysBackOn {
    engine::Connection& conn;
    const dialect::Dialect& d;
    bool active;
    ~ForeignKeysBackOn() {
      if (!active) return;
      try {
        conn.execute(d.set_foreign_keys_sql(true));
      } catch (const Error&) {
        // The connection is going away with its settings; nothing to restore.
      }
    }
  } restore{conn, d, fk_off};
  if (fk_off) conn.execute(d.set_foreign_keys_sql(false));

  const auto started = std::chrono::steady_clock::now();
  std::size_t op = 0;
  bool checking_foreign_keys = false;  // past the operations, at the check before commit
  bool checked_ledger = false;         // the ledger was read again inside the lock
  bool committing = false;             // the COMMIT was sent
  bool refused = false;  // the ledger as re-read refuses the step: its error goes out as it is
  conn.execute(d.begin_migration_sql());  // the migration lock: concurrent runs wait here
  try {
    ledger.ensure(conn);
    std::vector<std::string> recorded;
    for (const auto& r : ledger.applied(conn)) recorded.push_back(r.revision);
    const auto ids = dir.applied_revisions(recorded);
    // SQLite has no lock that spans a run: another may have claimed a migration with
    // `atomic: false` since this one read the ledger.
    if (const auto unfinished = ledger.unfinished(conn); !unfinished.empty()) {
      refused = true;  // another run left a migration outside a transaction unfinished
      refuse_unfinished(dir, unfinished, ids);
    }
    const bool is_applied = std::find(ids.begin(), ids.end(), id) != ids.end();
    // SQLite again: a run of an older checkout may have moved the database along the chain a
    // squashed migration replaces since this one read the ledger, leaving it part way.
    if (!is_applied)
      for (const auto& r : step.migration->replaces)
        if (std::find(recorded.begin(), recorded.end(), r) != recorded.end()) {
          refused = true;
          throw CommandError("migration " + id + " (" + step.migration->message +
                             ") was not started: another run moved the database part way along "
                             "the revisions it replaces (it has " + r + " applied) meanwhile; "
                             "run the command again");
        }
    if (is_applied == up) {
      conn.execute("ROLLBACK");
      os << "  (already " << (up ? "applied" : "un-applied") << " by another process)\n";
      return;
    }
    checked_ledger = true;
    // References already broken before the migration (rows written while foreign keys were
    // off, as the sqlite3 shell leaves them) are not the migration's doing: only a reference
    // it breaks stops it.
    ForeignKeyBreaks broken_before;
    if (fk_off && !d.foreign_key_check_sql().empty())
      broken_before = foreign_key_breaks(conn, d);
    for (; op < step.plans.size(); ++op) {
      const auto& p = step.plans[op];
      Dependents dependents;
      if (p.rebuild) {
        dependents.objects =
            d.rebuild_dependents(conn, {p.rebuilt_table, p.rebuilt_columns, p.rebuilt_indexes});
        dependents.drop(conn, d);
      }
      if (!p.dropped_table.empty()) refuse_used_table(conn, d, p.dropped_table);
      for (const auto& stmt : p.statements) conn.execute(stmt);
      if (p.rebuild) dependents.recreate(conn, p.rebuilt_table);
      if (!p.call.empty()) config.callbacks.at(p.call)(conn);
    }
    if (fk_off && !d.foreign_key_check_sql().empty()) {
      checking_foreign_keys = true;
      // A reference broken by the migration fails it: one whose foreign key values were
      // not broken as many times before (the values stay with the row whatever the rebuild
      // and renames do to its rowid and table). The message names its tables.
      const ForeignKeyBreaks broken_after = foreign_key_breaks(conn, d);
      auto added = broken_after.tables_of.end();
      for (const auto& [key, count] : broken_after.by_values) {
        const auto was = broken_before.by_values.find(key);
        if (was == broken_before.by_values.end() || count > was->second) {
          added = broken_after.tables_of.find(key);
          break;
        }
      }
      if (added != broken_after.tables_of.end()) {
        std::string message = "rows of table '" + added->second.first + "' refer to table '" +
                              added->second.second +
                              "' but have no row to refer to there after the change";
        // Foreign keys are off for the whole transaction (SQLite cannot switch them inside
        // one), so what the author's own SQL deleted did not cascade as it would elsewhere.
        const auto rebuilt = std::find_if(step.plans.begin(), step.plans.end(),
                                          [](const auto& p) { return p.rebuild; });
        const bool authored = std::any_of(step.plans.begin(), step.plans.end(),
                                          [](const auto& p) { return p.authored; });
        if (authored && rebuilt != step.plans.end()) {
          message += "; this migration rebuilds table '" + rebuilt->rebuilt_table +
                     "', so SQLite runs all of it with foreign keys off: if its execute or "
                     "call operations deleted or changed rows, that did not cascade to the rows "
                     "that refer to them; delete or update those rows in the migration too, or "
                     "move the execute or call into a migration of its own";
        }
        throw CommandError(message);
      }
      for (const auto& [tables, rows] : broken_after.by_tables)
        os << "  note: table '" << tables.first << "' has " << rows
           << (rows == 1 ? " row that refers" : " rows that refer") << " to no row of table '"
           << tables.second << "', as before this migration (written while foreign keys were "
           << "off)\n";
      checking_foreign_keys = false;
    }
    record_done(conn, ledger, dir, id, up, started);
    committing = true;
    conn.execute("COMMIT");
  } catch (const std::exception& e) {  // a callback of the application's throws what it likes
    try {
      conn.execute("ROLLBACK");
    } catch (const Error&) {
      // Already rolled back by the failure.
    }
    if (refused) throw;
    std::string where = op < step.plans.size()
                            ? "operation " + std::to_string(op + 1) + " of " +
                                  std::to_string(step.plans.size()) + " (" +
                                  step.plans[op].description + ")"
                        : checking_foreign_keys ? "the foreign key check after its operations"
                                                : "its ledger update";
    std::string what = e.what();
    if (op < step.plans.size() && step.plans[op].rebuild) {
      // The database's message names the rebuild's temporary table, which the user never
      // saw: it is the table being changed. The SQL quoted after it stays as it ran.
      const std::string& table = step.plans[op].rebuilt_table;
      const std::string temporary = std::string(dialect::rebuild_prefix) + table;
      const std::size_t sql_at = std::min(what.find(" [SQL: "), what.size());
      std::string said = what.substr(0, sql_at);
      for (auto at = said.find(temporary); at != std::string::npos;
           at = said.find(temporary, at + table.size())) {
        said.replace(at, temporary.size(), table);
      }
      what = said + what.substr(sql_at);
    }
    if (committing && !conn.is_alive()) {
      // The server may have committed before the connection went: the ledger row commits
      // with the migration, so the database itself tells which.
      throw CommandError("migration " + id + " (" + step.migration->message +
                         "): the connection to the database was lost at its COMMIT, so whether "
                         "the database applied it is not known here; `db current` tells, as the "
                         "migration and its ledger row commit together (" + what + ")");
    }
    if (!checked_ledger) {
      // Nothing of the migration ran, and a ledger that cannot be read takes no failure row.
      throw CommandError("migration " + id + " (" + step.migration->message +
                         ") was not started: the ledger could not be checked: " + what);
    }
    std::string message = "migration " + id + " (" + step.migration->message + ") failed at " +
                          where + ": " + what +
                          (up ? "; nothing of it was applied"
                              : "; nothing of it was undone (the database stays at it)");
    if (up) {
      try {  // the ledger keeps what failed, outside the rolled-back transaction
        conn.execute(d.begin_migration_sql());
        ledger.ensure(conn);
        ledger.record_failure(conn, {id, dir.checksum(id), now_iso(true), 0, "failed", message});
        conn.execute("COMMIT");
      } catch (const Error&) {
        try {
          conn.execute("ROLLBACK");
        } catch (const Error&) {
        }
      }
    }
    throw CommandError(message);
  }
}

void run_steps(const Config& config, Target& db, const Ledger& ledger, const ScriptDirectory& dir,
               const std::vector<Step>& steps, const std::vector<std::string>& targets) {
  if (steps.empty()) {
    out(config) << "Nothing to do: the database is at " << join_or_base(targets) << "\n";
    return;
  }
  try {
    engine::Connection& conn = db.connect();
    for (std::size_t i = 0; i < steps.size(); ++i)
      run_step(config, conn, *db.dialect, ledger, dir, steps[i], i + 1, steps.size());
  } catch (...) {
    db.discard_if_created(ledger);  // a failed first step leaves no new database behind
    throw;
  }
}

// --sql reads no database: a revision relative to the database's (`current`, `+1`, `-1`,
// `label@-1`) would be read against an empty one, and the script would be for another
// database than the user's. (`label@base` names the branch's base whatever the database has.)
void refuse_offline_relative(const std::string& spec, const std::string& what) {
  if (!spec.empty() && uses_current(spec) && !spec.ends_with("@base"))
    throw CommandError("--sql does not read the database, so " + what + " cannot be relative "
                       "to its revision ('" + spec + "'): name a revision, or give FROM:TO " +
                       "with a revision as FROM (a relative TO counts from it)");
}

void move(const Config& config, const std::string& target, bool sql, const std::string& from,
          Way way) {
  auto dir = ScriptDirectory::load(config.directory);
  const auto& g = dir.graph();
  if (sql) {
    // A downgrade without FROM starts from the heads, which a relative target counts from.
    refuse_offline_relative(from, "FROM");
    if (from.empty() && way == Way::up) refuse_offline_relative(target, "a target without FROM");
    auto d = dialect_of(config);
    Ledger ledger(*d);
    std::vector<std::string> applied;
    // A database part way along a squashed chain goes on through the chain (as online).
    if (const Migration* squashed = dir.replaced_by(from); squashed && !g.find(from))
      dir.unsquash(squashed->revision);
    if (!from.empty()) applied = closure(g, dir.resolve(from, {}));
    else if (way == Way::down) applied = closure(g, g.heads());
    auto targets = dir.resolve(target, applied);
    auto path = way == Way::up ? g.upgrade_path(applied, targets) : g.downgrade_path(applied, targets);
    if (auto branch = g.branch_base_path(target, applied); branch && way == Way::down) path = *branch;
    print_offline(out(config), ledger, *d, plan_steps(config, dir, *d, applied, path, way, true), dir);
    return;
  }
  auto db = open_database(config);
  MigrationLock lock(db, config);
  Ledger ledger(*db.dialect);
  auto applied = verified_applied(dir, ledger, db, config);
  auto targets = dir.resolve(target, applied);
  auto path = way == Way::up ? g.upgrade_path(applied, targets) : g.downgrade_path(applied, targets);
  if (auto branch = g.branch_base_path(target, applied); branch && way == Way::down) path = *branch;
  run_steps(config, db, ledger, dir, plan_steps(config, dir, *db.dialect, applied, path, way, false),
            targets);
}

}  // namespace

void upgrade(const Config& config, const std::string& target, bool sql, const std::string& from) {
  move(config, target, sql, from, Way::up);
}

void downgrade(const Config& config, const std::string& target, bool sql,
               const std::string& from) {
  move(config, target, sql, from, Way::down);
}

namespace {
// Runs write(conn) in a migration transaction of its own and commits it; a failure rolls it
// back, and removes the database if this command created it.
template <class F>
void ledger_transaction(Target& db, const Ledger& ledger, F write) {
  try {
    auto& conn = db.connect();
    conn.execute(db.dialect->begin_migration_sql());
    write(conn);
    conn.execute("COMMIT");
  } catch (const Error&) {
    try {
      if (db.conn) db.conn->execute("ROLLBACK");
    } catch (const Error&) {
      // Already rolled back by the failure.
    }
    db.discard_if_created(ledger);
    throw;
  }
}
}  // namespace

void migrate_to(const Config& config, const std::string& target, bool sql, bool fake) {
  auto dir = ScriptDirectory::load(config.directory);
  const auto& g = dir.graph();
  if (sql) throw CommandError("migrate TARGET --sql: use `db upgrade --sql` or `db downgrade --sql`");
  auto db = open_database(config);
  MigrationLock lock(db, config);
  Ledger ledger(*db.dialect);
  auto applied = verified_applied(dir, ledger, db, config);
  auto targets = dir.resolve(target, applied);
  auto p = g.plan_to(applied, targets);
  if (auto branch = g.branch_base_path(target, applied))
    p = {branch->empty() ? Direction::none : Direction::downgrade, *branch};
  Way way = p.direction == Direction::downgrade ? Way::down : Way::up;
  if (fake) {
    // Django's --fake: the ledger takes the rows the move would write, and nothing runs. The
    // revisions of other branches that the move leaves alone stay applied (a stamp would
    // rewrite the whole ledger to the target).
    std::vector<std::string> after = applied;
    for (const auto& id : p.revisions) {
      if (way == Way::up) {
        after.push_back(id);
        continue;
      }
      for (const auto& row : with_replaced(dir.get(id)))
        after.erase(std::remove(after.begin(), after.end(), row), after.end());
    }
    ledger_transaction(db, ledger, [&](engine::Connection& conn) {
      for (const auto& s : ledger.ensure_sql()) conn.execute(s);
      for (const auto& id : p.revisions)
        record_done(conn, ledger, dir, id, way == Way::up, std::chrono::steady_clock::now());
    });
    out(config) << "Stamped the database at " << join_or_base(g.resolve("current", after))
                << "\n";
    return;
  }
  run_steps(config, db, ledger, dir, plan_steps(config, dir, *db.dialect, applied, p.revisions, way, false),
            targets);
}

void redo(const Config& config, const std::string& target) {
  auto dir = ScriptDirectory::load(config.directory);
  const auto& g = dir.graph();
  auto db = open_database(config);
  MigrationLock lock(db, config);
  Ledger ledger(*db.dialect);
  auto applied = verified_applied(dir, ledger, db, config);
  const auto back_to = g.resolve("current", applied);
  if (back_to.empty())
    throw CommandError("redo: no migration is applied, so there is nothing to redo");
  const auto down_to = dir.resolve(target, applied);
  auto down = g.downgrade_path(applied, down_to);
  if (auto branch = g.branch_base_path(target, applied)) down = *branch;
  if (down.empty())
    throw CommandError("redo: the database is at " + join_or_base(back_to) + ", not above " +
                       join_or_base(down_to) + "; nothing to redo (redo -1 redoes the last "
                       "migration)");
  // Both ways are planned before anything runs, so that what would refuse either (an
  // irreversible migration, a call the app has not registered) changes nothing.
  const auto down_steps = plan_steps(config, dir, *db.dialect, applied, down, Way::down, false);
  std::vector<std::string> after_down;
  for (const auto& id : applied)
    if (std::find(down.begin(), down.end(), id) == down.end()) after_down.push_back(id);
  const auto up_steps = plan_steps(config, dir, *db.dialect, after_down,
                                   g.upgrade_path(after_down, back_to), Way::up, false);
  run_steps(config, db, ledger, dir, down_steps, down_to);
  try {
    run_steps(config, db, ledger, dir, up_steps, back_to);
  } catch (const std::exception& e) {
    // Each migration commits on its own: those applied before the failure stay.
    std::string stays = "?";
    try {
      // As a report reads it: a migration left part way (atomic: false) is not refused here.
      stays = join_or_base(
          g.resolve("current", verified_applied(dir, ledger, db, config, EditedFiles::warn)));
    } catch (const std::exception&) {
      // The error below still says what failed.
    }
    throw CommandError("redo: the downgrade to " + join_or_base(down_to) +
                       " is done, but the upgrade back to " + join_or_base(back_to) +
                       " failed, and the database stays at " + stays + ": " + e.what());
  }
}

namespace {
// The revisions that several targets of `db stamp` name together: the heads of their union.
std::vector<std::string> resolve_targets(const ScriptDirectory& dir,
                                         const std::vector<std::string>& targets,
                                         const std::vector<std::string>& current) {
  std::vector<std::string> all;
  for (const auto& t : targets) {
    if (targets.size() > 1 && (t == "base" || t == "zero"))
      throw CommandError("stamp: '" + t + "' means no revision applied, so it cannot go with "
                         "others; name it alone");
    for (auto& id : dir.resolve(t, current))
      if (std::find(all.begin(), all.end(), id) == all.end()) all.push_back(std::move(id));
  }
  return dir.graph().resolve("current", all);
}
}  // namespace

void stamp(const Config& config, const std::string& target, bool sql) {
  stamp(config, std::vector<std::string>{target}, sql);
}

void stamp(const Config& config, const std::vector<std::string>& targets, bool sql) {
  if (targets.empty()) throw CommandError("stamp: no revision given; name one, or heads or base");
  auto dir = ScriptDirectory::load(config.directory);
  const auto& g = dir.graph();
  std::string named;  // the targets, as the command line gave them
  for (const auto& t : targets) named += (named.empty() ? "" : " ") + t;
  auto write = [&](const dialect::Dialect& d, const std::vector<std::string>& current,
                   auto&& emit) {
    Ledger ledger(d);
    auto wanted = closure(g, resolve_targets(dir, targets, current));
    for (const auto& s : ledger.ensure_sql()) emit(s);
    emit("DELETE FROM " + d.quote(Ledger::table_name));
    for (const auto& id : wanted)
      // Offline, as upgrade --sql writes it: the SQL runs at some unknown later time.
      emit(ledger.insert_sql({id, dir.checksum(id), sql ? "offline" : now_iso(true), 0, "applied", {}}));
    return wanted;
  };
  if (sql) {
    for (const auto& t : targets) refuse_offline_relative(t, "a stamp target");
    auto d = dialect_of(config);
    write(*d, {}, [&](const std::string& s) { out(config) << s << ";\n"; });
    return;
  }
  auto db = open_database(config);
  MigrationLock lock(db, config);
  Ledger ledger(*db.dialect);
  std::vector<std::string> current, unknown;
  if (db.conn) {
    for (const auto& row : ledger.applied(*db.conn)) current.push_back(row.revision);
    try {
      follow_squashes(dir, current);
    } catch (const CommandError&) {
      // Replaced revisions whose files are gone: the stamp is what repairs such a database.
    }
    current.clear();
    for (const auto& row : ledger.applied(*db.conn))
      (knows(dir, row.revision) ? current : unknown).push_back(row.revision);
    current = dir.applied_revisions(current);
  }
  if (!unknown.empty()) {
    // A ledger row without its file (the file deleted or renamed after it was applied): every
    // other command refuses the database and sends the user here. The stamp rewrites the whole
    // ledger, so the row goes; only a target relative to it cannot be worked out.
    bool outright =
        std::find(targets.begin(), targets.end(), "current") == targets.end();
    try {
      // A target that does not depend on what is current resolves alike from anywhere.
      const auto from_base = resolve_targets(dir, targets, {});
      outright = outright && from_base == resolve_targets(dir, targets, current) &&
                 from_base == resolve_targets(dir, targets, g.heads());
    } catch (const UnknownRevisionError&) {
      throw;  // a target that names no revision: that is what to say
    } catch (const Error&) {
      outright = false;
    }
    if (!outright) {
      throw CommandError("the database has revision '" + unknown.front() +
                         "' applied, but no migration file defines it, so '" + named +
                         "' cannot be worked out from it; stamp a revision named outright (its "
                         "id, `heads` or `base`), and the ledger forgets '" + unknown.front() +
                         "'");
    }
    current.clear();
  }
  // An unknown target fails before anything is created.
  const auto stamped = resolve_targets(dir, targets, current);
  ledger_transaction(db, ledger, [&](engine::Connection& conn) {
    // The ledger is rewritten whole: a migration with `atomic: false` that a run did not
    // finish is no longer between revisions, but where the stamp says.
    write(*db.dialect, current, [&](const std::string& s) { conn.execute(s); });
  });
  for (const auto& id : unknown)
    out(config) << "Removed revision " << id
                << " from the database's ledger: no migration file defines it\n";
  out(config) << "Stamped the database at " << join_or_base(stamped) << "\n";
}

}  // namespace strata::migrate
