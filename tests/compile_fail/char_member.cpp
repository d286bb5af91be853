// Must not compile: a char member. A char is neither a number nor text to strata (it used to
// fail deep inside the standard library's std::in_range); the message says what to use.
#include "query_models.hpp"

struct Grade {
  std::int64_t id = 0;
  char letter = 'a';
};
template <>
struct strata::Model<Grade> {
  static constexpr auto table = "grade";
  static auto columns() {
    return mapping(column("id", &Grade::id).primary_key(), column("letter", &Grade::letter));
  }
};

void use(strata::Database& db) { db.register_models<Grade>(); }
