// Query<T>: filter, join, group, order, limit and run a SELECT of one model, returning objects
// from the session's identity map; TupleQuery: the same clauses, returning typed tuples of
// selected columns and aggregates. Generative: every call returns a new query, the original
// is kept. The templates check models and types and build the sql tree; the SQL is made by
// compiled code (src/orm/query.cpp, loading.cpp).
#pragma once

#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "strata/error.hpp"
#include "strata/orm/expression.hpp"
#include "strata/orm/functions.hpp"
#include "strata/orm/loader_options.hpp"
#include "strata/orm/session_core.hpp"

namespace strata {

// One page of results: Flask-SQLAlchemy's Pagination.
template <class T>
struct Page {
  std::vector<std::shared_ptr<T>> items;
  std::int64_t page = 1;
  std::int64_t per_page = 20;
  std::int64_t total = 0;
  std::int64_t pages = 0;
  bool has_prev = false;
  bool has_next = false;
  std::int64_t prev_num = 0;  // 0 when there is no previous page
  std::int64_t next_num = 0;  // 0 when there is no next page
};

// Rows as plain values, one at a time, in constant memory. The objects are not tracked by
// the session (changing one changes nothing in the database) and their relationships are not
// loadable.
template <class T>
class Stream {
 public:
  explicit Stream(detail::Cursor cursor) : cursor_(std::move(cursor)) {}

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = const T*;
    using reference = const T&;

    iterator() = default;
    explicit iterator(Stream* s) : stream_(s) { ++*this; }
    const T& operator*() const { return current_; }
    const T* operator->() const { return &current_; }
    iterator& operator++() {
      current_ = T{};
      if (!stream_->cursor_.next(&current_)) stream_ = nullptr;
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& a, std::default_sentinel_t) { return !a.stream_; }

   private:
    Stream* stream_ = nullptr;
    T current_{};
  };

  iterator begin() { return iterator(this); }
  std::default_sentinel_t end() { return {}; }

 private:
  detail::Cursor cursor_;
};

