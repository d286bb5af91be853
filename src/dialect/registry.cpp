// dialect::for_url: the one list of backends strata can talk to. A new backend adds one line
// to known_backends (and its folder under src/dialect/).
#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "strata/dialect/dialect.hpp"
#include "strata/dialect/postgresql/postgresql_dialect.hpp"
#include "strata/dialect/sqlite/sqlite_dialect.hpp"

namespace strata::dialect {

namespace {

struct Backend {
  std::string_view name;  // Url::backend()
  std::shared_ptr<Dialect> (*make)();
};

constexpr std::array known_backends{
    Backend{"sqlite", &sqlite::make_dialect},
    Backend{"postgresql", &postgresql::make_dialect},
};

}  // namespace

std::shared_ptr<Dialect> for_url(const engine::Url& url) {
  const std::string backend = url.backend();
  for (const Backend& b : known_backends) {
    if (b.name == backend) return b.make();
  }
  std::string supported;
  for (const Backend& b : known_backends) {
    if (!supported.empty()) supported += ", ";
    supported += b.name;
  }
  throw ArgumentError("unsupported database backend '" + backend + "' in URL '" + url.to_string() +
                      "': supported: " + supported);
}

bool keyword_of_any_backend(std::string_view lower_name) {
  static const auto dialects = [] {
    std::array<std::shared_ptr<Dialect>, known_backends.size()> out;
    for (std::size_t i = 0; i < known_backends.size(); ++i) out[i] = known_backends[i].make();
    return out;
  }();
  for (const auto& d : dialects)
    if (d->is_keyword(lower_name)) return true;
  return false;
}

}  // namespace strata::dialect
