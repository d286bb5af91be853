// Must not compile: a subquery correlated to its own model (SQL would read the subquery's own
// table on both sides, and the subquery would not be correlated at all).
#include "query_models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  auto mean = s.query<Article>()
                  .correlate<Article>()
                  .filter(col(&Article::author_id) == col(&Article::author_id))
                  .select(max(&Article::id))
                  .as_scalar();
  s.query<Article>().filter(col(&Article::id) > mean).all();
}
