// Must not compile: secondary(...) (many-to-many) on a HasOne member; a many-to-many
// collection is a strata::HasMany.
#include <cstdint>

#include "strata/strata.hpp"

struct Person {
  std::int64_t id = 0;
  strata::HasOne<Person> partner{};
};
inline const strata::AssociationTable partners{
    "partners", {"a_id", "person.id"}, {"b_id", "person.id"}};
template <>
struct strata::Model<Person> {
  static constexpr auto table = "person";
  static auto columns() {
    return mapping(column("id", &Person::id).primary_key(),
                   has_one("partner", &Person::partner).secondary(partners, "a_id", "b_id"));
  }
};

void use(strata::Session& s) { s.query<Person>().all(); }
