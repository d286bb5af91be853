// ISO 8601 text of Date, Time and DateTime: the fixed-width form strata stores (written with
// hand-made digits on the hot path), the snprintf form outside that range, and parsing back.
#include <gtest/gtest.h>

#include <chrono>

#include "strata/orm/datetime.hpp"

using namespace std::chrono;
using namespace std::chrono_literals;

TEST(DateTimeText, datetime_is_fixed_width_with_microseconds) {
  const strata::DateTime t = sys_days{2026y / 11 / 24} + 7h + 36min + 12s + 123us;
  EXPECT_EQ(strata::to_iso(t), "2026-11-24 07:36:12.000123");
  EXPECT_EQ(strata::to_iso(strata::DateTime{sys_days{1970y / 1 / 1}}),
            "1970-01-01 00:00:00.000000");
  EXPECT_EQ(strata::to_iso(strata::DateTime{sys_days{9999y / 12 / 31}} + 23h + 59min + 59s +
                           999999us),
            "9999-12-31 23:59:59.999999");
}

TEST(DateTimeText, buffer_form_writes_the_same_text_as_the_string_form) {
  const strata::DateTime t = sys_days{2024y / 2 / 29} + 13h + 14min + 15s + 123456us;
  char buf[strata::iso_max_chars];
  const auto n = strata::to_iso(t, buf);
  EXPECT_EQ(std::string(buf, n), strata::to_iso(t));
  EXPECT_EQ(std::string(buf, strata::to_iso(strata::Date{2024y / 2 / 29}, buf)), "2024-02-29");
  EXPECT_EQ(std::string(buf, strata::to_iso(strata::Time{5h + 6min + 7s + 8us}, buf)),
            "05:06:07.000008");
}

TEST(DateTimeText, values_outside_the_fixed_width_range_are_still_written) {
  EXPECT_EQ(strata::to_iso(strata::Date{year{12345} / 1 / 2}), "12345-01-02");
  EXPECT_EQ(strata::to_iso(strata::Time{microseconds{100LL * 3600 * 1000000}}),
            "100:00:00.000000");
}

TEST(DateTimeText, storable_values_are_exactly_those_whose_text_parses_back) {
  EXPECT_TRUE(strata::storable(strata::Date{2024y / 2 / 29}));
  EXPECT_TRUE(strata::storable(strata::Date{year{1} / 1 / 1}));
  EXPECT_FALSE(strata::storable(strata::Date{year{0} / 12 / 31}))
      << "year 0, which PostgreSQL refuses, is storable";
  EXPECT_TRUE(strata::storable(strata::Date{9999y / 12 / 31}));
  EXPECT_FALSE(strata::storable(strata::Date{}));
  EXPECT_FALSE(strata::storable(strata::Date{2023y / 2 / 29}));
  EXPECT_FALSE(strata::storable(strata::Date{year{10000} / 1 / 1}));
  EXPECT_FALSE(strata::storable(strata::Date{year{-1} / 12 / 31}));
  EXPECT_TRUE(strata::storable(strata::Time{23h + 59min + 59s + 999999us}));
  EXPECT_FALSE(strata::storable(strata::Time{24h}));
  EXPECT_FALSE(strata::storable(strata::Time{-1us}));
  EXPECT_TRUE(strata::storable(strata::DateTime{sys_days{9999y / 12 / 31}} + 86399999999us));
  EXPECT_FALSE(strata::storable(strata::DateTime{sys_days{year{10000} / 1 / 1}}));
  EXPECT_TRUE(strata::storable(strata::DateTime{sys_days{year{1} / 1 / 1}}));
  EXPECT_FALSE(strata::storable(strata::DateTime{sys_days{year{1} / 1 / 1}} - 1us));
  // Each storable value's text parses back; each other one's does not.
  for (const strata::Date d : {strata::Date{2024y / 2 / 29}, strata::Date{2023y / 2 / 29},
                               strata::Date{year{10000} / 1 / 1}, strata::Date{}})
    EXPECT_EQ(strata::parse_date(strata::to_iso(d)).has_value(), strata::storable(d))
        << strata::to_iso(d);
}

TEST(DateTimeText, written_text_parses_back_to_the_same_value) {
  const strata::DateTime t = sys_days{2001y / 9 / 9} + 1h + 46min + 40s + 654321us;
  auto back = strata::parse_datetime(strata::to_iso(t));
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(*back == t) << "round trip changed the value: " << strata::to_iso(*back);
}

