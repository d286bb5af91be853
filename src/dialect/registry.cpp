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
  // Refuses what the backend would ignore in a URL (null: the driver itself refuses it).
  void (*check_url)(const engine::Url&);
};

constexpr std::array known_backends{
    Backend{"sqlite", &sqlite::make_dialect, &sqlite::check_url},
    // libpq refuses an unknown query parameter when it connects.
    Backend{"postgresql", &postgresql::make_dialect, nullptr},
};

}  // namespace

std::shared_ptr<Dialect> for_url(const engine::Url& url) {
  const std::string backend = url.backend();
  for (const Backend& b : known_backends) {
    if (b.name != backend) continue;
    if (b.check_url) b.check_url(url);
    return b.make();
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
