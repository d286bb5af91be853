// Typed query expressions: col(&User::name) == "john", desc(&User::name), set(&User::email, x).
// Each expression carries, in its type, the models it uses and the C++ type of its value, so
// comparing text with a number or filtering a Query<User> by a Post column does not compile.
// Underneath is the untyped sql::Expr tree; the templates only check and wrap.
#pragma once

#include <cmath>
#include <concepts>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "strata/orm/mapping.hpp"
#include "strata/sql/ast.hpp"

namespace strata {

// A set of models, as a type.
template <class... Ms>
struct models {};

namespace detail {

template <class S, class T>
struct contains;
template <class T, class... Ms>
struct contains<models<Ms...>, T> : std::bool_constant<(std::is_same_v<T, Ms> || ...)> {};

template <class A, class B>
struct union_of;
template <class... As>
struct union_of<models<As...>, models<>> {
  using type = models<As...>;
};
template <class... As, class B, class... Bs>
struct union_of<models<As...>, models<B, Bs...>> {
  using type = typename union_of<
      std::conditional_t<contains<models<As...>, B>::value, models<As...>, models<As..., B>>,
      models<Bs...>>::type;
};
template <class A, class B>
using union_t = typename union_of<A, B>::type;

// Whether every model of S is one of Allowed.
template <class S, class Allowed>
struct subset;
template <class... Ms, class Allowed>
struct subset<models<Ms...>, Allowed> : std::bool_constant<(contains<Allowed, Ms>::value && ...)> {
};

// A character ('5' is 53) is no number here, though C++ converts it to one (types.hpp).
template <class T>
concept arithmetic = (std::integral<T> || std::floating_point<T>) && !std::same_as<T, bool> &&
                     !character<T>;

// Text from v (a string, string_view or C string); a null C string is no text.
template <class V>
std::string text_of(const V& v) {
  if constexpr (std::is_pointer_v<std::decay_t<V>>) {
    if (v == nullptr)
      throw ArgumentError("a null C string compared with or assigned to a text column; compare "
                          "with NULL through .is_null(), or pass a string");
  }
  return std::string(std::string_view(v));
}

// Whether a value of type V may be compared with (or assigned to) a column holding B.
template <class B, class V>
concept comparable_value =
    std::same_as<B, std::remove_cvref_t<V>> ||
    (std::same_as<B, std::string> && std::convertible_to<const V&, std::string_view>) ||
    (arithmetic<B> && arithmetic<std::remove_cvref_t<V>>);

// Whether v, an integer, is beyond what a database integer holds (a uint64 above INT64_MAX):
// compared as a number of its own rather than stored, it is no error.
template <class V>
constexpr bool beyond_int64([[maybe_unused]] const V& v) {
  if constexpr (std::integral<V> && !std::same_as<V, bool>) return !std::in_range<std::int64_t>(v);
  else return false;
}

// A value compared with a column holding B. A number of another arithmetic type keeps its
// own value: converted to B, 5'000'000'000 would wrap as an int32 and 5.5 become 5; so does
// an integer beyond int64 (a uint64 column's own type too), as a double.
template <class B, class V>
Value to_param(const V& v) {
  using W = std::remove_cvref_t<V>;
  if constexpr (std::same_as<B, std::string>) {
    return text_of(v);
  } else if constexpr (arithmetic<B> && (!std::same_as<B, W> || std::integral<W>)) {
    if constexpr (std::floating_point<W>) return static_cast<double>(v);
    if (beyond_int64(v)) return static_cast<double>(v);
    if constexpr (std::same_as<B, W>) return Type<B>::to_value(v);
    else return static_cast<std::int64_t>(v);
  } else {
    return Type<B>::to_value(static_cast<B>(v));
  }
}

// The parameter for v compared with a column holding B. A number of another arithmetic type
// (or an integer beyond int64) is a typed parameter: where the database types parameters by
// their context it would otherwise narrow or reject it (PostgreSQL: integer < '5.5'); one
// compared with an integer column is compared exactly (ParamExpr::exact).
template <class B, class V>
sql::ExprPtr param_for(const V& v) {
  using W = std::remove_cvref_t<V>;
  if constexpr (arithmetic<B> && arithmetic<W>) {
    if (std::same_as<B, W> && !beyond_int64(v)) return sql::param(to_param<B>(v));
    Value p = to_param<B>(v);
    const bool exact = std::integral<B> && std::holds_alternative<double>(p);
    return sql::typed_param(std::move(p), exact);
  } else {
    return sql::param(to_param<B>(v));
  }
}

// A value assigned to a column holding B (set()): it must fit B, else DataError.
template <class B, class V>
Value to_assigned(const V& v) {
  using W = std::remove_cvref_t<V>;
  if constexpr (std::integral<B> && arithmetic<B> && arithmetic<W> && !std::same_as<B, W>) {
    bool fits;
    if constexpr (std::integral<W>) {
      fits = std::in_range<B>(v);
    } else {
      // B holds [min, 2^digits), both exact in floating point; NaN fails every comparison.
      const W upper = std::ldexp(W{1}, std::numeric_limits<B>::digits);
      fits = v >= static_cast<W>(std::numeric_limits<B>::min()) && v < upper && std::trunc(v) == v;
    }
    if (!fits)
      throw DataError("value " + to_display(to_param<B>(v)) + " does not fit " +
                          std::string(Type<B>::kind_name()),
                      {});
  }
  if constexpr (std::same_as<B, std::string>) return text_of(v);
  // A finite value beyond a float's range: DataError, as when loading (the conversion is
  // undefined, in practice an infinity).
  else if constexpr (std::floating_point<B> && arithmetic<W>)
    return Type<B>::to_value(Type<B>::narrowed(static_cast<double>(v)));
  else return Type<B>::to_value(static_cast<B>(v));
}

}  // namespace detail

// text for a LIKE pattern that matches it as it is: its %, _ and escape characters each
// preceded by `escape` (use the pattern with ... ESCAPE escape: like(p, escape)).
inline std::string escape_like(std::string_view text, char escape = '/') {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '%' || c == '_' || c == escape) out += escape;
    out += c;
  }
  return out;
}

