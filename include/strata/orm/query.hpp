// Query<T>: filter, join, group, order, limit and run a SELECT of one model, returning objects
// from the session's identity map; TupleQuery: the same clauses, returning typed tuples of
// selected columns and aggregates. Generative: every call returns a new query, the original
// is kept. The templates check models and types and build the sql tree; the SQL is made by
// compiled code (src/orm/query.cpp, loading.cpp).
#pragma once

#include <cstdint>
#include <iterator>
#include <limits>
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
#include "strata/orm/query_base.hpp"
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
    base::check_runs_alone();
    std::vector<row_type> out;
    this->state_.session->select_rows(
        *detail::subquery_select(this->state_), this->state_.mapper,
        [](void* o, const engine::Statement& s) {
          static_cast<std::vector<row_type>*>(o)->push_back(read(s));
        },
        &out);
    return out;
  }
  // The first row, if any.
  std::optional<row_type> first() const {
    auto rows = this->at_most(1).all();
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
    auto rows = this->at_most(2).all();
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
      : base(detail::QueryState{&session, mapper_of<T>().table_name(), {}, {}, &mapper_of<T>()}) {}
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

  // The rows overwrite the objects the session already holds for them (SQLAlchemy's
  // populate_existing): their columns and snapshots take the rows' values, and their
  // relationships load again on next access. Without it the session's objects keep their
  // values in memory. Changes not flushed yet are written first by the query's autoflush;
  // with autoflush off they are overwritten.
  Query populate_existing() const {
    auto st = this->state_;
    st.spec.populate_existing = true;
    return Query(std::move(st));
  }

  std::vector<std::shared_ptr<T>> all() const {
    base::check_runs_alone();
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
    auto rows = this->at_most(1).all();
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
    auto rows = this->at_most(2).all();
    if (rows.size() > 1)
      throw MultipleResultsFound("more than one " + mapper_of<T>().class_name +
                                 " matches the query");
    return rows.empty() ? nullptr : rows.front();
  }
  // The number of rows all() would return.
  std::int64_t count() const {
    base::check_runs_alone();
    return session().count(mapper_of<T>(), this->spec());
  }
  bool exists() const {
    base::check_runs_alone();
    return session().exists(mapper_of<T>(), this->spec());
  }

  // Page `page` (from 1) of `per_page` rows, with the total count. The pages cut the rows the
  // query itself reads: with its own limit() or offset(), within those.
  Page<T> paginate(std::int64_t page, std::int64_t per_page = 20) const {
    if (page < 1) throw ArgumentError("paginate(): page must be 1 or more");
    if (per_page < 1) throw ArgumentError("paginate(): per_page must be 1 or more");
    Page<T> p;
    p.page = page;
    p.per_page = per_page;
    p.total = count();
    p.pages = p.total / per_page + (p.total % per_page != 0 ? 1 : 0);
    // A page past every possible row (its offset would overflow) is empty, asked or not, as
    // is one past the query's own limit.
    constexpr auto most = std::numeric_limits<std::int64_t>::max();
    const std::int64_t own_offset = this->spec().offset.value_or(0);
    if (page - 1 <= most / per_page && (page - 1) * per_page <= most - own_offset) {
      const std::int64_t skipped = (page - 1) * per_page;
      std::int64_t rows = per_page;
      if (const auto& own = this->spec().limit) rows = std::min(rows, *own - skipped);
      if (rows > 0) p.items = this->limit(rows).offset(own_offset + skipped).all();
    }
    p.has_prev = page > 1;
    p.has_next = page < p.pages;
    p.prev_num = p.has_prev ? page - 1 : 0;
    p.next_num = p.has_next ? page + 1 : 0;
    return p;
  }

  // Rows as plain values, one at a time (see Stream). The stream holds the session's
  // connection: it must not outlive the session.
  Stream<T> stream() const {
    base::check_runs_alone();
    return Stream<T>(session().stream(mapper_of<T>(), this->spec()));
  }

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
  // updated in memory too (a column set from an expression: to the value the database
  // computed, read back with the statement). Returns the number of rows matched.
  template <class... As>
  std::int64_t update(const Assignment<T>& first, const As&... rest) const {
    std::vector<detail::SetColumn> set{{first.offset, first.value, first.expr}};
    (set.push_back({static_cast<const Assignment<T>&>(rest).offset,
                    static_cast<const Assignment<T>&>(rest).value,
                    static_cast<const Assignment<T>&>(rest).expr}),
     ...);
    base::check_runs_alone();
    return session().bulk_update(mapper_of<T>(), this->spec(), set);
  }
  // DELETE ... WHERE <filters>, one statement; matching objects leave the session.
  std::int64_t delete_() const {
    base::check_runs_alone();
    return session().bulk_delete(mapper_of<T>(), this->spec());
  }

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
