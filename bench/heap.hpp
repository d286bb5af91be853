// Heap accounting for the benchmark: the bytes a piece of work allocates through malloc and its
// family while a Window is open, whoever asks (operator new, SQLite, libpq), as malloc's usable
// size of each block. Outside a window the replaced functions only forward to glibc's, so
// timed runs carry no accounting cost beyond a call and a test. heap.cpp replaces malloc,
// free, calloc, realloc and the aligned allocations for the whole program; in a sanitizer build
// it replaces nothing and counts nothing (counting() is false).
#pragma once

#include <cstdint>

namespace bench::heap {

// Whether this build counts the heap.
bool counting();

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
