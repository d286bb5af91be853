// The migration commands as library functions — what `APP db COMMAND` and the standalone
// `strata` tool call. Each takes a Config, writes its report to config.out, and throws a
// strata::Error (CommandError and friends) with a one-line message when it cannot proceed.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "strata/migrate/compare.hpp"
#include "strata/migrate/graph.hpp"
#include "strata/migrate/migration.hpp"
#include "strata/migrate/runtime.hpp"
#include "strata/schema/table.hpp"

namespace strata::migrate {

struct Config {
  std::filesystem::path directory = "migrations";  // holds versions/*.yaml
  std::string url;                      // the database, for commands that touch it
  std::vector<schema::Table> models;    // the app's tables (migrate, check); none standalone
  bool has_models = false;              // whether `models` was given (an app with no tables)
  Callbacks callbacks;                  // data-migration callbacks by name
  std::ostream* out = nullptr;          // report; std::cout when null
  std::ostream* err = nullptr;          // warnings; std::cerr when null
  // Autogenerate: renames confirmed on the command line ("table.old" -> "new" for a column,
  // "old" -> "new" for a table), a prompt for the rest (set when standard input is a
  // terminal), and whether unresolved probable renames may become drop + add.
  std::map<std::string, std::string> renames;
  // The models' hints (Database::rename_hints()), in the same form: each is a confirmed
  // rename when it fits (the old name in the chain and not in the models, the new one in the
  // models and not in the chain), else ignored; `renames` wins over a hint.
  std::map<std::string, std::string> rename_hints;
  std::function<bool(const RenameCandidate&)> confirm_rename;
  bool allow_destructive = false;
  bool terminal = false;  // whether out is a terminal (progress lines)
  // How long upgrade / downgrade / stamp wait for the migration lock that another run holds
  // (PostgreSQL; SQLite waits its busy timeout per migration instead).
  std::chrono::milliseconds lock_timeout{60000};
};

// The migration files of a directory, parsed, and the graph they form.
class ScriptDirectory {
 public:
  // Reads every versions/*.yaml and *.yml. Throws CommandError when the directory is missing ("run
  // `db init` first"), MigrationFileError for a malformed file, RevisionError for a broken
  // graph.
  static ScriptDirectory load(const std::filesystem::path& directory);

  const RevisionGraph& graph() const noexcept { return graph_; }
  const Migration& get(const std::string& revision) const;
  // Whether a file defines the revision (the graph may not hold it: see replaced_by()).
  bool has(std::string_view revision) const { return migrations_.find(revision) != migrations_.end(); }
  // The checksum the ledger records for an applied revision: of the migration as render()
  // writes it, so comments, layout and line ends of the file do not count, nor its
  // `lint_allow`.
  const std::string& checksum(const std::string& revision) const;
  // Whether a ledger's checksum is that of the revision's file as it is now: the checksum
  // above, or the one of the file's whole text that ledgers written before held.
  bool unchanged(const std::string& revision, const std::string& recorded) const;
  // The schema after applying every revision in `applied` (topological order).
  SchemaState state_at(const std::vector<std::string>& applied) const;
  // Writes m to versions/<revision>_<slug>.yaml through a temporary file and a rename;
  // never overwrites. Returns the path.
  std::filesystem::path write(const Migration& m) const;
  const std::filesystem::path& directory() const noexcept { return directory_; }

  // Squashed migrations (`db squash`, Migration::replaces). The graph holds a squashed
  // migration in place of the revisions it replaces, whose files may stay or go; a
  // down_revision naming the last of them names the squashed one. A down_revision naming
  // another of them is a RevisionError (the migration would run after all of them), as are a
  // revision two migrations replace and a squashed migration that replaces another.
  //
  // The squashed migration that replaces `revision`, or null.
  const Migration* replaced_by(std::string_view revision) const;
  // The ledger's applied revisions (`recorded`) as the graph's ids: a squashed migration is
  // applied when its own row or the row of every revision it replaces is there; the ids of
  // revisions the graph does not hold are left out.
  std::vector<std::string> applied_revisions(const std::vector<std::string>& recorded) const;
  // For a database that applied some, not all, of the revisions a squashed migration
  // replaces: the graph gets them back in place of the squashed one (until load() again), so
  // that the rest of them run from their files, as Django does. Throws CommandError when
  // their files are gone or do not form the chain `replaces` lists.
  void unsquash(const std::string& squashed);
  // graph().resolve() and resolve_one(), knowing squashed migrations: the id of one whose
  // revisions the graph holds back (unsquash()) stands for the last of them; the id of a
  // revision one stands for is an UnknownRevisionError naming it.
  std::vector<std::string> resolve(std::string_view spec,
                                   const std::vector<std::string>& current) const;
  std::string resolve_one(std::string_view spec, const std::vector<std::string>& current) const;

 private:
  void build_graph();
  std::string_view for_graph(std::string_view spec) const;

