// Calendar types for mapped fields: Date, Time and DateTime (UTC, microsecond precision),
// and their ISO 8601 text form, which is how SQLite stores them.
#pragma once

#include <chrono>
#include <compare>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace strata {

// A UTC instant with microsecond precision.
using DateTime = std::chrono::sys_time<std::chrono::microseconds>;
// A calendar day.
using Date = std::chrono::year_month_day;
// A time of day with microsecond precision.
struct Time {
  std::chrono::microseconds since_midnight{0};
  friend auto operator<=>(const Time&, const Time&) = default;
};

// Now, in UTC, truncated to microseconds.
DateTime utc_now();

// "2026-11-24 07:36:12.000123": fixed width, so text order is time order.
std::string to_iso(DateTime t);
std::string to_iso(Date d);    // "2026-11-24"
std::string to_iso(Time t);    // "07:36:12.000123"
// The same text written into out, which holds at least iso_max_chars; returns its length.
// For hot paths (binding, dirty checks) that need no std::string.
inline constexpr std::size_t iso_max_chars = 64;
std::size_t to_iso(DateTime t, char* out);
std::size_t to_iso(Date d, char* out);
std::size_t to_iso(Time t, char* out);

// Whether the value is one strata writes and reads back: a real calendar day in years 0001-9999
// (2023-02-30 and a default-constructed Date are not; nor is year 0, which PostgreSQL's
// calendar lacks, as Python's does), a DateTime in those years, a Time of day from 00:00 to
// before 24:00.
bool storable(Date d);
bool storable(DateTime t);
bool storable(Time t);

// Accept the forms above, 'T' for the separator, 0-6 fraction digits, and a trailing 'Z' or
// "+00:00". Anything else: nullopt.
std::optional<DateTime> parse_datetime(std::string_view text);
std::optional<Date> parse_date(std::string_view text);
std::optional<Time> parse_time(std::string_view text);

}  // namespace strata
