// The `db` command line: parses arguments with CLI11, calls the migrate command functions,
// prints one line on error and exits non-zero (1; 2 for a usage error). Flask-Migrate's names,
// with Django's beside them: makemigrations (autogenerate only: it never touches the
// database), `migrate TARGET|zero` moves to a target, showmigrations, sqlmigrate.
#include "strata/cli/db_command.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "strata/migrate/commands.hpp"
#include "strata/migrate/errors.hpp"

namespace strata::cli {

namespace {

// Arguments that parse but do not go together, or do not belong to the command: exit 2.
class UsageError : public migrate::CommandError {
 public:
  using CommandError::CommandError;
};

// A message as one line: an error is reported on exactly one.
std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

// CLI11's message for a usage error, as one line that names an unknown command (CLI11 says
// only that a subcommand is required) and points to --help.
std::string usage_message(const CLI::App& app, const CLI::ParseError& e) {
  if (app.get_subcommands().empty()) {
    std::string commands;
    for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; }))
      commands += (commands.empty() ? "" : ", ") + sub->get_name();
    const auto extra = app.remaining();
    if (!extra.empty() && !extra.front().empty() && extra.front()[0] != '-')
      return "unknown command '" + extra.front() + "' (the commands are " + commands + ")";
    if (!extra.empty()) return "unknown option '" + extra.front() + "' (see --help)";
    if (dynamic_cast<const CLI::RequiredError*>(&e))
      return "a command is required: " + commands + " (see --help)";
  }
  std::string text = one_line(e.what());
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text + " (see --help)";
}

bool ask_rename(const migrate::RenameCandidate& c) {
  if (c.is_table()) {
    std::cerr << "Was table '" << c.old_name << "' renamed to '" << c.new_name << "'? [y/N] ";
  } else {
    std::cerr << "Was column '" << c.table << "." << c.old_name << "' renamed to '" << c.new_name
              << "'? [y/N] ";
  }
  std::cerr << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return !answer.empty() && (answer[0] == 'y' || answer[0] == 'Y');
}

// "table.old:new" -> {"table.old", "new"} (a column); "old:new" -> {"old", "new"} (a table).
void add_rename(migrate::Config& config, const std::string& spec) {
  auto colon = spec.find(':');
  auto dot = spec.find('.');
  if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size() ||
      spec.find(':', colon + 1) != std::string::npos ||
      (dot != std::string::npos && (dot > colon || dot == 0 || dot + 1 == colon)))
    throw UsageError("--rename " + spec +
                                ": expected TABLE.OLD:NEW (a column) or OLD:NEW (a table)");
  config.renames[spec.substr(0, colon)] = spec.substr(colon + 1);
}

// One database a command works on: its name ("default" or a bind's), its migrations folder
// and its URL and tables.
struct Target {
  std::string name;
  migrate::Config config;
};