namespace detail {
template <class P>
struct member_traits;
template <class C, class M>
struct member_traits<M C::*> {
  using class_type = C;
  using member_type = M;
};
template <class X>
struct is_ordering : std::false_type {};
template <class S>
struct is_ordering<Ordering<S>> : std::true_type {
  using models_type = S;
};
template <class>
inline constexpr bool always_false = false;

template <class X>
struct is_aliased : std::false_type {};
template <class T>
struct is_aliased<Aliased<T>> : std::true_type {};

// The first model of a set (void when empty).
template <class S>
struct first_model {
  using type = void;
};
template <class M, class... Ms>
struct first_model<models<M, Ms...>> {
  using type = M;
};

// What a query item (member pointer, expression, ordering) uses, and how it reads.
template <class X, bool = std::is_member_object_pointer_v<X>>
struct item_traits {
  using models_type = typename X::models_type;
  using result_type = typename X::result_type;
};
template <class X>
struct item_traits<X, true> {
  using models_type = models<typename member_traits<X>::class_type>;
  using result_type = typename member_traits<X>::member_type;
};
template <class... Xs>
struct union_all {
  using type = models<>;
};
template <class X, class... Xs>
struct union_all<X, Xs...> {
  using type = union_t<typename item_traits<X>::models_type, typename union_all<Xs...>::type>;
};

template <class X>
sql::ExprPtr item_node(const X& x) {
  if constexpr (std::is_member_object_pointer_v<X>) return col(x).node();
  else return x.node();
}

template <class S, class O>
sql::OrderBy to_order_by(const O& o) {
  if constexpr (std::is_member_object_pointer_v<O>) {
    static_assert(contains<S, typename member_traits<O>::class_type>::value,
                  "strata: order_by() names a member of another model than the query's (and "
                  "not a joined one); order by a column of the queried model, or join the "
                  "other model first");
    return {col(o).node(), false};
  } else if constexpr (is_ordering<O>::value) {
    static_assert(subset<typename is_ordering<O>::models_type, S>::value,
                  "strata: order_by() uses a column of another model than the query's (and "
                  "not a joined one); order by a column of the queried model, or join the "
                  "other model first");
    return {o.expr, o.descending};
  } else if constexpr (expression<O>) {
    static_assert(subset<typename O::models_type, S>::value,
                  "strata: order_by() uses a column of another model than the query's (and "
                  "not a joined one); order by a column of the queried model, or join the "
                  "other model first");
    return {o.node(), false};
  } else {
    static_assert(always_false<O>,
                  "strata: order_by() takes &Model::member, col(...), asc(...) or desc(...)");
  }
}

template <class S, class X>
sql::ExprPtr to_group_by(const X& x) {
  if constexpr (std::is_member_object_pointer_v<X> || expression<X>) {
    static_assert(subset<typename item_traits<X>::models_type, S>::value,
                  "strata: group_by() uses a column of a model that is not part of this query; "
                  "group by columns of the queried or joined models");
    return item_node(x);
  } else {
    static_assert(always_false<X>, "strata: group_by() takes &Model::member or col(...)");
  }
}

// What every query carries, whatever it returns: its session, the FROM table, the clauses
// built so far and, for a TupleQuery, the selected expressions.
struct QueryState {
  SessionCore* session = nullptr;
  std::string from;
  QuerySpec spec;
  std::vector<sql::ExprPtr> columns;
};

// The compiled side of joins and subqueries (src/orm/query.cpp).
// Appends the JOIN(s) that reach a relationship's target from its owner. `source` is the
// owner's alias in the query (empty: its table), `alias` the target's (empty: its table).
// Every relationship join goes through here, so a relationship kind that needs more than
// one JOIN (an association table) adds them in one place.
void join_relationship(QueryState& q, const Mapper& owner, std::size_t offset,
                       const std::string& source, const std::string& alias, sql::JoinKind kind);
// Appends JOIN table [AS alias] ON on.
void join_table(QueryState& q, const std::string& table, const std::string& alias,
                sql::ExprPtr on, sql::JoinKind kind);
// The SELECT of q's columns (SELECT 1 when it has none), for in_() and exists().
std::shared_ptr<const sql::Select> subquery_select(const QueryState& q);
// Result column i of a tuple query could not be read as asked.
[[noreturn]] void throw_result_error(const engine::Statement& s, int i, const std::exception& e);
[[noreturn]] void throw_null_result(const engine::Statement& s, int i);

template <class R>
R read_result(const engine::Statement& s, int i) {
  if (s.is_null(i)) {
    if constexpr (is_optional_v<R>) return std::nullopt;
    else throw_null_result(s, i);
  }
  try {
    return Type<base_t<R>>::read(s, i);
  } catch (const DataError& e) {
    throw_result_error(s, i, e);
  }
}

template <class Q, class S2, class C2>
struct rebind;
template <class Q, class S2, class C2>
using rebind_t = typename rebind<Q, S2, C2>::type;

// The clauses that Query (objects) and TupleQuery (values) share. S: the models the query
// may use (the queried one, joined ones, correlated ones); C: the models it correlates from
// an enclosing query. Generative: every call returns a new query.
template <class Self, class S, class C>
class QueryBase {
 public:
  using models_type = S;
  using correlated_type = C;

  explicit QueryBase(QueryState state) : state_(std::move(state)) {}

