// Must not compile: a join condition on a model that is neither queried nor joined.
#include "query_models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.query<Author>().join<Post>(col(&Article::author_id) == col(&Author::id)).all();
}
