// The clauses that Query<T> (objects) and TupleQuery (values) share: filter, order_by,
// limit/offset, distinct, group_by/having, joins and correlate, over the set of models the
// query may use; and the declarations of the compiled side of joins and subqueries
// (src/orm/query.cpp). Included by query.hpp, which holds the queries themselves.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "strata/error.hpp"
#include "strata/orm/expression.hpp"
#include "strata/orm/session_core.hpp"

namespace strata {

// with_for_update()'s options, as SQLAlchemy's: read locks for reading (FOR SHARE: others
// may read and share-lock the rows, not change them); key_share weakens the lock: without
// read, FOR NO KEY UPDATE (rows of other tables may still come to refer to the locked ones);
// with read, FOR KEY SHARE (others may change the rows' columns other than the key); nowait
// fails at once (OperationalError) rather than wait for a row another transaction holds;
// skip_locked leaves such rows out. PostgreSQL's locking clauses; see with_for_update() for
// SQLite.
struct ForUpdate {
  bool read = false;
  bool key_share = false;
  bool nowait = false;
  bool skip_locked = false;
};

// Session::get(key, populate_existing): SQLAlchemy's get(..., populate_existing=True). A tag
// that `{}` does not make (as std::nullopt_t), so that get(key, {}) is get(key, ForUpdate{}).
struct PopulateExisting {
  explicit constexpr PopulateExisting(int) {}
};
inline constexpr PopulateExisting populate_existing{0};

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
  const Mapper* mapper = nullptr;  // the model of `from`: its bind is the database to ask
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
// limit(n) / offset(n) with a negative n.
[[noreturn]] void throw_negative(const char* clause, std::int64_t n);
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

// The locking clause that options ask for, of every table (ArgumentError, naming `what`,
// for nowait with skip_locked).
sql::RowLock row_lock(const ForUpdate& options, const char* what);

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
  // LIMIT n, OFFSET n: n must not be negative (ArgumentError).
  Self limit(std::int64_t n) const {
    if (n < 0) throw_negative("limit", n);
    auto st = state_;
    st.spec.limit = n;
    return Self(std::move(st));
  }
  Self offset(std::int64_t n) const {
    if (n < 0) throw_negative("offset", n);
    auto st = state_;
    st.spec.offset = n;
    return Self(std::move(st));
  }
  // SELECT ... FOR UPDATE: the rows read stay locked against other transactions' changes
  // and locks until the session's transaction ends (commit, rollback, close). A Query's
  // objects take the rows' values even when the session holds them already
  // (populate_existing()): what the lock keeps is the rows as they are now.
  // with_for_update<User>(): only the rows of the models named (FOR UPDATE OF user), of the
  // query's own or joined models. Options as SQLAlchemy's (ForUpdate). On SQLite, which locks
  // the whole database rather than rows, the session's transaction, when it has not begun
  // yet, begins with the database's write lock (BEGIN IMMEDIATE; see docs/orm.md).
  template <class... Us>
  Self with_for_update(ForUpdate options = {}) const {
    static_assert(((contains<S, Us>::value && !contains<C, Us>::value) && ...),
                  "strata: with_for_update<...>() names a model that is not part of this query "
                  "(the queried one or a joined one; a correlated one is the enclosing query's)");
    static_assert(!(is_aliased<Us>::value || ...),
                  "strata: with_for_update<...>() takes models, not aliases");
    sql::RowLock lock = row_lock(options, "with_for_update");
    (lock.of.push_back(mapper_of<Us>().table_name()), ...);
    auto st = state_;
    st.spec.lock = std::move(lock);
    st.spec.populate_existing = true;
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
    static_assert(!(contains<S, Us>::value || ...),
                  "strata: correlate() names a model the subquery already selects FROM or "
                  "joins, which would hide the enclosing query's; let the enclosing query join "
                  "it under an alias (strata::aliased<Model>) and correlate to that");
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
  // Running the query by itself (all(), count(), stream(), update(), ...): one that
  // correlates models reads them from an enclosing query, and the database would refuse it
  // (no such column / missing FROM-clause entry).
  static constexpr void check_runs_alone() {
    static_assert(std::is_same_v<C, models<>>,
                  "strata: a query that correlate()s models runs only inside another query: "
                  "in exists(), in_() or as_scalar(); the models it correlates are that "
                  "query's");
  }

  // limit(n), unless the query's own limit is smaller: what first() and one() read, so that
  // a query limited to one row stays one row.
  Self at_most(std::int64_t n) const {
    const auto& own = state_.spec.limit;
    return limit(own && *own >= 0 && *own < n ? *own : n);
  }
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

}  // namespace strata
