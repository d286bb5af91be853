// Heap accounting for the benchmark: every byte the process holds through operator new /
// delete (C++ code: strata, the standard library, the raw side's structs) and through
// SQLite's allocator (page cache, statements) is counted in one counter, as malloc's usable
// size of each block. peak() is the highest value since reset_peak(). heap.cpp replaces the
// global operator new / delete and installs SQLite's allocator hooks; install() must run
// before SQLite is first used.
#pragma once

#include <cstdint>

namespace bench::heap {

void install();  // SQLite's allocator hooks (sqlite3_config); call first thing in main()
std::int64_t current();
std::int64_t peak();
void reset_peak();  // the peak becomes current()

}  // namespace bench::heap
