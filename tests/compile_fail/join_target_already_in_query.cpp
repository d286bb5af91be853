// Must not compile: joining a model the query already has, without an alias.
#include "query_models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.query<Author>().join(&Author::articles).join(&Article::author).all();
}
