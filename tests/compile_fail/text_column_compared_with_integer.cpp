// Must not compile: comparing a text column with an integer.
#include "models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.query<User>().filter(col(&User::username) == 5).all();
}
