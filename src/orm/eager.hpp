// Private to the ORM: loading strategies. Which strategy each relationship of a query's model
// gets (mapping, then loader options), the SQL that reaches a relationship's rows, and the
// eager loaders (joined, selectin) that fill the relationship fields of the objects a query
// returns. SessionCore::all and get (loading.cpp) call EagerLoader when a query needs it.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "strata/orm/mapper.hpp"
#include "strata/orm/session_core.hpp"
#include "session_internal.hpp"
#include "strata/sql/ast.hpp"

namespace strata::detail {

// ---- the shape of a relationship in SQL ---------------------------------------------------
// The one place that knows how a relationship's rows are reached: a secondary (association)
// table adds its step to related_rows (JOIN the secondary, filter on its owner-side column,
// which becomes the link column) and to related_joins (LEFT OUTER JOIN the secondary, then the
// target), and its owner-side value to owner_link_value.

// A SELECT of a relationship's target rows for many owners at once.
struct RelatedRows {
  sql::Select select;   // the target's columns from result column 0, then what link needs
  int link_column = 0;  // the result column holding the owner-side value a row belongs to
};
// SELECT <target columns> FROM <target> WHERE <link> IN (keys...) [ORDER BY <target key>]:
// the rows related to the owners whose owner_link_value is among keys.
RelatedRows related_rows(const RelationshipInfo& rel, std::span<const Value> keys);
// The value of owner that related_rows' link column matches; null: nothing is related.
Value owner_link_value(const RelationshipInfo& rel, const void* owner);
// LEFT OUTER JOIN(s) from the owner's rows (the table or alias `owner` of the statement) to
// the target's under `alias`.
std::vector<sql::Join> related_joins(const RelationshipInfo& rel, const std::string& owner,
                                     const std::string& alias);

// Keys per SELECT of a selectin load: well under SQLite's (32,766) and PostgreSQL's (65,535)
// limits on parameters per statement.
inline constexpr std::size_t selectin_chunk = 500;

// ---- running a query with its strategies --------------------------------------------------

class EagerLoader {
 public:
  // Whether a query of m needs more than plain rows: loader options, or relationships that
  // m's mapping loads eagerly (joined, selectin).
  static bool applies(const Mapper& m, const QuerySpec& q);
  static bool eager_by_default(const Mapper& m);
  // The option, checked: it must name a relationship of m.
  static RelationshipLoad checked(const Mapper& m, RelationshipLoad option);

  EagerLoader(SessionCore& session, const Mapper& m, const QuerySpec& q);
  // Runs the query (no autoflush: the caller decides) and returns its objects in order, each
  // once (a parent repeated by joined rows is one object), with the relationships that load
  // eagerly filled, and the query's lazyload / raiseload options applied.
  std::vector<std::shared_ptr<void>> run();

 private:
  struct Planned {
    const RelationshipInfo* rel = nullptr;
    Loading strategy = Loading::select;
    bool from_query = false;  // set by a loader option rather than the mapping
  };
  std::vector<std::shared_ptr<void>> load_plain();
  std::vector<std::shared_ptr<void>> load_joined(const std::vector<const RelationshipInfo*>& rels);
  void load_selectin(const RelationshipInfo& rel, const std::vector<std::shared_ptr<void>>& owners);
  // Fills owner's unloaded field with items and back-populates them.
  void fill(const RelationshipInfo& rel, const std::shared_ptr<void>& owner,
            std::vector<std::shared_ptr<void>> items);

  // What load_row() takes: the objects overwritten so far with populate_existing, else null.
  Populated* populate() { return query_.populate_existing ? &populated_ : nullptr; }

  SessionCore& session_;
  const Mapper& mapper_;
  const QuerySpec& query_;
  Populated populated_;  // with populate_existing: each object is overwritten once
  std::vector<Planned> plan_;  // one per relationship of mapper_ with a strategy to apply
};

}  // namespace strata::detail
