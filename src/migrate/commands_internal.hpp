// Private to the command layer: the database a command talks to, and helpers shared by the
// command files.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "strata/dialect/dialect.hpp"
#include "strata/engine/engine.hpp"
#include "strata/migrate/commands.hpp"
#include "strata/migrate/errors.hpp"

namespace strata::migrate::detail {

std::ostream& out(const Config& c);

// The database of config.url, with one connection — unless it does not exist yet (a SQLite
// file not created): then `conn` stays empty until connect(), and commands read the database
// as one with nothing applied. So a command that only reads creates nothing, and one that
// fails calls discard_if_created() to remove what it created.
struct Target {
  std::shared_ptr<dialect::Dialect> dialect;
  std::unique_ptr<engine::Engine> engine;
  engine::PooledConnection conn;
  // A database that did not exist when opened (Driver::exists() false: only a file that
  // connecting creates, at url.database): its path, and, once connect() has created the file
  // itself (O_EXCL, so never one another process made), its device and inode.
  std::filesystem::path missing_file;
  bool created = false;
  std::uint64_t created_device = 0, created_inode = 0;
  // The connection, connecting (and so creating the database) on first use.
  engine::Connection& connect();
  // After a command failed: when connect() created the database and no migration is applied
  // in it (the ledger holds at most failed attempts), closes it and removes the file — if the
  // path still names the file it created. Never throws; in doubt, keeps the file.
  void discard_if_created(const Ledger& ledger) noexcept;
};
Target open_database(const Config& c);

// The migration lock on db's connection for as long as it lives (Dialect::lock_migrations,
// waiting up to config.lock_timeout).
class MigrationLock {
 public:
  MigrationLock(Target& db, const Config& c);
  MigrationLock(const MigrationLock&) = delete;
  MigrationLock& operator=(const MigrationLock&) = delete;
  ~MigrationLock();

 private:
  Target& db_;
  bool locked_ = false;
};
// The dialect of config.url without connecting (offline --sql).
std::shared_ptr<dialect::Dialect> dialect_of(const Config& c);

// Whether a command that only reads refuses an applied migration edited since (those that
// apply refuse; reports warn on config.err and go on).
enum class EditedFiles { refuse, warn };

// The applied revisions the ledger holds, checked against the files: every applied revision
// must have its file, unchanged (ScriptDirectory::unchanged). Throws CommandError naming the
// file otherwise — for an edited file, only with EditedFiles::refuse, which also refuses a
// database that a migration with `atomic: false` left between revisions (refuse_unfinished).
// The ledger's rows of revisions a squashed migration replaces count as it
// (ScriptDirectory::applied_revisions); a database that applied some of them, not all, gets
// them back in dir's graph (ScriptDirectory::unsquash). None when the database does not exist
// yet.
std::vector<std::string> verified_applied(ScriptDirectory& dir, const Ledger& ledger,
                                          Target& db, const Config& config,
                                          EditedFiles edited = EditedFiles::refuse);

// For the ledger's applied revisions (`recorded`): unsquashes each squashed migration of
// which the database applied some of the revisions it replaces, not all.
void follow_squashes(ScriptDirectory& dir, const std::vector<std::string>& recorded);
// Whether a ledger row's revision is one the migrations know: the graph holds it, or it holds
// the squashed migration that replaces it.
bool knows(const ScriptDirectory& dir, const std::string& recorded);

// The revisions the database is at (its applied heads), for reports: an edited applied file
// is warned about, not refused. Connects to config.url.
std::set<std::string> current_heads(const Config& config, ScriptDirectory& dir);

// "3f2a9c1b7d4e (head)"-style labels for reports.
std::string revision_label(const ScriptDirectory& dir, const std::string& id);
// The parents of revision id as the graph has them ("<base>" or the comma-separated ids): a
// down_revision naming the last revision a squashed migration replaces names the squashed one.
std::string parents_text(const ScriptDirectory& dir, const std::string& id);
// "<base>" or the comma-separated ids.
std::string join_or_base(const std::vector<std::string>& ids);

// One step of upgrade / downgrade / migrate / redo: a migration applied or un-applied, with its
// SQL planned against the schema before it.
enum class Way { up, down };
struct Step {
  const Migration* migration;
  Way way;
  std::vector<OperationPlan> plans;
};

// commands_outside.cpp: a migration with `atomic: false`, run (or, offline, printed) without a
// transaction around it.
void run_outside_transaction(const Config& config, engine::Connection& conn,
                             const dialect::Dialect& d, const Ledger& ledger,
                             const ScriptDirectory& dir, const Step& step);
void print_offline_outside_transaction(std::ostream& os, const Ledger& ledger,
                                       const dialect::Dialect& d, const Step& step,
                                       const ScriptDirectory& dir);
// The ledger's rows of migrations with `atomic: false` that a run did not finish make the
// database one between revisions: a CommandError naming the first, with the `db stamp` that
// says where the database is. `applied`: the ledger's applied revisions.
void refuse_unfinished(const ScriptDirectory& dir, const std::vector<AppliedMigration>& unfinished,
                       const std::vector<std::string>& applied);

// In the caller's transaction, after step `id` ran (up: applied; else: un-applied): its row
// goes, and so do failure rows that no longer concern the migrations; an upgrade is recorded
// as applied, with the time since `started`.
void record_done(engine::Connection& conn, const Ledger& ledger, const ScriptDirectory& dir,
                 const std::string& id, bool up, std::chrono::steady_clock::time_point started);

// The ledger rows that stand for m being applied: its own and, for a squashed migration, those
// of the revisions it replaces (a downgrade removes them all).
std::vector<std::string> with_replaced(const Migration& m);

// Whether a ledger's failed attempt still concerns the migrations: its revision has a file,
// unchanged since the attempt. Else it is stale: `db current` leaves it out, and the next
// command that applies something removes it.
bool failure_applies(const ScriptDirectory& dir, const AppliedMigration& failure);

// The current UTC time in ISO 8601, "2026-11-24T08:00:00Z"; with fraction, to the
// microsecond ("2026-11-24T08:00:00.123456Z"), so that the ledger's rows sort in order.
std::string now_iso(bool fraction = false);
// What `db downgrade` runs for m: its downgrade list, or, when that is empty under an upgrade
// list of `execute` and `call` operations only, their `reverse`s, last first (Django's RunSQL
// and RunPython). Schema operations under an empty downgrade list are refused
// (IrreversibleError, naming what the reverse would be), as is an operation without reverse.
std::vector<Operation> downgrade_operations(const Migration& m);
// Why `db downgrade` cannot undo m, if it cannot, as it reads after "cannot be downgraded: ":
// an upgrade operation marked irreversible, one without a reverse (execute, call) under an
// empty downgrade list, or schema operations under an empty downgrade list (which
// downgrade_operations refuses).
std::optional<std::string> irreversibility(const Migration& m);
// "migration R (MESSAGE) cannot be downgraded: WHY; nothing was downgraded".
IrreversibleError cannot_downgrade(const Migration& m, const std::string& why);
std::ostream& err(const Config& c);  // config.err, or std::cerr

}  // namespace strata::migrate::detail
