// How a session's snapshot keeps one column of an object: SnapshotCell, 16 bytes, with text
// and blobs too long for the cell in a SnapshotArena shared by the snapshots of a chunk of the
// session's state table (session_core.hpp). ColumnInfo::equal compares a member with a cell.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cmath>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "strata/sql/value.hpp"

namespace strata::detail {

// Storage for the text and blob bytes of snapshot cells too long to sit in the cell: blocks
// that never move, filled in turn. Bytes a cell lets go of stay until the state table copies
// the live ones into a fresh arena (StateTable::compact_snapshots, between transactions).
class SnapshotArena {
 public:
  // The arena of a chunk of snapshots of `width` cells each.
  explicit SnapshotArena(std::size_t width) noexcept : width_(width) {}
  SnapshotArena(SnapshotArena&&) noexcept = default;
  SnapshotArena& operator=(SnapshotArena&&) noexcept = default;
  SnapshotArena(const SnapshotArena&) = delete;
  SnapshotArena& operator=(const SnapshotArena&) = delete;

  // A copy of the bytes, valid until this arena is destroyed or replaced.
  const char* store(std::string_view bytes) {
    used_ += bytes.size();
    if (bytes.size() > left_) return store_in_new_block(bytes);
    char* p = next_;
    std::memcpy(p, bytes.data(), bytes.size());
    next_ += bytes.size();
    left_ -= bytes.size();
    return p;
  }
  // n stored bytes are no longer referred to (or, reclaim: referred to again).
  void release(std::size_t n) noexcept { garbage_ += n; }
  void reclaim(std::size_t n) noexcept { garbage_ -= n; }
  // Whether most of the stored bytes are garbage, and enough of them to be worth a copy.
  bool worth_compacting() const noexcept {
    return garbage_ >= 4096 && garbage_ * 2 >= used_;
  }
  std::size_t width() const noexcept { return width_; }
  std::size_t stored_bytes() const noexcept { return used_; }
  std::size_t garbage_bytes() const noexcept { return garbage_; }

