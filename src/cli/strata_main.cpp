// The standalone `strata` tool: the db commands that need no models (upgrade, downgrade,
// history, current, heads, show, stamp, --sql ...), on the URL from --url or DATABASE_URL.
#include "strata/cli/db_command.hpp"

int main(int argc, char** argv) { return strata::cli::run(argc, argv, nullptr); }
