// Must not compile: s.select() whose first column names no model to select from.
#include "query_models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.select(count()).all();
}