// A one-column SELECT used as a subquery (in_(), exists()); see query.hpp.
template <class S, class Need, class C, class... R>
class TupleQuery;

// An expression over the models S with a value of C++ type R. Selected (TupleQuery), it
// reads as result_type: R, unless a derived expression says otherwise (a column of a
// std::optional member, an aggregate that is NULL over no rows). Any expression of text takes
// like() and its kin, and any takes is_null(), between() and in_(), as SQLAlchemy's do
// (lower(col(&User::email)).like("%@example.com"), (col(&Item::a) + 1).in_({2, 3})).
template <class S, class R>
class Expression {
 public:
  using models_type = S;
  using value_type = R;
  using result_type = R;
  explicit Expression(sql::ExprPtr node) : node_(std::move(node)) {}
  const sql::ExprPtr& node() const noexcept { return node_; }

 private:
  using B = R;  // the value type the methods below compare with

 public:
  Expression<S, bool> like(std::string_view pattern) const {
    static_assert(std::same_as<B, std::string>, "strata: like() applies to text columns");
    return match(sql::BinaryOp::like, pattern);
  }
  Expression<S, bool> not_like(std::string_view pattern) const {
    static_assert(std::same_as<B, std::string>, "strata: not_like() applies to text columns");
    return match(sql::BinaryOp::not_like, pattern);
  }
  // Case-insensitive LIKE (lower() on both sides where the database has no ILIKE).
  Expression<S, bool> ilike(std::string_view pattern) const {
    static_assert(std::same_as<B, std::string>, "strata: ilike() applies to text columns");
    return match(sql::BinaryOp::ilike, pattern);
  }
  // With an escape character (SQL's LIKE ... ESCAPE): like("50!%%", '!') matches text that
  // starts with "50%". The same on every database; without one, PostgreSQL takes a backslash
  // as the escape and SQLite has none.
  Expression<S, bool> like(std::string_view pattern, char escape) const {
    static_assert(std::same_as<B, std::string>, "strata: like() applies to text columns");
    return match(sql::BinaryOp::like, pattern, escape);
  }
  Expression<S, bool> not_like(std::string_view pattern, char escape) const {
    static_assert(std::same_as<B, std::string>, "strata: not_like() applies to text columns");
    return match(sql::BinaryOp::not_like, pattern, escape);
  }
  Expression<S, bool> ilike(std::string_view pattern, char escape) const {
    static_assert(std::same_as<B, std::string>, "strata: ilike() applies to text columns");
    return match(sql::BinaryOp::ilike, pattern, escape);
  }
  // SQLAlchemy's startswith / endswith / contains with autoescape: `text` matches as it is,
  // its % and _ too (a LIKE with escape_like(text) and ESCAPE '/'). Case as like() has it.
  Expression<S, bool> startswith(std::string_view text) const {
    static_assert(std::same_as<B, std::string>, "strata: startswith() applies to text columns");
    return match(sql::BinaryOp::like, escape_like(text) + "%", '/');
  }
  Expression<S, bool> endswith(std::string_view text) const {
    static_assert(std::same_as<B, std::string>, "strata: endswith() applies to text columns");
    return match(sql::BinaryOp::like, "%" + escape_like(text), '/');
  }
  Expression<S, bool> contains(std::string_view text) const {
    static_assert(std::same_as<B, std::string>, "strata: contains() applies to text columns");
    return match(sql::BinaryOp::like, "%" + escape_like(text) + "%", '/');
  }
  Expression<S, bool> is_null() const {
    return Expression<S, bool>(sql::unary(sql::UnaryOp::is_null, this->node()));
  }
  Expression<S, bool> is_not_null() const {
    return Expression<S, bool>(sql::unary(sql::UnaryOp::is_not_null, this->node()));
  }
  template <class V, class W>
  Expression<S, bool> between(const V& low, const W& high) const {
    static_assert(detail::comparable_value<B, V> && detail::comparable_value<B, W>,
                  "strata: between() bounds must have the column's type");
    return Expression<S, bool>(sql::between(this->node(), detail::param_for<B>(low),
                                            detail::param_for<B>(high)));
  }
  // IN (values...): any range of values comparable with the column. Empty: always false.
  template <class Range>
  Expression<S, bool> in_(const Range& values, bool negated = false) const {
    using V = std::remove_cvref_t<decltype(*std::begin(values))>;
    static_assert(detail::comparable_value<B, V>,
                  "strata: in_() values must have the column's type");
    std::vector<sql::ExprPtr> items;
    for (const auto& v : values) items.push_back(detail::param_for<B>(v));
    return Expression<S, bool>(sql::in(this->node(), std::move(items), negated));
  }
  template <class V>
  Expression<S, bool> in_(std::initializer_list<V> values) const {
    return in_<std::initializer_list<V>>(values);
  }
  // IN (SELECT ...): s.query<Post>().select(&Post::user_id), one column of the same type.
  // A subquery that correlates models (correlate<...>()) needs them in the outer query.
  template <class S2, class N2, class C2, class... R2>
  Expression<detail::union_t<S, C2>, bool> in_(const TupleQuery<S2, N2, C2, R2...>& sub,
                                               bool negated = false) const {
    static_assert(sizeof...(R2) == 1, "strata: in_(subquery) needs a subquery of one column");
    static_assert((... && (std::same_as<B, detail::base_t<R2>> ||
                           (detail::arithmetic<B> && detail::arithmetic<detail::base_t<R2>>))),
                  "strata: in_(subquery) needs a subquery column of the column's type");
    return Expression<detail::union_t<S, C2>, bool>(
        sql::in(this->node(), sub.subquery(), negated));
  }
  template <class Range>
  auto not_in(const Range& values) const {
    return in_(values, true);
  }
  template <class V>
  Expression<S, bool> not_in(std::initializer_list<V> values) const {
    return in_<std::initializer_list<V>>(values, true);
  }

