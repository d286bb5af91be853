// Renders a Value for people: echoed SQL, error messages and test output. Not SQL to execute
// (doubles print in their shortest round-trip form, which may not be a valid SQL literal).
#include "strata/sql/value.hpp"

#include <array>
#include <charconv>
#include <string_view>
#include <type_traits>

namespace strata {
namespace {

std::string display_double(double v) {
  std::array<char, 32> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  std::string out(buf.data(), ec == std::errc{} ? end : buf.data());
  // Keep a real recognisable as one: 1.0, not 1.
  if (out.find_first_of(".eEn") == std::string::npos) out += ".0";
  return out;
}

std::string display_text(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '\'';
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

std::string display_blob(const Blob& b) {
  static constexpr std::string_view digits = "0123456789abcdef";
  std::string out;
  out.reserve(b.size() * 2 + 3);
  out += "x'";
  for (std::byte byte : b) {
    const auto u = std::to_integer<unsigned>(byte);
    out += digits[u >> 4];
    out += digits[u & 0xF];
  }
  out += '\'';
  return out;
}

}  // namespace

std::string to_display(const Value& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Null>) {
          return "NULL";
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          return std::to_string(x);
        } else if constexpr (std::is_same_v<T, double>) {
          return display_double(x);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return display_text(x);
        } else {
          return display_blob(x);
        }
      },
      v);
}

}  // namespace strata
