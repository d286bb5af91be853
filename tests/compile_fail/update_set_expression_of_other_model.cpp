// Must not compile: a bulk update of users setting a column from a column of posts.
#include "models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.query<User>().update(set(&User::email, col(&Post::body)));
}
