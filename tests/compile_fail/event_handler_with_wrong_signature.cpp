// Must not compile: a model event handler that does not take (User&, Connection&).
#include "models.hpp"

void use(strata::Database& db) {
  db.events().listen<User>(strata::Event::before_insert, [](Post&) {});
}
