// Must not compile: like() on an integer column.
#include "models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.query<User>().filter(col(&User::id).like("1%")).all();
}