TEST(DateTimeText, text_with_an_offset_from_utc_reads_as_utc) {
  // PostgreSQL writes a timestamptz (and a timetz) in the session's UTC as ...+00.
  const strata::DateTime ten = sys_days{2024y / 1 / 1} + 10h;
  for (const char* text : {"2024-01-01 10:00:00", "2024-01-01 10:00:00Z", "2024-01-01T10:00:00+00",
                           "2024-01-01 10:00:00+00:00", "2024-01-01 10:00:00+0000",
                           "2024-01-01 10:00:00-00", "2024-01-01 12:00:00+02",
                           "2024-01-01 11:30:00+01:30", "2024-01-01 05:15:00-0445"}) {
    auto t = strata::parse_datetime(text);
    ASSERT_TRUE(t.has_value()) << text;
    EXPECT_TRUE(*t == ten) << text << " read as " << strata::to_iso(*t);
  }
  auto across = strata::parse_datetime("2024-01-01 01:00:00+03");
  ASSERT_TRUE(across.has_value());
  EXPECT_EQ(strata::to_iso(*across), "2023-12-31 22:00:00.000000");
  auto t = strata::parse_time("01:00:00.5+03");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(strata::to_iso(*t), "22:00:00.500000");
  EXPECT_EQ(strata::to_iso(*strata::parse_time("23:00:00-02")), "01:00:00.000000");
  // Seconds may be left out, as SQLite's time functions and PostgreSQL allow: a server default
  // written '09:30' is stored so on SQLite.
  EXPECT_EQ(strata::to_iso(*strata::parse_time("09:30")), "09:30:00.000000");
  EXPECT_EQ(strata::to_iso(*strata::parse_time("09:30+01")), "08:30:00.000000");
  EXPECT_EQ(strata::to_iso(*strata::parse_datetime("2020-01-01 08:00")), "2020-01-01 08:00:00.000000");
  EXPECT_EQ(strata::to_iso(*strata::parse_datetime("2020-01-01T08:00Z")), "2020-01-01 08:00:00.000000");
  for (const char* bad : {"09:3", "09:30:", "09:30.5", "9:30", "09:60", "24:00"})
    EXPECT_FALSE(strata::parse_time(bad).has_value()) << bad;
  for (const char* bad : {"2024-01-01 10:00:00+", "2024-01-01 10:00:00+2", "2024-01-01 10:00:00+24",
                          "2024-01-01 10:00:00+02:60", "2024-01-01 10:00:00+02:", "2024-01-01 10:00:00Z0",
                          "2024-01-01 10:00:00 UTC", "2024-01-01 10:00:00+02:00:00",
                          "0001-01-01 00:30:00+01", "9999-12-31 23:30:00-01"})
    EXPECT_FALSE(strata::parse_datetime(bad).has_value()) << bad;
}

TEST(DateTimeText, datetime_digits_agree_with_the_calendar_of_std_chrono) {
  // The DateTime writer computes the civil date itself; every day of a few centuries (and
  // instants before 1970 and around leap days) must read as std::chrono's calendar says.
  auto expected = [](strata::DateTime t) {
    const auto day = floor<days>(t);
    return strata::to_iso(strata::Date{day}) + " " + strata::to_iso(strata::Time{t - day});
  };
  for (auto d = sys_days{1600y / 1 / 1}; d < sys_days{2401y / 1 / 1}; d += days{1}) {
    const strata::DateTime t = d + 23h + 59min + 58s + 987654us;
    ASSERT_EQ(strata::to_iso(t), expected(t)) << "day " << d.time_since_epoch().count();
  }
  for (strata::DateTime t : {strata::DateTime{sys_days{1969y / 12 / 31}} + 1us,
                             strata::DateTime{sys_days{1970y / 1 / 1}} - 1us,
                             strata::DateTime{sys_days{0y / 1 / 1}},
                             strata::DateTime{sys_days{2000y / 2 / 29}} + 12h})
    EXPECT_EQ(strata::to_iso(t), expected(t));
  EXPECT_EQ(strata::to_iso(strata::DateTime{sys_days{year{-1} / 12 / 31}}),
            expected(strata::DateTime{sys_days{year{-1} / 12 / 31}}))
      << "years before 0 take the snprintf path";
}
