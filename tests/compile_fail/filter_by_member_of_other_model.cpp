// Must not compile: filter_by() with a member of another model.
#include "models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.query<User>().filter_by(&Post::body, "x").all();
}
