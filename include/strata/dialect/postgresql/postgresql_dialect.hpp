// The PostgreSQL dialect: a server reached through libpq, which only src/dialect/postgresql/
// includes.
#pragma once

#include <memory>

#include "strata/dialect/dialect.hpp"

namespace strata::dialect::postgresql {

std::shared_ptr<Dialect> make_dialect();

}  // namespace strata::dialect::postgresql
