// Counting allocators for bench::heap (see heap.hpp). Blocks are sized with
// malloc_usable_size, so the figures include malloc's rounding but not its per-block header.
#include "heap.hpp"

#include <malloc.h>
#include <sqlite3.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>

namespace bench::heap {
namespace {

std::atomic<std::int64_t> g_current{0};
std::atomic<std::int64_t> g_peak{0};

void count_alloc(void* p) {
  if (p == nullptr) return;
  const auto n = static_cast<std::int64_t>(malloc_usable_size(p));
  const auto now = g_current.fetch_add(n, std::memory_order_relaxed) + n;
  auto peak = g_peak.load(std::memory_order_relaxed);
  while (now > peak && !g_peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

void count_free(void* p) {
  if (p == nullptr) return;
  g_current.fetch_sub(static_cast<std::int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
}

void* counted_malloc(std::size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  count_alloc(p);
  return p;
}

void* counted_aligned(std::size_t n, std::size_t align) {
  void* p = nullptr;
  if (align < sizeof(void*)) align = sizeof(void*);
  if (posix_memalign(&p, align, n == 0 ? 1 : n) != 0) return nullptr;
  count_alloc(p);
  return p;
}

void counted_free(void* p) noexcept {
  count_free(p);
  std::free(p);
}

// SQLite's allocator (SQLITE_CONFIG_MALLOC): the same counter.
void* sq_malloc(int n) { return counted_malloc(static_cast<std::size_t>(n)); }
void sq_free(void* p) { counted_free(p); }
void* sq_realloc(void* p, int n) {
  count_free(p);
  void* q = std::realloc(p, static_cast<std::size_t>(n));
  if (q == nullptr) {
    count_alloc(p);  // realloc failed: p is still ours
    return nullptr;
  }
  count_alloc(q);
  return q;
}
int sq_size(void* p) { return static_cast<int>(malloc_usable_size(p)); }
int sq_roundup(int n) { return (n + 7) & ~7; }
int sq_init(void*) { return SQLITE_OK; }
void sq_shutdown(void*) {}

}  // namespace

void install() {
  static const sqlite3_mem_methods methods{sq_malloc, sq_free,  sq_realloc, sq_size,
                                           sq_roundup, sq_init, sq_shutdown, nullptr};
  if (sqlite3_config(SQLITE_CONFIG_MALLOC, &methods) != SQLITE_OK) {
    std::fprintf(stderr, "strata_bench: cannot install SQLite's allocator hooks "
                         "(SQLite was used before heap::install())\n");
    std::exit(2);
  }
}

std::int64_t current() { return g_current.load(std::memory_order_relaxed); }
std::int64_t peak() { return g_peak.load(std::memory_order_relaxed); }
void reset_peak() { g_peak.store(current(), std::memory_order_relaxed); }

}  // namespace bench::heap

// ---- the global operator new / delete, counted ----------------------------------------------

void* operator new(std::size_t n) {
  if (void* p = bench::heap::counted_malloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return bench::heap::counted_malloc(n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return bench::heap::counted_malloc(n);
}
void* operator new(std::size_t n, std::align_val_t a) {
  if (void* p = bench::heap::counted_aligned(n, static_cast<std::size_t>(a))) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return bench::heap::counted_aligned(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return bench::heap::counted_aligned(n, static_cast<std::size_t>(a));
}

void operator delete(void* p) noexcept { bench::heap::counted_free(p); }
void operator delete[](void* p) noexcept { bench::heap::counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { bench::heap::counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { bench::heap::counted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { bench::heap::counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { bench::heap::counted_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { bench::heap::counted_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { bench::heap::counted_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  bench::heap::counted_free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  bench::heap::counted_free(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  bench::heap::counted_free(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  bench::heap::counted_free(p);
}
