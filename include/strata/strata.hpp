// Everything an application needs: models, the session, queries, the Database object.
#pragma once

#include "strata/error.hpp"
#include "strata/orm/database.hpp"
#include "strata/orm/datetime.hpp"
#include "strata/orm/events.hpp"
#include "strata/orm/expression.hpp"
#include "strata/orm/mapping.hpp"
#include "strata/orm/query.hpp"
#include "strata/orm/relationship.hpp"
#include "strata/orm/result.hpp"
#include "strata/orm/session.hpp"
#include "strata/orm/table_builder.hpp"
#include "strata/orm/types.hpp"