 private:
  Expression<S, bool> match(sql::BinaryOp op, std::string_view pattern) const {
    return Expression<S, bool>(
        sql::binary(op, this->node(), sql::param(Value{std::string(pattern)})));
  }
  Expression<S, bool> match(sql::BinaryOp op, std::string_view pattern, char escape) const {
    return Expression<S, bool>(
        sql::like(op, this->node(), sql::param(Value{std::string(pattern)}), escape));
  }
  sql::ExprPtr node_;
};

// An expression whose selected value reads as Res rather than R (aggregates, nullable()).
template <class S, class R, class Res>
class TypedExpression : public Expression<S, R> {
 public:
  using result_type = Res;
  using Expression<S, R>::Expression;
};

// A boolean expression: what filter() takes.
template <class S>
using Condition = Expression<S, bool>;

namespace detail {
template <class X>
struct is_expression : std::false_type {};
template <class S, class R>
struct is_expression<Expression<S, R>> : std::true_type {};
template <class X>
concept expression = requires {
  typename std::remove_cvref_t<X>::models_type;
  typename std::remove_cvref_t<X>::value_type;
} && std::derived_from<std::remove_cvref_t<X>,
                       Expression<typename std::remove_cvref_t<X>::models_type,
                                  typename std::remove_cvref_t<X>::value_type>>;

// The sql column of a mapped member, qualified by `table` (an alias) or else by the
// mapper's table; throws ArgumentError when the member is not mapped.
sql::ExprPtr column_expr(const Mapper& m, std::size_t offset, const char* context,
                         const std::string& table);
}  // namespace detail


