// How a C++ field type maps to a column: strata::Type<T>. Built in for integers, floating
// point, bool, std::string, Blob, Date / Time / DateTime, enums, and std::optional of each.
// Users map their own types by specializing Type<T> on top of Convert<T, Stored>:
//
//   template <> struct strata::Type<Money> : strata::Convert<Money, std::int64_t> {
//     static std::int64_t to_db(const Money& m) { return m.cents; }
//     static Money from_db(std::int64_t cents) { return Money{cents}; }
//   };
//
// A specialization provides: kind, to_value, from_value, bind, read, equal (see Convert).
// Optionally, the form a session's snapshot (dirty check) keeps of a value:
//   static ValueRef snapshot_ref(const T&, Value& scratch)   a view of the value, in the
//       snapshot's form (built in scratch when it is not a view of the object), or
//   static Value to_snapshot(const T&) and static T from_snapshot(const Value&)
//       a form of its own, cheaper to compare than to_value's (see Date / Time / DateTime).
// Without either, a snapshot keeps to_value()'s form.
#pragma once

#include <array>
#include <concepts>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "strata/engine/connection.hpp"
#include "strata/error.hpp"
#include "strata/orm/datetime.hpp"
#include "strata/schema/table.hpp"
#include "strata/sql/value.hpp"

