// Memory for the objects a session makes from rows: blocks of a few KiB, cut in turn into the
// pieces std::allocate_shared asks for (an object with its reference counts), one block at a
// time per mapped type of a session. A load then costs no malloc and no free per object.
//
// A piece is not reused once its object is destroyed: the block goes back to the heap when
// the last object in it is destroyed (and the session has moved on to another block). An
// object kept long after the others loaded with it keeps its block, at most
// ObjectBlock::bytes, alive.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace strata::detail {

class ObjectBlock {
 public:
  static constexpr std::size_t bytes = 8192;  // a block, this header included
  // Objects up to this size come from blocks; larger ones are allocated one by one.
  static constexpr std::size_t max_object = 1024;

  ObjectBlock(const ObjectBlock&) = delete;
  ObjectBlock& operator=(const ObjectBlock&) = delete;

  // A new block, held by the caller until close().
  static ObjectBlock* open();
  // The caller lets go of the block: it goes back to the heap now if none of its pieces is in
  // use, else when the last of them is released.
  void close() noexcept;
  // Whether a piece the size of the last one taken still fits (a fresh block: yes).
  bool has_room() const noexcept { return left_ >= last_; }
  // n bytes aligned for `align`, from the block. Only while it is held, and only when
  // has_room() says a piece of this size fits (each block is cut into pieces of one size);
  // else throws std::bad_alloc.
  void* take(std::size_t n, std::size_t align);
  // A piece taken from this block is no longer in use. Any thread may call it.
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
  }

 private:
  // refs_ while the block is held: held_bias minus the pieces released; close() takes off
  // held_bias less the pieces taken, leaving the pieces still in use. Taking a piece (by the
  // holder only) is then no atomic operation; releasing one is.
  static constexpr std::int64_t held_bias = std::int64_t{1} << 62;
  ObjectBlock() noexcept;
  void destroy() noexcept;

  std::atomic<std::int64_t> refs_{held_bias};
  std::int64_t taken_ = 0;   // pieces taken
  unsigned char* next_;      // the free bytes: [next_, next_ + left_)
  std::size_t left_;
  std::size_t last_ = 0;     // the size of the last piece taken
};

// The block a session's objects of one mapped type come from now.
class ObjectBlocks {
 public:
  ObjectBlocks() noexcept = default;
  ObjectBlocks(ObjectBlocks&& o) noexcept : current_(o.current_) { o.current_ = nullptr; }
  ObjectBlocks& operator=(ObjectBlocks&& o) noexcept {
    if (this != &o) {
      if (current_) current_->close();
      current_ = o.current_;
      o.current_ = nullptr;
    }
    return *this;
  }
  ~ObjectBlocks() {
    if (current_) current_->close();
  }
  // A block with room for one more piece of the size taken before.
  ObjectBlock& next() {
    if (!current_ || !current_->has_room()) refill();
    return *current_;
  }

 private:
  void refill();
  ObjectBlock* current_ = nullptr;
};

// The allocator std::allocate_shared cuts an object and its reference counts out of a block
// with: the piece is released into the same block.
template <class T>
class BlockAllocator {
 public:
  using value_type = T;
  explicit BlockAllocator(ObjectBlock& block) noexcept : block_(&block) {}
  template <class U>
  BlockAllocator(const BlockAllocator<U>& o) noexcept : block_(o.block_) {}

  T* allocate(std::size_t n) {
    return static_cast<T*>(block_->take(n * sizeof(T), alignof(T)));
  }
  void deallocate(T*, std::size_t) noexcept { block_->release(); }

  friend bool operator==(const BlockAllocator& a, const BlockAllocator& b) noexcept {
    return a.block_ == b.block_;
  }

 private:
  template <class U>
  friend class BlockAllocator;
  ObjectBlock* block_;
};

}  // namespace strata::detail