  // WHERE condition (ANDed with earlier filters), on the queried or joined models.
  template <class S2>
  Self filter(const Condition<S2>& condition) const {
    static_assert(subset<S2, S>::value,
                  "strata: filter() uses a column of a model that is not part of this query; "
                  "filter on the queried model's columns, or join the model first "
                  "(join(&Model::relationship) or join<Model>(condition))");
    auto st = state_;
    st.spec.where = sql::and_(st.spec.where, condition.node());
    return Self(std::move(st));
  }
  // filter_by(&User::username, "john"): equality on one member.
  template <class K, class M, class V>
  Self filter_by(M K::*member, const V& value) const {
    static_assert(contains<S, K>::value,
                  "strata: filter_by() names a member of another model than the query's (and "
                  "not a joined one)");
    return filter(col(member) == value);
  }
  // ORDER BY: members (ascending), columns, asc(...) or desc(...), several in order.
  template <class... Os>
  Self order_by(const Os&... items) const {
    auto st = state_;
    (st.spec.order_by.push_back(to_order_by<S>(items)), ...);
    return Self(std::move(st));
  }
  Self limit(std::int64_t n) const {
    auto st = state_;
    st.spec.limit = n;
    return Self(std::move(st));
  }
  Self offset(std::int64_t n) const {
    auto st = state_;
    st.spec.offset = n;
    return Self(std::move(st));
  }
  // SELECT DISTINCT.
  Self distinct() const {
    auto st = state_;
    st.spec.distinct = true;
    return Self(std::move(st));
  }
  // GROUP BY members or columns of the queried or joined models.
  template <class... Xs>
  Self group_by(const Xs&... items) const {
    auto st = state_;
    (st.spec.group_by.push_back(to_group_by<S>(items)), ...);
    return Self(std::move(st));
  }
  // HAVING condition (ANDed with earlier ones), usually on aggregates: count(...) > 2.
  template <class S2>
  Self having(const Condition<S2>& condition) const {
    static_assert(subset<S2, S>::value,
                  "strata: having() uses a column of a model that is not part of this query");
    auto st = state_;
    st.spec.having = sql::and_(st.spec.having, condition.node());
    return Self(std::move(st));
  }

  // JOIN through a relationship: join(&Post::author), join(&User::posts); from an alias:
  // join(boss(&Employee::reports)); to an alias: join(boss, &Employee::manager).
  template <class K, class F>
    requires relation_field<F>
  auto join(F K::*rel) const {
    return via<sql::JoinKind::inner, typename relation_target<F>::type>(path(rel), {});
  }
  template <class Src, class F>
  auto join(const RelationPath<Src, F>& rel) const {
    return via<sql::JoinKind::inner, typename RelationPath<Src, F>::target_type>(rel, {});
  }
  template <class U, class K, class F>
    requires relation_field<F>
  auto join(const Aliased<U>& target, F K::*rel) const {
    return via<sql::JoinKind::inner, Aliased<U>>(path(rel), target.name());
  }
  template <class U, class Src, class F>
  auto join(const Aliased<U>& target, const RelationPath<Src, F>& rel) const {
    return via<sql::JoinKind::inner, Aliased<U>>(rel, target.name());
  }
  // JOIN on an explicit condition: join<Post>(col(&Post::user_id) == col(&User::id)),
  // join(boss, ...), join(TableRef, ...).
  template <class U, class S2>
  auto join(const Condition<S2>& on) const {
    return on_<sql::JoinKind::inner, U>(mapper_of<U>().table_name(), {}, on);
  }
  template <class U, class S2>
  auto join(const Aliased<U>& target, const Condition<S2>& on) const {
    return on_<sql::JoinKind::inner, Aliased<U>>(mapper_of<U>().table_name(), target.name(), on);
  }
  template <class S2>
  auto join(const TableRef& table, const Condition<S2>& on) const {
    return on_<sql::JoinKind::inner, void>(table.name(), {}, on);
  }

  // LEFT OUTER JOIN, in the same forms as join().
  template <class K, class F>
    requires relation_field<F>
  auto outerjoin(F K::*rel) const {
    return via<sql::JoinKind::left, typename relation_target<F>::type>(path(rel), {});
  }
  template <class Src, class F>
  auto outerjoin(const RelationPath<Src, F>& rel) const {
    return via<sql::JoinKind::left, typename RelationPath<Src, F>::target_type>(rel, {});
  }
  template <class U, class K, class F>
    requires relation_field<F>
  auto outerjoin(const Aliased<U>& target, F K::*rel) const {
    return via<sql::JoinKind::left, Aliased<U>>(path(rel), target.name());
  }
  template <class U, class Src, class F>
  auto outerjoin(const Aliased<U>& target, const RelationPath<Src, F>& rel) const {
    return via<sql::JoinKind::left, Aliased<U>>(rel, target.name());
  }
  template <class U, class S2>
  auto outerjoin(const Condition<S2>& on) const {
    return on_<sql::JoinKind::left, U>(mapper_of<U>().table_name(), {}, on);
  }
  template <class U, class S2>
  auto outerjoin(const Aliased<U>& target, const Condition<S2>& on) const {
    return on_<sql::JoinKind::left, Aliased<U>>(mapper_of<U>().table_name(), target.name(), on);
  }
  template <class S2>
  auto outerjoin(const TableRef& table, const Condition<S2>& on) const {
    return on_<sql::JoinKind::left, void>(table.name(), {}, on);
  }

