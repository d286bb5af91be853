// How a SQLite table rebuild converts the values of a column whose type kind changes
// (rebuild_table_sql, sqlite_alter.cpp). SQLite's type affinity changes only text that reads
// as a number, so a plain copy would keep every other value in its old storage class and text
// form, which the new type's reader in src/orm then refuses (text in a BLOB column, a real
// number in an INTEGER one, '2024-02-29 13:00:00.000000' in a DATE one).
//
// Each conversion writes what strata itself writes for the new type (integers and booleans as
// integers, 0 or 1; floats as reals; blobs as BLOB; dates 'YYYY-MM-DD', times
// 'HH:MM:SS.ffffff' and date-times 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC, as text) and gives
// what PostgreSQL's USING cast gives (postgresql.hpp, type_change_using) where both can
// convert: a float rounds half to even into an integer, a boolean becomes 'true' or 'false' as
// text, a float the shortest text that reads back as the same number. A value that does not
// convert (text that is no number, a number beyond a SmallInteger's range, any value of a kind
// PostgreSQL has no cast for, such as Integer to Date) must fail the migration, as it does on
// PostgreSQL, rather than stay as a row no model can load: the conversion gives such a value
// in a storage class the new type never has, and a trigger on the new table refuses it.
#include <string>

#include "sqlite.hpp"

