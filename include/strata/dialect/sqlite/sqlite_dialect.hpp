// The SQLite dialect: the embedded default. Connections go through the sqlite3 C API, which
// only src/dialect/sqlite/ includes.
#pragma once

#include <memory>

#include "strata/dialect/dialect.hpp"
#include "strata/engine/url.hpp"

namespace strata::dialect::sqlite {

std::shared_ptr<Dialect> make_dialect();

// Refuses (ArgumentError) a URL query parameter SQLite does not take: `mode` (ro, rw or rwc,
// for a file) is the only one.
void check_url(const engine::Url& url);

}  // namespace strata::dialect::sqlite
