// Must not compile: a member whose type has no strata::Type<> mapping.
#include <cstdint>
#include <vector>

#include "strata/strata.hpp"

struct Bag {
  std::int64_t id = 0;
  std::vector<int> items{};
};
template <>
struct strata::Model<Bag> {
  static constexpr auto table = "bag";
  static auto columns() {
    return mapping(column("id", &Bag::id).primary_key(), column("items", &Bag::items));
  }
};

void use(strata::Session& s) { s.query<Bag>().all(); }