  std::filesystem::path directory_;
  std::map<std::string, Migration, std::less<>> migrations_;
  // Of render(migration) without what only describes it (message, created, labels, lint_allow).
  std::map<std::string, std::string> checksums_;
  // What older ledgers recorded, which an unchanged file still matches: of render() without
  // lint_allow, and of the file's text.
  std::map<std::string, std::vector<std::string>> older_checksums_;
  std::map<std::string, std::string, std::less<>> replaced_by_;  // revision -> squashed one
  std::set<std::string> unsquashed_;  // squashed migrations the graph holds the revisions of
  RevisionGraph graph_;
};

// `db init`: creates the directory and versions/. Refuses when it exists and is not empty.
void init(const Config& config);

// `db revision -m MSG` (empty) and `db migrate -m MSG` (autogenerate: models vs the chain).
// Returns the path written, or nullopt when autogenerate found no change ("No changes in
// schema detected."). With check_only, writes nothing and throws CommandError when the models
// and the chain differ (`db migrate --check`).
std::optional<std::filesystem::path> revision(const Config& config, const std::string& message,
                                              bool autogenerate, bool check_only = false);

// `db merge REV...`: a revision with several down_revisions and no operations.
std::filesystem::path merge(const Config& config, const std::vector<std::string>& revisions,
                            const std::string& message);
// Django's `makemigrations --merge`: merge(config, {"heads"}, message) when there are two
// heads or more; with one, says there is nothing to merge and writes nothing.
std::optional<std::filesystem::path> merge_heads(const Config& config, const std::string& message);

// `db squash [FROM] TO -m MSG` (Django's squashmigrations): one migration in place of the
// chain FROM..TO (FROM defaults to where the chain starts: a base, a merge, or the revision
// after a branch point), its operations optimize()d, listing the chain in `replaces`. A
// database that applied the whole chain has applied it; one that applied none runs it; one
// part way runs the rest of the chain from its files. The chain may have no fork or merge
// inside, no migration with `atomic: false`, and no squashed migration. When one of the chain
// cannot be downgraded, the squashed migration's downgrade list is empty (it cannot either).
// Returns the path written.
std::filesystem::path squash(const Config& config, const std::string& from, const std::string& to,
                             const std::string& message);

// `db upgrade [REV]`, `db downgrade [REV]`, Django's `migrate [TARGET|zero]`, `db stamp REV`.
// With sql (offline), print the SQL instead of touching the database; the starting point is
// then `from` (a revision spec; base when empty).
void upgrade(const Config& config, const std::string& target = "head", bool sql = false,
             const std::string& from = {});
void downgrade(const Config& config, const std::string& target = "-1", bool sql = false,
               const std::string& from = {});
// With fake (Django's --fake), only the ledger rows that the move would write.
void migrate_to(const Config& config, const std::string& target, bool sql = false,
                bool fake = false);
void stamp(const Config& config, const std::string& target, bool sql = false);
// `db stamp REV...` (Alembic's): the database at every revision the targets name (a database
// with several heads names each, e.g. `db stamp a1b2 c3d4`).
void stamp(const Config& config, const std::vector<std::string>& targets, bool sql = false);
inline void stamp(const Config& config, std::initializer_list<std::string> targets,
                  bool sql = false) {
  stamp(config, std::vector<std::string>(targets), sql);
}
// `db redo [REV]` (Rails' db:migrate:redo): downgrade to REV (default -1, the last migration),
// then upgrade back to the revisions the database was at, under one migration lock: proves
// that migrations reverse. Nothing applied, or REV not below the database, is a CommandError
// that changes nothing. When the way back up fails, the database stays where the downgrade
// left it (each migration commits on its own; one with `atomic: false` may stay part way),
// and the error says so.
void redo(const Config& config, const std::string& target = "-1");

// Reports: `db history [-r A:B] [-v] [-i]`, `db current [-v]`, `db heads`, `db branches`,
// `db show REV`, Django's `showmigrations`.
void history(const Config& config, const std::string& range, bool verbose,
             bool indicate_current);
void current(const Config& config, bool verbose);
void heads(const Config& config, bool verbose);
void branches(const Config& config, bool verbose);
void show(const Config& config, const std::string& revision);
void showmigrations(const Config& config);

// `db check`: the models against the chain (CommandError naming the operations a migration
// would need), then the live database against the chain at the database's revision (drift():
// each difference one line on config.out, then CommandError counting them), then the
// database's revision against the heads (CommandError: not up to date). Without models (the
// standalone tool) the first comparison is skipped, and the report says so.
void check(const Config& config);

// One finding of `db lint`.
struct LintFinding {
  std::string revision;
  std::string rule;     // one of lint_rules
  std::string message;  // "drops column 'user.about_me' and its data"
  bool allowed = false;  // the migration's lint_allow lists the rule
};

// `db lint [-r RANGE | --pending]`: what the migrations of RANGE (history's ranges, or one
// revision spec such as `head`; default: every one), or those the database has not applied
// (pending), would do to a database that holds data, for config.url's dialect, oldest
// migration first: each operation that loses data (destructive) or may fail on rows already
// in a table (risky), each table rebuilt or rewritten (rebuild: SQLite's missing ALTER
// forms, a PostgreSQL type change the server cannot make in place), each migration
// `db downgrade` cannot undo (irreversible). An operation on a table the migration created,
// before any execute or call, is not destructive, risky or a rewrite (a SQLite rebuild still
// is). Reads no database unless pending or RANGE is relative to it (`current`, `-1`).
// Throws CommandError (naming the migration) for one that cannot be planned.
std::vector<LintFinding> lint_findings(const Config& config, const std::string& range = {},
                                       bool pending = false);
// Prints lint_findings() on config.out, one line each (allowed ones marked so), then a
// summary; throws CommandError counting the findings that are not allowed, if any.
void lint(const Config& config, const std::string& range = {}, bool pending = false);

}  // namespace strata::migrate
