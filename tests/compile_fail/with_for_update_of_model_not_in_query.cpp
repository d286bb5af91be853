// Must not compile: locking the rows of a model the query neither selects nor joins.
#include "query_models.hpp"

void use(strata::Session& s) {
  s.query<Article>().with_for_update<Author>().all();
}
