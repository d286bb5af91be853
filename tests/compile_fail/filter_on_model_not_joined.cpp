// Must not compile: filtering by a model other than the queried and joined ones.
#include "query_models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.query<Article>().join(&Article::author).filter(col(&User::username) == "x").all();
}
