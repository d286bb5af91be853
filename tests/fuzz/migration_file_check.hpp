// The property the migration-file fuzzer checks, shared with the plain regression test
// (tests/unit/migrate/file_robustness_test.cpp) so that every input the fuzzer ever found can
// be replayed in an ordinary build: parse() either throws MigrationFileError with a
// "path:line: " message, or returns a Migration that render() writes and parse() reads back
// unchanged. Anything else (another exception, a crash, a sanitizer report) is a bug.
#pragma once

#include <exception>
#include <string>
#include <string_view>

#include "strata/migrate/errors.hpp"
#include "strata/migrate/file.hpp"

namespace strata::migrate::fuzzing {

// "" when parse() behaved on input, else what went wrong.
inline std::string check_migration_file(std::string_view input) {
  constexpr std::string_view path = "fuzz.yaml";
  Migration m;
  try {
    m = parse(input, path);
  } catch (const MigrationFileError& e) {
    const std::string prefix = std::string(path) + ":" + std::to_string(e.line()) + ": ";
    if (e.path() != path || e.line() < 1 ||
        std::string_view(e.what()).substr(0, prefix.size()) != prefix) {
      return "MigrationFileError without \"path:line: \" (line " + std::to_string(e.line()) +
             "): " + e.what();
    }
    return "";
  } catch (const std::exception& e) {
    return std::string("parse() threw something other than MigrationFileError: ") + e.what();
  } catch (...) {
    return "parse() threw something that is not a std::exception";
  }
  std::string text;
  try {
    text = render(m);
  } catch (const std::exception& e) {
    return std::string("render() refused a migration that parse() returned: ") + e.what();
  }
  try {
    const Migration back = parse(text, path);
    if (!(back == m)) return "parse(render(m)) != m for the file:\n" + text;
    if (render(back) != text) return "render() is not stable for the file:\n" + text;
  } catch (const std::exception& e) {
    return std::string("parse() refused render()'s output: ") + e.what() + "\n" + text;
  }
  return "";
}

}  // namespace strata::migrate::fuzzing
