// Must not compile: EXISTS correlated to a model that the outer query does not have.
#include "query_models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.query<Post>()
      .filter(exists(s.query<Article>().correlate<Author>().filter(col(&Article::author_id) ==
                                                                 col(&Author::id))))
      .all();
}
