// Migrations with `atomic: false`: run without a transaction around them (PostgreSQL's
// CREATE INDEX CONCURRENTLY, batched data migrations). The ledger row is claimed first, each
// schema operation commits on its own, and a run that fails or stops part way leaves the
// database marked as between revisions until `db stamp` says where it is.
#include <algorithm>
#include <chrono>

#include "commands_internal.hpp"

namespace strata::migrate::detail {

namespace {

void rollback_quietly(engine::Connection& conn) noexcept {
  try {
    if (conn.in_transaction()) conn.execute("ROLLBACK");
  } catch (const std::exception&) {
    // The connection is gone, and its transaction with it.
  }
}

std::string spaced(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : " ") + id;
  return out;
}

// The `db stamp` command that says where a database is when migration `id` is in full effect
// (with) or when none of it is. `applied`: the other applied revisions.
std::string stamp_command(const ScriptDirectory& dir, std::vector<std::string> applied,
                          const std::string& id, bool with) {
  std::erase(applied, id);
  if (with) applied.push_back(id);
  const auto heads = dir.graph().resolve("current", applied);
  return "`db stamp " + (heads.empty() ? std::string("base") : spaced(heads)) + "`";
}

std::string stamp_advice(const ScriptDirectory& dir, const std::vector<std::string>& applied,
                         const std::string& id) {
  return stamp_command(dir, applied, id, true) + " (the migration is in full effect) or " +
         stamp_command(dir, applied, id, false) + " (none of it is)";
}

std::vector<std::string> revisions_of(const std::vector<AppliedMigration>& rows) {
  std::vector<std::string> ids;
  for (const auto& r : rows) ids.push_back(r.revision);
  return ids;
}

// What the first `done` operations did, when they could not be undone.
std::string kept(std::size_t done) {
  return done == 1 ? "operation 1 took effect and stays"
                   : "operations 1-" + std::to_string(done) + " took effect and stay";
}

std::string unfinished_text(const AppliedMigration& row) {
  return row.status == "partial"
             ? "failed part way at " + row.applied_at + " (`db current` shows what stays)"
             : "was started at " + row.applied_at + " by a run that has not finished: it is "
               "still running, or it stopped part way";
}

}  // namespace

void refuse_unfinished(const ScriptDirectory& dir, const std::vector<AppliedMigration>& unfinished,
                       const std::vector<std::string>& applied) {
  if (unfinished.empty()) return;
  const AppliedMigration& row = unfinished.front();
  if (!dir.graph().find(row.revision)) {
    // Its file is gone: the database cannot be stamped at it, only where it was before.
    throw CommandError("migration " + row.revision + " ran outside a transaction (atomic: "
                       "false) and " + unfinished_text(row) + ", and no migration file defines "
                       "it any more, so the database is between revisions; undo by hand what "
                       "of it took effect, then " + stamp_command(dir, applied, row.revision,
                                                                  false) +
                       " (or restore the file)");
  }
  throw CommandError("migration " + row.revision + " (" + dir.get(row.revision).message +
                     ") runs outside a transaction (atomic: false) and " + unfinished_text(row) +
                     ", so the database is between revisions; when no run is under way, see "
                     "which of its operations took effect, then " +
                     stamp_advice(dir, applied, row.revision));
}

// A step of a migration with `atomic: false`, as run_outside_transaction() runs it: each schema
// operation in a transaction of its own, execute and CONCURRENTLY with none open.
void print_offline_outside_transaction(std::ostream& os, const Ledger& ledger,
                                       const dialect::Dialect& d, const Step& step,
                                       const ScriptDirectory& dir) {
  os << "-- (atomic: false: no transaction around the migration; each schema operation commits "
        "on its own)\n";
  for (const auto& p : step.plans) {
    os << "-- " << p.description << "\n";
    if (!p.call.empty()) {
      os << "-- (runs the application's callback '" << p.call << "': not available as SQL)\n";
    }
    const bool own_transaction = !p.authored && !p.concurrently;
    if (own_transaction) os << d.begin_migration_sql() << ";\n";
    for (const auto& stmt : p.statements) os << stmt << ";\n";
    if (own_transaction) os << "COMMIT;\n";
  }
  const auto& id = step.migration->revision;
  // As the online run records it: a row a failed attempt left goes first.
  if (step.way == Way::up)
    os << ledger.delete_sql(id) << ";\n"
       << ledger.insert_sql({id, dir.checksum(id), "offline", 0, "applied", {}}) << ";\n";
  else
    os << ledger.delete_sql(id) << ";\n";
}