namespace strata {

template <class T>
struct Type;  // specialize to map a type; see the file comment

// Opt in to storing an enum by name (text) rather than by number:
//   template <> struct strata::EnumLabels<Color> {
//     static constexpr std::array values{std::pair{Color::red, std::string_view{"red"}}, ...};
//   };
template <class E>
struct EnumLabels;

namespace detail {

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
inline constexpr bool is_optional_v = is_optional<T>::value;

template <class T>
struct unwrap_optional {
  using type = T;
};
template <class T>
struct unwrap_optional<std::optional<T>> {
  using type = T;
};
// The field type without std::optional: what the column holds when not NULL.
template <class T>
using base_t = typename unwrap_optional<T>::type;

template <class T>
concept has_type_mapping = requires { Type<T>::kind; };

// char, wchar_t, char8_t, char16_t, char32_t: a character, which strata maps neither as a
// number nor as text (signed char / std::int8_t and unsigned char / std::uint8_t are numbers).
template <class T>
concept character = std::same_as<T, char> || std::same_as<T, wchar_t> ||
                    std::same_as<T, char8_t> || std::same_as<T, char16_t> ||
                    std::same_as<T, char32_t>;

template <class E>
concept labelled_enum = std::is_enum_v<E> && requires { EnumLabels<E>::values; };

// A value of the wrong storage class or range was read; the caller adds the column name.
[[noreturn]] void throw_value_error(std::string_view expected, const Value& got);
// A value that cannot be stored (text: how it reads): DataError; the caller adds the column.
[[noreturn]] void throw_unstorable(std::string_view text, std::string_view what);
// throw_value_error for column i of s, which is not stored as `expected` says.
[[noreturn]] void throw_storage_error(const engine::Statement& s, int i,
                                      std::string_view expected);
// Throws the same error as throw_value_error when column i of s is not stored as `want`.
inline void expect_storage(const engine::Statement& s, int i, engine::StorageClass want,
                           std::string_view expected) {
  if (s.storage_class(i) != want) [[unlikely]]
    throw_storage_error(s, i, expected);
}
[[noreturn]] void throw_range_error(std::string_view type_name, std::int64_t got);
[[noreturn]] void throw_real_range_error(std::string_view type_name, double got);
// An unsigned value above INT64_MAX, which no integer column holds: DataError.
[[noreturn]] void throw_unstorable_integer(std::uint64_t got);
std::string_view storage_name(const Value& v);

// Whether Type<B> keeps snapshots in a form of its own (to_snapshot / from_snapshot).
template <class B>
concept own_snapshot_form = requires(const B& b, const Value& v) {
  { Type<B>::to_snapshot(b) } -> std::convertible_to<Value>;
  { Type<B>::from_snapshot(v) } -> std::convertible_to<B>;
};

// v in its snapshot's form: Type<B>::snapshot_ref when the type has one, else to_snapshot's
// or to_value's form built in scratch.
template <class B>
ValueRef snapshot_of(const B& v, Value& scratch) {
  if constexpr (requires {
                  { Type<B>::snapshot_ref(v, scratch) } -> std::same_as<ValueRef>;
                }) {
    return Type<B>::snapshot_ref(v, scratch);
  } else if constexpr (own_snapshot_form<B>) {
    scratch = Type<B>::to_snapshot(v);
    return ValueRef(scratch);
  } else {
    scratch = Type<B>::to_value(v);
    return ValueRef(scratch);
  }
}

}  // namespace detail

// Base for user-defined mappings: T is stored as Stored, which must itself be mapped.
// The derived Type<T> supplies static Stored to_db(const T&) and static T from_db(Stored).
template <class T, class Stored>
struct Convert {
  static constexpr schema::TypeKind kind = Type<Stored>::kind;
  static Value to_value(const T& v) { return Type<Stored>::to_value(Type<T>::to_db(v)); }
  static T from_value(const Value& v) { return Type<T>::from_db(Type<Stored>::from_value(v)); }
  static void bind(engine::Statement& s, int i, const T& v) {
    Type<Stored>::bind(s, i, Type<T>::to_db(v));
  }
  static T read(const engine::Statement& s, int i) {
    return Type<T>::from_db(Type<Stored>::read(s, i));
  }
  static bool equal(const T& v, const Value& snapshot) {
    return Type<Stored>::equal(Type<T>::to_db(v), snapshot);
  }
  // What Stored cannot store, T cannot either (a column validates before bind()).
  static void validate(const T& v)
    requires requires(const Stored& stored) { Type<Stored>::validate(stored); }
  {
    Type<Stored>::validate(Type<T>::to_db(v));
  }
  // Stored's snapshot form, unless Stored has a form of its own (which would not be
  // to_value's form of T): then to_value's. Text is copied into scratch, since to_db's
  // result is gone when this returns.
  static ValueRef snapshot_ref(const T& v, Value& scratch) {
    if constexpr (detail::own_snapshot_form<Stored>) {
      // to_value's form without its check: the dirty check (and rollback()) of a value that
      // cannot be stored must work; the flush refuses the value, naming the column.
      const Stored stored = Type<T>::to_db(v);
      if constexpr (requires { Type<Stored>::unchecked_value(stored); })
        scratch = Type<Stored>::unchecked_value(stored);
      else
        scratch = Type<Stored>::to_value(stored);
      return ValueRef(scratch);
    } else {
      const Stored stored = Type<T>::to_db(v);
      const ValueRef r = detail::snapshot_of<Stored>(stored, scratch);
      if (!r.holds_bytes()) return r;
      Value owned = r.to_value();
      scratch = std::move(owned);
      return ValueRef(scratch);
    }
  }
};

// Integers travel as 64-bit signed numbers. The column is the narrowest SQL integer that
// holds every value of I: an unsigned type needs the next wider one (std::uint16_t: INTEGER,
// std::uint32_t: BIGINT). A std::uint64_t above INT64_MAX fits no column: writing one is a
// DataError, never a number wrapped to a negative one.
template <class I>
  requires(std::integral<I> && !std::same_as<I, bool> && !detail::character<I>)
struct Type<I> {
  static constexpr std::uintmax_t max_value = static_cast<std::uintmax_t>(std::numeric_limits<I>::max());
  static constexpr schema::TypeKind kind = max_value <= 0x7fff ? schema::TypeKind::small_integer
                                           : max_value <= 0x7fffffff ? schema::TypeKind::integer
                                                               : schema::TypeKind::big_integer;
  static Value to_value(I v) {
    validate(v);
    return static_cast<std::int64_t>(v);
  }
  static void validate(I v) {
    if constexpr (max_value > static_cast<std::uintmax_t>(std::numeric_limits<std::int64_t>::max())) {
      if (!std::in_range<std::int64_t>(v)) [[unlikely]]
        detail::throw_unstorable_integer(static_cast<std::uint64_t>(v));
    }
  }
  static I checked(std::int64_t v) {
    if constexpr (!std::same_as<I, std::int64_t>) {
      if (!std::in_range<I>(v)) detail::throw_range_error(kind_name(), v);
    }
    return static_cast<I>(v);
  }
  static I from_value(const Value& v) {
    if (auto* i = std::get_if<std::int64_t>(&v)) return checked(*i);
    detail::throw_value_error("an integer", v);
  }
  static void bind(engine::Statement& s, int i, I v) {  // validated by its column
    s.bind_int64(i, static_cast<std::int64_t>(v));
  }
  static I read(const engine::Statement& s, int i) {
    detail::expect_storage(s, i, engine::StorageClass::integer, "an integer");
    return checked(s.get_int64(i));
  }
  // read() from a value already fetched (Statement::get_ref), not NULL.
  static I from_ref(ValueRef r, const engine::Statement& s, int i) {
    if (r.kind() != ValueRef::Kind::integer) [[unlikely]]
      detail::throw_storage_error(s, i, "an integer");
    return checked(r.as_integer());
  }
  static bool equal(I v, const Value& snapshot) {
    auto* i = std::get_if<std::int64_t>(&snapshot);
    return i && *i == static_cast<std::int64_t>(v);
  }
  static ValueRef snapshot_ref(I v, Value&) noexcept {
    return ValueRef::integer(static_cast<std::int64_t>(v));
  }
  static constexpr std::string_view kind_name() {
    if constexpr (std::is_unsigned_v<I>) {
      return sizeof(I) == 1   ? "an unsigned 8-bit integer"
             : sizeof(I) == 2 ? "an unsigned 16-bit integer"
             : sizeof(I) == 4 ? "an unsigned 32-bit integer"
                              : "an unsigned 64-bit integer";
    } else {
      return sizeof(I) == 1   ? "an 8-bit integer"
             : sizeof(I) == 2 ? "a 16-bit integer"
             : sizeof(I) == 4 ? "a 32-bit integer"
                              : "a 64-bit integer";
    }
  }
};

template <std::floating_point F>
struct Type<F> {
  static constexpr schema::TypeKind kind = schema::TypeKind::float_;
  static Value to_value(F v) { return static_cast<double>(v); }
  static F from_value(const Value& v) {
    if (auto* d = std::get_if<double>(&v)) return narrowed(*d);
    if (auto* i = std::get_if<std::int64_t>(&v)) return static_cast<F>(*i);
    detail::throw_value_error("a number", v);
  }
  static void bind(engine::Statement& s, int i, F v) { s.bind_double(i, static_cast<double>(v)); }
  static F read(const engine::Statement& s, int i) {
    if (s.storage_class(i) != engine::StorageClass::integer)
      detail::expect_storage(s, i, engine::StorageClass::real, "a number");
    return narrowed(s.get_double(i));
  }
  // A finite double beyond a float's range is a DataError, as an integer out of its member's
  // range is, rather than the infinity the conversion gives.
  static F narrowed(double d) {
    if constexpr (sizeof(F) < sizeof(double)) {
      if (std::isfinite(d) && std::fabs(d) > static_cast<double>(std::numeric_limits<F>::max()))
          [[unlikely]]
        detail::throw_real_range_error("a 32-bit float", d);
    }
    return static_cast<F>(d);
  }
  static bool equal(F v, const Value& snapshot) {
    auto* d = std::get_if<double>(&snapshot);
    const double x = static_cast<double>(v);
    return d && ((*d == x && std::signbit(*d) == std::signbit(x)) || (*d != *d && x != x));
  }
  static ValueRef snapshot_ref(F v, Value&) noexcept {
    return ValueRef::real(static_cast<double>(v));
  }
};

template <>
struct Type<bool> {
  static constexpr schema::TypeKind kind = schema::TypeKind::boolean;
  static Value to_value(bool v) { return std::int64_t{v ? 1 : 0}; }
  static bool from_value(const Value& v) {
    if (auto* i = std::get_if<std::int64_t>(&v)) return *i != 0;
    detail::throw_value_error("a boolean", v);
  }
  static void bind(engine::Statement& s, int i, bool v) { s.bind_int64(i, v ? 1 : 0); }
  static bool read(const engine::Statement& s, int i) {
    detail::expect_storage(s, i, engine::StorageClass::integer, "a boolean");
    return s.get_int64(i) != 0;
  }
  static bool equal(bool v, const Value& snapshot) {
    auto* i = std::get_if<std::int64_t>(&snapshot);
    return i && (*i != 0) == v;
  }
  static ValueRef snapshot_ref(bool v, Value&) noexcept { return ValueRef::integer(v ? 1 : 0); }
};

template <>
struct Type<std::string> {
  static constexpr schema::TypeKind kind = schema::TypeKind::string;
  static Value to_value(const std::string& v) { return v; }
  static std::string from_value(const Value& v) {
    if (auto* s = std::get_if<std::string>(&v)) return *s;
    detail::throw_value_error("text", v);
  }
  static void bind(engine::Statement& s, int i, const std::string& v) { s.bind_text(i, v); }
  static std::string read(const engine::Statement& s, int i) {
    detail::expect_storage(s, i, engine::StorageClass::text, "text");
    return std::string(s.get_text(i));
  }
  static std::string from_ref(ValueRef r, const engine::Statement& s, int i) {
    if (r.kind() != ValueRef::Kind::text) [[unlikely]]
      detail::throw_storage_error(s, i, "text");
    return std::string(r.bytes());
  }
  static bool equal(const std::string& v, const Value& snapshot) {
    auto* s = std::get_if<std::string>(&snapshot);
    return s && *s == v;
  }
  static ValueRef snapshot_ref(const std::string& v, Value&) noexcept {
    return ValueRef::text(v);
  }
};

template <>
struct Type<Blob> {
  static constexpr schema::TypeKind kind = schema::TypeKind::blob;
  static Value to_value(const Blob& v) { return v; }
  static Blob from_value(const Value& v) {
    if (auto* b = std::get_if<Blob>(&v)) return *b;
    detail::throw_value_error("a blob", v);
  }
  static void bind(engine::Statement& s, int i, const Blob& v) { s.bind_blob(i, v); }
  static Blob read(const engine::Statement& s, int i) {
    detail::expect_storage(s, i, engine::StorageClass::blob, "a blob");
    auto b = s.get_blob(i);
    return Blob(b.begin(), b.end());
  }
  static bool equal(const Blob& v, const Value& snapshot) {
    auto* b = std::get_if<Blob>(&snapshot);
    return b && *b == v;
  }
  static ValueRef snapshot_ref(const Blob& v, Value&) noexcept { return ValueRef::blob(v); }
};

namespace detail {
// Date, Time and DateTime travel as ISO 8601 text.
template <class T, schema::TypeKind K, auto Parse, std::string_view (*Name)()>
struct IsoText {
  static constexpr schema::TypeKind kind = K;
  static Value to_value(const T& v) {
    validate(v);
    return to_iso(v);
  }
  // to_value() without validate(): a snapshot's form (Convert) of a value not yet refused.
  static Value unchecked_value(const T& v) { return to_iso(v); }
  // Only what reads back is written (SQLite would take any text, a date never to load again).
  static void validate(const T& v) {
    if (!storable(v)) [[unlikely]] {
      char buf[iso_max_chars];
      throw_unstorable(std::string_view(buf, to_iso(v, buf)), Name());
    }
  }
  static T parse(std::string_view text) {
    auto parsed = Parse(text);
    if (!parsed) detail::throw_value_error(Name(), Value{std::string(text)});
    return *parsed;
  }
  static T from_value(const Value& v) {
    if (auto* s = std::get_if<std::string>(&v)) return parse(*s);
    detail::throw_value_error(Name(), v);
  }
  static void bind(engine::Statement& s, int i, const T& v) {  // validated by its column
    char buf[iso_max_chars];
    s.bind_text(i, std::string_view(buf, to_iso(v, buf)));
  }
  static T read(const engine::Statement& s, int i) {
    detail::expect_storage(s, i, engine::StorageClass::text, Name());
    return parse(s.get_text(i));
  }
  static bool equal(const T& v, const Value& snapshot) {
    auto* s = std::get_if<std::string>(&snapshot);
    if (!s) return false;
    char buf[iso_max_chars];
    return std::string_view(*s) == std::string_view(buf, to_iso(v, buf));
  }
  // Snapshots (dirty checks) keep the count of days or microseconds: compared as a number,
  // without writing text, and no string to allocate.
  static Value to_snapshot(const T& v) { return static_cast<std::int64_t>(ticks(v)); }
  static T from_snapshot(const Value& v) {
    if (auto* i = std::get_if<std::int64_t>(&v)) return from_ticks(*i);
    return from_value(v);
  }
  static ValueRef snapshot_ref(const T& v, Value&) noexcept {
    return ValueRef::integer(static_cast<std::int64_t>(ticks(v)));
  }

