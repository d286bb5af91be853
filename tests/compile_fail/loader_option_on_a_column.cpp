// Must not compile: a loader option naming a column rather than a relationship.
#include "models.hpp"

void use(strata::Session& s) {
  s.query<User>().options(strata::selectinload(&User::email)).all();
}
