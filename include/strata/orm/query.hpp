// Query<T>: filter, order, limit and run a SELECT of one model, returning objects from the
// session's identity map. Generative: every call returns a new Query, the original is kept.
#pragma once

#include <cstdint>
#include <iterator>
#include <memory>
#include <type_traits>
#include <vector>

#include "strata/error.hpp"
#include "strata/orm/expression.hpp"
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

template <class T, class O>
sql::OrderBy to_order_by(const O& o) {
  if constexpr (std::is_member_object_pointer_v<O>) {
    static_assert(std::is_same_v<typename member_traits<O>::class_type, T>,
                  "strata: order_by() names a member of another model than the query's; "
                  "order by a column of the queried model");
    return {col(o).node(), false};
  } else if constexpr (is_ordering<O>::value) {
    static_assert(subset<typename is_ordering<O>::models_type, models<T>>::value,
                  "strata: order_by() uses a column of another model than the query's; "
                  "order by a column of the queried model");
    return {o.expr, o.descending};
  } else if constexpr (expression<O>) {
    static_assert(subset<typename O::models_type, models<T>>::value,
                  "strata: order_by() uses a column of another model than the query's; "
                  "order by a column of the queried model");
    return {o.node(), false};
  } else {
    static_assert(always_false<O>,
                  "strata: order_by() takes &Model::member, col(...), asc(...) or desc(...)");
  }
}
}  // namespace detail

template <class T>
class Query {
 public:
  explicit Query(detail::SessionCore& session) : session_(&session) {}

  // WHERE condition (ANDed with earlier filters). The condition may use only T's columns.
  template <class S>
  Query filter(const Condition<S>& condition) const {
    static_assert(detail::subset<S, models<T>>::value,
                  "strata: filter() uses a column of a model that is not part of this query; "
                  "filter on the queried model's columns");
    Query q = *this;
    q.spec_.where = sql::and_(q.spec_.where, condition.node());
    return q;
  }
  // filter_by(&User::username, "john"): equality on one member.
  template <class C, class M, class V>
  Query filter_by(M C::*member, const V& value) const {
    static_assert(std::is_same_v<C, T>,
                  "strata: filter_by() names a member of another model than the query's");
    return filter(col(member) == value);
  }
  // ORDER BY: members (ascending), columns, asc(...) or desc(...), several in order.
  template <class... Os>
  Query order_by(const Os&... items) const {
    Query q = *this;
    (q.spec_.order_by.push_back(detail::to_order_by<T>(items)), ...);
    return q;
  }
  Query limit(std::int64_t n) const {
    Query q = *this;
    q.spec_.limit = n;
    return q;
  }
  Query offset(std::int64_t n) const {
    Query q = *this;
    q.spec_.offset = n;
    return q;
  }

  // How relationships of T load for this query, overriding the mapping's .lazy(...):
  // joinedload(&User::posts), selectinload(...), lazyload(...), raiseload(...).
  template <class... Cs>
  Query options(const LoadOption<Cs>&... opts) const {
    static_assert((std::is_same_v<Cs, T> && ...),
                  "strata: options() names a relationship of another model than the query's; "
                  "name a relationship of the queried model, e.g. joinedload(&User::posts) in "
                  "a Query<User>");
    Query q = *this;
    (q.spec_.load.push_back(detail::check_load_option(mapper_of<T>(), opts.load)), ...);
    return q;
  }

  std::vector<std::shared_ptr<T>> all() const {
    std::vector<std::shared_ptr<T>> out;
    session_->all(
        mapper_of<T>(), spec_,
        [](void* o, std::shared_ptr<void>&& obj) {
          static_cast<std::vector<std::shared_ptr<T>>*>(o)->push_back(
              std::static_pointer_cast<T>(std::move(obj)));
        },
        &out);
    return out;
  }
  // The first row, or null.
  std::shared_ptr<T> first() const {
    auto rows = limit(1).all();
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
    auto rows = limit(2).all();
    if (rows.size() > 1)
      throw MultipleResultsFound("more than one " + mapper_of<T>().class_name +
                                 " matches the query");
    return rows.empty() ? nullptr : rows.front();
  }
  std::int64_t count() const { return session_->count(mapper_of<T>(), spec_); }
  bool exists() const { return session_->exists(mapper_of<T>(), spec_); }

  // Page `page` (from 1) of `per_page` rows, with the total count.
  Page<T> paginate(std::int64_t page, std::int64_t per_page = 20) const {
    if (page < 1) throw ArgumentError("paginate(): page must be 1 or more");
    if (per_page < 1) throw ArgumentError("paginate(): per_page must be 1 or more");
    Page<T> p;
    p.page = page;
    p.per_page = per_page;
    p.total = count();
    p.pages = (p.total + per_page - 1) / per_page;
    p.items = limit(per_page).offset((page - 1) * per_page).all();
    p.has_prev = page > 1;
    p.has_next = page < p.pages;
    p.prev_num = p.has_prev ? page - 1 : 0;
    p.next_num = p.has_next ? page + 1 : 0;
    return p;
  }

  // Rows as plain values, one at a time (see Stream).
  Stream<T> stream() const { return Stream<T>(session_->stream(mapper_of<T>(), spec_)); }

  // UPDATE ... SET ... WHERE <filters>, one statement; objects of the session that match are
  // updated in memory too. Returns the number of rows matched.
  template <class... As>
  std::int64_t update(const Assignment<T>& first, const As&... rest) const {
    std::vector<std::pair<std::size_t, Value>> set{{first.offset, first.value}};
    (set.emplace_back(static_cast<const Assignment<T>&>(rest).offset,
                      static_cast<const Assignment<T>&>(rest).value),
     ...);
    return session_->bulk_update(mapper_of<T>(), spec_, set);
  }
  // DELETE ... WHERE <filters>, one statement; matching objects leave the session.
  std::int64_t delete_() const { return session_->bulk_delete(mapper_of<T>(), spec_); }

  const detail::QuerySpec& spec() const noexcept { return spec_; }

 private:
  detail::SessionCore* session_;
  detail::QuerySpec spec_;
};

}  // namespace strata
