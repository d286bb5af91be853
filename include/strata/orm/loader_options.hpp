// Loader options: per query, how a relationship of the queried model loads, overriding the
// strategy its mapping declares (SQLAlchemy's joinedload / selectinload / lazyload /
// raiseload):
//
//   s.query<User>().options(strata::joinedload(&User::posts)).all();
//
// Query<T>::options() takes them; the work happens in the session (src/orm/eager.cpp).
#pragma once

#include "strata/orm/mapping.hpp"

namespace strata {

// The strategy for one relationship of T, for one query.
template <class T>
struct LoadOption {
  RelationshipLoad load;
};

namespace detail {

// The option, checked against m's mapping: ArgumentError unless it names a relationship.
RelationshipLoad check_load_option(const Mapper& m, RelationshipLoad option);

template <class F>
concept loadable_relation = requires {
  typename relation_target<F>::type;
};

template <class C, class F>
LoadOption<C> load_option(F C::*member, Loading strategy) {
  static_assert(loadable_relation<F>,
                "strata: a loader option (joinedload, selectinload, lazyload, raiseload) takes "
                "a relationship member (HasMany<...> or BelongsTo<...>), e.g. "
                "joinedload(&User::posts)");
  return {RelationshipLoad{offset_of(member), strategy}};
}

}  // namespace detail

// Load the relationship with its owners in the same SELECT (LEFT OUTER JOIN).
template <class C, class F>
LoadOption<C> joinedload(F C::*member) {
  return detail::load_option(member, Loading::joined);
}
// Load the relationship for all the owners a query returns with one more SELECT
// (WHERE key IN (...), in chunks of 500 keys).
template <class C, class F>
LoadOption<C> selectinload(F C::*member) {
  return detail::load_option(member, Loading::selectin);
}
// Load the relationship lazily, on first access (even where the mapping says otherwise).
template <class C, class F>
LoadOption<C> lazyload(F C::*member) {
  return detail::load_option(member, Loading::select);
}
// Never load the relationship implicitly: accessing it unloaded throws InvalidRequestError
// (to catch N+1 queries in tests).
template <class C, class F>
LoadOption<C> raiseload(F C::*member) {
  return detail::load_option(member, Loading::raise);
}

}  // namespace strata
