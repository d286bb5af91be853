// Must not compile: in_() with strings on an integer column.
#include "models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.query<User>().filter(col(&User::id).in_({"a", "b"})).all();
}
