// Must not compile: % of a floating-point column (a remainder is of integers).
#include "query_models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.select(col(&Author::id) % 2.5).all();
}
