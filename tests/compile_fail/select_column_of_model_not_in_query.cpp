// Must not compile: selecting a column of a model that is not joined.
#include "query_models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.select(col(&Author::name), col(&Article::title)).all();
}
