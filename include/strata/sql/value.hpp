// A database value as it crosses the driver boundary: NULL, integer, real, text or blob.
// Used for bound parameters that are not bound straight from a mapped field, and for raw rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace strata {

using Blob = std::vector<std::byte>;

struct Null {
  friend bool operator==(Null, Null) = default;
};
inline constexpr Null null{};

// Booleans travel as integers 0/1; dates and times as ISO 8601 text.
using Value = std::variant<Null, std::int64_t, double, std::string, Blob>;

inline bool is_null(const Value& v) noexcept { return std::holds_alternative<Null>(v); }

// A Value's content seen without owning it: what snapshots store and compare, so that a
// string member is compared and copied into a snapshot without building a std::string. Text
// and blob views point into whatever they were made from, which must outlive the view.
class ValueRef {
 public:
  enum class Kind : std::uint8_t { none, integer, real, text, blob };  // none: NULL

  constexpr ValueRef() noexcept = default;  // NULL
  ValueRef(const Value& v) noexcept {  // NOLINT(google-explicit-constructor): a view of v
    switch (v.index()) {
      case 1: *this = integer(*std::get_if<std::int64_t>(&v)); break;
      case 2: *this = real(*std::get_if<double>(&v)); break;
      case 3: *this = text(*std::get_if<std::string>(&v)); break;
      case 4: *this = blob(*std::get_if<Blob>(&v)); break;
      default: break;
    }
  }
  static constexpr ValueRef integer(std::int64_t v) noexcept {
    ValueRef r;
    r.kind_ = Kind::integer;
    r.i_ = v;
    return r;
  }
  static constexpr ValueRef real(double v) noexcept {
    ValueRef r;
    r.kind_ = Kind::real;
    r.d_ = v;
    return r;
  }
  static constexpr ValueRef text(std::string_view v) noexcept {
    return ValueRef(Kind::text, v.data(), v.size());
  }
  static ValueRef blob(std::span<const std::byte> v) noexcept {
    return ValueRef(Kind::blob, reinterpret_cast<const char*>(v.data()), v.size());
  }
  static constexpr ValueRef bytes(Kind k, const char* data, std::size_t size) noexcept {
    return ValueRef(k, data, size);
  }

  constexpr Kind kind() const noexcept { return kind_; }
  constexpr bool is_null() const noexcept { return kind_ == Kind::none; }
  constexpr bool holds_bytes() const noexcept { return kind_ == Kind::text || kind_ == Kind::blob; }
  constexpr std::int64_t as_integer() const noexcept { return i_; }
  constexpr double as_real() const noexcept { return d_; }
  // The bytes of a text or blob.
  constexpr std::string_view bytes() const noexcept { return {data_, size_}; }

  Value to_value() const {
    switch (kind_) {
      case Kind::integer: return i_;
      case Kind::real: return d_;
      case Kind::text: return std::string(data_, size_);
      case Kind::blob: {
        const auto* b = reinterpret_cast<const std::byte*>(data_);
        return Blob(b, b + size_);
      }
      case Kind::none: break;
    }
    return Null{};
  }

  // Same kind and same content (reals compared as doubles: NaN equals nothing).
  friend bool operator==(const ValueRef& a, const ValueRef& b) noexcept {
    if (a.kind_ != b.kind_) return false;
    switch (a.kind_) {
      case Kind::integer: return a.i_ == b.i_;
      case Kind::real: return a.d_ == b.d_;
      case Kind::text:
      case Kind::blob:
        return a.size_ == b.size_ && (a.size_ == 0 || std::memcmp(a.data_, b.data_, a.size_) == 0);
      case Kind::none: break;
    }
    return true;
  }

 private:
  constexpr ValueRef(Kind k, const char* data, std::size_t size) noexcept
      : kind_(k), data_(data), size_(size) {}
  Kind kind_ = Kind::none;
  union {
    std::int64_t i_ = 0;
    double d_;
  };
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

// The value written for a human: NULL, 42, 1.5, 'text' (quotes doubled), x'0a0b'.
std::string to_display(const Value& v);

}  // namespace strata