 private:
  const char* store_in_new_block(std::string_view bytes);
  std::size_t width_;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* next_ = nullptr;
  std::size_t left_ = 0;       // free bytes after next_ in the current block
  std::size_t block_size_ = 0; // size of the last block filled in turn
  std::size_t used_ = 0;       // bytes stored
  std::size_t garbage_ = 0;    // stored bytes no cell refers to
};

// Whether a and b, n bytes each (n at least sizeof(W)), begin with the same sizeof(W) bytes and
// end with the same sizeof(W) bytes: all of their bytes when n is at most twice that.
template <class W>
bool same_ends(const char* a, const char* b, std::size_t n) noexcept {
  W a0, a1, b0, b1;
  std::memcpy(&a0, a, sizeof(W));
  std::memcpy(&b0, b, sizeof(W));
  std::memcpy(&a1, a + n - sizeof(W), sizeof(W));
  std::memcpy(&b1, b + n - sizeof(W), sizeof(W));
  return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

// Whether a[0, n) and b[0, n) hold the same bytes. Up to 16 bytes (most snapshot texts: names,
// codes, short e-mail addresses) without a call: two overlapping loads a side, where a libc
// memcmp call costs more than the comparison it makes (it was 40% of a query's check for
// changed users).
inline bool same_bytes(const char* a, const char* b, std::size_t n) noexcept {
  if (n > 16) return std::memcmp(a, b, n) == 0;
  if (n >= 8) return same_ends<std::uint64_t>(a, b, n);
  if (n >= 4) return same_ends<std::uint32_t>(a, b, n);
  for (std::size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

// One column of a snapshot in 16 bytes: NULL, an integer, a real, or text / blob bytes, up to
// 14 of them inside the cell and longer ones in the arena of the cell's chunk. Zeroed: NULL.
class SnapshotCell {
 public:
  static constexpr std::size_t inline_max = 14;

  ValueRef get() const noexcept {
    const unsigned tag = raw_[15];
    const auto kind = static_cast<ValueRef::Kind>(tag & 0x7f);
    switch (kind) {
      case ValueRef::Kind::integer: {
        std::int64_t i;
        std::memcpy(&i, raw_, sizeof i);
        return ValueRef::integer(i);
      }
      case ValueRef::Kind::real: {
        double d;
        std::memcpy(&d, raw_, sizeof d);
        return ValueRef::real(d);
      }
      case ValueRef::Kind::text:
      case ValueRef::Kind::blob:
        if (tag & arena_bit) return ValueRef::bytes(kind, arena_data(), arena_size());
        return ValueRef::bytes(kind, reinterpret_cast<const char*>(raw_), raw_[14]);
      case ValueRef::Kind::none: break;
    }
    return {};
  }
  // Whether the cell holds v (same kind, same content; reals as doubles, a NaN holding NaN).
  // Switches on v's kind, which is known where a member's snapshot form is (inlined
  // TypedColumn code), rather than on the cell's.
  bool holds(ValueRef v) const noexcept {
    const unsigned tag = raw_[15];
    switch (v.kind()) {  // (an unset cell's tag is no kind's)
      case ValueRef::Kind::integer: {  // numbers never have the arena bit
        if (tag != static_cast<unsigned>(ValueRef::Kind::integer)) return false;
        std::int64_t i;
        std::memcpy(&i, raw_, sizeof i);
        return i == v.as_integer();
      }
      case ValueRef::Kind::real: {
        if (tag != static_cast<unsigned>(ValueRef::Kind::real)) return false;
        double d;
        std::memcpy(&d, raw_, sizeof d);
        const double r = v.as_real();
        // -0.0 is a change from 0.0 (PostgreSQL keeps the sign); NaN is unchanged, not
        // changed at every flush
        return (d == r && std::signbit(d) == std::signbit(r)) || (d != d && r != r);
      }
      case ValueRef::Kind::text:
      case ValueRef::Kind::blob: {
        if ((tag & 0x7f) != static_cast<unsigned>(v.kind())) return false;
        const auto b = v.bytes();
        const char* data = reinterpret_cast<const char*>(raw_);
        std::size_t size = raw_[14];
        if (tag & arena_bit) {
          data = arena_data();
          size = arena_size();
        }
        return size == b.size() && same_bytes(data, b.data(), size);
      }
      case ValueRef::Kind::none: return tag == static_cast<unsigned>(ValueRef::Kind::none);
    }
    return false;
  }
  // A cell that holds nothing, not even NULL (a column not saved; see InstanceState).
  static SnapshotCell unset() noexcept {
    SnapshotCell c;
    c.raw_[15] = unset_tag;
    return c;
  }
  bool is_unset() const noexcept { return raw_[15] == unset_tag; }
  // How many of the arena's bytes this cell refers to.
  std::size_t arena_bytes() const noexcept { return (raw_[15] & arena_bit) ? arena_size() : 0; }

  // Holds v from now on (its bytes copied: into the cell, or into arena when too long).
  void assign(ValueRef v, SnapshotArena& arena) {
    unsigned char tag = static_cast<unsigned char>(v.kind());
    switch (v.kind()) {
      case ValueRef::Kind::integer: {
        const std::int64_t i = v.as_integer();
        std::memcpy(raw_, &i, sizeof i);
        break;
      }
      case ValueRef::Kind::real: {
        const double d = v.as_real();
        std::memcpy(raw_, &d, sizeof d);
        break;
      }
      case ValueRef::Kind::text:
      case ValueRef::Kind::blob: {
        const auto bytes = v.bytes();
        if (bytes.size() <= inline_max) {
          if (!bytes.empty())  // (an empty view may have no data at all)
            std::memmove(raw_, bytes.data(), bytes.size());  // v may be this cell's own bytes
          raw_[14] = static_cast<unsigned char>(bytes.size());
        } else {
          store_in(arena, bytes);
          tag |= arena_bit;
        }
        break;
      }
      case ValueRef::Kind::none: break;
    }
    raw_[15] = tag;
  }
  // Puts this cell's arena bytes, if any, into another arena.
  void move_bytes_to(SnapshotArena& arena) {
    if (raw_[15] & arena_bit) store_in(arena, std::string_view(arena_data(), arena_size()));
  }

 private:
  static constexpr unsigned char arena_bit = 0x80;
  static constexpr unsigned char unset_tag = 0x7f;
  const char* arena_data() const noexcept {
    const char* p;
    std::memcpy(&p, raw_, sizeof p);
    return p;
  }
  std::size_t arena_size() const noexcept {
    std::uint32_t n;
    std::memcpy(&n, raw_ + 8, sizeof n);
    return n;
  }
  void store_in(SnapshotArena& arena, std::string_view bytes);

  alignas(8) unsigned char raw_[16] = {};
};

}  // namespace strata::detail
