// libFuzzer target for the migration-file parser: any input must either parse (and then
// survive render/parse unchanged) or fail with MigrationFileError. Built only with clang and
// -DSTRATA_FUZZ=ON (tests/fuzz/CMakeLists.txt); run, e.g.:
//   ./migration_file_fuzz -max_total_time=60 -max_len=4096 corpus/ seeds/
// Inputs it finds go into tests/unit/migrate/file_robustness_test.cpp to be replayed by ctest.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz/migration_file_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string bug = strata::migrate::fuzzing::check_migration_file(input);
  if (!bug.empty()) {
    std::fprintf(stderr, "migration_file_fuzz: %s\n", bug.c_str());
    std::abort();
  }
  return 0;
}
