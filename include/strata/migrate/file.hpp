// Migration files: a declarative, dialect-neutral YAML document per migration, written and
// read through yaml-cpp. render() and parse() round-trip exactly (parse(render(m)) == m).
#pragma once

#include <string>
#include <string_view>

#include "strata/migrate/migration.hpp"

namespace strata::migrate {

// The file text for m: a header comment, the identity fields, then `upgrade:` and
// `downgrade:` lists with one operation per item. Destructive and risky operations are marked
// with a `# destructive: ...` / `# risky: ...` comment above them. Throws ArgumentError when a
// string is not valid UTF-8 (such a file could not be read back).
std::string render(const Migration& m);

// Reads a migration file. Throws MigrationFileError("path:line: what is wrong") for
// malformed YAML, an unknown operation or field, a missing required field, a bad type name.
Migration parse(std::string_view text, std::string_view path);

}  // namespace strata::migrate