// Its ledger row is claimed first, under the migration's write lock ("running": a second run
// refuses the database, and a run that stops part way leaves a trace); each schema operation
// then commits in a transaction of its own; execute, call and the CONCURRENTLY index
// operations run with no transaction open; at the end the row becomes "applied" (or goes, for
// a downgrade). A failure that leaves nothing (the first operation, rolled back) is recorded as
// for a migration in a transaction; one that leaves something marks the row "partial".
void run_outside_transaction(const Config& config, engine::Connection& conn,
                             const dialect::Dialect& d, const Ledger& ledger,
                             const ScriptDirectory& dir, const Step& step) {
  auto& os = out(config);
  const Migration& m = *step.migration;
  const auto& id = m.revision;
  const bool up = step.way == Way::up;
  const auto started = std::chrono::steady_clock::now();
  std::optional<AppliedMigration> applied_row;  // a downgrade's, to put back after a failure
  std::vector<std::string> applied;             // the ledger's applied revisions, but this one
  conn.execute(d.begin_migration_sql());
  try {
    ledger.ensure(conn);
    const auto rows = ledger.applied(conn);
    applied = revisions_of(rows);
    // Another run (SQLite has no lock that spans a migration) may have claimed it meanwhile.
    refuse_unfinished(dir, ledger.unfinished(conn), dir.applied_revisions(applied));
    const auto row = std::find(applied.begin(), applied.end(), id);
    if ((row != applied.end()) == up) {
      conn.execute("ROLLBACK");
      os << "  (already " << (up ? "applied" : "un-applied") << " by another process)\n";
      return;
    }
    if (!up) applied_row = rows[static_cast<std::size_t>(row - applied.begin())];
    std::erase(applied, id);
    applied = dir.applied_revisions(applied);  // as the graph names them, for the stamp advice
    ledger.remove(conn, id);  // an earlier failure row, or the applied row of a downgrade
    ledger.record(conn, {id, dir.checksum(id), now_iso(true), 0, "running", {}});
    conn.execute("COMMIT");
  } catch (const CommandError&) {
    rollback_quietly(conn);
    throw;
  } catch (const std::exception& e) {
    rollback_quietly(conn);
    throw CommandError("migration " + id + " (" + m.message +
                       ") was not started: the ledger could not be checked: " + e.what());
  }
  os << "  (atomic: false: each operation commits on its own)" << std::endl;

  std::size_t op = 0;
  // Whether the failing operation may have done part of its work: the author's SQL and
  // callbacks run with no transaction around them, and a failed DROP INDEX CONCURRENTLY may
  // leave its index invalid.
  bool failed_part_way = false;
  try {
    for (; op < step.plans.size(); ++op) {
      const auto& p = step.plans[op];
      failed_part_way = false;
      if (!p.authored && !p.concurrently) {
        conn.execute(d.begin_migration_sql());
        for (const auto& stmt : p.statements) conn.execute(stmt);
        conn.execute("COMMIT");
        continue;
      }
      failed_part_way = p.authored || p.leftover_query.empty();  // a drop may leave it invalid
      std::optional<bool> existed;  // whether the index CONCURRENTLY creates was there before
      try {
        if (!p.leftover_query.empty()) {
          auto q = conn.prepare(p.leftover_query);
          existed = q->step() && q->get_int64(0) != 0;
        }
        for (const auto& stmt : p.statements) conn.execute(stmt);
        if (!p.call.empty()) config.callbacks.at(p.call)(conn);
      } catch (const std::exception& e) {
        if (!existed || *existed) throw;
        // PostgreSQL leaves the index behind, invalid: drop it, so that the operation leaves
        // nothing.
        rollback_quietly(conn);
        std::string left;
        bool there = false;
        try {
          auto q = conn.prepare(p.leftover_query);
          there = q->step() && q->get_int64(0) != 0;
        } catch (const std::exception& check_error) {
          failed_part_way = true;
          throw CommandError(e.what() + ("; whether it left an invalid index could not be "
                                         "checked (" + std::string(check_error.what()) +
                                         "): if it did, drop it (" + p.leftover_drop + ")"));
        }
        if (there) {
          try {
            conn.execute(p.leftover_drop);
            left = "; the invalid index it left was dropped again";
          } catch (const std::exception& drop_error) {
            failed_part_way = true;
            left = "; it left an invalid index, which could not be dropped (" +
                   std::string(drop_error.what()) + "): drop it by hand (" + p.leftover_drop +
                   ")";
          }
        }
        throw CommandError(e.what() + left);
      }
      if (conn.in_transaction()) {
        rollback_quietly(conn);
        throw CommandError("it left a transaction open, which was rolled back; with "
                           "'atomic: false' an execute or a call that begins a transaction "
                           "must end it");
      }
    }
  } catch (const std::exception& e) {
    rollback_quietly(conn);
    const bool lost = !conn.is_alive();
    const bool partial = op > 0 || failed_part_way || lost;
    std::string message = "migration " + id + " (" + m.message + ") failed at operation " +
                          std::to_string(op + 1) + " of " + std::to_string(step.plans.size()) +
                          " (" + step.plans[op].description + "): " + e.what() + "; ";
    if (!partial) {
      message += up ? "nothing of it was applied"
                    : "nothing of it was undone (the database stays at it)";
    } else {
      const std::string run = up ? "" : "downgrade's ";
      std::string stays;
      if (op > 0) stays = "its " + run + kept(op) + (failed_part_way || lost ? ", and " : "");
      if (lost) {
        stays += "whether operation " + std::to_string(op + 1) + " took effect is not known "
                 "(the connection to the database was lost)";
      } else if (failed_part_way) {
        stays += "operation " + std::to_string(op + 1) + " may have done part of its work";
      }
      message += "it runs outside a transaction (atomic: false), so " + stays +
                 "; the database is between revisions, and nothing runs until you undo that by "
                 "hand or do the rest by hand, then " + stamp_advice(dir, applied, id);
    }
    try {
      conn.execute(d.begin_migration_sql());
      ledger.remove(conn, id);
      if (partial) {
        ledger.record(conn, {id, dir.checksum(id), now_iso(true), 0, "partial", message});
      } else if (up) {
        ledger.record(conn, {id, dir.checksum(id), now_iso(true), 0, "failed", message});
      } else {
        ledger.record(conn, *applied_row);
      }
      conn.execute("COMMIT");
    } catch (const std::exception& ledger_error) {
      rollback_quietly(conn);
      message += "; the ledger could not be updated (" + std::string(ledger_error.what()) +
                 "), so it still says the migration is running";
    }
    throw CommandError(message);
  }

  try {
    conn.execute(d.begin_migration_sql());
    record_done(conn, ledger, dir, id, up, started);
    conn.execute("COMMIT");
  } catch (const std::exception& e) {
    rollback_quietly(conn);
    throw CommandError("migration " + id + " (" + m.message + "): every operation took effect, "
                       "but the ledger could not record it (" + e.what() + "), so it still says "
                       "the migration is running; " + stamp_command(dir, applied, id, up) +
                       " records where the database is");
  }
}

}  // namespace strata::migrate::detail
