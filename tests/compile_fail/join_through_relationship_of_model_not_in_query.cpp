// Must not compile: joining through a relationship of a model the query does not have.
#include "query_models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.query<User>().join(&Article::author).all();
}
