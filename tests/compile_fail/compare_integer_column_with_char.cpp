// Must not compile: an integer column compared with a character ('5' is 53, not 5).
#include "query_models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.query<Article>().filter(col(&Article::author_id) == '5').all();
}
