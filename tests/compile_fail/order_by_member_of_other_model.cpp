// Must not compile: ordering a Query<User> by a Post member.
#include "models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.query<User>().order_by(&Post::body).all();
}