  // For a subquery: lets its conditions use columns of models (or aliases) of the enclosing
  // query, which the subquery does not select FROM itself (a correlated subquery). The
  // enclosing query must have them: exists() and in_() carry them to its filter().
  template <class... Us>
  auto correlate() const {
    using Out = rebind_t<Self, union_t<S, models<Us...>>, union_t<C, models<Us...>>>;
    return Out(state_);
  }
  template <class U>
  auto correlate(const Aliased<U>&) const {
    using Out = rebind_t<Self, union_t<S, models<Aliased<U>>>, union_t<C, models<Aliased<U>>>>;
    return Out(state_);
  }

  const QuerySpec& spec() const noexcept { return state_.spec; }
  const QueryState& state() const noexcept { return state_; }

 protected:
  QueryState state_;

 private:
  template <class K, class F>
  static RelationPath<K, F> path(F K::*rel) {
    return {&mapper_of<K>, offset_of(rel), {}};
  }
  template <sql::JoinKind Kind, class Entry, class Src, class F>
  auto via(const RelationPath<Src, F>& rel, const std::string& alias) const {
    using Target = typename RelationPath<Src, F>::target_type;
    static_assert(contains<S, Src>::value,
                  "strata: join() goes through a relationship of a model that is not part of "
                  "this query; join that model first");
    if constexpr (is_aliased<Entry>::value) {
      static_assert(std::is_same_v<typename Entry::model_type, Target>,
                    "strata: join(alias, relationship): the alias is not of the relationship's "
                    "target model");
    } else {
      static_assert(!contains<S, Entry>::value,
                    "strata: join() target model is already part of this query; join it under "
                    "an alias: strata::aliased<Model>(\"name\")");
    }
    using Out = rebind_t<Self, union_t<S, models<Entry>>, C>;
    auto st = state_;
    join_relationship(st, rel.owner(), rel.offset, rel.source, alias, Kind);
    return Out(std::move(st));
  }
  template <sql::JoinKind Kind, class Entry, class S2>
  auto on_(const std::string& table, const std::string& alias, const Condition<S2>& on) const {
    using S3 = std::conditional_t<std::is_void_v<Entry>, S, union_t<S, models<Entry>>>;
    if constexpr (!std::is_void_v<Entry> && !is_aliased<Entry>::value) {
      static_assert(!contains<S, Entry>::value,
                    "strata: join() target model is already part of this query; join it under "
                    "an alias: strata::aliased<Model>(\"name\")");
    }
    static_assert(subset<S2, S3>::value,
                  "strata: the join condition uses a column of a model that is neither part of "
                  "this query nor the joined one");
    auto st = state_;
    join_table(st, table, alias, on.node(), Kind);
    return rebind_t<Self, S3, C>(std::move(st));
  }
};

}  // namespace detail

// Rows of selected values: s.select(col(&User::username), count(col(&Post::id))) or
// s.query<User>().select(...). Each row is a std::tuple<R...>, or the plain R of a
// one-column select. S: the models the query may use; Need: those its columns use (checked
// against S when it runs, since joins may come after select()); C: correlated models.
template <class S, class Need, class C, class... R>
class TupleQuery : public detail::QueryBase<TupleQuery<S, Need, C, R...>, S, C> {
  using base = detail::QueryBase<TupleQuery, S, C>;

 public:
  using row_type = std::conditional_t<sizeof...(R) == 1, std::tuple_element_t<0, std::tuple<R...>>,
                                      std::tuple<R...>>;

  explicit TupleQuery(detail::QueryState state) : base(std::move(state)) {}

