// Private to the ORM: the pieces of the session shared by session_core.cpp, flush.cpp and
// loading.cpp — identity keys, row loading, and the flush pipeline.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "strata/dialect/dialect.hpp"
#include "strata/engine/connection.hpp"
#include "strata/orm/mapping.hpp"
#include "strata/orm/session_core.hpp"

namespace strata::detail {

// The identity of an object from its key members (composite keys encoded as one text).
Value identity_of(const Mapper& m, const void* obj);
// The identity from a snapshot (the key as last flushed or loaded).
Value identity_of(const Mapper& m, const std::vector<Value>& snapshot);
// The column values of obj, in mapper order.
std::vector<Value> capture(const Mapper& m, const void* obj);
// The column a foreign key points at, on the referred-to side.
const ColumnInfo& referenced_column(const ColumnInfo& fk, const Mapper& referred);
// "<User id=1>", for messages.
std::string describe(const Mapper& m, const void* obj);

// Turns result rows into session objects (columns in mapper order from column 0).
class Loader {
 public:
  // The object for the current row of s: the identity map's, or a new persistent one.
  static std::shared_ptr<void> load_row(SessionCore& session, const Mapper& m,
                                        const engine::Statement& s);
  static sql::Select select_for(SessionCore& session, const Mapper& m, const QuerySpec& q);
};

// The flush pipeline: organize (cascade, collect), emit (INSERT / UPDATE in dependency order,
// DELETE in reverse), finalize (identity map, snapshots). On failure the caller rolls back.
class Flush {
 public:
  explicit Flush(SessionCore& session) : session_(session) {}
  void run();

 private:
  struct MapperWork {
    const Mapper* mapper = nullptr;
    std::vector<InstanceState*> inserts;  // in add() order
    std::vector<InstanceState*> updates;  // persistent objects to check for changes
    std::vector<InstanceState*> deletes;
  };

  void cascade();
  std::vector<MapperWork> collect();
  void sync_foreign_keys(InstanceState& s);
  void push_keys_to_children(InstanceState& s);
  void emit_insert(InstanceState& s);
  void emit_update(InstanceState& s);
  void emit_delete(InstanceState& s);
  // Runs stmt to completion, turning an IntegrityError into one that names the constraint;
  // the first row's values go to *returned when given. Returns the rows affected.
  std::int64_t execute(engine::Statement& stmt, const InstanceState& s,
                       dialect::RowContext::Operation op, std::vector<Value>* returned);
  void finalize();

  SessionCore& session_;
  std::vector<InstanceState*> inserted_;
  std::vector<InstanceState*> touched_;  // every state whose relationship flags to clear
};

}  // namespace strata::detail