// A column holding a member of type M (std::optional<X> for a nullable one), over the
// models S: a model's column (col()), an alias's (aliased()) or a table's (TableRef).
template <class S, class M>
class Column : public Expression<S, detail::base_t<M>> {
 public:
  using B = detail::base_t<M>;
  using base = Expression<S, B>;
  using result_type = M;

  explicit Column(sql::ExprPtr node) : base(std::move(node)) {}
};

// A mapped column of model T held in a member of type M. Build with col(&T::member).
template <class T, class M>
class ColumnRef : public Column<models<T>, M> {
 public:
  explicit ColumnRef(M T::*member)
      : Column<models<T>, M>(
            detail::column_expr(mapper_of<T>(), detail::offset_of(member), "col", {})),
        member_(member) {}
  M T::*member() const noexcept { return member_; }

 private:
  M T::*member_;
};

// The column behind a mapped member, as an expression: col(&User::username).
template <class T, class M>
ColumnRef<T, M> col(M T::*member) {
  return ColumnRef<T, M>(member);
}

namespace detail {
template <class F>
concept relation_field = std::derived_from<F, RelationField>;
}  // namespace detail

// A relationship to join through, from a model or an alias of it (Src): see Query::join.
template <class Src, class F>
struct RelationPath {
  using source_type = Src;
  using target_type = typename detail::relation_target<F>::type;
  const Mapper& (*owner)();  // the mapper of the model that holds the relationship
  std::size_t offset;        // where the relationship member sits
  std::string source;        // the owner's alias in the query; empty: its table name
};

// A model under another name, for joining one table twice (self-referential joins):
//   auto boss = strata::aliased<Employee>("boss");
//   s.query<Employee>().join(boss, &Employee::manager).filter(boss(&Employee::name) == "ann")
// boss(&Employee::name) is a column of the alias; boss(&Employee::manager) a relationship
// to join through from it. Every alias of T is the same type: the compile-time check tells
// a T column from an alias column, not one alias from another.
template <class T>
class Aliased {
 public:
  using model_type = T;
  explicit Aliased(std::string name) : name_(std::move(name)) {
    if (name_.empty()) throw ArgumentError("aliased(): the alias needs a name");
  }
  const std::string& name() const noexcept { return name_; }

