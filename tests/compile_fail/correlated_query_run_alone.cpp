// Must not compile: a correlated subquery run by itself. Its correlated model is the enclosing
// query's, so the database would refuse the SQL (no such column / missing FROM-clause entry).
#include "query_models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.query<Article>()
      .correlate<Author>()
      .filter(col(&Article::author_id) == col(&Author::id))
      .all();
}
