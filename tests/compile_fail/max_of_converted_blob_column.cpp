// Must not compile: max() of a column whose type is stored as a Blob (Convert<T, Blob>):
// PostgreSQL has no max of bytea, whatever the C++ type over it.
#include "query_models.hpp"

struct Key {
  std::string bytes;
};
template <>
struct strata::Type<Key> : strata::Convert<Key, strata::Blob> {
  static strata::Blob to_db(const Key& k) {
    strata::Blob out;
    for (char c : k.bytes) out.push_back(static_cast<std::byte>(c));
    return out;
  }
  static Key from_db(const strata::Blob& b) {
    Key out;
    for (std::byte c : b) out.bytes.push_back(static_cast<char>(c));
    return out;
  }
};

struct Vault {
  std::int64_t id = 0;
  Key key{};
};
template <>
struct strata::Model<Vault> {
  static constexpr auto table = "vault";
  static auto columns() {
    return mapping(column("id", &Vault::id).primary_key(), column("key", &Vault::key));
  }
};

void use(strata::Session& s) {
  using namespace strata;
  s.query<Vault>().select(max(&Vault::key)).scalar();
}