  template <class M>
    requires(!detail::relation_field<M>)
  Column<models<Aliased>, M> operator()(M T::*member) const {
    return Column<models<Aliased>, M>(
        detail::column_expr(mapper_of<T>(), detail::offset_of(member), "aliased", name_));
  }
  template <class F>
    requires detail::relation_field<F>
  RelationPath<Aliased, F> operator()(F T::*member) const {
    return {&mapper_of<T>, detail::offset_of(member), name_};
  }

 private:
  std::string name_;
};

template <class T>
Aliased<T> aliased(std::string name) {
  return Aliased<T>(std::move(name));
}

// A table declared without a struct (an association table), for joins and filters:
//   strata::TableRef followers("followers");
//   auto follower_id = followers.column<std::int64_t>("follower_id");
// Built from the schema::Table that Database::add_table returns, it checks column names.
// Its columns belong to no model: the compile-time model check lets them into any query.
class TableRef {
 public:
  explicit TableRef(std::string name);
  explicit TableRef(const schema::Table& table);
  const std::string& name() const noexcept { return name_; }

  // The column `name`, holding V (std::optional<V> when it may be NULL).
  template <class V>
  Column<models<>, V> column(std::string_view name) const {
    static_assert(detail::has_type_mapping<detail::base_t<V>>,
                  "strata: TableRef::column<V>() needs a type V with a strata::Type<> mapping");
    return Column<models<>, V>(column_expr(name));
  }

 private:
  sql::ExprPtr column_expr(std::string_view name) const;  // checks the name when known
  std::string name_;
  std::vector<std::string> columns_;  // the table's columns; empty: not checked
};

// The expression e, read as std::optional when selected: a column of the inner side of an
// outer join may be NULL even where its member is not optional.
template <class S, class R>
TypedExpression<S, R, std::optional<R>> nullable(const Expression<S, R>& e) {
  return TypedExpression<S, R, std::optional<R>>(e.node());
}

namespace detail {
template <class S, class R, class V>
auto compare(sql::BinaryOp op, const Expression<S, R>& left, const V& right) {
  if constexpr (expression<V>) {
    using S2 = typename V::models_type;
    using R2 = typename V::value_type;
    static_assert(std::same_as<R, R2> || (arithmetic<R> && arithmetic<R2>),
                  "strata: these two columns hold different types and cannot be compared");
    return Condition<union_t<S, S2>>(sql::binary(op, left.node(), right.node()));
  } else {
    using W = std::remove_cvref_t<V>;
    static_assert(!std::is_same_v<W, std::nullptr_t> && !std::is_same_v<W, std::nullopt_t>,
                  "strata: compare with NULL through .is_null() / .is_not_null() (not with "
                  "nullptr or std::nullopt)");
    static_assert(comparable_value<R, V> || std::is_same_v<W, std::nullptr_t> ||
                      std::is_same_v<W, std::nullopt_t>,
                  "strata: the value's type does not match the column's type (a text column "
                  "compares with strings, a numeric column with numbers, other columns with "
                  "their own C++ type)");
    if constexpr (comparable_value<R, V>)  // keeps the error above the only one
      return Condition<S>(sql::binary(op, left.node(), param_for<R>(right)));
    else
      return Condition<S>(nullptr);
  }
}
}  // namespace detail

// Comparisons with a value, and of two expressions. The two-expression form takes both sides
// as Expression so that C++20's reversed candidate of == (b == a) is never a better match
// than a == b: without it, a == b between two columns is ambiguous to clang.
template <class S, class R, class V>
  requires(!detail::expression<V>)
auto operator==(const Expression<S, R>& e, const V& v) {
  return detail::compare(sql::BinaryOp::eq, e, v);
}
template <class S, class R, class S2, class R2>
auto operator==(const Expression<S, R>& a, const Expression<S2, R2>& b) {
  return detail::compare(sql::BinaryOp::eq, a, b);
}
template <class S, class R, class V>
  requires(!detail::expression<V>)