  std::vector<row_type> all() const {
    check();
    std::vector<row_type> out;
    this->state_.session->select_rows(
        *detail::subquery_select(this->state_),
        [](void* o, const engine::Statement& s) {
          static_cast<std::vector<row_type>*>(o)->push_back(read(s));
        },
        &out);
    return out;
  }
  // The first row, if any.
  std::optional<row_type> first() const {
    auto rows = this->limit(1).all();
    if (rows.empty()) return std::nullopt;
    return std::move(rows.front());
  }
  // Exactly one row: NoResultFound / MultipleResultsFound otherwise.
  row_type one() const {
    auto row = one_or_none();
    if (!row) throw NoResultFound("no row matches the query");
    return std::move(*row);
  }
  std::optional<row_type> one_or_none() const {
    auto rows = this->limit(2).all();
    if (rows.size() > 1) throw MultipleResultsFound("more than one row matches the query");
    if (rows.empty()) return std::nullopt;
    return std::move(rows.front());
  }
  // The value of a one-column query of exactly one row (an aggregate without group_by):
  // s.query<Post>().select(strata::count()).scalar().
  row_type scalar() const {
    static_assert(sizeof...(R) == 1, "strata: scalar() needs a select() of one column");
    return one();
  }

  // A one-column query as a value (a scalar subquery), for filters and select lists:
  //   col(&Post::votes) > s.query<Post>().select(avg(&Post::votes)).as_scalar()
  // It reads as std::optional (NULL when the subquery finds no row); its models are the
  // ones it correlates.
  auto as_scalar() const {
    static_assert(sizeof...(R) == 1, "strata: as_scalar() needs a select() of one column");
    using B = detail::base_t<row_type>;
    return TypedExpression<C, B, std::optional<B>>(sql::subquery(subquery()));
  }

  // The SELECT as a subquery (in_(), exists()).
  std::shared_ptr<const sql::Select> subquery() const {
    check();
    return detail::subquery_select(this->state_);
  }

 private:
  static void check() {
    static_assert(detail::subset<Need, S>::value,
                  "strata: select() uses a column of a model that is not part of this query; "
                  "join the model first (join(&Model::relationship) or join<Model>(condition))");
  }
  static row_type read(const engine::Statement& s) {
    if constexpr (sizeof...(R) == 1) {
      return detail::read_result<row_type>(s, 0);
    } else {
      return read_tuple(s, std::index_sequence_for<R...>{});
    }
  }
  template <std::size_t... I>
  static row_type read_tuple(const engine::Statement& s, std::index_sequence<I...>) {
    return row_type{detail::read_result<R>(s, static_cast<int>(I))...};
  }
};

template <class T, class S = models<T>, class C = models<>>
class Query : public detail::QueryBase<Query<T, S, C>, S, C> {
  using base = detail::QueryBase<Query, S, C>;

 public:
  explicit Query(detail::SessionCore& session)
      : base(detail::QueryState{&session, mapper_of<T>().table_name(), {}, {}}) {}
  explicit Query(detail::QueryState state) : base(std::move(state)) {}

  // How relationships of T load for this query, overriding the mapping's .lazy(...):
  // joinedload(&User::posts), selectinload(...), lazyload(...), raiseload(...).
  template <class... Cs>
  Query options(const LoadOption<Cs>&... opts) const {
    static_assert((std::is_same_v<Cs, T> && ...),
                  "strata: options() names a relationship of another model than the query's; "
                  "name a relationship of the queried model, e.g. joinedload(&User::posts) in "
                  "a Query<User>");
    auto st = this->state_;
    (st.spec.load.push_back(detail::check_load_option(mapper_of<T>(), opts.load)), ...);
    return Query(std::move(st));
  }

