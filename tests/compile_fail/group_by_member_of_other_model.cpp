// Must not compile: grouping by a member of a model that is not part of the query.
#include "query_models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.query<Author>().group_by(&Article::author_id).all();
}