auto operator!=(const Expression<S, R>& e, const V& v) {
  return detail::compare(sql::BinaryOp::ne, e, v);
}
template <class S, class R, class S2, class R2>
auto operator!=(const Expression<S, R>& a, const Expression<S2, R2>& b) {
  return detail::compare(sql::BinaryOp::ne, a, b);
}
template <class S, class R, class V>
  requires(!detail::expression<V>)
auto operator<(const Expression<S, R>& e, const V& v) {
  return detail::compare(sql::BinaryOp::lt, e, v);
}
template <class S, class R, class S2, class R2>
auto operator<(const Expression<S, R>& a, const Expression<S2, R2>& b) {
  return detail::compare(sql::BinaryOp::lt, a, b);
}
template <class S, class R, class V>
  requires(!detail::expression<V>)
auto operator<=(const Expression<S, R>& e, const V& v) {
  return detail::compare(sql::BinaryOp::le, e, v);
}
template <class S, class R, class S2, class R2>
auto operator<=(const Expression<S, R>& a, const Expression<S2, R2>& b) {
  return detail::compare(sql::BinaryOp::le, a, b);
}
template <class S, class R, class V>
  requires(!detail::expression<V>)
auto operator>(const Expression<S, R>& e, const V& v) {
  return detail::compare(sql::BinaryOp::gt, e, v);
}
template <class S, class R, class S2, class R2>
auto operator>(const Expression<S, R>& a, const Expression<S2, R2>& b) {
  return detail::compare(sql::BinaryOp::gt, a, b);
}
template <class S, class R, class V>
  requires(!detail::expression<V>)
auto operator>=(const Expression<S, R>& e, const V& v) {
  return detail::compare(sql::BinaryOp::ge, e, v);
}
template <class S, class R, class S2, class R2>
auto operator>=(const Expression<S, R>& a, const Expression<S2, R2>& b) {
  return detail::compare(sql::BinaryOp::ge, a, b);
}

template <class A, class B>
Condition<detail::union_t<A, B>> operator&&(const Condition<A>& a, const Condition<B>& b) {
  return Condition<detail::union_t<A, B>>(sql::binary(sql::BinaryOp::and_, a.node(), b.node()));
}
template <class A, class B>
Condition<detail::union_t<A, B>> operator||(const Condition<A>& a, const Condition<B>& b) {
  return Condition<detail::union_t<A, B>>(sql::binary(sql::BinaryOp::or_, a.node(), b.node()));
}
template <class A>
Condition<A> operator!(const Condition<A>& a) {
  return Condition<A>(sql::unary(sql::UnaryOp::not_, a.node()));
}
template <class A, class B>
auto and_(const Condition<A>& a, const Condition<B>& b) {
  return a && b;
}
template <class A, class B>
auto or_(const Condition<A>& a, const Condition<B>& b) {
  return a || b;
}
template <class A>
Condition<A> not_(const Condition<A>& a) {
  return !a;
}

