// Must not compile: comparing a column with std::nullopt instead of is_null().
#include "models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.query<User>().filter(col(&User::email) == std::nullopt).all();
}
