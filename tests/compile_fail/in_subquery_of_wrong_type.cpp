// Must not compile: IN (subquery) whose column has another type than the column.
#include "query_models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.query<Author>().filter(col(&Author::id).in_(s.query<Article>().select(&Article::title))).all();
}
