// The SQLite dialect: the embedded default. Connections go through the sqlite3 C API, which
// only src/dialect/sqlite/ includes.
#pragma once

#include <memory>

#include "strata/dialect/dialect.hpp"

namespace strata::dialect::sqlite {

std::shared_ptr<Dialect> make_dialect();

}  // namespace strata::dialect::sqlite
