// The `db` command group: `APP db COMMAND ...`, embedded in an application's main with one
// call, and the standalone `strata` tool for what needs no models.
//
//   int main(int argc, char** argv) try {
//     strata::Database db{strata::env("DATABASE_URL", "sqlite:///app.db")};
//     db.register_models<User, Post>();
//     if (auto rc = strata::cli::dispatch_db(argc, argv, db)) return *rc;  // APP db ...
//     ... the application ...
//   } catch (const strata::Error& e) {  // a bad URL, say: before dispatch_db could report it
//     std::cerr << "error: " << e.what() << '\n';
//     return 1;
//   }
#pragma once

#include <optional>
#include <string>

#include "strata/migrate/runtime.hpp"
#include "strata/orm/database.hpp"

namespace strata::cli {

// When argv[1] is "db", runs the command in argv[2...] with the app's models (from
// db.metadata()) and data-migration callbacks, and returns the exit code: 0 on success, 1 on
// an error (one line on stderr), 2 on a usage error. Otherwise returns nullopt.
std::optional<int> dispatch_db(int argc, char** argv, Database& db,
                               const migrate::Callbacks& callbacks = {});

// Runs a db command given its own argv (argv[0] is the program name as shown in --help).
// Without a Database, commands that need models (migrate, revision --autogenerate) say so;
// the URL comes from --url or DATABASE_URL.
int run(int argc, char** argv, Database* db, const migrate::Callbacks& callbacks = {});

}  // namespace strata::cli
