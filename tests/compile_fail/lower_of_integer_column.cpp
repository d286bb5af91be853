// Must not compile: lower() of an integer column.
#include "models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.query<User>().filter(lower(&User::id) == "1").all();
}