  std::vector<std::shared_ptr<T>> all() const {
    std::vector<std::shared_ptr<T>> out;
    session().all(
        mapper_of<T>(), this->spec(),
        [](void* o, std::shared_ptr<void>&& obj) {
          static_cast<std::vector<std::shared_ptr<T>>*>(o)->push_back(
              std::static_pointer_cast<T>(std::move(obj)));
        },
        &out);
    return out;
  }
  // The first row, or null.
  std::shared_ptr<T> first() const {
    auto rows = this->limit(1).all();
    return rows.empty() ? nullptr : rows.front();
  }
  // Exactly one row: NoResultFound / MultipleResultsFound otherwise.
  std::shared_ptr<T> one() const {
    auto p = one_or_none();
    if (!p) throw NoResultFound("no " + mapper_of<T>().class_name + " matches the query");
    return p;
  }
  // One row or null; MultipleResultsFound when there are more.
  std::shared_ptr<T> one_or_none() const {
    auto rows = this->limit(2).all();
    if (rows.size() > 1)
      throw MultipleResultsFound("more than one " + mapper_of<T>().class_name +
                                 " matches the query");
    return rows.empty() ? nullptr : rows.front();
  }
  // The number of rows all() would return.
  std::int64_t count() const { return session().count(mapper_of<T>(), this->spec()); }
  bool exists() const { return session().exists(mapper_of<T>(), this->spec()); }

  // Page `page` (from 1) of `per_page` rows, with the total count.
  Page<T> paginate(std::int64_t page, std::int64_t per_page = 20) const {
    if (page < 1) throw ArgumentError("paginate(): page must be 1 or more");
    if (per_page < 1) throw ArgumentError("paginate(): per_page must be 1 or more");
    Page<T> p;
    p.page = page;
    p.per_page = per_page;
    p.total = count();
    p.pages = (p.total + per_page - 1) / per_page;
    p.items = this->limit(per_page).offset((page - 1) * per_page).all();
    p.has_prev = page > 1;
    p.has_next = page < p.pages;
    p.prev_num = p.has_prev ? page - 1 : 0;
    p.next_num = p.has_next ? page + 1 : 0;
    return p;
  }

  // Rows as plain values, one at a time (see Stream).
  Stream<T> stream() const { return Stream<T>(session().stream(mapper_of<T>(), this->spec())); }

  // Values instead of objects: select(&User::username, count(col(&Post::id))) makes a
  // TupleQuery with this query's FROM, joins and clauses.
  template <class... Xs>
  auto select(const Xs&... items) const {
    static_assert(sizeof...(Xs) > 0, "strata: select() needs at least one column");
    using Need = typename detail::union_all<Xs...>::type;
    using Out = TupleQuery<S, Need, C, typename detail::item_traits<Xs>::result_type...>;
    auto st = this->state_;
    st.columns = {detail::item_node(items)...};
    return Out(std::move(st));
  }

  // UPDATE ... SET ... WHERE <filters>, one statement; objects of the session that match are
  // updated in memory too. Returns the number of rows matched.
  template <class... As>
  std::int64_t update(const Assignment<T>& first, const As&... rest) const {
    std::vector<std::pair<std::size_t, Value>> set{{first.offset, first.value}};
    (set.emplace_back(static_cast<const Assignment<T>&>(rest).offset,
                      static_cast<const Assignment<T>&>(rest).value),
     ...);
    return session().bulk_update(mapper_of<T>(), this->spec(), set);
  }
  // DELETE ... WHERE <filters>, one statement; matching objects leave the session.
  std::int64_t delete_() const { return session().bulk_delete(mapper_of<T>(), this->spec()); }

 private:
  detail::SessionCore& session() const { return *this->state_.session; }
};

namespace detail {
template <class T, class S, class C, class S2, class C2>
struct rebind<Query<T, S, C>, S2, C2> {
  using type = Query<T, S2, C2>;
};
template <class S, class N, class C, class... R, class S2, class C2>
struct rebind<TupleQuery<S, N, C, R...>, S2, C2> {
  using type = TupleQuery<S2, N, C2, R...>;
};
}  // namespace detail

// EXISTS (subquery): exists(s.query<Post>().correlate<User>().filter(col(&Post::user_id) ==
// col(&User::id))). The condition uses the subquery's correlated models.
template <class T, class S, class C>
Condition<C> exists(const Query<T, S, C>& sub) {
  return Condition<C>(sql::unary(sql::UnaryOp::exists, sql::subquery(detail::subquery_select(sub.state()))));
}
template <class S, class N, class C, class... R>
Condition<C> exists(const TupleQuery<S, N, C, R...>& sub) {
  return Condition<C>(sql::unary(sql::UnaryOp::exists, sql::subquery(sub.subquery())));
}

}  // namespace strata
