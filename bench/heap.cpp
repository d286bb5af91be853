// Counting allocators for bench::heap (see heap.hpp). Blocks are sized with
// malloc_usable_size, so the figures include malloc's rounding but not its per-block header.
// The benchmark is single-threaded: the window's state is plain data.
#include "heap.hpp"

#include <malloc.h>
#include <sqlite3.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <new>
#include <unordered_set>

namespace bench::heap {
namespace {

// The blocks allocated in the open window, by address: their sizes are counted, and their
// frees; other frees are not. The set allocates with malloc directly, not through the
// counted operator new.
template <class T>
struct MallocAllocator {
  using value_type = T;
  MallocAllocator() = default;
  template <class U>
  MallocAllocator(const MallocAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    if (void* p = std::malloc(n * sizeof(T))) return static_cast<T*>(p);
    throw std::bad_alloc();
  }
  void deallocate(T* p, std::size_t) noexcept { std::free(p); }
  friend bool operator==(const MallocAllocator&, const MallocAllocator&) { return true; }
};

using BlockSet =
    std::unordered_set<void*, std::hash<void*>, std::equal_to<void*>, MallocAllocator<void*>>;

bool g_open = false;        // a window is open
BlockSet* g_blocks = nullptr;
std::int64_t g_current = 0;  // bytes of the window's blocks held now
std::int64_t g_peak = 0;

void count_alloc(void* p) {
  if (!g_open || p == nullptr) return;
  if (!g_blocks->insert(p).second) return;
  g_current += static_cast<std::int64_t>(malloc_usable_size(p));
  if (g_current > g_peak) g_peak = g_current;
}

void count_free(void* p) {
  if (!g_open || p == nullptr) return;
  auto it = g_blocks->find(p);
  if (it == g_blocks->end()) return;  // allocated before the window
  g_current -= static_cast<std::int64_t>(malloc_usable_size(p));
  g_blocks->erase(it);
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

// SQLite's allocator (SQLITE_CONFIG_MALLOC): the same accounting.
void* sq_malloc(int n) { return counted_malloc(static_cast<std::size_t>(n)); }
void sq_free(void* p) { counted_free(p); }
void* sq_realloc(void* p, int n) {
  count_free(p);
  void* q = std::realloc(p, static_cast<std::size_t>(n));
  if (q == nullptr) {
    count_alloc(p);  // realloc failed: p is still held (counted from now on)
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

Window::Window() {
  g_blocks = static_cast<BlockSet*>(std::malloc(sizeof(BlockSet)));
  if (g_blocks == nullptr) throw std::bad_alloc();
  new (g_blocks) BlockSet();
  g_blocks->reserve(1 << 20);
  g_current = 0;
  g_peak = 0;
  g_open = true;
}

Window::~Window() {
  g_open = false;
  g_blocks->~BlockSet();
  std::free(g_blocks);
  g_blocks = nullptr;
}

std::int64_t Window::peak() const { return g_peak; }

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
