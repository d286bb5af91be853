// Must not compile: sum() of a text column.
#include "query_models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.query<Author>().select(sum(&Author::name)).scalar();
}
