// Must not compile: filtering a Query<User> by a condition on Post.
#include "models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.query<User>().filter(col(&Post::body) == "x").all();
}