// The databases a command works on. One app database (or none, for the standalone tool):
// that one, its chain in `directory`. With binds (multidb): every database in turn, or the
// one --bind names; a bind's chain lives in `directory`/binds/NAME.
std::vector<Target> databases(const migrate::Config& base, Database* db,
                              const std::string& directory, const std::string& url,
                              const std::string& bind) {
  std::vector<std::string> names{"default"};
  if (db)
    for (const auto& b : db->binds()) names.push_back(b);
  if (!bind.empty() && std::find(names.begin(), names.end(), bind) == names.end()) {
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    throw UsageError("--bind " + bind + ": no such database (this app has " + known + ")");
  }
  if (!url.empty() && names.size() > 1 && bind.empty())
    throw UsageError("--url names one database and this app has several; say which with "
                     "--bind NAME");
  std::vector<Target> out;
  for (const auto& name : names) {
    if (!bind.empty() && name != bind) continue;
    const std::string key = name == "default" ? std::string() : name;
    Target t{name, base};
    t.config.directory = key.empty() ? std::filesystem::path(directory)
                                     : std::filesystem::path(directory) / "binds" / key;
    t.config.url = !url.empty() ? url : db ? db->engine(key).url().to_string(true) : std::string();
    if (t.config.url.empty()) {
      if (const char* env_url = std::getenv("DATABASE_URL")) t.config.url = env_url;
    }
    if (db) {
      for (const auto& table : db->metadata(key).tables()) t.config.models.push_back(table);
      t.config.rename_hints = db->rename_hints(key);
      t.config.has_models = true;
    }
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

int run(int argc, char** argv, Database* db, const migrate::Callbacks& callbacks) {
  CLI::App app{"Database migrations: create, apply, revert and inspect them."};
  app.require_subcommand(1);
  app.fallthrough();

  migrate::Config config;
  std::string directory = "migrations";
  std::string url;
  app.add_option("-d,--directory", directory, "Migrations folder")->capture_default_str();
  // The app's database comes first where there is one: DATABASE_URL is read only without it
  // (the standalone tool), so the help says which applies here.
  app.add_option("--url", url,
                 db ? "Database URL (default: the app's database)"
                    : "Database URL (default: $DATABASE_URL)");
  std::string bind;
  app.add_option("--bind", bind,
                 "With several databases (binds): the one to work on, `default` or a bind's "
                 "name (default: each in turn, for the commands that take no revision)");

  std::string message, revision_arg = "head", range;
  std::vector<std::string> renames, revisions;
  bool sql = false, check_only = false, autogenerate = false, verbose = false,
       indicate_current = false, fake = false;

  auto* init = app.add_subcommand("init", "Create the migrations folder");

  // The autogenerate options, shared by `migrate` and Django's `makemigrations`.
  auto autogenerate_options = [&](CLI::App* cmd) {
    cmd->add_option("-m,--message", message, "Message of the new migration");
    cmd->add_flag("--check", check_only, "Write nothing; fail when models and migrations differ");
    cmd->add_option("--rename", renames,
                    "Confirm a rename: TABLE.OLD:NEW (a column) or OLD:NEW (a table)");
    cmd->add_flag("--allow-destructive", config.allow_destructive,
                  "Let unconfirmed probable renames become drop + add (loses data)");
  };
  auto* migrate_cmd = app.add_subcommand(
      "migrate",
      "Write a migration from the models; with TARGET, move the database to TARGET as "
      "Django's `migrate TARGET|zero` does");
  autogenerate_options(migrate_cmd);
  std::string target;
  migrate_cmd->add_option("target", target, "Django: revision to move to (zero = base)");
  migrate_cmd->add_flag("--fake", fake, "Django: record TARGET as applied without running it");

  // Django's makemigrations writes a migration and never touches the database: a TARGET or
  // --fake (which belong to `migrate`) is taken only to be refused by name.
  auto* makemigrations = app.add_subcommand(
      "makemigrations", "Django: write a migration from the models, as `migrate -m` does");
  autogenerate_options(makemigrations);
  bool empty = false, merge_heads = false;
  makemigrations->add_flag("--empty", empty,
                           "Write an empty migration to fill by hand, as `revision`");
  makemigrations->add_flag("--merge", merge_heads,
                           "Write a migration joining the heads, as `merge heads`");
  makemigrations->add_option("target", target)->group("");
  makemigrations->add_flag("--fake", fake)->group("");

  auto* revision = app.add_subcommand("revision", "Write a new, empty migration to fill by hand");
  revision->add_option("-m,--message", message, "Message")->required();
  revision->add_flag("--autogenerate", autogenerate, "Fill it from the models, as `migrate` does");

  auto* upgrade = app.add_subcommand("upgrade", "Apply migrations up to REV (default: head)");
  upgrade->add_option("revision", revision_arg, "Target: id, prefix, head, heads, +N; with --sql, FROM:TO");
  upgrade->add_flag("--sql", sql, "Print the SQL instead of running it (offline)");

  std::string down_arg = "-1";
  auto* downgrade = app.add_subcommand("downgrade", "Revert migrations down to REV (default: -1)");
  downgrade->add_option("revision", down_arg, "Target: id, prefix, base, -N; with --sql, FROM:TO");
  downgrade->add_flag("--sql", sql, "Print the SQL instead of running it (offline)");

  std::string redo_arg = "-1";
  auto* redo = app.add_subcommand(
      "redo", "Revert migrations down to REV (default: -1), then apply them again");
  redo->add_option("revision", redo_arg, "Target of the downgrade: id, prefix, base, -N");

  auto* stamp = app.add_subcommand("stamp", "Record REV as the database's revision without running anything");
  std::vector<std::string> stamp_targets;
  stamp->add_option("revisions", stamp_targets,
                    "Target: one revision, or several where the database has several heads")
      ->required();
  stamp->add_flag("--sql", sql, "Print the SQL instead of running it");

  auto* sqlmigrate = app.add_subcommand("sqlmigrate", "Django: print the SQL of one migration");
  sqlmigrate->add_option("revision", revision_arg, "The migration")->required();

  auto* history = app.add_subcommand("history", "List the migrations, newest first");
  history->add_option("-r,--rev-range", range, "Range LOWER:UPPER");
  history->add_flag("-v,--verbose", verbose, "Details of each");
  history->add_flag("-i,--indicate-current", indicate_current, "Mark the database's revision");

  auto* showmigrations = app.add_subcommand("showmigrations", "Django: every migration, [X] applied / [ ] pending");
  auto* current = app.add_subcommand("current", "The database's revision");
  current->add_flag("-v,--verbose", verbose, "Details");
  auto* heads = app.add_subcommand("heads", "The latest revisions");
  heads->add_flag("-v,--verbose", verbose, "Details");
  auto* branches = app.add_subcommand("branches", "Revisions where the history forks");
  branches->add_flag("-v,--verbose", verbose, "Details");
  auto* show = app.add_subcommand("show", "One migration: identity and operations");
  show->add_option("revision", revision_arg, "The migration")->required();
  auto* merge = app.add_subcommand("merge", "Join several heads in one revision");
  merge->add_option("revisions", revisions, "Revisions to merge (e.g. heads)")->required();
  merge->add_option("-m,--message", message, "Message")->capture_default_str();
  auto* squash = app.add_subcommand(
      "squash", "Write one migration in place of a chain of them (FROM defaults to its start)");
  std::vector<std::string> squash_revisions;
  squash->add_option("revisions", squash_revisions, "[FROM] TO: the oldest and newest to squash")
      ->required()
      ->expected(1, 2);
  squash->add_option("-m,--message", message, "Message of the squashed migration");
  auto* check = app.add_subcommand("check", "Fail when models, migrations and database differ");
  auto* lint = app.add_subcommand(
      "lint",
      "Fail on migrations that lose data, may fail on existing rows, rebuild or rewrite a table, "
      "build or drop an index without CONCURRENTLY, or cannot be undone");
  bool pending = false;
  auto* lint_range = lint->add_option(
      "-r,--rev-range", range, "Range LOWER:UPPER, or one revision (default: every migration)");
  lint->add_flag("--pending", pending, "Only the migrations the database has not applied")
      ->excludes(lint_range);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);  // the help on standard output, exit 0
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << usage_message(app, e) << std::endl;
    return 2;
  }

  config.callbacks = callbacks;
  config.terminal = ::isatty(STDOUT_FILENO) != 0;
  // Asked only by the commands that write a migration from the models, and not when
  // --allow-destructive already said what a probable rename is (a drop and an add): `db check`
  // and `migrate --check` write nothing, and fail on a probable rename as on any difference.
  const bool writes_from_models =
      (migrate_cmd->parsed() && target.empty()) || makemigrations->parsed() ||
      (revision->parsed() && autogenerate);
  if (::isatty(STDIN_FILENO) && writes_from_models && !check_only && !config.allow_destructive)
    config.confirm_rename = ask_rename;

  try {
    if (makemigrations->parsed() && (!target.empty() || fake))
      throw UsageError(std::string("makemigrations writes a migration and never touches the "
                                   "database; ") +
                       (target.empty() ? "to record a revision as applied, use `db stamp REV`"
                                       : "to move the database to " + target + ", use `db migrate " +
                                             target + "`"));
    if (empty && merge_heads) throw UsageError("--empty and --merge do not go together");
    if ((empty || merge_heads) && (check_only || !renames.empty() || config.allow_destructive))
      throw UsageError(std::string(empty ? "--empty" : "--merge") +
                       " writes no autogenerated migration; --check, --rename and "
                       "--allow-destructive do not go with it");
    if (migrate_cmd->parsed() && !target.empty() &&
        (!message.empty() || check_only || !renames.empty() || config.allow_destructive))
      throw UsageError("db migrate " + target +
                       " moves the database; -m, --check, --rename and --allow-destructive "
                       "belong to writing a migration (`db migrate -m MSG`) and do not go with "
                       "a TARGET");
    if (migrate_cmd->parsed() && target.empty() && fake)
      throw UsageError("--fake records a TARGET as applied: `db migrate TARGET --fake` (or "
                       "`db stamp REV`)");
    for (const auto& r : renames) add_rename(config, r);
    auto targets = databases(config, db, directory, url, bind);
    // Commands about one revision of one chain need one database.
    const bool one_revision =
        (migrate_cmd->parsed() && !target.empty()) || revision->parsed() || empty || merge_heads ||
        (upgrade->parsed() && revision_arg != "head") || downgrade->parsed() || redo->parsed() ||
        stamp->parsed() ||
        sqlmigrate->parsed() || show->parsed() || merge->parsed() || squash->parsed();
    if (one_revision && targets.size() > 1) {
      std::string names;
      for (const auto& t : targets) names += (names.empty() ? "" : ", ") + t.name;
      throw UsageError("this app has several databases (" + names +
                       "); say which this command is for with --bind NAME");
    }
    for (const auto& t : targets) {
      if (targets.size() > 1) std::cout << "[" << t.name << "]" << std::endl;
      const migrate::Config& c = t.config;
      if (init->parsed()) {
        migrate::init(c);
      } else if (empty) {
        migrate::revision(c, message.empty() ? "empty" : message, false);
      } else if (merge_heads) {
        migrate::merge_heads(c, message.empty() ? "merge heads" : message);
      } else if (migrate_cmd->parsed() || makemigrations->parsed()) {
        if (!target.empty()) {
          migrate::migrate_to(c, target, false, fake);
        } else {
          if (message.empty() && !check_only) message = "autogenerated";
          migrate::revision(c, message, true, check_only);
        }
      } else if (revision->parsed()) {
        migrate::revision(c, message, autogenerate);
      } else if (upgrade->parsed()) {
        auto colon = revision_arg.find(':');
        if (sql && colon != std::string::npos)
          migrate::upgrade(c, revision_arg.substr(colon + 1), true, revision_arg.substr(0, colon));
        else
          migrate::upgrade(c, revision_arg, sql);
      } else if (downgrade->parsed()) {
        auto colon = down_arg.find(':');
        if (sql && colon != std::string::npos)
          migrate::downgrade(c, down_arg.substr(colon + 1), true, down_arg.substr(0, colon));
        else
          migrate::downgrade(c, down_arg, sql);
      } else if (redo->parsed()) {
        migrate::redo(c, redo_arg);
      } else if (stamp->parsed()) {
        migrate::stamp(c, stamp_targets, sql);
      } else if (sqlmigrate->parsed()) {
        migrate::refuse_relative_to_database(revision_arg, "sqlmigrate");
        auto dir = migrate::ScriptDirectory::load(c.directory);
        auto id = dir.resolve_one(revision_arg, {});
        const auto& parents = dir.graph().find(id)->down_revisions;
        std::string from = parents.empty() ? "base" : parents.front();
        if (parents.size() > 1)
          throw migrate::CommandError("sqlmigrate of a merge: use `db upgrade --sql FROM:TO`");
        migrate::upgrade(c, id, true, from == "base" ? std::string() : from);
      } else if (history->parsed()) {
        migrate::history(c, range, verbose, indicate_current);
      } else if (showmigrations->parsed()) {
        migrate::showmigrations(c);
      } else if (current->parsed()) {
        migrate::current(c, verbose);
      } else if (heads->parsed()) {
        migrate::heads(c, verbose);
      } else if (branches->parsed()) {
        migrate::branches(c, verbose);
      } else if (show->parsed()) {
        migrate::show(c, revision_arg);
      } else if (merge->parsed()) {
        migrate::merge(c, revisions, message.empty() ? "merge heads" : message);
      } else if (squash->parsed()) {
        const bool both = squash_revisions.size() == 2;
        migrate::squash(c, both ? squash_revisions.front() : std::string(),
                        squash_revisions.back(), message);
      } else if (check->parsed()) {
        migrate::check(c);
      } else if (lint->parsed()) {
        migrate::lint(c, range, pending);
      }
    }
  } catch (const UsageError& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return 2;
  } catch (const Error& e) {
    std::cerr << "error: " << one_line(e.what()) << std::endl;
    return 1;
  } catch (const std::filesystem::filesystem_error& e) {
    // "filesystem error: cannot ...: <reason> [<path>]": the path stays in the line.
    std::string what = e.what();
    if (what.rfind("filesystem error: ", 0) == 0) what.erase(0, 18);
    std::cerr << "error: " << one_line(what) << std::endl;
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << one_line(e.what()) << std::endl;
    return 1;
  }
  // What went to standard output must have got there: `db upgrade --sql > deploy.sql` on a
  // full disk (or a closed pipe) would otherwise leave a script cut short and say nothing.
  std::cout.flush();
  if (!std::cout) {
    std::cerr << "error: cannot write to standard output: what this command printed is "
                 "incomplete" << std::endl;
    return 1;
  }
  return 0;
}

std::optional<int> dispatch_db(int argc, char** argv, Database& db,
                               const migrate::Callbacks& callbacks) {
  if (argc < 2 || std::string(argv[1]) != "db") return std::nullopt;
  std::string prog = std::string(argv[0]) + " db";
  std::vector<char*> args{prog.data()};
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  return run(static_cast<int>(args.size()), args.data(), &db, callbacks);
}

}  // namespace strata::cli
