// Must not compile: adding a number to a text column (+ joins text to text only).
#include "models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.query<User>().filter(col(&User::username) + 1 == "x").all();
}
