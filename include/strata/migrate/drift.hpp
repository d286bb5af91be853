// Drift: how a live database differs from the schema the migration chain describes at the
// database's revision — what `db check` reports after comparing models and chain. Pure: takes
// the database as Dialect::reflect() read it, so it is tested without one.
#pragma once

#include <string>
#include <vector>

#include "strata/dialect/dialect.hpp"
#include "strata/migrate/state.hpp"

namespace strata::migrate {

// The differences between `chain` (the fold of the applied migrations) and `live` (the
// database reflected by d, the ledger table included or not), one line each, sorted by table
// name and then by text; empty when they agree. Lines read like
//   table 'user': column 'bio' is in the database but not in the migrations
//   table 'user': column 'email' is VARCHAR(120) in the migrations but TEXT in the database
//   table 'note' is in the database but not in the migrations
//   table 'post': index 'ix_post_timestamp' (timestamp) is in the migrations but not in the database
//   table 'hand': column 'price' has type 'NUMERIC', which strata does not write; read as FLOAT
// The comparison is autogenerate's (compare()) between d.reflected_form() of the chain's
// tables and the reflected ones, so types are compared as d spells them (type_sql) and what
// d.reflection_support() says the database rewrites is compared in d.comparable_sql() form.
// Column order is not compared; a changed primary key is one line; an unnamed constraint of
// the database is shown by its definition. Reflection problems are lines too, except those
// of a table that is not in the migrations at all (that table is one line).
std::vector<std::string> drift(const SchemaState& chain, const dialect::ReflectedSchema& live,
                               const dialect::Dialect& d);

}  // namespace strata::migrate
