// Must not compile: a bulk update assigning an integer to a text column.
#include "models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.query<User>().update(set(&User::username, 3));
}
