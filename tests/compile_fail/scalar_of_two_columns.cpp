// Must not compile: scalar() of a select of two columns.
#include "query_models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.query<Author>().select(&Author::id, &Author::name).scalar();
}
