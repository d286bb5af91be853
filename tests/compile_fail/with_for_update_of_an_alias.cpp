// Must not compile: FOR UPDATE OF names tables, so an alias of a joined model cannot be named.
#include "query_models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  auto a = aliased<Author>("a");
  s.query<Article>().join(a, &Article::author).with_for_update<Aliased<Author>>().all();
}
