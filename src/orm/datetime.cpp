// ISO 8601 text for Date, Time and DateTime: the fixed-width form strata writes, and the
// forms it accepts when reading.
#include "strata/orm/datetime.hpp"

#include <array>
#include <cstdio>
#include <cstring>

namespace strata {

using namespace std::chrono;

DateTime utc_now() { return floor<microseconds>(system_clock::now()); }

namespace {

// "00" "01" ... "99": two digits per lookup.
constexpr auto two_digits = [] {
  std::array<char, 200> t{};
  for (int i = 0; i < 100; ++i) {
    t[static_cast<std::size_t>(2 * i)] = static_cast<char>('0' + i / 10);
    t[static_cast<std::size_t>(2 * i + 1)] = static_cast<char>('0' + i % 10);
  }
  return t;
}();

char* put2(char* out, unsigned n) {  // n < 100
  std::memcpy(out, &two_digits[2 * n], 2);
  return out + 2;
}

// n as exactly `width` decimal digits (n < 10^width, n >= 0; width 2, 4 or 6).
char* put_digits(char* out, long long n, int width) {
  const auto u = static_cast<unsigned>(n);
  switch (width) {
    case 2: return put2(out, u);
    case 4: return put2(put2(out, u / 100), u % 100);
    case 6: return put2(put2(put2(out, u / 10000), u / 100 % 100), u % 100);
    default:
      for (int i = width - 1; i >= 0; --i) {
        out[i] = static_cast<char>('0' + n % 10);
        n /= 10;
      }
      return out + width;
  }
}

}  // namespace

// Hand-written digits rather than snprintf: these run for every date or time column bound,
// and for every dirty check of one (types.hpp compares the text form). Values outside the
// fixed-width range (years before 0 or after 9999, times of day past 99 hours or negative)
// take the snprintf path, which prints them the same way as before.
std::size_t to_iso(Date d, char* out) {
  const int y = static_cast<int>(d.year());
  const auto m = static_cast<unsigned>(d.month()), dd = static_cast<unsigned>(d.day());
  if (y < 0 || y > 9999 || m > 99 || dd > 99)
    return static_cast<std::size_t>(
        std::snprintf(out, iso_max_chars, "%04d-%02u-%02u", y, m, dd));
  char* p = put_digits(out, y, 4);
  *p++ = '-';
  p = put_digits(p, m, 2);
  *p++ = '-';
  p = put_digits(p, dd, 2);
  return static_cast<std::size_t>(p - out);
}

std::size_t to_iso(Time t, char* out) {
  const long long us = t.since_midnight.count();
  const long long h = us / 3600000000, m = us / 60000000 % 60, s = us / 1000000 % 60,
                  frac = us % 1000000;
  if (us < 0 || h > 99)
    return static_cast<std::size_t>(
        std::snprintf(out, iso_max_chars, "%02lld:%02lld:%02lld.%06lld", h, m, s, frac));
  char* p = put_digits(out, h, 2);
  *p++ = ':';
  p = put_digits(p, m, 2);
  *p++ = ':';
  p = put_digits(p, s, 2);
  *p++ = '.';
  p = put_digits(p, frac, 6);
  return static_cast<std::size_t>(p - out);
}

std::size_t to_iso(DateTime t, char* out) {
  // The civil date from the day number in plain integer arithmetic (H. Hinnant's
  // civil_from_days), as this runs for every dirty check of a DateTime column.
  const long long us = t.time_since_epoch().count();
  constexpr long long us_per_day = 86400000000LL;
  long long z = us / us_per_day;
  long long in_day = us % us_per_day;
  if (in_day < 0) {
    in_day += us_per_day;
    --z;
  }
  z += 719468;
  const long long era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const long long y = static_cast<long long>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
  if (y < 0 || y > 9999) {
    const auto day = floor<days>(t);
    std::size_t n = to_iso(Date{day}, out);
    out[n++] = ' ';
    return n + to_iso(Time{t - day}, out + n);
  }
  char* p = put_digits(out, y, 4);
  *p++ = '-';
  p = put2(p, m);
  *p++ = '-';
  p = put2(p, d);
  *p++ = ' ';
  const auto secs = static_cast<unsigned>(in_day / 1000000);
  p = put2(p, secs / 3600);
  *p++ = ':';
  p = put2(p, secs / 60 % 60);
  *p++ = ':';
  p = put2(p, secs % 60);
  *p++ = '.';
  p = put_digits(p, in_day % 1000000, 6);
  return static_cast<std::size_t>(p - out);
}

std::string to_iso(Date d) {
  char buf[iso_max_chars];
  return std::string(buf, to_iso(d, buf));
}

std::string to_iso(Time t) {
  char buf[iso_max_chars];
  return std::string(buf, to_iso(t, buf));
}

std::string to_iso(DateTime t) {
  char buf[iso_max_chars];
  return std::string(buf, to_iso(t, buf));
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
  // HH:MM[:SS[.ffffff]]: seconds may be left out, as SQLite's time functions and PostgreSQL
  // allow (a server default written '09:30' is stored so on SQLite).
  int h, m, s = 0;
  if (!digits(text, pos, 2, h) || !expect(text, pos, ':') || !digits(text, pos, 2, m))
    return std::nullopt;
  const bool with_seconds = pos < text.size() && text[pos] == ':';
  if (with_seconds && (!expect(text, pos, ':') || !digits(text, pos, 2, s))) return std::nullopt;
  if (h > 23 || m > 59 || s > 59) return std::nullopt;
  long long us = 0;
  if (with_seconds && pos < text.size() && text[pos] == '.') {
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

// What follows a time: nothing or Z (UTC), or an offset from UTC, +HH, +HH:MM or +HHMM (and
// -): PostgreSQL writes a timestamptz in the session's UTC as ...+00. The offset, in
// minutes east of UTC, goes to offset.
bool read_utc_offset(std::string_view text, std::size_t& pos, int& offset) {
  offset = 0;
  if (pos == text.size()) return true;
  if (text[pos] == 'Z') {
    ++pos;
    return pos == text.size();
  }
  if (text[pos] != '+' && text[pos] != '-') return false;
  const int sign = text[pos] == '-' ? -1 : 1;
  ++pos;
  int h = 0, m = 0;
  if (!digits(text, pos, 2, h)) return false;
  if (pos < text.size()) {
    if (text[pos] == ':') ++pos;
    if (!digits(text, pos, 2, m)) return false;
  }
  if (pos != text.size() || h > 23 || m > 59) return false;
  offset = sign * (h * 60 + m);
  return true;
}

}  // namespace

bool storable(Date d) {
  const int y = static_cast<int>(d.year());
  return d.ok() && y >= 1 && y <= 9999;
}

bool storable(DateTime t) {
  // Two comparisons: this runs for every DateTime written.
  static constexpr DateTime first{sys_days{year{1} / 1 / 1}};
  static constexpr DateTime past_last{sys_days{year{10000} / 1 / 1}};
  return t >= first && t < past_last;
}

bool storable(Time t) {
  const auto us = t.since_midnight.count();
  return us >= 0 && us < 86400000000LL;
}

std::optional<Date> parse_date(std::string_view text) {
  std::size_t pos = 0;
  auto d = read_date(text, pos);
  if (!d || pos != text.size()) return std::nullopt;
  return d;
}

std::optional<Time> parse_time(std::string_view text) {
  std::size_t pos = 0;
  auto t = read_time(text, pos);
  int offset = 0;
  if (!t || !read_utc_offset(text, pos, offset)) return std::nullopt;
  if (offset == 0) return t;
  // A time of day with an offset (PostgreSQL's timetz): the same time of day in UTC.
  constexpr long long day = 86400000000LL;
  long long us = (t->since_midnight - minutes{offset}).count() % day;
  if (us < 0) us += day;
  return Time{microseconds{us}};
}

std::optional<DateTime> parse_datetime(std::string_view text) {
  std::size_t pos = 0;
  auto d = read_date(text, pos);
  if (!d) return std::nullopt;
  if (pos == text.size()) return DateTime{sys_days{*d}};
  if (text[pos] != ' ' && text[pos] != 'T') return std::nullopt;
  ++pos;
  auto t = read_time(text, pos);
  int offset = 0;
  if (!t || !read_utc_offset(text, pos, offset)) return std::nullopt;
  const DateTime utc = DateTime{sys_days{*d}} + t->since_midnight - minutes{offset};
  // An offset may move the first or the last day's times out of the years strata stores.
  if (offset != 0 && !storable(utc)) return std::nullopt;
  return utc;
}

}  // namespace strata
