// Must not compile: ordering a Query<User> by desc() of a Post column.
#include "models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.query<User>().order_by(desc(&Post::body)).all();
}
