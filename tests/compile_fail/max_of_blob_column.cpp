// Must not compile: max() of a Blob column (PostgreSQL has no max of bytea; SQLite would
// answer, so the query would work on one backend only).
#include "query_models.hpp"

struct Avatar {
  std::int64_t id = 0;
  strata::Blob image{};
};
template <>
struct strata::Model<Avatar> {
  static constexpr auto table = "avatar";
  static auto columns() {
    return mapping(column("id", &Avatar::id).primary_key(), column("image", &Avatar::image));
  }
};

void use(strata::Session& s) {
  using namespace strata;
  s.query<Avatar>().select(max(&Avatar::image)).scalar();
}
