// ISO 8601 text for Date, Time and DateTime: the fixed-width form strata writes, and the
// forms it accepts when reading.
#include "strata/orm/datetime.hpp"

#include <cstdio>

namespace strata {

using namespace std::chrono;

DateTime utc_now() { return floor<microseconds>(system_clock::now()); }

std::string to_iso(Date d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()),
                static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
  return buf;
}

std::string to_iso(Time t) {
  auto us = t.since_midnight.count();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld.%06lld", static_cast<long long>(us / 3600000000),
                static_cast<long long>(us / 60000000 % 60), static_cast<long long>(us / 1000000 % 60),
                static_cast<long long>(us % 1000000));
  return buf;
}

std::string to_iso(DateTime t) {
  auto day = floor<days>(t);
  return to_iso(Date{day}) + " " + to_iso(Time{t - day});
}

namespace {

// Reads exactly n digits at text[pos], advancing pos.
bool digits(std::string_view text, std::size_t& pos, int n, int& out) {
  if (pos + static_cast<std::size_t>(n) > text.size()) return false;
  out = 0;
  for (int i = 0; i < n; ++i) {
    char c = text[pos + static_cast<std::size_t>(i)];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += static_cast<std::size_t>(n);
  return true;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

std::optional<Date> read_date(std::string_view text, std::size_t& pos) {
  int y, m, d;
  if (!digits(text, pos, 4, y) || !expect(text, pos, '-') || !digits(text, pos, 2, m) ||
      !expect(text, pos, '-') || !digits(text, pos, 2, d))
    return std::nullopt;
  Date date{year{y}, month{static_cast<unsigned>(m)}, day{static_cast<unsigned>(d)}};
  if (!date.ok()) return std::nullopt;
  return date;
}

std::optional<Time> read_time(std::string_view text, std::size_t& pos) {
  int h, m, s;
  if (!digits(text, pos, 2, h) || !expect(text, pos, ':') || !digits(text, pos, 2, m) ||
      !expect(text, pos, ':') || !digits(text, pos, 2, s))
    return std::nullopt;
  if (h > 23 || m > 59 || s > 59) return std::nullopt;
  long long us = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int n = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (n < 6) us = us * 10 + (text[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0) return std::nullopt;
    for (; n < 6; ++n) us *= 10;
  }
  return Time{hours{h} + minutes{m} + seconds{s} + microseconds{us}};
}

bool read_utc_suffix(std::string_view text, std::size_t& pos) {
  auto rest = text.substr(pos);
  if (rest.empty()) return true;
  if (rest == "Z" || rest == "+00:00" || rest == "+0000") {
    pos = text.size();
    return true;
  }
  return false;
}

}  // namespace

std::optional<Date> parse_date(std::string_view text) {
  std::size_t pos = 0;
  auto d = read_date(text, pos);
  if (!d || pos != text.size()) return std::nullopt;
  return d;
}

std::optional<Time> parse_time(std::string_view text) {
  std::size_t pos = 0;
  auto t = read_time(text, pos);
  if (!t || !read_utc_suffix(text, pos)) return std::nullopt;
  return t;
}

std::optional<DateTime> parse_datetime(std::string_view text) {
  std::size_t pos = 0;
  auto d = read_date(text, pos);
  if (!d) return std::nullopt;
  if (pos == text.size()) return DateTime{sys_days{*d}};
  if (text[pos] != ' ' && text[pos] != 'T') return std::nullopt;
  ++pos;
  auto t = read_time(text, pos);
  if (!t || !read_utc_suffix(text, pos)) return std::nullopt;
  return DateTime{sys_days{*d}} + t->since_midnight;
}

}  // namespace strata
