// Functions for queries: the aggregates count, count_distinct, sum, avg, min and max;
// coalesce; and the scalar functions lower, upper, length and abs. Each takes a column
// expression (col(&Post::votes), an alias's column, col(&A::x) + 1) or a member pointer.
//
// Their values, when selected (TupleQuery), read as:
//   count(), count(x), count_distinct(x)  std::int64_t
//   sum(x)   std::optional<std::int64_t> for integer x, std::optional<double> for floating x
//   avg(x)   std::optional<double>
//   min(x), max(x)  std::optional<X>, X being the column's type
// sum, avg, min and max are NULL (std::nullopt) over no rows; coalesce(sum(x), 0) reads as
// the plain type. sum of integers is an integer on every database (CAST to BIGINT where the
// database's is not: PostgreSQL's sum of a bigint is numeric); avg is read as a double on
// every database.
#pragma once

#include <cstdint>
#include <optional>
#include <type_traits>

#include "strata/orm/expression.hpp"

namespace strata {

namespace detail {
// What the scalar functions take: a member pointer or an expression. Other arguments leave
// them out of overload resolution, so abs(2.5) and length(text) elsewhere mean what they did.
template <class X>
concept column_or_expression = std::is_member_object_pointer_v<X> || expression<X>;

// col(&T::m) for a member pointer, the expression itself otherwise.
template <class X>
auto as_expression(const X& x) {
  if constexpr (std::is_member_object_pointer_v<X>) {
    return col(x);
  } else {
    static_assert(expression<X>,
                  "strata: an aggregate takes a column: col(&Model::member), &Model::member or "
                  "an alias's column");
    return x;
  }
}
template <class X>
using expression_t = decltype(as_expression(std::declval<const X&>()));
template <class X>
using models_of = typename expression_t<X>::models_type;
template <class X>
using value_of = typename expression_t<X>::value_type;

sql::ExprPtr aggregate(const char* name, const sql::ExprPtr& arg, bool distinct = false);

// min() / max() of x, holding R, by the type R is stored as (a Convert<T, Stored>'s Stored).
// A bool is compared as the integer it is stored as (0 / 1), PostgreSQL having no
// min(boolean), and the result is cast back to a boolean, for comparisons with other booleans.
template <class R, class X>
sql::ExprPtr extreme(const char* name, const X& x) {
  constexpr schema::TypeKind stored = Type<base_t<R>>::kind;
  static_assert(stored != schema::TypeKind::blob,
                "strata: min() and max() do not apply to Blob columns (PostgreSQL has no min "
                "or max of bytea)");
  auto arg = as_expression(x).node();
  if constexpr (stored == schema::TypeKind::boolean) {
    return sql::cast(aggregate(name, sql::cast(std::move(arg), "INTEGER")), "BOOLEAN");
  }
  return aggregate(name, arg);
}
// lower(x) / upper(x): text in, text out, NULL for NULL.
template <class X>
auto scalar_text_function(const char* name, const X& x) {
  static_assert(std::same_as<value_of<X>, std::string>,
                "strata: lower() and upper() apply to text");
  using E = expression_t<X>;
  return TypedExpression<models_of<X>, std::string, maybe_null_t<std::string, E>>(
      sql::function(name, {as_expression(x).node()}));
}
}  // namespace detail

// count(*): the number of rows.
inline TypedExpression<models<>, std::int64_t, std::int64_t> count() {
  return TypedExpression<models<>, std::int64_t, std::int64_t>(
      sql::function("count", {sql::raw("*")}));
}
// count(x): the number of rows where x is not NULL.
template <class X>
auto count(const X& x) {
  return TypedExpression<detail::models_of<X>, std::int64_t, std::int64_t>(
      detail::aggregate("count", detail::as_expression(x).node()));
}
// count(DISTINCT x)
template <class X>
auto count_distinct(const X& x) {
  return TypedExpression<detail::models_of<X>, std::int64_t, std::int64_t>(
      detail::aggregate("count", detail::as_expression(x).node(), true));
}

template <class X>
auto sum(const X& x) {
  using R = detail::value_of<X>;
  static_assert(detail::arithmetic<R>, "strata: sum() applies to numeric columns");
  if constexpr (std::is_integral_v<R>) {
    return TypedExpression<detail::models_of<X>, std::int64_t, std::optional<std::int64_t>>(
        sql::integer_sum(detail::as_expression(x).node()));
  } else {
    return TypedExpression<detail::models_of<X>, double, std::optional<double>>(
        detail::aggregate("sum", detail::as_expression(x).node()));
  }
}

template <class X>
auto avg(const X& x) {
  static_assert(detail::arithmetic<detail::value_of<X>>,
                "strata: avg() applies to numeric columns");
  return TypedExpression<detail::models_of<X>, double, std::optional<double>>(
      detail::aggregate("avg", detail::as_expression(x).node()));
}

template <class X>
auto min(const X& x) {
  using R = detail::value_of<X>;
  return TypedExpression<detail::models_of<X>, R, std::optional<R>>(
      detail::extreme<R>("min", x));
}

template <class X>
auto max(const X& x) {
  using R = detail::value_of<X>;
  return TypedExpression<detail::models_of<X>, R, std::optional<R>>(
      detail::extreme<R>("max", x));
}

// coalesce(e, fallback): e, or fallback where e is NULL; reads as the plain type, or as a
// double for an integer e with a floating-point fallback (5 or 2.5). An integer fallback
// beyond e's type is a DataError where a row reads it.
template <class S, class R, class V>
auto coalesce(const Expression<S, R>& e, const V& fallback) {
  static_assert(detail::comparable_value<R, V>,
                "strata: coalesce() fallback must have the expression's type");
  if constexpr (std::integral<R> && std::floating_point<std::remove_cvref_t<V>>) {
    return TypedExpression<S, double, double>(sql::function(
        "coalesce", {e.node(), sql::typed_param(static_cast<double>(fallback))}));
  } else {
    return TypedExpression<S, R, R>(
        sql::function("coalesce", {e.node(), detail::param_for<R>(fallback)}));
  }
}

// The scalar functions: one value per row, NULL where their argument is (then read as
// std::optional when selected).
//   lower(x), upper(x)  text; SQLite changes the case of ASCII letters only, PostgreSQL of
//                       every letter its database's locale knows
//   length(x)           the number of characters of a text, as std::int64_t
//   abs(x)              a number's absolute value, of its own type
template <class X>
  requires detail::column_or_expression<X>
auto lower(const X& x) {
  return detail::scalar_text_function("lower", x);
}
template <class X>
  requires detail::column_or_expression<X>
auto upper(const X& x) {
  return detail::scalar_text_function("upper", x);
}
template <class X>
  requires detail::column_or_expression<X>
auto length(const X& x) {
  static_assert(std::same_as<detail::value_of<X>, std::string>,
                "strata: length() applies to text");
  using E = detail::expression_t<X>;
  return TypedExpression<detail::models_of<X>, std::int64_t,
                         detail::maybe_null_t<std::int64_t, E>>(
      sql::function("length", {detail::as_expression(x).node()}));
}
template <class X>
  requires detail::column_or_expression<X>
auto abs(const X& x) {
  using R = detail::value_of<X>;
  static_assert(detail::arithmetic<R>, "strata: abs() applies to numbers");
  using E = detail::expression_t<X>;
  return TypedExpression<detail::models_of<X>, R, detail::maybe_null_t<R, E>>(
      sql::function("abs", {detail::as_expression(x).node()}));
}

}  // namespace strata