namespace strata::dialect::sqlite {
namespace {

using schema::TypeKind;

// The groups of kinds whose values are stored alike.
enum class Family { integer, real, boolean, text, blob, date, time, datetime };

Family family_of(TypeKind k) {
  switch (k) {
    case TypeKind::small_integer:
    case TypeKind::integer:
    case TypeKind::big_integer: return Family::integer;
    case TypeKind::float_: return Family::real;
    case TypeKind::boolean: return Family::boolean;
    case TypeKind::string:
    case TypeKind::text: return Family::text;
    case TypeKind::blob: return Family::blob;
    case TypeKind::date: return Family::date;
    case TypeKind::time: return Family::time;
    case TypeKind::datetime: return Family::datetime;
  }
  return Family::text;
}

// SQLite's typeof() of the values strata writes for a family.
std::string_view storage_of(Family f) {
  switch (f) {
    case Family::integer:
    case Family::boolean: return "integer";
    case Family::real: return "real";
    case Family::blob: return "blob";
    case Family::text:
    case Family::date:
    case Family::time:
    case Family::datetime: return "text";
  }
  return "text";
}

// The range an integer kind holds, as SQL bounds; empty for BigInteger, which holds every
// integer SQLite stores.
std::string range_check(TypeKind k, const std::string& value) {
  if (k == TypeKind::small_integer) return " AND " + value + " BETWEEN -32768 AND 32767";
  if (k == TypeKind::integer) return " AND " + value + " BETWEEN -2147483648 AND 2147483647";
  return {};
}

// The expressions below read the value through names of their own: `_v` is the column's
// value, `_t` text with the white space around it gone (as PostgreSQL's input functions
// ignore it). Each gives NULL for a value that does not convert.
constexpr std::string_view trimmed = "trim(_v, char(32, 9, 10, 11, 12, 13))";
constexpr std::string_view time_shape = "'[0-9][0-9]:[0-9][0-9]:[0-9][0-9]'";

// Splits the text that follows a time of day (from position `from` of _d) into _f, the
// digits of its fraction of a second, and _o, what follows them: the FROM clause of a query
// over _d, _f and _o.
std::string split_fraction(const std::string& text, int from) {
  const std::string r = "substr(_d, " + std::to_string(from) + ")";
  const std::string digits_after = "ltrim(substr(" + r + ", 2), '0123456789')";
  return " FROM (SELECT _d, CASE WHEN " + r + " GLOB '.[0-9]*' THEN " + digits_after +
         " ELSE " + r + " END AS _o, CASE WHEN " + r + " GLOB '.[0-9]*' THEN substr(" + r +
         ", 2, length(" + r + ") - 1 - length(" + digits_after + ")) ELSE '' END AS _f FROM "
         "(SELECT " + text + " AS _d))";
}

// An offset strata's reader takes and SQLite's date functions apply: none, Z or +HH:MM.
constexpr std::string_view offset_ok =
    "(_o = '' OR _o = 'Z' OR _o GLOB '[+-][0-9][0-9]:[0-9][0-9]')";

// strata's form of a date and time read from text as strata's reader reads it
// ('YYYY-MM-DD', or a date, ' ' or 'T', 'HH:MM:SS', a fraction and an offset), in UTC.
std::string datetime_of(const std::string& text) {
  return "(SELECT CASE WHEN length(_d) = 10 THEN CASE WHEN date(_d, '+0 days') = _d THEN _d || "
         "' 00:00:00.000000' END WHEN date(substr(_d, 1, 10), '+0 days') = substr(_d, 1, 10) "
         "AND substr(_d, 11, 1) IN (' ', 'T') AND substr(_d, 12, 8) GLOB " +
         std::string(time_shape) +
         " AND substr(_d, 12, 2) < '24' AND substr(_d, 15, 2) < '60' AND substr(_d, 18, 2) < "
         "'60' AND " + std::string(offset_ok) +
         " AND datetime(substr(_d, 1, 10) || ' ' || substr(_d, 12, 8) || _o) >= '0001' THEN "
         "datetime(substr(_d, 1, 10) || ' ' || substr(_d, 12, 8) || _o) || '.' || substr(_f || "
         "'000000', 1, 6) END" + split_fraction(text, 20) + ")";
}

// strata's form of a time of day read from text ('HH:MM:SS', a fraction and an offset), in
// UTC.
std::string time_of(const std::string& text) {
  return "(SELECT CASE WHEN substr(_d, 1, 8) GLOB " + std::string(time_shape) +
         " AND substr(_d, 1, 2) < '24' AND substr(_d, 4, 2) < '60' AND substr(_d, 7, 2) < '60' "
         "AND " + std::string(offset_ok) +
         " THEN time('2000-01-01 ' || substr(_d, 1, 8) || _o) || '.' || substr(_f || '000000', "
         "1, 6) END" + split_fraction(text, 9) + ")";
}

// PostgreSQL's text of a date-time or time value in strata's form: the fraction of a second
// without its trailing zeros, and without the point when nothing is left of it.
std::string postgresql_text(const std::string& value) {
  return "(SELECT CASE WHEN _c GLOB '*.000000' THEN substr(_c, 1, length(_c) - 7) ELSE "
         "rtrim(_c, '0') END FROM (SELECT " + value + " AS _c))";
}

// The shortest text that reads back as the same double (as PostgreSQL writes a float): 15
// significant digits when they are enough, else 16 or 17 (the "!" flag lifts SQLite's limit
// of 16, and adds a ".0" to whole numbers, taken off again).
std::string float_text() {
  auto digits = [](int n) {
    return std::string("printf('") + (n > 15 ? "%!." : "%.") + std::to_string(n) + "g', _v)";
  };
  auto exact = [](const std::string& s) { return "CAST(" + s + " AS REAL) = _v"; };
  const std::string seventeen =
      "(SELECT CASE WHEN _s GLOB '*.0' THEN substr(_s, 1, length(_s) - 2) ELSE _s END FROM "
      "(SELECT " + digits(17) + " AS _s))";
  return "CASE WHEN _v = 9e999 THEN 'Infinity' WHEN _v = -9e999 THEN '-Infinity' WHEN " +
         exact(digits(15)) + " THEN " + digits(15) + " WHEN " + exact(digits(16)) +
         " THEN (SELECT CASE WHEN _s GLOB '*.0' THEN substr(_s, 1, length(_s) - 2) ELSE _s END "
         "FROM (SELECT " + digits(16) + " AS _s)) ELSE " + seventeen + " END";
}

// The conversion of _v from `from` to `to`, NULL where it does not convert; empty when the
// kinds have no conversion (PostgreSQL has no cast between them either).
std::string conversion(const schema::Type& from, const schema::Type& to) {
  const Family f = family_of(from.kind);
  const std::string t(trimmed);
  const std::string is_integer = "typeof(_v) = 'integer'";
  const std::string is_number = "typeof(_v) IN ('integer', 'real')";
  switch (family_of(to.kind)) {
    case Family::integer: {
      if (f == Family::integer)
        return "CASE WHEN " + is_integer + range_check(to.kind, "_v") + " THEN _v END";
      if (f == Family::boolean) return "CASE WHEN " + is_integer + " THEN _v <> 0 END";
      if (f == Family::real) {
        // Half to even, as PostgreSQL's rint(): round() takes a tie away from zero, so a tie
        // whose truncation is even keeps the truncation.
        const std::string rounded =
            "CASE WHEN abs(_v - CAST(_v AS INTEGER)) = 0.5 AND CAST(_v AS INTEGER) % 2 = 0 THEN "
            "CAST(_v AS INTEGER) ELSE CAST(round(_v) AS INTEGER) END";
        return "CASE WHEN " + is_number +
               " AND _v >= -9223372036854775808.0 AND _v < 9223372036854775808.0" +
               range_check(to.kind, "(" + rounded + ")") + " THEN " + rounded + " END";
      }
      if (f == Family::text) {
        // An optional sign and digits only, as PostgreSQL reads an integer ('2.5' and '1e3'
        // are refused). A BigInteger takes the text, which the column's affinity makes an
        // integer, or a real when it is too large (and so refused).
        const std::string digits = "(" + t + " GLOB '[0-9]*' OR " + t +
                                   " GLOB '[+-][0-9]*') AND substr(" + t +
                                   ", 2) NOT GLOB '*[^0-9]*'";
        if (to.kind == TypeKind::big_integer) return "CASE WHEN " + digits + " THEN " + t + " END";
        const std::string value = "CAST(" + t + " AS INTEGER)";
        return "CASE WHEN " + digits + range_check(to.kind, value) + " THEN " + value + " END";
      }
      return {};
    }
    case Family::real:
      if (f == Family::integer) return "CASE WHEN " + is_integer + " THEN CAST(_v AS REAL) END";
      if (f == Family::boolean) return "CASE WHEN " + is_integer + " THEN CAST(_v <> 0 AS REAL) END";
      if (f == Family::text) {
        // The column's affinity makes a number of the text that reads as one; other text
        // stays text, and is refused.
        return "CASE WHEN lower(" + t + ") IN ('infinity', '+infinity', 'inf', '+inf') THEN "
               "9e999 WHEN lower(" + t + ") IN ('-infinity', '-inf') THEN -9e999 ELSE " + t + " END";
      }
      return {};
    case Family::boolean:
      if (f == Family::integer) return "CASE WHEN " + is_integer + " THEN _v <> 0 END";
      if (f == Family::real) return "CASE WHEN " + is_number + " THEN _v <> 0 END";
      if (f == Family::text) {
        // PostgreSQL's spellings of a boolean, in any case: a prefix of true, yes, false or
        // no; on, off; 1 or 0.
        return "CASE WHEN lower(" + t + ") IN ('t', 'tr', 'tru', 'true', 'y', 'ye', 'yes', "
               "'on', '1') THEN 1 WHEN lower(" + t + ") IN ('f', 'fa', 'fal', 'fals', 'false', "
               "'n', 'no', 'of', 'off', '0') THEN 0 END";
      }
      return {};
    case Family::text:
      switch (f) {
        case Family::integer: return "CASE WHEN " + is_integer + " THEN CAST(_v AS TEXT) END";
        case Family::real: return "CASE WHEN " + is_number + " THEN " + float_text() + " END";
        case Family::boolean:
          return "CASE WHEN " + is_integer + " THEN CASE WHEN _v <> 0 THEN 'true' ELSE 'false' "
                 "END END";
        // A blob column may hold the text a copy without conversion left there.
        case Family::blob: return "CASE WHEN typeof(_v) IN ('blob', 'text') THEN CAST(_v AS TEXT) END";
        case Family::date: return "substr(" + datetime_of("_v") + ", 1, 10)";
        case Family::time: return postgresql_text(time_of("_v"));
        case Family::datetime: return postgresql_text(datetime_of("_v"));
        case Family::text: return {};
      }
      return {};
    case Family::blob:
      if (f == Family::text)
        return "CASE WHEN typeof(_v) IN ('text', 'blob') THEN CAST(_v AS BLOB) END";
      return {};
    case Family::date:
      // The date as written, as PostgreSQL reads a date from text with a time and an offset.
      if (f == Family::text)
        return "CASE WHEN " + datetime_of(t) + " IS NOT NULL THEN substr(" + t + ", 1, 10) END";
      if (f == Family::datetime) return "substr(" + datetime_of("_v") + ", 1, 10)";
      return {};
    case Family::time:
      if (f == Family::text) return time_of(t);
      if (f == Family::datetime) return "substr(" + datetime_of("_v") + ", 12)";
      return {};
    case Family::datetime:
      if (f == Family::text) return datetime_of(t);
      if (f == Family::date) return datetime_of("_v");
      return {};
  }
  return {};
}

}  // namespace

std::optional<ColumnConversion> convert_column_sql(const SqliteDialect& d,
                                                   const std::string& column,
                                                   const schema::Type& from,
                                                   const schema::Type& to) {
  const Family f = family_of(from.kind), t = family_of(to.kind);
  // The same storage: a copy. So are integers into a kind that holds every one of them.
  if (f == t && (f != Family::integer || to.kind == TypeKind::big_integer ||
                 from.kind == TypeKind::small_integer || from.kind == to.kind))
    return std::nullopt;
  const std::string storage(storage_of(t));
  // A value that does not convert, in a storage class that `to` never has and that the
  // column's affinity leaves as it is.
  const std::string refused = t == Family::blob ? "''" : "x''";
  const std::string converted = conversion(from, to);
  ColumnConversion out;
  out.expression = "(SELECT CASE WHEN _v IS NULL THEN NULL ELSE " +
                   (converted.empty() ? refused : "coalesce(" + converted + ", " + refused + ")") +
                   " END FROM (SELECT " + d.quote(column) + " AS _v))";
  out.storage = storage;
  return out;
}

}  // namespace strata::dialect::sqlite
