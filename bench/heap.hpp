// Heap accounting for the benchmark: the bytes a piece of work allocates through operator
// new / delete (C++ code: strata, the standard library, the raw side's structs) and through
// SQLite's allocator (page cache, statements), as malloc's usable size of each block, while a
// Window is open. Outside a window the hooks only forward to malloc and free, so timed runs
// carry no accounting cost. heap.cpp replaces the global operator new / delete and installs
// SQLite's allocator hooks; install() must run before SQLite is first used.
#pragma once

#include <cstdint>

namespace bench::heap {

void install();  // SQLite's allocator hooks (sqlite3_config); call first thing in main()

// Counts the blocks allocated from its construction until its destruction (one window at a
// time, on one thread). peak(): the most bytes of those blocks held at once; blocks that
// existed before the window are not counted, nor are their frees.
class Window {
 public:
  Window();
  Window(const Window&) = delete;
  Window& operator=(const Window&) = delete;
  ~Window();
  std::int64_t peak() const;
};

}  // namespace bench::heap
