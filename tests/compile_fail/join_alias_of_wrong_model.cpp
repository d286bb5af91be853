// Must not compile: joining through a relationship to an alias of another model.
#include "query_models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  auto a = aliased<User>("a");
  s.query<Article>().join(a, &Article::author).all();
}
