// Must not compile: a bulk update setting a column that cannot be NULL from an expression that
// can (a scalar subquery is NULL when it finds no row).
#include "models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  auto newest = s.query<Post>().select(max(&Post::user_id)).as_scalar();
  s.query<User>().update(set(&User::id, newest + 1));
}
