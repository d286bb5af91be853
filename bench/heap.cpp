// Counting allocator for bench::heap (see heap.hpp): malloc and its family, replaced in this
// program and forwarding to glibc's own implementation (__libc_malloc and the rest, which glibc
// exports for this), so that every block counts whoever asks for it: operator new (libstdc++
// calls malloc), SQLite's default allocator, libpq's results. Blocks are sized with
// malloc_usable_size, so the figures include malloc's rounding but not its per-block header.
// The benchmark is single-threaded: the window's state is plain data.
//
// A sanitizer build keeps the sanitizer's malloc (BENCH_COUNT_HEAP is 0, set by
// bench/CMakeLists.txt): nothing is replaced and nothing is counted.
#include "heap.hpp"

#if BENCH_COUNT_HEAP

#include <malloc.h>

#include <cerrno>
#include <cstddef>
#include <functional>
#include <new>
#include <unordered_set>

// glibc's allocator under its own names.
extern "C" {
void* __libc_malloc(std::size_t n);
void __libc_free(void* p);
void* __libc_calloc(std::size_t count, std::size_t n);
void* __libc_realloc(void* p, std::size_t n);
void* __libc_memalign(std::size_t align, std::size_t n);
void* __libc_valloc(std::size_t n);
void* __libc_pvalloc(std::size_t n);
}

namespace bench::heap {
namespace {

// The blocks allocated in the open window, by address: their sizes are counted, and their
// frees; other frees are not. The set itself allocates with __libc_malloc, uncounted.
template <class T>
struct UncountedAllocator {
  using value_type = T;
  UncountedAllocator() = default;
  template <class U>
  UncountedAllocator(const UncountedAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    if (void* p = __libc_malloc(n * sizeof(T))) return static_cast<T*>(p);
    throw std::bad_alloc();
  }
  void deallocate(T* p, std::size_t) noexcept { __libc_free(p); }
  friend bool operator==(const UncountedAllocator&, const UncountedAllocator&) { return true; }
};

using BlockSet = std::unordered_set<void*, std::hash<void*>, std::equal_to<void*>,
                                    UncountedAllocator<void*>>;

bool g_open = false;  // a window is open
BlockSet* g_blocks = nullptr;
std::int64_t g_current = 0;  // bytes of the window's blocks held now
std::int64_t g_peak = 0;

void count_alloc(void* p) {
  if (!g_open || p == nullptr) return;
  if (!g_blocks->insert(p).second) return;
  g_current += static_cast<std::int64_t>(malloc_usable_size(p));
  if (g_current > g_peak) g_peak = g_current;
}

// Whether p was counted (allocated in the open window).
bool count_free(void* p) {
  if (!g_open || p == nullptr) return false;
  auto it = g_blocks->find(p);
  if (it == g_blocks->end()) return false;  // allocated before the window
  g_current -= static_cast<std::int64_t>(malloc_usable_size(p));
  g_blocks->erase(it);
  return true;
}

void* counted(void* p) {
  count_alloc(p);
  return p;
}

bool valid_alignment(std::size_t align) {  // a power of two, a multiple of sizeof(void*)
  return align >= sizeof(void*) && (align & (align - 1)) == 0;
}

}  // namespace

bool counting() { return true; }

Window::Window() {
  g_blocks = static_cast<BlockSet*>(__libc_malloc(sizeof(BlockSet)));
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
  __libc_free(g_blocks);
  g_blocks = nullptr;
}

std::int64_t Window::peak() const { return g_peak; }

}  // namespace bench::heap

// ---- malloc and its family, counted -------------------------------------------------------

extern "C" {

void* malloc(std::size_t n) noexcept { return bench::heap::counted(__libc_malloc(n)); }

void free(void* p) noexcept {
  bench::heap::count_free(p);
  __libc_free(p);
}

void* calloc(std::size_t count, std::size_t n) noexcept {
  return bench::heap::counted(__libc_calloc(count, n));
}

void* realloc(void* p, std::size_t n) noexcept {
  // A block that moves, or changes size, is counted again from its new size. When realloc
  // fails, p is still held, and is counted as it was.
  const bool was_counted = bench::heap::count_free(p);
  void* q = __libc_realloc(p, n);
  if (q != nullptr) return bench::heap::counted(q);
  if (was_counted && n != 0) bench::heap::count_alloc(p);
  return nullptr;
}

void* memalign(std::size_t align, std::size_t n) noexcept {
  return bench::heap::counted(__libc_memalign(align, n));
}

void* aligned_alloc(std::size_t align, std::size_t n) noexcept {
  return bench::heap::counted(__libc_memalign(align, n));
}

int posix_memalign(void** out, std::size_t align, std::size_t n) noexcept {
  if (!bench::heap::valid_alignment(align)) return EINVAL;
  void* p = __libc_memalign(align, n);
  if (p == nullptr) return ENOMEM;
  *out = bench::heap::counted(p);
  return 0;
}

void* valloc(std::size_t n) noexcept { return bench::heap::counted(__libc_valloc(n)); }

void* pvalloc(std::size_t n) noexcept { return bench::heap::counted(__libc_pvalloc(n)); }

}  // extern "C"

#else  // a sanitizer build: its malloc stays

namespace bench::heap {
bool counting() { return false; }
Window::Window() = default;
Window::~Window() = default;
std::int64_t Window::peak() const { return 0; }
}  // namespace bench::heap

#endif
