// Squashing migrations: the operations of a chain of migrations as fewer operations with the
// same effect (Django's migration optimizer). `db squash` (commands.hpp) writes the result as
// one migration that replaces the chain.
#pragma once

#include <vector>

#include "strata/migrate/ops.hpp"
#include "strata/migrate/state.hpp"

namespace strata::migrate {

// ops, run on a database whose schema is `start`, as fewer operations that leave the same
// schema and never lose data the original ones keep. Pairs of operations on the same table,
// column, index or constraint become one or none:
//  - a table created in ops takes in what later operations do to it (its columns, indexes and
//    constraints, a rename), and a table dropped in ops what earlier ones did; created and
//    then dropped, it disappears;
//  - a column added and then dropped disappears; added and then renamed, it is added under
//    its new name; two changes of a column become one (not when both change its type: the
//    casts in between may matter), a change before a drop goes; renames of a table or a
//    column in a row become one;
//  - an index or a unique, foreign-key or check constraint added and then dropped disappears,
//    as does one dropped and then added again unchanged.
// An operation moves past another only when they concern different tables and names; nothing
// moves past an `execute` or a `call` (their SQL or code may read or change any table), nor
// are operations on either side of one joined. Every step is checked: the operations must
// fold from `start` (SchemaState's run checks) to the schema the original ones fold to, or
// the step is not taken. ops that do not fold from `start` come back unchanged.
std::vector<Operation> optimize(const SchemaState& start, std::vector<Operation> ops);

}  // namespace strata::migrate