// Arithmetic (+ - * / and, for integers, %) and text concatenation, in any place an
// expression goes (filter, order_by, select, a bulk update's set()): col(&Post::votes) + 1,
// col(&Item::price) * col(&Item::qty), -col(&Account::balance), col(&User::id) % 2,
// col(&User::first) + " " + col(&User::last) (SQL's ||). Numbers
// combine with numbers (an integer result is read as std::int64_t, one with a floating-point
// side as double), text with text; either side may be a plain value. The result may be NULL
// (and is read as std::optional when selected) where a side may be: a std::optional member's
// column, an aggregate, a scalar subquery.
namespace detail {
template <class X>
using result_of_t = typename std::remove_cvref_t<X>::result_type;

// The type an expression built from the sides Xs reads as: R, or std::optional<R> when a side
// may be NULL. A plain value (not an expression) is never NULL.
template <class X>
constexpr bool may_be_null() {
  if constexpr (expression<X>) return is_optional_v<result_of_t<X>>;
  else return false;
}
template <class R, class... Xs>
using maybe_null_t = std::conditional_t<(may_be_null<Xs>() || ...), std::optional<R>, R>;

// One side of an operator: an expression, or a plain value (over no model).
template <class X>
struct side {
  using value_type = std::remove_cvref_t<X>;
  using models_type = models<>;
};
template <class X>
  requires expression<X>
struct side<X> {
  using value_type = typename std::remove_cvref_t<X>::value_type;
  using models_type = typename std::remove_cvref_t<X>::models_type;
};
template <class X>
using side_value_t = typename side<X>::value_type;
template <class X>
using side_models_t = typename side<X>::models_type;

// What a + b holds: text for text, else std::int64_t for two integers and double otherwise.
template <class A, class B>
using sum_t = std::conditional_t<
    std::same_as<A, std::string> || std::same_as<B, std::string>, std::string,
    std::conditional_t<std::integral<A> && std::integral<B>, std::int64_t, double>>;

template <class A, class B>
concept text_sides = std::same_as<side_value_t<A>, std::string> &&
                     (std::same_as<side_value_t<B>, std::string> ||
                      (!expression<B> && std::convertible_to<const B&, std::string_view>));
template <class A, class B>
concept number_sides = arithmetic<side_value_t<A>> && arithmetic<side_value_t<B>>;

// The SQL of one side: the expression's node, or a parameter for a value, typed by the other
// side's value type (a number of another type keeps its own; see param_for).
template <class Other, class X>
sql::ExprPtr side_node(const X& x) {
  if constexpr (expression<X>) {
    return x.node();
  } else if constexpr (std::same_as<Other, std::string>) {
    return sql::param(Value{std::string(std::string_view(x))});
  } else {
    return param_for<Other>(x);
  }
}

template <class A, class B>
auto combine(sql::BinaryOp op, const A& a, const B& b) {
  using VA = side_value_t<A>;
  using VB = side_value_t<B>;
  using R = sum_t<VA, VB>;
  using S = union_t<side_models_t<A>, side_models_t<B>>;
  return TypedExpression<S, R, maybe_null_t<R, A, B>>(
      sql::binary(op, side_node<VB>(a), side_node<VA>(b)));
}

template <class A, class B>
concept one_expression = expression<A> || expression<B>;
}  // namespace detail

template <class A, class B>
  requires detail::one_expression<A, B>
auto operator+(const A& a, const B& b) {
  static_assert(detail::number_sides<A, B> || detail::text_sides<A, B> ||
                    detail::text_sides<B, A>,
                "strata: + adds numbers to numbers and joins text to text");
  if constexpr (detail::text_sides<A, B> || detail::text_sides<B, A>)
    return detail::combine(sql::BinaryOp::concat, a, b);
  else if constexpr (detail::number_sides<A, B>)
    return detail::combine(sql::BinaryOp::add, a, b);
  else  // keeps the error above the only one
    return Expression<models<>, std::int64_t>(nullptr);
}
template <class A, class B>
  requires detail::one_expression<A, B>
auto operator-(const A& a, const B& b) {
  static_assert(detail::number_sides<A, B>, "strata: - applies to numbers");
  if constexpr (detail::number_sides<A, B>) return detail::combine(sql::BinaryOp::sub, a, b);
  else return Expression<models<>, std::int64_t>(nullptr);
}
template <class A, class B>
  requires detail::one_expression<A, B>
auto operator*(const A& a, const B& b) {
  static_assert(detail::number_sides<A, B>, "strata: * applies to numbers");
  if constexpr (detail::number_sides<A, B>) return detail::combine(sql::BinaryOp::mul, a, b);
  else return Expression<models<>, std::int64_t>(nullptr);
}
// Division of two integers is an integer division (7 / 2 is 3) on every database; divide by
// a double (col(&T::n) / 2.0) for a fraction. Dividing by zero gives NULL on SQLite and is an
// error (DataError) on PostgreSQL.
template <class A, class B>
  requires detail::one_expression<A, B>