 private:
  static auto ticks(const DateTime& v) { return v.time_since_epoch().count(); }
  static auto ticks(const Date& v) { return std::chrono::sys_days(v).time_since_epoch().count(); }
  static auto ticks(const Time& v) { return v.since_midnight.count(); }
  static T from_ticks(std::int64_t n) {
    if constexpr (std::is_same_v<T, DateTime>) return DateTime{std::chrono::microseconds{n}};
    else if constexpr (std::is_same_v<T, Date>) return Date{std::chrono::sys_days{std::chrono::days{n}}};
    else return Time{std::chrono::microseconds{n}};
  }
};
inline std::string_view datetime_name() { return "an ISO 8601 date and time"; }
inline std::string_view date_name() { return "an ISO 8601 date"; }
inline std::string_view time_name() { return "an ISO 8601 time"; }
}  // namespace detail

template <>
struct Type<DateTime> : detail::IsoText<DateTime, schema::TypeKind::datetime, &parse_datetime,
                                        &detail::datetime_name> {};
template <>
struct Type<Date>
    : detail::IsoText<Date, schema::TypeKind::date, &parse_date, &detail::date_name> {};
template <>
struct Type<Time>
    : detail::IsoText<Time, schema::TypeKind::time, &parse_time, &detail::time_name> {};

// Enums: by number, or by name when EnumLabels<E> is specialized.
template <class E>
  requires std::is_enum_v<E>
struct Type<E> {
  using U = std::underlying_type_t<E>;
  static constexpr bool labelled = detail::labelled_enum<E>;
  static constexpr schema::TypeKind kind = labelled ? schema::TypeKind::string : Type<U>::kind;

