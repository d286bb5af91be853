// Must not compile: comparing an integer column with a text column.
#include "models.hpp"

void use(strata::Session& s) {
  using namespace strata;
  s.query<Post>().filter(col(&Post::user_id) == col(&Post::body)).all();
}