auto operator/(const A& a, const B& b) {
  static_assert(detail::number_sides<A, B>, "strata: / applies to numbers");
  if constexpr (detail::number_sides<A, B>) return detail::combine(sql::BinaryOp::div, a, b);
  else return Expression<models<>, std::int64_t>(nullptr);
}
// The remainder of an integer division, with the sign of the dividend (-7 % 3 is -1) on every
// database; by zero, as for /: NULL on SQLite, DataError on PostgreSQL.
template <class A, class B>
  requires detail::one_expression<A, B>
auto operator%(const A& a, const B& b) {
  constexpr bool integers = std::integral<detail::side_value_t<A>> &&
                            std::integral<detail::side_value_t<B>> && detail::number_sides<A, B>;
  static_assert(integers, "strata: % applies to integers");
  if constexpr (integers) return detail::combine(sql::BinaryOp::mod, a, b);
  else return Expression<models<>, std::int64_t>(nullptr);
}
template <class A>
  requires detail::expression<A>
auto operator-(const A& a) {
  using V = detail::side_value_t<A>;
  static_assert(detail::arithmetic<V>, "strata: unary - applies to numbers");
  using R = detail::sum_t<V, V>;
  return TypedExpression<typename A::models_type, R, detail::maybe_null_t<R, A>>(
      sql::unary(sql::UnaryOp::neg, a.node()));
}

// ORDER BY item: asc(&User::name), desc(col(&User::name)).
template <class S>
struct Ordering {
  sql::ExprPtr expr;
  bool descending = false;
};

template <class T, class M>
Ordering<models<T>> asc(M T::*member) {
  return {col(member).node(), false};
}
template <class T, class M>
Ordering<models<T>> desc(M T::*member) {
  return {col(member).node(), true};
}
template <class S, class R>
Ordering<S> asc(const Expression<S, R>& e) {
  return {e.node(), false};
}
template <class S, class R>
Ordering<S> desc(const Expression<S, R>& e) {
  return {e.node(), true};
}

// SET column = value for bulk update(): set(&User::email, "x"), or an expression of the
// model's own columns, evaluated by the database for each row: set(&Post::votes,
// col(&Post::votes) + 1).
template <class T>
struct Assignment {
  std::size_t offset;
  Value value;
  sql::ExprPtr expr;  // set: the column takes this expression rather than `value`
};

template <class T, class M, class V>
  requires(!detail::expression<V>)
Assignment<T> set(M T::*member, const V& value) {
  using B = detail::base_t<M>;
  if constexpr (std::is_same_v<std::remove_cvref_t<V>, std::nullopt_t>) {
    static_assert(detail::is_optional_v<M>,
                  "strata: only a std::optional member's column can be set to NULL");
    return {detail::offset_of(member), null, nullptr};
  } else {
    static_assert(detail::comparable_value<B, V>,
                  "strata: the value's type does not match the column's type");
    if constexpr (detail::comparable_value<B, V>)
      return {detail::offset_of(member), detail::to_assigned<B>(value), nullptr};
    else
      return {detail::offset_of(member), null, nullptr};
  }
}

template <class T, class M, class X>
  requires detail::expression<X>
Assignment<T> set(M T::*member, const X& e) {
  using B = detail::base_t<M>;
  using R = typename X::value_type;
  // (A TableRef's column belongs to no model, as a subquery's value does: not caught here.)
  static_assert(detail::subset<typename X::models_type, models<T>>::value,
                "strata: set() takes an expression of the updated model's own columns");
  static_assert(std::same_as<B, R> || (std::integral<B> && detail::arithmetic<B> &&
                                       std::integral<R> && detail::arithmetic<R>) ||
                    (std::floating_point<B> && detail::arithmetic<R>),
                "strata: the expression's type does not match the column's type (an integer "
                "column takes integers, a floating-point one any number, others their own type)");
  static_assert(detail::is_optional_v<M> || !detail::is_optional_v<typename X::result_type>,
                "strata: the expression may be NULL and the column may not: wrap it in "
                "coalesce(expression, fallback)");
  return {detail::offset_of(member), null, e.node()};
}

}  // namespace strata