  // v's label, or null when EnumLabels lists none for it.
  static const std::string_view* find_label(E v) {
    for (const auto& [value, name] : EnumLabels<E>::values)
      if (value == v) return &name;
    return nullptr;
  }
  static std::string_view label(E v) {
    if (const auto* name = find_label(v)) return *name;
    detail::throw_range_error("a labelled enum value", static_cast<std::int64_t>(v));
  }
  static E from_label(std::string_view text) {
    for (const auto& [value, name] : EnumLabels<E>::values)
      if (name == text) return value;
    detail::throw_value_error("one of the enum's labels", Value{std::string(text)});
  }
  // A value without a label, or one its underlying type cannot store (a column validates
  // before bind(), so that the error names it).
  static void validate(E v) {
    if constexpr (labelled) (void)label(v);
    else if constexpr (requires(U u) { Type<U>::validate(u); }) Type<U>::validate(static_cast<U>(v));
  }
  static Value to_value(E v) {
    if constexpr (labelled) return std::string(label(v));
    else return Type<U>::to_value(static_cast<U>(v));
  }
  static E from_value(const Value& v) {
    if constexpr (labelled) {
      if (auto* s = std::get_if<std::string>(&v)) return from_label(*s);
      detail::throw_value_error("text", v);
    } else {
      return static_cast<E>(Type<U>::from_value(v));
    }
  }
  static void bind(engine::Statement& s, int i, E v) {
    if constexpr (labelled) s.bind_text(i, label(v));
    else Type<U>::bind(s, i, static_cast<U>(v));
  }
  static E read(const engine::Statement& s, int i) {
    if constexpr (labelled) {
      detail::expect_storage(s, i, engine::StorageClass::text, "text");
      return from_label(s.get_text(i));
    } else {
      return static_cast<E>(Type<U>::read(s, i));
    }
  }
  static bool equal(E v, const Value& snapshot) {
    if constexpr (labelled) {
      auto* s = std::get_if<std::string>(&snapshot);
      const auto* name = find_label(v);
      return s && name && *s == *name;
    } else {
      return Type<U>::equal(static_cast<U>(v), snapshot);
    }
  }
  static ValueRef snapshot_ref(E v, Value& scratch) {
    if constexpr (labelled) {
      // A value without a label (refused at flush) differs from every label.
      if (const auto* name = find_label(v)) return ValueRef::text(*name);  // static storage
      return ValueRef::integer(static_cast<std::int64_t>(v));
    }
    else return Type<U>::snapshot_ref(static_cast<U>(v), scratch);
  }
};

}  // namespace strata
