// A database value as it crosses the driver boundary: NULL, integer, real, text or blob.
// Used for bound parameters that are not bound straight from a mapped field, and for raw rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
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

// The value written for a human: NULL, 42, 1.5, 'text' (quotes doubled), x'0a0b'.
std::string to_display(const Value& v);

}  // namespace strata
